/*
 * out_table.h — a table of text values written through GDAL (CSV, XLSX, or
 * any driver that writes attribute tables), for the downloads users open in
 * a spreadsheet.
 */
#ifndef LS_MAPS_OUT_TABLE_H
#define LS_MAPS_OUT_TABLE_H

#include <libpq-fe.h>
#include <stddef.h>

#include "../api/ls.h"

/* Writes the rows of `r` (all columns as text; numeric-looking columns other
 * than the first two become numbers) with the column names `cols` to a new
 * file made from the mkstemp template `tmpl` plus ".ext", with GDAL driver
 * `driver`.  The path written is put in `out`; the caller removes it. */
ls_status maps_table_write(const PGresult *r, const char *const *cols, int ncols,
                           const char *driver, char *tmpl, const char *ext, char *out,
                           size_t outlen);

#endif
