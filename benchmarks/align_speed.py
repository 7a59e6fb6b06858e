"""Cost of `alignnet align` against pose extraction alone on the same video (goal: at most 1.2x).

Makes one demo video of --seconds (default 180) with `alignnet synth --warp`
at 640x360 in a temporary folder (or takes VIDEO), then measures on the CPU

  pose    extract_pose(VIDEO, mediapipe): what any use of the video pays anyway,
  align   align_video(VIDEO, VIDEO's own audio): 30 fps copy, pose, log-mel,
          the model in windows, rendering the re-timed video (no side-by-side),

and prints wall seconds, CPU seconds (this process and its ffmpeg children:
steadier than wall time on a shared machine), align/pose for both, and
align's wall time per step. Speed does not depend on the weights, so without
--checkpoint an untrained AlignNet is used.

    python benchmarks/align_speed.py [--seconds 180] [--checkpoint STEM [--dataset DIR]] [--threads 1] [VIDEO]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from pose_speed import cpu_seconds  # benchmarks/ is on sys.path when run as a script

from alignnet.align.pipeline import align_video
from alignnet.checkpoint import save_checkpoint
from alignnet.cli import main as cli_main
from alignnet.data.logmel import LogMelConfig, LogMelStats
from alignnet.data.preprocessing import Preprocessing
from alignnet.models.alignnet import AlignNet
from alignnet.pose.backends import get_backend
from alignnet.pose.extract import extract_pose


def make_video(folder: Path, seconds: float) -> Path:
    if cli_main(["synth", str(folder), "--videos", "1", "--seconds", str(seconds), "--warp", "--negatives", "0",
                 "--no-progress"]) != 0:  # fmt: skip
        raise SystemExit("alignnet synth failed")
    return folder / "demo-0000.mp4"


def untrained_checkpoint(folder: Path) -> Path:
    """An untrained AlignNet whose JSON records default log-mel settings and neutral statistics."""
    stats = LogMelStats(np.full(128, -40.0, np.float32), np.full(128, 20.0, np.float32))
    prep = Preprocessing(30.0, LogMelConfig(), stats)
    save_checkpoint(folder / "untrained", AlignNet(), epoch=0, metrics={}, extra={"preprocessing": prep.to_json()})
    return folder / "untrained"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", nargs="?", type=Path, help="a video to use instead of a generated one")
    parser.add_argument("--seconds", type=float, default=180.0, help="length of the generated video")
    parser.add_argument("--checkpoint", type=Path, help="AlignNet checkpoint stem (default: an untrained model)")
    parser.add_argument("--dataset", type=Path, help="packed dataset, when the checkpoint lacks its normalisation")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore", module="google.protobuf")
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="align-speed-") as tmp:
        folder = Path(tmp)
        video = args.video or make_video(folder / "video", args.seconds)
        checkpoint = args.checkpoint or untrained_checkpoint(folder)

        backend = get_backend("mediapipe")
        start, cpu = time.perf_counter(), cpu_seconds()
        try:
            frames = extract_pose(video, backend, progress=False).n_frames
        finally:
            backend.close()
        pose_wall, pose_cpu = time.perf_counter() - start, cpu_seconds() - cpu

        start, cpu = time.perf_counter(), cpu_seconds()
        result = align_video(video, video, folder / "out.mp4", checkpoint, dataset=args.dataset, progress=False)
        align_wall, align_cpu = time.perf_counter() - start, cpu_seconds() - cpu

    print(f"video: {video.name if args.video else f'synth --warp, {args.seconds:g} s'}, {frames} frames; "
          f"torch threads {args.threads}")  # fmt: skip
    print(f"{'':<8} {'wall s':>8} {'CPU s':>8}")
    print(f"{'pose':<8} {pose_wall:>8.1f} {pose_cpu:>8.1f}")
    print(f"{'align':<8} {align_wall:>8.1f} {align_cpu:>8.1f}")
    print(f"{'ratio':<8} {align_wall / pose_wall:>7.2f}x {align_cpu / pose_cpu:>7.2f}x   (goal <= 1.2x)")
    print("align steps (wall s): " + ", ".join(f"{k} {v:.1f}" for k, v in result.seconds.items()))


if __name__ == "__main__":
    main()
