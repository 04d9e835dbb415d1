/*
 * test_geo_units.c — administrative units, successors and carriers (see
 * geo/units.h), against the reference data `make test` has loaded: the
 * 2024 and 2025 provinces, the 2025 merges, the 3,321 communes and the
 * carriers.  Tests that write put the database back as they found it: the
 * reference files are reloaded (idempotent) and scratch versions use days
 * long before 2008 that nothing else reads.
 */
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "../geo/units.h"

/* The first column of the first row as a number; -1 when the query fails. */
static long sql_long(PGconn *c, const char *sql)
{
    char *v = t_sql(c, sql);
    long n = v ? strtol(v, NULL, 10) : -1;
    free(v);
    return n;
}

/* Writes `content` to NAME in the scratch directory; the path goes to out. */
static const char *write_tmp(const char *name, const char *content, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", t_tmpdir(), name);
    FILE *f = fopen(out, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(content, f);
        fclose(f);
    }
    return out;
}

/* A copy of t_shared(name): its buffer is static. */
static const char *shared(const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s", t_shared(name));
    return out;
}

static int starts_with(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

#define CURRENT_PROVINCES                                                                          \
    "SELECT count(*) FROM admin_units WHERE level = 'province' AND valid_to IS NULL"
#define ALL_PROVINCES "SELECT count(*) FROM admin_units WHERE level = 'province'"

/* A square province polygon (lon/lat) as a GeoJSON feature. */
#define SQUARE_FEATURE(props, x0, y0, x1, y1)                                                      \
    "{\"type\":\"Feature\",\"properties\":" props ",\"geometry\":{\"type\":\"Polygon\","           \
    "\"coordinates\":[[[" #x0 "," #y0 "],[" #x1 "," #y0 "],[" #x1 "," #y1 "],[" #x0 "," #y1        \
    "],[" #x0 "," #y0 "]]]}}"

/* ----------------------------------------------------- reference data */

TEST(geo_units, reference_counts)
{
    PGconn *c = t_connect(t_admin_db());
    if (!c)
        return;
    CHECK_INT(sql_long(c, CURRENT_PROVINCES), 34);
    CHECK_INT(sql_long(c, "SELECT count(*) FROM admin_units WHERE level = 'province' "
                          "AND valid_from = '2008-08-01' AND valid_to = '2025-07-01'"),
              63);
    CHECK_INT(sql_long(c, ALL_PROVINCES), 97);
    CHECK_INT(sql_long(c, "SELECT count(*) FROM admin_units WHERE level = 'commune' "
                          "AND valid_from = '2025-07-01' AND valid_to IS NULL"),
              3321);
    CHECK_INT(sql_long(c, "SELECT count(*) FROM carriers"), 7);
    CHECK_INT(sql_long(c, "SELECT count(*) FROM unit_successors WHERE level = 'province' "
                          "AND effective = '2025-07-01'"),
              63);
    /* Codes keep their leading zeros: GDAL's CSV driver reads strings. */
    CHECK_INT(sql_long(c, "SELECT count(*) FROM admin_units WHERE level = 'commune' "
                          "AND code = '00004' AND province_code = '01'"),
              1);
    CHECK_INT(sql_long(c, "SELECT count(*) FROM admin_units WHERE level = 'province' "
                          "AND code !~ '^[0-9]{2}$'"),
              0);
    /* Each load records the file it came from, by base name. */
    char *from = t_sql(c, "SELECT loaded_from FROM admin_units WHERE level = 'province' "
                          "AND code = '01' AND valid_to IS NULL");
    CHECK_STR(from, "vn_provinces_2025.geojson");
    free(from);
    from = t_sql(c, "SELECT loaded_from FROM admin_units WHERE level = 'commune' LIMIT 1");
    CHECK_STR(from, "vn_communes_2025.csv");
    free(from);
    char *name = t_sql(c, "SELECT name FROM admin_units WHERE level = 'province' AND code = '02' "
                          "AND valid_to = '2025-07-01'");
    CHECK_STR(name, "Tỉnh Hà Giang");
    free(name);
    PQfinish(c);
}

TEST(geo_units, geometries_valid_multipolygons)
{
    PGconn *c = t_connect(t_admin_db());
    if (!c)
        return;
    CHECK_INT(sql_long(c, "SELECT count(*) FROM admin_units WHERE level = 'province' AND ("
                          "geom IS NULL OR geom_simple IS NULL "
                          "OR GeometryType(geom) <> 'MULTIPOLYGON' "
                          "OR GeometryType(geom_simple) <> 'MULTIPOLYGON' "
                          "OR ST_SRID(geom) <> 4326 OR NOT ST_IsValid(geom) "
                          "OR NOT ST_IsValid(geom_simple) OR ST_IsEmpty(geom))"),
              0);
    /* The generalised copy is lighter, yet close to the original. */
    char *lighter = t_sql(c, "SELECT sum(ST_NPoints(geom_simple)) < sum(ST_NPoints(geom)) "
                             "FROM admin_units WHERE level = 'province'");
    CHECK_STR(lighter, "t");
    free(lighter);
    char *close = t_sql(c, "SELECT bool_and(abs(ST_Area(geom_simple) / ST_Area(geom) - 1) < 0.05) "
                           "FROM admin_units WHERE level = 'province'");
    CHECK_STR(close, "t");
    free(close);
    /* Lon/lat order: Hà Nội lies around x = 105.8, y = 21. */
    char *x = t_sql(c, "SELECT round(ST_X(ST_Centroid(geom))::numeric) FROM admin_units "
                       "WHERE level = 'province' AND code = '01' AND valid_to IS NULL");
    CHECK_STR(x, "106");
    free(x);
    PQfinish(c);
}

TEST(geo_units, commune_successor_kinds)
{
    PGconn *c = t_connect(t_admin_db());
    if (!c)
        return;
    /* 00016 went into both Ba Đình (00004) and Ngọc Hà (00008). */
    char *k = t_sql(c, "SELECT kind FROM unit_successors WHERE level = 'commune' "
                       "AND old_code = '00016' AND new_code = '00004'");
    CHECK_STR(k, "partial");
    free(k);
    k = t_sql(c, "SELECT kind FROM unit_successors WHERE level = 'commune' "
                 "AND old_code = '00013' AND new_code = '00004'");
    CHECK_STR(k, "full");
    free(k);
    /* A commune that keeps its own code is its own successor. */
    k = t_sql(c, "SELECT kind FROM unit_successors WHERE level = 'commune' "
                 "AND old_code = '00004' AND new_code = '00004'");
    CHECK_STR(k, "full");
    free(k);
    /* Island districts without communes became special zones. */
    k = t_sql(c, "SELECT new_code FROM unit_successors WHERE level = 'commune' "
                 "AND old_code = '318'");
    CHECK_STR(k, "11948");
    free(k);
    /* full <=> exactly one successor, for every old commune. */
    CHECK_INT(sql_long(c, "SELECT count(*) FROM (SELECT old_code FROM unit_successors "
                          "WHERE level = 'commune' GROUP BY old_code "
                          "HAVING (count(*) = 1) <> bool_and(kind = 'full')) s"),
              0);
    CHECK(sql_long(c, "SELECT count(*) FROM unit_successors WHERE level = 'commune'") > 3321);
    PQfinish(c);
}

/* ----------------------------------------------------------- queries */

TEST(geo_units, locate_hanoi_cli)
{
    char *out = NULL, *err = NULL;
    int rc = t_run("units locate 21.0285 105.8542", NULL, &out, &err);
    CHECK_INT(rc, 0);
    CHECK(starts_with(out, "01 "));
    CHECK_CONTAINS(out, "Hà Nội");
    free(out);
    free(err);
}

TEST(geo_units, locate_follows_dates)
{
    char *out = NULL;
    /* Hà Giang town: its own province until the merger, Tuyên Quang since. */
    CHECK_INT(t_run("units locate 22.8233 104.9836 --at 2024-01-01", NULL, &out, NULL), 0);
    CHECK(starts_with(out, "02 "));
    CHECK_CONTAINS(out, "Hà Giang");
    free(out);
    out = NULL;
    CHECK_INT(t_run("units locate 22.8233 104.9836 --at 2025-08-01", NULL, &out, NULL), 0);
    CHECK(starts_with(out, "08 "));
    free(out);
    out = NULL;
    CHECK_INT(t_run("units locate 10.7769 106.7009", NULL, &out, NULL), 0);
    CHECK(starts_with(out, "79 "));
    free(out);
}

TEST(geo_units, locate_outside_every_province)
{
    char *out = NULL, *err = NULL;
    int rc = t_run("units locate 10 120", NULL, &out, &err);
    CHECK_INT(rc, 1);
    CHECK_CONTAINS(err, "not in any province");
    CHECK(out && *out == '\0');
    free(out);
    free(err);
}

TEST(geo_units, locate_bad_arguments)
{
    char *err = NULL;
    CHECK_INT(t_run("units locate 95 105", NULL, NULL, &err), 2);
    CHECK_CONTAINS(err, "latitude");
    free(err);
    err = NULL;
    CHECK_INT(t_run("units locate 21 181", NULL, NULL, &err), 2);
    CHECK_CONTAINS(err, "longitude");
    free(err);
    err = NULL;
    CHECK_INT(t_run("units locate 21x 105", NULL, NULL, &err), 2);
    free(err);
    err = NULL;
    CHECK_INT(t_run("units locate 21 105 --at 2025-02-30", NULL, NULL, &err), 2);
    CHECK_CONTAINS(err, "--at");
    free(err);
}

TEST(geo_units, current_cli)
{
    char *out = NULL, *err = NULL;
    CHECK_INT(t_run("units current 02", NULL, &out, &err), 0);
    CHECK(starts_with(out, "08 "));
    CHECK_CONTAINS(out, "Tuyên Quang");
    free(out);
    free(err);
    out = err = NULL;
    CHECK_INT(t_run("units current 01", NULL, &out, NULL), 0);
    CHECK(starts_with(out, "01 "));
    free(out);
    out = NULL;
    CHECK_INT(t_run("units current 99", NULL, &out, &err), 1);
    CHECK_CONTAINS(err, "99");
    free(out);
    free(err);
    err = NULL;
    CHECK_INT(t_run("units current Hanoi", NULL, NULL, &err), 2);
    free(err);
}

TEST(geo_units, api_locate_and_current)
{
    PGconn *c = t_connect(t_admin_db());
    if (!c)
        return;
    char code[16];
    CHECK_INT(geo_units_locate(c, 21.0285, 105.8542, NULL, code, sizeof(code)), LS_OK);
    CHECK_STR(code, "01");
    CHECK_INT(geo_units_locate(c, 22.8233, 104.9836, "2024-06-30", code, sizeof(code)), LS_OK);
    CHECK_STR(code, "02");
    CHECK_INT(geo_units_locate(c, 10, 120, NULL, code, sizeof(code)), LS_ENOTFOUND);
    CHECK_INT(geo_units_locate(c, 91, 105, NULL, code, sizeof(code)), LS_EINVAL);
    CHECK_INT(geo_units_locate(c, 21, -180.5, NULL, code, sizeof(code)), LS_EINVAL);
    CHECK_INT(geo_units_locate(c, NAN, 105, NULL, code, sizeof(code)), LS_EINVAL);
    CHECK_INT(geo_units_locate(c, 21, 105, "yesterday", code, sizeof(code)), LS_EINVAL);
    CHECK_INT(geo_units_current(c, "02", code, sizeof(code)), LS_OK);
    CHECK_STR(code, "08");
    CHECK_INT(geo_units_current(c, "79", code, sizeof(code)), LS_OK);
    CHECK_STR(code, "79");
    CHECK_INT(geo_units_current(c, "99", code, sizeof(code)), LS_ENOTFOUND);
    CHECK_INT(geo_units_current(c, "0'; --", code, sizeof(code)), LS_EINVAL);
    PQfinish(c);
}

/* ------------------------------------------------------------ loading */

TEST(geo_units, reload_provinces_is_idempotent)
{
    PGconn *c = t_connect(t_admin_db());
    if (!c)
        return;
    char path[4096], args[4400];
    snprintf(args, sizeof(args), "units load '%s' --level province --valid-from 2025-07-01",
             shared("vn_provinces_2025.geojson", path, sizeof(path)));
    PQclear(PQexec(c, "DELETE FROM area_grids"));
    char *out = NULL, *err = NULL;
    CHECK_INT(t_run(args, NULL, &out, &err), 0);
    CHECK_CONTAINS(out, "loaded 34 province units from vn_provinces_2025.geojson "
                        "(valid 2025-07-01 ..)");
    free(out);
    free(err);
    /* the ingest's grid of the provinces is stored with them (geo/area.h) */
    CHECK_INT(sql_long(c, "SELECT count(*) FROM area_grids WHERE version = area_version()"), 1);
    CHECK_INT(sql_long(c, "SELECT count(*) FROM area_grids"), 1);
    CHECK_INT(sql_long(c, CURRENT_PROVINCES), 34);
    CHECK_INT(sql_long(c, "SELECT count(DISTINCT code) FROM admin_units "
                          "WHERE level = 'province' AND valid_to IS NULL"),
              34);
    CHECK_INT(sql_long(c, ALL_PROVINCES), 97);
    char code[16];
    CHECK_INT(geo_units_locate(c, 21.0285, 105.8542, NULL, code, sizeof(code)), LS_OK);
    CHECK_STR(code, "01");
    PQfinish(c);
}

TEST(geo_units, reload_merges_communes_carriers_is_idempotent)
{
    PGconn *c = t_connect(t_admin_db());
    if (!c)
        return;
    long successors = sql_long(c, "SELECT count(*) FROM unit_successors WHERE level = 'commune'");
    char path[4096], args[4400];
    char *out = NULL;

    snprintf(args, sizeof(args), "units load-merges '%s' --effective 2025-07-01",
             shared("vn_province_merges_2025.csv", path, sizeof(path)));
    CHECK_INT(t_run(args, NULL, &out, NULL), 0);
    CHECK_CONTAINS(out, "loaded 63 ");
    free(out);
    out = NULL;
    CHECK_INT(sql_long(c, "SELECT count(*) FROM unit_successors WHERE level = 'province'"), 63);

    snprintf(args, sizeof(args), "units load-communes '%s' --valid-from 2025-07-01",
             shared("vn_communes_2025.csv", path, sizeof(path)));
    CHECK_INT(t_run(args, NULL, &out, NULL), 0);
    CHECK_CONTAINS(out, "loaded 3321 communes");
    free(out);
    out = NULL;
    CHECK_INT(sql_long(c, "SELECT count(*) FROM admin_units WHERE level = 'commune'"), 3321);
    CHECK_INT(sql_long(c, "SELECT count(*) FROM unit_successors WHERE level = 'commune'"),
              successors);

    snprintf(args, sizeof(args), "carriers load '%s'",
             shared("vn_carriers.csv", path, sizeof(path)));
    CHECK_INT(t_run(args, NULL, &out, NULL), 0);
    CHECK_CONTAINS(out, "loaded 7 carriers");
    free(out);
    CHECK_INT(sql_long(c, "SELECT count(*) FROM carriers"), 7);
    char *m = t_sql(c, "SELECT array_to_string(mcc_mnc, ' ') FROM carriers WHERE code = 'viettel'");
    CHECK_STR(m, "452-04");
    free(m);
    PQfinish(c);
}

TEST(geo_units, carriers_bad_mcc_mnc_writes_nothing)
{
    PGconn *c = t_connect(t_admin_db());
    if (!c)
        return;
    char path[4096], args[4400];
    /* A good new row first: it must not survive the bad one. */
    write_tmp("carriers_bad.csv",
              "code,name,mcc_mnc,kind\n"
              "newco,New Co,452-10,mno\n"
              "viettel,Viettel Renamed,452-4,mno\n",
              path, sizeof(path));
    snprintf(args, sizeof(args), "carriers load '%s'", path);
    char *out = NULL, *err = NULL;
    int rc = t_run(args, NULL, &out, &err);
    CHECK(rc != 0);
    CHECK_CONTAINS(err, "mcc_mnc");
    CHECK_CONTAINS(err, "452-4");
    CHECK_CONTAINS(err, "line 3");
    free(out);
    free(err);
    CHECK_INT(sql_long(c, "SELECT count(*) FROM carriers"), 7);
    CHECK_INT(sql_long(c, "SELECT count(*) FROM carriers WHERE code = 'newco'"), 0);
    char *name = t_sql(c, "SELECT name FROM carriers WHERE code = 'viettel'");
    CHECK_STR(name, "Viettel");
    free(name);
    PQfinish(c);
}

TEST(geo_units, carriers_upsert_lists_and_case)
{
    PGconn *c = t_connect(t_admin_db());
    if (!c)
        return;
    char path[4096], args[4400];
    write_tmp("carriers_new.csv",
              "code,name,mcc_mnc,kind\n"
              "ZZ_Test,Test Carrier,452-98; 452-099 452-98,MVNO\n",
              path, sizeof(path));
    snprintf(args, sizeof(args), "carriers load '%s'", path);
    char *out = NULL;
    CHECK_INT(t_run(args, NULL, &out, NULL), 0);
    CHECK_CONTAINS(out, "loaded 1 carriers");
    free(out);
    char *v = t_sql(c, "SELECT name || '|' || array_to_string(mcc_mnc, ',') || '|' || kind "
                       "FROM carriers WHERE code = 'zz_test'");
    CHECK_STR(v, "Test Carrier|452-98,452-099|mvno");
    free(v);
    /* The other carriers are kept: an upsert, not a replacement. */
    CHECK_INT(sql_long(c, "SELECT count(*) FROM carriers"), 8);
    v = t_sql(c, "DELETE FROM carriers WHERE code = 'zz_test' RETURNING code");
    CHECK_STR(v, "zz_test");
    free(v);

    write_tmp("carriers_badcode.csv", "code,name,mcc_mnc,kind\nx,One Letter,452-01,mno\n", path,
              sizeof(path));
    snprintf(args, sizeof(args), "carriers load '%s'", path);
    char *err = NULL;
    CHECK(t_run(args, NULL, NULL, &err) != 0);
    CHECK_CONTAINS(err, "'code'");
    free(err);
    CHECK_INT(sql_long(c, "SELECT count(*) FROM carriers"), 7);
    PQfinish(c);
}

TEST(geo_units, geojson_feature_without_code_writes_nothing)
{
    PGconn *c = t_connect(t_admin_db());
    if (!c)
        return;
    char path[4096], args[4400];
    write_tmp("nocode.geojson",
              "{\"type\":\"FeatureCollection\",\"features\":[" SQUARE_FEATURE(
                  "{\"code\":\"01\",\"name\":\"A\"}", 105, 21, 106,
                  22) "," SQUARE_FEATURE("{\"name\":\"B\"}", 105, 20, 106, 21) "]}",
              path, sizeof(path));
    /* Days nobody else uses: without the check the first feature would be
     * written. */
    snprintf(args, sizeof(args),
             "units load '%s' --level province --valid-from 1990-01-01 --valid-to 2000-01-01",
             path);
    char *out = NULL, *err = NULL;
    int rc = t_run(args, NULL, &out, &err);
    CHECK(rc != 0);
    CHECK_CONTAINS(err, "feature 2");
    CHECK_CONTAINS(err, "'code'");
    free(out);
    free(err);
    CHECK_INT(sql_long(c, "SELECT count(*) FROM admin_units WHERE valid_from = '1990-01-01'"), 0);
    CHECK_INT(sql_long(c, ALL_PROVINCES), 97);
    PQfinish(c);
}

TEST(geo_units, geojson_bad_geometry_and_codes)
{
    PGconn *c = t_connect(t_admin_db());
    if (!c)
        return;
    char path[4096], args[4400];
    char *err = NULL;
    static const struct {
        const char *file, *json, *want;
    } cases[] = {
        {"nogeom.geojson",
         "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":"
         "{\"code\":\"01\",\"name\":\"A\"},\"geometry\":null}]}",
         "no geometry"},
        {"point.geojson",
         "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":"
         "{\"code\":\"01\",\"name\":\"A\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":"
         "[105,21]}}]}",
         "not a polygon"},
        {"badcode.geojson",
         "{\"type\":\"FeatureCollection\",\"features\":[" SQUARE_FEATURE(
             "{\"code\":\"1A\",\"name\":\"A\"}", 105, 21, 106, 22) "]}",
         "'1A'"},
        {"dupcode.geojson",
         "{\"type\":\"FeatureCollection\",\"features\":[" SQUARE_FEATURE(
             "{\"code\":\"01\",\"name\":\"A\"}", 105, 21, 106,
             22) "," SQUARE_FEATURE("{\"code\":\"01\",\"name\":\"B\"}", 105, 20, 106, 21) "]}",
         "again"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_tmp(cases[i].file, cases[i].json, path, sizeof(path));
        snprintf(args, sizeof(args),
                 "units load '%s' --level province --valid-from 1990-01-01 --valid-to 2000-01-01",
                 path);
        err = NULL;
        CHECK_INT(t_run(args, NULL, NULL, &err), 1);
        CHECK_CONTAINS(err, cases[i].want);
        CHECK_CONTAINS(err, cases[i].file);
        free(err);
    }
    CHECK_INT(sql_long(c, "SELECT count(*) FROM admin_units WHERE valid_from = '1990-01-01'"), 0);
    PQfinish(c);
}

TEST(geo_units, overlapping_version_is_refused)
{
    PGconn *c = t_connect(t_admin_db());
    if (!c)
        return;
    char path[4096], args[4400];
    write_tmp("overlap.geojson",
              "{\"type\":\"FeatureCollection\",\"features\":[" SQUARE_FEATURE(
                  "{\"code\":\"01\",\"name\":\"A\"}", 105, 21, 106, 22) "]}",
              path, sizeof(path));
    snprintf(args, sizeof(args),
             "units load '%s' --level province --valid-from 2020-01-01 --valid-to 2026-01-01",
             path);
    char *err = NULL;
    CHECK_INT(t_run(args, NULL, NULL, &err), 1);
    CHECK_CONTAINS(err, "overlaps");
    CHECK_CONTAINS(err, "vn_provinces_2024.geojson");
    free(err);
    CHECK_INT(sql_long(c, ALL_PROVINCES), 97);
    CHECK_INT(sql_long(c, "SELECT count(*) FROM admin_units WHERE valid_from = '2020-01-01'"), 0);
    PQfinish(c);
}

/* EPSG:3857 metres of a lon/lat, to write a projected file by hand. */
static void mercator(double lon, double lat, double *x, double *y)
{
    const double r = 6378137.0, d = M_PI / 180;
    *x = r * lon * d;
    *y = r * log(tan(M_PI / 4 + lat * d / 2));
}

TEST(geo_units, projected_file_is_transformed)
{
    PGconn *c = t_connect(t_admin_db());
    if (!c)
        return;
    double x0, y0, x1, y1;
    mercator(105.80, 20.98, &x0, &y0);
    mercator(105.90, 21.08, &x1, &y1);
    char json[2048], path[4096], args[4400];
    /* Integer fields lose leading zeros: the loader pads them back. */
    snprintf(json, sizeof(json),
             "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":"
             "{\"name\":\"urn:ogc:def:crs:EPSG::3857\"}},\"features\":[{\"type\":\"Feature\","
             "\"properties\":{\"ma\":4,\"ten\":\"Thử nghiệm\",\"tinh\":1},\"geometry\":{\"type\":"
             "\"Polygon\",\"coordinates\":[[[%.3f,%.3f],[%.3f,%.3f],[%.3f,%.3f],[%.3f,%.3f],"
             "[%.3f,%.3f]]]}}]}",
             x0, y0, x1, y0, x1, y1, x0, y1, x0, y0);
    write_tmp("mercator.geojson", json, path, sizeof(path));
    snprintf(args, sizeof(args),
             "units load '%s' --level commune --valid-from 1970-01-01 --valid-to 1980-01-01 "
             "--code-field ma --name-field ten --province-field tinh",
             path);
    char *out = NULL, *err = NULL;
    CHECK_INT(t_run(args, NULL, &out, &err), 0);
    CHECK_CONTAINS(out, "loaded 1 commune units from mercator.geojson");
    free(out);
    free(err);
    char *v = t_sql(c, "SELECT code || '|' || province_code || '|' || name || '|' || "
                       "round(ST_XMin(geom)::numeric, 4) || '|' || round(ST_YMax(geom)::numeric, 4)"
                       " FROM admin_units WHERE level = 'commune' AND valid_from = '1970-01-01'");
    CHECK_STR(v, "00004|01|Thử nghiệm|105.8000|21.0800");
    free(v);
    v = t_sql(c, "SELECT unit_at(ST_SetSRID(ST_MakePoint(105.85, 21.03), 4326), '1975-01-01', "
                 "'commune')");
    CHECK_STR(v, "00004");
    free(v);
    v = t_sql(c, "DELETE FROM admin_units WHERE valid_from = '1970-01-01' RETURNING code");
    CHECK_STR(v, "00004");
    free(v);
    PQfinish(c);
}

TEST(geo_units, file_without_crs_must_look_like_lonlat)
{
    PGconn *c = t_connect(t_admin_db());
    if (!c)
        return;
    char path[4096], args[4400];
    /* GDAL's CSV driver reads a WKT column as geometry with no CRS. */
    write_tmp("metres.csv",
              "code,name,WKT\n"
              "01,A,\"POLYGON ((11777602 2389494,11788734 2389494,11788734 2401420,"
              "11777602 2401420,11777602 2389494))\"\n",
              path, sizeof(path));
    snprintf(args, sizeof(args),
             "units load '%s' --level province --valid-from 1980-01-01 --valid-to 1990-01-01",
             path);
    char *err = NULL;
    CHECK_INT(t_run(args, NULL, NULL, &err), 1);
    CHECK_CONTAINS(err, "coordinate reference system");
    free(err);
    CHECK_INT(sql_long(c, "SELECT count(*) FROM admin_units WHERE valid_from = '1980-01-01'"), 0);

    write_tmp("lonlat.csv",
              "code,name,WKT\n01,A,\"POLYGON ((105 21,106 21,106 22,105 22,105 21))\"\n", path,
              sizeof(path));
    snprintf(args, sizeof(args),
             "units load '%s' --level province --valid-from 1980-01-01 --valid-to 1990-01-01",
             path);
    CHECK_INT(t_run(args, NULL, NULL, NULL), 0);
    CHECK_INT(sql_long(c, "SELECT count(*) FROM admin_units WHERE valid_from = '1980-01-01'"), 1);
    CHECK_INT(sql_long(c, "DELETE FROM admin_units WHERE valid_from = '1980-01-01' "
                          "RETURNING 1"),
              1);
    PQfinish(c);
}

TEST(geo_units, bad_merges_and_communes_write_nothing)
{
    PGconn *c = t_connect(t_admin_db());
    if (!c)
        return;
    long successors = sql_long(c, "SELECT count(*) FROM unit_successors");
    char path[4096], args[4400];
    char *err = NULL;
    write_tmp("merges_bad.csv",
              "new_code,new_name,old_code,old_name,type\n"
              "01,X,01,X,full\n"
              "08,Y,02,Z,merged\n",
              path, sizeof(path));
    snprintf(args, sizeof(args), "units load-merges '%s' --effective 2025-07-01", path);
    CHECK_INT(t_run(args, NULL, NULL, &err), 1);
    CHECK_CONTAINS(err, "line 3");
    CHECK_CONTAINS(err, "merged");
    free(err);
    err = NULL;
    write_tmp("communes_bad.csv",
              "province_code,province_name,commune_code,commune_name,merged_from_codes\n"
              "01,X,00004,A,00004 0001x\n",
              path, sizeof(path));
    snprintf(args, sizeof(args), "units load-communes '%s' --valid-from 2025-07-01", path);
    CHECK_INT(t_run(args, NULL, NULL, &err), 1);
    CHECK_CONTAINS(err, "0001x");
    free(err);
    CHECK_INT(sql_long(c, "SELECT count(*) FROM unit_successors"), successors);
    CHECK_INT(sql_long(c, "SELECT count(*) FROM admin_units WHERE level = 'commune'"), 3321);
    PQfinish(c);
}

TEST(geo_units, missing_files_and_fields)
{
    char *err = NULL;
    CHECK_INT(t_run("units load /nonexistent/dir/x.geojson --level province "
                    "--valid-from 2025-07-01",
                    NULL, NULL, &err),
              1);
    CHECK_CONTAINS(err, "/nonexistent/dir/x.geojson");
    CHECK_CONTAINS(err, "No such file");
    free(err);
    err = NULL;
    CHECK_INT(t_run("carriers load /nonexistent/carriers.csv", NULL, NULL, &err), 1);
    CHECK_CONTAINS(err, "No such file");
    free(err);
    err = NULL;
    char path[4096], args[4400];
    write_tmp("nofield.csv", "code,name\nviettel,Viettel\n", path, sizeof(path));
    snprintf(args, sizeof(args), "carriers load '%s'", path);
    CHECK_INT(t_run(args, NULL, NULL, &err), 1);
    CHECK_CONTAINS(err, "no field 'mcc_mnc'");
    free(err);
}

TEST(geo_units, usage_errors_exit_2)
{
    char *err = NULL;
    CHECK_INT(t_run("units", NULL, NULL, &err), 2);
    CHECK_CONTAINS(err, "usage");
    free(err);
    err = NULL;
    CHECK_INT(t_run("units load", NULL, NULL, &err), 2);
    free(err);
    err = NULL;
    CHECK_INT(
        t_run("units load x.geojson --level district --valid-from 2025-07-01", NULL, NULL, &err),
        2);
    CHECK_CONTAINS(err, "--level");
    free(err);
    err = NULL;
    CHECK_INT(t_run("units load x.geojson --level province", NULL, NULL, &err), 2);
    CHECK_CONTAINS(err, "--valid-from");
    free(err);
    err = NULL;
    CHECK_INT(t_run("units load x.geojson --level province --valid-from 2025-07-01 "
                    "--valid-to 2025-01-01",
                    NULL, NULL, &err),
              2);
    free(err);
    err = NULL;
    CHECK_INT(t_run("units load-merges x.csv", NULL, NULL, &err), 2);
    CHECK_CONTAINS(err, "--effective");
    free(err);
    err = NULL;
    CHECK_INT(t_run("units frobnicate", NULL, NULL, &err), 2);
    free(err);
    err = NULL;
    CHECK_INT(t_run("carriers", NULL, NULL, &err), 2);
    free(err);
}

TEST(geo_units, api_load_inside_callers_transaction)
{
    PGconn *c = t_connect(t_admin_db());
    if (!c)
        return;
    char path[4096], err[512];
    write_tmp("tx.geojson",
              "{\"type\":\"FeatureCollection\",\"features\":[" SQUARE_FEATURE(
                  "{\"code\":\"01\",\"name\":\"A\"}", 105, 21, 106, 22) "]}",
              path, sizeof(path));
    PGresult *r = PQexec(c, "BEGIN");
    CHECK(PQresultStatus(r) == PGRES_COMMAND_OK);
    PQclear(r);
    int n = -1;
    /* A failing load rolls back to its savepoint; the caller's transaction
     * goes on. */
    CHECK_INT(geo_units_load(c, path, "province", "1960-01-01", "1950-01-01", NULL, NULL, NULL, &n,
                             err, sizeof(err)),
              LS_EINVAL);
    CHECK_INT(geo_units_load(c, "/nonexistent.geojson", "province", "1960-01-01", "1970-01-01",
                             NULL, NULL, NULL, &n, err, sizeof(err)),
              LS_EINVAL);
    /* This one fails in the database, after its savepoint and delete. */
    CHECK_INT(geo_units_load(c, path, "province", "1960-01-01", "2010-01-01", NULL, NULL, NULL, &n,
                             err, sizeof(err)),
              LS_ECONFLICT);
    CHECK_CONTAINS(err, "overlaps");
    CHECK_INT(n, 0);
    CHECK(PQtransactionStatus(c) == PQTRANS_INTRANS);
    CHECK_INT(geo_units_load(c, path, "province", "1960-01-01", "1970-01-01", NULL, NULL, NULL, &n,
                             err, sizeof(err)),
              LS_OK);
    CHECK_INT(n, 1);
    CHECK(PQtransactionStatus(c) == PQTRANS_INTRANS);
    CHECK_INT(sql_long(c, "SELECT count(*) FROM admin_units WHERE valid_from = '1960-01-01'"), 1);
    r = PQexec(c, "ROLLBACK");
    PQclear(r);
    CHECK_INT(sql_long(c, "SELECT count(*) FROM admin_units WHERE valid_from = '1960-01-01'"), 0);
    PQfinish(c);
}
