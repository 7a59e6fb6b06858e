"""Phonemes to mouth shapes (visemes), with co-articulation.

A mouth shape is three numbers in [0, 1]: opening (lips apart), width
(corners pulled apart, as in "ee") and roundness (lips pushed forward and
rounded, as in "oo"). Each espeak-ng phoneme mnemonic (English voices;
other languages share most symbols) maps to a target shape; the track is
the targets held over each phoneme's span, smoothed with a Gaussian
(neighbouring phonemes blend: co-articulation) and sampled at the times
asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.ndimage import gaussian_filter1d

from alignnet.demo.lips.speech import Phoneme

REST = (0.0, 0.45, 0.1)

# Shape classes: (opening, width, roundness).
_CLASSES: dict[str, tuple[float, float, float]] = {
    "rest": REST,
    "bilabial": (0.0, 0.5, 0.15),  # p b m: lips pressed together
    "labiodental": (0.08, 0.55, 0.05),  # f v: lower lip under the teeth
    "dental": (0.22, 0.6, 0.05),  # T D
    "alveolar": (0.2, 0.6, 0.1),  # t d n l s z
    "postalveolar": (0.22, 0.35, 0.65),  # S Z tS dZ: lips forward
    "r": (0.25, 0.35, 0.55),
    "w": (0.12, 0.15, 0.95),
    "velar": (0.35, 0.5, 0.15),  # k g N h j
    "open": (0.95, 0.6, 0.1),  # a A: aI aU
    "mid": (0.6, 0.75, 0.05),  # e E eI
    "close_front": (0.3, 1.0, 0.0),  # i I i:
    "neutral": (0.5, 0.55, 0.15),  # @ 3 V
    "open_round": (0.65, 0.35, 0.75),  # o O oU OI
    "close_round": (0.28, 0.15, 1.0),  # u U u:
}

# Longest-prefix lookup: the mnemonic's leading characters decide its class.
_PREFIXES: dict[str, str] = {
    "p": "bilabial",
    "b": "bilabial",
    "m": "bilabial",
    "f": "labiodental",
    "v": "labiodental",
    "T": "dental",
    "D": "dental",
    "t": "alveolar",
    "d": "alveolar",
    "n": "alveolar",
    "l": "alveolar",
    "s": "alveolar",
    "z": "alveolar",
    "S": "postalveolar",
    "Z": "postalveolar",
    "tS": "postalveolar",
    "dZ": "postalveolar",
    "r": "r",
    "w": "w",
    "k": "velar",
    "g": "velar",
    "N": "velar",
    "h": "velar",
    "j": "velar",
    "x": "velar",
    "?": "velar",
    "a": "open",
    "A": "open",
    "aI": "open",
    "aU": "open",
    "0": "open_round",
    "e": "mid",
    "E": "mid",
    "eI": "mid",
    "e@": "mid",
    "i": "close_front",
    "I": "close_front",
    "y": "close_round",
    "@": "neutral",
    "3": "neutral",
    "V": "neutral",
    "o": "open_round",
    "O": "open_round",
    "oU": "open_round",
    "OI": "open_round",
    "u": "close_round",
    "U": "close_round",
    "_": "rest",
}


def viseme(symbol: str) -> tuple[float, float, float]:
    """Target (opening, width, roundness) of one espeak phoneme mnemonic; unknown -> neutral."""
    for k in range(min(len(symbol), 2), 0, -1):
        cls = _PREFIXES.get(symbol[:k])
        if cls is not None:
            return _CLASSES[cls]
    return _CLASSES["neutral"]


def mouth_track(
    phonemes: Sequence[Phoneme], duration: float, times: np.ndarray, smooth_s: float = 0.025, rate: float = 400.0
) -> np.ndarray:
    """Mouth shape at `times` (seconds): (len(times), 3) float64 opening, width, roundness.

    Each phoneme holds its target from its start to the next one's (the last
    to `duration`); before the first and after `duration` the mouth rests.
    The held targets, sampled at `rate` Hz, are smoothed with a Gaussian of
    standard deviation `smooth_s` seconds.
    """
    n = int(np.ceil(duration * rate)) + 1
    grid = np.arange(n) / rate
    targets = np.tile(np.asarray(REST, dtype=np.float64), (n, 1))
    starts = np.array([p.start for p in phonemes], dtype=np.float64)
    if len(phonemes):
        shapes = np.array([viseme(p.symbol) for p in phonemes], dtype=np.float64)
        which = np.searchsorted(starts, grid, side="right") - 1
        inside = which >= 0
        targets[inside] = shapes[which[inside]]
    smoothed = gaussian_filter1d(targets, smooth_s * rate, axis=0, mode="nearest")
    out = np.empty((len(times), 3))
    for c in range(3):
        out[:, c] = np.interp(times, grid, smoothed[:, c], left=REST[c], right=REST[c])
    return out
