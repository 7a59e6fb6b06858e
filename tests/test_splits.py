"""Video- and song-disjoint splits: disjointness, determinism, proportions, tiny inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alignnet.data.splits import UNUSED, assign_splits, scaled_targets

SIZES = {"train": 20000, "val": 5000, "test": 5000}


def _clips(clips_per_video: list[int]) -> pd.DataFrame:
    rows = [(f"v{v:03d}", f"v{v:03d}/{c:04d}") for v, n in enumerate(clips_per_video) for c in range(n)]
    return pd.DataFrame(rows, columns=["video_id", "clip_id"])


def test_disjoint_and_every_clip_assigned() -> None:
    rng = np.random.default_rng(0)
    clips = _clips(list(rng.integers(1, 30, size=60)))
    out = assign_splits(clips, SIZES, seed=1)
    assert sorted(out["clip_id"]) == sorted(clips["clip_id"])
    assert (out.groupby("video_id")["split"].nunique() == 1).all()
    assert set(out["split"]) == {"train", "val", "test"}


def test_deterministic_and_independent_of_row_order() -> None:
    clips = _clips([5, 9, 3, 12, 7, 1, 8, 4, 6, 10])
    a = assign_splits(clips, SIZES, seed=7)
    b = assign_splits(clips.sample(frac=1.0, random_state=3), SIZES, seed=7)
    pd.testing.assert_frame_equal(a, b)
    others = [assign_splits(clips, SIZES, seed=s) for s in range(8, 14)]
    assert any(not o["split"].equals(a["split"]) for o in others)  # the seed matters


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(1, 40), min_size=6, max_size=80), seed=st.integers(0, 10**6))
def test_proportions_within_one_video(sizes: list[int], seed: int) -> None:
    clips = _clips(sizes)
    out = assign_splits(clips, SIZES, seed=seed)
    targets = scaled_targets(SIZES, len(clips))
    counts = out["split"].value_counts()
    largest = max(sizes)
    for name, target in targets.items():
        assert abs(counts.get(name, 0) - target) <= largest, (name, counts.to_dict(), targets)


def test_targets_scale_down_and_surplus_is_unused() -> None:
    clips = _clips([10] * 30)  # 300 clips
    out = assign_splits(clips, {"train": 60, "val": 20, "test": 20}, seed=0)
    counts = out["split"].value_counts().to_dict()
    assert counts == {"train": 60, "val": 20, "test": 20, UNUSED: 200}
    assert scaled_targets(SIZES, 300) == {"train": 200, "val": 50, "test": 50}


def test_tiny_inputs() -> None:
    three = assign_splits(_clips([40, 2, 3]), SIZES, seed=0)
    assert sorted(three.groupby("video_id")["split"].first()) == ["test", "train", "val"]
    with pytest.raises(ValueError, match="2 video.*3 video-disjoint splits"):
        assign_splits(_clips([5, 5]), SIZES, seed=0)
    only_train = assign_splits(_clips([5]), {"train": 10, "val": 0, "test": 0}, seed=0)
    assert set(only_train["split"]) == {"train"}


def test_bad_input_named() -> None:
    with pytest.raises(ValueError, match="clip_id"):
        assign_splits(pd.DataFrame({"video_id": ["a"]}), SIZES, seed=0)
    with pytest.raises(ValueError, match="duplicate clip_id: a/0000"):
        assign_splits(pd.DataFrame({"video_id": ["a", "a"], "clip_id": ["a/0000", "a/0000"]}), SIZES, seed=0)
    with pytest.raises(ValueError, match="sizes"):
        assign_splits(_clips([3, 3, 3]), {"train": 0, "val": 0}, seed=0)


def test_song_groups_stay_in_one_split() -> None:
    """Song-disjoint: every video of a song in one split; videos without a song entry are their own group."""
    clips = _clips([4] * 40)
    songs = {f"v{v:03d}": f"song{v % 10}" for v in range(36)}  # 10 songs of 3-4 videos; v036-v039 alone
    out = assign_splits(clips, {"train": 100, "val": 30, "test": 30}, seed=2, groups=songs)
    assert (out.groupby("group_id")["split"].nunique() == 1).all()
    assert set(out["split"]) >= {"train", "val", "test"}
    assert out.loc[out["video_id"] == "v038", "group_id"].iloc[0] == "v038"
    by_video = assign_splits(clips, {"train": 100, "val": 30, "test": 30}, seed=2)
    assert (by_video["group_id"] == by_video["video_id"]).all()
    same_song = by_video.assign(song=by_video["video_id"].map(songs)).dropna()
    assert (same_song.groupby("song")["split"].nunique() > 1).any()  # video-disjoint alone lets songs leak
    with pytest.raises(ValueError, match="2 song group\\(s\\) with kept clips cannot fill 3 song-disjoint splits"):
        assign_splits(_clips([3, 3, 3]), SIZES, seed=0, groups={"v000": "s", "v001": "s", "v002": "t"})
