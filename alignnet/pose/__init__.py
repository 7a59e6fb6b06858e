"""2D pose extraction: backends that turn a video into BODY_25 keypoints per frame."""

from alignnet.pose.sequence import PoseSequence

__all__ = ["PoseSequence"]
