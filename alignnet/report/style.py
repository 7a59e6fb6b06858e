"""Shared look of the report's figures: method names and colours, saving, tables as images."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from alignnet.atomic import atomic_output
from alignnet.evaluation.runner import slug

PathLike = str | os.PathLike[str]
DPI = 120

# method slug -> (display name, colour); a display name ("SyncNet+DTW") finds its entry through its slug.
METHODS: dict[str, tuple[str, str]] = {
    "alignnet": ("AlignNet", "#d62728"),
    "syncnet": ("SyncNet", "#1f77b4"),
    "syncnet_dtw": ("SyncNet+DTW", "#2ca02c"),
    "onset_dtw": ("Onset+DTW (floor)", "#9467bd"),
}
TRUTH_COLOUR = "black"
_FALLBACK = ("#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def method_label(name: str) -> str:
    """Display name of a method slug or name; unknown names are returned as given."""
    return METHODS.get(slug(name), (name, ""))[0]


def method_colour(name: str, position: int = 0) -> str:
    """Colour of a method; unknown methods take a fallback colour by position."""
    known = METHODS.get(slug(name))
    return known[1] if known else _FALLBACK[position % len(_FALLBACK)]


def save_figure(fig: Figure, path: PathLike) -> None:
    """Write a figure as PNG (atomically) and close it."""
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=DPI, bbox_inches="tight", format="png")
    plt.close(fig)


def _text_width(text: str) -> float:
    """A text's width in average characters of a proportional font: capitals and signs such as + and % are wider
    (a label like "FP+MI+SA+KA+TA" counted as 14 plain characters overflows its column)."""
    return sum(1.4 if ch.isupper() or ch in "+%@&" else 1.0 for ch in text)


def table_figure(table: pd.DataFrame, title: str, note: str = "") -> Figure:
    """A DataFrame drawn as a table image: columns sized to their text, header row shaded, a note below."""
    cells = [[str(v) for v in row] for row in table.itertuples(index=False)] or [[""] * table.shape[1]]
    header = [str(c) for c in table.columns]
    chars = [max(_text_width(text) for text in column) + 3 for column in zip(header, *cells, strict=True)]
    fig, ax = plt.subplots(figsize=(0.095 * sum(chars), 0.3 * (len(cells) + 1)))
    ax.axis("off")
    drawn = ax.table(
        cellText=cells,
        colLabels=header,
        colWidths=[c / sum(chars) for c in chars],
        cellLoc="center",
        bbox=[0.0, 0.0, 1.0, 1.0],
    )
    drawn.auto_set_font_size(False)
    drawn.set_fontsize(10)
    for (row, _), cell in drawn.get_celld().items():
        if row == 0:
            cell.set_facecolor("#dde3ea")
            cell.set_text_props(weight="bold")
    ax.set_title(title, fontsize=12, weight="bold")
    if note:
        ax.text(0.5, -0.04, note, transform=ax.transAxes, ha="center", va="top", fontsize=9, style="italic")
    return fig


def message_figure(title: str, message: str) -> Figure:
    """A placeholder figure that says why the real one cannot be drawn (e.g. attention switched off)."""
    fig, ax = plt.subplots(figsize=(6, 2))
    ax.axis("off")
    ax.set_title(title, weight="bold")
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    return fig
