"""Video-disjoint (or song-disjoint) train / val / test splits of the kept clips.

`assign_splits` puts whole videos into splits, so no source video is in two
splits (paper appendix 1). With `groups` (video -> song, from
`alignnet duplicates`) it puts whole groups into splits instead: no song is
in two splits, so a model is never tested on a song it was trained on
(song-disjoint); everything below holds with "group" for "video".

Sizes are targets in clips, e.g. 20,000 / 5,000 / 5,000. When fewer clips are kept than the targets add up to, every target is
scaled by (kept clips / sum of targets), keeping the proportions; when more
are kept, the targets are used as they are and the surplus videos are left
out (split "unused").

Assignment: videos are ordered by sha256(seed, video_id), which depends only
on the seed and the ids, not on row order. Each split with a target first
takes one video in that order (smallest target first), so val and test are
never empty; then every next video goes to the split furthest below its
target (largest target - current), until all targets are met. A split ends
within about one video's worth of clips of its target. With fewer videos than
splits that have a target, assign_splits raises ValueError naming the counts.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping

import pandas as pd

from alignnet.errors import DataError

UNUSED = "unused"


def _video_order(video_ids: list[str], seed: int) -> list[str]:
    def key(video_id: str) -> str:
        return hashlib.sha256(f"{seed}\x00{video_id}".encode()).hexdigest()

    return sorted(video_ids, key=lambda v: (key(v), v))


def scaled_targets(sizes: Mapping[str, int], available: int) -> dict[str, float]:
    """Targets in clips: `sizes`, scaled down proportionally when only `available` clips exist."""
    total = sum(sizes.values())
    if any(n < 0 for n in sizes.values()) or total <= 0:
        raise DataError(f"split sizes must be >= 0 with a positive sum, got {dict(sizes)}")
    factor = min(1.0, available / total)
    return {name: n * factor for name, n in sizes.items()}


def assign_splits(
    clips: pd.DataFrame, sizes: Mapping[str, int], seed: int, groups: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Assign every clip's video (or the video's group) to one split.

    clips: DataFrame with columns video_id, clip_id (one row per kept clip).
    sizes: split name -> target number of clips, e.g. {"train": 20000, "val": 5000, "test": 5000}.
    groups: video_id -> group id (its song); a video not in it is a group of its own. None: every video is.
    Returns DataFrame[clip_id, video_id, group_id, split] sorted by clip_id; groups not
    needed for the targets get split "unused".
    """
    missing = {"video_id", "clip_id"} - set(clips.columns)
    if missing:
        raise ValueError(f"clips lacks columns {sorted(missing)}")
    if clips["clip_id"].duplicated().any():
        raise DataError(f"duplicate clip_id: {clips.loc[clips['clip_id'].duplicated(), 'clip_id'].iloc[0]}")
    group_of = clips["video_id"].map(lambda v: (groups or {}).get(v, v))
    counts = clips.groupby(group_of, sort=True)["clip_id"].count().to_dict()
    unit = "song group" if groups else "video"
    targets = scaled_targets(sizes, len(clips))
    wanted = [name for name in sorted(targets, key=lambda s: (targets[s], s)) if targets[name] > 0]
    if len(counts) < len(wanted):
        raise DataError(
            f"{len(counts)} {unit}(s) with kept clips cannot fill {len(wanted)} {unit.split()[0]}-disjoint splits "
            f"({', '.join(wanted)}); need at least {len(wanted)} {unit}s"
        )
    order = _video_order(list(counts), seed)
    filled = {name: 0 for name in targets}
    split_of: dict[str, str] = {}
    for name in wanted:  # one video per split first, smallest split first: one that fits its target, if any
        free = [v for v in order if v not in split_of]
        fitting = [v for v in free if counts[v] <= math.ceil(targets[name])]
        video_id = fitting[0] if fitting else min(free, key=lambda v: counts[v])
        split_of[video_id] = name
        filled[name] += counts[video_id]
    for video_id in [v for v in order if v not in split_of]:
        name = max(targets, key=lambda s: (targets[s] - filled[s], -list(targets).index(s)))
        if targets[name] - filled[name] <= 0:
            split_of[video_id] = UNUSED
            continue
        split_of[video_id] = name
        filled[name] += counts[video_id]
    out = clips[["clip_id", "video_id"]].copy()
    out["group_id"] = group_of
    out["split"] = out["group_id"].map(split_of)
    return out.sort_values("clip_id", kind="stable").reset_index(drop=True)
