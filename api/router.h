/*
 * router.h — the table of every HTTP endpoint, and matching a request
 * against it.  The table is the single source of truth: the server
 * dispatches from it, /metrics labels by its patterns, and the tests check
 * that /openapi.json documents every entry.
 */
#ifndef LS_ROUTER_H
#define LS_ROUTER_H

#include "arena.h"
#include "ls.h"
#include "server.h"

enum {
    ROUTE_UPLOAD = 1 << 0, /* body may be a file: LOMSONG_MAX_UPLOAD instead of MAX_BODY */
};

typedef struct api_route {
    const char *method;  /* "GET", "POST", ... (GET routes also answer HEAD) */
    const char *pattern; /* "/v1/units/{code}": {x} matches one path segment;
                            "{y}.mvt" one that ends with ".mvt" (y is the rest) */
    api_handler fn;
    unsigned roles; /* roles allowed (auth_role bits); 0 = public, no token needed */
    unsigned flags;
} api_route;

extern const api_route api_routes[];
extern const int api_nroutes;

/* Matches method + path.  LS_OK with *out and params[] (arena strings) set; LS_ENOTFOUND when no
 * pattern matches the path; LS_EMETHOD when the path matches with other methods, with `allow`
 * holding them ("GET, HEAD"). */
ls_status api_route_match(arena *a, const char *method, const char *path, const api_route **out,
                          const char **params, char *allow, size_t allowlen);

/* Index of a route in api_routes (for metrics). */
int api_route_index(const api_route *r);

#endif
