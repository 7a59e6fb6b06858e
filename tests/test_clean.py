"""Keypoint cleaning: each step on signals whose right answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from alignnet.data.clean import (
    LEGACY_CLEAN_PARAMS,
    CleanParams,
    clean_clip,
    fill_gaps,
    nan_median_filter,
    smooth,
)
from alignnet.keypoints import MID_HIP
from alignnet.stage_status import Reason, StageFailure


def _clip(frames: int = 60, seed: int = 0) -> np.ndarray:
    """(frames, 25, 3): every point moves on its own straight line, confidence 0.9."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames, dtype=np.float64)[:, None]
    start = rng.uniform(100, 500, size=(1, 25))
    vel = rng.uniform(-2, 2, size=(1, 25))
    kp = np.zeros((frames, 25, 3))
    kp[..., 0] = start + vel * t
    kp[..., 1] = start[:, ::-1] + 0.5 * vel * t
    kp[..., 2] = 0.9
    return kp.astype(np.float32)


def test_median_removes_spike() -> None:
    x = np.linspace(0, 10, 31)[:, None]
    spiked = x.copy()
    spiked[15] += 500.0
    # the spike takes a neighbour's value: off by at most one frame's motion
    np.testing.assert_allclose(nan_median_filter(spiked, 5), x, atol=1 / 3 + 1e-9)


def test_short_median_outvotes_a_spike_beside_a_gap() -> None:
    x = np.linspace(0, 10, 31)[:, None]
    holed = x.copy()
    holed[15] += 500.0
    holed[16:21] = np.nan  # a 3-frame window at 15 holds only the spike and frame 14: it widens to 13-17
    out = nan_median_filter(holed, 3)
    np.testing.assert_allclose(out[:16], x[:16], atol=1 / 3 + 1e-9)
    assert np.isnan(out[16:21]).all()
    lone = np.full((9, 1), np.nan)
    lone[4] = 7.0  # a single observation keeps its value
    np.testing.assert_array_equal(nan_median_filter(lone, 3)[4], [7.0])


def test_median_keeps_ends_unbiased() -> None:
    # scipy.signal.medfilt would zero-pad and pull the first frames towards 0.
    x = np.full((10, 1), 300.0)
    np.testing.assert_array_equal(nan_median_filter(x, 5), x)


def test_gap_in_linear_motion_filled_exactly() -> None:
    values = np.stack([np.arange(40.0) * 3 + 7, np.arange(40.0) * -2], axis=1)[:, None, :]
    holed = values.copy()
    holed[10:20] = np.nan
    np.testing.assert_allclose(fill_gaps(holed, max_gap=10), values, atol=1e-9)


def test_edge_gap_held_at_nearest_value() -> None:
    values = np.arange(10.0)[:, None, None]
    holed = values.copy()
    holed[:3] = np.nan
    np.testing.assert_array_equal(fill_gaps(holed, max_gap=3)[:3, 0, 0], [3.0, 3.0, 3.0])


def test_too_long_gap_rejected() -> None:
    kp = _clip()
    kp[20:40, 4, :] = 0.0  # RWrist missing for 20 frames
    with pytest.raises(StageFailure) as err:
        clean_clip(kp, CleanParams(max_gap=15))
    assert err.value.reason == Reason.GAP_TOO_LONG
    assert "RWrist" in err.value.detail and "20 frames" in err.value.detail
    clean_clip(kp, CleanParams(max_gap=20))  # long enough: filled


def test_quadratic_passes_savgol_unchanged() -> None:
    t = np.arange(50.0)
    quad = (0.3 * t**2 - 4 * t + 11)[:, None, None]
    np.testing.assert_allclose(smooth(quad, 9, 2), quad, atol=1e-8)


def test_savgol_reduces_jitter() -> None:
    rng = np.random.default_rng(1)
    line = np.linspace(0, 100, 90)[:, None, None]
    noisy = line + rng.normal(0, 2, size=line.shape)
    assert np.abs(smooth(noisy, 9, 3) - line).mean() < 0.7 * np.abs(noisy - line).mean()


def test_default_cleaning_keeps_the_velocity_of_beat_accents() -> None:
    """Hits on every beat at 120 bpm (15 frames): a 3-frame rise, a decay over about 3 frames."""
    beat = np.mod(np.arange(90.0) / 15, 1.0)
    rise = np.clip((beat - 0.82) / 0.18, 0, 1)
    hits = 40.0 * np.maximum(np.exp(-beat / 0.22), rise * rise * (3 - 2 * rise))[:, None, None]

    def velocity_correlation(params: CleanParams) -> float:
        cleaned = smooth(nan_median_filter(hits, params.median_kernel), params.savgol_window, params.savgol_order)
        return float(np.corrcoef(np.diff(cleaned[:, 0, 0]), np.diff(hits[:, 0, 0]))[0, 1])

    assert velocity_correlation(CleanParams()) > 0.9
    assert velocity_correlation(CleanParams()) > velocity_correlation(LEGACY_CLEAN_PARAMS) + 0.1  # 0.95 vs 0.74


def test_mid_hip_becomes_zero_and_shape() -> None:
    out = clean_clip(_clip(), CleanParams())
    assert out.shape == (60, 19, 2) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:, MID_HIP], 0.0)


def test_clean_recovers_linear_motion_through_spike_gap_and_low_confidence() -> None:
    kp = _clip()
    truth = kp[:, :19, :2] - kp[:, MID_HIP : MID_HIP + 1, :2]
    kp[30, 3, :2] += 400.0  # outlier
    kp[31:36, 3, 2] = 0.05  # low confidence next to it: a gap
    kp[10:14, 6] = 0.0  # missing
    out = clean_clip(kp, CleanParams(min_confidence=0.1))
    # within one frame's motion (|velocity| < 2 px/frame per point, so < 4 relative to mid-hip)
    np.testing.assert_allclose(out, truth, atol=4.0)
    untouched = np.ones(19, bool)
    untouched[[3, 6]] = False
    np.testing.assert_allclose(out[:, untouched], truth[:, untouched], atol=1e-3)


def test_point_never_seen_rejected() -> None:
    kp = _clip()
    kp[:, 17, 2] = 0.0
    with pytest.raises(StageFailure, match="REar never seen"):
        clean_clip(kp, CleanParams())


def test_params_validation_and_hash() -> None:
    with pytest.raises(ValueError, match="median_kernel"):
        CleanParams(median_kernel=4)
    with pytest.raises(ValueError, match="savgol_window"):
        CleanParams(savgol_window=3, savgol_order=3)
    assert CleanParams().config_hash() == CleanParams().config_hash()
    assert CleanParams().config_hash() != CleanParams(max_gap=16).config_hash()
