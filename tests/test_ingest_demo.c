/*
 * test_ingest_demo.c — `lomsong demo` in a database of its own (so its rows
 * do not mix with the other suites'): it loads through the real ingest,
 * running it again adds nothing, and the data has the shape it claims
 * (cities meet the 40 Mbps minimum far more often than the mountains; dead
 * zones in every state, the verified ones verified by their tests).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"

static const char *demo_db(const char *role)
{
    static char out[2][1024];
    const char *base = role[0] == 'o' ? t_admin_db() : t_app_db();
    char *o = out[role[0] == 'o' ? 0 : 1];
    const char *p = strstr(base, "dbname=");
    const char *e = p ? strchr(p, ' ') : NULL;
    if (!p)
        snprintf(o, 1024, "%s dbname=lomsong_t_demo", base);
    else
        snprintf(o, 1024, "%.*sdbname=lomsong_t_demo%s", (int)(p - base), base, e ? e : "");
    return o;
}

TEST(ingest_demo, loads_once_and_looks_right)
{
    const char *root = getenv("LOMSONG_TEST_ROOT") ? getenv("LOMSONG_TEST_ROOT") : ".";
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "%s/tools/db.sh createdb %s lomsong_t_demo >/dev/null 2>&1", root,
             t_cluster());
    CHECK_INT(system(cmd), 0);
    snprintf(cmd, sizeof(cmd),
             "LOMSONG_ADMIN_DB='%s' LOMSONG_DB='%s' %s migrate >/dev/null &&"
             " LOMSONG_ADMIN_DB='%s' %s/tools/load-reference.sh %s %s >/dev/null 2>&1",
             demo_db("owner"), demo_db("app"), t_bin(), demo_db("owner"), root, t_bin(),
             t_shared(""));
    CHECK_INT(system(cmd), 0);

    char args[2600], *out = NULL, *err = NULL;
    snprintf(args, sizeof(args), "demo --points 700 --db '%s' --admin-db '%s'", demo_db("app"),
             demo_db("owner"));
    CHECK_INT(t_run(args, NULL, &out, &err), 0);
    CHECK_CONTAINS(out, "stored");
    CHECK_CONTAINS(out, "0 already there");
    free(out);
    free(err);

    PGconn *c = t_connect(demo_db("owner"));
    free(t_sql(c, "SELECT set_config('lomsong.role', 'system', false)"));
    char *n1 = t_sql(c, "SELECT count(*) FROM measurements");
    CHECK(n1 && atoi(n1) > 1000);
    char *prov = t_sql(c, "SELECT count(DISTINCT province) FROM measurements");
    CHECK(prov && atoi(prov) >= 30);
    char *city = t_sql(c, "SELECT avg(meets_min::int) > 0.8 FROM measurements"
                          " WHERE province IN (1, 79)");
    char *hills = t_sql(c, "SELECT avg(meets_min::int) < 0.6 FROM measurements"
                           " WHERE province IN (11, 12, 15)");
    CHECK_STR(city, "t");
    CHECK_STR(hills, "t");
    char *cells = t_sql(c, "SELECT count(DISTINCT res) FROM (SELECT res FROM coverage_cells"
                           " UNION ALL SELECT res FROM coverage_cells16) c");
    CHECK_STR(cells, "4");

    /* dead-zone points in every state; each verified one verified by the
     * rule, from the demo's tests, with the evidence in a system event */
    char *points = t_sql(c, "SELECT count(*) FROM dz_points");
    CHECK(points && atoi(points) > 300);
    char *states = t_sql(c, "SELECT count(DISTINCT status) FROM dz_points");
    CHECK(states && atoi(states) >= 7);
    char *verified = t_sql(c, "SELECT count(*) FROM dz_points WHERE status = 'verified'");
    CHECK(verified && atoi(verified) > 0);
    char *proved = t_sql(c, "SELECT count(*) FROM dz_points p WHERE p.status = 'verified'"
                            " AND EXISTS (SELECT 1 FROM events e WHERE e.point_id = p.id"
                            " AND e.actor_role = 'system' AND e.to_status = 'verified'"
                            " AND (e.data->>'tests')::int >= 5)");
    CHECK_STR(proved, verified);
    char *no_power = t_sql(c, "SELECT count(*) > 0 FROM dz_points WHERE status = 'blocked'"
                              " AND blocked_reason = 'no_power'");
    CHECK_STR(no_power, "t");

    CHECK_INT(t_run(args, NULL, &out, &err), 0);
    CHECK_CONTAINS(out, " 0 stored");
    char *points2 = t_sql(c, "SELECT count(*) FROM dz_points");
    CHECK_STR(points2, points);
    free(points);
    free(points2);
    free(states);
    free(verified);
    free(proved);
    free(no_power);
    char *n2 = t_sql(c, "SELECT count(*) FROM measurements");
    CHECK_STR(n2, n1);
    free(out);
    free(err);
    free(n1);
    free(n2);
    free(prov);
    free(city);
    free(hills);
    free(cells);
    PQfinish(c);
}
