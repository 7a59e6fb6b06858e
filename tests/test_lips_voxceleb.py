"""VoxCeleb2 metadata files (written in the dataset's exact layout) -> manifest and segments table."""

from __future__ import annotations

import subprocess
from pathlib import Path

import ffmpeg
import pandas as pd
import pytest
import yaml

from alignnet.cli import main
from alignnet.data.clips import load_clip_table
from alignnet.data.manifest import read_manifest
from alignnet.data.voxceleb import parse_segment
from alignnet.errors import UserInputError
from alignnet.stage_status import StageStatus


def write_segment(root: Path, identity: str, ref: str, seg: int, first: int, n: int, offset: int = 2) -> Path:
    """A metadata file as VoxCeleb2 ships it: tab-separated header, blank line, FRAME table."""
    path = root / identity / ref / f"{seg:05d}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"Identity  : \t{identity}",
        f"Reference : \t{ref}",
        f"Offset    : \t{offset}",
        "FV Conf   : \t20.230\t(1)",
        "ASD Conf  : \t2.765",
        "",
        "FRAME \tX \tY \tW \tH ",
    ]
    lines += [f"{first + k:06d} \t0.319 \t0.067 \t0.424 \t0.753 " for k in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_parse_segment_reads_header_and_frames(tmp_path: Path) -> None:
    seg = parse_segment(write_segment(tmp_path, "id00012", "_raOc3-IRsw", 1, 349, 400, offset=-1))
    assert (seg.identity, seg.reference, seg.offset, seg.fv_conf, seg.asd_conf) == (
        "id00012",
        "_raOc3-IRsw",
        -1,
        20.23,
        2.765,
    )
    assert seg.frames[0] == 349 and len(seg.frames) == 400
    assert seg.start_time == pytest.approx(349 / 25) and seg.duration == pytest.approx(16.0)
    assert seg.boxes.shape == (400, 4) and seg.boxes[0, 3] == pytest.approx(0.753)


def test_cli_writes_manifest_and_segments(tmp_path: Path) -> None:
    txt = tmp_path / "txt"
    write_segment(txt, "id00012", "_raOc3-IRsw", 1, 349, 400)  # 16 s
    write_segment(txt, "id00012", "_raOc3-IRsw", 2, 2000, 100)  # 4 s: too short
    write_segment(txt, "id00012", "21Uxsk56VDQ", 1, 0, 300)  # 12 s
    write_segment(txt, "id00017", "7t6lfzvVaTM", 1, 245, 310)
    write_segment(txt, "id00017", "7t6lfzvVaTM", 3, 900, 500)
    manifest, segments = tmp_path / "manifest.tsv", tmp_path / "segments.tsv"
    argv = ["voxceleb", str(txt), "-o", str(manifest), "--segments", str(segments), "--min-seconds", "12"]
    assert main(argv) == 0
    entries = read_manifest(manifest)
    assert [e.video_id for e in entries] == ["21Uxsk56VDQ", "_raOc3-IRsw", "7t6lfzvVaTM"]
    assert entries[1].url == "https://www.youtube.com/watch?v=_raOc3-IRsw"
    assert entries[2].uploader == "id00017" and entries[2].source == "voxceleb2"
    table = pd.read_csv(segments, sep="\t", dtype={"segment": str})
    assert len(table) == 4
    row = table[(table.video_id == "7t6lfzvVaTM") & (table.segment == "00003")].iloc[0]
    assert (row.start_frame, row.end_frame, row.start_time, row.end_time) == (900, 1400, 36.0, 56.0)
    assert main([*argv[:-1], "12", "--max-videos", "1"]) == 0
    assert [e.video_id for e in read_manifest(manifest)] == ["21Uxsk56VDQ"]


def test_malformed_files_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_segment(tmp_path, "id1", "abc", 1, 0, 5)
    path.write_text(path.read_text().replace("000003 \t0.319", "000003 \tx.319"))
    with pytest.raises(UserInputError, match=r"00001\.txt:11: bad frame row"):
        parse_segment(path)
    path.write_text("Identity  : \tid1\n\nFRAME \tX \tY \tW \tH\n000001 \t1 \t2 \t3 \t4\n")
    with pytest.raises(UserInputError, match="lacks 'Reference'"):
        parse_segment(path)
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "m.tsv"
    assert main(["voxceleb", str(empty), "-o", str(out), "--segments", str(tmp_path / "s.tsv")]) == 2
    assert "no VoxCeleb metadata files" in capsys.readouterr().err
    assert not out.exists()


def test_lips_workflow_discovers_from_voxceleb_metadata(tmp_path: Path) -> None:
    """config/lips.yaml with voxceleb.txt_dir: the discover stage runs `alignnet voxceleb`."""
    repo = Path(__file__).resolve().parent.parent
    write_segment(tmp_path / "txt", "id00012", "_raOc3-IRsw", 1, 0, 400)
    write_segment(tmp_path / "txt", "id00015", "abcDEF12345", 1, 0, 100)  # 4 s: too short
    config = yaml.safe_load((repo / "config/lips.yaml").read_text())
    config["voxceleb"]["txt_dir"] = str(tmp_path / "txt")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [
            "snakemake",
            "--snakefile",
            str(repo / "workflow/Snakefile"),
            "--directory",
            str(tmp_path),
            "--configfile",
            str(tmp_path / "config.yaml"),
            "--cores",
            "1",
            "--until",
            "discover",
            "--allowed-rules",
            "discover",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert [e.video_id for e in read_manifest(tmp_path / "results/manifest.tsv")] == ["_raOc3-IRsw"]
    segments = pd.read_csv(tmp_path / "results/discover/voxceleb_segments.tsv", sep="\t")
    assert list(segments["video_id"]) == ["_raOc3-IRsw"]
    assert (tmp_path / "results/discover/rejects.tsv").read_text().startswith("source\turl\treason")
    planned = subprocess.run(
        [
            "snakemake",
            "--snakefile",
            str(repo / "workflow/Snakefile"),
            "--directory",
            str(tmp_path),
            "--configfile",
            str(tmp_path / "config.yaml"),
            "--cores",
            "1",
            "--until",
            "clip",
            "--dry-run",
            "--printshellcmds",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert planned.returncode == 0, planned.stderr[-3000:]
    assert "--segments results/discover/voxceleb_segments.tsv" in planned.stdout  # clips inside the segments


def test_clips_are_cut_inside_the_speaking_segments(tmp_path: Path) -> None:
    """`alignnet clip --segments` on a real 40-s video: 12-s clips only inside the video's segments."""
    txt = tmp_path / "txt"
    write_segment(txt, "id00012", "_raOc3-IRsw", 1, 80, 350)  # 3.2-17.2 s: one clip
    write_segment(txt, "id00012", "_raOc3-IRsw", 2, 500, 100)  # 20-24 s: too short, dropped on import
    write_segment(txt, "id00012", "_raOc3-IRsw", 3, 610, 390)  # 24.4-40 s: the video ends at 40 s, one clip
    write_segment(txt, "id00017", "7t6lfzvVaTM", 1, 0, 400)  # another video
    segments = tmp_path / "segments.tsv"
    assert main(["voxceleb", str(txt), "-o", str(tmp_path / "m.tsv"), "--segments", str(segments)]) == 0
    video = tmp_path / "videos" / "_raOc3-IRsw" / "video.mp4"
    video.parent.mkdir(parents=True)
    (
        ffmpeg.output(
            ffmpeg.input("testsrc=size=96x64:rate=25:duration=40", f="lavfi"),
            ffmpeg.input("sine=frequency=440:sample_rate=16000:duration=40", f="lavfi"),
            str(video),
            vcodec="libx264",
            pix_fmt="yuv420p",
            acodec="aac",
        )
        .global_args("-loglevel", "error")
        .run()
    )
    options = ["--fps", "25", "--sample-rate", "16000", "--clip-seconds", "12", "--segments", str(segments)]
    assert main(["clip", str(video), "-o", str(tmp_path / "clips"), *options]) == 0
    table = load_clip_table(tmp_path / "clips")
    assert table["start_frame"].tolist() == [80, 610]  # each from its segment's start; 610 + 300 <= 1000 frames
    assert table["start_sample"].tolist() == [80 * 640, 610 * 640]
    # A video the table does not list leaves the pipeline with a reason, not an error.
    assert main(["clip", str(video), "-o", str(tmp_path / "other"), *options, "--video-id", "notlisted"]) == 0
    status = StageStatus.read(tmp_path / "other")
    assert status is not None and (status.ok, status.reason) == (False, "too_short")
    assert "none of its 0 segments" in status.detail
