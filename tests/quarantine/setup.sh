#!/bin/sh
# Installs the test runners tests/quarantine.rs runs for real, once, under ~/.cache:
# pytest in a venv. Prints the venv's python on stdout; exits non-zero when it cannot.
# (cargo-nextest is expected on PATH; the test says so when it is not.)
set -eu
VENV="${PIPESCOPE_QUARANTINE_VENV:-$HOME/.cache/pipescope-quarantine-venv}"
if ! "$VENV/bin/python" -c 'import pytest' >/dev/null 2>&1; then
    python3 -m venv "$VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check 'pytest>=8.2,<9' >&2
fi
echo "$VENV/bin/python"
