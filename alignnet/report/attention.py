"""Figures 7 and 8: the learned keypoint attention on a body skeleton, and the temporal attention
over a mel-spectrogram with its onset envelope.
"""

from __future__ import annotations

import librosa
import librosa.display
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from alignnet.models.alignnet import AlignNet
from alignnet.report.inputs import SplitData
from alignnet.report.skeleton import draw_pose
from alignnet.report.style import message_figure

MAX_CLIPS = 200  # test clips behind the median pose and the mean attention-onset correlation


def keypoint_attention_figure(model: AlignNet, split: SplitData) -> Figure:
    """Left: the median test pose (first MAX_CLIPS clips), circle area and colour = attention; right: attention
    per keypoint.

    Attention is shown after the softmax (sums to 1; uniform = 1/K). A
    reference point (the body centre: mid-hip, always (0, 0) after centring)
    feeds the model nothing; its weight only scales the other points down, so
    it is drawn hatched and grey and named as such, not as an important point.
    """
    weights = model.keypoint_weights()
    if weights is None:
        return message_figure("Keypoint attention", "This model was trained without keypoint attention.")
    share = weights.cpu().numpy() / len(weights)
    k = len(share)
    names = list(split.layout.names)
    sample = np.asarray(split.keypoints[:MAX_CLIPS], np.float32).reshape(-1, k, 2)
    pose = np.median(sample, axis=0)
    reference = reference_points(sample)

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 6), gridspec_kw={"width_ratios": [1, 1.2]})
    draw_pose(left, pose, split.layout.segments, colour="#999999", linewidth=2.5)
    live = share[~reference] if not reference.all() else share  # the colour scale spans the points that move
    dots = left.scatter(
        pose[:, 0],
        -pose[:, 1],
        s=2500 * share,
        c=share,
        cmap="viridis",
        edgecolor="black",
        alpha=0.85,
        zorder=5,
        vmin=live.min(),
        vmax=live.max(),
    )
    left.set_aspect("equal")
    left.margins(0.15)
    left.set_xlabel("x (pixels, centred)")
    left.set_ylabel("y (pixels, centred, up)")
    left.set_title("Attention on the median test pose\n(circle area = weight)")
    fig.colorbar(dots, ax=left, shrink=0.7, label="attention weight (after softmax)")

    y = np.arange(k)[::-1]
    colours = [
        (0.75, 0.75, 0.75, 1.0) if ref else dots.cmap(dots.norm(w)) for w, ref in zip(share, reference, strict=False)
    ]
    bars = right.barh(y, share, color=colours, edgecolor="black", linewidth=0.5)
    right.axvline(1.0 / k, color="black", linestyle=":")
    right.set_yticks(
        y, [f"{name} (reference, input 0)" if ref else name for name, ref in zip(names, reference, strict=False)]
    )
    right.set_xlabel("attention weight (after softmax, sums to 1)")
    right.set_title(f"Attention per keypoint (mirror pairs tied; dotted: uniform 1/{k})")
    if reference.any():
        for bar in np.asarray(bars)[reference]:
            bar.set_hatch("//")
        left.scatter(
            pose[reference, 0],
            -pose[reference, 1],
            s=2500 * share[reference],
            facecolor="#cccccc",
            edgecolor="black",
            hatch="//",
            zorder=6,
        )
        right.text(
            0.98,
            0.02,
            "hatched: the centring point, which\ncarries no motion; its weight only\nscales the other points down",
            transform=right.transAxes,
            ha="right",
            va="bottom",
            fontsize=8,
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"},
        )
    right.grid(axis="x", alpha=0.3)
    fig.suptitle("Learned keypoint attention", fontsize=13)
    fig.tight_layout()
    return fig


def reference_points(keypoints: np.ndarray) -> np.ndarray:
    """(K,) bool: points that never move in keypoints (frames, K, 2), e.g. the centre of body-centred poses."""
    flat = np.asarray(keypoints).reshape(-1, keypoints.shape[-2], 2)
    return np.all(np.ptp(flat, axis=0) == 0, axis=-1) if len(flat) > 1 else np.zeros(flat.shape[1], bool)


@torch.no_grad()
def temporal_weights(model: AlignNet, logmel: np.ndarray) -> np.ndarray:
    """(m_stem,) temporal attention weights in (0, 2) for one normalised log-mel (n_mels, m), at the audio
    stem's rate (one weight per `audio_stem_stride` log-mel frames)."""
    assert model.temporal_attention is not None
    audio = torch.from_numpy(np.asarray(logmel, np.float32))[None]
    stem = model.audio_stem(audio)
    return model.temporal_attention.weights(stem)[0, 0].cpu().numpy().astype(np.float64)


def attention_on_frames(weights: np.ndarray, n_frames: int) -> np.ndarray:
    """Stem-rate weights (m_stem,) spread over the log-mel's frames (n_frames,), linearly."""
    stem_frames = np.arange(len(weights)) * (n_frames / len(weights))
    return np.interp(np.arange(n_frames), stem_frames, weights)


def onset_correlation(model: AlignNet, split: SplitData, row: int) -> tuple[float, np.ndarray, np.ndarray]:
    """Pearson r between one clip's attention and its onset envelope; also (envelope, attention) per frame."""
    db = split.logmel_db(row)
    envelope = librosa.onset.onset_strength(S=db, sr=split.sample_rate, hop_length=split.hop_length)
    attention = attention_on_frames(temporal_weights(model, split.logmel[row]), len(envelope))
    if np.std(envelope) == 0 or np.std(attention) == 0:
        return 0.0, envelope, attention
    return float(np.corrcoef(envelope, attention)[0, 1]), envelope, attention


def temporal_attention_figure(model: AlignNet, split: SplitData, clip_id: str) -> Figure:
    """Mel-spectrogram (top), onset envelope (middle), temporal attention (bottom) of one test clip;
    onsets marked under the spectrogram; the title gives the attention-onset correlation."""
    if model.temporal_attention is None:
        return message_figure("Temporal attention", "This model was trained without temporal attention.")
    row = split.row(clip_id)
    r, envelope, attention = onset_correlation(model, split, row)
    n_clips = min(len(split.clip_ids), MAX_CLIPS)
    mean_r = float(np.mean([onset_correlation(model, split, i)[0] for i in range(n_clips)]))
    sr, hop = split.sample_rate, split.hop_length
    times = librosa.times_like(envelope, sr=sr, hop_length=hop)
    onsets = librosa.onset.onset_detect(onset_envelope=envelope, sr=sr, hop_length=hop, units="time")

    fig, axes = plt.subplots(
        3, 1, figsize=(11, 7.5), sharex=True, layout="constrained", gridspec_kw={"height_ratios": [2.2, 1, 1]}
    )
    image = librosa.display.specshow(
        split.logmel_db(row), sr=sr, hop_length=hop, x_axis="time", y_axis="mel", ax=axes[0], cmap="magma"
    )
    axes[0].set_ylabel("frequency (Hz, mel scale)")
    axes[0].set_xlabel("")
    axes[0].set_title("log-mel spectrogram (dB)" if split.stats is not None else "log-mel spectrogram (normalised)")
    fig.colorbar(image, ax=axes[0], pad=0.01, label="dB" if split.stats is not None else "normalised")
    axes[1].plot(times, envelope, color="#1f77b4")
    axes[1].set_ylabel("onset strength")
    axes[1].set_title("onset envelope (librosa.onset.onset_strength); dashed: detected onsets")
    axes[2].plot(times, attention, color="#d62728")
    axes[2].axhline(1.0, color="black", linestyle=":", linewidth=1, label="identity (weight 1)")
    axes[2].set_ylabel("attention weight")
    axes[2].set_title(f"temporal attention (r with onsets: {r:.2f} here, mean {mean_r:.2f} over {n_clips} test clips)")
    axes[2].legend(loc="lower right", fontsize=9)
    axes[2].set_xlabel("time (s)")
    for ax in axes[1:]:
        ax.grid(alpha=0.3)
    for ax in axes[1:]:
        for t in onsets:
            ax.axvline(t, color="#555555", linestyle="--", linewidth=0.6, alpha=0.5)
    fig.suptitle(f"Temporal attention on test clip {clip_id}", fontsize=13)
    return fig
