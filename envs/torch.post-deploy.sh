#!/usr/bin/env bash
# Snakemake runs this in the new environment once it is created: compile
# librosa's numba gufuncs before parallel jobs do (see alignnet/numba_cache.py).
set -euo pipefail
python -m alignnet.numba_cache
