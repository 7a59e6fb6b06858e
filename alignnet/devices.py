"""Choosing the torch device from a --device option."""

from __future__ import annotations

import torch

from alignnet.errors import UserInputError


def resolve_device(name: str) -> torch.device:
    """'auto' -> cuda when available, else cpu; 'cuda' without a GPU is a user error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserInputError("--device cuda: no CUDA device available")
    if name not in ("cpu", "cuda"):
        raise UserInputError(f"--device {name}: choose auto, cpu or cuda")
    return torch.device(name)
