"""Choosing one person among the people a multi-person estimator returns."""

from __future__ import annotations

import numpy as np


def most_prominent(people_keypoints: np.ndarray) -> int:
    """Index of the person whose found points span the largest box.

    people_keypoints: (people, points, 3) x, y, confidence; a point with
    confidence 0 is missing. Ties (e.g. people with one point) go to the
    larger summed confidence, then to the lower index.
    """
    found = people_keypoints[..., 2] > 0
    xy = people_keypoints[..., :2]
    low = np.where(found[..., None], xy, np.inf).min(axis=1)
    high = np.where(found[..., None], xy, -np.inf).max(axis=1)
    extent = np.where(found.any(axis=1)[:, None], high - low, 0.0)
    area = extent[:, 0] * extent[:, 1]
    confidence = people_keypoints[..., 2].sum(axis=1)
    # lexsort sorts by the last key first; negate for descending, stable for the index.
    return int(np.lexsort((-confidence, -area))[0])
