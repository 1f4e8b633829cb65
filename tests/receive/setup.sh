#!/usr/bin/env bash
# Installs the real OpenTelemetry producers the tests run (the Python SDK with its
# OTLP/HTTP, OTLP/gRPC and Zipkin JSON exporters, pytest and pytest-otel, pinned together: the
# pytest-otel release pins the SDK and pytest versions it was built with) into a
# virtual environment outside the checkout, once. Prints the python path on stdout.
set -euo pipefail
venv="${PIPESCOPE_OTEL_PYENV:-$HOME/.cache/pipescope-otel-pyenv}"
want="opentelemetry-api==1.45.1 opentelemetry-sdk==1.45.1 opentelemetry-exporter-otlp-proto-http==1.45.1 opentelemetry-exporter-otlp-proto-grpc==1.45.1 opentelemetry-exporter-zipkin-json==1.45.1 pytest==9.1.1 pytest-otel==2.5.1"
stamp="$venv/.installed"
# Several tests may call this at once: one installs, the others wait.
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
