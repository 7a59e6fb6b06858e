"""Serve a corpus directory as a small video site on loopback, for yt-dlp.

Reads DIR/<id>.mp4 with DIR/<id>.json sidecars (video_id, title, uploader,
duration) and serves, until SIGINT or SIGTERM:

  /feed.xml          RSS feed of all videos (yt-dlp reads it as a playlist)
  /watch/<id>        a page per video (Open Graph + JSON-LD metadata)
  /videos/<id>.mp4   the file (HEAD and byte ranges)

Prints the base URL and writes it to --url-file. Binds loopback only.
--fault VIDEO_ID=KIND injects a fault on one video: 404, 500, drop
(connection reset mid-file), truncate (short body, clean close), slow,
corrupt (non-video bytes).

Example:
  alignnet serve-corpus results/synth/corpus --port 0 --url-file corpus.url \\
      --fault synth_007=404 --fault synth_012=truncate &
  alignnet discover --source "$(cat corpus.url)/feed.xml" -o manifest.tsv
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from alignnet.atomic import atomic_output
from alignnet.demo.corpus_server.faults import fault_plan
from alignnet.demo.corpus_server.site import CorpusServer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("corpus", type=Path, metavar="DIR", help="corpus directory (*.mp4 + *.json sidecars)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    parser.add_argument("--url-file", type=Path, help="write the base URL to this file once serving")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="VIDEO_ID=KIND",
        help="inject a fault: KIND is 404, 500, drop, truncate, slow or corrupt; repeatable",
    )
    parser.add_argument("--slow-seconds", type=float, default=1.5, help="time a `slow` video takes to send")


def run(args: argparse.Namespace) -> int:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        faults = fault_plan(args.fault, args.slow_seconds)
        with CorpusServer(args.corpus, host=args.host, port=args.port, faults=faults) as server:
            if args.url_file is not None:
                with atomic_output(args.url_file) as tmp:
                    tmp.write_text(server.url + "\n", encoding="utf-8")
            print(server.url, flush=True)
            print(f"serving {len(server.videos)} videos; feed: {server.feed_url}", file=sys.stderr, flush=True)
            while not stop.wait(0.5):
                pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0
