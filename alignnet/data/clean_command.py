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
rerunning a video replaces its rows there. When an earlier stage failed, the
output is a Parquet file with the schema and no rows.

Example:
  alignnet clean results/clips/abc/ results/pose/abc.npz results/verdicts/abc.tsv \\
      -o results/keypoints/abc.parquet --video-id abc --rejections results/clean_rejections.tsv
  alignnet clean results/clips/t1/ results/pose/t1.npz results/filter/t1.tsv -o t1.parquet --video-id t1 --task lips
"""

from __future__ import annotations

import argparse
import fcntl
import logging
from pathlib import Path

import pandas as pd

from alignnet.atomic import atomic_output
from alignnet.data.clean import TASK_POINTS, CleanParams, clean_clip, kept_points
from alignnet.data.keypoint_table import (
    TASK_LAYOUTS,
    CleanedClip,
    clips_to_table,
    file_metadata,
    write_keypoint_table,
)
from alignnet.errors import UserInputError
from alignnet.pose.sequence import PoseSequence
from alignnet.stage_status import Reason, StageFailure, StageStatus, upstream_failure

REJECTION_COLUMNS = ["video_id", "clip_index", "reason", "detail"]
log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = CleanParams()
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
    parser.add_argument(
        "--min-confidence",
        type=float,
        default=defaults.min_confidence,
        help="points with a lower confidence count as missing",
    )
    parser.add_argument(
        "--median-kernel",
        type=int,
        default=defaults.median_kernel,
        help="odd window (frames) of the outlier median filter",
    )
    parser.add_argument(
        "--max-gap",
        type=int,
        default=defaults.max_gap,
        help="longest run of missing frames that is interpolated; longer rejects the clip",
    )
    parser.add_argument(
        "--savgol-window", type=int, default=defaults.savgol_window, help="odd Savitzky-Golay window (frames)"
    )
    parser.add_argument(
        "--savgol-order", type=int, default=defaults.savgol_order, help="Savitzky-Golay polynomial order"
    )


def _params(args: argparse.Namespace) -> CleanParams:
    try:
        return CleanParams(args.min_confidence, args.median_kernel, args.max_gap, args.savgol_window, args.savgol_order)
    except ValueError as exc:
        raise UserInputError(f"cleaning parameters: {exc}") from exc


def _read_tsv(path: Path, columns: list[str]) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, sep="\t", keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UserInputError(f"cannot read {path}: {exc}") from exc
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise UserInputError(f"{path}: missing columns {', '.join(missing)}")
    return df


def update_rejections(path: Path, video_id: str, rows: list[dict[str, object]]) -> None:
    """Replace `video_id`'s rows in the rejections TSV by `rows`, under a lock (jobs run in parallel)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        old = (
            pd.read_csv(path, sep="\t", keep_default_na=False, dtype={"video_id": str})
            if path.exists() and path.stat().st_size > 0
            else pd.DataFrame(columns=REJECTION_COLUMNS)
        )
        new = pd.concat([old[old["video_id"] != video_id], pd.DataFrame(rows, columns=REJECTION_COLUMNS)])
        with atomic_output(path) as tmp:
            new.to_csv(tmp, sep="\t", index=False)


def clean_video(
    pose: PoseSequence, clips: pd.DataFrame, kept: set[int], params: CleanParams, task: str = "dance"
) -> tuple[list[CleanedClip], list[tuple[int, StageFailure]]]:
    """Clean every kept clip of one video for `task`: (cleaned clips, [(clip_index, failure)])."""
    cleaned, rejected = [], []
    for row in clips.itertuples(index=False):
        index, start, n = int(row.clip_index), int(row.start_frame), int(row.n_frames)
        if index not in kept:
            continue
        raw = pose.keypoints[start : start + n]
        if raw.shape[0] != n:
            detail = f"pose has {pose.n_frames} frames, clip needs {start}..{start + n - 1}"
            rejected.append((index, StageFailure(Reason.UPSTREAM, detail)))
            continue
        try:
            xy = clean_clip(raw, params, task)
        except StageFailure as failure:
            rejected.append((index, failure))
            continue
        cleaned.append(CleanedClip(index, start, xy, raw[:, list(kept_points(task)), 2]))
    return cleaned, rejected


def run(args: argparse.Namespace) -> int:
    params = _params(args)
    backend = ""
    cleaned: list[CleanedClip] = []
    rejected: list[tuple[int, StageFailure]] = []
    fps = 30.0
    status = StageStatus.read(args.clipdir)
    if status is None:
        raise UserInputError(f"{args.clipdir}: no status.json (is it a clip directory of `alignnet clip`?)")
    try:
        pose_failed = upstream_failure(args.pose)
    except FileNotFoundError as exc:
        raise UserInputError(str(exc)) from exc
    if status.ok and pose_failed is None:
        pose = PoseSequence.load(args.pose)
        backend, fps = pose.backend, pose.fps
        expected = TASK_POINTS[args.task][2]
        if pose.n_frames > 0 and pose.layout != expected:
            raise UserInputError(f"{args.pose}: layout {pose.layout}, --task {args.task} needs {expected}")
        if pose.n_frames > 0 and not pose.meta.get("failed"):
            clips = _read_tsv(args.clipdir / "clips.tsv", ["clip_index", "start_frame", "n_frames"])
            verdicts = _read_tsv(args.verdicts, ["video_id", "clip_index", "keep"])
            keep = verdicts["keep"].astype(str).str.lower().isin(["true", "1"])
            kept = set(verdicts.loc[keep, "clip_index"].astype(int))
            cleaned, rejected = clean_video(pose, clips, kept, params, args.task)
    else:
        log.info("%s: upstream failed, writing an empty table", args.video_id)
    for index, failure in rejected:
        log.info("%s clip %d rejected: %s", args.video_id, index, failure)
    table = clips_to_table(args.video_id, fps, cleaned, TASK_LAYOUTS[args.task])
    write_keypoint_table(args.output, table, file_metadata(backend, params.to_json(), params.config_hash()))
    if args.rejections is not None:
        rows = [
            {"video_id": args.video_id, "clip_index": i, "reason": str(f.reason), "detail": f.detail}
            for i, f in rejected
        ]
        update_rejections(args.rejections, args.video_id, rows)
    log.info("%s: %d clips cleaned, %d rejected -> %s", args.video_id, len(cleaned), len(rejected), args.output)
    return 0
