"""The one interface every alignment method implements, and AlignNet's implementation of it.

An aligner takes a (possibly distorted) video's keypoints and the audio's
log-mel spectrogram and returns, for every video frame, its position on the
audio's timeline as a source frame index (float, at the video's frame rate):
the frame of the undistorted clip that plays with this audio. The evaluation
compares these with the true source frames of saved distortions.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from alignnet.correspondence import Timebase
from alignnet.distort import motion_features
from alignnet.models.alignnet import AlignNet


class Aligner(Protocol):
    """An alignment method: AlignNet, SyncNet, SyncNet+DTW, the onset floor."""

    name: str

    def align(self, keypoints: np.ndarray, logmel: np.ndarray, timebase: Timebase) -> np.ndarray:
        """keypoints (n, K, 2) body-centred positions; logmel (n_bins, m) normalised -> (n,) source frames."""
        ...


class AlignNetAligner:
    """AlignNet as an Aligner: motion features in, the predicted coordinate converted to source frames."""

    name = "AlignNet"

    def __init__(self, model: AlignNet, device: str | torch.device = "cpu") -> None:
        self.model = model.eval().to(device)
        self.device = torch.device(device)

    @torch.no_grad()
    def coords(self, keypoints: np.ndarray, logmel: np.ndarray) -> np.ndarray:
        """(n,) predicted audio coordinates in [-1, 1] for one clip."""
        config = self.model.config
        video = torch.from_numpy(motion_features(keypoints, config.motion_inputs, config.input_scaling))[None]
        audio = torch.from_numpy(np.asarray(logmel, np.float32))[None]
        out = self.model(video.to(self.device), audio.to(self.device))
        return out[0].float().cpu().numpy().astype(np.float64)

    def align(self, keypoints: np.ndarray, logmel: np.ndarray, timebase: Timebase) -> np.ndarray:
        return timebase.coord_to_source_frame(self.coords(keypoints, logmel))
