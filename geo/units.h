/*
 * units.h — administrative units (provinces, communes), their versions in
 * time and their successors, plus the carriers list: reference data read
 * through GDAL/OGR like any user file, transformed to WGS 84 through PROJ
 * (via OGR's coordinate transformation), and answered from PostGIS.
 *
 * Loading is atomic (one transaction per file) and idempotent: loading the
 * same file with the same validity again replaces what it loaded before.
 */
#ifndef LS_GEO_UNITS_H
#define LS_GEO_UNITS_H

#include <libpq-fe.h>
#include <stddef.h>

#include "../api/config.h"
#include "../api/ls.h"

/* Loads polygons of `level` ("province" or "commune") valid from
 * `valid_from` to `valid_to` (exclusive; NULL = still in force).  Codes come
 * from field `code_field` (default "code"), names from `name_field`
 * (default "name"), a commune's province from `province_field` (default
 * "province_code"; only for communes).  Geometries are made valid, forced
 * to MultiPolygon and also stored generalised (~100 m) for maps.
 * *loaded (may be NULL) gets the number of units.  On error nothing is
 * written and err holds a message for the user (file, feature, field). */
ls_status geo_units_load(PGconn *c, const char *path, const char *level, const char *valid_from,
                         const char *valid_to, const char *code_field, const char *name_field,
                         const char *province_field, int *loaded, char *err, size_t errlen);

/* Loads province successors from a CSV with new_code, old_code, type
 * (full|partial) columns, effective on `effective` (YYYY-MM-DD). */
ls_status geo_units_load_merges(PGconn *c, const char *path, const char *effective, int *loaded,
                                char *err, size_t errlen);

/* Loads the commune list (no geometry) from a CSV with province_code,
 * commune_code, commune_name, merged_from_codes (space-separated old commune
 * codes) columns: communes valid from `valid_from`, and commune successors. */
ls_status geo_units_load_communes(PGconn *c, const char *path, const char *valid_from, int *loaded,
                                  char *err, size_t errlen);

/* Loads or updates carriers from a table with code, name, mcc_mnc (one or
 * more "452-04" values separated by spaces or semicolons), kind columns. */
ls_status geo_carriers_load(PGconn *c, const char *path, int *loaded, char *err, size_t errlen);

/* The province code containing (lat, lon) on `date` (NULL = today), written
 * to code (>= 8 bytes); LS_ENOTFOUND when the point is in no province. */
ls_status geo_units_locate(PGconn *c, double lat, double lon, const char *date, char *code,
                           size_t codelen);

/* Today's code for a province code that may be from before the 2025
 * merger; LS_ENOTFOUND when the code never existed. */
ls_status geo_units_current(PGconn *c, const char *code, char *out, size_t outlen);

/* `lomsong units ...` and `lomsong carriers ...`; return the exit code. */
int geo_units_cli(const ls_config *cfg, int argc, char **argv);
int geo_carriers_cli(const ls_config *cfg, int argc, char **argv);

#endif
