/*
 * handlers.h — the endpoint handlers named in the route table.
 */
#ifndef LS_HANDLERS_H
#define LS_HANDLERS_H

#include "server.h"

/* api/h_system.c */
ls_status api_h_healthz(api_request *rq);
ls_status api_h_metrics(api_request *rq);
ls_status api_h_openapi(api_request *rq);
ls_status api_h_me(api_request *rq);

/* api/h_units.c */
ls_status api_h_units_list(api_request *rq);
ls_status api_h_unit_get(api_request *rq);
ls_status api_h_units_locate(api_request *rq);
ls_status api_h_units_locate_many(api_request *rq);
ls_status api_h_carriers(api_request *rq);

/* api/h_measure.c */
/* What a file upload (POST /v1/measurements, /v1/reports/import) starts with:
 * the request's database connection with the long statement timeout, the
 * path of its reject file, and the ?map=COLUMN=FIELD overrides (in the
 * request's arena). */
ls_status api_upload_start(api_request *rq, PGconn **c, char *rpath, size_t rlen,
                           const char ***maps, int *nmaps);
/* 201 with a batch summary (malloc'd JSON, freed here) and its Location. */
ls_status api_reply_batch(api_request *rq, long long batch, char *json);
ls_status api_h_measurements_post(api_request *rq);
ls_status api_h_batch_get(api_request *rq);
ls_status api_h_batch_rejects(api_request *rq);
ls_status api_h_coverage(api_request *rq);
ls_status api_h_coverage_at(api_request *rq);

/* api/h_reports.c */
ls_status api_h_reports_post(api_request *rq);
ls_status api_h_reports_list(api_request *rq);
ls_status api_h_report_get(api_request *rq);
ls_status api_h_points_list(api_request *rq);
ls_status api_h_point_get(api_request *rq);

/* The point as GET /v1/points/{id} answers it (id already checked). */
ls_status api_reply_point(api_request *rq, const char *id);

/* api/h_import.c */
ls_status api_h_reports_import(api_request *rq);

/* api/h_merge.c */
ls_status api_h_point_merge(api_request *rq);
ls_status api_h_report_split(api_request *rq);

/* api/h_workflow.c */
ls_status api_h_point_transition(api_request *rq);
ls_status api_h_assignments_list(api_request *rq);

/* api/h_stats.c */
ls_status api_h_stats_progress(api_request *rq);
ls_status api_h_stats_summary(api_request *rq);

/* api/h_web.c */
ls_status api_h_web_index(api_request *rq);
ls_status api_h_web_file(api_request *rq);
ls_status api_h_web_sw(api_request *rq);

/* api/h_export.c */
ls_status api_h_export(api_request *rq);
ls_status api_h_map(api_request *rq);

/* api/h_tiles.c */
ls_status api_h_tile(api_request *rq);
ls_status api_h_tilejson(api_request *rq);

#endif
