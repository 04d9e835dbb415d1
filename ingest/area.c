/*
 * area.c — see area.h.
 */
#include "area.h"

#include <gdal.h>
#include <gdal_alg.h>
#include <math.h>
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
#define MARGIN_CELLS 50 /* 0.25 degrees */
#define MAX_PROV 250

struct ingest_area {
    int w, h;
    uint8_t *label; /* 0 outside, else 1 + index into code */
    char code[MAX_PROV][8];
    int n;
};

void ingest_area_free(ingest_area *a)
{
    if (!a)
        return;
    free(a->label);
    free(a);
}

/* Chamfer 3-4 distance transform that carries the nearest label along. */
static void grow(ingest_area *a, uint8_t *dist)
{
    int w = a->w, h = a->h;
    uint8_t *lab = a->label;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * (size_t)w + (size_t)x;
            if (!dist[i])
                continue;
            int best = dist[i], bl = lab[i];
#define TRY(dx, dy, cost)                                                                          \
    do {                                                                                           \
        int nx = x + (dx), ny = y + (dy);                                                          \
        if (nx >= 0 && nx < w && ny >= 0 && ny < h) {                                              \
            size_t j = (size_t)ny * (size_t)w + (size_t)nx;                                        \
            if (dist[j] + (cost) < best) {                                                         \
                best = dist[j] + (cost);                                                           \
                bl = lab[j];                                                                       \
            }                                                                                      \
        }                                                                                          \
    } while (0)
            TRY(-1, 0, 3);
            TRY(-1, -1, 4);
            TRY(0, -1, 3);
            TRY(1, -1, 4);
            dist[i] = (uint8_t)(best > 255 ? 255 : best);
            lab[i] = (uint8_t)bl;
        }
    for (int y = h - 1; y >= 0; y--)
        for (int x = w - 1; x >= 0; x--) {
            size_t i = (size_t)y * (size_t)w + (size_t)x;
            if (!dist[i])
                continue;
            int best = dist[i], bl = lab[i];
            TRY(1, 0, 3);
            TRY(1, 1, 4);
            TRY(0, 1, 3);
            TRY(-1, 1, 4);
#undef TRY
            dist[i] = (uint8_t)(best > 255 ? 255 : best);
            lab[i] = (uint8_t)bl;
        }
    size_t n = (size_t)w * (size_t)h;
    for (size_t i = 0; i < n; i++)
        if (dist[i] > 3 * MARGIN_CELLS)
            lab[i] = 0;
}

ls_status ingest_area_load(PGconn *c, ingest_area **out, char *err, size_t errlen)
{
    *out = NULL;
    geo_gdal_init();
    PGresult *r = NULL;
    ingest_area *a = NULL;
    OGRGeometryH *geoms = NULL;
    double *burn = NULL;
    uint8_t *dist = NULL;
    GDALDatasetH ds = NULL;
    int ng = 0;
    ls_status st = db_query(c, "area: provinces",
                            "SELECT code, encode(ST_AsBinary(geom_simple), 'hex') FROM admin_units"
                            " WHERE level = 'province' AND valid_to IS NULL AND geom_simple IS NOT"
                            " NULL ORDER BY code",
                            0, NULL, &r, NULL, 0);
    if (st != LS_OK) {
        snprintf(err, errlen, "the provinces could not be read");
        goto out;
    }
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
        for (size_t k = 0; k < hl; k++) {
            unsigned v;
            sscanf(hex + 2 * k, "%2x", &v);
            wkb[k] = (unsigned char)v;
        }
        OGRErr e = OGR_G_CreateFromWkb(wkb, NULL, &geoms[ng], (int)hl);
        free(wkb);
        if (e != OGRERR_NONE) {
            snprintf(err, errlen, "province %s has an unreadable boundary", a->code[i]);
            st = LS_EINTERNAL;
            goto out;
        }
        burn[ng++] = i + 1;
    }
    ds = GDALCreate(GDALGetDriverByName("MEM"), "", a->w, a->h, 1, GDT_Byte, NULL);
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
    size_t cells = (size_t)a->w * (size_t)a->h;
    a->label = malloc(cells);
    dist = malloc(cells);
    if (!a->label || !dist) {
        st = LS_ENOMEM;
        goto out;
    }
    if (GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Read, 0, 0, a->w, a->h, a->label, a->w, a->h,
                     GDT_Byte, 0, 0) != CE_None) {
        st = LS_EINTERNAL;
        goto out;
    }
    for (size_t i = 0; i < cells; i++)
        dist[i] = a->label[i] ? 0 : 255;
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
    PQclear(r);
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
    return l ? a->code[l - 1] : NULL;
}
