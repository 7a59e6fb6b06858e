"""An exponential moving average of the weights (torch's AveragedModel), validated and saved in their place.

With decay d, after every optimiser step the average moves by 1 - d towards the
trained weights (BatchNorm statistics too): about 1 / (1 - d) recent steps
weigh in. Early on the decay is min(d, (1 + n) / (10 + n)) after n updates, so
that a short run's average is not held back by the first steps' weights. Validation, the best checkpoint and `alignnet align` use the
average; the trained weights and the optimiser stay in OUT/last for resuming,
the average beside them in OUT/average.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from alignnet.checkpoint import load_checkpoint, save_checkpoint


def _warmed_up_ema(decay: float):
    """AveragedModel's multi_avg_fn: lerp every tensor by 1 - min(decay, (1 + n) / (10 + n)) after n updates.

    AveragedModel calls it once per group of tensors of one device and dtype, so one fused operation covers a group.
    """

    @torch.no_grad()
    def update(averaged: list[torch.Tensor], current: list[torch.Tensor], n_averaged: torch.Tensor) -> None:
        n = float(n_averaged)
        weight = 1.0 - min(decay, (1.0 + n) / (10.0 + n))
        if torch.is_floating_point(averaged[0]):
            torch._foreach_lerp_(averaged, current, weight)
        else:  # integer buffers (BatchNorm's batch count): the model's
            torch._foreach_copy_(averaged, current)

    return update


class WeightAverage:
    """The moving average of `model`'s parameters and buffers; `module` is a model of the same class holding it."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0 < decay < 1:
            raise ValueError(f"decay {decay}: must be in (0, 1)")
        self.decay = decay
        self._averaged = AveragedModel(model, multi_avg_fn=_warmed_up_ema(decay), use_buffers=True)

    @property
    def module(self) -> nn.Module:
        return self._averaged.module

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """One step of the average towards `model` (the first call copies it)."""
        self._averaged.update_parameters(model)

    def save(self, stem: Path, epoch: int, step: int | None = None) -> None:
        """STEM.safetensors + STEM.json: the averaged weights after `epoch` (and `step` steps), for --resume."""
        updates = int(self._averaged.n_averaged)
        extra = {"decay": self.decay, "updates": updates}
        save_checkpoint(stem, self.module, epoch=epoch, metrics={}, extra=extra, step=step)

    def load(self, stem: Path) -> None:
        """Restore a saved average (written by `save`) and its count of updates; later ones move it on."""
        meta = load_checkpoint(stem, self.module)
        self._averaged.n_averaged.fill_(max(1, int(meta["extra"].get("updates", 1))))
