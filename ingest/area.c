/*
 * area.c — see area.h.
 */
#include "area.h"

#include <gdal.h>
#include <gdal_alg.h>
#include <math.h>
#include <pthread.h>
#include <ogr_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../geo/db.h"
#include "../geo/gdal.h"

#define RES 0.005
#define LON0 101.0
#define LON1 119.0
#define LAT0 5.5
#define LAT1 24.5
#define COARSE 4        /* the margin grid is 4 x 4 cells of the label grid */
#define MARGIN_CELLS 13 /* 0.25 degrees in margin-grid cells of 0.02 degrees */
#define MAX_PROV 250

struct ingest_area {
    int refs; /* guarded by cache_mu */
    int w, h;
    uint8_t *label; /* 0 outside the provinces, else 1 + index into code */
    int cw, ch;
    uint8_t *margin; /* coarse grid: the nearest province within 0.25 degrees, or 0 */
    char code[MAX_PROV][8];
    int n;
};

static void ingest_area_free(ingest_area *a)
{
    if (!a)
        return;
    free(a->label);
    free(a->margin);
    free(a);
}

static int hexval(char c)
{
    return c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0';
}

/* Chamfer 3-4 distance transform that carries the nearest label along.
 * The grid has a one-cell frame that is never updated, so the inner loops
 * need no bounds checks. */
static void grow(ingest_area *a, uint8_t *dist)
{
    int w = a->cw, h = a->ch;
    uint8_t *lab = a->margin;
#define RELAX(j, cost)                                                                             \
    do {                                                                                           \
        int d_ = dist[j] + (cost);                                                                 \
        if (d_ < best) {                                                                           \
            best = d_;                                                                             \
            bl = lab[j];                                                                           \
        }                                                                                          \
    } while (0)
    for (int y = 1; y < h - 1; y++) {
        size_t row = (size_t)y * (size_t)w;
        for (int x = 1; x < w - 1; x++) {
            size_t i = row + (size_t)x;
            if (!dist[i])
                continue;
            int best = dist[i], bl = lab[i];
            RELAX(i - 1, 3);
            RELAX(i - (size_t)w - 1, 4);
            RELAX(i - (size_t)w, 3);
            RELAX(i - (size_t)w + 1, 4);
            dist[i] = (uint8_t)(best > 255 ? 255 : best);
            lab[i] = (uint8_t)bl;
        }
    }
    for (int y = h - 2; y >= 1; y--) {
        size_t row = (size_t)y * (size_t)w;
        for (int x = w - 2; x >= 1; x--) {
            size_t i = row + (size_t)x;
            if (!dist[i])
                continue;
            int best = dist[i], bl = lab[i];
            RELAX(i + 1, 3);
            RELAX(i + (size_t)w + 1, 4);
            RELAX(i + (size_t)w, 3);
            RELAX(i + (size_t)w - 1, 4);
            dist[i] = (uint8_t)(best > 255 ? 255 : best);
            lab[i] = (uint8_t)bl;
        }
    }
#undef RELAX
    size_t n = (size_t)w * (size_t)h;
    for (size_t i = 0; i < n; i++)
        if (dist[i] > 3 * MARGIN_CELLS)
            lab[i] = 0;
}

/* The provinces in force, as (code, hex WKB) rows. */
static ls_status fetch(PGconn *c, PGresult **r, char *err, size_t errlen)
{
    ls_status st = db_query(c, "area: provinces",
                            "SELECT code, encode(ST_AsBinary(geom_simple), 'hex') FROM admin_units"
                            " WHERE level = 'province' AND valid_to IS NULL AND geom_simple IS NOT"
                            " NULL ORDER BY code",
                            0, NULL, r, NULL, 0);
    if (st != LS_OK)
        snprintf(err, errlen, "the provinces could not be read");
    return st;
}

/* Builds the grid from fetch()'s rows (no database: it may run on a thread
 * of its own). */
static ls_status build(const PGresult *r, ingest_area **out, char *err, size_t errlen)
{
    *out = NULL;
    ingest_area *a = NULL;
    OGRGeometryH *geoms = NULL;
    double *burn = NULL;
    uint8_t *dist = NULL;
    GDALDatasetH ds = NULL;
    int ng = 0;
    ls_status st = LS_OK;
    int n = PQntuples(r);
    if (n == 0 || n > MAX_PROV) {
        snprintf(err, errlen, "no provinces are loaded: run lomsong units load first");
        st = LS_EINVAL;
        goto out;
    }
    a = calloc(1, sizeof(*a));
    geoms = calloc((size_t)n, sizeof(*geoms));
    burn = calloc((size_t)n, sizeof(*burn));
    if (!a || !geoms || !burn) {
        st = LS_ENOMEM;
        goto out;
    }
    a->w = (int)lround((LON1 - LON0) / RES);
    a->h = (int)lround((LAT1 - LAT0) / RES);
    a->n = n;
    for (int i = 0; i < n; i++) {
        snprintf(a->code[i], sizeof(a->code[i]), "%s", PQgetvalue(r, i, 0));
        const char *hex = PQgetvalue(r, i, 1);
        size_t hl = strlen(hex) / 2;
        unsigned char *wkb = malloc(hl);
        if (!wkb) {
            st = LS_ENOMEM;
            goto out;
        }
        for (size_t k = 0; k < hl; k++)
            wkb[k] = (unsigned char)(hexval(hex[2 * k]) << 4 | hexval(hex[2 * k + 1]));
        OGRErr e = OGR_G_CreateFromWkb(wkb, NULL, &geoms[ng], (int)hl);
        free(wkb);
        if (e != OGRERR_NONE) {
            snprintf(err, errlen, "province %s has an unreadable boundary", a->code[i]);
            st = LS_EINTERNAL;
            goto out;
        }
        burn[ng++] = i + 1;
    }
    size_t cells = (size_t)a->w * (size_t)a->h;
    a->cw = a->w / COARSE;
    a->ch = a->h / COARSE;
    size_t ccells = (size_t)a->cw * (size_t)a->ch;
    a->label = calloc(cells, 1);
    a->margin = calloc(ccells, 1);
    dist = malloc(ccells);
    if (!a->label || !a->margin || !dist) {
        st = LS_ENOMEM;
        goto out;
    }
    /* Burnt straight into the label grid (a MEM dataset over our buffer):
     * a dataset of its own and a copy doubled the grid's 14 MB at the
     * ingest's peak memory. */
    char mem[256];
    snprintf(mem, sizeof(mem), "MEM:::DATAPOINTER=%p,PIXELS=%d,LINES=%d,BANDS=1,DATATYPE=Byte",
             (void *)a->label, a->w, a->h);
    ds = GDALOpen(mem, GA_Update);
    if (!ds) {
        st = LS_ENOMEM;
        goto out;
    }
    double gt[6] = {LON0, RES, 0, LAT1, 0, -RES};
    GDALSetGeoTransform(ds, gt);
    int band = 1;
    if (GDALRasterizeGeometries(ds, 1, &band, ng, geoms, NULL, NULL, burn, NULL, NULL, NULL) !=
        CE_None) {
        snprintf(err, errlen, "the provinces could not be rasterised");
        st = LS_EINTERNAL;
        goto out;
    }
    GDALClose(ds); /* flushes into a->label */
    ds = NULL;
    /* The margin grid: a coarse cell holding any province cell starts at
     * distance 0 with that province; the transform spreads them outwards. */
    for (int y = 0; y < a->h; y++)
        for (int x = 0; x < a->w; x++) {
            uint8_t l = a->label[(size_t)y * (size_t)a->w + (size_t)x];
            size_t ci = (size_t)(y / COARSE) * (size_t)a->cw + (size_t)(x / COARSE);
            if (l && x / COARSE < a->cw && y / COARSE < a->ch && !a->margin[ci])
                a->margin[ci] = l;
        }
    for (size_t i = 0; i < ccells; i++)
        dist[i] = a->margin[i] ? 0 : 255;
    grow(a, dist);
    *out = a;
    a = NULL;
out:
    for (int i = 0; i < ng; i++)
        OGR_G_DestroyGeometry(geoms[i]);
    free(geoms);
    free(burn);
    free(dist);
    if (ds)
        GDALClose(ds);
    ingest_area_free(a);
    return st;
}

const char *ingest_area_province(const ingest_area *a, double lon, double lat)
{
    if (!(lon >= LON0 && lon < LON1 && lat > LAT0 && lat <= LAT1))
        return NULL;
    int x = (int)((lon - LON0) / RES);
    int y = (int)((LAT1 - lat) / RES);
    if (x < 0 || x >= a->w || y < 0 || y >= a->h)
        return NULL;
    uint8_t l = a->label[(size_t)y * (size_t)a->w + (size_t)x];
    if (!l && x / COARSE < a->cw && y / COARSE < a->ch)
        l = a->margin[(size_t)(y / COARSE) * (size_t)a->cw + (size_t)(x / COARSE)];
    return l ? a->code[l - 1] : NULL;
}

/* ------------------------------------------------------------------ cache */

/* Building the grid costs ~0.25 s; the server keeps the last one and
 * rebuilds it only when the provinces in force change. */
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static ingest_area *cached;
static char cached_version[128];

static void unref(ingest_area *a)
{
    if (a && --a->refs == 0)
        ingest_area_free(a);
}

struct ingest_area_job {
    ingest_area *area; /* ready (from the cache), or built by the thread */
    PGresult *rows;
    char version[128];
    pthread_t thread;
    int running;
    ls_status st;
    char err[256];
};

static void *build_main(void *arg)
{
    ingest_area_job *j = arg;
    j->st = build(j->rows, &j->area, j->err, sizeof(j->err));
    return NULL;
}

ls_status ingest_area_begin(PGconn *c, ingest_area_job **out, char *err, size_t errlen)
{
    *out = NULL;
    ingest_area_job *j = calloc(1, sizeof(*j));
    if (!j)
        return LS_ENOMEM;
    PGresult *r = NULL;
    /* The provinces' rows as they are now: any insert, update or delete
     * changes the count, the largest id or the sum of the rows' xmin (the
     * transaction that wrote each).  Summing the boundaries' points instead
     * read every boundary: 45 ms a call. */
    ls_status st = db_query(c, "area: version",
                            "SELECT count(*) || '/' || coalesce(max(id), 0) || '/' ||"
                            " coalesce(sum(xmin::text::bigint), 0)"
                            " FROM admin_units WHERE level = 'province' AND valid_to IS NULL",
                            0, NULL, &r, NULL, 0);
    if (st != LS_OK) {
        snprintf(err, errlen, "the provinces could not be read");
        free(j);
        return st;
    }
    snprintf(j->version, sizeof(j->version), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    pthread_mutex_lock(&cache_mu);
    if (cached && strcmp(j->version, cached_version) == 0) {
        cached->refs++;
        j->area = cached;
    }
    pthread_mutex_unlock(&cache_mu);
    if (!j->area) {
        geo_gdal_init();
        if ((st = fetch(c, &j->rows, err, errlen)) != LS_OK) {
            free(j);
            return st;
        }
        if (pthread_create(&j->thread, NULL, build_main, j) == 0)
            j->running = 1;
        else
            build_main(j);
    }
    *out = j;
    return LS_OK;
}

ls_status ingest_area_end(ingest_area_job *j, ingest_area **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!j)
        return LS_EINVAL;
    if (j->running) {
        pthread_join(j->thread, NULL);
        j->running = 0;
    }
    ls_status st = LS_OK;
    if (j->rows) { /* built here: the cache takes it */
        st = j->st;
        PQclear(j->rows);
        if (st != LS_OK) {
            snprintf(err, errlen, "%s", j->err);
        } else {
            pthread_mutex_lock(&cache_mu);
            j->area->refs = 2; /* the cache's and the caller's */
            unref(cached);
            cached = j->area;
            snprintf(cached_version, sizeof(cached_version), "%s", j->version);
            pthread_mutex_unlock(&cache_mu);
        }
    }
    *out = st == LS_OK ? j->area : NULL;
    free(j);
    return st;
}

void ingest_area_release(ingest_area *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&cache_mu);
    unref(a);
    pthread_mutex_unlock(&cache_mu);
}
