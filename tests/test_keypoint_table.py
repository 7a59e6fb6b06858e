"""Keypoint Parquet files: schema, reproducible bytes, reading back, and the `alignnet clean` command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from alignnet.cli import main
from alignnet.data.clean import CleanParams
from alignnet.data.keypoint_table import (
    SCHEMA,
    CleanedClip,
    KeypointFiles,
    clips_to_table,
    file_metadata,
    read_clip_keypoints,
    read_metadata,
    write_keypoint_table,
)
from alignnet.data.logmel import LogMelConfig, LogMelFile, save_logmel_file
from alignnet.keypoints import MID_HIP
from alignnet.pose.sequence import PoseSequence
from alignnet.stage_status import StageStatus


def _clips(seed: int = 0) -> list[CleanedClip]:
    rng = np.random.default_rng(seed)
    return [
        CleanedClip(i, 180 * i, rng.normal(size=(180, 19, 2)).astype(np.float32), rng.uniform(size=(180, 19)))
        for i in (2, 0)
    ]


def _write(path, video_id: str = "vid", clips=None, params: CleanParams | None = None) -> None:
    params = params or CleanParams()
    table = clips_to_table(video_id, 30.0, _clips() if clips is None else clips)
    write_keypoint_table(path, table, file_metadata("mediapipe", params.to_json(), params.config_hash()))


def test_schema_rows_and_metadata(tmp_path) -> None:
    _write(tmp_path / "vid.parquet")
    table = pq.read_table(tmp_path / "vid.parquet")
    assert table.schema.remove_metadata().equals(SCHEMA)
    assert table.num_rows == 360
    assert table.column("clip_id")[0].as_py() == "vid/0000"  # sorted by clip index
    assert table.column("frame").to_pylist()[:3] == [0, 1, 2]
    meta = read_metadata(tmp_path / "vid.parquet")
    assert meta["alignnet.pose_backend"] == "mediapipe"
    assert set(json.loads(meta["alignnet.versions"])) == {"alignnet", "numpy", "scipy", "pyarrow"}
    assert meta["alignnet.config_hash"] == CleanParams().config_hash()
    assert json.loads(meta["alignnet.clean_params"])["max_gap"] == CleanParams().max_gap
    assert pq.ParquetFile(tmp_path / "vid.parquet").metadata.row_group(0).column(6).compression == "ZSTD"


def test_identical_input_gives_identical_bytes(tmp_path) -> None:
    _write(tmp_path / "a.parquet")
    _write(tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def test_read_clip_keypoints_round_trip_over_a_directory(tmp_path) -> None:
    _write(tmp_path / "ds" / "vid.parquet")
    _write(tmp_path / "ds" / "other.parquet", "other", _clips(1)[:1])
    _write(tmp_path / "ds" / "empty.parquet", "empty", [])
    clips = read_clip_keypoints(tmp_path / "ds")
    assert sorted(clips) == ["other/0002", "vid/0000", "vid/0002"]
    original = {c.clip_index: c.xy for c in _clips()}
    np.testing.assert_array_equal(clips["vid/0002"], original[2])
    assert clips["vid/0000"].shape == (180, 19, 2) and clips["vid/0000"].dtype == np.float32
    assert read_clip_keypoints([tmp_path / "ds" / "empty.parquet"]) == {}
    with pytest.raises(FileNotFoundError, match="nowhere"):
        read_clip_keypoints(tmp_path / "nowhere")


def test_one_dataset_has_one_cleaning(tmp_path) -> None:
    _write(tmp_path / "a.parquet")
    _write(tmp_path / "b.parquet", "b")
    assert json.loads(KeypointFiles.open(tmp_path).clean_params) == json.loads(CleanParams().to_json())
    _write(tmp_path / "c.parquet", "c", params=CleanParams(median_kernel=5))
    with pytest.raises(ValueError, match=r"c\.parquet: cleaning parameters \{[^}]*\"median_kernel\":5"):
        _ = KeypointFiles.open(tmp_path).clean_params


def test_split_refuses_two_cleanings_as_a_user_error(tmp_path, capsys) -> None:
    """A DataError: a ValueError for the package's callers, exit 2 and the odd file named for the CLI's."""
    _write(tmp_path / "a.parquet")
    files = KeypointFiles.open(tmp_path)
    assert files.paths == (str(tmp_path / "a.parquet"),) and read_clip_keypoints(files).keys() == {
        "vid/0000",
        "vid/0002",
    }
    _write(tmp_path / "c.parquet", "c", params=CleanParams(median_kernel=5))
    with pytest.raises(ValueError, match=r"c\.parquet: cleaning parameters"):
        _ = KeypointFiles.open(tmp_path).clean_params
    code = main(
        [
            "split",
            "--keypoints",
            str(tmp_path / "a.parquet"),
            str(tmp_path / "c.parquet"),
            "--logmel",
            str(tmp_path / "a.npz"),
            "-o",
            str(tmp_path / "splits"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "c.parquet: cleaning parameters" in err and "Traceback" not in err
    assert not (tmp_path / "splits" / "meta.json").exists()


def test_split_song_disjoint_records_its_choice(tmp_path, capsys) -> None:
    """`alignnet split --disjoint song`: a song's videos share a split, meta.json and splits.tsv say so."""
    rng = np.random.default_rng(0)
    videos = ["a", "b", "c", "d", "e"]
    for video in videos:
        _write(tmp_path / f"{video}.parquet", video)
        data = LogMelFile(rng.normal(size=(2, 128, 10)).astype(np.float16), np.array([2, 0]), LogMelConfig())
        save_logmel_file(data, tmp_path / f"{video}.npz")
    songs = tmp_path / "videos.tsv"
    pd.DataFrame(
        {
            "video_id": videos,
            "song_id": ["a", "a", "c", "d", "a"],
            "keep": True,
            "reason": "",
            "detail": "",
            "duplicate_of": "",
        }
    ).to_csv(songs, sep="\t", index=False)
    args = [
        "split",
        "--keypoints",
        *(str(tmp_path / f"{v}.parquet") for v in videos),
        "--logmel",
        *(str(tmp_path / f"{v}.npz") for v in videos),
        "--train",
        "6",
        "--val",
        "2",
        "--test",
        "2",
    ]
    assert main([*args, "--disjoint", "song", "--songs", str(songs), "-o", str(tmp_path / "song")]) == 0
    table = pd.read_csv(tmp_path / "song" / "splits.tsv", sep="\t")
    assert table.groupby("group_id")["split"].nunique().max() == 1
    assert table.loc[table["video_id"].isin(["a", "b", "e"]), "group_id"].unique().tolist() == ["a"]
    meta = json.loads((tmp_path / "song" / "meta.json").read_text())
    assert meta["disjoint"] == "song" and meta["groups"] == 3
    assert main([*args, "-o", str(tmp_path / "video")]) == 0
    meta = json.loads((tmp_path / "video" / "meta.json").read_text())
    assert meta["disjoint"] == "video" and meta["groups"] == 5
    assert main([*args, "--disjoint", "song", "-o", str(tmp_path / "x")]) == 2
    assert "--disjoint song needs --songs" in capsys.readouterr().err


# --- the command ------------------------------------------------------------


def _video(tmp_path, n_clips: int = 3, frames: int = 30) -> tuple:
    """A clip directory, a pose file of straight-line motion and a verdict file keeping clips 0 and 2."""
    clipdir = tmp_path / "clips"
    clipdir.mkdir()
    StageStatus("clip", True).write(clipdir)
    pd.DataFrame(
        {
            "clip_index": range(n_clips),
            "start_frame": [i * frames for i in range(n_clips)],
            "n_frames": frames,
            "start_sample": [i * 44100 for i in range(n_clips)],
            "n_samples": 44100,
            "start_time": [float(i) for i in range(n_clips)],
        }
    ).to_csv(clipdir / "clips.tsv", sep="\t", index=False)
    total = n_clips * frames
    t = np.arange(total, dtype=np.float32)[:, None]
    kp = np.zeros((total, 25, 3), np.float32)
    kp[..., 0] = 100 + np.arange(25) * 10 + t
    kp[..., 1] = 300 + np.arange(25) * 5 - 0.5 * t
    kp[..., 2] = 0.8
    kp[2 * frames + 5 : 2 * frames + 25, 4, 2] = 0.0  # clip 2: RWrist missing 20 frames
    PoseSequence(kp, np.ones(total), 30.0, 640, 480, "mediapipe").save(tmp_path / "pose.npz")
    pd.DataFrame(
        {
            "video_id": "vid",
            "clip_index": range(n_clips),
            "keep": [True, False, True],
            "reason": ["", "camera_motion", ""],
        }
    ).to_csv(tmp_path / "verdicts.tsv", sep="\t", index=False)
    return clipdir, tmp_path / "pose.npz", tmp_path / "verdicts.tsv"


def test_clean_command_writes_kept_clips_and_rejections(tmp_path) -> None:
    clipdir, pose, verdicts = _video(tmp_path)
    out, rej = tmp_path / "kp.parquet", tmp_path / "rejections.tsv"
    args = [
        "clean",
        str(clipdir),
        str(pose),
        str(verdicts),
        "-o",
        str(out),
        "--video-id",
        "vid",
        "--rejections",
        str(rej),
        "--max-gap",
        "10",
    ]
    assert main(args) == 0
    clips = read_clip_keypoints(out)
    assert list(clips) == ["vid/0000"]  # 1 filtered out, 2 rejected by cleaning
    np.testing.assert_allclose(clips["vid/0000"][:, MID_HIP], 0.0)
    np.testing.assert_allclose(clips["vid/0000"][:, 0, 0], -80.0, atol=1e-4)  # Nose x - MidHip x
    table = pd.read_csv(rej, sep="\t")
    assert table[["video_id", "clip_index", "reason"]].values.tolist() == [["vid", 2, "gap_too_long"]]
    first = out.read_bytes()
    assert main(args) == 0  # rerun: same bytes, rejections not duplicated
    assert out.read_bytes() == first
    assert len(pd.read_csv(rej, sep="\t")) == 1
    assert main([*args[:-2], "--max-gap", "20"]) == 0
    assert sorted(read_clip_keypoints(out)) == ["vid/0000", "vid/0002"]
    assert len(pd.read_csv(rej, sep="\t")) == 0


def test_clean_command_upstream_failure_writes_empty_table(tmp_path) -> None:
    clipdir = tmp_path / "clips"
    clipdir.mkdir()
    StageStatus("clip", False, "too_short", "3.2 s").write(clipdir)
    StageStatus("pose", False, "too_short", "3.2 s", origin="clip").write(tmp_path / "pose" / "pose.npz")
    out = tmp_path / "kp.parquet"
    code = main(
        [
            "clean",
            str(clipdir),
            str(tmp_path / "pose" / "pose.npz"),
            str(tmp_path / "v.tsv"),
            "-o",
            str(out),
            "--video-id",
            "vid",
        ]
    )
    assert code == 0
    table = pq.read_table(out)
    assert table.num_rows == 0 and table.schema.remove_metadata().equals(SCHEMA)
    assert StageStatus.read(out) == StageStatus("clean", False, "too_short", "3.2 s", origin="clip")


def test_clean_command_bad_parameters_named(tmp_path, capsys) -> None:
    clipdir, pose, verdicts = _video(tmp_path)
    code = main(
        [
            "clean",
            str(clipdir),
            str(pose),
            str(verdicts),
            "-o",
            str(tmp_path / "o.parquet"),
            "--video-id",
            "vid",
            "--median-kernel",
            "4",
        ]
    )
    assert code == 2
    assert "median_kernel" in capsys.readouterr().err
