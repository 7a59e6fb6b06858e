"""`alignnet synth`: file format, determinism, warps, negatives, variety and beats against the audio."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import ffmpeg
import librosa
import numpy as np
import pytest

from alignnet.demo.synth.corpus import Options, generate_corpus
from alignnet.demo.synth.negatives import NEGATIVE_KINDS, negative_kind
from alignnet.demo.synth.timewarp import sinusoidal_warp
from alignnet.keypoints import BODY_25_INDEX as K
from alignnet.stage_status import Reason
from alignnet.video_frames import iter_frames
from tests.corpus_fixtures import decode_audio

SR = 44100


def _sidecar(directory: Path, video_id: str) -> dict:
    return json.loads((directory / f"{video_id}.json").read_text())


@pytest.fixture(scope="module")
def cli_video(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli")
    cmd = [sys.executable, "-m", "alignnet", "synth", str(out), "--videos", "1", "--seconds", "4", "--seed", "3"]
    subprocess.run(cmd, check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def warped_twice(tmp_path_factory) -> tuple[Path, Path]:
    """The same warped corpus of 2 good videos generated into two directories."""
    opts = Options(seed=5, seconds=5.0, warp=True, negatives=0.0, width=320, height=180)
    dirs = (tmp_path_factory.mktemp("warp_a"), tmp_path_factory.mktemp("warp_b"))
    for d in dirs:
        generate_corpus(d, 2, opts, progress=False)
    return dirs


@pytest.fixture(scope="module")
def negatives(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("neg")
    generate_corpus(out, 6, Options(seed=11, seconds=6.2, warp=False, negatives=1.0, width=320, height=180), False)
    return out


def test_cli_writes_mp4_with_30fps_and_44100hz(cli_video: Path) -> None:
    info = ffmpeg.probe(str(cli_video / "demo-0000.mp4"))
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert video["r_frame_rate"] == "30/1"
    assert video["codec_name"] == "h264" and video["pix_fmt"] == "yuv420p"
    assert audio["codec_name"] == "aac" and audio["sample_rate"] == "44100"
    assert (video["width"], video["height"]) == (640, 360)
    side = _sidecar(cli_video, "demo-0000")
    assert side["n_frames"] == 120 == int(video["nb_frames"])
    assert np.array(side["keypoints"]).shape == (120, 25, 3)
    for key in (
        "video_id",
        "title",
        "uploader",
        "seed",
        "fps",
        "sample_rate",
        "width",
        "height",
        "duration",
        "style",
        "tempo",
        "beats",
        "source_frame",
        "negative",
        "expected_verdict",
    ):
        assert key in side, key
    assert side["uploader"] in side["title"] and side["style"] in side["title"]
    assert side["source_frame"] == list(map(float, range(120)))
    corpus = json.loads((cli_video / "corpus.json").read_text())
    assert [v["video_id"] for v in corpus["videos"]] == ["demo-0000"]


def test_same_seed_gives_same_sidecar_and_audio(warped_twice: tuple[Path, Path]) -> None:
    a, b = warped_twice
    for vid in ("demo-0000", "demo-0001"):
        assert (a / f"{vid}.json").read_bytes() == (b / f"{vid}.json").read_bytes()
        audio_a, audio_b = decode_audio(a / f"{vid}.mp4"), decode_audio(b / f"{vid}.mp4")
        assert audio_a.size >= 5 * SR * 0.99
        assert np.array_equal(audio_a, audio_b)
    assert (a / "demo-0000.json").read_bytes() != (a / "demo-0001.json").read_bytes()


def test_warp_is_monotonic_bounded_and_not_identity(warped_twice: tuple[Path, Path]) -> None:
    for vid in ("demo-0000", "demo-0001"):
        src = np.array(_sidecar(warped_twice[0], vid)["source_frame"])
        i = np.arange(src.size)
        assert np.all(np.diff(src) > 0)
        assert np.max(np.abs(src - i)) <= 0.5 * 30 + 1e-6
        assert np.max(np.abs(src - i)) > 1.0
        assert 0.5 <= np.diff(src).min() and np.diff(src).max() <= 2.0


@pytest.mark.parametrize("seed", range(20))
def test_sinusoidal_warp_bounds(seed: int) -> None:
    src = sinusoidal_warp(np.random.default_rng(seed), 600, 30.0)
    slope = np.diff(src)
    assert src[0] == 0 and abs(src[-1] - 599) < 1e-9
    assert slope.min() >= 0.5 and slope.max() <= 2.0
    assert np.max(np.abs(src - np.arange(600))) <= 15.0 + 1e-9


def test_negative_kinds_have_their_reasons(negatives: Path) -> None:
    corpus = json.loads((negatives / "corpus.json").read_text())
    kinds = {v["negative"]: v for v in corpus["videos"]}
    assert set(kinds) == set(NEGATIVE_KINDS)
    for kind, entry in kinds.items():
        assert entry["expected_verdict"] == {"keep": False, "reason": str(NEGATIVE_KINDS[kind])}
        assert Reason(entry["expected_verdict"]["reason"])
    assert [negative_kind(i, 0.2) for i in range(10)] == [None] * 4 + ["multi_person"] + [None] * 4 + ["camera_motion"]


def test_negative_videos_show_their_defect(negatives: Path) -> None:
    by_kind = {_sidecar(negatives, p.stem)["negative"]: p.stem for p in negatives.glob("demo-*.json")}
    short = _sidecar(negatives, by_kind["too_short"])
    assert short["duration"] < 6.0
    assert float(ffmpeg.probe(str(negatives / f"{by_kind['too_short']}.mp4"))["format"]["duration"]) < 6.0
    silent = decode_audio(negatives / f"{by_kind['silent_audio']}.mp4")
    assert silent.size > 6 * SR and np.max(np.abs(silent)) < 1e-4
    loud = decode_audio(negatives / f"{by_kind['multi_person']}.mp4")
    assert np.sqrt(np.mean(loud**2)) > 0.02
    assert not np.any(np.array(_sidecar(negatives, by_kind["no_person"])["keypoints"]))
    crop = np.array(_sidecar(negatives, by_kind["not_full_body"])["keypoints"])
    assert np.mean(crop[:, [K["RAnkle"], K["LAnkle"]], 2] == 0) > 0.9
    assert np.mean(crop[:, [K["Nose"], K["Neck"]], 2] > 0) > 0.9

    def background_motion(video_id: str) -> float:
        frames = [f[:30].astype(np.float32) for f in iter_frames(negatives / f"{video_id}.mp4")][::10]
        return float(np.mean([np.abs(a - b).mean() for a, b in itertools.pairwise(frames)]))

    assert background_motion(by_kind["camera_motion"]) > 3 * background_motion(by_kind["silent_audio"])


def test_videos_differ_in_look_and_motion(warped_twice: tuple[Path, Path], cli_video: Path) -> None:
    paths = [warped_twice[0] / "demo-0000.mp4", warped_twice[0] / "demo-0001.mp4"]
    means = [np.mean([f.mean(axis=(0, 1)) for f in iter_frames(p, size=(160, 90))], axis=0) for p in paths]
    assert np.linalg.norm(means[0] - means[1]) > 8.0

    def normalised_motion(kp: np.ndarray) -> np.ndarray:
        body = np.median(kp[:, K["MidHip"], 1] - kp[:, K["Neck"], 1])
        rel = kp[:, [K["RWrist"], K["LWrist"], K["RAnkle"], K["LAnkle"]], :2] - kp[:, [K["MidHip"]], :2]
        return rel / body

    a = normalised_motion(np.array(_sidecar(warped_twice[0], "demo-0000")["keypoints"])[:120])
    b = normalised_motion(np.array(_sidecar(cli_video, "demo-0000")["keypoints"])[:120])
    assert a.std(axis=0).mean() > 0.03 and b.std(axis=0).mean() > 0.03  # both dancers move
    assert np.abs(a - b).mean() > 0.1


def test_beats_land_on_audio_onsets(warped_twice: tuple[Path, Path], cli_video: Path) -> None:
    videos = [(warped_twice[0], "demo-0000"), (warped_twice[0], "demo-0001"), (cli_video, "demo-0000")]
    for directory, vid in videos:
        side = _sidecar(directory, vid)
        beats = np.array(side["beats"])
        y = decode_audio(directory / f"{vid}.mp4")
        onsets = librosa.onset.onset_detect(y=y, sr=SR, units="time", hop_length=256)
        near = np.abs(beats[:, None] - onsets[None, :]).min(axis=1) < 0.04
        period = 60.0 / side["tempo"][0]["bpm"]
        shifted = beats + 0.37 * period
        near_shifted = np.abs(shifted[:, None] - onsets[None, :]).min(axis=1) < 0.04
        assert beats.size >= 5
        assert near.mean() >= 0.8, (vid, near.mean())
        assert near_shifted.mean() < near.mean() - 0.3, (vid, near_shifted.mean())
        assert np.all(np.diff(beats) > 60 / 161) and np.all(np.diff(beats) < 60 / 79)
