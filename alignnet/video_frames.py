"""Decode video frames to numpy through ffmpeg (ffmpeg-python, no shell)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import ffmpeg
import numpy as np


def probe_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(width, height) of the first video stream as stored (before rotation)."""
    info = ffmpeg.probe(os.fspath(path))
    stream = next((s for s in info["streams"] if s["codec_type"] == "video"), None)
    if stream is None:
        raise ValueError(f"{path}: no video stream")
    return int(stream["width"]), int(stream["height"])


def iter_frames(
    path: str | os.PathLike[str],
    size: tuple[int, int] | None = None,
    pix_fmt: str = "rgb24",
) -> Iterator[np.ndarray]:
    """Yield every frame as (height, width, 3) uint8, in stream order.

    size: (width, height) to scale to; default the stored size. Frames are
    decoded as the file stores them (no rate conversion): normalise first.
    """
    width, height = size if size is not None else probe_size(path)
    stream = ffmpeg.input(os.fspath(path))
    if size is not None:
        stream = stream.filter("scale", width, height)
    proc = (
        stream.output("pipe:", format="rawvideo", pix_fmt=pix_fmt, vsync="passthrough")
        .global_args("-nostdin", "-loglevel", "error")
        .run_async(pipe_stdout=True, pipe_stderr=True)
    )
    frame_bytes = width * height * 3
    try:
        while True:
            buf = proc.stdout.read(frame_bytes)
            if len(buf) < frame_bytes:
                break
            yield np.frombuffer(buf, np.uint8).reshape(height, width, 3)
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        code = proc.wait()
    if code != 0:
        raise RuntimeError(f"ffmpeg could not decode {path}: {err.strip()[-500:]}")
