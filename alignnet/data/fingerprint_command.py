"""Fingerprint one downloaded video for the duplicate search: Chromaprint of its audio, a visual signature.

Reads VIDEODIR of `alignnet download` (video.mp4, status.json) and writes
OUT.npz (alignnet.data.fingerprint.VideoFingerprint). A video that was not
downloaded, or whose audio or picture cannot be decoded, gets an empty part
and the reason in the file's `failed` (for a failed download, its stage
record's reason, read with alignnet.stage_status.read_upstream); the command still succeeds, so that
`alignnet duplicates` sees every video of the manifest.

Example:
  alignnet fingerprint resources/videos/abc123 -o results/duplicates/fingerprints/abc123.npz
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from alignnet.data.download import VIDEO_FILE
from alignnet.data.fingerprint import MAX_SECONDS, fingerprint_download
from alignnet.errors import UserInputError

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("videodir", type=Path, help="download directory of `alignnet download`")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the fingerprint .npz to write")
    parser.add_argument("--video-id", help="video id; when not given, the name of VIDEODIR")
    parser.add_argument(
        "--max-seconds", type=float, default=MAX_SECONDS, help="fingerprint only the first seconds of each video"
    )


def run(args: argparse.Namespace) -> int:
    if args.max_seconds <= 0:
        raise UserInputError(f"--max-seconds must be > 0, got {args.max_seconds}")
    video_id = args.video_id or args.videodir.resolve().name
    try:
        fingerprint = fingerprint_download(args.videodir / VIDEO_FILE, video_id, args.max_seconds)
    except FileNotFoundError as exc:
        raise UserInputError(f"{exc} (is {args.videodir} a download directory of `alignnet download`?)") from exc
    fingerprint.save(args.output)
    log.info(
        "%s: %d audio items (%.0f s), %d signature frames%s",
        video_id,
        fingerprint.audio.size,
        fingerprint.duration,
        len(fingerprint.visual),
        f"; failed: {fingerprint.failed}" if fingerprint.failed else "",
    )
    return 0
