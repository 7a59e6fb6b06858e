"""Figures: how the dancer and the shot look, as named presets drawn at random per video.

A preset sets the body's proportions, the drawing (a clothed figure, or a
stick figure of thick lines: the held-out figure, `HELDOUT_FIGURES`), the
camera distance (body height as a share of the frame) and angle (roll and a
vertical squash of a camera looking down), the lighting (gain, gamma, colour
cast), the background (a room, a plain wall or a busy pattern), sensor noise,
blur and the encoder's compression (x264 CRF).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from alignnet.demo.synth import render
from alignnet.demo.synth.figure import Body, Skeleton, random_body
from alignnet.errors import require_known
from alignnet.keypoints import BODY_25_INDEX as K
from alignnet.keypoints import BODY_25_LIMBS

Range = tuple[float, float]


@dataclass(frozen=True)
class FigurePreset:
    """Ranges each video's figure and shot are drawn from (uniform), and the fixed choices."""

    name: str
    drawing: str = "clothed"  # "clothed" (render.draw_dancer) or "stick"
    proportions: str = "adult"  # "adult", "child" (big head, short legs), "tall" (long limbs), "stocky"
    body_share: Range = (0.55, 0.74)  # body height / frame height: the camera distance
    roll_deg: Range = (0.0, 0.0)  # camera roll, either sign
    squash: Range = (1.0, 1.0)  # vertical scale of a camera looking down (1: level)
    gain: Range = (1.0, 1.0)  # lighting: brightness factor
    gamma: Range = (1.0, 1.0)
    cast: float = 0.0  # largest per-channel colour cast, as a factor offset
    background: str = "room"  # "room", "plain" or "busy"
    noise: Range = (1.5, 4.0)  # sensor noise std (grey levels)
    blur: Range = (0.0, 0.0)  # Gaussian blur sigma (pixels)
    crf: tuple[int, int] = (22, 22)  # x264 CRF, inclusive


# fmt: off
FIGURE_PRESETS: dict[str, FigurePreset] = {
    p.name: p
    for p in (
        FigurePreset("studio", body_share=(0.6, 0.78), background="plain", noise=(1.0, 2.5)),
        FigurePreset("home", proportions="stocky", body_share=(0.5, 0.7), roll_deg=(0.0, 3.0), gain=(0.8, 1.1),
                     gamma=(0.9, 1.2), cast=0.08, noise=(2.0, 5.0), crf=(24, 30)),
        FigurePreset("far_high", proportions="tall", body_share=(0.32, 0.5), squash=(0.82, 0.95),
                     roll_deg=(0.0, 2.0), background="busy", noise=(1.5, 4.0), crf=(22, 28)),
        FigurePreset("dim_phone", proportions="child", body_share=(0.55, 0.75), roll_deg=(2.0, 6.0),
                     gain=(0.45, 0.7), gamma=(1.1, 1.5), cast=0.15, noise=(5.0, 9.0), blur=(0.6, 1.4), crf=(30, 36)),
        FigurePreset("stick", drawing="stick", body_share=(0.5, 0.72), roll_deg=(0.0, 2.0), gain=(0.8, 1.1),
                     background="plain", noise=(1.0, 3.0), crf=(22, 28)),
    )
}
# fmt: on
HELDOUT_FIGURES: tuple[str, ...] = ("stick",)
TRAIN_FIGURES: tuple[str, ...] = tuple(name for name in FIGURE_PRESETS if name not in HELDOUT_FIGURES)


def check_figures(names: tuple[str, ...]) -> None:
    """UserInputError naming the first unknown figure."""
    require_known("figure", names, FIGURE_PRESETS)


@dataclass(frozen=True)
class Shot:
    """One video's draw of a preset: everything fixed."""

    preset: FigurePreset
    body_share: float
    roll_deg: float
    squash: float
    gain: float
    gamma: float
    cast: tuple[float, float, float]
    noise: float
    blur: float
    crf: int
    colour: tuple[int, int, int]  # stick figure's colour (BGR)
    thickness: float  # stick figure's line width, share of the body height


def draw_shot(rng: np.random.Generator, preset: FigurePreset) -> Shot:
    """The fixed values of one video's shot, drawn from `preset`'s ranges."""

    def u(r: Range) -> float:
        return float(rng.uniform(*r)) if r[1] > r[0] else float(r[0])

    sign = float(rng.choice([-1.0, 1.0]))
    cast = tuple(float(c) for c in 1.0 + rng.uniform(-preset.cast, preset.cast, 3))
    return Shot(
        preset,
        u(preset.body_share),
        sign * u(preset.roll_deg),
        u(preset.squash),
        u(preset.gain),
        u(preset.gamma),
        cast,
        u(preset.noise),
        u(preset.blur),
        int(rng.integers(preset.crf[0], preset.crf[1] + 1)),
        tuple(int(c) for c in rng.integers(20, 235, 3)),
        float(rng.uniform(0.045, 0.06)),
    )


# Body parts scaled from `random_body`'s for each preset's proportions (before the legs fill the height again).
PROPORTION_SCALES: dict[str, dict[str, float]] = {
    "child": {"head": 1.35, "torso": 1.05, "upper_arm": 0.9, "forearm": 0.9},
    "tall": {"head": 0.9, "shoulders": 0.92, "upper_arm": 1.08, "forearm": 1.08},
    "stocky": {"shoulders": 1.15, "hips": 1.2, "torso": 1.05},
}


def body_of(rng: np.random.Generator, shot: Shot, height: float) -> Body:
    """Proportions of the preset's kind, drawn around `random_body`'s, keeping `height`."""
    body = random_body(rng, height)
    scales = PROPORTION_SCALES.get(shot.preset.proportions, {})
    body = replace(body, **{part: getattr(body, part) * scale for part, scale in scales.items()})
    legs = 1.0 - (2 * body.head + body.neck + body.torso + 0.03)
    scale = legs / (body.thigh + body.shin)
    return replace(body, thigh=body.thigh * scale, shin=body.shin * scale)


def placement(rng: np.random.Generator, shot: Shot, width: int, height: int) -> tuple[float, float, float]:
    """(body height, floor y, centre x) in pixels for one dancer of `shot`, whole in the frame."""
    floor_y = rng.uniform(0.86, 0.95) * height
    body_h = min(shot.body_share * height, (floor_y - 4) / 1.35)
    margin = 0.55 * body_h
    x = np.clip(rng.uniform(0.3, 0.7) * width, margin, width - margin) if width > 2 * margin else width / 2
    return body_h, floor_y, float(x)


def background(rng: np.random.Generator, shot: Shot, width: int, height: int, horizon: float) -> np.ndarray:
    """The preset's background: a room (`render.make_background`), a plain wall, or a busy pattern of shapes."""
    kind = shot.preset.background
    if kind == "room":
        return render.make_background(rng, width, height, horizon, bool(rng.random() < 0.3))
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    top = np.array(render._hsv_colour(rng, (0.0, 0.3), (0.55, 0.95)), np.float32)
    img = ((top * (1 - 0.25 * y)) * np.ones((1, width, 1), np.float32)).astype(np.uint8)
    if kind == "busy":
        for _ in range(int(rng.integers(25, 45))):
            colour = render._hsv_colour(rng, (0.2, 0.9), (0.2, 0.95))
            centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            if rng.random() < 0.5:
                cv2.circle(img, centre, int(rng.integers(8, 60)), colour, -1, cv2.LINE_AA)
            else:
                size = (int(rng.integers(10, 90)), int(rng.integers(10, 90)))
                cv2.rectangle(img, centre, (centre[0] + size[0], centre[1] + size[1]), colour, -1, cv2.LINE_AA)
    return img


def camera_angle(shot: Shot, width: int, height: int) -> np.ndarray:
    """2x3 affine of the camera's roll (about the frame centre) and squash (about the floor line at 90 %)."""
    roll = cv2.getRotationMatrix2D((width / 2, height / 2), shot.roll_deg, 1.0)
    pivot = 0.9 * height
    squash = np.array([[1.0, 0.0, 0.0], [0.0, shot.squash, pivot * (1 - shot.squash)], [0.0, 0.0, 1.0]])
    return (np.vstack([roll, [0.0, 0.0, 1.0]]) @ squash)[:2]


def draw_stick(img: np.ndarray, skel: Skeleton, i: int, shot: Shot) -> None:
    """Frame `i` of `skel` as a flat puppet in place, in one colour: a filled torso, limbs as thick lines
    between BODY_25 joints, a filled head with eyes, nose and mouth, dark feet (no clothes, hands or shading)."""
    kp = skel.keypoints[i, :, :2]
    h = skel.body.height
    width = max(2, int(round(shot.thickness * h)))
    torso = np.array([kp[K[n]] for n in ("RShoulder", "LShoulder", "LHip", "RHip")])
    cv2.fillConvexPoly(img, np.round(torso * 16).astype(np.int32), shot.colour, cv2.LINE_AA, 4)
    for a, b in BODY_25_LIMBS:
        if a in (K["REar"], K["LEar"], K["REye"], K["LEye"]) or b in (K["REar"], K["LEar"]):
            continue
        p, q = (tuple(int(round(c * 16)) for c in kp[j]) for j in (a, b))
        cv2.line(img, p, q, shot.colour, width, cv2.LINE_AA, 4)
    centre = tuple(int(round(c * 16)) for c in skel.head_center[i])
    axes = tuple(int(round(r * 16)) for r in skel.head_axes[i])
    cv2.ellipse(img, centre, axes, float(np.degrees(skel.head_angle[i])), 0, 360, shot.colour, -1, cv2.LINE_AA, 4)
    # A face (white eyes, dark pupils, a dark nose and mouth) and feet, so the figure reads as facing the camera.
    dark = tuple(int(c * 0.3) for c in shot.colour)
    for name in ("REye", "LEye"):
        eye = tuple(int(round(c * 16)) for c in kp[K[name]])
        cv2.circle(img, eye, int(round(0.016 * h * 16)), (240, 240, 240), -1, cv2.LINE_AA, 4)
        cv2.circle(img, eye, int(round(0.008 * h * 16)), (20, 20, 20), -1, cv2.LINE_AA, 4)
    nose = kp[K["Nose"]]
    cv2.circle(img, tuple(int(round(c * 16)) for c in nose), int(round(0.008 * h * 16)), dark, -1, cv2.LINE_AA, 4)
    mouth = nose + (skel.head_center[i] - kp[K["Neck"]]) * -0.25
    half = np.array([0.025 * h, 0.0])
    cv2.line(
        img,
        *(tuple(int(round(c * 16)) for c in mouth + d) for d in (-half, half)),
        dark,
        max(1, int(0.008 * h)),
        cv2.LINE_AA,
        4,
    )
    for side, tip in (("R", 0), ("L", 1)):
        ankle = tuple(int(round(c * 16)) for c in kp[K[f"{side}Ankle"]])
        toe = tuple(int(round(c * 16)) for c in skel.toe_tips[i, tip])
        cv2.line(img, ankle, toe, dark, width, cv2.LINE_AA, 4)


def lighting_table(shot: Shot) -> np.ndarray:
    """(256, 1, 3) uint8 lookup table of the shot's gain, gamma and colour cast, for cv2.LUT."""
    x = np.arange(256, dtype=np.float64) / 255.0
    channels = [np.clip(255.0 * shot.gain * c * x**shot.gamma, 0, 255) for c in shot.cast]
    return np.stack(channels, axis=-1).reshape(256, 1, 3).astype(np.uint8)


def finish(img: np.ndarray, shot: Shot, table: np.ndarray) -> np.ndarray:
    """Lighting (via `table`) and blur of a drawn frame."""
    out = cv2.LUT(img, table)
    if shot.blur > 0:
        out = cv2.GaussianBlur(out, (0, 0), shot.blur)
    return out
