"""CPU time and memory of align's global search (`alignnet.align.global_path`) against length.

For every --seconds (video and audio equally long), random keypoints and log-mel
of that length (the cost does not depend on the content) go through
`feature_tracks`, `global_grid` and `GlobalGrid.path` with the checkpoint's
model, after a warm-up on 10 s (numba's compile, torch's first call); prints the
grid, CPU seconds per step and the growth of the peak RSS. Run one length per
process for a clean peak:

    for s in 10 60 180 600; do python benchmarks/global_path_cost.py --checkpoint tests/data/demo_alignnet/best \\
        --seconds $s; done
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import torch

from alignnet.align import global_path
from alignnet.checkpoint import load_model
from alignnet.data.preprocessing import load_preprocessing

FPS = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, required=True, help="AlignNet checkpoint stem")
    parser.add_argument("--seconds", type=float, nargs="+", default=[10.0, 60.0, 180.0, 600.0])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, meta = load_model(args.checkpoint)
    prep = load_preprocessing(meta, f"{args.checkpoint}.json", None)
    rate = prep.logmel.sample_rate / prep.logmel.hop_length
    rng = np.random.default_rng(0)

    def search(seconds: float) -> tuple[global_path.GlobalGrid, list[float]]:
        n, m = round(seconds * FPS), round(seconds * rate)
        keypoints = np.cumsum(rng.normal(0, 0.01, (n, model.config.n_keypoints, 2)), axis=0)
        mel = rng.normal(0, 1, (prep.logmel.n_mels, m)).astype(np.float32)
        marks = [time.process_time()]
        tracks = global_path.feature_tracks(model, keypoints, mel, FPS, rate, prep.clip_seconds)
        marks.append(time.process_time())
        grid = global_path.global_grid(*tracks, n / FPS, m / rate)
        marks.append(time.process_time())
        grid.path()
        marks.append(time.process_time())
        return grid, list(np.diff(marks))

    search(10.0)  # warm-up
    for seconds in args.seconds:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        grid, (features, affinity, dtw) = search(seconds)
        growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        print(
            f"{seconds:g} s: grid {grid.affinity.shape[0]} x {grid.affinity.shape[1]} at {grid.rate:.2f}/s; CPU s "
            f"features {features:.2f}, affinity {affinity:.2f}, DTW {dtw:.2f}, total {features + affinity + dtw:.2f}; "
            f"peak RSS +{growth:.0f} MB"
        )


if __name__ == "__main__":
    main()
