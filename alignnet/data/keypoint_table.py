"""The cleaned-keypoint table: one Parquet file per video, together one dataset.

Schema (one row per frame of a kept clip; rows sorted by clip_index, frame):

| column | type | meaning |
|---|---|---|
| clip_id | string | "<video_id>/<clip_index:04d>", unique in the dataset |
| video_id | string | source video |
| clip_index | int32 | clip number within the video (clips.tsv) |
| start_frame | int32 | first frame of the clip in the normalised video |
| fps | float32 | frame rate of the video (30) |
| frame | int32 | 0 .. n_frames-1 within the clip |
| x_<name>, y_<name> | float32 | cleaned, body-centred pixels (mid-hip subtracted), one pair per keypoint |
| c_<name> | float32 | the pose backend's confidence before cleaning (0 = not found) |

<name> runs over the 19 kept BODY_25 points in BODY_25 order: Nose, Neck,
RShoulder, RElbow, RWrist, LShoulder, LElbow, LWrist, MidHip, RHip, RKnee,
RAnkle, LHip, LKnee, LAnkle, REye, LEye, REar, LEar (57 keypoint columns).
The lips task stores the 20 mouth points instead (layout MOUTH_20: Mouth48 ..
Mouth67, FACE_70 points 48-67, centred on the mouth's centroid); a file's
layout is read from its columns (`layout_of_schema`).

Flat columns rather than list columns: pandas reads them as plain float
columns (`df[["x_Nose", "y_Nose"]]`), a reader can load only the points it
needs, and each column is one smooth signal that zstd compresses well; a
Parquet list column is not smaller on disk (it stores repetition levels).

File key-value metadata (all strings): `alignnet.pose_backend`,
`alignnet.versions` (JSON: alignnet, numpy, scipy, pyarrow),
`alignnet.clean_params` (canonical JSON of the cleaning parameters) and
`alignnet.config_hash` (its sha256). No timestamps: identical input gives a
byte-identical file. A video that failed upstream, or has no kept clip, gets a
file with the schema and no rows.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from alignnet.atomic import atomic_output
from alignnet.errors import DataError
from alignnet.keypoints import BODY_25_LIMBS, DANCE_MIRROR, DANCE_NAMES, MOUTH_MIRROR, MOUTH_NAMES, MOUTH_SEGMENTS


@dataclass(frozen=True)
class KeypointLayout:
    """The points a keypoint table stores: name, point names (column suffixes), left/right mirror permutation,
    and the segments (index pairs) that draw them."""

    name: str
    names: tuple[str, ...]
    mirror: tuple[int, ...]
    segments: tuple[tuple[int, int], ...]

    @property
    def columns(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """(x, y, c) column names, one per point."""
        x, y, c = (tuple(f"{axis}_{n}" for n in self.names) for axis in "xyc")
        return x, y, c


DANCE_LAYOUT = KeypointLayout(
    "DANCE_19",
    DANCE_NAMES,
    tuple(DANCE_MIRROR.tolist()),
    tuple((a, b) for a, b in BODY_25_LIMBS if a < len(DANCE_NAMES) and b < len(DANCE_NAMES)),
)
MOUTH_LAYOUT = KeypointLayout("MOUTH_20", MOUTH_NAMES, tuple(MOUTH_MIRROR.tolist()), MOUTH_SEGMENTS)
TASK_LAYOUTS: dict[str, KeypointLayout] = {"dance": DANCE_LAYOUT, "lips": MOUTH_LAYOUT}


def layout_named(name: str | None) -> KeypointLayout:
    """The layout a packed dataset's meta.json names ("layout"); DANCE_19 when it names none."""
    for layout in TASK_LAYOUTS.values():
        if layout.name == (name or DANCE_LAYOUT.name):
            return layout
    raise ValueError(
        f"unknown keypoint layout {name!r}; known: {', '.join(layout.name for layout in TASK_LAYOUTS.values())}"
    )


KEYPOINT_NAMES: tuple[str, ...] = DANCE_LAYOUT.names
X_COLUMNS, Y_COLUMNS, C_COLUMNS = DANCE_LAYOUT.columns


def table_schema(layout: KeypointLayout = DANCE_LAYOUT) -> pa.Schema:
    """The Parquet schema of a keypoint table of `layout`."""
    xs, ys, cs = layout.columns
    return pa.schema(
        [
            ("clip_id", pa.string()),
            ("video_id", pa.string()),
            ("clip_index", pa.int32()),
            ("start_frame", pa.int32()),
            ("fps", pa.float32()),
            ("frame", pa.int32()),
        ]
        + [(name, pa.float32()) for trio in zip(xs, ys, cs, strict=True) for name in trio]
    )


SCHEMA = table_schema(DANCE_LAYOUT)


def layout_of_schema(schema: pa.Schema, where: str = "table") -> KeypointLayout:
    """The known layout whose x_ columns `schema` has; DataError naming `where` otherwise."""
    names = tuple(n[2:] for n in schema.names if n.startswith("x_"))
    for layout in TASK_LAYOUTS.values():
        if names == layout.names:
            return layout
    raise DataError(f"{where}: keypoint columns {names[:3]}... match no known layout")


def clip_id(video_id: str, clip_index: int) -> str:
    """The dataset-wide clip key, "<video_id>/<clip_index:04d>"."""
    return f"{video_id}/{clip_index:04d}"


@dataclass(frozen=True)
class CleanedClip:
    """One kept clip: xy (frames, K, 2) cleaned centred pixels, confidence (frames, K) raw (K: the layout's points)."""

    clip_index: int
    start_frame: int
    xy: np.ndarray
    confidence: np.ndarray


def clips_to_table(
    video_id: str, fps: float, clips: Sequence[CleanedClip], layout: KeypointLayout = DANCE_LAYOUT
) -> pa.Table:
    """Rows of `clips` in clip_index order, with the schema of `layout`."""
    schema = table_schema(layout)
    x_columns, y_columns, c_columns = layout.columns
    k_points = len(layout.names)
    columns: dict[str, list[np.ndarray]] = {name: [] for name in schema.names}
    for clip in sorted(clips, key=lambda c: c.clip_index):
        n = clip.xy.shape[0]
        if clip.xy.shape != (n, k_points, 2) or clip.confidence.shape != (n, k_points):
            raise ValueError(
                f"clip {clip.clip_index}: xy must be (frames, {k_points}, 2) and confidence (frames, {k_points}), "
                f"got {clip.xy.shape} and {clip.confidence.shape}"
            )
        columns["clip_id"].append(np.full(n, clip_id(video_id, clip.clip_index), dtype=object))
        columns["video_id"].append(np.full(n, video_id, dtype=object))
        columns["clip_index"].append(np.full(n, clip.clip_index, dtype=np.int32))
        columns["start_frame"].append(np.full(n, clip.start_frame, dtype=np.int32))
        columns["fps"].append(np.full(n, fps, dtype=np.float32))
        columns["frame"].append(np.arange(n, dtype=np.int32))
        for k in range(k_points):
            columns[x_columns[k]].append(clip.xy[:, k, 0].astype(np.float32))
            columns[y_columns[k]].append(clip.xy[:, k, 1].astype(np.float32))
            columns[c_columns[k]].append(clip.confidence[:, k].astype(np.float32))
    arrays = [
        pa.array(np.concatenate(parts) if parts else [], type=field.type)
        for field, parts in zip(schema, columns.values(), strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def file_metadata(pose_backend: str, clean_params_json: str, config_hash: str) -> dict[str, str]:
    """The key-value metadata every keypoint file carries (no timestamps)."""
    import scipy

    import alignnet

    versions = {
        "alignnet": alignnet.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pyarrow": pa.__version__,
    }
    return {
        "alignnet.pose_backend": pose_backend,
        "alignnet.versions": json.dumps(versions, sort_keys=True),
        "alignnet.clean_params": clean_params_json,
        "alignnet.config_hash": config_hash,
    }


def write_keypoint_table(path: str | os.PathLike[str], table: pa.Table, metadata: Mapping[str, str]) -> None:
    """Write `table` (a layout's schema) with `metadata` as one zstd Parquet file, atomically and reproducibly."""
    if not table.schema.equals(table_schema(layout_of_schema(table.schema, str(path)))):
        raise ValueError(f"{path}: table schema differs from the keypoint schema")
    table = table.replace_schema_metadata({k: metadata[k] for k in sorted(metadata)})
    with atomic_output(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", use_dictionary=["clip_id", "video_id"])


def _alignnet_metadata(schema: pa.Schema) -> dict[str, str]:
    raw = schema.metadata or {}
    return {k.decode(): v.decode() for k, v in raw.items() if k.startswith(b"alignnet.")}


def read_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The alignnet key-value metadata of one keypoint file."""
    return _alignnet_metadata(pq.read_schema(path))


def _files(source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    """The keypoint files of a directory (searched recursively), one file, or a list of files."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"keypoint dataset not found: {path}")
        files = sorted(str(p) for p in path.rglob("*.parquet")) if path.is_dir() else [str(path)]
    else:
        files = [os.fspath(p) for p in source]
        missing = [f for f in files if not Path(f).exists()]
        if missing:
            raise FileNotFoundError(f"keypoint files not found: {', '.join(missing)}")
    return files


T = TypeVar("T")


def _one_value(by_file: Mapping[str, T], what: str, show: Callable[[T], object] = str, hint: str = "") -> T:
    """The value every file has (by_file non-empty); DataError naming the first file whose value differs."""
    (first, value), *_ = by_file.items()
    for f, other in by_file.items():
        if other != value:
            raise DataError(f"{f}: {what} {show(other)}, but {first} has {show(value)}{hint}")
    return value


@dataclass(frozen=True)
class KeypointFiles:
    """The keypoint files of one dataset, their one layout and the cleaning each records.

    `open` reads each file's Parquet schema once; the readers below take an
    opened KeypointFiles wherever they take a source, so that a stage reading
    several things from many files does not read every footer again.
    cleanings[i]: the canonical JSON of the cleaning paths[i] records, None if it records none;
    backends[i]: the pose backend paths[i] records (None: none).
    """

    paths: tuple[str, ...]
    layout: KeypointLayout
    cleanings: tuple[str | None, ...]
    backends: tuple[str | None, ...] = ()

    @classmethod
    def open(cls, source: KeypointSource) -> KeypointFiles:
        """DataError naming a file whose layout differs from the first file's."""
        if isinstance(source, KeypointFiles):
            return source
        schemas = {f: pq.read_schema(f) for f in _files(source)}
        if not schemas:
            return cls((), DANCE_LAYOUT, ())
        layouts = {f: layout_of_schema(schema, f) for f, schema in schemas.items()}
        metadata = [_alignnet_metadata(schema) for schema in schemas.values()]
        return cls(
            tuple(schemas),
            _one_value(layouts, "layout", lambda layout: layout.name),
            tuple(m.get("alignnet.clean_params") for m in metadata),
            tuple(m.get("alignnet.pose_backend") or None for m in metadata),
        )

    @property
    def clean_params(self) -> str | None:
        """The cleaning every file records (None when there is no file or none records any).

        DataError naming a file whose cleaning differs: one dataset, one cleaning.
        """
        if not self.paths:
            return None
        recorded = dict(zip(self.paths, self.cleanings, strict=True))
        return _one_value(recorded, "cleaning parameters", hint="; clean every video the same way")

    @property
    def pose_backend(self) -> str | None:
        """The pose backend the files record, None when none does; a file that records another one is
        named (DataError): one dataset, one pose backend. (Files of failed videos record none.)"""
        recorded = {p: b for p, b in zip(self.paths, self.backends, strict=True) if b}
        if not recorded:
            return None
        return _one_value(recorded, "pose backend", hint="; run one pose backend over every video")


KeypointSource = str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | KeypointFiles


def keypoint_dataset(source: KeypointSource) -> ds.Dataset:
    """A pyarrow dataset over a directory of keypoint files (or a list of files), all of one layout."""
    files = KeypointFiles.open(source)
    return ds.dataset(list(files.paths), schema=table_schema(files.layout), format="parquet")


def read_clip_starts(source: KeypointSource) -> dict[str, int]:
    """clip_id -> start_frame (the clip's first frame in its normalised video); source as `read_clip_keypoints`."""
    table = keypoint_dataset(source).to_table(columns=["clip_id", "start_frame"])
    frame = table.to_pandas().drop_duplicates("clip_id")
    return dict(zip(frame["clip_id"].astype(str), frame["start_frame"].astype(int), strict=True))


def read_clip_keypoints(source: KeypointSource) -> dict[str, np.ndarray]:
    """clip_id -> (frames, K, 2) float32 cleaned centred pixels, frames in order (K: the files' layout).

    source: a directory of keypoint Parquet files (searched recursively), one
    file, a list of files, or their opened `KeypointFiles`.
    """
    files = KeypointFiles.open(source)
    x_columns, y_columns, _ = files.layout.columns
    table = keypoint_dataset(files).to_table(columns=["clip_id", "frame", *x_columns, *y_columns])
    if table.num_rows == 0:
        return {}
    table = table.sort_by([("clip_id", "ascending"), ("frame", "ascending")])
    ids = table.column("clip_id").to_numpy(zero_copy_only=False)
    x = np.stack([table.column(c).to_numpy() for c in x_columns], axis=1)
    y = np.stack([table.column(c).to_numpy() for c in y_columns], axis=1)
    xy = np.stack([x, y], axis=2).astype(np.float32)  # (rows, K, 2)
    starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    stops = np.append(starts[1:], len(ids))
    return {str(ids[a]): xy[a:b] for a, b in zip(starts, stops, strict=True)}
