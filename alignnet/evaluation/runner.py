"""Run aligners over evaluation clips, timing each method on exactly the same inputs."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from alignnet.alignment_methods import Aligner
from alignnet.evaluation.clips import EvalClips


def slug(name: str) -> str:
    """File-safe method key: "SyncNet+DTW" -> "syncnet_dtw"."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


@dataclass
class MethodResult:
    """One method's predictions (n_clips, n_out) in source frames, its wall and CPU time over all clips (s)."""

    name: str
    pred: np.ndarray
    seconds: float
    cpu_seconds: float = float("nan")

    @property
    def slug(self) -> str:
        return slug(self.name)


def run_methods(aligners: Sequence[Aligner], clips: EvalClips, progress: bool = True) -> list[MethodResult]:
    """Align every clip with every method; returns one result per aligner, in order.

    Clip by clip, every method in turn (so a busy machine slows all methods
    alike); only the `align` calls are timed, wall clock and process CPU time,
    after one untimed warm-up call per method on the first clip.
    """
    n_out = clips.true.shape[1]
    for aligner in aligners:
        aligner.align(clips.distorted(0), clips.audio(0), clips.timebase)
    preds = np.zeros((len(aligners), len(clips), n_out))
    wall, cpu = np.zeros(len(aligners)), np.zeros(len(aligners))
    for i in tqdm(range(len(clips)), desc="clips", file=sys.stderr, disable=not progress, dynamic_ncols=True):
        keypoints, audio = clips.distorted(i), clips.audio(i)
        for k, aligner in enumerate(aligners):
            started, started_cpu = time.perf_counter(), time.process_time()
            pred = aligner.align(keypoints, audio, clips.timebase)
            wall[k] += time.perf_counter() - started
            cpu[k] += time.process_time() - started_cpu
            if np.shape(pred) != (n_out,):
                raise ValueError(
                    f"{aligner.name}: predicted shape {np.shape(pred)} for clip {clips.clip_ids[i]}, "
                    f"expected ({n_out},)"
                )
            preds[k, i] = pred
    return [MethodResult(a.name, preds[k], float(wall[k]), float(cpu[k])) for k, a in enumerate(aligners)]
