#!/usr/bin/env bash
# tools/bench/startup.sh — start-up time and memory of `lomsong serve`.
#
# Starts the optimised server N times against the local dev cluster
# (make db first) and measures, per start: the time from exec to the first
# 200 from /healthz (wall clock, includes connecting to PostgreSQL), and the
# resident set size when idle; then, on one server, RSS after a burst of
# requests.  Prints a Markdown table for BENCHMARKS.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/build/lomsong
N=${N:-10}
PORT=${PORT:-18181}
[ -x "$BIN" ] || { echo "build first: make" >&2; exit 1; }

now_ms() { date +%s%3N; }
rss_kb() { awk '/VmRSS/ {print $2}' /proc/"$1"/status; }

starts=(); rss=()
for i in $(seq "$N"); do
    t0=$(now_ms)
    "$BIN" serve --listen 127.0.0.1:$PORT --log-level warn >/dev/null 2>&1 &
    pid=$!
    until curl -sf -o /dev/null http://127.0.0.1:$PORT/healthz; do sleep 0.005; done
    t1=$(now_ms)
    sleep 0.5
    starts+=($((t1 - t0))); rss+=($(rss_kb $pid))
    kill -TERM $pid; wait $pid
done

"$BIN" serve --listen 127.0.0.1:$PORT --log-level warn >/dev/null 2>&1 &
pid=$!
until curl -sf -o /dev/null http://127.0.0.1:$PORT/healthz; do sleep 0.005; done
idle=$(rss_kb $pid)
for j in $(seq 200); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/v1/units?level=province" & c1=$!
    curl -s -o /dev/null "http://127.0.0.1:$PORT/v1/units/locate?lat=21.03&lon=105.85" & c2=$!
    curl -s -o /dev/null "http://127.0.0.1:$PORT/v1/carriers" & c3=$!
    wait $c1 $c2 $c3
done
busy=$(rss_kb $pid)
kill -TERM $pid; wait $pid

sorted=$(printf '%s\n' "${starts[@]}" | sort -n)
med=$(echo "$sorted" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
max=$(echo "$sorted" | tail -1)
rmed=$(printf '%s\n' "${rss[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "| measure | value |"
echo "|---|---|"
echo "| start to first 200 /healthz, median of $N (ms) | $med |"
echo "| start to first 200 /healthz, max of $N (ms) | $max |"
echo "| idle RSS after start, median (MB) | $(awk "BEGIN {printf \"%.1f\", $rmed/1024}") |"
echo "| RSS after 600 requests incl. 200 × /v1/units (MB) | $(awk "BEGIN {printf \"%.1f\", $busy/1024}") |"
echo "| idle RSS of that server before the burst (MB) | $(awk "BEGIN {printf \"%.1f\", $idle/1024}") |"
