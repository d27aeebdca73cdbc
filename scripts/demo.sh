#!/usr/bin/env bash
# The main command: set up (idempotent), then run the demo on built-in synthetic data.
# Extra arguments go to `seismag demo` (e.g. --out DIR, --models gru,mlp, --tiny).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/seismag demo "$@"
