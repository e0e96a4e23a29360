#!/usr/bin/env bash
# Makes the upgrade fixtures tests/data/db/<store>/v<N>.db (N: the store's
# PRAGMA user_version) with the real binaries of a build: a county, a hub and a
# station (with the county key, so one report carries sealed petitioner
# fields), five reports delivered end to end, then every daemon stopped with
# SIGTERM so that SQLite checkpoints and removes its -wal.
#
# Run it when a schema version ships, with that release's binaries, and commit
# the new files. A version that already has a fixture is left alone: a shipped
# version's file is never remade by newer code (that is what the test checks).
#   tests/data/make-db-fixtures.sh BUILD_DIR [DATA_DIR (default: tests/data)]
set -euo pipefail
build=$(cd "${1:?usage: $0 BUILD_DIR [DATA_DIR]}" && pwd)
data=${2:-$(dirname "${BASH_SOURCE[0]}")}
agent=$build/village-agent/village-agent
hub=$build/township-hub/township-hub
county=$build/county-server/county-server
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() { for _ in $(seq 100); do grep -qx ready "$1" && return 0; sleep 0.1; done; cat "$1" >&2; return 1; }

cport=$(port)
hport=$(port)
county_pk=$("$county" keygen --data "$work/county" 2>/dev/null)
"$county" run --data "$work/county" --bind "tcp://127.0.0.1:$cport" --insecure >"$work/county.log" 2>&1 &
pids+=($!)
wait_ready "$work/county.log"
"$hub" run --data "$work/hub" --code 230523100 --bind "tcp://127.0.0.1:$hport" \
  --parent "tcp://127.0.0.1:$cport" --insecure >"$work/hub.log" 2>&1 &
pids+=($!)
wait_ready "$work/hub.log"

cat >"$work/reports.jsonl" <<'EOF'
{"occurred_on":"2024-03-02","channel":"visit","kind":"individual","persons":2,"level":"township","category":"land","outcome":"accepted","source":"direct","summary":"土地承包纠纷 fixture 1","officer":"信息员-001"}
{"occurred_on":"2024-03-05","channel":"letter","persons":1,"level":"county","category":"employment","outcome":"pending","source":"leader_reception","summary":"拖欠工资 fixture 2","officer":"信息员-002","petitioner_name":"张三","petitioner_phone":"13800000000"}
{"occurred_on":"2024-04-11","channel":"visit","kind":"collective","persons":12,"level":"city","category":"housing_demolition","outcome":"resolved_on_spot","source":"assigned","summary":"房屋拆迁补偿 fixture 3","officer":"信息员-003"}
{"occurred_on":"2024-05-20","channel":"phone","persons":1,"level":"village","category":"other","outcome":"closed","source":"review","summary":"邻里纠纷 fixture 4","officer":"信息员-004"}
{"occurred_on":"2024-06-30","channel":"mailbox","persons":1,"level":"province","category":"enterprise_restructuring","outcome":"withdrawn","source":"direct","summary":"企业改制职工安置 fixture 5","officer":"信息员-005"}
EOF
station=(--data "$work/station" --station 230523100201 --hub "tcp://127.0.0.1:$hport"
         --county-key "$county_pk" --insecure)
"$agent" "${station[@]}" import --wait 0 "$work/reports.jsonl" >/dev/null
"$agent" "${station[@]}" sync --timeout 30 >/dev/null 2>&1
for _ in $(seq 100); do
  n=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from events").fetchone()[0])' "$work/county/county-server.db")
  [ "$n" = 5 ] && break
  sleep 0.1
done
[ "$n" = 5 ] || { echo "only $n reports reached the county" >&2; exit 1; }
sleep 0.5 # the hub records the county's ack
for p in "${pids[@]}"; do kill -TERM "$p"; done
wait || true
pids=()

for f in "$work/county/county-server.db" "$work/hub/township-hub.db" "$work/station/village-agent.db"; do
  [ ! -e "$f-wal" ] || { echo "$f has a -wal left" >&2; exit 1; }
  version=$(python3 - "$f" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
print(db.execute("pragma user_version").fetchone()[0])
EOF
)
  store=$(basename "$f" .db)
  dest=$data/db/$store/v$version.db
  if [ -e "$dest" ]; then
    echo "$dest exists: left alone"
  else
    mkdir -p "$(dirname "$dest")"
    cp "$f" "$dest"
    echo "$dest written"
  fi
done
