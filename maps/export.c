/*
 * export.c — see export.h.
 *
 * Each layer is one fixed, parameterized query (the same filters and
 * scoping as its list endpoint) with its fields declared once: name, the
 * Shapefile name (at most 10 characters, chosen here rather than left to
 * the driver's truncation), the type, and the width a DBF column gets.
 * Types are declared for what they are and lowered only where a driver has
 * no such type: Integer64 -> Integer in KML, dates and times -> ISO 8601
 * text where the driver has no date (KML; date-times in Shapefile, whose
 * DBF holds dates only), booleans -> 0/1 integers where there is no boolean
 * subtype.  Geometries come as WKB from PostGIS (coverage cells, which are
 * Web Mercator tiles, are built here from their tile address); CSV and XLSX
 * are attribute tables for spreadsheets and get lon/lat columns instead (a
 * point on the surface for polygons).
 *
 * $1 of every query is the row cap + 1: the count query stops there, and
 * the cursor cannot return more whatever changed in between.
 */
#include "export.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <dirent.h>
#include <errno.h>
#include <gdal.h>
#include <limits.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../api/auth.h"
#include "../api/cli.h"
#include "../api/log.h"
#include "../api/server.h"
#include "../geo/db.h"
#include "../geo/gdal.h"
#include "../geo/tile.h"

#define GPKG_TX_ROWS 50000
/* GDAL's XLSX writer keeps the whole sheet in memory until it closes the
 * file (~0.5 kB a row of points: 224 MB peak at 392,000 cells), so a
 * spreadsheet is capped well below a worksheet's 1,048,575 rows. */
#define XLSX_MAX_ROWS 100000
#define CURSOR "maps_export"
#define FETCH "FETCH 1000 FROM " CURSOR /* rows in memory at a time */

/* ------------------------------------------------------------ formats */

struct format {
    const char *ext, *driver, *content_type;
    int table; /* an attribute table (lon/lat columns, no geometry) */
};

static const struct format formats[] = {
    {"geojson", "GeoJSON", "application/geo+json", 0},
    {"gpkg", "GPKG", "application/geopackage+sqlite3", 0},
    {"kml", "KML", "application/vnd.google-earth.kml+xml", 0},
    {"csv", "CSV", "text/csv; charset=utf-8", 1},
    {"xlsx", "XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 1},
    {"shp.zip", "ESRI Shapefile", "application/zip", 0},
};

/* ------------------------------------------------------------- layers */

enum ftype { FT_INT, FT_INT64, FT_REAL, FT_STR, FT_DATE, FT_DATETIME, FT_BOOL };

struct field {
    const char *name; /* as in the JSON API */
    const char *shp;  /* the DBF column name, <= 10 characters */
    enum ftype type;
    int width; /* DBF width of a text column, bytes (<= 254) */
};

enum geom_kind { GEOM_WKB, GEOM_TILE };

struct layer {
    const char *name;
    unsigned roles; /* as the list endpoint's route; 0 = public */
    OGRwkbGeometryType gtype;
    enum geom_kind geom; /* GEOM_WKB: after the fields come hex WKB, lon, lat;
                            GEOM_TILE: fields 0..2 are res, x, y */
    const struct field *fields;
    int nfields;
    const char *count_sql, *cursor_sql;
    const char *filters; /* for messages: what narrows it */
};

#define UTC(col) "to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define DAY(col) "to_char(" col ", 'YYYY-MM-DD')"

/* points: as GET /v1/points (api/h_reports.c), filters $2..$10. */
static const struct field point_fields[] = {
    {"id", "id", FT_INT64, 0},
    {"status", "status", FT_STR, 11},
    {"technology", "tech", FT_STR, 2},
    {"province_code", "province", FT_STR, 5},
    {"commune_code", "commune", FT_STR, 5},
    {"report_count", "reports", FT_INT, 0},
    {"people_affected", "people", FT_INT, 0},
    {"first_reported", "first_rep", FT_DATETIME, 0},
    {"due_date", "due_date", FT_DATE, 0},
    {"overdue", "overdue", FT_BOOL, 0},
    {"blocked_reason", "blocked", FT_STR, 11},
    {"disputed", "disputed", FT_BOOL, 0},
    {"carriers", "carriers", FT_STR, 254},
};
#define POINTS_FROM                                                                                \
    " FROM dz_points p"                                                                            \
    " WHERE ($2::float8 IS NULL OR p.geom && ST_MakeEnvelope($2::float8, $3::float8,"              \
    "  $4::float8, $5::float8, 4326))"                                                             \
    " AND ($6::text IS NULL OR p.province_code = $6 OR p.commune_code = $6)"                       \
    " AND ($7::text[] IS NULL OR p.status = ANY($7::text[]))"                                      \
    " AND ($8::text IS NULL OR p.technology = $8)"                                                 \
    " AND ($9::text IS NULL OR EXISTS (SELECT 1 FROM assignments a WHERE a.point_id = p.id"        \
    "  AND a.carrier_code = $9 AND a.status <> 'withdrawn'))"                                      \
    " AND ($10::bool IS NULL OR (p.due_date < current_date AND p.status NOT IN"                    \
    "  ('fixed', 'verified', 'rejected', 'merged')))"
#define POINTS_COLS                                                                                \
    "p.id, p.status, p.technology, p.province_code, p.commune_code, p.report_count,"               \
    " p.people_affected, " UTC("p.first_reported") ", " DAY(                                       \
        "p.due_date") ","                                                                          \
                      " coalesce(p.due_date < current_date AND p.status NOT IN"                    \
                      "  ('fixed', 'verified', 'rejected', 'merged'), false),"                     \
                      " p.blocked_reason, p.disputed,"                                             \
                      " (SELECT string_agg(a.carrier_code, ',' ORDER BY a.carrier_code) FROM "     \
                      "assignments a"                                                              \
                      "  WHERE a.point_id = p.id AND a.status <> 'withdrawn'),"                    \
                      " encode(ST_AsBinary(p.geom), 'hex'), ST_X(p.geom), ST_Y(p.geom)"

/* reports: as GET /v1/reports; a report's place is its point on the surface. */
static const struct field report_fields[] = {
    {"id", "id", FT_INT64, 0},
    {"point_id", "point_id", FT_INT64, 0},
    {"technology", "tech", FT_STR, 2},
    {"carriers", "carriers", FT_STR, 254},
    {"symptom", "symptom", FT_STR, 11},
    {"place", "place", FT_STR, 254},
    {"people_affected", "people", FT_INT, 0},
    {"note", "note", FT_STR, 254},
    {"province_code", "province", FT_STR, 5},
    {"commune_code", "commune", FT_STR, 5},
    {"source", "source", FT_STR, 4},
    {"created_at", "created", FT_DATETIME, 0},
    {"withdrawn_at", "withdrawn", FT_DATETIME, 0},
};
#define REPORTS_FROM " FROM reports r"
#define REPORTS_COLS                                                                               \
    "r.id, r.point_id, r.technology, array_to_string(r.carriers, ','), r.symptom, r.place,"        \
    " r.people_affected, r.note, r.province_code, r.commune_code, r.source,"                       \
    " " UTC("r.created_at") ", " UTC(                                                              \
        "r.withdrawn_at") ","                                                                      \
                          " encode(ST_AsBinary(ST_PointOnSurface(r.geom)), 'hex'), "               \
                          "ST_X(ST_PointOnSurface(r.geom)),"                                       \
                          " ST_Y(ST_PointOnSurface(r.geom))"

/* coverage: as GET /v1/coverage (api/h_measure.c), $2 res, $3..$6 the cell
 * range of the bbox, $7 carrier, $8 tech. */
static const struct field cell_fields[] = {
    {"res", "res", FT_INT, 0},
    {"x", "x", FT_INT, 0},
    {"y", "y", FT_INT, 0},
    {"carrier", "carrier", FT_STR, 32},
    {"technology", "tech", FT_STR, 2},
    {"tests", "tests", FT_INT, 0},
    {"meeting_min", "meeting", FT_INT, 0},
    {"share_meeting", "share", FT_REAL, 0},
    {"p10_download", "p10_dl", FT_REAL, 0},
    {"p50_download", "p50_dl", FT_REAL, 0},
    {"last_measured", "last_meas", FT_DATETIME, 0},
    {"status", "status", FT_STR, 10},
};
#define CELLS_FROM                                                                                 \
    " FROM coverage_cells_in($2::int, coalesce($3::int, 0), coalesce($4::int, 65535),"             \
    "  coalesce($5::int, 0), coalesce($6::int, 65535), $7::text, $8::text) c"
#define CELLS_COLS                                                                                 \
    "c.res, c.cell_x, c.cell_y, c.carrier_code, c.technology, c.tests, c.meeting_min,"             \
    " round(c.meeting_min::numeric / c.tests, 3), c.p10_download, c.p50_download,"                 \
    " " UTC(                                                                                       \
        "c.last_measured") ","                                                                     \
                           " CASE WHEN c.meeting_min = 0 AND coalesce(c.p50_download, 0) = 0 "     \
                           "THEN 'no_service'"                                                     \
                           "  WHEN c.meeting_min >= 0.8 * c.tests THEN 'meets' ELSE 'below' END"

/* units: as GET /v1/units, in force today; $2 level, $3..$6 bbox, $7 province. */
static const struct field unit_fields[] = {
    {"code", "code", FT_STR, 5},
    {"name", "name", FT_STR, 120},
    {"level", "level", FT_STR, 8},
    {"province_code", "province", FT_STR, 5},
    {"valid_from", "valid_from", FT_DATE, 0},
    {"valid_to", "valid_to", FT_DATE, 0},
};
#define UNITS_FROM                                                                                 \
    " FROM admin_units u WHERE u.level = $2 AND u.valid_from <= current_date"                      \
    " AND (u.valid_to IS NULL OR u.valid_to > current_date)"                                       \
    " AND ($3::float8 IS NULL OR u.geom && ST_MakeEnvelope($3::float8, $4::float8,"                \
    "  $5::float8, $6::float8, 4326))"                                                             \
    " AND ($7::text IS NULL OR u.province_code = $7 OR (u.level = 'province' AND u.code = $7))"
#define UNITS_COLS                                                                                 \
    "u.code, u.name, u.level, u.province_code, " DAY("u.valid_from") ", " DAY(                     \
        "u.valid_to") ","                                                                          \
                      " encode(ST_AsBinary(u.geom), 'hex'), "                                      \
                      "ST_X(ST_PointOnSurface(u.geom_simple)),"                                    \
                      " ST_Y(ST_PointOnSurface(u.geom_simple))"

#define COUNT(from) "SELECT count(*) FROM (SELECT 1" from " LIMIT $1::bigint) s"
#define CURSOR_FOR(cols, from, order)                                                              \
    "DECLARE " CURSOR " NO SCROLL CURSOR FOR SELECT " cols from " ORDER BY " order                 \
    " LIMIT $1::bigint"

#define SCOPED (ROLE_MINISTRY | ROLE_LOCALITY | ROLE_CARRIER | ROLE_UTILITY)

static const struct layer layers[] = {
    {"points", SCOPED, wkbPoint, GEOM_WKB, point_fields, (int)LS_ARRAY_LEN(point_fields),
     COUNT(POINTS_FROM), CURSOR_FOR(POINTS_COLS, POINTS_FROM, "p.id"),
     "bbox, unit, status, tech, carrier or overdue"},
    {"reports", SCOPED, wkbPoint, GEOM_WKB, report_fields, (int)LS_ARRAY_LEN(report_fields),
     COUNT(REPORTS_FROM), CURSOR_FOR(REPORTS_COLS, REPORTS_FROM, "r.id"),
     "an account scoped to a smaller area"},
    {"coverage", 0, wkbPolygon, GEOM_TILE, cell_fields, (int)LS_ARRAY_LEN(cell_fields),
     COUNT(CELLS_FROM),
     CURSOR_FOR(CELLS_COLS, CELLS_FROM, "c.cell_x, c.cell_y, c.carrier_code, c.technology"),
     "bbox, carrier, tech or a coarser res"},
    {"units", 0, wkbMultiPolygon, GEOM_WKB, unit_fields, (int)LS_ARRAY_LEN(unit_fields),
     COUNT(UNITS_FROM), CURSOR_FOR(UNITS_COLS, UNITS_FROM, "u.code"), "bbox or province"},
};

/* ------------------------------------------------------------ filters */

static const char *const techs[] = {"2G", "3G", "4G", "5G"};
static const char *const statuses[] = {"reported", "triaged",  "assigned", "in_progress", "blocked",
                                       "fixed",    "verified", "rejected", "reopened",    "merged"};

/* Sets parameter $(slot + 2). */
static void put(maps_export_req *q, int slot, const char *v)
{
    if (!v) {
        q->params[slot] = NULL;
    } else {
        snprintf(q->store[slot], sizeof(q->store[slot]), "%s", v);
        q->params[slot] = q->store[slot];
    }
    if (slot + 1 > q->nparams)
        q->nparams = slot + 1;
}

static int is_code(const char *s, size_t lo, size_t hi)
{
    size_t n = strlen(s);
    return n >= lo && n <= hi && strspn(s, "0123456789") == n;
}

static int is_carrier(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 32 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* bbox into slots first..first+3 (NULL when not given). */
static ls_status bbox_arg(const char *v, maps_export_req *q, int first, double b[4], char *err,
                          size_t errlen)
{
    if (!v) {
        for (int i = 0; i < 4; i++)
            put(q, first + i, NULL);
        return LS_OK;
    }
    if (api_parse_bbox(v, b) != 0) {
        snprintf(err, errlen, "bbox must be minlon,minlat,maxlon,maxlat in WGS 84 degrees");
        return LS_EINVAL;
    }
    for (int i = 0; i < 4; i++) {
        char s[32];
        snprintf(s, sizeof(s), "%.8f", b[i]);
        put(q, first + i, s);
    }
    return LS_OK;
}

static ls_status points_args(maps_arg_fn arg, void *ctx, maps_export_req *q, char *err,
                             size_t errlen)
{
    double b[4];
    ls_status st = bbox_arg(arg(ctx, "bbox"), q, 0, b, err, errlen);
    if (st != LS_OK)
        return st;
    const char *unit = arg(ctx, "unit"), *status = arg(ctx, "status"), *tech = arg(ctx, "tech");
    const char *carrier = arg(ctx, "carrier"), *overdue = arg(ctx, "overdue");
    if (unit && !is_code(unit, 2, 5)) {
        snprintf(err, errlen, "unit must be a province or commune code");
        return LS_EINVAL;
    }
    put(q, 4, unit);
    if (status) {
        char lit[256] = "{", tmp[256];
        if (strlen(status) >= sizeof(tmp) - 1) {
            snprintf(err, errlen, "status is too long");
            return LS_EINVAL;
        }
        snprintf(tmp, sizeof(tmp), "%s", status);
        char *save = NULL;
        int k = 0;
        for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (!api_one_of(t, statuses, LS_ARRAY_LEN(statuses))) {
                snprintf(err, errlen, "status '%.40s' is not a point status", t);
                return LS_EINVAL;
            }
            size_t n = strlen(lit);
            snprintf(lit + n, sizeof(lit) - n, "%s%s", k++ ? "," : "", t);
        }
        size_t n = strlen(lit);
        snprintf(lit + n, sizeof(lit) - n, "}");
        put(q, 5, lit);
    } else {
        put(q, 5, NULL);
    }
    if (tech && !api_one_of(tech, techs, LS_ARRAY_LEN(techs))) {
        snprintf(err, errlen, "tech must be 2G, 3G, 4G or 5G");
        return LS_EINVAL;
    }
    put(q, 6, tech);
    if (carrier && !is_carrier(carrier)) {
        snprintf(err, errlen, "carrier must be a carrier code such as viettel");
        return LS_EINVAL;
    }
    put(q, 7, carrier);
    if (overdue && strcmp(overdue, "true") != 0 && strcmp(overdue, "false") != 0) {
        snprintf(err, errlen, "overdue must be true or false");
        return LS_EINVAL;
    }
    put(q, 8, overdue && strcmp(overdue, "true") == 0 ? "t" : NULL);
    return LS_OK;
}

static ls_status coverage_args(maps_arg_fn arg, void *ctx, maps_export_req *q, char *err,
                               size_t errlen)
{
    int res = 16;
    const char *rs = arg(ctx, "res");
    double d;
    if (rs) {
        if (api_parse_number(rs, -1e9, 1e9, &d) != 0 || (d != 16 && d != 13 && d != 10 && d != 7)) {
            snprintf(err, errlen,
                     "res is a cell level: 16 (~600 m), 13 (~5 km), 10 (~40 km) or 7 (~300 km)");
            return LS_EINVAL;
        }
        res = (int)d;
    }
    char s[16];
    snprintf(s, sizeof(s), "%d", res);
    put(q, 0, s);
    const char *bbox = arg(ctx, "bbox");
    double b[4];
    if (!bbox) {
        for (int i = 1; i <= 4; i++)
            put(q, i, NULL);
    } else {
        if (api_parse_bbox(bbox, b) != 0) {
            snprintf(err, errlen, "bbox must be minlon,minlat,maxlon,maxlat in WGS 84 degrees");
            return LS_EINVAL;
        }
        int x0, y0, x1, y1;
        geo_tile_xy(res, b[0], b[3], &x0, &y0);
        geo_tile_xy(res, b[2], b[1], &x1, &y1);
        int v[4] = {x0, x1, y0, y1};
        for (int i = 0; i < 4; i++) {
            snprintf(s, sizeof(s), "%d", v[i]);
            put(q, 1 + i, s);
        }
    }
    const char *carrier = arg(ctx, "carrier"), *tech = arg(ctx, "tech");
    if (carrier && !is_carrier(carrier)) {
        snprintf(err, errlen, "carrier must be a carrier code such as viettel");
        return LS_EINVAL;
    }
    if (tech && !api_one_of(tech, techs, LS_ARRAY_LEN(techs))) {
        snprintf(err, errlen, "tech must be 2G, 3G, 4G or 5G");
        return LS_EINVAL;
    }
    put(q, 5, carrier);
    put(q, 6, tech);
    return LS_OK;
}

static ls_status units_args(maps_arg_fn arg, void *ctx, maps_export_req *q, char *err,
                            size_t errlen)
{
    const char *level = arg(ctx, "level");
    if (!level)
        level = "province";
    if (strcmp(level, "province") != 0 && strcmp(level, "commune") != 0) {
        snprintf(err, errlen, "level must be province or commune");
        return LS_EINVAL;
    }
    put(q, 0, level);
    double b[4];
    ls_status st = bbox_arg(arg(ctx, "bbox"), q, 1, b, err, errlen);
    if (st != LS_OK)
        return st;
    const char *province = arg(ctx, "province");
    if (province && !is_code(province, 2, 2)) {
        snprintf(err, errlen, "province must be a province code such as 01");
        return LS_EINVAL;
    }
    put(q, 5, province);
    return LS_OK;
}

ls_status maps_export_parse(const char *name, maps_arg_fn arg, void *ctx, maps_export_req *q,
                            char *err, size_t errlen)
{
    memset(q, 0, sizeof(*q));
    q->layer = q->format = -1;
    const char *dot = name ? strchr(name, '.') : NULL;
    size_t ln = dot ? (size_t)(dot - name) : 0;
    for (size_t i = 0; dot && i < LS_ARRAY_LEN(layers); i++)
        if (strlen(layers[i].name) == ln && strncmp(name, layers[i].name, ln) == 0)
            q->layer = (int)i;
    for (size_t i = 0; dot && i < LS_ARRAY_LEN(formats); i++)
        if (strcmp(dot + 1, formats[i].ext) == 0)
            q->format = (int)i;
    if (q->layer < 0 || q->format < 0) {
        snprintf(err, errlen,
                 "no export '%.60s': the name is LAYER.FORMAT with LAYER points, reports, coverage "
                 "or units and FORMAT geojson, gpkg, kml, csv, xlsx or shp.zip",
                 name ? name : "");
        return LS_ENOTFOUND;
    }
    const struct layer *L = &layers[q->layer];
    q->roles = L->roles;
    q->layer_name = L->name;
    q->ext = formats[q->format].ext;
    q->content_type = formats[q->format].content_type;
    if (strcmp(L->name, "points") == 0)
        return points_args(arg, ctx, q, err, errlen);
    if (strcmp(L->name, "coverage") == 0)
        return coverage_args(arg, ctx, q, err, errlen);
    if (strcmp(L->name, "units") == 0)
        return units_args(arg, ctx, q, err, errlen);
    return LS_OK; /* reports: scoped by the account only, as GET /v1/reports */
}

void maps_export_disposition(const maps_export_req *q, char *out, size_t len)
{
    time_t t = time(NULL) + 7 * 3600; /* the day in Vietnam */
    struct tm tm;
    gmtime_r(&t, &tm);
    char day[16];
    strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    snprintf(out, len, "attachment; filename=\"%s-%s.%s\"", q->layer_name, day, q->ext);
}

/* ------------------------------------------------------------ writing */

/* 1 when `word` is one of the space-separated words of a driver's list. */
static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        while (*p == ' ')
            p++;
        const char *e = strchr(p, ' ');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && strncmp(p, word, n) == 0)
            return 1;
        p += l;
    }
    return 0;
}

/* What a driver can hold, from its metadata. */
struct caps {
    int int64, date, datetime, boolean, shp, gpkg;
};

/* CSV has types only with a .csvt beside it, which a download does not
 * carry: its dates are ISO 8601 text rather than GDAL's 2025/03/25. */

static void driver_caps(GDALDriverH drv, struct caps *k)
{
    const char *t = GDALGetMetadataItem(drv, GDAL_DMD_CREATIONFIELDDATATYPES, NULL);
    const char *s = GDALGetMetadataItem(drv, GDAL_DMD_CREATIONFIELDDATASUBTYPES, NULL);
    k->int64 = has_word(t, "Integer64");
    int csv = strcmp(GDALGetDriverShortName(drv), "CSV") == 0;
    k->date = has_word(t, "Date") && !csv;
    k->datetime = has_word(t, "DateTime") && !csv;
    k->boolean = has_word(s, "Boolean");
    k->shp = strcmp(GDALGetDriverShortName(drv), "ESRI Shapefile") == 0;
    k->gpkg = strcmp(GDALGetDriverShortName(drv), "GPKG") == 0;
}

/* A field as the driver will hold it. */
static OGRFieldDefnH field_defn(const struct field *f, const struct caps *k)
{
    OGRFieldType t = OFTString;
    OGRFieldSubType sub = OFSTNone;
    int width = 0;
    switch (f->type) {
    case FT_INT:
        t = OFTInteger;
        break;
    case FT_INT64:
        t = k->int64 ? OFTInteger64 : OFTInteger;
        break;
    case FT_REAL:
        t = OFTReal;
        break;
    case FT_STR:
        width = k->shp ? f->width : 0;
        break;
    case FT_DATE:
        t = k->date ? OFTDate : OFTString;
        width = k->shp && !k->date ? 10 : 0;
        break;
    case FT_DATETIME:
        t = k->datetime ? OFTDateTime : OFTString;
        width = k->shp && !k->datetime ? 20 : 0;
        break;
    case FT_BOOL:
        t = OFTInteger;
        sub = k->boolean ? OFSTBoolean : OFSTNone;
        width = k->shp ? 1 : 0;
        break;
    }
    OGRFieldDefnH d = OGR_Fld_Create(k->shp ? f->shp : f->name, t);
    if (d) {
        OGR_Fld_SetSubType(d, sub);
        if (width)
            OGR_Fld_SetWidth(d, width);
    }
    return d;
}

static int hexval(char c)
{
    return c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0';
}

/* The geometry of a hex WKB value, or NULL. `buf` grows as needed. */
static OGRGeometryH from_hex(const char *hex, unsigned char **buf, size_t *cap)
{
    size_t n = strlen(hex) / 2;
    if (n == 0)
        return NULL;
    if (n > *cap) {
        unsigned char *b = realloc(*buf, n);
        if (!b)
            return NULL;
        *buf = b;
        *cap = n;
    }
    for (size_t i = 0; i < n; i++)
        (*buf)[i] = (unsigned char)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
    OGRGeometryH g = NULL;
    if (OGR_G_CreateFromWkb(*buf, NULL, &g, (int)n) != OGRERR_NONE)
        return NULL;
    return g;
}

/* Longitude / latitude of Web Mercator tile edges. */
static double tile_lon(double x, int z)
{
    return x / ldexp(1.0, z) * 360.0 - 180.0;
}

static double tile_lat(double y, int z)
{
    return atan(sinh(M_PI * (1.0 - 2.0 * y / ldexp(1.0, z)))) * 180.0 / M_PI;
}

static OGRGeometryH tile_polygon(int z, int x, int y)
{
    double w = tile_lon(x, z), e = tile_lon(x + 1, z);
    double n = tile_lat(y, z), s = tile_lat(y + 1, z);
    OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
    OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
    if (!ring || !poly) {
        OGR_G_DestroyGeometry(ring);
        OGR_G_DestroyGeometry(poly);
        return NULL;
    }
    /* counter-clockwise outer ring, as RFC 7946 asks */
    OGR_G_AddPoint_2D(ring, w, s);
    OGR_G_AddPoint_2D(ring, e, s);
    OGR_G_AddPoint_2D(ring, e, n);
    OGR_G_AddPoint_2D(ring, w, n);
    OGR_G_AddPoint_2D(ring, w, s);
    OGR_G_AddGeometryDirectly(poly, ring);
    return poly;
}

/* Copies at most `max` bytes of UTF-8 text, cut at a character boundary. */
static const char *utf8_cut(const char *s, size_t max, char *out, size_t outlen)
{
    size_t n = strlen(s);
    if (max == 0 || n <= max)
        return s;
    if (max >= outlen)
        max = outlen - 1;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    memcpy(out, s, max);
    out[max] = '\0';
    return out;
}

/* Sets field i of `feat` from the text value v of column type f. */
static void set_field(OGRFeatureH feat, int i, const struct field *f, OGRFieldType t,
                      const struct caps *k, const char *v)
{
    char cut[256];
    int y, mo, d, h, mi, s;
    switch (f->type) {
    case FT_INT:
    case FT_INT64:
        OGR_F_SetFieldInteger64(feat, i, strtoll(v, NULL, 10));
        return;
    case FT_REAL:
        OGR_F_SetFieldDouble(feat, i, strtod(v, NULL));
        return;
    case FT_BOOL:
        OGR_F_SetFieldInteger(feat, i, v[0] == 't');
        return;
    case FT_DATE:
        if (t == OFTDate && sscanf(v, "%d-%d-%d", &y, &mo, &d) == 3) {
            OGR_F_SetFieldDateTimeEx(feat, i, y, mo, d, 0, 0, 0, 0);
            return;
        }
        break;
    case FT_DATETIME:
        if (t == OFTDateTime && sscanf(v, "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &s) == 6) {
            OGR_F_SetFieldDateTimeEx(feat, i, y, mo, d, h, mi, (float)s, 100); /* 100: UTC */
            return;
        }
        break;
    case FT_STR:
        break;
    }
    OGR_F_SetFieldString(feat, i, k->shp ? utf8_cut(v, (size_t)f->width, cut, sizeof(cut)) : v);
}

/* One fetched row into one feature. */
static ls_status write_row(OGRLayerH layer, const struct layer *L, const struct caps *k, int table,
                           const int *idx, const OGRFieldType *types, const PGresult *r, int row,
                           unsigned char **wkb, size_t *wkbcap)
{
    OGRFeatureH feat = OGR_F_Create(OGR_L_GetLayerDefn(layer));
    if (!feat)
        return LS_ENOMEM;
    for (int i = 0; i < L->nfields; i++) {
        if (PQgetisnull(r, row, i))
            OGR_F_SetFieldNull(feat, idx[i]);
        else
            set_field(feat, idx[i], &L->fields[i], types[i], k, PQgetvalue(r, row, i));
    }
    double lon = NAN, lat = NAN;
    OGRGeometryH g = NULL;
    if (L->geom == GEOM_TILE) {
        int z = atoi(PQgetvalue(r, row, 0)), x = atoi(PQgetvalue(r, row, 1));
        int y = atoi(PQgetvalue(r, row, 2));
        lon = tile_lon(x + 0.5, z);
        lat = tile_lat(y + 0.5, z);
        if (!table)
            g = tile_polygon(z, x, y);
    } else {
        int c = L->nfields;
        if (!table && !PQgetisnull(r, row, c))
            g = from_hex(PQgetvalue(r, row, c), wkb, wkbcap);
        if (!PQgetisnull(r, row, c + 1)) {
            lon = strtod(PQgetvalue(r, row, c + 1), NULL);
            lat = strtod(PQgetvalue(r, row, c + 2), NULL);
        }
    }
    if (table && !isnan(lon)) {
        OGR_F_SetFieldDouble(feat, idx[L->nfields], lon);
        OGR_F_SetFieldDouble(feat, idx[L->nfields + 1], lat);
    }
    if (g)
        OGR_F_SetGeometryDirectly(feat, g);
    CPLErrorReset();
    OGRErr e = OGR_L_CreateFeature(layer, feat);
    OGR_F_Destroy(feat);
    if (e != OGRERR_NONE) {
        log_error("export: writing a feature failed: %s", CPLGetLastErrorMsg());
        return LS_EIO;
    }
    return LS_OK;
}

ls_status maps_export_write(PGconn *c, const maps_export_req *q, long long max_rows,
                            const char *path, long long *rows, char *err, size_t errlen)
{
    *rows = 0;
    *err = '\0';
    geo_gdal_init();
    const struct layer *L = &layers[q->layer];
    const struct format *F = &formats[q->format];
    int xlsx_capped = strcmp(F->ext, "xlsx") == 0 && max_rows > XLSX_MAX_ROWS;
    if (xlsx_capped)
        max_rows = XLSX_MAX_ROWS;
    char cap[32];
    snprintf(cap, sizeof(cap), "%lld", max_rows + 1);
    const char *p[1 + MAPS_EXPORT_MAXP];
    p[0] = cap;
    for (int i = 0; i < q->nparams; i++)
        p[1 + i] = q->params[i];
    int np = 1 + q->nparams;

    ls_status st = LS_OK;
    PGresult *r = NULL;
    GDALDatasetH ds = NULL;
    OGRSpatialReferenceH srs = NULL;
    char **lco = NULL;
    unsigned char *wkb = NULL;
    size_t wkbcap = 0;
    int cursor = 0, in_tx = 0;
    OGRFieldType types[32];
    int idx[34];

    st = db_query(c, "export: count", L->count_sql, np, p, &r, NULL, 0);
    if (st != LS_OK) {
        snprintf(err, errlen, "the %s could not be read", L->name);
        goto out;
    }
    long long n = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    r = NULL;
    if (n > max_rows) {
        if (xlsx_capped)
            snprintf(err, errlen,
                     "more than %lld %s match, the most an xlsx export holds (the spreadsheet is "
                     "built in memory): use csv or gpkg, or narrow it with %s",
                     max_rows, L->name, L->filters);
        else
            snprintf(err, errlen,
                     "more than %lld %s match, the most one export may hold (setting "
                     "LOMSONG_EXPORT_MAX_ROWS): narrow it with %s",
                     max_rows, L->name, L->filters);
        st = LS_EINVAL;
        goto out;
    }
    st = db_query(c, "export: cursor", L->cursor_sql, np, p, NULL, NULL, 0);
    if (st != LS_OK) {
        snprintf(err, errlen, "the %s could not be read", L->name);
        goto out;
    }
    cursor = 1;

    GDALDriverH drv = GDALGetDriverByName(F->driver);
    if (!drv) {
        snprintf(err, errlen, "this server's GDAL cannot write %s", F->ext);
        st = LS_EUNSUPPORTED;
        goto out;
    }
    struct caps k;
    driver_caps(drv, &k);
    if (strcmp(F->driver, "GeoJSON") == 0)
        lco = CSLSetNameValue(lco, "RFC7946", "YES");
    if (k.shp)
        lco = CSLSetNameValue(lco, "ENCODING", "UTF-8"); /* and a .cpg that says so */
    if (strcmp(F->driver, "CSV") == 0)
        lco = CSLSetNameValue(lco, "WRITE_BOM", "YES"); /* so spreadsheets read UTF-8 */
    CPLErrorReset();
    ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    if (!ds) {
        log_error("export: cannot create %s: %s", path, CPLGetLastErrorMsg());
        snprintf(err, errlen, "the %s file could not be created", F->ext);
        st = LS_EIO;
        goto out;
    }
    if (!F->table) {
        srs = OSRNewSpatialReference(NULL);
        if (!srs || OSRImportFromEPSG(srs, 4326) != OGRERR_NONE) {
            snprintf(err, errlen, "the coordinate system could not be set up");
            st = LS_EINTERNAL;
            goto out;
        }
        OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    }
    OGRLayerH layer = GDALDatasetCreateLayer(ds, L->name, srs, F->table ? wkbNone : L->gtype, lco);
    if (!layer) {
        log_error("export: cannot create layer %s: %s", L->name, CPLGetLastErrorMsg());
        snprintf(err, errlen, "the %s file could not be created", F->ext);
        st = LS_EIO;
        goto out;
    }
    for (int i = 0; i < L->nfields + (F->table ? 2 : 0); i++) {
        OGRFieldDefnH d = i < L->nfields ? field_defn(&L->fields[i], &k)
                                         : OGR_Fld_Create(i == L->nfields ? "lon" : "lat", OFTReal);
        if (!d || OGR_L_CreateField(layer, d, FALSE) != OGRERR_NONE) {
            log_error("export: cannot create field %d of %s: %s", i, L->name, CPLGetLastErrorMsg());
            OGR_Fld_Destroy(d);
            snprintf(err, errlen, "the %s file could not be created", F->ext);
            st = LS_EIO;
            goto out;
        }
        OGR_Fld_Destroy(d);
    }
    /* Drivers may hold fields of their own (KML's Name and Description,
     * which a field "name" then becomes): fields are found by name. */
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
    for (int i = 0; i < L->nfields + (F->table ? 2 : 0); i++) {
        const char *fn = i >= L->nfields ? (i == L->nfields ? "lon" : "lat")
                         : k.shp         ? L->fields[i].shp
                                         : L->fields[i].name;
        idx[i] = OGR_FD_GetFieldIndex(defn, fn);
        if (idx[i] < 0) {
            log_error("export: the %s writer dropped field %s", F->driver, fn);
            snprintf(err, errlen, "the %s file could not be created", F->ext);
            st = LS_EIO;
            goto out;
        }
        if (i < L->nfields)
            types[i] = OGR_Fld_GetType(OGR_FD_GetFieldDefn(defn, idx[i]));
    }

    /* GeoPackage writes are SQLite inserts: batched in transactions. */
    if (k.gpkg && GDALDatasetStartTransaction(ds, FALSE) == OGRERR_NONE)
        in_tx = 1;
    for (;;) {
        st = db_query(c, "export: fetch", FETCH, 0, NULL, &r, NULL, 0);
        if (st != LS_OK) {
            snprintf(err, errlen, "the %s could not be read", L->name);
            goto out;
        }
        int nr = PQntuples(r);
        if (nr == 0)
            break;
        if (*rows + nr > max_rows) { /* rows added since the count */
            snprintf(err, errlen, "more than %lld %s match: narrow the export with %s", max_rows,
                     L->name, L->filters);
            st = LS_EINVAL;
            goto out;
        }
        for (int i = 0; i < nr && st == LS_OK; i++) {
            st = write_row(layer, L, &k, F->table, idx, types, r, i, &wkb, &wkbcap);
            if (st == LS_OK && ++*rows % GPKG_TX_ROWS == 0 && in_tx &&
                (GDALDatasetCommitTransaction(ds) != OGRERR_NONE ||
                 GDALDatasetStartTransaction(ds, FALSE) != OGRERR_NONE))
                st = LS_EIO;
        }
        PQclear(r);
        r = NULL;
        if (st != LS_OK) {
            snprintf(err, errlen, "the %s file could not be written", F->ext);
            goto out;
        }
    }
    if (in_tx) {
        in_tx = 0;
        if (GDALDatasetCommitTransaction(ds) != OGRERR_NONE) {
            snprintf(err, errlen, "the %s file could not be written", F->ext);
            st = LS_EIO;
            goto out;
        }
    }
out:
    PQclear(r);
    if (cursor)
        db_exec(c, "CLOSE " CURSOR);
    if (ds) {
        if (in_tx)
            GDALDatasetRollbackTransaction(ds);
        /* GDAL 3.6's GDALClose reports nothing: a failed flush (the zip of a
         * Shapefile, the XLSX archive) shows as an error. */
        CPLErrorReset();
        GDALClose(ds);
        if (st == LS_OK && CPLGetLastErrorType() == CE_Failure) {
            log_error("export: closing %s failed: %s", path, CPLGetLastErrorMsg());
            snprintf(err, errlen, "the %s file could not be written", F->ext);
            st = LS_EIO;
        }
    }
    if (srs)
        OSRDestroySpatialReference(srs);
    CSLDestroy(lco);
    free(wkb);
    if (st != LS_OK)
        unlink(path);
    return st;
}

/* ------------------------------------------------------ temporary files */

/* Removes `dir` and what is in it, two levels deep (the Shapefile writer's
 * scratch directory is the only subdirectory it may leave). */
static void remove_tree(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[PATH_MAX];
            if (snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) >= (int)sizeof(p))
                continue;
            struct stat sb;
            if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) {
                if (depth > 0)
                    remove_tree(p, depth - 1);
            } else {
                unlink(p);
            }
        }
        closedir(d);
    }
    rmdir(dir);
}

/* A new private directory under `parent`, its path in out. */
static ls_status make_dir(const char *parent, char *out, size_t len)
{
    if (snprintf(out, len, "%s/.lomsong-export-XXXXXX", parent) >= (int)len || !mkdtemp(out)) {
        log_error("export: cannot make a directory under %s: %s", parent, strerror(errno));
        return LS_EIO;
    }
    return LS_OK;
}

ls_status maps_export_temp(PGconn *c, const maps_export_req *q, long long max_rows, char *path,
                           size_t pathlen, long long *rows, char *err, size_t errlen)
{
    *path = '\0';
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX];
    if (make_dir(tmp && *tmp ? tmp : "/tmp", dir, sizeof(dir)) != LS_OK) {
        snprintf(err, errlen, "the server cannot write the export file");
        return LS_EIO;
    }
    if (snprintf(path, pathlen, "%s/%s.%s", dir, q->layer_name, q->ext) >= (int)pathlen) {
        remove_tree(dir, 1);
        *path = '\0';
        snprintf(err, errlen, "the server cannot write the export file");
        return LS_EIO;
    }
    ls_status st = maps_export_write(c, q, max_rows, path, rows, err, errlen);
    if (st != LS_OK) {
        remove_tree(dir, 1);
        *path = '\0';
    }
    return st;
}

void maps_export_remove(const char *path)
{
    if (!path || !*path)
        return;
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return;
    *slash = '\0';
    const char *base = strrchr(dir, '/');
    if (!base || strncmp(base, "/.lomsong-export-", 17) != 0)
        return; /* not one of ours: leave it */
    remove_tree(dir, 1);
}

/* ---------------------------------------------------------------- CLI */

static const char *const cli_flags[] = {"out",  "token",   "bbox", "unit",  "status",   "carrier",
                                        "tech", "overdue", "res",  "level", "province", NULL};

struct cli_args {
    const char *v[LS_ARRAY_LEN(cli_flags)];
};

static const char *cli_arg(void *ctx, const char *name)
{
    struct cli_args *a = ctx;
    for (int i = 0; cli_flags[i]; i++)
        if (strcmp(cli_flags[i], name) == 0)
            return a->v[i];
    return NULL;
}

static int cli_usage(void)
{
    fprintf(stderr,
            "usage: lomsong export LAYER.FORMAT [--out FILE] [--token TOKEN] [filters]\n"
            "  LAYER   points | reports | coverage | units\n"
            "  FORMAT  geojson | gpkg | kml | csv | xlsx | shp.zip\n"
            "  filters points: --bbox W,S,E,N --unit CODE --status S[,S...] --tech 2G|3G|4G|5G\n"
            "                  --carrier CODE --overdue true|false\n"
            "          coverage: --bbox W,S,E,N --carrier CODE --tech T --res 16|13|10|7\n"
            "          units: --level province|commune --bbox W,S,E,N --province CODE\n"
            "  Without --token: everything (the ministry's view); with one: what that account\n"
            "  sees through the API.\n");
    return 2;
}

int maps_export_cli(const ls_config *cfg, int argc, char **argv)
{
    struct cli_args a;
    const char *pos[1];
    char err[512];
    int npos = cli_parse(argc, argv, 1, cli_flags, a.v, pos, 1, err, sizeof(err));
    if (npos < 0) {
        fprintf(stderr, "lomsong export: %s\n", err);
        return cli_usage();
    }
    if (npos != 1)
        return cli_usage();
    maps_export_req q;
    ls_status st = maps_export_parse(pos[0], cli_arg, &a, &q, err, sizeof(err));
    if (st != LS_OK) {
        fprintf(stderr, "lomsong export: %s\n", err);
        return 2;
    }
    const char *out = a.v[0] ? a.v[0] : pos[0];
    char parent[PATH_MAX];
    snprintf(parent, sizeof(parent), "%s", out);
    char *slash = strrchr(parent, '/');
    if (slash == parent)
        parent[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(parent, sizeof(parent), ".");

    char ci[2048];
    config_app_conninfo(cfg, ci, sizeof(ci));
    PGconn *c = NULL;
    if (db_connect(ci, &c) != LS_OK) {
        fprintf(stderr, "lomsong export: cannot connect to the database\n");
        return 1;
    }
    int rc = 1;
    char dir[PATH_MAX] = "", path[PATH_MAX + 64] = "";
    long long rows = 0;
    if (db_exec(c, "BEGIN") != LS_OK)
        goto done;
    if (a.v[1]) {
        auth_identity who;
        st = auth_login(c, a.v[1], &who);
        if (st != LS_OK) {
            fprintf(stderr, "lomsong export: %s\n",
                    st == LS_EUNAUTH ? "the token is not valid: unknown, revoked or expired"
                                     : "the token could not be checked");
            goto done;
        }
        if (q.roles && !(q.roles & who.role)) {
            fprintf(stderr, "lomsong export: a %s account may not export %s\n", who.role_name,
                    q.layer_name);
            goto done;
        }
    } else if (db_exec(c, "SELECT set_config('lomsong.role', 'ministry', true)") != LS_OK) {
        goto done;
    }
    if (make_dir(parent, dir, sizeof(dir)) != LS_OK) {
        fprintf(stderr, "lomsong export: cannot write in %s\n", parent);
        goto done;
    }
    snprintf(path, sizeof(path), "%s/%s.%s", dir, q.layer_name, q.ext);
    st = maps_export_write(c, &q, cfg->export_max_rows, path, &rows, err, sizeof(err));
    if (st != LS_OK) {
        fprintf(stderr, "lomsong export: %s\n", err);
        goto done;
    }
    if (db_exec(c, "COMMIT") != LS_OK)
        goto done;
    if (rename(path, out) != 0) {
        fprintf(stderr, "lomsong export: cannot write %s: %s\n", out, strerror(errno));
        goto done;
    }
    printf("%s: %lld %s\n", out, rows, q.layer_name);
    rc = 0;
done:
    if (*dir)
        remove_tree(dir, 1);
    PQfinish(c);
    return rc;
}
