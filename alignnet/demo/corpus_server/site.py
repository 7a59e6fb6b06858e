"""A corpus directory served as a small video site on loopback, for yt-dlp.

The corpus is DIR/<video_id>.mp4 with a sidecar DIR/<video_id>.json holding
at least video_id, title, uploader (or dancer) and duration in seconds
(ffprobe fills a missing duration). The site has

- /feed.xml: an RSS 2.0 feed of every video. yt-dlp's generic extractor
  (`GenericIE._extract_rss`) reads it as a playlist: one entry per `<item>`,
  the URL from `<enclosure url>` or else `<link>`, the id from `<guid>`, the
  title from `<title>`, the duration from `<itunes:duration>`. Items link to
  the watch pages (no enclosure), so a download through the feed goes
  through the page and gets its metadata;
- /watch/<id>: an HTML page with Open Graph tags (og:title, og:video,
  video:duration), `<meta name="author">` and a schema.org VideoObject in
  JSON-LD (name, author, duration, contentUrl), which the generic extractor
  turns into title, uploader, duration and the file URL. (No <video> tag:
  yt-dlp's HTML5 embed extractor would take it first and lose the metadata);
- /videos/<id>.mp4: the file, with HEAD, byte ranges (206 + Content-Range,
  416 when unsatisfiable) and the faults of `faults.FaultPlan`;
- /: an HTML index of the pages (for people; yt-dlp does not list it).

Use it as a context manager: `with CorpusServer(dir, port=0) as server:`
then `server.url`. It binds loopback addresses only.
"""

from __future__ import annotations

import html
import ipaddress
import json
import logging
import re
import socket
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from xml.etree import ElementTree

import ffmpeg

from alignnet.demo.corpus_server.faults import (
    FaultKind,
    FaultPlan,
    corrupt_bytes,
    fault_plan,
)
from alignnet.errors import UserInputError

log = logging.getLogger(__name__)

ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
_CHUNK = 64 * 1024
_SLOW_PIECES = 16


@dataclass(frozen=True)
class CorpusVideo:
    """One servable video: its file and sidecar metadata (duration in seconds)."""

    video_id: str
    path: Path
    title: str
    uploader: str
    duration: float

    @property
    def size(self) -> int:
        return self.path.stat().st_size


@dataclass(frozen=True)
class RequestRecord:
    """One answered request, as the tests inspect them."""

    method: str
    path: str
    status: int
    range: str | None


def _probe_duration(path: Path) -> float:
    try:
        return float(ffmpeg.probe(str(path))["format"]["duration"])
    except (ffmpeg.Error, KeyError, ValueError) as exc:
        raise UserInputError(f"corpus video {path}: ffprobe found no duration ({exc})") from exc


def load_corpus(directory: str | Path) -> dict[str, CorpusVideo]:
    """The videos of a corpus directory: every *.mp4 with a <stem>.json sidecar, by id."""
    root = Path(directory)
    if not root.is_dir():
        raise UserInputError(f"corpus directory not found: {root}")
    videos: dict[str, CorpusVideo] = {}
    for mp4 in sorted(root.glob("*.mp4")):
        sidecar = mp4.with_suffix(".json")
        if not sidecar.is_file():
            log.debug("skipping %s: no sidecar %s", mp4, sidecar.name)
            continue
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise UserInputError(f"corpus sidecar {sidecar}: invalid JSON ({exc})") from exc
        video_id = str(meta.get("video_id") or mp4.stem)
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", video_id):
            raise UserInputError(f"corpus sidecar {sidecar}: video_id {video_id!r} is not URL-safe")
        if video_id in videos:
            raise UserInputError(f"corpus sidecar {sidecar}: duplicate video_id {video_id!r}")
        duration = meta.get("duration")
        videos[video_id] = CorpusVideo(
            video_id=video_id,
            path=mp4,
            title=str(meta.get("title") or video_id),
            uploader=str(meta.get("uploader") or meta.get("dancer") or ""),
            duration=float(duration) if duration not in (None, "") else _probe_duration(mp4),
        )
    if not videos:
        raise UserInputError(f"corpus directory {root} has no *.mp4 with a .json sidecar")
    return videos


def page_url(base_url: str, video_id: str) -> str:
    return f"{base_url}/watch/{urllib.parse.quote(video_id)}"


def file_url(base_url: str, video_id: str) -> str:
    return f"{base_url}/videos/{urllib.parse.quote(video_id)}.mp4"


def render_feed(videos: dict[str, CorpusVideo], base_url: str, title: str = "alignnet demo corpus") -> bytes:
    """The RSS feed (UTF-8 XML) listing every video's watch page."""
    ElementTree.register_namespace("itunes", ITUNES_NS)
    rss = ElementTree.Element("rss", {"version": "2.0"})
    channel = ElementTree.SubElement(rss, "channel")
    ElementTree.SubElement(channel, "title").text = title
    ElementTree.SubElement(channel, "link").text = f"{base_url}/"
    ElementTree.SubElement(channel, "description").text = f"{len(videos)} dance videos"
    for video in videos.values():
        item = ElementTree.SubElement(channel, "item")
        ElementTree.SubElement(item, "title").text = video.title
        ElementTree.SubElement(item, "link").text = page_url(base_url, video.video_id)
        ElementTree.SubElement(item, "guid", {"isPermaLink": "false"}).text = video.video_id
        ElementTree.SubElement(item, "author").text = video.uploader
        ElementTree.SubElement(item, f"{{{ITUNES_NS}}}author").text = video.uploader
        ElementTree.SubElement(item, f"{{{ITUNES_NS}}}duration").text = f"{video.duration:.3f}"
    return ElementTree.tostring(rss, encoding="utf-8", xml_declaration=True)


def render_page(video: CorpusVideo, base_url: str) -> bytes:
    """The watch page (UTF-8 HTML) with Open Graph tags and a JSON-LD VideoObject."""
    mp4 = file_url(base_url, video.video_id)
    json_ld = {
        "@context": "https://schema.org",
        "@type": "VideoObject",
        "name": video.title,
        "author": {"@type": "Person", "name": video.uploader},
        "duration": f"PT{video.duration:.3f}S",
        "contentUrl": mp4,
    }
    ld_text = json.dumps(json_ld, ensure_ascii=False).replace("</", "<\\/")
    e = html.escape
    text = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8">
<title>{e(video.title)}</title>
<meta property="og:type" content="video.other">
<meta property="og:title" content="{e(video.title)}">
<meta property="og:video" content="{e(mp4)}">
<meta property="og:video:type" content="video/mp4">
<meta property="video:duration" content="{round(video.duration)}">
<meta name="author" content="{e(video.uploader)}">
<script type="application/ld+json">{ld_text}</script>
</head><body>
<h1>{e(video.title)}</h1><p>by {e(video.uploader)}, {video.duration:.1f} s</p>
<p><a href="{e(mp4)}">download the video</a></p>
</body></html>
"""
    return text.encode("utf-8")


def render_index(videos: dict[str, CorpusVideo], base_url: str) -> bytes:
    links = "\n".join(
        f'<li><a href="{html.escape(page_url(base_url, v.video_id))}">{html.escape(v.title)}</a></li>'
        for v in videos.values()
    )
    return f'<!DOCTYPE html>\n<html><body><a href="/feed.xml">feed</a><ul>\n{links}\n</ul></body></html>\n'.encode()


def parse_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """Parse a single "bytes=a-b" range against a file of `size` bytes.

    Returns (start, end) inclusive, None for "send the whole file" (no header,
    or a form this server does not serve partially such as several ranges), or
    "unsatisfiable".
    """
    if not header:
        return None
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if m is None:
        return None
    first, last = m.groups()
    if first == "" and last == "":
        return None
    if first == "":  # suffix: the last N bytes
        n = int(last)
        if n == 0:
            return "unsatisfiable"
        return max(0, size - n), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or end < start:
        return "unsatisfiable"
    return start, end


class _SiteHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    videos: dict[str, CorpusVideo]
    faults: FaultPlan
    base_url: str
    records: list[RequestRecord]

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        # Clients that reset or drop connections are normal here: log, do not print.
        log.debug("error while serving %s", client_address, exc_info=True)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NOT_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e]")


def printable(text: str | None) -> str | None:
    """`text` with every character but printable ASCII (CR, LF, NUL, é) written as an escape: fit for a status line."""
    if text is None:
        return None
    return _NOT_PRINTABLE_ASCII.sub(lambda m: ascii(m.group())[1:-1], text)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "alignnet-corpus/1"
    timeout = 30
    server: _SiteHTTPServer

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        try:
            status = int(code)
        except (TypeError, ValueError):
            status = 0
        self.server.records.append(RequestRecord(self.command, self.path, status, self.headers.get("Range")))
        super().log_request(code, size)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """BaseHTTPRequestHandler's, with control characters (CR/LF) kept out of the status line and body."""
        super().send_error(code, printable(message), printable(explain))

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def do_GET(self) -> None:
        self._dispatch(head=False)

    def _dispatch(self, head: bool) -> None:
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        base = self.server.base_url
        videos = self.server.videos
        try:
            if _CONTROL.search(path):  # a decoded %0d%0a: never echoed into a status line or header
                self.send_error(HTTPStatus.BAD_REQUEST, "control characters in the request path")
            elif path in ("/", "/index.html"):
                self._send_bytes(render_index(videos, base), "text/html; charset=utf-8", head)
            elif path == "/feed.xml":
                self._send_bytes(render_feed(videos, base), "application/rss+xml; charset=utf-8", head)
            elif (m := re.fullmatch(r"/watch/([^/]+)", path)) and m.group(1) in videos:
                video = videos[m.group(1)]
                if not self._send_fault_status(video.video_id):
                    self._send_bytes(render_page(video, base), "text/html; charset=utf-8", head)
            elif (m := re.fullmatch(r"/videos/([^/]+)\.mp4", path)) and m.group(1) in videos:
                video = videos[m.group(1)]
                if not self._send_fault_status(video.video_id):
                    self._send_video(video, head)
            else:
                self.send_error(HTTPStatus.NOT_FOUND, f"no such page: {path}")
        except (BrokenPipeError, ConnectionResetError) as exc:
            log.debug("client went away during %s: %s", self.path, exc)
            self.close_connection = True

    def _send_fault_status(self, video_id: str) -> bool:
        kind = self.server.faults.kind(video_id)
        if kind is FaultKind.NOT_FOUND:
            self.send_error(HTTPStatus.NOT_FOUND, f"video {video_id} was removed")
        elif kind is FaultKind.SERVER_ERROR:
            self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR, "the site is broken")
        else:
            return False
        return True

    def _send_bytes(self, body: bytes, content_type: str, head: bool) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _send_video(self, video: CorpusVideo, head: bool) -> None:
        size = video.size
        requested = parse_range(self.headers.get("Range"), size)
        if requested == "unsatisfiable":
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start, end = requested if isinstance(requested, tuple) else (0, size - 1)
        self.send_response(HTTPStatus.PARTIAL_CONTENT if isinstance(requested, tuple) else HTTPStatus.OK)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Last-Modified", formatdate(video.path.stat().st_mtime, usegmt=True))
        if isinstance(requested, tuple):
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if head:
            return
        self._send_file_range(video, start, end + 1)

    def _send_file_range(self, video: CorpusVideo, start: int, stop: int) -> None:
        faults = self.server.faults
        kind = faults.kind(video.video_id)
        cut = faults.cut_offset(video.video_id, video.size)
        send_until = stop if cut is None else max(start, min(stop, cut))
        chunk = _CHUNK
        pause = 0.0
        if kind is FaultKind.SLOW:
            chunk = max(1, -(-(stop - start) // _SLOW_PIECES))
            pause = faults.slow_seconds / _SLOW_PIECES
        with video.path.open("rb") as f:
            f.seek(start)
            pos = start
            while pos < send_until:
                n = min(chunk, send_until - pos)
                data = corrupt_bytes(pos, pos + n) if kind is FaultKind.CORRUPT else f.read(n)
                if kind is FaultKind.CORRUPT:
                    f.seek(n, 1)
                self.wfile.write(data)
                pos += n
                if pause:
                    time.sleep(pause)
        if send_until < stop:
            self._cut_connection(reset=kind is FaultKind.DROP)

    def _cut_connection(self, reset: bool) -> None:
        """End the transfer early: a TCP reset (`drop`) or a clean close (`truncate`)."""
        self.wfile.flush()
        self.close_connection = True
        if reset:
            time.sleep(0.2)  # let the client read what was sent before the RST
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        else:
            self.connection.shutdown(socket.SHUT_WR)


def check_loopback(host: str) -> str:
    """`host` if it is a loopback address (or "localhost"); UserInputError otherwise."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise UserInputError(f"host {host!r}: the corpus server binds loopback addresses only (e.g. 127.0.0.1)")


class CorpusServer:
    """The corpus site on a background thread; a context manager.

    faults: a FaultPlan, or a mapping {video_id: kind} / list of "id=kind".
    port=0 picks a free port; `url` is the base URL once started.
    `records` lists every answered request (method, path, status, Range).
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultPlan | dict[str, str | FaultKind] | list[str] | None = None,
        slow_seconds: float = 1.5,
    ) -> None:
        self.host = check_loopback(host)
        self.port = port
        self.videos = load_corpus(directory)
        self.faults = faults if isinstance(faults, FaultPlan) else fault_plan(faults, slow_seconds)
        unknown = sorted(set(self.faults.kinds) - set(self.videos))
        if unknown:
            raise UserInputError(f"fault for unknown video id(s): {', '.join(unknown)} (not in {directory})")
        self.records: list[RequestRecord] = []
        self._httpd: _SiteHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("CorpusServer is not started")
        return self._url

    def page_url(self, video_id: str) -> str:
        return page_url(self.url, video_id)

    def file_url(self, video_id: str) -> str:
        return file_url(self.url, video_id)

    @property
    def feed_url(self) -> str:
        return f"{self.url}/feed.xml"

    def start(self) -> CorpusServer:
        try:
            httpd = _SiteHTTPServer((self.host, self.port), _Handler)
        except OSError as exc:
            raise UserInputError(f"cannot serve on {self.host}:{self.port}: {exc.strerror or exc}") from exc
        httpd.videos = self.videos
        httpd.faults = self.faults
        httpd.records = self.records
        self._httpd = httpd
        host, port = httpd.server_address[:2]
        self._url = httpd.base_url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=httpd.serve_forever, name="corpus-server", daemon=True)
        self._thread.start()
        log.info("serving %d videos at %s", len(self.videos), self.url)
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = None

    def __enter__(self) -> CorpusServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
