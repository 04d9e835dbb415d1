/*
 * in_ogr.h — reads the rows of any table or point layer GDAL/OGR opens:
 * CSV and TSV, XLSX and ODS, GeoJSON, GeoPackage, KML/KMZ, Shapefile (also
 * zipped), GPX.  Rows are streamed one at a time (memory does not grow with
 * the file); values come as text, dates normalised to ISO 8601.
 */
#ifndef LS_INGEST_IN_OGR_H
#define LS_INGEST_IN_OGR_H

#include <stddef.h>

#include "../api/buf.h"
#include "../api/ls.h"

typedef struct ingest_reader ingest_reader;

/* Opens `path` (a .zip is read through /vsizip/).  The layer read is the
 * first one with rows; for GPX the track points if any, else the
 * waypoints.  LS_EINVAL / LS_EUNSUPPORTED with err for a file GDAL cannot
 * read, or one with no rows.  Caller closes with ingest_reader_close(). */
ls_status ingest_reader_open(const char *path, ingest_reader **out, char *err, size_t errlen);
void ingest_reader_close(ingest_reader *r);

/* The column names (borrowed, valid until close) and their number. */
const char *const *ingest_reader_columns(const ingest_reader *r, int *ncols);

/* 1 when the layer's features carry point geometries. */
int ingest_reader_has_geometry(const ingest_reader *r);

/* The layer's CRS as WKT, or NULL when it has none.  Borrowed. */
const char *ingest_reader_crs(const ingest_reader *r);

/* Driver short name ("CSV", "XLSX", "GPX", ...); borrowed. */
const char *ingest_reader_driver(const ingest_reader *r);

/* How many rows there are, when GDAL knows without reading them all, or an
 * estimate from the file size for CSV; -1 when unknown.  For progress only. */
long long ingest_reader_count_hint(ingest_reader *r);

/* Next row: 1 and *values (ncols strings, "" for empty; borrowed until the
 * next call), *x, *y and *has_point from the feature's geometry (a point, or the
 * first point of a line), *rowno (1-based data row); 0 at the end; -1 with
 * err when the file breaks off. */
int ingest_reader_next(ingest_reader *r, const char *const **values, double *x, double *y,
                       int *has_point, long long *rowno, char *err, size_t errlen);

/* From now on the rows' values are appended to *sink (each with its NUL)
 * instead of replacing the previous row's, for a caller that keeps them;
 * *values then points into sink (until it grows).  NULL: back to one row. */
void ingest_reader_keep_rows(ingest_reader *r, buf *sink);

/* Back to the first row (for a second pass after sampling). */
void ingest_reader_rewind(ingest_reader *r);

#endif
