"""AlignNet with and without the mirror average on the saved validation and test warps of a packed dataset.

Loads a checkpoint, scores every val and test clip under its saved warp with
`mirror_average` off and on (`alignnet.models.mirror`), and prints ITU-R
BT.1359 accuracy and AFE of each.

    python benchmarks/mirror_average.py --checkpoint results/train/alignnet/best --data results/dataset/splits
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from alignnet.aligners import AlignNetAligner
from alignnet.checkpoint import load_model
from alignnet.evaluation.clips import EvalClips
from alignnet.metrics import afe, itu_accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="AlignNet checkpoint stem")
    parser.add_argument("--data", required=True, help="packed dataset (results/dataset/splits)")
    args = parser.parse_args()
    model, _ = load_model(args.checkpoint)
    for split in ("val", "test"):
        clips = EvalClips.load(args.data, split)
        for averaged in (False, True):
            model.config = dataclasses.replace(model.config, mirror_average=averaged)
            aligner = AlignNetAligner(model)
            pred = np.array(
                [aligner.align(clips.distorted(i), clips.audio(i), clips.timebase) for i in range(len(clips))]
            )
            accuracy = 100 * itu_accuracy(pred, clips.true, clips.timebase.fps)
            state = "on" if averaged else "off"
            error = afe(pred, clips.true)
            print(f"{split} ({len(clips)} clips), mirror average {state}: {accuracy:.1f} % / AFE {error:.2f} frames")


if __name__ == "__main__":
    main()
