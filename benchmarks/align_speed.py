"""Cost of `alignnet align` against pose extraction alone on the same video (goal: at most 1.2x).

Makes one demo video of --seconds (default 180) with `alignnet synth --warp`
at 640x360 in a temporary folder (or takes VIDEO), then measures on the CPU

  pose    extract_pose(VIDEO, mediapipe): what any use of the video pays anyway,
  align   align_video(VIDEO, VIDEO's own audio): 30 fps copy, pose, log-mel,
          the model in windows, rendering the re-timed video (no side-by-side),

and prints wall seconds, CPU seconds (this process and its ffmpeg children:
steadier than wall time on a shared machine), align/pose for both, and
align's wall time per step. With --repeats N the two alternate N times (pose,
align, pose, align, ...) and the median ratios are printed too: on a shared
machine one pair's ratio moves by a tenth from run to run. Speed does not depend on the weights, so without
--checkpoint an untrained AlignNet is used.

    python benchmarks/align_speed.py [--seconds 180] [--checkpoint STEM [--dataset DIR]] [--threads 1] [--repeats 1]
                                     [VIDEO]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
import warnings
from dataclasses import dataclass
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
    parser.add_argument("--repeats", type=int, default=1, help="pose and align pairs, alternating")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore", module="google.protobuf")
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="align-speed-") as tmp:
        folder = Path(tmp)
        video = args.video or make_video(folder / "video", args.seconds)
        checkpoint = args.checkpoint or untrained_checkpoint(folder)

        rows = [measure(video, folder, checkpoint, args.dataset) for _ in range(max(args.repeats, 1))]

    print(f"video: {video.name if args.video else f'synth --warp, {args.seconds:g} s'}, {rows[0].frames} frames; "
          f"torch threads {args.threads}")  # fmt: skip
    print(f"{'run':<4} {'pose wall':>9} {'pose CPU':>9} {'align wall':>10} {'align CPU':>10} {'ratio wall':>10} "
          f"{'ratio CPU':>10}")  # fmt: skip
    for i, row in enumerate(rows, start=1):
        print(f"{i:<4} {row.pose_wall:>9.1f} {row.pose_cpu:>9.1f} {row.align_wall:>10.1f} {row.align_cpu:>10.1f} "
              f"{row.align_wall / row.pose_wall:>9.2f}x {row.align_cpu / row.pose_cpu:>9.2f}x")  # fmt: skip
        print("     align steps (wall s): " + ", ".join(f"{k} {v:.1f}" for k, v in row.steps.items()))
    wall = float(np.median([r.align_wall / r.pose_wall for r in rows]))
    cpu = float(np.median([r.align_cpu / r.pose_cpu for r in rows]))
    print(f"median ratio over {len(rows)} run(s): wall {wall:.2f}x, CPU {cpu:.2f}x   (goal <= 1.2x)")


@dataclass
class Run:
    frames: int
    pose_wall: float
    pose_cpu: float
    align_wall: float
    align_cpu: float
    steps: dict[str, float]


def measure(video: Path, folder: Path, checkpoint: Path, dataset: Path | None) -> Run:
    """Pose extraction alone, then `alignnet align` of the video to its own audio, on the same video."""
    backend = get_backend("mediapipe")
    start, cpu = time.perf_counter(), cpu_seconds()
    try:
        frames = extract_pose(video, backend, progress=False).n_frames
    finally:
        backend.close()
    pose_wall, pose_cpu = time.perf_counter() - start, cpu_seconds() - cpu
    start, cpu = time.perf_counter(), cpu_seconds()
    result = align_video(video, video, folder / "out.mp4", checkpoint, dataset=dataset, progress=False)
    return Run(frames, pose_wall, pose_cpu, time.perf_counter() - start, cpu_seconds() - cpu, result.seconds)


if __name__ == "__main__":
    main()
