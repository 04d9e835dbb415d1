/*
 * reports.c — dead-zone reports from a file; see reports.h.
 *
 * A report file is a few hundred rows typed by a commune officer, not
 * millions from a drive test, so the rows are kept in memory (up to
 * INGEST_REPORTS_MAX_ROWS) and checked in passes: each row's own values as
 * it is read; then all coordinates through PROJ at once; then all positions
 * located in one query with the same unit_at() POST /v1/reports uses (so a
 * row is in the province a single report there would be in); then the
 * commune names against the province's communes; then the rows already
 * filed.  Only when every row has its verdict is anything written.
 */
#include "reports.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "in_ogr.h"
#include "mapping.h"
#include "source.h"
#include "../api/buf.h"
#include "../api/log.h"
#include "../geo/crs.h"
#include "../geo/db.h"

#define MERGE_RADIUS_M "300" /* as POST /v1/reports (api/h_reports.c) */
#define MAX_CARRIERS 64
#define MAX_ROW_CARRIERS 16
#define TEXT_CAP (256u << 20) /* original values and texts of all rows */
#define NO_TEXT ((size_t)-1)
#define MAX_COMMUNES 4096

struct rrow {
    long long rowno;
    double x, y; /* as read; lon/lat after the transform */
    int has_xy;
    char tech[3];
    const char *symptom;
    unsigned char car[MAX_ROW_CARRIERS]; /* indexes into the carriers list */
    int ncar;
    size_t place, note, commune_text; /* offsets into the text buffer, or NO_TEXT */
    long long people, households;     /* -1 when not given */
    char prov[8];
    char commune[8]; /* the commune's code, "" when none */
    char key[40];    /* client_ref: "file:" + 32 hex digits of the content hash */
    int dup;         /* filed before, or earlier in this file */
    int no_symptom;  /* the row gave none: no_signal */
    const char *reason;
    char why[256];
    size_t raw; /* the original values as CSV, in the raw buffer */
};

struct commune {
    char code[8];
    char full[160]; /* folded name: "xa_tan_lap" */
    char bare[160]; /* without its kind: "tan_lap" */
};

struct rrun {
    const ingest_report_opts *o;
    ingest_report_summary *s;
    PGconn *c;
    ingest_reader *rd;
    ingest_mapping m;
    const char *const *cols;
    int ncols;
    int use_geometry;
    geo_crs *crs;
    ingest_carrier carriers[MAX_CARRIERS];
    int ncarriers;
    struct rrow *rows;
    size_t n, cap;
    buf raw, text;
    ingest_rejects rej;
    long long n_default_symptom, n_from_households;
    char *err;
    size_t errlen;
};

static double wall(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void reject(struct rrow *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reject(struct rrow *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ingest_reject_v(&r->reason, r->why, sizeof(r->why), fmt, ap);
    va_end(ap);
}

/* The value of field f in this row, or NULL when absent or blank. */
static const char *val(const struct rrun *R, const char *const *v, ingest_field f)
{
    return ingest_field_value(&R->m, v, f);
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

/* Keeps a trimmed text value; NO_TEXT for none.  Rejects one longer than
 * `max` characters. */
static size_t keep_text(struct rrun *R, struct rrow *r, const char *s, const char *what, size_t max)
{
    if (!s)
        return NO_TEXT;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (n == 0)
        return NO_TEXT;
    if (utf8_chars(s, n) > max) {
        reject(r, "%s is longer than %zu characters", what, max);
        return NO_TEXT;
    }
    size_t at = R->text.len;
    if (buf_append(&R->text, s, n) != LS_OK || buf_append(&R->text, "", 1) != LS_OK) {
        reject(r, "the file's text is too large to keep");
        return NO_TEXT;
    }
    return at;
}

static const char *text_at(const struct rrun *R, size_t at)
{
    return at == NO_TEXT ? NULL : R->text.data + at;
}

/* A whole number in [0, max]; -1 (and the row rejected) otherwise. */
static long long whole(struct rrow *r, const char *s, const char *what, long long max)
{
    double d;
    if (ingest_parse_number(s, &d) != LS_OK || d != floor(d) || d < 0 || d > (double)max) {
        reject(r, "%s '%.30s' is not a whole number from 0 to %lld", what, s, max);
        return -1;
    }
    return (long long)d;
}

static void add_carrier(struct rrun *R, struct rrow *r, const char *tok)
{
    while (*tok == ' ' || *tok == '\t')
        tok++;
    size_t n = strlen(tok);
    char t[128];
    while (n && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
        n--;
    if (n == 0 || r->reason)
        return;
    snprintf(t, sizeof(t), "%.*s", (int)(n < sizeof(t) - 1 ? n : sizeof(t) - 1), tok);
    int k = ingest_carrier_find(R->carriers, R->ncarriers, t);
    if (k < 0) {
        reject(r, "unknown carrier '%.40s' (see GET /v1/carriers)", t);
        return;
    }
    for (int i = 0; i < r->ncar; i++)
        if (r->car[i] == k)
            return;
    if (r->ncar == MAX_ROW_CARRIERS) {
        reject(r, "more than %d carriers", MAX_ROW_CARRIERS);
        return;
    }
    r->car[r->ncar++] = (unsigned char)k;
}

/* "Viettel, VinaPhone; MobiFone", "Viettel/Vina", "Viettel + Mobi",
 * "Viettel và VinaPhone": each part names one carrier. */
static void parse_carriers(struct rrun *R, struct rrow *r, const char *s)
{
    char list[512];
    if (strlen(s) >= sizeof(list)) {
        reject(r, "carriers '%.40s...' is too long", s);
        return;
    }
    snprintf(list, sizeof(list), "%s", s);
    char *save = NULL;
    for (char *tok = strtok_r(list, ",;/+\n", &save); tok && !r->reason;
         tok = strtok_r(NULL, ",;/+\n", &save)) {
        /* " và " / " and " inside a part */
        for (;;) {
            char *a = strstr(tok, " và ");
            char *b = strcasestr(tok, " and ");
            char *Va = strstr(tok, " Và ");
            char *cut = a;
            size_t skip = strlen(" và ");
            if (Va && (!cut || Va < cut))
                cut = Va;
            if (b && (!cut || b < cut)) {
                cut = b;
                skip = strlen(" and ");
            }
            if (!cut)
                break;
            *cut = '\0';
            add_carrier(R, r, tok);
            tok = cut + skip;
        }
        add_carrier(R, r, tok);
    }
}

static void parse_row(struct rrun *R, const char *const *v, double gx, double gy, int hp,
                      struct rrow *r)
{
    r->place = r->note = r->commune_text = NO_TEXT;
    r->people = r->households = -1;

    /* position */
    char why[160];
    r->has_xy = ingest_row_position(&R->m, R->use_geometry, R->s->swapped_xy, v, gx, gy, hp, &r->x,
                                    &r->y, why, sizeof(why));
    if (!r->has_xy)
        reject(r, "%s", why);

    /* technology: one per row, required */
    const char *tech = val(R, v, IF_TECH);
    if (!tech)
        reject(r, "no technology (2G, 3G, 4G or 5G)");
    else if (ingest_parse_tech(tech, r->tech) != LS_OK)
        reject(r, "technology '%.30s' is not one of 2G, 3G, 4G, 5G (one per row)", tech);

    /* symptom: no_signal when the row says nothing */
    const char *sym = val(R, v, IF_SYMPTOM);
    if (!sym) {
        r->symptom = "no_signal";
        r->no_symptom = 1;
    } else if (ingest_parse_symptom(sym, &r->symptom) != LS_OK) {
        reject(r,
               "symptom '%.40s' is not one of: mất sóng / no_signal, sóng yếu / weak_signal, "
               "chậm / slow_data",
               sym);
    }

    const char *car = val(R, v, IF_OPERATOR);
    if (car)
        parse_carriers(R, r, car);

    const char *pe = val(R, v, IF_PEOPLE), *ho = val(R, v, IF_HOUSEHOLDS);
    if (pe)
        r->people = whole(r, pe, "people", 10000000);
    if (ho)
        r->households = whole(r, ho, "households", 2000000);

    r->place = keep_text(R, r, val(R, v, IF_PLACE), "the place", 200);
    r->note = keep_text(R, r, val(R, v, IF_NOTE), "the note", 4000);
    r->commune_text = keep_text(R, r, val(R, v, IF_COMMUNE), "the commune", 150);
}

/* ---------------------------------------------------------- the passes */

static ls_status read_rows(struct rrun *R)
{
    const char *const *v;
    double gx = 0, gy = 0;
    int hp = 0, more;
    long long rowno;
    while ((more = ingest_reader_next(R->rd, &v, &gx, &gy, &hp, &rowno, R->err, R->errlen)) == 1) {
        if (R->n == INGEST_REPORTS_MAX_ROWS) {
            snprintf(R->err, R->errlen,
                     "a report file may hold at most %d rows: split it into several files",
                     INGEST_REPORTS_MAX_ROWS);
            return LS_ETOOBIG;
        }
        if (R->n == R->cap) {
            size_t ncap = R->cap ? R->cap * 2 : 256;
            struct rrow *nr = realloc(R->rows, ncap * sizeof(*nr));
            if (!nr) {
                snprintf(R->err, R->errlen, "out of memory reading the rows");
                return LS_ENOMEM;
            }
            R->rows = nr;
            R->cap = ncap;
        }
        struct rrow *r = &R->rows[R->n++];
        memset(r, 0, sizeof(*r));
        r->rowno = rowno;
        parse_row(R, v, gx, gy, hp, r);
        r->raw = R->raw.len;
        if (ingest_csv_append(&R->raw, v, R->ncols) != LS_OK) {
            snprintf(R->err, R->errlen, "the file is too large to keep its rows' values");
            return LS_ETOOBIG;
        }
        R->s->rows++;
    }
    return more < 0 ? LS_EINVAL : LS_OK;
}

static ls_status transform(struct rrun *R)
{
    if (R->n == 0)
        return LS_OK;
    double *xs = malloc(R->n * sizeof(double)), *ys = malloc(R->n * sizeof(double));
    ls_status st = LS_OK;
    if (!xs || !ys) {
        snprintf(R->err, R->errlen, "out of memory");
        st = LS_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < R->n; i++) {
        xs[i] = R->rows[i].has_xy ? R->rows[i].x : 0;
        ys[i] = R->rows[i].has_xy ? R->rows[i].y : 0;
    }
    if (geo_crs_to_wgs84(R->crs, xs, ys, R->n) != LS_OK) {
        snprintf(R->err, R->errlen, "the coordinates could not be transformed");
        st = LS_EINVAL;
        goto out;
    }
    for (size_t i = 0; i < R->n; i++) {
        struct rrow *r = &R->rows[i];
        if (!r->has_xy)
            continue;
        if (!isfinite(xs[i]) || !isfinite(ys[i]) || fabs(xs[i]) > 180 || fabs(ys[i]) > 90) {
            reject(r, "position %.8g, %.8g cannot be transformed to WGS 84", r->y, r->x);
            r->has_xy = 0;
            continue;
        }
        r->x = xs[i];
        r->y = ys[i];
    }
out:
    free(xs);
    free(ys);
    return st;
}

/* Every position's province, as POST /v1/reports finds it (unit_at), in one
 * query; a row elsewhere than the account's province is rejected with the
 * province it is in.  The polygon containing the point is unit_at's own
 * answer and is looked up first, for all rows at once (PostGIS prepares
 * each polygon once); only rows in no polygon (a coast, an island pier) go
 * through unit_at's nearest-within-2-km search, which costs ~15 ms a row on
 * the full-resolution boundaries. */
static ls_status locate(struct rrun *R)
{
    buf lons, lats;
    buf_init(&lons, 0);
    buf_init(&lats, 0);
    size_t *idx = malloc((R->n + 1) * sizeof(size_t));
    size_t k = 0;
    ls_status st = idx ? LS_OK : LS_ENOMEM;
    buf_puts(&lons, "{");
    buf_puts(&lats, "{");
    for (size_t i = 0; i < R->n && st == LS_OK; i++) {
        struct rrow *r = &R->rows[i];
        if (r->reason || !r->has_xy)
            continue;
        buf_printf(&lons, "%s%.8f", k ? "," : "", r->x);
        st = buf_printf(&lats, "%s%.8f", k ? "," : "", r->y);
        idx[k++] = i;
    }
    buf_puts(&lons, "}");
    if (st == LS_OK)
        st = buf_puts(&lats, "}");
    PGresult *res = NULL;
    if (st == LS_OK && k > 0) {
        const char *p[] = {lons.data, lats.data};
        st =
            db_query(R->c, "reports import: locate",
                     "WITH t AS (SELECT i, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS g"
                     "  FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS t(lon, lat, i)),"
                     " hit AS MATERIALIZED (SELECT t.i, t.g, (SELECT a.code FROM admin_units a"
                     "  WHERE a.level = 'province' AND a.geom IS NOT NULL"
                     "  AND a.valid_from <= current_date"
                     "  AND (a.valid_to IS NULL OR a.valid_to > current_date)"
                     "  AND ST_Intersects(a.geom, t.g) ORDER BY a.code LIMIT 1) AS code FROM t),"
                     " u AS MATERIALIZED (SELECT i, coalesce(code, unit_at(g, current_date,"
                     "  'province')) AS code FROM hit)"
                     " SELECT u.i, a.code, a.name FROM u LEFT JOIN admin_units a"
                     "  ON a.level = 'province' AND a.valid_to IS NULL AND a.code = u.code"
                     " ORDER BY u.i",
                     2, p, &res, NULL, 0);
        if (st == LS_OK && (size_t)PQntuples(res) != k) {
            log_error("reports import: locate returned %d rows for %zu", PQntuples(res), k);
            st = LS_EINTERNAL;
        }
        for (size_t j = 0; st == LS_OK && j < k; j++) {
            struct rrow *r = &R->rows[idx[j]];
            if (PQgetisnull(res, (int)j, 1)) {
                reject(r, "position %.6f, %.6f is not in Vietnam", r->y, r->x);
                continue;
            }
            snprintf(r->prov, sizeof(r->prov), "%s", PQgetvalue(res, (int)j, 1));
            if (strcmp(r->prov, R->o->province) != 0)
                reject(r,
                       "position %.6f, %.6f is in province %s (%s), outside this account's "
                       "area (province %s)",
                       r->y, r->x, r->prov, PQgetvalue(res, (int)j, 2), R->o->province);
        }
        PQclear(res);
    }
    if (st != LS_OK && !*R->err)
        snprintf(R->err, R->errlen, "the rows' places could not be located");
    buf_free(&lons);
    buf_free(&lats);
    free(idx);
    return st;
}

/* "xa_tan_lap" -> "tan_lap": the name without the kind of unit. */
static void strip_kind(const char *folded, char *out, size_t len)
{
    static const char *const kinds[] = {"xa_",       "phuong_",  "dac_khu_",
                                        "thi_tran_", "commune_", "ward_"};
    for (size_t i = 0; i < LS_ARRAY_LEN(kinds); i++) {
        size_t n = strlen(kinds[i]);
        if (strncmp(folded, kinds[i], n) == 0 && folded[n]) {
            snprintf(out, len, "%s", folded + n);
            return;
        }
    }
    snprintf(out, len, "%s", folded);
}

/* The commune column: a code or a name (with or without "Xã"/"Phường",
 * diacritics, case) of a commune of the account's province in force; a
 * commune-bound account may only name its own.  A blank cell takes the
 * account's commune (or none). */
static ls_status communes(struct rrun *R)
{
    int any = 0;
    for (size_t i = 0; i < R->n && !any; i++)
        any = !R->rows[i].reason && R->rows[i].commune_text != NO_TEXT;
    struct commune *list = NULL;
    int nl = 0;
    PGresult *res = NULL;
    if (any) {
        const char *p[] = {R->o->province};
        ls_status st = db_query(R->c, "reports import: communes",
                                "SELECT code, name FROM admin_units WHERE level = 'commune'"
                                " AND valid_to IS NULL AND province_code = $1 ORDER BY code",
                                1, p, &res, NULL, 0);
        if (st != LS_OK) {
            snprintf(R->err, R->errlen, "the province's communes could not be read");
            return st;
        }
        nl = PQntuples(res) < MAX_COMMUNES ? PQntuples(res) : MAX_COMMUNES;
        list = calloc((size_t)nl + 1, sizeof(*list));
        if (!list) {
            PQclear(res);
            snprintf(R->err, R->errlen, "out of memory");
            return LS_ENOMEM;
        }
        for (int i = 0; i < nl; i++) {
            snprintf(list[i].code, sizeof(list[i].code), "%s", PQgetvalue(res, i, 0));
            ingest_fold(PQgetvalue(res, i, 1), list[i].full, sizeof(list[i].full));
            strip_kind(list[i].full, list[i].bare, sizeof(list[i].bare));
        }
        PQclear(res);
    }
    for (size_t i = 0; i < R->n; i++) {
        struct rrow *r = &R->rows[i];
        if (r->reason)
            continue;
        const char *t = text_at(R, r->commune_text);
        if (!t) {
            snprintf(r->commune, sizeof(r->commune), "%s", R->o->commune ? R->o->commune : "");
            continue;
        }
        int found = -1;
        size_t tl = strlen(t);
        if (tl <= 5 && strspn(t, "0123456789") == tl) {
            char code[8];
            snprintf(code, sizeof(code), "%05d", atoi(t)); /* Excel drops the leading zeros */
            for (int k = 0; k < nl && found < 0; k++)
                if (strcmp(list[k].code, code) == 0)
                    found = k;
        } else {
            char full[160], bare[160];
            ingest_fold(t, full, sizeof(full));
            strip_kind(full, bare, sizeof(bare));
            int nb = 0;
            for (int k = 0; k < nl && found < 0; k++)
                if (strcmp(list[k].full, full) == 0)
                    found = k;
            for (int k = 0; k < nl && found < 0; k++)
                if (strcmp(list[k].bare, bare) == 0)
                    nb++;
            if (found < 0 && nb > 1) {
                reject(r, "commune '%.60s' names %d communes of province %s: give its code", t, nb,
                       R->o->province);
                continue;
            }
            for (int k = 0; k < nl && found < 0; k++)
                if (strcmp(list[k].bare, bare) == 0)
                    found = k;
        }
        if (found < 0) {
            reject(r, "commune '%.60s' is not a commune of province %s", t, R->o->province);
            continue;
        }
        if (R->o->commune && strcmp(list[found].code, R->o->commune) != 0) {
            reject(r, "commune '%.60s' (%s) is outside this account's area (commune %s)", t,
                   list[found].code, R->o->commune);
            continue;
        }
        snprintf(r->commune, sizeof(r->commune), "%s", list[found].code);
    }
    free(list);
    return LS_OK;
}

/* The PostgreSQL array literal of the row's carrier codes, sorted. */
static void carriers_literal(const struct rrun *R, const struct rrow *r, char *out, size_t len)
{
    const char *codes[MAX_ROW_CARRIERS];
    int n = r->ncar;
    for (int i = 0; i < n; i++)
        codes[i] = R->carriers[r->car[i]].code;
    for (int i = 1; i < n; i++) /* insertion sort: a handful at most */
        for (int j = i; j > 0 && strcmp(codes[j - 1], codes[j]) > 0; j--) {
            const char *t = codes[j];
            codes[j] = codes[j - 1];
            codes[j - 1] = t;
        }
    size_t used = (size_t)snprintf(out, len, "{");
    for (int i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", codes[i]);
    if (used < len)
        snprintf(out + used, len - used, "}");
}

/* The content key: what makes two rows the same report. */
static void content_key(const struct rrun *R, struct rrow *r)
{
    char lit[MAX_ROW_CARRIERS * 34 + 4];
    carriers_literal(R, r, lit, sizeof(lit));
    buf b;
    buf_init(&b, 0);
    const char *pl = text_at(R, r->place), *no = text_at(R, r->note);
    buf_printf(&b, "%.7f|%.7f|%s|%s|%s|%s|%lld|%lld|%s|", r->x, r->y, r->tech, lit, r->symptom,
               r->commune, r->people, r->households, pl ? pl : "");
    buf_puts(&b, no ? no : "");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdn = 0;
    EVP_Digest(b.data ? b.data : "", b.len, md, &mdn, EVP_sha256(), NULL);
    buf_free(&b);
    static const char hex[] = "0123456789abcdef";
    memcpy(r->key, "file:", 5);
    for (int i = 0; i < 16; i++) {
        r->key[5 + 2 * i] = hex[md[i] >> 4];
        r->key[6 + 2 * i] = hex[md[i] & 15];
    }
    r->key[37] = '\0';
}

struct keyref {
    const char *key;
    size_t i;
};

static int cmp_keyref(const void *a, const void *b)
{
    const struct keyref *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Marks rows repeated within the file and rows this account filed before. */
static ls_status duplicates(struct rrun *R)
{
    struct keyref *kr = malloc((R->n + 1) * sizeof(*kr));
    if (!kr) {
        snprintf(R->err, R->errlen, "out of memory");
        return LS_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < R->n; i++) {
        if (R->rows[i].reason)
            continue;
        content_key(R, &R->rows[i]);
        kr[k].key = R->rows[i].key;
        kr[k].i = i;
        k++;
    }
    qsort(kr, k, sizeof(*kr), cmp_keyref);
    buf lit;
    buf_init(&lit, 0);
    buf_puts(&lit, "{");
    size_t nk = 0;
    for (size_t j = 0; j < k; j++) {
        if (j > 0 && strcmp(kr[j].key, kr[j - 1].key) == 0) {
            R->rows[kr[j].i].dup = 1;
            continue;
        }
        buf_printf(&lit, "%s%s", nk++ ? "," : "", kr[j].key);
    }
    ls_status st = buf_puts(&lit, "}");
    char account[32];
    snprintf(account, sizeof(account), "%lld", R->o->account_id);
    PGresult *res = NULL;
    if (st == LS_OK && nk > 0) {
        const char *p[] = {account, lit.data};
        st = db_query(R->c, "reports import: filed before",
                      "SELECT client_ref FROM reports WHERE account_id = $1::bigint"
                      " AND client_ref = ANY ($2::text[])",
                      2, p, &res, NULL, 0);
        for (int q = 0; st == LS_OK && q < PQntuples(res); q++) {
            struct keyref want = {PQgetvalue(res, q, 0), 0};
            size_t lo = 0, hi = k; /* the first entry with this key */
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (strcmp(kr[mid].key, want.key) < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (; lo < k && strcmp(kr[lo].key, want.key) == 0; lo++)
                R->rows[kr[lo].i].dup = 1;
        }
        PQclear(res);
    }
    if (st != LS_OK)
        snprintf(R->err, R->errlen, "the reports filed before could not be read");
    buf_free(&lit);
    free(kr);
    return st;
}

/* Files the accepted rows that are new, in the file's order. */
static ls_status file_rows(struct rrun *R)
{
    char account[32], batch[32];
    snprintf(account, sizeof(account), "%lld", R->o->account_id);
    snprintf(batch, sizeof(batch), "%lld", R->s->batch);
    for (size_t i = 0; i < R->n; i++) {
        struct rrow *r = &R->rows[i];
        if (r->reason)
            continue;
        R->s->accepted++;
        R->n_default_symptom += r->no_symptom;
        if (r->dup) {
            R->s->duplicates++;
            continue;
        }
        long long people = r->people;
        if (people < 0 && r->households >= 0) {
            people = llround((double)r->households * INGEST_PERSONS_PER_HOUSEHOLD);
            R->n_from_households++;
        }
        char lon[32], lat[32], pe[24], ho[24], row[24], lit[MAX_ROW_CARRIERS * 34 + 4];
        snprintf(lon, sizeof(lon), "%.8f", r->x);
        snprintf(lat, sizeof(lat), "%.8f", r->y);
        snprintf(pe, sizeof(pe), "%lld", people);
        snprintf(ho, sizeof(ho), "%lld", r->households);
        snprintf(row, sizeof(row), "%lld", r->rowno);
        carriers_literal(R, r, lit, sizeof(lit));
        const char *p[] = {account,
                           r->prov,
                           *r->commune ? r->commune : NULL,
                           lon,
                           lat,
                           r->tech,
                           lit,
                           r->symptom,
                           text_at(R, r->place),
                           people >= 0 ? pe : NULL,
                           r->households >= 0 ? ho : NULL,
                           text_at(R, r->note),
                           r->key,
                           batch,
                           row};
        PGresult *res = NULL;
        char msg[256];
        ls_status st = db_query(
            R->c, "reports import: file",
            "SELECT new_report, joined FROM report_file($1::bigint, $2, $3,"
            " $4::float8, $5::float8, $6, $7::text[], $8, $9, $10::int,"
            " $11::int, $12, 'file', $13, $14::bigint, $15::int, " MERGE_RADIUS_M "::float8)",
            15, p, &res, msg, sizeof(msg));
        if (st != LS_OK) {
            snprintf(R->err, R->errlen, "row %lld could not be filed%s%s", r->rowno,
                     *msg ? ": " : "", msg);
            return st;
        }
        int ok = !PQgetisnull(res, 0, 0);
        int joined = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
        PQclear(res);
        if (!ok) { /* a carrier that vanished since the list was read */
            snprintf(R->err, R->errlen, "row %lld names a carrier that no longer exists", r->rowno);
            return LS_ECONFLICT;
        }
        R->s->reports++;
        if (joined)
            R->s->points_joined++;
        else
            R->s->points_new++;
    }
    return LS_OK;
}

ls_status ingest_reports(PGconn *c, const ingest_report_opts *o, ingest_report_summary *s,
                         char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    struct rrun R;
    memset(&R, 0, sizeof(R));
    R.o = o;
    R.s = s;
    R.c = c;
    R.err = err;
    R.errlen = errlen;
    buf_init(&R.raw, TEXT_CAP);
    buf_init(&R.text, TEXT_CAP);
    *err = '\0';
    ls_status st = LS_OK;
    PGresult *res = NULL;

    if (!o->province || !*o->province || o->account_id <= 0) {
        snprintf(err, errlen, "reports are filed by a locality account");
        st = LS_EINVAL;
        goto out;
    }
    if ((st = ingest_reader_open(o->path, &R.rd, err, errlen)) != LS_OK)
        goto out;
    R.cols = ingest_reader_columns(R.rd, &R.ncols);
    ingest_rejects_init(&R.rej, o->reject_path, R.cols, R.ncols);
    if ((st = ingest_source_mapping(R.rd, INGEST_REPORTS, o->maps, o->nmaps, &R.m, err, errlen)) !=
        LS_OK)
        goto out;
    R.use_geometry = ingest_source_use_geometry(R.rd, &R.m);
    int has_pos = R.use_geometry || (R.m.col[IF_LAT] >= 0 && R.m.col[IF_LON] >= 0) ||
                  (R.m.col[IF_X] >= 0 && R.m.col[IF_Y] >= 0);
    if (!has_pos || R.m.col[IF_TECH] < 0) {
        size_t n = (size_t)snprintf(err, errlen, "missing columns: %s%s%s. Columns in the file:",
                                    has_pos ? ""
                                            : "a position (Kinh độ and Vĩ độ, lon and lat, "
                                              "or x and y)",
                                    !has_pos && R.m.col[IF_TECH] < 0 ? ", " : "",
                                    R.m.col[IF_TECH] < 0 ? "technology (Công nghệ)" : "");
        for (int i = 0; i < R.ncols && n < errlen; i++)
            n += (size_t)snprintf(err + n, errlen - n, "%s %s", i ? "," : "", R.cols[i]);
        if (n < errlen)
            snprintf(err + n, errlen - n, ". Name them with --map FIELD=COLUMN");
        st = LS_EINVAL;
        goto out;
    }
    if ((st = ingest_source_carriers(c, R.carriers, MAX_CARRIERS, &R.ncarriers, err, errlen)) !=
        LS_OK)
        goto out;
    if ((st = ingest_source_crs(R.rd, &R.m, R.use_geometry, o->crs, &R.crs, s->crs, sizeof(s->crs),
                                &s->swapped_xy, err, errlen)) != LS_OK)
        goto out;

    /* Every row's verdict before anything is written. */
    double t0 = wall();
    if ((st = read_rows(&R)) != LS_OK)
        goto out;
    log_debug("reports import: read %lld rows %.3f s", s->rows, wall() - t0);
    if (s->rows == 0) {
        snprintf(err, errlen, "%s has no rows", o->source_name ? o->source_name : o->path);
        st = LS_EINVAL;
        goto out;
    }
    t0 = wall();
    if ((st = transform(&R)) != LS_OK || (st = locate(&R)) != LS_OK || (st = communes(&R)) != LS_OK)
        goto out;
    log_debug("reports import: transformed, located, communes %.3f s", wall() - t0);
    /* One import per account at a time, so that "filed before" stays true
     * until this one commits. */
    char account[32];
    snprintf(account, sizeof(account), "%lld", o->account_id);
    const char *pa[] = {account};
    if ((st = db_query(c, "reports import: lock",
                       "SELECT pg_advisory_xact_lock(hashtextextended('reports-import/' || $1, 0))",
                       1, pa, NULL, NULL, 0)) != LS_OK ||
        (st = duplicates(&R)) != LS_OK)
        goto out;
    for (size_t i = 0; i < R.n; i++) {
        struct rrow *r = &R.rows[i];
        if (!r->reason)
            continue;
        if ((st = ingest_rejects_add(&R.rej, r->rowno, r->reason, R.raw.data + r->raw, err,
                                     errlen)) != LS_OK)
            goto out;
        s->rejected++;
    }

    /* The writes: one batch, every new row filed as POST /v1/reports files it. */
    const char *pb[] = {account, o->province, o->source_name ? o->source_name : o->path};
    st = db_query(c, "reports import: batch",
                  "INSERT INTO ingest_batches (kind, account_id, province_code, source_name)"
                  " VALUES ('reports', $1::bigint, $2, $3) RETURNING id",
                  3, pb, &res, NULL, 0);
    if (st != LS_OK) {
        snprintf(err, errlen, "the batch could not be started");
        goto out;
    }
    s->batch = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    t0 = wall();
    if ((st = file_rows(&R)) != LS_OK)
        goto out;
    log_debug("reports import: filed %lld reports %.3f s", s->reports, wall() - t0);

    if (R.rej.n > 0)
        snprintf(s->reject_file, sizeof(s->reject_file), "%s", o->reject_path);
    snprintf(s->notes, sizeof(s->notes),
             "read with %s in %s%s; symptom no_signal for %lld accepted rows that give none; "
             "people from households x %.1f for %lld filed rows",
             ingest_reader_driver(R.rd), s->crs,
             s->swapped_xy ? "; X and Y were swapped (northing given as X)" : "",
             R.n_default_symptom, INGEST_PERSONS_PER_HOUSEHOLD, R.n_from_households);
    char bid[32];
    snprintf(bid, sizeof(bid), "%lld", s->batch);
    char *json = ingest_report_summary_json(s, NULL);
    const char *ps[] = {bid, json ? json : "{}", s->notes};
    st = db_query(c, "reports import: finish",
                  "UPDATE ingest_batches SET status = 'committed', finished_at = now(),"
                  " summary = $2::jsonb || jsonb_build_object('notes', $3::text) WHERE id = $1",
                  3, ps, NULL, NULL, 0);
    free(json);
    if (st != LS_OK) {
        snprintf(err, errlen, "the batch could not be finished");
        goto out;
    }
    st = ingest_rejects_publish(&R.rej, err, errlen);
out:
    if (st != LS_OK) {
        ingest_rejects_discard(&R.rej);
        s->reject_file[0] = '\0';
    }
    geo_crs_free(R.crs);
    ingest_reader_close(R.rd);
    buf_free(&R.raw);
    buf_free(&R.text);
    free(R.rows);
    return st;
}

char *ingest_report_summary_json(const ingest_report_summary *s, const char *reject_url)
{
    buf b;
    buf_init(&b, 0);
    buf_printf(&b,
               "{\"batch\":%lld,\"rows\":%lld,\"accepted\":%lld,\"rejected\":%lld,"
               "\"duplicates\":%lld,\"reports\":%lld,\"points_new\":%lld,\"points_joined\":%lld,"
               "\"reject_file\":",
               s->batch, s->rows, s->accepted, s->rejected, s->duplicates, s->reports,
               s->points_new, s->points_joined);
    const char *rf = reject_url ? reject_url : s->reject_file;
    if (*rf)
        buf_json_str(&b, rf);
    else
        buf_puts(&b, "null");
    buf_puts(&b, "}");
    return buf_detach(&b, NULL);
}
