/*
 * h_reports.c — dead-zone reports and the points they make up.
 *
 * A locality files a report at a place; reports within the merge radius
 * (300 m) with the same technology join one dead-zone point, the unit of
 * work the ministry triages and carriers fix.  Every report writes an event
 * on its point in the same transaction.  Scoping is by row-level security
 * (a locality sees and writes only its own area) and checked here as well,
 * to answer with a useful 403 rather than a silent nothing.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "buf.h"
#include "handlers.h"
#include "../geo/db.h"

#define MERGE_RADIUS_M 300
#define PAGE_DEFAULT 100
#define PAGE_MAX 1000

static const char *const techs[] = {"2G", "3G", "4G", "5G"};
static const char *const symptoms[] = {"no_signal", "weak_signal", "slow_data"};
static const char *const statuses[] = {"reported", "triaged",  "assigned", "in_progress", "blocked",
                                       "fixed",    "verified", "rejected", "reopened",    "merged"};

/* Characters, not bytes, of UTF-8 text: a Vietnamese place name is mostly
 * two- and three-byte letters. */
static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* The report object and its point, as answered by POST and GET. */
#define REPORT_JSON                                                                                \
    "json_build_object('id', r.id, 'lat', round(ST_Y(ST_PointOnSurface(r.geom))::numeric, 7),"     \
    " 'lon', round(ST_X(ST_PointOnSurface(r.geom))::numeric, 7), 'technology', r.technology,"      \
    " 'carriers', r.carriers, 'symptom', r.symptom, 'place', r.place,"                             \
    " 'people_affected', r.people_affected, 'households', r.households, 'note', r.note,"           \
    " 'province_code', r.province_code,"                                                           \
    " 'commune_code', r.commune_code, 'source', r.source, 'point_id', r.point_id,"                 \
    " 'created_at', r.created_at, 'withdrawn_at', r.withdrawn_at)"

static ls_status reply_report(api_request *rq, int status, const char *id)
{
    const char *p[] = {id};
    ls_status st = api_reply_sql(
        rq, "reports: answer",
        "SELECT json_build_object('report', " REPORT_JSON ", 'point', json_build_object("
        " 'id', p.id, 'status', p.status, 'technology', p.technology,"
        " 'report_count', p.report_count, 'people_affected', p.people_affected,"
        " 'joined', EXISTS (SELECT 1 FROM reports o WHERE o.point_id = r.point_id"
        "  AND o.id < r.id)))::text"
        " FROM reports r JOIN dz_points p ON p.id = r.point_id WHERE r.id = $1::bigint",
        1, p, "application/json", "the report is gone");
    if (st == LS_OK) {
        rq->status = status;
        char *loc = arena_printf(rq->a, "/v1/reports/%s", id);
        if (loc)
            api_add_header(rq, "Location", loc);
    }
    return st;
}

/* Reads the report fields from a JSON object or a GeoJSON Feature. */
struct report_in {
    double lat, lon;
    const char *technology, *symptom, *place, *note;
    char carriers[512]; /* a PostgreSQL array literal */
    char people[16];    /* "" when not given */
};

static ls_status parse_report(api_request *rq, const cJSON *body, struct report_in *in)
{
    memset(in, 0, sizeof(*in));
    const cJSON *props = body;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(body, "type");
    if (cJSON_IsString(type) && strcmp(type->valuestring, "Feature") == 0) {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(body, "geometry");
        const cJSON *gt = cJSON_GetObjectItemCaseSensitive(g, "type");
        const cJSON *co = cJSON_GetObjectItemCaseSensitive(g, "coordinates");
        if (!cJSON_IsString(gt) || strcmp(gt->valuestring, "Point") != 0 ||
            cJSON_GetArraySize(co) < 2 || !cJSON_IsNumber(cJSON_GetArrayItem(co, 0)) ||
            !cJSON_IsNumber(cJSON_GetArrayItem(co, 1)))
            return api_fail(rq, LS_EINVAL, "a Feature needs a Point geometry [lon, lat]");
        in->lon = cJSON_GetArrayItem(co, 0)->valuedouble;
        in->lat = cJSON_GetArrayItem(co, 1)->valuedouble;
        props = cJSON_GetObjectItemCaseSensitive(body, "properties");
        if (!cJSON_IsObject(props))
            return api_fail(rq, LS_EINVAL, "the Feature needs its properties");
    } else {
        const cJSON *la = cJSON_GetObjectItemCaseSensitive(body, "lat");
        const cJSON *lo = cJSON_GetObjectItemCaseSensitive(body, "lon");
        if (!cJSON_IsNumber(la) || !cJSON_IsNumber(lo))
            return api_fail(rq, LS_EINVAL, "lat and lon are needed, as numbers");
        in->lat = la->valuedouble;
        in->lon = lo->valuedouble;
    }
    if (!isfinite(in->lat) || !isfinite(in->lon) || fabs(in->lat) > 90 || fabs(in->lon) > 180)
        return api_fail(rq, LS_EINVAL, "lat must be -90..90 and lon -180..180");
    in->technology = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(props, "technology"));
    if (!api_one_of(in->technology, techs, LS_ARRAY_LEN(techs)))
        return api_fail(rq, LS_EINVAL, "technology must be 2G, 3G, 4G or 5G");
    in->symptom = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(props, "symptom"));
    if (!api_one_of(in->symptom, symptoms, LS_ARRAY_LEN(symptoms)))
        return api_fail(rq, LS_EINVAL, "symptom must be no_signal, weak_signal or slow_data");
    const cJSON *pl = cJSON_GetObjectItemCaseSensitive(props, "place");
    if (pl && !cJSON_IsNull(pl)) {
        if (!cJSON_IsString(pl) || utf8_len(pl->valuestring) > 200)
            return api_fail(rq, LS_EINVAL, "place must be text of at most 200 characters");
        in->place = pl->valuestring;
    }
    const cJSON *no = cJSON_GetObjectItemCaseSensitive(props, "note");
    if (no && !cJSON_IsNull(no)) {
        if (!cJSON_IsString(no) || utf8_len(no->valuestring) > 4000)
            return api_fail(rq, LS_EINVAL, "note must be text of at most 4000 characters");
        in->note = no->valuestring;
    }
    const cJSON *pe = cJSON_GetObjectItemCaseSensitive(props, "people_affected");
    if (pe && !cJSON_IsNull(pe)) {
        if (!cJSON_IsNumber(pe) || pe->valuedouble != floor(pe->valuedouble) ||
            pe->valuedouble < 0 || pe->valuedouble > 10000000)
            return api_fail(rq, LS_EINVAL, "people_affected must be a whole number 0..10000000");
        snprintf(in->people, sizeof(in->people), "%.0f", pe->valuedouble);
    }
    const cJSON *ca = cJSON_GetObjectItemCaseSensitive(props, "carriers");
    buf b;
    buf_init(&b, sizeof(in->carriers) - 1);
    buf_puts(&b, "{");
    if (ca && !cJSON_IsNull(ca)) {
        if (!cJSON_IsArray(ca) || cJSON_GetArraySize(ca) > 16) {
            buf_free(&b);
            return api_fail(rq, LS_EINVAL, "carriers must be a list of carrier codes");
        }
        const cJSON *it;
        int k = 0;
        cJSON_ArrayForEach(it, ca)
        {
            const char *code = cJSON_GetStringValue(it);
            size_t n = code ? strlen(code) : 0;
            if (n == 0 || n > 32 || strspn(code, "abcdefghijklmnopqrstuvwxyz0123456789_") != n) {
                buf_free(&b);
                return api_fail(rq, LS_EINVAL, "carriers[%d] is not a carrier code", k);
            }
            buf_printf(&b, "%s%s", k++ ? "," : "", code);
        }
    }
    buf_puts(&b, "}");
    snprintf(in->carriers, sizeof(in->carriers), "%s", b.data ? b.data : "{}");
    buf_free(&b);
    return LS_OK;
}

ls_status api_h_reports_post(api_request *rq)
{
    cJSON *body = NULL;
    struct report_in in;
    ls_status st = api_json_body(rq, &body);
    if (st == LS_OK)
        st = parse_report(rq, body, &in);
    if (st != LS_OK)
        return st;
    const char *key = api_header(rq, "Idempotency-Key");
    if (key) {
        size_t n = strlen(key);
        for (size_t i = 0; i < n; i++)
            if (!isgraph((unsigned char)key[i]))
                n = 0;
        if (n == 0 || n > 200)
            return api_fail(rq, LS_EINVAL, "Idempotency-Key must be 1-200 visible characters");
    }
    PGconn *c = NULL;
    if ((st = api_db(rq, &c)) != LS_OK)
        return st;
    char account[32];
    snprintf(account, sizeof(account), "%lld", rq->who.account_id);
    PGresult *r = NULL;

    /* A retried request finds the report its first attempt made. */
    if (key) {
        const char *pk[] = {account, key};
        /* The lookup is its own statement, after the lock: under READ
         * COMMITTED a statement sees what committed before it began, so a
         * retry that waited for the first attempt must look afterwards. */
        st = db_query(c, "reports: idempotency lock",
                      "SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 7261))", 2,
                      pk, NULL, NULL, 0);
        if (st == LS_OK)
            st = db_query(c, "reports: idempotency",
                          "SELECT 1, (SELECT id FROM reports WHERE account_id = $1::bigint"
                          " AND client_ref = $2)",
                          2, pk, &r, NULL, 0);
        if (st != LS_OK)
            return api_fail(rq, st, "the report could not be checked");
        if (!PQgetisnull(r, 0, 1)) {
            char *id = arena_strdup(rq->a, PQgetvalue(r, 0, 1));
            PQclear(r);
            api_add_header(rq, "Idempotent-Replayed", "true");
            return id ? reply_report(rq, 201, id) : LS_ENOMEM;
        }
        PQclear(r);
    }

    char lat[32], lon[32];
    snprintf(lat, sizeof(lat), "%.8f", in.lat);
    snprintf(lon, sizeof(lon), "%.8f", in.lon);
    const char *pp[] = {lat, lon};
    st = db_query(c, "reports: province",
                  "SELECT u.code, u.name FROM admin_units u WHERE u.level = 'province'"
                  " AND u.valid_to IS NULL AND u.code = unit_at(ST_SetSRID(ST_MakePoint("
                  "$2::float8, $1::float8), 4326), current_date, 'province')",
                  2, pp, &r, NULL, 0);
    if (st != LS_OK)
        return api_fail(rq, st, "the place could not be located");
    if (PQntuples(r) == 0) {
        PQclear(r);
        return api_fail(rq, LS_EINVAL, "the point (%s, %s) is not in Vietnam", lat, lon);
    }
    char prov[8], pname[128];
    snprintf(prov, sizeof(prov), "%s", PQgetvalue(r, 0, 0));
    snprintf(pname, sizeof(pname), "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    if (strcmp(prov, rq->who.province_code) != 0)
        return api_fail(rq, LS_EFORBIDDEN,
                        "the point (%s, %s) is in province %s (%s), outside this account's area "
                        "(%s %s)",
                        lat, lon, prov, pname, rq->who.unit_level, rq->who.unit_code);
    const char *commune = strcmp(rq->who.unit_level, "commune") == 0 ? rq->who.unit_code : NULL;

    /* Filed as every report is, whatever its source (006_reports.sql). */
    char radius[16];
    snprintf(radius, sizeof(radius), "%d", MERGE_RADIUS_M);
    const char *people = *in.people ? in.people : NULL;
    const char *source = api_query(rq, "source");
    if (!source || (strcmp(source, "map") != 0 && strcmp(source, "api") != 0))
        source = "api";
    const char *pr[] = {account,    prov,     commune, lon,     lat,    in.technology, in.carriers,
                        in.symptom, in.place, people,  in.note, source, key,           radius};
    char msg[256];
    st = db_query(c, "reports: file",
                  "SELECT new_report FROM report_file($1::bigint, $2, $3, $4::float8, $5::float8,"
                  " $6, $7::text[], $8, $9, $10::int, NULL, $11, $12, $13, NULL, NULL,"
                  " $14::float8)",
                  14, pr, &r, msg, sizeof(msg));
    if (st != LS_OK)
        return api_fail(rq, st, "the report could not be saved%s%s", *msg ? ": " : "", msg);
    if (PQgetisnull(r, 0, 0)) {
        PQclear(r);
        return api_fail(rq, LS_EINVAL, "carriers names a carrier that does not exist (%s)",
                        in.carriers);
    }
    char id[32];
    snprintf(id, sizeof(id), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return reply_report(rq, 201, id);
}

static ls_status id_param(api_request *rq, const char *what, char *out, size_t len)
{
    const char *id = rq->params[0];
    size_t n = strlen(id);
    if (n == 0 || n > 18 || strspn(id, "0123456789") != n)
        return api_fail(rq, LS_EINVAL, "a %s id is a number", what);
    snprintf(out, len, "%s", id);
    return LS_OK;
}

ls_status api_h_report_get(api_request *rq)
{
    char id[32], nf[96];
    ls_status st = id_param(rq, "report", id, sizeof(id));
    if (st != LS_OK)
        return st;
    snprintf(nf, sizeof(nf), "no report %s that this account may see", id);
    const char *p[] = {id};
    return api_reply_sql(rq, "reports: get",
                         "SELECT " REPORT_JSON "::text FROM reports r WHERE r.id = $1::bigint", 1,
                         p, "application/json", nf);
}

/* ------------------------------------------------------------ paging */

static ls_status page_args(api_request *rq, char *limit, char *cursor)
{
    double d;
    const char *l = api_query(rq, "limit"), *c = api_query(rq, "cursor");
    if (l && (api_parse_number(l, 1, PAGE_MAX, &d) != 0 || d != floor(d)))
        return api_fail(rq, LS_EINVAL, "limit must be a whole number from 1 to %d", PAGE_MAX);
    if (c && (api_parse_number(c, 0, 9e15, &d) != 0 || d != floor(d)))
        return api_fail(rq, LS_EINVAL, "cursor must be the value given in next");
    snprintf(limit, 16, "%s", l ? l : "100");
    snprintf(cursor, 24, "%s", c ? c : "0");
    return LS_OK;
}

struct qs {
    buf *b;
    int n;
};

static void url_put(buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || strchr("-_.~,", *p))
            buf_append(b, p, 1);
        else
            buf_printf(b, "%%%02X", *p);
    }
}

static enum MHD_Result copy_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    LS_UNUSED(kind);
    struct qs *q = cls;
    if (strcmp(key, "cursor") == 0)
        return MHD_YES;
    buf_puts(q->b, q->n++ ? "&" : "?");
    url_put(q->b, key);
    if (value) {
        buf_puts(q->b, "=");
        url_put(q->b, value);
    }
    return MHD_YES;
}

/* The URL of the next page: this request's path and arguments, with the
 * cursor moved on.  Arena string. */
static const char *next_url(api_request *rq, const char *cursor)
{
    buf b;
    buf_init(&b, 8192);
    buf_puts(&b, rq->path);
    struct qs q = {&b, 0};
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, copy_arg, &q);
    buf_printf(&b, "%scursor=%s", q.n ? "&" : "?", cursor);
    const char *out = b.data ? arena_strdup(rq->a, b.data) : NULL;
    buf_free(&b);
    return out;
}

/* Runs a page query: $1 limit, $2 cursor; the query returns (json text of the
 * rows, the next cursor or NULL).  The answer is the object `wrap` with the
 * rows spliced in at `%s` and the next URL. */
static ls_status reply_page(api_request *rq, const char *what, const char *sql, int n,
                            const char *const *p, const char *head, const char *type)
{
    PGconn *c = NULL;
    ls_status st = api_db(rq, &c);
    if (st != LS_OK)
        return st;
    PGresult *r = NULL;
    st = db_query(c, what, sql, n, p, &r, NULL, 0);
    if (st != LS_OK)
        return api_fail(rq, st, "the list could not be read");
    const char *next = PQgetisnull(r, 0, 1) ? NULL : next_url(rq, PQgetvalue(r, 0, 1));
    buf b;
    buf_init(&b, 0);
    buf_printf(&b, "%s%s,\"next\":", head, PQgetvalue(r, 0, 0));
    if (next)
        buf_json_str(&b, next);
    else
        buf_puts(&b, "null");
    buf_puts(&b, "}");
    PQclear(r);
    char *body = b.data ? arena_strndup(rq->a, b.data, b.len) : NULL;
    size_t len = b.len;
    buf_free(&b);
    if (!body)
        return api_fail(rq, LS_ENOMEM, "the list is too large");
    return api_reply(rq, 200, type, body, len);
}

ls_status api_h_reports_list(api_request *rq)
{
    char limit[16], cursor[24];
    ls_status st = page_args(rq, limit, cursor);
    if (st != LS_OK)
        return st;
    const char *p[] = {limit, cursor};
    return reply_page(rq, "reports: list",
                      "WITH page AS (SELECT r.*, row_number() OVER (ORDER BY r.id) AS rn"
                      " FROM reports r WHERE r.id > $2::bigint ORDER BY r.id"
                      " LIMIT $1::int + 1)"
                      " SELECT coalesce((SELECT json_agg(" REPORT_JSON " ORDER BY r.id)"
                      "  FROM page r WHERE rn <= $1::int), '[]'::json)::text,"
                      " CASE WHEN (SELECT count(*) FROM page) > $1::int"
                      "  THEN (SELECT max(id) FROM page WHERE rn <= $1::int) END",
                      2, p, "{\"reports\":", "application/json");
}

/* ------------------------------------------------------------ points */

#define POINT_PROPS                                                                                \
    "'id', p.id, 'status', p.status, 'technology', p.technology,"                                  \
    " 'province_code', p.province_code, 'commune_code', p.commune_code,"                           \
    " 'report_count', p.report_count, 'people_affected', p.people_affected,"                       \
    " 'first_reported', p.first_reported, 'due_date', p.due_date,"                                 \
    " 'overdue', coalesce(p.due_date < current_date AND p.status NOT IN"                           \
    "  ('fixed', 'verified', 'rejected', 'merged'), false),"                                       \
    " 'blocked_reason', p.blocked_reason, 'disputed', p.disputed,"                                 \
    " 'carriers', coalesce((SELECT json_agg(a.carrier_code ORDER BY a.carrier_code)"               \
    "  FROM assignments a WHERE a.point_id = p.id AND a.status <> 'withdrawn'), '[]'::json)"

ls_status api_h_points_list(api_request *rq)
{
    char limit[16], cursor[24];
    ls_status st = page_args(rq, limit, cursor);
    if (st != LS_OK)
        return st;
    const char *bbox = api_query(rq, "bbox"), *unit = api_query(rq, "unit");
    const char *status = api_query(rq, "status"), *tech = api_query(rq, "tech");
    const char *carrier = api_query(rq, "carrier"), *overdue = api_query(rq, "overdue");
    double b[4] = {0};
    char sb[4][32];
    if (bbox) {
        if (api_parse_bbox(bbox, b) != 0)
            return api_fail(rq, LS_EINVAL,
                            "bbox must be minlon,minlat,maxlon,maxlat in WGS 84 degrees");
        for (int i = 0; i < 4; i++)
            snprintf(sb[i], sizeof(sb[i]), "%.8f", b[i]);
    }
    if (unit &&
        (strlen(unit) < 2 || strlen(unit) > 5 || strspn(unit, "0123456789") != strlen(unit)))
        return api_fail(rq, LS_EINVAL, "unit must be a province or commune code");
    char statuses_lit[256] = "";
    if (status) {
        buf sbuf;
        buf_init(&sbuf, sizeof(statuses_lit) - 1);
        buf_puts(&sbuf, "{");
        char tmp[256];
        snprintf(tmp, sizeof(tmp), "%s", status);
        char *save = NULL;
        int k = 0;
        for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (!api_one_of(t, statuses, LS_ARRAY_LEN(statuses))) {
                buf_free(&sbuf);
                return api_fail(rq, LS_EINVAL, "status '%s' is not a point status", t);
            }
            buf_printf(&sbuf, "%s%s", k++ ? "," : "", t);
        }
        buf_puts(&sbuf, "}");
        snprintf(statuses_lit, sizeof(statuses_lit), "%s", sbuf.data ? sbuf.data : "{}");
        buf_free(&sbuf);
    }
    if (tech && !api_one_of(tech, techs, LS_ARRAY_LEN(techs)))
        return api_fail(rq, LS_EINVAL, "tech must be 2G, 3G, 4G or 5G");
    if (overdue && strcmp(overdue, "true") != 0 && strcmp(overdue, "false") != 0)
        return api_fail(rq, LS_EINVAL, "overdue must be true or false");
    const char *p[] = {limit,
                       cursor,
                       bbox ? sb[0] : NULL,
                       bbox ? sb[1] : NULL,
                       bbox ? sb[2] : NULL,
                       bbox ? sb[3] : NULL,
                       unit,
                       status ? statuses_lit : NULL,
                       tech,
                       carrier,
                       overdue && strcmp(overdue, "true") == 0 ? "t" : NULL};
    return reply_page(
        rq, "points: list",
        "WITH page AS (SELECT p.*, row_number() OVER (ORDER BY p.id) AS rn FROM dz_points p"
        " WHERE p.id > $2::bigint"
        " AND ($3::float8 IS NULL OR p.geom && ST_MakeEnvelope($3::float8, $4::float8,"
        "  $5::float8, $6::float8, 4326))"
        " AND ($7::text IS NULL OR p.province_code = $7 OR p.commune_code = $7)"
        " AND ($8::text[] IS NULL OR p.status = ANY($8::text[]))"
        " AND ($9::text IS NULL OR p.technology = $9)"
        " AND ($10::text IS NULL OR EXISTS (SELECT 1 FROM assignments a WHERE a.point_id = p.id"
        "  AND a.carrier_code = $10 AND a.status <> 'withdrawn'))"
        " AND ($11::bool IS NULL OR (p.due_date < current_date AND p.status NOT IN"
        "  ('fixed', 'verified', 'rejected', 'merged')))"
        " ORDER BY p.id LIMIT $1::int + 1)"
        " SELECT coalesce((SELECT json_agg(json_build_object('type', 'Feature', 'id', p.id,"
        "  'geometry', ST_AsGeoJSON(p.geom, 7)::json, 'properties', json_build_object(" POINT_PROPS
        ")) ORDER BY p.id) FROM page p WHERE rn <= $1::int), '[]'::json)::text,"
        " CASE WHEN (SELECT count(*) FROM page) > $1::int"
        "  THEN (SELECT max(id) FROM page WHERE rn <= $1::int) END",
        11, p, "{\"type\":\"FeatureCollection\",\"features\":", "application/geo+json");
}

ls_status api_reply_point(api_request *rq, const char *id)
{
    char nf[96];
    snprintf(nf, sizeof(nf), "no point %s that this account may see", id);
    const char *p[] = {id};
    return api_reply_sql(
        rq, "points: get",
        "SELECT json_build_object('type', 'Feature', 'id', p.id,"
        " 'geometry', ST_AsGeoJSON(p.geom, 7)::json, 'properties', json_build_object(" POINT_PROPS
        ", 'merged_into', p.merged_into, 'fixed_at', p.fixed_at, 'verified_at', p.verified_at,"
        " 'rejected_reason', p.rejected_reason,"
        " 'reports', coalesce((SELECT json_agg(" REPORT_JSON " ORDER BY r.id) FROM reports r"
        "  WHERE r.point_id = p.id), '[]'::json),"
        " 'assignments', coalesce((SELECT json_agg(json_build_object('id', a.id, 'carrier',"
        "  a.carrier_code, 'status', a.status, 'blocked_reason', a.blocked_reason, 'due_date',"
        "  a.due_date, 'assigned_at', a.assigned_at) ORDER BY a.id) FROM assignments a"
        "  WHERE a.point_id = p.id), '[]'::json),"
        " 'events', coalesce((SELECT json_agg(json_build_object('id', e.id, 'at', e.at,"
        "  'recorded_at', e.recorded_at, 'kind', e.kind, 'actor_role', e.actor_role,"
        "  'from_status', e.from_status, 'to_status', e.to_status, 'carrier', e.carrier_code,"
        "  'reason', e.reason, 'note', e.note, 'data', e.data) ORDER BY e.at, e.id)"
        "  FROM events e WHERE e.point_id = p.id), '[]'::json)))::text"
        " FROM dz_points p WHERE p.id = $1::bigint",
        1, p, "application/geo+json", nf);
}

ls_status api_h_point_get(api_request *rq)
{
    char id[32];
    ls_status st = id_param(rq, "point", id, sizeof(id));
    return st == LS_OK ? api_reply_point(rq, id) : st;
}
