"""Train AlignNet on a packed dataset (the `split` stage's output).

Reads DIR/{train,val}_keypoints.npy, DIR/{train,val}_logmel.npy, DIR/{train,val}_index.tsv,
DIR/meta.json and DIR/logmel_stats.npz. Every training sample gets a fresh random monotonic time warp
and, each at random, a horizontal flip, SpecAugment masks, a tempo change of
music and dance together, a timbre change and a low-pass of the music; with start_frame in
the index, a clip may give a window across it and the next clip of its video
instead of itself (see the augmentation options). Validation uses fixed warps
(DIR/val_warps.npz if present, else OUT/val_warps.npz, written once; with
--val-warps-per-clip K, K - 1 more per clip from fixed seeds). The learning rate
falls from --lr to 0 by a cosine over the run (--lr-schedule constant: fixed).
--strong-warps (for the general corpus, docs/training-data.md) replaces the
warps' slow-down span with a clip-level speed of 0.6-1.6x and an offset of up
to --max-offset-seconds, in training and validation.

--paper trains the paper's design: every departure of the default model,
loss, inputs, augmentations and optimiser from the paper switched to the
paper's (`alignnet.training.paper_design`, docs/model.md).

The model follows the data: meta.json's n_keypoints and mirror (19 body points,
or the lips task's 20 mouth points) set the keypoint inputs, the tied mirror
pairs of keypoint attention and the flip; its fps, sample_rate and hop_length
set the audio stem's stride (the largest that keeps the audio at least as fine
as the video at every pyramid level: 4 for 30 fps video with 44.1 kHz / hop
512 audio, 1 for 25 fps video with 25 log-mel frames a second).

Validation and the best checkpoint use an exponential moving average of the
weights (--average-decay; 0: the trained weights themselves).

Writes to OUT: best.safetensors + best.json (lowest validation AFE),
last.safetensors + last.json + last.optim.safetensors (for --resume),
average.safetensors + average.json (the weight average, for --resume),
metrics.csv (one row per epoch), tb/ (TensorBoard events), val_warps.npz.

Several GPUs: start one process per GPU with torchrun; they train one model with
DistributedDataParallel on the same global batches (--batch-size is the global batch,
split evenly over the processes), and rank 0 alone validates and writes OUT.

Example:
  alignnet train --data results/dataset --out results/train/full --epochs 40 --max-minutes 15
  alignnet train --data results/dataset --out results/train/no_pyramid --no-pyramid
  alignnet train --data results/dataset --out results/train/paper --paper
  torchrun --standalone --nproc_per_node 4 -m alignnet train --data results/dataset --out results/train/full
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
from collections.abc import Mapping
from typing import Any

from alignnet.cli_options import Values, add_options, opt
from alignnet.distort.augment import AugmentConfig
from alignnet.distort.samples import SampleGenerator
from alignnet.distort.warps import STRONG_SPEEDS, WarpConfig
from alignnet.errors import UserInputError
from alignnet.models.alignnet import CORRELATIONS, AlignNetConfig
from alignnet.models.correlation import AFFINITIES
from alignnet.training.alignnet_training import TrainConfig, train
from alignnet.training.band_limit import add_band_limit_argument, band_limit_bands
from alignnet.training.data import keypoint_layout, read_data_meta
from alignnet.training.paper_design import add_paper_argument, apply_paper
from alignnet.training.run_settings import add_run_arguments, run_settings_from_args

log = logging.getLogger(__name__)


# On/off switches (store_true) of the model and the loss: each turns a part of the default model off.
MODEL_SWITCHES: dict[str, str] = {
    "no_pyramid": "single level instead of 4",
    "raw_positions": "positions instead of velocity/acceleration",
    "per_keypoint_scaling": "min-max scale every keypoint's x and y to [-1, 1] over the clip before velocities (the"
    " authors' input) instead of one scale for the whole body",
    "no_temporal_attention": "no attention over time in the video stream",
    "no_keypoint_attention": "no learnt weights of the keypoints",
    "no_fine_refinement": "end at the finest pyramid level upsampled (the paper's output) instead of correcting it at"
    " every video frame from full-rate features",
    "no_coarse_context": "a dilated context network at the finest level only (the paper's) instead of at every level",
    "detach_levels": "stop the gradient between pyramid levels and into the refinement's start (each stage is trained"
    " by its own loss term only; RAFT's practice): what keeps a training with --strong-warps from diverging",
    "no_match_prior": "each level's head predicts the correspondence alone (the paper's) instead of adding its"
    " residual to the soft-argmax of that level's local affinity",
}
AUGMENT_SWITCHES: dict[str, str] = {
    "no_flip": "no horizontal flips",
    "no_spec_augment": "no SpecAugment masks",
    "no_tempo_change": "no tempo changes (by default half the samples slow music and dance down together, to"
    " 75-100 %%)",
    "no_timbre_change": "no timbre changes (by default 80 %% of the samples get their log-mel moved by up to 4 mel"
    " bins, re-equalised and re-levelled, so the model learns the music's timing rather than the train songs' sound)",
    "no_cross_clip": "no cross-clip windows (by default half the samples of a clip followed by another of its video"
    " are a window from a random time in the clip into the next, instead of the clip itself)",
    "strong_warps": f"clip-level speeds of {STRONG_SPEEDS[0]:g}-{STRONG_SPEEDS[1]:g}x and offsets of up to"
    " --max-offset-seconds instead of --min-span's slow-downs, with the local warp on top (training and validation;"
    " for the general corpus)",
}
# Options with a value (`alignnet.cli_options.opt`: type or choices, default, help).
MODEL_VALUES: Values = {
    "coarse_init": opt(
        ("diagonal", "soft_argmax"),
        AlignNetConfig.coarse_init,
        "start of the coarsest level: the undistorted diagonal, or a global soft-argmax over the audio",
    ),
    "finest_depth": opt(
        int,
        AlignNetConfig.pyramid_depths[0],
        "convolution blocks at the finest level of the video and audio feature pyramids, whose features"
        " make the all-pairs affinity (1: a single strided block, the earlier model)",
        metavar="N",
    ),
    "correlation": opt(
        CORRELATIONS,
        AlignNetConfig.correlation,
        "affinity the heads read: each level's own features (local, the paper's), a pyramid pooled from"
        " the finest features' all-pairs affinity (pooled), or both",
    ),
    "affinity": opt(
        AFFINITIES,
        AlignNetConfig.affinity,
        "how video and audio features are compared: Pearson correlation over channels (each time step's"
        " features centred and unit-normalised) or the paper's dot product",
    ),
    "matching_weight": opt(
        float,
        TrainConfig.matching,
        "weight of the matching loss (cross-entropy of the finest all-pairs affinity against the true"
        " audio position; 0 = the paper's loss alone)",
    ),
}
AUGMENT_VALUES: Values = {
    "min_span": opt(float, WarpConfig.min_span, "smallest share of the source a warp covers"),
    "max_deviation": opt(float, WarpConfig.max_deviation, "bound on the local warp"),
    "max_offset_seconds": opt(float, 3.0, "with --strong-warps: the largest clip-level offset (at most half a clip)"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_arguments(parser, TrainConfig)
    add_paper_argument(parser)
    add_options(parser.add_argument_group("model and loss (ablations and variants)"), MODEL_SWITCHES, MODEL_VALUES)
    aug = parser.add_argument_group("augmentation")
    add_options(aug, AUGMENT_SWITCHES, AUGMENT_VALUES)
    add_band_limit_argument(aug)


DEFAULT_MODEL = AlignNetConfig()


def audio_stem_stride(meta: Mapping[str, Any], model: AlignNetConfig = DEFAULT_MODEL) -> int:
    """The largest audio stem stride that keeps audio frames at least as fine as video frames per level.

    Level rates: video fps / video_strides[0], audio (sample_rate / hop_length) / stem / audio_strides[0].
    """
    ratio = audio_frames_per_video_frame(meta) * model.video_strides[0] / model.audio_strides[0]
    return max(1, math.floor(ratio + 1e-9))


def audio_frames_per_video_frame(meta: Mapping[str, Any]) -> float:
    """Log-mel frames per video frame of a packed dataset (`meta.json`: fps, sample_rate, hop_length)."""
    return float(meta["sample_rate"]) / float(meta["hop_length"]) / float(meta["fps"])


def warp_config(args: argparse.Namespace, fps: float) -> WarpConfig:
    """The training warps of --min-span and --max-deviation, or with --strong-warps the strong ones."""
    if not args.strong_warps:
        return WarpConfig(min_span=args.min_span, max_deviation=args.max_deviation)
    if args.max_offset_seconds < 0:
        raise UserInputError(f"--max-offset-seconds {args.max_offset_seconds}: must be >= 0")
    lo, hi = STRONG_SPEEDS
    return WarpConfig(
        max_deviation=args.max_deviation, min_speed=lo, max_speed=hi, max_offset_frames=args.max_offset_seconds * fps
    )


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    args = apply_paper(args)
    if args.finest_depth < 1:
        raise UserInputError(f"--finest-depth {args.finest_depth}: must be at least 1")
    if args.matching_weight < 0:
        raise UserInputError(f"--matching-weight {args.matching_weight}: must be >= 0")
    if not 0 < args.min_span <= 1:
        raise UserInputError(f"--min-span {args.min_span}: must be in (0, 1]")
    meta = read_data_meta(args.data)
    n_keypoints, mirror = keypoint_layout(meta)
    model = AlignNetConfig(
        n_keypoints=n_keypoints,
        mirror=mirror,
        audio_stem_stride=audio_stem_stride(meta),
        pyramid=not args.no_pyramid,
        motion_inputs=not args.raw_positions,
        input_scaling="per_keypoint" if args.per_keypoint_scaling else "body",
        temporal_attention=not args.no_temporal_attention,
        keypoint_attention=not args.no_keypoint_attention,
        coarse_init=args.coarse_init,
        correlation=args.correlation,
        affinity=args.affinity,
        match_prior=not args.no_match_prior,
        fine_refinement=not args.no_fine_refinement,
        coarse_context=not args.no_coarse_context,
        detach_levels=args.detach_levels,
        pyramid_depths=AlignNetConfig.depths_with_finest(args.finest_depth),
    )
    samples = SampleGenerator(
        warp=warp_config(args, float(meta["fps"])),
        augment=AugmentConfig(),
        mirror=mirror,
        flip=not args.no_flip,
        spec_augment=not args.no_spec_augment,
        timbre=not args.no_timbre_change,
        cross_clip=not args.no_cross_clip,
        bands=band_limit_bands(args, args.data),
        audio_per_video=None if args.no_tempo_change else audio_frames_per_video_frame(meta),
    )
    return TrainConfig(**run_settings_from_args(args), model=model, samples=samples, matching=args.matching_weight)


def run(args: argparse.Namespace) -> int:
    summary = train(config_from_args(args))
    if int(os.environ.get("RANK", "0")) == 0:
        log.info("done: %s", json.dumps(summary))
    return 0
