"""The one interface every alignment method implements, and AlignNet's implementation of it.

An aligner takes a (possibly distorted) video's keypoints and the audio's
log-mel spectrogram and returns, for every video frame, its position on the
audio's timeline as a source frame index (float, at the video's frame rate):
the frame of the undistorted clip that plays with this audio. The evaluation
compares these with the true source frames of saved distortions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import torch

from alignnet.correspondence import Timebase
from alignnet.models.alignnet import AlignNet
from alignnet.motion_features import motion_features


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

    def coords(self, keypoints: np.ndarray, logmel: np.ndarray) -> np.ndarray:
        """(n,) predicted audio coordinates in [-1, 1] for one clip."""
        return self.coords_batch([keypoints], [logmel])[0]

    @torch.no_grad()
    def coords_batch(self, keypoints: Sequence[np.ndarray], logmels: Sequence[np.ndarray]) -> list[np.ndarray]:
        """coords of several clips in one forward pass where their shapes agree (one pass per shape otherwise).

        On a CPU a batch of windows costs a fraction of the same windows one by one
        (the model's per-layer overhead is paid once).
        """
        config = self.model.config
        videos = [motion_features(k, config.motion_inputs, config.input_scaling) for k in keypoints]
        audios = [np.asarray(m, np.float32) for m in logmels]
        shapes: dict[tuple[tuple[int, ...], tuple[int, ...]], list[int]] = {}
        for i, (video, audio) in enumerate(zip(videos, audios, strict=True)):
            shapes.setdefault((video.shape, audio.shape), []).append(i)
        out: dict[int, np.ndarray] = {}
        for members in shapes.values():
            video = torch.from_numpy(np.stack([videos[i] for i in members])).to(self.device)
            audio = torch.from_numpy(np.stack([audios[i] for i in members])).to(self.device)
            predicted = self.model(video, audio).float().cpu().numpy().astype(np.float64)
            out.update(zip(members, predicted, strict=True))
        return [out[i] for i in range(len(videos))]

    def align(self, keypoints: np.ndarray, logmel: np.ndarray, timebase: Timebase) -> np.ndarray:
        return timebase.coord_to_source_frame(self.coords(keypoints, logmel))
