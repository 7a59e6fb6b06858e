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

With --music recorded, each video's music is instead a cut of a recorded
track of one of --music-packages (Debian game soundtracks, installed), whose
beats, onsets and loudness librosa finds and the dance follows. --dance-styles
and --figures draw each video's dance style (alignnet.demo.synth.styles) and
figure and shot (alignnet.demo.synth.figures) from the named ones; without them
the demo's dances and figure are drawn, exactly as before.

Examples:
  alignnet synth demo/ --videos 24 --seconds 20 --seed 7 --warp --negatives 0.25
  alignnet synth general/ --music recorded --music-packages wesnoth-1.16-music,drascula-music \
      --dance-styles groove,flowing --figures studio,home
  alignnet synth packed/ --packed --videos 400 --val-videos 20 --seconds 30 --negatives 0 \
      --music recorded --music-packages wesnoth-1.16-music,drascula-music --dance-styles groove --figures studio
"""

from __future__ import annotations

import argparse
import logging
import time

from alignnet.dataclass_fields import known_fields
from alignnet.demo.synth.corpus import FPS, Options, generate_corpus
from alignnet.demo.synth.corpus_options import add_corpus_arguments, check_corpus_arguments
from alignnet.demo.synth.figures import FIGURE_PRESETS, check_figures
from alignnet.demo.synth.keypoint_dataset import write_keypoint_dataset
from alignnet.demo.synth.negatives import CLIP_SECONDS, NEGATIVE_KINDS
from alignnet.demo.synth.real_music import MUSIC_PACKAGES
from alignnet.demo.synth.styles import DANCE_STYLES, check_styles
from alignnet.errors import UserInputError

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_corpus_arguments(parser, "the dance against the music", NEGATIVE_KINDS, width=640, height=360)
    parser.add_argument(
        "--seconds",
        type=float,
        default=20.0,
        help=f"length of each video in seconds (too_short negatives are cut below {CLIP_SECONDS:g} s)",
    )
    general = parser.add_argument_group("general corpus (off by default: the demo's corpus)")
    general.add_argument(
        "--music",
        choices=("synth", "recorded"),
        default="synth",
        help="synthesised songs, or cuts of recorded tracks of --music-packages",
    )
    name_lists = (
        ("--music-packages", "PKG,...", "installed Debian music packages to cut tracks from", MUSIC_PACKAGES),
        ("--dance-styles", "STYLE,...", "dance styles drawn from per video", DANCE_STYLES),
        ("--figures", "FIGURE,...", "figure and shot presets drawn from per good video", FIGURE_PRESETS),
    )
    for flag, metavar, what, known in name_lists:
        general.add_argument(flag, type=_names, default=(), metavar=metavar, help=f"{what}: any of {', '.join(known)}")
    packed = parser.add_argument_group("a packed dataset instead of videos (alignnet.demo.synth.keypoint_dataset)")
    packed.add_argument(
        "--packed",
        action="store_true",
        help="draw no frame: write OUT_DIR as a packed dataset for `alignnet train --data` from the true "
        "keypoints with simulated MediaPipe errors (--videos train videos, then --val-videos; no negatives)",
    )
    packed.add_argument(
        "--val-videos", type=int, default=0, help="with --packed: validation videos after the train ones"
    )


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def run(args: argparse.Namespace) -> int:
    check_corpus_arguments(args)
    check_styles(args.dance_styles)
    check_figures(args.figures)
    if (args.music == "recorded") != bool(args.music_packages):
        raise UserInputError("--music-packages goes with --music recorded, and --music recorded needs it")
    opts = Options(**known_fields(Options, vars(args)))  # every Options field is an option of the same name
    start = time.monotonic()
    if args.packed:
        counts = write_keypoint_dataset(
            args.out_dir, opts, {"train": args.videos, "val": args.val_videos}, progress=not args.no_progress
        )
        wall = time.monotonic() - start
        log.info("wrote a packed dataset (%s clips) to %s in %.1f s", counts, args.out_dir, wall)
        return 0
    corpus = generate_corpus(args.out_dir, args.videos, opts, progress=not args.no_progress)
    seconds = sum(v["duration"] for v in corpus["videos"])
    wall = time.monotonic() - start
    log.info(
        "wrote %d videos (%.0f s at %d fps) to %s in %.1f s", len(corpus["videos"]), seconds, FPS, args.out_dir, wall
    )
    return 0
