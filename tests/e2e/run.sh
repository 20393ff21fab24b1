#!/usr/bin/env bash
# Browser tests against the real server and the test portal.
#   tests/e2e/run.sh <path-to-b24seg-demo> [extra arguments for node --test]
# Builds the frontend (npm ci + npm run build), installs playwright-core (npm ci; it never
# downloads a browser: the tests drive Debian's /usr/bin/chromium), starts the demo launcher on
# 127.0.0.1 with ports picked at run time, waits for its ready.json, runs every spec, stops the
# demo through its PID, and exits non-zero on any failure. Screenshots, the first-screen time
# and the demo's log land in tests/e2e/artifacts/.
# Environment: B24SEG_E2E_SKIP_BUILD=1 skips the frontend build (dist must exist);
# B24SEG_E2E_READY_TIMEOUT (seconds, default 600) bounds the wait for the demo;
# B24SEG_CHROMIUM overrides the browser path.
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 <path-to-b24seg-demo> [node --test arguments]" >&2
    exit 2
fi
demo=$(realpath "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
artifacts="$here/artifacts"

if [[ ! -x "$demo" ]]; then
    echo "e2e: demo launcher not found or not executable: $demo" >&2
    exit 2
fi
chromium=${B24SEG_CHROMIUM:-/usr/bin/chromium}
if [[ ! -x "$chromium" ]]; then
    echo "e2e: $chromium is missing (tools/install-deps.sh installs Debian's chromium)" >&2
    exit 2
fi

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [[ "${B24SEG_E2E_SKIP_BUILD:-0}" != 1 ]]; then
    echo "== e2e: building the frontend =="
    (cd "$root/frontend" && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
fi
[[ -f "$root/frontend/dist/index.html" ]] || { echo "e2e: frontend/dist/index.html is missing" >&2; exit 2; }
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

rm -rf "$artifacts"
mkdir -p "$artifacts"
work=$(mktemp -d "${TMPDIR:-/tmp}/b24seg-e2e.XXXXXX")
mkdir -p "$work/data"
demo_pid=""

stop_demo() {
    if [[ -n "$demo_pid" ]] && kill -0 "$demo_pid" 2>/dev/null; then
        kill -TERM "$demo_pid" 2>/dev/null || true
        local deadline=$((SECONDS + 15))
        while kill -0 "$demo_pid" 2>/dev/null && ((SECONDS < deadline)); do
            sleep 0.1
        done
        if kill -0 "$demo_pid" 2>/dev/null; then
            echo "e2e: demo did not stop on SIGTERM; killing PID $demo_pid" >&2
            kill -KILL "$demo_pid" 2>/dev/null || true
        fi
        wait "$demo_pid" 2>/dev/null || true
    fi
    demo_pid=""
    [[ -f "$work/demo.log" ]] && cp "$work/demo.log" "$artifacts/demo.log"
    rm -rf "$work"
}
trap stop_demo EXIT
trap 'exit 130' INT TERM

echo "== e2e: starting the demo =="
"$demo" --listen 127.0.0.1:0 --data-dir "$work/data" --scale demo \
    --frontend-dir "$root/frontend/dist" --shell-dir "$root/tests/fakeportal/shell" \
    --ready-file "$work/ready.json" >"$work/demo.log" 2>&1 &
demo_pid=$!

# Poll for ready.json (complete JSON) with a deadline; fail early if the demo dies.
deadline=$((SECONDS + ${B24SEG_E2E_READY_TIMEOUT:-600}))
until [[ -s "$work/ready.json" ]] && node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$work/ready.json" 2>/dev/null; do
    if ! kill -0 "$demo_pid" 2>/dev/null; then
        echo "e2e: the demo exited before it was ready; its log:" >&2
        tail -n 50 "$work/demo.log" >&2 || true
        exit 1
    fi
    if ((SECONDS >= deadline)); then
        echo "e2e: the demo was not ready in time; its log:" >&2
        tail -n 50 "$work/demo.log" >&2 || true
        exit 1
    fi
    sleep 0.2
done
echo "e2e: demo ready after ${SECONDS}s: $(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(r.shellUrl)' "$work/ready.json")"

echo "== e2e: browser tests =="
status=0
B24SEG_READY="$work/ready.json" node --test --test-concurrency=1 "$@" "$here"/specs/*.spec.mjs || status=$?
if ((status == 0)); then
    echo "e2e: screenshots in $artifacts:"
    ls -1 "$artifacts"/*.png 2>/dev/null | sed 's/^/  /'
fi
exit "$status"
