"""Collect per-video results into one table.

Kinds:
  download-failures DIR...   the failed downloads among resources/videos/<id>/
                             (needs --manifest for the URLs): video_id, url,
                             reason, detail, retryable
  verdicts TSV...            the per-video filter verdicts, concatenated
  rejections TSV...          the per-video cleaning rejections, concatenated

Example: alignnet gather verdicts results/filter/*.tsv -o verdicts.tsv
"""

from __future__ import annotations

import argparse
import logging

from alignnet.data.download import gather_failures
from alignnet.data.gather import concat_tables
from alignnet.data.manifest import read_manifest
from alignnet.errors import UserInputError

KINDS = ("download-failures", "verdicts", "rejections")
log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=KINDS, help="what to collect")
    parser.add_argument("inputs", nargs="*", help="per-video directories or tables")
    parser.add_argument("--manifest", help="the manifest (download-failures)")
    parser.add_argument("-o", "--output", required=True, help="the TSV to write")


def run(args: argparse.Namespace) -> int:
    if args.kind == "download-failures":
        if not args.manifest:
            raise UserInputError("download-failures needs --manifest")
        count = gather_failures(args.inputs, read_manifest(args.manifest), args.output)
        log.info("%d of %d downloads failed", count, len(args.inputs))
    else:
        count = concat_tables(args.inputs, args.output)
        log.info("%d rows from %d tables", count, len(args.inputs))
    return 0
