#!/usr/bin/env bash
# tools/load-reference.sh BIN DATA_DIR — loads the reference data (carriers,
# provinces before and after the 2025 merger, the merger table, communes)
# through `lomsong`, i.e. through GDAL like any user file.  Every step is
# idempotent; the database is the one BIN's settings point at
# (LOMSONG_ADMIN_DB, or the local cluster).
set -euo pipefail
BIN=${1:?lomsong binary}; DATA=${2:?reference data directory}
[ -f "$DATA/vn_provinces_2025.geojson" ] || { echo "load-reference: no reference data in $DATA" >&2; exit 1; }
"$BIN" carriers load "$DATA/vn_carriers.csv"
"$BIN" units load "$DATA/vn_provinces_2024.geojson" --level province --valid-from 2008-08-01 --valid-to 2025-07-01
"$BIN" units load "$DATA/vn_provinces_2025.geojson" --level province --valid-from 2025-07-01
"$BIN" units load-merges "$DATA/vn_province_merges_2025.csv" --effective 2025-07-01
"$BIN" units load-communes "$DATA/vn_communes_2025.csv" --valid-from 2025-07-01
