/*
 * h_measure.c — speed measurements in (POST /v1/measurements: the same
 * ingest as `lomsong ingest measurements`), their batches and reject files,
 * and coverage out (GET /v1/coverage, GET /v1/coverage/at), answered from
 * the pre-aggregated cells, never from raw rows.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <microhttpd.h>

#include "handlers.h"
#include "../geo/db.h"
#include "../geo/tile.h"
#include "../ingest/measure.h"

#define MAX_MAPS 32
#define COVERAGE_MAX_CELLS 10000
#define SHARE_MEETS 0.8 /* a cell "meets" when 80 % of its tests do */

struct maps {
    const char *v[MAX_MAPS];
    int n;
};

static enum MHD_Result collect_map(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    LS_UNUSED(kind);
    struct maps *m = cls;
    if (strcmp(key, "map") == 0 && value && m->n < MAX_MAPS)
        m->v[m->n++] = value;
    return MHD_YES;
}

ls_status api_upload_start(api_request *rq, PGconn **c, char *rpath, size_t rlen,
                           const char ***maps, int *nmaps)
{
    ls_status st = api_db(rq, c);
    if (st != LS_OK)
        return st;
    /* A big file takes longer than an ordinary request may. */
    if ((st = db_exec(*c, "SET LOCAL statement_timeout = 1800000")) != LS_OK)
        return api_fail(rq, st, "the database did not accept the upload");

    char run[1024], dir[1100];
    config_run_dir(rq->cfg, run, sizeof(run));
    snprintf(dir, sizeof(dir), "%s/rejects", run);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return api_fail(rq, LS_EIO, "the server cannot store reject files");
    snprintf(rpath, rlen, "%s/%s.csv", dir, rq->id);

    struct maps *m = arena_alloc(rq->a, sizeof(*m));
    if (!m)
        return api_fail(rq, LS_ENOMEM, "out of memory");
    memset(m, 0, sizeof(*m));
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, collect_map, m);
    *maps = m->v;
    *nmaps = m->n;
    return LS_OK;
}

ls_status api_reply_batch(api_request *rq, long long batch, char *json)
{
    char *body = json ? arena_strdup(rq->a, json) : NULL;
    free(json);
    if (!body)
        return api_fail(rq, LS_ENOMEM, "the summary could not be built");
    char *loc = arena_printf(rq->a, "/v1/batches/%lld", batch);
    if (loc)
        api_add_header(rq, "Location", loc);
    return api_reply(rq, 201, "application/json", body, strlen(body));
}

ls_status api_h_measurements_post(api_request *rq)
{
    PGconn *c = NULL;
    char rpath[1200];
    const char **maps = NULL;
    int nmaps = 0;
    ls_status st = api_upload_start(rq, &c, rpath, sizeof(rpath), &maps, &nmaps);
    if (st != LS_OK)
        return st;
    ingest_opts o;
    memset(&o, 0, sizeof(o));
    o.path = rq->upload_path;
    o.source_name = api_query(rq, "name") ? api_query(rq, "name") : "upload";
    o.crs = api_query(rq, "crs");
    o.carrier = api_query(rq, "carrier");
    o.tech = api_query(rq, "tech");
    o.maps = maps;
    o.nmaps = nmaps;
    o.reject_path = rpath;
    o.min_download = rq->cfg->min_download_mbps;
    o.min_upload = rq->cfg->min_upload_mbps;
    o.max_latency = rq->cfg->max_latency_ms;
    o.account_id = rq->who.account_id;
    o.verify = rq->cfg;
    if (rq->who.role == ROLE_CARRIER) {
        o.only_carrier = rq->who.carrier_code;
        if (!o.carrier)
            o.carrier = rq->who.carrier_code;
    }
    if (rq->who.role == ROLE_LOCALITY)
        o.only_province = rq->who.province_code;
    if (o.tech && strcmp(o.tech, "2G") && strcmp(o.tech, "3G") && strcmp(o.tech, "4G") &&
        strcmp(o.tech, "5G"))
        return api_fail(rq, LS_EINVAL, "tech must be 2G, 3G, 4G or 5G");

    ingest_summary s;
    char err[1024];
    st = ingest_measurements(c, &o, &s, err, sizeof(err));
    if (st != LS_OK)
        return api_fail(rq, st == LS_EUNSUPPORTED ? LS_EUNSUPPORTED : st, "%s; nothing was stored",
                        *err ? err : ls_status_str(st));
    char url[64];
    snprintf(url, sizeof(url), "/v1/batches/%lld/rejects", s.batch);
    return api_reply_batch(rq, s.batch, ingest_summary_json(&s, *s.reject_file ? url : NULL));
}

static ls_status batch_id(api_request *rq, char *out, size_t len)
{
    const char *id = rq->params[0];
    size_t n = strlen(id);
    if (n == 0 || n > 18 || strspn(id, "0123456789") != n)
        return api_fail(rq, LS_EINVAL, "a batch id is a number");
    snprintf(out, len, "%s", id);
    return LS_OK;
}

ls_status api_h_batch_get(api_request *rq)
{
    char id[32], notfound[96];
    ls_status st = batch_id(rq, id, sizeof(id));
    if (st != LS_OK)
        return st;
    snprintf(notfound, sizeof(notfound), "no batch %s that this account may see", id);
    const char *p[] = {id};
    return api_reply_sql(rq, "batch: get",
                         "SELECT json_build_object('id', id, 'kind', kind, 'status', status,"
                         " 'source_name', source_name, 'started_at', started_at, 'finished_at',"
                         " finished_at, 'summary', summary - 'reject_file' || jsonb_build_object("
                         "  'reject_file', CASE WHEN summary->>'reject_file' IS NULL THEN NULL"
                         "  ELSE '/v1/batches/' || id || '/rejects' END))::text"
                         " FROM ingest_batches WHERE id = $1::bigint",
                         1, p, "application/json", notfound);
}

ls_status api_h_batch_rejects(api_request *rq)
{
    char id[32];
    ls_status st = batch_id(rq, id, sizeof(id));
    PGconn *c = NULL;
    if (st != LS_OK || (st = api_db(rq, &c)) != LS_OK)
        return st;
    const char *p[] = {id};
    PGresult *r = NULL;
    st = db_query(c, "batch: rejects",
                  "SELECT summary->>'reject_file' FROM ingest_batches WHERE id = $1::bigint", 1, p,
                  &r, NULL, 0);
    if (st != LS_OK)
        return api_fail(rq, st, "the batch could not be read");
    if (PQntuples(r) == 0 || PQgetisnull(r, 0, 0)) {
        int none = PQntuples(r) > 0;
        PQclear(r);
        return none ? api_fail(rq, LS_ENOTFOUND, "batch %s rejected no rows", id)
                    : api_fail(rq, LS_ENOTFOUND, "no batch %s that this account may see", id);
    }
    char *path = arena_strdup(rq->a, PQgetvalue(r, 0, 0));
    PQclear(r);
    char *disp = arena_printf(rq->a, "attachment; filename=\"batch-%s-rejects.csv\"", id);
    if (!path || !disp)
        return LS_ENOMEM;
    api_add_header(rq, "Content-Disposition", disp);
    return api_reply_file(rq, 200, "text/csv; charset=utf-8", path);
}

/* ------------------------------------------------------------ coverage */

static ls_status filter_args(api_request *rq, const char **carrier, const char **tech)
{
    *carrier = api_query(rq, "carrier");
    *tech = api_query(rq, "tech");
    if (*carrier && (strlen(*carrier) > 32 ||
                     strspn(*carrier, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(*carrier)))
        return api_fail(rq, LS_EINVAL, "carrier must be a carrier code such as viettel");
    if (*tech && strcmp(*tech, "2G") && strcmp(*tech, "3G") && strcmp(*tech, "4G") &&
        strcmp(*tech, "5G"))
        return api_fail(rq, LS_EINVAL, "tech must be 2G, 3G, 4G or 5G");
    return LS_OK;
}

#define CELL_PROPS                                                                                 \
    "json_build_object('res', c.res, 'x', c.cell_x, 'y', c.cell_y, 'carrier', c.carrier_code,"     \
    " 'technology', c.technology, 'tests', c.tests, 'meeting_min', c.meeting_min,"                 \
    " 'share_meeting', round(c.meeting_min::numeric / c.tests, 3),"                                \
    " 'p10_download', c.p10_download, 'p50_download', c.p50_download,"                             \
    " 'last_measured', c.last_measured,"                                                           \
    " 'status', CASE WHEN c.meeting_min = 0 AND coalesce(c.p50_download, 0) = 0 THEN 'no_service'" \
    "  WHEN c.meeting_min >= 0.8 * c.tests THEN 'meets' ELSE 'below' END)"

ls_status api_h_coverage(api_request *rq)
{
    const char *bbox = api_query(rq, "bbox");
    double b[4];
    if (!bbox || api_parse_bbox(bbox, b) != 0)
        return api_fail(rq, LS_EINVAL,
                        "bbox=minlon,minlat,maxlon,maxlat is needed (WGS 84 degrees, e.g. "
                        "bbox=105.7,20.9,106.0,21.1)");
    const char *carrier, *tech;
    ls_status st = filter_args(rq, &carrier, &tech);
    if (st != LS_OK)
        return st;
    static const int levels[] = {16, 13, 10, 7};
    int res = -1;
    const char *rs = api_query(rq, "res");
    double d;
    if (rs) {
        if (api_parse_number(rs, -1e9, 1e9, &d) != 0 || (d != 16 && d != 13 && d != 10 && d != 7))
            return api_fail(rq, LS_EINVAL,
                            "res is a cell level: 16 (~600 m), 13 (~5 km), 10 (~40 km) or 7 "
                            "(~300 km)");
        res = (int)d;
    }
    int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    for (size_t i = 0; i < LS_ARRAY_LEN(levels); i++) {
        int z = res > 0 ? res : levels[i];
        geo_tile_xy(z, b[0], b[3], &x0, &y0);
        geo_tile_xy(z, b[2], b[1], &x1, &y1);
        double n = (double)(x1 - x0 + 1) * (double)(y1 - y0 + 1);
        if (res > 0 || n <= 4096) {
            res = z;
            break;
        }
    }
    char sres[8], sx0[16], sy0[16], sx1[16], sy1[16], lim[16];
    snprintf(sres, sizeof(sres), "%d", res);
    snprintf(sx0, sizeof(sx0), "%d", x0);
    snprintf(sy0, sizeof(sy0), "%d", y0);
    snprintf(sx1, sizeof(sx1), "%d", x1);
    snprintf(sy1, sizeof(sy1), "%d", y1);
    snprintf(lim, sizeof(lim), "%d", COVERAGE_MAX_CELLS + 1);
    const char *p[] = {sres, sx0, sx1, sy0, sy1, carrier, tech, lim};
    PGconn *c = NULL;
    if ((st = api_db(rq, &c)) != LS_OK)
        return st;
    PGresult *r = NULL;
    st = db_query(c, "coverage",
                  "SELECT count(*), json_build_object('type', 'FeatureCollection', 'res', $1::int,"
                  " 'features', coalesce(json_agg(json_build_object('type', 'Feature',"
                  " 'geometry', ST_AsGeoJSON(cell_geom(c.res, c.cell_x, c.cell_y), 6)::json, "
                  "'properties', " CELL_PROPS ")), '[]'::json))::text"
                  " FROM (SELECT * FROM coverage_cells_in($1::int, $2::int, $3::int, $4::int,"
                  " $5::int, $6::text, $7::text) LIMIT $8::int) c",
                  8, p, &r, NULL, 0);
    if (st != LS_OK)
        return api_fail(rq, st, "coverage could not be read");
    if (atol(PQgetvalue(r, 0, 0)) > COVERAGE_MAX_CELLS) {
        PQclear(r);
        return api_fail(rq, LS_EINVAL,
                        "more than %d cells in that bbox at res %d: use a coarser res or a "
                        "smaller bbox",
                        COVERAGE_MAX_CELLS, res);
    }
    char *body = arena_strdup(rq->a, PQgetvalue(r, 0, 1));
    PQclear(r);
    if (!body)
        return api_fail(rq, LS_ENOMEM, "the response is too large");
    return api_reply(rq, 200, "application/geo+json", body, strlen(body));
}

ls_status api_h_coverage_at(api_request *rq)
{
    double lat, lon;
    if (api_parse_number(api_query(rq, "lat"), -90, 90, &lat) != 0 ||
        api_parse_number(api_query(rq, "lon"), -180, 180, &lon) != 0)
        return api_fail(rq, LS_EINVAL,
                        "lat and lon are needed, as decimal degrees (lat -90..90, lon -180..180)");
    const char *carrier, *tech;
    ls_status st = filter_args(rq, &carrier, &tech);
    if (st != LS_OK)
        return st;
    int x16, y16, x13, y13;
    geo_tile_xy(16, lon, lat, &x16, &y16);
    geo_tile_xy(13, lon, lat, &x13, &y13);
    char a[6][16], slat[32], slon[32], smin[32];
    snprintf(a[0], 16, "%d", x16);
    snprintf(a[1], 16, "%d", y16);
    snprintf(a[2], 16, "%d", x13);
    snprintf(a[3], 16, "%d", y13);
    snprintf(slat, sizeof(slat), "%.7f", lat);
    snprintf(slon, sizeof(slon), "%.7f", lon);
    snprintf(smin, sizeof(smin), "%g", rq->cfg->min_download_mbps);
    const char *p[] = {a[0], a[1], a[2], a[3], carrier, tech, slat, slon, smin};
    /* The finest cell with evidence, per carrier and technology: the
     * ~600 m cell when it has tests, else the ~5 km one. */
    return api_reply_sql(
        rq, "coverage at",
        "SELECT json_build_object('lat', $7::float8, 'lon', $8::float8,"
        " 'minimum_mbps', $9::float8, 'results', coalesce(json_agg(json_build_object("
        "  'carrier', c.carrier_code, 'technology', c.technology,"
        "  'meets_minimum', c.meeting_min >= 0.8 * c.tests,"
        "  'evidence', " CELL_PROPS ") ORDER BY c.carrier_code, c.technology), '[]'::json))::text"
        " FROM (SELECT DISTINCT ON (carrier_code, technology) * FROM ("
        "  SELECT * FROM coverage_cells_in(16, $1::int, $1::int, $2::int, $2::int, $5, $6)"
        "  UNION ALL"
        "  SELECT * FROM coverage_cells_in(13, $3::int, $3::int, $4::int, $4::int, $5, $6)) u"
        "  ORDER BY carrier_code, technology, res DESC) c",
        9, p, "application/json", NULL);
}
