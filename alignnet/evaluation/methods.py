"""Build the aligners an evaluation compares from checkpoint stems; baselines are imported only when asked for."""

from __future__ import annotations

from pathlib import Path

import torch

from alignnet.alignment_methods import Aligner, AlignNetAligner
from alignnet.checkpoint import load_model


def alignnet_aligner(stem: str | Path, device: torch.device) -> Aligner:
    """AlignNet from checkpoint STEM (STEM.safetensors + STEM.json)."""
    model, _ = load_model(stem, map_location=device)
    return AlignNetAligner(model, device)


def syncnet_aligners(stem: str | Path, band: float | None = None) -> list[Aligner]:
    """SyncNet (one global offset) and SyncNet+DTW from one SyncNet checkpoint STEM."""
    from alignnet.baselines import SyncNetDTWAligner, SyncNetOffsetAligner, load_syncnet

    model = load_syncnet(stem)
    dtw = SyncNetDTWAligner(model) if band is None else SyncNetDTWAligner(model, band=band)
    return [SyncNetOffsetAligner(model), dtw]


def onset_floor_aligner(band: float | None = None) -> Aligner:
    """The training-free floor: onset strength against keypoint motion energy, aligned by DTW."""
    from alignnet.baselines import OnsetFloorAligner

    return OnsetFloorAligner() if band is None else OnsetFloorAligner(band=band)
