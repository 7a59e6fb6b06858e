"""Stand-in for OpenPose's `pyopenpose` (tests only; see ../README.md). Not OpenPose.

Mimics the documented Python API of OpenPose v1.7 (default) or v1.6
(STAND_IN_OPENPOSE_API=1.6) and returns keypoints read from the JSON
sidecar named by STAND_IN_OPENPOSE_KEYPOINTS, one frame per emplaceAndPop.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

API_ENV = "STAND_IN_OPENPOSE_API"
KEYPOINTS_ENV = "STAND_IN_OPENPOSE_KEYPOINTS"

# (shape, dtype, per-channel mean) of every cvInputData seen.
INPUTS: list[tuple[tuple[int, ...], str, tuple[float, ...]]] = []


def _api() -> str:
    api = os.environ.get(API_ENV, "1.7")
    if api not in ("1.6", "1.7"):
        raise RuntimeError(f"{API_ENV} must be 1.6 or 1.7, got {api!r}")
    return api


class Datum:
    """One frame in and its keypoints out (OpenPose's op::Datum, the fields used here)."""

    def __init__(self) -> None:
        self.cvInputData: Any = None
        self.poseKeypoints: Any = None
        self.faceKeypoints: Any = None


class _VectorDatum(list):
    """v1.7's op.VectorDatum: a vector of shared Datum pointers."""


def __getattr__(name: str) -> Any:
    # op.VectorDatum exists only from v1.7 on.
    if name == "VectorDatum" and _api() == "1.7":
        return _VectorDatum
    raise AttributeError(f"module 'openpose.pyopenpose' has no attribute {name!r}")


def _nobody() -> Any:
    return None if _api() == "1.7" else np.array(0.0, dtype=np.float32)


def _people(people: list, n_points: int, what: str) -> Any:
    if not people:
        return _nobody()
    array = np.asarray(people, dtype=np.float32)
    if array.shape[1:] != (n_points, 3):
        raise ValueError(f"stand-in sidecar: {what} people must be ({n_points}, 3), got {array.shape[1:]}")
    return array


class WrapperPython:
    """op.WrapperPython: configure(params), start(), emplaceAndPop(datums), stop()."""

    def __init__(self) -> None:
        self.params: dict[str, Any] | None = None
        self.started = False
        self._frame = 0
        self._frames: list[dict[str, list]] = []

    def configure(self, params: dict[str, Any]) -> None:
        if not isinstance(params, dict):
            raise TypeError("configure(): incompatible function arguments: expected a dict")
        self.params = dict(params)

    def start(self) -> None:
        if self.params is None:
            raise RuntimeError("configure() must be called before start()")
        folder = self.params.get("model_folder", "models/")
        if not os.path.isdir(folder):
            raise RuntimeError(f"Error: model folder not found: {folder}")
        sidecar = os.environ.get(KEYPOINTS_ENV)
        if sidecar:
            with open(sidecar, encoding="utf-8") as fh:
                self._frames = json.load(fh)["frames"]
        self.started = True

    def stop(self) -> None:
        self.started = False

    def emplaceAndPop(self, datums: Any) -> bool | None:
        api = _api()
        if api == "1.7" and not isinstance(datums, _VectorDatum):
            raise TypeError(
                "emplaceAndPop(): incompatible function arguments. The following argument types are "
                "supported:\n    1. (self: pyopenpose.WrapperPython, arg0: pyopenpose.VectorDatum) -> bool"
            )
        if not self.started:
            if api == "1.7":
                return False
            raise RuntimeError("wrapper not started")
        for datum in datums:
            self._fill(datum)
        return True if api == "1.7" else None

    def _fill(self, datum: Datum) -> None:
        image = datum.cvInputData
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise TypeError("cvInputData must be a (height, width, 3) uint8 BGR array")
        INPUTS.append((image.shape, str(image.dtype), tuple(float(m) for m in image.reshape(-1, 3).mean(axis=0))))
        frame = self._frames[self._frame] if self._frame < len(self._frames) else {}
        self._frame += 1
        datum.poseKeypoints = _people(frame.get("pose", []), 25, "pose")
        datum.faceKeypoints = _people(frame.get("face", []), 70, "face") if self.params.get("face") else _nobody()
