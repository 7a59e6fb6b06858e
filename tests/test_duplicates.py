"""Re-uploads, mirrored copies, covers of one song and shot cuts, on videos of `alignnet synth` edited with ffmpeg.

Two synth videos (each with its own song, dancer and room) and, made from
them with the real ffmpeg: a re-encoded copy (smaller, lower bitrates, other
audio rate, its first 1.5 s trimmed), a mirrored copy, the second dancer's
picture under the first one's song (the same song by two dancers), and a cut
in the middle (the first dancer's picture, then the second's).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alignnet.cli import main
from alignnet.data.duplicates import MatchSettings, bit_error, candidate_pairs, match_all, video_table
from alignnet.data.fingerprint import ITEM_SECONDS, VideoFingerprint, fingerprint_video, mirrored, signature_frames
from alignnet.data.shot_cuts import cuts_in_clips, detect_cuts
from alignnet.stage_status import StageStatus

SECONDS = 14.0
CUT_SECOND = 7.0
FPS = 30
# The videos are 14 s long: a real song shares minutes (defaults: 8 votes, 10 s), these share ~12 s.
SETTINGS = MatchSettings(min_votes=4, min_overlap_seconds=8.0)


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("duplicates")
    corpus = root / "corpus"
    synth = [
        sys.executable,
        "-m",
        "alignnet",
        "synth",
        str(corpus),
        "--videos",
        "2",
        "--seconds",
        str(SECONDS),
        "--width",
        "320",
        "--height",
        "180",
    ]
    subprocess.run([*synth, "--seed", "3", "--negatives", "0", "--no-progress"], check=True)
    a, b = corpus / "demo-0000.mp4", corpus / "demo-0001.mp4"
    paths = {"original": a, "other": b}
    paths["reencoded"] = root / "reencoded.mp4"
    _ffmpeg(
        "-ss",
        "1.5",
        "-i",
        str(a),
        "-vf",
        "scale=214:120",
        "-c:v",
        "libx264",
        "-crf",
        "32",
        "-c:a",
        "aac",
        "-b:a",
        "96k",
        "-ar",
        "22050",
        str(paths["reencoded"]),
    )
    paths["mirrored"] = root / "mirrored.mp4"
    _ffmpeg(
        "-i",
        str(a),
        "-vf",
        "hflip",
        "-c:v",
        "libx264",
        "-crf",
        "26",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        str(paths["mirrored"]),
    )
    paths["two_dancers"] = root / "two_dancers.mp4"
    _ffmpeg("-i", str(b), "-i", str(a), "-map", "0:v", "-map", "1:a", "-c", "copy", str(paths["two_dancers"]))
    paths["cut"] = root / "cut.mp4"
    graph = (
        f"[0:v]trim=0:{CUT_SECOND},setpts=PTS-STARTPTS[a];[1:v]trim={CUT_SECOND}:{SECONDS},setpts=PTS-STARTPTS[b];"
        "[a][b]concat=n=2:v=1:a=0[v]"
    )
    _ffmpeg(
        "-i",
        str(a),
        "-i",
        str(b),
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
        str(paths["cut"]),
    )
    return paths


@pytest.fixture(scope="module")
def fingerprints(videos) -> dict[str, VideoFingerprint]:
    return {name: fingerprint_video(name, path, (0, 0)) for name, path in videos.items() if name != "cut"}


@pytest.fixture(scope="module")
def table(fingerprints) -> pd.DataFrame:
    return video_table(list(fingerprints.values()), match_all(list(fingerprints.values()), SETTINGS)).set_index(
        "video_id"
    )


def test_fingerprints_cover_the_audio_and_the_picture(fingerprints, tmp_path) -> None:
    original = fingerprints["original"]
    assert not original.failed
    assert original.duration == pytest.approx(SECONDS, abs=0.1)
    assert original.audio.dtype == np.uint32 and original.audio.size > 0.8 * SECONDS / ITEM_SECONDS - 16
    assert original.visual.shape == (SECONDS * 4, 256)
    np.testing.assert_allclose(np.linalg.norm(original.visual, axis=1), 1.0, atol=1e-4)
    original.save(tmp_path / "fp.npz")
    loaded = VideoFingerprint.load(tmp_path / "fp.npz")
    np.testing.assert_array_equal(loaded.audio, original.audio)
    np.testing.assert_allclose(loaded.visual, original.visual, atol=1e-3)
    assert (loaded.video_id, loaded.duration, loaded.failed) == ("original", original.duration, {})


def test_reencoded_copy_is_a_duplicate(table) -> None:
    copies = table.loc[["original", "mirrored", "reencoded"]]
    kept = copies.index[copies["keep"]].tolist()
    # one of the group is kept, one with the longest audio: not the copy that lost its first 1.5 s
    assert len(kept) == 1 and kept[0] != "reencoded"
    row = table.loc["reencoded"]
    assert row["reason"] == "duplicate" and row["duplicate_of"] == kept[0]
    assert f"re-upload of {kept[0]}: starts +1.49 s into it" in row["detail"]


def test_mirrored_copy_is_a_duplicate(table) -> None:
    pair = table.loc[["original", "mirrored"]]
    assert pair["keep"].sum() == 1
    copy = pair[~pair["keep"]].iloc[0]
    assert copy["reason"] == "duplicate" and "mirrored picture correlation 1.00" in copy["detail"]


def test_same_song_by_two_dancers_is_one_song_not_a_duplicate(table) -> None:
    assert table.loc["two_dancers", "keep"] and table.loc["two_dancers", "reason"] == ""
    assert table.loc["two_dancers", "song_id"] == table.loc["original", "song_id"] == table.loc["mirrored", "song_id"]
    assert table.loc["other", "keep"] and table.loc["other", "song_id"] == "other"


def test_audio_and_picture_scores(fingerprints) -> None:
    """The figures behind the verdicts: the song matches at its offset, the pictures only for copies."""
    names = list(fingerprints)
    matches = {(m.video_a, m.video_b): m for m in match_all(list(fingerprints.values()), SETTINGS)}
    assert not any("other" in pair for pair in matches)  # another song: no audio match at all
    copy = matches[("original", "mirrored")]
    assert copy.bit_error < 0.1 and copy.visual_mirrored > 0.95 and copy.visual_direct < 0.6
    cover = matches[("original", "two_dancers")]
    assert cover.bit_error == 0.0 and max(cover.visual_direct, cover.visual_mirrored) < 0.4
    # the candidate offset of the trimmed copy: 1.5 s in items
    pairs = candidate_pairs([fingerprints[n].audio for n in names], SETTINGS)
    offset = pairs[(names.index("original"), names.index("reencoded"))]
    assert offset * ITEM_SECONDS == pytest.approx(1.5, abs=2 * ITEM_SECONDS)
    error, _ = bit_error(fingerprints["original"].audio, fingerprints["other"].audio, 0)
    assert 0.35 < error < 0.65  # unrelated audio differs in about half its bits


def test_signature_ignores_letterbox_and_flips_with_the_frame() -> None:
    rng = np.random.default_rng(0)
    frames = rng.integers(40, 255, size=(3, 90, 160), dtype=np.uint8)
    boxed = np.zeros((3, 160, 160), np.uint8)
    boxed[:, 35:125] = frames
    plain, letterboxed = signature_frames(frames), signature_frames(boxed)
    assert np.einsum("ij,ij->i", plain, letterboxed).min() > 0.99
    flipped = signature_frames(frames[:, :, ::-1].copy())
    assert np.einsum("ij,ij->i", mirrored(plain), flipped).min() > 0.99


def test_commands_over_download_directories(videos, tmp_path) -> None:
    """`alignnet fingerprint` per download directory (one failed) and `alignnet duplicates` over all."""
    prints = []
    for name in ("original", "mirrored", "two_dancers"):
        directory = tmp_path / "videos" / name
        directory.mkdir(parents=True)
        (directory / "video.mp4").symlink_to(videos[name])
        StageStatus("download", True).write(directory)
        prints.append(tmp_path / "fp" / f"{name}.npz")
        assert main(["fingerprint", str(directory), "-o", str(prints[-1])]) == 0
    failed = tmp_path / "videos" / "gone"
    failed.mkdir()
    StageStatus("download", False, "unavailable", "removed by the uploader").write(failed)
    prints.append(tmp_path / "fp" / "gone.npz")
    assert main(["fingerprint", str(failed), "-o", str(prints[-1])]) == 0
    assert VideoFingerprint.load(prints[-1]).failed == {"download": "unavailable"}
    out, pairs = tmp_path / "videos.tsv", tmp_path / "pairs.tsv"
    args = ["duplicates", *map(str, prints), "-o", str(out), "--pairs", str(pairs), "--min-votes", "4"]
    assert main([*args, "--min-overlap-seconds", "8"]) == 0
    table = pd.read_csv(out, sep="\t", keep_default_na=False).set_index("video_id")
    assert table.loc[["gone", "two_dancers"], "reason"].tolist() == ["", ""]
    assert sorted(table.loc[["original", "mirrored"], "reason"]) == ["", "duplicate"]
    assert table["song_id"].to_dict() == {
        "gone": "gone",
        "mirrored": "mirrored",
        "original": "mirrored",
        "two_dancers": "mirrored",
    }
    assert len(pd.read_csv(pairs, sep="\t")) == 3


def test_cut_in_the_middle_of_a_clip(videos) -> None:
    cuts = detect_cuts(videos["cut"])
    assert cuts == [int(CUT_SECOND * FPS)]
    assert detect_cuts(videos["original"]) == [] and detect_cuts(videos["mirrored"]) == []
    clips = pd.DataFrame({"clip_index": [0, 1], "start_frame": [0, 180], "n_frames": [180, 180]})
    assert cuts_in_clips(cuts, clips) == {1: [30]}
    # a cut on a clip's first frame starts the clip on a new shot: nothing to reject
    assert cuts_in_clips([180], clips) == {}
