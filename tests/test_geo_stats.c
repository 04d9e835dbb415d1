/*
 * test_geo_stats.c — what geo/sql/008_stats.sql keeps current for the
 * statistics (point_facts, stats_cells, stats_verified), against a recount
 * from dz_points and assignments written here on its own: after everything
 * the suites before this one did through the API (reports, transitions,
 * verification by measurements, merges, imports), and after changes made
 * here in SQL: the workflow's own functions, merges and splits, changes by
 * hand, deleted rows, rollbacks and savepoints, two transactions on one
 * point or on one counter at once.  Then row-level security on the three
 * tables: a province sees the facts and counters of its area, a commune its
 * facts and no counter, a carrier the facts and counters of the points it
 * sees, others nothing, and the points each one sees are exactly those
 * dz_points shows it.
 *
 * The points made here are in Lai Châu (province 12), which no other suite
 * counts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t.h"

/* ------------------------------------------------------------ the recount */

/* Every point's facts, from dz_points and assignments. */
#define FACTS                                                                                      \
    "SELECT p.id, p.province_code, p.commune_code, p.technology, p.status, p.blocked_reason,"      \
    " (p.first_reported AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS reported_on, p.due_date,"        \
    " CASE WHEN p.status = 'verified' THEN (extract(epoch FROM p.verified_at - p.first_reported)"  \
    " / 86400.0)::float8 END AS days,"                                                             \
    " ARRAY(SELECT DISTINCT a.carrier_code FROM assignments a WHERE a.point_id = p.id"             \
    "  AND a.status <> 'withdrawn' ORDER BY 1) AS carriers,"                                       \
    " ARRAY(SELECT DISTINCT a.carrier_code FROM assignments a WHERE a.point_id = p.id"             \
    "  ORDER BY 1) AS seen_by"                                                                     \
    " FROM dz_points p WHERE p.status <> 'merged'"

/* Each point once in plane '' (active: some assignment is not withdrawn),
 * and once in the plane of each carrier that has or had an assignment there
 * (active: that one is not withdrawn). */
#define PLANES                                                                                     \
    "SELECT '' AS plane, cardinality(f.carriers) > 0 AS active, f.* FROM f"                        \
    " UNION ALL SELECT s.c, s.c = ANY (f.carriers), f.* FROM f, unnest(f.seen_by) s(c)"

#define DUE(cond)                                                                                  \
    "coalesce(array_agg(due_date ORDER BY due_date) FILTER (WHERE due_date IS NOT NULL AND " cond  \
    "), '{}')"
#define N(cond) "(count(*) FILTER (WHERE " cond "))::int"

/* The counters of every plane, month, province, technology and active. */
#define CELLS                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                               \
    "SELECT plane, date_trunc('month', reported_on::timestamp)::date, province_code, technology,"                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                           \
    " active, count(*)::int, " N("status = 'reported'") ","                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                 \
                                                        " " N(                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                              \
                                                            "status IN ('triaged', 'assigned', "                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                            \
                                                            "'in_progress', 'reopened')") ","                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                               \
                                                                                          " " N(                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                            \
                                                                                              "st"                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                          \
                                                                                              "at"                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                          \
                                                                                              "us"                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                          \
                                                                                              " ="                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                          \
                                                                                              " '"                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                          \
                                                                                              "bl"                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                          \
                                                                                              "oc"                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                          \
                                                                                              "ke"                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                          \
                                                                                              "d"                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                           \
                                                                                              "'") ", " N("status = 'blocked' AND blocked_reason = 'no_power'") ","                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                         \
                                                                                                                                                                " " N(                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                      \
                                                                                                                                                                    "status = 'blocked' AND blocked_reason = 'site_permit'") ","                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                            \
                                                                                                                                                                                                                             " " N(                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                         \
                                                                                                                                                                                                                                 "status = 'blocked' AND blocked_reason = 'terrain'") ","                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                   \
                                                                                                                                                                                                                                                                                      " " N("status = 'blocked' AND blocked_reason = 'investment'") ","                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                     \
                                                                                                                                                                                                                                                                                                                                                    " " N("status = 'blocked' AND blocked_reason = 'other'") ", " N("status = 'fixed'") ","                                                                                                                                                                                                                                                                                                                                                                                                                                                 \
                                                                                                                                                                                                                                                                                                                                                                                                                                        " " N(                                                                                                                                                                                                                                                                                                                                                                                                                                              \
                                                                                                                                                                                                                                                                                                                                                                                                                                            "status = 'verified'") ", " N("status = 'rejected'") ","                                                                                                                                                                                                                                                                                                                                                                                        \
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                 " " N(                                                                                                                                                                                                                                                                                                                                                                                     \
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                     "status = 'verified' AND days IS NOT NULL") ","                                                                                                                                                                                                                                                                                                                                        \
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                 " " DUE(                                                                                                                                                                                                                                                                                                                                   \
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                     "status NOT IN ('fixed', 'verified', 'rejected')") ", " DUE("status = 'blocked'") ","                                                                                                                                                                                                                                                  \
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                       " " DUE(                                                                                                                                                                                                                                             \
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                           "status = 'blocked' AND blocked_reason = 'no_power'") ","                                                                                                                                                                                        \
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                 " " DUE(                                                                                                                                                                                   \
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                     "status = 'blocked' AND blocked_reason = 'site_permit'") ","                                                                                                                           \
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                              " " DUE(                                                                                                                      \
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                  "status = 'blocked' AND blocked_reason = 'terrain'") ","                                                                  \
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                       " " DUE(                                                             \
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                           "status = 'blocked' AND blocked_reason = 'investment'") ","      \
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                   " " DUE( \
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                       "status = 'blocked' AND blocked_reason = 'other'") " FROM m GROUP BY 1, 2, 3, 4, 5"

/* The verified points' days, per plane. */
#define VERIFIED                                                                                   \
    "SELECT id, plane, province_code, technology,"                                                 \
    " date_trunc('month', reported_on::timestamp)::date, active, reported_on, days FROM m"         \
    " WHERE days IS NOT NULL"

/* "n|a difference" between table t and query q (both ways), or NULL. */
static char *differences(PGconn *c, const char *t, const char *q)
{
    return t_sqlf(
        c,
        "WITH f AS (" FACTS "), m AS (" PLANES "), want AS (%s)"
        " SELECT count(*) || '|' || coalesce(min(x), '') FROM ("
        " SELECT 'missing ' || w::text AS x FROM (TABLE want EXCEPT ALL TABLE %s) w"
        " UNION ALL SELECT 'extra ' || s::text FROM (TABLE %s EXCEPT ALL TABLE want) s) d",
        q, t, t);
}

/* The three tables are their recount, and nothing is left pending. */
static void check_recount(int line, const char *when)
{
    PGconn *c = t_sysdb();
    if (!c)
        return;
    static const struct {
        const char *table, *query;
    } cmp[] = {{"point_facts", "TABLE f"}, {"stats_cells", CELLS}, {"stats_verified", VERIFIED}};
    for (size_t i = 0; i < sizeof cmp / sizeof cmp[0]; i++) {
        char *d = differences(c, cmp[i].table, cmp[i].query);
        if (!d || strncmp(d, "0|", 2) != 0)
            t_fail(__FILE__, line, "%s: %s is not its recount: %s rows differ, e.g. %.600s", when,
                   cmp[i].table, d ? d : "(query failed)",
                   d && strchr(d, '|') ? strchr(d, '|') + 1 : "");
        free(d);
    }
    char *left = t_sql(c, "SELECT (SELECT count(*) FROM stats_deltas)"
                          " + (SELECT count(*) FROM stats_pending)");
    if (!left || strcmp(left, "0") != 0)
        t_fail(__FILE__, line, "%s: %s delta rows left behind", when, left ? left : "?");
    free(left);
    PQfinish(c);
}
#define CHECK_RECOUNT(when) check_recount(__LINE__, when)

/* Runs statements (several, separated by ;) that must succeed. */
static void run(int line, PGconn *c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void run(int line, PGconn *c, const char *fmt, ...)
{
    char q[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    PGresult *r = c ? PQexec(c, q) : NULL;
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        t_fail(__FILE__, line, "%.300s: %s", q, c ? PQerrorMessage(c) : "no connection");
    PQclear(r);
}
#define RUN(c, ...) run(__LINE__, c, __VA_ARGS__)

static long long num(PGconn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static long long num(PGconn *c, const char *fmt, ...)
{
    char q[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    char *s = t_sql(c, q);
    long long v = s ? strtoll(s, NULL, 10) : -1;
    free(s);
    return v;
}

/* ----------------------------------------------------------------- world */

static char commune_a[16], commune_b[16];
static long long P[12]; /* points made here, P[1]..P[11] */

/* A new point in Lai Châu, reported at `at` (a timestamptz literal). */
static long long new_point(PGconn *c, const char *commune, const char *tech, const char *at)
{
    return num(c,
               "INSERT INTO dz_points (geom, province_code, commune_code, technology,"
               " first_reported) VALUES (ST_SetSRID(ST_MakePoint(103.4, 22.3), 4326), '12',"
               " nullif('%s', ''), '%s', '%s') RETURNING id",
               commune, tech, at);
}

static void assign(PGconn *c, long long p, const char *carrier, int due_in_days)
{
    RUN(c,
        "INSERT INTO assignments (point_id, carrier_code, province_code, commune_code, due_date)"
        " SELECT id, '%s', province_code, commune_code,"
        " (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + %d FROM dz_points WHERE id = %lld;"
        " UPDATE dz_points SET status = 'assigned' WHERE id = %lld AND status IN ('triaged',"
        " 'reopened'); SELECT point_apply(%lld)",
        carrier, due_in_days, p, p, p);
}

/* A carrier's move on its own assignment, and the point following it. */
static void carrier_moves(PGconn *c, long long p, const char *carrier, const char *to,
                          const char *reason)
{
    RUN(c,
        "UPDATE assignments SET status = '%s', blocked_reason = nullif('%s', '')"
        " WHERE point_id = %lld AND carrier_code = '%s'; SELECT point_apply(%lld)",
        to, reason, p, carrier, p);
}

/* ----------------------------------------------------------------- tests */

TEST(geo_stats, everything_so_far_is_its_recount)
{
    /* whatever the suites before this one did through the API */
    CHECK_RECOUNT("before this suite");
}

TEST(geo_stats, the_workflow)
{
    PGconn *c = t_sysdb();
    if (!c)
        return;
    char *a = t_sql(c, "SELECT code FROM admin_units WHERE level = 'commune' AND"
                       " province_code = '12' AND valid_to IS NULL ORDER BY code LIMIT 1");
    char *b = t_sql(c, "SELECT code FROM admin_units WHERE level = 'commune' AND"
                       " province_code = '12' AND valid_to IS NULL ORDER BY code OFFSET 1 LIMIT 1");
    CHECK(a && b);
    snprintf(commune_a, sizeof commune_a, "%s", a ? a : "");
    snprintf(commune_b, sizeof commune_b, "%s", b ? b : "");
    free(a);
    free(b);
    /* reported in three months (one on the last minute of a month in
     * Vietnam, which is still the month before in UTC) */
    RUN(c, "BEGIN");
    P[1] = new_point(c, commune_a, "4G", "2025-06-30 23:59:00+07");
    P[2] = new_point(c, commune_a, "4G", "2025-07-01 00:00:00+07");
    P[3] = new_point(c, commune_b, "3G", "2025-07-15 12:00:00+07");
    P[4] = new_point(c, commune_b, "3G", "2025-08-02 08:00:00+07");
    P[5] = new_point(c, "", "5G", "2025-08-20 08:00:00+07");
    P[6] = new_point(c, "", "4G", "2025-08-21 08:00:00+07");
    P[7] = new_point(c, commune_a, "2G", "2025-09-01 08:00:00+07");
    RUN(c, "COMMIT");
    CHECK(P[1] > 0 && P[7] > 0);
    CHECK_RECOUNT("seven points reported");

    /* triaged; assigned to two carriers with different due dates (one
     * already past); started, blocked for power, power connected by the
     * utility, fixed by both, verified; one rejected */
    RUN(c, "UPDATE dz_points SET status = 'triaged' WHERE id IN (%lld, %lld, %lld, %lld, %lld)",
        P[1], P[2], P[3], P[4], P[5]);
    RUN(c, "BEGIN");
    assign(c, P[1], "viettel", 30);
    assign(c, P[1], "mobifone", -3);
    assign(c, P[2], "vinaphone", -10);
    assign(c, P[3], "viettel", 5);
    RUN(c, "COMMIT");
    CHECK_RECOUNT("assigned");
    carrier_moves(c, P[1], "viettel", "in_progress", "");
    carrier_moves(c, P[1], "mobifone", "blocked", "no_power");
    carrier_moves(c, P[2], "vinaphone", "blocked", "site_permit");
    carrier_moves(c, P[3], "viettel", "blocked", "no_power");
    CHECK_INT(num(c,
                  "SELECT count(*) FROM dz_points WHERE id IN (%lld, %lld) AND status ="
                  " 'blocked'",
                  P[2], P[3]),
              2);
    CHECK_RECOUNT("in progress and blocked");
    RUN(c,
        "BEGIN; SELECT set_config('lomsong.role', 'utility', true),"
        " set_config('lomsong.province', '12', true); SELECT power_connected(%lld);"
        " SELECT set_config('lomsong.role', 'system', true); SELECT point_apply(%lld); COMMIT",
        P[3], P[3]);
    CHECK_INT(
        num(c, "SELECT count(*) FROM dz_points WHERE id = %lld AND status = 'in_progress'", P[3]),
        1);
    CHECK_RECOUNT("power connected");
    carrier_moves(c, P[1], "viettel", "fixed", "");
    carrier_moves(c, P[1], "mobifone", "fixed", "");
    carrier_moves(c, P[3], "viettel", "fixed", "");
    CHECK_RECOUNT("fixed");
    /* verified as verify_points() does it, at known times */
    RUN(c,
        "UPDATE dz_points SET status = 'verified', verified_at = first_reported + interval"
        " '40 days 3 hours' WHERE id = %lld; UPDATE assignments SET status = 'verified'"
        " WHERE point_id = %lld; UPDATE dz_points SET status = 'verified', verified_at ="
        " first_reported + interval '12 days' WHERE id = %lld",
        P[1], P[1], P[3]);
    RUN(c,
        "UPDATE dz_points SET status = 'rejected', rejected_reason = 'duplicate' WHERE id ="
        " %lld",
        P[4]);
    CHECK_RECOUNT("verified and rejected");
    /* reopened: no longer verified, still has its verified_at */
    RUN(c, "UPDATE dz_points SET status = 'reopened' WHERE id = %lld", P[3]);
    CHECK_RECOUNT("reopened");
    RUN(c, "UPDATE dz_points SET status = 'verified' WHERE id = %lld", P[3]);
    /* a withdrawn assignment: the point leaves that carrier's active
     * counters, not its plane */
    RUN(c,
        "UPDATE assignments SET status = 'withdrawn' WHERE point_id = %lld AND carrier_code ="
        " 'vinaphone'; UPDATE dz_points SET status = 'triaged' WHERE id = %lld",
        P[2], P[2]);
    CHECK_RECOUNT("withdrawn");
    PQfinish(c);
}

TEST(geo_stats, merges_and_splits)
{
    PGconn *c = t_sysdb();
    if (!c || P[6] <= 0)
        return;
    /* P6 is merged into P5, its assignment following it; then a report of
     * P5 is split off into a new point P8, which takes an assignment */
    RUN(c, "BEGIN");
    assign(c, P[6], "vietnamobile", 20);
    RUN(c, "COMMIT");
    RUN(c,
        "BEGIN; UPDATE dz_points SET status = 'merged', merged_into = %lld WHERE id = %lld;"
        " UPDATE assignments SET point_id = %lld WHERE point_id = %lld;"
        " UPDATE dz_points SET first_reported = '2025-08-20 07:00:00+07', report_count ="
        " report_count + 1 WHERE id = %lld; SELECT point_apply(%lld); COMMIT",
        P[5], P[6], P[5], P[6], P[5], P[5]);
    CHECK_RECOUNT("merged");
    P[8] = new_point(c, commune_b, "5G", "2025-08-20 07:00:00+07");
    RUN(c,
        "BEGIN; UPDATE dz_points SET status = 'triaged' WHERE id = %lld;"
        " UPDATE assignments SET point_id = %lld WHERE point_id = %lld; SELECT point_apply(%lld);"
        " SELECT point_apply(%lld); COMMIT",
        P[8], P[8], P[5], P[8], P[5]);
    CHECK_RECOUNT("split");
    PQfinish(c);
}

TEST(geo_stats, changes_by_hand)
{
    PGconn *c = t_sysdb();
    if (!c || P[7] <= 0)
        return;
    /* due dates moved; a report date moved into another month and year; a
     * point moved to another province, commune and technology; days to
     * verified changed; blocked with no reason */
    RUN(c, "UPDATE dz_points SET due_date = due_date - 100 WHERE id = %lld", P[2]);
    RUN(c, "UPDATE dz_points SET first_reported = '2024-12-31 23:30:00+07' WHERE id = %lld", P[7]);
    RUN(c,
        "UPDATE dz_points SET province_code = '14', commune_code = NULL, technology = '3G'"
        " WHERE id = %lld",
        P[4]);
    RUN(c, "UPDATE dz_points SET verified_at = verified_at + interval '36 hours' WHERE id = %lld",
        P[1]);
    RUN(c,
        "UPDATE dz_points SET status = 'blocked', blocked_reason = NULL, due_date ="
        " (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date - 1 WHERE id = %lld",
        P[7]);
    CHECK_RECOUNT("changed by hand");
    /* an assignment given to another carrier, one moved to another point,
     * one deleted; a point with no history deleted */
    RUN(c,
        "UPDATE assignments SET carrier_code = 'vinaphone' WHERE point_id = %lld AND"
        " carrier_code = 'viettel'",
        P[3]);
    RUN(c, "UPDATE assignments SET point_id = %lld WHERE point_id = %lld", P[7], P[2]);
    CHECK_RECOUNT("assignments changed");
    P[9] = new_point(c, commune_a, "4G", "2025-09-09 09:00:00+07");
    RUN(c, "BEGIN");
    assign(c, P[9], "mobifone", 1);
    RUN(c, "COMMIT");
    PQfinish(c);
    /* rows are deleted by nobody but a superuser (no policy allows it) */
    const char *super = getenv("LOMSONG_TEST_SUPER_DB");
    CHECK(super != NULL);
    c = super ? t_connect(super) : NULL;
    if (!c)
        return;
    CHECK_INT(num(c,
                  "WITH d AS (DELETE FROM assignments WHERE point_id = %lld RETURNING 1)"
                  " SELECT count(*) FROM d",
                  P[9]),
              1);
    CHECK_RECOUNT("assignment deleted");
    CHECK_INT(num(c,
                  "WITH d AS (DELETE FROM dz_points WHERE id = %lld RETURNING 1)"
                  " SELECT count(*) FROM d",
                  P[9]),
              1);
    CHECK_RECOUNT("point deleted");
    PQfinish(c);
}

TEST(geo_stats, rollbacks_and_savepoints)
{
    PGconn *c = t_sysdb();
    if (!c || P[5] <= 0)
        return;
    char *before = t_sql(c, "SELECT md5(string_agg(s::text, ',' ORDER BY s::text)) FROM"
                            " stats_cells s");
    RUN(c, "BEGIN; UPDATE dz_points SET status = 'rejected' WHERE id = %lld", P[5]);
    RUN(c, "ROLLBACK");
    char *after = t_sql(c, "SELECT md5(string_agg(s::text, ',' ORDER BY s::text)) FROM"
                           " stats_cells s");
    CHECK_STR(after, before);
    free(before);
    free(after);
    CHECK_RECOUNT("rolled back");
    /* the change before a savepoint stays, the one after it goes */
    RUN(c,
        "BEGIN; UPDATE dz_points SET due_date = '2025-12-01' WHERE id = %lld; SAVEPOINT s;"
        " UPDATE dz_points SET status = 'rejected' WHERE id = %lld; ROLLBACK TO SAVEPOINT s;"
        " COMMIT",
        P[5], P[5]);
    CHECK_INT(num(c,
                  "SELECT count(*) FROM point_facts WHERE point_id = %lld AND status <>"
                  " 'rejected' AND due_date = '2025-12-01'",
                  P[5]),
              1);
    CHECK_RECOUNT("savepoint");
    /* a point changed and changed back in one transaction; the counters
     * folded half-way (SET CONSTRAINTS), then changed again */
    RUN(c,
        "BEGIN; UPDATE dz_points SET status = 'fixed' WHERE id = %lld;"
        " UPDATE dz_points SET status = 'assigned' WHERE id = %lld;"
        " SET CONSTRAINTS ALL IMMEDIATE; UPDATE dz_points SET due_date = due_date + 1"
        " WHERE id = %lld; COMMIT",
        P[5], P[5], P[5]);
    CHECK_RECOUNT("changed twice, folded half-way");
    PQfinish(c);
}

/* 1 when backend `pid` is waiting for a lock. */
static int waiting(PGconn *watch, const char *pid)
{
    for (int i = 0; i < 100; i++) {
        if (num(watch, "SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", pid) > 0)
            return 1;
        usleep(20000);
    }
    return 0;
}

/* Waits for the one result of an asynchronous command: 1 when it succeeded. */
static int finished_ok(PGconn *c)
{
    int ok = 1;
    PGresult *r;
    while ((r = PQgetResult(c)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            t_fail(__FILE__, __LINE__, "%s", PQresultErrorMessage(r));
            ok = 0;
        }
        PQclear(r);
    }
    return ok;
}

TEST(geo_stats, two_transactions_on_one_point)
{
    PGconn *a = t_sysdb(), *b = t_sysdb(), *watch = t_sysdb();
    if (!a || !b || !watch || P[5] <= 0) {
        PQfinish(a);
        PQfinish(b);
        PQfinish(watch);
        return;
    }
    char *bpid = t_sql(b, "SELECT pg_backend_pid()");
    /* A assigns a carrier (not committed); B changes the point's due date:
     * B waits for A, then derives the facts from what A committed, so the
     * carrier is not lost */
    RUN(a,
        "BEGIN; INSERT INTO assignments (point_id, carrier_code, province_code) VALUES (%lld,"
        " 'vinaphone', '12')",
        P[5]);
    char q[256];
    snprintf(q, sizeof q,
             "BEGIN; UPDATE dz_points SET due_date = '2026-01-02' WHERE id = %lld; COMMIT", P[5]);
    CHECK(PQsendQuery(b, q) == 1);
    CHECK(waiting(watch, bpid ? bpid : "0"));
    RUN(a, "COMMIT");
    CHECK(finished_ok(b));
    CHECK_INT(num(watch,
                  "SELECT count(*) FROM point_facts WHERE point_id = %lld AND"
                  " 'vinaphone' = ANY (carriers) AND due_date = '2026-01-02'",
                  P[5]),
              1);
    CHECK_RECOUNT("an assignment and a point's change at once");
    /* the other way round: A changes the point, B withdraws an assignment */
    RUN(a, "BEGIN; UPDATE dz_points SET status = 'in_progress' WHERE id = %lld", P[5]);
    snprintf(q, sizeof q,
             "BEGIN; UPDATE assignments SET status = 'withdrawn' WHERE point_id = %lld AND"
             " carrier_code = 'vinaphone'; COMMIT",
             P[5]);
    CHECK(PQsendQuery(b, q) == 1);
    CHECK(waiting(watch, bpid ? bpid : "0"));
    RUN(a, "COMMIT");
    CHECK(finished_ok(b));
    CHECK_INT(num(watch,
                  "SELECT count(*) FROM point_facts WHERE point_id = %lld AND status ="
                  " 'in_progress' AND NOT 'vinaphone' = ANY (carriers) AND 'vinaphone' ="
                  " ANY (seen_by)",
                  P[5]),
              1);
    CHECK_RECOUNT("a point's change and an assignment's at once");
    free(bpid);
    PQfinish(a);
    PQfinish(b);
    PQfinish(watch);
}

TEST(geo_stats, counters_are_taken_at_commit_only)
{
    PGconn *a = t_sysdb(), *b = t_sysdb(), *watch = t_sysdb();
    if (!a || !b || !watch || P[1] <= 0) {
        PQfinish(a);
        PQfinish(b);
        PQfinish(watch);
        return;
    }
    /* Q, reported in July, shares P1's counters (plane '', Lai Châu, 4G, an
     * active assignment; Viettel's plane): B moves P1 from June into July,
     * A moves Q from July into June.  B folds now (SET CONSTRAINTS) and
     * keeps those counters locked until it commits. */
    RUN(a, "BEGIN");
    P[10] = new_point(a, commune_a, "4G", "2025-07-10 08:00:00+07");
    RUN(a, "UPDATE dz_points SET status = 'triaged' WHERE id = %lld", P[10]);
    assign(a, P[10], "viettel", 15);
    RUN(a, "COMMIT");
    RUN(b,
        "BEGIN; UPDATE dz_points SET first_reported = '2025-07-03 08:00+07' WHERE id = %lld;"
        " SET CONSTRAINTS ALL IMMEDIATE",
        P[1]);
    /* A's change to the same counters does not wait: it writes deltas ... */
    RUN(a, "BEGIN; UPDATE dz_points SET first_reported = '2025-06-30 08:00+07' WHERE id = %lld",
        P[10]);
    /* ... its commit does, until B's commit; neither deadlocks */
    char *apid = t_sql(a, "SELECT pg_backend_pid()");
    CHECK(PQsendQuery(a, "COMMIT") == 1);
    CHECK(waiting(watch, apid ? apid : "0"));
    RUN(b, "COMMIT");
    CHECK(finished_ok(a));
    CHECK_INT(num(watch,
                  "SELECT count(*) FROM point_facts WHERE (point_id, reported_on) IN ((%lld,"
                  " '2025-07-03'), (%lld, '2025-06-30'))",
                  P[1], P[10]),
              2);
    CHECK_RECOUNT("two transactions on the same counters");
    free(apid);
    PQfinish(a);
    PQfinish(b);
    PQfinish(watch);
}

/* As the application role in a context: the value of `sql`. */
static long long as(const char *role, const char *province, const char *commune,
                    const char *carrier, const char *sql)
{
    PGconn *c = t_connect(t_app_db());
    if (!c)
        return -1;
    const char *p[] = {role, province, commune, carrier};
    PGresult *r = PQexec(c, "BEGIN");
    PQclear(r);
    r = PQexecParams(c,
                     "SELECT set_config('lomsong.role', $1, true),"
                     " set_config('lomsong.province', $2, true),"
                     " set_config('lomsong.commune', $3, true),"
                     " set_config('lomsong.carrier', $4, true)",
                     4, NULL, p, NULL, NULL, 0);
    PQclear(r);
    long long v = num(c, "%s", sql);
    PQfinish(c);
    return v;
}

/* The points of point_facts a caller sees are those of dz_points it sees
 * (not merged), no more, no fewer. */
#define SAME_POINTS                                                                                \
    "SELECT count(*) FROM ((SELECT point_id FROM point_facts EXCEPT SELECT id FROM dz_points"      \
    " WHERE status <> 'merged') UNION ALL (SELECT id FROM dz_points WHERE status <> 'merged'"      \
    " EXCEPT SELECT point_id FROM point_facts)) d"

TEST(geo_stats, row_level_security)
{
    if (!*commune_a) {
        t_fail(__FILE__, __LINE__, "no commune: the world was not built");
        return;
    }
    PGconn *c = t_sysdb();
    long long mine = num(c, "SELECT count(*) FROM dz_points WHERE province_code = '12' AND"
                            " status <> 'merged'");
    long long in_a = num(c,
                         "SELECT count(*) FROM dz_points WHERE commune_code = '%s' AND status <>"
                         " 'merged'",
                         commune_a);
    long long all = num(c, "SELECT count(*) FROM point_facts");
    long long cells12 = num(c, "SELECT count(*) FROM stats_cells WHERE province_code = '12'");
    long long verified12 = num(c, "SELECT count(*) FROM stats_verified WHERE province_code = '12'");
    /* VinaPhone's assignments on P5 and P7 are withdrawn: it still sees them */
    CHECK_INT(num(c,
                  "SELECT count(*) FROM assignments WHERE point_id IN (%lld, %lld) AND"
                  " carrier_code = 'vinaphone' AND status = 'withdrawn'",
                  P[5], P[7]),
              2);
    PQfinish(c);
    CHECK(mine >= 6 && in_a >= 2 && cells12 >= 4 && verified12 >= 2);

    /* the ministry: everything */
    CHECK_INT(as("ministry", "", "", "", "SELECT count(*) FROM point_facts"), all);
    CHECK_INT(as("ministry", "", "", "", SAME_POINTS), 0);
    /* a province: the facts and counters of its area (every plane) */
    CHECK_INT(as("locality", "12", "", "", "SELECT count(*) FROM point_facts"), mine);
    CHECK_INT(as("locality", "12", "", "", SAME_POINTS), 0);
    CHECK_INT(as("locality", "12", "", "", "SELECT count(*) FROM stats_cells"), cells12);
    CHECK_INT(as("locality", "12", "", "", "SELECT count(*) FROM stats_verified"), verified12);
    CHECK_INT(as("locality", "12", "", "",
                 "SELECT (SELECT count(*) FROM point_facts WHERE province_code <> '12')"
                 " + (SELECT count(*) FROM stats_cells WHERE province_code <> '12')"
                 " + (SELECT count(*) FROM stats_verified WHERE province_code <> '12')"),
              0);
    /* a commune: its own facts; no counters (they count the province) */
    CHECK_INT(as("locality", "12", commune_a, "", "SELECT count(*) FROM point_facts"), in_a);
    CHECK_INT(as("locality", "12", commune_a, "", SAME_POINTS), 0);
    CHECK_INT(as("locality", "12", commune_a, "",
                 "SELECT (SELECT count(*) FROM stats_cells)"
                 " + (SELECT count(*) FROM stats_verified)"),
              0);
    /* a carrier: the points it has or had an assignment on, its own planes */
    static const char *const carriers[] = {"viettel", "vinaphone"};
    for (size_t i = 0; i < 2; i++) {
        const char *k = carriers[i];
        c = t_sysdb();
        long long cells = num(c, "SELECT count(*) FROM stats_cells WHERE plane = '%s'", k);
        long long ver = num(c, "SELECT count(*) FROM stats_verified WHERE plane = '%s'", k);
        PQfinish(c);
        CHECK(cells >= 1);
        CHECK_INT(as("carrier", "", "", k, SAME_POINTS), 0);
        CHECK_INT(as("carrier", "", "", k, "SELECT count(*) FROM stats_cells"), cells);
        CHECK_INT(as("carrier", "", "", k, "SELECT count(*) FROM stats_verified"), ver);
        char q[160];
        snprintf(q, sizeof q,
                 "SELECT (SELECT count(*) FROM stats_cells WHERE plane <> '%s')"
                 " + (SELECT count(*) FROM stats_verified WHERE plane <> '%s')",
                 k, k);
        CHECK_INT(as("carrier", "", "", k, q), 0);
    }
    /* roles the statistics do not serve, and no role: nothing */
    static const char *const none[] = {"utility", "public", ""};
    static const char *const tables[] = {"point_facts", "stats_cells", "stats_verified"};
    for (size_t i = 0; i < 3; i++)
        for (size_t k = 0; k < 3; k++) {
            char q[128];
            snprintf(q, sizeof q, "SELECT count(*) FROM %s", tables[k]);
            long long n = as(none[i], "12", "", "viettel", q);
            if (n != 0)
                t_fail(__FILE__, __LINE__, "role '%s' sees %lld rows of %s", none[i], n, tables[k]);
        }

    /* the application role writes none of it, and cannot make a point's
     * facts derived again */
    PGconn *app = t_connect(t_app_db());
    static const char *const writes[] = {
        "DELETE FROM point_facts",
        "UPDATE stats_cells SET received = 0",
        "INSERT INTO stats_verified VALUES (1, '', '12', '4G', '2025-01-01', true, '2025-01-01', "
        "1)",
        "SELECT stats_point_refresh(1)",
        "DELETE FROM stats_deltas",
    };
    for (size_t i = 0; app && i < sizeof writes / sizeof writes[0]; i++) {
        PGresult *r = PQexec(app, "BEGIN; SELECT set_config('lomsong.role', 'ministry', true)");
        PQclear(r);
        r = PQexec(app, writes[i]);
        if (PQresultStatus(r) != PGRES_FATAL_ERROR ||
            !strstr(PQresultErrorMessage(r), "permission denied"))
            t_fail(__FILE__, __LINE__, "%s as the application role: %s", writes[i],
                   PQresultStatus(r) == PGRES_FATAL_ERROR ? PQresultErrorMessage(r) : "allowed");
        PQclear(r);
        r = PQexec(app, "ROLLBACK");
        PQclear(r);
    }
    PQfinish(app);
}

TEST(geo_stats, still_its_recount)
{
    CHECK_RECOUNT("at the end");
}
