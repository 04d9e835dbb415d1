/*
 * router.c — the route table and the matcher; see router.h.
 */
#include "router.h"

#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "handlers.h"

const api_route api_routes[] = {
    {"GET", "/healthz", api_h_healthz, 0, 0},
    {"GET", "/metrics", api_h_metrics, ROLE_MINISTRY, 0},
    {"GET", "/openapi.json", api_h_openapi, 0, 0},
    /* the web page (api/h_web.c) */
    {"GET", "/", api_h_web_index, 0, 0},
    {"GET", "/sw.js", api_h_web_sw, 0, 0},
    {"GET", "/web/{file}", api_h_web_file, 0, 0},
    {"GET", "/v1/me", api_h_me, ROLE_ANY, 0},
    {"GET", "/v1/units", api_h_units_list, 0, 0},
    {"GET", "/v1/units/locate", api_h_units_locate, 0, 0},
    {"POST", "/v1/units/locate", api_h_units_locate_many, 0, 0},
    {"GET", "/v1/units/{code}", api_h_unit_get, 0, 0},
    {"GET", "/v1/carriers", api_h_carriers, 0, 0},
    {"POST", "/v1/measurements", api_h_measurements_post,
     ROLE_MINISTRY | ROLE_LOCALITY | ROLE_CARRIER, ROUTE_UPLOAD},
    {"GET", "/v1/batches/{id}", api_h_batch_get, ROLE_MINISTRY | ROLE_LOCALITY | ROLE_CARRIER, 0},
    {"GET", "/v1/batches/{id}/rejects", api_h_batch_rejects,
     ROLE_MINISTRY | ROLE_LOCALITY | ROLE_CARRIER, 0},
    {"POST", "/v1/reports", api_h_reports_post, ROLE_LOCALITY, 0},
    {"POST", "/v1/reports/import", api_h_reports_import, ROLE_LOCALITY, ROUTE_UPLOAD},
    {"POST", "/v1/reports/{id}/split", api_h_report_split, ROLE_MINISTRY, 0},
    {"GET", "/v1/reports", api_h_reports_list,
     ROLE_MINISTRY | ROLE_LOCALITY | ROLE_CARRIER | ROLE_UTILITY, 0},
    {"GET", "/v1/reports/{id}", api_h_report_get,
     ROLE_MINISTRY | ROLE_LOCALITY | ROLE_CARRIER | ROLE_UTILITY, 0},
    {"GET", "/v1/points", api_h_points_list,
     ROLE_MINISTRY | ROLE_LOCALITY | ROLE_CARRIER | ROLE_UTILITY, 0},
    {"GET", "/v1/points/{id}", api_h_point_get,
     ROLE_MINISTRY | ROLE_LOCALITY | ROLE_CARRIER | ROLE_UTILITY, 0},
    {"POST", "/v1/points/{id}/transitions", api_h_point_transition,
     ROLE_MINISTRY | ROLE_LOCALITY | ROLE_CARRIER | ROLE_UTILITY, 0},
    {"POST", "/v1/points/{id}/merge", api_h_point_merge, ROLE_MINISTRY, 0},
    {"GET", "/v1/assignments", api_h_assignments_list, ROLE_MINISTRY | ROLE_CARRIER | ROLE_UTILITY,
     0},
    {"GET", "/v1/stats/progress", api_h_stats_progress,
     ROLE_MINISTRY | ROLE_LOCALITY | ROLE_CARRIER, 0},
    {"GET", "/v1/stats/summary", api_h_stats_summary, ROLE_MINISTRY | ROLE_LOCALITY | ROLE_CARRIER,
     0},
    {"GET", "/v1/coverage", api_h_coverage, 0, 0},
    {"GET", "/v1/coverage/at", api_h_coverage_at, 0, 0},
    /* public routes: the handlers ask a token for the points and reports layers */
    {"GET", "/v1/export/{name}", api_h_export, 0, 0},
    {"GET", "/v1/maps/{name}", api_h_map, 0, 0},
    /* points needs a token; the handler says so (coverage and units do not) */
    {"GET", "/tiles/{layer}/{z}/{x}/{y}.mvt", api_h_tile, 0, 0},
    {"GET", "/tiles/{layer}.json", api_h_tilejson, 0, 0},
};
const int api_nroutes = (int)LS_ARRAY_LEN(api_routes);

int api_route_index(const api_route *r)
{
    return r ? (int)(r - api_routes) : -1;
}

/* Matches one pattern; 1 with params filled, 0 when it does not match. */
static int match(arena *a, const char *pattern, const char *path, const char **params)
{
    int np = 0;
    const char *p = pattern, *q = path;
    while (*p && *q) {
        if (*p != '/' || *q != '/')
            return 0;
        p++;
        q++;
        const char *pe = strchr(p, '/');
        const char *qe = strchr(q, '/');
        size_t pl = pe ? (size_t)(pe - p) : strlen(p);
        size_t ql = qe ? (size_t)(qe - q) : strlen(q);
        const char *close = pl >= 2 && p[0] == '{' ? memchr(p, '}', pl) : NULL;
        if (close) {
            /* "{y}.mvt": a parameter, then a literal suffix the segment must
             * end with; the parameter is what comes before it (not empty). */
            size_t sl = pl - (size_t)(close - p) - 1;
            if (ql <= sl || strncmp(q + ql - sl, close + 1, sl) != 0 || np >= API_MAX_PARAMS)
                return 0;
            if (params) {
                /* MHD has percent-decoded the path */
                params[np] = arena_strndup(a, q, ql - sl);
                if (!params[np])
                    return 0;
            }
            np++;
        } else if (pl != ql || strncmp(p, q, pl) != 0) {
            return 0;
        }
        p += pl;
        q += ql;
    }
    return *p == '\0' && *q == '\0';
}

ls_status api_route_match(arena *a, const char *method, const char *path, const api_route **out,
                          const char **params, char *allow, size_t allowlen)
{
    *out = NULL;
    if (allowlen)
        *allow = '\0';
    int path_found = 0;
    int is_head = strcmp(method, "HEAD") == 0;
    for (int i = 0; i < api_nroutes; i++) {
        const api_route *r = &api_routes[i];
        if (!match(a, r->pattern, path, NULL))
            continue;
        path_found = 1;
        if (strcmp(r->method, method) == 0 || (is_head && strcmp(r->method, "GET") == 0)) {
            match(a, r->pattern, path, params);
            *out = r;
            return LS_OK;
        }
    }
    if (!path_found)
        return LS_ENOTFOUND;
    size_t used = 0;
    for (int i = 0; i < api_nroutes; i++) {
        const api_route *r = &api_routes[i];
        if (!match(a, r->pattern, path, NULL) || (allow && strstr(allow, r->method)))
            continue;
        int n = snprintf(allow + used, allowlen - used, "%s%s%s", used ? ", " : "", r->method,
                         strcmp(r->method, "GET") == 0 ? ", HEAD" : "");
        if (n < 0 || (size_t)n >= allowlen - used)
            break;
        used += (size_t)n;
    }
    return LS_EMETHOD;
}
