"""The clean stage for one video: its kept clips' keypoints cleaned, as Parquet, with its stage record.

The signal filters themselves (masking, median filter, gap filling,
Savitzky-Golay, centring) are alignnet.data.clean; the table format is
alignnet.data.keypoint_table; the record is alignnet.stage_status.
"""

from __future__ import annotations

import fcntl
import logging
from pathlib import Path

import pandas as pd

from alignnet.atomic import atomic_output
from alignnet.data.clean import TASK_POINTS, CleanParams, clean_clip, kept_points
from alignnet.data.clips import load_clip_table
from alignnet.data.keypoint_table import TASK_LAYOUTS, CleanedClip, clips_to_table, file_metadata, write_keypoint_table
from alignnet.errors import UserInputError
from alignnet.pose.sequence import PoseSequence
from alignnet.stage_status import Reason, StageFailure, StageStatus, read_upstream, write_with_record
from alignnet.tables import read_table

STAGE = "clean"
REJECTION_COLUMNS = ["video_id", "clip_index", "reason", "detail"]
log = logging.getLogger(__name__)


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


def update_rejections(path: Path, video_id: str, rows: list[dict[str, object]]) -> None:
    """Replace `video_id`'s rows in the rejections TSV by `rows`, under a lock (jobs run in parallel)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        old = (
            read_table(path, REJECTION_COLUMNS, keep_default_na=False, dtype={"video_id": str})
            if path.exists() and path.stat().st_size > 0
            else pd.DataFrame(columns=REJECTION_COLUMNS)
        )
        new = pd.concat([old[old["video_id"] != video_id], pd.DataFrame(rows, columns=REJECTION_COLUMNS)])
        with atomic_output(path) as tmp:
            new.to_csv(tmp, sep="\t", index=False)


def _kept_clips(verdicts: Path) -> set[int]:
    table = read_table(
        verdicts, ["video_id", "clip_index", "keep"], what="a verdict TSV of `alignnet filter`", keep_default_na=False
    )
    keep = table["keep"].astype(str).str.lower().isin(["true", "1"])
    return set(table.loc[keep, "clip_index"].astype(int))


def clean_stage(
    clipdir: Path,
    pose_path: Path,
    verdicts: Path,
    output: Path,
    video_id: str,
    params: CleanParams,
    task: str = "dance",
    rejections: Path | None = None,
) -> tuple[StageStatus, int, int]:
    """Clean one video's kept clips into the Parquet file `output` and write its record beside it.

    Reads the clip directory, the pose and the verdicts through their stage
    records (a failure of any passes on: an empty table). Clips rejected by
    cleaning go to `rejections` (video_id's rows replaced). Returns (the
    record, clips cleaned, clips rejected). UserInputError names a missing
    input or a pose of the wrong layout for `task`.
    """
    failed = None
    for path in (clipdir, pose_path, verdicts):  # in the stages' order: the first failure is passed on
        try:
            upstream = read_upstream(path)
        except FileNotFoundError as exc:
            raise UserInputError(str(exc)) from exc
        if upstream.failed:
            failed = upstream
            break
    backend, fps = "", 30.0
    cleaned: list[CleanedClip] = []
    rejected: list[tuple[int, StageFailure]] = []
    if failed is not None:
        status = failed.failure(STAGE)
        log.info("%s: failed in %s (%s), writing an empty table", video_id, status.origin, status.reason)
    else:
        pose = PoseSequence.load(pose_path)
        backend, fps = pose.backend, pose.fps
        expected = TASK_POINTS[task][2]
        if pose.layout != expected:
            raise UserInputError(f"{pose_path}: layout {pose.layout}, --task {task} needs {expected}")
        cleaned, rejected = clean_video(pose, load_clip_table(clipdir), _kept_clips(verdicts), params, task)
        for index, failure in rejected:
            log.info("%s clip %d rejected: %s", video_id, index, failure)
        status = StageStatus(STAGE, True, detail=f"{len(cleaned)} clips cleaned, {len(rejected)} rejected")
    table = clips_to_table(video_id, fps, cleaned, TASK_LAYOUTS[task])
    rows = [{"video_id": video_id, "clip_index": i, "reason": str(f.reason), "detail": f.detail} for i, f in rejected]

    def write_data() -> None:
        write_keypoint_table(output, table, file_metadata(backend, params.to_json(), params.config_hash()))
        if rejections is not None:
            update_rejections(rejections, video_id, rows)

    write_with_record(output, status, write_data)
    return status, len(cleaned), len(rejected)
