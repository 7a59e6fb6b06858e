"""2D pose of one video: BODY_25 keypoints of the most prominent person (or, --face, face points), every frame.

Reads VIDEO (or, with --backend openpose-json, OpenPose's --write_json folder
for it) and writes OUT.npz, a PoseSequence: keypoints (frames, 25, 3) with x,
y in pixels of VIDEO's frames and a confidence, (0, 0, 0) for a point not
found; people per frame; fps; size. Backends:

  mediapipe      MediaPipe Pose on the CPU (one person; people is 1 or 0 and
                 meta["counts_people"] is "false": filter on other evidence);
                 with --face, Face Mesh: FACE_70 with the 20 mouth points
                 48-67 of the most prominent face, people = faces seen
  openpose       OpenPose's Python wrapper (needs OpenPose built with BUILD_PYTHON=ON), on one
                 GPU: with several visible, the first no other `alignnet pose` holds
                 (CUDA_VISIBLE_DEVICES is narrowed to it); give it full frames (--max-side 0),
                 it scales them to --net-resolution itself
  openpose-json  import the JSON files OpenPose wrote with --write_json DIR

Beside OUT it writes the stage record OUT.status.json (alignnet.stage_status).
When VIDEO is missing because an earlier stage failed (its record says so), or
VIDEO cannot be decoded, or decodes to clearly less than its container
announces (a truncated file), the record says why, OUT gets 0 frames, the
reason is printed, and the command exits 0. A fault of the
machine (no space, I/O error) fails the command and writes no OUT.

Examples:
  alignnet pose results/clips/abc/video.mp4 -o results/pose/abc.npz --backend mediapipe
  alignnet pose video.mp4 -o video.npz --backend openpose --model-folder ~/openpose/models \\
      --python-path ~/openpose/build/python --net-resolution=-1x368
  alignnet pose video.mp4 -o video.npz --backend openpose-json --json-dir openpose_json/
  alignnet pose talk.mp4 -o talk.npz --backend mediapipe --face   # lips task
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from alignnet.errors import UserInputError
from alignnet.faults import failed_status
from alignnet.gpu_slots import VISIBLE_ENV, claim_gpu
from alignnet.pose.backends import FRAME_BACKENDS
from alignnet.pose.extract import empty_sequence, probe_video
from alignnet.pose.openpose_backend import net_resolution
from alignnet.pose.openpose_json import BACKEND_NAME as JSON_BACKEND
from alignnet.pose.openpose_json import read_openpose_json
from alignnet.pose.parallel import BackendSpec, extract_pose_parallel
from alignnet.pose.sequence import PoseSequence
from alignnet.stage_status import StageFailure, StageStatus, read_upstream, write_with_record

log = logging.getLogger(__name__)
STAGE = "pose"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", type=Path, help="the video (its basename names the OpenPose JSON files)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output .npz (PoseSequence)")
    parser.add_argument(
        "--backend", choices=[*FRAME_BACKENDS, JSON_BACKEND], default="mediapipe", help="pose estimator"
    )
    parser.add_argument(
        "--max-side",
        type=int,
        default=640,
        help="decode frames with the longer side at most this (0: full size); keypoints are "
        "scaled back to full pixels. For MediaPipe; OpenPose scales to --net-resolution itself (the workflow "
        "gives it 0)",
    )
    parser.add_argument(
        "--face",
        action="store_true",
        help="the lips task: write face points (layout FACE_70) instead of BODY_25; mediapipe fills only "
        "the mouth points 48-67 (Face Mesh)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="frame backends: processes, each over one run of VIDEO's frames (at least 20 s of them each): for one"
        " long video on a machine with idle cores; the workflow runs videos side by side instead",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    mp_group = parser.add_argument_group("mediapipe")
    mp_group.add_argument(
        "--min-visibility", type=float, default=0.1, help="landmarks with a lower visibility are written as missing"
    )
    op_group = parser.add_argument_group("openpose")
    op_group.add_argument("--model-folder", type=Path, help="OpenPose's models/ folder")
    op_group.add_argument(
        "--python-path",
        type=Path,
        help="folder holding openpose/pyopenpose (OpenPose's build/python); default $OPENPOSE_PYTHON",
    )
    op_group.add_argument(
        "--net-resolution",
        default="-1x368",
        help="OpenPose --net_resolution, WIDTHxHEIGHT, multiples of 16, one of them -1 (from the aspect ratio); "
        "with a leading minus write it as one token: --net-resolution=-1x368",
    )
    op_group.add_argument(
        "--number-people-max",
        type=int,
        default=-1,
        help="OpenPose --number_people_max (-1: all; the single-person filter counts them)",
    )
    js_group = parser.add_argument_group("openpose-json")
    js_group.add_argument("--json-dir", type=Path, help="the folder OpenPose's --write_json wrote")
    js_group.add_argument(
        "--json-prefix", help="basename in the JSON file names (default: VIDEO's name without suffix)"
    )
    js_group.add_argument(
        "--keypoint-scale",
        type=int,
        default=0,
        choices=[0, 3, 4],
        help="OpenPose's --keypoint_scale of the JSON: 0 pixels; 3 [0,1] and 4 [-1,1] are "
        "converted with the frame size (VIDEO's, or --width/--height)",
    )
    js_group.add_argument("--fps", type=float, help="frame rate when VIDEO is absent")
    js_group.add_argument("--width", type=int, help="frame width in pixels when VIDEO is absent")
    js_group.add_argument("--height", type=int, help="frame height in pixels when VIDEO is absent")


def _frame_backend(args: argparse.Namespace) -> BackendSpec:
    options: dict[str, dict[str, object]] = {
        "mediapipe": {"min_visibility": args.min_visibility, "face": args.face},
        "openpose": {
            "model_folder": args.model_folder,
            "net_resolution": net_resolution(args.net_resolution),
            "number_people_max": args.number_people_max,
            "face": args.face,
            "python_path": args.python_path,
        },
    }
    if args.backend == "openpose" and args.model_folder is None:
        raise UserInputError("--backend openpose needs --model-folder (OpenPose's models/ folder)")
    return BackendSpec(args.backend, options[args.backend])


def _run_frames(args: argparse.Namespace) -> PoseSequence:
    if args.workers < 1:
        raise UserInputError(f"--workers {args.workers}: must be at least 1")
    spec = _frame_backend(args)
    if args.backend != "openpose":
        return extract_pose_parallel(args.video, spec, args.workers, args.max_side or None, not args.no_progress)
    with claim_gpu() as gpu:
        if gpu is not None:
            os.environ[VISIBLE_ENV] = gpu  # OpenPose and its worker processes see only this GPU, as device 0
        return extract_pose_parallel(args.video, spec, args.workers, args.max_side or None, not args.no_progress)


def _run_json(args: argparse.Namespace) -> PoseSequence:
    if args.json_dir is None:
        raise UserInputError("--backend openpose-json needs --json-dir")
    if args.video.exists():
        info = probe_video(args.video)
        fps, width, height = info.fps, info.width, info.height
    elif None in (args.fps, args.width, args.height):
        raise UserInputError(f"video not found: {args.video} (without it, give --fps, --width and --height)")
    else:
        fps, width, height = args.fps, args.width, args.height
    name = args.json_prefix or args.video.stem
    layout = "FACE_70" if args.face else "BODY_25"
    return read_openpose_json(args.json_dir, name, fps, width, height, args.keypoint_scale, layout)


def run(args: argparse.Namespace) -> int:
    layout = "FACE_70" if args.face else "BODY_25"
    json_without_video = args.backend == JSON_BACKEND and None not in (args.fps, args.width, args.height)
    try:
        upstream = read_upstream(args.video)
    except FileNotFoundError:
        if not json_without_video:
            raise UserInputError(f"video not found: {args.video}") from None
        upstream = None
    if upstream is not None and upstream.failed:
        status = upstream.failure(STAGE)
        log.warning("%s: %s stage failed (%s); writing an empty pose", args.video, status.origin, status.reason)
    else:
        if args.video.is_dir():
            raise UserInputError(f"video is a directory, not a video file: {args.video}")
        try:
            sequence = _run_json(args) if args.backend == JSON_BACKEND else _run_frames(args)
            status = StageStatus(STAGE, True, detail=f"{sequence.n_frames} frames")
        except StageFailure as exc:
            status = failed_status(STAGE, exc, f"pose {args.video}")  # raises for a fault of the machine
            log.warning("%s: %s", args.video, exc)
    if not status.ok:
        print(f"{args.video}: {status.reason}: {status.detail}")
        sequence = empty_sequence(args.backend, layout)
    write_with_record(args.output, status, lambda: sequence.save(args.output))
    log.info("wrote %s (%d frames)", args.output, sequence.n_frames)
    return 0
