"""AlignNet: dense audio-video correspondence, coarse to fine (PWC-Net style, in 1D).

Inputs: video (B, 4K, n) motion features, channel layout
[vel_x(K), vel_y(K), acc_x(K), acc_y(K)] (see `alignnet.motion_features`;
with motion_inputs=False the layout is [pos_x(K), pos_y(K), zeros(2K)] and only
the first 2K channels are read); audio (B, 128, m) normalised log-mel. n and m
are independent and arbitrary.

Output: (B, n) audio coordinate in [-1, 1] of every video frame
(`alignnet.correspondence` converts it to seconds / source frames).

Frame rates: video is ~30 fps, audio ~86 fps. The video pyramid downsamples
by 3, 2, 2, 2 (10, 5, 2.5, 1.25 fps); the audio by 4 in a stem (21.5 fps,
where temporal attention runs: self-attention over the whole sequence, one
weight per time step), then 2, 2, 2, 2 in its pyramid (10.8, 5.4, 2.7,
1.35 fps), so at every level both sequences have about the same rate. Rates need not match exactly: correspondences are
normalised coordinates, and the warp resamples the audio features onto the
video's grid at the predicted positions (grid_sample, align_corners=True).
The local correlation range is measured in audio frames of each level.

Per level, coarsest first: start from the upsampled coarser correspondence
(at the coarsest level, by default the diagonal "no distortion", as PWC-Net
starts from zero flow; coarse_init="soft_argmax" starts from a soft-argmax over
all audio positions instead, which at init averages to the clip's middle and
trains far slower), warp the audio features to it, correlate them locally, and
let a small head predict a residual from the affinity (2r+1 per kind), the
current correspondence's offset from the diagonal and the validity mask (and,
with head_sees_features, the video and warped audio features). A dilated
context network refines the finest level (the paper's) and, with
coarse_context (default), every coarser one, so that a level's residual can
read the affinity across the whole clip. The finest level is then upsampled;
with fine_refinement (default) a last stage corrects it at every input video frame
from full-rate features (`alignnet.models.refinement`), since the finest
level samples the audio only every ~100 ms.

Affinity: feature vectors are compared by Pearson correlation over their
channels (`affinity`, default "pearson"; "dot" is the paper's dot product).
Which affinity the heads read (`correlation`): "local" is the paper's, each level's own features
correlated around the warped position; "pooled" is RAFT's correlation
pyramid in 1D, the all-pairs affinity of the finest features averaged over
2, 4, 8 audio frames for the coarser levels and looked up around the
estimate; "both" (default) gives the heads the two side by side (at the finest
level the two are one and the same, the local correlation, read once). The pooled
kind lets the coarse levels, which must find the large shifts and stretches,
match with features of a short receptive field instead of features that see
the whole clip and memorise the training songs. In training mode the finest
all-pairs affinity is also returned, for the matching loss (a "local" model
builds it only then)
(`alignnet.losses.matching_loss`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
from torch import nn

from alignnet.keypoints import DANCE_MIRROR
from alignnet.models.correlation import (
    AFFINITIES,
    CorrelationPyramid,
    frame_step,
    global_soft_argmax,
    local_correlation,
    local_soft_argmax,
    pool_frames,
)
from alignnet.models.heads import ContextNetwork, CorrespondenceHead
from alignnet.models.keypoint_attention import KeypointAttention
from alignnet.models.pyramid import AudioStem, FeaturePyramid
from alignnet.models.refinement import FineRefinement
from alignnet.models.temporal_attention import TemporalAttention
from alignnet.models.warp import inside, straight_through_clamp, upsample, warp
from alignnet.motion_features import INPUT_SCALINGS

CORRELATIONS = ("local", "pooled", "both")


@dataclass(frozen=True)
class AlignNetConfig:
    """Sizes and ablation switches; the defaults are this project's model, which departs from the paper's where
    `alignnet.training.paper_design.DEPARTURES` says (`alignnet train --paper` builds the paper's).

    pyramid=False keeps only the first level (single scale). Lip layouts: set
    n_keypoints=20 and mirror to their left/right permutation.
    """

    n_keypoints: int = 19
    mirror: tuple[int, ...] = field(default_factory=lambda: tuple(int(i) for i in DANCE_MIRROR))
    audio_bins: int = 128
    channels: tuple[int, ...] = (128, 64, 32, 16)
    video_strides: tuple[int, ...] = (3, 2, 2, 2)
    audio_stem_channels: int = 64
    audio_stem_stride: int = 4
    audio_strides: tuple[int, ...] = (2, 2, 2, 2)
    # conv blocks per level of both pyramids; the finest level's features make the all-pairs affinity every pooled
    # lookup and the matching loss read, and four blocks there (at first one: a single strided convolution on the
    # raw motion and on the audio stem) train to a better model in the same time; five fitted the training clips
    # better and the validation clips worse (`alignnet train --finest-depth`, docs/experiments.md)
    pyramid_depths: tuple[int, ...] = (4, 2, 2, 2)
    corr_radius: int = 4
    # affinity each head reads: "local" (that level's features, the paper's), "pooled" (RAFT-style pyramid of the
    # finest features' all-pairs affinity) or "both" (the two side by side)
    correlation: str = "both"
    # how feature vectors are compared (alignnet.models.correlation.AFFINITIES): "pearson" (centred and
    # unit-normalised over channels) or the paper's "dot" product
    affinity: str = "pearson"
    coarse_init: str = "diagonal"  # coarsest level starts from: "diagonal" (no distortion) or "soft_argmax" (global)
    head_hidden: tuple[int, ...] = (64, 32)
    context_channels: int = 32
    context_dilations: tuple[int, ...] = (1, 2, 4, 8, 1)
    attention_dim: int = 16
    match_prior: bool = True  # add each level's local soft-argmax displacement before the head's residual
    head_sees_features: bool = False  # heads also read the video and warped audio features (not just the affinity)
    pyramid: bool = True
    motion_inputs: bool = True
    # keypoint scaling of the inputs (alignnet.motion_features): "body" or the authors' "per_keypoint"
    input_scaling: str = "body"
    temporal_attention: bool = True
    keypoint_attention: bool = True
    # a last correction at every input video frame from full-rate features (alignnet.models.refinement);
    # False: the paper's output, the finest level upsampled
    fine_refinement: bool = True
    fine_channels: int = 32
    fine_radius: int = 6
    # a dilated context network at the coarser levels too (the paper: only at the finest), so each level's
    # residual reads the affinity across the whole clip where the local one is ambiguous (repeating music and dance)
    coarse_context: bool = True
    # each level, and the full-rate refinement, starts from the coarser answer with its gradient stopped (RAFT's
    # detach between updates): every stage is trained by its own loss term only. Off (the paper's, and the demo's):
    # the gradient runs back through every coarser stage. With strong warps (`alignnet train --strong-warps`) a run
    # between levels exploded within 200 steps (gradient norm 3 -> 1e6), and one stopped only between levels grew
    # its gradient through the refinement's start after ~1500 steps and diverged (docs/training-data.md);
    # inference is the same either way
    detach_levels: bool = False

    def __post_init__(self) -> None:
        if len(self.mirror) != self.n_keypoints:
            raise ValueError(f"mirror has {len(self.mirror)} entries for {self.n_keypoints} keypoints")
        if not len(self.channels) == len(self.video_strides) == len(self.audio_strides) == len(self.pyramid_depths):
            raise ValueError("channels, video_strides, audio_strides and pyramid_depths need one entry per level")
        if self.coarse_init not in ("soft_argmax", "diagonal"):
            raise ValueError(f"coarse_init {self.coarse_init!r}: choose soft_argmax or diagonal")
        if self.input_scaling not in INPUT_SCALINGS:
            raise ValueError(f"input_scaling {self.input_scaling!r}: choose one of {', '.join(INPUT_SCALINGS)}")
        if self.affinity not in AFFINITIES:
            raise ValueError(f"affinity {self.affinity!r}: choose one of {', '.join(AFFINITIES)}")
        if self.correlation not in CORRELATIONS:
            raise ValueError(f"correlation {self.correlation!r}: choose one of {', '.join(CORRELATIONS)}")

    @classmethod
    def depths_with_finest(cls, depth: int) -> tuple[int, ...]:
        """The default pyramid_depths with `depth` blocks at the finest level (`alignnet train --finest-depth`)."""
        return (depth, *cls.pyramid_depths[1:])

    @property
    def n_levels(self) -> int:
        return len(self.channels) if self.pyramid else 1

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlignNetConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown AlignNetConfig fields: {sorted(unknown)}")
        # checkpoints saved before the refinement and the coarse context networks existed have neither
        data = {"fine_refinement": False, "coarse_context": False, **data}
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


class AlignNetOutput(NamedTuple):
    """Training-mode output: the final correspondence and every level's, finest level first.

    correspondence (B, n); levels[l] (B, n_l); strides[l] = input frames per level-l frame;
    affinity (B, n_0, m_0): all-pairs affinity (config.affinity) of the finest video and audio
    features (for the matching loss, `alignnet.losses.matching_loss`).
    """

    correspondence: torch.Tensor
    levels: list[torch.Tensor]
    strides: list[int]
    affinity: torch.Tensor | None = None

    def float(self) -> AlignNetOutput:
        """The same output in float32 (after bf16 autocast)."""
        affinity = None if self.affinity is None else self.affinity.float()
        return AlignNetOutput(self.correspondence.float(), [d.float() for d in self.levels], self.strides, affinity)


def diagonal(n_level: int, stride: int, n: int, like: torch.Tensor) -> torch.Tensor:
    """(B, n_level) coordinate of level frame j (input frame j * stride) if video and audio cover the same time.

    The prior "no distortion": input frame i of n maps to coordinate 2 i / (n - 1) - 1.
    """
    frames = torch.arange(n_level, device=like.device, dtype=like.dtype) * stride
    return (frames * (2.0 / max(n - 1, 1)) - 1.0).expand(like.shape[0], n_level)


class AlignNet(nn.Module):
    def __init__(self, config: AlignNetConfig | None = None, **options: Any) -> None:
        super().__init__()
        self.config = cfg = dataclasses.replace(config or AlignNetConfig(), **options)
        levels = cfg.n_levels
        channels = cfg.channels[:levels]
        self.video_strides = list(cfg.video_strides[:levels])
        video_in = (4 if cfg.motion_inputs else 2) * cfg.n_keypoints
        self.keypoint_attention = KeypointAttention(cfg.mirror) if cfg.keypoint_attention else None
        depths = cfg.pyramid_depths[:levels]
        self.video_pyramid = FeaturePyramid(video_in, channels, self.video_strides, depths, first_kernel=5)
        self.audio_stem = AudioStem(cfg.audio_bins, cfg.audio_stem_channels, cfg.audio_stem_stride)
        self.temporal_attention = (
            TemporalAttention(cfg.audio_stem_channels, cfg.attention_dim) if cfg.temporal_attention else None
        )
        self.audio_pyramid = FeaturePyramid(
            cfg.audio_stem_channels, channels, cfg.audio_strides[:levels], depths, first_kernel=3
        )
        self.heads = nn.ModuleList(
            CorrespondenceHead((2 * c if cfg.head_sees_features else 0) + self._n_affinity(level) + 2, cfg.head_hidden)
            for level, c in enumerate(channels)
        )
        self.context = ContextNetwork(self.heads[0].hidden_channels + 1, cfg.context_channels, cfg.context_dilations)
        self.coarse_contexts = (
            nn.ModuleList(
                ContextNetwork(head.hidden_channels + 1, cfg.context_channels, cfg.context_dilations)
                for head in self.heads[1:]
            )
            if cfg.coarse_context
            else None
        )
        if cfg.match_prior:
            self.match_log_temperature = nn.Parameter(torch.full((len(channels),), math.log(10.0)))
        self.refinement = (  # its audio at the rate the stem's convolution reads (~43 fps)
            FineRefinement(video_in, cfg.audio_bins, cfg.fine_channels, self.audio_stem.pooling, cfg.fine_radius)
            if cfg.fine_refinement
            else None
        )
        if cfg.coarse_init == "soft_argmax":
            self.log_temperature = nn.Parameter(torch.tensor(math.log(10.0)))

    @classmethod
    def from_config(cls, config: AlignNetConfig) -> AlignNet:
        return cls(config)

    @property
    def level_strides(self) -> list[int]:
        """Input video frames per frame of each level, finest first: [3, 6, 12, 24] by default."""
        return [math.prod(self.video_strides[: i + 1]) for i in range(len(self.video_strides))]

    def forward(
        self, video: torch.Tensor, audio: torch.Tensor, return_levels: bool | None = None
    ) -> torch.Tensor | AlignNetOutput:
        """video (B, 4K, n), audio (B, bins, m) -> (B, n) in [-1, 1].

        With return_levels (default: self.training) an AlignNetOutput with every level.
        """
        n = video.shape[-1]
        video, video_feats, audio_feats = self._pyramids(video, audio)
        logmel = audio

        with_levels = return_levels if return_levels is not None else self.training
        pyramid = (  # the all-pairs affinity: for the pooled lookups, and in training for the matching loss
            CorrelationPyramid(
                video_feats[0], audio_feats[0], self.config.audio_strides[1 : len(video_feats)], self.config.affinity
            )
            if self.config.correlation != "local" or with_levels
            else None
        )
        levels: list[torch.Tensor] = []
        d: torch.Tensor | None = None
        for level in reversed(range(len(video_feats))):
            v, a = video_feats[level], audio_feats[level]
            position = diagonal(v.shape[-1], self.level_strides[level], n, v)
            if d is None and self.config.coarse_init == "diagonal":
                d_up = position
            elif d is None:  # coarsest: global view over all audio positions
                d_up = global_soft_argmax(v, a, self.log_temperature.exp())
            else:
                d_up = upsample(
                    d.detach() if self.config.detach_levels else d, v.shape[-1], self.video_strides[level + 1]
                )
            corr, step = self._affinity(level, v, a, d_up, pyramid)
            head_in = [corr, (d_up - position)[:, None], inside(d_up).to(v.dtype)[:, None]]
            if self.config.head_sees_features:  # only then are the warped audio features needed
                head_in = [v, warp(a, d_up)[0], *head_in]
            head_in = torch.cat(head_in, dim=1)
            residual, hidden = self.heads[level](head_in)
            z = d_up + residual
            if self.config.match_prior:  # from the last (widest-range) affinity
                n_disp = 2 * self.config.corr_radius + 1
                z = z + local_soft_argmax(corr[:, -n_disp:], step, self.match_log_temperature[level].exp())
            context = self._context(level)
            if context is not None:
                z = z + context(torch.cat([hidden, z[:, None]], dim=1))
            d = straight_through_clamp(z)
            levels.append(d)
        assert d is not None
        correspondence = upsample(d, n, self.video_strides[0])
        if self.refinement is not None:
            start = correspondence.detach() if self.config.detach_levels else correspondence  # see detach_levels
            correspondence = straight_through_clamp(self.refinement(video, logmel, start))
        if with_levels:
            assert pyramid is not None
            return AlignNetOutput(correspondence, levels[::-1], self.level_strides, pyramid.affinity)
        return correspondence

    def _pyramids(
        self, video: torch.Tensor, audio: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """The video input the model reads (after keypoint attention), and both feature pyramids, finest first."""
        video = self._video_input(video)
        return video, self.video_pyramid(video), self.audio_pyramid(self._audio_stem(audio))

    def _video_input(self, video: torch.Tensor) -> torch.Tensor:
        if not self.config.motion_inputs:
            video = video[:, : 2 * self.config.n_keypoints]
        return video if self.keypoint_attention is None else self.keypoint_attention(video)

    def _audio_stem(self, audio: torch.Tensor) -> torch.Tensor:
        audio = self.audio_stem(audio)  # (B, stem, m / 4)
        return audio if self.temporal_attention is None else self.temporal_attention(audio)

    def finest_video_features(self, video: torch.Tensor) -> torch.Tensor:
        """(B, 4K, n) -> (B, C, ceil(n / 3)) (default strides): the video side of the finest all-pairs affinity
        that the pooled lookups and the matching loss read."""
        return self.video_pyramid.levels[0](self._video_input(video))

    def finest_audio_features(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, bins, m) -> (B, C, ceil(m / 8)) (default strides): the audio side of the finest affinity."""
        return self.audio_pyramid.levels[0](self._audio_stem(audio))

    @property
    def finest_strides(self) -> tuple[int, int]:
        """Input video frames and log-mel frames per frame of the finest features: (3, 8) by default."""
        return self.video_strides[0], self.config.audio_stem_stride * self.config.audio_strides[0]

    def _context(self, level: int) -> ContextNetwork | None:
        """The dilated context network that refines `level`: the finest level's always, a coarser one's with
        coarse_context (kept apart as `context` and `coarse_contexts`, the names checkpoints store them under)."""
        if level == 0:
            return self.context
        return None if self.coarse_contexts is None else self.coarse_contexts[level - 1]

    def _n_affinity(self, level: int) -> int:
        """Affinity channels the head of `level` reads: 2r+1 per kind; one kind at the finest level.

        At the finest level the pooled lookup is the local correlation itself (the
        pyramid's unpooled volume around the same coordinates), so it is read once.
        """
        kinds = 2 if self.config.correlation == "both" and level > 0 else 1
        return kinds * (2 * self.config.corr_radius + 1)

    def _affinity(
        self,
        level: int,
        video: torch.Tensor,
        audio: torch.Tensor,
        coords: torch.Tensor,
        pyramid: CorrelationPyramid | None,
    ) -> tuple[torch.Tensor, float]:
        """The affinity the level's head reads, (B, channels, n_l), and its displacement step in coordinate units.

        "local": this level's features around coords; "pooled": the pyramid's level
        looked up at every finest video frame around the upsampled coords, then
        averaged back to this level's frames; "both": the two stacked. At the
        finest level every kind is the same local correlation, taken from the
        pyramid where there is one.
        """
        radius, mode = self.config.corr_radius, self.config.correlation
        parts: list[torch.Tensor] = []
        step = frame_step(audio.shape[-1])
        if level == 0 and pyramid is not None:
            return pyramid.lookup(coords, 0, radius), pyramid.step(0)
        if mode in ("local", "both"):
            parts.append(local_correlation(video, audio, coords, radius, self.config.affinity))
        if mode in ("pooled", "both"):
            assert pyramid is not None
            ratio = self.level_strides[level] // self.level_strides[0]  # finest frames per frame of this level
            n_fine = pyramid.affinity.shape[1]
            fine = upsample(coords, n_fine, ratio) if ratio > 1 else coords[..., :n_fine]
            parts.append(pool_frames(pyramid.lookup(fine, level, radius), ratio, video.shape[-1]))
            step = pyramid.step(level)
        return torch.cat(parts, dim=1), step

    def keypoint_weights(self) -> torch.Tensor | None:
        """(K,) learned keypoint attention (sums to K), or None when switched off."""
        return None if self.keypoint_attention is None else self.keypoint_attention.weights().detach()
