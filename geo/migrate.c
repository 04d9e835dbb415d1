/*
 * migrate.c — see migrate.h.
 */
#include "migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/embed.h"
#include "../api/log.h"
#include "db.h"

/* Any number will do as long as no other module takes the same lock. */
#define MIGRATE_LOCK "7261700131"

/* FNV-1a 64: detects an edited migration; not a security measure. */
static void checksum(const char *data, size_t len, char out[17])
{
    unsigned long long h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)data[i];
        h *= 1099511628211ULL;
    }
    snprintf(out, 17, "%016llx", h);
}

int geo_migrate_available(void)
{
    int n = 0;
    while (embedded_migrations[n].name)
        n++;
    return n;
}

int geo_migrate_applied(PGconn *c)
{
    PGresult *r = NULL;
    if (db_query(c, "migrate: count",
                 "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN -1 "
                 "ELSE (SELECT count(*) FROM schema_migrations) END",
                 0, NULL, &r, NULL, 0) != LS_OK)
        return -1;
    int n = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

ls_status geo_migrate(PGconn *c, int verbose, int *applied)
{
    int done = 0;
    ls_status st = db_exec(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")");
    if (st != LS_OK)
        return st;
    st = db_exec(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())");
    if (st != LS_OK)
        goto out;

    for (const ls_embedded *m = embedded_migrations; m->name; m++) {
        char version[16], sum[17];
        snprintf(version, sizeof(version), "%d", atoi(m->name));
        checksum(m->data, m->len, sum);
        const char *p1[] = {version};
        PGresult *r = NULL;
        st = db_query(c, "migrate: lookup",
                      "SELECT checksum FROM schema_migrations WHERE version = $1", 1, p1, &r, NULL,
                      0);
        if (st != LS_OK)
            goto out;
        if (PQntuples(r) == 1) {
            int same = strcmp(PQgetvalue(r, 0, 0), sum) == 0;
            PQclear(r);
            if (!same) {
                log_error("migration %s was changed after it was applied; add a new migration "
                          "instead of editing an applied one",
                          m->name);
                st = LS_ECONFLICT;
                goto out;
            }
            continue;
        }
        PQclear(r);

        if ((st = db_exec(c, "BEGIN")) != LS_OK)
            goto out;
        /* A migration file holds many statements: the simple protocol runs
         * them all, inside our transaction. */
        r = PQexec(c, m->data);
        if (db_result_status(r) != LS_OK) {
            log_error("migration %s failed: %s", m->name, PQerrorMessage(c));
            PQclear(r);
            db_exec(c, "ROLLBACK");
            st = LS_EDB;
            goto out;
        }
        PQclear(r);
        const char *p3[] = {version, m->name, sum};
        st = db_query(c, "migrate: record",
                      "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                      3, p3, NULL, NULL, 0);
        if (st == LS_OK)
            st = db_exec(c, "COMMIT");
        if (st != LS_OK) {
            db_exec(c, "ROLLBACK");
            goto out;
        }
        done++;
        if (verbose)
            printf("applied %s\n", m->name);
    }
out:
    db_exec(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")");
    if (applied)
        *applied = done;
    return st;
}
