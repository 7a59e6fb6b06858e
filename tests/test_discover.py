"""`alignnet discover` against the loopback site with the real yt-dlp, and the manifest reader."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from alignnet.cli import main
from alignnet.data.manifest import (
    ManifestEntry,
    read_manifest,
    safe_video_id,
    write_manifest,
)
from alignnet.demo.corpus_server import CorpusServer
from alignnet.errors import UserInputError
from tests.corpus_fixtures import DEFAULT_VIDEOS, make_corpus
from tests.test_download import with_test_extractor

IDS = [v.video_id for v in DEFAULT_VIDEOS]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    corpus = make_corpus(tmp_path_factory.mktemp("corpus"))
    with CorpusServer(corpus) as srv:
        yield srv


def read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def test_feed_gives_every_video(server: CorpusServer, tmp_path: Path) -> None:
    out = tmp_path / "manifest.tsv"
    assert main(["discover", "--source", server.feed_url, "-o", str(out)]) == 0
    flat = read_manifest(out)
    assert [e.video_id for e in flat] == IDS
    assert [e.title for e in flat] == [v.title for v in DEFAULT_VIDEOS]
    assert [e.duration for e in flat] == [v.seconds for v in DEFAULT_VIDEOS]
    assert [e.url for e in flat] == [server.page_url(i) for i in IDS]
    assert {e.source for e in flat} == {server.feed_url}
    # an RSS listing has no uploader: probing resolves each page for it
    assert all(e.uploader == "" for e in flat)
    assert main(["discover", "--source", server.feed_url, "--probe-durations", "-o", str(out)]) == 0
    probed = read_manifest(out)
    assert [e.uploader for e in probed] == [v.uploader for v in DEFAULT_VIDEOS]
    assert [e.duration for e in probed] == [v.seconds for v in DEFAULT_VIDEOS]


def test_probe_keeps_an_entry_it_cannot_resolve(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus", DEFAULT_VIDEOS[:2])
    out = tmp_path / "manifest.tsv"
    with CorpusServer(corpus, faults={"v002": "404"}) as server:
        assert main(["discover", "--source", server.feed_url, "--probe-durations", "-o", str(out)]) == 0
    entries = read_manifest(out)
    assert [(e.video_id, e.uploader) for e in entries] == [("v001", "dancer_a"), ("v002", "")]


def test_sources_naming_the_same_videos_are_deduplicated(server: CorpusServer, tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text(f"{server.page_url('v002')}\n{server.file_url('v001')}\n", encoding="utf-8")
    out = tmp_path / "manifest.tsv"
    args = ["discover", "--source", server.feed_url, "--source", server.feed_url, "--urls-file", str(urls)]
    assert main([*args, "-o", str(out)]) == 0
    entries = read_manifest(out)
    assert sorted(e.video_id for e in entries) == IDS
    assert len({e.video_id for e in entries}) == len(entries)


def test_duration_bounds_and_title_exclusions(server: CorpusServer, tmp_path: Path) -> None:
    out, rejects = tmp_path / "manifest.tsv", tmp_path / "rejects.tsv"
    args = [
        "discover",
        "--source",
        server.feed_url,
        "--min-duration",
        "1.5",
        "--max-duration",
        "3.5",
        "--exclude-title",
        "TWO$",
        "-o",
        str(out),
        "--rejects",
        str(rejects),
    ]
    assert main(args) == 0
    assert [e.video_id for e in read_manifest(out)] == ["v001"]
    reasons = {row["url"].rsplit("/", 1)[1]: row["reason"] for row in read_tsv(rejects)}
    assert reasons == {"v002": "title_excluded", "v003": "duration_out_of_range", "v004": "duration_out_of_range"}


def test_malformed_urls_are_rejected_not_fatal(server: CorpusServer, tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text(
        f"# my list\n\n{server.page_url('v003')}  # a good one\nnot a url\nhttp//missing-colon.example/x\n"
        f"ftp://example.com/v.mp4\n{server.url}/watch/removed\n",
        encoding="utf-8",
    )
    out, rejects = tmp_path / "manifest.tsv", tmp_path / "rejects.tsv"
    assert main(["discover", "--urls-file", str(urls), "-o", str(out), "--rejects", str(rejects)]) == 0
    entries = read_manifest(out)
    assert [(e.video_id, e.uploader, e.duration) for e in entries] == [("v003", "dancer_a", 1.0)]
    rows = read_tsv(rejects)
    invalid = [r for r in rows if r["reason"] == "invalid_url"]
    assert [r["source"] for r in invalid] == [f"{urls}:4", f"{urls}:5", f"{urls}:6"]
    assert [r["reason"] for r in rows if r["source"] == f"{urls}:7"] == ["http_error"]


def test_all_sources_failing_is_an_error_naming_them(server: CorpusServer, tmp_path: Path, capsys) -> None:
    out = tmp_path / "manifest.tsv"
    bad = f"{server.url}/no-such-feed.xml"
    assert main(["discover", "--source", bad, "-o", str(out)]) == 1
    assert bad in capsys.readouterr().err
    assert not out.exists()
    # one failing source of two: a warning, the rest goes on
    assert main(["discover", "--source", bad, "--source", server.feed_url, "-o", str(out)]) == 0
    assert len(read_manifest(out)) == len(IDS)


def test_manifest_round_trip_and_safe_ids(tmp_path: Path) -> None:
    entries = [
        ManifestEntry("abc", "https://x.example/watch?v=abc", "Tab\there", "me", 12.5, "ytsearch2:q"),
        ManifestEntry(safe_video_id("-dash/odd id"), "https://x.example/2", duration=None),
    ]
    assert entries[1].video_id == "_-dash_odd_id"
    assert safe_video_id(".hidden") == "_.hidden"
    path = tmp_path / "m.tsv"
    write_manifest(entries, path)
    back = read_manifest(path)
    assert back[0].title == "Tab here" and back[0].duration == 12.5
    assert back[1] == entries[1]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("video_id\turl\tduration\na\thttp://x/a\t3\nb\thttp://x/b\tlong\n", r"m\.tsv:3: duration 'long'"),
        ("video_id\turl\na\thttp://x/a\na\thttp://x/b\n", r"m\.tsv:3: duplicate video_id 'a' \(first on line 2\)"),
        ("video_id\turl\n../up\thttp://x/a\n", r"m\.tsv:2: video_id '\.\./up' is not filesystem-safe"),
        ("video_id\ttitle\na\tx\n", r"m\.tsv:1: .*lacks column\(s\) url"),
        ("video_id\turl\na\thttp://x/a\textra\n", r"m\.tsv:2: 3 tab-separated fields"),
        ("video_id\turl\tcolour\n", r"m\.tsv:1: unknown column\(s\) colour"),
    ],
)
def test_manifest_errors_name_the_line(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "m.tsv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(UserInputError, match=message):
        read_manifest(path)


def test_hand_written_manifest_with_two_columns(tmp_path: Path) -> None:
    path = tmp_path / "mine.tsv"
    path.write_text("video_id\turl\nmy_clip\thttps://example.com/v/1\n\n", encoding="utf-8")
    assert read_manifest(path) == [ManifestEntry("my_clip", "https://example.com/v/1")]


def test_search_entries_without_title_or_duration_are_filtered(server: CorpusServer, tmp_path: Path) -> None:
    """A Bilibili-like search (the tests' loopbacksearch: flat entries with a URL and an id only) under
    duration bounds and a title filter: the entries are resolved so that both filters apply."""
    out, rejects = tmp_path / "manifest.tsv", tmp_path / "rejects.tsv"
    source = f"loopbacksearch10:{server.url} kpop dance cover"
    cmd = [
        sys.executable,
        "-m",
        "alignnet",
        "discover",
        "--source",
        source,
        "--min-duration",
        "1.5",
        "--max-duration",
        "3.5",
        "--exclude-title",
        "(?i)two",
        "-o",
        str(out),
        "--rejects",
        str(rejects),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=with_test_extractor(os.environ))
    assert result.returncode == 0, result.stderr[-2000:]
    entries = read_manifest(out)
    assert [(e.video_id, e.title, e.duration) for e in entries] == [("v001", "Dance cover one", 2.0)]
    assert entries[0].url == server.page_url("v001") and entries[0].source == source
    left_out = {row["url"]: row["reason"] for row in read_tsv(rejects)}
    assert left_out == {
        server.page_url("v002"): "title_excluded",
        server.page_url("v003"): "duration_out_of_range",
        server.page_url("v004"): "duration_out_of_range",
    }
