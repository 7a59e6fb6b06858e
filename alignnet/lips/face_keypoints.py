"""The lip keypoints of the lips task: points 48-67 of the 68-point (iBUG) face layout.

OpenPose's FACE_70 layout follows iBUG for points 0-67: 48-59 the outer
lip, 60-67 the inner lip, counter-clockwise in the image from the
subject's right mouth corner (48, on the image's left for a face looking
at the camera). Mirror pairs and the Face Mesh mapping are those of
docs/pose-formats.md.
"""

from __future__ import annotations

import numpy as np

from alignnet.keypoints import mirror_permutation

FACE_70_POINTS = 70
# The 20 mouth points, as indices into FACE_70.
MOUTH_POINTS: tuple[int, ...] = tuple(range(48, 68))
MOUTH_NAMES: tuple[str, ...] = tuple(f"Mouth{i}" for i in MOUTH_POINTS)

# FACE_70 mirror pairs (right, left) of the mouth; 51, 57, 62, 66 lie on the midline.
MOUTH_MIRROR_PAIRS_FACE70: tuple[tuple[int, int], ...] = (
    (48, 54), (49, 53), (50, 52), (55, 59), (56, 58), (60, 64), (61, 63), (65, 67),
)  # fmt: skip
# The same pairs as indices into the 20 kept points (0 = point 48).
MOUTH_MIRROR_PAIRS: tuple[tuple[int, int], ...] = tuple((a - 48, b - 48) for a, b in MOUTH_MIRROR_PAIRS_FACE70)
MOUTH_MIRROR = mirror_permutation(len(MOUTH_POINTS), MOUTH_MIRROR_PAIRS)
# Segments for drawing, as indices into the 20 kept points: the outer lip ring (48-59) and the inner one (60-67).
MOUTH_SEGMENTS: tuple[tuple[int, int], ...] = tuple((i, (i + 1) % 12) for i in range(12)) + tuple(
    (12 + i, 12 + (i + 1) % 8) for i in range(8)
)

# MediaPipe Face Mesh landmark for each of iBUG points 48-67, in order.
FACE_MESH_MOUTH: tuple[int, ...] = (
    61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91,  # 48-59 outer lip
    78, 81, 13, 311, 308, 402, 14, 178,  # 60-67 inner lip
)  # fmt: skip
FACE_MESH_LANDMARKS = 468
# Inner-lip midpoints (upper, lower): their distance is the mouth opening.
INNER_UPPER, INNER_LOWER = 62 - 48, 66 - 48


def mouth_from_face70(face: np.ndarray) -> np.ndarray:
    """The 20 mouth points (..., 20, C) of FACE_70 keypoints (..., 70, C)."""
    if face.shape[-2] != FACE_70_POINTS:
        raise ValueError(f"expected {FACE_70_POINTS} face points, got shape {face.shape}")
    return face[..., MOUTH_POINTS, :]


def mouth_from_face_mesh(landmarks: np.ndarray) -> np.ndarray:
    """The 20 mouth points (..., 20, C) of Face Mesh landmarks (..., 468 or 478, C)."""
    if landmarks.shape[-2] < FACE_MESH_LANDMARKS:
        raise ValueError(f"expected >= {FACE_MESH_LANDMARKS} Face Mesh landmarks, got shape {landmarks.shape}")
    return landmarks[..., FACE_MESH_MOUTH, :]


def inner_lip_opening(mouth: np.ndarray) -> np.ndarray:
    """Distance between the inner-lip midpoints 62 and 66 of (..., 20, >=2) mouth points: (...,)."""
    return np.linalg.norm(mouth[..., INNER_LOWER, :2] - mouth[..., INNER_UPPER, :2], axis=-1)
