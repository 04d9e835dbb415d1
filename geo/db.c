/*
 * db.c — connections, checked queries and the connection pool; see db.h.
 */
#include "db.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../api/log.h"

/* libpq prints notices to stderr by default; route them into our log. */
static void db_notice(void *arg, const char *message)
{
    LS_UNUSED(arg);
    log_debug("postgres: %s", message);
}

ls_status db_connect(const char *conninfo, PGconn **out)
{
    *out = NULL;
    PGconn *c = PQconnectdb(conninfo);
    if (!c)
        return LS_ENOMEM;
    if (PQstatus(c) != CONNECTION_OK) {
        log_error("cannot connect to the database: %s", PQerrorMessage(c));
        PQfinish(c);
        return LS_EUNAVAIL;
    }
    PQsetNoticeProcessor(c, db_notice, NULL);
    PGresult *r = PQexec(c, "SET client_encoding = 'UTF8'; SET timezone = 'UTC'");
    ls_status st = PQresultStatus(r) == PGRES_COMMAND_OK ? LS_OK : LS_EDB;
    if (st != LS_OK)
        log_error("connection set-up failed: %s", PQerrorMessage(c));
    PQclear(r);
    if (st != LS_OK) {
        PQfinish(c);
        return st;
    }
    *out = c;
    return LS_OK;
}

ls_status db_result_status(const PGresult *r)
{
    if (!r)
        return LS_EUNAVAIL;
    ExecStatusType es = PQresultStatus(r);
    if (es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK || es == PGRES_COPY_IN ||
        es == PGRES_COPY_OUT || es == PGRES_SINGLE_TUPLE || es == PGRES_EMPTY_QUERY)
        return LS_OK;
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (!state)
        return LS_EUNAVAIL; /* no SQLSTATE: the connection went away */
    if (strcmp(state, "23505") == 0 || strcmp(state, "23503") == 0 || strcmp(state, "23P01") == 0 ||
        strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return LS_ECONFLICT;
    if (strncmp(state, "22", 2) == 0 || strcmp(state, "23514") == 0 ||
        strcmp(state, "23502") == 0 || strcmp(state, "P0001") == 0)
        return LS_EINVAL;
    if (strcmp(state, "42501") == 0)
        return LS_EFORBIDDEN;
    if (strncmp(state, "08", 2) == 0 || strcmp(state, "57014") == 0 ||
        strncmp(state, "57P", 3) == 0 || strcmp(state, "53300") == 0)
        return LS_EUNAVAIL;
    return LS_EDB;
}

ls_status db_query(PGconn *c, const char *what, const char *sql, int nparams,
                   const char *const *params, PGresult **out, char *msg, size_t msglen)
{
    if (out)
        *out = NULL;
    if (msg && msglen)
        *msg = '\0';
    PGresult *r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
    ls_status st = db_result_status(r);
    if (st != LS_OK) {
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        log_level lv =
            (st == LS_EINVAL || st == LS_ECONFLICT || st == LS_EFORBIDDEN) ? LOG_INFO : LOG_ERROR;
        log_msg(lv, "%s: [%s] %s", what, state ? state : "-", PQerrorMessage(c));
        if (msg && msglen && primary && (st == LS_EINVAL || st == LS_ECONFLICT))
            snprintf(msg, msglen, "%s", primary);
        PQclear(r);
        return st;
    }
    if (out)
        *out = r;
    else
        PQclear(r);
    return LS_OK;
}

ls_status db_exec(PGconn *c, const char *sql)
{
    return db_query(c, sql, sql, 0, NULL, NULL, NULL, 0);
}

/* ------------------------------------------------------------------ pool */

struct slot {
    PGconn *conn;
    int busy;
};

struct db_pool {
    char *conninfo;
    int size;
    struct slot *slots;
    int in_use;
    long waits;
    long failures;
    ls_status (*check)(PGconn *);
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

db_pool *db_pool_new(const char *conninfo, int size)
{
    db_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->conninfo = strdup(conninfo);
    p->slots = calloc((size_t)size, sizeof(*p->slots));
    if (!p->conninfo || !p->slots) {
        free(p->conninfo);
        free(p->slots);
        free(p);
        return NULL;
    }
    p->size = size;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    return p;
}

void db_pool_free(db_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->size; i++)
        if (p->slots[i].conn)
            PQfinish(p->slots[i].conn);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->slots);
    free(p->conninfo);
    free(p);
}

void db_pool_set_check(db_pool *p, ls_status (*check)(PGconn *))
{
    p->check = check;
}

ls_status db_pool_acquire(db_pool *p, int wait_ms, PGconn **out)
{
    *out = NULL;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += wait_ms / 1000;
    deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }

    pthread_mutex_lock(&p->mu);
    struct slot *s = NULL;
    for (;;) {
        /* Prefer a slot with an open connection, then an empty one. */
        for (int i = 0; i < p->size && !s; i++)
            if (!p->slots[i].busy && p->slots[i].conn)
                s = &p->slots[i];
        for (int i = 0; i < p->size && !s; i++)
            if (!p->slots[i].busy)
                s = &p->slots[i];
        if (s)
            break;
        p->waits++;
        if (pthread_cond_timedwait(&p->cv, &p->mu, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&p->mu);
            log_warn("database pool: no free connection within %d ms", wait_ms);
            return LS_EUNAVAIL;
        }
    }
    s->busy = 1;
    p->in_use++;
    PGconn *c = s->conn;
    s->conn = NULL;
    pthread_mutex_unlock(&p->mu);

    /* Connect or repair outside the lock: it may take a while. */
    if (c && PQstatus(c) != CONNECTION_OK) {
        PQreset(c);
        if (PQstatus(c) != CONNECTION_OK) {
            PQfinish(c);
            c = NULL;
        }
    }
    ls_status st = LS_OK;
    if (!c) {
        st = db_connect(p->conninfo, &c);
        if (st == LS_OK && p->check && (st = p->check(c)) != LS_OK) {
            PQfinish(c);
            c = NULL;
        }
    }

    pthread_mutex_lock(&p->mu);
    if (st != LS_OK) {
        s->busy = 0;
        p->in_use--;
        p->failures++;
        pthread_cond_signal(&p->cv);
    } else {
        s->conn = c;
    }
    pthread_mutex_unlock(&p->mu);
    if (st == LS_OK)
        *out = c;
    return st;
}

void db_pool_release(db_pool *p, PGconn *c)
{
    if (!c)
        return;
    if (PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) != PQTRANS_IDLE) {
        PGresult *r = PQexec(c, "ROLLBACK");
        PQclear(r);
    }
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->size; i++) {
        if (p->slots[i].busy && p->slots[i].conn == c) {
            p->slots[i].busy = 0;
            if (PQstatus(c) != CONNECTION_OK) {
                PQfinish(c);
                p->slots[i].conn = NULL;
            }
            p->in_use--;
            break;
        }
    }
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

ls_status db_pool_warm(db_pool *p)
{
    PGconn **held = calloc((size_t)p->size, sizeof(*held));
    if (!held)
        return LS_ENOMEM;
    ls_status first = LS_OK;
    for (int i = 0; i < p->size; i++) {
        ls_status st = db_pool_acquire(p, 0, &held[i]);
        if (st != LS_OK && first == LS_OK)
            first = st;
    }
    for (int i = 0; i < p->size; i++)
        db_pool_release(p, held[i]);
    free(held);
    return first;
}

void db_pool_stats(db_pool *p, int *size, int *in_use, int *open, long *waits, long *failures)
{
    pthread_mutex_lock(&p->mu);
    *size = p->size;
    *in_use = p->in_use;
    int n = 0;
    for (int i = 0; i < p->size; i++)
        n += p->slots[i].conn != NULL;
    *open = n;
    *waits = p->waits;
    *failures = p->failures;
    pthread_mutex_unlock(&p->mu);
}
