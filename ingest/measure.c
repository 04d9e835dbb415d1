/*
 * measure.c — the measurement ingest pipeline; see measure.h.
 *
 * The reader (the caller's thread) takes rows from GDAL in chunks: each
 * row's values are parsed and checked at once, the chunk's coordinates go
 * through PROJ together, rejected rows go to the reject file and accepted
 * ones into a run.  A full run (65,536 rows) is sorted by the unique key
 * and handed to the sender thread, which COPYs it (binary) into the month's
 * partition while the reader fills the other run: reading, sending and the
 * server's inserts overlap on two cores, and the key's btree takes each run
 * in order.  Each run's level-16 parts go sorted to a temporary file; at the
 * end they are merged into the village-level cells (stored in blocks), and
 * the coarse cells are summed in the same merge.  Memory is bounded by two
 * runs and a block per run at the merge, not by the file.
 */
#include "measure.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
/* MD5() itself: the dedupe key of every stored row is an MD5, and the EVP
 * interface cost twice the hash (a context and a lookup per call). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/md5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "../geo/area.h"
#include "in_ogr.h"
#include "mapping.h"
#include "source.h"
#include "../api/buf.h"
#include "../api/log.h"
#include "../geo/crs.h"
#include "../geo/db.h"
#include "../geo/tile.h"

#define CHUNK 4096
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
    unsigned char device[8]; /* hashed device id, when has_device */
    int has_device;
    char test_id[65];   /* the source's own test id, "" when none */
    const char *reason; /* why it is rejected, NULL when accepted so far */
    char why[160];      /* reason with details */
    size_t raw;         /* offset of the original values (CSV) in the chunk buffer */
};

/* Coarse coverage cells (levels 13, 10, 7) aggregated in the level-16 merge:
 * a few thousand cells for a national file, so the batch's histograms are
 * sent to the database ready-made instead of being rebuilt there from every
 * row.  Valid when the batch had no duplicates (the usual case); otherwise
 * the database aggregates the rows it really stored. */
#define NBINS 32
static const double bin_edges[NBINS] = {0,   1,   2,   3,   5,   7.5,  10,   15,   20,   25,   30,
                                        35,  40,  45,  50,  60,  70,   80,   100,  125,  150,  200,
                                        250, 300, 400, 500, 750, 1000, 1500, 2500, 5000, 10000};

struct cell {
    uint64_t key; /* level, x, y, carrier, tech */
    int known;    /* the database has this cell already */
    int tests, meeting;
    int64_t last_us; /* microseconds since 2000-01-01 UTC */
    int hist[NBINS];
};

struct cells {
    struct {
        uint64_t key; /* the cell's key, kept here so that probing stays in the table */
        uint32_t idx; /* 1 + index into cell; 0 = empty */
    } * slot;
    size_t cap; /* slots, a power of two */
    struct cell *cell;
    size_t n, ncell; /* cells used, allocated */
};

/* The accepted rows of one calendar month (UTC), as COPY BINARY rows of
 * its partition, waiting in an unlinked temporary file. */
#define MAX_MONTHS 240
struct spool {
    int month; /* year * 12 + month - 1 */
    FILE *f;   /* the rows that could not be streamed, or NULL */
    long long rows;
    long bytes; /* written to f */
};

/* An accepted row waiting in a run: what its COPY row is made of. */
struct mrow {
    int64_t t_us;       /* microseconds since PostgreSQL's epoch */
    const char *prov;   /* province code (the area's) */
    int32_t lon7, lat7; /* degrees * 1e7, as stored */
    uint32_t cell;      /* level-16 cell, x << 16 | y */
    float down, up, lat_ms, rsrp, rsrq, sinr;
    unsigned char md[8];     /* the dedupe key: a bigint, big-endian (MD5's first 8 bytes) */
    unsigned char device[8]; /* hashed device id, when MR_DEVICE */
    uint16_t month;          /* year * 12 + month - 1 (UTC) */
    uint8_t flags;
    uint8_t carrier;
    char tech[2];
};
#define MR_UP 1
#define MR_LAT 2
#define MR_RSRP 4
#define MR_RSRQ 8
#define MR_SINR 16
#define MR_DEVICE 32
#define MR_MEETS 64

/* Rows are stored in runs sorted by their unique key (the month, which is
 * the partition, then cell and dedupe key): random-order inserts into the
 * key's btree cost 3.4 s per million rows, runs of 64 k sorted rows ~1.6 s
 * (BENCHMARKS.md).  While one run is sent by the sender thread the reader
 * fills the other, so reading, sending and the server's inserts overlap. */
#define RUN_ROWS 65536
/* The first run is small, and each next one twice as large up to RUN_ROWS:
 * the server has nothing to do until the first run is read and sorted. */
#define RUN_FIRST 4096
struct skey;
struct runbuf {
    struct mrow *rows;
    struct skey *keys; /* the rows' order */
    int n;
};

/* One row's part in its level-16 cell, written sorted per run to a
 * temporary file and merged at the end: the village-level cells' counts and
 * exact percentiles come from these instead of a GROUP BY over the batch's
 * rows in the database (4 s per million rows there). */
struct crec {
    uint64_t key; /* cell16_key(x, y, carrier, tech digit) */
    int64_t t_us;
    float down;
    int meets;
};

/* The last 16 short texts looked up and what each meant. */
#define MEMO_N 16
struct memo {
    struct {
        char text[32];
        int value;
    } e[MEMO_N];
    int n; /* entries put so far (the oldest is replaced) */
};

/* 1 with *value when text was put before. */
static int memo_get(const struct memo *m, const char *text, int *value)
{
    for (int k = 0; k < m->n && k < MEMO_N; k++)
        if (strcmp(text, m->e[k].text) == 0) {
            *value = m->e[k].value;
            return 1;
        }
    return 0;
}

static void memo_put(struct memo *m, const char *text, int value)
{
    size_t len = strlen(text);
    if (len >= sizeof(m->e[0].text))
        return; /* long texts are looked up each time */
    int slot = m->n++ % MEMO_N;
    memcpy(m->e[slot].text, text, len + 1);
    m->e[slot].value = value;
}

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
    geo_area *area;         /* NULL until the first chunk needs it */
    geo_area_job *area_job; /* the grid being built meanwhile */
    ingest_carrier carriers[MAX_CARRIERS];
    int ncarriers;
    int default_carrier;
    struct rec *recs;
    int nrec;
    buf raw;  /* original values of the chunk's rows, NUL after each */
    buf line; /* a rejected row's values as CSV */
    const char **vals;
    buf copy; /* COPY text waiting to be sent */
    ingest_rejects rej;
    double t_min, t_max;
    double now;
    double t_start, t_last_progress;
    long long count_hint;
    struct cells agg; /* coarse cells: level 13 made as runs are sorted, summed in the merge */
    long long n_meet, n_below; /* among the rows sent */
    struct spool spool[MAX_MONTHS];
    int nspool;
    int streaming;    /* a COPY into stream_month's partition is open */
    int stream_month; /* the month being streamed, or last streamed; -1 before */
    int savepoint;    /* the savepoint before the first COPY is set */
    int replay;       /* reading the file again into ingest_stage (replay()) */
    /* Operator and technology texts seen lately and what they meant: a
     * file names a handful of each, row after row, and finding a carrier
     * from its text (names, codes, MCC-MNC) was a tenth of the reading. */
    struct memo ops, techs;
    int stream_dup; /* a streamed row was stored already: stop streaming */
    char *err;
    size_t errlen;
    char serr[256]; /* what went wrong on the sending side (the sender's own) */
    /* the runs and their sender */
    struct runbuf runs[2];
    void *sort_tmp;       /* sort_keyed()'s room for a run */
    uint32_t *sort_count; /* and its counters */
    int cur;              /* the run being filled */
    pthread_t sender;
    int sender_on;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct runbuf *pending; /* handed to the sender; NULL when it is idle */
    int done;               /* no more runs will come */
    ls_status send_st;
    /* level-16 parts of the rows, sorted per run */
    FILE *cellf;
    int run_limit;      /* rows in the run being filled before it is sent */
    long long *run_end; /* records in the file after each run */
    int nruns, runcap;
    struct crec *crecs; /* a run's level-16 parts being sorted */
    double t_wait_main, t_sort, t_idle_sender;
    int sndbuf0; /* the socket's send buffer before the batch (0: untouched) */
};

static double wall(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* CPU seconds the database backend has used, when it runs on this machine
 * and /proc shows it (else -1): the debug log splits each phase's time
 * between the server and this process, which wall time on a busy machine
 * cannot. */
static double backend_cpu(PGconn *c)
{
    char path[64], line[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", PQbackendPID(c));
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(line, 1, sizeof(line) - 1, f);
    fclose(f);
    line[n] = '\0';
    const char *p = strrchr(line, ')'); /* the command may hold spaces */
    unsigned long long ut = 0, stt = 0;
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &stt) != 2)
        return -1;
    return (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
}

/* Where a phase's time went, for the debug log. */
struct clocks {
    double wall, server, client;
};

static struct clocks clocks_now(PGconn *c)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (struct clocks){wall(), backend_cpu(c), (double)ts.tv_sec + ts.tv_nsec / 1e9};
}

static void clocks_log(PGconn *c, struct clocks since, const char *what)
{
    struct clocks now = clocks_now(c);
    log_debug("ingest: %s: %.3f s (server CPU %.2f s, client CPU %.2f s)", what,
              now.wall - since.wall, since.server >= 0 ? now.server - since.server : -1.0,
              now.client - since.client);
}

/* ----------------------------------------------------------- set-up */

static ls_status load_carriers(struct run *R)
{
    ls_status st =
        ingest_source_carriers(R->c, R->carriers, MAX_CARRIERS, &R->ncarriers, R->err, R->errlen);
    if (st != LS_OK)
        return st;
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

/* ---------------------------------------------------------- one row */

/* The value of field f in this row, or NULL when the column is absent or
 * the cell blank. */
static const char *val(const struct run *R, const char *const *v, ingest_field f)
{
    return ingest_field_value(&R->m, v, f);
}

static void reject(struct rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reject(struct rec *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ingest_reject_v(&r->reason, r->why, sizeof(r->why), fmt, ap);
    va_end(ap);
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

/* A device id's hash: the first 8 bytes of its SHA-256 (stored as hex). */
static void hash_device(const char *s, unsigned char out[8])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    memcpy(out, md, 8);
}

static void parse_row(struct run *R, const char *const *v, double gx, double gy, int hp,
                      struct rec *r)
{
    /* position */
    char why[160];
    r->has_xy = ingest_row_position(&R->m, R->use_geometry, R->s->swapped_xy, v, gx, gy, hp, &r->x,
                                    &r->y, why, sizeof(why));
    if (!r->has_xy)
        reject(r, "%s", why);

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
    if (op && !memo_get(&R->ops, op, &r->carrier)) {
        r->carrier = ingest_carrier_find(R->carriers, R->ncarriers, op);
        memo_put(&R->ops, op, r->carrier);
    }
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
        int gen; /* the generation's digit, -1 when the text names none */
        if (!memo_get(&R->techs, tech, &gen)) {
            gen = ingest_parse_tech(tech, r->tech) == LS_OK ? r->tech[0] - '0' : -1;
            memo_put(&R->techs, tech, gen);
        }
        if (gen < 0)
            reject(r, "technology '%.30s' is not a mobile network (2G/3G/4G/5G)", tech);
        else
            memcpy(r->tech, (char[3]){(char)('0' + gen), 'G', '\0'}, 3);
    } else if (R->o->tech) {
        memcpy(r->tech, R->o->tech, 3);
    } else {
        reject(r, "no technology (the row names none: give --tech)");
    }

    const char *dev = val(R, v, IF_DEVICE);
    if (dev) {
        hash_device(dev, r->device);
        r->has_device = 1;
    }
    const char *tid = val(R, v, IF_TEST_ID);
    if (tid)
        snprintf(r->test_id, sizeof(r->test_id), "%s", tid);
}

/* --------------------------------------------------------- the chunk */

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

/* The month (year * 12 + month - 1, UTC) of epoch seconds t: civil_from_days
 * (H. Hinnant's date algorithms) instead of gmtime_r(), which took the libc's
 * time zone lock and ~350 instructions for every row. */
static long long month_of(long long t)
{
    long long days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    long long z = days + 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    long long m = mp < 10 ? mp + 3 : mp - 9;
    return (yoe + era * 400 + (m <= 2)) * 12 + m - 1;
}

/* COPY BINARY pieces: network byte order, a length before each field. */
#define PG_EPOCH 946684800.0 /* 2000-01-01T00:00:00Z, PostgreSQL's time zero */

static char *put_be16(char *p, uint16_t v)
{
    *p++ = (char)(v >> 8);
    *p++ = (char)v;
    return p;
}

static char *put_be32(char *p, uint32_t v)
{
    for (int k = 3; k >= 0; k--)
        *p++ = (char)(v >> (8 * k));
    return p;
}

static char *put_be64(char *p, uint64_t v)
{
    for (int k = 7; k >= 0; k--)
        *p++ = (char)(v >> (8 * k));
    return p;
}

/* A field's length word (-1: NULL). */
static char *put_len(char *p, int32_t len)
{
    return put_be32(p, (uint32_t)len);
}

/* A real column (float4): meets_min, the histograms and the village cells'
 * percentiles are all decided on this rounded value. */
static char *put_f4(char *p, int has, double v)
{
    if (!has)
        return put_len(p, -1);
    float f = (float)v;
    uint32_t u;
    memcpy(&u, &f, 4);
    return put_be32(put_len(p, 4), u);
}

static char *put_text(char *p, const char *s)
{
    size_t n = strlen(s);
    p = put_len(p, (int32_t)n);
    memcpy(p, s, n);
    return p + n;
}

/* A one-dimensional array's header in COPY BINARY: n elements of type oid,
 * each elem bytes wide (the field's length first). */
static char *put_array(char *q, uint32_t oid, int n, int elem)
{
    q = put_len(q, 20 + n * (4 + elem));
    q = put_be32(q, 1); /* dimensions */
    q = put_be32(q, 0); /* no NULLs */
    q = put_be32(q, oid);
    q = put_be32(q, (uint32_t)n);
    return put_be32(q, 1); /* lower bound */
}

static ls_status flush_copy(struct run *R, int force)
{
    if (R->copy.len == 0 || (!force && R->copy.len < COPY_FLUSH))
        return LS_OK;
    if (PQputCopyData(R->c, R->copy.data, (int)R->copy.len) != 1) {
        log_error("ingest: COPY failed: %s", PQerrorMessage(R->c));
        snprintf(R->serr, sizeof(R->serr), "the database stopped taking the rows");
        return LS_EUNAVAIL;
    }
    R->copy.len = 0;
    return LS_OK;
}

static int bin_of(double d)
{
    int lo = 0, hi = NBINS - 1;
    if (!(d >= bin_edges[0]))
        return 0;
    while (lo < hi) { /* the last edge <= d */
        int mid = (lo + hi + 1) / 2;
        if (bin_edges[mid] <= d)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static uint64_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
}

/* The slot of `key` in the aggregates' table (cap > 0): its own, or the
 * empty one where it would go. */
static size_t agg_probe(const struct cells *a, uint64_t key)
{
    size_t j = mix(key) & (a->cap - 1);
    while (a->slot[j].idx && a->slot[j].key != key)
        j = (j + 1) & (a->cap - 1);
    return j;
}

/* The cell of `key` in the aggregates, added (zeroed) when new; NULL when
 * out of memory.  The pointer holds until the next call. */
static struct cell *agg_cell(struct cells *a, uint64_t key)
{
    /* An open-addressing table of keys and indices into a dense array of
     * cells: the histograms take room only for the cells there are (the
     * table of whole cells, half empty, was 10 MB of a 1 M-row ingest's
     * memory), and a probe reads only the table. */
    if (a->n * 2 >= a->cap) {
        struct cells g = *a;
        g.cap = a->cap ? a->cap * 2 : 4096;
        if (!(g.slot = calloc(g.cap, sizeof(*g.slot))))
            return NULL;
        for (size_t i = 0; i < a->cap; i++)
            if (a->slot[i].idx)
                g.slot[agg_probe(&g, a->slot[i].key)] = a->slot[i];
        free(a->slot);
        *a = g;
    }
    size_t j = agg_probe(a, key);
    if (!a->slot[j].idx) {
        if (a->n == a->ncell) {
            size_t nc = a->ncell ? a->ncell * 2 : 1024;
            struct cell *ncs = realloc(a->cell, nc * sizeof(*ncs));
            if (!ncs)
                return NULL;
            a->cell = ncs;
            a->ncell = nc;
        }
        memset(&a->cell[a->n], 0, sizeof(a->cell[0]));
        a->cell[a->n].key = key;
        a->slot[j].key = key;
        a->slot[j].idx = (uint32_t)++a->n;
    }
    return &a->cell[a->slot[j].idx - 1];
}

/* key: level (5 bits) | x (16) | y (16) | carrier (8) | tech (3), never 0. */
static uint64_t cell_key(int level, int x, int y, int carrier, int tech)
{
    return (uint64_t)level << 43 | (uint64_t)x << 27 | (uint64_t)y << 11 |
           (uint64_t)(carrier & 255) << 3 | (uint64_t)(tech & 7);
}

/* The x, y, carrier_code and technology columns of a cell_key() k (a
 * coarse cell's, or a block's: the level-13 cell it covers), in COPY
 * BINARY. */
static char *put_cell_key(char *q, const struct run *R, uint64_t k)
{
    q = put_be32(put_len(q, 4), (uint32_t)(k >> 27 & 0xffff));
    q = put_be32(put_len(q, 4), (uint32_t)(k >> 11 & 0xffff));
    q = put_text(q, R->carriers[k >> 3 & 255].code);
    char tech[3] = {(char)('0' + (k & 7)), 'G', '\0'};
    return put_text(q, tech);
}

/* A village cell's merge key: its block's (the level-13 cell's) key, then
 * its place in the block, so that a block's cells come out together. */
static uint64_t cell16_key(int x, int y, int carrier, int tech)
{
    return cell_key(13, x >> 3, y >> 3, carrier, tech) << 6 | (uint64_t)((y & 7) * 8 + (x & 7));
}

#define LOAD_COLUMNS                                                                               \
    "(measured_at, lon7, lat7, province, carrier, tech, download_mbps, upload_mbps, latency_ms,"   \
    " rsrp, rsrq, sinr, meets_min, batch_id, device_hash, dedupe_key, cell16)"
static const char copy_header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0"; /* + flags, ext. */

/* Starts `sql`, a COPY ... FROM STDIN; for a binary one the header waits in
 * R->copy.  `what` names the target in the log. */
static ls_status copy_open(struct run *R, const char *sql, int binary, const char *what)
{
    PGresult *r = PQexec(R->c, sql);
    int ok = PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    R->copy.len = 0;
    if (!ok) {
        log_error("ingest: COPY %s did not start: %s", what, PQerrorMessage(R->c));
        return LS_EDB;
    }
    return binary ? buf_append(&R->copy, copy_header, sizeof(copy_header)) : LS_OK;
}

/* Ends the open COPY: sends what R->copy holds (and the binary trailer)
 * when st, how the sending went, is LS_OK, else aborts it; then reads the
 * server's answer.  A row stored already sets *dup (when dup is given)
 * instead of being logged. */
static ls_status copy_close(struct run *R, ls_status st, int binary, const char *what, int *dup)
{
    if (st == LS_OK && binary) {
        char trailer[2];
        put_be16(trailer, 0xffff);
        st = buf_append(&R->copy, trailer, 2);
    }
    if (st == LS_OK)
        st = flush_copy(R, 1);
    if (PQputCopyEnd(R->c, st == LS_OK ? NULL : "ingest aborted") != 1 && st == LS_OK)
        st = LS_EUNAVAIL;
    PGresult *r = PQgetResult(R->c);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (dup && code && strcmp(code, "23505") == 0)
            *dup = 1;
        else if (st == LS_OK) /* else the abort was ours, and said */
            log_error("ingest: COPY %s failed: %s", what, PQerrorMessage(R->c));
        if (st == LS_OK)
            st = LS_EDB;
    }
    PQclear(r);
    while ((r = PQgetResult(R->c)))
        PQclear(r);
    R->copy.len = 0;
    return st;
}

/* Opens the COPY into the partition of the first accepted row's month, so
 * that the database stores rows while the file is still being read (most
 * files hold one month or two).  A savepoint comes first: when a row turns
 * out to be stored already, the batch goes back to it and is merged from
 * the spools instead. */
static ls_status start_stream(struct run *R, int month)
{
    char from[48], to[48], part[64], sql[512];
    int y = month / 12, m = month % 12 + 1;
    snprintf(from, sizeof(from), "%04d-%02d-01 00:00:00+00", y, m);
    snprintf(to, sizeof(to), "%04d-%02d-01 00:00:00+00", m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1);
    snprintf(part, sizeof(part), "measurements_%04d_%02d", y, m);
    const char *p[] = {from, to};
    ls_status st =
        db_query(R->c, "ingest: partitions",
                 "SELECT measurements_ensure_partitions($1::timestamptz, $2::timestamptz)", 2, p,
                 NULL, NULL, 0);
    if (st == LS_OK && !R->savepoint) {
        st = db_exec(R->c, "SAVEPOINT ingest_insert");
        R->savepoint = st == LS_OK;
    }
    if (st != LS_OK) {
        snprintf(R->serr, sizeof(R->serr), "the database could not take the rows");
        return st;
    }
    snprintf(sql, sizeof(sql), "COPY %s " LOAD_COLUMNS " FROM STDIN (FORMAT binary)", part);
    if ((st = copy_open(R, sql, 1, part)) != LS_OK) {
        snprintf(R->serr, sizeof(R->serr), "the database could not take the rows");
        return st;
    }
    R->streaming = 1;
    R->stream_month = month;
    return LS_OK;
}

/* Ends the open COPY; *dup is set when a row was stored already. */
static ls_status end_stream(struct run *R, int *dup)
{
    R->streaming = 0;
    return copy_close(R, LS_OK, 1, "into a partition", dup);
}

/* Sends one row to the open COPY when it is of that COPY's month.  A row of
 * a month not seen before ends the COPY of the previous month and opens one
 * for its own: a time-ordered file (a drive test's log) is stored while it
 * is read, whatever months it spans; rows that come back to a month
 * already passed wait in its spool (a temporary file).  Once a row turns
 * out to be stored already, rows are dropped here: the batch is read again
 * at the end and merged (replay()). */
static ls_status spool_row(struct run *R, int month, const char *row, size_t len)
{
    struct spool *sp = NULL;
    for (int i = R->nspool - 1; i >= 0 && !sp; i--) /* rows come mostly in time order */
        if (R->spool[i].month == month)
            sp = &R->spool[i];
    if (!sp) {
        if (R->nspool == MAX_MONTHS) {
            snprintf(R->serr, sizeof(R->serr), "the file spans more than %d months: split it",
                     MAX_MONTHS);
            return LS_EINVAL;
        }
        sp = &R->spool[R->nspool];
        memset(sp, 0, sizeof(*sp));
        sp->month = month;
        R->nspool++;
    }
    sp->rows++;
    ls_status st = LS_OK;
    if (sp->rows == 1 && !R->stream_dup) {
        int dup = 0;
        if (R->streaming && (st = end_stream(R, &dup)) != LS_OK && !dup)
            return st;
        if (dup) {
            R->stream_dup = 1; /* the file is read again at the end */
            return LS_OK;
        }
        if ((st = start_stream(R, month)) != LS_OK)
            return st;
    }
    if (R->stream_dup)
        return LS_OK;
    if (R->streaming && month == R->stream_month) {
        if (buf_append(&R->copy, row, len) != LS_OK) {
            snprintf(R->serr, sizeof(R->serr), "out of memory");
            return LS_ENOMEM;
        }
        return flush_copy(R, 0);
    }
    /* A month streamed before: its rows wait for the end. */
    if (!sp->f && !(sp->f = tmpfile())) {
        snprintf(R->serr, sizeof(R->serr), "no room for a temporary file: %s", strerror(errno));
        return LS_EIO;
    }
    if (fwrite(row, 1, len, sp->f) != len) {
        snprintf(R->serr, sizeof(R->serr), "a temporary file could not be written: %s",
                 strerror(errno));
        return LS_EIO;
    }
    sp->bytes += (long)len;
    return LS_OK;
}

/* ------------------------------------------------------- runs, sender */

/* A run's sort key: the partition's month, then the order of its unique
 * key (cell, dedupe key: geo/sql/016_measurement_key.sql) so that the btree
 * takes the run's rows in order. */
struct skey {
    uint64_t k; /* month << 32 | cell */
    uint64_t m; /* the dedupe key, offset so that unsigned order is bigint order */
    uint32_t i;
};

static int skey_cmp(const void *a, const void *b)
{
    const struct skey *x = a, *y = b;
    if (x->k != y->k)
        return x->k < y->k ? -1 : 1;
    if (x->m != y->m)
        return x->m < y->m ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

static int crec_cmp(const void *a, const void *b)
{
    const struct crec *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->down != y->down)
        return x->down < y->down ? -1 : 1;
    return (x->t_us > y->t_us) - (x->t_us < y->t_us);
}

static uint64_t be_bytes(const unsigned char *p)
{
    uint64_t v = 0;
    for (int k = 0; k < 8; k++)
        v = v << 8 | p[k];
    return v;
}

/* A province's code as measurements store it: "01" -> 1 (codes are two
 * digits, geo/sql/014_measurement_codes.sql). */
static int province_num(const char *code)
{
    int v = 0;
    for (const char *p = code; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (*p - '0');
    return v;
}

/* One row of COPY BINARY: the server stores these bytes as they are, where
 * text needed a parse of every number and timestamp. */
static size_t encode_row(const struct run *R, const struct mrow *m, char *line)
{
    char *q = line;
    q = put_be16(q, 17); /* the fields of LOAD_COLUMNS */
    q = put_len(q, 8);
    q = put_be64(q, (uint64_t)m->t_us);
    q = put_be32(put_len(q, 4), (uint32_t)m->lon7);
    q = put_be32(put_len(q, 4), (uint32_t)m->lat7);
    /* Carrier, technology and province as numbers (geo/sql/014_measurement_codes.sql). */
    q = put_be16(put_len(q, 2), (uint16_t)province_num(m->prov));
    q = put_be16(put_len(q, 2), (uint16_t)R->carriers[m->carrier].num);
    q = put_be16(put_len(q, 2), (uint16_t)(m->tech[0] - '0'));
    q = put_f4(q, 1, m->down);
    q = put_f4(q, m->flags & MR_UP, m->up);
    q = put_f4(q, m->flags & MR_LAT, m->lat_ms);
    q = put_f4(q, m->flags & MR_RSRP, m->rsrp);
    q = put_f4(q, m->flags & MR_RSRQ, m->rsrq);
    q = put_f4(q, m->flags & MR_SINR, m->sinr);
    q = put_len(q, 1);
    *q++ = (char)(m->flags & MR_MEETS ? 1 : 0);
    q = put_len(q, 8);
    q = put_be64(q, (uint64_t)R->s->batch);
    if (m->flags & MR_DEVICE) {
        static const char hex[] = "0123456789abcdef";
        q = put_len(q, 16);
        for (int k = 0; k < 8; k++) {
            *q++ = hex[m->device[k] >> 4];
            *q++ = hex[m->device[k] & 15];
        }
    } else {
        q = put_len(q, -1);
    }
    q = put_len(q, 8);
    memcpy(q, m->md, 8);
    q += 8;
    q = put_len(q, 8);
    q = put_be64(q, (uint64_t)m->cell);
    return (size_t)(q - line);
}

/* Sorts n records of `size` bytes that begin with a uint64_t key, in the
 * order of cmp: an LSD radix sort of the keys 16 bits at a time (a pass is
 * skipped when all keys share its digit), stable, then cmp orders the
 * records whose keys are equal (few, except in dense places).  glibc's
 * qsort of the two sorts of every run was a twentieth of the reading.
 * tmp holds n records, count 65536 counters. */
static void sort_keyed(void *base, void *tmp, uint32_t *count, size_t n, size_t size,
                       int (*cmp)(const void *, const void *))
{
    char *a = base, *t = tmp;
    for (int shift = 0; shift < 64; shift += 16) {
        memset(count, 0, 65536 * sizeof(*count));
        for (size_t i = 0; i < n; i++) {
            uint64_t k;
            memcpy(&k, a + i * size, 8);
            count[k >> shift & 0xffff]++;
        }
        uint64_t k0;
        memcpy(&k0, a, 8);
        if (n == 0 || count[k0 >> shift & 0xffff] == n)
            continue; /* one digit for all */
        uint32_t sum = 0;
        for (size_t d = 0; d < 65536; d++) {
            uint32_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t k;
            memcpy(&k, a + i * size, 8);
            memcpy(t + (size_t)count[k >> shift & 0xffff]++ * size, a + i * size, size);
        }
        char *x = a;
        a = t;
        t = x;
    }
    if (a != (char *)base)
        memcpy(base, a, n * size);
    a = base;
    for (size_t i = 0; i < n;) { /* groups of equal keys */
        uint64_t k, k2;
        memcpy(&k, a + i * size, 8);
        size_t j = i + 1;
        while (j < n && (memcpy(&k2, a + j * size, 8), k2 == k))
            j++;
        if (j - i > 1)
            qsort(a + i * size, j - i, size, cmp);
        i = j;
    }
}

/* Sorts a run and keeps its level-16 parts (the reader's thread: the
 * sender's time goes to feeding the server, which is the slower side). */
static ls_status prepare_run(struct run *R, struct runbuf *b)
{
    struct skey *keys = b->keys;
    struct crec *cr = R->crecs;
    for (int i = 0; i < b->n; i++) {
        const struct mrow *m = &b->rows[i];
        keys[i] = (struct skey){(uint64_t)m->month << 32 | m->cell,
                                be_bytes(m->md) ^ (1ULL << 63), /* bigint order */
                                (uint32_t)i};
        cr[i] = (struct crec){
            cell16_key((int)(m->cell >> 16), (int)(m->cell & 0xffff), m->carrier, m->tech[0] - '0'),
            m->t_us, m->down, m->flags & MR_MEETS ? 1 : 0};
    }
    sort_keyed(keys, R->sort_tmp, R->sort_count, (size_t)b->n, sizeof(*keys), skey_cmp);
    sort_keyed(cr, R->sort_tmp, R->sort_count, (size_t)b->n, sizeof(*cr), crec_cmp);
    /* The run's blocks (level-13 cells), for the lookup of those that
     * exist; their figures are summed in the merge. */
    uint64_t prev = 0;
    for (int i = 0; i < b->n; i++) {
        if (cr[i].key >> 6 == prev)
            continue;
        prev = cr[i].key >> 6;
        if (!agg_cell(&R->agg, prev)) {
            snprintf(R->err, R->errlen, "out of memory");
            return LS_ENOMEM;
        }
    }
    if (R->nruns == R->runcap) {
        int ncap = R->runcap ? R->runcap * 2 : 64;
        long long *ne = realloc(R->run_end, (size_t)ncap * sizeof(*ne));
        if (!ne) {
            snprintf(R->err, R->errlen, "out of memory");
            return LS_ENOMEM;
        }
        R->run_end = ne;
        R->runcap = ncap;
    }
    if (fwrite(cr, sizeof(*cr), (size_t)b->n, R->cellf) != (size_t)b->n) {
        snprintf(R->err, R->errlen, "a temporary file could not be written: %s", strerror(errno));
        return LS_EIO;
    }
    R->run_end[R->nruns] = (R->nruns ? R->run_end[R->nruns - 1] : 0) + b->n;
    R->nruns++;
    return LS_OK;
}

/* Sends a sorted run's rows (sender thread; the connection is the
 * sender's until the runs are done). */
static ls_status send_run(struct run *R, const struct runbuf *b)
{
    for (int i = 0; i < b->n; i++) {
        const struct mrow *m = &b->rows[b->keys[i].i];
        char line[512];
        size_t len = encode_row(R, m, line);
        ls_status st = spool_row(R, m->month, line, len);
        if (st != LS_OK)
            return st;
    }
    return LS_OK;
}

static void *sender_main(void *arg)
{
    struct run *R = arg;
    pthread_mutex_lock(&R->mu);
    for (;;) {
        double w0 = wall();
        while (!R->pending && !R->done)
            pthread_cond_wait(&R->cv, &R->mu);
        R->t_idle_sender += wall() - w0;
        if (!R->pending)
            break;
        struct runbuf *b = R->pending;
        int ok = R->send_st == LS_OK;
        pthread_mutex_unlock(&R->mu);
        ls_status st = ok ? send_run(R, b) : LS_OK;
        pthread_mutex_lock(&R->mu);
        if (st != LS_OK && R->send_st == LS_OK)
            R->send_st = st;
        b->n = 0;
        R->pending = NULL;
        pthread_cond_broadcast(&R->cv);
    }
    pthread_mutex_unlock(&R->mu);
    return NULL;
}

/* The server is the slower side of the COPY, and it must never wait for
 * bytes: with the socket's default buffer (~200 KB, 4 ms of its work) it ran
 * dry whenever the sender thread was not scheduled, and the read phase took
 * 4.8 s instead of 3.6 s for a million rows (BENCHMARKS.md).  8 MB when the
 * process may (SO_SNDBUFFORCE needs CAP_NET_ADMIN), else as much as
 * net.core.wmem_max allows; put back when the batch is done (the connection
 * may be a pooled one). */
#define SNDBUF_WANT (8 << 20)
static void deepen_socket(struct run *R)
{
    int fd = PQsocket(R->c), want = SNDBUF_WANT, got = 0;
    socklen_t len = sizeof(R->sndbuf0);
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &R->sndbuf0, &len) != 0)
        return;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)) != 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
    len = sizeof(got);
    if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &len) == 0)
        log_debug("ingest: socket send buffer %d -> %d bytes", R->sndbuf0, got);
}

static void restore_socket(struct run *R)
{
    int fd = PQsocket(R->c), v = R->sndbuf0 / 2; /* the kernel doubles what it is given */
    if (fd >= 0 && R->sndbuf0 > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) != 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

static ls_status runs_start(struct run *R)
{
    R->run_limit = RUN_FIRST;
    for (int i = 0; i < 2; i++)
        if (!(R->runs[i].rows = malloc(RUN_ROWS * sizeof(struct mrow))) ||
            !(R->runs[i].keys = malloc(RUN_ROWS * sizeof(struct skey))))
            return LS_ENOMEM;
    if (!(R->crecs = malloc(RUN_ROWS * sizeof(struct crec))) ||
        !(R->sort_tmp = malloc(RUN_ROWS * (sizeof(struct skey) > sizeof(struct crec)
                                               ? sizeof(struct skey)
                                               : sizeof(struct crec)))) ||
        !(R->sort_count = malloc(65536 * sizeof(*R->sort_count))))
        return LS_ENOMEM;
    if (!(R->cellf = tmpfile())) {
        snprintf(R->err, R->errlen, "no room for a temporary file: %s", strerror(errno));
        return LS_EIO;
    }
    pthread_mutex_init(&R->mu, NULL);
    pthread_cond_init(&R->cv, NULL);
    if (pthread_create(&R->sender, NULL, sender_main, R) != 0) {
        pthread_cond_destroy(&R->cv);
        pthread_mutex_destroy(&R->mu);
        snprintf(R->err, R->errlen, "no thread to send the rows");
        return LS_ENOMEM;
    }
    R->sender_on = 1;
    deepen_socket(R);
    return LS_OK;
}

/* Hands the filled run to the sender once it has finished the previous
 * one, and goes on with the other buffer. */
static ls_status submit_run(struct run *R)
{
    struct runbuf *b = &R->runs[R->cur];
    if (b->n == 0)
        return LS_OK;
    if (R->replay) { /* into ingest_stage as they come: no order needed */
        ls_status st = LS_OK;
        for (int i = 0; i < b->n && st == LS_OK; i++) {
            char line[512];
            size_t len = encode_row(R, &b->rows[i], line);
            st = buf_append(&R->copy, line, len);
            if (st == LS_OK)
                st = flush_copy(R, 0);
        }
        b->n = 0;
        return st;
    }
    double w0 = wall();
    ls_status pst = prepare_run(R, b);
    R->t_sort += wall() - w0;
    if (pst != LS_OK)
        return pst;
    w0 = wall();
    pthread_mutex_lock(&R->mu);
    while (R->pending)
        pthread_cond_wait(&R->cv, &R->mu);
    R->t_wait_main += wall() - w0;
    ls_status st = R->send_st;
    if (st == LS_OK) {
        R->pending = b;
        pthread_cond_broadcast(&R->cv);
    }
    pthread_mutex_unlock(&R->mu);
    R->cur ^= 1;
    if (R->run_limit < RUN_ROWS)
        R->run_limit *= 2;
    if (st != LS_OK)
        snprintf(R->err, R->errlen, "%s", R->serr);
    return st;
}

/* Waits for the sender to finish; the connection is the caller's again. */
static ls_status runs_finish(struct run *R)
{
    if (!R->sender_on)
        return LS_OK;
    pthread_mutex_lock(&R->mu);
    while (R->pending)
        pthread_cond_wait(&R->cv, &R->mu);
    R->done = 1;
    pthread_cond_broadcast(&R->cv);
    pthread_mutex_unlock(&R->mu);
    pthread_join(R->sender, NULL);
    pthread_cond_destroy(&R->cv);
    pthread_mutex_destroy(&R->mu);
    R->sender_on = 0;
    log_debug("ingest: runs %d; reader sorted them in %.3f s and waited %.3f s for the sender,"
              " which waited %.3f s for rows",
              R->nruns, R->t_sort, R->t_wait_main, R->t_idle_sender);
    if (R->send_st != LS_OK && !*R->err)
        snprintf(R->err, R->errlen, "%s", R->serr);
    return R->send_st;
}

static ls_status finish_chunk(struct run *R)
{
    if (R->nrec == 0)
        return LS_OK;
    if (!R->area) {
        double w0 = wall();
        ls_status ast = geo_area_end(R->area_job, &R->area, R->err, R->errlen);
        R->area_job = NULL;
        log_debug("ingest: waited %.3f s for the area grid", wall() - w0);
        if (ast != LS_OK)
            return ast;
    }
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
            else if (!(prov = geo_area_province(R->area, lon, lat)))
                reject(r, "position %.6f, %.6f is outside Vietnam's land and sea area", lat, lon);
            else if (R->o->only_province && strcmp(prov, R->o->only_province) != 0)
                reject(r, "position %.6f, %.6f is in province %s, outside this account's area", lat,
                       lon, prov);
            r->x = lon;
            r->y = lat;
        }
        if (r->reason && R->replay)
            continue; /* written the first time */
        if (r->reason) {
            const char *p = R->raw.data + r->raw;
            for (int k = 0; k < R->ncols; k++) {
                R->vals[k] = p;
                p += strlen(p) + 1;
            }
            R->line.len = 0;
            ls_status st = ingest_csv_append(&R->line, R->vals, R->ncols);
            if (st == LS_OK)
                st = ingest_rejects_add(&R->rej, r->rowno, r->reason, R->line.data, R->err,
                                        R->errlen);
            if (st != LS_OK)
                return st;
            R->s->rejected++;
            continue;
        }
        const char *carrier = R->carriers[r->carrier].code;
        /* The verdict on the values as stored (real): a file's 39.99999999
         * Mbps is stored as 40 and must meet a 40 Mbps minimum, or the
         * stored speed and its verdict would disagree. */
        int meets =
            (float)r->down >= R->o->min_download &&
            (R->o->min_upload <= 0 || (r->has_up && (float)r->up >= R->o->min_upload)) &&
            (R->o->max_latency <= 0 || (r->has_lat && (float)r->lat_ms <= R->o->max_latency));
        /* The dedupe key: the source's own test id when it has one, else the
         * content that makes a measurement the same measurement. */
        /* Binary key: fixed-point numbers and the codes, not printf text
         * (formatting floats was 14 % of the client's time). */
        unsigned char key[128];
        size_t kl = 0;
        if (*r->test_id) {
            size_t a = strlen(carrier), b = strlen(r->test_id);
            key[kl++] = 'i';
            memcpy(key + kl, carrier, a);
            kl += a;
            key[kl++] = '|';
            memcpy(key + kl, r->test_id, b < 64 ? b : 64);
            kl += b < 64 ? b : 64;
        } else {
            long long v[6] = {llround(r->t * 1000.0),
                              llround(r->x * 1e7),
                              llround(r->y * 1e7),
                              llround(r->down * 1000.0),
                              r->has_up ? llround(r->up * 1000.0) : -1,
                              r->has_lat ? llround(r->lat_ms * 1000.0) : -1};
            key[kl++] = 'c';
            memcpy(key + kl, v, sizeof(v));
            kl += sizeof(v);
            size_t a = strlen(carrier);
            memcpy(key + kl, carrier, a);
            kl += a;
            key[kl++] = '|';
            memcpy(key + kl, r->tech, 2);
            kl += 2;
        }
        struct runbuf *b = &R->runs[R->cur];
        struct mrow *m = &b->rows[b->n];
        unsigned char md[MD5_DIGEST_LENGTH];
        MD5(key, kl, md);
        memcpy(m->md, md, sizeof(m->md));
        int tx, ty;
        geo_tile_xy(16, r->x, r->y, &tx, &ty);
        if (meets)
            R->n_meet++;
        else
            R->n_below++;
        m->lon7 = (int32_t)llround(r->x * 1e7); /* degrees kept to 1e-7 (~1 cm) */
        m->lat7 = (int32_t)llround(r->y * 1e7);
        m->t_us = llround((r->t - PG_EPOCH) * 1e6);
        /* The month of the stored (rounded) time, so that a row always
         * goes to the partition its stored time belongs to. */
        time_t sec = (time_t)(m->t_us >= 0 ? m->t_us / 1000000 : -((-m->t_us + 999999) / 1000000)) +
                     (time_t)PG_EPOCH;
        m->month = (uint16_t)month_of(sec);
        m->cell = (uint32_t)tx << 16 | (uint32_t)ty;
        m->prov = prov;
        m->down = (float)r->down;
        m->up = (float)r->up;
        m->lat_ms = (float)r->lat_ms;
        m->rsrp = (float)r->rsrp;
        m->rsrq = (float)r->rsrq;
        m->sinr = (float)r->sinr;
        m->flags = (uint8_t)((r->has_up ? MR_UP : 0) | (r->has_lat ? MR_LAT : 0) |
                             (r->has_rsrp ? MR_RSRP : 0) | (r->has_rsrq ? MR_RSRQ : 0) |
                             (r->has_sinr ? MR_SINR : 0) | (r->has_device ? MR_DEVICE : 0) |
                             (meets ? MR_MEETS : 0));
        memcpy(m->device, r->device, 8);
        m->carrier = (uint8_t)r->carrier;
        memcpy(m->tech, r->tech, 2);
        if (++b->n >= R->run_limit) {
            ls_status st = submit_run(R);
            if (st != LS_OK)
                return st;
        }
        if (r->t < R->t_min)
            R->t_min = r->t;
        if (r->t > R->t_max)
            R->t_max = r->t;
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

/* The coarse-cell upsert from `source` (columns res, x, y, carrier_code,
 * technology, tests, meeting, hist, last): counts and 32-bin histograms
 * added with plain array expressions, p10/p50 read off the result with
 * hist_pct() (coverage_cells has no row trigger: one would cost COPY its
 * multi-row inserts). */
static ls_status coarse_upsert(buf *b, const char *source)
{
    buf_puts(b, "INSERT INTO coverage_cells AS c (res, cell_x, cell_y, carrier_code, technology,"
                " tests, meeting_min, hist, p10_download, p50_download, last_measured)"
                " SELECT res, x, y, carrier_code, technology, tests, meeting, hist,"
                " hist_pct(hist, 0.1), hist_pct(hist, 0.5), last FROM (");
    buf_puts(b, source);
    buf_puts(b, ") s ON CONFLICT (res, cell_x, cell_y, carrier_code, technology) DO UPDATE SET"
                " tests = c.tests + EXCLUDED.tests,"
                " meeting_min = c.meeting_min + EXCLUDED.meeting_min,"
                " last_measured = greatest(c.last_measured, EXCLUDED.last_measured)");
    static const char *const cols[] = {"hist", "p10_download", "p50_download"};
    for (int f = 0; f < 3; f++) {
        buf_printf(b, ", %s = %sARRAY[", cols[f], f ? "hist_pct(" : "");
        for (int k = 1; k <= NBINS; k++)
            buf_printf(b, "%sc.hist[%d] + EXCLUDED.hist[%d]", k > 1 ? ", " : "", k, k);
        buf_puts(b, f == 0 ? "]" : f == 1 ? "], 0.1)" : "], 0.5)");
    }
    return b->data ? LS_OK : LS_ENOMEM;
}

/* The coarse-cell upsert of one level from the rows a batch stored, in
 * ingest_new ($1 level, $2 shift from level 16). */
static char coarse_sql[32768];
static pthread_once_t coarse_once = PTHREAD_ONCE_INIT;

static void build_coarse_sql(void)
{
    buf src, b;
    buf_init(&src, 0);
    buf_init(&b, sizeof(coarse_sql) - 1);
    buf_puts(&src, "SELECT $1::smallint AS res, x, y, carrier_code, technology, count(*) AS tests,"
                   " count(*) FILTER (WHERE meets_min) AS meeting, ARRAY[");
    for (int k = 0; k < NBINS; k++)
        buf_printf(&src, "%scount(*) FILTER (WHERE bin = %d)", k ? ", " : "", k);
    buf_puts(&src, "]::int[] AS hist, max(measured_at) AS last"
                   " FROM (SELECT ((cell16 >> 16) >> $2::int)::int AS x,"
                   " ((cell16 & 65535) >> $2::int)::int AS y, carrier_code, technology, meets_min,"
                   " measured_at, hist_bin(download_mbps) AS bin FROM ingest_new) r"
                   " GROUP BY x, y, carrier_code, technology");
    if (src.data && coarse_upsert(&b, src.data) == LS_OK)
        memcpy(coarse_sql, b.data, b.len + 1);
    buf_free(&src);
    buf_free(&b);
}

/* A coarse cell's p-quantile read off its histogram: hist_pct() of
 * 002_coverage.sql step by step, so that a cell stored with these figures
 * reads the same as one the database derived. */
static double hist_pct_c(const int *h, double p)
{
    long long total = 0, cum = 0;
    for (int i = 0; i < NBINS; i++)
        total += h[i];
    if (total == 0)
        return NAN;
    double target = p * (double)total;
    for (int i = 0; i < NBINS; i++) {
        if (h[i] > 0 && (double)(cum + h[i]) >= target) {
            double hi = i + 1 < NBINS ? bin_edges[i + 1] : bin_edges[i] * 2;
            double d = target - (double)cum;
            return bin_edges[i] + (hi - bin_edges[i]) * (d > 0 ? d : 0) / h[i];
        }
        cum += h[i];
    }
    return bin_edges[NBINS - 1];
}

static struct cell *agg_find(struct cells *a, uint64_t key)
{
    if (!a->cap)
        return NULL;
    size_t j = agg_probe(a, key);
    return a->slot[j].idx ? &a->cell[a->slot[j].idx - 1] : NULL;
}

/* Marks the batch's coarse cells that exist already (one index probe each). */
static ls_status coarse_known(struct run *R, size_t *nknown)
{
    *nknown = 0;
    buf k, cs;
    buf_init(&k, 0);
    buf_init(&cs, 0);
    ls_status st = buf_puts(&k, "{");
    for (size_t i = 0; i < R->agg.n && st == LS_OK; i++)
        st = buf_printf(&k, "%s%llu", i ? "," : "", (unsigned long long)R->agg.cell[i].key);
    if (st == LS_OK)
        st = buf_puts(&k, "}");
    if (st == LS_OK)
        st = buf_puts(&cs, "{");
    for (int i = 0; i < R->ncarriers && st == LS_OK; i++)
        st = buf_printf(&cs, "%s\"%s\"", i ? "," : "", R->carriers[i].code);
    if (st == LS_OK)
        st = buf_puts(&cs, "}");
    PGresult *r = NULL;
    if (st == LS_OK) {
        const char *p[] = {k.data, cs.data};
        st = db_query(R->c, "ingest: known coarse cells",
                      "SELECT k FROM unnest($1::int8[]) k, LATERAL (SELECT 1 FROM coverage_cells c"
                      " WHERE c.res = (k >> 43) AND c.cell_x = (k >> 27 & 65535)"
                      " AND c.cell_y = (k >> 11 & 65535)"
                      " AND c.carrier_code = ($2::text[])[(k >> 3 & 255) + 1]"
                      " AND c.technology = (k & 7) || 'G' LIMIT 1) e",
                      2, p, &r, NULL, 0);
    }
    buf_free(&k);
    buf_free(&cs);
    if (st != LS_OK)
        return st;
    for (int i = 0; i < PQntuples(r); i++) {
        struct cell *c = agg_find(&R->agg, strtoull(PQgetvalue(r, i, 0), NULL, 10));
        if (c && !c->known) {
            c->known = 1;
            (*nknown)++;
        }
    }
    PQclear(r);
    return LS_OK;
}

static ls_status send_coarse_rows(struct run *R, int pass);

/* Stores the coarse aggregates: new cells with COPY, their p10/p50 from the
 * histogram; cells that exist are added to (counts and histograms) through
 * a temporary table. */
static ls_status send_coarse(struct run *R)
{
    /* Levels 10 and 7 from the level-13 cells (the only ones the merge
     * summed): 8 x 8 and 64 x 64 of them. */
    size_t n13 = R->agg.n;
    for (size_t i = 0; i < n13; i++) {
        for (int sh = 3; sh <= 6; sh += 3) {
            uint64_t k = R->agg.cell[i].key;
            struct cell *p = agg_cell(&R->agg, cell_key(13 - sh, (int)(k >> 27 & 0xffff) >> sh,
                                                        (int)(k >> 11 & 0xffff) >> sh,
                                                        (int)(k >> 3 & 255), (int)(k & 7)));
            if (!p) {
                snprintf(R->err, R->errlen, "out of memory");
                return LS_ENOMEM;
            }
            const struct cell *c = &R->agg.cell[i]; /* after agg_cell: it may move the cells */
            p->tests += c->tests;
            p->meeting += c->meeting;
            if (c->last_us > p->last_us)
                p->last_us = c->last_us;
            for (int b = 0; b < NBINS; b++)
                p->hist[b] += c->hist[b];
        }
    }
    size_t nknown = 0;
    struct clocks t0 = clocks_now(R->c);
    ls_status st = coarse_known(R, &nknown);
    log_debug("ingest: coarse cells: %zu of %zu exist", nknown, R->agg.n);
    clocks_log(R->c, t0, "coarse cells: lookup");
    for (int pass = 0; pass < 2 && st == LS_OK; pass++) {
        if (pass == 1 && !nknown)
            break;
        if (pass == 1)
            st = db_exec(R->c, "CREATE TEMP TABLE ingest_coarse (res smallint, x int, y int,"
                               " carrier_code text, technology text, tests int, meeting int,"
                               " hist int[], p10 real, p50 real, last timestamptz) ON COMMIT DROP");
        if (st == LS_OK)
            st = send_coarse_rows(R, pass);
    }
    if (st != LS_OK || !nknown)
        return st;
    buf b;
    buf_init(&b, 0);
    st = coarse_upsert(&b, "SELECT res, x, y, carrier_code, technology, tests, meeting, hist, last"
                           " FROM ingest_coarse");
    if (st == LS_OK)
        st = db_exec(R->c, b.data);
    buf_free(&b);
    return st;
}

/* COPYs the new coarse cells into coverage_cells (pass 0) or the known
 * ones into ingest_coarse (pass 1), in binary: the histogram as text cost
 * the server an int4in() per bin (22,220 cells of a national file: 130-190
 * ms as text, 70-100 ms binary). */
static ls_status send_coarse_rows(struct run *R, int pass)
{
    ls_status st = copy_open(R,
                             pass ? "COPY ingest_coarse FROM STDIN (FORMAT binary)"
                                  : "COPY coverage_cells (res, cell_x, cell_y, carrier_code,"
                                    " technology, tests, meeting_min, hist, p10_download,"
                                    " p50_download, last_measured) FROM STDIN (FORMAT binary)",
                             1, "of coarse cells");
    if (st != LS_OK)
        return st;
    for (size_t i = 0; i < R->agg.n && st == LS_OK; i++) {
        const struct cell *c = &R->agg.cell[i];
        if (c->known != pass)
            continue;
        char line[512], *q = line;
        q = put_be16(q, 11);
        q = put_be16(put_len(q, 2), (uint16_t)(c->key >> 43));
        q = put_cell_key(q, R, c->key);
        q = put_be32(put_len(q, 4), (uint32_t)c->tests);
        q = put_be32(put_len(q, 4), (uint32_t)c->meeting);
        q = put_array(q, 23, NBINS, 4); /* integer */
        for (int k = 0; k < NBINS; k++)
            q = put_be32(put_len(q, 4), (uint32_t)c->hist[k]);
        q = put_f4(q, 1, hist_pct_c(c->hist, 0.1));
        q = put_f4(q, 1, hist_pct_c(c->hist, 0.5));
        q = put_be64(put_len(q, 8), (uint64_t)c->last_us);
        if (buf_append(&R->copy, line, (size_t)(q - line)) != LS_OK)
            st = LS_ENOMEM;
        else
            st = flush_copy(R, 0);
    }
    return copy_close(R, st, 1, "of coarse cells", NULL);
}

/* COPYs every month's spool into the month's partition.  *dup is set when
 * the database already had one of the rows. */
static ls_status load_spools(struct run *R, int *dup)
{
    char *chunk = malloc(COPY_FLUSH);
    if (!chunk)
        return LS_ENOMEM;
    ls_status st = LS_OK;
    for (int i = 0; i < R->nspool && st == LS_OK; i++) {
        struct spool *sp = &R->spool[i];
        if (!sp->f || sp->bytes == 0)
            continue;
        char sql[512], part[64];
        snprintf(part, sizeof(part), "measurements_%04d_%02d", sp->month / 12, sp->month % 12 + 1);
        snprintf(sql, sizeof(sql), "COPY %s " LOAD_COLUMNS " FROM STDIN (FORMAT binary)", part);
        char what[80];
        snprintf(what, sizeof(what), "into %s", part);
        if ((st = copy_open(R, sql, 1, what)) != LS_OK)
            break;
        ls_status sent = flush_copy(R, 1); /* the header */
        if (sent == LS_OK && (fflush(sp->f) != 0 || fseek(sp->f, 0, SEEK_SET) != 0))
            sent = LS_EIO;
        size_t n;
        while (sent == LS_OK && (n = fread(chunk, 1, COPY_FLUSH, sp->f)) > 0)
            if (PQputCopyData(R->c, chunk, (int)n) != 1)
                sent = LS_EUNAVAIL;
        if (sent == LS_OK && ferror(sp->f))
            sent = LS_EIO;
        st = copy_close(R, sent, 1, what, dup);
    }
    free(chunk);
    if (st == LS_EIO)
        snprintf(R->err, R->errlen, "a temporary file could not be read back");
    return st;
}

static ls_status run_rows(struct run *R);

/* The batch met rows stored before (or repeats one): the file is read
 * again, its accepted rows COPYed into the staging table ingest_stage (the
 * rejects were written, and the rows counted, the first time).  Rereading
 * costs a second pass only in this case; keeping every row on disk in case
 * it happened cost every batch (150 MB of temporary file per million
 * rows). */
static ls_status replay(struct run *R)
{
    ls_status st = copy_open(R, "COPY ingest_stage " LOAD_COLUMNS " FROM STDIN (FORMAT binary)", 1,
                             "into ingest_stage");
    if (st != LS_OK)
        return st;
    R->replay = 1;
    R->nrec = 0;
    R->raw.len = 0;
    R->runs[R->cur].n = 0;
    ingest_reader_rewind(R->rd);
    st = run_rows(R);
    R->replay = 0;
    return copy_close(R, st, 1, "into ingest_stage", NULL);
}

static ls_status cells(struct run *R, int all_new);

static ls_status merge(struct run *R)
{
    pthread_once(&coarse_once, build_coarse_sql);
    char batch[32], from[48], to[48];
    snprintf(batch, sizeof(batch), "%lld", R->s->batch);
    PGresult *r = NULL;
    ls_status st;
    struct clocks t0 = clocks_now(R->c);
    int dup = R->stream_dup;
    if (R->streaming) {
        st = end_stream(R, &dup);
        if (st != LS_OK && !dup)
            return st;
    }
    if (dup && (st = db_exec(R->c, "ROLLBACK TO SAVEPOINT ingest_insert")) != LS_OK)
        return st;
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
    const char *p1[] = {batch};
    long long valid = R->s->rows - R->s->rejected;
    long long inserted = valid;
    if (!dup) {
        /* The other months' rows, each into its partition. */
        st = R->savepoint ? LS_OK : db_exec(R->c, "SAVEPOINT ingest_insert");
        if (st == LS_OK)
            st = load_spools(R, &dup);
        if (st != LS_OK && !dup)
            return st;
        if (dup && (st = db_exec(R->c, "ROLLBACK TO SAVEPOINT ingest_insert")) != LS_OK)
            return st;
    }
    if (dup) {
        /* A row was stored before (or the file repeats one): the batch
         * goes through a staging table and only its new rows are kept. */
        st = db_exec(R->c, "CREATE TEMP TABLE ingest_stage (measured_at timestamptz,"
                           " lon7 integer, lat7 integer, province smallint, carrier smallint,"
                           " tech smallint, download_mbps real, upload_mbps real,"
                           " latency_ms real, rsrp real, rsrq real, sinr real,"
                           " meets_min boolean, batch_id bigint, device_hash text,"
                           " dedupe_key bigint, cell16 bigint) ON COMMIT DROP");
        if (st == LS_OK)
            st = replay(R);
        /* The rows stored now are kept from the insert's RETURNING, for the
         * cells: read back by batch_id instead, the BRIN index gives every
         * range not yet summed up, and right after a large batch (before
         * autovacuum) a two-row file spent 0.3-0.4 s reading it back. */
        if (st == LS_OK)
            st = db_exec(R->c, "CREATE TEMP TABLE ingest_new (measured_at timestamptz,"
                               " carrier_code text, technology text, download_mbps real,"
                               " meets_min boolean, cell16 bigint) ON COMMIT DROP");
        if (st == LS_OK)
            st = db_query(R->c, "ingest: merge",
                          "WITH ins AS (INSERT INTO measurements " LOAD_COLUMNS
                          " SELECT * FROM ingest_stage ON CONFLICT DO NOTHING"
                          " RETURNING measured_at, carrier, tech, download_mbps, meets_min, cell16)"
                          " INSERT INTO ingest_new SELECT i.measured_at, c.code, i.tech || 'G',"
                          " i.download_mbps, i.meets_min, i.cell16"
                          " FROM ins i LEFT JOIN carriers c ON c.num = i.carrier",
                          0, NULL, &r, NULL, 0);
        if (st != LS_OK)
            return st;
        inserted = atoll(PQcmdTuples(r));
        PQclear(r);
    } else {
        st = db_exec(R->c, "RELEASE SAVEPOINT ingest_insert");
    }
    if (st != LS_OK)
        return st;
    clocks_log(R->c, t0,
               dup ? "load into measurements (stored rows met: merged)" : "load into measurements");
    R->s->accepted = inserted;
    R->s->duplicates = valid - inserted;
    if (R->o->only_carrier && !dup) {
        /* The rows COPYed into the months' partitions met no policy (the
         * policies are the parent's): the insert policy is checked through
         * the read policy: a carrier sees its own tests only, so it must see
         * every row it loaded.  Rows merged through the parent met both
         * (the insert's check, and the read policy for its RETURNING). */
        st = db_query(R->c, "ingest: check",
                      "SELECT count(*) FROM measurements WHERE batch_id = $1", 1, p1, &r, NULL, 0);
        if (st != LS_OK)
            return st;
        long long seen = atoll(PQgetvalue(r, 0, 0));
        PQclear(r);
        if (seen != inserted) {
            log_error("ingest: batch %s: %lld rows loaded, %lld visible to the carrier", batch,
                      inserted, seen);
            snprintf(R->err, R->errlen, "the file holds tests of another carrier");
            return LS_EFORBIDDEN;
        }
    }
    /* Cells are public aggregates of every carrier's and area's tests: they
     * are kept with the system's view of the rows (as verification is),
     * then the caller's context comes back. */
    char caller[64] = "";
    st = db_query(R->c, "ingest: context",
                  "SELECT current_setting('lomsong.role', true),"
                  " set_config('lomsong.role', 'system', true)",
                  0, NULL, &r, NULL, 0);
    if (st != LS_OK)
        return st;
    snprintf(caller, sizeof(caller), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    st = cells(R, inserted == valid);
    const char *pc[] = {caller};
    ls_status st2 = db_query(R->c, "ingest: context", "SELECT set_config('lomsong.role', $1, true)",
                             1, pc, NULL, NULL, 0);
    return st != LS_OK ? st : st2;
}

/* The coverage cells of the rows this batch stored. */
/* The p-quantile of n sorted values as percentile_cont computes it, so that
 * a cell's figures are the same whichever way they were made. */
static double pct_cont(const float *v, size_t n, double p)
{
    double pos = p * (double)(n - 1);
    double lo = floor(pos), hi = ceil(pos);
    double a = v[(size_t)lo], b = v[(size_t)hi];
    return lo == hi ? a : a + (b - a) * (pos - lo);
}

/* A run's records in the level-16 file, read a block at a time. */
#define CUR_RECS 256
struct cursor {
    long long pos, end; /* records */
    int n, i;
    struct crec buf[CUR_RECS];
};

static int cursor_fill(int fd, struct cursor *c)
{
    long long want = c->end - c->pos;
    if (want > CUR_RECS)
        want = CUR_RECS;
    c->i = 0;
    c->n = 0;
    if (want <= 0)
        return 0;
    size_t len = (size_t)want * sizeof(struct crec);
    ssize_t got = pread(fd, c->buf, len, (off_t)(c->pos * (long long)sizeof(struct crec)));
    if (got != (ssize_t)len)
        return -1;
    c->pos += want;
    c->n = (int)want;
    return 1;
}

/* Restores the merge's heap (runs ordered by their current record) below
 * position p. */
static void sift_down(const struct cursor *cur, int *heap, int nh, int p)
{
#define REC(h) (&cur[heap[h]].buf[cur[heap[h]].i])
    for (;;) {
        int l = 2 * p + 1, m = p;
        if (l < nh && crec_cmp(REC(l), REC(m)) < 0)
            m = l;
        if (l + 1 < nh && crec_cmp(REC(l + 1), REC(m)) < 0)
            m = l + 1;
        if (m == p)
            return;
        int t = heap[p];
        heap[p] = heap[m];
        heap[m] = t;
        p = m;
    }
#undef REC
}

/* A block of village cells being filled (the cells of one level-13 cell,
 * carrier and technology), in the order of their place in it. */
struct block {
    int n;
    int16_t sub[64];
    int32_t tests[64], meeting[64];
    float p10[64], p50[64];
    int64_t last[64];
};

/* One row of coverage_blocks for block key bk. */
static ls_status send_block(struct run *R, uint64_t bk, const struct block *b)
{
    char line[4096], *q = line;
    q = put_be16(q, 10);
    q = put_cell_key(q, R, bk);
    q = put_array(q, 21, b->n, 2); /* smallint */
    for (int i = 0; i < b->n; i++)
        q = put_be16(put_len(q, 2), (uint16_t)b->sub[i]);
    q = put_array(q, 23, b->n, 4); /* integer */
    for (int i = 0; i < b->n; i++)
        q = put_be32(put_len(q, 4), (uint32_t)b->tests[i]);
    q = put_array(q, 23, b->n, 4);
    for (int i = 0; i < b->n; i++)
        q = put_be32(put_len(q, 4), (uint32_t)b->meeting[i]);
    q = put_array(q, 700, b->n, 4); /* real */
    for (int i = 0; i < b->n; i++)
        q = put_f4(q, 1, b->p10[i]);
    q = put_array(q, 700, b->n, 4);
    for (int i = 0; i < b->n; i++)
        q = put_f4(q, 1, b->p50[i]);
    q = put_array(q, 1184, b->n, 8); /* timestamptz */
    for (int i = 0; i < b->n; i++)
        q = put_be64(put_len(q, 8), (uint64_t)b->last[i]);
    ls_status st = buf_append(&R->copy, line, (size_t)(q - line));
    return st == LS_OK ? flush_copy(R, 0) : st;
}

/* One row of ingest_touched16: a village cell of a block that existed. */
static ls_status send_touched(struct run *R, uint64_t ck)
{
    char line[128], *q = line;
    q = put_be16(q, 5);
    q = put_cell_key(q, R, ck >> 6);
    q = put_be16(put_len(q, 2), (uint16_t)(ck & 63));
    ls_status st = buf_append(&R->copy, line, (size_t)(q - line));
    return st == LS_OK ? flush_copy(R, 0) : st;
}

/* Merges the runs' sorted level-16 parts (keys cell16_key(), so a block's
 * cells come together) into one figure per cell, carrier and technology;
 * pass 0 also sums up each block's level-13 cell (R->agg).
 * want_known 0: the blocks not in `known` (sorted block keys) are COPYed
 * whole into coverage_blocks; 1: the cells of the blocks in `known` go to
 * ingest_touched16, to be recomputed from their raw rows.  Memory: a block
 * of records per run, one cell's values and one block. */
static ls_status cells16_send(struct run *R, const uint64_t *known, size_t nknown, int want_known)
{
    size_t kp = 0; /* known keys below kp are behind the merge */
    int fd = fileno(R->cellf);
    if (fflush(R->cellf) != 0)
        return LS_EIO;
    int nr = R->nruns;
    struct cursor *cur = calloc((size_t)(nr ? nr : 1), sizeof(*cur));
    int *heap = calloc((size_t)(nr ? nr : 1), sizeof(*heap));
    struct block *blk = calloc(1, sizeof(*blk));
    float *vals = NULL;
    size_t nv = 0, vcap = 0;
    ls_status st = cur && heap && blk ? LS_OK : LS_ENOMEM;
    int nh = 0;
    for (int r = 0; r < nr && st == LS_OK; r++) {
        cur[r].pos = r ? R->run_end[r - 1] : 0;
        cur[r].end = R->run_end[r];
        int f = cursor_fill(fd, &cur[r]);
        if (f < 0)
            st = LS_EIO;
        else if (f > 0)
            heap[nh++] = r;
    }
#define HEAD(h) (&cur[heap[h]].buf[cur[heap[h]].i])
    for (int k = nh / 2 - 1; k >= 0 && st == LS_OK; k--) /* heapify */
        sift_down(cur, heap, nh, k);
    if (st == LS_OK)
        st = copy_open(R,
                       want_known ? "COPY ingest_touched16 (block_x, block_y, carrier_code,"
                                    " technology, sub) FROM STDIN (FORMAT binary)"
                                  : "COPY coverage_blocks (block_x, block_y, carrier_code,"
                                    " technology, sub, tests, meeting_min, p10_download,"
                                    " p50_download, last_measured) FROM STDIN (FORMAT binary)",
                       1, want_known ? "of touched level-16 cells" : "of level-16 blocks");
    int copying = st == LS_OK;
    uint64_t key = 0;
    int tests = 0, meeting = 0;
    int64_t last = INT64_MIN;
    struct cell a13; /* pass 0: the block's level-13 aggregate */
    memset(&a13, 0, sizeof(a13));
    while (st == LS_OK) {
        const struct crec *c = nh ? HEAD(0) : NULL;
        if (!want_known && a13.tests && (!c || c->key >> 6 != a13.key)) {
            struct cell *p = agg_find(&R->agg, a13.key); /* made by prepare_run() */
            if (!p) {
                st = LS_EINTERNAL;
                break;
            }
            *p = a13;
            memset(&a13, 0, sizeof(a13));
        }
        if (nv && (!c || c->key != key)) {
            /* one cell done */
            uint64_t bk = key >> 6;
            while (kp < nknown && known[kp] < bk)
                kp++;
            int is_known = kp < nknown && known[kp] == bk;
            if (is_known && want_known) {
                st = send_touched(R, key);
            } else if (!is_known && !want_known) {
                /* p10/p50 rounded to real, as percentile_cont's result is
                 * cast when stored */
                int i = blk->n++;
                blk->sub[i] = (int16_t)(key & 63);
                blk->tests[i] = tests;
                blk->meeting[i] = meeting;
                blk->p10[i] = (float)pct_cont(vals, nv, 0.1);
                blk->p50[i] = (float)pct_cont(vals, nv, 0.5);
                blk->last[i] = last;
                if (!c || c->key >> 6 != bk) { /* the block is complete */
                    st = send_block(R, bk, blk);
                    blk->n = 0;
                }
            }
            nv = 0;
            tests = meeting = 0;
            last = INT64_MIN;
        }
        if (!c || st != LS_OK)
            break;
        key = c->key;
        if (nv == vcap) {
            size_t ncap = vcap ? vcap * 2 : 1024;
            float *nvals = realloc(vals, ncap * sizeof(*nvals));
            if (!nvals) {
                st = LS_ENOMEM;
                break;
            }
            vals = nvals;
            vcap = ncap;
        }
        vals[nv++] = c->down;
        tests++;
        meeting += c->meets;
        if (c->t_us > last)
            last = c->t_us;
        if (!want_known) {
            a13.key = c->key >> 6;
            a13.tests++;
            a13.meeting += c->meets;
            if (c->t_us > a13.last_us)
                a13.last_us = c->t_us;
            a13.hist[bin_of(c->down)]++; /* the stored value's bin, as hist_bin() sees it */
        }
        /* next record of that run */
        struct cursor *h = &cur[heap[0]];
        if (++h->i == h->n) {
            int f = cursor_fill(fd, h);
            if (f < 0) {
                st = LS_EIO;
                break;
            }
            if (f == 0)
                heap[0] = heap[--nh];
        }
        sift_down(cur, heap, nh, 0);
    }
#undef HEAD
    if (copying)
        st = copy_close(R, st, 1, want_known ? "of touched level-16 cells" : "of level-16 blocks",
                        NULL);
    if (st == LS_EIO)
        snprintf(R->err, R->errlen, "a temporary file could not be read back");
    free(vals);
    free(blk);
    free(heap);
    free(cur);
    return st;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The village blocks that exist already where the batch's rows are, as
 * sorted block keys (cell_key(13, ...)): looked up by the level-13 cells
 * the batch touched (R->agg, made as the runs were sorted), read row by
 * row. */
static ls_status blocks_known(struct run *R, uint64_t **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    uint32_t *par = malloc((R->agg.n ? R->agg.n : 1) * sizeof(*par));
    if (!par)
        return LS_ENOMEM;
    size_t np = 0;
    for (size_t i = 0; i < R->agg.n; i++) { /* level 13 only, before the merge */
        uint64_t k = R->agg.cell[i].key;
        par[np++] = (uint32_t)((k >> 27 & 0xffff) << 16 | (k >> 11 & 0xffff));
    }
    qsort(par, np, sizeof(*par), cmp_u32);
    buf a;
    buf_init(&a, 0);
    ls_status st = buf_puts(&a, "{");
    for (size_t i = 0; i < np && st == LS_OK; i++)
        if (i == 0 || par[i] != par[i - 1])
            st = buf_printf(&a, "%s%u", i ? "," : "", par[i]);
    if (st == LS_OK)
        st = buf_puts(&a, "}");
    free(par);
    if (st != LS_OK) {
        buf_free(&a);
        return st;
    }
    /* OFFSET 0 keeps the lookup a nested loop of index probes: a hash join
     * would read every block of the country for one file. */
    const char *p[] = {a.data};
    int ok = PQsendQueryParams(
        R->c,
        "SELECT b.block_x, b.block_y, b.carrier_code, b.technology FROM unnest($1::int[]) p(xy),"
        " LATERAL (SELECT block_x, block_y, carrier_code, technology FROM coverage_blocks"
        "  WHERE block_x = p.xy >> 16 AND block_y = p.xy & 65535 OFFSET 0) b",
        1, NULL, p, NULL, NULL, 0);
    buf_free(&a);
    if (!ok || !PQsetSingleRowMode(R->c)) {
        log_error("ingest: known blocks: %s", PQerrorMessage(R->c));
        return LS_EDB;
    }
    uint64_t *keys = NULL;
    size_t n = 0, cap = 0;
    PGresult *r;
    while ((r = PQgetResult(R->c))) {
        ExecStatusType es = PQresultStatus(r);
        if (es == PGRES_SINGLE_TUPLE && st == LS_OK) {
            int carrier = -1;
            for (int k = 0; k < R->ncarriers && carrier < 0; k++)
                if (strcmp(R->carriers[k].code, PQgetvalue(r, 0, 2)) == 0)
                    carrier = k;
            const char *tech = PQgetvalue(r, 0, 3);
            if (carrier >= 0 && tech[0] >= '2' && tech[0] <= '5') {
                if (n == cap) {
                    size_t ncap = cap ? cap * 2 : 1024;
                    uint64_t *nk = realloc(keys, ncap * sizeof(*nk));
                    if (!nk)
                        st = LS_ENOMEM;
                    else {
                        keys = nk;
                        cap = ncap;
                    }
                }
                if (st == LS_OK)
                    keys[n++] = cell_key(13, atoi(PQgetvalue(r, 0, 0)), atoi(PQgetvalue(r, 0, 1)),
                                         carrier, tech[0] - '0');
            }
        } else if (es != PGRES_SINGLE_TUPLE && es != PGRES_TUPLES_OK) {
            log_error("ingest: known blocks: %s", PQerrorMessage(R->c));
            st = LS_EDB;
        }
        PQclear(r);
    }
    if (st != LS_OK) {
        free(keys);
        return st;
    }
    if (n)
        qsort(keys, n, sizeof(*keys), cmp_u64);
    *out = keys;
    *nout = n;
    return LS_OK;
}

static ls_status cells(struct run *R, int all_new)
{
    PGresult *r = NULL;
    ls_status st;
    /* With no duplicate every row read is stored: the cells come from the
     * rows' level-16 parts merged in C (the coarse ones summed in that
     * merge).  Otherwise from exactly the rows this batch stored, kept by
     * merge() in ingest_new with their carrier and technology as texts. */
    if (all_new) {
        R->s->meeting_min = R->n_meet;
        R->s->below_min = R->n_below;
    } else {
        st = db_query(R->c, "ingest: count",
                      "SELECT count(*) FILTER (WHERE meets_min),"
                      " count(*) FILTER (WHERE NOT meets_min) FROM ingest_new",
                      0, NULL, &r, NULL, 0);
        if (st != LS_OK)
            return st;
        R->s->meeting_min = atoll(PQgetvalue(r, 0, 0));
        R->s->below_min = atoll(PQgetvalue(r, 0, 1));
        PQclear(r);
    }

    /* Village-level cells, in their blocks (geo/sql/011_village_blocks.sql):
     * counts, p10/p50 exact.  In the usual case (every row read was
     * stored) the batch's cells come from the rows' level-16 parts merged
     * here, and the blocks that did not exist go straight into
     * coverage_blocks with COPY.  The cells of blocks that existed, and
     * every cell when the batch met stored rows, are recomputed from their
     * raw rows (few: a cell is ~600 m wide), found through the key that
     * leads with the cell.  The lock makes concurrent batches take turns
     * here (readers are not blocked): without it two batches could both
     * insert one new block, or each recompute a cell without the other's
     * rows. */
    struct clocks tl = clocks_now(R->c);
    st = db_exec(R->c, "LOCK TABLE coverage_cells, coverage_blocks IN SHARE ROW EXCLUSIVE MODE");
    /* Sorts in memory, not in files on disk (the server's memory, for this
     * transaction only). */
    if (st == LS_OK)
        st = db_exec(R->c, "SET LOCAL work_mem = '256MB'");
    uint64_t *known = NULL;
    size_t nknown = 0;
    if (st == LS_OK && all_new) {
        struct clocks tk = clocks_now(R->c);
        st = blocks_known(R, &known, &nknown);
        log_debug("ingest: level-16 blocks of the batch that exist: %zu", nknown);
        clocks_log(R->c, tk, "cells level 16: lookup");
    }
    if (st == LS_OK && all_new)
        st = cells16_send(R, known, nknown, 0);
    if (st == LS_OK && (!all_new || nknown))
        st = db_exec(R->c, "CREATE TEMP TABLE ingest_touched16 (block_x int, block_y int,"
                           " carrier_code text, technology text, sub smallint) ON COMMIT DROP");
    if (st == LS_OK && all_new && nknown) {
        st = cells16_send(R, known, nknown, 1);
    } else if (st == LS_OK && !all_new) {
        st = db_exec(R->c, "INSERT INTO ingest_touched16 SELECT DISTINCT (cell16 >> 19)::int,"
                           " (cell16 & 65535)::int >> 3, carrier_code, technology,"
                           " ((cell16 & 7) * 8 + (cell16 >> 16 & 7))::smallint FROM ingest_new");
    }
    free(known);
    clocks_log(R->c, tl, "cells level 16: the batch's (new blocks stored)");
    if (st == LS_OK && (!all_new || nknown)) {
        st = db_exec(R->c, "ANALYZE ingest_touched16");
        if (st == LS_OK)
            st = db_query(R->c, "ingest: blocks", "SELECT coverage_blocks_recompute()", 0, NULL,
                          NULL, NULL, 0);
    }
    clocks_log(R->c, tl, "cells level 16");
    if (st != LS_OK)
        return st;

    /* Coarser cells: counts and histograms added up. */
    if (all_new) {
        tl = clocks_now(R->c);
        st = send_coarse(R);
        clocks_log(R->c, tl, "coarse cells (summed in the merge)");
        return st;
    }
    static const int levels[] = {13, 10, 7};
    for (size_t k = 0; k < sizeof(levels) / sizeof(levels[0]); k++) {
        tl = clocks_now(R->c);
        char z[16], shift[16];
        snprintf(z, sizeof(z), "%d", levels[k]);
        snprintf(shift, sizeof(shift), "%d", 16 - levels[k]);
        const char *p[] = {z, shift};
        st = db_query(R->c, "ingest: cells", coarse_sql, 2, p, NULL, NULL, 0);
        clocks_log(R->c, tl,
                   levels[k] == 13   ? "cells level 13"
                   : levels[k] == 10 ? "cells level 10"
                                     : "cells level 7");
        if (st != LS_OK)
            return st;
    }
    return LS_OK;
}

/* ------------------------------------------------------------- driver */

static ls_status run_rows(struct run *R)
{
    const char *const *v;
    double gx = 0, gy = 0;
    int hp = 0;
    long long rowno;
    int more;
    /* The original values, for the reject file: kept by the reader in
     * R->raw as they are (each with its NUL) and made CSV only for a row
     * that is rejected. */
    ingest_reader_keep_rows(R->rd, &R->raw);
    size_t row_start = R->raw.len;
    while ((more = ingest_reader_next(R->rd, &v, &gx, &gy, &hp, &rowno, R->err, R->errlen)) == 1) {
        struct rec *r = &R->recs[R->nrec++];
        memset(r, 0, sizeof(*r));
        r->rowno = rowno;
        r->raw = row_start;
        parse_row(R, v, gx, gy, hp, r);
        if (!R->replay)
            R->s->rows++;
        if (R->nrec == CHUNK) {
            ls_status st = finish_chunk(R); /* empties R->raw */
            if (st != LS_OK) {
                ingest_reader_keep_rows(R->rd, NULL);
                return st;
            }
            if (R->o->progress && !R->replay)
                progress(R, R->s->rows, 0);
        }
        row_start = R->raw.len;
    }
    ingest_reader_keep_rows(R->rd, NULL);
    if (more < 0)
        return LS_EINVAL;
    ls_status st = finish_chunk(R);
    if (st == LS_OK)
        st = submit_run(R);
    ls_status st2 = runs_finish(R);
    if (R->o->progress && !R->replay)
        progress(R, R->s->rows, 1);
    return st != LS_OK ? st : st2;
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
    R.stream_month = -1;
    buf_init(&R.raw, 0);
    buf_init(&R.line, 0);
    buf_init(&R.copy, 0);
    *err = '\0';
    int in_tx = 0;
    ls_status st = LS_OK;

    R.recs = calloc(CHUNK, sizeof(*R.recs));
    if (!R.recs) {
        st = LS_ENOMEM;
        goto out;
    }
    /* The province grid is built on a thread of its own while the file is
     * opened and its columns are matched, the batch starts and the first
     * rows are read (finish_chunk waits for it). */
    if ((st = geo_area_begin(c, &R.area_job, err, errlen)) != LS_OK)
        goto out;
    if ((st = ingest_reader_open(o->path, &R.rd, err, errlen)) != LS_OK)
        goto out;
    R.cols = ingest_reader_columns(R.rd, &R.ncols);
    if (!(R.vals = calloc((size_t)(R.ncols ? R.ncols : 1), sizeof(*R.vals)))) {
        st = LS_ENOMEM;
        goto out;
    }
    /* Counting rows can mean reading the file once more: only for a
     * progress line someone watches. */
    R.count_hint = o->progress ? ingest_reader_count_hint(R.rd) : -1;
    ingest_rejects_init(&R.rej, o->reject_path, R.cols, R.ncols);
    if ((st = ingest_source_mapping(R.rd, INGEST_MEASUREMENTS, o->maps, o->nmaps, &R.m, err,
                                    errlen)) != LS_OK)
        goto out;
    /* Coordinates: the features' geometry when the layer has one and no
     * coordinate columns were named explicitly; else the columns. */
    R.use_geometry = ingest_source_use_geometry(R.rd, &R.m);
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
    double ts = wall();
    if ((st = ingest_source_crs(R.rd, &R.m, R.use_geometry, o->crs, &R.crs, s->crs, sizeof(s->crs),
                                &s->swapped_xy, err, errlen)) != LS_OK)
        goto out;
    log_debug("ingest: CRS chosen %.3f s", wall() - ts);

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
    struct clocks t_read = clocks_now(c);
    if ((st = runs_start(&R)) != LS_OK)
        goto out;
    st = run_rows(&R);
    if (st != LS_OK)
        goto out;
    if (s->rows == 0) {
        snprintf(err, errlen, "%s has no rows", o->source_name ? o->source_name : o->path);
        st = LS_EINVAL;
        goto out;
    }
    clocks_log(c, t_read, "read, check and send");
    struct clocks t_merge = clocks_now(c);
    st = merge(&R);
    clocks_log(c, t_merge, "merge and cells");
    if (st != LS_OK) {
        if (!*err)
            snprintf(err, errlen, "the rows could not be stored");
        goto out;
    }
    if (R.rej.n > 0)
        snprintf(s->reject_file, sizeof(s->reject_file), "%s", o->reject_path);
    if (o->verify && s->accepted > 0) {
        /* The points near the new tests, judged in the batch's transaction:
         * a point's status is current as soon as the upload returns. */
        char b[32], mt[16], md[16], rm[32], ms[32];
        snprintf(b, sizeof(b), "%lld", s->batch);
        snprintf(mt, sizeof(mt), "%d", o->verify->verify_min_tests);
        snprintf(md, sizeof(md), "%d", o->verify->verify_min_days);
        snprintf(rm, sizeof(rm), "%g", o->verify->verify_radius_m);
        snprintf(ms, sizeof(ms), "%g", o->verify->verify_min_share);
        const char *pv[] = {b, mt, md, rm, ms};
        PGresult *rv = NULL;
        double tv = wall();
        st = db_query(c, "ingest: verify",
                      "SELECT * FROM verify_points($1::bigint, $2::int, $3::int, $4::float8,"
                      " $5::float8)",
                      5, pv, &rv, NULL, 0);
        if (st != LS_OK) {
            snprintf(err, errlen, "the points near the new tests could not be checked");
            goto out;
        }
        s->verified = atoi(PQgetvalue(rv, 0, 0));
        s->reopened = atoi(PQgetvalue(rv, 0, 1));
        s->disputed = atoi(PQgetvalue(rv, 0, 2));
        PQclear(rv);
        log_debug("ingest: points checked %.3f s", wall() - tv);
    }
    snprintf(s->notes, sizeof(s->notes),
             "read with %s in %s%s; points verified %d, reopened %d, disputed %d",
             ingest_reader_driver(R.rd), s->crs,
             s->swapped_xy ? "; X and Y were swapped (northing given as X)" : "", s->verified,
             s->reopened, s->disputed);
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
    if ((st = ingest_rejects_publish(&R.rej, err, errlen)) != LS_OK)
        goto out;
    if (own_tx) {
        st = db_exec(c, "COMMIT");
        in_tx = 0;
        if (st != LS_OK)
            snprintf(err, errlen, "the batch could not be committed; nothing was stored");
        else
            geo_area_save(c); /* when the grid was built here: for the runs after this one */
    }
out:
    runs_finish(&R); /* the sender stops before the connection is touched */
    restore_socket(&R);
    if (R.streaming) {
        PQputCopyEnd(c, "ingest aborted");
        PGresult *re;
        while ((re = PQgetResult(c)))
            PQclear(re);
    }
    for (int i = 0; i < R.nspool; i++)
        if (R.spool[i].f)
            fclose(R.spool[i].f);
    if (in_tx) {
        PGresult *rb;
        while ((rb = PQgetResult(c)))
            PQclear(rb);
        db_exec(c, "ROLLBACK");
    }
    if (st != LS_OK && !*err && *R.serr)
        snprintf(err, errlen, "%s", R.serr);
    if (st != LS_OK) {
        ingest_rejects_discard(&R.rej);
        s->reject_file[0] = '\0';
    }
    free(R.agg.slot);
    free(R.agg.cell);
    for (int i = 0; i < 2; i++) {
        free(R.runs[i].rows);
        free(R.runs[i].keys);
    }
    free(R.crecs);
    free(R.sort_tmp);
    free(R.sort_count);
    if (R.cellf)
        fclose(R.cellf);
    free(R.run_end);
    if (R.area_job) {
        geo_area *a = NULL;
        char aerr[256];
        if (geo_area_end(R.area_job, &a, aerr, sizeof(aerr)) == LS_OK)
            geo_area_release(a);
    }
    geo_area_release(R.area);
    geo_crs_free(R.crs);
    ingest_reader_close(R.rd);
    buf_free(&R.raw);
    buf_free(&R.line);
    free(R.vals);
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
