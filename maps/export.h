/*
 * export.h — the data as files through GDAL/OGR: dead-zone points, reports,
 * coverage cells and administrative units as GeoJSON, GeoPackage, KML, CSV,
 * XLSX or a zipped Shapefile.  One code path for `GET /v1/export/{name}` and
 * `lomsong export NAME`: the filters are read through a callback (the query
 * string, or the command line's flags), validated here, and the rows are
 * streamed from a server-side cursor in the caller's transaction (whose
 * row-level-security context decides what is seen) into the GDAL writer,
 * never held in memory all at once.
 */
#ifndef LS_MAPS_EXPORT_H
#define LS_MAPS_EXPORT_H

#include <libpq-fe.h>
#include <stddef.h>

#include "../api/config.h"
#include "../api/ls.h"

#define MAPS_EXPORT_MAXP 12

/* A named argument ("bbox", "status", ...): its value or NULL.  `ctx` is
 * the caller's (the request, or the parsed command line). */
typedef const char *(*maps_arg_fn)(void *ctx, const char *name);

typedef struct {
    int layer, format;        /* indexes into export.c's tables */
    unsigned roles;           /* auth_role bits that may export it; 0 = anyone, no token */
    const char *layer_name;   /* "points", "reports", "coverage", "units" (static) */
    const char *ext;          /* "geojson", "gpkg", "kml", "csv", "xlsx", "shp.zip" (static) */
    const char *content_type; /* (static) */
    const char *params[MAPS_EXPORT_MAXP]; /* SQL parameters: $2.. (NULL = filter not given) */
    char store[MAPS_EXPORT_MAXP][256];
    int nparams;
} maps_export_req;

/* Reads `name` ("points.gpkg") and the layer's filters into `q`.
 * LS_ENOTFOUND when the layer or the format is not one we export,
 * LS_EINVAL when a filter does not parse; `err` then says why in words for
 * the client. */
ls_status maps_export_parse(const char *name, maps_arg_fn arg, void *ctx, maps_export_req *q,
                            char *err, size_t errlen);

/* Writes the export to `path` (which must not exist; its name must end in
 * the format's extension) from connection `c`, which must be inside a
 * transaction with the security context set.  More than `max_rows` rows:
 * LS_EINVAL and nothing written.  *rows gets the number of features.  On
 * failure the file is removed and `err` holds a client-facing message (the
 * details go to the log). */
ls_status maps_export_write(PGconn *c, const maps_export_req *q, long long max_rows,
                            const char *path, long long *rows, char *err, size_t errlen);

/* maps_export_write() into a new private temporary directory; the file's
 * path is put in `path`.  The caller removes both with maps_export_remove()
 * (an open descriptor keeps the data readable). */
ls_status maps_export_temp(PGconn *c, const maps_export_req *q, long long max_rows, char *path,
                           size_t pathlen, long long *rows, char *err, size_t errlen);

/* Removes a file made by maps_export_temp() and its directory; accepts "". */
void maps_export_remove(const char *path);

/* "attachment; filename=\"points-2025-03-25.gpkg\"" for q, into out. */
void maps_export_disposition(const maps_export_req *q, char *out, size_t len);

/* `lomsong export NAME [--out FILE] [--token TOKEN] [--bbox ...]...`;
 * returns the exit code. */
int maps_export_cli(const ls_config *cfg, int argc, char **argv);

#endif
