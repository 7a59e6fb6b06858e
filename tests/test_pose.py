"""The pose stage: MediaPipe mapping and runs, OpenPose (stand-in pyopenpose), OpenPose JSON import, CLI."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from alignnet.cli import main
from alignnet.data.clean import CleanParams, clean_clip
from alignnet.errors import UserInputError
from alignnet.keypoints import BODY_25_INDEX as J
from alignnet.pose.backends import get_backend
from alignnet.pose.extract import decode_size, extract_pose, prefetch
from alignnet.pose.mediapipe_backend import landmarks_to_body25
from alignnet.pose.native_stderr import SHOW_ENV, without_native_notices
from alignnet.pose.openpose_json import read_openpose_json
from alignnet.pose.parallel import BackendSpec, extract_pose_parallel, frame_runs
from alignnet.pose.people import most_prominent
from alignnet.pose.sequence import PoseSequence
from alignnet.stage_status import Reason, StageFailure, StageStatus
from alignnet.video_frames import iter_frames

STAND_IN = Path(__file__).parent / "stand_in_pyopenpose"


def make_video(path: Path, width: int, height: int, frames: int, source: str = "color=c=black") -> Path:
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"{source}:size={width}x{height}:rate=25",
            "-frames:v",
            str(frames),
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
    )
    return path


# ---------------------------------------------------------------- mediapipe


def test_landmarks_to_body25_hand_computed() -> None:
    lm = np.zeros((33, 3), np.float32)
    lm[:, 2] = 0.9
    lm[:, :2] = 0.5
    lm[11] = (0.6, 0.3, 0.8)  # subject's left shoulder: image right for a person facing the camera
    lm[12] = (0.4, 0.3, 0.7)
    lm[23] = (0.58, 0.6, 0.9)
    lm[24] = (0.42, 0.6, 0.4)
    lm[27] = (0.55, 1.2, 0.9)  # left ankle below the frame
    lm[28] = (0.45, 0.9, 0.05)  # right ankle barely visible
    lm[31] = (0.56, 0.95, 0.6)  # left foot index
    lm[5] = (0.47, 0.2, 0.9)  # right eye (MediaPipe 1-3 are the left eye)
    out = landmarks_to_body25(lm, width=200, height=100, min_visibility=0.1)
    assert out.shape == (25, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out[J["Neck"]], (100.0, 30.0, 0.7), rtol=1e-6)
    np.testing.assert_allclose(out[J["LShoulder"]], (120.0, 30.0, 0.8), rtol=1e-6)
    np.testing.assert_allclose(out[J["RShoulder"]], (80.0, 30.0, 0.7), rtol=1e-6)
    np.testing.assert_allclose(out[J["MidHip"]], (100.0, 60.0, 0.4), rtol=1e-6)
    np.testing.assert_allclose(out[J["RHip"]], (84.0, 60.0, 0.4), rtol=1e-6)
    np.testing.assert_allclose(out[J["REye"]], (94.0, 20.0, 0.9), rtol=1e-6)
    np.testing.assert_array_equal(out[J["LAnkle"]], 0)  # outside the frame
    np.testing.assert_array_equal(out[J["RAnkle"]], 0)  # visibility below 0.1
    np.testing.assert_allclose(out[J["LBigToe"]], (112.0, 95.0, 0.6), rtol=1e-6)
    np.testing.assert_array_equal(out[J["LSmallToe"]], out[J["LBigToe"]])


def test_mediapipe_on_synth_dancer_matches_ground_truth(tmp_path: Path) -> None:
    """A 2 s demo video at 1280x720 (alignnet synth), decoded at 640x360, against its sidecar's true keypoints."""
    assert (
        main(
            [
                "synth",
                str(tmp_path),
                "--videos",
                "1",
                "--seconds",
                "2",
                "--negatives",
                "0",
                "--width",
                "1280",
                "--height",
                "720",
                "--no-progress",
            ]
        )
        == 0
    )
    truth = np.array(json.loads((tmp_path / "demo-0000.json").read_text())["keypoints"], np.float32)
    backend = get_backend("mediapipe")
    try:
        seq = extract_pose(tmp_path / "demo-0000.mp4", backend, max_side=640, progress=False)
    finally:
        backend.close()
    assert seq.keypoints.shape == truth.shape and (seq.width, seq.height) == (1280, 720)
    assert seq.meta["decoded_size"] == "640x360" and seq.meta["counts_people"] == "false"
    assert (seq.people == 1).mean() >= 0.95
    found = seq.keypoints[:, :19, 2] > 0
    assert found.mean() >= 0.95
    error = np.linalg.norm(seq.keypoints[:, :19, :2] - truth[:, :19, :2], axis=-1)  # pixels of 1280x720
    assert np.median(error[found]) < 12
    per_joint = np.array([np.median(error[found[:, j], j]) for j in range(19)])
    assert (per_joint < 30).all(), per_joint  # a left/right swap is ~shoulder width off


# A fresh process finds a person with MediaPipe: what it writes to stderr (the graph's notices appear once per process).
_POSE_ONE_VIDEO = """
import sys
from alignnet.pose.backends import get_backend
from alignnet.pose.extract import extract_pose
backend = get_backend("mediapipe")
seq = extract_pose(sys.argv[1], backend, progress=False)
backend.close()
print(int((seq.people == 1).sum()))
"""


@pytest.mark.parametrize("shown", [False, True])
def test_mediapipe_start_up_notices_stay_out_of_stderr(tmp_path: Path, shown: bool) -> None:
    assert main(["synth", str(tmp_path), "--videos", "1", "--seconds", "1", "--negatives", "0", "--no-progress"]) == 0
    env = {**os.environ, SHOW_ENV: "1"} if shown else {k: v for k, v in os.environ.items() if k != SHOW_ENV}
    run = subprocess.run(
        [sys.executable, "-c", _POSE_ONE_VIDEO, str(tmp_path / "demo-0000.mp4")],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert int(run.stdout) == 30  # a person in every frame: the graph ran in full
    notices = ("XNNPACK delegate", "absl::InitializeLog", "inference_feedback_manager")
    assert [n for n in notices if n in run.stderr] == (list(notices) if shown else []), run.stderr


def test_stderr_filter_passes_on_everything_but_the_notices(capfd: pytest.CaptureFixture[str]) -> None:
    notices = (
        b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n"
        b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        b"W0000 00:00:1795896311.720353    5169 inference_feedback_manager.cc:114] Feedback manager requires a model"
        b" with a single signature inference. Disabling support for feedback tensors.\n"
    )
    with without_native_notices():
        os.write(2, b"\rpose: 10%" + notices + b"W0000 other.cc:1] kept\n")
        worker = threading.Thread(target=os.write, args=(2, b"from a thread\n"))
        worker.start()
        worker.join()
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "\rpose: 10%W0000 other.cc:1] kept\nfrom a thread\nafter\n"


def test_mediapipe_without_its_own_smoothing_follows_fast_motion_closer(tmp_path: Path) -> None:
    """The default (smooth_landmarks off) against MediaPipe's causal smoothing, on one fixed 6 s demo video.

    Both go through the clean stage; the arms' velocity is compared with the
    sidecar's true keypoints cleaned the same way. The smoothing lags the
    fastest points: on this video 0.62 against 0.89 px/frame (seed 0; with the
    first cleaning defaults, whose 9-frame fit hid more of the lag, 0.39 against 0.59).
    """
    assert main(["synth", str(tmp_path), "--videos", "1", "--seconds", "6", "--negatives", "0", "--no-progress"]) == 0
    truth = np.array(json.loads((tmp_path / "demo-0000.json").read_text())["keypoints"], np.float64)
    arms = [J["RElbow"], J["RWrist"], J["LElbow"], J["LWrist"]]

    def arm_velocity_error(**options: bool) -> float:
        backend = get_backend("mediapipe", **options)
        try:
            seq = extract_pose(tmp_path / "demo-0000.mp4", backend, progress=False)
        finally:
            backend.close()
        error = np.diff(clean_clip(seq.keypoints.astype(np.float64), CleanParams()), axis=0) - np.diff(
            clean_clip(truth, CleanParams()), axis=0
        )
        return float(np.sqrt(np.mean(error[:, arms] ** 2)))  # the 19 dance points are BODY_25's first 19

    default, smoothed = arm_velocity_error(), arm_velocity_error(smooth_landmarks=True)
    assert default < 0.8 * smoothed, (default, smoothed)


def test_decode_size_keeps_aspect_and_even() -> None:
    assert decode_size(1280, 720, 640) == (640, 360)
    assert decode_size(720, 1280, 640) == (360, 640)
    assert decode_size(640, 360, 640) == (640, 360)
    assert decode_size(1920, 1080, None) == (1920, 1080)


def test_mediapipe_blank_video_no_person_and_downscaled(tmp_path: Path) -> None:
    video = make_video(tmp_path / "blank.mp4", 1280, 720, 8)
    backend = get_backend("mediapipe")
    try:
        seq = extract_pose(video, backend, max_side=640, progress=False)
    finally:
        backend.close()
    assert seq.keypoints.shape == (8, 25, 3)
    assert (seq.people == 0).all() and (seq.keypoints == 0).all()
    assert (seq.width, seq.height, seq.fps, seq.backend) == (1280, 720, 25.0, "mediapipe")
    assert seq.meta["decoded_size"] == "640x360"


def test_unknown_backend_is_named() -> None:
    with pytest.raises(KeyError, match="alphapose"):
        get_backend("alphapose")


# ---------------------------------------------------------------- openpose (stand-in pyopenpose)


def person(x0: float, y0: float, size: float, n: int = 25, conf: float = 0.8) -> list[list[float]]:
    """n points spread over a size x size box at (x0, y0)."""
    t = np.linspace(0, 1, n)
    return [[x0 + size * a, y0 + size * b, conf] for a, b in zip(t, t[::-1], strict=True)]


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    frames = [
        {
            "pose": [person(10, 10, 20), person(100, 50, 80), person(300, 10, 40)],
            "face": [person(12, 12, 5, 70), person(110, 55, 10, 70), person(305, 12, 6, 70)],
        },
        {"pose": []},
        {"pose": [person(40, 30, 60)], "face": [person(45, 32, 8, 70)]},
    ]
    sidecar = tmp_path / "keypoints.json"
    sidecar.write_text(json.dumps({"frames": frames}))
    monkeypatch.setenv("STAND_IN_OPENPOSE_KEYPOINTS", str(sidecar))
    return stand_in_models(tmp_path / "models")


def stand_in_models(folder: Path) -> Path:
    """A model folder the stand-in accepts: an empty BODY_25 caffemodel where OpenPose looks for it."""
    model = folder / "pose/body_25/pose_iter_584000.caffemodel"
    model.parent.mkdir(parents=True)
    model.touch()
    return folder


@pytest.mark.parametrize("api", ["1.7", "1.6"])
def test_openpose_backend_both_api_versions(api: str, stand_in: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAND_IN_OPENPOSE_API", api)
    backend = get_backend("openpose", model_folder=stand_in, python_path=STAND_IN)
    from openpose import pyopenpose

    frame = np.zeros((240, 320, 3), np.uint8)
    frame[..., 0] = 255  # pure red in RGB
    try:
        first, n_first = backend.process(frame)
        empty, n_empty = backend.process(frame)
        single, n_single = backend.process(frame)
    finally:
        backend.close()
    assert backend._vector_datum is (api == "1.7")
    assert (n_first, n_empty, n_single) == (3, 0, 1)
    np.testing.assert_allclose(first, person(100, 50, 80))  # the largest of three
    assert empty.shape == (25, 3) and (empty == 0).all()
    np.testing.assert_allclose(single, person(40, 30, 60))
    assert pyopenpose.INPUTS[-1][2] == (0.0, 0.0, 255.0)  # OpenPose was given BGR


def test_openpose_face_path_follows_chosen_body(stand_in: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAND_IN_OPENPOSE_API", "1.6")
    backend = get_backend("openpose", model_folder=stand_in, python_path=STAND_IN, face=True)
    frame = np.zeros((240, 320, 3), np.uint8)
    try:
        face, n = backend.process(frame)
        empty, n_empty = backend.process(frame)
    finally:
        backend.close()
    assert backend.layout == "FACE_70" and n == 3 and n_empty == 0
    np.testing.assert_allclose(face, person(110, 55, 10, 70))
    assert empty.shape == (70, 3) and (empty == 0).all()


def test_openpose_extract_scales_back_to_full_pixels(
    tmp_path: Path, stand_in: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAND_IN_OPENPOSE_API", "1.7")
    video = make_video(tmp_path / "v.mp4", 1280, 720, 3)
    backend = get_backend("openpose", model_folder=stand_in, python_path=STAND_IN)
    try:
        seq = extract_pose(video, backend, max_side=640, progress=False)
    finally:
        backend.close()
    from openpose import pyopenpose

    assert pyopenpose.INPUTS[-1][0] == (360, 640, 3)
    assert seq.people.tolist() == [3, 0, 1]
    expected = np.array(person(100, 50, 80), np.float32) * (2, 2, 1)
    np.testing.assert_allclose(seq.keypoints[0], expected, rtol=1e-6)


def test_openpose_import_error_says_how_to_build(
    tmp_path: Path, stand_in: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("openpose", "openpose.pyopenpose"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if Path(p) != STAND_IN])
    monkeypatch.delenv("OPENPOSE_PYTHON", raising=False)
    with pytest.raises(UserInputError, match="BUILD_PYTHON=ON.*--python-path"):
        get_backend("openpose", model_folder=stand_in, python_path=tmp_path)


def test_most_prominent_prefers_large_box_then_confidence() -> None:
    people = np.zeros((3, 25, 3), np.float32)
    people[0, :2] = [[0, 0, 1], [10, 10, 1]]
    people[1, :2] = [[0, 0, 0.5], [50, 40, 0.5]]
    people[2, 0] = [500, 500, 1]  # one point: no box
    assert most_prominent(people) == 1
    assert most_prominent(people[[2, 0]]) == 1
    assert most_prominent(np.zeros((2, 25, 3), np.float32)) == 0


# ---------------------------------------------------------------- openpose --write_json import


def write_openpose_json(folder: Path, name: str, index: int, people: list[dict]) -> Path:
    path = folder / f"{name}_{index:012d}_keypoints.json"
    path.write_text(json.dumps({"version": 1.3, "people": people}))
    return path


def op_person(points: list[list[float]], face: list[list[float]] | None = None) -> dict:
    return {
        "person_id": [-1],
        "pose_keypoints_2d": [v for p in points for v in p],
        "face_keypoints_2d": [v for p in face for v in p] if face else [],
        "hand_left_keypoints_2d": [],
        "hand_right_keypoints_2d": [],
        "pose_keypoints_3d": [],
        "face_keypoints_3d": [],
        "hand_left_keypoints_3d": [],
        "hand_right_keypoints_3d": [],
    }


def test_openpose_json_import(tmp_path: Path) -> None:
    small, big = person(10, 10, 20), person(100, 50, 80)
    big[3] = [123.0, 45.0, 0.0]  # not found: c == 0 whatever x, y say
    write_openpose_json(tmp_path, "dance", 0, [op_person(small)])
    write_openpose_json(tmp_path, "dance", 1, [])
    write_openpose_json(tmp_path, "dance", 3, [op_person(small), op_person(big)])  # 2 is missing
    write_openpose_json(tmp_path, "other", 0, [op_person(big)])
    seq = read_openpose_json(tmp_path, "dance", fps=30.0, width=320, height=240)
    assert seq.keypoints.shape == (4, 25, 3)
    assert seq.people.tolist() == [1, 0, 0, 2]
    assert seq.meta["missing_frames"] == "1"
    np.testing.assert_allclose(seq.keypoints[0], small)
    assert (seq.keypoints[[1, 2]] == 0).all()
    expected = np.array(big, np.float32)
    expected[3] = 0
    np.testing.assert_allclose(seq.keypoints[3], expected)


def test_openpose_json_normalised_scale_and_face(tmp_path: Path) -> None:
    body = [[0.5, 0.25, 0.9]] * 25
    face = [[0.5, 0.5, 0.7]] * 69 + [[0.9, 0.9, 0.0]]
    write_openpose_json(tmp_path, "v", 0, [op_person(body, face)])
    seq = read_openpose_json(tmp_path, "v", 25.0, 200, 100, keypoint_scale=3)
    np.testing.assert_allclose(seq.keypoints[0, 0], (100.0, 25.0, 0.9), rtol=1e-6)
    faces = read_openpose_json(tmp_path, "v", 25.0, 200, 100, keypoint_scale=4, layout="FACE_70")
    assert faces.layout == "FACE_70" and faces.keypoints.shape == (1, 70, 3)
    np.testing.assert_allclose(faces.keypoints[0, 0], (150.0, 75.0, 0.7), rtol=1e-6)
    np.testing.assert_array_equal(faces.keypoints[0, 69], 0)


def test_openpose_json_malformed_file_is_named(tmp_path: Path) -> None:
    write_openpose_json(tmp_path, "v", 0, [])
    bad = tmp_path / "v_000000000001_keypoints.json"
    bad.write_text('{"version": 1.3, "people": [')
    with pytest.raises(UserInputError, match=str(bad.name)):
        read_openpose_json(tmp_path, "v", 25.0, 10, 10)
    bad.write_text(json.dumps({"version": 1.3, "people": [{"pose_keypoints_2d": [1, 2, 3]}]}))
    with pytest.raises(UserInputError, match=str(bad.name)):
        read_openpose_json(tmp_path, "v", 25.0, 10, 10)
    with pytest.raises(UserInputError, match="no OpenPose JSON files `w_"):
        read_openpose_json(tmp_path, "w", 25.0, 10, 10)


# ---------------------------------------------------------------- CLI


def test_cli_upstream_failure_writes_empty_pose(tmp_path: Path) -> None:
    StageStatus("clip", ok=False, reason="corrupt_file", detail="moov atom not found").write(tmp_path)
    out = tmp_path / "pose" / "clip.npz"
    assert main(["pose", str(tmp_path / "video.mp4"), "-o", str(out), "--no-progress"]) == 0
    seq = PoseSequence.load(out)
    assert seq.n_frames == 0 and seq.keypoints.shape == (0, 25, 3)
    status = StageStatus.read(out)
    assert (status.stage, status.ok, status.reason, status.origin) == ("pose", False, "corrupt_file", "clip")


def test_cli_corrupt_video_and_wrong_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    out = tmp_path / "corrupt.npz"
    assert main(["pose", str(corrupt), "-o", str(out), "--no-progress"]) == 0
    assert PoseSequence.load(out).n_frames == 0 and StageStatus.read(out).reason == "corrupt_file"
    missing = tmp_path / "nowhere" / "video.mp4"
    assert main(["pose", str(missing), "-o", str(tmp_path / "x.npz")]) == 2
    assert str(missing) in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


def test_cli_openpose_json_without_video(tmp_path: Path) -> None:
    json_dir = tmp_path / "json"
    json_dir.mkdir()
    write_openpose_json(json_dir, "clip", 0, [op_person(person(5, 5, 30))])
    out = tmp_path / "clip.npz"
    args = [
        "pose",
        str(tmp_path / "clip.mp4"),
        "-o",
        str(out),
        "--backend",
        "openpose-json",
        "--json-dir",
        str(json_dir),
        "--fps",
        "30",
        "--width",
        "64",
        "--height",
        "48",
    ]
    assert main(args) == 0
    seq = PoseSequence.load(out)
    assert (seq.n_frames, seq.fps, seq.width, seq.backend) == (1, 30.0, 64, "openpose-json")
    assert main(args[:-6]) == 2  # no video and no --fps/--width/--height


def test_prefetch_order_errors_and_early_stop() -> None:
    assert list(prefetch(iter(range(50)), depth=3)) == list(range(50))

    def failing():
        yield 1
        raise RuntimeError("decoder broke")

    with pytest.raises(RuntimeError, match="decoder broke"):
        list(prefetch(failing()))
    consumer = prefetch(iter(range(1000)), depth=2)
    assert next(consumer) == 0
    consumer.close()  # must not hang on the full queue


# ---------------------------------------------------------------- several workers over one video


def test_frame_runs_split_evenly_and_leave_the_last_run_open() -> None:
    assert frame_runs(1000, 2, 100) == [(0, 500), (500, None)]
    assert frame_runs(1000, 3, 100) == [(0, 333), (333, 667), (667, None)]
    assert frame_runs(250, 4, 100) == [(0, 125), (125, None)]  # at least 100 frames a run
    assert frame_runs(99, 4, 100) == [(0, None)]
    assert frame_runs(None, 4, 100) == [(0, None)]  # unknown length: one pass
    with pytest.raises(ValueError, match="at least 1"):
        frame_runs(1000, 0)


def test_iter_frames_decodes_an_exact_run_of_frames(tmp_path: Path) -> None:
    """Frame j of a grey ramp has level 20 + 10 j; a run must start and end on the right frames."""
    video = make_video(tmp_path / "black.mp4", 32, 32, 20)
    ramp = tmp_path / "ramp.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(video),
            "-vf",
            "geq=lum='20+10*N':cb=128:cr=128",
            "-c:v",
            "libx264",
            "-qp",
            "0",
            str(ramp),
        ],
        check=True,
    )
    every = np.array([f.mean() for f in iter_frames(ramp, pix_fmt="gray")])
    assert len(every) == 20 and (np.diff(every) > 5).all()  # each frame its own level
    run = [f.mean() for f in iter_frames(ramp, pix_fmt="gray", frame_range=(5, 12))]
    np.testing.assert_allclose(run, every[5:12], atol=0.5)
    rest = [f.mean() for f in iter_frames(ramp, pix_fmt="gray", frame_range=(17, None))]
    np.testing.assert_allclose(rest, every[17:], atol=0.5)


def test_stage_failure_survives_pickling() -> None:
    """A worker process's StageFailure reaches the caller with its reason and detail."""
    failure = pickle.loads(pickle.dumps(StageFailure(Reason.CORRUPT_FILE, "frame 9 is broken")))
    assert isinstance(failure, StageFailure) and failure.reason == Reason.CORRUPT_FILE
    assert failure.detail == "frame 9 is broken"


def test_mediapipe_in_two_processes_gives_the_frames_of_one_pass(tmp_path: Path) -> None:
    """The first run is exactly one pass's; the second re-detects the dancer and stays within a few pixels."""
    assert main(["synth", str(tmp_path), "--videos", "1", "--seconds", "4", "--negatives", "0", "--no-progress"]) == 0
    video = tmp_path / "demo-0000.mp4"
    backend = get_backend("mediapipe")
    try:
        one = extract_pose(video, backend, progress=False)
    finally:
        backend.close()
    two = extract_pose_parallel(video, BackendSpec("mediapipe"), 2, progress=False, min_frames_per_worker=40)
    assert two.meta["workers"] == "2" and one.meta.get("workers") is None
    assert two.keypoints.shape == one.keypoints.shape == (120, 25, 3)
    assert (two.fps, two.width, two.height, two.backend) == (one.fps, one.width, one.height, one.backend)
    np.testing.assert_array_equal(two.keypoints[:60], one.keypoints[:60])
    np.testing.assert_array_equal(two.people, one.people)
    found = (two.keypoints[60:, :19, 2] > 0) & (one.keypoints[60:, :19, 2] > 0)
    gap = np.linalg.norm(two.keypoints[60:, :19, :2] - one.keypoints[60:, :19, :2], axis=-1)[found]
    assert found.mean() > 0.9 and np.median(gap) < 3
