"""Faults the loopback video site can inject on chosen videos.

Each fault imitates something a real video site does to a downloader:

- `404`: the video was removed (page and file answer 404 Not Found);
- `500`: the site is broken (page and file answer 500 Internal Server Error);
- `drop`: the connection is reset (TCP RST) halfway through the file;
- `truncate`: the file's Content-Length promises the whole file but the
  connection is closed cleanly after 60 % of it;
- `slow`: the file arrives in small pieces spread over a bounded time;
- `corrupt`: the file is served completely and consistently, but its bytes
  are not a video (a broken upload).

`drop` and `truncate` cut at a fixed offset of the file, so a downloader that
resumes with a Range request gets nothing more past it and eventually gives up.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from alignnet.errors import UserInputError


class FaultKind(StrEnum):
    NOT_FOUND = "404"
    SERVER_ERROR = "500"
    DROP = "drop"
    TRUNCATE = "truncate"
    SLOW = "slow"
    CORRUPT = "corrupt"


# Fraction of the file after which `drop` resets and `truncate` closes.
DROP_AT = 0.5
TRUNCATE_AT = 0.6


@dataclass(frozen=True)
class FaultPlan:
    """Which fault (if any) each video gets, and how slow `slow` is.

    kinds: video id -> fault. slow_seconds: the total time a `slow` file
    takes to send (bounded, so downloads still finish).
    """

    kinds: dict[str, FaultKind]
    slow_seconds: float = 1.5

    def kind(self, video_id: str) -> FaultKind | None:
        return self.kinds.get(video_id)

    def cut_offset(self, video_id: str, size: int) -> int | None:
        """Byte offset (of the file) where the transfer stops, or None."""
        kind = self.kinds.get(video_id)
        if kind is FaultKind.DROP:
            return int(size * DROP_AT)
        if kind is FaultKind.TRUNCATE:
            return int(size * TRUNCATE_AT)
        return None


def parse_fault(spec: str) -> tuple[str, FaultKind]:
    """Parse "VIDEO_ID=KIND" (e.g. "v003=404") into (video id, kind)."""
    video_id, sep, kind = spec.partition("=")
    if not sep or not video_id:
        raise UserInputError(f"fault {spec!r}: expected VIDEO_ID=KIND")
    try:
        return video_id, FaultKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in FaultKind)
        raise UserInputError(f"fault {spec!r}: unknown kind {kind!r}; choose from {choices}") from None


def fault_plan(specs: list[str] | dict[str, str | FaultKind] | None, slow_seconds: float = 1.5) -> FaultPlan:
    """A FaultPlan from CLI specs ["v1=404", ...] or a mapping {"v1": "404"}."""
    if specs is None:
        return FaultPlan({}, slow_seconds)
    if isinstance(specs, dict):
        pairs = [parse_fault(f"{vid}={kind}") for vid, kind in specs.items()]
    else:
        pairs = [parse_fault(spec) for spec in specs]
    return FaultPlan(dict(pairs), slow_seconds)


def corrupt_bytes(start: int, end: int) -> bytes:
    """Deterministic non-video bytes for file offsets [start, end)."""
    pattern = b"NOT-A-VIDEO-" * 16
    offset, count = start % len(pattern), end - start
    return (pattern * ((offset + count) // len(pattern) + 1))[offset : offset + count]
