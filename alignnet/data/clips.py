"""The clip stage: normalise one video and cut it into fixed-length A/V clips.

A clip directory holds

- video.mp4   constant-fps H.264, frame j at j / fps seconds (see alignnet.data.media);
- audio.wav   mono PCM, sample s at s / sample_rate seconds on the same timeline;
- clips.tsv   one row per clip: clip_index, start_frame, n_frames, start_sample,
              n_samples, start_time (seconds);
- media.json  sizes and how the source was mapped (source fps, rotation, audio offset);
- status.json StageStatus(stage="clip"): ok, or the reason the video left the pipeline.

Clips are whole: clip k covers normalised frames k * hop_frames + i for
i < clip_frames and the audio samples of the same time span; a trailing part
shorter than a clip is dropped. Given spans (VoxCeleb's speaking segments),
clips are cut the same way inside each span and nowhere else. Clips are not
cut into files: later stages read their span from video.mp4 / audio.wav with
the helpers below.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile

from alignnet.atomic import atomic_output
from alignnet.data.media import normalise
from alignnet.errors import UserInputError
from alignnet.faults import failed_status
from alignnet.stage_status import Reason, StageFailure, StageStatus, read_upstream
from alignnet.tables import read_table

log = logging.getLogger(__name__)

STAGE = "clip"
VIDEO_FILE = "video.mp4"
AUDIO_FILE = "audio.wav"
CLIPS_FILE = "clips.tsv"
MEDIA_FILE = "media.json"
CLIP_COLUMNS = ("clip_index", "start_frame", "n_frames", "start_sample", "n_samples", "start_time")


@dataclass(frozen=True)
class ClipConfig:
    """How videos are normalised and cut (paper: 30 fps, 44.1 kHz, 6-second clips)."""

    fps: int = 30
    sample_rate: int = 44100
    clip_seconds: float = 6.0
    hop_seconds: float | None = None  # None: the clip length (non-overlapping clips)
    max_height: int = 720

    @property
    def clip_frames(self) -> int:
        return round(self.clip_seconds * self.fps)

    @property
    def clip_samples(self) -> int:
        return round(self.clip_seconds * self.sample_rate)

    @property
    def hop_frames(self) -> int:
        return round((self.clip_seconds if self.hop_seconds is None else self.hop_seconds) * self.fps)

    def __post_init__(self) -> None:
        if self.clip_frames < 1 or self.hop_frames < 1:
            raise UserInputError(
                f"clip and hop must last at least one frame (clip_seconds={self.clip_seconds}, "
                f"hop_seconds={self.hop_seconds}, fps={self.fps})"
            )
        if self.clip_frames * self.sample_rate != self.clip_samples * self.fps:
            raise UserInputError(
                f"clip_seconds={self.clip_seconds} is not a whole number of audio samples "
                f"per video frame at fps={self.fps}, sample_rate={self.sample_rate}"
            )
        if (self.hop_frames * self.sample_rate) % self.fps:
            raise UserInputError(
                f"a hop of {self.hop_frames} frames is not a whole number of audio samples "
                f"at fps={self.fps}, sample_rate={self.sample_rate}"
            )


def clip_table(
    n_frames: int, n_samples: int, cfg: ClipConfig, spans: Sequence[tuple[float, float]] | None = None
) -> pd.DataFrame:
    """Every whole clip that fits in `n_frames` video frames and `n_samples` audio samples.

    With `spans` ((start, end) in seconds, e.g. VoxCeleb's speaking segments),
    only clips lying inside one span, cut every hop from the span's start; no
    two clips overlap, also where spans do. Without, the whole video is one span.
    """
    hop_samples = cfg.hop_frames * cfg.sample_rate / cfg.fps
    last_by_audio = (n_samples - cfg.clip_samples) / hop_samples * cfg.hop_frames  # latest start frame the audio allows
    starts: list[int] = []
    free = 0  # first frame not yet inside a clip
    for start, end in sorted(spans) if spans is not None else [(0.0, n_frames / cfg.fps)]:
        first = max(math.ceil(start * cfg.fps - 1e-6), free)
        last = min(math.floor(end * cfg.fps + 1e-6), n_frames) - cfg.clip_frames
        last = min(last, math.floor(last_by_audio + 1e-9))
        span_starts = list(range(first, last + 1, cfg.hop_frames))
        starts += span_starts
        if span_starts:
            free = span_starts[-1] + cfg.clip_frames
    start_frame = np.asarray(starts, dtype=np.int64)
    return pd.DataFrame(
        {
            "clip_index": np.arange(start_frame.size, dtype=np.int64),
            "start_frame": start_frame,
            "n_frames": np.full_like(start_frame, cfg.clip_frames),
            "start_sample": np.round(start_frame * cfg.sample_rate / cfg.fps).astype(np.int64),
            "n_samples": np.full_like(start_frame, cfg.clip_samples),
            "start_time": start_frame / cfg.fps,
        }
    )


def write_clip_table(table: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    with atomic_output(path) as tmp:
        table.loc[:, list(CLIP_COLUMNS)].to_csv(tmp, sep="\t", index=False, float_format="%.6f")


def load_clip_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """clips.tsv (or the clip directory holding it) as a DataFrame with the CLIP_COLUMNS."""
    path = Path(path)
    if path.is_dir():
        path = path / CLIPS_FILE
    return read_table(path, CLIP_COLUMNS, what="clips.tsv of `alignnet clip`")


def _clip_row(clipdir: Path, clip_index: int) -> pd.Series:
    table = load_clip_table(clipdir)
    rows = table[table["clip_index"] == clip_index]
    if rows.empty:
        raise KeyError(f"{clipdir / CLIPS_FILE}: no clip {clip_index} (has {len(table)} clips)")
    return rows.iloc[0]


def clip_frame_range(clipdir: str | os.PathLike[str], clip_index: int) -> range:
    """Indices of the frames of video.mp4 that make clip `clip_index`."""
    row = _clip_row(Path(clipdir), clip_index)
    return range(int(row.start_frame), int(row.start_frame + row.n_frames))


def clip_sample_range(clipdir: str | os.PathLike[str], clip_index: int) -> range:
    """Indices of the samples of audio.wav that make clip `clip_index`."""
    row = _clip_row(Path(clipdir), clip_index)
    return range(int(row.start_sample), int(row.start_sample + row.n_samples))


def read_clip_audio(clipdir: str | os.PathLike[str], clip_index: int) -> np.ndarray:
    """Audio of one clip: (n_samples,) float32 in [-1, 1] at the clip's sample rate."""
    samples = clip_sample_range(clipdir, clip_index)
    audio, _ = soundfile.read(
        Path(clipdir) / AUDIO_FILE, start=samples.start, stop=samples.stop, dtype="float32", always_2d=False
    )
    if len(audio) != len(samples):
        raise ValueError(
            f"{Path(clipdir) / AUDIO_FILE}: clip {clip_index} needs samples "
            f"{samples.start}..{samples.stop}, file ends at {samples.start + len(audio)}"
        )
    return audio


def _describe(spans: Sequence[tuple[float, float]], most: int = 3) -> str:
    """'0.00-4.20 s, 9.00-15.00 s and 2 more' for an error message; 'none' for no spans."""
    if not spans:
        return "none"
    shown = ", ".join(f"{a:.2f}-{b:.2f} s" for a, b in list(spans)[:most])
    if len(spans) > most:
        shown += f" and {len(spans) - most} more"
    return shown


def _remove_outputs(outdir: Path) -> None:
    for name in (VIDEO_FILE, AUDIO_FILE, CLIPS_FILE, MEDIA_FILE):
        (outdir / name).unlink(missing_ok=True)


def clip_video(
    src: str | os.PathLike[str],
    outdir: str | os.PathLike[str],
    cfg: ClipConfig,
    spans: Sequence[tuple[float, float]] | None = None,
) -> StageStatus:
    """Normalise `src` into `outdir` and write its clip table; returns the status written there.

    With `spans` (seconds), clips are cut only inside them (see `clip_table`).

    A failed item, here or upstream (see alignnet.stage_status), leaves only status.json in `outdir`.
    Raises UserInputError when `src` is missing and no failed status explains why.
    """
    src, outdir = Path(src), Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    try:
        upstream = read_upstream(src)
    except FileNotFoundError as exc:
        raise UserInputError(f"input video not found: {src}") from exc
    if upstream.failed:
        status = upstream.failure(STAGE)
        status.write(outdir)
        return status
    if src.is_dir():
        raise UserInputError(f"input video is a directory: {src}")
    try:
        with atomic_output(outdir / VIDEO_FILE) as video_tmp, atomic_output(outdir / AUDIO_FILE) as audio_tmp:
            media = normalise(src, video_tmp, audio_tmp, cfg.fps, cfg.sample_rate, cfg.max_height)
            table = clip_table(media.n_frames, media.n_samples, cfg, spans)
            if table.empty and spans is not None:
                raise StageFailure(
                    Reason.TOO_SHORT,
                    f"{src}: none of its {len(spans)} segments ({_describe(spans)}) holds a whole"
                    f" {cfg.clip_seconds:g} s clip inside {media.n_frames / cfg.fps:.2f} s of video",
                )
            if table.empty:
                raise StageFailure(
                    Reason.TOO_SHORT,
                    f"{src}: {media.n_frames / cfg.fps:.2f} s of video and {media.n_samples / cfg.sample_rate:.2f} s"
                    f" of audio, shorter than one {cfg.clip_seconds:g} s clip",
                )
        write_clip_table(table, outdir / CLIPS_FILE)
        with atomic_output(outdir / MEDIA_FILE) as tmp:
            tmp.write_text(json.dumps(media.to_json(), indent=1) + "\n", encoding="utf-8")
        status = StageStatus(STAGE, True, detail=f"{len(table)} clips of {cfg.clip_frames} frames")
    except StageFailure as failure:
        _remove_outputs(outdir)
        status = failed_status(STAGE, failure, f"clip {src}")
        log.warning("%s", failure)
    status.write(outdir)
    return status
