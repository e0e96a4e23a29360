#!/usr/bin/env bash
# Runs a whole sanji network on this machine (loopback, a temporary directory):
# one county server, two township hubs, four village stations. The stations
# record reports (one by one with 'submit', in bulk with 'import'), deliver
# them with 'sync', and the script waits until the county holds every one,
# then shows a hub's status and the county's statistics.
#   SANJI_KEEP=1 scripts/demo.sh    keep the temporary directory afterwards
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh

agent_bin=$PWD/build/village-agent/village-agent
hub_bin=$PWD/build/township-hub/township-hub
county_bin=$PWD/build/county-server/county-server

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sanji-demo.XXXXXX")
pids=()

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    local rc=$?
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [[ ${SANJI_KEEP:-0} == 1 ]]; then
        echo "== kept $tmp (logs: *.log, stores: */*.db)"
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== building the three tools (build/)"
if ! { cmake -S . -B build && cmake --build build -j "$(nproc)" \
        --target village-agent township-hub county-server; } >"$tmp/build.log" 2>&1; then
    cat "$tmp/build.log" >&2
    echo "demo: build failed" >&2
    exit 1
fi

# free_port VAR: sets VAR to a TCP port nobody listens on (and we have not
# handed out yet). Asks the kernel through python3 when there is one, else
# tries random ports.
used_ports=" "
free_port() {
    local p
    while :; do
        if command -v python3 >/dev/null 2>&1; then
            p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        else
            p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
            if command -v ss >/dev/null 2>&1; then
                [[ -z $(ss -ltnH "sport = :$p") ]] || continue
            elif (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
                continue # something answered: in use
            fi
        fi
        [[ $used_ports == *" $p "* ]] && continue
        used_ports+="$p "
        printf -v "$1" '%s' "$p"
        return
    done
}

# start_daemon NAME CMD...: runs CMD in the background (stdout NAME.out,
# stderr NAME.log) and waits until it prints "ready".
start_daemon() {
    local name=$1 pid deadline=$((SECONDS + 10))
    shift
    "$@" >"$tmp/$name.out" 2>"$tmp/$name.log" &
    pid=$!
    pids+=("$pid")
    until grep -qx ready "$tmp/$name.out"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "demo: $name exited before it was ready; its log:" >&2
            cat "$tmp/$name.log" >&2
            exit 1
        fi
        if ((SECONDS >= deadline)); then
            echo "demo: $name not ready after 10 s" >&2
            exit 1
        fi
        sleep 0.1
    done
}

townships=(230523100 230523101)
stations=(230523100201 230523100202 230523101201 230523101202)
declare -A hub_endpoint

county_port="" port="" # set by free_port
# Enrolment, as the offices do it by hand: every node makes its key pair
# ('keygen' prints the public key); the county enrols the hubs, each township
# office enrols its stations ('allow CODE KEY'). Stations seal personal data
# to the county's public key.
echo "== enrolling: key pairs for the county, 2 hubs, 4 stations"
county_key=$("$county_bin" keygen --data "$tmp/county" 2>/dev/null)
declare -A hub_key
for t in "${townships[@]}"; do
    hub_key[$t]=$("$hub_bin" keygen --data "$tmp/hub-$t" 2>/dev/null)
    "$county_bin" allow --data "$tmp/county" -- "$t" "${hub_key[$t]}" 2>/dev/null
done
for s in "${stations[@]}"; do
    key=$("$agent_bin" --data "$tmp/station-$s" keygen 2>/dev/null)
    "$hub_bin" allow --data "$tmp/hub-${s:0:9}" --code "${s:0:9}" -- "$s" "$key" 2>/dev/null
done
echo "   county public key: $county_key"

free_port county_port
county_endpoint=tcp://127.0.0.1:$county_port
echo "== starting county server on $county_endpoint (data in $tmp)"
start_daemon county "$county_bin" run --data "$tmp/county" --bind "$county_endpoint" --code 230523

for t in "${townships[@]}"; do
    free_port port
    hub_endpoint[$t]=tcp://127.0.0.1:$port
    echo "== starting township hub $t on ${hub_endpoint[$t]}"
    start_daemon "hub-$t" "$hub_bin" run --data "$tmp/hub-$t" --code "$t" \
        --bind "${hub_endpoint[$t]}" --parent "$county_endpoint" --parent-key "$county_key"
done

# The county's place names (issue 15): sent down the tree, so every tier
# shows 宝清镇 beside 230523100 without a restart.
printf '%s\n' 'code,name' '230523,宝清县' '230523100,宝清镇' '230523101,七星泡镇' \
    '230523100201,东升村' '230523100202,红旗村' '230523101201,永兴村' '230523101202,新发村' \
    >"$tmp/places.csv"
echo "== place names imported at the county (sent down to the hubs and stations)"
"$county_bin" places import --data "$tmp/county" "$tmp/places.csv"

# agent STATION ARGS...: village-agent for that station (its hub is the
# township named by the first nine digits of the village code).
agent() {
    local s=$1
    shift
    "$agent_bin" --data "$tmp/station-$s" --station "$s" --hub "${hub_endpoint[${s:0:9}]}" \
        --hub-key "${hub_key[${s:0:9}]}" --county-key "$county_key" "$@"
}

# make_jsonl SEED N: N varied, consistent sample reports as JSON lines.
summaries=(
    "land|土地承包纠纷" "land|宅基地边界争议" "land|征地补偿款分配不公"
    "enterprise_restructuring|企业改制职工安置" "enterprise_restructuring|改制企业养老保险接续"
    "employment|拖欠工资" "employment|农民工工资拖欠" "employment|工伤赔偿争议"
    "housing_demolition|房屋拆迁补偿" "housing_demolition|棚户区改造安置房分配"
    "other|邻里纠纷" "other|低保资格认定" "other|婚姻家庭纠纷"
)
channels=(visit visit letter visit phone mailbox visit)
levels=(village township village county township city village province capital)
outcomes=(resolved_on_spot pending accepted closed resolved_on_spot withdrawn)
sources=(direct direct leader_reception assigned direct review)
visit_persons=(1 3 6 2 12 1 4 25 2)
make_jsonl() {
    local seed=$1 n=$2 i k channel persons kind
    for ((i = 0; i < n; i++)); do
        k=$((seed * 5 + i))
        IFS='|' read -r category summary <<<"${summaries[$((k * 7 % ${#summaries[@]}))]}"
        channel=${channels[$((k % ${#channels[@]}))]}
        persons=1 # a letter, phone call or mailbox message is one person
        [[ $channel == visit ]] && persons=${visit_persons[$((k * 4 % ${#visit_persons[@]}))]}
        kind=individual
        ((persons >= 5)) && kind=collective
        printf '{"occurred_on":"2024-%02d-%02d","channel":"%s","kind":"%s","persons":%d,' \
            $((k * 5 % 12 + 1)) $((k * 11 % 28 + 1)) "$channel" "$kind" "$persons"
        printf '"level":"%s","category":"%s","outcome":"%s","source":"%s",' \
            "${levels[$((k % ${#levels[@]}))]}" "$category" \
            "${outcomes[$((k % ${#outcomes[@]}))]}" "${sources[$((k * 5 % ${#sources[@]}))]}"
        printf '"summary":"%s","officer":"信息员-%03d"}\n' "$summary" $((seed * 10 + i % 3 + 1))
    done
}

per_station_import=6
total=0
seed=0
for s in "${stations[@]}"; do
    seed=$((seed + 1))
    echo "== station $s: two reports with 'submit'"
    agent "$s" submit --wait 0 --channel visit --persons 8 --level county \
        --category housing_demolition --source leader_reception --occurred 2024-06-12 \
        --officer "信息员-$((seed * 10))" --summary "房屋拆迁补偿标准争议，八户联名上访" \
        --petitioner-name "王某$seed" --petitioner-phone "1380000000$seed"
    agent "$s" submit --wait 0 --channel phone --level township --category employment \
        --outcome resolved_on_spot --occurred 2024-09-03 --officer "信息员-$((seed * 10))" \
        --summary "拖欠工资，建筑工地"
    echo "== station $s: $per_station_import reports with 'import'"
    make_jsonl "$seed" "$per_station_import" >"$tmp/reports-$s.jsonl"
    agent "$s" import --wait 0 "$tmp/reports-$s.jsonl"
    total=$((total + 2 + per_station_import))
done

for s in "${stations[@]}"; do
    echo "== station $s: sync to hub ${hub_endpoint[${s:0:9}]}"
    agent "$s" sync --timeout 30
done

echo "== waiting until the county holds all $total reports"
deadline=$((SECONDS + 30))
while :; do
    n=$(sqlite3 "$tmp/county/county-server.db" 'select count(*) from matters' 2>/dev/null || echo 0)
    ((n >= total)) && break
    if ((SECONDS >= deadline)); then
        echo "demo: the county has $n of $total reports after 30 s" >&2
        exit 1
    fi
    sleep 0.2
done
echo "   county has $n of $total"

echo "== personal data: sealed at the station, opened only at the county"
if grep -q "王某1" "$tmp/hub-${townships[0]}/township-hub.db" "$tmp/station-${stations[0]}/village-agent.db"; then
    echo "demo: plaintext personal data found outside the county" >&2
    exit 1
fi
echo "   no petitioner name in the clear at the hub or the station"
first=$("$county_bin" list --data "$tmp/county" --station "${stations[0]}" --from 2024-06-12 --to 2024-06-12 \
    --category housing_demolition --source leader_reception --format csv --limit 1 | sed -n 2p | cut -d, -f1)
"$county_bin" show --data "$tmp/county" --with-personal "$first" | grep -E '^(id|summary|petitioner_name|petitioner_phone):'

echo "== a case assigned down (交办): county -> township hub -> station ${stations[0]}"
due=$(date -d '+30 days' +%F)
case_id=$("$county_bin" list --data "$tmp/county" --station "${stations[0]}" --outcome pending \
    --format csv --limit 1 | sed -n 2p | cut -d, -f1)
"$county_bin" assign --data "$tmp/county" "$case_id" --to "${stations[0]}" --due "$due" \
    --note "请限期办结" --officer "县信访局"
# The county hands it to the township hub at once; the station gets it at its
# next sync (pull with a cursor: a station that is offline gets it later).
for _ in $(seq 1 50); do
    agent "${stations[0]}" sync --timeout 30 2>/dev/null
    if agent "${stations[0]}" inbox --format csv 2>/dev/null | sed -n 2p | grep -q .; then
        break
    fi
    sleep 0.2
done
agent "${stations[0]}" inbox
agent "${stations[0]}" update "$case_id" --outcome accepted --note "已受理"
agent "${stations[0]}" sync --timeout 30 --until-county
"$county_bin" cases --data "$tmp/county" --source assigned

echo "== township-hub status (township ${townships[0]})"
"$hub_bin" status --data "$tmp/hub-${townships[0]}"

status=0
for by in level,kind township; do
    echo "== county-server stats --by $by"
    "$county_bin" stats --data "$tmp/county" --by "$by" || {
        echo "demo: 'county-server stats --by $by' failed (exit $?)" >&2
        status=1
    }
done

echo "== stopping"
exit "$status"
