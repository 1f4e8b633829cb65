#!/usr/bin/env bash
# Installs the OpenTelemetry Python SDK with its OTLP and Zipkin JSON exporters (pinned
# together) into a virtual environment outside the checkout, once, for the Tekton-style
# task scripts of tests/runs_without_pipeline_span.rs. Prints the python path on stdout.
set -euo pipefail
venv="${PIPESCOPE_TEKTON_PYENV:-$HOME/.cache/pipescope-tekton-pyenv}"
want="opentelemetry-api==1.45.1 opentelemetry-sdk==1.45.1 opentelemetry-exporter-otlp-proto-http==1.45.1 opentelemetry-exporter-zipkin-json==1.45.1"
stamp="$venv/.installed"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    python3 -m venv "$venv" >&2
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $want >&2
    echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
