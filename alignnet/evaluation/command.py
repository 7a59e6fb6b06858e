"""Evaluate alignment methods on the same distorted test clips: AFE, ITU accuracy, wall time.

Reads the packed dataset DIR (the split stage's output): DIR/{split}_keypoints.npy,
{split}_logmel.npy, {split}_index.tsv, meta.json, and the saved, seeded time warps
DIR/{split}_warps.npz, so every method sees exactly the same distortions. Methods:
AlignNet (--alignnet STEM), SyncNet and SyncNet+DTW (--syncnet STEM, one checkpoint
for both), the training-free onset floor (--onset-floor). Wall time counts only the
alignment calls (wall clock and CPU), per method, over the same clips, clip by clip
with every method in turn, after one untimed warm-up call per method.

Writes to OUT:
  results.csv, results.md   per method: clips, frames, AFE (frames), accuracy (%), seconds total,
                            CPU seconds, ms per clip, and the paper's AFE and accuracy (Dance50, or VoxCeleb2 for lips)
  predictions.npz           clip_ids, true (n_clips, n) source frames, strength (n_clips,),
                            pred_<method> (n_clips, n) per method (alignnet, syncnet, syncnet_dtw, onset_dtw)
  strength.csv              AFE and accuracy per method and distortion-strength bin
                            (strength: mean |true source frame - frame index|, frames)
  keypoint_errors.csv       per method and keypoint: location and velocity error after alignment
                            (normalised to [-1, 1] per coordinate; paper figures 4 and 5)
  bandwidth.csv             AFE and accuracy per method with the music low-passed at each of --cutoffs
                            (as lossy codecs, 22.05 / 16 / 8 kHz files leave it; full band too), the same clips

Example:
  alignnet evaluate --data results/dataset/splits --alignnet results/train/alignnet/best \\
      --syncnet results/train/syncnet/best --onset-floor --out results/evaluate --threads 2
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import torch

from alignnet.alignment_methods import Aligner
from alignnet.data.preprocessing import STATS_FILE, Preprocessing
from alignnet.devices import resolve_device
from alignnet.errors import UserInputError
from alignnet.evaluation.clips import EvalClips
from alignnet.evaluation.methods import (
    alignnet_aligner,
    onset_floor_aligner,
    syncnet_aligners,
)
from alignnet.evaluation.runner import MethodResult, run_methods, slug
from alignnet.evaluation.tables import RESULTS_HEADERS, band_label, bandwidth_table, markdown_table, write_evaluation

log = logging.getLogger(__name__)
# Low-passes real music arrives with: lossy codecs (~16 kHz), files at 22.05, 16 and 8 kHz (half their rates).
DEFAULT_CUTOFFS = (16000.0, 11025.0, 8000.0, 4000.0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="packed dataset directory (split stage output)")
    parser.add_argument("--split", default="test", help="which split to evaluate on")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--alignnet", type=Path, help="AlignNet checkpoint stem (STEM.safetensors + STEM.json)")
    parser.add_argument("--syncnet", type=Path, help="SyncNet checkpoint stem: evaluates SyncNet and SyncNet+DTW")
    parser.add_argument("--onset-floor", action="store_true", help="also evaluate the training-free onset floor")
    parser.add_argument(
        "--band",
        type=float,
        default=None,
        help="DTW band radius for SyncNet+DTW and the onset floor (share of the length; unset: the baselines' own)",
    )
    parser.add_argument("--strength-bins", type=int, default=4, help="distortion-strength bins (quantiles)")
    parser.add_argument(
        "--cutoffs",
        type=float,
        nargs="*",
        action="extend",
        metavar="HZ",
        help="also evaluate every method with the music low-passed at each of these frequencies, for bandwidth.csv"
        f" (default: {' '.join(f'{c:g}' for c in DEFAULT_CUTOFFS)}; the option with no value: the full band only)",
    )
    parser.add_argument("--max-clips", type=int, default=None, help="evaluate only the first N clips")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu", help="device for AlignNet")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (same for every method)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def build_aligners(args: argparse.Namespace) -> list[Aligner]:
    """The methods named on the command line, AlignNet first."""
    aligners: list[Aligner] = []
    if args.alignnet is not None:
        aligners.append(alignnet_aligner(args.alignnet, resolve_device(args.device)))
    if args.syncnet is not None:
        aligners += syncnet_aligners(args.syncnet, args.band)
    if args.onset_floor:
        aligners.append(onset_floor_aligner(args.band))
    if not aligners:
        raise UserInputError("no method to evaluate: give --alignnet, --syncnet and/or --onset-floor")
    return aligners


def band_cutoffs(data_dir: Path, cutoffs: list[float]) -> list[float]:
    """The cutoffs (Hz) to evaluate: those below the top log-mel bin; none without the dataset's log-mel statistics."""
    if any(c <= 0 for c in cutoffs):
        raise UserInputError(f"--cutoffs {' '.join(f'{c:g}' for c in cutoffs)}: frequencies must be > 0 Hz")
    if not cutoffs:
        return []
    if not (data_dir / STATS_FILE).exists():
        log.warning("%s has no %s: no low-passed evaluation (bandwidth.csv: full band only)", data_dir, STATS_FILE)
        return []
    top = Preprocessing.from_dataset(data_dir).mel_bands().frequencies[-1]
    above = [c for c in cutoffs if c >= top]
    if above:
        log.info(
            "--cutoffs %s: at or above the top log-mel bin (%.0f Hz), nothing to cut; skipped",
            " ".join(f"{c:g}" for c in above),
            top,
        )
    return [c for c in cutoffs if c < top]


def run(args: argparse.Namespace) -> int:
    if args.threads is not None:
        if args.threads < 1:
            raise UserInputError(f"--threads {args.threads}: must be at least 1")
        torch.set_num_threads(args.threads)
    if args.strength_bins < 1:
        raise UserInputError(f"--strength-bins {args.strength_bins}: must be at least 1")
    if args.max_clips is not None and args.max_clips < 1:
        raise UserInputError(f"--max-clips {args.max_clips}: must be at least 1")
    cutoffs = band_cutoffs(args.data, list(DEFAULT_CUTOFFS) if args.cutoffs is None else args.cutoffs)
    clips = EvalClips.load(args.data, args.split, args.max_clips)
    aligners = build_aligners(args)
    slugs = [slug(a.name) for a in aligners]
    if len(set(slugs)) != len(slugs):
        raise UserInputError(f"two methods share a name: {[a.name for a in aligners]}")
    log.info("%d %s clips, methods: %s", len(clips), args.split, ", ".join(a.name for a in aligners))
    results = run_methods(aligners, clips, progress=not args.no_progress)
    runs: list[tuple[float | None, list[MethodResult]]] = [(None, results)]
    for cutoff in cutoffs:
        log.info("the same clips with the music low-passed at %s", band_label(cutoff))
        low_passed = clips.low_passed(Preprocessing.from_dataset(args.data).mel_bands(), cutoff)
        runs.append((cutoff, run_methods(aligners, low_passed, progress=not args.no_progress)))
    table = write_evaluation(args.out, clips, results, args.strength_bins, bandwidth_table(clips, runs))
    log.info("results:\n%s", markdown_table(table, RESULTS_HEADERS))
    return 0
