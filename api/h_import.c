/*
 * h_import.c — POST /v1/reports/import: a locality's file of dead-zone
 * reports (the same ingest as `lomsong ingest reports`, ingest/reports.c).
 * The body is the file; its format comes from ?format= or the
 * Content-Type, as for POST /v1/measurements.  The whole file is one batch
 * in the request's transaction: rows that fail validation go to the reject
 * file (GET /v1/batches/{id}/rejects), the rest are filed as POST
 * /v1/reports files one report.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <microhttpd.h>

#include "handlers.h"
#include "../geo/db.h"
#include "../ingest/reports.h"

#define MAX_MAPS 32

struct maps {
    const char *v[MAX_MAPS];
    int n;
};

static enum MHD_Result collect_map(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    LS_UNUSED(kind);
    struct maps *m = cls;
    if (strcmp(key, "map") == 0 && value && m->n < MAX_MAPS)
        m->v[m->n++] = value;
    return MHD_YES;
}

ls_status api_h_reports_import(api_request *rq)
{
    PGconn *c = NULL;
    ls_status st = api_db(rq, &c);
    if (st != LS_OK)
        return st;
    /* A big file takes longer than an ordinary request may. */
    if ((st = db_exec(c, "SET LOCAL statement_timeout = 1800000")) != LS_OK)
        return api_fail(rq, st, "the database did not accept the upload");

    char run[1024], dir[1100], rpath[1200];
    config_run_dir(rq->cfg, run, sizeof(run));
    snprintf(dir, sizeof(dir), "%s/rejects", run);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return api_fail(rq, LS_EIO, "the server cannot store reject files");
    snprintf(rpath, sizeof(rpath), "%s/%s.csv", dir, rq->id);

    struct maps maps = {{0}, 0};
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, collect_map, &maps);
    ingest_report_opts o;
    memset(&o, 0, sizeof(o));
    o.path = rq->upload_path;
    o.source_name = api_query(rq, "name") ? api_query(rq, "name") : "upload";
    o.crs = api_query(rq, "crs");
    o.maps = maps.v;
    o.nmaps = maps.n;
    o.reject_path = rpath;
    o.account_id = rq->who.account_id;
    o.province = rq->who.province_code;
    o.commune = strcmp(rq->who.unit_level, "commune") == 0 ? rq->who.unit_code : NULL;

    ingest_report_summary s;
    char err[1024];
    st = ingest_reports(c, &o, &s, err, sizeof(err));
    if (st != LS_OK)
        return api_fail(rq, st, "%s; nothing was stored", *err ? err : ls_status_str(st));
    char url[64];
    snprintf(url, sizeof(url), "/v1/batches/%lld/rejects", s.batch);
    char *json = ingest_report_summary_json(&s, *s.reject_file ? url : NULL);
    char *body = json ? arena_strdup(rq->a, json) : NULL;
    free(json);
    if (!body)
        return api_fail(rq, LS_ENOMEM, "the summary could not be built");
    char *loc = arena_printf(rq->a, "/v1/batches/%lld", s.batch);
    if (loc)
        api_add_header(rq, "Location", loc);
    return api_reply(rq, 201, "application/json", body, strlen(body));
}
