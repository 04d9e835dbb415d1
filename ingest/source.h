/*
 * source.h — what every file load shares, whatever it loads: the column
 * guess over the first rows, where the coordinates come from and in which
 * CRS (with the X/Y swap check), and the reject file.  Speed measurements
 * (measure.c) and dead-zone reports (reports.c) read their files through
 * these, so a file is understood the same way by both.
 */
#ifndef LS_INGEST_SOURCE_H
#define LS_INGEST_SOURCE_H

#include <libpq-fe.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "in_ogr.h"
#include "mapping.h"
#include "../api/buf.h"
#include "../api/ls.h"
#include "../geo/crs.h"

/* Reads the carriers table (code, name, MCC-MNC list) into `list`, at most
 * `max`; *n gets how many.  LS_EDB/LS_EUNAVAIL with err when it cannot. */
ls_status ingest_source_carriers(PGconn *c, ingest_carrier *list, int max, int *n, char *err,
                                 size_t errlen);

/* 1 when a cell holds nothing: empty, spaces, "-", "n/a", "na", "null",
 * "none" (any case). */
int ingest_value_blank(const char *s);

/* Field f's text in row v under mapping m, or NULL when the column is
 * absent or the cell blank. */
const char *ingest_field_value(const ingest_mapping *m, const char *const *v, ingest_field f);

/* A row's first reason to be rejected: formats it into why and points
 * *reason at it, unless the row has a reason already. */
void ingest_reject_v(const char **reason, char *why, size_t len, const char *fmt, va_list ap);

/* A row's position as read (before any CRS transform): from the feature's
 * geometry (gx, gy; hp when it has one) or the mapped coordinate columns,
 * exchanged when the file gives northing as X.  1 when the row has one,
 * else 0 and why says what is wrong. */
int ingest_row_position(const ingest_mapping *m, int use_geometry, int swapped,
                        const char *const *v, double gx, double gy, int hp, double *x, double *y,
                        char *why, size_t len);

/* Guesses the mapping from the reader's column names for `kind`, leaving
 * out columns that are empty in the first rows (LIBKML adds an empty
 * `timestamp` to every KML, which would otherwise win over the file's own
 * `time`) and reading GPX extension fields without the `ogr_` prefix GDAL
 * writes them with; the reader is rewound.  `maps` are --map arguments.
 * LS_EINVAL with err for a bad override. */
ls_status ingest_source_mapping(ingest_reader *rd, ingest_kind kind, const char *const *maps,
                                int nmaps, ingest_mapping *m, char *err, size_t errlen);

/* 1 when the coordinates come from the features' geometry: the layer has
 * one and no coordinate column was named with --map, or it has one and no
 * coordinate columns were found. */
int ingest_source_use_geometry(ingest_reader *rd, const ingest_mapping *m);

/* Decides the CRS from `crs_opt` (--crs, may be NULL), else the layer's own
 * (when reading geometries), else WGS 84 — refusing projected-looking
 * values with no CRS — and whether X and Y are swapped, from the first
 * rows; the reader is rewound.  *out is freed by the caller with
 * geo_crs_free(); `name` gets the CRS as the user knows it.  LS_EINVAL with
 * err otherwise. */
ls_status ingest_source_crs(ingest_reader *rd, const ingest_mapping *m, int use_geometry,
                            const char *crs_opt, geo_crs **out, char *name, size_t namelen,
                            int *swapped, char *err, size_t errlen);

/* Appends the row's values as one CSV line (no newline) and a NUL, so that
 * the text at the old length is a C string. */
ls_status ingest_csv_append(buf *b, const char *const *v, int n);

/* The reject file: "row,reason,<the file's columns>" then one line per
 * rejected row with its original values.  It is written to PATH.part,
 * created at the first rejected row, and only takes its name with
 * ingest_rejects_publish() (before the batch commits: a crash in between
 * leaves a reject file for a batch that is not there, never the other way
 * round). */
typedef struct {
    const char *path; /* borrowed */
    const char *const *cols;
    int ncols;
    FILE *f;
    char tmp[1100];
    long long n;   /* rows written */
    int published; /* the file has its final name */
} ingest_rejects;

void ingest_rejects_init(ingest_rejects *j, const char *path, const char *const *cols, int ncols);

/* Writes one rejected row: its number, the reason and `raw` (CSV text from
 * ingest_csv_append).  LS_EIO with err when the file cannot be written. */
ls_status ingest_rejects_add(ingest_rejects *j, long long row, const char *reason, const char *raw,
                             char *err, size_t errlen);

/* Closes the file and gives it its final name; LS_OK at once when nothing
 * was rejected.  LS_EIO with err when it cannot. */
ls_status ingest_rejects_publish(ingest_rejects *j, char *err, size_t errlen);

/* After a failure: closes and removes what was written (both names). */
void ingest_rejects_discard(ingest_rejects *j);

#endif
