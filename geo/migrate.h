/*
 * migrate.h — ordered SQL migrations compiled into the binary
 * (geo/sql/NNN_name.sql), applied once each and tracked in the table
 * schema_migrations.  Each migration runs in its own transaction together
 * with its tracking row, so a failed migration leaves the database as it
 * was.  An advisory lock keeps two `lomsong migrate` runs from racing.
 */
#ifndef LS_MIGRATE_H
#define LS_MIGRATE_H

#include <libpq-fe.h>

#include "../api/ls.h"

/* Applies every migration not applied yet, in order, printing one line per
 * migration applied to stdout when `verbose`.  *applied (may be NULL) gets
 * how many were applied.  LS_ECONFLICT when an applied migration's file has
 * changed since (its checksum differs); LS_EDB when one fails (logged, with
 * the file name and the server's message). */
ls_status geo_migrate(PGconn *c, int verbose, int *applied);

/* Number of migrations compiled in, and how many the database has applied
 * (-1 when it has no tracking table). */
int geo_migrate_available(void);
int geo_migrate_applied(PGconn *c);

#endif
