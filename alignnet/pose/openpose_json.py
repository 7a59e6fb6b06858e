"""Import OpenPose's own `--write_json` output as a PoseSequence.

OpenPose writes one file per frame, `<video basename>_<12-digit frame
index>_keypoints.json`, holding `{"version": 1.3, "people": [...]}`; each
person has `pose_keypoints_2d` (75 numbers: x, y, c for BODY_25) and
`face_keypoints_2d` (210: FACE_70), `[]` for a module that was off.
`people` is `[]` when nobody was found. A missing point has c == 0.

The frame index comes from the file name; an index with no file becomes an
empty frame (counted in meta["missing_frames"]). The most prominent person
(largest box of found points) is kept and the people are counted.

Coordinates: `--keypoint_scale 0` (OpenPose's default, pixels of the input)
is read as is; 3 ([0, 1]) and 4 ([-1, 1]) are converted with the frame
width and height; 1 and 2 (net or output resolution) are refused: rerun
OpenPose with --keypoint_scale 0.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from alignnet.errors import UserInputError
from alignnet.pose.people import most_prominent
from alignnet.pose.sequence import PoseSequence

FILE_PATTERN = re.compile(r"^(?P<name>.*)_(?P<index>\d{12})_keypoints\.json$")
BACKEND_NAME = "openpose-json"
_LAYOUTS = {"BODY_25": ("pose_keypoints_2d", 25), "FACE_70": ("face_keypoints_2d", 70)}


def frame_files(json_dir: str | os.PathLike[str], name: str | None = None) -> dict[int, Path]:
    """{frame index: file} of the OpenPose JSON files for video basename `name` in `json_dir`.

    name None takes every file, provided they all belong to one video.
    Raises UserInputError when the folder is missing or holds no matching file.
    """
    folder = Path(json_dir)
    if not folder.is_dir():
        raise UserInputError(f"OpenPose JSON folder not found: {folder}")
    matches = [(m, p) for p in folder.iterdir() if (m := FILE_PATTERN.match(p.name))]
    names = sorted({m["name"] for m, _ in matches})
    if name is None and len(names) > 1:
        raise UserInputError(f"{folder} holds OpenPose JSON of several videos ({', '.join(names[:5])}); name one")
    files = {int(m["index"]): p for m, p in matches if name is None or m["name"] == name}
    if not files:
        found = f"; basenames found: {', '.join(names[:5])}" if names else ""
        raise UserInputError(
            f"no OpenPose JSON files `{name or '*'}_<12-digit index>_keypoints.json` in {folder}{found}"
        )
    return files


def read_frame_people(path: Path, layout: str = "BODY_25") -> tuple[np.ndarray, np.ndarray]:
    """(body (people, 25, 3), chosen-layout points (people, n, 3)) of one OpenPose JSON file.

    A person without body points (face-only runs) gets an all-missing body.
    Raises UserInputError naming the file when it is not OpenPose's format.
    """
    key, n_points = _LAYOUTS[layout]
    try:
        people = json.loads(path.read_text(encoding="utf-8"))["people"]
        body = np.array([_points(p.get("pose_keypoints_2d", []), 25) for p in people], dtype=np.float32)
        points = np.array([_points(p.get(key, []), n_points) for p in people], dtype=np.float32)
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as exc:
        raise UserInputError(f"malformed OpenPose JSON file {path}: {exc}") from exc
    return body.reshape(-1, 25, 3), points.reshape(-1, n_points, 3)


def _points(flat: list[float], n_points: int) -> np.ndarray:
    if not flat:
        return np.zeros((n_points, 3), dtype=np.float32)
    if len(flat) != n_points * 3:
        raise ValueError(f"expected {n_points * 3} numbers, got {len(flat)}")
    return np.asarray(flat, dtype=np.float32).reshape(n_points, 3)


def to_pixels(keypoints: np.ndarray, keypoint_scale: int, width: int, height: int) -> np.ndarray:
    """Convert (..., 3) keypoints written with OpenPose's --keypoint_scale to pixels; c == 0 -> (0, 0, 0)."""
    out = np.array(keypoints, dtype=np.float32)
    size = np.array([width, height], dtype=np.float32)
    if keypoint_scale == 3:
        out[..., :2] *= size
    elif keypoint_scale == 4:
        out[..., :2] = (out[..., :2] + 1) / 2 * size
    elif keypoint_scale != 0:
        raise UserInputError(
            f"--keypoint-scale {keypoint_scale} (net or output resolution) cannot be mapped to pixels; "
            "rerun OpenPose with --keypoint_scale 0 (or 3 or 4 with --width/--height)"
        )
    out[out[..., 2] == 0] = 0.0
    return out


def read_openpose_json(
    json_dir: str | os.PathLike[str],
    name: str | None,
    fps: float,
    width: int,
    height: int,
    keypoint_scale: int = 0,
    layout: str = "BODY_25",
) -> PoseSequence:
    """The PoseSequence of OpenPose's JSON output for video basename `name`.

    width, height: the video's frame size (pixels); fps: its frame rate.
    layout: "BODY_25" or "FACE_70" (the chosen person's face points).
    """
    if layout not in _LAYOUTS:
        raise UserInputError(f"unknown layout {layout!r}; choose from {', '.join(_LAYOUTS)}")
    files = frame_files(json_dir, name)
    n_frames = max(files) + 1
    n_points = _LAYOUTS[layout][1]
    keypoints = np.zeros((n_frames, n_points, 3), dtype=np.float32)
    people = np.zeros(n_frames, dtype=np.int16)
    for index in sorted(files):
        body, points = read_frame_people(files[index], layout)
        if len(points) == 0:
            continue
        chosen = most_prominent(body) if body[..., 2].any() else most_prominent(points)
        keypoints[index] = to_pixels(points[chosen], keypoint_scale, width, height)
        people[index] = len(points)
    meta = {"json_dir": os.fspath(json_dir), "missing_frames": str(n_frames - len(files)), "counts_people": "true"}
    return PoseSequence(keypoints, people, fps, width, height, BACKEND_NAME, layout, meta)
