"""Multi-process training: torchrun with 2 gloo processes on CPU takes the same steps as one process.

Both runs resume from the same one-process checkpoint (epoch 0), then train one more
epoch of 3 steps on a global batch of 4: one process with batch 4, or torchrun with 2
processes of 2 samples each (DistributedDataParallel, BatchNorm synchronised over the
global batch). The parameters after that epoch must agree to float rounding, far
below how far the epoch moved them: measured, the difference is 2e-5 of the
movement, while BatchNorm left per process gives 0.7 and one process on a rank's
2 samples 0.8 (the test allows 1e-3). This also covers --resume under torchrun
and rank 0 alone writing the outputs.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from alignnet.cli import main
from alignnet.training.distributed import GlobalBatchSampler, _CpuSyncBatchNorm1d
from tests.synthetic_split import make_synthetic_split


def _train_args(data, out) -> list[str]:
    return [
        "train",
        "--data",
        str(data),
        "--out",
        str(out),
        "--batch-size",
        "4",
        "--steps-per-epoch",
        "3",
        "--lr",
        "1e-3",
        "--device",
        "cpu",
        "--threads",
        "1",
        "--workers",
        "0",
    ]


def _parameters(path) -> dict[str, torch.Tensor]:
    """Trainable tensors of a checkpoint (BatchNorm running statistics and counters left out)."""
    state = load_file(str(path))
    return {k: v for k, v in state.items() if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))}


def test_global_batch_sampler_splits_each_batch_between_ranks() -> None:
    one = list(GlobalBatchSampler(24, 8, seed=5))
    ranks = [list(GlobalBatchSampler(24, 8, seed=5, rank=r, world_size=2)) for r in range(2)]
    assert sorted(one) == list(range(24)) and len(ranks[0]) == len(ranks[1]) == 12
    for b in range(3):
        assert one[8 * b : 8 * b + 4] == ranks[0][4 * b : 4 * b + 4]
        assert one[8 * b + 4 : 8 * b + 8] == ranks[1][4 * b : 4 * b + 4]
    assert sorted(GlobalBatchSampler(10, 4, seed=1, drop_last=False)) == list(range(10))  # short last batch kept
    assert len(list(GlobalBatchSampler(10, 4, seed=1))) == len(GlobalBatchSampler(10, 4, seed=1)) == 8
    with pytest.raises(ValueError):
        GlobalBatchSampler(10, 4, seed=1, world_size=2, drop_last=False)


def test_cpu_sync_batchnorm_is_plain_batchnorm_without_a_process_group() -> None:
    layer = nn.BatchNorm1d(3)
    layer.__class__ = _CpuSyncBatchNorm1d
    x = torch.randn(4, 3, 7)
    assert torch.allclose(layer(x), nn.BatchNorm1d(3)(x))


def test_cpu_sync_batchnorm_keeps_its_digits_when_the_mean_dwarfs_the_spread(tmp_path) -> None:
    """In a (one-process) gloo group the synchronised path runs: a channel at 300 +- 0.01 must still normalise
    like BatchNorm1d; sum x^2 / n - mean^2 in float32 gets its variance wrong by orders of magnitude."""
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'group'}", rank=0, world_size=1)
    try:
        layer = nn.BatchNorm1d(3)
        layer.__class__ = _CpuSyncBatchNorm1d
        x = (300.0 + 0.01 * torch.randn(4, 3, 50, generator=torch.Generator().manual_seed(0))).requires_grad_()
        y = layer(x)
        reference = nn.BatchNorm1d(3)(x)
        assert torch.allclose(y, reference, atol=1e-2), float((y - reference).abs().max())
    finally:
        dist.destroy_process_group()


def test_two_gloo_processes_match_one_process(tmp_path) -> None:
    data = make_synthetic_split(tmp_path / "data", {"train": 8, "val": 4}, seconds=1.0)
    start = tmp_path / "start"
    assert main([*_train_args(data, start), "--epochs", "1"]) == 0
    single, ddp = tmp_path / "single", tmp_path / "ddp"
    shutil.copytree(start, single)
    shutil.copytree(start, ddp)
    assert main([*_train_args(data, single), "--epochs", "2", "--resume"]) == 0

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "alignnet"]
    result = subprocess.run(
        [*command, *_train_args(data, ddp), "--epochs", "2", "--resume"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stderr.count("epoch 1: train loss") == 1  # rank 0 logs, rank 1 does not

    before, after, reference = (_parameters(d / "last.safetensors") for d in (start, ddp, single))
    assert after.keys() == reference.keys()
    moved = torch.sqrt(sum(((reference[k] - before[k]) ** 2).sum() for k in reference))
    differ = torch.sqrt(sum(((after[k] - reference[k]) ** 2).sum() for k in reference))
    assert moved > 1e-3
    assert differ < 1e-3 * moved, f"DDP differs from one process by {float(differ):.3g} (moved {float(moved):.3g})"

    rows = list(csv.DictReader((ddp / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["0", "1"] and rows[1]["steps"] == "3"
    reference_row = list(csv.DictReader((single / "metrics.csv").open()))[1]
    for key in ("train_loss", "val_loss"):  # the loss is averaged over the processes, validation is rank 0's
        assert float(rows[1][key]) == pytest.approx(float(reference_row[key]), rel=1e-4), key
    assert len(list((ddp / "tb").glob("events.out.tfevents.*"))) == 2  # one from the start run, one from rank 0
