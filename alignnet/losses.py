"""AlignNet's training loss: multi-level L1 on the correspondence plus a monotonic hinge."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from alignnet.models.alignnet import AlignNetOutput
from alignnet.models.warp import level_positions, resample

# Weight of [final (input resolution), level 0 (finest), level 1, level 2, level 3].
DEFAULT_LAMBDAS: tuple[float, ...] = (1.0, 0.5, 0.25, 0.25, 0.25)


def level_target(target: torch.Tensor, n_level: int, stride: int) -> torch.Tensor:
    """True correspondence (B, n) at a level's frames (B, n_level): sampled at input frame j * stride."""
    return resample(target, level_positions(n_level, stride, target.device))


def monotonic_loss(d: torch.Tensor) -> torch.Tensor:
    """mean over i of relu(d(i) - d(i+1)) for d (B, n); 0 for n < 2. Nothing is padded before frame 0."""
    if d.shape[-1] < 2:
        return d.new_zeros(())
    return torch.relu(d[:, :-1] - d[:, 1:]).mean()


def alignment_loss(
    output: AlignNetOutput,
    target: torch.Tensor,
    lambdas: Sequence[float] = DEFAULT_LAMBDAS,
    mu: float = 1.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """sum_l lambda_l * (mean |d_l - d~_l| + mu * monotonic(d_l)) over [final, levels finest first].

    target (B, n): true audio coordinate per input video frame. L1 is a mean over
    frames (not a sum), so levels of different lengths weigh by lambda alone.
    Returns the loss and its parts (floats) for logging.
    """
    preds = [output.correspondence, *output.levels]
    strides = [1, *output.strides]
    if len(lambdas) < len(preds):
        raise ValueError(f"{len(lambdas)} loss weights for {len(preds)} levels")
    target = target.to(output.correspondence.dtype)
    total = target.new_zeros(())
    parts: dict[str, float] = {}
    for i, (pred, stride, weight) in enumerate(zip(preds, strides, lambdas)):
        l1 = (pred - level_target(target, pred.shape[-1], stride)).abs().mean()
        mono = monotonic_loss(pred)
        total = total + weight * (l1 + mu * mono)
        parts[f"l1_{'final' if i == 0 else f'level{i - 1}'}"] = float(l1.detach())
        parts[f"mono_{'final' if i == 0 else f'level{i - 1}'}"] = float(mono.detach())
    return total, parts
