/*
 * server.h — the HTTP server (libmicrohttpd, epoll, internal thread pool)
 * and the request object every handler works on.
 *
 * Life of a request: the server creates an api_request with its own arena,
 * reads the body into a capped buffer, matches a route, authenticates the
 * bearer token (which opens the request's database transaction and sets the
 * row-level-security context), calls the handler, commits when the handler
 * succeeded (rolls back otherwise), renders errors as problem+json, and when
 * the connection reports the request complete, logs one JSON line, records
 * metrics, gives the database connection back and drops the arena.
 */
#ifndef LS_SERVER_H
#define LS_SERVER_H

#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <stddef.h>

#include "arena.h"
#include "auth.h"
#include "config.h"
#include "ls.h"

struct MHD_Connection;
struct api_route;

#define API_MAX_PARAMS 4
#define API_MAX_HEADERS 12

typedef struct api_request {
    arena *a; /* everything below that is allocated lives here */
    const ls_config *cfg;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    char id[24]; /* request id, also sent as X-Request-Id */
    double t_start;

    const char *body; /* NUL-terminated; NULL when the request had none */
    size_t body_len;
    const char *upload_path; /* ROUTE_UPLOAD routes: the body, spooled to this file */
    const char *upload_ext;  /* its format as a file extension ("csv", "xlsx", ...) */

    const struct api_route *route;
    const char *params[API_MAX_PARAMS]; /* path parameters, in pattern order */

    auth_identity who;
    int authenticated; /* who is valid */
    PGconn *db;        /* borrowed; NULL until first needed */

    /* response */
    int status;
    const char *resp_type;
    const char *resp_body;
    size_t resp_len;
    int resp_fd; /* >= 0: send this file instead of resp_body (closed after) */
    const char *hdr_name[API_MAX_HEADERS];
    const char *hdr_value[API_MAX_HEADERS];
    int nhdr;
    char detail[512]; /* problem detail when a handler fails */

    /* internal */
    void *priv;
} api_request;

typedef ls_status (*api_handler)(api_request *rq);

/* A query-string argument, or NULL.  Borrowed from the connection. */
const char *api_query(api_request *rq, const char *name);

/* A query value as a finite number within [lo, hi]: 0 when it is one. */
int api_parse_number(const char *s, double lo, double hi, double *out);

/* 1 when s (may be NULL) is one of the n words of an allowlist. */
int api_one_of(const char *s, const char *const *list, size_t n);

/* "minlon,minlat,maxlon,maxlat" in WGS 84 degrees, in range and ordered:
 * 0 when it is one. */
int api_parse_bbox(const char *s, double b[4]);

/* A request header, or NULL.  Borrowed from the connection. */
const char *api_header(api_request *rq, const char *name);

/* The request's database connection, inside its transaction with the
 * security context set (anonymous when no token was given).  LS_EUNAVAIL
 * (503) when the database cannot be reached. */
ls_status api_db(api_request *rq, PGconn **out);

/* Sets the response.  `body` must outlive the request (arena or static). */
ls_status api_reply(api_request *rq, int status, const char *type, const char *body, size_t len);

/* Runs a query (in the request's transaction) whose first cell is the
 * whole response body, and replies 200 with it; 404 with `notfound` when
 * the query returns no row or NULL. */
ls_status api_reply_sql(api_request *rq, const char *what, const char *sql, int n,
                        const char *const *p, const char *type, const char *notfound);

/* Sends the file at `path` (streamed, not read into memory). */
ls_status api_reply_file(api_request *rq, int status, const char *type, const char *path);

/* Prints `json` (which the caller keeps and frees) as the response body. */
ls_status api_reply_json(api_request *rq, int status, const cJSON *json);

/* Adds a response header; name and value must outlive the request. */
void api_add_header(api_request *rq, const char *name, const char *value);

/* Records a client-facing problem detail and returns `st`, so handlers can
 * write `return api_fail(rq, LS_EINVAL, "lat must be a number");`. */
ls_status api_fail(api_request *rq, ls_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parses the body as JSON.  LS_EINVAL with "malformed JSON at byte N"
 * when it does not parse, or when the body is missing.  The tree is freed
 * when the request ends. */
ls_status api_json_body(api_request *rq, cJSON **out);

/* Runs `fn(ptr)` when the request ends (after the response is sent). */
void api_defer(api_request *rq, void (*fn)(void *), void *ptr);

/* The database pool and start time, for /healthz and /metrics. */
struct db_pool *api_server_pool(void);
double api_server_uptime(void);

/* `lomsong serve`: runs until SIGTERM/SIGINT; returns the exit code. */
int api_serve_cli(const ls_config *cfg, int argc, char **argv);

#endif
