"""Turn VoxCeleb2 metadata files into a manifest and a table of speaking segments.

Reads TXT_DIR, VoxCeleb2's metadata (`txt/<identity>/<YouTube id>/<segment>.txt`:
header lines Identity, Reference, Offset, FV Conf, ASD Conf, then FRAME X Y W H
rows, frames at 25 fps), and writes

  MANIFEST   the pipeline's manifest (TSV): one row per YouTube video, url
             https://www.youtube.com/watch?v=<id>, uploader the identities
  SEGMENTS   TSV, one row per segment of at least --min-seconds: video_id,
             identity, segment, start/end frame and time (s), duration,
             offset (audio-video frames), FV and ASD confidences, mean face box

Example:
  alignnet voxceleb vox2/dev/txt -o results/manifest.tsv --segments results/voxceleb_segments.tsv \\
      --min-seconds 12 --max-videos 2000
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from alignnet.data.voxceleb import import_voxceleb
from alignnet.errors import UserInputError

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("txt_dir", metavar="TXT_DIR", type=Path, help="VoxCeleb2's txt/ folder (or one identity's)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="manifest to write (TSV)")
    parser.add_argument("--segments", type=Path, required=True, help="segments table to write (TSV)")
    parser.add_argument("--min-seconds", type=float, default=12.0, help="drop segments shorter than this")
    parser.add_argument("--max-videos", type=int, help="keep only the first N videos (path order)")


def run(args: argparse.Namespace) -> int:
    if args.min_seconds < 0:
        raise UserInputError(f"--min-seconds must be >= 0, got {args.min_seconds}")
    if args.max_videos is not None and args.max_videos < 1:
        raise UserInputError(f"--max-videos must be at least 1, got {args.max_videos}")
    videos, segments = import_voxceleb(args.txt_dir, args.output, args.segments, args.min_seconds, args.max_videos)
    log.info("wrote %s (%d videos) and %s (%d segments)", args.output, videos, args.segments, segments)
    return 0
