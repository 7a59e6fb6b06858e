"""One talking-head video end to end (speech, visemes, face drawing, encoding, sidecar) and the corpus index.

Video i depends only on (seed, i): its random generator is
`np.random.default_rng([seed, i])`, split into independent streams. The
negatives are the dance corpus's kinds (`alignnet.demo.synth.negatives`, same
spread and reasons) in their talking-head form: two_faces (multi_person),
no_face (no_person), mouth_hidden (a hand over the mouth; reason
mouth_hidden), camera_motion, too_short, silent_audio.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from alignnet.atomic import atomic_output
from alignnet.demo.lips import face
from alignnet.demo.lips.speech import Phoneme, Voice, synthesize
from alignnet.demo.lips.visemes import mouth_track
from alignnet.demo.synth import render
from alignnet.demo.synth.corpus import Options as CorpusOptions
from alignnet.demo.synth.corpus import corpus_entry, encode_video, write_sidecar
from alignnet.demo.synth.negatives import expected_verdict, negative_kind
from alignnet.demo.synth.timewarp import identity, sinusoidal_warp
from alignnet.stage_status import Reason

FPS = 25
CORPUS_FILE = "corpus.json"
KEYPOINT_LAYOUT = "MOUTH_20"  # FACE_70 points 48-67, in order

# Dance negative kind -> its talking-head form.
LIPS_KINDS: dict[str, str] = {
    "multi_person": "two_faces",
    "camera_motion": "camera_motion",
    "not_full_body": "mouth_hidden",
    "no_person": "no_face",
    "too_short": "too_short",
    "silent_audio": "silent_audio",
}
_VOICES = ("en", "en-us", "en-gb-x-rp", "en-gb-scotland", "en-029", "en-us-nyc")
_VARIANTS = ("", "+m1", "+m2", "+m3", "+m4", "+m5", "+m7", "+f1", "+f2", "+f3", "+f4", "+f5", "+klatt")
_NAMES = (
    "Ada",
    "Ben",
    "Cleo",
    "Dev",
    "Eli",
    "Fay",
    "Gus",
    "Hal",
    "Ida",
    "Jon",
    "Kim",
    "Lou",
    "Max",
    "Nia",
    "Oz",
    "Pia",
)
_WORDS = {
    "adj": (
        "quiet",
        "yellow",
        "broken",
        "happy",
        "heavy",
        "tiny",
        "ancient",
        "purple",
        "bright",
        "lazy",
        "sharp",
        "warm",
        "hollow",
        "careful",
        "famous",
        "muddy",
    ),
    "noun": (
        "fox",
        "teacher",
        "window",
        "river",
        "garden",
        "pilot",
        "lamp",
        "bottle",
        "market",
        "boat",
        "violin",
        "mountain",
        "letter",
        "village",
        "rabbit",
        "engine",
        "cup",
        "bridge",
    ),
    "verb": (
        "watched",
        "opened",
        "followed",
        "painted",
        "carried",
        "pushed",
        "found",
        "moved",
        "cleaned",
        "passed",
        "visited",
        "chose",
        "lifted",
        "remembered",
    ),
    "prep": ("over", "near", "behind", "under", "across", "beside", "through", "around"),
    "adv": ("slowly", "again", "today", "quickly", "at noon", "every morning", "by the sea", "once more"),
}
_TEMPLATES = (
    "The {adj} {noun} {verb} the {noun} {prep} the {noun}.",
    "A {noun} {verb} my {adj} {noun} {adv}.",
    "We {verb} the {adj} {noun} {adv}, and the {noun} {verb} it {prep} the {noun}.",
    "Did the {noun} see the {adj} {noun} {prep} the {noun}?",
    "Please bring the {adj} {noun} {prep} the {noun} {adv}.",
    "Nobody {verb} the {noun} {adv}.",
    "My {noun} {verb} a {adj} {noun}, then {verb} the {noun} {adv}.",
    "Why is the {noun} so {adj} {adv}?",
)


@dataclass(frozen=True)
class Options(CorpusOptions):
    """The dance corpus's settings plus clip_seconds (the shortest usable video) and head motion."""

    clip_seconds: float = 12.0
    motion: float = 1.0


def video_id(index: int) -> str:
    """Short URL-safe id of video `index`, e.g. talk-0007."""
    return f"talk-{index:04d}"


def random_voice(rng: np.random.Generator) -> Voice:
    """An English espeak-ng voice with a random accent, variant, speed (135-195 wpm) and pitch."""
    name = str(rng.choice(_VOICES)) + str(rng.choice(_VARIANTS))
    return Voice(name, int(rng.integers(135, 196)), int(rng.integers(25, 80)), int(rng.integers(30, 85)))


def random_sentence(rng: np.random.Generator) -> str:
    """A random English sentence from a small grammar."""
    template = str(rng.choice(_TEMPLATES))
    parts = template.split("{")
    out = [parts[0]]
    for part in parts[1:]:
        slot, rest = part.split("}", 1)
        out.append(str(rng.choice(_WORDS[slot])) + rest)
    return "".join(out)


@dataclass
class Speech:
    """A video's soundtrack: samples (n,) float32 at sample_rate Hz, the sentences with their start
    times (seconds), every phoneme on the video's timeline and the word starts (seconds)."""

    samples: np.ndarray
    sample_rate: int
    sentences: list[tuple[float, str]]
    phonemes: list[Phoneme]
    words: list[float]


def speak(rng: np.random.Generator, voice: Voice, seconds: float) -> Speech:
    """Random sentences spoken by `voice` with 0.25-0.9 s pauses until `seconds` are filled, cut there."""
    pieces: list[np.ndarray] = []
    sentences: list[tuple[float, str]] = []
    phonemes: list[Phoneme] = []
    words: list[float] = []
    rate = 0
    t = float(rng.uniform(0.1, 0.6))
    while t < seconds:
        text = random_sentence(rng)
        utterance = synthesize(text, voice)
        rate = utterance.sample_rate
        if not pieces:
            pieces.append(np.zeros(round(t * rate), np.float32))
        sentences.append((round(t, 3), text))
        phonemes += [Phoneme(p.symbol, round(t + p.start, 4)) for p in utterance.phonemes]
        words += [round(t + w, 4) for w in utterance.words]
        pieces.append(utterance.samples)
        t += utterance.duration
        phonemes.append(Phoneme("_", round(t, 4)))
        pause = float(rng.uniform(0.25, 0.9))
        pieces.append(np.zeros(round(pause * rate), np.float32))
        t = sum(p.size for p in pieces) / rate
    n = round(seconds * rate)
    samples = np.concatenate(pieces)[:n]
    samples = np.pad(samples, (0, n - samples.size))
    keep = [p for p in phonemes if p.start < seconds]
    return Speech(samples, rate, sentences, keep, [w for w in words if w < seconds])


@dataclass
class _Head:
    look: face.FaceLook
    path: face.HeadPath
    mouth: np.ndarray  # (frames, 3) opening, width, roundness
    eyes: np.ndarray  # (frames,) openness


def _hand_over_mouth(img: np.ndarray, matrix: np.ndarray, skin: tuple[int, int, int]) -> None:
    """A hand (palm and fingers) drawn over the mouth region, in place."""
    cv = face.FaceCanvas(img, matrix)
    cv.fill(face.ellipse_points((0.05, 0.85), (0.55, 0.4)), render._shade(skin, 0.95))
    for k in range(4):
        cv.fill(face.ellipse_points((-0.38 + 0.24 * k, 0.5), (0.1, 0.3)), skin)


def generate_video(out_dir: Path, index: int, opts: Options) -> dict:
    """Write OUT/<video_id>.mp4 and OUT/<video_id>.json for video `index`; return the sidecar dict."""
    rng_voice, rng_face, rng_scene, rng_warp, rng_cam, rng_noise, rng_meta, rng_extra = np.random.default_rng(
        [opts.seed, index]
    ).spawn(8)
    dance_kind = negative_kind(index, opts.negatives)
    kind = LIPS_KINDS[dance_kind] if dance_kind else None
    seconds = opts.seconds
    if kind == "too_short":
        seconds = min(seconds, float(rng_extra.uniform(0.2, 0.9)) * opts.clip_seconds)
    n = max(1, round(seconds * FPS))
    duration = n / FPS
    w, h = opts.width, opts.height

    voice = random_voice(rng_voice)
    speech = speak(rng_voice, voice, duration)
    audio = np.zeros_like(speech.samples) if kind == "silent_audio" else speech.samples
    source = sinusoidal_warp(rng_warp, n, FPS) if opts.warp else identity(n)
    times = source / FPS

    canvas = (int(w * 1.4), int(h * 1.4)) if kind == "camera_motion" else (w, h)
    heads: list[_Head] = []
    if kind != "no_face":
        places = [(0.2, 0.32), (0.68, 0.8)] if kind == "two_faces" else [(0.42, 0.58)]
        size = 0.7 if kind == "two_faces" else 1.0
        for k, x_range in enumerate(places):
            look = face.random_look(rng_face)
            path = face.head_path(rng_face, times, canvas[0], canvas[1], opts.motion, x_range, size)
            if k == 0:
                mouth = mouth_track(speech.phonemes, duration, times)
            else:
                quiet = speak(rng_extra, random_voice(rng_extra), duration)
                mouth = mouth_track(quiet.phonemes, duration, times)
            heads.append(_Head(look, path, mouth, face.blinks(rng_face, times, duration)))
    background = render.make_background(rng_scene, canvas[0], canvas[1], canvas[1] * 0.97, rng_scene.random() < 0.3)
    noise = render.NoiseBank(rng_noise, w, h, float(rng_noise.uniform(1.0, 3.0)))
    matrices = None
    if kind == "camera_motion":
        cams = render.camera_path(rng_cam, n, FPS, str(rng_cam.choice(["pan", "zoom", "shake"])))
        matrices = [render.camera_matrix(c, canvas, (w, h)) for c in cams]
    keypoints = np.zeros((n, 20, 3))

    def frames() -> Iterator[np.ndarray]:
        for i in range(n):
            img = background.copy()
            for k, head in enumerate(heads):
                m = head.path.matrix(i)
                pts = face.draw_head(img, m, head.look, face.mouth_points(head.mouth[i], head.look), head.eyes[i])
                if kind == "mouth_hidden":
                    _hand_over_mouth(img, m, head.look.skin)
                if k == 0:
                    if matrices is not None:
                        pts = pts @ matrices[i][:, :2].T + matrices[i][:, 2]
                    keypoints[i, :, :2] = pts
                    keypoints[i, :, 2] = 0.0 if kind == "mouth_hidden" else 1.0
            if matrices is not None:
                img = render.camera_view(img, matrices[i], (w, h))
            yield noise.apply(img, i)

    vid = video_id(index)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_output(out_dir / f"{vid}.mp4") as tmp:
        encode_video(frames(), audio, tmp, w, h, fps=FPS, sample_rate=speech.sample_rate)
    x, y = keypoints[..., 0], keypoints[..., 1]
    keypoints[~((x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1))] = 0.0
    keypoints[keypoints[..., 2] == 0] = 0.0

    speaker = str(rng_meta.choice(_NAMES))
    too_short = dance_kind is None and duration < opts.clip_seconds
    verdict = expected_verdict("too_short" if too_short else dance_kind, duration)
    if dance_kind is None and not too_short:
        verdict = {"keep": True, "reason": None}
    if kind == "mouth_hidden":
        verdict = {"keep": False, "reason": str(Reason.MOUTH_HIDDEN)}
    sidecar = {
        "video_id": vid,
        "title": f"{speaker} reads: {speech.sentences[0][1] if speech.sentences else ''}",
        "uploader": speaker,
        "task": "lips",
        "seed": opts.seed,
        "index": index,
        "fps": FPS,
        "sample_rate": speech.sample_rate,
        "width": w,
        "height": h,
        "n_frames": n,
        "duration": duration,
        "voice": asdict(voice),
        "sentences": [[t, s] for t, s in speech.sentences],
        "phonemes": [[p.symbol, p.start] for p in speech.phonemes],
        "words": speech.words,
        "mouth": np.round(heads[0].mouth, 3).tolist() if heads else [],
        "keypoint_layout": KEYPOINT_LAYOUT,
        "keypoints": np.round(keypoints, 2).tolist(),
        "source_frame": [round(float(s), 4) for s in source],
        "negative": kind,
        "expected_verdict": verdict,
    }
    write_sidecar(out_dir, sidecar)
    return sidecar


def generate_corpus(out_dir: Path, n_videos: int, opts: Options, progress: bool = True) -> dict:
    """Write every video and sidecar, then OUT/corpus.json listing them; return the corpus dict."""
    entries = []
    for index in tqdm(range(n_videos), desc="lips videos", unit="video", disable=not progress):
        side = generate_video(out_dir, index, opts)
        entries.append(corpus_entry(side, voice=side["voice"]["name"]))
    corpus = {"task": "lips", "fps": FPS, "videos": entries, **asdict(opts)}
    with atomic_output(out_dir / CORPUS_FILE) as tmp:
        tmp.write_text(json.dumps(corpus, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return corpus
