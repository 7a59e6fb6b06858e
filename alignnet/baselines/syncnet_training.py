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
import logging
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from alignnet.atomic import atomic_output
from alignnet.baselines.dtw import SyncNetDTWAligner
from alignnet.baselines.offset import SyncNetOffsetAligner
from alignnet.baselines.syncnet import CONFIG_KEY, SyncNet, SyncNetConfig, cost_matrices
from alignnet.checkpoint import save_checkpoint
from alignnet.correspondence import Timebase
from alignnet.devices import resolve_device
from alignnet.distort.samples import SampleGenerator
from alignnet.metrics import afe, itu_accuracy
from alignnet.training.data import load_training_data
from alignnet.training.optimizer import adam
from alignnet.training.run_settings import RunSettings

log = logging.getLogger(__name__)

CSV_FIELDS = (
    "epoch", "train_loss", "val_loss", "val_match_distance", "val_shifted_distance",
    "val_afe", "val_itu_accuracy", "val_dtw_afe", "val_dtw_itu_accuracy", "seconds", "steps",
)  # fmt: skip
VAL_SHIFT_SEED = 1359  # the validation pairs' shifts, fixed across runs


@dataclass
class SyncNetTrainConfig(RunSettings):
    """Everything a SyncNet training run needs; `alignnet train-syncnet` fills it from its options."""

    epochs: int = 20
    steps_per_epoch: int | None = 100  # None = one pass over the train clips
    margin: float = 1.0
    min_shift_seconds: float = 0.1
    max_shift_seconds: float = 2.0
    max_offset_seconds: float = 2.0  # SyncNet's sliding search range in validation
    dtw_band: float = 0.3  # SyncNet+DTW's band in validation
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
def evaluate(
    model: SyncNet, loader: DataLoader, timebase: Timebase, cfg: SyncNetTrainConfig, device: torch.device
) -> dict[str, float]:
    """Validation loss and distances, AFE and ITU accuracy of SyncNet and SyncNet+DTW."""
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


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with atomic_output(path) as tmp:
        pd.DataFrame(rows, columns=list(CSV_FIELDS)).to_csv(tmp, index=False)


def train_syncnet(cfg: SyncNetTrainConfig) -> dict[str, Any]:
    """Train, validating after every epoch; writes OUT/{best,last}.{safetensors,json}, metrics.csv.

    Returns a summary (epochs done, best validation loss and its metrics, minutes).
    """
    started = time.monotonic()
    deadline = started + cfg.max_minutes * 60 if cfg.max_minutes else math.inf
    device = resolve_device(cfg.device)
    cfg.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)

    samples = dataclasses.replace(cfg.samples, motion=True)
    samples_per_epoch = cfg.steps_per_epoch * cfg.batch_size if cfg.steps_per_epoch else None
    data = load_training_data(cfg.data, cfg.out, samples, cfg.seed, samples_per_epoch, cfg.val_warps_per_clip)
    train_set, val_set = data.train, data.val
    val_loader = DataLoader(val_set, batch_size=cfg.batch_size, num_workers=cfg.workers)

    model = SyncNet(cfg.model).to(device)
    optimizer = adam(model.parameters(), cfg.lr)
    shifts = torch.Generator().manual_seed(cfg.seed)
    extra = {CONFIG_KEY: cfg.model.to_dict(), "seed": cfg.seed, "margin": cfg.margin}
    log.info("training SyncNet on %s: %d train / %d val samples per epoch", device, len(train_set), len(val_set))
    rows: list[dict[str, Any]] = []
    best: dict[str, float] = {"val_loss": math.inf}
    stopped_early = False
    epoch = -1
    for epoch in range(cfg.epochs):
        epoch_start = time.monotonic()
        train_set.set_epoch(epoch)
        loader = DataLoader(
            train_set,
            batch_size=cfg.batch_size,
            shuffle=True,
            drop_last=len(train_set) > cfg.batch_size,
            num_workers=cfg.workers,
            generator=torch.Generator().manual_seed(cfg.seed * 100_003 + epoch),
        )
        model.train()
        total, steps = 0.0, 0
        for batch in tqdm(
            loader, desc=f"epoch {epoch}", file=sys.stderr, leave=False, dynamic_ncols=True, disable=not cfg.progress
        ):
            loss, _ = pair_loss(model, batch, train_set.timebase, cfg, shifts, device)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total, steps = total + float(loss.detach()), steps + 1
            if time.monotonic() > deadline:
                stopped_early = True
                break
        metrics = {"train_loss": total / max(steps, 1), **evaluate(model, val_loader, val_set.timebase, cfg, device)}
        rows.append({"epoch": epoch, **metrics, "seconds": round(time.monotonic() - epoch_start, 2), "steps": steps})
        if metrics["val_loss"] < best["val_loss"]:
            best = metrics
            save_checkpoint(cfg.out / "best", model, epoch=epoch, metrics=metrics, extra=extra)
        save_checkpoint(cfg.out / "last", model, epoch=epoch, metrics=metrics, optimizer=optimizer, extra=extra)
        _write_csv(cfg.out / "metrics.csv", rows)
        log.info(
            "epoch %d: train loss %.4f, val loss %.4f; SyncNet AFE %.2f / ITU %.1f %%; SyncNet+DTW AFE %.2f / ITU %.1f %%",
            epoch, metrics["train_loss"], metrics["val_loss"], metrics["val_afe"], 100 * metrics["val_itu_accuracy"],
            metrics["val_dtw_afe"], 100 * metrics["val_dtw_itu_accuracy"],
        )  # fmt: skip
        if stopped_early:
            log.info("stopping: --max-minutes %.1f reached", cfg.max_minutes)
            break
    return {
        "epochs_done": epoch + 1,
        "best": best,
        "stopped_early": stopped_early,
        "minutes": (time.monotonic() - started) / 60,
    }
