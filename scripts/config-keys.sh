#!/usr/bin/env bash
# The config key tables of README.md and packaging/CONFIG.md, generated from
# the tools' option tables (TOOL --print-config-keys, common/sj_cfg.c), so
# the docs cannot drift from the code.
#
#   scripts/config-keys.sh BUILD_DIR           rewrite the tables in place
#   scripts/config-keys.sh --check BUILD_DIR   exit 1 when a table is stale
#
# A table sits between the lines "<!-- config-keys TOOL -->" and
# "<!-- /config-keys TOOL -->". --check also checks, for every command of
# every tool (the "commands:" block of TOOL --help), that COMMAND --help says
# where its keys go ([COMMAND]) and that every option its --help names is a
# key of [COMMAND] (except help, version and config, which are never keys).
set -euo pipefail

check=0
if [[ ${1:-} == --check ]]; then
    check=1
    shift
fi
build=${1:?usage: config-keys.sh [--check] BUILD_DIR}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
docs=("$src/README.md" "$src/packaging/CONFIG.md")
tools=(village-agent township-hub county-server)
failed=0

fail() {
    echo "config-keys: $*" >&2
    failed=1
}

bin_of() {
    echo "$build/$1/$1"
}

# Replaces (or, with --check, compares) the block of tool $2 in file $1.
block() {
    local file=$1 tool=$2 table=$3
    local begin="<!-- config-keys $tool -->" end="<!-- /config-keys $tool -->"
    grep -qxF -- "$begin" "$file" || { fail "${file#"$src"/}: no '$begin' line"; return; }
    grep -qxF -- "$end" "$file" || { fail "${file#"$src"/}: no '$end' line"; return; }
    local now
    now=$(awk -v b="$begin" -v e="$end" '$0 == e {inside = 0} inside {print} $0 == b {inside = 1}' "$file")
    if [[ $now == "$table" ]]; then
        return
    fi
    if ((check)); then
        fail "${file#"$src"/}: the key table of $tool is out of date (run scripts/config-keys.sh $build)"
        diff <(echo "$now") <(echo "$table") >&2 || true
        return
    fi
    local tmp
    tmp=$(mktemp)
    awk -v b="$begin" -v e="$end" -v t="$table" '
        $0 == b {print; print t; skip = 1; next}
        $0 == e {skip = 0}
        !skip {print}' "$file" >"$tmp"
    cat "$tmp" >"$file"
    rm -f "$tmp"
    echo "config-keys: updated the $tool table in ${file#"$src"/}"
}

for tool in "${tools[@]}"; do
    bin=$(bin_of "$tool")
    [[ -x $bin ]] || { fail "$bin is not built"; continue; }
    table=$("$bin" --print-config-keys)
    for f in "${docs[@]}"; do
        block "$f" "$tool" "$table"
    done
    ((check)) || continue

    help=$("$bin" --help)
    commands=$(sed -n '/^commands:/,/^$/p' <<<"$help" | sed -n 's/^  \([a-z][a-z-]*\).*/\1/p' | sort -u)
    [[ -n $commands ]] || fail "$tool --help lists no commands"
    for c in $commands; do
        row=$(grep -F -- "\`[$c]\`" <<<"$table" || true)
        [[ -n $row ]] || { fail "$tool: no row for [$c] in the key table"; continue; }
        chelp=$("$bin" "$c" --help)
        grep -qF -e "[$c]" -e "[COMMAND]" <<<"$chelp" \
            || fail "$tool $c --help does not say that its options are keys of [$c]"
        # The options a help describes: those on lines that start with them.
        opts=$(grep -E '^ +(-h, )?--[a-z]' <<<"$chelp" | grep -o -- '--[a-z][a-z-]*' | sort -u || true)
        for o in $opts; do
            k=${o#--}
            case $k in help | version | config) continue ;; esac
            grep -qF -- "\`$k\`" <<<"${row#*|*|}" \
                || fail "$tool $c --help names $o, which is not a key of [$c]"
        done
    done
done

if ((failed)); then
    exit 1
fi
if ((check)); then
    echo "config-keys: the key tables are up to date and every option of every command is a key"
fi
