/*
 * tiles.c — vector tiles of coverage, dead-zone points and provinces; see
 * tiles.h.
 *
 * Each tile is one statement whose first column is the MVT (ST_AsMVT) and
 * whose second says whether the feature limit cut it.  No geometry is
 * reprojected per request on the hot paths: coverage cells and points are
 * placed in tile coordinates by arithmetic (the spherical Mercator formulas,
 * the same as geo/tile.c and cell16_of()), and the boundaries are stored in
 * Web Mercator, generalised per zoom.  Results come back in binary, so the
 * tile bytes are not hex-encoded and decoded on the way.
 */
#include "tiles.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../api/log.h"
#include "../geo/db.h"

/* Meets the minimum: the median at least the minimum and at least 80 % of
 * the tests meeting it (in integers: numeric arithmetic on every row of a
 * dense tile cost more than the rest of the query). */
#define COVERAGE_MEETS "(c.p50_download >= $7::float8 AND 5 * c.meeting_min >= 4 * c.tests)"

/* Coverage: $1 z, $2 x, $3 y, $4 cell level, $5 carrier, $6 tech, $7 minimum Mbps,
 * $8 feature limit.  The cells of map tile (z, x, y) at level L are
 * cell_x in [x << s, (x + 1) << s), cell_y likewise, s = L - z: one index
 * range per column (coverage_cells_in(): on (res, cell_x, cell_y) for the
 * coarse levels, on the blocks holding the column for level 16).  Of the rows of a cell (one per
 * carrier and technology) the best is kept: the one that meets the minimum,
 * then the highest share meeting it, the highest median, the most tests.
 * Its class is `none` when no test had service: exact for level 16
 * (nobody meets and the median is 0), and for the coarser levels every test
 * in the histogram's first bin (below 1 Mbps).  A cell's square is
 * w = 4096 >> s units wide at (cell - tile << s) * w, its ring clockwise on
 * screen (the MVT exterior-ring order, as ST_AsMVTGeom writes it: the
 * reverse of ST_MakeEnvelope's).  Each column of cells is one index range
 * read in order, so the best row of each cell is chosen among its few rows
 * rather than by sorting the whole tile. */
static const char coverage_sql[] =
    "WITH c AS (SELECT b.* FROM generate_series($2::int << ($4::int - $1::int),"
    "   (($2::int + 1) << ($4::int - $1::int)) - 1) cx"
    "  CROSS JOIN LATERAL (SELECT DISTINCT ON (c.cell_y) c.cell_x, c.cell_y, c.res,"
    "   c.carrier_code, c.technology, c.tests, c.meeting_min, c.p10_download,"
    "   c.p50_download, c.last_measured, " COVERAGE_MEETS " AS meets,"
    "   CASE WHEN c.meeting_min = 0 AND c.res < 16 THEN c.hist[1] END AS bin0"
    "   FROM coverage_cells_in($4::int, cx, cx, $3::int << ($4::int - $1::int),"
    "    (($3::int + 1) << ($4::int - $1::int)) - 1, $5::text, $6::text) c"
    "   WHERE c.tests > 0"
    "   ORDER BY c.cell_y, " COVERAGE_MEETS " DESC, c.meeting_min::float8 / c.tests DESC,"
    "    c.p50_download DESC NULLS LAST, c.tests DESC, c.carrier_code COLLATE \"C\", c.technology "
    "COLLATE \"C\") b)"
    " SELECT (SELECT ST_AsMVT(t, 'coverage', 4096, 'geom') FROM ("
    "   SELECT ST_Reverse(ST_MakeEnvelope(o.x0, o.y0, o.x0 + k.w, o.y0 + k.w)) AS geom,"
    "   c.carrier_code AS carrier, c.technology AS tech, c.tests,"
    "   (c.meeting_min::float8 / c.tests)::real AS share,"
    "   c.p10_download AS p10, c.p50_download AS p50,"
    "   CASE WHEN c.meets THEN 'meets'"
    "    WHEN c.meeting_min = 0 AND CASE WHEN c.res = 16 THEN c.p50_download = 0"
    "     ELSE c.bin0 = c.tests END THEN 'none'"
    "    ELSE 'below' END AS class,"
    "   to_char(c.last_measured AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD') AS last"
    "   FROM c CROSS JOIN LATERAL (SELECT 4096 >> ($4::int - $1::int) AS w) k"
    "   CROSS JOIN LATERAL (SELECT (c.cell_x - ($2::int << ($4::int - $1::int))) * k.w AS x0,"
    "    (c.cell_y - ($3::int << ($4::int - $1::int))) * k.w AS y0) o"
    "   LIMIT $8::int) t),"
    " (SELECT count(*) FROM c) > $8::int";

/* Overdue exactly as GET /v1/points says it (api/h_reports.c). */
#define POINT_OVERDUE                                                                              \
    "coalesce(p.due_date < current_date AND p.status NOT IN"                                       \
    " ('fixed', 'verified', 'rejected', 'merged'), false)"

/* A point's position in units of the tile (0..1 across it) at zoom $1:
 * spherical Mercator, as geo/tile.c. */
#define POINT_TX "((ST_X(p.geom) + 180.0) / 360.0 * 2 ^ $1::int - $2::int)"
#define POINT_TY                                                                                   \
    "((1.0 - ln(tan(radians(ST_Y(p.geom))) + 1.0 / cos(radians(ST_Y(p.geom)))) / pi()) / 2.0"      \
    " * 2 ^ $1::int - $3::int)"

/* The carriers assigned to point p that the caller may see, as GET /v1/points
 * (for the points shown, not for all those counted). */
#define POINT_CARRIERS                                                                             \
    "(SELECT string_agg(a.carrier_code, ',' ORDER BY a.carrier_code) FROM assignments a"           \
    " WHERE a.point_id = p.id AND a.status <> 'withdrawn')"

/* The points of tile ($1 z, $2 x, $3 y) (zoom 9 and up) and its buffer
 * (at least one level-16 cell), found as btree ranges on dz_points.cell16,
 * one per column of level-16 cells: cx << 16 | y0 .. cx << 16 | y1.
 * Integer comparisons are leakproof, so PostgreSQL uses them in the index
 * and before the row-level-security policy (geo/sql/007_tiles_points.sql):
 * the policy sees only these rows. */
#define POINT_RANGES                                                                               \
    " b AS (SELECT greatest(0, ($2::int << k.s) - k.m) AS x0,"                                     \
    "  least(65535, (($2::int + 1) << k.s) - 1 + k.m) AS x1,"                                      \
    "  greatest(0, ($3::int << k.s) - k.m) AS y0,"                                                 \
    "  least(65535, (($3::int + 1) << k.s) - 1 + k.m) AS y1"                                       \
    "  FROM (SELECT 16 - $1::int AS s, greatest(1, (1 << (16 - $1::int)) / 64) AS m) k),"          \
    " c AS (SELECT b.*, cx FROM b, generate_series(b.x0, b.x1) cx)"
/* One index range scan per range (LATERAL, and OFFSET 0 so that the planner
 * keeps it so: it cannot estimate the rows a policy lets through, and a
 * misestimate turned this into a nested loop over every point). */
#define POINT_IN_RANGE                                                                             \
    " CROSS JOIN LATERAL (SELECT p.* FROM dz_points p"                                             \
    "  WHERE p.cell16 BETWEEN (c.cx::bigint << 16) | c.y0 AND (c.cx::bigint << 16) | c.y1"         \
    "  AND p.status <> 'merged' OFFSET 0) p"

/* Points, one feature each: $1 z (9..16), $2 x, $3 y, $4 limit.  The points
 * the caller's row-level security shows in the tile and its buffer; merged
 * points live on in the point they were merged into and are not drawn.
 * Past the limit, overdue points and those affecting the most people stay. */
static const char points_sql[] =
    "WITH" POINT_RANGES ","
    " f AS (SELECT p.id, p.status, p.technology, p.report_count, p.people_affected,"
    "  p.province_code, " POINT_OVERDUE " AS overdue, t.px, t.py"
    "  FROM c" POINT_IN_RANGE "  CROSS JOIN LATERAL (SELECT " POINT_TX " * 4096 AS px, " POINT_TY
    " * 4096 AS py) t"
    "  WHERE t.px >= -64 AND t.px < 4160 AND t.py >= -64 AND t.py < 4160"
    "  ORDER BY overdue DESC, p.people_affected DESC, p.id LIMIT $4::int + 1)"
    " SELECT (SELECT ST_AsMVT(t, 'points', 4096, 'geom', 'fid') FROM ("
    "   SELECT ST_MakePoint(round(p.px), round(p.py)) AS geom, p.id AS fid, p.id, p.status,"
    "   p.technology AS tech, " POINT_CARRIERS " AS carriers, p.overdue,"
    "   p.report_count AS reports, p.people_affected AS people, p.province_code AS province"
    "   FROM f p ORDER BY p.overdue DESC, p.people_affected DESC, p.id LIMIT $4::int) t),"
    " (SELECT count(*) FROM f) > $4::int";

/* Points clustered on an 8 x 8 grid per tile (cells 512 units wide, level
 * z + 3 tiles): $1 z (0..8), $2 x, $3 y, $4 limit.  A tile over Vietnam
 * holds nearly every point, so they are not counted here one by one but
 * read from point_grid, kept counted per level-11 cell and per what decides
 * who may see them (geo/sql/007_tiles_points.sql), under its own policy:
 * one btree range per column of the tile's level-11 cells, and the cells
 * added up into the grid of this zoom.  A grid cell with one point gives
 * that point as it is; one with more gives one feature at their mean
 * position (of their level-16 cells, ~600 m: under a pixel at these zooms)
 * with `count` and no id, the sums of reports and people, and whether any
 * is overdue.  Grid cells never straddle tiles: no point counts in two. */
static const char clusters_sql[] =
    "WITH b AS (SELECT $2::int << (11 - $1::int) AS x0,"
    "  (($2::int + 1) << (11 - $1::int)) - 1 AS x1, $3::int << (11 - $1::int) AS y0,"
    "  (($3::int + 1) << (11 - $1::int)) - 1 AS y1),"
    " q AS (SELECT q.* FROM b CROSS JOIN generate_series(b.x0, b.x1) cx"
    "  CROSS JOIN LATERAL (SELECT q.* FROM point_grid q"
    "   WHERE q.g BETWEEN (cx::bigint << 11) | b.y0 AND (cx::bigint << 11) | b.y1 OFFSET 0) q),"
    " g AS (SELECT sum(q.n) AS n, min(q.one_id) AS id, sum(q.reports) AS reports,"
    "  sum(q.people) AS people, coalesce(min(q.open_due) < current_date, false) AS overdue,"
    "  (sum(q.sum_x)::float8 / sum(q.n) + 0.5 - ($2::int << (16 - $1::int)))"
    "   * 4096.0 / (1 << (16 - $1::int)) AS gx,"
    "  (sum(q.sum_y)::float8 / sum(q.n) + 0.5 - ($3::int << (16 - $1::int)))"
    "   * 4096.0 / (1 << (16 - $1::int)) AS gy"
    "  FROM q GROUP BY (q.g >> 11) >> (8 - $1::int), (q.g & 2047) >> (8 - $1::int))"
    " SELECT (SELECT ST_AsMVT(t, 'points', 4096, 'geom', 'fid') FROM ("
    "   SELECT CASE WHEN g.n = 1 AND p.id IS NOT NULL"
    "    THEN ST_MakePoint(round(" POINT_TX " * 4096), round(" POINT_TY " * 4096))"
    "    ELSE ST_MakePoint(round(g.gx), round(g.gy)) END AS geom,"
    "   p.id AS fid, p.id, p.status, p.technology AS tech,"
    "   CASE WHEN g.n = 1 THEN " POINT_CARRIERS " END AS carriers, g.overdue,"
    "   g.reports::int AS reports, g.people::int AS people, p.province_code AS province,"
    "   CASE WHEN g.n > 1 THEN g.n::int END AS count"
    "   FROM g LEFT JOIN dz_points p ON g.n = 1 AND p.id = g.id"
    "   ORDER BY g.overdue DESC, g.people DESC, g.gy, g.gx LIMIT $4::int) t),"
    " (SELECT count(*) FROM g) > $4::int";

/* Provinces in force today (Vietnam time): $1 z, $2 x, $3 y, $4 the stored
 * zoom (z, or 11 for 11 and above), $5 limit.  Two MVT layers in one tile
 * (concatenated: a tile is a sequence of layers): the boundaries and the
 * label points. */
static const char units_sql[] =
    "WITH e AS (SELECT ST_TileEnvelope($1::int, $2::int, $3::int) AS tile,"
    "  ST_TileEnvelope($1::int, $2::int, $3::int, margin => 64.0 / 4096) AS wide),"
    " u AS (SELECT u.id, u.code, u.name FROM admin_units u"
    "  WHERE u.level = 'province'"
    "  AND u.valid_from <= (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"
    "  AND (u.valid_to IS NULL OR u.valid_to > (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date)),"
    " b AS (SELECT u.code, u.name, ST_AsMVTGeom(g.geom, e.tile, 4096, 64, true) AS geom"
    "  FROM unit_tiles g JOIN u ON u.id = g.unit_id CROSS JOIN e"
    "  WHERE g.zoom = $4::smallint AND g.geom && e.wide ORDER BY u.code LIMIT $5::int + 1),"
    " l AS (SELECT u.code, u.name, ST_AsMVTGeom(g.geom, e.tile, 4096, 64, true) AS geom"
    "  FROM unit_labels g JOIN u ON u.id = g.unit_id CROSS JOIN e"
    "  WHERE g.geom && e.wide ORDER BY u.code LIMIT $5::int)"
    " SELECT coalesce((SELECT ST_AsMVT(t, 'units', 4096, 'geom') FROM (SELECT * FROM b"
    "   WHERE b.geom IS NOT NULL ORDER BY b.code LIMIT $5::int) t), '')"
    "  || coalesce((SELECT ST_AsMVT(t, 'unit_labels', 4096, 'geom') FROM (SELECT * FROM l"
    "   WHERE l.geom IS NOT NULL) t), ''),"
    " (SELECT count(*) FROM b) > $5::int";

static const char *const layer_names[] = {"coverage", "points", "units"};

int maps_tile_layer_parse(const char *name, maps_tile_layer *out)
{
    for (size_t i = 0; name && i < LS_ARRAY_LEN(layer_names); i++)
        if (strcmp(name, layer_names[i]) == 0) {
            *out = (maps_tile_layer)i;
            return 0;
        }
    return -1;
}

const char *maps_tile_layer_name(maps_tile_layer l)
{
    return (size_t)l < LS_ARRAY_LEN(layer_names) ? layer_names[l] : "?";
}

/* A whole number of at most 6 decimal digits, nothing else: 0 when it is one. */
static int parse_uint(const char *s, long *out)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 6 || strspn(s, "0123456789") != n)
        return -1;
    *out = strtol(s, NULL, 10);
    return 0;
}

ls_status maps_tile_parse_zxy(const char *z, const char *x, const char *y, int *oz, int *ox,
                              int *oy, char *err, size_t errlen)
{
    long lz, lx, ly;
    if (parse_uint(z, &lz) != 0 || lz > MAPS_TILE_MAXZOOM) {
        snprintf(err, errlen, "z must be a zoom level from 0 to %d, not '%.16s'", MAPS_TILE_MAXZOOM,
                 z ? z : "");
        return LS_EINVAL;
    }
    long n = 1L << lz;
    if (parse_uint(x, &lx) != 0 || lx >= n) {
        snprintf(err, errlen, "x must be a tile column from 0 to %ld at zoom %ld, not '%.16s'",
                 n - 1, lz, x ? x : "");
        return LS_EINVAL;
    }
    if (parse_uint(y, &ly) != 0 || ly >= n) {
        snprintf(err, errlen, "y must be a tile row from 0 to %ld at zoom %ld, not '%.16s'", n - 1,
                 lz, y ? y : "");
        return LS_EINVAL;
    }
    *oz = (int)lz;
    *ox = (int)lx;
    *oy = (int)ly;
    return LS_OK;
}

int maps_tile_coverage_level(int z)
{
    static const int levels[] = {7, 10, 13, 16};
    for (size_t i = 0; i < LS_ARRAY_LEN(levels); i++)
        if (levels[i] >= z + 2 && (z < 5 || levels[i] >= 10))
            return levels[i];
    return 16;
}

const char *maps_tile_sql(maps_tile_layer l, int z)
{
    switch (l) {
    case MAPS_TILE_COVERAGE:
        return coverage_sql;
    case MAPS_TILE_POINTS:
        return z < MAPS_TILE_CLUSTER_BELOW ? clusters_sql : points_sql;
    case MAPS_TILE_UNITS:
        return units_sql;
    }
    return NULL;
}

ls_status maps_tile_build(PGconn *c, const maps_tile_spec *spec, maps_tile *out)
{
    memset(out, 0, sizeof(*out));
    if (spec->z < 0 || spec->z > MAPS_TILE_MAXZOOM || spec->x < 0 || spec->y < 0 ||
        spec->x >= 1 << spec->z || spec->y >= 1 << spec->z)
        return LS_EINVAL;
    char sz[16], sx[16], sy[16], slevel[16], smin[32], smax[16];
    snprintf(sz, sizeof(sz), "%d", spec->z);
    snprintf(sx, sizeof(sx), "%d", spec->x);
    snprintf(sy, sizeof(sy), "%d", spec->y);
    snprintf(smax, sizeof(smax), "%d", spec->max_features > 0 ? spec->max_features : 1);
    const char *sql = maps_tile_sql(spec->layer, spec->z), *what;
    const char *p[8] = {sz, sx, sy};
    int n;
    switch (spec->layer) {
    case MAPS_TILE_COVERAGE:
        snprintf(slevel, sizeof(slevel), "%d", maps_tile_coverage_level(spec->z));
        snprintf(smin, sizeof(smin), "%.17g", spec->min_download);
        p[3] = slevel;
        p[4] = spec->carrier;
        p[5] = spec->tech;
        p[6] = smin;
        p[7] = smax;
        n = 8;
        what = "tile: coverage";
        break;
    case MAPS_TILE_POINTS:
        p[3] = smax;
        n = 4;
        what = spec->z < MAPS_TILE_CLUSTER_BELOW ? "tile: point clusters" : "tile: points";
        break;
    case MAPS_TILE_UNITS:
        snprintf(slevel, sizeof(slevel), "%d", spec->z < 11 ? spec->z : 11);
        p[3] = slevel;
        p[4] = smax;
        n = 5;
        what = "tile: units";
        break;
    default:
        return LS_EINVAL;
    }
    /* Binary results: the bytea arrives as its bytes, the boolean as one byte. */
    PGresult *r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 1);
    ls_status st = db_result_status(r);
    if (st != LS_OK) {
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        log_error("%s %d/%d/%d: [%s] %s", what, spec->z, spec->x, spec->y, state ? state : "-",
                  PQerrorMessage(c));
        PQclear(r);
        return st;
    }
    if (PQntuples(r) != 1 || PQnfields(r) != 2) {
        PQclear(r);
        return LS_EINTERNAL;
    }
    size_t len = PQgetisnull(r, 0, 0) ? 0 : (size_t)PQgetlength(r, 0, 0);
    out->truncated = !PQgetisnull(r, 0, 1) && PQgetlength(r, 0, 1) == 1 && *PQgetvalue(r, 0, 1);
    if (len > 0) {
        out->data = malloc(len);
        if (!out->data) {
            PQclear(r);
            return LS_ENOMEM;
        }
        memcpy(out->data, PQgetvalue(r, 0, 0), len);
        out->len = len;
    }
    PQclear(r);
    return LS_OK;
}

ls_status maps_tile_gzip(const void *in, size_t len, unsigned char **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    /* 15 + 16: a gzip wrapper rather than zlib's own. */
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return LS_ENOMEM;
    uLong bound = deflateBound(&zs, (uLong)len);
    unsigned char *b = malloc(bound);
    if (!b) {
        deflateEnd(&zs);
        return LS_ENOMEM;
    }
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = b;
    zs.avail_out = (uInt)bound;
    int zr = deflate(&zs, Z_FINISH);
    size_t n = zs.total_out;
    deflateEnd(&zs);
    if (zr != Z_STREAM_END) {
        free(b);
        return LS_EINTERNAL;
    }
    *out = b;
    *outlen = n;
    return LS_OK;
}

void maps_tile_etag(const void *data, size_t len, const char *suffix, char *out, size_t outlen)
{
    /* FNV-1a, 64 bits, with the length: the tag only has to change when the
     * bytes do; it is not a defence against anyone. */
    uint64_t h = 0xcbf29ce484222325ULL;
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    snprintf(out, outlen, "\"%016llx%04llx%s\"", (unsigned long long)h,
             (unsigned long long)(len & 0xffff), suffix ? suffix : "");
}

/* ---------------------------------------------------------- TileJSON */

struct field {
    const char *name, *about;
};

static cJSON *vector_layer(const char *id, const char *about, const struct field *f, size_t n)
{
    cJSON *l = cJSON_CreateObject();
    cJSON *fields = cJSON_AddObjectToObject(l, "fields");
    if (!l || !fields || !cJSON_AddStringToObject(l, "id", id) ||
        !cJSON_AddStringToObject(l, "description", about) ||
        !cJSON_AddNumberToObject(l, "minzoom", 0) ||
        !cJSON_AddNumberToObject(l, "maxzoom", MAPS_TILE_MAXZOOM)) {
        cJSON_Delete(l);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (!cJSON_AddStringToObject(fields, f[i].name, f[i].about)) {
            cJSON_Delete(l);
            return NULL;
        }
    return l;
}

cJSON *maps_tile_vector_layers(maps_tile_layer l)
{
    static const struct field coverage[] = {
        {"carrier", "String: carrier code, e.g. viettel"},
        {"tech", "String: 2G, 3G, 4G or 5G"},
        {"tests", "Number: speed tests in the cell"},
        {"share", "Number: share of the tests meeting the national minimum, 0-1"},
        {"p10", "Number: 10th percentile download, Mbps"},
        {"p50", "Number: median download, Mbps"},
        {"class", "String: meets (median >= the minimum and share >= 0.8), below, or none (no "
                  "service)"},
        {"last", "String: date of the latest test, YYYY-MM-DD (Vietnam time)"},
    };
    static const struct field points[] = {
        {"id", "Number: dead-zone point id (absent on a cluster)"},
        {"status", "String: workflow status"},
        {"tech", "String: 2G, 3G, 4G or 5G"},
        {"carriers", "String: assigned carrier codes, comma-separated"},
        {"overdue", "Boolean: past its due date and not fixed (on a cluster: any of them)"},
        {"reports", "Number: reports (on a cluster: their sum)"},
        {"people", "Number: people affected (on a cluster: their sum)"},
        {"province", "String: province code"},
        {"count", "Number: points in a cluster (only on clusters, below zoom 9)"},
    };
    static const struct field units[] = {
        {"code", "String: province code"},
        {"name", "String: province name"},
    };
    cJSON *a = cJSON_CreateArray();
    if (!a)
        return NULL;
    cJSON *v1 = NULL, *v2 = NULL;
    switch (l) {
    case MAPS_TILE_COVERAGE:
        v1 = vector_layer("coverage",
                          "Coverage cells (~300 km to ~600 m as the zoom grows), one per cell: "
                          "the best carrier and technology among those asked for",
                          coverage, LS_ARRAY_LEN(coverage));
        break;
    case MAPS_TILE_POINTS:
        v1 = vector_layer("points", "Dead-zone points; grid clusters with a count below zoom 9",
                          points, LS_ARRAY_LEN(points));
        break;
    case MAPS_TILE_UNITS:
        v1 = vector_layer("units", "Province boundaries in force today, generalised for the zoom",
                          units, LS_ARRAY_LEN(units));
        v2 =
            vector_layer("unit_labels", "One label point per province", units, LS_ARRAY_LEN(units));
        if (!v2) {
            cJSON_Delete(v1);
            v1 = NULL;
        }
        break;
    }
    /* cJSON_AddItemToArray() takes ownership only when it succeeds. */
    if (!v1 || !cJSON_AddItemToArray(a, v1)) {
        cJSON_Delete(v1);
        cJSON_Delete(v2);
        cJSON_Delete(a);
        return NULL;
    }
    if (v2 && !cJSON_AddItemToArray(a, v2)) {
        cJSON_Delete(v2);
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}
