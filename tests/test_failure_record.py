"""One failure record for every per-video stage (issue #37): each writes it, each later stage reads it.

A video fails at its origin stage (download: a URL that is not one; clip: a
file ffmpeg cannot decode) and every later per-video stage is run on it, as
the workflow runs them (`alignnet <stage>` with the rule's paths), with the real
components (yt-dlp's URL check, ffmpeg, the pose command, Parquet). Each stage
must write the one StageStatus record beside its output, passing the origin's
reason on, and must learn of the failure only through `read_upstream`; the
lips task (face points) runs the same stages and must do the same.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from alignnet.cli import main
from alignnet.data.logmel import load_logmel_file
from alignnet.data.manifest import ManifestEntry, write_manifest
from alignnet.pose.sequence import PoseSequence
from alignnet.stage_status import (
    StageStatus,
    failed_records,
    item_id,
    read_upstream,
    record_path,
    write_with_record,
)
from alignnet.tables import read_table

VIDEO = "v1"


def _download(root: Path) -> Path:
    """The download stage on a manifest row whose URL is not one: a permanent invalid_url verdict."""
    manifest = root / "manifest.tsv"
    write_manifest([ManifestEntry(VIDEO, "not a url")], manifest)
    out = root / "resources/videos" / VIDEO
    assert main(["download", "--manifest", str(manifest), "--video-id", VIDEO, "-o", str(out)]) == 0
    return out


def _corrupt_download(root: Path) -> Path:
    """A download folder whose video ffmpeg cannot decode (and an ok record): the clip stage fails."""
    out = root / "resources/videos" / VIDEO
    out.mkdir(parents=True)
    (out / "video.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    StageStatus("download", True).write(out)
    return out


ORIGINS = {"download": (_download, "invalid_url"), "clip": (_corrupt_download, "corrupt_file")}
# The lips task runs the same stages with face points: pose --face, clean --task lips.
TASK_OPTIONS = {"dance": {}, "lips": {"pose": ["--face"], "clean": ["--task", "lips"]}}

# The per-video stages after the origin, as the workflow's rules run them: (stage, output, argv).
STAGES = [
    (
        "clip",
        "results/clips/{v}",
        ["clip", "resources/videos/{v}/video.mp4", "-o", "results/clips/{v}", "--clip-seconds", "1"],
    ),
    (
        "pose",
        "results/pose/{v}.npz",
        [
            "pose",
            "results/clips/{v}/video.mp4",
            "-o",
            "results/pose/{v}.npz",
            "--backend",
            "mediapipe",
            "--no-progress",
        ],
    ),
    (
        "filter",
        "results/filter/{v}.tsv",
        ["filter", "results/clips/{v}", "results/pose/{v}.npz", "-o", "results/filter/{v}.tsv"],
    ),
    (
        "clean",
        "results/keypoints/{v}.parquet",
        [
            "clean",
            "results/clips/{v}",
            "results/pose/{v}.npz",
            "results/filter/{v}.tsv",
            "--video-id",
            "{v}",
            "--rejections",
            "results/clean/{v}.rejections.tsv",
            "-o",
            "results/keypoints/{v}.parquet",
        ],
    ),
    ("logmel", "results/logmel/{v}.npz", ["logmel", "results/clips/{v}", "-o", "results/logmel/{v}.npz"]),
]


def _empty_output(stage: str, output: Path) -> bool:
    """Whether a failed item's data file is there and empty, as the stage's format has it."""
    if stage == "clip":
        return sorted(p.name for p in output.iterdir()) == ["status.json"]
    if stage == "pose":
        return PoseSequence.load(output).n_frames == 0
    if stage == "filter":
        return read_table(output, ["video_id", "clip_index", "keep", "reason"]).empty
    if stage == "clean":
        return pq.read_table(output).num_rows == 0
    return load_logmel_file(output).clip_index.shape == (0,)


@pytest.mark.parametrize("task", sorted(TASK_OPTIONS))
@pytest.mark.parametrize("origin", sorted(ORIGINS))
def test_every_stage_writes_the_one_record_and_reads_it_upstream(
    origin: str, task: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    make, reason = ORIGINS[origin]
    first = make(tmp_path)
    assert read_upstream(first / "video.mp4").failed is (origin == "download")
    later = STAGES[[s for s, _, _ in STAGES].index(origin) :] if origin != "download" else STAGES
    for stage, output_pattern, argv in later:
        output = Path(output_pattern.format(v=VIDEO))
        assert main([a.format(v=VIDEO) for a in argv] + TASK_OPTIONS[task].get(stage, [])) == 0, stage
        record = record_path(output)
        assert record.is_file(), f"{stage} wrote no record at {record}"
        status = StageStatus.read(output)
        assert (status.stage, status.ok, status.reason, status.origin, status.retryable) == (
            stage,
            False,
            reason,
            origin,
            False,
        ), status
        assert status.detail, stage
        assert _empty_output(stage, output), f"{stage}: {output} is not the empty output of a failed item"
        upstream = read_upstream(output)  # what the next stage sees
        assert upstream.failed and upstream.failure("next") == StageStatus(
            "next", False, reason, status.detail, origin=origin
        )
    assert not np.any([p.name.startswith(".") for p in tmp_path.rglob("*")]), "no temporary left"
    records = {
        r: s
        for root in ("results/clips", "results/pose", "results/filter", "results/keypoints", "results/logmel")
        for r, s in failed_records(root).items()
    }
    assert {item_id(r) for r in records} == {VIDEO} and len(records) == 5


def test_a_stage_output_without_a_record_is_an_error_naming_it(tmp_path: Path, capsys) -> None:
    clipdir = tmp_path / "clips" / VIDEO
    clipdir.mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="clips.tsv"):
        read_upstream(clipdir / "clips.tsv")
    assert main(["logmel", str(clipdir), "-o", str(tmp_path / "x.npz")]) == 2
    assert str(clipdir) in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists() and not record_path(tmp_path / "x.npz").exists()


def test_retry_failed_removes_a_retryable_file_output_with_its_record(tmp_path: Path, capsys) -> None:
    pose = tmp_path / "results/pose"
    pose.mkdir(parents=True)
    for name, retryable in (("cut", True), ("gone", False)):
        (pose / f"{name}.npz").write_bytes(b"data")
        StageStatus("pose", False, "network_error", "reset", retryable=retryable, origin="download").write(
            pose / f"{name}.npz"
        )
    assert main(["retry-failed", str(pose)]) == 0
    assert sorted(capsys.readouterr().out.split()) == [str(pose / "cut.npz"), str(pose / "cut.status.json")]
    assert sorted(p.name for p in pose.iterdir()) == ["gone.npz", "gone.status.json"]


def test_a_write_that_fails_leaves_no_record_old_or_new(tmp_path: Path) -> None:
    output = tmp_path / "v.npz"
    StageStatus("pose", True, detail="an older run").write(output)

    def full_disk() -> None:
        raise OSError(28, "No space left on device", str(output))

    with pytest.raises(OSError, match="No space left"):
        write_with_record(output, StageStatus("pose", True), full_disk)
    assert list(tmp_path.iterdir()) == []
    write_with_record(output, StageStatus("pose", True, detail="now"), lambda: output.write_bytes(b"data"))
    assert StageStatus.read(output).detail == "now" and output.read_bytes() == b"data"
