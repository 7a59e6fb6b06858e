"""A training-free floor: audio onset strength against keypoint motion energy, aligned by DTW.

Audio: `librosa.onset.onset_strength` of the log-mel (spectral flux, `center=False`
since log-mel frames are already centred on their times), read at the times of
the source frames the audio covers. Video: motion energy, the speed of every
keypoint (pixels / frame) summed over keypoints. Both are z-scored per clip;
the cost is their absolute difference, aligned with the baselines' DTW.
"""

from __future__ import annotations

import librosa
import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.spatial.distance import cdist

from alignnet.baselines.dtw import dtw_source_frames
from alignnet.baselines.syncnet import audio_grid
from alignnet.correspondence import Timebase


def _zscore(x: np.ndarray) -> np.ndarray:
    std = x.std()
    return (x - x.mean()) / std if std > 0 else np.zeros_like(x)


def onset_envelope(logmel: np.ndarray, timebase: Timebase, smooth_frames: float = 2.0) -> np.ndarray:
    """(S,) onset strength of logmel (n_mels, m) at the source frames of `audio_grid(timebase)`.

    Smoothed with a Gaussian of `smooth_frames` video frames (0: none), then z-scored.
    """
    strength = librosa.onset.onset_strength(S=np.asarray(logmel, np.float32), center=False)
    frames = audio_grid(timebase) / timebase.fps * timebase.audio_rate
    envelope = np.interp(frames, np.arange(len(strength)), strength)
    return _zscore(gaussian_filter1d(envelope, smooth_frames) if smooth_frames > 0 else envelope)


def motion_energy(keypoints: np.ndarray, smooth_frames: float = 2.0) -> np.ndarray:
    """(n,) speed summed over keypoints, from keypoints (n, K, 2); smoothed as `onset_envelope`, z-scored."""
    velocity = np.gradient(np.asarray(keypoints, np.float64), axis=0)
    energy = np.linalg.norm(velocity, axis=-1).sum(axis=-1)
    return _zscore(gaussian_filter1d(energy, smooth_frames) if smooth_frames > 0 else energy)


class OnsetFloorAligner:
    """Onset+DTW as an Aligner (no training): motion energy of the video against onset strength of the audio."""

    name = "Onset+DTW"

    def __init__(self, band: float = 0.3, step_penalty: float = 1.0, smooth_frames: float = 2.0) -> None:
        self.band, self.step_penalty, self.smooth_frames = band, step_penalty, smooth_frames

    def cost(self, keypoints: np.ndarray, logmel: np.ndarray, timebase: Timebase) -> np.ndarray:
        """(n, S) absolute differences between motion energy and onset strength (z-scores)."""
        energy = motion_energy(keypoints, self.smooth_frames)
        onsets = onset_envelope(logmel, timebase, self.smooth_frames)
        return cdist(energy[:, None], onsets[:, None])

    def align(self, keypoints: np.ndarray, logmel: np.ndarray, timebase: Timebase) -> np.ndarray:
        return dtw_source_frames(self.cost(keypoints, logmel, timebase), self.band, self.step_penalty)
