/*
 * h_tiles.c — GET /tiles/{layer}/{z}/{x}/{y}.mvt and GET /tiles/{layer}.json
 * (TileJSON 3.0.0) for the web map.  The tiles themselves are built in
 * maps/tiles.c; this file is the HTTP side: who may see which layer, the
 * filters, caching (ETag / If-None-Match, Cache-Control), gzip, and 204 for a
 * tile with nothing in it.
 *
 * coverage and units are public (the same for every caller, so a shared
 * cache may keep them a minute); points needs a token and shows exactly the
 * points row-level security lets the caller see, so it is private.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "handlers.h"
#include "log.h"
#include "../geo/db.h"
#include "../maps/tiles.h"

#define POINTS_ROLES (ROLE_MINISTRY | ROLE_LOCALITY | ROLE_CARRIER | ROLE_UTILITY)

static const char *const techs[] = {"2G", "3G", "4G", "5G"};

static ls_status layer_param(api_request *rq, maps_tile_layer *l)
{
    if (maps_tile_layer_parse(rq->params[0], l) != 0)
        return api_fail(rq, LS_ENOTFOUND,
                        "there is no tile layer '%.40s': the layers are coverage, points and units",
                        rq->params[0]);
    /* points: what GET /v1/points shows the caller, so the same roles. */
    if (*l == MAPS_TILE_POINTS && !rq->authenticated) {
        api_add_header(rq, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"lomsong\"");
        return api_fail(rq, LS_EUNAUTH,
                        "the points layer needs a token: send the header Authorization: Bearer "
                        "<token> (coverage and units need none)");
    }
    if (*l == MAPS_TILE_POINTS && !(rq->who.role & POINTS_ROLES))
        return api_fail(rq, LS_EFORBIDDEN,
                        "a %s account sees the coverage and units layers, not the points",
                        rq->who.role_name);
    return LS_OK;
}

/* ?carrier= and ?tech= of the coverage layer. */
static ls_status coverage_filters(api_request *rq, const char **carrier, const char **tech)
{
    *carrier = api_query(rq, "carrier");
    *tech = api_query(rq, "tech");
    if (*carrier && (!**carrier || strlen(*carrier) > 32 ||
                     strspn(*carrier, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(*carrier)))
        return api_fail(rq, LS_EINVAL, "carrier must be a carrier code such as viettel");
    if (*tech && !api_one_of(*tech, techs, LS_ARRAY_LEN(techs)))
        return api_fail(rq, LS_EINVAL, "tech must be 2G, 3G, 4G or 5G");
    return LS_OK;
}

/* Whether Accept-Encoding allows gzip: listed (or "*") without q=0. */
static int accepts_gzip(const char *ae)
{
    int gzip = -1, star = -1;
    while (ae && *ae) {
        ae += strspn(ae, " \t,");
        size_t n = strcspn(ae, ",");
        size_t name = strcspn(ae, ";, \t");
        int q = 1;
        const char *semi = memchr(ae, ';', n);
        if (semi) {
            const char *v = semi + 1 + strspn(semi + 1, " \t");
            if ((v[0] == 'q' || v[0] == 'Q') && v[1] == '=')
                q = strtod(v + 2, NULL) > 0;
        }
        if ((name == 4 && strncasecmp(ae, "gzip", 4) == 0) ||
            (name == 6 && strncasecmp(ae, "x-gzip", 6) == 0))
            gzip = q;
        else if (name == 1 && *ae == '*')
            star = q;
        ae += n;
    }
    return gzip >= 0 ? gzip : star > 0;
}

/* Whether If-None-Match lists `etag` (weak comparison) or is "*". */
static int etag_matches(const char *inm, const char *etag)
{
    size_t el = strlen(etag);
    const char *p = inm;
    while (p && *p) {
        p += strspn(p, " \t,");
        if (!*p)
            break;
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        const char *e = p;
        if (*e == '"') {
            e = strchr(e + 1, '"');
            if (!e)
                return 0;
            e++;
        } else {
            e += strcspn(e, ", \t");
        }
        if ((size_t)(e - p) == el && memcmp(p, etag, el) == 0)
            return 1;
        p = e;
    }
    return 0;
}

static void free_bytes(void *p)
{
    free(p);
}

ls_status api_h_tile(api_request *rq)
{
    maps_tile_layer layer;
    ls_status st = layer_param(rq, &layer);
    if (st != LS_OK)
        return st;
    maps_tile_spec spec = {.layer = layer,
                           .min_download = rq->cfg->min_download_mbps,
                           .max_features = rq->cfg->tile_max_features};
    char err[160];
    if (maps_tile_parse_zxy(rq->params[1], rq->params[2], rq->params[3], &spec.z, &spec.x, &spec.y,
                            err, sizeof(err)) != LS_OK)
        return api_fail(rq, LS_EINVAL, "%s", err);
    if (layer == MAPS_TILE_COVERAGE && (st = coverage_filters(rq, &spec.carrier, &spec.tech)))
        return st;

    PGconn *c = NULL;
    if ((st = api_db(rq, &c)) != LS_OK)
        return st;
    maps_tile t;
    st = maps_tile_build(c, &spec, &t);
    if (st != LS_OK)
        return api_fail(rq, st, "the tile could not be made");
    api_defer(rq, free_bytes, t.data);
    if (t.truncated) {
        log_warn("request %s: tile %s/%d/%d/%d has more than %d features; the rest were left out",
                 rq->id, maps_tile_layer_name(layer), spec.z, spec.x, spec.y, spec.max_features);
        api_add_header(rq, "X-Tile-Truncated", "true");
    }

    api_add_header(rq, MHD_HTTP_HEADER_CACHE_CONTROL,
                   layer == MAPS_TILE_POINTS  ? "private, no-cache"
                   : layer == MAPS_TILE_UNITS ? "public, max-age=300"
                                              : "public, max-age=60");
    api_add_header(rq, MHD_HTTP_HEADER_VARY,
                   layer == MAPS_TILE_POINTS ? "Accept-Encoding, Authorization"
                                             : "Accept-Encoding");
    static const char mvt[] = "application/vnd.mapbox-vector-tile";
    if (t.len == 0)
        return api_reply(rq, 204, mvt, "", 0); /* nothing here: MapLibre draws nothing */

    int gz = accepts_gzip(api_header(rq, MHD_HTTP_HEADER_ACCEPT_ENCODING));
    char tag[48];
    maps_tile_etag(t.data, t.len, gz ? "-gz" : NULL, tag, sizeof(tag));
    char *etag = arena_strdup(rq->a, tag);
    if (!etag)
        return LS_ENOMEM;
    api_add_header(rq, MHD_HTTP_HEADER_ETAG, etag);
    if (etag_matches(api_header(rq, MHD_HTTP_HEADER_IF_NONE_MATCH), etag))
        return api_reply(rq, 304, mvt, "", 0);
    if (!gz)
        return api_reply(rq, 200, mvt, (const char *)t.data, t.len);
    unsigned char *z = NULL;
    size_t zlen = 0;
    if ((st = maps_tile_gzip(t.data, t.len, &z, &zlen)) != LS_OK)
        return api_fail(rq, st, "the tile could not be compressed");
    api_defer(rq, free_bytes, z);
    api_add_header(rq, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    return api_reply(rq, 200, mvt, (const char *)z, zlen);
}

/* ------------------------------------------------------------ TileJSON */

/* The scheme and host the client used, for absolute tile URLs: the Host
 * header when it looks like one (else the address we listen on), and
 * X-Forwarded-Proto from a proxy in front when it says https. */
static void base_url(api_request *rq, char *out, size_t len)
{
    const char *host = api_header(rq, MHD_HTTP_HEADER_HOST);
    size_t n = host ? strlen(host) : 0;
    if (n == 0 || n > 255 ||
        strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") != n)
        host = rq->cfg->listen;
    const char *proto = api_header(rq, "X-Forwarded-Proto");
    snprintf(out, len, "%s://%s", proto && strcasecmp(proto, "https") == 0 ? "https" : "http",
             host);
}

ls_status api_h_tilejson(api_request *rq)
{
    maps_tile_layer layer;
    ls_status st = layer_param(rq, &layer);
    if (st != LS_OK)
        return st;
    const char *carrier = NULL, *tech = NULL;
    if (layer == MAPS_TILE_COVERAGE && (st = coverage_filters(rq, &carrier, &tech)))
        return st;

    /* Bounds: today's provinces, islands included; Vietnam's mainland when
     * no boundaries are loaded. */
    double b[4] = {102.14, 8.17, 109.47, 23.40};
    PGconn *c = NULL;
    if ((st = api_db(rq, &c)) != LS_OK)
        return st;
    PGresult *r = NULL;
    st = db_query(c, "tilejson: bounds",
                  "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT"
                  " ST_Extent(u.geom_simple) AS e FROM admin_units u WHERE u.level = 'province'"
                  " AND u.valid_from <= (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"
                  " AND (u.valid_to IS NULL"
                  "  OR u.valid_to > (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date)) s",
                  0, NULL, &r, NULL, 0);
    if (st != LS_OK)
        return api_fail(rq, st, "the bounds could not be read");
    if (!PQgetisnull(r, 0, 0))
        for (int i = 0; i < 4; i++)
            b[i] = i < 2 ? floor(atof(PQgetvalue(r, 0, i)) * 1e4) / 1e4
                         : ceil(atof(PQgetvalue(r, 0, i)) * 1e4) / 1e4;
    PQclear(r);

    char base[300], url[600], name[64];
    base_url(rq, base, sizeof(base));
    const char *lname = maps_tile_layer_name(layer);
    snprintf(url, sizeof(url), "%s/tiles/%s/{z}/{x}/{y}.mvt%s%s%s%s%s", base, lname,
             carrier || tech ? "?" : "", carrier ? "carrier=" : "", carrier ? carrier : "",
             carrier && tech ? "&" : "", tech ? "tech=" : "");
    if (tech)
        snprintf(url + strlen(url), sizeof(url) - strlen(url), "%s", tech);
    snprintf(name, sizeof(name), "lomsong %s", lname);
    static const char *const about[] = {
        "Mobile coverage against the national minimum, from the pre-aggregated coverage cells",
        "Dead-zone points as the caller's account may see them",
        "Province boundaries (2025 set) and their labels",
    };

    cJSON *j = cJSON_CreateObject();
    cJSON *tiles = cJSON_AddArrayToObject(j, "tiles");
    cJSON *layers = maps_tile_vector_layers(layer);
    const double center[3] = {106.0, 16.0, 5};
    cJSON *bounds = cJSON_CreateDoubleArray(b, 4);
    cJSON *ctr = cJSON_CreateDoubleArray(center, 3);
    int ok =
        j && tiles && layers && bounds && ctr && cJSON_AddStringToObject(j, "tilejson", "3.0.0") &&
        cJSON_AddStringToObject(j, "name", name) &&
        cJSON_AddStringToObject(j, "description", about[layer]) &&
        cJSON_AddStringToObject(j, "version", "1.0.0") &&
        cJSON_AddStringToObject(j, "scheme", "xyz") &&
        cJSON_AddItemToArray(tiles, cJSON_CreateString(url)) &&
        cJSON_AddNumberToObject(j, "minzoom", 0) &&
        cJSON_AddNumberToObject(j, "maxzoom", MAPS_TILE_MAXZOOM) &&
        cJSON_AddItemToObject(j, "bounds", bounds) && cJSON_AddItemToObject(j, "center", ctr) &&
        cJSON_AddItemToObject(j, "vector_layers", layers);
    if (ok && layer == MAPS_TILE_UNITS)
        ok = cJSON_AddStringToObject(j, "attribution",
                                     "Boundaries &copy; Open Development Vietnam (CC BY-SA 4.0)") !=
             NULL;
    if (!ok) {
        /* Items not yet attached are ours to free. */
        if (!cJSON_GetObjectItem(j, "bounds"))
            cJSON_Delete(bounds);
        if (!cJSON_GetObjectItem(j, "center"))
            cJSON_Delete(ctr);
        if (!cJSON_GetObjectItem(j, "vector_layers"))
            cJSON_Delete(layers);
        cJSON_Delete(j);
        return api_fail(rq, LS_ENOMEM, "the TileJSON could not be built");
    }
    api_add_header(rq, MHD_HTTP_HEADER_CACHE_CONTROL,
                   layer == MAPS_TILE_POINTS ? "private, no-cache" : "public, max-age=300");
    st = api_reply_json(rq, 200, j);
    cJSON_Delete(j);
    return st;
}
