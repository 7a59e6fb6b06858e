"""Generate the talking-head demo corpus: rendered faces speaking espeak-ng speech, with ground truth.

Writes OUT_DIR/<video_id>.mp4 (H.264 yuv420p, 25 fps constant, AAC mono at
espeak-ng's 22,050 Hz), a JSON sidecar OUT_DIR/<video_id>.json per video
and OUT_DIR/corpus.json listing the videos. The sidecar holds the title,
speaker, voice (espeak-ng name, words per minute, pitch), the sentences,
every phoneme with its start time as espeak-ng's library reported it, the
mouth shape per frame (opening, width, roundness), the true 20 mouth
keypoints per frame (FACE_70 points 48-67, pixels), source_frame of the
time warp, the negative kind and the verdict the quality filters should
reach.

Each video has its own voice (accent, male/female variant, speed, pitch),
random sentences with pauses, and its own face (skin, hair, proportions,
size, position, head motion, blinks); the mouth follows the phonemes
through visemes with co-articulation. Video i depends only on (--seed, i).
Needs the Debian package espeak-ng (libespeak-ng.so.1).

Example:
  alignnet lips-synth lips-demo/ --videos 24 --seconds 24 --seed 3 --warp --negatives 0.2
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from alignnet.errors import UserInputError
from alignnet.lips.corpus import FPS, LIPS_KINDS, Options, generate_corpus
from alignnet.lips.speech import EspeakError

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "out_dir", metavar="OUT_DIR", type=Path, help="directory for the videos, sidecars and corpus.json"
    )
    parser.add_argument("--videos", type=int, default=8, help="number of videos to generate")
    parser.add_argument("--seconds", type=float, default=24.0, help="length of each video in seconds")
    parser.add_argument(
        "--clip-seconds", type=float, default=12.0, help="clip length of the task: shorter good videos are too_short"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed; video i depends only on (seed, i)")
    parser.add_argument(
        "--warp",
        action="store_true",
        help="render the face under a random monotonic non-uniform time warp against the speech "
        "(sidecar source_frame gives the unwarped frame shown; without it source_frame[i] == i)",
    )
    parser.add_argument(
        "--negatives",
        type=float,
        default=0.2,
        metavar="FRACTION",
        help="fraction of videos that are negatives the quality filters must reject, spread evenly and cycling "
        f"through the kinds: {', '.join(LIPS_KINDS.values())}",
    )
    parser.add_argument("--motion", type=float, default=1.0, help="head motion amount (0: still head)")
    parser.add_argument("--width", type=int, default=320, help="frame width in pixels (even)")
    parser.add_argument("--height", type=int, default=320, help="frame height in pixels (even)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    if args.videos < 1:
        raise UserInputError(f"--videos must be at least 1, got {args.videos}")
    if not 1.0 <= args.seconds <= 3600:
        raise UserInputError(f"--seconds must be between 1 and 3600, got {args.seconds}")
    if not 0.0 < args.clip_seconds <= 3600:
        raise UserInputError(f"--clip-seconds must be in (0, 3600], got {args.clip_seconds}")
    if not 0.0 <= args.negatives <= 1.0:
        raise UserInputError(f"--negatives must be a fraction in [0, 1], got {args.negatives}")
    if not 0.0 <= args.motion <= 3.0:
        raise UserInputError(f"--motion must be in [0, 3], got {args.motion}")
    for name in ("width", "height"):
        value = getattr(args, name)
        if value < 64 or value > 4096 or value % 2:
            raise UserInputError(f"--{name} must be an even number of pixels in [64, 4096], got {value}")
    if args.out_dir.exists() and not args.out_dir.is_dir():
        raise UserInputError(f"OUT_DIR is not a directory: {args.out_dir}")
    opts = Options(
        args.seed, args.seconds, args.warp, args.negatives, args.width, args.height, args.clip_seconds, args.motion
    )
    start = time.monotonic()
    try:
        corpus = generate_corpus(args.out_dir, args.videos, opts, progress=not args.no_progress)
    except EspeakError as exc:
        raise UserInputError(str(exc)) from exc
    seconds = sum(v["duration"] for v in corpus["videos"])
    log.info(
        "wrote %d videos (%.0f s at %d fps) to %s in %.1f s",
        len(corpus["videos"]), seconds, FPS, args.out_dir, time.monotonic() - start,
    )  # fmt: skip
    return 0
