"""Reading what the figures are drawn from: the packed test split, the evaluation's predictions and tables.

Formats (written by `alignnet split`, `alignnet evaluate`, `alignnet ablation`):
    DIR/test_keypoints.npy (n_clips, frames, 19, 2), test_logmel.npy (n_clips, 128, m),
    test_index.tsv (clip_id, ...), meta.json (fps, sample_rate, hop_length), logmel_stats.npz (optional);
    predictions.npz: clip_ids (n_clips,), true (n_clips, n) source frames, strength (n_clips,),
    pred_<slug> (n_clips, n) per method;
    CSV tables with the columns given to `read_table` (accuracy in percent, AFE in frames).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from alignnet import tables
from alignnet.data.keypoint_table import DANCE_LAYOUT, KeypointLayout, layout_named
from alignnet.data.logmel import LogMelStats
from alignnet.errors import UserInputError
from alignnet.report.style import PathLike
from alignnet.training.data import PackedSplit, read_data_meta

RESULTS_COLUMNS = ("method", "afe", "accuracy", "paper_afe", "paper_accuracy")
STRENGTH_COLUMNS = ("method", "strength_bin", "afe", "accuracy")
BANDWIDTH_COLUMNS = ("method", "band", "afe", "accuracy")
KEYPOINT_ERROR_COLUMNS = ("method", "keypoint", "location_error", "velocity_error")
ABLATION_COLUMNS = ("variant", "seeds", "afe", "afe_sd", "accuracy", "accuracy_sd", "paper_afe", "paper_accuracy")


def read_table(path: PathLike, columns: Sequence[str]) -> pd.DataFrame:
    """A CSV with at least `columns`; names the file and the missing columns otherwise."""
    return tables.read_table(path, columns, sep=",")


@dataclass(frozen=True)
class Predictions:
    """Every method's predicted source frames on the test clips, and the truth.

    true (n_clips, n) and each pred[slug] (n_clips, n): source frame of every distorted frame.
    """

    clip_ids: list[str]
    true: np.ndarray
    strength: np.ndarray
    pred: dict[str, np.ndarray]

    @classmethod
    def load(cls, path: PathLike) -> Predictions:
        try:
            with np.load(path, allow_pickle=False) as npz:
                data = {key: npz[key] for key in npz.files}
        except (OSError, ValueError) as exc:
            raise UserInputError(f"{path}: cannot read predictions ({exc})") from exc
        missing = [key for key in ("clip_ids", "true", "strength") if key not in data]
        if missing:
            raise UserInputError(f"{path}: missing arrays {missing}")
        pred = {key.removeprefix("pred_"): value for key, value in data.items() if key.startswith("pred_")}
        if not pred:
            raise UserInputError(f"{path}: no pred_<method> arrays")
        for slug, value in pred.items():
            if value.shape != data["true"].shape:
                raise UserInputError(f"{path}: pred_{slug} has shape {value.shape}, true has {data['true'].shape}")
        return cls([str(c) for c in data["clip_ids"]], data["true"], data["strength"], pred)


@dataclass(frozen=True)
class SplitData:
    """The packed test split: keypoints (n_clips, frames, K, 2) body-centred pixels, normalised log-mel
    (n_clips, n_mels, m), clip ids, the clock (fps, sample_rate, hop_length) and the train log-mel statistics."""

    keypoints: np.ndarray
    logmel: np.ndarray
    clip_ids: list[str]
    fps: float
    sample_rate: int
    hop_length: int
    stats: LogMelStats | None
    layout: KeypointLayout = DANCE_LAYOUT  # point names and the segments that draw them

    @classmethod
    def load(cls, data_dir: PathLike, split: str = "test") -> SplitData:
        root = Path(data_dir)
        meta = read_data_meta(root)
        packed = PackedSplit.load(root, split)
        if len(packed) == 0:
            raise UserInputError(f"{root}: split {split!r} has no clips")
        stats_path = root / "logmel_stats.npz"
        stats = LogMelStats.load(stats_path) if stats_path.exists() else None
        try:
            layout = layout_named(meta.get("layout"))
        except ValueError as exc:
            raise UserInputError(f"{root}/meta.json: {exc}") from exc
        return cls(
            packed.keypoints,
            packed.logmel,
            packed.clip_ids,
            float(meta["fps"]),
            int(meta["sample_rate"]),
            int(meta["hop_length"]),
            stats,
            layout,
        )

    def row(self, clip_id: str) -> int:
        """Row of a clip in the split's arrays."""
        try:
            return self.clip_ids.index(clip_id)
        except ValueError:
            raise UserInputError(f"clip {clip_id!r} is not in the test split") from None

    def logmel_db(self, row: int) -> np.ndarray:
        """(n_mels, m) log-mel of one clip in dB (un-normalised when the train statistics are there)."""
        x = np.asarray(self.logmel[row], np.float32)
        return x * self.stats.std[:, None] + self.stats.mean[:, None] if self.stats is not None else x


def load_summary(path: PathLike) -> dict:
    """The dataset summary (results/dataset/summary.json)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UserInputError(f"{path}: cannot read dataset summary ({exc})") from exc
