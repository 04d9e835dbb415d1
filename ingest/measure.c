/*
 * measure.c — the measurement ingest pipeline; see measure.h.
 *
 * Rows are read in chunks: each row's values are parsed and checked at
 * once, the chunk's coordinates go through PROJ together, and the chunk is
 * written out — accepted rows as COPY text to the server, rejected rows to
 * the reject file.  Memory is bounded by the chunk, not the file.  PostgreSQL
 * parses the COPY stream in its own process while we read the next chunk, so
 * reading and loading overlap on two cores.
 */
#include "measure.h"

#include <math.h>
#include <stdarg.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "area.h"
#include "in_ogr.h"
#include "mapping.h"
#include "../api/buf.h"
#include "../api/log.h"
#include "../geo/crs.h"
#include "../geo/db.h"

#define CHUNK 4096
#define SAMPLE 200
#define COPY_FLUSH (256 * 1024)
#define MAX_CARRIERS 64
#define TIME_MIN 1262304000.0 /* 2010-01-01T00:00:00Z */
#define MAX_MBPS 10000.0

struct rec {
    long long rowno;
    double x, y; /* as read; lon/lat after the transform */
    double t;    /* epoch seconds */
    double down, up, lat_ms, rsrp, rsrq, sinr;
    int has_xy, has_up, has_lat, has_rsrp, has_rsrq, has_sinr;
    int carrier; /* index into the carriers list */
    char tech[3];
    char device[17];    /* hashed device id, "" when none */
    char test_id[65];   /* the source's own test id, "" when none */
    const char *reason; /* why it is rejected, NULL when accepted so far */
    char why[160];      /* reason with details */
    size_t raw;         /* offset of the original values (CSV) in the chunk buffer */
};

struct run {
    const ingest_opts *o;
    ingest_summary *s;
    PGconn *c;
    ingest_reader *rd;
    ingest_mapping m;
    const char *const *cols;
    int ncols;
    int use_geometry; /* coordinates from the features' geometry */
    geo_crs *crs;
    ingest_area *area;
    ingest_carrier carriers[MAX_CARRIERS];
    int ncarriers;
    int default_carrier;
    struct rec *recs;
    int nrec;
    buf raw;  /* original values of the chunk's rows */
    buf copy; /* COPY text waiting to be sent */
    FILE *rejects;
    char reject_tmp[1100];
    double t_min, t_max;
    double now;
    double t_start, t_last_progress;
    long long count_hint;
    char *err;
    size_t errlen;
};

static double wall(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* ----------------------------------------------------------- set-up */

static ls_status load_carriers(struct run *R)
{
    PGresult *r = NULL;
    ls_status st = db_query(R->c, "ingest: carriers",
                            "SELECT code, name, array_to_string(mcc_mnc, ' ') FROM carriers"
                            " ORDER BY code",
                            0, NULL, &r, NULL, 0);
    if (st != LS_OK) {
        snprintf(R->err, R->errlen, "the carriers list could not be read");
        return st;
    }
    R->ncarriers = PQntuples(r) < MAX_CARRIERS ? PQntuples(r) : MAX_CARRIERS;
    for (int i = 0; i < R->ncarriers; i++) {
        ingest_carrier *k = &R->carriers[i];
        memset(k, 0, sizeof(*k));
        snprintf(k->code, sizeof(k->code), "%s", PQgetvalue(r, i, 0));
        snprintf(k->name, sizeof(k->name), "%s", PQgetvalue(r, i, 1));
        char list[256];
        snprintf(list, sizeof(list), "%s", PQgetvalue(r, i, 2));
        char *save = NULL;
        for (char *tok = strtok_r(list, " ", &save); tok && k->n_mcc_mnc < 8;
             tok = strtok_r(NULL, " ", &save))
            snprintf(k->mcc_mnc[k->n_mcc_mnc++], sizeof(k->mcc_mnc[0]), "%s", tok);
    }
    PQclear(r);
    R->default_carrier = -1;
    if (R->o->carrier) {
        for (int i = 0; i < R->ncarriers; i++)
            if (strcmp(R->carriers[i].code, R->o->carrier) == 0)
                R->default_carrier = i;
        if (R->default_carrier < 0) {
            R->default_carrier = ingest_carrier_find(R->carriers, R->ncarriers, R->o->carrier);
            if (R->default_carrier < 0) {
                snprintf(R->err, R->errlen, "unknown carrier '%s' (see GET /v1/carriers)",
                         R->o->carrier);
                return LS_EINVAL;
            }
        }
    }
    return LS_OK;
}

/* Reads the coordinates of the first rows to decide the CRS and whether X
 * and Y are swapped, then rewinds. */
static ls_status choose_crs(struct run *R)
{
    char def[4096] = "";
    int from_file = 0;
    if (R->o->crs) {
        if (geo_crs_resolve(R->o->crs, def, sizeof(def), R->err, R->errlen) != LS_OK)
            return LS_EINVAL;
    } else if (R->use_geometry && ingest_reader_crs(R->rd)) {
        snprintf(def, sizeof(def), "%s", ingest_reader_crs(R->rd));
        from_file = 1;
    }

    double xs[SAMPLE], ys[SAMPLE];
    size_t n = 0;
    const char *const *v;
    double gx, gy;
    int hp;
    long long rowno;
    while (n < SAMPLE &&
           ingest_reader_next(R->rd, &v, &gx, &gy, &hp, &rowno, R->err, R->errlen) == 1) {
        double x, y;
        if (R->use_geometry) {
            if (!hp)
                continue;
            x = gx;
            y = gy;
        } else {
            int cx = R->m.col[IF_LON] >= 0 ? IF_LON : IF_X;
            int cy = R->m.col[IF_LAT] >= 0 ? IF_LAT : IF_Y;
            if (ingest_parse_number(v[R->m.col[cx]], &x) != LS_OK ||
                ingest_parse_number(v[R->m.col[cy]], &y) != LS_OK)
                continue;
        }
        xs[n] = x;
        ys[n] = y;
        n++;
    }
    ingest_reader_rewind(R->rd);

    if (!*def) {
        if (n > 0 && geo_crs_looks_projected(xs, ys, n)) {
            snprintf(R->err, R->errlen,
                     "the coordinates are projected (values like %.0f, %.0f) but the file does "
                     "not say in which CRS: name it with --crs, e.g. --crs VN2000-UTM48, "
                     "VN2000-UTM49, VN2000-TM3-105-45 or EPSG:n",
                     xs[0], ys[0]);
            return LS_EINVAL;
        }
        snprintf(def, sizeof(def), "EPSG:4326");
    }
    if (geo_crs_open(def, &R->crs, R->err, R->errlen) != LS_OK)
        return LS_EINVAL;
    snprintf(R->s->crs, sizeof(R->s->crs), "%s",
             from_file ? geo_crs_name(R->crs) : (R->o->crs ? R->o->crs : "EPSG:4326"));
    if (n > 0 && geo_crs_detect_swap(R->crs, xs, ys, n))
        R->s->swapped_xy = 1;
    return LS_OK;
}

/* ---------------------------------------------------------- one row */

static int is_blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == '\0' || strcasecmp(s, "-") == 0 || strcasecmp(s, "n/a") == 0 ||
           strcasecmp(s, "na") == 0 || strcasecmp(s, "null") == 0 || strcasecmp(s, "none") == 0;
}

/* The value of field f in this row, or NULL when the column is absent or
 * the cell blank. */
static const char *val(const struct run *R, const char *const *v, ingest_field f)
{
    int col = R->m.col[f];
    if (col < 0 || is_blank(v[col]))
        return NULL;
    return v[col];
}

static void reject(struct rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reject(struct rec *r, const char *fmt, ...)
{
    if (r->reason)
        return; /* the first reason is the one reported */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof(r->why), fmt, ap);
    va_end(ap);
    r->reason = r->why;
}

/* Parses an optional number field; 1 when present and valid. */
static int opt_number(const struct run *R, const char *const *v, ingest_field f, struct rec *r,
                      double lo, double hi, double *out)
{
    const char *s = val(R, v, f);
    if (!s)
        return 0;
    double d;
    if (ingest_parse_number(s, &d) != LS_OK) {
        reject(r, "%s '%.40s' is not a number", ingest_field_name(f), s);
        return 0;
    }
    d *= R->m.scale[f];
    if (d < lo || d > hi) {
        reject(r, "%s %.6g is out of range (%g to %g)", ingest_field_name(f), d, lo, hi);
        return 0;
    }
    *out = d;
    return 1;
}

static void hash16(const char *s, char out[17])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    static const char hex[] = "0123456789abcdef";
    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 8; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[16] = '\0';
}

static void parse_row(struct run *R, const char *const *v, double gx, double gy, int hp,
                      struct rec *r)
{
    /* position */
    if (R->use_geometry) {
        r->has_xy = hp;
        r->x = gx;
        r->y = gy;
        if (!hp)
            reject(r, "no position (the feature has no geometry)");
    } else {
        ingest_field fx = R->m.col[IF_LON] >= 0 ? IF_LON : IF_X;
        ingest_field fy = R->m.col[IF_LAT] >= 0 ? IF_LAT : IF_Y;
        const char *sx = val(R, v, fx), *sy = val(R, v, fy);
        if (!sx || !sy)
            reject(r, "missing position (%s, %s)", ingest_field_name(fy), ingest_field_name(fx));
        else if (ingest_parse_number(sx, &r->x) != LS_OK || ingest_parse_number(sy, &r->y) != LS_OK)
            reject(r, "position '%.30s', '%.30s' is not a pair of numbers", sy, sx);
        else
            r->has_xy = 1;
    }
    if (R->s->swapped_xy) {
        double t = r->x;
        r->x = r->y;
        r->y = t;
    }

    /* time */
    const char *st = val(R, v, IF_TIME);
    if (!st)
        reject(r, "missing time");
    else if (ingest_parse_time_tz(st, R->m.time_offset_s, &r->t) != LS_OK)
        reject(r, "time '%.40s' is not a date and time", st);
    else if (r->t < TIME_MIN)
        reject(r, "time %.40s is before 2010", st);
    else if (r->t > R->now + 3600)
        reject(r, "time %.40s is in the future", st);

    /* speeds */
    const char *sd = val(R, v, IF_DOWNLOAD);
    if (!sd) {
        reject(r, "missing download speed");
    } else if (ingest_parse_number(sd, &r->down) != LS_OK) {
        reject(r, "download '%.40s' is not a number", sd);
    } else {
        r->down *= R->m.scale[IF_DOWNLOAD];
        if (r->down < 0)
            reject(r, "download speed is negative");
        else if (r->down > MAX_MBPS)
            reject(r, "download speed %.0f Mbps is above 10 Gbps", r->down);
    }
    r->has_up = opt_number(R, v, IF_UPLOAD, r, 0, MAX_MBPS, &r->up);
    r->has_lat = opt_number(R, v, IF_LATENCY, r, 0, 600000, &r->lat_ms);
    r->has_rsrp = opt_number(R, v, IF_RSRP, r, -200, 0, &r->rsrp);
    r->has_rsrq = opt_number(R, v, IF_RSRQ, r, -50, 10, &r->rsrq);
    r->has_sinr = opt_number(R, v, IF_SINR, r, -50, 60, &r->sinr);

    /* carrier: the operator text, MCC-MNC, or separate MCC and MNC */
    r->carrier = -1;
    const char *op = val(R, v, IF_OPERATOR), *mm = val(R, v, IF_MCCMNC);
    const char *mcc = val(R, v, IF_MCC), *mnc = val(R, v, IF_MNC);
    if (op)
        r->carrier = ingest_carrier_find(R->carriers, R->ncarriers, op);
    if (r->carrier < 0 && mm)
        r->carrier = ingest_carrier_find(R->carriers, R->ncarriers, mm);
    if (r->carrier < 0 && mcc && mnc)
        r->carrier = ingest_carrier_find_mcc_mnc(R->carriers, R->ncarriers, mcc, mnc);
    if (r->carrier < 0 && !op && !mm && !(mcc && mnc))
        r->carrier = R->default_carrier;
    if (r->carrier < 0) {
        if (op || mm || (mcc && mnc))
            reject(r, "unknown carrier '%.40s'", op ? op : mm ? mm : mcc);
        else
            reject(r, "no carrier (the row names none: give --carrier)");
    } else if (R->o->only_carrier && strcmp(R->carriers[r->carrier].code, R->o->only_carrier)) {
        reject(r, "carrier %s is not this account's carrier (%s)", R->carriers[r->carrier].code,
               R->o->only_carrier);
    }

    /* technology */
    const char *tech = val(R, v, IF_TECH);
    if (tech) {
        if (ingest_parse_tech(tech, r->tech) != LS_OK)
            reject(r, "technology '%.30s' is not a mobile network (2G/3G/4G/5G)", tech);
    } else if (R->o->tech) {
        memcpy(r->tech, R->o->tech, 3);
    } else {
        reject(r, "no technology (the row names none: give --tech)");
    }

    const char *dev = val(R, v, IF_DEVICE);
    if (dev)
        hash16(dev, r->device);
    const char *tid = val(R, v, IF_TEST_ID);
    if (tid)
        snprintf(r->test_id, sizeof(r->test_id), "%s", tid);
}

/* Appends the row's original values as CSV to the chunk's raw buffer. */
static void keep_raw(struct run *R, const char *const *v, struct rec *r)
{
    r->raw = R->raw.len;
    for (int i = 0; i < R->ncols; i++) {
        const char *s = v[i];
        int quote = strpbrk(s, ",\"\r\n") != NULL;
        if (i)
            buf_append(&R->raw, ",", 1);
        if (!quote) {
            buf_puts(&R->raw, s);
            continue;
        }
        buf_append(&R->raw, "\"", 1);
        for (; *s; s++) {
            if (*s == '"')
                buf_append(&R->raw, "\"", 1);
            buf_append(&R->raw, s, 1);
        }
        buf_append(&R->raw, "\"", 1);
    }
    buf_append(&R->raw, "", 1);
}

/* --------------------------------------------------------- the chunk */

static ls_status open_rejects(struct run *R)
{
    if (R->rejects)
        return LS_OK;
    snprintf(R->reject_tmp, sizeof(R->reject_tmp), "%s.part", R->o->reject_path);
    R->rejects = fopen(R->reject_tmp, "w");
    if (!R->rejects) {
        snprintf(R->err, R->errlen, "cannot write the reject file %s", R->reject_tmp);
        return LS_EIO;
    }
    fputs("row,reason", R->rejects);
    for (int i = 0; i < R->ncols; i++) {
        fputc(',', R->rejects);
        const char *s = R->cols[i];
        if (strpbrk(s, ",\"\r\n")) {
            fputc('"', R->rejects);
            for (; *s; s++) {
                if (*s == '"')
                    fputc('"', R->rejects);
                fputc(*s, R->rejects);
            }
            fputc('"', R->rejects);
        } else {
            fputs(s, R->rejects);
        }
    }
    fputc('\n', R->rejects);
    return LS_OK;
}

/* Level-16 Web Mercator tile of a point. */
static void tile16(double lon, double lat, int *x, int *y)
{
    double n = 65536.0;
    double lr = lat * M_PI / 180.0;
    int tx = (int)floor((lon + 180.0) / 360.0 * n);
    int ty = (int)floor((1.0 - log(tan(lr) + 1.0 / cos(lr)) / M_PI) / 2.0 * n);
    *x = tx < 0 ? 0 : tx > 65535 ? 65535 : tx;
    *y = ty < 0 ? 0 : ty > 65535 ? 65535 : ty;
}

static void fmt_time(double t, char *out, size_t len)
{
    time_t sec = (time_t)floor(t);
    int ms = (int)lround((t - (double)sec) * 1000.0);
    if (ms >= 1000) {
        sec++;
        ms -= 1000;
    }
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out + n, len - n, ".%03d+00", ms);
}

static void copy_num(buf *b, int has, double v)
{
    if (has)
        buf_printf(b, "\t%.6g", v);
    else
        buf_puts(b, "\t\\N");
}

static ls_status flush_copy(struct run *R, int force)
{
    if (R->copy.len == 0 || (!force && R->copy.len < COPY_FLUSH))
        return LS_OK;
    if (PQputCopyData(R->c, R->copy.data, (int)R->copy.len) != 1) {
        log_error("ingest: COPY failed: %s", PQerrorMessage(R->c));
        snprintf(R->err, R->errlen, "the database stopped taking the rows");
        return LS_EUNAVAIL;
    }
    R->copy.len = 0;
    return LS_OK;
}

static ls_status finish_chunk(struct run *R)
{
    if (R->nrec == 0)
        return LS_OK;
    /* Transform the chunk's coordinates in one call. */
    double xs[CHUNK], ys[CHUNK];
    for (int i = 0; i < R->nrec; i++) {
        xs[i] = R->recs[i].has_xy ? R->recs[i].x : 0;
        ys[i] = R->recs[i].has_xy ? R->recs[i].y : 0;
    }
    if (geo_crs_to_wgs84(R->crs, xs, ys, (size_t)R->nrec) != LS_OK) {
        snprintf(R->err, R->errlen, "the coordinates could not be transformed");
        return LS_EINVAL;
    }
    for (int i = 0; i < R->nrec; i++) {
        struct rec *r = &R->recs[i];
        const char *prov = NULL;
        if (r->has_xy) {
            double lon = xs[i], lat = ys[i];
            if (!isfinite(lon) || !isfinite(lat))
                reject(r, "position %.8g, %.8g cannot be transformed to WGS 84", r->y, r->x);
            else if (!(prov = ingest_area_province(R->area, lon, lat)))
                reject(r, "position %.6f, %.6f is outside Vietnam's land and sea area", lat, lon);
            else if (R->o->only_province && strcmp(prov, R->o->only_province) != 0)
                reject(r, "position %.6f, %.6f is in province %s, outside this account's area", lat,
                       lon, prov);
            r->x = lon;
            r->y = lat;
        }
        if (r->reason) {
            ls_status st = open_rejects(R);
            if (st != LS_OK)
                return st;
            fprintf(R->rejects, "%lld,", r->rowno);
            fputc('"', R->rejects);
            for (const char *p = r->reason; *p; p++) {
                if (*p == '"')
                    fputc('"', R->rejects);
                fputc(*p, R->rejects);
            }
            fprintf(R->rejects, "\",%s\n", R->raw.data + r->raw);
            R->s->rejected++;
            continue;
        }
        const char *carrier = R->carriers[r->carrier].code;
        int meets = r->down >= R->o->min_download &&
                    (R->o->min_upload <= 0 || (r->has_up && r->up >= R->o->min_upload)) &&
                    (R->o->max_latency <= 0 || (r->has_lat && r->lat_ms <= R->o->max_latency));
        /* The dedupe key: the source's own test id when it has one, else the
         * content that makes a measurement the same measurement. */
        char key[320];
        if (*r->test_id)
            snprintf(key, sizeof(key), "id|%s|%s", carrier, r->test_id);
        else
            snprintf(key, sizeof(key), "%.3f|%.7f|%.7f|%s|%s|%.3f|%.3f|%.3f", r->t, r->x, r->y,
                     carrier, r->tech, r->down, r->has_up ? r->up : -1.0,
                     r->has_lat ? r->lat_ms : -1.0);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdn = 0;
        EVP_Digest(key, strlen(key), md, &mdn, EVP_md5(), NULL);
        int tx, ty;
        tile16(r->x, r->y, &tx, &ty);
        char ts[48];
        fmt_time(r->t, ts, sizeof(ts));
        buf *b = &R->copy;
        buf_printf(b, "%s\t%.7f\t%.7f\t%s\t%s\t%s\t%.6g", ts, r->x, r->y, prov, carrier, r->tech,
                   r->down);
        copy_num(b, r->has_up, r->up);
        copy_num(b, r->has_lat, r->lat_ms);
        copy_num(b, r->has_rsrp, r->rsrp);
        copy_num(b, r->has_rsrq, r->rsrq);
        copy_num(b, r->has_sinr, r->sinr);
        buf_printf(b, "\t%s\t%s\t\\\\x", meets ? "t" : "f", *r->device ? r->device : "\\N");
        for (unsigned k = 0; k < 16; k++)
            buf_printf(b, "%02x", md[k]);
        if (buf_printf(b, "\t%lld\n", ((long long)tx << 16) | ty) != LS_OK) {
            snprintf(R->err, R->errlen, "out of memory");
            return LS_ENOMEM;
        }
        if (r->t < R->t_min)
            R->t_min = r->t;
        if (r->t > R->t_max)
            R->t_max = r->t;
        ls_status st = flush_copy(R, 0);
        if (st != LS_OK)
            return st;
    }
    R->nrec = 0;
    R->raw.len = 0;
    return LS_OK;
}

static void progress(struct run *R, long long rows, int final)
{
    double t = wall();
    if (!final && t - R->t_last_progress < 0.25)
        return;
    R->t_last_progress = t;
    double el = t - R->t_start;
    double rate = el > 0 ? (double)rows / el : 0;
    char eta[32] = "";
    if (!final && R->count_hint > rows && rate > 0) {
        double left = (double)(R->count_hint - rows) / rate;
        snprintf(eta, sizeof(eta), "  ETA %d:%02d", (int)left / 60, (int)left % 60);
    }
    char pct[16] = "";
    if (R->count_hint > 0)
        snprintf(pct, sizeof(pct), " (%3.0f%%)",
                 final ? 100.0 : 100.0 * (double)rows / (double)R->count_hint);
    fprintf(stderr, "\r  %lld rows%s  %.0f rows/s%s   ", rows, pct, rate, eta);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

/* ---------------------------------------------------------- the merge */

/* The new rows go into measurements (duplicates skipped) and, through
 * RETURNING, into ingest_new, from which the coverage cells are updated. */
static const char merge_sql[] =
    "WITH ins AS (INSERT INTO measurements (measured_at, geom, province_code, carrier_code,"
    " technology, download_mbps, upload_mbps, latency_ms, rsrp, rsrq, sinr, meets_min, batch_id,"
    " device_hash, dedupe_key, cell16)"
    " SELECT measured_at, ST_SetSRID(ST_MakePoint(lon, lat), 4326), province_code, carrier_code,"
    " technology, download_mbps, upload_mbps, latency_ms, rsrp, rsrq, sinr, meets_min, $1::bigint,"
    " device_hash, dedupe_key, cell16 FROM ingest_stage"
    " ON CONFLICT DO NOTHING"
    " RETURNING measured_at, carrier_code, technology, download_mbps, meets_min, cell16)"
    " INSERT INTO ingest_new SELECT * FROM ins";

static ls_status merge(struct run *R)
{
    char batch[32], from[48], to[48];
    snprintf(batch, sizeof(batch), "%lld", R->s->batch);
    PGresult *r = NULL;
    ls_status st;
    if (R->t_max >= R->t_min) {
        fmt_time(R->t_min, from, sizeof(from));
        fmt_time(R->t_max + 1, to, sizeof(to));
        const char *p[] = {from, to};
        st = db_query(R->c, "ingest: partitions",
                      "SELECT measurements_ensure_partitions($1::timestamptz, $2::timestamptz)", 2,
                      p, NULL, NULL, 0);
        if (st != LS_OK)
            return st;
    }
    st = db_exec(R->c, "CREATE TEMP TABLE ingest_new (measured_at timestamptz, carrier_code text,"
                       " technology text, download_mbps real, meets_min boolean, cell16 bigint)"
                       " ON COMMIT DROP");
    if (st != LS_OK)
        return st;
    const char *p1[] = {batch};
    st = db_query(R->c, "ingest: merge", merge_sql, 1, p1, &r, NULL, 0);
    if (st != LS_OK)
        return st;
    long long inserted = atoll(PQcmdTuples(r));
    PQclear(r);
    long long valid = R->s->rows - R->s->rejected;
    R->s->accepted = inserted;
    R->s->duplicates = valid - inserted;
    st = db_query(R->c, "ingest: count",
                  "SELECT count(*) FILTER (WHERE meets_min), count(*) FILTER (WHERE NOT meets_min)"
                  " FROM ingest_new",
                  0, NULL, &r, NULL, 0);
    if (st != LS_OK)
        return st;
    R->s->meeting_min = atoll(PQgetvalue(r, 0, 0));
    R->s->below_min = atoll(PQgetvalue(r, 0, 1));
    PQclear(r);

    static const int levels[] = {16, 13, 10, 7};
    for (size_t k = 0; k < sizeof(levels) / sizeof(levels[0]); k++) {
        char z[16], shift[16];
        snprintf(z, sizeof(z), "%d", levels[k]);
        snprintf(shift, sizeof(shift), "%d", 16 - levels[k]);
        const char *p[] = {z, shift};
        st = db_query(
            R->c, "ingest: cells",
            "INSERT INTO coverage_cells AS c (res, cell_x, cell_y, carrier_code, technology, tests,"
            " meeting_min, hist, last_measured, geom)"
            " SELECT $1::smallint, x, y, carrier_code, technology, sum(n), sum(m),"
            "  hist_from(array_agg(bin), array_agg(n)), max(last), cell_geom($1::int, x, y)"
            " FROM (SELECT ((cell16 >> 16) >> $2::int)::int AS x,"
            "   ((cell16 & 65535) >> $2::int)::int AS y, carrier_code, technology,"
            "   hist_bin(download_mbps) AS bin, count(*) AS n,"
            "   count(*) FILTER (WHERE meets_min) AS m, max(measured_at) AS last"
            "  FROM ingest_new GROUP BY 1, 2, 3, 4, 5) s"
            " GROUP BY x, y, carrier_code, technology"
            " ON CONFLICT (res, cell_x, cell_y, carrier_code, technology) DO UPDATE SET"
            " tests = c.tests + EXCLUDED.tests, meeting_min = c.meeting_min + EXCLUDED.meeting_min,"
            " hist = hist_add(c.hist, EXCLUDED.hist),"
            " last_measured = greatest(c.last_measured, EXCLUDED.last_measured)",
            2, p, NULL, NULL, 0);
        if (st != LS_OK)
            return st;
    }
    /* Village-level cells: exact percentiles from their raw rows. */
    return db_exec(R->c,
                   "UPDATE coverage_cells c SET p10_download = e.p10, p50_download = e.p50"
                   " FROM (SELECT m.cell16, m.carrier_code, m.technology,"
                   "  percentile_cont(0.1) WITHIN GROUP (ORDER BY m.download_mbps) AS p10,"
                   "  percentile_cont(0.5) WITHIN GROUP (ORDER BY m.download_mbps) AS p50"
                   "  FROM measurements m"
                   "  JOIN (SELECT DISTINCT cell16, carrier_code, technology FROM ingest_new) t"
                   "  USING (cell16, carrier_code, technology)"
                   "  GROUP BY 1, 2, 3) e"
                   " WHERE c.res = 16 AND c.cell_x = (e.cell16 >> 16)::int"
                   " AND c.cell_y = (e.cell16 & 65535)::int"
                   " AND c.carrier_code = e.carrier_code AND c.technology = e.technology");
}

/* ------------------------------------------------------------- driver */

static ls_status run_rows(struct run *R)
{
    const char *const *v;
    double gx = 0, gy = 0;
    int hp = 0;
    long long rowno;
    int more;
    while ((more = ingest_reader_next(R->rd, &v, &gx, &gy, &hp, &rowno, R->err, R->errlen)) == 1) {
        struct rec *r = &R->recs[R->nrec++];
        memset(r, 0, sizeof(*r));
        r->rowno = rowno;
        parse_row(R, v, gx, gy, hp, r);
        keep_raw(R, v, r);
        R->s->rows++;
        if (R->nrec == CHUNK) {
            ls_status st = finish_chunk(R);
            if (st != LS_OK)
                return st;
            if (R->o->progress)
                progress(R, R->s->rows, 0);
        }
    }
    if (more < 0)
        return LS_EINVAL;
    ls_status st = finish_chunk(R);
    if (st == LS_OK)
        st = flush_copy(R, 1);
    if (R->o->progress)
        progress(R, R->s->rows, 1);
    return st;
}

ls_status ingest_measurements(PGconn *c, const ingest_opts *o, ingest_summary *s, char *err,
                              size_t errlen)
{
    memset(s, 0, sizeof(*s));
    struct run R;
    memset(&R, 0, sizeof(R));
    R.o = o;
    R.s = s;
    R.c = c;
    R.err = err;
    R.errlen = errlen;
    R.now = wall();
    R.t_start = R.now;
    R.t_min = INFINITY;
    R.t_max = -INFINITY;
    buf_init(&R.raw, 0);
    buf_init(&R.copy, 0);
    *err = '\0';
    int in_tx = 0, in_copy = 0;
    ls_status st = LS_OK;

    R.recs = calloc(CHUNK, sizeof(*R.recs));
    if (!R.recs) {
        st = LS_ENOMEM;
        goto out;
    }
    if ((st = ingest_reader_open(o->path, &R.rd, err, errlen)) != LS_OK)
        goto out;
    R.cols = ingest_reader_columns(R.rd, &R.ncols);
    R.count_hint = ingest_reader_count_hint(R.rd);
    if ((st = ingest_mapping_guess(R.cols, R.ncols, o->maps, o->nmaps, &R.m, err, errlen)) != LS_OK)
        goto out;
    /* Coordinates: the features' geometry when the layer has one and no
     * coordinate columns were named explicitly; else the columns. */
    int has_lonlat = R.m.col[IF_LON] >= 0 && R.m.col[IF_LAT] >= 0;
    int has_xy = R.m.col[IF_X] >= 0 && R.m.col[IF_Y] >= 0;
    int named = R.m.from_override[IF_LON] || R.m.from_override[IF_LAT] || R.m.from_override[IF_X] ||
                R.m.from_override[IF_Y];
    R.use_geometry = ingest_reader_has_geometry(R.rd) && !named;
    if (!R.use_geometry && !has_lonlat && !has_xy && ingest_reader_has_geometry(R.rd))
        R.use_geometry = 1;
    if ((st = ingest_mapping_check(&R.m, R.use_geometry, R.cols, R.ncols, err, errlen)) != LS_OK)
        goto out;
    if (R.m.col[IF_TECH] < 0 && !o->tech) {
        snprintf(err, errlen,
                 "the file has no technology column: give --tech 3G|4G|5G (or name the column "
                 "with --map tech=COLUMN)");
        st = LS_EINVAL;
        goto out;
    }
    if ((st = load_carriers(&R)) != LS_OK)
        goto out;
    if ((st = choose_crs(&R)) != LS_OK)
        goto out;
    if ((st = ingest_area_load(c, &R.area, err, errlen)) != LS_OK)
        goto out;

    /* One transaction for the whole batch: ours, or the caller's (an HTTP
     * request's, which commits when the handler succeeds). */
    int own_tx = PQtransactionStatus(c) == PQTRANS_IDLE;
    if (own_tx && (st = db_exec(c, "BEGIN")) != LS_OK)
        goto out;
    in_tx = own_tx;
    char account[32];
    snprintf(account, sizeof(account), "%lld", o->account_id);
    const char *pb[] = {o->account_id ? account : NULL, o->only_carrier,
                        o->source_name ? o->source_name : o->path};
    PGresult *r = NULL;
    st = db_query(c, "ingest: batch",
                  "INSERT INTO ingest_batches (kind, account_id, carrier_code, source_name)"
                  " VALUES ('measurements', $1, $2, $3) RETURNING id",
                  3, pb, &r, NULL, 0);
    if (st != LS_OK) {
        snprintf(err, errlen, "the batch could not be started");
        goto out;
    }
    s->batch = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    st = db_exec(c, "CREATE TEMP TABLE ingest_stage (measured_at timestamptz, lon float8,"
                    " lat float8, province_code text, carrier_code text, technology text,"
                    " download_mbps real, upload_mbps real, latency_ms real, rsrp real,"
                    " rsrq real, sinr real, meets_min boolean, device_hash text,"
                    " dedupe_key bytea, cell16 bigint) ON COMMIT DROP");
    if (st != LS_OK)
        goto out;
    r = PQexec(c, "COPY ingest_stage FROM STDIN");
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        log_error("ingest: COPY did not start: %s", PQerrorMessage(c));
        PQclear(r);
        st = LS_EDB;
        goto out;
    }
    PQclear(r);
    in_copy = 1;
    st = run_rows(&R);
    in_copy = 0;
    if (PQputCopyEnd(c, st == LS_OK ? NULL : "ingest aborted") != 1)
        st = st == LS_OK ? LS_EUNAVAIL : st;
    r = PQgetResult(c);
    if (st == LS_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
        log_error("ingest: COPY failed: %s", PQerrorMessage(c));
        snprintf(err, errlen, "the database refused the rows");
        st = LS_EDB;
    }
    PQclear(r);
    while ((r = PQgetResult(c)))
        PQclear(r);
    if (st != LS_OK)
        goto out;
    if (s->rows == 0) {
        snprintf(err, errlen, "%s has no rows", o->source_name ? o->source_name : o->path);
        st = LS_EINVAL;
        goto out;
    }
    if ((st = merge(&R)) != LS_OK) {
        if (!*err)
            snprintf(err, errlen, "the rows could not be stored");
        goto out;
    }
    if (R.rejects) {
        if (fclose(R.rejects) != 0) {
            R.rejects = NULL;
            snprintf(err, errlen, "the reject file could not be written");
            st = LS_EIO;
            goto out;
        }
        R.rejects = NULL;
        snprintf(s->reject_file, sizeof(s->reject_file), "%s", o->reject_path);
    }
    snprintf(s->notes, sizeof(s->notes), "read with %s in %s%s", ingest_reader_driver(R.rd), s->crs,
             s->swapped_xy ? "; X and Y were swapped (northing given as X)" : "");
    char bid[32];
    snprintf(bid, sizeof(bid), "%lld", s->batch);
    char *json = ingest_summary_json(s, NULL);
    const char *ps[] = {bid, json ? json : "{}", s->notes};
    st = db_query(c, "ingest: finish",
                  "UPDATE ingest_batches SET status = 'committed', finished_at = now(),"
                  " summary = $2::jsonb || jsonb_build_object('notes', $3::text) WHERE id = $1",
                  3, ps, NULL, NULL, 0);
    free(json);
    if (st != LS_OK)
        goto out;
    /* The reject file takes its final name before the commit: a crash in
     * between leaves a reject file for a batch that is not there, never the
     * other way round. */
    if (*s->reject_file && rename(R.reject_tmp, s->reject_file) != 0) {
        snprintf(err, errlen, "the reject file could not be written to %s", s->reject_file);
        st = LS_EIO;
        goto out;
    }
    if (own_tx) {
        st = db_exec(c, "COMMIT");
        in_tx = 0;
        if (st != LS_OK)
            snprintf(err, errlen, "the batch could not be committed; nothing was stored");
    }
out:
    if (in_copy)
        PQputCopyEnd(c, "ingest aborted");
    if (in_tx) {
        PGresult *rb;
        while ((rb = PQgetResult(c)))
            PQclear(rb);
        db_exec(c, "ROLLBACK");
    }
    if (R.rejects)
        fclose(R.rejects);
    if (st != LS_OK) {
        if (*R.reject_tmp)
            unlink(R.reject_tmp);
        if (*s->reject_file)
            unlink(s->reject_file);
        s->reject_file[0] = '\0';
    }
    ingest_area_free(R.area);
    geo_crs_free(R.crs);
    ingest_reader_close(R.rd);
    buf_free(&R.raw);
    buf_free(&R.copy);
    free(R.recs);
    return st;
}

char *ingest_summary_json(const ingest_summary *s, const char *reject_url)
{
    buf b;
    buf_init(&b, 0);
    buf_printf(&b,
               "{\"batch\":%lld,\"rows\":%lld,\"accepted\":%lld,\"rejected\":%lld,"
               "\"duplicates\":%lld,\"meeting_min\":%lld,\"below_min\":%lld,\"reject_file\":",
               s->batch, s->rows, s->accepted, s->rejected, s->duplicates, s->meeting_min,
               s->below_min);
    const char *rf = reject_url ? reject_url : s->reject_file;
    if (*rf)
        buf_json_str(&b, rf);
    else
        buf_puts(&b, "null");
    buf_puts(&b, "}");
    return buf_detach(&b, NULL);
}
