#!/usr/bin/env bash
# report.sh RESULTS_DIR OUT.md REPEAT: writes RESULTS.md from the JSON that
# scripts/bench.sh left in RESULTS_DIR (needs jq). Every figure is the median
# of the repeated runs with the range (min-max) beside it; ratios are taken
# run by run (each sanji run against the baseline measured next to it) and
# then summarised the same way. tests/bench/ANALYSIS.md (hand-written after a
# real run: what limits each missed target) is appended as it is.
set -euo pipefail
dir=$1
out=$2
repeat=${3:-?}
here=$(dirname "${BASH_SOURCE[0]}")

# All result files as one array, each with its file name and run number.
all=$(jq -n '[inputs | . + {file: (input_filename | split("/") | last)}
              | . + {rep: ((.file | capture("-(?<r>[0-9]+)\\.json$").r // "0") | tonumber)}]' \
      "$dir"/*.json 2>/dev/null || echo '[]')

q() { jq -r "$1" <<<"$all"; }

# jq helpers: summary of a list, number formats.
defs='
def med: map(select(. != null)) | sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
         else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def commas: (. | round | tostring) as $s | ($s | startswith("-")) as $neg
    | ($s | ltrimstr("-") | explode | reverse | [recurse(.[3:]; length > 0) | .[:3] | reverse | implode]
       | reverse | join(",")) as $t | (if $neg then "-" else "" end) + $t;
def f1: . * 10 | round / 10 | tostring;
def f2: . * 100 | round / 100 | tostring;
def pct: . * 100 | round | tostring + "%";
def rng(f): (map(select(. != null)) | sort) as $v
    | if ($v | length) == 0 then "n/a" elif ($v | length) == 1 then ($v[0] | f)
      else "\($v | med | f) (\($v[0] | f)–\($v[-1] | f))" end;
def of(s): map(select(.scenario == s));
'
j() { jq -r "$defs $1" <<<"$all"; }

model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
kernel=$(uname -r)
cpus=$(nproc)
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
fs=$(df -T "${TMPDIR:-/tmp}" | awk 'NR == 2 {print $2}')
sqlite_v=$(j 'of("throughput") | .[0].sqlite_version // "?"')
zmq_v=$(j 'of("zmq") | .[0].zmq_version // "?"')
mosq_v=$(dpkg-query -W -f='${Version}' mosquitto 2>/dev/null || echo '?')
loads=$(j '[.[] | .loadavg_before, .loadavg_after | select(. != null)] | if length == 0 then "n/a" else "\(min)–\(max)" end')
now=$(date -u +%Y-%m-%dT%H:%MZ)
rev=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')

# Per-run ratios (runs paired by their number).
ratios=$(jq -c "$defs"'
  (of("throughput") | map({key: (.rep | tostring), value: .}) | from_entries) as $t
  | (of("mosquitto") | map({key: (.rep | tostring), value: .msgs_per_s}) | from_entries) as $m
  | (of("zmq") | map({key: (.rep | tostring), value: .}) | from_entries) as $z
  | (of("floor") | map({key: (.rep | tostring), value: .}) | from_entries) as $f
  | {floor_sqlite: [$f[] | .steady_per_s / .sqlite_rows_per_s],
     sanji_floor: [$t | to_entries[] | select($f[.key] != null) | .value.steady_reports_per_s / $f[.key].steady_per_s],
     sqlite: [$t[] | .steady_reports_per_s / .sqlite_rows_per_s],
     mosq: [$t | to_entries[] | select($m[.key] != null) | .value.steady_reports_per_s / $m[.key]],
     zmq: [$t | to_entries[] | select($z[.key] != null) | .value.steady_reports_per_s / $z[.key].msgs_per_s],
     zmqc: [$t | to_entries[] | select($z[.key] != null) | .value.steady_reports_per_s / $z[.key].curve_msgs_per_s]}' <<<"$all")
r() { jq -r "$defs $1" <<<"$ratios"; }

# verdict VALUE_JQ OP LIMIT UNIT: "met"/"missed" with the margin, from the median.
verdict() {
    local v=$1 op=$2 lim=$3 unit=$4
    [[ $v == null || -z $v ]] && { echo "not measured"; return; }
    awk -v v="$v" -v op="$op" -v l="$lim" -v u="$unit" 'BEGIN {
        ok = (op == ">=") ? (v >= l) : (v < l)
        if (op == ">=") m = (v >= l) ? sprintf("%.2f× above", v / l) : sprintf("%.0f%% short; needs %.1f×", 100 * (1 - v / l), l / v)
        else m = (v < l) ? sprintf("%.0f%% under", 100 * (1 - v / l)) : (v < 2 * l) ? sprintf("%.0f%% over", 100 * (v / l - 1)) : sprintf("%.1f× the limit", v / l)
        printf "%s (%s)", ok ? "**met**" : "**missed**", m }'
}

thr_fig=$(j 'of("throughput") | map(.steady_reports_per_s) | rng(commas)')
thr_all=$(j 'of("throughput") | map(.reports_per_s) | rng(commas)')
sql_fig=$(j 'of("throughput") | map(.sqlite_rows_per_s) | rng(commas)')
zmq_fig=$(j 'of("zmq") | map(.msgs_per_s) | rng(commas)')
zmqc_fig=$(j 'of("zmq") | map(.curve_msgs_per_s) | rng(commas)')
mq_fig=$(j 'of("mosquitto") | map(.msgs_per_s) | rng(commas)')
fl_fig=$(j 'of("floor") | map(.steady_per_s) | rng(commas)')
fl_cpu=$(j 'of("floor") | "county \(map(.county_cpu_us) | rng(f2)) µs, hubs \(map(.hubs_cpu_us) | rng(f2)) µs, stations \(map(.stations_cpu_us) | rng(f2)) µs"')
r_fl_sql=$(r '.floor_sqlite | rng(pct)')
r_sanji_fl=$(r '.sanji_floor | rng(pct)')
r_sql=$(r '.sqlite | rng(pct)')
r_mq=$(r '.mosq | rng(f1 + "×")')
r_zmq=$(r '.zmq | rng(pct)')
r_zmqc=$(r '.zmqc | rng(pct)')
r_sql_med=$(r '.sqlite | med')
r_mq_med=$(r '.mosq | med')
thr_cpu=$(j 'of("throughput") | "county \(map(.cpu_us_per_report.county) | rng(f1)) µs, hubs \(map(.cpu_us_per_report.hubs) | rng(f1)) µs of CPU per report"')
thr_wr=$(j 'of("throughput") | "county \(map(.write_bytes_per_report.county) | rng(commas)) B, hubs \(map(.write_bytes_per_report.hubs) | rng(commas)) B per report; the SQLite baseline \(map(.sqlite_write_bytes_per_row) | rng(commas)) B per row"')
# CPU that other programs used during each kind of run, % of one CPU.
others() { j "of(\"$1\") | map(.others_cpu_pct) | rng(commas) + \"%\""; }
thr_n=$(j 'of("throughput") | .[0] | "\(.reports | commas) reports of \(.avg_event_bytes | round) B, \(.stations) stations → \(.hubs) hubs → county"')

lat_p50=$(j 'of("latency") | map(.county_ms.p50) | rng(tostring)')
lat_p99=$(j 'of("latency") | map(.county_ms.p99) | rng(tostring)')
lat_max=$(j 'of("latency") | map(.county_ms.max) | rng(tostring)')
lat_h99=$(j 'of("latency") | map(.hub_ms.p99) | rng(tostring)')
lat_lag=$(j 'of("latency") | map(.generator_max_lag_ms) | max // "n/a"')
lat_p99_med=$(j 'of("latency") | map(.county_ms.p99) | med')

bl_drain=$(j 'of("backlog") | map(.drain_s) | rng(f1)')
bl_first=$(j 'of("backlog") | map(.first_report_s) | rng(f2)')
bl_rate=$(j 'of("backlog") | map(.reports / (.drain_s - .first_report_s)) | rng(commas)')
bl_fill=$(j 'of("backlog") | map(.fill_reports_per_s) | rng(commas)')
bl_hub_full=$(j 'of("backlog") | map(.hub_rss_kb_full / 1024) | rng(f1)')
bl_hub_drain=$(j 'of("backlog") | map(.hub_peak_rss_kb_draining / 1024) | rng(f1)')
bl_hub_hwm=$(j 'of("backlog") | map(.hub_hwm_kb / 1024) | rng(f1)')
bl_county=$(j 'of("backlog") | map(.county_hwm_kb / 1024) | rng(f1)')
bl_drain_med=$(j 'of("backlog") | map(.drain_s) | med')
bl_hub_hwm_med=$(j 'of("backlog") | map(.hub_hwm_kb / 1024) | med')
bl_hub_q=$(j 'of("backlog") | map([.hub_rss_kb_full, .hub_peak_rss_kb_draining] | max / 1024) | rng(f1)')
bl_hub_q_med=$(j 'of("backlog") | map([.hub_rss_kb_full, .hub_peak_rss_kb_draining] | max / 1024) | med')
bl_n=$(j 'of("backlog") | .[0].reports // 0 | commas')

qr() { j "of(\"query\") | .[0].runs // [] | map(select(.what == \"$1\" and .matters == $2)) | .[0] // null"; }
q_best() { j "of(\"query\") | .[0].runs // [] | map(select(.what == \"$1\" and .matters == $2)) | .[0].best_s // null"; }
q_desc() { j "of(\"query\") | .[0].runs // [] | map(select(.what == \"$1\" and .matters == $2)) | .[0] // null
             | if . == null then \"n/a\" else \"\(.best_s | f2) s (runs: \(.walls_s | map(f2) | join(\", \")) s; CPU \(.cpu_s | f2) s, max RSS \(.max_rss_kb / 1024 | f1) MiB)\" end"; }
q1_tm=$(q_desc "stats --by township,month" 1000000)
q1_lk=$(q_desc "stats --by level,kind" 1000000)
q10_tm=$(q_desc "stats --by township,month" 10000000)
q10_lk=$(q_desc "stats --by level,kind" 10000000)
q1_tl=$(q_desc "stats --by township,level" 1000000)
q10_tl=$(q_desc "stats --by township,level" 10000000)
q1_sl=$(q_desc "stats --by station,level" 1000000)
q10_sl=$(q_desc "stats --by station,level" 10000000)
q10_tm_b=$(q_best "stats --by township,month" 10000000)
q10_lk_b=$(q_best "stats --by level,kind" 10000000)
q10_tl_b=$(q_best "stats --by township,level" 10000000)
q_exp=$(j 'of("query") | .[0].runs // [] | map(select(.what == "export --format csv")) | .[0] // null
           | if . == null then "n/a" else "\(.wall_s // .best_s | f2) s, \(.bytes / 1048576 | round) MiB of CSV, max RSS \(.max_rss_kb / 1024 | f1) MiB (\(.matters / .best_s | commas) rows/s)" end')
q_db=$(j 'of("query") | .[0].sizes // [] | map("\(.matters | commas): \(.db_kb / 1024 | round) MiB") | join(", ")')
q_worst=$(awk -v a="${q10_tm_b:-null}" -v b="${q10_lk_b:-null}" 'BEGIN { if (a == "null" || b == "null") print "null"; else print (a > b ? a : b) }')

many_fig=$(j 'of("many") | map(.steady_reports_per_s) | rng(commas)')
many_all=$(j 'of("many") | map(.reports_per_s) | rng(commas)')
many_hub=$(j 'of("many") | map(.cpu_pct_of_core.hubs) | rng(f1)')
many_county=$(j 'of("many") | map(.cpu_pct_of_core.county) | rng(f1)')
many_us=$(j 'of("many") | "county \(map(.cpu_us_per_report.county) | rng(f1)) µs, 10 hubs together \(map(.cpu_us_per_report.hubs) | rng(f1)) µs per report"')
many_rss=$(j 'of("many") | "county \(map(.county_hwm_kb / 1024) | rng(f1)) MiB, largest hub \(map(.hub_hwm_kb_max / 1024) | rng(f1)) MiB"')
many_n=$(j 'of("many") | .[0] // {} | "\(.stations // "?") stations, \(.hubs // "?") hubs, \(.reports // 0 | commas) reports"')
n_runs() { j "of(\"$1\") | length"; }

{
cat <<EOF
# sanji benchmark results

Written by \`scripts/bench.sh\` (Release build, commit $rev) on $now.
Raw numbers: \`tests/bench/results/*.json\` (not committed).

**Machine:** $cpus CPUs ($model), kernel $kernel, $mem RAM, $fs under ${TMPDIR:-/tmp};
SQLite $sqlite_v, libzmq $zmq_v, mosquitto $mosq_v.

**Noise:** other developers build and test on this machine while it is measured:
the 1-minute load average was $loads during the runs (2 CPUs). Every scenario ran
several times in the same invocation (throughput, latency, many: $repeat; backlog:
$(n_runs backlog)); each cell is **median (min–max)**. Each sanji run is compared with
the baseline measured right after it, not with another run's.

| # | scenario | figure | baseline (same run) | ratio | target |
| --- | --- | --- | --- | --- | --- |
| 1 | throughput: $thr_n, CURVE on every link, synchronous=FULL at hub and county; reports/s committed at the county (sustained, 10%→90% of the reports) | $thr_fig reports/s | raw SQLite (WAL, FULL, 16 KiB pages like sanji's stores, 10,000-row transactions, same row count and size): $sql_fig rows/s | $r_sql of the SQLite limit | ≥ 40% of the SQLite limit: $(verdict "$r_sql_med" ">=" 0.40 "") |
| 1 | throughput, vs Mosquitto | (as above) | Mosquitto 3 brokers bridged village → township → county, QoS 1, persistence on, 200,000 × 300 B: $mq_fig msgs/s end to end | $r_mq | ≥ 5× Mosquitto: $(verdict "$r_mq_med" ">=" 5 "") |
| 1 | throughput, vs the bare floor | (as above) | the same three tiers from bare libzmq + SQLite (\`bench_floor\`: CURVE, FULL at hub and county, frames of 256 records, no protobuf, validation, hash chain, dedupe, cases or indexes beyond the key; the hub forwards from memory): $fl_fig records/s, which is $r_fl_sql of the SQLite limit; CPU per record $fl_cpu | sanji does $r_sanji_fl of the floor | — |
| 1 | throughput, vs raw libzmq | (as above) | one DEALER → ROUTER over tcp loopback, 300 B, each acked, 1,000 in flight: $zmq_fig msgs/s plain, $zmqc_fig msgs/s with CURVE | $r_zmq of plain, $r_zmqc of CURVE | — |
| 2 | latency: 1,000 reports/s for 10 s, 8 stations (each its own SQLite outbox, one transaction per report) → 2 hubs → county; submit (created_ms) → county commit (received_ms) | p50 $lat_p50 ms, p99 $lat_p99 ms, max $lat_max ms | first hop only (submit → hub commit): p99 $lat_h99 ms | — | p99 < 50 ms: $(verdict "$lat_p99_med" "<" 50 "ms") |
| 3 | backlog: $bl_n reports queued at one hub while the county is down; county started; time until the county holds them all | $bl_drain s (first report at the county after $bl_first s; $bl_rate reports/s while draining) | filling the hub from 10 stations, county down: $bl_fill reports/s | — | drained < 10 s: $(verdict "$bl_drain_med" "<" 10 "s") |
| 3 | backlog: hub RSS with $bl_n queued (VmRSS sampled every 50 ms) | $bl_hub_q MiB (when full $bl_hub_full MiB, peak while draining $bl_hub_drain MiB) | county VmHWM while draining: $bl_county MiB | — | hub RSS < 32 MiB: $(verdict "$bl_hub_q_med" "<" 32 "MiB"); the hub's peak over its whole life (VmHWM), reached while 10 stations pushed at full speed, is $bl_hub_hwm MiB: $(verdict "$bl_hub_hwm_med" "<" 32 "MiB") |
| 4 | query: \`county-server stats --by township,month\`, 10,000,000 matters, best of 3 (warm cache) | $q10_tm | 1,000,000 matters: $q1_tm | — | < 1 s: $(verdict "$q10_tm_b" "<" 1 "s") |
| 4 | query: \`county-server stats --by level,kind\`, 10,000,000 matters, best of 3 | $q10_lk | 1,000,000 matters: $q1_lk | — | < 1 s: $(verdict "$q10_lk_b" "<" 1 "s") |
| 4 | query: \`county-server stats --by township,level\`, 10,000,000 matters, best of 3 (tally_field: place and one kind) | $q10_tl | 1,000,000 matters: $q1_tl | — | < 1 s: $(verdict "$q10_tl_b" "<" 1 "s") |
| 4 | query: \`county-server stats --by station,level\`, 10,000,000 matters, best of 3: no tally holds a station and a kind, so this one scans every matter | $q10_sl | 1,000,000 matters: $q1_sl | — | — |
| 4 | export: \`county-server export --format csv\`, 1,000,000 matters | $q_exp | — | — | — |
| 5 | many: a whole county in one load generator: $many_n (one DEALER, key and uplink per station) | $many_fig reports/s sustained ($many_all overall) | hubs use $many_hub% of one core together, the county $many_county% | — | — |

Details:

- CPU used by other programs during the runs (% of one CPU; 200% = the whole
  machine): throughput $(others throughput), latency $(others latency),
  backlog drain $(others backlog), many $(others many). Runs with much of it
  are the low ends of the ranges.
- Throughput: overall (first report sent → last committed) $thr_all reports/s;
  CPU: $thr_cpu. Written to storage (/proc/PID/io write_bytes): $thr_wr. Stations are simulated in the load generator: their events
  are made (ids, sequence, hash chain) before the clock starts and served from
  memory, so both CPUs serve the hubs and the county as in the field, where
  every station is its own machine.
- Mosquitto's PUBACK means "in the broker's memory": with \`persistence true\`
  it writes a snapshot every \`autosave_interval\` (1800 s by default) and at
  exit, never one fsync per message; a sanji ack means committed with
  \`synchronous=FULL\`. Broker options: \`max_queued_messages 0\` (the default
  1000 silently drops), \`max_inflight_messages 0\` (no limit: the fastest of
  0, 20 and 1000 here), bridges with \`connection\`, \`address\`, \`topic reports/# out 1\`,
  \`cleansession false\`; the publisher keeps 1,000 messages unacknowledged.
- Latency: the generator submitted each report at most $lat_lag ms after its
  scheduled time (the worst of all runs); created_ms is stamped when the
  station stores the report, so a late generator would hide delay, not add it.
- Backlog: the drain time counts from starting \`county-server run\`, so it
  includes the county's start and the hub's reconnect (the first report
  arrives after $bl_first s).
- Many: CPU per report: $many_us. Peak RSS: $many_rss.
- Query databases (matters only, dates over 2015–2024): $q_db.

EOF
for role in county hub; do
    f=$dir/perf-$role.txt
    [[ -s $f ]] || continue
    echo "### Profile of the $role during one throughput run (\`perf record -g\`, self time, top symbols)"
    echo
    echo '```'
    grep -E '^ +[0-9.]+%' "$f" | head -25 | sed 's/ *$//'
    if [[ -s $dir/perf-$role-dso.txt ]]; then
        echo
        echo "by library:"
        grep -E '^ +[0-9.]+%' "$dir/perf-$role-dso.txt" | head -8 | sed 's/ *$//'
    fi
    echo '```'
    echo
done
if [[ -s $dir/search.md ]]; then
    echo "## Search: \`bench_search\` (the index kept in idle time, sj_history.h)"
    echo
    cat "$dir/search.md"
    echo
fi
if [[ -s $here/ANALYSIS.md ]]; then
    cat "$here/ANALYSIS.md"
fi
} > "$out"
