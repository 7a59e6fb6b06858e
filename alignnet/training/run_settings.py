"""What every trainer (AlignNet, SyncNet) is told: data, output, optimiser, budget, device.

The fields of `RunSettings` are the one source of the options both `alignnet train` and
`alignnet train-syncnet` take: `add_run_arguments` derives each option (flag, type, default,
help) from a field and its metadata, and `__post_init__` checks the ranges, naming the option.
A trainer's config subclasses `RunSettings` and may change the defaults (SyncNet: 20 epochs).
"""

from __future__ import annotations

import argparse
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from alignnet.cli_options import flag_of, option, value_type
from alignnet.errors import UserInputError
from alignnet.training.schedule import LR_SCHEDULES


@dataclass
class RunSettings:
    """The options `alignnet train` and `alignnet train-syncnet` share (one loop: `alignnet.training.loop`)."""

    data: Path = field(metadata={"help": "packed dataset directory"})
    out: Path = field(metadata={"help": "output directory (checkpoints, metrics.csv, tb/)"})
    epochs: int = option(30, "epochs (one validation and checkpoint each)")
    batch_size: int = option(32, "samples per optimiser step (under torchrun the global batch of all processes)")
    lr: float = option(3e-4, "Adam learning rate (the peak, when cosine)")
    lr_schedule: str = option(
        "cosine",
        "cosine: decay the learning rate from --lr to 0 over the run (its epochs x steps, or the steps"
        " --max-minutes holds at the first epoch's pace if fewer); constant: --lr throughout (the paper's)",
        choices=LR_SCHEDULES,
    )
    average_decay: float = option(
        0.999,
        "validate, and keep as OUT/best, an exponential moving average of the weights with this decay per step"
        " (0.999: about the last 1000 steps; 0 = the trained weights themselves)",
    )
    clip_grad_norm: float = option(
        0.0,
        "scale each step's gradient down to at most this norm before Adam (0 = off, the default and the paper's);"
        " what keeps a strong-warps training from diverging (docs/training-data.md)",
    )
    seed: int = option(0, "seed of the weights, the samples and their order")
    device: str = option("auto", "where to train", choices=("auto", "cpu", "cuda"))
    workers: int = option(0, "DataLoader worker processes")
    # optimiser steps per epoch; None = one pass over the train clips (0 on the command line)
    steps_per_epoch: int | None = option(
        100, "optimiser steps per epoch (samples are drawn online; 0 = one pass over the train clips)"
    )
    threads: int | None = option(None, "torch CPU threads (default: torch's choice; 1 is faster on a busy machine)")
    max_minutes: float | None = option(None, "stop cleanly after this much time")
    val_warps_per_clip: int = option(
        1,
        "validate every val clip under this many fixed warps (its saved one, then more from fixed seeds):"
        " a steadier score, and choice of the best epoch, on a small val split",
    )
    init: Path | None = option(
        None,
        "start from the weights of this checkpoint STEM (same model options; a fresh optimiser and learning-rate"
        " schedule): fine-tuning, e.g. the shipped general model on your own data",
    )
    resume: bool = option(
        False,
        "continue from OUT/last.* (none yet: start fresh, and say so; refused when its files do not belong"
        " together, as after a write cut by kill -9)",
    )
    progress: bool = option(True, "no progress bar per epoch (the log lines stay)")

    def __post_init__(self) -> None:
        at_least = {"epochs": 1, "batch_size": 1, "workers": 0, "steps_per_epoch": 1, "threads": 1}
        at_least["val_warps_per_clip"] = 1
        for name, low in at_least.items():
            value = getattr(self, name)
            if value is not None and value < low:
                raise UserInputError(f"{flag_of(name)} {value}: must be at least {low}")
        for name in ("lr", "max_minutes"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise UserInputError(f"{flag_of(name)} {value}: must be > 0")
        if self.clip_grad_norm < 0:
            raise UserInputError(f"--clip-grad-norm {self.clip_grad_norm}: must be >= 0 (0 = off)")
        if not 0 <= self.average_decay < 1:
            raise UserInputError(f"--average-decay {self.average_decay}: must be in [0, 1)")
        if self.lr_schedule not in LR_SCHEDULES:
            raise UserInputError(f"--lr-schedule {self.lr_schedule}: choose one of {', '.join(LR_SCHEDULES)}")


def add_run_arguments(parser: argparse.ArgumentParser, config: type[RunSettings]) -> None:
    """Every `RunSettings` field as an option, with `config`'s defaults: --data DIR, --epochs N, --resume,
    --no-progress (a True default is turned off), ..."""
    for item in fields(RunSettings):
        default = next(f for f in fields(config) if f.name == item.name).default
        kwargs = {k: v for k, v in item.metadata.items()}
        if item.type == "bool":
            flag = flag_of(item.name) if default is False else flag_of(f"no_{item.name}")
            action = "store_true" if default is False else "store_false"
            parser.add_argument(flag, dest=item.name, action=action, **kwargs)
        elif default is MISSING:
            parser.add_argument(flag_of(item.name), type=value_type(item.type), required=True, **kwargs)
        else:
            arg_type = value_type(item.type)
            default = 0 if item.name == "steps_per_epoch" and default is None else default
            parser.add_argument(flag_of(item.name), type=arg_type, default=default, **kwargs)


def run_settings_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The `RunSettings` fields of parsed options (see `add_run_arguments`), as keyword arguments."""
    values = {item.name: getattr(args, item.name) for item in fields(RunSettings)}
    values["steps_per_epoch"] = values["steps_per_epoch"] or None
    return values
