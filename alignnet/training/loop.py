"""The one training loop of every model (AlignNet, SyncNet): Adam, online distortions, per-epoch validation,
checkpoints, resume, time budget, weight average, logs.

What differs between models is a `ModelTask` (`alignnet.training.alignnet_training.AlignNetTask`,
`alignnet.baselines.syncnet_training.SyncNetTask`): its samples, its model, the loss of a batch, the
validation metrics, which of them picks the best checkpoint, and what a checkpoint records beside the
weights. Everything else is here, once.

Under torchrun (WORLD_SIZE > 1) a task that allows it trains with DistributedDataParallel (see
alignnet.training.distributed): the same global batches as one process, each process computing 1/N of
every batch; rank 0 alone validates and writes files.
"""

from __future__ import annotations

import csv
import logging
import math
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from alignnet.atomic import atomic_output
from alignnet.checkpoint import CheckpointMismatch, load_checkpoint, read_meta, save_checkpoint, unwrap
from alignnet.correspondence import Timebase
from alignnet.devices import resolve_device
from alignnet.distort.samples import SampleGenerator
from alignnet.errors import UserInputError
from alignnet.training import distributed
from alignnet.training.averaging import WeightAverage
from alignnet.training.data import DistortedDataset, load_training_data
from alignnet.training.optimizer import adam
from alignnet.training.run_settings import RunSettings
from alignnet.training.schedule import BudgetFit, RunPlan, lr_factor

log = logging.getLogger(__name__)

Batch = dict[str, torch.Tensor]


class ModelTask(Protocol):
    """The model-specific parts of a training run; `train_model` does the rest."""

    name: str  # for the log, e.g. "AlignNet"
    settings: RunSettings
    best_metric: str  # the validation metric (lower is better) that picks OUT/best, e.g. "val_afe"
    metric_fields: tuple[str, ...]  # metrics.csv's columns after epoch: train_loss, then `validate`'s keys
    distributed: bool  # trains under torchrun (GlobalBatchSampler); False: one process, a seeded DataLoader shuffle

    def samples(self) -> SampleGenerator:
        """The distortions of training and validation samples."""
        ...

    def build_model(self) -> nn.Module:
        """A fresh model (after the global seed is set)."""
        ...

    def loss(self, model: nn.Module, batch: Batch, timebase: Timebase, device: torch.device) -> torch.Tensor:
        """The training loss of one batch."""
        ...

    def validate(
        self, model: nn.Module, loader: DataLoader, timebase: Timebase, device: torch.device
    ) -> dict[str, float]:
        """Validation metrics (names start with val_) over the loader of fixed samples."""
        ...

    def checkpoint_extra(self) -> dict[str, Any]:
        """JSON recorded in every checkpoint beside the weights (model config, preprocessing, ...)."""
        ...

    def fits_checkpoint(self, meta: dict[str, Any]) -> bool:
        """Whether a checkpoint's JSON was written for this model's options (--resume refuses others)."""
        ...

    def epoch_scalars(self, model: nn.Module) -> dict[str, float]:
        """Extra TensorBoard scalars of the validated model after an epoch."""
        ...

    def describe(self, metrics: dict[str, float]) -> str:
        """An epoch's log line after 'epoch N: '."""
        ...


def _set_lr(optimizer: torch.optim.Optimizer, settings: RunSettings, progress: float) -> float:
    """Set (and return) the learning rate of `settings.lr_schedule` at `progress` of the run."""
    lr = settings.lr * lr_factor(settings.lr_schedule, progress)
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr


def _epoch_loader(
    train_set: DistortedDataset, task: ModelTask, ctx: distributed.Distributed, batch_size: int, epoch: int
) -> DataLoader:
    """This process's share of the epoch's global batches (call train_set.set_epoch(epoch) before iterating)."""
    cfg = task.settings
    seed = cfg.seed * 100_003 + epoch
    drop_last = ctx.enabled or len(train_set) > cfg.batch_size
    if not task.distributed:  # torch's shuffle: its own generator, which the loader also draws its base seed from
        generator = torch.Generator().manual_seed(seed)
        return DataLoader(
            train_set,
            batch_size=batch_size,
            shuffle=True,
            drop_last=drop_last,
            num_workers=cfg.workers,
            generator=generator,
        )
    sampler = distributed.GlobalBatchSampler(len(train_set), cfg.batch_size, seed, ctx.rank, ctx.world_size, drop_last)
    return DataLoader(train_set, batch_size=batch_size, sampler=sampler, num_workers=cfg.workers)


def _write_csv(path: Path, fields: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    with atomic_output(path) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _read_csv(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _best_key(task: ModelTask) -> str:
    """The extra key of OUT/last.json holding the best value so far: best_afe for val_afe."""
    return "best_" + task.best_metric.removeprefix("val_")


class _Epochs:
    """What an epoch's end writes: TensorBoard, metrics.csv, the log line, OUT/best and OUT/last."""

    def __init__(self, task: ModelTask, writer: SummaryWriter | None, rows: list[dict[str, Any]], best: float):
        self.task, self.writer, self.rows, self.best = task, writer, rows, best
        self.fields = ("epoch", *task.metric_fields, "seconds", "steps")

    def save(
        self,
        model: nn.Module,
        scored: nn.Module,
        optimizer: torch.optim.Optimizer,
        epoch: int,
        metrics: dict[str, float],
        steps: int,
        epoch_start: float,
        steps_done: int,
    ) -> None:
        """Log one epoch and write its checkpoints.

        `scored` is the model validated (`model` itself, or its weight average): the best checkpoint holds it,
        the last one `model` and the optimiser.
        """
        task, out = self.task, self.task.settings.out
        assert self.writer is not None
        scalars = {key.replace("_", "/", 1): value for key, value in metrics.items()}
        for key, value in {**scalars, **task.epoch_scalars(scored)}.items():
            self.writer.add_scalar(key, value, epoch)
        self.rows.append(
            {"epoch": epoch, **metrics, "seconds": round(time.monotonic() - epoch_start, 2), "steps": steps}
        )
        extra = task.checkpoint_extra()
        if metrics[task.best_metric] < self.best:
            self.best = metrics[task.best_metric]
            save_checkpoint(out / "best", scored, epoch=epoch, metrics=metrics, extra=extra, step=steps_done)
        last_extra = {**extra, _best_key(task): self.best, "seed": task.settings.seed}
        save_checkpoint(
            out / "last", model, epoch=epoch, metrics=metrics, optimizer=optimizer, step=steps_done, extra=last_extra
        )
        _write_csv(out / "metrics.csv", self.fields, self.rows)
        self.writer.flush()
        log.info("epoch %d: %s", epoch, task.describe(metrics))


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


def train_model(task: ModelTask) -> dict[str, Any]:
    """Train, validating after every epoch; writes OUT/{best,last}.*, metrics.csv, tb/. Returns a summary.

    Under torchrun every process calls this; settings.batch_size is the global batch.
    """
    ctx = distributed.setup(resolve_device(task.settings.device))
    if ctx.enabled and not task.distributed:
        raise UserInputError(f"{task.name} trains in one process: start it without torchrun")
    summary = _train(task, ctx)
    distributed.cleanup(ctx)  # not on errors: the failing process exits and torchrun stops the others
    return summary


def _train(task: ModelTask, ctx: distributed.Distributed) -> dict[str, Any]:
    cfg = task.settings
    started = time.monotonic()
    deadline = started + cfg.max_minutes * 60 if cfg.max_minutes else math.inf
    device = ctx.device
    batch_size = distributed.per_process_batch(cfg.batch_size, ctx)
    cfg.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)

    data = load_training_data(cfg, task.samples())
    train_set, val_set = data.train, data.val
    if ctx.enabled and len(train_set) < cfg.batch_size:
        raise UserInputError(f"--batch-size {cfg.batch_size}: more than the {len(train_set)} samples of an epoch")
    if ctx.is_main:  # validation runs on rank 0 only
        val_loader = DataLoader(val_set, batch_size=cfg.batch_size, num_workers=cfg.workers)

    module = task.build_model().to(device)
    optimizer = adam(module.parameters(), cfg.lr)
    start_epoch, best = 0, math.inf
    last = cfg.out / "last"
    resume = cfg.resume and _has_checkpoint(last, ctx)
    rows = _read_csv(cfg.out / "metrics.csv") if resume else []
    if cfg.init is not None and not resume:
        if not task.fits_checkpoint(read_meta(cfg.init)):
            raise UserInputError(f"{cfg.init}.json: --init with different model options than this run's")
        load_checkpoint(cfg.init, module)  # the weights only: a fresh optimiser and schedule
        if ctx.is_main:
            log.info("starting from the weights of %s", cfg.init)
    if resume:
        if not task.fits_checkpoint(read_meta(last)):
            raise UserInputError(f"{last}.json: --resume with different model options than the saved run")
        meta = load_checkpoint(last, module, optimizer, restore_rng=True)
        start_epoch, best = meta["epoch"] + 1, meta["extra"].get(_best_key(task), math.inf)
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
    epochs = _Epochs(task, writer, rows, best)
    n_params = sum(p.numel() for p in module.parameters())
    if ctx.is_main:
        log.info(
            "training %s on %s x %d: %d train / %d val samples per epoch, %d parameters",
            task.name,
            device,
            ctx.world_size,
            len(train_set),
            len(val_set),
            n_params,
        )
    stopped_early = fitted_end = False
    epoch = start_epoch - 1
    steps_per_epoch = len(_epoch_loader(train_set, task, ctx, batch_size, start_epoch))
    planned_steps = cfg.epochs * steps_per_epoch
    budget = BudgetFit(RunPlan(planned_steps, cfg.max_minutes * 60 if cfg.max_minutes else None))
    steps_done = start_epoch * steps_per_epoch  # a resumed run picks the schedule up where it stopped
    _set_lr(optimizer, cfg, budget.plan.progress(steps_done))
    for epoch in range(start_epoch, cfg.epochs):
        epoch_start = time.monotonic()
        train_set.set_epoch(epoch)
        loader = _epoch_loader(train_set, task, ctx, batch_size, epoch)
        model.train()
        total, steps = 0.0, 0
        progress = tqdm(
            loader,
            desc=f"epoch {epoch}",
            file=sys.stderr,
            leave=False,
            dynamic_ncols=True,
            disable=not (ctx.is_main and cfg.progress),
        )
        for batch in progress:
            loss = task.loss(model, batch, train_set.timebase, device)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.clip_grad_norm:
                torch.nn.utils.clip_grad_norm_(module.parameters(), cfg.clip_grad_norm)
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
            metrics = {
                "train_loss": total / max(steps, 1),
                **task.validate(scored, val_loader, val_set.timebase, device),
            }
            if average is not None:
                average.save(cfg.out / "average", epoch, steps_done)
            epochs.save(module, scored, optimizer, epoch, metrics, steps, epoch_start, steps_done)
        ctx.barrier()
        if not stopped_early and budget.fitting:  # the same on every process
            now = time.monotonic()
            epoch_seconds, seconds_used = ctx.mean(now - epoch_start, now - started)  # one collective
            if budget.after_epoch(steps_done, steps, epoch_seconds, seconds_used) and ctx.is_main:
                log.log(
                    logging.INFO if epoch == start_epoch else logging.DEBUG,
                    "--max-minutes %.1f holds about %d of the %d planned steps: the learning rate schedule ends there",
                    cfg.max_minutes,
                    budget.plan.total_steps,
                    budget.first.total_steps,
                )
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
        f"best_{task.best_metric}": epochs.best,
        "stopped_early": stopped_early,
        "minutes": (time.monotonic() - started) / 60,
    }
