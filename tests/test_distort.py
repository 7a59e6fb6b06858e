"""Online sample generation: warp properties (hypothesis), flip, masks, features, saved warps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alignnet.distort import augment
from alignnet.distort.fixed_warps import load_fixed_warps, make_fixed_warps, save_fixed_warps
from alignnet.distort.samples import SampleGenerator
from alignnet.distort.warps import WarpConfig, apply_warp, local_warp, random_warp
from alignnet.errors import UserInputError
from alignnet.keypoints import DANCE_MIRROR
from alignnet.motion_features import motion_features

seeds = st.integers(0, 2**32 - 1)


@settings(max_examples=200, deadline=None)
@given(seed=seeds, n_out=st.integers(2, 400), n_src=st.integers(2, 400), min_span=st.floats(0.3, 1.0))
def test_warp_strictly_increasing_within_bounds(seed: int, n_out: int, n_src: int, min_span: float) -> None:
    config = WarpConfig(min_span=min_span)
    positions = random_warp(np.random.default_rng(seed), n_out, n_src, config)
    assert positions.shape == (n_out,)
    assert np.all(np.diff(positions) > 0)
    assert positions[0] >= 0 and positions[-1] <= n_src - 1
    covered = (positions[-1] - positions[0]) / (n_src - 1)
    assert min_span - 1e-9 <= covered <= 1 + 1e-9


@settings(max_examples=200, deadline=None)
@given(seed=seeds, amplitude=st.floats(0, 1), bound=st.floats(0.01, 0.5), anchors=st.integers(1, 40))
def test_local_warp_monotonic_and_bounded(seed: int, amplitude: float, bound: float, anchors: int) -> None:
    g = local_warp(np.random.default_rng(seed), anchors, amplitude, bound)
    x = np.linspace(0, 1, anchors + 2)
    assert g[0] == 0 and g[-1] == pytest.approx(1.0)
    assert np.all(np.diff(g) > 0)
    assert np.abs(g - x).max() <= bound + 1e-12


@given(seed=seeds, anchors=st.integers(1, 40))
def test_zero_amplitude_is_identity(seed: int, anchors: int) -> None:
    g = local_warp(np.random.default_rng(seed), anchors, 0.0, 1 / 6)
    assert np.allclose(g, np.linspace(0, 1, anchors + 2))
    config = WarpConfig(min_span=1.0, local_probability=0.0)
    assert np.allclose(random_warp(np.random.default_rng(seed), 50, 50, config), np.arange(50))


def test_apply_warp_interpolates_linearly() -> None:
    keypoints = np.arange(5, dtype=np.float32)[:, None, None] * np.ones((1, 2, 2), np.float32)
    out = apply_warp(keypoints, np.array([0.0, 0.5, 3.25, 4.0]))
    assert out.dtype == np.float32 and np.allclose(out[:, 0, 0], [0.0, 0.5, 3.25, 4.0])


@given(seed=seeds)
def test_apply_warp_along_the_columns_of_a_logmel_equals_the_transposed_warp(seed: int) -> None:
    rng = np.random.default_rng(seed)
    logmel = rng.normal(size=(8, 40)).astype(np.float16)
    positions = np.sort(rng.uniform(0, 39, 25))
    columns = apply_warp(logmel, positions, axis=1)
    assert columns.shape == (8, 25) and columns.dtype == np.float16
    assert np.array_equal(columns, apply_warp(logmel.T, positions).T)
    exact = np.stack([np.interp(positions, np.arange(40), row) for row in logmel.astype(np.float64)])
    assert np.allclose(columns, exact, atol=1e-2)  # float16 output


@given(seed=seeds)
def test_flip_twice_is_identity(seed: int) -> None:
    keypoints = np.random.default_rng(seed).normal(size=(6, 19, 2)).astype(np.float32)
    flipped = augment.flip_keypoints(keypoints)
    assert np.allclose(flipped[:, 2, 0], -keypoints[:, 5, 0])  # RShoulder <- mirrored LShoulder
    assert np.allclose(flipped[:, 0, 1], keypoints[:, 0, 1])  # nose: y unchanged
    assert np.array_equal(augment.flip_keypoints(flipped), keypoints)
    assert np.array_equal(DANCE_MIRROR[DANCE_MIRROR], np.arange(19))


@settings(max_examples=200, deadline=None)
@given(seed=seeds, n_bins=st.integers(1, 128), n_frames=st.integers(1, 600))
def test_masks_stay_in_their_limits(seed: int, n_bins: int, n_frames: int) -> None:
    config = augment.AugmentConfig(freq_mask_probability=1.0, time_mask_probability=1.0)
    masks = augment.draw_masks(np.random.default_rng(seed), n_bins, n_frames, config)
    for mask, size, (lo, hi) in ((masks.freq, n_bins, (3, 10)), (masks.time, n_frames, (5, 20))):
        assert mask is not None
        start, stop = mask
        assert 0 <= start < stop <= size
        assert min(lo, size) <= stop - start <= hi


def test_mask_probability_and_apply() -> None:
    rng = np.random.default_rng(0)
    draws = [augment.draw_masks(rng, 128, 516) for _ in range(400)]
    share = np.mean([d.freq is not None for d in draws])
    assert 0.4 < share < 0.6
    logmel = np.random.default_rng(1).normal(size=(128, 50)).astype(np.float32)
    out = augment.apply_masks(logmel, augment.Masks(freq=(3, 7), time=(10, 15)))
    assert np.all(out[3:7] == out[3, 0]) and np.all(out[:, 10:15] == out[3, 0])
    assert np.array_equal(out[:3, :10], logmel[:3, :10])


def test_motion_features_layout_and_scale() -> None:
    t = np.arange(30, dtype=np.float32)
    keypoints = np.zeros((30, 19, 2), np.float32)
    keypoints[:, 4, 1] = 100 + 3 * t**2  # keypoint 4 moves in y with constant acceleration
    keypoints[:, 7, 0] = -5 * t  # keypoint 7 moves in x at constant speed
    feats = motion_features(keypoints)
    assert feats.shape == (76, 30) and feats.dtype == np.float32
    assert np.abs(feats[:38]).max() == pytest.approx(1.0) and np.abs(feats[38:]).max() == pytest.approx(1.0)
    assert np.all(feats[19 + 4] >= 0) and np.all(feats[7] < 0)  # vel_y of kp 4, vel_x of kp 7
    assert np.allclose(feats[38 + 19 + 4, 2:-2], feats[38 + 19 + 4, 2])  # constant acc_y
    assert np.allclose(feats[0], 0) and np.allclose(feats[38 + 7, 2:-2], 0, atol=1e-4)
    raw = motion_features(keypoints, motion=False)  # one scale for the body: the largest |coordinate| is 1
    assert raw[19 + 4].max() == pytest.approx(1.0) and raw[19 + 4].min() == pytest.approx(100 / 2623)
    assert raw[7].min() == pytest.approx(-145 / 2623) and np.all(raw[38:] == 0)
    per_keypoint = motion_features(keypoints, motion=False, scaling="per_keypoint")
    assert per_keypoint[19 + 4].min() == -1 and per_keypoint[7].max() == 1 and per_keypoint[7].min() == -1


def test_body_scaling_keeps_relative_motion_where_per_keypoint_scaling_stretches_noise() -> None:
    """A swinging wrist and a hip that only jitters by a pixel: with one scale for the body the hip's
    velocity stays small; min-max scaled per keypoint, its noise fills the same range as the wrist."""
    rng = np.random.default_rng(0)
    t = np.arange(60, dtype=np.float32)
    keypoints = np.zeros((60, 19, 2), np.float32)
    keypoints[:, 4] = np.stack([80 * np.sin(t / 4), 80 * np.cos(t / 4)], axis=1)  # wrist
    keypoints[:, 9] = rng.normal(0, 0.5, (60, 2))  # hip: detector jitter only
    body = motion_features(keypoints)
    per_keypoint = motion_features(keypoints, scaling="per_keypoint")
    hip_vel = [9, 19 + 9]
    assert np.abs(body[hip_vel]).max() < 0.1 and np.abs(body[[4, 19 + 4]]).max() == pytest.approx(1.0, abs=0.05)
    assert np.abs(per_keypoint[hip_vel]).max() > 0.5
    assert np.allclose(body, motion_features(keypoints * 3.7), atol=1e-6)  # any body size, distance to the camera
    with pytest.raises(ValueError, match="scaling 'bogus'"):
        motion_features(keypoints, scaling="bogus")


def test_sample_generator_truth_follows_the_warp() -> None:
    rng = np.random.default_rng(3)
    keypoints = rng.normal(size=(90, 19, 2)).astype(np.float32)
    logmel = rng.normal(size=(128, 259)).astype(np.float16)
    generator = SampleGenerator(flip=False, spec_augment=False)
    sample = generator(np.random.default_rng(5), keypoints, logmel)
    positions = random_warp(np.random.default_rng(5), 90, 90, WarpConfig())
    assert np.array_equal(sample.source, positions)
    assert np.array_equal(sample.video, motion_features(apply_warp(keypoints, positions)))
    assert sample.audio.dtype == np.float32 and sample.audio.shape == (128, 259)
    again = generator(np.random.default_rng(5), keypoints, logmel)
    assert np.array_equal(again.video, sample.video)


@given(seed=seeds, min_share=st.floats(0.3, 1.0), n=st.integers(2, 300), ratio=st.floats(1.0, 4.0))
def test_tempo_change_keeps_music_and_dance_in_sync(seed: int, min_share: float, n: int, ratio: float) -> None:
    """Both streams carry their own clock (seconds); after the change, frames of equal time still agree."""
    fps, m = 30.0, int(np.floor((n - 1) * ratio)) + 1
    keypoints = np.repeat((np.arange(n) / fps)[:, None, None], 2, axis=2).repeat(3, axis=1)  # x = y = time
    logmel = np.tile(np.arange(m) / (fps * ratio), (4, 1))  # every bin = time
    kp, audio = augment.change_tempo(np.random.default_rng(seed), keypoints, logmel, ratio, min_share)
    assert kp.shape == keypoints.shape and audio.shape == logmel.shape
    times = kp[:, 0, 0]
    share = (times[-1] - times[0]) / ((n - 1) / fps) if n > 1 else 1.0
    assert min_share - 1e-6 <= share <= 1.0 + 1e-6 and times[0] >= 0 and times[-1] <= (n - 1) / fps + 1e-9
    assert np.allclose(np.diff(times), share / fps)  # one steady new tempo
    video_frames = np.arange(n)
    audio_at_video = np.interp(video_frames * ratio, np.arange(m), audio[0])
    inside = video_frames * ratio <= m - 1
    assert np.allclose(audio_at_video[inside], times[inside], atol=1e-9 + 1e-6 * n)


def test_tempo_change_identity_at_full_share_and_in_the_generator() -> None:
    rng = np.random.default_rng(0)
    keypoints = rng.normal(size=(60, 19, 2)).astype(np.float32)
    logmel = rng.normal(size=(8, 172)).astype(np.float32)
    kp, audio = augment.change_tempo(np.random.default_rng(1), keypoints, logmel, 172 / 60, 1.0)
    assert np.allclose(kp, keypoints) and np.allclose(audio, logmel)
    always = augment.AugmentConfig(tempo_probability=1.0, min_tempo_share=0.5)
    changed = SampleGenerator(augment=always, flip=False, spec_augment=False, audio_per_video=172 / 60)
    plain = SampleGenerator(augment=always, flip=False, spec_augment=False)  # no audio_per_video: no tempo change
    assert not np.allclose(changed(np.random.default_rng(2), keypoints, logmel).audio, logmel)
    assert np.array_equal(plain(np.random.default_rng(2), keypoints, logmel).audio, logmel)


@given(seed=seeds, max_shift=st.integers(0, 8))
def test_timbre_change_is_one_change_for_every_frame(seed: int, max_shift: int) -> None:
    """Shift, EQ, contrast and level act on the spectrum alone: frame-to-frame changes keep their timing."""
    logmel = np.random.default_rng(seed).normal(size=(32, 50)).astype(np.float32)
    config = augment.AugmentConfig(max_bin_shift=max_shift)
    out = augment.change_timbre(np.random.default_rng(seed + 1), logmel, config)
    assert out.shape == logmel.shape and out.dtype == np.float32
    changes = np.diff(out, axis=1)  # contrast * the shifted input's changes: the EQ and level cancel
    fits = []
    for shift in range(-max_shift, max_shift + 1):
        shifted = np.diff(logmel[np.clip(np.arange(32) - shift, 0, 31)], axis=1)
        contrast = float(np.sum(changes * shifted) / np.sum(shifted * shifted))
        fits.append((np.abs(changes - contrast * shifted).max(), contrast))
    error, contrast = min(fits)
    assert error < 1e-4 and 1 - config.contrast_range - 1e-6 <= contrast <= 1 + config.contrast_range + 1e-6


def test_timbre_change_off_and_none_are_identity() -> None:
    rng = np.random.default_rng(0)
    logmel = rng.normal(size=(16, 40)).astype(np.float32)
    none = augment.AugmentConfig(max_bin_shift=0, eq_std=0.0, contrast_range=0.0, level_std=0.0)
    assert np.allclose(augment.change_timbre(rng, logmel, none), logmel)
    keypoints = rng.normal(size=(20, 19, 2)).astype(np.float32)
    always = augment.AugmentConfig(timbre_probability=1.0)
    on = SampleGenerator(augment=always, flip=False, spec_augment=False, timbre=True)
    off = SampleGenerator(augment=always, flip=False, spec_augment=False)  # timbre off unless asked for
    assert not np.allclose(on(np.random.default_rng(1), keypoints, logmel).audio, logmel)
    assert np.array_equal(off(np.random.default_rng(1), keypoints, logmel).audio, logmel)


BANDS = augment.MelBands(tuple(np.geomspace(50.0, 20000.0, 24).tolist()), tuple(np.linspace(-3.0, -4.0, 24).tolist()))


@given(seed=seeds)
def test_low_pass_keeps_the_low_bins_and_silences_the_high_ones(seed: int) -> None:
    """Bins below the cutoff keep their values, then a short fall, then exactly the bins' silence."""
    rng = np.random.default_rng(seed)
    logmel = rng.normal(size=(24, 30)).astype(np.float32)
    out = augment.limit_band(rng, logmel, BANDS)
    assert out.shape == logmel.shape and out.dtype == np.float32
    silence = np.asarray(BANDS.silence, np.float32)[:, None]
    kept = np.all(out == logmel, axis=1)
    silent = np.all(np.isclose(out, silence, atol=1e-6), axis=1)
    kept_bins, silent_bins = int(np.argmin(kept)) if not kept.all() else 24, int(np.sum(silent))
    assert kept[:kept_bins].all() and silent[24 - silent_bins :].all()
    assert 24 - kept_bins - silent_bins <= 1  # the fall spans 5 % of the cutoff: at most one bin of these
    frequencies = np.asarray(BANDS.frequencies)
    assert kept[frequencies < augment.AugmentConfig.min_cutoff_hz].all()
    between = slice(kept_bins, 24 - silent_bins)  # partly attenuated: between the value and silence
    low, high = np.minimum(logmel, silence)[between], np.maximum(logmel, silence)[between]
    assert np.all((low - 1e-6 <= out[between]) & (out[between] <= high + 1e-6))


def test_low_pass_draws_cutoffs_over_its_range_and_checks_its_bins() -> None:
    rng = np.random.default_rng(0)
    logmel = rng.normal(size=(24, 10)).astype(np.float32)
    silence = np.asarray(BANDS.silence)[:, None]
    kept = [int(np.sum(np.all(augment.limit_band(rng, logmel, BANDS) == logmel, axis=1))) for _ in range(300)]
    below = int(np.sum(np.asarray(BANDS.frequencies) < augment.AugmentConfig.min_cutoff_hz))
    assert min(kept) == below and max(kept) == 23  # cutoffs from 3 kHz to the top bin
    nothing_above = augment.AugmentConfig(min_cutoff_hz=25000.0)
    assert np.array_equal(augment.limit_band(rng, logmel, BANDS, nothing_above), logmel)
    with pytest.raises(ValueError, match="24 band frequencies for a log-mel of 10 bins"):
        augment.limit_band(rng, logmel[:10], BANDS)
    with pytest.raises(ValueError, match="silence values"):
        augment.MelBands((1.0, 2.0), (0.0,))
    always = augment.AugmentConfig(band_limit_probability=1.0, min_cutoff_hz=1000.0, max_bin_shift=0)
    keypoints = rng.normal(size=(20, 19, 2)).astype(np.float32)
    on = SampleGenerator(augment=always, flip=False, spec_augment=False, bands=BANDS)
    off = SampleGenerator(augment=always, flip=False, spec_augment=False)  # no bands: no low-passes
    assert np.allclose(on(np.random.default_rng(1), keypoints, logmel).audio[-1], silence[-1, 0])
    assert np.array_equal(off(np.random.default_rng(1), keypoints, logmel).audio, logmel)


@given(seed=seeds, n=st.integers(2, 200), ratio=st.floats(1.0, 4.0))
def test_straddling_window_keeps_music_and_dance_in_sync(seed: int, n: int, ratio: float) -> None:
    """Two back-to-back clips whose streams hold their own time: the window's video and audio agree on it."""
    fps, m = 30.0, int(np.floor(n * ratio))
    clock = np.arange(2 * n) / fps
    keypoints = np.repeat(clock[:, None, None], 2, axis=2).repeat(3, axis=1)  # x = y = time
    audio_clock = np.concatenate([np.arange(m), n * ratio + np.arange(m)]) / (fps * ratio)  # each clip's own start
    logmel = np.tile(audio_clock, (4, 1))
    first, second = (keypoints[:n], logmel[:, :m]), (keypoints[n:], logmel[:, m:])
    kp, audio = augment.straddling_window(np.random.default_rng(seed), first, second, ratio)
    assert kp.shape == (n, 3, 2) and audio.shape == (4, m) and audio.dtype == np.float32
    start = audio[0, 0]
    assert 0 < start < n / fps  # starts inside the first clip
    assert np.allclose(kp[:, 0, 0], np.minimum(start + np.arange(n) / fps, clock[-1]), atol=1e-5)
    assert np.all(np.abs(audio[0] - (start + np.arange(m) / (fps * ratio))) < 1 / (fps * ratio) + 1e-5)


def test_fixed_warps_round_trip(tmp_path) -> None:
    ids = ["a", "b", "c"]
    warps = make_fixed_warps(ids, 60, 90, seed=7)
    assert np.array_equal(warps, make_fixed_warps(ids, 60, 90, seed=7))
    assert not np.array_equal(warps, make_fixed_warps(ids, 60, 90, seed=8))
    path = tmp_path / "val_warps.npz"
    save_fixed_warps(path, ids, warps, seed=7)
    assert np.array_equal(load_fixed_warps(path, ids), warps)
    with pytest.raises(UserInputError, match="other clips"):
        load_fixed_warps(path, ["a", "b", "x"])
