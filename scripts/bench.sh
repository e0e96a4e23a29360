#!/usr/bin/env bash
# Builds sanji in Release (build-release/) and runs the end-to-end benchmark:
# 4 stations -> 2 hubs -> county, next to a plain SQLite baseline.
#   scripts/bench.sh [bench_e2e options, e.g. --n 5000]
# Results: printed, and written to tests/bench/results/e2e.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh
echo "== building (build-release/, Release)"
# Only the benchmark and the binaries it runs (not the test programs).
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j "$(nproc)" --target bench_e2e >/dev/null
echo "== bench_e2e $*"
build-release/tests/bench/bench_e2e "$@"
