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
command exits 0. A fault of the machine (no space, I/O error) fails the command
and leaves no OUTDIR: it is built in .OUTDIR.partial and renamed at the end.
A missing INPUT with no failed status beside it is an error.

With --segments (the lips task's VoxCeleb2 speaking segments), clips are cut
only inside the video's segments, each from its segment's start.

Examples:
  alignnet clip resources/videos/abc123/video.mp4 -o results/clips/abc123 --clip-seconds 6
  alignnet clip resources/videos/_raOc3-IRsw/video.mp4 -o results/clips/_raOc3-IRsw --fps 25 \\
      --sample-rate 16000 --clip-seconds 12 --segments results/discover/voxceleb_segments.tsv
"""

from __future__ import annotations

import argparse
from pathlib import Path

from alignnet.atomic import atomic_directory
from alignnet.data.clips import ClipConfig, clip_video
from alignnet.dataclass_fields import known_fields
from alignnet.lips.voxceleb import video_spans


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
    parser.add_argument(
        "--segments",
        type=Path,
        default=None,
        help="cut clips only inside this video's rows of a segments table (TSV with video_id, start_time,"
        " end_time in seconds, as `alignnet voxceleb` writes); a video without rows leaves the pipeline",
    )
    parser.add_argument(
        "--video-id",
        default=None,
        help="this video's id in --segments (default: the name of INPUT's folder, resources/videos/<id>/video.mp4)",
    )


def run(args: argparse.Namespace) -> int:
    cfg = ClipConfig(**known_fields(ClipConfig, vars(args)))
    spans = None
    if args.segments is not None:
        spans = video_spans(args.segments, args.video_id or args.input.parent.name)
    with atomic_directory(args.outdir) as staging:  # OUTDIR appears only once the job has finished
        status = clip_video(args.input, staging, cfg, spans)
    print(f"{args.outdir}: {'ok' if status.ok else status.reason}: {status.detail}")
    return 0
