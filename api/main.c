/*
 * main.c — the lomsong command line: one binary, one subcommand per job.
 * Settings flags (--listen, --db, ...; see `lomsong help config`) may stand
 * anywhere on the line; each subcommand parses the rest itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cli.h"
#include "config.h"
#include "log.h"
#include "server.h"
#include "../geo/db.h"
#include "../geo/migrate.h"
#include "../geo/units.h"
#include "../ingest/demo.h"
#include "../ingest/measure.h"
#include "../maps/export.h"

#ifndef LS_VERSION
#define LS_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: lomsong COMMAND [ARGS] [SETTINGS]\n"
               "\n"
               "commands:\n"
               "  serve [--listen ADDR:PORT] [--print-tokens]  run the HTTP server\n"
               "  migrate                         apply pending schema migrations\n"
               "  units load FILE --level province|commune --valid-from DATE [--valid-to DATE]\n"
               "  units load-merges FILE --effective DATE\n"
               "  units load-communes FILE --valid-from DATE\n"
               "  units locate LAT LON [--at DATE] print the province containing a point\n"
               "  units current CODE              print today's code for an old province code\n"
               "  carriers load FILE              load or update the carriers list\n"
               "  token create --role ROLE [--unit CODE] [--carrier CODE] [--name TEXT] "
               "[--expires DATE]\n"
               "  token list | token revoke ID|TOKEN\n"
               "  ingest measurements FILE... [--crs CRS] [--carrier CODE] [--tech 3G|4G|5G]\n"
               "         [--map FIELD=COLUMN]... [--rejects PATH] [--json]\n"
               "  export LAYER.FORMAT [--out FILE] [--token TOKEN] [--bbox W,S,E,N] [--unit CODE]\n"
               "         [--status S,...] [--carrier CODE] [--tech T] [--overdue true|false]\n"
               "         [--res 16|13|10|7] [--level province|commune] [--province CODE]\n"
               "                                  points|reports|coverage|units as\n"
               "                                  geojson|gpkg|kml|csv|xlsx|shp.zip\n"
               "  demo [--points N] [--seed N]    load a year of demo speed tests (idempotent)\n"
               "  db url                          print the connection strings in use\n"
               "  version                         print the version\n"
               "  help [config]                   this text, or the settings table\n");
}

static int cmd_migrate(const ls_config *cfg)
{
    char ci[2048];
    config_admin_conninfo(cfg, ci, sizeof(ci));
    PGconn *c = NULL;
    if (db_connect(ci, &c) != LS_OK) {
        fprintf(stderr,
                "lomsong migrate: cannot connect to the database (see the log line above)\n");
        return 1;
    }
    int applied = 0;
    ls_status st = geo_migrate(c, 1, &applied);
    int total = geo_migrate_applied(c);
    PQfinish(c);
    if (st != LS_OK) {
        fprintf(stderr,
                "lomsong migrate: failed (%s); the database is as it was before the "
                "failed migration\n",
                ls_status_str(st));
        return 1;
    }
    printf("migrations: %d applied now, %d in all, schema up to date\n", applied, total);
    return 0;
}

static int cmd_db(const ls_config *cfg, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "url") != 0) {
        fprintf(stderr, "usage: lomsong db url\n");
        return 2;
    }
    char ci[2048], masked[2048];
    config_app_conninfo(cfg, ci, sizeof(ci));
    config_mask_conninfo(ci, masked, sizeof(masked));
    printf("%s\n", masked);
    config_admin_conninfo(cfg, ci, sizeof(ci));
    config_mask_conninfo(ci, masked, sizeof(masked));
    fprintf(stderr, "admin: %s\n", masked);
    return 0;
}

int main(int argc, char **argv)
{
    ls_config cfg;
    char err[512];
    if (config_load(&cfg, err, sizeof(err)) != LS_OK) {
        fprintf(stderr, "lomsong: %s\n", err);
        return 2;
    }
    /* Pull the settings flags out; what is left goes to the subcommand. */
    char **rest = calloc((size_t)argc + 1, sizeof(char *));
    if (!rest)
        return 1;
    int n = 0;
    for (int i = 1; i < argc;) {
        int r = config_flag(&cfg, argc, argv, &i, err, sizeof(err));
        if (r < 0) {
            fprintf(stderr, "lomsong: %s\n", err);
            free(rest);
            return 2;
        }
        if (r == 0)
            rest[n++] = argv[i++];
    }
    log_level lv;
    if (log_parse_level(cfg.log_level, &lv) != 0) {
        fprintf(stderr, "lomsong: LOMSONG_LOG_LEVEL must be debug, info, warn, error or off\n");
        free(rest);
        return 2;
    }
    log_set_level(lv);

    int rc;
    const char *cmd = n > 0 ? rest[0] : "help";
    if (strcmp(cmd, "serve") == 0)
        rc = api_serve_cli(&cfg, n, rest);
    else if (strcmp(cmd, "migrate") == 0)
        rc = cmd_migrate(&cfg);
    else if (strcmp(cmd, "units") == 0)
        rc = geo_units_cli(&cfg, n, rest);
    else if (strcmp(cmd, "carriers") == 0)
        rc = geo_carriers_cli(&cfg, n, rest);
    else if (strcmp(cmd, "token") == 0)
        rc = auth_token_cli(&cfg, n, rest);
    else if (strcmp(cmd, "db") == 0)
        rc = cmd_db(&cfg, n, rest);
    else if (strcmp(cmd, "ingest") == 0)
        rc = ingest_cli(&cfg, n, rest);
    else if (strcmp(cmd, "demo") == 0)
        rc = ingest_demo_cli(&cfg, n, rest);
    else if (strcmp(cmd, "export") == 0)
        rc = maps_export_cli(&cfg, n, rest);
    else if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("lomsong %s\n", LS_VERSION);
        rc = 0;
    } else if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        if (n > 1 && strcmp(rest[1], "config") == 0)
            config_print_help();
        else
            usage(stdout);
        rc = 0;
    } else {
        fprintf(stderr, "lomsong: unknown command '%s'\n\n", cmd);
        usage(stderr);
        rc = 2;
    }
    free(rest);
    return rc;
}
