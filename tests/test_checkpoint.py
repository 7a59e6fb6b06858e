"""Checkpoints: safetensors round trip, no wrapper prefixes, optimizer resume."""

from __future__ import annotations

import json

import pytest
import safetensors.torch
import torch

from alignnet.checkpoint import copy_checkpoint, load_checkpoint, load_model, save_checkpoint
from alignnet.errors import UserInputError
from alignnet.losses import alignment_loss
from alignnet.models import AlignNet, AlignNetConfig

CONFIG = AlignNetConfig(channels=(32, 16), video_strides=(3, 2), audio_strides=(2, 2), pyramid_depths=(1, 1))


def _batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return (
        torch.randn(4, 76, 36, generator=g),
        torch.randn(4, 128, 100, generator=g),
        torch.linspace(-0.9, 0.9, 36).expand(4, 36),
    )


def _step(model: AlignNet, optimizer: torch.optim.Optimizer) -> float:
    video, audio, target = _batch()
    loss, _ = alignment_loss(model.train()(video, audio), target)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def test_round_trip_from_a_wrapper(tmp_path) -> None:
    torch.manual_seed(0)
    model = AlignNet(CONFIG)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    _step(model, optimizer)  # non-trivial BatchNorm statistics
    wrapped = torch.nn.DataParallel(model)
    save_checkpoint(tmp_path / "best", wrapped, epoch=3, metrics={"val_afe": 1.5})
    keys = safetensors.torch.load_file(str(tmp_path / "best.safetensors")).keys()
    assert keys and not any(k.startswith("module.") for k in keys)
    assert not (tmp_path / "best.optim.safetensors").exists()
    meta = json.loads((tmp_path / "best.json").read_text())
    assert meta["epoch"] == 3 and meta["metrics"] == {"val_afe": 1.5} and meta["versions"]["torch"]
    loaded, meta = load_model(tmp_path / "best")
    assert loaded.config == CONFIG and not loaded.training
    video, audio, _ = _batch()
    with torch.no_grad():
        assert torch.equal(loaded(video, audio), model.eval()(video, audio))


def test_the_same_state_is_written_as_the_same_bytes(tmp_path) -> None:
    """A rerun's checkpoint equals its run's byte for byte: safetensors orders its metadata map anew on each
    write, so the epoch and step are one entry."""
    torch.manual_seed(0)
    model = AlignNet(CONFIG)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    _step(model, optimizer)
    stems = [tmp_path / f"last{i}" for i in range(8)]
    for stem in stems:
        save_checkpoint(stem, model, epoch=1, metrics={"val_afe": 1.5}, optimizer=optimizer, step=4)
    for suffix in (".safetensors", ".optim.safetensors"):
        assert len({stem.with_name(stem.name + suffix).read_bytes() for stem in stems}) == 1, suffix


def test_resume_matches_uninterrupted_training(tmp_path) -> None:
    torch.manual_seed(0)
    reference = AlignNet(CONFIG)
    initial = {k: v.clone() for k, v in reference.state_dict().items()}
    ref_opt = torch.optim.Adam(reference.parameters(), lr=1e-3)
    for _ in range(2):
        _step(reference, ref_opt)
    save_checkpoint(tmp_path / "last", reference, epoch=1, metrics={}, optimizer=ref_opt, extra={"best_afe": 2.0})
    rng_at_save = torch.get_rng_state()
    expected = [_step(reference, ref_opt) for _ in range(2)]

    resumed = AlignNet(CONFIG)
    resumed.load_state_dict(initial)
    opt = torch.optim.Adam(resumed.parameters(), lr=1e-3)
    torch.manual_seed(123)
    meta = load_checkpoint(tmp_path / "last", resumed, opt, restore_rng=True)
    assert torch.equal(torch.get_rng_state(), rng_at_save)
    assert meta["extra"]["best_afe"] == 2.0 and meta["optimizer"]["type"] == "Adam"
    got = [_step(resumed, opt) for _ in range(2)]
    assert got == pytest.approx(expected, rel=1e-5)
    for (name, a), b in zip(reference.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.allclose(a.float(), b.float(), atol=1e-6), name


def test_missing_files_are_named(tmp_path) -> None:
    with pytest.raises(UserInputError, match="nothing.json"):
        load_model(tmp_path / "nothing")
    model = AlignNet(CONFIG)
    save_checkpoint(tmp_path / "best", model, epoch=0, metrics={})
    with pytest.raises(UserInputError, match="optimizer state"):
        load_checkpoint(tmp_path / "best", model, torch.optim.Adam(model.parameters()))


def test_a_copied_checkpoint_loads_under_its_new_name_and_a_cut_one_is_refused(tmp_path) -> None:
    torch.manual_seed(0)
    model = AlignNet(CONFIG)
    save_checkpoint(tmp_path / "run" / "best", model, epoch=2, metrics={"val_afe": 1.0})
    meta = copy_checkpoint(tmp_path / "run" / "best", tmp_path / "shipped" / "model")
    assert list(meta["files"]) == ["model.safetensors"] and meta["epoch"] == 2
    copied, _ = load_model(tmp_path / "shipped" / "model")
    assert all(
        torch.equal(a, b) for a, b in zip(copied.state_dict().values(), model.state_dict().values(), strict=True)
    )
    (tmp_path / "run" / "best.safetensors").write_bytes(b"cut")
    with pytest.raises(UserInputError, match="content hash differs"):
        copy_checkpoint(tmp_path / "run" / "best", tmp_path / "other" / "model")
