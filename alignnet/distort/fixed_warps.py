"""The fixed warps of the validation and test clips: drawn once per clip from a seed, saved to an .npz
(clip_ids, positions, seed) that evaluation reads back."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from alignnet.atomic import atomic_output
from alignnet.distort.warps import WarpConfig, random_warp
from alignnet.errors import UserInputError


def make_fixed_warps(
    clip_ids: Sequence[str], n_out: int, n_src: int, seed: int, config: WarpConfig | None = None
) -> np.ndarray:
    """(n_clips, n_out) source positions, clip i drawn from default_rng([seed, i]) (config: the default WarpConfig)."""
    config = config or WarpConfig()
    return np.stack([random_warp(np.random.default_rng([seed, i]), n_out, n_src, config) for i in range(len(clip_ids))])


def save_fixed_warps(path: str | Path, clip_ids: Sequence[str], positions: np.ndarray, seed: int) -> None:
    """Write the warps of a list of clips to an .npz (clip_ids, positions, seed)."""
    if len(clip_ids) != len(positions):
        raise ValueError(f"{path}: {len(clip_ids)} clip ids but {len(positions)} warps")
    with atomic_output(path) as tmp:
        np.savez(tmp, clip_ids=np.asarray(clip_ids, dtype=str), positions=positions, seed=np.int64(seed))


def load_fixed_warps(path: str | Path, clip_ids: Sequence[str] | None = None) -> np.ndarray:
    """Read saved warps (n_clips, n_out); checks they belong to `clip_ids` when given."""
    try:
        with np.load(path, allow_pickle=False) as data:
            saved_ids, positions = data["clip_ids"].tolist(), data["positions"]
    except (OSError, KeyError, ValueError) as exc:
        raise UserInputError(f"{path}: not a saved warp file ({exc})") from exc
    if clip_ids is not None and list(clip_ids) != saved_ids:
        raise UserInputError(f"{path}: saved warps are for other clips than the split's index")
    return positions
