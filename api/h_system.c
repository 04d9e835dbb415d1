/*
 * h_system.c — /healthz, /metrics, /openapi.json and /v1/me.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "embed.h"
#include "handlers.h"
#include "metrics.h"
#include "../geo/db.h"

#ifndef LS_VERSION
#define LS_VERSION "0.1.0"
#endif

ls_status api_h_healthz(api_request *rq)
{
    PGconn *c = NULL;
    ls_status st = api_db(rq, &c);
    if (st != LS_OK)
        return api_fail(rq, LS_EUNAVAIL, "unhealthy: the database is not reachable");
    PGresult *r = NULL;
    st = db_query(c, "healthz", "SELECT coalesce((SELECT max(version) FROM schema_migrations), 0)",
                  0, NULL, &r, NULL, 0);
    if (st != LS_OK)
        return api_fail(rq, LS_EUNAVAIL, "unhealthy: the database does not answer");
    char *body = arena_printf(rq->a,
                              "{\"status\":\"ok\",\"database\":\"ok\",\"schema_version\":%s,"
                              "\"version\":\"%s\",\"uptime_s\":%.0f}",
                              PQgetvalue(r, 0, 0), LS_VERSION, api_server_uptime());
    PQclear(r);
    if (!body)
        return LS_ENOMEM;
    api_add_header(rq, "Cache-Control", "no-store");
    return api_reply(rq, 200, "application/json", body, strlen(body));
}

ls_status api_h_metrics(api_request *rq)
{
    buf b;
    buf_init(&b, 4 * 1024 * 1024);
    ls_status st = api_metrics_render(&b);
    if (st != LS_OK) {
        buf_free(&b);
        return api_fail(rq, st, "metrics could not be rendered");
    }
    char *copy = arena_strndup(rq->a, b.data ? b.data : "", b.len);
    size_t n = b.len;
    buf_free(&b);
    if (!copy)
        return LS_ENOMEM;
    api_add_header(rq, "Cache-Control", "no-store");
    return api_reply(rq, 200, "text/plain; version=0.0.4; charset=utf-8", copy, n);
}

ls_status api_h_openapi(api_request *rq)
{
    for (const ls_embedded *e = embedded_assets; e->name; e++)
        if (strcmp(e->name, "openapi.json") == 0) {
            api_add_header(rq, "Cache-Control", "public, max-age=300");
            return api_reply(rq, 200, "application/json", e->data, e->len);
        }
    return api_fail(rq, LS_ENOTFOUND, "this build carries no OpenAPI document");
}

ls_status api_h_me(api_request *rq)
{
    char account[32], token[32];
    snprintf(account, sizeof(account), "%lld", rq->who.account_id);
    snprintf(token, sizeof(token), "%lld", rq->who.token_id);
    const auth_identity *w = &rq->who;
    const char *p[] = {account,
                       w->role_name,
                       w->name,
                       *w->unit_level ? w->unit_level : NULL,
                       *w->unit_code ? w->unit_code : NULL,
                       *w->carrier_code ? w->carrier_code : NULL,
                       token,
                       *w->expires_at ? w->expires_at : NULL,
                       *w->province_code ? w->province_code : NULL};
    return api_reply_sql(
        rq, "me",
        "SELECT json_build_object('account_id', $1::bigint, 'role', $2::text, 'name', $3::text,"
        " 'unit', CASE WHEN $5::text IS NULL THEN NULL ELSE json_build_object('level', $4::text,"
        "   'code', $5::text, 'province_code', $9::text, 'name', (SELECT name FROM admin_units"
        "   WHERE level = $4 AND code = $5 AND valid_to IS NULL LIMIT 1)) END,"
        " 'carrier', CASE WHEN $6::text IS NULL THEN NULL ELSE (SELECT json_build_object("
        "   'code', code, 'name', name, 'mcc_mnc', mcc_mnc) FROM carriers WHERE code = $6) END,"
        " 'token', json_build_object('id', $7::bigint, 'expires_at', $8::text))::text",
        9, p, "application/json", "the account is gone");
}
