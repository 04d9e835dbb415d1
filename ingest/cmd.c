/*
 * cmd.c — `lomsong ingest ...` on the command line.  Each file is its own
 * batch (its own transaction); one summary line (or JSON object) per file.
 * The command line is trusted operator access: it runs as the application
 * role in the 'system' security context.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "measure.h"
#include "reports.h"
#include "../api/auth.h"
#include "../api/log.h"
#include "../geo/db.h"

#define MAX_FILES 256
#define MAX_MAPS 32

static int usage(void)
{
    fprintf(stderr, "usage: lomsong ingest measurements FILE... [--crs CRS] [--carrier CODE]\n"
                    "         [--tech 3G|4G|5G] [--map FIELD=COLUMN|COLUMN=FIELD]... [--rejects "
                    "PATH] [--json]\n"
                    "       lomsong ingest reports FILE... --token TOKEN [--crs CRS]\n"
                    "         [--map FIELD=COLUMN|COLUMN=FIELD]... [--rejects PATH] [--json]\n");
    return 2;
}

/* What both commands take: files, --map, --rejects, --json, and the value
 * options of the command (name and where its value goes). */
struct ingest_args {
    const char *files[MAX_FILES];
    int nfiles;
    const char *maps[MAX_MAPS];
    int nmaps;
    int json;
    const char *rejects;
};

struct value_opt {
    const char *name;
    const char **slot;
};

/* 0 when the arguments are good, else the exit code (the message said). */
static int parse_args(int argc, char **argv, const struct value_opt *opts, int nopts,
                      struct ingest_args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        const char **slot = NULL;
        if (strcmp(arg, "--json") == 0) {
            a->json = 1;
            continue;
        }
        if (strcmp(arg, "--rejects") == 0)
            slot = &a->rejects;
        for (int k = 0; k < nopts && !slot; k++)
            if (strcmp(arg, opts[k].name) == 0)
                slot = opts[k].slot;
        if (slot || strcmp(arg, "--map") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "lomsong ingest: %s needs a value\n", arg);
                return 2;
            }
            if (slot) {
                *slot = argv[++i];
            } else if (a->nmaps < MAX_MAPS) {
                a->maps[a->nmaps++] = argv[++i];
            } else {
                fprintf(stderr, "lomsong ingest: at most %d --map options\n", MAX_MAPS);
                return 2;
            }
            continue;
        }
        if (strncmp(arg, "--", 2) == 0) {
            fprintf(stderr, "lomsong ingest: unknown option %s\n", arg);
            return usage();
        }
        if (a->nfiles == MAX_FILES) {
            fprintf(stderr, "lomsong ingest: at most %d files at once\n", MAX_FILES);
            return 2;
        }
        a->files[a->nfiles++] = arg;
    }
    if (a->nfiles == 0)
        return usage();
    if (a->rejects && a->nfiles > 1) {
        fprintf(stderr, "lomsong ingest: --rejects names one file; with several inputs each "
                        "gets FILE.rejects.csv\n");
        return 2;
    }
    return 0;
}

/* Where file f's rejected rows go: --rejects, else FILE.rejects.csv. */
static void reject_path(const struct ingest_args *a, int f, char *out, size_t len)
{
    if (a->rejects)
        snprintf(out, len, "%s", a->rejects);
    else
        snprintf(out, len, "%s.rejects.csv", a->files[f]);
}

/* `lomsong ingest reports`: a locality's files, filed under its token
 * (its own row-level-security context, as over HTTP), one transaction per
 * file. */
static int ingest_reports_cli(const ls_config *cfg, int argc, char **argv)
{
    const char *token = getenv("LOMSONG_TOKEN"), *crs = NULL;
    const struct value_opt opts[] = {{"--token", &token}, {"--crs", &crs}};
    struct ingest_args a;
    int bad = parse_args(argc, argv, opts, 2, &a);
    if (bad)
        return bad;
    if (!token || !*token) {
        fprintf(stderr, "lomsong ingest reports: give the locality's token with --token TOKEN "
                        "(or LOMSONG_TOKEN)\n");
        return 2;
    }
    char ci[2048];
    config_app_conninfo(cfg, ci, sizeof(ci));
    PGconn *c = NULL;
    if (db_connect(ci, &c) != LS_OK) {
        fprintf(stderr, "lomsong ingest: cannot connect to the database\n");
        return 1;
    }
    int rc = 0;
    for (int f = 0; f < a.nfiles; f++) {
        char rpath[1100], err[1024] = "";
        reject_path(&a, f, rpath, sizeof(rpath));
        auth_identity who;
        ls_status st = db_exec(c, "BEGIN");
        if (st == LS_OK)
            st = db_exec(c, "SET LOCAL statement_timeout = 1800000");
        if (st == LS_OK) {
            st = auth_login(c, token, &who);
            if (st == LS_EUNAUTH)
                snprintf(err, sizeof(err), "the token is not valid: unknown, revoked or expired");
            else if (st == LS_OK && who.role != ROLE_LOCALITY) {
                snprintf(err, sizeof(err),
                         "reports are filed by a locality: this token is a %s account's",
                         who.role_name);
                st = LS_EFORBIDDEN;
            }
        }
        ingest_report_summary s;
        memset(&s, 0, sizeof(s));
        if (st == LS_OK) {
            ingest_report_opts o;
            memset(&o, 0, sizeof(o));
            o.path = a.files[f];
            o.source_name = a.files[f];
            o.crs = crs;
            o.maps = a.maps;
            o.nmaps = a.nmaps;
            o.reject_path = rpath;
            o.account_id = who.account_id;
            o.province = who.province_code;
            o.commune = strcmp(who.unit_level, "commune") == 0 ? who.unit_code : NULL;
            st = ingest_reports(c, &o, &s, err, sizeof(err));
        }
        if (st == LS_OK && (st = db_exec(c, "COMMIT")) != LS_OK)
            snprintf(err, sizeof(err), "the batch could not be committed");
        if (st != LS_OK) {
            if (PQtransactionStatus(c) != PQTRANS_IDLE)
                db_exec(c, "ROLLBACK");
            if (*s.reject_file)
                unlink(s.reject_file);
            fprintf(stderr, "lomsong ingest: %s: %s; nothing was stored\n", a.files[f],
                    *err ? err : ls_status_str(st));
            rc = 1;
            if (st == LS_EUNAUTH || st == LS_EFORBIDDEN)
                break;
            continue;
        }
        if (a.json) {
            char *j = ingest_report_summary_json(&s, NULL);
            printf("%s\n", j ? j : "{}");
            free(j);
        } else {
            printf("%s: batch %lld: %lld rows, %lld accepted (%lld reports filed: %lld new "
                   "points, %lld joined a point; %lld duplicates), %lld rejected%s%s\n",
                   a.files[f], s.batch, s.rows, s.accepted, s.reports, s.points_new,
                   s.points_joined, s.duplicates, s.rejected, *s.reject_file ? " -> " : "",
                   s.reject_file);
        }
        fprintf(stderr, "%s: %s\n", a.files[f], s.notes);
    }
    PQfinish(c);
    return rc;
}

static int ingest_measurements_cli(const ls_config *cfg, int argc, char **argv)
{
    ingest_opts o;
    memset(&o, 0, sizeof(o));
    const struct value_opt opts[] = {
        {"--crs", &o.crs}, {"--carrier", &o.carrier}, {"--tech", &o.tech}};
    struct ingest_args a;
    int bad = parse_args(argc, argv, opts, 3, &a);
    if (bad)
        return bad;
    if (o.tech && strcmp(o.tech, "2G") && strcmp(o.tech, "3G") && strcmp(o.tech, "4G") &&
        strcmp(o.tech, "5G")) {
        fprintf(stderr, "lomsong ingest: --tech must be 2G, 3G, 4G or 5G\n");
        return 2;
    }
    o.maps = a.maps;
    o.nmaps = a.nmaps;
    o.min_download = cfg->min_download_mbps;
    o.min_upload = cfg->min_upload_mbps;
    o.max_latency = cfg->max_latency_ms;
    o.progress = isatty(2);
    o.verify = cfg;

    char ci[2048];
    config_app_conninfo(cfg, ci, sizeof(ci));
    PGconn *c = NULL;
    if (db_connect(ci, &c) != LS_OK) {
        fprintf(stderr, "lomsong ingest: cannot connect to the database\n");
        return 1;
    }
    int rc = 0;
    if (db_exec(c, "SELECT set_config('lomsong.role', 'system', false)") != LS_OK) {
        PQfinish(c);
        return 1;
    }
    for (int f = 0; f < a.nfiles; f++) {
        char rpath[1100];
        reject_path(&a, f, rpath, sizeof(rpath));
        o.path = a.files[f];
        o.source_name = a.files[f];
        o.reject_path = rpath;
        ingest_summary s;
        char err[1024];
        ls_status st = ingest_measurements(c, &o, &s, err, sizeof(err));
        if (st != LS_OK) {
            fprintf(stderr, "lomsong ingest: %s: %s; nothing was stored\n", a.files[f],
                    *err ? err : ls_status_str(st));
            rc = 1;
            continue;
        }
        if (a.json) {
            char *j = ingest_summary_json(&s, NULL);
            printf("%s\n", j ? j : "{}");
            free(j);
        } else {
            printf("%s: batch %lld: %lld rows, %lld accepted (%lld meet the %g Mbps minimum, "
                   "%lld below), %lld duplicates, %lld rejected%s%s\n",
                   a.files[f], s.batch, s.rows, s.accepted, s.meeting_min, o.min_download,
                   s.below_min, s.duplicates, s.rejected, *s.reject_file ? " -> " : "",
                   s.reject_file);
        }
        fprintf(stderr, "%s: %s\n", a.files[f], s.notes);
    }
    PQfinish(c);
    return rc;
}

int ingest_cli(const ls_config *cfg, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "measurements") == 0)
        return ingest_measurements_cli(cfg, argc, argv);
    if (argc >= 2 && strcmp(argv[1], "reports") == 0)
        return ingest_reports_cli(cfg, argc, argv);
    return usage();
}
