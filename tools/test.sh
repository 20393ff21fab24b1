#!/usr/bin/env bash
# The test command (README). On a fresh Debian 12 machine it installs what it needs, then builds
# and runs every test:
#   1. the frontend's unit tests and build (npm ci, npm test, npm run build);
#   2. every C++ suite in a debug build with warnings as errors (ctest --preset dev);
#   3. the same suites under AddressSanitizer + UBSan (ctest --preset asan);
#   4. the browser tests: headless Chromium against the real server and the test portal.
# Exits non-zero at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
stage() { echo; echo "== $1 ($((SECONDS - started)) s)"; }

stage "dependencies"
tools/install-deps.sh

stage "frontend: unit tests and build"
(cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm test && npm run --silent build)

stage "dev build (Debug, -Werror)"
cmake --preset dev >/dev/null
cmake --build --preset dev
stage "dev tests"
ctest --preset dev

stage "asan build (ASan + UBSan)"
cmake --preset asan >/dev/null
cmake --build --preset asan
stage "asan tests"
ctest --preset asan

stage "browser tests"
B24SEG_E2E_SKIP_BUILD=1 tests/e2e/run.sh build/dev/tests/demo/b24seg-demo

stage "all tests passed"
