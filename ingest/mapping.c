/*
 * mapping.c — reading what real files call their columns, and the values
 * in them.
 *
 * Files arrive from localities typing Vietnamese headers into Excel, from
 * drive-test apps (G-NetTrack), from crowdsourced open data (RTR-NetTest,
 * OpenCelliD) and from whoever wrote "lat,lon,download".  Nobody will rename
 * their columns for us, so the guess has to be good and predictable: every
 * header is folded (lowercase, no diacritics, one '_' between words), its
 * unit split off, and scored against a table of names per field.  The
 * highest-scoring (column, field) pairs are taken first, so a specific name
 * ("download_kbit", "lte_rsrp") beats a loose one ("download", a header
 * that merely contains "ping"), and ties go to the leftmost column.  What the
 * guess gets wrong the user fixes with --map FIELD=COLUMN.
 *
 * The value parsers run once per cell of a file of millions of rows, so
 * they neither allocate nor touch the locale or the time zone database.
 */
#include "mapping.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Folded headers longer than this are cut: no real name is that long, and
 * the cut copy still matches nothing by accident. */
#define FOLD_MAX 256
/* Longest value text the number and time parsers look at. */
#define VALUE_MAX 64
/* Vietnam has no daylight saving: "no zone" is always UTC+7. */
#define VN_UTC_OFFSET_S (7 * 3600)

static const char *const field_names[IF_COUNT] = {
    [IF_LAT] = "lat",       [IF_LON] = "lon",         [IF_X] = "x",
    [IF_Y] = "y",           [IF_TIME] = "time",       [IF_DOWNLOAD] = "download",
    [IF_UPLOAD] = "upload", [IF_LATENCY] = "latency", [IF_OPERATOR] = "operator",
    [IF_MCC] = "mcc",       [IF_MNC] = "mnc",         [IF_MCCMNC] = "mcc_mnc",
    [IF_TECH] = "tech",     [IF_RSRP] = "rsrp",       [IF_RSRQ] = "rsrq",
    [IF_SINR] = "sinr",     [IF_DEVICE] = "device",   [IF_TEST_ID] = "test_id",
    [IF_PLACE] = "place",   [IF_COMMUNE] = "commune", [IF_SYMPTOM] = "symptom",
    [IF_PEOPLE] = "people", [IF_NOTE] = "note",       [IF_HOUSEHOLDS] = "households",
};

/* The fields a kind of file is guessed for (and listed in messages). */
static int field_in_kind(ingest_kind kind, int f)
{
    if (kind == INGEST_REPORTS)
        return f == IF_LAT || f == IF_LON || f == IF_X || f == IF_Y || f == IF_OPERATOR ||
               f == IF_TECH || f >= IF_PLACE;
    return f < IF_PLACE;
}

/* The name a kind's users know a field by: a report has carriers. */
static const char *field_label(ingest_kind kind, int f)
{
    if (kind == INGEST_REPORTS && f == IF_OPERATOR)
        return "carriers";
    return field_names[f];
}

const char *ingest_field_name(ingest_field f)
{
    /* Callers print this: an out-of-range value must not become a NULL %s. */
    if ((int)f < 0 || f >= IF_COUNT)
        return "unknown";
    return field_names[f];
}

/* --------------------------------------------------------------- folding */

#define FOLD_KEEP (-1) /* copy the character as written */
#define FOLD_DROP (-2) /* combining mark, BOM: vanish */
#define FOLD_SEP (-3)  /* word separator */

/* Decodes one UTF-8 sequence; returns its length (>= 1).  Malformed bytes
 * come back one at a time as 0xFFFFFFFF so that folding always advances. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
    unsigned c = s[0];
    size_t len;
    uint32_t v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2;
        v = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        v = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        v = c & 0x07;
    } else {
        *cp = 0xFFFFFFFFu;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFFFFFFu;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    *cp = v;
    return len;
}

/* What a code point folds to: a lowercase ASCII letter, or FOLD_*.
 * Vietnamese needs Latin-1, a few Latin Extended-A/B letters (ă đ ĩ ũ ơ ư)
 * and the Latin Extended Additional block U+1EA0..U+1EF9, where the marked
 * vowels come in upper/lower pairs grouped by base letter.  Files saved in
 * decomposed form (NFD, common from macOS) carry the marks as combining
 * characters, which are simply dropped. */
static int fold_cp(uint32_t cp)
{
    if (cp < 0x80) {
        if (cp >= 'A' && cp <= 'Z')
            return (int)(cp - 'A' + 'a');
        if (cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n' || cp == '_' || cp == '-' ||
            cp == '.')
            return FOLD_SEP;
        return FOLD_KEEP;
    }
    if (cp == 0xFEFF || (cp >= 0x0300 && cp <= 0x036F))
        return FOLD_DROP; /* Excel's BOM on the first header; NFD marks */
    if (cp == 0x00A0)
        return FOLD_SEP;
    if (cp >= 0x00C0 && cp <= 0x00FF) {
        static const char latin1[] = "aaaaaaaceeeeiiiidnooooo_ouuuuy__"
                                     "aaaaaaaceeeeiiiidnooooo_ouuuuy_y";
        _Static_assert(sizeof latin1 == 0x40 + 1, "one letter per code point U+00C0..U+00FF");
        char c = latin1[cp - 0x00C0];
        return c == '_' ? FOLD_KEEP : c;
    }
    switch (cp) {
    case 0x0102: /* Ă ă */
    case 0x0103:
        return 'a';
    case 0x0110: /* Đ đ */
    case 0x0111:
        return 'd';
    case 0x0128: /* Ĩ ĩ */
    case 0x0129:
        return 'i';
    case 0x0168: /* Ũ ũ */
    case 0x0169:
        return 'u';
    case 0x01A0: /* Ơ ơ */
    case 0x01A1:
        return 'o';
    case 0x01AF: /* Ư ư */
    case 0x01B0:
        return 'u';
    }
    if (cp >= 0x1EA0 && cp <= 0x1EB7)
        return 'a';
    if (cp >= 0x1EB8 && cp <= 0x1EC7)
        return 'e';
    if (cp >= 0x1EC8 && cp <= 0x1ECB)
        return 'i';
    if (cp >= 0x1ECC && cp <= 0x1EE3)
        return 'o';
    if (cp >= 0x1EE4 && cp <= 0x1EF1)
        return 'u';
    if (cp >= 0x1EF2 && cp <= 0x1EF9)
        return 'y';
    return FOLD_KEEP;
}

void ingest_fold(const char *in, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return;
    const unsigned char *p = (const unsigned char *)(in ? in : "");
    size_t n = 0;
    int pending_sep = 0; /* written only before the next kept character: trims both ends */
    while (*p) {
        uint32_t cp;
        size_t len = utf8_next(p, &cp);
        int c = cp == 0xFFFFFFFFu ? '?' : fold_cp(cp);
        if (c == FOLD_SEP || c == FOLD_DROP) {
            if (c == FOLD_SEP && n > 0)
                pending_sep = 1;
            p += len;
            continue;
        }
        char one = (char)c;
        const char *src = c == FOLD_KEEP ? (const char *)p : &one;
        size_t srclen = c == FOLD_KEEP ? len : 1;
        /* Stop rather than split a character: the result stays valid UTF-8. */
        if (n + (size_t)pending_sep + srclen >= outlen)
            break;
        if (pending_sep)
            out[n++] = '_';
        pending_sep = 0;
        memcpy(out + n, src, srclen);
        n += srclen;
        p += len;
    }
    out[n] = '\0';
}

/* ----------------------------------------------------------------- units */

typedef enum { UNIT_NONE = 0, UNIT_SPEED, UNIT_DURATION, UNIT_OTHER } unit_kind;

typedef struct {
    const char *text; /* folded */
    unit_kind kind;
    double scale;  /* to Mbps or ms */
    int suffix_ok; /* also recognised as the last word without brackets */
} unit_def;

/* Bare "s" or "giây" as a last word is too likely to be part of a name
 * ("time_s" could be anything); inside brackets it is clearly a unit. */
static const unit_def units[] = {
    {"mbps", UNIT_SPEED, 1, 1},           {"mbit", UNIT_SPEED, 1, 1},
    {"mbits", UNIT_SPEED, 1, 1},          {"mbit/s", UNIT_SPEED, 1, 1},
    {"mbits/s", UNIT_SPEED, 1, 1},        {"mb/s", UNIT_SPEED, 1, 1},
    {"kbps", UNIT_SPEED, 1e-3, 1},        {"kbit", UNIT_SPEED, 1e-3, 1},
    {"kbits", UNIT_SPEED, 1e-3, 1},       {"kbit/s", UNIT_SPEED, 1e-3, 1},
    {"kbits/s", UNIT_SPEED, 1e-3, 1},     {"kb/s", UNIT_SPEED, 1e-3, 1},
    {"bps", UNIT_SPEED, 1e-6, 1},         {"bit/s", UNIT_SPEED, 1e-6, 1},
    {"bits/s", UNIT_SPEED, 1e-6, 1},      {"b/s", UNIT_SPEED, 1e-6, 0},
    {"gbps", UNIT_SPEED, 1e3, 1},         {"gbit", UNIT_SPEED, 1e3, 1},
    {"gbit/s", UNIT_SPEED, 1e3, 1},       {"gb/s", UNIT_SPEED, 1e3, 1},
    {"ms", UNIT_DURATION, 1, 1},          {"msec", UNIT_DURATION, 1, 1},
    {"millisecond", UNIT_DURATION, 1, 0}, {"milliseconds", UNIT_DURATION, 1, 0},
    {"mili_giay", UNIT_DURATION, 1, 0},   {"miligiay", UNIT_DURATION, 1, 0},
    {"s", UNIT_DURATION, 1000, 0},        {"sec", UNIT_DURATION, 1000, 1},
    {"second", UNIT_DURATION, 1000, 0},   {"seconds", UNIT_DURATION, 1000, 0},
    {"giay", UNIT_DURATION, 1000, 0},
};

static const unit_def *unit_lookup(const char *text, int as_suffix)
{
    for (size_t i = 0; i < LS_ARRAY_LEN(units); i++)
        if (strcmp(units[i].text, text) == 0 && (!as_suffix || units[i].suffix_ok))
            return &units[i];
    return NULL;
}

/* One header, folded and split into name and unit. */
typedef struct {
    char full[FOLD_MAX]; /* "toc_do_tai_xuong_(kbps)" */
    char base[FOLD_MAX]; /* "toc_do_tai_xuong": the name without its unit */
    unit_kind kind;      /* UNIT_OTHER: brackets that hold no unit we know */
    double scale;
} header_info;

static void trim_underscores(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '_')
        s[--n] = '\0';
    size_t lead = strspn(s, "_");
    if (lead)
        memmove(s, s + lead, n - lead + 1);
}

static void header_analyse(const char *raw, header_info *h)
{
    ingest_fold(raw, h->full, sizeof h->full);
    memcpy(h->base, h->full, sizeof h->base);
    h->kind = UNIT_NONE;
    h->scale = 1;

    char *br = strpbrk(h->base, "([");
    if (br) {
        char unit[FOLD_MAX];
        char close = *br == '(' ? ')' : ']';
        snprintf(unit, sizeof unit, "%s", br + 1);
        char *end = strchr(unit, close);
        if (end)
            *end = '\0';
        trim_underscores(unit);
        *br = '\0';
        trim_underscores(h->base);
        const unit_def *u = unit_lookup(unit, 0);
        h->kind = u ? u->kind : UNIT_OTHER;
        h->scale = u ? u->scale : 1;
        return;
    }
    char *last = strrchr(h->base, '_');
    if (last) {
        const unit_def *u = unit_lookup(last + 1, 1);
        if (u) {
            *last = '\0';
            h->kind = u->kind;
            h->scale = u->scale;
        }
    }
}

/* ------------------------------------------------------- names per field */

typedef struct {
    const char *name; /* folded header, or the header without its unit */
    ingest_field field;
    int score;   /* higher wins; a loose "contains" match scores WEAK */
    double kbps; /* nonzero: a speed in kbit/s when no unit is written */
} alias_def;

/* Scores: 100 = a name that can only mean this field (often a specific
 * app's column), 80 = the usual generic name, 40-70 = plausible but
 * ambiguous, below that = last resort.  The table is what the guess knows
 * about real files; add names here, not code. */
static const alias_def aliases[] = {
    /* position */
    {"lat", IF_LAT, 100},
    {"latitude", IF_LAT, 100},
    {"vi_do", IF_LAT, 100},
    {"gps_lat", IF_LAT, 90},
    {"lon", IF_LON, 100},
    {"lng", IF_LON, 100},
    {"longitude", IF_LON, 100},
    {"kinh_do", IF_LON, 100},
    {"long", IF_LON, 80},
    {"gps_lon", IF_LON, 90},
    {"x", IF_X, 80},
    {"toa_do_x", IF_X, 100},
    {"easting", IF_X, 100},
    {"y", IF_Y, 80},
    {"toa_do_y", IF_Y, 100},
    {"northing", IF_Y, 100},
    /* time */
    {"time", IF_TIME, 90},
    {"timestamp", IF_TIME, 100},
    {"datetime", IF_TIME, 100},
    {"date_time", IF_TIME, 100},
    {"measured_at", IF_TIME, 100},
    {"time_utc", IF_TIME, 100},
    {"test_time", IF_TIME, 90},
    {"start_time", IF_TIME, 60},
    {"thoi_gian", IF_TIME, 100},
    {"ngay_gio", IF_TIME, 100},
    {"thoi_diem", IF_TIME, 90},
    {"ngay_do", IF_TIME, 80},
    {"date", IF_TIME, 40},
    {"ngay", IF_TIME, 30},
    {"created", IF_TIME, 60}, /* OpenCelliD: epoch seconds */
    {"updated", IF_TIME, 50},
    /* download: "speed" alone is G-NetTrack's vehicle speed, never here */
    {"download", IF_DOWNLOAD, 80},
    {"download_mbps", IF_DOWNLOAD, 100},
    {"dl", IF_DOWNLOAD, 80},
    {"dl_mbps", IF_DOWNLOAD, 100},
    {"download_speed", IF_DOWNLOAD, 90},
    {"download_rate", IF_DOWNLOAD, 90},
    {"dl_speed", IF_DOWNLOAD, 90},
    {"dl_throughput", IF_DOWNLOAD, 90},
    {"downlink", IF_DOWNLOAD, 60},
    {"down", IF_DOWNLOAD, 60},
    {"download_kbit", IF_DOWNLOAD, 100, 1},
    {"dl_bitrate", IF_DOWNLOAD, 100, 1},
    {"tai_xuong", IF_DOWNLOAD, 90},
    {"toc_do_tai_xuong", IF_DOWNLOAD, 100},
    /* upload */
    {"upload", IF_UPLOAD, 80},
    {"upload_mbps", IF_UPLOAD, 100},
    {"ul", IF_UPLOAD, 80},
    {"ul_mbps", IF_UPLOAD, 100},
    {"upload_speed", IF_UPLOAD, 90},
    {"upload_rate", IF_UPLOAD, 90},
    {"ul_speed", IF_UPLOAD, 90},
    {"ul_throughput", IF_UPLOAD, 90},
    {"uplink", IF_UPLOAD, 60},
    {"up", IF_UPLOAD, 60},
    {"upload_kbit", IF_UPLOAD, 100, 1},
    {"ul_bitrate", IF_UPLOAD, 100, 1},
    {"tai_len", IF_UPLOAD, 90},
    {"toc_do_tai_len", IF_UPLOAD, 100},
    /* latency */
    {"latency", IF_LATENCY, 90},
    {"latency_ms", IF_LATENCY, 100},
    {"ping", IF_LATENCY, 90},
    {"ping_ms", IF_LATENCY, 100},
    {"pingavg", IF_LATENCY, 90}, /* G-NetTrack */
    {"ping_avg", IF_LATENCY, 90},
    {"avg_ping", IF_LATENCY, 90},
    {"ping_time", IF_LATENCY, 70},
    {"rtt", IF_LATENCY, 80},
    {"do_tre", IF_LATENCY, 100},
    /* operator and network codes */
    {"operator", IF_OPERATOR, 80},
    {"operatorname", IF_OPERATOR, 100}, /* G-NetTrack; its "Operator" is the PLMN */
    {"operator_name", IF_OPERATOR, 100},
    {"carrier", IF_OPERATOR, 90},
    {"network_operator", IF_OPERATOR, 90},
    {"provider", IF_OPERATOR, 80},
    {"provider_name", IF_OPERATOR, 90},
    {"network_name", IF_OPERATOR, 80},
    {"isp", IF_OPERATOR, 50},
    {"nha_mang", IF_OPERATOR, 100},
    {"nha_cung_cap", IF_OPERATOR, 80},
    {"mcc", IF_MCC, 100},
    {"mnc", IF_MNC, 100},
    {"net", IF_MNC, 60}, /* OpenCelliD / Ichnaea */
    {"mcc_mnc", IF_MCCMNC, 100},
    {"mccmnc", IF_MCCMNC, 100},
    {"plmn", IF_MCCMNC, 90},
    {"plmn_id", IF_MCCMNC, 90},
    {"network_mcc_mnc", IF_MCCMNC, 100},
    {"sim_mcc_mnc", IF_MCCMNC, 40},
    {"operator", IF_MCCMNC, 10}, /* only once "operator" lost to Operatorname */
    /* technology */
    {"network_type", IF_TECH, 80},
    {"technology", IF_TECH, 90},
    {"tech", IF_TECH, 90},
    {"cat_technology", IF_TECH, 90}, /* RTR: already 2G..5G */
    {"networktech", IF_TECH, 100},   /* G-NetTrack */
    {"networkmode", IF_TECH, 70},
    {"rat", IF_TECH, 80},
    {"radio", IF_TECH, 80},
    {"access_technology", IF_TECH, 90},
    {"cong_nghe", IF_TECH, 100},
    {"loai_mang", IF_TECH, 90},
    /* signal */
    {"rsrp", IF_RSRP, 100},
    {"lte_rsrp", IF_RSRP, 100},
    {"nr_rsrp", IF_RSRP, 90},
    {"ss_rsrp", IF_RSRP, 90},
    {"level", IF_RSRP, 40},           /* G-NetTrack: RSRP on LTE */
    {"signal_strength", IF_RSRP, 30}, /* RTR, 2G/3G; lte_rsrp wins */
    {"averagesignal", IF_RSRP, 30},
    {"rsrq", IF_RSRQ, 100},
    {"lte_rsrq", IF_RSRQ, 100},
    {"nr_rsrq", IF_RSRQ, 90},
    {"qual", IF_RSRQ, 40},
    {"sinr", IF_SINR, 100},
    {"lte_sinr", IF_SINR, 100},
    {"snr", IF_SINR, 80},
    {"lte_snr", IF_SINR, 90},
    {"rssnr", IF_SINR, 70},
    {"lte_rssnr", IF_SINR, 70},
    /* ids */
    {"device_id", IF_DEVICE, 100},
    {"device", IF_DEVICE, 80},
    {"device_uuid", IF_DEVICE, 90},
    {"client_uuid", IF_DEVICE, 70},
    {"user_id", IF_DEVICE, 70},
    {"imei", IF_DEVICE, 70},
    {"thiet_bi", IF_DEVICE, 80},
    {"ma_thiet_bi", IF_DEVICE, 90},
    {"open_uuid", IF_DEVICE, 30},
    {"test_id", IF_TEST_ID, 100},
    {"test_uuid", IF_TEST_ID, 100},
    {"open_test_uuid", IF_TEST_ID, 100},
    {"uuid", IF_TEST_ID, 80},
    {"measurement_id", IF_TEST_ID, 80},
    {"result_id", IF_TEST_ID, 70},
    {"id", IF_TEST_ID, 20},
    /* dead-zone reports */
    {"thon/ban", IF_PLACE, 100},
    {"thon_ban", IF_PLACE, 100},
    {"thon", IF_PLACE, 100},
    {"ban", IF_PLACE, 90},
    {"thon/xom", IF_PLACE, 100},
    {"thon_xom", IF_PLACE, 100},
    {"xom", IF_PLACE, 90},
    {"thon/ap", IF_PLACE, 100},
    {"ap", IF_PLACE, 80},
    {"lang", IF_PLACE, 80},
    {"to_dan_pho", IF_PLACE, 90},
    {"ten_thon", IF_PLACE, 100},
    {"dia_diem", IF_PLACE, 90},
    {"dia_danh", IF_PLACE, 90},
    {"village", IF_PLACE, 100},
    {"hamlet", IF_PLACE, 100},
    {"place", IF_PLACE, 100},
    {"place_name", IF_PLACE, 100},
    {"name", IF_PLACE, 40}, /* KML placemarks: usually the village */
    {"ten", IF_PLACE, 40},
    {"xa", IF_COMMUNE, 100},
    {"phuong", IF_COMMUNE, 100},
    {"xa/phuong", IF_COMMUNE, 100},
    {"xa_phuong", IF_COMMUNE, 100},
    {"xa/phuong/dac_khu", IF_COMMUNE, 100},
    {"ten_xa", IF_COMMUNE, 100},
    {"ma_xa", IF_COMMUNE, 100},
    {"commune", IF_COMMUNE, 100},
    {"commune_code", IF_COMMUNE, 100},
    {"ward", IF_COMMUNE, 90},
    {"hien_tuong", IF_SYMPTOM, 100},
    {"tinh_trang", IF_SYMPTOM, 80},
    {"van_de", IF_SYMPTOM, 70},
    {"symptom", IF_SYMPTOM, 100},
    {"problem", IF_SYMPTOM, 60},
    {"so_nguoi", IF_PEOPLE, 100},
    {"so_dan", IF_PEOPLE, 90},
    {"dan_so", IF_PEOPLE, 80},
    {"so_nguoi_anh_huong", IF_PEOPLE, 100},
    {"people", IF_PEOPLE, 100},
    {"people_affected", IF_PEOPLE, 100},
    {"population", IF_PEOPLE, 80},
    {"so_ho", IF_HOUSEHOLDS, 100},
    {"so_ho_dan", IF_HOUSEHOLDS, 100},
    {"ho_dan", IF_HOUSEHOLDS, 90},
    {"so_ho_anh_huong", IF_HOUSEHOLDS, 100},
    {"households", IF_HOUSEHOLDS, 100},
    {"ghi_chu", IF_NOTE, 100},
    {"note", IF_NOTE, 100},
    {"notes", IF_NOTE, 100},
    {"mo_ta", IF_NOTE, 90},
    {"description", IF_NOTE, 80}, /* KML */
    {"comment", IF_NOTE, 80},
    {"remarks", IF_NOTE, 80},
    {"carriers", IF_OPERATOR, 100},
};

/* A header that merely contains one of these words (as whole words) is a
 * last-resort guess: "Tốc độ tải xuống trung bình (Mbps)", "avg_download". */
#define WEAK 20
static const struct {
    const char *word;
    ingest_field field;
} weak_words[] = {
    {"latitude", IF_LAT},      {"vi_do", IF_LAT},          {"lat", IF_LAT},
    {"longitude", IF_LON},     {"kinh_do", IF_LON},        {"lon", IF_LON},
    {"lng", IF_LON},           {"timestamp", IF_TIME},     {"datetime", IF_TIME},
    {"thoi_gian", IF_TIME},    {"ngay_gio", IF_TIME},      {"time", IF_TIME},
    {"download", IF_DOWNLOAD}, {"tai_xuong", IF_DOWNLOAD}, {"dl", IF_DOWNLOAD},
    {"upload", IF_UPLOAD},     {"tai_len", IF_UPLOAD},     {"ul", IF_UPLOAD},
    {"latency", IF_LATENCY},   {"ping", IF_LATENCY},       {"do_tre", IF_LATENCY},
    {"rtt", IF_LATENCY},       {"operator", IF_OPERATOR},  {"carrier", IF_OPERATOR},
    {"nha_mang", IF_OPERATOR}, {"technology", IF_TECH},    {"network_type", IF_TECH},
    {"cong_nghe", IF_TECH},    {"rsrp", IF_RSRP},          {"rsrq", IF_RSRQ},
    {"sinr", IF_SINR},         {"thon", IF_PLACE},         {"xa", IF_COMMUNE},
    {"so_ho", IF_HOUSEHOLDS},  {"so_nguoi", IF_PEOPLE},    {"ghi_chu", IF_NOTE},
};

/* Words that make a loose match mean something else: "download_duration",
 * "ping_loss", "lat_accuracy", "ndt_server_ping". */
static const char *const weak_vetoes[] = {
    "duration", "elapsed", "bytes",    "byte", "size",   "server", "threads", "count",
    "id",       "uuid",    "accuracy", "loss", "jitter", "error",  "status",
};
/* ... and for every field but time, words that say it is a time. */
static const char *const weak_time_vetoes[] = {"time", "thoi_gian", "date", "ngay"};

/* Whether `word` (one or more '_'-joined words) occurs in `s` on word
 * boundaries. */
static int has_word(const char *s, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = strstr(s, word); p; p = strstr(p + 1, word)) {
        int start_ok = p == s || p[-1] == '_';
        int end_ok = p[wl] == '\0' || p[wl] == '_';
        if (start_ok && end_ok)
            return 1;
    }
    return 0;
}

static int weak_score(const char *base, ingest_field f)
{
    int hit = 0;
    for (size_t i = 0; i < LS_ARRAY_LEN(weak_words) && !hit; i++)
        hit = weak_words[i].field == f && has_word(base, weak_words[i].word);
    if (!hit)
        return 0;
    for (size_t i = 0; i < LS_ARRAY_LEN(weak_vetoes); i++)
        if (has_word(base, weak_vetoes[i]))
            return 0;
    if (f != IF_TIME)
        for (size_t i = 0; i < LS_ARRAY_LEN(weak_time_vetoes); i++)
            if (has_word(base, weak_time_vetoes[i]))
                return 0;
    return WEAK;
}

static int is_speed(ingest_field f)
{
    return f == IF_DOWNLOAD || f == IF_UPLOAD;
}

/* The alias of `f` this header names exactly (whole header first, then the
 * name without its unit), or NULL. */
static const alias_def *alias_match(const header_info *h, ingest_field f, int *score)
{
    const alias_def *best = NULL;
    int best_score = 0;
    int has_base = strcmp(h->base, h->full) != 0;
    for (size_t i = 0; i < LS_ARRAY_LEN(aliases); i++) {
        if (aliases[i].field != f)
            continue;
        int s = 0;
        if (strcmp(aliases[i].name, h->full) == 0)
            s = aliases[i].score + 2;
        else if (has_base && strcmp(aliases[i].name, h->base) == 0)
            s = aliases[i].score + 1;
        if (s > best_score) {
            best = &aliases[i];
            best_score = s;
        }
    }
    *score = best_score;
    return best;
}

/* Multiplier to Mbps / ms for this header read as field `f`: the unit it
 * writes, else the unit its name implies (DL_bitrate is kbit/s), else 1. */
static double header_scale(const header_info *h, ingest_field f)
{
    if (is_speed(f)) {
        if (h->kind == UNIT_SPEED)
            return h->scale;
        int s;
        const alias_def *a = alias_match(h, f, &s);
        return a && a->kbps ? 1e-3 : 1;
    }
    if (f == IF_LATENCY && h->kind == UNIT_DURATION)
        return h->scale;
    return 1;
}

/* How well header `h` fits field `f`; 0 = not at all. */
static int header_score(const header_info *h, ingest_field f)
{
    /* A unit that contradicts the field rules it out whatever the name. */
    if (h->kind == UNIT_SPEED && !is_speed(f))
        return 0;
    if (h->kind == UNIT_DURATION && is_speed(f))
        return 0;
    int s;
    alias_match(h, f, &s);
    if (s == 0)
        s = weak_score(h->base, f);
    /* An explicit unit backs the guess: "download (kbps)" over "download". */
    if (s > 0 &&
        ((h->kind == UNIT_SPEED && is_speed(f)) || (h->kind == UNIT_DURATION && f == IF_LATENCY)))
        s += 1;
    return s;
}

/* ------------------------------------------------------- error messages */

typedef struct {
    char *p;
    size_t cap, len; /* len never reaches cap: the text stays terminated */
} msg;

static void msg_init(msg *e, char *p, size_t cap)
{
    e->p = cap ? p : NULL;
    e->cap = cap;
    e->len = 0;
    if (e->p)
        e->p[0] = '\0';
}

__attribute__((format(printf, 2, 3))) static void msg_add(msg *e, const char *fmt, ...)
{
    if (!e->p || e->len + 1 >= e->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->p + e->len, e->cap - e->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        e->len = (size_t)n >= e->cap - e->len ? e->cap - 1 : e->len + (size_t)n;
}

static void msg_columns(msg *e, const char *const *columns, int ncols)
{
    msg_add(e, "Columns in the file: ");
    if (ncols <= 0)
        msg_add(e, "(none)");
    for (int i = 0; i < ncols; i++)
        msg_add(e, "%s%s", i ? ", " : "", columns[i] && *columns[i] ? columns[i] : "\"\"");
}

static void msg_fields(msg *e, ingest_kind kind)
{
    msg_add(e, "Valid fields: ");
    int k = 0;
    for (int f = 0; f < IF_COUNT; f++)
        if (field_in_kind(kind, f))
            msg_add(e, "%s%s", k++ ? ", " : "", field_label(kind, f));
}

/* The field a folded name means, or -1: a canonical name or a synonym. */
static int field_lookup(const char *folded)
{
    static const struct {
        const char *name;
        ingest_field f;
    } synonyms[] = {
        {"carriers", IF_OPERATOR},      {"carrier", IF_OPERATOR}, {"technology", IF_TECH},
        {"people_affected", IF_PEOPLE}, {"latitude", IF_LAT},     {"longitude", IF_LON},
    };
    for (int f = 0; f < IF_COUNT; f++)
        if (strcmp(folded, field_names[f]) == 0)
            return f;
    for (size_t i = 0; i < LS_ARRAY_LEN(synonyms); i++)
        if (strcmp(folded, synonyms[i].name) == 0)
            return (int)synonyms[i].f;
    return -1;
}

/* --------------------------------------------------------------- mapping */

static void mapping_empty(ingest_mapping *m)
{
    for (int f = 0; f < IF_COUNT; f++) {
        m->col[f] = -1;
        m->scale[f] = 1;
        m->from_override[f] = 0;
    }
    m->time_offset_s = VN_UTC_OFFSET_S;
}

/* The column named `name` (as written first, then folded; two headers may
 * fold alike), or -1. */
static int override_column(const char *name, const char *const *columns, int ncols,
                           const header_info *hdr)
{
    for (int i = 0; i < ncols; i++)
        if (columns[i] && strcmp(columns[i], name) == 0)
            return i;
    char col[FOLD_MAX];
    ingest_fold(name, col, sizeof col);
    for (int i = 0; i < ncols && *col; i++)
        if (strcmp(hdr[i].full, col) == 0)
            return i;
    return -1;
}

/* Applies one "FIELD=COLUMN" or "COLUMN=FIELD" (the and a
 * locality's order: "DL_kbps=download", "Thôn=place"). FIELD=COLUMN wins
 * when both read: "upload=download" gives the column "download" to upload. */
static ls_status apply_override(ingest_kind kind, const char *ov, const char *const *columns,
                                int ncols, const header_info *hdr, ingest_mapping *m, msg *e)
{
    const char *eq = ov ? strchr(ov, '=') : NULL;
    if (!eq) {
        msg_add(e, "--map \"%s\": expected FIELD=COLUMN or COLUMN=FIELD. ", ov ? ov : "");
        msg_fields(e, kind);
        return LS_EINVAL;
    }
    char left[FOLD_MAX], leftraw[FOLD_MAX], right[FOLD_MAX];
    snprintf(leftraw, sizeof leftraw, "%.*s", (int)(eq - ov), ov);
    const char *rightraw = eq + 1;
    ingest_fold(leftraw, left, sizeof left);
    ingest_fold(rightraw, right, sizeof right);
    int fl = field_lookup(left), fr = field_lookup(right);
    int cl = override_column(leftraw, columns, ncols, hdr);
    int cr = override_column(rightraw, columns, ncols, hdr);
    int f, c;
    const char *want;
    if (fl >= 0 && (cr >= 0 || fr < 0 || cl < 0)) {
        f = fl, c = cr, want = rightraw;
    } else if (fr >= 0) {
        f = fr, c = cl, want = leftraw;
    } else {
        msg_add(e, "--map \"%s\": unknown field \"%s\". ", ov,
                (cl >= 0 && cr < 0) ? rightraw : leftraw);
        msg_fields(e, kind);
        return LS_EINVAL;
    }
    if (m->from_override[f]) {
        msg_add(e, "--map \"%s\": field %s is mapped twice", ov, field_names[f]);
        return LS_EINVAL;
    }
    if (c < 0) {
        msg_add(e, "--map \"%s\": no column \"%s\" in the file. ", ov, want);
        msg_columns(e, columns, ncols);
        return LS_EINVAL;
    }
    m->col[f] = c;
    m->scale[f] = header_scale(&hdr[c], (ingest_field)f);
    m->from_override[f] = 1;
    return LS_OK;
}

ls_status ingest_mapping_guess(const char *const *columns, int ncols, const char *const *overrides,
                               int noverrides, ingest_mapping *m, char *err, size_t errlen)
{
    return ingest_mapping_guess_kind(INGEST_MEASUREMENTS, columns, ncols, overrides, noverrides, m,
                                     err, errlen);
}

ls_status ingest_mapping_guess_kind(ingest_kind kind, const char *const *columns, int ncols,
                                    const char *const *overrides, int noverrides, ingest_mapping *m,
                                    char *err, size_t errlen)
{
    msg e;
    msg_init(&e, err, errlen);
    if (!m)
        return LS_EINVAL;
    mapping_empty(m);
    if (ncols < 0 || (ncols > 0 && !columns))
        ncols = 0;

    ls_status st = LS_OK;
    ingest_mapping guess;
    mapping_empty(&guess);
    header_info *hdr = NULL;
    int *score = NULL;
    unsigned char *col_used = NULL;
    size_t n = ncols > 0 ? (size_t)ncols : 1;
    hdr = malloc(n * sizeof *hdr);
    score = malloc(n * IF_COUNT * sizeof *score);
    col_used = calloc(n, 1);
    if (!hdr || !score || !col_used) {
        msg_add(&e, "out of memory reading the column names");
        st = LS_ENOMEM;
        goto out;
    }
    for (int i = 0; i < ncols; i++) {
        header_analyse(columns[i] ? columns[i] : "", &hdr[i]);
        for (int f = 0; f < IF_COUNT; f++)
            score[(size_t)i * IF_COUNT + f] =
                field_in_kind(kind, f) ? header_score(&hdr[i], (ingest_field)f) : 0;
    }

    for (int k = 0; k < noverrides && overrides; k++) {
        st = apply_override(kind, overrides[k], columns, ncols, hdr, &guess, &e);
        if (st != LS_OK)
            goto out;
    }
    for (int f = 0; f < IF_COUNT; f++)
        if (guess.col[f] >= 0)
            col_used[guess.col[f]] = 1;

    /* Greedy on the best remaining pair: with scores that rank specific
     * names above generic ones this is what a person would pick, and it is
     * easy to explain when it is not. */
    for (;;) {
        int best = 0, bc = -1, bf = -1;
        for (int i = 0; i < ncols; i++) {
            if (col_used[i])
                continue;
            for (int f = 0; f < IF_COUNT; f++) {
                int s = score[(size_t)i * IF_COUNT + f];
                if (guess.col[f] < 0 && s > best) {
                    best = s;
                    bc = i;
                    bf = f;
                }
            }
        }
        if (bc < 0)
            break;
        guess.col[bf] = bc;
        guess.scale[bf] = header_scale(&hdr[bc], (ingest_field)bf);
        col_used[bc] = 1;
    }
    /* A time column whose name says UTC (RTR-NetTest's time_utc) holds UTC
     * even when its values carry no zone. */
    guess.time_offset_s = VN_UTC_OFFSET_S;
    if (guess.col[IF_TIME] >= 0) {
        char folded[256];
        ingest_fold(columns[guess.col[IF_TIME]], folded, sizeof(folded));
        if (strstr(folded, "utc") || strstr(folded, "gmt"))
            guess.time_offset_s = 0;
    }
    *m = guess;

out:
    free(hdr);
    free(score);
    free(col_used);
    return st;
}

ls_status ingest_mapping_check(const ingest_mapping *m, int has_geometry,
                               const char *const *columns, int ncols, char *err, size_t errlen)
{
    msg e;
    msg_init(&e, err, errlen);
    if (!m)
        return LS_EINVAL;
    const char *missing[6];
    int n = 0;
    int lat = m->col[IF_LAT] >= 0, lon = m->col[IF_LON] >= 0;
    int x = m->col[IF_X] >= 0, y = m->col[IF_Y] >= 0;
    if (!has_geometry && !(lat && lon) && !(x && y)) {
        /* Name the half of a pair that is missing, or both pairs if neither
         * was started. */
        if ((x || y) && !(lat || lon)) {
            missing[n++] = x ? "y" : "x";
        } else if (lat || lon) {
            missing[n++] = lat ? "lon" : "lat";
        } else {
            missing[n++] = "lat, lon (or x, y)";
        }
    }
    if (m->col[IF_TIME] < 0)
        missing[n++] = "time";
    if (m->col[IF_DOWNLOAD] < 0)
        missing[n++] = "download";
    if (n == 0)
        return LS_OK;
    msg_add(&e, "missing columns: ");
    for (int i = 0; i < n; i++)
        msg_add(&e, "%s%s", i ? ", " : "", missing[i]);
    msg_add(&e, ". ");
    msg_columns(&e, columns, columns ? ncols : 0);
    msg_add(&e, ". Name them with --map FIELD=COLUMN");
    return LS_EINVAL;
}

/* ---------------------------------------------------------------- values */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Copies `s` without surrounding white space into buf; 0 when empty or too
 * long to be a value. */
static size_t trim_copy(const char *s, char *buf, size_t cap)
{
    if (!s)
        return 0;
    while (is_space(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_space(s[n - 1]))
        n--;
    if (n == 0 || n >= cap)
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return n;
}

/* A plain decimal ([+-]digits[.digits]) of at most 15 significant digits
 * is an integer m < 2^53 over 10^k, k <= 22: both exact as doubles, so one
 * division rounds it correctly, to the same double strtod gives (Clinger's
 * fast path).  Measurement files are made of such numbers, and strtod was a
 * twentieth of a million-row ingest's reading.  0: not such a number. */
static int fast_decimal(const char *p, double *out)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char *start = p;
    int neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    uint64_t m = 0;
    int digits = 0, frac = 0, seen_dot = 0, any = 0;
    for (; *p; p++) {
        if (p - start >= VALUE_MAX - 1) /* longer values are refused, as trim_copy() does */
            return 0;
        if (*p == '.' && !seen_dot) {
            seen_dot = 1;
            continue;
        }
        if (*p < '0' || *p > '9')
            return 0;
        any = 1;
        if (m == 0 && *p == '0') { /* leading zeros do not count */
            frac += seen_dot;
            continue;
        }
        if (++digits > 15)
            return 0;
        m = m * 10 + (uint64_t)(*p - '0');
        frac += seen_dot;
    }
    if (!any || frac > 22)
        return 0;
    double v = (double)m / pow10[frac];
    if (out)
        *out = neg ? -v : v;
    return 1;
}

ls_status ingest_parse_number(const char *s, double *out)
{
    /* Most values are plain decimals with nothing around them: read in
     * place (the steps below would pass such a value through unchanged). */
    if (s && fast_decimal(s, out))
        return LS_OK;
    char buf[VALUE_MAX];
    size_t n = trim_copy(s, buf, sizeof buf);
    if (n == 0)
        return LS_EINVAL;
    /* Only what a decimal number is written with: keeps strtod from taking
     * "nan", "inf" and hex, which no measurement file means. */
    int dots = 0, commas = 0;
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (c == '.')
            dots++;
        else if (c == ',')
            commas++;
        else if (!((c >= '0' && c <= '9') || c == '+' || c == '-' || c == 'e' || c == 'E'))
            return LS_EINVAL;
    }
    /* A lone comma is a decimal comma (Vietnamese Excel); with a dot or
     * several commas it is a thousands separator we will not guess at. */
    if (commas > 1 || (commas == 1 && dots > 0))
        return LS_EINVAL;
    if (commas == 1)
        *strchr(buf, ',') = '.';
    if (fast_decimal(buf, out))
        return LS_OK;
    char *end;
    double v = strtod(buf, &end);
    if (end == buf || *end != '\0' || !isfinite(v))
        return LS_EINVAL;
    if (out)
        *out = v;
    return LS_OK;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil): timegm without the libc and its locks. */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

/* Reads min..max digits at *p; the count read, 0 when fewer than min. */
static int read_digits(const char **p, int min, int max, int *val)
{
    int n = 0, v = 0;
    while (n < max && (*p)[n] >= '0' && (*p)[n] <= '9') {
        v = v * 10 + ((*p)[n] - '0');
        n++;
    }
    if (n < min)
        return 0;
    *p += n;
    *val = v;
    return n;
}

/* Zone after a time: Z, UTC, GMT, +hh, +hh:mm, +hhmm (and '-').  Returns 0
 * and the offset east of UTC, or -1. */
static int read_zone(const char **pp, int *offset_s)
{
    const char *p = *pp;
    if (*p == 'Z' || *p == 'z') {
        *offset_s = 0;
        *pp = p + 1;
        return 0;
    }
    if (strncmp(p, "UTC", 3) == 0 || strncmp(p, "GMT", 3) == 0) {
        p += 3;
        *offset_s = 0;
        if (*p != '+' && *p != '-') {
            *pp = p;
            return 0;
        }
    }
    if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, hh, mm = 0;
        p++;
        if (read_digits(&p, 1, 2, &hh) == 0)
            return -1;
        if (*p == ':') {
            p++;
            if (read_digits(&p, 2, 2, &mm) == 0)
                return -1;
        } else if (*p >= '0' && *p <= '9') {
            if (read_digits(&p, 2, 2, &mm) == 0)
                return -1;
        }
        if (hh > 14 || mm > 59)
            return -1;
        *offset_s = sign * (hh * 3600 + mm * 60);
    } else if (p == *pp) {
        return -1;
    }
    *pp = p;
    return 0;
}

/* Epoch seconds or milliseconds: plain digits with an optional fraction.
 * 1e11 s is the year 5138 and 1e11 ms is 1973, so the magnitude decides. */
static ls_status parse_epoch(const char *buf, double *epoch)
{
    char *end;
    double v = strtod(buf, &end);
    if (*end != '\0' || !isfinite(v) || v < 0)
        return LS_EINVAL;
    if (v >= 1e14)
        return LS_EINVAL;
    *epoch = v >= 1e11 ? v / 1000 : v;
    return LS_OK;
}

ls_status ingest_parse_time(const char *s, double *epoch)
{
    return ingest_parse_time_tz(s, VN_UTC_OFFSET_S, epoch);
}

ls_status ingest_parse_time_tz(const char *s, int default_offset_s, double *epoch)
{
    char buf[VALUE_MAX];
    size_t n = trim_copy(s, buf, sizeof buf);
    if (n == 0)
        return LS_EINVAL;
    double dummy;
    if (!epoch)
        epoch = &dummy;

    if (strspn(buf, "0123456789.") == n && strchr(buf, '.') == strrchr(buf, '.') && buf[0] != '.')
        return parse_epoch(buf, epoch);

    const char *p = buf;
    int a, y, mo, d, hh = 0, mi = 0, ss = 0;
    double frac = 0;
    int offset = default_offset_s;
    int na = read_digits(&p, 1, 4, &a);
    char dsep = *p;
    if (na == 0 || na == 3 || (dsep != '-' && dsep != '/' && dsep != '.'))
        return LS_EINVAL;
    p++;
    if (na == 4) { /* yyyy-mm-dd (G-NetTrack: yyyy.mm.dd) */
        y = a;
        if (!read_digits(&p, 1, 2, &mo) || *p++ != dsep || !read_digits(&p, 1, 2, &d))
            return LS_EINVAL;
    } else { /* dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy: Vietnamese order */
        d = a;
        if (!read_digits(&p, 1, 2, &mo) || *p++ != dsep || read_digits(&p, 4, 4, &y) != 4)
            return LS_EINVAL;
    }

    if (*p) {
        /* date-time separator: 'T', spaces, or G-NetTrack's '_' */
        if (*p == 'T' || *p == 't' || *p == '_')
            p++;
        else if (*p == ' ')
            while (*p == ' ')
                p++;
        else
            return LS_EINVAL;
        if (!read_digits(&p, 1, 2, &hh))
            return LS_EINVAL;
        char tsep = *p;
        if (tsep != ':' && tsep != '.')
            return LS_EINVAL;
        p++;
        if (read_digits(&p, 2, 2, &mi) != 2)
            return LS_EINVAL;
        if (*p == tsep && p[1] >= '0' && p[1] <= '9') {
            p++;
            if (read_digits(&p, 2, 2, &ss) != 2)
                return LS_EINVAL;
            /* a fraction only after ':' seconds: with '.' as the time
             * separator it would be ambiguous */
            if (tsep == ':' && (*p == '.' || *p == ',')) {
                p++;
                double scale = 0.1;
                if (*p < '0' || *p > '9')
                    return LS_EINVAL;
                while (*p >= '0' && *p <= '9') {
                    frac += (*p - '0') * scale;
                    scale /= 10;
                    p++;
                }
            }
        }
        while (*p == ' ')
            p++;
        if (*p && read_zone(&p, &offset) != 0)
            return LS_EINVAL;
        if (*p)
            return LS_EINVAL;
    }

    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || hh > 23 || mi > 59 || ss > 59)
        return LS_EINVAL;
    long long secs = days_from_civil(y, mo, d) * 86400LL + hh * 3600 + mi * 60 + ss - offset;
    *epoch = (double)secs + frac;
    return LS_OK;
}

ls_status ingest_parse_symptom(const char *s, const char **out)
{
    static const struct {
        const char *word; /* folded, matched as whole words */
        int kind;
    } words[] = {
        {"no_signal", 0},        {"no_service", 0},   {"no_coverage", 0},  {"mat_song", 0},
        {"khong_co_song", 0},    {"khong_song", 0},   {"mat_tin_hieu", 0}, {"khong_co_tin_hieu", 0},
        {"lom_song", 0},         {"mat_ket_noi", 0},  {"weak_signal", 1},  {"weak", 1},
        {"song_yeu", 1},         {"tin_hieu_yeu", 1}, {"yeu", 1},          {"chap_chon", 1},
        {"luc_co_luc_khong", 1}, {"slow_data", 2},    {"slow", 2},         {"cham", 2},
        {"toc_do_thap", 2},
    };
    static const char *const names[] = {"no_signal", "weak_signal", "slow_data"};
    char f[FOLD_MAX];
    ingest_fold(s, f, sizeof f);
    /* "sóng yếu, chậm": punctuation separates words too */
    for (char *p = f; *p; p++)
        if (strchr(",;/+()[]!?:", *p))
            *p = '_';
    if (!*f)
        return LS_EINVAL;
    int found = -1;
    for (size_t i = 0; i < LS_ARRAY_LEN(words); i++) {
        if (!has_word(f, words[i].word))
            continue;
        if (found >= 0 && found != words[i].kind)
            return LS_EINVAL; /* "sóng yếu, chậm": two symptoms, one row */
        found = words[i].kind;
    }
    if (found < 0)
        return LS_EINVAL;
    if (out)
        *out = names[found];
    return LS_OK;
}

ls_status ingest_parse_tech(const char *s, char out[3])
{
    static const struct {
        const char *name;
        const char *gen;
    } techs[] = {
        {"2G", "2G"},      {"GSM", "2G"},     {"GPRS", "2G"},  {"EDGE", "2G"},
        {"EGPRS", "2G"},   {"3G", "3G"},      {"3G+", "3G"},   {"UMTS", "3G"},
        {"WCDMA", "3G"},   {"TDSCDMA", "3G"}, {"HSPA", "3G"},  {"HSPA+", "3G"},
        {"HSPAP", "3G"},   {"HSDPA", "3G"},   {"HSUPA", "3G"}, {"DCHSPA", "3G"},
        {"DCHSPA+", "3G"}, {"4G", "4G"},      {"4G+", "4G"},   {"LTE", "4G"},
        {"LTE+", "4G"},    {"LTEA", "4G"},    {"LTECA", "4G"}, {"LTEADVANCED", "4G"},
        {"4GLTE", "4G"},   {"LTE4G", "4G"},   {"5G", "5G"},    {"5G+", "5G"},
        {"NR", "5G"},      {"NRNSA", "5G"},   {"NRSA", "5G"},  {"5GNSA", "5G"},
        {"5GSA", "5G"},    {"5GNR", "5G"},    {"NR5G", "5G"},  {"ENDC", "5G"},
    };
    /* Upper-case with the separators people put inside names removed:
     * "lte-a", "NR NSA", "HSPA +", "5G_SA" all become one spelling. */
    char key[32];
    size_t n = 0;
    for (const char *p = s ? s : ""; *p; p++) {
        char c = *p;
        if (c == ' ' || c == '-' || c == '_' || c == '.' || c == '/' || is_space(c))
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (n + 1 >= sizeof key)
            return LS_EINVAL;
        key[n++] = c;
    }
    key[n] = '\0';
    for (size_t i = 0; i < LS_ARRAY_LEN(techs); i++) {
        if (strcmp(key, techs[i].name) == 0) {
            if (out)
                memcpy(out, techs[i].gen, 3);
            return LS_OK;
        }
    }
    return LS_EINVAL;
}

/* -------------------------------------------------------------- carriers */

/* Folded with the word separators removed: "Vina phone" == "VinaPhone". */
static void compact(const char *in, char *out, size_t outlen)
{
    ingest_fold(in, out, outlen);
    char *w = out;
    for (const char *r = out; *r; r++)
        if (*r != '_')
            *w++ = *r;
    *w = '\0';
}

/* "452-04", "452 04", "452/04", "452-4", "45204" -> 452, 4.  0 when the
 * text is not an MCC-MNC. */
static int parse_plmn(const char *s, int *mcc, int *mnc)
{
    char buf[VALUE_MAX];
    size_t n = trim_copy(s, buf, sizeof buf);
    if (n == 0)
        return 0;
    const char *p = buf;
    if (strspn(buf, "0123456789") == n) {
        if (n != 5 && n != 6)
            return 0;
        read_digits(&p, 3, 3, mcc);
        read_digits(&p, 2, 3, mnc);
        return 1;
    }
    if (read_digits(&p, 3, 3, mcc) != 3)
        return 0;
    size_t seps = strspn(p, " -/_.");
    if (seps == 0)
        return 0;
    p += seps;
    if (!read_digits(&p, 1, 3, mnc) || *p)
        return 0;
    return 1;
}

static int carrier_has_plmn(const ingest_carrier *c, int mcc, int mnc)
{
    for (int k = 0; k < c->n_mcc_mnc && k < (int)LS_ARRAY_LEN(c->mcc_mnc); k++) {
        int cm, cn;
        if (parse_plmn(c->mcc_mnc[k], &cm, &cn) && cm == mcc && cn == mnc)
            return 1;
    }
    return 0;
}

/* The carrier's names in compact form: code, name, name without its
 * bracketed part ("vinaphone") and the bracketed alias ("vnpt").  Returns
 * how many were written (empty ones are skipped). */
static int carrier_keys(const ingest_carrier *c, char keys[4][FOLD_MAX])
{
    int n = 0;
    compact(c->code, keys[n], FOLD_MAX);
    n += keys[n][0] != '\0';
    compact(c->name, keys[n], FOLD_MAX);
    n += keys[n][0] != '\0';
    const char *open = strchr(c->name, '(');
    const char *close = open ? strchr(open, ')') : NULL;
    if (open) {
        char part[FOLD_MAX];
        snprintf(part, sizeof part, "%.*s%s", (int)(open - c->name), c->name,
                 close ? close + 1 : "");
        compact(part, keys[n], FOLD_MAX);
        n += keys[n][0] != '\0';
        snprintf(part, sizeof part, "%.*s", (int)((close ? close : open + strlen(open)) - open - 1),
                 open + 1);
        compact(part, keys[n], FOLD_MAX);
        n += keys[n][0] != '\0';
    }
    return n;
}

int ingest_carrier_find(const ingest_carrier *list, int n, const char *text)
{
    if (!list || n <= 0 || !text)
        return -1;
    char want[FOLD_MAX], keys[4][FOLD_MAX];
    compact(text, want, sizeof want);
    if (!*want)
        return -1;
    for (int i = 0; i < n; i++) {
        int nk = carrier_keys(&list[i], keys);
        for (int k = 0; k < nk; k++)
            if (strcmp(want, keys[k]) == 0)
                return i;
    }
    int mcc, mnc;
    if (parse_plmn(text, &mcc, &mnc)) {
        for (int i = 0; i < n; i++)
            if (carrier_has_plmn(&list[i], mcc, mnc))
                return i;
        return -1;
    }

    /* Phones report names with extras ("VN MOBIFONE", "Viettel Mobile"):
     * a word, or two adjacent words, naming exactly one carrier is enough. */
    char folded[FOLD_MAX];
    ingest_fold(text, folded, sizeof folded);
    char *words[32];
    int nw = 0;
    char *save = NULL;
    for (char *tok = strtok_r(folded, "_()[]", &save); tok && nw < (int)LS_ARRAY_LEN(words);
         tok = strtok_r(NULL, "_()[]", &save))
        words[nw++] = tok;
    int found = -1;
    for (int i = 0; i < n; i++) {
        int nk = carrier_keys(&list[i], keys), hit = 0;
        for (int w = 0; w < nw && !hit; w++) {
            char pair[2 * FOLD_MAX];
            snprintf(pair, sizeof pair, "%s%s", words[w], w + 1 < nw ? words[w + 1] : "");
            for (int k = 0; k < nk && !hit; k++)
                hit = strcmp(words[w], keys[k]) == 0 || (w + 1 < nw && strcmp(pair, keys[k]) == 0);
        }
        if (hit) {
            if (found >= 0)
                return -1; /* names two carriers: refuse to pick */
            found = i;
        }
    }
    return found;
}

/* A code that is a whole number 0..999; Excel may have written it "452.0". */
static int parse_code(const char *s, int *v)
{
    double d;
    if (ingest_parse_number(s, &d) != LS_OK || d < 0 || d > 999 || d != floor(d))
        return 0;
    *v = (int)d;
    return 1;
}

int ingest_carrier_find_mcc_mnc(const ingest_carrier *list, int n, const char *mcc, const char *mnc)
{
    int cc, nc;
    if (!list || n <= 0 || !parse_code(mcc, &cc) || !parse_code(mnc, &nc))
        return -1;
    for (int i = 0; i < n; i++)
        if (carrier_has_plmn(&list[i], cc, nc))
            return i;
    return -1;
}
