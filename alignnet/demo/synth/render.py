"""Drawing with cv2: room backgrounds, a clothed dancer, light noise and camera moves.

Images are BGR uint8 (height, width, 3). Shapes are anti-aliased
(LINE_AA) with 4 fractional bits of sub-pixel precision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from alignnet.demo.synth.figure import Skeleton
from alignnet.keypoints import BODY_25_INDEX as K

_SHIFT = 4
_ONE = 1 << _SHIFT
_AA = cv2.LINE_AA

_SKIN = ((224, 198, 176), (198, 160, 132), (160, 118, 88), (120, 84, 60), (236, 210, 190), (186, 140, 110))
_HAIR = ((20, 20, 25), (40, 30, 25), (70, 50, 35), (120, 90, 50), (160, 140, 110), (30, 30, 60))


def _rgb_to_bgr(c: tuple[int, ...]) -> tuple[int, int, int]:
    return int(c[2]), int(c[1]), int(c[0])


def _hsv_colour(rng: np.random.Generator, s: tuple[float, float], v: tuple[float, float]) -> tuple[int, int, int]:
    hsv = np.uint8([[[rng.integers(0, 180), int(rng.uniform(*s) * 255), int(rng.uniform(*v) * 255)]]])
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


@lru_cache(maxsize=512)
def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    """`colour` darkened (factor < 1) or lightened towards white (factor > 1)."""
    if factor <= 1.0:
        return tuple(int(c * factor) for c in colour)
    return tuple(int(min(255.0, c + (255 - c) * (factor - 1.0) * 1.5)) for c in colour)


@dataclass(frozen=True)
class Look:
    """A dancer's colours (BGR) and clothing cut."""

    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    long_hair: bool
    shirt: tuple[int, int, int]
    long_sleeves: bool
    pants: tuple[int, int, int]
    shorts: bool
    shoes: tuple[int, int, int]
    build: float  # limb thickness multiplier


def random_look(rng: np.random.Generator) -> Look:
    """Skin, hair and clothes drawn at random; clothes contrast with the skin."""
    return Look(
        skin=_rgb_to_bgr(_SKIN[int(rng.integers(len(_SKIN)))]),
        hair=_rgb_to_bgr(_HAIR[int(rng.integers(len(_HAIR)))]),
        long_hair=bool(rng.random() < 0.4),
        shirt=_hsv_colour(rng, (0.3, 0.9), (0.3, 0.95)),
        long_sleeves=bool(rng.random() < 0.4),
        pants=_hsv_colour(rng, (0.1, 0.7), (0.12, 0.6)),
        shorts=bool(rng.random() < 0.25),
        shoes=_hsv_colour(rng, (0.0, 0.6), (0.1, 0.95)),
        build=float(rng.uniform(0.85, 1.2)),
    )


def _pt(p) -> tuple[int, int]:
    return int(p[0] * _ONE + 0.5), int(p[1] * _ONE + 0.5)


def _capsule(img: np.ndarray, p0, p1, r0: float, r1: float, colour) -> None:
    """A tapered limb: a quad between circles of radii r0 at p0 and r1 at p1 (pixels)."""
    x0, y0, x1, y1 = float(p0[0]), float(p0[1]), float(p1[0]), float(p1[1])
    dx, dy = x1 - x0, y1 - y0
    length = math.hypot(dx, dy)
    nx, ny = (-dy / length, dx / length) if length > 1e-6 else (1.0, 0.0)
    quad = np.array(
        [
            [x0 + nx * r0, y0 + ny * r0],
            [x1 + nx * r1, y1 + ny * r1],
            [x1 - nx * r1, y1 - ny * r1],
            [x0 - nx * r0, y0 - ny * r0],
        ]
    )
    cv2.fillConvexPoly(img, (quad * _ONE + 0.5).astype(np.int32), colour, _AA, _SHIFT)
    cv2.circle(img, (int(x0 * _ONE + 0.5), int(y0 * _ONE + 0.5)), int(r0 * _ONE + 0.5), colour, -1, _AA, _SHIFT)
    cv2.circle(img, (int(x1 * _ONE + 0.5), int(y1 * _ONE + 0.5)), int(r1 * _ONE + 0.5), colour, -1, _AA, _SHIFT)


def _shaded_capsule(img: np.ndarray, p0, p1, r0: float, r1: float, colour) -> None:
    """A capsule with a darker rim on the shadow side and a lighter core towards the upper-left light."""
    _capsule(img, p0, p1, r0, r1, _shade(colour, 0.72))
    o0, o1 = (-0.22 * r0, -0.12 * r0), (-0.22 * r1, -0.12 * r1)
    _capsule(img, (p0[0] + o0[0], p0[1] + o0[1]), (p1[0] + o1[0], p1[1] + o1[1]), r0 * 0.74, r1 * 0.74, colour)


def _ellipse(img: np.ndarray, c: np.ndarray, axes, angle_deg: float, colour, start=0, end=360) -> None:
    cv2.ellipse(
        img,
        _pt(c),
        (int(round(axes[0] * _ONE)), int(round(axes[1] * _ONE))),
        angle_deg,
        start,
        end,
        colour,
        -1,
        _AA,
        _SHIFT,
    )


def draw_dancer(img: np.ndarray, skel: Skeleton, i: int, look: Look, offset=(0.0, 0.0)) -> None:
    """Draw frame `i` of `skel` onto `img` in place; `offset` shifts everything (pixels)."""
    kp = skel.keypoints[i, :, :2] + np.asarray(offset)
    h = skel.body.height
    t = look.build
    p = {name: kp[idx] for name, idx in K.items()}
    cy = float(np.cos(skel.yaw[i]))
    sy = float(np.sin(skel.yaw[i]))

    # Floor shadow between the feet.
    feet = (p["RAnkle"] + p["LAnkle"]) / 2
    floor = max(p["RAnkle"][1], p["LAnkle"][1]) + 0.03 * h
    shadow_c = np.array([feet[0], floor])
    sub = img[
        max(0, int(floor - 0.03 * h)) : max(0, int(floor + 0.03 * h)),
        max(0, int(feet[0] - 0.2 * h)) : max(0, int(feet[0] + 0.2 * h)),
    ]
    if sub.size:
        base = tuple(int(v) for v in np.median(sub.reshape(-1, 3), axis=0) * 0.65)
        _ellipse(img, shadow_c, (0.17 * h, 0.025 * h), 0, base)

    head_c = skel.head_center[i] + np.asarray(offset)
    ax = skel.head_axes[i]
    tilt_deg = float(np.degrees(skel.head_angle[i]))
    if look.long_hair:
        _ellipse(img, head_c + np.array([0, 0.07 * h]), (ax[0] * 1.2, ax[1] * 1.9), tilt_deg, _shade(look.hair, 0.85))

    # Legs: thigh, shin, shoe.
    for side in ("R", "L"):
        hip, knee, ankle = p[f"{side}Hip"], p[f"{side}Knee"], p[f"{side}Ankle"]
        toe = skel.toe_tips[i, 0 if side == "R" else 1] + np.asarray(offset)
        _ellipse(
            img,
            (ankle + toe) / 2 + np.array([0, 0.012 * h]),
            (0.05 * h, 0.024 * h),
            float(np.degrees(np.arctan2(toe[1] - ankle[1], toe[0] - ankle[0]))),
            look.shoes,
        )
        if look.shorts:
            mid = hip + (knee - hip) * 0.55
            _shaded_capsule(img, mid, knee, 0.036 * h * t, 0.029 * h * t, look.skin)
            _shaded_capsule(img, knee, ankle, 0.029 * h * t, 0.021 * h * t, look.skin)
            _shaded_capsule(img, hip, mid, 0.05 * h * t, 0.042 * h * t, look.pants)
        else:
            _shaded_capsule(img, knee, ankle, 0.033 * h * t, 0.026 * h * t, look.pants)
            _shaded_capsule(img, hip, knee, 0.047 * h * t, 0.035 * h * t, look.pants)

    # Torso: shirt from the shoulders to the hips, pants at the hips.
    up = p["Neck"] - p["MidHip"]
    up_n = up / (np.hypot(*up) or 1.0)
    across = np.array([-up_n[1], up_n[0]]) * -1.0  # image right
    sh_w = np.hypot(*(p["LShoulder"] - p["RShoulder"])) / 2 + 0.035 * h * t
    hip_w = max(np.hypot(*(p["LHip"] - p["RHip"])) / 2 + 0.05 * h * t, 0.6 * sh_w)
    waist = p["MidHip"] + up * 0.35
    waist_w = 0.5 * (sh_w + hip_w) * 0.9
    shirt = np.array(
        [
            p["RShoulder"] - across * 0.035 * h * t + up_n * 0.03 * h,
            p["Neck"] + up_n * 0.025 * h,
            p["LShoulder"] + across * 0.035 * h * t + up_n * 0.03 * h,
            waist + across * waist_w,
            p["MidHip"] + across * hip_w - up_n * 0.02 * h,
            p["MidHip"] - across * hip_w - up_n * 0.02 * h,
            waist - across * waist_w,
        ]
    )
    pants = np.array(
        [
            p["MidHip"] - across * hip_w + up_n * 0.06 * h,
            p["MidHip"] + across * hip_w + up_n * 0.06 * h,
            p["LHip"] + across * 0.045 * h * t - up_n * 0.05 * h,
            p["RHip"] - across * 0.045 * h * t - up_n * 0.05 * h,
        ]
    )
    cv2.fillPoly(img, [np.round(pants * _ONE).astype(np.int32)], look.pants, _AA, _SHIFT)
    cv2.fillPoly(img, [np.round(shirt * _ONE).astype(np.int32)], _shade(look.shirt, 0.8), _AA, _SHIFT)
    inner = shirt + (p["MidHip"] + up * 0.5 - shirt) * 0.12 + np.array([-0.01 * h, -0.005 * h])
    cv2.fillPoly(img, [np.round(inner * _ONE).astype(np.int32)], look.shirt, _AA, _SHIFT)
    _capsule(
        img,
        p["Neck"] + up_n * 0.01 * h + across * sh_w * 0.1 * (1 + sy),
        p["MidHip"] + up * 0.55,
        0.012 * h,
        0.01 * h,
        _shade(look.shirt, 1.15),
    )

    # Neck and head.
    chin = head_c - (head_c - p["Neck"]) * 0.55
    _capsule(img, p["Neck"] + up_n * 0.01 * h, chin, 0.026 * h, 0.024 * h, _shade(look.skin, 0.82))
    _ellipse(img, head_c, (ax[0] * 1.06, ax[1] * 1.04), tilt_deg, look.hair, 180, 360)
    _ellipse(img, head_c, ax, tilt_deg, look.skin)
    _ellipse(img, head_c - up_n * 0.0 + np.array([-0.15, -0.2]) * ax, ax * 0.55, tilt_deg, _shade(look.skin, 1.08))
    hair_c = head_c + np.array([0.0, -0.35]) * ax[1] * np.array([0, 1]) + np.array([sy * ax[0] * 0.2, 0])
    _ellipse(img, hair_c, (ax[0] * 1.02, ax[1] * 0.62), tilt_deg, look.hair, 180, 360)
    eye_r = 0.011 * h
    for side in ("R", "L"):
        e = p[f"{side}Eye"]
        _ellipse(img, e, (eye_r * 1.5 * max(cy, 0.4), eye_r), tilt_deg, (235, 235, 235))
        cv2.circle(
            img, _pt(e + np.array([sy * eye_r * 0.4, 0])), int(eye_r * 0.8 * _ONE), (35, 25, 20), -1, _AA, _SHIFT
        )
        brow = e + np.array([0.0, -2.0 * eye_r])
        cv2.line(
            img,
            _pt(brow - np.array([eye_r * 1.4 * cy, 0])),
            _pt(brow + np.array([eye_r * 1.4 * cy, 0])),
            _shade(look.hair, 0.8),
            max(1, int(0.006 * h)),
            _AA,
            _SHIFT,
        )
    nose = p["Nose"]
    _ellipse(img, nose + np.array([0, 0.003 * h]), (0.008 * h, 0.006 * h), tilt_deg, _shade(look.skin, 0.8))
    mouth = nose + (head_c - p["Neck"]) / (np.hypot(*(head_c - p["Neck"])) or 1) * -0.028 * h
    _ellipse(img, mouth, (0.016 * h * max(cy, 0.5), 0.005 * h), tilt_deg, (70, 60, 150))

    # Arms over the torso.
    for side in ("R", "L"):
        sh, el, wr = p[f"{side}Shoulder"], p[f"{side}Elbow"], p[f"{side}Wrist"]
        tip = skel.hand_tips[i, 0 if side == "R" else 1] + np.asarray(offset)
        sleeve = look.shirt
        fore = look.shirt if look.long_sleeves else look.skin
        _shaded_capsule(img, el, wr, 0.024 * h * t, 0.018 * h * t, fore)
        _shaded_capsule(img, sh, el, 0.031 * h * t, 0.026 * h * t, sleeve)
        if not look.long_sleeves:
            _capsule(img, el - (el - sh) * 0.02, el - (el - sh) * 0.3, 0.024 * h * t, 0.026 * h * t, look.skin)
        hand_c = wr + (tip - wr) * 0.5
        _capsule(img, wr, tip, 0.021 * h, 0.017 * h, _shade(look.skin, 0.95))
        hand_deg = float(np.degrees(np.arctan2(tip[1] - wr[1], tip[0] - wr[0]))) + 90
        _ellipse(img, hand_c, (0.024 * h, 0.03 * h), hand_deg, look.skin)


def make_background(rng: np.random.Generator, width: int, height: int, floor_y: float, textured: bool) -> np.ndarray:
    """A room: gradient wall, floor below `floor_y`, baseboard, windows, doors and pictures.

    `textured` adds bricks on the wall and boards on the floor (so camera motion is visible).
    """
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    top = np.array(_hsv_colour(rng, (0.05, 0.4), (0.45, 0.95)), np.float32)
    bottom = top * rng.uniform(0.6, 0.9)
    img = (top * (1 - y) + bottom * y) * np.ones((1, width, 1), np.float32)
    fy = int(floor_y)
    floor_a = np.array(_hsv_colour(rng, (0.1, 0.5), (0.25, 0.7)), np.float32)
    fh = max(1, height - fy)
    fy_grad = np.linspace(0, 1, fh, dtype=np.float32)[:, None, None]
    img[fy:] = floor_a * (0.75 + 0.35 * fy_grad)
    img = img.astype(np.uint8)
    if textured:
        brick = (int(rng.integers(18, 34)), int(rng.integers(40, 70)))
        line = tuple(int(c * 0.7) for c in top)
        for row, yy in enumerate(range(0, fy, brick[0])):
            cv2.line(img, (0, yy), (width, yy), line, 1, _AA)
            for xx in range((row % 2) * brick[1] // 2, width, brick[1]):
                cv2.line(img, (xx, yy), (xx, min(yy + brick[0], fy)), line, 1, _AA)
        for k in range(-height, width, 40):
            cv2.line(img, (k, height), (k + (height - fy) * 2, fy), tuple(int(c * 0.8) for c in floor_a), 1, _AA)
    for _ in range(int(rng.integers(1, 4))):
        w = int(rng.uniform(0.08, 0.2) * width)
        hh = int(rng.uniform(0.15, 0.35) * height)
        x0 = int(rng.uniform(0, width - w))
        y0 = int(rng.uniform(0.05, 0.4) * height)
        if y0 + hh >= fy - 4:
            continue
        colour = _hsv_colour(rng, (0.0, 0.6), (0.4, 1.0))
        cv2.rectangle(img, (x0, y0), (x0 + w, y0 + hh), tuple(int(c * 0.6) for c in colour), -1, _AA)
        cv2.rectangle(img, (x0 + 3, y0 + 3), (x0 + w - 3, y0 + hh - 3), colour, -1, _AA)
        if rng.random() < 0.5:
            cv2.line(img, (x0 + w // 2, y0), (x0 + w // 2, y0 + hh), tuple(int(c * 0.6) for c in colour), 2, _AA)
    if rng.random() < 0.5:
        dw = int(0.12 * width)
        dx = int(rng.uniform(0, width - dw))
        cv2.rectangle(img, (dx, int(fy - 0.45 * height)), (dx + dw, fy), _hsv_colour(rng, (0.1, 0.5), (0.2, 0.6)), -1)
    cv2.rectangle(img, (0, fy - 4), (width, fy + 2), tuple(int(c * 0.55) for c in top), -1)
    return img


class NoiseBank:
    """A few frames of light Gaussian sensor noise, cycled; added with saturation."""

    def __init__(self, rng: np.random.Generator, width: int, height: int, sigma: float, count: int = 4) -> None:
        noise = rng.normal(0.0, sigma, size=(count, height, width, 1)).astype(np.float32)
        noise = np.repeat(noise, 3, axis=3)
        self.plus = np.clip(noise, 0, 255).astype(np.uint8)
        self.minus = np.clip(-noise, 0, 255).astype(np.uint8)

    def apply(self, img: np.ndarray, i: int) -> np.ndarray:
        k = i % len(self.plus)
        return cv2.subtract(cv2.add(img, self.plus[k]), self.minus[k])


def camera_path(rng: np.random.Generator, n: int, fps: float, kind: str) -> np.ndarray:
    """(n, 3) camera per frame: (x shift, y shift, zoom) for 'pan', 'zoom' or 'shake' (shifts in canvas pixels)."""
    t = np.arange(n) / fps
    path = np.zeros((n, 3))
    path[:, 2] = 1.0
    dur = max(t[-1], 1e-3) if n else 1.0
    if kind == "pan":
        amp = rng.uniform(60, 110) * rng.choice([-1, 1])
        path[:, 0] = amp * np.sin(2 * np.pi * t / max(dur, 4.0) * rng.uniform(0.8, 1.5))
        path[:, 1] = 8 * np.sin(2 * np.pi * t / 3.1)
    elif kind == "zoom":
        path[:, 2] = 1.0 + rng.uniform(0.15, 0.2) * (0.5 - 0.5 * np.cos(2 * np.pi * t / max(dur / 1.5, 2.5)))
        path[:, 0] = 20 * np.sin(2 * np.pi * t / 4.0)
    else:
        for f, a in ((rng.uniform(3, 6), 7.0), (rng.uniform(0.6, 1.2), 22.0)):
            path[:, 0] += a * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3))
            path[:, 1] += a * 0.6 * np.sin(2 * np.pi * f * 1.3 * t + rng.uniform(0, 6.3))
    return path


def camera_matrix(cam: np.ndarray, canvas: tuple[int, int], out: tuple[int, int]) -> np.ndarray:
    """2x3 affine from canvas to output pixels: zoom about the canvas centre, then shift; centre crop."""
    cw, ch = canvas
    ow, oh = out
    s = float(cam[2])
    return np.array([[s, 0.0, ow / 2 - s * (cw / 2 + cam[0])], [0.0, s, oh / 2 - s * (ch / 2 + cam[1])]])


def camera_view(canvas: np.ndarray, matrix: np.ndarray, out: tuple[int, int]) -> np.ndarray:
    """The output view (out = (width, height)) of a canvas through a 2x3 camera matrix; edges replicated."""
    return cv2.warpAffine(canvas, matrix, out, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
