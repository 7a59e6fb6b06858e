"""Checkpoints that ship with the package.

general/model.safetensors + general/model.json: the general dance model,
`alignnet align`'s model when --checkpoint is not given. It was trained on the
general corpus (recorded music, varied dance styles, figures and shots, strong
warps; docs/training-data.md) without the held-out music, style and figure;
general/provenance.json records its data, command, commit, steps and held-out
scores.
"""

from __future__ import annotations

from pathlib import Path

GENERAL = Path(__file__).resolve().parent / "general" / "model"  # STEM of the shipped general checkpoint
