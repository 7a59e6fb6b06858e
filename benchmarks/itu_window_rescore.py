"""Rescore an evaluation's kept predictions under the corrected ITU window and the mirrored one it replaced.

Issue #33: until 64b9fca, `itu_accuracy` counted a frame correct when -45 <= (pred - true) ms <= +125,
the ITU-R BT.1359 window mirrored. The corrected window is -125 <= (pred - true) ms <= +45. The
mirrored window equals the corrected one applied to (true - pred), so no old code is kept: this script
reads `results/evaluate/predictions.npz` (every method's predicted source frames and the truth, written
by `alignnet evaluate`) and prints, per method, AFE and the accuracy under both windows, overall and per
strength bin (the bins of `alignnet evaluate`'s strength.csv).

    python benchmarks/itu_window_rescore.py results/evaluate/predictions.npz --fps 30
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from alignnet.evaluation.tables import strength_bin_of, strength_bins
from alignnet.metrics import afe, itu_accuracy
from alignnet.report.inputs import Predictions


def _row(label: str, pred: np.ndarray, true: np.ndarray, fps: float) -> str:
    corrected = 100.0 * itu_accuracy(pred, true, fps)
    mirrored = 100.0 * itu_accuracy(true, pred, fps)  # -45 <= (pred - true) ms <= +125
    return f"| {label} | {len(pred)} | {afe(pred, true):.2f} | {mirrored:.1f} | {corrected:.1f} |"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("predictions", type=Path, help="an evaluation's predictions.npz")
    parser.add_argument("--fps", type=float, default=30.0, help="frame rate of the clips (default 30)")
    parser.add_argument("--bins", type=int, default=3, help="strength bins, as `alignnet evaluate --strength-bins`")
    args = parser.parse_args(argv)
    predictions = Predictions.load(args.predictions)
    edges = strength_bins(predictions.strength, args.bins)
    which = strength_bin_of(predictions.strength, edges)
    print(f"{args.predictions}: {len(predictions.clip_ids)} clips of {predictions.true.shape[1]} frames")
    print("| method / strength bin | clips | AFE (frames) | accuracy, mirrored window (%) | accuracy, corrected (%) |")
    print("|---|---|---|---|---|")
    for slug, pred in predictions.pred.items():
        print(_row(slug, pred, predictions.true, args.fps))
        for b in range(len(edges) - 1):
            members = which == b
            if members.any():
                label = f"{slug}, strength {edges[b]:.1f}-{edges[b + 1]:.1f}"
                print(_row(label, pred[members], predictions.true[members], args.fps))


if __name__ == "__main__":
    main()
