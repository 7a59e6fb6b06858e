#!/usr/bin/env bash
# The README's demo command: set up, generate the demo corpus, serve it on
# loopback, and run the demo workflow end to end (config/demo.yaml).
# Extra arguments go to snakemake (e.g. --forceall, -n, a target rule).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
exec alignnet demo "$@"
