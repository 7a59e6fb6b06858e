"""What every trainer (AlignNet, SyncNet) is told: data, output, optimiser, budget, device."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path


@dataclass
class RunSettings:
    """The options `alignnet train` and `alignnet train-syncnet` share."""

    data: Path
    out: Path
    epochs: int = 30
    batch_size: int = 32
    lr: float = 3e-4
    seed: int = 0
    device: str = "auto"
    workers: int = 0
    steps_per_epoch: int | None = None  # optimiser steps per epoch; None = one pass over the train clips
    threads: int | None = None  # torch CPU threads; None = torch's default
    max_minutes: float | None = None
    val_warps_per_clip: int = 1  # validation samples per val clip (`alignnet.training.data.validation_samples`)
    progress: bool = True  # a progress bar per epoch (on stderr)


def add_progress_argument(parser: argparse.ArgumentParser) -> None:
    """Every trainer's --no-progress (RunSettings.progress)."""
    parser.add_argument("--no-progress", action="store_true", help="no progress bar per epoch (the log lines stay)")


def add_val_warps_argument(parser: argparse.ArgumentParser) -> None:
    """Every trainer's --val-warps-per-clip (RunSettings.val_warps_per_clip)."""
    parser.add_argument(
        "--val-warps-per-clip", type=int, default=RunSettings.val_warps_per_clip,
        help="validate every val clip under this many fixed warps (its saved one, then more from fixed seeds):"
        " a steadier score, and choice of the best epoch, on a small val split",
    )  # fmt: skip
