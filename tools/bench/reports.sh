#!/usr/bin/env bash
# tools/bench/reports.sh — dead-zone report files: `lomsong ingest reports`
# on generated locality files of N rows (default 1,000 and 10,000), each
# loaded twice (the second time every row is a duplicate), against the
# database LOMSONG_DB / LOMSONG_ADMIN_DB point at (else the local dev
# cluster: make db first).  Prints a Markdown table: seconds, rows/s, peak
# RSS, and the phases from the debug log (read, validate, file).
# Rows: places spread over Lào Cai (province 15), 3G/4G/5G, one row in 30
# outside the province (rejected).  Needs GNU time.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/build/lomsong
SIZES=${SIZES:-"1000 10000"}
WORK=${WORK:-/tmp/lomsong-bench-reports}
mkdir -p "$WORK"
[ -x "$BIN" ] || { echo "build first: make" >&2; exit 1; }
TOK=$("$BIN" token create --role locality --unit 15 --name "reports bench" 2>/dev/null)
run=$(date +%s)

echo "| file | rows | seconds | rows/s | read | validate | file | peak RSS |"
echo "|---|---|---|---|---|---|---|---|"
for n in $SIZES; do
    csv=$WORK/reports_${n}_$run.csv
    awk -v n="$n" -v seed="$run" 'BEGIN {
        srand(seed);
        split("3G,4G,5G", techs, ",");
        print "Thôn/Bản,Kinh độ,Vĩ độ,Nhà mạng,Công nghệ,Hiện tượng,Số hộ,Ghi chú";
        for (i = 0; i < n; i++) {
            lon = 104.0 + rand() * 0.8; lat = 21.75 + rand() * 0.55;
            if (i % 30 == 29) { lon = 105.85; lat = 21.03 }   # Hà Nội: rejected
            printf "Thôn %d,%.6f,%.6f,Viettel,%s,mất sóng,%d,\n", i, lon, lat,
                   techs[1 + i % 3], 1 + i % 80;
        }
    }' > "$csv"
    for pass in first again; do
        log=$WORK/log_${n}_${pass}.txt
        /usr/bin/time -f "%e %M" -o "$WORK/time" "$BIN" --log-level debug ingest reports "$csv" \
            --token "$TOK" --json > "$WORK/out" 2> "$log"
        read -r secs kb < "$WORK/time"
        phase() { grep -o "\"reports import: $1[^\"]*" "$log" | grep -o '[0-9.]* s$' || echo "-"; }
        printf "| %s (%s) | %d | %.1f | %.0f | %s | %s | %s | %.1f MB |\n" "$n rows" "$pass" "$n" \
            "$secs" "$(echo "$n / $secs" | bc -l)" "$(phase read)" "$(phase transformed)" \
            "$(phase filed)" "$(echo "$kb / 1024" | bc -l)"
    done
done
