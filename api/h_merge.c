/*
 * h_merge.c — the ministry's corrections to how reports were grouped into
 * dead-zone points (ministry only; the route table refuses anyone else):
 *
 *   POST /v1/points/{id}/merge {"into": OTHER, "note"}   two points are one
 *     dead zone: point {id} becomes `merged` (merged_into = OTHER, no
 *     reports left), its reports move to OTHER, whose report_count and
 *     people_affected are recounted and first_reported is the earlier of
 *     the two.  Assignments: the merged point's active assignments move to
 *     OTHER; one of a carrier OTHER already has is folded into OTHER's (the
 *     carrier keeps one job at the place: OTHER's when it is active, else
 *     the moved one's state and due date) and the merged point's copy is
 *     withdrawn.  OTHER then follows its assignments (point_apply); a
 *     reported/triaged/reopened OTHER that received assignments becomes
 *     assigned.  An event on both points.
 *   POST /v1/reports/{id}/split {"note"}   a report that is not the same
 *     dead zone leaves its point for a new `reported` point of its own at
 *     its place; the old point is recounted.  A point's only report cannot
 *     be split off (409): a point is never left without reports that way —
 *     to drop a point, reject it.  An event on both points.
 *
 * Only open points take part: one that is merged, verified or rejected is
 * 409, as are merging a point into itself and points of different
 * technologies.  Both points are locked (in id order) for the move.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "../geo/db.h"

static int digits(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= max && strspn(s, "0123456789") == n;
}

static int closed(const char *status)
{
    return strcmp(status, "merged") == 0 || strcmp(status, "verified") == 0 ||
           strcmp(status, "rejected") == 0;
}

/* The optional note of the body; LS_EINVAL when it is not text of at most
 * 4000 characters. */
static ls_status note_of(api_request *rq, const cJSON *body, const char **note)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(body, "note");
    *note = NULL;
    if (!n || cJSON_IsNull(n))
        return LS_OK;
    if (!cJSON_IsString(n) || strlen(n->valuestring) > 4000)
        return api_fail(rq, LS_EINVAL, "note must be text of at most 4000 bytes");
    *note = n->valuestring;
    return LS_OK;
}

struct pt {
    char id[24], status[24], tech[4], merged_into[24];
};

ls_status api_h_point_merge(api_request *rq)
{
    const char *from = rq->params[0];
    if (!digits(from, 18))
        return api_fail(rq, LS_EINVAL, "a point id is a number");
    cJSON *body = NULL;
    ls_status st = api_json_body(rq, &body);
    if (st != LS_OK)
        return st;
    const cJSON *jt = cJSON_GetObjectItemCaseSensitive(body, "into");
    char into[24];
    if (cJSON_IsNumber(jt) && jt->valuedouble >= 1 && jt->valuedouble < 1e15 &&
        jt->valuedouble == floor(jt->valuedouble))
        snprintf(into, sizeof(into), "%.0f", jt->valuedouble);
    else if (cJSON_IsString(jt) && digits(jt->valuestring, 15))
        snprintf(into, sizeof(into), "%s", jt->valuestring);
    else
        return api_fail(rq, LS_EINVAL, "into must be the id of the point to merge into");
    const char *note;
    if ((st = note_of(rq, body, &note)) != LS_OK)
        return st;
    if (strtoll(from, NULL, 10) == strtoll(into, NULL, 10))
        return api_fail(rq, LS_ECONFLICT, "a point cannot be merged into itself");

    PGconn *c = NULL;
    if ((st = api_db(rq, &c)) != LS_OK)
        return st;
    PGresult *r = NULL;
    const char *p2[] = {from, into};
    st = db_query(c, "merge: points",
                  "SELECT id, status, technology, coalesce(merged_into::text, '') FROM dz_points"
                  " WHERE id IN ($1::bigint, $2::bigint) ORDER BY id FOR UPDATE",
                  2, p2, &r, NULL, 0);
    if (st != LS_OK)
        return api_fail(rq, st, "the points could not be read");
    struct pt a = {{0}}, b = {{0}}; /* a = from, b = into */
    for (int i = 0; i < PQntuples(r); i++) {
        struct pt *t = strtoll(PQgetvalue(r, i, 0), NULL, 10) == strtoll(from, NULL, 10) ? &a : &b;
        snprintf(t->id, sizeof(t->id), "%s", PQgetvalue(r, i, 0));
        snprintf(t->status, sizeof(t->status), "%s", PQgetvalue(r, i, 1));
        snprintf(t->tech, sizeof(t->tech), "%s", PQgetvalue(r, i, 2));
        snprintf(t->merged_into, sizeof(t->merged_into), "%s", PQgetvalue(r, i, 3));
    }
    PQclear(r);
    if (!*a.id)
        return api_fail(rq, LS_ENOTFOUND, "no point %s", from);
    if (!*b.id)
        return api_fail(rq, LS_ENOTFOUND, "no point %s to merge into", into);
    for (const struct pt *t = &a; t; t = t == &a ? &b : NULL)
        if (closed(t->status))
            return api_fail(rq, LS_ECONFLICT, "point %s is %s%s%s: only open points are merged",
                            t->id, t->status, *t->merged_into ? " into point " : "",
                            t->merged_into);
    if (strcmp(a.tech, b.tech) != 0)
        return api_fail(rq, LS_ECONFLICT,
                        "point %s is %s and point %s is %s: only points of the same technology "
                        "are merged",
                        a.id, a.tech, b.id, b.tech);

    /* Assignments: fold a carrier both points have into the target's, move
     * the rest; say in the events which did what. */
    st = db_query(c, "merge: assignments",
                  "WITH src AS (SELECT * FROM assignments WHERE point_id = $1::bigint"
                  "  AND status <> 'withdrawn'),"
                  " fold AS (UPDATE assignments t SET status = s.status,"
                  "  blocked_reason = s.blocked_reason, due_date = s.due_date, updated_at = now()"
                  "  FROM src s WHERE t.point_id = $2::bigint AND t.carrier_code = s.carrier_code"
                  "  AND t.status = 'withdrawn' RETURNING t.carrier_code),"
                  " gone AS (UPDATE assignments s SET status = 'withdrawn', updated_at = now()"
                  "  FROM src WHERE s.id = src.id AND EXISTS (SELECT 1 FROM assignments t"
                  "  WHERE t.point_id = $2::bigint AND t.carrier_code = src.carrier_code)"
                  "  RETURNING s.carrier_code),"
                  " moved AS (UPDATE assignments s SET point_id = $2::bigint,"
                  "  province_code = p.province_code, commune_code = p.commune_code,"
                  "  updated_at = now() FROM src, dz_points p WHERE s.id = src.id"
                  "  AND p.id = $2::bigint AND NOT EXISTS (SELECT 1 FROM assignments t"
                  "  WHERE t.point_id = $2::bigint AND t.carrier_code = src.carrier_code)"
                  "  RETURNING s.carrier_code)"
                  " SELECT (SELECT coalesce(json_agg(carrier_code ORDER BY carrier_code),"
                  "  '[]') FROM moved)::text,"
                  " (SELECT coalesce(json_agg(carrier_code ORDER BY carrier_code), '[]')"
                  "  FROM gone)::text",
                  2, p2, &r, NULL, 0);
    if (st != LS_OK)
        return api_fail(rq, st, "the assignments could not be moved");
    char *moved = arena_strdup(rq->a, PQgetvalue(r, 0, 0));
    char *folded = arena_strdup(rq->a, PQgetvalue(r, 0, 1));
    PQclear(r);
    if (!moved || !folded)
        return LS_ENOMEM;

    char account[32];
    snprintf(account, sizeof(account), "%lld", rq->who.account_id);
    const char *pm[] = {a.id, b.id, account, note, moved, folded};
    st = db_query(
        c, "merge: reports",
        "WITH moved AS (UPDATE reports SET point_id = $2::bigint WHERE point_id = $1::bigint"
        "  RETURNING id),"
        " ids AS (SELECT coalesce(jsonb_agg(id ORDER BY id), '[]') AS j FROM moved),"
        " src AS (SELECT * FROM dz_points WHERE id = $1::bigint),"
        " tgt AS (UPDATE dz_points t SET first_reported = least(t.first_reported,"
        "  (SELECT first_reported FROM src)), updated_at = now() WHERE t.id = $2::bigint"
        "  RETURNING t.id),"
        " done AS (UPDATE dz_points s SET status = 'merged', merged_into = $2::bigint,"
        "  due_date = NULL, blocked_reason = NULL, updated_at = now() WHERE s.id = $1::bigint"
        "  RETURNING s.id)"
        " INSERT INTO events (point_id, province_code, commune_code, at, account_id, actor_role,"
        " kind, from_status, to_status, note, data)"
        " SELECT s.id, s.province_code, s.commune_code, now(), $3::bigint, 'ministry', 'merge',"
        " s.status, 'merged', $4, jsonb_build_object('into', $2::bigint, 'reports', ids.j,"
        "  'assignments_moved', $5::jsonb, 'assignments_folded', $6::jsonb)"
        " FROM src s, ids, done, tgt",
        6, pm, NULL, NULL, 0);
    const char *pp[] = {a.id, b.id};
    if (st == LS_OK)
        st = db_query(c, "merge: recount",
                      "SELECT point_recount($1::bigint), point_recount($2::bigint)", 2, pp, NULL,
                      NULL, 0);
    /* The target follows its assignments now. */
    if (st == LS_OK)
        st = db_query(c, "merge: assigned",
                      "UPDATE dz_points p SET status = 'assigned', updated_at = now()"
                      " WHERE p.id = $1::bigint AND p.status IN ('reported', 'triaged', 'reopened')"
                      " AND EXISTS (SELECT 1 FROM assignments a WHERE a.point_id = p.id"
                      "  AND a.status <> 'withdrawn')",
                      1, pp + 1, NULL, NULL, 0);
    if (st == LS_OK)
        st =
            db_query(c, "merge: apply", "SELECT point_apply($1::bigint)", 1, pp + 1, NULL, NULL, 0);
    const char *pe[] = {a.id, b.id, account, note, b.status};
    if (st == LS_OK)
        st = db_query(c, "merge: event",
                      "INSERT INTO events (point_id, province_code, commune_code, at, account_id,"
                      " actor_role, kind, from_status, to_status, note, data)"
                      " SELECT t.id, t.province_code, t.commune_code, now(), $3::bigint,"
                      " 'ministry', 'merge', $5, t.status, $4, jsonb_build_object('merged_from',"
                      "  $1::bigint, 'reports', (SELECT coalesce(jsonb_agg(r.id ORDER BY r.id),"
                      "  '[]') FROM reports r WHERE r.point_id = t.id))"
                      " FROM dz_points t WHERE t.id = $2::bigint",
                      5, pe, NULL, NULL, 0);
    if (st != LS_OK)
        return api_fail(rq, st, "the points could not be merged");
    return api_reply_point(rq, b.id);
}

ls_status api_h_report_split(api_request *rq)
{
    const char *rid = rq->params[0];
    if (!digits(rid, 18))
        return api_fail(rq, LS_EINVAL, "a report id is a number");
    const char *note = NULL;
    ls_status st = LS_OK;
    if (rq->body && rq->body_len > 0) {
        cJSON *body = NULL;
        if ((st = api_json_body(rq, &body)) != LS_OK || (st = note_of(rq, body, &note)) != LS_OK)
            return st;
    }
    PGconn *c = NULL;
    if ((st = api_db(rq, &c)) != LS_OK)
        return st;
    PGresult *r = NULL;
    const char *p1[] = {rid};
    /* The point first (locked), then the report: the order a merge locks in. */
    st = db_query(c, "split: point",
                  "SELECT p.id, p.status, (SELECT count(*) FROM reports o WHERE o.point_id = p.id"
                  "  AND o.withdrawn_at IS NULL AND o.id <> $1::bigint),"
                  " (SELECT withdrawn_at IS NOT NULL FROM reports WHERE id = $1::bigint)"
                  " FROM dz_points p WHERE p.id = (SELECT point_id FROM reports"
                  "  WHERE id = $1::bigint) FOR UPDATE OF p",
                  1, p1, &r, NULL, 0);
    if (st != LS_OK)
        return api_fail(rq, st, "the report could not be read");
    if (PQntuples(r) == 0) {
        PQclear(r);
        return api_fail(rq, LS_ENOTFOUND, "no report %s in a point", rid);
    }
    char pid[24], status[24];
    snprintf(pid, sizeof(pid), "%s", PQgetvalue(r, 0, 0));
    snprintf(status, sizeof(status), "%s", PQgetvalue(r, 0, 1));
    long long others = atoll(PQgetvalue(r, 0, 2));
    int withdrawn = strcmp(PQgetvalue(r, 0, 3), "t") == 0;
    PQclear(r);
    if (closed(status))
        return api_fail(rq, LS_ECONFLICT,
                        "report %s is in point %s, which is %s: only open points are split", rid,
                        pid, status);
    if (withdrawn)
        return api_fail(rq, LS_ECONFLICT, "report %s was withdrawn", rid);
    if (others == 0)
        return api_fail(rq, LS_ECONFLICT,
                        "report %s is the only report of point %s: there is nothing to split it "
                        "from (reject the point instead)",
                        rid, pid);

    char account[32];
    snprintf(account, sizeof(account), "%lld", rq->who.account_id);
    const char *pn[] = {rid, pid, account, note};
    st = db_query(c, "split: new point",
                  "WITH np AS (INSERT INTO dz_points (geom, province_code, commune_code,"
                  "  technology, report_count, people_affected, first_reported)"
                  "  SELECT ST_PointOnSurface(r.geom), r.province_code, r.commune_code,"
                  "  r.technology, 1, coalesce(r.people_affected, 0), r.created_at"
                  "  FROM reports r WHERE r.id = $1::bigint RETURNING *),"
                  " mv AS (UPDATE reports SET point_id = (SELECT id FROM np)"
                  "  WHERE id = $1::bigint RETURNING id),"
                  " ev AS (INSERT INTO events (point_id, province_code, commune_code, at,"
                  "  account_id, actor_role, kind, from_status, to_status, note, data)"
                  "  SELECT np.id, np.province_code, np.commune_code, now(), $3::bigint,"
                  "  'ministry', 'split', NULL, np.status, $4, jsonb_build_object('report',"
                  "  $1::bigint, 'split_from', $2::bigint) FROM np, mv RETURNING point_id)"
                  " SELECT id FROM np, (SELECT count(*) FROM ev) e",
                  4, pn, &r, NULL, 0);
    if (st != LS_OK)
        return api_fail(rq, st, "the report could not be split off");
    char nid[24];
    snprintf(nid, sizeof(nid), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    const char *pe[] = {pid, nid, account, note, rid};
    st = db_query(c, "split: recount", "SELECT point_recount($1::bigint)", 1, pe, NULL, NULL, 0);
    if (st == LS_OK)
        st = db_query(c, "split: event",
                      "INSERT INTO events (point_id, province_code, commune_code, at, account_id,"
                      " actor_role, kind, from_status, to_status, note, data)"
                      " SELECT p.id, p.province_code, p.commune_code, now(), $3::bigint,"
                      " 'ministry', 'split', p.status, p.status, $4, jsonb_build_object("
                      "  'report', $5::bigint, 'new_point', $2::bigint)"
                      " FROM dz_points p WHERE p.id = $1::bigint",
                      5, pe, NULL, NULL, 0);
    if (st != LS_OK)
        return api_fail(rq, st, "the report could not be split off");
    st = api_reply_point(rq, nid);
    if (st == LS_OK) {
        rq->status = 201;
        char *loc = arena_printf(rq->a, "/v1/points/%s", nid);
        if (loc)
            api_add_header(rq, "Location", loc);
    }
    return st;
}
