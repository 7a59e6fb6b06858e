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
When the clip or pose stage failed for this video, the file has one row with
clip_index -1 and that stage's reason (e.g. too_short).
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

from alignnet.atomic import atomic_output
from alignnet.data.duplicate_table import read_video_table
from alignnet.data.filters import ImageSettings, Thresholds, failure_row, filter_video, rejected_rows
from alignnet.data.foreground import FigureRule
from alignnet.data.shot_cuts import CutSettings, cuts_in_clips, detect_cuts, mark_shot_cuts
from alignnet.errors import UserInputError
from alignnet.pose.sequence import PoseSequence
from alignnet.stage_status import Reason, StageStatus, upstream_failure

CLIP_COLUMNS = ["clip_index", "start_frame", "n_frames", "start_sample", "n_samples"]
log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    t, r, i = Thresholds(), FigureRule(), ImageSettings()
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
    add(
        "--min-audio-db",
        type=float,
        default=t.min_audio_db,
        help="silent_audio when the clip's audio RMS is below this (dBFS; music is ~ -25 to -10)",
    )
    add(
        "--min-detection-rate",
        type=float,
        default=t.min_detection_rate,
        help="no_person when a person is detected in a smaller share of frames",
    )
    add(
        "--max-camera-motion-px",
        type=float,
        default=t.max_camera_motion_px,
        help="camera_motion when the background (dancer masked) moves farther than this from its place in "
        "the clip's first frame, in pixels at --analysis-width",
    )
    add(
        "--max-camera-zoom",
        type=float,
        default=t.max_camera_zoom,
        help="camera_motion when the picture's scale changes by more than this over the clip (|log scale|)",
    )
    add(
        "--max-multi-person-rate",
        type=float,
        default=t.max_multi_person_rate,
        help="multi_person when a second person is seen in a larger share of frames (pose backend count "
        ">= 2, or a moving person-sized figure outside the dancer's box)",
    )
    add(
        "--min-keypoint-confidence",
        type=float,
        default=t.min_keypoint_confidence,
        help="a keypoint counts as visible from this confidence on (and inside the frame)",
    )
    add(
        "--min-full-body-rate",
        type=float,
        default=t.min_full_body_rate,
        help="not_full_body when the head (nose, eyes or ears), shoulders, hips, knees and ankles are all "
        "visible in a smaller share of frames",
    )
    add(
        "--min-body-height-frac",
        type=float,
        default=t.min_body_height_frac,
        help="not_full_body when the dancer's keypoint span (median over frames) is a smaller fraction of "
        "the frame height",
    )
    add(
        "--min-mouth-visible-rate",
        type=float,
        default=t.min_mouth_visible_rate,
        help="lips: mouth_hidden when all 20 mouth points are visible in a smaller share of frames",
    )
    add(
        "--min-lip-motion",
        type=float,
        default=t.min_lip_motion,
        help="lips: mouth_hidden when the inner-lip opening varies less (std, in mouth widths)",
    )
    add(
        "--max-mouth-asymmetry",
        type=float,
        default=t.max_mouth_asymmetry,
        help="lips: not_frontal when the mouth's midline lies farther off the corners' middle (half-widths; "
        "0 frontal, ~0.25 at a 35-40 degree turn)",
    )
    add(
        "--figure-diff",
        type=int,
        default=r.diff_threshold,
        help="second-person detector: colour difference from the clip's median background that is foreground "
        "(0-255)",
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
    add(
        "--analysis-width",
        type=int,
        default=i.analysis_width,
        help="width (px) of the frames for background motion and foreground figures",
    )
    add(
        "--person-detector",
        choices=["mediapipe", "none"],
        default=i.person_detector,
        help="second-person detector run on the frame with the dancer painted out (mediapipe), or none",
    )
    add("--detect-every", type=int, default=i.detect_every, help="run the person detector on every n-th frame")
    add(
        "--detector-width", type=int, default=i.detector_width, help="width (px) of the frames the person detector sees"
    )


def _clip_table(path: Path) -> pd.DataFrame:
    try:
        clips = pd.read_csv(path, sep="\t")
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UserInputError(f"cannot read clip table {path}: {exc}") from exc
    missing = [c for c in CLIP_COLUMNS if c not in clips.columns]
    if missing:
        raise UserInputError(f"{path}: missing columns {', '.join(missing)}")
    return clips.sort_values("clip_index", kind="stable").reset_index(drop=True)


def verdicts_for(args: argparse.Namespace, video_id: str) -> pd.DataFrame:
    """The verdict rows of one video, or its single failure row."""
    status = StageStatus.read(args.clipdir)
    if status is None:
        raise UserInputError(f"{args.clipdir}: no status.json (is it a clip directory of `alignnet clip`?)")
    if not status.ok:
        return failure_row(video_id, status.reason or Reason.UPSTREAM, status.detail)
    clips = _clip_table(args.clipdir / "clips.tsv")
    duplicate = _duplicate_detail(args.duplicates, video_id) if args.duplicates else None
    if duplicate is not None:
        return rejected_rows(video_id, clips["clip_index"].tolist(), Reason.DUPLICATE, duplicate)
    try:
        pose_status = upstream_failure(args.pose)
    except FileNotFoundError as exc:
        raise UserInputError(str(exc)) from exc
    if pose_status is not None:
        return failure_row(video_id, pose_status.reason or Reason.UPSTREAM, pose_status.detail)
    pose = PoseSequence.load(args.pose)
    if pose.meta.get("failed") or pose.n_frames == 0:
        return failure_row(
            video_id, pose.meta.get("failed") or Reason.UPSTREAM, pose.meta.get("detail", "pose has no frames")
        )
    thresholds = Thresholds(
        min_audio_db=args.min_audio_db,
        min_detection_rate=args.min_detection_rate,
        max_multi_person_rate=args.max_multi_person_rate,
        max_camera_motion_px=args.max_camera_motion_px,
        max_camera_zoom=args.max_camera_zoom,
        min_keypoint_confidence=args.min_keypoint_confidence,
        min_full_body_rate=args.min_full_body_rate,
        min_body_height_frac=args.min_body_height_frac,
        min_mouth_visible_rate=args.min_mouth_visible_rate,
        min_lip_motion=args.min_lip_motion,
        max_mouth_asymmetry=args.max_mouth_asymmetry,
    )
    settings = ImageSettings(
        analysis_width=args.analysis_width,
        figure=FigureRule(args.figure_diff, args.figure_min_height, args.figure_min_area),
        person_detector=args.person_detector,
        detect_every=args.detect_every,
        detector_width=args.detector_width,
    )
    verdicts = filter_video(args.clipdir, pose, clips, video_id, thresholds, settings)
    if args.shot_cuts:
        cuts = detect_cuts(args.clipdir / "video.mp4", CutSettings(args.shot_cut_threshold, args.min_shot_frames))
        verdicts = mark_shot_cuts(verdicts, cuts_in_clips(cuts, clips))
    return verdicts


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
    verdicts = verdicts_for(args, video_id)
    with atomic_output(args.output) as tmp:
        verdicts.to_csv(tmp, sep="\t", index=False, float_format="%.6g")
    kept = int(verdicts["keep"].sum())
    reasons = verdicts.loc[~verdicts["keep"], "reason"].value_counts().to_dict()
    log.info("%s: %d of %d clips kept; rejected: %s", video_id, kept, len(verdicts), reasons or "none")
    return 0
