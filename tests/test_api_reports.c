/*
 * test_api_reports.c — dead-zone reports and points over real loopback HTTP
 * against the test cluster: POST /v1/reports (flat JSON and GeoJSON
 * Feature bodies, validation, roles, the account's area, Idempotency-Key,
 * merging into points within 300 m), GET /v1/reports and /v1/reports/{id},
 * GET /v1/points (filters, keyset pagination, row-level scoping) and
 * GET /v1/points/{id} with its reports, assignments and events.
 *
 * Every test reports at its own places (all checked to lie in the intended
 * province) or with its own technology, so that no test's report joins a
 * point of another.  What the server answers is compared with what the
 * test sent and with the rows in the database, read as the 'system'
 * context through the owner connection.
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"

/* -------------------------------------------------------------- helpers */

static char *tok_l15, *tok_l15b, *tok_l01, *tok_min, *tok_car, *tok_vina, *tok_util, *tok_pub;

/* Ids made by earlier tests and looked at by later ones. */
static long long g_report1, g_point1;           /* Lào Cai 22.48,103.97 4G */
static long long g_merge_point, g_merge_r[2];   /* Lào Cai 22.40,104.05 4G, two reports */
static long long g_hanoi_report, g_hanoi_point; /* Hà Nội 21.03,105.80 4G */
static long long g_page_points[5];              /* Lào Cai 22.58 N, 5G */

/* The problem's detail, decoded from JSON (so \u escapes become UTF-8). */
static char *detail_of(const t_resp *r)
{
    cJSON *j = r->body ? cJSON_Parse(r->body) : NULL;
    const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "detail"));
    char *s = d ? strdup(d) : NULL;
    cJSON_Delete(j);
    return s;
}

static cJSON *item(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* A whole number member, or -1 when it is missing or not a number. */
static long long jid(const cJSON *o, const char *k)
{
    const cJSON *v = item(o, k);
    return cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
}

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *v = item(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *jstr(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(item(o, k));
}

static int str_or_null(const cJSON *o, const char *k)
{
    const cJSON *v = item(o, k);
    return cJSON_IsString(v) || cJSON_IsNull(v);
}

static int contains(const long long *ids, int n, long long id)
{
    for (int i = 0; i < n; i++)
        if (ids[i] == id)
            return 1;
    return 0;
}

/* An owner connection in the 'system' context (the tables have FORCE ROW
 * LEVEL SECURITY). */
/* One number from SQL; LLONG_MIN when the query fails. */
static long long sql_ll(PGconn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static long long sql_ll(PGconn *c, const char *fmt, ...)
{
    char q[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    char *s = c ? t_sql(c, q) : NULL;
    long long v = s ? strtoll(s, NULL, 10) : LLONG_MIN;
    free(s);
    return v;
}

static long long count_rows(const char *table)
{
    PGconn *c = t_sysdb();
    long long n = sql_ll(c, "SELECT count(*) FROM %s", table);
    PQfinish(c);
    return n;
}

/* A flat report body at lat/lon with symptom no_signal; `more` (may be
 * NULL) is further members, e.g. "\"carriers\": [\"viettel\"]".  malloc'd. */
static char *body_at(double lat, double lon, const char *tech, const char *more)
{
    char *s = NULL;
    if (asprintf(&s,
                 "{\"lat\": %.6f, \"lon\": %.6f, \"technology\": \"%s\","
                 " \"symptom\": \"no_signal\"%s%s}",
                 lat, lon, tech, more ? ", " : "", more ? more : "") < 0)
        return NULL;
    return s;
}

static int post(const char *tok, const char *body, const char *key, t_resp *r)
{
    char hdr[512];
    if (key)
        snprintf(hdr, sizeof hdr, "Content-Type: application/json\nIdempotency-Key: %s", key);
    else
        snprintf(hdr, sizeof hdr, "Content-Type: application/json");
    return t_http("POST", "/v1/reports", tok, body, body ? strlen(body) : 0, hdr, r);
}

typedef struct {
    long long report, point, report_count, people;
    int joined; /* 1 true, 0 false, -1 missing */
} posted;

/* Reads a 201 answer of POST /v1/reports and checks its Location. */
static int parse_posted(int line, const t_resp *r, posted *p)
{
    p->report = p->point = p->report_count = p->people = -1;
    p->joined = -1;
    if (r->status != 201) {
        t_fail(__FILE__, line, "POST /v1/reports: status %ld, want 201: %.400s", r->status,
               r->body ? r->body : "");
        return -1;
    }
    cJSON *j = cJSON_Parse(r->body);
    cJSON *rep = item(j, "report"), *pt = item(j, "point");
    p->report = jid(rep, "id");
    p->point = jid(pt, "id");
    p->report_count = jid(pt, "report_count");
    p->people = jid(pt, "people_affected");
    cJSON *jn = item(pt, "joined");
    p->joined = cJSON_IsBool(jn) ? cJSON_IsTrue(jn) : -1;
    int ok = p->report > 0 && p->point > 0 && p->joined >= 0 && p->report_count > 0;
    if (!ok)
        t_fail(__FILE__, line,
               "POST /v1/reports: answer lacks report.id / point.id / joined: %.400s", r->body);
    char want[64];
    snprintf(want, sizeof want, "/v1/reports/%lld", p->report);
    const char *loc = t_header(r, "Location");
    if (!loc || strcmp(loc, want) != 0) {
        t_fail(__FILE__, line, "Location: got \"%s\", want \"%s\"", loc ? loc : "(none)", want);
        ok = 0;
    }
    cJSON_Delete(j);
    return ok ? 0 : -1;
}

/* Posts a report that must be accepted (201); returns what it made. */
static posted post_ok(int line, const char *tok, double lat, double lon, const char *tech,
                      const char *more, const char *key)
{
    posted p = {-1, -1, -1, -1, -1};
    char *b = body_at(lat, lon, tech, more);
    t_resp r;
    if (!b || post(tok, b, key, &r) != 0) {
        t_fail(__FILE__, line, "POST /v1/reports at %g,%g: no answer", lat, lon);
        free(b);
        return p;
    }
    parse_posted(line, &r, &p);
    t_resp_free(&r);
    free(b);
    return p;
}
#define POST_OK(...) post_ok(__LINE__, __VA_ARGS__)

/* Posts `body`, which must be refused with `status` as problem+json whose
 * detail contains each of the NULL-terminated needles. */
static void post_refused(int line, const char *tok, const char *body, long status, ...)
{
    t_resp r;
    if (post(tok, body, NULL, &r) != 0) {
        t_fail(__FILE__, line, "POST /v1/reports: no answer");
        return;
    }
    if (!t_is_problem(&r, status))
        t_fail(__FILE__, line, "POST /v1/reports %.200s: got %ld %s \"%.300s\", want %ld problem",
               body ? body : "(no body)", r.status, r.content_type ? r.content_type : "",
               r.body ? r.body : "", status);
    char *d = detail_of(&r);
    va_list ap;
    va_start(ap, status);
    for (const char *n = va_arg(ap, const char *); n; n = va_arg(ap, const char *))
        if (!d || !strstr(d, n))
            t_fail(__FILE__, line, "detail \"%.300s\" does not contain \"%s\"", d ? d : "(none)",
                   n);
    va_end(ap);
    free(d);
    t_resp_free(&r);
}
#define POST_REFUSED(tok, body, ...) post_refused(__LINE__, tok, body, __VA_ARGS__, NULL)

/* GET `path`; must answer `status` as a problem. */
static void get_refused(int line, const char *tok, const char *path, long status)
{
    t_resp r;
    if (t_http("GET", path, tok, NULL, 0, NULL, &r) != 0) {
        t_fail(__FILE__, line, "GET %s: no answer", path);
        return;
    }
    if (!t_is_problem(&r, status))
        t_fail(__FILE__, line, "GET %s: got %ld %s \"%.300s\", want %ld problem", path, r.status,
               r.content_type ? r.content_type : "", r.body ? r.body : "", status);
    t_resp_free(&r);
}
#define GET_REFUSED(tok, path, status) get_refused(__LINE__, tok, path, status)

/* GET `path`, which must answer 200 with JSON; the parsed body or NULL. */
static cJSON *get_json(int line, const char *tok, const char *path)
{
    t_resp r;
    if (t_http("GET", path, tok, NULL, 0, NULL, &r) != 0) {
        t_fail(__FILE__, line, "GET %s: no answer", path);
        return NULL;
    }
    cJSON *j = NULL;
    if (r.status != 200)
        t_fail(__FILE__, line, "GET %s: status %ld, want 200: %.300s", path, r.status,
               r.body ? r.body : "");
    else if (!r.content_type || !strstr(r.content_type, "json"))
        t_fail(__FILE__, line, "GET %s: Content-Type %s, want JSON", path,
               r.content_type ? r.content_type : "(none)");
    else if (!(j = cJSON_Parse(r.body)))
        t_fail(__FILE__, line, "GET %s: not JSON: %.300s", path, r.body ? r.body : "");
    t_resp_free(&r);
    return j;
}
#define GET_JSON(tok, path) get_json(__LINE__, tok, path)

/* A `next` link as a path for t_http: absolute URLs lose their origin. */
static const char *next_path(const char *next)
{
    const char *base = t_server_url();
    if (base && strncmp(next, base, strlen(base)) == 0)
        return next + strlen(base);
    if (strncmp(next, "http://", 7) == 0 || strncmp(next, "https://", 8) == 0) {
        const char *p = strchr(next + 8, '/');
        return p ? p : "/";
    }
    return next;
}

/* The properties every point feature carries, with their JSON types. */
static void check_point_feature(int line, const cJSON *f)
{
    const cJSON *p = item(f, "properties");
    int ok = jid(f, "id") > 0 && jid(p, "id") == jid(f, "id") &&
             cJSON_IsString(item(p, "status")) && cJSON_IsString(item(p, "technology")) &&
             cJSON_IsString(item(p, "province_code")) && str_or_null(p, "commune_code") &&
             jid(p, "report_count") >= 0 && jid(p, "people_affected") >= 0 &&
             cJSON_IsString(item(p, "first_reported")) && str_or_null(p, "due_date") &&
             cJSON_IsBool(item(p, "overdue")) && cJSON_IsArray(item(p, "carriers"));
    if (!ok || strcmp(jstr(f, "type") ? jstr(f, "type") : "", "Feature") != 0) {
        char *s = cJSON_PrintUnformatted(f);
        t_fail(__FILE__, line, "not a point feature with every property: %.600s", s ? s : "");
        free(s);
    }
}

/* The properties of a report object, with their JSON types. */
static void check_report_object(int line, const cJSON *o)
{
    int ok =
        jid(o, "id") > 0 && cJSON_IsNumber(item(o, "lat")) && cJSON_IsNumber(item(o, "lon")) &&
        cJSON_IsString(item(o, "technology")) && cJSON_IsArray(item(o, "carriers")) &&
        cJSON_IsString(item(o, "symptom")) && str_or_null(o, "place") &&
        (cJSON_IsNumber(item(o, "people_affected")) || cJSON_IsNull(item(o, "people_affected"))) &&
        str_or_null(o, "note") && cJSON_IsString(item(o, "province_code")) &&
        str_or_null(o, "commune_code") && cJSON_IsString(item(o, "created_at"));
    if (!ok) {
        char *s = cJSON_PrintUnformatted(o);
        t_fail(__FILE__, line, "not a report object with every member: %.600s", s ? s : "(null)");
        free(s);
    }
}

/* Follows `next` from `path`, collecting the ids of the array `key`
 * ("features" or "reports"); each item's province_code must be `prov`
 * when it is not NULL.  Returns the number of items (-1 on error) and the
 * pages read and the largest page. */
static int collect(int line, const char *tok, const char *path, const char *key, const char *prov,
                   long long *ids, int max, int *pages, int *largest)
{
    char cur[2048];
    snprintf(cur, sizeof cur, "%s", path);
    int n = 0;
    *pages = 0;
    if (largest)
        *largest = 0;
    for (int guard = 0; guard < 200; guard++) {
        cJSON *j = get_json(line, tok, cur);
        if (!j)
            return -1;
        (*pages)++;
        int features = strcmp(key, "features") == 0;
        if (features && strcmp(jstr(j, "type") ? jstr(j, "type") : "", "FeatureCollection") != 0)
            t_fail(__FILE__, line, "GET %s: not a FeatureCollection", cur);
        cJSON *arr = item(j, key);
        if (!cJSON_IsArray(arr)) {
            t_fail(__FILE__, line, "GET %s: no array \"%s\"", cur, key);
            cJSON_Delete(j);
            return -1;
        }
        if (largest && cJSON_GetArraySize(arr) > *largest)
            *largest = cJSON_GetArraySize(arr);
        cJSON *e;
        cJSON_ArrayForEach(e, arr)
        {
            if (features)
                check_point_feature(line, e);
            else
                check_report_object(line, e);
            const cJSON *props = features ? item(e, "properties") : e;
            const char *pc = jstr(props, "province_code");
            if (prov && (!pc || strcmp(pc, prov) != 0))
                t_fail(__FILE__, line, "GET %s: item %lld is in province %s, want only %s", cur,
                       jid(e, "id"), pc ? pc : "(none)", prov);
            if (n < max)
                ids[n] = jid(e, "id");
            n++;
        }
        cJSON *next = item(j, "next");
        if (cJSON_IsNull(next)) {
            cJSON_Delete(j);
            return n;
        }
        if (!cJSON_IsString(next) || !strstr(next->valuestring, "cursor=")) {
            t_fail(__FILE__, line, "GET %s: \"next\" is neither null nor a URL with cursor=", cur);
            cJSON_Delete(j);
            return -1;
        }
        snprintf(cur, sizeof cur, "%s", next_path(next->valuestring));
        cJSON_Delete(j);
    }
    t_fail(__FILE__, line, "GET %s: more than 200 pages", path);
    return -1;
}

/* The ids of the points `tok` sees at `query` (after "/v1/points?"). */
static int points(int line, const char *tok, const char *query, long long *ids, int max)
{
    char path[1024];
    int pages;
    snprintf(path, sizeof path, "/v1/points?%s", query);
    return collect(line, tok, path, "features", NULL, ids, max, &pages, NULL);
}
#define POINTS(tok, query, ids, max) points(__LINE__, tok, query, ids, max)

/* ---------------------------------------------------------------- tests */

TEST(api_reports, server_starts)
{
    tok_l15 = t_token("locality", "15", NULL);
    tok_l15b = t_token("locality", "15", NULL);
    tok_l01 = t_token("locality", "01", NULL);
    tok_min = t_token("ministry", NULL, NULL);
    tok_car = t_token("carrier", NULL, "viettel");
    tok_vina = t_token("carrier", NULL, "vinaphone");
    tok_util = t_token("utility", NULL, NULL);
    tok_pub = t_token("public", NULL, NULL);
    CHECK(t_server_start("") != NULL);
}

TEST(api_reports, post_creates_report_and_point)
{
    long long before = count_rows("reports");
    const char *body = "{\"lat\": 22.48, \"lon\": 103.97, \"technology\": \"4G\","
                       " \"carriers\": [\"viettel\", \"vinaphone\"], \"symptom\": \"no_signal\","
                       " \"place\": \"Thôn Nậm Lúc\", \"people_affected\": 120,"
                       " \"note\": \"Mất sóng từ tháng 3, phải lên đồi mới gọi được.\"}";
    t_resp r;
    CHECK_INT(post(tok_l15, body, NULL, &r), 0);
    CHECK_INT(r.status, 201);
    CHECK_CONTAINS(r.content_type, "json");
    posted p;
    CHECK_INT(parse_posted(__LINE__, &r, &p), 0);
    g_report1 = p.report;
    g_point1 = p.point;
    cJSON *j = cJSON_Parse(r.body);
    cJSON *rep = item(j, "report"), *pt = item(j, "point");
    check_report_object(__LINE__, rep);
    CHECK(fabs(jnum(rep, "lat") - 22.48) < 1e-6);
    CHECK(fabs(jnum(rep, "lon") - 103.97) < 1e-6);
    CHECK_STR(jstr(rep, "technology"), "4G");
    cJSON *cs = item(rep, "carriers");
    CHECK_INT(cJSON_GetArraySize(cs), 2);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cs, 0)), "viettel");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cs, 1)), "vinaphone");
    CHECK_STR(jstr(rep, "symptom"), "no_signal");
    CHECK_STR(jstr(rep, "place"), "Thôn Nậm Lúc");
    CHECK_INT(jid(rep, "people_affected"), 120);
    CHECK_STR(jstr(rep, "note"), "Mất sóng từ tháng 3, phải lên đồi mới gọi được.");
    CHECK_STR(jstr(rep, "province_code"), "15");
    CHECK_STR(jstr(pt, "status"), "reported");
    CHECK_STR(jstr(pt, "technology"), "4G");
    CHECK_INT(jid(pt, "report_count"), 1);
    CHECK_INT(jid(pt, "people_affected"), 120);
    CHECK(cJSON_IsFalse(item(pt, "joined")));
    cJSON_Delete(j);
    t_resp_free(&r);

    /* what was stored */
    CHECK_INT(count_rows("reports"), before + 1);
    PGconn *c = t_sysdb();
    char *row = t_sqlf(c,
                       "SELECT concat_ws('|', r.point_id, r.province_code, r.technology, r.symptom,"
                       " r.place, r.people_affected, array_to_string(r.carriers, ','),"
                       " round(ST_Y(r.geom)::numeric, 5), round(ST_X(r.geom)::numeric, 5),"
                       " a.role, a.unit_code)"
                       " FROM reports r JOIN accounts a ON a.id = r.account_id WHERE r.id = %lld",
                       g_report1);
    char want[256];
    snprintf(want, sizeof want,
             "%lld|15|4G|no_signal|Thôn Nậm Lúc|120|viettel,vinaphone|22.48000|103.97000|"
             "locality|15",
             g_point1);
    CHECK_STR(row, want);
    free(row);
    row = t_sqlf(c,
                 "SELECT concat_ws('|', status, technology, province_code, report_count,"
                 " people_affected, round(ST_Y(geom)::numeric, 5), round(ST_X(geom)::numeric, 5))"
                 " FROM dz_points WHERE id = %lld",
                 g_point1);
    CHECK_STR(row, "reported|4G|15|1|120|22.48000|103.97000");
    free(row);
    CHECK(sql_ll(c,
                 "SELECT count(*) FROM events WHERE point_id = %lld AND kind = 'report'"
                 " AND to_status = 'reported'",
                 g_point1) >= 1);
    PQfinish(c);
}

TEST(api_reports, post_geojson_feature)
{
    const char *body =
        "{\"type\": \"Feature\", \"geometry\": {\"type\": \"Point\", \"coordinates\": [103.90, "
        "22.35]}, \"properties\": {\"technology\": \"3G\", \"carriers\": [\"mobifone\"],"
        " \"symptom\": \"weak_signal\", \"place\": \"Bản Phìn Ngan\", \"people_affected\": 40}}";
    t_resp r;
    CHECK_INT(post(tok_l15, body, NULL, &r), 0);
    posted p;
    CHECK_INT(parse_posted(__LINE__, &r, &p), 0);
    cJSON *j = cJSON_Parse(r.body);
    cJSON *rep = item(j, "report");
    check_report_object(__LINE__, rep);
    /* coordinates are [lon, lat] */
    CHECK(fabs(jnum(rep, "lat") - 22.35) < 1e-6);
    CHECK(fabs(jnum(rep, "lon") - 103.90) < 1e-6);
    CHECK_STR(jstr(rep, "technology"), "3G");
    CHECK_STR(jstr(rep, "symptom"), "weak_signal");
    CHECK_STR(jstr(rep, "place"), "Bản Phìn Ngan");
    CHECK_INT(jid(rep, "people_affected"), 40);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(item(rep, "carriers"), 0)), "mobifone");
    CHECK_STR(jstr(rep, "province_code"), "15");
    CHECK(cJSON_IsFalse(item(item(j, "point"), "joined")));
    cJSON_Delete(j);
    t_resp_free(&r);
    PGconn *c = t_sysdb();
    char *row = t_sqlf(c,
                       "SELECT concat_ws('|', round(ST_Y(geom)::numeric, 5),"
                       " round(ST_X(geom)::numeric, 5), technology, symptom, people_affected)"
                       " FROM reports WHERE id = %lld",
                       p.report);
    CHECK_STR(row, "22.35000|103.90000|3G|weak_signal|40");
    free(row);
    PQfinish(c);
}

TEST(api_reports, only_localities_may_post)
{
    long long before = count_rows("reports"), pts = count_rows("dz_points");
    char *b = body_at(22.42, 103.99, "4G", NULL);
    POST_REFUSED(tok_min, b, 403);
    POST_REFUSED(tok_car, b, 403);
    POST_REFUSED(tok_util, b, 403);
    POST_REFUSED(tok_pub, b, 403);
    POST_REFUSED(NULL, b, 401);
    free(b);
    CHECK_INT(count_rows("reports"), before);
    CHECK_INT(count_rows("dz_points"), pts);
}

TEST(api_reports, invalid_bodies_are_400)
{
    long long before = count_rows("reports"), pts = count_rows("dz_points");
    /* all at a place of Lào Cai, by a Lào Cai locality: only the body is wrong */
#define AT "\"lat\": 22.30, \"lon\": 103.85"
    POST_REFUSED(tok_l15, "{" AT ", \"symptom\": \"no_signal\"}", 400, "technology");
    POST_REFUSED(tok_l15, "{" AT ", \"technology\": \"6G\", \"symptom\": \"no_signal\"}", 400,
                 "technology");
    POST_REFUSED(tok_l15, "{" AT ", \"technology\": 4, \"symptom\": \"no_signal\"}", 400);
    POST_REFUSED(tok_l15, "{" AT ", \"technology\": \"2G\"}", 400, "symptom");
    POST_REFUSED(tok_l15, "{" AT ", \"technology\": \"2G\", \"symptom\": \"noisy\"}", 400,
                 "symptom");
    POST_REFUSED(tok_l15,
                 "{" AT ", \"technology\": \"2G\", \"symptom\": \"no_signal\","
                 " \"carriers\": [\"viettel\", \"notacarrier\"]}",
                 400, "notacarrier");
    POST_REFUSED(tok_l15,
                 "{" AT ", \"technology\": \"2G\", \"symptom\": \"no_signal\","
                 " \"carriers\": \"viettel\"}",
                 400);
    POST_REFUSED(tok_l15,
                 "{" AT ", \"technology\": \"2G\", \"symptom\": \"no_signal\","
                 " \"people_affected\": -1}",
                 400, "people_affected");
    POST_REFUSED(tok_l15,
                 "{" AT ", \"technology\": \"2G\", \"symptom\": \"no_signal\","
                 " \"people_affected\": 10000001}",
                 400, "people_affected");
    POST_REFUSED(tok_l15,
                 "{" AT ", \"technology\": \"2G\", \"symptom\": \"no_signal\","
                 " \"people_affected\": 12.5}",
                 400, "people_affected");
    POST_REFUSED(tok_l15,
                 "{" AT ", \"technology\": \"2G\", \"symptom\": \"no_signal\","
                 " \"people_affected\": \"120\"}",
                 400, "people_affected");
    /* place: 201 characters; note: 4001 */
    char *b = NULL;
    char place[202], note[4002];
    memset(place, 'a', 201);
    place[201] = '\0';
    memset(note, 'n', 4001);
    note[4001] = '\0';
    CHECK(asprintf(
              &b, "{" AT ", \"technology\": \"2G\", \"symptom\": \"no_signal\", \"place\": \"%s\"}",
              place) > 0);
    POST_REFUSED(tok_l15, b, 400, "place");
    free(b);
    CHECK(asprintf(&b,
                   "{" AT ", \"technology\": \"2G\", \"symptom\": \"no_signal\", \"note\": \"%s\"}",
                   note) > 0);
    POST_REFUSED(tok_l15, b, 400, "note");
    free(b);
#undef AT
    /* coordinates */
    POST_REFUSED(tok_l15, "{\"lon\": 103.85, \"technology\": \"2G\", \"symptom\": \"no_signal\"}",
                 400);
    POST_REFUSED(tok_l15,
                 "{\"lat\": \"north\", \"lon\": 103.85, \"technology\": \"2G\","
                 " \"symptom\": \"no_signal\"}",
                 400);
    POST_REFUSED(
        tok_l15,
        "{\"lat\": 91, \"lon\": 103.85, \"technology\": \"2G\", \"symptom\": \"no_signal\"}", 400);
    POST_REFUSED(
        tok_l15,
        "{\"type\": \"Feature\", \"geometry\": {\"type\": \"Point\", \"coordinates\":"
        " [103.85]}, \"properties\": {\"technology\": \"2G\", \"symptom\": \"no_signal\"}}",
        400);
    /* not JSON at all, or nothing */
    POST_REFUSED(tok_l15, "{\"lat\": 22.30, \"lon\": }", 400, "byte");
    POST_REFUSED(tok_l15, "[1, 2", 400, "byte");
    POST_REFUSED(tok_l15, "", 400);
    CHECK_INT(count_rows("reports"), before);
    CHECK_INT(count_rows("dz_points"), pts);
}

/* Posts `body`, which must be accepted; the parsed answer or NULL. */
static cJSON *post_json(int line, const char *tok, const char *body)
{
    t_resp r;
    if (!body || post(tok, body, NULL, &r) != 0) {
        t_fail(__FILE__, line, "POST /v1/reports: no answer");
        return NULL;
    }
    cJSON *j = NULL;
    if (r.status != 201)
        t_fail(__FILE__, line, "POST /v1/reports: status %ld, want 201: %.400s", r.status,
               r.body ? r.body : "");
    else
        j = cJSON_Parse(r.body);
    t_resp_free(&r);
    return j;
}

TEST(api_reports, limits_are_inclusive)
{
    posted p = POST_OK(tok_l15, 22.52, 104.10, "2G", "\"people_affected\": 10000000", NULL);
    CHECK_INT(p.people, 10000000);
    /* people_affected 0, and no carriers given: [] */
    char *b = body_at(22.52, 104.12, "2G", "\"people_affected\": 0");
    cJSON *j = post_json(__LINE__, tok_l15, b);
    free(b);
    CHECK_INT(jid(item(j, "report"), "people_affected"), 0);
    CHECK_INT(jid(item(j, "point"), "people_affected"), 0);
    CHECK(cJSON_IsArray(item(item(j, "report"), "carriers")));
    CHECK_INT(cJSON_GetArraySize(item(item(j, "report"), "carriers")), 0);
    cJSON_Delete(j);

    /* a place of 200 characters of three bytes each: the limit counts characters */
    char place[700] = "";
    for (int i = 0; i < 200; i++)
        strcat(place, "ậ");
    char more[800];
    snprintf(more, sizeof more, "\"place\": \"%s\"", place);
    b = body_at(22.52, 104.14, "2G", more);
    j = post_json(__LINE__, tok_l15, b);
    free(b);
    const char *got = jstr(item(j, "report"), "place");
    if (j && (!got || strcmp(got, place) != 0))
        t_fail(__FILE__, __LINE__, "place of 200 characters (600 bytes) not echoed: got \"%.60s\"",
               got ? got : "(null)");
    cJSON_Delete(j);

    /* a note of 4000 characters, two bytes each */
    char *note = malloc(4000 * 2 + 1), *m = malloc(4000 * 2 + 16);
    CHECK(note && m);
    if (!note || !m) {
        free(note);
        free(m);
        return;
    }
    for (int i = 0; i < 4000; i++)
        memcpy(note + 2 * i, "ư", 3); /* 2 bytes and the NUL, overwritten by the next */
    snprintf(m, 4000 * 2 + 16, "\"note\": \"%s\"", note);
    b = body_at(22.52, 104.16, "2G", m);
    j = post_json(__LINE__, tok_l15, b);
    free(b);
    got = jstr(item(j, "report"), "note");
    if (j && (!got || strcmp(got, note) != 0))
        t_fail(__FILE__, __LINE__, "note of 4000 characters (8000 bytes) not echoed: got \"%.60s\"",
               got ? got : "(null)");
    cJSON_Delete(j);
    free(note);
    free(m);
}

TEST(api_reports, outside_the_area_is_403_naming_the_province)
{
    long long before = count_rows("reports"), pts = count_rows("dz_points");
    char *b = body_at(22.48, 103.97, "4G", NULL);
    /* Hà Nội's locality at Lào Cai */
    POST_REFUSED(tok_l01, b, 403, "15", "Lào Cai");
    free(b);
    /* Lào Cai's locality in Điện Biên */
    b = body_at(21.38, 103.02, "4G", NULL);
    POST_REFUSED(tok_l15, b, 403, "11", "Điện Biên");
    free(b);
    /* outside Vietnam */
    b = body_at(10, 120, "4G", NULL);
    POST_REFUSED(tok_l15, b, 400);
    free(b);
    b = body_at(0, 0, "4G", NULL);
    POST_REFUSED(tok_l15, b, 400);
    free(b);
    CHECK_INT(count_rows("reports"), before);
    CHECK_INT(count_rows("dz_points"), pts);
}

TEST(api_reports, idempotency_key_replays_the_first_answer)
{
    const char *key = "c0ffee-2025-lc-idem-1";
    long long before = count_rows("reports");
    posted a = POST_OK(tok_l15, 22.45, 103.95, "5G", "\"people_affected\": 7", key);
    CHECK_INT(a.joined, 0);
    CHECK_INT(count_rows("reports"), before + 1);
    /* the retry: same answer, nothing added */
    posted b = POST_OK(tok_l15, 22.45, 103.95, "5G", "\"people_affected\": 7", key);
    CHECK_INT(b.report, a.report);
    CHECK_INT(b.point, a.point);
    CHECK_INT(b.joined, 0);
    CHECK_INT(count_rows("reports"), before + 1);
    PGconn *c = t_sysdb();
    CHECK_INT(sql_ll(c, "SELECT report_count FROM dz_points WHERE id = %lld", a.point), 1);
    CHECK_INT(sql_ll(c, "SELECT people_affected FROM dz_points WHERE id = %lld", a.point), 7);
    /* the same key from another account is its own report (and joins the point) */
    posted o = POST_OK(tok_l15b, 22.45, 103.95, "5G", "\"people_affected\": 7", key);
    CHECK(o.report > 0 && o.report != a.report);
    CHECK_INT(o.point, a.point);
    CHECK_INT(o.joined, 1);
    CHECK_INT(count_rows("reports"), before + 2);
    /* the first account's key still answers with its first report */
    b = POST_OK(tok_l15, 22.45, 103.95, "5G", "\"people_affected\": 7", key);
    CHECK_INT(b.report, a.report);
    CHECK_INT(b.point, a.point);
    CHECK_INT(b.joined, 0);
    CHECK_INT(count_rows("reports"), before + 2);
    /* another key of the first account is a new report */
    posted d = POST_OK(tok_l15, 22.45, 103.95, "5G", "\"people_affected\": 7", "c0ffee-2");
    CHECK(d.report > 0 && d.report != a.report && d.report != o.report);
    CHECK_INT(count_rows("reports"), before + 3);
    CHECK_INT(sql_ll(c, "SELECT report_count FROM dz_points WHERE id = %lld", a.point), 3);
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM reports WHERE point_id = %lld", a.point), 3);
    PQfinish(c);
}

TEST(api_reports, reports_within_300m_join_one_point)
{
    posted a = POST_OK(tok_l15, 22.40, 104.05, "4G", "\"people_affected\": 10", NULL);
    CHECK_INT(a.joined, 0);
    CHECK_INT(a.report_count, 1);
    CHECK_INT(a.people, 10);
    /* 151 m away, same technology: joins */
    posted b = POST_OK(tok_l15, 22.401, 104.051, "4G", "\"people_affected\": 25", NULL);
    CHECK_INT(b.joined, 1);
    CHECK_INT(b.point, a.point);
    CHECK_INT(b.report_count, 2);
    CHECK_INT(b.people, 35);
    CHECK(b.report != a.report);
    g_merge_point = a.point;
    g_merge_r[0] = a.report;
    g_merge_r[1] = b.report;
    /* 1 km north: a point of its own */
    posted c1 = POST_OK(tok_l15, 22.409, 104.05, "4G", NULL, NULL);
    CHECK_INT(c1.joined, 0);
    CHECK(c1.point != a.point);
    CHECK_INT(c1.report_count, 1);
    /* the same place, another technology: a point of its own */
    posted d = POST_OK(tok_l15, 22.40, 104.05, "3G", NULL, NULL);
    CHECK_INT(d.joined, 0);
    CHECK(d.point != a.point && d.point != c1.point);
    /* 250 m joins; 400 m does not */
    posted e = POST_OK(tok_l15, 22.33, 104.15, "4G", NULL, NULL);
    posted f = POST_OK(tok_l15, 22.33, 104.152428, "4G", NULL, NULL);
    CHECK_INT(e.joined, 0);
    CHECK_INT(f.joined, 1);
    CHECK_INT(f.point, e.point);
    posted g = POST_OK(tok_l15, 22.55, 103.88, "4G", NULL, NULL);
    posted h = POST_OK(tok_l15, 22.55, 103.883891, "4G", NULL, NULL);
    CHECK_INT(g.joined, 0);
    CHECK_INT(h.joined, 0);
    CHECK(h.point != g.point);

    PGconn *c = t_sysdb();
    char *row = t_sqlf(c,
                       "SELECT concat_ws('|', report_count, people_affected, technology)"
                       " FROM dz_points WHERE id = %lld",
                       a.point);
    CHECK_STR(row, "2|35|4G");
    free(row);
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM reports WHERE point_id = %lld", a.point), 2);
    CHECK_INT(sql_ll(c, "SELECT report_count FROM dz_points WHERE id = %lld", c1.point), 1);
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM reports WHERE point_id = %lld", d.point), 1);
    row = t_sqlf(c, "SELECT technology FROM dz_points WHERE id = %lld", d.point);
    CHECK_STR(row, "3G");
    free(row);
    PQfinish(c);
}

/* ------------------------------------------------ concurrent requests */

#define NJOBS 6

struct job {
    pthread_barrier_t *start;
    const char *tok, *key;
    char *body;
    long status; /* 0: no answer */
    long long report, point;
    int joined;
    char answer[300]; /* the start of the body, for failure messages */
};

/* One POST, started with the others; no checks here (the harness's checks
 * belong to the main thread). */
static void *run_job(void *arg)
{
    struct job *jb = arg;
    pthread_barrier_wait(jb->start);
    t_resp r;
    jb->report = jb->point = -1;
    jb->joined = -1;
    if (post(jb->tok, jb->body, jb->key, &r) != 0)
        return NULL;
    jb->status = r.status;
    snprintf(jb->answer, sizeof jb->answer, "%s", r.body ? r.body : "");
    cJSON *j = cJSON_Parse(r.body);
    jb->report = jid(item(j, "report"), "id");
    jb->point = jid(item(j, "point"), "id");
    cJSON *jn = item(item(j, "point"), "joined");
    jb->joined = cJSON_IsBool(jn) ? cJSON_IsTrue(jn) : -1;
    cJSON_Delete(j);
    t_resp_free(&r);
    return NULL;
}

/* Runs NJOBS posts at once: job i at lat/lon + i * step degrees. */
static void run_jobs(struct job *jobs, const char *tok, double lat, double lon, double step,
                     const char *tech, const char *key)
{
    pthread_barrier_t bar;
    pthread_t th[NJOBS];
    pthread_barrier_init(&bar, NULL, NJOBS);
    for (int i = 0; i < NJOBS; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].start = &bar;
        jobs[i].tok = tok;
        jobs[i].key = key;
        jobs[i].body = body_at(lat + i * step, lon + i * step, tech, "\"people_affected\": 3");
        CHECK(jobs[i].body != NULL);
    }
    int started = 0;
    for (int i = 0; i < NJOBS; i++)
        if (pthread_create(&th[i], NULL, run_job, &jobs[i]) == 0)
            started++;
    CHECK_INT(started, NJOBS);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&bar);
    for (int i = 0; i < NJOBS; i++)
        free(jobs[i].body);
}

TEST(api_reports, concurrent_reports_at_one_place_make_one_point)
{
    struct job jobs[NJOBS];
    /* six reports within 50 m of each other, at the same moment */
    run_jobs(jobs, tok_l15, 22.44, 104.01, 0.00005, "2G", NULL);
    int fresh = 0;
    for (int i = 0; i < NJOBS; i++) {
        if (jobs[i].status != 201)
            t_fail(__FILE__, __LINE__, "job %d: %ld %s", i, jobs[i].status, jobs[i].answer);
        CHECK_INT(jobs[i].point, jobs[0].point);
        fresh += jobs[i].joined == 0;
        for (int k = 0; k < i; k++)
            CHECK(jobs[k].report != jobs[i].report);
    }
    CHECK_INT(fresh, 1);
    PGconn *c = t_sysdb();
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM dz_points WHERE technology = '2G' AND ST_DWithin("
                        "geom::geography, ST_SetSRID(ST_MakePoint(104.01, 22.44), 4326)::geography,"
                        " 1000)"),
              1);
    char *row = t_sqlf(c,
                       "SELECT concat_ws('|', report_count, people_affected) FROM dz_points"
                       " WHERE id = %lld",
                       jobs[0].point);
    CHECK_STR(row, "6|18");
    free(row);
    PQfinish(c);
}

TEST(api_reports, concurrent_retries_make_one_report)
{
    long long before = count_rows("reports");
    struct job jobs[NJOBS];
    run_jobs(jobs, tok_l15, 22.36, 104.00, 0, "3G", "same-key-at-once");
    int ref = -1, ok = 0;
    for (int i = 0; i < NJOBS; i++) {
        if (jobs[i].status != 201) {
            t_fail(__FILE__, __LINE__, "job %d: %ld %s", i, jobs[i].status, jobs[i].answer);
            continue;
        }
        ok++;
        if (ref < 0)
            ref = i;
        CHECK(jobs[i].report > 0);
        CHECK_INT(jobs[i].report, jobs[ref].report);
        CHECK_INT(jobs[i].point, jobs[ref].point);
    }
    CHECK_INT(ok, NJOBS);
    CHECK_INT(count_rows("reports"), before + 1);
}

TEST(api_reports, get_one_report)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/reports/%lld", g_report1);
    cJSON *j = GET_JSON(tok_l15, path);
    check_report_object(__LINE__, j);
    CHECK_INT(jid(j, "id"), g_report1);
    CHECK_STR(jstr(j, "place"), "Thôn Nậm Lúc");
    CHECK_STR(jstr(j, "technology"), "4G");
    CHECK_STR(jstr(j, "province_code"), "15");
    CHECK_INT(jid(j, "people_affected"), 120);
    CHECK(fabs(jnum(j, "lat") - 22.48) < 1e-6);
    cJSON_Delete(j);
    /* the ministry sees it; another province's locality does not */
    j = GET_JSON(tok_min, path);
    CHECK_INT(jid(j, "id"), g_report1);
    cJSON_Delete(j);
    /* another locality of the same province sees it */
    j = GET_JSON(tok_l15b, path);
    CHECK_INT(jid(j, "id"), g_report1);
    cJSON_Delete(j);
    GET_REFUSED(tok_l01, path, 404);
    GET_REFUSED(NULL, path, 401);
    GET_REFUSED(tok_l15, "/v1/reports/abc", 400);
    GET_REFUSED(tok_l15, "/v1/reports/999999999", 404);
}

TEST(api_reports, list_reports_is_scoped)
{
    posted hn = POST_OK(tok_l01, 21.03, 105.80, "4G", "\"place\": \"Cầu Giấy\"", NULL);
    g_hanoi_report = hn.report;
    g_hanoi_point = hn.point;
    long long ids[4096];
    int pages, n;
    /* Lào Cai's locality: its reports, only Lào Cai's */
    n = collect(__LINE__, tok_l15, "/v1/reports", "reports", "15", ids, 4096, &pages, NULL);
    CHECK(n >= 10);
    CHECK(contains(ids, n, g_report1));
    CHECK(contains(ids, n, g_merge_r[0]) && contains(ids, n, g_merge_r[1]));
    CHECK(!contains(ids, n, g_hanoi_report));
    /* the same reports in pages of 3, each once */
    long long paged[4096];
    int largest = 0;
    int m = collect(__LINE__, tok_l15, "/v1/reports?limit=3", "reports", "15", paged, 4096, &pages,
                    &largest);
    CHECK_INT(m, n);
    CHECK_INT(largest, 3);
    CHECK(pages >= (n + 2) / 3);
    for (int i = 0; i < m && i < 4096; i++) {
        CHECK(contains(ids, n, paged[i]));
        if (contains(paged, i, paged[i]))
            t_fail(__FILE__, __LINE__, "report %lld twice in the pages", paged[i]);
    }
    GET_REFUSED(tok_l15, "/v1/reports?limit=1001", 400);
    /* Hà Nội's: only Hà Nội's */
    n = collect(__LINE__, tok_l01, "/v1/reports", "reports", "01", ids, 4096, &pages, NULL);
    CHECK(contains(ids, n, g_hanoi_report));
    CHECK(!contains(ids, n, g_report1));
    /* the ministry: both */
    n = collect(__LINE__, tok_min, "/v1/reports", "reports", NULL, ids, 4096, &pages, NULL);
    CHECK(contains(ids, n, g_hanoi_report));
    CHECK(contains(ids, n, g_report1));
    /* a carrier: nothing of the unassigned points */
    n = collect(__LINE__, tok_car, "/v1/reports", "reports", NULL, ids, 4096, &pages, NULL);
    CHECK(n >= 0);
    CHECK(!contains(ids, n, g_report1) && !contains(ids, n, g_hanoi_report));
    /* a public account sees aggregates only, never reports (DESIGN.md):
     * refused outright rather than an empty list */
    GET_REFUSED(tok_pub, "/v1/reports", 403);
    GET_REFUSED(NULL, "/v1/reports", 401);
}

TEST(api_reports, points_are_a_feature_collection)
{
    t_resp r;
    CHECK_INT(
        t_http("GET", "/v1/points?bbox=103.96,22.47,103.98,22.49", tok_min, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.content_type, "json");
    cJSON *j = cJSON_Parse(r.body);
    t_resp_free(&r);
    CHECK(j != NULL);
    CHECK_STR(jstr(j, "type"), "FeatureCollection");
    CHECK(cJSON_IsNull(item(j, "next")) || cJSON_IsString(item(j, "next")));
    cJSON *f, *mine = NULL;
    cJSON_ArrayForEach(f, item(j, "features"))
    {
        check_point_feature(__LINE__, f);
        if (jid(f, "id") == g_point1)
            mine = f;
    }
    CHECK(mine != NULL);
    if (mine) {
        cJSON *p = item(mine, "properties");
        CHECK_STR(jstr(p, "status"), "reported");
        CHECK_STR(jstr(p, "technology"), "4G");
        CHECK_STR(jstr(p, "province_code"), "15");
        CHECK_INT(jid(p, "report_count"), 1);
        CHECK_INT(jid(p, "people_affected"), 120);
        CHECK(cJSON_IsFalse(item(p, "overdue")));
        cJSON *g = item(mine, "geometry");
        CHECK_STR(jstr(g, "type"), "Point");
        cJSON *co = item(g, "coordinates");
        CHECK(cJSON_GetArraySize(co) == 2 &&
              fabs(cJSON_GetNumberValue(cJSON_GetArrayItem(co, 0)) - 103.97) < 1e-6 &&
              fabs(cJSON_GetNumberValue(cJSON_GetArrayItem(co, 1)) - 22.48) < 1e-6);
    }
    cJSON_Delete(j);
}

#define BOX "bbox=103.79,22.57,103.89,22.59"

TEST(api_reports, points_pages_and_filters)
{
    for (int i = 0; i < 5; i++) {
        posted p =
            POST_OK(tok_l15, 22.58, 103.80 + 0.02 * i, "5G",
                    i < 3 ? "\"carriers\": [\"viettel\"]" : "\"carriers\": [\"mobifone\"]", NULL);
        CHECK_INT(p.joined, 0);
        g_page_points[i] = p.point;
        if (i > 0)
            CHECK(g_page_points[i] > g_page_points[i - 1]);
    }
    /* limit=2: three pages, every id once, ascending */
    long long ids[64];
    int pages = 0, largest = 0;
    int n = collect(__LINE__, tok_l15, "/v1/points?" BOX "&limit=2", "features", "15", ids, 64,
                    &pages, &largest);
    CHECK_INT(n, 5);
    CHECK_INT(pages, 3);
    CHECK_INT(largest, 2);
    for (int i = 0; i < 5 && i < n; i++)
        CHECK_INT(ids[i], g_page_points[i]);
    /* one page holds them all */
    n = collect(__LINE__, tok_min, "/v1/points?" BOX "&limit=1000", "features", NULL, ids, 64,
                &pages, NULL);
    CHECK_INT(n, 5);
    CHECK_INT(pages, 1);

    CHECK_INT(POINTS(tok_min, BOX "&tech=5G", ids, 64), 5);
    CHECK_INT(POINTS(tok_min, BOX "&tech=4G", ids, 64), 0);
    CHECK_INT(POINTS(tok_min, BOX "&unit=15", ids, 64), 5);
    CHECK_INT(POINTS(tok_min, BOX "&unit=01", ids, 64), 0);
    CHECK_INT(POINTS(tok_min, BOX "&status=reported", ids, 64), 5);
    CHECK_INT(POINTS(tok_min, BOX "&overdue=true", ids, 64), 0);
    /* carrier=: every point it gives names that carrier among its "carriers"; with
     * vinaphone assigned to the fifth point, some carrier filter gives something */
    PGconn *c = t_sysdb();
    free(t_sqlf(c,
                "INSERT INTO assignments (point_id, carrier_code, province_code)"
                " VALUES (%lld, 'vinaphone', '15') RETURNING id",
                g_page_points[4]));
    int found = 0;
    const char *codes[] = {"viettel", "mobifone", "vinaphone"};
    for (int k = 0; k < 3; k++) {
        char q[256];
        snprintf(q, sizeof q, "/v1/points?" BOX "&limit=1000&carrier=%s", codes[k]);
        cJSON *jc = GET_JSON(tok_min, q), *f;
        cJSON_ArrayForEach(f, item(jc, "features"))
        {
            CHECK(contains(g_page_points, 5, jid(f, "id")));
            int named = 0;
            cJSON *cc;
            cJSON_ArrayForEach(cc, item(item(f, "properties"), "carriers"))
            {
                named |= cJSON_IsString(cc) && strcmp(cc->valuestring, codes[k]) == 0;
            }
            if (!named)
                t_fail(__FILE__, __LINE__, "%s: point %lld does not name %s in its carriers", q,
                       jid(f, "id"), codes[k]);
            found++;
        }
        cJSON_Delete(jc);
    }
    CHECK(found > 0);
    /* the carrier assigned sees that point, and only it, here */
    CHECK_INT(POINTS(tok_vina, BOX, ids, 64), 1);
    CHECK_INT(ids[0], g_page_points[4]);

    /* one point triaged, another past its due date */
    free(t_sqlf(c, "UPDATE dz_points SET status = 'triaged' WHERE id = %lld RETURNING id",
                g_page_points[1]));
    free(t_sqlf(c, "UPDATE dz_points SET due_date = current_date - 3 WHERE id = %lld RETURNING id",
                g_page_points[2]));
    char *due = t_sqlf(c, "SELECT (current_date - 3)::text");
    PQfinish(c);
    CHECK_INT(POINTS(tok_min, BOX "&status=triaged", ids, 64), 1);
    CHECK_INT(ids[0], g_page_points[1]);
    CHECK_INT(POINTS(tok_min, BOX "&status=reported", ids, 64), 4);
    CHECK(!contains(ids, 4, g_page_points[1]));
    CHECK_INT(POINTS(tok_min, BOX "&status=reported,triaged", ids, 64), 5);
    CHECK_INT(POINTS(tok_min, BOX "&status=triaged,fixed", ids, 64), 1);
    CHECK_INT(POINTS(tok_l15, BOX "&overdue=true", ids, 64), 1);
    CHECK_INT(ids[0], g_page_points[2]);
    cJSON *j = GET_JSON(tok_l15, "/v1/points?" BOX "&overdue=true");
    cJSON *p = item(cJSON_GetArrayItem(item(j, "features"), 0), "properties");
    CHECK(cJSON_IsTrue(item(p, "overdue")));
    CHECK(jstr(p, "due_date") && due && strncmp(jstr(p, "due_date"), due, 10) == 0);
    cJSON_Delete(j);
    free(due);
    /* next keeps the filters */
    n = collect(__LINE__, tok_l15, "/v1/points?" BOX "&status=reported&tech=5G&limit=1", "features",
                "15", ids, 64, &pages, &largest);
    CHECK_INT(n, 4);
    CHECK_INT(largest, 1);
    for (int i = 0; i < n && i < 64; i++) {
        CHECK(ids[i] != g_page_points[1] && contains(g_page_points, 5, ids[i]));
        if (i > 0)
            CHECK(ids[i] > ids[i - 1]);
    }
    /* filters combine */
    CHECK_INT(POINTS(tok_min, BOX "&status=reported&overdue=true&tech=5G", ids, 64), 1);
    CHECK_INT(POINTS(tok_min, BOX "&status=triaged&overdue=true", ids, 64), 0);
}

TEST(api_reports, points_bad_parameters_are_400)
{
    GET_REFUSED(tok_min, "/v1/points?limit=1001", 400);
    GET_REFUSED(tok_min, "/v1/points?bbox=1,2,3", 400);
    GET_REFUSED(tok_min, "/v1/points?bbox=a,b,c,d", 400);
    GET_REFUSED(tok_min, "/v1/points?bbox=104,22,103,23", 400);
    GET_REFUSED(tok_min, "/v1/points?bbox=103,-95,104,22", 400);
    GET_REFUSED(tok_min, "/v1/points?bbox=103,22,104,23,105", 400);
    GET_REFUSED(tok_min, "/v1/points?bbox=103,22,104,23abc", 400);
    GET_REFUSED(tok_min, "/v1/points?bbox=-inf,-inf,inf,inf", 400);
    GET_REFUSED(tok_min, "/v1/points?status=bogus", 400);
    GET_REFUSED(tok_min, "/v1/points?status=reported,bogus", 400);
    long long ids[8];
    CHECK_INT(POINTS(tok_min, BOX "&limit=1000", ids, 8), 5);
}

TEST(api_reports, points_are_scoped_by_role)
{
    long long ids[4096];
    int pages;
    /* Hà Nội's locality sees nothing in Lào Cai, and only Hà Nội anywhere */
    CHECK_INT(POINTS(tok_l01, BOX, ids, 4096), 0);
    int n = collect(__LINE__, tok_l01, "/v1/points?limit=1000", "features", "01", ids, 4096, &pages,
                    NULL);
    CHECK(contains(ids, n, g_hanoi_point));
    CHECK(!contains(ids, n, g_point1));
    /* Lào Cai's locality: only Lào Cai */
    n = collect(__LINE__, tok_l15, "/v1/points?limit=1000", "features", "15", ids, 4096, &pages,
                NULL);
    CHECK(contains(ids, n, g_point1) && contains(ids, n, g_merge_point));
    CHECK(!contains(ids, n, g_hanoi_point));
    /* the ministry: everything */
    n = collect(__LINE__, tok_min, "/v1/points?limit=1000", "features", NULL, ids, 4096, &pages,
                NULL);
    CHECK(contains(ids, n, g_point1) && contains(ids, n, g_hanoi_point));
    /* a carrier: none of the unassigned points, and no error */
    CHECK_INT(POINTS(tok_car, BOX, ids, 4096), 0);
    n = POINTS(tok_car, "limit=1000", ids, 4096);
    CHECK(n >= 0);
    CHECK(!contains(ids, n, g_point1) && !contains(ids, n, g_hanoi_point) &&
          !contains(ids, n, g_merge_point));
    GET_REFUSED(tok_pub, "/v1/points", 403);
    GET_REFUSED(NULL, "/v1/points", 401);
}

TEST(api_reports, one_point_with_history)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/points/%lld", g_merge_point);
    cJSON *j = GET_JSON(tok_l15, path);
    check_point_feature(__LINE__, j);
    CHECK_INT(jid(j, "id"), g_merge_point);
    cJSON *p = item(j, "properties");
    CHECK_INT(jid(p, "report_count"), 2);
    CHECK_INT(jid(p, "people_affected"), 35);
    CHECK_STR(jstr(p, "technology"), "4G");
    cJSON *reps = item(p, "reports");
    CHECK_INT(cJSON_GetArraySize(reps), 2);
    long long rid[2] = {jid(cJSON_GetArrayItem(reps, 0), "id"),
                        jid(cJSON_GetArrayItem(reps, 1), "id")};
    CHECK(contains(rid, 2, g_merge_r[0]) && contains(rid, 2, g_merge_r[1]));
    CHECK(cJSON_IsArray(item(p, "assignments")));
    CHECK_INT(cJSON_GetArraySize(item(p, "assignments")), 0);
    CHECK(cJSON_IsArray(item(p, "events")) && cJSON_GetArraySize(item(p, "events")) >= 1);
    cJSON_Delete(j);

    /* a new point's history starts with its report */
    snprintf(path, sizeof path, "/v1/points/%lld", g_point1);
    j = GET_JSON(tok_min, path);
    check_point_feature(__LINE__, j);
    CHECK_INT(jid(j, "id"), g_point1);
    p = item(j, "properties");
    CHECK_INT(cJSON_GetArraySize(item(p, "reports")), 1);
    CHECK_INT(jid(cJSON_GetArrayItem(item(p, "reports"), 0), "id"), g_report1);
    cJSON *events = item(p, "events"), *e;
    CHECK(cJSON_IsArray(events) && cJSON_GetArraySize(events) >= 1);
    int found = 0;
    cJSON_ArrayForEach(e, events)
    {
        const char *k = jstr(e, "kind"), *to = jstr(e, "to_status");
        found |= k && to && strcmp(k, "report") == 0 && strcmp(to, "reported") == 0;
    }
    CHECK(found);
    cJSON_Delete(j);

    /* another province's locality does not see it */
    GET_REFUSED(tok_l01, path, 404);
    GET_REFUSED(tok_pub, path, 403);
    GET_REFUSED(tok_min, "/v1/points/999999999", 404);
}

TEST(api_reports, zz_stop)
{
    free(tok_l15);
    free(tok_l15b);
    free(tok_l01);
    free(tok_min);
    free(tok_car);
    free(tok_vina);
    free(tok_util);
    free(tok_pub);
    tok_l15 = tok_l15b = tok_l01 = tok_min = tok_car = tok_vina = tok_util = tok_pub = NULL;
    CHECK_INT(t_server_stop(), 0);
}
