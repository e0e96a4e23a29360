#!/usr/bin/env bash
# Configures and builds sanji.
#   scripts/build.sh [BUILD_DIR] [extra cmake args...]
# BUILD_DIR defaults to "build" (relative to the repository root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir=${1:-build}
if (($# > 0)); then shift; fi

cmake -S . -B "$build_dir" "$@"
cmake --build "$build_dir" -j "$(nproc)"
