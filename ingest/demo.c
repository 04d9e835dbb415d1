/*
 * demo.c — `lomsong demo`: a year of believable speed tests across the 34
 * provinces, so that a new installation's coverage maps and endpoints have
 * something true-to-life to show.  The tests are written as an ordinary CSV
 * and loaded through the real ingest pipeline (validation, dedupe, the
 * 40 Mbps test, coverage cells): the demo exercises what users will use.
 *
 * Deterministic: the same seed gives the same file, so running it again
 * adds nothing (every row is a duplicate).  Points are sampled inside each
 * province by PostGIS (ST_GeneratePoints with a seed); speeds depend on the
 * province (cities fast, mountains slow, with dead-zone clusters where a
 * few kilometres around a spot get almost nothing), the carrier and the
 * technology.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"
#include "measure.h"
#include "../api/cli.h"
#include "../geo/db.h"

/* Cities: dense, fast networks.  Mountains and the central highlands: where
 * MIC's dead-zone lists come from. */
static const char *const urban[] = {"01", "79", "48", "31", "92", "24", "33"};
static const char *const mountain[] = {"04", "08", "11", "12", "14", "15", "20", "52",
                                       "66", "68", "44", "40", "51", "42", "38"};
static const char *const carriers[] = {"viettel", "vinaphone", "mobifone", "vietnamobile"};

static int in_list(const char *code, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(code, list[i]) == 0)
            return 1;
    return 0;
}

/* xorshift64*: small, fast, and the same everywhere. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

/* A log-normal speed around `median` Mbps. */
static double speed(uint64_t *s, double median, double spread)
{
    double u1 = rng_unit(s), u2 = rng_unit(s);
    double z = sqrt(-2.0 * log(u1 + 1e-12)) * cos(2 * M_PI * u2);
    return median * exp(spread * z);
}

int ingest_demo_cli(const ls_config *cfg, int argc, char **argv)
{
    static const char *const flags[] = {"points", "seed", NULL};
    const char *v[3], *pos[1];
    char err[1024];
    if (cli_parse(argc, argv, 1, flags, v, pos, 0, err, sizeof(err)) < 0) {
        fprintf(stderr, "lomsong demo: %s\nusage: lomsong demo [--points N] [--seed N]\n", err);
        return 2;
    }
    long points = v[0] ? strtol(v[0], NULL, 10) : 6000;
    long seed = v[1] ? strtol(v[1], NULL, 10) : 2025;
    if (points < 34 || points > 5000000) {
        fprintf(stderr, "lomsong demo: --points must be from 34 to 5000000\n");
        return 2;
    }
    char ci[2048];
    config_app_conninfo(cfg, ci, sizeof(ci));
    PGconn *c = NULL;
    if (db_connect(ci, &c) != LS_OK) {
        fprintf(stderr, "lomsong demo: cannot connect to the database\n");
        return 1;
    }
    int rc = 1;
    PGresult *r = NULL;
    FILE *f = NULL;
    char path[] = "/tmp/lomsong-demo-XXXXXX.csv";
    int fd = -1;
    if (db_exec(c, "SELECT set_config('lomsong.role', 'system', false)") != LS_OK)
        goto out;
    /* Points per province: more where more people are, at least a few. */
    char n[32], sd[32];
    snprintf(n, sizeof(n), "%ld", points / 34 > 0 ? points / 34 : 1);
    snprintf(sd, sizeof(sd), "%ld", seed);
    const char *p[] = {n, sd};
    if (db_query(c, "demo: points",
                 "SELECT u.code, ST_X(g.geom), ST_Y(g.geom)"
                 " FROM (SELECT code, geom_simple, row_number() OVER (ORDER BY code) AS k"
                 "  FROM admin_units WHERE level = 'province' AND valid_to IS NULL) u,"
                 " ST_Dump(ST_GeneratePoints(u.geom_simple, $1::int, ($2::int + u.k::int)))"
                 " AS g ORDER BY u.code, g.path",
                 2, p, &r, NULL, 0) != LS_OK) {
        fprintf(stderr, "lomsong demo: no provinces to place tests in (load the units first)\n");
        goto out;
    }
    if (PQntuples(r) == 0) {
        fprintf(stderr, "lomsong demo: no provinces are loaded: run lomsong units load first\n");
        goto out;
    }
    fd = mkstemps(path, 4);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        fprintf(stderr, "lomsong demo: cannot write %s\n", path);
        goto out;
    }
    fd = -1;
    fputs("lat,lon,time,download_mbps,upload_mbps,ping_ms,operator,network_type\n", f);
    uint64_t s = (uint64_t)seed * 0x9E3779B97F4A7C15ULL + 1;
    const double t0 = 1761955200.0; /* 2025-11-01T00:00:00Z: a year of tests from here */
    long rows = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *code = PQgetvalue(r, i, 0);
        double lon = atof(PQgetvalue(r, i, 1)), lat = atof(PQgetvalue(r, i, 2));
        int is_urban = in_list(code, urban, LS_ARRAY_LEN(urban));
        int is_mountain = in_list(code, mountain, LS_ARRAY_LEN(mountain));
        /* One point in eight in the mountains is a dead-zone spot. */
        int dead = is_mountain && rng_unit(&s) < 0.125;
        /* A short drive: every carrier measured a few times around the point. */
        for (size_t k = 0; k < LS_ARRAY_LEN(carriers); k++) {
            int tests = 1 + (int)(rng_unit(&s) * 3);
            for (int j = 0; j < tests; j++) {
                double dlat = (rng_unit(&s) - 0.5) * 0.004, dlon = (rng_unit(&s) - 0.5) * 0.004;
                double u = rng_unit(&s);
                const char *tech = is_urban && u < 0.25     ? "5G"
                                   : is_mountain && u < 0.3 ? "3G"
                                                            : "4G";
                double median = is_urban ? 95 : is_mountain ? 32 : 58;
                if (strcmp(tech, "5G") == 0)
                    median *= 3;
                if (strcmp(tech, "3G") == 0)
                    median = 7;
                median *= 0.85 + 0.1 * (double)k / 2.0; /* carriers differ a little */
                double down = dead ? rng_unit(&s) * 6 : speed(&s, median, 0.6);
                if (down > 2000)
                    down = 2000;
                double up = down * (0.15 + rng_unit(&s) * 0.2);
                int ping = (int)(dead ? 150 + rng_unit(&s) * 400 : 15 + rng_unit(&s) * 60);
                double t = t0 + rng_unit(&s) * 365 * 86400.0;
                time_t tt = (time_t)t;
                struct tm tm;
                gmtime_r(&tt, &tm);
                char ts[32];
                strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
                fprintf(f, "%.6f,%.6f,%s,%.2f,%.2f,%d,%s,%s\n", lat + dlat, lon + dlon, ts, down,
                        up, ping, carriers[k], tech);
                rows++;
            }
        }
    }
    if (fclose(f) != 0) {
        f = NULL;
        fprintf(stderr, "lomsong demo: cannot write %s\n", path);
        goto out;
    }
    f = NULL;
    int places = PQntuples(r);
    PQclear(r);
    r = NULL;

    ingest_opts o;
    memset(&o, 0, sizeof(o));
    char rejects[64];
    snprintf(rejects, sizeof(rejects), "%s.rejects.csv", path);
    o.path = path;
    o.source_name = "demo drive tests";
    o.reject_path = rejects;
    o.min_download = cfg->min_download_mbps;
    o.min_upload = cfg->min_upload_mbps;
    o.max_latency = cfg->max_latency_ms;
    o.verify = cfg;
    ingest_summary sum;
    if (ingest_measurements(c, &o, &sum, err, sizeof(err)) != LS_OK) {
        fprintf(stderr, "lomsong demo: %s\n", err);
        goto out;
    }
    unlink(rejects);
    printf("demo: %ld speed tests around %d places across the provinces: %lld stored (%lld meet "
           "the %g Mbps minimum), %lld already there, %lld outside the area\n",
           rows, places, sum.accepted, sum.meeting_min, o.min_download, sum.duplicates,
           sum.rejected);
    rc = 0;
out:
    if (f)
        fclose(f);
    if (fd >= 0)
        close(fd);
    unlink(path);
    PQclear(r);
    PQfinish(c);
    return rc;
}
