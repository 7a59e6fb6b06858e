"""`alignnet align`: windows and inversion, bad inputs with real files, and runs on warped demo videos.

The end-to-end run aligns three `alignnet synth --warp` videos to their own
music with a demo-trained checkpoint kept in tests/data (or
$ALIGNNET_ALIGN_CHECKPOINT when set), checks the CSVs against the sidecars'
`source_frame` (AFE < 1.5 frames, ITU accuracy >= 90 %) and the outputs'
form (CSV, re-timed video, side-by-side). benchmarks/align_accuracy.py
measures the same on more videos and other forms of the music.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from pathlib import Path

import ffmpeg
import numpy as np
import pandas as pd
import pytest
import torch
from scipy.io import wavfile

from alignnet.align import EXIT_NO_PERSON, EXIT_NO_STREAM, EXIT_UNREADABLE
from alignnet.align.global_path import LOW_CONFIDENCE
from alignnet.align.media import is_normalised, probe_streams, video_at_fps
from alignnet.align.pipeline import speed_change_warning
from alignnet.align.retime import confidence_path, encode_audio, invert, render
from alignnet.align.windows import (
    Window,
    WindowConfig,
    align_in_windows,
    linear_prior,
    plan_windows,
    stitch,
    weighted_median,
)
from alignnet.alignment_methods import AlignNetAligner
from alignnet.checkpoint import save_checkpoint
from alignnet.cli import main
from alignnet.data.clean import LEGACY_CLEAN_PARAMS, CleanParams
from alignnet.data.logmel import LogMelConfig, LogMelStats
from alignnet.data.preprocessing import Preprocessing
from alignnet.demo.synth.timewarp import retimed_truth, sinusoidal_warp
from alignnet.errors import UserInputError
from alignnet.metrics import afe, retiming_errors, retiming_itu_accuracy
from alignnet.models.alignnet import AlignNet
from alignnet.video_frames import iter_frames
from tests.corpus_fixtures import make_video
from tests.test_pose import STAND_IN, stand_in_models

REPO = Path(__file__).resolve().parent.parent
FPS = 30.0
AUDIO_RATE = 44100 / 512


def _silent_video(path: Path, seconds: float = 2.0) -> Path:
    """A grey video without an audio stream (ffmpeg lavfi)."""
    source = ffmpeg.input("color=c=gray:size=160x120:rate=30", f="lavfi", t=seconds)
    ffmpeg.output(source, str(path), pix_fmt="yuv420p").global_args("-loglevel", "error").overwrite_output().run()
    return path


# --- windows, stitching, inversion (no model) ---------------------------------------------------


def test_windows_with_exact_predictions_recover_a_long_warp():
    """An oracle that knows the truth inside each window (clamped to it) is stitched back to the truth."""
    n = 60 * 30  # one minute of video against one minute of audio
    truth_frames = sinusoidal_warp(np.random.default_rng(3), n, FPS)
    n_audio = round(n / FPS * AUDIO_RATE)
    truth = truth_frames / FPS * AUDIO_RATE  # log-mel frames
    config = WindowConfig(window_seconds=6.0, hop_seconds=2.0, coverage=0.8)
    seen: list[Window] = []

    def oracle(windows: list[Window]) -> list[np.ndarray]:
        seen.extend(windows)
        return [np.clip(truth[w.video_start : w.video_stop], w.audio_start, w.audio_stop - 1) for w in windows]

    estimate = align_in_windows(oracle, n, n_audio, FPS, AUDIO_RATE, config)
    assert all(w.audio_stop - w.audio_start == round(6 * AUDIO_RATE) for w in seen)
    assert min(w.video_start for w in seen) == 0 and max(w.video_stop for w in seen) == n
    assert np.all(np.diff(estimate) >= 0)
    assert afe(estimate / AUDIO_RATE * FPS, truth_frames) < 0.05


def test_stitching_makes_noisy_predictions_monotonic_and_keeps_the_trend():
    n, n_audio = 900, round(900 / FPS * AUDIO_RATE)
    rng = np.random.default_rng(0)
    truth = linear_prior(n, n_audio)

    def noisy(windows: list[Window]) -> list[np.ndarray]:
        return [truth[w.video_start : w.video_stop] + rng.normal(0, 20, w.video_stop - w.video_start) for w in windows]

    estimate = align_in_windows(noisy, n, n_audio, FPS, AUDIO_RATE, WindowConfig())
    assert np.all(np.diff(estimate) >= 0) and estimate.min() >= 0 and estimate.max() <= n_audio - 1
    assert np.abs(estimate - truth).mean() < 10  # well below the noise's mean |error| of 16


def test_stitching_keeps_the_majority_where_one_window_locks_onto_another_beat():
    """Three windows agree on the truth and a fourth is a beat (15 frames) late on the same frames: the
    weighted median keeps the truth, where a weighted mean would land 3-4 frames off."""
    n, n_audio = 300, 900
    truth = np.linspace(0.0, n_audio - 1, n)
    windows = [Window(0, 300, 0, 900)] * 4
    predictions = [truth, truth + 0.5, truth - 0.5, truth + 15.0]
    estimate = stitch(windows, predictions, n, n_audio)
    assert np.abs(estimate - truth).max() <= 0.5 + 1e-9


def test_weighted_median_of_groups():
    groups = np.array([1, 0, 1, 0, 1, 0])
    values = np.array([5.0, 1.0, 7.0, 2.0, 6.0, 9.0])
    weights = np.array([1.0, 1.0, 1.0, 1.0, 3.0, 5.0])
    assert weighted_median(groups, values, weights, 2).tolist() == [9.0, 6.0]  # 9 holds 5 of 7; 6 holds 3 of 5


def test_windows_follow_a_video_longer_than_its_audio():
    n_video, n_audio = 600, round(10 * AUDIO_RATE)  # 20 s of video onto 10 s of audio
    windows = plan_windows(linear_prior(n_video, n_audio), n_audio, FPS, AUDIO_RATE, WindowConfig(6.0, 2.0))
    assert windows[0].video_start == 0 and windows[-1].video_stop == n_video
    assert all(w.video_stop - w.video_start == 360 for w in windows)  # 6 s of audio = 12 s of this video
    assert all(0 <= w.audio_start < w.audio_stop <= n_audio for w in windows)
    assert [w.audio_start for w in windows] == sorted(w.audio_start for w in windows)


def test_bad_window_settings_are_refused():
    with pytest.raises(ValueError, match="gaps"):
        WindowConfig(window_seconds=6.0, hop_seconds=5.0, coverage=0.8)


def test_batched_windows_predict_what_single_windows_do():
    torch.manual_seed(0)
    aligner = AlignNetAligner(AlignNet())
    rng = np.random.default_rng(0)
    keypoints = [rng.normal(size=(n, 19, 2)).astype(np.float32) for n in (180, 97, 180)]
    logmels = [rng.normal(size=(128, m)).astype(np.float32) for m in (516, 300, 516)]  # two shapes: two passes
    batched = aligner.coords_batch(keypoints, logmels)
    assert [len(c) for c in batched] == [180, 97, 180]
    for k, m, c in zip(keypoints, logmels, batched, strict=True):
        assert np.allclose(aligner.coords(k, m), c, atol=1e-5)


def test_invert_places_input_frames_on_the_audio_timeline():
    forward = np.array([0.0, 2.0, 4.0, 4.0, 5.0])  # input frame j plays at audio frame forward[j]
    source = invert(forward, 8)
    assert source[0] == 0 and source[1] == pytest.approx(0.5) and source[4] == pytest.approx(2.0, abs=1e-4)
    assert source[5] == pytest.approx(4.0) and source[7] == 4  # after the last input frame: held
    assert np.all(np.diff(source) >= 0)


def test_video_at_fps_resamples_any_rate_to_30(tmp_path):
    src = tmp_path / "pal.mp4"
    make_video(src, 2.0, size="160x120", fps=25)
    assert not is_normalised(probe_streams(src, "video", "VIDEO"), 30)
    out = video_at_fps(src, tmp_path / "v30.mp4", 30)
    frames = list(iter_frames(out))
    assert len(frames) == 60 and frames[0].shape == (120, 160, 3)
    assert is_normalised(probe_streams(out, "video", "VIDEO"), 30)  # so align uses such a video as it is


def test_file_names_ffmpeg_would_misread_are_handed_over_as_files(tmp_path, monkeypatch):
    """A relative name starting with "-" is an option to ffmpeg, "take:1" a protocol: both must stay files."""
    make_video(tmp_path / "-take:1.mp4", 1.2, size="160x120", fps=25)
    monkeypatch.chdir(tmp_path)
    src = Path("-take:1.mp4")
    assert probe_streams(src, "video", "VIDEO")["codec_type"] == "video"
    out = video_at_fps(src, Path("-at:30.mp4"), 30)
    assert sum(1 for _ in iter_frames(out, pix_fmt="gray")) == 36
    assert (tmp_path / "-at:30.mp4").is_file()


def test_video_at_fps_gives_anamorphic_video_square_pixels(tmp_path):
    """160x120 stored with 2:1 pixels shows as 320x120: the dancer must not come out squeezed to half their width."""
    src = tmp_path / "anamorphic.mp4"
    anamorphic = ffmpeg.input("testsrc2=size=160x120:rate=30:duration=1", f="lavfi").filter("setsar", 2)
    ffmpeg.output(anamorphic, str(src), vcodec="libx264", pix_fmt="yuv420p").global_args(
        "-loglevel", "error"
    ).overwrite_output().run()
    assert probe_streams(src, "video", "VIDEO")["sample_aspect_ratio"] == "2:1"
    assert not is_normalised(probe_streams(src, "video", "VIDEO"), 30)
    stream = probe_streams(video_at_fps(src, tmp_path / "v30.mp4", 30), "video", "VIDEO")
    assert (stream["width"], stream["height"]) == (320, 120)
    assert stream.get("sample_aspect_ratio", "1:1") in ("1:1", "N/A")


def test_render_shows_the_picked_input_frames(tmp_path):
    """Output frame k shows input frame round(source[k]): input frames whose grey level is 10 x their index + 8,
    passed to the encoder as yuv420p and decoded back."""
    n, width, height = 24, 64, 48
    levels = (10 * np.arange(n) + 8).astype(np.uint8)
    video = tmp_path / "ramp.mp4"
    pipe = ffmpeg.input("pipe:", format="rawvideo", pix_fmt="gray", s=f"{width}x{height}", framerate=30)
    ffmpeg.output(pipe, str(video), vcodec="libx264", crf=10, pix_fmt="yuv420p").global_args(
        "-loglevel", "error"
    ).overwrite_output().run(input=np.repeat(levels, width * height).tobytes())
    planes = list(iter_frames(video, pix_fmt="yuv420p"))
    assert len(planes) == n and planes[0].shape == (height * 3 // 2, width)
    wav = tmp_path / "a.wav"
    wavfile.write(wav, 44100, np.zeros(44100, np.int16))
    source = np.array([0.0, 0.4, 3.6, 4.0, 10.0, 10.2, 23.0, 23.4])
    render(video, source, wav, tmp_path / "out.mp4", progress=False)
    shown = [float(frame.mean()) for frame in iter_frames(tmp_path / "out.mp4", pix_fmt="gray")]
    assert np.allclose(shown, levels[[0, 0, 4, 4, 10, 10, 23, 23]], atol=3)
    with pytest.raises(RuntimeError, match=r"ffmpeg failed .* writing .*bad\.mp4: .*nowhere\.wav"):
        render(video, source, tmp_path / "nowhere.wav", tmp_path / "bad.mp4", progress=False)
    assert not (tmp_path / "bad.mp4").exists()


def test_render_muxes_an_encoded_track_as_it_is(tmp_path):
    """The AAC track `encode_audio` writes (align makes it beside the pose) is copied into the re-timed video:
    the same packets, the video's frames as with the WAV."""
    video = tmp_path / "v.mp4"
    ffmpeg.output(
        ffmpeg.input("testsrc2=size=64x48:rate=30:duration=2", f="lavfi"),
        str(video),
        vcodec="libx264",
        pix_fmt="yuv420p",
    ).global_args("-loglevel", "error").overwrite_output().run()
    wav, track = tmp_path / "a.wav", tmp_path / "a.m4a"
    t = np.arange(88200) / 44100
    wavfile.write(wav, 44100, (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16))
    encode_audio(wav, track)
    source = np.linspace(0, 59, 60)
    render(video, source, track, tmp_path / "copied.mp4", progress=False, encoded_audio=True)
    render(video, source, wav, tmp_path / "encoded.mp4", progress=False)

    def audio_packets(path: Path) -> list[str]:
        probe = ffmpeg.probe(str(path), select_streams="a:0", show_packets=None, show_entries="packet=size,pts")
        return [f"{p['pts']}:{p['size']}" for p in probe["packets"]]

    assert audio_packets(tmp_path / "copied.mp4") == audio_packets(track)
    copied, encoded = (ffmpeg.probe(str(tmp_path / f"{k}.mp4"))["streams"] for k in ("copied", "encoded"))
    assert [s["codec_name"] for s in copied] == [s["codec_name"] for s in encoded] == ["h264", "aac"]
    assert float(copied[1]["duration"]) == pytest.approx(float(encoded[1]["duration"]), abs=0.03)
    assert list(iter_frames(tmp_path / "copied.mp4", pix_fmt="gray"))[-1].mean() == pytest.approx(
        list(iter_frames(tmp_path / "encoded.mp4", pix_fmt="gray"))[-1].mean(), abs=1
    )
    with pytest.raises(RuntimeError, match=r"ffmpeg failed encoding .*nowhere\.wav"):
        encode_audio(tmp_path / "nowhere.wav", tmp_path / "b.m4a")


# --- bad inputs through the CLI ---------------------------------------------------------------


@pytest.fixture(scope="module")
def random_checkpoint(tmp_path_factory) -> Path:
    """An untrained AlignNet whose JSON records the log-mel settings and (made-up) statistics."""
    stem = tmp_path_factory.mktemp("ckpt") / "random"
    prep = Preprocessing(30.0, LogMelConfig(), LogMelStats(np.full(128, -40, np.float32), np.full(128, 20, np.float32)))
    save_checkpoint(stem, AlignNet(), epoch=0, metrics={}, extra={"preprocessing": prep.to_json()})
    return stem


def test_preprocessing_records_the_keypoint_cleaning(tmp_path) -> None:
    stats = LogMelStats(np.zeros(128, np.float32), np.ones(128, np.float32))
    prep = Preprocessing(30.0, LogMelConfig(), stats, 6.0, CleanParams(median_kernel=7))
    stored = json.loads(json.dumps(prep.to_json()))
    assert Preprocessing.from_json(stored, "ckpt.json").clean == CleanParams(median_kernel=7)
    del stored["clean"]  # a checkpoint from before the record: cleaned with the first defaults
    assert Preprocessing.from_json(stored, "ckpt.json").clean == LEGACY_CLEAN_PARAMS
    stats.save(tmp_path / "logmel_stats.npz")
    (tmp_path / "meta.json").write_text(json.dumps({"fps": 30.0}))
    assert Preprocessing.from_dataset(tmp_path).clean == LEGACY_CLEAN_PARAMS
    (tmp_path / "meta.json").write_text(json.dumps({"fps": 30.0, "clean": json.loads(CleanParams().to_json())}))
    assert Preprocessing.from_dataset(tmp_path).clean == CleanParams()
    (tmp_path / "meta.json").write_text(json.dumps({"fps": 30.0, "clean": {"median_kernel": 4}}))
    with pytest.raises(UserInputError, match="malformed clean"):
        Preprocessing.from_dataset(tmp_path)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("media")
    text = folder / "notes.mp4"
    text.write_text("not a video\n")
    make_video(folder / "pattern.mp4", 1.2, size="160x120", fps=30)  # a test pattern and a tone: nobody there
    return {"silent_video": _silent_video(folder / "silent.mp4"), "empty_stage": folder / "pattern.mp4", "text": text}


def _align(tmp_path: Path, video: Path, audio: Path, checkpoint: Path, *extra: str) -> int:
    out = tmp_path / "out.mp4"
    return main(
        [
            "align",
            str(video),
            str(audio),
            "-o",
            str(out),
            "--checkpoint",
            str(checkpoint),
            "--no-progress",
            "--threads",
            "1",
            *extra,
        ]
    )


def test_missing_checkpoint_is_named(tmp_path, media, capsys):
    code = _align(tmp_path, media["empty_stage"], media["empty_stage"], tmp_path / "nope" / "best")
    assert code == EXIT_UNREADABLE
    err = capsys.readouterr().err
    assert "checkpoint not found" in err and str(tmp_path / "nope" / "best.safetensors") in err


@pytest.mark.parametrize("name, message", [(".", "is a directory"), ("out.webm", "must end in .mp4, .m4v")])
def test_an_output_it_cannot_write_is_refused_first(tmp_path, media, random_checkpoint, capsys, name, message):
    out = tmp_path / name
    code = main(
        [
            "align",
            str(media["empty_stage"]),
            str(media["empty_stage"]),
            "-o",
            str(out),
            "--checkpoint",
            str(random_checkpoint),
            "--no-progress",
        ]
    )
    assert code == 2
    assert f"-o {out}" in (err := capsys.readouterr().err) and message in err
    assert "no person" not in err  # before the work, not after it


def test_text_file_as_video(tmp_path, media, random_checkpoint, capsys):
    assert _align(tmp_path, media["text"], media["empty_stage"], random_checkpoint) == EXIT_UNREADABLE
    err = capsys.readouterr().err
    assert "notes.mp4" in err and "not a readable media file" in err
    assert not (tmp_path / "out.mp4").exists()


def test_missing_audio_file(tmp_path, media, random_checkpoint, capsys):
    assert _align(tmp_path, media["empty_stage"], tmp_path / "song.wav", random_checkpoint) == EXIT_UNREADABLE
    assert "AUDIO not found" in capsys.readouterr().err


def test_audio_without_sound(tmp_path, media, random_checkpoint, capsys):
    assert _align(tmp_path, media["empty_stage"], media["silent_video"], random_checkpoint) == EXIT_NO_STREAM
    assert "silent.mp4 has no audio stream" in capsys.readouterr().err


def test_video_without_a_person(tmp_path, media, random_checkpoint, capsys):
    assert _align(tmp_path, media["empty_stage"], media["empty_stage"], random_checkpoint) == EXIT_NO_PERSON
    assert "no person found" in capsys.readouterr().err
    assert not (tmp_path / "out.mp4").exists()


def _cut(src: Path, dst: Path, share: float) -> Path:
    """The first `share` of src's bytes: a download cut short, its header still promising the whole file."""
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * share)])
    return dst


def test_truncated_video_or_audio_is_refused_before_the_pose(tmp_path, media, random_checkpoint, capsys):
    whole = tmp_path / "whole.mp4"  # 4 s, its index in front (as most web videos), so a cut file still opens
    make_video(tmp_path / "tail_index.mp4", 4, size="160x120", fps=30)
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-i",
            str(tmp_path / "tail_index.mp4"),
            "-c",
            "copy",
            "-movflags",
            "+faststart",
            str(whole),
        ],
        check=True,
    )
    cut = _cut(whole, tmp_path / "cut video.mp4", 0.4)
    assert _align(tmp_path, cut, whole, random_checkpoint) == EXIT_UNREADABLE
    err = capsys.readouterr().err
    assert f"VIDEO {cut} decodes to" in err and "announces 4.00 s (truncated or damaged?)" in err
    assert "no person" not in err  # refused before any pose extraction

    assert _align(tmp_path, whole, cut, random_checkpoint) == EXIT_UNREADABLE  # its sound track as AUDIO
    assert f"AUDIO {cut} decodes to" in capsys.readouterr().err
    assert not (tmp_path / "out.mp4").exists()


def test_a_large_overall_speed_change_is_warned_about():
    assert speed_change_warning(10.0, 10.0) is None
    assert speed_change_warning(15.0, 10.0) is None and speed_change_warning(10.0, 15.0) is None  # at the limit
    assert "VIDEO lasts 2.0 s and AUDIO 10.0 s" in speed_change_warning(2.0, 10.0)
    assert "5.0x slower than filmed" in speed_change_warning(2.0, 10.0)
    assert "1.6x faster than filmed" in speed_change_warning(16.0, 10.0)


def test_checkpoint_without_normalisation_asks_for_the_dataset(tmp_path, media, capsys):
    stem = tmp_path / "bare"
    save_checkpoint(stem, AlignNet(), epoch=0, metrics={})
    assert _align(tmp_path, media["empty_stage"], media["empty_stage"], stem) == EXIT_UNREADABLE
    assert "--dataset" in capsys.readouterr().err


# --- end to end on a warped demo video ---------------------------------------------------------


# The demo workflow's AlignNet (`bash scripts/demo.sh` at b373523: the train rule, seed 0, 14 minutes on 2 CPU
# cores, its best validation AFE; four blocks at the finest level), kept for this test. When the model's default
# layout changes, replace it with the demo's new results/train/alignnet/best.*, so the test runs the model the
# workflow trains (an older checkpoint still loads: its config records its layout).
DEMO_CHECKPOINT = Path(__file__).parent / "data" / "demo_alignnet" / "best"


@pytest.fixture(scope="module")
def trained() -> Path:
    """$ALIGNNET_ALIGN_CHECKPOINT when set, else the demo-trained checkpoint kept in tests/data."""
    stem = os.environ.get("ALIGNNET_ALIGN_CHECKPOINT")
    return Path(stem).with_suffix("") if stem else DEMO_CHECKPOINT


@pytest.fixture(scope="module")
def aligned(tmp_path_factory, trained) -> list[dict]:
    """`alignnet align` of three 10-second warped demo videos onto their own music (benchmarks/align_accuracy.py's
    default videos); the first also writes the side-by-side."""
    folder = tmp_path_factory.mktemp("e2e")
    subprocess.run(
        [
            "alignnet",
            "synth",
            str(folder),
            "--videos",
            "3",
            "--seconds",
            "10",
            "--warp",
            "--seed",
            "5",
            "--negatives",
            "0",
            "--no-progress",
        ],
        check=True,
    )
    runs = []
    for index, video in enumerate(sorted(folder.glob("demo-*.mp4"))):
        out, csv, cmp = (folder / f"{video.stem}.{kind}" for kind in ("out.mp4", "csv", "cmp.mp4"))
        argv = [
            "align",
            str(video),
            str(video),
            "-o",
            str(out),
            "--checkpoint",
            str(trained),
            "--correspondence",
            str(csv),
            "--no-progress",
            "--threads",
            "1",
        ]
        assert main(argv + (["--side-by-side", str(cmp)] if index == 0 else [])) == 0
        runs.append({"out": out, "csv": csv, "cmp": cmp, "sidecar": json.loads(video.with_suffix(".json").read_text())})
    return runs


def _video_stream(path: Path) -> dict:
    streams = ffmpeg.probe(str(path), count_frames=None)["streams"]
    assert {s["codec_type"] for s in streams} == {"video", "audio"}
    return next(s for s in streams if s["codec_type"] == "video")


def test_align_recovers_the_warps_of_demo_videos(aligned):
    """The re-timing shows at every output frame the input frame the warp placed there: AFE < 1.5 frames and
    ITU-R BT.1359 accuracy >= 90 % over the three videos."""
    pred = np.concatenate([pd.read_csv(run["csv"])["source_frame"].to_numpy(np.float64) for run in aligned])
    truth = np.concatenate([retimed_truth(run["sidecar"]["source_frame"]) for run in aligned])
    assert afe(pred, truth) < 1.5
    errors = np.concatenate(
        [
            retiming_errors(
                pd.read_csv(run["csv"])["source_frame"].to_numpy(np.float64),
                retimed_truth(run["sidecar"]["source_frame"]),
            )
            for run in aligned
        ]
    )
    assert retiming_itu_accuracy(errors, FPS) >= 0.9


def test_align_writes_the_retimed_video_and_the_csv(aligned):
    first = aligned[0]
    table = pd.read_csv(first["csv"])
    n = first["sidecar"]["n_frames"]
    assert list(table.columns) == ["frame", "source_frame"] and len(table) == n
    assert np.all(np.diff(table["source_frame"]) >= 0)
    assert table["source_frame"].between(0, n - 1).all()
    video = _video_stream(first["out"])
    assert video["avg_frame_rate"] == "30/1" and int(video["nb_read_frames"]) == n
    compare = _video_stream(first["cmp"])
    assert int(compare["width"]) == 2 * int(video["width"]) and int(compare["nb_read_frames"]) == n


def test_align_writes_a_confident_alignment_beside_the_csv(aligned):
    """The dances follow their own music: C.confidence.json says so for every video."""
    for run in aligned:
        record = json.loads(confidence_path(run["csv"]).read_text())
        assert record["low_confidence"] is False and record["confidence"] >= record["threshold"] == LOW_CONFIDENCE
        assert record["prior"] == "global" and record["answer"] == "windows"  # the windows refined the path


# --- the pose backend of the training data (#35 item 7) ---------------------------------------


@pytest.fixture(scope="module")
def openpose_checkpoint(tmp_path_factory) -> Path:
    """An untrained AlignNet whose training data, its JSON says, came from OpenPose."""
    stem = tmp_path_factory.mktemp("ckpt") / "openpose"
    stats = LogMelStats(np.full(128, -40, np.float32), np.full(128, 20, np.float32))
    prep = Preprocessing(30.0, LogMelConfig(), stats, pose_backend="openpose")
    assert Preprocessing.from_json(json.loads(json.dumps(prep.to_json())), "x").pose_backend == "openpose"
    save_checkpoint(stem, AlignNet(), epoch=0, metrics={}, extra={"preprocessing": prep.to_json()})
    return stem


def test_align_runs_the_pose_backend_of_the_training_data(tmp_path, media, openpose_checkpoint, capsys, caplog):
    video = media["empty_stage"]
    assert _align(tmp_path, video, video, openpose_checkpoint) == 2  # OpenPose, and no model folder given
    assert "--pose-backend openpose needs --model-folder" in capsys.readouterr().err
    models = stand_in_models(tmp_path / "models")
    openpose = ["--model-folder", str(models), "--python-path", str(STAND_IN), "--net-resolution=-1x256"]
    assert _align(tmp_path, video, video, openpose_checkpoint, *openpose) == EXIT_NO_PERSON
    from openpose import pyopenpose

    used = pyopenpose.CONFIGURED[-1]
    assert (used["model_folder"], used["net_resolution"]) == (str(models), "-1x256")
    assert pyopenpose.INPUTS[-1][0] == (120, 160, 3), "full frames"
    configured = len(pyopenpose.CONFIGURED)
    with caplog.at_level(logging.WARNING, logger="alignnet.align.pipeline"):
        assert _align(tmp_path, video, video, openpose_checkpoint, "--pose-backend", "mediapipe") == EXIT_NO_PERSON
    assert "--pose-backend mediapipe, but" in caplog.text and "trained on openpose keypoints" in caplog.text
    assert len(pyopenpose.CONFIGURED) == configured, "MediaPipe ran, not OpenPose"
