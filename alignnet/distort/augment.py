"""Augmentations of a training sample: flips, SpecAugment masks, tempo, timbre and band-limit changes, windows
across two clips. The time warp itself is in `alignnet.distort.warps`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alignnet.distort.warps import apply_warp
from alignnet.keypoints import DANCE_MIRROR


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
