"""Quality verdict for every clip of one video: single person, static camera, full body, audible.

Reads CLIPDIR (video.mp4, audio.wav, clips.tsv, status.json of `alignnet clip`)
and POSE.npz (`alignnet pose`), decodes the video once at a small size and
writes VERDICTS.tsv: one row per clip with video_id, clip_index, keep, reason
(empty or silent_audio / no_person / camera_motion / multi_person /
not_full_body), detail, and the measured figures detection_rate,
multi_person_rate, camera_motion_px, camera_zoom, full_body_rate,
body_height_frac, audio_rms_db. A FACE_70 pose (`alignnet pose --face`, the
lips task) gets the face rules instead: one face, mouth visible and moving
(mouth_hidden), frontal (not_frontal), static camera, audible, with the
figures mouth_visible_rate, lip_motion and mouth_asymmetry. Rules and their
order: alignnet.data.filters.
Beside VERDICTS.tsv it writes the stage record VERDICTS.status.json
(alignnet.stage_status); when the clip or pose stage failed for this video,
the record passes their reason on (e.g. too_short) and the TSV has no rows.
With --duplicates (videos.tsv of `alignnet duplicates`), every clip of a
video found to be a re-upload of another is rejected as duplicate, unmeasured.
With --shot-cuts, a clip with a shot cut inside it (PySceneDetect,
alignnet.data.shot_cuts) is rejected as shot_cut, before the other rules.

Example:
  alignnet filter results/clips/abc/ results/pose/abc.npz -o results/verdicts/abc.tsv
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from alignnet.data.clips import CLIPS_FILE, load_clip_table
from alignnet.data.duplicate_table import read_video_table
from alignnet.data.filters import (
    ImageSettings,
    Thresholds,
    empty_verdicts,
    filter_video,
    rejected_rows,
    write_verdicts,
)
from alignnet.data.foreground import FigureRule
from alignnet.data.shot_cuts import CutSettings, cuts_in_clips, detect_cuts, mark_shot_cuts
from alignnet.dataclass_fields import add_field_options, known_fields
from alignnet.errors import UserInputError
from alignnet.pose.sequence import PoseSequence
from alignnet.stage_status import Reason, StageStatus, read_upstream, write_with_record

log = logging.getLogger(__name__)
STAGE = "filter"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    r, i = FigureRule(), ImageSettings()
    parser.add_argument("clipdir", type=Path, help="clip directory of `alignnet clip`")
    parser.add_argument("pose", type=Path, help="POSE.npz of `alignnet pose` for the same video")
    parser.add_argument("-o", "--output", type=Path, required=True, help="verdict TSV to write")
    parser.add_argument("--video-id", help="video id for the rows; when not given, the name of CLIPDIR")
    add = parser.add_argument
    cuts = CutSettings()
    add("--duplicates", type=Path, help="videos.tsv of `alignnet duplicates`: a duplicate video's clips are rejected")
    add("--shot-cuts", action="store_true", help="shot_cut when a shot cut (PySceneDetect) falls inside a clip")
    add(
        "--shot-cut-threshold",
        type=float,
        default=cuts.threshold,
        help="PySceneDetect ContentDetector threshold (mean HSV change between frames, 0-255) for a cut",
    )
    add("--min-shot-frames", type=int, default=cuts.min_scene_frames, help="shots are at least this many frames")
    add_field_options(add, Thresholds)
    add(
        "--figure-diff",
        type=int,
        default=r.diff_threshold,
        help="second-person detector: colour difference from the clip's median background that is foreground (0-255)",
    )
    add(
        "--figure-min-height",
        type=float,
        default=r.min_height,
        help="second-person detector: a figure is at least this tall, in dancer heights",
    )
    add(
        "--figure-min-area",
        type=float,
        default=r.min_area,
        help="second-person detector: a figure covers at least this many squared dancer heights",
    )
    add_field_options(add, ImageSettings)  # --analysis-width, --detect-every, --detector-width
    add(
        "--person-detector",
        choices=["mediapipe", "none"],
        default=i.person_detector,
        help="second-person detector run on the frame with the dancer painted out (mediapipe), or none",
    )


def verdicts_for(args: argparse.Namespace, video_id: str) -> tuple[pd.DataFrame, StageStatus]:
    """The verdict rows of one video and its stage record (no rows when the clip or pose stage failed)."""
    try:
        clip_input = read_upstream(args.clipdir)
        pose_input = read_upstream(args.pose)
    except FileNotFoundError as exc:
        raise UserInputError(str(exc)) from exc
    for upstream in (clip_input, pose_input):
        if upstream.failed:
            return empty_verdicts(), upstream.failure(STAGE)
    clips = load_clip_table(args.clipdir / CLIPS_FILE).sort_values("clip_index", kind="stable").reset_index(drop=True)
    duplicate = _duplicate_detail(args.duplicates, video_id) if args.duplicates else None
    if duplicate is not None:
        verdicts = rejected_rows(video_id, clips["clip_index"].tolist(), Reason.DUPLICATE, duplicate)
        return verdicts, StageStatus(STAGE, True, detail="a duplicate video: every clip rejected")
    pose = PoseSequence.load(args.pose)
    if pose.n_frames == 0:
        return empty_verdicts(), StageStatus(STAGE, False, Reason.UPSTREAM, f"{args.pose}: no frames", origin="pose")
    thresholds = Thresholds(**known_fields(Thresholds, vars(args)))
    settings = ImageSettings(
        figure=FigureRule(args.figure_diff, args.figure_min_height, args.figure_min_area),
        **known_fields(ImageSettings, vars(args)),
    )
    verdicts = filter_video(args.clipdir, pose, clips, video_id, thresholds, settings)
    if args.shot_cuts:
        cuts = detect_cuts(args.clipdir / "video.mp4", CutSettings(args.shot_cut_threshold, args.min_shot_frames))
        verdicts = mark_shot_cuts(verdicts, cuts_in_clips(cuts, clips))
    kept = int(verdicts["keep"].sum())
    return verdicts, StageStatus(STAGE, True, detail=f"{kept} of {len(verdicts)} clips kept")


def _duplicate_detail(path: Path, video_id: str) -> str | None:
    """Why `video_id` is a duplicate according to videos.tsv of `alignnet duplicates`, or None when it is not."""
    table = read_video_table(path)
    row = table[table["video_id"] == video_id]
    if row.empty:
        raise UserInputError(f"{path}: no row for video {video_id} (was it made from this manifest?)")
    return None if bool(row["keep"].iloc[0]) else str(row["detail"].iloc[0])


def run(args: argparse.Namespace) -> int:
    for option in ("analysis_width", "detector_width"):
        if getattr(args, option) < 16:
            raise UserInputError(f"--{option.replace('_', '-')} must be >= 16, got {getattr(args, option)}")
    if args.min_shot_frames < 1:
        raise UserInputError(f"--min-shot-frames must be >= 1, got {args.min_shot_frames}")
    if args.detect_every < 1:
        raise UserInputError(f"--detect-every must be >= 1, got {args.detect_every}")
    video_id = args.video_id or args.clipdir.resolve().name
    verdicts, status = verdicts_for(args, video_id)
    write_with_record(args.output, status, lambda: write_verdicts(verdicts, args.output))
    reasons = verdicts.loc[~verdicts["keep"].astype(bool), "reason"].value_counts().to_dict()
    log.info("%s: %s; rejected: %s", video_id, status.detail if status.ok else status.reason, reasons or "none")
    return 0
