/*
 * h_stats.c — live progress: the report MIC used to compile by hand, read
 * straight from the points' current state.  Counts are over the dead-zone
 * points first reported in [from, to] (Vietnam dates), scoped by row-level
 * security: a locality sees its area, a carrier the points assigned to it,
 * the ministry everything.  Breakdowns by province, carrier, technology,
 * month or blocking reason; JSON, or CSV / XLSX through GDAL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "handlers.h"
#include "../geo/db.h"
#include "../maps/out_table.h"

/* One set of counts over the rows in scope (a group, or all of them). */
#define COUNTS                                                                                     \
    "jsonb_build_object('received', count(*),"                                                     \
    " 'awaiting_triage', count(*) FILTER (WHERE status = 'reported'),"                             \
    " 'in_progress', count(*) FILTER (WHERE status IN ('triaged', 'assigned', 'in_progress',"      \
    "  'reopened')),"                                                                              \
    " 'blocked', count(*) FILTER (WHERE status = 'blocked'),"                                      \
    " 'blocked_by_reason', jsonb_build_object("                                                    \
    "  'no_power', count(*) FILTER (WHERE status = 'blocked' AND blocked_reason = 'no_power'),"    \
    "  'site_permit', count(*) FILTER (WHERE status = 'blocked' AND blocked_reason = "             \
    "'site_permit'),"                                                                              \
    "  'terrain', count(*) FILTER (WHERE status = 'blocked' AND blocked_reason = 'terrain'),"      \
    "  'investment', count(*) FILTER (WHERE status = 'blocked' AND blocked_reason = "              \
    "'investment'),"                                                                               \
    "  'other', count(*) FILTER (WHERE status = 'blocked' AND blocked_reason = 'other')),"         \
    " 'fixed_not_verified', count(*) FILTER (WHERE status = 'fixed'),"                             \
    " 'verified', count(*) FILTER (WHERE status = 'verified'),"                                    \
    " 'rejected', count(*) FILTER (WHERE status = 'rejected'),"                                    \
    " 'overdue', count(*) FILTER (WHERE due_date < (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"  \
    "  AND status NOT IN ('fixed', 'verified', 'rejected', 'merged')),"                            \
    " 'median_days_to_verified', round((percentile_cont(0.5) WITHIN GROUP (ORDER BY"               \
    "  extract(epoch FROM verified_at - first_reported) / 86400.0)"                                \
    "  FILTER (WHERE status = 'verified'))::numeric, 2))"

/* The points in scope, first reported within [$1, $2]. */
#define POINTS                                                                                     \
    "SELECT p.* FROM dz_points p WHERE p.status <> 'merged'"                                       \
    " AND ($1::date IS NULL OR (p.first_reported AT TIME ZONE 'Asia/Ho_Chi_Minh')::date >= $1)"    \
    " AND ($2::date IS NULL OR (p.first_reported AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= $2)"

struct breakdown {
    const char *by;
    const char *keyed; /* SELECT key, <point columns> FROM pts ... (an allowlist) */
    const char *name;  /* the name of group g's key, looked up once per group */
};

static const struct breakdown breakdowns[] = {
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

static ls_status period(api_request *rq, const char **from, const char **to)
{
    *from = api_query(rq, "from");
    *to = api_query(rq, "to");
    if ((*from && cli_check_date(*from) != 0) || (*to && cli_check_date(*to) != 0))
        return api_fail(rq, LS_EINVAL, "from and to must be dates YYYY-MM-DD");
    return LS_OK;
}

static const char *const csv_cols[] = {"key",
                                       "name",
                                       "received",
                                       "awaiting_triage",
                                       "in_progress",
                                       "blocked",
                                       "blocked_no_power",
                                       "blocked_site_permit",
                                       "blocked_terrain",
                                       "blocked_investment",
                                       "blocked_other",
                                       "fixed_not_verified",
                                       "verified",
                                       "rejected",
                                       "overdue",
                                       "median_days_to_verified"};

ls_status api_h_stats_progress(api_request *rq)
{
    const char *by = api_query(rq, "by"), *from, *to;
    if (!by)
        by = "province";
    const struct breakdown *b = NULL;
    for (size_t i = 0; i < LS_ARRAY_LEN(breakdowns); i++)
        if (strcmp(by, breakdowns[i].by) == 0)
            b = &breakdowns[i];
    if (!b)
        return api_fail(rq, LS_EINVAL, "by must be province, carrier, tech, month or reason");
    ls_status st = period(rq, &from, &to);
    if (st != LS_OK)
        return st;
    const char *format = api_query(rq, "format");
    if (format && strcmp(format, "json") && strcmp(format, "csv") && strcmp(format, "xlsx"))
        return api_fail(rq, LS_EINVAL, "format must be json, csv or xlsx");

    char sql[8192];
    snprintf(sql, sizeof(sql),
             "WITH pts AS (" POINTS "), keyed AS (%s),"
             " grouped AS (SELECT key, " COUNTS " AS c FROM keyed GROUP BY key)"
             " SELECT jsonb_build_object('by', $3::text, 'from', $1::date, 'to', $2::date,"
             " 'rows', coalesce((SELECT jsonb_agg(jsonb_build_object('key', g.key, 'name', %s)"
             "  || g.c ORDER BY g.key NULLS LAST) FROM grouped g), '[]'::jsonb),"
             " 'totals', (SELECT " COUNTS " FROM pts))::text",
             b->keyed, b->name);
    const char *p[] = {from, to, by};
    if (!format || strcmp(format, "json") == 0)
        return api_reply_sql(rq, "stats: progress", sql, 3, p, "application/json", NULL);

    /* CSV / XLSX: the same rows through GDAL, one line per row. */
    PGconn *c = NULL;
    if ((st = api_db(rq, &c)) != LS_OK)
        return st;
    char flat[9000];
    snprintf(flat, sizeof(flat),
             "SELECT r->>'key', r->>'name', r->>'received', r->>'awaiting_triage',"
             " r->>'in_progress', r->>'blocked', r->'blocked_by_reason'->>'no_power',"
             " r->'blocked_by_reason'->>'site_permit', r->'blocked_by_reason'->>'terrain',"
             " r->'blocked_by_reason'->>'investment', r->'blocked_by_reason'->>'other',"
             " r->>'fixed_not_verified', r->>'verified', r->>'rejected', r->>'overdue',"
             " r->>'median_days_to_verified'"
             " FROM jsonb_array_elements((%s)::jsonb->'rows') r",
             sql);
    PGresult *r = NULL;
    st = db_query(c, "stats: table", flat, 3, p, &r, NULL, 0);
    if (st != LS_OK)
        return api_fail(rq, st, "the statistics could not be read");
    char path[] = "/tmp/lomsong-stats-XXXXXX";
    int is_csv = strcmp(format, "csv") == 0;
    char out[64];
    st = maps_table_write(r, csv_cols, (int)LS_ARRAY_LEN(csv_cols), is_csv ? "CSV" : "XLSX", path,
                          is_csv ? "csv" : "xlsx", out, sizeof(out));
    PQclear(r);
    if (st != LS_OK)
        return api_fail(rq, st, "the table could not be written");
    char *disp = arena_printf(rq->a, "attachment; filename=\"progress-by-%s.%s\"", by,
                              is_csv ? "csv" : "xlsx");
    if (disp)
        api_add_header(rq, "Content-Disposition", disp);
    st =
        api_reply_file(rq, 200,
                       is_csv ? "text/csv; charset=utf-8"
                              : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       out);
    unlink(out); /* the open descriptor keeps the data until it is sent */
    return st;
}

ls_status api_h_stats_summary(api_request *rq)
{
    const char *from, *to;
    ls_status st = period(rq, &from, &to);
    if (st != LS_OK)
        return st;
    const char *p[] = {from, to};
    return api_reply_sql(
        rq, "stats: summary",
        "WITH pts AS (" POINTS "), s AS (SELECT " COUNTS " AS c FROM pts)"
        " SELECT (jsonb_build_object('from', $1::date, 'to', $2::date) || s.c"
        " || jsonb_build_object('headline', format('%s received, %s verified, %s fixed awaiting"
        " verification, %s in progress, %s blocked%s, %s overdue',"
        "  s.c->>'received', s.c->>'verified', s.c->>'fixed_not_verified', s.c->>'in_progress',"
        "  s.c->>'blocked', CASE WHEN (s.c->>'blocked')::int > 0 THEN ': ' || (SELECT"
        "   string_agg(replace(k, '_', ' ') || ' ' || v, ', ' ORDER BY k) FROM"
        "   jsonb_each_text(s.c->'blocked_by_reason') AS e(k, v) WHERE v <> '0') ELSE '' END,"
        "  s.c->>'overdue')))::text FROM s",
        2, p, "application/json", NULL);
}
