#!/usr/bin/env bash
# The test command: set up (idempotent, with the optional tune and ray extras the
# tests exercise), then run the whole suite.
#
# SEISMAG_TEST_AEON=1 (CI sets it) then also runs the tests the optional aeon extra
# changes (its models in the registry-wide checks, the UCR reproductions that need
# aeon's data) in a second environment, .venv-aeon: aeon moves NumPy back below 2.4,
# so the main suite keeps the NumPy a user without the extra gets.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev,tune,ray
if [ "${SEISMAG_TEST_AEON:-0}" != 1 ]; then
  exec .venv/bin/python -m pytest "$@"
fi
.venv/bin/python -m pytest "$@"
SEISMAG_VENV=.venv-aeon bash scripts/setup.sh dev,aeon
exec .venv-aeon/bin/python -m pytest tests/models tests/inference/test_explain.py
