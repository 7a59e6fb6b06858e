"""The paper's ablation (table 3), the project's departures from the paper, and gathering their runs into tables.

Two groups of variants, each trained with `alignnet train` and the flags below:

- "ladder", the rows of the paper's table 3: Base (raw positions, one
  level, no SpecAugment, no attention), FP (+ feature pyramid), FP+MI
  (+ motion inputs), FP+MI+SA (+ SpecAugment), then two alternatives, not a
  sequence: FP+MI+SA+TA (temporal attention alone) and FP+MI+SA+KA (keypoint
  attention alone), and FP+MI+SA+KA+TA, the full model. The paper's training
  setup is the same for every row, so every rung keeps the flips;
- "departures": the full model with one of this implementation's departures
  from the paper (`alignnet.training.paper_design.DEPARTURES`) removed in
  turn, and "paper", the paper's design (`alignnet train --paper`: all of
  them removed).

Every variant may run with several seeds; its row is the mean and sample
standard deviation of its seeds' AFE and accuracy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from alignnet.errors import UserInputError
from alignnet.training.paper_design import DEPARTURES

GROUPS = ("ladder", "departures")


@dataclass(frozen=True)
class Variant:
    """One variant: its key (a path component), table label, group, the paper's Dance50 AFE (frames) and accuracy
    (%; NaN: none) and the `alignnet train` flags that make it from the full model."""

    name: str
    label: str
    group: str
    paper_afe: float
    paper_accuracy: float
    train_flags: tuple[str, ...]


# The paper's table 3, in its order: (name, label, paper AFE, paper accuracy, the parts the row has).
_PARTS = {
    "FP": "--no-pyramid",
    "MI": "--raw-positions",
    "SA": "--no-spec-augment",
    "TA": "--no-temporal-attention",
    "KA": "--no-keypoint-attention",
}
_TABLE3: tuple[tuple[str, str, float, float, tuple[str, ...]], ...] = (
    ("base", "Base", 2.87, 43.57, ()),
    ("pyramid", "FP", 2.45, 56.88, ("FP",)),
    ("motion", "FP+MI", 1.81, 67.49, ("FP", "MI")),
    ("spec_augment", "FP+MI+SA", 1.32, 75.33, ("FP", "MI", "SA")),
    ("temporal_attention", "FP+MI+SA+TA", 1.14, 79.65, ("FP", "MI", "SA", "TA")),
    ("keypoint_attention", "FP+MI+SA+KA", 0.97, 88.20, ("FP", "MI", "SA", "KA")),
    ("all", "FP+MI+SA+KA+TA", 0.94, 89.60, ("FP", "MI", "SA", "KA", "TA")),
)
PAPER_FULL = (0.94, 89.60)  # the paper's full model (tables 1 and 3)


def _variants() -> tuple[Variant, ...]:
    ladder = [
        Variant(name, label, "ladder", afe, accuracy, tuple(flag for part, flag in _PARTS.items() if part not in has))
        for name, label, afe, accuracy, has in _TABLE3
    ]
    departures = [
        Variant(f"minus_{d.name}", f"full model without {d.summary}", "departures", math.nan, math.nan, d.flags)
        for d in DEPARTURES
    ]
    paper = Variant("paper", "the paper's design (all of them removed)", "departures", *PAPER_FULL, ("--paper",))
    return (*ladder, *departures, paper)


VARIANTS_IN_ORDER: tuple[Variant, ...] = _variants()
LADDER: tuple[Variant, ...] = tuple(v for v in VARIANTS_IN_ORDER if v.group == "ladder")
VARIANTS: dict[str, Variant] = {v.name: v for v in VARIANTS_IN_ORDER}
COLUMNS = (
    "group",
    "variant",
    "label",
    "seeds",
    "afe",
    "afe_sd",
    "accuracy",
    "accuracy_sd",
    "clips",
    "paper_afe",
    "paper_accuracy",
)
_SEED_DIR = re.compile(r"seed(\d+)")


def variant(name: str) -> Variant:
    """The variant called `name` (see VARIANTS)."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise UserInputError(f"ablation variant {name!r}: choose one of {', '.join(VARIANTS)}") from None


def variant_flags(name: str) -> list[str]:
    """`alignnet train` flags of a variant, e.g. base -> ["--no-pyramid", ..., "--no-keypoint-attention"]."""
    return list(variant(name).train_flags)


def run_of(directory: str | Path) -> tuple[str, int]:
    """(variant, seed) of a run directory laid out as .../<variant>/seed<N> (the workflow's)."""
    path = Path(directory)
    match = _SEED_DIR.fullmatch(path.name)
    if match is None:
        raise UserInputError(f"{path}: an ablation run is a directory <variant>/seed<N>")
    return variant(path.parent.name).name, int(match.group(1))


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


def seed_table(runs: Sequence[tuple[str, int, str | Path]]) -> pd.DataFrame:
    """(variant, seed, its results.csv) triples -> one row per run: variant, seed, afe, accuracy, clips."""
    seen: dict[tuple[str, int], str | Path] = {}
    rows = []
    for name, seed, path in runs:
        key = (variant(name).name, seed)
        if key in seen:
            raise UserInputError(f"ablation variant {name!r} seed {seed} given twice ({seen[key]} and {path})")
        seen[key] = path
        rows.append({"variant": name, "seed": seed, **read_variant_result(path)})
    return pd.DataFrame(rows, columns=["variant", "seed", "afe", "accuracy", "clips"])


def ablation_table(seeds: pd.DataFrame) -> pd.DataFrame:
    """`seed_table`'s runs -> one row per variant, in table 3's order then the departures': the mean and sample
    standard deviation over its seeds (NaN with one seed) beside the paper's numbers."""
    rows = []
    for item in VARIANTS_IN_ORDER:
        mine = seeds[seeds["variant"] == item.name]
        if mine.empty:
            continue
        clips = sorted(set(mine["clips"]))
        if len(clips) > 1:
            raise UserInputError(f"ablation variant {item.name!r}: its seeds were evaluated on {clips} clips")
        rows.append(
            {
                "group": item.group,
                "variant": item.name,
                "label": item.label,
                "seeds": len(mine),
                "afe": mine["afe"].mean(),
                "afe_sd": mine["afe"].std(ddof=1),
                "accuracy": mine["accuracy"].mean(),
                "accuracy_sd": mine["accuracy"].std(ddof=1),
                "clips": clips[0],
                "paper_afe": item.paper_afe,
                "paper_accuracy": item.paper_accuracy,
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def mean_sd(mean: float, sd: float) -> str:
    """ "1.23 ± 0.45", or "1.23" where there is no spread (one seed)."""
    return f"{mean:.2f}" if pd.isna(sd) else f"{mean:.2f} ± {sd:.2f}"
