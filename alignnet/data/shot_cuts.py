"""Shot cuts inside clips: edited covers (several takes or angles cut together) are rejected as `shot_cut`.

PySceneDetect's ContentDetector (change in hue, saturation and luma between
frames above `threshold`, scenes at least `min_scene_frames` long) finds the
cuts of a whole normalised video once; a clip is rejected when a cut falls
strictly inside it (a cut on its first frame starts the clip on a new shot,
which is fine). A cut is stronger evidence than the rules it would otherwise
trip (a jump of the background looks like camera motion, a new dancer like a
second person), so it is checked before them (alignnet.data.filters_command).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scenedetect import ContentDetector, SceneManager, VideoOpenFailure, open_video

from alignnet.stage_status import Reason


@dataclass(frozen=True)
class CutSettings:
    threshold: float = 27.0  # ContentDetector's default
    min_scene_frames: int = 15


def detect_cuts(path: str | os.PathLike[str], settings: CutSettings = CutSettings()) -> list[int]:
    """Frame indices where a new shot starts (the first shot's start, 0, not included).

    Raises ValueError naming the file when it cannot be opened.
    """
    try:
        video = open_video(str(path), backend="opencv")
    except (OSError, VideoOpenFailure) as exc:
        raise ValueError(f"cannot open {path} for shot detection: {exc}") from exc
    manager = SceneManager()
    manager.auto_downscale = True
    manager.add_detector(ContentDetector(threshold=settings.threshold, min_scene_len=settings.min_scene_frames))
    manager.detect_scenes(video, show_progress=False)
    return [start.frame_num for start, _end in manager.get_scene_list()[1:]]


def cuts_in_clips(cuts: list[int], clips: pd.DataFrame) -> dict[int, list[int]]:
    """clip_index -> the cuts strictly inside that clip (frames of the clip, from its first), for clips with any.

    clips: rows with clip_index, start_frame, n_frames (a clip table of `alignnet clip`).
    """
    frames = np.asarray(cuts, dtype=np.int64)
    inside = {}
    for row in clips.itertuples(index=False):
        start, n = int(row.start_frame), int(row.n_frames)
        local = frames[(frames > start) & (frames < start + n)] - start
        if local.size:
            inside[int(row.clip_index)] = local.tolist()
    return inside


def mark_shot_cuts(verdicts: pd.DataFrame, inside: dict[int, list[int]]) -> pd.DataFrame:
    """The verdict rows with every clip that holds a cut rejected as shot_cut (whatever it was before)."""
    out = verdicts.copy()
    for clip_index, frames in inside.items():
        row = out["clip_index"].astype(int) == clip_index
        out.loc[row, "keep"] = False
        out.loc[row, "reason"] = str(Reason.SHOT_CUT)
        out.loc[row, "detail"] = "shot cut at clip frame " + ", ".join(str(f) for f in frames)
    return out
