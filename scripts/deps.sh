#!/usr/bin/env bash
# Installs what sanji needs to build and test (Debian 12 packages).
# Idempotent: when every package is already installed, apt is not touched.
# Uses sudo only when not run as root.
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    libzmq3-dev libprotobuf-c-dev protobuf-c-compiler libsqlite3-dev
    libcmocka-dev libsodium-dev libcjson-dev libinih-dev libxlsxwriter-dev python3-openpyxl
    sqlite3 valgrind
    libmicrohttpd-dev libjs-chart.js chromium chromium-driver fonts-wqy-microhei
    dpkg-dev lintian fakeroot scdoc man-db systemd gettext
    libfaketime cppcheck clang-format
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    [[ $status == ii* ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
    echo "deps: all ${#packages[@]} packages already installed"
    exit 0
fi

sudo=()
if ((EUID != 0)); then
    command -v sudo >/dev/null || { echo "deps: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
