"""The dataset summary: counts at every stage, from the stages' own records."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alignnet.atomic import atomic_output
from alignnet.data.clips import load_clip_table
from alignnet.data.manifest import read_manifest
from alignnet.pose.sequence import PoseSequence
from alignnet.stage_status import Reason, StageStatus
from alignnet.tables import read_table

PathLike = str | os.PathLike[str]


def _read_tsv(path: PathLike, columns: Sequence[str] = ()) -> pd.DataFrame:
    return read_table(path, columns, dtype=str, keep_default_na=False)


def clip_stage_counts(clip_dirs: Sequence[PathLike]) -> dict[str, Any]:
    """Videos normalised, failed by reason, and clips cut."""
    failed: Counter[str] = Counter()
    ok = clips = 0
    for directory in clip_dirs:
        status = StageStatus.read(directory)
        if status is None or not status.ok:
            failed[status.reason if status else "missing_status"] += 1
            continue
        table = load_clip_table(Path(directory) / "clips.tsv")
        ok += 1
        clips += len(table)
    return {"videos_ok": ok, "videos_failed": dict(sorted(failed.items())), "clips_cut": clips}


def pose_detection_rate(pose_files: Sequence[PathLike]) -> dict[str, Any]:
    """Share of frames, over all videos, in which the backend found a person."""
    frames = detected = 0
    for path in pose_files:
        pose = PoseSequence.load(path)
        frames += pose.n_frames
        detected += int(np.count_nonzero((pose.keypoints[:, :, 2] > 0).any(axis=1)))
    return {"frames": frames, "frames_with_person": detected, "detection_rate": detected / frames if frames else 0.0}


def build_summary(
    manifest: PathLike,
    failures: PathLike,
    clip_dirs: Sequence[PathLike],
    pose_files: Sequence[PathLike],
    verdicts: PathLike,
    rejections: Sequence[PathLike],
    dataset: PathLike,
    clip_seconds: float,
) -> dict[str, Any]:
    """Counts at every stage: found, downloaded, failed by reason, clips cut,
    kept, rejected by reason (duplicate and shot_cut among them), videos
    rejected as re-uploads, hours kept, pose detection rate, and whether the
    splits are video- or song-disjoint (with the number of groups split)."""
    entries = read_manifest(manifest)
    failed = _read_tsv(failures)
    retryable = failed["retryable"] == "true" if "retryable" in failed else pd.Series(False, index=failed.index)
    per_clip = _read_tsv(verdicts, ["video_id", "clip_index", "keep", "reason"])  # a failed video has no rows
    kept = per_clip[per_clip["keep"].str.lower() == "true"]
    rejected = Counter(per_clip.loc[per_clip["keep"].str.lower() != "true", "reason"])
    cleaning = Counter()
    for path in rejections:
        table = _read_tsv(path)
        if not table.empty:
            cleaning.update(table["reason"])
    duplicate_videos = per_clip.loc[per_clip["reason"] == Reason.DUPLICATE, "video_id"].nunique()
    split_table = _read_tsv(Path(dataset) / "splits.tsv")
    meta_path = Path(dataset) / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    split_counts = Counter(split_table["split"])
    n_dataset = len(split_table)
    return {
        "videos_found": len(entries),
        "videos_downloaded": len(entries) - len(failed),
        "download_failed": dict(sorted(Counter(failed["reason"]).items())),
        "download_failed_retryable": int(retryable.sum()),
        "download_failed_permanent": int((~retryable).sum()),
        "clip": clip_stage_counts(clip_dirs),
        "pose": pose_detection_rate(pose_files),
        "filter": {
            "clips_judged": len(per_clip),
            "clips_kept": len(kept),
            "clips_rejected": dict(sorted(rejected.items())),
            "videos_duplicate": int(duplicate_videos),
        },
        "clean": {"clips_rejected": dict(sorted(cleaning.items()))},
        "dataset": {
            "clips": n_dataset,
            "videos": int(split_table["video_id"].nunique()),
            "disjoint": meta.get("disjoint", "video"),
            "groups": int(meta.get("groups", split_table["video_id"].nunique())),
            "hours": round(n_dataset * clip_seconds / 3600, 3),
            "splits": {name: int(split_counts.get(name, 0)) for name in ("train", "val", "test")},
        },
    }


def write_summary(summary: dict[str, Any], path: PathLike) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n", encoding="utf-8")
