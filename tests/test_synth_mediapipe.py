"""mediapipe finds the synthetic dancer where the sidecar says it is.

Generates 3 good videos (4 s, 640x360), runs mediapipe Pose
(model_complexity=1, video mode) on every 2nd decoded frame and compares
the 13 joints both layouts define with the sidecar's true keypoints.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from alignnet.demo.synth.corpus import Options, generate_corpus
from alignnet.keypoints import BODY_25_INDEX as K
from alignnet.video_frames import iter_frames

# MediaPipe Pose landmark -> BODY_25 index (pose-formats.md), joints defined by both.
MP_TO_BODY25 = {
    0: K["Nose"],
    12: K["RShoulder"],
    14: K["RElbow"],
    16: K["RWrist"],
    11: K["LShoulder"],
    13: K["LElbow"],
    15: K["LWrist"],
    24: K["RHip"],
    26: K["RKnee"],
    28: K["RAnkle"],
    23: K["LHip"],
    25: K["LKnee"],
    27: K["LAnkle"],
}


def body_height(kp: np.ndarray) -> float:
    """Top of head to the lower ankle (pixels) from true BODY_25 keypoints of one frame.

    The head top is not a keypoint: it is placed 0.75 nose-to-neck distances above
    the nose, which is where the generator draws it (head radius vs. neck length).
    """
    nose, neck = kp[K["Nose"], :2], kp[K["Neck"], :2]
    top = nose[1] - 0.75 * np.hypot(*(neck - nose))
    return float(max(kp[K["RAnkle"], 1], kp[K["LAnkle"], 1]) - top)


def measure(directory: Path, video_ids: list[str], step: int = 2) -> tuple[float, float]:
    """(detection rate, mean joint error / body height) of mediapipe against the sidecars."""
    import mediapipe as mp

    detected = total = 0
    errors: list[float] = []
    for vid in video_ids:
        truth = np.array(json.loads((directory / f"{vid}.json").read_text())["keypoints"])
        with mp.solutions.pose.Pose(model_complexity=1) as pose:
            for i, frame in enumerate(iter_frames(directory / f"{vid}.mp4")):
                if i % step:
                    continue
                total += 1
                result = pose.process(frame)
                if result.pose_landmarks is None:
                    continue
                detected += 1
                h, w = frame.shape[:2]
                marks = result.pose_landmarks.landmark
                scale = body_height(truth[i])
                for m, b in MP_TO_BODY25.items():
                    if truth[i, b, 2] > 0:
                        errors.append(
                            np.hypot(marks[m].x * w - truth[i, b, 0], marks[m].y * h - truth[i, b, 1]) / scale
                        )
    return detected / total, float(np.mean(errors))


def test_mediapipe_detects_dancer_at_true_keypoints(tmp_path: Path) -> None:
    start = time.monotonic()
    generate_corpus(tmp_path, 3, Options(seed=21, seconds=4.0, warp=True, negatives=0.0, width=640, height=360), False)
    rate, error = measure(tmp_path, ["demo-0000", "demo-0001", "demo-0002"])
    print(
        f"mediapipe detection rate {rate:.3f}, mean joint error {100 * error:.2f} % of body height "
        f"({time.monotonic() - start:.0f} s)"
    )
    assert rate >= 0.95
    assert error <= 0.05
