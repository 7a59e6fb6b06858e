"""Image evidence of other people: moving figures outside the main dancer's box.

Single-person pose backends (mediapipe) report at most one person, so the
single-person rule needs evidence from the pixels too. With a static camera
(the camera rule runs first), the background of a clip is the per-pixel
median of its frames with the dancer left out; whatever differs from it is
foreground. Foreground blobs apart from the main dancer's padded box that are
tall and large enough to be a person (relative to the dancer's own height in
the frame) count as other people; blobs touching the box are taken as parts
of the dancer the pose missed, so a second person in contact with the dancer
is missed too. Static people (an audience that does not move) melt into the
median background and are missed: for crowds, OpenPose's person count is the
evidence. Mirrors show the dancer a second time and are counted, which is
intended (two figures on screen).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import cv2
import numpy as np

from alignnet.data.camera_motion import Box, background_mask


@dataclass(frozen=True)
class FigureRule:
    """What counts as another person, relative to the dancer's height h in the frame.

    diff_threshold: colour difference (0-255, largest channel) that is foreground.
    min_height: blob height >= min_height * h (a person at a similar distance).
    min_area: blob pixels >= min_area * h**2 (a standing person covers ~0.15-0.25 h**2).
    box_pad: the dancer's keypoint box is grown by box_pad * h on every side
        (head top, hands, feet and clothes lie beyond the keypoints).
    """

    diff_threshold: int = 30
    min_height: float = 0.4
    min_area: float = 0.06
    box_pad: float = 0.15


def padded_box(box: Box, pad: float) -> Box:
    """`box` grown by pad * its height on every side."""
    x0, y0, x1, y1 = box
    grow = pad * (y1 - y0)
    return x0 - grow, y0 - grow, x1 + grow, y1 + grow


def dancer_free_background(
    frames: np.ndarray, boxes: list[Box | None], pad: float, max_samples: int = 60
) -> np.ndarray:
    """(H, W, 3) float32 per-pixel median of the frames with the dancer's padded box left out.

    Leaving the dancer out keeps a dancer who lingers in one place from
    becoming background (and leaving a "ghost" figure where they stood).
    Pixels the dancer covers in every sampled frame are NaN. At most
    `max_samples` evenly spaced frames are used.
    """
    step = max(1, len(frames) // max_samples)
    stack = frames[::step].astype(np.float32)
    for j, box in enumerate(boxes[::step]):
        if box is not None:
            stack[j][background_mask(stack.shape[1:3], [padded_box(box, pad)]) == 0] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels stay NaN
        return np.nanmedian(stack, axis=0)


def other_figures(frames: np.ndarray, boxes: list[Box | None], rule: FigureRule = FigureRule()) -> np.ndarray:
    """Number of person-sized moving blobs outside the dancer's box, per frame.

    frames: (n, H, W, 3) uint8, one clip at analysis size, static camera.
    boxes: the dancer's keypoint box per frame (analysis pixels), None when not found.
    Returns (n,) int: 0 in frames without a box (no reference height).
    """
    n = frames.shape[0]
    counts = np.zeros(n, dtype=np.int32)
    heights = [b[3] - b[1] for b in boxes if b is not None and b[3] > b[1]]
    if n == 0 or not heights:
        return counts
    background = dancer_free_background(frames, boxes, rule.box_pad)
    open_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    close_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    for i in range(n):
        box = boxes[i]
        if box is None or box[3] <= box[1]:
            continue
        h = box[3] - box[1]
        diff = np.abs(cv2.GaussianBlur(frames[i], (3, 3), 0).astype(np.float32) - background).max(axis=2)
        mask = (diff > rule.diff_threshold).astype(np.uint8)  # NaN (never seen) compares False
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, open_kernel)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, close_kernel)
        dancer = padded_box(box, rule.box_pad)
        mask &= background_mask(mask.shape, [dancer]) // 255
        _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        blobs = stats[1:]
        x0, y0 = blobs[:, cv2.CC_STAT_LEFT], blobs[:, cv2.CC_STAT_TOP]
        x1, y1 = x0 + blobs[:, cv2.CC_STAT_WIDTH], y0 + blobs[:, cv2.CC_STAT_HEIGHT]
        # a blob touching the dancer's box is a part of the dancer the pose missed (a leg, a shadow)
        touching = (x0 <= dancer[2] + 1) & (x1 >= dancer[0] - 1) & (y0 <= dancer[3] + 1) & (y1 >= dancer[1] - 1)
        tall = blobs[:, cv2.CC_STAT_HEIGHT] >= rule.min_height * h
        large = blobs[:, cv2.CC_STAT_AREA] >= rule.min_area * h * h
        counts[i] = int(np.count_nonzero(tall & large & ~touching))
    return counts
