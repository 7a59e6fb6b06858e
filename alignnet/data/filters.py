"""Clip quality rules of Dance50 (paper appendix 1) and their per-clip figures.

Rules, checked in this order; the first that fails is the clip's reason:

0. silent_audio: RMS of the clip's audio below `min_audio_db` dBFS.
1. no_person: share of frames with a detected person below `min_detection_rate`.
2. not_full_body: the head (any of nose, eyes, ears), both shoulders, hips,
   knees and ankles found with confidence >= `min_keypoint_confidence` inside
   the frame in fewer than `min_full_body_rate` of the frames, or the
   dancer's keypoint span (median over detected frames) below
   `min_body_height_frac` of the frame height.
3. multi_person, camera-independent evidence: the pose backend saw >= 2
   people (decisive with OpenPose), or a person detector run on the frame
   with the dancer painted out finds someone (alignnet.data.second_person; on
   every 10th frame, its own share counts), in more than
   `max_multi_person_rate` of the frames.
4. camera_motion: the background (dancer masked) moves more than
   `max_camera_motion_px` pixels (at the analysis width, 160 px by default)
   from where it was in the clip's first frame, or the picture scales by more
   than `max_camera_zoom` (log scale) (see alignnet.data.camera_motion).
5. multi_person, with the foreground too: a moving person-sized figure apart
   from the dancer (alignnet.data.foreground) also counts.

The lips task (a FACE_70 pose, e.g. `alignnet pose --face`) replaces rule 2
and the person-detector / foreground evidence by face rules:

2'. mouth_hidden: the 20 mouth points visible (confidence and inside the
   frame) in fewer than `min_mouth_visible_rate` of the frames, or the lips
   barely move: the standard deviation of the inner-lip opening (points 62-66)
   below `min_lip_motion` mouth widths (Face Mesh still places a mouth under
   a hand, but a still one).
2''. not_frontal: the mouth's midline (points 51, 57, 62, 66) projected on the
   corner-to-corner axis (48 -> 54) lies off its middle by more than
   `max_mouth_asymmetry` half-widths (median over frames; ~0.25 at a 35-40
   degree head turn).
3'. multi_person: the backend saw >= 2 faces in more than
   `max_multi_person_rate` of the frames (Face Mesh and OpenPose count faces;
   the rate is written as second_person_detected_rate).
4'. camera_motion as in rule 4, with the head and shoulders (HEAD_BOX, grown
   from the mouth, then padded as the dancer's box) masked instead of the
   dancer: a speaker's shoulders move with the head and are not background.
   In a close-up little background is left, so a slow pan can pass; the lips'
   keypoints are centred on the mouth, which removes most of a pan anyway.

The order puts the most direct evidence first: audio and pose figures, a
detected second person (whose figures the camera-motion estimate could
mistake for background), then the background motion, which is unreliable
when a close-up leaves little background to see, then the foreground
evidence, which assumes a static background (a moving camera makes the whole
picture foreground).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import soundfile as sf
from tqdm import tqdm

from alignnet.atomic import atomic_output
from alignnet.data.camera_motion import (
    Box,
    FrameMotion,
    clip_camera_figures,
    frame_motion,
)
from alignnet.data.foreground import FigureRule, other_figures, padded_box
from alignnet.data.second_person import MaskedPersonDetector
from alignnet.dataclass_fields import option
from alignnet.keypoints import (
    BODY_25_INDEX,
    MOUTH_MIRROR_PAIRS,
    MOUTH_POINTS,
    inner_lip_opening,
    mouth_from_face70,
)
from alignnet.pose.sequence import PoseSequence
from alignnet.stage_status import Reason
from alignnet.video_frames import iter_frames

# Full body: both shoulders, hips, knees and ankles, and the head (any one of its points: a dancer
# who turns away hides the nose but not the ears).
REQUIRED_POINTS: tuple[int, ...] = tuple(
    BODY_25_INDEX[n] for n in ("RShoulder", "LShoulder", "RHip", "LHip", "RKnee", "LKnee", "RAnkle", "LAnkle")
)
HEAD_POINTS: tuple[int, ...] = tuple(BODY_25_INDEX[n] for n in ("Nose", "REye", "LEye", "REar", "LEar"))
VERDICT_COLUMNS = [
    "video_id",
    "clip_index",
    "keep",
    "reason",
    "detail",
    "detection_rate",
    "multi_person_rate",
    "second_person_detected_rate",
    "camera_motion_px",
    "camera_zoom",
    "full_body_rate",
    "body_height_frac",
    "audio_rms_db",
    "mouth_visible_rate",
    "lip_motion",
    "mouth_asymmetry",
]
FACE_LAYOUT = "FACE_70"
# Mouth corners (48, 54) and midline points (51, 57, 62, 66) as indices of the 20 mouth points.
_CORNERS = MOUTH_MIRROR_PAIRS[0]
_MIDLINE = tuple(MOUTH_POINTS.index(p) for p in (51, 57, 62, 66))
# The head and shoulders around the mouth, in mouth widths from its centre: (left, top, right, bottom);
# `padded_box` then grows it by FigureRule.box_pad of its height on every side (over the shoulders).
HEAD_BOX = (3.0, 3.8, 3.0, 10.0)  # shoulders: ~2 head widths, a head ~2 mouth widths, each side
SILENCE_DB = -120.0  # RMS floor: digital silence reads as this, not -inf


@dataclass(frozen=True)
class Thresholds:
    """Rule thresholds; each has a physical meaning (see the module docstring).

    min_audio_db: -60 dBFS is ~30 dB under the quietest passages of mastered music.
    min_detection_rate: a person in >= 80 % of frames (short misses are interpolated later).
    max_multi_person_rate: a second person for at most 10 % of frames (0.6 s of a 6 s clip).
    max_camera_motion_px: 3 px at 160 px width, ~2 % of the frame width.
    max_camera_zoom: log scale 0.03, a 3 % change of size.
    min_keypoint_confidence: a point counts as visible at this confidence.
    min_full_body_rate: the needed points visible in >= 80 % of frames.
    min_body_height_frac: nose-to-ankle span >= 30 % of the frame height (a full-size shot).
    min_mouth_visible_rate (lips): all 20 mouth points visible in >= 80 % of frames.
    min_lip_motion (lips): inner-lip opening std >= 0.02 mouth widths (speech moves it ~0.1).
    max_mouth_asymmetry (lips): mouth midline within 0.25 half-widths of the corners' middle.
    """

    min_audio_db: float = option(
        -60.0,
        "silent_audio when the clip's audio RMS is below this (dBFS; music is ~ -25 to -10)",
    )
    min_detection_rate: float = option(
        0.8,
        "no_person when a person is detected in a smaller share of frames",
    )
    max_multi_person_rate: float = option(
        0.1,
        "multi_person when a second person is seen in a larger share of frames (pose backend count >= 2, or a moving "
        "person-sized figure outside the dancer's box)",
    )
    max_camera_motion_px: float = option(
        3.0,
        "camera_motion when the background (dancer masked) moves farther than this from its place in the clip's first"
        " frame, in pixels at --analysis-width",
    )
    max_camera_zoom: float = option(
        0.03,
        "camera_motion when the picture's scale changes by more than this over the clip (|log scale|)",
    )
    min_keypoint_confidence: float = option(
        0.3,
        "a keypoint counts as visible from this confidence on (and inside the frame)",
    )
    min_full_body_rate: float = option(
        0.8,
        "not_full_body when the head (nose, eyes or ears), shoulders, hips, knees and ankles are all visible in a "
        "smaller share of frames",
    )
    min_body_height_frac: float = option(
        0.3,
        "not_full_body when the dancer's keypoint span (median over frames) is a smaller fraction of the frame height",
    )
    min_mouth_visible_rate: float = option(
        0.8,
        "lips: mouth_hidden when all 20 mouth points are visible in a smaller share of frames",
    )
    min_lip_motion: float = option(
        0.02,
        "lips: mouth_hidden when the inner-lip opening varies less (std, in mouth widths)",
    )
    max_mouth_asymmetry: float = option(
        0.25,
        "lips: not_frontal when the mouth's midline lies farther off the corners' middle (half-widths; 0 frontal, "
        "~0.25 at a 35-40 degree turn)",
    )


@dataclass(frozen=True)
class ClipFigures:
    """Measured figures of one clip (rates are shares of its frames)."""

    detection_rate: float
    multi_person_rate: float
    second_person_detected_rate: float
    camera_motion_px: float
    camera_zoom: float
    full_body_rate: float
    body_height_frac: float
    audio_rms_db: float
    mouth_visible_rate: float = math.nan
    lip_motion: float = math.nan
    mouth_asymmetry: float = math.nan


@dataclass(frozen=True)
class PoseMeasures:
    """Per-frame measurements from the pose (arrays of length frames).

    detected: a person was found. full_body: every REQUIRED_POINTS and one of
    HEAD_POINTS visible (confidence and inside the frame). height_frac: span
    of the visible points / frame height (NaN when none). boxes: box of the
    found points in pose pixels, None when not detected.
    face (lips): per-frame mouth measures; then full_body means "all mouth
    points visible" and boxes are head boxes.
    """

    detected: np.ndarray
    people: np.ndarray
    full_body: np.ndarray
    height_frac: np.ndarray
    boxes: list[Box | None]
    face: FaceMeasures | None = None


@dataclass(frozen=True)
class FaceMeasures:
    """Per-frame mouth measures (arrays of length frames, NaN where the mouth is not all visible).

    opening: inner-lip opening (62-66) in pixels; width: corner-to-corner
    distance in pixels; asymmetry: |2 t - 1|, t the midline's position on the
    corner axis (0 frontal, 1 a midline at a corner).
    """

    opening: np.ndarray
    width: np.ndarray
    asymmetry: np.ndarray


def measure_face(pose: PoseSequence, min_confidence: float) -> PoseMeasures:
    """Per-frame detection, mouth visibility, mouth shape and head box of a FACE_70 pose sequence."""
    mouth = mouth_from_face70(pose.keypoints).astype(np.float64)
    x, y, conf = mouth[..., 0], mouth[..., 1], mouth[..., 2]
    visible = (conf >= min_confidence) & (x >= 0) & (x < pose.width) & (y >= 0) & (y < pose.height)
    all_visible = visible.all(axis=1)
    detected = (pose.people > 0) | (conf > 0).any(axis=1)
    left, right = mouth[:, _CORNERS[0], :2], mouth[:, _CORNERS[1], :2]
    axis = right - left
    width = np.linalg.norm(axis, axis=1)
    middle = mouth[:, list(_MIDLINE), :2].mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = ((middle - left) * axis).sum(axis=1) / np.square(width)
    nan = np.full(pose.n_frames, np.nan)
    ok = all_visible & (width > 0)
    face = FaceMeasures(
        opening=np.where(ok, inner_lip_opening(mouth), nan),
        width=np.where(ok, width, nan),
        asymmetry=np.where(ok, np.abs(2 * t - 1), nan),
    )
    boxes: list[Box | None] = []
    for i in range(pose.n_frames):
        found = conf[i] > 0
        if not found.any():
            boxes.append(None)
            continue
        cx, cy = x[i][found].mean(), y[i][found].mean()
        w = max(float(np.ptp(x[i][found])), 1.0)
        boxes.append((cx - HEAD_BOX[0] * w, cy - HEAD_BOX[1] * w, cx + HEAD_BOX[2] * w, cy + HEAD_BOX[3] * w))
    return PoseMeasures(detected, pose.people.astype(np.int32), all_visible, nan, boxes, face)


def measure_pose(pose: PoseSequence, min_confidence: float) -> PoseMeasures:
    """Per-frame detection, full-body and size measures of a BODY_25 pose sequence."""
    kp = pose.keypoints
    conf = kp[..., 2]
    inside = (kp[..., 0] >= 0) & (kp[..., 0] < pose.width) & (kp[..., 1] >= 0) & (kp[..., 1] < pose.height)
    visible = (conf >= min_confidence) & inside
    detected = (pose.people > 0) | (conf > 0).any(axis=1)
    full_body = visible[:, list(REQUIRED_POINTS)].all(axis=1) & visible[:, list(HEAD_POINTS)].any(axis=1)
    found = conf > 0
    xs = np.where(found, kp[..., 0], np.nan)
    ys = np.where(found, kp[..., 1], np.nan)
    boxes: list[Box | None] = []
    height_frac = np.full(pose.n_frames, np.nan)
    for i in range(pose.n_frames):
        if not found[i].any():
            boxes.append(None)
            continue
        box = (np.nanmin(xs[i]), np.nanmin(ys[i]), np.nanmax(xs[i]), np.nanmax(ys[i]))
        boxes.append(tuple(float(v) for v in box))
        vis = visible[i]
        if vis.any():
            height_frac[i] = (ys[i][vis].max() - ys[i][vis].min()) / pose.height
    return PoseMeasures(detected, pose.people.astype(np.int32), full_body, height_frac, boxes)


def audio_rms_db(samples: np.ndarray) -> float:
    """RMS level in dBFS (full scale = 1.0), floored at SILENCE_DB."""
    if samples.size == 0:
        return SILENCE_DB
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return max(20.0 * math.log10(rms), SILENCE_DB) if rms > 0 else SILENCE_DB


Check = tuple[bool, Reason, str]  # (failed, reason, detail naming the figure and its threshold)


def _subject_checks(f: ClipFigures, t: Thresholds, subject: str) -> tuple[list[Check], list[Check]]:
    """The checks both tasks share, around the task's own: (first: audio, subject found; last: others, camera)."""
    first = [
        (f.audio_rms_db < t.min_audio_db, Reason.SILENT_AUDIO, f"audio {f.audio_rms_db:.1f} dBFS < {t.min_audio_db}"),
        (
            f.detection_rate < t.min_detection_rate,
            Reason.NO_PERSON,
            f"{subject} in {f.detection_rate:.0%} of frames < {t.min_detection_rate:.0%}",
        ),
    ]
    last = [
        (
            f.second_person_detected_rate > t.max_multi_person_rate,
            Reason.MULTI_PERSON,
            f"second {subject} detected in {f.second_person_detected_rate:.0%} of frames "
            f"> {t.max_multi_person_rate:.0%}",
        ),
        (
            f.camera_motion_px > t.max_camera_motion_px,
            Reason.CAMERA_MOTION,
            f"background moved {f.camera_motion_px:.1f} px > {t.max_camera_motion_px}",
        ),
        (f.camera_zoom > t.max_camera_zoom, Reason.CAMERA_MOTION, f"zoom {f.camera_zoom:.3f} > {t.max_camera_zoom}"),
    ]
    return first, last


def _lips_checks(f: ClipFigures, t: Thresholds) -> list[Check]:
    first, last = _subject_checks(f, t, "face")
    hidden = f"mouth visible in {f.mouth_visible_rate:.0%} of frames < {t.min_mouth_visible_rate:.0%}"
    still = f"lips move {f.lip_motion:.3f} mouth widths (std) < {t.min_lip_motion}"
    turned = f"mouth asymmetry {f.mouth_asymmetry:.2f} > {t.max_mouth_asymmetry}"
    return (
        first
        + [
            (f.mouth_visible_rate < t.min_mouth_visible_rate, Reason.MOUTH_HIDDEN, hidden),
            (not f.lip_motion >= t.min_lip_motion, Reason.MOUTH_HIDDEN, still),
            (not f.mouth_asymmetry <= t.max_mouth_asymmetry, Reason.NOT_FRONTAL, turned),
        ]
        + last
    )


def _dance_checks(f: ClipFigures, t: Thresholds) -> list[Check]:
    first, last = _subject_checks(f, t, "person")
    partial = f"full body in {f.full_body_rate:.0%} of frames < {t.min_full_body_rate:.0%}"
    small = f"body spans {f.body_height_frac:.2f} of frame height < {t.min_body_height_frac}"
    crowded = f"second person in {f.multi_person_rate:.0%} of frames > {t.max_multi_person_rate:.0%}"
    own = [
        (f.full_body_rate < t.min_full_body_rate, Reason.NOT_FULL_BODY, partial),
        (not f.body_height_frac >= t.min_body_height_frac, Reason.NOT_FULL_BODY, small),
    ]
    return first + own + last + [(f.multi_person_rate > t.max_multi_person_rate, Reason.MULTI_PERSON, crowded)]


def verdict(figures: ClipFigures, t: Thresholds, task: str = "dance") -> tuple[Reason | None, str]:
    """(reason or None when kept, detail naming the figure and its threshold); task "dance" or "lips"."""
    checks = _lips_checks(figures, t) if task == "lips" else _dance_checks(figures, t)
    for failed, reason, detail in checks:
        if failed:
            return reason, detail
    return None, ""


def analysis_size(width: int, height: int, analysis_width: int) -> tuple[int, int]:
    """(width, height) of the analysis frames: `analysis_width` wide, even height, same aspect."""
    return analysis_width, max(2, 2 * round(height * analysis_width / width / 2))


def _scaled(box: Box | None, sx: float, sy: float) -> Box | None:
    return None if box is None else (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)


@dataclass(frozen=True)
class ImageSettings:
    """How the frames are analysed.

    analysis_width: width (px) of the frames for background motion and foreground blobs.
    figure: what a foreground blob must be to count as another person.
    person_detector: "mediapipe" (the masked person detector of
        alignnet.data.second_person) or "none".
    detect_every: run the person detector on every n-th frame (10: three times a second).
    detector_width: width (px) of the frames the person detector sees.
    motion_every: measure the background against the clip's first frame on
        every n-th frame (2: 15 times a second; a shake of a few Hz still shows).
    foreground: look for moving person-sized figures apart from the subject
        (off for the lips task, where the backend counts faces).
    """

    analysis_width: int = option(160, "width (px) of the frames for background motion and foreground figures")
    figure: FigureRule = FigureRule()
    person_detector: str = "mediapipe"
    detect_every: int = option(10, "run the person detector on every n-th frame")
    detector_width: int = option(320, "width (px) of the frames the person detector sees")
    motion_every: int = 2
    foreground: bool = True


@dataclass
class VideoMeasures:
    """Per-frame image measurements of a whole video.

    camera[start]: background motion of the frames of the clip starting at
        frame `start`, each against that first frame (every
        ImageSettings.motion_every-th frame).
    others[i]: person-sized foreground blobs apart from the dancer.
    detected[i]: the person detector found someone besides the dancer (1),
        did not (0), or did not run on this frame (-1).
    """

    camera: dict[int, list[FrameMotion]]
    others: np.ndarray
    detected: np.ndarray


def measure_video(
    video: Path,
    clips: pd.DataFrame,
    pose: PoseMeasures,
    pose_size: tuple[int, int],
    settings: ImageSettings = ImageSettings(),
    detector: MaskedPersonDetector | None = None,
) -> VideoMeasures:
    """Decode `video` once: background motion per frame, other people per clip frame.

    pose_size: (width, height) of the pose's pixels (the video's size).
    clips: clips.tsv rows (start_frame, n_frames); only their frames are buffered.
    detector: run on every settings.detect_every-th frame of a clip when given.
    """
    size = analysis_size(*pose_size, settings.analysis_width)
    decode = analysis_size(*pose_size, settings.detector_width) if detector is not None else size
    sx, sy = size[0] / pose_size[0], size[1] / pose_size[1]
    dx, dy = decode[0] / pose_size[0], decode[1] / pose_size[1]
    n_pose = len(pose.boxes)
    boxes = [_scaled(b, sx, sy) for b in pose.boxes]
    pad = settings.figure.box_pad
    dancer = [None if b is None else padded_box(b, pad) for b in boxes]
    ranges = [(int(r.start_frame), int(r.start_frame + r.n_frames)) for r in clips.itertuples(index=False)]
    buffers: dict[int, list[np.ndarray]] = {k: [] for k in range(len(ranges))}
    camera: dict[int, list[FrameMotion]] = {a: [] for a, _ in ranges}
    references: dict[int, np.ndarray] = {}
    n_frames = max(n_pose, max((b for _, b in ranges), default=0))
    others = np.zeros(n_frames, dtype=np.int32)
    detected = np.full(n_frames, -1, dtype=np.int8)
    frames = tqdm(iter_frames(video, size=decode), desc=f"filter {video.parent.name}", unit="frame", leave=False)
    for i, big in enumerate(frames):
        rgb = big if decode == size else cv2.resize(big, size, interpolation=cv2.INTER_AREA)
        gray = np.ascontiguousarray(rgb.mean(axis=2).astype(np.uint8))
        for k, (a, b) in enumerate(ranges):
            if not a <= i < b:
                continue
            if i == a:
                references[a] = gray
            elif (i - a) % settings.motion_every == 0:
                ignore = [dancer[j] for j in (a, i) if j < n_pose]
                camera[a].append(frame_motion(references[a], gray, ignore))
            if detector is not None and (i - a) % settings.detect_every == 0 and i < n_frames:
                box = pose.boxes[i] if i < n_pose else None
                detected[i] = detector.found(big, None if box is None else padded_box(_scaled(box, dx, dy), pad))
            if not settings.foreground:
                continue
            buffers[k].append(rgb)
            if i == b - 1:
                clip_boxes = [boxes[j] if j < n_pose else None for j in range(a, b)]
                others[a:b] = np.maximum(
                    others[a:b], other_figures(np.stack(buffers.pop(k)), clip_boxes, settings.figure)
                )
    return VideoMeasures(camera, others, detected)


def clip_figures(
    start: int, n: int, pose: PoseMeasures, video: VideoMeasures, audio: np.ndarray, motion_every: int = 2
) -> ClipFigures:
    """Figures of the clip [start, start + n) from per-frame measures and its audio samples."""
    sl = slice(start, start + n)
    detected = pose.detected[sl]
    # rates divide by n: frames missing from the pose count as failures
    detection_rate = float(detected.sum()) / n
    counted = pose.people[sl] >= 2
    checked = video.detected[sl][video.detected[sl] >= 0]
    # Evidence that holds with a moving camera too: the backend's own count, the person detector.
    detected_rate = max(float(counted.sum()) / n, float(checked.mean()) if checked.size else 0.0)
    # With the foreground blobs, which assume a still camera.
    multi_rate = max(float((counted | (video.others[sl] > 0)).sum()) / n, detected_rate)
    offsets = video.camera.get(start, [])
    moved, zoom = clip_camera_figures(offsets)
    if len(offsets) < len(range(motion_every, n, motion_every)):  # the video ended inside the clip
        moved = math.inf
    heights = pose.height_frac[sl][detected]
    heights = heights[np.isfinite(heights)]
    face = {}
    if pose.face is not None:
        opening, width = pose.face.opening[sl], pose.face.width[sl]
        seen = np.isfinite(opening)
        face = {
            "mouth_visible_rate": float(seen.sum()) / n,
            "lip_motion": float(np.std(opening[seen]) / np.median(width[seen])) if seen.sum() > 1 else math.nan,
            "mouth_asymmetry": float(np.median(pose.face.asymmetry[sl][seen])) if seen.any() else math.nan,
        }
    return ClipFigures(
        detection_rate=detection_rate,
        multi_person_rate=multi_rate,
        second_person_detected_rate=detected_rate,
        camera_motion_px=moved,
        camera_zoom=zoom,
        full_body_rate=float(pose.full_body[sl].sum()) / n,
        body_height_frac=float(np.median(heights)) if heights.size else 0.0,
        audio_rms_db=audio_rms_db(audio),
        **face,
    )


def verdict_rows(
    video_id: str,
    clips: pd.DataFrame,
    figures: list[ClipFigures],
    thresholds: Thresholds,
    task: str = "dance",
) -> pd.DataFrame:
    """One verdict row per clip (VERDICT_COLUMNS); task "dance" or "lips" picks the rules."""
    rows = []
    for row, fig in zip(clips.itertuples(index=False), figures, strict=True):
        reason, detail = verdict(fig, thresholds, task)
        rows.append(
            {
                "video_id": video_id,
                "clip_index": int(row.clip_index),
                "keep": reason is None,
                "reason": "" if reason is None else str(reason),
                "detail": detail,
                **asdict(fig),
            }
        )
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


def write_verdicts(verdicts: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """One video's verdict TSV (VERDICT_COLUMNS; figures to 6 significant digits)."""
    with atomic_output(path) as tmp:
        verdicts.to_csv(tmp, sep="\t", index=False, float_format="%.6g")


def empty_verdicts() -> pd.DataFrame:
    """The verdict table of a video that failed upstream: no rows (its stage record says why)."""
    return pd.DataFrame(columns=VERDICT_COLUMNS)


def rejected_rows(video_id: str, clip_indices: Sequence[int], reason: str, detail: str) -> pd.DataFrame:
    """Rows of clips rejected for one reason without measuring them (e.g. a duplicate video): figures empty."""
    empty = {f.name: math.nan for f in fields(ClipFigures)}
    rows = [
        {"video_id": video_id, "clip_index": int(i), "keep": False, "reason": reason, "detail": detail, **empty}
        for i in clip_indices
    ]
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


def filter_video(
    clipdir: Path,
    pose: PoseSequence,
    clips: pd.DataFrame,
    video_id: str,
    thresholds: Thresholds = Thresholds(),
    settings: ImageSettings = ImageSettings(),
) -> pd.DataFrame:
    """Verdict rows for every clip of one video (clip directory with video.mp4 and audio.wav).

    A FACE_70 pose gets the lips task's rules (module docstring), without the
    person detector and the foreground figures.
    """
    task = "lips" if pose.layout == FACE_LAYOUT else "dance"
    if task == "lips":
        measures = measure_face(pose, thresholds.min_keypoint_confidence)
        settings = replace(settings, person_detector="none", foreground=False)
    else:
        measures = measure_pose(pose, thresholds.min_keypoint_confidence)
    size = (pose.width, pose.height)
    if settings.person_detector == "mediapipe":
        with MaskedPersonDetector() as detector:
            video = measure_video(clipdir / "video.mp4", clips, measures, size, settings, detector)
    elif settings.person_detector == "none":
        video = measure_video(clipdir / "video.mp4", clips, measures, size, settings)
    else:
        raise ValueError(f"unknown person detector {settings.person_detector!r}; use 'mediapipe' or 'none'")
    figures = []
    with sf.SoundFile(clipdir / "audio.wav") as wav:
        for row in clips.itertuples(index=False):
            wav.seek(int(row.start_sample))
            audio = wav.read(int(row.n_samples), dtype="float32", always_2d=True).mean(axis=1)
            figures.append(
                clip_figures(int(row.start_frame), int(row.n_frames), measures, video, audio, settings.motion_every)
            )
    return verdict_rows(video_id, clips, figures, thresholds, task)


def expected_verdict(sidecar: Mapping[str, object]) -> tuple[bool, str]:
    """(keep, reason) from a synth sidecar's `expected_verdict` {"keep": bool, "reason": str | None}."""
    expected = sidecar["expected_verdict"]
    if not isinstance(expected, Mapping) or "keep" not in expected:
        raise ValueError(f"sidecar {sidecar.get('video_id', '?')}: expected_verdict must be {{keep, reason}}")
    return bool(expected["keep"]), str(expected.get("reason") or "")


def agreement(
    verdicts: pd.DataFrame, sidecars: Mapping[str, Mapping[str, object]], failures: Mapping[str, str] | None = None
) -> tuple[float, pd.DataFrame]:
    """Share of videos whose every clip matches the sidecar's expected verdict, and the mismatching clips.

    verdicts: rows of VERDICT_COLUMNS (several videos). sidecars: video_id ->
    sidecar dict with `expected_verdict`. A good video agrees when all its
    clips are kept; a negative one when all its clips are rejected with the
    expected reason. A video without verdict rows agrees when `failures` (video_id ->
    reason of its failed stage record, alignnet.stage_status) gives the expected
    reason for a negative; otherwise it disagrees (one row, clip_index NaN).
    Returns (rate over the sidecars' videos, DataFrame[video_id, clip_index,
    expected_keep, expected_reason, keep, reason, detail]).
    """
    columns = ["video_id", "clip_index", "expected_keep", "expected_reason", "keep", "reason", "detail"]
    bad_rows = []
    agreeing = 0
    for video_id in sorted(sidecars):
        keep, reason = expected_verdict(sidecars[video_id])
        rows = verdicts[verdicts["video_id"].astype(str) == video_id]
        if rows.empty:
            failed = (failures or {}).get(video_id)
            if failed is not None and not keep and failed == reason:
                agreeing += 1
            else:
                bad_rows.append([video_id, math.nan, keep, reason, math.nan, failed or "", "no verdict rows"])
            continue
        got_keep = rows["keep"].astype(str).str.lower().isin(["true", "1"])
        got_reason = rows["reason"].fillna("").astype(str)
        ok = got_keep if keep else (~got_keep) & (got_reason == reason)
        agreeing += bool(ok.all())
        for r, k, g in zip(rows[~ok.to_numpy()].itertuples(index=False), got_keep[~ok], got_reason[~ok], strict=True):
            bad_rows.append([video_id, r.clip_index, keep, reason, bool(k), g, getattr(r, "detail", "")])
    rate = agreeing / len(sidecars) if sidecars else math.nan
    return rate, pd.DataFrame(bad_rows, columns=columns)
