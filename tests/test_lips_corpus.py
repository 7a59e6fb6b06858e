"""The talking-head corpus: real espeak-ng speech, real H.264/AAC files, and Face Mesh finds the faces.

Generates 3 short videos (5 s, 256x256, time-warped, one of them two
faces), runs MediaPipe Face Mesh through the pose backend's face mode on
every frame and checks detection (>= 95 %), the mapped mouth points
against the sidecar's true ones, and that the inner-lip opening follows
the drawn mouth.
"""

from __future__ import annotations

import json
from pathlib import Path

import ffmpeg
import numpy as np
import pytest

from alignnet.cli import main
from alignnet.demo.lips.corpus import FPS, Options, generate_video
from alignnet.lips.face_keypoints import (
    MOUTH_MIRROR,
    inner_lip_opening,
    mouth_from_face70,
)
from alignnet.pose.extract import extract_pose
from alignnet.pose.mediapipe_backend import MediaPipeBackend

SECONDS = 5.0


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lips")
    opts = Options(seed=11, seconds=SECONDS, warp=True, negatives=0.0, width=256, height=256, clip_seconds=4.0)
    for index in (0, 1):
        generate_video(out, index, opts)
    # Index 0 with negatives=1.0 is the first negative kind: two faces.
    generate_video(out / "neg", 0, Options(5, SECONDS, False, 1.0, 256, 256, clip_seconds=4.0))
    return out


def test_files_and_sidecar(corpus: Path) -> None:
    side = json.loads((corpus / "talk-0001.json").read_text())
    n = int(SECONDS * FPS)
    assert side["n_frames"] == n and side["fps"] == FPS and side["expected_verdict"]["keep"]
    info = ffmpeg.probe(str(corpus / "talk-0001.mp4"))
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert video["avg_frame_rate"] == "25/1" and int(video["nb_frames"]) == n
    assert int(audio["sample_rate"]) == side["sample_rate"] == 22050
    assert abs(float(audio["duration"]) - SECONDS) < 0.1
    source = np.array(side["source_frame"])
    assert np.all(np.diff(source) > 0) and np.abs(source - np.arange(n)).max() > 2  # warped
    assert np.array(side["keypoints"]).shape == (n, 20, 3) and len(side["mouth"]) == n
    starts = [t for _, t in side["phonemes"]]
    assert len(starts) > 20 and starts == sorted(starts) and starts[-1] < SECONDS
    assert side["voice"]["name"].startswith("en")
    neg = json.loads((corpus / "neg" / "talk-0000.json").read_text())
    assert neg["negative"] == "two_faces" and neg["expected_verdict"]["reason"] == "multi_person"


def test_face_mesh_finds_faces_and_follows_the_mouth(corpus: Path) -> None:
    for vid in ("talk-0000", "talk-0001"):
        with MediaPipeBackend(face=True) as backend:
            seq = extract_pose(corpus / f"{vid}.mp4", backend, max_side=None, progress=False)
        side = json.loads((corpus / f"{vid}.json").read_text())
        assert seq.layout == "FACE_70" and seq.keypoints.shape[1] == 70
        found = seq.keypoints[:, 48, 2] > 0
        assert found.mean() >= 0.95, f"{vid}: face found in {found.mean():.0%} of frames"
        assert seq.keypoints[:, :48, 2].max() == 0
        mouth = mouth_from_face70(seq.keypoints)[found]
        truth = np.array(side["keypoints"])[found]
        error = np.linalg.norm(mouth[..., :2] - truth[..., :2], axis=-1)
        assert np.median(error) < 4.0, f"{vid}: median mouth point error {np.median(error):.1f} px"
        r = np.corrcoef(inner_lip_opening(mouth), np.array(side["mouth"])[found, 0])[0, 1]
        assert r > 0.8, f"{vid}: inner-lip opening vs drawn opening r = {r:.2f}"
        # Mirror pairs: the mouth reflected about its centre line, pairs swapped, is the mouth again.
        xy = mouth[..., :2]
        reflected = xy * np.array([-1.0, 1.0]) + np.array([2.0, 0.0]) * xy.mean(axis=1, keepdims=True)
        width = np.linalg.norm(xy[:, 6] - xy[:, 0], axis=-1)
        mismatch = np.linalg.norm(reflected[:, MOUTH_MIRROR] - xy, axis=-1).max(axis=1)
        assert np.median(mismatch / width) < 0.15
        assert np.median(np.linalg.norm(reflected - xy, axis=-1).max(axis=1) / width) > 0.5
    with MediaPipeBackend(face=True) as backend:
        seq = extract_pose(corpus / "neg" / "talk-0000.mp4", backend, max_side=None, progress=False)
    assert np.mean(seq.people == 2) >= 0.95


def test_cli_refuses_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lips-synth", str(tmp_path / "c"), "--width", "255"]) == 2
    assert "--width must be an even number" in capsys.readouterr().err
    assert main(["lips-synth", str(tmp_path / "c"), "--negatives", "1.5"]) == 2
    assert not (tmp_path / "c").exists()
