"""Re-time a dance (or speech) video so that its motion follows an audio track (AlignNet retargeting, paper 4.5).

Reads VIDEO (any container and frame rate; brought to the training's frame
rate first, 30 fps for dance, as the clip stage does; its own audio, if any,
is ignored), AUDIO (any file with an
audio stream: .wav, .mp3, or a video whose sound track is used) and an AlignNet
checkpoint (--checkpoint: STEM.safetensors + STEM.json of `alignnet train`; a
lips model, 20 keypoints, re-times a talking face from its mouth points;
without it, the general dance model that ships with the package, trained on
recorded music, several dance styles, figures and shots and strong drifts). Finds the
dancer's pose in every frame, computes AUDIO's log-mel with the training's
settings and normalisation, runs the model over the whole length in
overlapping windows of the training clip length (one every --hop-seconds),
stitches them into one monotonic correspondence (per frame the weighted median
of the windows that cover it) and writes OUT: the video's frames re-timed onto
AUDIO's timeline at 30 fps (output frame k, at audio time k/30 s, shows the
input frame the model places at k/30 s; the first / last frame is held
outside the dance), with AUDIO as its sound (AAC).

Before the windows, a global search over the whole length (--prior global,
the default) finds one monotonic path from the model's own features over the
entire video and audio (dynamic time warping under local speeds of 0.5-2x; the
video may start and end anywhere inside AUDIO), and the windows are centred on
it: drifts of several seconds and a video that starts or ends seconds into the
song are followed. --prior linear centres them on "the dance spans AUDIO from
start to end" instead (align before the global search). --passes 2 re-centres
every window on the first pass's result. docs/align.md has the design.

--correspondence writes a CSV with columns frame (output frame) and
source_frame (the input frame shown there, a 30 fps frame index of VIDEO:
source_frame / 30 = seconds into VIDEO), and beside it C.confidence.json:
the alignment's confidence (how far the dance's match with AUDIO along the
result stands out of its match elsewhere in AUDIO) and low_confidence, true
when the dance probably does not follow AUDIO at all (another song). The
confidence is also printed.

Exit codes: 0 done; 2 a missing or unreadable file (VIDEO, AUDIO, checkpoint,
--pose-json) or bad option; 3 VIDEO has no video stream or AUDIO no audio
stream; 4 no person (or not the whole body) found in VIDEO.

Examples:
  alignnet align dance.mp4 song.mp3 -o dance_to_song.mp4 --correspondence dance_to_song.csv
  alignnet align dance.mp4 song.mp3 -o dance_to_song.mp4 --checkpoint results/train/alignnet/best
  alignnet align dance.mp4 song.wav -o out.mp4 --checkpoint best --dataset results/dataset/splits \\
      --correspondence out.csv --side-by-side compare.mp4
  alignnet align dance.mp4 song.wav -o out.mp4 --checkpoint best --pose-backend openpose-json \\
      --pose-json openpose_json/
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from alignnet.align.pipeline import PoseOptions, align_video
from alignnet.align.windows import WindowConfig
from alignnet.cli_options import Values, add_options, field_options, opt
from alignnet.errors import UserInputError

POSE_OPTIONS: Values = {
    "pose_backend": opt(
        ("mediapipe", "openpose", "openpose-json"),
        None,
        "pose estimator run on VIDEO, or openpose-json to read OpenPose's JSON for VIDEO (default: the backend of"
        " the training data, as the checkpoint records it; mediapipe when it records none); another one is warned"
        " about",
    ),
    "pose_json": opt(
        Path,
        None,
        "openpose-json: the folder OpenPose's --write_json wrote for VIDEO (files VIDEO-stem_*_keypoints.json)",
        metavar="DIR",
    ),
    "max_side": opt(
        int,
        PoseOptions.max_side,
        "mediapipe sees frames at most this long (openpose gets full frames, as in the pose stage)",
    ),
    "pose_workers": opt(
        int,
        None,
        "mediapipe: pose processes, each over one run of VIDEO's frames (default: one per available core,"
        " at most 8; a video shorter than 20 s per process uses fewer; openpose: 1)",
        metavar="N",
    ),
    "model_folder": opt(Path, None, "openpose: its models/ folder"),
    "python_path": opt(Path, None, "openpose: folder holding openpose/pyopenpose"),
    "net_resolution": opt(
        str,
        PoseOptions.net_resolution,
        "openpose: its --net_resolution, as in the pose stage (write --net-resolution=-1x368)",
    ),
    "min_person_share": opt(
        float,
        PoseOptions.min_person_share,
        "fail (exit 4) when a person is found in fewer of VIDEO's frames than this share",
    ),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", type=Path, metavar="VIDEO", help="the dance video to re-time")
    parser.add_argument("audio", type=Path, metavar="AUDIO", help="the audio to follow (any file with sound)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.mp4", help="re-timed video to write")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        metavar="CKPT",
        help="AlignNet checkpoint: STEM, STEM.safetensors or STEM.json (e.g. results/train/alignnet/best); default:"
        " the shipped general dance model (alignnet/checkpoints/general, its provenance.json says how it was made)",
    )
    parser.add_argument("--correspondence", type=Path, metavar="OUT.csv", help="also write the CSV frame,source_frame")
    parser.add_argument(
        "--side-by-side",
        type=Path,
        metavar="CMP.mp4",
        help="also write VIDEO as filmed (left) beside the re-timed video (right), both with AUDIO",
    )
    parser.add_argument(
        "--dataset",
        type=Path,
        metavar="DIR",
        help="packed dataset the model was trained on (its logmel_stats.npz and meta.json): the log-mel "
        "normalisation, when the checkpoint does not record it",
    )
    add_options(parser.add_argument_group("pose"), {}, POSE_OPTIONS)
    model = parser.add_argument_group("model")
    model.add_argument(
        "--window-seconds",
        type=float,
        default=None,
        help="audio seconds per window (default: the training clip length)",
    )
    add_options(model, {}, field_options(WindowConfig, ("hop_seconds", "coverage", "passes", "prior")))
    model.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1, ...")
    model.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.pose_workers is not None and args.pose_workers < 1:
        raise UserInputError(f"--pose-workers {args.pose_workers}: must be at least 1")
    pose = PoseOptions(
        args.pose_backend,
        args.pose_json,
        args.max_side,
        args.model_folder,
        args.python_path,
        args.net_resolution,
        args.min_person_share,
        args.pose_workers,
    )
    result = align_video(
        args.video,
        args.audio,
        args.output,
        args.checkpoint,
        correspondence=args.correspondence,
        comparison=args.side_by_side,
        pose=pose,
        window_seconds=args.window_seconds,
        hop_seconds=args.hop_seconds,
        coverage=args.coverage,
        passes=args.passes,
        prior=args.prior,
        dataset=args.dataset,
        device=args.device,
        progress=not args.no_progress,
    )
    low = " (low: the dance may not follow AUDIO)" if result.low_confidence else ""
    print(
        f"{args.output}: {len(result.source)} frames at {result.fps:g} fps from {len(result.forward)} input "
        f"frames (a person in {result.person_share:.0%}); confidence {result.confidence:.2f}{low}; "
        + ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    )
    return 0
