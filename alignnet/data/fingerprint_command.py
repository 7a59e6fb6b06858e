"""Fingerprint one downloaded video for the duplicate search: Chromaprint of its audio, a visual signature.

Reads VIDEODIR of `alignnet download` (video.mp4, status.json) and writes
OUT.npz (alignnet.data.fingerprint.VideoFingerprint). A video that was not
downloaded, or whose audio or picture cannot be decoded, gets an empty part
and the reason in the file's `failed`; the command still succeeds, so that
`alignnet duplicates` sees every video of the manifest.

Example:
  alignnet fingerprint resources/videos/abc123 -o results/duplicates/fingerprints/abc123.npz
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import ffmpeg

from alignnet.data.download import VIDEO_FILE
from alignnet.data.fingerprint import MAX_SECONDS, failed_fingerprint, fingerprint_video
from alignnet.errors import UserInputError
from alignnet.stage_status import read_upstream
from alignnet.video_frames import probe_size

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
        upstream = read_upstream(args.videodir / VIDEO_FILE)
    except FileNotFoundError as exc:
        raise UserInputError(f"{exc} (is {args.videodir} a download directory of `alignnet download`?)") from exc
    if upstream.failed:
        fingerprint = failed_fingerprint(video_id, upstream.failure("fingerprint").reason)
    else:
        path = args.videodir / VIDEO_FILE
        try:
            size = probe_size(path)
        except (ffmpeg.Error, ValueError) as exc:
            log.warning("%s: cannot read the frame size: %s", path, exc)
            size = (0, 0)
        fingerprint = fingerprint_video(video_id, path, size, args.max_seconds)
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
