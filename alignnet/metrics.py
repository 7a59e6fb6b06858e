"""Alignment metrics on source frames (video frame indices of the undistorted clip)."""

from __future__ import annotations

import numpy as np

# ITU-R BT.1359 detectability window: audio may lead by 45 ms and lag by 125 ms.
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
    """Share of frames with -45 <= (pred - true) / fps * 1000 <= 125 ms (positive: the picture is ahead).

    At 30 fps, +3 frames (100 ms) and -1 frame (-33 ms) are correct; +4 and -2 are not.
    """
    pred, true = np.asarray(pred_frames, np.float64), np.asarray(true_frames, np.float64)
    if pred.shape != true.shape:
        raise ValueError(f"prediction shape {pred.shape} != truth shape {true.shape}")
    err_ms = (pred - true) / fps * 1000.0
    inside = (err_ms >= -ITU_LEAD_MS - _EPS_MS) & (err_ms <= ITU_LAG_MS + _EPS_MS)
    return float(inside.mean())
