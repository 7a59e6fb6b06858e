"""The held-out evaluation set: videos made only of what the general corpus's training never saw.

Music from the held-out packages (`real_music.HELDOUT_PACKAGES`), the
held-out dance style (`styles.HELDOUT_STYLES`: key poses struck dead on the
beat) and the held-out figure (`figures.HELDOUT_FIGURES`: a stick figure),
shown under a drift of one of four strengths (`timewarp.DRIFTS`): the video plays the
dance at a speed wandering over the strength's range, starts and ends up to
some seconds into / before the song, so it is shorter than the music and
drifts from it by seconds. `make_heldout_video` writes one such video, its
music as a WAV (what a user passes to `alignnet align VIDEO MUSIC`) and its
ground truth. With empty packages, styles and figures it makes the same kind
of video from the demo generator's own music, dance and figure.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import ffmpeg
import numpy as np

from alignnet.atomic import atomic_output
from alignnet.demo.synth.corpus import FPS, Options, generate_video, video_id
from alignnet.demo.synth.figures import HELDOUT_FIGURES
from alignnet.demo.synth.real_music import HELDOUT_PACKAGES
from alignnet.demo.synth.styles import HELDOUT_STYLES
from alignnet.demo.synth.timewarp import DRIFTS
from alignnet.errors import UserInputError

HELDOUT_SEED = 34034  # the corpus seed of every held-out video; the caller's seed is the video index


@dataclass(frozen=True)
class HeldoutVideo:
    """One held-out video's files and truth.

    video: H.264 + AAC mp4 (its own sound track is the song too); music: the
    song as 16-bit WAV at 44.1 kHz (decoded from the mp4's AAC track, as a
    user's music file would be); truth: the JSON sidecar (`source_frame`,
    `keypoints`, `music`, `dance_style`, `figure`, ...); source_frame:
    (n_video,) the music frame at `fps` (fractional) that video frame i shows.
    """

    video: Path
    music: Path
    truth: Path
    source_frame: np.ndarray
    fps: int


def video_options(
    seconds: float,
    drift: str,
    width: int,
    height: int,
    packages: tuple[str, ...],
    styles: tuple[str, ...],
    figures: tuple[str, ...],
) -> Options:
    """The corpus options of `make_heldout_video`'s videos: drawn from `packages` (recorded music; () the demo's
    synthesised music), `styles` and `figures` only, under the drift strength `drift`."""
    if drift not in DRIFTS:
        raise UserInputError(f"drift {drift!r} is not one of {', '.join(DRIFTS)}")
    return Options(
        HELDOUT_SEED,
        seconds,
        False,
        0.0,
        width,
        height,
        music="recorded" if packages else "synth",
        music_packages=tuple(packages),
        dance_styles=tuple(styles),
        figures=tuple(figures),
        drift=DRIFTS[drift],
    )


def make_heldout_video(
    seed: int,
    seconds: float,
    out_dir: str | Path,
    drift: str = "mild",
    width: int = 640,
    height: int = 360,
    packages: tuple[str, ...] = HELDOUT_PACKAGES,
    styles: tuple[str, ...] = HELDOUT_STYLES,
    figures: tuple[str, ...] = HELDOUT_FIGURES,
) -> HeldoutVideo:
    """Write OUT/<drift>/demo-<seed>.{mp4,json,wav}: held-out music, style and figure under `drift`.

    The same seed gives the same song, dance and figure under every drift
    strength (only the drift differs), so a sweep compares like with like.
    packages / styles / figures default to the held-out ones; pass others
    to score on training material the same way, or () for the demo's own:
    no packages, its synthesised music; no styles, its dances; no figures,
    its drawn dancer.
    """
    if seed < 0:
        raise UserInputError(f"held-out seed {seed}: must be >= 0")
    opts = video_options(seconds, drift, width, height, packages, styles, figures)
    out = Path(out_dir) / drift
    sidecar = generate_video(out, seed, opts)
    video = out / f"{video_id(seed)}.mp4"
    music = out / f"{video_id(seed)}.wav"
    with atomic_output(music) as tmp:
        (
            ffmpeg.input(os.fspath(video))
            .output(os.fspath(tmp), format="wav", acodec="pcm_s16le", vn=None)
            .global_args("-nostdin", "-loglevel", "error")
            .overwrite_output()
            .run()
        )
    truth = out / f"{video_id(seed)}.json"
    return HeldoutVideo(video, music, truth, np.asarray(sidecar["source_frame"], np.float64), FPS)


def load_truth(path: str | Path) -> dict:
    """A held-out video's sidecar (see `HeldoutVideo.truth`)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
