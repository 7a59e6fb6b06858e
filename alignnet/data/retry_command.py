"""Remove the retryable failure records, so that the next plain run tries exactly those items again.

A retryable failure (alignnet.faults: a transfer of one video cut mid-file
after every retry, an HTTP 403, an error yt-dlp does not explain) is recorded
like a verdict, so a rerun does not repeat it on its own. This command removes
every per-video folder under DIR... whose status.json says `retryable: true`
(resources/videos/<id>/ of the download stage, results/clips/<id>/), and
prints each; the next `snakemake` run redoes those jobs and everything after
them, and nothing else.

Example:
  alignnet retry-failed resources/videos results/clips && snakemake --cores 2
"""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path

from alignnet.errors import UserInputError
from alignnet.stage_status import STATUS_FILE, StageStatus

log = logging.getLogger(__name__)


def retryable_records(root: Path) -> list[Path]:
    """The per-video folders directly under `root` whose status records a retryable failure."""
    folders = []
    for status_file in sorted(root.glob(f"*/{STATUS_FILE}")):
        status = StageStatus.read(status_file.parent)
        if status is not None and not status.ok and status.retryable:
            folders.append(status_file.parent)
    return folders


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("roots", nargs="+", type=Path, metavar="DIR", help="folders of per-video outputs")
    parser.add_argument("-n", "--dry-run", action="store_true", help="only list what would be removed")


def run(args: argparse.Namespace) -> int:
    for root in args.roots:
        if not root.is_dir():
            raise UserInputError(f"not a folder: {root}")
    folders = [folder for root in args.roots for folder in retryable_records(root)]
    for folder in folders:
        print(folder)
        if not args.dry_run:
            shutil.rmtree(folder)
    log.info("%d retryable record(s) %s", len(folders), "found" if args.dry_run else "removed: rerun to retry them")
    return 0
