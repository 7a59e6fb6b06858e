"""Recorded music from Debian's game-soundtrack packages, cut and analysed into a `Song` a dancer can follow.

The packages' tracks are found with `dpkg -L` (ufoai-music ships its tracks
inside a .pk3 zip archive: its .ogg members count as tracks). A segment of a
track is decoded with soundfile (Ogg Vorbis, Opus, MP3, FLAC, WAV), mixed to
mono and resampled to `SAMPLE_RATE`. librosa then finds what the choreography
needs: beats (`beat_track`), onsets and their strength (`onset_strength`,
`onset_detect`) and loudness (`rms`). Beats become the beat grid, onsets the
drum hits the dancer accents, phrases of 4 or 8 bars the sections, and the
loudness both the section kinds and the dancer's energy.

Whole packages are held out of training (`TRAIN_PACKAGES`, `HELDOUT_PACKAGES`):
an evaluation on held-out music never hears a composer or game it trained on.
"""

from __future__ import annotations

import io
import subprocess
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from alignnet.demo.synth.music import SAMPLE_RATE, Section, Song
from alignnet.errors import UserInputError, require_known

MUSIC_PACKAGES: tuple[str, ...] = (
    "wesnoth-1.16-music",
    "ufoai-music",
    "warzone2100-music",
    "hyperrogue-music",
    "singularity-music",
    "planetblupi-music-ogg",
    "drascula-music",
    "asc-music",
)
# Music-disjoint split: training hears only these five packages ...
TRAIN_PACKAGES: tuple[str, ...] = (
    "wesnoth-1.16-music",
    "ufoai-music",
    "warzone2100-music",
    "hyperrogue-music",
    "drascula-music",
)
# ... and evaluation these three (three composers, Ogg Vorbis and MP3).
HELDOUT_PACKAGES: tuple[str, ...] = ("singularity-music", "planetblupi-music-ogg", "asc-music")

AUDIO_SUFFIXES = (".ogg", ".oga", ".opus", ".mp3", ".flac", ".wav")
ARCHIVE_SUFFIXES = (".pk3",)  # zip archives whose audio members are tracks
ANALYSIS_HOP = 512
LOUDNESS_RATE = 100.0
MIN_TRACK_SECONDS = 12.0


@dataclass(frozen=True)
class Track:
    """One recorded track: its package, its file, the zip member inside it (or ""), and its length in seconds."""

    package: str
    path: str
    member: str
    duration: float

    @property
    def name(self) -> str:
        """A readable id: the file, or archive::member."""
        return f"{self.path}::{self.member}" if self.member else self.path


def package_files(package: str) -> list[str]:
    """The files an installed Debian package ships (`dpkg -L`); UserInputError naming it when it is not installed."""
    try:
        listing = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=True).stdout
    except FileNotFoundError as exc:
        raise UserInputError(f"music package {package!r}: dpkg is not available ({exc})") from exc
    except subprocess.CalledProcessError as exc:
        raise UserInputError(
            f"music package {package!r} is not installed (apt-get install {package}): {exc.stderr.strip()}"
        ) from exc
    return [line for line in listing.splitlines() if Path(line).is_file()]


def _open(track: Track) -> sf.SoundFile:
    if not track.member:
        return sf.SoundFile(track.path)
    with zipfile.ZipFile(track.path) as archive:
        return sf.SoundFile(io.BytesIO(archive.read(track.member)))


@cache
def package_tracks(package: str) -> tuple[Track, ...]:
    """Every distinct decodable track of `package` of at least MIN_TRACK_SECONDS, sorted by name.

    Copies of one file (drascula-music ships its soundtrack once per language)
    count once: files are told apart by base name and size.
    """
    seen: set[tuple[str, int]] = set()
    candidates: list[tuple[str, str]] = []
    for path in sorted(package_files(package)):
        suffix = Path(path).suffix.lower()
        if suffix in AUDIO_SUFFIXES:
            key = (Path(path).name, Path(path).stat().st_size)
            if key not in seen:
                seen.add(key)
                candidates.append((path, ""))
        elif suffix in ARCHIVE_SUFFIXES:
            with zipfile.ZipFile(path) as archive:
                members = [i.filename for i in archive.infolist() if Path(i.filename).suffix.lower() in AUDIO_SUFFIXES]
            candidates.extend((path, member) for member in sorted(members))
    tracks = []
    for path, member in candidates:
        probe = Track(package, path, member, 0.0)
        try:
            with _open(probe) as f:
                duration = f.frames / f.samplerate
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise UserInputError(f"music package {package!r}: cannot decode {probe.name} ({exc})") from exc
        if duration >= MIN_TRACK_SECONDS:
            tracks.append(Track(package, path, member, duration))
    if not tracks:
        raise UserInputError(f"music package {package!r} has no track of at least {MIN_TRACK_SECONDS:g} s")
    return tuple(tracks)


def decode_segment(track: Track, start: float, seconds: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """(round(seconds * sample_rate),) float32 mono of `track` from `start` s, resampled; zero-padded past its end."""
    with _open(track) as f:
        f.seek(min(int(start * f.samplerate), max(0, f.frames - 1)))
        native = f.read(int(np.ceil(seconds * f.samplerate)) + 1, dtype="float32", always_2d=True)
        rate = f.samplerate
    mono = native.mean(axis=1)
    if rate != sample_rate:
        mono = librosa.resample(mono, orig_sr=rate, target_sr=sample_rate)
    n = int(round(seconds * sample_rate))
    return np.pad(mono[:n], (0, max(0, n - mono.size))).astype(np.float32)


def _extended_grid(beats: np.ndarray, duration: float, fallback_bpm: float) -> tuple[np.ndarray, float]:
    """Beat times from 4 beats before 0 s to 8 s past the end: the detected beats, extrapolated at their median
    period at both ends (a steady `fallback_bpm` grid from 0 s where fewer than 4 beats were found)."""
    if beats.size >= 4:
        period = float(np.median(np.diff(beats)))
    else:
        period = 60.0 / max(fallback_bpm, 40.0)
        beats = np.arange(0.0, duration, period)
    before = beats[0] - period * np.arange(int(np.ceil(beats[0] / period)) + 4, 0, -1)
    after = beats[-1] + period * np.arange(1, int(np.ceil((duration + 8.0 - beats[-1]) / period)) + 1)
    return np.concatenate([before, beats, after]), period


def _phrases(rng: np.random.Generator, grid: np.ndarray, loudness: np.ndarray, duration: float) -> list[Section]:
    """Sections of 4 or 8 bars (16 or 32 grid beats) from the first beat at or after 0 s: 'full', or 'quiet' where
    the phrase's mean loudness is under 0.4 of the loudest (the dancer's calm moves)."""
    first = int(np.searchsorted(grid, 0.0))
    starts = [first]
    while grid[starts[-1]] < duration and starts[-1] + 16 < len(grid):
        starts.append(min(starts[-1] + 16 * int(rng.choice([1, 2])), len(grid) - 1))
    sections = []
    for a, b in zip(starts[:-1], starts[1:], strict=True):
        lo, hi = (int(np.clip(t * LOUDNESS_RATE, 0, len(loudness) - 1)) for t in (grid[a], grid[b]))
        level = float(loudness[lo : max(hi, lo + 1)].mean())
        sections.append(Section(float(grid[a]), float(grid[b]), "full" if level >= 0.4 else "quiet"))
    if sections and sections[0].start > 0.0:  # the song's start before the first beat: the first phrase's kind
        sections[0] = Section(min(0.0, sections[0].start), sections[0].end, sections[0].kind)
    return sections


def analyse(rng: np.random.Generator, samples: np.ndarray, sample_rate: int, name: str) -> Song:
    """A `Song` of recorded audio: beats, tempo, sections, loudness and hits found by librosa.

    hits: 'kick' the beats (velocity: the onset strength there), 'snare' the
    onsets at least 70 ms from any beat (off-beat accents), 'crash' the start
    of each full phrase that follows a quiet one. loudness: RMS at 100 Hz,
    smoothed over 0.3 s, over its 98th percentile, clipped to [0, 1].
    """
    duration = samples.size / sample_rate
    strength = librosa.onset.onset_strength(y=samples, sr=sample_rate, hop_length=ANALYSIS_HOP)
    tempo, beats = librosa.beat.beat_track(
        onset_envelope=strength, sr=sample_rate, hop_length=ANALYSIS_HOP, units="time"
    )
    beats = np.asarray(beats, np.float64)
    grid, period = _extended_grid(beats, duration, float(np.atleast_1d(tempo)[0]))

    rms = librosa.feature.rms(y=samples, frame_length=2048, hop_length=int(sample_rate / LOUDNESS_RATE))[0]
    rms = np.convolve(np.pad(rms, 15, mode="edge"), np.ones(31) / 31, mode="same")[15:-15]
    loudness = np.clip(rms / (np.percentile(rms, 98) or 1.0), 0.0, 1.0).astype(np.float32)

    peak = float(np.percentile(strength, 98)) or 1.0
    frame_time = librosa.frames_to_time(np.arange(strength.size), sr=sample_rate, hop_length=ANALYSIS_HOP)

    def velocity(times: np.ndarray) -> np.ndarray:
        return np.clip(np.interp(times, frame_time, strength) / peak, 0.0, 1.0)

    onsets = librosa.onset.onset_detect(onset_envelope=strength, sr=sample_rate, hop_length=ANALYSIS_HOP, units="time")
    song_beats = grid[(grid >= 0.0) & (grid < duration)]
    near = np.min(np.abs(onsets[:, None] - song_beats[None, :]), axis=1) if song_beats.size else np.inf
    offbeat = onsets[near >= 0.07] if onsets.size else onsets
    sections = _phrases(rng, grid, loudness, duration)
    opens = [s.start for prev, s in zip(sections[:-1], sections[1:], strict=True) if s.kind == "full" != prev.kind]
    crash = np.array(opens, np.float64)
    hits = {
        "kick": (song_beats, velocity(song_beats)),
        "snare": (offbeat, velocity(offbeat)),
        "crash": (crash, np.ones(crash.size)),
    }
    tempo_list = [{"time": 0.0, "bpm": round(60.0 / period, 3)}]
    return Song(samples, sample_rate, name, tempo_list, song_beats, grid, sections, loudness, LOUDNESS_RATE, hits)


def _segment_start(rng: np.random.Generator, track: Track, seconds: float) -> float:
    """A random start (s) leaving `seconds` of the track, in whole milliseconds (as the sidecar records it)."""
    return round(float(rng.uniform(0.0, max(0.0, track.duration - seconds))), 3)


def recorded_song(rng: np.random.Generator, packages: tuple[str, ...], seconds: float) -> tuple[Song, Track, float]:
    """A random `seconds`-long cut of a random track of a random one of `packages`, analysed; with its track and
    start (s). The track is one at least `seconds` long where the package has one (else the cut ends in silence).
    Of up to 4 cuts drawn, the first whose RMS is at least 0.02 is taken (skips silent intros)."""
    if not packages:
        raise UserInputError("recorded music needs at least one music package")
    require_known("music package", packages, MUSIC_PACKAGES)
    package = str(rng.choice(list(packages)))
    tracks = [t for t in package_tracks(package) if t.duration >= seconds] or list(package_tracks(package))
    track = tracks[int(rng.integers(len(tracks)))]
    for _ in range(4):
        start = _segment_start(rng, track, seconds)
        samples = track_cut(track, start, seconds)
        if float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) >= 0.02:
            break
    return analyse(rng, samples, SAMPLE_RATE, package), track, start


def track_cut(track: Track, start: float, seconds: float) -> np.ndarray:
    """The music of a recorded song: `decode_segment` at SAMPLE_RATE, scaled down to a peak of at most 0.95."""
    samples = decode_segment(track, start, seconds)
    peak = float(np.max(np.abs(samples))) or 1.0
    return (samples * min(1.0, 0.95 / peak)).astype(np.float32)
