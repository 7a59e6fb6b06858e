"""The horizontal mirror image of the model's video input, for averaging a prediction with its mirror's.

A model trained with flips (`alignnet.distort.flip_keypoints`) has seen every
dance both ways round, so its prediction on the mirror image of a pose is a
second estimate of the same correspondence; the mean of the two is steadier
than either (`AlignNetConfig.mirror_average`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def mirror_video(video: torch.Tensor, mirror: Sequence[int]) -> torch.Tensor:
    """(B, 4K, n) model input of the mirrored pose: left/right keypoints swapped, every x channel negated.

    The input is four groups of K channels, [x, y, x, y] kinds: velocity and
    acceleration ([vel_x, vel_y, acc_x, acc_y]), or positions and zeros for the
    raw-position ablation ([pos_x, pos_y, 0, 0]). Every scaling of
    `alignnet.distort.motion_features` commutes with the flip, so this equals the
    input computed from `flip_keypoints` of the keypoints.
    """
    batch, channels, n = video.shape
    k = len(mirror)
    if channels != 4 * k:
        raise ValueError(f"video input of {channels} channels for {k} keypoints (expected {4 * k})")
    index = torch.as_tensor(list(mirror), dtype=torch.long, device=video.device)
    groups = video.view(batch, 4, k, n).index_select(2, index)
    sign = torch.tensor([-1.0, 1.0, -1.0, 1.0], dtype=video.dtype, device=video.device)
    return (groups * sign[:, None, None]).reshape(batch, channels, n)
