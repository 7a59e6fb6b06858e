"""The training loop: Adam, online distortions, per-epoch validation, checkpoints, logs.

Under torchrun (WORLD_SIZE > 1) it trains with DistributedDataParallel (see
alignnet.training.distributed): the same global batches as one process, each
process computing 1/N of every batch; rank 0 alone validates and writes files.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import math
import shutil
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
from alignnet.checkpoint import CheckpointMismatch, load_checkpoint, read_meta, save_checkpoint, unwrap
from alignnet.correspondence import Timebase
from alignnet.data.preprocessing import STATS_FILE, Preprocessing
from alignnet.devices import resolve_device
from alignnet.distort import SampleGenerator
from alignnet.errors import UserInputError
from alignnet.losses import DEFAULT_LAMBDAS, alignment_loss
from alignnet.metrics import afe, itu_accuracy
from alignnet.models.alignnet import AlignNet, AlignNetConfig, AlignNetOutput
from alignnet.training import distributed
from alignnet.training.averaging import WeightAverage
from alignnet.training.data import DistortedDataset, load_training_data
from alignnet.training.optimizer import adam
from alignnet.training.run_settings import RunSettings
from alignnet.training.schedule import BudgetFit, RunPlan, lr_factor

log = logging.getLogger(__name__)

CSV_FIELDS = ("epoch", "train_loss", "val_loss", "val_afe", "val_itu_accuracy", "seconds", "steps")


@dataclass
class TrainConfig(RunSettings):
    """Everything a training run needs; `alignnet train` fills it from its options."""

    resume: bool = False
    model: AlignNetConfig = field(default_factory=AlignNetConfig)
    samples: SampleGenerator = field(default_factory=SampleGenerator)  # its motion and scaling follow `model`
    lambdas: tuple[float, ...] = DEFAULT_LAMBDAS
    mu: float = 1.0
    matching: float = 0.3  # weight of the matching loss (`alignnet.losses.matching_loss`); 0 = the paper's loss
    lr_schedule: str = "cosine"  # `alignnet.training.schedule`: cosine decay from `lr` to 0, or "constant" (paper)
    average_decay: float = 0.999  # > 0: validate and keep as best a moving average of the weights (`averaging`)


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
        loss, _ = alignment_loss(output.float(), batch["target"].to(device), mu=mu)
        losses.append(float(loss) * len(batch["video"]))
        preds.append(timebase.coord_to_source_frame(output.correspondence.cpu().numpy().astype(np.float64)))
        truths.append(batch["source"].numpy().astype(np.float64))
    pred, true = np.concatenate(preds), np.concatenate(truths)
    return {
        "val_loss": sum(losses) / len(pred),
        "val_afe": afe(pred, true),
        "val_itu_accuracy": itu_accuracy(pred, true, timebase.fps),
    }


def _set_lr(optimizer: torch.optim.Optimizer, cfg: TrainConfig, progress: float) -> float:
    """Set (and return) the learning rate of `cfg.lr_schedule` at `progress` of the run."""
    lr = cfg.lr * lr_factor(cfg.lr_schedule, progress)
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr


def _epoch_loader(
    train_set: DistortedDataset, cfg: TrainConfig, ctx: distributed.Distributed, batch_size: int, epoch: int
) -> DataLoader:
    """This process's share of the epoch's global batches (call train_set.set_epoch(epoch) before iterating)."""
    sampler = distributed.GlobalBatchSampler(
        len(train_set), cfg.batch_size, cfg.seed * 100_003 + epoch, ctx.rank, ctx.world_size,
        drop_last=ctx.enabled or len(train_set) > cfg.batch_size,
    )  # fmt: skip
    return DataLoader(train_set, batch_size=batch_size, sampler=sampler, num_workers=cfg.workers)


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


def _save_epoch(
    cfg: TrainConfig,
    model: AlignNet,
    scored: AlignNet,
    optimizer: torch.optim.Optimizer,
    writer: SummaryWriter,
    rows: list[dict[str, Any]],
    epoch: int,
    metrics: dict[str, float],
    steps: int,
    epoch_start: float,
    best_afe: float,
    preprocessing: dict[str, Any] | None,
    steps_done: int,
) -> float:
    """Log one epoch (TensorBoard, metrics.csv, log line) and write its checkpoints; returns the best AFE so far.

    `scored` is the model validated (`model` itself, or its weight average): the best checkpoint holds it, the
    last one `model` and the optimiser. Both checkpoints record `preprocessing` (see `_preprocessing`) so that
    `alignnet align` needs no --dataset.
    """
    for key, value in metrics.items():
        writer.add_scalar(key.replace("_", "/", 1), value, epoch)
    if scored.keypoint_attention is not None:
        for k, w in enumerate(scored.keypoint_weights().tolist()):
            writer.add_scalar(f"keypoint_attention/{k:02d}", w, epoch)
    rows.append({"epoch": epoch, **metrics, "seconds": round(time.monotonic() - epoch_start, 2), "steps": steps})
    if metrics["val_afe"] < best_afe:
        best_afe = metrics["val_afe"]
        save_checkpoint(
            cfg.out / "best", scored, epoch=epoch, metrics=metrics, extra={"preprocessing": preprocessing},
            step=steps_done,
        )  # fmt: skip
    save_checkpoint(
        cfg.out / "last", model, epoch=epoch, metrics=metrics, optimizer=optimizer, step=steps_done,
        extra={"best_afe": best_afe, "seed": cfg.seed, "preprocessing": preprocessing},
    )  # fmt: skip
    _write_csv(cfg.out / "metrics.csv", rows)
    writer.flush()
    log.info(
        "epoch %d: train loss %.4f, val AFE %.3f frames, ITU accuracy %.1f %%",
        epoch, metrics["train_loss"], metrics["val_afe"], 100 * metrics["val_itu_accuracy"],
    )  # fmt: skip
    return best_afe


def _has_checkpoint(last: Path, ctx: distributed.Distributed) -> bool:
    """Whether --resume has a checkpoint to resume from; says so when there is none (the run starts fresh)."""
    if last.with_name(last.name + ".json").exists():
        return True
    if ctx.is_main:
        log.warning("--resume: no checkpoint in %s yet (no %s.json): starting fresh", last.parent, last.name)
    return False


def _resume_average(average: WeightAverage, stem: Path, epoch: int, ctx: distributed.Distributed) -> None:
    """Load the weight average saved with the resumed epoch; else (none, another epoch, its files cut apart) it
    starts again from the resumed weights, and the log says why."""
    why = None
    if not stem.with_name(stem.name + ".json").exists():
        why = "none was saved"
    elif (saved := read_meta(stem).get("epoch")) != epoch:
        why = f"{stem}.json holds epoch {saved}, the resumed checkpoint epoch {epoch}"
    else:
        try:
            average.load(stem)
        except CheckpointMismatch as exc:
            why = str(exc)
    if why is not None and ctx.is_main:
        log.warning("--resume: the weight average starts again from the resumed weights (%s)", why)


def _preprocessing(data_dir: Path) -> dict[str, Any] | None:
    """The dataset's log-mel settings and train statistics as checkpoint JSON; None when it has no statistics."""
    return Preprocessing.from_dataset(data_dir).to_json() if (data_dir / STATS_FILE).exists() else None


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Train, validating after every epoch; writes OUT/{best,last}.*, metrics.csv, tb/. Returns a summary.

    Under torchrun every process calls this; cfg.batch_size is the global batch.
    """
    ctx = distributed.setup(resolve_device(cfg.device))
    summary = _train(cfg, ctx)
    distributed.cleanup(ctx)  # not on errors: the failing process exits and torchrun stops the others
    return summary


def _train(cfg: TrainConfig, ctx: distributed.Distributed) -> dict[str, Any]:
    started = time.monotonic()
    deadline = started + cfg.max_minutes * 60 if cfg.max_minutes else math.inf
    device = ctx.device
    batch_size = distributed.per_process_batch(cfg.batch_size, ctx)
    cfg.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)

    samples = dataclasses.replace(cfg.samples, motion=cfg.model.motion_inputs, scaling=cfg.model.input_scaling)
    samples_per_epoch = cfg.steps_per_epoch * cfg.batch_size if cfg.steps_per_epoch else None
    data = load_training_data(cfg.data, cfg.out, samples, cfg.seed, samples_per_epoch, cfg.val_warps_per_clip)
    train_set, val_set = data.train, data.val
    preprocessing = _preprocessing(cfg.data)  # read once, written into every checkpoint
    if ctx.enabled and len(train_set) < cfg.batch_size:
        raise UserInputError(f"--batch-size {cfg.batch_size}: more than the {len(train_set)} samples of an epoch")
    if ctx.is_main:  # validation runs on rank 0 only
        val_loader = DataLoader(val_set, batch_size=cfg.batch_size, num_workers=cfg.workers)

    module = AlignNet(cfg.model).to(device)
    optimizer = adam(module.parameters(), cfg.lr)
    start_epoch, best_afe = 0, math.inf
    last = cfg.out / "last"
    resume = cfg.resume and _has_checkpoint(last, ctx)
    rows = _read_csv(cfg.out / "metrics.csv") if resume else []
    if resume:
        saved = read_meta(last).get("model_config")
        if saved is not None and AlignNetConfig.from_dict(saved) != cfg.model:
            raise UserInputError(f"{last}.json: --resume with different model options than the saved run")
        meta = load_checkpoint(last, module, optimizer, restore_rng=True)
        start_epoch, best_afe = meta["epoch"] + 1, meta["extra"].get("best_afe", math.inf)
        rows = [r for r in rows if int(r["epoch"]) < start_epoch]
        if ctx.is_main:
            log.info("resuming from %s.json at epoch %d", last, start_epoch)
    model = distributed.wrap(module, ctx)  # DDP with synchronised BatchNorm under torchrun, else `module`
    module = unwrap(model)
    average = WeightAverage(module, cfg.average_decay) if cfg.average_decay else None
    if average is not None and resume:
        _resume_average(average, cfg.out / "average", start_epoch - 1, ctx)

    if ctx.is_main and not resume and (cfg.out / "tb").is_dir():  # an earlier run's events (one killed, say)
        shutil.rmtree(cfg.out / "tb")  # would mix into this run's curves, as its checkpoints are replaced
    writer = SummaryWriter(str(cfg.out / "tb")) if ctx.is_main else None
    n_params = sum(p.numel() for p in module.parameters())
    if ctx.is_main:
        log.info(
            "training on %s x %d: %d train / %d val samples per epoch, %d parameters",
            device, ctx.world_size, len(train_set), len(val_set), n_params,
        )  # fmt: skip
    stopped_early = False
    epoch = start_epoch - 1
    steps_per_epoch = len(_epoch_loader(train_set, cfg, ctx, batch_size, start_epoch))
    planned_steps = cfg.epochs * steps_per_epoch
    budget = BudgetFit(RunPlan(planned_steps, cfg.max_minutes * 60 if cfg.max_minutes else None))
    steps_done = start_epoch * steps_per_epoch  # a resumed run picks the schedule up where it stopped
    _set_lr(optimizer, cfg, budget.plan.progress(steps_done))
    for epoch in range(start_epoch, cfg.epochs):
        epoch_start = time.monotonic()
        train_set.set_epoch(epoch)
        loader = _epoch_loader(train_set, cfg, ctx, batch_size, epoch)
        model.train()
        total, steps = 0.0, 0
        progress = tqdm(
            loader, desc=f"epoch {epoch}", file=sys.stderr, leave=False, dynamic_ncols=True,
            disable=not (ctx.is_main and cfg.progress),
        )
        for batch in progress:
            with _autocast(device):
                output = model(batch["video"].to(device), batch["audio"].to(device), return_levels=True)
            assert isinstance(output, AlignNetOutput)
            loss, _ = alignment_loss(output.float(), batch["target"].to(device), cfg.lambdas, cfg.mu, cfg.matching)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if average is not None:
                average.update(module)
            now = time.monotonic()
            step_loss, stop = ctx.reduce_step(float(loss.detach()), now > deadline)
            total, steps, steps_done = total + step_loss, steps + 1, steps_done + 1
            plan = budget.plan
            fitted_end = plan.total_steps < budget.first.total_steps and steps_done >= plan.total_steps
            stop = stop or fitted_end  # a plan fitted to the time budget ends early
            lr = _set_lr(optimizer, cfg, plan.progress(steps_done))
            if writer is not None:
                writer.add_scalar("train/loss_step", step_loss, epoch * len(loader) + steps)
                writer.add_scalar("train/lr", lr, epoch * len(loader) + steps)
            if stop:  # the same decision on every process
                stopped_early = True
                break
        if ctx.is_main:
            scored = module if average is None else average.module
            val_metrics = evaluate(scored, val_loader, val_set.timebase, device, cfg.mu)
            metrics = {"train_loss": total / max(steps, 1), **val_metrics}
            if average is not None:
                average.save(cfg.out / "average", epoch, steps_done)
            best_afe = _save_epoch(
                cfg, module, scored, optimizer, writer, rows, epoch, metrics, steps, epoch_start, best_afe,
                preprocessing, steps_done,
            )  # fmt: skip
        ctx.barrier()
        if not stopped_early and budget.fitting:  # the same on every process
            now = time.monotonic()
            epoch_seconds, seconds_used = ctx.mean(now - epoch_start, now - started)  # one collective
            if budget.after_epoch(steps_done, steps, epoch_seconds, seconds_used) and ctx.is_main:
                log.log(
                    logging.INFO if epoch == start_epoch else logging.DEBUG,
                    "--max-minutes %.1f holds about %d of the %d planned steps: the learning rate schedule ends there",
                    cfg.max_minutes, budget.plan.total_steps, budget.first.total_steps,
                )  # fmt: skip
            if budget.fixed and budget.plan != budget.first and ctx.is_main:  # fixed by this epoch
                log.info("half of --max-minutes used: the plan stays at %d steps", budget.plan.total_steps)
        if stopped_early:
            if ctx.is_main and fitted_end:
                log.info("stopping: the %d steps that --max-minutes %.1f holds are done", steps_done, cfg.max_minutes)
            elif ctx.is_main:
                log.info("stopping: --max-minutes %.1f reached", cfg.max_minutes)
            break
    if writer is not None:
        writer.close()
    return {
        "epochs_done": epoch + 1,
        "best_val_afe": best_afe,
        "stopped_early": stopped_early,
        "minutes": (time.monotonic() - started) / 60,
    }
