"""128-bin log-mel spectrogram of every clip of one video.

Reads a clip directory written by `alignnet clip` (audio.wav, clips.tsv,
status.json) and writes OUT.npz with

  logmel      (n_clips, n_mels, frames) float16, dB: 10 * log10(max(mel power, 1e-10))
  clip_index  (n_clips,) int64, the clip_index column of clips.tsv
  and the parameters (sample_rate, n_mels, n_fft, hop_length, win_length, fmin, fmax),
and beside it the stage record OUT.status.json (alignnet.stage_status).

The STFT is centred and its last frame dropped, so a clip of n samples has
n // hop_length frames (516 for a 6-second clip at 44.1 kHz, hop 512) and frame
t is centred on sample t * hop_length. Values are not normalised here: per-bin
statistics come from the train split (alignnet split).

If the clip stage failed for this video, OUT.npz holds zero clips, the record
gives the reason, and the command exits 0.

Example:
  alignnet logmel results/clips/abc123 -o results/logmel/abc123.npz
"""

from __future__ import annotations

import argparse
from pathlib import Path

from alignnet.data.logmel import LogMelConfig, write_clip_logmels
from alignnet.dataclass_fields import known_fields


def _fmax(text: str) -> float | None:
    return None if text.lower() == "none" else float(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = LogMelConfig()
    parser.add_argument("clipdir", type=Path, metavar="CLIPDIR", help="clip directory from `alignnet clip`")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.npz", help="file to write")
    parser.add_argument("--sample-rate", type=int, default=defaults.sample_rate, help="expected audio rate (Hz)")
    parser.add_argument("--n-mels", type=int, default=defaults.n_mels, help="mel bins")
    parser.add_argument("--n-fft", type=int, default=defaults.n_fft, help="FFT size (samples)")
    parser.add_argument("--hop-length", type=int, default=defaults.hop_length, help="frame hop (samples)")
    parser.add_argument("--win-length", type=int, default=defaults.win_length, help="window length (samples)")
    parser.add_argument("--fmin", type=float, default=defaults.fmin, help="lowest mel frequency (Hz)")
    parser.add_argument("--fmax", type=_fmax, default="none", help="highest mel frequency (Hz); none: Nyquist")


def run(args: argparse.Namespace) -> int:
    cfg = LogMelConfig(**known_fields(LogMelConfig, vars(args)))
    status = write_clip_logmels(args.clipdir, args.output, cfg)
    print(f"{args.output}: {'ok' if status.ok else f'failed in {status.origin}: {status.reason}'}: {status.detail}")
    return 0
