"""1D sampling and warping with normalised coordinates (grid_sample, align_corners=True)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def inside(coords: torch.Tensor) -> torch.Tensor:
    """Boolean mask of the coordinates that fall on the sequence, [-1, 1] (where `warp` samples real features)."""
    return (coords >= -1.0) & (coords <= 1.0)


def warp(features: torch.Tensor, coords: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample features (B, C, m) at coordinates in [-1, 1], linearly.

    coords (B, n) -> warped (B, C, n), valid (B, 1, n); coords (B, K, n) ->
    warped (B, C, K, n), valid (B, 1, K, n). Samples outside [-1, 1] are zero
    and marked invalid (PWC-Net's mask). -1 / +1 are the first / last frames' centres.
    """
    squeeze = coords.dim() == 2
    grid_x = coords[:, None] if squeeze else coords  # (B, K, n)
    grid = torch.stack([grid_x, torch.zeros_like(grid_x)], dim=-1).to(features.dtype)  # (B, K, n, 2)
    out = F.grid_sample(features[:, :, None], grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    valid = inside(grid_x).to(features.dtype)[:, None]
    if squeeze:
        return out[:, :, 0], valid[:, :, 0]
    return out, valid


def resample(values: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Linear interpolation of values (B, L) at float indices positions (n,), clamped to [0, L-1] -> (B, n)."""
    length = values.shape[-1]
    pos = positions.clamp(0, length - 1)
    lo = pos.floor().long().clamp(max=length - 1)
    hi = (lo + 1).clamp(max=length - 1)
    frac = (pos - lo).to(values.dtype)
    return values[:, lo] * (1 - frac) + values[:, hi] * frac


def level_positions(n_level: int, stride: float, device: torch.device | None = None) -> torch.Tensor:
    """Float indices in a finer sequence of the n_level frames of a level `stride` times coarser.

    A stride-s convolution with 'same' padding centres its output j on input j * s.
    """
    return torch.arange(n_level, device=device, dtype=torch.float32) * stride


def upsample(coarse: torch.Tensor, n_fine: int, stride: float) -> torch.Tensor:
    """Correspondence (B, n_coarse) -> (B, n_fine) on a grid `stride` times finer (values unchanged)."""
    return resample(coarse, torch.arange(n_fine, device=coarse.device, dtype=torch.float32) / stride)


def straight_through_clamp(x: torch.Tensor) -> torch.Tensor:
    """clamp(x, -1, 1) forward, identity gradient: an overshoot still gets pulled back by the loss."""
    return x + (x.clamp(-1.0, 1.0) - x).detach()
