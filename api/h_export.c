/*
 * h_export.c — downloads: GET /v1/export/{layer}.{format} (points, reports,
 * coverage cells, units through GDAL; maps/export.c) and printable maps
 * GET /v1/maps/{province}.png|.tif (maps/render.c).
 *
 * One route serves every layer, so the roles of each layer's list endpoint
 * are checked here: points and reports need a token (and row-level
 * security in the request's transaction decides the rows), coverage and
 * units are public.  A map with the points layer needs a token likewise.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <cpl_vsi.h>
#include <microhttpd.h>

#include "handlers.h"
#include "../maps/export.h"
#include "../maps/render.h"

static const char *query_arg(void *ctx, const char *name)
{
    return api_query(ctx, name);
}

/* 401 without a token, 403 for a role not in `roles`. */
static ls_status need_role(api_request *rq, unsigned roles, const char *what)
{
    if (!roles)
        return LS_OK;
    if (!rq->authenticated) {
        api_add_header(rq, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"lomsong\"");
        return api_fail(rq, LS_EUNAUTH,
                        "%s needs a token: send the header Authorization: Bearer <token>", what);
    }
    if (!(roles & rq->who.role))
        return api_fail(rq, LS_EFORBIDDEN, "a %s account may not see %s", rq->who.role_name, what);
    return LS_OK;
}

/* Exports running now.  A big one holds a database connection for seconds:
 * at most half the pool does that at once, so that everyone else's
 * requests still find a connection. */
static int exporting;

static ls_status run_export(api_request *rq, const maps_export_req *q)
{
    PGconn *c = NULL;
    ls_status st = api_db(rq, &c);
    if (st != LS_OK)
        return st;
    char path[PATH_MAX], err[512];
    long long rows = 0;
    st = maps_export_temp(c, q, rq->cfg->export_max_rows, path, sizeof(path), &rows, err,
                          sizeof(err));
    if (st != LS_OK)
        return api_fail(rq, st, "%s", err);
    char disp[160];
    maps_export_disposition(q, disp, sizeof(disp));
    char *d = arena_strdup(rq->a, disp);
    char *n = arena_printf(rq->a, "%lld", rows);
    if (d)
        api_add_header(rq, "Content-Disposition", d);
    if (n)
        api_add_header(rq, "X-Feature-Count", n);
    st = api_reply_file(rq, 200, q->content_type, path);
    maps_export_remove(path); /* the open descriptor keeps the data until it is sent */
    return st;
}

ls_status api_h_export(api_request *rq)
{
    maps_export_req q;
    char err[512];
    ls_status st = maps_export_parse(rq->params[0], query_arg, rq, &q, err, sizeof(err));
    if (st != LS_OK)
        return api_fail(rq, st, "%s", err);
    if ((st = need_role(rq, q.roles, q.layer_name)) != LS_OK)
        return st;
    int most = rq->cfg->pool_size / 2 > 1 ? rq->cfg->pool_size / 2 : 1;
    if (__atomic_add_fetch(&exporting, 1, __ATOMIC_RELAXED) > most) {
        api_add_header(rq, MHD_HTTP_HEADER_RETRY_AFTER, "5");
        st = api_fail(rq, LS_EUNAVAIL, "%d exports are running already; try again shortly", most);
    } else {
        st = run_export(rq, &q);
    }
    __atomic_sub_fetch(&exporting, 1, __ATOMIC_RELAXED);
    return st;
}

static void free_vsi(void *p)
{
    VSIFree(p);
}

ls_status api_h_map(api_request *rq)
{
    maps_render_req q;
    char err[512];
    ls_status st = maps_render_parse(rq->params[0], query_arg, rq, &q, err, sizeof(err));
    if (st != LS_OK)
        return api_fail(rq, st, "%s", err);
    if (q.layers & MAPS_LAYER_POINTS) {
        st = need_role(rq, ROLE_MINISTRY | ROLE_LOCALITY | ROLE_CARRIER | ROLE_UTILITY,
                       "the points layer");
        if (st != LS_OK)
            return st;
    }
    PGconn *c = NULL;
    if ((st = api_db(rq, &c)) != LS_OK)
        return st;
    unsigned char *img = NULL;
    size_t len = 0;
    st = maps_render(c, &q, &img, &len, err, sizeof(err));
    if (st != LS_OK)
        return api_fail(rq, st, "%s", err);
    api_defer(rq, free_vsi, img);
    char *disp = arena_printf(rq->a, "inline; filename=\"%s-%s.%s\"", q.code,
                              q.layers & MAPS_LAYER_POINTS ? "points" : "coverage", q.ext);
    if (disp)
        api_add_header(rq, "Content-Disposition", disp);
    /* Coverage is public and changes with ingest batches; points are the account's. */
    api_add_header(rq, "Cache-Control",
                   q.layers & MAPS_LAYER_POINTS ? "private, no-store" : "public, max-age=60");
    return api_reply(rq, 200, q.content_type, (const char *)img, len);
}
