"""Keep MediaPipe's native start-up notices out of the process's stderr.

When a MediaPipe 0.10.14 graph starts, its C++ side writes lines that no
setting turns off (not TF_CPP_MIN_LOG_LEVEL, not GLOG_minloglevel: absl logs
before it is initialised): TFLite's "Created TensorFlow Lite XNNPACK
delegate", absl's "All log messages before absl::InitializeLog()" and the
inference feedback manager's warnings. Unfiltered, they land in the middle of
every pose run's progress bar. `without_native_notices` points file
descriptor 2 at a spill file while the graph starts, then writes back
everything else that arrived there (from any thread), so nothing but those
lines is dropped. ALIGNNET_NATIVE_LOGS=1 turns the filter off.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

# The notices, each a whole line (possibly written right after a progress bar's carriage-return update).
MEDIAPIPE_NOTICES = re.compile(
    rb"INFO: Created TensorFlow Lite XNNPACK delegate for CPU\.\n"
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR\n"
    rb"|W0000 [^\n]*inference_feedback_manager\.cc:\d+\] [^\n]*\n"
)
SHOW_ENV = "ALIGNNET_NATIVE_LOGS"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


@contextmanager
def without_native_notices(pattern: re.Pattern[bytes] = MEDIAPIPE_NOTICES) -> Iterator[None]:
    """Drop the lines matching `pattern` that anything in this process writes to fd 2 inside the block."""
    if os.environ.get(SHOW_ENV) == "1":
        yield
        return
    sys.stderr.flush()  # what Python has buffered goes out first, in order
    with tempfile.TemporaryFile() as spill:
        saved = os.dup(2)
        os.dup2(spill.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            spill.seek(0)
            kept = pattern.sub(b"", spill.read())
            if kept:
                _write_all(2, kept)
