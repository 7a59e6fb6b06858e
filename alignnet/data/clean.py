"""Keypoint cleaning for one clip: confidence mask, outlier median, gap filling, smoothing, centring.

Order of the steps (`clean_clip`), and why:

1. keep the 19 dance points (BODY_25 without the feet);
2. points below `min_confidence` (and missing points, confidence 0) become NaN;
3. median filter over time, ignoring NaN (`nan_median_filter`): outliers are
   removed using observed values only. Interpolating first would let a spike
   next to a gap become an end point of the interpolated line and spread into
   a ramp the median can no longer remove; `scipy.signal.medfilt` itself
   cannot take NaN (NaN sorts arbitrarily) and zero-pads the ends, which pulls
   the first and last frames towards pixel 0. The window is edge-padded here.
   A NaN frame stays NaN: the median only removes outliers, it does not fill.
   Beside a gap the window widens until it holds `median_kernel` observed
   values, so a short window still outvotes a spike there;
4. linear interpolation of each gap of at most `max_gap` frames (`fill_gaps`);
   a gap at the start or end of the clip is held at the nearest observed
   value. A longer gap, or a point never seen, raises
   StageFailure(GAP_TOO_LONG): the clip is dropped rather than invented;
5. Savitzky-Golay smoothing (`scipy.signal.savgol_filter`, mode "interp"):
   exact for polynomials up to `savgol_order`, so smooth motion keeps its
   shape and velocity/acceleration (the model's inputs) lose the jitter;
6. mid-hip subtracted per frame: body-centred pixels.

The lips task (`clean_clip(..., task="lips")`, a FACE_70 pose) keeps the 20
mouth points 48-67 in step 1 and, in step 6, subtracts the mouth's centroid
(mean of the 20 points) per frame: mouth-centred pixels, so head motion drops
out and the lips' own motion stays. There is no scaling by mouth width: the
model min-max scales every coordinate over the clip
(`alignnet.distort.scale_positions`), and the width changes with speech.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import savgol_filter

from alignnet.dataclass_fields import known_fields, option
from alignnet.keypoints import DANCE_KEYPOINTS, DANCE_NAMES, MID_HIP
from alignnet.lips.face_keypoints import MOUTH_NAMES, MOUTH_POINTS
from alignnet.pose.extract import LAYOUT_POINTS
from alignnet.stage_status import Reason, StageFailure


@dataclass(frozen=True)
class CleanParams:
    """Parameters of `clean_clip` (frames at the video's 30 fps).

    min_confidence: points below it count as missing (OpenPose scores in [0, 1]).
    median_kernel: odd window of the outlier median filter (3 frames: removes
        one-frame spikes, also beside a gap, where the window widens). A
        5-frame median also flattens the turning points of fast motion: on
        the demo, 4000-step trainings reached 70-71 % validation accuracy
        with it against 77-78 % with 3 (docs/experiments.md, "Pose and keypoint cleaning").
    max_gap: longest run of missing frames that is interpolated (15 = 0.5 s).
    savgol_window, savgol_order: the Savitzky-Golay fit (7 frames, quartic).
        At 30 fps its gain falls to -3 dB at 8.4 Hz, so dance accents (a hit
        rising within 2-3 frames; sixteenth notes at 120 bpm come at 8 Hz)
        keep their shape while frame-to-frame jitter (up to the 15 Hz
        Nyquist) is damped. The first defaults (`LEGACY_CLEAN_PARAMS`: median
        5, a 9-frame cubic fit, -3 dB at 3.7 Hz) flattened those accents: on
        the demo corpus's MediaPipe poses, cleaned velocities correlated with
        the true ones at 0.44 against 0.51 now, accelerations at 0.18 against
        0.37.
    """

    min_confidence: float = option(0.1, "points with a lower confidence count as missing")
    median_kernel: int = option(3, "odd window (frames) of the outlier median filter")
    max_gap: int = option(15, "longest run of missing frames that is interpolated; longer rejects the clip")
    savgol_window: int = option(7, "odd Savitzky-Golay window (frames)")
    savgol_order: int = option(4, "Savitzky-Golay polynomial order")

    def __post_init__(self) -> None:
        if self.median_kernel < 1 or self.median_kernel % 2 == 0:
            raise ValueError(f"median_kernel must be odd and positive, got {self.median_kernel}")
        if self.savgol_window % 2 == 0 or self.savgol_window <= self.savgol_order:
            raise ValueError(
                f"savgol_window must be odd and larger than savgol_order, "
                f"got window {self.savgol_window}, order {self.savgol_order}"
            )
        if self.max_gap < 0:
            raise ValueError(f"max_gap must be >= 0, got {self.max_gap}")

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces): the input of `config_hash`."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CleanParams:
        """Inverse of `asdict` / `to_json`'s object; unknown keys are ignored, missing ones take the defaults."""
        return cls(**known_fields(cls, data))

    def config_hash(self) -> str:
        """sha256 hex digest of the canonical JSON."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()


# The first defaults: what a dataset or checkpoint that records no cleaning parameters was cleaned with.
LEGACY_CLEAN_PARAMS = CleanParams(median_kernel=5, savgol_window=9, savgol_order=3)


def recorded_clean_params(record: Mapping[str, Any]) -> CleanParams:
    """The cleaning a record (meta.json, a checkpoint's extra.preprocessing) holds under "clean"; without one,
    the first defaults. TypeError / ValueError / AttributeError for a malformed entry."""
    return CleanParams.from_dict(record["clean"]) if "clean" in record else LEGACY_CLEAN_PARAMS


def mask_low_confidence(keypoints: np.ndarray, min_confidence: float) -> np.ndarray:
    """(frames, points, 3) x, y, c -> (frames, points, 2) float64 x, y with NaN where c < min_confidence.

    A missing point (c == 0) is always NaN, also when min_confidence is 0.
    """
    conf = keypoints[..., 2]
    bad = (conf < min_confidence) | (conf <= 0)
    xy = keypoints[..., :2].astype(np.float64)
    xy[bad] = np.nan
    return xy


def nan_median_filter(values: np.ndarray, kernel: int) -> np.ndarray:
    """Running median over axis 0 that ignores NaN; the ends are edge-padded.

    values: (frames, ...) float. A NaN input stays NaN. An observed value
    becomes the median of the `kernel` frames centred on it; where missing
    frames leave fewer than `kernel` observed values there (beside a gap), the
    window widens, by up to `kernel` frames on each side, until it holds
    `kernel` of them, so that a spike next to a gap is still outvoted by
    observed neighbours (a 3-frame window there would hold only the spike and
    one neighbour).
    """
    if kernel == 1 or values.shape[0] == 0:
        return values.copy()
    out = np.full(values.shape, np.nan, dtype=values.dtype)
    todo = ~np.isnan(values)
    widest = kernel // 2 + kernel
    for half in range(kernel // 2, widest + 1):
        pad = [(half, half)] + [(0, 0)] * (values.ndim - 1)
        windows = sliding_window_view(np.pad(values, pad, mode="edge"), 2 * half + 1, axis=0)  # (frames, ..., w)
        # the widest window takes whatever it holds
        ready = todo if half == widest else todo & ((~np.isnan(windows)).sum(axis=-1) >= kernel)
        out[ready] = np.nanmedian(windows[ready], axis=-1)
        todo &= ~ready
        if not todo.any():
            break
    return out


def _runs(missing: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of every run of True in a 1-D bool array."""
    edges = np.diff(np.concatenate(([0], missing.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def fill_gaps(values: np.ndarray, max_gap: int, names: tuple[str, ...] | None = None) -> np.ndarray:
    """Linearly interpolate NaN runs of at most `max_gap` frames along axis 0.

    values: (frames, points, coords). Leading/trailing runs take the nearest
    observed value. Raises StageFailure(GAP_TOO_LONG) naming the point and the
    frames when a run is longer, or a point is never observed.
    """
    out = values.copy()
    frames = np.arange(values.shape[0])
    for p in range(values.shape[1]):
        missing = np.isnan(values[:, p, :]).any(axis=1)
        if not missing.any():
            continue
        name = names[p] if names is not None else str(p)
        if missing.all():
            raise StageFailure(Reason.GAP_TOO_LONG, f"{name} never seen in {values.shape[0]} frames")
        for start, stop in _runs(missing):
            if stop - start > max_gap:
                raise StageFailure(
                    Reason.GAP_TOO_LONG,
                    f"{name} missing for {stop - start} frames ({start}-{stop - 1}), max_gap {max_gap}",
                )
        seen = ~missing
        for c in range(values.shape[2]):
            out[missing, p, c] = np.interp(frames[missing], frames[seen], values[seen, p, c])
    return out


def smooth(values: np.ndarray, window: int, order: int) -> np.ndarray:
    """Savitzky-Golay along axis 0; clips shorter than `window` use the largest odd window that fits."""
    n = values.shape[0]
    if n <= order:
        return values.copy()
    window = min(window, n if n % 2 else n - 1)
    if window <= order:
        return values.copy()
    return savgol_filter(values, window, order, axis=0, mode="interp")


# task -> (points kept from the pose, their names, the pose layout they come from)
TASK_POINTS: dict[str, tuple[tuple[int, ...], tuple[str, ...], str]] = {
    "dance": (DANCE_KEYPOINTS, DANCE_NAMES, "BODY_25"),
    "lips": (MOUTH_POINTS, MOUTH_NAMES, "FACE_70"),
}


def kept_points(task: str) -> tuple[int, ...]:
    """Indices into the pose layout of the points `task` keeps (19 BODY_25 or 20 FACE_70 points)."""
    if task not in TASK_POINTS:
        raise ValueError(f"unknown task {task!r}; choose from {', '.join(TASK_POINTS)}")
    return TASK_POINTS[task][0]


def clean_clip(keypoints: np.ndarray, params: CleanParams, task: str = "dance") -> np.ndarray:
    """Clean one clip of BODY_25 (task "dance") or FACE_70 (task "lips") keypoints.

    keypoints: (frames, 25 or 70, 3) float x, y pixels and confidence (missing = 0, 0, 0).
    Returns (frames, 19, 2) float32 body-centred pixels (mid-hip is 0, 0), or
    for "lips" (frames, 20, 2) mouth-centred pixels (the 20 points' mean is 0, 0).
    Raises StageFailure(GAP_TOO_LONG) when a gap cannot be filled.
    """
    points = kept_points(task)
    _, names, layout = TASK_POINTS[task]
    n_layout = LAYOUT_POINTS[layout]
    if keypoints.ndim != 3 or keypoints.shape[1] < n_layout or keypoints.shape[2] != 3:
        raise ValueError(f"keypoints must be (frames, {n_layout}, 3), got {keypoints.shape}")
    kept = keypoints[:, list(points), :]
    xy = mask_low_confidence(kept, params.min_confidence)
    xy = nan_median_filter(xy, params.median_kernel)
    xy = fill_gaps(xy, params.max_gap, names)
    xy = smooth(xy, params.savgol_window, params.savgol_order)
    if task == "lips":
        centre = xy.mean(axis=1, keepdims=True)
    else:
        mid_hip = DANCE_KEYPOINTS.index(MID_HIP)
        centre = xy[:, mid_hip : mid_hip + 1, :]
    return (xy - centre).astype(np.float32)
