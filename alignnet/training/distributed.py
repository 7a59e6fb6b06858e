"""Multi-process training (DistributedDataParallel) under torchrun, and its one-process fallback.

`torchrun --nproc_per_node N -m alignnet train ...` sets WORLD_SIZE, RANK and
LOCAL_RANK; with WORLD_SIZE > 1 the loop joins a process group (nccl on CUDA,
gloo on CPU), each process takes 1/N of every global batch of one shared
seeded shuffle (`GlobalBatchSampler`), BatchNorm is synchronised over the
global batch (`sync_batchnorm`), and DDP averages the gradients: every step is
the step one process would take on the whole batch.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import Sampler

from alignnet.errors import UserInputError


@dataclass(frozen=True)
class Distributed:
    """This process's place: its device, and rank of world_size (1 = no process group)."""

    device: torch.device
    rank: int = 0
    world_size: int = 1

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """The process that validates and writes checkpoints, metrics.csv, TensorBoard and progress bars."""
        return self.rank == 0

    def mean(self, *values: float) -> tuple[float, ...]:
        """Each value averaged over the processes (one collective): the same values on every process."""
        if not self.enabled:
            return values
        reduced = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(reduced)
        return tuple(float(v) / self.world_size for v in reduced)

    def reduce_step(self, loss: float, stop: bool) -> tuple[float, bool]:
        """Mean training loss over the processes and whether any of them must stop (one collective)."""
        mean_loss, stop_share = self.mean(loss, float(stop))
        return mean_loss, stop_share > 0

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()


def setup(device: torch.device) -> Distributed:
    """Join the torchrun process group when WORLD_SIZE > 1; `device` is what resolve_device chose.

    On CUDA each process uses GPU LOCAL_RANK. Without torchrun's variables this
    returns the single-process context and touches nothing.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Distributed(device)
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Distributed(device, rank=dist.get_rank(), world_size=dist.get_world_size())


def cleanup(ctx: Distributed) -> None:
    """Wait for every process, then leave the process group."""
    if ctx.enabled and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def per_process_batch(global_batch: int, ctx: Distributed) -> int:
    """--batch-size is the global batch; each of the world_size processes gets an equal share."""
    if global_batch % ctx.world_size:
        raise UserInputError(
            f"--batch-size {global_batch}: must be a multiple of the {ctx.world_size} training processes"
        )
    return global_batch // ctx.world_size


class GlobalBatchSampler(Sampler[int]):
    """Indices of one shuffle of range(n), cut into global batches; rank r takes the r-th 1/W of each.

    The shuffle is torch.randperm seeded with `seed` (the same on every process),
    so the union over ranks of their b-th batch is exactly the b-th batch of a
    one-process run. With drop_last (required when world_size > 1) only whole
    global batches are used; else the last, shorter batch is kept.
    """

    def __init__(
        self, n: int, global_batch: int, seed: int, rank: int = 0, world_size: int = 1, drop_last: bool = True
    ) -> None:
        if global_batch % world_size:
            raise ValueError(f"global batch {global_batch} not divisible by {world_size} processes")
        if world_size > 1 and (not drop_last or n < global_batch):
            raise ValueError(f"{n} samples, global batch {global_batch}: {world_size} processes need whole batches")
        self.n, self.global_batch, self.seed = n, global_batch, seed
        self.rank, self.world_size, self.drop_last = rank, world_size, drop_last

    def _n_batches(self) -> int:
        return self.n // self.global_batch if self.drop_last else math.ceil(self.n / self.global_batch)

    def __len__(self) -> int:
        if self.world_size == 1 and not self.drop_last:
            return self.n
        return self._n_batches() * self.global_batch // self.world_size

    def __iter__(self) -> Iterator[int]:
        order = torch.randperm(self.n, generator=torch.Generator().manual_seed(self.seed)).tolist()
        share = self.global_batch // self.world_size
        for b in range(self._n_batches()):
            batch = order[b * self.global_batch : (b + 1) * self.global_batch]
            yield from batch if self.world_size == 1 else batch[self.rank * share : (self.rank + 1) * share]


class _AllReduceSum(torch.autograd.Function):
    """Sum over the processes, differentiable: the gradient of every input is the sum of the gradients."""

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor) -> torch.Tensor:
        total = tensor.clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        total = grad.clone()
        dist.all_reduce(total)
        return total


class _CpuSyncBatchNorm1d(nn.BatchNorm1d):
    """BatchNorm1d synchronised over the process group on CPU (torch's SyncBatchNorm is GPU-only).

    Training statistics are over the global batch: per channel, the sum of x,
    then the sum of (x - mean)^2, are summed over the processes by a
    differentiable all_reduce, so the output and the gradients equal one
    process's BatchNorm over the whole batch. The variance takes a second pass
    (and a second all_reduce) because sum x^2 / n - mean^2 loses most of its
    digits in float32 when a channel's mean is large against its spread.
    """

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_initialized() and input.device.type == "cpu"):
            return super().forward(input)
        dims = [0, *range(2, input.dim())]
        shape = [1, input.shape[1]] + [1] * (input.dim() - 2)
        x = input.float()
        count = torch.tensor([x.numel() / x.shape[1]], dtype=torch.float64)
        dist.all_reduce(count)
        n = float(count)
        mean = _AllReduceSum.apply(x.sum(dims)) / n
        centred = x - mean.view(shape)  # two passes: E[x^2] - E[x]^2 cancels badly in float32 when |mean| >> std
        var = _AllReduceSum.apply((centred * centred).sum(dims)) / n
        if self.track_running_stats and self.running_mean is not None and self.running_var is not None:
            with torch.no_grad():
                self.num_batches_tracked += 1
                factor = self.momentum if self.momentum is not None else 1 / float(self.num_batches_tracked)
                self.running_mean.lerp_(mean.detach(), factor)
                self.running_var.lerp_(var.detach() * n / max(n - 1, 1), factor)
        y = centred * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y.to(input.dtype)


def sync_batchnorm(model: nn.Module, device: torch.device) -> nn.Module:
    """Every BatchNorm of `model` synchronised over the process group (same parameters and state_dict keys).

    CUDA: torch's SyncBatchNorm. CPU: BatchNorm1d layers get a forward that all-reduces their statistics.
    """
    if device.type != "cpu":
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)
    for module in model.modules():
        if type(module) is nn.BatchNorm1d:
            module.__class__ = _CpuSyncBatchNorm1d  # same state, a synchronised forward
    return model


def wrap(model: nn.Module, ctx: Distributed) -> nn.Module:
    """`model` as DistributedDataParallel with synchronised BatchNorm when distributed, else unchanged."""
    if not ctx.enabled:
        return model
    model = sync_batchnorm(model, ctx.device)
    device_ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)
