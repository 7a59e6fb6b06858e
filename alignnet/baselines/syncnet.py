"""SyncNet with keypoints and log-mel inputs (paper, section 4): two 1D-conv streams and a joint embedding.

Video stream: motion features (B, 4K, n) at the video rate -> embeddings (B, D, n),
one per video frame, each seeing a window of `video_window` frames (receptive field).
Audio stream: log-mel (B, n_mels, m) at the audio rate (~86 fps) -> features
(B, D, m) over a window of `audio_window` audio frames, then sampled linearly at
any audio coordinates (`alignnet.correspondence`: u in [-1, 1]), so the two
streams meet on a common time axis: the source video frames the audio covers.
Embeddings are L2-normalised; matching windows are close in Euclidean distance,
shifted ones at least a margin apart (the contrastive loss of the original SyncNet).

Checkpoints follow `alignnet.checkpoint` (STEM.safetensors + STEM.json); the
SyncNet config is stored in the JSON's `extra.syncnet_config`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from alignnet.checkpoint import load_checkpoint, read_meta
from alignnet.cli_options import option
from alignnet.correspondence import Timebase
from alignnet.dataclass_fields import known_fields
from alignnet.distort import motion_features
from alignnet.errors import UserInputError
from alignnet.models.warp import warp

CONFIG_KEY = "syncnet_config"


@dataclass(frozen=True)
class SyncNetConfig:
    """Sizes of the two streams. Windows (receptive fields) are about 0.4 s in both streams."""

    n_keypoints: int = 19
    n_mels: int = 128
    channels: int = option(64, "conv channels per stream")
    embed_dim: int = option(64, "joint embedding size")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SyncNetConfig:
        return cls(**known_fields(cls, values))


def _block(c_in: int, c_out: int, kernel: int, dilation: int = 1) -> nn.Sequential:
    """Conv1d ('same' padding) + BatchNorm + ReLU."""
    return nn.Sequential(
        nn.Conv1d(c_in, c_out, kernel, padding=dilation * (kernel // 2), dilation=dilation),
        nn.BatchNorm1d(c_out),
        nn.ReLU(inplace=True),
    )


class SyncNet(nn.Module):
    """Two-stream embedding network; see the module docstring."""

    def __init__(self, config: SyncNetConfig = SyncNetConfig()) -> None:
        super().__init__()
        self.config = config
        c, d = config.channels, config.embed_dim
        # receptive field 5 + 4 + 4 = 13 video frames (0.43 s at 30 fps)
        self.video = nn.Sequential(
            _block(4 * config.n_keypoints, c, 5), _block(c, c, 3, 2), _block(c, c, 3, 2), nn.Conv1d(c, d, 1)
        )
        # receptive field 7 + 8 + 16 = 31 audio frames (0.36 s at 86 fps)
        self.audio = nn.Sequential(
            _block(config.n_mels, c, 7), _block(c, c, 5, 2), _block(c, c, 5, 4), nn.Conv1d(c, d, 1)
        )

    def embed_video(self, video: torch.Tensor) -> torch.Tensor:
        """(B, 4K, n) motion features -> (B, D, n) unit embeddings, one per video frame."""
        return F.normalize(self.video(video), dim=1)

    def audio_features(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, n_mels, m) log-mel -> (B, D, m) unnormalised features at the audio rate."""
        return self.audio(audio)

    def embed_audio(self, features: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        """Audio features (B, D, m) sampled at coordinates (B, q) in [-1, 1] -> (B, D, q) unit embeddings."""
        sampled, _ = warp(features, coords)
        return F.normalize(sampled, dim=1)


def audio_grid(timebase: Timebase) -> np.ndarray:
    """(S,) the whole source frames 0, 1, ... whose time lies inside the audio."""
    last = timebase.coord_to_source_frame(1.0)
    return np.arange(int(np.floor(last + 1e-6)) + 1, dtype=np.float64)


def cost_matrices(model: SyncNet, video: torch.Tensor, audio: torch.Tensor, timebase: Timebase) -> torch.Tensor:
    """Embedding distances (B, n, S) between every video frame and every source frame of the audio.

    video (B, 4K, n), audio (B, n_mels, m) on the model's device; S = len(audio_grid(timebase)).
    """
    coords = torch.as_tensor(timebase.source_frame_to_coord(audio_grid(timebase)), dtype=torch.float32)
    coords = coords.to(video.device)[None].expand(len(video), -1)
    v = model.embed_video(video)
    a = model.embed_audio(model.audio_features(audio), coords)
    return torch.cdist(v.transpose(1, 2).contiguous(), a.transpose(1, 2).contiguous())


@torch.no_grad()
def clip_cost(
    model: SyncNet, keypoints: np.ndarray, logmel: np.ndarray, timebase: Timebase, device: torch.device
) -> np.ndarray:
    """Cost matrix (n, S) float64 of one clip: keypoints (n, K, 2), logmel (n_mels, m)."""
    model.eval()
    video = torch.from_numpy(motion_features(np.asarray(keypoints, np.float32)))[None].to(device)
    audio = torch.from_numpy(np.asarray(logmel, np.float32))[None].to(device)
    return cost_matrices(model, video, audio, timebase)[0].double().cpu().numpy()


def load_syncnet(stem: str | Path, map_location: str | torch.device = "cpu") -> SyncNet:
    """A SyncNet from checkpoint STEM (STEM.safetensors + STEM.json), in eval mode. No pickle."""
    meta = read_meta(stem)
    config = meta.get("extra", {}).get(CONFIG_KEY)
    if config is None:
        raise UserInputError(f"{stem}.json: not a SyncNet checkpoint (no extra.{CONFIG_KEY})")
    model = SyncNet(SyncNetConfig.from_dict(config))
    load_checkpoint(stem, model)
    return model.to(map_location).eval()


@dataclass
class SyncNetAligner:
    """SyncNet as an Aligner: a subclass turns one clip's cost matrix (`clip_cost`) into source frames."""

    model: SyncNet
    device: str | torch.device = field(default="cpu", kw_only=True)

    def __post_init__(self) -> None:
        self.device = torch.device(self.device)
        self.model = self.model.eval().to(self.device)

    def from_cost(self, cost: np.ndarray, timebase: Timebase) -> np.ndarray:
        """(n,) source frames from a cost matrix (n, S) on the audio grid of `audio_grid`."""
        raise NotImplementedError

    def align(self, keypoints: np.ndarray, logmel: np.ndarray, timebase: Timebase) -> np.ndarray:
        return self.from_cost(clip_cost(self.model, keypoints, logmel, timebase, self.device), timebase)
