/*
 * server.c — libmicrohttpd glue, request life cycle, problem+json errors,
 * access log, graceful shutdown; see server.h.
 *
 * Limits that keep one client from hurting the others: a connection limit,
 * an idle timeout (libmicrohttpd has none by default, so idle keep-alives
 * would otherwise pile up until the limit), a per-connection memory limit
 * that bounds the request line and headers, a body cap checked against
 * Content-Length before any byte is read and again while reading, a
 * statement timeout on each request's SQL, and a bounded wait for a
 * database connection.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "../geo/area.h"
#include "../geo/db.h"

struct deferred {
    void (*fn)(void *);
    void *ptr;
    struct deferred *next;
};

struct priv {
    buf body;
    FILE *upload; /* ROUTE_UPLOAD: the body goes here instead of `body` */
    size_t upload_len;
    char upload_path[128];
    int too_big;
    int responded;
    int in_tx;
    ls_status match;
    size_t limit;
    char allow[64];
    struct deferred *defers;
};

static struct {
    const ls_config *cfg;
    db_pool *pool;
    atomic_long in_flight;
    atomic_ulong next_id;
    unsigned id_prefix;
    double t_start;
} srv;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

db_pool *api_server_pool(void)
{
    return srv.pool;
}

double api_server_uptime(void)
{
    return srv.t_start > 0 ? now_s() - srv.t_start : 0;
}

/* ------------------------------------------------------------ helpers */

const char *api_query(api_request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

int api_parse_number(const char *s, double lo, double hi, double *out)
{
    if (!s || !*s)
        return -1;
    char *end = NULL;
    double d = strtod(s, &end);
    if (*end || !isfinite(d) || d < lo || d > hi)
        return -1;
    *out = d;
    return 0;
}

int api_one_of(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

int api_parse_bbox(const char *s, double b[4])
{
    const char *p = s;
    for (int i = 0; i < 4; i++) {
        char *end = NULL;
        b[i] = strtod(p, &end);
        if (end == p || !isfinite(b[i]))
            return -1;
        if (i < 3 && *end != ',')
            return -1;
        p = end + (i < 3);
        if (i == 3 && *end)
            return -1;
    }
    if (b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90 || !(b[0] < b[2]) || !(b[1] < b[3]))
        return -1;
    return 0;
}

const char *api_header(api_request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

void api_add_header(api_request *rq, const char *name, const char *value)
{
    if (rq->nhdr < API_MAX_HEADERS) {
        rq->hdr_name[rq->nhdr] = name;
        rq->hdr_value[rq->nhdr] = value;
        rq->nhdr++;
    }
}

ls_status api_reply(api_request *rq, int status, const char *type, const char *body, size_t len)
{
    rq->status = status;
    rq->resp_type = type;
    rq->resp_body = body;
    rq->resp_len = len;
    return LS_OK;
}

ls_status api_reply_file(api_request *rq, int status, const char *type, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return api_fail(rq, LS_ENOTFOUND, "the file is no longer there");
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return api_fail(rq, LS_EIO, "the file cannot be read");
    }
    rq->resp_fd = fd;
    return api_reply(rq, status, type, NULL, (size_t)sb.st_size);
}

ls_status api_reply_sql(api_request *rq, const char *what, const char *sql, int n,
                        const char *const *p, const char *type, const char *notfound)
{
    PGconn *c = NULL;
    ls_status st = api_db(rq, &c);
    if (st != LS_OK)
        return st;
    PGresult *r = NULL;
    st = db_query(c, what, sql, n, p, &r, NULL, 0);
    if (st != LS_OK)
        return api_fail(rq, st, "the data could not be read");
    if (PQntuples(r) == 0 || PQgetisnull(r, 0, 0)) {
        PQclear(r);
        return api_fail(rq, LS_ENOTFOUND, "%s", notfound ? notfound : "not found");
    }
    size_t len = (size_t)PQgetlength(r, 0, 0);
    char *body = arena_strndup(rq->a, PQgetvalue(r, 0, 0), len);
    PQclear(r);
    if (!body)
        return api_fail(rq, LS_ENOMEM, "the response is too large");
    return api_reply(rq, 200, type, body, len);
}

ls_status api_reply_json(api_request *rq, int status, const cJSON *json)
{
    char *s = cJSON_PrintUnformatted(json);
    if (!s)
        return api_fail(rq, LS_ENOMEM, "the response could not be built");
    size_t n = strlen(s);
    char *copy = arena_strndup(rq->a, s, n);
    cJSON_free(s);
    if (!copy)
        return api_fail(rq, LS_ENOMEM, "the response is too large");
    return api_reply(rq, status, "application/json", copy, n);
}

ls_status api_fail(api_request *rq, ls_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rq->detail, sizeof(rq->detail), fmt, ap);
    va_end(ap);
    return st;
}

void api_defer(api_request *rq, void (*fn)(void *), void *ptr)
{
    struct priv *pv = rq->priv;
    struct deferred *d = arena_alloc(rq->a, sizeof(*d));
    if (!d) {
        fn(ptr); /* cannot defer: release now rather than leak */
        return;
    }
    d->fn = fn;
    d->ptr = ptr;
    d->next = pv->defers;
    pv->defers = d;
}

static void free_json(void *p)
{
    cJSON_Delete(p);
}

ls_status api_json_body(api_request *rq, cJSON **out)
{
    *out = NULL;
    if (!rq->body || rq->body_len == 0)
        return api_fail(rq, LS_EINVAL, "the request needs a JSON body");
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(rq->body, rq->body_len, &end, 0);
    if (!j) {
        size_t off = end && end >= rq->body ? (size_t)(end - rq->body) : 0;
        return api_fail(rq, LS_EINVAL, "malformed JSON at byte %zu of the body", off);
    }
    api_defer(rq, free_json, j);
    *out = j;
    return LS_OK;
}

/* ----------------------------------------------------------- database */

static ls_status begin_tx(api_request *rq)
{
    struct priv *pv = rq->priv;
    char sql[96];
    snprintf(sql, sizeof(sql), "BEGIN; SET LOCAL statement_timeout = %d",
             srv.cfg->request_timeout_ms);
    /* A pooled connection may have died with a database restart and only
     * notice now: then it is dropped and one fresh connection is tried. */
    for (int attempt = 0; attempt < 2; attempt++) {
        PGconn *c = NULL;
        if (db_pool_acquire(srv.pool, srv.cfg->pool_wait_ms, &c) != LS_OK)
            break;
        PGresult *r = PQexec(c, sql);
        ls_status st = db_result_status(r);
        PQclear(r);
        if (st == LS_OK) {
            rq->db = c;
            pv->in_tx = 1;
            return LS_OK;
        }
        log_warn("request %s: could not begin a transaction: %s", rq->id, PQerrorMessage(c));
        db_pool_release(srv.pool, c);
        if (st != LS_EUNAVAIL)
            break;
    }
    api_add_header(rq, MHD_HTTP_HEADER_RETRY_AFTER, "5");
    return api_fail(rq, LS_EUNAVAIL, "the database is not available right now; try again shortly");
}

ls_status api_db(api_request *rq, PGconn **out)
{
    *out = NULL;
    if (!rq->db) {
        ls_status st = begin_tx(rq);
        if (st != LS_OK)
            return st;
        if (!rq->authenticated && (st = auth_anonymous(rq->db)) != LS_OK)
            return api_fail(rq, st, "the database did not accept the request");
    }
    *out = rq->db;
    return LS_OK;
}

/* Ends the transaction (commit when `st` is LS_OK) and gives the connection
 * back before the response is sent, so slow clients do not hold it. */
static ls_status end_tx(api_request *rq, ls_status st)
{
    struct priv *pv = rq->priv;
    if (!rq->db)
        return st;
    if (pv->in_tx) {
        if (st == LS_OK) {
            ls_status cst = db_exec(rq->db, "COMMIT");
            if (cst != LS_OK)
                st = api_fail(rq, cst == LS_ECONFLICT ? LS_ECONFLICT : LS_EUNAVAIL,
                              "the change could not be committed; nothing was saved");
        } else {
            PGresult *r = PQexec(rq->db, "ROLLBACK");
            PQclear(r);
        }
        pv->in_tx = 0;
    }
    db_pool_release(srv.pool, rq->db);
    rq->db = NULL;
    return st;
}

/* --------------------------------------------------------------- auth */

static ls_status authenticate(api_request *rq)
{
    const char *h = api_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
    unsigned roles = rq->route->roles;
    if (!h) {
        if (roles == 0)
            return LS_OK;
        api_add_header(rq, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"lomsong\"");
        return api_fail(rq, LS_EUNAUTH,
                        "this resource needs a token: send the header Authorization: Bearer "
                        "<token>");
    }
    if (strncasecmp(h, "Bearer ", 7) != 0) {
        api_add_header(rq, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"lomsong\"");
        return api_fail(rq, LS_EUNAUTH, "the Authorization header must be 'Bearer <token>'");
    }
    const char *token = h + 7;
    while (*token == ' ')
        token++;
    ls_status st = begin_tx(rq);
    if (st != LS_OK)
        return st;
    st = auth_login(rq->db, token, &rq->who);
    if (st == LS_EUNAUTH) {
        api_add_header(rq, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                       "Bearer realm=\"lomsong\", error=\"invalid_token\"");
        return api_fail(rq, LS_EUNAUTH, "the token is not valid: unknown, revoked or expired");
    }
    if (st == LS_EUNAVAIL) {
        api_add_header(rq, MHD_HTTP_HEADER_RETRY_AFTER, "5");
        return api_fail(rq, LS_EUNAVAIL, "the database is not available right now");
    }
    if (st != LS_OK)
        return api_fail(rq, st, "the token could not be checked");
    rq->authenticated = 1;
    if (roles && !(roles & rq->who.role))
        return api_fail(rq, LS_EFORBIDDEN, "a %s account may not use %s %s", rq->who.role_name,
                        rq->method, rq->route->pattern);
    return LS_OK;
}

/* ----------------------------------------------------------- responses */

static void render_problem(api_request *rq, ls_status st)
{
    if (rq->resp_fd >= 0) {
        close(rq->resp_fd);
        rq->resp_fd = -1;
    }
    int code = ls_status_http(st);
    const char *title = MHD_get_reason_phrase_for((unsigned)code);
    if (!*rq->detail)
        snprintf(rq->detail, sizeof(rq->detail), "%s", ls_status_str(st));
    buf b;
    buf_init(&b, 4096);
    buf_printf(&b, "{\"type\":\"about:blank\",\"title\":");
    buf_json_str(&b, title && *title ? title : ls_status_str(st));
    buf_printf(&b, ",\"status\":%d,\"detail\":", code);
    buf_json_str(&b, rq->detail);
    buf_puts(&b, ",\"instance\":");
    buf_json_str(&b, rq->path);
    buf_printf(&b, ",\"request_id\":\"%s\"}", rq->id);
    size_t n = 0;
    char *s = buf_detach(&b, &n);
    char *copy = s ? arena_strndup(rq->a, s, n) : NULL;
    free(s);
    if (!copy) {
        copy = "{\"type\":\"about:blank\",\"status\":500}";
        n = strlen(copy);
        code = 500;
    }
    api_reply(rq, code, "application/problem+json", copy, n);
}

static enum MHD_Result send_response(api_request *rq)
{
    struct priv *pv = rq->priv;
    struct MHD_Response *resp;
    if (rq->resp_fd >= 0) {
        resp = MHD_create_response_from_fd64(rq->resp_len, rq->resp_fd); /* MHD closes it */
        rq->resp_fd = -1;
    } else {
        resp = MHD_create_response_from_buffer(rq->resp_len, (void *)rq->resp_body,
                                               MHD_RESPMEM_MUST_COPY);
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            rq->resp_type ? rq->resp_type : "application/json");
    MHD_add_response_header(resp, "X-Request-Id", rq->id);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    int has_cache = 0;
    for (int i = 0; i < rq->nhdr; i++) {
        MHD_add_response_header(resp, rq->hdr_name[i], rq->hdr_value[i]);
        has_cache |= strcasecmp(rq->hdr_name[i], MHD_HTTP_HEADER_CACHE_CONTROL) == 0;
    }
    if (!has_cache)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                                rq->authenticated ? "private, no-store" : "no-cache");
    enum MHD_Result ret = MHD_queue_response(rq->conn, (unsigned)rq->status, resp);
    MHD_destroy_response(resp);
    pv->responded = 1;
    return ret;
}

static enum MHD_Result dispatch(api_request *rq)
{
    struct priv *pv = rq->priv;
    ls_status st;
    if (pv->too_big) {
        st = api_fail(rq, LS_ETOOBIG, "the request body is larger than the limit of %zu bytes",
                      pv->limit);
    } else if (pv->match == LS_ENOTFOUND) {
        st = api_fail(rq, LS_ENOTFOUND, "there is no resource at %s", rq->path);
    } else if (pv->match == LS_EMETHOD) {
        api_add_header(rq, MHD_HTTP_HEADER_ALLOW, pv->allow);
        st = api_fail(rq, LS_EMETHOD, "%s is not allowed on %s; allowed: %s", rq->method, rq->path,
                      pv->allow);
    } else {
        rq->body = pv->body.data;
        rq->body_len = pv->body.len;
        st = LS_OK;
        if (rq->route->flags & ROUTE_UPLOAD) {
            if (pv->upload && fclose(pv->upload) != 0)
                st = api_fail(rq, LS_EIO, "the upload could not be stored");
            pv->upload = NULL;
            if (st == LS_OK && !rq->upload_ext)
                st = api_fail(rq, LS_EUNSUPPORTED,
                              "say what the file is with ?format= (csv, tsv, xlsx, ods, geojson, "
                              "gpkg, kml, kmz, zip for a zipped Shapefile, gpx) or its "
                              "Content-Type");
            else if (st == LS_OK && pv->upload_len == 0)
                st = api_fail(rq, LS_EINVAL, "the request has no file in its body");
        }
        if (st == LS_OK)
            st = authenticate(rq);
        if (st == LS_OK)
            st = rq->route->fn(rq);
        if (st == LS_OK && rq->status == 0)
            st = api_fail(rq, LS_EINTERNAL, "the handler produced no response");
    }
    st = end_tx(rq, st);
    if (st != LS_OK) {
        if (st == LS_EUNAVAIL) {
            int has = 0;
            for (int i = 0; i < rq->nhdr; i++)
                has |= strcmp(rq->hdr_name[i], MHD_HTTP_HEADER_RETRY_AFTER) == 0;
            if (!has)
                api_add_header(rq, MHD_HTTP_HEADER_RETRY_AFTER, "5");
        }
        render_problem(rq, st);
    }
    return send_response(rq);
}

/* ------------------------------------------------------- MHD callbacks */

/* The format of an uploaded file, as the extension GDAL recognises it by:
 * from ?format=, else from the Content-Type. */
static const char *upload_ext(api_request *rq)
{
    static const struct {
        const char *ext, *type;
    } formats[] = {
        {"csv", "text/csv"},
        {"tsv", "text/tab-separated-values"},
        {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
        {"geojson", "application/geo+json"},
        {"geojson", "application/json"},
        {"gpkg", "application/geopackage+sqlite3"},
        {"kml", "application/vnd.google-earth.kml+xml"},
        {"kmz", "application/vnd.google-earth.kmz"},
        {"zip", "application/zip"},
        {"zip", "application/x-zip-compressed"},
        {"gpx", "application/gpx+xml"},
    };
    const char *f = api_query(rq, "format");
    if (f) {
        if (strcmp(f, "shp") == 0 || strcmp(f, "shp.zip") == 0)
            return "zip";
        for (size_t i = 0; i < LS_ARRAY_LEN(formats); i++)
            if (strcasecmp(f, formats[i].ext) == 0)
                return formats[i].ext;
        return NULL;
    }
    const char *ct = api_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!ct)
        return NULL;
    size_t n = strcspn(ct, ";");
    while (n && ct[n - 1] == ' ')
        n--;
    for (size_t i = 0; i < LS_ARRAY_LEN(formats); i++)
        if (strlen(formats[i].type) == n && strncasecmp(ct, formats[i].type, n) == 0)
            return formats[i].ext;
    return NULL;
}

/* Spools an upload to a temporary file named with its format's extension. */
static ls_status start_upload(api_request *rq)
{
    struct priv *pv = rq->priv;
    rq->upload_ext = upload_ext(rq);
    if (!rq->upload_ext)
        return LS_OK; /* refused with 415 once the request is complete */
    const char *tmp = getenv("TMPDIR");
    snprintf(pv->upload_path, sizeof(pv->upload_path), "%s/lomsong-upload-XXXXXX.%s",
             tmp && *tmp && strlen(tmp) < 64 ? tmp : "/tmp", rq->upload_ext);
    int fd = mkstemps(pv->upload_path, (int)strlen(rq->upload_ext) + 1);
    if (fd < 0) {
        log_error("request %s: cannot create %s: %s", rq->id, pv->upload_path, strerror(errno));
        pv->upload_path[0] = '\0';
        return LS_EIO;
    }
    pv->upload = fdopen(fd, "wb");
    if (!pv->upload) {
        close(fd);
        return LS_EIO;
    }
    rq->upload_path = pv->upload_path;
    return LS_OK;
}

static api_request *request_new(struct MHD_Connection *conn, const char *url, const char *method)
{
    /* Per-request arena cap: the body has its own cap; this bounds the rest
     * (response text, parameters, temporary strings). */
    arena *a = arena_new(srv.cfg->max_body + 64 * 1024 * 1024);
    if (!a)
        return NULL;
    api_request *rq = arena_alloc(a, sizeof(*rq));
    struct priv *pv = arena_alloc(a, sizeof(*pv));
    if (!rq || !pv) {
        arena_free(a);
        return NULL;
    }
    rq->a = a;
    rq->priv = pv;
    rq->cfg = srv.cfg;
    rq->conn = conn;
    rq->method = arena_strdup(a, method);
    rq->path = arena_strdup(a, url);
    rq->t_start = now_s();
    rq->resp_fd = -1;
    snprintf(rq->id, sizeof(rq->id), "%04x-%06lx", srv.id_prefix & 0xffff,
             (unsigned long)atomic_fetch_add(&srv.next_id, 1) & 0xffffff);
    if (!rq->method || !rq->path) {
        arena_free(a);
        return NULL;
    }
    return rq;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    LS_UNUSED(cls);
    LS_UNUSED(version);
    api_request *rq = *con_cls;
    if (!rq) {
        rq = request_new(conn, url, method);
        if (!rq)
            return MHD_NO; /* out of memory: drop the connection */
        atomic_fetch_add(&srv.in_flight, 1);
        *con_cls = rq;
        struct priv *pv = rq->priv;
        pv->match = api_route_match(rq->a, method, url, &rq->route, rq->params, pv->allow,
                                    sizeof(pv->allow));
        pv->limit = rq->route && (rq->route->flags & ROUTE_UPLOAD) ? srv.cfg->max_upload
                                                                   : srv.cfg->max_body;
        buf_init(&pv->body, pv->limit);
        if (rq->route && (rq->route->flags & ROUTE_UPLOAD) && start_upload(rq) != LS_OK)
            return MHD_NO;
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end = NULL;
            errno = 0;
            unsigned long long n = strtoull(cl, &end, 10);
            if (errno || end == cl || *end || n > pv->limit) {
                /* Answer before reading a byte of it; the connection closes. */
                pv->too_big = 1;
                return dispatch(rq);
            }
        }
        return MHD_YES;
    }
    struct priv *pv = rq->priv;
    if (*upload_data_size && pv->upload) {
        if (!pv->too_big && !pv->responded) {
            pv->upload_len += *upload_data_size;
            if (pv->upload_len > pv->limit ||
                fwrite(upload_data, 1, *upload_data_size, pv->upload) != *upload_data_size)
                pv->too_big = 1;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!pv->too_big && !pv->responded &&
            buf_append(&pv->body, upload_data, *upload_data_size) != LS_OK) {
            pv->too_big = 1;
            buf_free(&pv->body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (pv->responded)
        return MHD_YES;
    return dispatch(rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    LS_UNUSED(cls);
    LS_UNUSED(conn);
    api_request *rq = *con_cls;
    if (!rq)
        return;
    *con_cls = NULL;
    struct priv *pv = rq->priv;
    double secs = now_s() - rq->t_start;
    int status = pv->responded ? rq->status : 0;
    api_metrics_observe(rq->route ? api_route_index(rq->route) : -1, status, secs);

    buf line;
    buf_init(&line, 8192);
    buf_printf(&line, "\"req\":\"%s\",\"method\":", rq->id);
    buf_json_str(&line, rq->method);
    buf_puts(&line, ",\"path\":");
    buf_json_str(&line, rq->path);
    buf_printf(&line, ",\"status\":%d,\"ms\":%.2f,\"bytes\":%zu", status, secs * 1000.0,
               pv->responded ? rq->resp_len : 0);
    if (rq->authenticated)
        buf_printf(&line, ",\"account\":%lld,\"role\":\"%s\"", rq->who.account_id,
                   rq->who.role_name);
    else
        buf_puts(&line, ",\"account\":null");
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        buf_printf(&line, ",\"aborted\":\"%s\"",
                   toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED   ? "timeout"
                   : toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? "shutdown"
                   : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT    ? "client"
                                                                   : "error");
    if (line.data)
        log_fields(status >= 500 || status == 0 ? LOG_WARN : LOG_INFO, line.data);
    buf_free(&line);

    for (struct deferred *d = pv->defers; d; d = d->next)
        d->fn(d->ptr);
    if (rq->db)
        end_tx(rq, LS_EINTERNAL);
    buf_free(&pv->body);
    if (pv->upload)
        fclose(pv->upload);
    if (*pv->upload_path)
        unlink(pv->upload_path);
    if (rq->resp_fd >= 0)
        close(rq->resp_fd);
    arena_free(rq->a);
    atomic_fetch_sub(&srv.in_flight, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    LS_UNUSED(cls);
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    log_warn("http: %s", msg);
}

/* ---------------------------------------------------------- start-up */

/* Row-level security does not bind superusers, BYPASSRLS roles or table
 * owners; the server must never run as one. */
static ls_status check_role(PGconn *c)
{
    PGresult *r = NULL;
    ls_status st =
        db_query(c, "role check",
                 "SELECT r.rolsuper OR r.rolbypassrls,"
                 " EXISTS (SELECT 1 FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace"
                 "  WHERE n.nspname = 'public' AND k.relkind IN ('r', 'p')"
                 "  AND pg_has_role(current_user, k.relowner, 'MEMBER')),"
                 " current_user"
                 " FROM pg_roles r WHERE r.rolname = current_user",
                 0, NULL, &r, NULL, 0);
    if (st != LS_OK)
        return st;
    if (PQntuples(r) == 1 &&
        (strcmp(PQgetvalue(r, 0, 0), "t") == 0 || strcmp(PQgetvalue(r, 0, 1), "t") == 0)) {
        log_error("refusing to serve as database role '%s': it is a superuser, bypasses "
                  "row-level security or owns the tables, so per-account scoping would not "
                  "apply; connect as the application role (lomsong_app)",
                  PQgetvalue(r, 0, 2));
        st = LS_EFORBIDDEN;
    }
    PQclear(r);
    return st;
}

static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[128];
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return -1;
    size_t hl = (size_t)(colon - s);
    if (hl >= sizeof(host))
        return -1;
    memcpy(host, s, hl);
    host[hl] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!*(colon + 1) || *end || port < 0 || port > 65535)
        return -1;
    memset(ss, 0, sizeof(*ss));
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            return -1;
        *len = sizeof(*a6);
        return 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        return -1;
    *len = sizeof(*a4);
    return 0;
}

/* The province grid uploads check rows against, taken before the first
 * upload needs it (read from area_grids in 6-32 ms, or built (365 M instructions)
 * and stored there when it is missing), on a thread of its own so that
 * the server starts without waiting for it. */
static void *warm_area(void *arg)
{
    (void)arg;
    PGconn *c = NULL;
    if (db_pool_acquire(srv.pool, 0, &c) != LS_OK)
        return NULL;
    geo_area_prepare(c);
    db_pool_release(srv.pool, c);
    return NULL;
}

int api_serve_cli(const ls_config *cfg, int argc, char **argv)
{
    static const char *const flags[] = {"print-tokens?", NULL};
    const char *v[2], *pos[1];
    char err[256];
    if (cli_parse(argc, argv, 1, flags, v, pos, 0, err, sizeof(err)) < 0) {
        fprintf(stderr, "lomsong serve: %s\n", err);
        return 2;
    }
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    if (parse_listen(cfg->listen, &ss, &sslen) != 0) {
        fprintf(stderr,
                "lomsong serve: --listen must be ADDR:PORT (e.g. 127.0.0.1:8080 or "
                "[::1]:8080), not '%s'\n",
                cfg->listen);
        return 2;
    }
    double t0 = now_s();
    srv.cfg = cfg;
    srv.t_start = t0;
    unsigned rnd = 0;
    if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
        rnd = (unsigned)getpid();
    srv.id_prefix = rnd;

    /* Signals are taken synchronously by this thread; workers never see them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    char ci[2048], masked[2048];
    config_app_conninfo(cfg, ci, sizeof(ci));
    config_mask_conninfo(ci, masked, sizeof(masked));
    srv.pool = db_pool_new(ci, cfg->pool_size);
    if (!srv.pool)
        return 1;
    db_pool_set_check(srv.pool, check_role);
    PGconn *c = NULL;
    ls_status st = db_pool_acquire(srv.pool, 0, &c);
    if (st == LS_EFORBIDDEN) {
        fprintf(stderr, "lomsong serve: refusing to start: the database role is a superuser, "
                        "bypasses row-level security or owns the tables (see the log)\n");
        db_pool_free(srv.pool);
        return 1;
    }
    if (st == LS_OK)
        db_pool_release(srv.pool, c);
    else
        log_warn("database %s not reachable at start; answering 503 until it is", masked);

    int use_v6 = ss.ss_family == AF_INET6;
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
            (use_v6 ? MHD_USE_IPv6 : 0),
        0, NULL, NULL, on_request, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)cfg->threads, MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->idle_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, NULL, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
        MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "lomsong serve: cannot listen on %s: %s\n", cfg->listen, strerror(errno));
        db_pool_free(srv.pool);
        return 1;
    }
    pthread_t warm;
    int warming = st == LS_OK && pthread_create(&warm, NULL, warm_area, NULL) == 0;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info ? info->port : 0;
    char host[160];
    if (use_v6)
        snprintf(host, sizeof(host), "[%s]", cfg->listen + 1);
    else
        snprintf(host, sizeof(host), "%s", cfg->listen);
    char *colon = strrchr(host, ':');
    if (colon && !use_v6)
        *colon = '\0';
    if (use_v6 && (colon = strstr(host, "]:")))
        colon[1] = '\0';
    log_info("listening on http://%s:%u (threads %d, pool %d, database %s), started in %.1f ms",
             host, port, cfg->threads, cfg->pool_size, masked, (now_s() - t0) * 1000.0);
    printf("lomsong serving on http://%s:%u\n", host, port);
    if (v[0])
        auth_demo_tokens(cfg, stdout);
    fflush(stdout);

    int sig = 0;
    sigwait(&set, &sig);
    log_info("received %s: finishing requests in flight, then stopping",
             sig == SIGINT ? "SIGINT" : "SIGTERM");
    MHD_socket lfd = MHD_quiesce_daemon(d);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    double deadline = now_s() + 30;
    while (atomic_load(&srv.in_flight) > 0 && now_s() < deadline)
        usleep(10 * 1000);
    long left = atomic_load(&srv.in_flight);
    MHD_stop_daemon(d);
    if (warming)
        pthread_join(warm, NULL);
    db_pool_free(srv.pool);
    srv.pool = NULL;
    log_info("stopped%s", left > 0 ? " (some requests were still running after 30 s)" : "");
    return 0;
}
