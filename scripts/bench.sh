#!/usr/bin/env bash
# Builds sanji in Release (build-release/) and runs every benchmark scenario
# of issue 6, each next to its baseline in the same run, repeated:
#   1 throughput  8 stations -> 2 hubs -> county, vs raw SQLite, raw libzmq,
#                 the bare floor (the same tiers from bare libzmq + SQLite),
#                 and a Mosquitto village -> township -> county bridge chain
#   2 latency     1,000 reports/s for 10 s, submit -> county commit
#   3 backlog     1,000,000 reports queued at a hub while the county is down
#   4 query       stats over 1M and 10M matters, export of 1M
#   search        search over 1M matters: all indexed, and with the newest
#                 100,000 not indexed yet (bench_search; Markdown, no JSON)
#   5 many        10 hubs, 95 stations in one process
# and a perf profile of the county and a hub during one extra throughput run.
# Writes tests/bench/results/*.json (git-ignored) and tests/bench/RESULTS.md.
#
#   scripts/bench.sh [SCENARIO...]      (default: all; names as above)
# Environment: SANJI_BENCH_REPEAT (default 3; backlog runs min(2, it) times),
# SANJI_BENCH_BUILD (default build-release), SANJI_BENCH_NO_PERF=1,
# SANJI_BENCH_QUICK=1 (tiny sizes: to try the script, not to measure).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

repeat=${SANJI_BENCH_REPEAT:-3}
# sizes: per-station reports (throughput), zmq and mqtt messages, latency
# seconds, backlog reports, query sizes, per-station reports (many)
if [[ ${SANJI_BENCH_QUICK:-0} == 1 ]]; then
    n_thr=2000 n_zmq=100000 n_mqtt=20000 lat_s=2 n_backlog=50000 q_sizes=100000,300000 n_many=200
    n_search=50000 n_tail=5000
else
    n_thr=25000 n_zmq=1000000 n_mqtt=200000 lat_s=10 n_backlog=1000000 q_sizes=1000000,10000000 n_many=2000
    n_search=1000000 n_tail=100000
fi
build=${SANJI_BENCH_BUILD:-build-release}
results=tests/bench/results
scenarios=("$@")
((${#scenarios[@]})) || scenarios=(throughput latency backlog query search many profile)
want() { local s; for s in "${scenarios[@]}"; do [[ $s == "$1" ]] && return 0; done; return 1; }

bash scripts/deps.sh
# What only the benchmarks need: the Mosquitto baseline, jq for the report,
# perf for the profile.
extra=()
for p in mosquitto libmosquitto-dev jq linux-perf; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    [[ $status == ii* ]] || extra+=("$p")
done
if ((${#extra[@]})); then
    sudo=()
    ((EUID == 0)) || sudo=(sudo)
    echo "bench: installing ${extra[*]}"
    "${sudo[@]}" apt-get update
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${extra[@]}"
fi

echo "== building ($build/, Release)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" \
    --target bench_load bench_zmq bench_floor bench_mqtt bench_query bench_search township-hub \
    county-server >/dev/null
bin=$build/tests/bench

mkdir -p "$results"
# Only the files of the scenarios run now are replaced.
loadavg() { cut -d' ' -f1 /proc/loadavg; }
# run NAME JSON COMMAND...: runs one measurement, keeps its JSON, notes the
# load average before and after (other work on the machine).
run() {
    local name=$1 json=$2; shift 2
    local before; before=$(loadavg)
    echo "== $name"
    if "$@" --json "$json"; then
        jq -c --arg b "$before" --arg a "$(loadavg)" '. + {loadavg_before: ($b|tonumber), loadavg_after: ($a|tonumber)}' \
            "$json" > "$json.tmp" && mv "$json.tmp" "$json"
    else
        echo "bench: $name FAILED" >&2
        rm -f "$json"
        failed=1
    fi
}
failed=0
t_start=$(date +%s)

if want throughput; then
    rm -f "$results"/throughput-*.json "$results"/zmq-*.json "$results"/mosquitto-*.json \
        "$results"/floor-*.json
    for ((r = 1; r <= repeat; r++)); do
        run "throughput $r/$repeat: sanji + SQLite limit" "$results/throughput-$r.json" \
            "$bin/bench_load" throughput --stations 8 --hubs 2 --n "$n_thr"
        run "throughput $r/$repeat: raw libzmq" "$results/zmq-$r.json" "$bin/bench_zmq" --n "$n_zmq"
        run "throughput $r/$repeat: bare three-tier floor" "$results/floor-$r.json" \
            "$bin/bench_floor" --n "$n_thr"
        run "throughput $r/$repeat: Mosquitto bridge chain" "$results/mosquitto-$r.json" \
            "$bin/bench_mqtt" --n "$n_mqtt"
    done
fi
if want latency; then
    rm -f "$results"/latency-*.json
    for ((r = 1; r <= repeat; r++)); do
        run "latency $r/$repeat" "$results/latency-$r.json" \
            "$bin/bench_load" latency --rate 1000 --seconds "$lat_s"
    done
fi
if want backlog; then
    rm -f "$results"/backlog-*.json
    for ((r = 1; r <= (repeat < 2 ? repeat : 2); r++)); do
        run "backlog $r" "$results/backlog-$r.json" "$bin/bench_load" backlog --total "$n_backlog"
    done
fi
if want query; then
    rm -f "$results"/query.json
    run "query" "$results/query.json" "$bin/bench_query" --sizes "$q_sizes" --runs 3
fi
if want search; then
    # Markdown tables, appended to RESULTS.md by report.sh.
    rm -f "$results"/search.md
    echo "== search (load $(loadavg))"
    if ! "$bin/bench_search" "$n_search" "$n_tail" > "$results/search.md.tmp"; then
        echo "bench: search FAILED" >&2
        failed=1
    fi
    mv "$results/search.md.tmp" "$results/search.md"
fi
if want many; then
    rm -f "$results"/many-*.json
    for ((r = 1; r <= repeat; r++)); do
        run "many $r/$repeat" "$results/many-$r.json" "$bin/bench_load" many --hubs 10 --stations 95 --n "$n_many"
    done
fi
if want profile && [[ ${SANJI_BENCH_NO_PERF:-0} != 1 ]]; then
    # One more throughput run (not counted) with perf record -g on the
    # county and the first hub; the top of each profile goes to results/.
    rm -rf "$results/perf"
    if perf record -o /dev/null -q -- true 2>/dev/null; then
        run "profile (perf record -g)" "$results/perf-run.json" \
            "$bin/bench_load" throughput --stations 8 --hubs 2 --n "$n_thr" --perf "$results/perf"
        for role in county hub; do
            if [[ -s $results/perf/$role.perf.data ]]; then
                perf report --stdio --no-children --percent-limit 1.5 -g none \
                    -i "$results/perf/$role.perf.data" 2>/dev/null \
                    | grep -v '^#' | grep -v '^$' > "$results/perf-$role.txt" || true
                perf report --stdio --no-children --sort dso -g none \
                    -i "$results/perf/$role.perf.data" 2>/dev/null \
                    | grep -v '^#' | grep -v '^$' > "$results/perf-$role-dso.txt" || true
            fi
        done
        rm -f "$results"/perf/*.perf.data
    else
        echo "bench: perf cannot record here (perf_event_paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null))" \
            > "$results/perf-county.txt"
    fi
fi

echo "== writing tests/bench/RESULTS.md ($(( $(date +%s) - t_start )) s of measuring)"
bash tests/bench/report.sh "$results" tests/bench/RESULTS.md "$repeat"
echo "bench: tests/bench/RESULTS.md, tests/bench/results/"
exit "$failed"
