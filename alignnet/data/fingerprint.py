"""A downloaded video's fingerprint: Chromaprint of its audio and a small visual signature.

Audio: Chromaprint (pyacoustid over libchromaprint, the library of Debian's
libchromaprint-tools and its fpcalc), decoded to its raw items: one uint32 per ~0.124 s, robust to
re-encoding, resampling and loudness changes. Two videos with the same
recording of a song (a re-upload, or two dancers covering the same track)
share long runs of items at one offset (alignnet.data.duplicates).

Visual: `VISUAL_RATE` frames per second, grey, black borders (letterboxing)
cropped, shrunk to SIGNATURE_SIDE x SIGNATURE_SIDE, high-passed (minus its
Gaussian blur) and normalised to zero mean and unit norm. Re-encodings and re-scalings barely change it; a mirrored
copy matches it flipped left to right; another dancer in another room does
not match either way, even when the song and the choreography are the same.

Only the first `max_seconds` of each video are used (enough to tell copies,
and the cost stays bounded for long videos).
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass, field, fields

import acoustid
import chromaprint
import cv2
import ffmpeg
import numpy as np

from alignnet.atomic import atomic_output
from alignnet.ffmpeg_paths import ffmpeg_path
from alignnet.stage_status import read_upstream
from alignnet.video_frames import iter_frames, probe_size

log = logging.getLogger(__name__)

# Chromaprint's item hop: 4096-sample frames at 11,025 Hz, overlapping by 2/3.
CHROMAPRINT_RATE = 11025
ITEM_SECONDS = 4096 / 3 / CHROMAPRINT_RATE
MIN_AUDIO_SECONDS = 3.0
VISUAL_RATE = 4.0  # signature frames per second
SIGNATURE_SIDE = 16
DECODE_SIDE = 96  # frames are decoded at this square size before the border crop
BLACK_LEVEL = 24  # a row or column darker than this in every frame is a border (0-255)
HIGH_PASS_SIGMA = 2.0  # signature pixels
MAX_SECONDS = 120.0


@dataclass
class VideoFingerprint:
    """What the duplicate search needs of one video; `failed` says why a part is missing."""

    video_id: str
    audio: np.ndarray  # uint32 (n_items,) raw Chromaprint items; empty when the audio could not be read
    visual: np.ndarray  # (n_frames, SIDE * SIDE) unit-norm signatures at VISUAL_RATE (float16 when loaded)
    duration: float = 0.0  # seconds of audio fingerprinted (at most max_seconds)
    width: int = 0
    height: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # part ("audio", "visual", "download") -> why

    def save(self, path: str | os.PathLike[str]) -> None:
        meta = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("audio", "visual")}
        with atomic_output(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(
                fh, audio=self.audio.astype(np.uint32), visual=self.visual.astype(np.float16), meta=json.dumps(meta)
            )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> VideoFingerprint:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            # the signatures stay float16 (~250 KB a video at 120 s): thousands of videos fit in memory
            return cls(audio=data["audio"].astype(np.uint32), visual=data["visual"], **meta)


def audio_fingerprint(path: str | os.PathLike[str], max_seconds: float = MAX_SECONDS) -> tuple[np.ndarray, float]:
    """Raw Chromaprint items of a media file's audio, and the seconds they cover.

    ffmpeg decodes the audio to mono PCM at Chromaprint's own rate and
    pyacoustid hands it to libchromaprint (the library behind fpcalc).
    pyacoustid's fpcalc path is not used: fpcalc 1.5 exits with status 3 on
    the end-of-stream message of most AAC-in-mp4 files and pyacoustid then
    rejects a good fingerprint. Raises acoustid.FingerprintGenerationError
    when there is no audio to fingerprint (no audio stream, undecodable).
    """
    stream = ffmpeg.input(ffmpeg_path(path), t=max_seconds).output(
        "pipe:", format="s16le", acodec="pcm_s16le", ac=1, ar=CHROMAPRINT_RATE, vn=None
    )
    try:
        pcm, _ = stream.global_args("-nostdin", "-loglevel", "error").run(capture_stdout=True, capture_stderr=True)
    except ffmpeg.Error as exc:
        message = exc.stderr.decode(errors="replace").strip()[-300:]
        raise acoustid.FingerprintGenerationError(f"ffmpeg cannot decode the audio of {path}: {message}") from exc
    seconds = len(pcm) / 2 / CHROMAPRINT_RATE
    if seconds < MIN_AUDIO_SECONDS:
        raise acoustid.FingerprintGenerationError(f"{path}: {seconds:.1f} s of audio, too little to fingerprint")
    encoded = acoustid.fingerprint(CHROMAPRINT_RATE, 1, iter([pcm]), maxlength=int(math.ceil(max_seconds)))
    items, _algorithm = chromaprint.decode_fingerprint(encoded)
    return np.asarray(items, dtype=np.uint32), seconds


def _content_box(frames: np.ndarray) -> tuple[slice, slice]:
    """Rows and columns of (n, h, w) grey frames inside black borders (the whole frame when all is dark)."""
    bright = frames.max(axis=0) > BLACK_LEVEL
    rows, cols = np.flatnonzero(bright.any(axis=1)), np.flatnonzero(bright.any(axis=0))
    if rows.size < 2 or cols.size < 2:
        return slice(None), slice(None)
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def signature_frames(frames: np.ndarray) -> np.ndarray:
    """(n, h, w) uint8 grey frames -> (n, SIDE * SIDE) float32 signatures: borders cropped, high-passed,
    zero mean, unit norm."""
    if frames.shape[0] == 0:
        return np.zeros((0, SIGNATURE_SIDE * SIGNATURE_SIDE), np.float32)
    rows, cols = _content_box(frames)
    small = np.stack(
        [cv2.resize(f[rows, cols], (SIGNATURE_SIDE, SIGNATURE_SIDE), interpolation=cv2.INTER_AREA) for f in frames]
    ).astype(np.float32)
    # high-pass: the room's large-scale light (a wall above a floor, alike in many rooms) is taken out
    small -= np.stack([cv2.GaussianBlur(f, (0, 0), HIGH_PASS_SIGMA) for f in small])
    flat = small.reshape(len(small), -1)
    flat -= flat.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(flat, axis=1, keepdims=True)
    return np.divide(flat, norm, out=np.zeros_like(flat), where=norm > 1e-6)


def visual_signature(path: str | os.PathLike[str], max_seconds: float = MAX_SECONDS) -> np.ndarray:
    """Signatures of a video's first `max_seconds` at VISUAL_RATE frames per second (see signature_frames).

    Raises RuntimeError when ffmpeg cannot decode the file.
    """
    frames = list(iter_frames(path, (DECODE_SIDE, DECODE_SIDE), pix_fmt="gray", rate=VISUAL_RATE, seconds=max_seconds))
    return signature_frames(np.stack(frames) if frames else np.zeros((0, DECODE_SIDE, DECODE_SIDE), np.uint8))


def mirrored(signatures: np.ndarray) -> np.ndarray:
    """The signatures of the left-right flipped frames."""
    side = SIGNATURE_SIDE
    return signatures.reshape(-1, side, side)[:, :, ::-1].reshape(len(signatures), side * side)


def fingerprint_video(
    video_id: str, path: str | os.PathLike[str], size: tuple[int, int], max_seconds: float = MAX_SECONDS
) -> VideoFingerprint:
    """Both parts of one video's fingerprint; a part that cannot be made is empty and named in `failed`."""
    failed: dict[str, str] = {}
    try:
        audio, duration = audio_fingerprint(path, max_seconds)
    except acoustid.FingerprintGenerationError as exc:
        audio, duration = np.zeros(0, np.uint32), 0.0
        failed["audio"] = str(exc)
    try:
        visual = visual_signature(path, max_seconds)
    except RuntimeError as exc:
        visual = np.zeros((0, SIGNATURE_SIDE * SIGNATURE_SIDE), np.float32)
        failed["visual"] = str(exc)
    return VideoFingerprint(video_id, audio, visual, duration, size[0], size[1], failed)


def failed_fingerprint(video_id: str, reason: str) -> VideoFingerprint:
    """The empty fingerprint of a video that was not downloaded."""
    empty = np.zeros((0, SIGNATURE_SIDE * SIGNATURE_SIDE), np.float32)
    return VideoFingerprint(video_id, np.zeros(0, np.uint32), empty, failed={"download": reason})


def fingerprint_download(
    video: str | os.PathLike[str], video_id: str, max_seconds: float = MAX_SECONDS
) -> VideoFingerprint:
    """The fingerprint of a downloaded video file (resources/videos/<id>/video.mp4), read through its stage record.

    A video whose download failed gets `failed_fingerprint` with the record's
    reason; FileNotFoundError names a file that is missing with no failure record.
    """
    upstream = read_upstream(video)
    if upstream.failed:
        return failed_fingerprint(video_id, upstream.failure("fingerprint").reason)
    try:
        size = probe_size(video)
    except (ffmpeg.Error, ValueError) as exc:
        log.warning("%s: cannot read the frame size: %s", video, exc)
        size = (0, 0)
    return fingerprint_video(video_id, video, size, max_seconds)
