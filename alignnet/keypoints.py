"""Keypoint layouts: OpenPose BODY_25, the 19 points the paper keeps, mirror pairs.

L/R is the subject's own side (a person facing the camera has R points on
the image's left).
"""

from __future__ import annotations

import numpy as np

BODY_25: tuple[str, ...] = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
    "MidHip", "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye",
    "REar", "LEar", "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel",
)  # fmt: skip
BODY_25_INDEX: dict[str, int] = {name: i for i, name in enumerate(BODY_25)}

# BODY_25 mirror pairs (right, left).
BODY_25_MIRROR_PAIRS: tuple[tuple[int, int], ...] = (
    (2, 5), (3, 6), (4, 7), (9, 12), (10, 13), (11, 14), (15, 16), (17, 18),
    (19, 22), (20, 23), (21, 24),
)  # fmt: skip

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
    (0, 1), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10),
    (10, 11), (8, 12), (12, 13), (13, 14), (0, 15), (15, 17), (0, 16), (16, 18),
    (14, 19), (19, 20), (14, 21), (11, 22), (22, 23), (11, 24),
)  # fmt: skip
