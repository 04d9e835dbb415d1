/*
 * source.c — see source.h.
 */
#include "source.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../geo/db.h"

#define SAMPLE 200

ls_status ingest_source_carriers(PGconn *c, ingest_carrier *list, int max, int *n, char *err,
                                 size_t errlen)
{
    PGresult *r = NULL;
    *n = 0;
    ls_status st = db_query(c, "ingest: carriers",
                            "SELECT code, name, array_to_string(mcc_mnc, ' '), num FROM carriers"
                            " ORDER BY code",
                            0, NULL, &r, NULL, 0);
    if (st != LS_OK) {
        snprintf(err, errlen, "the carriers list could not be read");
        return st;
    }
    *n = PQntuples(r) < max ? PQntuples(r) : max;
    for (int i = 0; i < *n; i++) {
        ingest_carrier *k = &list[i];
        memset(k, 0, sizeof(*k));
        snprintf(k->code, sizeof(k->code), "%s", PQgetvalue(r, i, 0));
        snprintf(k->name, sizeof(k->name), "%s", PQgetvalue(r, i, 1));
        k->num = atoi(PQgetvalue(r, i, 3));
        char codes[256];
        snprintf(codes, sizeof(codes), "%s", PQgetvalue(r, i, 2));
        char *save = NULL;
        for (char *tok = strtok_r(codes, " ", &save); tok && k->n_mcc_mnc < 8;
             tok = strtok_r(NULL, " ", &save))
            snprintf(k->mcc_mnc[k->n_mcc_mnc++], sizeof(k->mcc_mnc[0]), "%s", tok);
    }
    PQclear(r);
    return LS_OK;
}

int ingest_value_blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s != '\0' && *s != '-' && *s != 'n' && *s != 'N')
        return 0; /* most values: no word below starts otherwise */
    return *s == '\0' || strcasecmp(s, "-") == 0 || strcasecmp(s, "n/a") == 0 ||
           strcasecmp(s, "na") == 0 || strcasecmp(s, "null") == 0 || strcasecmp(s, "none") == 0;
}

const char *ingest_field_value(const ingest_mapping *m, const char *const *v, ingest_field f)
{
    int col = m->col[f];
    if (col < 0 || ingest_value_blank(v[col]))
        return NULL;
    return v[col];
}

void ingest_reject_v(const char **reason, char *why, size_t len, const char *fmt, va_list ap)
{
    if (*reason)
        return; /* the first reason is the one reported */
    vsnprintf(why, len, fmt, ap);
    *reason = why;
}

int ingest_row_position(const ingest_mapping *m, int use_geometry, int swapped,
                        const char *const *v, double gx, double gy, int hp, double *x, double *y,
                        char *why, size_t len)
{
    int ok = 0;
    *x = gx;
    *y = gy;
    if (use_geometry) {
        ok = hp;
        if (!hp)
            snprintf(why, len, "no position (the feature has no point geometry)");
    } else {
        ingest_field fx = m->col[IF_LON] >= 0 ? IF_LON : IF_X;
        ingest_field fy = m->col[IF_LAT] >= 0 ? IF_LAT : IF_Y;
        const char *sx = ingest_field_value(m, v, fx), *sy = ingest_field_value(m, v, fy);
        if (!sx || !sy)
            snprintf(why, len, "missing position (%s, %s)", ingest_field_name(fy),
                     ingest_field_name(fx));
        else if (ingest_parse_number(sx, x) != LS_OK || ingest_parse_number(sy, y) != LS_OK)
            snprintf(why, len, "position '%.30s', '%.30s' is not a pair of numbers", sy, sx);
        else
            ok = 1;
    }
    if (swapped) {
        double t = *x;
        *x = *y;
        *y = t;
    }
    return ok;
}

ls_status ingest_source_mapping(ingest_reader *rd, ingest_kind kind, const char *const *maps,
                                int nmaps, ingest_mapping *m, char *err, size_t errlen)
{
    ls_status st = LS_OK;
    int ncols = 0;
    const char *const *cols = ingest_reader_columns(rd, &ncols);
    unsigned char *filled = calloc((size_t)ncols + 1, 1);
    const char **names = calloc((size_t)ncols + 1, sizeof(char *));
    if (!filled || !names) {
        st = LS_ENOMEM;
        goto out;
    }
    const char *const *v;
    double gx, gy;
    int hp, n = 0;
    long long rowno;
    while (n < SAMPLE && ingest_reader_next(rd, &v, &gx, &gy, &hp, &rowno, err, errlen) == 1) {
        for (int i = 0; i < ncols; i++)
            filled[i] |= !ingest_value_blank(v[i]);
        n++;
    }
    ingest_reader_rewind(rd);
    int gpx = strcmp(ingest_reader_driver(rd), "GPX") == 0;
    for (int i = 0; i < ncols; i++) {
        names[i] = cols[i];
        if (gpx && strncmp(names[i], "ogr_", 4) == 0)
            names[i] += 4;
        if (n > 0 && !filled[i])
            names[i] = "";
    }
    st = ingest_mapping_guess_kind(kind, names, ncols, maps, nmaps, m, err, errlen);
    if (st == LS_EINVAL && nmaps > 0) /* an override may name an empty column */
        st = ingest_mapping_guess_kind(kind, cols, ncols, maps, nmaps, m, err, errlen);
out:
    free(filled);
    free(names);
    return st;
}

int ingest_source_use_geometry(ingest_reader *rd, const ingest_mapping *m)
{
    int has_lonlat = m->col[IF_LON] >= 0 && m->col[IF_LAT] >= 0;
    int has_xy = m->col[IF_X] >= 0 && m->col[IF_Y] >= 0;
    int named = m->from_override[IF_LON] || m->from_override[IF_LAT] || m->from_override[IF_X] ||
                m->from_override[IF_Y];
    int geom = ingest_reader_has_geometry(rd);
    if (geom && !named)
        return 1;
    return geom && !has_lonlat && !has_xy;
}

ls_status ingest_source_crs(ingest_reader *rd, const ingest_mapping *m, int use_geometry,
                            const char *crs_opt, geo_crs **out, char *name, size_t namelen,
                            int *swapped, char *err, size_t errlen)
{
    *out = NULL;
    *swapped = 0;
    char def[4096] = "";
    int from_file = 0;
    if (crs_opt) {
        if (geo_crs_resolve(crs_opt, def, sizeof(def), err, errlen) != LS_OK)
            return LS_EINVAL;
    } else if (use_geometry && ingest_reader_crs(rd)) {
        snprintf(def, sizeof(def), "%s", ingest_reader_crs(rd));
        from_file = 1;
    }

    double xs[SAMPLE], ys[SAMPLE];
    size_t n = 0;
    const char *const *v;
    double gx, gy;
    int hp;
    long long rowno;
    while (n < SAMPLE && ingest_reader_next(rd, &v, &gx, &gy, &hp, &rowno, err, errlen) == 1) {
        double x, y;
        if (use_geometry) {
            if (!hp)
                continue;
            x = gx;
            y = gy;
        } else {
            int cx = m->col[IF_LON] >= 0 ? IF_LON : IF_X;
            int cy = m->col[IF_LAT] >= 0 ? IF_LAT : IF_Y;
            if (m->col[cx] < 0 || m->col[cy] < 0 ||
                ingest_parse_number(v[m->col[cx]], &x) != LS_OK ||
                ingest_parse_number(v[m->col[cy]], &y) != LS_OK)
                continue;
        }
        xs[n] = x;
        ys[n] = y;
        n++;
    }
    ingest_reader_rewind(rd);

    if (!*def) {
        if (n > 0 && geo_crs_looks_projected(xs, ys, n)) {
            snprintf(err, errlen,
                     "the coordinates are projected (values like %.0f, %.0f) but the file does "
                     "not say in which CRS: name it with --crs, e.g. --crs VN2000-UTM48, "
                     "VN2000-UTM49, VN2000-TM3-105-45 or EPSG:n",
                     xs[0], ys[0]);
            return LS_EINVAL;
        }
        snprintf(def, sizeof(def), "EPSG:4326");
    }
    if (geo_crs_open(def, out, err, errlen) != LS_OK)
        return LS_EINVAL;
    snprintf(name, namelen, "%s",
             from_file ? geo_crs_name(*out) : (crs_opt ? crs_opt : "EPSG:4326"));
    if (n > 0 && geo_crs_detect_swap(*out, xs, ys, n))
        *swapped = 1;
    return LS_OK;
}

ls_status ingest_csv_append(buf *b, const char *const *v, int n)
{
    ls_status st = LS_OK;
    for (int i = 0; i < n && st == LS_OK; i++) {
        const char *s = v[i];
        if (i)
            st = buf_append(b, ",", 1);
        if (st != LS_OK)
            break;
        if (!strpbrk(s, ",\"\r\n")) {
            st = buf_puts(b, s);
            continue;
        }
        st = buf_append(b, "\"", 1);
        for (; *s && st == LS_OK; s++) {
            if (*s == '"')
                st = buf_append(b, "\"", 1);
            if (st == LS_OK)
                st = buf_append(b, s, 1);
        }
        if (st == LS_OK)
            st = buf_append(b, "\"", 1);
    }
    if (st == LS_OK)
        st = buf_append(b, "", 1);
    return st;
}

/* A CSV field: quoted when it must be. */
static void put_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void ingest_rejects_init(ingest_rejects *j, const char *path, const char *const *cols, int ncols)
{
    memset(j, 0, sizeof(*j));
    j->path = path;
    j->cols = cols;
    j->ncols = ncols;
}

ls_status ingest_rejects_add(ingest_rejects *j, long long row, const char *reason, const char *raw,
                             char *err, size_t errlen)
{
    if (!j->f) {
        snprintf(j->tmp, sizeof(j->tmp), "%s.part", j->path ? j->path : "rejects.csv");
        j->f = fopen(j->tmp, "w");
        if (!j->f) {
            snprintf(err, errlen, "cannot write the reject file %s", j->tmp);
            return LS_EIO;
        }
        fputs("row,reason", j->f);
        for (int i = 0; i < j->ncols; i++) {
            fputc(',', j->f);
            put_field(j->f, j->cols[i]);
        }
        fputc('\n', j->f);
    }
    fprintf(j->f, "%lld,", row);
    fputc('"', j->f);
    for (const char *p = reason; *p; p++) {
        if (*p == '"')
            fputc('"', j->f);
        fputc(*p, j->f);
    }
    fprintf(j->f, "\",%s\n", raw ? raw : "");
    j->n++;
    return LS_OK;
}

ls_status ingest_rejects_publish(ingest_rejects *j, char *err, size_t errlen)
{
    if (!j->f)
        return LS_OK;
    int bad = fclose(j->f) != 0;
    j->f = NULL;
    if (bad) {
        snprintf(err, errlen, "the reject file could not be written");
        return LS_EIO;
    }
    if (rename(j->tmp, j->path) != 0) {
        snprintf(err, errlen, "the reject file could not be written to %s", j->path);
        return LS_EIO;
    }
    j->published = 1;
    return LS_OK;
}

void ingest_rejects_discard(ingest_rejects *j)
{
    if (j->f)
        fclose(j->f);
    j->f = NULL;
    if (*j->tmp)
        unlink(j->tmp);
    if (j->published && j->path)
        unlink(j->path);
    j->published = 0;
}
