"""Datasets over a packed split (the split stage's output) with online or fixed distortions.

Data contract of a packed dataset directory DIR:
    DIR/{split}_keypoints.npy  float32 (n_clips, frames, 19, 2) body-centred pixel coordinates
    DIR/{split}_logmel.npy     float16 (n_clips, 128, m) normalised log-mel
    DIR/{split}_index.tsv      clip_id, video_id, ... (one row per clip, same order); with start_frame,
                               back-to-back clips of a video are known (cross-clip training windows)
    DIR/meta.json              fps, sample_rate, hop_length
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from alignnet.correspondence import Timebase
from alignnet.distort import (
    Sample,
    SampleGenerator,
    load_fixed_warps,
    make_fixed_warps,
    save_fixed_warps,
    straddling_window,
)
from alignnet.errors import UserInputError
from alignnet.keypoints import DANCE_KEYPOINTS, DANCE_MIRROR
from alignnet.training.run_settings import RunSettings


def read_data_meta(data_dir: Path) -> dict[str, Any]:
    """DIR/meta.json with at least fps, sample_rate and hop_length."""
    path = Path(data_dir) / "meta.json"
    try:
        meta = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UserInputError(f"{path}: cannot read dataset metadata ({exc})") from exc
    missing = {"fps", "sample_rate", "hop_length"} - set(meta)
    if missing:
        raise UserInputError(f"{path}: missing keys {sorted(missing)}")
    return meta


def keypoint_layout(meta: Mapping[str, Any]) -> tuple[int, tuple[int, ...]]:
    """(n_keypoints, mirror permutation) of a packed dataset's meta.json; the 19 dance points when absent."""
    n = int(meta.get("n_keypoints", len(DANCE_KEYPOINTS)))
    mirror = tuple(int(i) for i in meta.get("mirror", DANCE_MIRROR.tolist()))
    if len(mirror) != n or sorted(mirror) != list(range(n)):
        raise UserInputError(f"meta.json: mirror {list(mirror)} is no permutation of {n} keypoints")
    return n, mirror


def following_clips(index: pd.DataFrame, n_frames: int) -> np.ndarray:
    """(rows,) row of the clip that starts where each row's clip ends, in the same video; -1 where none.

    index: video_id and start_frame (first frame of the clip in its video) per
    row; n_frames: frames per clip. Without a start_frame column, every row gets -1.
    """
    if "start_frame" not in index.columns:
        return np.full(len(index), -1, np.int64)
    clips = list(zip(index["video_id"], index["start_frame"].astype(int), strict=True))
    row_at = {clip: row for row, clip in enumerate(clips)}
    return np.array([row_at.get((video, start + n_frames), -1) for video, start in clips], np.int64)


@dataclass
class PackedSplit:
    """One split, memory-mapped: keypoints (n, frames, K, 2), logmel (n, bins, m), clip ids.

    follows (n,): row of the clip that continues clip i in its video, -1 where none (`following_clips`).
    """

    name: str
    keypoints: np.ndarray
    logmel: np.ndarray
    clip_ids: list[str]
    follows: np.ndarray

    @classmethod
    def load(cls, data_dir: str | Path, split: str) -> PackedSplit:
        data_dir = Path(data_dir)
        paths = {kind: data_dir / f"{split}_{kind}" for kind in ("keypoints.npy", "logmel.npy", "index.tsv")}
        for path in paths.values():
            if not path.exists():
                raise UserInputError(f"{path}: missing from the packed dataset")
        keypoints = np.load(paths["keypoints.npy"], mmap_mode="r")
        logmel = np.load(paths["logmel.npy"], mmap_mode="r")
        index = pd.read_csv(paths["index.tsv"], sep="\t", dtype=str)
        if "clip_id" not in index.columns:
            raise UserInputError(f"{paths['index.tsv']}: no clip_id column")
        if not len(keypoints) == len(logmel) == len(index):
            raise UserInputError(
                f"{data_dir}: split {split!r} has {len(keypoints)} keypoint clips, {len(logmel)} log-mels "
                f"and {len(index)} index rows"
            )
        if keypoints.ndim != 4 or keypoints.shape[-1] != 2 or logmel.ndim != 3:
            raise UserInputError(
                f"{data_dir}: split {split!r} has keypoints {keypoints.shape} / logmel {logmel.shape}; "
                "expected (n, frames, K, 2) and (n, bins, m)"
            )
        follows = following_clips(index, keypoints.shape[1])
        return cls(split, keypoints, logmel, index["clip_id"].tolist(), follows)

    def __len__(self) -> int:
        return len(self.clip_ids)


def _to_item(sample: Sample, timebase: Timebase) -> dict[str, torch.Tensor]:
    return {
        "video": torch.from_numpy(sample.video),
        "audio": torch.from_numpy(sample.audio),
        "target": torch.from_numpy(timebase.source_frame_to_coord(sample.source).astype(np.float32)),
        "source": torch.from_numpy(sample.source.astype(np.float32)),
    }


class DistortedDataset(Dataset):
    """Fresh random distortion per sample and epoch, from default_rng([seed, epoch, index]).

    An epoch has `samples_per_epoch` samples (default: one per clip); sample i
    distorts clip i % n_clips, so a small split can still give long epochs,
    every sample with its own warp. The RNG depends only on (seed, epoch, index),
    so any number of DataLoader workers, and a resumed run, draw the same
    samples. With the generator's `cross_clip`, a clip followed by another of
    its video gives, at `cross_clip_probability`, a window across the two
    (`straddling_window`) instead of itself. Call `set_epoch` before creating
    each epoch's DataLoader iterator (workers copy the dataset then).
    """

    def __init__(
        self,
        split: PackedSplit,
        timebase: Timebase,
        generator: SampleGenerator,
        seed: int,
        samples_per_epoch: int | None = None,
    ) -> None:
        self.split, self.timebase, self.generator, self.seed = split, timebase, generator, seed
        self.samples_per_epoch = samples_per_epoch or len(split)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.samples_per_epoch

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        clip = index % len(self.split)
        keypoints, logmel = self.split.keypoints[clip], self.split.logmel[clip]
        follower = int(self.split.follows[clip])
        if self.generator.cross_clip and follower >= 0 and rng.random() < self.generator.augment.cross_clip_probability:
            following = (self.split.keypoints[follower], self.split.logmel[follower])
            ratio = self.timebase.audio_rate / self.timebase.fps
            keypoints, logmel = straddling_window(rng, (keypoints, logmel), following, ratio)
        return _to_item(self.generator(rng, keypoints, logmel), self.timebase)


class FixedDataset(Dataset):
    """Saved distortions, no flip or masks: validation.

    positions (n_samples, n_out) and clips (n_samples,): sample i is clip clips[i] under warp positions[i]
    (`validation_samples` makes both).
    """

    def __init__(
        self,
        split: PackedSplit,
        timebase: Timebase,
        generator: SampleGenerator,
        positions: np.ndarray,
        clips: np.ndarray,
    ) -> None:
        if len(clips) != len(positions) or not np.all((clips >= 0) & (clips < len(split))):
            raise ValueError(f"{len(positions)} warps for clip indices {clips!r} of split {split.name!r}")
        self.split, self.timebase, self.generator = split, timebase, generator
        self.positions, self.clips = positions, np.asarray(clips, np.int64)

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        clip = int(self.clips[index])
        sample = self.generator.fixed(self.split.keypoints[clip], self.split.logmel[clip], self.positions[index])
        return _to_item(sample, self.timebase)


VAL_WARP_SEED = 1359  # fixed, independent of --seed, so every run validates on the same samples


def timebase_of(meta: dict[str, Any], split: PackedSplit) -> Timebase:
    """The split's video/audio timebase from the dataset's meta.json."""
    return Timebase.from_meta(meta["fps"], meta["sample_rate"], meta["hop_length"], split.logmel.shape[-1])


def validation_warps(data_dir: Path, out: Path, split: PackedSplit, generator: SampleGenerator) -> np.ndarray:
    """Saved val warps: DATA/val_warps.npz if the split stage wrote one, else OUT/val_warps.npz (made once)."""
    for path in (Path(data_dir) / "val_warps.npz", Path(out) / "val_warps.npz"):
        if path.exists():
            return load_fixed_warps(path, split.clip_ids)
    n_src = split.keypoints.shape[1]
    positions = make_fixed_warps(split.clip_ids, generator.n_out or n_src, n_src, VAL_WARP_SEED, generator.warp)
    save_fixed_warps(Path(out) / "val_warps.npz", split.clip_ids, positions, VAL_WARP_SEED)
    return positions


def validation_samples(
    saved: np.ndarray, split: PackedSplit, generator: SampleGenerator, per_clip: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Warps (n_clips * per_clip, n_out) and their clip indices: the saved warp of every clip, then per_clip - 1
    more per clip drawn from seeds VAL_WARP_SEED + 1, + 2, ... (the same in every run).

    A small val split gives a noisy score with one warp per clip (the choice of the best epoch with it);
    several warps per clip steady it at a proportional cost in validation time.
    """
    if per_clip < 1:
        raise UserInputError(f"--val-warps-per-clip {per_clip}: must be at least 1")
    n_src, n_out = split.keypoints.shape[1], saved.shape[1]
    extra = [
        make_fixed_warps(split.clip_ids, n_out, n_src, VAL_WARP_SEED + k, generator.warp) for k in range(1, per_clip)
    ]
    return np.concatenate([saved, *extra]), np.tile(np.arange(len(split)), per_clip)


@dataclass
class TrainingData:
    """What every trainer reads: the dataset's meta, fresh distortions of train, saved ones of val."""

    meta: dict[str, Any]
    train: DistortedDataset
    val: FixedDataset


def load_training_data(settings: RunSettings, generator: SampleGenerator) -> TrainingData:
    """Load the train and val splits of `settings.data` for a trainer writing to `settings.out` (see
    `validation_warps`, `validation_samples`); an epoch is settings.steps_per_epoch batches, or one pass."""
    data_dir, out, seed = settings.data, settings.out, settings.seed
    samples_per_epoch = settings.steps_per_epoch * settings.batch_size if settings.steps_per_epoch else None
    meta = read_data_meta(data_dir)
    train, val = PackedSplit.load(data_dir, "train"), PackedSplit.load(data_dir, "val")
    if len(train) == 0 or len(val) == 0:
        raise UserInputError(f"{data_dir}: the train and val splits need at least one clip each")
    saved = validation_warps(data_dir, out, val, generator)
    positions, clips = validation_samples(saved, val, generator, settings.val_warps_per_clip)
    return TrainingData(
        meta,
        DistortedDataset(train, timebase_of(meta, train), generator, seed, samples_per_epoch),
        FixedDataset(val, timebase_of(meta, val), generator, positions, clips),
    )
