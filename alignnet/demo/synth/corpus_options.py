"""Command-line options shared by the corpus generators (`alignnet synth`, `alignnet lips-synth`)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

from alignnet.errors import UserInputError


def add_corpus_arguments(
    parser: argparse.ArgumentParser, subject: str, kinds: Iterable[str], width: int, height: int
) -> None:
    """OUT_DIR, --videos, --seed, --warp, --negatives, --width, --height, --no-progress.

    subject names what moves against the sound in --warp's help, e.g. "the dance ... the music".
    """
    parser.add_argument(
        "out_dir", metavar="OUT_DIR", type=Path, help="directory for the videos, sidecars and corpus.json"
    )
    parser.add_argument("--videos", type=int, default=8, help="number of videos to generate")
    parser.add_argument("--seed", type=int, default=0, help="random seed; video i depends only on (seed, i)")
    parser.add_argument(
        "--warp",
        action="store_true",
        help=f"render {subject} under a random monotonic non-uniform time warp "
        "(sidecar source_frame gives the unwarped frame shown; without it source_frame[i] == i)",
    )
    parser.add_argument(
        "--negatives",
        type=float,
        default=0.2,
        metavar="FRACTION",
        help="fraction of videos that are negatives the quality filters must reject, spread evenly and cycling "
        f"through the kinds: {', '.join(kinds)}",
    )
    parser.add_argument("--width", type=int, default=width, help="frame width in pixels (even)")
    parser.add_argument("--height", type=int, default=height, help="frame height in pixels (even)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def check_corpus_arguments(args: argparse.Namespace) -> None:
    """UserInputError naming the first out-of-range option of `add_corpus_arguments` (and --seconds)."""
    if args.videos < 1:
        raise UserInputError(f"--videos must be at least 1, got {args.videos}")
    if not 1.0 <= args.seconds <= 3600:
        raise UserInputError(f"--seconds must be between 1 and 3600, got {args.seconds}")
    if not 0.0 <= args.negatives <= 1.0:
        raise UserInputError(f"--negatives must be a fraction in [0, 1], got {args.negatives}")
    for name in ("width", "height"):
        value = getattr(args, name)
        if value < 64 or value > 4096 or value % 2:
            raise UserInputError(f"--{name} must be an even number of pixels in [64, 4096], got {value}")
    if args.out_dir.exists() and not args.out_dir.is_dir():
        raise UserInputError(f"OUT_DIR is not a directory: {args.out_dir}")
