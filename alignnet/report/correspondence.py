"""Figure 6 (left): predicted against true correspondence for sample test clips.

x: frame of the distorted video; y: the source frame it shows (truth) or the
one each method predicts. The dotted diagonal is "no distortion".
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from alignnet.report.inputs import Predictions
from alignnet.report.style import TRUTH_COLOUR, method_colour, method_label


def sample_clips(predictions: Predictions, count: int = 4) -> list[int]:
    """Rows of `count` clips spread over the distortion strengths (weakest to strongest)."""
    order = np.argsort(predictions.strength, kind="stable")
    picks = np.linspace(0, len(order) - 1, min(count, len(order))).round().astype(int)
    return [int(order[p]) for p in dict.fromkeys(picks)]


def correspondence_curves(predictions: Predictions, count: int = 4) -> Figure:
    """One panel per sample clip: the true curve and every method's prediction, in frames."""
    rows = sample_clips(predictions, count)
    columns = min(len(rows), 2)
    n_rows = -(-len(rows) // columns)
    fig, axes = plt.subplots(n_rows, columns, figsize=(6.0 * columns, 4.2 * n_rows), squeeze=False)
    for ax, i in zip(axes.flat, rows, strict=False):
        true = predictions.true[i]
        frames = np.arange(len(true))
        ax.plot(frames, frames, ":", color="#999999", linewidth=1, label="no distortion")
        ax.plot(frames, true, color=TRUTH_COLOUR, linewidth=2.5, label="true")
        for position, (slug, pred) in enumerate(predictions.pred.items()):
            ax.plot(frames, pred[i], color=method_colour(slug, position), linewidth=1.5, label=method_label(slug))
        ax.set_title(f"clip {predictions.clip_ids[i]} (distortion strength {predictions.strength[i]:.3g})")
        ax.set_xlabel("distorted video frame")
        ax.set_ylabel("source frame (original clip)")
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(rows) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=9, loc="upper left")
    fig.suptitle("Predicted against true correspondence on test clips", fontsize=13)
    fig.tight_layout()
    return fig
