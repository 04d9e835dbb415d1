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
#include <sys/mman.h>
#include <time.h>

#include "db.h"
#include "gdal.h"
#include "../api/buf.h"
#include "../api/log.h"

#define RES 0.005
#define LON0 101.0
#define LON1 119.0
#define LAT0 5.5
#define LAT1 24.5
#define COARSE 4        /* the margin grid is 4 x 4 cells of the label grid */
#define MARGIN_CELLS 13 /* 0.25 degrees in margin-grid cells of 0.02 degrees */
#define MAX_PROV 250

struct geo_area {
    int refs; /* guarded by cache_mu */
    int w, h;
    uint8_t *label; /* 0 outside the provinces, else 1 + index into code */
    int cw, ch;
    uint8_t *margin; /* coarse grid: the nearest province within 0.25 degrees, or 0 */
    char code[MAX_PROV][8];
    int n;
};

/* The grids' sizes, from the extent and resolution above. */
static void grid_size(geo_area *a)
{
    a->w = (int)lround((LON1 - LON0) / RES);
    a->h = (int)lround((LAT1 - LAT0) / RES);
    a->cw = a->w / COARSE;
    a->ch = a->h / COARSE;
}

/* The 14 MB label grid, zeroed, in huge pages where the kernel gives them:
 * in 4 KB pages its first writes cost ~3,500 page faults (~35 ms here, the
 * most of reading a stored grid); in 2 MB pages, seven. */
#define HUGE_PAGE ((size_t)2 << 20)

static size_t label_bytes(const geo_area *a)
{
    size_t n = (size_t)a->w * (size_t)a->h;
    return (n + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
}

static uint8_t *label_alloc(const geo_area *a)
{
    void *p =
        mmap(NULL, label_bytes(a), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, label_bytes(a), MADV_HUGEPAGE); /* advice: without it, 4 KB pages */
#endif
    return p;
}

static void geo_area_free(geo_area *a)
{
    if (!a)
        return;
    if (a->label)
        munmap(a->label, label_bytes(a));
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
static void grow(geo_area *a, uint8_t *dist)
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
static ls_status build(const PGresult *r, geo_area **out, char *err, size_t errlen)
{
    *out = NULL;
    geo_area *a = NULL;
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
    grid_size(a);
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
    size_t ccells = (size_t)a->cw * (size_t)a->ch;
    a->label = label_alloc(a);
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
    geo_area_free(a);
    return st;
}

const char *geo_area_province(const geo_area *a, double lon, double lat)
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

/* ----------------------------------------------------------- stored grids */

/* A grid as stored in area_grids: "lsgrid1\0", then w, h, cw, ch and the
 * number of provinces n (big-endian 32-bit), n codes of 8 bytes, then the
 * label and the margin grids run-length coded: each run a byte value and its
 * length as a base-128 varint.  The 14 MB of labels are long runs of one
 * province: 69.5 KB stored for the 34 provinces of 2025. */
static const char grid_magic[8] = "lsgrid1";

static ls_status put_u32(buf *b, uint32_t v)
{
    unsigned char q[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    return buf_append(b, q, 4);
}

static ls_status put_runs(buf *b, const uint8_t *g, size_t n)
{
    ls_status st = LS_OK;
    for (size_t i = 0; i < n && st == LS_OK;) {
        size_t k = i + 1;
        while (k < n && g[k] == g[i])
            k++;
        unsigned char q[12];
        int m = 0;
        q[m++] = g[i];
        for (size_t len = k - i;; len >>= 7) {
            q[m++] = (unsigned char)((len & 127) | (len > 127 ? 128 : 0));
            if (len <= 127)
                break;
        }
        st = buf_append(b, q, (size_t)m);
        i = k;
    }
    return st;
}

static ls_status grid_encode(const geo_area *a, buf *b)
{
    ls_status st = buf_append(b, grid_magic, sizeof(grid_magic));
    const int dims[] = {a->w, a->h, a->cw, a->ch, a->n};
    for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]) && st == LS_OK; i++)
        st = put_u32(b, (uint32_t)dims[i]);
    for (int i = 0; i < a->n && st == LS_OK; i++)
        st = buf_append(b, a->code[i], sizeof(a->code[i]));
    if (st == LS_OK)
        st = put_runs(b, a->label, (size_t)a->w * (size_t)a->h);
    if (st == LS_OK)
        st = put_runs(b, a->margin, (size_t)a->cw * (size_t)a->ch);
    return st;
}

/* Decodes runs into g[n] from *p (up to end): 0 when they fill it exactly
 * and every value is a province (or 0). */
static int get_runs(const unsigned char **p, const unsigned char *end, uint8_t *g, size_t n,
                    int nprov)
{
    const unsigned char *q = *p;
    size_t i = 0;
    while (i < n) {
        if (q >= end || *q > nprov)
            return -1;
        uint8_t v = *q++;
        size_t len = 0;
        for (int shift = 0;; shift += 7) {
            if (q >= end || shift > 28)
                return -1;
            len |= (size_t)(*q & 127) << shift;
            if (!(*q++ & 128))
                break;
        }
        if (len == 0 || len > n - i)
            return -1;
        memset(g + i, v, len);
        i += len;
    }
    *p = q;
    return 0;
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The grid stored in `data`, or NULL when it is not one this build makes
 * (another resolution or extent, or damaged). */
static geo_area *grid_decode(const unsigned char *data, size_t len)
{
    const unsigned char *p = data, *end = data + len;
    if (len < sizeof(grid_magic) + 20 || memcmp(p, grid_magic, sizeof(grid_magic)) != 0)
        return NULL;
    p += sizeof(grid_magic);
    geo_area *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    grid_size(a);
    a->n = (int)get_u32(p + 16);
    if (get_u32(p) != (uint32_t)a->w || get_u32(p + 4) != (uint32_t)a->h ||
        get_u32(p + 8) != (uint32_t)a->cw || get_u32(p + 12) != (uint32_t)a->ch || a->n < 1 ||
        a->n > MAX_PROV || (size_t)(end - p - 20) < (size_t)a->n * sizeof(a->code[0]))
        goto bad;
    p += 20;
    for (int i = 0; i < a->n; i++, p += sizeof(a->code[0])) {
        memcpy(a->code[i], p, sizeof(a->code[0]));
        if (a->code[i][sizeof(a->code[0]) - 1] != '\0')
            goto bad;
    }
    a->label = label_alloc(a);
    a->margin = malloc((size_t)a->cw * (size_t)a->ch);
    if (!a->label || !a->margin ||
        get_runs(&p, end, a->label, (size_t)a->w * (size_t)a->h, a->n) != 0 ||
        get_runs(&p, end, a->margin, (size_t)a->cw * (size_t)a->ch, a->n) != 0 || p != end)
        goto bad;
    return a;
bad:
    geo_area_free(a);
    return NULL;
}

/* The stored grid for `version`, or NULL (none, or not usable). */
static geo_area *grid_load(PGconn *c, const char *version)
{
    const char *p[] = {version};
    PGresult *r = PQexecParams(c, "SELECT grid FROM area_grids WHERE version = $1", 1, NULL, p,
                               NULL, NULL, 1);
    geo_area *a = NULL;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        log_warn("area: stored grid not read: %s", PQerrorMessage(c));
    else if (PQntuples(r) == 1 && !(a = grid_decode((const unsigned char *)PQgetvalue(r, 0, 0),
                                                    (size_t)PQgetlength(r, 0, 0))))
        log_warn("area: the stored grid for %s is not usable; building it again", version);
    PQclear(r);
    return a;
}

/* ------------------------------------------------------------------ cache */

/* The process keeps the last grid (the server uses it for every upload)
 * and takes another only when the provinces in force change: from
 * area_grids, or built (365 M instructions) when none is stored for them. */
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static geo_area *cached;
static char cached_version[128];
static int cached_stored; /* area_grids has it (it came from there, or was saved) */

static void unref(geo_area *a)
{
    if (a && --a->refs == 0)
        geo_area_free(a);
}

/* Makes `a` the cached grid for `version`; the caller holds cache_mu and
 * keeps a reference of its own. */
static void cache_put(geo_area *a, const char *version, int stored)
{
    a->refs = 2; /* the cache's and the caller's */
    unref(cached);
    cached = a;
    snprintf(cached_version, sizeof(cached_version), "%s", version);
    cached_stored = stored;
}

struct geo_area_job {
    geo_area *area; /* ready (from the cache or area_grids), or built by the thread */
    PGresult *rows;
    char version[128];
    pthread_t thread;
    int running;
    ls_status st;
    char err[256];
};

static void *build_main(void *arg)
{
    geo_area_job *j = arg;
    j->st = build(j->rows, &j->area, j->err, sizeof(j->err));
    return NULL;
}

ls_status geo_area_begin(PGconn *c, geo_area_job **out, char *err, size_t errlen)
{
    *out = NULL;
    geo_area_job *j = calloc(1, sizeof(*j));
    if (!j)
        return LS_ENOMEM;
    PGresult *r = NULL;
    ls_status st = db_query(c, "area: version", "SELECT area_version()", 0, NULL, &r, NULL, 0);
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
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if ((j->area = grid_load(c, j->version))) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            log_debug("area: grid for %s read from area_grids in %.3f s", j->version,
                      (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
            pthread_mutex_lock(&cache_mu);
            cache_put(j->area, j->version, 1);
            pthread_mutex_unlock(&cache_mu);
        }
    }
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

ls_status geo_area_end(geo_area_job *j, geo_area **out, char *err, size_t errlen)
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
            cache_put(j->area, j->version, 0);
            pthread_mutex_unlock(&cache_mu);
        }
    }
    *out = st == LS_OK ? j->area : NULL;
    free(j);
    return st;
}

void geo_area_release(geo_area *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&cache_mu);
    unref(a);
    pthread_mutex_unlock(&cache_mu);
}

ls_status geo_area_save(PGconn *c)
{
    char version[128];
    pthread_mutex_lock(&cache_mu);
    geo_area *a = cached && !cached_stored ? cached : NULL;
    if (a) {
        a->refs++;
        snprintf(version, sizeof(version), "%s", cached_version);
    }
    pthread_mutex_unlock(&cache_mu);
    if (!a)
        return LS_OK;
    buf g;
    buf_init(&g, 0);
    ls_status st = grid_encode(a, &g);
    if (st == LS_OK) {
        /* Stored only while its provinces are still the ones in force, and
         * then the only grid kept.  A row there for the same version could
         * not be read (or this process would not have built the grid). */
        const char *p[] = {version, g.data};
        const int len[] = {0, (int)g.len}, fmt[] = {0, 1};
        PGresult *r =
            PQexecParams(c,
                         "WITH put AS (INSERT INTO area_grids (version, grid) SELECT $1, $2"
                         "  WHERE $1 = area_version() ON CONFLICT (version) DO UPDATE"
                         "  SET grid = EXCLUDED.grid, made_at = now())"
                         " DELETE FROM area_grids WHERE version <> area_version()",
                         2, NULL, p, len, fmt, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            log_warn("area: the grid was not stored: %s", PQerrorMessage(c));
            st = LS_EDB;
        } else {
            log_debug("area: grid for %s stored (%zu bytes)", version, g.len);
        }
        PQclear(r);
    }
    buf_free(&g);
    pthread_mutex_lock(&cache_mu);
    if (st == LS_OK && cached == a)
        cached_stored = 1;
    unref(a);
    pthread_mutex_unlock(&cache_mu);
    return st;
}

ls_status geo_area_prepare(PGconn *c)
{
    geo_area_job *j = NULL;
    geo_area *a = NULL;
    char e[256];
    ls_status st = geo_area_begin(c, &j, e, sizeof(e));
    if (st == LS_OK)
        st = geo_area_end(j, &a, e, sizeof(e));
    if (st == LS_OK) {
        geo_area_save(c);
        geo_area_release(a);
    }
    return st;
}
