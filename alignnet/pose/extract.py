"""Run a frame backend over every frame of a video and collect a PoseSequence.

Decoding (ffmpeg, in a thread that fills a small queue) overlaps with
inference in the calling thread. Frames can be decoded downscaled so that
their longer side is at most `max_side`; keypoints are scaled back to pixels
of the video's own frames.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeVar

import ffmpeg
import numpy as np
from tqdm import tqdm

from alignnet.pose.backends import PoseBackend
from alignnet.pose.sequence import PoseSequence
from alignnet.stage_status import Reason, StageFailure
from alignnet.video_frames import iter_frames

log = logging.getLogger(__name__)
T = TypeVar("T")
LAYOUT_POINTS = {"BODY_25": 25, "FACE_70": 70}


@dataclass(frozen=True)
class VideoInfo:
    """Size in pixels (as stored), frame rate, and frame count when the container knows it."""

    width: int
    height: int
    fps: float
    n_frames: int | None


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """ffprobe the first video stream. Raises StageFailure (corrupt_file, no_video_stream)."""
    try:
        info = ffmpeg.probe(os.fspath(path))
    except ffmpeg.Error as exc:
        detail = exc.stderr.decode(errors="replace").strip()[-300:] if exc.stderr else str(exc)
        raise StageFailure(Reason.CORRUPT_FILE, f"ffprobe cannot read {path}: {detail}") from exc
    stream = next((s for s in info["streams"] if s.get("codec_type") == "video"), None)
    if stream is None:
        raise StageFailure(Reason.NO_VIDEO_STREAM, f"{path} has no video stream")
    rate = stream.get("avg_frame_rate", "0/0")
    if rate in ("0/0", "0/1"):
        rate = stream.get("r_frame_rate", "0/1")
    fps = float(Fraction(rate)) if not rate.endswith("/0") else 0.0
    n_frames = int(stream["nb_frames"]) if str(stream.get("nb_frames", "")).isdigit() else None
    return VideoInfo(int(stream["width"]), int(stream["height"]), fps, n_frames)


def decode_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """(width, height) scaled so the longer side is at most max_side (None: unchanged), kept even."""
    if max_side is None or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def prefetch(items: Iterable[T], depth: int = 8) -> Iterator[T]:
    """Iterate `items` in a background thread, up to `depth` ahead; its exceptions re-raise here."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(entry: tuple[object, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                buffer.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def fill() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((done, None))
        except BaseException as exc:  # handed to the consumer, re-raised there
            put((done, exc))

    thread = threading.Thread(target=fill, name="decode", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = buffer.get()
            if item is done:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        thread.join()
        close = getattr(items, "close", None)
        if close is not None:
            close()


def _decoded(video: str | os.PathLike[str], size: tuple[int, int] | None) -> Iterator[np.ndarray]:
    """iter_frames, with a decoding error turned into StageFailure(corrupt_file)."""
    try:
        yield from iter_frames(video, size=size)
    except RuntimeError as exc:
        raise StageFailure(Reason.CORRUPT_FILE, str(exc)) from exc


def extract_pose(
    video: str | os.PathLike[str],
    backend: PoseBackend,
    max_side: int | None = 640,
    progress: bool = True,
) -> PoseSequence:
    """Keypoints of every frame of `video` from `backend`, in pixels of the video's frames.

    max_side: decode so the longer side is at most this many pixels (None:
    full size). Raises StageFailure (corrupt_file, no_video_stream) for a
    video that cannot be decoded.
    """
    info = probe_video(video)
    width, height = decode_size(info.width, info.height, max_side)
    scale = np.array([info.width / width, info.height / height, 1.0], dtype=np.float32)
    frames = _decoded(video, None if (width, height) == (info.width, info.height) else (width, height))
    keypoints: list[np.ndarray] = []
    people: list[int] = []
    bar = tqdm(total=info.n_frames, desc=f"pose {os.path.basename(video)}", unit="frame", disable=not progress)
    with bar:
        for frame in prefetch(frames):
            points, count = backend.process(frame)
            keypoints.append(points * scale)
            people.append(count)
            bar.update()
    if not keypoints:
        raise StageFailure(Reason.CORRUPT_FILE, f"no frame could be decoded from {video}")
    meta = {"decoded_size": f"{width}x{height}", "counts_people": str(backend.counts_people).lower()}
    log.info("%s: %d frames, a person in %d", video, len(people), sum(c > 0 for c in people))
    return PoseSequence(
        keypoints=np.stack(keypoints),
        people=np.array(people),
        fps=info.fps,
        width=info.width,
        height=info.height,
        backend=backend.name,
        layout=backend.layout,
        meta=meta,
    )


def failed_sequence(reason: str, detail: str, backend: str, layout: str = "BODY_25") -> PoseSequence:
    """A 0-frame PoseSequence recording why the video has no pose (meta "failed" and "detail")."""
    n_points = LAYOUT_POINTS[layout]
    return PoseSequence(
        keypoints=np.zeros((0, n_points, 3), np.float32),
        people=np.zeros(0, np.int16),
        fps=0.0,
        width=0,
        height=0,
        backend=backend,
        layout=layout,
        meta={"failed": str(reason), "detail": detail},
    )
