/*
 * test_api_merge.c — the ministry's merge and split of dead-zone points
 * over real loopback HTTP: POST /v1/points/{id}/merge {"into"} moves the
 * reports (counts recounted, first_reported the earlier) and the active
 * assignments (one of a carrier both points have is folded into the
 * remaining point's), writes an event on both points and leaves the point
 * `merged` with merged_into; POST /v1/reports/{id}/split moves one report
 * to a new point of its own, with events on both.  Who may (the ministry
 * only: 403 for the others, 401 without a token) and what is refused (409:
 * a merged or verified point, into itself, another technology, a point's
 * only report).
 *
 * The points are made through POST /v1/reports and the workflow, the way
 * they arise, in the south of Lào Cai (province 15, lat 21.55-21.61,
 * lon 104.40-104.60), which no other suite uses.
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"

static char *tok_min, *tok_l15, *tok_gm, *tok_vnm;

/* -------------------------------------------------------------- helpers */

static cJSON *item(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static long long jid(const cJSON *o, const char *k)
{
    const cJSON *v = item(o, k);
    return cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
}

static char *detail_of(const t_resp *r)
{
    cJSON *j = r->body ? cJSON_Parse(r->body) : NULL;
    const char *d = cJSON_GetStringValue(item(j, "detail"));
    char *s = d ? strdup(d) : NULL;
    cJSON_Delete(j);
    return s;
}

/* Files a report through POST /v1/reports; *point gets its point. */
static long long report(int line, double lat, double lon, const char *tech, int people,
                        long long *point)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"lat\": %.6f, \"lon\": %.6f, \"technology\": \"%s\", \"symptom\":"
             " \"no_signal\", \"people_affected\": %d}",
             lat, lon, tech, people);
    t_resp r;
    long long id = -1;
    if (t_http("POST", "/v1/reports", tok_l15, body, strlen(body), "Content-Type: application/json",
               &r) != 0 ||
        r.status != 201) {
        t_fail(__FILE__, line, "POST /v1/reports: %ld %.300s", r.status, r.body ? r.body : "");
    } else {
        cJSON *j = cJSON_Parse(r.body);
        id = jid(item(j, "report"), "id");
        if (point)
            *point = jid(item(j, "point"), "id");
        cJSON_Delete(j);
    }
    t_resp_free(&r);
    return id;
}
#define REPORT(...) report(__LINE__, __VA_ARGS__)

/* POST `path` with `body` as `tok`; the status, and the response in *out
 * (freed here when out is NULL). */
static long post(const char *tok, const char *path, const char *body, t_resp *out)
{
    t_resp r;
    if (t_http("POST", path, tok, body, body ? strlen(body) : 0,
               body ? "Content-Type: application/json" : NULL, &r) != 0)
        return -1;
    long st = r.status;
    if (out)
        *out = r;
    else
        t_resp_free(&r);
    return st;
}

static long merge(const char *tok, long long from, long long into, const char *note, t_resp *out)
{
    char path[64], body[256];
    snprintf(path, sizeof path, "/v1/points/%lld/merge", from);
    snprintf(body, sizeof body, "{\"into\": %lld%s%s%s}", into, note ? ", \"note\": \"" : "",
             note ? note : "", note ? "\"" : "");
    return post(tok, path, body, out);
}

/* A refused call: the status, problem+json, and the detail containing `needle`. */
static void refused(int line, long got, const t_resp *r, long status, const char *needle)
{
    if (got != status || !t_is_problem(r, status)) {
        t_fail(__FILE__, line, "got %ld, want %ld problem: %.300s", got, status,
               r->body ? r->body : "");
        return;
    }
    char *d = detail_of(r);
    if (needle && (!d || !strstr(d, needle)))
        t_fail(__FILE__, line, "detail \"%s\" lacks \"%s\"", d ? d : "(none)", needle);
    free(d);
}

static void move(int line, const char *tok, long long point, const char *body)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/points/%lld/transitions", point);
    t_resp r;
    long st = post(tok, path, body, &r);
    if (st != 200)
        t_fail(__FILE__, line, "POST %s %s: %ld %.300s", path, body, st, r.body ? r.body : "");
    t_resp_free(&r);
}
#define MOVE(...) move(__LINE__, __VA_ARGS__)

/* ---------------------------------------------------------------- tests */

static long long P1, P2, P3, r1, r2, r3;

TEST(api_merge, setup)
{
    tok_min = t_token("ministry", NULL, NULL);
    tok_l15 = t_token("locality", "15", NULL);
    tok_gm = t_token("carrier", NULL, "gmobile");
    tok_vnm = t_token("carrier", NULL, "vietnamobile");
    CHECK(tok_min && tok_l15 && tok_gm && tok_vnm);
    CHECK(t_server_start("") != NULL);
    CHECK_INT(t_sys_ll("SELECT count(*) FROM generate_series(21.55, 21.61, 0.01) lat,"
                       " generate_series(104.40, 104.60, 0.05) lon"
                       " WHERE unit_at(ST_SetSRID(ST_MakePoint(lon, lat), 4326)) <> '15'"),
              0);
}

TEST(api_merge, merge_moves_reports_and_recounts)
{
    long long p;
    r1 = REPORT(21.56, 104.45, "4G", 10, &P1);
    r2 = REPORT(21.5605, 104.4505, "4G", 20, &p); /* ~75 m: the same point */
    CHECK_INT(p, P1);
    r3 = REPORT(21.56, 104.46, "4G", 5, &P2); /* ~1 km east: its own point */
    REPORT(21.56, 104.47, "3G", 1, &P3);
    CHECK(P1 > 0 && P2 > 0 && P1 != P2 && P3 > 0);
    /* P1 was reported first */
    CHECK_SYS_STR("t",
                  "SELECT (SELECT first_reported FROM dz_points WHERE id = %lld)"
                  " < (SELECT first_reported FROM dz_points WHERE id = %lld)",
                  P1, P2);

    t_resp r;
    CHECK_INT(merge(tok_min, P1, P2, "cùng một vùng lõm", &r), 200);
    cJSON *f = cJSON_Parse(r.body);
    cJSON *pr = item(f, "properties");
    CHECK_INT(jid(f, "id"), P2);
    CHECK_INT(jid(pr, "report_count"), 3);
    CHECK_INT(jid(pr, "people_affected"), 35);
    CHECK_INT(cJSON_GetArraySize(item(pr, "reports")), 3);
    cJSON_Delete(f);
    t_resp_free(&r);

    CHECK_SYS_STR("merged|t|0|0",
                  "SELECT concat_ws('|', status, merged_into = %lld, report_count,"
                  " people_affected) FROM dz_points WHERE id = %lld",
                  P2, P1);
    CHECK_INT(t_sys_ll("SELECT count(*) FROM reports WHERE point_id = %lld", P2), 3);
    CHECK_INT(t_sys_ll("SELECT count(*) FROM reports WHERE point_id = %lld", P1), 0);
    /* the remaining point was first reported when P1 was */
    CHECK_INT(t_sys_ll("SELECT count(*) FROM dz_points a, dz_points b WHERE a.id = %lld"
                       " AND b.id = %lld AND a.first_reported = b.first_reported",
                       P1, P2),
              1);
    /* an event on both points */
    char want[256];
    snprintf(want, sizeof want, "merge|reported|merged|cùng một vùng lõm|%lld|[%lld, %lld]", P2, r1,
             r2);
    CHECK_SYS_STR(want,
                  "SELECT concat_ws('|', kind, from_status, to_status, note, data->>'into',"
                  " data->>'reports') FROM events WHERE point_id = %lld ORDER BY id DESC LIMIT 1",
                  P1);
    snprintf(want, sizeof want, "merge|reported|reported|cùng một vùng lõm|%lld|[%lld, %lld, %lld]",
             P1, r1, r2, r3);
    CHECK_SYS_STR(want,
                  "SELECT concat_ws('|', kind, from_status, to_status, note, data->>'merged_from',"
                  " data->>'reports') FROM events WHERE point_id = %lld ORDER BY id DESC LIMIT 1",
                  P2);
    /* GET shows where it went */
    char path[64];
    snprintf(path, sizeof path, "/v1/points/%lld", P1);
    CHECK_INT(t_http("GET", path, tok_l15, NULL, 0, NULL, &r), 0);
    f = cJSON_Parse(r.body);
    CHECK_STR(cJSON_GetStringValue(item(item(f, "properties"), "status")), "merged");
    CHECK_INT(jid(item(f, "properties"), "merged_into"), P2);
    cJSON_Delete(f);
    t_resp_free(&r);
    /* a merged point takes no new report: one at its place starts a point */
    long long q;
    REPORT(21.5601, 104.4501, "4G", 1, &q);
    CHECK(q != P1 && q != P2 && q > 0);
}

TEST(api_merge, merge_refusals)
{
    t_resp r;
    long st;
    /* only the ministry */
    st = merge(tok_l15, P2, P3, NULL, &r);
    refused(__LINE__, st, &r, 403, "a locality account may not use POST /v1/points/{id}/merge");
    t_resp_free(&r);
    st = merge(tok_gm, P2, P3, NULL, &r);
    refused(__LINE__, st, &r, 403, NULL);
    t_resp_free(&r);
    st = merge(NULL, P2, P3, NULL, &r);
    refused(__LINE__, st, &r, 401, NULL);
    t_resp_free(&r);
    /* already merged; into itself; another technology */
    char want[96];
    snprintf(want, sizeof want, "point %lld is merged into point %lld", P1, P2);
    st = merge(tok_min, P1, P2, NULL, &r);
    refused(__LINE__, st, &r, 409, want);
    t_resp_free(&r);
    st = merge(tok_min, P3, P1, NULL, &r);
    refused(__LINE__, st, &r, 409, "only open points are merged");
    t_resp_free(&r);
    st = merge(tok_min, P2, P2, NULL, &r);
    refused(__LINE__, st, &r, 409, "cannot be merged into itself");
    t_resp_free(&r);
    st = merge(tok_min, P2, P3, NULL, &r);
    refused(__LINE__, st, &r, 409, "only points of the same technology are merged");
    t_resp_free(&r);
    /* a verified point is done */
    long long v;
    REPORT(21.57, 104.45, "4G", 1, &v);
    PGconn *c = t_sysdb();
    free(t_sqlf(c,
                "UPDATE dz_points SET status = 'verified', verified_at = now() WHERE id = %lld"
                " RETURNING id",
                v));
    PQfinish(c);
    snprintf(want, sizeof want, "point %lld is verified", v);
    st = merge(tok_min, P2, v, NULL, &r);
    refused(__LINE__, st, &r, 409, want);
    t_resp_free(&r);
    /* no such point; not a body */
    st = merge(tok_min, P2, 999999999, NULL, &r);
    refused(__LINE__, st, &r, 404, "no point 999999999 to merge into");
    t_resp_free(&r);
    char path[64];
    snprintf(path, sizeof path, "/v1/points/%lld/merge", P2);
    st = post(tok_min, path, "{\"into\": \"abc\"}", &r);
    refused(__LINE__, st, &r, 400, "into must be the id");
    t_resp_free(&r);
    st = post(tok_min, path, "{\"into\": 1, \"note\": 5}", &r);
    refused(__LINE__, st, &r, 400, "note must be text");
    t_resp_free(&r);
    /* nothing moved */
    CHECK_INT(t_sys_ll("SELECT report_count FROM dz_points WHERE id = %lld", P2), 3);
    CHECK_SYS_STR("reported", "SELECT status FROM dz_points WHERE id = %lld", P2);
}

TEST(api_merge, merge_moves_and_folds_assignments)
{
    long long p5, p6, p7, p8;
    REPORT(21.60, 104.50, "4G", 1, &p5);
    REPORT(21.60, 104.51, "4G", 1, &p6);
    REPORT(21.60, 104.52, "4G", 1, &p7);
    REPORT(21.60, 104.53, "4G", 1, &p8);
    MOVE(tok_min, p5, "{\"to\": \"triaged\"}");
    MOVE(tok_min, p5,
         "{\"to\": \"assigned\", \"carriers\": [\"gmobile\", \"vietnamobile\"],"
         " \"due\": \"2099-01-01\"}");
    /* into a point nobody was assigned: the assignments go along */
    t_resp r;
    CHECK_INT(merge(tok_min, p5, p6, NULL, &r), 200);
    t_resp_free(&r);
    CHECK_SYS_STR("gmobile:assigned,vietnamobile:assigned",
                  "SELECT string_agg(carrier_code || ':' || status, ',' ORDER BY carrier_code)"
                  " FROM assignments WHERE point_id = %lld",
                  p6);
    CHECK_INT(t_sys_ll("SELECT count(*) FROM assignments WHERE point_id = %lld", p5), 0);
    CHECK_SYS_STR("assigned|2099-01-01",
                  "SELECT status || '|' || due_date FROM dz_points"
                  " WHERE id = %lld",
                  p6);
    CHECK_SYS_STR("[\"gmobile\", \"vietnamobile\"]|[]",
                  "SELECT concat_ws('|', data->>'assignments_moved', data->>'assignments_folded')"
                  " FROM events WHERE point_id = %lld AND kind = 'merge'",
                  p5);
    CHECK_SYS_STR("reported|assigned",
                  "SELECT from_status || '|' || to_status FROM events WHERE point_id = %lld"
                  " AND kind = 'merge'",
                  p6);
    /* the carriers see the point they now work on */
    char path[64];
    snprintf(path, sizeof path, "/v1/points/%lld", p6);
    CHECK_INT(t_http("GET", path, tok_vnm, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    t_resp_free(&r);

    /* both assigned to Gmobile: the merged point's is folded into the one
     * Gmobile is already working on; Vietnamobile's moves */
    MOVE(tok_min, p7, "{\"to\": \"triaged\"}");
    MOVE(tok_min, p7,
         "{\"to\": \"assigned\", \"carriers\": [\"gmobile\"], \"due\": \"2099-02-01\"}");
    MOVE(tok_gm, p7, "{\"to\": \"in_progress\"}");
    MOVE(tok_min, p8, "{\"to\": \"triaged\"}");
    MOVE(tok_min, p8,
         "{\"to\": \"assigned\", \"carriers\": [\"gmobile\", \"vietnamobile\"],"
         " \"due\": \"2099-03-01\"}");
    CHECK_INT(merge(tok_min, p8, p7, NULL, &r), 200);
    t_resp_free(&r);
    CHECK_SYS_STR("gmobile:in_progress,vietnamobile:assigned",
                  "SELECT string_agg(carrier_code || ':' || status, ',' ORDER BY carrier_code)"
                  " FROM assignments WHERE point_id = %lld",
                  p7);
    CHECK_SYS_STR("gmobile:withdrawn",
                  "SELECT string_agg(carrier_code || ':' || status, ',')"
                  " FROM assignments WHERE point_id = %lld",
                  p8);
    CHECK_SYS_STR("in_progress|2",
                  "SELECT status || '|' || report_count FROM dz_points"
                  " WHERE id = %lld",
                  p7);
    CHECK_SYS_STR("[\"vietnamobile\"]|[\"gmobile\"]",
                  "SELECT concat_ws('|', data->>'assignments_moved', data->>'assignments_folded')"
                  " FROM events WHERE point_id = %lld AND kind = 'merge'",
                  p8);
}

TEST(api_merge, split_makes_a_point_of_its_own)
{
    /* P2 holds r1 (10), r2 (20) and r3 (5) */
    char path[64];
    snprintf(path, sizeof path, "/v1/reports/%lld/split", r2);
    t_resp r;
    CHECK_INT(post(tok_min, path, "{\"note\": \"khác thôn\"}", &r), 201);
    cJSON *f = cJSON_Parse(r.body);
    long long n = jid(f, "id");
    cJSON *pr = item(f, "properties");
    CHECK(n > 0 && n != P2);
    CHECK_STR(cJSON_GetStringValue(item(pr, "status")), "reported");
    CHECK_INT(jid(pr, "report_count"), 1);
    CHECK_INT(jid(pr, "people_affected"), 20);
    CHECK_INT(cJSON_GetArraySize(item(pr, "reports")), 1);
    CHECK_INT(jid(cJSON_GetArrayItem(item(pr, "reports"), 0), "id"), r2);
    cJSON_Delete(f);
    char want[128];
    snprintf(want, sizeof want, "/v1/points/%lld", n);
    CHECK_STR(t_header(&r, "Location"), want);
    t_resp_free(&r);
    /* the old point is recounted; the new one is at the report's place */
    CHECK_SYS_STR("2|15|reported",
                  "SELECT concat_ws('|', report_count, people_affected, status)"
                  " FROM dz_points WHERE id = %lld",
                  P2);
    CHECK_INT(t_sys_ll("SELECT count(*) FROM dz_points p, reports r WHERE p.id = %lld"
                       " AND r.id = %lld AND r.point_id = p.id AND ST_Equals(p.geom, r.geom)"
                       " AND p.technology = r.technology AND p.province_code = r.province_code",
                       n, r2),
              1);
    /* events on both */
    snprintf(want, sizeof want, "split|reported|reported|khác thôn|%lld|%lld", r2, n);
    CHECK_SYS_STR(want,
                  "SELECT concat_ws('|', kind, from_status, to_status, note, data->>'report',"
                  " data->>'new_point') FROM events WHERE point_id = %lld ORDER BY id DESC"
                  " LIMIT 1",
                  P2);
    snprintf(want, sizeof want, "split||reported|khác thôn|%lld|%lld", r2, P2); /* from none */
    CHECK_SYS_STR(want,
                  "SELECT concat_ws('|', kind, coalesce(from_status, ''), to_status, note,"
                  " data->>'report', data->>'split_from') FROM events WHERE point_id = %lld",
                  n);

    /* refused: its new point's only report; not the ministry; no such report */
    long st = post(tok_min, path, NULL, &r);
    snprintf(want, sizeof want, "report %lld is the only report of point %lld", r2, n);
    refused(__LINE__, st, &r, 409, want);
    t_resp_free(&r);
    snprintf(path, sizeof path, "/v1/reports/%lld/split", r1);
    st = post(tok_l15, path, NULL, &r);
    refused(__LINE__, st, &r, 403, NULL);
    t_resp_free(&r);
    st = post(tok_gm, path, NULL, &r);
    refused(__LINE__, st, &r, 403, NULL);
    t_resp_free(&r);
    st = post(NULL, path, NULL, &r);
    refused(__LINE__, st, &r, 401, NULL);
    t_resp_free(&r);
    st = post(tok_min, "/v1/reports/999999999/split", NULL, &r);
    refused(__LINE__, st, &r, 404, NULL);
    t_resp_free(&r);
    st = post(tok_min, path, "{\"note\": []}", &r);
    refused(__LINE__, st, &r, 400, "note must be text");
    t_resp_free(&r);
    /* a verified point's reports stay */
    long long v, rv = REPORT(21.58, 104.45, "4G", 1, &v);
    REPORT(21.5801, 104.4501, "4G", 1, NULL);
    PGconn *c = t_sysdb();
    free(t_sqlf(c,
                "UPDATE dz_points SET status = 'verified', verified_at = now() WHERE id = %lld"
                " RETURNING id",
                v));
    PQfinish(c);
    snprintf(path, sizeof path, "/v1/reports/%lld/split", rv);
    st = post(tok_min, path, NULL, &r);
    refused(__LINE__, st, &r, 409, "which is verified");
    t_resp_free(&r);
    CHECK_INT(t_sys_ll("SELECT report_count FROM dz_points WHERE id = %lld", P2), 2);
}

TEST(api_merge, zz_stop)
{
    free(tok_min);
    free(tok_l15);
    free(tok_gm);
    free(tok_vnm);
    tok_min = tok_l15 = tok_gm = tok_vnm = NULL;
    CHECK_INT(t_server_stop(), 0);
}
