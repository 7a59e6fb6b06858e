"""Overlapping windows over a whole video and its audio, and their predictions stitched into one monotonic map.

The model is trained on clips of a fixed length (6 s: 180 video frames against
516 log-mel frames) in which the video covers 70-100 % of the audio. A long
video is cut into overlapping video windows; each is paired with an audio
window of the training clip's length centred on where a prior puts that
video window (first the global path of `alignnet.align.global_path`, or
with prior "linear" the map "the video spans the whole audio"; with passes
> 1, then the previous pass's stitched prediction). The video window
covers `coverage` of its audio window under that prior: 1.0 gives exactly
the training clip's shapes (180 video frames against 516 log-mel frames when
the video and the audio last equally long); below 1.0 leaves audio margin for
content that drifted out of the window, as the training's 70-100 % spans do.

Every window's prediction is an audio position per video frame. Each frame
takes the weighted median of the windows that cover it, with triangular
weights (highest at a window's centre, where the model sees the most
context), and the result is made monotonic by weighted isotonic regression
(scipy), the least-squares non-decreasing fit. The median, not a weighted
mean: where one window locks onto the wrong beat (off by a whole beat, 10-20
frames) and the others agree, a mean would land between the two, off by
several frames; the median keeps the majority. With windows every 0.5 s, each
frame gets about twelve votes.

Units: video frames index the 30 fps video; audio positions are log-mel
frame indices (float) of the whole audio track.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import isotonic_regression

from alignnet.cli_options import option

PRIORS = ("global", "linear")


@dataclass(frozen=True)
class WindowConfig:
    """Window sizes in seconds of audio; coverage: share of an audio window its video window spans."""

    window_seconds: float = 6.0
    hop_seconds: float = option(
        0.5,
        "audio seconds between windows: each frame takes the median of the windows covering it, so a shorter hop"
        " gives more votes (and more model time, still small against pose extraction)",
    )
    coverage: float = option(1.0, "share of an audio window its video window spans (below 1: audio margin for drift)")
    passes: int = option(1, "alignment passes; each further pass re-centres the audio windows on the previous result")
    prior: str = option(
        "global",
        "where the first windows go: on a global path over the whole length (`alignnet.align.global_path`: follows"
        " drifts of seconds) or on the linear map 'the dance spans AUDIO from start to end'",
        choices=PRIORS,
    )

    def __post_init__(self) -> None:
        if self.window_seconds <= 0 or self.hop_seconds <= 0:
            raise ValueError(f"window and hop must be positive, got {self.window_seconds} s and {self.hop_seconds} s")
        if self.hop_seconds > self.coverage * self.window_seconds:
            raise ValueError(
                f"hop {self.hop_seconds} s leaves gaps between video windows of "
                f"{self.coverage * self.window_seconds:g} s (coverage {self.coverage} x window {self.window_seconds} s)"
            )
        if not 0 < self.coverage <= 1 or self.passes < 1:
            raise ValueError(f"coverage must be in (0, 1] and passes >= 1, got {self.coverage}, {self.passes}")
        if self.prior not in PRIORS:
            raise ValueError(f"prior {self.prior!r}: choose one of {', '.join(PRIORS)}")


@dataclass(frozen=True)
class Window:
    """Half-open ranges [start, stop) of video frames and of log-mel frames."""

    video_start: int
    video_stop: int
    audio_start: int
    audio_stop: int


def linear_prior(n_video: int, n_audio: int) -> np.ndarray:
    """(n_video,) audio position of each video frame if the video spans the whole audio evenly."""
    return np.linspace(0.0, max(n_audio - 1, 0), n_video)


def video_spans(n_video: int, length: int, hop: int) -> list[tuple[int, int]]:
    """[start, stop) of windows of `length` frames every `hop` frames; the last one ends at n_video."""
    if n_video <= length:
        return [(0, n_video)]
    starts = list(range(0, n_video - length, max(hop, 1))) + [n_video - length]
    return [(s, s + length) for s in starts]


def plan_windows(prior: np.ndarray, n_audio: int, fps: float, audio_rate: float, config: WindowConfig) -> list[Window]:
    """Windows over a video of len(prior) frames and n_audio log-mel frames.

    prior: (n_video,) expected audio position (log-mel frame) of every video frame.
    Video windows span coverage * window_seconds of audio under the average
    slope of `prior` (from its first to its last frame: the linear prior's is
    the whole audio's over the whole video); each audio window has
    window_seconds of audio (fewer when the audio is shorter), centred on its
    video window's prior, shifted to lie inside the audio.
    """
    n_video = len(prior)
    audio_length = min(n_audio, max(2, round(config.window_seconds * audio_rate)))
    covered = max(prior[-1] - prior[0] + 1, 1.0)  # log-mel frames from the first video frame's to the last's
    audio_per_video = (covered / audio_rate) / (n_video / fps)  # seconds of audio per second of video
    length = max(2, round(config.coverage * config.window_seconds * fps / audio_per_video))
    hop = max(1, round(config.hop_seconds * fps / audio_per_video))
    windows = []
    for start, stop in video_spans(n_video, length, hop):
        centre = 0.5 * (prior[start] + prior[stop - 1])
        audio_start = int(np.clip(round(centre - audio_length / 2), 0, n_audio - audio_length))
        windows.append(Window(start, stop, audio_start, audio_start + audio_length))
    return windows


def blend_weights(length: int) -> np.ndarray:
    """(length,) triangular weights, largest at the centre, positive at both ends."""
    return np.bartlett(length + 2)[1:-1]


def weighted_median(groups: np.ndarray, values: np.ndarray, weights: np.ndarray, n_groups: int) -> np.ndarray:
    """(n_groups,) weighted median of `values` within each group (0 .. n_groups-1; each must have a value).

    The lower weighted median: the smallest value whose cumulative weight, in
    increasing order within its group, reaches half the group's total.
    """
    order = np.lexsort((values, groups))
    groups, values, cumulative = groups[order], values[order], np.cumsum(weights[order])
    last = np.searchsorted(groups, np.arange(n_groups), side="right") - 1  # each group's last entry
    end = cumulative[last]
    start = np.concatenate([[0.0], end[:-1]])
    return values[np.searchsorted(cumulative, start + 0.5 * (end - start), side="left")]


def stitch(windows: list[Window], predictions: list[np.ndarray], n_video: int, n_audio: int) -> np.ndarray:
    """One non-decreasing (n_video,) audio position per video frame from per-window predictions.

    predictions[i]: (video_stop - video_start,) audio positions (global log-mel frames) of window i.
    Per frame the weighted median over the windows covering it, then weighted isotonic regression.
    """
    frames, values, weights = [], [], []
    for window, pred in zip(windows, predictions, strict=True):
        frames.append(np.arange(window.video_start, window.video_stop))
        values.append(np.asarray(pred, np.float64))
        weights.append(blend_weights(window.video_stop - window.video_start))
    frame, value, weight = (np.concatenate(x) for x in (frames, values, weights))
    total = np.bincount(frame, weights=weight, minlength=n_video)
    if np.any(total == 0):
        raise ValueError(f"windows leave {int(np.sum(total == 0))} of {n_video} video frames uncovered")
    median = weighted_median(frame, value, weight, n_video)
    fitted = isotonic_regression(median, weights=total, increasing=True).x
    return np.clip(fitted, 0.0, max(n_audio - 1, 0))


def align_in_windows(
    predict: Callable[[list[Window]], list[np.ndarray]],
    n_video: int,
    n_audio: int,
    fps: float,
    audio_rate: float,
    config: WindowConfig,
    on_pass: Callable[[int, list[Window]], None] | None = None,
    initial: np.ndarray | None = None,
) -> np.ndarray:
    """(n_video,) monotonic audio position (log-mel frame) of every video frame.

    predict(windows) returns each window's audio positions (global log-mel frames);
    it gets a whole pass's windows at once (all of one shape: `plan_windows`), to batch them.
    The first pass's windows are centred on `initial` ((n_video,) log-mel frames: the global path), or on the
    linear prior where it is None; each further pass (config.passes in all) on the previous pass's result.
    on_pass(pass_index, windows) is called before each pass (progress reporting).
    """
    estimate = linear_prior(n_video, n_audio) if initial is None else np.asarray(initial, np.float64)
    for index in range(config.passes):
        windows = plan_windows(estimate, n_audio, fps, audio_rate, config)
        if on_pass is not None:
            on_pass(index, windows)
        estimate = stitch(windows, predict(windows), n_video, n_audio)
    return estimate
