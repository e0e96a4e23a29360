#!/usr/bin/env bash
# Compares this tree with an older commit in the same run: builds REV in a
# temporary worktree (Release), then runs the throughput and backlog
# scenarios alternately with each build's own bench_load and binaries
# (old, new, old, new, ...), so that whatever else the machine does weighs
# on both alike. Prints each run and the medians with the new/old ratio.
#
#   tests/bench/compare.sh REV [REPEAT]      (REPEAT default 3)
# Environment: SANJI_CMP_N (reports per station, throughput; default 25000),
# SANJI_CMP_BACKLOG (reports in all, backlog; default 1000000).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
rev=${1:?usage: tests/bench/compare.sh REV [REPEAT]}
repeat=${2:-3}
n=${SANJI_CMP_N:-25000}
backlog=${SANJI_CMP_BACKLOG:-1000000}
command -v jq >/dev/null || { echo "compare: needs jq (apt-get install -y jq)" >&2; exit 2; }

old=$(mktemp -d /tmp/sanji-cmp-XXXXXX)
results=$(mktemp -d /tmp/sanji-cmp-results-XXXXXX)
cleanup() { git worktree remove --force "$old" >/dev/null 2>&1 || rm -rf "$old"; }
trap cleanup EXIT
git worktree add -q --detach "$old" "$rev"
targets=(bench_load township-hub county-server)
echo "== building $rev ($old/build-release) and this tree (build-release)"
cmake -S "$old" -B "$old/build-release" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$old/build-release" -j "$(nproc)" --target "${targets[@]}" >/dev/null
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j "$(nproc)" --target "${targets[@]}" >/dev/null

loadavg() { cut -d' ' -f1 /proc/loadavg; }
for ((r = 1; r <= repeat; r++)); do
    for side in old new; do
        if [[ $side == old ]]; then bin=$old/build-release/tests/bench; else bin=build-release/tests/bench; fi
        echo "== throughput $r/$repeat $side (load $(loadavg))"
        "$bin/bench_load" throughput --stations 8 --hubs 2 --n "$n" --json "$results/thr-$side-$r.json" >/dev/null
        jq -c '{reports_per_s, cpu_us_per_report, hub_hwm_kb_max, county_hwm_kb}' "$results/thr-$side-$r.json"
        echo "== backlog $r/$repeat $side (load $(loadavg))"
        "$bin/bench_load" backlog --total "$backlog" --json "$results/bl-$side-$r.json" >/dev/null
        jq -c '{fill_reports_per_s, drain_reports_per_s, hub_rss_kb_full, hub_peak_rss_kb_draining, hub_hwm_kb}' \
            "$results/bl-$side-$r.json"
    done
done

median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
echo
printf '%-32s %14s %14s %8s\n' "median of $repeat" "old ($rev)" "new" "new/old"
for m in thr:.reports_per_s thr:.cpu_us_per_report.county thr:.cpu_us_per_report.hubs \
    thr:.hub_hwm_kb_max bl:.fill_reports_per_s bl:.drain_reports_per_s bl:.hub_rss_kb_full \
    bl:.hub_peak_rss_kb_draining; do
    f=${m%%:*} q=${m#*:}
    o=$(for x in "$results/$f-old-"*.json; do jq "$q" "$x"; done | median)
    w=$(for x in "$results/$f-new-"*.json; do jq "$q" "$x"; done | median)
    printf '%-32s %14s %14s %8.3f\n' "$f $q" "$o" "$w" "$(echo "$w / $o" | bc -l)"
done
