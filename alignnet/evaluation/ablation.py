"""The paper's ablation ladder (table 3) and gathering its evaluated variants into one table.

Each step adds one part to the one before: base (no feature pyramid, raw
positions, no SpecAugment, no temporal attention, no keypoint attention, no
flips), +feature pyramid, +motion inputs, +SpecAugment, +temporal attention,
+keypoint attention; "all" is the full model with every augmentation (the
`alignnet train` defaults), which adds the horizontal flips. One rung past
the paper's ladder, "paper_affinity", is "all" as the paper designed it:
each level's local correlation alone, its output (the finest level
upsampled, no full-rate refinement), a context network at the finest level
only, the paper's loss (no matching term),
no tempo or timbre changes or low-passes, no cross-clip windows and the authors'
per-keypoint input scaling, which measures what this implementation's
departures bring.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from alignnet.errors import UserInputError


@dataclass(frozen=True)
class Variant:
    """One rung: its key (a path component), its table label and the paper's Dance50 accuracy (%, NaN: none)."""

    name: str
    label: str
    paper_accuracy: float
    train_flags: tuple[str, ...]


# (name, label, the `alignnet train` flag that removes the part, paper accuracy), in the ladder's order.
_STEPS: tuple[tuple[str, str, str, float], ...] = (
    ("pyramid", "+feature pyramid", "--no-pyramid", 56.88),
    ("motion", "+motion inputs", "--raw-positions", 67.49),
    ("spec_augment", "+SpecAugment", "--no-spec-augment", 75.33),
    ("temporal_attention", "+temporal attention", "--no-temporal-attention", 79.65),
    ("keypoint_attention", "+keypoint attention", "--no-keypoint-attention", 88.20),
)
_NO_FLIP = "--no-flip"


def _ladder() -> tuple[Variant, ...]:
    removed = [flag for _, _, flag, _ in _STEPS]
    rungs = [Variant("base", "base", 43.57, (*removed, _NO_FLIP))]
    for i, (name, label, _, accuracy) in enumerate(_STEPS, start=1):
        rungs.append(Variant(name, label, accuracy, (*removed[i:], _NO_FLIP)))
    rungs.append(Variant("all", "all", 89.60, ()))
    rungs.append(
        Variant(
            "paper_affinity",
            "all, as the paper designed it",
            math.nan,
            ("--correlation", "local", "--no-fine-refinement", "--no-coarse-context", "--matching-weight", "0",
             "--no-tempo-change", "--no-timbre-change", "--no-band-limit", "--no-cross-clip",
             "--per-keypoint-scaling"),  # fmt: skip
        )
    )
    return tuple(rungs)


LADDER: tuple[Variant, ...] = _ladder()
VARIANTS: dict[str, Variant] = {v.name: v for v in LADDER}


def variant(name: str) -> Variant:
    """The rung called `name` (base, pyramid, motion, spec_augment, temporal_attention, keypoint_attention, all,
    paper_affinity)."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise UserInputError(f"ablation variant {name!r}: choose one of {', '.join(VARIANTS)}") from None


def variant_flags(name: str) -> list[str]:
    """`alignnet train` flags of a variant, e.g. base -> ["--no-pyramid", ..., "--no-flip"]."""
    return list(variant(name).train_flags)


def read_variant_result(results_csv: str | Path, method: str = "AlignNet") -> dict[str, float]:
    """AFE, accuracy (%) and clips of `method` from one evaluation's results.csv."""
    path = Path(results_csv)
    try:
        table = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UserInputError(f"{path}: cannot read evaluation results ({exc})") from exc
    missing = {"method", "afe", "accuracy", "clips"} - set(table.columns)
    if missing:
        raise UserInputError(f"{path}: missing columns {sorted(missing)}")
    rows = table[table["method"] == method]
    if rows.empty:
        raise UserInputError(f"{path}: no {method} row")
    row = rows.iloc[0]
    return {"afe": float(row["afe"]), "accuracy": float(row["accuracy"]), "clips": int(row["clips"])}


def ablation_table(runs: Sequence[tuple[str, str | Path]]) -> pd.DataFrame:
    """(variant name, its results.csv) pairs -> one row per variant in ladder order, with the paper's accuracy."""
    seen = {}
    for name, path in runs:
        if name in seen:
            raise UserInputError(f"ablation variant {name!r} given twice ({seen[name]} and {path})")
        seen[name] = path
    rows = []
    for rung in LADDER:
        if rung.name in seen:
            rows.append({"variant": rung.name, "label": rung.label, **read_variant_result(seen[rung.name]),
                         "paper_accuracy": rung.paper_accuracy})  # fmt: skip
    for name in seen:
        variant(name)  # unknown names are errors
    return pd.DataFrame(rows, columns=["variant", "label", "afe", "accuracy", "clips", "paper_accuracy"])
