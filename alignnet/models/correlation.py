"""Affinity between video and audio features: local 1D correlation and a global soft-argmax."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from alignnet.models.warp import warp


def displacement_coords(coords: torch.Tensor, n_audio: int, radius: int) -> torch.Tensor:
    """Coordinates (B, n) -> (B, 2r+1, n): shifted by -r .. r audio frames of an n_audio-frame sequence."""
    step = 2.0 / max(n_audio - 1, 1)
    offsets = torch.arange(-radius, radius + 1, device=coords.device, dtype=coords.dtype) * step
    return coords[:, None, :] + offsets[None, :, None]


def _standardise(features: torch.Tensor) -> torch.Tensor:
    """Centre and unit-normalise (B, C, L) features over C at every time step."""
    return F.normalize(features - features.mean(dim=1, keepdim=True), dim=1, eps=1e-6)


def local_correlation(video: torch.Tensor, audio: torch.Tensor, coords: torch.Tensor, radius: int) -> torch.Tensor:
    """Correlation over channels of video (B, C, n) with audio (B, C, m) warped to coords (B, n) +- radius frames.

    Each time step's feature vector is centred and unit-normalised over its
    channels first (Pearson correlation), so values lie in [-1, 1] whatever the
    features' scale, and non-negative (post-ReLU) features still give signed
    affinities. Returns (B, 2r+1, n); displacements outside the audio give 0.
    """
    audio = _standardise(audio)
    video = _standardise(video)
    shifted, _ = warp(audio, displacement_coords(coords, audio.shape[-1], radius))  # (B, C, 2r+1, n)
    return (shifted * video[:, :, None, :]).sum(dim=1)


def local_soft_argmax(corr: torch.Tensor, n_audio: int, temperature: torch.Tensor) -> torch.Tensor:
    """Expected displacement (B, n) in coordinate units under softmax over the 2r+1 displacements of corr (B, 2r+1, n).

    The matching prior of stereo and flow cost volumes: the best-matching
    displacement, differentiable; a flat affinity gives no displacement.
    """
    radius = (corr.shape[1] - 1) // 2
    step = 2.0 / max(n_audio - 1, 1)
    offsets = torch.arange(-radius, radius + 1, device=corr.device, dtype=corr.dtype) * step
    weights = torch.softmax(corr * temperature, dim=1)
    return (weights * offsets[None, :, None]).sum(dim=1)


def global_soft_argmax(video: torch.Tensor, audio: torch.Tensor, temperature: torch.Tensor) -> torch.Tensor:
    """Expected audio coordinate (B, n) under softmax over all m audio positions of the affinity.

    video (B, C, n), audio (B, C, m); any lengths. Used only at the coarsest level (small n, m).
    """
    affinity = torch.einsum("bcn,bcm->bnm", video, audio) / video.shape[1]
    weights = torch.softmax(affinity * temperature, dim=-1)  # (B, n, m)
    m = audio.shape[-1]
    grid = torch.linspace(-1.0, 1.0, m, device=audio.device, dtype=weights.dtype) if m > 1 else weights.new_zeros(1)
    return weights @ grid
