"""The results table, accuracy against distortion strength and against the music's bandwidth, the dataset summary.

results.csv, strength.csv and bandwidth.csv are `alignnet evaluate`'s (accuracy in percent, AFE in frames).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from alignnet.report.style import method_colour, method_label, table_figure


def _number(value: Any, digits: int = 2) -> str:
    return "" if pd.isna(value) else f"{float(value):.{digits}f}"


def results_table_figure(table: pd.DataFrame) -> Figure:
    """Every method: clips, AFE and ITU accuracy beside the paper's, time per clip."""
    shown = pd.DataFrame({"method": table["method"].astype(str).map(method_label)})
    if "clips" in table:
        shown["clips"] = table["clips"].astype(int)
    shown["AFE (frames)"] = table["afe"].map(_number)
    shown["paper AFE"] = table["paper_afe"].map(_number)
    shown["accuracy (%)"] = table["accuracy"].map(_number)
    shown["paper accuracy (%)"] = table["paper_accuracy"].map(_number)
    if "ms_per_clip" in table:
        shown["time per clip (ms)"] = table["ms_per_clip"].map(lambda v: _number(v, 1))
    return table_figure(
        shown,
        "Alignment on the distorted test clips",
        note="accuracy: share of frames inside the ITU-R BT.1359 window (-125 ms <= predicted - true <= +45 ms); "
        "paper: Dance50 (Table 1), or VoxCeleb2 (Table 2) for the lips task",
    )


def strength_figure(table: pd.DataFrame) -> Figure:
    """ITU accuracy (left) and AFE (right) per distortion-strength bin, one line per method."""
    return _per_method_lines(
        table, "strength_bin", "distortion strength: mean |true source frame - frame| (frames)", "distortion strength"
    )


def bandwidth_figure(table: pd.DataFrame) -> Figure:
    """ITU accuracy (left) and AFE (right) with the music full band and low-passed, one line per method."""
    return _per_method_lines(table, "band", "the music's bandwidth (low-pass cutoff)", "the music's bandwidth")


def _per_method_lines(table: pd.DataFrame, column: str, xlabel: str, against: str) -> Figure:
    """Accuracy and AFE against the categories of `column`, in their order in the table, one line per method."""
    categories = list(dict.fromkeys(table[column].astype(str)))
    x = range(len(categories))
    fig, (acc_ax, afe_ax) = plt.subplots(1, 2, figsize=(12, 4.2))
    for position, (method, rows) in enumerate(table.groupby("method", sort=False)):
        rows = rows.set_index(rows[column].astype(str)).reindex(categories)
        style = {"color": method_colour(str(method), position), "marker": "o", "label": method_label(str(method))}
        acc_ax.plot(x, rows["accuracy"].to_numpy(), **style)
        afe_ax.plot(x, rows["afe"].to_numpy(), **style)
    for ax, ylabel in ((acc_ax, "ITU-R BT.1359 accuracy (%)"), (afe_ax, "AFE (frames)")):
        ax.set_xticks(list(x), categories, rotation=30, ha="right")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    acc_ax.set_ylim(0, 105)
    acc_ax.set_title(f"Accuracy against {against}")
    afe_ax.set_title(f"Average frame error against {against}")
    acc_ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def flatten(summary: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested summary -> [("filter / clips rejected / no person", "4"), ...]; empty dicts shown as 'none'."""
    rows: list[tuple[str, str]] = []
    for key, value in summary.items():
        name = f"{prefix}{str(key).replace('_', ' ')}"
        if isinstance(value, Mapping) and value:
            rows += flatten(value, f"{name} / ")
        elif isinstance(value, Mapping):
            rows.append((name, "none"))
        elif isinstance(value, float):
            rows.append((name, f"{value:.3g}"))
        else:
            rows.append((name, str(value)))
    return rows


def summary_table(summary: Mapping[str, Any]) -> Figure:
    """The dataset summary (counts at every stage) as a two-column table."""
    shown = pd.DataFrame(flatten(summary), columns=["stage / count", "value"])
    return table_figure(shown, "Dataset summary: counts at every stage")
