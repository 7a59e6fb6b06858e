"""AlignNet's training loss: multi-level L1 on the correspondence plus a monotonic hinge.

Optionally plus a matching loss: cross-entropy of the finest features'
all-pairs affinity against the true audio position of every video frame (a
contrastive signal over the whole clip, the way SyncNet's loss trains its
embeddings), which makes the features discriminative far faster than the L1
through the heads alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from alignnet.models.alignnet import AlignNetOutput
from alignnet.models.warp import level_positions, resample

# Weight of [final (input resolution), level 0 (finest), level 1, level 2, level 3].
DEFAULT_LAMBDAS: tuple[float, ...] = (1.0, 0.5, 0.25, 0.25, 0.25)


def level_target(target: torch.Tensor, n_level: int, stride: int) -> torch.Tensor:
    """True correspondence (B, n) at a level's frames (B, n_level): sampled at input frame j * stride."""
    return resample(target, level_positions(n_level, stride, target.device))


# Affinities are Pearson correlations in [-1, 1]; logits = affinity * MATCH_TEMPERATURE.
MATCH_TEMPERATURE = 10.0


def matching_loss(affinity: torch.Tensor, target: torch.Tensor, stride: int) -> torch.Tensor:
    """Cross-entropy over audio frames of affinity (B, n0, m0) rows against the true position.

    target (B, n): true audio coordinate per input video frame; row j of the
    affinity is input frame j * stride. The label is split between the two audio
    frames around the true position (linear weights); rows whose truth lies off
    the audio are left out.
    """
    n0, m0 = affinity.shape[1], affinity.shape[2]
    true = level_target(target.to(affinity.dtype), n0, stride)
    frame = (true + 1.0) * 0.5 * (m0 - 1)
    lo = frame.floor().clamp(0, m0 - 1)
    frac = (frame - lo).clamp(0, 1)
    lo_i = lo.long()
    hi_i = (lo_i + 1).clamp(max=m0 - 1)
    log_p = F.log_softmax(affinity * MATCH_TEMPERATURE, dim=-1)
    nll = -((1 - frac) * log_p.gather(-1, lo_i[..., None])[..., 0] + frac * log_p.gather(-1, hi_i[..., None])[..., 0])
    valid = ((true >= -1.0) & (true <= 1.0)).to(nll.dtype)
    return (nll * valid).sum() / valid.sum().clamp(min=1.0)


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
    matching: float = 0.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """sum_l lambda_l * (mean |d_l - d~_l| + mu * monotonic(d_l)) over [final, levels finest first],
    plus matching * matching_loss of the output's affinity.

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
    # lambdas may hold more weights than the model has levels (a shallower pyramid): the first ones apply
    for i, (pred, stride, weight) in enumerate(zip(preds, strides, lambdas, strict=False)):
        l1 = (pred - level_target(target, pred.shape[-1], stride)).abs().mean()
        mono = monotonic_loss(pred)
        total = total + weight * (l1 + mu * mono)
        parts[f"l1_{'final' if i == 0 else f'level{i - 1}'}"] = float(l1.detach())
        parts[f"mono_{'final' if i == 0 else f'level{i - 1}'}"] = float(mono.detach())
    if matching:
        if output.affinity is None:
            raise ValueError("a matching loss needs the model's affinity (AlignNetOutput.affinity)")
        match = matching_loss(output.affinity, target, output.strides[0])
        total = total + matching * match
        parts["matching"] = float(match.detach())
    return total, parts
