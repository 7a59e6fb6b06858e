"""Video-disjoint train/val/test splits, packed for training.

Reads the cleaned keypoints (Parquet, kept clips only) and the per-video
log-mel files, assigns whole videos to splits (sizes in clips, deterministic
by seed; scaled down proportionally when fewer clips are kept), normalises
the log-mel with per-bin statistics of the train split, and writes
memory-mappable arrays per split (see alignnet.data.packing).

Example:
  alignnet split --keypoints results/keypoints/*.parquet \\
      --logmel results/logmel/*.npz --train 40 --val 12 --test 12 -o results/dataset/splits
"""

from __future__ import annotations

import argparse
import logging

from alignnet.data.packing import pack_dataset

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keypoints", nargs="+", required=True, help="keypoint Parquet files")
    parser.add_argument("--logmel", nargs="+", required=True, help="log-mel .npz files named <video_id>.npz")
    parser.add_argument("--train", type=int, default=20000, help="train clips (target)")
    parser.add_argument("--val", type=int, default=5000, help="validation clips (target)")
    parser.add_argument("--test", type=int, default=5000, help="test clips (target)")
    parser.add_argument("--seed", type=int, default=0, help="split seed")
    parser.add_argument("--fps", type=float, default=30.0, help="video frame rate of the clips")
    parser.add_argument("--sample-rate", type=int, default=44100, help="audio sample rate of the clips")
    parser.add_argument("--hop-length", type=int, default=512, help="log-mel hop, samples")
    parser.add_argument("-o", "--output", required=True, help="the packed dataset directory")


def run(args: argparse.Namespace) -> int:
    sizes = {"train": args.train, "val": args.val, "test": args.test}
    meta = {"fps": args.fps, "sample_rate": args.sample_rate, "hop_length": args.hop_length}
    counts = pack_dataset(args.keypoints, args.logmel, sizes, args.seed, meta, args.output)  # DataError -> exit 2
    log.info("clips per split: %s", counts)
    return 0
