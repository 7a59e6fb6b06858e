"""Gather the ablation's evaluations into tables: the paper's table 3 and the project's departures from the paper.

Each RUN is one variant's run with one seed, a directory results/ablation/<variant>/seed<N>
holding evaluate/results.csv (written by `alignnet evaluate --alignnet RUN/best --out RUN/evaluate`).
Variants: the rows of table 3 (base, pyramid, motion, spec_augment,
temporal_attention, keypoint_attention, all) and the departures (minus_<departure>: the
full model without one of them; paper: the paper's design).

Writes OUT/ablation.csv (one row per variant: group, variant, label, seeds,
afe, afe_sd, accuracy (%), accuracy_sd, clips, paper_afe, paper_accuracy; the
mean and sample standard deviation over its seeds), OUT/ablation_seeds.csv
(one row per run) and OUT/ablation.md (the two tables, mean ± sd).

Example:
  alignnet ablation results/ablation/base/seed0 results/ablation/base/seed1 results/ablation/all/seed0 \\
      --out results/ablation
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from alignnet.atomic import atomic_output
from alignnet.evaluation.ablation import ablation_table, mean_sd, run_of, seed_table
from alignnet.evaluation.tables import markdown_table

log = logging.getLogger(__name__)

HEADERS = {
    "label": "variant",
    "seeds": "seeds",
    "afe_shown": "AFE (frames)",
    "accuracy_shown": "accuracy (%)",
    "clips": "test clips",
    "paper_afe": "paper AFE, Dance50",
    "paper_accuracy": "paper accuracy, Dance50 (%)",
}
INTROS = {
    "ladder": "The paper's table 3 on the test split: Base, then feature pyramid (FP), motion inputs (MI),"
    " SpecAugment (SA), and temporal (TA) or keypoint attention (KA) alone or both; flips in every row.",
    "departures": "The project's departures from the paper, each removed from the full model in turn, and the"
    " paper's design with all of them removed (docs/model.md).",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN", help="run directories <variant>/seed<N>")
    parser.add_argument("--out", type=Path, required=True, help="output directory")


def markdown(table: pd.DataFrame) -> str:
    """ablation.md: one table per group present, mean ± sd over the seeds, beside the paper's numbers."""
    shown = table.assign(
        afe_shown=[mean_sd(m, s) for m, s in zip(table["afe"], table["afe_sd"], strict=True)],
        accuracy_shown=[mean_sd(m, s) for m, s in zip(table["accuracy"], table["accuracy_sd"], strict=True)],
    )
    parts = []
    for group, intro in INTROS.items():
        rows = shown[shown["group"] == group]
        if not rows.empty:
            parts.append(
                f"{intro} The paper's columns are its Dance50 numbers, whatever data these runs used.\n\n"
                + markdown_table(rows, HEADERS)
            )
    return "\n".join(parts)


def run(args: argparse.Namespace) -> int:
    runs = [(*run_of(directory), directory / "evaluate" / "results.csv") for directory in args.runs]
    seeds = seed_table(runs)
    table = ablation_table(seeds)
    args.out.mkdir(parents=True, exist_ok=True)
    with atomic_output(args.out / "ablation_seeds.csv") as tmp:
        seeds.to_csv(tmp, index=False, float_format="%.6g")
    with atomic_output(args.out / "ablation.csv") as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    text = markdown(table)
    with atomic_output(args.out / "ablation.md") as tmp:
        tmp.write_text(text)
    log.info("ablation:\n%s", text)
    return 0
