#!/usr/bin/env bash
# report.sh RESULTS_DIR OUT.md: writes the side-by-side fault table from the
# JSON that scripts/faults-compare.sh left in RESULTS_DIR (needs jq), and all
# runs as one array in RESULTS_DIR/compare.json. A cell lists every run
# (" / " between repeats).
set -euo pipefail
dir=$1
out=$2
here=$(dirname "${BASH_SOURCE[0]}")

shopt -s nullglob
files=()
for f in "$dir"/*.json; do
    [[ $(basename "$f") == compare.json ]] || files+=("$f")
done
if ((${#files[@]} == 0)); then
    echo "report.sh: no results in $dir" >&2
    exit 1
fi
all=$(jq -n '[inputs | . + {file: (input_filename | split("/") | last)}
              | . + {rep: (.file | capture("-(?<r>[0-9]+)\\.json$").r | tonumber)}]
             | sort_by(.rep)' "${files[@]}")
jq . <<<"$all" >"$dir/compare.json"

defs='
def commas: (. | round | tostring) as $s
    | ($s | explode | reverse | [recurse(.[3:]; length > 0) | .[:3] | reverse | implode]
       | reverse | join(","));
def pct1: . * 1000 | round / 10 | tostring + "%";
def sysname: if .system == "sanji" then "**sanji**"
    elif .config == "autosave-default" then "Mosquitto, `autosave_interval 1800` (the default), unlimited queues"
    elif .config == "autosave-1s" then "Mosquitto, `autosave_interval 1` (a snapshot every second), unlimited queues"
    elif .config == "autosave-1s-at-once" then "Mosquitto, `autosave_interval 1`, unlimited queues, township killed at once"
    elif .config == "limits-default" then "Mosquitto, default queue limits (`max_queued_messages 1000`, `max_inflight_messages 20`)"
    elif .config == "limits-unlimited" then "Mosquitto, unlimited queues (`max_queued_messages 0`, `max_inflight_messages 0`)"
    else "Mosquitto, \(.config)" end;
def runs(f): map(f) | if (unique | length) == 1 then .[0] else join(" / ") end;
def kills: if .system == "sanji" then
        (if .scenario == "random-kill" then "\(.kills) kills (county \(.kills_county), hubs \(.kills_hubs), stations \(.kills_stations))"
         elif .scenario == "backlog-kill" then "hub killed once, drained \(.drained_s) s after"
         else "\(.away_s) s away, drained \(.drained_s) s after the return" end)
    else
        (if .scenario == "random-kill" then "\(.kills) kills (county \(.kills_county), township \(.kills_township), village \(.kills_village))"
         elif .scenario == "backlog-kill" then "township killed once, \(if .hold_s == 0 then "as soon as" else "\(.hold_s) s after" end) it held the backlog"
         else "\(.away_s) s away" end)
        + (if .acknowledged_first_hop != .produced then "; \(.acknowledged_first_hop | commas) acknowledged by the village" else "" end)
    end;
def order: {"sanji": 0, "autosave-default": 1, "autosave-1s": 2, "autosave-1s-at-once": 3, "limits-default": 4, "limits-unlimited": 5}[.config] // 9;
'
j() { jq -r "$defs $1" <<<"$all"; }

model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mosq_v=$(dpkg-query -W -f='${Version}' mosquitto 2>/dev/null || echo '?')
now=$(date -u +%Y-%m-%dT%H:%MZ)
rev=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')
reps=$(j 'map(.rep) | unique | length')

{
    echo "# Faults side by side: sanji and a Mosquitto bridge chain"
    echo
    echo "Written by \`scripts/faults-compare.sh\` (Release build, commit $rev) on $now;"
    echo "$(nproc) CPUs ($model), loopback, $(df -T "${TMPDIR:-/tmp}" | awk 'NR == 2 {print $2}') under /tmp; mosquitto $mosq_v."
    echo "Runs per row: $reps (a cell lists each run). Raw numbers: \`tests/faults/results/compare.json\` (not committed)."
    echo
    echo "Every message carries its own id (sanji: the report's UUIDv7, counted id by id"
    echo "between each station's outbox and the county; Mosquitto: a message number in the"
    echo "first 8 bytes, counted in a bitmap by the subscriber at the county broker)."
    echo "*Produced*: sanji: stored at the stations; Mosquitto: handed to the publisher"
    echo "(libmosquitto keeps an unacknowledged message and sends it again after a reconnect)."
    echo "*Duplicated*: sanji: rows at the county beyond one per report; Mosquitto: a"
    echo "message received again. The end of a Mosquitto run: every message acknowledged by the"
    echo "village broker; then a probe message must cross the whole chain (every bridge connected"
    echo "again, each hop in order, so whatever a broker still held before it has been passed on);"
    echo "then all at the subscriber, or nothing new for 10 s with every broker up."
    echo
    echo "Scenarios (the same for both systems; sizes in the *produced* column):"
    echo
    echo "- **backlog-kill**: the county (broker) stopped; the stations (publisher) produce; once"
    echo "  the middle tier (hub / township broker) holds the whole backlog it is killed with"
    echo "  SIGKILL and started again, then the county. (Mosquitto: \"holds\" is read from the"
    echo "  township's \$SYS counter of received messages, published every second.)"
    echo "- **random-kill**: SIGKILL of a random tier (county, a hub or a station's delivery;"
    echo "  Mosquitto: one of the three brokers) every 0.5–3 s, each started again at once, while"
    echo "  the stream is produced over the whole run (same seed for both systems)."
    echo "- **county-away**: the stream produced over 3 s + the absence + 3 s; the county"
    echo "  (broker) stopped cleanly (SIGTERM) after 3 s and started again after the absence."
    echo
    echo "| scenario | system | produced | at the county exactly once | lost | duplicated | run |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
    j '
      group_by(.scenario) | sort_by({"backlog-kill": 0, "random-kill": 1, "county-away": 2}[.[0].scenario])[]
      | group_by(.config) | sort_by(.[0] | order)[]
      | "| \(.[0].scenario) | \(.[0] | sysname) | \(runs(.produced | commas))"
        + " | \(runs(.at_county_once | commas)) | \(runs("\(.lost | commas) (\(.lost / .produced | pct1))"))"
        + " | \(runs(.duplicated | commas)) | \(runs(kills)) |"'
    echo
    echo "Mosquitto settings of each row (\`mqtt_faults\` prints them with every run):"
    echo
    j 'map(select(.system == "mosquitto")) | unique_by(.config) | sort_by(order)[]
       | "- \(sysname): \(.settings)."'
    echo
    echo "sanji: the fault suite's trees (tests/faults): backlog-kill is \`faults_hub_backlog\`"
    echo "(1 hub, 2 stations), random-kill \`faults_kill\` and county-away \`faults_county_away\`"
    echo "(2 hubs, 4 stations); each sanji run also ends with the suite's own check (every report at"
    echo "the county exactly once, \`verify\`, \`integrity_check\` at every node) and fails otherwise."
    echo "Each sanji ack is a committed \`synchronous=FULL\` transaction; a Mosquitto PUBACK"
    echo "means \"in the broker's memory\", written to disk at the next autosave or clean exit."
} >"$out"
echo "report.sh: $out, $dir/compare.json"
