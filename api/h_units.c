/*
 * h_units.c — administrative units and carriers: the reference data every
 * screen and report is keyed by.  GeoJSON is assembled by PostGIS
 * (ST_AsGeoJSON + json_agg), which is both faster and less code than
 * rebuilding geometries in C.  Lists default to the ~100 m generalised
 * geometry stored at load time, so the 34 provinces cost a few hundred
 * kilobytes, not the 3.4 MB of the full boundaries.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cli.h"
#include "handlers.h"
#include "../geo/db.h"

/* The `at` argument, or today's date (Vietnam time) in buf. */
static ls_status date_arg(api_request *rq, char *out, size_t len)
{
    const char *at = api_query(rq, "at");
    if (at) {
        if (cli_check_date(at) != 0)
            return api_fail(rq, LS_EINVAL, "at must be a date YYYY-MM-DD, not '%s'", at);
        snprintf(out, len, "%s", at);
        return LS_OK;
    }
    time_t t = time(NULL) + 7 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%d", &tm);
    return LS_OK;
}

static int valid_code(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 5)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static ls_status geometry_arg(api_request *rq, const char *def, const char **out)
{
    const char *g = api_query(rq, "geometry");
    if (!g)
        g = def;
    if (strcmp(g, "simplified") != 0 && strcmp(g, "full") != 0 && strcmp(g, "none") != 0)
        return api_fail(rq, LS_EINVAL, "geometry must be simplified, full or none");
    *out = g;
    return LS_OK;
}

#define UNIT_FEATURE                                                                               \
    "json_build_object('type', 'Feature', 'id', u.code,"                                           \
    " 'geometry', CASE $3 WHEN 'none' THEN NULL WHEN 'full' THEN ST_AsGeoJSON(u.geom, 6)::json"    \
    "  ELSE ST_AsGeoJSON(u.geom_simple, 5)::json END,"                                             \
    " 'properties', json_build_object('code', u.code, 'name', u.name, 'level', u.level,"           \
    "  'province_code', u.province_code, 'valid_from', u.valid_from, 'valid_to', u.valid_to,"      \
    "  'current_code', CASE WHEN u.valid_to IS NULL THEN u.code"                                   \
    "   ELSE unit_current(u.code, u.level) END"

ls_status api_h_units_list(api_request *rq)
{
    const char *level = api_query(rq, "level");
    if (!level)
        level = "province";
    if (strcmp(level, "province") != 0 && strcmp(level, "commune") != 0)
        return api_fail(rq, LS_EINVAL, "level must be province or commune");
    const char *province = api_query(rq, "province");
    if (province && !valid_code(province))
        return api_fail(rq, LS_EINVAL, "province must be a province code such as 01");
    char at[16];
    const char *geometry;
    ls_status st = date_arg(rq, at, sizeof(at));
    if (st == LS_OK)
        st = geometry_arg(rq, strcmp(level, "province") == 0 ? "simplified" : "none", &geometry);
    if (st != LS_OK)
        return st;
    const char *p[] = {level, at, geometry, province};
    api_add_header(rq, "Cache-Control", "public, max-age=300");
    return api_reply_sql(
        rq, "units: list",
        "SELECT json_build_object('type', 'FeatureCollection', 'features',"
        " coalesce(json_agg(f ORDER BY code), '[]'::json))::text FROM ("
        " SELECT u.code, " UNIT_FEATURE ")) AS f"
        " FROM admin_units u WHERE u.level = $1 AND u.valid_from <= $2::date"
        " AND (u.valid_to IS NULL OR u.valid_to > $2::date)"
        " AND ($4::text IS NULL OR u.province_code = $4 OR (u.level = 'province' AND u.code = $4))"
        ") s",
        4, p, "application/geo+json", NULL);
}

ls_status api_h_unit_get(api_request *rq)
{
    const char *code = rq->params[0];
    if (!valid_code(code))
        return api_fail(rq, LS_EINVAL, "a unit code is 2 (province) or 5 (commune) digits");
    const char *level = api_query(rq, "level");
    if (!level)
        level = strlen(code) <= 2 ? "province" : "commune";
    if (strcmp(level, "province") != 0 && strcmp(level, "commune") != 0)
        return api_fail(rq, LS_EINVAL, "level must be province or commune");
    char at[16];
    const char *geometry;
    ls_status st = date_arg(rq, at, sizeof(at));
    if (st == LS_OK)
        st = geometry_arg(rq, "full", &geometry);
    if (st != LS_OK)
        return st;
    char notfound[96];
    snprintf(notfound, sizeof(notfound), "no %s has code %s", level, code);
    const char *p[] = {level, at, geometry, code};
    api_add_header(rq, "Cache-Control", "public, max-age=300");
    /* The version in force on `at`; else the latest one, whose current_code
     * says what it became (old province 02 Hà Giang -> 08 Tuyên Quang). */
    return api_reply_sql(
        rq, "units: get",
        "SELECT (" UNIT_FEATURE ", 'predecessors', (SELECT coalesce(json_agg(json_build_object("
        "   'code', s.old_code, 'name', (SELECT o.name FROM admin_units o WHERE o.level = s.level"
        "   AND o.code = s.old_code AND o.valid_to IS NOT NULL ORDER BY o.valid_to DESC LIMIT 1),"
        "   'kind', s.kind, 'effective', s.effective) ORDER BY s.old_code), '[]'::json)"
        "  FROM unit_successors s WHERE s.level = u.level AND s.new_code = u.code"
        "  AND s.old_code <> u.code AND u.valid_to IS NULL))))::text"
        " FROM admin_units u WHERE u.level = $1 AND u.code = $4"
        " ORDER BY (u.valid_from <= $2::date AND (u.valid_to IS NULL OR u.valid_to > $2::date))"
        " DESC, u.valid_from DESC LIMIT 1",
        4, p, "application/geo+json", notfound);
}

ls_status api_h_units_locate(api_request *rq)
{
    double lat, lon;
    if (api_parse_number(api_query(rq, "lat"), -90, 90, &lat) != 0 ||
        api_parse_number(api_query(rq, "lon"), -180, 180, &lon) != 0)
        return api_fail(rq, LS_EINVAL,
                        "lat and lon are needed, as decimal degrees (lat -90..90, lon -180..180)");
    char at[16];
    ls_status st = date_arg(rq, at, sizeof(at));
    if (st != LS_OK)
        return st;
    char slat[32], slon[32], notfound[128];
    snprintf(slat, sizeof(slat), "%.8f", lat);
    snprintf(slon, sizeof(slon), "%.8f", lon);
    snprintf(notfound, sizeof(notfound), "the point (%.6f, %.6f) is in no province of Vietnam", lat,
             lon);
    const char *p[] = {slat, slon, at};
    return api_reply_sql(
        rq, "units: locate",
        "SELECT json_build_object('lat', $1::float8, 'lon', $2::float8, 'at', $3::date,"
        " 'province', json_build_object('code', u.code, 'name', u.name))::text"
        " FROM admin_units u WHERE u.level = 'province' AND u.code = unit_at("
        "  ST_SetSRID(ST_MakePoint($2::float8, $1::float8), 4326), $3::date, 'province')"
        " AND u.valid_from <= $3::date AND (u.valid_to IS NULL OR u.valid_to > $3::date)",
        3, p, "application/json", notfound);
}

#define LOCATE_MAX 1000

ls_status api_h_units_locate_many(api_request *rq)
{
    cJSON *body = NULL;
    ls_status st = api_json_body(rq, &body);
    if (st != LS_OK)
        return st;
    const cJSON *pts = cJSON_GetObjectItemCaseSensitive(body, "points");
    if (!cJSON_IsArray(pts))
        return api_fail(rq, LS_EINVAL,
                        "the body must be {\"points\": [{\"lat\": .., \"lon\": ..}, "
                        "...]}");
    int n = cJSON_GetArraySize(pts);
    if (n > LOCATE_MAX)
        return api_fail(rq, LS_ETOOBIG, "at most %d points per request, not %d", LOCATE_MAX, n);
    char at[16];
    if ((st = date_arg(rq, at, sizeof(at))) != LS_OK)
        return st;
    buf lats, lons;
    buf_init(&lats, 0);
    buf_init(&lons, 0);
    buf_puts(&lats, "{");
    buf_puts(&lons, "{");
    int i = 0;
    const cJSON *pt;
    cJSON_ArrayForEach(pt, pts)
    {
        const cJSON *jl = cJSON_GetObjectItemCaseSensitive(pt, "lat");
        const cJSON *jo = cJSON_GetObjectItemCaseSensitive(pt, "lon");
        if (!cJSON_IsNumber(jl) || !cJSON_IsNumber(jo) || fabs(jl->valuedouble) > 90 ||
            fabs(jo->valuedouble) > 180) {
            buf_free(&lats);
            buf_free(&lons);
            return api_fail(rq, LS_EINVAL,
                            "points[%d] needs numeric lat (-90..90) and lon (-180..180)", i);
        }
        buf_printf(&lats, "%s%.8f", i ? "," : "", jl->valuedouble);
        buf_printf(&lons, "%s%.8f", i ? "," : "", jo->valuedouble);
        i++;
    }
    buf_puts(&lats, "}");
    buf_puts(&lons, "}");
    const char *p[] = {lats.data, lons.data, at};
    st = api_reply_sql(
        rq, "units: locate many",
        "SELECT json_build_object('at', $3::date, 'results', coalesce(json_agg("
        " json_build_object('lat', t.lat, 'lon', t.lon, 'province', CASE WHEN u.code IS NULL"
        "  THEN NULL ELSE json_build_object('code', u.code, 'name', u.name) END)"
        " ORDER BY t.ord), '[]'::json))::text"
        " FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS t(lat, lon, ord)"
        " LEFT JOIN admin_units u ON u.level = 'province' AND u.code = unit_at("
        "  ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326), $3::date, 'province')"
        "  AND u.valid_from <= $3::date AND (u.valid_to IS NULL OR u.valid_to > $3::date)",
        3, p, "application/json", NULL);
    buf_free(&lats);
    buf_free(&lons);
    return st;
}

ls_status api_h_carriers(api_request *rq)
{
    api_add_header(rq, "Cache-Control", "public, max-age=300");
    return api_reply_sql(rq, "carriers",
                         "SELECT json_build_object('carriers', coalesce(json_agg("
                         " json_build_object('code', code, 'name', name, 'mcc_mnc', mcc_mnc,"
                         " 'kind', kind) ORDER BY code), '[]'::json))::text FROM carriers",
                         0, NULL, "application/json", NULL);
}
