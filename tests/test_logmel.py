"""Log-mel stage: frame count and timing, mel bin of a tone, statistics, packed split, failed input."""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import pytest
import soundfile

from alignnet.cli import main
from alignnet.data.clips import ClipConfig, clip_table, write_clip_table
from alignnet.data.logmel import (
    LogMelConfig,
    LogMelStats,
    load_logmel_file,
    logmel,
    logmel_statistics,
    normalise_logmel,
    pack_split,
    write_clip_logmels,
)
from alignnet.errors import UserInputError
from alignnet.numba_cache import clear_cache
from alignnet.stage_status import StageStatus

SR = 44100
CFG = LogMelConfig()


def make_clipdir(path: Path, audio: np.ndarray, clip_seconds: float = 6.0) -> Path:
    """A clip directory as `alignnet clip` writes it, from audio alone (video is not read here)."""
    path.mkdir(parents=True)
    soundfile.write(path / "audio.wav", audio, SR, subtype="PCM_16")
    cfg = ClipConfig(clip_seconds=clip_seconds)
    write_clip_table(clip_table(n_frames=10**6, n_samples=len(audio), cfg=cfg), path / "clips.tsv")
    StageStatus("clip", True).write(path)
    return path


def noise(seconds: float, level: float, seed: int) -> np.ndarray:
    return (level * np.random.default_rng(seed).standard_normal(round(seconds * SR))).clip(-1, 1).astype(np.float32)


def test_six_second_clip_has_516_frames_and_matches_librosa() -> None:
    audio = noise(6.0, 0.1, 0)
    assert len(audio) == 264600

    x = logmel(audio)

    assert x.shape == (128, 516) and x.dtype == np.float32
    reference = librosa.power_to_db(
        librosa.feature.melspectrogram(y=audio, sr=SR, n_fft=2048, hop_length=512, n_mels=128, center=True),
        ref=1.0,
        amin=1e-10,
        top_db=None,
    )[:, :516]
    np.testing.assert_allclose(x, reference, atol=1e-3)
    batch = logmel(np.stack([audio, audio[::-1].copy(), np.zeros_like(audio)]))
    assert batch.shape == (3, 128, 516)
    np.testing.assert_allclose(batch[0], x, atol=1e-4)
    # silence: 10 log10(amin), not normalised per clip (float32 log10 of amin is -100 to within its rounding)
    np.testing.assert_allclose(batch[2], -100.0, atol=1e-3)
    assert logmel(audio[:3000]).shape == (128, 5)  # any length: samples // hop


def test_frame_t_is_centred_on_sample_t_times_hop() -> None:
    audio = np.zeros(264600, np.float32)
    audio[100 * 512] = 1.0
    energy = librosa.db_to_power(logmel(audio)).sum(axis=0)
    assert int(np.argmax(energy)) == 100


def test_1khz_sine_peaks_in_its_mel_bin() -> None:
    t = np.arange(264600) / SR
    x = logmel(0.5 * np.sin(2 * np.pi * 1000 * t))
    centres = librosa.mel_frequencies(n_mels=128 + 2, fmin=0.0, fmax=SR / 2)[1:-1]
    peak = int(np.argmax(x[:, 10:-10].mean(axis=1)))
    assert peak == int(np.argmin(np.abs(centres - 1000)))
    assert 900 < centres[peak] < 1100


def test_statistics_normalise_train_data_to_zero_mean_unit_std() -> None:
    videos = [
        logmel(np.stack([noise(2.0, level, seed), noise(2.0, level / 3, seed + 1)]))
        for seed, level in enumerate([0.01, 0.1, 0.5])
    ]

    stats = logmel_statistics(iter(videos))

    assert stats.mean.shape == stats.std.shape == (128,)
    normalised = np.concatenate([normalise_logmel(v, stats) for v in videos])
    np.testing.assert_allclose(normalised.mean(axis=(0, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(normalised.std(axis=(0, 2)), 1.0, atol=1e-3)
    assert not np.allclose(stats.std, 1.0)  # the data really was rescaled
    with pytest.raises(ValueError, match="no log-mel frames"):
        logmel_statistics([])


def test_cli_writes_npz_and_pack_split_memory_maps(tmp_path: Path) -> None:
    dirs = {
        "a": make_clipdir(tmp_path / "clips" / "a", noise(13.0, 0.1, 1)),
        "b": make_clipdir(tmp_path / "clips" / "b", noise(19.0, 0.3, 2)),
    }
    npz = {}
    for video, clipdir in dirs.items():
        npz[video] = tmp_path / "logmel" / f"{video}.npz"
        assert main(["logmel", str(clipdir), "-o", str(npz[video])]) == 0
    a, b = load_logmel_file(npz["a"]), load_logmel_file(npz["b"])
    assert a.logmel.shape == (2, 128, 516) and b.logmel.shape == (3, 128, 516)
    assert a.logmel.dtype == np.float16 and a.clip_index.tolist() == [0, 1]
    assert a.config == CFG
    stats = logmel_statistics([a.logmel, b.logmel])
    stats.save(tmp_path / "stats.npz")
    stats = LogMelStats.load(tmp_path / "stats.npz")

    clip_ids = [("b", 2), ("a", 0), ("b", 0)]
    index = pack_split(npz, clip_ids, stats, tmp_path / "train.npy")

    packed = np.load(tmp_path / "train.npy", mmap_mode="r")
    assert isinstance(packed, np.memmap) and packed.shape == (3, 128, 516) and packed.dtype == np.float16
    expected = normalise_logmel(np.stack([b.logmel[2], a.logmel[0], b.logmel[0]]), stats)
    np.testing.assert_allclose(packed.astype(np.float32), expected, atol=2e-3, rtol=1e-3)
    tsv = pd.read_csv(tmp_path / "train.tsv", sep="\t")
    assert tsv.to_dict("list") == {"row": [0, 1, 2], "video_id": ["b", "a", "b"], "clip_index": [2, 0, 0]}
    assert index.equals(tsv)
    with pytest.raises(KeyError, match="no clips"):
        pack_split(npz, [("a", 7)], stats, tmp_path / "bad.npy")
    assert not (tmp_path / "bad.npy").exists()


def test_failed_clip_stage_gives_empty_npz(tmp_path: Path) -> None:
    clipdir = tmp_path / "clips" / "x"
    clipdir.mkdir(parents=True)
    StageStatus("clip", False, "no_audio_stream", "x.mp4: no audio stream").write(clipdir)
    out = tmp_path / "x.npz"

    assert main(["logmel", str(clipdir), "-o", str(out)]) == 0

    data = load_logmel_file(out)
    assert data.logmel.shape == (0, 128, 0) and data.clip_index.shape == (0,)
    assert StageStatus.read(out).reason == "no_audio_stream"
    assert main(["logmel", str(tmp_path / "nowhere"), "-o", str(tmp_path / "y.npz")]) == 2
    assert not (tmp_path / "y.npz").exists()


def test_sample_rate_mismatch_names_the_file(tmp_path: Path) -> None:
    clipdir = make_clipdir(tmp_path / "c", noise(6.5, 0.1, 3))
    with pytest.raises(UserInputError, match="audio.wav"):
        write_clip_logmels(clipdir, tmp_path / "c.npz", LogMelConfig(sample_rate=16000))


def test_clear_cache_removes_numba_cache_files_only(tmp_path):
    (tmp_path / "sub" / "__pycache__").mkdir(parents=True)
    for name in ("a.py", "sub/b.nbi", "sub/__pycache__/b.f-1.py311.nbc", "sub/__pycache__/c.pyc"):
        (tmp_path / name).write_text("x")
    assert clear_cache(tmp_path) == 2
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == [
        "a.py",
        "sub/__pycache__/c.pyc",
    ]
