"""Generate the demo corpus: synthetic dance videos with music and exact ground truth.

Writes OUT_DIR/<video_id>.mp4 (H.264 yuv420p, 30 fps constant, AAC 44,100 Hz
mono), a JSON sidecar OUT_DIR/<video_id>.json per video (title, uploader,
style, tempo, beat times, true BODY_25 keypoints per frame, source_frame of
the time warp, negative kind and the verdict the quality filters should
reach) and OUT_DIR/corpus.json listing the videos.

Each video has its own synthesised song (drums, bass, chords; 80-160 BPM;
several styles, tempo changes, breaks, quiet parts) and a drawn dancer
whose moves hit the beats and whose energy follows the loudness. Video i
depends only on (--seed, i): adding videos never changes earlier ones.

Example:
  alignnet synth demo/ --videos 24 --seconds 20 --seed 7 --warp --negatives 0.25
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from alignnet.errors import UserInputError
from alignnet.synth.corpus import FPS, Options, generate_corpus
from alignnet.synth.negatives import CLIP_SECONDS, NEGATIVE_KINDS

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "out_dir", metavar="OUT_DIR", type=Path, help="directory for the videos, sidecars and corpus.json"
    )
    parser.add_argument("--videos", type=int, default=8, help="number of videos to generate")
    parser.add_argument(
        "--seconds",
        type=float,
        default=20.0,
        help="length of each video in seconds (too_short negatives are cut below %g s)" % CLIP_SECONDS,
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed; video i depends only on (seed, i)")
    parser.add_argument(
        "--warp",
        action="store_true",
        help="render the dance under a random monotonic non-uniform time warp against the music "
        "(sidecar source_frame gives the unwarped frame shown; without it source_frame[i] == i)",
    )
    parser.add_argument(
        "--negatives",
        type=float,
        default=0.2,
        metavar="FRACTION",
        help="fraction of videos that are negatives the quality filters must reject, spread evenly and cycling "
        f"through the kinds: {', '.join(NEGATIVE_KINDS)}",
    )
    parser.add_argument("--width", type=int, default=640, help="frame width in pixels (even)")
    parser.add_argument("--height", type=int, default=360, help="frame height in pixels (even)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
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
    opts = Options(args.seed, args.seconds, args.warp, args.negatives, args.width, args.height)
    start = time.monotonic()
    corpus = generate_corpus(args.out_dir, args.videos, opts, progress=not args.no_progress)
    seconds = sum(v["duration"] for v in corpus["videos"])
    wall = time.monotonic() - start
    log.info(
        "wrote %d videos (%.0f s at %d fps) to %s in %.1f s", len(corpus["videos"]), seconds, FPS, args.out_dir, wall
    )
    return 0
