/*
 * test_api_authz.c — the authorization matrix: every endpoint of the route
 * table, called by every kind of caller (no token, the ministry, a
 * locality of province A, one of province B, carrier X, carrier Y, a power
 * utility of province A) on data of province A (a point assigned to carrier
 * X, blocked for no power) and on data of province B (assigned to carrier
 * Y, blocked for a site permit), over real HTTP.  Each cell of the table is
 * the exact status that caller must get; every 401 and 403 must be
 * problem+json.
 *
 * The table must name every entry of api_routes: a route without a row
 * fails the suite, so a new endpoint cannot arrive without its rights being
 * stated here.  Rows for endpoints other engineers are adding (tiles,
 * exports, maps, the web page) are marked PENDING: while no route serves
 * them they are skipped and listed as skipped, not failed.
 *
 * Requests that change data (transitions, merge, split) run each against a
 * fresh copy of the fixture, so that one caller's success does not change
 * what the next one sees.  Province A is Cao Bằng (04), B Lạng Sơn (20);
 * carriers X and Y are Gmobile and Vietnamobile, which no other API suite
 * uses.
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "../api/router.h"

enum { NONE, MIN, LA, LB, CX, CY, UT, NROLES };
static const char *const role_name[NROLES] = {"no token",  "ministry",  "locality A", "locality B",
                                              "carrier X", "carrier Y", "utility A"};
static char *tok[NROLES];

#define PROV_A "04"
#define PROV_B "20"
#define CAR_X "gmobile"
#define CAR_Y "vietnamobile"

/* A place per province: the fixture points, and (5 km off) new reports. */
static const double lat_of[2] = {22.70, 21.85}, lon_of[2] = {106.20, 106.60};
static const char *const prov_of[2] = {PROV_A, PROV_B};
static const char *const car_of[2] = {CAR_X, CAR_Y};

/* The fixture of one province: point P (two reports, blocked, one
 * assignment), point P2 (one report, reported) next to it, a batch. */
typedef struct {
    long long p, p2, r, batch;
} fixture;
static fixture fx[2];
static long long acct[NROLES];

/* 200 or 204: a tile that may be empty. */
#define OK_TILE 2004

#define PUBLIC                                                                                     \
    {                                                                                              \
        200, 200, 200, 200, 200, 200, 200                                                          \
    }
#define TOKEN                                                                                      \
    {                                                                                              \
        401, 200, 200, 200, 200, 200, 200                                                          \
    }
#define TILE_PUBLIC                                                                                \
    {                                                                                              \
        OK_TILE, OK_TILE, OK_TILE, OK_TILE, OK_TILE, OK_TILE, OK_TILE                              \
    }
#define TILE_TOKEN                                                                                 \
    {                                                                                              \
        401, OK_TILE, OK_TILE, OK_TILE, OK_TILE, OK_TILE, OK_TILE                                  \
    }
#define MINISTRY_ONLY(ok)                                                                          \
    {                                                                                              \
        401, ok, 403, 403, 403, 403, 403                                                           \
    }

enum body {
    B_NONE,
    B_LOCATE,     /* {"points": [...]} */
    B_MEASURE,    /* a measurement CSV with one row in the province */
    B_REPORT,     /* a report JSON in the province */
    B_IMPORT,     /* a report CSV with one row in the province */
    B_TRANSITION, /* a move each role may make (see the table) */
    B_MERGE,      /* {"into": P2} */
    B_SPLIT,      /* {"note": ...} */
};

enum { FRESH = 1, PENDING = 2 };

typedef struct {
    const char *method;
    const char *path; /* {P} {P2} {R} {B} {U} {LAT} {LON} {TX} {TY} */
    enum body body;
    int flags;
    int want[2][NROLES]; /* [data A, data B][role] */
} row;

/* Transitions, per role, on a fresh fixture (P blocked):
 *   ministry  assigned (its own carrier, a later due date)  200
 *   locality  disputed: only from fixed/verified            409 on its own, 404 elsewhere
 *   carrier   in_progress on its own assignment             200, 404 elsewhere
 *   utility   in_progress (power connected), A only         200 on A, 404 on B */
static const row table[] = {
    {"GET", "/healthz", B_NONE, 0, {PUBLIC, PUBLIC}},
    {"GET", "/metrics", B_NONE, 0, {MINISTRY_ONLY(200), MINISTRY_ONLY(200)}},
    {"GET", "/openapi.json", B_NONE, 0, {PUBLIC, PUBLIC}},
    {"GET", "/", B_NONE, PENDING, {PUBLIC, PUBLIC}},
    {"GET", "/sw.js", B_NONE, PENDING, {PUBLIC, PUBLIC}},
    {"GET", "/web/app.js", B_NONE, PENDING, {PUBLIC, PUBLIC}},
    {"GET", "/v1/me", B_NONE, 0, {TOKEN, TOKEN}},
    {"GET", "/v1/units", B_NONE, 0, {PUBLIC, PUBLIC}},
    {"GET", "/v1/units/locate?lat={LAT}&lon={LON}", B_NONE, 0, {PUBLIC, PUBLIC}},
    {"POST", "/v1/units/locate", B_LOCATE, 0, {PUBLIC, PUBLIC}},
    {"GET", "/v1/units/{U}", B_NONE, 0, {PUBLIC, PUBLIC}},
    {"GET", "/v1/carriers", B_NONE, 0, {PUBLIC, PUBLIC}},
    {"POST",
     "/v1/measurements",
     B_MEASURE,
     0,
     {{401, 201, 201, 201, 201, 201, 403}, {401, 201, 201, 201, 201, 201, 403}}},
    /* batch A was uploaded by carrier X, batch B by locality B */
    {"GET",
     "/v1/batches/{B}",
     B_NONE,
     0,
     {{401, 200, 404, 404, 200, 404, 403}, {401, 200, 404, 200, 404, 404, 403}}},
    {"GET",
     "/v1/batches/{B}/rejects",
     B_NONE,
     0,
     {{401, 200, 404, 404, 200, 404, 403}, {401, 200, 404, 200, 404, 404, 403}}},
    {"GET", "/v1/coverage?bbox=106.0,22.5,106.4,22.9", B_NONE, 0, {PUBLIC, PUBLIC}},
    {"GET", "/v1/coverage/at?lat={LAT}&lon={LON}", B_NONE, 0, {PUBLIC, PUBLIC}},
    {"GET", "/tiles/coverage/8/{TX}/{TY}.mvt", B_NONE, PENDING, {TILE_PUBLIC, TILE_PUBLIC}},
    {"GET", "/tiles/units/8/{TX}/{TY}.mvt", B_NONE, PENDING, {TILE_PUBLIC, TILE_PUBLIC}},
    {"GET", "/tiles/points/8/{TX}/{TY}.mvt", B_NONE, PENDING, {TILE_TOKEN, TILE_TOKEN}},
    {"GET", "/tiles/coverage.json", B_NONE, PENDING, {PUBLIC, PUBLIC}},
    {"GET", "/tiles/units.json", B_NONE, PENDING, {PUBLIC, PUBLIC}},
    {"GET", "/tiles/points.json", B_NONE, PENDING, {TOKEN, TOKEN}},
    {"GET", "/v1/export/points.csv?unit={U}", B_NONE, PENDING, {TOKEN, TOKEN}},
    {"GET", "/v1/export/reports.csv", B_NONE, PENDING, {TOKEN, TOKEN}},
    {"GET",
     "/v1/export/coverage.csv?bbox=106.0,22.5,106.4,22.9",
     B_NONE,
     PENDING,
     {PUBLIC, PUBLIC}},
    {"GET", "/v1/export/units.csv", B_NONE, PENDING, {PUBLIC, PUBLIC}},
    {"GET", "/v1/maps/{U}.png?width=256", B_NONE, PENDING, {PUBLIC, PUBLIC}},
    {"GET", "/v1/maps/{U}.png?width=256&layer=points", B_NONE, PENDING, {TOKEN, TOKEN}},
    {"POST",
     "/v1/reports",
     B_REPORT,
     0,
     {{401, 403, 201, 403, 403, 403, 403}, {401, 403, 403, 201, 403, 403, 403}}},
    /* a row outside the account's area is a rejected row, not a refused file */
    {"POST",
     "/v1/reports/import?format=csv",
     B_IMPORT,
     0,
     {{401, 403, 201, 201, 403, 403, 403}, {401, 403, 201, 201, 403, 403, 403}}},
    {"GET", "/v1/reports", B_NONE, 0, {TOKEN, TOKEN}},
    {"GET",
     "/v1/reports/{R}",
     B_NONE,
     0,
     {{401, 200, 200, 404, 200, 404, 200}, {401, 200, 404, 200, 404, 200, 404}}},
    {"POST", "/v1/reports/{R}/split", B_SPLIT, FRESH, {MINISTRY_ONLY(201), MINISTRY_ONLY(201)}},
    {"GET", "/v1/points", B_NONE, 0, {TOKEN, TOKEN}},
    {"GET",
     "/v1/points/{P}",
     B_NONE,
     0,
     {{401, 200, 200, 404, 200, 404, 200}, {401, 200, 404, 200, 404, 200, 404}}},
    {"POST",
     "/v1/points/{P}/transitions",
     B_TRANSITION,
     FRESH,
     {{401, 200, 409, 404, 200, 404, 200}, {401, 200, 404, 409, 404, 200, 404}}},
    {"POST", "/v1/points/{P}/merge", B_MERGE, FRESH, {MINISTRY_ONLY(200), MINISTRY_ONLY(200)}},
    {"GET",
     "/v1/assignments",
     B_NONE,
     0,
     {{401, 200, 403, 403, 200, 200, 200}, {401, 200, 403, 403, 200, 200, 200}}},
    {"GET",
     "/v1/stats/progress?by=province",
     B_NONE,
     0,
     {{401, 200, 200, 200, 200, 200, 403}, {401, 200, 200, 200, 200, 200, 403}}},
    {"GET",
     "/v1/stats/summary",
     B_NONE,
     0,
     {{401, 200, 200, 200, 200, 200, 403}, {401, 200, 200, 200, 200, 200, 403}}},
};

/* -------------------------------------------------------------- helpers */

static long long account_of(const char *token)
{
    return t_sys_ll("SELECT account_id FROM api_tokens WHERE token_hash ="
                    " sha256(convert_to('%s', 'UTF8'))",
                    token);
}

/* A fresh fixture in province d, straight into the database (as the
 * 'system' context): point P blocked with two reports by the province's
 * locality and one assignment to the province's carrier (for no power in
 * A, a site permit in B), and point P2, reported, 1 km east. */
static int make_fixture(int d, fixture *f)
{
    int who = d == 0 ? LA : LB;
    const char *why = d == 0 ? "no_power" : "site_permit";
    PGconn *c = t_sysdb();
    char *s = t_sqlf(
        c,
        "WITH p AS (INSERT INTO dz_points (geom, province_code, technology, status,"
        "  blocked_reason, report_count, due_date)"
        "  VALUES (ST_SetSRID(ST_MakePoint(%.6f, %.6f), 4326), '%s', '4G', 'blocked', '%s', 2,"
        "  current_date + 30) RETURNING id, geom),"
        " r AS (INSERT INTO reports (point_id, account_id, province_code, geom, technology,"
        "  symptom, carriers) SELECT p.id, %lld, '%s', p.geom, '4G', 'no_signal', '{%s}'"
        "  FROM p, generate_series(1, 2) RETURNING id),"
        " a AS (INSERT INTO assignments (point_id, carrier_code, province_code, status,"
        "  blocked_reason, due_date) SELECT p.id, '%s', '%s', 'blocked', '%s', current_date + 30"
        "  FROM p RETURNING id),"
        " q AS (INSERT INTO dz_points (geom, province_code, technology, report_count)"
        "  VALUES (ST_SetSRID(ST_MakePoint(%.6f, %.6f), 4326), '%s', '4G', 1) RETURNING id, geom),"
        " s AS (INSERT INTO reports (point_id, account_id, province_code, geom, technology,"
        "  symptom) SELECT q.id, %lld, '%s', q.geom, '4G', 'no_signal' FROM q RETURNING id)"
        " SELECT (SELECT id FROM p) || ' ' || (SELECT id FROM q) || ' ' || (SELECT min(id) FROM r)"
        " || ' ' || (SELECT count(*) FROM a) + (SELECT count(*) FROM s)",
        lon_of[d], lat_of[d], prov_of[d], why, acct[who], prov_of[d], car_of[d], car_of[d],
        prov_of[d], why, lon_of[d] + 0.01, lat_of[d], prov_of[d], acct[who], prov_of[d]);
    PQfinish(c);
    int n = 0;
    if (!s || sscanf(s, "%lld %lld %lld %d", &f->p, &f->p2, &f->r, &n) != 4 || n != 2) {
        t_fail(__FILE__, __LINE__, "fixture in province %s: %s", prov_of[d], s ? s : "(failed)");
        free(s);
        return -1;
    }
    free(s);
    return 0;
}

static void tile_of(double lon, double lat, int z, long *x, long *y)
{
    double n = (double)(1L << z), r = lat * M_PI / 180.0;
    *x = (long)floor((lon + 180.0) / 360.0 * n);
    *y = (long)floor((1.0 - log(tan(r) + 1.0 / cos(r)) / M_PI) / 2.0 * n);
}

/* The request path with the placeholders filled for data d. */
static void fill(const char *tmpl, int d, const fixture *f, char *out, size_t len)
{
    long tx, ty;
    tile_of(lon_of[d], lat_of[d], 8, &tx, &ty);
    size_t n = 0;
    for (const char *p = tmpl; *p && n + 1 < len;) {
        char v[48] = "";
        size_t skip = 0;
        if (strncmp(p, "{P2}", 4) == 0)
            snprintf(v, sizeof v, "%lld", f->p2), skip = 4;
        else if (strncmp(p, "{P}", 3) == 0)
            snprintf(v, sizeof v, "%lld", f->p), skip = 3;
        else if (strncmp(p, "{R}", 3) == 0)
            snprintf(v, sizeof v, "%lld", f->r), skip = 3;
        else if (strncmp(p, "{B}", 3) == 0)
            snprintf(v, sizeof v, "%lld", f->batch), skip = 3;
        else if (strncmp(p, "{U}", 3) == 0)
            snprintf(v, sizeof v, "%s", prov_of[d]), skip = 3;
        else if (strncmp(p, "{LAT}", 5) == 0)
            snprintf(v, sizeof v, "%.4f", lat_of[d]), skip = 5;
        else if (strncmp(p, "{LON}", 5) == 0)
            snprintf(v, sizeof v, "%.4f", lon_of[d]), skip = 5;
        else if (strncmp(p, "{TX}", 4) == 0)
            snprintf(v, sizeof v, "%ld", tx), skip = 4;
        else if (strncmp(p, "{TY}", 4) == 0)
            snprintf(v, sizeof v, "%ld", ty), skip = 4;
        if (skip) {
            n += (size_t)snprintf(out + n, len - n, "%s", v);
            p += skip;
        } else {
            out[n++] = *p++;
        }
    }
    out[n < len ? n : len - 1] = '\0';
}

static int seq; /* makes every new report and measurement row its own */

/* The body of a request (malloc'd, or NULL) and its Content-Type. */
static char *body_for(enum body b, int role, int d, const fixture *f, const char **type)
{
    char *s = NULL;
    int k = ++seq;
    *type = "Content-Type: application/json";
    /* new reports and rows 5 km south of the fixture, each a little apart */
    double lat = lat_of[d] - 0.045 - 0.0001 * k, lon = lon_of[d];
    int rc = 0;
    switch (b) {
    case B_NONE:
        *type = NULL;
        return NULL;
    case B_LOCATE:
        rc = asprintf(&s, "{\"points\": [{\"lat\": %.4f, \"lon\": %.4f}]}", lat_of[d], lon_of[d]);
        break;
    case B_MEASURE:
        *type = "Content-Type: text/csv";
        rc = asprintf(&s,
                      "lat,lon,time,operator,tech,download\n"
                      "%.6f,%.6f,2024-10-%02d 10:%02d:00,%s,4G,12.5\n",
                      lat, lon, 1 + k % 28, k % 60, car_of[d]);
        break;
    case B_REPORT:
        rc = asprintf(&s,
                      "{\"lat\": %.6f, \"lon\": %.6f, \"technology\": \"4G\","
                      " \"symptom\": \"no_signal\", \"place\": \"authz %d\"}",
                      lat, lon, k);
        break;
    case B_IMPORT:
        *type = "Content-Type: text/csv";
        rc = asprintf(&s, "Thôn/Bản,Kinh độ,Vĩ độ,Công nghệ,Nhà mạng\nauthz %d,%.6f,%.6f,4G,%s\n",
                      k, lon, lat, car_of[d]);
        break;
    case B_TRANSITION:
        if (role == MIN)
            rc = asprintf(&s,
                          "{\"to\": \"assigned\", \"carriers\": [\"%s\"], \"due\": \"2099-12-31\"}",
                          car_of[d]);
        else if (role == LA || role == LB)
            rc = asprintf(&s, "{\"to\": \"disputed\"}");
        else
            rc = asprintf(&s, "{\"to\": \"in_progress\"}");
        break;
    case B_MERGE:
        rc = asprintf(&s, "{\"into\": %lld, \"note\": \"authz\"}", f->p2);
        break;
    case B_SPLIT:
        rc = asprintf(&s, "{\"note\": \"authz\"}");
        break;
    }
    return rc < 0 ? NULL : s;
}

/* The route serving this request, or NULL. */
static const api_route *route_of(const char *method, const char *path)
{
    char p[512];
    snprintf(p, sizeof p, "%s", path);
    char *q = strchr(p, '?');
    if (q)
        *q = '\0';
    arena *a = arena_new(1 << 20);
    const api_route *r = NULL;
    const char *params[API_MAX_PARAMS];
    char allow[128];
    if (!a || api_route_match(a, method, p, &r, params, allow, sizeof allow) != LS_OK)
        r = NULL;
    arena_free(a);
    return r;
}

/* ---------------------------------------------------------------- tests */

TEST(api_authz, setup)
{
    tok[NONE] = NULL;
    tok[MIN] = t_token("ministry", NULL, NULL);
    tok[LA] = t_token("locality", PROV_A, NULL);
    tok[LB] = t_token("locality", PROV_B, NULL);
    tok[CX] = t_token("carrier", NULL, CAR_X);
    tok[CY] = t_token("carrier", NULL, CAR_Y);
    tok[UT] = t_token("utility", PROV_A, NULL);
    for (int i = 1; i < NROLES; i++) {
        CHECK(tok[i] != NULL);
        acct[i] = tok[i] ? account_of(tok[i]) : -1;
        CHECK(acct[i] > 0);
    }
    CHECK(t_server_start("") != NULL);

    /* the places are where the matrix says they are */
    for (int d = 0; d < 2; d++) {
        CHECK_INT(t_sys_ll("SELECT unit_at(ST_SetSRID(ST_MakePoint(%.6f, %.6f), 4326))::int",
                           lon_of[d], lat_of[d]),
                  atoi(prov_of[d]));
        CHECK_INT(t_sys_ll("SELECT unit_at(ST_SetSRID(ST_MakePoint(%.6f, %.6f), 4326))::int",
                           lon_of[d], lat_of[d] - 0.06),
                  atoi(prov_of[d]));
        make_fixture(d, &fx[d]);
    }

    /* batch A: carrier X's measurements (one row of another carrier is
     * rejected); batch B: locality B's report file (one row of an unknown
     * carrier is rejected).  Both through the API, as anyone would. */
    char csv[512];
    snprintf(csv, sizeof csv,
             "lat,lon,time,operator,tech,download\n"
             "%.4f,%.4f,2024-10-01 09:00:00,%s,4G,50\n"
             "%.4f,%.4f,2024-10-01 09:05:00,%s,4G,50\n",
             lat_of[0] - 0.05, lon_of[0], CAR_X, lat_of[0] - 0.05, lon_of[0], CAR_Y);
    t_resp r;
    CHECK_INT(
        t_http("POST", "/v1/measurements", tok[CX], csv, strlen(csv), "Content-Type: text/csv", &r),
        0);
    CHECK_INT(r.status, 201);
    cJSON *j = cJSON_Parse(r.body);
    fx[0].batch = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "batch"));
    CHECK_INT((long long)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "rejected")), 1);
    cJSON_Delete(j);
    t_resp_free(&r);
    snprintf(csv, sizeof csv,
             "Thôn/Bản,Kinh độ,Vĩ độ,Công nghệ,Nhà mạng\n"
             "Bản Khuổi,%.4f,%.4f,4G,%s\n"
             "Bản Nà,%.4f,%.4f,4G,NoSuchTel\n",
             lon_of[1], lat_of[1] - 0.05, CAR_Y, lon_of[1], lat_of[1] - 0.05);
    CHECK_INT(t_http("POST", "/v1/reports/import", tok[LB], csv, strlen(csv),
                     "Content-Type: text/csv", &r),
              0);
    CHECK_INT(r.status, 201);
    j = cJSON_Parse(r.body);
    fx[1].batch = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "batch"));
    CHECK_INT((long long)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "rejected")), 1);
    cJSON_Delete(j);
    t_resp_free(&r);
    CHECK(fx[0].batch > 0 && fx[1].batch > 0);
}

TEST(api_authz, every_route_has_a_row)
{
    int covered[256] = {0};
    CHECK(api_nroutes <= 256);
    for (size_t i = 0; i < LS_ARRAY_LEN(table); i++) {
        char path[512];
        fill(table[i].path, 0, &fx[0], path, sizeof path);
        const api_route *r = route_of(table[i].method, path);
        if (r)
            covered[api_route_index(r)] = 1;
        else if (!(table[i].flags & PENDING))
            t_fail(__FILE__, __LINE__, "row %s %s matches no route (and is not PENDING)",
                   table[i].method, table[i].path);
    }
    for (int i = 0; i < api_nroutes && i < 256; i++)
        if (!covered[i])
            t_fail(__FILE__, __LINE__,
                   "route %s %s has no row in the authorization matrix (tests/test_api_authz.c)",
                   api_routes[i].method, api_routes[i].pattern);
}

TEST(api_authz, matrix)
{
    int ran = 0, skipped = 0;
    for (size_t i = 0; i < LS_ARRAY_LEN(table); i++) {
        const row *t = &table[i];
        char probe[512];
        fill(t->path, 0, &fx[0], probe, sizeof probe);
        if (!route_of(t->method, probe)) {
            printf("skip api_authz: %s %s (no such route yet)\n", t->method, t->path);
            skipped++;
            continue;
        }
        for (int d = 0; d < 2; d++) {
            for (int role = 0; role < NROLES; role++) {
                fixture f = fx[d];
                if ((t->flags & FRESH) && make_fixture(d, &f) != 0)
                    continue;
                char path[512];
                fill(t->path, d, &f, path, sizeof path);
                const char *type = NULL;
                char *body = body_for(t->body, role, d, &f, &type);
                t_resp r;
                if (t_http(t->method, path, tok[role], body, body ? strlen(body) : 0, type, &r) !=
                    0) {
                    t_fail(__FILE__, __LINE__, "%s %s as %s: no answer", t->method, path,
                           role_name[role]);
                    free(body);
                    continue;
                }
                int want = t->want[d][role];
                int ok = want == OK_TILE ? (r.status == 200 || r.status == 204) : r.status == want;
                if (!ok)
                    t_fail(__FILE__, __LINE__, "%s %s (data %c) as %s: got %ld, want %d: %.300s",
                           t->method, path, 'A' + d, role_name[role], r.status, want,
                           r.body ? r.body : "");
                else if ((want == 401 || want == 403) && !t_is_problem(&r, want))
                    t_fail(__FILE__, __LINE__, "%s %s as %s: %d is not problem+json (%s)",
                           t->method, path, role_name[role], want,
                           r.content_type ? r.content_type : "no type");
                t_resp_free(&r);
                free(body);
                ran++;
            }
        }
    }
    printf("     api_authz: %d requests checked, %d rows skipped\n", ran, skipped);
    CHECK(ran > 0);
}

TEST(api_authz, zz_stop)
{
    /* Power connected everywhere this suite blocked it: a nationwide
     * utility in a later suite sees no point of this one. */
    PGconn *c = t_sysdb();
    char *n = t_sqlf(c,
                     "WITH a AS (UPDATE assignments SET status = 'in_progress',"
                     " blocked_reason = NULL WHERE province_code IN ('%s', '%s')"
                     " AND carrier_code IN ('%s', '%s') AND status = 'blocked' RETURNING point_id),"
                     " p AS (UPDATE dz_points SET status = 'in_progress', blocked_reason = NULL"
                     " WHERE id IN (SELECT point_id FROM a) AND status = 'blocked' RETURNING id)"
                     " SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM p)",
                     PROV_A, PROV_B, CAR_X, CAR_Y);
    CHECK(n && atoi(n) > 0);
    free(n);
    PQfinish(c);
    for (int i = 0; i < NROLES; i++) {
        free(tok[i]);
        tok[i] = NULL;
    }
    CHECK_INT(t_server_stop(), 0);
}
