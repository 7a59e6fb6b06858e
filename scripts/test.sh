#!/usr/bin/env bash
# The README's test command: set up, then run the whole test suite
# (including the slow end-to-end suites). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
