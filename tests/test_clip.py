"""The clip stage on real videos rendered here: every frame carries its own number.

Source frames show a 12-bit code (black/white blocks, robust to H.264); flash
frames have a white bottom band, and the audio has a noise-burst click at the
same instant. Decoding the normalised video.mp4 tells which source frame
landed where; cross-correlating audio.wav with the click tells A/V sync.
"""

from __future__ import annotations

import json
from pathlib import Path

import ffmpeg
import numpy as np
import pandas as pd
import pytest
import soundfile

from alignnet.cli import main
from alignnet.data.clips import (
    ClipConfig,
    clip_frame_range,
    clip_table,
    clip_video,
    load_clip_table,
    read_clip_audio,
)
from alignnet.errors import UserInputError
from alignnet.stage_status import StageStatus
from alignnet.video_frames import iter_frames

W, H = 160, 120
SR = 44100
COLS, ROWS, BLOCK_W, BLOCK_H = 6, 2, 26, 40  # 12 code blocks in the top 80 rows
FLASH_ROWS = slice(90, 120)
CLICK = np.random.default_rng(0).uniform(-0.8, 0.8, 441).astype(np.float32)  # 10 ms noise burst


def code_frame(code: int, flash: bool = False, width: int = W, height: int = H) -> np.ndarray:
    frame = np.zeros((height, width, 3), np.uint8)
    for bit in range(COLS * ROWS):
        if code >> bit & 1:
            row, col = divmod(bit, COLS)
            frame[row * BLOCK_H : (row + 1) * BLOCK_H, col * BLOCK_W : (col + 1) * BLOCK_W] = 255
    if flash:
        frame[FLASH_ROWS] = 255
    return frame


def read_code(frame: np.ndarray) -> int:
    code = 0
    for bit in range(COLS * ROWS):
        row, col = divmod(bit, COLS)
        block = frame[row * BLOCK_H + 8 : (row + 1) * BLOCK_H - 8, col * BLOCK_W + 6 : (col + 1) * BLOCK_W - 6]
        code |= int(block.mean() > 128) << bit
    return code


def is_flash(frame: np.ndarray) -> bool:
    return bool(frame[FLASH_ROWS].mean() > 128)


def click_track(seconds: float, click_times: list[float]) -> np.ndarray:
    audio = np.zeros(round(seconds * SR), np.float32)
    for t in click_times:
        start = round(t * SR)
        audio[start : start + len(CLICK)] = CLICK
    return audio


def render(
    path: Path,
    frames: list[np.ndarray],
    rate: float,
    audio: np.ndarray | None,
    *,
    video_filters: list[tuple[str, tuple, dict]] = (),
    audio_delay: float = 0.0,
    video_delay: float = 0.0,
    output_args: dict | None = None,
) -> Path:
    """Encode frames (at `rate`, then `video_filters`) and audio into an mp4 (H.264 + AAC)."""
    height, width = frames[0].shape[:2]
    video = ffmpeg.input(
        "pipe:", format="rawvideo", pix_fmt="rgb24", s=f"{width}x{height}", framerate=rate, itsoffset=video_delay
    )
    for name, args, kwargs in video_filters:
        video = video.filter(name, *args, **kwargs)
    streams = [video]
    if audio is not None:
        wav = path.with_suffix(".src.wav")
        soundfile.write(wav, audio, SR)
        streams.append(ffmpeg.input(str(wav), itsoffset=audio_delay).audio)
    args = {
        "vcodec": "libx264",
        "pix_fmt": "yuv420p",
        "acodec": "aac",
        "audio_bitrate": "192k",
        "fps_mode": "passthrough",
        **(output_args or {}),
    }
    (
        ffmpeg.output(*streams, str(path), **args)
        .global_args("-loglevel", "error")
        .overwrite_output()
        .run(input=np.stack(frames).tobytes())
    )
    return path


def decoded(clipdir: Path) -> tuple[list[int], list[int], np.ndarray]:
    """Codes of every frame of video.mp4, indices of its flash frames and the audio.wav samples."""
    codes, flashes = [], []
    for j, frame in enumerate(iter_frames(clipdir / "video.mp4")):
        codes.append(read_code(frame))
        if is_flash(frame):
            flashes.append(j)
    audio, sr = soundfile.read(clipdir / "audio.wav", dtype="float32")
    assert sr == SR and audio.ndim == 1
    return codes, flashes, audio


def click_onset(audio: np.ndarray, near: float) -> float:
    """Time (s) where the click starts in `audio`, searched within 50 ms of `near`."""
    lo = max(0, round((near - 0.05) * SR))
    window = audio[lo : round((near + 0.05) * SR) + len(CLICK)]
    corr = np.correlate(window, CLICK, mode="valid")
    return (lo + int(np.argmax(corr))) / SR


def assert_synced(clipdir: Path, fps: int = 30) -> None:
    """Every flash run's first frame is within 1 ms of a click onset in the audio."""
    _, flashes, audio = decoded(clipdir)
    starts = [j for j in flashes if j - 1 not in flashes]
    assert starts, "no flash frame in the output"
    for j in starts:
        assert abs(click_onset(audio, j / fps) - j / fps) < 0.001, f"click off flash frame {j}"


def clip_cli(src: Path, outdir: Path, *options: str) -> StageStatus:
    assert main(["clip", str(src), "-o", str(outdir), *options]) == 0
    status = StageStatus.read(outdir)
    assert status is not None
    return status


def probe_streams(path: Path) -> list[dict]:
    return ffmpeg.probe(str(path))["streams"]


def test_30fps_six_second_clips_are_frame_exact(tmp_path: Path) -> None:
    n = 375  # 12.5 s: two whole 6-second clips
    flash_frames = {30, 240}
    frames = [code_frame(i, i in flash_frames) for i in range(n)]
    src = render(tmp_path / "dänce \"q\" 'x' 舞.mp4", frames, 30, click_track(n / 30, [f / 30 for f in flash_frames]))
    out = tmp_path / "out dir ü"

    status = clip_cli(src, out)

    assert status.ok and status.stage == "clip"
    table = load_clip_table(out / "clips.tsv")
    assert list(table.columns) == ["clip_index", "start_frame", "n_frames", "start_sample", "n_samples", "start_time"]
    assert table["start_frame"].tolist() == [0, 180] and table["n_frames"].tolist() == [180, 180]
    assert table["start_sample"].tolist() == [0, 264600] and table["n_samples"].tolist() == [264600, 264600]
    codes, flashes, _ = decoded(out)
    for k in range(2):
        assert [codes[j] for j in clip_frame_range(out, k)] == [k * 180 + i for i in range(180)]
    assert flashes == sorted(flash_frames)
    assert_synced(out)
    assert read_clip_audio(out, 1).shape == (264600,)
    (video,) = probe_streams(out / "video.mp4")  # no audio track
    assert (video["codec_name"], video["pix_fmt"], video["r_frame_rate"]) == ("h264", "yuv420p", "30/1")
    assert (video["width"], video["height"]) == (W, H)
    (audio,) = probe_streams(out / "audio.wav")
    assert (audio["sample_rate"], audio["channels"]) == ("44100", 1)


@pytest.mark.parametrize("rate", [25, 60])
def test_other_frame_rates_take_the_nearest_source_frame(tmp_path: Path, rate: int) -> None:
    n = round(2.5 * rate)
    flash_frames = {rate, 2 * rate}  # t = 1 s and 2 s: whole frames at 25, 30 and 60 fps
    frames = [code_frame(i, i in flash_frames) for i in range(n)]
    src = render(tmp_path / f"in{rate}.mp4", frames, rate, click_track(2.5, [1.0, 2.0]))
    out = tmp_path / "out"

    assert clip_cli(src, out, "--clip-seconds", "1").ok

    codes, _, _ = decoded(out)
    assert len(load_clip_table(out / "clips.tsv")) == 2
    assert abs(len(codes) - 75) <= 1
    times = np.array(codes) / rate - np.arange(len(codes)) / 30
    assert np.all(np.abs(times) <= 1 / rate + 1e-6), times
    assert np.all(np.diff(codes) >= 0)
    if rate == 60:
        assert codes == [2 * j for j in range(len(codes))]
    assert_synced(out)


def test_variable_frame_rate(tmp_path: Path) -> None:
    # 60 ticks/s, code = tick; 60 fps for 1 s, then 20 fps, then 30 fps with +-3 ms timestamp jitter.
    keep = "lt(n,60)+between(n,60,119)*not(mod(n,3))+gte(n,120)*not(mod(n,2))"
    jitter = "(PTS*TB+gte(PTS*TB,2)*0.003*sin(N*2.1))/TB"
    frames = [code_frame(i, i == 60) for i in range(180)]
    src = render(
        tmp_path / "vfr.mp4",
        frames,
        60,
        click_track(3.0, [1.0]),
        video_filters=[("select", (keep,), {}), ("settb", ("1/90000",), {}), ("setpts", (jitter,), {})],
        output_args={"fps_mode": "vfr", "video_track_timescale": 90000},
    )
    source = next(s for s in probe_streams(src) if s["codec_type"] == "video")
    assert int(source["nb_frames"]) == 60 + 20 + 30
    out = tmp_path / "out"

    assert clip_cli(src, out, "--clip-seconds", "1").ok

    codes, _, _ = decoded(out)
    assert abs(len(codes) - 90) <= 1
    assert np.all(np.diff(codes) >= 0)
    error = np.array(codes) / 60 - np.arange(len(codes)) / 30
    assert np.all(np.abs(error) <= 1 / 20 + 0.004), error
    assert codes[30] == 60
    assert_synced(out)


@pytest.mark.parametrize(("audio_delay", "video_delay"), [(0.5, 0.0), (0.0, 0.4)])
def test_audio_starting_after_or_before_video_is_aligned(
    tmp_path: Path, audio_delay: float, video_delay: float
) -> None:
    # Source timeline: video frame i at video_delay + i/30, audio sample s at audio_delay + s/SR.
    flash_frames = {36, 66}
    frames = [code_frame(i, i in flash_frames) for i in range(90)]
    clicks = [video_delay + f / 30 - audio_delay for f in flash_frames]
    src = render(
        tmp_path / "offset.mp4", frames, 30, click_track(3.5, clicks), audio_delay=audio_delay, video_delay=video_delay
    )
    starts = {s["codec_type"]: float(s["start_time"]) for s in probe_streams(src)}
    assert starts["video"] - starts["audio"] == pytest.approx(video_delay - audio_delay, abs=0.03)
    out = tmp_path / "out"

    assert clip_cli(src, out, "--clip-seconds", "1").ok

    codes, flashes, _ = decoded(out)
    assert codes[:60] == list(range(60))
    assert flashes == sorted(flash_frames)
    assert_synced(out)
    media = json.loads((out / "media.json").read_text())
    assert media["audio_offset"] == pytest.approx(audio_delay - video_delay, abs=0.03)


def test_rotated_phone_video_is_turned_upright(tmp_path: Path) -> None:
    stored = code_frame(0)
    stored[:20, :20] = 255  # corner marker, top-left as stored
    frames = [stored] * 45
    plain = render(tmp_path / "plain.mp4", frames, 30, click_track(1.5, []))
    src = tmp_path / "rotated.mp4"
    ffmpeg.input(str(plain)).output(str(src), c="copy", **{"metadata:s:v:0": "rotate=90"}).global_args(
        "-loglevel", "error"
    ).run()
    source = next(s for s in probe_streams(src) if s["codec_type"] == "video")
    rotation = int(source["side_data_list"][0]["rotation"])  # counter-clockwise degrees
    assert (source["width"], source["height"]) == (W, H) and rotation in (90, -90, 270)
    out = tmp_path / "out"

    assert clip_cli(src, out, "--clip-seconds", "1").ok

    (video,) = probe_streams(out / "video.mp4")
    assert (video["width"], video["height"]) == (H, W)
    assert not video.get("side_data_list") and "rotate" not in video.get("tags", {})
    frame = next(iter_frames(out / "video.mp4")).astype(float)
    expected = np.rot90(stored, k=rotation // 90).astype(float)
    wrong = np.rot90(stored, k=-rotation // 90).astype(float)
    assert np.abs(frame - expected).mean() < 8 < np.abs(frame - wrong).mean()


def test_odd_size_becomes_even_and_tall_video_is_downscaled(tmp_path: Path) -> None:
    frames = [code_frame(i, width=853, height=481) for i in range(36)]
    odd = tmp_path / "odd.mkv"  # ffv1 keeps the odd size (H.264 4:2:0 cannot)
    wav = tmp_path / "odd.wav"
    soundfile.write(wav, click_track(1.2, []), SR)
    video = ffmpeg.input("pipe:", format="rawvideo", pix_fmt="rgb24", s="853x481", framerate=30)
    ffmpeg.output(video, ffmpeg.input(str(wav)), str(odd), vcodec="ffv1", acodec="pcm_s16le").global_args(
        "-loglevel", "error"
    ).run(input=np.stack(frames).tobytes())
    (source, _) = probe_streams(odd)
    assert (source["width"], source["height"]) == (853, 481)

    assert clip_cli(odd, tmp_path / "even", "--clip-seconds", "1").ok
    assert clip_cli(odd, tmp_path / "small", "--clip-seconds", "1", "--max-height", "241").ok

    assert [(s["width"], s["height"]) for s in probe_streams(tmp_path / "even" / "video.mp4")] == [(852, 480)]
    assert [(s["width"], s["height"]) for s in probe_streams(tmp_path / "small" / "video.mp4")] == [(426, 240)]
    codes, _, _ = decoded(tmp_path / "even")
    assert codes[:30] == list(range(30))


def _failing_inputs(tmp_path: Path) -> dict[str, Path]:
    frames = [code_frame(i) for i in range(45)]
    good = render(tmp_path / "good.mp4", frames, 30, click_track(1.5, []))
    faststart = render(
        tmp_path / "faststart.mp4",
        [code_frame(i) for i in range(150)],
        30,
        click_track(5.0, []),
        output_args={"movflags": "+faststart"},
    )
    data = good.read_bytes()
    inputs = {
        "empty": tmp_path / "empty.mp4",
        "truncated": tmp_path / "truncated.mp4",
        "truncated_faststart": tmp_path / "truncated_faststart.mp4",
        "garbage": tmp_path / "garbage.mp4",
        "audio_only": tmp_path / "audio_only.m4a",
        "no_audio": render(tmp_path / "no_audio.mp4", frames, 30, None),
        "too_short": render(tmp_path / "short.mp4", frames[:20], 30, click_track(0.7, [])),
    }
    inputs["empty"].write_bytes(b"")
    inputs["truncated"].write_bytes(data[: len(data) // 2])
    inputs["truncated_faststart"].write_bytes(faststart.read_bytes()[: faststart.stat().st_size // 3])
    inputs["garbage"].write_bytes(np.random.default_rng(1).bytes(20000))
    ffmpeg.input(str(good)).output(str(inputs["audio_only"]), vn=None, acodec="copy").global_args(
        "-loglevel", "error"
    ).run()
    return inputs


def test_bad_inputs_record_a_reason_and_exit_zero(tmp_path: Path) -> None:
    expected = {
        "empty": "corrupt_file",
        "truncated": "corrupt_file",
        "truncated_faststart": "corrupt_file",
        "garbage": "corrupt_file",
        "audio_only": "no_video_stream",
        "no_audio": "no_audio_stream",
        "too_short": "too_short",
    }
    inputs = _failing_inputs(tmp_path)
    for name, reason in expected.items():
        out = tmp_path / f"out_{name}"
        status = clip_cli(inputs[name], out, "--clip-seconds", "1")
        assert (status.stage, status.ok, status.reason) == ("clip", False, reason), (name, status)
        assert sorted(p.name for p in out.iterdir()) == ["status.json"], name


def test_upstream_failure_and_missing_input(tmp_path: Path) -> None:
    download = tmp_path / "download"
    download.mkdir()
    StageStatus("download", False, "http_error", "HTTP 404").write(download)

    status = clip_cli(download / "video.mp4", tmp_path / "out")
    assert (status.stage, status.ok, status.reason, status.origin) == ("clip", False, "http_error", "download")
    assert status.detail == "HTTP 404"

    with pytest.raises(UserInputError, match="nowhere.mp4"):
        clip_video(tmp_path / "nowhere.mp4", tmp_path / "out2", ClipConfig())
    assert main(["clip", str(tmp_path / "nowhere.mp4"), "-o", str(tmp_path / "out3")]) == 2


def test_clip_table_whole_clips_hop_and_shorter_audio() -> None:
    cfg = ClipConfig(clip_seconds=6, hop_seconds=3)
    table = clip_table(n_frames=600, n_samples=20 * SR, cfg=cfg)
    assert table["start_frame"].tolist() == [0, 90, 180, 270, 360]  # 360 + 180 <= 600 < 450 + 180
    assert table["start_sample"].tolist() == [0, 132300, 264600, 396900, 529200]
    assert table["start_time"].tolist() == [0.0, 3.0, 6.0, 9.0, 12.0]
    short_audio = clip_table(n_frames=600, n_samples=10 * SR, cfg=cfg)
    assert short_audio["start_frame"].tolist() == [0, 90]
    assert clip_table(n_frames=179, n_samples=10 * SR, cfg=ClipConfig()).empty
    assert isinstance(table, pd.DataFrame)
    with pytest.raises(UserInputError, match="clip_seconds"):
        ClipConfig(clip_seconds=0.01)


def test_clip_table_inside_spans_only() -> None:
    cfg = ClipConfig(fps=25, sample_rate=16000, clip_seconds=4)  # 100 frames, 64000 samples
    spans = [(13.0, 21.5), (1.02, 6.0), (2.0, 4.0), (30.0, 33.0)]  # unsorted; one inside another; one too short
    table = clip_table(n_frames=1000, n_samples=40 * 16000, cfg=cfg, spans=spans)
    # (1.02, 6.0): frames 26..150 hold one clip from frame 26 (next would end at 226 > 150);
    # (2.0, 4.0) overlaps it and holds none; (13, 21.5): frames 325..537 hold 325 and 425.
    assert table["start_frame"].tolist() == [26, 325, 425]
    assert table["start_sample"].tolist() == [26 * 640, 325 * 640, 425 * 640]
    assert table["clip_index"].tolist() == [0, 1, 2]
    # Overlapping spans never give overlapping clips; the audio's end bounds them too.
    overlapping = clip_table(n_frames=1000, n_samples=40 * 16000, cfg=cfg, spans=[(0.0, 10.0), (2.0, 12.0)])
    assert overlapping["start_frame"].tolist() == [0, 100, 200]  # the second span starts after the first's last clip
    short_audio = clip_table(n_frames=1000, n_samples=int(14.5 * 16000), cfg=cfg, spans=[(8.0, 30.0)])
    assert short_audio["start_frame"].tolist() == [200]  # 300 + 100 frames would need audio to 16 s
    # No spans: the whole video, as before.
    assert clip_table(1000, 40 * 16000, cfg, spans=None).equals(clip_table(1000, 40 * 16000, cfg))
    assert clip_table(1000, 40 * 16000, cfg, spans=[]).empty
