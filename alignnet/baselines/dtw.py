"""Dynamic time warping of a cost matrix into a per-frame correspondence, and SyncNet+DTW.

`dtw_source_frames` is the one DTW of the baselines: `librosa.sequence.dtw`
with a Sakoe-Chiba band around the diagonal from (0, 0) to (n-1, S-1). By
default the path runs from corner to corner (classic DTW, as in SyncNet+DTW);
`subsequence=True` lets it start and end anywhere in the audio. `step_penalty`
is added to every horizontal or vertical step, so that, where the cost does not
decide, the path keeps the slope it has rather than stalling.
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np

from alignnet.baselines.syncnet import SyncNetAligner
from alignnet.correspondence import Timebase


def dtw_source_frames(
    cost: np.ndarray, band: float, step_penalty: float = 0.0, subsequence: bool = False
) -> np.ndarray:
    """(n,) float64 source position of every row of cost (n, S): the mean column its DTW path visits.

    band: Sakoe-Chiba radius as a share of min(n, S) (librosa's band_rad).
    The result is non-decreasing. Subsequence DTW needs S >= n.
    """
    n, s = cost.shape
    if subsequence and s < n:
        raise ValueError(f"subsequence DTW needs at least as many audio steps as video frames, got ({n}, {s})")
    _, path = librosa.sequence.dtw(
        C=np.asarray(cost, np.float64),
        weights_add=np.array([0.0, step_penalty, step_penalty]),
        global_constraints=True,
        band_rad=band,
        subseq=subsequence,
    )
    return mean_column_per_row(path, n)


def mean_column_per_row(path: np.ndarray, n: int) -> np.ndarray:
    """(n,) float64 mean column a DTW path ((L, 2) rows and columns) visits in each of rows 0 .. n-1; rows a step
    skips (steps of more than one row) are interpolated between their neighbours."""
    rows, cols = path[:, 0], path[:, 1].astype(np.float64)
    counts = np.bincount(rows, minlength=n)
    visited = np.flatnonzero(counts)
    means = np.bincount(rows, weights=cols, minlength=n)[visited] / counts[visited]
    return np.interp(np.arange(n), visited, means)


@dataclass
class SyncNetDTWAligner(SyncNetAligner):
    """SyncNet+DTW: DTW over the embedding distances of every video frame and audio step."""

    name = "SyncNet+DTW"
    band: float = 0.3
    step_penalty: float = 0.0
    subsequence: bool = False

    def from_cost(self, cost: np.ndarray, timebase: Timebase) -> np.ndarray:
        return dtw_source_frames(cost, self.band, self.step_penalty, self.subsequence)
