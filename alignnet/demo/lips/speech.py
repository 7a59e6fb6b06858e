"""Speech with phoneme timings from espeak-ng's library (libespeak-ng.so.1) through ctypes.

The espeak-ng command line prints no timings (without mbrola voices), but
the library does: initialised with phoneme events on
(`espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, espeakINITIALIZE_PHONEME_EVENTS)`)
it hands a synth callback the audio in chunks together with events, each
phoneme event carrying the phoneme's mnemonic (e.g. "a", "oU", "_:" for a
pause) and its audio position in milliseconds. Those timings come from the
synthesiser itself and are the ground truth of the talking-head corpus.

The library keeps global state (one voice, one callback per process), so
calls are serialised with a lock.

Debian package: espeak-ng (libespeak-ng1 and espeak-ng-data).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from dataclasses import dataclass

import numpy as np

LIBRARY = "libespeak-ng.so.1"

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000
_RATE, _VOLUME, _PITCH, _RANGE = 1, 2, 3, 4
_EVENT_LIST_TERMINATED, _EVENT_WORD, _EVENT_PHONEME = 0, 1, 7


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    """espeak_EVENT of speak_lib.h."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class Voice:
    """An espeak-ng voice."""

    name: str = "en"  # language[+variant], e.g. "en-us+f3"
    rate: int = 160  # words per minute
    pitch: int = 50  # 0-100, 50 normal
    range: int = 50  # pitch range 0-100, 0 monotone


@dataclass(frozen=True)
class Phoneme:
    """One phoneme event: espeak's mnemonic and its start in the audio (seconds)."""

    symbol: str
    start: float


@dataclass
class Utterance:
    """Synthesised speech: samples (n,) float32 in [-1, 1] at sample_rate Hz, the phonemes in
    order (each lasting until the next one starts; the last one until `duration`) and the
    start of each word (seconds)."""

    samples: np.ndarray
    sample_rate: int
    phonemes: list[Phoneme]
    words: list[float]

    @property
    def duration(self) -> float:
        return self.samples.size / self.sample_rate


class EspeakError(RuntimeError):
    """libespeak-ng is missing or refused a request."""


_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_sample_rate = 0


def _library() -> tuple[ctypes.CDLL, int]:
    """The initialised library and its sample rate (Hz); loaded once per process."""
    global _lib, _sample_rate
    if _lib is None:
        try:
            lib = ctypes.CDLL(LIBRARY)
        except OSError as exc:
            raise EspeakError(
                f"cannot load {LIBRARY} ({exc}); install the Debian package espeak-ng (apt-get install espeak-ng)"
            ) from exc
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.POINTER(ctypes.c_uint),
            ctypes.c_void_p,
        ]
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, _INITIALIZE_PHONEME_EVENTS)
        if rate <= 0:
            raise EspeakError(f"espeak_Initialize failed ({rate}): espeak-ng-data not found?")
        _lib, _sample_rate = lib, rate
    return _lib, _sample_rate


def synthesize(text: str, voice: Voice = Voice()) -> Utterance:
    """Speak `text` (UTF-8) with `voice`; the audio and the phoneme and word timings.

    Raises EspeakError naming the voice or text when espeak refuses them.
    """
    with _lock:
        lib, rate = _library()
        chunks: list[np.ndarray] = []
        phonemes: list[Phoneme] = []
        words: list[float] = []

        def on_synth(wav: ctypes.POINTER(ctypes.c_short), n: int, events: ctypes.POINTER(_Event)) -> int:
            if n > 0 and wav:
                chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            i = 0
            while events[i].type != _EVENT_LIST_TERMINATED:
                ev = events[i]
                if ev.type == _EVENT_PHONEME:
                    symbol = ev.id.string.decode("ascii", errors="replace")
                    phonemes.append(Phoneme(symbol, ev.audio_position / 1000.0))
                elif ev.type == _EVENT_WORD:
                    words.append(ev.audio_position / 1000.0)
                i += 1
            return 0

        callback = _CALLBACK(on_synth)  # kept alive until synthesis returns
        lib.espeak_SetSynthCallback(callback)
        if lib.espeak_SetVoiceByName(voice.name.encode()) != 0:
            raise EspeakError(f"espeak-ng has no voice {voice.name!r}")
        for param, value in ((_RATE, voice.rate), (_PITCH, voice.pitch), (_RANGE, voice.range), (_VOLUME, 100)):
            lib.espeak_SetParameter(param, int(value), 0)
        data = text.encode("utf-8") + b"\0"
        status = lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _ENDPAUSE, None, None)
        if status != 0:
            raise EspeakError(f"espeak_Synth failed ({status}) on text {text[:60]!r}")
        lib.espeak_Synchronize()
    samples = np.concatenate(chunks).astype(np.float32) / 32768.0 if chunks else np.zeros(0, np.float32)
    return Utterance(samples, rate, phonemes, words)
