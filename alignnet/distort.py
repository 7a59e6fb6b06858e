"""Online sample generation: random monotonic time warps, flips, SpecAugment, tempo and timbre changes, low-passes,
motion features.

A time warp maps output (distorted) video frame i = 0 .. n_out-1 to a source
position p(i), a float frame index of the undistorted clip (0 .. n_src-1):

    p(i) = (n_src - 1) * (offset + span * g(i / (n_out - 1)))

with a global stretch `span` (share of the source the distorted video covers),
a global shift `offset` in [0, 1 - span] and a local warp g: [0, 1] -> [0, 1],
g(0) = 0, g(1) = 1, strictly increasing, built from sorted random anchors,
linearly interpolated, with max |g(x) - x| <= `max_deviation`. The distorted
keypoints are the source keypoints linearly interpolated at p(i); the true
correspondence of frame i is source frame p(i) (see `alignnet.correspondence`).

All randomness comes from an explicit `numpy.random.Generator`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alignnet.atomic import atomic_output
from alignnet.errors import UserInputError
from alignnet.keypoints import DANCE_MIRROR


@dataclass(frozen=True)
class WarpConfig:
    """Limits of the random time warp (all in shares of the source clip)."""

    min_span: float = 0.7  # the video covers 70-100 % of the source: overall slow-downs
    max_span: float = 1.0
    n_anchors: int = 8  # interior anchors of the local warp
    max_deviation: float = 1 / 6  # bound on |g(x) - x|
    local_probability: float = 0.9  # chance that a local warp is applied at all
    # Strong warps (`strong_warp`, off by default): a clip-level speed and offset instead of span and offset.
    min_speed: float = 1.0  # source frames per distorted frame, drawn log-uniformly in [min_speed, max_speed]
    max_speed: float = 1.0
    max_offset_frames: float = 0.0  # the distorted clip's centre moved by up to this many source frames

    @property
    def strong(self) -> bool:
        """Whether warps are drawn by `strong_warp` (a speed range or an offset set)."""
        return self.min_speed != 1.0 or self.max_speed != 1.0 or self.max_offset_frames > 0.0


STRONG_SPEEDS = (0.6, 1.6)  # `alignnet train --strong-warps`: the speeds users' videos drift over (issue 34)


@dataclass(frozen=True)
class AugmentConfig:
    """Flip and SpecAugment settings (widths inclusive, in bins / audio frames)."""

    flip_probability: float = 0.5
    freq_mask_probability: float = 0.5
    freq_mask_width: tuple[int, int] = (3, 10)
    time_mask_probability: float = 0.5
    time_mask_width: tuple[int, int] = (5, 20)
    tempo_probability: float = 0.5  # chance of a tempo change (`change_tempo`) before the warp
    min_tempo_share: float = 0.75  # the slowest: the clip's middle 75 % stretched to its length (tempo x0.75)
    # Timbre changes (`change_timbre`), in units of the normalised log-mel (train std 1 per bin):
    timbre_probability: float = 0.8
    max_bin_shift: int = 4  # the spectrum moved up or down by up to this many mel bins
    eq_std: float = 0.25  # std of each of the EQ curve's three cosine components
    contrast_range: float = 0.2  # the log-mel scaled by a factor in 1 +- this
    level_std: float = 0.2  # std of an offset of the whole log-mel
    cross_clip_probability: float = 0.5  # chance of a window across a clip and the next (`straddling_window`)
    # Low-passes (`limit_band`): the cutoff log-uniform from min_cutoff_hz to the top bin, silence above it
    band_limit_probability: float = 0.3
    min_cutoff_hz: float = 3000.0
    rolloff: float = 0.05  # the bins fall to silence over this share of the cutoff above it


def local_warp(rng: np.random.Generator, n_anchors: int, amplitude: float, max_deviation: float) -> np.ndarray:
    """Anchor values of a random local warp g at x = linspace(0, 1, n_anchors + 2).

    g = x + a * (h - x) with h a random strictly increasing anchor curve
    (cumulative Dirichlet increments); a convex mix of two strictly increasing
    curves is strictly increasing. a = amplitude, reduced so that
    max |g - x| <= max_deviation. amplitude 0 gives the identity.
    """
    x = np.linspace(0.0, 1.0, n_anchors + 2)
    h = np.concatenate([[0.0], np.cumsum(rng.dirichlet(np.full(n_anchors + 1, 2.0)))])
    h[-1] = 1.0
    deviation = np.abs(h - x).max()
    a = min(amplitude, max_deviation / deviation) if deviation > 0 else 0.0
    return x + a * (h - x)


def strong_warp(rng: np.random.Generator, n_out: int, n_src: int, config: WarpConfig) -> np.ndarray:
    """Source positions (n_out,) float64 in [0, n_src - 1], non-decreasing: a clip-level speed and offset.

    p(i) = c + s (n_out - 1) (g(i / (n_out - 1)) - 1/2), clipped to the clip: speed s (source frames per
    distorted frame) log-uniform in [min_speed, max_speed], centre c = (n_src - 1) / 2 + d with the offset
    d uniform in +-max_offset_frames (at most half the clip, so the middle frame's dance is in the clip),
    and the paper's local warp g. Where the distorted clip runs past the source (a speed above 1 or a large
    offset), its frames hold the clip's first or last pose with that edge as their truth, as a window whose
    prior is off by seconds sees music that the dance has not reached or has left behind.
    """
    speed = float(np.exp(rng.uniform(np.log(config.min_speed), np.log(config.max_speed))))
    reach = min(config.max_offset_frames, (n_src - 1) / 2)
    offset = rng.uniform(-reach, reach)
    amplitude = 1.0 if rng.random() < config.local_probability else 0.0
    anchors = local_warp(rng, config.n_anchors, amplitude, config.max_deviation)
    g = np.interp(np.linspace(0.0, 1.0, n_out), np.linspace(0.0, 1.0, len(anchors)), anchors)
    return np.clip((n_src - 1) / 2 + offset + speed * (n_out - 1) * (g - 0.5), 0.0, n_src - 1)


def random_warp(rng: np.random.Generator, n_out: int, n_src: int, config: WarpConfig = WarpConfig()) -> np.ndarray:
    """Source positions (n_out,) float64 in [0, n_src - 1], strictly increasing (n_out > 1); with
    `config.strong`, `strong_warp`'s (non-decreasing)."""
    if config.strong:
        return strong_warp(rng, n_out, n_src, config)
    span = rng.uniform(config.min_span, config.max_span)
    offset = rng.uniform(0.0, 1.0 - span)
    amplitude = 1.0 if rng.random() < config.local_probability else 0.0
    anchors = local_warp(rng, config.n_anchors, amplitude, config.max_deviation)
    x = np.linspace(0.0, 1.0, n_out)
    g = np.interp(x, np.linspace(0.0, 1.0, len(anchors)), anchors)
    return np.clip((offset + span * g) * (n_src - 1), 0.0, n_src - 1)


def apply_warp(values: np.ndarray, positions: np.ndarray, axis: int = 0) -> np.ndarray:
    """A sequence sampled at float source positions (n_out,) along its time `axis`, linear; same dtype.

    Keypoints (n_src, K, 2) in the pipeline, log-mel (n_bins, m) with axis=1;
    any shape works. Float inputs are interpolated in their own precision (at
    least float32), others in float64. It runs for every training sample, so
    it gathers along `axis` directly (no transposed copy) and works in place.
    """
    n_src = values.shape[axis]
    lo = np.clip(np.floor(positions).astype(np.int64), 0, n_src - 1)
    hi = np.minimum(lo + 1, n_src - 1)
    work = np.result_type(values.dtype, np.float32) if np.issubdtype(values.dtype, np.floating) else np.float64
    shape = [1] * values.ndim
    shape[axis] = -1
    frac = (positions - lo).astype(work).reshape(shape)
    out = np.take(values, lo, axis=axis).astype(work, copy=False)
    step = np.take(values, hi, axis=axis).astype(work, copy=False)
    step -= out
    step *= frac
    out += step
    return out.astype(values.dtype, copy=False)


def change_tempo(
    rng: np.random.Generator, keypoints: np.ndarray, logmel: np.ndarray, audio_per_video: float, min_share: float
) -> tuple[np.ndarray, np.ndarray]:
    """Slow music and dance down together: a window of both, a share f in [min_share, 1] of the clip, stretched.

    The window starts at a random time and is resampled to the clip's length.

    keypoints (n, K, 2) and logmel (n_bins, m) of the same time span, with
    `audio_per_video` audio frames per video frame. Video frame q of the
    result is source time (o + f q) / fps, audio frame j is (o ratio + f j) /
    audio rate: one affine map of time, so the two stay in sync and the warp
    drawn afterwards has its usual meaning. A tempo augmentation: a clip with
    its song's tempo becomes one at f times that tempo.
    """
    n, m = keypoints.shape[0], logmel.shape[1]
    share = float(rng.uniform(min_share, 1.0))
    latest = max(0.0, min((n - 1) * (1.0 - share), (m - 1) * (1.0 - share) / audio_per_video))
    start = float(rng.uniform(0.0, latest))
    kp = apply_warp(keypoints, start + share * np.arange(n, dtype=np.float64))
    at = np.clip(start * audio_per_video + share * np.arange(m, dtype=np.float64), 0.0, m - 1)
    return kp, apply_warp(np.asarray(logmel, np.float32), at, axis=1)


def straddling_window(
    rng: np.random.Generator,
    first: tuple[np.ndarray, np.ndarray],
    second: tuple[np.ndarray, np.ndarray],
    audio_per_video: float,
) -> tuple[np.ndarray, np.ndarray]:
    """A clip-long window from a random time inside clip `first` into clip `second`, which follows it in the video.

    first, second: (keypoints (n, K, 2), logmel (n_bins, m)) of two back-to-back
    clips. The window's audio starts at a random whole log-mel frame a of the
    first clip; its video at the same time, a / audio_per_video video frames
    in (keypoints linearly interpolated). Returns the first clip's shapes. A
    clip holds a whole number m of log-mel frames, within one of
    n * audio_per_video, so the second clip's audio sits less than one
    log-mel frame (12 ms at 44.1 kHz / hop 512) off against its video: well
    inside a video frame. More distinct windows of each song than its fixed
    clips give.
    """
    (kp_a, mel_a), (kp_b, mel_b) = first, second
    n, m = kp_a.shape[0], mel_a.shape[1]
    a = int(rng.integers(1, m))
    keypoints = np.concatenate([kp_a, kp_b]).astype(np.float32)
    video = apply_warp(keypoints, np.minimum(a / audio_per_video + np.arange(n), len(keypoints) - 1))
    audio = np.concatenate([mel_a, mel_b], axis=1)[:, a : a + m]
    return video, np.ascontiguousarray(audio, dtype=np.float32)


def change_timbre(rng: np.random.Generator, logmel: np.ndarray, config: AugmentConfig = AugmentConfig()) -> np.ndarray:
    """The same music as another mix or recording might sound: a new (n_bins, m) float32 normalised log-mel.

    The spectrum moves up or down by up to `max_bin_shift` mel bins (the edge
    bins repeated), a smooth random EQ curve (three cosines over the bins) is
    added, the contrast is scaled and the level offset. Every frame gets the
    same change, so the timing, and with it the alignment, stays as it was:
    the model has to find the music's onsets and accents, not recognise the
    train songs' instruments.
    """
    out = np.asarray(logmel, np.float32)
    n_bins = out.shape[0]
    shift = int(rng.integers(-config.max_bin_shift, config.max_bin_shift + 1))
    out = out[np.clip(np.arange(n_bins) - shift, 0, n_bins - 1)]
    bins = np.linspace(0.0, 1.0, n_bins)
    eq = sum(rng.normal(0.0, config.eq_std) * np.cos(np.pi * f * bins + rng.uniform(0, 2 * np.pi)) for f in (0.5, 1, 2))
    contrast = rng.uniform(1.0 - config.contrast_range, 1.0 + config.contrast_range)
    level = rng.normal(0.0, config.level_std)
    return (out * contrast + eq[:, None] + level).astype(np.float32)


@dataclass(frozen=True)
class MelBands:
    """What a low-pass needs to know of the log-mel: each bin's centre frequency (Hz), and silence per bin in the
    normalised log-mel's units ((silence dB - train mean) / train std; `alignnet.data.logmel.normalised_silence`)."""

    frequencies: tuple[float, ...]
    silence: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.frequencies) != len(self.silence):
            raise ValueError(f"{len(self.frequencies)} bin frequencies against {len(self.silence)} silence values")


def low_pass(
    logmel: np.ndarray, bands: MelBands, cutoff_hz: float, rolloff: float = AugmentConfig.rolloff
) -> np.ndarray:
    """A (n_bins, m) float32 normalised log-mel as a low-pass at `cutoff_hz` leaves it.

    Bins at or below the cutoff keep their values; above it they fall, over
    `rolloff` times the cutoff, to the value silence has in each bin.
    """
    if len(bands.frequencies) != logmel.shape[0]:
        raise ValueError(f"{len(bands.frequencies)} band frequencies for a log-mel of {logmel.shape[0]} bins")
    frequencies = np.asarray(bands.frequencies, np.float64)
    fall = np.clip((frequencies - cutoff_hz) / (rolloff * cutoff_hz), 0.0, 1.0).astype(np.float32)[:, None]
    out = np.asarray(logmel, np.float32)
    silence = np.asarray(bands.silence, np.float32)[:, None]
    return (out + fall * (silence - out)).astype(np.float32)


def limit_band(
    rng: np.random.Generator, logmel: np.ndarray, bands: MelBands, config: AugmentConfig = AugmentConfig()
) -> np.ndarray:
    """The music as a random low-pass left it (`low_pass`): lossy codecs cut near 16 kHz, 22.05 / 16 / 8 kHz
    files at half their rate, a telephone at 3.4 kHz.

    The cutoff is drawn log-uniformly from `min_cutoff_hz` to the top bin's
    frequency (no change when that is below `min_cutoff_hz`). Without this, a
    model trained on full-band music reads the empty top bins of such a file as
    music it never heard: on the demo's validation clips a 16 kHz cutoff cost
    the demo checkpoint 19 points of accuracy (78.8 -> 59.8 %).
    """
    top = float(bands.frequencies[-1]) if bands.frequencies else 0.0
    if config.min_cutoff_hz >= top:
        return np.asarray(logmel, np.float32)
    cutoff = float(np.exp(rng.uniform(np.log(config.min_cutoff_hz), np.log(top))))
    return low_pass(logmel, bands, cutoff, config.rolloff)


def flip_keypoints(keypoints: np.ndarray, mirror: np.ndarray = DANCE_MIRROR) -> np.ndarray:
    """Horizontal flip of body-centred keypoints (frames, K, 2): x -> -x, left/right swapped."""
    if len(mirror) != keypoints.shape[1]:
        raise ValueError(f"mirror permutation of {len(mirror)} keypoints for keypoints of shape {keypoints.shape}")
    flipped = keypoints[:, mirror].copy()
    flipped[..., 0] *= -1.0
    return flipped


@dataclass(frozen=True)
class Masks:
    """SpecAugment masks applied to one log-mel: half-open [start, stop) ranges, None if not applied."""

    freq: tuple[int, int] | None
    time: tuple[int, int] | None


def draw_masks(rng: np.random.Generator, n_bins: int, n_frames: int, config: AugmentConfig = AugmentConfig()) -> Masks:
    """Random frequency and time masks for a (n_bins, n_frames) log-mel."""

    def one(probability: float, widths: tuple[int, int], size: int) -> tuple[int, int] | None:
        if rng.random() >= probability or size < 1:
            return None
        width = min(int(rng.integers(widths[0], widths[1] + 1)), size)
        start = int(rng.integers(0, size - width + 1))
        return start, start + width

    return Masks(
        freq=one(config.freq_mask_probability, config.freq_mask_width, n_bins),
        time=one(config.time_mask_probability, config.time_mask_width, n_frames),
    )


def apply_masks(logmel: np.ndarray, masks: Masks) -> np.ndarray:
    """Copy of logmel (n_bins, n_frames) with the masked bins / frames set to its mean."""
    out = np.array(logmel, dtype=np.float32, copy=True)
    fill = float(out.mean()) if out.size else 0.0
    if masks.freq is not None:
        out[masks.freq[0] : masks.freq[1], :] = fill
    if masks.time is not None:
        out[:, masks.time[0] : masks.time[1]] = fill
    return out


INPUT_SCALINGS = ("body", "per_keypoint")


def scale_positions(keypoints: np.ndarray) -> np.ndarray:
    """Min-max scale each keypoint's x and y over the clip to [-1, 1]; (frames, K, 2) -> same.

    A coordinate that never moves maps to 0. The per-keypoint normalisation of the
    paper's figures 4 and 5, and the authors' model input ("per_keypoint" scaling).
    """
    lo = keypoints.min(axis=0, keepdims=True)
    hi = keypoints.max(axis=0, keepdims=True)
    extent = hi - lo
    scaled = 2.0 * (keypoints - lo) / np.where(extent > 0, extent, 1.0) - 1.0
    return np.where(extent > 0, scaled, 0.0).astype(np.float32)


def _unit_max(values: np.ndarray) -> np.ndarray:
    peak = np.abs(values).max() if values.size else 0.0
    return values / peak if peak > 0 else values


def scale_body(keypoints: np.ndarray) -> np.ndarray:
    """Body-centred keypoints (frames, K, 2) divided by their largest |coordinate| over the clip -> [-1, 1].

    One scale for every point and both axes: the pose keeps its shape, and a
    point that barely moves (a hip, relative to the mid-hip) stays small
    instead of being stretched, with its detector noise, to the full range.
    """
    return _unit_max(np.asarray(keypoints, np.float32))


def motion_features(keypoints: np.ndarray, motion: bool = True, scaling: str = "body") -> np.ndarray:
    """Model video input (4K, frames) float32 from keypoints (frames, K, 2).

    motion=True: [vel_x(K), vel_y(K), acc_x(K), acc_y(K)], velocity and
    acceleration (np.gradient over frames) of the scaled positions, each
    divided by its largest magnitude over the clip.
    motion=False (ablation): [pos_x(K), pos_y(K), zeros(2K)].
    scaling: "body" (`scale_body`, the default) or "per_keypoint" (`scale_positions`,
    the authors' code): with per-keypoint scaling every point's motion fills
    [-1, 1], so the noise of near-still points weighs as much as a wrist's
    swing; on the demo's validation clips that cost about 10 points of accuracy.
    """
    if scaling not in INPUT_SCALINGS:
        raise ValueError(f"scaling {scaling!r}: choose one of {', '.join(INPUT_SCALINGS)}")
    pos = scale_body(keypoints) if scaling == "body" else scale_positions(keypoints)
    frames, k, _ = pos.shape
    if not motion:
        out = np.zeros((4 * k, frames), np.float32)
        out[: 2 * k] = pos.transpose(2, 1, 0).reshape(2 * k, frames)
        return out
    if frames < 2:
        return np.zeros((4 * k, frames), np.float32)
    vel = np.gradient(pos, axis=0)
    acc = np.gradient(vel, axis=0)
    feats = np.concatenate([_unit_max(vel), _unit_max(acc)], axis=2)  # (frames, K, 4): vx, vy, ax, ay
    return feats.transpose(2, 1, 0).reshape(4 * k, frames).astype(np.float32)


@dataclass
class Sample:
    """One training/evaluation sample.

    video: (4K, n_out) float32 model input; audio: (n_bins, m) float32;
    source: (n_out,) float64 true source frame of each distorted frame.
    """

    video: np.ndarray
    audio: np.ndarray
    source: np.ndarray


@dataclass(frozen=True)
class SampleGenerator:
    """Draws distorted samples from aligned (keypoints, log-mel) clips."""

    warp: WarpConfig = WarpConfig()
    augment: AugmentConfig = AugmentConfig()
    n_out: int | None = None  # distorted length; None = source length
    motion: bool = True
    scaling: str = "body"  # keypoint scaling of the model input: "body" or "per_keypoint" (see motion_features)
    mirror: tuple[int, ...] = tuple(DANCE_MIRROR.tolist())
    flip: bool = True
    spec_augment: bool = True
    timbre: bool = False  # timbre changes of the log-mel (`change_timbre`)
    cross_clip: bool = False  # windows across a clip and the next one of its video (`straddling_window`)
    bands: MelBands | None = None  # the log-mel's bins: with them, low-passes of the music (`limit_band`)
    audio_per_video: float | None = None  # audio frames per video frame; None: no tempo changes

    def __call__(self, rng: np.random.Generator, keypoints: np.ndarray, logmel: np.ndarray) -> Sample:
        """A fresh random sample from keypoints (n_src, K, 2) and logmel (n_bins, m)."""
        if self.audio_per_video is not None and rng.random() < self.augment.tempo_probability:
            keypoints, logmel = change_tempo(
                rng, np.asarray(keypoints, np.float32), logmel, self.audio_per_video, self.augment.min_tempo_share
            )
        n_src = keypoints.shape[0]
        positions = random_warp(rng, self.n_out or n_src, n_src, self.warp)
        kp = apply_warp(np.asarray(keypoints, np.float32), positions)
        if self.flip and rng.random() < self.augment.flip_probability:
            kp = flip_keypoints(kp, np.asarray(self.mirror))
        audio = np.asarray(logmel, np.float32)
        if self.timbre and rng.random() < self.augment.timbre_probability:
            audio = change_timbre(rng, audio, self.augment)
        if self.bands is not None and rng.random() < self.augment.band_limit_probability:
            audio = limit_band(rng, audio, self.bands, self.augment)
        if self.spec_augment:
            audio = apply_masks(audio, draw_masks(rng, audio.shape[0], audio.shape[1], self.augment))
        return Sample(motion_features(kp, self.motion, self.scaling), audio, positions)

    def fixed(self, keypoints: np.ndarray, logmel: np.ndarray, positions: np.ndarray) -> Sample:
        """A sample with a given (saved) warp and no flip or masks: validation and test."""
        kp = apply_warp(np.asarray(keypoints, np.float32), positions)
        return Sample(motion_features(kp, self.motion, self.scaling), np.asarray(logmel, np.float32), positions)


def make_fixed_warps(
    clip_ids: Sequence[str], n_out: int, n_src: int, seed: int, config: WarpConfig = WarpConfig()
) -> np.ndarray:
    """(n_clips, n_out) source positions, clip i drawn from default_rng([seed, i])."""
    return np.stack([random_warp(np.random.default_rng([seed, i]), n_out, n_src, config) for i in range(len(clip_ids))])


def save_fixed_warps(path: str | Path, clip_ids: Sequence[str], positions: np.ndarray, seed: int) -> None:
    """Write the warps of a list of clips to an .npz (clip_ids, positions, seed)."""
    if len(clip_ids) != len(positions):
        raise ValueError(f"{path}: {len(clip_ids)} clip ids but {len(positions)} warps")
    with atomic_output(path) as tmp:
        np.savez(tmp, clip_ids=np.asarray(clip_ids, dtype=str), positions=positions, seed=np.int64(seed))


def load_fixed_warps(path: str | Path, clip_ids: Sequence[str] | None = None) -> np.ndarray:
    """Read saved warps (n_clips, n_out); checks they belong to `clip_ids` when given."""
    try:
        with np.load(path, allow_pickle=False) as data:
            saved_ids, positions = data["clip_ids"].tolist(), data["positions"]
    except (OSError, KeyError, ValueError) as exc:
        raise UserInputError(f"{path}: not a saved warp file ({exc})") from exc
    if clip_ids is not None and list(clip_ids) != saved_ids:
        raise UserInputError(f"{path}: saved warps are for other clips than the split's index")
    return positions
