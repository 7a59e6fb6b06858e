"""Gather the ablation ladder's evaluations into one table, beside the paper's accuracies (table 3).

Each RUN is a variant's directory results/ablation/<variant>/ holding
evaluate/results.csv (written by `alignnet evaluate --alignnet RUN/best --out RUN/evaluate`);
the directory's name is the variant: base, pyramid, motion, spec_augment,
temporal_attention, keypoint_attention or all. Each step adds one part to the
one before; "all" is the full model with every augmentation.

Writes OUT/ablation.csv (variant, label, afe, accuracy (%), clips, paper_accuracy)
and OUT/ablation.md, rows in the ladder's order.

Example:
  alignnet ablation results/ablation/base results/ablation/pyramid results/ablation/all --out results/ablation
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from alignnet.atomic import atomic_output
from alignnet.evaluation.ablation import ablation_table
from alignnet.evaluation.tables import markdown_table

log = logging.getLogger(__name__)

HEADERS = {
    "label": "variant", "afe": "AFE (frames)", "accuracy": "accuracy (%)", "clips": "test clips",
    "paper_accuracy": "paper accuracy, Dance50 (%)",
}  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "runs", nargs="+", type=Path, metavar="RUN", help="variant directories (named after the variant)"
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")


def run(args: argparse.Namespace) -> int:
    table = ablation_table([(run.name, run / "evaluate" / "results.csv") for run in args.runs])
    args.out.mkdir(parents=True, exist_ok=True)
    with atomic_output(args.out / "ablation.csv") as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    text = markdown_table(table, HEADERS)
    with atomic_output(args.out / "ablation.md") as tmp:
        intro = (
            "Ablation on the test split: each row adds one part to the row above (paper, table 3). "
            "The paper's column is its Dance50 ablation, whatever data these runs used.\n\n"
        )
        tmp.write_text(intro + text)
    log.info("ablation:\n%s", text)
    return 0
