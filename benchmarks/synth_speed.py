"""Speed of `alignnet synth`: seconds of video generated per wall second and per CPU second.

Generates good videos (music, drawing, H.264/AAC encoding, sidecar) into a
temporary directory, one at a time as the command does, and prints the
throughput. CPU time counts this process and its ffmpeg children.

    python benchmarks/synth_speed.py --videos 4 --seconds 10 --width 640 --height 360
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from alignnet.demo.synth.corpus import Options, generate_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--warp", action="store_true")
    args = parser.parse_args()

    opts = Options(seed=0, seconds=args.seconds, warp=args.warp, negatives=0.0, width=args.width, height=args.height)
    cpu0 = time.process_time()
    child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="synth-speed-") as tmp:
        corpus = generate_corpus(Path(tmp), args.videos, opts, progress=False)
    wall = time.perf_counter() - wall0
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_self = time.process_time() - cpu0
    cpu_ffmpeg = (child.ru_utime - child0.ru_utime) + (child.ru_stime - child0.ru_stime)
    video_s = sum(v["duration"] for v in corpus["videos"])
    print(f"{args.videos} videos x {args.seconds:g} s at {args.width}x{args.height}: {video_s:.0f} s of video")
    print(f"wall {wall:.1f} s -> {video_s / wall:.2f} s of video per wall second")
    print(
        f"cpu {cpu_self:.1f} s python + {cpu_ffmpeg:.1f} s ffmpeg -> {video_s / (cpu_self + cpu_ffmpeg):.2f} s of video per cpu second"
    )


if __name__ == "__main__":
    main()
