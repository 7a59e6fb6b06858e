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

from alignnet.demo.lips.corpus import FPS, LIPS_KINDS, Options, generate_corpus
from alignnet.demo.lips.speech import EspeakError
from alignnet.demo.synth.corpus_options import add_corpus_arguments, check_corpus_arguments
from alignnet.errors import UserInputError

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_corpus_arguments(parser, "the face against the speech", LIPS_KINDS.values(), width=320, height=320)
    parser.add_argument("--seconds", type=float, default=24.0, help="length of each video in seconds")
    parser.add_argument(
        "--clip-seconds", type=float, default=12.0, help="clip length of the task: shorter good videos are too_short"
    )
    parser.add_argument("--motion", type=float, default=1.0, help="head motion amount (0: still head)")


def run(args: argparse.Namespace) -> int:
    check_corpus_arguments(args)
    if not 0.0 < args.clip_seconds <= 3600:
        raise UserInputError(f"--clip-seconds must be in (0, 3600], got {args.clip_seconds}")
    if not 0.0 <= args.motion <= 3.0:
        raise UserInputError(f"--motion must be in [0, 3], got {args.motion}")
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
        len(corpus["videos"]),
        seconds,
        FPS,
        args.out_dir,
        time.monotonic() - start,
    )
    return 0
