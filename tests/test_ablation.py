"""The ablation: table 3's rows as the paper has them, the departures' variants, seeds gathered into mean ± sd
tables, and the workflow's rules planned and run on tiny sizes."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from alignnet.cli import main
from alignnet.data.logmel import LogMelStats
from alignnet.data.preprocessing import STATS_FILE
from alignnet.distort.fixed_warps import make_fixed_warps, save_fixed_warps
from alignnet.errors import UserInputError
from alignnet.evaluation.ablation import LADDER, VARIANTS, VARIANTS_IN_ORDER, ablation_table, seed_table, variant_flags
from alignnet.training import command as train_command
from alignnet.training.data import PackedSplit
from alignnet.training.paper_design import DEPARTURES
from tests.synthetic_split import make_synthetic_split
from tests.test_workflow import SCHEMA, snakemake, write_manifest

REPO = Path(__file__).resolve().parent.parent

# The paper's table 3, copied from its text: row label, AFE, accuracy.
TABLE3 = [
    ("Base", 2.87, 43.57),
    ("FP", 2.45, 56.88),
    ("FP+MI", 1.81, 67.49),
    ("FP+MI+SA", 1.32, 75.33),
    ("FP+MI+SA+TA", 1.14, 79.65),
    ("FP+MI+SA+KA", 0.97, 88.20),
    ("FP+MI+SA+KA+TA", 0.94, 89.60),
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A packed split with its log-mel statistics (whose bins the low-passes need)."""
    data = make_synthetic_split(tmp_path_factory.mktemp("data"), {"train": 2, "val": 2, "test": 2}, seconds=2.0)
    LogMelStats(np.full(128, -40.0, np.float32), np.full(128, 20.0, np.float32)).save(data / STATS_FILE)
    return data


def train_config(data_dir: Path, flags: list[str]):
    parser = argparse.ArgumentParser()
    train_command.add_arguments(parser)
    return train_command.config_from_args(parser.parse_args(["--data", str(data_dir), "--out", "unused", *flags]))


def test_ladder_is_the_papers_table3(data_dir: Path) -> None:
    """Labels and the paper's numbers are its rows; each rung's trained model has exactly the parts its label
    names (rows 5 and 6 are temporal and keypoint attention alone), and every rung flips."""
    assert [(rung.label, rung.paper_afe, rung.paper_accuracy) for rung in LADDER] == TABLE3
    for rung in LADDER:
        config = train_config(data_dir, variant_flags(rung.name))
        parts = set(rung.label.split("+")) - {"Base"}
        has = {
            "FP": config.model.pyramid,
            "MI": config.model.motion_inputs,
            "SA": config.samples.spec_augment,
            "TA": config.model.temporal_attention,
            "KA": config.model.keypoint_attention,
        }
        assert {part for part, on in has.items() if on} == parts, rung.name
        assert config.samples.flip, rung.name
    assert variant_flags("all") == []


def test_departure_variants_remove_one_departure_each(data_dir: Path) -> None:
    full = train_config(data_dir, [])
    departures = [v for v in VARIANTS_IN_ORDER if v.group == "departures"]
    assert [v.name for v in departures] == [f"minus_{d.name}" for d in DEPARTURES] + ["paper"]
    for item, d in zip(departures, DEPARTURES, strict=False):
        assert variant_flags(item.name) == list(d.flags)
        assert train_config(data_dir, list(d.flags)) != full, item.name
    assert variant_flags("paper") == ["--paper"]
    assert (VARIANTS["paper"].paper_afe, VARIANTS["paper"].paper_accuracy) == (0.94, 89.60)


def test_schema_lists_every_variant() -> None:
    schema = yaml.safe_load(Path(SCHEMA).read_text())["properties"]["ablation"]["properties"]
    assert schema["variants"]["items"]["enum"] == list(VARIANTS)


def _fake_results(run_dir: Path, afe_value: float, accuracy: float) -> None:
    (run_dir / "evaluate").mkdir(parents=True)
    pd.DataFrame([{"method": "AlignNet", "clips": 5, "frames": 300, "afe": afe_value, "accuracy": accuracy}]).to_csv(
        run_dir / "evaluate" / "results.csv", index=False
    )


def test_ablation_gathers_seeds_into_mean_and_sd(tmp_path: Path, capsys) -> None:
    runs = {
        ("all", 0): (1.5, 80.0),
        ("all", 1): (2.5, 84.0),
        ("base", 0): (6.0, 30.0),
        ("base", 2): (4.0, 40.0),
        ("base", 1): (5.0, 35.0),
        ("paper", 0): (3.0, 55.0),
    }
    for (name, seed), (error, accuracy) in runs.items():
        _fake_results(tmp_path / "runs" / name / f"seed{seed}", error, accuracy)
    dirs = [str(tmp_path / "runs" / name / f"seed{seed}") for name, seed in runs]
    assert main(["ablation", *dirs, "--out", str(tmp_path / "out")]) == 0
    table = pd.read_csv(tmp_path / "out" / "ablation.csv")
    assert table["variant"].tolist() == ["base", "all", "paper"]
    assert table["seeds"].tolist() == [3, 2, 1]
    assert table["accuracy"].tolist() == [35.0, 82.0, 55.0] and table["afe"].tolist() == [5.0, 2.0, 3.0]
    assert table["accuracy_sd"].iloc[:2].tolist() == pytest.approx([5.0, math.sqrt(8.0)], rel=1e-5)  # CSV: 6 digits
    assert math.isnan(table["accuracy_sd"].iloc[2])
    assert table["paper_accuracy"].tolist() == [43.57, 89.60, 89.60]
    assert len(pd.read_csv(tmp_path / "out" / "ablation_seeds.csv")) == 6
    text = (tmp_path / "out" / "ablation.md").read_text()
    assert "| Base | 3 | 5.00 ± 1.00 | 35.00 ± 5.00 | 5 | 2.87 | 43.57 |" in text
    assert "| the paper's design (all of them removed) | 1 | 3.00 | 55.00 | 5 | 0.94 | 89.60 |" in text
    assert text.index("table 3") < text.index("departures from the paper")
    _fake_results(tmp_path / "runs" / "bogus" / "seed0", 1.0, 1.0)
    assert main(["ablation", str(tmp_path / "runs" / "bogus" / "seed0"), "--out", str(tmp_path / "out2")]) == 2
    assert "'bogus'" in capsys.readouterr().err
    assert main(["ablation", str(tmp_path / "runs" / "base"), "--out", str(tmp_path / "out2")]) == 2
    assert "<variant>/seed<N>" in capsys.readouterr().err
    with pytest.raises(UserInputError, match="given twice"):
        seed_table([("base", 0, tmp_path / "runs/base/seed0/evaluate/results.csv")] * 2)
    with pytest.raises(UserInputError, match="missing.csv"):
        ablation_table(seed_table([("base", 0, tmp_path / "missing.csv")]))


def test_workflow_plans_every_variant_and_seed(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.tsv"
    write_manifest(manifest, ["a1", "b2"])
    seeds = tmp_path / "seeds.yaml"
    seeds.write_text("ablation: {seeds: [3, 4]}\n")
    config = ["--configfile", str(REPO / "config/demo-full.yaml"), str(seeds), "--config", f"manifest={manifest}"]
    result = snakemake("-n", "-p", "ablation", *config, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("rule train_variant:") == 16 and result.stdout.count("rule evaluate_variant:") == 16
    lines = result.stdout.splitlines()
    base = next(line for line in lines if "--out results/ablation/base/seed4 " in line)
    assert all(flag in base for flag in variant_flags("base")) and "--seed 4" in base and "--no-flip" not in base
    full = next(line for line in lines if "--out results/ablation/all/seed3 " in line)
    assert "--no-" not in full and "--raw-positions" not in full and "--paper" not in full
    paper = next(line for line in lines if "--out results/ablation/paper/seed3 " in line)
    assert paper.endswith("--paper > logs/ablation/train_paper_seed3.log 2>&1")
    assert "results/ablation/keypoint_attention/seed4 results/ablation/temporal_attention/seed3" not in result.stdout
    gather = next(line for line in lines if line.startswith("Shell command: alignnet ablation "))
    assert "results/ablation/base/seed3 results/ablation/base/seed4 results/ablation/pyramid/seed3" in gather


def test_model_paper_trains_every_rung_on_the_papers_design(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.tsv"
    write_manifest(manifest, ["a1", "b2"])
    config = ["--configfile", str(REPO / "config/demo-full.yaml"), "--config", f"manifest={manifest}", "model=paper"]
    result = snakemake("-n", "-p", "train", "ablation", *config, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    commands = [line for line in result.stdout.splitlines() if line.startswith("Shell command: alignnet train ")]
    assert len(commands) == 9 and all(" --paper " in line for line in commands)


def test_ablation_config_trains_with_the_main_models_budget(tmp_path: Path) -> None:
    """config/ablation.yaml on top of config/demo-full.yaml: every variant and 3 seeds, each with the demo's train
    rule's budget (its epochs, steps, minutes and 2 threads)."""
    manifest = tmp_path / "manifest.tsv"
    write_manifest(manifest, ["a1", "b2"])
    configs = ["--configfile", str(REPO / "config/demo-full.yaml"), str(REPO / "config/ablation.yaml")]
    result = snakemake("-n", "-p", "ablation", *configs, "--config", f"manifest={manifest}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    demo = yaml.safe_load((REPO / "config/demo-full.yaml").read_text())["train"]
    steps = f"--epochs {demo['epochs']} --steps-per-epoch {demo['steps_per_epoch']}"
    budget = f"{steps} --max-minutes {demo['max_minutes']}"
    trainings = [line for line in result.stdout.splitlines() if line.startswith("Shell command: alignnet train ")]
    assert len(trainings) == len(VARIANTS) * 3
    assert all(budget in line and "--threads 2 " in line for line in trainings)
    assert all(f"--lr {demo['lr']} " in line and f"--batch-size {demo['batch_size']} " in line for line in trainings)


@pytest.mark.slow
def test_ablation_rules_run_on_tiny_sizes(tmp_path: Path) -> None:
    """The ablation's own rules for real on a tiny packed dataset: the paper's design (`--paper`) with two seeds
    trained, evaluated and gathered into the mean ± sd table."""
    data = make_synthetic_split(tmp_path / "results/dataset/splits", {"train": 3, "val": 2, "test": 2}, seconds=2.0)
    test = PackedSplit.load(data, "test")
    n = test.keypoints.shape[1]
    save_fixed_warps(data / "test_warps.npz", test.clip_ids, make_fixed_warps(test.clip_ids, n, n, seed=3), seed=3)
    config = tmp_path / "tiny.yaml"
    tiny = {
        "ablation": {"variants": ["paper"], "seeds": [0, 1], "epochs": 1, "steps_per_epoch": 2, "max_minutes": 1},
        "train": {"batch_size": 2, "val_warps_per_clip": 1},
    }
    config.write_text(yaml.safe_dump(tiny))
    result = snakemake(
        "ablation",
        "--cores",
        "2",
        "--configfile",
        str(REPO / "config/demo.yaml"),
        str(config),
        "--allowed-rules",
        "train_variant",
        "evaluate_variant",
        "ablation",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = pd.read_csv(tmp_path / "results/ablation/ablation.csv")
    assert table["variant"].tolist() == ["paper"] and table["seeds"].tolist() == [2]
    assert table[["afe", "afe_sd", "accuracy", "accuracy_sd"]].notna().all().all()
    seeds = pd.read_csv(tmp_path / "results/ablation/ablation_seeds.csv")
    assert sorted(zip(seeds["variant"], seeds["seed"], strict=True)) == [("paper", 0), ("paper", 1)]
    assert "± " in (tmp_path / "results/ablation/ablation.md").read_text()
