"""SyncNet's prediction: one global offset between video and audio, by sliding search over a cost matrix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alignnet.baselines.syncnet import SyncNetAligner
from alignnet.correspondence import Timebase


def best_offset(cost: np.ndarray, max_offset: int, min_overlap: int = 1) -> int:
    """The offset o in [-max_offset, max_offset] minimising the mean of cost[i, i + o] over valid i.

    cost (n, S): video frames x source frames of the audio. Offsets whose
    diagonal has fewer than `min_overlap` cells are skipped; ties go to the
    smallest |o| (then the smaller o).
    """
    n, s = cost.shape
    offsets = [o for o in range(-max_offset, max_offset + 1) if min(n, s - o, n + o, s) >= min_overlap]
    if not offsets:
        raise ValueError(f"no offset in +-{max_offset} overlaps a ({n}, {s}) cost matrix by {min_overlap} cells")
    means = np.array([np.diagonal(cost, offset=o).mean() for o in offsets])
    order = np.lexsort((offsets, np.abs(offsets), means))
    return int(offsets[order[0]])


@dataclass
class SyncNetOffsetAligner(SyncNetAligner):
    """SyncNet: source frame = frame index + one offset (mean embedding distance, sliding search).

    max_offset_seconds: search range (the original SyncNet's +-2 s would be
    +-60 frames at 30 fps); min_overlap: share of the video's frames that an
    offset must keep inside the audio.
    """

    name = "SyncNet"
    max_offset_seconds: float = 2.0
    min_overlap: float = 0.5

    def from_cost(self, cost: np.ndarray, timebase: Timebase) -> np.ndarray:
        n = cost.shape[0]
        max_offset = round(self.max_offset_seconds * timebase.fps)
        offset = best_offset(cost, max_offset, max(1, int(np.ceil(self.min_overlap * n))))
        return np.arange(n, dtype=np.float64) + offset
