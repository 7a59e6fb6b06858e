"""Resolve video sources into a manifest with yt-dlp's flat extraction.

A source is anything yt-dlp takes: a search (`ytsearch200:kpop dance cover`,
`bilisearch100:...`), a playlist, channel or feed URL, or one video URL (a
URL file gives one source per line). Playlists are listed flat
(`extract_flat="in_playlist"`): one request per source, not per video, so
fields the listing lacks (an RSS feed has no uploader, Bilibili's search no
title or duration) are resolved entry by entry (one request each) when a
duration bound or a title filter needs them, and every missing duration and
uploader when `probe` is on; an entry whose probe fails is kept as listed
(the download stage records why).

Entries are deduplicated by (extractor, id), given filesystem-safe unique
ids (`manifest.safe_video_id`; a clash between different videos gets a
`_2` suffix), filtered by duration bounds and title regexes; what is left
out is listed in a rejects TSV (source, url, reason, detail).
"""

from __future__ import annotations

import csv
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yt_dlp
from tqdm import tqdm
from yt_dlp.extractor.generic import GenericIE
from yt_dlp.utils import DownloadError, unsmuggle_url

from alignnet.atomic import atomic_output
from alignnet.data.download import YtDlpLogger, classify_error, deno_path, site_params
from alignnet.data.manifest import ManifestEntry, is_valid_url, safe_video_id
from alignnet.errors import UserInputError
from alignnet.stage_status import Reason

log = logging.getLogger(__name__)

REJECT_COLUMNS = ("source", "url", "reason", "detail")
DURATION_OUT_OF_RANGE = "duration_out_of_range"
TITLE_EXCLUDED = "title_excluded"


@dataclass(frozen=True)
class Reject:
    """Something left out of the manifest: a failed source, a bad URL or a filtered video."""

    source: str
    url: str
    reason: str
    detail: str


@dataclass(frozen=True)
class DiscoverSettings:
    """Filters of `discover`: durations in seconds (None: unbounded), title regexes (case-insensitive)."""

    min_duration: float | None = None
    max_duration: float | None = None
    exclude_title: tuple[str, ...] = ()
    probe: bool = False
    socket_timeout: float = 30.0
    retries: int = 3
    cookies: Path | None = None
    sleep_requests: float = 0.0

    @property
    def bounded(self) -> bool:
        return self.min_duration is not None or self.max_duration is not None


@dataclass
class DiscoverResult:
    entries: list[ManifestEntry] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    failed_sources: list[str] = field(default_factory=list)
    ok_sources: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Candidate:
    key: tuple[str, str]  # (extractor, yt-dlp id): the identity used for deduplication
    entry: ManifestEntry
    probe_url: str  # the URL to resolve fully (may carry yt-dlp's smuggled data)


def read_url_file(path: str | os.PathLike[str]) -> tuple[list[tuple[str, str]], list[Reject]]:
    """(label "FILE:LINE", url) of each valid line of a URL file, and rejects for the others.

    One URL per line; blank lines and lines starting with # are skipped;
    text after " #" on a line is a comment.
    """
    file = Path(path)
    if not file.is_file():
        raise UserInputError(f"URL file not found: {file}")
    sources: list[tuple[str, str]] = []
    rejects: list[Reject] = []
    for lineno, raw in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        line = re.split(r"\s+#", raw, maxsplit=1)[0].strip()
        if not line or line.startswith("#"):
            continue
        label = f"{file}:{lineno}"
        if is_valid_url(line):
            sources.append((label, line))
        else:
            rejects.append(Reject(label, line, Reason.INVALID_URL, f"{label}: {line!r} is not an http(s) URL"))
    return sources, rejects


def _ydl_params(settings: DiscoverSettings, flat: bool) -> dict[str, Any]:
    js_path = deno_path()
    params: dict[str, Any] = {
        "skip_download": True,
        "quiet": True,
        "no_color": True,
        "noprogress": True,
        "logger": YtDlpLogger(),  # sources have a tqdm bar; yt-dlp's messages go to logging
        "socket_timeout": settings.socket_timeout,
        "extractor_retries": settings.retries,
        "js_runtimes": {"deno": {"path": js_path} if js_path else {}},
        **site_params(settings.cookies, settings.sleep_requests),
    }
    if flat:
        params["extract_flat"] = "in_playlist"
    return params


def _iter_entries(info: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The video entries of a resolved source (nested playlists flattened)."""
    if info.get("_type") == "playlist" or "entries" in info:
        for entry in info.get("entries") or []:
            if entry:
                entry.setdefault("__parent_extractor", info.get("extractor_key") or info.get("ie_key") or "")
                yield from _iter_entries(entry)
    else:
        yield info


def _candidate(info: dict[str, Any], source: str) -> _Candidate | None:
    """A manifest candidate from one flat (url/url_transparent) or resolved (video) entry."""
    probe_url = info.get("url") if info.get("_type") in ("url", "url_transparent") else None
    probe_url = probe_url or info.get("webpage_url") or info.get("original_url") or info.get("url")
    if not probe_url:
        return None
    page_url, smuggled = unsmuggle_url(probe_url, {})
    if info.get("_type") not in ("url", "url_transparent"):
        page_url = info.get("webpage_url") or page_url
    raw_id = info.get("id") or smuggled.get("force_videoid") or GenericIE._generic_id(page_url)
    extractor = info.get("ie_key") or info.get("extractor_key") or info.get("__parent_extractor") or "generic"
    uploader = info.get("uploader") or info.get("channel") or info.get("creator") or info.get("artist") or ""
    duration = info.get("duration")
    entry = ManifestEntry(
        video_id=safe_video_id(str(raw_id)),
        url=page_url,
        title=str(info.get("title") or ""),
        uploader=str(uploader),
        duration=float(duration) if isinstance(duration, (int, float)) and duration > 0 else None,
        source=source,
    )
    return _Candidate((extractor.lower(), str(raw_id)), entry, probe_url)


def _probe(ydl: yt_dlp.YoutubeDL, cand: _Candidate) -> _Candidate:
    """Fill the duration, uploader and title a flat listing left empty by resolving the entry."""
    info = ydl.extract_info(cand.probe_url, download=False)
    entry = cand.entry
    duration = info.get("duration")
    return replace(
        cand,
        entry=replace(
            entry,
            duration=entry.duration if entry.duration is not None else (float(duration) if duration else None),
            uploader=entry.uploader or str(info.get("uploader") or info.get("channel") or ""),
            title=entry.title or str(info.get("title") or ""),
        ),
    )


def _needs_probe(entry: ManifestEntry, settings: DiscoverSettings, title_filtered: bool) -> bool:
    """Whether to resolve a flat entry: a filter needs what it lacks (search results such as Bilibili's carry
    no duration or title), or --probe-durations asks for every missing duration and uploader."""
    if (settings.bounded and entry.duration is None) or (title_filtered and not entry.title):
        return True
    return settings.probe and (entry.duration is None or not entry.uploader)


def _filter_reason(entry: ManifestEntry, settings: DiscoverSettings, patterns: list[re.Pattern[str]]) -> Reject | None:
    d = entry.duration
    if d is not None and settings.min_duration is not None and d < settings.min_duration:
        return Reject(
            entry.source, entry.url, DURATION_OUT_OF_RANGE, f"{d:g} s < --min-duration {settings.min_duration:g}"
        )
    if d is not None and settings.max_duration is not None and d > settings.max_duration:
        return Reject(
            entry.source, entry.url, DURATION_OUT_OF_RANGE, f"{d:g} s > --max-duration {settings.max_duration:g}"
        )
    for pattern in patterns:
        if pattern.search(entry.title):
            return Reject(entry.source, entry.url, TITLE_EXCLUDED, f"title {entry.title!r} matches {pattern.pattern!r}")
    return None


def discover(
    sources: list[str],
    settings: DiscoverSettings,
    url_file: str | os.PathLike[str] | None = None,
) -> DiscoverResult:
    """Resolve `sources` (and the lines of `url_file`) into deduplicated, filtered manifest entries."""
    try:
        patterns = [re.compile(p, re.IGNORECASE) for p in settings.exclude_title]
    except re.error as exc:
        raise UserInputError(f"--exclude-title {exc.pattern!r}: invalid regex ({exc})") from exc
    result = DiscoverResult()
    labelled = [(s, s) for s in sources]
    if url_file is not None:
        file_sources, file_rejects = read_url_file(url_file)
        labelled += file_sources
        result.rejects += file_rejects
        result.failed_sources += [r.source for r in file_rejects]
    candidates: dict[tuple[str, str], _Candidate] = {}
    with yt_dlp.YoutubeDL(_ydl_params(settings, flat=True)) as flat:
        for label, source in tqdm(labelled, desc="sources", unit="source", disable=None):
            try:
                info = flat.extract_info(source, download=False)
            except DownloadError as exc:
                reason, detail = classify_error(exc)
                log.warning("source %s failed (%s): %s", label, reason, detail)
                result.rejects.append(Reject(label, source, reason, detail))
                result.failed_sources.append(label)
                continue
            result.ok_sources.append(label)
            for item in _iter_entries(info or {}):
                cand = _candidate(item, label)
                if cand is not None and cand.key not in candidates:
                    candidates[cand.key] = cand
    needs_probe = [k for k, c in candidates.items() if _needs_probe(c.entry, settings, bool(patterns))]
    if needs_probe:
        with yt_dlp.YoutubeDL(_ydl_params(settings, flat=False)) as full:
            for key in tqdm(needs_probe, desc="probing", unit="video", disable=None):
                try:
                    candidates[key] = _probe(full, candidates[key])
                except DownloadError as exc:
                    # kept as listed: the download stage records why it is unavailable
                    reason, detail = classify_error(exc)
                    log.warning("probing %s failed (%s), kept unprobed: %s", candidates[key].entry.url, reason, detail)
    used: dict[str, tuple[str, str]] = {}
    for key, cand in candidates.items():
        entry = cand.entry
        rejected = _filter_reason(entry, settings, patterns)
        if rejected is not None:
            result.rejects.append(rejected)
            continue
        video_id, n = entry.video_id, 1
        while video_id in used and used[video_id] != key:
            n += 1
            video_id = f"{entry.video_id}_{n}"
        used[video_id] = key
        result.entries.append(replace(entry, video_id=video_id))
    return result


def write_rejects(rejects: list[Reject], path: str | os.PathLike[str]) -> None:
    """Write the rejects TSV (source, url, reason, detail) atomically."""

    def clean(text: str) -> str:
        return re.sub(r"[\t\r\n]+", " ", str(text))

    with atomic_output(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar="\\")
        writer.writerow(REJECT_COLUMNS)
        writer.writerows([clean(r.source), clean(r.url), clean(r.reason), clean(r.detail)] for r in rejects)
