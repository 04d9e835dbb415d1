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

/* A year of dead-zone reports and their progress, written as the API would
 * write them (points, reports, assignments, an event for every step with
 * its date): clustered in the mountains, some waiting for triage, some
 * rejected as duplicates, many blocked for lack of grid power (the 2022
 * story), some overdue, the rest fixed.  None is marked verified here: the
 * speed tests below, taken near most fixed points after the fix, verify them
 * through the real rule when they are loaded.  Deterministic (setseed). */
static const char demo_points_sql[] =
    "DO $demo$\n"
    "DECLARE\n"
    "  pr record; i int; pid bigint; pt geometry; rep timestamptz; tech text; r float8;\n"
    "  r2 float8; c text; due date; t timestamptz; nrep int; ppl int;\n"
    "  allc text[] := ARRAY['viettel', 'vinaphone', 'mobifone', 'vietnamobile'];\n"
    "  hills text[] := ARRAY['04','08','11','12','14','15','20','52','66','68','44','40','51',"
    "'42','38'];\n"
    "  t0 timestamptz := '2025-11-01 08:00:00+07';\n"
    "BEGIN\n"
    "  PERFORM setseed(0.2025);\n"
    "  FOR pr IN SELECT code, geom_simple FROM admin_units WHERE level = 'province'\n"
    "            AND valid_to IS NULL ORDER BY code LOOP\n"
    "    FOR i IN 1 .. CASE WHEN pr.code = ANY (hills) THEN 30 ELSE 6 END LOOP\n"
    "      SELECT (ST_Dump(ST_GeneratePoints(pr.geom_simple, 1, 7000 + i + 100 * pr.code::int)))"
    ".geom INTO pt;\n"
    "      rep := t0 + random() * interval '300 days';\n"
    "      tech := CASE WHEN random() < 0.75 THEN '4G' ELSE '3G' END;\n"
    "      nrep := 1 + floor(random() * 3)::int;\n"
    "      ppl := 30 + floor(random() * 600)::int;\n"
    "      INSERT INTO dz_points (geom, province_code, technology, report_count, people_affected,"
    " first_reported, updated_at) VALUES (pt, pr.code, tech, nrep, ppl, rep, rep)"
    " RETURNING id INTO pid;\n"
    "      INSERT INTO reports (point_id, province_code, geom, technology, carriers, symptom,"
    " place, people_affected, source, client_ref, created_at) VALUES (pid, pr.code, pt, tech,"
    " ARRAY[allc[1 + floor(random() * 4)::int]],"
    " (ARRAY['no_signal', 'weak_signal', 'slow_data'])[1 + floor(random() * 3)::int],"
    " 'Thôn ' || (ARRAY['Nậm', 'Pá', 'Huổi', 'Lũng', 'Bản', 'Khe', 'Làng'])"
    "[1 + floor(random() * 7)::int] || ' ' || (1 + floor(random() * 20)::int), ppl, 'map',"
    " 'demo-' || pr.code || '-' || i, rep);\n"
    "      INSERT INTO events (point_id, province_code, at, actor_role, kind, to_status, note)"
    " VALUES (pid, pr.code, rep, 'locality', 'report', 'reported', 'demo data');\n"
    "      r := random();\n"
    "      CONTINUE WHEN r < 0.07;\n"
    "      t := rep + interval '2 days';\n"
    "      IF r < 0.11 THEN\n"
    "        UPDATE dz_points SET status = 'rejected', rejected_reason = 'duplicate',"
    " updated_at = t WHERE id = pid;\n"
    "        INSERT INTO events (point_id, province_code, at, actor_role, kind, from_status,"
    " to_status, reason) VALUES (pid, pr.code, t, 'ministry', 'transition', 'reported',"
    " 'rejected', 'duplicate');\n"
    "        CONTINUE;\n"
    "      END IF;\n"
    "      UPDATE dz_points SET status = 'triaged', updated_at = t WHERE id = pid;\n"
    "      INSERT INTO events (point_id, province_code, at, actor_role, kind, from_status,"
    " to_status) VALUES (pid, pr.code, t, 'ministry', 'transition', 'reported', 'triaged');\n"
    "      CONTINUE WHEN r < 0.15;\n"
    "      t := t + interval '3 days';\n"
    "      due := (t + interval '90 days')::date;\n"
    "      c := allc[1 + floor(random() * 4)::int];\n"
    "      INSERT INTO assignments (point_id, carrier_code, province_code, due_date, assigned_at,"
    " updated_at) VALUES (pid, c, pr.code, due, t, t);\n"
    "      UPDATE dz_points SET status = 'assigned', due_date = due, updated_at = t"
    " WHERE id = pid;\n"
    "      INSERT INTO events (point_id, province_code, carrier_code, at, actor_role, kind,"
    " from_status, to_status, data) VALUES (pid, pr.code, c, t, 'ministry', 'transition',"
    " 'triaged', 'assigned', jsonb_build_object('carriers', jsonb_build_array(c),"
    " 'due', due));\n"
    "      r2 := random();\n"
    "      t := least(t + interval '10 days' + random() * interval '20 days',"
    " now() - interval '2 days');\n"
    "      IF (pr.code = ANY (hills) AND r2 < 0.14) OR r2 < 0.03 THEN\n"
    "        UPDATE assignments SET status = 'blocked', blocked_reason = 'no_power',"
    " updated_at = t WHERE point_id = pid;\n"
    "        UPDATE dz_points SET status = 'blocked', blocked_reason = 'no_power', updated_at = t"
    " WHERE id = pid;\n"
    "        INSERT INTO events (point_id, province_code, carrier_code, at, actor_role, kind,"
    " from_status, to_status, reason) VALUES (pid, pr.code, c, t, 'carrier', 'transition',"
    " 'assigned', 'blocked', 'no_power');\n"
    "      ELSIF r2 < 0.19 THEN\n"
    "        UPDATE assignments SET status = 'blocked', blocked_reason = 'site_permit',"
    " updated_at = t WHERE point_id = pid;\n"
    "        UPDATE dz_points SET status = 'blocked', blocked_reason = 'site_permit',"
    " updated_at = t WHERE id = pid;\n"
    "        INSERT INTO events (point_id, province_code, carrier_code, at, actor_role, kind,"
    " from_status, to_status, reason) VALUES (pid, pr.code, c, t, 'carrier', 'transition',"
    " 'assigned', 'blocked', 'site_permit');\n"
    "      ELSIF r2 < 0.40 THEN\n"
    "        UPDATE assignments SET status = 'in_progress', updated_at = t WHERE point_id = pid;\n"
    "        UPDATE dz_points SET status = 'in_progress', updated_at = t WHERE id = pid;\n"
    "        INSERT INTO events (point_id, province_code, carrier_code, at, actor_role, kind,"
    " from_status, to_status) VALUES (pid, pr.code, c, t, 'carrier', 'transition', 'assigned',"
    " 'in_progress');\n"
    "      ELSE\n"
    "        UPDATE assignments SET status = 'fixed', updated_at = t WHERE point_id = pid;\n"
    "        UPDATE dz_points SET status = 'fixed', fixed_at = t, due_date = NULL, updated_at = t"
    " WHERE id = pid;\n"
    "        INSERT INTO events (point_id, province_code, carrier_code, at, actor_role, kind,"
    " from_status, to_status, note) VALUES (pid, pr.code, c, t, 'carrier', 'transition',"
    " 'assigned', 'fixed', 'new site on air');\n"
    "      END IF;\n"
    "    END LOOP;\n"
    "  END LOOP;\n"
    "END\n"
    "$demo$";

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

    /* The dead-zone points, once; then tests near most fixed ones, after the
     * fix, on three days, so that loading them verifies those fixes. */
    long points_made = 0, fixes_tested = 0;
    {
        PGresult *q = NULL;
        if (db_query(c, "demo: have points",
                     "SELECT count(*) FROM reports WHERE client_ref LIKE 'demo-%'", 0, NULL, &q,
                     NULL, 0) != LS_OK)
            goto out;
        int have = atoi(PQgetvalue(q, 0, 0)) > 0;
        PQclear(q);
        if (!have) {
            if (db_exec(c, "BEGIN") != LS_OK || db_exec(c, demo_points_sql) != LS_OK ||
                db_exec(c, "COMMIT") != LS_OK) {
                db_exec(c, "ROLLBACK");
                fprintf(stderr, "lomsong demo: the demo dead-zone points could not be made\n");
                goto out;
            }
        }
        if (db_query(c, "demo: fixed points",
                     "SELECT p.id, ST_X(p.geom), ST_Y(p.geom), p.technology,"
                     " extract(epoch FROM p.fixed_at), a.carrier_code,"
                     " (SELECT count(*) FROM reports WHERE client_ref LIKE 'demo-%')"
                     " FROM dz_points p JOIN assignments a ON a.point_id = p.id"
                     " JOIN reports r ON r.point_id = p.id AND r.client_ref LIKE 'demo-%'"
                     " WHERE p.status IN ('fixed', 'verified') AND p.fixed_at IS NOT NULL"
                     " ORDER BY p.id",
                     0, NULL, &q, NULL, 0) != LS_OK)
            goto out;
        uint64_t vs = (uint64_t)seed * 31 + 7;
        for (int i = 0; i < PQntuples(q); i++) {
            points_made = atol(PQgetvalue(q, i, 6));
            if (rng_unit(&vs) < 0.2)
                continue; /* not measured yet: stays fixed, awaiting verification */
            double plon = atof(PQgetvalue(q, i, 1)), plat = atof(PQgetvalue(q, i, 2));
            double fixed = atof(PQgetvalue(q, i, 4));
            for (int k = 0; k < 6; k++) {
                double t = fixed + 86400.0 * (1 + k / 2) + 3600.0 * (1 + k);
                if (t > (double)time(NULL) - 3600)
                    break;
                time_t tt = (time_t)t;
                struct tm tm;
                gmtime_r(&tt, &tm);
                char ts[32];
                strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
                fprintf(f, "%.6f,%.6f,%s,%.2f,%.2f,%d,%s,%s\n",
                        plat + (rng_unit(&vs) - 0.5) * 0.002, plon + (rng_unit(&vs) - 0.5) * 0.002,
                        ts, 55 + rng_unit(&vs) * 60, 12 + rng_unit(&vs) * 10,
                        20 + (int)(rng_unit(&vs) * 30), PQgetvalue(q, i, 5), PQgetvalue(q, i, 3));
            }
            fixes_tested++;
        }
        PQclear(q);
    }
    uint64_t s = (uint64_t)seed * 0x9E3779B97F4A7C15ULL + 1;
    const double t0 = 1761955200.0; /* 2025-11-01T00:00:00Z: a year of tests from here */
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
    printf("demo: %lld speed tests around %d places and %ld fixed points: %lld stored (%lld meet "
           "the %g Mbps minimum), %lld already there, %lld outside the area\n",
           sum.rows, places, fixes_tested, sum.accepted, sum.meeting_min, o.min_download,
           sum.duplicates, sum.rejected);
    printf("demo: %ld dead-zone points reported; tests near %ld fixed ones verified %d\n",
           points_made, fixes_tested, sum.verified);
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
