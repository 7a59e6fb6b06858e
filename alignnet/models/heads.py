"""Per-level correspondence head and the dilated context (refinement) network."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class CorrespondenceHead(nn.Module):
    """Small conv stack: (B, c_in, n) -> residual correspondence (B, n) and its last hidden features.

    The last layer is linear (no BatchNorm / ReLU) so the residual can take either sign.
    """

    def __init__(self, c_in: int, hidden: Sequence[int] = (64, 32)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for c_out in hidden:
            layers += [nn.Conv1d(c_in, c_out, 3, padding=1), nn.LeakyReLU(0.1, inplace=True)]
            c_in = c_out
        self.body = nn.Sequential(*layers)
        self.out = nn.Conv1d(c_in, 1, 3, padding=1)
        self.hidden_channels = c_in

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.body(x)
        return self.out(hidden)[:, 0], hidden


class ContextNetwork(nn.Module):
    """PWC-Net-style dilated convs refining the finest level: (B, c_in, n) -> residual (B, n).

    No activation after the last layer (the authors' ReLU there made the residual non-negative).
    """

    def __init__(self, c_in: int, channels: int = 32, dilations: Sequence[int] = (1, 2, 4, 8, 1)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for dilation in dilations:
            layers += [
                nn.Conv1d(c_in, channels, 3, padding=dilation, dilation=dilation),
                nn.LeakyReLU(0.1, inplace=True),
            ]
            c_in = channels
        layers.append(nn.Conv1d(c_in, 1, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)[:, 0]
