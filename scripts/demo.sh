#!/usr/bin/env bash
# The README's demo command: set up, generate the demo corpus, serve it on
# loopback, and run the demo workflow end to end: the quick demo
# (config/demo.yaml, about 15 minutes on 2 cores), or with --full the full one
# (config/demo-full.yaml, in demo-full/). Arguments go to `alignnet demo`;
# those after -- to snakemake (e.g. -- --forceall, -- -n, -- split).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
exec alignnet demo "$@"
