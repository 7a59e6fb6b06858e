"""Training SyncNet: contrastive loss on matching and shifted (keypoints, log-mel) window pairs.

Samples are AlignNet's (`alignnet.training.data.DistortedDataset`: random monotonic
time warps, flips, SpecAugment), so both are trained on the same data. Every
video frame i of a sample is a window centred on it; its matching audio window
is centred on the frame's true source position p(i), a non-matching one on
p(i) +- s, s uniform in [min_shift, max_shift] seconds (mirrored to stay inside
the clip). With distances d between unit embeddings, the loss is the original
SyncNet's (Chung & Zisserman 2016):

    L = mean(d_match^2) + mean(max(margin - d_shifted, 0)^2)

Validation on the val split's saved warps (the same ones AlignNet validates on)
reports the loss, both mean distances, and the AFE / ITU accuracy of SyncNet
(global offset) and SyncNet+DTW. The checkpoint with the lowest validation loss
is kept as OUT/best.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from alignnet.baselines.dtw import SyncNetDTWAligner
from alignnet.baselines.offset import SyncNetOffsetAligner
from alignnet.baselines.syncnet import CONFIG_KEY, SyncNet, SyncNetConfig, cost_matrices
from alignnet.cli_options import option
from alignnet.correspondence import Timebase
from alignnet.distort.samples import SampleGenerator
from alignnet.metrics import afe, itu_accuracy
from alignnet.training.loop import Batch, train_model
from alignnet.training.run_settings import RunSettings

VAL_FIELDS = (
    "val_loss",
    "val_match_distance",
    "val_shifted_distance",
    "val_afe",
    "val_itu_accuracy",
    "val_dtw_afe",
    "val_dtw_itu_accuracy",
)
VAL_SHIFT_SEED = 1359  # the validation pairs' shifts, fixed across runs


@dataclass
class SyncNetTrainConfig(RunSettings):
    """Everything a SyncNet training run needs; `alignnet train-syncnet` fills it from its options."""

    epochs: int = 20
    lr_schedule: str = "constant"
    average_decay: float = 0.0
    margin: float = option(1.0, "contrastive margin (unit embeddings: 0-2)")
    min_shift_seconds: float = option(0.1, "smallest shift of a non-matching pair")
    max_shift_seconds: float = option(2.0, "largest shift of a non-matching pair")
    max_offset_seconds: float = option(2.0, "validation: SyncNet's sliding search range")
    dtw_band: float = option(0.3, "validation: SyncNet+DTW's band (share of the clip)")
    model: SyncNetConfig = field(default_factory=SyncNetConfig)
    samples: SampleGenerator = field(default_factory=SampleGenerator)


def shifted_positions(
    source: torch.Tensor, last: float, min_shift: float, max_shift: float, generator: torch.Generator
) -> torch.Tensor:
    """Non-matching source positions (B, n): source +- s, s uniform in [min_shift, max_shift] (frames).

    A shift that leaves [0, last] is mirrored to the other side, then clamped.
    """
    magnitude = min_shift + (max_shift - min_shift) * torch.rand(source.shape, generator=generator)
    sign = torch.where(torch.rand(source.shape, generator=generator) < 0.5, -1.0, 1.0)
    shifted = source + sign * magnitude
    outside = (shifted < 0) | (shifted > last)
    shifted = torch.where(outside, source - sign * magnitude, shifted)
    return shifted.clamp(0.0, last)


def contrastive_loss(
    video: torch.Tensor, matching: torch.Tensor, shifted: torch.Tensor, margin: float
) -> tuple[torch.Tensor, dict[str, float]]:
    """SyncNet's loss from unit embeddings (B, D, n) of video, matching audio and shifted audio.

    Returns the loss and the mean matching / shifted distances.
    """
    d_match = (video - matching).norm(dim=1)
    d_shifted = (video - shifted).norm(dim=1)
    loss = d_match.square().mean() + (margin - d_shifted).clamp(min=0).square().mean()
    return loss, {
        "match_distance": float(d_match.detach().mean()),
        "shifted_distance": float(d_shifted.detach().mean()),
    }


def pair_loss(
    model: SyncNet,
    batch: dict[str, torch.Tensor],
    timebase: Timebase,
    cfg: SyncNetTrainConfig,
    generator: torch.Generator,
    device: torch.device,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Contrastive loss of one batch of `DistortedDataset` / `FixedDataset` items."""
    source = batch["source"].double()
    last = float(timebase.coord_to_source_frame(1.0))
    shifted = shifted_positions(
        source, last, cfg.min_shift_seconds * timebase.fps, cfg.max_shift_seconds * timebase.fps, generator
    )
    coords = torch.stack([batch["target"].double(), timebase.source_frame_to_coord(shifted)], dim=1)  # (B, 2, n)
    features = model.audio_features(batch["audio"].to(device))
    audio = model.embed_audio(features, coords.flatten(1).float().to(device))  # (B, D, 2n)
    video = model.embed_video(batch["video"].to(device))
    n = video.shape[-1]
    return contrastive_loss(video, audio[..., :n], audio[..., n:], cfg.margin)


@torch.no_grad()
def validate_syncnet(
    model: SyncNet, loader: DataLoader, timebase: Timebase, cfg: SyncNetTrainConfig, device: torch.device
) -> dict[str, float]:
    """SyncNet's validation loss and distances, and the AFE and ITU accuracy of SyncNet and SyncNet+DTW."""
    model.eval()
    offset = SyncNetOffsetAligner(model, cfg.max_offset_seconds, device=device)
    dtw = SyncNetDTWAligner(model, cfg.dtw_band, device=device)
    generator = torch.Generator().manual_seed(VAL_SHIFT_SEED)
    losses, match, shifted, truths = [], [], [], []
    preds: dict[str, list[np.ndarray]] = {"offset": [], "dtw": []}
    for batch in loader:
        loss, parts = pair_loss(model, batch, timebase, cfg, generator, device)
        weight = len(batch["video"])
        losses.append(float(loss) * weight)
        match.append(parts["match_distance"] * weight)
        shifted.append(parts["shifted_distance"] * weight)
        costs = cost_matrices(model, batch["video"].to(device), batch["audio"].to(device), timebase)
        for cost in costs.double().cpu().numpy():
            preds["offset"].append(offset.from_cost(cost, timebase))
            preds["dtw"].append(dtw.from_cost(cost, timebase))
        truths.append(batch["source"].numpy().astype(np.float64))
    true = np.concatenate(truths)
    n = len(true)
    pred_offset, pred_dtw = np.stack(preds["offset"]), np.stack(preds["dtw"])
    return {
        "val_loss": sum(losses) / n,
        "val_match_distance": sum(match) / n,
        "val_shifted_distance": sum(shifted) / n,
        "val_afe": afe(pred_offset, true),
        "val_itu_accuracy": itu_accuracy(pred_offset, true, timebase.fps),
        "val_dtw_afe": afe(pred_dtw, true),
        "val_dtw_itu_accuracy": itu_accuracy(pred_dtw, true, timebase.fps),
    }


@dataclass
class SyncNetTask:
    """SyncNet's parts of a training run (`alignnet.training.loop.ModelTask`): one process, best by val loss."""

    settings: SyncNetTrainConfig
    name: str = "SyncNet"
    best_metric: str = "val_loss"
    metric_fields: tuple[str, ...] = ("train_loss", *VAL_FIELDS)
    distributed: bool = False
    shifts: torch.Generator = field(init=False)  # the training pairs' shifts (restarted from the seed on --resume)

    def __post_init__(self) -> None:
        self.shifts = torch.Generator().manual_seed(self.settings.seed)

    def samples(self) -> SampleGenerator:
        return dataclasses.replace(self.settings.samples, motion=True)

    def build_model(self) -> nn.Module:
        return SyncNet(self.settings.model)

    def loss(self, model: nn.Module, batch: Batch, timebase: Timebase, device: torch.device) -> torch.Tensor:
        assert isinstance(model, SyncNet)
        return pair_loss(model, batch, timebase, self.settings, self.shifts, device)[0]

    def validate(
        self, model: nn.Module, loader: DataLoader, timebase: Timebase, device: torch.device
    ) -> dict[str, float]:
        assert isinstance(model, SyncNet)
        return validate_syncnet(model, loader, timebase, self.settings, device)

    def checkpoint_extra(self) -> dict[str, Any]:
        return {CONFIG_KEY: self.settings.model.to_dict(), "seed": self.settings.seed, "margin": self.settings.margin}

    def fits_checkpoint(self, meta: dict[str, Any]) -> bool:
        saved = meta.get("extra", {}).get(CONFIG_KEY)
        return saved is None or saved == self.settings.model.to_dict()

    def epoch_scalars(self, model: nn.Module) -> dict[str, float]:
        return {}

    def describe(self, metrics: dict[str, float]) -> str:
        return (
            f"train loss {metrics['train_loss']:.4f}, val loss {metrics['val_loss']:.4f}; "
            f"SyncNet AFE {metrics['val_afe']:.2f} / ITU {100 * metrics['val_itu_accuracy']:.1f} %; "
            f"SyncNet+DTW AFE {metrics['val_dtw_afe']:.2f} / ITU {100 * metrics['val_dtw_itu_accuracy']:.1f} %"
        )


def train_syncnet(cfg: SyncNetTrainConfig) -> dict[str, Any]:
    """Train SyncNet (`alignnet.training.loop.train_model`); writes OUT/{best,last}.*, metrics.csv, tb/.

    Returns a summary (epochs done, best validation loss, minutes).
    """
    return train_model(SyncNetTask(cfg))
