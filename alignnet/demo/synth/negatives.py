"""Negative videos: the kinds the quality filters must reject, and which video gets which."""

from __future__ import annotations

import math

from alignnet.stage_status import Reason

# Kind -> the reason the pipeline must give; cycled in this order.
NEGATIVE_KINDS: dict[str, Reason] = {
    "multi_person": Reason.MULTI_PERSON,
    "camera_motion": Reason.CAMERA_MOTION,
    "not_full_body": Reason.NOT_FULL_BODY,
    "no_person": Reason.NO_PERSON,
    "too_short": Reason.TOO_SHORT,
    "silent_audio": Reason.SILENT_AUDIO,
}
CLIP_SECONDS = 6.0


def negative_kind(index: int, fraction: float) -> str | None:
    """The negative kind of video `index`, or None for a good video.

    Negatives are spread evenly: video i is one when floor((i+1)f) > floor(i f),
    and the n-th negative gets kind n mod 6. Depends only on (index, fraction),
    not on how many videos are made.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"negative fraction must be in [0, 1], got {fraction}")
    before = math.floor(index * fraction + 1e-9)
    after = math.floor((index + 1) * fraction + 1e-9)
    if after <= before:
        return None
    kinds = list(NEGATIVE_KINDS)
    return kinds[(after - 1) % len(kinds)]


def expected_verdict(kind: str | None, duration: float) -> dict[str, object]:
    """{"keep": bool, "reason": Reason value or None}: what the pipeline should decide for the video."""
    if kind is not None:
        return {"keep": False, "reason": str(NEGATIVE_KINDS[kind])}
    if duration < CLIP_SECONDS:
        return {"keep": False, "reason": str(Reason.TOO_SHORT)}
    return {"keep": True, "reason": None}
