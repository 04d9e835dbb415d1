/*
 * units.c — administrative units, their successors and the carriers list;
 * see units.h.
 *
 * Every file is read through GDAL/OGR, whatever its format (GeoJSON,
 * shapefile, GeoPackage, CSV, spreadsheets), so that reference data takes
 * the same road as user files.  A load has two phases: first the whole file
 * is read and checked in memory, so that a bad row is reported before the
 * database is touched; then one transaction replaces what an earlier load of
 * the same file wrote.  Rows travel as text arrays (unnest) in a few large
 * statements rather than one round trip per row.
 */
#include "units.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "area.h"
#include "db.h"
#include "gdal.h"
#include "../api/buf.h"
#include "../api/cli.h"
#include "../api/log.h"

/* A reference file larger than this is a mistake, not a country. */
#define MAX_ROWS 200000
/* Rows and bytes of array text per INSERT: big enough that the reference
 * files go in one statement, small enough that a national commune layer
 * does not become a single gigabyte literal. */
#define BATCH_ROWS 5000
#define BATCH_BYTES (16u * 1024u * 1024u)

/* ---------------------------------------------------------------- helpers */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int all_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* A copy of s without surrounding white space; NULL when out of memory. */
static char *trimmed_dup(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Dates come from the command line or other modules: check them here so the
 * messages name the argument rather than quote PostgreSQL. */
static ls_status check_validity(const char *from, const char *to, char *err, size_t errlen)
{
    if (!from || cli_check_date(from) != 0) {
        set_err(err, errlen, "valid-from must be a date YYYY-MM-DD, got '%s'", from ? from : "");
        return LS_EINVAL;
    }
    if (to && cli_check_date(to) != 0) {
        set_err(err, errlen, "valid-to must be a date YYYY-MM-DD, got '%s'", to);
        return LS_EINVAL;
    }
    /* ISO dates compare as strings. */
    if (to && strcmp(to, from) <= 0) {
        set_err(err, errlen, "valid-to (%s) must be after valid-from (%s)", to, from);
        return LS_EINVAL;
    }
    return LS_OK;
}

/* ------------------------------------------------------------------ table */

/* What a loader read from a file: n rows of ncols strings (never NULL; ""
 * when the field is empty or was not asked for).  With a geometry the last
 * column holds it as hex WKB in WGS 84. */
typedef struct {
    int ncols;
    int n;
    int alloc;
    char **cell;
    int csv;          /* rows are CSV lines: messages say "line N" */
    const char *file; /* base name, borrowed from the path */
} table;

static void table_free(table *t)
{
    for (long i = 0; i < (long)t->n * t->ncols; i++)
        free(t->cell[i]);
    free(t->cell);
    t->cell = NULL;
    t->n = t->alloc = 0;
}

static char *table_get(const table *t, int row, int col)
{
    return t->cell[(long)row * t->ncols + col];
}

/* Replaces a cell; takes ownership of v. */
static void table_set(table *t, int row, int col, char *v)
{
    char **p = &t->cell[(long)row * t->ncols + col];
    free(*p);
    *p = v;
}

/* "feature 3" for geometry files, "line 4" for CSV (the header is line 1),
 * so a user can find the row in the editor they made it with. */
static const char *row_ref(const table *t, int row, char *tmp, size_t len)
{
    if (t->csv)
        snprintf(tmp, len, "line %d", row + 2);
    else
        snprintf(tmp, len, "feature %d", row + 1);
    return tmp;
}

/* The same with the file's name in front: "vn_carriers.csv line 4". */
static const char *row_name(const table *t, int row, char *tmp, size_t len)
{
    char ref[32];
    snprintf(tmp, len, "%s %s", t->file, row_ref(t, row, ref, sizeof(ref)));
    return tmp;
}

static ls_status table_add_row(table *t)
{
    if (t->n >= MAX_ROWS)
        return LS_ETOOBIG;
    if (t->n == t->alloc) {
        int na = t->alloc ? t->alloc * 2 : 64;
        char **nc = realloc(t->cell, (size_t)na * (size_t)t->ncols * sizeof(*nc));
        if (!nc)
            return LS_ENOMEM;
        t->cell = nc;
        t->alloc = na;
    }
    for (int k = 0; k < t->ncols; k++)
        t->cell[(long)t->n * t->ncols + k] = NULL;
    t->n++;
    return LS_OK;
}

/* ------------------------------------------------------------ reading */

/* Where the features of a layer go on their way to WGS 84. */
typedef struct {
    OGRSpatialReferenceH src, dst;
    OGRCoordinateTransformationH ct; /* NULL: already lon/lat */
} to_wgs84;

static void to_wgs84_free(to_wgs84 *w)
{
    if (w->ct)
        OCTDestroyCoordinateTransformation(w->ct);
    if (w->src)
        OSRDestroySpatialReference(w->src);
    if (w->dst)
        OSRDestroySpatialReference(w->dst);
    memset(w, 0, sizeof(*w));
}

static ls_status to_wgs84_init(OGRLayerH layer, const char *file, to_wgs84 *w, char *err,
                               size_t errlen)
{
    memset(w, 0, sizeof(*w));
    OGRSpatialReferenceH lsrs = OGR_L_GetSpatialRef(layer); /* borrowed */
    if (!lsrs) {
        /* A file without a CRS (a shapefile without .prj, a CSV with WKT) is
         * taken for lon/lat only when its numbers could be lon/lat: guessing
         * wrong would put Vietnam in the ocean without a word. */
        OGREnvelope env;
        CPLErrorReset();
        if (OGR_L_GetExtent(layer, &env, TRUE) != OGRERR_NONE) {
            set_err(err, errlen, "%s has no coordinate reference system and no extent: %s", file,
                    CPLGetLastErrorMsg());
            return LS_EINVAL;
        }
        if (env.MinX < -180 || env.MaxX > 180 || env.MinY < -90 || env.MaxY > 90) {
            set_err(err, errlen,
                    "%s has no coordinate reference system and its coordinates (x %.0f..%.0f, "
                    "y %.0f..%.0f) are not longitude/latitude: give it a CRS (a .prj file, a "
                    "GeoJSON \"crs\" member, or convert it with ogr2ogr -a_srs EPSG:NNNN)",
                    file, env.MinX, env.MaxX, env.MinY, env.MaxY);
            return LS_EINVAL;
        }
        log_debug("%s has no CRS; its extent looks like lon/lat, taken as WGS 84", file);
        return LS_OK;
    }
    ls_status st = LS_OK;
    w->src = OSRClone(lsrs);
    w->dst = OSRNewSpatialReference(NULL);
    if (!w->src || !w->dst) {
        st = LS_ENOMEM;
        set_err(err, errlen, "out of memory");
        goto out;
    }
    CPLErrorReset();
    if (OSRImportFromEPSG(w->dst, 4326) != OGRERR_NONE) {
        st = LS_EIO;
        set_err(err, errlen, "cannot set up EPSG:4326 (is PROJ's proj.db installed?): %s",
                CPLGetLastErrorMsg());
        goto out;
    }
    /* Both in x = longitude, y = latitude, whatever the EPSG axis order. */
    OSRSetAxisMappingStrategy(w->src, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(w->dst, OAMS_TRADITIONAL_GIS_ORDER);
    CPLErrorReset();
    w->ct = OCTNewCoordinateTransformation(w->src, w->dst);
    if (!w->ct) {
        const char *name = OSRGetName(w->src);
        st = LS_EINVAL;
        set_err(err, errlen, "%s: cannot transform from its CRS (%s) to WGS 84: %s", file,
                name ? name : "unnamed", CPLGetLastErrorMsg());
        goto out;
    }
out:
    if (st != LS_OK)
        to_wgs84_free(w);
    return st;
}

/* The geometry of feature f as hex WKB of a 2D polygonal geometry in WGS 84
 * (*hex malloc'd).  LS_EINVAL with a message naming the feature when it
 * has none, is not polygonal or cannot be transformed. */
static ls_status feature_wkb_hex(OGRFeatureH f, const to_wgs84 *w, const char *where, char **hex,
                                 char *err, size_t errlen)
{
    *hex = NULL;
    ls_status st = LS_OK;
    OGRGeometryH g = NULL;
    unsigned char *wkb = NULL;
    OGRGeometryH src = OGR_F_GetGeometryRef(f); /* borrowed */
    if (!src || OGR_G_IsEmpty(src)) {
        set_err(err, errlen, "%s has no geometry", where);
        return LS_EINVAL;
    }
    /* Arcs become segments: PostGIS polygons columns take no curves. */
    g = OGR_G_HasCurveGeometry(src, TRUE) ? OGR_G_GetLinearGeometry(src, 0, NULL)
                                          : OGR_G_Clone(src);
    if (!g) {
        st = LS_ENOMEM;
        set_err(err, errlen, "out of memory");
        goto out;
    }
    OGRwkbGeometryType type = wkbFlatten(OGR_G_GetGeometryType(g));
    if (type != wkbPolygon && type != wkbMultiPolygon && type != wkbGeometryCollection) {
        st = LS_EINVAL;
        set_err(err, errlen, "%s: geometry is a %s, not a polygon", where,
                OGRGeometryTypeToName(type));
        goto out;
    }
    /* The columns are 2D; heights and measures mean nothing for a border. */
    OGR_G_Set3D(g, FALSE);
    OGR_G_SetMeasured(g, FALSE);
    if (w->ct) {
        CPLErrorReset();
        if (OGR_G_Transform(g, w->ct) != OGRERR_NONE) {
            st = LS_EINVAL;
            set_err(err, errlen, "%s: cannot transform the geometry to WGS 84: %s", where,
                    CPLGetLastErrorMsg());
            goto out;
        }
    }
    size_t n = OGR_G_WkbSizeEx(g);
    wkb = malloc(n ? n : 1);
    char *h = malloc(2 * n + 1);
    if (!wkb || !h) {
        free(h);
        st = LS_ENOMEM;
        set_err(err, errlen, "out of memory");
        goto out;
    }
    if (OGR_G_ExportToIsoWkb(g, wkbNDR, wkb) != OGRERR_NONE) {
        free(h);
        st = LS_EINVAL;
        set_err(err, errlen, "%s: cannot encode the geometry: %s", where, CPLGetLastErrorMsg());
        goto out;
    }
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        h[2 * i] = digits[wkb[i] >> 4];
        h[2 * i + 1] = digits[wkb[i] & 15];
    }
    h[2 * n] = '\0';
    *hex = h;
out:
    free(wkb);
    if (g)
        OGR_G_DestroyGeometry(g);
    return st;
}

/* Lists the fields of a layer into buf for "no field 'x' (fields: ...)". */
static void field_list(OGRFeatureDefnH defn, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < OGR_FD_GetFieldCount(defn) && used + 1 < len; i++) {
        const char *name = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i));
        int k = snprintf(out + used, len - used, "%s%s", i ? ", " : "", name);
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

/* Reads the first layer of `path` into t: column k from field names[k]
 * (NULL: not read, left ""), the field required; an integer field of a code
 * column is zero-padded to pad[k] digits (pad may be NULL), since a
 * shapefile or spreadsheet may have turned "01" into 1.  With want_geom a
 * last column gets each feature's geometry (see feature_wkb_hex). */
static ls_status table_read(const char *path, const char *const *names, const int *pad, int ncols,
                            int want_geom, table *t, char *err, size_t errlen)
{
    geo_gdal_init();
    memset(t, 0, sizeof(*t));
    t->ncols = ncols + (want_geom ? 1 : 0);
    t->file = base_name(path);

    ls_status st = LS_OK;
    GDALDatasetH ds = NULL;
    OGRFeatureH f = NULL;
    to_wgs84 w = {0};
    int idx[16];
    int itype[16];
    char where[512];
    if (ncols > (int)LS_ARRAY_LEN(idx))
        return LS_EINTERNAL;

    CPLErrorReset();
    ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds) {
        if (access(path, R_OK) != 0)
            set_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
        else
            set_err(err, errlen, "cannot open %s as a vector file: %s", path,
                    *CPLGetLastErrorMsg() ? CPLGetLastErrorMsg() : "format not recognised");
        st = LS_EINVAL;
        goto out;
    }
    GDALDriverH drv = GDALGetDatasetDriver(ds);
    t->csv = drv && strcmp(GDALGetDriverShortName(drv), "CSV") == 0;
    int nlayers = GDALDatasetGetLayerCount(ds);
    if (nlayers < 1) {
        set_err(err, errlen, "%s has no layer to read", path);
        st = LS_EINVAL;
        goto out;
    }
    OGRLayerH layer = GDALDatasetGetLayer(ds, 0);
    if (nlayers > 1)
        log_warn("%s has %d layers; reading the first, '%s'", t->file, nlayers,
                 OGR_L_GetName(layer));
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
    for (int k = 0; k < ncols; k++) {
        idx[k] = -1;
        itype[k] = 0;
        if (!names[k])
            continue;
        idx[k] = OGR_FD_GetFieldIndex(defn, names[k]);
        if (idx[k] < 0) {
            char fields[400];
            field_list(defn, fields, sizeof(fields));
            set_err(err, errlen, "%s has no field '%s' (its fields: %s)", t->file, names[k],
                    *fields ? fields : "none");
            st = LS_EINVAL;
            goto out;
        }
        OGRFieldType ft = OGR_Fld_GetType(OGR_FD_GetFieldDefn(defn, idx[k]));
        itype[k] = ft == OFTInteger || ft == OFTInteger64;
    }
    if (want_geom) {
        if (OGR_FD_GetGeomFieldCount(defn) < 1) {
            set_err(err, errlen, "%s has no geometry: unit polygons are needed here", t->file);
            st = LS_EINVAL;
            goto out;
        }
        st = to_wgs84_init(layer, t->file, &w, err, errlen);
        if (st != LS_OK)
            goto out;
    }

    OGR_L_ResetReading(layer);
    CPLErrorReset();
    while ((f = OGR_L_GetNextFeature(layer)) != NULL) {
        st = table_add_row(t);
        if (st != LS_OK) {
            set_err(err, errlen,
                    st == LS_ETOOBIG ? "%s has more than %d rows"
                                     : "%s: out of memory after %d rows",
                    t->file, t->n);
            goto out;
        }
        int r = t->n - 1;
        row_name(t, r, where, sizeof(where));
        for (int k = 0; k < ncols; k++) {
            char *v;
            if (idx[k] < 0 || !OGR_F_IsFieldSetAndNotNull(f, idx[k])) {
                v = strdup("");
            } else if (itype[k] && pad && pad[k] > 0) {
                v = malloc(32);
                if (v)
                    snprintf(v, 32, "%0*lld", pad[k],
                             (long long)OGR_F_GetFieldAsInteger64(f, idx[k]));
            } else {
                v = trimmed_dup(OGR_F_GetFieldAsString(f, idx[k]));
            }
            if (!v) {
                st = LS_ENOMEM;
                set_err(err, errlen, "out of memory");
                goto out;
            }
            table_set(t, r, k, v);
        }
        if (want_geom) {
            char *hex = NULL;
            st = feature_wkb_hex(f, &w, where, &hex, err, errlen);
            if (st != LS_OK)
                goto out;
            table_set(t, r, ncols, hex);
        }
        OGR_F_Destroy(f);
        f = NULL;
    }
    /* GetNextFeature also returns NULL on a read error half-way through. */
    if (CPLGetLastErrorType() == CE_Failure || CPLGetLastErrorType() == CE_Fatal) {
        set_err(err, errlen, "cannot read %s after %d rows: %s", t->file, t->n,
                CPLGetLastErrorMsg());
        st = LS_EINVAL;
        goto out;
    }
    if (t->n == 0) {
        set_err(err, errlen, "%s has no rows", t->file);
        st = LS_EINVAL;
        goto out;
    }
out:
    if (f)
        OGR_F_Destroy(f);
    to_wgs84_free(&w);
    if (ds)
        GDALClose(ds);
    if (st != LS_OK)
        table_free(t);
    return st;
}

/* ------------------------------------------------------------ duplicates */

typedef struct {
    const char *a, *b;
    int row;
} keyrow;

static int keyrow_cmp(const void *x, const void *y)
{
    const keyrow *p = x, *q = y;
    int c = strcmp(p->a, q->a);
    if (c == 0)
        c = strcmp(p->b, q->b);
    if (c == 0)
        c = (p->row > q->row) - (p->row < q->row);
    return c;
}

/* Finds two rows with the same (col a, col b) (b < 0: col a alone).
 * Returns 1 and the two rows (in file order) when there are, 0 when not,
 * -1 when out of memory. */
static int find_duplicate(const table *t, int a, int b, int *r1, int *r2)
{
    keyrow *k = malloc((size_t)t->n * sizeof(*k));
    if (!k)
        return -1;
    for (int i = 0; i < t->n; i++) {
        k[i].a = table_get(t, i, a);
        k[i].b = b >= 0 ? table_get(t, i, b) : "";
        k[i].row = i;
    }
    qsort(k, (size_t)t->n, sizeof(*k), keyrow_cmp);
    int found = 0;
    for (int i = 1; i < t->n && !found; i++)
        if (strcmp(k[i].a, k[i - 1].a) == 0 && strcmp(k[i].b, k[i - 1].b) == 0) {
            *r1 = k[i - 1].row;
            *r2 = k[i].row;
            found = 1;
        }
    free(k);
    return found;
}

/* ------------------------------------------------------------- database */

/* Appends rows [from, to) of column col as a PostgreSQL text array literal. */
static ls_status array_literal(buf *b, const table *t, int col, int from, int to)
{
    ls_status st = buf_puts(b, "{");
    for (int r = from; st == LS_OK && r < to; r++) {
        const char *s = table_get(t, r, col);
        st = buf_puts(b, r > from ? ",\"" : "\"");
        /* Inside double quotes only " and \ need a backslash. */
        while (st == LS_OK && *s) {
            size_t run = strcspn(s, "\"\\");
            st = buf_append(b, s, run);
            s += run;
            if (st == LS_OK && *s) {
                char esc[2] = {'\\', *s++};
                st = buf_append(b, esc, 2);
            }
        }
        if (st == LS_OK)
            st = buf_puts(b, "\"");
    }
    return st == LS_OK ? buf_puts(b, "}") : st;
}

/* Runs `sql` over all rows of t in batches: $1..$ncols are text arrays of
 * columns cols[], then come the `nfixed` scalar parameters.  A failure's
 * client-facing message lands in msg (see db_query). */
static ls_status insert_rows(PGconn *c, const char *what, const char *sql, const table *t,
                             const int *cols, int ncols, const char *const *fixed, int nfixed,
                             char *msg, size_t msglen)
{
    ls_status st = LS_OK;
    buf arr[8];
    const char *params[16];
    if (ncols > (int)LS_ARRAY_LEN(arr) || ncols + nfixed > (int)LS_ARRAY_LEN(params))
        return LS_EINTERNAL;
    for (int k = 0; k < ncols; k++)
        buf_init(&arr[k], 0);
    for (int from = 0; from < t->n && st == LS_OK;) {
        /* Grow the batch while it stays under both limits (always >= 1 row). */
        int to = from;
        size_t bytes = 0;
        while (to < t->n && to - from < BATCH_ROWS && (to == from || bytes < BATCH_BYTES)) {
            for (int k = 0; k < ncols; k++)
                bytes += strlen(table_get(t, to, cols[k])) + 3;
            to++;
        }
        for (int k = 0; k < ncols && st == LS_OK; k++) {
            buf_free(&arr[k]);
            st = array_literal(&arr[k], t, cols[k], from, to);
            params[k] = arr[k].data;
        }
        for (int k = 0; k < nfixed; k++)
            params[ncols + k] = fixed[k];
        if (st == LS_OK)
            st = db_query(c, what, sql, ncols + nfixed, params, NULL, msg, msglen);
        from = to;
    }
    for (int k = 0; k < ncols; k++)
        buf_free(&arr[k]);
    return st;
}

/* One transaction per file.  When the caller already has one open, a
 * savepoint gives the same all-or-nothing without committing its work.
 * Loads of reference data then queue behind each other: two loads of the
 * same file at once would otherwise each delete the old rows and trip over
 * the other's new ones. */
static ls_status tx_end(PGconn *c, int nested, ls_status st);

static ls_status tx_begin(PGconn *c, int *nested)
{
    *nested = PQtransactionStatus(c) == PQTRANS_INTRANS;
    ls_status st = db_exec(c, *nested ? "SAVEPOINT geo_units_load" : "BEGIN");
    if (st != LS_OK)
        return st;
    st = db_exec(c, "SELECT pg_advisory_xact_lock(hashtext('lomsong.geo_units_load'))");
    return st == LS_OK ? LS_OK : tx_end(c, *nested, st);
}

/* Commits when st is LS_OK, else rolls back; returns the final status. */
static ls_status tx_end(PGconn *c, int nested, ls_status st)
{
    if (st == LS_OK) {
        st = db_exec(c, nested ? "RELEASE SAVEPOINT geo_units_load" : "COMMIT");
        if (st == LS_OK)
            return LS_OK;
    }
    PGTransactionStatusType ts = PQtransactionStatus(c);
    if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
        if (nested) {
            db_exec(c, "ROLLBACK TO SAVEPOINT geo_units_load");
            db_exec(c, "RELEASE SAVEPOINT geo_units_load");
        } else {
            db_exec(c, "ROLLBACK");
        }
    }
    return st;
}

/* The message for a failed statement: the server's own words for the
 * errors our checks raise, else a pointer to the log. */
static void db_err(char *err, size_t errlen, ls_status st, const char *doing, const char *msg)
{
    if (msg && *msg)
        set_err(err, errlen, "%s: %s", doing, msg);
    else
        set_err(err, errlen, "%s: %s (details in the log)", doing, ls_status_str(st));
}

/* After the old rows of the same validity are gone, any unit left that
 * shares a code and overlapping days is another version: refuse with the
 * details, rather than the exclusion constraint's generic words. */
static ls_status check_overlap(PGconn *c, const char *level, const table *t, int code_col,
                               const char *from, const char *to, char *err, size_t errlen)
{
    buf codes;
    buf_init(&codes, 0);
    PGresult *r = NULL;
    ls_status st = array_literal(&codes, t, code_col, 0, t->n);
    if (st != LS_OK) {
        set_err(err, errlen, "out of memory");
        goto out;
    }
    const char *p[4] = {level, codes.data, from, to};
    st = db_query(c, "units overlap check",
                  "SELECT code, valid_from::text, coalesce(valid_to::text, ''), "
                  "coalesce(loaded_from, 'an unknown file') FROM admin_units "
                  "WHERE level = $1 AND code = ANY ($2::text[]) "
                  "AND daterange(valid_from, valid_to) && daterange($3::date, $4::date) "
                  "ORDER BY valid_from, code LIMIT 1",
                  4, p, &r, NULL, 0);
    if (st != LS_OK) {
        db_err(err, errlen, st, "cannot check for overlapping units", NULL);
        goto out;
    }
    if (PQntuples(r) > 0) {
        set_err(err, errlen,
                "%s %s is already loaded for %s .. %s (from %s), which overlaps %s .. %s: "
                "load with the same validity to replace it, or with days that do not overlap",
                level, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2),
                PQgetvalue(r, 0, 3), from, to ? to : "");
        st = LS_ECONFLICT;
    }
out:
    PQclear(r);
    buf_free(&codes);
    return st;
}

/* -------------------------------------------------------------- loaders */

ls_status geo_units_load(PGconn *c, const char *path, const char *level, const char *valid_from,
                         const char *valid_to, const char *code_field, const char *name_field,
                         const char *province_field, int *loaded, char *err, size_t errlen)
{
    enum { C_CODE, C_NAME, C_PROV, C_GEOM };
    if (loaded)
        *loaded = 0;
    set_err(err, errlen, "%s", "");
    int commune = level && strcmp(level, "commune") == 0;
    if (!level || (!commune && strcmp(level, "province") != 0)) {
        set_err(err, errlen, "level must be province or commune, got '%s'", level ? level : "");
        return LS_EINVAL;
    }
    ls_status st = check_validity(valid_from, valid_to, err, errlen);
    if (st != LS_OK)
        return st;
    int width = commune ? 5 : 2;
    const char *names[3] = {code_field ? code_field : "code", name_field ? name_field : "name",
                            commune ? (province_field ? province_field : "province_code") : NULL};
    const int pad[3] = {width, 0, 2};
    table t;
    PGresult *r = NULL;
    int nested = 0, in_tx = 0;
    char where[512], msg[512];
    st = table_read(path, names, pad, 3, 1, &t, err, errlen);
    if (st != LS_OK)
        return st;

    for (int i = 0; i < t.n; i++) {
        const char *code = table_get(&t, i, C_CODE);
        row_name(&t, i, where, sizeof(where));
        if (!*code) {
            set_err(err, errlen, "%s: field '%s' (the code) is missing or empty", where,
                    names[C_CODE]);
            st = LS_EINVAL;
            goto out;
        }
        if (!all_digits(code, (size_t)width)) {
            set_err(err, errlen, "%s: field '%s' is '%s', not a %d-digit %s code", where,
                    names[C_CODE], code, width, level);
            st = LS_EINVAL;
            goto out;
        }
        if (!*table_get(&t, i, C_NAME)) {
            set_err(err, errlen, "%s: field '%s' (the name) is missing or empty", where,
                    names[C_NAME]);
            st = LS_EINVAL;
            goto out;
        }
        if (commune && !all_digits(table_get(&t, i, C_PROV), 2)) {
            set_err(err, errlen, "%s: field '%s' is '%s', not a 2-digit province code", where,
                    names[C_PROV], table_get(&t, i, C_PROV));
            st = LS_EINVAL;
            goto out;
        }
    }
    int r1, r2, dup = find_duplicate(&t, C_CODE, -1, &r1, &r2);
    if (dup != 0) {
        if (dup < 0)
            set_err(err, errlen, "out of memory");
        else
            set_err(err, errlen, "%s has code '%s' again (first on %s): one unit per code",
                    row_name(&t, r2, where, sizeof(where)), table_get(&t, r1, C_CODE),
                    row_ref(&t, r1, msg, sizeof(msg)));
        st = dup < 0 ? LS_ENOMEM : LS_EINVAL;
        goto out;
    }

    st = tx_begin(c, &nested);
    if (st != LS_OK) {
        db_err(err, errlen, st, "cannot start the load", NULL);
        goto out;
    }
    in_tx = 1;
    const char *dp[3] = {level, valid_from, valid_to};
    st = db_query(c, "units delete",
                  "DELETE FROM admin_units WHERE level = $1 AND valid_from = $2::date "
                  "AND valid_to IS NOT DISTINCT FROM $3::date",
                  3, dp, NULL, msg, sizeof(msg));
    if (st != LS_OK) {
        db_err(err, errlen, st, "cannot replace the earlier load", msg);
        goto out;
    }
    st = check_overlap(c, level, &t, C_CODE, valid_from, valid_to, err, errlen);
    if (st != LS_OK)
        goto out;
    static const int cols[4] = {C_CODE, C_NAME, C_PROV, C_GEOM};
    const char *fixed[4] = {level, valid_from, valid_to, t.file};
    /* The geometry is made valid, reduced to its polygons and forced to
     * MultiPolygon once, then generalised to ~100 m (0.001 degree) for maps;
     * simplifying may break validity again, hence the second repair. */
    st = insert_rows(c, "units insert",
                     "INSERT INTO admin_units (level, code, name, province_code, valid_from, "
                     "valid_to, geom, geom_simple, loaded_from) "
                     "SELECT $5, u.code, u.name, nullif(u.prov, ''), $6::date, $7::date, g.geom, "
                     "ST_Multi(ST_CollectionExtract(ST_MakeValid("
                     "ST_SimplifyPreserveTopology(g.geom, 0.001)), 3)), $8 "
                     "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) "
                     "AS u(code, name, prov, wkb) "
                     "CROSS JOIN LATERAL (SELECT ST_Multi(ST_CollectionExtract(ST_MakeValid("
                     "ST_GeomFromWKB(decode(u.wkb, 'hex'), 4326)), 3)) AS geom) g",
                     &t, cols, 4, fixed, 4, msg, sizeof(msg));
    if (st != LS_OK) {
        db_err(err, errlen, st,
               st == LS_ECONFLICT ? "cannot store the units (another load at the same time?)"
                                  : "cannot store the units",
               msg);
        goto out;
    }
    /* A feature whose "polygon" was only lines or points has no area left
     * after the repair: it is as good as no geometry. */
    st = db_query(c, "units empty check",
                  "SELECT code FROM admin_units WHERE level = $1 AND valid_from = $2::date "
                  "AND valid_to IS NOT DISTINCT FROM $3::date "
                  "AND (ST_IsEmpty(geom) OR ST_IsEmpty(geom_simple)) ORDER BY code LIMIT 1",
                  3, dp, &r, NULL, 0);
    if (st != LS_OK) {
        db_err(err, errlen, st, "cannot check the stored units", NULL);
        goto out;
    }
    if (PQntuples(r) > 0) {
        const char *bad = PQgetvalue(r, 0, 0);
        int row = 0;
        while (row < t.n - 1 && strcmp(table_get(&t, row, C_CODE), bad) != 0)
            row++;
        set_err(err, errlen, "%s (code %s): the geometry has no polygon area",
                row_name(&t, row, where, sizeof(where)), bad);
        st = LS_EINVAL;
        goto out;
    }
    /* The boundaries the vector tiles draw, generalised per zoom and in Web
     * Mercator once here rather than on every tile (geo/sql/005_tiles.sql). */
    if (!commune) {
        st = db_query(c, "units tile geometries", "SELECT unit_tiles_refresh()", 0, NULL, NULL, msg,
                      sizeof(msg));
        if (st != LS_OK) {
            db_err(err, errlen, st, "cannot prepare the units for map tiles", msg);
            goto out;
        }
    }
out:
    PQclear(r);
    if (in_tx) {
        ls_status end = tx_end(c, nested, st);
        if (st == LS_OK && end != LS_OK)
            db_err(err, errlen, end, "cannot commit the load", NULL);
        st = end;
    }
    if (st == LS_OK) {
        if (loaded)
            *loaded = t.n;
        log_debug("loaded %d %s units from %s (valid %s .. %s)", t.n, level, t.file, valid_from,
                  valid_to ? valid_to : "");
    }
    table_free(&t);
    return st;
}

ls_status geo_units_load_merges(PGconn *c, const char *path, const char *effective, int *loaded,
                                char *err, size_t errlen)
{
    enum { C_NEW, C_OLD, C_TYPE };
    if (loaded)
        *loaded = 0;
    set_err(err, errlen, "%s", "");
    if (!effective || cli_check_date(effective) != 0) {
        set_err(err, errlen, "effective must be a date YYYY-MM-DD, got '%s'",
                effective ? effective : "");
        return LS_EINVAL;
    }
    static const char *const names[3] = {"new_code", "old_code", "type"};
    table t;
    int nested = 0, in_tx = 0;
    char where[512], msg[512];
    ls_status st = table_read(path, names, (const int[]){2, 2, 0}, 3, 0, &t, err, errlen);
    if (st != LS_OK)
        return st;
    for (int i = 0; i < t.n; i++) {
        row_name(&t, i, where, sizeof(where));
        for (int k = C_NEW; k <= C_OLD; k++)
            if (!all_digits(table_get(&t, i, k), 2)) {
                set_err(err, errlen, "%s: field '%s' is '%s', not a 2-digit province code", where,
                        names[k], table_get(&t, i, k));
                st = LS_EINVAL;
                goto out;
            }
        char *type = table_get(&t, i, C_TYPE);
        for (char *p = type; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (strcmp(type, "full") != 0 && strcmp(type, "partial") != 0) {
            set_err(err, errlen, "%s: field 'type' is '%s', not full or partial", where, type);
            st = LS_EINVAL;
            goto out;
        }
    }
    int r1, r2, dup = find_duplicate(&t, C_OLD, C_NEW, &r1, &r2);
    if (dup != 0) {
        if (dup < 0)
            set_err(err, errlen, "out of memory");
        else
            set_err(err, errlen, "%s repeats %s -> %s (first on %s)",
                    row_name(&t, r2, where, sizeof(where)), table_get(&t, r1, C_OLD),
                    table_get(&t, r1, C_NEW), row_ref(&t, r1, msg, sizeof(msg)));
        st = dup < 0 ? LS_ENOMEM : LS_EINVAL;
        goto out;
    }

    st = tx_begin(c, &nested);
    if (st != LS_OK) {
        db_err(err, errlen, st, "cannot start the load", NULL);
        goto out;
    }
    in_tx = 1;
    const char *dp[1] = {effective};
    st = db_query(c, "successors delete",
                  "DELETE FROM unit_successors WHERE level = 'province' AND effective = $1::date",
                  1, dp, NULL, msg, sizeof(msg));
    if (st != LS_OK) {
        db_err(err, errlen, st, "cannot replace the earlier load", msg);
        goto out;
    }
    static const int cols[3] = {C_OLD, C_NEW, C_TYPE};
    const char *fixed[2] = {"province", effective};
    st = insert_rows(c, "successors insert",
                     "INSERT INTO unit_successors (level, old_code, new_code, kind, effective) "
                     "SELECT $4, o, n, k, $5::date "
                     "FROM unnest($1::text[], $2::text[], $3::text[]) AS s(o, n, k)",
                     &t, cols, 3, fixed, 2, msg, sizeof(msg));
    if (st != LS_OK)
        db_err(err, errlen, st, "cannot store the successors", msg);
out:
    if (in_tx) {
        ls_status end = tx_end(c, nested, st);
        if (st == LS_OK && end != LS_OK)
            db_err(err, errlen, end, "cannot commit the load", NULL);
        st = end;
    }
    if (st == LS_OK && loaded)
        *loaded = t.n;
    table_free(&t);
    return st;
}

/* One (old commune, new commune) pair of merged_from_codes. */
typedef struct {
    const char *old_code, *new_code;
    int row;
} pair;

static int pair_cmp(const void *x, const void *y)
{
    const pair *p = x, *q = y;
    int c = strcmp(p->old_code, q->old_code);
    return c ? c : strcmp(p->new_code, q->new_code);
}

/* Splits the merged_from_codes of every commune into the successor table s
 * (old_code, new_code, kind): "full" when the old commune went into this
 * new one only, "partial" when it was split between several. */
static ls_status commune_successors(table *t, int new_col, int from_col, table *s, char *err,
                                    size_t errlen)
{
    ls_status st = LS_OK;
    pair *p = NULL;
    size_t np = 0, ap = 0;
    char where[512];
    memset(s, 0, sizeof(*s));
    s->ncols = 3;
    s->file = t->file;
    s->csv = t->csv;
    for (int i = 0; i < t->n; i++) {
        /* The codes are cut out of the cell in place (it is not read as a
         * list again), so the pairs point into t. */
        char *list = table_get(t, i, from_col);
        while (*list) {
            size_t sp = strspn(list, " \t");
            list += sp;
            size_t len = strcspn(list, " \t");
            if (!len)
                break;
            /* Island districts that had no communes (Bạch Long Vĩ, Côn Đảo...)
             * became special zones: their old code is the 3-digit district
             * code. */
            if ((len != 5 && len != 3) || strspn(list, "0123456789") < len) {
                set_err(err, errlen,
                        "%s: field 'merged_from_codes' has '%.*s', not a 5-digit commune code "
                        "(or the 3-digit code of a district without communes)",
                        row_name(t, i, where, sizeof(where)), (int)(len > 40 ? 40 : len), list);
                st = LS_EINVAL;
                goto out;
            }
            if (np == ap) {
                size_t na = ap ? ap * 2 : 1024;
                pair *q = realloc(p, na * sizeof(*q));
                if (!q) {
                    st = LS_ENOMEM;
                    set_err(err, errlen, "out of memory");
                    goto out;
                }
                p = q;
                ap = na;
            }
            char *code = list;
            list += len;
            if (*list)
                *list++ = '\0';
            p[np++] = (pair){code, table_get(t, i, new_col), i};
        }
    }
    qsort(p, np, sizeof(*p), pair_cmp);
    for (size_t i = 0; i < np;) {
        /* One run of the same old code; repeats of a pair count once. */
        size_t j = i, distinct = 0;
        for (; j < np && strcmp(p[j].old_code, p[i].old_code) == 0; j++)
            if (j == i || strcmp(p[j].new_code, p[j - 1].new_code) != 0)
                distinct++;
        for (size_t k = i; k < j; k++) {
            if (k > i && strcmp(p[k].new_code, p[k - 1].new_code) == 0)
                continue;
            st = table_add_row(s);
            if (st != LS_OK) {
                set_err(err, errlen, "%s: too many merged communes", t->file);
                goto out;
            }
            char *o = strdup(p[k].old_code), *n = strdup(p[k].new_code);
            char *kind = strdup(distinct == 1 ? "full" : "partial");
            table_set(s, s->n - 1, 0, o);
            table_set(s, s->n - 1, 1, n);
            table_set(s, s->n - 1, 2, kind);
            if (!o || !n || !kind) {
                st = LS_ENOMEM;
                set_err(err, errlen, "out of memory");
                goto out;
            }
        }
        i = j;
    }
out:
    free(p);
    if (st != LS_OK)
        table_free(s);
    return st;
}

ls_status geo_units_load_communes(PGconn *c, const char *path, const char *valid_from, int *loaded,
                                  char *err, size_t errlen)
{
    enum { C_PROV, C_CODE, C_NAME, C_FROM };
    if (loaded)
        *loaded = 0;
    set_err(err, errlen, "%s", "");
    ls_status st = check_validity(valid_from, NULL, err, errlen);
    if (st != LS_OK)
        return st;
    static const char *const names[4] = {"province_code", "commune_code", "commune_name",
                                         "merged_from_codes"};
    table t, s = {0};
    int nested = 0, in_tx = 0;
    char where[512], msg[512];
    st = table_read(path, names, (const int[]){2, 5, 0, 0}, 4, 0, &t, err, errlen);
    if (st != LS_OK)
        return st;
    for (int i = 0; i < t.n; i++) {
        row_name(&t, i, where, sizeof(where));
        if (!all_digits(table_get(&t, i, C_PROV), 2)) {
            set_err(err, errlen, "%s: field 'province_code' is '%s', not a 2-digit province code",
                    where, table_get(&t, i, C_PROV));
            st = LS_EINVAL;
            goto out;
        }
        if (!all_digits(table_get(&t, i, C_CODE), 5)) {
            set_err(err, errlen, "%s: field 'commune_code' is '%s', not a 5-digit commune code",
                    where, table_get(&t, i, C_CODE));
            st = LS_EINVAL;
            goto out;
        }
        if (!*table_get(&t, i, C_NAME)) {
            set_err(err, errlen, "%s: field 'commune_name' is missing or empty", where);
            st = LS_EINVAL;
            goto out;
        }
    }
    int r1, r2, dup = find_duplicate(&t, C_CODE, -1, &r1, &r2);
    if (dup != 0) {
        if (dup < 0)
            set_err(err, errlen, "out of memory");
        else
            set_err(err, errlen, "%s has commune code %s again (first on %s)",
                    row_name(&t, r2, where, sizeof(where)), table_get(&t, r1, C_CODE),
                    row_ref(&t, r1, msg, sizeof(msg)));
        st = dup < 0 ? LS_ENOMEM : LS_EINVAL;
        goto out;
    }
    /* Last use of the merged_from_codes cells: this splits them in place. */
    st = commune_successors(&t, C_CODE, C_FROM, &s, err, errlen);
    if (st != LS_OK)
        goto out;

    st = tx_begin(c, &nested);
    if (st != LS_OK) {
        db_err(err, errlen, st, "cannot start the load", NULL);
        goto out;
    }
    in_tx = 1;
    const char *dp[1] = {valid_from};
    st = db_query(c, "communes delete",
                  "DELETE FROM admin_units WHERE level = 'commune' AND valid_from = $1::date "
                  "AND valid_to IS NULL",
                  1, dp, NULL, msg, sizeof(msg));
    if (st == LS_OK)
        st = db_query(c, "commune successors delete",
                      "DELETE FROM unit_successors WHERE level = 'commune' "
                      "AND effective = $1::date",
                      1, dp, NULL, msg, sizeof(msg));
    if (st != LS_OK) {
        db_err(err, errlen, st, "cannot replace the earlier load", msg);
        goto out;
    }
    st = check_overlap(c, "commune", &t, C_CODE, valid_from, NULL, err, errlen);
    if (st != LS_OK)
        goto out;
    static const int ucols[3] = {C_CODE, C_NAME, C_PROV};
    const char *ufixed[2] = {valid_from, t.file};
    st = insert_rows(c, "communes insert",
                     "INSERT INTO admin_units (level, code, name, province_code, valid_from, "
                     "loaded_from) SELECT 'commune', u.code, u.name, u.prov, $4::date, $5 "
                     "FROM unnest($1::text[], $2::text[], $3::text[]) AS u(code, name, prov)",
                     &t, ucols, 3, ufixed, 2, msg, sizeof(msg));
    if (st != LS_OK) {
        db_err(err, errlen, st, "cannot store the communes", msg);
        goto out;
    }
    static const int scols[3] = {0, 1, 2};
    const char *sfixed[2] = {"commune", valid_from};
    st = insert_rows(c, "commune successors insert",
                     "INSERT INTO unit_successors (level, old_code, new_code, kind, effective) "
                     "SELECT $4, o, n, k, $5::date "
                     "FROM unnest($1::text[], $2::text[], $3::text[]) AS s(o, n, k)",
                     &s, scols, 3, sfixed, 2, msg, sizeof(msg));
    if (st != LS_OK)
        db_err(err, errlen, st, "cannot store the commune successors", msg);
out:
    if (in_tx) {
        ls_status end = tx_end(c, nested, st);
        if (st == LS_OK && end != LS_OK)
            db_err(err, errlen, end, "cannot commit the load", NULL);
        st = end;
    }
    if (st == LS_OK) {
        if (loaded)
            *loaded = t.n;
        log_debug("loaded %d communes and %d commune successors from %s", t.n, s.n, t.file);
    }
    table_free(&s);
    table_free(&t);
    return st;
}

/* Normalises an mcc_mnc cell ("452-04; 452-05") to space-separated values
 * (*out malloc'd).  Returns the offending value's length and start in
 * *bad when one is not NNN-NN or NNN-NNN. */
static ls_status norm_mcc_mnc(const char *in, char **out, const char **bad, size_t *badlen)
{
    *out = NULL;
    buf b;
    buf_init(&b, 0);
    ls_status st = buf_puts(&b, "");
    const char *sep = " \t;";
    while (st == LS_OK && *in) {
        in += strspn(in, sep);
        size_t len = strcspn(in, sep);
        if (!len)
            break;
        int ok = (len == 6 || len == 7) && in[3] == '-' && strspn(in, "0123456789") == 3 &&
                 strspn(in + 4, "0123456789") == len - 4;
        if (!ok) {
            *bad = in;
            *badlen = len;
            st = LS_EINVAL;
            break;
        }
        /* Drop repeats: the array is a set.  Kept values are all 6 or 7
         * characters, separated by single spaces. */
        int seen = 0;
        for (const char *p = b.data; p && *p && !seen;) {
            size_t plen = strcspn(p, " ");
            seen = plen == len && strncmp(p, in, len) == 0;
            p += plen;
            p += *p == ' ';
        }
        if (!seen) {
            if (b.len)
                st = buf_puts(&b, " ");
            if (st == LS_OK)
                st = buf_append(&b, in, len);
        }
        in += len;
    }
    if (st == LS_OK)
        *out = buf_detach(&b, NULL);
    buf_free(&b);
    return st == LS_OK && !*out ? LS_ENOMEM : st;
}

ls_status geo_carriers_load(PGconn *c, const char *path, int *loaded, char *err, size_t errlen)
{
    enum { C_CODE, C_NAME, C_MCC, C_KIND };
    if (loaded)
        *loaded = 0;
    set_err(err, errlen, "%s", "");
    static const char *const names[4] = {"code", "name", "mcc_mnc", "kind"};
    table t;
    int nested = 0, in_tx = 0;
    char where[512], msg[512];
    ls_status st = table_read(path, names, NULL, 4, 0, &t, err, errlen);
    if (st != LS_OK)
        return st;
    for (int i = 0; i < t.n; i++) {
        row_name(&t, i, where, sizeof(where));
        char *code = table_get(&t, i, C_CODE);
        size_t n = strlen(code);
        for (char *p = code; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (n < 2 || n > 32 || strspn(code, "abcdefghijklmnopqrstuvwxyz0123456789_") != n) {
            set_err(err, errlen, "%s: field 'code' is '%s', not 2 to 32 letters a-z, digits or _",
                    where, code);
            st = LS_EINVAL;
            goto out;
        }
        if (!*table_get(&t, i, C_NAME)) {
            set_err(err, errlen, "%s: field 'name' is missing or empty", where);
            st = LS_EINVAL;
            goto out;
        }
        char *norm = NULL;
        const char *bad = NULL;
        size_t badlen = 0;
        st = norm_mcc_mnc(table_get(&t, i, C_MCC), &norm, &bad, &badlen);
        if (st == LS_EINVAL) {
            set_err(err, errlen,
                    "%s: field 'mcc_mnc' has '%.*s', not an MCC-MNC like 452-04 or 310-410", where,
                    (int)(badlen > 40 ? 40 : badlen), bad);
            goto out;
        }
        if (st != LS_OK) {
            set_err(err, errlen, "out of memory");
            goto out;
        }
        table_set(&t, i, C_MCC, norm);
        char *kind = table_get(&t, i, C_KIND);
        for (char *p = kind; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (!*kind) {
            char *d = strdup("mno"); /* the column's default */
            if (!d) {
                st = LS_ENOMEM;
                set_err(err, errlen, "out of memory");
                goto out;
            }
            table_set(&t, i, C_KIND, d);
        } else if (strcmp(kind, "mno") != 0 && strcmp(kind, "mvno") != 0) {
            set_err(err, errlen, "%s: field 'kind' is '%s', not mno or mvno", where, kind);
            st = LS_EINVAL;
            goto out;
        }
    }
    int r1, r2, dup = find_duplicate(&t, C_CODE, -1, &r1, &r2);
    if (dup != 0) {
        if (dup < 0)
            set_err(err, errlen, "out of memory");
        else
            set_err(err, errlen, "%s has carrier code '%s' again (first on %s)",
                    row_name(&t, r2, where, sizeof(where)), table_get(&t, r1, C_CODE),
                    row_ref(&t, r1, msg, sizeof(msg)));
        st = dup < 0 ? LS_ENOMEM : LS_EINVAL;
        goto out;
    }

    st = tx_begin(c, &nested);
    if (st != LS_OK) {
        db_err(err, errlen, st, "cannot start the load", NULL);
        goto out;
    }
    in_tx = 1;
    /* An upsert, not a replace: accounts and assignments refer to carriers,
     * so a carrier missing from the file is kept. */
    static const int cols[4] = {C_CODE, C_NAME, C_MCC, C_KIND};
    st = insert_rows(c, "carriers upsert",
                     "INSERT INTO carriers (code, name, mcc_mnc, kind) "
                     "SELECT code, name, CASE WHEN m = '' THEN '{}'::text[] "
                     "ELSE string_to_array(m, ' ') END, k "
                     "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) "
                     "AS c(code, name, m, k) "
                     "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, "
                     "mcc_mnc = EXCLUDED.mcc_mnc, kind = EXCLUDED.kind",
                     &t, cols, 4, NULL, 0, msg, sizeof(msg));
    if (st != LS_OK)
        db_err(err, errlen, st, "cannot store the carriers", msg);
out:
    if (in_tx) {
        ls_status end = tx_end(c, nested, st);
        if (st == LS_OK && end != LS_OK)
            db_err(err, errlen, end, "cannot commit the load", NULL);
        st = end;
    }
    if (st == LS_OK && loaded)
        *loaded = t.n;
    table_free(&t);
    return st;
}

/* ------------------------------------------------------------- queries */

/* Copies the single text value of r into out; LS_ENOTFOUND for no row or
 * NULL, LS_EINTERNAL when it does not fit. */
static ls_status copy_value(const PGresult *r, char *out, size_t outlen)
{
    if (PQntuples(r) < 1 || PQgetisnull(r, 0, 0))
        return LS_ENOTFOUND;
    const char *v = PQgetvalue(r, 0, 0);
    if (strlen(v) >= outlen)
        return LS_EINTERNAL;
    memcpy(out, v, strlen(v) + 1);
    return LS_OK;
}

ls_status geo_units_locate(PGconn *c, double lat, double lon, const char *date, char *code,
                           size_t codelen)
{
    if (codelen)
        *code = '\0';
    if (!isfinite(lat) || !isfinite(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180)
        return LS_EINVAL;
    if (date && cli_check_date(date) != 0)
        return LS_EINVAL;
    char slat[32], slon[32];
    snprintf(slat, sizeof(slat), "%.17g", lat);
    snprintf(slon, sizeof(slon), "%.17g", lon);
    const char *p[3] = {slon, slat, date};
    PGresult *r = NULL;
    ls_status st = db_query(c, "unit_at",
                            "SELECT unit_at(ST_SetSRID(ST_MakePoint($1::float8, $2::float8), "
                            "4326), coalesce($3::date, current_date), 'province')",
                            3, p, &r, NULL, 0);
    if (st == LS_OK)
        st = copy_value(r, code, codelen);
    PQclear(r);
    return st;
}

ls_status geo_units_current(PGconn *c, const char *code, char *out, size_t outlen)
{
    if (outlen)
        *out = '\0';
    if (!code || strlen(code) < 2 || strlen(code) > 5 || !all_digits(code, strlen(code)))
        return LS_EINVAL;
    const char *p[1] = {code};
    PGresult *r = NULL;
    ls_status st =
        db_query(c, "unit_current", "SELECT unit_current($1, 'province')", 1, p, &r, NULL, 0);
    if (st == LS_OK)
        st = copy_value(r, out, outlen);
    PQclear(r);
    return st;
}

/* ------------------------------------------------------------------ CLI */

static const char units_usage[] =
    "usage: lomsong units load FILE --level province|commune --valid-from YYYY-MM-DD\n"
    "                          [--valid-to YYYY-MM-DD] [--code-field F] [--name-field F]\n"
    "                          [--province-field F]\n"
    "       lomsong units load-merges FILE --effective YYYY-MM-DD\n"
    "       lomsong units load-communes FILE --valid-from YYYY-MM-DD\n"
    "       lomsong units locate LAT LON [--at YYYY-MM-DD]\n"
    "       lomsong units current CODE\n";

static int cli_connect(const ls_config *cfg, const char *cmd, PGconn **c)
{
    char ci[2048];
    config_admin_conninfo(cfg, ci, sizeof(ci));
    if (db_connect(ci, c) != LS_OK) {
        fprintf(stderr, "lomsong %s: cannot connect to the database (see the log line above)\n",
                cmd);
        return 1;
    }
    return 0;
}

/* The name of a province code valid on `date` (NULL: today) into out. */
static void province_name(PGconn *c, const char *code, const char *date, char *out, size_t len)
{
    const char *p[2] = {code, date};
    PGresult *r = NULL;
    out[0] = '\0';
    if (db_query(c, "province name",
                 "SELECT name FROM admin_units WHERE level = 'province' AND code = $1 "
                 "AND valid_from <= coalesce($2::date, current_date) "
                 "AND (valid_to IS NULL OR valid_to > coalesce($2::date, current_date))",
                 2, p, &r, NULL, 0) == LS_OK &&
        PQntuples(r) > 0)
        snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
}

/* Parses the arguments of a subcommand, which wants npos_want words named
 * by `words` ("FILE"); 2 (usage) with a message on failure. */
static int parse_args(int argc, char **argv, const char *cmd, const char *const *flags,
                      const char **values, const char **pos, int npos_want, const char *words)
{
    char err[256];
    int npos = cli_parse(argc, argv, 2, flags, values, pos, npos_want, err, sizeof(err));
    if (npos < 0) {
        fprintf(stderr, "lomsong %s: %s\n%s", cmd, err, units_usage);
        return 2;
    }
    if (npos != npos_want) {
        fprintf(stderr, "lomsong %s: expected %s\n%s", cmd, words, units_usage);
        return 2;
    }
    return 0;
}

static int check_date_arg(const char *cmd, const char *flag, const char *v, int required)
{
    if (!v && required) {
        fprintf(stderr, "lomsong %s: --%s YYYY-MM-DD is required\n", cmd, flag);
        return 2;
    }
    if (v && cli_check_date(v) != 0) {
        fprintf(stderr, "lomsong %s: --%s must be a date YYYY-MM-DD, got '%s'\n", cmd, flag, v);
        return 2;
    }
    return 0;
}

/* A failed load: the arguments were checked before, so this is about the
 * file or the database, exit code 1. */
static int load_failed(const char *cmd, ls_status st, const char *err)
{
    fprintf(stderr, "lomsong %s: %s\n", cmd, *err ? err : ls_status_str(st));
    return 1;
}

static int cmd_load(const ls_config *cfg, int argc, char **argv)
{
    static const char *const flags[] = {"level",      "valid-from",     "valid-to", "code-field",
                                        "name-field", "province-field", NULL};
    const char *v[7], *pos[1];
    const char *cmd = "units load";
    int rc = parse_args(argc, argv, cmd, flags, v, pos, 1, "FILE");
    if (rc)
        return rc;
    if (!v[0] || (strcmp(v[0], "province") != 0 && strcmp(v[0], "commune") != 0)) {
        fprintf(stderr, "lomsong %s: --level must be province or commune\n", cmd);
        return 2;
    }
    if ((rc = check_date_arg(cmd, "valid-from", v[1], 1)) != 0 ||
        (rc = check_date_arg(cmd, "valid-to", v[2], 0)) != 0)
        return rc;
    if (v[2] && strcmp(v[2], v[1]) <= 0) {
        fprintf(stderr, "lomsong %s: --valid-to must be after --valid-from\n", cmd);
        return 2;
    }
    PGconn *c = NULL;
    if (cli_connect(cfg, cmd, &c))
        return 1;
    char err[1024];
    int n = 0;
    ls_status st =
        geo_units_load(c, pos[0], v[0], v[1], v[2], v[3], v[4], v[5], &n, err, sizeof(err));
    /* The ingest's grid of the provinces now in force, made and stored
     * with them so that no ingest after a load has to build it (a load
     * that leaves no province in force has none to make). */
    if (st == LS_OK && strcmp(v[0], "province") == 0)
        geo_area_prepare(c);
    PQfinish(c);
    if (st != LS_OK)
        return load_failed(cmd, st, err);
    printf("loaded %d %s units from %s (valid %s ..%s%s)\n", n, v[0], base_name(pos[0]), v[1],
           v[2] ? " " : "", v[2] ? v[2] : "");
    return 0;
}

static int cmd_load_merges(const ls_config *cfg, int argc, char **argv)
{
    static const char *const flags[] = {"effective", NULL};
    const char *v[2], *pos[1];
    const char *cmd = "units load-merges";
    int rc = parse_args(argc, argv, cmd, flags, v, pos, 1, "FILE");
    if (rc || (rc = check_date_arg(cmd, "effective", v[0], 1)) != 0)
        return rc;
    PGconn *c = NULL;
    if (cli_connect(cfg, cmd, &c))
        return 1;
    char err[1024];
    int n = 0;
    ls_status st = geo_units_load_merges(c, pos[0], v[0], &n, err, sizeof(err));
    PQfinish(c);
    if (st != LS_OK)
        return load_failed(cmd, st, err);
    printf("loaded %d province successors from %s (effective %s)\n", n, base_name(pos[0]), v[0]);
    return 0;
}

static int cmd_load_communes(const ls_config *cfg, int argc, char **argv)
{
    static const char *const flags[] = {"valid-from", NULL};
    const char *v[2], *pos[1];
    const char *cmd = "units load-communes";
    int rc = parse_args(argc, argv, cmd, flags, v, pos, 1, "FILE");
    if (rc || (rc = check_date_arg(cmd, "valid-from", v[0], 1)) != 0)
        return rc;
    PGconn *c = NULL;
    if (cli_connect(cfg, cmd, &c))
        return 1;
    char err[1024];
    int n = 0;
    ls_status st = geo_units_load_communes(c, pos[0], v[0], &n, err, sizeof(err));
    PQfinish(c);
    if (st != LS_OK)
        return load_failed(cmd, st, err);
    printf("loaded %d communes from %s (valid %s ..)\n", n, base_name(pos[0]), v[0]);
    return 0;
}

static int parse_coord(const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    *out = strtod(s, &end);
    return !(end != s && *end == '\0' && errno == 0 && isfinite(*out) && *out >= lo && *out <= hi);
}

static int cmd_locate(const ls_config *cfg, int argc, char **argv)
{
    static const char *const flags[] = {"at", NULL};
    const char *v[2], *pos[2];
    const char *cmd = "units locate";
    int rc = parse_args(argc, argv, cmd, flags, v, pos, 2, "LAT LON");
    if (rc || (rc = check_date_arg(cmd, "at", v[0], 0)) != 0)
        return rc;
    double lat, lon;
    if (parse_coord(pos[0], -90, 90, &lat)) {
        fprintf(stderr, "lomsong %s: latitude must be a number from -90 to 90, got '%s'\n", cmd,
                pos[0]);
        return 2;
    }
    if (parse_coord(pos[1], -180, 180, &lon)) {
        fprintf(stderr, "lomsong %s: longitude must be a number from -180 to 180, got '%s'\n", cmd,
                pos[1]);
        return 2;
    }
    PGconn *c = NULL;
    if (cli_connect(cfg, cmd, &c))
        return 1;
    char code[16], name[512];
    ls_status st = geo_units_locate(c, lat, lon, v[0], code, sizeof(code));
    if (st == LS_OK)
        province_name(c, code, v[0], name, sizeof(name));
    PQfinish(c);
    if (st == LS_ENOTFOUND) {
        fprintf(stderr, "lomsong %s: %s, %s is not in any province%s%s\n", cmd, pos[0], pos[1],
                v[0] ? " on " : "", v[0] ? v[0] : "");
        return 1;
    }
    if (st != LS_OK) {
        fprintf(stderr, "lomsong %s: %s (details in the log)\n", cmd, ls_status_str(st));
        return 1;
    }
    printf("%s %s\n", code, name);
    return 0;
}

static int cmd_current(const ls_config *cfg, int argc, char **argv)
{
    static const char *const flags[] = {NULL};
    const char *v[1], *pos[1];
    const char *cmd = "units current";
    int rc = parse_args(argc, argv, cmd, flags, v, pos, 1, "CODE");
    if (rc)
        return rc;
    size_t n = strlen(pos[0]);
    if (n < 2 || n > 5 || !all_digits(pos[0], n)) {
        fprintf(stderr, "lomsong %s: '%s' is not a province code (two digits, e.g. 02)\n", cmd,
                pos[0]);
        return 2;
    }
    PGconn *c = NULL;
    if (cli_connect(cfg, cmd, &c))
        return 1;
    char code[16], name[512];
    ls_status st = geo_units_current(c, pos[0], code, sizeof(code));
    if (st == LS_OK)
        province_name(c, code, NULL, name, sizeof(name));
    PQfinish(c);
    if (st == LS_ENOTFOUND) {
        fprintf(stderr, "lomsong %s: no province with code %s, now or before\n", cmd, pos[0]);
        return 1;
    }
    if (st != LS_OK) {
        fprintf(stderr, "lomsong %s: %s (details in the log)\n", cmd, ls_status_str(st));
        return 1;
    }
    printf("%s %s\n", code, name);
    return 0;
}

int geo_units_cli(const ls_config *cfg, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    if (strcmp(sub, "load") == 0)
        return cmd_load(cfg, argc, argv);
    if (strcmp(sub, "load-merges") == 0)
        return cmd_load_merges(cfg, argc, argv);
    if (strcmp(sub, "load-communes") == 0)
        return cmd_load_communes(cfg, argc, argv);
    if (strcmp(sub, "locate") == 0)
        return cmd_locate(cfg, argc, argv);
    if (strcmp(sub, "current") == 0)
        return cmd_current(cfg, argc, argv);
    if (strcmp(sub, "help") == 0 || strcmp(sub, "--help") == 0) {
        fputs(units_usage, stdout);
        return 0;
    }
    if (*sub)
        fprintf(stderr, "lomsong units: unknown subcommand '%s'\n", sub);
    fputs(units_usage, stderr);
    return 2;
}

int geo_carriers_cli(const ls_config *cfg, int argc, char **argv)
{
    static const char usage[] = "usage: lomsong carriers load FILE\n";
    const char *cmd = "carriers load";
    if (argc < 2 || strcmp(argv[1], "load") != 0) {
        if (argc > 1 && (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0)) {
            fputs(usage, stdout);
            return 0;
        }
        fputs(usage, stderr);
        return 2;
    }
    static const char *const flags[] = {NULL};
    const char *v[1], *pos[1];
    char err[1024];
    int npos = cli_parse(argc, argv, 2, flags, v, pos, 1, err, sizeof(err));
    if (npos != 1) {
        fprintf(stderr, "lomsong %s: %s\n%s", cmd, npos < 0 ? err : "expected one FILE", usage);
        return 2;
    }
    PGconn *c = NULL;
    if (cli_connect(cfg, cmd, &c))
        return 1;
    int n = 0;
    ls_status st = geo_carriers_load(c, pos[0], &n, err, sizeof(err));
    PQfinish(c);
    if (st != LS_OK)
        return load_failed(cmd, st, err);
    printf("loaded %d carriers from %s\n", n, base_name(pos[0]));
    return 0;
}
