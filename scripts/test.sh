#!/usr/bin/env bash
# Runs all the tests: installs dependencies, then builds and runs ctest in a
# normal build (build/) and in an AddressSanitizer + UBSan build (build-asan/),
# then fuzzes the frame decoder and the JSON import for 60 s each
# (scripts/fuzz.sh, build-fuzz/). Before the tests: the tree's format
# (clang-format --dry-run --Werror, .clang-format) and cppcheck over the
# normal build's compile commands.
#   SANJI_QUICK=1 scripts/test.sh    normal build only
# Exits non-zero if any build or test fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh

failed=()
# Tests in parallel (they take free ports and their own directories, and gate
# on observable state, so busy cores slow them but do not break them).
jobs=$(nproc)
((jobs < 2)) && jobs=2
((jobs > 4)) && jobs=4

echo "== format (clang-format --dry-run --Werror)"
if [[ -d .git ]] || git rev-parse --git-dir >/dev/null 2>&1; then
    mapfile -t sources < <(git ls-files '*.c' '*.h')
else
    mapfile -t sources < <(find common county-server township-hub village-agent tests \
        -name '*.c' -o -name '*.h')
fi
clang-format --dry-run --Werror "${sources[@]}" || failed+=("format (clang-format -i the files named)")

echo "== normal build (build/)"
if bash scripts/build.sh build; then
    echo "== cppcheck"
    cppcheck --project=build/compile_commands.json --enable=warning,performance,portability \
        --error-exitcode=1 --quiet -j "$jobs" --max-configs=1 \
        --suppress=preprocessorErrorDirective -i build/ || failed+=("cppcheck")
    (cd build && ctest -j "$jobs" --output-on-failure) || failed+=("tests (build)")
else
    failed+=("build (build)")
fi

if [[ ${SANJI_QUICK:-0} != 1 ]]; then
    echo "== ASan + UBSan build (build-asan/)"
    if bash scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DSANJI_SANITIZE=ON; then
        (cd build-asan &&
            ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
            ctest -j "$jobs" --output-on-failure) || failed+=("tests (build-asan)")
    else
        failed+=("build (build-asan)")
    fi

    echo "== fuzzing (build-fuzz/)"
    bash scripts/fuzz.sh 60 || failed+=("fuzzing (build-fuzz)")
fi

if ((${#failed[@]} > 0)); then
    printf '== FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "== all tests passed"
