"""Per-item outcomes of the per-video stages: nothing lost when one item fails.

A per-video job finishes when its item cannot be processed (a 404, a
corrupt file, no audio): it writes a `status.json` beside (or instead of) its
data with a reason code, and the stages after it pass the failure on. The
summary stage counts reasons; the run goes on for every other video. A fault
of the machine or network is no such outcome: alignnet.faults tells them apart,
and such a job fails instead.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

from alignnet.atomic import atomic_output

STATUS_FILE = "status.json"


class Reason(StrEnum):
    """Why an item (video or clip) left the pipeline."""

    # download
    INVALID_URL = "invalid_url"
    HTTP_ERROR = "http_error"
    NETWORK_ERROR = "network_error"
    UNAVAILABLE = "unavailable"
    # media
    CORRUPT_FILE = "corrupt_file"
    NO_VIDEO_STREAM = "no_video_stream"
    NO_AUDIO_STREAM = "no_audio_stream"
    TOO_SHORT = "too_short"
    # quality filters (paper appendix 1) and cleaning
    SILENT_AUDIO = "silent_audio"
    NO_PERSON = "no_person"
    MULTI_PERSON = "multi_person"
    CAMERA_MOTION = "camera_motion"
    NOT_FULL_BODY = "not_full_body"
    # quality filters of the lips task (a face in view: multi_person counts faces)
    MOUTH_HIDDEN = "mouth_hidden"
    NOT_FRONTAL = "not_frontal"
    GAP_TOO_LONG = "gap_too_long"
    # leakage between splits (alignnet.data.duplicates, alignnet.data.shot_cuts)
    DUPLICATE = "duplicate"
    SHOT_CUT = "shot_cut"
    # an earlier stage failed for this item
    UPSTREAM = "upstream"


class StageFailure(Exception):
    """One item cannot go on; the stage records `reason` and finishes cleanly."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail

    def __reduce__(self) -> tuple[type, tuple[Reason, str]]:
        """Pickled by its own arguments, so that a worker process's failure reaches its caller intact."""
        return type(self), (self.reason, self.detail)


@dataclass(frozen=True)
class StageStatus:
    stage: str
    ok: bool
    reason: str = ""
    detail: str = ""
    retryable: bool = False  # a failure a later try may not meet (alignnet.faults); `alignnet retry-failed` clears it

    def write(self, directory: str | os.PathLike[str]) -> None:
        with atomic_output(Path(directory) / STATUS_FILE) as tmp:
            tmp.write_text(json.dumps(asdict(self), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, directory: str | os.PathLike[str]) -> StageStatus | None:
        path = Path(directory) / STATUS_FILE
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def upstream_failure(input_path: str | os.PathLike[str]) -> StageStatus | None:
    """The failed status of the stage that should have written `input_path`.

    Returns None when the file exists. When it is missing and the status
    beside it records a failure, returns that status; otherwise raises
    FileNotFoundError naming the file.
    """
    path = Path(input_path)
    if path.exists():
        return None
    status = StageStatus.read(path.parent)
    if status is not None and not status.ok:
        return status
    raise FileNotFoundError(f"input not found: {path}")
