/*
 * test_ingest_measure.c — measurement ingest end to end, against the test
 * cluster: real files of every format read (made at test time with GDAL's
 * own ogr2ogr from a CSV the test writes), VN-2000 coordinates made with
 * PROJ's cs2cs, Vietnamese headers and units, validation and the reject
 * file, duplicates, an interrupted load, the coverage cells compared with
 * SQL over the raw rows, and the HTTP upload / batch / coverage endpoints.
 *
 * Every test uses its own days and places, so that the rows of one test
 * are never duplicates of another's; expected values are computed here
 * from the data written, never read back from what the loader says.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "t.h"

/* -------------------------------------------------------------- helpers */

/* A path in the scratch directory, in one of a few rotating buffers. */
static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        t_fail(__FILE__, __LINE__, "cannot write %s", path);
        return -1;
    }
    fputs(text, f);
    return fclose(f);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *s = malloc(cap);
    size_t n;
    while (s && (n = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *p = realloc(s, cap * 2);
            if (!p) {
                free(s);
                fclose(f);
                return NULL;
            }
            s = p;
            cap *= 2;
        }
    }
    fclose(f);
    if (s)
        s[len] = '\0';
    return s;
}

/* Runs a shell command (stdout and stderr together); returns its exit code
 * and, on failure, reports the command and what it printed. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char full[4200];
    snprintf(full, sizeof full, "( %s ) 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p) {
        t_fail(__FILE__, __LINE__, "popen failed for: %s", cmd);
        return -1;
    }
    char out[4096] = "";
    size_t len = 0, n;
    while ((n = fread(out + len, 1, sizeof out - 1 - len, p)) > 0)
        len += n;
    out[len] = '\0';
    int st = pclose(p);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (rc != 0)
        t_fail(__FILE__, __LINE__, "`%.600s` exited with %d: %.1500s", cmd, rc, out);
    return rc;
}

/* Seconds since 1970 of a UTC date and time. */
static long long utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return (long long)timegm(&tm);
}

/* "2025-02-01T08:00:00+07:00": the epoch written in Vietnam time. */
static const char *iso7(long long t)
{
    static char bufs[4][40];
    static int next;
    char *b = bufs[next++ % 4];
    time_t local = (time_t)(t + 7 * 3600);
    struct tm tm;
    gmtime_r(&local, &tm);
    strftime(b, sizeof bufs[0], "%Y-%m-%dT%H:%M:%S+07:00", &tm);
    return b;
}

/* Level-z Web Mercator tile of a point (the definition of the cells). */
static void tile(int z, double lon, double lat, long *x, long *y)
{
    double n = (double)(1L << z), lr = lat * M_PI / 180.0;
    *x = (long)floor((lon + 180.0) / 360.0 * n);
    *y = (long)floor((1.0 - asinh(tan(lr)) / M_PI) / 2.0 * n);
}

/* ------------------------------------------------------------ database */

/* An owner connection in the 'system' context (measurements have FORCE
 * ROW LEVEL SECURITY). */
static long long sql_ll(PGconn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static long long sql_ll(PGconn *c, const char *fmt, ...)
{
    char q[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    char *v = t_sql(c, q);
    long long n = v && *v ? atoll(v) : -1;
    free(v);
    return n;
}

/* What the whole database holds: measurements, batches, coverage cells and
 * their tests; a load that stores nothing leaves all four unchanged. */
typedef struct {
    long long rows, batches, cells, cell_tests;
} totals;

static totals db_totals(PGconn *c)
{
    totals t;
    t.rows = sql_ll(c, "SELECT count(*) FROM measurements");
    t.batches = sql_ll(c, "SELECT count(*) FROM ingest_batches");
    t.cells = sql_ll(c, "SELECT (SELECT count(*) FROM coverage_cells)"
                        " + (SELECT count(*) FROM coverage_cells16)");
    t.cell_tests = sql_ll(c, "SELECT (SELECT coalesce(sum(tests), 0) FROM coverage_cells)"
                             " + (SELECT coalesce(sum(tests), 0) FROM coverage_cells16)");
    return t;
}

#define CHECK_TOTALS_SAME(a, b)                                                                    \
    do {                                                                                           \
        CHECK_INT((b).rows, (a).rows);                                                             \
        CHECK_INT((b).batches, (a).batches);                                                       \
        CHECK_INT((b).cells, (a).cells);                                                           \
        CHECK_INT((b).cell_tests, (a).cell_tests);                                                 \
    } while (0)

/* ------------------------------------------------------------- summary */

typedef struct {
    int ok; /* the JSON had exactly the summary's keys */
    long long batch, rows, accepted, rejected, duplicates, meeting_min, below_min;
    char reject_file[1024]; /* "" for null */
} summary;

static const char *const summary_keys[] = {"batch",      "rows",        "accepted",  "rejected",
                                           "duplicates", "meeting_min", "below_min", "reject_file"};

static int parse_summary(const char *json, summary *s)
{
    memset(s, 0, sizeof *s);
    long long *const dst[] = {&s->batch,      &s->rows,        &s->accepted, &s->rejected,
                              &s->duplicates, &s->meeting_min, &s->below_min};
    int good = t_read_summary(json, summary_keys, dst, 7, s->reject_file, sizeof s->reject_file);
    if (!good)
        t_fail(__FILE__, __LINE__, "the summary has not exactly the keys %s, %s, ...: %.500s",
               summary_keys[0], summary_keys[1], json ? json : "(null)");
    s->ok = good;
    return good ? 0 : -1;
}

/* `lomsong ingest measurements ARGS --json`; the exit code.  *err (may be
 * NULL) gets the stderr, malloc'd. */
static int ingest(const char *args, summary *s, char **err)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "ingest measurements %s --json", args);
    char *out = NULL, *e = NULL;
    int rc = t_run(cmd, NULL, &out, &e);
    memset(s, 0, sizeof *s);
    if (rc == 0)
        parse_summary(out, s);
    else if (!err)
        t_fail(__FILE__, __LINE__, "`lomsong %.300s` exited with %d: %.800s", cmd, rc, e ? e : "");
    free(out);
    if (err)
        *err = e;
    else
        free(e);
    return rc;
}

#define CHECK_SUMMARY(s, rows_, acc_, rej_, dup_, meet_, below_)                                   \
    do {                                                                                           \
        CHECK((s).ok);                                                                             \
        CHECK_INT((s).rows, rows_);                                                                \
        CHECK_INT((s).accepted, acc_);                                                             \
        CHECK_INT((s).rejected, rej_);                                                             \
        CHECK_INT((s).duplicates, dup_);                                                           \
        CHECK_INT((s).meeting_min, meet_);                                                         \
        CHECK_INT((s).below_min, below_);                                                          \
    } while (0)

/* ------------------------------------------------------- measured rows */

typedef struct {
    double lat, lon;
    long long t;
    const char *op;      /* as written in the file */
    const char *tech_in; /* as written */
    double down, up, ping;
    const char *carrier; /* what it must become */
    const char *tech;
    const char *prov; /* the province it lies in */
} mrow;

/* Four rows in three provinces for format test k: own day, own places. */
static int format_rows(int k, mrow *r)
{
    long long t0 = utc(2025, 2, 1 + k, 1, 0, 0);
    double d = 0.0011 * k;
    mrow rows[] = {
        {21.0285 + d, 105.8542 + d, t0, "viettel", "4G", 45.5, 12.25, 23, "viettel", "4G", "01"},
        {21.0101 + d, 105.8120 - d, t0 + 61, "VinaPhone", "LTE", 39.5, 5, 41, "vinaphone", "4G",
         "01"},
        {22.4800 + d, 103.9700 + d, t0 + 122, "mobifone", "5G", 120.75, 30.5, 12, "mobifone", "5G",
         "15"},
        {10.7769 - d, 106.7009 + d, t0 + 183, "vietnamobile", "3G", 3.5, 0.75, 80, "vietnamobile",
         "3G", "79"},
    };
    memcpy(r, rows, sizeof rows);
    return (int)(sizeof rows / sizeof rows[0]);
}

/* Writes rows as CSV (sep ',') or TSV (sep '\t') with the usual headers. */
static void write_rows(const char *path, const mrow *r, int n, const char *time_col, char sep)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        t_fail(__FILE__, __LINE__, "cannot write %s", path);
        return;
    }
    fprintf(f, "lat%clon%c%s%coperator%ctech%cdownload%cupload%clatency\n", sep, sep, time_col, sep,
            sep, sep, sep, sep);
    for (int i = 0; i < n; i++)
        fprintf(f, "%.4f%c%.4f%c%s%c%s%c%s%c%g%c%g%c%g\n", r[i].lat, sep, r[i].lon, sep,
                iso7(r[i].t), sep, r[i].op, sep, r[i].tech_in, sep, r[i].down, sep, r[i].up, sep,
                r[i].ping);
    fclose(f);
}

/* The rows as the database must hold them, one line each, in time order. */
static char *expected_rows(const mrow *r, int n)
{
    size_t cap = 256 * (size_t)n + 1;
    char *s = calloc(1, cap);
    size_t len = 0;
    for (int i = 0; s && i < n; i++)
        len +=
            (size_t)snprintf(s + len, cap - len, "%s%.6f|%.6f|%lld|%s|%s|%g|%g|%g|%s|%s",
                             i ? ";" : "", r[i].lat, r[i].lon, r[i].t, r[i].carrier, r[i].tech,
                             r[i].down, r[i].up, r[i].ping, r[i].down >= 40 ? "t" : "f", r[i].prov);
    return s;
}

static char *stored_rows(PGconn *c, long long batch)
{
    return t_sqlf(
        c,
        "SELECT coalesce(string_agg(format('%%s|%%s|%%s|%%s|%%s|%%s|%%s|%%s|%%s|%%s',"
        " round((lat7 / 1e7)::numeric, 6), round((lon7 / 1e7)::numeric, 6),"
        " extract(epoch FROM measured_at)::bigint, (SELECT code FROM carriers WHERE num = carrier),"
        " tech || 'G',"
        " download_mbps, upload_mbps, latency_ms, CASE WHEN meets_min THEN 't' ELSE 'f'"
        " END, lpad(province::text, 2, '0')), ';' ORDER BY measured_at), '')"
        " FROM measurements WHERE batch_id = %lld",
        batch);
}

static int count_meeting(const mrow *r, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += r[i].down >= 40;
    return k;
}

/* Loads FILE (made from format_rows(k)) and checks the summary and every
 * stored row. */
static void load_and_check(const char *file, const char *extra, const mrow *r, int n)
{
    char args[2048];
    snprintf(args, sizeof args, "'%s' %s", file, extra ? extra : "");
    summary s;
    char *err = NULL;
    int rc = ingest(args, &s, &err);
    CHECK_INT(rc, 0);
    if (rc != 0) {
        t_fail(__FILE__, __LINE__, "stderr: %.800s", err ? err : "");
        free(err);
        return;
    }
    int meet = count_meeting(r, n);
    CHECK_SUMMARY(s, n, n, 0, 0, meet, n - meet);
    CHECK_STR(s.reject_file, "");
    PGconn *c = t_sysdb();
    char *want = expected_rows(r, n), *got = stored_rows(c, s.batch);
    CHECK_STR(got, want);
    char *status = t_sqlf(c, "SELECT status FROM ingest_batches WHERE id = %lld", s.batch);
    CHECK_STR(status, "committed");
    free(status);
    free(want);
    free(got);
    free(err);
    PQfinish(c);
}

static const char *geo_oo = "-oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat -a_srs EPSG:4326";

/* ---------------------------------------------------- 1. every format */

TEST(ingest_measure, format_csv)
{
    mrow r[8];
    int n = format_rows(0, r);
    write_rows(t_tmp("f0.csv"), r, n, "time", ',');
    load_and_check(t_tmp("f0.csv"), NULL, r, n);
}

TEST(ingest_measure, format_tsv)
{
    mrow r[8];
    int n = format_rows(1, r);
    write_rows(t_tmp("f1.tsv"), r, n, "time", '\t');
    load_and_check(t_tmp("f1.tsv"), NULL, r, n);
}

/* An XLSX whose cells are numbers and dates (as Excel keeps them). */
TEST(ingest_measure, format_xlsx)
{
    mrow r[8];
    int n = format_rows(2, r);
    write_rows(t_tmp("f2.csv"), r, n, "time", ',');
    if (sh("ogr2ogr -f XLSX '%s' '%s' -oo AUTODETECT_TYPE=YES", t_tmp("f2.xlsx"),
           t_tmp("f2.csv")) == 0)
        load_and_check(t_tmp("f2.xlsx"), NULL, r, n);
}

/* An XLSX whose cells all hold text (ogr2ogr's default from a CSV, and
 * what "Format cells: Text" in Excel gives): the header row must still be
 * taken as the header. */
TEST(ingest_measure, format_xlsx_text_cells)
{
    mrow r[8];
    int n = format_rows(3, r);
    write_rows(t_tmp("f3.csv"), r, n, "time", ',');
    if (sh("ogr2ogr -f XLSX '%s' '%s'", t_tmp("f3.xlsx"), t_tmp("f3.csv")) == 0)
        load_and_check(t_tmp("f3.xlsx"), NULL, r, n);
}

TEST(ingest_measure, format_ods)
{
    mrow r[8];
    int n = format_rows(4, r);
    write_rows(t_tmp("f4.csv"), r, n, "time", ',');
    if (sh("ogr2ogr -f ODS '%s' '%s'", t_tmp("f4.ods"), t_tmp("f4.csv")) == 0)
        load_and_check(t_tmp("f4.ods"), NULL, r, n);
}

TEST(ingest_measure, format_geojson)
{
    mrow r[8];
    int n = format_rows(5, r);
    write_rows(t_tmp("f5.csv"), r, n, "time", ',');
    if (sh("ogr2ogr -f GeoJSON '%s' '%s' %s", t_tmp("f5.geojson"), t_tmp("f5.csv"), geo_oo) == 0)
        load_and_check(t_tmp("f5.geojson"), NULL, r, n);
}

TEST(ingest_measure, format_geopackage)
{
    mrow r[8];
    int n = format_rows(6, r);
    write_rows(t_tmp("f6.csv"), r, n, "time", ',');
    if (sh("ogr2ogr -f GPKG '%s' '%s' %s", t_tmp("f6.gpkg"), t_tmp("f6.csv"), geo_oo) == 0)
        load_and_check(t_tmp("f6.gpkg"), NULL, r, n);
}

/* KML with the time as each placemark's <TimeStamp> (a column named
 * "timestamp" is what LIBKML writes there). */
TEST(ingest_measure, format_kml)
{
    mrow r[8];
    int n = format_rows(7, r);
    write_rows(t_tmp("f7.csv"), r, n, "timestamp", ',');
    if (sh("ogr2ogr -f KML '%s' '%s' %s", t_tmp("f7.kml"), t_tmp("f7.csv"), geo_oo) == 0)
        load_and_check(t_tmp("f7.kml"), NULL, r, n);
}

TEST(ingest_measure, format_kmz)
{
    mrow r[8];
    int n = format_rows(8, r);
    write_rows(t_tmp("f8.csv"), r, n, "timestamp", ',');
    if (sh("ogr2ogr -f LIBKML '%s' '%s' %s", t_tmp("f8.kmz"), t_tmp("f8.csv"), geo_oo) == 0)
        load_and_check(t_tmp("f8.kmz"), NULL, r, n);
}

/* KML whose time is an ordinary data column "time" (ExtendedData), as a
 * spreadsheet converted to KML has it: LIBKML also shows its own, empty,
 * "timestamp" field, which must not hide the column that has the times. */
TEST(ingest_measure, format_kml_time_column)
{
    mrow r[8];
    int n = format_rows(9, r);
    write_rows(t_tmp("f9.csv"), r, n, "time", ',');
    if (sh("ogr2ogr -f KML '%s' '%s' %s", t_tmp("f9.kml"), t_tmp("f9.csv"), geo_oo) == 0)
        load_and_check(t_tmp("f9.kml"), NULL, r, n);
}

TEST(ingest_measure, format_zipped_shapefile)
{
    mrow r[8];
    int n = format_rows(10, r);
    write_rows(t_tmp("f10.csv"), r, n, "time", ',');
    if (sh("mkdir -p '%s' && ogr2ogr -f 'ESRI Shapefile' '%s' '%s' %s", t_tmp("shp10"),
           t_tmp("shp10/m10.shp"), t_tmp("f10.csv"), geo_oo) != 0)
        return;
    int zipped =
        system("command -v zip >/dev/null 2>&1") == 0
            ? sh("cd '%s' && zip -q '%s' m10.shp m10.shx m10.dbf m10.prj", t_tmp("shp10"),
                 t_tmp("f10.zip"))
            : sh("cd '%s' && python3 -c 'import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],"
                 "\"w\"); [z.write(f) for f in sys.argv[2:]]; z.close()' '%s' m10.shp "
                 "m10.shx m10.dbf m10.prj",
                 t_tmp("shp10"), t_tmp("f10.zip"));
    if (zipped == 0)
        load_and_check(t_tmp("f10.zip"), NULL, r, n);
}

/* GPX written by ogr2ogr: the time goes into <time>, the other columns into
 * <extensions> as ogr:NAME, which GDAL reads back as "ogr_NAME".  What the
 * loader does with them: ogr_download / ogr_upload / ogr_latency /
 * ogr_operator are recognised as loose matches, "ogr_tech" is not, so the
 * technology comes from --tech (all rows here are 4G). */
TEST(ingest_measure, format_gpx_from_ogr2ogr)
{
    mrow r[8];
    int n = format_rows(11, r);
    for (int i = 0; i < n; i++)
        r[i].tech_in = r[i].tech = "4G";
    write_rows(t_tmp("f11.csv"), r, n, "time", ',');
    if (sh("ogr2ogr -f GPX '%s' '%s' %s -dsco GPX_USE_EXTENSIONS=YES", t_tmp("f11.gpx"),
           t_tmp("f11.csv"), geo_oo) == 0)
        load_and_check(t_tmp("f11.gpx"), "--tech 4G", r, n);
}

/* GPX waypoints as a GPS logger writes them: <time> in UTC, the values in
 * plain <extensions> elements. */
TEST(ingest_measure, format_gpx_waypoints)
{
    mrow r[8];
    int n = format_rows(12, r);
    char gpx[8192];
    size_t len = (size_t)snprintf(gpx, sizeof gpx,
                                  "<?xml version=\"1.0\"?>\n<gpx version=\"1.1\" creator=\"t\" "
                                  "xmlns=\"http://www.topografix.com/GPX/1/1\">\n");
    for (int i = 0; i < n; i++) {
        time_t t = (time_t)r[i].t;
        struct tm tm;
        gmtime_r(&t, &tm);
        char ts[32];
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        len += (size_t)snprintf(
            gpx + len, sizeof gpx - len,
            "<wpt lat=\"%.4f\" lon=\"%.4f\"><time>%s</time><extensions><operator>%s</operator>"
            "<tech>%s</tech><download>%g</download><upload>%g</upload><latency>%g</latency>"
            "</extensions></wpt>\n",
            r[i].lat, r[i].lon, ts, r[i].op, r[i].tech_in, r[i].down, r[i].up, r[i].ping);
    }
    snprintf(gpx + len, sizeof gpx - len, "</gpx>\n");
    write_file(t_tmp("f12.gpx"), gpx);
    load_and_check(t_tmp("f12.gpx"), NULL, r, n);
}

/* ------------------------------------------------------------ 2. CRSs */

typedef struct {
    double lat, lon;
} wgs;

/* Projects WGS 84 points with cs2cs into EPSG:epsg; e/n get easting and
 * northing.  0 on success. */
static int project(const wgs *p, int n, int epsg, double *e, double *nn)
{
    char in[4096] = "";
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(in + len, sizeof in - len, "%.7f %.7f\n", p[i].lat, p[i].lon);
    char name[64];
    snprintf(name, sizeof name, "wgs-%d.txt", epsg);
    write_file(t_tmp("%s", name), in);
    if (sh("cs2cs -f %%.4f EPSG:4326 EPSG:%d < '%s' > '%s.out'", epsg, t_tmp("%s", name),
           t_tmp("%s", name)) != 0)
        return -1;
    char *out = read_all(t_tmp("%s.out", name));
    if (!out)
        return -1;
    char *p1 = out;
    for (int i = 0; i < n; i++) {
        double a, b;
        int used = 0;
        if (sscanf(p1, "%lf %lf %*f%n", &a, &b, &used) < 2) {
            t_fail(__FILE__, __LINE__, "cs2cs printed: %.500s", out);
            free(out);
            return -1;
        }
        p1 += used;
        /* EPSG:3405 and the TM-3 zones are easting, northing; a northing in
         * Vietnam is in the millions, an easting is not. */
        e[i] = a < b ? a : b;
        nn[i] = a < b ? b : a;
    }
    free(out);
    return 0;
}

/* Writes x,y columns (x = easting unless swap) for the points, ingests with
 * --crs and checks every stored point against the original to 1e-7 degrees
 * and to the centimetre. */
static void crs_roundtrip(const wgs *p, int n, int epsg, const char *crs, int day, int swap)
{
    double e[16], nn[16];
    if (project(p, n, epsg, e, nn) != 0)
        return;
    char csv[8192];
    long long t0 = utc(2025, 3, day, 2, 0, 0);
    size_t len = (size_t)snprintf(csv, sizeof csv, "x,y,time,operator,tech,download\n");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(csv + len, sizeof csv - len, "%.4f,%.4f,%s,viettel,4G,%d\n",
                                swap ? nn[i] : e[i], swap ? e[i] : nn[i], iso7(t0 + 60 * i),
                                20 + 5 * i);
    char file[64];
    snprintf(file, sizeof file, "crs-%d-%d.csv", epsg, swap);
    write_file(t_tmp("%s", file), csv);
    char args[1024];
    snprintf(args, sizeof args, "'%s' --crs %s", t_tmp("%s", file), crs);
    summary s;
    char *err = NULL;
    int rc = ingest(args, &s, &err);
    CHECK_INT(rc, 0);
    if (rc != 0) {
        t_fail(__FILE__, __LINE__, "stderr: %.800s", err ? err : "");
        free(err);
        return;
    }
    CHECK_SUMMARY(s, n, n, 0, 0, n > 4 ? n - 4 : 0, n > 4 ? 4 : n);
    if (swap)
        CHECK_CONTAINS(err, "swapped");
    else
        CHECK(err && !strstr(err, "swapped"));
    free(err);

    PGconn *c = t_sysdb();
    char *got = t_sqlf(c,
                       "SELECT string_agg(format('%%s %%s', round((lat7 / 1e7)::numeric, 9),"
                       " round((lon7 / 1e7)::numeric, 9)), ';' ORDER BY measured_at)"
                       " FROM measurements WHERE batch_id = %lld",
                       s.batch);
    const char *q = got ? got : "";
    for (int i = 0; i < n; i++) {
        double lat = NAN, lon = NAN;
        int used = 0;
        if (sscanf(q, "%lf %lf%n", &lat, &lon, &used) != 2) {
            t_fail(__FILE__, __LINE__, "point %d not stored: \"%s\"", i, got ? got : "(null)");
            break;
        }
        q += used + (q[used] == ';');
        double dlat = fabs(lat - p[i].lat), dlon = fabs(lon - p[i].lon);
        double metres = hypot(dlat * 111320.0, dlon * 111320.0 * cos(p[i].lat * M_PI / 180.0));
        if (dlat > 1e-7 + 1e-12 || dlon > 1e-7 + 1e-12 || metres > 0.01)
            t_fail(__FILE__, __LINE__,
                   "%s point %d: stored %.9f, %.9f, want %.7f, %.7f (%.4f m off)", crs, i, lat, lon,
                   p[i].lat, p[i].lon, metres);
    }
    free(got);
    PQfinish(c);
}

static const wgs utm48_points[] = {
    {21.0285, 105.8542}, /* Hà Nội */
    {22.4800, 103.9700}, /* Lào Cai */
    {21.3860, 103.0230}, /* Điện Biên Phủ */
    {18.6790, 105.6810}, /* Vinh */
    {16.4637, 107.5909}, /* Huế */
    {10.0452, 105.7469}, /* Cần Thơ */
};

static const wgs tm3_hanoi_points[] = {
    {21.0285, 105.8542}, /* Hoàn Kiếm */
    {21.1400, 105.5060}, /* Sơn Tây */
    {20.9710, 105.7790}, /* Hà Đông */
    {21.2570, 105.8480}, /* Sóc Sơn */
    {20.7390, 105.9090}, /* Phú Xuyên */
};

TEST(ingest_measure, vn2000_utm48)
{
    /* The round trip below only proves the loader undoes what cs2cs did;
     * that cs2cs did apply VN-2000's datum shift (and not a "ballpark"
     * projection without it) shows as a distance of a couple of hundred
     * metres from the same point projected on WGS 84 / UTM 48N. */
    double e[8], nn[8], we[8], wn[8];
    if (project(utm48_points, 6, 3405, e, nn) == 0 && project(utm48_points, 6, 32648, we, wn) == 0)
        for (int i = 0; i < 6; i++) {
            double d = hypot(e[i] - we[i], nn[i] - wn[i]);
            if (d < 100 || d > 500)
                t_fail(__FILE__, __LINE__, "point %d: VN-2000 and WGS 84 UTM differ by %.1f m", i,
                       d);
        }
    crs_roundtrip(utm48_points, 6, 3405, "VN2000-UTM48", 13, 0);
}

TEST(ingest_measure, vn2000_tm3_105_45)
{
    /* EPSG:9210 is "VN-2000 / TM-3 105-45", Hà Nội's zone. */
    crs_roundtrip(tm3_hanoi_points, 5, 9210, "VN2000-TM3-105-45", 14, 0);
}

/* The geodetic convention: the northing labelled X, the easting Y. */
TEST(ingest_measure, vn2000_northing_as_x)
{
    crs_roundtrip(utm48_points, 6, 3405, "VN2000-UTM48", 15, 1);
}

TEST(ingest_measure, projected_without_crs_is_refused)
{
    double e[8], nn[8];
    if (project(utm48_points, 3, 3405, e, nn) != 0)
        return;
    char csv[2048];
    long long t0 = utc(2025, 3, 16, 2, 0, 0);
    size_t len = (size_t)snprintf(csv, sizeof csv, "x,y,time,operator,tech,download\n");
    for (int i = 0; i < 3; i++)
        len += (size_t)snprintf(csv + len, sizeof csv - len, "%.4f,%.4f,%s,viettel,4G,50\n", e[i],
                                nn[i], iso7(t0 + 60 * i));
    write_file(t_tmp("nocrs.csv"), csv);
    PGconn *c = t_sysdb();
    totals before = db_totals(c);
    summary s;
    char *err = NULL;
    char args[600];
    snprintf(args, sizeof args, "'%s'", t_tmp("nocrs.csv"));
    int rc = ingest(args, &s, &err);
    CHECK(rc != 0);
    CHECK_CONTAINS(err, "--crs");
    CHECK_CONTAINS(err, "nothing was stored");
    totals after = db_totals(c);
    CHECK_TOTALS_SAME(before, after);
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM measurements WHERE measured_at >= '2025-03-16'"
                        " AND measured_at < '2025-03-17'"),
              0);
    free(err);
    PQfinish(c);
}

/* ---------------------------------------------- 3. Vietnamese headers */

TEST(ingest_measure, vietnamese_headers_and_kbps)
{
    /* Day-first dates: 10/03/2025 is the 10th of March (the 3rd of October
     * if read month-first). */
    const char *csv = "Kinh độ,Vĩ độ,Thời gian,Nhà mạng,Công nghệ,Tốc độ tải xuống (kbps),"
                      "Tốc độ tải lên (kbps),Độ trễ (ms)\n"
                      "105.8611,21.0311,10/03/2025 08:30,Viettel,4G,45000,12000,25\n"
                      "105.8612,21.0312,10/03/2025 08:31,VinaPhone,4G,39999,8000,35\n"
                      "105.8613,21.0313,10/03/2025 08:32,452-01,5G,120500,30500,15\n"
                      "105.8614,21.0314,10/03/2025 08:33,Viettel,3G,40000,999,120\n";
    write_file(t_tmp("vn.csv"), csv);
    summary s;
    char args[600];
    snprintf(args, sizeof args, "'%s'", t_tmp("vn.csv"));
    CHECK_INT(ingest(args, &s, NULL), 0);
    CHECK_SUMMARY(s, 4, 4, 0, 0, 3, 1);
    long long t0 = utc(2025, 3, 10, 1, 30, 0); /* 08:30 in Vietnam */
    mrow want[] = {
        {21.0311, 105.8611, t0, "", "", 45, 12, 25, "viettel", "4G", "01"},
        {21.0312, 105.8612, t0 + 60, "", "", 39.999, 8, 35, "vinaphone", "4G", "01"},
        {21.0313, 105.8613, t0 + 120, "", "", 120.5, 30.5, 15, "mobifone", "5G", "01"},
        {21.0314, 105.8614, t0 + 180, "", "", 40, 0.999, 120, "viettel", "3G", "01"},
    };
    PGconn *c = t_sysdb();
    char *exp = expected_rows(want, 4), *got = stored_rows(c, s.batch);
    CHECK_STR(got, exp);
    /* exactly 45 and 40 Mbps, not 44.99999 */
    CHECK_INT(sql_ll(c,
                     "SELECT count(*) FROM measurements WHERE batch_id = %lld"
                     " AND download_mbps IN (45, 40) AND meets_min",
                     s.batch),
              2);
    free(exp);
    free(got);
    PQfinish(c);
}

/* --map in both orders, COLUMN=FIELD as the issue writes it and
 * FIELD=COLUMN, on a file whose headers no guess reads; the unit still
 * comes from the header ("kbps"). */
TEST(ingest_measure, map_either_way)
{
    const char *csv = "A,B,C,D,E,F (kbps),G,H\n"
                      "21.0321,105.8621,14/03/2025 09:00,Viettel,4G,52000,30,10.5\n"
                      "21.0322,105.8622,14/03/2025 09:01,MobiFone,3G,8000,95,2\n";
    write_file(t_tmp("map.csv"), csv);
    summary s;
    char args[800], *err = NULL;
    /* without --map: an error that lists the columns found */
    snprintf(args, sizeof args, "'%s'", t_tmp("map.csv"));
    CHECK(ingest(args, &s, &err) != 0);
    CHECK_CONTAINS(err, "A, B, C, D, E, F (kbps), G, H");
    free(err);
    long long t0 = utc(2025, 3, 14, 2, 0, 0); /* 09:00 in Vietnam */
    mrow want[] = {
        {21.0321, 105.8621, t0, "", "", 52, 10.5, 30, "viettel", "4G", "01"},
        {21.0322, 105.8622, t0 + 60, "", "", 8, 2, 95, "mobifone", "3G", "01"},
    };
    load_and_check(t_tmp("map.csv"),
                   "--map A=lat --map lon=B --map C=time --map operator=D --map E=tech"
                   " --map 'F (kbps)=download' --map latency=G --map H=upload",
                   want, 2);
}

/* ------------------------------------------------------ 4. bad rows */

TEST(ingest_measure, bad_rows_go_to_the_reject_file)
{
    static const char *const hdr = "lat,lon,time,operator,tech,download,upload,latency";
    static const struct {
        const char *line;
        const char *why; /* NULL: accepted */
    } rows[] = {
        {"21.0401,105.8601,2025-03-11T08:00:00+07:00,viettel,4G,50,10,20", NULL},
        {"48.8566,2.3522,2025-03-11T08:01:00+07:00,viettel,4G,50,10,20", "outside Vietnam"},
        {"21.0403,105.8603,2025-03-11T08:02:00+07:00,viettel,4G,-5,10,20", "negative"},
        {"21.0404,105.8604,2025-03-11T08:03:00+07:00,viettel,4G,10001,10,20", "10 Gbps"},
        {"21.0405,105.8605,2031-03-11T08:04:00+07:00,viettel,4G,50,10,20", "future"},
        {"21.0406,105.8606,2009-12-31T08:05:00+07:00,viettel,4G,50,10,20", "before 2010"},
        {"21.0407,105.8607,2025-03-11T08:06:00+07:00,acmetel,4G,50,10,20", "unknown carrier"},
        {"21.0408,105.8608,2025-03-11T08:07:00+07:00,viettel,4G,,10,20", "missing download"},
        {"21.0409,105.8609,,viettel,4G,50,10,20", "missing time"},
        {"21.0410,105.8610,2025-03-11T08:09:00+07:00,viettel,4G,fast,10,20", "not a number"},
        {"21.0411,105.8611,2025-03-11T08:10:00+07:00,viettel,4G,12.5,10,20", NULL},
        /* the same bad texts again: remembered answers reject them alike */
        {"21.0412,105.8612,2025-03-11T08:11:00+07:00,viettel,6G,50,10,20", "not a mobile network"},
        {"21.0413,105.8613,2025-03-11T08:12:00+07:00,viettel,6G,50,10,20", "not a mobile network"},
        {"21.0414,105.8614,2025-03-11T08:13:00+07:00,acmetel,4G,50,10,20", "unknown carrier"},
    };
    int n = (int)(sizeof rows / sizeof rows[0]), nrej = 0;
    char csv[4096];
    size_t len = (size_t)snprintf(csv, sizeof csv, "%s\n", hdr);
    for (int i = 0; i < n; i++) {
        len += (size_t)snprintf(csv + len, sizeof csv - len, "%s\n", rows[i].line);
        nrej += rows[i].why != NULL;
    }
    write_file(t_tmp("bad.csv"), csv);
    summary s;
    char args[1200];
    snprintf(args, sizeof args, "'%s' --rejects '%s'", t_tmp("bad.csv"), t_tmp("bad-rejects.csv"));
    CHECK_INT(ingest(args, &s, NULL), 0);
    CHECK_SUMMARY(s, n, n - nrej, nrej, 0, 1, 1);
    CHECK_STR(s.reject_file, t_tmp("bad-rejects.csv"));

    char *rej = read_all(t_tmp("bad-rejects.csv"));
    CHECK(rej != NULL);
    if (rej) {
        char *save = NULL, *line = strtok_r(rej, "\n", &save);
        char want_hdr[256];
        snprintf(want_hdr, sizeof want_hdr, "row,reason,%s", hdr);
        CHECK_STR(line, want_hdr);
        int seen = 0;
        for (int i = 0; i < n; i++) {
            if (!rows[i].why)
                continue;
            line = strtok_r(NULL, "\n", &save);
            if (!line) {
                t_fail(__FILE__, __LINE__, "the reject file stops before row %d", i + 1);
                break;
            }
            seen++;
            /* row number (data rows counted from 1), then the quoted reason,
             * then the original values as they were */
            char prefix[16];
            snprintf(prefix, sizeof prefix, "%d,\"", i + 1);
            CHECK(strncmp(line, prefix, strlen(prefix)) == 0);
            char *end = strstr(line + strlen(prefix), "\",");
            CHECK(end != NULL);
            if (!end)
                continue;
            *end = '\0';
            const char *reason = line + strlen(prefix);
            if (!strstr(reason, rows[i].why))
                t_fail(__FILE__, __LINE__, "row %d: reason \"%s\" does not mention \"%s\"", i + 1,
                       reason, rows[i].why);
            CHECK_STR(end + 2, rows[i].line);
        }
        CHECK_INT(seen, nrej);
        CHECK(strtok_r(NULL, "\n", &save) == NULL);
        free(rej);
    }
    PGconn *c = t_sysdb();
    mrow want[] = {
        {21.0401, 105.8601, utc(2025, 3, 11, 1, 0, 0), "", "", 50, 10, 20, "viettel", "4G", "01"},
        {21.0411, 105.8611, utc(2025, 3, 11, 1, 10, 0), "", "", 12.5, 10, 20, "viettel", "4G",
         "01"},
    };
    char *exp = expected_rows(want, 2), *got = stored_rows(c, s.batch);
    CHECK_STR(got, exp);
    free(exp);
    free(got);
    PQfinish(c);
}

/* No reject file at all when every row is good (checked in format_csv via
 * reject_file null); and a file with no usable row is refused whole. */
TEST(ingest_measure, missing_columns_store_nothing)
{
    write_file(t_tmp("nocols.csv"), "lat,lon,operator,tech\n21.05,105.85,viettel,4G\n");
    PGconn *c = t_sysdb();
    totals before = db_totals(c);
    summary s;
    char *err = NULL;
    char args[600];
    snprintf(args, sizeof args, "'%s'", t_tmp("nocols.csv"));
    CHECK(ingest(args, &s, &err) != 0);
    CHECK_CONTAINS(err, "time");
    CHECK_CONTAINS(err, "download");
    totals after = db_totals(c);
    CHECK_TOTALS_SAME(before, after);
    free(err);
    PQfinish(c);
}

/* ---------------------------------------------------- 5. duplicates */

static void write_dup_rows(const char *path, int from, int to)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fprintf(f, "lat,lon,time,operator,tech,download\n");
    long long t0 = utc(2025, 3, 12, 1, 0, 0);
    for (int i = from; i < to; i++)
        fprintf(f, "%.4f,%.4f,%s,viettel,4G,%d\n", 21.05 + 0.001 * i, 105.80 + 0.001 * i,
                iso7(t0 + 60 * i), 30 + 5 * i);
    fclose(f);
}

TEST(ingest_measure, same_file_twice_and_overlap)
{
    write_dup_rows(t_tmp("dup-a.csv"), 0, 6); /* downloads 30..55: 4 meet 40 */
    write_dup_rows(t_tmp("dup-b.csv"), 3, 9); /* 3 old rows, 3 new (45..70: all meet) */
    summary s1, s2, s3;
    char a[600], b[600];
    snprintf(a, sizeof a, "'%s'", t_tmp("dup-a.csv"));
    snprintf(b, sizeof b, "'%s'", t_tmp("dup-b.csv"));
    PGconn *c = t_sysdb();
    totals t0 = db_totals(c);
    CHECK_INT(ingest(a, &s1, NULL), 0);
    CHECK_SUMMARY(s1, 6, 6, 0, 0, 4, 2);
    totals t1 = db_totals(c);
    CHECK_INT(ingest(a, &s2, NULL), 0);
    CHECK_SUMMARY(s2, 6, 0, 0, 6, 0, 0);
    CHECK(s2.batch != s1.batch);
    totals t2 = db_totals(c);
    CHECK_INT(t2.rows, t1.rows);
    CHECK_INT(t2.cell_tests, t1.cell_tests); /* duplicates add no test to any cell */
    CHECK_INT(t1.rows - t0.rows, 6);
    CHECK_INT(ingest(b, &s3, NULL), 0);
    CHECK_SUMMARY(s3, 6, 3, 0, 3, 3, 0);
    totals t3 = db_totals(c);
    CHECK_INT(t3.rows - t2.rows, 3);
    /* 4 levels x 3 new tests */
    CHECK_INT(t3.cell_tests - t2.cell_tests, 12);
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM measurements WHERE measured_at >= '2025-03-12'"
                        " AND measured_at < '2025-03-13'"),
              9);
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM measurements WHERE batch_id = %lld", s2.batch), 0);
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM measurements WHERE batch_id = %lld", s3.batch), 3);
    PQfinish(c);
}

/* Rows i in [from, to) of `op` 3G around Quy Nhơn over two months in
 * blocks of `block` rows, out of month order (April, May, April again:
 * once April's rows have gone by, those wait in a spool), and `bad` rows
 * that are rejected (a negative speed).  Download 30 + 3 (i % 40) Mbps. */
static void write_month_rows(const char *path, const char *op, int from, int to, int block, int bad)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fprintf(f, "lat,lon,time,operator,tech,download\n");
    for (int i = from; i < to; i++) {
        int month = i / block % 3 == 1 ? 5 : 4;
        fprintf(f, "%.4f,%.4f,%s,%s,3G,%d\n", 13.70 + 0.0007 * (i % 100),
                109.20 + 0.0009 * (i / 100 % 100), iso7(utc(2025, month, 10, 3, 0, 0) + i), op,
                30 + 3 * (i % 40));
    }
    for (int k = 0; k < bad; k++)
        fprintf(f, "13.7001,109.2001,2025-04-20T01:00:00Z,%s,3G,-5\n", op);
    fclose(f);
}

static int meeting_of(int from, int to)
{
    int n = 0;
    for (int i = from; i < to; i++)
        n += 30 + 3 * (i % 40) >= 40;
    return n;
}

/* A test keyed by its source's own id is one test whatever time it is sent
 * with: sent again an hour later (same place, same month) it is a
 * duplicate, not a second test. */
TEST(ingest_measure, test_id_is_the_key)
{
    long long t0 = utc(2025, 5, 10, 3, 0, 0);
    const char *hdr = "test_id,lat,lon,time,operator,tech,download\n";
    FILE *f = fopen(t_tmp("tid1.csv"), "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    fprintf(f, "%sT-1,21.0297,105.8511,%s,viettel,4G,30\n", hdr, iso7(t0));
    fprintf(f, "T-2,21.0297,105.8511,%s,viettel,4G,30\n", iso7(t0 + 60));
    fclose(f);
    f = fopen(t_tmp("tid2.csv"), "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    fprintf(f, "%sT-1,21.0297,105.8511,%s,viettel,4G,30\n", hdr, iso7(t0 + 3600));
    fprintf(f, "T-3,21.0297,105.8511,%s,viettel,4G,50\n", iso7(t0 + 120));
    fclose(f);
    summary s;
    char args[600];
    snprintf(args, sizeof args, "'%s'", t_tmp("tid1.csv"));
    CHECK_INT(ingest(args, &s, NULL), 0);
    CHECK_SUMMARY(s, 2, 2, 0, 0, 0, 2);
    snprintf(args, sizeof args, "'%s'", t_tmp("tid2.csv"));
    CHECK_INT(ingest(args, &s, NULL), 0);
    CHECK_SUMMARY(s, 2, 1, 0, 1, 1, 0);
    PGconn *c = t_sysdb();
    /* T-1 as it was first stored: at t0 */
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM measurements WHERE batch_id = %lld", s.batch), 1);
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM measurements WHERE lat7 = 210297000"
                        " AND lon7 = 1058511000 AND measured_at >= '2025-05-10T03:00:00Z'"
                        " AND measured_at < '2025-05-10T05:00:00Z'"),
              3);
    PQfinish(c);
}

/* A month before the pre-made partitions: its partition is made by the
 * batch, with its unique key, so the same file again adds nothing. */
TEST(ingest_measure, new_month_partition_has_the_key)
{
    FILE *f = fopen(t_tmp("june2023.csv"), "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    fprintf(f, "lat,lon,time,operator,tech,download\n"
               "16.0544,108.2022,2023-06-15T08:30:00+07:00,viettel,4G,61.5\n");
    fclose(f);
    char args[600];
    snprintf(args, sizeof args, "'%s'", t_tmp("june2023.csv"));
    summary s;
    CHECK_INT(ingest(args, &s, NULL), 0);
    CHECK_SUMMARY(s, 1, 1, 0, 0, 1, 0);
    CHECK_INT(ingest(args, &s, NULL), 0);
    CHECK_SUMMARY(s, 1, 0, 0, 1, 0, 0);
    PGconn *c = t_sysdb();
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM pg_indexes WHERE tablename = 'measurements_2023_06'"
                        " AND indexname = 'measurements_2023_06_key'"
                        " AND indexdef LIKE 'CREATE UNIQUE INDEX %% (cell16, dedupe_key)'"),
              1);
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM measurements WHERE measured_at"
                        " = '2023-06-15T01:30:00Z'"),
              1);
    PQfinish(c);
}

/* A batch that meets stored rows is read again and merged: across months,
 * with rows waiting in a month's spool, with rejects written once. */
TEST(ingest_measure, overlap_read_again_across_months)
{
    write_month_rows(t_tmp("mon-a.csv"), "mobifone", 0, 24, 4, 2);
    write_month_rows(t_tmp("mon-b.csv"), "mobifone", 12, 36, 4, 1); /* 12 stored, 12 new */
    summary s1, s2, s3;
    char a[1200], b[1200];
    snprintf(a, sizeof a, "'%s' --rejects '%s'", t_tmp("mon-a.csv"), t_tmp("mon-a-rej.csv"));
    snprintf(b, sizeof b, "'%s' --rejects '%s'", t_tmp("mon-b.csv"), t_tmp("mon-b-rej.csv"));
    PGconn *c = t_sysdb();
    totals t0 = db_totals(c);
    CHECK_INT(ingest(a, &s1, NULL), 0);
    CHECK_SUMMARY(s1, 26, 24, 2, 0, meeting_of(0, 24), 24 - meeting_of(0, 24));
    totals t1 = db_totals(c);
    CHECK_INT(t1.rows - t0.rows, 24);
    CHECK_INT(ingest(a, &s2, NULL), 0);
    CHECK_SUMMARY(s2, 26, 0, 2, 24, 0, 0);
    totals t2 = db_totals(c);
    CHECK_INT(t2.rows, t1.rows);
    CHECK_INT(t2.cell_tests, t1.cell_tests);
    char *rej = read_all(t_tmp("mon-a-rej.csv"));
    int lines = 0;
    for (const char *q = rej; q && *q; q++)
        lines += *q == '\n';
    CHECK_INT(lines, 3); /* the header and the two bad rows, once */
    free(rej);
    CHECK_INT(ingest(b, &s3, NULL), 0);
    CHECK_SUMMARY(s3, 25, 12, 1, 12, meeting_of(24, 36), 12 - meeting_of(24, 36));
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM measurements WHERE batch_id = %lld", s3.batch), 12);
    /* every test of the area once, and its village cells as the raw rows say */
    CHECK_INT(
        sql_ll(c, "SELECT count(*) FROM measurements WHERE carrier = (SELECT num FROM carriers"
                  " WHERE code = 'mobifone') AND tech = 3 AND (lat7 / 1e7) BETWEEN 13.69 AND 13.78"
                  " AND (lon7 / 1e7) BETWEEN 109.19 AND 109.30"),
        36);
    CHECK_INT(sql_ll(c,
                     "WITH m AS (SELECT (cell16 >> 16)::int AS x, (cell16 & 65535)::int AS y,"
                     "  count(*) AS n, count(*) FILTER (WHERE meets_min) AS k,"
                     "  percentile_cont(0.5) WITHIN GROUP (ORDER BY download_mbps) AS p50"
                     "  FROM measurements WHERE carrier = (SELECT num FROM carriers WHERE code = "
                     "'mobifone') AND tech = 3"
                     "  AND (lat7 / 1e7) BETWEEN 13.69 AND 13.78 AND (lon7 / 1e7) BETWEEN 109.19"
                     "  AND 109.30 GROUP BY 1, 2),"
                     " c AS (SELECT cell_x AS x, cell_y AS y, tests, meeting_min, p50_download"
                     "  FROM coverage_cells_in(16, (SELECT min(x) FROM m), (SELECT max(x) FROM m),"
                     "  (SELECT min(y) FROM m), (SELECT max(y) FROM m), 'mobifone', '3G'))"
                     " SELECT count(*) FROM m FULL JOIN c USING (x, y) WHERE m.n IS NULL"
                     " OR c.tests IS NULL OR m.n <> c.tests OR m.k <> c.meeting_min"
                     " OR abs(m.p50 - c.p50_download) > 1e-3"),
              0);

    /* 150,000 rows (three runs): April's rows after May's wait in a spool;
     * loaded twice, the second load is read again and adds nothing. */
    write_month_rows(t_tmp("mon-big.csv"), "vietnamobile", 0, 150000, 70000, 0);
    char big[1200];
    snprintf(big, sizeof big, "'%s'", t_tmp("mon-big.csv"));
    summary b1, b2;
    CHECK_INT(ingest(big, &b1, NULL), 0);
    CHECK_SUMMARY(b1, 150000, 150000, 0, 0, meeting_of(0, 150000), 150000 - meeting_of(0, 150000));
    CHECK_INT(sql_ll(c,
                     "SELECT count(*) FROM measurements WHERE batch_id = %lld"
                     " AND measured_at < '2025-05-01'",
                     b1.batch),
              80000);
    totals tb = db_totals(c);
    CHECK_INT(ingest(big, &b2, NULL), 0);
    CHECK_SUMMARY(b2, 150000, 0, 0, 150000, 0, 0);
    totals tb2 = db_totals(c);
    CHECK_INT(tb2.rows, tb.rows);
    CHECK_INT(tb2.cell_tests, tb.cell_tests);
    PQfinish(c);
}

/* ----------------------------------------------- 6. interrupted load */

#define BIG_ROWS 150000

static long long big_copy_running(PGconn *super)
{
    return sql_ll(super, "SELECT count(*) FROM pg_stat_activity WHERE query ILIKE"
                         " 'COPY measurements%%' AND state = 'active' AND pid <> pg_backend_pid()");
}

TEST(ingest_measure, interrupted_load_leaves_nothing)
{
    const char *big = t_tmp("big.csv");
    FILE *f = fopen(big, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    long long t0 = utc(2025, 8, 1, 0, 0, 0);
    fprintf(f, "lat,lon,time,operator,tech,download\n");
    for (int i = 0; i < BIG_ROWS; i++)
        fprintf(f, "%.5f,%.5f,%lld,viettel,5G,%.1f\n", 20.50 + (i % 500) * 0.0005,
                105.50 + (i / 500) * 0.0005, t0 + i, (i % 997) / 10.0);
    fclose(f);

    PGconn *c = t_sysdb();
    const char *super_ci = getenv("LOMSONG_TEST_SUPER_DB");
    PGconn *super = super_ci && *super_ci ? t_connect(super_ci) : NULL;
    totals before = db_totals(c);

    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *dn = freopen("/dev/null", "w", stdout);
        dn = freopen("/dev/null", "w", stderr);
        (void)dn;
        execl(t_bin(), "lomsong", "ingest", "measurements", big, (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0);
    if (pid <= 0) {
        PQfinish(c);
        PQfinish(super);
        return;
    }
    /* Wait until the rows are streaming into the database. */
    int seen = 0, exited = 0, status = 0;
    for (int i = 0; i < 600 && !seen && !exited; i++) {
        if (super)
            seen = big_copy_running(super) > 0;
        else if (i >= 30)
            seen = 1; /* no superuser conninfo: 1.5 s in, the load is running */
        exited = waitpid(pid, &status, WNOHANG) == pid;
        if (!seen && !exited)
            usleep(50 * 1000);
    }
    CHECK(seen);
    CHECK(!exited);
    usleep(20 * 1000);
    if (!exited) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    }
    /* The server notices the client is gone and rolls back. */
    for (int i = 0; super && i < 200 && big_copy_running(super) > 0; i++)
        usleep(50 * 1000);
    if (!super)
        usleep(1000 * 1000);
    totals after = db_totals(c);
    CHECK_TOTALS_SAME(before, after);
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM measurements WHERE measured_at >= '2025-08-01'"
                        " AND measured_at < '2025-08-04'"),
              0);
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM ingest_batches WHERE status <> 'committed'"), 0);

    /* The same file again, to the end: everything is there. */
    summary s;
    char args[600];
    snprintf(args, sizeof args, "'%s'", big);
    CHECK_INT(ingest(args, &s, NULL), 0);
    long long meet = 0;
    for (int i = 0; i < BIG_ROWS; i++)
        meet += (i % 997) >= 400;
    CHECK_SUMMARY(s, BIG_ROWS, BIG_ROWS, 0, 0, meet, BIG_ROWS - meet);
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM measurements WHERE measured_at >= '2025-08-01'"
                        " AND measured_at < '2025-08-04'"),
              BIG_ROWS);
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM measurements WHERE batch_id = %lld", s.batch),
              BIG_ROWS);
    totals done = db_totals(c);
    CHECK_INT(done.rows - before.rows, BIG_ROWS);
    CHECK_INT(done.batches - before.batches, 1);
    CHECK_INT(done.cell_tests - before.cell_tests, 4LL * BIG_ROWS);
    PQfinish(c);
    PQfinish(super);
}

/* --------------------------------------- 7. cells against raw rows */

#define COV_SITES 40
#define COV_PER_SITE 150

/* One level's comparison: coverage_cells of gmobile 2G against the same
 * aggregates computed from the raw measurements.  Returns
 * "cells|only_one_side|tests_diff|meeting_diff|max_p10_diff|max_p50_diff". */
static char *compare_level(PGconn *c, int z)
{
    return t_sqlf(
        c,
        "WITH m AS (SELECT ((cell16 >> 16) >> %d)::int AS x, ((cell16 & 65535) >> %d)::int AS y,"
        "  count(*) AS n, count(*) FILTER (WHERE download_mbps >= 40) AS k,"
        "  percentile_cont(0.1) WITHIN GROUP (ORDER BY download_mbps) AS p10,"
        "  percentile_cont(0.5) WITHIN GROUP (ORDER BY download_mbps) AS p50"
        "  FROM measurements WHERE carrier = (SELECT num FROM carriers WHERE code = 'gmobile') AND "
        "tech = 2 GROUP BY 1, 2),"
        " c AS (SELECT cell_x AS x, cell_y AS y, tests, meeting_min, p10_download, p50_download"
        "  FROM coverage_cells_in(%d, 0, 65535, 0, 65535, 'gmobile', '2G'))"
        " SELECT format('%%s|%%s|%%s|%%s|%%s|%%s', count(*),"
        "  count(*) FILTER (WHERE m.n IS NULL OR c.tests IS NULL),"
        "  count(*) FILTER (WHERE m.n <> c.tests), count(*) FILTER (WHERE m.k <> c.meeting_min),"
        "  round(coalesce(max(abs(m.p10 - c.p10_download)), -1)::numeric, 6),"
        "  round(coalesce(max(abs(m.p50 - c.p50_download)), -1)::numeric, 6))"
        " FROM m FULL JOIN c USING (x, y)",
        16 - z, 16 - z, z);
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* Distinct cells at level z among the points. */
static long distinct_cells(const double *lat, const double *lon, int n, int z)
{
    long *keys = malloc(sizeof(long) * (size_t)n);
    if (!keys)
        return -1;
    for (int i = 0; i < n; i++) {
        long x, y;
        tile(z, lon[i], lat[i], &x, &y);
        keys[i] = (x << 20) | y;
    }
    qsort(keys, (size_t)n, sizeof(long), cmp_long);
    long d = 0;
    for (int i = 0; i < n; i++)
        d += i == 0 || keys[i] != keys[i - 1];
    free(keys);
    return d;
}

TEST(ingest_measure, cells_match_raw_rows)
{
    int n = COV_SITES * COV_PER_SITE;
    double *lat = malloc(sizeof(double) * (size_t)n), *lon = malloc(sizeof(double) * (size_t)n);
    FILE *f = fopen(t_tmp("cov.csv"), "wb");
    CHECK(lat && lon && f);
    if (!lat || !lon || !f) {
        free(lat);
        free(lon);
        if (f)
            fclose(f);
        return;
    }
    /* 40 sites ~5 km apart around Buôn Ma Thuột, 150 tests each, a few
     * hundred metres across (so some sites straddle two village cells);
     * downloads dense (0.4 Mbps apart) over a 60 Mbps range that differs
     * from site to site, some all below 40, some mostly above. */
    long long t0 = utc(2025, 3, 20, 0, 0, 0);
    int meet = 0;
    fprintf(f, "lat,lon,time,operator,tech,download\n");
    for (int k = 0, i = 0; k < COV_SITES; k++) {
        for (int j = 0; j < COV_PER_SITE; j++, i++) {
            lat[i] = 12.60 + (k / 8) * 0.05 + (j / 10 % 15) * 0.0002;
            lon[i] = 107.90 + (k % 8) * 0.05 + (j % 10) * 0.0003;
            int tenths = (k % 6) * 80 + ((j * 7) % COV_PER_SITE) * 4;
            meet += tenths >= 400;
            fprintf(f, "%.5f,%.5f,%s,gmobile,2G,%d.%d\n", lat[i], lon[i], iso7(t0 + i), tenths / 10,
                    tenths % 10);
        }
    }
    fclose(f);
    summary s;
    char args[600];
    snprintf(args, sizeof args, "'%s'", t_tmp("cov.csv"));
    CHECK_INT(ingest(args, &s, NULL), 0);
    CHECK_SUMMARY(s, n, n, 0, 0, meet, n - meet);

    PGconn *c = t_sysdb();
    /* the batch's rows in the database agree with the summary */
    CHECK_INT(sql_ll(c,
                     "SELECT count(*) FILTER (WHERE download_mbps >= 40) FROM measurements"
                     " WHERE batch_id = %lld",
                     s.batch),
              s.meeting_min);
    CHECK_INT(sql_ll(c,
                     "SELECT count(*) FILTER (WHERE meets_min) FROM measurements"
                     " WHERE batch_id = %lld",
                     s.batch),
              s.meeting_min);
    CHECK_INT(sql_ll(c,
                     "SELECT count(*) FILTER (WHERE NOT meets_min) FROM measurements"
                     " WHERE batch_id = %lld",
                     s.batch),
              s.below_min);
    /* every row's cell16 is the level-16 tile of its point */
    CHECK_INT(
        sql_ll(c,
               "SELECT count(*) FROM measurements WHERE batch_id = %lld AND cell16 <>"
               " ((floor(((lon7 / 1e7) + 180) / 360 * 65536)::bigint << 16)"
               "  | floor((1 - ln(tan(radians((lat7 / 1e7))) + 1 / cos(radians((lat7 / 1e7))))"
               "    / pi()) / 2 * 65536)::bigint)",
               s.batch),
        0);
    static const int levels[] = {16, 13, 10, 7};
    for (int i = 0; i < 4; i++) {
        int z = levels[i];
        char *r = compare_level(c, z);
        long cells = -1, one_side = -1, tests_diff = -1, meet_diff = -1;
        double p10 = -1, p50 = -1;
        if (!r || sscanf(r, "%ld|%ld|%ld|%ld|%lf|%lf", &cells, &one_side, &tests_diff, &meet_diff,
                         &p10, &p50) != 6) {
            t_fail(__FILE__, __LINE__, "level %d: %s", z, r ? r : "(null)");
            free(r);
            continue;
        }
        long want_cells = distinct_cells(lat, lon, n, z);
        double tol = z == 16 ? 1e-3 : 1.0;
        if (cells != want_cells || one_side != 0 || tests_diff != 0 || meet_diff != 0 || p10 < 0 ||
            p10 > tol || p50 < 0 || p50 > tol)
            t_fail(__FILE__, __LINE__,
                   "level %d: %ld cells (want %ld), %ld on one side only, %ld with other tests, "
                   "%ld with other meeting_min, p10 off by %g, p50 off by %g (tolerance %g)",
                   z, cells, want_cells, one_side, tests_diff, meet_diff, p10, p50, tol);
        free(r);
    }
    /* the test is only meaningful when the levels differ in their cells */
    CHECK(distinct_cells(lat, lon, n, 16) > distinct_cells(lat, lon, n, 13));
    CHECK(distinct_cells(lat, lon, n, 13) > distinct_cells(lat, lon, n, 10));
    free(lat);
    free(lon);
    PQfinish(c);
}

/* A phone's device id is never stored: only the first 8 bytes of its
 * SHA-256, as hex, so a device's tests can be told apart without naming it. */
TEST(ingest_measure, device_ids_are_stored_hashed)
{
    const char *path = t_tmp("devices.csv");
    if (write_file(path, "lat,lon,time,operator,tech,download,device_id\n"
                         "8.6820,106.6100,2025-09-02T08:00:00Z,Vietnamobile,4G,12.5,phone-A-123\n"
                         "8.6821,106.6101,2025-09-02T08:00:01Z,Vietnamobile,4G,13.5,\n") != 0)
        return;
    summary s;
    char args[600];
    snprintf(args, sizeof args, "'%s'", path);
    CHECK_INT(ingest(args, &s, NULL), 0);
    CHECK_SUMMARY(s, 2, 2, 0, 0, 0, 2);
    PGconn *c = t_sysdb();
    CHECK_INT(sql_ll(c,
                     "SELECT count(*) FROM measurements WHERE batch_id = %lld AND device_hash ="
                     " left(encode(sha256('phone-A-123'), 'hex'), 16)",
                     s.batch),
              1);
    CHECK_INT(sql_ll(c,
                     "SELECT count(*) FROM measurements WHERE batch_id = %lld"
                     " AND device_hash IS NULL",
                     s.batch),
              1);
    PQfinish(c);
}

/* Speeds are stored as real: 39.99999999 Mbps is stored as 40 and must meet
 * the 40 Mbps minimum (39.9999 stays below), and the coarse cells' histogram
 * bins are those of the stored values. */
TEST(ingest_measure, verdict_on_the_stored_speed)
{
    const char *path = t_tmp("rounding.csv");
    if (write_file(path, "lat,lon,time,operator,tech,download\n"
                         "8.6810,106.6090,2025-09-01T08:00:00Z,Vietnamobile,5G,39.99999999\n"
                         "8.6811,106.6091,2025-09-01T08:00:01Z,Vietnamobile,5G,39.9999\n"
                         "8.6812,106.6092,2025-09-01T08:00:02Z,Vietnamobile,5G,40\n"
                         "8.6813,106.6093,2025-09-01T08:00:03Z,Vietnamobile,5G,44.99999999\n") != 0)
        return;
    summary s;
    char args[600];
    snprintf(args, sizeof args, "'%s'", path);
    CHECK_INT(ingest(args, &s, NULL), 0);
    CHECK_SUMMARY(s, 4, 4, 0, 0, 3, 1);
    PGconn *c = t_sysdb();
    CHECK_INT(sql_ll(c,
                     "SELECT count(*) FROM measurements WHERE batch_id = %lld"
                     " AND meets_min <> (download_mbps >= 40)",
                     s.batch),
              0);
    /* the level-13 cell's histogram counts the stored values' bins */
    CHECK_INT(sql_ll(c,
                     "SELECT count(*) FROM (SELECT b, count(*) AS n FROM (SELECT"
                     " hist_bin(download_mbps) AS b FROM measurements WHERE batch_id = %lld) r"
                     " GROUP BY b) m JOIN coverage_cells cc ON cc.res = 13"
                     " AND cc.carrier_code = 'vietnamobile' AND cc.technology = '5G'"
                     " AND cc.cell_x = floor((106.609 + 180) / 360 * 8192)"
                     " WHERE cc.hist[m.b + 1] = m.n",
                     s.batch),
              3); /* bins 35-40 (39.9999), 40-45 (39.99999999 and 40), 45-50 (44.99999999) */
    PQfinish(c);
}

/* Level-16 cells against the raw rows, every carrier and technology, in
 * the box around Hà Giang the next test loads (no other test goes there):
 * "cells|one side only|other tests|other meeting|max p10 diff|max p50 diff". */
static char *compare_box(PGconn *c, int z)
{
    return t_sqlf(
        c,
        "WITH m AS (SELECT ((cell16 >> 16) >> %d)::int AS x, ((cell16 & 65535) >> %d)::int AS y,"
        "  (SELECT code FROM carriers WHERE num = carrier) AS carrier_code, tech || 'G' AS "
        "technology,"
        "  count(*) AS n, count(*) FILTER (WHERE meets_min) AS k,"
        "  percentile_cont(0.1) WITHIN GROUP (ORDER BY download_mbps) AS p10,"
        "  percentile_cont(0.5) WITHIN GROUP (ORDER BY download_mbps) AS p50"
        "  FROM measurements WHERE (lat7 / 1e7) BETWEEN 22.7 AND 22.95"
        "  AND (lon7 / 1e7) BETWEEN 104.85 AND 105.1 GROUP BY 1, 2, 3, 4),"
        " c AS (SELECT cell_x AS x, cell_y AS y, carrier_code, technology, tests, meeting_min,"
        "  p10_download, p50_download FROM coverage_cells_in(%d, (SELECT min(x) FROM m),"
        "  (SELECT max(x) FROM m), (SELECT min(y) FROM m), (SELECT max(y) FROM m), NULL, NULL))"
        " SELECT format('%%s|%%s|%%s|%%s|%%s|%%s', count(*),"
        "  count(*) FILTER (WHERE m.n IS NULL OR c.tests IS NULL),"
        "  count(*) FILTER (WHERE m.n <> c.tests), count(*) FILTER (WHERE m.k <> c.meeting_min),"
        "  round(coalesce(max(abs(m.p10 - c.p10_download)), -1)::numeric, 6),"
        "  round(coalesce(max(abs(m.p50 - c.p50_download)), -1)::numeric, 6))"
        " FROM m FULL JOIN c USING (x, y, carrier_code, technology)",
        16 - z, 16 - z, z);
}

/* Writes n tests at 60 sites around Hà Giang, three carriers and two
 * technologies, rows of one cell spread over the whole file (so over
 * several of ingest's sorted runs), one second apart from t0; salt changes
 * the speeds, not the places. */
static int write_spread(const char *path, int n, long long t0, int salt)
{
    static const char *ops[] = {"Viettel", "MobiFone", "VinaPhone"};
    static const char *techs[] = {"4G", "3G"};
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    fprintf(f, "lat,lon,time,operator,network_type,download_mbps\n");
    for (int i = 0; i < n; i++) {
        int site = i * 7 % 60;
        double lat = 22.75 + (site / 10) * 0.03 + (i % 13) * 0.0004;
        double lon = 104.90 + (site % 10) * 0.015 + (i % 11) * 0.0005;
        int tenths = (i * 37 + salt * 11) % 1200;
        fprintf(f, "%.6f,%.6f,%s,%s,%s,%d.%d\n", lat, lon, iso7(t0 + i), ops[i % 3],
                techs[(i / 3) % 2], tenths / 10, tenths % 10);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* tol: level 16 is exact; coarser cells read p10/p50 off a histogram whose
 * bins are up to 25 Mbps wide in this file's range. */
static void check_box(PGconn *c, int z, double tol, const char *when)
{
    char *r = compare_box(c, z);
    long cells = -1, one_side = -1, tests_diff = -1, meet_diff = -1;
    double p10 = -1, p50 = -1;
    if (!r ||
        sscanf(r, "%ld|%ld|%ld|%ld|%lf|%lf", &cells, &one_side, &tests_diff, &meet_diff, &p10,
               &p50) != 6 ||
        cells < 50 || one_side != 0 || tests_diff != 0 || meet_diff != 0 || p10 < 0 || p10 > tol ||
        p50 < 0 || p50 > tol)
        t_fail(__FILE__, __LINE__, "%s, level %d: %s", when, z, r ? r : "(null)");
    free(r);
}

/* 150,000 rows are sorted and sent in several runs, and each level-16
 * cell's figures are merged from all of them; a second file of new tests in
 * the same cells adds to cells that exist (recomputed from the raw rows). */
TEST(ingest_measure, cells_across_runs_and_batches)
{
    int n = 150000;
    CHECK_INT(write_spread(t_tmp("spread1.csv"), n, utc(2025, 6, 2, 0, 0, 0), 0), 0);
    CHECK_INT(write_spread(t_tmp("spread2.csv"), 6000, utc(2025, 6, 20, 0, 0, 0), 5), 0);
    summary s;
    char args[600];
    snprintf(args, sizeof args, "'%s'", t_tmp("spread1.csv"));
    CHECK_INT(ingest(args, &s, NULL), 0);
    CHECK_INT(s.rows, n);
    CHECK_INT(s.accepted, n);
    PGconn *c = t_sysdb();
    check_box(c, 16, 1e-3, "first file");
    check_box(c, 13, 25, "first file");
    /* coarse cells stored new carry the p10/p50 the database derives from
     * their histogram, to the bit */
    const char *derived = "SELECT count(*) FROM coverage_cells WHERE res < 16"
                          " AND (p10_download IS DISTINCT FROM hist_pct(hist, 0.1)"
                          " OR p50_download IS DISTINCT FROM hist_pct(hist, 0.5))";
    CHECK(sql_ll(c, "SELECT count(*) FROM coverage_cells WHERE res < 16") > 100);
    CHECK_INT(sql_ll(c, "%s", derived), 0);
    long long cells16 = sql_ll(c, "SELECT count(*) FROM coverage_cells16");
    snprintf(args, sizeof args, "'%s'", t_tmp("spread2.csv"));
    CHECK_INT(ingest(args, &s, NULL), 0);
    CHECK_INT(s.accepted, 6000);
    CHECK_INT(s.duplicates, 0);
    check_box(c, 16, 1e-3, "second file");
    check_box(c, 13, 25, "second file");
    CHECK_INT(sql_ll(c, "%s", derived), 0);
    /* the second file's sites are the first's: no new village cell */
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM coverage_cells16"), cells16);
    PQfinish(c);
}

/* The province grid is stored with the provinces (area_grids, by their
 * version) and taken from there by the next ingest: the stored grid is what
 * decides (one of the same format with no province in it makes every row
 * "outside Vietnam"); one that cannot be read is built again and replaced;
 * one made for provinces that changed since is not used, and goes. */
TEST(ingest_measure, stored_province_grid)
{
    static const char *empty = /* "lsgrid1", 3600 x 3800, 900 x 950, province "01", all 0 */
        "'\\x6c7367726964310000000e1000000ed800000384000003b6000000013031000000000000"
        "0080fbc20600d89734'::bytea";
    long long t0 = utc(2025, 3, 29, 2, 0, 0);
    PGconn *c = t_sysdb();
    char *good = NULL;
    /* 0: as stored by the units load or the ingest before; 1: an empty grid;
     * 2: a damaged one; 3: an empty one for provinces that changed since */
    for (int k = 0; k < 4; k++) {
        if (k == 1 || k == 3)
            free(t_sqlf(c, "UPDATE area_grids SET grid = %s", empty));
        if (k == 2) /* "lsgrid1" and nothing more */
            free(t_sql(c, "UPDATE area_grids SET grid = '\\x6c73677269643100'::bytea"));
        if (k == 3) /* a province row written again, as it was: another version */
            free(t_sql(c, "UPDATE admin_units SET name = name"
                          " WHERE level = 'province' AND code = '01' AND valid_to IS NULL"));
        char file[64];
        snprintf(file, sizeof file, "grid%d.csv", k);
        FILE *f = fopen(t_tmp(file), "wb");
        CHECK(f != NULL);
        if (!f)
            break;
        fprintf(f,
                "lat,lon,time,operator,tech,download\n21.0285,105.8542,%s,viettel,4G,50\n"
                "10.7769,106.7009,%s,mobifone,4G,20\n",
                iso7(t0 + 600 * k), iso7(t0 + 600 * k + 60));
        fclose(f);
        char args[600];
        snprintf(args, sizeof args, "'%s'", t_tmp(file));
        summary s;
        CHECK_INT(ingest(args, &s, NULL), 0);
        if (k == 1) {
            CHECK_SUMMARY(s, 2, 0, 2, 0, 0, 0);
            char *why = read_all(s.reject_file);
            CHECK(why && strstr(why, "outside Vietnam"));
            free(why);
        } else {
            CHECK_SUMMARY(s, 2, 2, 0, 0, 1, 1);
            CHECK_INT(sql_ll(c,
                             "SELECT count(*) FROM measurements WHERE batch_id = %lld"
                             " AND province IN (1, 79)",
                             s.batch),
                      2);
        }
        /* one grid kept: the provinces in force's */
        CHECK_INT(sql_ll(c, "SELECT count(*) FROM area_grids"), 1);
        CHECK_INT(sql_ll(c, "SELECT count(*) FROM area_grids WHERE version = area_version()"), 1);
        char *now = t_sql(c, "SELECT md5(grid) FROM area_grids");
        if (k == 0)
            good = now;
        else if (k == 1)
            free(now);
        else { /* built again and stored in its place: the same grid */
            CHECK_STR(now, good);
            free(now);
        }
    }
    free(good);
    PQfinish(c);
}

/* ------------------------------------------------------------- 8. HTTP */

static char *tok_viettel, *tok_vinaphone, *tok_loc01, *tok_public;
static long long http_batch;

static int is_problem(const t_resp *r)
{
    if (!r->content_type || strcmp(r->content_type, "application/problem+json") != 0)
        return 0;
    cJSON *j = cJSON_Parse(r->body);
    int ok = j && cJSON_IsNumber(cJSON_GetObjectItem(j, "status")) &&
             (long)cJSON_GetObjectItem(j, "status")->valuedouble == r->status &&
             cJSON_IsString(cJSON_GetObjectItem(j, "detail"));
    cJSON_Delete(j);
    return ok;
}

/* Đà Lạt: cell A's tests all meet 40 Mbps, cell B's none (viettel 3G). */
static const struct {
    double lat, lon, down;
} dalat[] = {
    {11.94040, 108.43830, 55}, {11.94045, 108.43835, 62.5}, {11.94050, 108.43840, 41},
    {11.92040, 108.46830, 12}, {11.92045, 108.46835, 20},
};

TEST(ingest_measure, http_server_starts)
{
    tok_viettel = t_token("carrier", NULL, "viettel");
    tok_vinaphone = t_token("carrier", NULL, "vinaphone");
    tok_loc01 = t_token("locality", "01", NULL);
    tok_public = t_token("public", NULL, NULL);
    CHECK(t_server_start("") != NULL);
}

TEST(ingest_measure, http_carrier_upload)
{
    char body[4096];
    long long t0 = utc(2025, 3, 25, 2, 0, 0);
    size_t len = (size_t)snprintf(body, sizeof body, "lat,lon,time,operator,tech,download\n");
    int n = (int)(sizeof dalat / sizeof dalat[0]);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(body + len, sizeof body - len, "%.5f,%.5f,%s,viettel,3G,%g\n",
                                dalat[i].lat, dalat[i].lon, iso7(t0 + 60 * i), dalat[i].down);
    /* row 6: another carrier's measurement */
    len += (size_t)snprintf(body + len, sizeof body - len, "11.94100,108.43900,%s,mobifone,3G,70\n",
                            iso7(t0 + 600));
    t_resp r;
    CHECK_INT(t_http("POST", "/v1/measurements?format=csv&name=dalat.csv", tok_viettel, body, len,
                     NULL, &r),
              0);
    CHECK_INT(r.status, 201);
    summary s;
    parse_summary(r.body, &s);
    CHECK_SUMMARY(s, 6, 5, 1, 0, 3, 2);
    http_batch = s.batch;
    char url[64];
    snprintf(url, sizeof url, "/v1/batches/%lld/rejects", s.batch);
    CHECK_STR(s.reject_file, url);
    char loc[64];
    snprintf(loc, sizeof loc, "/v1/batches/%lld", s.batch);
    CHECK_STR(t_header(&r, "Location"), loc);
    t_resp_free(&r);

    /* the reject file, for the same account */
    CHECK_INT(t_http("GET", url, tok_viettel, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK(r.content_type && strncmp(r.content_type, "text/csv", 8) == 0);
    const char *rhdr = "row,reason,lat,lon,time,operator,tech,download\n";
    CHECK(r.body && strncmp(r.body, rhdr, strlen(rhdr)) == 0);
    CHECK_CONTAINS(r.body, "\n6,\"");
    CHECK_CONTAINS(r.body, "not this account's carrier");
    CHECK_CONTAINS(r.body, ",mobifone,3G,70");
    t_resp_free(&r);

    /* the batch: its own account sees it, another carrier does not */
    CHECK_INT(t_http("GET", loc, tok_viettel, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "status")), "committed");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "source_name")), "dalat.csv");
    cJSON *sum = cJSON_GetObjectItem(j, "summary");
    CHECK(cJSON_IsNumber(cJSON_GetObjectItem(sum, "accepted")) &&
          cJSON_GetObjectItem(sum, "accepted")->valuedouble == 5);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(sum, "reject_file")), url);
    cJSON_Delete(j);
    t_resp_free(&r);
    CHECK_INT(t_http("GET", loc, tok_vinaphone, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 404);
    CHECK(is_problem(&r));
    t_resp_free(&r);
    CHECK_INT(t_http("GET", url, tok_vinaphone, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 404);
    t_resp_free(&r);
    CHECK_INT(t_http("GET", loc, NULL, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 401);
    CHECK(is_problem(&r));
    t_resp_free(&r);

    /* the same upload again: the upload is read a second time and merged,
     * nothing is added, the reject is reported again */
    CHECK_INT(t_http("POST", "/v1/measurements?format=csv&name=dalat.csv", tok_viettel, body, len,
                     NULL, &r),
              0);
    CHECK_INT(r.status, 201);
    summary s2;
    parse_summary(r.body, &s2);
    CHECK_SUMMARY(s2, 6, 0, 1, 5, 0, 0);
    t_resp_free(&r);

    PGconn *c = t_sysdb();
    CHECK_INT(
        sql_ll(c,
               "SELECT count(*) FROM measurements WHERE batch_id = %lld"
               " AND carrier = (SELECT num FROM carriers WHERE code = 'viettel') AND tech = 3",
               s.batch),
        5);
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM measurements WHERE batch_id = %lld", s.batch), 5);
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM measurements WHERE batch_id = %lld", s2.batch), 0);
    PQfinish(c);
}

/* The server keeps the province grid between uploads; a boundary moved
 * (the same points, so its point count stays) must be seen by the next. */
TEST(ingest_measure, http_grid_follows_a_moved_boundary)
{
    long long t0 = utc(2025, 3, 27, 2, 0, 0);
    summary s[2];
    PGconn *c = t_sysdb();
    for (int k = 0; k < 2; k++) {
        if (k == 1)
            free(t_sql(c, "UPDATE admin_units SET geom_simple = ST_Translate(geom_simple, 20, 0)"
                          " WHERE level = 'province' AND code = '01' AND valid_to IS NULL"));
        char body[256];
        int len =
            snprintf(body, sizeof body,
                     "lat,lon,time,operator,tech,download\n21.06000,105.79000,%s,viettel,4G,48\n",
                     iso7(t0 + 60 * k));
        t_resp r;
        CHECK_INT(
            t_http("POST", "/v1/measurements?format=csv", tok_viettel, body, (size_t)len, NULL, &r),
            0);
        CHECK_INT(r.status, 201);
        parse_summary(r.body, &s[k]);
        t_resp_free(&r);
    }
    free(t_sql(c, "UPDATE admin_units SET geom_simple = ST_Translate(geom_simple, -20, 0)"
                  " WHERE level = 'province' AND code = '01' AND valid_to IS NULL"));
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM measurements WHERE batch_id = %lld AND province = 1",
                     s[0].batch),
              1);
    /* Hanoi is 20 degrees east now: the row lies in no province (a reject) or
     * in a neighbour's margin, never in province 01. */
    CHECK_INT(sql_ll(c, "SELECT count(*) FROM measurements WHERE batch_id = %lld AND province = 1",
                     s[1].batch),
              0);
    PQfinish(c);
}

TEST(ingest_measure, http_locality_only_its_province)
{
    long long t0 = utc(2025, 3, 26, 2, 0, 0);
    char body[1024];
    int len = snprintf(body, sizeof body,
                       "lat,lon,time,operator,tech,download\n"
                       "21.06000,105.79000,%s,viettel,4G,48\n"
                       "22.48000,103.97000,%s,viettel,4G,48\n",
                       iso7(t0), iso7(t0 + 60));
    t_resp r;
    CHECK_INT(t_http("POST", "/v1/measurements?format=csv", tok_loc01, body, (size_t)len, NULL, &r),
              0);
    CHECK_INT(r.status, 201);
    summary s;
    parse_summary(r.body, &s);
    CHECK_SUMMARY(s, 2, 1, 1, 0, 1, 0);
    t_resp_free(&r);
    char url[64];
    snprintf(url, sizeof url, "/v1/batches/%lld/rejects", s.batch);
    CHECK_INT(t_http("GET", url, tok_loc01, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "\n2,\"");
    CHECK_CONTAINS(r.body, "province 15");
    CHECK_CONTAINS(r.body, "22.48000,103.97000");
    t_resp_free(&r);
    PGconn *c = t_sysdb();
    char *prov = t_sqlf(c,
                        "SELECT string_agg(lpad(province::text, 2, '0'), ',') FROM measurements "
                        "WHERE batch_id = %lld",
                        s.batch);
    CHECK_STR(prov, "01");
    free(prov);
    PQfinish(c);
}

TEST(ingest_measure, http_refusals_store_nothing)
{
    PGconn *c = t_sysdb();
    totals before = db_totals(c);
    const char *csv = "lat,lon,time,operator,tech,download\n"
                      "21.07000,105.79000,2025-03-27T09:00:00+07:00,viettel,4G,48\n";
    t_resp r;
    /* a public token may not upload */
    CHECK_INT(t_http("POST", "/v1/measurements?format=csv", tok_public, csv, strlen(csv), NULL, &r),
              0);
    CHECK_INT(r.status, 403);
    CHECK(is_problem(&r));
    t_resp_free(&r);
    /* nor may nobody */
    CHECK_INT(t_http("POST", "/v1/measurements?format=csv", NULL, csv, strlen(csv), NULL, &r), 0);
    CHECK_INT(r.status, 401);
    CHECK(is_problem(&r));
    t_resp_free(&r);
    /* a format nobody named */
    CHECK_INT(t_http("POST", "/v1/measurements", tok_viettel, csv, strlen(csv),
                     "Content-Type: text/plain", &r),
              0);
    CHECK_INT(r.status, 415);
    CHECK(is_problem(&r));
    CHECK_CONTAINS(r.body, "format");
    t_resp_free(&r);
    /* not a spreadsheet at all */
    const char *garbage = "this is not a spreadsheet\x01\x02\x03 PK nothing\n";
    CHECK_INT(t_http("POST", "/v1/measurements?format=xlsx", tok_viettel, garbage, strlen(garbage),
                     NULL, &r),
              0);
    CHECK(r.status >= 400 && r.status < 500);
    CHECK(is_problem(&r));
    CHECK_CONTAINS(r.body, "nothing was stored");
    t_resp_free(&r);
    totals after = db_totals(c);
    CHECK_TOTALS_SAME(before, after);
    PQfinish(c);
}

TEST(ingest_measure, http_coverage)
{
    int n = (int)(sizeof dalat / sizeof dalat[0]);
    long cx[8], cy[8];
    for (int i = 0; i < n; i++)
        tile(16, dalat[i].lon, dalat[i].lat, &cx[i], &cy[i]);
    t_resp r;
    CHECK_INT(t_http("GET", "/v1/coverage?bbox=108.40,11.90,108.50,11.98&carrier=viettel&tech=3G",
                     NULL, NULL, 0, NULL, &r),
              0);
    CHECK_INT(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    CHECK(j != NULL);
    CHECK_INT(cJSON_GetObjectItem(j, "res") ? cJSON_GetObjectItem(j, "res")->valueint : -1, 16);
    cJSON *feats = cJSON_GetObjectItem(j, "features");
    int nf = cJSON_GetArraySize(feats), total = 0;
    PGconn *c = t_sysdb();
    for (int f = 0; f < nf; f++) {
        cJSON *p = cJSON_GetObjectItem(cJSON_GetArrayItem(feats, f), "properties");
        long x = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(p, "x"));
        long y = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(p, "y"));
        int tests = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(p, "tests"));
        int want = 0;
        for (int i = 0; i < n; i++)
            want += cx[i] == x && cy[i] == y;
        if (tests != want)
            t_fail(__FILE__, __LINE__, "cell %ld/%ld: %d tests, want %d", x, y, tests, want);
        CHECK_INT(tests, sql_ll(c,
                                "SELECT count(*) FROM measurements WHERE carrier = (SELECT num FROM"
                                " carriers WHERE code = 'viettel') AND tech = 3 AND cell16 = %ld",
                                (x << 16) | y));
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(p, "carrier")), "viettel");
        total += tests;
    }
    CHECK_INT(total, n);
    CHECK(nf >= 2);
    PQfinish(c);
    cJSON_Delete(j);
    t_resp_free(&r);

    /* at a point of cell A: meets; of cell B: does not */
    for (int k = 0; k < 2; k++) {
        int i = k == 0 ? 0 : 3;
        char path[256];
        snprintf(path, sizeof path, "/v1/coverage/at?lat=%.5f&lon=%.5f&carrier=viettel&tech=3G",
                 dalat[i].lat, dalat[i].lon);
        CHECK_INT(t_http("GET", path, NULL, NULL, 0, NULL, &r), 0);
        CHECK_INT(r.status, 200);
        j = cJSON_Parse(r.body);
        cJSON *res = cJSON_GetObjectItem(j, "results");
        CHECK_INT(cJSON_GetArraySize(res), 1);
        cJSON *e = cJSON_GetArrayItem(res, 0);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(e, "carrier")), "viettel");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(e, "technology")), "3G");
        cJSON *m = cJSON_GetObjectItem(e, "meets_minimum");
        if (k == 0)
            CHECK(cJSON_IsTrue(m));
        else
            CHECK(cJSON_IsFalse(m));
        cJSON *ev = cJSON_GetObjectItem(e, "evidence");
        CHECK_INT((int)cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "res")), 16);
        CHECK_INT((long)cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "x")), cx[i]);
        CHECK_INT((long)cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "y")), cy[i]);
        cJSON_Delete(j);
        t_resp_free(&r);
    }
}

TEST(ingest_measure, http_server_stops)
{
    free(tok_viettel);
    free(tok_vinaphone);
    free(tok_loc01);
    free(tok_public);
    CHECK_INT(t_server_stop(), 0);
}
