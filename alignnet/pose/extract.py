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
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeVar

import ffmpeg
import numpy as np
from tqdm import tqdm

from alignnet.ffmpeg_paths import ffmpeg_path
from alignnet.pose.backends import BackendTraits, PoseBackend
from alignnet.pose.sequence import PoseSequence
from alignnet.stage_status import Reason, StageFailure
from alignnet.video_frames import decoded_in_full, iter_frames

log = logging.getLogger(__name__)
T = TypeVar("T")
LAYOUT_POINTS = {"BODY_25": 25, "FACE_70": 70}


@dataclass(frozen=True)
class VideoInfo:
    """Size in pixels (as stored), frame rate, frame count when the container knows it, duration (s; 0: unknown)."""

    width: int
    height: int
    fps: float
    n_frames: int | None
    duration: float = 0.0


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """ffprobe the first video stream. Raises StageFailure (corrupt_file, no_video_stream)."""
    try:
        info = ffmpeg.probe(ffmpeg_path(path))
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
    duration = next(
        (
            float(d)
            for d in (stream.get("duration"), info.get("format", {}).get("duration"))
            if re.fullmatch(r"\d+(?:\.\d*)?", str(d))
        ),
        0.0,
    )
    return VideoInfo(int(stream["width"]), int(stream["height"]), fps, n_frames, duration)


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


def decoded_frames(
    video: str | os.PathLike[str], size: tuple[int, int] | None, frame_range: tuple[int, int | None] | None = None
) -> Iterator[np.ndarray]:
    """iter_frames (RGB), with a decoding error turned into StageFailure(corrupt_file)."""
    try:
        yield from iter_frames(video, size=size, frame_range=frame_range)
    except RuntimeError as exc:
        raise StageFailure(Reason.CORRUPT_FILE, str(exc)) from exc


@dataclass(frozen=True)
class DecodePlan:
    """How a video's frames reach a backend: its probe, the decoded size, and the factor back to its pixels."""

    info: VideoInfo
    width: int
    height: int

    @classmethod
    def of(cls, video: str | os.PathLike[str], max_side: int | None) -> DecodePlan:
        """Probe `video` (StageFailure when unreadable) and fit its longer side to max_side (None: full size)."""
        info = probe_video(video)
        return cls(info, *decode_size(info.width, info.height, max_side))

    @property
    def size(self) -> tuple[int, int] | None:
        """The size to scale to, or None for the stored size."""
        return None if (self.width, self.height) == (self.info.width, self.info.height) else (self.width, self.height)

    @property
    def scale(self) -> np.ndarray:
        """(3,) factors from decoded pixels back to the video's own (and 1 for the confidence)."""
        return np.array([self.info.width / self.width, self.info.height / self.height, 1.0], dtype=np.float32)


def pose_frames(
    frames: Iterable[np.ndarray], backend: PoseBackend, scale: np.ndarray, on_frame: Callable[[], object]
) -> tuple[np.ndarray, np.ndarray]:
    """(keypoints (n, points, 3) scaled by `scale`, people (n,)) of decoded frames, decoding in a thread ahead."""
    keypoints: list[np.ndarray] = []
    people: list[int] = []
    for frame in prefetch(frames):
        points, count = backend.process(frame)
        keypoints.append(points * scale)
        people.append(count)
        on_frame()
    if not keypoints:
        return np.zeros((0, 0, 3), np.float32), np.zeros(0, np.int64)
    return np.stack(keypoints), np.array(people)


def pose_sequence(
    video: str | os.PathLike[str],
    plan: DecodePlan,
    keypoints: np.ndarray,
    people: np.ndarray,
    backend: BackendTraits,
    **meta: str,
) -> PoseSequence:
    """The PoseSequence of posed frames; StageFailure(corrupt_file) when there are none or clearly fewer than
    the container announces (a truncated file, as `alignnet clip` finds it)."""
    if len(keypoints) == 0:
        raise StageFailure(Reason.CORRUPT_FILE, f"no frame could be decoded from {video}")
    decoded = len(keypoints) / plan.info.fps if plan.info.fps > 0 else 0.0
    if plan.info.fps > 0 and not decoded_in_full(decoded, plan.info.duration):
        raise StageFailure(
            Reason.CORRUPT_FILE,
            f"{video}: decoded {decoded:.2f} s of video where the container announces {plan.info.duration:.2f} s"
            " (truncated?)",
        )
    meta = {"decoded_size": f"{plan.width}x{plan.height}", "counts_people": str(backend.counts_people).lower(), **meta}
    log.info("%s: %d frames, a person in %d", video, len(people), int(np.sum(people > 0)))
    return PoseSequence(
        keypoints=keypoints,
        people=people,
        fps=plan.info.fps,
        width=plan.info.width,
        height=plan.info.height,
        backend=backend.name,
        layout=backend.layout,
        meta=meta,
    )


def extract_pose(
    video: str | os.PathLike[str],
    backend: PoseBackend,
    max_side: int | None = 640,
    progress: bool = True,
) -> PoseSequence:
    """Keypoints of every frame of `video` from `backend`, in pixels of the video's frames.

    max_side: decode so the longer side is at most this many pixels (None:
    full size). Raises StageFailure (corrupt_file, no_video_stream) for a
    video that cannot be decoded. `alignnet.pose.parallel` runs several
    backends over runs of the frames instead.
    """
    return pose_in_process(video, backend, DecodePlan.of(video, max_side), progress)


def pose_in_process(
    video: str | os.PathLike[str], backend: PoseBackend, plan: DecodePlan, progress: bool = True
) -> PoseSequence:
    """`extract_pose` of a video already probed into `plan`, in this process."""
    with pose_bar(video, plan, progress) as bar:
        keypoints, people = pose_frames(decoded_frames(video, plan.size), backend, plan.scale, bar.update)
    return pose_sequence(video, plan, keypoints, people, BackendTraits.of(backend))


def pose_bar(video: str | os.PathLike[str], plan: DecodePlan, progress: bool) -> tqdm:
    """The progress bar over a video's frames (disabled without `progress`)."""
    return tqdm(total=plan.info.n_frames, desc=f"pose {os.path.basename(video)}", unit="frame", disable=not progress)


def empty_sequence(backend: str, layout: str = "BODY_25") -> PoseSequence:
    """The 0-frame PoseSequence of a video with no pose (its stage record, alignnet.stage_status, says why)."""
    n_points = LAYOUT_POINTS[layout]
    return PoseSequence(
        keypoints=np.zeros((0, n_points, 3), np.float32),
        people=np.zeros(0, np.int16),
        fps=0.0,
        width=0,
        height=0,
        backend=backend,
        layout=layout,
    )
