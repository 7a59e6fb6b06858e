"""A talking head drawn with OpenCV: shoulders, neck, ears, head, hair, eyes, brows, nose and mouth.

The face is built in head coordinates (unit: half the face width, origin
the face centre, y down) and mapped to the image by a per-frame similarity
transform (head motion: slow sway, nods, tilt, small zoom). The mouth is
drawn through the 20 mouth points of the 68-point (iBUG) layout computed
from a viseme (opening, width, roundness), so the sidecar's keypoints are
the drawing's own geometry. Images are BGR uint8 (height, width, 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.interpolate import CubicSpline

from alignnet.demo.synth import render

_SHIFT = 4
_ONE = 1 << _SHIFT
_AA = cv2.LINE_AA


@dataclass(frozen=True)
class FaceLook:
    """One person's looks (colours BGR) and face proportions (head units)."""

    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    shirt: tuple[int, int, int]
    lips: tuple[int, int, int]
    iris: tuple[int, int, int]
    long_hair: bool
    face_aspect: float  # face half-height / half-width
    eye_gap: float  # half distance between the eye centres
    mouth_width: float  # half-width of the neutral mouth


def random_look(rng: np.random.Generator) -> FaceLook:
    """Skin, hair and shirt as the dancers get them, plus lip and iris colours and proportions."""
    base = render.random_look(rng)
    lips = tuple(
        int(c) for c in np.clip(np.array(base.skin) * np.array([0.62, 0.55, 0.95]) + rng.normal(0, 6, 3), 0, 255)
    )
    iris = ((60, 40, 30), (40, 70, 40), (120, 80, 40), (30, 30, 30))[int(rng.integers(4))]
    return FaceLook(
        skin=base.skin,
        hair=base.hair,
        shirt=base.shirt,
        lips=lips,  # type: ignore[arg-type]
        iris=iris,
        long_hair=base.long_hair,
        face_aspect=float(rng.uniform(1.22, 1.38)),
        eye_gap=float(rng.uniform(0.36, 0.44)),
        mouth_width=float(rng.uniform(0.32, 0.4)),
    )


@dataclass(frozen=True)
class HeadPath:
    """Per-frame head placement: centre (frames, 2) pixels, scale (frames,) pixels per head unit,
    roll (frames,) radians (positive: clockwise in the image)."""

    centre: np.ndarray
    scale: np.ndarray
    roll: np.ndarray

    def matrix(self, i: int) -> np.ndarray:
        """2x3 affine from head coordinates to image pixels at frame i."""
        c, s = np.cos(self.roll[i]), np.sin(self.roll[i])
        k = self.scale[i]
        return np.array([[k * c, -k * s, self.centre[i, 0]], [k * s, k * c, self.centre[i, 1]]])


def _slow_noise(rng: np.random.Generator, t: np.ndarray, periods: tuple[float, float], count: int = 3) -> np.ndarray:
    """A sum of `count` random sinusoids with periods in `periods` seconds, peak-normalised to [-1, 1]."""
    out = np.zeros_like(t)
    for _ in range(count):
        out += rng.uniform(0.5, 1.0) * np.sin(2 * np.pi * t / rng.uniform(*periods) + rng.uniform(0, 2 * np.pi))
    peak = np.max(np.abs(out)) if out.size else 0.0
    return out / peak if peak > 1e-9 else out


def head_path(
    rng: np.random.Generator,
    times: np.ndarray,
    width: int,
    height: int,
    motion: float = 1.0,
    x_range: tuple[float, float] = (0.42, 0.58),
    size: float = 1.0,
) -> HeadPath:
    """A random placement and motion of the head at `times` (seconds) in a width x height frame.

    The face spans about 50-65 % of the frame height times `size`, centred
    at a random x in `x_range` (fractions of the width); it sways up to ~4 %
    of the frame, nods, tilts up to ~6 degrees and zooms by up to ~4 %, all
    scaled by `motion` (0: still).
    """
    unit = rng.uniform(0.19, 0.25) * height / 1.3 * size
    base = np.array([width * rng.uniform(*x_range), height * rng.uniform(0.43, 0.5)])
    sway = np.stack([_slow_noise(rng, times, (2.0, 7.0)), _slow_noise(rng, times, (1.5, 5.0))], axis=1)
    centre = base + motion * sway * np.array([0.04 * width, 0.025 * height])
    scale = unit * (1 + motion * 0.04 * _slow_noise(rng, times, (3.0, 9.0)))
    roll = motion * np.radians(rng.uniform(2.0, 6.0)) * _slow_noise(rng, times, (2.0, 6.0))
    return HeadPath(centre, scale, roll)


def blinks(rng: np.random.Generator, times: np.ndarray, duration: float) -> np.ndarray:
    """Eye openness at `times`: 1 open, dipping to 0 for 0.15 s blinks every 2-6 s."""
    openness = np.ones_like(times)
    t = rng.uniform(0.3, 2.5)
    while t < duration:
        openness = np.minimum(openness, np.clip(np.abs(times - t) / 0.075, 0.0, 1.0))
        t += rng.uniform(2.0, 6.0)
    return openness


def mouth_points(shape: np.ndarray, look: FaceLook) -> np.ndarray:
    """The 20 mouth points (iBUG 48-67, (20, 2)) in head coordinates for one (opening, width, roundness).

    Order: outer lip from the subject's right corner (image left) over the
    upper lip to the left corner and back along the lower lip (48-59), then
    the inner lip the same way (60-67). The mouth centre is at (0, 0.72).
    """
    opening, wide, rnd = (float(v) for v in shape)
    hw = look.mouth_width * (0.8 + 0.3 * wide - 0.38 * rnd)
    ihw = hw * (0.86 - 0.12 * rnd * opening)
    gap = 0.3 * opening * (1 + 0.2 * rnd)
    tu, tl = 0.065 + 0.03 * rnd, 0.085 + 0.03 * rnd
    g2 = gap / 2
    outer = [
        (-hw, 0.0),
        (-0.62 * hw, -0.75 * g2 - 0.85 * tu),
        (-0.24 * hw, -g2 - 1.08 * tu),
        (0.0, -g2 - 0.92 * tu),
        (0.24 * hw, -g2 - 1.08 * tu),
        (0.62 * hw, -0.75 * g2 - 0.85 * tu),
        (hw, 0.0),
        (0.6 * hw, 0.78 * g2 + 0.8 * tl),
        (0.26 * hw, 0.97 * g2 + tl),
        (0.0, g2 + tl),
        (-0.26 * hw, 0.97 * g2 + tl),
        (-0.6 * hw, 0.78 * g2 + 0.8 * tl),
    ]
    inner = [
        (-ihw, 0.0),
        (-0.5 * ihw, -0.85 * g2),
        (0.0, -g2),
        (0.5 * ihw, -0.85 * g2),
        (ihw, 0.0),
        (0.5 * ihw, 0.85 * g2),
        (0.0, g2),
        (-0.5 * ihw, 0.85 * g2),
    ]
    return np.array(outer + inner) + np.array([0.0, 0.72])


def _smooth_loop(points: np.ndarray, per_segment: int = 8) -> np.ndarray:
    """A closed curve through `points` (n, 2): a periodic cubic spline sampled `per_segment` times per edge."""
    closed = np.vstack([points, points[:1]])
    u = np.arange(len(closed), dtype=np.float64)
    spline = CubicSpline(u, closed, bc_type="periodic")
    return spline(np.linspace(0, len(points), len(points) * per_segment, endpoint=False))


def ellipse_points(
    centre: tuple[float, float], axes: tuple[float, float], start: float = 0.0, end: float = 360.0, n: int = 48
) -> np.ndarray:
    """Points (n, 2) on an axis-aligned ellipse arc in head coordinates (angles in degrees)."""
    a = np.radians(np.linspace(start, end, n))
    return np.stack([centre[0] + axes[0] * np.cos(a), centre[1] + axes[1] * np.sin(a)], axis=1)


class FaceCanvas:
    """Draws polygons given in head coordinates through one frame's head transform."""

    def __init__(self, img: np.ndarray, matrix: np.ndarray) -> None:
        self.img = img
        self.matrix = matrix
        self.scale = float(np.hypot(*matrix[:, 0]))

    def to_image(self, pts: np.ndarray) -> np.ndarray:
        return pts @ self.matrix[:, :2].T + self.matrix[:, 2]

    def fill(self, pts: np.ndarray, colour) -> None:
        poly = np.round(self.to_image(pts) * _ONE).astype(np.int32)
        cv2.fillPoly(self.img, [poly], colour, _AA, _SHIFT)

    def line(self, pts: np.ndarray, colour, thickness: float, closed: bool = False) -> None:
        poly = np.round(self.to_image(pts) * _ONE).astype(np.int32)
        cv2.polylines(self.img, [poly], closed, colour, max(1, round(thickness * self.scale)), _AA, _SHIFT)


def draw_head(
    img: np.ndarray, matrix: np.ndarray, look: FaceLook, mouth: np.ndarray, eye_open: float, brow_raise: float = 0.0
) -> np.ndarray:
    """Draw the head in place: `matrix` (2x3, head coordinates -> pixels), `mouth` the 20 mouth points
    in head coordinates (`mouth_points`), `eye_open` in [0, 1]. Returns the mouth points in pixels (20, 2)."""
    cv = FaceCanvas(img, matrix)
    shade = render._shade
    fa = look.face_aspect
    cv.fill(ellipse_points((0.0, 2.55), (2.6, 1.0)), shade(look.shirt, 0.9))
    cv.fill(np.array([[-0.42, 0.6], [0.42, 0.6], [0.5, 1.75], [-0.5, 1.75]]), shade(look.skin, 0.8))
    cv.fill(ellipse_points((0.0, 1.72), (0.55, 0.2), 0, 180), look.shirt)
    if look.long_hair:
        cv.fill(ellipse_points((0.0, 0.15), (1.22, fa + 0.25)), shade(look.hair, 0.85))
    for side in (-1, 1):
        cv.fill(ellipse_points((side * 0.98, -0.02), (0.16, 0.27)), shade(look.skin, 0.9))
    cv.fill(ellipse_points((0.0, 0.0), (1.0, fa)), look.skin)
    cv.fill(ellipse_points((-0.18, -0.25), (0.55, 0.7)), shade(look.skin, 1.06))
    cv.fill(ellipse_points((0.0, -fa + 0.62), (1.04, 0.74), 180, 360), look.hair)
    cv.fill(ellipse_points((0.0, -fa + 0.66), (1.01, 0.12), 0, 180), look.hair)
    gap = look.eye_gap
    for side in (-1, 1):
        ex, ey = side * gap, -0.12
        brow = ellipse_points((ex, ey - 0.12 - brow_raise), (0.24, 0.12), 200, 340, 16)
        cv.line(brow, shade(look.hair, 0.7), 0.06)
        cv.fill(ellipse_points((ex, ey + 0.02), (0.24, 0.14)), shade(look.skin, 0.88))
        h = 0.1 * eye_open
        if h > 0.012:
            cv.fill(ellipse_points((ex, ey), (0.19, h)), (238, 238, 238))
            iris = ellipse_points((ex, ey), (0.08, min(0.08, h)))
            cv.fill(iris, look.iris)
            cv.fill(ellipse_points((ex, ey), (0.035, min(0.035, h))), (15, 15, 15))
        cv.line(ellipse_points((ex, ey), (0.2, max(h, 0.01)), 180, 360, 16), (40, 35, 35), 0.025)
    cv.line(np.array([[0.06, -0.05], [0.1, 0.3]]), shade(look.skin, 0.85), 0.03)
    cv.fill(ellipse_points((0.0, 0.33), (0.15, 0.09)), shade(look.skin, 0.9))
    for side in (-1, 1):
        cv.fill(ellipse_points((side * 0.08, 0.38), (0.045, 0.025)), shade(look.skin, 0.45))
    outer = _smooth_loop(mouth[:12])
    cv.fill(outer, look.lips)
    gap = mouth[66 - 48, 1] - mouth[62 - 48, 1]
    if gap > 0.01:
        inner = _smooth_loop(mouth[12:])
        cv.fill(inner, (40, 30, 60))
        teeth_h = min(0.05, 0.45 * gap)
        top = mouth[62 - 48, 1]
        teeth = inner[inner[:, 1] <= top + teeth_h]
        teeth = (
            np.vstack([teeth, [[teeth[-1, 0], top + teeth_h], [teeth[0, 0], top + teeth_h]]])
            if len(teeth) > 2
            else teeth
        )
        if len(teeth) > 3:
            cv.fill(teeth, (225, 228, 230))
        cv.line(inner, shade(look.lips, 0.6), 0.015, closed=True)
    else:
        seam = mouth[[12, 13, 14, 15, 16]]
        cv.line(seam, shade(look.lips, 0.45), 0.025)
    return cv.to_image(mouth)
