"""Figure 6 (right) and table 3: the ablation ladder, our accuracy beside the paper's.

ablation.csv (alignnet ablation): variant, [label,] afe (frames), accuracy (%), paper_accuracy (%), in ladder order.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from alignnet.report.style import table_figure

OURS_COLOUR = "#d62728"
PAPER_COLOUR = "#bbbbbb"


def labels(table: pd.DataFrame) -> list[str]:
    """Display names of the variants: the `label` column when there is one, else `variant`."""
    return table["label" if "label" in table else "variant"].astype(str).tolist()


def ablation_bars(table: pd.DataFrame) -> Figure:
    """Horizontal bars per variant (ladder order, top to bottom): our ITU accuracy and the paper's."""
    ours = table["accuracy"].to_numpy(np.float64)
    paper = table["paper_accuracy"].to_numpy(np.float64)
    y = np.arange(len(table))[::-1]
    fig, ax = plt.subplots(figsize=(8.0, 0.55 * len(table) + 1.6))
    ax.barh(y + 0.2, ours, 0.4, color=OURS_COLOUR, label="ours")
    ax.barh(y - 0.2, paper, 0.4, color=PAPER_COLOUR, label="paper (Dance50)")
    for yy, value in zip(y, ours, strict=True):
        ax.text(value + 1, yy + 0.2, f"{value:.1f}", va="center", fontsize=9)
    ax.set_yticks(y, labels(table))
    ax.set_xlim(0, 110)
    ax.set_xlabel("ITU-R BT.1359 accuracy (%)")
    ax.set_title("Ablation: modules added one at a time")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=9)  # below: never over a bar
    fig.tight_layout()
    return fig


def ablation_table(table: pd.DataFrame) -> Figure:
    """Table 3: variant, AFE, accuracy (%), paper accuracy (%)."""
    shown = pd.DataFrame(
        {
            "variant": labels(table),
            "AFE (frames)": table["afe"].map("{:.2f}".format),
            "accuracy (%)": table["accuracy"].map("{:.2f}".format),
            "paper accuracy (%)": table["paper_accuracy"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}"),
        }
    )
    return table_figure(shown, "Table 3: ablation on the test split", note="paper: Dance50 accuracy (Table 3)")
