"""Global background motion between two frames: camera pan, tilt, shake and zoom.

Works on small grayscale frames (e.g. 160 px wide). The dancer's box is masked
out, corners of the background are tracked with pyramidal Lucas-Kanade and a
similarity transform (shift, rotation, scale) is fitted with RANSAC; of the
groups of corners that move together, the most widely spread one is taken as
the background, so a second person (a compact group, possibly with more
corners than a plain wall) does not read as camera motion. The RANSAC
tolerance is 0.3 px of the analysis frame: background corners of a static
camera move < 0.1 px between frames, so slowly moving limbs (0.3-1 px) do
not join the background group and bias it. A background too plain for
corners falls back to phase correlation (`cv2.phaseCorrelate` with a Hann
window) on the frame with the dancer's box filled by the background mean;
that gives a shift only (and is biased towards 0 by the filled box's edges).

Shifts are reported at the frame centre, in pixels of the analysis frame;
scale as log(scale) (0 = no zoom, 0.01 = 1 % larger).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels of the analysis frame


@dataclass(frozen=True)
class FrameMotion:
    """Background motion from one frame to the next.

    dx, dy: pixels of the analysis frame (positive: content moved right / down).
    log_scale: log of the size change (positive: zoom in).
    method: "features" or "phase" (which estimator produced it).
    """

    dx: float
    dy: float
    log_scale: float
    method: str


def background_mask(shape: tuple[int, int], boxes: list[Box | None]) -> np.ndarray:
    """(H, W) uint8, 255 on the background, 0 inside any of `boxes` (clipped to the frame)."""
    height, width = shape
    mask = np.full((height, width), 255, np.uint8)
    for box in boxes:
        if box is None:
            continue
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        mask[max(y0, 0) : max(min(y1, height), 0), max(x0, 0) : max(min(x1, width), 0)] = 0
    return mask


def _widest_motion(src: np.ndarray, dst: np.ndarray, min_points: int, max_models: int = 3) -> np.ndarray | None:
    """The similarity transform (2x3) of the most widely spread group of points moving together.

    RANSAC finds the largest consistent group; its inliers are removed and the
    search repeated. A person (or a second dancer) outside the mask is a
    compact group; the background is spread over the frame, so the group whose
    convex hull is largest wins, also when a textured person has more corners
    than a plain background.
    """
    best: tuple[float, np.ndarray] | None = None
    for _ in range(max_models):
        if len(src) < min_points:
            break
        matrix, inliers = cv2.estimateAffinePartial2D(
            src, dst, method=cv2.RANSAC, ransacReprojThreshold=0.3, maxIters=500, refineIters=10
        )
        if matrix is None or inliers is None or inliers.sum() < min_points:
            break
        keep = inliers.ravel().astype(bool)
        area = cv2.contourArea(cv2.convexHull(src[keep].astype(np.float32)))
        if best is None or area > best[0]:
            best = (area, matrix)
        src, dst = src[~keep], dst[~keep]
    return None if best is None else best[1]


def _features_motion(prev: np.ndarray, cur: np.ndarray, mask: np.ndarray, min_points: int) -> FrameMotion | None:
    corners = cv2.goodFeaturesToTrack(prev, maxCorners=200, qualityLevel=0.01, minDistance=4, mask=mask)
    if corners is None or len(corners) < min_points:
        return None
    moved, status, _ = cv2.calcOpticalFlowPyrLK(prev, cur, corners, None, winSize=(15, 15), maxLevel=2)
    ok = status.ravel() == 1
    if ok.sum() < min_points:
        return None
    matrix = _widest_motion(corners[ok], moved[ok], min_points)
    if matrix is None:
        return None
    height, width = prev.shape
    centre = np.array([(width - 1) / 2, (height - 1) / 2, 1.0])
    shift = matrix @ centre - centre[:2]
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    return FrameMotion(float(shift[0]), float(shift[1]), float(np.log(scale)), "features")


def _filled(gray: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = gray.astype(np.float32)
    background = mask > 0
    out[~background] = out[background].mean() if background.any() else out.mean()
    return out


def _phase_motion(prev: np.ndarray, cur: np.ndarray, mask: np.ndarray) -> FrameMotion:
    window = cv2.createHanningWindow(prev.shape[::-1], cv2.CV_32F)
    (dx, dy), _response = cv2.phaseCorrelate(_filled(prev, mask), _filled(cur, mask), window)
    return FrameMotion(float(dx), float(dy), 0.0, "phase")


def frame_motion(prev: np.ndarray, cur: np.ndarray, boxes: list[Box | None] = (), min_points: int = 8) -> FrameMotion:
    """Background motion from `prev` to `cur`, both (H, W) uint8 grayscale.

    boxes: regions to ignore (the dancer in either frame), analysis pixels.
    min_points: tracked background corners needed for the feature estimate;
    with fewer, phase correlation gives the shift and zoom reads 0.
    """
    if prev.shape != cur.shape or prev.ndim != 2:
        raise ValueError(f"frames must be two (H, W) arrays of one size, got {prev.shape} and {cur.shape}")
    mask = background_mask(prev.shape, list(boxes))
    estimate = _features_motion(prev, cur, mask, min_points)
    return estimate if estimate is not None else _phase_motion(prev, cur, mask)


def clip_camera_figures(offsets: list[FrameMotion]) -> tuple[float, float]:
    """Per clip: (largest background excursion in px, largest |log zoom|).

    offsets: the background motion of frames of the clip measured against the
    clip's first frame (not frame to frame: summing frame-to-frame estimates
    lets their small errors drift into a false pan on a plain background).
    A pan drifts away from the first frame and a shake swings around it: both
    show as excursion; a zoom shows as scale.
    """
    if not offsets:
        return 0.0, 0.0
    shift = np.array([[m.dx, m.dy] for m in offsets])
    zoom = np.array([m.log_scale for m in offsets])
    return float(np.hypot(shift[:, 0], shift[:, 1]).max()), float(np.abs(zoom).max())
