"""Speed of the training data: freshly distorted samples per second, as `alignnet train` draws them.

Builds the training set of a packed dataset (the split stage's output) with
`alignnet train`'s defaults (time warps, flips, SpecAugment, timbre and tempo
changes, cross-clip windows; extra train options after --), and draws
--samples samples in one process, as the demo's `--workers 0` does: this time
adds to every training step. Prints samples per second of wall time and of
process CPU time (which a shared machine does not blur) and the milliseconds
of one batch.

    .venv/bin/python benchmarks/sample_speed.py --data results/dataset/splits [--samples 3200] [-- --no-cross-clip]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import torch

from alignnet.training import command
from alignnet.training.data import load_training_data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="a packed dataset directory")
    parser.add_argument("--samples", type=int, default=3200, help="samples to draw (default 3200: 200 batches)")
    parser.add_argument("--batch-size", type=int, default=16, help="for the per-batch figure")
    parser.add_argument("train_options", nargs=argparse.REMAINDER, help="`alignnet train` options, after --")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as out:
        train_parser = argparse.ArgumentParser()
        command.add_arguments(train_parser)
        options = [a for a in args.train_options if a != "--"]
        cfg = command.config_from_args(train_parser.parse_args(["--data", str(args.data), "--out", out, *options]))
        data = load_training_data(dataclasses.replace(cfg, batch_size=1, steps_per_epoch=args.samples), cfg.samples)
        train = data.train
        train.set_epoch(0)
        train[0]  # first touch of the memory-mapped arrays
        wall, cpu = time.perf_counter(), time.process_time()
        for index in range(len(train)):
            train[index]
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{len(train)} samples from {args.data} ({len(train.split)} train clips)")
    print(f"  {len(train) / wall:8.1f} samples/s wall, {len(train) / cpu:8.1f} samples/s CPU")
    print(f"  {1000 * wall / len(train) * args.batch_size:8.2f} ms per batch of {args.batch_size}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
