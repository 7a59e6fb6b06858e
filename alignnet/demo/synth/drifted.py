"""A demo dance's true keypoints under a drift against its music (`timewarp.DRIFTS`), without drawing a frame.

The fast path the align tests use: the dance's BODY_25 keypoints straight from
the skeleton (no rendering, no pose) and its song, the dance shown under a
`timewarp.drift_warp` so that it starts and ends seconds into the song and
drifts seconds from the linear "video spans the whole audio" prior. A rendered
video of such a dance (mp4 + the song as WAV) is `heldout.make_heldout_video`
(held-out material, or the demo's own with empty packages / styles / figures).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alignnet.demo.synth.corpus import FPS, _layout, _make_dancer
from alignnet.demo.synth.music import SAMPLE_RATE, synthesize_song
from alignnet.demo.synth.timewarp import Drift


@dataclass(frozen=True)
class DriftedDance:
    """keypoints (n_video, 25, 3) BODY_25 in pixels of a 640x360 frame; music (samples,) at SAMPLE_RATE;
    source (n_video,): the music frame (at FPS) whose dance video frame j shows."""

    keypoints: np.ndarray
    music: np.ndarray
    source: np.ndarray


def drifted_dance(seed: int, index: int, music_seconds: float, drift: Drift) -> DriftedDance:
    """Dance `index` of `seed`: a demo song of music_seconds, its dance under a random drift of strength `drift`."""
    rng_music, rng_dance, rng_scene, rng_warp = np.random.default_rng([seed, index, 34]).spawn(4)
    n_audio = max(2, round(music_seconds * FPS))
    song = synthesize_song(rng_music, n_audio / FPS)
    music = np.pad(song.samples, (0, max(0, n_audio * SAMPLE_RATE // FPS - song.samples.size)))
    music = music[: n_audio * SAMPLE_RATE // FPS]
    source = drift.warp(rng_warp, n_audio, FPS)
    placements, _ = _layout(rng_scene, None, 640, 360)
    dancer = _make_dancer(rng_dance, song, source / FPS, *placements[0])
    return DriftedDance(dancer.skeleton.keypoints.copy(), music, source)
