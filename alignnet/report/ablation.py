"""Figure 6 (right) and table 3: the ablation's variants, our accuracy beside the paper's.

ablation.csv (alignnet ablation): group, variant, label, seeds, afe (frames), afe_sd, accuracy (%), accuracy_sd,
paper_afe, paper_accuracy (%), one row per variant: table 3's rungs, then the departures from the paper.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from alignnet.evaluation.ablation import mean_sd
from alignnet.report.style import table_figure

OURS_COLOUR = "#d62728"
PAPER_COLOUR = "#bbbbbb"


def labels(table: pd.DataFrame) -> list[str]:
    """Display names of the variants: the `label` column when there is one, else `variant`."""
    return table["label" if "label" in table else "variant"].astype(str).tolist()


def ablation_bars(table: pd.DataFrame) -> Figure:
    """Horizontal bars per variant (table order, top to bottom): our ITU accuracy (mean, ± sd over seeds) and the
    paper's."""
    ours = table["accuracy"].to_numpy(np.float64)
    spread = table["accuracy_sd"].to_numpy(np.float64)
    paper = table["paper_accuracy"].to_numpy(np.float64)
    y = np.arange(len(table))[::-1]
    fig, ax = plt.subplots(figsize=(8.0, 0.55 * len(table) + 1.6))
    ax.barh(y + 0.2, ours, 0.4, xerr=np.nan_to_num(spread), color=OURS_COLOUR, label="ours (mean ± sd over seeds)")
    ax.barh(y - 0.2, paper, 0.4, color=PAPER_COLOUR, label="paper (Dance50)")
    for yy, value, sd in zip(y, ours, np.nan_to_num(spread), strict=True):
        ax.text(value + sd + 1, yy + 0.2, f"{value:.1f}", va="center", fontsize=9)
    ax.set_yticks(y, labels(table))
    ax.set_xlim(0, 110)
    ax.set_xlabel("ITU-R BT.1359 accuracy (%)")
    ax.set_title("Ablation: table 3, then the departures")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=9)  # below: never over a bar
    fig.tight_layout()
    return fig


def ablation_table(table: pd.DataFrame) -> Figure:
    """Table 3: variant, seeds, AFE and accuracy (%) as mean ± sd over the seeds, the paper's AFE and accuracy."""

    def paper(column: str) -> pd.Series:
        return table[column].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")

    shown = pd.DataFrame(
        {
            "variant": labels(table),
            "seeds": table["seeds"].astype(int).astype(str),
            "AFE (frames)": [mean_sd(m, s) for m, s in zip(table["afe"], table["afe_sd"], strict=True)],
            "accuracy (%)": [mean_sd(m, s) for m, s in zip(table["accuracy"], table["accuracy_sd"], strict=True)],
            "paper AFE": paper("paper_afe"),
            "paper accuracy (%)": paper("paper_accuracy"),
        }
    )
    note = "mean ± sd over the seeds; paper: its Dance50 AFE and accuracy (Table 3)"
    return table_figure(shown, "Table 3: ablation on the test split", note=note)
