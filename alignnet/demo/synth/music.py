"""Synthesised dance music in numpy: drum kit, bass, chords and lead over a beat grid.

Every instrument is rendered for the whole song at once: drum hits are
impulse trains convolved with one-shot samples, pitched parts are phase
accumulators with per-note envelopes looked up by `searchsorted`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage, signal

SAMPLE_RATE = 44100

# 16 sixteenth-note steps per 4/4 bar; values are hit velocities (0 = no hit).
_PATTERNS: dict[str, dict[str, list[float]]] = {
    "four-on-the-floor": {
        "kick": [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0],
        "snare": [0, 0, 0, 0, 0.9, 0, 0, 0, 0, 0, 0, 0, 0.9, 0, 0, 0],
        "hat": [0.3, 0.2, 0.8, 0.2, 0.3, 0.2, 0.8, 0.2, 0.3, 0.2, 0.8, 0.2, 0.3, 0.2, 0.8, 0.2],
    },
    "hip-hop": {
        "kick": [1, 0, 0, 0, 0, 0, 0, 0.7, 0, 0, 0.9, 0, 0, 0, 0, 0],
        "snare": [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0.25],
        "hat": [0.8, 0, 0.5, 0, 0.8, 0, 0.5, 0, 0.8, 0, 0.5, 0, 0.8, 0, 0.5, 0.3],
    },
    "half-time": {
        "kick": [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.8, 0, 0, 0, 0, 0],
        "snare": [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
        "hat": [0.8, 0, 0.4, 0, 0.7, 0, 0.4, 0, 0.8, 0, 0.4, 0, 0.7, 0, 0.4, 0],
    },
    "syncopated": {
        "kick": [1, 0, 0, 0.7, 0, 0, 0.8, 0, 0, 0, 0.9, 0, 0, 0.6, 0, 0],
        "snare": [0, 0, 0, 0, 1, 0, 0, 0.2, 0, 0, 0, 0, 1, 0, 0, 0.3],
        "hat": [0.7, 0.3, 0.5, 0.3, 0.7, 0.3, 0.5, 0.3, 0.7, 0.3, 0.5, 0.3, 0.7, 0.3, 0.5, 0.3],
    },
    "breakbeat": {
        "kick": [1, 0, 0.6, 0, 0, 0, 0, 0, 0, 0, 0.9, 0, 0, 0, 0, 0],
        "snare": [0, 0, 0, 0, 1, 0, 0, 0.3, 0, 0.3, 0, 0, 1, 0, 0, 0],
        "hat": [0.7, 0, 0.5, 0, 0.7, 0, 0.5, 0, 0.7, 0, 0.5, 0, 0.7, 0, 0.5, 0],
    },
}
STYLES: tuple[str, ...] = tuple(_PATTERNS)

# Chord progressions as scale degrees (semitones above the key root) of chord roots; minor/major triads.
_PROGRESSIONS: tuple[tuple[tuple[int, bool], ...], ...] = (
    ((0, False), (8, True), (3, True), (10, True)),  # i VI III VII
    ((0, True), (7, True), (9, False), (5, True)),  # I V vi IV
    ((0, False), (5, False), (10, True), (3, True)),  # i iv VII III
    ((0, True), (9, False), (5, True), (7, True)),  # I vi IV V
)
_PENTATONIC = np.array([0, 3, 5, 7, 10, 12, 15])


@dataclass(frozen=True)
class Section:
    """A span of the song: start/end in seconds and its kind: 'full', 'quiet' or 'break'."""

    start: float
    end: float
    kind: str


@dataclass(frozen=True)
class Song:
    """A synthesised song.

    samples: (n,) float32 mono in [-1, 1] at `sample_rate`; beats: beat times
    in seconds (quarter notes, inside the song); tempo: [{"time", "bpm"}] from
    0 s; beat_grid: beat times extended past both ends (for the choreography);
    loudness: (m,) RMS envelope in [0, 1] sampled at `loudness_rate` Hz;
    hits: drum name ('kick', 'snare', 'hat', 'crash') -> (times in seconds,
    velocities) of every hit in the mix, for a dancer to accent.
    """

    samples: np.ndarray
    sample_rate: int
    style: str
    tempo: list[dict[str, float]]
    beats: np.ndarray
    beat_grid: np.ndarray
    sections: list[Section]
    loudness: np.ndarray
    loudness_rate: float
    hits: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def loudness_at(self, times: np.ndarray) -> np.ndarray:
        """Loudness envelope in [0, 1] at `times` (seconds), held at the ends."""
        grid = np.arange(len(self.loudness)) / self.loudness_rate
        return np.interp(times, grid, self.loudness)


def beat_position(times: np.ndarray, beat_grid: np.ndarray) -> np.ndarray:
    """Continuous beat count at `times` (seconds): k at the k-th grid beat, linear between."""
    idx = np.arange(len(beat_grid), dtype=np.float64)
    return np.interp(times, beat_grid, idx)


def _beat_grid(rng: np.random.Generator, duration: float) -> tuple[np.ndarray, list[dict[str, float]], int]:
    """Beat times from 4 beats before 0 s to past the end; the tempo list; the first bar's grid index."""
    bpm = float(rng.uniform(80, 160))
    tempo = [{"time": 0.0, "bpm": round(bpm, 3)}]
    change_bar = int(rng.integers(2, 6)) if rng.random() < 0.35 else -1
    new_bpm = float(np.clip(bpm * rng.uniform(0.82, 1.2), 80, 160))
    lead_in = 4
    times = [-(lead_in - k) * 60.0 / bpm for k in range(lead_in)]
    t, k = 0.0, 0
    while t < duration + 8.0:
        if k == change_bar * 4 and abs(new_bpm - bpm) > 3 and t < duration:
            bpm = new_bpm
            tempo.append({"time": round(t, 6), "bpm": round(bpm, 3)})
        times.append(t)
        t += 60.0 / bpm
        k += 1
    return np.asarray(times), tempo, lead_in


def _sections(rng: np.random.Generator, bar_times: np.ndarray, duration: float) -> list[Section]:
    """Split the bars into sections of 2-4 bars; some songs get quiet parts and breaks."""
    dynamic = rng.random() < 0.6
    sections: list[Section] = []
    bar = 0
    while bar_times[bar] < duration:
        length = int(rng.choice([2, 4, 4]))
        end_bar = min(bar + length, len(bar_times) - 1)
        kind = "full"
        if dynamic and sections:
            kind = str(rng.choice(["full", "full", "quiet", "break"]))
            if kind == sections[-1].kind and kind != "full":
                kind = "full"
        elif dynamic and rng.random() < 0.3:
            kind = "quiet"
        sections.append(Section(float(bar_times[bar]), float(bar_times[end_bar]), kind))
        bar = end_bar
    return sections


def _kick(rng: np.random.Generator, sr: int) -> np.ndarray:
    t = np.arange(int(0.4 * sr)) / sr
    f0, f1 = rng.uniform(110, 170), rng.uniform(42, 60)
    freq = f1 + (f0 - f1) * np.exp(-t / rng.uniform(0.02, 0.045))
    phase = 2 * np.pi * np.cumsum(freq) / sr
    body = np.sin(phase) * np.exp(-t / rng.uniform(0.15, 0.3))
    click = rng.standard_normal(t.size) * np.exp(-t / 0.002) * 0.3
    return (body + click).astype(np.float32)


def _snare(rng: np.random.Generator, sr: int) -> np.ndarray:
    t = np.arange(int(0.3 * sr)) / sr
    tone = np.sin(2 * np.pi * rng.uniform(170, 240) * t) * np.exp(-t / 0.05)
    sos = signal.butter(2, [rng.uniform(800, 1500), rng.uniform(5000, 9000)], "bandpass", fs=sr, output="sos")
    noise = signal.sosfilt(sos, rng.standard_normal(t.size)) * np.exp(-t / rng.uniform(0.06, 0.14))
    return (0.5 * tone + 1.6 * noise).astype(np.float32)


def _hat(rng: np.random.Generator, sr: int, decay: float) -> np.ndarray:
    t = np.arange(int(max(0.25, 6 * decay) * sr)) / sr
    sos = signal.butter(4, rng.uniform(6000, 8500), "highpass", fs=sr, output="sos")
    return (signal.sosfilt(sos, rng.standard_normal(t.size)) * np.exp(-t / decay)).astype(np.float32)


def _crash(rng: np.random.Generator, sr: int) -> np.ndarray:
    t = np.arange(int(1.2 * sr)) / sr
    sos = signal.butter(2, rng.uniform(3000, 5000), "highpass", fs=sr, output="sos")
    return (signal.sosfilt(sos, rng.standard_normal(t.size)) * np.exp(-t / rng.uniform(0.25, 0.45))).astype(np.float32)


def _crash_steps(rng: np.random.Generator, sections: list[Section], step_times: np.ndarray) -> np.ndarray:
    """Steps of crash hits: the start of most full sections after another kind, and some random downbeats."""
    crash = np.zeros(step_times.size, bool)
    downbeats = np.flatnonzero(np.arange(step_times.size) % 16 == 0)
    starts = {round(s.start, 6): k for k, s in enumerate(sections)}
    for step in downbeats:
        k = starts.get(round(float(step_times[step]), 6))
        opens_full = k is not None and sections[k].kind == "full" and (k == 0 or sections[k - 1].kind != "full")
        crash[step] = (opens_full and rng.random() < 0.8) or rng.random() < 0.12
    return crash


def _place(n: int, hit_times: np.ndarray, velocities: np.ndarray, sample: np.ndarray, sr: int) -> np.ndarray:
    """Sum of `sample` started at every hit time (seconds) scaled by its velocity: (n,) float32."""
    train = np.zeros(n, np.float32)
    idx = np.round(hit_times * sr).astype(np.int64)
    ok = (idx >= 0) & (idx < n)
    np.add.at(train, idx[ok], velocities[ok])
    return signal.oaconvolve(train, sample)[:n].astype(np.float32)


def _midi_hz(midi: np.ndarray) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(midi, np.float64) - 69) / 12)


def _notes(
    n: int, sr: int, starts: np.ndarray, lengths: np.ndarray, midis: np.ndarray, decay: float, harmonics: tuple
) -> np.ndarray:
    """A monophonic voice: notes (start s, length s, midi) as summed sine harmonics with AR envelopes."""
    t = np.arange(n) / sr
    order = np.argsort(starts)
    starts, lengths, midis = starts[order], lengths[order], midis[order]
    idx = np.searchsorted(starts, t, side="right") - 1
    active = idx >= 0
    idx = np.clip(idx, 0, None)
    since = t - starts[idx]
    freq = np.where(active, _midi_hz(midis)[idx], 0.0)
    phase = np.mod(np.cumsum(freq / sr), 1.0).astype(np.float32) * np.float32(2 * np.pi)
    wave = sum(np.float32(a) * np.sin((h + 1) * phase) for h, a in enumerate(harmonics) if a)
    attack = np.clip(since / 0.008, 0, 1)
    release = np.clip((lengths[idx] - since) / 0.03, 0, 1)
    env = (attack * release * np.exp(-since / decay) * active).astype(np.float32)
    return (wave * env).astype(np.float32)


def _section_gains(sections: list[Section], t: np.ndarray, kind_gain: dict[str, float]) -> np.ndarray:
    """Per-sample gain from section kinds, ramped over 40 ms at the boundaries."""
    edges = np.array([s.start for s in sections] + [sections[-1].end])
    values = np.array([kind_gain[s.kind] for s in sections] + [kind_gain[sections[-1].kind]])
    idx = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, len(values) - 1)
    gain = values[idx].astype(np.float32)
    return ndimage.uniform_filter1d(gain, size=max(1, int(0.04 * SAMPLE_RATE)), mode="nearest")


def synthesize_song(rng: np.random.Generator, duration: float, style: str | None = None) -> Song:
    """A random song of `duration` seconds: style, tempo (80-160 BPM), sections, mix and loudness."""
    sr = SAMPLE_RATE
    style = style or str(rng.choice(STYLES))
    grid, tempo, first = _beat_grid(rng, duration)
    n = int(round(duration * sr))
    t = np.arange(n) / sr
    beat_idx = np.arange(len(grid), dtype=np.float64)
    bar_times = grid[first::4]
    sections = _sections(rng, bar_times, duration)

    # Sixteenth steps of every bar from the first one, timed through the beat grid.
    n_bars = len(bar_times) - 1
    steps = np.arange(n_bars * 16)
    swing = 0.1 if style in ("hip-hop", "half-time") and rng.random() < 0.6 else 0.0
    step_beats = first + steps / 4.0 + swing * (steps % 2) / 4.0
    step_times = np.interp(step_beats, beat_idx, grid)
    bar_of_step = steps // 16

    drums = np.zeros(n, np.float32)
    pattern = {k: np.array(v, np.float64) for k, v in _PATTERNS[style].items()}
    sounds = {"kick": _kick(rng, sr), "snare": _snare(rng, sr), "hat": _hat(rng, sr, rng.uniform(0.02, 0.045))}
    levels = {"kick": 0.9, "snare": 0.45, "hat": 0.12, "crash": 0.3}
    sec_kind_at_step = [_kind_at(sections, x) for x in step_times]
    variation = rng.uniform(0.08, 0.22)  # how freely the drummer departs from the pattern, bar to bar
    hits: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, pat in pattern.items():
        vel = np.tile(pat, n_bars) * rng.uniform(0.9, 1.1, size=steps.size)
        fill = (bar_of_step % 4 == 3) & (steps % 16 >= 12) & (rng.random(steps.size) < 0.5)
        if name in ("kick", "snare"):  # played, not looped: dropped hits and extra ones on free eighths
            drop = (vel > 0) & (steps % 16 != 0) & (rng.random(steps.size) < variation)
            extra = (vel == 0) & (steps % 2 == 0) & (rng.random(steps.size) < 0.6 * variation)
            vel = np.where(drop, 0.0, np.where(extra, rng.uniform(0.5, 0.9, steps.size), vel))
        if name == "snare":
            vel = np.where(fill & (vel == 0), 0.5, vel)
        quiet = np.array([k == "quiet" for k in sec_kind_at_step])
        brk = np.array([k == "break" for k in sec_kind_at_step])
        if name == "kick":
            vel = np.where(quiet, vel * (steps % 4 == 0) * 0.7, vel)
        if name == "snare":
            vel = np.where(quiet, vel * 0.5, vel)
        vel = np.where(brk, 0.0 if name != "hat" else vel * (steps % 2 == 0) * 0.6, vel)
        on = vel > 0
        hits[name] = (step_times[on], vel[on])
        drums += levels[name] * _place(n, step_times[on], vel[on].astype(np.float32), sounds[name], sr)
    crash = _crash_steps(rng, sections, step_times) & ~np.array([k == "break" for k in sec_kind_at_step])
    hits["crash"] = (step_times[crash], np.ones(int(crash.sum())))
    drums += levels["crash"] * _place(n, hits["crash"][0], hits["crash"][1].astype(np.float32), _crash(rng, sr), sr)

    # Harmony: one chord per bar from a progression in a random key.
    key = int(rng.integers(36, 48))
    prog = _PROGRESSIONS[int(rng.integers(len(_PROGRESSIONS)))]
    bar_chords = [prog[b % len(prog)] for b in range(n_bars)]
    rhythms = ((0, 8), (0, 6, 10), (0, 4, 8, 12), (0, 3, 8, 11, 14))
    bass_rhythm = rhythms[int(rng.integers(len(rhythms)))]
    b_steps = np.array([b * 16 + s for b in range(n_bars) for s in bass_rhythm])
    b_roots = np.array([key + bar_chords[s // 16][0] + (12 if rng.random() < 0.2 else 0) for s in b_steps])
    b_len = np.diff(np.append(step_times[b_steps], step_times[-1] + 0.5)) * 0.9
    bass = _notes(n, sr, step_times[b_steps], b_len, b_roots, rng.uniform(0.2, 0.5), (1.0, 0.5, 0.3, 0.1))

    chords = np.zeros(n, np.float32)
    stab = rng.random() < 0.5
    c_steps = np.array([b * 16 + s for b in range(n_bars) for s in ((2, 6, 10, 14) if stab else (0,))], dtype=np.int64)
    c_len = np.full(c_steps.size, 0.15 if stab else 60.0 / tempo[0]["bpm"] * 4 * 0.95)
    for voice in range(3):
        midis = []
        for s in c_steps:
            root, major = bar_chords[s // 16]
            third = 4 if major else 3
            midis.append(key + 24 + root + (0, third, 7)[voice])
        chords += _notes(n, sr, step_times[c_steps], c_len, np.array(midis), 0.4 if stab else 1.5, (1.0, 0.2, 0.1))

    lead = np.zeros(n, np.float32)
    if rng.random() < 0.6:
        l_steps = np.array([s for s in range(0, n_bars * 16, 2) if rng.random() < 0.55], dtype=np.int64)
        if l_steps.size:
            l_midi = key + 36 + _PENTATONIC[rng.integers(0, len(_PENTATONIC), l_steps.size)]
            lead = _notes(n, sr, step_times[l_steps], np.full(l_steps.size, 0.2), l_midi, 0.3, (1.0, 0.0, 0.3, 0, 0.15))

    drum_gain = _section_gains(sections, t, {"full": 1.0, "quiet": 0.7, "break": 1.0})
    inst_gain = _section_gains(sections, t, {"full": 1.0, "quiet": 0.6, "break": 0.0})
    master = _section_gains(sections, t, {"full": 1.0, "quiet": 0.35, "break": 0.45})
    mix = drums * drum_gain + (0.35 * bass * inst_gain) + 0.08 * chords + 0.07 * lead * inst_gain
    mix *= master
    peak = float(np.max(np.abs(mix))) or 1.0
    samples = (mix * (0.85 / peak)).astype(np.float32)

    rate = 100.0
    hop = int(sr / rate)
    frames = samples[: n // hop * hop].reshape(-1, hop)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    rms = np.convolve(np.pad(rms, 15, mode="edge"), np.ones(31) / 31, mode="same")[15:-15]
    loudness = rms / (np.max(rms) or 1.0)

    beats = grid[(grid >= 0) & (grid < duration)]
    return Song(samples, sr, style, tempo, beats, grid, sections, loudness.astype(np.float32), rate, hits)


def _kind_at(sections: list[Section], time: float) -> str:
    for s in sections:
        if s.start <= time < s.end:
            return s.kind
    return sections[-1].kind
