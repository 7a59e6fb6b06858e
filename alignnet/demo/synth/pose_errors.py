"""What a frame pose estimator gets wrong, measured against the truth and simulated on true keypoints.

The general checkpoint is trained on the generator's true keypoints (no frame
drawn, no pose run: `keypoint_dataset`), yet `alignnet align` feeds it
MediaPipe's keypoints found in pixels. `simulate_pose_errors` puts on the true
keypoints the errors MediaPipe makes on drawn figures, with sizes measured by
`measure_pose_errors` (`benchmarks/pose_errors.py` prints them; docs/training-data.md
has the table):

- jitter: independent noise per point and frame;
- wobble: a slow offset per point (a limb drawn wider than its bone, a
  shadow), smoothed over about a third of a second;
- dropouts: runs of frames where a point is missing (confidence 0) and runs
  where the whole person is;
- left/right swaps: runs of frames where every left point is labelled right
  and the other way round (the figure taken as seen from behind).

All sizes are shares of the body's height (neck to mid-ankle), so they hold
for any camera distance.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from alignnet.keypoints import BODY_25_INDEX, BODY_25_MIRROR_PAIRS, mirror_permutation

MIRROR_25 = mirror_permutation(25, BODY_25_MIRROR_PAIRS)
BODY_POINTS = tuple(range(19))  # the 19 points the dance model keeps (feet are not scored)


@dataclass(frozen=True)
class PoseErrors:
    """Sizes of a pose estimator's errors; the defaults come from MediaPipe on the training figures."""

    jitter: float = 0.004  # std of the per-frame noise, share of body height
    wobble: float = 0.015  # std of the slow per-point offset, share of body height
    wobble_seconds: float = 0.33  # its smoothing (Gaussian sigma)
    point_dropout: float = 0.01  # share of point-frames missing (in runs of 1-10 frames)
    person_dropout: float = 0.005  # share of frames without a person (in runs of 1-10 frames)
    swap: float = 0.05  # share of frames with left and right swapped (in runs of 5-90 frames)


@dataclass(frozen=True)
class PoseErrorStats:
    """measure_pose_errors's result: sizes as shares of body height, shares of frames."""

    median_error: float  # median distance of a point from the truth (left/right matched as best fits)
    p90_error: float
    swap_share: float  # frames where the swapped labelling fits better than the given one
    missing_share: float  # frames without the person
    jitter: float  # std of the frame-to-frame change of the error (independent noise shows here)
    frames: int


def body_height(keypoints: np.ndarray) -> float:
    """Median over frames of the neck-to-mid-ankle distance of (n, 25, >=2) keypoints (pixels)."""
    neck = keypoints[:, BODY_25_INDEX["Neck"], :2]
    ankles = keypoints[:, [BODY_25_INDEX["RAnkle"], BODY_25_INDEX["LAnkle"]], :2].mean(axis=1)
    height = np.linalg.norm(neck - ankles, axis=1)
    height = height[np.isfinite(height) & (height > 0)]
    return float(np.median(height)) if height.size else 1.0


def _runs(rng: np.random.Generator, n: int, share: float, shortest: int, longest: int) -> np.ndarray:
    """(n,) bool: runs of `shortest`-`longest` frames covering about `share` of n frames."""
    mask = np.zeros(n, bool)
    if share <= 0 or n == 0:
        return mask
    mean_run = (shortest + longest) / 2
    for _ in range(rng.poisson(share * n / mean_run)):
        start = int(rng.integers(0, n))
        mask[start : start + int(rng.integers(shortest, longest + 1))] = True
    return mask


def simulate_pose_errors(rng: np.random.Generator, keypoints: np.ndarray, errors: PoseErrors, fps: float) -> np.ndarray:
    """keypoints (n, 25, 3) true BODY_25 pixels and visibility -> (n, 25, 3) as a pose estimator reports them.

    Points the truth has as invisible stay missing; missing points are (0, 0, 0), as OpenPose writes them.
    """
    truth = np.asarray(keypoints, np.float64)
    n = len(truth)
    if n == 0:
        return truth.copy()
    scale = body_height(truth)
    xy = truth[..., :2].copy()
    xy += rng.normal(0.0, errors.jitter * scale, xy.shape)
    if errors.wobble > 0:
        sigma = max(errors.wobble_seconds * fps, 1e-3)
        slow = gaussian_filter1d(rng.normal(0.0, 1.0, xy.shape), sigma, axis=0, mode="wrap")
        slow /= max(float(slow.std()), 1e-9)
        xy += errors.wobble * scale * slow
    confidence = np.where(truth[..., 2] > 0, rng.uniform(0.4, 1.0, truth.shape[:2]), 0.0)
    swapped = _runs(rng, n, errors.swap, 5, 90)
    xy[swapped] = xy[swapped][:, MIRROR_25]
    confidence[swapped] = confidence[swapped][:, MIRROR_25]
    for point in range(truth.shape[1]):
        confidence[_runs(rng, n, errors.point_dropout, 1, 10), point] = 0.0
    confidence[_runs(rng, n, errors.person_dropout, 1, 10)] = 0.0
    out = np.concatenate([xy, confidence[..., None]], axis=-1)
    out[confidence == 0] = 0.0
    return out


def measure_pose_errors(truth: np.ndarray, estimate: np.ndarray) -> PoseErrorStats:
    """How far `estimate` (n, 25, 3) is from `truth` (n, 25, 3), on the 19 body points, per `PoseErrorStats`.

    Frames where the estimate has no point of the body count as missing. Each
    other frame is matched with left and right as given or swapped, whichever
    fits better (the swap share counts the second).
    """
    truth, estimate = np.asarray(truth, np.float64), np.asarray(estimate, np.float64)
    n = min(len(truth), len(estimate))
    truth, estimate = truth[:n], estimate[:n]
    scale = body_height(truth)
    points = list(BODY_POINTS)
    truth_seen = truth[:, points, 2] > 0

    def distances(est: np.ndarray) -> np.ndarray:
        seen = (est[:, points, 2] > 0) & truth_seen
        d = np.linalg.norm(est[:, points, :2] - truth[:, points, :2], axis=-1)
        return np.where(seen, d, np.nan)

    straight = distances(estimate)
    mirrored = distances(estimate[:, MIRROR_25])
    present = np.isfinite(straight).any(axis=1)
    with warnings.catch_warnings():  # a frame whose swapped labelling has no point: its mean is nan, no swap
        warnings.simplefilter("ignore", RuntimeWarning)
        swap = present & (np.nanmean(mirrored, axis=1) < np.nanmean(straight, axis=1))
    best = np.where(swap[:, None], mirrored, straight)[present] / scale
    chosen = np.where(swap[:, None, None], estimate[:, MIRROR_25], estimate)[:, points]
    offsets = chosen[..., :2] - truth[:, points, :2]
    both = (chosen[..., 2] > 0) & truth_seen
    steps = np.diff(offsets, axis=0)[both[1:] & both[:-1]] / scale
    values = best[np.isfinite(best)]
    return PoseErrorStats(
        median_error=float(np.median(values)) if values.size else float("nan"),
        p90_error=float(np.percentile(values, 90)) if values.size else float("nan"),
        swap_share=float(swap[present].mean()) if present.any() else 0.0,
        missing_share=float(1.0 - present.mean()),
        jitter=float(steps.std() / np.sqrt(2)) if steps.size else float("nan"),
        frames=n,
    )
