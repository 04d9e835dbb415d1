/*
 * db.h — the one place lomsong talks to PostgreSQL: single connections for
 * the command line, a pool for the server, and checked query helpers.
 *
 * Only the pool owns server connections: a worker borrows one for the
 * length of a request and gives it back; a connection found broken is
 * reset (and, failing that, reopened on next use).  Every query is
 * parameterized; every result is checked and cleared on every path.
 */
#ifndef LS_DB_H
#define LS_DB_H

#include <libpq-fe.h>

#include "../api/ls.h"

/* Opens a connection; LS_EUNAVAIL (message logged) when it cannot.  Caller
 * closes with PQfinish().  client_encoding is UTF8, timezone UTC. */
ls_status db_connect(const char *conninfo, PGconn **out);

/* Runs `sql` with text parameters.  On success *out (when not NULL) holds the
 * result, which the caller PQclear()s; with out == NULL it is cleared here.
 * Failures are logged with `what` and mapped to a status:
 *   unique/foreign-key violation -> LS_ECONFLICT, check/data errors -> LS_EINVAL,
 *   insufficient privilege or RLS refusal -> LS_EFORBIDDEN, statement timeout or
 *   a lost connection -> LS_EUNAVAIL, anything else -> LS_EDB.
 * When `msg` is not NULL it receives the server's primary message for the
 * errors a client may see (LS_EINVAL / LS_ECONFLICT from our own checks). */
ls_status db_query(PGconn *c, const char *what, const char *sql, int nparams,
                   const char *const *params, PGresult **out, char *msg, size_t msglen);

/* A statement with no result wanted ("BEGIN", "COMMIT", ...). */
ls_status db_exec(PGconn *c, const char *sql);

/* Maps a failed result to a status as db_query() does. */
ls_status db_result_status(const PGresult *r);

/* ----------------------------------------------------------------- pool */
typedef struct db_pool db_pool;

/* A pool of up to `size` connections to `conninfo`, opened lazily.  NULL
 * when out of memory.  Free with db_pool_free(). */
db_pool *db_pool_new(const char *conninfo, int size);
void db_pool_free(db_pool *p);

/* A check run on every new connection before it is lent (the server's
 * refusal to run as a superuser or table owner).  A status other than LS_OK
 * closes the connection and is returned by db_pool_acquire(). */
void db_pool_set_check(db_pool *p, ls_status (*check)(PGconn *));

/* Borrows a connection, waiting up to wait_ms for a free slot.  LS_EUNAVAIL
 * when none frees up in time or the database cannot be reached.  The
 * connection is idle (no transaction open).  Give it back with
 * db_pool_release(). */
ls_status db_pool_acquire(db_pool *p, int wait_ms, PGconn **out);

/* Returns a borrowed connection.  A connection left inside a transaction is
 * rolled back; a broken one is closed and reopened on next use. */
void db_pool_release(db_pool *p, PGconn *c);

/* Opens every slot now (for start-up checks); status of the first failure. */
ls_status db_pool_warm(db_pool *p);

/* Counters for /metrics. */
void db_pool_stats(db_pool *p, int *size, int *in_use, int *open, long *waits, long *failures);

#endif
