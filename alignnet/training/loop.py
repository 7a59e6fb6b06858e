"""The training loop: Adam, online distortions, per-epoch validation, checkpoints, logs."""

from __future__ import annotations

import csv
import dataclasses
import logging
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from alignnet.atomic import atomic_output
from alignnet.checkpoint import load_checkpoint, read_meta, save_checkpoint
from alignnet.correspondence import Timebase
from alignnet.distort import SampleGenerator, load_fixed_warps, make_fixed_warps, save_fixed_warps
from alignnet.errors import UserInputError
from alignnet.losses import DEFAULT_LAMBDAS, alignment_loss
from alignnet.metrics import afe, itu_accuracy
from alignnet.models.alignnet import AlignNet, AlignNetConfig, AlignNetOutput
from alignnet.training.data import DistortedDataset, FixedDataset, PackedSplit, read_data_meta

log = logging.getLogger(__name__)

VAL_WARP_SEED = 1359  # fixed, independent of --seed, so every run validates on the same samples
CSV_FIELDS = ("epoch", "train_loss", "val_loss", "val_afe", "val_itu_accuracy", "seconds", "steps")


@dataclass
class TrainConfig:
    """Everything a training run needs; `alignnet train` fills it from its options."""

    data: Path
    out: Path
    epochs: int = 30
    batch_size: int = 32
    lr: float = 3e-4
    seed: int = 0
    device: str = "auto"
    workers: int = 0
    steps_per_epoch: int | None = None  # optimiser steps per epoch; None = one pass over the train clips
    threads: int | None = None  # torch CPU threads; None = torch's default
    max_minutes: float | None = None
    resume: bool = False
    model: AlignNetConfig = field(default_factory=AlignNetConfig)
    samples: SampleGenerator = field(default_factory=SampleGenerator)
    lambdas: tuple[float, ...] = DEFAULT_LAMBDAS
    mu: float = 1.0


def resolve_device(name: str) -> torch.device:
    """'auto' -> cuda when available, else cpu; 'cuda' without a GPU is a user error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserInputError("--device cuda: no CUDA device available")
    if name not in ("cpu", "cuda"):
        raise UserInputError(f"--device {name}: choose auto, cpu or cuda")
    return torch.device(name)


def _autocast(device: torch.device) -> torch.autocast:
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")


@torch.no_grad()
def evaluate(
    model: AlignNet, loader: DataLoader, timebase: Timebase, device: torch.device, mu: float = 1.0
) -> dict[str, float]:
    """Validation loss, AFE (frames) and ITU accuracy (share) over a loader of fixed samples."""
    model.eval()
    preds, truths, losses = [], [], []
    for batch in loader:
        with _autocast(device):
            output = model(batch["video"].to(device), batch["audio"].to(device), return_levels=True)
        assert isinstance(output, AlignNetOutput)
        output = AlignNetOutput(output.correspondence.float(), [d.float() for d in output.levels], output.strides)
        loss, _ = alignment_loss(output, batch["target"].to(device), mu=mu)
        losses.append(float(loss) * len(batch["video"]))
        preds.append(timebase.coord_to_source_frame(output.correspondence.cpu().numpy().astype(np.float64)))
        truths.append(batch["source"].numpy().astype(np.float64))
    pred, true = np.concatenate(preds), np.concatenate(truths)
    return {
        "val_loss": sum(losses) / len(pred),
        "val_afe": afe(pred, true),
        "val_itu_accuracy": itu_accuracy(pred, true, timebase.fps),
    }


def _validation_warps(cfg: TrainConfig, split: PackedSplit) -> np.ndarray:
    """Saved val warps: DIR/val_warps.npz if the split stage wrote one, else OUT/val_warps.npz (made once)."""
    for path in (cfg.data / "val_warps.npz", cfg.out / "val_warps.npz"):
        if path.exists():
            return load_fixed_warps(path, split.clip_ids)
    n_src = split.keypoints.shape[1]
    positions = make_fixed_warps(split.clip_ids, cfg.samples.n_out or n_src, n_src, VAL_WARP_SEED, cfg.samples.warp)
    save_fixed_warps(cfg.out / "val_warps.npz", split.clip_ids, positions, VAL_WARP_SEED)
    return positions


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with atomic_output(path) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def _read_csv(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Train, validating after every epoch; writes OUT/{best,last}.*, metrics.csv, tb/. Returns a summary."""
    started = time.monotonic()
    deadline = started + cfg.max_minutes * 60 if cfg.max_minutes else math.inf
    device = resolve_device(cfg.device)
    cfg.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)

    data_meta = read_data_meta(cfg.data)
    train_split, val_split = PackedSplit.load(cfg.data, "train"), PackedSplit.load(cfg.data, "val")
    if len(train_split) == 0 or len(val_split) == 0:
        raise UserInputError(f"{cfg.data}: the train and val splits need at least one clip each")
    samples = dataclasses.replace(cfg.samples, motion=cfg.model.motion_inputs)

    def timebase(split: PackedSplit) -> Timebase:
        return Timebase.from_meta(
            data_meta["fps"], data_meta["sample_rate"], data_meta["hop_length"], split.logmel.shape[-1]
        )

    samples_per_epoch = cfg.steps_per_epoch * cfg.batch_size if cfg.steps_per_epoch else None
    train_set = DistortedDataset(train_split, timebase(train_split), samples, cfg.seed, samples_per_epoch)
    val_set = FixedDataset(val_split, timebase(val_split), samples, _validation_warps(cfg, val_split))
    val_loader = DataLoader(val_set, batch_size=cfg.batch_size, num_workers=cfg.workers)

    model = AlignNet(cfg.model).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    start_epoch, best_afe = 0, math.inf
    rows = _read_csv(cfg.out / "metrics.csv") if cfg.resume else []
    if cfg.resume:
        last = cfg.out / "last"
        saved = read_meta(last).get("model_config")
        if saved is not None and AlignNetConfig.from_dict(saved) != cfg.model:
            raise UserInputError(f"{last}.json: --resume with different model options than the saved run")
        meta = load_checkpoint(last, model, optimizer, restore_rng=True)
        start_epoch, best_afe = meta["epoch"] + 1, meta["extra"].get("best_afe", math.inf)
        rows = [r for r in rows if int(r["epoch"]) < start_epoch]
        log.info("resuming from %s.json at epoch %d", last, start_epoch)

    writer = SummaryWriter(str(cfg.out / "tb"))
    n_params = sum(p.numel() for p in model.parameters())
    log.info("training on %s: %d train / %d val clips, %d parameters", device, len(train_set), len(val_set), n_params)
    stopped_early = False
    epoch = start_epoch - 1
    for epoch in range(start_epoch, cfg.epochs):
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
        for batch in tqdm(loader, desc=f"epoch {epoch}", file=sys.stderr, leave=False, dynamic_ncols=True):
            with _autocast(device):
                output = model(batch["video"].to(device), batch["audio"].to(device), return_levels=True)
            assert isinstance(output, AlignNetOutput)
            output = AlignNetOutput(output.correspondence.float(), [d.float() for d in output.levels], output.strides)
            loss, parts = alignment_loss(output, batch["target"].to(device), cfg.lambdas, cfg.mu)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total, steps = total + float(loss.detach()), steps + 1
            writer.add_scalar("train/loss_step", float(loss.detach()), epoch * len(loader) + steps)
            if time.monotonic() > deadline:
                stopped_early = True
                break
        metrics = {"train_loss": total / max(steps, 1), **evaluate(model, val_loader, val_set.timebase, device, cfg.mu)}
        for key, value in metrics.items():
            writer.add_scalar(key.replace("_", "/", 1), value, epoch)
        if model.keypoint_attention is not None:
            for k, w in enumerate(model.keypoint_weights().tolist()):
                writer.add_scalar(f"keypoint_attention/{k:02d}", w, epoch)
        rows.append({"epoch": epoch, **metrics, "seconds": round(time.monotonic() - epoch_start, 2), "steps": steps})
        if metrics["val_afe"] < best_afe:
            best_afe = metrics["val_afe"]
            save_checkpoint(cfg.out / "best", model, epoch=epoch, metrics=metrics)
        save_checkpoint(
            cfg.out / "last", model, epoch=epoch, metrics=metrics, optimizer=optimizer,
            extra={"best_afe": best_afe, "seed": cfg.seed},
        )  # fmt: skip
        _write_csv(cfg.out / "metrics.csv", rows)
        writer.flush()
        log.info(
            "epoch %d: train loss %.4f, val AFE %.3f frames, ITU accuracy %.1f %%",
            epoch, metrics["train_loss"], metrics["val_afe"], 100 * metrics["val_itu_accuracy"],
        )  # fmt: skip
        if stopped_early:
            log.info("stopping: --max-minutes %.1f reached", cfg.max_minutes)
            break
    writer.close()
    return {
        "epochs_done": epoch + 1,
        "best_val_afe": best_afe,
        "stopped_early": stopped_early,
        "minutes": (time.monotonic() - started) / 60,
    }
