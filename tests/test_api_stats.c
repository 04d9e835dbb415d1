/*
 * test_api_stats.c — the progress statistics over real loopback HTTP:
 * GET /v1/stats/progress?by=province|carrier|tech|month|reason[&from&to]
 * (JSON and ?format=csv) and GET /v1/stats/summary.
 *
 * The suite builds a small known world in Điện Biên (province 11), 2G only,
 * which no other suite uses: eight points filed today through the API and
 * moved through the workflow (one verified by real measurements), plus two
 * points first reported in January/February 2025 put in the database
 * directly (a report through the API is always now), on both sides of a
 * month boundary in Vietnam time.  Other suites leave points in the same
 * database, so every count is compared with a baseline taken before the
 * world was built.  The numbers are also checked against counts computed
 * independently: the events replayed in C, and SQL on dz_points read as the
 * 'system' context through the owner connection.
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "t.h"

/* -------------------------------------------------------------- helpers */

static char *tok_min, *tok_l11, *tok_l01, *tok_vt, *tok_mf, *tok_vina, *tok_pub;

#define S(x) ((x) ? (x) : "(null)")

static cJSON *item(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *jstr(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(item(o, k));
}

/* A whole non-negative number member, or -1 when missing or not one. */
static long long jll(const cJSON *o, const char *k)
{
    const cJSON *v = item(o, k);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble != floor(v->valuedouble))
        return -1;
    return (long long)v->valuedouble;
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* An owner connection in the 'system' context (FORCE ROW LEVEL SECURITY). */
/* One value from SQL as a malloc'd string, or NULL. */
/* One number from SQL; LLONG_MIN when the query fails. */
/* Vietnam's date `days` from today, YYYY-MM-DD. */
static void vn_day(int days, char *out, size_t len)
{
    char *s = t_sys_str("SELECT ((now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + %d)::text", days);
    snprintf(out, len, "%s", s ? s : "(no date)");
    CHECK(s != NULL);
    free(s);
}

/* The current month in Vietnam, YYYY-MM. */
static void vn_month(char *out, size_t len)
{
    char *s = t_sys_str("SELECT to_char(now() AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM')");
    snprintf(out, len, "%s", s ? s : "-");
    CHECK(s != NULL);
    free(s);
}

/* n appears in s as a whole number (not inside a longer one). */
static int has_number(const char *s, long long n)
{
    char want[32];
    int w = snprintf(want, sizeof want, "%lld", n);
    for (const char *p = s ? strstr(s, want) : NULL; p; p = strstr(p + 1, want)) {
        int before = p > s && p[-1] >= '0' && p[-1] <= '9';
        int after = p[w] >= '0' && p[w] <= '9';
        if (!before && !after)
            return 1;
    }
    return 0;
}

/* s says the number n of `word`, as "n word", "word n" or "word: n" (the
 * contract's example: "2 received, 1 verified, 1 blocked: no power 1"). */
static int labelled(const char *s, long long n, const char *word)
{
    if (!s || !has_number(s, n))
        return 0;
    char a[64], b[64], c[64];
    snprintf(a, sizeof a, "%lld %s", n, word);
    snprintf(b, sizeof b, "%s %lld", word, n);
    snprintf(c, sizeof c, "%s: %lld", word, n);
    const char *forms[] = {a, b, c};
    for (int i = 0; i < 3; i++)
        for (const char *p = strstr(s, forms[i]); p; p = strstr(p + 1, forms[i])) {
            size_t w = strlen(forms[i]);
            /* the number is whole at either end */
            int before = p > s && p[-1] >= '0' && p[-1] <= '9';
            int after = p[w] >= '0' && p[w] <= '9';
            if (!(i == 0 && before) && !(i > 0 && after))
                return 1;
        }
    return 0;
}

/* ------------------------------------------------------- stats answers */

enum {
    F_RECEIVED,
    F_AWAITING,
    F_IN_PROGRESS,
    F_BLOCKED,
    F_NO_POWER,
    F_SITE_PERMIT,
    F_TERRAIN,
    F_INVESTMENT,
    F_OTHER,
    F_FIXED,
    F_VERIFIED,
    F_REJECTED,
    F_OVERDUE,
    NF
};
static const char *const fname[NF] = {"received", "awaiting_triage",    "in_progress", "blocked",
                                      "no_power", "site_permit",        "terrain",     "investment",
                                      "other",    "fixed_not_verified", "verified",    "rejected",
                                      "overdue"};
#define IS_REASON(f) ((f) >= F_NO_POWER && (f) <= F_OTHER)

typedef struct {
    long long v[NF];
    int has_median; /* median_days_to_verified is a number */
    double median;
    int present; /* the row was there */
} counts;

/* Reads the counts of a row or of totals; every member must be there and a
 * whole number (-1 where not). */
static void read_counts_m(int line, const char *what, const cJSON *o, counts *c, int median)
{
    memset(c, 0, sizeof *c);
    c->present = o != NULL;
    const cJSON *br = item(o, "blocked_by_reason");
    for (int f = 0; f < NF; f++) {
        c->v[f] = jll(IS_REASON(f) ? br : o, fname[f]);
        if (c->v[f] < 0)
            t_fail(__FILE__, line, "%s: %s%s is missing or not a whole number", what,
                   IS_REASON(f) ? "blocked_by_reason." : "", fname[f]);
    }
    const cJSON *m = item(o, "median_days_to_verified");
    if (!median) {
        return;
    } else if (cJSON_IsNumber(m)) {
        c->has_median = 1;
        c->median = m->valuedouble;
    } else if (!cJSON_IsNull(m)) {
        t_fail(__FILE__, line, "%s: median_days_to_verified is neither a number nor null", what);
    }
}

static void read_counts(int line, const char *what, const cJSON *o, counts *c)
{
    read_counts_m(line, what, o, c, 1);
}

/* The row of `key` (NULL: the row whose key is JSON null), or NULL. */
static const cJSON *find_row(const cJSON *doc, const char *key)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, item(doc, "rows"))
    {
        const cJSON *k = item(r, "key");
        if (key ? same(cJSON_GetStringValue(k), key) : cJSON_IsNull(k))
            return r;
    }
    return NULL;
}

/* The counts of `key`'s row; all zero (present = 0) when there is none. */
static counts row_of(int line, const cJSON *doc, const char *key)
{
    counts c;
    const cJSON *r = find_row(doc, key);
    char what[160];
    snprintf(what, sizeof what, "row %s", S(key));
    if (r)
        read_counts(line, what, r, &c);
    else
        memset(&c, 0, sizeof c);
    return c;
}
#define ROW(doc, key) row_of(__LINE__, doc, key)

static counts totals_of(int line, const cJSON *doc)
{
    counts c;
    if (doc)
        read_counts(line, "totals", item(doc, "totals"), &c);
    else
        memset(&c, 0, sizeof c);
    return c;
}
#define TOTALS(doc) totals_of(__LINE__, doc)

/* now - base must be exactly `want` in every field (NF numbers). */
static void check_delta(int line, const char *what, const counts *base, const counts *now,
                        const long long *want)
{
    for (int f = 0; f < NF; f++)
        if (now->v[f] - base->v[f] != want[f])
            t_fail(__FILE__, line, "%s: %s%s went from %lld to %lld (+%lld), want +%lld", what,
                   IS_REASON(f) ? "blocked_by_reason." : "", fname[f], base->v[f], now->v[f],
                   now->v[f] - base->v[f], want[f]);
}
#define CHECK_DELTA(what, base, now, ...)                                                          \
    do {                                                                                           \
        const long long want_[NF] = __VA_ARGS__;                                                   \
        counts b_ = (base), n_ = (now);                                                            \
        check_delta(__LINE__, what, &b_, &n_, want_);                                              \
    } while (0)

static void check_equal(int line, const char *what, const counts *a, const counts *b)
{
    static const long long zero[NF];
    check_delta(line, what, a, b, zero);
}
#define CHECK_EQUAL(what, a, b)                                                                    \
    do {                                                                                           \
        counts a_ = (a), b2_ = (b);                                                                \
        check_equal(__LINE__, what, &a_, &b2_);                                                    \
    } while (0)

/* A row's (or the totals') own arithmetic: the statuses add up to what
 * was received (exactly, when `exact`: no merged point in it), the reasons
 * to the blocked points. */
static void check_sums(int line, const char *what, const counts *c, int exact)
{
    long long st = c->v[F_AWAITING] + c->v[F_IN_PROGRESS] + c->v[F_BLOCKED] + c->v[F_FIXED] +
                   c->v[F_VERIFIED] + c->v[F_REJECTED];
    long long br = c->v[F_NO_POWER] + c->v[F_SITE_PERMIT] + c->v[F_TERRAIN] + c->v[F_INVESTMENT] +
                   c->v[F_OTHER];
    if (exact ? st != c->v[F_RECEIVED] : st > c->v[F_RECEIVED])
        t_fail(__FILE__, line, "%s: the statuses add up to %lld, received is %lld", what, st,
               c->v[F_RECEIVED]);
    if (br != c->v[F_BLOCKED])
        t_fail(__FILE__, line, "%s: blocked_by_reason adds up to %lld, blocked is %lld", what, br,
               c->v[F_BLOCKED]);
    if (c->v[F_OVERDUE] > c->v[F_AWAITING] + c->v[F_IN_PROGRESS] + c->v[F_BLOCKED])
        t_fail(__FILE__, line, "%s: %lld overdue but only %lld open", what, c->v[F_OVERDUE],
               c->v[F_AWAITING] + c->v[F_IN_PROGRESS] + c->v[F_BLOCKED]);
    if (c->has_median && c->v[F_VERIFIED] == 0)
        t_fail(__FILE__, line, "%s: a median of %g days to verified without a verified point", what,
               c->median);
    if (!c->has_median && c->v[F_VERIFIED] > 0)
        t_fail(__FILE__, line, "%s: %lld verified points but the median is null", what,
               c->v[F_VERIFIED]);
}

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
        t_fail(__FILE__, line, "GET %s: Content-Type %s, want JSON", path, S(r.content_type));
    else if (!(j = cJSON_Parse(r.body)))
        t_fail(__FILE__, line, "GET %s: not JSON: %.300s", path, r.body ? r.body : "");
    t_resp_free(&r);
    return j;
}

/* GET `path`; must answer `status` as a problem. */
static void get_refused(int line, const char *tok, const char *path, long status)
{
    t_resp r;
    if (t_http("GET", path, tok, NULL, 0, NULL, &r) != 0) {
        t_fail(__FILE__, line, "GET %s: no answer", path);
        return;
    }
    if (!t_is_problem(&r, status))
        t_fail(__FILE__, line, "GET %s: got %ld %s \"%.300s\", want a %ld problem", path, r.status,
               S(r.content_type), r.body ? r.body : "", status);
    t_resp_free(&r);
}
#define GET_REFUSED(tok, path, status) get_refused(__LINE__, tok, path, status)

/* GET /v1/stats/progress?by=`by``extra` as `tok`; checks the shape of the
 * answer (by, from, to echoed; every row and the totals complete; rows
 * sorted by key, keys unique) and returns it (the caller frees it). */
static cJSON *progress(int line, const char *tok, const char *by, const char *from, const char *to)
{
    char path[256];
    int n = snprintf(path, sizeof path, "/v1/stats/progress?by=%s", by);
    if (from)
        n += snprintf(path + n, sizeof path - (size_t)n, "&from=%s", from);
    if (to)
        snprintf(path + n, sizeof path - (size_t)n, "&to=%s", to);
    cJSON *j = get_json(line, tok, path);
    if (!j)
        return NULL;
    if (!same(jstr(j, "by"), by))
        t_fail(__FILE__, line, "GET %s: by is %s, want %s", path, S(jstr(j, "by")), by);
    const char *ends[2] = {from, to}, *names[2] = {"from", "to"};
    for (int i = 0; i < 2; i++) {
        const cJSON *v = item(j, names[i]);
        if (ends[i] ? !same(cJSON_GetStringValue(v), ends[i]) : !cJSON_IsNull(v))
            t_fail(__FILE__, line, "GET %s: %s is %s, want %s", path, names[i],
                   cJSON_IsNull(v) ? "null" : S(cJSON_GetStringValue(v)),
                   ends[i] ? ends[i] : "null");
    }
    const cJSON *rows = item(j, "rows");
    if (!cJSON_IsArray(rows) || !cJSON_IsObject(item(j, "totals"))) {
        t_fail(__FILE__, line, "GET %s: no rows array or totals object", path);
        return j;
    }
    counts t;
    read_counts(line, "totals", item(j, "totals"), &t);
    check_sums(line, "totals", &t, 0);
    const cJSON *r;
    const char *prev = NULL;
    int i = 0;
    cJSON_ArrayForEach(r, rows)
    {
        const cJSON *k = item(r, "key"), *nm = item(r, "name");
        char what[512];
        snprintf(what, sizeof what, "GET %s: row %d (key %s)", path, i,
                 cJSON_IsString(k) ? k->valuestring : "null");
        if (!(cJSON_IsString(k) || cJSON_IsNull(k)) || !(cJSON_IsString(nm) || cJSON_IsNull(nm)))
            t_fail(__FILE__, line, "%s: key or name missing or neither a string nor null", what);
        counts c;
        read_counts(line, what, r, &c);
        check_sums(line, what, &c, 0);
        if (cJSON_IsString(k)) {
            if (prev && strcmp(prev, k->valuestring) >= 0)
                t_fail(__FILE__, line, "%s comes after key %s: not sorted by key or repeated", what,
                       prev);
            prev = k->valuestring;
        }
        i++;
    }
    return j;
}
#define PROGRESS(tok, by, from, to) progress(__LINE__, tok, by, from, to)

/* Every row's key is `key` (a scoped caller sees nothing else). */
static void only_key(int line, const cJSON *doc, const char *key, const char *who)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, item(doc, "rows"))
    {
        const char *k = jstr(r, "key");
        if (!same(k, key))
            t_fail(__FILE__, line, "%s sees a row with key %s, want only %s", who, S(k), key);
    }
}

/* The sum of every row of a document, which is the totals when each point
 * falls in exactly one row (by province, tech, month). */
static counts sum_rows(int line, const cJSON *doc)
{
    counts s;
    memset(&s, 0, sizeof s);
    const cJSON *r;
    cJSON_ArrayForEach(r, item(doc, "rows"))
    {
        counts c;
        read_counts(line, "row", r, &c);
        for (int f = 0; f < NF; f++)
            s.v[f] += c.v[f];
    }
    return s;
}
#define SUM_ROWS(doc) sum_rows(__LINE__, doc)

/* ------------------------------------------------- building the world */

/* Files a 2G report at lat/lon as Điện Biên's locality; the new point's id
 * (it must be a new point, status reported) or -1. */
static long long file_report(int line, double lat, double lon)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"lat\": %.6f, \"lon\": %.6f, \"technology\": \"2G\", \"symptom\": \"no_signal\","
             " \"carriers\": [\"viettel\"], \"people_affected\": 40}",
             lat, lon);
    t_resp r;
    if (t_http("POST", "/v1/reports", tok_l11, body, strlen(body), "Content-Type: application/json",
               &r) != 0) {
        t_fail(__FILE__, line, "POST /v1/reports at %g,%g: no answer", lat, lon);
        return -1;
    }
    long long id = -1;
    if (r.status != 201) {
        t_fail(__FILE__, line, "POST /v1/reports at %g,%g: status %ld, want 201: %.400s", lat, lon,
               r.status, r.body ? r.body : "");
    } else {
        cJSON *j = cJSON_Parse(r.body);
        cJSON *pt = item(j, "point");
        id = jll(pt, "id");
        if (id <= 0 || !cJSON_IsFalse(item(pt, "joined")) || !same(jstr(pt, "status"), "reported"))
            t_fail(__FILE__, line, "POST /v1/reports at %g,%g: not a new reported point: %.400s",
                   lat, lon, r.body);
        cJSON_Delete(j);
    }
    t_resp_free(&r);
    return id;
}
#define FILE_REPORT(lat, lon) file_report(__LINE__, lat, lon)

/* A move that must succeed and leave the point in `status`. */
static void move_ok(int line, const char *tok, long long pid, const char *body, const char *status)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/points/%lld/transitions", pid);
    t_resp r;
    if (t_http("POST", path, tok, body, strlen(body), "Content-Type: application/json", &r) != 0) {
        t_fail(__FILE__, line, "POST %s: no answer", path);
        return;
    }
    cJSON *j = r.status == 200 ? cJSON_Parse(r.body) : NULL;
    const char *got = jstr(item(j, "properties"), "status");
    if (r.status != 200 || !same(got, status))
        t_fail(__FILE__, line, "POST %s %s: status %ld, point %s; want 200, %s: %.300s", path, body,
               r.status, S(got), status, r.body ? r.body : "");
    cJSON_Delete(j);
    t_resp_free(&r);
}
#define MOVE_OK(tok, pid, body, status) move_ok(__LINE__, tok, pid, body, status)

/* Uploads n 2G tests by Viettel at (lat, lon) taken `offset` seconds from now
 * (+i s), each `mbps` down. */
static void upload_2g(int line, double lat, double lon, int n, double mbps, int offset)
{
    char csv[4096];
    size_t len =
        (size_t)snprintf(csv, sizeof csv, "lat,lon,time,download_mbps,operator,network_type\n");
    time_t now = time(NULL);
    for (int i = 0; i < n; i++) {
        time_t t = now + offset + i;
        struct tm tm;
        gmtime_r(&t, &tm);
        char ts[32];
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        len += (size_t)snprintf(csv + len, sizeof csv - len, "%.6f,%.6f,%s,%.1f,Viettel,2G\n",
                                lat + i * 1e-5, lon, ts, mbps);
    }
    t_resp r;
    if (t_http("POST", "/v1/measurements?format=csv", tok_vt, csv, len, NULL, &r) != 0) {
        t_fail(__FILE__, line, "POST /v1/measurements: no answer");
        return;
    }
    if (r.status != 201)
        t_fail(__FILE__, line, "POST /v1/measurements: status %ld, want 201: %.300s", r.status,
               r.body ? r.body : "");
    t_resp_free(&r);
}

/* The status and blocked reason of a point in the database, "status/reason". */
static void expect_state(int line, long long pid, const char *want)
{
    char *s = t_sys_str("SELECT status || '/' || coalesce(blocked_reason, '-') FROM dz_points"
                        " WHERE id = %lld",
                        pid);
    if (!same(s, want))
        t_fail(__FILE__, line, "point %lld is %s, want %s (the world is not as built)", pid, S(s),
               want);
    free(s);
}
#define EXPECT_STATE(pid, want) expect_state(__LINE__, pid, want)

/* The world: P1..P8 today through the API, O1/O2 in 2025 in the database. */
static long long P[9], O1, O2;
static int world_built;

/* Points first reported at 23:30 on 31 January and 00:30 on 1 February 2025,
 * Vietnam time (16:30 and 17:30 UTC on 31 January), verified after exactly 10
 * and 30 days (the median of the three verified in Điện Biên, 10, is not
 * their mean). */
#define O1_AT "2025-01-31 23:30:00+07"
#define O2_AT "2025-02-01 00:30:00+07"

static long long insert_old_point(double lat, double lon, const char *at, int days_to_verified)
{
    PGconn *c = t_sysdb();
    char q[2048];
    snprintf(q, sizeof q,
             "INSERT INTO dz_points (geom, province_code, technology, status, report_count,"
             " people_affected, first_reported, fixed_at, verified_at, updated_at, due_date)"
             " VALUES (ST_SetSRID(ST_MakePoint(%.6f, %.6f), 4326), '11', '2G', 'verified', 1, 10,"
             " '%s'::timestamptz, '%s'::timestamptz + interval '%d hours',"
             " '%s'::timestamptz + interval '%d hours', now(),"
             " (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date - 3) RETURNING id",
             lon, lat, at, at, 24 * days_to_verified - 1, at, 24 * days_to_verified);
    char *id = c ? t_sql(c, q) : NULL;
    long long p = id ? strtoll(id, NULL, 10) : -1;
    free(id);
    char *ev = NULL;
    if (p > 0) {
        snprintf(q, sizeof q,
                 "INSERT INTO events (point_id, province_code, at, actor_role, kind, to_status)"
                 " VALUES (%lld, '11', '%s'::timestamptz, 'locality', 'report', 'reported'),"
                 " (%lld, '11', '%s'::timestamptz + interval '%d hours', 'system', 'transition',"
                 " 'verified') RETURNING id",
                 p, at, p, at, 24 * days_to_verified);
        ev = t_sql(c, q);
    }
    CHECK(p > 0 && ev != NULL);
    free(ev);
    PQfinish(c);
    return p;
}

/* ---------------------------------------------------------- baselines */

static char today[32], yesterday[32], month[32];
static cJSON *b_prov, *b_tech, *b_carrier, *b_reason, *b_month, *b_prov_yest, *b_prov_jan,
    *b_prov_feb, *b_prov_jan31, *b_prov_today, *b_month_window, *b_vina, *b_mf, *b_vt, *b_l11,
    *b_l11_window;

/* ---------------------------------------------------------------- tests */

TEST(api_stats, server_starts)
{
    tok_min = t_token("ministry", NULL, NULL);
    tok_l11 = t_token("locality", "11", NULL);
    tok_l01 = t_token("locality", "01", NULL);
    tok_vt = t_token("carrier", NULL, "viettel");
    tok_mf = t_token("carrier", NULL, "mobifone");
    tok_vina = t_token("carrier", NULL, "vinaphone");
    tok_pub = t_token("public", NULL, NULL);
    /* tests taken within the hour verify a fix */
    CHECK(t_server_start("--verify-min-days 1") != NULL);
    vn_day(0, today, sizeof today);
    vn_day(-1, yesterday, sizeof yesterday);
    vn_month(month, sizeof month);

    /* the baselines, before this suite made anything */
    b_prov = PROGRESS(tok_min, "province", NULL, NULL);
    b_tech = PROGRESS(tok_min, "tech", NULL, NULL);
    b_carrier = PROGRESS(tok_min, "carrier", NULL, NULL);
    b_reason = PROGRESS(tok_min, "reason", NULL, NULL);
    b_month = PROGRESS(tok_min, "month", NULL, NULL);
    b_prov_yest = PROGRESS(tok_min, "province", NULL, yesterday);
    b_prov_jan = PROGRESS(tok_min, "province", "2025-01-01", "2025-01-31");
    b_prov_feb = PROGRESS(tok_min, "province", "2025-02-01", "2025-02-28");
    b_prov_jan31 = PROGRESS(tok_min, "province", "2025-01-31", "2025-01-31");
    b_prov_today = PROGRESS(tok_min, "province", today, NULL);
    b_month_window = PROGRESS(tok_min, "month", "2025-01-01", "2025-02-28");
    b_vina = PROGRESS(tok_vina, "province", NULL, NULL);
    b_mf = PROGRESS(tok_mf, "province", NULL, NULL);
    b_vt = PROGRESS(tok_vt, "province", NULL, NULL);
    b_l11 = PROGRESS(tok_l11, "province", NULL, NULL);
    b_l11_window = PROGRESS(tok_l11, "province", "2025-01-01", "2025-02-28");
    /* nobody else puts points in Điện Biên: the medians below need that */
    CHECK_INT(t_sys_ll("SELECT count(*) FROM dz_points WHERE province_code = '11'"), 0);
}

TEST(api_stats, known_world_by_province)
{
    char due[16], body[512];
    vn_day(30, due, sizeof due);
    /* eight places in Điện Biên, 2 to 4 km apart */
    static const double at[9][2] = {{0, 0},          {21.30, 103.02}, {21.30, 103.06},
                                    {21.30, 103.10}, {21.34, 103.02}, {21.34, 103.06},
                                    {21.34, 103.10}, {21.38, 103.02}, {21.38, 103.06}};
    for (int i = 1; i <= 8; i++)
        if ((P[i] = FILE_REPORT(at[i][0], at[i][1])) <= 0)
            return;
#define ASSIGN(pid, carriers)                                                                      \
    do {                                                                                           \
        snprintf(body, sizeof body, "{\"to\": \"assigned\", \"carriers\": [%s], \"due\": \"%s\"}", \
                 carriers, due);                                                                   \
        MOVE_OK(tok_min, pid, body, "assigned");                                                   \
    } while (0)
    /* P1 stays reported; P2 is triaged */
    for (int i = 2; i <= 8; i++)
        if (i != 6)
            MOVE_OK(tok_min, P[i], "{\"to\": \"triaged\"}", "triaged");
    /* P3: Viettel works, MobiFone waits for power: the point is in progress */
    ASSIGN(P[3], "\"viettel\", \"mobifone\"");
    MOVE_OK(tok_vt, P[3], "{\"to\": \"in_progress\"}", "in_progress");
    MOVE_OK(tok_mf, P[3], "{\"to\": \"blocked\", \"reason\": \"no_power\"}", "in_progress");
    /* P4: Viettel alone, blocked for a site permit */
    ASSIGN(P[4], "\"viettel\"");
    MOVE_OK(tok_vt, P[4], "{\"to\": \"blocked\", \"reason\": \"site_permit\"}", "blocked");
    /* P5: fixed */
    ASSIGN(P[5], "\"viettel\"");
    MOVE_OK(tok_vt, P[5], "{\"to\": \"fixed\"}", "fixed");
    /* P6: rejected */
    MOVE_OK(tok_min, P[6], "{\"to\": \"rejected\", \"reason\": \"duplicate\"}", "rejected");
    /* P7: fixed, then verified by 7 passing 2G tests right there */
    ASSIGN(P[7], "\"viettel\"");
    MOVE_OK(tok_vt, P[7], "{\"to\": \"fixed\"}", "fixed");
    upload_2g(__LINE__, at[7][0] + 0.0001, at[7][1] + 0.0001, 7, 60, 60);
    /* P8: MobiFone alone, blocked for no power */
    ASSIGN(P[8], "\"mobifone\"");
    MOVE_OK(tok_mf, P[8], "{\"to\": \"blocked\", \"reason\": \"no_power\"}", "blocked");
#undef ASSIGN
    /* due dates: P1 due today (not overdue yet); the rest three days ago,
     * which makes the open ones overdue (P2, P3, P4) but not the fixed,
     * verified or rejected ones; P8 keeps its due date in 30 days */
    PGconn *c = t_sysdb();
    char q[512];
    snprintf(q, sizeof q,
             "WITH u AS (UPDATE dz_points SET due_date = CASE WHEN id = %lld THEN '%s'::date"
             " ELSE '%s'::date - 3 END WHERE id IN (%lld, %lld, %lld, %lld, %lld, %lld, %lld)"
             " RETURNING 1) SELECT count(*) FROM u",
             P[1], today, today, P[1], P[2], P[3], P[4], P[5], P[6], P[7]);
    char *n = c ? t_sql(c, q) : NULL;
    CHECK_STR(n, "7");
    free(n);
    PQfinish(c);
    /* two points from 2025, put in the database */
    O1 = insert_old_point(21.42, 103.02, O1_AT, 10);
    O2 = insert_old_point(21.42, 103.06, O2_AT, 30);

    EXPECT_STATE(P[1], "reported/-");
    EXPECT_STATE(P[2], "triaged/-");
    EXPECT_STATE(P[3], "in_progress/-");
    EXPECT_STATE(P[4], "blocked/site_permit");
    EXPECT_STATE(P[5], "fixed/-");
    EXPECT_STATE(P[6], "rejected/-");
    EXPECT_STATE(P[7], "verified/-");
    EXPECT_STATE(P[8], "blocked/no_power");
    EXPECT_STATE(O1, "verified/-");
    EXPECT_STATE(O2, "verified/-");
    CHECK_INT(t_sys_ll("SELECT count(*) FROM dz_points WHERE province_code = '11' AND"
                       " technology = '2G'"),
              10);
    world_built = 1;

    cJSON *doc = PROGRESS(tok_min, "province", NULL, NULL);
    if (!doc)
        return;
    /*                               rec aw ip bl np sp te in ot fx ve rj od */
    CHECK_DELTA("row 11", ROW(b_prov, "11"), ROW(doc, "11"),
                {10, 1, 2, 2, 1, 1, 0, 0, 0, 1, 3, 1, 3});
    CHECK_DELTA("totals", TOTALS(b_prov), TOTALS(doc), {10, 1, 2, 2, 1, 1, 0, 0, 0, 1, 3, 1, 3});
    counts r11 = ROW(doc, "11");
    CHECK(r11.present);
    check_sums(__LINE__, "row 11", &r11, 1);
    /* median of (verified_at - first_reported): about 0 (P7), 10 and 30 days */
    if (!r11.has_median || fabs(r11.median - 10) > 0.01)
        t_fail(__FILE__, __LINE__, "row 11: median_days_to_verified %s%g, want 10",
               r11.has_median ? "" : "null ", r11.median);
    /* the province's name */
    char *name = t_sys_str("SELECT name FROM admin_units WHERE level = 'province' AND code = '11'"
                           " AND valid_to IS NULL");
    CHECK(name != NULL);
    CHECK_STR(jstr(find_row(doc, "11"), "name"), name);
    CHECK_CONTAINS(jstr(find_row(doc, "11"), "name"), "Điện Biên");
    free(name);
    /* each point is in one province: the totals are the sum of the rows */
    CHECK_EQUAL("totals against the sum of the rows", SUM_ROWS(doc), TOTALS(doc));
    /* nothing else moved: every other province's row is as it was */
    const cJSON *r;
    cJSON_ArrayForEach(r, item(doc, "rows"))
    {
        const char *k = jstr(r, "key");
        if (k && strcmp(k, "11") != 0) {
            char what[160];
            snprintf(what, sizeof what, "row %s", k);
            CHECK_EQUAL(what, ROW(b_prov, k), ROW(doc, k));
        }
    }
    cJSON_Delete(doc);
}

/* The current status of every point of province 11 replayed from the
 * events (the last event that names a status), against the endpoint. */
TEST(api_stats, matches_the_events)
{
    if (!world_built)
        t_fail(__FILE__, __LINE__, "the world was not built: the counts below are partial");
    PGconn *c = t_sysdb();
    if (!c)
        return;
    PGresult *res = PQexec(c, "SELECT point_id, to_status FROM events WHERE province_code = '11'"
                              " AND to_status IS NOT NULL ORDER BY point_id, at, id");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        t_fail(__FILE__, __LINE__, "events: %s", PQerrorMessage(c));
        PQclear(res);
        PQfinish(c);
        return;
    }
    long long want[NF] = {0};
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        /* the last event of its point */
        if (i + 1 < n && strcmp(PQgetvalue(res, i, 0), PQgetvalue(res, i + 1, 0)) == 0)
            continue;
        const char *s = PQgetvalue(res, i, 1);
        want[F_RECEIVED]++;
        if (!strcmp(s, "reported"))
            want[F_AWAITING]++;
        else if (!strcmp(s, "triaged") || !strcmp(s, "assigned") || !strcmp(s, "in_progress") ||
                 !strcmp(s, "reopened"))
            want[F_IN_PROGRESS]++;
        else if (!strcmp(s, "blocked"))
            want[F_BLOCKED]++;
        else if (!strcmp(s, "fixed"))
            want[F_FIXED]++;
        else if (!strcmp(s, "verified"))
            want[F_VERIFIED]++;
        else if (!strcmp(s, "rejected"))
            want[F_REJECTED]++;
    }
    PQclear(res);
    PQfinish(c);

    cJSON *doc = PROGRESS(tok_min, "province", NULL, NULL);
    counts r = ROW(doc, "11");
    CHECK(r.present);
    static const int st[] = {F_RECEIVED, F_AWAITING, F_IN_PROGRESS, F_BLOCKED,
                             F_FIXED,    F_VERIFIED, F_REJECTED};
    for (size_t i = 0; i < sizeof st / sizeof st[0]; i++)
        if (r.v[st[i]] != want[st[i]])
            t_fail(__FILE__, __LINE__, "row 11: %s is %lld, the events say %lld", fname[st[i]],
                   r.v[st[i]], want[st[i]]);
    /* every point of the province has events */
    CHECK_INT(want[F_RECEIVED], t_sys_ll("SELECT count(*) FROM dz_points WHERE province_code ="
                                         " '11'"));

    /* the rest from dz_points, in SQL of its own */
    static const char *const reasons[] = {"no_power", "site_permit", "terrain", "investment",
                                          "other"};
    for (int f = F_NO_POWER; f <= F_OTHER; f++) {
        long long w = t_sys_ll("SELECT count(*) FROM dz_points WHERE province_code = '11' AND"
                               " status = 'blocked' AND blocked_reason = '%s'",
                               reasons[f - F_NO_POWER]);
        if (r.v[f] != w)
            t_fail(__FILE__, __LINE__, "row 11: blocked_by_reason.%s is %lld, dz_points say %lld",
                   fname[f], r.v[f], w);
    }
    long long od = t_sys_ll("SELECT count(*) FROM dz_points WHERE province_code = '11' AND"
                            " due_date < (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AND status"
                            " NOT IN ('fixed', 'verified', 'rejected', 'merged')");
    CHECK_INT(r.v[F_OVERDUE], od);
    char *m = t_sys_str("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM"
                        " verified_at - first_reported) / 86400) FROM dz_points WHERE"
                        " province_code = '11' AND status = 'verified'");
    double wm = m ? strtod(m, NULL) : NAN;
    free(m);
    if (!r.has_median || !(fabs(r.median - wm) < 0.01))
        t_fail(__FILE__, __LINE__, "row 11: median_days_to_verified %s%g, dz_points say %g",
               r.has_median ? "" : "null ", r.median, wm);
    cJSON_Delete(doc);
}

TEST(api_stats, tech_carrier_reason_month)
{
    /* by tech: the 2G row took all ten points; the others did not move */
    cJSON *doc = PROGRESS(tok_min, "tech", NULL, NULL);
    CHECK_DELTA("tech 2G", ROW(b_tech, "2G"), ROW(doc, "2G"),
                {10, 1, 2, 2, 1, 1, 0, 0, 0, 1, 3, 1, 3});
    static const char *const other_tech[] = {"3G", "4G", "5G"};
    for (int i = 0; i < 3; i++)
        CHECK_EQUAL(other_tech[i], ROW(b_tech, other_tech[i]), ROW(doc, other_tech[i]));
    const cJSON *r;
    cJSON_ArrayForEach(r, item(doc, "rows"))
    {
        const char *k = jstr(r, "key");
        if (!k || strlen(k) != 2 || k[1] != 'G' || k[0] < '2' || k[0] > '5')
            t_fail(__FILE__, __LINE__, "by=tech: a row with key %s", S(k));
    }
    CHECK_EQUAL("tech totals against the sum of the rows", SUM_ROWS(doc), TOTALS(doc));
    cJSON_Delete(doc);

    /* by carrier: one row per assignment's carrier, each point in its own
     * status; points nobody was assigned to under the null key */
    doc = PROGRESS(tok_min, "carrier", NULL, NULL);
    /* viettel: P3 in progress, P4 blocked (site permit), P5 fixed, P7 verified */
    CHECK_DELTA("carrier viettel", ROW(b_carrier, "viettel"), ROW(doc, "viettel"),
                {4, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 0, 2});
    /* mobifone: P3 in progress (the point's status, not its assignment's),
     * P8 blocked (no power) */
    CHECK_DELTA("carrier mobifone", ROW(b_carrier, "mobifone"), ROW(doc, "mobifone"),
                {2, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1});
    /* no assignment: P1 reported, P2 triaged, P6 rejected, O1 and O2 verified */
    CHECK_DELTA("carrier null", ROW(b_carrier, NULL), ROW(doc, NULL),
                {5, 1, 1, 0, 0, 0, 0, 0, 0, 0, 2, 1, 1});
    CHECK(find_row(doc, NULL) != NULL);
    CHECK_EQUAL("carrier vinaphone", ROW(b_carrier, "vinaphone"), ROW(doc, "vinaphone"));
    cJSON_Delete(doc);

    /* by reason: only blocked points, by the point's reason: P4 and P8 (P3's
     * MobiFone assignment is blocked, the point is not) */
    doc = PROGRESS(tok_min, "reason", NULL, NULL);
    CHECK_DELTA("reason no_power", ROW(b_reason, "no_power"), ROW(doc, "no_power"),
                {1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0});
    CHECK_DELTA("reason site_permit", ROW(b_reason, "site_permit"), ROW(doc, "site_permit"),
                {1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1});
    CHECK(find_row(doc, "no_power") && find_row(doc, "site_permit"));
    cJSON_ArrayForEach(r, item(doc, "rows"))
    {
        const char *k = jstr(r, "key");
        counts c;
        read_counts(__LINE__, "reason row", r, &c);
        int f = -1;
        for (int g = F_NO_POWER; g <= F_OTHER; g++)
            if (same(k, fname[g]))
                f = g;
        if (f < 0) {
            t_fail(__FILE__, __LINE__, "by=reason: a row with key %s", S(k));
            continue;
        }
        /* a reason's row holds blocked points of that reason and nothing else */
        if (c.v[F_RECEIVED] != c.v[F_BLOCKED] || c.v[f] != c.v[F_BLOCKED] || c.v[F_BLOCKED] == 0)
            t_fail(__FILE__, __LINE__,
                   "by=reason row %s: received %lld, blocked %lld, blocked_by_reason.%s %lld:"
                   " want all equal and not 0",
                   k, c.v[F_RECEIVED], c.v[F_BLOCKED], k, c.v[f]);
    }
    cJSON_Delete(doc);

    /* by month, in Vietnam time: today's eight in this month, O1 in January
     * (23:30 on the 31st), O2 in February (00:30 on the 1st) */
    doc = PROGRESS(tok_min, "month", NULL, NULL);
    CHECK(find_row(doc, month) != NULL);
    CHECK_DELTA("month now", ROW(b_month, month), ROW(doc, month),
                {8, 1, 2, 2, 1, 1, 0, 0, 0, 1, 1, 1, 3});
    CHECK_DELTA("month 2025-01", ROW(b_month, "2025-01"), ROW(doc, "2025-01"),
                {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0});
    CHECK_DELTA("month 2025-02", ROW(b_month, "2025-02"), ROW(doc, "2025-02"),
                {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0});
    counts jan = ROW(doc, "2025-01"), feb = ROW(doc, "2025-02");
    if (!ROW(b_month, "2025-01").present && (!jan.has_median || fabs(jan.median - 10) > 0.01))
        t_fail(__FILE__, __LINE__, "month 2025-01: median %s%g, want 10",
               jan.has_median ? "" : "null ", jan.median);
    if (!ROW(b_month, "2025-02").present && (!feb.has_median || fabs(feb.median - 30) > 0.01))
        t_fail(__FILE__, __LINE__, "month 2025-02: median %s%g, want 30",
               feb.has_median ? "" : "null ", feb.median);
    cJSON_ArrayForEach(r, item(doc, "rows"))
    {
        const char *k = jstr(r, "key");
        if (!k || strlen(k) != 7 || k[4] != '-')
            t_fail(__FILE__, __LINE__, "by=month: a row with key %s, want YYYY-MM", S(k));
    }
    CHECK_EQUAL("month totals against the sum of the rows", SUM_ROWS(doc), TOTALS(doc));
    cJSON_Delete(doc);

    /* by month within a window: only those two months */
    doc = PROGRESS(tok_min, "month", "2025-01-01", "2025-02-28");
    CHECK_DELTA("window month 2025-01", ROW(b_month_window, "2025-01"), ROW(doc, "2025-01"),
                {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0});
    CHECK_DELTA("window month 2025-02", ROW(b_month_window, "2025-02"), ROW(doc, "2025-02"),
                {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0});
    cJSON_ArrayForEach(r, item(doc, "rows"))
    {
        const char *k = jstr(r, "key");
        if (!same(k, "2025-01") && !same(k, "2025-02"))
            t_fail(__FILE__, __LINE__, "by=month from 2025-01-01 to 2025-02-28: a row %s", S(k));
    }
    cJSON_Delete(doc);
}

TEST(api_stats, scoping)
{
    /* Hà Nội's locality sees Hà Nội only */
    cJSON *doc = PROGRESS(tok_l01, "province", NULL, NULL);
    CHECK(doc && find_row(doc, "11") == NULL);
    only_key(__LINE__, doc, "01", "locality 01");
    cJSON_Delete(doc);
    doc = PROGRESS(tok_l01, "tech", NULL, NULL);
    CHECK_INT(ROW(doc, "2G").v[F_RECEIVED],
              t_sys_ll("SELECT count(*) FROM dz_points WHERE province_code = '01' AND"
                       " technology = '2G'"));
    CHECK_INT(TOTALS(doc).v[F_RECEIVED],
              t_sys_ll("SELECT count(*) FROM dz_points WHERE province_code = '01'"));
    cJSON_Delete(doc);

    /* Điện Biên's locality sees its own, as the ministry does */
    cJSON *min = PROGRESS(tok_min, "province", NULL, NULL);
    doc = PROGRESS(tok_l01, "province", NULL, NULL);
    CHECK_EQUAL("locality 01 against the ministry's row 01", ROW(min, "01"), ROW(doc, "01"));
    cJSON_Delete(doc);
    doc = PROGRESS(tok_l11, "province", NULL, NULL);
    only_key(__LINE__, doc, "11", "locality 11");
    CHECK(find_row(doc, "11") != NULL);
    CHECK_EQUAL("locality 11 against the ministry's row 11", ROW(min, "11"), ROW(doc, "11"));
    CHECK_DELTA("locality 11", ROW(b_l11, "11"), ROW(doc, "11"),
                {10, 1, 2, 2, 1, 1, 0, 0, 0, 1, 3, 1, 3});
    cJSON_Delete(doc);

    /* VinaPhone, assigned nothing here, sees what it saw before */
    doc = PROGRESS(tok_vina, "province", NULL, NULL);
    CHECK(doc && find_row(doc, "11") == NULL);
    CHECK_EQUAL("vinaphone totals", TOTALS(b_vina), TOTALS(doc));
    cJSON_Delete(doc);

    /* MobiFone sees P3 and P8 only, each in the point's status */
    doc = PROGRESS(tok_mf, "province", NULL, NULL);
    CHECK_DELTA("mobifone row 11", ROW(b_mf, "11"), ROW(doc, "11"),
                {2, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1});
    CHECK_DELTA("mobifone totals", TOTALS(b_mf), TOTALS(doc),
                {2, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1});
    cJSON_Delete(doc);
    /* ... and by carrier only its own assignments (not Viettel's on P3) */
    doc = PROGRESS(tok_mf, "carrier", NULL, NULL);
    only_key(__LINE__, doc, "mobifone", "mobifone by carrier");
    cJSON_Delete(doc);

    /* Viettel sees P3, P4, P5 and P7 */
    doc = PROGRESS(tok_vt, "province", NULL, NULL);
    CHECK_DELTA("viettel row 11", ROW(b_vt, "11"), ROW(doc, "11"),
                {4, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 0, 2});
    cJSON_Delete(doc);

    /* the ministry sees every point (a merged one is counted in the point it
     * was merged into) */
    long long all = t_sys_ll("SELECT count(*) FROM dz_points WHERE status <> 'merged'");
    CHECK_INT(TOTALS(min).v[F_RECEIVED], all);
    CHECK_INT(SUM_ROWS(min).v[F_RECEIVED], all);
    cJSON_Delete(min);
}

TEST(api_stats, from_and_to)
{
    /* up to yesterday: today's eight are out, the two of 2025 are in */
    cJSON *doc = PROGRESS(tok_min, "province", NULL, yesterday);
    CHECK_DELTA("to yesterday row 11", ROW(b_prov_yest, "11"), ROW(doc, "11"),
                {2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0});
    CHECK_DELTA("to yesterday totals", TOTALS(b_prov_yest), TOTALS(doc),
                {2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0});
    cJSON_Delete(doc);
    /* from today: today's eight only */
    doc = PROGRESS(tok_min, "province", today, NULL);
    CHECK_DELTA("from today row 11", ROW(b_prov_today, "11"), ROW(doc, "11"),
                {8, 1, 2, 2, 1, 1, 0, 0, 0, 1, 1, 1, 3});
    cJSON_Delete(doc);
    doc = PROGRESS(tok_min, "province", today, today);
    CHECK_DELTA("today only row 11", ROW(b_prov_today, "11"), ROW(doc, "11"),
                {8, 1, 2, 2, 1, 1, 0, 0, 0, 1, 1, 1, 3});
    cJSON_Delete(doc);
    /* both ends inclusive, in Vietnam time: O1 (23:30 on 31 January) is in
     * January, O2 (00:30 on 1 February, still 31 January in UTC) is not */
    doc = PROGRESS(tok_min, "province", "2025-01-01", "2025-01-31");
    CHECK_DELTA("January row 11", ROW(b_prov_jan, "11"), ROW(doc, "11"),
                {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0});
    counts jan = ROW(doc, "11");
    if (!ROW(b_prov_jan, "11").present && (!jan.has_median || fabs(jan.median - 10) > 0.01))
        t_fail(__FILE__, __LINE__, "January row 11: median %s%g, want 10",
               jan.has_median ? "" : "null ", jan.median);
    cJSON_Delete(doc);
    doc = PROGRESS(tok_min, "province", "2025-02-01", "2025-02-28");
    CHECK_DELTA("February row 11", ROW(b_prov_feb, "11"), ROW(doc, "11"),
                {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0});
    cJSON_Delete(doc);
    doc = PROGRESS(tok_min, "province", "2025-01-31", "2025-01-31");
    CHECK_DELTA("31 January row 11", ROW(b_prov_jan31, "11"), ROW(doc, "11"),
                {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0});
    cJSON_Delete(doc);
    /* a locality with a window */
    doc = PROGRESS(tok_l11, "province", "2025-01-01", "2025-02-28");
    CHECK_DELTA("locality 11 window", ROW(b_l11_window, "11"), ROW(doc, "11"),
                {2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0});
    cJSON_Delete(doc);
}

TEST(api_stats, refused)
{
    static const char *const bad_dates[] = {
        "from=2025-13-01", "from=2025-02-30", "to=2025-00-10",      "from=soon",
        "to=31/01/2025",   "to=2025-01-32",   "from=2025-01-01%27", "to=99999-01-01",
    };
    char path[128];
    for (size_t i = 0; i < sizeof bad_dates / sizeof bad_dates[0]; i++) {
        snprintf(path, sizeof path, "/v1/stats/progress?by=province&%s", bad_dates[i]);
        GET_REFUSED(tok_min, path, 400);
        snprintf(path, sizeof path, "/v1/stats/summary?%s", bad_dates[i]);
        GET_REFUSED(tok_min, path, 400);
    }
    GET_REFUSED(tok_l11, "/v1/stats/progress?by=tech&to=2025-02-29", 400);
    GET_REFUSED(tok_vt, "/v1/stats/summary?from=yesterday", 400);
    /* bad by */
    GET_REFUSED(tok_min, "/v1/stats/progress?by=bogus", 400);
    GET_REFUSED(tok_min, "/v1/stats/progress?by=Province", 400);
    GET_REFUSED(tok_min, "/v1/stats/progress?by=", 400);
    GET_REFUSED(tok_min, "/v1/stats/progress?by=status", 400);
    GET_REFUSED(tok_vt, "/v1/stats/progress?by=province%27", 400);
    /* roles */
    GET_REFUSED(tok_pub, "/v1/stats/progress?by=province", 403);
    GET_REFUSED(tok_pub, "/v1/stats/summary", 403);
    GET_REFUSED(tok_pub, "/v1/stats/progress?by=province&format=csv", 403);
    GET_REFUSED(NULL, "/v1/stats/progress?by=province", 401);
    GET_REFUSED(NULL, "/v1/stats/summary", 401);
    GET_REFUSED(NULL, "/v1/stats/progress?by=province&format=csv", 401);
    GET_REFUSED("not-a-token", "/v1/stats/summary", 401);
}

/* GET /v1/stats/summary`query` as `tok`; the answer, its shape checked. */
static cJSON *summary(int line, const char *tok, const char *query, const char *from,
                      const char *to, counts *c)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/stats/summary%s", query);
    cJSON *j = get_json(line, tok, path);
    memset(c, 0, sizeof *c);
    if (!j)
        return NULL;
    read_counts_m(line, path, j, c, 0); /* no median in the summary */
    const char *ends[2] = {from, to}, *names[2] = {"from", "to"};
    for (int i = 0; i < 2; i++) {
        const cJSON *v = item(j, names[i]);
        if (ends[i] ? !same(cJSON_GetStringValue(v), ends[i]) : !cJSON_IsNull(v))
            t_fail(__FILE__, line, "GET %s: %s is %s, want %s", path, names[i],
                   cJSON_IsNull(v) ? "null" : S(cJSON_GetStringValue(v)),
                   ends[i] ? ends[i] : "null");
    }
    const char *h = jstr(j, "headline");
    if (!labelled(h, c->v[F_RECEIVED], "received") || !labelled(h, c->v[F_VERIFIED], "verified"))
        t_fail(__FILE__, line,
               "GET %s: headline \"%s\" does not say %lld received and %lld verified", path, S(h),
               c->v[F_RECEIVED], c->v[F_VERIFIED]);
    return j;
}

TEST(api_stats, summary)
{
    counts s;
    /* the ministry: the same numbers as the progress totals */
    cJSON *p = PROGRESS(tok_min, "province", NULL, NULL);
    cJSON *j = summary(__LINE__, tok_min, "", NULL, NULL, &s);
    counts t = TOTALS(p);
    t.has_median = 0;
    CHECK_EQUAL("ministry summary against the progress totals", t, s);
    CHECK_EQUAL("ministry summary against the sum of the rows", SUM_ROWS(p), s);
    CHECK(s.v[F_RECEIVED] >= 10 && s.v[F_VERIFIED] >= 3);
    cJSON_Delete(j);
    cJSON_Delete(p);

    /* Điện Biên's locality: its ten points (nobody else's are in its area) */
    p = PROGRESS(tok_l11, "province", NULL, NULL);
    j = summary(__LINE__, tok_l11, "", NULL, NULL, &s);
    CHECK_EQUAL("locality 11 summary against its progress totals", TOTALS(p), s);
    CHECK_DELTA("locality 11 summary", TOTALS(b_l11), s, {10, 1, 2, 2, 1, 1, 0, 0, 0, 1, 3, 1, 3});
    cJSON_Delete(j);
    cJSON_Delete(p);

    /* with a window: the two points of 2025 */
    p = PROGRESS(tok_l11, "province", "2025-01-01", "2025-02-28");
    j = summary(__LINE__, tok_l11, "?from=2025-01-01&to=2025-02-28", "2025-01-01", "2025-02-28",
                &s);
    CHECK_EQUAL("locality 11 window summary against its progress", TOTALS(p), s);
    CHECK_DELTA("locality 11 window summary", TOTALS(b_l11_window), s,
                {2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0});
    cJSON_Delete(j);
    cJSON_Delete(p);

    /* a carrier: MobiFone's summary is its progress totals */
    p = PROGRESS(tok_mf, "province", NULL, NULL);
    j = summary(__LINE__, tok_mf, "", NULL, NULL, &s);
    CHECK_EQUAL("mobifone summary against its progress totals", TOTALS(p), s);
    cJSON_Delete(j);
    cJSON_Delete(p);
}

/* Splits a CSV line in place (double-quoted fields may hold commas and "");
 * returns the number of fields. */
static int csv_split(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        char *out = p;
        f[n++] = out;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '"' && p[1] == '"') {
                    *out++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else if (!*p) {
                    break;
                } else {
                    *out++ = *p++;
                }
            }
            while (*p && *p != ',')
                p++;
        } else {
            while (*p && *p != ',')
                *out++ = *p++;
        }
        int more = *p == ',';
        if (*p)
            p++;
        *out = '\0';
        if (!more)
            break;
    }
    return n;
}

TEST(api_stats, csv)
{
    cJSON *doc = PROGRESS(tok_min, "province", NULL, NULL);
    t_resp r;
    if (t_http("GET", "/v1/stats/progress?by=province&format=csv", tok_min, NULL, 0, NULL, &r) !=
        0) {
        t_fail(__FILE__, __LINE__, "GET csv: no answer");
        cJSON_Delete(doc);
        return;
    }
    CHECK_INT(r.status, 200);
    if (!r.content_type || strncmp(r.content_type, "text/csv", 8) != 0)
        t_fail(__FILE__, __LINE__, "Content-Type %s, want text/csv", S(r.content_type));
    char *body = strdup(r.body ? r.body : "");
    t_resp_free(&r);

    char *lines[512];
    int nl = 0;
    for (char *save = NULL, *l = strtok_r(body, "\n", &save); l && nl < 512;
         l = strtok_r(NULL, "\n", &save)) {
        size_t k = strlen(l);
        if (k && l[k - 1] == '\r')
            l[k - 1] = '\0';
        if (*l)
            lines[nl++] = l;
    }
    CHECK(nl >= 1);
    /* a header and one line per row */
    CHECK_INT(nl, 1 + cJSON_GetArraySize(item(doc, "rows")));
    char *h[64];
    int nh = nl ? csv_split(lines[0], h, 64) : 0;
    int ik = -1, ir = -1, iv = -1, io = -1;
    for (int i = 0; i < nh; i++) {
        if (!strcmp(h[i], "key"))
            ik = i;
        else if (!strcmp(h[i], "received"))
            ir = i;
        else if (!strcmp(h[i], "verified"))
            iv = i;
        else if (!strcmp(h[i], "overdue"))
            io = i;
    }
    if (ik < 0 || ir < 0)
        t_fail(__FILE__, __LINE__, "CSV header has no key or received column");
    CHECK(ik == 0 && nh > 2 && !strcmp(h[1], "name") && ir == 2);
    counts j11 = ROW(doc, "11");
    CHECK(j11.present);
    int found = 0;
    for (int i = 1; i < nl && ik >= 0 && ir >= 0; i++) {
        char *f[64];
        int nf = csv_split(lines[i], f, 64);
        if (nf != nh)
            t_fail(__FILE__, __LINE__, "CSV line %d has %d fields, the header %d", i, nf, nh);
        if (nf <= ir || nf <= ik || strcmp(f[ik], "11") != 0)
            continue;
        found++;
        CHECK_INT(strtoll(f[ir], NULL, 10), j11.v[F_RECEIVED]);
        if (iv >= 0 && iv < nf)
            CHECK_INT(strtoll(f[iv], NULL, 10), j11.v[F_VERIFIED]);
        else
            t_fail(__FILE__, __LINE__, "CSV has no verified column");
        if (io >= 0 && io < nf)
            CHECK_INT(strtoll(f[io], NULL, 10), j11.v[F_OVERDUE]);
        else
            t_fail(__FILE__, __LINE__, "CSV has no overdue column");
        CHECK_CONTAINS(nf > 1 ? f[1] : NULL, "Điện Biên");
    }
    CHECK_INT(found, 1);
    free(body);
    cJSON_Delete(doc);

    /* scoped as the JSON is: Hà Nội's locality has no line for Điện Biên */
    if (t_http("GET", "/v1/stats/progress?by=province&format=csv", tok_l01, NULL, 0, NULL, &r) ==
        0) {
        CHECK_INT(r.status, 200);
        CHECK(r.body && !strstr(r.body, "\n11,") && !strstr(r.body, "\n\"11\","));
        t_resp_free(&r);
    } else {
        t_fail(__FILE__, __LINE__, "GET csv as locality 01: no answer");
    }
}

/* A point merged into another is the same dead zone as the point it joined:
 * counting it would count one dead zone twice, so it is in no number at all
 * (not received, in no status bucket, never overdue).  Made last so that it
 * changes no number the tests above expect. */
TEST(api_stats, merged_points_are_not_counted_twice)
{
    if (O1 <= 0) {
        t_fail(__FILE__, __LINE__, "no point to merge into: the world was not built");
        return;
    }
    cJSON *before = PROGRESS(tok_min, "province", NULL, NULL);
    counts sb;
    cJSON *sj = summary(__LINE__, tok_min, "", NULL, NULL, &sb);
    cJSON_Delete(sj);
    PGconn *c = t_sysdb();
    char q[1024];
    snprintf(q, sizeof q,
             "INSERT INTO dz_points (geom, province_code, technology, status, merged_into,"
             " report_count, people_affected, first_reported, due_date)"
             " VALUES (ST_SetSRID(ST_MakePoint(103.10, 21.42), 4326), '11', '2G', 'merged', %lld,"
             " 1, 5, '2024-06-15 12:00:00+07', (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date - 3)"
             " RETURNING id",
             O1);
    char *id = c ? t_sql(c, q) : NULL;
    long long m = id ? strtoll(id, NULL, 10) : -1;
    free(id);
    char *ev = NULL;
    if (m > 0) {
        snprintf(q, sizeof q,
                 "INSERT INTO events (point_id, province_code, at, actor_role, kind, to_status)"
                 " VALUES (%lld, '11', '2024-06-15 12:00:00+07', 'locality', 'report',"
                 " 'reported'), (%lld, '11', '2024-06-16 12:00:00+07', 'ministry', 'merge',"
                 " 'merged') RETURNING id",
                 m, m);
        ev = t_sql(c, q);
    }
    CHECK(m > 0 && ev != NULL);
    free(ev);
    PQfinish(c);

    cJSON *after = PROGRESS(tok_min, "province", NULL, NULL);
    CHECK_DELTA("row 11 with a merged point", ROW(before, "11"), ROW(after, "11"),
                {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    CHECK_DELTA("totals with a merged point", TOTALS(before), TOTALS(after),
                {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    counts sa;
    sj = summary(__LINE__, tok_min, "", NULL, NULL, &sa);
    CHECK_DELTA("summary with a merged point", sb, sa, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    cJSON_Delete(sj);
    cJSON_Delete(before);
    cJSON_Delete(after);
}

/* ------------------------------------------------- against a recount */

/* What h_stats.c ran before geo/sql/008_stats.sql: one aggregation over
 * every point in scope, straight from dz_points and assignments, at request
 * time.  Too slow at national scale, and right by construction: the answers
 * of the endpoint must be exactly these. */
#define RC_COUNTS                                                                                  \
    "jsonb_build_object('received', count(*),"                                                     \
    " 'awaiting_triage', count(*) FILTER (WHERE status = 'reported'),"                             \
    " 'in_progress', count(*) FILTER (WHERE status IN ('triaged', 'assigned', 'in_progress',"      \
    "  'reopened')),"                                                                              \
    " 'blocked', count(*) FILTER (WHERE status = 'blocked'),"                                      \
    " 'blocked_by_reason', jsonb_build_object("                                                    \
    "  'no_power', count(*) FILTER (WHERE status = 'blocked' AND blocked_reason = 'no_power'),"    \
    "  'site_permit', count(*) FILTER (WHERE status = 'blocked' AND blocked_reason ="              \
    " 'site_permit'),"                                                                             \
    "  'terrain', count(*) FILTER (WHERE status = 'blocked' AND blocked_reason = 'terrain'),"      \
    "  'investment', count(*) FILTER (WHERE status = 'blocked' AND blocked_reason ="               \
    " 'investment'),"                                                                              \
    "  'other', count(*) FILTER (WHERE status = 'blocked' AND blocked_reason = 'other')),"         \
    " 'fixed_not_verified', count(*) FILTER (WHERE status = 'fixed'),"                             \
    " 'verified', count(*) FILTER (WHERE status = 'verified'),"                                    \
    " 'rejected', count(*) FILTER (WHERE status = 'rejected'),"                                    \
    " 'overdue', count(*) FILTER (WHERE due_date < (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"  \
    "  AND status NOT IN ('fixed', 'verified', 'rejected', 'merged')),"                            \
    " 'median_days_to_verified', round((percentile_cont(0.5) WITHIN GROUP (ORDER BY"               \
    "  extract(epoch FROM verified_at - first_reported) / 86400.0)"                                \
    "  FILTER (WHERE status = 'verified'))::numeric, 2))"
#define RC_POINTS                                                                                  \
    "SELECT p.* FROM dz_points p WHERE p.status <> 'merged'"                                       \
    " AND ($1::date IS NULL OR (p.first_reported AT TIME ZONE 'Asia/Ho_Chi_Minh')::date >= $1)"    \
    " AND ($2::date IS NULL OR (p.first_reported AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= $2)"

static const struct {
    const char *by, *keyed, *name;
} rc_by[] = {
    {"province", "SELECT p.province_code AS key, p.* FROM pts p",
     "(SELECT u.name FROM admin_units u WHERE u.level = 'province' AND u.code = g.key"
     " AND u.valid_to IS NULL LIMIT 1)"},
    {"tech", "SELECT p.technology AS key, p.* FROM pts p", "NULL::text"},
    {"month",
     "SELECT to_char(p.first_reported AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM') AS key, p.*"
     " FROM pts p",
     "NULL::text"},
    {"carrier",
     "SELECT a.carrier_code AS key, p.* FROM pts p"
     " LEFT JOIN assignments a ON a.point_id = p.id AND a.status <> 'withdrawn'",
     "(SELECT c.name FROM carriers c WHERE c.code = g.key)"},
    {"reason", "SELECT p.blocked_reason AS key, p.* FROM pts p WHERE p.status = 'blocked'",
     "NULL::text"},
};

/* The recount of GET /v1/stats/progress?by=`by` (NULL: /v1/stats/summary)
 * in a caller's security context, on a connection of the application role
 * (as the server connects): the JSON text, malloc'd, or NULL. */
static char *recount(PGconn *c, const char *const ctx[4], const char *by, const char *from,
                     const char *to)
{
    char q[8192];
    if (by) {
        size_t i = 0;
        while (i < sizeof rc_by / sizeof rc_by[0] && strcmp(rc_by[i].by, by) != 0)
            i++;
        if (i == sizeof rc_by / sizeof rc_by[0])
            return NULL;
        snprintf(q, sizeof q,
                 "WITH pts AS (" RC_POINTS "), keyed AS (%s),"
                 " grouped AS (SELECT key, " RC_COUNTS " AS c FROM keyed GROUP BY key)"
                 " SELECT jsonb_build_object('by', $3::text, 'from', $1::date, 'to', $2::date,"
                 " 'rows', coalesce((SELECT jsonb_agg(jsonb_build_object('key', g.key, 'name', %s)"
                 "  || g.c ORDER BY g.key NULLS LAST) FROM grouped g), '[]'::jsonb),"
                 " 'totals', (SELECT " RC_COUNTS " FROM pts))::text",
                 rc_by[i].keyed, rc_by[i].name);
    } else {
        snprintf(
            q, sizeof q,
            "WITH pts AS (" RC_POINTS "), s AS (SELECT " RC_COUNTS " AS c FROM pts)"
            " SELECT (jsonb_build_object('from', $1::date, 'to', $2::date) || s.c"
            " || jsonb_build_object('headline', format('%%s received, %%s verified, %%s fixed"
            " awaiting verification, %%s in progress, %%s blocked%%s, %%s overdue',"
            "  s.c->>'received', s.c->>'verified', s.c->>'fixed_not_verified',"
            "  s.c->>'in_progress', s.c->>'blocked', CASE WHEN (s.c->>'blocked')::int > 0"
            "  THEN ': ' || (SELECT string_agg(replace(k, '_', ' ') || ' ' || v, ', '"
            "  ORDER BY k) FROM jsonb_each_text(s.c->'blocked_by_reason') AS e(k, v)"
            "  WHERE v <> '0') ELSE '' END, s.c->>'overdue')))::text FROM s, (SELECT $3::text) x");
    }
    if (!c)
        return NULL;
    PGresult *r = PQexec(c, "BEGIN");
    PQclear(r);
    r = PQexecParams(c,
                     "SELECT set_config('lomsong.role', $1, true),"
                     " set_config('lomsong.province', $2, true),"
                     " set_config('lomsong.commune', $3, true),"
                     " set_config('lomsong.carrier', $4, true)",
                     4, NULL, ctx, NULL, NULL, 0);
    PQclear(r);
    const char *p[] = {from, to, by};
    r = PQexecParams(c, q, 3, NULL, p, NULL, NULL, 0);
    char *v = NULL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        v = strdup(PQgetvalue(r, 0, 0));
    else
        t_fail(__FILE__, __LINE__, "the recount failed: %s", PQerrorMessage(c));
    PQclear(r);
    r = PQexec(c, "ROLLBACK");
    PQclear(r);
    return v;
}

/* Every answer, for every kind of caller, every breakdown and windows that
 * fall on month boundaries, inside one month, across years, or on nothing,
 * is the recount's, to the last digit of the median. */
TEST(api_stats, the_same_as_a_recount)
{
    /* a commune's points: a commune-bound locality sees only these; one was
     * verified, one is Viettel's (MobiFone's withdrawn), one is blocked */
    char *commune = t_sys_str("SELECT code FROM admin_units WHERE level = 'commune' AND"
                              " province_code = '11' AND valid_to IS NULL ORDER BY code LIMIT 1");
    CHECK(commune != NULL);
    if (!commune)
        return;
    PGconn *c = t_sysdb();
    char *ok = t_sqlf(
        c,
        "WITH p AS (INSERT INTO dz_points (geom, province_code, commune_code, technology, status,"
        " blocked_reason, first_reported, fixed_at, verified_at, due_date) VALUES"
        " (ST_SetSRID(ST_MakePoint(103.20, 21.50), 4326), '11', '%s', '3G', 'verified', NULL,"
        "  '2025-03-10 09:00+07', '2025-04-01 10:00+07', '2025-04-12 15:30+07', NULL),"
        " (ST_SetSRID(ST_MakePoint(103.21, 21.50), 4326), '11', '%s', '3G', 'in_progress', NULL,"
        "  '2025-03-31 23:59+07', NULL, NULL, '2025-06-30'),"
        " (ST_SetSRID(ST_MakePoint(103.22, 21.50), 4326), '11', '%s', '4G', 'blocked', 'terrain',"
        "  '2025-04-01 00:01+07', NULL, NULL, (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date)"
        " RETURNING id, status)"
        " INSERT INTO assignments (point_id, carrier_code, province_code, commune_code, status,"
        " blocked_reason)"
        " SELECT p.id, x.c, '11', '%s', CASE WHEN x.c = 'mobifone' THEN 'withdrawn'"
        "  WHEN p.status = 'blocked' THEN 'blocked' ELSE 'in_progress' END,"
        "  CASE WHEN p.status = 'blocked' AND x.c = 'viettel' THEN 'terrain' END"
        " FROM p, (VALUES ('viettel'), ('mobifone')) x(c) WHERE p.status <> 'verified'"
        " RETURNING 'ok'",
        commune, commune, commune, commune);
    CHECK(ok != NULL);
    free(ok);
    PQfinish(c);
    char *tok_com = t_token("locality", commune, NULL);

    struct {
        const char *who, *tok, *ctx[4];
    } callers[] = {
        {"ministry", tok_min, {"ministry", "", "", ""}},
        {"locality 11", tok_l11, {"locality", "11", "", ""}},
        {"locality 01", tok_l01, {"locality", "01", "", ""}},
        {"commune locality", tok_com, {"locality", "11", commune, ""}},
        {"viettel", tok_vt, {"carrier", "", "", "viettel"}},
        {"mobifone", tok_mf, {"carrier", "", "", "mobifone"}},
        {"vinaphone", tok_vina, {"carrier", "", "", "vinaphone"}},
    };
    const char *windows[][2] = {
        {NULL, NULL},
        {"2025-01-01", "2025-01-31"},
        {"2025-01-31", "2025-02-01"},
        {"2025-02-01", NULL},
        {NULL, "2025-03-31"},
        {"2025-03-15", "2025-04-14"},
        {"2025-04-01", today},
        {today, today},
        {NULL, yesterday},
        {"2025-05-01", "2025-04-01"},
    };
    const char *bys[] = {"province", "carrier", "tech", "month", "reason", NULL};
    int compared = 0;
    PGconn *app = t_connect(t_app_db());
    for (size_t i = 0; i < sizeof callers / sizeof callers[0]; i++) {
        if (!callers[i].tok)
            continue;
        for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++)
            for (size_t k = 0; k < sizeof bys / sizeof bys[0]; k++) {
                const char *from = windows[w][0], *to = windows[w][1];
                char path[256];
                int n = snprintf(path, sizeof path, "/v1/stats/%s%s%s",
                                 bys[k] ? "progress?by=" : "summary", bys[k] ? bys[k] : "",
                                 bys[k] ? "" : "?");
                if (from)
                    n += snprintf(path + n, sizeof path - (size_t)n, "&from=%s", from);
                if (to)
                    snprintf(path + n, sizeof path - (size_t)n, "&to=%s", to);
                t_resp r;
                if (t_http("GET", path, callers[i].tok, NULL, 0, NULL, &r) != 0) {
                    t_fail(__FILE__, __LINE__, "%s GET %s: no answer", callers[i].who, path);
                    continue;
                }
                char *want = recount(app, callers[i].ctx, bys[k], from, to);
                if (r.status != 200 || !want || !r.body || strcmp(r.body, want) != 0) {
                    /* from a little before where they part */
                    size_t at = 0;
                    while (want && r.body && want[at] && want[at] == r.body[at])
                        at++;
                    at = at > 200 ? at - 200 : 0;
                    t_fail(__FILE__, __LINE__,
                           "%s GET %s: status %ld\n  got  ...%.500s\n  want ...%.500s",
                           callers[i].who, path, r.status,
                           r.body && strlen(r.body) >= at ? r.body + at : "(none)",
                           want && strlen(want) >= at ? want + at : "(none)");
                } else
                    compared++;
                free(want);
                t_resp_free(&r);
            }
    }
    CHECK_INT(compared, 7 * 10 * 6);
    PQfinish(app);
    free(tok_com);
    free(commune);
}

TEST(api_stats, zz_stop)
{
    cJSON *docs[] = {b_prov,       b_tech,       b_carrier,      b_reason,
                     b_month,      b_prov_yest,  b_prov_jan,     b_prov_feb,
                     b_prov_jan31, b_prov_today, b_month_window, b_vina,
                     b_mf,         b_vt,         b_l11,          b_l11_window};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
        cJSON_Delete(docs[i]);
    b_prov = b_tech = b_carrier = b_reason = b_month = b_prov_yest = b_prov_jan = b_prov_feb =
        b_prov_jan31 = b_prov_today = b_month_window = b_vina = b_mf = b_vt = b_l11 = b_l11_window =
            NULL;
    free(tok_min);
    free(tok_l11);
    free(tok_l01);
    free(tok_vt);
    free(tok_mf);
    free(tok_vina);
    free(tok_pub);
    tok_min = tok_l11 = tok_l01 = tok_vt = tok_mf = tok_vina = tok_pub = NULL;
    CHECK_INT(t_server_stop(), 0);
}
