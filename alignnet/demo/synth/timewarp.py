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


def retimed_truth(source_frame: np.ndarray, n_out: int | None = None) -> np.ndarray:
    """The input frame a perfect re-timing shows at each output frame (`alignnet align --correspondence`'s
    source_frame), for a warped video whose input frame j shows the dance of audio frame source_frame[j]
    (a sidecar's `source_frame`): the warp inverted onto the audio's n_out frames (default: as many as the
    video's; before the dance's first / after its last audio frame, its first / last frame is held)."""
    warp = np.asarray(source_frame, dtype=np.float64)
    return np.interp(np.arange(len(warp) if n_out is None else n_out), warp, np.arange(len(warp)))


def drift_warp(
    rng: np.random.Generator,
    n_audio: int,
    fps: float,
    speeds: tuple[float, float],
    max_offset_s: float = 0.0,
) -> np.ndarray:
    """source_frame (audio frame at `fps`) of every frame of a video that drifts against `n_audio` frames of music.

    The video shows the dance from a random start to a random end offset (each 0 .. max_offset_s seconds into /
    before the end of the music) at a local speed (music seconds per video second) that wanders smoothly between
    speeds[0] and speeds[1]: log-speed is a sum of 2-4 sinusoids with periods of 15-60 % of the music's length (at
    least 4 s), scaled to span the range. Returns (n_video,) strictly increasing; n_video follows from the speeds.
    speeds (1, 1) and no offset: the identity over n_audio frames. The path is fitted to the music it covers at
    the end, which scales every speed by the same factor: by less than one frame over the whole video (under 1 %
    for videos of 6 s and longer).
    """
    lo, hi = speeds
    if not 0 < lo <= hi:
        raise ValueError(f"speeds must satisfy 0 < lo <= hi, got {speeds}")
    start, end = (rng.uniform(0, max_offset_s) * fps for _ in range(2))
    target = (n_audio - 1) - end - start  # audio frames the video covers
    if target <= 1:
        raise ValueError(f"offsets of {start / fps:.1f} s and {end / fps:.1f} s leave no music of {n_audio} frames")
    n_max = int(np.ceil(target / lo)) + 2
    t = np.arange(n_max) / fps
    seconds = n_audio / fps
    log_speed = np.zeros(n_max)
    for _ in range(int(rng.integers(2, 5))):
        period = max(4.0, rng.uniform(0.15, 0.6) * seconds)
        log_speed += rng.uniform(0.4, 1.0) * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
    span = np.ptp(log_speed)
    unit = (log_speed - log_speed.min()) / span if span > 1e-9 else np.full(n_max, 0.5)
    speed = np.exp(np.log(lo) + unit * (np.log(hi) - np.log(lo)))
    covered = np.concatenate([[0.0], np.cumsum(speed[:-1])])
    n_video = int(np.searchsorted(covered, target)) + 1
    covered = covered[:n_video]
    return start + covered * (target / covered[-1])
