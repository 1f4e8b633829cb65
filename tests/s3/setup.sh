#!/usr/bin/env bash
# Installs the S3-compatible server the bucket tests run against (moto's server,
# pinned, from PyPI) into a virtual environment outside the checkout, once.
# Prints the path of its `moto_server` on stdout.
set -euo pipefail
venv="${PIPESCOPE_S3_ENV:-$HOME/.cache/pipescope-s3-venv}"
want="moto[server]==5.2.5"
stamp="$venv/.installed"
if [ ! -x "$venv/bin/moto_server" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    python3 -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$want" >&2
    echo "$want" > "$stamp"
fi
echo "$venv/bin/moto_server"
