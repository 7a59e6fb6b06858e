"""OpenPose through its Python wrapper (pyopenpose) as a frame backend.

Written against the documented API (examples/tutorial_api_python, v1.5 to
master): `from openpose import pyopenpose as op`, a params dict of OpenPose
flags, `op.WrapperPython().configure(params)`, `.start()`, then per frame a
`op.Datum` with `cvInputData` = the BGR frame. v1.7 and later take
`emplaceAndPop(op.VectorDatum([datum]))`; v1.5-1.6 take a plain list. The
first call finds out which and remembers. `datum.poseKeypoints` is
(people, 25, 3); with nobody in the frame it is None (v1.7) or a 0-d array
(v1.6 and older). v1.7.0 itself has a reference-count bug on those None
returns that crashes after thousands of empty frames (fixed on master, PR
#2105): prefer master for long videos.

pyopenpose exists only in an OpenPose built with -DBUILD_PYTHON=ON; its
folder (OpenPose's build/python, or /usr/local/python after `make
install`) is given by `python_path` or the OPENPOSE_PYTHON variable.
"""

from __future__ import annotations

import os
import re
import sys
from types import ModuleType
from typing import Any

import cv2
import numpy as np

from alignnet.errors import UserInputError
from alignnet.pose.people import most_prominent

BODY_25_POINTS = 25
FACE_70_POINTS = 70
PYTHON_PATH_ENV = "OPENPOSE_PYTHON"


def import_pyopenpose(python_path: str | os.PathLike[str] | None = None) -> ModuleType:
    """`openpose.pyopenpose`, after putting `python_path` (or $OPENPOSE_PYTHON) first on sys.path.

    Raises UserInputError saying how to build and point at it when the import fails.
    """
    path = python_path or os.environ.get(PYTHON_PATH_ENV)
    if path:
        path = os.fspath(path)
        if not os.path.isdir(path):
            raise UserInputError(f"OpenPose python path is not a directory: {path}")
        if path not in sys.path:
            sys.path.insert(0, path)
    try:
        from openpose import pyopenpose
    except ImportError as exc:
        where = f" from {path}" if path else f" (no --python-path given and ${PYTHON_PATH_ENV} is unset)"
        raise UserInputError(
            f"cannot import OpenPose's Python wrapper `openpose.pyopenpose`{where}: {exc}. "
            "Build OpenPose with `cmake -DBUILD_PYTHON=ON` and pass its build/python folder "
            f"(or /usr/local/python after `make install`) with --python-path or ${PYTHON_PATH_ENV}."
        ) from exc
    return pyopenpose


def net_resolution(text: str) -> str:
    """`text` if OpenPose accepts it as --net_resolution (WIDTHxHEIGHT, at most one <= 0, the others
    multiples of 16: its flagsToPoint and wrapper checks); UserInputError naming it otherwise."""
    match = re.fullmatch(r"(-?\d+)x(-?\d+)", text.strip())
    if match is None:
        raise UserInputError(f"net resolution {text!r}: expected WIDTHxHEIGHT, e.g. -1x368")
    sides = [int(side) for side in match.groups()]
    if all(side <= 0 for side in sides):
        raise UserInputError(f"net resolution {text!r}: only one side may be <= 0 (-1: from the aspect ratio)")
    if any(side > 0 and side % 16 for side in sides):
        raise UserInputError(f"net resolution {text!r}: sides must be multiples of 16")
    return text.strip()


def _people_array(keypoints: Any, n_points: int) -> np.ndarray:
    """pyopenpose's keypoints as (people, n_points, 3); nobody (None, 0-d array) -> (0, n_points, 3)."""
    if keypoints is None or np.ndim(keypoints) != 3:
        return np.zeros((0, n_points, 3), dtype=np.float32)
    return np.asarray(keypoints, dtype=np.float32)


class OpenPoseBackend:
    """BODY_25 (or, with face=True, FACE_70) keypoints of the most prominent person.

    model_folder: OpenPose's models/ folder. net_resolution: OpenPose's
    --net_resolution ("-1x368"). number_people_max: -1 for no limit (keep
    it so, the single-person filter counts people). face: also run the face
    detector and return the 70 face points of the person chosen by body
    size. extra_params: further OpenPose flags, over the defaults (one GPU,
    the first visible; render_pose 0: no drawing; see docs/openpose.md).
    """

    name = "openpose"
    counts_people = True

    def __init__(
        self,
        model_folder: str | os.PathLike[str],
        net_resolution: str = "-1x368",
        number_people_max: int = -1,
        face: bool = False,
        python_path: str | os.PathLike[str] | None = None,
        extra_params: dict[str, Any] | None = None,
    ) -> None:
        if not os.path.isdir(model_folder):
            raise UserInputError(f"OpenPose model folder not found: {model_folder}")
        self._op = import_pyopenpose(python_path)
        self.face = face
        self.layout = "FACE_70" if face else "BODY_25"
        params: dict[str, Any] = {
            "model_folder": os.fspath(model_folder),
            "model_pose": "BODY_25",
            "net_resolution": net_resolution,
            "number_people_max": number_people_max,
            # One GPU: the one CUDA_VISIBLE_DEVICES leaves (`alignnet pose` narrows it to a claimed GPU);
            # OpenPose's default (-1) takes every visible GPU.
            "num_gpu": 1,
            "num_gpu_start": 0,
            # Nothing reads cvOutputData: no skeleton drawing (OpenPose renders on the GPU by default).
            "render_pose": 0,
        }
        if face:
            params["face"] = True
        params.update(extra_params or {})
        self._wrapper = self._op.WrapperPython()
        self._wrapper.configure(params)
        self._wrapper.start()
        # None until the first frame tells which emplaceAndPop signature this build has.
        self._vector_datum: bool | None = None

    def _emplace_and_pop(self, datum: Any) -> None:
        if self._vector_datum is None:
            if hasattr(self._op, "VectorDatum"):
                try:
                    self._run_vector(datum)
                    self._vector_datum = True
                    return
                except TypeError as exc:
                    if "incompatible function arguments" not in str(exc):
                        raise
            self._vector_datum = False
        if self._vector_datum:
            self._run_vector(datum)
        else:
            self._wrapper.emplaceAndPop([datum])

    def _run_vector(self, datum: Any) -> None:
        if self._wrapper.emplaceAndPop(self._op.VectorDatum([datum])) is False:
            raise RuntimeError("OpenPose emplaceAndPop failed (wrapper stopped?)")

    def process(self, frame_rgb: np.ndarray) -> tuple[np.ndarray, int]:
        """Keypoints (25 or 70, 3) in pixels of `frame_rgb` and the number of people OpenPose found."""
        datum = self._op.Datum()
        # OpenPose's numpy -> op::Matrix conversion keeps a raw pointer to this buffer (no copy):
        # `frame_bgr` must stay alive until the keypoints are read below.
        frame_bgr = cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR)
        datum.cvInputData = frame_bgr
        self._emplace_and_pop(datum)
        body = _people_array(datum.poseKeypoints, BODY_25_POINTS)
        faces = _people_array(datum.faceKeypoints, FACE_70_POINTS)  # none without face=True
        del frame_bgr  # only now may the frame go
        n_people = body.shape[0]
        if not self.face:
            if n_people == 0:
                return np.zeros((BODY_25_POINTS, 3), dtype=np.float32), 0
            return body[most_prominent(body)], n_people
        if faces.shape[0] == 0:
            return np.zeros((FACE_70_POINTS, 3), dtype=np.float32), n_people
        chosen = most_prominent(body) if faces.shape[0] == n_people else most_prominent(faces)
        return faces[chosen], max(n_people, faces.shape[0])

    def close(self) -> None:
        stop = getattr(self._wrapper, "stop", None)
        if stop is not None:
            stop()

    def __enter__(self) -> OpenPoseBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
