"""Re-uploads and songs: which downloaded videos are copies of one another, and which share a song.

Two videos match in audio when their Chromaprint items (alignnet.data.fingerprint)
agree at one time offset:

1. Candidates: an inverted index of item values. Every value that two videos
   both hold votes for the pair at the offset between its positions (a value
   repeated inside one video votes with its first position; values held by
   more than `max_postings` videos, e.g. silence, do not vote). A pair is a
   candidate when its best offset has at least `min_votes` votes. This finds
   matches among thousands of videos without comparing every pair.
2. Check: the bit error rate of the items overlapping at that offset (+-2
   items). The pair is the same recording when it is at most
   `max_bit_error` (unrelated audio: ~0.5) over at least `min_overlap_seconds`.

An audio match alone does not make a duplicate: two dancers covering one song
dance to the same recording. The picture decides: at the audio offset, the
frames' small signatures are compared as they are and with one of them
mirrored (the median correlation over aligned frames). A pair is a duplicate
when either reaches `min_visual_similarity`: a re-encoded, re-scaled,
letterboxed or trimmed re-upload, or a mirrored one.

Songs are the connected groups of audio matches (a duplicate is a match too);
duplicates are the connected groups of duplicate pairs, of which one video is
kept: the longest fingerprinted audio, then the most pixels, then the
smallest id. The others get reason `duplicate` (Reason.DUPLICATE), which the
filter stage gives to all their clips.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alignnet.dataclass_fields import option
from alignnet.data.duplicate_table import VIDEO_COLUMNS
from alignnet.data.fingerprint import ITEM_SECONDS, VISUAL_RATE, VideoFingerprint, mirrored
from alignnet.stage_status import Reason

PAIR_COLUMNS = [
    "video_a",
    "video_b",
    "offset_seconds",
    "overlap_seconds",
    "bit_error",
    "visual_direct",
    "visual_mirrored",
    "duplicate",
]


@dataclass(frozen=True)
class MatchSettings:
    min_votes: int = option(8, "equal Chromaprint items at one offset that make a pair a candidate")
    max_postings: int = option(50, "item values held by more videos than this do not vote (silence, for instance)")
    max_bit_error: float = option(
        0.25,
        "same recording when the items differ in at most this share of bits (unrelated audio: ~0.5)",
    )
    min_overlap_seconds: float = option(10.0, "audio the two videos must share")
    min_visual_similarity: float = option(
        0.6,
        "a copy when the median correlation of aligned frame signatures (direct or mirrored) reaches this",
    )
    min_visual_frames: int = option(8, "aligned signature frames needed for a visual verdict")


@dataclass(frozen=True)
class PairMatch:
    video_a: str
    video_b: str
    offset_seconds: float  # time in b = time in a - offset
    overlap_seconds: float
    bit_error: float
    visual_direct: float
    visual_mirrored: float
    duplicate: bool


def candidate_pairs(audio: Sequence[np.ndarray], settings: MatchSettings) -> dict[tuple[int, int], int]:
    """(i, j) with i < j -> the offset in items (position in i - position in j) with the most equal items.

    Only pairs whose best offset has at least settings.min_votes votes.
    """
    values, videos, positions = [], [], []
    for index, items in enumerate(audio):
        unique, first = np.unique(items, return_index=True)
        values.append(unique)
        videos.append(np.full(unique.size, index, np.int64))
        positions.append(first.astype(np.int64))
    if not values:
        return {}
    value, video, position = np.concatenate(values), np.concatenate(videos), np.concatenate(positions)
    order = np.lexsort((video, value))
    value, video, position = value[order], video[order], position[order]
    starts = np.flatnonzero(np.r_[True, value[1:] != value[:-1]])
    sizes = np.diff(np.r_[starts, value.size])
    pair_keys = []
    for size in np.unique(sizes[(sizes >= 2) & (sizes <= settings.max_postings)]):
        members = starts[sizes == size][:, None] + np.arange(size)  # (groups, size) indices, videos ascending
        first, second = np.triu_indices(size, k=1)
        a, b = video[members[:, first]].ravel(), video[members[:, second]].ravel()
        offset = (position[members[:, first]] - position[members[:, second]]).ravel()
        pair_keys.append(np.stack([a, b, offset], axis=1))
    if not pair_keys:
        return {}
    keys, votes = np.unique(np.concatenate(pair_keys), axis=0, return_counts=True)
    best: dict[tuple[int, int], tuple[int, int]] = {}
    for (a, b, offset), count in zip(keys.tolist(), votes.tolist(), strict=True):
        if count >= settings.min_votes and count > best.get((a, b), (0, 0))[0]:
            best[(a, b)] = (count, offset)
    return {pair: offset for pair, (_, offset) in best.items()}


def bit_error(a: np.ndarray, b: np.ndarray, offset: int) -> tuple[float, int]:
    """Mean share of differing bits between a[i] and b[i - offset] where both exist, and the overlap in items."""
    start, end = max(0, offset), min(a.size, b.size + offset)
    if end <= start:
        return 1.0, 0
    diff = np.bitwise_xor(a[start:end], b[start - offset : end - offset])
    return float(np.bitwise_count(diff).mean() / 32.0), end - start


def visual_similarity(a: np.ndarray, b: np.ndarray, offset_seconds: float, min_frames: int) -> tuple[float, float]:
    """Median correlation of a's signature frames with b's at `offset_seconds`, as they are and b mirrored.

    NaN, NaN when fewer than `min_frames` frames overlap.
    """
    index_a = np.arange(len(a))
    index_b = np.rint(index_a - offset_seconds * VISUAL_RATE).astype(np.int64)
    inside = (index_b >= 0) & (index_b < len(b))
    if inside.sum() < min_frames:
        return float("nan"), float("nan")
    fa, fb = a[index_a[inside]].astype(np.float32), b[index_b[inside]].astype(np.float32)
    direct = np.einsum("ij,ij->i", fa, fb)
    flipped = np.einsum("ij,ij->i", fa, mirrored(fb))
    return float(np.median(direct)), float(np.median(flipped))


def match_pair(a: VideoFingerprint, b: VideoFingerprint, offset: int, settings: MatchSettings) -> PairMatch | None:
    """The audio check at `offset` items (+-2) and, when it holds, the visual one; None when the audio differs."""
    error, overlap, best = min((*bit_error(a.audio, b.audio, offset + shift), offset + shift) for shift in range(-2, 3))
    overlap_seconds = overlap * ITEM_SECONDS
    if error > settings.max_bit_error or overlap_seconds < settings.min_overlap_seconds:
        return None
    offset_seconds = best * ITEM_SECONDS
    direct, flipped = visual_similarity(a.visual, b.visual, offset_seconds, settings.min_visual_frames)
    duplicate = bool(max(direct, flipped) >= settings.min_visual_similarity)  # NaN compares False
    return PairMatch(a.video_id, b.video_id, offset_seconds, overlap_seconds, error, direct, flipped, duplicate)


def match_all(fingerprints: Sequence[VideoFingerprint], settings: MatchSettings = MatchSettings()) -> list[PairMatch]:
    """Every pair of videos with the same audio recording, each with its visual verdict."""
    candidates = candidate_pairs([f.audio for f in fingerprints], settings)
    matches = []
    for (i, j), offset in sorted(candidates.items()):
        match = match_pair(fingerprints[i], fingerprints[j], offset, settings)
        if match is not None:
            matches.append(match)
    return matches


class _Groups:
    """Union-find over video ids."""

    def __init__(self, ids: Sequence[str]) -> None:
        self.parent = {v: v for v in ids}

    def find(self, v: str) -> str:
        while self.parent[v] != v:
            self.parent[v] = self.parent[self.parent[v]]
            v = self.parent[v]
        return v

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def members(self) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for v in sorted(self.parent):
            groups.setdefault(self.find(v), []).append(v)
        return groups


def video_table(fingerprints: Sequence[VideoFingerprint], matches: Sequence[PairMatch]) -> pd.DataFrame:
    """One row per video: its song (the smallest id of its audio group), and whether it is a duplicate of a kept one."""
    by_id = {f.video_id: f for f in fingerprints}
    songs, copies = _Groups(list(by_id)), _Groups(list(by_id))
    for m in matches:
        songs.union(m.video_a, m.video_b)
        if m.duplicate:
            copies.union(m.video_a, m.video_b)
    evidence = {}
    for m in matches:
        if m.duplicate:
            evidence[(m.video_a, m.video_b)] = evidence[(m.video_b, m.video_a)] = m
    rows = []
    for group in copies.members().values():
        kept = min(group, key=lambda v: (-by_id[v].duration, -by_id[v].width * by_id[v].height, v))
        for video_id in group:
            row = {"video_id": video_id, "song_id": songs.find(video_id), "keep": True, "reason": "", "detail": ""}
            row["duplicate_of"] = ""
            if video_id != kept:
                match = evidence.get((video_id, kept))
                link = _evidence(match, video_id) if match else "through another copy of it"
                row.update(keep=False, reason=str(Reason.DUPLICATE), duplicate_of=kept)
                row["detail"] = f"re-upload of {kept}: {link}"
            rows.append(row)
    return pd.DataFrame(rows, columns=VIDEO_COLUMNS).sort_values("video_id", kind="stable").reset_index(drop=True)


def _evidence(match: PairMatch, copy: str) -> str:
    """The figures of a duplicate pair, as seen from `copy` (the one rejected)."""
    # time in b = time in a - offset: b's start is `offset` seconds into a
    start = match.offset_seconds if copy == match.video_b else -match.offset_seconds
    kind = "mirrored" if match.visual_mirrored > match.visual_direct else "direct"
    return (
        f"starts {start:+.2f} s into it; audio bit error {match.bit_error:.3f} over {match.overlap_seconds:.0f} s, "
        f"{kind} picture correlation {max(match.visual_direct, match.visual_mirrored):.2f}"
    )


def pair_table(matches: Sequence[PairMatch]) -> pd.DataFrame:
    return pd.DataFrame([m.__dict__ for m in matches], columns=PAIR_COLUMNS)
