"""A corpus as a packed dataset (what `alignnet train` reads), straight from the generator's truth.

Drawing each frame and finding the pose again in it costs about a minute per
30-s video on this CPU; the general checkpoint needs hours of dance. So here
no frame is drawn: video i's true BODY_25 keypoints (`corpus.plan_video`, the
same dance `alignnet synth` would draw) get a pose estimator's errors
(`pose_errors.simulate_pose_errors`, sizes drawn per video around MediaPipe's
measured ones), are cut into back-to-back clips and cleaned as the clip and
clean stages do (`clean_clip` with the pose stage's defaults), and the music's
log-mel is taken per clip as the log-mel stage does. The output is the split
stage's layout (`alignnet.data.packing`): {train,val}_keypoints.npy,
{train,val}_logmel.npy, {train,val}_index.tsv,
logmel_stats.npz (train statistics) and meta.json (which also records the
corpus options, the pose errors and `pose_backend: mediapipe`, the backend
whose errors were simulated, so `alignnet align` runs MediaPipe for it).

Splits are video-disjoint by index: videos 0 .. train-1 train, the next val.
No val_warps.npz is written: `alignnet train` draws the validation warps with
its own warp settings (--strong-warps for the general checkpoint).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from alignnet.atomic import atomic_output
from alignnet.data.clean import CleanParams, clean_clip
from alignnet.data.keypoint_table import DANCE_LAYOUT
from alignnet.data.logmel import STORE_DTYPE, LogMelConfig, logmel, logmel_statistics, normalise_logmel
from alignnet.data.packing import layout_meta
from alignnet.demo.synth.corpus import FPS, Options, plan_video, video_id
from alignnet.demo.synth.music import SAMPLE_RATE
from alignnet.demo.synth.pose_errors import PoseErrors, simulate_pose_errors
from alignnet.errors import UserInputError
from alignnet.stage_status import StageFailure

POSE_BACKEND = "mediapipe"  # the estimator whose errors `PoseErrors` simulates
ERROR_SCALES = (0.5, 2.0)  # each video's error sizes: PoseErrors times a factor log-uniform in this range
SWAP_SCALES = (0.0, 2.0)  # and its left/right swap share times a factor uniform in this range


@dataclasses.dataclass
class VideoClips:
    """One video's clips: keypoints (n, frames, 19, 2) cleaned; logmel (n, n_mels, m) raw dB; clip indices."""

    keypoints: np.ndarray
    logmel: np.ndarray
    clip_index: list[int]


def video_errors(rng: np.random.Generator, errors: PoseErrors) -> PoseErrors:
    """`errors` scaled for one video (`ERROR_SCALES`, `SWAP_SCALES`): some videos are easy, some hard."""
    scale = float(np.exp(rng.uniform(*np.log(ERROR_SCALES))))
    return dataclasses.replace(
        errors,
        jitter=errors.jitter * scale,
        wobble=errors.wobble * scale,
        point_dropout=errors.point_dropout * scale,
        person_dropout=errors.person_dropout * scale,
        swap=errors.swap * float(rng.uniform(*SWAP_SCALES)),
    )


def video_clips(
    index: int, opts: Options, clip_seconds: float, errors: PoseErrors, clean: CleanParams, mel: LogMelConfig
) -> VideoClips:
    """Video `index`'s whole clips as the pose, clip, clean and log-mel stages would give them (see the module)."""
    plan = plan_video(index, opts)
    rng = np.random.default_rng([opts.seed, index, 7034])
    observed = simulate_pose_errors(rng, plan.keypoints, video_errors(rng, errors), FPS)
    frames, samples = round(clip_seconds * FPS), round(clip_seconds * SAMPLE_RATE)
    n_clips = min(len(observed) // frames, len(plan.audio) // samples)
    keypoints, kept = [], []
    for k in range(n_clips):
        try:
            keypoints.append(clean_clip(observed[k * frames : (k + 1) * frames], clean))
        except StageFailure:  # a dropout longer than max_gap: the clean stage rejects such a clip too
            continue
        kept.append(k)
    audio = np.stack([plan.audio[k * samples : (k + 1) * samples] for k in kept]) if kept else np.zeros((0, samples))
    n_mels, m = mel.n_mels, mel.n_frames(samples)
    return VideoClips(
        np.stack(keypoints) if kept else np.zeros((0, frames, len(DANCE_LAYOUT.names), 2), np.float32),
        logmel(audio, mel) if kept else np.zeros((0, n_mels, m), np.float32),
        kept,
    )


def write_keypoint_dataset(
    out_dir: str | Path,
    opts: Options,
    videos: dict[str, int],
    clip_seconds: float = 6.0,
    errors: PoseErrors | None = None,
    clean: CleanParams | None = None,
    progress: bool = True,
) -> dict[str, int]:
    """Write the packed dataset of `videos` {"train": n, "val": m} videos of `opts`; returns clips per split.

    errors: the pose errors' sizes before `video_errors` scales them (None: `PoseErrors()`);
    clean: the cleaning (None: the clean stage's defaults).
    """
    errors, clean = errors or PoseErrors(), clean or CleanParams()
    if opts.negatives or opts.warp or opts.drift is not None:
        raise UserInputError("a keypoint dataset is made of good, unwarped videos (training draws the warps)")
    if opts.seconds < clip_seconds:
        raise UserInputError(f"--seconds {opts.seconds:g} is shorter than one clip of {clip_seconds:g} s")
    mel = LogMelConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    first = {"train": 0, "val": videos.get("train", 0)}
    parts: dict[str, list[tuple[str, VideoClips]]] = {}
    bar = tqdm(total=sum(videos.values()), desc="keypoint dataset", unit="video", disable=not progress)
    for split in ("train", "val"):
        parts[split] = []
        for index in range(first[split], first[split] + videos.get(split, 0)):
            parts[split].append((video_id(index), video_clips(index, opts, clip_seconds, errors, clean, mel)))
            bar.update()
    bar.close()
    if not any(len(c.clip_index) for _, c in parts["train"]):
        raise UserInputError("no train clip survived cleaning: nothing to pack")
    stats = logmel_statistics(c.logmel for _, c in parts["train"] if len(c.clip_index))
    stats.save(out / "logmel_stats.npz")
    frames = round(clip_seconds * FPS)
    counts = {}
    for split, items in parts.items():
        index = pd.DataFrame(
            [(f"{vid}/{k}", vid, k, k * frames) for vid, clips in items for k in clips.clip_index],
            columns=["clip_id", "video_id", "clip_index", "start_frame"],
        )
        counts[split] = len(index)
        arrays = {
            "keypoints": np.concatenate([c.keypoints for _, c in items]).astype(np.float32),
            "logmel": normalise_logmel(np.concatenate([c.logmel for _, c in items]), stats).astype(STORE_DTYPE),
        }
        for name, array in arrays.items():
            with atomic_output(out / f"{split}_{name}.npy") as tmp:
                np.save(tmp, array)
        with atomic_output(out / f"{split}_index.tsv") as tmp:
            index.to_csv(tmp, sep="\t", index=False)
    meta = {
        "fps": FPS,
        "sample_rate": mel.sample_rate,
        "hop_length": mel.hop_length,
        "clip_seconds": clip_seconds,
        **layout_meta(DANCE_LAYOUT),
        "clips": counts,
        "videos": dict(videos),
        "disjoint": "video",
        "clean": dataclasses.asdict(clean),
        "pose_backend": POSE_BACKEND,
        "source": {
            "generator": "alignnet.demo.synth.keypoint_dataset",
            "corpus": {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(opts).items()},
            "pose_errors": dataclasses.asdict(errors),
            "error_scales": list(ERROR_SCALES),
            "swap_scales": list(SWAP_SCALES),
        },
    }
    with atomic_output(out / "meta.json") as tmp:
        tmp.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return counts
