"""`alignnet align` in order: checkpoint, files, 30 fps video, pose, log-mel, windows, re-timed video.

`align_video` is the whole command as a function; `alignment` is the part
that needs no files (keypoints and log-mel in, monotonic map out).
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from alignnet.align import EXIT_NO_PERSON, EXIT_UNREADABLE
from alignnet.align.global_path import LOW_CONFIDENCE, feature_tracks, global_grid, path_confidence, path_in_frames
from alignnet.align.media import (
    VIDEO_SUFFIXES,
    check_decoded,
    check_output,
    decode_audio,
    is_normalised,
    probe_streams,
    video_at_fps,
)
from alignnet.align.retime import (
    confidence_path,
    encode_audio,
    invert,
    render,
    side_by_side,
    write_confidence,
    write_correspondence,
)
from alignnet.align.windows import Window, WindowConfig, align_in_windows
from alignnet.alignment_methods import AlignNetAligner
from alignnet.checkpoint import load_model
from alignnet.checkpoints import GENERAL
from alignnet.correspondence import coord_to_audio_frame
from alignnet.data.clean import TASK_POINTS, CleanParams, clean_clip, kept_points
from alignnet.data.logmel import logmel, normalise_logmel
from alignnet.data.media import count_frames
from alignnet.data.preprocessing import Preprocessing, load_preprocessing
from alignnet.errors import UserInputError
from alignnet.models.alignnet import AlignNet
from alignnet.pose.extract import probe_video
from alignnet.pose.openpose_backend import net_resolution
from alignnet.pose.openpose_json import read_openpose_json
from alignnet.pose.parallel import BackendSpec, default_workers, extract_pose_parallel
from alignnet.pose.sequence import PoseSequence
from alignnet.stage_status import StageFailure

log = logging.getLogger(__name__)

DEFAULT_BACKEND = "mediapipe"  # for a checkpoint whose training data records no pose backend
MIN_SECONDS = 1.0  # shortest VIDEO / AUDIO: the model's coarsest level needs about 24 video frames
# Beyond this ratio of VIDEO's and AUDIO's lengths the overall speed change is well outside the training's warps
# (the dance covering 70-100 % of the music, tempo changes down to x0.75): warn.
MAX_SPEED_CHANGE = 1.5
WINDOW_BATCH = 32  # windows per forward pass of the model (on 1 CPU thread 5x faster per window than one by one)
# The windows refine the global path to single frames, but a model whose per-window answers are weaker than its
# features (the general checkpoint early in training: windows 0.20, path 1.21) can lead them away from it. When the
# windows' answer scores this much (z-score units of `path_confidence`) below the path, the path is kept. Measured:
# the demo checkpoint on a demo dance under extreme drift, path 2.58 and windows 2.46 (windows 0.3 frames off, the
# path about 1): kept the windows (docs/align.md, "4. Confidence").
WINDOWS_MARGIN = 0.5


@dataclass(frozen=True)
class PoseOptions:
    """How VIDEO's pose is found: a frame backend on the 30 fps video, or OpenPose JSON written for VIDEO."""

    backend: str | None = None  # mediapipe | openpose | openpose-json; None: the one the training data records
    json_dir: Path | None = None  # openpose-json: OpenPose's --write_json folder for VIDEO (at VIDEO's fps)
    max_side: int = 640  # frame backends see frames at most this long
    model_folder: Path | None = None  # openpose
    python_path: Path | None = None  # openpose
    net_resolution: str = "-1x368"  # openpose
    min_person_share: float = 0.5  # fewer frames with a person: "no person found"
    workers: int | None = None  # frame backends: processes over runs of the frames (None: `default_workers`)


@dataclass
class AlignResult:
    """forward (n_in,): audio-timeline frame of each input frame; source (n_out,): input frame per output frame.

    Both in frames at `fps` (input frames of the 30 fps video; output frames
    k at audio time k / fps). seconds: wall time per step.
    """

    forward: np.ndarray
    source: np.ndarray
    fps: float
    person_share: float
    confidence: float
    seconds: dict[str, float] = field(default_factory=dict)
    threshold: float = LOW_CONFIDENCE  # the checkpoint's (`confidence_threshold`)

    @property
    def low_confidence(self) -> bool:
        """The dance does not stand out against AUDIO (`alignnet.align.global_path.path_confidence`)."""
        return self.confidence < self.threshold


def confidence_threshold(meta: dict) -> float:
    """The confidence below which a checkpoint's alignments are reported low: its JSON's extra.align.low_confidence
    when recorded (a model's affinity has its own scale: scripts/ship_general_model.py records the shipped model's,
    measured on matched and mismatched training-material songs), else LOW_CONFIDENCE (the demo checkpoint's)."""
    recorded = ((meta.get("extra") or {}).get("align") or {}).get("low_confidence")
    return LOW_CONFIDENCE if recorded is None else float(recorded)


@dataclass(frozen=True)
class Alignment:
    """forward (n,): audio-timeline frame of each video frame; confidence: `global_path.path_confidence`;
    answer: what forward is, "windows" (the path refined in windows) or "global path" (see `alignment`)."""

    forward: np.ndarray
    confidence: float
    answer: str = "windows"


def training_backend(chosen: str | None, recorded: str | None, checkpoint_name: str) -> str:
    """The pose backend to run: `chosen`, else the one the training data records (`recorded`), else mediapipe.

    Warns when `chosen` differs from `recorded`: the model learnt one backend's keypoints.
    """
    if chosen is None:
        return recorded or DEFAULT_BACKEND
    if recorded is not None and chosen != recorded:
        log.warning(
            "--pose-backend %s, but %s was trained on %s keypoints: its accuracy on %s keypoints is "
            "untested (leave --pose-backend out to use %s)",
            chosen,
            checkpoint_name,
            recorded,
            chosen,
            recorded,
        )
    return chosen


def checkpoint_stem(path: Path | None) -> Path:
    """STEM of STEM.safetensors / STEM.json / STEM (None: the shipped general model, `alignnet.checkpoints.GENERAL`);
    UserInputError when the pair is not there."""
    given = path is not None
    path = path if given else GENERAL
    stem = path.with_suffix("") if path.suffix in (".safetensors", ".json") else path
    missing = [p for p in (Path(f"{stem}.safetensors"), Path(f"{stem}.json")) if not p.is_file()]
    if missing:
        source = f"from --checkpoint {path}" if given else "the shipped general model: reinstall alignnet"
        raise UserInputError(f"checkpoint not found: {', '.join(map(str, missing))} ({source})", EXIT_UNREADABLE)
    return stem


def resample_pose(pose: PoseSequence, fps: float, n_frames: int) -> PoseSequence:
    """The frames of `pose` nearest the times k / fps, k < n_frames (as ffmpeg's fps filter picks frames)."""
    if pose.n_frames == 0:
        return pose
    picks = np.clip(np.rint(np.arange(n_frames) * pose.fps / fps), 0, pose.n_frames - 1).astype(np.int64)
    return dataclasses.replace(pose, keypoints=pose.keypoints[picks], people=pose.people[picks], fps=fps)


def video_pose(
    original: Path, video30: Path, options: PoseOptions, fps: float, progress: bool, task: str = "dance"
) -> PoseSequence:
    """Pose of every frame of the 30 fps video `video30` (made from `original`): BODY_25, or FACE_70 for "lips"."""
    face = task == "lips"
    if options.backend == "openpose-json":
        if options.json_dir is None:
            raise UserInputError("--pose-backend openpose-json needs --pose-json DIR", EXIT_UNREADABLE)
        info = probe_video(original)
        layout = "FACE_70" if face else "BODY_25"
        pose = read_openpose_json(options.json_dir, original.stem, info.fps, info.width, info.height, layout=layout)
        return resample_pose(pose, fps, probe_video(video30).n_frames or round(pose.n_frames * fps / info.fps))
    if options.backend == "openpose":
        if options.model_folder is None:
            raise UserInputError("--pose-backend openpose needs --model-folder (OpenPose's models/ folder)")
        spec = BackendSpec(
            "openpose",
            {
                "model_folder": options.model_folder,
                "python_path": options.python_path,
                "net_resolution": net_resolution(options.net_resolution),
                "face": face,
            },
        )
        max_side = None  # full frames, as the pose stage gives OpenPose: it scales to net_resolution itself
    else:
        spec = BackendSpec(options.backend or DEFAULT_BACKEND, {"face": face})
        max_side = options.max_side or None
    workers = options.workers or default_workers(spec.name)
    try:
        return extract_pose_parallel(video30, spec, workers, max_side=max_side, progress=progress)
    except StageFailure as failure:
        raise UserInputError(f"VIDEO {original}: {failure.detail}", EXIT_UNREADABLE) from failure


def model_keypoints(
    pose: PoseSequence,
    video: Path,
    min_person_share: float,
    task: str = "dance",
    params: CleanParams | None = None,
) -> tuple[np.ndarray, float]:
    """Cleaned keypoints as in the dataset, and the share of frames with a person.

    (frames, 19, 2) body-centred for "dance", (frames, 20, 2) mouth-centred for
    "lips". Cleaning is the dataset's (`clean_clip` with `params`, the model's
    training data's: `Preprocessing.clean`; None: the defaults), except that gaps
    of any length are interpolated. Raises UserInputError(EXIT_NO_PERSON) when a
    person is seen in fewer than `min_person_share` of the frames or a kept point never.
    """
    params = params or CleanParams()
    kept = pose.keypoints[:, list(kept_points(task)), 2] if pose.n_frames else np.zeros((0, 1))
    seen = (pose.people > 0) & (kept >= params.min_confidence).any(axis=1)
    share = float(seen.mean()) if len(seen) else 0.0
    if share == 0.0:
        raise UserInputError(f"no {'face' if task == 'lips' else 'person'} found in VIDEO {video}", EXIT_NO_PERSON)
    if share < min_person_share:
        raise UserInputError(
            f"a person is found in only {share:.0%} of the {len(seen)} frames of VIDEO {video} "
            f"(at least {min_person_share:.0%} needed)",
            EXIT_NO_PERSON,
        )
    try:
        return clean_clip(pose.keypoints, dataclasses.replace(params, max_gap=pose.n_frames), task), share
    except StageFailure as failure:
        view = "the mouth" if task == "lips" else "the dancer's whole body (without feet)"
        raise UserInputError(
            f"VIDEO {video}: {failure.detail}; align needs {view} in view",
            EXIT_NO_PERSON,
        ) from failure


def alignment(
    model: AlignNet,
    keypoints: np.ndarray,
    mel: np.ndarray,
    prep: Preprocessing,
    windows: WindowConfig,
    device: str = "cpu",
    progress: bool = True,
) -> Alignment:
    """(n,) non-decreasing audio-timeline frame (at prep.fps) of each of n video frames, and its confidence.

    keypoints (n, K, 2) as `model_keypoints` gives; mel (n_mels, m) normalised log-mel of the whole audio.
    The global path over the model's finest features (`alignnet.align.global_path`) centres the first pass's
    windows (with windows.prior "global"; "linear", or no path that fits: the linear prior) and measures the
    result's confidence.
    """
    aligner = AlignNetAligner(model, device)
    audio_rate = prep.logmel.sample_rate / prep.logmel.hop_length
    n_video, n_audio = len(keypoints), mel.shape[1]
    tracks = feature_tracks(model, keypoints, mel, prep.fps, audio_rate, windows.window_seconds, device)
    grid = global_grid(*tracks, n_video / prep.fps, n_audio / audio_rate)
    initial = None
    if windows.prior == "global":
        cells = grid.path()
        if cells is None:
            shape = grid.affinity.shape
            log.info("no global path fits %d video against %d audio cells: windows on the linear prior", *shape)
        else:
            initial = path_in_frames(grid, cells, n_video, prep.fps, audio_rate)
    bar: tqdm | None = None  # made by the first pass, when its number of windows is known

    def predict(planned: list[Window]) -> list[np.ndarray]:
        positions = []
        for first in range(0, len(planned), WINDOW_BATCH):
            batch = planned[first : first + WINDOW_BATCH]
            coords = aligner.coords_batch(
                [keypoints[w.video_start : w.video_stop] for w in batch],
                [mel[:, w.audio_start : w.audio_stop] for w in batch],
            )
            positions += [
                w.audio_start + coord_to_audio_frame(c, w.audio_stop - w.audio_start)
                for w, c in zip(batch, coords, strict=True)
            ]
            if bar is not None:
                bar.update(len(batch))
        return positions

    def on_pass(index: int, planned: list[Window]) -> None:
        nonlocal bar
        description = f"align windows, pass {index + 1}/{windows.passes}"
        if bar is None:
            bar = tqdm(total=len(planned), desc=description, unit="window", disable=not progress)
        else:
            bar.set_description(description, refresh=False)
            bar.reset(total=len(planned))

    try:
        positions = align_in_windows(predict, n_video, n_audio, prep.fps, audio_rate, windows, on_pass, initial)
    finally:
        if bar is not None:
            bar.close()
    confidence = path_confidence(grid, positions, prep.fps, audio_rate)
    if initial is not None:
        on_path = path_confidence(grid, initial, prep.fps, audio_rate)
        if confidence < on_path - WINDOWS_MARGIN:
            log.warning(
                "the windows' answer stands out of the model's affinity less than the global path it started from "
                "(confidence %.2f against %.2f): keeping the global path (frame steps of %.2f s, interpolated)",
                confidence,
                on_path,
                1 / grid.rate,
            )
            return Alignment(initial / audio_rate * prep.fps, on_path, "global path")
    return Alignment(positions / audio_rate * prep.fps, confidence)


def _check_length(seconds: float, role: str, path: Path) -> None:
    if seconds < MIN_SECONDS:
        raise UserInputError(f"{role} {path} lasts {seconds:.2f} s; align needs at least {MIN_SECONDS:g} s")


def speed_change_warning(video_seconds: float, audio_seconds: float) -> str | None:
    """A warning when re-timing the whole VIDEO onto the whole AUDIO changes the overall speed by more than
    MAX_SPEED_CHANGE (the user probably meant a part of one of them), else None."""
    ratio = video_seconds / audio_seconds
    if 1 / MAX_SPEED_CHANGE <= ratio <= MAX_SPEED_CHANGE:
        return None
    change = f"{1 / ratio:.1f}x slower" if ratio < 1 else f"{ratio:.1f}x faster"
    return (
        f"VIDEO lasts {video_seconds:.1f} s and AUDIO {audio_seconds:.1f} s: the dance is spread over the whole "
        f"audio, {change} than filmed on average, where the model learnt speed changes up to about "
        f"{MAX_SPEED_CHANGE:g}x; trim the longer file to the part that matches the other"
    )


def align_video(
    video: Path,
    audio: Path,
    out: Path,
    checkpoint: Path | None = None,
    *,
    correspondence: Path | None = None,
    comparison: Path | None = None,
    pose: PoseOptions = PoseOptions(),
    window_seconds: float | None = None,
    hop_seconds: float = WindowConfig.hop_seconds,
    coverage: float = WindowConfig.coverage,
    passes: int = WindowConfig.passes,
    prior: str = WindowConfig.prior,
    dataset: Path | None = None,
    device: str = "cpu",
    progress: bool = True,
) -> AlignResult:
    """Re-time VIDEO to AUDIO and write `out` (+ the correspondence CSV and its confidence JSON, + the
    side-by-side `comparison`).

    checkpoint None: the shipped general model. window_seconds None: the training clip length. Raises UserInputError with
    the exit codes of `alignnet.align` for bad inputs.
    """
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = now - clock
        clock = now

    check_output(out, "-o", VIDEO_SUFFIXES)
    if comparison is not None:
        check_output(comparison, "--side-by-side", VIDEO_SUFFIXES)
    if correspondence is not None:
        check_output(correspondence, "--correspondence")
    stem = checkpoint_stem(checkpoint)
    model, meta = load_model(stem, map_location=device)
    task = next((t for t in TASK_POINTS if len(kept_points(t)) == model.config.n_keypoints), None)
    if task is None:
        raise UserInputError(
            f"{stem}.json: a model of {model.config.n_keypoints} keypoints; align knows "
            + ", ".join(f"{t} ({len(kept_points(t))})" for t in TASK_POINTS)
        )
    prep = load_preprocessing(meta, f"{stem}.json", dataset)
    threshold = confidence_threshold(meta)
    pose = dataclasses.replace(pose, backend=training_backend(pose.backend, prep.pose_backend, f"{stem}.json"))
    try:
        windows = WindowConfig(window_seconds or prep.clip_seconds, hop_seconds, coverage, passes, prior)
    except ValueError as exc:
        raise UserInputError(f"--window-seconds / --hop-seconds / --coverage / --passes / --prior: {exc}") from exc
    video_stream = probe_streams(video, "video", "VIDEO")
    audio_stream = probe_streams(audio, "audio", "AUDIO")
    lap("load")

    with tempfile.TemporaryDirectory(prefix="alignnet-align-") as tmp:
        # A video already at the model's fps (upright, even size, <= 720 p) is used as it is.
        ready = is_normalised(video_stream, prep.fps)
        video30 = video if ready else video_at_fps(video, Path(tmp) / "video.mp4", prep.fps)
        wav = Path(tmp) / "audio.wav"
        mono, audio_seconds = decode_audio(audio, wav, prep.logmel.sample_rate)
        try:
            video_seconds = count_frames(video30) / prep.fps
        except StageFailure as failure:
            raise UserInputError(f"VIDEO {video}: {failure.detail}", EXIT_UNREADABLE) from failure
        check_decoded("VIDEO", video, video_seconds, video_stream)
        check_decoded("AUDIO", audio, audio_seconds, audio_stream)
        _check_length(video_seconds, "VIDEO", video)
        _check_length(audio_seconds, "AUDIO", audio)
        if (warning := speed_change_warning(video_seconds, audio_seconds)) is not None:
            log.warning(warning)
        lap("decode")
        # The log-mel and the output's AAC track are made beside the pose, on what the pose backend leaves of the
        # cores; "logmel" times the wait for the log-mel, "render" the wait for the track.
        track = Path(tmp) / "audio.m4a"
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="audio") as beside:
            mel_job = beside.submit(lambda: normalise_logmel(logmel(mono, prep.logmel), prep.stats))
            track_job = beside.submit(encode_audio, wav, track)
            pose_seq = video_pose(video, video30, pose, prep.fps, progress, task)
            keypoints, share = model_keypoints(pose_seq, video, pose.min_person_share, task, prep.clean)
            lap("pose")
            mel = mel_job.result()
            lap("logmel")
            aligned = alignment(model, keypoints, mel, prep, windows, device, progress)
            forward = aligned.forward
            source = invert(forward, round(audio_seconds * prep.fps))
            lap("model")
            track_job.result()
        if correspondence is not None:
            write_correspondence(correspondence, source)
            write_confidence(
                confidence_path(correspondence), aligned.confidence, threshold, windows.prior, aligned.answer
            )
        render(video30, source, track, out, prep.fps, progress, encoded_audio=True)
        if comparison is not None:
            side_by_side(video30, out, comparison, prep.fps)
        lap("render")
    log.info(
        "%s: %d input frames -> %d output frames; %s",
        out,
        len(forward),
        len(source),
        ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()),
    )
    return AlignResult(forward, source, prep.fps, share, aligned.confidence, seconds, threshold)
