"""Speed of the clip stage: normalise + clip realtime factor next to ffmpeg decoding alone.

Generates test videos (ffmpeg lavfi testsrc2 + sine, H.264 + AAC) in a temporary
directory, then for each prints the seconds of media processed per wall-clock
second by (1) `ffmpeg -i VIDEO -f null -` (decode only) and (2) the clip stage
(alignnet.data.clips.clip_video with the default config).

    .venv/bin/python benchmarks/clip_speed.py --videos 3 --seconds 60
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import ffmpeg

from alignnet.data.clips import ClipConfig, clip_video


def make_video(path: Path, seconds: float, size: str, rate: int) -> Path:
    video = ffmpeg.input(f"testsrc2=s={size}:r={rate}:d={seconds}", format="lavfi")
    audio = ffmpeg.input(f"sine=f=440:sample_rate=48000:d={seconds}", format="lavfi")
    ffmpeg.output(
        video, audio, str(path), vcodec="libx264", preset="veryfast", pix_fmt="yuv420p", acodec="aac"
    ).global_args("-loglevel", "error").overwrite_output().run()
    return path


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and its finished children (ffmpeg)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def decode(path: Path) -> None:
    ffmpeg.input(str(path)).output("-", format="null").global_args("-loglevel", "error").run(quiet=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--rate", type=int, default=30, help="source frame rate")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        videos = [make_video(root / f"v{i}.mp4", args.seconds, args.size, args.rate) for i in range(args.videos)]
        wall = {"decode": 0.0, "clip": 0.0}
        cpu = {"decode": 0.0, "clip": 0.0}
        print(f"{'video':<8}{'media s':>9}{'decode x':>10}{'clip x':>9}")
        for video in videos:
            jobs = {
                "decode": lambda video=video: decode(video),
                "clip": lambda video=video: clip_video(video, root / f"{video.stem}_clips", ClipConfig()),
            }
            speed = {}
            for name, work in jobs.items():
                start, cpu_start = time.perf_counter(), cpu_seconds()
                work()
                seconds = time.perf_counter() - start
                wall[name] += seconds
                cpu[name] += cpu_seconds() - cpu_start
                speed[name] = args.seconds / seconds
            print(f"{video.stem:<8}{args.seconds:>9.1f}{speed['decode']:>10.1f}{speed['clip']:>9.1f}")
        media = args.seconds * len(videos)
        print(
            f"total: {media:.0f} s of {args.size} {args.rate} fps media; realtime factor (media s per wall s) "
            f"decode only {media / wall['decode']:.1f}x, normalise+clip {media / wall['clip']:.1f}x; "
            f"per CPU second: decode {media / cpu['decode']:.1f}x, normalise+clip {media / cpu['clip']:.1f}x"
        )


if __name__ == "__main__":
    main()
