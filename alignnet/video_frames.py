"""Decode video frames to numpy through ffmpeg (ffmpeg-python, no shell)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import ffmpeg
import numpy as np

from alignnet.ffmpeg_paths import ffmpeg_path

# Decoded media shorter than this share of what the container announces counts as truncated.
_MIN_DECODED_SHARE = 0.9


def decoded_in_full(decoded_seconds: float, announced_seconds: float) -> bool:
    """Whether decoding gave about what the container announces (False: a truncated or damaged file).

    An unknown announcement (0) passes.
    """
    return decoded_seconds >= _MIN_DECODED_SHARE * announced_seconds - 0.5


def probe_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(width, height) of the first video stream as stored (before rotation)."""
    info = ffmpeg.probe(ffmpeg_path(path))
    stream = next((s for s in info["streams"] if s["codec_type"] == "video"), None)
    if stream is None:
        raise ValueError(f"{path}: no video stream")
    return int(stream["width"]), int(stream["height"])


# The array shape of one frame of w x h video in each raw pixel format iter_frames decodes to.
_FRAME_SHAPES = {
    "rgb24": lambda w, h: (h, w, 3),
    "bgr24": lambda w, h: (h, w, 3),
    "gray": lambda w, h: (h, w),
    # planar: the h x w luma plane, then the two h/2 x w/2 chroma planes (even sizes only)
    "yuv420p": lambda w, h: (h * 3 // 2, w),
}


def ffmpeg_finish(proc: subprocess.Popen) -> tuple[int, str]:
    """Wait for an ffmpeg started with a stderr pipe: its exit code and the last 500 characters of its messages."""
    message = proc.stderr.read().decode(errors="replace").strip()
    proc.stderr.close()
    return proc.wait(), message[-500:]


def iter_frames(
    path: str | os.PathLike[str],
    size: tuple[int, int] | None = None,
    pix_fmt: str = "rgb24",
    frame_range: tuple[int, int | None] | None = None,
    rate: float | None = None,
    seconds: float | None = None,
) -> Iterator[np.ndarray]:
    """Yield every frame as uint8 in stream order: (height, width, 3) for rgb24 / bgr24, (height, width) for gray,
    (height * 3 / 2, width) for yuv420p (the planes one after another, as an encoder reads them).

    size: (width, height) to scale to; default the stored size. Frames are
    decoded as the file stores them (no rate conversion): normalise first.
    frame_range: (start, end) frame indices, end excluded or None for the
    last frame: only those frames (counted in stream order, exactly).
    rate: resample to this many frames per second (ffmpeg's fps filter) instead.
    seconds: decode only the first `seconds` of the file.
    """
    if pix_fmt not in _FRAME_SHAPES:
        raise ValueError(f"pix_fmt {pix_fmt!r}: choose one of {', '.join(_FRAME_SHAPES)}")
    width, height = size if size is not None else probe_size(path)
    if pix_fmt == "yuv420p" and (width % 2 or height % 2):
        raise ValueError(f"{path}: yuv420p frames need an even size, not {width}x{height}")
    shape = _FRAME_SHAPES[pix_fmt](width, height)
    stream = ffmpeg.input(ffmpeg_path(path), **({"t": seconds} if seconds is not None else {}))
    if rate is not None:
        stream = stream.filter("fps", rate)
    if frame_range is not None:
        start, end = frame_range
        stream = stream.trim(start_frame=start) if end is None else stream.trim(start_frame=start, end_frame=end)
    if size is not None:
        stream = stream.filter("scale", width, height)
    proc = (
        stream.output("pipe:", format="rawvideo", pix_fmt=pix_fmt, vsync="passthrough")
        .global_args("-nostdin", "-loglevel", "error")
        .run_async(pipe_stdout=True, pipe_stderr=True)
    )
    frame_bytes = int(np.prod(shape))
    try:
        while True:
            buf = proc.stdout.read(frame_bytes)
            if len(buf) < frame_bytes:
                break
            yield np.frombuffer(buf, np.uint8).reshape(shape)
    finally:
        proc.stdout.close()
        code, message = ffmpeg_finish(proc)
    if code != 0:
        raise RuntimeError(f"ffmpeg could not decode {path}: {message}")
