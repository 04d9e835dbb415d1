/*
 * h_stats.c — live progress: the report MIC used to compile by hand, read
 * straight from the points' current state.  Counts are over the dead-zone
 * points first reported in [from, to] (Vietnam dates), scoped by row-level
 * security: a locality sees its area, a carrier the points assigned to it,
 * the ministry everything.  Breakdowns by province, carrier, technology,
 * month or blocking reason; JSON, or CSV / XLSX through GDAL.
 *
 * At 100,000 points the answer must not aggregate the points at request
 * time, so it reads what geo/sql/008_stats.sql keeps current:
 *
 *   cells   stats_cells: counters per plane x month first reported x
 *           province x technology x active, for the months that lie wholly
 *           in [from, to].  The ministry reads plane '' (each point once; for
 *           by=carrier the carriers' planes), a province the same cells of
 *           its own province, a carrier its own plane.  Overdue: the cell's
 *           sorted due dates before today, by binary search (width_bucket).
 *   edges   point_facts of the points first reported in a month the window
 *           cuts, counted one by one; for a commune (no dimension of the
 *           cells), the facts of its whole area.
 *   median  the verified points' days to verified at rank (n - 1) / 2 of an
 *           index of stats_verified, interpolated as percentile_cont does
 *           (a commune: percentile_cont over its facts).
 *
 * Row-level security binds every table read here; the explicit scope
 * filters below only let PostgreSQL use an index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "handlers.h"
#include "../geo/db.h"
#include "../maps/out_table.h"

/* The window's ends and the cells' months, as expressions of $1 (from)
 * and $2 (to) that PostgreSQL folds into constants when it plans the query
 * (so that it picks its indexes for the dates asked): lo..hi the dates;
 * [FM0, TM0) the first days of the months wholly inside them. */
#define LO "coalesce($1::date, '-infinity')"
#define HI "coalesce($2::date, 'infinity')"
#define FM0                                                                                        \
    "(CASE WHEN $1::date IS NULL THEN '-infinity'::date ELSE (date_trunc('month',"                 \
    " ($1::date - 1)::timestamp) + interval '1 month')::date END)"
#define TM0                                                                                        \
    "(CASE WHEN $2::date IS NULL THEN 'infinity'::date"                                            \
    " ELSE date_trunc('month', ($2::date + 1)::timestamp)::date END)"
/* Today and yesterday in Vietnam: d.today and d.yesterday of the one-row
 * CTE d, joined where they are needed. */
#define DAYS                                                                                       \
    "d AS (SELECT (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS today,"                         \
    " (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date - 1 AS yesterday)"

/* The columns every part of an answer has, and their sums. */
#define PART_COLS                                                                                  \
    "(key, received, reported, in_progress, blocked, no_power, site_permit, terrain, investment,"  \
    " other, fixed, verified, rejected, overdue, timed)"
#define SUMS                                                                                       \
    "sum(received) AS received, sum(reported) AS reported, sum(in_progress) AS in_progress,"       \
    " sum(blocked) AS blocked, sum(no_power) AS no_power, sum(site_permit) AS site_permit,"        \
    " sum(terrain) AS terrain, sum(investment) AS investment, sum(other) AS other,"                \
    " sum(fixed) AS fixed, sum(verified) AS verified, sum(rejected) AS rejected,"                  \
    " sum(overdue) AS overdue, sum(timed) AS timed"

/* One fact's counts (timed: verified with days to verified, the medians' n). */
#define FACT_COUNTS                                                                                \
    "1, (f.status = 'reported')::int,"                                                             \
    " (f.status IN ('triaged', 'assigned', 'in_progress', 'reopened'))::int,"                      \
    " (f.status = 'blocked')::int,"                                                                \
    " (f.status = 'blocked' AND f.blocked_reason IS NOT DISTINCT FROM 'no_power')::int,"           \
    " (f.status = 'blocked' AND f.blocked_reason IS NOT DISTINCT FROM 'site_permit')::int,"        \
    " (f.status = 'blocked' AND f.blocked_reason IS NOT DISTINCT FROM 'terrain')::int,"            \
    " (f.status = 'blocked' AND f.blocked_reason IS NOT DISTINCT FROM 'investment')::int,"         \
    " (f.status = 'blocked' AND f.blocked_reason IS NOT DISTINCT FROM 'other')::int,"              \
    " (f.status = 'fixed')::int, (f.status = 'verified')::int, (f.status = 'rejected')::int,"      \
    " coalesce(f.due_date < d.today AND f.status NOT IN ('fixed', 'verified', 'rejected',"         \
    " 'merged'), false)::int, (f.status = 'verified' AND f.days_to_verified IS NOT NULL)::int"

/* One cell's counts. */
#define CELL_COUNTS                                                                                \
    "c.received, c.reported, c.in_progress, c.blocked, c.no_power, c.site_permit, c.terrain,"      \
    " c.investment, c.other, c.fixed, c.verified, c.rejected,"                                     \
    " width_bucket(d.yesterday, c.open_due), c.timed"

/* The cells' counts for by=reason: summed (with their overdue), then one
 * row per reason and one (key NULL) for points blocked with no reason.
 * Takes the cells' plane and months (printf). */
#define REASON_CELLS                                                                               \
    "SELECT r.key, r.n, 0, 0, r.n, CASE WHEN r.key = 'no_power' THEN r.n ELSE 0 END,"              \
    " CASE WHEN r.key = 'site_permit' THEN r.n ELSE 0 END,"                                        \
    " CASE WHEN r.key = 'terrain' THEN r.n ELSE 0 END,"                                            \
    " CASE WHEN r.key = 'investment' THEN r.n ELSE 0 END,"                                         \
    " CASE WHEN r.key = 'other' THEN r.n ELSE 0 END, 0, 0, 0, r.due, 0"                            \
    " FROM (SELECT sum(c.no_power) AS np, sum(c.site_permit) AS sp, sum(c.terrain) AS te,"         \
    " sum(c.investment) AS iv, sum(c.other) AS ot, sum(c.blocked) AS bl,"                          \
    " sum(width_bucket(d.yesterday, c.no_power_due)) AS np_due,"                                   \
    " sum(width_bucket(d.yesterday, c.site_permit_due)) AS sp_due,"                                \
    " sum(width_bucket(d.yesterday, c.terrain_due)) AS te_due,"                                    \
    " sum(width_bucket(d.yesterday, c.investment_due)) AS iv_due,"                                 \
    " sum(width_bucket(d.yesterday, c.other_due)) AS ot_due,"                                      \
    " sum(width_bucket(d.yesterday, c.blocked_due)) AS bl_due"                                     \
    " FROM d, stats_cells c WHERE c.plane = %s%s) c CROSS JOIN LATERAL (VALUES"                    \
    " ('no_power', c.np, c.np_due), ('site_permit', c.sp, c.sp_due),"                              \
    " ('terrain', c.te, c.te_due), ('investment', c.iv, c.iv_due), ('other', c.ot, c.ot_due),"     \
    " (NULL, c.bl - c.np - c.sp - c.te - c.iv - c.ot,"                                             \
    " c.bl_due - c.np_due - c.sp_due - c.te_due - c.iv_due - c.ot_due)) r(key, n, due)"            \
    " WHERE r.n IS NOT NULL"

/* The median of the n = s.timed verified points of stats_verified rows v
 * matching `cond` and the window: the value at rank (n - 1) / 2 (and the
 * next one, n even), interpolated as percentile_cont(0.5) does (n in
 * integers: a sum of sums is numeric, and OFFSET would round 0.5 up).  A
 * printf format (%% for %). */
#define RANK_MEDIAN(s, cond)                                                                       \
    "CASE WHEN " s ".timed > 0 THEN (SELECT CASE WHEN count(*) = 1 THEN min(x.d)"                  \
    " ELSE min(x.d) + (max(x.d) - min(x.d)) * 0.5 END FROM (SELECT v.days AS d"                    \
    " FROM stats_verified v WHERE " cond " AND v.reported_on >= " LO " AND v.reported_on <= " HI   \
    " ORDER BY v.days OFFSET (" s ".timed::bigint - 1) / 2 LIMIT 2 - " s ".timed::bigint %% 2) x)" \
    " END"

/* The counts of s (sums, may be NULL over nothing) and median md. */
#define COUNTS_JSON(s, md)                                                                         \
    "jsonb_build_object('received', coalesce(" s ".received, 0),"                                  \
    " 'awaiting_triage', coalesce(" s ".reported, 0),"                                             \
    " 'in_progress', coalesce(" s ".in_progress, 0), 'blocked', coalesce(" s ".blocked, 0),"       \
    " 'blocked_by_reason', jsonb_build_object('no_power', coalesce(" s ".no_power, 0),"            \
    "  'site_permit', coalesce(" s ".site_permit, 0), 'terrain', coalesce(" s ".terrain, 0),"      \
    "  'investment', coalesce(" s ".investment, 0), 'other', coalesce(" s ".other, 0)),"           \
    " 'fixed_not_verified', coalesce(" s ".fixed, 0), 'verified', coalesce(" s ".verified, 0),"    \
    " 'rejected', coalesce(" s ".rejected, 0), 'overdue', coalesce(" s ".overdue, 0),"             \
    " 'median_days_to_verified', round((" md ")::numeric, 2))"

/* The pieces above as they are used: a row's counts and median (g.m), the
 * totals' (their median a %s), a group's median on a condition (a %s). */
#define ROW_JSON COUNTS_JSON("g", "g.m")
#define TOTALS_JSON COUNTS_JSON("t", "%s")
#define GROUP_MEDIAN RANK_MEDIAN("g", "%s")
#define TOTAL_MEDIAN RANK_MEDIAN("t", "v.plane = %s%s")

/* The parts of one breakdown (fixed strings from this allowlist only). */
struct breakdown {
    const char *by;
    const char *cell_key;  /* the key of cell c (not for reason) */
    const char *fact_key;  /* the key of fact f ... */
    const char *fact_from; /* ... over this FROM (after "FROM <facts> f") */
    const char *median;    /* which stats_verified v of the plane are group g's */
    const char *name;      /* the name of group g's key, looked up once per group */
};

static const struct breakdown breakdowns[] = {
    {"province", "c.province_code", "f.province_code", "", " AND v.province_code = g.key",
     "(SELECT u.name FROM admin_units u WHERE u.level = 'province' AND u.code = g.key"
     " AND u.valid_to IS NULL LIMIT 1)"},
    {"tech", "c.technology", "f.technology", "", " AND v.technology = g.key", "NULL::text"},
    {"month", "to_char(c.month, 'YYYY-MM')", "to_char(f.reported_on, 'YYYY-MM')", "",
     " AND v.month = (g.key || '-01')::date", "NULL::text"},
    {"carrier", NULL, NULL, NULL, NULL, "(SELECT c.name FROM carriers c WHERE c.code = g.key)"},
    /* a blocked point is not verified: no median */
    {"reason", NULL, "f.blocked_reason", " WHERE f.status = 'blocked'", " AND false", "NULL::text"},
};

/* Who asks, as SQL fragments (fixed strings: nothing of the request's is
 * pasted into SQL; a locality's area is $4 / $5). */
struct scope {
    const char *plane;             /* its plane of cells; NULL: a commune, which has none */
    const char *cell_area;         /* ... of that plane, its cells c ... */
    const char *verified_area;     /* ... and its stats_verified rows v */
    const char *facts;             /* which point_facts rows f are its */
    const char *carrier_cells;     /* by=carrier: which cells c ... */
    const char *carrier_cell_key;  /* ... under which key */
    const char *carrier_median;    /* ... which stats_verified v are group g's, key not NULL ... */
    const char *none_median;       /* ... and key NULL */
    const char *carrier_fact_key;  /* by=carrier: the key of fact f ... */
    const char *carrier_fact_from; /* ... over this FROM */
};

#define UNNEST_CARRIERS " LEFT JOIN LATERAL unnest(f.carriers) k(c) ON true"
#define CTX_CARRIER "(SELECT ctx_carrier())"

/* The ministry: plane '' holds every point once; by carrier, each
 * carrier's plane holds the points assigned to it (active), plane '' those
 * assigned to nobody. */
static const struct scope scope_ministry = {
    "''",
    "",
    "",
    "true",
    "((c.plane <> '' AND c.active) OR (c.plane = '' AND NOT c.active))",
    "nullif(c.plane, '')",
    "v.plane = g.key AND v.active",
    "v.plane = '' AND NOT v.active",
    "k.c",
    UNNEST_CARRIERS};
/* A carrier: its own plane; by carrier, its own key where its assignment
 * is active, else none. */
static const struct scope scope_carrier = {CTX_CARRIER,
                                           "",
                                           "",
                                           CTX_CARRIER " = ANY (f.seen_by)",
                                           "c.plane = " CTX_CARRIER,
                                           "CASE WHEN c.active THEN c.plane END",
                                           "v.plane = " CTX_CARRIER " AND v.active",
                                           "v.plane = " CTX_CARRIER " AND NOT v.active",
                                           "CASE WHEN " CTX_CARRIER
                                           " = ANY (f.carriers) THEN " CTX_CARRIER " END",
                                           ""};
/* A province: the ministry's cells of its province; a commune: the facts
 * of its area alone. */
static const struct scope scope_province = {
    "''",
    " AND c.province_code = $4",
    " AND v.province_code = $4",
    "f.province_code = $4",
    "((c.plane <> '' AND c.active) OR (c.plane = '' AND NOT c.active))",
    "nullif(c.plane, '')",
    "v.plane = g.key AND v.active",
    "v.plane = '' AND NOT v.active",
    "k.c",
    UNNEST_CARRIERS};
static const struct scope scope_commune = {NULL, NULL, NULL,  "f.commune_code = $5", NULL, NULL,
                                           NULL, NULL, "k.c", UNNEST_CARRIERS};

/* The caller's scope and the parameters $4 (province) and $5 (commune) of
 * a locality; NULL for a role the statistics do not serve. */
static const struct scope *scope_of(api_request *rq, const char **prov, const char **comm)
{
    *prov = *comm = NULL;
    switch (rq->who.role) {
    case ROLE_MINISTRY:
        return &scope_ministry;
    case ROLE_CARRIER:
        return &scope_carrier;
    case ROLE_LOCALITY:
        if (strcmp(rq->who.unit_level, "commune") == 0) {
            *comm = rq->who.unit_code;
            return &scope_commune;
        }
        *prov = rq->who.province_code;
        return &scope_province;
    default:
        return NULL;
    }
}

/* The query of one answer: rows by `b` and totals, or the totals alone when
 * b is NULL (then its last CTE is s, one column c).  $1 from, $2 to, $3 by,
 * $4 and $5 the locality's area.  In the request's arena; NULL when out of
 * memory. */
static char *stats_sql(api_request *rq, const struct scope *sc, const struct breakdown *b)
{
    arena *a = rq->a;
    int carrier = b && strcmp(b->by, "carrier") == 0, reason = b && strcmp(b->by, "reason") == 0;
    /* The cells' months; a caller without cells counts every month from its
     * facts. */
    const char *fm = sc->plane ? "(CASE WHEN " FM0 " < " TM0 " THEN " FM0
                                 " ELSE 'infinity'::date END)"
                               : "'infinity'::date";
    const char *tm = sc->plane ? "(CASE WHEN " FM0 " < " TM0 " THEN " TM0
                                 " ELSE 'infinity'::date END)"
                               : "'infinity'::date";
    const char *months = arena_printf(a, " AND c.month >= %s AND c.month < %s%s", fm, tm,
                                      sc->plane ? sc->cell_area : "");
    /* f: the facts of the window outside the cells' months. */
    const char *head = arena_printf(
        a,
        /* w names every parameter, so that each has a type whatever is used */
        "WITH w AS (SELECT $3::text AS by, $4::text AS prov, $5::text AS comm), " DAYS ","
        " f AS (SELECT f.* FROM point_facts f WHERE %s AND ((f.reported_on >= " LO
        " AND f.reported_on < %s AND f.reported_on <= " HI ") OR (f.reported_on >= %s"
        " AND f.reported_on <= " HI ")))",
        sc->facts, fm, tm);
    /* The totals t and their median. */
    const char *tcells =
        sc->plane ? arena_printf(a,
                                 "SELECT NULL::text, " CELL_COUNTS " FROM d, stats_cells c"
                                 " WHERE c.plane = %s%s UNION ALL ",
                                 sc->plane, months)
                  : "";
    const char *tmedian =
        sc->plane ? arena_printf(a, TOTAL_MEDIAN, sc->plane, sc->verified_area)
                  : "(SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY f.days_to_verified)"
                    " FROM f WHERE f.status = 'verified')";
    const char *totals =
        arena_printf(a,
                     "tparts " PART_COLS " AS (%sSELECT NULL::text, " FACT_COUNTS " FROM d, f),"
                     " t AS (SELECT " SUMS " FROM tparts)",
                     tcells);
    if (!months || !head || !tcells || !tmedian || !totals)
        return NULL;
    if (!b)
        return arena_printf(a, "%s, %s, s AS MATERIALIZED (SELECT " TOTALS_JSON " AS c FROM t)",
                            head, totals, tmedian);

    /* The rows: parts keyed by the breakdown, summed by key into g; gm adds
     * each one's median. */
    const char *fkey = carrier ? sc->carrier_fact_key : b->fact_key;
    const char *ffrom = carrier ? sc->carrier_fact_from : b->fact_from;
    const char *cells, *gm;
    if (!sc->plane) {
        cells = "";
        gm = arena_printf(a,
                          "md AS MATERIALIZED (SELECT %s AS key, percentile_cont(0.5) WITHIN GROUP"
                          " (ORDER BY f.days_to_verified) AS m FROM f f%s%s f.status = 'verified'"
                          " GROUP BY 1),"
                          " gm AS (SELECT g.*, md.m FROM g LEFT JOIN md"
                          " ON md.key IS NOT DISTINCT FROM g.key)",
                          fkey, ffrom, !carrier && *b->fact_from ? " AND" : " WHERE");
    } else {
        if (reason)
            cells = arena_printf(a, REASON_CELLS " UNION ALL ", sc->plane, months);
        else if (carrier)
            cells = arena_printf(a,
                                 "SELECT %s, " CELL_COUNTS " FROM d, stats_cells c WHERE %s%s"
                                 " UNION ALL ",
                                 sc->carrier_cell_key, sc->carrier_cells, months);
        else
            cells = arena_printf(a,
                                 "SELECT %s, " CELL_COUNTS " FROM d, stats_cells c"
                                 " WHERE c.plane = %s%s UNION ALL ",
                                 b->cell_key, sc->plane, months);
        /* by carrier, the groups are planes: an index each for a key and for none */
        if (carrier) {
            const char *none = arena_printf(a, "%s%s", sc->none_median, sc->verified_area);
            const char *some = arena_printf(a, "%s%s", sc->carrier_median, sc->verified_area);
            gm = none && some ? arena_printf(a,
                                             "gm AS MATERIALIZED (SELECT g.*, CASE WHEN g.key IS"
                                             " NULL THEN " GROUP_MEDIAN " ELSE " GROUP_MEDIAN
                                             " END AS m FROM g)",
                                             none, some)
                              : NULL;
        } else {
            const char *cond =
                arena_printf(a, "v.plane = %s%s%s", sc->plane, b->median, sc->verified_area);
            gm = cond
                     ? arena_printf(
                           a, "gm AS MATERIALIZED (SELECT g.*, " GROUP_MEDIAN " AS m FROM g)", cond)
                     : NULL;
        }
    }
    /* Where each point is in exactly one row, the totals are their sum. */
    if (!carrier && !reason)
        totals = "t AS (SELECT " SUMS " FROM g)";
    if (!cells || !gm)
        return NULL;
    return arena_printf(
        a,
        "%s, parts " PART_COLS " AS (%sSELECT %s, " FACT_COUNTS " FROM d, f f%s),"
        " g AS (SELECT key, " SUMS " FROM parts GROUP BY key HAVING sum(received) > 0),"
        " %s, %s"
        " SELECT jsonb_build_object('by', $3::text, 'from', $1::date, 'to', $2::date,"
        " 'rows', coalesce((SELECT jsonb_agg(jsonb_build_object('key', g.key, 'name', %s)"
        " || " ROW_JSON " ORDER BY g.key NULLS LAST) FROM gm g), '[]'::jsonb),"
        " 'totals', (SELECT " TOTALS_JSON " FROM t))::text",
        head, cells, fkey, ffrom, gm, totals, b->name, tmedian);
}

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

    const char *prov, *comm;
    const struct scope *sc = scope_of(rq, &prov, &comm);
    if (!sc)
        return api_fail(rq, LS_EFORBIDDEN,
                        "the statistics are for the ministry, localities and"
                        " carriers");
    const char *sql = stats_sql(rq, sc, b);
    if (!sql)
        return api_fail(rq, LS_ENOMEM, "the query could not be built");
    const char *p[] = {from, to, by, prov, comm};
    if (!format || strcmp(format, "json") == 0)
        return api_reply_sql(rq, "stats: progress", sql, 5, p, "application/json", NULL);

    /* CSV / XLSX: the same rows through GDAL, one line per row. */
    PGconn *c = NULL;
    if ((st = api_db(rq, &c)) != LS_OK)
        return st;
    char *flat =
        arena_printf(rq->a,
                     "SELECT r->>'key', r->>'name', r->>'received', r->>'awaiting_triage',"
                     " r->>'in_progress', r->>'blocked', r->'blocked_by_reason'->>'no_power',"
                     " r->'blocked_by_reason'->>'site_permit', r->'blocked_by_reason'->>'terrain',"
                     " r->'blocked_by_reason'->>'investment', r->'blocked_by_reason'->>'other',"
                     " r->>'fixed_not_verified', r->>'verified', r->>'rejected', r->>'overdue',"
                     " r->>'median_days_to_verified'"
                     " FROM jsonb_array_elements((%s)::jsonb->'rows') r",
                     sql);
    if (!flat)
        return api_fail(rq, LS_ENOMEM, "the query could not be built");
    PGresult *r = NULL;
    st = db_query(c, "stats: table", flat, 5, p, &r, NULL, 0);
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
    const char *prov, *comm;
    const struct scope *sc = scope_of(rq, &prov, &comm);
    if (!sc)
        return api_fail(rq, LS_EFORBIDDEN,
                        "the statistics are for the ministry, localities and"
                        " carriers");
    const char *totals = stats_sql(rq, sc, NULL);
    const char *sql =
        totals
            ? arena_printf(
                  rq->a,
                  "%s SELECT (jsonb_build_object('from', $1::date, 'to', $2::date) || s.c"
                  " || jsonb_build_object('headline', format('%%s received, %%s verified, %%s fixed"
                  " awaiting verification, %%s in progress, %%s blocked%%s, %%s overdue',"
                  "  s.c->>'received', s.c->>'verified', s.c->>'fixed_not_verified',"
                  "  s.c->>'in_progress', s.c->>'blocked', CASE WHEN (s.c->>'blocked')::int > 0"
                  "  THEN ': ' || (SELECT string_agg(replace(k, '_', ' ') || ' ' || v, ', '"
                  "  ORDER BY k) FROM jsonb_each_text(s.c->'blocked_by_reason') AS e(k, v)"
                  "  WHERE v <> '0') ELSE '' END, s.c->>'overdue')))::text FROM s",
                  totals)
            : NULL;
    if (!sql)
        return api_fail(rq, LS_ENOMEM, "the query could not be built");
    const char *p[] = {from, to, NULL, prov, comm};
    return api_reply_sql(rq, "stats: summary", sql, 5, p, "application/json", NULL);
}
