"""The clips an evaluation runs on: a packed split with its saved time warps."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alignnet.correspondence import Timebase
from alignnet.distort.augment import MelBands, low_pass
from alignnet.distort.fixed_warps import load_fixed_warps
from alignnet.distort.warps import apply_warp
from alignnet.errors import UserInputError
from alignnet.keypoints import DANCE_NAMES
from alignnet.training.data import PackedSplit, read_data_meta, timebase_of


@dataclass
class EvalClips:
    """Undistorted clips and the saved distortion of each.

    source (n_clips, n_src, K, 2) body-centred keypoints; logmel (n_clips, bins, m);
    true (n_clips, n_out) source frame of every distorted frame (DIR/{split}_warps.npz).
    """

    clip_ids: list[str]
    source: np.ndarray
    logmel: np.ndarray
    true: np.ndarray
    timebase: Timebase
    names: list[str] | None = None  # meta.json's keypoint_names, when it has them
    task: str = "dance"  # "lips" for the mouth layout
    audio_filter: Callable[[np.ndarray], np.ndarray] | None = None  # applied to every clip's log-mel (`low_passed`)

    @classmethod
    def load(cls, data_dir: str | Path, split: str = "test", max_clips: int | None = None) -> EvalClips:
        """Read DIR/{split}_{keypoints.npy,logmel.npy,index.tsv,warps.npz} and DIR/meta.json."""
        data_dir = Path(data_dir)
        meta = read_data_meta(data_dir)
        packed = PackedSplit.load(data_dir, split)
        if len(packed) == 0:
            raise UserInputError(f"{data_dir}: split {split!r} has no clips")
        warps_path = data_dir / f"{split}_warps.npz"
        if not warps_path.exists():
            raise UserInputError(f"{warps_path}: missing: the split stage saves the seeded {split} warps there")
        true = load_fixed_warps(warps_path, packed.clip_ids)
        n = len(packed) if max_clips is None else min(max_clips, len(packed))
        timebase = timebase_of(meta, packed)
        true = np.asarray(true[:n], np.float64)
        names = meta.get("keypoint_names")
        task = "lips" if str(meta.get("layout", "")).startswith("MOUTH") else "dance"
        return cls(packed.clip_ids[:n], packed.keypoints[:n], packed.logmel[:n], true, timebase, names, task)

    def __len__(self) -> int:
        return len(self.clip_ids)

    @property
    def n_keypoints(self) -> int:
        return int(self.source.shape[2])

    def distorted(self, index: int) -> np.ndarray:
        """Keypoints (n_out, K, 2) float32 of clip `index` under its saved warp."""
        return apply_warp(np.asarray(self.source[index], np.float32), self.true[index])

    def audio(self, index: int) -> np.ndarray:
        """Log-mel (bins, m) float32 of clip `index`."""
        logmel = np.asarray(self.logmel[index], np.float32)
        return logmel if self.audio_filter is None else self.audio_filter(logmel)

    def low_passed(self, bands: MelBands, cutoff_hz: float) -> EvalClips:
        """The same clips and distortions with the music low-passed at `cutoff_hz` (`augment.low_pass`)."""
        return dataclasses.replace(self, audio_filter=functools.partial(low_pass, bands=bands, cutoff_hz=cutoff_hz))

    def strength(self) -> np.ndarray:
        """(n_clips,) distortion strength: mean |true source frame - frame index| in frames."""
        identity = np.arange(self.true.shape[1], dtype=np.float64)
        return np.abs(self.true - identity).mean(axis=1)

    def keypoint_names(self) -> list[str]:
        """meta.json's names, else BODY_25 names of the 19 dance keypoints; point0.. for other layouts."""
        if self.names is not None and len(self.names) == self.n_keypoints:
            return list(self.names)
        if self.n_keypoints == len(DANCE_NAMES):
            return list(DANCE_NAMES)
        return [f"point{i}" for i in range(self.n_keypoints)]
