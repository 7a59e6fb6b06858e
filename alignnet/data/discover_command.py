"""Resolve video sources into a frozen manifest with yt-dlp's flat extraction.

Reads sources (--source, repeatable: searches such as "ytsearch200:kpop
dance cover" or "bilisearch100:...", playlist/channel/feed URLs, video
URLs) and an optional URL file (--urls-file: one URL per line, # comments),
and writes the manifest TSV (video_id, url, title, uploader, duration,
source): one row per video, deduplicated by id, filtered by duration bounds
and title regexes. Everything left out (failed sources, malformed URLs
with reason invalid_url, filtered videos) goes to --rejects.

A failing source is a warning while another succeeds; when all fail the
command exits 1 naming them. Flat listings may lack durations, titles or
uploaders (an RSS feed has no uploader, Bilibili's search no title or
duration): an entry a duration bound or title filter cannot judge is resolved
(one request each), and --probe-durations resolves every entry missing a
duration or uploader.

Example:
  alignnet discover --source "ytsearch200:kpop dance cover" \\
      --urls-file config/urls.txt --min-duration 30 --max-duration 600 \\
      --exclude-title "(?i)tutorial|mirrored" -o results/manifest.tsv \\
      --rejects results/manifest_rejects.tsv
  alignnet discover --source http://127.0.0.1:8000/feed.xml --probe-durations -o manifest.tsv
"""

from __future__ import annotations

import argparse
from pathlib import Path

from alignnet.data.discover import DiscoverSettings, discover, write_rejects
from alignnet.data.manifest import write_manifest
from alignnet.errors import UserInputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    repeatable = {"action": "append", "default": []}
    parser.add_argument(
        "--source",
        metavar="S",
        help="a search (ytsearchN:..., bilisearchN:...) or a playlist/channel/feed/video URL; repeatable",
        **repeatable,
    )
    parser.add_argument("--urls-file", type=Path, help="text file of URLs, one per line, # comments")
    parser.add_argument("--min-duration", type=float, help="drop videos shorter than this (seconds)")
    parser.add_argument("--max-duration", type=float, help="drop videos longer than this (seconds)")
    parser.add_argument(
        "--exclude-title",
        metavar="REGEX",
        help="drop videos whose title matches (case-insensitive); repeatable",
        **repeatable,
    )
    parser.add_argument(
        "--probe-durations",
        "--probe",
        dest="probe",
        action="store_true",
        help="resolve entries whose duration or uploader the flat listing lacks (one request each); entries "
        "the filters cannot judge (no duration, no title) are resolved without it",
    )
    parser.add_argument("--retries", type=int, default=3, help="extractor retries per source")
    parser.add_argument("--cookies", type=Path, help="Netscape cookies file for yt-dlp (as for the downloads)")
    parser.add_argument(
        "--sleep-requests", type=float, default=0.0, help="seconds between yt-dlp's requests (listings, probes)"
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="manifest TSV to write")
    parser.add_argument("--rejects", type=Path, help="TSV of what was left out (source, url, reason, detail)")


def run(args: argparse.Namespace) -> int:
    if not args.source and args.urls_file is None:
        raise UserInputError("no sources: give --source and/or --urls-file")
    if args.min_duration is not None and args.max_duration is not None and args.min_duration > args.max_duration:
        raise UserInputError(f"--min-duration {args.min_duration} > --max-duration {args.max_duration}")
    if args.cookies is not None and not args.cookies.is_file():
        raise UserInputError(f"--cookies file not found: {args.cookies}")
    if args.sleep_requests < 0:
        raise UserInputError(f"--sleep-requests {args.sleep_requests}: must be >= 0")
    settings = DiscoverSettings(
        min_duration=args.min_duration,
        max_duration=args.max_duration,
        exclude_title=tuple(args.exclude_title),
        probe=args.probe,
        retries=args.retries,
        cookies=args.cookies,
        sleep_requests=args.sleep_requests,
    )
    result = discover(args.source, settings, args.urls_file)
    if args.rejects is not None:
        write_rejects(result.rejects, args.rejects)
    if not result.ok_sources:
        failed = "; ".join(
            f"{r.source} ({r.reason}: {r.detail})" for r in result.rejects if r.source in result.failed_sources
        )
        raise UserInputError(f"all sources failed: {failed}", exit_code=1)
    write_manifest(result.entries, args.output)
    print(
        f"{len(result.entries)} videos from {len(result.ok_sources)} source(s) written to {args.output}; "
        f"{len(result.rejects)} rejected, {len(result.failed_sources)} failed source(s)"
    )
    return 0
