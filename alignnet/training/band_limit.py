"""Low-passes of the music in training, as an option every trainer (AlignNet, SyncNet) shares.

A model trained on full-band music reads the empty top bins of an MP3 or a
22.05 / 16 / 8 kHz file as music it never heard; `alignnet.distort.augment.limit_band`
silences the log-mel above a random cutoff in some training samples. Both
trainers take it by default, so that `alignnet evaluate`'s bandwidth table
compares models that met band-limited music alike.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from alignnet.data.preprocessing import STATS_FILE, Preprocessing
from alignnet.distort.augment import MelBands

log = logging.getLogger(__name__)


def add_band_limit_argument(group: argparse._ActionsContainer) -> None:
    """--no-band-limit (`band_limit_bands` reads it)."""
    group.add_argument(
        "--no-band-limit",
        action="store_true",
        help="no low-passes (by default 30 %% of the samples get the music silent above a random cutoff from"
        " 3 kHz up, as lossy codecs, low sample rates and telephones leave it)",
    )


def band_limit_bands(args: argparse.Namespace, data_dir: Path) -> MelBands | None:
    """SampleGenerator.bands: the dataset's log-mel bins, or None with --no-band-limit."""
    return None if args.no_band_limit else mel_bands(data_dir)


def mel_bands(data_dir: Path) -> MelBands | None:
    """The packed dataset's log-mel bins, for low-passes; None, with a warning, without its logmel_stats.npz."""
    if not (Path(data_dir) / STATS_FILE).exists():
        log.warning("%s has no %s: training without low-passes of the music", data_dir, STATS_FILE)
        return None
    return Preprocessing.from_dataset(data_dir).mel_bands()
