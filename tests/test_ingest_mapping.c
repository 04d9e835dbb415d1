/*
 * test_ingest_mapping.c — column guessing and value parsing on the headers
 * and values real files carry: generic CSVs, G-NetTrack Pro logs, RTR-NetTest
 * open data, OpenCelliD / Ichnaea exports and Vietnamese locality
 * spreadsheets.  Pure C, no database.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "../ingest/mapping.h"

#define NCOLS(a) ((int)LS_ARRAY_LEN(a))

/* Guesses with no overrides; checks that it succeeds and that no column
 * went to two fields. */
static void guess(const char *const *cols, int n, ingest_mapping *m)
{
    char err[512] = "";
    CHECK_INT(ingest_mapping_guess(cols, n, NULL, 0, m, err, sizeof err), LS_OK);
    CHECK_STR(err, "");
    for (int f = 0; f < IF_COUNT; f++) {
        CHECK(m->col[f] >= -1 && m->col[f] < n);
        CHECK_INT(m->from_override[f], 0);
        for (int g = f + 1; g < IF_COUNT; g++)
            if (m->col[f] >= 0 && m->col[f] == m->col[g])
                t_fail(__FILE__, __LINE__, "column %d is both %s and %s", m->col[f],
                       ingest_field_name((ingest_field)f), ingest_field_name((ingest_field)g));
    }
}

/* The field column `c` went to, or -1. */
static int field_of(const ingest_mapping *m, int c)
{
    for (int f = 0; f < IF_COUNT; f++)
        if (m->col[f] == c)
            return f;
    return -1;
}

#define CHECK_NEAR(a, b) CHECK(fabs((double)(a) - (double)(b)) < 1e-9 * (1 + fabs((double)(b))))

static void check_fold(const char *in, const char *want, int line)
{
    char out[128];
    ingest_fold(in, out, sizeof out);
    if (strcmp(out, want) != 0)
        t_fail(__FILE__, line, "fold(\"%s\"): got \"%s\", want \"%s\"", in, out, want);
}
#define FOLD(in, want) check_fold(in, want, __LINE__)

/* ------------------------------------------------------------------ fold */

TEST(ingest_mapping, fold_examples)
{
    FOLD("Tốc độ tải xuống (Mbps)", "toc_do_tai_xuong_(mbps)");
    FOLD("Đ", "d");
    FOLD("đ", "d");
    FOLD("Vĩ độ", "vi_do");
    FOLD("Kinh độ", "kinh_do");
    FOLD("Nhà mạng", "nha_mang");
    FOLD("Độ trễ (ms)", "do_tre_(ms)");
    FOLD("Tọa độ X", "toa_do_x");
    FOLD("Công nghệ", "cong_nghe");
    FOLD("Thời gian", "thoi_gian");
    FOLD("Ngày giờ", "ngay_gio");
    FOLD("Tải lên", "tai_len");
    FOLD("DL_bitrate", "dl_bitrate");
    FOLD("averageSignal", "averagesignal");
    FOLD("  __Download--Speed.. ", "download_speed");
    FOLD("a - b _ c . d", "a_b_c_d");
    FOLD("kbit/s", "kbit/s");
    FOLD("[Kbps]", "[kbps]");
    FOLD("", "");
    FOLD("___", "");
    /* decomposed (NFD) marks, as macOS writes them: "Vĩ độ" */
    FOLD("Vi\xcc\x83 \xc4\x91o\xcc\x82\xcc\xa3", "vi_do");
    /* Excel's byte order mark on the first header */
    FOLD("\xef\xbb\xbfLatitude", "latitude");
    /* non-Vietnamese text is kept as written */
    FOLD("温度 °C", "温度_°c");
    FOLD("Gi\xa0tri", "gi?tri"); /* a stray byte never breaks the output */
}

/* Every Vietnamese letter with a mark, both cases, folds to its base. */
TEST(ingest_mapping, fold_all_vietnamese_letters)
{
    static const struct {
        const char *letters;
        char base;
    } sets[] = {
        {"aàáảãạăằắẳẵặâầấẩẫậAÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬ", 'a'},
        {"eèéẻẽẹêềếểễệEÈÉẺẼẸÊỀẾỂỄỆ", 'e'},
        {"iìíỉĩịIÌÍỈĨỊ", 'i'},
        {"oòóỏõọôồốổỗộơờớởỡợOÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ", 'o'},
        {"uùúủũụưừứửữựUÙÚỦŨỤƯỪỨỬỮỰ", 'u'},
        {"yỳýỷỹỵYỲÝỶỸỴ", 'y'},
        {"dđDĐ", 'd'},
    };
    for (size_t i = 0; i < LS_ARRAY_LEN(sets); i++) {
        size_t chars = 0;
        for (const char *p = sets[i].letters; *p; p++)
            chars += ((unsigned char)*p & 0xC0) != 0x80;
        char out[256];
        ingest_fold(sets[i].letters, out, sizeof out);
        CHECK_INT(strlen(out), chars);
        for (const char *p = out; *p; p++)
            if (*p != sets[i].base)
                t_fail(__FILE__, __LINE__, "\"%s\" folded to \"%s\"", sets[i].letters, out);
    }
}

TEST(ingest_mapping, fold_is_bounded)
{
    char out[8];
    memset(out, 'Z', sizeof out);
    ingest_fold("abcdefghijkl", out, 5);
    CHECK_STR(out, "abcd");
    CHECK(out[5] == 'Z');
    ingest_fold("abc", out, 1);
    CHECK_STR(out, "");
    ingest_fold(NULL, out, sizeof out);
    CHECK_STR(out, "");
    ingest_fold("abc", out, 0); /* nothing written, no crash */
    /* a multi-byte character that does not fit is left out whole */
    ingest_fold("ab温", out, 5);
    CHECK_STR(out, "ab");
    /* a separator is never the last character written */
    ingest_fold("abc def", out, 5);
    CHECK_STR(out, "abc");
}

/* --------------------------------------------------------------- layouts */

TEST(ingest_mapping, guess_generic)
{
    static const char *const cols[] = {"id",     "lat",  "lon",       "time",         "download",
                                       "upload", "ping", "operator",  "network_type", "rsrp",
                                       "rsrq",   "sinr", "device_id", "mcc",          "mnc"};
    ingest_mapping m;
    guess(cols, NCOLS(cols), &m);
    CHECK_INT(m.col[IF_TEST_ID], 0); /* "id" only as the last resort */
    CHECK_INT(m.col[IF_LAT], 1);
    CHECK_INT(m.col[IF_LON], 2);
    CHECK_INT(m.col[IF_TIME], 3);
    CHECK_INT(m.col[IF_DOWNLOAD], 4);
    CHECK_NEAR(m.scale[IF_DOWNLOAD], 1);
    CHECK_INT(m.col[IF_UPLOAD], 5);
    CHECK_INT(m.col[IF_LATENCY], 6);
    CHECK_NEAR(m.scale[IF_LATENCY], 1);
    CHECK_INT(m.col[IF_OPERATOR], 7);
    CHECK_INT(m.col[IF_TECH], 8);
    CHECK_INT(m.col[IF_RSRP], 9);
    CHECK_INT(m.col[IF_RSRQ], 10);
    CHECK_INT(m.col[IF_SINR], 11);
    CHECK_INT(m.col[IF_DEVICE], 12);
    CHECK_INT(m.col[IF_MCC], 13);
    CHECK_INT(m.col[IF_MNC], 14);
    CHECK_INT(m.col[IF_MCCMNC], -1);
    CHECK_INT(m.col[IF_X], -1);
    CHECK_INT(m.col[IF_Y], -1);

    static const char *const cols2[] = {
        "ID",      "Latitude", "Longitude",  "Timestamp", "Download_Mbps", "Upload_Mbps",
        "Latency", "Carrier",  "Technology", "test_id",   "MCC_MNC",       "Device"};
    guess(cols2, NCOLS(cols2), &m);
    CHECK_INT(m.col[IF_TEST_ID], 9); /* test_id beats id */
    CHECK_INT(m.col[IF_LAT], 1);
    CHECK_INT(m.col[IF_LON], 2);
    CHECK_INT(m.col[IF_TIME], 3);
    CHECK_INT(m.col[IF_DOWNLOAD], 4);
    CHECK_NEAR(m.scale[IF_DOWNLOAD], 1);
    CHECK_INT(m.col[IF_UPLOAD], 5);
    CHECK_INT(m.col[IF_LATENCY], 6);
    CHECK_INT(m.col[IF_OPERATOR], 7);
    CHECK_INT(m.col[IF_TECH], 8);
    CHECK_INT(m.col[IF_MCCMNC], 10);
    CHECK_INT(m.col[IF_DEVICE], 11);
    CHECK_INT(field_of(&m, 0), -1);

    static const char *const cols3[] = {"x",        "y",   "datetime", "dl_mbps", "ul",  "rtt",
                                        "provider", "rat", "snr",      "uuid",    "lng", "long"};
    guess(cols3, NCOLS(cols3), &m);
    CHECK_INT(m.col[IF_X], 0);
    CHECK_INT(m.col[IF_Y], 1);
    CHECK_INT(m.col[IF_TIME], 2);
    CHECK_INT(m.col[IF_DOWNLOAD], 3);
    CHECK_INT(m.col[IF_UPLOAD], 4);
    CHECK_INT(m.col[IF_LATENCY], 5);
    CHECK_INT(m.col[IF_OPERATOR], 6);
    CHECK_INT(m.col[IF_TECH], 7);
    CHECK_INT(m.col[IF_SINR], 8);
    CHECK_INT(m.col[IF_TEST_ID], 9);
    CHECK_INT(m.col[IF_LON], 10); /* "lng" is surer than "long" */
    CHECK_INT(m.col[IF_LAT], -1);

    static const char *const cols4[] = {
        "easting", "northing", "measured_at", "dl",    "upload_mbps", "network_operator",
        "mcc_mnc", "plmn",     "tech",        "radio", "test_uuid",   "date_time"};
    guess(cols4, NCOLS(cols4), &m);
    CHECK_INT(m.col[IF_X], 0);
    CHECK_INT(m.col[IF_Y], 1);
    CHECK_INT(m.col[IF_TIME], 2);
    CHECK_INT(m.col[IF_DOWNLOAD], 3);
    CHECK_INT(m.col[IF_UPLOAD], 4);
    CHECK_INT(m.col[IF_OPERATOR], 5);
    CHECK_INT(m.col[IF_MCCMNC], 6);
    CHECK_INT(m.col[IF_TECH], 8);
    CHECK_INT(m.col[IF_TEST_ID], 10);
    CHECK_INT(field_of(&m, 7), -1);  /* plmn lost to mcc_mnc */
    CHECK_INT(field_of(&m, 9), -1);  /* radio lost to tech */
    CHECK_INT(field_of(&m, 11), -1); /* date_time lost to measured_at (leftmost) */
}

TEST(ingest_mapping, guess_gnettrack)
{
    static const char *const cols[] = {
        "Timestamp",   "Longitude",  "Latitude",   "Speed",   "Operatorname", "Operator",
        "CGI",         "Cellname",   "Node",       "CellID",  "LAC",          "NetworkTech",
        "NetworkMode", "Level",      "Qual",       "SNR",     "CQI",          "LTERSSI",
        "ARFCN",       "DL_bitrate", "UL_bitrate", "PSC",     "Altitude",     "Height",
        "Accuracy",    "Location",   "State",      "PINGAVG", "PINGMIN",      "PINGMAX",
        "PINGSTDEV",   "PINGLOSS"};
    ingest_mapping m;
    guess(cols, NCOLS(cols), &m);
    CHECK_INT(m.col[IF_TIME], 0);
    CHECK_INT(m.col[IF_LON], 1);
    CHECK_INT(m.col[IF_LAT], 2);
    CHECK_INT(field_of(&m, 3), -1); /* vehicle speed in km/h: never a download */
    CHECK_INT(m.col[IF_OPERATOR], 4);
    CHECK_INT(m.col[IF_MCCMNC], 5);
    CHECK_INT(m.col[IF_TECH], 11);
    CHECK_INT(m.col[IF_RSRP], 13);
    CHECK_INT(m.col[IF_RSRQ], 14);
    CHECK_INT(m.col[IF_SINR], 15);
    CHECK_INT(m.col[IF_DOWNLOAD], 19);
    CHECK_NEAR(m.scale[IF_DOWNLOAD], 0.001);
    CHECK_INT(m.col[IF_UPLOAD], 20);
    CHECK_NEAR(m.scale[IF_UPLOAD], 0.001);
    CHECK_INT(m.col[IF_LATENCY], 27);
    CHECK_NEAR(m.scale[IF_LATENCY], 1);
    for (int c = 22; c <= 24; c++) /* Altitude, Height, Accuracy */
        CHECK_INT(field_of(&m, c), -1);
    CHECK_INT(field_of(&m, 31), -1); /* PINGLOSS is not a latency */
    char err[512];
    CHECK_INT(ingest_mapping_check(&m, 0, cols, NCOLS(cols), err, sizeof err), LS_OK);

    /* Shorter logs: "Ping" instead of PINGAVG; Speed still not a download. */
    static const char *const cols2[] = {"Timestamp", "Longitude", "Latitude", "Speed",
                                        "Operator",  "Level",     "Qual",     "Ping"};
    guess(cols2, NCOLS(cols2), &m);
    CHECK_INT(m.col[IF_LATENCY], 7);
    CHECK_INT(m.col[IF_OPERATOR], 4);
    CHECK_INT(m.col[IF_DOWNLOAD], -1);
    CHECK_INT(ingest_mapping_check(&m, 0, cols2, NCOLS(cols2), err, sizeof err), LS_EINVAL);
    CHECK_CONTAINS(err, "missing columns: download.");
}

TEST(ingest_mapping, guess_rtr_nettest)
{
    static const char *const cols[] = {"open_uuid",
                                       "open_test_uuid",
                                       "time_utc",
                                       "cat_technology",
                                       "network_type",
                                       "lat",
                                       "long",
                                       "loc_src",
                                       "loc_accuracy",
                                       "gkz",
                                       "download_kbit",
                                       "upload_kbit",
                                       "ping_ms",
                                       "lte_rsrp",
                                       "lte_rsrq",
                                       "server_name",
                                       "test_duration",
                                       "num_threads",
                                       "platform",
                                       "model",
                                       "network_mcc_mnc",
                                       "network_name",
                                       "sim_mcc_mnc",
                                       "nat_type",
                                       "ndt_download_kbit",
                                       "ndt_upload_kbit",
                                       "signal_strength",
                                       "provider_name"};
    ingest_mapping m;
    guess(cols, NCOLS(cols), &m);
    CHECK_INT(m.col[IF_TEST_ID], 1);
    CHECK_INT(m.col[IF_TIME], 2);
    CHECK_INT(m.col[IF_TECH], 3);
    CHECK_INT(m.col[IF_LAT], 5);
    CHECK_INT(m.col[IF_LON], 6);
    CHECK_INT(m.col[IF_DOWNLOAD], 10);
    CHECK_NEAR(m.scale[IF_DOWNLOAD], 0.001);
    CHECK_INT(m.col[IF_UPLOAD], 11);
    CHECK_NEAR(m.scale[IF_UPLOAD], 0.001);
    CHECK_INT(m.col[IF_LATENCY], 12);
    CHECK_NEAR(m.scale[IF_LATENCY], 1);
    CHECK_INT(m.col[IF_RSRP], 13); /* lte_rsrp over signal_strength */
    CHECK_INT(m.col[IF_RSRQ], 14);
    CHECK_INT(m.col[IF_MCCMNC], 20);
    CHECK_INT(m.col[IF_OPERATOR], 27);
    CHECK_INT(field_of(&m, 16), -1); /* test_duration: not a time, not a speed */
    CHECK_INT(field_of(&m, 24), -1);
    CHECK_INT(field_of(&m, 26), -1);
    char err[512];
    CHECK_INT(ingest_mapping_check(&m, 0, cols, NCOLS(cols), err, sizeof err), LS_OK);
}

TEST(ingest_mapping, guess_opencellid)
{
    static const char *const cols[] = {
        "radio", "mcc",   "net",     "area",       "cell",    "unit",    "lon",
        "lat",   "range", "samples", "changeable", "created", "updated", "averageSignal"};
    ingest_mapping m;
    guess(cols, NCOLS(cols), &m);
    CHECK_INT(m.col[IF_TECH], 0);
    CHECK_INT(m.col[IF_MCC], 1);
    CHECK_INT(m.col[IF_MNC], 2);
    CHECK_INT(m.col[IF_LON], 6);
    CHECK_INT(m.col[IF_LAT], 7);
    CHECK_INT(m.col[IF_TIME], 11);
    CHECK_INT(m.col[IF_RSRP], 13);
    CHECK_INT(m.col[IF_DOWNLOAD], -1);
    for (int c = 3; c <= 5; c++)
        CHECK_INT(field_of(&m, c), -1);
    char err[512];
    CHECK_INT(ingest_mapping_check(&m, 0, cols, NCOLS(cols), err, sizeof err), LS_EINVAL);
    CHECK_CONTAINS(err, "missing columns: download. Columns in the file: radio, mcc, net,");
}

TEST(ingest_mapping, guess_vietnamese)
{
    static const char *const cols[] = {"STT",
                                       "Kinh độ",
                                       "Vĩ độ",
                                       "Thời gian",
                                       "Nhà mạng",
                                       "Công nghệ",
                                       "Tốc độ tải xuống (Mbps)",
                                       "Tốc độ tải lên (kbps)",
                                       "Độ trễ (ms)",
                                       "Ghi chú"};
    ingest_mapping m;
    guess(cols, NCOLS(cols), &m);
    CHECK_INT(m.col[IF_LON], 1);
    CHECK_INT(m.col[IF_LAT], 2);
    CHECK_INT(m.col[IF_TIME], 3);
    CHECK_INT(m.col[IF_OPERATOR], 4);
    CHECK_INT(m.col[IF_TECH], 5);
    CHECK_INT(m.col[IF_DOWNLOAD], 6);
    CHECK_NEAR(m.scale[IF_DOWNLOAD], 1);
    CHECK_INT(m.col[IF_UPLOAD], 7);
    CHECK_NEAR(m.scale[IF_UPLOAD], 0.001);
    CHECK_INT(m.col[IF_LATENCY], 8);
    CHECK_NEAR(m.scale[IF_LATENCY], 1);
    CHECK_INT(field_of(&m, 0), -1);
    CHECK_INT(field_of(&m, 9), -1);

    /* typed without diacritics, in capitals, other spellings */
    static const char *const cols2[] = {"KINH DO",   "VI DO",     "NGAY GIO", "NHA MANG",
                                        "CONG NGHE", "TAI XUONG", "TAI LEN",  "DO TRE (s)"};
    guess(cols2, NCOLS(cols2), &m);
    CHECK_INT(m.col[IF_LON], 0);
    CHECK_INT(m.col[IF_LAT], 1);
    CHECK_INT(m.col[IF_TIME], 2);
    CHECK_INT(m.col[IF_OPERATOR], 3);
    CHECK_INT(m.col[IF_TECH], 4);
    CHECK_INT(m.col[IF_DOWNLOAD], 5);
    CHECK_NEAR(m.scale[IF_DOWNLOAD], 1);
    CHECK_INT(m.col[IF_UPLOAD], 6);
    CHECK_INT(m.col[IF_LATENCY], 7);
    CHECK_NEAR(m.scale[IF_LATENCY], 1000);

    /* projected coordinates and a kbps download */
    static const char *const cols3[] = {
        "Tọa độ X", "Tọa độ Y", "ngày giờ", "Tốc độ tải xuống (kbps)", "Tải lên", "Độ trễ"};
    guess(cols3, NCOLS(cols3), &m);
    CHECK_INT(m.col[IF_X], 0);
    CHECK_INT(m.col[IF_Y], 1);
    CHECK_INT(m.col[IF_TIME], 2);
    CHECK_INT(m.col[IF_DOWNLOAD], 3);
    CHECK_NEAR(m.scale[IF_DOWNLOAD], 0.001);
    CHECK_INT(m.col[IF_UPLOAD], 4);
    CHECK_NEAR(m.scale[IF_UPLOAD], 1);
    CHECK_INT(m.col[IF_LATENCY], 5);
    char err[512];
    CHECK_INT(ingest_mapping_check(&m, 0, cols3, NCOLS(cols3), err, sizeof err), LS_OK);

    /* plain X / Y, "Tốc độ tải xuống" without a unit, decomposed marks */
    static const char *const cols4[] = {
        "X", "Y", "Thơ\xcc\x80i gian", "Tốc độ tải xuống", "Tốc độ tải lên", "Độ trễ (ms)"};
    guess(cols4, NCOLS(cols4), &m);
    CHECK_INT(m.col[IF_X], 0);
    CHECK_INT(m.col[IF_Y], 1);
    CHECK_INT(m.col[IF_TIME], 2);
    CHECK_INT(m.col[IF_DOWNLOAD], 3);
    CHECK_NEAR(m.scale[IF_DOWNLOAD], 1);
    CHECK_INT(m.col[IF_UPLOAD], 4);
    CHECK_INT(m.col[IF_LATENCY], 5);
}

TEST(ingest_mapping, units_from_headers)
{
    static const struct {
        const char *header;
        ingest_field field;
        double scale;
    } cases[] = {
        {"download (Mbps)", IF_DOWNLOAD, 1},
        {"Download [Mbit/s]", IF_DOWNLOAD, 1},
        {"download (kbps)", IF_DOWNLOAD, 0.001},
        {"download (Kbps)", IF_DOWNLOAD, 0.001},
        {"download (kbit/s)", IF_DOWNLOAD, 0.001},
        {"download (bps)", IF_DOWNLOAD, 1e-6},
        {"download (Gbps)", IF_DOWNLOAD, 1000},
        {"download_kbps", IF_DOWNLOAD, 0.001},
        {"DL_kbps", IF_DOWNLOAD, 0.001},
        {"download_bps", IF_DOWNLOAD, 1e-6},
        {"download_kbit", IF_DOWNLOAD, 0.001},
        {"download", IF_DOWNLOAD, 1},
        {"DL_bitrate", IF_DOWNLOAD, 0.001},
        {"DL_bitrate (Mbps)", IF_DOWNLOAD, 1}, /* a written unit beats the name */
        {"Download speed (Mbps)", IF_DOWNLOAD, 1},
        {"Tải xuống (kbit/s)", IF_DOWNLOAD, 0.001},
        {"upload (kbps)", IF_UPLOAD, 0.001},
        {"UL_bitrate", IF_UPLOAD, 0.001},
        {"upload_kbit", IF_UPLOAD, 0.001},
        {"Tốc độ tải lên (bps)", IF_UPLOAD, 1e-6},
        {"ping (ms)", IF_LATENCY, 1},
        {"ping (s)", IF_LATENCY, 1000},
        {"latency_sec", IF_LATENCY, 1000},
        {"Latency (sec)", IF_LATENCY, 1000},
        {"latency", IF_LATENCY, 1},
        {"Độ trễ (giây)", IF_LATENCY, 1000},
        {"avg download (kbps)", IF_DOWNLOAD, 0.001}, /* only a loose match */
    };
    for (size_t i = 0; i < LS_ARRAY_LEN(cases); i++) {
        const char *cols[] = {cases[i].header};
        ingest_mapping m;
        guess(cols, 1, &m);
        if (m.col[cases[i].field] != 0 || fabs(m.scale[cases[i].field] - cases[i].scale) > 1e-12)
            t_fail(__FILE__, __LINE__, "\"%s\": %s col %d scale %g, want col 0 scale %g",
                   cases[i].header, ingest_field_name(cases[i].field), m.col[cases[i].field],
                   m.scale[cases[i].field], cases[i].scale);
    }
}

TEST(ingest_mapping, specific_beats_weak)
{
    ingest_mapping m;
    static const char *const a[] = {"download", "download_kbit"};
    guess(a, NCOLS(a), &m);
    CHECK_INT(m.col[IF_DOWNLOAD], 1);
    CHECK_NEAR(m.scale[IF_DOWNLOAD], 0.001);
    CHECK_INT(field_of(&m, 0), -1); /* not also taken as upload */

    static const char *const b[] = {"speed", "Speed (Mbps)", "time", "lat", "lon"};
    guess(b, NCOLS(b), &m);
    CHECK_INT(m.col[IF_DOWNLOAD], -1);
    CHECK_INT(m.col[IF_UPLOAD], -1);

    static const char *const c[] = {"signal_strength", "lte_rsrp", "Level"};
    guess(c, NCOLS(c), &m);
    CHECK_INT(m.col[IF_RSRP], 1);

    /* loose matches and their vetoes */
    static const char *const d[] = {"download_duration", "ping_loss",    "Avg ping",
                                    "max download",      "lat_accuracy", "gps latitude"};
    guess(d, NCOLS(d), &m);
    CHECK_INT(m.col[IF_LATENCY], 2);
    CHECK_INT(m.col[IF_DOWNLOAD], 3);
    CHECK_INT(m.col[IF_LAT], 5);
    CHECK_INT(field_of(&m, 0), -1);
    CHECK_INT(field_of(&m, 1), -1);
    CHECK_INT(field_of(&m, 4), -1);

    /* a unit that contradicts the name rules the name out */
    static const char *const e[] = {"download (ms)", "ping (Mbps)"};
    guess(e, NCOLS(e), &m);
    CHECK_INT(m.col[IF_DOWNLOAD], -1);
    CHECK_INT(m.col[IF_LATENCY], -1);

    /* no columns at all */
    guess(NULL, 0, &m);
    for (int f = 0; f < IF_COUNT; f++)
        CHECK_INT(m.col[f], -1);
}

/* ------------------------------------------------------------- overrides */

TEST(ingest_mapping, overrides)
{
    static const char *const cols[] = {"a", "b", "c", "DL kbps", "Thời gian", "download"};
    static const char *const ov[] = {"download=DL_kbps", "lat=a", "Lon=b", "time=thoi gian"};
    ingest_mapping m;
    char err[512] = "";
    CHECK_INT(ingest_mapping_guess(cols, NCOLS(cols), ov, NCOLS(ov), &m, err, sizeof err), LS_OK);
    CHECK_INT(m.col[IF_DOWNLOAD], 3);
    CHECK_NEAR(m.scale[IF_DOWNLOAD], 0.001); /* the unit still comes from the header */
    CHECK_INT(m.from_override[IF_DOWNLOAD], 1);
    CHECK_INT(m.col[IF_LAT], 0);
    CHECK_INT(m.from_override[IF_LAT], 1);
    CHECK_INT(m.col[IF_LON], 1);
    CHECK_INT(m.col[IF_TIME], 4);
    CHECK_INT(m.from_override[IF_TIME], 1);
    /* "download" was not used: the override took the field; nor is it upload */
    CHECK_INT(field_of(&m, 5), -1);
    CHECK_INT(m.from_override[IF_UPLOAD], 0);

    /* an override may take a column the guess would have given elsewhere */
    static const char *const cols2[] = {"time", "lat", "lon", "download", "dl_mbps"};
    static const char *const ov2[] = {"upload=download"};
    CHECK_INT(ingest_mapping_guess(cols2, NCOLS(cols2), ov2, 1, &m, err, sizeof err), LS_OK);
    CHECK_INT(m.col[IF_UPLOAD], 3);
    CHECK_INT(m.col[IF_DOWNLOAD], 4);
    CHECK_INT(m.from_override[IF_DOWNLOAD], 0);

    /* COLUMN=FIELD, the order the issue writes, gives the same mapping;
     * both orders may be mixed */
    static const char *const ov3[] = {"DL_kbps=download", "a=lat", "Lon=b", "thoi gian=time"};
    CHECK_INT(ingest_mapping_guess(cols, NCOLS(cols), ov3, NCOLS(ov3), &m, err, sizeof err), LS_OK);
    CHECK_INT(m.col[IF_DOWNLOAD], 3);
    CHECK_NEAR(m.scale[IF_DOWNLOAD], 0.001);
    CHECK_INT(m.col[IF_LAT], 0);
    CHECK_INT(m.col[IF_LON], 1);
    CHECK_INT(m.col[IF_TIME], 4);
    CHECK_INT(m.from_override[IF_TIME], 1);
    /* both sides name a field: the one that is a column is the column */
    static const char *const ov4[] = {"download=upload"};
    CHECK_INT(ingest_mapping_guess(cols2, NCOLS(cols2), ov4, 1, &m, err, sizeof err), LS_OK);
    CHECK_INT(m.col[IF_UPLOAD], 3);

    /* every canonical name is accepted */
    for (int f = 0; f < IF_COUNT; f++) {
        char o[64];
        snprintf(o, sizeof o, "%s=c", ingest_field_name((ingest_field)f));
        const char *one[] = {o};
        CHECK_INT(ingest_mapping_guess(cols, NCOLS(cols), one, 1, &m, err, sizeof err), LS_OK);
        CHECK_INT(m.col[f], 2);
    }
    CHECK_STR(ingest_field_name(IF_MCCMNC), "mcc_mnc");
    CHECK_STR(ingest_field_name(IF_TEST_ID), "test_id");
}

TEST(ingest_mapping, override_errors)
{
    static const char *const cols[] = {"a", "b", "c"};
    ingest_mapping m;
    char err[512];

    const char *bad_field[] = {"speed=a"};
    CHECK_INT(ingest_mapping_guess(cols, 3, bad_field, 1, &m, err, sizeof err), LS_EINVAL);
    CHECK_CONTAINS(err, "unknown field \"speed\"");
    CHECK_CONTAINS(err, "lat, lon, x, y, time, download, upload, latency, operator, mcc, mnc, "
                        "mcc_mnc, tech, rsrp, rsrq, sinr, device, test_id");
    for (int f = 0; f < IF_COUNT; f++)
        CHECK_INT(m.col[f], -1);

    const char *bad_col[] = {"lat=a", "download=nope"};
    CHECK_INT(ingest_mapping_guess(cols, 3, bad_col, 2, &m, err, sizeof err), LS_EINVAL);
    CHECK_CONTAINS(err, "no column \"nope\"");
    CHECK_CONTAINS(err, "Columns in the file: a, b, c");
    CHECK_INT(m.col[IF_LAT], -1); /* nothing half-applied */

    /* neither side a field: the side that is not a column is named */
    const char *bad_field2[] = {"a=speed"};
    CHECK_INT(ingest_mapping_guess(cols, 3, bad_field2, 1, &m, err, sizeof err), LS_EINVAL);
    CHECK_CONTAINS(err, "unknown field \"speed\"");
    const char *bad_col2[] = {"nope=download"};
    CHECK_INT(ingest_mapping_guess(cols, 3, bad_col2, 1, &m, err, sizeof err), LS_EINVAL);
    CHECK_CONTAINS(err, "no column \"nope\"");

    const char *no_eq[] = {"download"};
    CHECK_INT(ingest_mapping_guess(cols, 3, no_eq, 1, &m, err, sizeof err), LS_EINVAL);
    CHECK_CONTAINS(err, "FIELD=COLUMN");

    const char *empty_col[] = {"download="};
    CHECK_INT(ingest_mapping_guess(cols, 3, empty_col, 1, &m, err, sizeof err), LS_EINVAL);

    const char *twice[] = {"download=a", "download=b"};
    CHECK_INT(ingest_mapping_guess(cols, 3, twice, 2, &m, err, sizeof err), LS_EINVAL);
    CHECK_CONTAINS(err, "twice");

    /* a tiny error buffer is filled, terminated, not overrun */
    char tiny[12];
    memset(tiny, 'Z', sizeof tiny);
    CHECK_INT(ingest_mapping_guess(cols, 3, bad_field, 1, &m, tiny, 8), LS_EINVAL);
    CHECK_INT(strlen(tiny), 7);
    CHECK(tiny[8] == 'Z');
    CHECK_INT(ingest_mapping_guess(cols, 3, bad_field, 1, &m, NULL, 0), LS_EINVAL);
}

/* ----------------------------------------------------------------- check */

TEST(ingest_mapping, check_messages)
{
    static const char *const cols[] = {"a", "b", "c"};
    ingest_mapping m;
    char err[512];
    guess(cols, 3, &m);
    m.col[IF_LAT] = 0;
    m.col[IF_LON] = 1;
    CHECK_INT(ingest_mapping_check(&m, 0, cols, 3, err, sizeof err), LS_EINVAL);
    CHECK_STR(err, "missing columns: time, download. Columns in the file: a, b, c. "
                   "Name them with --map FIELD=COLUMN");

    m.col[IF_TIME] = 2;
    m.col[IF_DOWNLOAD] = 2;
    CHECK_INT(ingest_mapping_check(&m, 0, cols, 3, err, sizeof err), LS_OK);

    m.col[IF_LON] = -1;
    CHECK_INT(ingest_mapping_check(&m, 0, cols, 3, err, sizeof err), LS_EINVAL);
    CHECK_CONTAINS(err, "missing columns: lon.");
    CHECK_INT(ingest_mapping_check(&m, 1, cols, 3, err, sizeof err), LS_OK); /* has geometry */

    m.col[IF_LAT] = -1;
    m.col[IF_X] = 0;
    CHECK_INT(ingest_mapping_check(&m, 0, cols, 3, err, sizeof err), LS_EINVAL);
    CHECK_CONTAINS(err, "missing columns: y.");
    m.col[IF_Y] = 1;
    CHECK_INT(ingest_mapping_check(&m, 0, cols, 3, err, sizeof err), LS_OK);

    m.col[IF_X] = m.col[IF_Y] = -1;
    m.col[IF_DOWNLOAD] = -1;
    CHECK_INT(ingest_mapping_check(&m, 0, cols, 3, err, sizeof err), LS_EINVAL);
    CHECK_STR(err, "missing columns: lat, lon (or x, y), download. Columns in the file: a, b, c. "
                   "Name them with --map FIELD=COLUMN");
    CHECK_INT(ingest_mapping_check(&m, 1, cols, 3, err, sizeof err), LS_EINVAL);
    CHECK_CONTAINS(err, "missing columns: download.");

    CHECK_INT(ingest_mapping_check(&m, 0, NULL, 0, err, sizeof err), LS_EINVAL);
    CHECK_CONTAINS(err, "Columns in the file: (none).");
    CHECK_INT(ingest_mapping_check(&m, 0, cols, 3, NULL, 0), LS_EINVAL);
}

/* ---------------------------------------------------------------- values */

TEST(ingest_mapping, numbers)
{
    static const struct {
        const char *s;
        double v;
    } good[] = {
        {"12.5", 12.5}, {"12,5", 12.5}, {" 12 ", 12},       {"1e3", 1000},      {"-3.5", -3.5},
        {"+4", 4},      {"0", 0},       {"\t7.25\r", 7.25}, {"-105,4", -105.4}, {"1E-2", 0.01},
    };
    for (size_t i = 0; i < LS_ARRAY_LEN(good); i++) {
        double v = -999;
        if (ingest_parse_number(good[i].s, &v) != LS_OK || fabs(v - good[i].v) > 1e-12)
            t_fail(__FILE__, __LINE__, "\"%s\": got %g, want %g", good[i].s, v, good[i].v);
    }
    static const char *const bad[] = {"",      "   ",       "abc",       "1.2.3",   "nan",  "NaN",
                                      "inf",   "-Infinity", "1,234,567", "1.234,5", "0x10", "12abc",
                                      "1e999", "-",         ".",         "1 234"};
    for (size_t i = 0; i < LS_ARRAY_LEN(bad); i++) {
        double v = 0;
        if (ingest_parse_number(bad[i], &v) != LS_EINVAL)
            t_fail(__FILE__, __LINE__, "\"%s\" accepted as %g", bad[i], v);
    }
    double v;
    CHECK_INT(ingest_parse_number(NULL, &v), LS_EINVAL);
}

/* Every decimal read exactly as strtod reads it, to the bit: the plain
 * ones take a fast path of their own. */
TEST(ingest_mapping, numbers_as_strtod_reads_them)
{
    unsigned seed = 12345;
    int differ = 0, checked = 0;
    for (int i = 0; i < 300000; i++) {
        char s[64];
        int n = 0;
        seed = seed * 1103515245u + 12345u;
        unsigned r = seed >> 8;
        if (r % 5 == 0)
            s[n++] = '-';
        int ints = (int)(r / 5 % 12), fracs = (int)(r / 60 % 16);
        for (int k = 0; k < ints; k++) {
            seed = seed * 1103515245u + 12345u;
            s[n++] = (char)('0' + (seed >> 8) % (k == 0 && r % 7 ? 10 : 3));
        }
        if (fracs || !ints) {
            s[n++] = '.';
            for (int k = 0; k <= fracs; k++) {
                seed = seed * 1103515245u + 12345u;
                s[n++] = (char)('0' + (seed >> 8) % 10);
            }
        }
        s[n] = '\0';
        double got = 0, want = strtod(s, NULL);
        if (ingest_parse_number(s, &got) != LS_OK) {
            t_fail(__FILE__, __LINE__, "\"%s\" refused", s);
            return;
        }
        checked++;
        if (memcmp(&got, &want, sizeof got) != 0 && differ++ < 5)
            t_fail(__FILE__, __LINE__, "\"%s\": %.17g, strtod %.17g", s, got, want);
    }
    CHECK_INT(checked, 300000);
    CHECK_INT(differ, 0);
}

TEST(ingest_mapping, times)
{
    /* 2025-03-01T01:30:00Z = 08:30 in Vietnam */
    static const struct {
        const char *s;
        double epoch;
    } good[] = {
        {"2025-03-01 08:30:00", 1740792600},
        {"2025-03-01T08:30:00", 1740792600},
        {"2025-03-01T08:30", 1740792600},
        {"2025-03-01 08:30", 1740792600},
        {"01/03/2025 08:30", 1740792600},
        {"01/03/2025 08:30:00", 1740792600},
        {"1/3/2025 8:30", 1740792600},
        {"01-03-2025 08:30:00", 1740792600},
        {"01.03.2025 08:30", 1740792600},
        {"2025-03-01T01:30:00Z", 1740792600},
        {"2025-03-01T01:30:00z", 1740792600},
        {"2025-03-01 01:30:00 UTC", 1740792600},
        {"2025-03-01T08:30:00+07:00", 1740792600},
        {"2025-03-01 08:30:00+0700", 1740792600},
        {"2025-03-01 08:30:00 +07:00", 1740792600},
        {"2025-03-01T03:30:00+02", 1740792600},
        {"2025-02-28T20:30:00-05:00", 1740792600},
        {"2025/03/01 08:30:00", 1740792600},
        {"2025.03.01_08.30.00", 1740792600}, /* G-NetTrack */
        {"1740792600", 1740792600},
        {"1740792600000", 1740792600},
        {" 1740792600 ", 1740792600},
        {"1740792600.5", 1740792600.5},
        {"1740792600500.0", 1740792600.5},
        {"2025-03-01T01:30:00.250Z", 1740792600.25},
        {"2025-03-01 08:30:00,5", 1740792600.5},
        {"2025-03-01", 1740762000}, /* midnight in Vietnam */
        {"1970-01-01T00:00:00Z", 0},
        {"2000-01-01T00:00:00Z", 946684800},
        {"2024-12-31T23:59:59Z", 1735689599},
        {"29/02/2024 07:00", 1709164800}, /* leap day */
        {"2000-02-29T00:00:00Z", 951782400},
    };
    for (size_t i = 0; i < LS_ARRAY_LEN(good); i++) {
        double e = -1;
        ls_status st = ingest_parse_time(good[i].s, &e);
        if (st != LS_OK || fabs(e - good[i].epoch) > 1e-6)
            t_fail(__FILE__, __LINE__, "\"%s\": status %d epoch %.3f, want %.3f", good[i].s, st, e,
                   good[i].epoch);
    }
    static const char *const bad[] = {
        "",
        "abc",
        "31/02/2025",
        "31/02/2025 08:30",
        "29/02/2025 08:30",
        "1900-02-29",
        "31/04/2025",
        "2025-13-01",
        "2025-00-10",
        "2025-03-00",
        "00/03/2025",
        "2025-03-01 24:00",
        "2025-03-01 08:60",
        "2025-03-01 08:30:61",
        "2025-03-01 08:30:00+15:00",
        "2025-03-01 08:30:00 PM7",
        "2025-03-01X08:30",
        "2025-03-01 08",
        "01/03/25 08:30",
        "2025-03-01T08:30:00Zjunk",
        "-1",
        "1.5.6",
        "1e20",
        "99999999999999999",
    };
    for (size_t i = 0; i < LS_ARRAY_LEN(bad); i++) {
        double e = 0;
        if (ingest_parse_time(bad[i], &e) != LS_EINVAL)
            t_fail(__FILE__, __LINE__, "\"%s\" accepted as %.0f", bad[i], e);
    }
    double e;
    CHECK_INT(ingest_parse_time(NULL, &e), LS_EINVAL);
}

TEST(ingest_mapping, tech)
{
    static const struct {
        const char *s, *gen;
    } good[] = {
        {"GSM", "2G"},    {"gsm", "2G"},    {"EDGE", "2G"},    {"GPRS", "2G"},  {"2G", "2G"},
        {"UMTS", "3G"},   {"WCDMA", "3G"},  {"HSPA", "3G"},    {"HSPA+", "3G"}, {"hspa+", "3G"},
        {"HSDPA", "3G"},  {"3G", "3G"},     {"3g", "3G"},      {"LTE", "4G"},   {"lte", "4G"},
        {"LTE-A", "4G"},  {"LTE CA", "4G"}, {"4G", "4G"},      {"4G+", "4G"},   {"NR", "5G"},
        {"nr", "5G"},     {"NR NSA", "5G"}, {"NR-NSA", "5G"},  {"NR SA", "5G"}, {"5G", "5G"},
        {"5G NSA", "5G"}, {"5G SA", "5G"},  {" 5g_sa ", "5G"},
    };
    for (size_t i = 0; i < LS_ARRAY_LEN(good); i++) {
        char out[3] = "xx";
        if (ingest_parse_tech(good[i].s, out) != LS_OK || strcmp(out, good[i].gen) != 0)
            t_fail(__FILE__, __LINE__, "\"%s\": got \"%s\", want \"%s\"", good[i].s, out,
                   good[i].gen);
    }
    static const char *const bad[] = {"WIFI", "WLAN", "wifi", "", "unknown", "LTE5", "6G", "4"};
    for (size_t i = 0; i < LS_ARRAY_LEN(bad); i++) {
        char out[3] = "";
        if (ingest_parse_tech(bad[i], out) != LS_EINVAL)
            t_fail(__FILE__, __LINE__, "\"%s\" accepted as \"%s\"", bad[i], out);
    }
    char out[3];
    CHECK_INT(ingest_parse_tech(NULL, out), LS_EINVAL);
}

/* -------------------------------------------------------------- carriers */

/* ../shared/data/vn_carriers.csv, as the loader would fill it. */
static int vn_carriers(ingest_carrier *list)
{
    static const char *const rows[][3] = {
        {"viettel", "Viettel", "452-04"},   {"vinaphone", "VinaPhone (VNPT)", "452-02"},
        {"mobifone", "MobiFone", "452-01"}, {"vietnamobile", "Vietnamobile", "452-05"},
        {"gmobile", "Gmobile", "452-07"},   {"itelecom", "I-Telecom", "452-08"},
        {"reddi", "Reddi", "452-09"},
    };
    for (size_t i = 0; i < LS_ARRAY_LEN(rows); i++) {
        memset(&list[i], 0, sizeof list[i]);
        snprintf(list[i].code, sizeof list[i].code, "%s", rows[i][0]);
        snprintf(list[i].name, sizeof list[i].name, "%s", rows[i][1]);
        snprintf(list[i].mcc_mnc[0], sizeof list[i].mcc_mnc[0], "%s", rows[i][2]);
        list[i].n_mcc_mnc = 1;
    }
    return (int)LS_ARRAY_LEN(rows);
}

TEST(ingest_mapping, carriers)
{
    ingest_carrier list[8];
    int n = vn_carriers(list);
    static const struct {
        const char *text;
        int want;
    } cases[] = {
        {"viettel", 0},
        {"VIETTEL", 0},
        {" Viettel ", 0},
        {"Vina phone", 1},
        {"VinaPhone (VNPT)", 1},
        {"vinaphone", 1},
        {"VNPT", 1},
        {"vnpt", 1},
        {"MobiFone", 2},
        {"MOBIFONE", 2},
        {"Mobi Fone", 2},
        {"Vietnamobile", 3},
        {"Gmobile", 4},
        {"I-Telecom", 5},
        {"itelecom", 5},
        {"I Telecom", 5},
        {"Reddi", 6},
        {"452-04", 0},
        {"452 04", 0},
        {"45204", 0},
        {"452/04", 0},
        {"452-4", 0},
        {"452-02", 1},
        {"45201", 2},
        {"452-05", 3},
        {"452-7", 4},
        {"452-08", 5},
        {"452-09", 6},
        {"VN MOBIFONE", 2}, /* as phones report it */
        {"Viettel Mobile", 0},
        {"452-99", -1},
        {"45299", -1},
        {"451-04", -1},
        {"Viettel Vinaphone", -1}, /* names two carriers */
        {"Vietel", -1},
        {"unknown", -1},
        {"", -1},
    };
    for (size_t i = 0; i < LS_ARRAY_LEN(cases); i++) {
        int got = ingest_carrier_find(list, n, cases[i].text);
        if (got != cases[i].want)
            t_fail(__FILE__, __LINE__, "\"%s\": got %d, want %d", cases[i].text, got,
                   cases[i].want);
    }
    CHECK_INT(ingest_carrier_find(list, n, NULL), -1);
    CHECK_INT(ingest_carrier_find(NULL, 0, "viettel"), -1);
    CHECK_INT(ingest_carrier_find(list, 2, "MobiFone"), -1); /* only the first two */

    CHECK_INT(ingest_carrier_find_mcc_mnc(list, n, "452", "4"), 0);
    CHECK_INT(ingest_carrier_find_mcc_mnc(list, n, "452", "04"), 0);
    CHECK_INT(ingest_carrier_find_mcc_mnc(list, n, "452", "2"), 1);
    CHECK_INT(ingest_carrier_find_mcc_mnc(list, n, " 452 ", "05"), 3);
    CHECK_INT(ingest_carrier_find_mcc_mnc(list, n, "452.0", "7.0"), 4); /* Excel */
    CHECK_INT(ingest_carrier_find_mcc_mnc(list, n, "452", "9"), 6);
    CHECK_INT(ingest_carrier_find_mcc_mnc(list, n, "451", "4"), -1);
    CHECK_INT(ingest_carrier_find_mcc_mnc(list, n, "452", "3"), -1);
    CHECK_INT(ingest_carrier_find_mcc_mnc(list, n, "452", ""), -1);
    CHECK_INT(ingest_carrier_find_mcc_mnc(list, n, "abc", "4"), -1);
    CHECK_INT(ingest_carrier_find_mcc_mnc(list, n, "452", "4.5"), -1);
    CHECK_INT(ingest_carrier_find_mcc_mnc(list, n, NULL, "4"), -1);

    /* several MCC-MNC per carrier, written in other forms */
    snprintf(list[0].mcc_mnc[1], sizeof list[0].mcc_mnc[1], "45298");
    list[0].n_mcc_mnc = 2;
    CHECK_INT(ingest_carrier_find(list, n, "452-98"), 0);
    CHECK_INT(ingest_carrier_find_mcc_mnc(list, n, "452", "98"), 0);
}

/* ------------------------------------------------------ dead-zone reports */

TEST(ingest_mapping, report_headers)
{
    static const char *const vn[] = {"STT",   "Thôn/Bản", "Xã",        "Kinh độ",
                                     "Vĩ độ", "Nhà mạng", "Công nghệ", "Hiện tượng",
                                     "Số hộ", "Số người", "Ghi chú"};
    static const char *const ascii[] = {"THON/BAN",  "xa",         "KINH DO", "vi do",  "Nha mang",
                                        "CONG NGHE", "hien tuong", "so ho",   "ghi chu"};
    static const char *const en[] = {"village",    "commune", "lon",        "lat",    "carriers",
                                     "technology", "symptom", "households", "people", "note"};
    ingest_mapping m;
    char err[512] = "";
    CHECK_INT(
        ingest_mapping_guess_kind(INGEST_REPORTS, vn, NCOLS(vn), NULL, 0, &m, err, sizeof err),
        LS_OK);
    CHECK_INT(m.col[IF_PLACE], 1);
    CHECK_INT(m.col[IF_COMMUNE], 2);
    CHECK_INT(m.col[IF_LON], 3);
    CHECK_INT(m.col[IF_LAT], 4);
    CHECK_INT(m.col[IF_OPERATOR], 5);
    CHECK_INT(m.col[IF_TECH], 6);
    CHECK_INT(m.col[IF_SYMPTOM], 7);
    CHECK_INT(m.col[IF_HOUSEHOLDS], 8);
    CHECK_INT(m.col[IF_PEOPLE], 9);
    CHECK_INT(m.col[IF_NOTE], 10);
    CHECK_INT(field_of(&m, 0), -1); /* STT is a row number, nothing of a report */
    CHECK_INT(ingest_mapping_guess_kind(INGEST_REPORTS, ascii, NCOLS(ascii), NULL, 0, &m, err,
                                        sizeof err),
              LS_OK);
    for (int c = 0; c < NCOLS(ascii); c++)
        CHECK(field_of(&m, c) >= 0);
    CHECK_INT(m.col[IF_PLACE], 0);
    CHECK_INT(m.col[IF_NOTE], 8);
    CHECK_INT(
        ingest_mapping_guess_kind(INGEST_REPORTS, en, NCOLS(en), NULL, 0, &m, err, sizeof err),
        LS_OK);
    for (int c = 0; c < NCOLS(en); c++)
        CHECK(field_of(&m, c) >= 0);
    CHECK_INT(m.col[IF_HOUSEHOLDS], 7);

    /* a measurement file is guessed for measurements only: its notes and
     * village column are nobody's field */
    static const char *const meas[] = {"lat", "lon", "time", "download", "Ghi chú", "Thôn"};
    guess(meas, NCOLS(meas), &m);
    CHECK_INT(field_of(&m, 4), -1);
    CHECK_INT(field_of(&m, 5), -1);
    CHECK_INT(m.col[IF_DOWNLOAD], 3);

    /* overrides: FIELD=COLUMN or COLUMN=FIELD; synonyms */
    static const char *const odd[] = {"a", "b", "c", "d"};
    static const char *const ov[] = {"place=a", "b=technology", "carriers=c", "d=Note"};
    CHECK_INT(ingest_mapping_guess_kind(INGEST_REPORTS, odd, NCOLS(odd), ov, NCOLS(ov), &m, err,
                                        sizeof err),
              LS_OK);
    CHECK_INT(m.col[IF_PLACE], 0);
    CHECK_INT(m.col[IF_TECH], 1);
    CHECK_INT(m.col[IF_OPERATOR], 2);
    CHECK_INT(m.col[IF_NOTE], 3);
    static const char *const bad[] = {"a=b"};
    CHECK_INT(
        ingest_mapping_guess_kind(INGEST_REPORTS, odd, NCOLS(odd), bad, 1, &m, err, sizeof err),
        LS_EINVAL);
    CHECK_CONTAINS(err, "unknown field \"a\"");
    CHECK_CONTAINS(err, "Valid fields: lat, lon, x, y, carriers, tech, place, commune, symptom, "
                        "people, households, note");
    /* measurements take COLUMN=FIELD too (the order the issue writes) */
    CHECK_INT(ingest_mapping_guess(odd, NCOLS(odd), ov + 1, 1, &m, err, sizeof err), LS_OK);
    CHECK_INT(m.col[IF_TECH], 1);
}

TEST(ingest_mapping, report_symptoms)
{
    static const struct {
        const char *text, *want; /* want NULL: refused */
    } cases[] = {
        {"mất sóng", "no_signal"},
        {"Mất sóng 4G", "no_signal"},
        {"MAT SONG", "no_signal"},
        {"Không có sóng", "no_signal"},
        {"khong co song", "no_signal"},
        {"mất tín hiệu", "no_signal"},
        {"Lõm sóng", "no_signal"},
        {"no_signal", "no_signal"},
        {"No signal", "no_signal"},
        {"sóng yếu", "weak_signal"},
        {"Sóng yếu, chập chờn", "weak_signal"},
        {"SONG YEU", "weak_signal"},
        {"weak signal", "weak_signal"},
        {"chậm", "slow_data"},
        {"Tốc độ chậm", "slow_data"},
        {"mạng chậm", "slow_data"},
        {"slow_data", "slow_data"},
        {"sóng yếu, tốc độ chậm", NULL}, /* two symptoms */
        {"rất lạ", NULL},
        {"", NULL},
        {"   ", NULL},
        {"song", NULL},
    };
    for (size_t i = 0; i < LS_ARRAY_LEN(cases); i++) {
        const char *got = NULL;
        ls_status st = ingest_parse_symptom(cases[i].text, &got);
        if (cases[i].want ? st != LS_OK || !got || strcmp(got, cases[i].want) != 0
                          : st != LS_EINVAL)
            t_fail(__FILE__, __LINE__, "\"%s\": got %d %s, want %s", cases[i].text, st,
                   got ? got : "(none)", cases[i].want ? cases[i].want : "refused");
    }
    CHECK_INT(ingest_parse_symptom(NULL, NULL), LS_EINVAL);
}
