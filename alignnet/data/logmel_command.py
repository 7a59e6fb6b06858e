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
from alignnet.dataclass_fields import add_field_options, known_fields


def _fmax(text: str) -> float | None:
    return None if text.lower() == "none" else float(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("clipdir", type=Path, metavar="CLIPDIR", help="clip directory from `alignnet clip`")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.npz", help="file to write")
    add_field_options(parser.add_argument, LogMelConfig)
    parser.add_argument("--fmax", type=_fmax, default="none", help="highest mel frequency (Hz); none: Nyquist")


def run(args: argparse.Namespace) -> int:
    cfg = LogMelConfig(**known_fields(LogMelConfig, vars(args)))
    status = write_clip_logmels(args.clipdir, args.output, cfg)
    print(f"{args.output}: {'ok' if status.ok else f'failed in {status.origin}: {status.reason}'}: {status.detail}")
    return 0
