"""Shared test settings: the repository root and the venv's tools on PATH."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Subprocesses (snakemake, alignnet) must find the venv's console scripts.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO
