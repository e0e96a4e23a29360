#!/usr/bin/env bash
# Runs the libFuzzer targets (tests/fuzz/) for SECONDS each (default 60):
#   scripts/fuzz.sh [SECONDS]
# Installs clang and its fuzzer runtime if missing, builds build-fuzz/
# (clang, -DSANJI_FUZZ=ON: libFuzzer + ASan + UBSan), then runs fuzz_wire and
# fuzz_import on a COPY of their seed corpus (tests/fuzz/corpus/<name>), so
# the checked-in corpus never changes. Exits non-zero if a build fails or a
# fuzzer finds a crash, leak or timeout; the reproducer (crash-*, leak-*,
# timeout-*) is kept in build-fuzz/fuzz-artifacts/<name>/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${1:-60}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: scripts/fuzz.sh [SECONDS]   (a positive whole number; default 60)" >&2
    exit 2
fi

# clang, and libclang-rt-14-dev for libclang_rt.fuzzer (the way deps.sh installs).
packages=(clang libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    [[ $status == ii* ]] || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
    sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || { echo "fuzz: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
        sudo=(sudo)
    fi
    echo "fuzz: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update
    "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

echo "== fuzz build (build-fuzz/)"
CC=clang cmake -S . -B build-fuzz -DSANJI_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_wire fuzz_import

work=$(mktemp -d "${TMPDIR:-/tmp}/sanji-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT

failed=()
for name in wire import; do
    target=build-fuzz/tests/fuzz/fuzz_$name
    corpus=$work/corpus-$name
    artifacts=build-fuzz/fuzz-artifacts/$name
    cp -r "tests/fuzz/corpus/$name" "$corpus"
    rm -rf "$artifacts" # only this run's findings
    mkdir -p "$artifacts"
    echo "== fuzz_$name for ${seconds} s ($(find "$corpus" -type f | wc -l) seeds)"
    if "$target" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" >"$work/$name.log" 2>&1; then
        grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|Done [0-9]+ runs)' "$work/$name.log" || true
    else
        failed+=("fuzz_$name")
        tail -n 60 "$work/$name.log" >&2
        echo "fuzz: fuzz_$name failed; reproducer in $artifacts/:" >&2
        ls -l "$artifacts" >&2
    fi
done

if ((${#failed[@]} > 0)); then
    printf '== FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "== fuzzing found nothing in ${seconds} s per target"
