#!/usr/bin/env bash
# The run command (README): the b24seg app server with a built-in test portal.
#   tools/run-demo.sh [--verbose] [other b24seg-demo options]
# Installs what is missing (Debian packages, no browser), builds the demo launcher in the release
# preset and the frontend (npm ci && npm run build), then starts the demo with its data under
# build/demo-data. It generates a realistic CRM in the test portal, installs the app the way a
# portal does, runs the first sync and prints the URL of a portal-like page with the app inside.
# B24SEG_DEMO_PORT picks the app server's port (default: any free one). Ctrl+C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh --no-browser

echo "== building the demo launcher (release) =="
cmake --preset release >/dev/null
cmake --build --preset release --target b24seg-demo

echo "== building the frontend =="
(cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)

mkdir -p build/demo-data
echo "== starting the demo =="
exec build/release/tests/demo/b24seg-demo \
    --listen "127.0.0.1:${B24SEG_DEMO_PORT:-0}" \
    --data-dir build/demo-data \
    --scale demo \
    --frontend-dir frontend/dist \
    --shell-dir tests/fakeportal/shell \
    "$@"
