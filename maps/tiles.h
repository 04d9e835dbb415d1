/*
 * tiles.h — Mapbox Vector Tiles (MVT 2.1) of the three map layers, built by
 * PostGIS in one parameterized query per tile:
 *
 *   coverage  the pre-aggregated coverage cells (never raw measurements):
 *             cells are Web Mercator tiles of levels 7/10/13/16, so the
 *             cells of a map tile are an integer range on the primary key
 *             and their squares are plain arithmetic in tile coordinates;
 *   points    dead-zone points under the caller's row-level security,
 *             grid-clustered below zoom 9;
 *   units     today's province boundaries, generalised per zoom in advance
 *             (geo/sql/005_tiles.sql), and their label points.
 *
 * The XYZ scheme (y from the north), extent 4096, buffer 64.  The layers'
 * attributes are the contract with the web page (see maps_tile_vector_layers).
 * Also the two things every tile response needs: gzip and an ETag.
 */
#ifndef LS_MAPS_TILES_H
#define LS_MAPS_TILES_H

#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <stddef.h>

#include "../api/ls.h"

#define MAPS_TILE_MAXZOOM 16
#define MAPS_TILE_EXTENT 4096
#define MAPS_TILE_BUFFER 64
#define MAPS_TILE_CLUSTER_BELOW 9 /* points are clustered at zooms below this */

typedef enum { MAPS_TILE_COVERAGE, MAPS_TILE_POINTS, MAPS_TILE_UNITS } maps_tile_layer;

typedef struct {
    maps_tile_layer layer;
    int z, x, y;
    const char *carrier; /* coverage: only this carrier (NULL: the best carrier of each cell) */
    const char *tech;    /* coverage: only this technology (NULL: the best one) */
    double min_download; /* coverage: the national minimum, Mbps (for `class`) */
    int max_features;    /* at most this many features; the rest are left out */
} maps_tile_spec;

typedef struct {
    unsigned char *data; /* the MVT bytes, malloc'd (caller frees); NULL when len is 0 */
    size_t len;          /* 0: an empty tile (no feature) */
    int truncated;       /* 1 when features were left out because of max_features */
} maps_tile;

/* "coverage", "points" or "units" to its layer: 0 when it is one, -1 when not. */
int maps_tile_layer_parse(const char *name, maps_tile_layer *out);

/* The layer's name (static). */
const char *maps_tile_layer_name(maps_tile_layer l);

/* Checks the z/x/y path segments: decimal digits only, z 0..MAPS_TILE_MAXZOOM, x and y
 * 0..2^z-1.  LS_EINVAL with a message for the client in err when they are not. */
ls_status maps_tile_parse_zxy(const char *z, const char *x, const char *y, int *oz, int *ox,
                              int *oy, char *err, size_t errlen);

/* The coverage cell level drawn at zoom z: the coarsest of 7, 10, 13, 16
 * that is at least z + 2 (4 to 16 cells across a tile, 16 to 64 pixels
 * each), and at least 10 from zoom 5 so that the country view shows ~38 km
 * cells (32 across a tile): 7 at zooms 0-4, 10 at 5-8, 13 at 9-11, 16 from
 * 12. */
int maps_tile_coverage_level(int z);

/* The statement maps_tile_build() runs for a layer at zoom z (static), for
 * benchmarks and EXPLAIN.  Its parameters, all text: coverage $1 z, $2 x,
 * $3 y, $4 cell level, $5 carrier, $6 tech, $7 minimum Mbps, $8 feature
 * limit; points $1 z, $2 x, $3 y, $4 limit; units $1 z, $2 x, $3 y, $4 stored
 * zoom (z, at most 11), $5 limit.  The result: one row (the MVT bytes, whether
 * the limit left features out). */
const char *maps_tile_sql(maps_tile_layer l, int z);

/* Builds one tile (z/x/y as maps_tile_parse_zxy() checks them, else
 * LS_EINVAL) with one query on `c`, inside the caller's transaction
 * (whose row-level-security context scopes the points).  On LS_OK *out holds
 * the bytes (caller frees out->data).  Database failures are logged and
 * returned as db_query() maps them (LS_EUNAVAIL for a timeout, ...). */
ls_status maps_tile_build(PGconn *c, const maps_tile_spec *spec, maps_tile *out);

/* gzip (RFC 1952) of `len` bytes: *out malloc'd (caller frees). */
ls_status maps_tile_gzip(const void *in, size_t len, unsigned char **out, size_t *outlen);

/* A strong entity tag of the bytes, quoted ("\"0123456789abcdef\""), with
 * `suffix` (may be NULL) before the closing quote, in out. */
void maps_tile_etag(const void *data, size_t len, const char *suffix, char *out, size_t outlen);

/* The TileJSON 3.0.0 `vector_layers` of a layer (ids, fields, zooms); caller
 * frees with cJSON_Delete().  NULL when out of memory. */
cJSON *maps_tile_vector_layers(maps_tile_layer l);

#endif
