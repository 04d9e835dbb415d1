/*
 * in_ogr.c — the OGR row reader; see in_ogr.h.
 */
#include "in_ogr.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../api/buf.h"
#include "../geo/gdal.h"

struct ingest_reader {
    GDALDatasetH ds;
    OGRLayerH layer;
    int ncols;
    char **cols;
    OGRFieldType *types; /* the columns' types, looked up once */
    const char **vals;
    size_t *offs;
    buf row;   /* the current row's values, NUL-separated */
    buf *sink; /* or appended here, when the caller keeps them */
    OGRFeatureH feat;
    long long rowno;
    char *wkt;
    char path[4096];
    long long file_size;
};

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* Spreadsheet exports always have a header row; GDAL would otherwise guess,
 * and guess wrong for sheets that hold only text.  GDAL 3.6 takes this only
 * as a config option, read when the sheet is (lazily, after open): it stays
 * set on this thread for the reader's lifetime. */
static void sheet_headers(int on)
{
    CPLSetThreadLocalConfigOption("OGR_XLSX_HEADERS", on ? "FORCE" : NULL);
    CPLSetThreadLocalConfigOption("OGR_ODS_HEADERS", on ? "FORCE" : NULL);
}

static GDALDatasetH try_open(const char *path)
{
    CPLErrorReset();
    return GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
}

/* The layer to read: GPX track points, then waypoints, then route points;
 * for any other file the first layer that has rows. */
static OGRLayerH pick_layer(GDALDatasetH ds)
{
    int n = GDALDatasetGetLayerCount(ds);
    if (n == 1)
        return GDALDatasetGetLayer(ds, 0);
    static const char *const gpx[] = {"track_points", "waypoints", "route_points"};
    if (strcmp(GDALGetDriverShortName(GDALGetDatasetDriver(ds)), "GPX") == 0) {
        for (size_t i = 0; i < sizeof(gpx) / sizeof(gpx[0]); i++) {
            OGRLayerH l = GDALDatasetGetLayerByName(ds, gpx[i]);
            if (l && OGR_L_GetFeatureCount(l, TRUE) > 0)
                return l;
        }
    }
    for (int i = 0; i < n; i++) {
        OGRLayerH l = GDALDatasetGetLayer(ds, i);
        if (OGR_L_GetFeatureCount(l, TRUE) > 0)
            return l;
    }
    return n > 0 ? GDALDatasetGetLayer(ds, 0) : NULL;
}

ls_status ingest_reader_open(const char *path, ingest_reader **out, char *err, size_t errlen)
{
    *out = NULL;
    geo_gdal_init();
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "cannot open %s: no such file", path);
        return LS_EINVAL;
    }
    ingest_reader *r = calloc(1, sizeof(*r));
    if (!r)
        return LS_ENOMEM;
    r->file_size = (long long)st.st_size;
    sheet_headers(1);
    buf_init(&r->row, 64 * 1024 * 1024);
    if (ends_with(path, ".zip"))
        snprintf(r->path, sizeof(r->path), "/vsizip/%s", path);
    else
        snprintf(r->path, sizeof(r->path), "%s", path);
    r->ds = try_open(r->path);
    if (!r->ds && ends_with(path, ".kmz")) {
        snprintf(r->path, sizeof(r->path), "/vsizip/%s", path);
        r->ds = try_open(r->path);
    }
    if (!r->ds) {
        const char *why = CPLGetLastErrorMsg();
        snprintf(err, errlen,
                 "cannot read %s as a table or map layer%s%s (formats read: CSV, TSV, XLSX, ODS, "
                 "GeoJSON, GeoPackage, KML/KMZ, zipped Shapefile, GPX)",
                 path, why && *why ? ": " : "", why && *why ? why : "");
        ingest_reader_close(r);
        return LS_EUNSUPPORTED;
    }
    r->layer = pick_layer(r->ds);
    if (!r->layer) {
        snprintf(err, errlen, "%s has no layer or sheet to read", path);
        ingest_reader_close(r);
        return LS_EINVAL;
    }
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(r->layer);
    r->ncols = OGR_FD_GetFieldCount(defn);
    r->cols = calloc((size_t)r->ncols + 1, sizeof(char *));
    r->types = calloc((size_t)r->ncols + 1, sizeof(OGRFieldType));
    r->vals = calloc((size_t)r->ncols + 1, sizeof(char *));
    r->offs = calloc((size_t)r->ncols + 1, sizeof(size_t));
    if (!r->cols || !r->types || !r->vals || !r->offs) {
        ingest_reader_close(r);
        return LS_ENOMEM;
    }
    for (int i = 0; i < r->ncols; i++) {
        OGRFieldDefnH fd = OGR_FD_GetFieldDefn(defn, i);
        r->cols[i] = strdup(OGR_Fld_GetNameRef(fd));
        r->types[i] = OGR_Fld_GetType(fd);
        if (!r->cols[i]) {
            ingest_reader_close(r);
            return LS_ENOMEM;
        }
    }
    OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(r->layer);
    if (srs && OSRExportToWkt(srs, &r->wkt) != OGRERR_NONE)
        r->wkt = NULL;
    *out = r;
    return LS_OK;
}

void ingest_reader_close(ingest_reader *r)
{
    if (!r)
        return;
    if (r->feat)
        OGR_F_Destroy(r->feat);
    if (r->ds)
        GDALClose(r->ds);
    sheet_headers(0);
    for (int i = 0; r->cols && i < r->ncols; i++)
        free(r->cols[i]);
    free(r->cols);
    free(r->types);
    free(r->vals);
    free(r->offs);
    CPLFree(r->wkt);
    buf_free(&r->row);
    free(r);
}

const char *const *ingest_reader_columns(const ingest_reader *r, int *ncols)
{
    *ncols = r->ncols;
    return (const char *const *)r->cols;
}

int ingest_reader_has_geometry(const ingest_reader *r)
{
    return wkbFlatten(OGR_L_GetGeomType(r->layer)) != wkbNone;
}

const char *ingest_reader_crs(const ingest_reader *r)
{
    return r->wkt;
}

const char *ingest_reader_driver(const ingest_reader *r)
{
    return GDALGetDriverShortName(GDALGetDatasetDriver(r->ds));
}

long long ingest_reader_count_hint(ingest_reader *r)
{
    /* The CSV driver counts by reading the whole file even when not forced:
     * estimate from the average line length instead. */
    if (strcmp(ingest_reader_driver(r), "CSV") != 0) {
        GIntBig n = OGR_L_GetFeatureCount(r->layer, FALSE);
        return n >= 0 ? (long long)n : -1;
    }
    /* Estimate from the average length of the first lines. */
    FILE *f = fopen(r->path, "rb");
    if (!f)
        return -1;
    char chunk[65536];
    size_t got = fread(chunk, 1, sizeof(chunk), f);
    fclose(f);
    long lines = 0;
    for (size_t i = 0; i < got; i++)
        lines += chunk[i] == '\n';
    if (lines < 2)
        return -1;
    return (long long)((double)r->file_size / ((double)got / (double)lines)) - 1;
}

/* Dates as ISO 8601, so that one parser reads every format's dates. */
static ls_status put_datetime(buf *b, OGRFeatureH f, int i, OGRFieldType t)
{
    int y, m, d, h, mi, tz;
    float s;
    if (!OGR_F_GetFieldAsDateTimeEx(f, i, &y, &m, &d, &h, &mi, &s, &tz))
        return buf_puts(b, OGR_F_GetFieldAsString(f, i));
    if (t == OFTDate)
        return buf_printf(b, "%04d-%02d-%02d", y, m, d);
    ls_status st = buf_printf(b, "%04d-%02d-%02dT%02d:%02d:%06.3f", y, m, d, h, mi, (double)s);
    if (st != LS_OK || tz <= 1)
        return st; /* unknown or local time: the caller's default zone applies */
    if (tz == 100)
        return buf_puts(b, "Z");
    int off = (tz - 100) * 15;
    return buf_printf(b, "%c%02d:%02d", off < 0 ? '-' : '+', abs(off) / 60, abs(off) % 60);
}

int ingest_reader_next(ingest_reader *r, const char *const **values, double *x, double *y,
                       int *has_point, long long *rowno, char *err, size_t errlen)
{
    if (r->feat) {
        OGR_F_Destroy(r->feat);
        r->feat = NULL;
    }
    CPLErrorReset();
    r->feat = OGR_L_GetNextFeature(r->layer);
    if (!r->feat) {
        if (CPLGetLastErrorType() == CE_Failure) {
            snprintf(err, errlen, "reading stopped after row %lld: %s", r->rowno,
                     CPLGetLastErrorMsg());
            return -1;
        }
        return 0;
    }
    r->rowno++;
    buf *row = r->sink ? r->sink : &r->row;
    if (!r->sink)
        row->len = 0;
    for (int i = 0; i < r->ncols; i++) {
        r->offs[i] = row->len;
        ls_status st = LS_OK;
        OGRFieldType t = r->types[i];
        if (t == OFTString) {
            /* Texts (all of a CSV's columns) straight from the feature:
             * OGR_F_GetFieldAsString() looks the column's definition up
             * again for every value. */
            OGRField *raw = OGR_F_GetRawFieldRef(r->feat, i);
            const char *v =
                OGR_RawField_IsUnset(raw) || OGR_RawField_IsNull(raw) ? "" : raw->String;
            st = buf_append(row, v, strlen(v) + 1); /* with its NUL */
        } else {
            if (OGR_F_IsFieldSetAndNotNull(r->feat, i)) {
                if (t == OFTDateTime || t == OFTDate)
                    st = put_datetime(row, r->feat, i, t);
                else
                    st = buf_puts(row, OGR_F_GetFieldAsString(r->feat, i));
            }
            if (st == LS_OK)
                st = buf_append(row, "", 1);
        }
        if (st != LS_OK) {
            snprintf(err, errlen, "row %lld is too large to read", r->rowno);
            return -1;
        }
    }
    for (int i = 0; i < r->ncols; i++)
        r->vals[i] = row->data + r->offs[i];
    *values = r->vals;
    *rowno = r->rowno;
    *has_point = 0;
    OGRGeometryH g = OGR_F_GetGeometryRef(r->feat);
    if (g && !OGR_G_IsEmpty(g)) {
        OGRwkbGeometryType gt = wkbFlatten(OGR_G_GetGeometryType(g));
        if (gt == wkbMultiPoint && OGR_G_GetGeometryCount(g) > 0)
            g = OGR_G_GetGeometryRef(g, 0), gt = wkbPoint;
        if (gt == wkbPoint || gt == wkbLineString) {
            *x = OGR_G_GetX(g, 0);
            *y = OGR_G_GetY(g, 0);
            *has_point = 1;
        } else {
            OGRGeometryH c = OGR_G_CreateGeometry(wkbPoint);
            if (c && OGR_G_Centroid(g, c) == OGRERR_NONE) {
                *x = OGR_G_GetX(c, 0);
                *y = OGR_G_GetY(c, 0);
                *has_point = 1;
            }
            if (c)
                OGR_G_DestroyGeometry(c);
        }
    }
    return 1;
}

void ingest_reader_keep_rows(ingest_reader *r, buf *sink)
{
    r->sink = sink;
}

void ingest_reader_rewind(ingest_reader *r)
{
    if (r->feat) {
        OGR_F_Destroy(r->feat);
        r->feat = NULL;
    }
    OGR_L_ResetReading(r->layer);
    r->rowno = 0;
}
