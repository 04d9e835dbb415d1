/*
 * test_geo_migrate.c — migrations from an empty database, re-runs, an
 * edited migration, a failing migration (nothing half-applied), and the
 * server's refusal to run as a role that row-level security would not bind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"

/* Conninfo of another database in the test cluster (static buffer). */
static const char *db_named(const char *db)
{
    static char out[1024];
    const char *base = t_admin_db();
    const char *p = strstr(base, "dbname=");
    if (!p) {
        snprintf(out, sizeof(out), "%s dbname=%s", base, db);
        return out;
    }
    const char *e = strchr(p, ' ');
    snprintf(out, sizeof(out), "%.*sdbname=%s%s", (int)(p - base), base, db, e ? e : "");
    return out;
}

/* (Re)creates an empty database with the extensions, as make test does. */
static int fresh_db(const char *db)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "%s/tools/db.sh createdb %s %s >/dev/null 2>&1",
             getenv("LOMSONG_TEST_ROOT") ? getenv("LOMSONG_TEST_ROOT") : ".", t_cluster(), db);
    return system(cmd);
}

TEST(migrate, from_empty_then_rerun_is_a_noop)
{
    CHECK_INT(fresh_db("lomsong_t_migrate"), 0);
    char args[1200], *out = NULL, *err = NULL;
    snprintf(args, sizeof(args), "migrate --admin-db '%s'", db_named("lomsong_t_migrate"));
    CHECK_INT(t_run(args, NULL, &out, &err), 0);
    CHECK_CONTAINS(out, "applied 001_core.sql");
    free(out);
    free(err);
    PGconn *c = t_connect(db_named("lomsong_t_migrate"));
    char *n = t_sql(c, "SELECT count(*) FROM schema_migrations");
    CHECK(n && atoi(n) >= 1);
    char *tables = t_sql(c, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND "
                            "tablename IN ('admin_units', 'carriers', 'accounts', 'api_tokens',"
                            " 'reports', 'dz_points', 'assignments', 'events', 'ingest_batches',"
                            " 'coverage_cells', 'coverage_blocks', 'unit_successors')");
    CHECK_STR(tables, "12");
    char *parts =
        t_sql(c, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'measurements'::regclass");
    CHECK(parts && atoi(parts) >= 12); /* monthly partitions */
    free(tables);
    free(parts);

    CHECK_INT(t_run(args, NULL, &out, &err), 0);
    CHECK_CONTAINS(out, "0 applied now");
    char *n2 = t_sql(c, "SELECT count(*) FROM schema_migrations");
    CHECK_STR(n2, n);
    free(n);
    free(n2);
    free(out);
    free(err);

    /* an applied migration edited afterwards is refused, not re-run */
    free(
        t_sql(c, "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1 RETURNING 1"));
    CHECK(t_run(args, NULL, &out, &err) != 0);
    CHECK_CONTAINS(err, "changed after it was applied");
    free(out);
    free(err);
    PQfinish(c);
}

TEST(migrate, a_failed_migration_leaves_nothing_behind)
{
    CHECK_INT(fresh_db("lomsong_t_migfail"), 0);
    PGconn *c = t_connect(db_named("lomsong_t_migfail"));
    /* A table in the way makes 001 fail half-way through. */
    free(t_sql(c, "CREATE TABLE dz_points (x int); SELECT 1"));
    char args[1200], *out = NULL, *err = NULL;
    snprintf(args, sizeof(args), "migrate --admin-db '%s'", db_named("lomsong_t_migfail"));
    CHECK(t_run(args, NULL, &out, &err) != 0);
    CHECK_CONTAINS(err, "failed");
    free(out);
    free(err);
    char *before = t_sql(c, "SELECT to_regclass('admin_units') IS NULL AND"
                            " to_regclass('carriers') IS NULL");
    CHECK_STR(before, "t"); /* created before the failure, rolled back with it */
    char *n = t_sql(c, "SELECT count(*) FROM schema_migrations");
    CHECK_STR(n, "0");
    free(before);
    free(n);
    PQfinish(c);
}

TEST(migrate, server_refuses_superuser_or_owner_roles)
{
    char args[1200], *out = NULL, *err = NULL;
    snprintf(args, sizeof(args), "serve --listen 127.0.0.1:0 --db '%s'", t_admin_db());
    CHECK_INT(t_run(args, NULL, &out, &err), 1);
    CHECK_CONTAINS(err, "refusing to start");
    free(out);
    free(err);
}
