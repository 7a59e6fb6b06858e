"""Figure 3: skeleton strips of one test clip: original, distorted, and re-timed by each method.

Keypoints are the split's body-centred pixels (mid-hip at 0, y down); poses
are drawn with y up, side by side along the audio's timeline.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from alignnet.distort.warps import apply_warp
from alignnet.metrics import afe, retime_to_source
from alignnet.report.inputs import Predictions, SplitData
from alignnet.report.style import TRUTH_COLOUR, method_colour, method_label


def draw_pose(
    ax: Axes,
    pose: np.ndarray,
    segments: Sequence[tuple[int, int]],
    dx: float = 0.0,
    colour: str = "black",
    alpha: float = 1.0,
    linewidth: float = 1.6,
    zorder: int = 2,
) -> None:
    """One pose (K, 2) in image pixels (y down) with its layout's segments, shifted right by dx, drawn with y up."""
    x, y = pose[:, 0] + dx, -pose[:, 1]
    for a, b in segments:
        ax.plot(
            [x[a], x[b]],
            [y[a], y[b]],
            color=colour,
            alpha=alpha,
            linewidth=linewidth,
            solid_capstyle="round",
            zorder=zorder,
        )
    ax.scatter(x, y, s=6, color=colour, alpha=alpha, zorder=zorder + 1)


def pick_clip(predictions: Predictions) -> str:
    """The test clip with the strongest distortion (most visible in a strip)."""
    return predictions.clip_ids[int(np.argmax(predictions.strength))]


def skeleton_strips(split: SplitData, predictions: Predictions, clip_id: str, n_columns: int = 8) -> Figure:
    """Rows: original, distorted, and each method's re-timed clip, at n_columns evenly spaced audio times.

    A method's row shows the distorted clip played back on the source timeline with its predicted
    correspondence (`alignnet.metrics.retime_to_source`); a perfect method reproduces the original.
    """
    source = np.asarray(split.keypoints[split.row(clip_id)], np.float32)  # (n_src, K, 2)
    i = predictions.clip_ids.index(clip_id)
    true = predictions.true[i]
    distorted = apply_warp(source, true)
    n_src = len(source)
    rows: list[tuple[str, np.ndarray, str]] = [
        ("Original\n(plays with the audio)", source, TRUTH_COLOUR),
        (f"Distorted input\nAFE {afe(np.arange(len(true)), true):.2f}", distorted, "#7f7f7f"),
    ]
    for position, (slug, pred) in enumerate(predictions.pred.items()):
        aligned = retime_to_source(distorted, pred[i], np.arange(n_src))
        rows.append((f"{method_label(slug)}\nAFE {afe(pred[i], true):.2f}", aligned, method_colour(slug, position)))

    frames = np.linspace(0, n_src - 1, n_columns).round().astype(int)
    width = float(np.ptp(source[..., 0])) or 1.0
    spacing = 1.3 * width
    fig, axes = plt.subplots(len(rows), 1, figsize=(1.7 * n_columns, 1.9 * len(rows)), sharex=True, sharey=True)
    for ax, (label, poses, colour) in zip(axes, rows, strict=True):
        for column, t in enumerate(frames):
            if poses is not source:
                draw_pose(
                    ax, source[t], split.layout.segments, column * spacing, colour="#bbbbbb", linewidth=3.0, zorder=1
                )
            draw_pose(ax, poses[min(t, len(poses) - 1)], split.layout.segments, column * spacing, colour=colour)
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
        ax.set_aspect("equal")
        ax.set_yticks([])
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    axes[-1].set_xticks(np.arange(n_columns) * spacing, [f"{t / split.fps:.1f}" for t in frames])
    axes[-1].set_xlabel("time on the audio's timeline (s)")
    fig.suptitle(
        f"Skeletons of test clip {clip_id}: original, distorted, and re-timed by each method (grey: original)",
        fontsize=12,
    )
    fig.tight_layout()
    return fig
