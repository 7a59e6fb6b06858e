"""1D convolutional feature pyramids for the video and the audio."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def conv_block(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Sequential:
    """Conv1d ('same' padding, so output j is centred on input j * stride) + BatchNorm + ReLU."""
    return nn.Sequential(
        nn.Conv1d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm1d(c_out),
        nn.ReLU(inplace=True),
    )


class FeaturePyramid(nn.Module):
    """Level l: a strided conv block, then `depths[l] - 1` stride-1 blocks; finest level first.

    x (B, c_in, L) -> [(B, channels[l], ceil(L / prod(strides[:l+1])))] for every level l.
    Level 0's first kernel is `first_kernel` (a wider receptive field on the input).
    """

    def __init__(
        self, c_in: int, channels: Sequence[int], strides: Sequence[int], depths: Sequence[int], first_kernel: int
    ) -> None:
        super().__init__()
        levels = []
        for level, (c_out, stride, depth) in enumerate(zip(channels, strides, depths, strict=True)):
            blocks = [conv_block(c_in, c_out, first_kernel if level == 0 else 3, stride)]
            blocks += [conv_block(c_out, c_out, 3) for _ in range(depth - 1)]
            levels.append(nn.Sequential(*blocks))
            c_in = c_out
        self.levels = nn.ModuleList(levels)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for level in self.levels:
            x = level(x)
            features.append(x)
        return features


class AudioStem(nn.Module):
    """log-mel (B, bins, m) -> (B, channels, ceil(m / stride)): average-pool by stride/2, then a stride-2 block.

    Brings the ~86 fps audio near the video's rate before the pyramid; pooling first
    keeps the strided convolution from skipping frames. `pooling`: log-mel frames per frame the convolution reads.
    """

    def __init__(self, bins: int, channels: int, stride: int) -> None:
        super().__init__()
        self.pooling = pool = max(stride // 2, 1)
        self.pool = nn.AvgPool1d(pool, pool, ceil_mode=True) if pool > 1 else nn.Identity()
        self.conv = conv_block(bins, channels, 3, stride // pool)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pool(audio))
