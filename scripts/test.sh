#!/usr/bin/env bash
# The test command: set up (idempotent, with the optional tune and ray extras the
# tests exercise), then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev,tune,ray
exec .venv/bin/python -m pytest "$@"
