"""The video manifest: one TSV row per video, written by `discover`, read by every later stage.

Columns (header row required, tab-separated, UTF-8):

    video_id  url  title  uploader  duration  source

Only video_id and url are required; a hand-written manifest may leave out the
other columns or leave them empty. duration is in seconds (empty: unknown).
video_id must be filesystem-safe (letters, digits, `_`, `-`, `.`; not starting
with `-` or `.`) and unique: it names each video's directories.
Fields are plain text (no quoting); tabs and newlines in titles are written
as spaces.
"""

from __future__ import annotations

import csv
import math
import os
import re
import urllib.parse
from dataclasses import dataclass, fields
from pathlib import Path

from alignnet.atomic import atomic_output
from alignnet.errors import UserInputError

MANIFEST_COLUMNS = ("video_id", "url", "title", "uploader", "duration", "source")
REQUIRED_COLUMNS = ("video_id", "url")
VIDEO_ID_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class ManifestEntry:
    """One video of the manifest; duration in seconds or None when unknown."""

    video_id: str
    url: str
    title: str = ""
    uploader: str = ""
    duration: float | None = None
    source: str = ""


def safe_video_id(raw: str) -> str:
    """A filesystem-safe id from an extractor's id, kept readable.

    Characters outside [A-Za-z0-9_.-] become `_` (runs collapse); a leading
    `-` or `.` gets a `_` prefix, so the id is never an option or a hidden file.
    """
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", raw.strip())
    if not safe:
        return "_"
    if safe[0] in "-.":
        safe = "_" + safe
    return safe[:120]


def is_valid_url(url: str) -> bool:
    """An absolute http(s) URL with a host and no whitespace."""
    if not url or re.search(r"\s", url):
        return False
    parts = urllib.parse.urlsplit(url)
    try:
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _clean_field(value: str) -> str:
    return re.sub(r"[\t\r\n]+", " ", value).strip()


def _format_duration(duration: float | None) -> str:
    if duration is None:
        return ""
    return f"{duration:g}" if float(duration).is_integer() else f"{duration:.3f}"


def write_manifest(entries: list[ManifestEntry], path: str | os.PathLike[str]) -> None:
    """Write `entries` to `path` atomically (ids must be unique and safe)."""
    seen: set[str] = set()
    for entry in entries:
        if not VIDEO_ID_RE.fullmatch(entry.video_id):
            raise ValueError(f"manifest entry {entry.url}: video_id {entry.video_id!r} is not filesystem-safe")
        if entry.video_id in seen:
            raise ValueError(f"manifest entry {entry.url}: duplicate video_id {entry.video_id!r}")
        seen.add(entry.video_id)
    with atomic_output(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar=None)
        writer.writerow(MANIFEST_COLUMNS)
        for e in entries:
            writer.writerow(
                [
                    e.video_id,
                    _clean_field(e.url),
                    _clean_field(e.title),
                    _clean_field(e.uploader),
                    _format_duration(e.duration),
                    _clean_field(e.source),
                ]
            )


def _parse_duration(text: str, where: str) -> float | None:
    if text.strip() == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise UserInputError(f"{where}: duration {text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise UserInputError(f"{where}: duration {text!r} must be a finite number >= 0")
    return value


def read_manifest(path: str | os.PathLike[str]) -> list[ManifestEntry]:
    """Read and validate a manifest; errors name the file, line and column."""
    manifest = Path(path)
    if not manifest.is_file():
        raise UserInputError(f"manifest not found: {manifest}")
    with manifest.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows:
        raise UserInputError(f"{manifest}: empty manifest (expected a header row: {' '.join(MANIFEST_COLUMNS)})")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise UserInputError(
            f"{manifest}:1: header {header} lacks column(s) {', '.join(missing)}; "
            f"expected tab-separated columns {', '.join(MANIFEST_COLUMNS)}"
        )
    unknown = [h for h in header if h not in MANIFEST_COLUMNS]
    if unknown:
        raise UserInputError(
            f"{manifest}:1: unknown column(s) {', '.join(unknown)}; allowed: {', '.join(MANIFEST_COLUMNS)}"
        )
    entries: list[ManifestEntry] = []
    first_line: dict[str, int] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        where = f"{manifest}:{lineno}"
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise UserInputError(f"{where}: {len(row)} tab-separated fields, the header has {len(header)}")
        values = dict(zip(header, (cell.strip() for cell in row), strict=True))
        video_id, url = values["video_id"], values["url"]
        if not VIDEO_ID_RE.fullmatch(video_id):
            raise UserInputError(
                f"{where}: video_id {video_id!r} is not filesystem-safe (letters, digits, _ - . only; "
                "not starting with - or .)"
            )
        if video_id in first_line:
            raise UserInputError(f"{where}: duplicate video_id {video_id!r} (first on line {first_line[video_id]})")
        if not url:
            raise UserInputError(f"{where}: empty url")
        # A malformed URL is that video's problem, not the manifest's: the
        # download stage records it as invalid_url and the others go on.
        first_line[video_id] = lineno
        known = {f.name for f in fields(ManifestEntry)}
        kwargs = {k: v for k, v in values.items() if k in known and k not in ("duration",)}
        entries.append(ManifestEntry(**kwargs, duration=_parse_duration(values.get("duration", ""), where)))
    return entries


def find_entry(
    entries: list[ManifestEntry], video_id: str, manifest: str | os.PathLike[str] = "manifest"
) -> ManifestEntry:
    """The entry with `video_id`; UserInputError naming the manifest if absent."""
    for entry in entries:
        if entry.video_id == video_id:
            return entry
    raise UserInputError(f"video id {video_id!r} is not in {manifest}")
