"""Video-disjoint (or song-disjoint) train/val/test splits, packed for training.

Reads the cleaned keypoints (Parquet, kept clips only) and the per-video
log-mel files, assigns whole videos (--disjoint video) or whole songs
(--disjoint song: the song_id column of --songs, videos.tsv of
`alignnet duplicates`) to splits (sizes in clips, deterministic
by seed; scaled down proportionally when fewer clips are kept), normalises
the log-mel with per-bin statistics of the train split, and writes
memory-mappable arrays per split (see alignnet.data.packing). meta.json
records the choice (disjoint: video / song).

Example:
  alignnet split --keypoints results/keypoints/*.parquet \\
      --logmel results/logmel/*.npz --train 40 --val 12 --test 12 -o results/dataset/splits
"""

from __future__ import annotations

import argparse
import logging

from alignnet.data.duplicate_table import read_video_table
from alignnet.data.packing import pack_dataset
from alignnet.errors import UserInputError

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
    parser.add_argument(
        "--disjoint",
        choices=["video", "song"],
        default="video",
        help="what no two splits share: a source video, or a song (videos grouped by audio fingerprint; needs --songs)",
    )
    parser.add_argument("--songs", help="videos.tsv of `alignnet duplicates` (video_id, song_id): --disjoint song")
    parser.add_argument("-o", "--output", required=True, help="the packed dataset directory")


def run(args: argparse.Namespace) -> int:
    sizes = {"train": args.train, "val": args.val, "test": args.test}
    meta = {"fps": args.fps, "sample_rate": args.sample_rate, "hop_length": args.hop_length}
    if args.disjoint == "song" and not args.songs:
        raise UserInputError("--disjoint song needs --songs (videos.tsv of `alignnet duplicates`)")
    songs = None
    if args.disjoint == "song":
        table = read_video_table(args.songs)
        songs = dict(zip(table["video_id"], table["song_id"], strict=True))
    counts = pack_dataset(args.keypoints, args.logmel, sizes, args.seed, meta, args.output, songs)  # DataError: exit 2
    log.info("clips per split: %s", counts)
    return 0
