/*
 * metrics.h — request counters and latency histograms per route, rendered
 * in the Prometheus text format at /metrics together with the database
 * pool's state.
 */
#ifndef LS_METRICS_H
#define LS_METRICS_H

#include "buf.h"
#include "ls.h"

/* Records one finished request: route index (-1 when no route matched),
 * HTTP status, duration in seconds.  Thread-safe. */
void api_metrics_observe(int route, int status, double seconds);

/* Appends the metrics text to b. */
ls_status api_metrics_render(buf *b);

#endif
