"""Speed of the pose stage against its parts: ffmpeg decoding, raw MediaPipe, and both overlapped.

For each video (default: a demo dancer from `alignnet synth` at 640x360 and
1280x720, 300 frames each, made in a temporary folder; `--source testsrc`
for ffmpeg's test pattern, where MediaPipe finds nobody and so runs its
detector on every frame; or the paths given) prints frames/s of
  decode  iter_frames alone, at the size the pose stage decodes (--max-side),
  raw     mp.solutions.pose.Pose.process alone on those frames, pre-decoded,
  stage   extract_pose(video, mediapipe backend) end to end,
and stage/raw (goal >= 0.9: decoding hidden behind inference), and CPU
ms per frame of raw and stage (stage includes ffmpeg): on a busy machine
the CPU figures are steadier than the rates. Each figure
is the best of --repeat runs, raw and stage interleaved, as other load on
the machine only ever slows a run down.

    python benchmarks/pose_speed.py [--source synth|testsrc] [--frames 300] [--repeat 2] [--max-side 640] [VIDEO ...]
"""

from __future__ import annotations

import argparse
import logging
import resource
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import mediapipe as mp
import numpy as np

from alignnet.cli import main as cli_main
from alignnet.pose.backends import get_backend
from alignnet.pose.extract import decode_size, extract_pose, probe_video
from alignnet.video_frames import iter_frames


def make_testsrc(path: Path, width: int, height: int, frames: int) -> Path:
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size={width}x{height}:rate=30",
            "-frames:v",
            str(frames),
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
    )
    return path


def make_synth(folder: Path, width: int, height: int, frames: int) -> Path:
    """One demo video (30 fps) from `alignnet synth`."""
    folder.mkdir(parents=True, exist_ok=True)
    code = cli_main(
        [
            "synth",
            str(folder),
            "--videos",
            "1",
            "--seconds",
            str(frames / 30),
            "--negatives",
            "0",
            "--width",
            str(width),
            "--height",
            str(height),
            "--no-progress",
        ]
    )
    if code != 0:
        raise SystemExit(f"alignnet synth failed ({code})")
    return folder / "demo-0000.mp4"


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (ffmpeg)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def raw_mediapipe(frames: list[np.ndarray]) -> tuple[float, float]:
    """(frames/s, CPU ms/frame) of mp.solutions.pose.Pose.process alone over pre-decoded RGB frames."""
    with mp.solutions.pose.Pose(
        static_image_mode=False, model_complexity=1, min_detection_confidence=0.5, min_tracking_confidence=0.5
    ) as pose:
        start, cpu = time.perf_counter(), cpu_seconds()
        for frame in frames:
            pose.process(frame)
        return len(frames) / (time.perf_counter() - start), (cpu_seconds() - cpu) * 1000 / len(frames)


def pose_stage(video: Path, max_side: int | None) -> tuple[float, float]:
    """(frames/s, CPU ms/frame including ffmpeg) of extract_pose with the mediapipe backend."""
    backend = get_backend("mediapipe")
    try:
        start, cpu = time.perf_counter(), cpu_seconds()
        seq = extract_pose(video, backend, max_side=max_side, progress=False)
        return seq.n_frames / (time.perf_counter() - start), (cpu_seconds() - cpu) * 1000 / seq.n_frames
    finally:
        backend.close()


def measure(video: Path, max_side: int | None, repeat: int) -> dict[str, float | str]:
    """Best-of-`repeat` frames/s (and the least CPU ms/frame) of decoding, raw MediaPipe and the pose stage."""
    info = probe_video(video)
    size = decode_size(info.width, info.height, max_side)
    scaled = None if size == (info.width, info.height) else size
    decode, raw, stage, raw_cpu, stage_cpu = 0.0, 0.0, 0.0, float("inf"), float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        frames = list(iter_frames(video, size=scaled))
        decode = max(decode, len(frames) / (time.perf_counter() - start))
        fps, cpu = raw_mediapipe(frames)
        raw, raw_cpu = max(raw, fps), min(raw_cpu, cpu)
        fps, cpu = pose_stage(video, max_side)
        stage, stage_cpu = max(stage, fps), min(stage_cpu, cpu)
    return {
        "frames": len(frames),
        "decode": decode,
        "raw": raw,
        "stage": stage,
        "ratio": stage / raw,
        "raw_cpu": raw_cpu,
        "stage_cpu": stage_cpu,
        "size": f"{info.width}x{info.height}->{size[0]}x{size[1]}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("videos", nargs="*", type=Path)
    parser.add_argument("--source", choices=["synth", "testsrc"], default="synth", help="generated videos")
    parser.add_argument("--frames", type=int, default=300, help="frames of each generated video")
    parser.add_argument("--repeat", type=int, default=2, help="runs per figure; the best is printed")
    parser.add_argument("--max-side", type=int, default=640, help="as `alignnet pose --max-side` (0: full size)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore", module="google.protobuf")
    with tempfile.TemporaryDirectory() as tmp:
        sizes = ((640, 360), (1280, 720))
        if args.videos:
            videos = args.videos
        elif args.source == "synth":
            videos = [make_synth(Path(tmp) / f"synth_{w}x{h}", w, h, args.frames) for w, h in sizes]
        else:
            videos = [make_testsrc(Path(tmp) / f"testsrc_{w}x{h}.mp4", w, h, args.frames) for w, h in sizes]
        header = ("video", "size", "frames", "decode f/s", "raw f/s", "stage f/s", "stage/raw", "raw/stage CPU ms/f")
        print("{:<16} {:<18} {:>6} {:>10} {:>8} {:>9} {:>9} {:>19}".format(*header))
        for video in videos:
            r = measure(video, args.max_side or None, args.repeat)
            label = video.name if args.videos or args.source == "testsrc" else video.parent.name
            print(
                f"{label:<16} {r['size']:<18} {r['frames']:>6} {r['decode']:>10.1f} {r['raw']:>8.1f} "
                f"{r['stage']:>9.1f} {r['ratio']:>8.2f}x {r['raw_cpu']:>9.1f}/{r['stage_cpu']:<9.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
