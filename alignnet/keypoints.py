"""Keypoint layouts: OpenPose BODY_25, the 19 points the paper keeps, the 20 mouth points of
the lips task (FACE_70 / iBUG 48-67, and their MediaPipe Face Mesh landmarks), mirror pairs.

L/R is the subject's own side (a person facing the camera has R points on
the image's left).
"""

from __future__ import annotations

import numpy as np

BODY_25: tuple[str, ...] = (
    "Nose",
    "Neck",
    "RShoulder",
    "RElbow",
    "RWrist",
    "LShoulder",
    "LElbow",
    "LWrist",
    "MidHip",
    "RHip",
    "RKnee",
    "RAnkle",
    "LHip",
    "LKnee",
    "LAnkle",
    "REye",
    "LEye",
    "REar",
    "LEar",
    "LBigToe",
    "LSmallToe",
    "LHeel",
    "RBigToe",
    "RSmallToe",
    "RHeel",
)
BODY_25_INDEX: dict[str, int] = {name: i for i, name in enumerate(BODY_25)}

# BODY_25 mirror pairs (right, left).
BODY_25_MIRROR_PAIRS: tuple[tuple[int, int], ...] = (
    (2, 5),
    (3, 6),
    (4, 7),
    (9, 12),
    (10, 13),
    (11, 14),
    (15, 16),
    (17, 18),
    (19, 22),
    (20, 23),
    (21, 24),
)

# The paper's 19: BODY_25 without the 6 foot points (19-24).
DANCE_KEYPOINTS: tuple[int, ...] = tuple(range(19))
DANCE_NAMES: tuple[str, ...] = tuple(BODY_25[i] for i in DANCE_KEYPOINTS)
MID_HIP = BODY_25_INDEX["MidHip"]


def mirror_permutation(n_points: int, pairs: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Index array that swaps every mirror pair: points[perm] is the flipped layout."""
    perm = np.arange(n_points)
    for a, b in pairs:
        if a < n_points and b < n_points:
            perm[a], perm[b] = b, a
    return perm


DANCE_MIRROR = mirror_permutation(len(DANCE_KEYPOINTS), BODY_25_MIRROR_PAIRS)

# Limb segments of BODY_25 for drawing skeletons (index pairs).
BODY_25_LIMBS: tuple[tuple[int, int], ...] = (
    (0, 1),
    (1, 2),
    (2, 3),
    (3, 4),
    (1, 5),
    (5, 6),
    (6, 7),
    (1, 8),
    (8, 9),
    (9, 10),
    (10, 11),
    (8, 12),
    (12, 13),
    (13, 14),
    (0, 15),
    (15, 17),
    (0, 16),
    (16, 18),
    (14, 19),
    (19, 20),
    (14, 21),
    (11, 22),
    (22, 23),
    (11, 24),
)


# The mouth (the lips task): points 48-67 of the 68-point (iBUG) face layout.
# OpenPose's FACE_70 layout follows iBUG for points 0-67: 48-59 the outer
# lip, 60-67 the inner lip, counter-clockwise in the image from the
# subject's right mouth corner (48, on the image's left for a face looking
# at the camera). Mirror pairs and the Face Mesh mapping are those of
# docs/pose-formats.md.

FACE_70_POINTS = 70
# The 20 mouth points, as indices into FACE_70.
MOUTH_POINTS: tuple[int, ...] = tuple(range(48, 68))
MOUTH_NAMES: tuple[str, ...] = tuple(f"Mouth{i}" for i in MOUTH_POINTS)

# FACE_70 mirror pairs (right, left) of the mouth; 51, 57, 62, 66 lie on the midline.
MOUTH_MIRROR_PAIRS_FACE70: tuple[tuple[int, int], ...] = (
    (48, 54),
    (49, 53),
    (50, 52),
    (55, 59),
    (56, 58),
    (60, 64),
    (61, 63),
    (65, 67),
)
# The same pairs as indices into the 20 kept points (0 = point 48).
MOUTH_MIRROR_PAIRS: tuple[tuple[int, int], ...] = tuple((a - 48, b - 48) for a, b in MOUTH_MIRROR_PAIRS_FACE70)
MOUTH_MIRROR = mirror_permutation(len(MOUTH_POINTS), MOUTH_MIRROR_PAIRS)
# Segments for drawing, as indices into the 20 kept points: the outer lip ring (48-59) and the inner one (60-67).
MOUTH_SEGMENTS: tuple[tuple[int, int], ...] = tuple((i, (i + 1) % 12) for i in range(12)) + tuple(
    (12 + i, 12 + (i + 1) % 8) for i in range(8)
)

# MediaPipe Face Mesh landmark for each of iBUG points 48-67, in order.
FACE_MESH_MOUTH: tuple[int, ...] = (
    61,
    40,
    37,
    0,
    267,
    270,
    291,
    321,
    314,
    17,
    84,
    91,  # 48-59 outer lip
    78,
    81,
    13,
    311,
    308,
    402,
    14,
    178,  # 60-67 inner lip
)
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
