/*
 * test_api_workflow.c — the resolution workflow of a dead-zone point over
 * real loopback HTTP against the test cluster: POST /v1/points/{id}/transitions
 * (who may make which move from which status, the carriers' own
 * assignments, the point following its assignments, power connected by a
 * utility, disputes by a locality, rejection and reopening, `at`) and the
 * carriers' work list GET /v1/assignments with its filters.
 *
 * Every test files its reports at its own places in Lào Cai (province 15),
 * at least 1 km from every other place of this suite and of api_reports, so
 * that no report joins another test's point.  What the server answers is
 * checked against GET /v1/points/{id} as the ministry sees it and against
 * the rows in the database, read as the 'system' context through the owner
 * connection.
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"

/* -------------------------------------------------------------- helpers */

static char *tok_min, *tok_l15, *tok_l01, *tok_vt, *tok_mf, *tok_vina, *tok_util, *tok_pub;

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

/* Equal strings, where NULL stands for a JSON null or a missing member. */
static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

#define S(x) ((x) ? (x) : "(null)")

/* An owner connection in the 'system' context (the tables have FORCE ROW
 * LEVEL SECURITY). */
/* One number from SQL; LLONG_MIN when the query fails. */
static long long count_events(long long point)
{
    return t_sys_ll("SELECT count(*) FROM events WHERE point_id = %lld", point);
}

static long long count_assignments(long long point)
{
    return t_sys_ll("SELECT count(*) FROM assignments WHERE point_id = %lld", point);
}

/* The database's date `days` from today, YYYY-MM-DD. */
static void day(int days, char *out, size_t len)
{
    PGconn *c = t_sysdb();
    char *s = t_sqlf(c, "SELECT (current_date + %d)::text", days);
    snprintf(out, len, "%s", s ? s : "(no date)");
    CHECK(s != NULL);
    free(s);
    PQfinish(c);
}

/* A timestamp `sql_interval` from now as the server would be sent it:
 * whole seconds, in Vietnam's offset (+07:00). */
static void stamp(const char *sql_interval, char *out, size_t len)
{
    PGconn *c = t_sysdb();
    char *s = t_sqlf(c,
                     "SELECT to_char((now() + interval '%s') AT TIME ZONE 'Asia/Ho_Chi_Minh',"
                     " 'YYYY-MM-DD\"T\"HH24:MI:SS') || '+07:00'",
                     sql_interval);
    snprintf(out, len, "%s", s ? s : "(no time)");
    CHECK(s != NULL);
    free(s);
    PQfinish(c);
}

/* 1 when two timestamps (any ISO-8601 spelling) are the same instant. */
static int same_instant(const char *a, const char *b)
{
    if (!a || !b || strchr(a, '\'') || strchr(b, '\''))
        return 0;
    PGconn *c = t_sysdb();
    char *s = t_sqlf(c, "SELECT ('%s'::timestamptz = '%s'::timestamptz)::text", a, b);
    int eq = s && strcmp(s, "true") == 0;
    free(s);
    PQfinish(c);
    return eq;
}

/* Seconds between a timestamp and now (positive: in the past). */
static double age_of(const char *a)
{
    if (!a || strchr(a, '\''))
        return NAN;
    PGconn *c = t_sysdb();
    char *s = t_sqlf(c, "SELECT extract(epoch FROM now() - '%s'::timestamptz)", a);
    double v = s ? strtod(s, NULL) : NAN;
    free(s);
    PQfinish(c);
    return v;
}

/* Files a 4G report at lat/lon as Lào Cai's locality; the new point's id
 * (it must be a new point, status reported) or -1. */
static long long file_report(int line, double lat, double lon)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"lat\": %.6f, \"lon\": %.6f, \"technology\": \"4G\", \"symptom\": \"no_signal\","
             " \"carriers\": [\"viettel\"], \"people_affected\": 60}",
             lat, lon);
    t_resp r;
    if (t_http("POST", "/v1/reports", tok_l15, body, strlen(body), "Content-Type: application/json",
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
        id = jid(pt, "id");
        if (id <= 0 || !cJSON_IsFalse(item(pt, "joined")) || !same(jstr(pt, "status"), "reported"))
            t_fail(__FILE__, line,
                   "POST /v1/reports at %g,%g: not a new reported point (another test's place?)"
                   ": %.400s",
                   lat, lon, r.body);
        cJSON_Delete(j);
    }
    t_resp_free(&r);
    return id;
}
#define FILE_REPORT(lat, lon) file_report(__LINE__, lat, lon)

/* POST /v1/points/{id}/transitions with `body`; the answer must have
 * status `want`.  200: the answer, a Feature of that point, parsed (the
 * caller frees it).  Otherwise it must be a problem whose detail contains
 * each of the NULL-terminated needles; NULL is returned. */
static cJSON *move_v(int line, const char *tok, const char *pid, const char *body, long want,
                     va_list ap)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/points/%s/transitions", pid);
    t_resp r;
    if (t_http("POST", path, tok, body, body ? strlen(body) : 0, "Content-Type: application/json",
               &r) != 0) {
        t_fail(__FILE__, line, "POST %s: no answer", path);
        return NULL;
    }
    cJSON *j = NULL;
    if (want == 200) {
        if (r.status != 200) {
            t_fail(__FILE__, line, "POST %s %s: status %ld, want 200: %.400s", path, S(body),
                   r.status, r.body ? r.body : "");
        } else if (!r.content_type || !strstr(r.content_type, "json")) {
            t_fail(__FILE__, line, "POST %s: Content-Type %s, want JSON", path, S(r.content_type));
        } else if (!(j = cJSON_Parse(r.body))) {
            t_fail(__FILE__, line, "POST %s: not JSON: %.300s", path, r.body ? r.body : "");
        } else if (!same(jstr(j, "type"), "Feature") || jid(j, "id") != strtoll(pid, NULL, 10) ||
                   !cJSON_IsString(item(item(j, "properties"), "status"))) {
            t_fail(__FILE__, line, "POST %s: not the point's Feature: %.400s", path, r.body);
        }
    } else {
        if (!t_is_problem(&r, want))
            t_fail(__FILE__, line, "POST %s %s: got %ld %s \"%.300s\", want a %ld problem", path,
                   S(body), r.status, S(r.content_type), r.body ? r.body : "", want);
        char *d = detail_of(&r);
        for (const char *n = va_arg(ap, const char *); n; n = va_arg(ap, const char *))
            if (!d || !strstr(d, n))
                t_fail(__FILE__, line, "POST %s %s: detail \"%.300s\" does not contain \"%s\"",
                       path, S(body), S(d), n);
        free(d);
    }
    t_resp_free(&r);
    return j;
}

static cJSON *move(int line, const char *tok, long long pid, const char *body, long want, ...)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", pid);
    va_list ap;
    va_start(ap, want);
    cJSON *j = move_v(line, tok, id, body, want, ap);
    va_end(ap);
    return j;
}

static cJSON *move_path(int line, const char *tok, const char *pid, const char *body, long want,
                        ...)
{
    va_list ap;
    va_start(ap, want);
    cJSON *j = move_v(line, tok, pid, body, want, ap);
    va_end(ap);
    return j;
}

/* A move that must succeed: the answer's status must be `status`. */
static void move_ok(int line, const char *tok, long long pid, const char *body, const char *status)
{
    cJSON *j = move(line, tok, pid, body, 200, NULL);
    const char *got = jstr(item(j, "properties"), "status");
    if (j && !same(got, status))
        t_fail(__FILE__, line, "POST transitions %s: the answer says status %s, want %s", body,
               S(got), status);
    cJSON_Delete(j);
}
#define MOVE_OK(tok, pid, body, status) move_ok(__LINE__, tok, pid, body, status)
/* A move that must be refused with `status`; further arguments are strings
 * the problem's detail must contain. */
#define REFUSED(tok, pid, body, ...) cJSON_Delete(move(__LINE__, tok, pid, body, __VA_ARGS__, NULL))

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
               S(r.content_type), r.body ? r.body : "", status);
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
        t_fail(__FILE__, line, "GET %s: Content-Type %s, want JSON", path, S(r.content_type));
    else if (!(j = cJSON_Parse(r.body)))
        t_fail(__FILE__, line, "GET %s: not JSON: %.300s", path, r.body ? r.body : "");
    t_resp_free(&r);
    return j;
}

static const char *point_path(long long pid)
{
    static char path[64];
    snprintf(path, sizeof path, "/v1/points/%lld", pid);
    return path;
}

static const cJSON *props(const cJSON *f)
{
    return item(f, "properties");
}

/* The point's assignment of `carrier`, or NULL. */
static const cJSON *assignment_of(const cJSON *f, const char *carrier)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, item(props(f), "assignments"))
    {
        if (same(jstr(a, "carrier"), carrier))
            return a;
    }
    return NULL;
}

/* The point as the ministry sees it, which must have status `status` and
 * blocked_reason `blocked` (NULL: null; "*": any), and then pairs of (carrier,
 * assignment status), NULL-terminated; "-" means no assignment of that
 * carrier.  Returns the Feature (the caller frees it). */
static cJSON *expect_point(int line, long long pid, const char *status, const char *blocked, ...)
{
    cJSON *f = get_json(line, tok_min, point_path(pid));
    if (!f)
        return NULL;
    const cJSON *p = props(f);
    if (!same(jstr(p, "status"), status))
        t_fail(__FILE__, line, "point %lld: status %s, want %s", pid, S(jstr(p, "status")), status);
    const cJSON *br = item(p, "blocked_reason");
    if (!(cJSON_IsString(br) || cJSON_IsNull(br)) ||
        (!same(blocked, "*") && !same(jstr(p, "blocked_reason"), blocked)))
        t_fail(__FILE__, line, "point %lld: blocked_reason %s, want %s", pid,
               S(jstr(p, "blocked_reason")), S(blocked));
    if (!cJSON_IsArray(item(p, "assignments")) || !cJSON_IsArray(item(p, "events")))
        t_fail(__FILE__, line, "point %lld: no assignments or events array", pid);
    va_list ap;
    va_start(ap, blocked);
    for (const char *car = va_arg(ap, const char *); car; car = va_arg(ap, const char *)) {
        const char *want = va_arg(ap, const char *);
        const cJSON *a = assignment_of(f, car);
        const char *got = a ? jstr(a, "status") : "-";
        if (!same(got, want))
            t_fail(__FILE__, line, "point %lld: %s's assignment is %s, want %s", pid, car, S(got),
                   want);
    }
    va_end(ap);
    return f;
}
#define EXPECT_POINT(pid, status, blocked, ...)                                                    \
    cJSON_Delete(expect_point(__LINE__, pid, status, blocked, __VA_ARGS__, NULL))

/* The last event of a point's Feature. */
static const cJSON *last_event(const cJSON *f)
{
    const cJSON *ev = item(props(f), "events");
    int n = cJSON_GetArraySize(ev);
    return n > 0 ? cJSON_GetArrayItem(ev, n - 1) : NULL;
}

/* GET /v1/assignments`query` as `tok`; the array (inside `*doc`, which the
 * caller frees) or NULL.  Every entry must carry every member. */
static const cJSON *worklist(int line, const char *tok, const char *query, cJSON **doc)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/assignments%s", query);
    *doc = get_json(line, tok, path);
    const cJSON *arr = item(*doc, "assignments");
    if (*doc && !cJSON_IsArray(arr)) {
        t_fail(__FILE__, line, "GET %s: no array \"assignments\"", path);
        return NULL;
    }
    const cJSON *a;
    cJSON_ArrayForEach(a, arr)
    {
        const cJSON *br = item(a, "blocked_reason"), *dd = item(a, "due_date");
        int ok =
            jid(a, "id") > 0 && jid(a, "point_id") > 0 && cJSON_IsString(item(a, "carrier")) &&
            cJSON_IsString(item(a, "status")) && (cJSON_IsString(br) || cJSON_IsNull(br)) &&
            (cJSON_IsString(dd) || cJSON_IsNull(dd)) && cJSON_IsString(item(a, "assigned_at")) &&
            cJSON_IsString(item(a, "province_code")) && cJSON_IsString(item(a, "technology")) &&
            cJSON_IsNumber(item(a, "lat")) && cJSON_IsNumber(item(a, "lon"));
        if (!ok) {
            char *s = cJSON_PrintUnformatted(a);
            t_fail(__FILE__, line, "GET %s: an entry lacks a member: %.400s", path, S(s));
            free(s);
        }
    }
    return arr;
}

static const cJSON *find_id(const cJSON *arr, long long id)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, arr)
    {
        if (jid(a, "id") == id)
            return a;
    }
    return NULL;
}

/* Every entry of a work list is `carrier`'s (when not NULL), has `status`
 * (when not NULL), is due before `before` (when not NULL), and the list is
 * sorted by due date (nulls last). */
static void check_list(int line, const cJSON *arr, const char *carrier, const char *status,
                       const char *before)
{
    const cJSON *a;
    const char *prev = NULL;
    int seen_null = 0, i = 0;
    cJSON_ArrayForEach(a, arr)
    {
        const char *d = jstr(a, "due_date");
        if (carrier && !same(jstr(a, "carrier"), carrier))
            t_fail(__FILE__, line, "entry %d (assignment %lld) is %s's, want only %s's", i,
                   jid(a, "id"), S(jstr(a, "carrier")), carrier);
        if (status && !same(jstr(a, "status"), status))
            t_fail(__FILE__, line, "entry %d (assignment %lld) is %s, want only %s", i,
                   jid(a, "id"), S(jstr(a, "status")), status);
        if (before && (!d || strncmp(d, before, 10) >= 0))
            t_fail(__FILE__, line, "entry %d (assignment %lld) is due %s, not before %s", i,
                   jid(a, "id"), S(d), before);
        if (carrier) { /* a carrier's list is sorted by due date */
            if (!d)
                seen_null = 1;
            else if (seen_null || (prev && strncmp(prev, d, 10) > 0))
                t_fail(__FILE__, line, "entry %d due %s comes after one due %s: not sorted", i, d,
                       seen_null ? "(null)" : prev);
            if (d)
                prev = d;
        }
        i++;
    }
}

/* ---------------------------------------------------------------- tests */

TEST(api_workflow, server_starts)
{
    tok_min = t_token("ministry", NULL, NULL);
    tok_l15 = t_token("locality", "15", NULL);
    tok_l01 = t_token("locality", "01", NULL);
    tok_vt = t_token("carrier", NULL, "viettel");
    tok_mf = t_token("carrier", NULL, "mobifone");
    tok_vina = t_token("carrier", NULL, "vinaphone");
    tok_util = t_token("utility", NULL, NULL);
    tok_pub = t_token("public", NULL, NULL);
    CHECK(t_server_start(NULL) != NULL);
}

/* One event of the story: who, and the point's move (from -> to); for a
 * carrier's move also the assignment's move (afrom -> ato). */
struct want_event {
    const char *kind, *role, *carrier, *from, *to, *afrom, *ato, *reason, *note;
};

TEST(api_workflow, the_whole_story)
{
    char due[16], body[512];
    day(30, due, sizeof due);
    long long p = FILE_REPORT(22.31, 104.19);
    if (p <= 0)
        return;
    /* no carrier and no utility sees a point nobody was assigned to */
    GET_REFUSED(tok_vt, point_path(p), 404);
    GET_REFUSED(tok_util, point_path(p), 404);

    /* the ministry triages */
    MOVE_OK(tok_min, p, "{\"to\": \"triaged\", \"note\": \"Đã xác minh qua điện thoại\"}",
            "triaged");
    EXPECT_POINT(p, "triaged", NULL, "viettel", "-", "mobifone", "-");

    /* ... and assigns Viettel and MobiFone, due in 30 days */
    snprintf(body, sizeof body,
             "{\"to\": \"assigned\", \"carriers\": [\"viettel\", \"mobifone\"], \"due\": \"%s\"}",
             due);
    MOVE_OK(tok_min, p, body, "assigned");
    cJSON *f = expect_point(__LINE__, p, "assigned", NULL, "viettel", "assigned", "mobifone",
                            "assigned", NULL);
    const cJSON *av = assignment_of(f, "viettel"), *am = assignment_of(f, "mobifone");
    long long a_vt = jid(av, "id"), a_mf = jid(am, "id");
    CHECK(a_vt > 0 && a_mf > 0 && a_vt != a_mf);
    CHECK_INT(cJSON_GetArraySize(item(props(f), "assignments")), 2);
    CHECK_STR(jstr(av, "due_date"), due);
    CHECK_STR(jstr(am, "due_date"), due);
    CHECK(cJSON_IsString(item(av, "assigned_at")));
    CHECK_STR(jstr(props(f), "due_date"), due);
    CHECK(cJSON_IsFalse(item(props(f), "overdue")));
    cJSON_Delete(f);
    CHECK_INT(t_sys_ll("SELECT count(*) FROM assignments WHERE point_id = %lld AND status ="
                       " 'assigned' AND due_date = '%s' AND province_code = '15'",
                       p, due),
              2);

    /* each carrier sees it in its work list, and only its own assignment */
    cJSON *doc;
    const cJSON *arr = worklist(__LINE__, tok_vt, "", &doc), *e;
    check_list(__LINE__, arr, "viettel", NULL, NULL);
    e = find_id(arr, a_vt);
    CHECK(e != NULL);
    CHECK(find_id(arr, a_mf) == NULL);
    CHECK_INT(jid(e, "point_id"), p);
    CHECK_STR(jstr(e, "status"), "assigned");
    CHECK_STR(jstr(e, "due_date"), due);
    CHECK_STR(jstr(e, "province_code"), "15");
    CHECK_STR(jstr(e, "technology"), "4G");
    CHECK(fabs(jnum(e, "lat") - 22.31) < 1e-5 && fabs(jnum(e, "lon") - 104.19) < 1e-5);
    cJSON_Delete(doc);
    arr = worklist(__LINE__, tok_mf, "", &doc);
    check_list(__LINE__, arr, "mobifone", NULL, NULL);
    e = find_id(arr, a_mf);
    CHECK(e != NULL);
    CHECK(find_id(arr, a_vt) == NULL);
    CHECK_INT(jid(e, "point_id"), p);
    CHECK_STR(jstr(e, "carrier"), "mobifone");
    cJSON_Delete(doc);
    /* the carriers now see the point; the utility still does not */
    cJSON_Delete(get_json(__LINE__, tok_vt, point_path(p)));
    cJSON_Delete(get_json(__LINE__, tok_mf, point_path(p)));
    GET_REFUSED(tok_util, point_path(p), 404);

    /* Viettel starts */
    MOVE_OK(tok_vt, p, "{\"to\": \"in_progress\", \"note\": \"Đội kỹ thuật đã lên khảo sát\"}",
            "in_progress");
    EXPECT_POINT(p, "in_progress", NULL, "viettel", "in_progress", "mobifone", "assigned");

    /* MobiFone is blocked: no power at its site; Viettel is still working */
    MOVE_OK(tok_mf, p, "{\"to\": \"blocked\", \"reason\": \"no_power\"}", "in_progress");
    f = expect_point(__LINE__, p, "in_progress", NULL, "viettel", "in_progress", "mobifone",
                     "blocked", NULL);
    CHECK_STR(jstr(assignment_of(f, "mobifone"), "blocked_reason"), "no_power");
    CHECK(cJSON_IsNull(item(assignment_of(f, "viettel"), "blocked_reason")));
    cJSON_Delete(f);

    /* Viettel is done: what remains active is blocked, so is the point */
    MOVE_OK(tok_vt, p, "{\"to\": \"fixed\"}", "blocked");
    f = expect_point(__LINE__, p, "blocked", "no_power", "viettel", "fixed", "mobifone", "blocked",
                     NULL);
    CHECK(cJSON_IsNull(item(props(f), "fixed_at")));
    cJSON_Delete(f);
    /* a point blocked for no power is the utility's to see */
    f = get_json(__LINE__, tok_util, point_path(p));
    CHECK_STR(jstr(props(f), "status"), "blocked");
    cJSON_Delete(f);

    /* the utility connects power: MobiFone is back at work */
    MOVE_OK(tok_util, p, "{\"to\": \"in_progress\", \"note\": \"Đã đóng điện lưới 22 kV\"}",
            "in_progress");
    f = expect_point(__LINE__, p, "in_progress", NULL, "viettel", "fixed", "mobifone",
                     "in_progress", NULL);
    CHECK(cJSON_IsNull(item(assignment_of(f, "mobifone"), "blocked_reason")));
    cJSON_Delete(f);
    GET_REFUSED(tok_util, point_path(p), 404);

    /* MobiFone is done: the point is fixed */
    MOVE_OK(tok_mf, p, "{\"to\": \"fixed\", \"note\": \"Trạm BTS mới phát sóng\"}", "fixed");
    f = expect_point(__LINE__, p, "fixed", NULL, "viettel", "fixed", "mobifone", "fixed", NULL);
    CHECK(cJSON_IsString(item(props(f), "fixed_at")));
    CHECK(age_of(jstr(props(f), "fixed_at")) < 600);
    CHECK(cJSON_IsFalse(item(props(f), "disputed")));
    CHECK(cJSON_IsFalse(item(props(f), "overdue")));
    cJSON_Delete(f);
    CHECK_INT(t_sys_ll("SELECT count(*) FROM dz_points WHERE id = %lld AND status = 'fixed' AND"
                       " fixed_at IS NOT NULL",
                       p),
              1);

    /* the history, in order.  For a carrier's move the event may give the
     * point's statuses (from -> to) or its assignment's (afrom -> ato). */
    static const struct want_event want[] = {
        {"report", "locality", NULL, NULL, "reported", NULL, NULL, NULL, NULL},
        {NULL, "ministry", NULL, "reported", "triaged", NULL, NULL, NULL,
         "Đã xác minh qua điện thoại"},
        {NULL, "ministry", NULL, "triaged", "assigned", NULL, NULL, NULL, NULL},
        {NULL, "carrier", "viettel", "assigned", "in_progress", "assigned", "in_progress", NULL,
         "Đội kỹ thuật đã lên khảo sát"},
        {NULL, "carrier", "mobifone", "in_progress", "in_progress", "assigned", "blocked",
         "no_power", NULL},
        {NULL, "carrier", "viettel", "in_progress", "blocked", "in_progress", "fixed", NULL, NULL},
        {NULL, "utility", NULL, "blocked", "in_progress", "blocked", "in_progress", NULL,
         "Đã đóng điện lưới 22 kV"},
        {NULL, "carrier", "mobifone", "in_progress", "fixed", "in_progress", "fixed", NULL,
         "Trạm BTS mới phát sóng"},
    };
    const int nwant = (int)(sizeof want / sizeof want[0]);
    f = get_json(__LINE__, tok_min, point_path(p));
    const cJSON *ev = item(props(f), "events");
    CHECK_INT(cJSON_GetArraySize(ev), nwant);
    CHECK_INT(count_events(p), nwant);
    for (int i = 0; i < nwant && i < cJSON_GetArraySize(ev); i++) {
        const cJSON *x = cJSON_GetArrayItem(ev, i);
        const struct want_event *w = &want[i];
        const char *kind = jstr(x, "kind"), *from = jstr(x, "from_status"),
                   *to = jstr(x, "to_status");
        int ok = same(jstr(x, "actor_role"), w->role) && cJSON_IsString(item(x, "at"));
        if (w->kind)
            ok = ok && same(kind, w->kind);
        else
            ok = ok && kind && !same(kind, "report") && !same(kind, "dispute");
        if (i > 0)
            ok = ok && ((same(from, w->from) && same(to, w->to)) ||
                        (w->afrom && same(from, w->afrom) && same(to, w->ato)));
        else
            ok = ok && same(to, w->to);
        if (strcmp(w->role, "carrier") == 0 || strcmp(w->role, "ministry") == 0)
            ok = ok && same(jstr(x, "carrier"), w->carrier);
        if (w->reason)
            ok = ok && same(jstr(x, "reason"), w->reason);
        if (w->note)
            ok = ok && same(jstr(x, "note"), w->note);
        if (!ok) {
            char *s = cJSON_PrintUnformatted(x);
            t_fail(__FILE__, __LINE__,
                   "event %d: %.500s; want actor_role %s, carrier %s, %s -> %s%s%s%s, reason %s,"
                   " note %s",
                   i, S(s), w->role, S(w->carrier), S(w->from), w->to, w->afrom ? " (or " : "",
                   w->afrom ? w->afrom : "", w->afrom ? " -> ...)" : "", S(w->reason), S(w->note));
            free(s);
        }
    }
    cJSON_Delete(f);

    /* the work lists say the same */
    arr = worklist(__LINE__, tok_vt, "", &doc);
    CHECK_STR(jstr(find_id(arr, a_vt), "status"), "fixed");
    cJSON_Delete(doc);
}

TEST(api_workflow, power_connected_unblocks_every_no_power_assignment)
{
    char due[16], body[512];
    day(30, due, sizeof due);
    long long p = FILE_REPORT(22.35, 103.81);
    if (p <= 0)
        return;
    MOVE_OK(tok_min, p, "{\"to\": \"triaged\"}", "triaged");
    snprintf(body, sizeof body,
             "{\"to\": \"assigned\", \"carriers\": [\"viettel\", \"mobifone\", \"vinaphone\"],"
             " \"due\": \"%s\"}",
             due);
    MOVE_OK(tok_min, p, body, "assigned");
    MOVE_OK(tok_vt, p, "{\"to\": \"blocked\", \"reason\": \"no_power\"}", "assigned");
    MOVE_OK(tok_vina, p, "{\"to\": \"blocked\", \"reason\": \"site_permit\"}", "assigned");
    MOVE_OK(tok_mf, p, "{\"to\": \"in_progress\"}", "in_progress");
    MOVE_OK(tok_mf, p, "{\"to\": \"blocked\", \"reason\": \"no_power\"}", "blocked");
    cJSON *f = expect_point(__LINE__, p, "blocked", "*", "viettel", "blocked", "mobifone",
                            "blocked", "vinaphone", "blocked", NULL);
    const char *why = f ? jstr(props(f), "blocked_reason") : NULL;
    if (f && !same(why, "no_power") && !same(why, "site_permit"))
        t_fail(__FILE__, __LINE__, "blocked_reason %s, want one of its assignments' reasons",
               S(why));
    cJSON_Delete(f);
    /* a utility of another province neither sees nor moves it */
    char *tok_u01 = t_token("utility", "01", NULL);
    GET_REFUSED(tok_u01, point_path(p), 404);
    REFUSED(tok_u01, p, "{\"to\": \"in_progress\"}", 404);
    free(tok_u01);
    /* a utility only connects power */
    REFUSED(tok_util, p, "{\"to\": \"blocked\", \"reason\": \"no_power\"}", 403);
    long long before = count_events(p);

    /* power connected: both carriers waiting for it are back at work; the
     * one waiting for a permit still waits */
    MOVE_OK(tok_util, p, "{\"to\": \"in_progress\"}", "in_progress");
    f = expect_point(__LINE__, p, "in_progress", NULL, "viettel", "in_progress", "mobifone",
                     "in_progress", "vinaphone", "blocked", NULL);
    CHECK(cJSON_IsNull(item(assignment_of(f, "viettel"), "blocked_reason")));
    CHECK(cJSON_IsNull(item(assignment_of(f, "mobifone"), "blocked_reason")));
    CHECK_STR(jstr(assignment_of(f, "vinaphone"), "blocked_reason"), "site_permit");
    const cJSON *e = last_event(f);
    CHECK_STR(jstr(e, "actor_role"), "utility");
    CHECK_STR(jstr(e, "to_status"), "in_progress");
    cJSON_Delete(f);
    CHECK_INT(count_events(p), before + 1);
    /* nothing is blocked for power any more: the utility is done here */
    GET_REFUSED(tok_util, point_path(p), 404);
    REFUSED(tok_util, p, "{\"to\": \"in_progress\"}", 404);
    CHECK_INT(count_events(p), before + 1);
}

TEST(api_workflow, forbidden_steps)
{
    char due[16], past[16], body[512];
    day(30, due, sizeof due);
    day(-1, past, sizeof past);
    long long q = FILE_REPORT(22.31, 103.81);
    if (q <= 0)
        return;
    snprintf(body, sizeof body,
             "{\"to\": \"assigned\", \"carriers\": [\"viettel\"], \"due\": \"%s\"}", due);

    /* moves a role may never make: 403, whatever the point's state */
    REFUSED(tok_vt, q, "{\"to\": \"triaged\"}", 403);
    REFUSED(tok_vt, q, "{\"to\": \"rejected\", \"reason\": \"duplicate\"}", 403);
    REFUSED(tok_vt, q, "{\"to\": \"assigned\"}", 403);
    REFUSED(tok_l15, q, body, 403);
    REFUSED(tok_l15, q, "{\"to\": \"triaged\"}", 403);
    REFUSED(tok_util, q, "{\"to\": \"fixed\"}", 403);
    REFUSED(tok_min, q, "{\"to\": \"fixed\"}", 403);
    REFUSED(tok_min, q, "{\"to\": \"in_progress\"}", 403);
    REFUSED(tok_min, q, "{\"to\": \"disputed\"}", 403);
    REFUSED(tok_min, q, "{\"to\": \"verified\"}", 403);
    REFUSED(tok_pub, q, "{\"to\": \"triaged\"}", 403);
    REFUSED(tok_pub, q, "{\"to\": \"in_progress\"}", 403);
    REFUSED(NULL, q, "{\"to\": \"triaged\"}", 401);
    /* a carrier and a utility do not see a point not theirs: 404 */
    REFUSED(tok_vt, q, "{\"to\": \"fixed\"}", 404);
    REFUSED(tok_vt, q, "{\"to\": \"in_progress\"}", 404);
    REFUSED(tok_util, q, "{\"to\": \"in_progress\"}", 404);
    /* bodies that say nothing sensible: 400 */
    REFUSED(tok_min, q, "{\"to\": \"done\"}", 400);
    REFUSED(tok_min, q, "{\"to\": \"TRIAGED\"}", 400);
    REFUSED(tok_min, q, "{\"to\": 3}", 400);
    REFUSED(tok_min, q, "{\"note\": \"no to\"}", 400);
    REFUSED(tok_min, q, "{\"to\": \"triaged\"", 400);
    REFUSED(tok_min, q, "to=triaged", 400);
    REFUSED(tok_min, q, "", 400);
    /* moves the ministry makes, but not from reported: 409 naming what is allowed */
    REFUSED(tok_min, q, body, 409, "allowed");
    REFUSED(tok_min, q, "{\"to\": \"reopened\"}", 409, "allowed");
    /* no such point; not a point id */
    REFUSED(tok_min, 999999999LL, "{\"to\": \"triaged\"}", 404);
    cJSON_Delete(move_path(__LINE__, tok_min, "abc", "{\"to\": \"triaged\"}", 400, NULL));
    /* none of it changed anything */
    EXPECT_POINT(q, "reported", NULL, "viettel", "-");
    CHECK_INT(count_events(q), 1);
    CHECK_INT(count_assignments(q), 0);

    /* triaging twice */
    MOVE_OK(tok_min, q, "{\"to\": \"triaged\"}", "triaged");
    REFUSED(tok_min, q, "{\"to\": \"triaged\"}", 409, "allowed", "assigned", "rejected");
    /* assigning needs known carriers and a due date not in the past */
    char bad[512];
    REFUSED(tok_min, q, "{\"to\": \"assigned\"}", 400);
    snprintf(bad, sizeof bad, "{\"to\": \"assigned\", \"due\": \"%s\"}", due);
    REFUSED(tok_min, q, bad, 400);
    snprintf(bad, sizeof bad, "{\"to\": \"assigned\", \"carriers\": [], \"due\": \"%s\"}", due);
    REFUSED(tok_min, q, bad, 400);
    snprintf(bad, sizeof bad, "{\"to\": \"assigned\", \"carriers\": \"viettel\", \"due\": \"%s\"}",
             due);
    REFUSED(tok_min, q, bad, 400);
    snprintf(bad, sizeof bad,
             "{\"to\": \"assigned\", \"carriers\": [\"viettel\", 7], \"due\":"
             " \"%s\"}",
             due);
    REFUSED(tok_min, q, bad, 400);
    REFUSED(tok_min, q, "{\"to\": \"assigned\", \"carriers\": [\"viettel\"]}", 400);
    snprintf(bad, sizeof bad,
             "{\"to\": \"assigned\", \"carriers\": [\"viettel\"], \"due\": \"%s\"}", past);
    REFUSED(tok_min, q, bad, 400);
    REFUSED(tok_min, q,
            "{\"to\": \"assigned\", \"carriers\": [\"viettel\"], \"due\": \"2020-01-01\"}", 400);
    REFUSED(tok_min, q,
            "{\"to\": \"assigned\", \"carriers\": [\"viettel\"], \"due\": \"31/12/2099\"}", 400);
    REFUSED(tok_min, q,
            "{\"to\": \"assigned\", \"carriers\": [\"viettel\"], \"due\": \"2099-02-30\"}", 400);
    snprintf(
        bad, sizeof bad,
        "{\"to\": \"assigned\", \"carriers\": [\"viettel\", \"notacarrier\"], \"due\": \"%s\"}",
        due);
    REFUSED(tok_min, q, bad, 400);
    snprintf(bad, sizeof bad,
             "{\"to\": \"assigned\", \"carriers\": [\"Viettel'; --\"], \"due\": \"%s\"}", due);
    REFUSED(tok_min, q, bad, 400);
    EXPECT_POINT(q, "triaged", NULL, "viettel", "-");
    CHECK_INT(count_assignments(q), 0);
    CHECK_INT(count_events(q), 2);

    /* assigned to Viettel: the other carriers still do not see it */
    MOVE_OK(tok_min, q, body, "assigned");
    GET_REFUSED(tok_vina, point_path(q), 404);
    GET_REFUSED(tok_mf, point_path(q), 404);
    REFUSED(tok_vina, q, "{\"to\": \"in_progress\"}", 404);
    REFUSED(tok_vina, q, "{\"to\": \"fixed\"}", 404);
    REFUSED(tok_mf, q, "{\"to\": \"blocked\", \"reason\": \"no_power\"}", 404);
    /* blocking needs one of the known reasons */
    REFUSED(tok_vt, q, "{\"to\": \"blocked\"}", 400);
    REFUSED(tok_vt, q, "{\"to\": \"blocked\", \"reason\": \"rain\"}", 400);
    REFUSED(tok_vt, q, "{\"to\": \"blocked\", \"reason\": \"\"}", 400);
    REFUSED(tok_vt, q, "{\"to\": \"blocked\", \"reason\": \"NO_POWER\"}", 400);
    REFUSED(tok_vt, q, "{\"to\": \"blocked\", \"reason\": 1}", 400);
    /* the utility has nothing to do with a point not blocked for power */
    REFUSED(tok_util, q, "{\"to\": \"in_progress\"}", 404);
    EXPECT_POINT(q, "assigned", NULL, "viettel", "assigned", "mobifone", "-", "vinaphone", "-");
    CHECK_INT(count_events(q), 3);

    /* blocked for a site permit: still not the utility's */
    MOVE_OK(tok_vt, q, "{\"to\": \"blocked\", \"reason\": \"site_permit\"}", "blocked");
    EXPECT_POINT(q, "blocked", "site_permit", "viettel", "blocked");
    REFUSED(tok_util, q, "{\"to\": \"in_progress\"}", 404);
    GET_REFUSED(tok_util, point_path(q), 404);
    /* moves a carrier makes, but not from blocked */
    REFUSED(tok_vt, q, "{\"to\": \"blocked\", \"reason\": \"terrain\"}", 409, "allowed");
    REFUSED(tok_vt, q, "{\"to\": \"fixed\"}", 409, "allowed");
    /* unblocked */
    MOVE_OK(tok_vt, q, "{\"to\": \"in_progress\"}", "in_progress");
    cJSON *f = expect_point(__LINE__, q, "in_progress", NULL, "viettel", "in_progress", NULL);
    CHECK(cJSON_IsNull(item(assignment_of(f, "viettel"), "blocked_reason")));
    cJSON_Delete(f);
    REFUSED(tok_vt, q, "{\"to\": \"in_progress\"}", 409, "allowed");
    /* the ministry's and the locality's moves that do not fit in_progress */
    REFUSED(tok_min, q, "{\"to\": \"triaged\"}", 409, "allowed");
    REFUSED(tok_min, q, "{\"to\": \"rejected\", \"reason\": \"duplicate\"}", 409, "allowed");
    REFUSED(tok_min, q, "{\"to\": \"reopened\"}", 409, "allowed");
    REFUSED(tok_l15, q, "{\"to\": \"disputed\"}", 409, "allowed");
    /* fixed: a carrier's moves from there are all 409 */
    MOVE_OK(tok_vt, q, "{\"to\": \"fixed\"}", "fixed");
    REFUSED(tok_vt, q, "{\"to\": \"fixed\"}", 409, "allowed");
    REFUSED(tok_vt, q, "{\"to\": \"in_progress\"}", 409, "allowed");
    REFUSED(tok_vt, q, "{\"to\": \"blocked\", \"reason\": \"other\"}", 409, "allowed");
    EXPECT_POINT(q, "fixed", NULL, "viettel", "fixed");
    /* report, triaged, assigned, blocked, in_progress, fixed: nothing else */
    CHECK_INT(count_events(q), 6);
    CHECK_INT(count_assignments(q), 1);
}

TEST(api_workflow, reject)
{
    char due[16], body[512];
    day(30, due, sizeof due);
    snprintf(body, sizeof body,
             "{\"to\": \"assigned\", \"carriers\": [\"viettel\"], \"due\": \"%s\"}", due);
    long long r1 = FILE_REPORT(22.37, 104.19);
    if (r1 <= 0)
        return;
    /* a reason is needed */
    REFUSED(tok_min, r1, "{\"to\": \"rejected\"}", 400);
    REFUSED(tok_min, r1, "{\"to\": \"rejected\", \"reason\": \"\"}", 400);
    REFUSED(tok_l15, r1, "{\"to\": \"rejected\", \"reason\": \"duplicate\"}", 403);
    CHECK_INT(count_events(r1), 1);
    /* reported -> rejected */
    MOVE_OK(tok_min, r1,
            "{\"to\": \"rejected\", \"reason\": \"duplicate\", \"note\": \"Trùng điểm"
            " đã báo\"}",
            "rejected");
    cJSON *f = expect_point(__LINE__, r1, "rejected", NULL, "viettel", "-", NULL);
    const cJSON *e = last_event(f);
    CHECK_STR(jstr(e, "actor_role"), "ministry");
    CHECK_STR(jstr(e, "from_status"), "reported");
    CHECK_STR(jstr(e, "to_status"), "rejected");
    CHECK_STR(jstr(e, "reason"), "duplicate");
    CHECK_STR(jstr(e, "note"), "Trùng điểm đã báo");
    cJSON_Delete(f);
    /* a rejected point cannot be assigned, triaged or rejected again */
    REFUSED(tok_min, r1, body, 409, "allowed");
    REFUSED(tok_min, r1, "{\"to\": \"triaged\"}", 409, "allowed");
    REFUSED(tok_min, r1, "{\"to\": \"rejected\", \"reason\": \"not_dead_zone\"}", 409, "allowed");
    EXPECT_POINT(r1, "rejected", NULL, "viettel", "-");
    CHECK_INT(count_assignments(r1), 0);
    CHECK_INT(count_events(r1), 2);

    /* triaged -> rejected */
    long long r2 = FILE_REPORT(22.37, 103.81);
    if (r2 <= 0)
        return;
    MOVE_OK(tok_min, r2, "{\"to\": \"triaged\"}", "triaged");
    MOVE_OK(tok_min, r2, "{\"to\": \"rejected\", \"reason\": \"not_dead_zone\"}", "rejected");
    f = expect_point(__LINE__, r2, "rejected", NULL, "viettel", "-", NULL);
    e = last_event(f);
    CHECK_STR(jstr(e, "from_status"), "triaged");
    CHECK_STR(jstr(e, "to_status"), "rejected");
    CHECK_STR(jstr(e, "reason"), "not_dead_zone");
    cJSON_Delete(f);
    REFUSED(tok_min, r2, body, 409, "allowed");
    CHECK_INT(count_assignments(r2), 0);
}

TEST(api_workflow, reopen)
{
    char due20[16], due40[16], due60[16], body[512];
    day(20, due20, sizeof due20);
    day(40, due40, sizeof due40);
    day(60, due60, sizeof due60);
    long long p = FILE_REPORT(22.33, 103.81);
    if (p <= 0)
        return;
    MOVE_OK(tok_min, p, "{\"to\": \"triaged\"}", "triaged");
    snprintf(body, sizeof body,
             "{\"to\": \"assigned\", \"carriers\": [\"viettel\"], \"due\": \"%s\"}", due20);
    MOVE_OK(tok_min, p, body, "assigned");
    /* straight from assigned to fixed */
    MOVE_OK(tok_vt, p, "{\"to\": \"fixed\"}", "fixed");
    cJSON *f = expect_point(__LINE__, p, "fixed", NULL, "viettel", "fixed", NULL);
    long long a_vt = jid(assignment_of(f, "viettel"), "id");
    CHECK(a_vt > 0);
    CHECK(cJSON_IsString(item(props(f), "fixed_at")));
    cJSON_Delete(f);
    /* a fixed point is not assigned again before it is reopened */
    snprintf(body, sizeof body,
             "{\"to\": \"assigned\", \"carriers\": [\"viettel\", \"mobifone\"], \"due\": \"%s\"}",
             due40);
    REFUSED(tok_min, p, body, 409, "allowed");
    REFUSED(tok_l15, p, "{\"to\": \"reopened\"}", 403);
    REFUSED(tok_vt, p, "{\"to\": \"reopened\"}", 403);

    /* fixed -> reopened */
    MOVE_OK(tok_min, p, "{\"to\": \"reopened\", \"note\": \"Người dân vẫn báo mất sóng\"}",
            "reopened");
    f = expect_point(__LINE__, p, "reopened", NULL, "viettel", "fixed", NULL);
    const cJSON *e = last_event(f);
    CHECK_STR(jstr(e, "actor_role"), "ministry");
    CHECK_STR(jstr(e, "from_status"), "fixed");
    CHECK_STR(jstr(e, "to_status"), "reopened");
    CHECK_STR(jstr(e, "note"), "Người dân vẫn báo mất sóng");
    cJSON_Delete(f);
    REFUSED(tok_min, p, "{\"to\": \"reopened\"}", 409, "allowed");
    /* Viettel's part stays done until the ministry assigns again */
    REFUSED(tok_vt, p, "{\"to\": \"in_progress\"}", 409, "allowed");

    /* assigned again: Viettel's own assignment is back, MobiFone added */
    MOVE_OK(tok_min, p, body, "assigned");
    f = expect_point(__LINE__, p, "assigned", NULL, "viettel", "assigned", "mobifone", "assigned",
                     NULL);
    CHECK_INT(cJSON_GetArraySize(item(props(f), "assignments")), 2);
    CHECK_INT(jid(assignment_of(f, "viettel"), "id"), a_vt);
    CHECK_STR(jstr(assignment_of(f, "viettel"), "due_date"), due40);
    CHECK_STR(jstr(assignment_of(f, "mobifone"), "due_date"), due40);
    CHECK_STR(jstr(props(f), "due_date"), due40);
    cJSON_Delete(f);
    CHECK_INT(count_assignments(p), 2);

    /* while in progress the ministry adds VinaPhone and moves the due date:
     * Viettel keeps working */
    MOVE_OK(tok_vt, p, "{\"to\": \"in_progress\"}", "in_progress");
    snprintf(body, sizeof body,
             "{\"to\": \"assigned\", \"carriers\": [\"viettel\", \"vinaphone\"], \"due\": \"%s\"}",
             due60);
    MOVE_OK(tok_min, p, body, "in_progress");
    f = expect_point(__LINE__, p, "in_progress", NULL, "viettel", "in_progress", "mobifone",
                     "assigned", "vinaphone", "assigned", NULL);
    CHECK_INT(cJSON_GetArraySize(item(props(f), "assignments")), 3);
    CHECK_INT(jid(assignment_of(f, "viettel"), "id"), a_vt);
    CHECK_STR(jstr(assignment_of(f, "viettel"), "due_date"), due60);
    CHECK_STR(jstr(assignment_of(f, "vinaphone"), "due_date"), due60);
    CHECK_STR(jstr(assignment_of(f, "mobifone"), "due_date"), due40);
    CHECK_STR(jstr(props(f), "due_date"), due60);
    cJSON_Delete(f);
    /* VinaPhone now sees it and works on its own assignment */
    cJSON_Delete(get_json(__LINE__, tok_vina, point_path(p)));
    MOVE_OK(tok_vina, p, "{\"to\": \"blocked\", \"reason\": \"terrain\"}", "in_progress");
    EXPECT_POINT(p, "in_progress", NULL, "viettel", "in_progress", "mobifone", "assigned",
                 "vinaphone", "blocked");
    /* report, triaged, assigned, fixed, reopened, assigned, in_progress,
     * assigned, blocked */
    CHECK_INT(count_events(p), 9);
}

TEST(api_workflow, dispute)
{
    char due[16], body[512];
    day(30, due, sizeof due);
    long long p = FILE_REPORT(22.39, 103.81);
    if (p <= 0)
        return;
    MOVE_OK(tok_min, p, "{\"to\": \"triaged\"}", "triaged");
    snprintf(body, sizeof body,
             "{\"to\": \"assigned\", \"carriers\": [\"viettel\"], \"due\": \"%s\"}", due);
    MOVE_OK(tok_min, p, body, "assigned");
    MOVE_OK(tok_vt, p, "{\"to\": \"fixed\"}", "fixed");
    long long before = count_events(p);

    /* only a locality of the point's area disputes */
    REFUSED(tok_min, p, "{\"to\": \"disputed\"}", 403);
    REFUSED(tok_vt, p, "{\"to\": \"disputed\"}", 403);
    REFUSED(tok_util, p, "{\"to\": \"disputed\"}", 403);
    REFUSED(tok_pub, p, "{\"to\": \"disputed\"}", 403);
    REFUSED(tok_l01, p, "{\"to\": \"disputed\"}", 404);
    CHECK_INT(count_events(p), before);
    cJSON *f = expect_point(__LINE__, p, "fixed", NULL, "viettel", "fixed", NULL);
    CHECK(cJSON_IsFalse(item(props(f), "disputed")));
    cJSON_Delete(f);

    cJSON *a = move(__LINE__, tok_l15, p,
                    "{\"to\": \"disputed\", \"note\": \"Thôn vẫn không gọi được sau khi sửa\"}",
                    200, NULL);
    CHECK_STR(jstr(props(a), "status"), "fixed");
    CHECK(cJSON_IsTrue(item(props(a), "disputed")));
    cJSON_Delete(a);
    f = expect_point(__LINE__, p, "fixed", NULL, "viettel", "fixed", NULL);
    CHECK(cJSON_IsTrue(item(props(f), "disputed")));
    CHECK(cJSON_IsString(item(props(f), "fixed_at")));
    const cJSON *e = last_event(f);
    CHECK_STR(jstr(e, "kind"), "dispute");
    CHECK_STR(jstr(e, "actor_role"), "locality");
    CHECK_STR(jstr(e, "note"), "Thôn vẫn không gọi được sau khi sửa");
    cJSON_Delete(f);
    CHECK_INT(count_events(p), before + 1);
    CHECK_INT(t_sys_ll("SELECT count(*) FROM dz_points WHERE id = %lld AND disputed AND"
                       " status = 'fixed'",
                       p),
              1);
    CHECK_INT(t_sys_ll("SELECT count(*) FROM events WHERE point_id = %lld AND kind = 'dispute'"
                       " AND actor_role = 'locality'",
                       p),
              1);

    /* a point not yet fixed cannot be disputed */
    long long r = FILE_REPORT(22.39, 104.19);
    if (r <= 0)
        return;
    REFUSED(tok_l15, r, "{\"to\": \"disputed\"}", 409, "allowed");
    f = expect_point(__LINE__, r, "reported", NULL, "viettel", "-", NULL);
    CHECK(cJSON_IsFalse(item(props(f), "disputed")));
    cJSON_Delete(f);
    CHECK_INT(count_events(r), 1);
}

TEST(api_workflow, at_is_when_it_happened)
{
    /* a point first reported ten days ago (made in the database: a report
     * through the API is always now) */
    PGconn *c = t_sysdb();
    char *id = t_sqlf(c, "INSERT INTO dz_points (geom, province_code, technology, report_count,"
                         " people_affected, first_reported)"
                         " VALUES (ST_SetSRID(ST_MakePoint(104.10, 22.31), 4326), '15', '4G', 1, 5,"
                         " now() - interval '10 days') RETURNING id");
    long long p = id ? strtoll(id, NULL, 10) : -1;
    free(id);
    char *ev = p > 0 ? t_sqlf(c,
                              "INSERT INTO events (point_id, province_code, at, actor_role, kind,"
                              " to_status) VALUES (%lld, '15', now() - interval '10 days',"
                              " 'locality', 'report', 'reported') RETURNING id",
                              p)
                     : NULL;
    CHECK(p > 0 && ev != NULL);
    free(ev);
    PQfinish(c);
    if (p <= 0)
        return;

    char three[40], five[40], future[40], body[512];
    stamp("-3 days", three, sizeof three);
    stamp("-5 days", five, sizeof five);
    stamp("1 day", future, sizeof future);

    /* triaged three days ago */
    snprintf(body, sizeof body, "{\"to\": \"triaged\", \"at\": \"%s\"}", three);
    MOVE_OK(tok_min, p, body, "triaged");
    cJSON *f = expect_point(__LINE__, p, "triaged", NULL, "viettel", "-", NULL);
    const cJSON *e = last_event(f);
    CHECK_STR(jstr(e, "to_status"), "triaged");
    if (!same_instant(jstr(e, "at"), three))
        t_fail(__FILE__, __LINE__, "event at %s, want %s", S(jstr(e, "at")), three);
    cJSON_Delete(f);
    CHECK_INT(t_sys_ll("SELECT count(*) FROM events WHERE point_id = %lld AND to_status ="
                       " 'triaged' AND at = '%s'::timestamptz",
                       p, three),
              1);

    /* not in the future, not before the previous event, a timestamp */
    char due[16];
    day(30, due, sizeof due);
    snprintf(body, sizeof body,
             "{\"to\": \"assigned\", \"carriers\": [\"viettel\"], \"due\": \"%s\", \"at\": \"%s\"}",
             due, future);
    REFUSED(tok_min, p, body, 400);
    snprintf(body, sizeof body,
             "{\"to\": \"assigned\", \"carriers\": [\"viettel\"], \"due\": \"%s\", \"at\": \"%s\"}",
             due, five);
    REFUSED(tok_min, p, body, 400);
    snprintf(body, sizeof body,
             "{\"to\": \"assigned\", \"carriers\": [\"viettel\"], \"due\": \"%s\", \"at\":"
             " \"last tuesday\"}",
             due);
    REFUSED(tok_min, p, body, 400);
    CHECK_INT(count_events(p), 2);
    CHECK_INT(count_assignments(p), 0);
    EXPECT_POINT(p, "triaged", NULL, "viettel", "-");

    /* without at: now */
    snprintf(body, sizeof body,
             "{\"to\": \"assigned\", \"carriers\": [\"viettel\"], \"due\": \"%s\"}", due);
    MOVE_OK(tok_min, p, body, "assigned");
    f = expect_point(__LINE__, p, "assigned", NULL, "viettel", "assigned", NULL);
    e = last_event(f);
    CHECK_STR(jstr(e, "to_status"), "assigned");
    double age = age_of(jstr(e, "at"));
    if (!(age > -60 && age < 300))
        t_fail(__FILE__, __LINE__, "event without at: at %s is %.0f s from now", S(jstr(e, "at")),
               age);
    cJSON_Delete(f);
    /* and now nothing can be dated three days ago any more */
    snprintf(body, sizeof body, "{\"to\": \"in_progress\", \"at\": \"%s\"}", three);
    REFUSED(tok_vt, p, body, 400);
    CHECK_INT(count_events(p), 3);
}

TEST(api_workflow, assignments_list_filters)
{
    char due10[16], due20[16], due50[16], due60[16], body[512], q[128];
    day(10, due10, sizeof due10);
    day(20, due20, sizeof due20);
    day(50, due50, sizeof due50);
    day(60, due60, sizeof due60);
    long long pa = FILE_REPORT(22.35, 104.19), pb = FILE_REPORT(22.33, 104.19);
    if (pa <= 0 || pb <= 0)
        return;
    MOVE_OK(tok_min, pa, "{\"to\": \"triaged\"}", "triaged");
    MOVE_OK(tok_min, pb, "{\"to\": \"triaged\"}", "triaged");
    snprintf(body, sizeof body,
             "{\"to\": \"assigned\", \"carriers\": [\"viettel\"], \"due\": \"%s\"}", due10);
    MOVE_OK(tok_min, pa, body, "assigned");
    snprintf(body, sizeof body,
             "{\"to\": \"assigned\", \"carriers\": [\"viettel\", \"mobifone\"], \"due\": \"%s\"}",
             due50);
    MOVE_OK(tok_min, pb, body, "assigned");
    MOVE_OK(tok_vt, pa, "{\"to\": \"blocked\", \"reason\": \"site_permit\"}", "blocked");
    cJSON *f = get_json(__LINE__, tok_min, point_path(pa));
    long long a = jid(assignment_of(f, "viettel"), "id");
    cJSON_Delete(f);
    f = get_json(__LINE__, tok_min, point_path(pb));
    long long bv = jid(assignment_of(f, "viettel"), "id"),
              bm = jid(assignment_of(f, "mobifone"), "id");
    cJSON_Delete(f);
    CHECK(a > 0 && bv > 0 && bm > 0);

    cJSON *doc;
    /* everything of Viettel's, sorted by due date */
    const cJSON *arr = worklist(__LINE__, tok_vt, "", &doc);
    check_list(__LINE__, arr, "viettel", NULL, NULL);
    CHECK(find_id(arr, a) && find_id(arr, bv) && !find_id(arr, bm));
    const cJSON *ea = find_id(arr, a), *eb = find_id(arr, bv);
    CHECK_INT(jid(ea, "point_id"), pa);
    CHECK_STR(jstr(ea, "due_date"), due10);
    CHECK_STR(jstr(ea, "status"), "blocked");
    CHECK_STR(jstr(ea, "blocked_reason"), "site_permit");
    CHECK(fabs(jnum(ea, "lat") - 22.35) < 1e-5 && fabs(jnum(ea, "lon") - 104.19) < 1e-5);
    CHECK_INT(jid(eb, "point_id"), pb);
    CHECK_STR(jstr(eb, "due_date"), due50);
    CHECK(cJSON_IsNull(item(eb, "blocked_reason")));
    cJSON_Delete(doc);

    /* status=blocked */
    arr = worklist(__LINE__, tok_vt, "?status=blocked", &doc);
    check_list(__LINE__, arr, "viettel", "blocked", NULL);
    CHECK(find_id(arr, a) != NULL);
    CHECK(find_id(arr, bv) == NULL);
    cJSON_Delete(doc);
    /* MobiFone has nothing blocked here, and never sees Viettel's */
    arr = worklist(__LINE__, tok_mf, "?status=blocked", &doc);
    check_list(__LINE__, arr, "mobifone", "blocked", NULL);
    CHECK(find_id(arr, a) == NULL);
    cJSON_Delete(doc);
    arr = worklist(__LINE__, tok_mf, "", &doc);
    check_list(__LINE__, arr, "mobifone", NULL, NULL);
    CHECK(find_id(arr, bm) != NULL);
    CHECK(find_id(arr, a) == NULL && find_id(arr, bv) == NULL);
    cJSON_Delete(doc);

    /* due_before */
    snprintf(q, sizeof q, "?due_before=%s", due20);
    arr = worklist(__LINE__, tok_vt, q, &doc);
    check_list(__LINE__, arr, "viettel", NULL, due20);
    CHECK(find_id(arr, a) != NULL);
    CHECK(find_id(arr, bv) == NULL);
    cJSON_Delete(doc);
    /* both filters */
    snprintf(q, sizeof q, "?status=assigned&due_before=%s", due60);
    arr = worklist(__LINE__, tok_vt, q, &doc);
    check_list(__LINE__, arr, "viettel", "assigned", due60);
    CHECK(find_id(arr, bv) != NULL);
    CHECK(find_id(arr, a) == NULL);
    cJSON_Delete(doc);
    snprintf(q, sizeof q, "?status=blocked&due_before=%s", due10);
    arr = worklist(__LINE__, tok_vt, q, &doc);
    check_list(__LINE__, arr, "viettel", "blocked", due10);
    CHECK(find_id(arr, a) == NULL);
    cJSON_Delete(doc);

    /* the ministry sees every carrier's */
    arr = worklist(__LINE__, tok_min, "", &doc);
    check_list(__LINE__, arr, NULL, NULL, NULL);
    CHECK(find_id(arr, a) && find_id(arr, bv) && find_id(arr, bm));
    CHECK_STR(jstr(find_id(arr, bm), "carrier"), "mobifone");
    cJSON_Delete(doc);
    snprintf(q, sizeof q, "?status=assigned&due_before=%s", due60);
    arr = worklist(__LINE__, tok_min, q, &doc);
    check_list(__LINE__, arr, NULL, "assigned", due60);
    CHECK(find_id(arr, bv) && find_id(arr, bm) && !find_id(arr, a));
    cJSON_Delete(doc);

    /* bad filters, and roles without a work list */
    GET_REFUSED(tok_vt, "/v1/assignments?status=bogus", 400);
    GET_REFUSED(tok_vt, "/v1/assignments?status=triaged", 400);
    GET_REFUSED(tok_vt, "/v1/assignments?due_before=soon", 400);
    GET_REFUSED(tok_vt, "/v1/assignments?due_before=2099-13-01", 400);
    GET_REFUSED(tok_min, "/v1/assignments?status=bogus", 400);
    GET_REFUSED(tok_l15, "/v1/assignments", 403);
    GET_REFUSED(tok_pub, "/v1/assignments", 403);
    GET_REFUSED(NULL, "/v1/assignments", 401);
}

TEST(api_workflow, zz_stop)
{
    free(tok_min);
    free(tok_l15);
    free(tok_l01);
    free(tok_vt);
    free(tok_mf);
    free(tok_vina);
    free(tok_util);
    free(tok_pub);
    tok_min = tok_l15 = tok_l01 = tok_vt = tok_mf = tok_vina = tok_util = tok_pub = NULL;
    CHECK_INT(t_server_stop(), 0);
}
