"""Spatial attention: one learned weight per keypoint, mirror pairs tied, softmax-normalised."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def tied_index(mirror: Sequence[int]) -> torch.Tensor:
    """Parameter index (K,) per keypoint: a keypoint and its mirror share one index."""
    groups = sorted({min(i, int(j)) for i, j in enumerate(mirror)})
    slot = {g: s for s, g in enumerate(groups)}
    return torch.tensor([slot[min(i, int(j))] for i, j in enumerate(mirror)], dtype=torch.long)


class KeypointAttention(nn.Module):
    """Multiplies every channel of keypoint k by K * softmax(w)[k] (mean weight 1, sum K).

    Input channels are groups of K (e.g. [vel_x(K), vel_y(K), acc_x(K), acc_y(K)]):
    channel c belongs to keypoint c % K. `mirror` is the left/right permutation
    (alignnet.keypoints.DANCE_MIRROR for the 19 body points).
    """

    def __init__(self, mirror: Sequence[int]) -> None:
        super().__init__()
        self.register_buffer("index", tied_index(mirror), persistent=False)
        self.logits = nn.Parameter(torch.zeros(int(self.index.max()) + 1))

    def weights(self) -> torch.Tensor:
        """(K,) keypoint weights, summing to K."""
        logits = self.logits[self.index]
        return torch.softmax(logits, dim=0) * logits.numel()

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        # (B, G*K, n) -> same
        batch, channels, n = video.shape
        k = self.index.numel()
        return (video.view(batch, channels // k, k, n) * self.weights()[:, None]).view(batch, channels, n)
