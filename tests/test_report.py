"""`alignnet figures` and the report rule: fixtures in the evaluation's formats, a fresh tiny AlignNet."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from alignnet.alignment_methods import AlignNetAligner
from alignnet.checkpoint import load_model, save_checkpoint
from alignnet.cli import main
from alignnet.data.keypoint_table import DANCE_LAYOUT, MOUTH_LAYOUT
from alignnet.distort.fixed_warps import make_fixed_warps, save_fixed_warps
from alignnet.evaluation.ablation import VARIANTS_IN_ORDER, ablation_table, seed_table
from alignnet.evaluation.clips import EvalClips
from alignnet.evaluation.runner import MethodResult
from alignnet.evaluation.tables import bandwidth_table
from alignnet.evaluation.tables import write_evaluation as write_evaluation_files
from alignnet.models.alignnet import AlignNet, AlignNetConfig
from alignnet.report import attention, correspondence, tables
from alignnet.report.command import FIGURES
from alignnet.report.inputs import Predictions, SplitData
from tests.synthetic_split import make_synthetic_split

REPO = Path(__file__).resolve().parent.parent


def tiny_checkpoint(stem: Path, seed: int = 0) -> Path:
    """A fresh small AlignNet with random (not uniform) attention, saved as a checkpoint."""
    torch.manual_seed(seed)
    model = AlignNet(
        AlignNetConfig(
            channels=(16, 8, 8, 8), head_hidden=(8,), context_channels=8, audio_stem_channels=16, attention_dim=4
        )
    )
    with torch.no_grad():
        model.keypoint_attention.logits.normal_(0.0, 0.7)
        model.temporal_attention.gate.weight.normal_(0.0, 1.0)
    save_checkpoint(stem, model, epoch=0, metrics={})
    return stem


def write_evaluation(split_dir: Path, evaluate: Path, ablation: Path, model: AlignNet) -> None:
    """The evaluation's and the ablation's files for a packed split, written by their own writers.

    AlignNet's predictions are the given model's; the other methods are simple stand-ins
    (a global offset, the truth with noise, no alignment); the ablation numbers are made up.
    """
    warps = split_dir / "test_warps.npz"
    if not warps.exists():
        split = SplitData.load(split_dir)
        n = split.keypoints.shape[1]
        save_fixed_warps(warps, split.clip_ids, make_fixed_warps(split.clip_ids, n, n, seed=0), seed=0)
    clips = EvalClips.load(split_dir)
    diag = np.arange(clips.true.shape[1], dtype=np.float64)
    aligner = AlignNetAligner(model)
    alignnet = np.stack([aligner.align(clips.distorted(i), clips.audio(i), clips.timebase) for i in range(len(clips))])
    noisy = clips.true + np.random.default_rng(1).normal(0, 2, clips.true.shape)
    results = [
        MethodResult("AlignNet", alignnet, 0.3),
        MethodResult("SyncNet", diag + np.median(clips.true - diag, axis=1, keepdims=True), 0.2),
        MethodResult("SyncNet+DTW", np.maximum.accumulate(noisy, axis=1), 0.9),
        MethodResult("Onset+DTW", np.tile(diag, (len(clips), 1)), 0.1),
    ]
    low_passed = [
        MethodResult(r.name, r.pred + np.random.default_rng(2).normal(0, 3, r.pred.shape), r.seconds) for r in results
    ]
    write_evaluation_files(
        evaluate, clips, results, n_bins=2, bandwidth=bandwidth_table(clips, [(None, results), (8000.0, low_passed)])
    )
    runs = []
    for i, rung in enumerate(VARIANTS_IN_ORDER):
        for seed in (0, 1):
            path = ablation / rung.name / f"seed{seed}" / "results.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            row = {"method": "AlignNet", "clips": len(clips), "afe": 3.0 - 0.1 * i + seed, "accuracy": 40.0 + 2 * i}
            pd.DataFrame([row]).to_csv(path, index=False)
            runs.append((rung.name, seed, path))
    ablation_table(seed_table(runs)).to_csv(ablation / "ablation.csv", index=False)


def write_summary(path: Path) -> Path:
    summary = {
        "videos_found": 4,
        "download_failed": {},
        "filter": {"clips_kept": 6, "clips_rejected": {"no_person": 1}},
        "pose": {"detection_rate": 0.9876},
        "dataset": {"clips": 6, "splits": {"train": 2, "val": 2, "test": 2}},
    }
    path.write_text(json.dumps(summary))
    return path


@pytest.fixture(scope="module")
def run_inputs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("report")
    split = make_synthetic_split(root / "splits", {"test": 5}, seconds=3.0, seed=3)
    stem = tiny_checkpoint(root / "ckpt")
    model, _ = load_model(stem)
    write_evaluation(split, root / "evaluate", root / "ablation", model)
    return {
        "data": split,
        "evaluate": root / "evaluate",
        "ablation": root / "ablation",
        "checkpoint": stem,
        "summary": write_summary(root / "summary.json"),
        "root": root,
    }


def test_every_figure_is_written_and_not_blank(run_inputs, tmp_path):
    out = tmp_path / "report"
    code = main(
        [
            "figures",
            "--data",
            str(run_inputs["data"]),
            "--evaluate",
            str(run_inputs["evaluate"]),
            "--ablation",
            str(run_inputs["ablation"]),
            "--checkpoint",
            str(run_inputs["checkpoint"]),
            "--summary",
            str(run_inputs["summary"]),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(FIGURES)
    for name in FIGURES:
        image = np.asarray(Image.open(out / name).convert("L"), np.float32)
        assert image.shape[0] > 150 and image.shape[1] > 300, name
        assert image.std() > 10, f"{name} is nearly blank"
        assert (image < 128).mean() > 0.005, f"{name} has almost nothing drawn"


def test_predictions_format_is_checked(run_inputs, tmp_path):
    with np.load(run_inputs["evaluate"] / "predictions.npz") as npz:
        data = dict(npz)
    data["pred_syncnet"] = data["pred_syncnet"][:, :-1]
    np.savez(tmp_path / "predictions.npz", **data)
    with pytest.raises(Exception, match="pred_syncnet has shape"):
        Predictions.load(tmp_path / "predictions.npz")


def test_missing_column_and_unknown_clip_are_user_errors(run_inputs, tmp_path, capsys):
    evaluate = tmp_path / "evaluate"
    evaluate.mkdir()
    for path in run_inputs["evaluate"].iterdir():
        (evaluate / path.name).write_bytes(path.read_bytes())
    pd.read_csv(evaluate / "strength.csv").drop(columns="afe").to_csv(evaluate / "strength.csv", index=False)
    base = [
        "figures",
        "--data",
        str(run_inputs["data"]),
        "--ablation",
        str(run_inputs["ablation"]),
        "--checkpoint",
        str(run_inputs["checkpoint"]),
        "--summary",
        str(run_inputs["summary"]),
        "--out",
        str(tmp_path / "out"),
    ]
    assert main([*base, "--evaluate", str(evaluate)]) == 2
    assert "strength.csv: missing columns afe;" in capsys.readouterr().err
    assert main([*base, "--evaluate", str(run_inputs["evaluate"]), "--clip", "nope"]) == 2
    assert "--clip 'nope'" in capsys.readouterr().err


def test_figures_rule_dry_runs(run_inputs, tmp_path):
    """The rule plans `alignnet figures` from the evaluation's and the dataset's files."""
    for target, source in (
        ("results/dataset/splits", run_inputs["data"]),
        ("results/evaluate", run_inputs["evaluate"]),
        ("results/ablation", run_inputs["ablation"]),
    ):
        (tmp_path / target).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / target).symlink_to(source, target_is_directory=True)
    (tmp_path / "results/train/alignnet").mkdir(parents=True)
    (tmp_path / "results/train/alignnet/best.safetensors").touch()
    (tmp_path / "results/dataset/summary.json").touch()
    snakefile = tmp_path / "Snakefile"
    snakefile.write_text(
        f'configfile: "{REPO}/config/demo.yaml"\n'
        f'report: "{REPO}/workflow/report/workflow.rst"\n'
        f'include: "{REPO}/workflow/rules/common.smk"\n'
        f'include: "{REPO}/workflow/rules/report.smk"\n'
    )
    result = subprocess.run(
        [
            "snakemake",
            "-n",
            "-p",
            "figures",
            "--snakefile",
            str(snakefile),
            "--directory",
            str(tmp_path),
            "--config",
            "manifest=none.tsv",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "alignnet figures --data results/dataset/splits --evaluate results/evaluate" in result.stdout
    assert "--checkpoint results/train/alignnet/best " in result.stdout
    assert "results/report/fig8_temporal_attention.png" in result.stdout


def test_attention_figures_without_attention_say_so(run_inputs):
    """Ablation checkpoints may lack either attention: the figures then carry a note instead of failing."""
    model = AlignNet(AlignNetConfig(channels=(16, 8, 8, 8), keypoint_attention=False, temporal_attention=False))
    split = SplitData.load(run_inputs["data"])
    for fig in (
        attention.keypoint_attention_figure(model, split),
        attention.temporal_attention_figure(model, split, split.clip_ids[0]),
    ):
        assert "without" in fig.axes[0].texts[0].get_text()


def test_sample_clips_span_the_strengths():
    strength = np.array([5.0, 1.0, 9.0, 3.0, 7.0])
    predictions = Predictions([f"c{i}" for i in range(5)], np.zeros((5, 4)), strength, {"x": np.zeros((5, 4))})
    assert correspondence.sample_clips(predictions, 3) == [1, 0, 2]  # weakest, median, strongest
    assert tables.flatten({"a_b": {"c": 1, "d": {}}, "e": 0.12345}) == [
        ("a b / c", "1"),
        ("a b / d", "none"),
        ("e", "0.123"),
    ]


def test_lips_figures_draw_the_mouth(run_inputs, tmp_path):
    """A MOUTH_20 split is named and drawn as a mouth (two lip rings), not as a body."""
    meta = json.loads((run_inputs["data"] / "meta.json").read_text())
    assert SplitData.load(run_inputs["data"]).layout is DANCE_LAYOUT  # meta.json without "layout"
    lips_dir = tmp_path / "lips"
    lips_dir.mkdir()
    for path in run_inputs["data"].iterdir():
        if path.is_file():
            (lips_dir / path.name).write_bytes(path.read_bytes())
    (lips_dir / "meta.json").write_text(json.dumps({**meta, "layout": MOUTH_LAYOUT.name}))
    assert SplitData.load(lips_dir).layout is MOUTH_LAYOUT
    split = SplitData(
        np.random.default_rng(0).normal(0, 10, (3, 30, 20, 2)).astype(np.float32),
        np.zeros((3, 128, 86), np.float32),
        ["a", "b", "c"],
        25.0,
        16000,
        640,
        None,
        MOUTH_LAYOUT,
    )
    model = AlignNet(AlignNetConfig(n_keypoints=20, mirror=MOUTH_LAYOUT.mirror))
    fig = attention.keypoint_attention_figure(model, split)
    left, right = fig.axes[0], fig.axes[1]  # (the colour bar is the third)
    assert [t.get_text() for t in right.get_yticklabels()] == list(MOUTH_LAYOUT.names)
    assert len(left.lines) == len(MOUTH_LAYOUT.segments) == 20
    plt.close(fig)


def test_keypoint_error_bars_leave_out_the_reference_point():
    from alignnet.report.keypoint_errors import keypoint_error_bars

    rows = [
        {"method": m, "keypoint": k, "velocity_error": 0.0 if k == "MidHip" else e}
        for m, e in (("AlignNet", 0.1), ("SyncNet", 0.3))
        for k in ("Nose", "MidHip", "RWrist")
    ]
    fig = keypoint_error_bars(pd.DataFrame(rows), "velocity_error")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Nose", "RWrist"]
    assert "MidHip: the reference point" in ax.get_xlabel()
    zeros = pd.DataFrame([{**r, "velocity_error": 0.0} for r in rows])
    assert len(keypoint_error_bars(zeros, "velocity_error").axes[0].get_xticklabels()) == 3  # all zero: all drawn


def test_keypoint_attention_names_the_reference_point():
    """Mid-hip is (0, 0) in every body-centred frame: its attention weight is drawn as the reference point's."""
    keypoints = np.random.default_rng(0).normal(0, 10, (3, 30, 19, 2)).astype(np.float32)
    keypoints[:, :, DANCE_LAYOUT.names.index("MidHip")] = 0.0
    assert attention.reference_points(keypoints).tolist() == [name == "MidHip" for name in DANCE_LAYOUT.names]
    split = SplitData(keypoints, np.zeros((3, 128, 86), np.float32), ["a", "b", "c"], 30.0, 44100, 512, None)
    fig = attention.keypoint_attention_figure(AlignNet(), split)
    labels = [t.get_text() for t in fig.axes[1].get_yticklabels()]
    assert [label for label in labels if "reference" in label] == ["MidHip (reference, input 0)"]
    plt.close(fig)
