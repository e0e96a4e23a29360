#!/usr/bin/env bash
# The fault scenarios side by side: sanji (tests/faults) and the Mosquitto
# village -> township -> county bridge chain (tests/faults/mqtt_faults, the
# chain of tests/bench/bench_mqtt), with the same message counts:
#   backlog-kill  the middle tier (hub / township broker) killed with SIGKILL
#                 while it holds a backlog for an absent county, restarted
#   random-kill   SIGKILL of any tier every 0.5-3 s during a stream
#   county-away   the county away for a while, the stations still producing
# Each run counts produced / at the county exactly once / lost / duplicated.
# Mosquitto runs twice per scenario: the kill scenarios with autosave as
# documented (autosave_interval 1800 s, the default) and with a snapshot
# every second (autosave_interval 1), both with unlimited queues (the
# backlog-kill once more with autosave 1 s and the township killed as soon as
# it holds the backlog, as sanji's hub is, instead of 3 s later); the county
# away with Mosquitto's default queue limits and with unlimited queues.
# A measurement, not a test (sanji's runs do fail if sanji loses anything).
# Writes tests/faults/results/*.json (git-ignored), tests/faults/results/
# compare.json (all runs) and tests/faults/RESULTS.md (the table).
#
#   scripts/faults-compare.sh [SCENARIO...]     (default: all three)
# Environment: SANJI_FAULTS_REPEAT (default 1), SANJI_FAULTS_BUILD (default
# build-release), SANJI_FAULTS_QUICK=1 (small sizes: to try the script),
# SANJI_FAULTS_SEED (the kill sequence; default from the clock).
set -euo pipefail
if [[ ${1:-} == --help || ${1:-} == -h ]]; then
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 0
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."

repeat=${SANJI_FAULTS_REPEAT:-1}
if [[ ${SANJI_FAULTS_QUICK:-0} == 1 ]]; then
    n_backlog=10000 n_kill=10000 kills=8 n_away=4000 away_s=10
else
    n_backlog=100000 n_kill=100000 kills=40 n_away=20000 away_s=60
fi
build=${SANJI_FAULTS_BUILD:-build-release}
results=tests/faults/results
scenarios=("$@")
((${#scenarios[@]})) || scenarios=(backlog-kill random-kill county-away)
for s in "${scenarios[@]}"; do
    case $s in
        backlog-kill | random-kill | county-away) ;;
        *) echo "faults-compare: unknown scenario '$s' (backlog-kill, random-kill, county-away)" >&2; exit 2 ;;
    esac
done
want() { local s; for s in "${scenarios[@]}"; do [[ $s == "$1" ]] && return 0; done; return 1; }

bash scripts/deps.sh
extra=()
for p in mosquitto libmosquitto-dev jq; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    [[ $status == ii* ]] || extra+=("$p")
done
if ((${#extra[@]})); then
    sudo=()
    ((EUID == 0)) || sudo=(sudo)
    echo "faults-compare: installing ${extra[*]}"
    "${sudo[@]}" apt-get update
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${extra[@]}"
fi

echo "== building ($build/, Release)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" \
    --target mqtt_faults faults_hub_backlog faults_kill faults_county_away >/dev/null
fb=$build/tests/faults

mkdir -p "$results"
failed=0
# sanji NAME JSON BINARY [VAR=VALUE...]: one sanji scenario with its sizes.
sanji() {
    local name=$1 json=$2 binary=$3; shift 3
    echo "== $name"
    rm -f "$json"
    if env "$@" SANJI_FAULTS_JSON="$json" "$fb/$binary" >"$json.log" 2>&1; then
        grep -E '^# (counts|checked|kill [0-9]+/|county|hub|the hub|backlog)' "$json.log" | tail -4 || true
    else
        tail -30 "$json.log" >&2
        echo "faults-compare: $name FAILED (log: $json.log)" >&2
        failed=1
    fi
    if [[ -s $json ]]; then
        jq -c '. + {config: "sanji", settings: "4 (backlog-kill: 2) stations, hubs and county as in tests/faults: every ack a committed synchronous=FULL transaction"}' \
            "$json" >"$json.tmp" && mv "$json.tmp" "$json"
    fi
}
# mosq NAME CONFIG JSON ARGS...: one Mosquitto run.
mosq() {
    local name=$1 cfg=$2 json=$3; shift 3
    echo "== $name"
    rm -f "$json"
    if "$fb/mqtt_faults" "$@" --json "$json" 2>"$json.log"; then
        jq -c --arg cfg "$cfg" '. + {config: $cfg}' "$json" >"$json.tmp" && mv "$json.tmp" "$json"
    else
        tail -20 "$json.log" >&2
        echo "faults-compare: $name FAILED (log: $json.log)" >&2
        rm -f "$json"
        failed=1
    fi
}
t_start=$(date +%s)
for ((r = 1; r <= repeat; r++)); do
    seed=${SANJI_FAULTS_SEED:-$(( $(date +%s%N) % 1000000000000 ))}
    if want backlog-kill; then
        rm -f "$results"/backlog-kill-*-"$r".json
        sanji "backlog-kill $r/$repeat: sanji" "$results/backlog-kill-sanji-$r.json" \
            faults_hub_backlog SANJI_FAULTS_N="$n_backlog"
        mosq "backlog-kill $r/$repeat: mosquitto, autosave_interval 1800 (default)" autosave-default \
            "$results/backlog-kill-mosquitto-autosave-default-$r.json" backlog-kill --n "$n_backlog"
        mosq "backlog-kill $r/$repeat: mosquitto, autosave_interval 1" autosave-1s \
            "$results/backlog-kill-mosquitto-autosave-1s-$r.json" backlog-kill --n "$n_backlog" --autosave 1
        mosq "backlog-kill $r/$repeat: mosquitto, autosave_interval 1, killed at once" autosave-1s-at-once \
            "$results/backlog-kill-mosquitto-autosave-1s-at-once-$r.json" backlog-kill --n "$n_backlog" \
            --autosave 1 --hold-s 0
    fi
    if want random-kill; then
        rm -f "$results"/random-kill-*-"$r".json
        sanji "random-kill $r/$repeat: sanji ($kills kills, seed $seed)" "$results/random-kill-sanji-$r.json" \
            faults_kill SANJI_FAULTS_N="$n_kill" SANJI_FAULTS_KILLS="$kills" SANJI_FAULTS_SEED="$seed"
        mosq "random-kill $r/$repeat: mosquitto, autosave_interval 1800 (default)" autosave-default \
            "$results/random-kill-mosquitto-autosave-default-$r.json" random-kill --n "$n_kill" \
            --kills "$kills" --seed "$seed"
        mosq "random-kill $r/$repeat: mosquitto, autosave_interval 1" autosave-1s \
            "$results/random-kill-mosquitto-autosave-1s-$r.json" random-kill --n "$n_kill" \
            --kills "$kills" --seed "$seed" --autosave 1
    fi
    if want county-away; then
        rm -f "$results"/county-away-*-"$r".json
        sanji "county-away $r/$repeat: sanji (${away_s} s away)" "$results/county-away-sanji-$r.json" \
            faults_county_away SANJI_FAULTS_N="$n_away" SANJI_FAULTS_AWAY_S="$away_s"
        mosq "county-away $r/$repeat: mosquitto, default queue limits" limits-default \
            "$results/county-away-mosquitto-limits-default-$r.json" county-away --n "$n_away" \
            --away-s "$away_s" --limits default
        mosq "county-away $r/$repeat: mosquitto, unlimited queues" limits-unlimited \
            "$results/county-away-mosquitto-limits-unlimited-$r.json" county-away --n "$n_away" \
            --away-s "$away_s" --limits unlimited
    fi
done

echo "== writing tests/faults/RESULTS.md ($(($(date +%s) - t_start)) s of measuring)"
bash tests/faults/report.sh "$results" tests/faults/RESULTS.md
exit "$failed"
