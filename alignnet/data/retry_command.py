"""Remove the retryable failure records, so that the next plain run tries exactly those items again.

A retryable failure (alignnet.faults: a transfer of one video cut mid-file
after every retry, an HTTP 403, an error yt-dlp does not explain) is recorded
like a verdict, so a rerun does not repeat it on its own. This command removes
every per-video output under DIR... whose stage record (alignnet.stage_status)
says `retryable: true`: a folder with its status.json (resources/videos/<id>/,
results/clips/<id>/), or a file with its record beside it
(results/pose/<id>.npz and <id>.status.json), and prints each; the next
`snakemake` run redoes those jobs and everything after them, and nothing else.

Example:
  alignnet retry-failed resources/videos results/clips && snakemake --cores 2
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from alignnet.errors import UserInputError
from alignnet.stage_status import recorded_outputs, remove_recorded, retryable_failures

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("roots", nargs="+", type=Path, metavar="DIR", help="folders of per-video outputs")
    parser.add_argument("-n", "--dry-run", action="store_true", help="only list what would be removed")


def run(args: argparse.Namespace) -> int:
    for root in args.roots:
        if not root.is_dir():
            raise UserInputError(f"not a folder: {root}")
    records = [record for root in args.roots for record in retryable_failures(root)]
    for record in records:
        for output in recorded_outputs(record):
            print(output)
        if not args.dry_run:
            remove_recorded(record)
    log.info("%d retryable record(s) %s", len(records), "found" if args.dry_run else "removed: rerun to retry them")
    return 0
