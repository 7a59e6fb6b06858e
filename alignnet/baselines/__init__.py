"""Baselines to compare AlignNet with: SyncNet (global offset), SyncNet+DTW and a training-free onset floor.

Every method is an `alignnet.alignment_methods.Aligner`.
"""

from alignnet.baselines.dtw import SyncNetDTWAligner, dtw_source_frames
from alignnet.baselines.offset import SyncNetOffsetAligner, best_offset
from alignnet.baselines.onset_floor import OnsetFloorAligner
from alignnet.baselines.syncnet import SyncNet, SyncNetConfig, load_syncnet

__all__ = [
    "OnsetFloorAligner",
    "SyncNet",
    "SyncNetConfig",
    "SyncNetDTWAligner",
    "SyncNetOffsetAligner",
    "best_offset",
    "dtw_source_frames",
    "load_syncnet",
]
