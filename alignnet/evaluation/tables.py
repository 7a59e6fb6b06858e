"""Result tables of an evaluation (AFE, ITU accuracy, wall time, strength bins, keypoint errors) and their files.

Accuracy is in percent everywhere, AFE in frames. Files under OUTDIR:
    results.csv / results.md   method, clips, frames, afe, accuracy, seconds, cpu_seconds, ms_per_clip,
                               paper_afe, paper_accuracy
    predictions.npz            clip_ids, true (n_clips, n), strength (n_clips,), pred_<slug> (n_clips, n)
    strength.csv               method, strength_bin, strength_lo, strength_hi, clips, afe, accuracy
    keypoint_errors.csv        method, keypoint, location_error, velocity_error
    bandwidth.csv              method, band, cutoff_hz (empty: full band), afe, accuracy
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from alignnet.atomic import atomic_output
from alignnet.evaluation.clips import EvalClips
from alignnet.evaluation.runner import MethodResult
from alignnet.metrics import afe, itu_accuracy, keypoint_errors

# Paper, Dance50 (table 1): method name -> (AFE in frames, accuracy in %).
PAPER_DANCE50: dict[str, tuple[float, float]] = {
    "SyncNet": (6.58, 25.88),
    "SyncNet+DTW": (4.27, 38.29),
    "AlignNet": (0.94, 89.60),
}
# Paper, VoxCeleb2 lip-speech (table 2).
PAPER_VOXCELEB2: dict[str, tuple[float, float]] = {
    "SyncNet": (6.33, 27.41),
    "SyncNet+DTW": (3.96, 35.94),
    "AlignNet": (1.03, 81.05),
}
PAPER_RESULTS = {"dance": PAPER_DANCE50, "lips": PAPER_VOXCELEB2}


def _scores(pred: np.ndarray, true: np.ndarray, fps: float) -> tuple[float, float]:
    """(AFE in frames, ITU accuracy in %)."""
    return afe(pred, true), 100.0 * itu_accuracy(pred, true, fps)


def results_table(clips: EvalClips, results: Sequence[MethodResult]) -> pd.DataFrame:
    """One row per method: AFE, accuracy (%), wall time, and the paper's numbers for the task (NaN where none)."""
    rows = []
    for result in results:
        error, accuracy = _scores(result.pred, clips.true, clips.timebase.fps)
        paper_afe, paper_accuracy = PAPER_RESULTS[clips.task].get(result.name, (math.nan, math.nan))
        rows.append(
            {
                "method": result.name,
                "clips": len(clips),
                "frames": int(result.pred.size),
                "afe": error,
                "accuracy": accuracy,
                "seconds": result.seconds,
                "cpu_seconds": result.cpu_seconds,
                "ms_per_clip": 1000.0 * result.seconds / len(clips),
                "paper_afe": paper_afe,
                "paper_accuracy": paper_accuracy,
            }
        )
    return pd.DataFrame(rows)


def strength_bins(strength: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin edges (n_bins' + 1,) over the clips' strengths: quantiles, so each bin holds about as many clips."""
    edges = np.unique(np.quantile(strength, np.linspace(0.0, 1.0, n_bins + 1)))
    return edges if len(edges) > 1 else np.array([edges[0], edges[0]])


def strength_bin_of(strength: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Each clip's bin in `edges` (strength_bins): 0 ... len(edges) - 2, the last bin closed on the right."""
    return np.clip(np.searchsorted(edges, strength, side="right") - 1, 0, len(edges) - 2)


def strength_table(clips: EvalClips, results: Sequence[MethodResult], n_bins: int) -> pd.DataFrame:
    """Accuracy against distortion strength: one row per (method, strength bin), bins of mean |true - identity|."""
    strength = clips.strength()
    edges = strength_bins(strength, n_bins)
    which = strength_bin_of(strength, edges)
    rows = []
    for result in results:
        for b in range(len(edges) - 1):
            members = which == b
            if not members.any():
                continue
            error, accuracy = _scores(result.pred[members], clips.true[members], clips.timebase.fps)
            rows.append(
                {
                    "method": result.name,
                    "strength_bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                    "strength_lo": edges[b],
                    "strength_hi": edges[b + 1],
                    "clips": int(members.sum()),
                    "afe": error,
                    "accuracy": accuracy,
                }
            )
    return pd.DataFrame(rows)


def keypoint_table(clips: EvalClips, results: Sequence[MethodResult]) -> pd.DataFrame:
    """Per (method, keypoint): location and velocity error after alignment, mean over clips (normalised units)."""
    names = clips.keypoint_names()
    rows = []
    for result in results:
        per_clip = [keypoint_errors(clips.source[i], result.pred[i], clips.true[i]) for i in range(len(clips))]
        location = np.mean([loc for loc, _ in per_clip], axis=0)
        velocity = np.mean([vel for _, vel in per_clip], axis=0)
        rows += [
            {"method": result.name, "keypoint": name, "location_error": float(loc), "velocity_error": float(vel)}
            for name, loc, vel in zip(names, location, velocity, strict=True)
        ]
    return pd.DataFrame(rows)


def markdown_table(table: pd.DataFrame, headers: dict[str, str], digits: int = 2) -> str:
    """A GitHub Markdown table of the columns in `headers` (column -> header), numbers rounded; NaN as "-"."""

    def cell(value: object) -> str:
        if isinstance(value, float | np.floating):
            return "-" if math.isnan(value) else f"{value:.{digits}f}"
        return str(value)

    lines = ["| " + " | ".join(headers.values()) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(row[c]) for c in headers) + " |" for _, row in table.iterrows()]
    return "\n".join(lines) + "\n"


RESULTS_HEADERS = {
    "method": "method",
    "clips": "clips",
    "frames": "frames",
    "afe": "AFE (frames)",
    "accuracy": "accuracy (%)",
    "seconds": "seconds total",
    "cpu_seconds": "CPU seconds",
    "ms_per_clip": "ms per clip",
    "paper_afe": "paper AFE",
    "paper_accuracy": "paper accuracy (%)",
}


def band_label(cutoff_hz: float | None) -> str:
    """ "full band", or the cutoff in kHz: 16000 -> "16 kHz", 11025 -> "11.025 kHz"."""
    return "full band" if cutoff_hz is None else f"{cutoff_hz / 1000:g} kHz"


def bandwidth_table(clips: EvalClips, runs: Sequence[tuple[float | None, Sequence[MethodResult]]]) -> pd.DataFrame:
    """Accuracy against the music's bandwidth: one row per (cutoff, method); runs: (cutoff Hz or None, results)."""
    rows = []
    for cutoff, results in runs:
        for result in results:
            error, accuracy = _scores(result.pred, clips.true, clips.timebase.fps)
            rows.append(
                {
                    "method": result.name,
                    "band": band_label(cutoff),
                    "cutoff_hz": math.nan if cutoff is None else float(cutoff),
                    "afe": error,
                    "accuracy": accuracy,
                }
            )
    return pd.DataFrame(rows, columns=["method", "band", "cutoff_hz", "afe", "accuracy"])


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    with atomic_output(path) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")


def write_evaluation(
    out_dir: str | Path,
    clips: EvalClips,
    results: Sequence[MethodResult],
    n_bins: int = 4,
    bandwidth: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Write every file of an evaluation under out_dir (see the module docstring); returns the results table.

    bandwidth: `bandwidth_table`'s rows for bandwidth.csv (None: not written).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = results_table(clips, results)
    _write_csv(table, out / "results.csv")
    with atomic_output(out / "results.md") as tmp:
        tmp.write_text(
            f"Test clips: {len(clips)} at {clips.timebase.fps:g} fps, the same saved distortions for every method; "
            "time of the align calls only (wall clock and process CPU).\n\n" + markdown_table(table, RESULTS_HEADERS)
        )
    _write_csv(strength_table(clips, results, n_bins), out / "strength.csv")
    _write_csv(keypoint_table(clips, results), out / "keypoint_errors.csv")
    if bandwidth is not None:
        _write_csv(bandwidth, out / "bandwidth.csv")
    with atomic_output(out / "predictions.npz") as tmp:
        np.savez(
            tmp,
            clip_ids=np.asarray(clips.clip_ids, dtype=str),
            true=clips.true,
            strength=clips.strength(),
            **{f"pred_{r.slug}": r.pred for r in results},
        )
    return table
