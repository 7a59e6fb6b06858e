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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The `faults` tests (about 12 minutes) run only when asked for: `-m faults` or ALIGNNET_FAULT_TESTS=1."""
    if "faults" in (config.option.markexpr or "") or os.environ.get("ALIGNNET_FAULT_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="fault runs take minutes: run with -m faults or ALIGNNET_FAULT_TESTS=1")
    for item in items:
        if "faults" in item.keywords:
            item.add_marker(skip)
