"""Tiny corpora for the server, discover and download tests.

`make_corpus` writes DIR/<id>.mp4 (ffmpeg lavfi testsrc + sine, H.264 + AAC,
a few KB each) and DIR/<id>.json sidecars, the layout `alignnet synth` makes.
"""

from __future__ import annotations

import json
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import ffmpeg
import numpy as np


@dataclass(frozen=True)
class FixtureVideo:
    video_id: str
    title: str
    uploader: str
    seconds: float


DEFAULT_VIDEOS = (
    FixtureVideo("v001", "Dance cover one", "dancer_a", 2.0),
    FixtureVideo("v002", "Dance cover two", "dancer_b", 3.0),
    FixtureVideo("v003", "Dance cover three (practice)", "dancer_a", 1.0),
    FixtureVideo("v004", "Dance cover four", "dancer_c", 4.0),
)


def make_video(path: Path, seconds: float, size: str = "64x48", fps: int = 10, frequency: int = 440) -> None:
    """An mp4 of `seconds` with a test pattern and a sine tone."""
    cmd = [
        "ffmpeg",
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"testsrc=size={size}:rate={fps}:duration={seconds}",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency={frequency}:sample_rate=22050:duration={seconds}",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "32k",
        "-shortest",
        str(path),
    ]
    subprocess.run(cmd, check=True)


def make_corpus(directory: Path, videos: tuple[FixtureVideo, ...] = DEFAULT_VIDEOS) -> Path:
    """Write the corpus into `directory` (created) and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    for i, video in enumerate(videos):
        make_video(directory / f"{video.video_id}.mp4", video.seconds, frequency=300 + 50 * i)
        sidecar = {
            "video_id": video.video_id,
            "title": video.title,
            "uploader": video.uploader,
            "duration": video.seconds,
        }
        (directory / f"{video.video_id}.json").write_text(json.dumps(sidecar), encoding="utf-8")
    return directory


def free_port() -> int:
    """A TCP port free on loopback now (for a corpus server)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def decode_audio(path: Path, sample_rate: int = 44100) -> np.ndarray:
    """Mono float32 samples of a media file's audio, decoded by ffmpeg."""
    out, _ = (
        ffmpeg.input(str(path))
        .output("pipe:", format="f32le", ac=1, ar=sample_rate)
        .global_args("-nostdin", "-loglevel", "error")
        .run(capture_stdout=True, capture_stderr=True)
    )
    return np.frombuffer(out, np.float32)
