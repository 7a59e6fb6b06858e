"""Stand-in for OpenPose's `pyopenpose` (tests only; see ../README.md). Not OpenPose.

Mimics the documented Python API of OpenPose v1.7 (default) or v1.6
(STAND_IN_OPENPOSE_API=1.6) and returns keypoints read from the JSON
sidecar named by STAND_IN_OPENPOSE_KEYPOINTS, one frame per emplaceAndPop.

As strict as OpenPose where it breaks callers: `cvInputData` keeps only a
weak reference to the array (OpenPose wraps the numpy buffer without a
copy), `net_resolution` is parsed as OpenPose's flagsToPoint and wrapper
checks do, and `start()` needs the BODY_25 caffemodel in the model folder.
"""

from __future__ import annotations

import json
import os
import re
import weakref
from typing import Any

import numpy as np

API_ENV = "STAND_IN_OPENPOSE_API"
KEYPOINTS_ENV = "STAND_IN_OPENPOSE_KEYPOINTS"

# (shape, dtype, per-channel mean) of every cvInputData seen.
INPUTS: list[tuple[tuple[int, ...], str, tuple[float, ...]]] = []
# The params of every wrapper configured, each value as OpenPose gets it (the string of --key=value).
CONFIGURED: list[dict[str, str]] = []
BODY_25_MODEL = os.path.join("pose", "body_25", "pose_iter_584000.caffemodel")


def _api() -> str:
    api = os.environ.get(API_ENV, "1.7")
    if api not in ("1.6", "1.7"):
        raise RuntimeError(f"{API_ENV} must be 1.6 or 1.7, got {api!r}")
    return api


class Datum:
    """One frame in and its keypoints out (OpenPose's op::Datum, the fields used here).

    cvInputData holds only a weak reference: OpenPose's numpy -> op::Matrix conversion keeps a raw
    pointer to the array's buffer, so an array the caller does not keep alive is gone when read.
    """

    def __init__(self) -> None:
        self._input: weakref.ref[np.ndarray] | None = None
        self.poseKeypoints: Any = None
        self.faceKeypoints: Any = None

    @property
    def cvInputData(self) -> Any:
        return None if self._input is None else self._input()

    @cvInputData.setter
    def cvInputData(self, image: np.ndarray) -> None:
        if not isinstance(image, np.ndarray):
            raise TypeError("cvInputData: incompatible type, expected a numpy array")
        self._input = weakref.ref(image)

    def input_gone(self) -> bool:
        return self._input is not None and self._input() is None


class _VectorDatum(list):
    """v1.7's op.VectorDatum: a vector of shared Datum pointers (only Datum objects go in)."""

    def __init__(self, datums: Any = ()) -> None:
        datums = list(datums)
        if not all(isinstance(d, Datum) for d in datums):
            raise TypeError("VectorDatum(): incompatible constructor arguments: expected a list of pyopenpose.Datum")
        super().__init__(datums)


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
        # pyopenpose turns each item into the flag "--key=str(value)" and gflags parses it
        self.params = {str(k): str(v) for k, v in params.items()}
        CONFIGURED.append(dict(self.params))

    def start(self) -> None:
        if self.params is None:
            raise RuntimeError("configure() must be called before start()")
        _net_resolution(self.params.get("net_resolution", "-1x368"))
        folder = self.params.get("model_folder", "models/")
        model = os.path.join(folder, BODY_25_MODEL)
        if not os.path.isfile(model):
            raise RuntimeError(f"Error: Prototxt file not found: {model} (model_folder {folder!r})")
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
            if datum.input_gone():
                raise RuntimeError(
                    "cvInputData was freed before emplaceAndPop read it (OpenPose holds no copy: keep the array)"
                )
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
        datum.faceKeypoints = (
            _people(frame.get("face", []), 70, "face") if _flag(self.params.get("face")) else _nobody()
        )


def _flag(value: str | None) -> bool:
    """A gflags boolean as OpenPose reads it ("True", "1", "true", ...)."""
    return value is not None and value.lower() in ("1", "t", "true", "y", "yes")


def _net_resolution(text: str) -> tuple[int, int]:
    """OpenPose's flagsToPoint ("%dx%d", both read) and its wrapper's checks of --net_resolution."""
    match = re.match(r"\s*([+-]?\d+)x([+-]?\d+)", text)
    if match is None:
        raise RuntimeError(f"Error: Invalid resolution format: `{text}`, it should be e.g., `-1x368`.")
    x, y = int(match.group(1)), int(match.group(2))
    if x <= 0 and y <= 0:
        raise RuntimeError("Error: Only 1 of the dimensions of net input resolution can be <= 0.")
    if (x > 0 and x % 16) or (y > 0 and y % 16):
        raise RuntimeError("Error: Net input resolution must be multiples of 16.")
    return x, y
