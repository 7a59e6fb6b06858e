"""Test helper: a tiny packed dataset whose keypoint motion follows the audio (learnable alignment)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd


def _events(rng: np.random.Generator, seconds: float, rate: float = 2.5) -> np.ndarray:
    """Random event times (s), at least 0.2 s apart."""
    times = np.sort(rng.uniform(0.1, seconds - 0.1, size=max(int(rate * seconds), 1)))
    return times[np.concatenate([[True], np.diff(times) > 0.2])]


def make_synthetic_split(
    out_dir: str | Path,
    n_clips: dict[str, int] | None = None,
    seconds: float = 3.0,
    fps: int = 30,
    sample_rate: int = 44100,
    hop_length: int = 512,
    n_keypoints: int = 19,
    seed: int = 0,
) -> Path:
    """Write {split}_keypoints.npy / _logmel.npy / _index.tsv and meta.json under out_dir.

    Each clip has random events; the audio is a decaying envelope at the events
    times a random spectrum, the keypoints move along random directions with
    a Gaussian bump at the events, so motion peaks line up with audio onsets.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_frames = int(round(seconds * fps))
    n_audio = 1 + int(seconds * sample_rate) // hop_length
    audio_t = np.arange(n_audio) * hop_length / sample_rate
    video_t = np.arange(n_frames) / fps
    for split, count in (n_clips or {"train": 24, "val": 8, "test": 4}).items():
        keypoints = np.zeros((count, n_frames, n_keypoints, 2), np.float32)
        logmel = np.zeros((count, 128, n_audio), np.float16)
        for i in range(count):
            events = _events(rng, seconds)
            lag = audio_t[None] - events[:, None]
            envelope = np.where(lag >= 0, np.exp(-np.clip(lag, 0, None) / 0.08), 0.0).sum(0)
            spectrum = rng.uniform(0.5, 1.5, 128)
            mel = spectrum[:, None] * envelope[None] + 0.1 * rng.standard_normal((128, n_audio))
            logmel[i] = ((mel - mel.mean()) / (mel.std() + 1e-6)).astype(np.float16)
            bump = np.exp(-0.5 * ((video_t[None] - events[:, None]) / 0.06) ** 2).sum(0)  # (n_frames,)
            base = rng.normal(0, 50, (n_keypoints, 2))
            direction = rng.normal(0, 1, (n_keypoints, 2))
            keypoints[i] = (
                base[None] + 20 * bump[:, None, None] * direction[None] + rng.normal(0, 0.3, (n_frames, n_keypoints, 2))
            )
        np.save(out / f"{split}_keypoints.npy", keypoints)
        np.save(out / f"{split}_logmel.npy", logmel)
        pd.DataFrame(
            {
                "clip_id": [f"{split}{i:03d}" for i in range(count)],
                "video_id": [f"v{split}{i // 2}" for i in range(count)],
                "start_frame": [(i % 2) * n_frames for i in range(count)],  # two back-to-back clips per video
            }
        ).to_csv(out / f"{split}_index.tsv", sep="\t", index=False)
    (out / "meta.json").write_text(json.dumps({"fps": fps, "sample_rate": sample_rate, "hop_length": hop_length}))
    return out
