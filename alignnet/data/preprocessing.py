"""What a model was trained on: log-mel settings, the train split's log-mel statistics, clip length, keypoint cleaning.

`alignnet align` must feed the model inputs prepared exactly as in training:
the same log-mel parameters and the same per-bin normalisation (mean and std
of the train split's log-mel, `alignnet.data.logmel.logmel_statistics`), and
keypoints cleaned with the same filters (`alignnet.data.clean.CleanParams`;
a dataset or checkpoint that records none was cleaned with `LEGACY_CLEAN_PARAMS`).
They are read from the checkpoint's JSON, key extra.preprocessing (see
`Preprocessing.to_json`), or else from the packed dataset the model was
trained on (DIR/logmel_stats.npz and DIR/meta.json of `alignnet split`).
They also record the pose backend that made the training keypoints
(`pose_backend`, None when unrecorded), which `alignnet align` uses by default.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from alignnet.data.clean import LEGACY_CLEAN_PARAMS, CleanParams, recorded_clean_params
from alignnet.data.logmel import LogMelConfig, LogMelStats, normalised_silence
from alignnet.dataclass_fields import known_fields
from alignnet.distort.augment import MelBands
from alignnet.errors import UserInputError

STATS_FILE = "logmel_stats.npz"
META_FILE = "meta.json"
TRAIN_KEYPOINTS = "train_keypoints.npy"  # (clips, frames, K, 2): the training clip length


@dataclass(frozen=True)
class Preprocessing:
    """Model input settings: video fps, log-mel config and train statistics, training clip length (s), cleaning."""

    fps: float
    logmel: LogMelConfig
    stats: LogMelStats
    clip_seconds: float = 6.0
    clean: CleanParams = LEGACY_CLEAN_PARAMS
    pose_backend: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The checkpoint JSON's extra.preprocessing: plain numbers and lists."""
        recorded = {} if self.pose_backend is None else {"pose_backend": self.pose_backend}
        return {
            **recorded,
            "fps": self.fps,
            "clip_seconds": self.clip_seconds,
            "logmel": asdict(self.logmel),
            "logmel_mean": [float(v) for v in self.stats.mean],
            "logmel_std": [float(v) for v in self.stats.std],
            "clean": asdict(self.clean),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str) -> Preprocessing:
        """Inverse of `to_json`; `source` names the file in errors."""
        try:
            logmel = LogMelConfig(**known_fields(LogMelConfig, data["logmel"]))
            stats = LogMelStats(np.asarray(data["logmel_mean"], np.float32), np.asarray(data["logmel_std"], np.float32))
            clean = recorded_clean_params(data)
            pose_backend = data.get("pose_backend")
            result = cls(
                float(data["fps"]),
                logmel,
                stats,
                float(data.get("clip_seconds", 6.0)),
                clean,
                None if pose_backend is None else str(pose_backend),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UserInputError(f"{source}: malformed extra.preprocessing ({exc!r})") from exc
        result.check()
        return result

    @classmethod
    def from_dataset(cls, data_dir: str | Path) -> Preprocessing:
        """From a packed dataset directory (`alignnet split`): logmel_stats.npz and meta.json.

        meta.json gives fps, sample_rate, hop_length (and a full "logmel" config
        when it records one; other fields take LogMelConfig's defaults); the clip
        length is meta.json's clip_seconds or train_keypoints.npy's frames / fps;
        the cleaning is meta.json's "clean" (`LEGACY_CLEAN_PARAMS` when absent).
        """
        data_dir = Path(data_dir)
        try:
            stats = LogMelStats.load(data_dir / STATS_FILE)
            meta = json.loads((data_dir / META_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError) as exc:
            raise UserInputError(f"{data_dir}: not a packed dataset with {STATS_FILE} and {META_FILE} ({exc})") from exc
        fps = float(meta.get("fps", 30.0))
        logmel = LogMelConfig(
            **{
                "sample_rate": int(meta.get("sample_rate", LogMelConfig.sample_rate)),
                "hop_length": int(meta.get("hop_length", LogMelConfig.hop_length)),
                **known_fields(LogMelConfig, meta.get("logmel") or {}),
                "n_mels": len(stats.mean),
            }
        )
        clip_seconds = meta.get("clip_seconds")
        if clip_seconds is None:
            try:
                clip_seconds = np.load(data_dir / TRAIN_KEYPOINTS, mmap_mode="r").shape[1] / fps
            except (OSError, ValueError, IndexError):
                clip_seconds = 6.0
        try:
            clean = recorded_clean_params(meta)
        except (TypeError, ValueError, AttributeError) as exc:
            raise UserInputError(f"{data_dir / META_FILE}: malformed clean ({exc!r})") from exc
        pose_backend = meta.get("pose_backend")
        result = cls(
            fps, logmel, stats, float(clip_seconds), clean, None if pose_backend is None else str(pose_backend)
        )
        result.check()
        return result

    def mel_bands(self) -> MelBands:
        """Each log-mel bin's centre frequency and the value silence has there after normalisation (low-passes)."""
        frequencies = self.logmel.bin_frequencies().tolist()
        return MelBands(tuple(frequencies), tuple(normalised_silence(self.stats).tolist()))

    def check(self) -> None:
        if self.stats.mean.shape != (self.logmel.n_mels,) or self.stats.std.shape != (self.logmel.n_mels,):
            raise UserInputError(
                f"log-mel statistics have {self.stats.mean.shape} bins, the log-mel config {self.logmel.n_mels}"
            )


def load_preprocessing(checkpoint_meta: dict[str, Any], checkpoint_name: str, dataset: Path | None) -> Preprocessing:
    """The checkpoint's extra.preprocessing, else the packed dataset `dataset`; an error naming both otherwise.

    A given `dataset` wins over the checkpoint (to re-run with other statistics on purpose).
    """
    if dataset is not None:
        return Preprocessing.from_dataset(dataset)
    stored = (checkpoint_meta.get("extra") or {}).get("preprocessing")
    if stored is not None:
        return Preprocessing.from_json(stored, checkpoint_name)
    raise UserInputError(
        f"{checkpoint_name} does not record the log-mel normalisation the model was trained with "
        "(extra.preprocessing); pass --dataset DIR, the packed dataset of training (results/dataset/splits)"
    )
