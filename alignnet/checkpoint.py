"""AlignNet checkpoints: safetensors weights and a JSON beside them; never pickle.

A checkpoint named STEM is

    STEM.safetensors        model weights (from the unwrapped module: no `module.` prefix)
    STEM.json               model config, epoch, metrics, versions, optimizer hyper-parameters, extra state
    STEM.optim.safetensors  optimizer state tensors and torch's RNG state (only when an optimizer is given)

A checkpoint is one unit: each .safetensors file carries the epoch and step in
its own metadata, and STEM.json, written last, records them with the SHA-256
of every file. `load_checkpoint` refuses (CheckpointMismatch, naming the file
and what it holds) a checkpoint whose files disagree: a write cut half-way,
by kill -9 or a lost node, between the renames of its files.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.torch
import torch
from torch import nn

from alignnet import __version__
from alignnet.atomic import atomic_output
from alignnet.errors import UserInputError
from alignnet.models.alignnet import AlignNet, AlignNetConfig


class CheckpointMismatch(UserInputError):
    """The files of one checkpoint do not belong together (its write was cut between them)."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# The key of the epoch and step in a .safetensors file's own metadata. One key: safetensors writes its
# metadata map in an order that varies from one write to the next, so two keys would make the same weights
# different bytes (and a rerun's checkpoint differ from the run's it repeats).
STAMP_KEY = "checkpoint"


def _stamp(path: Path) -> str:
    """'epoch E step S' from a .safetensors file's own metadata ('no epoch recorded' when absent, 'an unreadable
    file' when it is no safetensors file: cut short, or overwritten)."""
    try:
        with safetensors.safe_open(str(path), framework="pt") as handle:
            meta = handle.metadata() or {}
    except (OSError, safetensors.SafetensorError):
        return "an unreadable file"
    if "epoch" in meta:  # written before STAMP_KEY
        return f"epoch {meta['epoch']} step {meta['step']}"
    return meta.get(STAMP_KEY, "no epoch recorded")


def verify_checkpoint(stem: str | Path, meta: dict[str, Any]) -> None:
    """CheckpointMismatch unless every file STEM.json lists holds the content (hash) it recorded.

    Checkpoints written before the record (no "files" in the JSON) pass unchecked.
    """
    _, json_path, _ = _paths(stem)
    expected = f"epoch {meta.get('epoch')} step {meta.get('step')}"
    for name, digest in (meta.get("files") or {}).items():
        path = json_path.with_name(name)
        if not path.exists():
            raise CheckpointMismatch(f"{path}: missing, but {json_path.name} ({expected}) lists it")
        if _sha256(path) != digest:
            raise CheckpointMismatch(
                f"{path} holds {_stamp(path)} but {json_path.name} says {expected} (its content hash differs): "
                "the checkpoint was cut while being written; its files do not belong together"
            )


def copy_checkpoint(source: str | Path, target: str | Path, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Copy checkpoint SOURCE.safetensors + SOURCE.json to TARGET.*; returns TARGET.json's content.

    The JSON's record of its files ("files": name -> SHA-256) is renamed with
    them, so TARGET verifies as SOURCE did. SOURCE is verified first. `extra`
    is merged into the JSON's "extra" (e.g. align's settings for the model).
    """
    src_weights, src_json, _ = _paths(source)
    dst_weights, dst_json, _ = _paths(target)
    meta = json.loads(src_json.read_text(encoding="utf-8"))
    verify_checkpoint(source, meta)
    if meta.get("files"):
        meta["files"] = {dst_weights.name: meta["files"][src_weights.name]}
    if extra:
        meta["extra"] = {**(meta.get("extra") or {}), **extra}
    dst_json.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(dst_weights) as tmp:
        shutil.copyfile(src_weights, tmp)
    with atomic_output(dst_json) as tmp:
        tmp.write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module inside DataParallel / DistributedDataParallel / torch.compile wrappers."""
    while True:
        inner = getattr(model, "module", None) or getattr(model, "_orig_mod", None)
        if not isinstance(inner, nn.Module):
            return model
        model = inner


def _paths(stem: str | Path) -> tuple[Path, Path, Path]:
    stem = Path(stem)
    return (
        stem.with_name(stem.name + ".safetensors"),
        stem.with_name(stem.name + ".json"),
        stem.with_name(stem.name + ".optim.safetensors"),
    )


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer state_dict into flat tensors and JSON (param_groups, non-tensor state)."""
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, Any] = {}
    for pid, entries in state["state"].items():
        for key, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{pid}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{key}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _optimizer_state(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith("state."):
            _, pid, key = name.split(".", 2)
            state.setdefault(int(pid), {})[key] = value
    for name, value in meta["scalars"].items():
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(
    stem: str | Path,
    model: nn.Module,
    *,
    epoch: int,
    metrics: dict[str, float],
    optimizer: torch.optim.Optimizer | None = None,
    extra: dict[str, Any] | None = None,
    step: int | None = None,
) -> Path:
    """Write STEM.safetensors + STEM.json (+ STEM.optim.safetensors with an optimizer); returns the JSON path.

    `extra` is any JSON-serialisable training state (best metric so far, seeds, ...); `step` the optimizer
    steps done. The JSON, with the epoch, step and each file's SHA-256, is written last (see the module doc).
    """
    module = unwrap(model)
    weights_path, json_path, optim_path = _paths(stem)
    stamp = {STAMP_KEY: f"epoch {epoch} step {step}"}
    files: dict[str, str] = {}
    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    with atomic_output(weights_path) as tmp:
        safetensors.torch.save_file(state, str(tmp), metadata=stamp)
        files[weights_path.name] = _sha256(tmp)
    meta: dict[str, Any] = {
        "model_config": module.config.to_dict() if isinstance(module, AlignNet) else None,
        "epoch": epoch,
        "step": step,
        "metrics": metrics,
        "extra": extra or {},
        "versions": {
            "alignnet": __version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "optimizer": None,
    }
    if optimizer is not None:
        tensors, optim_meta = _optimizer_tensors(optimizer)
        tensors["torch_rng_state"] = torch.get_rng_state()
        with atomic_output(optim_path) as tmp:
            safetensors.torch.save_file(tensors, str(tmp), metadata=stamp)
            files[optim_path.name] = _sha256(tmp)
        meta["optimizer"] = {"type": type(optimizer).__name__, **optim_meta}
    else:
        optim_path.unlink(missing_ok=True)
    meta["files"] = files
    with atomic_output(json_path) as tmp:
        tmp.write_text(json.dumps(meta, indent=2) + "\n")
    return json_path


def read_meta(stem: str | Path) -> dict[str, Any]:
    """The JSON of a checkpoint."""
    _, json_path, _ = _paths(stem)
    try:
        return json.loads(json_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UserInputError(f"{json_path}: cannot read checkpoint metadata ({exc})") from exc


def load_checkpoint(
    stem: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    restore_rng: bool = False,
) -> dict[str, Any]:
    """Load weights (and optimizer state / torch RNG) into existing objects; returns the JSON metadata.

    Raises CheckpointMismatch when the checkpoint's files do not belong together (see the module doc).
    """
    weights_path, _, optim_path = _paths(stem)
    meta = read_meta(stem)
    if not weights_path.exists():
        raise UserInputError(f"{weights_path}: checkpoint weights not found")
    verify_checkpoint(stem, meta)
    try:
        unwrap(model).load_state_dict(safetensors.torch.load_file(str(weights_path)))
    except RuntimeError as exc:  # missing/unexpected keys or shapes: another model version or options
        raise UserInputError(
            f"{weights_path}: weights do not fit this model (saved by another alignnet version or with other "
            f"options; retrain or use a matching checkpoint): {str(exc).splitlines()[0]}"
        ) from exc
    if optimizer is not None or restore_rng:
        if meta.get("optimizer") is None or not optim_path.exists():
            raise UserInputError(f"{optim_path}: checkpoint has no optimizer state to resume from")
        tensors = safetensors.torch.load_file(str(optim_path))
        if optimizer is not None:
            optimizer.load_state_dict(_optimizer_state(tensors, meta["optimizer"]))
        if restore_rng:
            torch.set_rng_state(tensors["torch_rng_state"])
    return meta


def load_model(stem: str | Path, map_location: str | torch.device = "cpu") -> tuple[AlignNet, dict[str, Any]]:
    """Build an AlignNet from a checkpoint's config and load its weights (eval mode)."""
    meta = read_meta(stem)
    if meta.get("model_config") is None:
        raise UserInputError(f"{_paths(stem)[1]}: no model_config in checkpoint metadata")
    try:
        model = AlignNet(AlignNetConfig.from_dict(meta["model_config"]))
    except (TypeError, ValueError) as exc:
        raise UserInputError(f"{_paths(stem)[1]}: model_config does not fit this alignnet version ({exc})") from exc
    load_checkpoint(stem, model)
    return model.to(map_location).eval(), meta
