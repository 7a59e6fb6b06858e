"""espeak-ng through ctypes: real phoneme events and audio; visemes follow them."""

from __future__ import annotations

import numpy as np
import pytest

from alignnet.demo.lips.speech import EspeakError, Phoneme, Voice, synthesize
from alignnet.demo.lips.visemes import REST, mouth_track, viseme


def test_phoneme_events_are_timed_inside_the_audio() -> None:
    u = synthesize("Bob saw a pupil at the pool.", Voice("en-us", 160))
    starts = np.array([p.start for p in u.phonemes])
    assert u.sample_rate == 22050
    assert len(u.phonemes) >= 15
    assert np.all(np.diff(starts) >= 0)
    assert 0 <= starts[0] and starts[-1] <= u.duration + 1e-3
    assert {"b", "p"} <= {p.symbol for p in u.phonemes}

    # Speech sounds carry energy; the audio before the first and after the last phoneme is quiet.
    def rms(a: float, b: float) -> float:
        return float(np.sqrt(np.mean(u.samples[int(a * u.sample_rate) : int(b * u.sample_rate)] ** 2)))

    vowels = [p for p in u.phonemes if viseme(p.symbol)[0] >= 0.5]
    assert vowels and all(rms(v.start, v.start + 0.04) > 0.02 for v in vowels)
    assert rms(starts[-1], u.duration) < 0.01


def test_voice_speed_changes_timings_and_unknown_voice_fails() -> None:
    text = "The quick brown fox jumps over the lazy dog."
    slow = synthesize(text, Voice("en", 120))
    fast = synthesize(text, Voice("en+f3", 220, pitch=70))
    assert fast.duration < 0.75 * slow.duration
    assert [p.symbol for p in slow.phonemes] == [p.symbol for p in fast.phonemes]
    assert fast.phonemes[-2].start < 0.75 * slow.phonemes[-2].start
    with pytest.raises(EspeakError, match="no-such-voice"):
        synthesize("hello", Voice("no-such-voice"))


def test_visemes_close_for_bilabials_and_open_for_vowels() -> None:
    assert viseme("m")[0] == 0.0 and viseme("p")[0] == 0.0
    assert viseme("aI")[0] > 0.8 and viseme("A:")[0] > 0.8
    assert viseme("u:")[2] > 0.9 and viseme("i:")[1] > 0.9
    assert viseme("_:") == REST
    phonemes = [Phoneme("_", 0.0), Phoneme("m", 0.2), Phoneme("a", 0.4), Phoneme("m", 0.6), Phoneme("_", 0.8)]
    times = np.arange(0, 1.0, 0.01)
    track = mouth_track(phonemes, 1.0, times)
    assert track.shape == (100, 3)
    opening = track[:, 0]
    assert opening[50] > 0.8 and opening[30] < 0.05 and opening[70] < 0.05
    # Co-articulation: the mouth starts opening before the vowel and is smooth.
    assert 0.05 < opening[38] < opening[42] < 0.9
    assert np.max(np.abs(np.diff(opening))) < 0.2
