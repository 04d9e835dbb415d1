/*
 * crs.c — coordinate reference systems through PROJ; see crs.h.
 *
 * Every definition, friendly name or not, ends up as something PROJ builds
 * from its own database, so VN-2000's datum shift is EPSG's (transformations
 * 6960 onshore and 5194 in the Mekong delta blocks, chosen per point by PROJ
 * from the area of use), never a +towgs84 string copied from the web.
 *
 * Each geo_crs owns its PJ_CONTEXT: PROJ contexts and PJ objects must not be
 * shared between threads, and a context per object keeps error state (and the
 * last error message, captured by a log hook) from leaking between callers.
 */
#include "crs.h"

#include <proj.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/log.h"

/* Vietnam, generously: mainland plus the island groups.  detect_swap only
 * needs to tell "here" from "obviously elsewhere". */
#define VN_LON_MIN 102.0
#define VN_LON_MAX 118.0
#define VN_LAT_MIN 6.0
#define VN_LAT_MAX 24.0

/* Points detect_swap looks at: enough to outvote a few bad rows, few enough
 * that a million-row file costs nothing extra. */
#define SWAP_SAMPLE 100

/* Friendly names are short; anything longer is a definition for PROJ and is
 * not worth normalising. */
#define FRIENDLY_MAX 64

/* PROJ's last error message, kept for the caller's message. */
#define PROJ_MSG_MAX 256

/* How much of a user's definition is echoed back in a message: enough to
 * recognise it, not a whole WKT document. */
#define ECHO_MAX 80

struct geo_crs {
    PJ_CONTEXT *ctx;
    PJ *src; /* the source CRS, for its name and type */
    PJ *op;  /* src -> EPSG:4326, normalised to lon/lat, x/y order */
    int geographic;
    char proj_msg[PROJ_MSG_MAX]; /* the context's log hook writes here */
};

/* The 18 provincial TM-3 zones of VN-2000 (k = 0.9999, x_0 = 500 km), keyed
 * by central meridian in arc-minutes.  Each code checked with
 * `projinfo EPSG:n -o PROJ`.  PROJ also knows EPSG:6956-6959 for 102°, 105°,
 * 108° and 107°45': those are deprecated and have false easting and northing
 * swapped (x_0 = 0, y_0 = 500 km), so they are not used. */
typedef struct {
    int minutes;
    int epsg;
} tm3_zone;

static const tm3_zone tm3_zones[] = {
    {102 * 60 + 0, 5896},  /* VN-2000 / TM-3 zone 481 */
    {103 * 60 + 0, 9205},  /* VN-2000 / TM-3 103-00 */
    {104 * 60 + 0, 9206},  /* VN-2000 / TM-3 104-00 */
    {104 * 60 + 30, 9207}, /* VN-2000 / TM-3 104-30 */
    {104 * 60 + 45, 9208}, /* VN-2000 / TM-3 104-45 */
    {105 * 60 + 0, 5897},  /* VN-2000 / TM-3 zone 482 */
    {105 * 60 + 30, 9209}, /* VN-2000 / TM-3 105-30 */
    {105 * 60 + 45, 9210}, /* VN-2000 / TM-3 105-45 */
    {106 * 60 + 0, 9211},  /* VN-2000 / TM-3 106-00 */
    {106 * 60 + 15, 9212}, /* VN-2000 / TM-3 106-15 */
    {106 * 60 + 30, 9213}, /* VN-2000 / TM-3 106-30 */
    {107 * 60 + 0, 9214},  /* VN-2000 / TM-3 107-00 */
    {107 * 60 + 15, 9215}, /* VN-2000 / TM-3 107-15 */
    {107 * 60 + 30, 9216}, /* VN-2000 / TM-3 107-30 */
    {107 * 60 + 45, 5899}, /* VN-2000 / TM-3 107-45 */
    {108 * 60 + 0, 5898},  /* VN-2000 / TM-3 zone 491 */
    {108 * 60 + 15, 9217}, /* VN-2000 / TM-3 108-15 */
    {108 * 60 + 30, 9218}, /* VN-2000 / TM-3 108-30 */
};

#define EPSG_VN2000_GEOG 4756
#define EPSG_VN2000_UTM48 3405
#define EPSG_VN2000_UTM49 3406
#define EPSG_WGS84 4326

/* ---------------------------------------------------------------- errors */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* PROJ reports through its log what proj_context_errno() cannot say ("crs not
 * found", "Unknown projection").  The message goes to our log at debug level — it is
 * about the caller's input, which the caller reports with its request id —
 * and the last error is kept for the message we return. */
static void geo_crs_proj_log(void *app_data, int level, const char *msg)
{
    char *last = app_data;

    if (!msg)
        return;
    if (level == PJ_LOG_ERROR && last)
        snprintf(last, PROJ_MSG_MAX, "%s", msg);
    log_msg(LOG_DEBUG, "proj: %s", msg);
}

static PJ_CONTEXT *ctx_new(char *last)
{
    PJ_CONTEXT *ctx = proj_context_create();

    last[0] = '\0';
    if (ctx)
        proj_log_func(ctx, last, geo_crs_proj_log);
    return ctx;
}

/* "PROJ error 1025: Invalid PROJ string syntax; <last log line>" — both
 * parts when present, since either alone is often too vague. */
static void proj_detail(PJ_CONTEXT *ctx, const char *last, char *buf, size_t len)
{
    int e = proj_context_errno(ctx);
    const char *es = e ? proj_context_errno_string(ctx, e) : NULL;

    if (e && last[0])
        snprintf(buf, len, "PROJ error %d: %s; %s", e, es ? es : "?", last);
    else if (e)
        snprintf(buf, len, "PROJ error %d: %s", e, es ? es : "?");
    else if (last[0])
        snprintf(buf, len, "PROJ: %s", last);
    else
        snprintf(buf, len, "PROJ gave no reason");
}

/* The accepted friendly names, built from tm3_zones so that the list in the
 * message cannot drift from the table. */
static void names_list(char *buf, size_t len)
{
    size_t at;

    at = (size_t)snprintf(buf, len,
                          "accepted: EPSG:<code> or <code>, WGS84, VN2000, VN2000-UTM48, "
                          "VN2000-UTM49, VN2000-TM3-<central meridian> with meridian");
    for (size_t i = 0; i < LS_ARRAY_LEN(tm3_zones) && at < len; i++) {
        int d = tm3_zones[i].minutes / 60, m = tm3_zones[i].minutes % 60;
        if (m)
            at += (size_t)snprintf(buf + at, len - at, "%s %d-%02d", i ? "," : "", d, m);
        else
            at += (size_t)snprintf(buf + at, len - at, "%s %d", i ? "," : "", d);
    }
    if (at < len)
        snprintf(buf + at, len - at,
                 " (105-45 may also be written 105.75, 10545 or 105°45'), "
                 "or a PROJ string, WKT or PROJJSON");
}

/* ------------------------------------------------------------ PROJ setup */

/* PROJ reads "+proj=..." without +type=crs as an operation, not a CRS;
 * proj_create_crs_to_crs() adds it itself, and so do we, so that a pasted
 * proj-string means the same here as in cs2cs. */
static int needs_type_crs(const char *def)
{
    static const char *const starts[] = {"+proj=", "proj=", "+init=", "+title="};

    while (*def == ' ' || *def == '\t' || *def == '\n' || *def == '\r')
        def++;
    for (size_t i = 0; i < LS_ARRAY_LEN(starts); i++) {
        if (strncmp(def, starts[i], strlen(starts[i])) == 0)
            return strstr(def, "type=crs") == NULL;
    }
    return 0;
}

/* Builds a CRS from `def` in `ctx`; *out is the caller's to proj_destroy().
 * LS_EINVAL when PROJ cannot read it or it is not a CRS. */
static ls_status crs_build(PJ_CONTEXT *ctx, char *last, const char *def, PJ **out, char *err,
                           size_t errlen)
{
    ls_status st = LS_OK;
    char *typed = NULL;
    const char *text = def;
    PJ *crs = NULL;
    char detail[PROJ_MSG_MAX + 64];

    *out = NULL;
    if (needs_type_crs(def)) {
        size_t n = strlen(def) + sizeof(" +type=crs");
        typed = malloc(n);
        if (!typed) {
            st = LS_ENOMEM;
            set_err(err, errlen, "out of memory");
            goto out;
        }
        snprintf(typed, n, "%s +type=crs", def);
        text = typed;
    }
    last[0] = '\0';
    crs = proj_create(ctx, text);
    if (!crs) {
        proj_detail(ctx, last, detail, sizeof(detail));
        st = LS_EINVAL;
        set_err(err, errlen, "PROJ cannot build the CRS \"%.*s%s\" (%s)", ECHO_MAX, def,
                strlen(def) > ECHO_MAX ? "..." : "", detail);
        goto out;
    }
    if (!proj_is_crs(crs)) {
        st = LS_EINVAL;
        set_err(err, errlen, "\"%.*s%s\" is a %s, not a coordinate reference system", ECHO_MAX, def,
                strlen(def) > ECHO_MAX ? "..." : "",
                proj_get_type(crs) == PJ_TYPE_UNKNOWN ? "PROJ object" : "coordinate operation");
        goto out;
    }
    *out = crs;
    crs = NULL;
out:
    proj_destroy(crs);
    free(typed);
    return st;
}

/* Geographic when the horizontal part is: a +towgs84 string gives a bound
 * CRS and a CRS with heights a compound one, both wrapping the real thing. */
static int crs_geographic(PJ_CONTEXT *ctx, const PJ *crs)
{
    PJ *owned = NULL;
    const PJ *at = crs;
    PJ_TYPE t = proj_get_type(at);

    for (int depth = 0; depth < 4; depth++) {
        PJ *inner = NULL;
        if (t == PJ_TYPE_BOUND_CRS)
            inner = proj_get_source_crs(ctx, at);
        else if (t == PJ_TYPE_COMPOUND_CRS)
            inner = proj_crs_get_sub_crs(ctx, at, 0);
        if (!inner)
            break;
        proj_destroy(owned);
        owned = inner;
        at = inner;
        t = proj_get_type(at);
    }
    proj_destroy(owned);
    return t == PJ_TYPE_GEOGRAPHIC_2D_CRS || t == PJ_TYPE_GEOGRAPHIC_3D_CRS;
}

/* --------------------------------------------------------- friendly names */

/* Lower-cases `text` and drops what users put between the parts of a name:
 * spaces, '_', '-', and the degree and minute signs (ASCII and Unicode).
 * 0 when the result would not fit: not a friendly name then. */
static int normalise(const char *text, char *buf, size_t len)
{
    static const char *const drop[] = {"\xc2\xb0" /* ° */, "\xc2\xba" /* º */,
                                       "\xe2\x80\xb2" /* ′ */, "\xe2\x80\x99" /* ’ */};
    size_t n = 0;

    for (const char *p = text; *p;) {
        unsigned char ch = (unsigned char)*p;
        size_t skip = 0;
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '_' || ch == '-' ||
            ch == '\'')
            skip = 1;
        for (size_t i = 0; !skip && i < LS_ARRAY_LEN(drop); i++) {
            if (strncmp(p, drop[i], strlen(drop[i])) == 0)
                skip = strlen(drop[i]);
        }
        if (skip) {
            p += skip;
            continue;
        }
        if (n + 1 >= len)
            return 0;
        buf[n++] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : (char)ch;
        p++;
    }
    buf[n] = '\0';
    return 1;
}

/* A code of 1..9 digits, all of `s`; -1 otherwise. */
static long all_digits(const char *s)
{
    size_t n = strspn(s, "0123456789");

    if (n == 0 || n > 9 || s[n] != '\0')
        return -1;
    return strtol(s, NULL, 10);
}

/* The central meridian after "vn2000tm3", separators already gone:
 * "105" (degrees), "10545" (degrees and minutes: "105-45", "105°45'") or
 * "105.75" (decimal degrees).  Arc-minutes, or -1 when it is none of these. */
static int tm3_minutes(const char *t)
{
    size_t nd = strspn(t, "0123456789");

    if (nd == 5 && t[5] == '\0') {
        int deg = (t[0] - '0') * 100 + (t[1] - '0') * 10 + (t[2] - '0');
        int min = (t[3] - '0') * 10 + (t[4] - '0');
        return min < 60 ? deg * 60 + min : -1;
    }
    if (nd != 3)
        return -1;
    int deg = (t[0] - '0') * 100 + (t[1] - '0') * 10 + (t[2] - '0');
    if (t[3] == '\0')
        return deg * 60;
    if (t[3] != '.')
        return -1;
    /* Decimal degrees, by hand: strtod would follow the locale's decimal
     * point.  The fraction must be a whole number of minutes. */
    const char *f = t + 4;
    size_t nf = strspn(f, "0123456789");
    if (nf == 0 || nf > 6 || f[nf] != '\0')
        return -1;
    double frac = (double)strtol(f, NULL, 10) / pow(10.0, (double)nf);
    double min = frac * 60.0;
    if (fabs(min - round(min)) > 1e-6)
        return -1;
    return deg * 60 + (int)round(min);
}

static int tm3_epsg(int minutes)
{
    for (size_t i = 0; i < LS_ARRAY_LEN(tm3_zones); i++) {
        if (tm3_zones[i].minutes == minutes)
            return tm3_zones[i].epsg;
    }
    return 0;
}

/* The EPSG code a friendly name stands for: > 0 found, 0 not a friendly
 * name (hand it to PROJ), -1 a VN-2000 TM-3 name with no such zone (message
 * in err). */
static long friendly_epsg(const char *text, char *err, size_t errlen)
{
    char n[FRIENDLY_MAX];
    char names[1024];
    long code;

    if (!normalise(text, n, sizeof(n)))
        return 0;
    if ((code = all_digits(n)) > 0)
        return code;
    if (strncmp(n, "epsg", 4) == 0 && (code = all_digits(n + 4 + (n[4] == ':'))) > 0)
        return code;
    if (strcmp(n, "wgs84") == 0)
        return EPSG_WGS84;
    if (strcmp(n, "vn2000") == 0)
        return EPSG_VN2000_GEOG;
    if (strcmp(n, "vn2000utm48") == 0 || strcmp(n, "vn2000utm48n") == 0)
        return EPSG_VN2000_UTM48;
    if (strcmp(n, "vn2000utm49") == 0 || strcmp(n, "vn2000utm49n") == 0)
        return EPSG_VN2000_UTM49;
    if (strncmp(n, "vn2000tm3", 9) != 0)
        return 0;

    int minutes = tm3_minutes(n + 9);
    int epsg = minutes > 0 ? tm3_epsg(minutes) : 0;
    if (epsg > 0)
        return epsg;
    names_list(names, sizeof(names));
    if (minutes > 0)
        set_err(err, errlen,
                "\"%s\": no VN-2000 TM-3 zone has its central meridian at %d°%02d' "
                "(a decimal meridian is in degrees: 105.75 is 105°45'); %s",
                text, minutes / 60, minutes % 60, names);
    else
        set_err(err, errlen,
                "\"%s\": cannot read the central meridian (write it 105-45, 105.75, 10545 "
                "or 105°45'); %s",
                text, names);
    return -1;
}

/* ------------------------------------------------------------ public API */

ls_status geo_crs_resolve(const char *text, char *out, size_t outlen, char *err, size_t errlen)
{
    ls_status st = LS_OK;
    PJ_CONTEXT *ctx = NULL;
    PJ *crs = NULL;
    char last[PROJ_MSG_MAX];
    char epsg[32];
    char names[1024];
    const char *def = text;
    long code;

    set_err(err, errlen, "%s", "");
    if (!out || outlen == 0) {
        st = LS_EINVAL;
        set_err(err, errlen, "geo_crs_resolve: no output buffer");
        goto out;
    }
    out[0] = '\0';
    if (!text || text[strspn(text, " \t\r\n")] == '\0') {
        st = LS_EINVAL;
        names_list(names, sizeof(names));
        set_err(err, errlen, "no coordinate reference system given; %s", names);
        goto out;
    }

    code = friendly_epsg(text, err, errlen);
    if (code < 0) {
        st = LS_EINVAL;
        goto out;
    }
    if (code > 0) {
        snprintf(epsg, sizeof(epsg), "EPSG:%ld", code);
        def = epsg;
    }

    /* Checked here, not only at geo_crs_open(), so that a typo is reported
     * where the user typed it (a form field, a CLI flag) rather than at the
     * first row of an upload. */
    ctx = ctx_new(last);
    if (!ctx) {
        st = LS_ENOMEM;
        set_err(err, errlen, "cannot create a PROJ context");
        goto out;
    }
    st = crs_build(ctx, last, def, &crs, err, errlen);
    if (st == LS_EINVAL) {
        size_t at = err ? strlen(err) : 0;
        names_list(names, sizeof(names));
        if (err && at + 2 < errlen)
            snprintf(err + at, errlen - at, "; %s", names);
    }
    if (st != LS_OK)
        goto out;
    if (strlen(def) >= outlen) {
        st = LS_ETOOBIG;
        set_err(err, errlen, "CRS definition too long (%zu bytes, at most %zu)", strlen(def),
                outlen - 1);
        goto out;
    }
    memcpy(out, def, strlen(def) + 1);
out:
    proj_destroy(crs);
    if (ctx)
        proj_context_destroy(ctx);
    return st;
}

ls_status geo_crs_open(const char *def, geo_crs **out, char *err, size_t errlen)
{
    ls_status st = LS_OK;
    geo_crs *c = NULL;
    PJ *wgs84 = NULL, *op = NULL;
    char detail[PROJ_MSG_MAX + 64];

    set_err(err, errlen, "%s", "");
    if (!out) {
        st = LS_EINVAL;
        set_err(err, errlen, "geo_crs_open: no output pointer");
        goto out;
    }
    *out = NULL;
    if (!def || def[strspn(def, " \t\r\n")] == '\0') {
        st = LS_EINVAL;
        set_err(err, errlen, "no coordinate reference system given");
        goto out;
    }
    c = calloc(1, sizeof(*c));
    if (!c || !(c->ctx = ctx_new(c->proj_msg))) {
        st = LS_ENOMEM;
        set_err(err, errlen, "out of memory creating a PROJ context");
        goto out;
    }
    st = crs_build(c->ctx, c->proj_msg, def, &c->src, err, errlen);
    if (st != LS_OK)
        goto out;

    c->proj_msg[0] = '\0';
    wgs84 = proj_create(c->ctx, "EPSG:4326");
    if (!wgs84) {
        /* Not the user's fault: PROJ's database is missing or broken. */
        proj_detail(c->ctx, c->proj_msg, detail, sizeof(detail));
        log_msg(LOG_ERROR, "geo_crs: PROJ cannot build EPSG:4326 (%s)", detail);
        st = LS_EINTERNAL;
        set_err(err, errlen, "PROJ cannot build EPSG:4326 (%s)", detail);
        goto out;
    }
    /* PROJ lists every known transformation with its area of use and picks
     * one per point: VN-2000 has two, onshore and Mekong delta. */
    op = proj_create_crs_to_crs_from_pj(c->ctx, c->src, wgs84, NULL, NULL);
    if (!op) {
        proj_detail(c->ctx, c->proj_msg, detail, sizeof(detail));
        st = LS_EINVAL;
        set_err(err, errlen, "PROJ finds no transformation from \"%s\" to WGS 84 (%s)",
                geo_crs_name(c), detail);
        goto out;
    }
    /* Files give easting before northing and longitude before latitude,
     * whatever EPSG says the axis order is (lat, lon for 4756 and 4326). */
    c->op = proj_normalize_for_visualization(c->ctx, op);
    if (!c->op) {
        proj_detail(c->ctx, c->proj_msg, detail, sizeof(detail));
        st = LS_EINVAL;
        set_err(err, errlen, "PROJ cannot normalise the axis order of \"%s\" (%s)", geo_crs_name(c),
                detail);
        goto out;
    }
    c->geographic = crs_geographic(c->ctx, c->src);
    *out = c;
    c = NULL;
out:
    proj_destroy(op);
    proj_destroy(wgs84);
    geo_crs_free(c);
    return st;
}

void geo_crs_free(geo_crs *c)
{
    if (!c)
        return;
    proj_destroy(c->op);
    proj_destroy(c->src);
    if (c->ctx)
        proj_context_destroy(c->ctx);
    free(c);
}

int geo_crs_is_geographic(const geo_crs *c)
{
    return c ? c->geographic : 0;
}

const char *geo_crs_name(const geo_crs *c)
{
    const char *name = c && c->src ? proj_get_name(c->src) : NULL;

    return name ? name : "unnamed CRS";
}

ls_status geo_crs_to_wgs84(geo_crs *c, double *x, double *y, size_t n)
{
    if (n == 0)
        return LS_OK;
    if (!c || !c->op || !x || !y)
        return LS_EINVAL;
    /* A point with one coordinate missing is missing: do not let PROJ make
     * something of the other one. */
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            x[i] = y[i] = NAN;
    }
    /* Point failures (HUGE_VAL) are per point and expected on bad rows; the
     * context's errno is reset so they do not colour a later message. */
    proj_trans_generic(c->op, PJ_FWD, x, sizeof(*x), n, y, sizeof(*y), n, NULL, 0, 0, NULL, 0, 0);
    proj_errno_reset(c->op);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            x[i] = y[i] = NAN;
    }
    return LS_OK;
}

static size_t count_in_vietnam(const double *lon, const double *lat, size_t n)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (lon[i] >= VN_LON_MIN && lon[i] <= VN_LON_MAX && lat[i] >= VN_LAT_MIN &&
            lat[i] <= VN_LAT_MAX)
            k++;
    }
    return k;
}

int geo_crs_detect_swap(geo_crs *c, const double *x, const double *y, size_t n)
{
    double ax[SWAP_SAMPLE], ay[SWAP_SAMPLE], bx[SWAP_SAMPLE], by[SWAP_SAMPLE];
    size_t k = n < SWAP_SAMPLE ? n : SWAP_SAMPLE;
    size_t m = 0;

    if (!c || !x || !y || n == 0)
        return 0;
    /* Spread over the whole file: a file sorted by region would otherwise
     * be judged by its first region only. */
    for (size_t i = 0; i < k; i++) {
        size_t j = i * (n / k) + i * (n % k) / k;
        if (!isfinite(x[j]) || !isfinite(y[j]))
            continue;
        ax[m] = x[j];
        ay[m] = y[j];
        bx[m] = y[j];
        by[m] = x[j];
        m++;
    }
    if (m == 0)
        return 0;
    if (geo_crs_to_wgs84(c, ax, ay, m) != LS_OK || geo_crs_to_wgs84(c, bx, by, m) != LS_OK)
        return 0;
    size_t as_given = count_in_vietnam(ax, ay, m);
    size_t swapped = count_in_vietnam(bx, by, m);
    /* Clearly, not narrowly: under 20 % as given and over 80 % swapped.
     * A file that is half one way and half the other is left alone and
     * fails visibly on its rows instead of being half fixed. */
    return as_given * 5 < m && swapped * 5 > m * 4;
}

int geo_crs_looks_projected(const double *x, const double *y, size_t n)
{
    if (!x || !y)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if ((isfinite(x[i]) && fabs(x[i]) > 180.0) || (isfinite(y[i]) && fabs(y[i]) > 90.0))
            return 1;
    }
    return 0;
}
