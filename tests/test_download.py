"""`alignnet download` against the loopback site with the real yt-dlp and ffprobe."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import deno
import pytest
import yt_dlp

from alignnet.cli import main
from alignnet.data.download import DownloadSettings, gather_failures, ytdlp_options
from alignnet.data.manifest import ManifestEntry, read_manifest, write_manifest
from alignnet.demo.corpus_server import CorpusServer
from alignnet.stage_status import StageStatus
from tests.corpus_fixtures import FixtureVideo, make_corpus

VIDEOS = tuple(FixtureVideo(f"v{i}", f"Cover {i}", f"dancer_{i % 2}", 1.0 + 0.5 * i) for i in range(1, 7))
FAULTS = {"v2": "404", "v3": "500", "v4": "drop", "v5": "truncate", "v6": "corrupt"}
EXPECTED = {
    "v2": "http_error",
    "v4": "network_error",
    "v5": "network_error",
    "v6": "corrupt_file",
    "index": "invalid_url",
}
RETRYABLE = {"v4", "v5"}  # one transfer cut mid-file after every retry: not a verdict on the video
FAST = ["--retries", "1", "--backoff", "0.01", "--socket-timeout", "10"]
# yt-dlp plugins of the tests: LoopbackTubeIE, an extractor whose _VALID_URL carries the id, as YouTube's does
YTDLP_PLUGINS = Path(__file__).parent / "ytdlp_plugins"


def with_test_extractor(env: dict[str, str]) -> dict[str, str]:
    """`env` with the tests' yt-dlp plugins on PYTHONPATH (yt-dlp finds plugin packages on sys.path)."""
    paths = [str(YTDLP_PLUGINS), *filter(None, [env.get("PYTHONPATH")])]
    return {**env, "PYTHONPATH": os.pathsep.join(paths)}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("site")
    corpus = make_corpus(root / "corpus", VIDEOS)
    with CorpusServer(corpus, faults=FAULTS) as server:
        entries = [ManifestEntry(v.video_id, server.page_url(v.video_id), v.title) for v in VIDEOS]
        entries.append(ManifestEntry("index", f"{server.url}/"))  # a page without a video
        manifest = root / "manifest.tsv"
        write_manifest(entries, manifest)
        yield server, corpus, manifest


def download(manifest: Path, video_id: str, out: Path, *extra: str) -> int:
    return main(["download", "--manifest", str(manifest), "--video-id", video_id, "-o", str(out), *FAST, *extra])


def test_good_video_is_byte_identical_with_info(site, tmp_path: Path) -> None:
    server, corpus, manifest = site
    out = tmp_path / "v1"
    assert download(manifest, "v1", out) == 0
    assert (out / "video.mp4").read_bytes() == (corpus / "v1.mp4").read_bytes()
    assert StageStatus.read(out) == StageStatus("download", True)
    info = json.loads((out / "info.json").read_text())
    assert info["id"] == "v1" and info["title"] == "Cover 1" and info["uploader"] == "dancer_1"
    assert info["duration"] == 1.5 and info["webpage_url"] == server.page_url("v1") and info["format"]
    assert not list(tmp_path.glob(".*")), "no temporary is left beside OUTDIR"
    assert not list(out.glob(".*")), "no temporary is left in OUTDIR"


def test_failures_are_recorded_and_gathered(site, tmp_path: Path) -> None:
    _, _, manifest = site
    for video_id in EXPECTED:
        assert download(manifest, video_id, tmp_path / video_id) == 0, video_id
    for video_id, reason in EXPECTED.items():
        status = StageStatus.read(tmp_path / video_id)
        assert status is not None and not status.ok, video_id
        assert status.reason == reason, (video_id, status)
        assert status.retryable == (video_id in RETRYABLE), (video_id, status)
        assert status.detail, video_id
        assert not (tmp_path / video_id / "video.mp4").exists(), video_id
    assert "HTTP Error 404" in StageStatus.read(tmp_path / "v2").detail
    # a good one among them, then the failures TSV of all
    assert download(manifest, "v1", tmp_path / "v1") == 0
    failures = tmp_path / "failures.tsv"
    dirs = [str(tmp_path / v) for v in ["v1", *EXPECTED]]
    assert main(["gather", "download-failures", *dirs, "--manifest", str(manifest), "-o", str(failures)]) == 0
    with failures.open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\"))
    assert {r["video_id"]: r["reason"] for r in rows} == EXPECTED
    urls = {e.video_id: e.url for e in read_manifest(manifest)}
    assert all(r["url"] == urls[r["video_id"]] and r["detail"] for r in rows)


def test_server_error_fails_the_job_and_records_nothing(site, tmp_path: Path, capsys) -> None:
    """HTTP 500 after the retries is the site's fault, not the video's: no verdict, no OUTDIR, exit 75."""
    _, _, manifest = site
    assert download(manifest, "v3", tmp_path / "v3") == 75
    err = capsys.readouterr().err
    assert "HTTP Error 500" in err and "not of the item" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_gather_failures_reports_missing_status(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    StageStatus("download", True).write(tmp_path / "b")
    out = tmp_path / "f.tsv"
    assert gather_failures([tmp_path / "a", tmp_path / "b"], [ManifestEntry("a", "http://x/a")], out) == 1
    assert out.read_text().splitlines()[1].startswith("a\thttp://x/a\tmissing_status\t")


def test_archive_prevents_a_redownload(site, tmp_path: Path) -> None:
    server, corpus, manifest = site
    archive = tmp_path / "archive.txt"
    out = tmp_path / "v1"
    assert download(manifest, "v1", out, "--archive", str(archive)) == 0
    assert archive.read_text().split() == ["generic", "v1"]
    before = (out / "video.mp4").stat()
    assert download(manifest, "v1", out, "--archive", str(archive)) == 0
    after = (out / "video.mp4").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    status = StageStatus.read(out)
    assert status.ok and "archive" in status.detail
    # The file gone (snakemake removes a job's output before rerunning it) or another folder: the archive's
    # line is stale, and the video is downloaded again; the archive keeps its one line.
    shutil.rmtree(out)
    for folder in (out, tmp_path / "again"):
        assert download(manifest, "v1", folder, "--archive", str(archive)) == 0
        assert (folder / "video.mp4").stat().st_size > 0
        status = StageStatus.read(folder)
        assert status.ok and "archive" not in status.detail
    assert archive.read_text().split() == ["generic", "v1"]


def test_js_runtime_reaches_yt_dlp(tmp_path: Path) -> None:
    settings = DownloadSettings(retries=2, backoff=0.5, rate_limit=1000, max_height=480, archive=tmp_path / "a.txt")
    params = ytdlp_options(str(tmp_path / "video.%(ext)s"), settings)
    assert params["js_runtimes"] == {"deno": {"path": deno.find_deno_bin()}}
    assert params["format"] == "bv*[height<=480]+ba/b[height<=480]/bv*+ba/b"
    assert (params["retries"], params["fragment_retries"], params["ratelimit"]) == (2, 2, 1000)
    assert [params["retry_sleep_functions"]["http"](n) for n in range(3)] == [0.5, 1.0, 2.0]
    with yt_dlp.YoutubeDL(params) as ydl:
        runtime = ydl._js_runtimes["deno"]
        assert runtime.info is not None and runtime.info.path == deno.find_deno_bin()
        assert runtime.info.supported
    explicit = ytdlp_options("x", DownloadSettings(js_runtime="/opt/deno/bin/deno"))
    assert explicit["js_runtimes"] == {"deno": {"path": "/opt/deno/bin/deno"}}


def test_bad_arguments_are_user_errors(site, tmp_path: Path, capsys) -> None:
    _, _, manifest = site
    assert download(manifest, "nope", tmp_path / "x") == 2
    assert "'nope' is not in" in capsys.readouterr().err


def test_archive_rerun_with_an_extractor_that_reads_the_id_from_the_url(site, tmp_path: Path) -> None:
    """yt-dlp checks the archive before extracting when the extractor reads the id from the URL (YouTube):
    a rerun whose output was deleted (snakemake's --forcerun, --rerun-incomplete, a retry) downloads again."""
    server, corpus, manifest = site
    archive = tmp_path / "archive.txt"

    def download_with_test_extractor(out: Path) -> StageStatus:
        cmd = [
            sys.executable,
            "-m",
            "alignnet",
            "download",
            "--manifest",
            str(manifest),
            "--video-id",
            "v1",
            "-o",
            str(out),
            "--archive",
            str(archive),
            *FAST,
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=with_test_extractor(os.environ))
        assert result.returncode == 0, result.stderr[-2000:]
        status = StageStatus.read(out)
        assert status is not None
        return status

    out = tmp_path / "v1"
    assert download_with_test_extractor(out) == StageStatus("download", True)
    assert archive.read_text().split() == ["loopbacktube", "v1"], "the test extractor took the URL"
    assert json.loads((out / "info.json").read_text())["extractor_key"] == "LoopbackTube"
    skipped = download_with_test_extractor(out)
    assert skipped.ok and "archive" in skipped.detail
    shutil.rmtree(out)
    again = download_with_test_extractor(out)
    assert again == StageStatus("download", True), again
    assert (out / "video.mp4").read_bytes() == (corpus / "v1.mp4").read_bytes()
    assert archive.read_text().split() == ["loopbacktube", "v1"]


def test_polite_settings_reach_yt_dlp(tmp_path: Path) -> None:
    cookies = tmp_path / "cookies.txt"
    settings = DownloadSettings(cookies=cookies, sleep_interval=10, max_sleep_interval=20, sleep_requests=0.75)
    params = ytdlp_options("x", settings)
    assert (params["sleep_interval"], params["max_sleep_interval"]) == (10, 20)
    assert (params["sleep_interval_requests"], params["cookiefile"]) == (0.75, str(cookies))
    quiet = ytdlp_options("x", DownloadSettings())
    assert not {"sleep_interval", "max_sleep_interval", "sleep_interval_requests", "cookiefile"} & quiet.keys()
