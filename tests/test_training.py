"""Training: datasets with per-(seed, epoch, index) randomness, overfitting one batch, the CLI end to end."""

from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pytest
import safetensors.torch
import torch
from torch.utils.data import DataLoader

from alignnet.cli import main
from alignnet.correspondence import Timebase
from alignnet.distort.augment import AugmentConfig
from alignnet.distort.samples import SampleGenerator
from alignnet.errors import UserInputError
from alignnet.losses import alignment_loss
from alignnet.models import AlignNet
from alignnet.training.averaging import WeightAverage
from alignnet.training.data import (
    DistortedDataset,
    PackedSplit,
    following_clips,
    load_training_data,
)
from alignnet.training.optimizer import adam
from alignnet.training.run_settings import RunSettings
from alignnet.training.schedule import BudgetFit, RunPlan, lr_factor
from tests.synthetic_split import make_synthetic_split


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory):
    return make_synthetic_split(tmp_path_factory.mktemp("data"), {"train": 12, "val": 6, "test": 2}, seconds=2.0)


def _dataset(data_dir, seed: int = 0) -> DistortedDataset:
    split = PackedSplit.load(data_dir, "train")
    return DistortedDataset(split, Timebase.from_meta(30, 44100, 512, split.logmel.shape[-1]), SampleGenerator(), seed)


def test_samples_depend_on_seed_epoch_index_only(data_dir) -> None:
    dataset = _dataset(data_dir)
    first = dataset[3]["video"]
    assert torch.equal(_dataset(data_dir)[3]["video"], first)
    dataset.set_epoch(1)
    assert not torch.equal(dataset[3]["video"], first)
    batches = [next(iter(DataLoader(dataset, batch_size=12, num_workers=w))) for w in (0, 2)]
    assert all(torch.equal(batches[0][k], batches[1][k]) for k in ("video", "audio", "target", "source"))
    item = dataset[0]
    assert item["video"].shape == (76, 60) and item["audio"].shape == (128, 173)
    assert item["target"].min() >= -1 and item["target"].max() <= 1


def test_samples_per_epoch_cycles_the_clips(data_dir) -> None:
    split = PackedSplit.load(data_dir, "train")
    timebase = Timebase.from_meta(30, 44100, 512, split.logmel.shape[-1])
    dataset = DistortedDataset(split, timebase, SampleGenerator(spec_augment=False), 0, samples_per_epoch=30)
    assert len(dataset) == 30
    first, again = dataset[1], dataset[13]  # both clip 1, each with its own warp
    assert torch.equal(first["audio"], again["audio"]) and not torch.equal(first["source"], again["source"])


def test_one_batch_overfits(data_dir) -> None:
    torch.manual_seed(0)
    batch = next(iter(DataLoader(_dataset(data_dir), batch_size=4)))
    model = AlignNet().train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(150):
        loss, _ = alignment_loss(model(batch["video"], batch["audio"]), batch["target"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) / 10


def test_cli_trains_saves_and_resumes(data_dir, tmp_path) -> None:
    out = tmp_path / "run"
    args = ["train", "--data", str(data_dir), "--out", str(out), "--batch-size", "4", "--device", "cpu"]
    args += ["--steps-per-epoch", "2"]
    assert main([*args, "--epochs", "2", "--workers", "1", "--threads", "2"]) == 0
    for name in (
        "best.safetensors",
        "best.json",
        "last.safetensors",
        "last.json",
        "last.optim.safetensors",
        "val_warps.npz",
    ):
        assert (out / name).exists(), name
    assert list((out / "tb").glob("events.out.tfevents.*"))
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["0", "1"] and all(r["steps"] == "2" for r in rows)
    assert all(0 <= float(r["val_itu_accuracy"]) <= 1 and float(r["val_afe"]) >= 0 for r in rows)
    assert json.loads((out / "last.json").read_text())["epoch"] == 1

    assert main([*args, "--epochs", "3", "--resume"]) == 0
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["0", "1", "2"]
    assert json.loads((out / "last.json").read_text())["epoch"] == 2

    assert main([*args, "--epochs", "4", "--resume", "--no-pyramid"]) == 2  # other model options
    assert len(list((out / "tb").glob("events.out.tfevents.*"))) == 2  # the resumed run's beside the first's

    assert main([*args, "--epochs", "1"]) == 0  # a fresh run over them: its curves alone, as its checkpoints
    assert len(list((out / "tb").glob("events.out.tfevents.*"))) == 1


def test_weight_average_moves_by_one_minus_decay_and_round_trips(tmp_path) -> None:
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    start = {k: v.clone() for k, v in net.state_dict().items()}
    average = WeightAverage(net, decay=0.5)
    average.update(net)  # the first update copies
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
        net[1].running_mean.add_(2.0)
    average.update(net)  # the second: the warm-up's decay 2 / 11 is below 0.5
    moved = 1 - 2 / 11
    got = average.module.state_dict()
    for name in ("0.weight", "0.bias", "1.weight", "1.bias"):
        torch.testing.assert_close(got[name], start[name] + moved)
    torch.testing.assert_close(got["1.running_mean"], start["1.running_mean"] + 2 * moved)  # buffers too
    for _ in range(20):  # from the 9th update on the decay is 0.5: each moves half the rest of the way
        average.update(net)
    torch.testing.assert_close(average.module.state_dict()["0.bias"], start["0.bias"] + 1, atol=1e-5, rtol=0)

    with torch.no_grad():
        net[0].bias.add_(1.0)  # now start + 2
    average.save(tmp_path / "average", epoch=3)
    restored = WeightAverage(torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2)), decay=0.5)
    restored.load(tmp_path / "average")
    restored.update(net)  # moves on from the saved average, with its saved count (decay 0.5, not the warm-up's)
    torch.testing.assert_close(restored.module.state_dict()["0.bias"], start["0.bias"] + 1.5, atol=1e-5, rtol=0)
    for decay in (0.0, 1.0):
        with pytest.raises(ValueError, match="decay"):
            WeightAverage(net, decay)


def test_cli_keeps_the_weight_average_as_best_and_resumes_it(data_dir, tmp_path) -> None:
    out = tmp_path / "run"
    args = [
        "train",
        "--data",
        str(data_dir),
        "--out",
        str(out),
        "--batch-size",
        "4",
        "--device",
        "cpu",
        "--steps-per-epoch",
        "3",
        "--average-decay",
        "0.5",
    ]
    assert main([*args, "--epochs", "1"]) == 0  # one epoch: it is the best
    best, last, average = (safetensors.torch.load_file(out / f"{s}.safetensors") for s in ("best", "last", "average"))
    assert all(torch.equal(best[k], average[k]) for k in best)
    assert not all(torch.equal(best[k], last[k]) for k in best)  # last holds the trained weights
    assert main([*args, "--epochs", "2", "--resume"]) == 0
    assert json.loads((out / "average.json").read_text())["epoch"] == 1
    assert main([*args, "--epochs", "2", "--average-decay", "1"]) == 2


def test_fused_adam_makes_the_same_updates_as_plain_adam() -> None:
    torch.manual_seed(0)
    nets = [torch.nn.Linear(5, 3) for _ in range(2)]
    nets[1].load_state_dict(nets[0].state_dict())
    start = nets[0].weight.detach().clone()
    fused = adam(nets[0].parameters(), 1e-2)
    plain = torch.optim.Adam(nets[1].parameters(), lr=1e-2)
    assert fused.defaults["fused"] and not plain.defaults["fused"]
    for _ in range(5):
        x = torch.randn(8, 5)
        for net, optimizer in zip(nets, (fused, plain), strict=True):
            optimizer.zero_grad()
            net(x).square().mean().backward()
            optimizer.step()
    for a, b in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        torch.testing.assert_close(a, b)
    assert not torch.equal(nets[0].weight, start)


def test_learning_rate_schedule_follows_steps_or_time_budget() -> None:
    assert [lr_factor("cosine", p) for p in (0.0, 0.5, 1.0)] == pytest.approx([1.0, 0.5, 0.0])
    assert lr_factor("cosine", -0.5) == 1.0 and lr_factor("cosine", 1.5) == pytest.approx(0.0)
    assert lr_factor("constant", 0.7) == 1.0
    with pytest.raises(ValueError, match="linear"):
        lr_factor("linear", 0.5)
    steps_only = RunPlan(total_steps=10)
    assert steps_only.progress(5) == 0.5 and steps_only.time_share(1e6) == 0.0 and steps_only.progress(30) == 1.0
    timed = RunPlan(total_steps=1000, budget_seconds=100.0)
    assert timed.time_share(50.0) == 0.5
    assert timed.fitted(100, 100, 5.0, 8.0) is timed  # 100 steps in 5 s, 92 s left: all 1000 fit, steps decide
    assert timed.fitted(100, 100, 20.0, 25.0).total_steps == 456  # 75 s left hold 375 more; 0.95 of them planned
    assert timed.fitted(400, 100, 20.0, 25.0).total_steps == 756  # resumed after 300 steps
    assert timed.fitted(100, 100, 20.0, 25.0).progress(456) == 1.0
    assert RunPlan(1000).fitted(100, 100, 90.0, 95.0) == RunPlan(1000)  # no budget: no fitting
    fit = BudgetFit(RunPlan(total_steps=1000, budget_seconds=100.0))
    assert fit.after_epoch(100, 100, 20.0, 25.0) and fit.plan.total_steps == 456  # the first epoch's pace
    assert fit.after_epoch(200, 100, 10.0, 35.0) and fit.plan.total_steps == 817  # the second's: steps come back
    assert fit.after_epoch(300, 100, 10.0, 45.0) and fit.plan.total_steps == 822  # epochs 2-3: 200 steps in 20 s
    assert fit.fitting
    assert not fit.after_epoch(400, 100, 30.0, 75.0) and fit.fixed and fit.plan.total_steps == 822  # half used
    assert not fit.fitting
    assert not BudgetFit(RunPlan(1000)).fitting  # no budget: nothing to fit
    assert not BudgetFit(RunPlan(1000)).after_epoch(100, 100, 90.0, 95.0)


def test_runs_with_a_time_budget_that_holds_them_repeat_exactly(data_dir, tmp_path) -> None:
    """A one-minute budget that holds the run's 40 steps (a 15-second one did not, on the shared machine under
    load): the learning rate follows the steps alone, so two runs agree to the last digit. (A schedule that also reads the clock takes its start-up time as progress: about
    1/30 of the budget against 1/40 of the steps after the first step, different in every run.)"""
    metrics = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert (
            main(
                [
                    "train",
                    "--data",
                    str(data_dir),
                    "--out",
                    str(out),
                    "--epochs",
                    "2",
                    "--steps-per-epoch",
                    "20",
                    "--batch-size",
                    "4",
                    "--threads",
                    "1",
                    "--max-minutes",
                    "1",
                ]
            )
            == 0
        )
        metrics.append([row.split(",")[1:5] for row in (out / "metrics.csv").read_text().splitlines()[1:]])
    assert metrics[0] == metrics[1]


@pytest.mark.parametrize(("schedule", "final_lr"), [("constant", 0.01), ("cosine", 0.0)])
def test_cli_sets_the_learning_rate_of_its_schedule(data_dir, tmp_path, schedule, final_lr) -> None:
    out = tmp_path / schedule
    argv = [
        "train",
        "--data",
        str(data_dir),
        "--out",
        str(out),
        "--epochs",
        "2",
        "--batch-size",
        "4",
        "--steps-per-epoch",
        "2",
        "--device",
        "cpu",
        "--lr",
        "0.01",
        "--lr-schedule",
        schedule,
    ]
    assert main(argv) == 0
    groups = json.loads((out / "last.json").read_text())["optimizer"]["param_groups"]
    assert groups[0]["lr"] == pytest.approx(final_lr, abs=1e-12)


def test_validation_takes_the_saved_warp_then_more_from_fixed_seeds(data_dir, tmp_path) -> None:
    n = len(PackedSplit.load(data_dir, "val"))
    one = load_training_data(RunSettings(data_dir, tmp_path, seed=0), SampleGenerator()).val
    three = load_training_data(RunSettings(data_dir, tmp_path, seed=5, val_warps_per_clip=3), SampleGenerator()).val
    assert len(one) == n and len(three) == 3 * n
    assert np.array_equal(three.clips, np.tile(np.arange(n), 3))
    assert np.array_equal(three.positions[:n], one.positions)  # the saved warps come first
    assert not np.allclose(three.positions[n : 2 * n], one.positions)  # then new ones
    again = load_training_data(
        RunSettings(data_dir, tmp_path / "other", seed=9, val_warps_per_clip=3), SampleGenerator()
    ).val
    assert np.array_equal(again.positions, three.positions)  # the same in every run
    item = three[n + 1]  # clip 1 under its second warp
    assert np.allclose(item["source"].numpy(), three.positions[n + 1])
    assert torch.equal(item["audio"], one[1]["audio"]) and not torch.equal(item["video"], one[1]["video"])
    with pytest.raises(UserInputError, match="--val-warps-per-clip 0"):
        RunSettings(data_dir, tmp_path, val_warps_per_clip=0)


def test_max_minutes_stops_cleanly(data_dir, tmp_path) -> None:
    out = tmp_path / "short"
    argv = [
        "train",
        "--data",
        str(data_dir),
        "--out",
        str(out),
        "--epochs",
        "50",
        "--batch-size",
        "4",
        "--device",
        "cpu",
        "--max-minutes",
        "0.0001",
        "--no-temporal-attention",
    ]
    assert main(argv) == 0
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert len(rows) == 1 and rows[0]["steps"] == "1"
    assert (out / "best.json").exists()


def test_bad_data_dir_is_named(tmp_path, capsys) -> None:
    assert main(["train", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "o"), "--device", "cpu"]) == 2
    assert "meta.json" in capsys.readouterr().err


def test_input_scaling_is_trained_saved_and_used_by_the_aligner(data_dir, tmp_path) -> None:
    from alignnet.alignment_methods import AlignNetAligner
    from alignnet.checkpoint import load_model
    from alignnet.motion_features import motion_features

    out = tmp_path / "per_keypoint"
    argv = [
        "train",
        "--data",
        str(data_dir),
        "--out",
        str(out),
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--steps-per-epoch",
        "1",
        "--device",
        "cpu",
        "--per-keypoint-scaling",
    ]
    assert main(argv) == 0
    model, _ = load_model(out / "best")
    assert model.config.input_scaling == "per_keypoint"
    split = PackedSplit.load(data_dir, "val")
    keypoints, logmel = np.asarray(split.keypoints[0], np.float32), np.asarray(split.logmel[0], np.float32)
    coords = AlignNetAligner(model).coords(keypoints, logmel)
    for scaling, same in (("per_keypoint", True), ("body", False)):
        video = torch.from_numpy(motion_features(keypoints, scaling=scaling))[None]
        with torch.no_grad():
            direct = model.eval()(video, torch.from_numpy(logmel)[None])[0].numpy()
        assert np.allclose(coords, direct, atol=1e-6) == same, scaling


def test_finest_depth_is_trained_saved_and_loaded(data_dir, tmp_path, capsys) -> None:
    """--finest-depth sets the conv blocks at the finest level of both pyramids; a checkpoint of the earlier,
    one-block model loads as what it is."""
    from alignnet.checkpoint import load_model

    base = [
        "train",
        "--data",
        str(data_dir),
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--steps-per-epoch",
        "1",
        "--device",
        "cpu",
    ]
    for depth in (1, 2):
        assert main([*base, "--out", str(tmp_path / str(depth)), "--finest-depth", str(depth)]) == 0
        model, _ = load_model(tmp_path / str(depth) / "best")
        assert model.config.pyramid_depths == (depth, 2, 2, 2)
        assert len(model.video_pyramid.levels[0]) == len(model.audio_pyramid.levels[0]) == depth
    assert AlignNet().config.pyramid_depths == (4, 2, 2, 2)
    assert main([*base, "--out", str(tmp_path / "0"), "--finest-depth", "0"]) == 2
    assert "--finest-depth 0" in capsys.readouterr().err


def test_following_clips_are_back_to_back_in_one_video():
    index = pd.DataFrame({"video_id": ["a", "b", "a", "a", "b"], "start_frame": ["180", "0", "0", "540", "180"]})
    assert following_clips(index, 180).tolist() == [-1, 4, 0, -1, -1]  # a: 0 -> 180, then a gap to 540
    assert following_clips(index.drop(columns="start_frame"), 180).tolist() == [-1] * 5


def test_a_clip_followed_in_its_video_gives_windows_across_both(tmp_path):
    data_dir = make_synthetic_split(tmp_path / "data", {"train": 4, "val": 2})
    split = PackedSplit.load(data_dir, "train")
    assert split.follows.tolist() == [1, -1, 3, -1]
    timebase = Timebase.from_meta(30, 44100, 512, split.logmel.shape[-1])
    always = AugmentConfig(cross_clip_probability=1.0)
    crossing = DistortedDataset(
        split, timebase, SampleGenerator(augment=always, flip=False, spec_augment=False, cross_clip=True), 0
    )
    plain = DistortedDataset(split, timebase, SampleGenerator(augment=always, flip=False, spec_augment=False), 0)
    audio, m = crossing[0]["audio"].numpy(), split.logmel.shape[-1]
    both = np.concatenate([split.logmel[0], split.logmel[1]], axis=1).astype(np.float32)
    starts = [a for a in range(1, m) if np.array_equal(audio, both[:, a : a + m])]
    assert len(starts) == 1  # from inside clip 0 into clip 1
    assert np.array_equal(plain[0]["audio"].numpy(), split.logmel[0].astype(np.float32))
    for key in ("video", "audio", "target"):  # clip 1 has no follower: the same sample either way
        assert torch.equal(crossing[1][key], plain[1][key])


@pytest.mark.parametrize("command", ["train", "train-syncnet"])
def test_no_progress_leaves_only_the_log_lines(data_dir, tmp_path, capsys, command) -> None:
    argv = [
        command,
        "--data",
        str(data_dir),
        "--out",
        str(tmp_path / "out"),
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--steps-per-epoch",
        "3",
        "--threads",
        "1",
    ]
    assert main(argv) == 0
    assert "epoch 0:" in capsys.readouterr().err  # tqdm's bar
    assert main([*argv, "--out", str(tmp_path / "quiet"), "--no-progress"]) == 0
    assert "epoch 0:" not in capsys.readouterr().err


def _tiny_run(data_dir, out) -> list[str]:
    return [
        "train",
        "--data",
        str(data_dir),
        "--out",
        str(out),
        "--batch-size",
        "4",
        "--device",
        "cpu",
        "--steps-per-epoch",
        "2",
        "--threads",
        "1",
        "--no-progress",
    ]


def test_resume_without_a_checkpoint_starts_fresh_and_says_so(data_dir, tmp_path, caplog) -> None:
    out = tmp_path / "run"
    with caplog.at_level("WARNING"):
        assert main([*_tiny_run(data_dir, out), "--epochs", "1", "--resume"]) == 0
    assert f"no checkpoint in {out} yet (no last.json): starting fresh" in caplog.text
    assert json.loads((out / "last.json").read_text())["epoch"] == 0


def test_resume_refuses_a_checkpoint_whose_files_were_cut_apart(data_dir, tmp_path, capsys) -> None:
    """kill -9 between the renames of a checkpoint's files: new weights beside the old JSON."""
    out = tmp_path / "run"
    assert main([*_tiny_run(data_dir, out), "--epochs", "1"]) == 0
    epoch0 = (out / "last.json").read_bytes()
    assert main([*_tiny_run(data_dir, out), "--epochs", "2", "--resume"]) == 0
    meta = json.loads((out / "last.json").read_text())
    assert (meta["epoch"], meta["step"]) == (1, 4)
    assert set(meta["files"]) == {"last.safetensors", "last.optim.safetensors"}
    (out / "last.json").write_bytes(epoch0)
    capsys.readouterr()
    assert main([*_tiny_run(data_dir, out), "--epochs", "3", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "last.safetensors holds epoch 1 step 4 but last.json says epoch 0 step 2" in err, err
    assert "Traceback" not in err
