"""Random monotonic, non-uniform time warps of a frame sequence (speed-ups and slow-downs)."""

from __future__ import annotations

import numpy as np

MAX_DEVIATION_S = 0.5
MIN_SLOPE = 0.5
MAX_SLOPE = 2.0


def random_warp(rng: np.random.Generator, n_frames: int, fps: float) -> np.ndarray:
    """source_frame for every output frame: (n_frames,) float64, strictly increasing.

    source(i) = i + d(i), with d a sum of slow random sinusoids (periods 1.5-8 s)
    pinned to 0 at both ends, so source runs from 0 to n_frames - 1. d is
    scaled so that |d| <= a random 0.25-0.5 s and the slope 1 + d' stays in
    [0.5, 2] (keeping a 10 % margin inside those bounds).
    """
    if n_frames < 2:
        return np.zeros(n_frames)
    i = np.arange(n_frames, dtype=np.float64)
    t = i / fps
    d = np.zeros(n_frames)
    for _ in range(int(rng.integers(2, 5))):
        period = rng.uniform(1.5, 8.0)
        phase = rng.uniform(0, 2 * np.pi)
        d += rng.uniform(0.4, 1.0) * (np.sin(2 * np.pi * t / period + phase) - np.sin(phase))
    d -= i / (n_frames - 1) * d[-1]
    peak = np.max(np.abs(d))
    if peak < 1e-9:
        return i
    d *= rng.uniform(0.25, MAX_DEVIATION_S) * fps / peak
    slope = 1 + np.gradient(d)
    lo, hi = MIN_SLOPE * 1.1, MAX_SLOPE * 0.9
    worst = max(np.max(np.maximum(1 - slope, 0)) / (1 - lo), np.max(np.maximum(slope - 1, 0)) / (hi - 1))
    if worst > 1:
        d /= worst
    return i + d


def identity(n_frames: int) -> np.ndarray:
    """The unwarped timeline: source_frame[i] == i."""
    return np.arange(n_frames, dtype=np.float64)


def retimed_truth(source_frame: np.ndarray) -> np.ndarray:
    """The input frame a perfect re-timing shows at each output frame (`alignnet align --correspondence`'s
    source_frame), for a warped video whose input frame j shows the dance of audio frame source_frame[j]
    (a sidecar's `source_frame`): the warp inverted onto the audio's frames."""
    warp = np.asarray(source_frame, dtype=np.float64)
    return np.interp(np.arange(len(warp)), warp, np.arange(len(warp)))


def drift_warp(
    rng: np.random.Generator, n_audio: int, fps: float, speeds: tuple[float, float], max_start_s: float = 0.0
) -> np.ndarray:
    """source_frame of every frame of a video that drifts against its music: (n_video,) float64, strictly
    increasing, in [0, n_audio - 1], n_video <= what the speeds allow.

    The video starts a random 0-`max_start_s` s into the song and plays the dance at a speed that wanders
    smoothly over [speeds[0], speeds[1]] (in log speed: one slow sinusoid of 0.8-2 times the video's length,
    at most 90 s, and 1-2 faster ones of 4-12 s periods), reaching a random 60-100 % of the range's
    half-width on either side of its log-centre; it ends a random
    0-`max_start_s` s before the song's end, or where the song ends. Over a minute at 0.85-1.18x the
    accumulated drift reaches seconds: what the linear "video spans the audio" prior cannot follow.
    """
    lo, hi = speeds
    if not 0 < lo <= hi:
        raise ValueError(f"drift speeds {speeds}: need 0 < low <= high")
    start = rng.uniform(0.0, max_start_s) * fps
    end = n_audio - 1 - rng.uniform(0.0, max_start_s) * fps
    n_max = int(np.ceil(max(end - start, 1.0) / lo)) + 2
    t = np.arange(n_max) / fps
    slow = min(n_max / fps, 90.0)
    wave = rng.uniform(0.8, 1.0) * np.sin(2 * np.pi * t / (slow * rng.uniform(0.8, 2.0)) + rng.uniform(0, 2 * np.pi))
    for _ in range(int(rng.integers(1, 3))):
        wave += rng.uniform(0.2, 0.5) * np.sin(2 * np.pi * t / rng.uniform(4.0, 12.0) + rng.uniform(0, 2 * np.pi))
    peak = np.max(np.abs(wave)) or 1.0
    centre, half = (np.log(lo) + np.log(hi)) / 2, (np.log(hi) - np.log(lo)) / 2
    speed = np.exp(centre + half * rng.uniform(0.6, 1.0) * wave / peak)
    source = start + np.concatenate([[0.0], np.cumsum(speed[:-1])])
    return source[source <= max(end, start)]
