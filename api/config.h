/*
 * config.h — every setting lomsong reads, with its default, its
 * environment variable (LOMSONG_*) and its command-line flag.  Flags win
 * over the environment, the environment over the defaults.  The table in
 * config.c is the single source: `lomsong help config` prints it, and the
 * README copies it.
 */
#ifndef LS_CONFIG_H
#define LS_CONFIG_H

#include <stddef.h>

#include "ls.h"

typedef struct {
    char listen[128];         /* ADDR:PORT the server binds */
    char db[1024];            /* libpq conninfo of the application role ("" = local cluster) */
    char admin_db[1024];      /* conninfo for migrate / load / token ("" = derived) */
    char run_dir[1024];       /* where the local cluster lives (.run) */
    int threads;              /* HTTP worker threads */
    int pool_size;            /* database connections */
    int max_connections;      /* concurrent HTTP connections */
    int idle_timeout_s;       /* idle keep-alive / slow client cut-off */
    int request_timeout_ms;   /* statement_timeout for each request */
    int pool_wait_ms;         /* how long a request waits for a free connection */
    size_t max_body;          /* largest request body, bytes */
    size_t max_upload;        /* largest file upload body, bytes */
    double min_download_mbps; /* the national minimum, 40 */
    double min_upload_mbps;   /* 0 = not tested */
    double max_latency_ms;    /* 0 = not tested */
    int verify_min_tests;     /* fixed -> verified: tests needed near the point */
    int verify_min_days;      /* ... on at least this many days */
    double verify_radius_m;   /* ... within this distance */
    double verify_min_share;  /* ... with at least this share meeting the minimum */
    int tile_max_features;    /* most features in one vector tile */
    int export_max_rows;      /* most rows one export (HTTP or CLI) may hold */
    char log_level[16];
} ls_config;

/* Fills `c` with the defaults, then the LOMSONG_* environment.  LS_EINVAL
 * (with a message in err) when a variable does not parse. */
ls_status config_load(ls_config *c, char *err, size_t errlen);

/* Tries argv[*i] as a setting flag ("--listen ADDR" or "--listen=ADDR").
 * Returns 1 and advances *i when it was one, 0 when it is not a setting
 * flag, -1 with a message in err when it was one but did not parse. */
int config_flag(ls_config *c, int argc, char **argv, int *i, char *err, size_t errlen);

/* Prints the settings table (flag, variable, default, meaning). */
void config_print_help(void);

/* The conninfo strings in force: the configured one, or the local cluster's
 * socket under run_dir.  Written into out (NUL-terminated). */
void config_app_conninfo(const ls_config *c, char *out, size_t len);
void config_admin_conninfo(const ls_config *c, char *out, size_t len);

/* The directory for the local cluster and the server's files (reject
 * files of uploads): run_dir, or .run beside the build directory. */
void config_run_dir(const ls_config *c, char *out, size_t len);

/* A copy of a conninfo with any password replaced by "****". */
void config_mask_conninfo(const char *conninfo, char *out, size_t len);

#endif
