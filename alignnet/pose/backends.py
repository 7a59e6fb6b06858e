"""The frame backend interface and the registry that builds one by name.

A frame backend turns one decoded frame into the keypoints of the most
prominent person and a count of the people it saw. `extract_pose` runs one
over a video. OpenPose's own JSON output is imported by
`alignnet.pose.openpose_json` instead: it decodes no frames.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


class PoseBackend(Protocol):
    """One pose estimator, frame by frame, in video order (backends may track).

    name: the backend's registry name, stored in the PoseSequence.
    layout: "BODY_25" (25 points) or "FACE_70" (70 points).
    counts_people: False when the people count is only presence (0 or 1),
        so the single-person filter must use other evidence.
    """

    name: str
    layout: str
    counts_people: bool

    def process(self, frame_rgb: np.ndarray) -> tuple[np.ndarray, int]:
        """Keypoints of one (height, width, 3) uint8 RGB frame.

        Returns (points, 3) float32 x, y in pixels of this frame and a
        confidence in [0, 1], (0, 0, 0) for a point not found (every point
        when nobody is found), and the number of people seen.
        """
        ...

    def close(self) -> None:
        """Free the model."""
        ...


@dataclass(frozen=True)
class BackendTraits:
    """What a PoseSequence records of the backend that made it (see PoseBackend)."""

    name: str
    layout: str
    counts_people: bool

    @classmethod
    def of(cls, backend: PoseBackend) -> BackendTraits:
        return cls(backend.name, backend.layout, backend.counts_people)


# name -> "module:factory"; modules are imported only when their backend is built,
# so choosing openpose never imports mediapipe and the reverse.
FRAME_BACKENDS: dict[str, str] = {
    "mediapipe": "alignnet.pose.mediapipe_backend:MediaPipeBackend",
    "openpose": "alignnet.pose.openpose_backend:OpenPoseBackend",
}


def get_backend(name: str, **options: Any) -> PoseBackend:
    """Build the frame backend `name` with its keyword options.

    Raises KeyError naming the unknown backend and the known ones.
    """
    try:
        target = FRAME_BACKENDS[name]
    except KeyError:
        raise KeyError(f"unknown pose backend {name!r}; choose from {', '.join(FRAME_BACKENDS)}") from None
    module_name, factory = target.split(":")
    return getattr(importlib.import_module(module_name), factory)(**options)
