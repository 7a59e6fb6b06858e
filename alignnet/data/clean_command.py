"""Clean the keypoints of every kept clip of one video and write them as Parquet.

Reads CLIPDIR/clips.tsv (clip frame ranges), POSE.npz (BODY_25 keypoints of
the whole video) and VERDICTS.tsv (`alignnet filter`); for every clip with
keep=True it slices frames [start_frame, start_frame + n_frames), keeps the
19 dance points, masks low-confidence points, median-filters outliers,
interpolates short gaps, smooths with Savitzky-Golay and subtracts mid-hip
(see alignnet.data.clean), and writes one Parquet file for the video (schema:
alignnet.data.keypoint_table). With --task lips the pose is FACE_70
(`alignnet pose --face`): the 20 mouth points 48-67 are kept and centred on
their centroid (layout MOUTH_20). A clip whose gap is too long is left out and
appended to the --rejections TSV (video_id, clip_index, reason, detail);
rerunning a video replaces its rows there. Beside the Parquet file it writes
the stage record OUT.status.json (alignnet.stage_status); when an earlier stage
failed, the record passes its reason on and the Parquet file has the schema
and no rows.

Example:
  alignnet clean results/clips/abc/ results/pose/abc.npz results/verdicts/abc.tsv \\
      -o results/keypoints/abc.parquet --video-id abc --rejections results/clean_rejections.tsv
  alignnet clean results/clips/t1/ results/pose/t1.npz results/filter/t1.tsv -o t1.parquet --video-id t1 --task lips
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from alignnet.data.clean import TASK_POINTS, CleanParams
from alignnet.data.clean_video import clean_stage
from alignnet.dataclass_fields import add_field_options, known_fields
from alignnet.errors import UserInputError

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("clipdir", type=Path, help="clip directory (clips.tsv, status.json) of `alignnet clip`")
    parser.add_argument("pose", type=Path, help="POSE.npz of `alignnet pose`")
    parser.add_argument("verdicts", type=Path, help="VERDICTS.tsv of `alignnet filter`")
    parser.add_argument("-o", "--output", type=Path, required=True, help="Parquet file to write")
    parser.add_argument("--video-id", required=True, help="video id written into every row")
    parser.add_argument("--rejections", type=Path, help="TSV to which clips rejected by cleaning are added")
    parser.add_argument(
        "--task",
        choices=sorted(TASK_POINTS),
        default="dance",
        help="dance: 19 BODY_25 points, mid-hip centred; lips: the 20 mouth points of a FACE_70 pose, "
        "centred on their centroid",
    )
    add_field_options(parser.add_argument, CleanParams)


def run(args: argparse.Namespace) -> int:
    try:
        params = CleanParams(**known_fields(CleanParams, vars(args)))
    except ValueError as exc:
        raise UserInputError(f"cleaning parameters: {exc}") from exc
    status, cleaned, rejected = clean_stage(
        args.clipdir, args.pose, args.verdicts, args.output, args.video_id, params, args.task, args.rejections
    )
    state = f"{cleaned} cleaned, {rejected} rejected" if status.ok else f"failed in {status.origin}: {status.reason}"
    log.info("%s: %s -> %s", args.video_id, state, args.output)
    return 0
