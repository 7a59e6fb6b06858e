"""End to end: a small demo corpus, served on loopback, through every rule of the workflow.

Runs `alignnet demo` (corpus generation, the loopback server, snakemake) on a
config that differs from config/demo.yaml only in sizes, then checks what the
stages wrote: the summary's counts, the filter's agreement with the corpus's
expected verdicts, the packed splits and the training outputs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from alignnet.data.filters import agreement
from alignnet.stage_status import failed_records, item_id
from alignnet.training.data import following_clips
from tests.corpus_fixtures import free_port

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("demo")
    port = free_port()
    config = yaml.safe_load((REPO / "config/demo.yaml").read_text())
    config["sources"] = [f"http://127.0.0.1:{port}/feed.xml"]
    # 10 videos at negatives 0.5: 5 good and one of each of the first 5 negative kinds.
    config["demo"].update(videos=10, seconds=13, negatives=0.5, corpus_dir=str(work / "corpus"), port=port)
    config["splits"].update(train=6, val=4, test=4)
    config["train"].update(epochs=2, steps_per_epoch=20, batch_size=4, workers=0, max_minutes=2)
    config["syncnet"].update(epochs=1, steps_per_epoch=5, batch_size=4, max_minutes=1)
    config["ablation"].update(variants=["base", "all"], epochs=1, steps_per_epoch=5, max_minutes=1)
    config["retarget"]["pairs"] = [{"video": "demo-0000", "audio": "demo-0002"}]  # even ids are good videos
    config["retarget"]["checkpoint"] = None  # the model this run trains (the quick demo's is the kept one)
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    cmd = [
        sys.executable,
        "-m",
        "alignnet",
        "demo",
        "--configfile",
        str(work / "config.yaml"),
        "--",
        "--snakefile",
        str(REPO / "workflow/Snakefile"),
        "--directory",
        str(work),
    ]
    result = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=1500, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    return work


def test_every_stage_ran(demo_run):
    for path in (
        "results/manifest.tsv",
        "results/download/failures.tsv",
        "results/filter/verdicts.tsv",
        "results/dataset/summary.json",
        "results/train/alignnet/best.safetensors",
        "results/train/alignnet/metrics.csv",
        "results/train/syncnet/best.safetensors",
        "results/evaluate/results.csv",
        "results/evaluate/results.md",
        "results/ablation/ablation.csv",
        "results/report/fig3_skeletons.png",
        "results/report/results_table.png",
        "results/retarget/demo-0000/demo-0002.mp4",
        "results/retarget/demo-0000/demo-0002.csv",
        "results/report.html",
    ):
        assert (demo_run / path).exists(), path
    for stage in ("download", "clip", "pose", "filter", "clean", "logmel", "evaluate", "retarget"):
        assert list((demo_run / "logs" / stage).rglob("*.log")), stage
        assert list((demo_run / "results/benchmarks" / stage).rglob("*.tsv")), stage


def test_summary_counts(demo_run):
    summary = json.loads((demo_run / "results/dataset/summary.json").read_text())
    assert summary["videos_found"] == 10
    assert summary["videos_downloaded"] == 10
    assert summary["clip"]["videos_ok"] >= 9  # the too_short negative has no whole clip
    assert summary["filter"]["clips_kept"] > 0 and summary["dataset"]["clips"] > 0
    assert summary["pose"]["detection_rate"] > 0.5


def test_filter_agrees_with_the_corpus(demo_run):
    verdicts = pd.read_csv(demo_run / "results/filter/verdicts.tsv", sep="\t", keep_default_na=False)
    sidecars = {p.stem: json.loads(p.read_text()) for p in (demo_run / "corpus").glob("demo-*.json")}
    failures = {item_id(r): s.reason for r, s in failed_records(demo_run / "results/filter").items()}
    rate, disagreements = agreement(verdicts, sidecars, failures)
    assert rate >= 0.95, disagreements.to_string()


def test_splits_are_video_disjoint(demo_run):
    splits = pd.read_csv(demo_run / "results/dataset/splits/splits.tsv", sep="\t")
    used = splits[splits["split"] != "unused"]
    assert used.groupby("video_id")["split"].nunique().max() == 1
    assert set(used["split"]) == {"train", "val", "test"}
    train = pd.read_csv(demo_run / "results/dataset/splits/train_index.tsv", sep="\t")
    frames = np.load(demo_run / "results/dataset/splits/train_keypoints.npy", mmap_mode="r").shape[1]
    assert (train["start_frame"] == train["clip_index"] * frames).all()  # the demo's clips are cut back to back
    assert (following_clips(train, frames) >= 0).any()  # so training has windows across clips


def test_rerun_has_nothing_to_do(demo_run):
    cmd = [
        "snakemake",
        "-n",
        "--configfile",
        str(demo_run / "config.yaml"),
        "--snakefile",
        str(REPO / "workflow/Snakefile"),
        "--directory",
        str(demo_run),
    ]
    result = subprocess.run(cmd, cwd=demo_run, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "Nothing to be done" in result.stdout + result.stderr


def test_results_table_has_every_method(demo_run):
    table = pd.read_csv(demo_run / "results/evaluate/results.csv")
    assert {"AlignNet", "SyncNet", "SyncNet+DTW"} <= set(table["method"])
    assert table["afe"].notna().all() and table["accuracy"].between(0, 100).all()
