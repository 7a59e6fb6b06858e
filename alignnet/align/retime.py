"""Place a video's frames on an audio's timeline and write the result with the new audio.

The alignment gives a non-decreasing map `forward` (n_in,): input frame j
(30 fps) belongs at audio time forward[j] / fps. Output frame k plays at audio
time k / fps and shows the input frame whose predicted time is k / fps:
source[k] = forward^-1(k) (np.interp). Before the first and after the last
input frame's time the first / last frame is held.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from pathlib import Path

import ffmpeg
import numpy as np
import pandas as pd
from tqdm import tqdm

from alignnet.atomic import atomic_output
from alignnet.data.media import count_frames
from alignnet.ffmpeg_paths import ffmpeg_path
from alignnet.video_frames import ffmpeg_finish, iter_frames, probe_size

_TIE_BREAK = 1e-6  # frames: makes a flat stretch of `forward` strictly increasing for np.interp


def invert(forward: np.ndarray, n_out: int) -> np.ndarray:
    """(n_out,) input frame (float) shown at each output frame k, from forward (n_in,) audio-time frames."""
    forward = np.asarray(forward, np.float64)
    strictly = np.maximum.accumulate(forward) + _TIE_BREAK * np.arange(len(forward))
    return np.interp(np.arange(n_out, dtype=np.float64), strictly, np.arange(len(forward), dtype=np.float64))


def write_correspondence(path: str | os.PathLike[str], source: np.ndarray) -> None:
    """CSV with columns frame (output frame, at 30 fps on the audio's timeline), source_frame (input frame shown)."""
    table = pd.DataFrame({"frame": np.arange(len(source)), "source_frame": np.round(source, 3)})
    with atomic_output(path) as tmp:
        table.to_csv(tmp, index=False)


def confidence_path(correspondence: str | os.PathLike[str]) -> Path:
    """The JSON beside the correspondence CSV that holds the alignment's confidence: C.csv -> C.confidence.json."""
    return Path(correspondence).with_suffix(".confidence.json")


def write_confidence(
    path: str | os.PathLike[str], confidence: float, threshold: float, prior: str, answer: str = "windows"
) -> None:
    """JSON {confidence, low_confidence, threshold, prior, answer}: how far the alignment stands out of the model's
    affinity (`alignnet.align.global_path.path_confidence`); low_confidence: below `threshold`, the dance
    probably does not match the audio; answer: "windows" or "global path" (`alignnet.align.pipeline.alignment`)."""
    record = {
        "confidence": round(float(confidence), 3),
        "low_confidence": bool(confidence < threshold),
        "threshold": threshold,
        "prior": prior,
        "answer": answer,
    }
    with atomic_output(path) as tmp:
        Path(tmp).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


# Frames pass from the decoder to the encoder in the encoder's own pixel format: no colour conversion either way
# (a third less time than RGB on a 3-minute 640x360 video, and no rounding of the colours).
_RENDER_PIX_FMT = "yuv420p"
# x264 at the quality the normalised clips and the side-by-side are written at: on 60 s of a 640x360 demo video, 2.9 s
# and 3.2 MB against 3.5 s and 4.3 MB at crf 18 (veryfast on 2 cores; the encoder is most of a render's time).
_RENDER_CRF = 20
# x264's veryfast with its fastest motion search (diamond, one subpixel pass): on 60 s of a 640x360 demo video 2.6 s
# against 3.6-3.9 s for veryfast alone, the same size, 0.26 dB less PSNR (47.27 against 47.53); on 20 s of noisy,
# moving test patterns 6 % larger at 0.09 dB more, and 2 % smaller at 0.05 dB less. The encoder is what align adds
# to the pose's time.
_RENDER_X264 = {"preset": "veryfast", "x264-params": "me=dia:subme=1"}
# ffmpeg's AAC encoder with its fast coder: 1.5 s against 3.6 s for the default (twoloop) on 3 minutes of mono
# music, in the encoder's one thread that also feeds x264; at 192 kbit/s the two sound alike.
_AAC_OPTIONS = {"acodec": "aac", "aac_coder": "fast", "audio_bitrate": "192k"}


def encode_audio(wav: str | os.PathLike[str], track: str | os.PathLike[str]) -> None:
    """Write `track` (.m4a): `wav`'s first audio stream as the AAC track a re-timed video carries.

    `render(..., encoded_audio=True)` muxes it as it is; `alignnet align` encodes it beside the pose.
    """
    command = ffmpeg.output(ffmpeg.input(ffmpeg_path(wav))["a:0"], ffmpeg_path(track), **_AAC_OPTIONS)
    try:
        command.global_args("-nostdin", "-loglevel", "error").overwrite_output().run(capture_stderr=True)
    except ffmpeg.Error as exc:
        message = exc.stderr.decode(errors="replace").strip() if exc.stderr else "no message"
        raise RuntimeError(f"ffmpeg failed encoding {wav} to {track}: {message}") from exc


def _encoder(path: Path, width: int, height: int, fps: float, audio: Path, encoded_audio: bool) -> subprocess.Popen:
    """ffmpeg reading raw yuv420p frames on stdin, muxing `audio` (AAC-encoded, or copied if `encoded_audio`),
    writing `path`."""
    video = ffmpeg.input("pipe:", format="rawvideo", pix_fmt=_RENDER_PIX_FMT, s=f"{width}x{height}", framerate=fps)
    audio_options = {"acodec": "copy"} if encoded_audio else _AAC_OPTIONS
    out = ffmpeg.output(
        video,
        ffmpeg.input(ffmpeg_path(audio))["a:0"],
        ffmpeg_path(path),
        vcodec="libx264",
        crf=_RENDER_CRF,
        pix_fmt="yuv420p",
        movflags="+faststart",
        **_RENDER_X264,
        **audio_options,
    )
    return (
        out.global_args("-nostdin", "-loglevel", "error")  # errors only: a stderr pipe nobody reads until the end
        .overwrite_output()
        .run_async(pipe_stdin=True, pipe_stderr=True)
    )


def render(
    video: str | os.PathLike[str],
    source: np.ndarray,
    audio: str | os.PathLike[str],
    out: str | os.PathLike[str],
    fps: float = 30,
    progress: bool = True,
    encoded_audio: bool = False,
) -> None:
    """Write `out`: output frame k = frame round(source[k]) of `video` (constant fps), audio from `audio`
    (a WAV encoded here, or with `encoded_audio` the track `encode_audio` wrote, muxed as it is).

    `source` must be non-decreasing (from `invert`): the video is decoded once, in order. Its size must be
    even (yuv420p), as `video_at_fps` writes it.
    """
    width, height = probe_size(video)
    picks = np.rint(np.maximum.accumulate(np.asarray(source, np.float64))).astype(np.int64)
    bar = tqdm(total=len(picks), desc="render", unit="frame", disable=not progress)
    with atomic_output(out) as tmp, bar:
        proc = _encoder(Path(tmp), width, height, fps, Path(audio), encoded_audio)
        k, frame, stopped = 0, None, False
        try:
            for j, frame in enumerate(iter_frames(video, pix_fmt=_RENDER_PIX_FMT)):
                while k < len(picks) and picks[k] <= j:
                    proc.stdin.write(frame.data)  # the decoder's buffer itself, no copy
                    k += 1
                    bar.update()
                if k == len(picks):
                    break
            if frame is None:
                raise RuntimeError(f"no frame could be decoded from {video}")
            for _ in range(k, len(picks)):  # the video ended early: hold its last frame
                proc.stdin.write(frame.data)
                bar.update()
        except BrokenPipeError:
            stopped = True  # the encoder quit: its message is reported below
        finally:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
            code, message = ffmpeg_finish(proc)
        if code != 0 or stopped:
            raise RuntimeError(f"ffmpeg failed (exit {code}) writing {out}: {message or 'no message'}")


def side_by_side(
    original: str | os.PathLike[str], retimed: str | os.PathLike[str], out: str | os.PathLike[str], fps: float = 30
) -> None:
    """Write `out`: `original` played straight (last frame held) left, `retimed` right, `retimed`'s audio.

    The left half is the "direct combination" of the paper's user study: the
    dance as filmed against the new music.
    """
    width, height = probe_size(retimed)
    n_frames = count_frames(retimed)
    left = (
        ffmpeg.input(ffmpeg_path(original))["v:0"]
        .filter("tpad", stop_mode="clone", stop_duration=n_frames / fps)
        .filter("scale", width, height)
        .filter("setsar", 1)
    )
    right = ffmpeg.input(ffmpeg_path(retimed))
    stacked = ffmpeg.filter([left, right["v:0"].filter("setsar", 1)], "hstack", inputs=2, shortest=1)
    with atomic_output(out) as tmp:
        command = ffmpeg.output(
            stacked,
            right["a:0"],
            ffmpeg_path(tmp),
            vcodec="libx264",
            crf=20,
            preset="veryfast",
            pix_fmt="yuv420p",
            acodec="copy",
            **{"frames:v": n_frames},
        )
        command.global_args("-nostdin", "-loglevel", "error").overwrite_output().run(capture_stderr=True)
