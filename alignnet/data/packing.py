"""The split stage: video-disjoint splits packed into memory-mappable arrays.

Output directory (what `alignnet train` reads):
    splits.tsv                 clip_id, video_id, group_id, split (every kept clip; "unused" beyond the
                               targets; group_id: the song in song-disjoint splits, else the video)
    {split}_keypoints.npy      float32 (n, frames, K, 2) cleaned, centred pixels (K = 19 dance, 20 lips)
    {split}_logmel.npy         float16 (n, n_mels, m) log-mel normalised with train statistics
    {split}_index.tsv          clip_id, video_id, clip_index, start_frame (in the video): row i of both arrays
    {val,test}_warps.npz       the fixed, seeded time warps every method is evaluated on
    logmel_stats.npz           per-bin mean and std of the train split
    meta.json                  fps, sample_rate, hop_length, sizes, counts, disjoint (video / song),
                               groups (videos or songs split), and the keypoint layout:
                               layout (DANCE_19 / MOUTH_20), keypoint_names, n_keypoints,
                               mirror (left/right permutation for flips and tied keypoint attention);
                               clean: the keypoint files' cleaning parameters (`alignnet align`
                               cleans a new video's pose the same way)
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from alignnet.atomic import atomic_output
from alignnet.data.keypoint_table import (
    KeypointFiles,
    KeypointLayout,
    read_clip_keypoints,
    read_clip_starts,
)
from alignnet.data.logmel import load_logmel_file, logmel_statistics, pack_split
from alignnet.data.splits import assign_splits
from alignnet.distort.fixed_warps import make_fixed_warps, save_fixed_warps
from alignnet.errors import DataError

SPLITS = ("train", "val", "test")
PathLike = str | os.PathLike[str]


def _clip_frame(clip_ids: Sequence[str]) -> pd.DataFrame:
    """clip ids "<video_id>/<clip_index>" as a table."""
    video_ids, indices = zip(*(c.rsplit("/", 1) for c in clip_ids), strict=True) if clip_ids else ((), ())
    return pd.DataFrame(
        {"clip_id": list(clip_ids), "video_id": list(video_ids), "clip_index": [int(i) for i in indices]}
    )


def _train_logmels(npz_paths: Mapping[str, Path], train: pd.DataFrame):
    """The raw log-mel of every train clip, one video at a time."""
    for video_id, rows in train.groupby("video_id", sort=True):
        data = load_logmel_file(npz_paths[video_id])
        position = {int(c): i for i, c in enumerate(data.clip_index)}
        yield data.logmel[[position[int(c)] for c in rows["clip_index"]]]


def layout_meta(layout: KeypointLayout) -> dict[str, object]:
    """The meta.json entries that tell `alignnet train` how to build the model for `layout`."""
    return {
        "layout": layout.name,
        "keypoint_names": list(layout.names),
        "n_keypoints": len(layout.names),
        "mirror": list(layout.mirror),
    }


def pack_dataset(
    keypoint_files: Sequence[PathLike],
    logmel_files: Sequence[PathLike],
    sizes: Mapping[str, int],
    seed: int,
    meta: Mapping[str, float | int],
    out_dir: PathLike,
    songs: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Assign splits to the kept clips and write the packed dataset; returns clips per split.

    logmel_files are named after their video id (results/logmel/<video_id>.npz).
    songs: video_id -> song id for song-disjoint splits; None: video-disjoint.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = KeypointFiles.open(list(keypoint_files))
    layout, clean, pose_backend = files.layout, files.clean_params, files.pose_backend
    keypoints = read_clip_keypoints(files)
    if not keypoints:
        raise DataError(f"no kept clips in {len(keypoint_files)} keypoint files: nothing to split")
    npz_paths = {Path(p).stem: Path(p) for p in logmel_files}
    clips = _clip_frame(sorted(keypoints))
    starts = read_clip_starts(files)
    clips["start_frame"] = [starts[c] for c in clips["clip_id"]]
    splits = assign_splits(clips[["video_id", "clip_id"]], sizes, seed, songs).merge(clips, on=["clip_id", "video_id"])
    with atomic_output(out / "splits.tsv") as tmp:
        splits[["clip_id", "video_id", "group_id", "split"]].to_csv(tmp, sep="\t", index=False)

    train = splits[splits["split"] == "train"]
    stats = logmel_statistics(_train_logmels(npz_paths, train))
    stats.save(out / "logmel_stats.npz")
    counts = {}
    for name in SPLITS:
        part = splits[splits["split"] == name].sort_values("clip_id")
        counts[name] = len(part)
        pack_split(
            npz_paths, list(zip(part["video_id"], part["clip_index"], strict=True)), stats, out / f"{name}_logmel.npy"
        )
        with atomic_output(out / f"{name}_keypoints.npy") as tmp:
            np.save(
                tmp,
                np.stack([keypoints[c] for c in part["clip_id"]]).astype(np.float32)
                if len(part)
                else np.zeros((0, 0, len(layout.names), 2), np.float32),
            )
        with atomic_output(out / f"{name}_index.tsv") as tmp:
            part[["clip_id", "video_id", "clip_index", "start_frame"]].to_csv(tmp, sep="\t", index=False)
        if name != "train" and len(part):
            ids = part["clip_id"].tolist()
            frames = keypoints[ids[0]].shape[0]
            save_fixed_warps(out / f"{name}_warps.npz", ids, make_fixed_warps(ids, frames, frames, seed), seed)
    with atomic_output(out / "meta.json") as tmp:
        full = {**meta, **layout_meta(layout), "sizes": dict(sizes), "seed": seed, "clips": counts}
        full.update(disjoint="song" if songs is not None else "video", groups=int(splits["group_id"].nunique()))
        if clean is not None:
            full["clean"] = json.loads(clean)
        if pose_backend is not None:
            full["pose_backend"] = pose_backend  # alignnet align's default backend for a model trained on this
        tmp.write_text(json.dumps(full, indent=1) + "\n")
    return counts
