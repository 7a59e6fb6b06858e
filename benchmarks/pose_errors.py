"""MediaPipe's pose errors on drawn figures, beside the errors `simulate_pose_errors` puts on true keypoints.

For each figure preset (--figures, default: every training figure), draws
--videos videos of --seconds with `alignnet synth`'s general options
(recorded music of --music, the training styles), runs the pose stage's
MediaPipe backend on the pixels and measures its keypoints against the
sidecar's truth (`alignnet.demo.synth.pose_errors.measure_pose_errors`). The
last row measures the simulated errors (`PoseErrors()`) on the same truth:
the general checkpoint's training input should look like the first rows.

    python benchmarks/pose_errors.py [--figures studio home far_high dim_phone] [--videos 2] [--seconds 10]
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import astuple, fields
from pathlib import Path

import numpy as np

from alignnet.demo.synth.corpus import FPS, Options, generate_video, video_id
from alignnet.demo.synth.figures import TRAIN_FIGURES
from alignnet.demo.synth.pose_errors import PoseErrors, PoseErrorStats, measure_pose_errors, simulate_pose_errors
from alignnet.demo.synth.styles import TRAIN_STYLES
from alignnet.pose.parallel import BackendSpec, extract_pose_parallel


def _row(label: str, stats: list[PoseErrorStats]) -> str:
    values = np.array([astuple(s)[:-1] for s in stats], np.float64)
    weights = np.array([s.frames for s in stats], np.float64)
    mean = (values * weights[:, None]).sum(axis=0) / weights.sum()
    return f"| {label} | " + " | ".join(f"{v:.3f}" for v in mean) + f" | {int(weights.sum())} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--figures", nargs="+", default=list(TRAIN_FIGURES))
    parser.add_argument("--videos", type=int, default=2, help="videos per figure")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--music", default="drascula-music", help="music package (installed)")
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()

    names = [f.name for f in fields(PoseErrorStats)][:-1]
    print("| figure | " + " | ".join(names) + " | frames |")
    print("|---" * (len(names) + 2) + "|")
    simulated: list[PoseErrorStats] = []
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory(prefix="alignnet-pose-errors-") as tmp:
        for figure in args.figures:
            opts = Options(
                args.seed, args.seconds, False, 0.0, 640, 360, "recorded", (args.music,), TRAIN_STYLES, (figure,)
            )
            measured = []
            for index in range(args.videos):
                sidecar = generate_video(Path(tmp), index, opts)
                truth = np.asarray(sidecar["keypoints"], np.float64)
                video = Path(tmp) / f"{video_id(index)}.mp4"
                spec = BackendSpec("mediapipe", {"face": False})
                pose = extract_pose_parallel(video, spec, 1, max_side=640, progress=False)
                measured.append(measure_pose_errors(truth, pose.keypoints))
                simulated.append(measure_pose_errors(truth, simulate_pose_errors(rng, truth, PoseErrors(), FPS)))
            print(_row(f"{figure} (MediaPipe)", measured), flush=True)
    print(_row("simulated (PoseErrors())", simulated))


if __name__ == "__main__":
    main()
