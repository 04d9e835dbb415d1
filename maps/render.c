/*
 * render.c — see render.h.
 *
 * Cost at width 1024 (see BENCHMARKS.md): a few milliseconds to read the
 * province and transform it, one indexed range scan of the coverage cells
 * at the finest level whose cell is still at least a pixel wide (cells are
 * read through a cursor and rasterised a batch at a time, so memory does
 * not grow with their number), one pass over the pixels to clip the cells
 * to the province, and the PNG encoding of a one-byte-per-pixel image.
 */
#include "render.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../api/log.h"
#include "../api/server.h"
#include "../geo/db.h"
#include "../geo/gdal.h"

#define EARTH_R 6378137.0
#define WORLD (2.0 * M_PI * EARTH_R) /* Web Mercator's width, metres */
#define MARGIN 0.03                  /* of the province's extent, each side */
#define CELL_BATCH 8192              /* cells rasterised at a time */

enum {
    PX_OUTSIDE = 0,
    PX_INSIDE = 1,
    PX_MEETS = 2,
    PX_BELOW = 3,
    PX_NONE = 4,
    PX_BOUNDARY = 5,
    PX_STATUS = 6 /* + index in statuses[] */
};

static const char *const statuses[] = {"reported", "triaged",  "assigned", "in_progress", "blocked",
                                       "fixed",    "verified", "rejected", "reopened"};

static const GDALColorEntry palette[] = {
    {224, 224, 224, 255}, {255, 255, 255, 255}, {26, 150, 65, 255},  {253, 174, 97, 255},
    {215, 25, 28, 255},   {51, 51, 51, 255},    {123, 50, 148, 255}, {194, 165, 207, 255},
    {33, 102, 172, 255},  {67, 147, 195, 255},  {0, 0, 0, 255},      {0, 170, 170, 255},
    {0, 104, 55, 255},    {150, 150, 150, 255}, {202, 0, 32, 255},
};

static const char *const techs[] = {"2G", "3G", "4G", "5G"};

ls_status maps_render_parse(const char *name, maps_arg_fn arg, void *ctx, maps_render_req *q,
                            char *err, size_t errlen)
{
    memset(q, 0, sizeof(*q));
    const char *dot = name ? strchr(name, '.') : NULL;
    size_t cl = dot ? (size_t)(dot - name) : 0;
    if (!dot || (strcmp(dot, ".png") != 0 && strcmp(dot, ".tif") != 0)) {
        snprintf(err, errlen, "no map '%.40s': a map is {province code}.png or .tif, e.g. 15.png",
                 name ? name : "");
        return LS_ENOTFOUND;
    }
    if (cl != 2 || strspn(name, "0123456789") != 2) {
        snprintf(err, errlen, "no province has code '%.*s': a province code is 2 digits",
                 (int)(cl > 16 ? 16 : cl), name);
        return LS_ENOTFOUND;
    }
    memcpy(q->code, name, 2);
    q->tiff = strcmp(dot, ".tif") == 0;
    q->ext = q->tiff ? "tif" : "png";
    q->content_type = q->tiff ? "image/tiff" : "image/png";

    q->width = MAPS_WIDTH_DEFAULT;
    const char *w = arg(ctx, "width");
    double d;
    if (w) {
        if (api_parse_number(w, MAPS_WIDTH_MIN, MAPS_WIDTH_MAX, &d) != 0 || d != floor(d)) {
            snprintf(err, errlen, "width must be a whole number of pixels from %d to %d",
                     MAPS_WIDTH_MIN, MAPS_WIDTH_MAX);
            return LS_EINVAL;
        }
        q->width = (int)d;
    }
    const char *layer = arg(ctx, "layer");
    if (!layer) {
        q->layers = MAPS_LAYER_COVERAGE;
    } else {
        char tmp[64];
        if (strlen(layer) >= sizeof(tmp)) {
            snprintf(err, errlen, "layer must be coverage, points or coverage,points");
            return LS_EINVAL;
        }
        snprintf(tmp, sizeof(tmp), "%s", layer);
        char *save = NULL;
        for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (strcmp(t, "coverage") == 0) {
                q->layers |= MAPS_LAYER_COVERAGE;
            } else if (strcmp(t, "points") == 0) {
                q->layers |= MAPS_LAYER_POINTS;
            } else {
                snprintf(err, errlen, "layer must be coverage, points or coverage,points");
                return LS_EINVAL;
            }
        }
        if (!q->layers) {
            snprintf(err, errlen, "layer must be coverage, points or coverage,points");
            return LS_EINVAL;
        }
    }
    q->carrier = arg(ctx, "carrier");
    q->tech = arg(ctx, "tech");
    if (q->carrier &&
        (strlen(q->carrier) > 32 ||
         strspn(q->carrier, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(q->carrier) ||
         !*q->carrier)) {
        snprintf(err, errlen, "carrier must be a carrier code such as viettel");
        return LS_EINVAL;
    }
    if (q->tech && !api_one_of(q->tech, techs, LS_ARRAY_LEN(techs))) {
        snprintf(err, errlen, "tech must be 2G, 3G, 4G or 5G");
        return LS_EINVAL;
    }
    return LS_OK;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Spherical Mercator (EPSG:3857) of WGS 84 degrees: the formula itself, not
 * a PROJ transformation (whose first use in a database session costs
 * ~200 ms). */
static void mercator(double lon, double lat, double *x, double *y)
{
    if (lat > 85.0511287798)
        lat = 85.0511287798;
    if (lat < -85.0511287798)
        lat = -85.0511287798;
    *x = EARTH_R * lon * M_PI / 180.0;
    *y = EARTH_R * log(tan(M_PI / 4 + lat * M_PI / 360.0));
}

/* Projects every vertex of g (any geometry) in place. */
static void to_mercator(OGRGeometryH g)
{
    int n = OGR_G_GetGeometryCount(g);
    if (n > 0) {
        for (int i = 0; i < n; i++)
            to_mercator(OGR_G_GetGeometryRef(g, i));
        return;
    }
    int np = OGR_G_GetPointCount(g);
    for (int i = 0; i < np; i++) {
        double x, y;
        mercator(OGR_G_GetX(g, i), OGR_G_GetY(g, i), &x, &y);
        OGR_G_SetPoint_2D(g, i, x, y);
    }
}

static int hexval(char c)
{
    return c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0';
}

static OGRGeometryH from_hex(const char *hex)
{
    size_t n = strlen(hex) / 2;
    unsigned char *b = n ? malloc(n) : NULL;
    if (!b)
        return NULL;
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
    OGRGeometryH g = NULL;
    if (OGR_G_CreateFromWkb(b, NULL, &g, (int)n) != OGRERR_NONE)
        g = NULL;
    free(b);
    return g;
}

/* An axis-aligned rectangle in map units. */
static OGRGeometryH rect(double x0, double y0, double x1, double y1)
{
    OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
    OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
    if (!ring || !poly) {
        OGR_G_DestroyGeometry(ring);
        OGR_G_DestroyGeometry(poly);
        return NULL;
    }
    OGR_G_SetPointCount(ring, 5);
    OGR_G_SetPoint_2D(ring, 0, x0, y0);
    OGR_G_SetPoint_2D(ring, 1, x1, y0);
    OGR_G_SetPoint_2D(ring, 2, x1, y1);
    OGR_G_SetPoint_2D(ring, 3, x0, y1);
    OGR_G_SetPoint_2D(ring, 4, x0, y0);
    OGR_G_AddGeometryDirectly(poly, ring);
    return poly;
}

/* Rasterises n geometries with their burn values into band 1, then frees
 * the geometries. */
static ls_status burn(GDALDatasetH ds, OGRGeometryH *g, double *v, int n)
{
    if (n == 0)
        return LS_OK;
    int band = 1;
    CPLErrorReset();
    /* Geometry by geometry: many small shapes on a large raster. */
    char optim[] = "OPTIM=VECTOR", *opts[] = {optim, NULL};
    CPLErr e = GDALRasterizeGeometries(ds, 1, &band, n, g, NULL, NULL, v, opts, NULL, NULL);
    for (int i = 0; i < n; i++) {
        OGR_G_DestroyGeometry(g[i]);
        g[i] = NULL;
    }
    if (e != CE_None) {
        log_error("render: rasterising failed: %s", CPLGetLastErrorMsg());
        return LS_EINTERNAL;
    }
    return LS_OK;
}

/* Cells to rasterise, a batch at a time; a run is a column of adjacent
 * cells of one colour, drawn as one rectangle. */
struct cells {
    GDALDatasetH img;
    OGRGeometryH *g;
    double *v;
    int n;
    double cs; /* cell size, metres */
};

struct run {
    long x, y0, y1; /* cell column x, rows y0..y1 */
    int k;          /* class: 0 no service, 1 below, 2 meets */
};

static ls_status add_run(struct cells *cl, const struct run *run)
{
    static const double colour[] = {PX_NONE, PX_BELOW, PX_MEETS};
    double cs = cl->cs;
    OGRGeometryH g = rect(run->x * cs - WORLD / 2, WORLD / 2 - (run->y1 + 1) * cs,
                          (run->x + 1) * cs - WORLD / 2, WORLD / 2 - run->y0 * cs);
    if (!g)
        return LS_ENOMEM;
    cl->g[cl->n] = g;
    cl->v[cl->n++] = colour[run->k < 0 ? 0 : run->k > 2 ? 2 : run->k];
    if (cl->n < CELL_BATCH)
        return LS_OK;
    ls_status st = burn(cl->img, cl->g, cl->v, cl->n);
    cl->n = 0;
    return st;
}

/* The coverage cells of the map's extent, coloured, into `img`.  One index
 * range per column of cells (the primary key is res, cell_x, cell_y, ...):
 * a single range on cell_x would read the whole north-south strip of the
 * country and filter it on cell_y.  OFFSET 0 keeps the planner from
 * flattening that into one scan. */
static ls_status draw_cells(PGconn *c, const maps_render_req *q, GDALDatasetH img,
                            const double gt[6], int w, int h)
{
    double px = gt[1];
    int z = 7;
    static const int levels[] = {16, 13, 10};
    for (size_t i = 0; i < LS_ARRAY_LEN(levels); i++)
        if (WORLD / ldexp(1.0, levels[i]) >= px) {
            z = levels[i];
            break;
        }
    double cs = WORLD / ldexp(1.0, z);
    double minx = gt[0], maxx = gt[0] + w * px, maxy = gt[3], miny = gt[3] - h * px;
    long x0 = (long)floor((minx + WORLD / 2) / cs), x1 = (long)floor((maxx + WORLD / 2) / cs);
    long y0 = (long)floor((WORLD / 2 - maxy) / cs), y1 = (long)floor((WORLD / 2 - miny) / cs);
    char a[5][16];
    snprintf(a[0], 16, "%d", z);
    snprintf(a[1], 16, "%ld", x0);
    snprintf(a[2], 16, "%ld", x1);
    snprintf(a[3], 16, "%ld", y0);
    snprintf(a[4], 16, "%ld", y1);
    const char *p[] = {a[0], a[1], a[2], a[3], a[4], q->carrier, q->tech};
    /* Cells are at least a pixel, so the grid is at most the image's size. */
    size_t gw = (size_t)(x1 - x0 + 1), gh = (size_t)(y1 - y0 + 1);
    uint8_t *grid = calloc(gw * gh, 1); /* column-major; 0: no tests, else the best class + 1 */
    if (!grid)
        return LS_ENOMEM;
    ls_status st = db_query(
        c, "render: cells",
        "DECLARE maps_render_cells NO SCROLL CURSOR FOR"
        " SELECT x.x, c.cell_y, CASE WHEN c.meeting_min = 0 AND coalesce(c.p50_download, 0) = 0"
        "  THEN 0 WHEN c.meeting_min >= 0.8 * c.tests THEN 2 ELSE 1 END"
        " FROM generate_series($2::int, $3::int) AS x(x) CROSS JOIN LATERAL ("
        "  SELECT cell_y, meeting_min, tests, p50_download FROM coverage_cells_in($1::int, x.x,"
        "   x.x, $4::int, $5::int, $6::text, $7::text) OFFSET 0) c",
        7, p, NULL, NULL, 0);
    if (st != LS_OK) {
        free(grid);
        return st;
    }
    /* The best class of each cell over its carriers and technologies, taken
     * here rather than by a GROUP BY: the rows come straight off the index. */
    while (st == LS_OK) {
        PGresult *r = NULL;
        st = db_query(c, "render: fetch cells", "FETCH 8192 FROM maps_render_cells", 0, NULL, &r,
                      NULL, 0);
        if (st != LS_OK)
            break;
        int n = PQntuples(r);
        for (int i = 0; i < n; i++) {
            long x = atol(PQgetvalue(r, i, 0)) - x0, y = atol(PQgetvalue(r, i, 1)) - y0;
            int k = atoi(PQgetvalue(r, i, 2));
            if (x < 0 || y < 0 || (size_t)x >= gw || (size_t)y >= gh || k < 0 || k > 2)
                continue;
            uint8_t *g = &grid[(size_t)x * gh + (size_t)y];
            if (*g < k + 1)
                *g = (uint8_t)(k + 1);
        }
        PQclear(r);
        if (n < CELL_BATCH)
            break;
    }
    /* Down each column, a run of one colour is one rectangle. */
    struct cells cl = {img, calloc(CELL_BATCH, sizeof(OGRGeometryH)),
                       calloc(CELL_BATCH, sizeof(double)), 0, cs};
    if (st == LS_OK && (!cl.g || !cl.v))
        st = LS_ENOMEM;
    for (size_t x = 0; st == LS_OK && x < gw; x++) {
        const uint8_t *col = grid + x * gh;
        for (size_t y = 0; st == LS_OK && y < gh;) {
            size_t e = y + 1;
            while (e < gh && col[e] == col[y])
                e++;
            if (col[y]) {
                struct run run = {x0 + (long)x, y0 + (long)y, y0 + (long)e - 1, col[y] - 1};
                st = add_run(&cl, &run);
            }
            y = e;
        }
    }
    ls_status bs = cl.g && cl.v ? burn(img, cl.g, cl.v, cl.n) : LS_OK;
    if (st == LS_OK)
        st = bs;
    free(cl.g);
    free(cl.v);
    free(grid);
    db_exec(c, "CLOSE maps_render_cells");
    return st;
}

/* The dead-zone points of the province the account may see, as squares. */
static ls_status draw_points(PGconn *c, const maps_render_req *q, GDALDatasetH img, double half)
{
    const char *p[] = {q->code};
    PGresult *r = NULL;
    ls_status st = db_query(c, "render: points",
                            "SELECT ST_X(geom), ST_Y(geom), status FROM dz_points"
                            " WHERE province_code = $1 AND status <> 'merged' ORDER BY id",
                            1, p, &r, NULL, 0);
    if (st != LS_OK)
        return st;
    int n = PQntuples(r), ng = 0;
    OGRGeometryH *g = calloc((size_t)n + 1, sizeof(*g));
    double *v = calloc((size_t)n + 1, sizeof(*v));
    if (!g || !v)
        st = LS_ENOMEM;
    for (int i = 0; st == LS_OK && i < n; i++) {
        double x, y;
        mercator(atof(PQgetvalue(r, i, 0)), atof(PQgetvalue(r, i, 1)), &x, &y);
        int k = 0;
        while (k < (int)LS_ARRAY_LEN(statuses) && strcmp(statuses[k], PQgetvalue(r, i, 2)) != 0)
            k++;
        if (k == (int)LS_ARRAY_LEN(statuses))
            continue;
        if (!(g[ng] = rect(x - half, y - half, x + half, y + half))) {
            st = LS_ENOMEM;
            break;
        }
        v[ng++] = PX_STATUS + k;
    }
    PQclear(r);
    if (g && v) {
        ls_status bs = burn(img, g, v, ng); /* frees what was made, also after a failure */
        if (st == LS_OK)
            st = bs;
    }
    free(g);
    free(v);
    return st;
}

ls_status maps_render(PGconn *c, const maps_render_req *q, unsigned char **out, size_t *len,
                      char *err, size_t errlen)
{
    static unsigned long seq;
    double t0 = now_ms();
    *out = NULL;
    *len = 0;
    geo_gdal_init();
    ls_status st = LS_OK;
    PGresult *r = NULL;
    OGRGeometryH prov = NULL, edge = NULL;
    GDALDatasetH img = NULL, mask = NULL, enc = NULL;
    OGRSpatialReferenceH srs = NULL;
    GDALColorTableH ct = NULL;
    uint8_t *pix = NULL, *in = NULL;
    char **opts = NULL;
    char dir[64] = "", path[96] = "";

    const char *p[] = {q->code};
    st = db_query(
        c, "render: province",
        "SELECT encode(ST_AsBinary(geom), 'hex') FROM admin_units"
        " WHERE level = 'province' AND code = $1 AND geom IS NOT NULL"
        " AND valid_from <= current_date AND (valid_to IS NULL OR valid_to > current_date)",
        1, p, &r, NULL, 0);
    if (st != LS_OK) {
        snprintf(err, errlen, "the province could not be read");
        goto out;
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        r = NULL;
        db_query(c, "render: successor", "SELECT unit_current($1, 'province')", 1, p, &r, NULL, 0);
        if (r && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
            snprintf(err, errlen, "province %s is no longer in force: its area is now in %s",
                     q->code, PQgetvalue(r, 0, 0));
        else
            snprintf(err, errlen, "no province has code %s", q->code);
        st = LS_ENOTFOUND;
        goto out;
    }
    prov = from_hex(PQgetvalue(r, 0, 0));
    PQclear(r);
    r = NULL;
    if (!prov) {
        snprintf(err, errlen, "the province's boundary could not be read");
        st = LS_EINTERNAL;
        goto out;
    }
    to_mercator(prov);
    double t1 = now_ms();

    /* The extent, square pixels, the width asked for unless the height
     * would pass the cap. */
    OGREnvelope env;
    OGR_G_GetEnvelope(prov, &env);
    double mx = (env.MaxX - env.MinX) * MARGIN, my = (env.MaxY - env.MinY) * MARGIN;
    double ex = env.MaxX - env.MinX + 2 * mx, ey = env.MaxY - env.MinY + 2 * my;
    int w = q->width;
    double px = ex / w;
    int h = (int)ceil(ey / px);
    if (h > MAPS_WIDTH_MAX) {
        h = MAPS_WIDTH_MAX;
        px = ey / h;
        w = (int)ceil(ex / px);
    }
    if (w < 1 || h < 1) {
        snprintf(err, errlen, "the province is too small to draw");
        st = LS_EINTERNAL;
        goto out;
    }
    double gt[6] = {env.MinX - mx, px, 0, env.MaxY + my, 0, -px};

    GDALDriverH mem = GDALGetDriverByName("MEM");
    img = mem ? GDALCreate(mem, "", w, h, 1, GDT_Byte, NULL) : NULL;
    mask = mem ? GDALCreate(mem, "", w, h, 1, GDT_Byte, NULL) : NULL;
    srs = OSRNewSpatialReference(NULL);
    if (!img || !mask || !srs || OSRImportFromEPSG(srs, 3857) != OGRERR_NONE) {
        snprintf(err, errlen, "the map could not be drawn");
        st = LS_ENOMEM;
        goto out;
    }
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    GDALSetGeoTransform(img, gt);
    GDALSetGeoTransform(mask, gt);
    GDALSetSpatialRef(img, srs);

    /* the province's interior */
    OGRGeometryH one[1] = {OGR_G_Clone(prov)};
    double v1[1] = {1};
    if (!one[0] || (st = burn(mask, one, v1, 1)) != LS_OK) {
        snprintf(err, errlen, "the map could not be drawn");
        st = st == LS_OK ? LS_ENOMEM : st;
        goto out;
    }
    if ((q->layers & MAPS_LAYER_COVERAGE) && (st = draw_cells(c, q, img, gt, w, h)) != LS_OK) {
        snprintf(err, errlen, "the coverage could not be drawn");
        goto out;
    }
    double t2 = now_ms();
    /* cells only inside the province; the rest of it white, outside grey */
    size_t npx = (size_t)w * (size_t)h;
    pix = malloc(npx);
    in = malloc(npx);
    if (!pix || !in ||
        GDALRasterIO(GDALGetRasterBand(img, 1), GF_Read, 0, 0, w, h, pix, w, h, GDT_Byte, 0, 0) !=
            CE_None ||
        GDALRasterIO(GDALGetRasterBand(mask, 1), GF_Read, 0, 0, w, h, in, w, h, GDT_Byte, 0, 0) !=
            CE_None) {
        snprintf(err, errlen, "the map could not be drawn");
        st = LS_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < npx; i++)
        pix[i] = in[i] ? (pix[i] ? pix[i] : PX_INSIDE) : PX_OUTSIDE;
    if (GDALRasterIO(GDALGetRasterBand(img, 1), GF_Write, 0, 0, w, h, pix, w, h, GDT_Byte, 0, 0) !=
        CE_None) {
        snprintf(err, errlen, "the map could not be drawn");
        st = LS_EINTERNAL;
        goto out;
    }
    double t3 = now_ms();
    if (q->layers & MAPS_LAYER_POINTS) {
        double half = (q->width / 300 > 2 ? q->width / 300 : 2) * px;
        if ((st = draw_points(c, q, img, half)) != LS_OK) {
            snprintf(err, errlen, "the points could not be drawn");
            goto out;
        }
    }
    edge = OGR_G_Boundary(prov);
    OGRGeometryH line[1] = {edge};
    double v5[1] = {PX_BOUNDARY};
    edge = NULL; /* burn() frees it */
    if (line[0] && (st = burn(img, line, v5, 1)) != LS_OK) {
        snprintf(err, errlen, "the map could not be drawn");
        goto out;
    }

    double t4 = now_ms();
    ct = GDALCreateColorTable(GPI_RGB);
    for (int i = 0; ct && i < (int)LS_ARRAY_LEN(palette); i++)
        GDALSetColorEntry(ct, i, &palette[i]);
    if (!ct || GDALSetRasterColorTable(GDALGetRasterBand(img, 1), ct) != CE_None) {
        snprintf(err, errlen, "the map could not be drawn");
        st = LS_EINTERNAL;
        goto out;
    }

    /* Encode in /vsimem/ under a directory of our own, so that any side
     * file the driver may write goes away with it. */
    snprintf(dir, sizeof(dir), "/vsimem/lomsong-map-%lu",
             __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
    snprintf(path, sizeof(path), "%s/map.%s", dir, q->ext);
    GDALDriverH drv = GDALGetDriverByName(q->tiff ? "GTiff" : "PNG");
    if (q->tiff)
        opts = CSLSetNameValue(opts, "COMPRESS", "DEFLATE");
    else /* a third of level 6's time, a few kilobytes more */
        opts = CSLSetNameValue(opts, "ZLEVEL", "3");
    CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", "NO"); /* no .aux.xml beside the PNG */
    CPLErrorReset();
    enc = drv ? GDALCreateCopy(drv, path, img, FALSE, opts, NULL, NULL) : NULL;
    if (enc) {
        GDALClose(enc);
        enc = NULL;
    }
    CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", NULL);
    vsi_l_offset n = 0;
    unsigned char *buf =
        CPLGetLastErrorType() == CE_Failure ? NULL : VSIGetMemFileBuffer(path, &n, TRUE);
    if (!buf || n == 0) {
        log_error("render: encoding %s failed: %s", q->ext, CPLGetLastErrorMsg());
        VSIFree(buf);
        snprintf(err, errlen, "the map could not be encoded");
        st = LS_EIO;
        goto out;
    }
    *out = buf;
    *len = (size_t)n;
    log_debug("render %s %dx%d: province %.1f ms, cells %.1f, clip %.1f, points and boundary "
              "%.1f, encoding %.1f",
              q->code, w, h, t1 - t0, t2 - t1, t3 - t2, t4 - t3, now_ms() - t4);
out:
    if (*dir)
        VSIRmdirRecursive(dir);
    CSLDestroy(opts);
    if (ct)
        GDALDestroyColorTable(ct);
    free(pix);
    free(in);
    if (img)
        GDALClose(img);
    if (mask)
        GDALClose(mask);
    if (srs)
        OSRDestroySpatialReference(srs);
    OGR_G_DestroyGeometry(edge);
    OGR_G_DestroyGeometry(prov);
    PQclear(r);
    return st;
}
