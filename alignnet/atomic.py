"""Write files and folders so that a crash never leaves a half-written output behind.

Temporaries live beside their target under a fixed name, `.STEM.partial.SUFFIX`
for a file and `.NAME.partial` for a folder: a write killed half-way (kill -9,
a lost node) leaves one hidden temporary, and the next write of the same
target (the rerun of the job) removes it first. They never pile up.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

PARTIAL = ".partial"


def partial_path(path: str | os.PathLike[str]) -> Path:
    """The temporary of `path`: a hidden sibling that keeps its suffix (.npz, .mp4) for tools that infer a format."""
    target = Path(path)
    return target.with_name(f".{target.stem}{PARTIAL}.tmp{target.suffix}")


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` on success.

    The temporary is an empty file (a leftover of a killed write is replaced)
    with the permissions a plain open() gives; it is removed on error.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = partial_path(target)
    tmp_path.unlink(missing_ok=True)
    tmp_path.touch()
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a staging folder beside the folder `path`; rename it onto `path` once the block has finished.

    The staging folder starts with what `path` already holds (moved, not
    copied), so that a command may update a folder in place. A leftover
    staging folder of a killed job is removed first; on error the staging
    folder is removed, so `path` either appears whole or not at all.
    """
    target = Path(path)
    staging = target.with_name(f".{target.name}{PARTIAL}")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(staging, ignore_errors=True)
    if target.is_dir():
        os.replace(target, staging)
    else:
        staging.mkdir()
    try:
        yield staging
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
