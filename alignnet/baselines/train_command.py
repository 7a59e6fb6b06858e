"""Train the SyncNet baseline on a packed dataset (the `split` stage's output).

Reads DIR/{train,val}_keypoints.npy, DIR/{train,val}_logmel.npy, DIR/{train,val}_index.tsv
and DIR/meta.json. Training samples are AlignNet's (random monotonic time warps,
flips, SpecAugment, low-passes of the music, `alignnet.training.band_limit`; not
its tempo and timbre changes, which cost SyncNet+DTW 3-15 points within the
demo's short SyncNet training); every video frame's window is paired with its matching
audio window and with one shifted by 0.1-2 s, under SyncNet's contrastive loss.
Validation uses the same fixed warps as `alignnet train` (DIR/val_warps.npz if
present, else OUT/val_warps.npz) and reports the AFE and ITU accuracy of SyncNet
(one global offset, sliding search) and SyncNet+DTW.

Writes to OUT: best.safetensors + best.json (lowest validation loss),
last.safetensors + last.json + last.optim.safetensors (for --resume), metrics.csv (one row per
epoch), tb/ (TensorBoard events). The loop is AlignNet's (`alignnet.training.loop`): the same
--max-minutes budget, --resume and checkpoints; by default a constant learning rate and no weight
average (--lr-schedule, --average-decay).

Example:
  alignnet train-syncnet --data results/dataset/splits --out results/train/syncnet --epochs 20 --max-minutes 10
"""

from __future__ import annotations

import argparse
import json
import logging

from alignnet.baselines.syncnet import SyncNetConfig
from alignnet.baselines.syncnet_training import SyncNetTrainConfig, train_syncnet
from alignnet.cli_options import add_options, field_options
from alignnet.distort.samples import SampleGenerator
from alignnet.errors import UserInputError
from alignnet.training.band_limit import add_band_limit_argument, band_limit_bands
from alignnet.training.data import keypoint_layout, read_data_meta
from alignnet.training.run_settings import add_run_arguments, run_settings_from_args

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_arguments(parser, SyncNetTrainConfig)
    model = parser.add_argument_group("model and loss")
    add_options(model, {}, field_options(SyncNetConfig, ("channels", "embed_dim")))
    add_options(model, {}, field_options(SyncNetTrainConfig, ("margin", "min_shift_seconds", "max_shift_seconds")))
    add_band_limit_argument(parser.add_argument_group("augmentation"))
    validation = field_options(SyncNetTrainConfig, ("max_offset_seconds", "dtw_band"))
    add_options(parser.add_argument_group("validation"), {}, validation)


def config_from_args(args: argparse.Namespace) -> SyncNetTrainConfig:
    for name in ("channels", "embed_dim"):
        if getattr(args, name) < 1:
            raise UserInputError(f"--{name.replace('_', '-')} {getattr(args, name)}: must be at least 1")
    if not 0 < args.min_shift_seconds <= args.max_shift_seconds:
        raise UserInputError(
            f"--min-shift-seconds {args.min_shift_seconds} / --max-shift-seconds {args.max_shift_seconds}: "
            "need 0 < min <= max"
        )
    if not 0 < args.dtw_band <= 1:
        raise UserInputError(f"--dtw-band {args.dtw_band}: must be in (0, 1]")
    n_keypoints, mirror = keypoint_layout(read_data_meta(args.data))  # 19 body or 20 mouth points
    return SyncNetTrainConfig(
        **run_settings_from_args(args),
        margin=args.margin,
        min_shift_seconds=args.min_shift_seconds,
        max_shift_seconds=args.max_shift_seconds,
        max_offset_seconds=args.max_offset_seconds,
        dtw_band=args.dtw_band,
        model=SyncNetConfig(n_keypoints=n_keypoints, channels=args.channels, embed_dim=args.embed_dim),
        samples=SampleGenerator(mirror=mirror, bands=band_limit_bands(args, args.data)),
    )


def run(args: argparse.Namespace) -> int:
    summary = train_syncnet(config_from_args(args))
    log.info("done: %s", json.dumps(summary))
    return 0
