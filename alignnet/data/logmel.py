"""128-bin log-mel spectrograms of clips, their train-split statistics and the packed split arrays.

Frames. The STFT is centred (`center=True`, zero padding of n_fft // 2 on each
side) and the last frame is dropped, so a signal of n samples gives exactly
n // hop_length frames and frame t is centred on sample t * hop_length, i.e. at
t * hop_length / sample_rate seconds on the clip's (= the video's) timeline.
With n_fft 2048 and hop 512 a 6-second clip at 44.1 kHz (264,600 samples) has
516 frames.

Values. Mel power (librosa's Slaney mel filter bank over |STFT|^2) in dB with a
fixed reference: 10 * log10(max(power, 1e-10)) (ref 1.0, amin 1e-10, no top_db),
so nothing is normalised per clip; silence is -100 dB. Per-bin normalisation
uses statistics of the train split only: `logmel_statistics`, `normalise_logmel`.

Files. `write_clip_logmels` stores one video's clips in an .npz: `logmel`
(n_clips, n_mels, frames) float16 (rounding below 0.03 dB for |x| < 64 dB,
0.06 dB up to 128 dB), `clip_index` (n_clips,) int64 and the LogMelConfig fields; beside it the
stage record X.status.json (alignnet.stage_status) says whether the video
failed upstream (then the file has zero clips). `pack_split`
writes a split as one normalised float16 .npy to open with np.load(mmap_mode="r")
plus an index .tsv.

Speed: the mel projection is a sparse product (the filter bank has about 2,000
non-zeros of 131,200), and clips are transformed one at a time: measured on 2
shared cores this beats librosa.feature.melspectrogram on a (clips, samples)
batch, whose dense einsum and multi-threaded BLAS dominate the STFT itself.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import NamedTuple

import librosa
import numpy as np
import pandas as pd
import scipy.sparse
import soundfile
from tqdm import tqdm

from alignnet.atomic import atomic_output
from alignnet.data.clips import AUDIO_FILE, CLIPS_FILE, load_clip_table
from alignnet.dataclass_fields import option
from alignnet.errors import UserInputError
from alignnet.stage_status import StageStatus, read_upstream, write_with_record

STORE_DTYPE = np.float16
AMIN = 1e-10  # the smallest mel power: silence is 10 * log10(AMIN) dB
SILENCE_DB = 10.0 * np.log10(AMIN)
STAGE = "logmel"
_MIN_STD = 1e-6


@dataclass(frozen=True)
class LogMelConfig:
    """Log-mel parameters (paper: 128 mel bins at 44.1 kHz). fmax None: sample_rate / 2."""

    sample_rate: int = option(44100, "expected audio rate (Hz)")
    n_mels: int = option(128, "mel bins")
    n_fft: int = option(2048, "FFT size (samples)")
    hop_length: int = option(512, "frame hop (samples)")
    win_length: int = option(2048, "window length (samples)")
    fmin: float = option(0.0, "lowest mel frequency (Hz)")
    fmax: float | None = None  # its option (`none`: Nyquist) is alignnet logmel's own

    def n_frames(self, n_samples: int) -> int:
        """Frames of a signal of `n_samples` samples: n_samples // hop_length."""
        return n_samples // self.hop_length

    def bin_frequencies(self) -> np.ndarray:
        """(n_mels,) centre frequency in Hz of each mel bin (the peaks of librosa's triangular filters)."""
        fmax = self.sample_rate / 2 if self.fmax is None else self.fmax
        return librosa.mel_frequencies(self.n_mels + 2, fmin=self.fmin, fmax=fmax)[1:-1]


@functools.lru_cache(maxsize=8)
def _mel_basis(cfg: LogMelConfig) -> scipy.sparse.csr_array:
    basis = librosa.filters.mel(
        sr=cfg.sample_rate, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax, dtype=np.float32
    )
    return scipy.sparse.csr_array(basis)


def _logmel_1d(audio: np.ndarray, cfg: LogMelConfig) -> np.ndarray:
    spectrum = librosa.stft(audio, n_fft=cfg.n_fft, hop_length=cfg.hop_length, win_length=cfg.win_length, center=True)[
        :, : cfg.n_frames(len(audio))
    ]
    power = np.square(np.abs(spectrum))
    return librosa.power_to_db(_mel_basis(cfg) @ power, ref=1.0, amin=AMIN, top_db=None)


def logmel(audio: np.ndarray, cfg: LogMelConfig = LogMelConfig()) -> np.ndarray:
    """Log-mel of signals of any length: (..., samples) -> (..., n_mels, samples // hop_length) float32 dB.

    audio: float samples in [-1, 1] at cfg.sample_rate; leading axes (e.g. clips) are batch axes.
    """
    audio = np.asarray(audio, dtype=np.float32)
    batch = audio.reshape(-1, audio.shape[-1])
    out = np.empty((len(batch), cfg.n_mels, cfg.n_frames(audio.shape[-1])), np.float32)
    for i, signal in enumerate(batch):
        out[i] = _logmel_1d(signal, cfg)
    return out.reshape(*audio.shape[:-1], cfg.n_mels, out.shape[-1])


def clip_logmels(clipdir: str | os.PathLike[str], cfg: LogMelConfig = LogMelConfig()) -> tuple[np.ndarray, np.ndarray]:
    """Log-mel of every clip of a clip directory: ((n_clips, n_mels, frames) float32, clip_index (n_clips,))."""
    clipdir = Path(clipdir)
    table = load_clip_table(clipdir / CLIPS_FILE)
    wav = clipdir / AUDIO_FILE
    audio, sample_rate = soundfile.read(wav, dtype="float32", always_2d=False)
    if sample_rate != cfg.sample_rate:
        raise UserInputError(f"{wav}: sample rate {sample_rate} Hz, the log-mel config expects {cfg.sample_rate} Hz")
    lengths = set(table["n_samples"])
    if len(lengths) > 1:
        raise ValueError(f"{clipdir / CLIPS_FILE}: clips of different lengths {sorted(lengths)}")
    n_samples = lengths.pop() if lengths else 0
    out = np.empty((len(table), cfg.n_mels, cfg.n_frames(n_samples)), np.float32)
    rows = zip(table["start_sample"], table["n_samples"], strict=True)
    for i, (start, length) in enumerate(tqdm(rows, total=len(table), desc=f"log-mel {clipdir.name}", disable=None)):
        if start + length > len(audio):
            raise ValueError(
                f"{wav}: clip {table['clip_index'].iloc[i]} ends at sample {start + length}, the file has {len(audio)}"
            )
        out[i] = _logmel_1d(audio[start : start + length], cfg)
    return out, table["clip_index"].to_numpy(np.int64)


@dataclass(frozen=True)
class LogMelFile:
    """The content of one video's log-mel .npz."""

    logmel: np.ndarray  # (n_clips, n_mels, frames) float16 dB
    clip_index: np.ndarray  # (n_clips,) int64
    config: LogMelConfig


def save_logmel_file(data: LogMelFile, path: str | os.PathLike[str]) -> None:
    config = {k: np.nan if v is None else v for k, v in asdict(data.config).items()}
    with atomic_output(path) as tmp:
        np.savez(tmp, logmel=data.logmel.astype(STORE_DTYPE), clip_index=data.clip_index.astype(np.int64), **config)


def load_logmel_file(path: str | os.PathLike[str]) -> LogMelFile:
    with np.load(path, allow_pickle=False) as npz:
        values = {f.name: npz[f.name].item() for f in fields(LogMelConfig)}
        values["fmax"] = None if np.isnan(values["fmax"]) else values["fmax"]
        return LogMelFile(npz["logmel"], npz["clip_index"], LogMelConfig(**values))


def write_clip_logmels(
    clipdir: str | os.PathLike[str], out_npz: str | os.PathLike[str], cfg: LogMelConfig = LogMelConfig()
) -> StageStatus:
    """The log-mel stage for one video: clip directory -> .npz and its record (zero clips when the clip stage failed).

    Returns the record written. Raises UserInputError when `clipdir` is not a
    clip directory (no clips.tsv and no failed record).
    """
    clipdir = Path(clipdir)
    try:
        upstream = read_upstream(clipdir / CLIPS_FILE)
    except FileNotFoundError as exc:
        raise UserInputError(f"not a clip directory (no {CLIPS_FILE} or failed status): {clipdir}") from exc
    if upstream.failed:
        status = upstream.failure(STAGE)
        data = LogMelFile(np.zeros((0, cfg.n_mels, 0), STORE_DTYPE), np.zeros(0, np.int64), cfg)
    else:
        values, clip_index = clip_logmels(clipdir, cfg)
        data = LogMelFile(values.astype(STORE_DTYPE), clip_index, cfg)
        status = StageStatus(STAGE, True, detail=f"{len(clip_index)} clips, shape {tuple(data.logmel.shape)}")
    write_with_record(out_npz, status, lambda: save_logmel_file(data, out_npz))
    return status


class LogMelStats(NamedTuple):
    """Per-bin statistics of the train split: mean and std, each (n_mels,) float32 dB."""

    mean: np.ndarray
    std: np.ndarray

    def save(self, path: str | os.PathLike[str]) -> None:
        with atomic_output(path) as tmp:
            np.savez(tmp, mean=self.mean, std=self.std)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LogMelStats:
        with np.load(path, allow_pickle=False) as npz:
            return cls(npz["mean"], npz["std"])


def logmel_statistics(arrays: Iterable[np.ndarray]) -> LogMelStats:
    """Mean and std per mel bin over every clip and frame of `arrays`, each (..., n_mels, frames).

    Accumulates in float64, one array at a time (arrays may be a generator over files).
    The std is floored at 1e-6 so normalisation never divides by zero.
    """
    count, total, squares = 0, None, None
    for array in arrays:
        x = np.asarray(array, dtype=np.float64)
        x = np.moveaxis(x, -2, 0).reshape(x.shape[-2], -1)  # (n_mels, everything else)
        if total is None:
            total, squares = np.zeros(x.shape[0]), np.zeros(x.shape[0])
        elif x.shape[0] != total.shape[0]:
            raise ValueError(f"arrays with {total.shape[0]} and {x.shape[0]} mel bins")
        count += x.shape[1]
        total += x.sum(axis=1)
        squares += np.square(x).sum(axis=1)
    if total is None or count == 0:
        raise ValueError("no log-mel frames to compute statistics from")
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - np.square(mean), 0.0))
    return LogMelStats(mean.astype(np.float32), np.maximum(std, _MIN_STD).astype(np.float32))


def normalise_logmel(x: np.ndarray, stats: LogMelStats | tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """(x - mean) / std per mel bin; x is (..., n_mels, frames), the result float32."""
    mean, std = stats
    return ((np.asarray(x, np.float32) - mean[:, None]) / std[:, None]).astype(np.float32)


def normalised_silence(stats: LogMelStats | tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """(n_mels,) float32: the value silence (`SILENCE_DB`) has in each bin of the normalised log-mel."""
    mean, std = stats
    return ((SILENCE_DB - np.asarray(mean, np.float64)) / np.asarray(std, np.float64)).astype(np.float32)


def pack_split(
    npz_paths: Mapping[str, str | os.PathLike[str]],
    clip_ids: Sequence[tuple[str, int]],
    stats: LogMelStats | tuple[np.ndarray, np.ndarray],
    out_npy: str | os.PathLike[str],
) -> pd.DataFrame:
    """Write the normalised log-mel of `clip_ids` as one (n, n_mels, frames) float16 .npy, in that order.

    npz_paths: video id -> its log-mel .npz (from `write_clip_logmels`).
    clip_ids: (video id, clip_index) pairs; row i of the .npy is clip_ids[i].
    Also writes the index `out_npy` with suffix .tsv (row, video_id, clip_index) and returns it.
    Open the result with np.load(out_npy, mmap_mode="r").
    """
    out_npy = Path(out_npy)
    index = pd.DataFrame(
        {
            "row": np.arange(len(clip_ids)),
            "video_id": [v for v, _ in clip_ids],
            "clip_index": np.array([c for _, c in clip_ids], dtype=np.int64),
        }
    )
    if index.duplicated(["video_id", "clip_index"]).any():
        raise ValueError(f"{out_npy}: clip_ids repeat a clip")
    unknown = sorted(set(index["video_id"]) - set(npz_paths))
    if unknown:
        raise KeyError(f"{out_npy}: no log-mel file given for videos {unknown[:5]}")
    shape: tuple[int, ...] | None = None
    with atomic_output(out_npy) as tmp:
        out: np.memmap | None = None
        for video_id, rows in tqdm(index.groupby("video_id", sort=False), desc="pack log-mel", disable=None):
            data = load_logmel_file(npz_paths[video_id])
            position = {int(c): i for i, c in enumerate(data.clip_index)}
            missing = [c for c in rows["clip_index"] if c not in position]
            if missing:
                record = read_upstream(npz_paths[video_id]).status
                raise KeyError(f"{npz_paths[video_id]}: no clips {missing[:5]} (its record: {record})")
            if shape is None:
                shape = data.logmel.shape[1:]
                out = np.lib.format.open_memmap(tmp, mode="w+", dtype=STORE_DTYPE, shape=(len(index), *shape))
            elif data.logmel.shape[1:] != shape:
                raise ValueError(f"{npz_paths[video_id]}: log-mel shape {data.logmel.shape[1:]}, expected {shape}")
            picked = data.logmel[[position[int(c)] for c in rows["clip_index"]]]
            out[rows["row"].to_numpy()] = normalise_logmel(picked, stats).astype(STORE_DTYPE)
        if out is None:
            np.save(tmp, np.zeros((0, 0, 0), STORE_DTYPE))
        else:
            out.flush()
            del out
    with atomic_output(out_npy.with_suffix(".tsv")) as tsv:
        index.to_csv(tsv, sep="\t", index=False)
    return index
