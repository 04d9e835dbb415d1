/*
 * test_api_import.c — dead-zone reports from locality files, through
 * POST /v1/reports/import over real loopback HTTP and through
 * `lomsong ingest reports` on the command line, against the test cluster:
 * a CSV with Vietnamese headers and diacritics, XLSX, KML, GeoJSON, a
 * zipped Shapefile and a GeoPackage made with GDAL's own ogr2ogr, VN-2000
 * UTM coordinates made with PROJ's cs2cs (with X and Y swapped as
 * Vietnamese surveys write them); bad rows (outside the account's area, an
 * unknown carrier, no technology, a symptom nobody can read, another
 * commune) with their exact reasons in the reject file; the same file
 * twice; the 300 m / same-technology join (with a report filed by POST
 * /v1/reports too); the CLI and HTTP giving the same result.
 *
 * Every test files at its own places in the former Yên Bái part of Lào
 * Cai (province 15, lat 21.70-21.90, lon 104.50-104.85), each at least
 * 1 km from any other suite's point of the same technology, so no test's
 * rows join another's points.  What the server
 * answers is compared with the rows in the database, read as the 'system'
 * context through the owner connection.
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "t.h"

static char *tok_l15, *tok_l15b, *tok_c02683, *tok_min, *tok_car;

/* -------------------------------------------------------------- helpers */

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

/* The whole file, malloc'd (NUL-terminated); *len its size. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, k;
    char *s = malloc(cap);
    while (s && (k = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n < 2) {
            char *p = realloc(s, cap * 2);
            if (!p) {
                free(s);
                s = NULL;
                break;
            }
            s = p;
            cap *= 2;
        }
    }
    fclose(f);
    if (s)
        s[n] = '\0';
    if (len)
        *len = n;
    return s;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096], full[4200], out[4096] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "( %s ) 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p) {
        t_fail(__FILE__, __LINE__, "popen failed for: %s", cmd);
        return -1;
    }
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

/* One text value from SQL (as 'system'), malloc'd; NULL when none. */
/* Reports, points and events in the whole database. */
typedef struct {
    long long reports, points, events, batches;
} totals;

static totals db_totals(void)
{
    totals t = {t_sys_ll("SELECT count(*) FROM reports"),
                t_sys_ll("SELECT count(*) FROM dz_points"), t_sys_ll("SELECT count(*) FROM events"),
                t_sys_ll("SELECT count(*) FROM ingest_batches")};
    return t;
}

typedef struct {
    long long batch, rows, accepted, rejected, duplicates, reports, points_new, points_joined;
    char reject_file[512]; /* "" for null */
} summary;

/* Parses the import summary; every key must be there. */
static int parse_summary(int line, const char *json, summary *s)
{
    memset(s, 0, sizeof *s);
    static const char *const keys[] = {"batch",      "rows",    "accepted",   "rejected",
                                       "duplicates", "reports", "points_new", "points_joined"};
    long long *const dst[] = {&s->batch,      &s->rows,    &s->accepted,   &s->rejected,
                              &s->duplicates, &s->reports, &s->points_new, &s->points_joined};
    int good = t_read_summary(json, keys, dst, 8, s->reject_file, sizeof s->reject_file);
    if (!good)
        t_fail(__FILE__, line, "not an import summary: %.500s", json ? json : "(null)");
    return good ? 0 : -1;
}

#define CHECK_SUMMARY(s, rows_, acc, rej, dup, rep, pnew, pjoin)                                   \
    do {                                                                                           \
        CHECK_INT((s).rows, rows_);                                                                \
        CHECK_INT((s).accepted, acc);                                                              \
        CHECK_INT((s).rejected, rej);                                                              \
        CHECK_INT((s).duplicates, dup);                                                            \
        CHECK_INT((s).reports, rep);                                                               \
        CHECK_INT((s).points_new, pnew);                                                           \
        CHECK_INT((s).points_joined, pjoin);                                                       \
    } while (0)

/* POSTs a file to /v1/reports/import`query`; the summary of a 201.  The
 * whole response in *out when out is not NULL (caller frees). */
static int upload(int line, const char *tok, const char *file, const char *query, summary *s,
                  t_resp *out)
{
    size_t len = 0;
    char *body = read_all(file, &len);
    if (!body) {
        t_fail(__FILE__, line, "cannot read %s", file);
        return -1;
    }
    char path[512];
    snprintf(path, sizeof path, "/v1/reports/import%s", query ? query : "");
    t_resp r;
    int rc = t_http("POST", path, tok, body, len, NULL, &r);
    free(body);
    if (rc != 0) {
        t_fail(__FILE__, line, "POST %s: no answer", path);
        return -1;
    }
    rc = -1;
    if (r.status != 201)
        t_fail(__FILE__, line, "POST %s %s: status %ld, want 201: %.500s", path, file, r.status,
               r.body ? r.body : "");
    else
        rc = parse_summary(line, r.body, s);
    if (rc == 0) {
        char want[64];
        snprintf(want, sizeof want, "/v1/batches/%lld", s->batch);
        const char *loc = t_header(&r, "Location");
        if (!loc || strcmp(loc, want) != 0)
            t_fail(__FILE__, line, "Location %s, want %s", loc ? loc : "(none)", want);
    }
    if (out && rc == 0)
        *out = r;
    else
        t_resp_free(&r);
    return rc;
}
#define UPLOAD(...) upload(__LINE__, __VA_ARGS__)

/* `lomsong ingest reports FILE --token TOK ARGS --json`; the exit code. */
static int cli(int line, const char *tok, const char *file, const char *args, summary *s,
               char **err)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "ingest reports '%s' --token %s %s --json", file, tok,
             args ? args : "");
    char *out = NULL, *e = NULL;
    int rc = t_run(cmd, NULL, &out, &e);
    memset(s, 0, sizeof *s);
    if (rc == 0)
        parse_summary(line, out, s);
    free(out);
    if (err)
        *err = e;
    else
        free(e);
    return rc;
}
#define CLI(...) cli(__LINE__, __VA_ARGS__)

/* The reject file of a batch over HTTP, malloc'd. */
static char *rejects_of(const char *tok, long long batch)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/batches/%lld/rejects", batch);
    t_resp r;
    if (t_http("GET", path, tok, NULL, 0, NULL, &r) != 0 || r.status != 200) {
        t_fail(__FILE__, __LINE__, "GET %s: %ld", path, r.status);
        t_resp_free(&r);
        return NULL;
    }
    char *s = strdup(r.body ? r.body : "");
    t_resp_free(&r);
    return s;
}

/* The detail of a problem response, malloc'd. */
static char *detail_of(const t_resp *r)
{
    cJSON *j = r->body ? cJSON_Parse(r->body) : NULL;
    const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "detail"));
    char *s = d ? strdup(d) : NULL;
    cJSON_Delete(j);
    return s;
}

/* Province of a place, as the server decides it. */
static int province_at(double lat, double lon)
{
    return (int)t_sys_ll("SELECT unit_at(ST_SetSRID(ST_MakePoint(%.7f, %.7f), 4326))::int", lon,
                         lat);
}

/* ---------------------------------------------------------------- setup */

TEST(api_import, setup)
{
    tok_l15 = t_token("locality", "15", NULL);
    tok_l15b = t_token("locality", "15", NULL);
    tok_c02683 = t_token("locality", "02683", NULL); /* Xã Bát Xát, Lào Cai */
    tok_min = t_token("ministry", NULL, NULL);
    tok_car = t_token("carrier", NULL, "gmobile");
    CHECK(tok_l15 && tok_l15b && tok_c02683 && tok_min && tok_car);
    CHECK(t_server_start("") != NULL);
    /* every test's area is in Lào Cai */
    CHECK_INT(t_sys_ll("SELECT count(*) FROM generate_series(21.70, 21.90, 0.02) lat,"
                       " generate_series(104.50, 104.85, 0.05) lon"
                       " WHERE unit_at(ST_SetSRID(ST_MakePoint(lon, lat), 4326)) <> '15'"),
              0);
    CHECK_INT(province_at(21.03, 105.85), 1);
}

/* ------------------------------------------------- Vietnamese CSV, HTTP */

static long long g_batch1;

static const char vn_csv[] =
    "STT,Thôn/Bản,Xã,Kinh độ,Vĩ độ,Nhà mạng,Công nghệ,Hiện tượng,Số hộ,Ghi chú\n"
    "1,Thôn Khe Dứa,Xã Hợp Thành,104.600000,21.700000,\"Viettel, VinaPhone\",4G,Mất sóng,25,"
    "Phải lên đồi mới gọi được\n"
    "2,Thôn Khe Dứa 2,,104.601500,21.700800,Viettel,4G,sóng yếu,10,\n"
    "3,Thôn Khe Dứa,,104.600000,21.700000,MobiFone,3G,Tốc độ chậm,,\n"
    "4,Bản Hà Nội,,105.850000,21.030000,Viettel,4G,mất sóng,5,\n"
    "5,Bản Lạ,,104.610000,21.710000,FooTel,4G,mất sóng,5,\n"
    "6,Bản Không,,104.620000,21.720000,Viettel,,mất sóng,5,\n"
    "7,Bản Lạ 2,,104.630000,21.730000,Viettel,4G,rất lạ,5,\n"
    "8,Bản Cuối,bat xat,104.640000,21.740000,Viettel + MobiFone,lte,,4,\n"
    "9,Thôn Khe Dứa,Xã Hợp Thành,104.600000,21.700000,\"Viettel, VinaPhone\",4G,Mất sóng,25,"
    "Phải lên đồi mới gọi được\n";

TEST(api_import, csv_with_vietnamese_headers)
{
    write_file(t_tmp("vn.csv"), vn_csv);
    totals before = db_totals();
    summary s;
    t_resp r;
    if (UPLOAD(tok_l15, t_tmp("vn.csv"), "?format=csv&name=bao-cao-thang-9.csv", &s, &r) != 0)
        return;
    t_resp_free(&r);
    g_batch1 = s.batch;
    /* rows 1, 2, 3, 8, 9 pass; 9 repeats 1; 1 starts a 4G point that 2
     * (~180 m off) joins, 3 is 3G at the same place (its own point), 8 is
     * far */
    CHECK_SUMMARY(s, 9, 5, 4, 1, 4, 3, 1);
    char want_rf[64];
    snprintf(want_rf, sizeof want_rf, "/v1/batches/%lld/rejects", s.batch);
    CHECK_STR(s.reject_file, want_rf);
    totals after = db_totals();
    CHECK_INT(after.reports - before.reports, 4);
    CHECK_INT(after.points - before.points, 3);
    CHECK_INT(after.events - before.events, 4);
    CHECK_INT(after.batches - before.batches, 1);

    /* the reject file: the row, the reason, the original values */
    char *rej = rejects_of(tok_l15, s.batch);
    CHECK_CONTAINS(rej, "row,reason,STT,Thôn/Bản,Xã,Kinh độ,Vĩ độ,Nhà mạng,Công nghệ,Hiện tượng,"
                        "Số hộ,Ghi chú\n");
    CHECK_CONTAINS(rej, "\n4,\"position 21.030000, 105.850000 is in province 01 (Thành phố Hà "
                        "Nội), outside this account's area (province 15)\",4,Bản Hà Nội,,"
                        "105.850000,21.030000,Viettel,4G,mất sóng,5,\n");
    CHECK_CONTAINS(rej, "\n5,\"unknown carrier 'FooTel' (see GET /v1/carriers)\",5,Bản Lạ,");
    CHECK_CONTAINS(rej, "\n6,\"no technology (2G, 3G, 4G or 5G)\",6,Bản Không,");
    CHECK_CONTAINS(rej, "\n7,\"symptom 'rất lạ' is not one of: mất sóng / no_signal, sóng yếu / "
                        "weak_signal, chậm / slow_data\",7,Bản Lạ 2,");
    int lines = 0;
    for (const char *p = rej; p && *p; p++)
        lines += *p == '\n';
    CHECK_INT(lines, 5);
    free(rej);

    /* what was filed, row by row */
    CHECK_SYS_STR("1|4G|{viettel,vinaphone}|no_signal|Thôn Khe Dứa|25|88|02680|"
                  "Phải lên đồi mới gọi được|file|t",
                  "SELECT string_agg(concat_ws('|', source_row, technology, carriers, symptom,"
                  " place, households, people_affected, commune_code, note, source,"
                  " client_ref LIKE 'file:%%'), ';' ORDER BY source_row) FROM reports"
                  " WHERE source_batch = %lld AND source_row = 1",
                  s.batch);
    CHECK_SYS_STR("2|4G|{viettel}|weak_signal|Thôn Khe Dứa 2|10|35;"
                  "3|3G|{mobifone}|slow_data|Thôn Khe Dứa;"
                  "8|4G|{mobifone,viettel}|no_signal|Bản Cuối|4|14|02683",
                  "SELECT string_agg(concat_ws('|', source_row, technology, carriers, symptom,"
                  " place, households, people_affected, commune_code), ';' ORDER BY source_row)"
                  " FROM reports WHERE source_batch = %lld AND source_row > 1",
                  s.batch);
    /* rows 1 and 2 are one point; its counts are the sum of both */
    CHECK_INT(t_sys_ll("SELECT count(DISTINCT point_id) FROM reports WHERE source_batch = %lld"
                       " AND source_row IN (1, 2)",
                       s.batch),
              1);
    CHECK_SYS_STR("2|123|4G|reported",
                  "SELECT concat_ws('|', p.report_count, p.people_affected, p.technology,"
                  " p.status) FROM dz_points p JOIN reports r ON r.point_id = p.id"
                  " WHERE r.source_batch = %lld AND r.source_row = 1",
                  s.batch);
    /* each report wrote its point's event, naming the batch and the row */
    CHECK_SYS_STR("1:new dead zone;2:joined the point;3:new dead zone;8:new dead zone",
                  "SELECT string_agg((e.data->>'row') || ':' || e.note, ';' ORDER BY"
                  " (e.data->>'row')::int) FROM events e WHERE e.kind = 'report'"
                  " AND (e.data->>'batch')::bigint = %lld",
                  s.batch);
    CHECK_INT(t_sys_ll("SELECT count(*) FROM events e JOIN reports r ON r.id ="
                       " (e.data->>'report_id')::bigint WHERE (e.data->>'batch')::bigint = %lld"
                       " AND r.point_id = e.point_id AND e.actor_role = 'locality'",
                       s.batch),
              4);
    /* the batch is the account's, with the summary and the file's name */
    CHECK_SYS_STR("reports|committed|bao-cao-thang-9.csv|4|15",
                  "SELECT concat_ws('|', kind, status, source_name, summary->>'reports',"
                  " province_code) FROM ingest_batches WHERE id = %lld",
                  s.batch);
    /* GET /v1/batches/{id} shows it to its account */
    char path[64];
    snprintf(path, sizeof path, "/v1/batches/%lld", s.batch);
    CHECK_INT(t_http("GET", path, tok_l15, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "\"points_joined\": 1");
    t_resp_free(&r);
}

TEST(api_import, same_file_twice_adds_nothing)
{
    totals before = db_totals();
    summary s;
    if (UPLOAD(tok_l15, t_tmp("vn.csv"), "?format=csv", &s, NULL) != 0)
        return;
    CHECK_SUMMARY(s, 9, 5, 4, 5, 0, 0, 0);
    totals after = db_totals();
    CHECK_INT(after.reports, before.reports);
    CHECK_INT(after.points, before.points);
    CHECK_INT(after.events, before.events);
    CHECK_INT(after.batches, before.batches + 1); /* the batch itself is recorded */
    CHECK(s.batch > g_batch1);
    CHECK_INT(t_sys_ll("SELECT count(*) FROM reports WHERE source_batch = %lld", s.batch), 0);
}

/* ---------------------------------------------------- the 300 m rule */

TEST(api_import, rows_within_300m_join_one_point)
{
    /* a report filed the ordinary way first: a file row 100 m off joins it */
    const double lat = 21.88, lon = 104.80, m_lon = 1.0 / (111320.0 * cos(lat * M_PI / 180.0)),
                 m_lat = 1.0 / 110600.0;
    char body[256];
    snprintf(body, sizeof body,
             "{\"lat\": %.7f, \"lon\": %.7f, \"technology\": \"4G\", \"symptom\":"
             " \"no_signal\", \"people_affected\": 7}",
             lat + 0.01, lon);
    t_resp r;
    CHECK_INT(t_http("POST", "/v1/reports", tok_l15, body, strlen(body),
                     "Content-Type: application/json", &r),
              0);
    CHECK_INT(r.status, 201);
    cJSON *j = cJSON_Parse(r.body);
    long long z =
        (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "point"), "id"));
    cJSON_Delete(j);
    t_resp_free(&r);

    char csv[2048];
    snprintf(csv, sizeof csv,
             "place,lat,lon,technology,people\n"
             "A,%.7f,%.7f,4G,1\n"   /* new point P */
             "B,%.7f,%.7f,4G,2\n"   /* 200 m east of P: joins */
             "C,%.7f,%.7f,4G,4\n"   /* 290 m west of P (490 m from B): joins P */
             "D,%.7f,%.7f,4G,8\n"   /* 700 m east: a new point */
             "E,%.7f,%.7f,5G,16\n"  /* at P, 5G: a new point */
             "F,%.7f,%.7f,4G,32\n"  /* 310 m north of P: a new point */
             "G,%.7f,%.7f,4G,64\n", /* 100 m from the POSTed report: joins it */
             lat, lon, lat, lon + 200 * m_lon, lat, lon - 290 * m_lon, lat, lon + 700 * m_lon, lat,
             lon, lat + 310 * m_lat, lon, lat + 0.01 + 100 * m_lat, lon);
    write_file(t_tmp("join.csv"), csv);
    summary s;
    if (UPLOAD(tok_l15, t_tmp("join.csv"), "?format=csv", &s, NULL) != 0)
        return;
    CHECK_SUMMARY(s, 7, 7, 0, 0, 7, 4, 3);
    CHECK_STR(s.reject_file, "");
    /* A, B, C are one point with their people summed; G joined the POSTed point */
    CHECK_SYS_STR("A,B,C:3:7;D:1:8;E:1:16;F:1:32",
                  "SELECT string_agg(places || ':' || n || ':' || people, ';' ORDER BY places)"
                  " FROM (SELECT string_agg(r.place, ',' ORDER BY r.place) AS places,"
                  " max(p.report_count) AS n, max(p.people_affected) AS people FROM reports r"
                  " JOIN dz_points p ON p.id = r.point_id WHERE r.source_batch = %lld"
                  " AND r.place <> 'G' GROUP BY p.id) x",
                  s.batch);
    CHECK_INT(
        t_sys_ll("SELECT point_id FROM reports WHERE source_batch = %lld AND place = 'G'", s.batch),
        z);
    CHECK_SYS_STR(
        "2|71", "SELECT report_count || '|' || people_affected FROM dz_points WHERE id = %lld", z);
}

/* ------------------------------------------------ formats through GDAL */

static const char *geo_oo = "-oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat -a_srs EPSG:4326";

/* Three rows at format f's own place: two good (4G, then 3G 400 m east),
 * one without a technology.  `header` names the columns place, tech,
 * carriers, symptom, households, note (then lon, lat). */
static void write_rows(const char *path, int f, const char *header)
{
    char csv[2048];
    double lat = 21.80 + 0.01 * f, lon = 104.70;
    snprintf(csv, sizeof csv,
             "%s,lon,lat\n"
             "Bản F%d-1,4G,Viettel,mất sóng,12,ghi chú %d,%.6f,%.6f\n"
             "Bản F%d-2,3G,VinaPhone; MobiFone,sóng yếu,3,,%.6f,%.6f\n"
             "Bản F%d-3,,Viettel,mất sóng,1,,%.6f,%.6f\n",
             header, f, f, lon, lat, f, lon + 0.004, lat, f, lon + 0.008, lat);
    write_file(path, csv);
}

/* Uploads the file and checks what was filed against what was written. */
static void check_format(int line, const char *file, const char *query, int f)
{
    summary s;
    if (upload(line, tok_l15, file, query, &s, NULL) != 0)
        return;
    if (s.rows != 3 || s.accepted != 2 || s.rejected != 1 || s.reports != 2 || s.points_new != 2)
        t_fail(__FILE__, line, "%s: rows %lld accepted %lld rejected %lld reports %lld new %lld",
               file, s.rows, s.accepted, s.rejected, s.reports, s.points_new);
    double lat = 21.80 + 0.01 * f, lon = 104.70;
    char want[512];
    snprintf(want, sizeof want,
             "Bản F%d-1|4G|{viettel}|no_signal|12|42|ghi chú %d|0|0;"
             "Bản F%d-2|3G|{mobifone,vinaphone}|weak_signal|3|11||0|0",
             f, f, f);
    char *got = t_sys_str("SELECT string_agg(concat_ws('|', place, technology, carriers, symptom,"
                          " households, people_affected, coalesce(note, ''),"
                          " round(abs(ST_Y(geom) - %.6f) * 1e6), round(abs(ST_X(geom) - %.6f"
                          " - CASE WHEN technology = '3G' THEN 0.004 ELSE 0 END) * 1e6)), ';'"
                          " ORDER BY place) FROM reports WHERE source_batch = %lld",
                          lat, lon, s.batch);
    if (!got || strcmp(got, want) != 0)
        t_fail(__FILE__, line, "%s: filed \"%s\", want \"%s\"", file, got ? got : "(null)", want);
    free(got);
    char *rej = rejects_of(tok_l15, s.batch);
    if (!rej || !strstr(rej, "\n3,\"no technology (2G, 3G, 4G or 5G)\","))
        t_fail(__FILE__, line, "%s: reject file %.300s", file, rej ? rej : "(none)");
    free(rej);
}

TEST(api_import, format_xlsx)
{
    write_rows(t_tmp("f0.csv"), 0, "Thôn/Bản,Công nghệ,Nhà mạng,Hiện tượng,Số hộ,Ghi chú");
    if (sh("ogr2ogr -f XLSX '%s' '%s'", t_tmp("f0.xlsx"), t_tmp("f0.csv")) == 0)
        check_format(__LINE__, t_tmp("f0.xlsx"), "?format=xlsx", 0);
}

TEST(api_import, format_kml)
{
    /* KML: the Vietnamese headers written without diacritics */
    write_rows(t_tmp("f1.csv"), 1, "Thon,Cong nghe,Nha mang,Hien tuong,So ho,Ghi chu");
    if (sh("ogr2ogr -f KML '%s' '%s' %s", t_tmp("f1.kml"), t_tmp("f1.csv"), geo_oo) == 0)
        check_format(__LINE__, t_tmp("f1.kml"), "?format=kml", 1);
}

TEST(api_import, format_geojson)
{
    write_rows(t_tmp("f2.csv"), 2, "Thôn/Bản,Công nghệ,Nhà mạng,Hiện tượng,Số hộ,Ghi chú");
    if (sh("ogr2ogr -f GeoJSON '%s' '%s' %s", t_tmp("f2.geojson"), t_tmp("f2.csv"), geo_oo) == 0)
        check_format(__LINE__, t_tmp("f2.geojson"), "?format=geojson", 2);
}

TEST(api_import, format_zipped_shapefile)
{
    /* DBF field names: at most 10 characters, English ones */
    write_rows(t_tmp("f3.csv"), 3, "place,tech,carriers,symptom,households,note");
    if (sh("mkdir -p '%s' && ogr2ogr -f 'ESRI Shapefile' -lco ENCODING=UTF-8 '%s' '%s' %s",
           t_tmp("shp3"), t_tmp("shp3/r3.shp"), t_tmp("f3.csv"), geo_oo) != 0)
        return;
    if (sh("cd '%s' && python3 -c 'import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],\"w\");"
           " [z.write(f) for f in sys.argv[2:]]; z.close()' '%s' r3.shp r3.shx r3.dbf r3.prj"
           " r3.cpg",
           t_tmp("shp3"), t_tmp("f3.zip")) == 0)
        check_format(__LINE__, t_tmp("f3.zip"), "?format=zip", 3);
}

TEST(api_import, format_geopackage)
{
    write_rows(t_tmp("f4.csv"), 4, "Thôn/Bản,Công nghệ,Nhà mạng,Hiện tượng,Số hộ,Ghi chú");
    if (sh("ogr2ogr -f GPKG '%s' '%s' %s", t_tmp("f4.gpkg"), t_tmp("f4.csv"), geo_oo) == 0)
        check_format(__LINE__, t_tmp("f4.gpkg"), "?format=gpkg", 4);
}

/* ------------------------------------------------------------- VN-2000 */

/* WGS 84 -> EPSG:3405 (VN-2000 / UTM 48N) with cs2cs: easting, northing. */
static int to_vn2000(const double *lat, const double *lon, int n, double *e, double *nn)
{
    char in[1024] = "";
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(in + len, sizeof in - len, "%.8f %.8f\n", lat[i], lon[i]);
    write_file(t_tmp("vn2000.in"), in);
    if (sh("cs2cs -f %%.4f EPSG:4326 EPSG:3405 < '%s' > '%s'", t_tmp("vn2000.in"),
           t_tmp("vn2000.out")) != 0)
        return -1;
    char *out = read_all(t_tmp("vn2000.out"), NULL);
    const char *p = out;
    for (int i = 0; p && i < n; i++) {
        double a, b;
        int used = 0;
        if (sscanf(p, "%lf %lf %*f%n", &a, &b, &used) < 2) {
            free(out);
            return -1;
        }
        p += used;
        e[i] = a < b ? a : b; /* a northing in Vietnam is in the millions */
        nn[i] = a < b ? b : a;
    }
    free(out);
    return p ? 0 : -1;
}

TEST(api_import, vn2000_utm_with_x_as_northing)
{
    const double lat[2] = {21.86, 21.86}, lon[2] = {104.75, 104.755};
    double e[2], n[2];
    if (to_vn2000(lat, lon, 2, e, n) != 0) {
        t_fail(__FILE__, __LINE__, "cs2cs failed");
        return;
    }
    /* Vietnamese surveys: X is the northing, Y the easting */
    char csv[512];
    snprintf(csv, sizeof csv,
             "Tên thôn,Tọa độ X,Tọa độ Y,Công nghệ,Nhà mạng\n"
             "Thôn UTM 1,%.4f,%.4f,4G,Viettel\n"
             "Thôn UTM 2,%.4f,%.4f,4G,Viettel\n",
             n[0], e[0], n[1], e[1]);
    write_file(t_tmp("vn2000.csv"), csv);
    /* without a CRS the projected values are refused, and nothing is stored */
    totals before = db_totals();
    summary s;
    char *err = NULL;
    CHECK(CLI(tok_l15, t_tmp("vn2000.csv"), NULL, &s, &err) != 0);
    CHECK_CONTAINS(err, "the coordinates are projected");
    free(err);
    totals mid = db_totals();
    CHECK_INT(mid.reports, before.reports);
    CHECK_INT(mid.batches, before.batches);
    /* with it, the swap is found and the places are where they were */
    err = NULL;
    if (CLI(tok_l15, t_tmp("vn2000.csv"), "--crs VN2000-UTM48", &s, &err) != 0) {
        t_fail(__FILE__, __LINE__, "ingest reports --crs VN2000-UTM48: %s", err ? err : "");
        free(err);
        return;
    }
    CHECK_CONTAINS(err, "X and Y were swapped");
    free(err);
    CHECK_SUMMARY(s, 2, 2, 0, 0, 2, 2, 0); /* 0.005 degrees of longitude: ~517 m apart */
    CHECK_INT(t_sys_ll("SELECT count(*) FROM reports WHERE source_batch = %lld"
                       " AND abs(ST_Y(geom) - 21.86) < 1e-6 AND (abs(ST_X(geom) - 104.75) < 1e-6"
                       " OR abs(ST_X(geom) - 104.755) < 1e-6)",
                       s.batch),
              2);

    /* a GeoPackage in VN-2000 / UTM 48N says its CRS itself */
    write_file(t_tmp("g84.csv"), "place,tech,lon,lat\nThôn GPKG,3G,104.7600,21.8600\n");
    if (sh("ogr2ogr -f GPKG -s_srs EPSG:4326 -t_srs EPSG:3405 '%s' '%s' -oo X_POSSIBLE_NAMES=lon"
           " -oo Y_POSSIBLE_NAMES=lat",
           t_tmp("vn2000.gpkg"), t_tmp("g84.csv")) != 0)
        return;
    if (UPLOAD(tok_l15, t_tmp("vn2000.gpkg"), "?format=gpkg", &s, NULL) != 0)
        return;
    CHECK_SUMMARY(s, 1, 1, 0, 0, 1, 1, 0);
    CHECK_INT(t_sys_ll("SELECT count(*) FROM reports WHERE source_batch = %lld"
                       " AND abs(ST_Y(geom) - 21.86) < 1e-6 AND abs(ST_X(geom) - 104.76) < 1e-6",
                       s.batch),
              1);
}

/* ------------------------------------------------------ CLI and HTTP */

/* Five rows at latitude `lat`: three good (two 100 m apart), one in Hà
 * Nội, one of an unknown carrier (those two identical whatever `lat`). */
static void write_cli_rows(const char *path, double lat)
{
    char csv[1024];
    snprintf(csv, sizeof csv,
             "Thôn/Bản,Kinh độ,Vĩ độ,Công nghệ,Nhà mạng,Hiện tượng,Số người\n"
             "Bản Một,104.5200,%.4f,4G,Viettel,mất sóng,30\n"
             "Bản Hai,104.5210,%.4f,4G,Viettel/MobiFone,không có sóng,20\n"
             "Bản Ba,104.5400,%.4f,3G,VinaPhone,chậm,\n"
             "Bản Bốn,105.8000,21.0300,4G,Viettel,mất sóng,1\n"
             "Bản Năm,104.5600,21.7000,4G,Telco Lạ,mất sóng,1\n",
             lat, lat, lat);
    write_file(path, csv);
}

TEST(api_import, cli_and_http_give_the_same_result)
{
    write_cli_rows(t_tmp("cli.csv"), 21.76);
    write_cli_rows(t_tmp("http.csv"), 21.78);
    summary a, b;
    char *err = NULL;
    if (CLI(tok_l15, t_tmp("cli.csv"), NULL, &a, &err) != 0) {
        t_fail(__FILE__, __LINE__, "ingest reports: %s", err ? err : "");
        free(err);
        return;
    }
    free(err);
    if (UPLOAD(tok_l15, t_tmp("http.csv"), "?format=csv", &b, NULL) != 0)
        return;
    CHECK_SUMMARY(a, 5, 3, 2, 0, 3, 2, 1);
    CHECK_SUMMARY(b, a.rows, a.accepted, a.rejected, a.duplicates, a.reports, a.points_new,
                  a.points_joined);
    /* the same reject file, byte for byte */
    char want[600];
    snprintf(want, sizeof want, "%s.rejects.csv", t_tmp("cli.csv"));
    CHECK_STR(a.reject_file, want);
    char *ra = read_all(a.reject_file, NULL), *rb = rejects_of(tok_l15, b.batch);
    CHECK_STR(ra, rb);
    CHECK_CONTAINS(ra, "\n5,\"unknown carrier 'Telco Lạ' (see GET /v1/carriers)\",Bản Năm,");
    free(ra);
    free(rb);
    /* the same reports, 0.02 degrees apart */
    const char *q = "SELECT string_agg(concat_ws('|', source_row, technology, carriers, symptom,"
                    " place, people_affected, round((ST_Y(geom) - %.2f) * 1e7)::int, ST_X(geom)),"
                    " ';' ORDER BY source_row) FROM reports WHERE source_batch = %lld";
    char *fa = t_sys_str(q, 21.76, a.batch), *fb = t_sys_str(q, 21.78, b.batch);
    CHECK(fa && *fa);
    CHECK_STR(fb, fa);
    CHECK_CONTAINS(fa, "2|4G|{mobifone,viettel}|no_signal|Bản Hai|20|0|104.521");
    free(fa);
    free(fb);
    /* and the same content key: the CLI's file over HTTP adds nothing */
    summary c;
    if (UPLOAD(tok_l15, t_tmp("cli.csv"), "?format=csv", &c, NULL) == 0)
        CHECK_SUMMARY(c, 5, 3, 2, 3, 0, 0, 0);
    /* another locality of the same province filing the same rows files them
     * (its own reports), joining the points already there */
    summary d;
    if (UPLOAD(tok_l15b, t_tmp("cli.csv"), "?format=csv", &d, NULL) == 0)
        CHECK_SUMMARY(d, 5, 3, 2, 0, 3, 0, 3);
}

/* ---------------------------------------------------- commune accounts */

TEST(api_import, commune_column_and_commune_accounts)
{
    write_file(t_tmp("xa.csv"), "Thôn/Bản,Xã/Phường,Kinh độ,Vĩ độ,Công nghệ\n"
                                "Thôn Một,Bát Xát,104.7500,21.7800,4G\n"
                                "Thôn Hai,Xã Hợp Thành,104.7600,21.7800,4G\n"
                                "Thôn Ba,Xã Không Có,104.7700,21.7800,4G\n"
                                "Thôn Bốn,,104.7800,21.7800,4G\n"
                                "Thôn Năm,02683,104.7900,21.7800,4G\n");
    summary s;
    if (UPLOAD(tok_c02683, t_tmp("xa.csv"), "?format=csv", &s, NULL) != 0)
        return;
    CHECK_SUMMARY(s, 5, 3, 2, 0, 3, 3, 0);
    CHECK_SYS_STR("Thôn Bốn:02683;Thôn Một:02683;Thôn Năm:02683",
                  "SELECT string_agg(place || ':' || commune_code, ';' ORDER BY place)"
                  " FROM reports WHERE source_batch = %lld",
                  s.batch);
    char *rej = rejects_of(tok_c02683, s.batch);
    CHECK_CONTAINS(rej, "\n2,\"commune 'Xã Hợp Thành' (02680) is outside this account's area "
                        "(commune 02683)\",Thôn Hai,");
    CHECK_CONTAINS(rej, "\n3,\"commune 'Xã Không Có' is not a commune of province 15\",Thôn Ba,");
    free(rej);
    /* the points are the commune's: its account sees them */
    CHECK_INT(t_sys_ll("SELECT count(*) FROM dz_points p JOIN reports r ON r.point_id = p.id"
                       " WHERE r.source_batch = %lld AND p.commune_code = '02683'",
                       s.batch),
              3);
}

/* ----------------------------------------------------------- overrides */

TEST(api_import, map_overrides_both_ways)
{
    write_file(t_tmp("map.csv"), "c1,c2,c3,c4,c5\n"
                                 "104.8200,21.7200,4G,Thôn Map,Viettel\n");
    summary s;
    char *err = NULL;
    /* FIELD=COLUMN as for measurements, and COLUMN=FIELD as a locality may write */
    if (CLI(tok_l15, t_tmp("map.csv"),
            "--map lon=c1 --map lat=c2 --map c3=technology --map c4=place"
            " --map carriers=c5",
            &s, &err) != 0) {
        t_fail(__FILE__, __LINE__, "ingest reports --map: %s", err ? err : "");
        free(err);
        return;
    }
    free(err);
    CHECK_SUMMARY(s, 1, 1, 0, 0, 1, 1, 0);
    CHECK_SYS_STR("Thôn Map|4G|{viettel}",
                  "SELECT concat_ws('|', place, technology, carriers) FROM reports"
                  " WHERE source_batch = %lld",
                  s.batch);
    err = NULL;
    CHECK(CLI(tok_l15, t_tmp("map.csv"), "--map speed=c1", &s, &err) != 0);
    CHECK_CONTAINS(err, "unknown field \"speed\"");
    CHECK_CONTAINS(err, "place, commune, symptom, people, households, note");
    free(err);
}

/* ------------------------------------------------------ what is refused */

TEST(api_import, refused_files_store_nothing)
{
    totals before = db_totals();
    t_resp r;
    /* no position, no technology: the columns found are listed */
    write_file(t_tmp("nopos.csv"), "Thôn/Bản,Công nghệ\nThôn A,4G\n");
    size_t len;
    char *b = read_all(t_tmp("nopos.csv"), &len);
    CHECK_INT(t_http("POST", "/v1/reports/import?format=csv", tok_l15, b, len, NULL, &r), 0);
    CHECK(t_is_problem(&r, 400));
    char *d = detail_of(&r);
    CHECK_CONTAINS(d, "missing columns: a position");
    CHECK_CONTAINS(d, "Columns in the file: Thôn/Bản, Công nghệ");
    CHECK_CONTAINS(d, "nothing was stored");
    free(d);
    free(b);
    t_resp_free(&r);
    write_file(t_tmp("notech.csv"), "Kinh độ,Vĩ độ\n104.7,21.8\n");
    b = read_all(t_tmp("notech.csv"), &len);
    CHECK_INT(t_http("POST", "/v1/reports/import?format=csv", tok_l15, b, len, NULL, &r), 0);
    CHECK(t_is_problem(&r, 400));
    d = detail_of(&r);
    CHECK_CONTAINS(d, "missing columns: technology (Công nghệ)");
    free(d);
    t_resp_free(&r);
    /* not a file GDAL reads */
    CHECK_INT(t_http("POST", "/v1/reports/import?format=xlsx", tok_l15, "not a zip", 9, NULL, &r),
              0);
    CHECK(t_is_problem(&r, 415));
    t_resp_free(&r);
    /* no format */
    CHECK_INT(t_http("POST", "/v1/reports/import", tok_l15, b, len, NULL, &r), 0);
    CHECK(t_is_problem(&r, 415));
    t_resp_free(&r);
    /* a header and no rows */
    CHECK_INT(t_http("POST", "/v1/reports/import?format=csv", tok_l15, "Kinh độ,Vĩ độ,Công nghệ\n",
                     strlen("Kinh độ,Vĩ độ,Công nghệ\n"), NULL, &r),
              0);
    CHECK(t_is_problem(&r, 400));
    t_resp_free(&r);
    /* only a locality files reports */
    CHECK_INT(t_http("POST", "/v1/reports/import?format=csv", tok_min, b, len, NULL, &r), 0);
    CHECK(t_is_problem(&r, 403));
    t_resp_free(&r);
    CHECK_INT(t_http("POST", "/v1/reports/import?format=csv", tok_car, b, len, NULL, &r), 0);
    CHECK(t_is_problem(&r, 403));
    t_resp_free(&r);
    CHECK_INT(t_http("POST", "/v1/reports/import?format=csv", NULL, b, len, NULL, &r), 0);
    CHECK(t_is_problem(&r, 401));
    t_resp_free(&r);
    free(b);
    /* nor on the command line */
    summary s;
    char *err = NULL;
    CHECK(CLI(tok_min, t_tmp("vn.csv"), NULL, &s, &err) != 0);
    CHECK_CONTAINS(err, "reports are filed by a locality");
    free(err);
    err = NULL;
    CHECK(CLI("ls_notavalidtokennotavalidtokennota", t_tmp("vn.csv"), NULL, &s, &err) != 0);
    CHECK_CONTAINS(err, "the token is not valid");
    free(err);
    totals after = db_totals();
    CHECK_INT(after.reports, before.reports);
    CHECK_INT(after.points, before.points);
    CHECK_INT(after.events, before.events);
    CHECK_INT(after.batches, before.batches);
}

TEST(api_import, zz_stop)
{
    free(tok_l15);
    free(tok_l15b);
    free(tok_c02683);
    free(tok_min);
    free(tok_car);
    tok_l15 = tok_l15b = tok_c02683 = tok_min = tok_car = NULL;
    CHECK_INT(t_server_stop(), 0);
}
