/*
 * test_geo_crs.c — CRS names and transformations to WGS 84.  Pure C, no
 * database.  Transformations are compared with PROJ's own cs2cs command, so
 * that "right" means what PROJ's EPSG database says, not numbers copied into
 * this file; the central meridians of the TM-3 zones are read back from PROJ
 * for the same reason.
 */
#include <math.h>
#include <proj.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "../geo/crs.h"

/* One centimetre: the tolerance against cs2cs. */
#define CM 0.01

/* Ground distance in metres between two nearby lon/lat points; a local
 * approximation that is far better than a centimetre over such gaps. */
static double metres(double lon1, double lat1, double lon2, double lat2)
{
    double k = 111320.0;
    double dx = (lon1 - lon2) * k * cos(lat1 * M_PI / 180.0);
    double dy = (lat1 - lat2) * k;
    return sqrt(dx * dx + dy * dy);
}

/* Runs `cs2cs -d 9 SRC EPSG:4326` on n points and returns how many lines it
 * gave back as lon/lat.  cs2cs follows the official axis order on both
 * sides: `src_lat_first` says the source wants (lat, lon), and EPSG:4326's
 * output is (lat, lon) too. */
static size_t cs2cs(const char *src, int src_lat_first, const double *x, const double *y, size_t n,
                    double *lon, double *lat)
{
    char cmd[4096];
    size_t at, got = 0;
    FILE *p;

    at = (size_t)snprintf(cmd, sizeof(cmd), "cs2cs -d 9 %s EPSG:4326 <<'EOF'\n", src);
    for (size_t i = 0; i < n && at < sizeof(cmd); i++)
        at += (size_t)snprintf(cmd + at, sizeof(cmd) - at, "%.10f %.10f\n",
                               src_lat_first ? y[i] : x[i], src_lat_first ? x[i] : y[i]);
    if (at >= sizeof(cmd) - 8)
        return 0;
    snprintf(cmd + at, sizeof(cmd) - at, "EOF\n");
    p = popen(cmd, "r");
    if (!p)
        return 0;
    while (got < n && fscanf(p, "%lf %lf %*f", &lat[got], &lon[got]) == 2)
        got++;
    pclose(p);
    return got;
}

/* Transforms the points with geo_crs and with cs2cs and returns the largest
 * gap in metres (HUGE_VAL when something failed, which fails the caller). */
static double max_gap_vs_cs2cs(const char *def, int src_lat_first, const double *x, const double *y,
                               size_t n)
{
    char err[512];
    geo_crs *c = NULL;
    double ox[16], oy[16], lon[16], lat[16], worst = 0.0;

    if (n > 16)
        return HUGE_VAL;
    CHECK_INT(geo_crs_open(def, &c, err, sizeof(err)), LS_OK);
    if (!c)
        return HUGE_VAL;
    memcpy(ox, x, n * sizeof(*x));
    memcpy(oy, y, n * sizeof(*y));
    CHECK_INT(geo_crs_to_wgs84(c, ox, oy, n), LS_OK);
    geo_crs_free(c);
    CHECK_INT(cs2cs(def, src_lat_first, x, y, n, lon, lat), n);
    for (size_t i = 0; i < n; i++) {
        /* sanity: every test point is in Vietnam */
        CHECK(ox[i] > 102.0 && ox[i] < 110.0 && oy[i] > 8.0 && oy[i] < 23.5);
        double d = metres(ox[i], oy[i], lon[i], lat[i]);
        if (!(d <= worst)) /* NAN counts as worst */
            worst = isnan(d) ? HUGE_VAL : d;
    }
    return worst;
}

/* ---------------------------------------------------------------- resolve */

static void check_resolves(const char *text, const char *want)
{
    char out[256], err[1024];
    ls_status st = geo_crs_resolve(text, out, sizeof(out), err, sizeof(err));
    if (st != LS_OK)
        t_fail(__FILE__, __LINE__, "resolve \"%s\": status %d: %s", text, (int)st, err);
    else if (strcmp(out, want) != 0)
        t_fail(__FILE__, __LINE__, "resolve \"%s\": got \"%s\", want \"%s\"", text, out, want);
}

TEST(geo_crs, resolve_friendly_names)
{
    check_resolves("EPSG:3405", "EPSG:3405");
    check_resolves("epsg:3405", "EPSG:3405");
    check_resolves("3405", "EPSG:3405");
    check_resolves(" EPSG: 3406 ", "EPSG:3406");
    check_resolves("WGS84", "EPSG:4326");
    check_resolves("WGS 84", "EPSG:4326");
    check_resolves("wgs_84", "EPSG:4326");
    check_resolves("4326", "EPSG:4326");
    check_resolves("VN2000", "EPSG:4756");
    check_resolves("vn-2000", "EPSG:4756");
    check_resolves("VN2000-UTM48", "EPSG:3405");
    check_resolves("vn2000_utm_48n", "EPSG:3405");
    check_resolves("VN2000 UTM49", "EPSG:3406");

    /* every written form of one meridian */
    check_resolves("VN2000-TM3-105-45", "EPSG:9210");
    check_resolves("VN2000-TM3-105.75", "EPSG:9210");
    check_resolves("VN2000-TM3-10545", "EPSG:9210");
    check_resolves("VN2000 TM3 105°45'", "EPSG:9210");
    check_resolves("vn2000_tm3_105_45", "EPSG:9210");
    check_resolves("Vn-2000 Tm-3 105° 45′", "EPSG:9210");
    /* the zones whose code is not in the 9205..9218 run, and both ends */
    check_resolves("VN2000-TM3-102", "EPSG:5896");
    check_resolves("VN2000-TM3-103", "EPSG:9205");
    check_resolves("VN2000-TM3-104-00", "EPSG:9206");
    check_resolves("VN2000-TM3-105", "EPSG:5897");
    check_resolves("VN2000-TM3-107-45", "EPSG:5899");
    check_resolves("VN2000-TM3-108", "EPSG:5898");
    check_resolves("VN2000-TM3-108.5", "EPSG:9218");
    check_resolves("VN2000-TM3-108°30'", "EPSG:9218");
}

/* Reads a projected CRS's central meridian, scale and false easting back
 * from PROJ, so that the zone table is checked against PROJ's database and
 * not against a copy of itself. */
static void tm3_params(const char *def, double *lon0, double *k, double *x0, int *deprecated,
                       char *name, size_t namelen)
{
    PJ_CONTEXT *ctx = proj_context_create();
    PJ *crs = proj_create(ctx, def);
    PJ *conv = crs ? proj_crs_get_coordoperation(ctx, crs) : NULL;
    static const char *const params[] = {"Longitude of natural origin",
                                         "Scale factor at natural origin", "False easting"};
    double *outs[] = {lon0, k, x0};

    *lon0 = *k = *x0 = NAN;
    *deprecated = crs ? proj_is_deprecated(crs) : -1;
    snprintf(name, namelen, "%s", crs ? proj_get_name(crs) : "(none)");
    for (size_t i = 0; conv && i < 3; i++) {
        int idx = proj_coordoperation_get_param_index(ctx, conv, params[i]);
        double v = NAN, conv_factor = 1.0;
        if (idx >= 0 && proj_coordoperation_get_param(ctx, conv, idx, NULL, NULL, NULL, &v, NULL,
                                                      &conv_factor, NULL, NULL, NULL, NULL))
            *outs[i] = i == 0 ? v * conv_factor * 180.0 / M_PI : v * conv_factor;
    }
    proj_destroy(conv);
    proj_destroy(crs);
    proj_context_destroy(ctx);
}

TEST(geo_crs, resolve_every_tm3_zone_matches_proj)
{
    /* the 18 provincial meridians, in minutes */
    static const int meridians[] = {
        102 * 60,      103 * 60,      104 * 60,      104 * 60 + 30, 104 * 60 + 45, 105 * 60,
        105 * 60 + 30, 105 * 60 + 45, 106 * 60,      106 * 60 + 15, 106 * 60 + 30, 107 * 60,
        107 * 60 + 15, 107 * 60 + 30, 107 * 60 + 45, 108 * 60,      108 * 60 + 15, 108 * 60 + 30};
    char seen[LS_ARRAY_LEN(meridians)][64];

    for (size_t i = 0; i < LS_ARRAY_LEN(meridians); i++) {
        int d = meridians[i] / 60, m = meridians[i] % 60;
        char dm[64], dec[64], out[64], out2[64], err[1024], name[128];
        double lon0, k, x0;
        int deprecated;

        snprintf(dm, sizeof(dm), "VN2000-TM3-%d-%02d", d, m);
        snprintf(dec, sizeof(dec), "vn2000 tm3 %.2f", meridians[i] / 60.0);
        CHECK_INT(geo_crs_resolve(dm, out, sizeof(out), err, sizeof(err)), LS_OK);
        CHECK_INT(geo_crs_resolve(dec, out2, sizeof(out2), err, sizeof(err)), LS_OK);
        CHECK_STR(out2, out);
        CHECK(strncmp(out, "EPSG:", 5) == 0);
        tm3_params(out, &lon0, &k, &x0, &deprecated, name, sizeof(name));
        if (fabs(lon0 - meridians[i] / 60.0) > 1e-9)
            t_fail(__FILE__, __LINE__, "%s -> %s has lon_0 %.6f", dm, out, lon0);
        CHECK(fabs(k - 0.9999) < 1e-12);
        CHECK(fabs(x0 - 500000.0) < 1e-6);
        CHECK_INT(deprecated, 0);
        CHECK_CONTAINS(name, "VN-2000 / TM-3");
        /* 18 meridians, 18 different codes */
        snprintf(seen[i], sizeof(seen[i]), "%s", out);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(seen[j], out) != 0);
    }
}

TEST(geo_crs, resolve_rejects_with_the_accepted_names)
{
    char out[256], err[2048];

    CHECK_INT(geo_crs_resolve("not a crs", out, sizeof(out), err, sizeof(err)), LS_EINVAL);
    CHECK_CONTAINS(err, "not a crs");
    CHECK_CONTAINS(err, "VN2000-UTM48");
    CHECK_CONTAINS(err, "VN2000-TM3-");
    CHECK_CONTAINS(err, "105-45");
    CHECK_CONTAINS(err, "108-30");
    CHECK_CONTAINS(err, "EPSG:<code>");
    CHECK_CONTAINS(err, "PROJ");
    CHECK_STR(out, "");

    /* a meridian with no zone, and a decimal that is not the minutes */
    CHECK_INT(geo_crs_resolve("VN2000-TM3-105-15", out, sizeof(out), err, sizeof(err)), LS_EINVAL);
    CHECK_CONTAINS(err, "105°15'");
    CHECK_CONTAINS(err, "107-45");
    CHECK_INT(geo_crs_resolve("VN2000-TM3-105.45", out, sizeof(out), err, sizeof(err)), LS_EINVAL);
    CHECK_CONTAINS(err, "105°27'");
    CHECK_INT(geo_crs_resolve("VN2000-TM3-", out, sizeof(out), err, sizeof(err)), LS_EINVAL);
    CHECK_INT(geo_crs_resolve("VN2000-TM3-1054", out, sizeof(out), err, sizeof(err)), LS_EINVAL);
    CHECK_INT(geo_crs_resolve("VN2000-TM3-105-75", out, sizeof(out), err, sizeof(err)), LS_EINVAL);
    CHECK_INT(geo_crs_resolve("VN2000-UTM50", out, sizeof(out), err, sizeof(err)), LS_EINVAL);
    CHECK_CONTAINS(err, "VN2000-UTM49");

    CHECK_INT(geo_crs_resolve("EPSG:99999", out, sizeof(out), err, sizeof(err)), LS_EINVAL);
    CHECK_CONTAINS(err, "EPSG:99999");
    CHECK_INT(geo_crs_resolve("99999", out, sizeof(out), err, sizeof(err)), LS_EINVAL);
    CHECK_INT(geo_crs_resolve("", out, sizeof(out), err, sizeof(err)), LS_EINVAL);
    CHECK_CONTAINS(err, "VN2000");
    CHECK_INT(geo_crs_resolve("  ", out, sizeof(out), err, sizeof(err)), LS_EINVAL);
    CHECK_INT(geo_crs_resolve(NULL, out, sizeof(out), err, sizeof(err)), LS_EINVAL);
    /* an operation is not a CRS */
    CHECK_INT(geo_crs_resolve("+proj=pipeline +step +proj=axisswap +order=2,1", out, sizeof(out),
                              err, sizeof(err)),
              LS_EINVAL);
    CHECK_CONTAINS(err, "not a coordinate reference system");
    /* a long junk definition is echoed only in part */
    char junk[3000];
    memset(junk, 'x', sizeof(junk) - 1);
    junk[sizeof(junk) - 1] = '\0';
    CHECK_INT(geo_crs_resolve(junk, out, sizeof(out), err, sizeof(err)), LS_EINVAL);
    CHECK(strlen(err) < 1500);
    /* NULL err is allowed */
    CHECK_INT(geo_crs_resolve("nonsense", out, sizeof(out), NULL, 0), LS_EINVAL);
}

TEST(geo_crs, resolve_passes_proj_definitions_through)
{
    char out[4096], small[16], err[1024];
    const char *utm = "+proj=utm +zone=48 +datum=WGS84 +units=m +no_defs";

    CHECK_INT(geo_crs_resolve(utm, out, sizeof(out), err, sizeof(err)), LS_OK);
    CHECK_STR(out, utm);
    CHECK_INT(geo_crs_resolve("ESRI:102100", out, sizeof(out), err, sizeof(err)), LS_OK);
    CHECK_STR(out, "ESRI:102100");

    /* WKT from PROJ itself comes back unchanged */
    PJ_CONTEXT *ctx = proj_context_create();
    PJ *crs = proj_create(ctx, "EPSG:9210");
    const char *wkt = crs ? proj_as_wkt(ctx, crs, PJ_WKT2_2019, NULL) : NULL;
    CHECK(wkt != NULL);
    if (wkt) {
        CHECK_INT(geo_crs_resolve(wkt, out, sizeof(out), err, sizeof(err)), LS_OK);
        CHECK_STR(out, wkt);
        /* and one that does not fit the caller's buffer says so */
        CHECK_INT(geo_crs_resolve(wkt, small, sizeof(small), err, sizeof(err)), LS_ETOOBIG);
        CHECK_CONTAINS(err, "too long");
    }
    proj_destroy(crs);
    proj_context_destroy(ctx);
}

/* ------------------------------------------------------------------- open */

TEST(geo_crs, open_names_types_and_errors)
{
    char err[1024];
    geo_crs *c = NULL;

    CHECK_INT(geo_crs_open("EPSG:3405", &c, err, sizeof(err)), LS_OK);
    CHECK_STR(geo_crs_name(c), "VN-2000 / UTM zone 48N");
    CHECK_INT(geo_crs_is_geographic(c), 0);
    geo_crs_free(c);

    CHECK_INT(geo_crs_open("EPSG:4756", &c, err, sizeof(err)), LS_OK);
    CHECK_STR(geo_crs_name(c), "VN-2000");
    CHECK_INT(geo_crs_is_geographic(c), 1);
    geo_crs_free(c);

    /* +towgs84 makes a bound CRS; still geographic underneath */
    CHECK_INT(geo_crs_open("+proj=longlat +ellps=WGS84 +towgs84=0,0,0", &c, err, sizeof(err)),
              LS_OK);
    CHECK_INT(geo_crs_is_geographic(c), 1);
    geo_crs_free(c);

    c = (geo_crs *)1;
    CHECK_INT(geo_crs_open("EPSG:99999", &c, err, sizeof(err)), LS_EINVAL);
    CHECK(c == NULL);
    CHECK_CONTAINS(err, "EPSG:99999");
    CHECK_CONTAINS(err, "PROJ");
    CHECK_INT(geo_crs_open("+proj=nonsense +ellps=WGS84", &c, err, sizeof(err)), LS_EINVAL);
    CHECK_CONTAINS(err, "+proj=nonsense");
    CHECK_CONTAINS(err, "PROJ error");
    CHECK_INT(geo_crs_open("GEOGCRS[\"broken\"", &c, err, sizeof(err)), LS_EINVAL);
    CHECK_CONTAINS(err, "PROJ");
    CHECK_INT(geo_crs_open("", &c, err, sizeof(err)), LS_EINVAL);
    CHECK_INT(geo_crs_open(NULL, &c, err, sizeof(err)), LS_EINVAL);
    CHECK(c == NULL);

    geo_crs_free(NULL);
    CHECK_INT(geo_crs_to_wgs84(NULL, NULL, NULL, 0), LS_OK);
    double x = 1, y = 1;
    CHECK_INT(geo_crs_to_wgs84(NULL, &x, &y, 1), LS_EINVAL);
}

/* ------------------------------------------------------- transformations */

TEST(geo_crs, vn2000_utm48_matches_cs2cs)
{
    /* Hà Giang, Hà Nội, Vinh, Cần Thơ and Cà Mau (the last two inside
     * the Mekong delta area of EPSG:5194, the others under EPSG:6960) */
    static const double e[] = {500000, 588000, 571600, 585600, 516000};
    static const double n[] = {2522000, 2326000, 2065000, 1109000, 1015000};
    double gap = max_gap_vs_cs2cs("EPSG:3405", 0, e, n, LS_ARRAY_LEN(e));
    if (!(gap < CM))
        t_fail(__FILE__, __LINE__, "EPSG:3405 differs from cs2cs by %.4f m", gap);
}

TEST(geo_crs, vn2000_utm49_matches_cs2cs)
{
    /* Nha Trang, Quy Nhơn, Đà Nẵng (east of 108° E) */
    static const double e[] = {282000, 252000, 201000};
    static const double n[] = {1355000, 1524000, 1777000};
    double gap = max_gap_vs_cs2cs("EPSG:3406", 0, e, n, LS_ARRAY_LEN(e));
    if (!(gap < CM))
        t_fail(__FILE__, __LINE__, "EPSG:3406 differs from cs2cs by %.4f m", gap);
}

TEST(geo_crs, vn2000_tm3_105_45_matches_cs2cs)
{
    /* Hà Nội area (the zone's province) and two Mekong delta points */
    static const double e[] = {500000, 520000, 480000, 503000, 470000};
    static const double n[] = {2330000, 2300000, 2360000, 1109000, 1050000};
    char def[64], err[256];
    CHECK_INT(geo_crs_resolve("VN2000-TM3-105-45", def, sizeof(def), err, sizeof(err)), LS_OK);
    CHECK_STR(def, "EPSG:9210");
    double gap = max_gap_vs_cs2cs(def, 0, e, n, LS_ARRAY_LEN(e));
    if (!(gap < CM))
        t_fail(__FILE__, __LINE__, "EPSG:9210 differs from cs2cs by %.4f m", gap);
}

TEST(geo_crs, vn2000_geographic_matches_cs2cs)
{
    /* lon, lat: Hà Nội, Lào Cai, Đà Nẵng, TP HCM, Cần Thơ, Phú Quốc; the
     * library takes them lon first although EPSG:4756 says lat first */
    static const double lon[] = {105.85, 103.97, 108.2, 106.7, 105.78, 103.96};
    static const double lat[] = {21.03, 22.48, 16.05, 10.78, 10.03, 10.22};
    double gap = max_gap_vs_cs2cs("EPSG:4756", 1, lon, lat, LS_ARRAY_LEN(lon));
    if (!(gap < CM))
        t_fail(__FILE__, __LINE__, "EPSG:4756 differs from cs2cs by %.4f m", gap);
}

TEST(geo_crs, proj_string_passes_and_wrong_towgs84_is_off)
{
    /* EPSG:6960 written as +towgs84 (position vector: rotations with the
     * signs projinfo prints) agrees onshore; the widely copied string with
     * the coordinate-frame signs is most of a metre off.  This is why the
     * module never writes +towgs84 itself. */
    static const char *right = "+proj=utm +zone=48 +ellps=WGS84 "
                               "+towgs84=-191.90441429,-39.30318279,-111.45032835,"
                               "0.00928836,-0.01975479,0.00427372,0.252906278 +units=m +no_defs";
    static const char *wrong = "+proj=utm +zone=48 +ellps=WGS84 "
                               "+towgs84=-191.90441429,-39.30318279,-111.45032835,"
                               "-0.00928836,0.01975479,-0.00427372,0.252906278 +units=m +no_defs";
    const char *defs[] = {"EPSG:3405", right, wrong};
    double x[3], y[3];
    char err[512];

    for (size_t i = 0; i < 3; i++) {
        geo_crs *c = NULL;
        x[i] = 588000; /* Hà Nội */
        y[i] = 2326000;
        CHECK_INT(geo_crs_open(defs[i], &c, err, sizeof(err)), LS_OK);
        CHECK_INT(geo_crs_to_wgs84(c, &x[i], &y[i], 1), LS_OK);
        geo_crs_free(c);
    }
    CHECK(metres(x[0], y[0], x[1], y[1]) < CM);
    double off = metres(x[0], y[0], x[2], y[2]);
    if (!(off > 0.3 && off < 3.0))
        t_fail(__FILE__, __LINE__, "wrong +towgs84 is %.3f m off, want about 0.8", off);
}

TEST(geo_crs, failed_points_become_nan)
{
    char err[256];
    geo_crs *c = NULL;
    double x[] = {588000, NAN, 588000, 1e30, 588000};
    double y[] = {2326000, 2326000, INFINITY, 1e30, 2326000};

    CHECK_INT(geo_crs_open("EPSG:3405", &c, err, sizeof(err)), LS_OK);
    CHECK_INT(geo_crs_to_wgs84(c, x, y, LS_ARRAY_LEN(x)), LS_OK);
    CHECK(fabs(x[0] - 105.85) < 0.05 && fabs(y[0] - 21.03) < 0.05);
    for (size_t i = 1; i < 4; i++)
        CHECK(isnan(x[i]) && isnan(y[i]));
    /* a failure does not spoil the points after it */
    CHECK(x[4] == x[0] && y[4] == y[0]);
    geo_crs_free(c);

    CHECK_INT(geo_crs_open("EPSG:4756", &c, err, sizeof(err)), LS_OK);
    double lon[] = {105.85, 105.85}, lat[] = {21.03, 95.0};
    CHECK_INT(geo_crs_to_wgs84(c, lon, lat, 2), LS_OK);
    CHECK(isfinite(lon[0]) && isfinite(lat[0]));
    CHECK(isnan(lon[1]) && isnan(lat[1]));
    geo_crs_free(c);
}

/* ------------------------------------------------------------------ swap */

TEST(geo_crs, detect_swap_utm_and_lonlat)
{
    char err[256];
    geo_crs *c = NULL;
    /* UTM 48N across Vietnam, north to south */
    double e[] = {500000, 588000, 571600, 700000, 585600, 516000, 650000, 610000};
    double n[] = {2522000, 2326000, 2065000, 1800000, 1109000, 1015000, 1200000, 1300000};
    size_t k = LS_ARRAY_LEN(e);

    CHECK_INT(geo_crs_open("EPSG:3405", &c, err, sizeof(err)), LS_OK);
    CHECK_INT(geo_crs_detect_swap(c, e, n, k), 0);
    CHECK_INT(geo_crs_detect_swap(c, n, e, k), 1); /* northing labelled X */
    /* far from Vietnam either way: zone 48 at 45° N */
    double fe[] = {400000, 500000, 600000}, fn[] = {5000000, 5100000, 4900000};
    CHECK_INT(geo_crs_detect_swap(c, fe, fn, 3), 0);
    CHECK_INT(geo_crs_detect_swap(c, fn, fe, 3), 0);
    /* half each way: not clear, leave it */
    double he[] = {588000, 571600, 2326000, 2065000}, hn[] = {2326000, 2065000, 588000, 571600};
    CHECK_INT(geo_crs_detect_swap(c, he, hn, 4), 0);
    /* missing values are skipped, not counted */
    double ne[] = {NAN, 2326000, 2065000, NAN}, nn[] = {1, 588000, 571600, NAN};
    CHECK_INT(geo_crs_detect_swap(c, ne, nn, 4), 1);
    CHECK_INT(geo_crs_detect_swap(c, ne, nn, 0), 0);
    geo_crs_free(c);

    CHECK_INT(geo_crs_open("EPSG:4326", &c, err, sizeof(err)), LS_OK);
    double lon[] = {105.85, 106.7, 108.2, 103.97}, lat[] = {21.03, 10.78, 16.05, 22.48};
    CHECK_INT(geo_crs_detect_swap(c, lon, lat, 4), 0);
    CHECK_INT(geo_crs_detect_swap(c, lat, lon, 4), 1);
    double plon[] = {2.35, 13.4, -0.12}, plat[] = {48.85, 52.52, 51.5}; /* Europe */
    CHECK_INT(geo_crs_detect_swap(c, plon, plat, 3), 0);
    CHECK_INT(geo_crs_detect_swap(c, plat, plon, 3), 0);
    geo_crs_free(c);
}

TEST(geo_crs, detect_swap_samples_large_files)
{
    enum { N = 20000 };
    char err[256];
    geo_crs *c = NULL;
    double *x = malloc(N * sizeof(*x)), *y = malloc(N * sizeof(*y));

    CHECK(x && y);
    if (!x || !y)
        goto out;
    /* VN-2000 geographic, lat written first; a few junk rows at the end */
    for (size_t i = 0; i < N; i++) {
        x[i] = 9.0 + 13.0 * (double)i / N;
        y[i] = 103.0 + 5.0 * (double)(i % 97) / 97.0;
    }
    for (size_t i = N - 50; i < N; i++)
        x[i] = y[i] = 0.0;
    CHECK_INT(geo_crs_open("EPSG:4756", &c, err, sizeof(err)), LS_OK);
    CHECK_INT(geo_crs_detect_swap(c, x, y, N), 1);
    CHECK_INT(geo_crs_detect_swap(c, y, x, N), 0);
out:
    geo_crs_free(c);
    free(x);
    free(y);
}

TEST(geo_crs, looks_projected)
{
    double lon[] = {105.85, -179.9, 180.0}, lat[] = {21.03, -89.9, 90.0};
    CHECK_INT(geo_crs_looks_projected(lon, lat, 3), 0);
    double e[] = {105.85, 588000}, n[] = {21.03, 2326000};
    CHECK_INT(geo_crs_looks_projected(e, n, 2), 1);
    double bx[] = {105.0}, by[] = {-90.5};
    CHECK_INT(geo_crs_looks_projected(bx, by, 1), 1);
    double cx[] = {180.01}, cy[] = {0};
    CHECK_INT(geo_crs_looks_projected(cx, cy, 1), 1);
    /* a missing value is not evidence either way */
    double nx[] = {NAN, INFINITY}, ny[] = {NAN, 0};
    CHECK_INT(geo_crs_looks_projected(nx, ny, 2), 0);
    CHECK_INT(geo_crs_looks_projected(e, n, 0), 0);
}
