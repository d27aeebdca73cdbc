#!/usr/bin/env bash
# Creates .venv (once) and installs seismag with its dependencies into it.
# Usage: scripts/setup.sh [EXTRAS]   e.g. "dev,tune,ray" (default: dev)
# SEISMAG_VENV names another environment folder (default .venv): the aeon extra's tests
# run in their own, because aeon moves NumPy back below 2.4.
# torch goes in first from the pinned CPU build, so the package's torch>=2.1
# requirement is already satisfied and pip never pulls a multi-GB CUDA build.
# Override with SEISMAG_TORCH_SPEC (e.g. "torch==2.3.1") where 2.13.0 is not available.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=${1:-dev}
PY=${PYTHON:-python3}
VENV=${SEISMAG_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
VPY=$VENV/bin/python
if ! "$VPY" -c "import torch" >/dev/null 2>&1; then
  "$VPY" -m pip install --quiet --upgrade pip
  "$VPY" -m pip install --quiet "${SEISMAG_TORCH_SPEC:-torch==2.13.0}"
fi
# Reinstall only when pyproject.toml changed since the last install with these extras.
stamp="$VENV/.seismag-installed-${EXTRAS//,/-}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  "$VPY" -m pip install --quiet -e ".[$EXTRAS]"
  touch "$stamp"
fi
