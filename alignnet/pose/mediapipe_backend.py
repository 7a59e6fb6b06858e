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

Face mode (`face=True`, the lips task): MediaPipe Face Mesh (legacy
`mp.solutions.face_mesh`, its models ship in the wheel) in video mode finds
up to `max_faces` faces, so `people` counts faces. The most prominent face
(largest landmark box) gives OpenPose's FACE_70 layout with the 20 mouth
points 48-67 mapped from the mesh (`alignnet.keypoints`,
docs/pose-formats.md) at confidence 1 (Face Mesh has no per-point score);
the other 50 points are (0, 0, 0).
"""

from __future__ import annotations

import warnings

import numpy as np

from alignnet.keypoints import (
    FACE_70_POINTS,
    MOUTH_POINTS,
    mouth_from_face_mesh,
)
from alignnet.pose.native_stderr import without_native_notices
from alignnet.pose.people import most_prominent

# protobuf 4 warns on every run that MediaPipe 0.10.14 reads its results with a deprecated call: not ours to fix.
warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype", category=UserWarning)

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


def face_mesh_to_face70(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """FACE_70 keypoints (70, 3) float32 in pixels from Face Mesh landmarks (468 or 478, >= 2).

    landmarks: x, y normalised by width and height. Points 48-67 (the mouth)
    get the mapped landmarks at confidence 1, or (0, 0, 0) outside
    [0, width) x [0, height); every other point is (0, 0, 0).
    """
    mouth = mouth_from_face_mesh(np.asarray(landmarks, dtype=np.float32))[:, :2] * np.array([width, height])
    out = np.zeros((FACE_70_POINTS, 3), dtype=np.float32)
    inside = (mouth[:, 0] >= 0) & (mouth[:, 0] < width) & (mouth[:, 1] >= 0) & (mouth[:, 1] < height)
    out[list(MOUTH_POINTS), :2] = np.where(inside[:, None], mouth, 0.0)
    out[list(MOUTH_POINTS), 2] = inside
    return out


_WARM_UP_SIZE = 64  # pixels of the empty frame the constructor runs through the graph


class MediaPipeBackend:
    """Frame backend around `mp.solutions.pose.Pose` (or, face=True, `mp.solutions.face_mesh.FaceMesh`)
    in video (tracking) mode.

    min_visibility: Pose landmarks below it are written as missing.
    smooth_landmarks: MediaPipe's own landmark smoothing (off by default).
        It is a causal, speed-adaptive filter: it lags the fastest points
        (the wrists) by a varying amount, and that blurs exactly the motion
        timing the model reads. The clean stage smooths instead, with a
        zero-phase median and Savitzky-Golay filter. On the demo's 128 split
        clips, against the sidecars' true keypoints after the clean stage, the
        velocity error was 0.40 px/frame with it and 0.36 without (the wrists
        gain most).
    face: Face Mesh instead of Pose, layout FACE_70 (mouth points only);
    max_faces: how many faces Face Mesh looks for (the people count).
    Frames must come in video order: MediaPipe tracks between them.
    """

    name = "mediapipe"

    def __init__(
        self,
        min_visibility: float = 0.1,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        smooth_landmarks: bool = False,
        face: bool = False,
        max_faces: int = 4,
    ) -> None:
        import mediapipe as mp

        self.min_visibility = min_visibility
        self.face = face
        self.layout = "FACE_70" if face else "BODY_25"
        self.counts_people = face
        with without_native_notices():  # MediaPipe's start-up notices (`alignnet.pose.native_stderr`)
            if face:
                self._model = mp.solutions.face_mesh.FaceMesh(
                    static_image_mode=False,
                    max_num_faces=max_faces,
                    refine_landmarks=False,
                    min_detection_confidence=min_detection_confidence,
                    min_tracking_confidence=min_tracking_confidence,
                )
            else:
                self._model = mp.solutions.pose.Pose(
                    static_image_mode=False,
                    model_complexity=1,
                    smooth_landmarks=smooth_landmarks,
                    min_detection_confidence=min_detection_confidence,
                    min_tracking_confidence=min_tracking_confidence,
                )
            # The graph opens its calculators (and writes its notices) in its own threads after the constructor
            # returns; one empty frame through it waits for that. No one is found there, so tracking starts afresh.
            self._model.process(np.zeros((_WARM_UP_SIZE, _WARM_UP_SIZE, 3), np.uint8))

    def process(self, frame_rgb: np.ndarray) -> tuple[np.ndarray, int]:
        """(25, 3) BODY_25 keypoints in pixels of `frame_rgb` and 1 or 0 people; face=True:
        (70, 3) FACE_70 (mouth points) of the most prominent face and the number of faces."""
        height, width = frame_rgb.shape[:2]
        if self.face:
            return self._process_face(frame_rgb, width, height)
        result = self._model.process(frame_rgb)
        if result.pose_landmarks is None:
            return np.zeros((len(_MP_A), 3), dtype=np.float32), 0
        landmarks = np.array([(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark], dtype=np.float32)
        return landmarks_to_body25(landmarks, width, height, self.min_visibility), 1

    def _process_face(self, frame_rgb: np.ndarray, width: int, height: int) -> tuple[np.ndarray, int]:
        result = self._model.process(frame_rgb)
        faces = result.multi_face_landmarks or []
        if not faces:
            return np.zeros((FACE_70_POINTS, 3), dtype=np.float32), 0
        meshes = np.array([[(p.x, p.y, 1.0) for p in f.landmark] for f in faces], dtype=np.float32)
        return face_mesh_to_face70(meshes[most_prominent(meshes)], width, height), len(faces)

    def close(self) -> None:
        self._model.close()

    def __enter__(self) -> MediaPipeBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
