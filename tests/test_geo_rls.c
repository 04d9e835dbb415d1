/*
 * test_geo_rls.c — row-level security, checked with hand-written SQL through
 * the application role (the role the server uses), not through the API:
 * even a query that forgets its WHERE clause sees only the caller's area.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"

/* Data in two provinces, written as the 'system' context by the owner
 * (FORCE ROW LEVEL SECURITY binds the owner too). */
static void seed(void)
{
    PGconn *c = t_connect(t_admin_db());
    free(t_sql(c, "BEGIN"));
    free(t_sql(c, "SELECT set_config('lomsong.role', 'system', true)"));
    free(t_sql(c, "DELETE FROM assignments WHERE point_id IN (SELECT id FROM dz_points WHERE"
                  " commune_code = 'rls')"));
    free(t_sql(c, "WITH p AS (INSERT INTO dz_points (geom, province_code, commune_code, technology)"
                  " VALUES (ST_SetSRID(ST_MakePoint(105.85, 21.03), 4326), '01', 'rls', '4G'),"
                  "        (ST_SetSRID(ST_MakePoint(103.97, 22.48), 4326), '15', 'rls', '4G'),"
                  "        (ST_SetSRID(ST_MakePoint(103.98, 22.49), 4326), '15', 'rls', '3G')"
                  " RETURNING id, province_code)"
                  " INSERT INTO assignments (point_id, carrier_code, province_code)"
                  " SELECT id, 'viettel', province_code FROM p WHERE province_code = '15'"
                  " RETURNING 1"));
    free(t_sql(c, "COMMIT"));
    PQfinish(c);
}

static char *as(const char *role, const char *province, const char *carrier, const char *sql)
{
    PGconn *c = t_connect(t_app_db());
    if (!c)
        return NULL;
    const char *p[] = {role, province ? province : "", carrier ? carrier : ""};
    PGresult *r = PQexec(c, "BEGIN");
    PQclear(r);
    r = PQexecParams(c,
                     "SELECT set_config('lomsong.role', $1, true),"
                     " set_config('lomsong.province', $2, true),"
                     " set_config('lomsong.carrier', $3, true)",
                     3, NULL, p, NULL, NULL, 0);
    PQclear(r);
    char *v = t_sql(c, sql);
    PQfinish(c);
    return v;
}

static const char *count_sql = "SELECT count(*) FROM dz_points WHERE commune_code = 'rls'";

TEST(rls, locality_sees_only_its_province)
{
    seed();
    char *mine = as("locality", "01", NULL, count_sql);
    char *other = as("locality", "15", NULL, count_sql);
    char *all = as("ministry", NULL, NULL, count_sql);
    CHECK(mine && other && all);
    if (mine && other && all) {
        CHECK(atoi(mine) >= 1);
        CHECK(atoi(other) >= 2);
        CHECK_INT(atoi(all), atoi(mine) + atoi(other));
    }
    /* no WHERE at all: still only province 01 */
    char *bad =
        as("locality", "01", NULL, "SELECT count(*) FROM dz_points WHERE province_code <> '01'");
    CHECK_STR(bad, "0");
    free(mine);
    free(other);
    free(all);
    free(bad);
}

TEST(rls, no_context_means_no_rows)
{
    PGconn *c = t_connect(t_app_db());
    char *n = t_sql(c, count_sql);
    CHECK_STR(n, "0");
    free(n);
    PQfinish(c);
    char *pub = as("public", NULL, NULL, count_sql);
    CHECK_STR(pub, "0");
    free(pub);
}

TEST(rls, carrier_sees_only_assigned_points)
{
    char *v = as("carrier", NULL, "viettel", count_sql);
    char *m = as("carrier", NULL, "mobifone", count_sql);
    CHECK(v && atoi(v) >= 2);
    CHECK_STR(m, "0");
    free(v);
    free(m);
}

TEST(rls, locality_cannot_write_outside_its_area)
{
    PGconn *c = t_connect(t_app_db());
    PGresult *r = PQexec(c, "BEGIN; SELECT set_config('lomsong.role', 'locality', true),"
                            " set_config('lomsong.province', '01', true)");
    PQclear(r);
    r = PQexec(c, "INSERT INTO dz_points (geom, province_code, technology)"
                  " VALUES (ST_SetSRID(ST_MakePoint(103.97, 22.48), 4326), '15', '4G')");
    CHECK(PQresultStatus(r) == PGRES_FATAL_ERROR);
    CHECK_CONTAINS(PQresultErrorMessage(r), "row-level security");
    PQclear(r);
    r = PQexec(c, "ROLLBACK");
    PQclear(r);
    /* an UPDATE of another province's rows touches nothing */
    r = PQexec(c, "BEGIN; SELECT set_config('lomsong.role', 'locality', true),"
                  " set_config('lomsong.province', '01', true)");
    PQclear(r);
    r = PQexec(c, "UPDATE dz_points SET status = 'rejected' WHERE province_code = '15'");
    CHECK(PQresultStatus(r) == PGRES_COMMAND_OK);
    CHECK_STR(PQcmdTuples(r), "0");
    PQclear(r);
    r = PQexec(c, "ROLLBACK");
    PQclear(r);
    PQfinish(c);
}

TEST(rls, app_role_cannot_read_credentials)
{
    PGconn *c = t_connect(t_app_db());
    PGresult *r = PQexec(c, "SELECT count(*) FROM api_tokens");
    CHECK(PQresultStatus(r) == PGRES_FATAL_ERROR);
    CHECK_CONTAINS(PQresultErrorMessage(r), "permission denied");
    PQclear(r);
    r = PQexec(c, "SELECT count(*) FROM accounts");
    CHECK(PQresultStatus(r) == PGRES_FATAL_ERROR);
    PQclear(r);
    PQfinish(c);
}

TEST(rls, events_are_append_only)
{
    PGconn *c = t_connect(t_admin_db());
    free(t_sql(c, "BEGIN"));
    free(t_sql(c, "SELECT set_config('lomsong.role', 'system', true)"));
    char *id = t_sql(c, "INSERT INTO events (point_id, province_code, at, actor_role, kind,"
                        " to_status) SELECT id, province_code, now(), 'system', 'test', status"
                        " FROM dz_points WHERE commune_code = 'rls' LIMIT 1 RETURNING id");
    free(t_sql(c, "COMMIT"));
    CHECK(id != NULL);
    /* The owner is bound by row-level security too (FORCE), and no policy
     * lets anyone UPDATE or DELETE an event: nothing changes. */
    free(t_sql(c, "SELECT set_config('lomsong.role', 'system', false)"));
    PGresult *r = PQexec(c, "UPDATE events SET note = 'changed'");
    CHECK(PQresultStatus(r) == PGRES_COMMAND_OK);
    CHECK_STR(PQcmdTuples(r), "0");
    PQclear(r);
    r = PQexec(c, "DELETE FROM events");
    CHECK(PQresultStatus(r) == PGRES_COMMAND_OK);
    CHECK_STR(PQcmdTuples(r), "0");
    PQclear(r);
    /* TRUNCATE is not covered by row-level security: the trigger refuses it */
    r = PQexec(c, "TRUNCATE events CASCADE");
    CHECK(PQresultStatus(r) == PGRES_FATAL_ERROR);
    CHECK_CONTAINS(PQresultErrorMessage(r), "append-only");
    PQclear(r);
    PQfinish(c);
    /* A superuser bypasses row-level security; the trigger still refuses. */
    const char *super = getenv("LOMSONG_TEST_SUPER_DB");
    CHECK(super != NULL);
    if (super) {
        c = t_connect(super);
        r = PQexec(c, "UPDATE events SET note = 'changed'");
        CHECK(PQresultStatus(r) == PGRES_FATAL_ERROR);
        CHECK_CONTAINS(PQresultErrorMessage(r), "append-only");
        PQclear(r);
        r = PQexec(c, "DELETE FROM events");
        CHECK(PQresultStatus(r) == PGRES_FATAL_ERROR);
        CHECK_CONTAINS(PQresultErrorMessage(r), "append-only");
        PQclear(r);
        char *n = t_sql(c, "SELECT count(*) FROM events WHERE kind = 'test'");
        CHECK(n && atoi(n) >= 1);
        free(n);
        PQfinish(c);
    }
    /* the application role has no UPDATE or DELETE right at all */
    c = t_connect(t_app_db());
    r = PQexec(c, "BEGIN; SELECT set_config('lomsong.role', 'ministry', true)");
    PQclear(r);
    r = PQexec(c, "DELETE FROM events");
    CHECK(PQresultStatus(r) == PGRES_FATAL_ERROR);
    CHECK_CONTAINS(PQresultErrorMessage(r), "permission denied");
    PQclear(r);
    PQfinish(c);
    free(id);
}
