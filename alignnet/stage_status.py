"""The one record of every per-video stage's outcome, and the one way to read it: nothing lost when one item fails.

Every per-video stage (download, clip, pose, filter, clean, logmel; the lips
task runs the same stages) writes one StageStatus record for its item, as
JSON, next to its output:

    a folder output   resources/videos/<id>/status.json, results/clips/<id>/status.json
    a file output     results/pose/<id>.npz       -> results/pose/<id>.status.json
                      results/filter/<id>.tsv     -> results/filter/<id>.status.json
                      results/keypoints/<id>.parquet -> results/keypoints/<id>.status.json
                      results/logmel/<id>.npz     -> results/logmel/<id>.status.json

A job whose item cannot be processed (a 404, a corrupt file, no audio, no
person) records `ok: false` with a reason code and finishes; a file output is
then written empty (0 frames, 0 clips, no rows) so that the job's outputs
exist. The record is written last (`write_with_record`) and an older one is
removed first, so a job cut or failed half-way leaves no record, and the
workflow, which declares the record among the job's outputs, redoes it. A later stage learns whether its input
failed, and why, only through `read_upstream`, and passes a failure on
(`StageStatus.passed_on`: same reason, detail and retryability, `origin`
naming the stage where it arose). The summary counts reasons; the run goes on
for every other video. A fault of the machine or network is no such outcome:
alignnet.faults tells them apart, and such a job fails instead.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from pathlib import Path

from alignnet.atomic import atomic_output
from alignnet.dataclass_fields import known_fields
from alignnet.errors import DataError

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
    """The one record of a per-video stage's outcome for its item (module doc).

    `origin` names the stage where a failure arose; a stage that passes an
    upstream failure on keeps its reason, detail, retryability and origin.
    """

    stage: str
    ok: bool
    reason: str = ""
    detail: str = ""
    retryable: bool = False  # a failure a later try may not meet (alignnet.faults); `alignnet retry-failed` clears it
    origin: str = ""  # the stage where the failure arose ("" when ok)

    def passed_on(self, stage: str) -> StageStatus:
        """This failure as the record of the later `stage` that cannot go on because of it."""
        return replace(self, stage=stage, origin=self.origin or self.stage)

    def write(self, output: str | os.PathLike[str]) -> Path:
        """Write this record for the stage output `output` (record_path); returns the record's path."""
        path = record_path(output)
        with atomic_output(path) as tmp:
            tmp.write_text(json.dumps(asdict(self), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, output: str | os.PathLike[str]) -> StageStatus | None:
        """The record of the stage output `output` (record_path), or None when there is none."""
        return cls.load(record_path(output))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> StageStatus | None:
        """The record in the file `path`, or None when it does not exist; DataError names a malformed one."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"unreadable stage record {path}: {exc}") from exc
        try:
            return cls(**known_fields(cls, data))
        except TypeError as exc:
            raise DataError(f"stage record {path} lacks {{stage, ok}}: {exc}") from exc


def write_with_record(output: str | os.PathLike[str], status: StageStatus, write_data: Callable[[], object]) -> None:
    """Write a stage's file output by `write_data()`, then its record `status` (the record is the last thing written).

    An older record of `output` is removed first, so no record ever stands
    beside data it does not describe; when `write_data` raises (a full disk),
    no record is left.
    """
    record_path(output).unlink(missing_ok=True)
    write_data()
    status.write(output)


def record_path(output: str | os.PathLike[str]) -> Path:
    """Where the record of a stage output lives: DIR/status.json for a folder, X.status.json beside a file X.ext.

    An output is a folder when it is one on disk (the stages write a folder's
    record into it), or, not made yet, when its name has no suffix.
    """
    path = Path(output)
    if path.is_dir() or not path.suffix:
        return path / STATUS_FILE
    return path.with_name(f"{path.stem}.{STATUS_FILE}")


def recorded_outputs(record: Path) -> list[Path]:
    """What a record stands for: its folder, or itself and the data file X.ext beside X.status.json."""
    if record.name == STATUS_FILE:
        return [record.parent]
    stem = record.name.removesuffix(f".{STATUS_FILE}")
    beside = [p for p in record.parent.glob(f"{stem}.*") if p != record and p.name[len(stem) :].count(".") == 1]
    return sorted(beside) + [record]


def remove_recorded(record: Path) -> None:
    """Remove a record with what it stands for (recorded_outputs), so that the next run redoes that job."""
    for output in recorded_outputs(record):
        if output.is_dir():
            shutil.rmtree(output)
        else:
            output.unlink(missing_ok=True)


def failed_records(root: str | os.PathLike[str]) -> dict[Path, StageStatus]:
    """The failure records directly in `root` (X.status.json) or in its folders (<id>/status.json), by path."""
    root = Path(root)
    found = {}
    for record in sorted([*root.glob(f"*/{STATUS_FILE}"), *root.glob(f"*.{STATUS_FILE}")]):
        status = StageStatus.load(record)
        if status is not None and not status.ok:
            found[record] = status
    return found


def item_id(record: Path) -> str:
    """The item (video id) a record is of: its folder's name, or X of X.status.json."""
    return record.parent.name if record.name == STATUS_FILE else record.name.removesuffix(f".{STATUS_FILE}")


def retryable_failures(root: str | os.PathLike[str]) -> list[Path]:
    """The records under `root` (failed_records) of a retryable failure."""
    return [record for record, status in failed_records(root).items() if status.retryable]


@dataclass(frozen=True)
class Upstream:
    """What a downstream stage learns about one input item: there, or failed and why."""

    path: Path
    status: StageStatus | None  # the upstream stage's record (None for a plain file no stage recorded)

    @property
    def failed(self) -> bool:
        return self.status is not None and not self.status.ok

    def failure(self, stage: str) -> StageStatus:
        """The record `stage` writes for this failed item (raises ValueError when the item did not fail)."""
        if self.status is None or self.status.ok:
            raise ValueError(f"{self.path}: the upstream stage did not fail")
        return self.status.passed_on(stage)


def read_upstream(path: str | os.PathLike[str]) -> Upstream:
    """Whether the stage output `path` (a folder, a file, or a file inside a per-video folder) failed, or is there.

    Looks for the record of `path` (record_path), then for the record of the
    folder holding it (results/clips/<id>/video.mp4 -> results/clips/<id>/status.json).
    A failed record wins; otherwise the output must exist: FileNotFoundError
    names it when it does not. DataError (a UserInputError and a ValueError)
    names an unreadable record.
    """
    path = Path(path)
    status = StageStatus.read(path)
    if status is None and path.suffix:
        status = StageStatus.load(path.parent / STATUS_FILE)
    upstream = Upstream(path, status)
    if not upstream.failed and not path.exists():
        raise FileNotFoundError(f"input not found: {path}" + ("" if status else " (and no failure record for it)"))
    return upstream
