/*
 * metrics.c — see metrics.h.  Counters live in static arrays sized by the
 * route table, under one mutex: an update is a few additions, far cheaper
 * than anything else a request does.
 */
#include "metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "router.h"
#include "server.h"
#include "../geo/db.h"

#define MAX_ROUTES 128
#define NSTATUS 600

static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5};
#define NBUCKETS ((int)LS_ARRAY_LEN(bounds))

struct route_metrics {
    unsigned long status[NSTATUS];
    unsigned long bucket[NBUCKETS + 1]; /* last = +Inf */
    unsigned long count;
    double sum;
};

/* slot 0 is "no route matched", route i is slot i + 1 */
static struct route_metrics m[MAX_ROUTES + 1];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

void api_metrics_observe(int route, int status, double seconds)
{
    int slot = route >= 0 && route < MAX_ROUTES ? route + 1 : 0;
    if (status < 0 || status >= NSTATUS)
        status = 0;
    int b = 0;
    while (b < NBUCKETS && seconds > bounds[b])
        b++;
    pthread_mutex_lock(&mu);
    m[slot].status[status]++;
    m[slot].bucket[b]++;
    m[slot].count++;
    m[slot].sum += seconds;
    pthread_mutex_unlock(&mu);
}

static void route_label(int slot, char *out, size_t len)
{
    if (slot == 0)
        snprintf(out, len, "unmatched");
    else
        snprintf(out, len, "%s %s", api_routes[slot - 1].method, api_routes[slot - 1].pattern);
}

ls_status api_metrics_render(buf *b)
{
    static struct route_metrics snap[MAX_ROUTES + 1];
    static pthread_mutex_t snap_mu = PTHREAD_MUTEX_INITIALIZER;
    ls_status st = LS_OK;
    int nslots = (api_nroutes < MAX_ROUTES ? api_nroutes : MAX_ROUTES) + 1;

    pthread_mutex_lock(&snap_mu);
    pthread_mutex_lock(&mu);
    memcpy(snap, m, sizeof(snap[0]) * (size_t)nslots);
    pthread_mutex_unlock(&mu);

    char label[200];
    st = buf_puts(b, "# HELP lomsong_http_requests_total HTTP requests by route and status.\n"
                     "# TYPE lomsong_http_requests_total counter\n");
    for (int s = 0; s < nslots && st == LS_OK; s++) {
        route_label(s, label, sizeof(label));
        for (int code = 0; code < NSTATUS && st == LS_OK; code++)
            if (snap[s].status[code])
                st = buf_printf(b, "lomsong_http_requests_total{route=\"%s\",status=\"%d\"} %lu\n",
                                label, code, snap[s].status[code]);
    }
    if (st == LS_OK)
        st = buf_puts(b, "# HELP lomsong_http_request_duration_seconds Time from the request's "
                         "first byte to its response.\n"
                         "# TYPE lomsong_http_request_duration_seconds histogram\n");
    for (int s = 0; s < nslots && st == LS_OK; s++) {
        if (!snap[s].count)
            continue;
        route_label(s, label, sizeof(label));
        unsigned long cum = 0;
        for (int k = 0; k <= NBUCKETS && st == LS_OK; k++) {
            cum += snap[s].bucket[k];
            char le[32];
            if (k < NBUCKETS)
                snprintf(le, sizeof(le), "%g", bounds[k]);
            else
                snprintf(le, sizeof(le), "+Inf");
            st = buf_printf(b,
                            "lomsong_http_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} "
                            "%lu\n",
                            label, le, cum);
        }
        if (st == LS_OK)
            st = buf_printf(b,
                            "lomsong_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                            "lomsong_http_request_duration_seconds_count{route=\"%s\"} %lu\n",
                            label, snap[s].sum, label, snap[s].count);
    }
    pthread_mutex_unlock(&snap_mu);

    db_pool *p = api_server_pool();
    if (p && st == LS_OK) {
        int size, in_use, open;
        long waits, failures;
        db_pool_stats(p, &size, &in_use, &open, &waits, &failures);
        st = buf_printf(b,
                        "# HELP lomsong_db_pool_size Database connections the pool may hold.\n"
                        "# TYPE lomsong_db_pool_size gauge\nlomsong_db_pool_size %d\n"
                        "# HELP lomsong_db_pool_in_use Connections lent to requests now.\n"
                        "# TYPE lomsong_db_pool_in_use gauge\nlomsong_db_pool_in_use %d\n"
                        "# HELP lomsong_db_pool_open Connections open now.\n"
                        "# TYPE lomsong_db_pool_open gauge\nlomsong_db_pool_open %d\n"
                        "# HELP lomsong_db_pool_waits_total Times a request waited for a "
                        "connection.\n"
                        "# TYPE lomsong_db_pool_waits_total counter\n"
                        "lomsong_db_pool_waits_total %ld\n"
                        "# HELP lomsong_db_pool_connect_failures_total Failed attempts to "
                        "connect.\n"
                        "# TYPE lomsong_db_pool_connect_failures_total counter\n"
                        "lomsong_db_pool_connect_failures_total %ld\n",
                        size, in_use, open, waits, failures);
    }
    if (st == LS_OK)
        st = buf_printf(b,
                        "# HELP lomsong_uptime_seconds Seconds since the server started.\n"
                        "# TYPE lomsong_uptime_seconds gauge\nlomsong_uptime_seconds %.0f\n",
                        api_server_uptime());
    return st;
}
