"""Full-rate refinement: the finest level's correspondence corrected at every input video frame.

The pyramid's finest level runs at a third of the video's frame rate (about
10 fps), so its affinity samples the audio every 100 ms; the ITU window is
-125 .. +45 ms (predicted - true). This stage reads light features at the input rates instead:
the video's motion features at every frame and the log-mel every
`audio_stride` frames (about 43 fps for 44.1 kHz, hop 512), looks their
all-pairs affinity up around the upsampled correspondence and adds the
affinity's soft-argmax and a small head's residual: one more coarse-to-fine
step, at the input rate. On the demo's data it sharpens the frames the
pyramid already places near their truth; it cannot fix gross errors, which
lie outside its +-`radius` audio frames.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from alignnet.models.correlation import CorrelationPyramid, local_soft_argmax
from alignnet.models.heads import CorrespondenceHead
from alignnet.models.pyramid import conv_block
from alignnet.models.warp import inside


class FineRefinement(nn.Module):
    """(video (B, c_video, n), log-mel (B, bins, m), coords (B, n)) -> refined coords (B, n), unclamped."""

    def __init__(
        self,
        video_channels: int,
        audio_bins: int,
        channels: int = 32,
        audio_stride: int = 2,
        radius: int = 6,
        hidden: Sequence[int] = (32, 16),
    ) -> None:
        super().__init__()
        self.radius = radius
        self.video = nn.Sequential(conv_block(video_channels, channels, 5), conv_block(channels, channels, 3))
        self.audio = nn.Sequential(conv_block(audio_bins, channels, 5, audio_stride), conv_block(channels, channels, 3))
        self.head = CorrespondenceHead(2 * radius + 2, hidden)
        self.log_temperature = nn.Parameter(torch.tensor(math.log(10.0)))

    def forward(self, video: torch.Tensor, audio: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        volume = CorrelationPyramid(self.video(video), self.audio(audio), ())  # one level: the all-pairs affinity
        corr = volume.lookup(coords, 0, self.radius)  # (B, 2r+1, n) around coords
        residual, _ = self.head(torch.cat([corr, inside(coords).to(corr.dtype)[:, None]], dim=1))
        return coords + residual + local_soft_argmax(corr, volume.step(0), self.log_temperature.exp())
