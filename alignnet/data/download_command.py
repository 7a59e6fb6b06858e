"""Download one video of a manifest with yt-dlp.

Reads the manifest row of --video-id and writes OUTDIR/video.mp4 (at most
--max-height video + best audio, merged to mp4, checked with ffprobe),
OUTDIR/info.json (id, title, uploader, duration, webpage_url, format, ...)
and OUTDIR/status.json. A video that cannot be downloaded (HTTP error,
dropped or truncated transfer, unsupported URL, corrupt file) gets a
status.json with ok=false and a reason, no video.mp4, and exit status 0, so
the other videos go on. A fault of the machine or network (no space, the
site down, HTTP 429/5xx after retries) fails the command and leaves no OUTDIR;
OUTDIR is built in .OUTDIR.partial beside it and renamed into place at the end.

`alignnet gather download-failures` collects the status.json files of many
download directories into a failures TSV for the summary.

Example:
  alignnet download --manifest results/manifest.tsv --video-id abc123 \\
      -o results/download/abc123 --archive results/download/archive.txt --retries 5
"""

from __future__ import annotations

import argparse
from pathlib import Path

from alignnet.atomic import atomic_directory
from alignnet.data.download import DownloadSettings, download_video
from alignnet.data.manifest import find_entry, read_manifest
from alignnet.dataclass_fields import known_fields
from alignnet.errors import UserInputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = DownloadSettings()  # the one place the defaults are written
    parser.add_argument("--manifest", type=Path, required=True, help="manifest TSV (from `alignnet discover`)")
    parser.add_argument("--video-id", required=True, help="the manifest row to download")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output directory of the video")
    parser.add_argument(
        "--archive",
        type=Path,
        help="yt-dlp download archive: a listed video whose file is in OUTDIR is not downloaded again",
    )
    parser.add_argument("--max-height", type=int, default=defaults.max_height, help="highest resolution (pixels)")
    parser.add_argument("--retries", type=int, default=defaults.retries, help="retries: HTTP, fragments, extraction")
    parser.add_argument(
        "--backoff",
        type=float,
        default=defaults.backoff,
        help="seconds before the first retry; doubled at each retry (at most 60 s)",
    )
    parser.add_argument("--rate-limit", type=int, help="download rate limit, bytes per second")
    parser.add_argument("--socket-timeout", type=float, default=defaults.socket_timeout, help="network timeout (s)")
    parser.add_argument("--cookies", type=Path, help="Netscape cookies file for yt-dlp")
    parser.add_argument("--sleep-interval", type=float, default=0.0, help="seconds to wait before the download")
    parser.add_argument(
        "--max-sleep-interval", type=float, help="with --sleep-interval: wait a random time between the two"
    )
    parser.add_argument("--sleep-requests", type=float, default=0.0, help="seconds between requests while extracting")
    parser.add_argument("--js-runtime", help="path of the deno binary (default: the `deno` package's)")


def run(args: argparse.Namespace) -> int:
    entries = read_manifest(args.manifest)
    checked = [
        ("--max-height", args.max_height),
        ("--retries", args.retries),
        ("--sleep-interval", args.sleep_interval),
        ("--sleep-requests", args.sleep_requests),
        ("--max-sleep-interval", args.max_sleep_interval or 0),
    ]
    for name, value in checked:
        if value < 0:
            raise UserInputError(f"{name} {value}: must be >= 0")
    if args.cookies is not None and not args.cookies.is_file():
        raise UserInputError(f"--cookies file not found: {args.cookies}")
    if args.js_runtime is not None and not Path(args.js_runtime).is_file():
        raise UserInputError(f"--js-runtime not found: {args.js_runtime}")
    entry = find_entry(entries, args.video_id, args.manifest)
    settings = DownloadSettings(**known_fields(DownloadSettings, vars(args)))
    with atomic_directory(args.output) as staging:  # OUTDIR appears only once the job has finished
        status = download_video(entry, staging, settings)
    print(f"{entry.video_id}: {'ok' if status.ok else f'failed ({status.reason}): {status.detail}'}")
    return 0
