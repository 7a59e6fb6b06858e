"""The lips task through the same rules: face pose, face filters, mouth cleaning, packed layout, training.

The fast tests check the pieces the lips task adds (filter rules, mouth
cleaning, the model built from the data's meta.json, the demo's generator
switch). The slow test runs `alignnet demo` on a small talking-head corpus
(config/lips-demo.yaml with smaller sizes) through discovery, download,
clip, pose (Face Mesh), filter, clean, log-mel, split and a short training.
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

from alignnet.checkpoint import read_meta
from alignnet.data.clean import CleanParams, clean_clip
from alignnet.data.filters import (
    ClipFigures,
    Thresholds,
    agreement,
    measure_face,
    verdict,
)
from alignnet.data.keypoint_table import MOUTH_LAYOUT, KeypointFiles, read_clip_keypoints
from alignnet.demo.command import demo_settings, generator_command
from alignnet.keypoints import MOUTH_MIRROR, MOUTH_POINTS
from alignnet.pose.sequence import PoseSequence
from alignnet.stage_status import Reason, StageFailure, failed_records, item_id
from alignnet.training.command import audio_stem_stride, keypoint_layout
from tests.corpus_fixtures import free_port

REPO = Path(__file__).resolve().parent.parent


def mouth_frame(cx: float = 100.0, cy: float = 120.0, opening: float = 6.0, midline_shift: float = 0.0) -> np.ndarray:
    """FACE_70 (70, 3) with a drawn mouth: corners at cx -+ 20, the midline at cx + midline_shift."""
    face = np.zeros((70, 3), np.float32)
    angles = np.linspace(np.pi, -np.pi, 12, endpoint=False)  # 48 (right corner, image left) round the outer lip
    outer = np.stack([cx + 20 * np.cos(angles), cy - 8 * np.sin(angles)], axis=1)
    inner_angles = np.linspace(np.pi, -np.pi, 8, endpoint=False)
    inner = np.stack([cx + 12 * np.cos(inner_angles), cy - opening / 2 * np.sin(inner_angles)], axis=1)
    face[48:60, :2], face[60:68, :2] = outer, inner
    for k in (51, 57, 62, 66):  # the midline points
        face[k, 0] += midline_shift
    face[list(MOUTH_POINTS), 2] = 1.0
    return face


def face_pose(frames: np.ndarray, people: np.ndarray | None = None) -> PoseSequence:
    n = len(frames)
    return PoseSequence(
        keypoints=frames.astype(np.float32),
        people=np.ones(n, np.int16) if people is None else people,
        fps=25.0,
        width=320,
        height=320,
        backend="mediapipe",
        layout="FACE_70",
    )


def test_face_measures_follow_the_mouth() -> None:
    openings = 4 + 3 * np.sin(np.arange(50) / 3)
    frontal = measure_face(face_pose(np.stack([mouth_frame(opening=o) for o in openings])), 0.3)
    assert frontal.face is not None and frontal.full_body.all()
    np.testing.assert_allclose(frontal.face.opening, openings, atol=1e-4)
    np.testing.assert_allclose(frontal.face.width, 40.0, atol=1e-3)
    assert np.nanmax(frontal.face.asymmetry) < 1e-4
    turned = measure_face(face_pose(np.stack([mouth_frame(midline_shift=8.0)] * 5)), 0.3)
    np.testing.assert_allclose(turned.face.asymmetry, 0.4, atol=1e-3)  # 8 px of a 20 px half-width
    x0, y0, x1, y1 = frontal.boxes[0]
    assert x0 < 80 and x1 > 120 and y0 < 40 and y1 > 120  # the head box holds the whole mouth and more


def test_lips_rules_in_order() -> None:
    t = Thresholds()
    good = ClipFigures(1.0, 0.0, 0.0, 0.5, 0.0, np.nan, np.nan, -20.0, 1.0, 0.1, 0.05)
    assert verdict(good, t, "lips") == (None, "")
    cases = {
        Reason.NO_PERSON: dict(detection_rate=0.2),
        Reason.MOUTH_HIDDEN: dict(lip_motion=0.005),
        Reason.NOT_FRONTAL: dict(mouth_asymmetry=0.5),
        Reason.MULTI_PERSON: dict(second_person_detected_rate=1.0),
        Reason.CAMERA_MOTION: dict(camera_motion_px=20.0),
    }
    for reason, change in cases.items():
        assert verdict(ClipFigures(**{**good.__dict__, **change}), t, "lips")[0] == reason
    hidden = ClipFigures(**{**good.__dict__, "mouth_visible_rate": 0.3})
    assert verdict(hidden, t, "lips")[0] == Reason.MOUTH_HIDDEN
    # the dance rules would reject a face clip for its missing body
    assert verdict(good, t)[0] == Reason.NOT_FULL_BODY


def test_clean_clip_lips_is_mouth_centred() -> None:
    rng = np.random.default_rng(0)
    frames = np.stack([mouth_frame(cx=100 + 30 * np.sin(i / 10), opening=5 + 2 * np.sin(i)) for i in range(60)])
    frames[:, :, :2] += rng.normal(0, 0.2, frames[:, :, :2].shape)
    frames[20:24, 50] = 0.0  # a short gap is filled
    xy = clean_clip(frames, CleanParams(), task="lips")
    assert xy.shape == (60, 20, 2) and xy.dtype == np.float32
    np.testing.assert_allclose(xy.mean(axis=1), 0.0, atol=1e-4)  # head motion removed
    assert np.ptp(xy[:, 0, 0]) < 5  # the corner no longer follows the head's 60 px sway
    frames[10:40, 55] = 0.0
    with pytest.raises(StageFailure) as failure:
        clean_clip(frames, CleanParams(max_gap=15), task="lips")
    assert failure.value.reason == Reason.GAP_TOO_LONG and "Mouth55" in failure.value.detail


def test_model_follows_the_data_meta() -> None:
    assert audio_stem_stride({"fps": 30, "sample_rate": 44100, "hop_length": 512}) == 4  # the dance model
    assert audio_stem_stride({"fps": 25, "sample_rate": 16000, "hop_length": 640}) == 1
    assert audio_stem_stride({"fps": 25, "sample_rate": 16000, "hop_length": 160}) == 6
    n, mirror = keypoint_layout({"n_keypoints": 20, "mirror": MOUTH_MIRROR.tolist()})
    assert n == 20 and mirror[0] == 6 and mirror[3] == 3  # corner 48 <-> 54; 51 on the midline
    assert keypoint_layout({})[0] == 19


def test_demo_runs_lips_synth(tmp_path: Path) -> None:
    config = yaml.safe_load((REPO / "config/lips-demo.yaml").read_text())
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    settings = demo_settings(tmp_path / "c.yaml")
    cmd = generator_command(Path("corpus"), settings)
    assert cmd[3] == "lips-synth"
    assert cmd[cmd.index("--clip-seconds") + 1] == "12" and cmd[cmd.index("--motion") + 1] == "1.0"
    dance = generator_command(Path("corpus"), demo_settings(REPO / "config/demo.yaml"))
    assert dance[3] == "synth" and "--motion" not in dance


@pytest.fixture(scope="module")
def lips_run(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("lips")
    port = free_port()
    config = yaml.safe_load((REPO / "config/lips-demo.yaml").read_text())
    config["sources"] = [f"http://127.0.0.1:{port}/feed.xml"]
    # 8 videos at negatives 0.25: 6 good (one 12-s clip each), two_faces (3) and camera_motion (7).
    config["demo"].update(videos=8, seconds=12.5, negatives=0.25, corpus_dir=str(work / "corpus"), port=port)
    config["splits"].update(train=4, val=1, test=1)
    config["train"].update(epochs=2, steps_per_epoch=10, batch_size=4, max_minutes=1)
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    # Through split and training; evaluation and the report have their own tests.
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
        "results/dataset/summary.json",
        "results/train/alignnet/best.safetensors",
    ]
    result = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    return work


@pytest.mark.slow
def test_lips_demo_end_to_end(lips_run: Path) -> None:
    sidecars = {p.stem: json.loads(p.read_text()) for p in (lips_run / "corpus").glob("talk-*.json")}
    assert len(sidecars) == 8

    pose = PoseSequence.load(lips_run / "results/pose/talk-0000.npz")
    assert pose.layout == "FACE_70" and pose.fps == 25 and pose.meta["counts_people"] == "true"
    assert (pose.people > 0).mean() >= 0.95
    assert (PoseSequence.load(lips_run / "results/pose/talk-0003.npz").people >= 2).mean() > 0.5  # two faces

    verdicts = pd.read_csv(lips_run / "results/filter/verdicts.tsv", sep="\t", keep_default_na=False)
    failures = {item_id(r): s.reason for r, s in failed_records(lips_run / "results/filter").items()}
    rate, disagreements = agreement(verdicts, sidecars, failures)
    # Known weak spot: a slow pan behind a head that fills the frame can pass as a static camera.
    assert rate >= 7 / 8, disagreements.to_string()
    assert set(disagreements["expected_reason"]) <= {"camera_motion"}, disagreements.to_string()

    keypoints = sorted((lips_run / "results/keypoints").glob("*.parquet"))
    assert KeypointFiles.open(keypoints).layout == MOUTH_LAYOUT
    clips = read_clip_keypoints(keypoints)
    kept = int(verdicts["keep"].astype(str).str.lower().eq("true").sum())
    assert len(clips) == kept >= 6 and all(c.shape == (300, 20, 2) for c in clips.values())

    data = lips_run / "results/dataset/splits"
    meta = json.loads((data / "meta.json").read_text())
    assert meta["layout"] == "MOUTH_20" and meta["n_keypoints"] == 20 and meta["mirror"] == MOUTH_MIRROR.tolist()
    assert (meta["fps"], meta["sample_rate"], meta["hop_length"]) == (25, 16000, 640)
    assert meta["clips"]["train"] >= 4 and meta["clips"]["val"] >= 1 and meta["clips"]["test"] >= 1
    # config/lips-demo.yaml's cleaning, recorded by every keypoint file, then by the dataset and the checkpoint
    assert {k: meta["clean"][k] for k in ("median_kernel", "savgol_window", "savgol_order")} == {
        "median_kernel": 3,
        "savgol_window": 7,
        "savgol_order": 3,
    }
    assert np.load(data / "train_logmel.npy", mmap_mode="r").shape[1:] == (128, 300)  # one log-mel frame a video frame

    summary = json.loads((lips_run / "results/dataset/summary.json").read_text())
    assert summary["videos_found"] == 8 and summary["dataset"]["clips"] == kept

    checkpoint = read_meta(lips_run / "results/train/alignnet/best")
    assert checkpoint["extra"]["preprocessing"]["clean"] == meta["clean"]  # what `alignnet align` cleans with
    model = checkpoint["model_config"]
    assert model["n_keypoints"] == 20 and model["mirror"] == MOUTH_MIRROR.tolist()
    assert model["audio_stem_stride"] == 1
