"""A person detector run on the frame with the main dancer painted out.

The mediapipe pose backend tracks one person and reports at most one, so a
second dancer who dances in place (and so partly melts into a median
background, see alignnet.data.foreground) would be missed. Here the main
dancer's padded keypoint box is filled with grey and mediapipe's pose
detector (BlazePose, static-image mode) is run on what is left: if it finds
a person there, a second person is on screen (another dancer, an audience
member, a reflection in a mirror).
"""

from __future__ import annotations

from types import TracebackType

import numpy as np

from alignnet.data.camera_motion import Box, background_mask

# mediapipe landmarks of shoulders and hips: a found person must show a torso
_TORSO = (11, 12, 23, 24)


class MaskedPersonDetector:
    """`found(frame, box)`: is there a person outside `box`? Use as a context manager (frees the graph).

    min_visibility: mean visibility of shoulders and hips a detection needs.
    """

    def __init__(self, min_detection_confidence: float = 0.5, min_visibility: float = 0.5) -> None:
        import mediapipe as mp  # heavy; imported only when the detector is used

        self._pose = mp.solutions.pose.Pose(
            static_image_mode=True, model_complexity=1, min_detection_confidence=min_detection_confidence
        )
        self.min_visibility = min_visibility

    def found(self, frame: np.ndarray, box: Box | None) -> bool:
        """frame: (H, W, 3) uint8 RGB; box: the main dancer (pixels of `frame`), painted out first."""
        image = frame.copy()
        if box is not None:
            image[background_mask(image.shape[:2], [box]) == 0] = 128
        result = self._pose.process(image)
        if result.pose_landmarks is None:
            return False
        landmarks = result.pose_landmarks.landmark
        return float(np.mean([landmarks[k].visibility for k in _TORSO])) >= self.min_visibility

    def close(self) -> None:
        self._pose.close()

    def __enter__(self) -> MaskedPersonDetector:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
