"""Random monotonic time warps of a clip, and a sequence resampled along one.

A time warp maps output (distorted) video frame i = 0 .. n_out-1 to a source
position p(i), a float frame index of the undistorted clip (0 .. n_src-1):

    p(i) = (n_src - 1) * (offset + span * g(i / (n_out - 1)))

with a global stretch `span` (share of the source the distorted video covers),
a global shift `offset` in [0, 1 - span] and a local warp g: [0, 1] -> [0, 1],
g(0) = 0, g(1) = 1, strictly increasing, built from sorted random anchors,
linearly interpolated, with max |g(x) - x| <= `max_deviation`. The distorted
keypoints are the source keypoints linearly interpolated at p(i); the true
correspondence of frame i is source frame p(i) (see `alignnet.correspondence`).

All randomness comes from an explicit `numpy.random.Generator`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WarpConfig:
    """Limits of the random time warp (all in shares of the source clip)."""

    min_span: float = 0.7  # the video covers 70-100 % of the source: overall slow-downs
    max_span: float = 1.0
    n_anchors: int = 8  # interior anchors of the local warp
    max_deviation: float = 1 / 6  # bound on |g(x) - x|
    local_probability: float = 0.9  # chance that a local warp is applied at all
    # Strong warps (`strong_warp`, off by default): a clip-level speed and offset instead of span and offset.
    min_speed: float = 1.0  # source frames per distorted frame, drawn log-uniformly in [min_speed, max_speed]
    max_speed: float = 1.0
    max_offset_frames: float = 0.0  # the distorted clip's centre moved by up to this many source frames

    @property
    def strong(self) -> bool:
        """Whether warps are drawn by `strong_warp` (a speed range or an offset set)."""
        return self.min_speed != 1.0 or self.max_speed != 1.0 or self.max_offset_frames > 0.0


STRONG_SPEEDS = (0.6, 1.6)  # `alignnet train --strong-warps`: the speeds users' videos drift over (issue 34)


def local_warp(rng: np.random.Generator, n_anchors: int, amplitude: float, max_deviation: float) -> np.ndarray:
    """Anchor values of a random local warp g at x = linspace(0, 1, n_anchors + 2).

    g = x + a * (h - x) with h a random strictly increasing anchor curve
    (cumulative Dirichlet increments); a convex mix of two strictly increasing
    curves is strictly increasing. a = amplitude, reduced so that
    max |g - x| <= max_deviation. amplitude 0 gives the identity.
    """
    x = np.linspace(0.0, 1.0, n_anchors + 2)
    h = np.concatenate([[0.0], np.cumsum(rng.dirichlet(np.full(n_anchors + 1, 2.0)))])
    h[-1] = 1.0
    deviation = np.abs(h - x).max()
    a = min(amplitude, max_deviation / deviation) if deviation > 0 else 0.0
    return x + a * (h - x)


def strong_warp(rng: np.random.Generator, n_out: int, n_src: int, config: WarpConfig) -> np.ndarray:
    """Source positions (n_out,) float64 in [0, n_src - 1], non-decreasing: a clip-level speed and offset.

    p(i) = c + s (n_out - 1) (g(i / (n_out - 1)) - 1/2), clipped to the clip: speed s (source frames per
    distorted frame) log-uniform in [min_speed, max_speed], centre c = (n_src - 1) / 2 + d with the offset
    d uniform in +-max_offset_frames (at most half the clip, so the middle frame's dance is in the clip),
    and the paper's local warp g. Where the distorted clip runs past the source (a speed above 1 or a large
    offset), its frames hold the clip's first or last pose with that edge as their truth, as a window whose
    prior is off by seconds sees music that the dance has not reached or has left behind.
    """
    speed = float(np.exp(rng.uniform(np.log(config.min_speed), np.log(config.max_speed))))
    reach = min(config.max_offset_frames, (n_src - 1) / 2)
    offset = rng.uniform(-reach, reach)
    amplitude = 1.0 if rng.random() < config.local_probability else 0.0
    anchors = local_warp(rng, config.n_anchors, amplitude, config.max_deviation)
    g = np.interp(np.linspace(0.0, 1.0, n_out), np.linspace(0.0, 1.0, len(anchors)), anchors)
    return np.clip((n_src - 1) / 2 + offset + speed * (n_out - 1) * (g - 0.5), 0.0, n_src - 1)


def random_warp(rng: np.random.Generator, n_out: int, n_src: int, config: WarpConfig = WarpConfig()) -> np.ndarray:
    """Source positions (n_out,) float64 in [0, n_src - 1], strictly increasing (n_out > 1); with
    `config.strong`, `strong_warp`'s (non-decreasing)."""
    if config.strong:
        return strong_warp(rng, n_out, n_src, config)
    span = rng.uniform(config.min_span, config.max_span)
    offset = rng.uniform(0.0, 1.0 - span)
    amplitude = 1.0 if rng.random() < config.local_probability else 0.0
    anchors = local_warp(rng, config.n_anchors, amplitude, config.max_deviation)
    x = np.linspace(0.0, 1.0, n_out)
    g = np.interp(x, np.linspace(0.0, 1.0, len(anchors)), anchors)
    return np.clip((offset + span * g) * (n_src - 1), 0.0, n_src - 1)


def apply_warp(values: np.ndarray, positions: np.ndarray, axis: int = 0) -> np.ndarray:
    """A sequence sampled at float source positions (n_out,) along its time `axis`, linear; same dtype.

    Keypoints (n_src, K, 2) in the pipeline, log-mel (n_bins, m) with axis=1;
    any shape works. Float inputs are interpolated in their own precision (at
    least float32), others in float64. It runs for every training sample, so
    it gathers along `axis` directly (no transposed copy) and works in place.
    """
    n_src = values.shape[axis]
    lo = np.clip(np.floor(positions).astype(np.int64), 0, n_src - 1)
    hi = np.minimum(lo + 1, n_src - 1)
    work = np.result_type(values.dtype, np.float32) if np.issubdtype(values.dtype, np.floating) else np.float64
    shape = [1] * values.ndim
    shape[axis] = -1
    frac = (positions - lo).astype(work).reshape(shape)
    out = np.take(values, lo, axis=axis).astype(work, copy=False)
    step = np.take(values, hi, axis=axis).astype(work, copy=False)
    step -= out
    step *= frac
    out += step
    return out.astype(values.dtype, copy=False)
