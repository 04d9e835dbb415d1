#!/usr/bin/env bash
# tools/bench/api.sh — latency of user operations on the demo data.
#
# Starts the optimised server on the local dev cluster (make run / make db
# first, so the demo data is loaded), sends N sequential requests per
# endpoint with a ministry token over loopback (curl, new connection each
# time, so connection set-up is included), and prints p50/p99/max in ms.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/build/lomsong
N=${N:-300}
PORT=${PORT:-18199}
"$BIN" serve --listen 127.0.0.1:$PORT --log-level warn >/dev/null 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
until curl -sf -o /dev/null http://127.0.0.1:$PORT/healthz; do sleep 0.05; done
TOK=$("$BIN" token create --role ministry --name "api bench" 2>/dev/null)
LOC=$("$BIN" token create --role locality --unit 15 --name "api bench" 2>/dev/null)

measure() { # label, token, path
    local f; f=$(mktemp)
    for _ in $(seq "$N"); do
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $2" \
            "http://127.0.0.1:$PORT$3" >> "$f"
    done
    if grep -qv '^200 ' "$f"; then echo "$1: non-200 answers" >&2; fi
    awk '{print $2 * 1000}' "$f" | sort -n | awk -v label="$1" '
        {a[NR] = $1} END {printf "| %s | %.1f | %.1f | %.1f |\n", label, a[int(NR * 0.5)],
                          a[int(NR * 0.99)], a[NR]}'
    rm -f "$f"
}
echo "| request ($N each, sequential, ministry token unless noted) | p50 ms | p99 ms | max ms |"
echo "|---|---|---|---|"
measure "GET /v1/points?limit=100" "$TOK" "/v1/points?limit=100"
measure "GET /v1/points?status=blocked,in_progress&overdue=true" "$TOK" "/v1/points?status=blocked,in_progress&overdue=true"
measure "GET /v1/points (locality 15)" "$LOC" "/v1/points?limit=100"
measure "GET /v1/stats/progress?by=province" "$TOK" "/v1/stats/progress?by=province"
measure "GET /v1/stats/progress?by=carrier" "$TOK" "/v1/stats/progress?by=carrier"
measure "GET /v1/stats/summary" "$TOK" "/v1/stats/summary"
measure "GET /v1/coverage/at (Hà Nội)" "$TOK" "/v1/coverage/at?lat=21.03&lon=105.85"
"$BIN" token revoke "$TOK" >/dev/null 2>&1 || true
"$BIN" token revoke "$LOC" >/dev/null 2>&1 || true
