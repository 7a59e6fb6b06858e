"""Alignment metrics on source frames (video frame indices of the undistorted clip)."""

from __future__ import annotations

import numpy as np

from alignnet.distort.warps import apply_warp
from alignnet.motion_features import scale_positions

# ITU-R BT.1359 detectability window: audio may lead the picture by at most 45 ms and lag it by
# at most 125 ms. With err = predicted - true source frame, err > 0 means the re-timed video plays
# the frame after its sound (the audio leads), so a frame is correct when -125 <= err_ms <= +45.
ITU_LEAD_MS = 45.0
ITU_LAG_MS = 125.0
_EPS_MS = 1e-6  # float slack so that errors exactly on the window's edges count as inside


def afe(pred_frames: np.ndarray, true_frames: np.ndarray) -> float:
    """Average frame error: mean |pred - true| over all frames (any shape, same for both)."""
    pred, true = np.asarray(pred_frames, np.float64), np.asarray(true_frames, np.float64)
    if pred.shape != true.shape:
        raise ValueError(f"prediction shape {pred.shape} != truth shape {true.shape}")
    return float(np.abs(pred - true).mean())


def itu_accuracy(pred_frames: np.ndarray, true_frames: np.ndarray, fps: float) -> float:
    """Share of frames with -125 <= (pred - true) / fps * 1000 <= +45 ms (ITU-R BT.1359).

    Distorted frame i shows source frame true(i); the re-timed video plays it at
    source time pred(i). pred > true puts the picture after its sound: the audio
    leads, tolerated up to 45 ms. pred < true: the audio lags, up to 125 ms.
    At 30 fps, -3 frames (-100 ms) and +1 frame (+33 ms) are correct; -4 and +2
    are not (25 fps: -3 ... +1 as well).
    """
    pred, true = np.asarray(pred_frames, np.float64), np.asarray(true_frames, np.float64)
    if pred.shape != true.shape:
        raise ValueError(f"prediction shape {pred.shape} != truth shape {true.shape}")
    err_ms = (pred - true) / fps * 1000.0
    inside = (err_ms >= -ITU_LAG_MS - _EPS_MS) & (err_ms <= ITU_LEAD_MS + _EPS_MS)
    return float(inside.mean())


def retiming_errors(shown_frames: np.ndarray, correct_frames: np.ndarray) -> np.ndarray:
    """Timing error, in output frames, of every input frame of a re-timed video (`alignnet align`'s CSV).

    shown_frames[k] is the input frame the re-timed video shows at output frame k
    (the audio's timeline), correct_frames[k] the one it should show. Input frame
    j's picture is played at output time shown^-1(j) and belongs at correct^-1(j)
    (`invert_correspondence`); the error is their difference, on the input frames
    the truth covers. This is `itu_accuracy`'s convention (predicted - true time
    of a picture: > 0, the picture comes after its sound), so the same window
    applies. Read directly on the output timeline, shown - correct has the
    opposite sign (the picture is ahead when it is > 0) and is in input frames,
    not output time: scoring it with `itu_accuracy` would mirror the window.
    """
    shown, correct = np.asarray(shown_frames, np.float64), np.asarray(correct_frames, np.float64)
    if shown.shape != correct.shape or shown.ndim != 1:
        raise ValueError(
            f"shown frames {shown.shape} and correct frames {correct.shape}: expected two equal 1-D shapes"
        )
    lo, hi = np.ceil(correct.min() - 1e-9), np.floor(correct.max() + 1e-9)
    inputs = np.arange(lo, hi + 1)
    return invert_correspondence(shown, inputs) - invert_correspondence(correct, inputs)


def retiming_itu_accuracy(errors: np.ndarray, fps: float) -> float:
    """ITU-R BT.1359 accuracy of `retiming_errors` (output frames at `fps`), pooled over any videos."""
    errors = np.asarray(errors, np.float64)
    return itu_accuracy(errors, np.zeros_like(errors), fps)


def invert_correspondence(pred_frames: np.ndarray, source_frames: np.ndarray) -> np.ndarray:
    """Fractional distorted frame index shown at each source frame: the inverse of pred (n_out,).

    pred_frames is the predicted source frame of every distorted frame; it is
    made increasing (running maximum, ties broken by 1e-9 frame steps so that a
    plateau maps to its first frame) and inverted with np.interp. Before /
    after the predicted range, the first / last distorted frame is held.
    """
    pred = np.maximum.accumulate(np.asarray(pred_frames, np.float64))
    if (np.diff(pred) <= 0).any():
        pred = pred + 1e-9 * np.arange(len(pred))
    return np.interp(np.asarray(source_frames, np.float64), pred, np.arange(len(pred), dtype=np.float64))


def retime_to_source(distorted: np.ndarray, pred_frames: np.ndarray, source_frames: np.ndarray) -> np.ndarray:
    """Distorted keypoints (n_out, K, 2) played back on the source timeline: (len(source_frames), K, 2).

    At source frame s the distorted frame pred^-1(s) is shown
    (`invert_correspondence`), linearly interpolated between distorted frames.
    """
    if len(pred_frames) != len(distorted):
        raise ValueError(f"{len(pred_frames)} predicted frames for {len(distorted)} distorted frames")
    return apply_warp(np.asarray(distorted, np.float64), invert_correspondence(pred_frames, source_frames))


def _velocity(positions: np.ndarray) -> np.ndarray:
    return np.gradient(positions, axis=0) if len(positions) > 1 else np.zeros_like(positions)


def keypoint_errors(
    source: np.ndarray, pred_frames: np.ndarray, true_frames: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-keypoint (location error (K,), velocity error (K,)) after alignment (paper figures 4 and 5).

    source (n_src, K, 2) undistorted keypoints; pred_frames / true_frames
    (n_out,) predicted and true source frame of every distorted frame. The
    distorted video re-timed with the prediction shows, at source frame s,
    distorted frame i = pred^-1(s), whose content is the source at true(i)
    (true linearly interpolated: the distorted keypoints are the source sampled
    at true). So the aligned keypoints are the source at true(pred^-1(s)),
    one interpolation only, and a perfect prediction has zero error. They are
    compared with the source keypoints on the frames the truth covers (the
    integer frames in [min(true), max(true)]). Locations are min-max scaled to
    [-1, 1] per keypoint and coordinate with the source clip's range;
    velocities (np.gradient over source frames) are divided by the source's
    largest |velocity| per keypoint and coordinate. Errors are mean
    |difference| over frames, x and y.
    """
    true = np.asarray(true_frames, np.float64)
    if len(pred_frames) != len(true):
        raise ValueError(f"{len(pred_frames)} predicted frames for {len(true)} true frames")
    source = np.asarray(source, np.float64)
    frames = np.arange(int(np.ceil(true.min() - 1e-9)), int(np.floor(true.max() + 1e-9)) + 1)
    frames = frames[(frames >= 0) & (frames < len(source))]
    shown = invert_correspondence(pred_frames, frames)  # distorted frame shown at each source frame
    aligned = apply_warp(source, np.interp(shown, np.arange(len(true), dtype=np.float64), true))
    # Aligned points are convex combinations of source points, so scaling them together with the whole
    # source clip uses the clip's own per-keypoint min and max.
    scaled = scale_positions(np.concatenate([source, aligned])).astype(np.float64)
    ref_pos, aligned_pos = scaled[frames], scaled[len(source) :]
    ref_vel, aligned_vel = _velocity(ref_pos), _velocity(aligned_pos)
    peak = np.abs(ref_vel).max(axis=0, keepdims=True)
    peak = np.where(peak > 0, peak, 1.0)
    location = np.abs(aligned_pos - ref_pos).mean(axis=(0, 2))
    velocity = (np.abs(aligned_vel - ref_vel) / peak).mean(axis=(0, 2))
    return location, velocity
