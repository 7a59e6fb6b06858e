"""Choreography: a library of moves timed on the beat grid -> joint angles at any time.

A move is a function of the continuous beat position b (k at the k-th beat)
and the movement energy a (from the music's loudness); it returns offsets
added to the neutral pose. Accents (hits, landings, claps, stops) fall on
integer b, i.e. on beats, or on the backbeat where the snare plays. Each
music section gets its own move; moves cross-fade at section boundaries.
On top of the move, the dancer marks the drums actually played (kick, snare,
crash; see `ACCENTS`), so motion accents follow the music's onsets also where
the drummer departs from the bar's pattern.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from alignnet.demo.synth.figure import neutral
from alignnet.demo.synth.music import Song, beat_position

Params = dict[str, np.ndarray]


def hit(b: np.ndarray, attack: float = 0.18, decay: float = 0.22) -> np.ndarray:
    """1 exactly on each beat: a quick rise over `attack` beats before it, exponential decay after."""
    u = np.mod(b, 1.0)
    after = np.exp(-u / decay)
    rise = np.clip((u - (1 - attack)) / attack, 0, 1)
    return np.maximum(after, rise * rise * (3 - 2 * rise))


def sway(b: np.ndarray, period: float = 1.0) -> np.ndarray:
    """Alternates -1/+1, arriving at each extreme exactly on a beat (every `period` beats), eased between."""
    k = np.floor(b / period)
    u = b / period - k
    s0 = np.where(np.mod(k, 2) == 0, 1.0, -1.0)
    e = u * u * (3 - 2 * u)
    return s0 * (1 - 2 * e)


def _step_touch(b: np.ndarray, a: np.ndarray, v: float) -> Params:
    s = sway(b)
    h = hit(b)
    return {
        "x": 0.05 * a * s,
        "r_hip": 0.07 + 0.14 * a * np.clip(s, 0, 1),
        "l_hip": 0.07 + 0.14 * a * np.clip(-s, 0, 1),
        "r_knee": -0.15 * a * h,
        "l_knee": -0.15 * a * h,
        "r_sh": 0.25 + 0.35 * a * (1 + s) / 2,
        "l_sh": 0.25 + 0.35 * a * (1 - s) / 2,
        "r_el": -0.5 * a * h * v,
        "l_el": -0.5 * a * h * v,
        "lean": -0.06 * a * s,
        "tilt": 0.06 * a * s,
    }


def _bounce(b: np.ndarray, a: np.ndarray, v: float) -> Params:
    h = hit(b)
    bend = 0.22 * a * h
    return {
        "r_hip": 0.07 + bend * 0.8,
        "l_hip": 0.07 + bend * 0.8,
        "r_knee": -1.6 * bend,
        "l_knee": -1.6 * bend,
        "r_lift": 1.2 * bend,
        "l_lift": 1.2 * bend,
        "r_sh": 0.25 + 0.2 * a,
        "l_sh": 0.25 + 0.2 * a,
        "r_el": -(0.6 + 1.2 * a * h),
        "l_el": -(0.6 + 1.2 * a * h),
        "tilt": 0.05 * a * h * v,
    }


def _arm_wave(b: np.ndarray, a: np.ndarray, v: float) -> Params:
    s = sway(b, 2.0)
    ripple = np.sin(np.pi * b)
    return {
        "r_sh": 1.9 + 0.5 * a * s,
        "l_sh": 1.9 - 0.5 * a * s,
        "r_el": 0.45 * a * ripple,
        "l_el": -0.45 * a * ripple,
        "lean": 0.1 * a * s,
        "x": 0.03 * a * s,
        "r_hip": 0.07 + 0.05 * a * (1 + s),
        "l_hip": 0.07 + 0.05 * a * (1 - s),
    }


def _clap(b: np.ndarray, a: np.ndarray, v: float) -> Params:
    # v > 0.5: clap on every beat; otherwise on the backbeat (beats 2 and 4, where the snare is).
    c = hit(b) if v > 0.5 else hit((b - 1) / 2) * 1.0
    bend = 0.2 * a * hit(b)
    return {
        "r_sh": 0.35 + 0.35 * (1 - c),
        "l_sh": 0.35 + 0.35 * (1 - c),
        "r_el": -(1.15 + 1.05 * c),
        "l_el": -(1.15 + 1.05 * c),
        "r_knee": -bend,
        "l_knee": -bend,
        "r_hip": 0.07 + 0.5 * bend,
        "l_hip": 0.07 + 0.5 * bend,
        "tilt": 0.08 * a * sway(b, 2.0),
    }


def _jump(b: np.ndarray, a: np.ndarray, v: float) -> Params:
    u = np.mod(b / 2, 1.0)  # one jump every 2 beats, landing on the beat
    air = np.where(u > 0.45, 4 * (u - 0.45) * (1 - u) / (0.55**2), 0.0)
    land = hit(b / 2, attack=0.05, decay=0.12)
    crouch = 0.2 * a * land
    return {
        "jump": 0.09 * a * air,
        "r_hip": 0.1 + crouch + 0.1 * air,
        "l_hip": 0.1 + crouch + 0.1 * air,
        "r_knee": -2 * crouch,
        "l_knee": -2 * crouch,
        "r_lift": 1.5 * crouch,
        "l_lift": 1.5 * crouch,
        "r_sh": 0.4 + 1.6 * a * air,
        "l_sh": 0.4 + 1.6 * a * air,
        "r_el": -0.3 * land,
        "l_el": -0.3 * land,
    }


def _turn(b: np.ndarray, a: np.ndarray, v: float) -> Params:
    s = sway(b, 2.0)
    return {
        "yaw": 0.75 * a * s,
        "r_sh": 1.25 + 0.25 * a * hit(b),
        "l_sh": 1.25 + 0.25 * a * hit(b),
        "r_el": 0.2 * s,
        "l_el": -0.2 * s,
        "r_hip": 0.1 + 0.05 * s,
        "l_hip": 0.1 - 0.05 * s,
        "tilt": -0.1 * a * s,
    }


def _punch(b: np.ndarray, a: np.ndarray, v: float) -> Params:
    right = np.mod(np.floor(b + 0.25), 2) == 0
    h = hit(b, attack=0.12, decay=0.3)
    up = 1.3 + 0.5 * v
    r = np.where(right, h, 0.0)
    left = np.where(~right, h, 0.0)
    return {
        "r_sh": 0.45 + (up - 0.45) * a * r,
        "l_sh": 0.45 + (up - 0.45) * a * left,
        "r_el": -1.9 * (1 - a * r),
        "l_el": -1.9 * (1 - a * left),
        "lean": 0.08 * a * (left - r),
        "r_hip": 0.12,
        "l_hip": 0.12,
        "r_knee": -0.15 * a * h,
        "l_knee": -0.15 * a * h,
    }


def _knee_lift(b: np.ndarray, a: np.ndarray, v: float) -> Params:
    right = np.mod(np.floor(b + 0.25), 2) == 0
    h = hit(b, attack=0.3, decay=0.3)
    r = np.where(right, h, 0.0)
    left = np.where(~right, h, 0.0)
    return {
        "r_lift": 1.1 * a * r,
        "l_lift": 1.1 * a * left,
        "r_knee": -0.25 * a * r,
        "l_knee": -0.25 * a * left,
        "r_hip": 0.05 + 0.15 * a * r,
        "l_hip": 0.05 + 0.15 * a * left,
        "r_sh": 0.3 + 0.6 * a * left,
        "l_sh": 0.3 + 0.6 * a * r,
        "r_el": -0.8 * a * left - 0.3,
        "l_el": -0.8 * a * r - 0.3,
    }


def _hip_sway(b: np.ndarray, a: np.ndarray, v: float) -> Params:
    s = sway(b)
    return {
        "x": 0.035 * a * s,
        "lean": -0.09 * a * s,
        "r_sh": 0.55,
        "l_sh": 0.55,
        "r_el": -2.1 + 0.2 * a * s,
        "l_el": -2.1 - 0.2 * a * s,
        "r_hip": 0.1 + 0.08 * a * s,
        "l_hip": 0.1 - 0.08 * a * s,
        "r_knee": -0.15 * a * np.clip(-s, 0, 1),
        "l_knee": -0.15 * a * np.clip(s, 0, 1),
        "tilt": 0.1 * a * s,
    }


def accent_envelope(
    times: np.ndarray, hit_times: np.ndarray, velocities: np.ndarray, attack: float = 0.07, decay: float = 0.16
) -> np.ndarray:
    """Sum over hits of velocity * a pulse peaking at the hit: eased rise over `attack` s before, decay after.

    times (n,) seconds -> (n,) float64; the dancer's motion hits the sound's onset.
    """
    if hit_times.size == 0:
        return np.zeros_like(times, dtype=np.float64)
    lag = times[:, None] - hit_times[None, :]  # (n, hits)
    rise = np.clip(1 + lag / attack, 0, 1)
    pulse = np.where(lag >= 0, np.exp(-np.maximum(lag, 0) / decay), rise * rise * (3 - 2 * rise))
    return np.clip(pulse @ velocities, 0, 1.5)


# How a dancer marks the drums on top of the move: a body part per drum, chosen per dancer.
ACCENTS: dict[str, dict[str, dict[str, float]]] = {
    "kick": {
        "dip": {"r_knee": -0.45, "l_knee": -0.45, "r_hip": 0.2, "l_hip": 0.2, "r_lift": 0.3, "l_lift": 0.3},
        "stomp": {"r_lift": 0.9, "r_knee": -0.3, "lean": 0.05},
        "hip": {"x": 0.03, "tilt": 0.12, "lean": -0.06},
    },
    "snare": {
        "elbows": {"r_el": -0.9, "l_el": -0.9},
        "right_arm": {"r_sh": 1.0, "r_el": 0.4},
        "chest": {"lean": 0.12, "r_sh": 0.35, "l_sh": 0.35},
        "head": {"tilt": -0.2, "r_el": -0.5},
    },
    "crash": {
        "arms_up": {"r_sh": 1.3, "l_sh": 1.3, "jump": 0.04},
        "open": {"r_sh": 0.9, "l_sh": 0.9, "r_el": 0.6, "l_el": 0.6, "r_hip": 0.15, "l_hip": 0.15},
    },
}


# Key poses for `_key_poses`: offsets from the neutral pose (absolute for the limb angles, as the moves give them).
_KEY_POSES: tuple[dict[str, float], ...] = (
    {"r_sh": 2.6, "l_sh": 0.3, "r_el": 0.1, "l_el": -1.6, "lean": 0.08, "r_knee": -0.3, "r_hip": 0.3},
    {"r_sh": 1.5, "l_sh": 1.5, "r_el": -1.6, "l_el": -1.6, "r_hip": 0.3, "l_hip": 0.3, "r_knee": -0.5, "l_knee": -0.5},
    {"r_sh": 0.3, "l_sh": 2.6, "r_el": -1.6, "l_el": 0.1, "lean": -0.08, "l_knee": -0.3, "l_hip": 0.3},
    {"r_sh": 1.6, "l_sh": 0.4, "r_el": 0.0, "l_el": -2.2, "tilt": 0.2, "x": 0.04, "l_lift": 0.8, "l_knee": -0.6},
    {"r_sh": 0.9, "l_sh": 0.9, "r_el": 1.2, "l_el": 1.2, "yaw": 0.6, "r_hip": 0.2, "l_hip": 0.2},
    {"r_sh": 2.9, "l_sh": 2.9, "r_el": 0.0, "l_el": 0.0, "jump": 0.03, "r_hip": 0.15, "l_hip": 0.15},
    {"r_sh": 0.5, "l_sh": 1.6, "r_el": -2.0, "l_el": 0.0, "tilt": -0.2, "x": -0.04, "r_lift": 0.8, "r_knee": -0.6},
    {
        "r_sh": 0.2,
        "l_sh": 0.2,
        "r_el": -0.2,
        "l_el": -0.2,
        "lean": 0.15,
        "r_hip": 0.35,
        "l_hip": 0.35,
        "r_knee": -0.7,
        "l_knee": -0.7,
        "r_lift": 0.5,
        "l_lift": 0.5,
    },
)


def _pose_table(poses: tuple[dict[str, float], ...]) -> dict[str, np.ndarray]:
    base = neutral(1)
    keys = sorted({k for p in poses for k in p})
    return {k: np.array([p.get(k, float(base[k][0])) for p in poses]) for k in keys}


_KEY_TABLE = _pose_table(_KEY_POSES)


def _snap(b: np.ndarray, v: float, transition: float) -> Params:
    """A key pose per beat, reached exactly on the beat and held dead still until the last `transition` beats
    before the next one (eased). The order of poses depends on the variant v."""
    k = np.floor(b)
    u = b - k
    e = np.clip((u - (1 - transition)) / transition, 0, 1)
    e = e * e * (3 - 2 * e)
    n = len(_KEY_POSES)
    step = 3 + int(v * 4)  # coprime with 8: every pose comes round
    now = np.mod((k * step + int(v * 97)).astype(np.int64), n)
    nxt = np.mod(now + step, n)
    return {key: table[now] + e * (table[nxt] - table[now]) for key, table in _KEY_TABLE.items()}


def _key_poses(b: np.ndarray, a: np.ndarray, v: float) -> Params:
    """Hits: a new key pose on every beat, moved into in the last quarter beat, frozen between (energy: reach)."""
    pose = _snap(b, v, 0.25)
    base = neutral(1)
    return {key: base[key][0] + a * (value - base[key][0]) if key in base else a * value for key, value in pose.items()}


def _flow(b: np.ndarray, a: np.ndarray, v: float) -> Params:
    """Continuous flowing arms and body: sines of 4- and 8-beat periods, no accents."""
    p = np.pi * b / 2
    return {
        "r_sh": 1.3 + 0.9 * a * np.sin(p),
        "l_sh": 1.3 + 0.9 * a * np.sin(p + np.pi * (0.5 + v)),
        "r_el": -0.6 + 0.5 * a * np.cos(p),
        "l_el": -0.6 + 0.5 * a * np.cos(p + np.pi * v),
        "lean": 0.1 * a * np.sin(p / 2),
        "tilt": 0.08 * a * np.cos(p / 2),
        "x": 0.04 * a * np.sin(p / 2),
        "yaw": 0.3 * a * np.sin(p / 2 + v),
        "r_hip": 0.08 + 0.06 * a * (1 + np.sin(p)),
        "l_hip": 0.08 + 0.06 * a * (1 - np.sin(p)),
    }


def _footwork(b: np.ndarray, a: np.ndarray, v: float) -> Params:
    """Quick steps on every eighth, alternating feet, the stepping foot set down on the beat and the off-beat."""
    e = 2 * b  # eighths
    right = np.mod(np.floor(e), 2) == 0
    h = hit(e, attack=0.4, decay=0.25)
    r, left = np.where(right, 1 - h, 0.0), np.where(~right, 1 - h, 0.0)
    return {
        "r_lift": 0.9 * a * r,
        "l_lift": 0.9 * a * left,
        "r_knee": -0.5 * a * r - 0.1,
        "l_knee": -0.5 * a * left - 0.1,
        "r_hip": 0.1 + 0.2 * a * r + 0.1 * v,
        "l_hip": 0.1 + 0.2 * a * left + 0.1 * v,
        "x": 0.03 * a * sway(b, 2.0),
        "r_sh": 0.5 + 0.2 * a * left,
        "l_sh": 0.5 + 0.2 * a * r,
        "r_el": -1.3,
        "l_el": -1.3,
        "lean": 0.06,
    }


def _groove_freeze(b: np.ndarray, a: np.ndarray, v: float) -> Params:
    """Bounce on beats 1-2 of every 4, snap into a key pose on beat 3 and hold it frozen to the bar's end."""
    bar = np.mod(b, 4.0)
    groove = _bounce(b, a, v)
    pose = _key_poses(np.floor(b / 4.0) + 0.0, a, v)
    # eased into the freeze over the quarter beat before beat 3, released over the last quarter beat of the bar
    w = np.clip((bar - 1.75) / 0.25, 0, 1) * np.clip((4.0 - bar) / 0.25, 0, 1)
    w = w * w * (3 - 2 * w)
    keys = set(groove) | set(pose)
    base = neutral(1)
    return {
        key: (1 - w) * groove.get(key, base[key][0] if key in base else 0.0)
        + w * pose.get(key, base[key][0] if key in base else 0.0)
        for key in keys
    }


# Moves of the dance styles (`alignnet.demo.synth.styles`); not drawn by `choreograph`, so the demo's dances stay.
STYLE_MOVES: dict[str, Callable[[np.ndarray, np.ndarray, float], Params]] = {
    "key_poses": _key_poses,
    "flow": _flow,
    "footwork": _footwork,
    "groove_freeze": _groove_freeze,
}

MOVES: dict[str, Callable[[np.ndarray, np.ndarray, float], Params]] = {
    "step_touch": _step_touch,
    "bounce": _bounce,
    "arm_wave": _arm_wave,
    "clap": _clap,
    "jump": _jump,
    "turn": _turn,
    "punch": _punch,
    "knee_lift": _knee_lift,
    "hip_sway": _hip_sway,
}
_CALM_MOVES = ("arm_wave", "turn", "hip_sway", "step_touch")


@dataclass(frozen=True)
class Choreography:
    """A dance to one song: a move per section (name, variant in [0, 1]) and the dancer's energy scale."""

    song: Song
    moves: tuple[tuple[str, float], ...]
    energy_scale: float
    accents: tuple[tuple[str, str], ...] = ()  # (drum, ACCENTS style) the dancer hits
    beat_rate: float = 1.0  # the moves' beat count per song beat: 0.5 dances half-time
    beat_shift: float = 0.0  # added to the moves' beat count: 0.5 puts every accent on the off-beat

    def params(self, times: np.ndarray) -> Params:
        """Joint-angle parameters (see figure.POSE_PARAMS) at `times` seconds: dict of (len(times),) arrays."""
        b = beat_position(times, self.song.beat_grid) - self.song_first_beat
        if self.beat_rate != 1.0 or self.beat_shift != 0.0:
            b = b * self.beat_rate + self.beat_shift
        loud = self.song.loudness_at(times)
        a = np.clip(self.energy_scale * (0.3 + 0.7 * loud), 0.1, 1.1)
        out = neutral(len(times))
        starts = np.array([s.start for s in self.song.sections])
        fade = 0.25
        weights = []
        for k, start in enumerate(starts):
            end = starts[k + 1] if k + 1 < len(starts) else np.inf
            w_in = np.ones_like(times) if k == 0 else _smooth((times - start) / fade + 0.5)
            w_out = np.ones_like(times) if np.isinf(end) else _smooth((end - times) / fade + 0.5)
            weights.append(w_in * w_out)
        total = np.sum(weights, axis=0)
        for (name, variant), w in zip(self.moves, weights, strict=True):
            if not np.any(w > 0):
                continue
            offsets = (MOVES.get(name) or STYLE_MOVES[name])(b, a, variant)
            base = neutral(1)
            for key, value in offsets.items():
                if key in ("r_sh", "l_sh", "r_el", "l_el", "r_hip", "l_hip"):
                    value = value - base[key][0]
                out[key] = out[key] + w / total * value
        for drum, style in self.accents:
            hit_times, velocities = self.song.hits.get(drum, (np.zeros(0), np.zeros(0)))
            env = self.energy_scale * accent_envelope(times, hit_times, velocities)
            for key, amount in ACCENTS[drum][style].items():
                out[key] = out[key] + amount * env
        return out

    @property
    def song_first_beat(self) -> float:
        """Grid index of the beat at 0 s (so b counts beats of the song from 0)."""
        return float(np.searchsorted(self.song.beat_grid, 0.0))


def _smooth(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


def choreograph(rng: np.random.Generator, song: Song) -> Choreography:
    """Pick a move per section: energetic moves for full sections, calm ones for quiet parts and breaks."""
    names = list(MOVES)
    moves: list[tuple[str, float]] = []
    for section in song.sections:
        pool = names if section.kind == "full" else list(_CALM_MOVES)
        choice = str(rng.choice(pool))
        while moves and choice == moves[-1][0]:
            choice = str(rng.choice(pool))
        moves.append((choice, float(rng.random())))
    accents = tuple((drum, str(rng.choice(list(styles)))) for drum, styles in ACCENTS.items())
    return Choreography(song, tuple(moves), float(rng.uniform(0.75, 1.05)), accents)
