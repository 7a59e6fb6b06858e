#!/usr/bin/env bash
# The README's test command: set up, then run the whole test suite
# (including the slow end-to-end suites). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian packages of the single-node SLURM that tests/test_slurm.py starts.
bash scripts/setup.sh slurm-wlm slurmdbd munge mariadb-server
# Two pytest workers (pytest-xdist), one test file each at a time: the slow end-to-end
# suites run side by side. ALIGNNET_TEST_WORKERS=0 runs in one process (for -s, --pdb).
exec .venv/bin/python -m pytest -n "${ALIGNNET_TEST_WORKERS:-2}" --dist loadfile "$@"
