/*
 * h_import.c — POST /v1/reports/import: a locality's file of dead-zone
 * reports (the same ingest as `lomsong ingest reports`, ingest/reports.c).
 * The body is the file; its format comes from ?format= or the
 * Content-Type, as for POST /v1/measurements.  The whole file is one batch
 * in the request's transaction: rows that fail validation go to the reject
 * file (GET /v1/batches/{id}/rejects), the rest are filed as POST
 * /v1/reports files one report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "../geo/db.h"
#include "../ingest/reports.h"

ls_status api_h_reports_import(api_request *rq)
{
    PGconn *c = NULL;
    char rpath[1200];
    const char **maps = NULL;
    int nmaps = 0;
    ls_status st = api_upload_start(rq, &c, rpath, sizeof(rpath), &maps, &nmaps);
    if (st != LS_OK)
        return st;
    ingest_report_opts o;
    memset(&o, 0, sizeof(o));
    o.path = rq->upload_path;
    o.source_name = api_query(rq, "name") ? api_query(rq, "name") : "upload";
    o.crs = api_query(rq, "crs");
    o.maps = maps;
    o.nmaps = nmaps;
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
    return api_reply_batch(rq, s.batch,
                           ingest_report_summary_json(&s, *s.reject_file ? url : NULL));
}
