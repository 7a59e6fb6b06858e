"""Figure 4: per-keypoint motion (velocity) and location errors after alignment, per method (grouped bars).

Errors come from keypoint_errors.csv (method, keypoint, location_error,
velocity_error), with velocities and locations normalised to (-1, 1) per
coordinate by the evaluation.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from alignnet.report.style import method_colour, method_label

ERROR_COLUMNS = {"velocity_error": "motion (velocity) error", "location_error": "location error"}


def keypoint_error_bars(table: pd.DataFrame, column: str) -> Figure:
    """Grouped bars: one group per keypoint (in the table's order), one bar per method.

    Keypoints whose error is 0 for every method (the reference point the
    keypoints are centred on, e.g. MidHip) are left out and named under the axis.
    """
    keypoints = list(dict.fromkeys(table["keypoint"].astype(str)))
    methods = list(dict.fromkeys(table["method"].astype(str)))
    values = (
        table.assign(keypoint=table["keypoint"].astype(str), method=table["method"].astype(str))
        .pivot_table(index="keypoint", columns="method", values=column, aggfunc="mean")
        .reindex(index=keypoints, columns=methods)
    )
    fixed = [k for k in keypoints if np.all(values.loc[k].fillna(0).to_numpy() == 0)]
    if len(fixed) == len(keypoints):  # nothing but zeros (a perfect method alone): draw them all
        fixed = []
    keypoints = [k for k in keypoints if k not in fixed]
    values = values.reindex(index=keypoints)
    x = np.arange(len(keypoints))
    width = 0.8 / max(len(methods), 1)
    fig, ax = plt.subplots(figsize=(max(8.0, 0.6 * len(keypoints) + 2), 4.8))
    for position, method in enumerate(methods):
        ax.bar(
            x + (position - (len(methods) - 1) / 2) * width,
            values[method].to_numpy(),
            width,
            label=f"{method_label(method)} (mean {values[method].mean():.3f})",
            color=method_colour(method, position),
        )
    ax.set_xticks(x, keypoints, rotation=45, ha="right")
    ax.set_xlim(-0.6, len(keypoints) - 0.4)
    ax.set_xlabel("keypoint" + (f" ({', '.join(fixed)}: the reference point, error 0, not shown)" if fixed else ""))
    ax.set_ylabel(f"mean {ERROR_COLUMNS[column]}\n(coordinates scaled to (-1, 1))")
    ax.set_title(f"Per-keypoint {ERROR_COLUMNS[column]} after alignment (lower is better)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=9, ncols=len(methods), loc="upper center", bbox_to_anchor=(0.5, -0.42), frameon=False)
    fig.tight_layout()
    return fig
