"""What every trainer (AlignNet, SyncNet) is told: data, output, optimiser, budget, device."""

from __future__ import annotations

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
