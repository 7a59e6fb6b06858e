"""Dataset counts at every stage, written as JSON.

Reads the manifest, the download failures, the clip directories, the pose
files, the filter verdicts, the cleaning rejections and the packed splits;
writes found, downloaded, failed by reason, clips cut, kept, rejected by
reason, hours kept and the pose detection rate.

Example: alignnet summary --manifest results/manifest.tsv ... -o summary.json
"""

from __future__ import annotations

import argparse
import json

from alignnet.data.summary import build_summary, write_summary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--manifest", required=True, help="the manifest TSV")
    parser.add_argument("--failures", required=True, help="results/download/failures.tsv")
    parser.add_argument("--clips", nargs="*", default=[], help="clip directories")
    parser.add_argument("--pose", nargs="*", default=[], help="pose .npz files")
    parser.add_argument("--verdicts", required=True, help="results/filter/verdicts.tsv")
    parser.add_argument("--rejections", nargs="*", default=[], help="cleaning rejection TSVs")
    parser.add_argument("--dataset", required=True, help="the packed splits directory")
    parser.add_argument("--clip-seconds", type=float, default=6.0, help="clip length, for hours kept")
    parser.add_argument("-o", "--output", required=True, help="the JSON to write")


def run(args: argparse.Namespace) -> int:
    summary = build_summary(
        args.manifest,
        args.failures,
        args.clips,
        args.pose,
        args.verdicts,
        args.rejections,
        args.dataset,
        args.clip_seconds,
    )
    write_summary(summary, args.output)
    print(json.dumps(summary, indent=2))
    return 0
