"""Accuracy of `alignnet align` end to end on warped demo videos with a trained checkpoint.

Renders --videos demo videos with a known warp (`alignnet synth --warp`),
aligns each to its own music with `alignnet align --checkpoint STEM`, and
compares the CSV's source_frame with the sidecar's truth: output frame k
should show the input frame the warp placed at audio frame k. Prints AFE
(frames) and ITU-R BT.1359 accuracy per video and overall; the goal is
AFE < 1.5 frames and accuracy >= 90 %.

    python benchmarks/align_accuracy.py --checkpoint results/train/alignnet/best [--videos 3] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from alignnet.cli import main as cli_main
from alignnet.metrics import afe, itu_accuracy

FPS = 30.0


def truth_of(sidecar: dict) -> np.ndarray:
    """Input frame j shows the dance of audio frame warp[j]; invert it onto the audio's frames."""
    warp = np.asarray(sidecar["source_frame"], dtype=np.float64)
    return np.interp(np.arange(len(warp)), warp, np.arange(len(warp)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="AlignNet checkpoint stem")
    parser.add_argument("--videos", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        argv = ["synth", str(folder), "--videos", str(args.videos), "--seconds", str(args.seconds), "--warp",
                "--seed", str(args.seed), "--negatives", "0", "--no-progress"]  # fmt: skip
        if cli_main(argv) != 0:
            raise SystemExit("alignnet synth failed")
        preds, truths = [], []
        for video in sorted(folder.glob("demo-*.mp4")):
            csv = folder / f"{video.stem}.csv"
            code = cli_main(["align", str(video), str(video), "-o", str(folder / f"{video.stem}.out.mp4"),
                             "--checkpoint", args.checkpoint, "--correspondence", str(csv), "--no-progress"])  # fmt: skip
            if code != 0:
                print(f"{video.name}: align exited with {code}")
                continue
            truth = truth_of(json.loads(video.with_suffix(".json").read_text()))
            pred = pd.read_csv(csv)["source_frame"].to_numpy(np.float64)
            preds.append(pred)
            truths.append(truth)
            print(f"{video.name}: AFE {afe(pred, truth):.2f} frames, ITU accuracy {itu_accuracy(pred, truth, FPS):.1%}")
        if preds:
            pred, truth = np.concatenate(preds), np.concatenate(truths)
            print(f"all {len(preds)} videos: AFE {afe(pred, truth):.2f} frames, "
                  f"ITU accuracy {itu_accuracy(pred, truth, FPS):.1%}")  # fmt: skip


if __name__ == "__main__":
    main()
