"""An articulated 2D body seen from the front: joint angles -> BODY_25 keypoints in pixels.

Angles are radians. Limb angles are measured from straight down, positive
away from the body's midline (so symmetric moves use the same values on
both sides); elbow/knee angles are relative to the upper limb, positive
continuing outward. `lift` foreshortens a thigh (a knee raised towards the
camera). `yaw` turns the body (horizontal widths shrink with cos(yaw)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alignnet.keypoints import BODY_25_INDEX as K

# Joint-angle parameters of a pose, each an array over frames.
POSE_PARAMS: tuple[str, ...] = (
    "x",
    "jump",
    "lean",
    "tilt",
    "yaw",
    "r_sh",
    "l_sh",
    "r_el",
    "l_el",
    "r_hip",
    "l_hip",
    "r_knee",
    "l_knee",
    "r_lift",
    "l_lift",
)


@dataclass(frozen=True)
class Body:
    """Proportions as fractions of the height (head top to ankles); height and placement in pixels."""

    height: float
    head: float = 0.062  # head radius (vertical semi-axis)
    neck: float = 0.05
    torso: float = 0.30  # neck to mid-hip
    shoulders: float = 0.23  # shoulder joint to shoulder joint
    hips: float = 0.15  # hip joint to hip joint
    upper_arm: float = 0.17  # shoulder to elbow
    forearm: float = 0.15  # elbow to wrist
    hand: float = 0.06  # wrist to hand tip
    thigh: float = 0.245  # hip to knee
    shin: float = 0.245  # knee to ankle
    foot: float = 0.085  # ankle to toe tip

    @property
    def head_to_neck(self) -> float:
        """Head top to neck point, in pixels."""
        return (2 * self.head + self.neck) * self.height


def random_body(rng: np.random.Generator, height: float) -> Body:
    """Varied but realistic proportions; leg and torso lengths are rescaled to keep `height`."""
    b = Body(
        height=height,
        head=rng.uniform(0.058, 0.068),
        neck=rng.uniform(0.035, 0.05),
        torso=rng.uniform(0.28, 0.32),
        shoulders=rng.uniform(0.2, 0.25),
        hips=rng.uniform(0.13, 0.17),
        upper_arm=rng.uniform(0.16, 0.18),
        forearm=rng.uniform(0.14, 0.16),
        hand=rng.uniform(0.05, 0.065),
        thigh=rng.uniform(0.23, 0.26),
        shin=rng.uniform(0.23, 0.26),
        foot=rng.uniform(0.075, 0.095),
    )
    legs = 1.0 - (2 * b.head + b.neck + b.torso + 0.03)
    scale = legs / (b.thigh + b.shin)
    return Body(**{**b.__dict__, "thigh": b.thigh * scale, "shin": b.shin * scale})


@dataclass(frozen=True)
class Skeleton:
    """Pixel geometry of a posed body for every frame.

    keypoints: (frames, 25, 3) BODY_25 x, y, visibility (1 seen, 0 hidden);
    head_center: (frames, 2); head_axes: (frames, 2) semi-axes; hand_tips,
    toe_tips: (frames, 2, 2) [right, left] end points of hands and feet;
    yaw: (frames,).
    """

    keypoints: np.ndarray
    head_center: np.ndarray
    head_axes: np.ndarray
    head_angle: np.ndarray
    hand_tips: np.ndarray
    toe_tips: np.ndarray
    yaw: np.ndarray
    body: Body


def _dir(angle: np.ndarray, side: float) -> np.ndarray:
    """Unit vectors (frames, 2) at `angle` from straight down, outward towards `side` (-1 image left)."""
    return np.stack([side * np.sin(angle), np.cos(angle)], axis=-1)


def pose(body: Body, params: dict[str, np.ndarray], floor_y: float, center_x: float) -> Skeleton:
    """Place the body on the floor line: the lower ankle touches `floor_y` (minus any jump)."""
    h = body.height
    n = len(params["x"])
    yaw = params["yaw"]
    cy = np.cos(yaw)
    sy = np.sin(yaw)
    lean = params["lean"]

    # Legs relative to the hip joints; R is image left (side -1).
    legs = {}
    for side, s in (("r", -1.0), ("l", 1.0)):
        thigh_dir = _dir(params[f"{side}_hip"], s)
        thigh_dir = thigh_dir * np.stack([cy, np.cos(params[f"{side}_lift"])], axis=-1)
        knee = thigh_dir * body.thigh * h
        ankle = knee + _dir(params[f"{side}_hip"] + params[f"{side}_knee"], s) * body.shin * h
        legs[side] = (knee, ankle)
    hip_off = body.hips * h / 2 * cy
    hip_drop = 0.02 * h
    lowest = np.maximum(legs["r"][1][:, 1], legs["l"][1][:, 1]) + hip_drop
    mid_hip = np.stack([center_x + params["x"] * h, floor_y - lowest - params["jump"] * h], axis=-1)

    up = np.stack([np.sin(lean), -np.cos(lean)], axis=-1)
    across = np.stack([np.cos(lean), np.sin(lean)], axis=-1)  # towards image right
    neck = mid_hip + up * body.torso * h
    kp = np.zeros((n, 25, 3), np.float64)
    kp[:, :, 2] = 1.0
    kp[:, K["MidHip"], :2] = mid_hip
    kp[:, K["Neck"], :2] = neck
    shoulder_drop = -up * 0.025 * h
    arms = (("r", -1.0, "RShoulder", "RElbow", "RWrist"), ("l", 1.0, "LShoulder", "LElbow", "LWrist"))
    for side, s, sh_name, el_name, wr_name in arms:
        shoulder = neck + across * (s * body.shoulders * h / 2 * cy)[:, None] + shoulder_drop
        ua = params[f"{side}_sh"] + s * lean
        elbow = shoulder + _dir(ua, s) * np.stack([cy, np.ones(n)], -1) * body.upper_arm * h
        fa = ua + params[f"{side}_el"]
        wrist = elbow + _dir(fa, s) * np.stack([cy, np.ones(n)], -1) * body.forearm * h
        kp[:, K[sh_name], :2] = shoulder
        kp[:, K[el_name], :2] = elbow
        kp[:, K[wr_name], :2] = wrist
    hand_tips = np.stack(
        [
            kp[:, K[w], :2] + _dir(params[f"{sd}_sh"] + params[f"{sd}_el"] + s * lean, s) * body.hand * h
            for sd, s, w in (("r", -1.0, "RWrist"), ("l", 1.0, "LWrist"))
        ],
        axis=1,
    )

    toe_tips = []
    leg_names = (("r", -1.0, "RHip", "RKnee", "RAnkle"), ("l", 1.0, "LHip", "LKnee", "LAnkle"))
    for side, s, hip_name, knee_name, ankle_name in leg_names:
        hip = mid_hip + np.stack([s * hip_off, np.full(n, hip_drop)], -1)
        knee, ankle = legs[side]
        kp[:, K[hip_name], :2] = hip
        kp[:, K[knee_name], :2] = hip + knee
        kp[:, K[ankle_name], :2] = hip + ankle
        # Feet point towards the camera and a little outward: short in the image.
        out = s * (0.45 * cy + 0.8 * sy * s) * body.foot * h
        toe = kp[:, K[ankle_name], :2] + np.stack([out, np.full(n, 0.035 * h)], -1)
        toe_tips.append(toe)
        big, small, heel = (K[f"{side.upper()}{part}"] for part in ("BigToe", "SmallToe", "Heel"))
        ankle_xy = kp[:, K[ankle_name], :2]
        kp[:, big, :2] = ankle_xy + (toe - ankle_xy) * 0.9 - np.array([s * 0.012 * h, 0.0])
        kp[:, small, :2] = ankle_xy + (toe - ankle_xy) * 0.9 + np.array([s * 0.02 * h, 0.0])
        kp[:, heel, :2] = ankle_xy + np.array([-s * 0.01 * h, 0.025 * h])

    # Head: an ellipse above the neck, tilted with the torso lean plus `tilt`.
    tilt = lean + params["tilt"]
    head_up = np.stack([np.sin(tilt), -np.cos(tilt)], axis=-1)
    head_across = np.stack([np.cos(tilt), np.sin(tilt)], axis=-1)
    rv = body.head * h
    rh = rv * 0.8
    head_center = neck + head_up * (body.neck * h + rv)
    face_shift = (sy * rh * 0.75)[:, None] * head_across
    kp[:, K["Nose"], :2] = head_center - head_up * 0.15 * rv + face_shift
    for name, s in (("REye", -1.0), ("LEye", 1.0)):
        kp[:, K[name], :2] = (
            head_center + head_up * 0.18 * rv + head_across * (s * 0.38 * rh * cy)[:, None] + face_shift
        )
    for name, s in (("REar", -1.0), ("LEar", 1.0)):
        kp[:, K[name], :2] = (
            head_center + head_up * 0.05 * rv + head_across * (s * 0.98 * rh * cy)[:, None] + face_shift * 0.4
        )
        hidden = (s * sy) < -0.45  # turned away from the camera on that side
        kp[:, K[name], 2] = np.where(hidden, 0.0, 1.0)
    axes = np.stack([rh * (0.9 + 0.1 * np.abs(cy)), np.full(n, rv)], -1)
    return Skeleton(kp, head_center, axes, tilt, hand_tips, np.stack(toe_tips, 1), yaw, body)


def neutral(n: int) -> dict[str, np.ndarray]:
    """A relaxed standing pose for `n` frames."""
    values = {"r_sh": 0.18, "l_sh": 0.18, "r_el": -0.15, "l_el": -0.15, "r_hip": 0.07, "l_hip": 0.07}
    return {p: np.full(n, values.get(p, 0.0)) for p in POSE_PARAMS}
