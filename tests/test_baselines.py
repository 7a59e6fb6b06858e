"""Baselines: SyncNet shapes and training, the offset search, DTW, the onset floor, the train-syncnet CLI."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.ndimage import gaussian_filter1d
from scipy.spatial.distance import cdist
from torch.utils.data import DataLoader

from alignnet.baselines import (
    OnsetFloorAligner,
    SyncNet,
    SyncNetConfig,
    SyncNetDTWAligner,
    SyncNetOffsetAligner,
    best_offset,
    dtw_source_frames,
    load_syncnet,
)
from alignnet.baselines.syncnet import audio_grid, cost_matrices
from alignnet.baselines.syncnet_training import SyncNetTrainConfig, pair_loss
from alignnet.checkpoint import save_checkpoint
from alignnet.cli import build_command_parser, main
from alignnet.correspondence import Timebase
from alignnet.data.logmel import LogMelStats, logmel
from alignnet.distort.samples import SampleGenerator
from alignnet.distort.warps import WarpConfig, apply_warp, random_warp
from alignnet.errors import UserInputError
from alignnet.metrics import afe, itu_accuracy
from alignnet.training.data import DistortedDataset, PackedSplit
from tests.synthetic_split import make_synthetic_split

SMALL = SyncNetConfig(channels=32, embed_dim=16)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory):
    return make_synthetic_split(tmp_path_factory.mktemp("data"), {"train": 12, "val": 4, "test": 2}, seconds=2.0)


def test_audio_grid_covers_the_clip() -> None:
    # a 6-second clip: 516 log-mel frames at 86.13 fps, 180 video frames at 30 fps
    assert len(audio_grid(Timebase.from_meta(30, 44100, 512, 516))) == 180
    grid = audio_grid(Timebase.from_meta(30, 44100, 512, 259))  # 3 s + 1 frame
    assert grid[0] == 0 and grid[-1] == 89 and np.all(np.diff(grid) == 1)


def test_shapes_and_unit_embeddings() -> None:
    model = SyncNet(SMALL).eval()
    video, audio = torch.randn(2, 76, 40), torch.randn(2, 128, 120)
    v = model.embed_video(video)
    assert v.shape == (2, 16, 40)
    torch.testing.assert_close(v.norm(dim=1), torch.ones(2, 40))
    a = model.embed_audio(model.audio_features(audio), torch.linspace(-1, 1, 7)[None].expand(2, -1))
    assert a.shape == (2, 16, 7)
    timebase = Timebase.from_meta(30, 44100, 512, 120)
    cost = cost_matrices(model, video, audio, timebase)
    assert cost.shape == (2, 40, len(audio_grid(timebase)))
    assert float(cost.detach().min()) >= 0 and float(cost.detach().max()) <= 2 + 1e-5


def test_contrastive_loss_separates_matching_from_shifted_pairs(data_dir) -> None:
    torch.manual_seed(0)
    split = PackedSplit.load(data_dir, "train")
    timebase = Timebase.from_meta(30, 44100, 512, split.logmel.shape[-1])
    samples = SampleGenerator(warp=WarpConfig(min_span=0.9), spec_augment=False)
    dataset = DistortedDataset(split, timebase, samples, seed=0, samples_per_epoch=8 * 40)
    cfg = SyncNetTrainConfig(data=data_dir, out=data_dir, min_shift_seconds=0.2, max_shift_seconds=1.0)
    model = SyncNet(SMALL)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    shifts = torch.Generator().manual_seed(0)

    def distances(batch: dict[str, torch.Tensor]) -> tuple[float, dict[str, float]]:
        model.eval()
        with torch.no_grad():
            loss, parts = pair_loss(model, batch, timebase, cfg, torch.Generator().manual_seed(1), torch.device("cpu"))
        return float(loss), parts

    held_out = next(iter(DataLoader(DistortedDataset(split, timebase, samples, seed=99), batch_size=12)))
    loss_before, _ = distances(held_out)
    model.train()
    for batch in DataLoader(dataset, batch_size=8):
        loss, _ = pair_loss(model, batch, timebase, cfg, shifts, torch.device("cpu"))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    loss_after, parts = distances(held_out)
    assert loss_after < loss_before
    assert parts["match_distance"] < 0.6 * parts["shifted_distance"]


def _cost_of_shift(shift: int, n: int = 60, extra: int = 40, seed: int = 0) -> np.ndarray:
    """Cost (n, n + extra) between a non-periodic embedding sequence and a window of it starting at `shift`."""
    rng = np.random.default_rng(seed)
    audio = gaussian_filter1d(rng.standard_normal((n + extra, 8)), 1.5, axis=0)
    return cdist(audio[shift : shift + n], audio)


@pytest.mark.parametrize("shift", [0, 7, 23])
def test_offset_search_recovers_a_pure_shift(shift: int) -> None:
    cost = _cost_of_shift(shift)
    assert best_offset(cost, max_offset=30) == shift
    aligner = SyncNetOffsetAligner(SyncNet(SMALL), max_offset_seconds=1.0)
    np.testing.assert_array_equal(aligner.from_cost(cost, Timebase(30.0, 86.0, 300)), np.arange(60) + shift)


def test_offset_search_range_and_overlap() -> None:
    cost = _cost_of_shift(23)
    assert best_offset(cost, max_offset=10) != 23  # outside the search range
    assert best_offset(np.zeros((5, 5)), max_offset=3) == 0  # ties go to the smallest |offset|
    with pytest.raises(ValueError, match="no offset"):
        best_offset(np.zeros((5, 5)), max_offset=2, min_overlap=6)


def _nonperiodic(rng: np.random.Generator, length: int, dims: int = 4) -> np.ndarray:
    return gaussian_filter1d(rng.standard_normal((length, dims)), 2.0, axis=0)


def test_dtw_recovers_a_known_warp() -> None:
    rng = np.random.default_rng(3)
    audio = _nonperiodic(rng, 150)
    positions = random_warp(rng, 150, 150, WarpConfig(min_span=1.0))  # corner to corner, local warp only
    video = apply_warp(audio[:, None, :], positions)[:, 0]
    pred = dtw_source_frames(cdist(video, audio), band=0.3)
    assert pred.shape == (150,)
    assert np.all(np.diff(pred) >= 0)
    assert afe(pred, positions) < 1.0
    assert itu_accuracy(pred, positions, 30.0) > 0.95


def test_subsequence_dtw_finds_a_partial_clip() -> None:
    rng = np.random.default_rng(4)
    audio = _nonperiodic(rng, 150)
    positions = 30 + 0.7 * np.arange(120)  # the video covers source frames 30 .. 113.3, slowed down
    video = apply_warp(audio[:, None, :], positions)[:, 0]
    pred = dtw_source_frames(cdist(video, audio), band=0.5, subsequence=True)
    assert np.all(np.diff(pred) >= 0)
    assert afe(pred, positions) < 1.0
    with pytest.raises(ValueError, match="subsequence"):
        dtw_source_frames(np.zeros((10, 5)), band=0.5, subsequence=True)


def _onset_example(seed: int, seconds: float = 6.0, fps: int = 30, sr: int = 44100) -> tuple[np.ndarray, np.ndarray]:
    """Music of noise hits at irregular times, and a 19-point figure that jerks on every hit.

    Returns keypoints (frames, 19, 2) body-centred pixels and a per-bin normalised log-mel (128, m).
    """
    rng = np.random.default_rng(seed)
    gaps = rng.uniform(0.25, 0.7, size=int(seconds / 0.25))
    hits = np.cumsum(gaps)
    hits = hits[hits < seconds - 0.2]
    t = np.arange(int(seconds * sr)) / sr
    audio = 0.01 * rng.standard_normal(t.size)
    for hit, gain in zip(hits, rng.uniform(0.4, 1.0, hits.size), strict=True):
        lag = t - hit
        audio += gain * np.where(lag >= 0, np.exp(-np.clip(lag, 0, None) / 0.05), 0.0) * rng.standard_normal(t.size)
    mel = logmel(np.clip(audio, -1, 1))
    mel = (mel - mel.mean(axis=1, keepdims=True)) / (mel.std(axis=1, keepdims=True) + 1e-6)
    frames = np.arange(int(seconds * fps)) / fps
    lag = frames[None] - hits[:, None]
    jerk = (np.where(lag >= 0, lag * np.exp(-np.clip(lag, 0, None) / 0.08), 0.0) / 0.08).sum(0)  # (frames,)
    base = rng.normal(0, 60, (19, 2))
    direction = rng.normal(0, 1, (19, 2))
    keypoints = base[None] + 25 * jerk[:, None, None] * direction[None] + rng.normal(0, 0.5, (frames.size, 19, 2))
    return keypoints.astype(np.float32), mel


def test_onset_floor_beats_the_identity() -> None:
    # tempo changes over the whole clip (corner to corner): what classic DTW can follow
    aligner = OnsetFloorAligner()
    assert aligner.name == "Onset+DTW"
    errors, identity = [], []
    for seed in range(6):
        keypoints, mel = _onset_example(seed)
        timebase = Timebase.from_meta(30, 44100, 512, mel.shape[-1])
        warp = WarpConfig(min_span=1.0, local_probability=1.0)
        positions = random_warp(np.random.default_rng([7, seed]), 180, 180, warp)
        pred = aligner.align(apply_warp(keypoints, positions), mel, timebase)
        assert pred.shape == (180,) and np.all(np.diff(pred) >= 0)
        errors.append(afe(pred, positions))
        identity.append(afe(np.arange(180.0), positions))
    assert np.mean(errors) < 0.75 * np.mean(identity)


def test_load_syncnet_rejects_other_checkpoints(tmp_path) -> None:
    save_checkpoint(tmp_path / "plain", torch.nn.Linear(2, 2), epoch=0, metrics={})
    with pytest.raises(UserInputError, match="not a SyncNet checkpoint"):
        load_syncnet(tmp_path / "plain")
    with pytest.raises(UserInputError, match="missing"):
        load_syncnet(tmp_path / "missing")


def test_train_syncnet_cli_writes_checkpoints_and_metrics(data_dir, tmp_path) -> None:
    out = tmp_path / "syncnet"
    args = ["train-syncnet", "--data", str(data_dir), "--out", str(out), "--epochs", "2", "--steps-per-epoch", "2"]
    args += ["--batch-size", "4", "--threads", "1", "--channels", "16", "--embed-dim", "8", "--seed", "1"]
    assert main(args) == 0
    for name in ("best.safetensors", "best.json", "last.safetensors", "last.json", "last.optim.safetensors"):
        assert (out / name).is_file(), name
    metrics = pd.read_csv(out / "metrics.csv")
    assert metrics["epoch"].tolist() == [0, 1]
    assert metrics[["val_afe", "val_dtw_afe", "val_itu_accuracy", "val_loss"]].notna().all().all()
    assert json.loads((out / "best.json").read_text())["extra"]["syncnet_config"]["embed_dim"] == 8

    model = load_syncnet(out / "best")
    assert isinstance(model, SyncNet) and not model.training
    split = PackedSplit.load(data_dir, "test")
    timebase = Timebase.from_meta(30, 44100, 512, split.logmel.shape[-1])
    for aligner in (SyncNetOffsetAligner(model), SyncNetDTWAligner(model)):
        pred = aligner.align(np.asarray(split.keypoints[0]), np.asarray(split.logmel[0]), timebase)
        assert pred.shape == (split.keypoints.shape[1],) and np.all(np.isfinite(pred))
        assert np.all(np.diff(pred) >= 0)

    assert main(["train-syncnet", "--data", str(data_dir), "--out", str(out), "--min-shift-seconds", "3"]) == 2


@pytest.mark.parametrize("command", ["train", "train-syncnet"])
def test_every_trainer_low_passes_the_music_unless_told_not_to(data_dir, tmp_path, command) -> None:
    """AlignNet and SyncNet meet the same band-limited music, so evaluate's bandwidth table compares them alike."""
    data = tmp_path / "data"
    shutil.copytree(data_dir, data)
    parser, module = build_command_parser(command)
    args = ["--data", str(data), "--out", str(tmp_path / "out")]
    assert module.config_from_args(parser.parse_args(args)).samples.bands is None  # no logmel_stats.npz: no bins
    LogMelStats(np.full(128, -40.0, np.float32), np.full(128, 20.0, np.float32)).save(data / "logmel_stats.npz")
    bands = module.config_from_args(parser.parse_args(args)).samples.bands
    assert len(bands.frequencies) == 128 and bands.silence[0] == pytest.approx(-3.0)
    assert module.config_from_args(parser.parse_args([*args, "--no-band-limit"])).samples.bands is None
