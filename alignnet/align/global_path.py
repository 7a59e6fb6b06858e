"""The first step of align's coarse-to-fine search: one monotonic path over the whole video and audio.

The model's finest features (the ones whose all-pairs affinity its pooled
lookups and matching loss read) are computed over the whole video and the
whole audio in overlapping chunks of the training clip length (each chunk's
centre is kept, so every feature sees the context it saw in training). Both
feature tracks are brought to one time grid of `rate` cells per second, their
Pearson affinity over all pairs of cells is the cost (1 - affinity), and
`librosa.sequence.dtw` finds the cheapest path under a slope constraint:
steps of (1, 1), (1, 2) and (2, 1) cells (video, audio), i.e. local speeds of
0.5-2x. The path is a subsequence of the audio (it may start and end anywhere
in it: a video that starts or ends a few seconds into the song), and every step
costs its landing cell times the video cells it advances, so every path over
the whole video weighs the same whatever audio span it covers.

Cost: the features and the affinity's grid are linear in length; the grid's
rate is lowered for long inputs so that it holds at most MAX_CELLS cells (at
most 10 cells a second: 10 s against 10 s is 100 x 100 cells; 3 minutes
against 3 minutes 1800 x 1800; 10 minutes against 10 minutes 2000 x 2000 at
3.3 cells a second), so the DTW's time and memory are bounded and what grows
with length is the chunked model, linear. The windows that follow
(`alignnet.align.windows`) re-centre on the path and bring it to single frames.

`path_confidence` says how far the final alignment stands out of the affinity:
per video cell, the affinity where the alignment puts it against all the audio
it could have been matched with (a z-score), averaged over the video.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import librosa
import numpy as np
import torch
from scipy.interpolate import interp1d
from scipy.ndimage import uniform_filter1d

from alignnet.baselines.dtw import mean_column_per_row
from alignnet.models.alignnet import AlignNet
from alignnet.motion_features import motion_features

MAX_CELLS = 4_000_000  # cells of the global affinity grid: float32 affinity 16 MB, DTW's float64 tables 64 MB
MAX_RATE = 10.0  # grid cells per second at most: the finest features' own rate (~10 per second)
MIN_CELLS = 4  # fewer video cells than this: no global search (the video lasts well under a second)
STEPS = np.array([[1, 1], [1, 2], [2, 1]])  # (video, audio) cells per DTW step: local speeds 0.5-2x
STEP_WEIGHTS = np.array([1.0, 1.0, 2.0])  # a step's cost is its landing cell's times the video cells it advances
# A dance whose every beat looks alike (a new key pose struck on each beat) matches its music equally well one or
# two beats off: the affinity alone cannot choose, and the path locked 1 s off on such a dance. A cost of
# PRIOR_WEIGHT (in units of 1 - affinity) per cell, growing linearly up to PRIOR_REACH_S seconds from the linear
# prior ("the video spans the audio") and flat beyond, breaks such ties towards the prior and is too small to
# outweigh a dance that does match elsewhere (docs/align.md, "1. The global path").
PRIOR_WEIGHT = 0.05
PRIOR_REACH_S = 4.0
# below this confidence (`path_confidence`) the dance is reported not to match the music: with the kept demo checkpoint
# and true keypoints, drifted demo dances score 2.4-3.1 against their own music, 1.0-1.3 against another song
LOW_CONFIDENCE = 1.6  # (docs/align.md: with pose from pixels)
CHUNK_BATCH = 32  # chunks per forward pass of the feature pyramid


@dataclass(frozen=True)
class FeatureTrack:
    """(C, L) features of a whole sequence and the time (s) of each of their L frames."""

    features: np.ndarray
    times: np.ndarray

    def on_grid(self, rate: float, n_cells: int) -> np.ndarray:
        """(C, n_cells) features at times k / rate: box-averaged over about one cell (an odd number of frames,
        centred), then linearly interpolated."""
        native = (len(self.times) - 1) / max(self.times[-1] - self.times[0], 1e-9) if len(self.times) > 1 else rate
        size = 2 * (round(native / rate) // 2) + 1
        smooth = uniform_filter1d(self.features, size, axis=1, mode="nearest") if size > 1 else self.features
        if len(self.times) == 1:
            return np.repeat(smooth, n_cells, axis=1)
        at = interp1d(self.times, smooth, axis=1, bounds_error=False, fill_value=(smooth[:, 0], smooth[:, -1]))
        return at(np.arange(n_cells) / rate).astype(np.float32)


@dataclass(frozen=True)
class GlobalGrid:
    """The all-pairs affinity (n_video_cells, n_audio_cells) of the two feature tracks at `rate` cells per second."""

    affinity: np.ndarray
    rate: float

    def path(self) -> np.ndarray | None:
        """(n_video_cells,) audio cell of every video cell on the cheapest slope-constrained subsequence path,
        or None where no path fits (the audio shorter than half the video)."""
        n_video, n_audio = self.affinity.shape
        if n_video < MIN_CELLS or 2 * (n_audio - 1) < n_video - 1:
            return None
        # unreachable columns pad the audio to at least the video's cells: librosa (0.11) flips the path of a
        # precomputed subsequence cost with more rows than columns, as if it had transposed it
        cost = np.full((n_video, max(n_audio, n_video)), np.inf)
        cost[:, :n_audio] = 1.0 - self.affinity + PRIOR_WEIGHT * self.prior_distance()
        total, path = librosa.sequence.dtw(
            C=cost, step_sizes_sigma=STEPS, weights_mul=STEP_WEIGHTS, weights_add=np.zeros(len(STEPS)), subseq=True
        )
        if not np.isfinite(total[-1]).any():
            return None
        return mean_column_per_row(path, n_video)

    def prior_distance(self) -> np.ndarray:
        """(n_video_cells, n_audio_cells): each cell's distance from the linear prior, a share of PRIOR_REACH_S
        (1 at and beyond it)."""
        n_video, n_audio = self.affinity.shape
        prior = np.arange(n_video)[:, None] * (n_audio - 1) / max(n_video - 1, 1)
        seconds = np.abs(np.arange(n_audio)[None, :] - prior) / self.rate
        return np.minimum(seconds / PRIOR_REACH_S, 1.0)

    @cached_property
    def z_scores(self) -> np.ndarray:
        """(n_video_cells, n_audio_cells): each row's affinity as z-scores within the row (computed once: `alignment`
        scores both the windows' answer and the path against them)."""
        mean = self.affinity.mean(axis=1, keepdims=True)
        std = self.affinity.std(axis=1, keepdims=True)
        return (self.affinity - mean) / np.maximum(std, 1e-6)


def chunk_spans(total: int, length: int, stride: int) -> list[tuple[int, int]]:
    """[start, stop) of chunks of `length` frames every about length / 2 frames over `total` frames; starts are
    multiples of `stride`; the last chunk ends at `total` (up to stride - 1 frames longer than the others)."""
    if total <= length:
        return [(0, total)]
    hop = max(stride, (length // 2) // stride * stride)
    last = (total - length) // stride * stride
    return [(s, s + length) for s in range(0, last, hop)] + [(last, total)]


def chunked_features(
    run: Callable[[list[np.ndarray]], list[np.ndarray]], total: int, length: int, stride: int, cut: Callable
) -> np.ndarray:
    """(C, ceil(total / stride)) features of a whole sequence from `run` over overlapping chunks.

    cut(start, stop) gives a chunk's input; run(inputs) its features (C, ceil(len / stride)), a batch at a time.
    Output frame k (centred on input frame k * stride) comes from the chunk whose centre is nearest.
    """
    spans = chunk_spans(total, max(stride, length // stride * stride), stride)
    n_out = -(-total // stride)
    centres = np.array([(a + b) / 2 for a, b in spans])
    owner = np.argmin(np.abs(np.arange(n_out)[:, None] * stride - centres[None]), axis=1)
    out: np.ndarray | None = None
    for first in range(0, len(spans), CHUNK_BATCH):
        batch = spans[first : first + CHUNK_BATCH]
        for index, ((start, _), feats) in enumerate(zip(batch, run([cut(a, b) for a, b in batch]), strict=True)):
            mine = np.flatnonzero(owner == first + index)
            if out is None:
                out = np.zeros((feats.shape[0], n_out), np.float32)
            out[:, mine] = feats[:, mine - start // stride]
    assert out is not None
    return out


def _batched(fn: Callable[[torch.Tensor], torch.Tensor], device: torch.device) -> Callable:
    """run(inputs) for `chunked_features`: `fn` on the inputs stacked where their shapes agree."""

    @torch.no_grad()
    def run(inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        shapes: dict[tuple[int, ...], list[int]] = {}
        for i, x in enumerate(inputs):
            shapes.setdefault(x.shape, []).append(i)
        out: dict[int, np.ndarray] = {}
        for members in shapes.values():
            x = torch.from_numpy(np.stack([inputs[i] for i in members])).to(device)
            out.update(zip(members, fn(x).float().cpu().numpy(), strict=True))
        return [out[i] for i in range(len(inputs))]

    return run


def feature_tracks(
    model: AlignNet,
    keypoints: np.ndarray,
    mel: np.ndarray,
    fps: float,
    audio_rate: float,
    chunk_seconds: float,
    device: str | torch.device = "cpu",
) -> tuple[FeatureTrack, FeatureTrack]:
    """The finest video and audio features over the whole of keypoints (n, K, 2) and mel (bins, m), in chunks of
    `chunk_seconds` (the training clip length: motion features are scaled per chunk as per training clip)."""
    model = model.eval().to(device)
    config = model.config
    video_stride, audio_stride = model.finest_strides
    n, m = len(keypoints), mel.shape[1]
    video = chunked_features(
        _batched(model.finest_video_features, torch.device(device)),
        n,
        round(chunk_seconds * fps),
        video_stride,
        lambda a, b: motion_features(keypoints[a:b], config.motion_inputs, config.input_scaling),
    )
    audio = chunked_features(
        _batched(model.finest_audio_features, torch.device(device)),
        m,
        round(chunk_seconds * audio_rate),
        audio_stride,
        lambda a, b: np.ascontiguousarray(mel[:, a:b], np.float32),
    )
    video_times = np.arange(video.shape[1]) * video_stride / fps
    audio_times = np.arange(audio.shape[1]) * audio_stride / audio_rate
    return FeatureTrack(video, video_times), FeatureTrack(audio, audio_times)


def grid_rate(video_seconds: float, audio_seconds: float) -> float:
    """Cells per second of the global grid: MAX_RATE, lowered so that the grid holds at most MAX_CELLS cells."""
    return float(min(MAX_RATE, np.sqrt(MAX_CELLS / max(video_seconds * audio_seconds, 1e-9))))


def _standardise(features: np.ndarray) -> np.ndarray:
    """Centre and unit-normalise (C, L) features over C at every time step (Pearson affinity by dot product)."""
    centred = features - features.mean(axis=0, keepdims=True)
    return centred / np.maximum(np.linalg.norm(centred, axis=0, keepdims=True), 1e-6)


def global_grid(video: FeatureTrack, audio: FeatureTrack, video_seconds: float, audio_seconds: float) -> GlobalGrid:
    """The affinity of the two tracks on the grid of `grid_rate` cells per second over both whole lengths."""
    rate = grid_rate(video_seconds, audio_seconds)
    n_video, n_audio = (max(1, int(np.floor(s * rate)) + 1) for s in (video_seconds, audio_seconds))
    v = _standardise(video.on_grid(rate, n_video))
    a = _standardise(audio.on_grid(rate, n_audio))
    return GlobalGrid((v.T @ a).astype(np.float32), rate)


def path_in_frames(grid: GlobalGrid, cells: np.ndarray, n_video: int, fps: float, audio_rate: float) -> np.ndarray:
    """(n_video,) log-mel frame of every 30 fps video frame from the grid path `cells` (audio cell per video cell)."""
    seconds = np.interp(np.arange(n_video) / fps * grid.rate, np.arange(len(cells)), cells) / grid.rate
    return seconds * audio_rate


def path_confidence(grid: GlobalGrid, positions: np.ndarray, fps: float, audio_rate: float) -> float:
    """Mean over the grid's video cells of the z-score (within its row) of the affinity at the audio cell where
    `positions` ((n_video,) log-mel frame of every video frame) puts it."""
    z = grid.z_scores
    n_cells, n_audio_cells = z.shape
    frames = np.arange(len(positions)) / fps
    cell_times = np.arange(n_cells) / grid.rate
    audio_cells = np.interp(cell_times, frames, positions / audio_rate) * grid.rate
    columns = np.clip(np.rint(audio_cells), 0, n_audio_cells - 1).astype(np.int64)
    return float(z[np.arange(n_cells), columns].mean())
