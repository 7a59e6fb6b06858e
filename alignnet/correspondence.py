"""Conversions between video frames, audio frames, seconds and the model's audio coordinate.

AlignNet predicts, for every video frame, a position in the audio as a normalised
coordinate u in [-1, 1] with the `grid_sample(align_corners=True)` convention:
u = -1 is the centre of audio frame 0 and u = +1 the centre of audio frame m - 1.
Audio frame j is at time j * hop_length / sample_rate seconds (librosa's
`center=True` framing), so the coordinate is tied to time through the clip's
number of audio frames m.

A "source frame" is a video frame index (float) of the undistorted clip at the
video's frame rate: source frame s is at time s / fps. The metrics compare
predicted and true source frames.

Every function works elementwise on numpy arrays, torch tensors and floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


def audio_frame_to_coord(frame: T, n_audio: int) -> T:
    """Audio frame index (0 .. n_audio-1, float) -> coordinate in [-1, 1]."""
    return frame * (2.0 / max(n_audio - 1, 1)) - 1.0  # type: ignore[operator]


def coord_to_audio_frame(coord: T, n_audio: int) -> T:
    """Coordinate in [-1, 1] -> audio frame index (float)."""
    return (coord + 1.0) * (max(n_audio - 1, 1) / 2.0)  # type: ignore[operator]


@dataclass(frozen=True)
class Timebase:
    """The clock of one clip: video fps, audio frames per second and audio length.

    audio_rate = sample_rate / hop_length (about 86.13 for 44100 Hz / 512).
    """

    fps: float
    audio_rate: float
    n_audio: int

    @classmethod
    def from_meta(cls, fps: float, sample_rate: int, hop_length: int, n_audio: int) -> Timebase:
        return cls(fps=float(fps), audio_rate=sample_rate / hop_length, n_audio=int(n_audio))

    def seconds_to_coord(self, seconds: T) -> T:
        return audio_frame_to_coord(seconds * self.audio_rate, self.n_audio)  # type: ignore[operator]

    def coord_to_seconds(self, coord: T) -> T:
        return coord_to_audio_frame(coord, self.n_audio) / self.audio_rate  # type: ignore[operator]

    def source_frame_to_coord(self, frame: T) -> T:
        """Source video frame index -> audio coordinate."""
        return self.seconds_to_coord(frame / self.fps)  # type: ignore[operator]

    def coord_to_source_frame(self, coord: T) -> T:
        """Audio coordinate -> source video frame index (float)."""
        return self.coord_to_seconds(coord) * self.fps  # type: ignore[operator]
