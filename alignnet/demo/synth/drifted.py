"""A demo dance that drifts against its music: the video shows the dance under a `timewarp.drift_warp`.

Unlike `alignnet synth --warp` (a mild warp pinned to both ends, the video as
long as its audio), the video here may start and end seconds into the song and
wander 0.6-1.6x in speed, so that it is seconds shorter or longer than the
music and drifts seconds away from the linear "video spans the whole audio"
prior. The music is written apart (a WAV) and is what align gets as AUDIO.
Used by benchmarks/align_outside.py and the align tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from alignnet.atomic import atomic_output
from alignnet.demo.synth import render
from alignnet.demo.synth.corpus import FPS, _layout, _make_dancer, encode_video
from alignnet.demo.synth.music import SAMPLE_RATE, synthesize_song
from alignnet.demo.synth.timewarp import drift_warp


@dataclass(frozen=True)
class Drift:
    """A drift strength: local speeds (music seconds per video second) and the largest start / end offset (s)."""

    speeds: tuple[float, float]
    max_offset_s: float = 0.0


DRIFTS = {
    "none": Drift((1.0, 1.0)),
    "mild": Drift((0.85, 1.18)),
    "strong": Drift((0.7, 1.4)),
    "extreme": Drift((0.6, 1.6), 4.0),
}


@dataclass
class DriftedDance:
    """keypoints (n_video, 25, 3) BODY_25 in pixels; music (samples,) at SAMPLE_RATE; source (n_video,): the music
    frame (at FPS) whose dance video frame j shows. `frames()` draws the video."""

    keypoints: np.ndarray
    music: np.ndarray
    source: np.ndarray
    frames: Iterator[np.ndarray] | None = None


def drifted_dance(
    seed: int, index: int, music_seconds: float, drift: Drift, width: int = 640, height: int = 360, draw: bool = False
) -> DriftedDance:
    """Dance `index` of `seed`: a song of music_seconds, its dance under a random drift of strength `drift`.

    With `draw`, `frames` yields the video's (height, width, 3) BGR frames (the demo corpus's look)."""
    rng_music, rng_dance, rng_scene, rng_warp, rng_noise = np.random.default_rng([seed, index, 34]).spawn(5)
    n_audio = max(2, round(music_seconds * FPS))
    song = synthesize_song(rng_music, n_audio / FPS)
    music = np.pad(song.samples, (0, max(0, n_audio * SAMPLE_RATE // FPS - song.samples.size)))
    music = music[: n_audio * SAMPLE_RATE // FPS]
    source = drift_warp(rng_warp, n_audio, FPS, drift.speeds, drift.max_offset_s)
    placements, canvas = _layout(rng_scene, None, width, height)
    dancer = _make_dancer(rng_dance, song, source / FPS, *placements[0])
    frames = None
    if draw:
        horizon = placements[0][1] - rng_scene.uniform(0.12, 0.35) * placements[0][0]
        background = render.make_background(rng_scene, canvas[0], canvas[1], horizon, rng_scene.random() < 0.3)
        noise = render.NoiseBank(rng_noise, width, height, float(rng_noise.uniform(1.5, 4.0)))

        def draw_frames() -> Iterator[np.ndarray]:
            for i in range(len(source)):
                img = background.copy()
                render.draw_dancer(img, dancer.skeleton, i, dancer.look)
                yield noise.apply(img, i)

        frames = draw_frames()
    return DriftedDance(dancer.skeleton.keypoints.copy(), music, source, frames)


def write_drifted(
    video: Path, music: Path, seed: int, index: int, music_seconds: float, drift: Drift
) -> DriftedDance:
    """Write the drifted dance's video (silent track) to `video` and its music (16-bit WAV) to `music`."""
    dance = drifted_dance(seed, index, music_seconds, drift, draw=True)
    assert dance.frames is not None
    silence = np.zeros(len(dance.source) * SAMPLE_RATE // FPS)
    with atomic_output(video) as tmp:
        encode_video(dance.frames, silence, tmp, 640, 360)
    with atomic_output(music) as tmp:
        sf.write(tmp, dance.music, SAMPLE_RATE, subtype="PCM_16", format="WAV")
    return dance
