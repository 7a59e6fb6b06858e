"""The GPUs this process may use, and one of them claimed for a job (one GPU job per GPU on a machine).

`visible_gpus()` reads CUDA_VISIBLE_DEVICES (set by SLURM for a job with a
GPU, or by the user), else asks `nvidia-smi -L`. The workflow bounds its
local `gpu` resource by their count; `claim_gpu()` then gives each GPU job
a GPU no other job holds, with an advisory lock file per GPU (released
when the process ends, however it ends).
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

VISIBLE_ENV = "CUDA_VISIBLE_DEVICES"
LOCK_DIR_ENV = "ALIGNNET_GPU_LOCKS"


def visible_gpus(env: Mapping[str, str] = os.environ) -> list[str]:
    """The GPU ids a CUDA program started here would see: CUDA_VISIBLE_DEVICES's entries, else one per
    GPU `nvidia-smi -L` lists; [] without either. ("" or "-1" hides every GPU, as CUDA reads them.)"""
    value = env.get(VISIBLE_ENV)
    if value is not None:
        ids: list[str] = []
        for item in value.split(","):
            item = item.strip()
            if not item or item.startswith("-"):
                break  # CUDA stops at the first invalid entry
            ids.append(item)
        return ids
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        listing = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("nvidia-smi -L failed (%s): counting no GPU", exc)
        return []
    return [str(i) for i, line in enumerate(line for line in listing.splitlines() if line.startswith("GPU "))]


def default_lock_dir() -> Path:
    """$ALIGNNET_GPU_LOCKS, else a folder of the user's in the temporary directory (one per machine)."""
    return Path(os.environ.get(LOCK_DIR_ENV) or Path(tempfile.gettempdir()) / f"alignnet-gpu-locks-{os.getuid()}")


@contextmanager
def claim_gpu(lock_dir: Path | None = None, poll_seconds: float = 1.0) -> Iterator[str | None]:
    """One visible GPU held for the duration of the block: its id (waits while all are held), the only one
    when one is visible (no lock: e.g. SLURM's), None when none is. Locks live in `lock_dir`."""
    gpus = visible_gpus()
    if len(gpus) <= 1:
        yield gpus[0] if gpus else None
        return
    folder = lock_dir or default_lock_dir()
    folder.mkdir(parents=True, exist_ok=True)
    waited = False
    while True:
        for gpu in gpus:
            handle = (folder / f"gpu-{gpu}.lock").open("w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            try:
                log.info("claimed GPU %s (lock %s)", gpu, handle.name)
                yield gpu
            finally:
                handle.close()  # closing releases the lock
            return
        if not waited:
            log.warning("all visible GPUs (%s) are held by other jobs: waiting for one", ",".join(gpus))
            waited = True
        time.sleep(poll_seconds)
