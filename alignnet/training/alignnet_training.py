"""Training AlignNet: its config, loss, validation and checkpoint record for the one loop (`alignnet.training.loop`).

Every sample gets a fresh random monotonic time warp (`alignnet.distort.SampleGenerator`); the loss is
the paper's over the pyramid levels plus the matching loss (`alignnet.losses.alignment_loss`); the
best checkpoint is the lowest validation AFE, and every checkpoint records the dataset's log-mel
settings so that `alignnet align` needs no --dataset.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from alignnet.correspondence import Timebase
from alignnet.data.preprocessing import STATS_FILE, Preprocessing
from alignnet.distort import SampleGenerator
from alignnet.losses import DEFAULT_LAMBDAS, alignment_loss
from alignnet.metrics import afe, itu_accuracy
from alignnet.models.alignnet import AlignNet, AlignNetConfig, AlignNetOutput
from alignnet.training.loop import Batch, train_model
from alignnet.training.run_settings import RunSettings


@dataclass
class TrainConfig(RunSettings):
    """Everything an AlignNet training run needs; `alignnet train` fills it from its options."""

    model: AlignNetConfig = field(default_factory=AlignNetConfig)
    samples: SampleGenerator = field(default_factory=SampleGenerator)  # its motion and scaling follow `model`
    lambdas: tuple[float, ...] = DEFAULT_LAMBDAS
    mu: float = 1.0
    matching: float = 0.3  # weight of the matching loss (`alignnet.losses.matching_loss`); 0 = the paper's loss


def _autocast(device: torch.device) -> torch.autocast:
    """bfloat16 autocast on CUDA, nothing elsewhere."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")


def _alignnet_output(model: nn.Module, batch: Batch, device: torch.device) -> AlignNetOutput:
    with _autocast(device):
        output = model(batch["video"].to(device), batch["audio"].to(device), return_levels=True)
    assert isinstance(output, AlignNetOutput)
    return output.float()


@torch.no_grad()
def validate_alignnet(
    model: AlignNet, loader: DataLoader, timebase: Timebase, device: torch.device, mu: float = 1.0
) -> dict[str, float]:
    """AlignNet's validation loss, AFE (frames) and ITU accuracy (share) over a loader of fixed samples."""
    model.eval()
    preds, truths, losses = [], [], []
    for batch in loader:
        output = _alignnet_output(model, batch, device)
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


def _preprocessing(data_dir: Path) -> dict[str, Any] | None:
    """The dataset's log-mel settings and train statistics as checkpoint JSON; None when it has no statistics."""
    return Preprocessing.from_dataset(data_dir).to_json() if (data_dir / STATS_FILE).exists() else None


@dataclass
class AlignNetTask:
    """AlignNet's parts of a training run (`alignnet.training.loop.ModelTask`)."""

    settings: TrainConfig
    name: str = "AlignNet"
    best_metric: str = "val_afe"
    metric_fields: tuple[str, ...] = ("train_loss", "val_loss", "val_afe", "val_itu_accuracy")
    distributed: bool = True
    preprocessing: dict[str, Any] | None = field(init=False)  # read once, written into every checkpoint

    def __post_init__(self) -> None:
        self.preprocessing = _preprocessing(self.settings.data)

    def samples(self) -> SampleGenerator:
        model = self.settings.model
        return dataclasses.replace(self.settings.samples, motion=model.motion_inputs, scaling=model.input_scaling)

    def build_model(self) -> nn.Module:
        return AlignNet(self.settings.model)

    def loss(self, model: nn.Module, batch: Batch, timebase: Timebase, device: torch.device) -> torch.Tensor:
        cfg = self.settings
        output = _alignnet_output(model, batch, device)
        return alignment_loss(output, batch["target"].to(device), cfg.lambdas, cfg.mu, cfg.matching)[0]

    def validate(
        self, model: nn.Module, loader: DataLoader, timebase: Timebase, device: torch.device
    ) -> dict[str, float]:
        assert isinstance(model, AlignNet)
        return validate_alignnet(model, loader, timebase, device, self.settings.mu)

    def checkpoint_extra(self) -> dict[str, Any]:
        return {"preprocessing": self.preprocessing}  # the model config: save_checkpoint records an AlignNet's

    def fits_checkpoint(self, meta: dict[str, Any]) -> bool:
        saved = meta.get("model_config")
        return saved is None or AlignNetConfig.from_dict(saved) == self.settings.model

    def epoch_scalars(self, model: nn.Module) -> dict[str, float]:
        assert isinstance(model, AlignNet)
        if model.keypoint_attention is None:
            return {}
        return {f"keypoint_attention/{k:02d}": w for k, w in enumerate(model.keypoint_weights().tolist())}

    def describe(self, metrics: dict[str, float]) -> str:
        return (
            f"train loss {metrics['train_loss']:.4f}, val AFE {metrics['val_afe']:.3f} frames, "
            f"ITU accuracy {100 * metrics['val_itu_accuracy']:.1f} %"
        )


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Train AlignNet (`alignnet.training.loop.train_model`); writes OUT/{best,last,average}.*, metrics.csv, tb/.

    Under torchrun every process calls this; cfg.batch_size is the global batch.
    """
    return train_model(AlignNetTask(cfg))
