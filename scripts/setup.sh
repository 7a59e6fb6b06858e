#!/usr/bin/env bash
# Install what alignnet needs, idempotently: Debian packages (apt-get) and the
# project virtual environment at .venv (pip, pinned by requirements.txt).
# A second run checks and returns in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(ffmpeg espeak-ng libchromaprint-tools drascula-music asc-music)  # the music two for tests/test_general.py
# Extra Debian packages a caller needs (e.g. the SLURM test cluster) come as arguments.
APT_PACKAGES+=("$@")

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)" >&2
  "$PYTHON" -m venv .venv
fi

# Reinstall only when the pins or the package metadata changed.
stamp=.venv/.alignnet-setup
want=$(cat requirements.txt requirements-no-deps.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages into .venv (first run: a few minutes)" >&2
  # torch first and alone: pip takes the CPU wheel on this disk for this exact version.
  .venv/bin/pip install -q --disable-pip-version-check "$(grep '^torch==' requirements.txt)"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  .venv/bin/pip install -q --disable-pip-version-check --no-deps -r requirements-no-deps.txt
  .venv/bin/pip install -q --disable-pip-version-check --no-deps -e .
  # Compile librosa's numba gufuncs once, before anything runs in parallel (see alignnet/numba_cache.py).
  .venv/bin/python -m alignnet.numba_cache
  echo "$want" > "$stamp"
fi
