"""MediaPipe Pose (legacy `mp.solutions.pose`, 0.10.14) as a BODY_25 frame backend.

MediaPipe finds one person (the most prominent) and reports 33 landmarks,
x and y normalised by the frame size and not clamped, with a `visibility`.
They are mapped to OpenPose's BODY_25 as in docs/pose-formats.md: Neck and
MidHip are midpoints of the shoulders and hips (with the smaller
visibility), eyes and ears from MediaPipe's eye and ear landmarks, heels and
big toes from the foot landmarks; MediaPipe has no small toe, so the foot
index is copied there. Points with low visibility or outside the frame
become (0, 0, 0), as OpenPose writes a point it did not find.

People count: the legacy API reports only whether a pose was found (1 or
0), never how many people are in the frame, and the Tasks API's
multi-person PoseLandmarker cannot load the wheel's models (they lack the
normalisation metadata it needs) offline. So with this backend the
single-person filter has to rely on other evidence (e.g. jumps in the
tracked skeleton), not on `people`.
"""

from __future__ import annotations

import numpy as np

# BODY_25 point i is the mean of MediaPipe landmarks _MP_A[i] and _MP_B[i]
# (the same landmark twice for a direct copy).
_MP_A = np.array([0, 11, 12, 14, 16, 11, 13, 15, 23, 24, 26, 28, 23, 25, 27, 5, 2, 8, 7, 31, 31, 29, 32, 32, 30])
_MP_B = np.array([0, 12, 12, 14, 16, 11, 13, 15, 24, 24, 26, 28, 23, 25, 27, 5, 2, 8, 7, 31, 31, 29, 32, 32, 30])
N_LANDMARKS = 33


def landmarks_to_body25(landmarks: np.ndarray, width: int, height: int, min_visibility: float = 0.1) -> np.ndarray:
    """Map MediaPipe's 33 landmarks to BODY_25 in pixels.

    landmarks: (33, 3) x, y normalised by width and height, visibility.
    Returns (25, 3) float32 x, y in pixels and confidence = visibility;
    points with visibility < min_visibility or outside
    [0, width) x [0, height) are (0, 0, 0).
    """
    landmarks = np.asarray(landmarks, dtype=np.float32)
    if landmarks.shape != (N_LANDMARKS, 3):
        raise ValueError(f"landmarks must be ({N_LANDMARKS}, 3), got {landmarks.shape}")
    a, b = landmarks[_MP_A], landmarks[_MP_B]
    out = np.empty((len(_MP_A), 3), dtype=np.float32)
    out[:, :2] = (a[:, :2] + b[:, :2]) / 2 * np.array([width, height], dtype=np.float32)
    out[:, 2] = np.minimum(a[:, 2], b[:, 2])
    x, y = out[:, 0], out[:, 1]
    keep = (out[:, 2] >= min_visibility) & (x >= 0) & (x < width) & (y >= 0) & (y < height)
    out[~keep] = 0.0
    return out


class MediaPipeBackend:
    """Frame backend around `mp.solutions.pose.Pose` in video (tracking) mode.

    min_visibility: landmarks below it are written as missing.
    Frames must come in video order: MediaPipe tracks between them.
    """

    name = "mediapipe"
    layout = "BODY_25"
    counts_people = False

    def __init__(
        self,
        min_visibility: float = 0.1,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ) -> None:
        import mediapipe as mp

        self.min_visibility = min_visibility
        self._pose = mp.solutions.pose.Pose(
            static_image_mode=False,
            model_complexity=1,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )

    def process(self, frame_rgb: np.ndarray) -> tuple[np.ndarray, int]:
        """(25, 3) BODY_25 keypoints in pixels of `frame_rgb`, and 1 or 0 people."""
        height, width = frame_rgb.shape[:2]
        result = self._pose.process(frame_rgb)
        if result.pose_landmarks is None:
            return np.zeros((len(_MP_A), 3), dtype=np.float32), 0
        landmarks = np.array([(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark], dtype=np.float32)
        return landmarks_to_body25(landmarks, width, height, self.min_visibility), 1

    def close(self) -> None:
        self._pose.close()

    def __enter__(self) -> MediaPipeBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
