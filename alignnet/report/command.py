"""Draw the paper's figures and tables from our runs as PNGs (for `snakemake --report`).

Reads the packed dataset (--data: test_keypoints.npy, test_logmel.npy,
test_index.tsv, meta.json), the evaluation (--evaluate: predictions.npz,
results.csv, strength.csv, keypoint_errors.csv, bandwidth.csv), the ablation table
(--ablation: ablation.csv), an AlignNet checkpoint (--checkpoint STEM, for its
attention) and the dataset summary (--summary). Writes into --out:

  fig3_skeletons.png          skeleton strips: original, distorted, re-timed by each method
  fig4_motion_error.png       per-keypoint motion (velocity) error after alignment, per method
  fig4_location_error.png     per-keypoint location error after alignment, per method
  fig6_correspondence.png     predicted against true correspondence, sample test clips
  fig6_ablation.png           the ablation ladder's accuracy beside the paper's
  table3_ablation.png         table 3: AFE and accuracy of the ablation ladder
  fig7_keypoint_attention.png learned keypoint attention on a skeleton, with its bars
  fig8_temporal_attention.png temporal attention over a mel-spectrogram and its onset envelope
  results_table.png           AFE, accuracy and time per method, the paper's numbers beside
  accuracy_vs_strength.png    accuracy and AFE against distortion strength
  accuracy_vs_bandwidth.png   accuracy and AFE with the music low-passed (lossy codecs, low sample rates)
  dataset_summary.png         counts at every stage of the dataset

Example:
  alignnet figures --data results/dataset/splits --evaluate results/evaluate \\
      --ablation results/ablation --checkpoint results/train/alignnet/best \\
      --summary results/dataset/summary.json --out results/report
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path

import torch
from matplotlib.figure import Figure
from tqdm import tqdm

from alignnet.checkpoint import load_model
from alignnet.errors import UserInputError
from alignnet.report import (
    ablation,
    attention,
    correspondence,
    keypoint_errors,
    skeleton,
    tables,
)
from alignnet.report.inputs import (
    ABLATION_COLUMNS,
    BANDWIDTH_COLUMNS,
    KEYPOINT_ERROR_COLUMNS,
    RESULTS_COLUMNS,
    STRENGTH_COLUMNS,
    Predictions,
    SplitData,
    load_summary,
    read_table,
)
from alignnet.report.style import PathLike, save_figure

log = logging.getLogger(__name__)

FIGURES = (
    "fig3_skeletons.png",
    "fig4_motion_error.png",
    "fig4_location_error.png",
    "fig6_correspondence.png",
    "fig6_ablation.png",
    "table3_ablation.png",
    "fig7_keypoint_attention.png",
    "fig8_temporal_attention.png",
    "results_table.png",
    "accuracy_vs_strength.png",
    "accuracy_vs_bandwidth.png",
    "dataset_summary.png",
)


def make_figures(
    data: PathLike,
    evaluate: PathLike,
    ablation_dir: PathLike,
    checkpoint: PathLike,
    summary: PathLike,
    out: PathLike,
    clip: str | None = None,
    columns: int = 8,
    curves: int = 4,
) -> list[Path]:
    """Write every figure of FIGURES under `out`; returns their paths.

    clip: the test clip of figures 3 and 8 (default: the most strongly distorted one).
    """
    evaluate, ablation_dir, out = Path(evaluate), Path(ablation_dir), Path(out)
    split = SplitData.load(data)
    predictions = Predictions.load(evaluate / "predictions.npz")
    results = read_table(evaluate / "results.csv", RESULTS_COLUMNS)
    strength = read_table(evaluate / "strength.csv", STRENGTH_COLUMNS)
    bandwidth = read_table(evaluate / "bandwidth.csv", BANDWIDTH_COLUMNS)
    errors = read_table(evaluate / "keypoint_errors.csv", KEYPOINT_ERROR_COLUMNS)
    ladder = read_table(ablation_dir / "ablation.csv", ABLATION_COLUMNS)
    model, _ = load_model(str(checkpoint).removesuffix(".safetensors"))
    counts = load_summary(summary)
    clip = clip or skeleton.pick_clip(predictions)
    if clip not in predictions.clip_ids:
        raise UserInputError(f"--clip {clip!r}: not a clip of {evaluate / 'predictions.npz'}")

    makers: dict[str, Callable[[], Figure]] = {
        "fig3_skeletons.png": lambda: skeleton.skeleton_strips(split, predictions, clip, columns),
        "fig4_motion_error.png": lambda: keypoint_errors.keypoint_error_bars(errors, "velocity_error"),
        "fig4_location_error.png": lambda: keypoint_errors.keypoint_error_bars(errors, "location_error"),
        "fig6_correspondence.png": lambda: correspondence.correspondence_curves(predictions, curves),
        "fig6_ablation.png": lambda: ablation.ablation_bars(ladder),
        "table3_ablation.png": lambda: ablation.ablation_table(ladder),
        "fig7_keypoint_attention.png": lambda: attention.keypoint_attention_figure(model, split),
        "fig8_temporal_attention.png": lambda: attention.temporal_attention_figure(model, split, clip),
        "results_table.png": lambda: tables.results_table_figure(results),
        "accuracy_vs_strength.png": lambda: tables.strength_figure(strength),
        "accuracy_vs_bandwidth.png": lambda: tables.bandwidth_figure(bandwidth),
        "dataset_summary.png": lambda: tables.summary_table(counts),
    }
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in tqdm(FIGURES, desc="figures", unit="figure"):
        save_figure(makers[name](), out / name)
        written.append(out / name)
    return written


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="DIR", help="packed dataset directory (alignnet split)")
    parser.add_argument("--evaluate", required=True, metavar="DIR", help="directory of alignnet evaluate's outputs")
    parser.add_argument("--ablation", required=True, metavar="DIR", help="directory holding ablation.csv")
    parser.add_argument(
        "--checkpoint", required=True, metavar="STEM", help="AlignNet checkpoint (STEM.safetensors + STEM.json)"
    )
    parser.add_argument("--summary", required=True, metavar="JSON", help="dataset summary (alignnet summary)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory for the PNGs")
    parser.add_argument("--clip", metavar="CLIP_ID", help="test clip of figures 3 and 8; by default the most distorted")
    parser.add_argument("--columns", type=int, default=8, help="poses per row in figure 3")
    parser.add_argument("--curves", type=int, default=4, help="sample clips in figure 6 (left)")


def run(args: argparse.Namespace) -> int:
    torch.set_num_threads(1)
    written = make_figures(
        args.data,
        args.evaluate,
        args.ablation,
        args.checkpoint,
        args.summary,
        args.out,
        args.clip,
        args.columns,
        args.curves,
    )
    log.info("wrote %d figures to %s", len(written), args.out)
    return 0
