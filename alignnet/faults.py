"""Item verdicts versus environment faults: the one classification every per-video stage uses.

A per-video stage that cannot process its item records a failure and finishes
(alignnet.stage_status), but only when the failure is a fact about the item:

- permanent: a verdict on the item (the video is gone or private, corrupt at
  its source, too short, has no person). Recorded; no rerun changes it.
- retryable: a failure that cannot be told apart from a passing one at once
  (a transfer of this one video cut mid-file after every retry, an HTTP 403,
  an error yt-dlp does not explain). Recorded with `retryable: true`; the job
  succeeds, and `alignnet retry-failed` removes exactly these records so that
  the next plain run tries them again.
- environment: a fault of the machine or the network, not of the item (no
  space left, an I/O error, permission denied, out of memory, the site down
  or refusing connections, HTTP 429 or 5xx after retries, timeouts). The job
  fails with a clear message and leaves no output, so that Snakemake's next
  run redoes it once the fault is gone.

`classify_failure` decides from the exception chain (OSError's errno, an HTTP
status) and, since tools such as ffmpeg and yt-dlp report OS errors as text,
from the message.
"""

from __future__ import annotations

import errno
import re
from enum import StrEnum

from alignnet.errors import EnvironmentFault
from alignnet.stage_status import Reason, StageFailure, StageStatus


class FailureKind(StrEnum):
    PERMANENT = "permanent"
    RETRYABLE = "retryable"
    ENVIRONMENT = "environment"


# OS errors that say the machine is at fault, never the item.
ENVIRONMENT_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EIO,
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.ENOMEM,
        errno.EMFILE,
        errno.ENFILE,
        errno.ESTALE,
        errno.ECONNREFUSED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.ETIMEDOUT,
    }
)
# The same faults as tools print them (ffmpeg, yt-dlp, requests, urllib).
_ENVIRONMENT_TEXT = re.compile(
    r"No space left on device|Disk quota exceeded|Input/output error|Permission denied|Read-only file system"
    r"|Cannot allocate memory|Too many open files|Stale file handle"
    r"|Connection refused|Network is unreachable|No route to host|Temporary failure in name resolution"
    r"|Name or service not known|Failed to resolve|timed out|Read timeout|HTTP Error (?:408|429|5\d\d)\b",
    re.IGNORECASE,
)
# Failures of one transfer that a later try may not meet.
_RETRYABLE_TEXT = re.compile(
    r"Connection (?:reset|broken|aborted)|IncompleteRead|bytes read, \d+ more expected|Downloaded \d+ bytes, expected"
    r"|Remote end closed connection|HTTP Error 403\b",
    re.IGNORECASE,
)
# What yt-dlp says about a video that is gone for good.
_VERDICT_TEXT = re.compile(
    r"HTTP Error (?:400|401|404|410|451)\b|unavailable|private|removed|deleted|not available|no longer"
    r"|terminated|copyright|members[- ]only|sign in to confirm|no video formats|unsupported url",
    re.IGNORECASE,
)
_ALWAYS_PERMANENT = frozenset(Reason) - {Reason.NETWORK_ERROR, Reason.HTTP_ERROR, Reason.UNAVAILABLE}


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc`, its causes and contexts, and exceptions wrapped as yt-dlp's `exc_info`."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        inner = getattr(current, "exc_info", None)
        if isinstance(inner, tuple) and len(inner) > 1 and isinstance(inner[1], BaseException):
            todo.append(inner[1])
        todo += [current.__cause__, current.__context__]
    return seen


def classify_failure(exc: BaseException) -> FailureKind:
    """Whether `exc` is a verdict on the item, retryable, or a fault of the machine or network (module doc)."""
    chain = _chain(exc)
    for err in chain:
        if isinstance(err, OSError) and err.errno in ENVIRONMENT_ERRNOS:
            return FailureKind.ENVIRONMENT
        if isinstance(err, (TimeoutError, ConnectionRefusedError, MemoryError)):
            return FailureKind.ENVIRONMENT
    text = " ".join(err.detail if isinstance(err, StageFailure) else str(err) for err in chain)  # not the reason
    if _ENVIRONMENT_TEXT.search(text):
        return FailureKind.ENVIRONMENT
    if isinstance(exc, StageFailure) and exc.reason in _ALWAYS_PERMANENT:
        return FailureKind.PERMANENT
    if _RETRYABLE_TEXT.search(text):
        return FailureKind.RETRYABLE
    if isinstance(exc, StageFailure) and exc.reason is Reason.NETWORK_ERROR:
        return FailureKind.RETRYABLE
    if _VERDICT_TEXT.search(text) or isinstance(exc, StageFailure) and exc.reason is Reason.INVALID_URL:
        return FailureKind.PERMANENT
    return FailureKind.RETRYABLE if isinstance(exc, StageFailure) else FailureKind.ENVIRONMENT


def raise_if_environment(failure: StageFailure, where: str) -> FailureKind:
    """The kind of `failure`; raises EnvironmentFault (naming `where`) when the machine or network is at fault."""
    kind = classify_failure(failure)
    if kind is FailureKind.ENVIRONMENT:
        raise EnvironmentFault(f"{where}: {failure.detail}") from failure
    return kind


def failed_status(stage: str, failure: StageFailure, where: str) -> StageStatus:
    """The status to record for an item's `failure`; raises EnvironmentFault for a fault of the environment."""
    kind = raise_if_environment(failure, where)
    return StageStatus(
        stage, False, failure.reason, failure.detail, retryable=kind is FailureKind.RETRYABLE, origin=stage
    )
