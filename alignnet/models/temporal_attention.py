"""Temporal attention: self-attention over the audio sequence gives one weight per time step."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TemporalAttention(nn.Module):
    """audio (B, C, m) -> audio * w, w (B, 1, m) = 2 * sigmoid(gate(SelfAttention(audio))).

    Single-head scaled dot-product attention over all m time steps (any m;
    PyTorch's fused kernel keeps memory linear in m), projected to `dim`
    channels. The gate starts at zero, so the module starts as the identity.
    """

    def __init__(self, channels: int, dim: int = 16) -> None:
        super().__init__()
        self.qkv = nn.Conv1d(channels, 3 * dim, kernel_size=1)
        self.gate = nn.Conv1d(dim, 1, kernel_size=1)
        nn.init.zeros_(self.gate.weight)
        nn.init.zeros_(self.gate.bias)

    def weights(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, 1, m) weights in (0, 2)."""
        q, k, v = self.qkv(audio).transpose(1, 2).chunk(3, dim=-1)  # each (B, m, dim)
        context = F.scaled_dot_product_attention(q[:, None], k[:, None], v[:, None])[:, 0]  # (B, m, dim)
        return 2.0 * torch.sigmoid(self.gate(context.transpose(1, 2)))

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return audio * self.weights(audio)
