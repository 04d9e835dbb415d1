#!/usr/bin/env bash
# tools/bench/stats.sh — latency of the live progress statistics for every
# breakdown and every kind of caller: GET /v1/stats/progress?by=… (province,
# carrier, tech, month, reason; with and without a from/to window) and
# GET /v1/stats/summary, as the ministry (everything), a province locality,
# a commune locality and a carrier (its assignments).
#
#   LOMSONG_DB=… LOMSONG_ADMIN_DB=… [N=100] [PROVINCE=04] [CARRIER=viettel] \
#       tools/bench/stats.sh
#
# Same method as tools/bench/api.sh: the optimised server, N sequential
# requests per line over loopback (after one to warm up), curl with a new
# connection each time, p50/p99/max in ms; and the CPU time per request of
# the server and its database sessions.  The commune is the one with the
# most points in PROVINCE.  Make the data with tools/bench/stats-data.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/build/lomsong}
N=${N:-100}
PORT=${PORT:-18198}
PROVINCE=${PROVINCE:-04}
CARRIER=${CARRIER:-viettel}
FROM=${FROM:-$(date -u -d '-180 days' +%F)}
TO=${TO:-$(date -u -d '-30 days' +%F)}
: "${LOMSONG_ADMIN_DB:?LOMSONG_ADMIN_DB must name the owner connection of the bench database}"
COMMUNE=$(psql -X -qAt "$LOMSONG_ADMIN_DB" -c "SELECT set_config('lomsong.role', 'system', false)" \
    -c "SELECT commune_code FROM dz_points WHERE province_code = '$PROVINCE'
         AND commune_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1" | tail -1)
"$BIN" serve --listen 127.0.0.1:$PORT --log-level warn >/dev/null 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
until curl -sf -o /dev/null http://127.0.0.1:$PORT/healthz; do sleep 0.05; done
MIN=$("$BIN" token create --role ministry --name "stats bench" 2>/dev/null)
LOC=$("$BIN" token create --role locality --unit "$PROVINCE" --name "stats bench" 2>/dev/null)
COM=$("$BIN" token create --role locality --unit "$COMMUNE" --name "stats bench" 2>/dev/null)
CAR=$("$BIN" token create --role carrier --carrier "$CARRIER" --name "stats bench" 2>/dev/null)

# CPU time (user + system, clock ticks) of the server and of its database
# sessions: on a machine others share, the wall-clock percentiles include
# their load, this does not.
HZ=$(getconf CLK_TCK)
cpu_ticks() {
    local pids p t=0
    pids="$pid $(psql -X -qAt "$LOMSONG_ADMIN_DB" -c "SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND usename = 'lomsong_app'")"
    for p in $pids; do
        [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo "$t"
}

measure() { # label, token, path
    local f c0 c1; f=$(mktemp)
    curl -s -o /dev/null -H "Authorization: Bearer $2" "http://127.0.0.1:$PORT$3" # warm-up
    c0=$(cpu_ticks)
    for _ in $(seq "$N"); do
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $2" \
            "http://127.0.0.1:$PORT$3" >> "$f"
    done
    c1=$(cpu_ticks)
    if grep -qv '^200 ' "$f"; then echo "$1: non-200 answers" >&2; fi
    awk '{print $2 * 1000}' "$f" | sort -n | awk -v label="$1" -v cpu="$(( (c1 - c0) * 1000 / HZ ))" \
        -v n="$N" '{a[NR] = $1} END {printf "| %s | %.1f | %.1f | %.1f | %.1f |\n", label,
                   a[int(NR * 0.5)], a[int(NR * 0.99)], a[NR], cpu / n}'
    rm -f "$f"
}
echo "| request ($N each, sequential; window $FROM..$TO) | p50 ms | p99 ms | max ms | CPU ms |"
echo "|---|---|---|---|---|"
for who in "ministry:$MIN" "locality $PROVINCE:$LOC" "locality commune $COMMUNE:$COM" \
           "carrier $CARRIER:$CAR"; do
    label=${who%%:*}; tok=${who#*:}
    for by in province carrier tech month reason; do
        measure "progress?by=$by, $label" "$tok" "/v1/stats/progress?by=$by"
    done
    measure "progress?by=province&from&to, $label" "$tok" \
        "/v1/stats/progress?by=province&from=$FROM&to=$TO"
    measure "progress?by=carrier&from&to, $label" "$tok" \
        "/v1/stats/progress?by=carrier&from=$FROM&to=$TO"
    measure "summary, $label" "$tok" "/v1/stats/summary"
    measure "summary?from&to, $label" "$tok" "/v1/stats/summary?from=$FROM&to=$TO"
done
for t in "$MIN" "$LOC" "$COM" "$CAR"; do "$BIN" token revoke "$t" >/dev/null 2>&1 || true; done
