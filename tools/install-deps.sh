#!/usr/bin/env bash
# Installs everything b24seg needs to build, test and run, from Debian's archive only.
# Safe to run again: packages already present are skipped without touching the network.
#   tools/install-deps.sh          C++ toolchain, libraries, Node.js, Chromium (for browser tests)
#   tools/install-deps.sh --no-browser   the same without Chromium (the run command needs no browser)
set -euo pipefail

want_browser=1
[[ "${1:-}" == "--no-browser" ]] && want_browser=0

packages=(
    g++ cmake ninja-build pkg-config make
    libcpp-httplib-dev libmicrohttpd-dev nlohmann-json3-dev libspdlog-dev libsqlitecpp-dev
    libsqlite3-dev
    libcurl4-openssl-dev zlib1g-dev libgtest-dev libgmock-dev
    ca-certificates
)
# Node.js: keep the machine's own if it has one (a newer nodejs may be installed from elsewhere,
# and Debian's npm package would conflict with it).
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
command -v npm >/dev/null 2>&1 || packages+=(npm)
(( want_browser )) && packages+=(chromium)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if (( ${#missing[@]} == 0 )); then
    exit 0
fi

sudo=()
if (( EUID != 0 )); then
    sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
