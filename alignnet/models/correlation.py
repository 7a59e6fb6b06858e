"""Affinity between video and audio features.

- `local_correlation`: one level's features, over a range around the warped position (PWC-Net);
- `CorrelationPyramid`: all pairs of the finest features once, pooled along audio
  for the coarser levels and looked up around the current estimate (RAFT's
  correlation pyramid, in 1D); its coarse levels see a wide range while the
  features that make them stay local in time;
- `local_soft_argmax` / `global_soft_argmax`: differentiable best matches.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from alignnet.models.warp import warp


def displacement_coords(coords: torch.Tensor, n_audio: int, radius: int) -> torch.Tensor:
    """Coordinates (B, n) -> (B, 2r+1, n): shifted by -r .. r audio frames of an n_audio-frame sequence."""
    offsets = torch.arange(-radius, radius + 1, device=coords.device, dtype=coords.dtype) * frame_step(n_audio)
    return coords[:, None, :] + offsets[None, :, None]


# How video and audio feature vectors are compared: "pearson" centres and unit-normalises each over its channels
# first; "dot" is the paper's plain dot product, divided by the number of channels (PWC-Net's cost volume scaling)
AFFINITIES = ("pearson", "dot")


def _standardise(features: torch.Tensor) -> torch.Tensor:
    """Centre and unit-normalise (B, C, L) features over C at every time step."""
    return F.normalize(features - features.mean(dim=1, keepdim=True), dim=1, eps=1e-6)


def affinity_features(features: torch.Tensor, affinity: str) -> torch.Tensor:
    """(B, C, L) features prepared so that their dot product over C is the `affinity` ("pearson" or "dot")."""
    if affinity == "pearson":
        return _standardise(features)
    if affinity == "dot":
        return features / features.shape[1] ** 0.5
    raise ValueError(f"affinity {affinity!r}: choose one of {', '.join(AFFINITIES)}")


def local_correlation(
    video: torch.Tensor, audio: torch.Tensor, coords: torch.Tensor, radius: int, affinity: str = "pearson"
) -> torch.Tensor:
    """Correlation over channels of video (B, C, n) with audio (B, C, m) warped to coords (B, n) +- radius frames.

    With affinity "pearson" each time step's feature vector is centred and
    unit-normalised over its channels first (Pearson correlation), so values
    lie in [-1, 1] whatever the features' scale, and non-negative (post-ReLU)
    features still give signed affinities; "dot" is the paper's dot product
    (over the number of channels). Returns (B, 2r+1, n); displacements outside
    the audio give 0.
    """
    audio = affinity_features(audio, affinity)
    video = affinity_features(video, affinity)
    shifted, _ = warp(audio, displacement_coords(coords, audio.shape[-1], radius))  # (B, C, 2r+1, n)
    return (shifted * video[:, :, None, :]).sum(dim=1)


def local_soft_argmax(corr: torch.Tensor, step: float, temperature: torch.Tensor) -> torch.Tensor:
    """Expected displacement (B, n) in coordinate units under softmax over the 2r+1 displacements of corr (B, 2r+1, n).

    `step`: coordinate units between neighbouring displacements. The matching
    prior of stereo and flow cost volumes: the best-matching displacement,
    differentiable; a flat affinity gives no displacement.
    """
    radius = (corr.shape[1] - 1) // 2
    offsets = torch.arange(-radius, radius + 1, device=corr.device, dtype=corr.dtype) * step
    weights = torch.softmax(corr * temperature, dim=1)
    return (weights * offsets[None, :, None]).sum(dim=1)


def frame_step(n_audio: int) -> float:
    """Coordinate units per frame of an n_audio-frame sequence ([-1, 1] spans its first to last frame)."""
    return 2.0 / max(n_audio - 1, 1)


def global_soft_argmax(video: torch.Tensor, audio: torch.Tensor, temperature: torch.Tensor) -> torch.Tensor:
    """Expected audio coordinate (B, n) under softmax over all m audio positions of the affinity.

    video (B, C, n), audio (B, C, m); any lengths. Used only at the coarsest level (small n, m).
    """
    affinity = torch.einsum("bcn,bcm->bnm", video, audio) / video.shape[1]
    weights = torch.softmax(affinity * temperature, dim=-1)  # (B, n, m)
    m = audio.shape[-1]
    grid = torch.linspace(-1.0, 1.0, m, device=audio.device, dtype=weights.dtype) if m > 1 else weights.new_zeros(1)
    return weights @ grid


class CorrelationPyramid:
    """All-pairs affinity (`AFFINITIES`) of the finest video and audio features, pooled along audio per level.

    video (B, C, n0), audio (B, C, m0), any lengths. `affinity` (B, n0, m0) is
    the finest volume; level l averages it over `audio_strides[1..l]` audio
    frames, so level l's cells match the audio rate of pyramid level l while
    every affinity still comes from features local in time.
    """

    def __init__(
        self, video: torch.Tensor, audio: torch.Tensor, audio_strides: Sequence[int], affinity: str = "pearson"
    ) -> None:
        self.affinity = torch.einsum(
            "bcn,bcm->bnm", affinity_features(video, affinity), affinity_features(audio, affinity)
        )
        self.n_audio = audio.shape[-1]
        b, n, _ = self.affinity.shape
        self.volumes = [self.affinity]
        self.pooling = [1]
        for stride in audio_strides:
            prev = self.volumes[-1]
            pooled = F.avg_pool1d(prev.reshape(b * n, 1, prev.shape[-1]), stride, ceil_mode=True)
            self.volumes.append(pooled.reshape(b, n, -1))
            self.pooling.append(self.pooling[-1] * stride)

    def step(self, level: int) -> float:
        """Coordinate units per cell of `level`'s volume."""
        return self.pooling[level] * frame_step(self.n_audio)

    def lookup(self, coords: torch.Tensor, level: int, radius: int) -> torch.Tensor:
        """Level `level`'s affinity at coords (B, n0) + -radius .. radius cells -> (B, 2r+1, n0); 0 off the audio.

        Cell k of a volume pooled by s averages finest audio frames k*s .. k*s+s-1 (centre k*s + (s-1)/2).
        """
        volume, s = self.volumes[level], self.pooling[level]
        b, n, cells = volume.shape
        cell = ((coords + 1.0) * 0.5 * (self.n_audio - 1) - (s - 1) / 2.0) / s
        offsets = torch.arange(-radius, radius + 1, device=coords.device, dtype=coords.dtype)
        x = (cell[:, :, None] + offsets) * frame_step(cells) - 1.0  # (B, n, 2r+1), normalised
        rows = torch.linspace(-1.0, 1.0, n, device=coords.device, dtype=coords.dtype) if n > 1 else coords.new_zeros(1)
        grid = torch.stack([x, rows[None, :, None].expand_as(x)], dim=-1).to(volume.dtype)
        out = F.grid_sample(volume[:, None], grid, mode="bilinear", padding_mode="zeros", align_corners=True)
        return out[:, 0].permute(0, 2, 1)


def pool_frames(values: torch.Tensor, stride: int, n_out: int) -> torch.Tensor:
    """(B, C, n) -> (B, C, n_out): mean over input frames j*stride - (stride-1) .. j*stride + (stride-1).

    The window is centred on input frame j*stride, where a stride-`stride`
    'same' convolution centres its output j (see `alignnet.models.warp.level_positions`).
    """
    if stride > 1:
        values = F.avg_pool1d(values, 2 * stride - 1, stride, stride - 1, count_include_pad=False)
    if values.shape[-1] < n_out:
        values = F.pad(values, (0, n_out - values.shape[-1]), mode="replicate")
    return values[..., :n_out]
