"""One demo video end to end (music, dance, drawing, encoding, sidecar) and the corpus index.

Video i of a corpus depends only on (seed, i): its random generator is
`np.random.default_rng([seed, i])`, split into independent streams per job.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import ffmpeg
import numpy as np
import soundfile as sf
from tqdm import tqdm

from alignnet.atomic import atomic_output
from alignnet.demo.synth import figure, figures, render
from alignnet.demo.synth.choreography import choreograph
from alignnet.demo.synth.music import SAMPLE_RATE, Song, synthesize_song
from alignnet.demo.synth.negatives import expected_verdict, negative_kind
from alignnet.demo.synth.real_music import recorded_song
from alignnet.demo.synth.styles import DANCE_STYLES, DanceStyle, choreograph_style
from alignnet.demo.synth.timewarp import Drift, identity, sinusoidal_warp

FPS = 30
CORPUS_FILE = "corpus.json"

_NAMES = (
    "Mina",
    "Jae",
    "Soyeon",
    "Hana",
    "Leo",
    "Yuna",
    "Kai",
    "Aria",
    "Dami",
    "Noah",
    "Rin",
    "Sora",
    "Eunji",
    "Taeo",
    "Lia",
    "Jun",
    "Mei",
    "Ivy",
    "Haru",
    "Nari",
    "Zoe",
    "Min",
    "Yeji",
    "Ryu",
    "Chae",
    "Ola",
    "Tomi",
    "Sami",
)
_HANDLES = ("", " Dance", " Crew", "_official", " Studio", "dance", " Moves", " TV")
_TITLES = (
    "{name} - {style} dance cover",
    "[Dance Practice] {name} | {style} choreography",
    "{style} freestyle by {name}",
    "{name} dances to a {style} beat (full ver.)",
    "{name} | {style} cover dance #{num}",
    "【{name}】{style} dance challenge",
    "{style} routine - {name} (mirrored)",
    "{name} {style} choreo {year}",
)


@dataclass(frozen=True)
class Options:
    """Corpus-wide settings from the command line."""

    seed: int
    seconds: float
    warp: bool
    negatives: float
    width: int
    height: int
    music: str = "synth"  # "synth" (`synthesize_song`) or "recorded" (a cut of a track of `music_packages`)
    music_packages: tuple[str, ...] = ()
    dance_styles: tuple[str, ...] = ()  # `styles.DANCE_STYLES` drawn from per video; () the demo's dances
    figures: tuple[str, ...] = ()  # `figures.FIGURE_PRESETS` drawn from per good video; () the demo's figure
    drift: Drift | None = None  # a long drift (`timewarp.DRIFTS`) instead of --warp: the video shorter than its song

    @property
    def general(self) -> bool:
        """Whether any option beyond the demo's is set (the sidecar and corpus.json then record them)."""
        return self != replace(self, music="synth", music_packages=(), dance_styles=(), figures=(), drift=None)


def video_id(index: int) -> str:
    """Short URL-safe id of video `index`, e.g. demo-0007."""
    return f"demo-{index:04d}"


def _title(rng: np.random.Generator, style: str) -> tuple[str, str]:
    name = str(rng.choice(_NAMES)) + str(rng.choice(_HANDLES))
    template = str(rng.choice(_TITLES))
    title = template.format(name=name, style=style, num=int(rng.integers(1, 99)), year=int(rng.integers(2019, 2026)))
    return title, name


@dataclass
class _Dancer:
    skeleton: figure.Skeleton
    look: render.Look


def _make_dancer(
    rng: np.random.Generator,
    song: Song,
    times: np.ndarray,
    height: float,
    floor_y: float,
    center_x: float,
    style: DanceStyle | None = None,
    shot: figures.Shot | None = None,
) -> _Dancer:
    body = figure.random_body(rng, height) if shot is None else figures.body_of(rng, shot, height)
    dance = choreograph(rng, song) if style is None else choreograph_style(rng, song, style)
    skeleton = figure.pose(body, dance.params(times), floor_y, center_x)
    return _Dancer(skeleton, render.random_look(rng))


def _layout(rng: np.random.Generator, kind: str | None, width: int, height: int) -> tuple[list[tuple], tuple[int, int]]:
    """Dancer placements [(body height, floor y, centre x)] in canvas pixels, and the canvas size."""
    canvas = (width, height)
    if kind == "no_person":
        return [], canvas
    if kind == "camera_motion":
        canvas = (int(width * 1.4), int(height * 1.4))
    cw, ch = canvas
    off_x, off_y = (cw - width) / 2, (ch - height) / 2
    floor_y = off_y + (rng.uniform(0.78, 0.85) if kind == "camera_motion" else rng.uniform(0.86, 0.95)) * height
    if kind == "not_full_body":
        body_h = rng.uniform(1.6, 2.0) * height
        hip_y = rng.uniform(0.8, 0.92) * height
        return [(body_h, hip_y + 0.52 * body_h, width * rng.uniform(0.42, 0.58))], canvas
    top_room = 1.35 if kind != "camera_motion" else 1.6
    body_h = min(rng.uniform(0.55, 0.74) * height, (floor_y - off_y - 4) / top_room)
    if kind == "multi_person":
        body_h *= rng.uniform(0.85, 1.0)
        xs = (width * rng.uniform(0.25, 0.33), width * rng.uniform(0.67, 0.75))
        return [(body_h, floor_y, off_x + x) for x in xs], canvas
    margin = 0.55 * body_h
    x = np.clip(rng.uniform(0.3, 0.7) * width, margin, width - margin) if width > 2 * margin else width / 2
    return [(body_h, floor_y, off_x + x)], canvas


def _visible(kp: np.ndarray, width: int, height: int) -> np.ndarray:
    """Visibility (frames, 25): the given visibility, 0 where a point is outside the frame."""
    x, y = kp[..., 0], kp[..., 1]
    inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
    return np.where(inside, kp[..., 2], 0.0)


def encode_video(
    frames: Iterator[np.ndarray],
    audio: np.ndarray,
    path: Path,
    width: int,
    height: int,
    fps: int = FPS,
    sample_rate: int = SAMPLE_RATE,
    crf: int = 22,
) -> None:
    """H.264 yuv420p at `fps` constant (x264 `crf`) + AAC mono at `sample_rate` Hz, faststart, bit-exact.

    frames: (height, width, 3) uint8 BGR; audio: (samples,) float in [-1, 1] at `sample_rate`.
    The lips corpus (alignnet.demo.lips.corpus) encodes with it too, at 25 fps and espeak-ng's rate.
    """
    with tempfile.TemporaryDirectory(prefix="alignnet-synth-") as tmp:
        wav = Path(tmp) / "audio.wav"
        sf.write(wav, audio, sample_rate, subtype="PCM_16")
        video_in = ffmpeg.input("pipe:", format="rawvideo", pix_fmt="bgr24", s=f"{width}x{height}", framerate=fps)
        audio_in = ffmpeg.input(os.fspath(wav))
        out = (
            ffmpeg.output(
                video_in,
                audio_in,
                os.fspath(path),
                vcodec="libx264",
                pix_fmt="yuv420p",
                preset="ultrafast",
                crf=crf,
                r=fps,
                g=2 * fps,
                acodec="aac",
                ar=sample_rate,
                ac=1,
                audio_bitrate="128k",
                movflags="+faststart",
                fflags="+bitexact",
                **{"flags:a": "+bitexact", "flags:v": "+bitexact"},
            )
            .global_args("-nostdin", "-loglevel", "error", "-threads", "1")
            .overwrite_output()
        )
        proc = out.run_async(pipe_stdin=True)
        try:
            for frame in frames:
                proc.stdin.write(frame.tobytes())
        finally:
            proc.stdin.close()
            code = proc.wait()
        if code != 0:
            raise RuntimeError(f"ffmpeg failed (exit {code}) writing {path}")


def _song(rng: np.random.Generator, opts: Options, duration: float) -> tuple[Song, dict[str, object]]:
    """The video's song: synthesised, or a cut of a recorded track (with {package, track, start} for the sidecar)."""
    if opts.music == "synth":
        return synthesize_song(rng, duration), {}
    song, track, start = recorded_song(rng, opts.music_packages, duration)
    return song, {"package": track.package, "track": track.name, "start": round(start, 3)}


def _shot(rng: np.random.Generator, names: tuple[str, ...]) -> figures.Shot | None:
    """A figure and shot drawn from one of the `names` presets; None without presets (the demo's figure)."""
    if not names:
        return None
    return figures.draw_shot(rng, figures.FIGURE_PRESETS[str(rng.choice(list(names)))])


@dataclass
class VideoPlan:
    """Video `index` of a corpus before a frame is drawn: its sidecar, sound, true keypoints and frame source.

    keypoints (n, 25, 3): the first dancer's BODY_25 in video pixels (0 where outside the frame);
    audio (samples,) at SAMPLE_RATE; frames(): the drawn BGR frames, made only when iterated.
    """

    sidecar: dict
    audio: np.ndarray
    keypoints: np.ndarray
    frames: Callable[[], Iterator[np.ndarray]]
    crf: int


def plan_video(index: int, opts: Options) -> VideoPlan:
    """Everything random about video `index` (music, warp, dance, figure, scene), without drawing it."""
    # spawn(10)'s first 8 streams are spawn(8)'s: the demo's videos do not change with the two added ones.
    streams = np.random.default_rng([opts.seed, index]).spawn(10)
    rng_music, rng_dance, rng_scene, rng_warp, rng_cam, rng_noise, rng_meta, rng_extra = streams[:8]
    rng_style, rng_figure = streams[8:]
    kind = negative_kind(index, opts.negatives)
    seconds = opts.seconds
    if kind == "too_short":
        seconds = min(seconds, float(rng_extra.uniform(2.0, 5.5)))
    n = max(1, int(round(seconds * FPS)))
    duration = n / FPS
    w, h = opts.width, opts.height

    song, music = _song(rng_music, opts, duration)
    audio = song.samples[: n * SAMPLE_RATE // FPS]
    audio = np.pad(audio, (0, n * SAMPLE_RATE // FPS - audio.size))
    if kind == "silent_audio":
        audio = np.zeros_like(audio)
    if opts.drift is not None:
        source = opts.drift.warp(rng_warp, n, FPS)
    else:
        source = sinusoidal_warp(rng_warp, n, FPS) if opts.warp else identity(n)
    times = source / FPS
    audio_frames, n = n, len(source)  # a drifting video may end before its music

    style = DANCE_STYLES[str(rng_style.choice(list(opts.dance_styles)))] if opts.dance_styles else None
    shot = _shot(rng_figure, opts.figures) if kind is None else None
    if shot is not None:
        placements, canvas = [figures.placement(rng_scene, shot, w, h)], (w, h)
    else:
        placements, canvas = _layout(rng_scene, kind, w, h)
    dancers = [_make_dancer(rng_dance, song, times, *p, style=style, shot=shot) for p in placements]
    if placements and kind != "not_full_body":
        horizon = placements[0][1] - rng_scene.uniform(0.12, 0.35) * placements[0][0]
    else:
        horizon = canvas[1] * rng_scene.uniform(0.6, 0.85)
    # textured: drawn here, as the background itself (made only with the frames) draws from rng_scene after it.
    textured = shot is None and (kind in ("camera_motion", "no_person") or rng_scene.random() < 0.3)
    cams = None
    if kind == "camera_motion":
        cams = render.camera_path(rng_cam, n, FPS, str(rng_cam.choice(["pan", "zoom", "shake"])))
    matrices = [render.camera_matrix(c, canvas, (w, h)) for c in cams] if cams is not None else None
    if shot is not None:
        matrices = [figures.camera_angle(shot, w, h)] * n

    def frames() -> Iterator[np.ndarray]:
        if shot is None:
            background = render.make_background(rng_scene, canvas[0], canvas[1], horizon, textured)
            noise = render.NoiseBank(rng_noise, w, h, float(rng_noise.uniform(1.5, 4.0)))
        else:
            background = figures.background(rng_scene, shot, w, h, horizon)
            noise = render.NoiseBank(rng_noise, w, h, shot.noise)
        lighting = figures.lighting_table(shot) if shot is not None else None
        for i in range(n):
            img = background.copy()
            for d in dancers:
                if shot is not None and shot.preset.drawing == "stick":
                    figures.draw_stick(img, d.skeleton, i, shot)
                else:
                    render.draw_dancer(img, d.skeleton, i, d.look)
            if matrices is not None:
                img = render.camera_view(img, matrices[i], (w, h))
            if shot is not None:
                img = figures.finish(img, shot, lighting)
            yield noise.apply(img, i)

    keypoints = np.zeros((n, 25, 3))
    if dancers:
        keypoints = dancers[0].skeleton.keypoints.copy()
        if matrices is not None:
            m = np.stack(matrices)
            xy = keypoints[..., :2]
            keypoints[..., :2] = np.einsum("fij,fkj->fki", m[:, :, :2], xy) + m[:, None, :, 2]
        keypoints[..., 2] = _visible(keypoints, w, h)
        keypoints[keypoints[..., 2] == 0] = 0.0

    vid = video_id(index)
    title, name = _title(rng_meta, song.style)
    sidecar = {
        "video_id": vid,
        "title": title,
        "uploader": name,
        "seed": opts.seed,
        "index": index,
        "fps": FPS,
        "sample_rate": SAMPLE_RATE,
        "width": w,
        "height": h,
        "n_frames": n,
        "duration": duration,
        "style": song.style,
        "tempo": song.tempo,
        "beats": [round(float(b), 4) for b in song.beats],
        "keypoints": np.round(keypoints, 2).tolist(),
        "source_frame": [round(float(s), 4) for s in source],
        "negative": kind,
        "expected_verdict": expected_verdict(kind, duration),
    }
    if opts.general:
        sidecar.update(
            n_frames=n,
            duration=n / FPS,
            audio_frames=audio_frames,
            music=music or None,
            dance_style=style.name if style else None,
            figure=shot.preset.name if shot else None,
        )
    return VideoPlan(sidecar, audio, keypoints, frames, shot.crf if shot is not None else 22)


def generate_video(out_dir: Path, index: int, opts: Options) -> dict:
    """Write OUT/<video_id>.mp4 and OUT/<video_id>.json for video `index`; return the sidecar dict."""
    plan = plan_video(index, opts)
    vid, w, h = plan.sidecar["video_id"], opts.width, opts.height
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_output(out_dir / f"{vid}.mp4") as tmp:
        encode_video(plan.frames(), plan.audio, tmp, w, h, crf=plan.crf)
    write_sidecar(out_dir, plan.sidecar)
    return plan.sidecar


def write_sidecar(out_dir: Path, sidecar: dict) -> None:
    """OUT/<video_id>.json, compact, written atomically."""
    with atomic_output(out_dir / f"{sidecar['video_id']}.json") as tmp:
        tmp.write_text(json.dumps(sidecar, separators=(",", ":")) + "\n", encoding="utf-8")


def corpus_entry(sidecar: dict, **extra: object) -> dict:
    """corpus.json's line for one video: files, title, uploader, duration, `extra`, negative kind, verdict."""
    vid = sidecar["video_id"]
    return {
        "video_id": vid,
        "video": f"{vid}.mp4",
        "sidecar": f"{vid}.json",
        "title": sidecar["title"],
        "uploader": sidecar["uploader"],
        "duration": sidecar["duration"],
        **extra,
        "negative": sidecar["negative"],
        "expected_verdict": sidecar["expected_verdict"],
    }


def generate_corpus(out_dir: Path, n_videos: int, opts: Options, progress: bool = True) -> dict:
    """Write every video and sidecar, then OUT/corpus.json listing them; return the corpus dict."""
    entries = []
    for index in tqdm(range(n_videos), desc="synth videos", unit="video", disable=not progress):
        side = generate_video(out_dir, index, opts)
        extra = {"style": side["style"]}
        if opts.general:
            extra.update({key: side[key] for key in ("dance_style", "figure")})
        entries.append(corpus_entry(side, **extra))
    corpus = {
        "seed": opts.seed,
        "seconds": opts.seconds,
        "warp": opts.warp,
        "negatives": opts.negatives,
        "width": opts.width,
        "height": opts.height,
        "fps": FPS,
        "sample_rate": SAMPLE_RATE,
        "videos": entries,
    }
    if opts.general:
        corpus.update(
            music=opts.music,
            music_packages=list(opts.music_packages),
            dance_styles=list(opts.dance_styles),
            figures=list(opts.figures),
        )
    with atomic_output(out_dir / CORPUS_FILE) as tmp:
        tmp.write_text(json.dumps(corpus, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return corpus
