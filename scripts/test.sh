#!/usr/bin/env bash
# The README's test command: set up, then run the whole test suite in three pytest runs:
# the default tests, the slow end-to-end suites, the fault suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian packages of the single-node SLURM that tests/test_slurm.py starts.
bash scripts/setup.sh slurm-wlm slurmdbd munge mariadb-server
# Two pytest workers (pytest-xdist), one test file each at a time: the slow end-to-end
# suites run side by side. ALIGNNET_TEST_WORKERS=0 runs in one process (for -s, --pdb).
# With arguments, one pytest run of exactly those (e.g. a file, -k, -m 'not slow').
if (($#)); then
  exec .venv/bin/python -m pytest -n "${ALIGNNET_TEST_WORKERS:-2}" --dist loadfile "$@"
fi
# The default run: every test but the slow end-to-end suites and the fault suite.
.venv/bin/python -m pytest -n "${ALIGNNET_TEST_WORKERS:-2}" --dist loadfile -m "not slow and not faults"
# Then the slow end-to-end suites (the demo workflow, SLURM, the real run's commands, lips, ...).
.venv/bin/python -m pytest -n "${ALIGNNET_TEST_WORKERS:-2}" --dist loadfile -m "slow and not faults"
# Then the fault suite (docs/reliability.md): real kill -9, Ctrl-C, a full disk on a tmpfs and
# a site going down, one test at a time so that nothing else moves the moment a signal lands.
exec .venv/bin/python -m pytest -p no:xdist -m faults
