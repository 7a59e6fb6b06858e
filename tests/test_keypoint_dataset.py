"""The general checkpoint's training data: simulated pose errors and the packed dataset drawn from the truth.

Needs drascula-music (a training package), which scripts/setup.sh installs.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from alignnet.cli import main as cli_main
from alignnet.data.clean import CleanParams, clean_clip
from alignnet.demo.synth import keypoint_dataset
from alignnet.demo.synth.corpus import FPS, Options, plan_video
from alignnet.demo.synth.pose_errors import (
    MIRROR_25,
    PoseErrors,
    body_height,
    measure_pose_errors,
    simulate_pose_errors,
)
from alignnet.errors import UserInputError
from alignnet.training.data import PackedSplit, read_data_meta

NO_ERRORS = PoseErrors(jitter=0, wobble=0, point_dropout=0, person_dropout=0, swap=0)


def _options(seconds: float = 12.0, **changes) -> Options:
    opts = Options(7, seconds, False, 0.0, 640, 360, "recorded", ("drascula-music",), ("groove",), ("studio",))
    return dataclasses.replace(opts, **changes)


@pytest.fixture(scope="module")
def truth() -> np.ndarray:
    return plan_video(0, _options()).keypoints


def test_the_plan_is_what_synth_draws(truth: np.ndarray) -> None:
    plan = plan_video(0, _options())
    assert plan.keypoints.shape == (12 * FPS, 25, 3)
    assert plan.audio.shape == (12 * 44100,)
    assert np.array_equal(np.asarray(plan.sidecar["keypoints"]), np.round(truth, 2))
    assert plan.sidecar["figure"] == "studio" and plan.sidecar["dance_style"] == "groove"


def test_without_errors_the_estimate_is_the_truth(truth: np.ndarray) -> None:
    estimate = simulate_pose_errors(np.random.default_rng(0), truth, NO_ERRORS, FPS)
    assert np.allclose(estimate[..., :2], truth[..., :2])
    stats = measure_pose_errors(truth, estimate)
    assert stats.median_error == 0 and stats.swap_share == 0 and stats.missing_share == 0


def test_measured_errors_match_the_simulated_sizes(truth: np.ndarray) -> None:
    errors = PoseErrors(jitter=0.01, wobble=0.0, point_dropout=0.0, person_dropout=0.1, swap=0.3)
    estimate = simulate_pose_errors(np.random.default_rng(1), truth, errors, FPS)
    stats = measure_pose_errors(truth, estimate)
    # 2-D Gaussian noise of std s per axis: the median distance is s * sqrt(2 ln 2).
    assert stats.median_error == pytest.approx(0.01 * np.sqrt(2 * np.log(2)), rel=0.1)
    assert stats.jitter == pytest.approx(0.01, rel=0.1)
    assert 0.15 < stats.swap_share < 0.45
    assert 0.04 < stats.missing_share < 0.2


def test_a_swapped_frame_has_left_and_right_exchanged(truth: np.ndarray) -> None:
    swapped = truth.copy()
    swapped[10:20] = truth[10:20][:, MIRROR_25]
    stats = measure_pose_errors(truth, swapped)
    assert stats.swap_share == pytest.approx(10 / len(truth))
    assert stats.median_error == 0


def test_errors_scale_with_the_body(truth: np.ndarray) -> None:
    bigger = truth.copy()
    bigger[..., :2] *= 2
    one = measure_pose_errors(truth, simulate_pose_errors(np.random.default_rng(2), truth, PoseErrors(), FPS))
    two = measure_pose_errors(bigger, simulate_pose_errors(np.random.default_rng(2), bigger, PoseErrors(), FPS))
    assert body_height(bigger) == pytest.approx(2 * body_height(truth))
    assert two.median_error == pytest.approx(one.median_error, rel=1e-6)


def test_the_packed_dataset_is_what_train_reads_and_its_keypoints_are_the_cleaned_estimate(tmp_path: Path) -> None:
    out = tmp_path / "packed"
    counts = keypoint_dataset.write_keypoint_dataset(out, _options(), {"train": 2, "val": 1}, progress=False)
    assert 3 <= counts["train"] <= 4 and counts["val"] == 2  # two 6-s clips per 12-s video (as the clean stage
    # does, a clip with a gap of over 0.5 s is left out: video 0's second clip has one)
    meta = read_data_meta(out)
    assert meta["pose_backend"] == "mediapipe" and meta["n_keypoints"] == 19 and meta["clip_seconds"] == 6.0
    assert meta["source"]["corpus"]["music_packages"] == ["drascula-music"]
    train, val = PackedSplit.load(out, "train"), PackedSplit.load(out, "val")
    assert train.keypoints.shape == (counts["train"], 180, 19, 2)
    assert train.logmel.shape == (counts["train"], 128, 516)
    assert val.clip_ids == ["demo-0002/0", "demo-0002/1"]  # video-disjoint: the val videos follow the train ones
    assert not (out / "val_warps.npz").exists()  # training draws them with its own (strong) warps
    # Video 1's second clip: the simulated estimate of the truth, cleaned as the clean stage does.
    rng = np.random.default_rng([7, 1, 7034])
    plan = plan_video(1, _options())
    observed = simulate_pose_errors(rng, plan.keypoints, keypoint_dataset.video_errors(rng, PoseErrors()), FPS)
    row = train.clip_ids.index("demo-0001/1")
    assert np.allclose(train.keypoints[row], clean_clip(observed[180:360], CleanParams()))
    # The train log-mel is normalised with the train statistics.
    logmel = np.asarray(train.logmel, np.float32)
    assert abs(float(logmel.mean())) < 0.05 and float(logmel.std()) == pytest.approx(1.0, abs=0.05)


def test_synth_packed_writes_it_from_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "packed"
    argv = ["synth", str(out), "--packed", "--videos", "1", "--val-videos", "1", "--seconds", "6", "--negatives", "0"]
    argv += ["--music", "recorded", "--music-packages", "drascula-music", "--dance-styles", "flowing"]
    assert cli_main([*argv, "--figures", "home", "--no-progress"]) == 0
    assert json.loads((out / "meta.json").read_text())["clips"] == {"train": 1, "val": 1}


def test_negatives_and_warps_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="good, unwarped"):
        keypoint_dataset.write_keypoint_dataset(tmp_path, _options(negatives=0.2), {"train": 1})
    with pytest.raises(UserInputError, match="shorter than one clip"):
        keypoint_dataset.write_keypoint_dataset(tmp_path, _options(seconds=4.0), {"train": 1})
