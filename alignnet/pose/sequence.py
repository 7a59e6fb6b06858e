"""The pose stage's output: keypoints of one video, every frame."""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field

import numpy as np

from alignnet.atomic import atomic_output
from alignnet.errors import DataError


@dataclass
class PoseSequence:
    """Keypoints of the most prominent person per frame, OpenPose conventions.

    keypoints: (frames, points, 3) float32, x and y in pixels of the input
        (origin top-left) and a confidence in [0, 1]; a point not found is
        (0, 0, 0), so test `confidence == 0`, not the coordinates.
    people: (frames,) int16, how many people the backend saw in each frame
        (the single-person filter reads it; a backend that sees only one
        person writes 0 or 1).
    layout: "BODY_25" (dance) or "FACE_70" (lips).
    """

    keypoints: np.ndarray
    people: np.ndarray
    fps: float
    width: int
    height: int
    backend: str
    layout: str = "BODY_25"
    meta: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.keypoints = np.asarray(self.keypoints, dtype=np.float32)
        self.people = np.asarray(self.people, dtype=np.int16)
        if self.keypoints.ndim != 3 or self.keypoints.shape[2] != 3:
            raise ValueError(f"keypoints must be (frames, points, 3), got {self.keypoints.shape}")
        if self.people.shape != (self.keypoints.shape[0],):
            raise ValueError(f"people must be ({self.keypoints.shape[0]},), got {self.people.shape}")

    @property
    def n_frames(self) -> int:
        return int(self.keypoints.shape[0])

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write an .npz atomically."""
        with atomic_output(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(
                fh,
                keypoints=self.keypoints,
                people=self.people,
                fps=np.float64(self.fps),
                width=np.int32(self.width),
                height=np.int32(self.height),
                backend=np.str_(self.backend),
                layout=np.str_(self.layout),
                meta_keys=np.array(list(self.meta.keys()), dtype=np.str_),
                meta_values=np.array(list(self.meta.values()), dtype=np.str_),
            )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PoseSequence:
        """Read a pose .npz; DataError naming `path` when it is not one (corrupt, cut, another format)."""
        try:
            with np.load(path, allow_pickle=False) as z:
                return cls._from_npz(z)
        except (zipfile.BadZipFile, EOFError, KeyError, ValueError) as exc:
            raise DataError(f"{path}: not a readable pose file ({type(exc).__name__}: {exc})") from exc

    @classmethod
    def _from_npz(cls, z: np.lib.npyio.NpzFile) -> PoseSequence:
        return cls(
            keypoints=z["keypoints"],
            people=z["people"],
            fps=float(z["fps"]),
            width=int(z["width"]),
            height=int(z["height"]),
            backend=str(z["backend"]),
            layout=str(z["layout"]),
            meta=dict(zip(z["meta_keys"].tolist(), z["meta_values"].tolist(), strict=True)),
        )
