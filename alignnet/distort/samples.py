"""Model samples drawn from aligned (keypoints, log-mel) clips: a random time warp, the augmentations, the
motion features of the distorted keypoints."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alignnet.distort.augment import (
    AugmentConfig,
    MelBands,
    apply_masks,
    change_tempo,
    change_timbre,
    draw_masks,
    flip_keypoints,
    limit_band,
)
from alignnet.distort.warps import WarpConfig, apply_warp, random_warp
from alignnet.keypoints import DANCE_MIRROR
from alignnet.motion_features import motion_features


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
