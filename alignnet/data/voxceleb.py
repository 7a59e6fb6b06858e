"""VoxCeleb2's metadata files -> the pipeline's manifest and a table of speaking segments.

VoxCeleb2 ships no videos, only one text file per face-track segment,
`txt/<identity>/<YouTube id>/<segment>.txt` (e.g. txt/id00012/_raOc3-IRsw/00001.txt):

    Identity  : \\tid00012
    Reference : \\t_raOc3-IRsw
    Offset    : \\t2
    FV Conf   : \\t20.230\\t(1)
    ASD Conf  : \\t2.765

    FRAME \\tX \\tY \\tW \\tH \\n
    000349 \\t0.319 \\t0.067 \\t0.424 \\t0.753 \\n
    ...

Reference is the YouTube id; FRAME the frame index in the YouTube video at
25 fps, one row per frame of the segment; X Y W H the face box (VoxCeleb2:
fractions of the frame; VoxCeleb1: pixels). Offset is the audio-video
offset SyncNet found (frames), FV Conf the face-verification and ASD Conf
the active-speaker confidence.

The manifest gets one row per YouTube video (url https://www.youtube.com/
watch?v=<id>, uploader the identities, source "voxceleb2"); the segments
table (TSV) one row per segment long enough for a clip, with its time range
in the video, so the clip stage can cut clips inside the speaking segments.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from alignnet.atomic import atomic_output
from alignnet.data.manifest import ManifestEntry, safe_video_id, write_manifest
from alignnet.errors import UserInputError
from alignnet.tables import read_table

VOXCELEB_FPS = 25.0
YOUTUBE_URL = "https://www.youtube.com/watch?v={}"
SEGMENT_COLUMNS = (
    "video_id",
    "identity",
    "segment",
    "start_frame",
    "end_frame",
    "start_time",
    "end_time",
    "duration",
    "offset",
    "fv_conf",
    "asd_conf",
    "box_x",
    "box_y",
    "box_w",
    "box_h",
)


@dataclass(frozen=True)
class VoxSegment:
    """One VoxCeleb segment: header fields, frames (n,) int64 at 25 fps, boxes (n, 4) float64 X Y W H."""

    path: Path
    identity: str
    reference: str
    offset: int
    fv_conf: float
    asd_conf: float | None
    frames: np.ndarray
    boxes: np.ndarray

    @property
    def start_time(self) -> float:
        return float(self.frames[0]) / VOXCELEB_FPS

    @property
    def end_time(self) -> float:
        """End of the last frame (seconds)."""
        return float(self.frames[-1] + 1) / VOXCELEB_FPS

    @property
    def duration(self) -> float:
        return self.end_time - self.start_time


def _header_value(fields: dict[str, str], key: str, path: Path) -> str:
    if key not in fields:
        raise UserInputError(f"{path}: VoxCeleb header lacks {key!r} (has {', '.join(fields) or 'nothing'})")
    return fields[key]


def parse_segment(path: str | os.PathLike[str]) -> VoxSegment:
    """Read one VoxCeleb metadata file. Raises UserInputError naming the file and line when malformed."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"cannot read VoxCeleb metadata file {path}: {exc}") from exc
    fields: dict[str, str] = {}
    lineno = 0
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if line.split()[0] == "FRAME":
            break
        key, sep, value = line.partition(":")
        if not sep:
            raise UserInputError(f"{path}:{lineno}: expected `Key : value` or the FRAME header, got {line!r}")
        fields[key.strip()] = value.strip()
    else:
        raise UserInputError(f"{path}: no `FRAME X Y W H` table")
    rows: list[list[float]] = []
    for k, line in enumerate(lines[lineno:], start=lineno + 1):
        if not line.strip():
            continue
        cells = line.split()
        try:
            if len(cells) != 5:
                raise ValueError(f"{len(cells)} fields, expected FRAME X Y W H")
            rows.append([float(c) for c in cells])
        except ValueError as exc:
            raise UserInputError(f"{path}:{k}: bad frame row {line.strip()!r}: {exc}") from None
    if not rows:
        raise UserInputError(f"{path}: the FRAME table has no rows")
    table = np.array(rows)
    frames = table[:, 0].astype(np.int64)
    if np.any(np.diff(frames) <= 0):
        raise UserInputError(f"{path}: FRAME numbers are not increasing")
    try:
        offset = int(float(fields.get("Offset", "0")))
        fv_conf = float(fields.get("FV Conf", "nan").split()[0])
        asd = fields.get("ASD Conf")
        asd_conf = float(asd.split()[0]) if asd else None
    except (ValueError, IndexError) as exc:
        raise UserInputError(f"{path}: bad number in the header: {exc}") from None
    return VoxSegment(
        path=path,
        identity=_header_value(fields, "Identity", path),
        reference=_header_value(fields, "Reference", path),
        offset=offset,
        fv_conf=fv_conf,
        asd_conf=asd_conf,
        frames=frames,
        boxes=table[:, 1:],
    )


def find_segment_files(root: str | os.PathLike[str]) -> list[Path]:
    """Every `<identity>/<YouTube id>/<segment>.txt` under `root` (a VoxCeleb txt/ folder), sorted."""
    folder = Path(root)
    if not folder.is_dir():
        raise UserInputError(f"VoxCeleb metadata folder not found: {folder}")
    files = sorted(p for p in folder.rglob("*.txt") if p.stem.isdigit())
    if not files:
        raise UserInputError(f"no VoxCeleb metadata files (<identity>/<YouTube id>/00001.txt) under {folder}")
    return files


def segments_table(segments: list[VoxSegment]) -> pd.DataFrame:
    """One row per segment (SEGMENT_COLUMNS); times in seconds of the YouTube video, box the mean box."""
    rows = [
        {
            "video_id": safe_video_id(s.reference),
            "identity": s.identity,
            "segment": s.path.stem,
            "start_frame": int(s.frames[0]),
            "end_frame": int(s.frames[-1]) + 1,
            "start_time": round(s.start_time, 3),
            "end_time": round(s.end_time, 3),
            "duration": round(s.duration, 3),
            "offset": s.offset,
            "fv_conf": s.fv_conf,
            "asd_conf": s.asd_conf,
            **{f"box_{k}": round(float(v), 4) for k, v in zip("xywh", s.boxes.mean(axis=0), strict=True)},
        }
        for s in segments
    ]
    return pd.DataFrame(rows, columns=list(SEGMENT_COLUMNS))


def manifest_entries(table: pd.DataFrame) -> list[ManifestEntry]:
    """One manifest entry per YouTube video of the segments table, in first-seen order."""
    entries = []
    for video_id, group in table.groupby("video_id", sort=False):
        identities = ",".join(sorted(set(group["identity"])))
        entries.append(
            ManifestEntry(
                video_id=str(video_id),
                url=YOUTUBE_URL.format(video_id),
                title=f"VoxCeleb2 {identities} ({len(group)} segments)",
                uploader=identities,
                duration=None,
                source="voxceleb2",
            )
        )
    return entries


def import_voxceleb(
    root: str | os.PathLike[str],
    manifest: str | os.PathLike[str],
    segments: str | os.PathLike[str],
    min_seconds: float = 12.0,
    max_videos: int | None = None,
) -> tuple[int, int]:
    """Read every metadata file under `root`; write the manifest and the segments TSV (atomically).

    Keeps segments of at least `min_seconds` and, with max_videos, the
    first max_videos videos (in path order). Returns (videos, segments) written.
    """
    parsed = [parse_segment(p) for p in find_segment_files(root)]
    table = segments_table([s for s in parsed if s.duration >= min_seconds])
    if max_videos is not None:
        table = table[table["video_id"].isin(table["video_id"].drop_duplicates()[:max_videos])]
    if table.empty:
        raise UserInputError(f"none of the {len(parsed)} segments under {root} lasts {min_seconds:g} s or more")
    write_manifest(manifest_entries(table), manifest)
    with atomic_output(segments) as tmp:
        table.to_csv(tmp, sep="\t", index=False)
    return int(table["video_id"].nunique()), len(table)


def video_spans(segments: str | os.PathLike[str], video_id: str) -> list[tuple[float, float]]:
    """(start_time, end_time) in seconds of every segment of `video_id` in a segments table, by start.

    An empty list when the video has none; a missing or malformed table is a UserInputError.
    """
    path = Path(segments)
    if not path.is_file():
        raise UserInputError(f"segments table not found: {path}")
    table = read_table(path, ("video_id", "start_time", "end_time"), what="a segments table", dtype={"video_id": str})
    rows = table[table["video_id"] == video_id].sort_values("start_time")
    return [(float(a), float(b)) for a, b in zip(rows["start_time"], rows["end_time"], strict=True)]
