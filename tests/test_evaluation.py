"""Evaluation: files and numbers on a tiny packed dataset, the CLI (the ablation: tests/test_ablation.py)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from alignnet.alignment_methods import AlignNetAligner
from alignnet.checkpoint import load_model, save_checkpoint
from alignnet.cli import build_command_parser, main
from alignnet.correspondence import Timebase
from alignnet.data.logmel import LogMelStats
from alignnet.data.preprocessing import Preprocessing
from alignnet.distort.fixed_warps import make_fixed_warps, save_fixed_warps
from alignnet.evaluation.clips import EvalClips
from alignnet.evaluation.runner import MethodResult, run_methods
from alignnet.evaluation.tables import keypoint_table, results_table, write_evaluation
from alignnet.metrics import afe, itu_accuracy, keypoint_errors
from alignnet.models import AlignNet
from alignnet.training.data import PackedSplit
from tests.synthetic_split import make_synthetic_split

REPO = Path(__file__).resolve().parent.parent


class IdentityAligner:
    """No alignment: distorted frame i plays source frame i."""

    name = "Identity"

    def align(self, keypoints: np.ndarray, logmel: np.ndarray, timebase: Timebase) -> np.ndarray:
        return np.arange(len(keypoints), dtype=np.float64)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """5 test clips of 2 s with saved warps, like the split stage writes them."""
    out = make_synthetic_split(tmp_path_factory.mktemp("data"), {"train": 2, "val": 2, "test": 5}, seconds=2.0)
    split = PackedSplit.load(out, "test")
    n = split.keypoints.shape[1]
    save_fixed_warps(out / "test_warps.npz", split.clip_ids, make_fixed_warps(split.clip_ids, n, n, seed=3), seed=3)
    return out


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly initialised AlignNet."""
    torch.manual_seed(0)
    stem = tmp_path_factory.mktemp("ckpt") / "best"
    save_checkpoint(stem, AlignNet(), epoch=0, metrics={})
    return stem


@pytest.fixture(scope="module")
def evaluated(data_dir: Path, checkpoint: Path, tmp_path_factory: pytest.TempPathFactory):
    clips = EvalClips.load(data_dir, "test")
    aligners = [AlignNetAligner(load_model(checkpoint)[0]), IdentityAligner()]
    results = run_methods(aligners, clips, progress=False)
    out = tmp_path_factory.mktemp("evaluate")
    write_evaluation(out, clips, results, n_bins=2)
    return clips, results, out


def test_results_match_metrics_computed_directly(evaluated) -> None:
    clips, results, out = evaluated
    table = pd.read_csv(out / "results.csv")
    assert table["method"].tolist() == ["AlignNet", "Identity"]
    predictions = np.load(out / "predictions.npz")
    assert predictions["clip_ids"].tolist() == clips.clip_ids
    assert np.array_equal(predictions["true"], clips.true)
    for row, result in zip(table.itertuples(), results, strict=True):
        pred = predictions[f"pred_{result.slug}"]
        assert pred.shape == clips.true.shape == (5, 60)
        assert row.afe == pytest.approx(afe(pred, clips.true), rel=1e-5)
        assert row.accuracy == pytest.approx(100 * itu_accuracy(pred, clips.true, 30.0), rel=1e-5)
        assert (row.clips, row.frames) == (5, 300)
        assert row.seconds > 0 and row.cpu_seconds >= 0
        assert row.ms_per_clip == pytest.approx(1000 * row.seconds / 5, rel=1e-4)
    alignnet_row, identity_row = table.iloc[0], table.iloc[1]
    assert (alignnet_row.paper_afe, alignnet_row.paper_accuracy) == (0.94, 89.60)
    assert np.isnan(identity_row.paper_afe)
    # Doing nothing is off by exactly the distortion's strength: mean |true - identity|.
    assert identity_row.afe == pytest.approx(predictions["strength"].mean(), rel=1e-5)
    assert predictions["strength"] == pytest.approx(np.abs(clips.true - np.arange(60)).mean(axis=1))
    markdown = (out / "results.md").read_text()
    assert "| AlignNet | 5 | 300 |" in markdown and "paper accuracy (%)" in markdown and "| - |" in markdown


def test_lips_results_sit_beside_the_papers_lip_numbers(evaluated) -> None:
    clips, results, _ = evaluated
    lips = dataclasses.replace(clips, task="lips")
    row = results_table(lips, results).iloc[0]
    assert (row.method, row.paper_afe, row.paper_accuracy) == ("AlignNet", 1.03, 81.05)


def test_strength_bins_partition_the_clips(evaluated) -> None:
    clips, results, out = evaluated
    strength = pd.read_csv(out / "strength.csv")
    assert set(strength.columns) >= {"method", "strength_bin", "afe", "accuracy", "clips"}
    for result in results:
        rows = strength[strength["method"] == result.name]
        assert rows["clips"].sum() == len(clips) and len(rows) == 2
        # every clip has the same number of frames: the clip-weighted mean of the bins is the overall AFE
        overall = afe(result.pred, clips.true)
        assert (rows["afe"] * rows["clips"]).sum() / len(clips) == pytest.approx(overall, rel=1e-5)
        assert rows["strength_lo"].is_monotonic_increasing


def test_keypoint_errors_file(evaluated) -> None:
    clips, results, out = evaluated
    errors = pd.read_csv(out / "keypoint_errors.csv")
    assert len(errors) == 2 * 19 and errors["keypoint"].iloc[0] == "Nose"
    identity = errors[errors["method"] == "Identity"]
    first = [keypoint_errors(clips.source[i], results[1].pred[i], clips.true[i]) for i in range(len(clips))]
    assert identity["location_error"].to_numpy() == pytest.approx(np.mean([f[0] for f in first], axis=0), rel=1e-5)
    assert (identity["velocity_error"] > 0).all()
    oracle = keypoint_table(clips, [MethodResult("Oracle", clips.true.copy(), 0.0)])
    assert np.allclose(oracle[["location_error", "velocity_error"]].to_numpy(), 0.0, atol=1e-6)


def test_evaluate_cli(data_dir: Path, checkpoint: Path, evaluated, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["evaluate", "--data", str(data_dir), "--alignnet", str(checkpoint), "--out", str(out)]
    assert main([*args, "--threads", "1", "--max-clips", "3", "--no-progress"]) == 0
    predictions = np.load(out / "predictions.npz")
    assert predictions["pred_alignnet"].shape == (3, 60)
    assert np.allclose(predictions["pred_alignnet"], evaluated[1][0].pred[:3], atol=1e-4)  # same clips, same warps
    assert pd.read_csv(out / "results.csv")["method"].tolist() == ["AlignNet"]
    bandwidth = pd.read_csv(out / "bandwidth.csv")  # no logmel_stats.npz in DIR: the full band alone
    assert bandwidth["band"].tolist() == ["full band"] and bandwidth["cutoff_hz"].isna().all()


def test_bandwidth_rows_score_the_same_clips_with_the_music_low_passed(data_dir, checkpoint, tmp_path) -> None:
    data = tmp_path / "data"
    shutil.copytree(data_dir, data)
    LogMelStats(np.full(128, -40.0, np.float32), np.full(128, 20.0, np.float32)).save(data / "logmel_stats.npz")
    out = tmp_path / "out"
    args = [
        "evaluate",
        "--data",
        str(data),
        "--alignnet",
        str(checkpoint),
        "--out",
        str(out),
        "--max-clips",
        "3",
        "--no-progress",
        "--threads",
        "1",
    ]
    assert main([*args, "--cutoffs", "4000", "30000"]) == 0  # 30 kHz: above the top bin (~21 kHz), skipped
    table = pd.read_csv(out / "bandwidth.csv")
    assert table["band"].tolist() == ["full band", "4 kHz"] and table["cutoff_hz"].iloc[1] == 4000
    full = pd.read_csv(out / "results.csv").iloc[0]
    assert (table["afe"].iloc[0], table["accuracy"].iloc[0]) == pytest.approx((full.afe, full.accuracy))
    clips = EvalClips.load(data, "test", 3).low_passed(Preprocessing.from_dataset(data).mel_bands(), 4000.0)
    silence = (-100.0 + 40.0) / 20.0
    assert np.allclose(clips.audio(0)[-20:], silence) and not np.allclose(clips.audio(0)[:20], silence)
    aligner = AlignNetAligner(load_model(checkpoint)[0])
    pred = np.stack([aligner.align(clips.distorted(i), clips.audio(i), clips.timebase) for i in range(3)])
    assert table["afe"].iloc[1] == pytest.approx(afe(pred, clips.true), rel=1e-4)
    assert table["afe"].iloc[1] != pytest.approx(table["afe"].iloc[0], rel=1e-4)  # the low-pass changed the input
    assert main([*args, "--cutoffs", "-5"]) == 2


def test_evaluate_cli_errors_name_the_missing_input(data_dir: Path, checkpoint: Path, tmp_path: Path, capsys) -> None:
    out = str(tmp_path / "out")
    data, model = ["--data", str(data_dir)], ["--alignnet", str(checkpoint)]
    assert main(["evaluate", *data, "--out", out]) == 2
    assert "no method" in capsys.readouterr().err
    assert main(["evaluate", *data, "--alignnet", str(tmp_path / "none"), "--out", out]) == 2
    assert "none.json" in capsys.readouterr().err
    assert main(["evaluate", *data, "--split", "val", *model, "--out", out]) == 2
    assert "val_warps.npz: missing" in capsys.readouterr().err
    assert main(["evaluate", "--data", str(tmp_path), *model, "--out", out]) == 2
    assert "meta.json" in capsys.readouterr().err
    assert not Path(out).exists()


def test_evaluate_help_documents_outputs() -> None:
    text = build_command_parser("evaluate")[0].format_help()
    for word in ("predictions.npz", "strength.csv", "keypoint_errors.csv", "--syncnet", "--onset-floor", "Example"):
        assert word in text
