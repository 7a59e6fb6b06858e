"""Re-uploads, covers and edited clips through the workflow: `snakemake summary` on config/demo.yaml.

The loopback video site serves generated dance videos and ffmpeg edits of
them: a mirrored re-upload, the same song danced by another dancer, and an
edited cover with a shot cut in the middle of its second clip. The run must
reject the re-upload's clips as duplicate and the cut clip as shot_cut, keep
the cover, put the song's videos in one split, and count it all in the summary.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from alignnet.demo.corpus_server import CorpusServer

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
SECONDS = 14  # two 6-s clips per video
CUT_SECOND = 9  # inside the second clip (6-12 s)


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def build_corpus(corpus: Path) -> None:
    """demo-0000..0002 as generated; copies and edits of 0000, 0001, 0003 and 0004 (which are not served)."""
    synth = [
        sys.executable,
        "-m",
        "alignnet",
        "synth",
        str(corpus),
        "--videos",
        "5",
        "--seconds",
        str(SECONDS),
        "--seed",
        "21",
        "--negatives",
        "0",
        "--width",
        "480",
        "--height",
        "270",
        "--no-progress",
    ]
    subprocess.run(synth, check=True)
    video = {i: str(corpus / f"demo-{i:04d}.mp4") for i in range(5)}
    _ffmpeg("-i", video[0], "-vf", "hflip", "-c:v", "libx264", "-crf", "24", "-c:a", "aac", str(corpus / "mirror.mp4"))
    _ffmpeg("-i", video[1], "-i", video[0], "-map", "0:v", "-map", "1:a", "-c", "copy", str(corpus / "cover.mp4"))
    graph = (
        f"[0:v]trim=0:{CUT_SECOND},setpts=PTS-STARTPTS[a];[1:v]trim={CUT_SECOND}:{SECONDS},setpts=PTS-STARTPTS[b];"
        "[a][b]concat=n=2:v=1:a=0[v]"
    )
    _ffmpeg(
        "-i",
        video[3],
        "-i",
        video[4],
        "-filter_complex",
        graph,
        "-map",
        "[v]",
        "-map",
        "0:a",
        "-c:v",
        "libx264",
        "-c:a",
        "copy",
        str(corpus / "edited.mp4"),
    )
    for name in ("mirror", "cover", "edited"):
        sidecar = {"video_id": name, "title": f"{name} dance cover", "uploader": "Tester", "duration": SECONDS}
        (corpus / f"{name}.json").write_text(json.dumps(sidecar))
    for i in (3, 4):
        (corpus / f"demo-{i:04d}.mp4").unlink()
        (corpus / f"demo-{i:04d}.json").unlink()


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("duplicates-workflow")
    build_corpus(work / "corpus")
    ids = ["demo-0000", "demo-0001", "demo-0002", "mirror", "cover", "edited"]
    with CorpusServer(work / "corpus") as server:
        rows = ["video_id\turl\ttitle\tuploader\tduration\tsource"]
        rows += [f"{v}\t{server.page_url(v)}\t{v}\tTester\t\thand-written" for v in ids]
        (work / "manifest.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        overrides = {
            "manifest": str(work / "manifest.tsv"),
            "splits": {"train": 4, "val": 2, "test": 2, "seed": 0, "disjoint": "song"},
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
                "summary",
                "--configfile",
                str(REPO / "config/demo.yaml"),
                str(work / "overrides.yaml"),
            ],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=1500,
        )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return work


def test_reupload_rejected_cover_kept_one_song(run) -> None:
    videos = pd.read_csv(run / "results/duplicates/videos.tsv", sep="\t", keep_default_na=False).set_index("video_id")
    assert sorted(videos.loc[["demo-0000", "mirror"], "reason"]) == ["", "duplicate"]
    assert videos.loc["cover", "reason"] == "" and videos.loc["edited", "reason"] == ""
    song = videos.loc["demo-0000", "song_id"]
    assert videos.loc[["mirror", "cover"], "song_id"].tolist() == [song, song]
    assert videos.loc[["demo-0001", "demo-0002", "edited"], "song_id"].nunique() == 3 != song


def test_filter_records_duplicate_and_shot_cut(run) -> None:
    verdicts = pd.read_csv(run / "results/filter/verdicts.tsv", sep="\t", keep_default_na=False)
    copy = pd.read_csv(run / "results/duplicates/videos.tsv", sep="\t").query("reason == 'duplicate'")["video_id"]
    rejected = verdicts[verdicts["video_id"] == copy.iloc[0]]
    assert rejected["reason"].tolist() == ["duplicate", "duplicate"]
    edited = verdicts[verdicts["video_id"] == "edited"].set_index("clip_index")
    assert edited.loc[1, "reason"] == "shot_cut" and edited.loc[0, "reason"] != "shot_cut"
    assert edited.loc[1, "detail"] == f"shot cut at clip frame {(CUT_SECOND - 6) * 30}"


def test_splits_are_song_disjoint_and_summary_counts(run) -> None:
    splits = pd.read_csv(run / "results/dataset/splits/splits.tsv", sep="\t")
    assert (splits.groupby("group_id")["split"].nunique() == 1).all()
    song = splits[splits["video_id"].isin(["demo-0000", "mirror", "cover"])]
    assert song["video_id"].nunique() == 2 and song["group_id"].nunique() == 1 and song["split"].nunique() == 1
    meta = json.loads((run / "results/dataset/splits/meta.json").read_text())
    assert meta["disjoint"] == "song" and meta["groups"] == splits["group_id"].nunique()
    summary = json.loads((run / "results/dataset/summary.json").read_text())
    assert summary["filter"]["clips_rejected"]["duplicate"] == 2 and summary["filter"]["videos_duplicate"] == 1
    assert summary["filter"]["clips_rejected"]["shot_cut"] == 1
    assert summary["dataset"]["disjoint"] == "song" and summary["dataset"]["groups"] == meta["groups"]
