"""The user's files for `alignnet align`: check them, bring the video to 30 fps, decode the audio.

Every problem becomes a UserInputError naming the file, with the exit codes
of `alignnet.align` (EXIT_UNREADABLE, EXIT_NO_STREAM).
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg
import numpy as np
import soundfile

from alignnet.align import EXIT_NO_STREAM, EXIT_UNREADABLE
from alignnet.errors import UserInputError
from alignnet.ffmpeg_paths import ffmpeg_path
from alignnet.video_frames import decoded_in_full


def _ffmpeg_message(exc: ffmpeg.Error) -> str:
    lines = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
    return " / ".join(lines[-2:]) or str(exc)


def probe_streams(path: Path, kind: str, role: str) -> dict[str, Any]:
    """The first `kind` ("video" or "audio") stream of `path` as ffprobe reports it.

    Its "duration" (seconds, a string as ffprobe writes it) is the
    container's where the stream announces none (Matroska, WebM). role names
    the argument in messages ("VIDEO", "AUDIO"). Raises UserInputError:
    missing or unreadable file (EXIT_UNREADABLE), no such stream (EXIT_NO_STREAM).
    """
    if not path.is_file():
        raise UserInputError(f"{role} not found: {path}", EXIT_UNREADABLE)
    try:
        info = ffmpeg.probe(ffmpeg_path(path))
    except ffmpeg.Error as exc:
        message = f"{role} {path} is not a readable media file ({_ffmpeg_message(exc)})"
        raise UserInputError(message, EXIT_UNREADABLE) from exc
    streams = info.get("streams", [])
    found = [s for s in streams if s.get("codec_type") == kind and not s.get("disposition", {}).get("attached_pic")]
    if not found:
        raise UserInputError(f"{role} {path} has no {kind} stream", EXIT_NO_STREAM)
    stream = dict(found[0])
    stream.setdefault("duration", info.get("format", {}).get("duration", "0"))
    return stream


def check_decoded(role: str, path: Path, decoded_seconds: float, stream: dict[str, Any]) -> None:
    """UserInputError (EXIT_UNREADABLE) when `path` decodes to clearly less than its `stream` (from
    `probe_streams`) announces: a cut download or a damaged file, which would be re-timed as a shorter one."""
    try:
        announced = float(stream.get("duration") or 0)
    except ValueError:  # "N/A"
        announced = 0.0
    if not decoded_in_full(decoded_seconds, announced):
        raise UserInputError(
            f"{role} {path} decodes to {decoded_seconds:.2f} s where its container announces {announced:.2f} s "
            "(truncated or damaged?)",
            EXIT_UNREADABLE,
        )


# Containers that hold what `alignnet.align.retime` writes (H.264 video, AAC sound).
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv")


def check_output(path: Path, option: str, suffixes: tuple[str, ...] | None = None) -> None:
    """UserInputError (exit 2) for an output path that cannot be written as asked, before any work is done:
    an existing directory, or (suffixes given) a file name whose suffix is not one of them."""
    if path.is_dir():
        raise UserInputError(f"{option} {path} is a directory; give a file name")
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise UserInputError(
            f"{option} {path}: the file name must end in {', '.join(suffixes)} (H.264 video with AAC sound)"
        )


def _run(command: Any, role: str, path: Path) -> None:
    try:
        command.global_args("-nostdin", "-loglevel", "error").overwrite_output().run(
            capture_stdout=True, capture_stderr=True
        )
    except ffmpeg.Error as exc:
        raise UserInputError(f"{role} {path} cannot be decoded ({_ffmpeg_message(exc)})", EXIT_UNREADABLE) from exc


def is_normalised(stream: dict[str, Any], fps: float, max_height: int = 720) -> bool:
    """Whether a probed video stream can be used as `video_at_fps` would write it (no copy needed).

    True for constant `fps` (average and base rate equal), no rotation, square
    pixels and an even size at most max_height tall.
    """
    rates = {stream.get("avg_frame_rate", "0/0"), stream.get("r_frame_rate", "0/0")}
    if len(rates) != 1 or "/0" in (rate := rates.pop()) or Fraction(rate) != Fraction(fps):
        return False
    rotated = stream.get("tags", {}).get("rotate", "0") != "0" or any(
        float(d.get("rotation", 0)) % 360 for d in stream.get("side_data_list", [])
    )
    square = stream.get("sample_aspect_ratio", "1:1") in ("1:1", "0:1", "N/A")
    width, height = int(stream.get("width", 0)), int(stream.get("height", 0))
    return not rotated and square and width % 2 == 0 and height % 2 == 0 and 0 < height <= max_height


def video_at_fps(src: Path, dst: Path, fps: float = 30, max_height: int = 720) -> Path:
    """Write `src`'s first video stream to `dst` (H.264) at constant `fps`, display orientation, even size.

    As the clip stage does: timestamps start at 0, and the fps filter keeps the
    frame nearest each 1/fps slot (VFR and other rates become CFR by
    timestamps). ffmpeg applies rotation metadata while decoding; non-square
    pixels (anamorphic video) are resampled to square ones at the display
    aspect ratio, so the dancer keeps their proportions; frames taller than
    max_height are scaled down. No audio.
    """
    video = (
        ffmpeg.input(ffmpeg_path(src))["v:0"]
        .filter("setpts", "PTS-STARTPTS")
        .filter("fps", fps=fps, round="near")
        .filter("scale", "trunc(oh*dar/2)*2", f"trunc(min(ih,{max_height})/2)*2")  # the display aspect (dar)
        .filter("setsar", 1)
    )
    out = ffmpeg.output(
        video,
        ffmpeg_path(dst),
        vcodec="libx264",
        crf=17,
        preset="veryfast",
        pix_fmt="yuv420p",
        an=None,
        map_metadata=-1,
        **{"metadata:s:v:0": "rotate=0"},
    )
    _run(out, "VIDEO", src)
    return dst


def decode_audio(src: Path, dst_wav: Path, sample_rate: int) -> tuple[np.ndarray, float]:
    """Decode `src`'s first audio stream to `dst_wav` (PCM, its channels, `sample_rate` Hz).

    Returns the mono mix (samples,) float32 in [-1, 1] and its duration in
    seconds. The WAV is what gets muxed into the output, so the analysed and
    the played audio share one timeline (sample 0 = time 0).
    """
    audio = ffmpeg.input(ffmpeg_path(src))["a:0"].filter("aresample", sample_rate)
    _run(ffmpeg.output(audio, ffmpeg_path(dst_wav), acodec="pcm_s16le", vn=None, map_metadata=-1), "AUDIO", src)
    samples, rate = soundfile.read(os.fspath(dst_wav), dtype="float32", always_2d=True)
    if len(samples) == 0:
        raise UserInputError(f"AUDIO {src} decodes to no samples", EXIT_UNREADABLE)
    return samples.mean(axis=1), len(samples) / rate
