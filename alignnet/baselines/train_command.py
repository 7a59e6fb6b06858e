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
last.safetensors + last.json + last.optim.safetensors, metrics.csv (one row per epoch).

Example:
  alignnet train-syncnet --data results/dataset/splits --out results/train/syncnet --epochs 20 --max-minutes 10
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from alignnet.baselines.syncnet import SyncNetConfig
from alignnet.baselines.syncnet_training import SyncNetTrainConfig, train_syncnet
from alignnet.distort.samples import SampleGenerator
from alignnet.errors import UserInputError
from alignnet.training.band_limit import add_band_limit_argument, band_limit_bands
from alignnet.training.data import keypoint_layout, read_data_meta
from alignnet.training.run_settings import add_progress_argument, add_val_warps_argument

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="packed dataset directory")
    parser.add_argument("--out", type=Path, required=True, help="output directory (checkpoints, metrics.csv)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--steps-per-epoch", type=int, default=100, help="optimiser steps per epoch (0: one pass)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-4, help="Adam learning rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--max-minutes", type=float, default=None, help="stop cleanly after this much time")
    add_val_warps_argument(parser)
    add_progress_argument(parser)
    model = parser.add_argument_group("model and loss")
    model.add_argument("--channels", type=int, default=SyncNetConfig.channels, help="conv channels per stream")
    model.add_argument("--embed-dim", type=int, default=SyncNetConfig.embed_dim, help="joint embedding size")
    model.add_argument("--margin", type=float, default=1.0, help="contrastive margin (unit embeddings: 0-2)")
    model.add_argument("--min-shift-seconds", type=float, default=0.1, help="smallest shift of a non-matching pair")
    model.add_argument("--max-shift-seconds", type=float, default=2.0, help="largest shift of a non-matching pair")
    aug = parser.add_argument_group("augmentation")
    add_band_limit_argument(aug)
    val = parser.add_argument_group("validation")
    val.add_argument("--max-offset-seconds", type=float, default=2.0, help="SyncNet's sliding search range")
    val.add_argument("--dtw-band", type=float, default=0.3, help="SyncNet+DTW's band (share of the clip)")


def config_from_args(args: argparse.Namespace) -> SyncNetTrainConfig:
    for name in ("epochs", "batch_size", "channels", "embed_dim"):
        if getattr(args, name) < 1:
            raise UserInputError(f"--{name.replace('_', '-')} {getattr(args, name)}: must be at least 1")
    for name in ("workers", "steps_per_epoch"):
        if getattr(args, name) < 0:
            raise UserInputError(f"--{name.replace('_', '-')} {getattr(args, name)}: must not be negative")
    if args.threads is not None and args.threads < 1:
        raise UserInputError(f"--threads {args.threads}: must be at least 1")
    if not 0 < args.min_shift_seconds <= args.max_shift_seconds:
        raise UserInputError(
            f"--min-shift-seconds {args.min_shift_seconds} / --max-shift-seconds {args.max_shift_seconds}: "
            "need 0 < min <= max"
        )
    if not 0 < args.dtw_band <= 1:
        raise UserInputError(f"--dtw-band {args.dtw_band}: must be in (0, 1]")
    n_keypoints, mirror = keypoint_layout(read_data_meta(args.data))  # 19 body or 20 mouth points
    return SyncNetTrainConfig(
        data=args.data, out=args.out, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        seed=args.seed, device=args.device, workers=args.workers, steps_per_epoch=args.steps_per_epoch or None,
        threads=args.threads, max_minutes=args.max_minutes, val_warps_per_clip=args.val_warps_per_clip,
        progress=not args.no_progress,
        margin=args.margin,
        min_shift_seconds=args.min_shift_seconds, max_shift_seconds=args.max_shift_seconds,
        max_offset_seconds=args.max_offset_seconds, dtw_band=args.dtw_band,
        model=SyncNetConfig(n_keypoints=n_keypoints, channels=args.channels, embed_dim=args.embed_dim),
        samples=SampleGenerator(mirror=mirror, bands=band_limit_bands(args, args.data)),
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    summary = train_syncnet(config_from_args(args))
    log.info("done: %s", json.dumps(summary))
    return 0
