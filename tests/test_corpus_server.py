"""The loopback video site against the real yt-dlp: playlists, pages, ranges, faults, CLI."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yt_dlp
from yt_dlp.utils import DownloadError, unsmuggle_url

from alignnet.corpus_server import CorpusServer
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
        for header, (start, end) in [("bytes=10-99", (10, 99)), ("bytes=100-", (100, size - 1)),
                                     ("bytes=-50", (size - 50, size - 1)), ("bytes=0-99999999", (0, size - 1))]:  # fmt: skip
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
    cmd = [sys.executable, "-m", "alignnet", "serve-corpus", str(corpus), "--port", "0",
           "--url-file", str(url_file), "--fault", "v001=404"]  # fmt: skip
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
