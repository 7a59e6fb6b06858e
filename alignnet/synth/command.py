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

from alignnet.synth.corpus import FPS, Options, generate_corpus
from alignnet.synth.corpus_options import add_corpus_arguments, check_corpus_arguments
from alignnet.synth.negatives import CLIP_SECONDS, NEGATIVE_KINDS

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_corpus_arguments(parser, "the dance against the music", NEGATIVE_KINDS, width=640, height=360)
    parser.add_argument(
        "--seconds",
        type=float,
        default=20.0,
        help="length of each video in seconds (too_short negatives are cut below %g s)" % CLIP_SECONDS,
    )


def run(args: argparse.Namespace) -> int:
    check_corpus_arguments(args)
    opts = Options(args.seed, args.seconds, args.warp, args.negatives, args.width, args.height)
    start = time.monotonic()
    corpus = generate_corpus(args.out_dir, args.videos, opts, progress=not args.no_progress)
    seconds = sum(v["duration"] for v in corpus["videos"])
    wall = time.monotonic() - start
    log.info(
        "wrote %d videos (%.0f s at %d fps) to %s in %.1f s", len(corpus["videos"]), seconds, FPS, args.out_dir, wall
    )
    return 0
