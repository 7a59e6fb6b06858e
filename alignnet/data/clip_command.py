"""Normalise one video and cut it into fixed-length audio-video clips.

Reads INPUT (any video ffmpeg decodes: mp4, webm, mkv; variable frame rate,
rotated phone videos and odd sizes are fine) and writes to OUTDIR:

  video.mp4    H.264 yuv420p at constant --fps, even size, at most --max-height
               pixels tall, rotation applied to the pixels, no audio
  audio.wav    mono 16-bit PCM at --sample-rate, sample 0 at the first video frame
  clips.tsv    clip_index, start_frame, n_frames, start_sample, n_samples, start_time
  media.json   sizes and source properties (fps, rotation, audio offset)
  status.json  ok, or the reason this video left the pipeline

A video that cannot be used (corrupt file, no video or audio stream, shorter
than one clip, or an earlier stage failed and left only its status.json beside
the missing INPUT) is not an error: OUTDIR gets a failed status.json and the
command exits 0. A missing INPUT with no failed status beside it is an error.

Example:
  alignnet clip resources/videos/abc123.mp4 -o results/clips/abc123 --clip-seconds 6
"""

from __future__ import annotations

import argparse
from pathlib import Path

from alignnet.data.clips import ClipConfig, clip_video


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = ClipConfig()
    parser.add_argument("input", type=Path, metavar="INPUT", help="the video file")
    parser.add_argument("-o", "--outdir", type=Path, required=True, help="clip directory to write")
    parser.add_argument("--fps", type=int, default=defaults.fps, help="output frame rate")
    parser.add_argument("--sample-rate", type=int, default=defaults.sample_rate, help="output audio rate (Hz)")
    parser.add_argument("--clip-seconds", type=float, default=defaults.clip_seconds, help="clip length")
    parser.add_argument(
        "--hop-seconds", type=float, default=None, help="start-to-start distance of clips (default: the clip length)"
    )
    parser.add_argument(
        "--max-height", type=int, default=defaults.max_height, help="downscale taller videos to this height (pixels)"
    )


def run(args: argparse.Namespace) -> int:
    cfg = ClipConfig(
        fps=args.fps,
        sample_rate=args.sample_rate,
        clip_seconds=args.clip_seconds,
        hop_seconds=args.hop_seconds,
        max_height=args.max_height,
    )
    status = clip_video(args.input, args.outdir, cfg)
    print(f"{args.outdir}: {'ok' if status.ok else status.reason}: {status.detail}")
    return 0
