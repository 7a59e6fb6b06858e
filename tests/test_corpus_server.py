"""The loopback video site against the real yt-dlp: playlists, pages, ranges, faults, CLI."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yt_dlp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yt_dlp.utils import DownloadError, unsmuggle_url

from alignnet.cli import main
from alignnet.demo.corpus_server import CorpusServer
from alignnet.errors import UserInputError
from tests.corpus_fixtures import DEFAULT_VIDEOS, make_corpus

IDS = [v.video_id for v in DEFAULT_VIDEOS]


class _Quiet:
    def debug(self, msg: str) -> None: ...

    def warning(self, msg: str) -> None: ...

    def error(self, msg: str) -> None: ...


def ydl(tmp: Path, **extra: object) -> yt_dlp.YoutubeDL:
    params = {
        "outtmpl": str(tmp / "%(id)s.%(ext)s"),
        "logger": _Quiet(),
        "quiet": True,
        "noprogress": True,
        "retries": 1,
        "retry_sleep_functions": {"http": lambda n: 0.01},
        **extra,
    }
    return yt_dlp.YoutubeDL(params)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def test_feed_is_a_playlist_of_every_video(corpus: Path) -> None:
    with CorpusServer(corpus) as server, ydl(corpus, extract_flat="in_playlist") as y:
        info = y.extract_info(server.feed_url, download=False)
    assert info["_type"] == "playlist"
    entries = list(info["entries"])
    ids = [unsmuggle_url(e["url"])[1]["force_videoid"] for e in entries]
    assert ids == IDS
    assert [e["title"] for e in entries] == [v.title for v in DEFAULT_VIDEOS]
    assert [e["duration"] for e in entries] == [v.seconds for v in DEFAULT_VIDEOS]


def test_download_through_the_feed_is_byte_identical(corpus: Path, tmp_path: Path) -> None:
    with CorpusServer(corpus) as server, ydl(tmp_path) as y:
        info = y.extract_info(server.feed_url, download=True)
    assert [e["id"] for e in info["entries"]] == IDS
    assert [e["uploader"] for e in info["entries"]] == [v.uploader for v in DEFAULT_VIDEOS]
    for vid in IDS:
        assert (tmp_path / f"{vid}.mp4").read_bytes() == (corpus / f"{vid}.mp4").read_bytes()


@pytest.mark.parametrize("how", ["page", "file"])
def test_download_from_page_or_direct_link(corpus: Path, tmp_path: Path, how: str) -> None:
    with CorpusServer(corpus) as server, ydl(tmp_path) as y:
        url = server.page_url("v002") if how == "page" else server.file_url("v002")
        info = y.extract_info(url, download=True)
    assert info["id"] == "v002"
    if how == "page":
        assert (info["title"], info["uploader"], info["duration"]) == ("Dance cover two", "dancer_b", 3)
    assert (tmp_path / "v002.mp4").read_bytes() == (corpus / "v002.mp4").read_bytes()


def _get(url: str, method: str = "GET", range_: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method, headers={"Range": range_} if range_ else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_range_requests_and_head(corpus: Path) -> None:
    data = (corpus / "v001.mp4").read_bytes()
    size = len(data)
    with CorpusServer(corpus) as server:
        url = server.file_url("v001")
        status, headers, body = _get(url)
        assert (status, headers["Content-Type"], headers["Accept-Ranges"]) == (200, "video/mp4", "bytes")
        assert int(headers["Content-Length"]) == size and body == data
        status, headers, body = _get(url, "HEAD")
        assert (status, int(headers["Content-Length"]), body) == (200, size, b"")
        for header, (start, end) in [
            ("bytes=10-99", (10, 99)),
            ("bytes=100-", (100, size - 1)),
            ("bytes=-50", (size - 50, size - 1)),
            ("bytes=0-99999999", (0, size - 1)),
        ]:
            status, headers, body = _get(url, range_=header)
            assert status == 206, header
            assert headers["Content-Range"] == f"bytes {start}-{end}/{size}", header
            assert int(headers["Content-Length"]) == end - start + 1
            assert body == data[start : end + 1], header
        status, headers, _ = _get(url, range_=f"bytes={size}-")
        assert (status, headers["Content-Range"]) == (416, f"bytes */{size}")
        assert _get(f"{server.url}/videos/nope.mp4")[0] == 404


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("404", r"HTTP Error 404"),
        ("500", r"HTTP Error 500"),
        ("drop", r"Connection (?:reset|broken)"),
        ("truncate", r"\d+ bytes read, \d+ more expected"),
    ],
)
def test_faults_give_the_errors_of_a_real_site(corpus: Path, tmp_path: Path, kind: str, message: str) -> None:
    with CorpusServer(corpus, faults={"v004": kind}) as server, ydl(tmp_path) as y:
        with pytest.raises(DownloadError, match=message):
            y.extract_info(server.page_url("v004"), download=True)
        # the other videos are unaffected
        y.extract_info(server.file_url("v001"), download=True)
        if kind in ("drop", "truncate"):
            resumed = [r for r in server.records if r.path == "/videos/v004.mp4" and r.status == 206]
            assert resumed, "yt-dlp should have retried with a Range request"
    assert not (tmp_path / "v004.mp4").exists()
    assert (tmp_path / "v001.mp4").read_bytes() == (corpus / "v001.mp4").read_bytes()


def test_slow_video_completes(corpus: Path, tmp_path: Path) -> None:
    with CorpusServer(corpus, faults={"v003": "slow"}, slow_seconds=0.8) as server, ydl(tmp_path) as y:
        start = time.monotonic()
        y.extract_info(server.file_url("v003"), download=True)
        elapsed = time.monotonic() - start
    assert elapsed >= 0.7
    assert (tmp_path / "v003.mp4").read_bytes() == (corpus / "v003.mp4").read_bytes()


def test_corrupt_video_downloads_as_wrong_bytes(corpus: Path, tmp_path: Path) -> None:
    with CorpusServer(corpus, faults={"v003": "corrupt"}) as server, ydl(tmp_path) as y:
        y.extract_info(server.file_url("v003"), download=True)
    got, original = (tmp_path / "v003.mp4").read_bytes(), (corpus / "v003.mp4").read_bytes()
    assert len(got) == len(original) and got != original


def test_binds_loopback_only(corpus: Path) -> None:
    for host in ("0.0.0.0", "192.168.1.10", "example.com"):
        with pytest.raises(UserInputError, match="loopback"):
            CorpusServer(corpus, host=host)
    with pytest.raises(UserInputError, match="unknown video"):
        CorpusServer(corpus, faults={"nope": "404"})
    with CorpusServer(corpus) as server:
        assert server.url.startswith("http://127.0.0.1:")


def test_serve_corpus_cli_writes_url_and_stops_on_sigterm(corpus: Path, tmp_path: Path) -> None:
    url_file = tmp_path / "url.txt"
    cmd = [
        sys.executable,
        "-m",
        "alignnet",
        "serve-corpus",
        str(corpus),
        "--port",
        "0",
        "--url-file",
        str(url_file),
        "--fault",
        "v001=404",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not url_file.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert url_file.exists(), proc.stderr.read() if proc.poll() is not None else "no URL file"
        url = url_file.read_text().strip()
        assert url.startswith("http://127.0.0.1:")
        status, _, body = _get(f"{url}/feed.xml")
        assert status == 200 and b"<rss" in body
        assert _get(f"{url}/watch/v001")[0] == 404
        assert _get(f"{url}/watch/v002")[0] == 200
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out.strip() == url


@pytest.mark.parametrize("spec", ["v001", "v001=teapot", "=404"])
def test_serve_corpus_refuses_a_bad_fault_as_a_usage_error(corpus: Path, spec: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve-corpus", str(corpus), "--fault", spec])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--fault" in err and repr(spec) in err


# What a hostile client sends: traversal, encoded CR/LF and NUL, non-ASCII, the corpus's own routes.
_PATH_PIECES = st.one_of(
    st.sampled_from(
        [
            "../",
            "%2e%2e/",
            "..%2f",
            "//etc/passwd",
            "%0d%0a",
            "%0D%0ASet-Cookie:%20x=1",
            "%00",
            "%ff",
            "%e2%82%ac",
            "videos/",
            "watch/",
            ".mp4",
            "feed.xml",
            "index.html",
            "?q=1",
            "#f",
            "%",
        ]
    ),
    st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=12),
)
_HEADER_VALUE = st.text(alphabet=st.characters(blacklist_characters="\r\n", max_codepoint=0xFF), max_size=40)
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] [1-5]\d\d [\x20-\x7e]*")
_HEADER_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+: [\x20-\x7e]*")


def _raw_request(port: int, path: str, header: tuple[str, str] | None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if header is not None:
        lines.append(f"{header[0]}: {header[1]}")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("hostile")
    (root / "secret.txt").write_text("TOP-SECRET-OUTSIDE-THE-CORPUS\n")
    corpus = make_corpus(root / "corpus", DEFAULT_VIDEOS[:1])
    with CorpusServer(corpus) as server:
        yield server


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pieces=st.lists(_PATH_PIECES, max_size=6),
    header=st.one_of(
        st.none(), st.tuples(st.sampled_from(["Range", "X-Test", "Cookie", "If-None-Match", "Accept"]), _HEADER_VALUE)
    ),
)
def test_hostile_paths_and_headers_get_well_formed_answers_from_the_corpus_only(hostile_site, pieces, header) -> None:
    """Whatever the path and headers: one well-formed status line and headers (no CR/LF from the client in them),
    nothing from outside the corpus, and the site goes on serving."""
    port = urllib.parse.urlsplit(hostile_site.url).port
    response = _raw_request(port, "/" + "".join(pieces), header)
    head, _, body = response.partition(b"\r\n\r\n")
    status, *headers = head.split(b"\r\n")
    assert _STATUS_LINE.fullmatch(status), response[:300]
    assert all(_HEADER_LINE.fullmatch(h) for h in headers), head
    names = {h.split(b":", 1)[0].lower() for h in headers}
    assert not names & {b"set-cookie", b"x-injected"}, head
    assert b"TOP-SECRET" not in response
    assert _raw_request(port, "/", None).startswith(b"HTTP/1.1 200 ")  # still serving


def test_encoded_crlf_in_the_path_is_refused_not_echoed(hostile_site) -> None:
    port = urllib.parse.urlsplit(hostile_site.url).port
    response = _raw_request(port, "/x%0d%0aX-Injected:%20yes%0d%0aSet-Cookie:%20injected=1", None)
    head = response.partition(b"\r\n\r\n")[0]
    assert head.startswith(b"HTTP/1.1 400 ") and b"\r\nX-Injected" not in head and b"\r\nSet-Cookie" not in head
