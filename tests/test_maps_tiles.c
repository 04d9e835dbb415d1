/*
 * test_maps_tiles.c — vector tiles over real HTTP, decoded by GDAL's MVT
 * driver (the tile written to a file and opened with X/Y/Z so coordinates
 * come out in EPSG:3857).  Speed tests go in through the real ingest
 * (POST /v1/measurements) and points through POST /v1/reports, in Cà Mau
 * (96) and Khánh Hòa (56), where no other suite puts anything.  Checked: the
 * coverage cell that holds the tests, its attributes, best carrier and the
 * filters, the coarse cells at low zoom; points with their attributes within
 * a metre of the report, clusters below zoom 9, scoping by row-level
 * security (a locality sees only its area, a carrier its assignments, no
 * token 401, public 403); province boundaries and labels; 204 for an empty
 * tile, ETag / 304, gzip that inflates to the same bytes, the feature limit,
 * bad z/x/y, TileJSON.  Plus the pure parts: z/x/y parsing, levels, gzip, ETag.
 */
#include <cjson/cJSON.h>
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "t.h"
#include "../geo/gdal.h"
#include "../geo/tile.h"
#include "../maps/tiles.h"

static char *tok_min, *tok_l96, *tok_l56, *tok_vt, *tok_pub;
static long pt1, pt2, pt3; /* Cà Mau, Cà Mau (assigned to viettel), Khánh Hòa */

/* Cell A: viettel 4G fast, mobifone 4G slow; cell B: vinaphone 3G no
 * service; cell C, beside A: vietnamobile 4G. */
#define A_LAT 9.18003
#define A_LON 105.15005
#define C_LON (A_LON + 0.006)
#define B_LAT 9.19003
#define B_LON 105.16505
#define P1_LAT 9.2500
#define P1_LON 105.2000
#define P2_LAT 9.2600
#define P2_LON 105.2100
#define P3_LAT 12.2450
#define P3_LON 109.1900

/* ------------------------------------------------------------ helpers */

static void merc(double lon, double lat, double *x, double *y)
{
    *x = lon * 20037508.342789244 / 180.0;
    *y = log(tan((90.0 + lat) * M_PI / 360.0)) * 6378137.0;
}

/* The tile path of `layer` at zoom z holding (lat, lon), with a query. */
static void tile_path(char *out, size_t len, const char *layer, int z, double lat, double lon,
                      const char *query, int *x, int *y)
{
    geo_tile_xy(z, lon, lat, x, y);
    snprintf(out, len, "/tiles/%s/%d/%d/%d.mvt%s", layer, z, *x, *y, query ? query : "");
}

/* A decoded tile: GDAL's MVT driver on the response body. */
typedef struct {
    GDALDatasetH ds;
    char path[512];
} tile;

static int tile_open(const t_resp *r, int z, int x, int y, tile *t)
{
    static int n;
    memset(t, 0, sizeof(*t));
    snprintf(t->path, sizeof(t->path), "%s/tile-%d.mvt", t_tmpdir(), n++);
    FILE *f = fopen(t->path, "wb");
    if (!f || fwrite(r->body, 1, r->len, f) != r->len) {
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    char ox[32], oy[32], oz[32];
    snprintf(ox, sizeof(ox), "X=%d", x);
    snprintf(oy, sizeof(oy), "Y=%d", y);
    snprintf(oz, sizeof(oz), "Z=%d", z);
    const char *const oo[] = {ox, oy, oz, NULL};
    const char *const drivers[] = {"MVT", NULL};
    t->ds = GDALOpenEx(t->path, GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers, oo, NULL);
    return t->ds ? 0 : -1;
}

static void tile_close(tile *t)
{
    if (t->ds)
        GDALClose(t->ds);
    remove(t->path);
    t->ds = NULL;
}

/* Fetches a tile and decodes it; 0 when it came back 200 and GDAL read it. */
static int fetch(const char *tok, const char *layer, int z, double lat, double lon,
                 const char *query, tile *t, t_resp *keep)
{
    char path[256];
    int x, y;
    tile_path(path, sizeof(path), layer, z, lat, lon, query, &x, &y);
    t_resp r;
    memset(t, 0, sizeof(*t));
    if (t_http("GET", path, tok, NULL, 0, NULL, &r) != 0)
        return -1;
    int ok = r.status == 200 && r.content_type &&
             strcmp(r.content_type, "application/vnd.mapbox-vector-tile") == 0 &&
             tile_open(&r, z, x, y, t) == 0;
    if (!ok)
        t_fail(__FILE__, __LINE__, "GET %s: status %ld, %zu bytes", path, r.status, r.len);
    if (keep)
        *keep = r;
    else
        t_resp_free(&r);
    return ok ? 0 : -1;
}

static long status_of(const char *tok, const char *path)
{
    t_resp r;
    if (t_http("GET", path, tok, NULL, 0, NULL, &r) != 0)
        return -1;
    long s = r.status;
    t_resp_free(&r);
    return s;
}

static const char *fstr(OGRFeatureH f, const char *name)
{
    int i = OGR_F_GetFieldIndex(f, name);
    return i >= 0 && OGR_F_IsFieldSetAndNotNull(f, i) ? OGR_F_GetFieldAsString(f, i) : NULL;
}

static long long fint(OGRFeatureH f, const char *name)
{
    int i = OGR_F_GetFieldIndex(f, name);
    return i >= 0 && OGR_F_IsFieldSetAndNotNull(f, i) ? OGR_F_GetFieldAsInteger64(f, i) : -1;
}

static double fnum(OGRFeatureH f, const char *name)
{
    int i = OGR_F_GetFieldIndex(f, name);
    return i >= 0 && OGR_F_IsFieldSetAndNotNull(f, i) ? OGR_F_GetFieldAsDouble(f, i) : NAN;
}

static int has(OGRFeatureH f, const char *name)
{
    int i = OGR_F_GetFieldIndex(f, name);
    return i >= 0 && OGR_F_IsFieldSetAndNotNull(f, i);
}

/* The feature of `layer` whose polygon's envelope holds (lat, lon); caller
 * destroys it.  NULL when none does. */
static OGRFeatureH polygon_at(tile *t, const char *layer, double lat, double lon)
{
    OGRLayerH l = GDALDatasetGetLayerByName(t->ds, layer);
    if (!l)
        return NULL;
    double mx, my;
    merc(lon, lat, &mx, &my);
    OGR_L_ResetReading(l);
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(l))) {
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        OGREnvelope e;
        if (g && wkbFlatten(OGR_G_GetGeometryType(g)) != wkbPoint) {
            OGR_G_GetEnvelope(g, &e);
            if (mx >= e.MinX && mx <= e.MaxX && my >= e.MinY && my <= e.MaxY)
                return f;
        }
        OGR_F_Destroy(f);
    }
    return NULL;
}

/* The feature of `layer` whose `field` is the integer `v` (or, for v < 0, the
 * first one); caller destroys it. */
static OGRFeatureH feature_with(tile *t, const char *layer, const char *field, long long v)
{
    OGRLayerH l = GDALDatasetGetLayerByName(t->ds, layer);
    if (!l)
        return NULL;
    OGR_L_ResetReading(l);
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(l))) {
        if (v < 0 || fint(f, field) == v)
            return f;
        OGR_F_Destroy(f);
    }
    return NULL;
}

static long long feature_count(tile *t, const char *layer)
{
    OGRLayerH l = GDALDatasetGetLayerByName(t->ds, layer);
    return l ? OGR_L_GetFeatureCount(l, 1) : -1;
}

/* Distance in metres (3857 metres scaled to the ground) from a point
 * feature to (lat, lon). */
static double metres_from(OGRFeatureH f, double lat, double lon)
{
    OGRGeometryH g = OGR_F_GetGeometryRef(f);
    if (!g || wkbFlatten(OGR_G_GetGeometryType(g)) != wkbPoint)
        return 1e9;
    double mx, my;
    merc(lon, lat, &mx, &my);
    return hypot(OGR_G_GetX(g, 0) - mx, OGR_G_GetY(g, 0) - my) * cos(lat * M_PI / 180.0);
}

/* n tests at (lat, lon) + i * 1e-6 degrees (a tenth of a metre), i seconds
 * apart, `hours` hours ago, through POST /v1/measurements. */
static void upload(double lat, double lon, int n, double mbps, const char *op, const char *tech,
                   int hours)
{
    char csv[8192];
    size_t len =
        (size_t)snprintf(csv, sizeof(csv), "lat,lon,time,download_mbps,operator,network_type\n");
    time_t now = time(NULL) - hours * 3600;
    for (int i = 0; i < n; i++) {
        time_t t = now + i;
        struct tm tm;
        gmtime_r(&t, &tm);
        char ts[32];
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        len += (size_t)snprintf(csv + len, sizeof(csv) - len, "%.7f,%.7f,%s,%.1f,%s,%s\n",
                                lat + i * 1e-6, lon, ts, mbps, op, tech);
    }
    t_resp r;
    CHECK_INT(t_http("POST", "/v1/measurements?format=csv", tok_min, csv, len, NULL, &r), 0);
    CHECK_INT(r.status, 201);
    CHECK_CONTAINS(r.body, "\"rejected\":0");
    t_resp_free(&r);
}

static long report(const char *tok, double lat, double lon, int people)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"lat\": %.5f, \"lon\": %.5f, \"technology\": \"4G\", \"symptom\": \"no_signal\","
             " \"people_affected\": %d}",
             lat, lon, people);
    t_resp r;
    long id = -1;
    CHECK_INT(t_http("POST", "/v1/reports", tok, body, strlen(body),
                     "Content-Type: application/json", &r),
              0);
    CHECK_INT(r.status, 201);
    cJSON *j = cJSON_Parse(r.body);
    cJSON *p = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "point"), "id");
    if (cJSON_IsNumber(p))
        id = (long)p->valuedouble;
    cJSON_Delete(j);
    t_resp_free(&r);
    return id;
}

static long move(long point, const char *body)
{
    char path[64];
    snprintf(path, sizeof(path), "/v1/points/%ld/transitions", point);
    t_resp r;
    if (t_http("POST", path, tok_min, body, strlen(body), "Content-Type: application/json", &r) !=
        0)
        return -1;
    long s = r.status;
    t_resp_free(&r);
    return s;
}

/* Today in Vietnam, YYYY-MM-DD. */
static void vn_today(char out[16])
{
    time_t t = time(NULL) + 7 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

/* ------------------------------------------------------- pure C parts */

TEST(maps_tiles, zxy_levels_gzip_etag)
{
    int z, x, y;
    char err[160];
    CHECK_INT(maps_tile_parse_zxy("5", "25", "14", &z, &x, &y, err, sizeof(err)), LS_OK);
    CHECK(z == 5 && x == 25 && y == 14);
    CHECK_INT(maps_tile_parse_zxy("0", "0", "0", &z, &x, &y, err, sizeof(err)), LS_OK);
    CHECK_INT(maps_tile_parse_zxy("16", "65535", "65535", &z, &x, &y, err, sizeof(err)), LS_OK);
    CHECK_INT(maps_tile_parse_zxy("17", "0", "0", &z, &x, &y, err, sizeof(err)), LS_EINVAL);
    CHECK_CONTAINS(err, "z must be");
    CHECK_INT(maps_tile_parse_zxy("5", "32", "0", &z, &x, &y, err, sizeof(err)), LS_EINVAL);
    CHECK_CONTAINS(err, "0 to 31");
    CHECK_INT(maps_tile_parse_zxy("5", "1", "-1", &z, &x, &y, err, sizeof(err)), LS_EINVAL);
    CHECK_INT(maps_tile_parse_zxy("5", "+1", "1", &z, &x, &y, err, sizeof(err)), LS_EINVAL);
    CHECK_INT(maps_tile_parse_zxy("", "1", "1", &z, &x, &y, err, sizeof(err)), LS_EINVAL);
    CHECK_INT(maps_tile_parse_zxy("5", "1", "1e1", &z, &x, &y, err, sizeof(err)), LS_EINVAL);
    CHECK_INT(maps_tile_parse_zxy("5", "1", "99999999999", &z, &x, &y, err, sizeof(err)),
              LS_EINVAL);

    static const int levels[17] = {7, 7, 7, 7, 7, 10, 10, 10, 10, 13, 13, 13, 16, 16, 16, 16, 16};
    for (int i = 0; i <= 16; i++)
        if (maps_tile_coverage_level(i) != levels[i])
            t_fail(__FILE__, __LINE__, "zoom %d draws level %d, want %d", i,
                   maps_tile_coverage_level(i), levels[i]);

    maps_tile_layer l;
    CHECK_INT(maps_tile_layer_parse("points", &l), 0);
    CHECK_INT(l, MAPS_TILE_POINTS);
    CHECK_INT(maps_tile_layer_parse("Points", &l), -1);
    CHECK_INT(maps_tile_layer_parse(NULL, &l), -1);

    /* gzip inflates back to the same bytes */
    unsigned char in[5000];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(i * 7 % 13);
    unsigned char *gz = NULL, back[6000];
    size_t gzlen = 0;
    CHECK_INT(maps_tile_gzip(in, sizeof(in), &gz, &gzlen), LS_OK);
    CHECK(gz && gzlen > 18 && gzlen < sizeof(in) && gz[0] == 0x1f && gz[1] == 0x8b);
    uLongf n = sizeof(back);
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    CHECK_INT(inflateInit2(&zs, 15 + 16), Z_OK);
    zs.next_in = gz;
    zs.avail_in = (uInt)gzlen;
    zs.next_out = back;
    zs.avail_out = (uInt)n;
    CHECK_INT(inflate(&zs, Z_FINISH), Z_STREAM_END);
    CHECK_INT(zs.total_out, sizeof(in));
    CHECK(memcmp(back, in, sizeof(in)) == 0);
    inflateEnd(&zs);
    free(gz);

    char e1[48], e2[48], e3[48];
    maps_tile_etag(in, sizeof(in), NULL, e1, sizeof(e1));
    maps_tile_etag(in, sizeof(in) - 1, NULL, e2, sizeof(e2));
    maps_tile_etag(in, sizeof(in), "-gz", e3, sizeof(e3));
    CHECK(e1[0] == '"' && e1[strlen(e1) - 1] == '"');
    CHECK(strcmp(e1, e2) != 0);
    CHECK(strncmp(e1, e3, strlen(e1) - 1) == 0);
    CHECK_CONTAINS(e3, "-gz\"");

    cJSON *vl = maps_tile_vector_layers(MAPS_TILE_UNITS);
    CHECK_INT(cJSON_GetArraySize(vl), 2);
    cJSON_Delete(vl);
}

/* ---------------------------------------------------------- over HTTP */

TEST(maps_tiles, server_starts_and_data_loads)
{
    geo_gdal_init();
    tok_min = t_token("ministry", NULL, NULL);
    tok_l96 = t_token("locality", "96", NULL);
    tok_l56 = t_token("locality", "56", NULL);
    tok_vt = t_token("carrier", NULL, "viettel");
    tok_pub = t_token("public", NULL, NULL);
    CHECK(t_server_start("") != NULL);

    /* the tests of one cell stay in it (they are 0.1 m apart) */
    int ax, ay, ax2, ay2;
    geo_tile_xy(16, A_LON, A_LAT, &ax, &ay);
    geo_tile_xy(16, A_LON, A_LAT + 1e-5, &ax2, &ay2);
    CHECK(ax == ax2 && ay == ay2);
    upload(A_LAT, A_LON, 6, 80, "Viettel", "4G", 3);
    upload(A_LAT, A_LON, 6, 10, "Mobifone", "4G", 2);
    upload(B_LAT, B_LON, 5, 0, "Vinaphone", "3G", 1);
    upload(A_LAT, C_LON, 2, 50, "Vietnamobile", "4G", 1);

    pt1 = report(tok_l96, P1_LAT, P1_LON, 120);
    pt2 = report(tok_l96, P2_LAT, P2_LON, 40);
    pt3 = report(tok_l56, P3_LAT, P3_LON, 7);
    CHECK(pt1 > 0 && pt2 > 0 && pt3 > 0 && pt1 != pt2);
    CHECK_INT(move(pt2, "{\"to\": \"triaged\"}"), 200);
    CHECK_INT(move(pt2, "{\"to\": \"assigned\", \"carriers\": [\"viettel\"],"
                        " \"due\": \"2099-12-31\"}"),
              200);
}

TEST(maps_tiles, coverage_cell_holds_its_tests)
{
    char today[16];
    vn_today(today);
    tile t;
    /* zoom 14 draws village cells (level 16): the cell holding the tests,
     * the best carrier there (viettel, which meets the minimum) */
    CHECK_INT(fetch(NULL, "coverage", 14, A_LAT, A_LON, NULL, &t, NULL), 0);
    OGRFeatureH f = t.ds ? polygon_at(&t, "coverage", A_LAT, A_LON) : NULL;
    CHECK(f != NULL);
    if (f) {
        OGREnvelope e;
        OGR_G_GetEnvelope(OGR_F_GetGeometryRef(f), &e);
        double w = 40075016.685578488 / 65536; /* a level-16 cell */
        CHECK(fabs((e.MaxX - e.MinX) - w) < 0.5 && fabs((e.MaxY - e.MinY) - w) < 0.5);
        CHECK_STR(fstr(f, "carrier"), "viettel");
        CHECK_STR(fstr(f, "tech"), "4G");
        CHECK_INT(fint(f, "tests"), 6);
        CHECK(fabs(fnum(f, "share") - 1.0) < 1e-6);
        CHECK(fabs(fnum(f, "p50") - 80) < 0.01);
        CHECK(fabs(fnum(f, "p10") - 80) < 0.01);
        CHECK_STR(fstr(f, "class"), "meets");
        CHECK_STR(fstr(f, "last"), today);
        OGR_F_Destroy(f);
    }
    /* and cell B (vinaphone 3G, no service) in the same tile or its own */
    tile_close(&t);

    /* one carrier: mobifone is below the minimum in the same cell */
    CHECK_INT(fetch(NULL, "coverage", 14, A_LAT, A_LON, "?carrier=mobifone", &t, NULL), 0);
    f = t.ds ? polygon_at(&t, "coverage", A_LAT, A_LON) : NULL;
    CHECK(f != NULL);
    if (f) {
        CHECK_STR(fstr(f, "carrier"), "mobifone");
        CHECK_INT(fint(f, "tests"), 6);
        CHECK(fabs(fnum(f, "share")) < 1e-6);
        CHECK(fabs(fnum(f, "p50") - 10) < 0.01);
        CHECK_STR(fstr(f, "class"), "below");
        OGR_F_Destroy(f);
    }
    CHECK(polygon_at(&t, "coverage", B_LAT, B_LON) == NULL); /* mobifone has no test at B */
    tile_close(&t);

    /* no service at all: class none, share 0, p50 0 */
    CHECK_INT(fetch(NULL, "coverage", 14, B_LAT, B_LON, "?carrier=vinaphone&tech=3G", &t, NULL), 0);
    f = t.ds ? polygon_at(&t, "coverage", B_LAT, B_LON) : NULL;
    CHECK(f != NULL);
    if (f) {
        CHECK_STR(fstr(f, "class"), "none");
        CHECK_INT(fint(f, "tests"), 5);
        CHECK(fabs(fnum(f, "p50")) < 1e-6);
        OGR_F_Destroy(f);
    }
    CHECK(polygon_at(&t, "coverage", A_LAT, A_LON) == NULL);
    tile_close(&t);
}

TEST(maps_tiles, coverage_at_low_zoom_uses_coarse_cells)
{
    /* zoom 5 draws ~38 km cells (level 10): cell A's level-10 cell holds
     * every test of A and B; the best of it is viettel 4G */
    tile t;
    CHECK_INT(fetch(NULL, "coverage", 5, A_LAT, A_LON, NULL, &t, NULL), 0);
    OGRFeatureH f = t.ds ? polygon_at(&t, "coverage", A_LAT, A_LON) : NULL;
    CHECK(f != NULL);
    if (f) {
        OGREnvelope e;
        OGR_G_GetEnvelope(OGR_F_GetGeometryRef(f), &e);
        double w = 40075016.685578488 / 1024;
        CHECK(fabs((e.MaxX - e.MinX) - w) < 1 && fabs((e.MaxY - e.MinY) - w) < 1);
        CHECK_STR(fstr(f, "carrier"), "viettel");
        CHECK_INT(fint(f, "tests"), 6);
        CHECK_STR(fstr(f, "class"), "meets");
        /* from the histogram: 80 Mbps lies in the 80-100 bin */
        CHECK(fnum(f, "p50") >= 80 && fnum(f, "p50") <= 100);
        OGR_F_Destroy(f);
    }
    tile_close(&t);
    /* vinaphone 3G's level-10 cell: every test in the first bin */
    CHECK_INT(fetch(NULL, "coverage", 5, B_LAT, B_LON, "?tech=3G&carrier=vinaphone", &t, NULL), 0);
    f = t.ds ? polygon_at(&t, "coverage", B_LAT, B_LON) : NULL;
    CHECK(f != NULL);
    if (f) {
        CHECK_STR(fstr(f, "class"), "none");
        CHECK_INT(fint(f, "tests"), 5);
        OGR_F_Destroy(f);
    }
    tile_close(&t);
}

TEST(maps_tiles, empty_tile_is_204)
{
    t_resp r;
    /* the middle of the Pacific */
    CHECK_INT(t_http("GET", "/tiles/coverage/10/10/500.mvt", NULL, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 204);
    CHECK_INT(r.len, 0);
    t_resp_free(&r);
    CHECK_INT(t_http("GET", "/tiles/units/10/10/500.mvt", NULL, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 204);
    t_resp_free(&r);
    /* a filter that matches nothing there */
    char path[256];
    int x, y;
    tile_path(path, sizeof(path), "coverage", 14, A_LAT, A_LON, "?carrier=vinaphone&tech=4G", &x,
              &y);
    CHECK_INT(status_of(NULL, path), 204);
}

TEST(maps_tiles, etag_304_gzip_and_headers)
{
    char path[256];
    int x, y;
    tile_path(path, sizeof(path), "coverage", 14, A_LAT, A_LON, NULL, &x, &y);
    t_resp r, g, n;
    CHECK_INT(t_http("GET", path, NULL, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.content_type, "application/vnd.mapbox-vector-tile");
    CHECK_CONTAINS(t_header(&r, "Cache-Control"), "public");
    CHECK_CONTAINS(t_header(&r, "Vary"), "Accept-Encoding");
    CHECK(t_header(&r, "Content-Encoding") == NULL);
    char etag[64] = "";
    if (t_header(&r, "ETag"))
        snprintf(etag, sizeof(etag), "%s", t_header(&r, "ETag"));
    CHECK(etag[0] == '"');

    /* the same ETag back: 304 and no body */
    char hdr[128];
    snprintf(hdr, sizeof(hdr), "If-None-Match: %s", etag);
    CHECK_INT(t_http("GET", path, NULL, NULL, 0, hdr, &n), 0);
    CHECK_INT(n.status, 304);
    CHECK_INT(n.len, 0);
    CHECK_STR(t_header(&n, "ETag"), etag);
    t_resp_free(&n);
    snprintf(hdr, sizeof(hdr), "If-None-Match: \"other\", W/%s", etag);
    CHECK_INT(t_http("GET", path, NULL, NULL, 0, hdr, &n), 0);
    CHECK_INT(n.status, 304);
    t_resp_free(&n);
    CHECK_INT(t_http("GET", path, NULL, NULL, 0, "If-None-Match: \"stale\"", &n), 0);
    CHECK_INT(n.status, 200);
    CHECK_INT(n.len, r.len);
    t_resp_free(&n);

    /* gzip: another ETag, and the body inflates to the same tile */
    CHECK_INT(t_http("GET", path, NULL, NULL, 0, "Accept-Encoding: br, gzip;q=0.8", &g), 0);
    CHECK_INT(g.status, 200);
    CHECK_STR(t_header(&g, "Content-Encoding"), "gzip");
    CHECK(t_header(&g, "ETag") && strcmp(t_header(&g, "ETag"), etag) != 0);
    CHECK(g.len > 10 && (unsigned char)g.body[0] == 0x1f && (unsigned char)g.body[1] == 0x8b);
    unsigned char *back = malloc(r.len + 16);
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    CHECK_INT(inflateInit2(&zs, 15 + 16), Z_OK);
    zs.next_in = (unsigned char *)g.body;
    zs.avail_in = (uInt)g.len;
    zs.next_out = back;
    zs.avail_out = (uInt)(r.len + 16);
    CHECK_INT(inflate(&zs, Z_FINISH), Z_STREAM_END);
    CHECK_INT(zs.total_out, r.len);
    CHECK(memcmp(back, r.body, r.len) == 0);
    inflateEnd(&zs);
    free(back);
    t_resp_free(&g);

    /* gzip refused with q=0: plain bytes */
    CHECK_INT(t_http("GET", path, NULL, NULL, 0, "Accept-Encoding: gzip;q=0, identity", &g), 0);
    CHECK_INT(g.status, 200);
    CHECK(t_header(&g, "Content-Encoding") == NULL);
    CHECK_INT(g.len, r.len);
    t_resp_free(&g);

    /* HEAD: the headers, no body */
    CHECK_INT(t_http("HEAD", path, NULL, NULL, 0, NULL, &g), 0);
    CHECK_INT(g.status, 200);
    CHECK_INT(g.len, 0);
    CHECK_STR(t_header(&g, "ETag"), etag);
    t_resp_free(&g);
    t_resp_free(&r);
}

TEST(maps_tiles, points_need_a_token)
{
    char path[256];
    int x, y;
    tile_path(path, sizeof(path), "points", 14, P1_LAT, P1_LON, NULL, &x, &y);
    t_resp r;
    CHECK_INT(t_http("GET", path, NULL, NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 401));
    CHECK_CONTAINS(t_header(&r, "WWW-Authenticate"), "Bearer");
    t_resp_free(&r);
    CHECK_INT(t_http("GET", path, tok_pub, NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 403));
    t_resp_free(&r);
    CHECK_INT(t_http("GET", path, "ls_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 401));
    t_resp_free(&r);
    /* the public layers answer a public token too */
    tile_path(path, sizeof(path), "units", 8, P1_LAT, P1_LON, NULL, &x, &y);
    CHECK_INT(status_of(tok_pub, path), 200);
}

TEST(maps_tiles, points_where_reported_with_attributes)
{
    /* an overdue point: its due date moved into the past */
    PGconn *db = t_sysdb();
    char *u = t_sqlf(db,
                     "WITH a AS (UPDATE assignments SET due_date = current_date - 3"
                     " WHERE point_id = %ld RETURNING 1)"
                     " UPDATE dz_points SET due_date = current_date - 3 WHERE id = %ld"
                     " RETURNING (SELECT count(*) FROM a)",
                     pt2, pt2);
    CHECK_STR(u, "1");
    free(u);
    PQfinish(db);

    tile t;
    t_resp r;
    CHECK_INT(fetch(tok_min, "points", 14, P1_LAT, P1_LON, NULL, &t, &r), 0);
    CHECK_CONTAINS(t_header(&r, "Cache-Control"), "private");
    t_resp_free(&r);
    OGRFeatureH f = t.ds ? feature_with(&t, "points", "id", pt1) : NULL;
    CHECK(f != NULL);
    if (f) {
        CHECK(metres_from(f, P1_LAT, P1_LON) < 1.0); /* a z14 tile unit is 0.6 m */
        CHECK_STR(fstr(f, "status"), "reported");
        CHECK_STR(fstr(f, "tech"), "4G");
        CHECK_INT(fint(f, "reports"), 1);
        CHECK_INT(fint(f, "people"), 120);
        CHECK_STR(fstr(f, "province"), "96");
        CHECK_INT(fint(f, "overdue"), 0);
        CHECK(!has(f, "carriers"));
        CHECK(!has(f, "count"));
        OGR_F_Destroy(f);
    }
    tile_close(&t);
    CHECK_INT(fetch(tok_min, "points", 16, P2_LAT, P2_LON, NULL, &t, NULL), 0);
    f = t.ds ? feature_with(&t, "points", "id", pt2) : NULL;
    CHECK(f != NULL);
    if (f) {
        CHECK(metres_from(f, P2_LAT, P2_LON) < 0.3);
        CHECK_STR(fstr(f, "status"), "assigned");
        CHECK_STR(fstr(f, "carriers"), "viettel");
        CHECK_INT(fint(f, "overdue"), 1);
        OGR_F_Destroy(f);
    }
    tile_close(&t);
}

TEST(maps_tiles, points_follow_row_level_security)
{
    char path[256];
    int x, y;
    tile t;
    /* a locality sees its own area's points, and nothing elsewhere */
    CHECK_INT(fetch(tok_l96, "points", 14, P1_LAT, P1_LON, NULL, &t, NULL), 0);
    OGRFeatureH f = t.ds ? feature_with(&t, "points", "id", pt1) : NULL;
    CHECK(f != NULL);
    OGR_F_Destroy(f);
    tile_close(&t);
    tile_path(path, sizeof(path), "points", 14, P1_LAT, P1_LON, NULL, &x, &y);
    CHECK_INT(status_of(tok_l56, path), 204);
    tile_path(path, sizeof(path), "points", 14, P3_LAT, P3_LON, NULL, &x, &y);
    CHECK_INT(status_of(tok_l96, path), 204);
    CHECK_INT(fetch(tok_l56, "points", 14, P3_LAT, P3_LON, NULL, &t, NULL), 0);
    f = t.ds ? feature_with(&t, "points", "id", pt3) : NULL;
    CHECK(f != NULL);
    if (f)
        CHECK_INT(fint(f, "people"), 7);
    OGR_F_Destroy(f);
    tile_close(&t);

    /* a carrier sees the points assigned to it, not the others */
    CHECK_INT(fetch(tok_vt, "points", 16, P2_LAT, P2_LON, NULL, &t, NULL), 0);
    f = t.ds ? feature_with(&t, "points", "id", pt2) : NULL;
    CHECK(f != NULL);
    OGR_F_Destroy(f);
    tile_close(&t);
    tile_path(path, sizeof(path), "points", 16, P1_LAT, P1_LON, NULL, &x, &y);
    CHECK_INT(status_of(tok_vt, path), 204);
}

TEST(maps_tiles, points_cluster_at_low_zoom)
{
    /* at zoom 5 both Cà Mau points fall in one grid cell (an eighth of the
     * tile): one feature with count 2, the sums, overdue if any is, no id */
    int x, y;
    geo_tile_xy(5, P1_LON, P1_LAT, &x, &y);
    double fx1 = (P1_LON + 180) / 360 * 32 * 8, fx2 = (P2_LON + 180) / 360 * 32 * 8;
    CHECK(floor(fx1) == floor(fx2));
    tile t;
    CHECK_INT(fetch(tok_l96, "points", 5, P1_LAT, P1_LON, NULL, &t, NULL), 0);
    CHECK_INT(feature_count(&t, "points"), 1);
    OGRFeatureH f = t.ds ? feature_with(&t, "points", "count", 2) : NULL;
    CHECK(f != NULL);
    if (f) {
        CHECK(!has(f, "id"));
        CHECK(!has(f, "status"));
        CHECK_INT(fint(f, "people"), 160);
        CHECK_INT(fint(f, "reports"), 2);
        CHECK_INT(fint(f, "overdue"), 1);
        /* at their mean position */
        CHECK(metres_from(f, (P1_LAT + P2_LAT) / 2, (P1_LON + P2_LON) / 2) < 500);
        OGR_F_Destroy(f);
    }
    tile_close(&t);
    /* a lone point in its cell stays itself, with its id */
    CHECK_INT(fetch(tok_l56, "points", 5, P3_LAT, P3_LON, NULL, &t, NULL), 0);
    f = t.ds ? feature_with(&t, "points", "id", pt3) : NULL;
    CHECK(f != NULL);
    if (f) {
        CHECK(!has(f, "count"));
        CHECK_STR(fstr(f, "status"), "reported");
        CHECK(metres_from(f, P3_LAT, P3_LON) < 5000); /* a z5 tile unit is 300 m */
    }
    OGR_F_Destroy(f);
    tile_close(&t);
}

/* The points of a zoom-0 tile (the world) as the token sees them: the sum
 * of the clusters' counts and the lone points. */
static long long world_points(const char *tok)
{
    t_resp r;
    if (t_http("GET", "/tiles/points/0/0/0.mvt", tok, NULL, 0, NULL, &r) != 0)
        return -1;
    long long total = r.status == 204 ? 0 : -1;
    tile t;
    if (r.status == 200 && tile_open(&r, 0, 0, 0, &t) == 0) {
        total = 0;
        OGRLayerH l = GDALDatasetGetLayerByName(t.ds, "points");
        OGRFeatureH f;
        OGR_L_ResetReading(l);
        while (l && (f = OGR_L_GetNextFeature(l))) {
            total += has(f, "count") ? fint(f, "count") : 1;
            OGR_F_Destroy(f);
        }
        tile_close(&t);
    }
    t_resp_free(&r);
    return total;
}

/* The points dz_points' own policy shows a context (as GET /v1/points). */
static long long visible_points(const char *context)
{
    PGconn *c = t_connect(t_app_db());
    free(t_sql(c, context));
    char *n = t_sql(c, "SELECT count(*) FROM dz_points WHERE status <> 'merged'");
    long long v = n ? atoll(n) : -1;
    free(n);
    PQfinish(c);
    return v;
}

TEST(maps_tiles, clusters_count_what_each_role_sees)
{
    /* below zoom 9 the counts come from point_grid, kept by triggers under a
     * policy of its own: they must add up to what each role's policy on
     * dz_points shows (every point of every suite that ran before) */
    char *tok_util = t_token("utility", NULL, NULL);
    static const char ctx_min[] = "SELECT set_config('lomsong.role', 'ministry', false)";
    static const char ctx_l96[] = "SELECT set_config('lomsong.role', 'locality', false),"
                                  " set_config('lomsong.province', '96', false)";
    static const char ctx_vt[] = "SELECT set_config('lomsong.role', 'carrier', false),"
                                 " set_config('lomsong.carrier', 'viettel', false)";
    static const char ctx_util[] = "SELECT set_config('lomsong.role', 'utility', false)";
    long long all = visible_points(ctx_min);
    CHECK(all >= 3);
    CHECK_INT(world_points(tok_min), all);
    CHECK_INT(world_points(tok_l96), visible_points(ctx_l96));
    CHECK_INT(visible_points(ctx_l96), 2);
    CHECK_INT(world_points(tok_vt), visible_points(ctx_vt));
    CHECK_INT(world_points(tok_util), visible_points(ctx_util));

    /* blocked for lack of power: the utility now sees it, at zoom 5 too */
    char path[64], body[] = "{\"to\": \"blocked\", \"reason\": \"no_power\"}";
    snprintf(path, sizeof(path), "/v1/points/%ld/transitions", pt2);
    t_resp r;
    CHECK_INT(
        t_http("POST", path, tok_vt, body, strlen(body), "Content-Type: application/json", &r), 0);
    CHECK_INT(r.status, 200);
    t_resp_free(&r);
    tile t;
    CHECK_INT(fetch(tok_util, "points", 5, P2_LAT, P2_LON, NULL, &t, NULL), 0);
    OGRFeatureH f = t.ds ? feature_with(&t, "points", "id", pt2) : NULL;
    CHECK(f != NULL);
    if (f) {
        CHECK_STR(fstr(f, "status"), "blocked");
        CHECK(metres_from(f, P2_LAT, P2_LON) < 1000);
    }
    OGR_F_Destroy(f);
    tile_close(&t);
    CHECK_INT(world_points(tok_util), visible_points(ctx_util));
    CHECK_INT(world_points(tok_min), all);

    /* power connected: the utility is done there */
    char on[] = "{\"to\": \"in_progress\"}";
    CHECK_INT(t_http("POST", path, tok_util, on, strlen(on), "Content-Type: application/json", &r),
              0);
    CHECK_INT(r.status, 200);
    t_resp_free(&r);
    char tp[128];
    int x, y;
    tile_path(tp, sizeof(tp), "points", 16, P2_LAT, P2_LON, NULL, &x, &y);
    CHECK_INT(t_http("GET", tp, tok_util, NULL, 0, NULL, &r), 0);
    CHECK(r.status == 204 || r.status == 200);
    if (r.status == 200 && tile_open(&r, 16, x, y, &t) == 0) {
        f = feature_with(&t, "points", "id", pt2);
        CHECK(f == NULL);
        OGR_F_Destroy(f);
        tile_close(&t);
    }
    t_resp_free(&r);
    CHECK_INT(world_points(tok_util), visible_points(ctx_util));
    CHECK_INT(world_points(tok_vt), visible_points(ctx_vt));
    CHECK_INT(world_points(tok_min), all);
    free(tok_util);
}

TEST(maps_tiles, units_boundaries_and_labels)
{
    tile t;
    CHECK_INT(fetch(NULL, "units", 5, P1_LAT, P1_LON, NULL, &t, NULL), 0);
    OGRFeatureH f;
    OGRLayerH l = t.ds ? GDALDatasetGetLayerByName(t.ds, "units") : NULL;
    CHECK(l != NULL);
    int found = 0;
    if (l) {
        OGR_L_ResetReading(l);
        while ((f = OGR_L_GetNextFeature(l))) {
            if (fstr(f, "code") && strcmp(fstr(f, "code"), "96") == 0) {
                found = 1;
                CHECK_STR(fstr(f, "name"), "Tỉnh Cà Mau");
                OGRGeometryH g = OGR_F_GetGeometryRef(f);
                CHECK(g && wkbFlatten(OGR_G_GetGeometryType(g)) != wkbPoint);
                /* the point the locality reported from lies in it */
                OGRGeometryH p = OGR_G_CreateGeometry(wkbPoint);
                double mx, my;
                merc(P1_LON, P1_LAT, &mx, &my);
                OGR_G_SetPoint_2D(p, 0, mx, my);
                CHECK(g && OGR_G_Contains(g, p));
                OGR_G_DestroyGeometry(p);
            }
            OGR_F_Destroy(f);
        }
    }
    CHECK(found);
    CHECK(feature_count(&t, "units") >= 10); /* the whole south is in this tile */
    OGRLayerH labels = t.ds ? GDALDatasetGetLayerByName(t.ds, "unit_labels") : NULL;
    CHECK(labels != NULL);
    found = 0;
    if (labels) {
        OGR_L_ResetReading(labels);
        while ((f = OGR_L_GetNextFeature(labels))) {
            OGRGeometryH g = OGR_F_GetGeometryRef(f);
            if (fstr(f, "code") && strcmp(fstr(f, "code"), "96") == 0 && g &&
                wkbFlatten(OGR_G_GetGeometryType(g)) == wkbPoint) {
                found = 1;
                CHECK_STR(fstr(f, "name"), "Tỉnh Cà Mau");
            }
            OGR_F_Destroy(f);
        }
    }
    CHECK(found);
    tile_close(&t);

    /* zoom 0: Vietnam is a few hundred bytes; zoom 14: the full boundary */
    t_resp r;
    CHECK_INT(t_http("GET", "/tiles/units/0/0/0.mvt", NULL, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK(r.len > 100 && r.len < 20000);
    t_resp_free(&r);
    CHECK_INT(fetch(NULL, "units", 14, P1_LAT, P1_LON, NULL, &t, NULL), 0);
    f = t.ds ? polygon_at(&t, "units", P1_LAT, P1_LON) : NULL;
    CHECK(f != NULL);
    if (f)
        CHECK_STR(fstr(f, "code"), "96");
    OGR_F_Destroy(f);
    tile_close(&t);
}

TEST(maps_tiles, bad_requests)
{
    static const char *const bad[] = {
        "/tiles/coverage/17/0/0.mvt",        "/tiles/coverage/5/32/0.mvt",
        "/tiles/coverage/5/0/32.mvt",        "/tiles/coverage/x/0/0.mvt",
        "/tiles/coverage/5/-1/0.mvt",        "/tiles/units/5/1/1x.mvt",
        "/tiles/coverage/5/0/0.mvt?tech=6G", "/tiles/coverage/5/0/0.mvt?carrier=Robert%27);DROP",
        "/tiles/coverage.json?tech=4g",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t_resp r;
        CHECK_INT(t_http("GET", bad[i], NULL, NULL, 0, NULL, &r), 0);
        if (!t_is_problem(&r, 400))
            t_fail(__FILE__, __LINE__, "%s: want 400 problem, got %ld %.200s", bad[i], r.status,
                   r.body);
        t_resp_free(&r);
    }
    t_resp r;
    CHECK_INT(t_http("GET", "/tiles/roads/5/0/0.mvt", NULL, NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 404));
    CHECK_CONTAINS(r.body, "coverage, points and units");
    t_resp_free(&r);
    CHECK_INT(t_http("GET", "/tiles/coverage/5/0/0.pbf", NULL, NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 404));
    t_resp_free(&r);
    CHECK_INT(t_http("POST", "/tiles/coverage/5/0/0.mvt", NULL, "x", 1, NULL, &r), 0);
    CHECK(t_is_problem(&r, 405));
    t_resp_free(&r);
}

TEST(maps_tiles, tilejson)
{
    t_resp r;
    CHECK_INT(
        t_http("GET", "/tiles/coverage.json?carrier=viettel&tech=4G", NULL, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(t_header(&r, "Cache-Control"), "public");
    cJSON *j = cJSON_Parse(r.body);
    CHECK(j != NULL);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "tilejson")), "3.0.0");
    char want[256];
    snprintf(want, sizeof(want), "%s/tiles/coverage/{z}/{x}/{y}.mvt?carrier=viettel&tech=4G",
             t_server_url());
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "tiles"), 0)), want);
    CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "minzoom")), 0);
    CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "maxzoom")), 16);
    cJSON *b = cJSON_GetObjectItem(j, "bounds");
    CHECK_INT(cJSON_GetArraySize(b), 4);
    /* Vietnam, islands included */
    CHECK(cJSON_GetNumberValue(cJSON_GetArrayItem(b, 0)) < 102.5);
    CHECK(cJSON_GetNumberValue(cJSON_GetArrayItem(b, 1)) < 8.6);
    CHECK(cJSON_GetNumberValue(cJSON_GetArrayItem(b, 2)) > 109.4);
    CHECK(cJSON_GetNumberValue(cJSON_GetArrayItem(b, 3)) > 23.3);
    CHECK(cJSON_GetNumberValue(cJSON_GetArrayItem(b, 3)) < 23.5);
    cJSON *vl = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "vector_layers"), 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(vl, "id")), "coverage");
    cJSON *fields = cJSON_GetObjectItem(vl, "fields");
    static const char *const cov[] = {"carrier", "tech", "tests", "share",
                                      "p10",     "p50",  "class", "last"};
    for (size_t i = 0; i < sizeof(cov) / sizeof(cov[0]); i++)
        CHECK(cJSON_IsString(cJSON_GetObjectItem(fields, cov[i])));
    cJSON_Delete(j);
    t_resp_free(&r);

    CHECK_INT(t_http("GET", "/tiles/units.json", NULL, NULL, 0, "Host: maps.example.vn:8443", &r),
              0);
    CHECK_INT(r.status, 200);
    j = cJSON_Parse(r.body);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "tiles"), 0)),
              "http://maps.example.vn:8443/tiles/units/{z}/{x}/{y}.mvt");
    cJSON *layers = cJSON_GetObjectItem(j, "vector_layers");
    CHECK_INT(cJSON_GetArraySize(layers), 2);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(layers, 1), "id")),
              "unit_labels");
    cJSON_Delete(j);
    t_resp_free(&r);

    CHECK_INT(t_http("GET", "/tiles/points.json", NULL, NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 401));
    t_resp_free(&r);
    CHECK_INT(t_http("GET", "/tiles/points.json", tok_min, NULL, 0,
                     "X-Forwarded-Proto: https\nHost: lomsong.mic.gov.vn", &r),
              0);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(t_header(&r, "Cache-Control"), "private");
    j = cJSON_Parse(r.body);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "tiles"), 0)),
              "https://lomsong.mic.gov.vn/tiles/points/{z}/{x}/{y}.mvt");
    fields = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "vector_layers"), 0),
                                 "fields");
    CHECK(cJSON_IsString(cJSON_GetObjectItem(fields, "overdue")));
    CHECK(cJSON_IsString(cJSON_GetObjectItem(fields, "count")));
    cJSON_Delete(j);
    t_resp_free(&r);
}

TEST(maps_tiles, feature_limit)
{
    /* two cells in one zoom-12 tile (village cells), two points in a
     * zoom-11 one; a limit of one */
    int x1, y1, x2, y2;
    geo_tile_xy(12, A_LON, A_LAT, &x1, &y1);
    geo_tile_xy(12, C_LON, A_LAT, &x2, &y2);
    CHECK(x1 == x2 && y1 == y2);
    geo_tile_xy(16, A_LON, A_LAT, &x1, &y1);
    geo_tile_xy(16, C_LON, A_LAT, &x2, &y2);
    CHECK(x1 != x2);
    geo_tile_xy(11, P1_LON, P1_LAT, &x1, &y1);
    geo_tile_xy(11, P2_LON, P2_LAT, &x2, &y2);
    CHECK(x1 == x2 && y1 == y2);
    CHECK_INT(t_server_stop(), 0);
    CHECK(t_server_start("--tile-max-features 1") != NULL);
    tile t;
    t_resp r;
    CHECK_INT(fetch(NULL, "coverage", 12, A_LAT, A_LON, NULL, &t, &r), 0);
    CHECK_STR(t_header(&r, "X-Tile-Truncated"), "true");
    CHECK_INT(feature_count(&t, "coverage"), 1);
    t_resp_free(&r);
    tile_close(&t);
    CHECK_INT(fetch(tok_l96, "points", 11, P1_LAT, P1_LON, NULL, &t, &r), 0);
    CHECK_STR(t_header(&r, "X-Tile-Truncated"), "true");
    CHECK_INT(feature_count(&t, "points"), 1);
    /* the overdue point is the one kept */
    OGRFeatureH f = t.ds ? feature_with(&t, "points", "id", pt2) : NULL;
    CHECK(f != NULL);
    OGR_F_Destroy(f);
    t_resp_free(&r);
    tile_close(&t);
}

TEST(maps_tiles, zz_stop)
{
    CHECK_INT(t_server_stop(), 0);
    free(tok_min);
    free(tok_l96);
    free(tok_l56);
    free(tok_vt);
    free(tok_pub);
}
