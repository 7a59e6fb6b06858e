"""Compile librosa's numba gufuncs once, into a fresh cache, before anything runs in parallel.

librosa compiles its gufuncs when their modules are first imported and caches
them beside its sources. Processes compiling the same gufunc at once (pytest
workers, parallel Snakemake jobs) can leave cache files of two compilations
that do not fit together, after which every call segfaults (numba/numba#10128;
seen in `alignnet figures`' onset_detect). Run this once after installing into
an environment (scripts/setup.sh for .venv, envs/*.post-deploy.sh for
Snakemake's conda environments); later processes only read the cache.

    python -m alignnet.numba_cache
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

# the librosa modules that define cached numba functions
LIBROSA_MODULES = ("librosa.util.utils", "librosa.core.audio", "librosa.core.pitch", "librosa.sequence")
CACHE_SUFFIXES = (".nbi", ".nbc")


def librosa_dir() -> Path:
    """The installed librosa package's directory."""
    spec = importlib.util.find_spec("librosa")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("librosa is not installed in this environment")
    return Path(spec.origin).parent


def clear_cache(package_dir: Path) -> int:
    """Delete the numba cache files (.nbi index, .nbc code) under `package_dir`; returns how many."""
    removed = 0
    for path in package_dir.rglob("*"):
        if path.suffix in CACHE_SUFFIXES and path.is_file():
            path.unlink()
            removed += 1
    return removed


def compile_librosa() -> None:
    """Import the modules whose gufuncs numba compiles (and caches) on import."""
    for name in LIBROSA_MODULES:
        importlib.import_module(name)


def main() -> None:
    removed = clear_cache(librosa_dir())
    compile_librosa()
    print(f"numba_cache: librosa's gufuncs compiled afresh ({removed} old cache files removed)")


if __name__ == "__main__":
    main()
