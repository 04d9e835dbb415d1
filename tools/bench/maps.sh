#!/usr/bin/env bash
# tools/bench/maps.sh — latency of printable maps (GET /v1/maps/{code}.png)
# and of a few exports, on the demo data.
#
# Starts the optimised server on the database lomsong's settings point at
# (the local dev cluster by default: `make run` / `make db` first, so the
# demo data is loaded; or LOMSONG_DB / LOMSONG_ADMIN_DB for another one),
# sends N sequential requests per case over loopback (curl, a new
# connection each time), cycling through all 34 provinces, and prints
# p50/p99/max in ms.  The server's debug log has the time of each phase of
# a map (province, cells, clip, points, encoding); SHOW_PHASES=1 prints
# their medians.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/build/lomsong}
N=${N:-170}
PORT=${PORT:-18197}
LOG=$(mktemp)
"$BIN" serve --listen 127.0.0.1:$PORT --log-level debug >/dev/null 2>"$LOG" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$LOG"' EXIT
until curl -sf -o /dev/null http://127.0.0.1:$PORT/healthz; do sleep 0.05; done
TOK=$("$BIN" token create --role ministry --name "maps bench" 2>/dev/null)
CODES=$(curl -s "http://127.0.0.1:$PORT/v1/units?geometry=none" |
    grep -o '"code" *: *"[0-9]*"' | grep -o '[0-9][0-9]*' | sort -u)
[ -n "$CODES" ] || { echo "maps.sh: no provinces loaded" >&2; exit 1; }

# CPU seconds the server process has used (user + system), load-independent.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' /proc/$pid/stat; }

measure() { # label, query (appended to /v1/maps/CODE.png)
    local f; f=$(mktemp)
    local i=0 c0; c0=$(cpu)
    while [ $i -lt "$N" ]; do
        for code in $CODES; do
            [ $i -lt "$N" ] || break
            curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $TOK" \
                "http://127.0.0.1:$PORT/v1/maps/$code.png$2" >> "$f"
            i=$((i + 1))
        done
    done
    if grep -qv '^200 ' "$f"; then echo "$1: non-200 answers" >&2; fi
    local cms; cms=$(awk -v a="$c0" -v b="$(cpu)" -v n="$N" 'BEGIN {printf "%.1f", (b - a) * 1000 / n}')
    awk '{print $2 * 1000}' "$f" | sort -n | awk -v label="$1" -v cms="$cms" '
        {a[NR] = $1} END {printf "| %s | %.1f | %.1f | %.1f | %s |\n", label, a[int(NR * 0.5)],
                          a[int(NR * 0.99)], a[NR], cms}'
    rm -f "$f"
}

once() { # label, path: one request, ms and size
    curl -s -o /dev/null -w "| $1 | %{time_total} | %{size_download} |\n" \
        -H "Authorization: Bearer $TOK" "http://127.0.0.1:$PORT$2" |
        awk -F'|' '{printf "|%s| %.0f | %.1f MB |\n", $2, $3 * 1000, $4 / 1e6}'
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo
echo "| map ($N each, sequential, all provinces in turn) | p50 ms | p99 ms | max ms | server CPU ms/map |"
echo "|---|---|---|---|---|"
measure "coverage, width 1024" "?width=1024"
measure "coverage and points, width 1024" "?layer=coverage,points&width=1024"
measure "coverage, width 2048" "?width=2048"
measure "coverage, width 4096 (the cap)" "?width=4096"
echo
echo "| export (one request, ministry) | ms | size |"
echo "|---|---|---|"
once "points.gpkg" "/v1/export/points.gpkg"
once "points.csv" "/v1/export/points.csv"
once "points.shp.zip" "/v1/export/points.shp.zip"
once "coverage.gpkg (level 16)" "/v1/export/coverage.gpkg"
once "coverage.geojson (level 13)" "/v1/export/coverage.geojson?res=13"
once "units.gpkg (34 full boundaries)" "/v1/export/units.gpkg"
once "units.geojson (34 full boundaries)" "/v1/export/units.geojson"
if [ "${SHOW_PHASES:-0}" = 1 ]; then
    echo
    echo "median phase times of the width-1024 maps (province, cells, clip, points+boundary, encoding), ms:"
    grep -o '"msg":"render [0-9]* 1024x[0-9]*: [^"]*"' "$LOG" | sed 's/.*: //; s/[a-z "]//g' >"$LOG.p"
    for k in 1 2 3 4 5; do
        cut -d, -f$k "$LOG.p" | sort -n | awk '{a[NR] = $1} END {printf "%s ", a[int(NR / 2) + 1]}'
    done
    echo
    rm -f "$LOG.p"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
"$BIN" token revoke "$TOK" >/dev/null 2>&1 || true
