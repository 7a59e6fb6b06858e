"""Shared test settings: the repository root, the venv's tools on PATH, hypothesis without deadlines."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# No per-example deadline: on the shared 2-core machine under load (a training beside the tests), examples of
# tests/test_distort.py took 260-620 ms against hypothesis's default 200 ms and failed as DeadlineExceeded.
settings.register_profile("alignnet", deadline=None)
settings.load_profile("alignnet")

REPO = Path(__file__).resolve().parent.parent

# Subprocesses (snakemake, alignnet) must find the venv's console scripts.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO
