#!/usr/bin/env bash
# tools/bench/ingest.sh — measurement ingest speed and memory.
#
# Generates an N-row CSV (default 1,000,000) of speed tests inside Vietnam,
# then loads it, in one run against one fresh database in the local dev
# cluster (make db first):
#   1. lomsong ingest measurements      (validation, dedupe, 40 Mbps test, cells)
#   2. ogr2ogr -f PostgreSQL            (what a GIS user would reach for; default spatial index)
#   3. psql \copy into a plain table    (the floor)
# and prints a Markdown table: seconds, rows/s, peak RSS.  Needs GNU time.
# ROUNDS=k repeats the whole (a fresh database each round) and ends with the
# ratios of every round and their medians, and each loader's best, median and
# worst time: on a shared machine one round's ratio moves with the neighbours'
# load.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/build/lomsong
N=${N:-1000000}
ROUNDS=${ROUNDS:-1}
DB=lomsong_bench
WORK=${WORK:-/tmp/lomsong-bench}
SHARED=${SHARED:-$ROOT/../shared/data}
mkdir -p "$WORK"
CSV=$WORK/measurements_$N.csv

[ -x "$BIN" ] || { echo "build first: make" >&2; exit 1; }
"$ROOT/tools/db.sh" start dev >/dev/null
OWNER=$("$ROOT/tools/db.sh" conninfo dev owner $DB)
APP=$("$ROOT/tools/db.sh" conninfo dev app $DB)
export LOMSONG_ADMIN_DB=$OWNER LOMSONG_DB=$APP
fresh_db() {
    "$ROOT/tools/db.sh" createdb dev $DB >/dev/null 2>&1
    "$BIN" migrate >/dev/null
    "$ROOT/tools/load-reference.sh" "$BIN" "$SHARED" >/dev/null 2>&1
}

if [ ! -s "$CSV" ]; then
    # Points around the country's populated boxes (north, centre, south), one
    # test a second per carrier, speeds 0-150 Mbps.
    awk -v n="$N" 'BEGIN {
        srand(42);
        split("viettel,vinaphone,mobifone,vietnamobile", ops, ",");
        split("4G,4G,4G,3G,5G", techs, ",");
        print "lat,lon,time,download_mbps,upload_mbps,ping_ms,operator,network_type";
        t0 = 1735689600;  # 2025-01-01
        for (i = 0; i < n; i++) {
            b = i % 3;
            if (b == 0) { lat = 20.6 + rand() * 1.6; lon = 105.2 + rand() * 1.3 }
            else if (b == 1) { lat = 15.8 + rand() * 0.8; lon = 107.8 + rand() * 0.5 }
            else { lat = 10.3 + rand() * 0.8; lon = 106.2 + rand() * 0.7 }
            t = t0 + i * 7;
            printf "%.6f,%.6f,%s,%.2f,%.2f,%d,%s,%s\n", lat, lon, strftime("%Y-%m-%dT%H:%M:%SZ", t, 1),
                rand() * 150, rand() * 40, 10 + int(rand() * 90), ops[1 + i % 4], techs[1 + i % 5];
        }
    }' > "$CSV"
fi
SIZE=$(du -m "$CSV" | cut -f1)

SUPER=$("$ROOT/tools/db.sh" conninfo dev super $DB)
run() { # label, command...
    local label=$1; shift
    # Each loader starts from a checkpoint: none pays for the WAL the one
    # before it left to be written out.
    psql -X -q "$SUPER" -c "CHECKPOINT"
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" > "$WORK/out.txt" 2> "$WORK/err.txt" || {
        echo "$label failed:" >&2; tail -5 "$WORK/err.txt" >&2; exit 1; }
    read -r secs kb < "$WORK/time.txt"
    LAST=$secs
    printf '| %s | %.2f | %s | %.0f |\n' "$label" "$secs" \
        "$(awk -v n="$N" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')" "$(awk -v k="$kb" 'BEGIN {print k / 1024}')"
}

echo "rows: $N, file: ${SIZE} MB, machine: $(nproc) cores"
times=""
for round in $(seq "$ROUNDS"); do
    fresh_db
    echo
    [ "$ROUNDS" -gt 1 ] && echo "round $round"
    echo "| loader | seconds | rows/s | peak RSS (MB) |"
    echo "|---|---|---|---|"
    run "lomsong ingest measurements" "$BIN" ingest measurements "$CSV" --rejects "$WORK/rejects.csv" --json
    t_lomsong=$LAST
    cp "$WORK/out.txt" "$WORK/lomsong-summary.json"
    run "ogr2ogr -f PostgreSQL" ogr2ogr -f PostgreSQL "PG:$OWNER" "$CSV" -nln ogr_bench -overwrite \
        -oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat -oo AUTODETECT_TYPE=YES -a_srs EPSG:4326
    t_ogr=$LAST
    PGOPTIONS="-c client_min_messages=warning" psql -X -q "$OWNER" -c "DROP TABLE IF EXISTS copy_bench; CREATE TABLE copy_bench (lat float8, lon float8, time timestamptz, download_mbps real, upload_mbps real, ping_ms real, operator text, network_type text)"
    run "psql \\copy (plain table, the floor)" psql -X -q "$OWNER" -c "\\copy copy_bench FROM '$CSV' CSV HEADER"
    times="$times $t_lomsong:$t_ogr:$LAST"
done
echo
echo "lomsong summary: $(cat "$WORK/lomsong-summary.json")"
if [ "$ROUNDS" -gt 1 ]; then
    # Per round, and over the rounds: each loader's best and median time and
    # the ratios of those.  The machine's neighbours slow a stretch of seconds,
    # not a whole round, so a round's three loaders are not hit alike: the
    # best time of each loader is its cost with the least interference, the
    # median its typical cost.
    echo "$times" | tr ' ' '\n' | awk -F: 'NF == 3 { l[++n] = $1; o[n] = $2; c[n] = $3 }
        function sort(a, n,   i, j, t) {
            for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t } }
        function median(a, n) { sort(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
        END {
            line1 = "ogr2ogr / lomsong per round:"; line2 = "lomsong / \\copy per round:"
            for (i = 1; i <= n; i++) {
                ro[i] = o[i] / l[i]; rc[i] = l[i] / c[i]
                line1 = line1 sprintf(" %.2f", ro[i]); line2 = line2 sprintf(" %.2f", rc[i]) }
            print line1 sprintf("; median %.2f", median(ro, n))
            print line2 sprintf("; median %.2f", median(rc, n))
            ml = median(l, n); mo = median(o, n); mc = median(c, n)  # l, o, c now sorted
            printf "| over %d rounds | lomsong | ogr2ogr | psql \\copy | ogr2ogr / lomsong | lomsong / \\copy |\n", n
            print "|---|---|---|---|---|---|"
            printf "| best | %.2f s | %.2f s | %.2f s | %.2f | %.2f |\n", l[1], o[1], c[1], o[1] / l[1], l[1] / c[1]
            printf "| median | %.2f s | %.2f s | %.2f s | %.2f | %.2f |\n", ml, mo, mc, mo / ml, ml / mc
            printf "| worst | %.2f s | %.2f s | %.2f s | | |\n", l[n], o[n], c[n] }'
fi
