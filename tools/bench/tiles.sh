#!/usr/bin/env bash
# tools/bench/tiles.sh — vector tiles at national scale: 10 M speed tests and
# 100 k dead-zone points (tools/bench/tiles-data.sql, in a cluster of its
# own, .run/bench-tiles, made and filled on the first run).
#
# For each layer (coverage, points with a ministry token, units) at zooms 5
# and 8 every tile over Vietnam's mainland box, at zooms 11 and 14 a sample
# of SAMPLE (500) tiles where there is data.  After one warm-up pass, each
# tile is fetched once over HTTP (one curl process, keep-alive, sequential),
# plain and with Accept-Encoding: gzip, and its statement
# (maps_tile_sql(), printed by tools/bench/tiles-sql.c) is run straight in
# psql as the application role with the same parameters (custom plans, as
# the server's PQexecParams), once untimed and once timed in one session.
# Prints a Markdown table: p50/p99/max ms, tile sizes in bytes.
#
#   make && tools/bench/tiles.sh            (N=… POINTS=… SAMPLE=… to change)
#   tools/db.sh destroy bench-tiles         (to start again from nothing)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/build/lomsong
CLUSTER=${CLUSTER:-bench-tiles}
N=${N:-10000000}
POINTS=${POINTS:-100000}
SITES=${SITES:-12000}
SAMPLE=${SAMPLE:-500}
PORT=${PORT:-18231}
SHARED=${SHARED:-$ROOT/../shared/data}
WORK=${WORK:-/tmp/lomsong-bench-tiles}
mkdir -p "$WORK"
[ -x "$BIN" ] || { echo "build first: make" >&2; exit 1; }

"$ROOT/tools/db.sh" start "$CLUSTER" >/dev/null
OWNER=$("$ROOT/tools/db.sh" conninfo "$CLUSTER" owner)
APP=$("$ROOT/tools/db.sh" conninfo "$CLUSTER" app)
export LOMSONG_ADMIN_DB=$OWNER LOMSONG_DB=$APP
"$BIN" migrate >/dev/null
# The owner, in the 'system' context (it sees every row through row-level security).
sysq() { PGOPTIONS='-c lomsong.role=system' psql -X -q -At -v ON_ERROR_STOP=1 "$OWNER" "$@"; }

if [ "$(sysq -c "SELECT count(*) FROM admin_units")" = 0 ]; then
    "$ROOT/tools/load-reference.sh" "$BIN" "$SHARED" >/dev/null
fi
if [ "$(sysq -c "SELECT count(*) FROM dz_points")" = 0 ]; then
    echo "generating $N measurements and $POINTS points (once) ..." >&2
    hc=""; hs=""
    for k in $(seq 0 31); do
        hc+="${hc:+, }count(*) FILTER (WHERE bin = $k)"
        hs+="${hs:+, }sum(hist[$((k + 1))])"
    done
    t0=$(date +%s)
    sysq -v n="$N" -v points="$POINTS" -v sites="$SITES" -v hist_count="ARRAY[$hc]::int[]" \
        -v hist_sum="ARRAY[$hs]::int[]" -f "$ROOT/tools/bench/tiles-data.sql" >&2
    echo "generated in $(( $(date +%s) - t0 )) s" >&2
fi

cc -std=c11 -D_GNU_SOURCE -O1 -I"$ROOT" -o "$WORK/tiles-sql" "$ROOT/tools/bench/tiles-sql.c" \
    "$ROOT/maps/tiles.c" "$ROOT/geo/db.c" "$ROOT/api/log.c" "$ROOT/api/buf.c" "$ROOT/api/ls.c" \
    $(pkg-config --cflags --libs libpq libcjson zlib) -lpthread

# The tiles: layer z x y.
sysq -F " " > "$WORK/tiles.txt" <<SQL
WITH b AS (SELECT z, floor((102.14 + 180) / 360 * 2 ^ z)::int AS x0,
                  floor((109.47 + 180) / 360 * 2 ^ z)::int AS x1,
                  floor((1 - ln(tan(radians(23.39)) + 1 / cos(radians(23.39))) / pi()) / 2 * 2 ^ z)::int AS y0,
                  floor((1 - ln(tan(radians(8.40)) + 1 / cos(radians(8.40))) / pi()) / 2 * 2 ^ z)::int AS y1
             FROM (VALUES (5), (8)) v(z)),
     cells AS (SELECT DISTINCT z, cell_x >> (16 - z) AS x, cell_y >> (16 - z) AS y
                 FROM coverage_cells16, (VALUES (11), (14)) v(z)),
     pts AS (SELECT DISTINCT z, floor((ST_X(geom) + 180) / 360 * 2 ^ z)::int AS x,
                    floor((1 - ln(tan(radians(ST_Y(geom))) + 1 / cos(radians(ST_Y(geom)))) / pi())
                          / 2 * 2 ^ z)::int AS y
               FROM dz_points, (VALUES (11), (14)) v(z)),
     pick AS (SELECT z, x, y, row_number() OVER (PARTITION BY z ORDER BY md5(z || '/' || x || '/' || y)) AS k
                FROM cells),
     pickp AS (SELECT z, x, y, row_number() OVER (PARTITION BY z ORDER BY md5(z || '/' || x || '/' || y)) AS k
                 FROM pts)
SELECT l, z, x, y FROM b, generate_series(x0, x1) x, generate_series(y0, y1) y,
       unnest(ARRAY['coverage', 'points', 'units']) l
UNION ALL SELECT l, z, x, y FROM pick, unnest(ARRAY['coverage', 'units']) l WHERE k <= $SAMPLE
UNION ALL SELECT 'points', z, x, y FROM pickp WHERE k <= $SAMPLE
ORDER BY 1, 2, 3, 4;
SQL

TOK=$("$BIN" token create --role ministry --name "tiles bench" 2>/dev/null)
"$BIN" serve --listen 127.0.0.1:$PORT --log-level warn >"$WORK/serve.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; "$BIN" token revoke "$TOK" >/dev/null 2>&1 || true' EXIT
until curl -sf -o /dev/null http://127.0.0.1:$PORT/healthz; do sleep 0.1; done

level() { if [ "$1" -le 4 ]; then echo 7; elif [ "$1" -le 7 ]; then echo 10; elif [ "$1" -le 10 ]; then echo 13; else echo 16; fi; }

# p50 p99 max of a column of numbers (stdin).
stats() { sort -n | awk '{a[NR] = $1} END {
    if (NR == 0) { print "- - -"; exit }
    i50 = int(NR * 0.50 + 0.999); i99 = int(NR * 0.99 + 0.999);
    printf "%s %s %s\n", a[i50], a[i99], a[NR] }'; }

http() { # layer z curl-args... -> "code bytes seconds" per tile
    local l=$1 z=$2; shift 2
    awk -v l="$l" -v z="$z" -v port="$PORT" '$1 == l && $2 == z {
        printf "url = \"http://127.0.0.1:%s/tiles/%s/%s/%s/%s.mvt\"\noutput = \"/dev/null\"\n", port, l, z, $3, $4 }' \
        "$WORK/tiles.txt" > "$WORK/curl.cfg"
    local auth=()
    [ "$l" = points ] && auth=(-H "Authorization: Bearer $TOK")
    curl -s -K "$WORK/curl.cfg" "${auth[@]}" "$@" -w '%{http_code} %{size_download} %{time_total}\n'
}

psql_times() { # layer z -> ms per tile
    local l=$1 z=$2 lv
    lv=$(level "$z")
    execs() {
        awk -v l="$l" -v z="$z" -v lv="$lv" '$1 == l && $2 == z {
            if (l == "coverage") printf "EXECUTE q(%s, %s, %s, %s, NULL, NULL, 40, 20000);\n", z, $3, $4, lv;
            else if (l == "points") printf "EXECUTE q(%s, %s, %s, 20000);\n", z, $3, $4;
            else printf "EXECUTE q(%s, %s, %s, %s, 20000);\n", z, $3, $4, (z < 11 ? z : 11) }' \
            "$WORK/tiles.txt"
    }
    {
        echo "SET plan_cache_mode = force_custom_plan;"
        [ "$l" = points ] && echo "SELECT set_config('lomsong.role', 'ministry', false) \\g /dev/null"
        echo "PREPARE q AS $("$WORK/tiles-sql" "$l" "$z");"
        echo '\o /dev/null'
        # An untimed pass first, as the server's pooled connections are warm:
        # a new backend pays for its first touch of every page it reads
        # (~5 ms on a dense tile here, though all are in shared buffers).
        execs
        echo '\timing on'
        execs
    } | psql -X -q -v ON_ERROR_STOP=1 "$APP" | awk '/^Time:/ {print $2}'
}

echo "measurements: $(sysq -c "SELECT count(*) FROM measurements"), coverage cells: $(sysq -c \
    "SELECT count(*) FROM coverage_cells") (level 16: $(sysq -c \
    "SELECT count(*) FROM coverage_cells16") in $(sysq -c \
    "SELECT count(*) FROM coverage_blocks") blocks), points: $(sysq -c \
    "SELECT count(*) FROM dz_points"); machine: $(nproc) cores, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| layer | zoom | tiles (200 / 204) | HTTP p50 ms | HTTP p99 ms | HTTP max ms | SQL p50 ms | SQL p99 ms | bytes p50 | bytes p99 | bytes max | gzip bytes p50 | gzip bytes max |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for l in coverage points units; do
    for z in 5 8 11 14; do
        n=$(awk -v l="$l" -v z="$z" '$1 == l && $2 == z' "$WORK/tiles.txt" | wc -l)
        [ "$n" -gt 0 ] || continue
        http "$l" "$z" >/dev/null # warm-up
        http "$l" "$z" > "$WORK/plain.txt"
        http "$l" "$z" -H "Accept-Encoding: gzip" > "$WORK/gzip.txt"
        psql_times "$l" "$z" > "$WORK/sql.txt"
        if grep -qv '^20[04] ' "$WORK/plain.txt"; then
            echo "$l z$z: answers other than 200/204: $(grep -v '^20[04] ' "$WORK/plain.txt" | head -3)" >&2
        fi
        ok=$(grep -c '^200 ' "$WORK/plain.txt" || true)
        empty=$(grep -c '^204 ' "$WORK/plain.txt" || true)
        read -r h50 h99 hmax < <(awk '{printf "%.1f\n", $3 * 1000}' "$WORK/plain.txt" | stats)
        read -r s50 s99 smax < <(awk '{printf "%.1f\n", $1}' "$WORK/sql.txt" | stats)
        read -r b50 b99 bmax < <(awk '$1 == 200 {print $2}' "$WORK/plain.txt" | stats)
        read -r g50 g99 gmax < <(awk '$1 == 200 {print $2}' "$WORK/gzip.txt" | stats)
        echo "| $l | $z | $n ($ok / $empty) | $h50 | $h99 | $hmax | $s50 | $s99 | $b50 | $b99 | $bmax | $g50 | $gmax |"
    done
done
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
