"""Bad input through the whole data pipeline: a clear reason for each, nothing lost.

A hand-written manifest points at the loopback video site, which serves good
dancer videos, odd but valid ones (60 fps variable frame rate, a rotated
portrait phone video, a title and file name with spaces, quotes and non-ASCII
characters) and broken ones (404, a dropped connection, a corrupt and a
truncated mp4, a 0-byte file, audio only, no audio stream, 2 seconds long, a
malformed URL). `snakemake --keep-going summary` must finish, record the
expected reason for every bad item, keep every good and odd-but-valid one,
and leave no half-written output.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import ffmpeg
import pandas as pd
import pytest

from alignnet.demo.corpus_server import CorpusServer
from alignnet.demo.synth.corpus import Options, generate_video
from alignnet.stage_status import StageStatus

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

# video id -> (stage that stops it, reason); None: kept in the dataset.
EXPECTED: dict[str, tuple[str, str] | None] = {
    "good": None,
    "vfr60": None,
    "portrait": None,
    "odd-name": None,
    "missing": ("download", "http_error"),
    "dropped": ("download", "network_error"),
    "corrupt": ("download", "corrupt_file"),
    "truncated": ("clip", "corrupt_file"),  # complete transfer of a cut file: found when decoding
    "empty": ("download", "corrupt_file"),
    "audio-only": ("download", "no_video_stream"),
    "no-audio": ("clip", "no_audio_stream"),
    "short": ("clip", "too_short"),
    "bad-url": ("download", "invalid_url"),
}
FAULTS = {"missing": "404", "dropped": "drop", "corrupt": "corrupt"}
RETRYABLE = {"dropped"}  # one transfer cut mid-file after every retry: recorded, `alignnet retry-failed` clears it


def _run(stream) -> None:
    stream.global_args("-nostdin", "-loglevel", "error").overwrite_output().run()


def _sidecar(corpus: Path, stem: str, video_id: str, title: str) -> None:
    (corpus / f"{stem}.json").write_text(
        json.dumps({"video_id": video_id, "title": title, "uploader": "Tester", "duration": 7.0}, ensure_ascii=False),
        encoding="utf-8",
    )


def build_corpus(corpus: Path, scratch: Path) -> None:
    """Every input of EXPECTED except bad-url, as files with sidecars."""
    corpus.mkdir()
    scratch.mkdir()
    landscape = Options(seed=11, seconds=7.0, warp=False, negatives=0.0, width=480, height=270)
    src = scratch / "src.mp4"
    shutil.move(str(scratch / generate_video(scratch, 0, landscape)["video_id"]) + ".mp4", src)
    for video_id in ("good", "missing", "dropped", "corrupt"):
        shutil.copy(src, corpus / f"{video_id}.mp4")
        _sidecar(corpus, video_id, video_id, f"{video_id} dance cover")
    # 60 fps, variable frame rate: timestamps jitter around 1/60 s.
    _run(
        ffmpeg.output(
            ffmpeg.input(str(src)).filter("fps", 60).filter("setpts", "PTS+0.004*sin(N)/TB"),
            ffmpeg.input(str(src)).audio,
            str(corpus / "vfr60.mp4"),
            vcodec="libx264",
            fps_mode="vfr",
            acodec="copy",
        )
    )
    _sidecar(corpus, "vfr60", "vfr60", "phone 60fps dance")
    # A portrait phone video stored sideways with a 90 degree display rotation.
    portrait = Options(seed=12, seconds=7.0, warp=False, negatives=0.0, width=270, height=480)
    upright = scratch / (generate_video(scratch, 0, portrait)["video_id"] + ".mp4")
    sideways = scratch / "sideways.mp4"
    _run(
        ffmpeg.output(
            ffmpeg.input(str(upright)).video.filter("transpose", 2),
            ffmpeg.input(str(upright)).audio,
            str(sideways),
            vcodec="libx264",
            acodec="copy",
        )
    )
    _run(
        ffmpeg.output(
            ffmpeg.input(str(sideways)), str(corpus / "portrait.mp4"), c="copy", **{"metadata:s:v:0": "rotate=90"}
        )
    )
    _sidecar(corpus, "portrait", "portrait", "vertical phone cover")
    shutil.copy(src, corpus / "ダンス cover 'final' \"v2\".mp4")
    _sidecar(corpus, "ダンス cover 'final' \"v2\"", "odd-name", "ダンス \"cover\" 'final' — été, 練習")
    data = src.read_bytes()
    (corpus / "truncated.mp4").write_bytes(data[: len(data) // 3])
    _sidecar(corpus, "truncated", "truncated", "truncated")
    (corpus / "empty.mp4").write_bytes(b"")
    _sidecar(corpus, "empty", "empty", "empty")
    _run(ffmpeg.output(ffmpeg.input(str(src)).audio, str(corpus / "audio-only.mp4"), acodec="copy"))
    _sidecar(corpus, "audio-only", "audio-only", "audio only")
    _run(ffmpeg.output(ffmpeg.input(str(src)).video, str(corpus / "no-audio.mp4"), vcodec="copy"))
    _sidecar(corpus, "no-audio", "no-audio", "no audio")
    _run(ffmpeg.output(ffmpeg.input(str(src), t=2), str(corpus / "short.mp4"), c="copy"))
    _sidecar(corpus, "short", "short", "two seconds")


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("bad-inputs")
    build_corpus(work / "corpus", work / "scratch")
    with CorpusServer(work / "corpus", faults=FAULTS) as server:
        rows = ["video_id\turl\ttitle\tuploader\tduration\tsource"]
        for video_id in EXPECTED:
            url = "htp:/not a url" if video_id == "bad-url" else server.page_url(video_id)
            rows.append(f"{video_id}\t{url}\t{video_id}\tTester\t\thand-written")
        (work / "manifest.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        # good, odd-name, vfr60 (and the failing copies) are one video on purpose: not duplicates here
        overrides = {
            "manifest": str(work / "manifest.tsv"),
            "duplicates": {"reject": False},
            "splits": {"train": 2, "val": 1, "test": 1, "seed": 0, "disjoint": "video"},
        }
        (work / "overrides.yaml").write_text(json.dumps(overrides))
        result = subprocess.run(
            [
                "snakemake",
                "--snakefile",
                str(REPO / "workflow/Snakefile"),
                "--directory",
                str(work),
                "--cores",
                "2",
                "--keep-going",
                "summary",
                "--configfile",
                str(REPO / "config/demo.yaml"),
                str(work / "overrides.yaml"),
            ],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=1200,
        )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return work


@pytest.mark.parametrize("video_id", [v for v, fate in EXPECTED.items() if fate is not None])
def test_bad_input_gets_its_reason(pipeline, video_id):
    stage, reason = EXPECTED[video_id]
    directory = {"download": "resources/videos", "clip": "results/clips"}[stage]
    status = StageStatus.read(pipeline / directory / video_id)
    assert status is not None and not status.ok, f"{video_id}: {status}"
    assert status.reason == reason, f"{video_id}: {status}"
    assert status.retryable == (video_id in RETRYABLE), f"{video_id}: {status}"
    if stage == "download":
        failures = pd.read_csv(pipeline / "results/download/failures.tsv", sep="\t", keep_default_na=False)
        assert failures.set_index("video_id").loc[video_id, "reason"] == reason


@pytest.mark.parametrize("video_id", [v for v, fate in EXPECTED.items() if fate is None])
def test_good_and_odd_inputs_are_kept(pipeline, video_id):
    splits = pd.read_csv(pipeline / "results/dataset/splits/splits.tsv", sep="\t")
    assert video_id in set(splits["video_id"]), f"{video_id} was not kept"


def test_portrait_comes_out_upright(pipeline):
    media = json.loads((pipeline / "results/clips/portrait/media.json").read_text())
    probe = ffmpeg.probe(str(pipeline / "results/clips/portrait/video.mp4"))
    video = next(s for s in probe["streams"] if s["codec_type"] == "video")
    assert int(video["height"]) > int(video["width"]), media


def test_summary_counts_every_reason(pipeline):
    summary = json.loads((pipeline / "results/dataset/summary.json").read_text())
    assert summary["videos_found"] == len(EXPECTED)
    download = [r for s, r in filter(None, EXPECTED.values()) if s == "download"]
    assert sum(summary["download_failed"].values()) == len(download)
    assert summary["download_failed_retryable"] == len(RETRYABLE)
    assert summary["download_failed_permanent"] == len(download) - len(RETRYABLE)
    assert summary["clip"]["videos_failed"].get("too_short") == 1
    assert summary["clip"]["videos_failed"].get("no_audio_stream") == 1


def test_no_half_written_outputs(pipeline):
    leftovers = [p for p in pipeline.rglob("*") if ".tmp" in p.name or p.name.endswith((".part", ".partial"))]
    assert not leftovers, leftovers
