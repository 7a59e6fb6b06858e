"""Affinity between video and audio features: local 1D correlation and a global soft-argmax."""

from __future__ import annotations

import torch

from alignnet.models.warp import warp


def displacement_coords(coords: torch.Tensor, n_audio: int, radius: int) -> torch.Tensor:
    """Coordinates (B, n) -> (B, 2r+1, n): shifted by -r .. r audio frames of an n_audio-frame sequence."""
    step = 2.0 / max(n_audio - 1, 1)
    offsets = torch.arange(-radius, radius + 1, device=coords.device, dtype=coords.dtype) * step
    return coords[:, None, :] + offsets[None, :, None]


def local_correlation(video: torch.Tensor, audio: torch.Tensor, coords: torch.Tensor, radius: int) -> torch.Tensor:
    """Dot products of video (B, C, n) with audio (B, C, m) warped to coords (B, n) +- radius frames.

    Returns (B, 2r+1, n), divided by C; displacements outside the audio give 0.
    """
    shifted, _ = warp(audio, displacement_coords(coords, audio.shape[-1], radius))  # (B, C, 2r+1, n)
    return (shifted * video[:, :, None, :]).mean(dim=1)


def global_soft_argmax(video: torch.Tensor, audio: torch.Tensor, temperature: torch.Tensor) -> torch.Tensor:
    """Expected audio coordinate (B, n) under softmax over all m audio positions of the affinity.

    video (B, C, n), audio (B, C, m); any lengths. Used only at the coarsest level (small n, m).
    """
    affinity = torch.einsum("bcn,bcm->bnm", video, audio) / video.shape[1]
    weights = torch.softmax(affinity * temperature, dim=-1)  # (B, n, m)
    m = audio.shape[-1]
    grid = torch.linspace(-1.0, 1.0, m, device=audio.device, dtype=weights.dtype) if m > 1 else weights.new_zeros(1)
    return weights @ grid
