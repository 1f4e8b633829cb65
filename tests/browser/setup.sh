#!/usr/bin/env bash
# Installs Debian's chromium for the report's real-browser test, once, and prints the
# browser's path on stdout. Exits non-zero (with a note on stderr) when it cannot be
# installed, so the test can skip with a note instead of failing on a machine without
# apt or root.
set -euo pipefail
for candidate in chromium chromium-browser; do
    if path="$(command -v "$candidate")"; then
        echo "$path"
        exit 0
    fi
done
if ! command -v apt-get >/dev/null; then
    echo "no apt-get: cannot install chromium" >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo -n"; else
        echo "not root and no sudo: cannot install chromium" >&2
        exit 1
    fi
fi
if ! apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    $sudo apt-get update >&2
fi
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends chromium >&2
command -v chromium
