#!/usr/bin/env bash
# Installs the Python engines the interoperability test reads the store with (DuckDB
# and polars, pinned) into a virtual environment outside the checkout, once.
# Prints the environment's python path on stdout.
set -euo pipefail
venv="${PIPESCOPE_PYENV:-$HOME/.cache/pipescope-pyenv}"
want="duckdb==1.4.4 polars==1.35.2"
stamp="$venv/.installed"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    python3 -m venv "$venv" >&2
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $want >&2
    echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
