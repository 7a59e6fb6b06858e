"""Dance styles: how a dance relates to the beat, as a set of moves, a beat mapping and phrase lengths.

Every style changes its move at phrase boundaries (every 4-8 bars), lets the
dancer's energy follow the music's loudness (calm moves in quiet phrases),
and differs in where its accents fall:

- hits: a key pose struck on every beat and held dead still until the next
  (no drum accents on top): the held-out style (`HELDOUT_STYLES`);
- flowing: continuous arm and body waves, accents only where the drums crash;
- groove: bounces, step-touches and claps, kick and snare marked;
- footwork: quick steps on every eighth, the feet set down on beat and off-beat;
- freeze: grooves that snap into a frozen pose on beat 3 of each bar, jumps;
- half_time: the groove's moves at half the song's beat rate;
- off_beat: the groove's accents on the "and" between beats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alignnet.demo.synth.choreography import ACCENTS, Choreography
from alignnet.demo.synth.music import Section, Song
from alignnet.errors import require_known


@dataclass(frozen=True)
class DanceStyle:
    """A style: moves for loud and for quiet phrases, accented drums, beat mapping, phrase lengths in bars."""

    name: str
    moves: tuple[str, ...]
    calm_moves: tuple[str, ...]
    accents: tuple[str, ...] = ()  # drums of `choreography.ACCENTS` the dancer marks
    beat_rate: float = 1.0
    beat_shift: float = 0.0
    phrase_bars: tuple[int, ...] = (4, 8)


DANCE_STYLES: dict[str, DanceStyle] = {
    s.name: s
    for s in (
        DanceStyle("hits", ("key_poses",), ("key_poses",)),
        DanceStyle("flowing", ("flow", "arm_wave", "turn"), ("flow", "hip_sway"), accents=("crash",)),
        DanceStyle(
            "groove",
            ("bounce", "step_touch", "clap", "punch"),
            ("hip_sway", "step_touch"),
            accents=("kick", "snare", "crash"),
        ),
        DanceStyle("footwork", ("footwork", "knee_lift"), ("step_touch", "footwork"), accents=("kick",)),
        DanceStyle("freeze", ("groove_freeze", "jump", "punch"), ("groove_freeze", "hip_sway"), accents=("crash",)),
        DanceStyle(
            "half_time",
            ("bounce", "punch", "jump", "clap"),
            ("hip_sway", "arm_wave"),
            accents=("snare",),
            beat_rate=0.5,
        ),
        DanceStyle(
            "off_beat", ("bounce", "step_touch", "clap", "knee_lift"), ("step_touch", "hip_sway"), beat_shift=0.5
        ),
    )
}
HELDOUT_STYLES: tuple[str, ...] = ("hits",)
TRAIN_STYLES: tuple[str, ...] = tuple(name for name in DANCE_STYLES if name not in HELDOUT_STYLES)


def check_styles(names: tuple[str, ...]) -> None:
    """UserInputError naming the first unknown dance style."""
    require_known("dance style", names, DANCE_STYLES)


def _phrase_of(rng: np.random.Generator, song: Song, style: DanceStyle) -> list[int]:
    """Phrase number of each song section: a new phrase once the current one has lasted its 4-8 bars."""
    bar = 4 * 60.0 / song.tempo[0]["bpm"]
    phrases, current, start = [], 0, song.sections[0].start if song.sections else 0.0
    length = bar * int(rng.choice(style.phrase_bars))
    for section in song.sections:
        if section.start - start >= length - 1e-6:
            current += 1
            start = section.start
            length = bar * int(rng.choice(style.phrase_bars))
        phrases.append(current)
    return phrases


def _loud(section: Section) -> bool:
    return section.kind == "full"


def choreograph_style(rng: np.random.Generator, song: Song, style: DanceStyle) -> Choreography:
    """A dance to `song` in `style`: one move per phrase (a calm one where the phrase starts quiet), the style's
    drum accents and beat mapping, and an energy scale of 0.8-1.05 (times the loudness, in `Choreography.params`)."""
    moves: list[tuple[str, float]] = []
    phrase_move: dict[int, tuple[str, float]] = {}
    for section, phrase in zip(song.sections, _phrase_of(rng, song, style), strict=True):
        if phrase not in phrase_move:
            pool = list(style.moves if _loud(section) else style.calm_moves)
            choice = str(rng.choice(pool))
            if moves and len(pool) > 1 and choice == moves[-1][0]:
                choice = pool[(pool.index(choice) + 1) % len(pool)]
            phrase_move[phrase] = (choice, float(rng.random()))
        moves.append(phrase_move[phrase])
    accents = tuple((drum, str(rng.choice(list(ACCENTS[drum])))) for drum in style.accents)
    return Choreography(
        song,
        tuple(moves),
        float(rng.uniform(0.8, 1.05)),
        accents,
        beat_rate=style.beat_rate,
        beat_shift=style.beat_shift,
    )
