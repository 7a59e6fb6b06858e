"""Pose of one video in several worker processes, each over one run of its frames.

A CPU backend (MediaPipe) keeps about one core busy, so one long video takes
as long as its frames on one core however many the machine has. Here its
frames are split into contiguous runs, one per worker; each worker process
builds its own backend, decodes its run (ffmpeg's trim filter, exact to the
frame) and poses it, and the runs are joined in order. A tracking backend
starts afresh at the first frame of each run (MediaPipe detects the person
again there), so for some frames after a boundary its keypoints differ from
one pass's by a few pixels. Workers are spawned, not forked: the caller may
hold threads and torch.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from concurrent.futures import Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from alignnet.pose.backends import BackendTraits, PoseBackend, get_backend
from alignnet.pose.extract import DecodePlan, decoded_frames, pose_bar, pose_frames, pose_in_process, pose_sequence
from alignnet.pose.sequence import PoseSequence

MIN_FRAMES_PER_WORKER = 600  # 20 s at 30 fps: a worker's start (spawn + MediaPipe, about 1 s) must pay off
REPORT_EVERY = 25  # frames between a worker's progress messages


@dataclass(frozen=True)
class BackendSpec:
    """A frame backend by registry name and keyword options: what a worker process builds its own from."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)

    def build(self) -> PoseBackend:
        return get_backend(self.name, **self.options)


def available_cores() -> int:
    """CPU cores this process may run on (its affinity: a SLURM allocation or taskset, not the whole machine)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def default_workers(backend: str) -> int:
    """Worker processes for `backend` by default: one per available core (at most 8) on the CPU; 1 for openpose,
    which has one GPU to itself."""
    return 1 if backend == "openpose" else min(available_cores(), 8)


def frame_runs(
    n_frames: int | None, workers: int, min_frames: int = MIN_FRAMES_PER_WORKER
) -> list[tuple[int, int | None]]:
    """Contiguous (start, end) runs of frames, one per worker; the last one open (None) to the video's end.

    At most n_frames // min_frames runs; one run [(0, None)] when the frame count is unknown.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if n_frames is None:
        return [(0, None)]
    count = max(1, min(workers, n_frames // max(min_frames, 1)))
    bounds = np.linspace(0, n_frames, count + 1).round().astype(int).tolist()
    return [(bounds[k], bounds[k + 1] if k + 1 < count else None) for k in range(count)]


_progress: Any = None  # a worker's queue for frame counts (set by _init_worker)


def _init_worker(progress: Any) -> None:
    global _progress
    _progress = progress


def _pose_run(
    video: str, spec: BackendSpec, plan: DecodePlan, run: tuple[int, int | None]
) -> tuple[np.ndarray, np.ndarray, BackendTraits]:
    """In a worker: keypoints and people of one run of frames, and the backend's traits."""
    backend = spec.build()
    done = 0

    def count() -> None:
        nonlocal done
        done += 1
        if done % REPORT_EVERY == 0 and _progress is not None:
            _progress.put(REPORT_EVERY)

    try:
        keypoints, people = pose_frames(decoded_frames(video, plan.size, run), backend, plan.scale, count)
        return keypoints, people, BackendTraits.of(backend)
    finally:
        backend.close()


def extract_pose_parallel(
    video: str | os.PathLike[str],
    spec: BackendSpec,
    workers: int,
    max_side: int | None = 640,
    progress: bool = True,
    min_frames_per_worker: int = MIN_FRAMES_PER_WORKER,
) -> PoseSequence:
    """`extract_pose` of `video` with `spec`'s backend in up to `workers` processes (see the module's text).

    A video too short for two runs of min_frames_per_worker frames, or of
    unknown length, is posed in this process. Raises StageFailure as
    extract_pose does; meta["workers"] records how many ran.
    """
    plan = DecodePlan.of(video, max_side)
    runs = frame_runs(plan.info.n_frames, workers, min_frames_per_worker)
    if len(runs) == 1:
        backend = spec.build()
        try:
            return pose_in_process(video, backend, plan, progress)
        finally:
            backend.close()
    context = multiprocessing.get_context("spawn")
    reports = context.Queue()
    pool = ProcessPoolExecutor(len(runs), mp_context=context, initializer=_init_worker, initargs=(reports,))
    with pose_bar(video, plan, progress) as bar, pool:
        futures = [pool.submit(_pose_run, os.fspath(video), spec, plan, run) for run in runs]  # one worker each
        pending: set[Future] = set(futures)
        while pending:
            _, pending = wait(pending, timeout=0.2)
            _drain(reports, bar)
        parts = [f.result() for f in futures]  # re-raises a worker's exception here
    posed = [p for p in parts if len(p[0])]  # a run past the last frame, when the container overstates it, is empty
    keypoints = np.concatenate([p[0] for p in posed]) if posed else parts[0][0]
    people = np.concatenate([p[1] for p in posed]) if posed else parts[0][1]
    return pose_sequence(video, plan, keypoints, people, parts[0][2], workers=str(len(runs)))


def _drain(reports: Any, bar: tqdm) -> None:
    """Move the workers' frame counts to the progress bar."""
    while True:
        try:
            bar.update(reports.get_nowait())
        except queue.Empty:
            return
