"""Download one manifest video with yt-dlp, check it with ffprobe, record the outcome.

`download_video(entry, outdir, settings)` writes

    OUTDIR/video.mp4     the video (at most `max_height` video + best audio, mp4)
    OUTDIR/info.json     yt-dlp's sanitized info subset (INFO_KEYS)
    OUTDIR/status.json   StageStatus(stage="download", ok=...)

yt-dlp writes into a temporary directory beside OUTDIR, and the file is moved
into place only once ffprobe has found a video stream with a positive
duration, so OUTDIR/video.mp4 is never partial. A failure (HTTP error,
dropped or truncated transfer, unsupported URL, corrupt file) writes no
video.mp4 and a status with its `Reason`; the job still succeeds. A fault of
the machine or network (alignnet.faults: no space, the site down, HTTP 429/5xx
after retries) raises EnvironmentFault instead: nothing is recorded.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg
import yt_dlp
from yt_dlp.networking.exceptions import HTTPError, TransportError
from yt_dlp.utils import ContentTooShortError, DownloadError, UnsupportedError

from alignnet.atomic import atomic_output
from alignnet.data.manifest import ManifestEntry, is_valid_url
from alignnet.faults import failed_status
from alignnet.stage_status import Reason, StageFailure, StageStatus

log = logging.getLogger(__name__)

STAGE = "download"
VIDEO_FILE = "video.mp4"
INFO_FILE = "info.json"
FORMAT_TEMPLATE = "bv*[height<={h}]+ba/b[height<={h}]/bv*+ba/b"
INFO_KEYS = (
    "id",
    "title",
    "uploader",
    "channel",
    "duration",
    "webpage_url",
    "extractor_key",
    "format",
    "format_id",
    "ext",
    "width",
    "height",
    "fps",
    "vcodec",
    "acodec",
)
FAILURE_COLUMNS = ("video_id", "url", "reason", "detail", "retryable")


@dataclass(frozen=True)
class DownloadSettings:
    """yt-dlp settings of one download job.

    max_height: pixels; retries: attempts after the first, for HTTP, fragments
    and extraction; backoff: seconds before the first retry, doubled each time
    (capped at 60 s); rate_limit: bytes/s; js_runtime: path of the deno binary
    (None: the one from the `deno` package, if installed); sleep_interval:
    seconds to wait before the download (a random wait up to
    max_sleep_interval when that is set); sleep_requests: seconds between
    the requests of the extraction (yt-dlp's --sleep-requests).
    """

    archive: Path | None = None
    max_height: int = 720
    retries: int = 5
    backoff: float = 1.0
    rate_limit: int | None = None
    cookies: Path | None = None
    js_runtime: str | None = None
    socket_timeout: float = 30.0
    sleep_interval: float = 0.0
    max_sleep_interval: float | None = None
    sleep_requests: float = 0.0


def site_params(cookies: Path | None, sleep_requests: float) -> dict[str, Any]:
    """YoutubeDL params that discovery and downloads share: the cookies file, the pause between requests."""
    params: dict[str, Any] = {}
    if cookies is not None:
        params["cookiefile"] = str(cookies)
    if sleep_requests > 0:
        params["sleep_interval_requests"] = sleep_requests
    return params


def deno_path() -> str | None:
    """The deno binary shipped by the `deno` PyPI package, or None if absent."""
    try:
        import deno
    except ImportError:
        return None
    try:
        return deno.find_deno_bin()
    except FileNotFoundError:
        return None


def exponential_backoff(base: float, cap: float = 60.0) -> Callable[[int], float]:
    """Sleep time (s) before retry n (0-based): base * 2**n, at most `cap`."""

    def sleep(n: int) -> float:
        return min(cap, base * 2.0**n)

    return sleep


class YtDlpLogger:
    """Routes yt-dlp's messages to Python logging instead of raw stdout/stderr."""

    def debug(self, msg: str) -> None:
        if msg.startswith("[debug] "):
            log.debug("%s", msg[8:])
        else:
            log.info("%s", msg.replace("\r", ""))

    def info(self, msg: str) -> None:
        log.info("%s", msg)

    def warning(self, msg: str) -> None:
        # expected on every non-site URL (our loopback site, feeds): not worth a warning
        quiet = "Falling back on generic information extractor" in msg
        log.log(logging.DEBUG if quiet else logging.WARNING, "%s", msg)

    def error(self, msg: str) -> None:
        log.debug("%s", msg)  # also raised as DownloadError and recorded


def console_params() -> dict[str, Any]:
    """yt-dlp's own progress on a terminal; otherwise no progress and messages through logging."""
    if sys.stderr.isatty():
        return {"noprogress": False}
    return {"noprogress": True, "quiet": True, "logger": YtDlpLogger()}


def ytdlp_options(outtmpl: str, settings: DownloadSettings) -> dict[str, Any]:
    """The YoutubeDL params of one download (see yt_dlp/YoutubeDL.py for each key)."""
    sleep = exponential_backoff(settings.backoff)
    js_path = settings.js_runtime or deno_path()
    params: dict[str, Any] = {
        "format": FORMAT_TEMPLATE.format(h=settings.max_height),
        "merge_output_format": "mp4",
        "postprocessors": [{"key": "FFmpegVideoRemuxer", "preferedformat": "mp4"}],
        "outtmpl": {"default": outtmpl},
        "noplaylist": True,
        "retries": settings.retries,
        "fragment_retries": settings.retries,
        "extractor_retries": settings.retries,
        "retry_sleep_functions": {"http": sleep, "fragment": sleep, "extractor": sleep},
        "socket_timeout": settings.socket_timeout,
        **console_params(),
        "no_color": True,
        "overwrites": True,
        "js_runtimes": {"deno": {"path": js_path} if js_path else {}},
    }
    if settings.archive is not None:
        params["download_archive"] = str(settings.archive)
    if settings.rate_limit is not None:
        params["ratelimit"] = settings.rate_limit
    if settings.sleep_interval > 0:
        params["sleep_interval"] = settings.sleep_interval
        if settings.max_sleep_interval is not None and settings.max_sleep_interval > settings.sleep_interval:
            params["max_sleep_interval"] = settings.max_sleep_interval
    params.update(site_params(settings.cookies, settings.sleep_requests))
    return params


_MESSAGE_REASONS: tuple[tuple[str, Reason], ...] = (
    (r"HTTP Error \d{3}", Reason.HTTP_ERROR),
    (r"Unsupported URL|is not a valid URL|Invalid URL|No connection adapters", Reason.INVALID_URL),
    (
        r"bytes read, \d+ more expected|Downloaded \d+ bytes, expected|Connection (?:reset|broken|refused|aborted)"
        r"|timed out|IncompleteRead|Name or service not known|Failed to resolve",
        Reason.NETWORK_ERROR,
    ),
    (r"Did not get any data blocks|downloaded file is empty", Reason.CORRUPT_FILE),  # a 0-byte file
)


def classify_error(exc: BaseException) -> tuple[Reason, str]:
    """The Reason of a yt-dlp failure, and a one-line detail message.

    Looks at the exception chain first (HTTPError, TransportError,
    ContentTooShortError, UnsupportedError), then at the message, since
    yt-dlp reports download retries that gave up as a plain DownloadError.
    Anything else (removed, private, no formats) is `unavailable`.
    """
    detail = re.sub(r"\s+", " ", re.sub(r"^ERROR:\s*", "", str(exc))).strip()
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        inner = getattr(current, "exc_info", None)
        nxt = inner[1] if isinstance(inner, tuple) and len(inner) > 1 else None
        current = nxt or getattr(current, "cause", None) or current.__cause__
    for err in chain:
        if isinstance(err, HTTPError):
            return Reason.HTTP_ERROR, detail
        if isinstance(err, UnsupportedError):
            return Reason.INVALID_URL, detail
        if isinstance(err, (TransportError, ContentTooShortError)):
            return Reason.NETWORK_ERROR, detail
    for pattern, reason in _MESSAGE_REASONS:
        if re.search(pattern, detail):
            return reason, detail
    return Reason.UNAVAILABLE, detail


def check_video_file(path: Path) -> float:
    """Duration (s) of a downloaded file; StageFailure unless ffprobe finds a video stream and duration > 0."""
    try:
        probe = ffmpeg.probe(str(path))
    except ffmpeg.Error as exc:
        stderr = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise StageFailure(
            Reason.CORRUPT_FILE, f"ffprobe cannot read {path.name}: {stderr[-1] if stderr else exc}"
        ) from exc
    if not any(s.get("codec_type") == "video" for s in probe.get("streams", [])):
        raise StageFailure(Reason.NO_VIDEO_STREAM, f"{path.name} has no video stream")
    try:
        duration = float(probe["format"]["duration"])
    except (KeyError, ValueError):
        duration = 0.0
    if not duration > 0:
        raise StageFailure(Reason.CORRUPT_FILE, f"{path.name} has no positive duration")
    return duration


def _info_subset(info: dict[str, Any]) -> dict[str, Any]:
    clean = yt_dlp.YoutubeDL.sanitize_info(info)
    return {key: clean.get(key) for key in INFO_KEYS if clean.get(key) is not None}


def _fetch(entry: ManifestEntry, tmpdir: Path, settings: DownloadSettings) -> tuple[Path | None, dict[str, Any]]:
    """Run yt-dlp into `tmpdir`; (file, info), file None when the archive skipped it."""
    if not is_valid_url(entry.url):
        raise StageFailure(Reason.INVALID_URL, f"{entry.url!r} is not an http(s) URL")
    params = ytdlp_options(str(tmpdir / "video.%(ext)s"), settings)
    try:
        with yt_dlp.YoutubeDL(params) as ydl:
            info = ydl.extract_info(entry.url, download=True)
    except DownloadError as exc:
        raise StageFailure(*classify_error(exc)) from exc
    if info is None:
        if settings.archive is not None:
            # Extractors that read the id from the URL (YouTube's) are checked against the archive before
            # extraction, and extract_info returns None for a listed id: skipped, like a listed generic video.
            return None, {}
        raise StageFailure(Reason.UNAVAILABLE, f"yt-dlp returned nothing for {entry.url}")
    if info.get("_type") == "playlist":
        raise StageFailure(Reason.INVALID_URL, f"{entry.url} is a playlist, not one video")
    downloads = info.get("requested_downloads") or []
    if not downloads:
        return None, info
    return Path(downloads[-1]["filepath"]), info


def download_video(entry: ManifestEntry, outdir: str | os.PathLike[str], settings: DownloadSettings) -> StageStatus:
    """Download `entry` into OUTDIR (see the module doc); returns the status written."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / VIDEO_FILE
    tmpdir = Path(tempfile.mkdtemp(prefix=".download.", dir=out))  # inside OUTDIR: gone with a killed job's staging
    try:
        path, info = _fetch(entry, tmpdir, settings)
        if path is None and not target.exists():
            # A stale archive line (the video was downloaded once, its file is gone, e.g. a forced rerun):
            # download it again, without the archive, which already lists it.
            log.info(
                "%s is in the archive %s but %s is missing: downloading it again", entry.url, settings.archive, target
            )
            path, info = _fetch(entry, tmpdir, dataclasses.replace(settings, archive=None))
            if path is None:
                raise StageFailure(Reason.UNAVAILABLE, f"yt-dlp downloaded nothing for {entry.url}")
        if path is None:
            check_video_file(target)
            status = StageStatus(STAGE, True, detail=f"already downloaded (in archive {settings.archive})")
        else:
            check_video_file(path)
            os.replace(path, target)
            status = StageStatus(STAGE, True)
        if info and (path is not None or not (out / INFO_FILE).exists()):
            with atomic_output(out / INFO_FILE) as tmp:
                text = json.dumps(_info_subset(info), indent=1, ensure_ascii=False)
                tmp.write_text(text + "\n", encoding="utf-8")
    except StageFailure as failure:
        status = failed_status(STAGE, failure, f"download {entry.video_id} ({entry.url})")
        log.warning("download %s (%s) failed: %s", entry.video_id, entry.url, failure)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    status.write(out)
    return status


def gather_failures(
    status_dirs: Iterable[str | os.PathLike[str]],
    manifest: list[ManifestEntry],
    out_path: str | os.PathLike[str],
) -> int:
    """Write a TSV (video_id, url, reason, detail, retryable) of the failed downloads; returns their count.

    Each status directory is named after its video id (results/download/<id>/);
    a directory with no status.json is reported with reason "missing_status".
    """
    urls = {e.video_id: e.url for e in manifest}
    rows: list[tuple[str, str, str, str, str]] = []
    for directory in status_dirs:
        d = Path(directory)
        status = StageStatus.read(d)
        if status is None:
            rows.append((d.name, urls.get(d.name, ""), "missing_status", f"no status.json in {d}", "false"))
        elif not status.ok:
            detail = re.sub(r"[\t\r\n]+", " ", status.detail)
            rows.append((d.name, urls.get(d.name, ""), status.reason, detail, str(status.retryable).lower()))
    rows.sort()
    with atomic_output(out_path) as tmp, tmp.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar="\\")
        writer.writerow(FAILURE_COLUMNS)
        writer.writerows(rows)
    return len(rows)
