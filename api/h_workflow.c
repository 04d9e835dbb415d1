/*
 * h_workflow.c — the resolution workflow of a dead-zone point
 * (DESIGN.md): who may move a point from which status to which, the
 * carriers' own assignments, and the carriers' work list.
 *
 *   ministry  reported -> triaged; reported|triaged -> rejected (reason);
 *             triaged|reopened -> assigned (carriers, due); assigned|
 *             in_progress|blocked -> assigned (adds carriers, moves the due
 *             date); fixed|verified -> reopened
 *   carrier   its own assignment: assigned|blocked -> in_progress;
 *             assigned|in_progress -> blocked (reason); assigned|in_progress
 *             -> fixed.  The point follows its assignments (point_apply).
 *   utility   a point blocked for no_power -> in_progress (power connected)
 *   locality  fixed|verified -> disputed (a flag; the ministry decides)
 *   system    fixed -> verified, verified -> reopened (from measurements)
 *
 * A move the role may never make is 403; one it may make, but not from the
 * point's state now, is 409 with the moves allowed now.  Every move writes
 * an event in the same transaction, with `at` (when it really happened:
 * not in the future, not before the point's previous event).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "handlers.h"
#include "../geo/db.h"

static const char *const block_reasons[] = {"no_power", "site_permit", "terrain", "investment",
                                            "other"};

static int is(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* The moves a role may ever make. */
static int role_may(auth_role role, const char *to)
{
    switch (role) {
    case ROLE_MINISTRY:
        return is(to, "triaged") || is(to, "rejected") || is(to, "assigned") || is(to, "reopened");
    case ROLE_CARRIER:
        return is(to, "in_progress") || is(to, "blocked") || is(to, "fixed");
    case ROLE_UTILITY:
        return is(to, "in_progress");
    case ROLE_LOCALITY:
        return is(to, "disputed");
    default:
        return 0;
    }
}

/* The moves allowed now, for the 409 detail.  `state` is the point's status
 * (the assignment's for a carrier). */
static const char *allowed_now(auth_role role, const char *state)
{
    if (role == ROLE_MINISTRY) {
        if (is(state, "reported"))
            return "triaged, rejected";
        if (is(state, "triaged"))
            return "rejected, assigned";
        if (is(state, "assigned") || is(state, "in_progress") || is(state, "blocked"))
            return "assigned (more carriers or a new due date)";
        if (is(state, "fixed") || is(state, "verified"))
            return "reopened";
        if (is(state, "reopened"))
            return "assigned";
        return "none";
    }
    if (role == ROLE_CARRIER) {
        if (is(state, "assigned"))
            return "in_progress, blocked, fixed";
        if (is(state, "in_progress"))
            return "blocked, fixed";
        if (is(state, "blocked"))
            return "in_progress";
        return "none";
    }
    if (role == ROLE_UTILITY)
        return is(state, "blocked") ? "in_progress" : "none";
    if (role == ROLE_LOCALITY)
        return is(state, "fixed") || is(state, "verified") ? "disputed" : "none";
    return "none";
}

static int ministry_can(const char *from, const char *to)
{
    if (is(to, "triaged"))
        return is(from, "reported");
    if (is(to, "rejected"))
        return is(from, "reported") || is(from, "triaged");
    if (is(to, "assigned"))
        return is(from, "triaged") || is(from, "reopened") || is(from, "assigned") ||
               is(from, "in_progress") || is(from, "blocked");
    if (is(to, "reopened"))
        return is(from, "fixed") || is(from, "verified");
    return 0;
}

static int carrier_can(const char *from, const char *to)
{
    if (is(to, "in_progress"))
        return is(from, "assigned") || is(from, "blocked");
    if (is(to, "blocked") || is(to, "fixed"))
        return is(from, "assigned") || is(from, "in_progress");
    return 0;
}

static const char *opt_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static ls_status conflict(api_request *rq, const char *to, const char *state)
{
    return api_fail(rq, LS_ECONFLICT, "cannot move to %s from %s; allowed now: %s", to, state,
                    allowed_now(rq->who.role, state));
}

ls_status api_h_point_transition(api_request *rq)
{
    const char *pid = rq->params[0];
    size_t pl = strlen(pid);
    if (pl == 0 || pl > 18 || strspn(pid, "0123456789") != pl)
        return api_fail(rq, LS_EINVAL, "a point id is a number");
    cJSON *body = NULL;
    ls_status st = api_json_body(rq, &body);
    if (st != LS_OK)
        return st;
    const char *to = opt_str(body, "to");
    static const char *const targets[] = {"triaged",     "rejected", "assigned",
                                          "in_progress", "blocked",  "fixed",
                                          "reopened",    "disputed", "verified"};
    if (!api_one_of(to, targets, LS_ARRAY_LEN(targets)))
        return api_fail(rq, LS_EINVAL,
                        "to must be one of triaged, rejected, assigned, in_progress, blocked, "
                        "fixed, reopened, disputed");
    if (!role_may(rq->who.role, to))
        return api_fail(rq, LS_EFORBIDDEN, "a %s account may not move a point to %s%s",
                        rq->who.role_name, to,
                        is(to, "verified") ? " (points are verified by measurements)" : "");
    const char *note = opt_str(body, "note"), *reason = opt_str(body, "reason");
    const char *due = opt_str(body, "due"), *at = opt_str(body, "at");
    if (note && strlen(note) > 4000)
        return api_fail(rq, LS_EINVAL, "note must be at most 4000 bytes");
    if (reason && strlen(reason) > 200)
        return api_fail(rq, LS_EINVAL, "reason must be at most 200 bytes");
    if (due && cli_check_date(due) != 0)
        return api_fail(rq, LS_EINVAL, "due must be a date YYYY-MM-DD");

    PGconn *c = NULL;
    if ((st = api_db(rq, &c)) != LS_OK)
        return st;
    PGresult *r = NULL;
    const char *p1[] = {pid, at};
    /* The point (row-level security decides whether this account sees it),
     * locked, and `at` checked against now and the previous event. */
    st = db_query(c, "transition: point",
                  "SELECT p.status, p.province_code, coalesce(p.commune_code, ''),"
                  " coalesce(p.blocked_reason, ''),"
                  " coalesce($2::timestamptz, now()) > now() + interval '1 minute',"
                  " coalesce($2::timestamptz, now()) < (SELECT max(e.at) FROM events e"
                  "  WHERE e.point_id = p.id),"
                  " coalesce($2::timestamptz, now())"
                  " FROM dz_points p WHERE p.id = $1::bigint FOR UPDATE",
                  2, p1, &r, NULL, 0);
    if (st == LS_EINVAL)
        return api_fail(rq, st, "at must be a timestamp such as 2026-03-01T08:30:00+07:00");
    if (st != LS_OK)
        return api_fail(rq, st, "the point could not be read");
    if (PQntuples(r) == 0) {
        PQclear(r);
        return api_fail(rq, LS_ENOTFOUND, "no point %s that this account may see", pid);
    }
    char from[24], when[48];
    snprintf(from, sizeof(from), "%s", PQgetvalue(r, 0, 0));
    int future = is(PQgetvalue(r, 0, 4), "t"), early = is(PQgetvalue(r, 0, 5), "t");
    snprintf(when, sizeof(when), "%s", PQgetvalue(r, 0, 6));
    PQclear(r);
    if (future)
        return api_fail(rq, LS_EINVAL, "at is in the future");
    if (early)
        return api_fail(rq, LS_EINVAL, "at is before the point's previous event");

    char account[32];
    snprintf(account, sizeof(account), "%lld", rq->who.account_id);
    const char *assignment = NULL, *carrier = NULL;
    char aid[32] = "", astate[24] = "";
    auth_role role = rq->who.role;

    if (role == ROLE_MINISTRY) {
        if (!ministry_can(from, to))
            return conflict(rq, to, from);
        if (is(to, "rejected") && (!reason || !*reason))
            return api_fail(rq, LS_EINVAL,
                            "rejecting needs a reason (duplicate, not_dead_zone, "
                            "outside_vietnam, ...)");
        if (is(to, "assigned")) {
            const cJSON *ca = cJSON_GetObjectItemCaseSensitive(body, "carriers");
            if (!cJSON_IsArray(ca) || cJSON_GetArraySize(ca) == 0 || cJSON_GetArraySize(ca) > 16)
                return api_fail(rq, LS_EINVAL, "assigning needs carriers: [\"viettel\", ...]");
            if (!due)
                return api_fail(rq, LS_EINVAL,
                                "assigning needs a due date: \"due\": "
                                "\"YYYY-MM-DD\"");
            buf lit;
            buf_init(&lit, 1024);
            buf_puts(&lit, "{");
            const cJSON *it;
            int k = 0, bad = 0;
            cJSON_ArrayForEach(it, ca)
            {
                const char *code = cJSON_GetStringValue(it);
                size_t n = code ? strlen(code) : 0;
                if (!n || n > 32 || strspn(code, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
                    bad = 1;
                else
                    buf_printf(&lit, "%s%s", k++ ? "," : "", code);
            }
            buf_puts(&lit, "}");
            if (bad || !lit.data) {
                buf_free(&lit);
                return api_fail(rq, LS_EINVAL, "carriers must be carrier codes");
            }
            const char *pa[] = {pid, lit.data, due};
            st = db_query(c, "transition: assign",
                          "SELECT (SELECT count(*) FROM carriers WHERE code = ANY($1::text[]))"
                          "  = (SELECT count(DISTINCT x) FROM unnest($1::text[]) x),"
                          " $2::date >= current_date",
                          2, pa + 1, &r, NULL, 0);
            if (st != LS_OK) {
                buf_free(&lit);
                return api_fail(rq, st, "the carriers could not be checked");
            }
            int known = is(PQgetvalue(r, 0, 0), "t"), future_due = is(PQgetvalue(r, 0, 1), "t");
            PQclear(r);
            if (!known || !future_due) {
                char l[600];
                snprintf(l, sizeof(l), "%s", lit.data);
                buf_free(&lit);
                return !known ? api_fail(rq, LS_EINVAL, "carriers %s names an unknown carrier", l)
                              : api_fail(rq, LS_EINVAL, "due %s is in the past", due);
            }
            st = db_query(c, "transition: assignments",
                          "INSERT INTO assignments AS a (point_id, carrier_code, province_code,"
                          " commune_code, due_date)"
                          " SELECT p.id, k.code, p.province_code, p.commune_code, $3::date"
                          " FROM dz_points p, (SELECT DISTINCT unnest($2::text[])) AS k(code)"
                          " WHERE p.id = $1::bigint"
                          " ON CONFLICT (point_id, carrier_code) DO UPDATE SET"
                          " due_date = EXCLUDED.due_date, updated_at = now(),"
                          " status = CASE WHEN a.status IN ('withdrawn', 'fixed', 'verified')"
                          "  THEN 'assigned' ELSE a.status END,"
                          " blocked_reason = CASE WHEN a.status IN ('withdrawn', 'fixed',"
                          "  'verified') THEN NULL ELSE a.blocked_reason END",
                          3, pa, NULL, NULL, 0);
            buf_free(&lit);
            if (st == LS_OK) {
                const char *pp[] = {pid};
                st = db_query(c, "transition: assigned",
                              "UPDATE dz_points SET status = 'assigned', updated_at = now()"
                              " WHERE id = $1::bigint AND status IN ('triaged', 'reopened')",
                              1, pp, NULL, NULL, 0);
                if (st == LS_OK)
                    st = db_query(c, "transition: apply", "SELECT point_apply($1::bigint)", 1, pp,
                                  NULL, NULL, 0);
            }
        } else {
            const char *pu[] = {pid, to, reason};
            st = db_query(c, "transition: ministry",
                          "UPDATE dz_points SET status = $2, updated_at = now(),"
                          " rejected_reason = CASE WHEN $2 = 'rejected' THEN $3"
                          "  ELSE rejected_reason END,"
                          " disputed = CASE WHEN $2 = 'reopened' THEN false ELSE disputed END"
                          " WHERE id = $1::bigint",
                          3, pu, NULL, NULL, 0);
        }
    } else if (role == ROLE_CARRIER) {
        carrier = rq->who.carrier_code;
        const char *pa[] = {pid, carrier};
        st = db_query(c, "transition: own assignment",
                      "SELECT id, status FROM assignments WHERE point_id = $1::bigint"
                      " AND carrier_code = $2 FOR UPDATE",
                      2, pa, &r, NULL, 0);
        if (st != LS_OK)
            return api_fail(rq, st, "the assignment could not be read");
        if (PQntuples(r) == 0) {
            PQclear(r);
            return api_fail(rq, LS_ENOTFOUND, "point %s is not assigned to %s", pid, carrier);
        }
        snprintf(aid, sizeof(aid), "%s", PQgetvalue(r, 0, 0));
        snprintf(astate, sizeof(astate), "%s", PQgetvalue(r, 0, 1));
        PQclear(r);
        assignment = aid;
        if (!carrier_can(astate, to))
            return conflict(rq, to, astate);
        if (is(to, "blocked") && !api_one_of(reason, block_reasons, LS_ARRAY_LEN(block_reasons)))
            return api_fail(rq, LS_EINVAL,
                            "blocking needs a reason: no_power, site_permit, "
                            "terrain, investment or other");
        const char *pu[] = {aid, to, is(to, "blocked") ? reason : NULL};
        st = db_query(c, "transition: assignment",
                      "UPDATE assignments SET status = $2, blocked_reason = $3,"
                      " updated_at = now() WHERE id = $1::bigint",
                      3, pu, NULL, NULL, 0);
        if (st == LS_OK) {
            const char *pp[] = {pid};
            st = db_query(c, "transition: apply", "SELECT point_apply($1::bigint)", 1, pp, NULL,
                          NULL, 0);
        }
    } else if (role == ROLE_UTILITY) {
        const char *pa[] = {pid};
        st = db_query(c, "transition: power", "SELECT power_connected($1::bigint)", 1, pa, &r, NULL,
                      0);
        if (st == LS_OK) {
            int n = atoi(PQgetvalue(r, 0, 0));
            PQclear(r);
            if (n == 0)
                return conflict(rq, to, from);
            st = db_query(c, "transition: apply", "SELECT point_apply($1::bigint)", 1, pa, NULL,
                          NULL, 0);
        }
        reason = "power connected";
    } else { /* locality */
        if (!is(from, "fixed") && !is(from, "verified"))
            return conflict(rq, to, from);
        const char *pu[] = {pid};
        st = db_query(c, "transition: dispute",
                      "UPDATE dz_points SET disputed = true, updated_at = now()"
                      " WHERE id = $1::bigint",
                      1, pu, NULL, NULL, 0);
    }
    if (st != LS_OK)
        return api_fail(rq, st, "the point could not be moved");

    /* The event, with the status the point has now; for the point's
     * fixed_at, the time the fix really happened. */
    const char *pe[] = {pid,
                        when,
                        account,
                        rq->who.role_name,
                        is(to, "disputed") ? "dispute" : "transition",
                        from,
                        carrier,
                        assignment,
                        reason,
                        note,
                        assignment ? astate : NULL,
                        assignment ? to : NULL};
    st = db_query(c, "transition: event",
                  "INSERT INTO events (point_id, assignment_id, province_code, commune_code,"
                  " carrier_code, at, account_id, actor_role, kind, from_status, to_status, reason,"
                  " note, data)"
                  " SELECT $1::bigint, $8::bigint, s.province_code, s.commune_code, $7,"
                  " $2::timestamptz, $3::bigint, $4, $5, $6, s.status, $9, $10,"
                  " CASE WHEN $8::bigint IS NOT NULL THEN jsonb_build_object("
                  "  'assignment', $8::bigint, 'assignment_from', $11::text,"
                  "  'assignment_to', $12::text) END"
                  " FROM point_state($1::bigint) s",
                  12, pe, NULL, NULL, 0);
    if (st != LS_OK)
        return api_fail(rq, st, "the event could not be written");
    if (is(to, "fixed")) {
        const char *pf[] = {pid, when};
        st = db_query(c, "transition: fixed at",
                      "UPDATE dz_points SET fixed_at = $2::timestamptz WHERE id = $1::bigint"
                      " AND status = 'fixed'",
                      2, pf, NULL, NULL, 0);
        if (st != LS_OK)
            return api_fail(rq, st, "the point could not be moved");
    }
    if (role == ROLE_UTILITY) {
        /* Power connected: the point is the carrier's again and no longer
         * this account's to see; answer with what it may know. */
        const char *ps[] = {pid};
        return api_reply_sql(
            rq, "transition: utility answer",
            "SELECT json_build_object('type', 'Feature', 'id', $1::bigint,"
            " 'geometry', NULL, 'properties', json_build_object('id',"
            " $1::bigint, 'status', s.status))::text FROM point_state($1::bigint) s",
            1, ps, "application/geo+json", "the point is gone");
    }
    return api_reply_point(rq, pid);
}

/* ------------------------------------------------------- work list */

ls_status api_h_assignments_list(api_request *rq)
{
    const char *status = api_query(rq, "status"), *before = api_query(rq, "due_before");
    static const char *const astates[] = {"assigned", "in_progress", "blocked",
                                          "fixed",    "verified",    "withdrawn"};
    if (status && !api_one_of(status, astates, LS_ARRAY_LEN(astates)))
        return api_fail(rq, LS_EINVAL,
                        "status must be assigned, in_progress, blocked, fixed, verified or "
                        "withdrawn");
    if (before && cli_check_date(before) != 0)
        return api_fail(rq, LS_EINVAL, "due_before must be a date YYYY-MM-DD");
    const char *p[] = {status, before};
    return api_reply_sql(
        rq, "assignments",
        "SELECT json_build_object('assignments', coalesce(json_agg(json_build_object("
        " 'id', a.id, 'point_id', a.point_id, 'carrier', a.carrier_code, 'status', a.status,"
        " 'blocked_reason', a.blocked_reason, 'due_date', a.due_date, 'assigned_at',"
        " a.assigned_at, 'overdue', coalesce(a.due_date < current_date AND a.status NOT IN"
        "  ('fixed', 'verified', 'withdrawn'), false),"
        " 'province_code', a.province_code, 'technology', p.technology,"
        " 'lat', round(ST_Y(p.geom)::numeric, 7), 'lon', round(ST_X(p.geom)::numeric, 7))"
        " ORDER BY a.due_date NULLS LAST, a.id), '[]'::json))::text"
        " FROM assignments a JOIN dz_points p ON p.id = a.point_id"
        " WHERE ($1::text IS NULL OR a.status = $1) AND ($2::date IS NULL OR a.due_date < "
        "$2::date)",
        2, p, "application/json", NULL);
}
