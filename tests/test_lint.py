"""`ruff check` and `ruff format --check` (pyproject.toml's [tool.ruff]) pass on the package, the tests, the benchmarks
and the workflow's Python: run `ruff format alignnet tests benchmarks workflow` before committing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATHS = ("alignnet", "tests", "benchmarks", "workflow")


def _ruff() -> str:
    """The ruff of this environment (requirements.txt pins it), else the one on PATH."""
    beside = Path(sys.executable).with_name("ruff")
    found = str(beside) if beside.exists() else shutil.which("ruff")
    assert found, "ruff is not installed: scripts/setup.sh installs requirements.txt"
    return found


def test_ruff_check_passes() -> None:
    result = subprocess.run(
        [_ruff(), "check", "--no-cache", "--output-format", "concise", *PATHS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_leaves_every_file_as_it_is() -> None:
    result = subprocess.run(
        [_ruff(), "format", "--check", "--no-cache", *PATHS], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, "run `ruff format " + " ".join(PATHS) + "`:\n" + result.stdout + result.stderr
