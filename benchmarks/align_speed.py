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
                                     [--pose-workers N] [VIDEO]
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

from alignnet.align.pipeline import PoseOptions, align_video
from alignnet.checkpoint import save_checkpoint
from alignnet.cli import main as cli_main
from alignnet.data.logmel import LogMelConfig, LogMelStats
from alignnet.data.preprocessing import Preprocessing
from alignnet.models.alignnet import AlignNet
from alignnet.pose.backends import get_backend
from alignnet.pose.extract import extract_pose
from alignnet.pose.parallel import BackendSpec, default_workers, extract_pose_parallel


def make_video(folder: Path, seconds: float) -> Path:
    if (
        cli_main(
            [
                "synth",
                str(folder),
                "--videos",
                "1",
                "--seconds",
                str(seconds),
                "--warp",
                "--negatives",
                "0",
                "--no-progress",
            ]
        )
        != 0
    ):
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
    parser.add_argument("--pose-workers", type=int, default=None, help="align's pose processes (default: align's)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore", module="google.protobuf")
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="align-speed-") as tmp:
        folder = Path(tmp)
        video = args.video or make_video(folder / "video", args.seconds)
        checkpoint = args.checkpoint or untrained_checkpoint(folder)

        workers = args.pose_workers or default_workers("mediapipe")
        rows = [measure(video, folder, checkpoint, args.dataset, workers) for _ in range(max(args.repeats, 1))]

    print(
        f"video: {video.name if args.video else f'synth --warp, {args.seconds:g} s'}, {rows[0].frames} frames; "
        f"torch threads {args.threads}; align's pose in {workers} process(es)"
    )
    print(
        f"{'run':<4} {'':<6} {'pose 1':>8} {f'pose {workers}':>8} {'align':>8} {f'align/pose {workers}':>13} "
        f"{'align/pose 1':>13}"
    )
    for i, row in enumerate(rows, start=1):
        for kind, pose1, posen, align in (
            ("wall", row.pose_wall, row.posen_wall, row.align_wall),
            ("CPU", row.pose_cpu, row.posen_cpu, row.align_cpu),
        ):
            print(
                f"{i:<4} {kind:<6} {pose1:>7.1f}s {posen:>7.1f}s {align:>7.1f}s {align / posen:>12.2f}x "
                f"{align / pose1:>12.2f}x"
            )
        print("     align steps (wall s): " + ", ".join(f"{k} {v:.1f}" for k, v in row.steps.items()))
    for kind in ("wall", "cpu"):
        same = float(np.median([getattr(r, f"align_{kind}") / getattr(r, f"posen_{kind}") for r in rows]))
        one = float(np.median([getattr(r, f"align_{kind}") / getattr(r, f"pose_{kind}") for r in rows]))
        print(
            f"median over {len(rows)} run(s), {kind}: align/pose {workers} {same:.2f}x (goal <= 1.2x), "
            f"align/pose 1 {one:.2f}x"
        )


@dataclass
class Run:
    frames: int
    pose_wall: float
    pose_cpu: float
    posen_wall: float
    posen_cpu: float
    align_wall: float
    align_cpu: float
    steps: dict[str, float]


def measure(video: Path, folder: Path, checkpoint: Path, dataset: Path | None, workers: int) -> Run:
    """Pose in this process, pose in `workers` processes, then `alignnet align` of the video to its own audio."""
    backend = get_backend("mediapipe")
    start, cpu = time.perf_counter(), cpu_seconds()
    try:
        frames = extract_pose(video, backend, progress=False).n_frames
    finally:
        backend.close()
    pose_wall, pose_cpu = time.perf_counter() - start, cpu_seconds() - cpu
    posen_wall, posen_cpu = pose_wall, pose_cpu
    if workers > 1:
        start, cpu = time.perf_counter(), cpu_seconds()
        extract_pose_parallel(video, BackendSpec("mediapipe"), workers, progress=False)
        posen_wall, posen_cpu = time.perf_counter() - start, cpu_seconds() - cpu
    start, cpu = time.perf_counter(), cpu_seconds()
    result = align_video(
        video, video, folder / "out.mp4", checkpoint, pose=PoseOptions(workers=workers), dataset=dataset, progress=False
    )
    align_wall, align_cpu = time.perf_counter() - start, cpu_seconds() - cpu
    return Run(frames, pose_wall, pose_cpu, posen_wall, posen_cpu, align_wall, align_cpu, result.seconds)


if __name__ == "__main__":
    main()
