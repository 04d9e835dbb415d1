/*
 * test_maps_export.c — exports and printable maps over real HTTP, every
 * file reopened with GDAL.  Data goes in the way users put it in: reports
 * through POST /v1/reports (in the south of Lào Cai (15), the old Yên Bái,
 * and in the west of Hà Nội (01), where no other suite reports, all on 3G
 * and 2G), one of them assigned to Viettel through the workflow, speed
 * tests through POST /v1/measurements (three cells: one meeting 40 Mbps,
 * one below, one with no service).
 *
 * Every layer is downloaded in every format, saved, reopened (a zipped
 * Shapefile through /vsizip/) and compared with what the list endpoints
 * (or SQL in the 'system' context) say: the same features, the field
 * types each format can hold, EPSG:4326 where the format carries a CRS,
 * Vietnamese text intact.  Scoping: a locality's export holds only its
 * area, a carrier's only its assignments, no token 401, public 403.  The
 * row cap, bad names and filters.  `lomsong export` against the HTTP
 * export.  Maps: the PNG and GeoTIFF reopened, their size, the GeoTIFF's
 * geotransform against the province's extent from PostGIS, the colour of
 * the pixels outside, inside and on each coverage cell.
 */
#include <cjson/cJSON.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t.h"
#include "../geo/tile.h"

#define LS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static char *tok_min, *tok_l15, *tok_l01, *tok_vt, *tok_pub;
static long long pt_a, pt_b, pt_h; /* Lào Cai 3G (assigned to viettel), Lào Cai 2G, Hà Nội 3G */
static long long rep_a;            /* the report that made pt_a */

#define A_LAT 21.7000
#define A_LON 104.8700
#define B_LAT 21.8000
#define B_LON 104.6000
#define H_LAT 21.0000
#define H_LON 105.5000
#define PLACE_A "Thôn Khe Dứa, xã Văn Chấn"
#define PLACE_H "Thôn Đồng Xuân"

/* Speed-test cells (viettel 4G, five tests each): meets, below, no service. */
static const struct {
    double lat, lon, down;
    const char *status;
    int rgb[3];
} cells[] = {
    {21.6003, 104.7003, 80, "meets", {26, 150, 65}},
    {21.6203, 104.7203, 10, "below", {253, 174, 97}},
    {21.6403, 104.7403, 0, "no_service", {215, 25, 28}},
};
#define CELL_BBOX "104.69,21.59,104.75,21.65"

/* A column of vertically adjacent cells (one rectangle per run of a colour
 * on the map): tile rows y0 + dy at COL_LON. */
#define COL_LON 104.7603
#define COL_LAT 21.6603
static const struct {
    int dy;
    double down;
    const char *rgb;
} column[] = {{0, 80, "26,150,65"},
              {1, 90, "26,150,65"},
              {2, 5, "253,174,97"},
              {3, 70, "26,150,65"},
              {4, 0, "215,25,28"}};

/* Latitude of the centre of tile row y + 0.5 at zoom 16. */
static double row_lat(double y)
{
    return atan(sinh(M_PI * (1.0 - 2.0 * y / 65536.0))) * 180.0 / M_PI;
}

static const char *const formats[] = {"geojson", "gpkg", "kml", "csv", "xlsx", "shp.zip"};

/* ------------------------------------------------------------ helpers */

static char *sql_str(const char *q)
{
    PGconn *c = t_sysdb();
    char *s = c ? t_sql(c, q) : NULL;
    PQfinish(c);
    return s;
}

/* GETs `path`, saving a 200 body to `file`; returns the status (-1: no
 * answer).  A non-200 answer's body is reported when `want` differs. */
static long get_file(int line, const char *path, const char *tok, const char *file, long want)
{
    t_resp r;
    if (t_http("GET", path, tok, NULL, 0, NULL, &r) != 0) {
        t_fail(__FILE__, line, "GET %s: no answer", path);
        return -1;
    }
    long st = r.status;
    if (st != want)
        t_fail(__FILE__, line, "GET %s: %ld, want %ld: %.300s", path, st, want,
               r.body ? r.body : "");
    if (st == 200 && file) {
        FILE *f = fopen(file, "wb");
        if (!f || fwrite(r.body, 1, r.len, f) != r.len)
            t_fail(__FILE__, line, "cannot save %s", file);
        if (f)
            fclose(f);
    }
    t_resp_free(&r);
    return st;
}

/* GETs `path` wanting a problem+json with `status` whose detail contains
 * `needle` (may be NULL). */
static void problem(int line, const char *path, const char *tok, long status, const char *needle)
{
    t_resp r;
    if (t_http("GET", path, tok, NULL, 0, NULL, &r) != 0) {
        t_fail(__FILE__, line, "GET %s: no answer", path);
        return;
    }
    if (!t_is_problem(&r, status))
        t_fail(__FILE__, line, "GET %s: %ld %s, want a %ld problem: %.300s", path, r.status,
               r.content_type ? r.content_type : "", status, r.body ? r.body : "");
    else if (needle && (!r.body || !strstr(r.body, needle)))
        t_fail(__FILE__, line, "GET %s: detail lacks \"%s\": %.300s", path, needle, r.body);
    t_resp_free(&r);
}

static GDALDatasetH open_export(int line, const char *file, const char *fmt)
{
    char name[600];
    snprintf(name, sizeof name, "%s%s", strcmp(fmt, "shp.zip") == 0 ? "/vsizip/" : "", file);
    GDALDatasetH ds = GDALOpenEx(name, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds || GDALDatasetGetLayerCount(ds) != 1) {
        t_fail(__FILE__, line, "GDAL cannot open %s as one layer: %s", name, CPLGetLastErrorMsg());
        if (ds)
            GDALClose(ds);
        return NULL;
    }
    return ds;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* The values of field `field` of every feature, as numbers, sorted. */
static long long *layer_ids(OGRLayerH l, const char *field, int *n)
{
    *n = 0;
    int cap = 64;
    long long *v = malloc(sizeof(*v) * (size_t)cap);
    int fi = OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(l), field);
    OGR_L_ResetReading(l);
    OGRFeatureH f;
    while (v && fi >= 0 && (f = OGR_L_GetNextFeature(l)) != NULL) {
        if (*n == cap) {
            cap *= 2;
            long long *nv = realloc(v, sizeof(*v) * (size_t)cap);
            if (!nv) {
                OGR_F_Destroy(f);
                break;
            }
            v = nv;
        }
        v[(*n)++] = strtoll(OGR_F_GetFieldAsString(f, fi), NULL, 10);
        OGR_F_Destroy(f);
    }
    if (v)
        qsort(v, (size_t)*n, sizeof(*v), cmp_ll);
    return v;
}

/* The ids a list endpoint gives, following its next links; sorted. */
static long long *list_ids(const char *path, const char *tok, const char *key, int *n)
{
    *n = 0;
    int cap = 256;
    long long *v = malloc(sizeof(*v) * (size_t)cap);
    char url[2048];
    snprintf(url, sizeof url, "%s", path);
    while (v && *url) {
        t_resp r;
        if (t_http("GET", url, tok, NULL, 0, NULL, &r) != 0 || r.status != 200) {
            t_fail(__FILE__, __LINE__, "GET %s: %ld", url, r.status);
            t_resp_free(&r);
            break;
        }
        cJSON *j = cJSON_Parse(r.body);
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, key))
        {
            if (*n == cap) {
                cap *= 2;
                long long *nv = realloc(v, sizeof(*v) * (size_t)cap);
                if (!nv)
                    break;
                v = nv;
            }
            v[(*n)++] = (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "id"));
        }
        const char *next = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "next"));
        snprintf(url, sizeof url, "%s", next ? next : "");
        cJSON_Delete(j);
        t_resp_free(&r);
    }
    if (v)
        qsort(v, (size_t)*n, sizeof(*v), cmp_ll);
    return v;
}

static void same_ids(int line, const char *what, const long long *a, int na, const long long *b,
                     int nb)
{
    if (na != nb) {
        t_fail(__FILE__, line, "%s: %d features, want %d", what, na, nb);
        return;
    }
    for (int i = 0; i < na; i++)
        if (a[i] != b[i]) {
            t_fail(__FILE__, line, "%s: feature %d is id %lld, want %lld", what, i, a[i], b[i]);
            return;
        }
}

static int has_id(const long long *v, int n, long long id)
{
    for (int i = 0; i < n; i++)
        if (v[i] == id)
            return 1;
    return 0;
}

/* The feature whose field `key` is `value` (caller destroys), or NULL. */
static OGRFeatureH find(OGRLayerH l, const char *key, const char *value)
{
    int fi = OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(l), key);
    if (fi < 0)
        return NULL;
    OGR_L_ResetReading(l);
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        if (strcmp(OGR_F_GetFieldAsString(f, fi), value) == 0)
            return f;
        OGR_F_Destroy(f);
    }
    return NULL;
}

/* A field as text; GDAL's buffer, valid until the next call on f. */
static const char *fstr(OGRFeatureH f, const char *name)
{
    int fi = f ? OGR_F_GetFieldIndex(f, name) : -1;
    return fi >= 0 && OGR_F_IsFieldSetAndNotNull(f, fi) ? OGR_F_GetFieldAsString(f, fi) : NULL;
}

/* Checks field `name`: present, of type `t` (or `t2` when >= 0), and
 * boolean-subtyped when `boolean`. */
static void field_is(int line, const char *what, OGRLayerH l, const char *name, int t, int t2,
                     int boolean)
{
    OGRFeatureDefnH d = OGR_L_GetLayerDefn(l);
    int fi = OGR_FD_GetFieldIndex(d, name);
    if (fi < 0) {
        t_fail(__FILE__, line, "%s: no field %s", what, name);
        return;
    }
    OGRFieldDefnH fd = OGR_FD_GetFieldDefn(d, fi);
    int got = OGR_Fld_GetType(fd);
    if (got != t && got != t2)
        t_fail(__FILE__, line, "%s: field %s is %s, want %s", what, name, OGR_GetFieldTypeName(got),
               OGR_GetFieldTypeName(t));
    if (boolean && OGR_Fld_GetSubType(fd) != OFSTBoolean)
        t_fail(__FILE__, line, "%s: field %s is not a boolean", what, name);
}

/* The layer's CRS is EPSG:4326. */
static void crs_4326(int line, const char *what, OGRLayerH l)
{
    OGRSpatialReferenceH s = OGR_L_GetSpatialRef(l);
    OGRSpatialReferenceH c = s ? OSRClone(s) : NULL;
    if (c)
        OSRAutoIdentifyEPSG(c);
    const char *code = c ? OSRGetAuthorityCode(c, NULL) : NULL;
    if (!code || strcmp(code, "4326") != 0)
        t_fail(__FILE__, line, "%s: CRS is %s, want EPSG:4326", what, code ? code : "none");
    if (c)
        OSRDestroySpatialReference(c);
}

/* A location's lon/lat in a feature: its geometry, or the lon/lat fields of
 * a table format. */
static int feature_lonlat(OGRFeatureH f, int table, double *lon, double *lat)
{
    if (table) { /* (GDAL formats a number into one buffer per feature: read one at a time) */
        int xi = OGR_F_GetFieldIndex(f, "lon"), yi = OGR_F_GetFieldIndex(f, "lat");
        if (xi < 0 || yi < 0 || !OGR_F_IsFieldSetAndNotNull(f, xi))
            return -1;
        *lon = OGR_F_GetFieldAsDouble(f, xi);
        *lat = OGR_F_GetFieldAsDouble(f, yi);
        return 0;
    }
    OGRGeometryH g = OGR_F_GetGeometryRef(f);
    if (!g)
        return -1;
    OGREnvelope e;
    OGR_G_GetEnvelope(g, &e);
    *lon = (e.MinX + e.MaxX) / 2;
    *lat = (e.MinY + e.MaxY) / 2;
    return 0;
}

static int is_table(const char *fmt)
{
    return strcmp(fmt, "csv") == 0 || strcmp(fmt, "xlsx") == 0;
}

static int valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : 3;
        if ((*p & 0xF8) == 0xF8 || ((*p & 0xC0) == 0x80))
            return 0;
        for (int i = 1; i <= n; i++)
            if ((p[i] & 0xC0) != 0x80)
                return 0;
        p += n + 1;
    }
    return 1;
}

/* -------------------------------------------------------------- setup */

static long long post_report(double lat, double lon, const char *tech, const char *more,
                             const char *tok, long long *report)
{
    char body[4096];
    snprintf(
        body, sizeof body,
        "{\"lat\": %.6f, \"lon\": %.6f, \"technology\": \"%s\", \"symptom\": \"no_signal\"%s%s}",
        lat, lon, tech, more ? ", " : "", more ? more : "");
    t_resp r;
    long long pid = -1;
    if (t_http("POST", "/v1/reports", tok, body, strlen(body), "Content-Type: application/json",
               &r) == 0 &&
        r.status == 201) {
        cJSON *j = cJSON_Parse(r.body);
        pid = (long long)cJSON_GetNumberValue(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "point"), "id"));
        if (report)
            *report = (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(j, "report"), "id"));
        cJSON_Delete(j);
    } else {
        t_fail(__FILE__, __LINE__, "POST /v1/reports %s: %ld %.300s", body, r.status,
               r.body ? r.body : "");
    }
    t_resp_free(&r);
    return pid;
}

static void transition(long long id, const char *body)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/points/%lld/transitions", id);
    t_resp r;
    CHECK_INT(
        t_http("POST", path, tok_min, body, strlen(body), "Content-Type: application/json", &r), 0);
    if (r.status != 200 && r.status != 201)
        t_fail(__FILE__, __LINE__, "%s %s: %ld %.300s", path, body, r.status, r.body);
    t_resp_free(&r);
}

/* A long note in Vietnamese: more than a DBF column holds (254 bytes). */
static char long_note[1200];

TEST(maps_export, setup)
{
    GDALAllRegister();
    tok_min = t_token("ministry", NULL, NULL);
    tok_l15 = t_token("locality", "15", NULL);
    tok_l01 = t_token("locality", "01", NULL);
    tok_vt = t_token("carrier", NULL, "viettel");
    tok_pub = t_token("public", NULL, NULL);
    CHECK(t_server_start("") != NULL);

    size_t n = 0;
    while (n + 40 < sizeof long_note)
        n += (size_t)snprintf(long_note + n, sizeof long_note - n, "Mất sóng ở đầu bản Nậm Ngặt. ");
    long_note[n - 1] = '\0'; /* no trailing space (spreadsheet readers trim it) */
    char more[2048];
    snprintf(more, sizeof more,
             "\"place\": \"%s\", \"people_affected\": 120, \"carriers\": [\"viettel\"],"
             " \"note\": \"%s\"",
             PLACE_A, long_note);
    pt_a = post_report(A_LAT, A_LON, "3G", more, tok_l15, &rep_a);
    pt_b = post_report(B_LAT, B_LON, "2G", "\"place\": \"Bản Nậm Búng\"", tok_l15, NULL);
    pt_h = post_report(H_LAT, H_LON, "3G", "\"place\": \"" PLACE_H "\"", tok_l01, NULL);
    CHECK(pt_a > 0 && pt_b > 0 && pt_h > 0);
    transition(pt_a, "{\"to\": \"triaged\"}");
    transition(pt_a,
               "{\"to\": \"assigned\", \"carriers\": [\"viettel\"], \"due\": \"2099-01-31\"}");

    char csv[8192];
    size_t len = (size_t)snprintf(csv, sizeof csv, "lat,lon,time,operator,tech,download\n");
    for (size_t c = 0; c < LS_ARRAY_LEN(cells); c++)
        for (int i = 0; i < 5; i++)
            len += (size_t)snprintf(
                csv + len, sizeof csv - len, "%.5f,%.5f,2026-06-0%dT0%zu:1%d:00Z,viettel,4G,%g\n",
                cells[c].lat + i * 0.0001, cells[c].lon, i + 1, c, i, cells[c].down);
    int cx, cy;
    geo_tile_xy(16, COL_LON, COL_LAT, &cx, &cy);
    for (size_t c = 0; c < LS_ARRAY_LEN(column); c++)
        for (int i = 0; i < 5; i++)
            len += (size_t)snprintf(csv + len, sizeof csv - len,
                                    "%.6f,%.5f,2026-06-1%dT0%zu:2%d:00Z,viettel,4G,%g\n",
                                    row_lat(cy + column[c].dy + 0.5) + (i - 2) * 0.0003, COL_LON,
                                    i + 1, c, i, column[c].down);
    t_resp r;
    CHECK_INT(t_http("POST", "/v1/measurements?format=csv&name=export-test.csv", tok_vt, csv, len,
                     NULL, &r),
              0);
    CHECK_INT(r.status, 201);
    t_resp_free(&r);
}

/* ----------------------------------------------------------- exports */

/* points: every format, the ministry's view of Lào Cai, against GET /v1/points. */
TEST(maps_export, points_every_format)
{
    int nw = 0;
    long long *want = list_ids("/v1/points?unit=15&limit=1000", tok_min, "features", &nw);
    CHECK(has_id(want, nw, pt_a) && has_id(want, nw, pt_b) && !has_id(want, nw, pt_h));
    for (size_t k = 0; k < LS_ARRAY_LEN(formats); k++) {
        const char *fmt = formats[k];
        int shp = strcmp(fmt, "shp.zip") == 0, table = is_table(fmt);
        char path[128], what[64];
        snprintf(path, sizeof path, "/v1/export/points.%s?unit=15", fmt);
        snprintf(what, sizeof what, "points.%s", fmt);
        const char *file = t_tmp("points-15.%s", fmt);
        if (get_file(__LINE__, path, tok_min, file, 200) != 200)
            continue;
        GDALDatasetH ds = open_export(__LINE__, file, fmt);
        if (!ds)
            continue;
        OGRLayerH l = GDALDatasetGetLayer(ds, 0);
        CHECK_INT(OGR_L_GetFeatureCount(l, TRUE), nw);
        int ng = 0;
        long long *got = layer_ids(l, "id", &ng);
        same_ids(__LINE__, what, got, ng, want, nw);
        free(got);
        if (!table)
            crs_4326(__LINE__, what, l);

        /* types, as each format can hold them */
        const char *people = shp ? "people" : "people_affected";
        const char *first = shp ? "first_rep" : "first_reported";
        const char *prov = shp ? "province" : "province_code";
        if (strcmp(fmt, "gpkg") == 0 || strcmp(fmt, "geojson") == 0 || strcmp(fmt, "xlsx") == 0) {
            field_is(__LINE__, what, l, "id", OFTInteger64, OFTInteger, 0);
            field_is(__LINE__, what, l, "report_count", OFTInteger, -1, 0);
            field_is(__LINE__, what, l, people, OFTInteger, -1, 0);
            field_is(__LINE__, what, l, first, OFTDateTime, -1, 0);
            field_is(__LINE__, what, l, "due_date", OFTDate, -1, 0);
            field_is(__LINE__, what, l, "overdue", OFTInteger, -1, 1);
            field_is(__LINE__, what, l, "disputed", OFTInteger, -1, 1);
        } else if (shp) {
            field_is(__LINE__, what, l, "id", OFTInteger64, -1, 0);
            field_is(__LINE__, what, l, "reports", OFTInteger, -1, 0);
            field_is(__LINE__, what, l, people, OFTInteger, -1, 0);
            field_is(__LINE__, what, l, first, OFTString, -1, 0); /* DBF has no date-time */
            field_is(__LINE__, what, l, "due_date", OFTDate, -1, 0);
            field_is(__LINE__, what, l, "overdue", OFTInteger, -1, 0);
            OGRFeatureDefnH d = OGR_L_GetLayerDefn(l);
            for (int i = 0; i < OGR_FD_GetFieldCount(d); i++)
                CHECK(strlen(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(d, i))) <= 10);
        } else if (strcmp(fmt, "kml") == 0) {
            field_is(__LINE__, what, l, "id", OFTInteger, -1, 0);
            field_is(__LINE__, what, l, "report_count", OFTInteger, -1, 0);
            field_is(__LINE__, what, l, first, OFTString, -1, 0);
            field_is(__LINE__, what, l, "overdue", OFTInteger, -1, 0);
        } else { /* csv: text, with lon/lat */
            field_is(__LINE__, what, l, "lon", OFTString, OFTReal, 0);
            field_is(__LINE__, what, l, "lat", OFTString, OFTReal, 0);
        }
        if (strcmp(fmt, "xlsx") == 0) {
            field_is(__LINE__, what, l, "lon", OFTReal, -1, 0);
            field_is(__LINE__, what, l, "lat", OFTReal, -1, 0);
        }

        /* the assigned point's values */
        char id[32];
        snprintf(id, sizeof id, "%lld", pt_a);
        OGRFeatureH f = find(l, "id", id);
        CHECK(f != NULL);
        if (f) {
            CHECK_STR(fstr(f, "status"), "assigned");
            CHECK_STR(fstr(f, prov), "15");
            CHECK_STR(fstr(f, "carriers"), "viettel");
            const char *due = fstr(f, "due_date");
            CHECK(due && strncmp(due, "2099", 4) == 0 && strstr(due, "01") && strstr(due, "31"));
            double lon = 0, lat = 0;
            CHECK_INT(feature_lonlat(f, table, &lon, &lat), 0);
            if (!(fabs(lon - A_LON) < 1e-6 && fabs(lat - A_LAT) < 1e-6))
                t_fail(__FILE__, __LINE__, "%s: point %lld at %.9f %.9f, want %.4f %.4f", what,
                       pt_a, lon, lat, A_LON, A_LAT);
            OGR_F_Destroy(f);
        }
        GDALClose(ds);
    }
    free(want);
}

/* reports: Vietnamese text through every format; a Shapefile's long note cut
 * at a character, not in the middle of one. */
TEST(maps_export, reports_every_format_vietnamese)
{
    int nw = 0;
    long long *want = list_ids("/v1/reports?limit=1000", tok_l15, "reports", &nw);
    CHECK(has_id(want, nw, rep_a));
    for (size_t k = 0; k < LS_ARRAY_LEN(formats); k++) {
        const char *fmt = formats[k];
        int shp = strcmp(fmt, "shp.zip") == 0;
        char path[128], what[64];
        snprintf(path, sizeof path, "/v1/export/reports.%s", fmt);
        snprintf(what, sizeof what, "reports.%s", fmt);
        const char *file = t_tmp("reports-l15.%s", fmt);
        if (get_file(__LINE__, path, tok_l15, file, 200) != 200)
            continue;
        GDALDatasetH ds = open_export(__LINE__, file, fmt);
        if (!ds)
            continue;
        OGRLayerH l = GDALDatasetGetLayer(ds, 0);
        int ng = 0;
        long long *got = layer_ids(l, "id", &ng);
        same_ids(__LINE__, what, got, ng, want, nw);
        free(got);
        if (!is_table(fmt))
            crs_4326(__LINE__, what, l);
        char id[32];
        snprintf(id, sizeof id, "%lld", rep_a);
        OGRFeatureH f = find(l, "id", id);
        CHECK(f != NULL);
        if (f) {
            CHECK_STR(fstr(f, "place"), PLACE_A);
            CHECK_STR(fstr(f, shp ? "province" : "province_code"), "15");
            CHECK_STR(fstr(f, shp ? "people" : "people_affected"), "120");
            const char *note = fstr(f, "note");
            CHECK(note != NULL);
            if (note && shp) {
                CHECK(strlen(note) <= 254 && strlen(note) > 200);
                CHECK(valid_utf8(note));
                CHECK(strncmp(long_note, note, strlen(note)) == 0);
            } else if (note && strcmp(note, long_note) != 0) {
                t_fail(__FILE__, __LINE__,
                       "%s: the note is not the note sent (%zu bytes, want %zu)", what,
                       strlen(note), strlen(long_note));
            }
            OGR_F_Destroy(f);
        }
        if (shp) { /* the zip holds the .prj and a .cpg saying UTF-8 */
            char dir[600];
            snprintf(dir, sizeof dir, "/vsizip/%s", file);
            char **names = VSIReadDir(dir);
            CHECK(CSLFindString(names, "reports.prj") >= 0);
            CHECK(CSLFindString(names, "reports.cpg") >= 0);
            CSLDestroy(names);
            char cpg[600];
            snprintf(cpg, sizeof cpg, "/vsizip/%s/reports.cpg", file);
            VSILFILE *fp = VSIFOpenL(cpg, "rb");
            char b[16] = "";
            if (fp) {
                VSIFReadL(b, 1, sizeof b - 1, fp);
                VSIFCloseL(fp);
            }
            CHECK(strncmp(b, "UTF-8", 5) == 0);
        }
        GDALClose(ds);
    }
    free(want);
}

/* coverage: the three cells, against GET /v1/coverage and SQL. */
TEST(maps_export, coverage_every_format)
{
    t_resp r;
    CHECK_INT(t_http("GET", "/v1/coverage?bbox=" CELL_BBOX "&carrier=viettel&tech=4G&res=16", NULL,
                     NULL, 0, NULL, &r),
              0);
    cJSON *j = cJSON_Parse(r.body);
    int nlist = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "features"));
    cJSON_Delete(j);
    t_resp_free(&r);
    CHECK(nlist >= 3);
    int x[3], y[3];
    for (int c = 0; c < 3; c++)
        geo_tile_xy(16, cells[c].lon, cells[c].lat, &x[c], &y[c]);
    CHECK_INT(t_sys_ll("SELECT count(*) FROM coverage_cells_in(16, %d, %d, %d, %d, 'viettel',"
                       " '4G')",
                       x[0], x[2], y[2], y[0]) > 0,
              1);
    for (size_t k = 0; k < LS_ARRAY_LEN(formats); k++) {
        const char *fmt = formats[k];
        int shp = strcmp(fmt, "shp.zip") == 0, table = is_table(fmt);
        char path[160], what[64];
        snprintf(path, sizeof path,
                 "/v1/export/coverage.%s?bbox=" CELL_BBOX "&carrier=viettel&tech=4G", fmt);
        snprintf(what, sizeof what, "coverage.%s", fmt);
        const char *file = t_tmp("coverage.%s", fmt);
        if (get_file(__LINE__, path, NULL, file, 200) != 200) /* public: no token */
            continue;
        GDALDatasetH ds = open_export(__LINE__, file, fmt);
        if (!ds)
            continue;
        OGRLayerH l = GDALDatasetGetLayer(ds, 0);
        CHECK_INT(OGR_L_GetFeatureCount(l, TRUE), nlist);
        if (!table)
            crs_4326(__LINE__, what, l);
        if (strcmp(fmt, "gpkg") == 0 || strcmp(fmt, "geojson") == 0 || shp) {
            field_is(__LINE__, what, l, "tests", OFTInteger, -1, 0);
            field_is(__LINE__, what, l, shp ? "share" : "share_meeting", OFTReal, -1, 0);
            field_is(__LINE__, what, l, shp ? "p50_dl" : "p50_download", OFTReal, -1, 0);
            field_is(__LINE__, what, l, shp ? "last_meas" : "last_measured",
                     shp ? OFTString : OFTDateTime, -1, 0);
        }
        /* each cell: its status, and it holds its tests */
        OGRFeatureH f;
        int seen = 0;
        OGR_L_ResetReading(l);
        while ((f = OGR_L_GetNextFeature(l)) != NULL) {
            int cx = atoi(fstr(f, "x") ? fstr(f, "x") : "-1");
            int cy = atoi(fstr(f, "y") ? fstr(f, "y") : "-1");
            for (int c = 0; c < 3; c++) {
                if (cx != x[c] || cy != y[c])
                    continue;
                seen++;
                CHECK_STR(fstr(f, "status"), cells[c].status);
                CHECK_STR(fstr(f, "tests"), "5");
                CHECK_STR(fstr(f, "carrier"), "viettel");
                if (!table) {
                    OGREnvelope e;
                    OGR_G_GetEnvelope(OGR_F_GetGeometryRef(f), &e);
                    CHECK(e.MinX < cells[c].lon && cells[c].lon < e.MaxX);
                    CHECK(e.MinY < cells[c].lat && cells[c].lat < e.MaxY);
                    CHECK(e.MaxX - e.MinX < 0.0056 && e.MaxX - e.MinX > 0.0054); /* 360/2^16 */
                }
            }
            OGR_F_Destroy(f);
        }
        CHECK_INT(seen, 3);
        GDALClose(ds);
    }
}

/* units: provinces (Vietnamese names) and a province's communes. */
/* units: provinces (Vietnamese names) and a province's communes.  Every
 * format for the provinces around a bbox in Lào Cai (full boundaries are
 * megabytes), the whole country as CSV. */
#define UNIT_BBOX "104.6,21.5,104.9,21.8"
TEST(maps_export, units_every_format)
{
    t_resp r;
    CHECK_INT(t_http("GET", "/v1/units?geometry=none", NULL, NULL, 0, NULL, &r), 0);
    cJSON *j = cJSON_Parse(r.body);
    int nprov = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "features"));
    cJSON_Delete(j);
    t_resp_free(&r);
    CHECK_INT(nprov, 34);
    const char *all = t_tmp("units-all.csv");
    if (get_file(__LINE__, "/v1/export/units.csv", NULL, all, 200) == 200) {
        GDALDatasetH ds = open_export(__LINE__, all, "csv");
        if (ds) {
            CHECK_INT(OGR_L_GetFeatureCount(GDALDatasetGetLayer(ds, 0), TRUE), nprov);
            GDALClose(ds);
        }
    }
    long long nbox =
        t_sys_ll("SELECT count(*) FROM admin_units WHERE level = 'province'"
                 " AND valid_to IS NULL AND geom && ST_MakeEnvelope(" UNIT_BBOX ", 4326)");
    CHECK(nbox >= 1 && nbox < nprov);
    char *name15 = sql_str("SELECT name FROM admin_units WHERE level = 'province' AND code = '15'"
                           " AND valid_to IS NULL");
    CHECK(name15 && strstr(name15, "Lào Cai"));
    for (size_t k = 0; k < LS_ARRAY_LEN(formats); k++) {
        const char *fmt = formats[k];
        int kml = strcmp(fmt, "kml") == 0, shp = strcmp(fmt, "shp.zip") == 0;
        char path[128], what[64];
        snprintf(path, sizeof path, "/v1/export/units.%s?bbox=" UNIT_BBOX, fmt);
        snprintf(what, sizeof what, "units.%s", fmt);
        const char *file = t_tmp("units.%s", fmt);
        if (get_file(__LINE__, path, NULL, file, 200) != 200)
            continue;
        GDALDatasetH ds = open_export(__LINE__, file, fmt);
        if (!ds)
            continue;
        OGRLayerH l = GDALDatasetGetLayer(ds, 0);
        CHECK_INT(OGR_L_GetFeatureCount(l, TRUE), nbox);
        if (!is_table(fmt))
            crs_4326(__LINE__, what, l);
        if (strcmp(fmt, "gpkg") == 0 || shp)
            field_is(__LINE__, what, l, "valid_from", OFTDate, -1, 0);
        OGRFeatureH f = find(l, "code", "15");
        CHECK(f != NULL);
        if (f) {
            /* KML carries a field called name as the placemark's <name> */
            CHECK_STR(fstr(f, kml ? "Name" : "name"), name15);
            OGRGeometryH g = is_table(fmt) ? NULL : OGR_F_GetGeometryRef(f);
            if (g && !kml) {
                OGRGeometryH p = OGR_G_CreateGeometry(wkbPoint);
                OGR_G_SetPoint_2D(p, 0, A_LON, A_LAT);
                CHECK(OGR_G_Contains(g, p));
                OGR_G_DestroyGeometry(p);
            } else if (g) { /* KML's MultiGeometry may read as a collection */
                OGREnvelope e;
                OGR_G_GetEnvelope(g, &e);
                CHECK(e.MinX < A_LON && A_LON < e.MaxX && e.MinY < A_LAT && A_LAT < e.MaxY);
            } else if (!is_table(fmt)) {
                t_fail(__FILE__, __LINE__, "%s: province 15 has no geometry", what);
            }
            OGR_F_Destroy(f);
        }
        GDALClose(ds);
    }
    free(name15);

    /* the communes of one province */
    long long nc = t_sys_ll("SELECT count(*) FROM admin_units WHERE level = 'commune'"
                            " AND province_code = '15' AND valid_to IS NULL");
    CHECK(nc > 0);
    const char *file = t_tmp("communes-15.gpkg");
    if (get_file(__LINE__, "/v1/export/units.gpkg?level=commune&province=15", NULL, file, 200) ==
        200) {
        GDALDatasetH ds = open_export(__LINE__, file, "gpkg");
        if (ds) {
            CHECK_INT(OGR_L_GetFeatureCount(GDALDatasetGetLayer(ds, 0), TRUE), nc);
            GDALClose(ds);
        }
    }
}

/* A locality's export holds its area only, a carrier's its assignments;
 * points and reports need a token of a role that may list them. */
TEST(maps_export, scoping)
{
    struct {
        const char *tok, *name;
    } who[] = {{NULL, "l01"}, {NULL, "l15"}, {NULL, "viettel"}};
    who[0].tok = tok_l01;
    who[1].tok = tok_l15;
    who[2].tok = tok_vt;
    for (int w = 0; w < 3; w++) {
        int nw = 0;
        long long *want = list_ids("/v1/points?limit=1000", who[w].tok, "features", &nw);
        const char *file = t_tmp("points-%s.geojson", who[w].name);
        if (get_file(__LINE__, "/v1/export/points.geojson", who[w].tok, file, 200) == 200) {
            GDALDatasetH ds = open_export(__LINE__, file, "geojson");
            OGRLayerH l = ds ? GDALDatasetGetLayer(ds, 0) : NULL;
            int ng = 0;
            long long *got = l ? layer_ids(l, "id", &ng) : NULL;
            same_ids(__LINE__, who[w].name, got, ng, want, nw);
            if (w == 0) {
                CHECK(has_id(got, ng, pt_h) && !has_id(got, ng, pt_a));
                CHECK_INT(ng,
                          t_sys_ll("SELECT count(*) FROM dz_points WHERE province_code = '01'"));
                OGRFeatureH f;
                OGR_L_ResetReading(l);
                while (l && (f = OGR_L_GetNextFeature(l)) != NULL) {
                    CHECK_STR(fstr(f, "province_code"), "01");
                    OGR_F_Destroy(f);
                }
            } else if (w == 1) {
                CHECK(has_id(got, ng, pt_a) && has_id(got, ng, pt_b) && !has_id(got, ng, pt_h));
            } else {
                CHECK(has_id(got, ng, pt_a) && !has_id(got, ng, pt_b) && !has_id(got, ng, pt_h));
            }
            free(got);
            if (ds)
                GDALClose(ds);
        }
        free(want);
    }
    /* Hà Nội's reports are not Lào Cai's */
    int nr = 0;
    long long *rl = list_ids("/v1/reports?limit=1000", tok_l01, "reports", &nr);
    const char *file = t_tmp("reports-l01.csv");
    if (get_file(__LINE__, "/v1/export/reports.csv", tok_l01, file, 200) == 200) {
        GDALDatasetH ds = open_export(__LINE__, file, "csv");
        OGRLayerH l = ds ? GDALDatasetGetLayer(ds, 0) : NULL;
        int ng = 0;
        long long *got = l ? layer_ids(l, "id", &ng) : NULL;
        same_ids(__LINE__, "reports l01", got, ng, rl, nr);
        CHECK(!has_id(got, ng, rep_a));
        OGRFeatureH f = l ? find(l, "place", PLACE_H) : NULL;
        CHECK(f != NULL);
        if (f)
            OGR_F_Destroy(f);
        free(got);
        if (ds)
            GDALClose(ds);
    }
    free(rl);

    problem(__LINE__, "/v1/export/points.gpkg", NULL, 401, "token");
    problem(__LINE__, "/v1/export/reports.csv", NULL, 401, "token");
    problem(__LINE__, "/v1/export/points.gpkg", tok_pub, 403, "public");
    problem(__LINE__, "/v1/export/reports.kml", tok_pub, 403, "public");
    CHECK_INT(get_file(__LINE__, "/v1/export/units.csv", tok_pub, NULL, 200), 200);
    /* an empty export is a valid file with no features */
    file = t_tmp("empty.gpkg");
    if (get_file(__LINE__, "/v1/export/points.gpkg?unit=96", tok_l15, file, 200) == 200) {
        GDALDatasetH ds = open_export(__LINE__, file, "gpkg");
        if (ds) {
            CHECK_INT(OGR_L_GetFeatureCount(GDALDatasetGetLayer(ds, 0), TRUE), 0);
            GDALClose(ds);
        }
    }
}

TEST(maps_export, headers_and_bad_requests)
{
    t_resp r;
    CHECK_INT(t_http("GET", "/v1/export/points.shp.zip?unit=15", tok_min, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.content_type, "application/zip");
    const char *d = t_header(&r, "Content-Disposition");
    CHECK(d && strncmp(d, "attachment; filename=\"points-", 29) == 0 && strstr(d, ".shp.zip\""));
    CHECK(r.len > 4 && memcmp(r.body, "PK", 2) == 0);
    t_resp_free(&r);
    static const struct {
        const char *fmt, *type;
    } types[] = {{"geojson", "application/geo+json"},
                 {"gpkg", "application/geopackage+sqlite3"},
                 {"kml", "application/vnd.google-earth.kml+xml"},
                 {"csv", "text/csv; charset=utf-8"},
                 {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}};
    for (size_t i = 0; i < LS_ARRAY_LEN(types); i++) {
        char path[96];
        snprintf(path, sizeof path, "/v1/export/units.%s?province=15", types[i].fmt);
        CHECK_INT(t_http("GET", path, NULL, NULL, 0, NULL, &r), 0);
        CHECK_INT(r.status, 200);
        CHECK_STR(r.content_type, types[i].type);
        CHECK_STR(t_header(&r, "X-Feature-Count"), "1");
        t_resp_free(&r);
    }
    problem(__LINE__, "/v1/export/points.pdf", tok_min, 404, "geojson, gpkg");
    problem(__LINE__, "/v1/export/roads.gpkg", tok_min, 404, "points, reports");
    problem(__LINE__, "/v1/export/points", tok_min, 404, NULL);
    problem(__LINE__, "/v1/export/points.gpkg?status=lost", tok_min, 400, "lost");
    problem(__LINE__, "/v1/export/points.gpkg?bbox=1,2", tok_min, 400, "bbox");
    problem(__LINE__, "/v1/export/points.gpkg?overdue=maybe", tok_min, 400, "overdue");
    problem(__LINE__, "/v1/export/points.gpkg?unit=abc", tok_min, 400, "unit");
    problem(__LINE__, "/v1/export/coverage.csv?res=12", NULL, 400, "res");
    problem(__LINE__, "/v1/export/coverage.csv?tech=6G", NULL, 400, "tech");
    problem(__LINE__, "/v1/export/units.kml?level=district", NULL, 400, "level");
}

/* `lomsong export`: the same features as over HTTP, for the ministry's view
 * (no token) and for a locality's token. */
TEST(maps_export, cli_matches_http)
{
    char args[1024];
    const char *cli = t_tmp("cli-points-15.gpkg");
    snprintf(args, sizeof args, "export points.gpkg --unit 15 --out '%s'", cli);
    char *out = NULL, *err = NULL;
    CHECK_INT(t_run(args, NULL, &out, &err), 0);
    CHECK_CONTAINS(out, " points");
    free(out);
    free(err);
    const char *http = t_tmp("points-15.gpkg"); /* from points_every_format */
    GDALDatasetH a = open_export(__LINE__, cli, "gpkg"), b = open_export(__LINE__, http, "gpkg");
    if (a && b) {
        int na = 0, nb = 0;
        long long *ia = layer_ids(GDALDatasetGetLayer(a, 0), "id", &na);
        long long *ib = layer_ids(GDALDatasetGetLayer(b, 0), "id", &nb);
        same_ids(__LINE__, "cli vs http", ia, na, ib, nb);
        free(ia);
        free(ib);
        /* and field by field for the assigned point */
        char id[32];
        snprintf(id, sizeof id, "%lld", pt_a);
        OGRFeatureH fa = find(GDALDatasetGetLayer(a, 0), "id", id);
        OGRFeatureH fb = find(GDALDatasetGetLayer(b, 0), "id", id);
        CHECK(fa && fb);
        for (int i = 0; fa && fb && i < OGR_F_GetFieldCount(fa); i++)
            CHECK_STR(OGR_F_GetFieldAsString(fa, i), OGR_F_GetFieldAsString(fb, i));
        if (fa)
            OGR_F_Destroy(fa);
        if (fb)
            OGR_F_Destroy(fb);
    }
    if (a)
        GDALClose(a);
    if (b)
        GDALClose(b);

    /* with a locality's token: what that account sees over HTTP */
    cli = t_tmp("cli-reports-l15.geojson");
    snprintf(args, sizeof args, "export reports.geojson --token %s --out '%s'", tok_l15, cli);
    CHECK_INT(t_run(args, NULL, NULL, NULL), 0);
    http = t_tmp("reports-l15.geojson"); /* from reports_every_format_vietnamese */
    a = open_export(__LINE__, cli, "geojson");
    b = open_export(__LINE__, http, "geojson");
    if (a && b) {
        int na = 0, nb = 0;
        long long *ia = layer_ids(GDALDatasetGetLayer(a, 0), "id", &na);
        long long *ib = layer_ids(GDALDatasetGetLayer(b, 0), "id", &nb);
        same_ids(__LINE__, "cli vs http (locality)", ia, na, ib, nb);
        CHECK(nb > 0 && na < t_sys_ll("SELECT count(*) FROM reports"));
        free(ia);
        free(ib);
    }
    if (a)
        GDALClose(a);
    if (b)
        GDALClose(b);

    /* refusals */
    snprintf(args, sizeof args, "export points.gpkg --token %s --out '%s'", tok_pub,
             t_tmp("never.gpkg"));
    CHECK(t_run(args, NULL, NULL, &err) != 0);
    CHECK_CONTAINS(err, "may not export points");
    free(err);
    CHECK(access(t_tmp("never.gpkg"), F_OK) != 0);
    CHECK_INT(t_run("export points.docx", NULL, NULL, NULL), 2);
    CHECK_INT(t_run("export points.gpkg --status lost", NULL, NULL, NULL), 2);
    snprintf(args, sizeof args, "export points.csv --unit 15 --export-max-rows 1 --out '%s'",
             t_tmp("capped.csv"));
    CHECK(t_run(args, NULL, NULL, &err) != 0);
    CHECK_CONTAINS(err, "LOMSONG_EXPORT_MAX_ROWS");
    free(err);
    CHECK(access(t_tmp("capped.csv"), F_OK) != 0);
    CHECK_INT(t_run("help", NULL, &out, NULL), 0);
    CHECK_CONTAINS(out, "export LAYER.FORMAT");
    free(out);
}

/* --------------------------------------------------------------- maps */

struct img {
    int w, h;
    double gt[6];
    int has_gt;
    char epsg[16];
    unsigned char *pix;
    GDALColorEntry pal[256];
    int npal;
};

static int open_image(int line, const char *file, struct img *m)
{
    memset(m, 0, sizeof(*m));
    GDALDatasetH ds = GDALOpenEx(file, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds) {
        t_fail(__FILE__, line, "GDAL cannot open %s", file);
        return -1;
    }
    m->w = GDALGetRasterXSize(ds);
    m->h = GDALGetRasterYSize(ds);
    m->has_gt = GDALGetGeoTransform(ds, m->gt) == CE_None;
    OGRSpatialReferenceH s = GDALGetSpatialRef(ds) ? OSRClone(GDALGetSpatialRef(ds)) : NULL;
    if (s) {
        OSRAutoIdentifyEPSG(s);
        snprintf(m->epsg, sizeof m->epsg, "%s",
                 OSRGetAuthorityCode(s, NULL) ? OSRGetAuthorityCode(s, NULL) : "");
        OSRDestroySpatialReference(s);
    }
    GDALRasterBandH b = GDALGetRasterBand(ds, 1);
    GDALColorTableH ct = b ? GDALGetRasterColorTable(b) : NULL;
    m->npal = ct ? GDALGetColorEntryCount(ct) : 0;
    for (int i = 0; i < m->npal && i < 256; i++)
        GDALGetColorEntryAsRGB(ct, i, &m->pal[i]);
    m->pix = malloc((size_t)m->w * (size_t)m->h);
    int ok =
        GDALGetRasterCount(ds) == 1 && m->pix &&
        GDALRasterIO(b, GF_Read, 0, 0, m->w, m->h, m->pix, m->w, m->h, GDT_Byte, 0, 0) == CE_None;
    GDALClose(ds);
    if (!ok) {
        t_fail(__FILE__, line, "%s: not one band of bytes", file);
        return -1;
    }
    return 0;
}

/* The colour of pixel (c, r) as "R,G,B", in a static buffer. */
static const char *rgb_at(const struct img *m, int c, int r)
{
    static char s[32];
    if (c < 0 || r < 0 || c >= m->w || r >= m->h)
        return "off the image";
    int i = m->pix[(size_t)r * (size_t)m->w + (size_t)c];
    if (i >= m->npal)
        return "not in the palette";
    snprintf(s, sizeof s, "%d,%d,%d", m->pal[i].c1, m->pal[i].c2, m->pal[i].c3);
    return s;
}

static void merc(double lon, double lat, double *x, double *y)
{
    *x = lon * M_PI / 180.0 * 6378137.0;
    *y = log(tan(M_PI / 4 + lat * M_PI / 360.0)) * 6378137.0;
}

/* Pixel of a Web Mercator position in an image with geotransform gt. */
static void pixel(const double gt[6], double x, double y, int *c, int *r)
{
    *c = (int)floor((x - gt[0]) / gt[1]);
    *r = (int)floor((y - gt[3]) / gt[5]);
}

TEST(maps_export, map_png_and_tif)
{
    const char *png = t_tmp("15.png"), *tif = t_tmp("15.tif");
    if (get_file(__LINE__, "/v1/maps/15.png?width=1024", NULL, png, 200) != 200 ||
        get_file(__LINE__, "/v1/maps/15.tif?width=1024", NULL, tif, 200) != 200)
        return;
    struct img p, t;
    if (open_image(__LINE__, png, &p) != 0 || open_image(__LINE__, tif, &t) != 0)
        return;
    CHECK_INT(p.w, 1024);
    CHECK_INT(t.w, 1024);
    CHECK_INT(p.h, t.h);
    CHECK(p.npal >= 15);
    CHECK(t.has_gt);
    CHECK_STR(t.epsg, "3857");
    CHECK(memcmp(p.pix, t.pix, (size_t)p.w * (size_t)p.h) == 0); /* the same picture */

    /* the GeoTIFF puts the province where PostGIS says it is */
    char *ext = sql_str("SELECT concat_ws(' ', ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b))"
                        " FROM (SELECT ST_Transform(geom, 3857)::box2d AS b FROM admin_units"
                        " WHERE level = 'province' AND code = '15' AND valid_to IS NULL) s");
    double e[4] = {0};
    CHECK(ext && sscanf(ext, "%lf %lf %lf %lf", &e[0], &e[1], &e[2], &e[3]) == 4);
    free(ext);
    double minx = t.gt[0], maxy = t.gt[3], maxx = minx + t.w * t.gt[1], miny = maxy + t.h * t.gt[5];
    double dx = e[2] - e[0], dy = e[3] - e[1];
    CHECK(t.gt[1] > 0 && t.gt[5] < 0 && fabs(t.gt[1] + t.gt[5]) < 1e-6 * t.gt[1]); /* square */
    CHECK(minx <= e[0] && e[0] - minx < 0.1 * dx);
    CHECK(maxx >= e[2] && maxx - e[2] < 0.1 * dx);
    CHECK(miny <= e[1] && e[1] - miny < 0.1 * dy);
    CHECK(maxy >= e[3] && maxy - e[3] < 0.1 * dy);

    /* outside grey, inside not; each cell's colour by the 40 Mbps test */
    CHECK_STR(rgb_at(&p, 0, 0), "224,224,224");
    CHECK_STR(rgb_at(&p, p.w - 1, p.h - 1), "224,224,224");
    char *inside = sql_str("SELECT ST_X(g) || ' ' || ST_Y(g) FROM (SELECT ST_Transform("
                           "ST_PointOnSurface(geom), 3857) AS g FROM admin_units WHERE level ="
                           " 'province' AND code = '15' AND valid_to IS NULL) s");
    double ix = 0, iy = 0;
    CHECK(inside && sscanf(inside, "%lf %lf", &ix, &iy) == 2);
    free(inside);
    int c, r;
    pixel(t.gt, ix, iy, &c, &r);
    CHECK(strcmp(rgb_at(&p, c, r), "224,224,224") != 0);
    for (int k = 0; k < 3; k++) {
        int x, y;
        geo_tile_xy(16, cells[k].lon, cells[k].lat, &x, &y);
        double cs = 2 * M_PI * 6378137.0 / 65536.0, half = M_PI * 6378137.0;
        pixel(t.gt, (x + 0.5) * cs - half, half - (y + 0.5) * cs, &c, &r);
        char want[32];
        snprintf(want, sizeof want, "%d,%d,%d", cells[k].rgb[0], cells[k].rgb[1], cells[k].rgb[2]);
        CHECK_STR(rgb_at(&p, c, r), want);
    }
    /* the column: runs of one colour, broken where the colour changes */
    int colx, coly;
    geo_tile_xy(16, COL_LON, COL_LAT, &colx, &coly);
    for (size_t k = 0; k < LS_ARRAY_LEN(column); k++) {
        double cs = 2 * M_PI * 6378137.0 / 65536.0, half = M_PI * 6378137.0;
        pixel(t.gt, (colx + 0.5) * cs - half, half - (coly + column[k].dy + 0.5) * cs, &c, &r);
        CHECK_STR(rgb_at(&p, c, r), column[k].rgb);
    }
    /* another carrier's coverage there is none: the cells are plain inside */
    free(p.pix);
    if (get_file(__LINE__, "/v1/maps/15.png?width=1024&carrier=vietnamobile&tech=2G", NULL, png,
                 200) == 200 &&
        open_image(__LINE__, png, &p) == 0) {
        int x, y;
        geo_tile_xy(16, cells[0].lon, cells[0].lat, &x, &y);
        double cs = 2 * M_PI * 6378137.0 / 65536.0, half = M_PI * 6378137.0;
        pixel(t.gt, (x + 0.5) * cs - half, half - (y + 0.5) * cs, &c, &r);
        CHECK_STR(rgb_at(&p, c, r), "255,255,255");
        free(p.pix);
    }
    free(t.pix);
}

TEST(maps_export, map_points_follow_the_token)
{
    const char *png = t_tmp("15-points.png"), *tif = t_tmp("15-points.tif");
    struct img p, t;
    if (get_file(__LINE__, "/v1/maps/15.tif?layer=points&width=2048", tok_l15, tif, 200) != 200 ||
        open_image(__LINE__, tif, &t) != 0)
        return;
    CHECK_INT(t.w, 2048);
    int c, r;
    double x, y;
    merc(A_LON, A_LAT, &x, &y);
    pixel(t.gt, x, y, &c, &r);
    CHECK_STR(rgb_at(&t, c, r), "33,102,172"); /* pt_a is assigned */
    merc(B_LON, B_LAT, &x, &y);
    int cb, rb;
    pixel(t.gt, x, y, &cb, &rb);
    CHECK_STR(rgb_at(&t, cb, rb), "123,50,148"); /* pt_b is reported */
    /* a locality of another province sees neither */
    if (get_file(__LINE__, "/v1/maps/15.png?layer=points&width=2048", tok_l01, png, 200) == 200 &&
        open_image(__LINE__, png, &p) == 0) {
        CHECK_INT(p.w, 2048);
        CHECK_STR(rgb_at(&p, c, r), "255,255,255");
        CHECK_STR(rgb_at(&p, cb, rb), "255,255,255");
        free(p.pix);
    }
    /* viettel sees its assignment only */
    if (get_file(__LINE__, "/v1/maps/15.png?layer=points&width=2048", tok_vt, png, 200) == 200 &&
        open_image(__LINE__, png, &p) == 0) {
        CHECK_STR(rgb_at(&p, c, r), "33,102,172");
        CHECK_STR(rgb_at(&p, cb, rb), "255,255,255");
        free(p.pix);
    }
    free(t.pix);
    problem(__LINE__, "/v1/maps/15.png?layer=points", NULL, 401, "token");
    problem(__LINE__, "/v1/maps/15.png?layer=coverage,points", tok_pub, 403, "public");
}

TEST(maps_export, map_bad_requests)
{
    problem(__LINE__, "/v1/maps/99.png", NULL, 404, "99");
    problem(__LINE__, "/v1/maps/15.jpg", NULL, 404, ".png or .tif");
    problem(__LINE__, "/v1/maps/abc.png", NULL, 404, NULL);
    problem(__LINE__, "/v1/maps/15.png?width=100", NULL, 400, "width");
    problem(__LINE__, "/v1/maps/15.png?width=5000", NULL, 400, "width");
    problem(__LINE__, "/v1/maps/15.png?width=512.5", NULL, 400, "width");
    problem(__LINE__, "/v1/maps/15.png?layer=roads", NULL, 400, "layer");
    problem(__LINE__, "/v1/maps/15.png?tech=6G", NULL, 400, "tech");
    /* an old code, merged in 2025: 404 naming where it went */
    char *old =
        sql_str("SELECT old_code || ' ' || new_code FROM unit_successors WHERE level ="
                " 'province' AND old_code <> new_code AND kind = 'full' ORDER BY 1 LIMIT 1");
    char oc[8] = "", nc[8] = "";
    if (old && sscanf(old, "%7s %7s", oc, nc) == 2) {
        char path[64];
        snprintf(path, sizeof path, "/v1/maps/%s.png", oc);
        problem(__LINE__, path, NULL, 404, nc);
    }
    free(old);
}

/* The row cap: a server allowed 1 row refuses a larger export clearly. */
TEST(maps_export, row_cap)
{
    CHECK_INT(t_server_stop(), 0);
    CHECK(t_server_start("--export-max-rows 1") != NULL);
    problem(__LINE__, "/v1/export/points.csv?unit=15", tok_min, 400, "LOMSONG_EXPORT_MAX_ROWS");
    problem(__LINE__, "/v1/export/units.gpkg", NULL, 400, "more than 1 units");
    CHECK_INT(get_file(__LINE__, "/v1/export/units.csv?province=15", NULL, NULL, 200), 200);
}

TEST(maps_export, teardown)
{
    CHECK_INT(t_server_stop(), 0);
    free(tok_min);
    free(tok_l15);
    free(tok_l01);
    free(tok_vt);
    free(tok_pub);
}
