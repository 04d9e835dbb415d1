/*
 * config.c — the settings table; see config.h.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum kind { K_STR, K_INT, K_SIZE, K_DOUBLE };

struct setting {
    const char *flag;
    const char *env;
    enum kind kind;
    size_t off;
    size_t len; /* for strings */
    const char *def;
    long min, max; /* for numbers */
    const char *help;
};

#define S(f, e, field, def, help)                                                                  \
    {                                                                                              \
        f, e, K_STR, offsetof(ls_config, field), sizeof(((ls_config *)0)->field), def, 0, 0, help  \
    }
#define N(f, e, k, field, def, lo, hi, help)                                                       \
    {                                                                                              \
        f, e, k, offsetof(ls_config, field), 0, def, lo, hi, help                                  \
    }

static const struct setting settings[] = {
    S("listen", "LOMSONG_LISTEN", listen, "127.0.0.1:8080", "address and port the server binds"),
    S("db", "LOMSONG_DB", db, "",
      "libpq conninfo of the application role (default: the local cluster under .run/)"),
    S("admin-db", "LOMSONG_ADMIN_DB", admin_db, "",
      "conninfo used by migrate, units, carriers, token, demo (default: LOMSONG_DB when set, "
      "else the local cluster's owner role)"),
    S("run-dir", "LOMSONG_RUN_DIR", run_dir, "",
      "directory of the local cluster (default: .run "
      "beside the build directory)"),
    N("threads", "LOMSONG_THREADS", K_INT, threads, "4", 1, 256, "HTTP worker threads"),
    N("pool-size", "LOMSONG_POOL_SIZE", K_INT, pool_size, "4", 1, 256,
      "database connections in the pool"),
    N("max-connections", "LOMSONG_MAX_CONNECTIONS", K_INT, max_connections, "512", 1, 65536,
      "concurrent HTTP connections"),
    N("idle-timeout", "LOMSONG_IDLE_TIMEOUT", K_INT, idle_timeout_s, "15", 1, 3600,
      "seconds an idle or slow connection is kept"),
    N("request-timeout", "LOMSONG_REQUEST_TIMEOUT_MS", K_INT, request_timeout_ms, "5000", 10,
      3600000, "statement timeout of one request's SQL, ms"),
    N("pool-wait", "LOMSONG_POOL_WAIT_MS", K_INT, pool_wait_ms, "2000", 0, 600000,
      "how long a request waits for a database connection, ms"),
    N("max-body", "LOMSONG_MAX_BODY", K_SIZE, max_body, "1048576", 1024, 1L << 40,
      "largest JSON request body, bytes"),
    N("max-upload", "LOMSONG_MAX_UPLOAD", K_SIZE, max_upload, "268435456", 1024, 1L << 40,
      "largest uploaded file, bytes"),
    N("min-download", "LOMSONG_MIN_DOWNLOAD_MBPS", K_DOUBLE, min_download_mbps, "40", 0, 100000,
      "national minimum download speed, Mbps"),
    N("min-upload", "LOMSONG_MIN_UPLOAD_MBPS", K_DOUBLE, min_upload_mbps, "0", 0, 100000,
      "minimum upload speed, Mbps (0: not tested)"),
    N("max-latency", "LOMSONG_MAX_LATENCY_MS", K_DOUBLE, max_latency_ms, "0", 0, 100000,
      "maximum latency, ms (0: not tested)"),
    N("verify-min-tests", "LOMSONG_VERIFY_MIN_TESTS", K_INT, verify_min_tests, "5", 1, 100000,
      "tests near a fixed point needed to verify it"),
    N("verify-min-days", "LOMSONG_VERIFY_MIN_DAYS", K_INT, verify_min_days, "2", 1, 366,
      "days those tests must span"),
    N("verify-radius", "LOMSONG_VERIFY_RADIUS_M", K_DOUBLE, verify_radius_m, "500", 50, 5000,
      "how near the point the tests must be, metres"),
    N("verify-min-share", "LOMSONG_VERIFY_MIN_SHARE", K_DOUBLE, verify_min_share, "0.8", 0, 1,
      "share of those tests that must meet the minimum"),
    N("tile-max-features", "LOMSONG_TILE_MAX_FEATURES", K_INT, tile_max_features, "20000", 1,
      1000000, "most features in one vector tile (the rest are left out)"),
    N("export-max-rows", "LOMSONG_EXPORT_MAX_ROWS", K_INT, export_max_rows, "1000000", 1, 100000000,
      "most rows one export may hold (larger ones are refused)"),
    S("log-level", "LOMSONG_LOG_LEVEL", log_level, "info", "debug, info, warn, error or off"),
};

static int set_value(ls_config *c, const struct setting *s, const char *v, char *err, size_t errlen)
{
    char *p = (char *)c + s->off;
    char *end = NULL;
    errno = 0;
    switch (s->kind) {
    case K_STR:
        if (strlen(v) >= s->len) {
            snprintf(err, errlen, "%s: value longer than %zu characters", s->env, s->len - 1);
            return -1;
        }
        strcpy(p, v);
        return 0;
    case K_INT:
    case K_SIZE: {
        long long n = strtoll(v, &end, 10);
        if (errno || end == v || *end || n < s->min || n > s->max) {
            snprintf(err, errlen, "%s (--%s): '%s' is not a whole number from %ld to %ld", s->env,
                     s->flag, v, s->min, s->max);
            return -1;
        }
        if (s->kind == K_INT)
            *(int *)p = (int)n;
        else
            *(size_t *)p = (size_t)n;
        return 0;
    }
    case K_DOUBLE: {
        double d = strtod(v, &end);
        if (errno || end == v || *end || d < s->min || d > s->max) {
            snprintf(err, errlen, "%s (--%s): '%s' is not a number from %ld to %ld", s->env,
                     s->flag, v, s->min, s->max);
            return -1;
        }
        *(double *)p = d;
        return 0;
    }
    }
    return -1;
}

ls_status config_load(ls_config *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < LS_ARRAY_LEN(settings); i++)
        if (set_value(c, &settings[i], settings[i].def, err, errlen) != 0)
            return LS_EINTERNAL;
    for (size_t i = 0; i < LS_ARRAY_LEN(settings); i++) {
        const char *v = getenv(settings[i].env);
        if (v && *v && set_value(c, &settings[i], v, err, errlen) != 0)
            return LS_EINVAL;
    }
    return LS_OK;
}

int config_flag(ls_config *c, int argc, char **argv, int *i, char *err, size_t errlen)
{
    const char *a = argv[*i];
    if (strncmp(a, "--", 2) != 0)
        return 0;
    a += 2;
    for (size_t k = 0; k < LS_ARRAY_LEN(settings); k++) {
        size_t fl = strlen(settings[k].flag);
        if (strncmp(a, settings[k].flag, fl) != 0)
            continue;
        const char *v;
        if (a[fl] == '=') {
            v = a + fl + 1;
        } else if (a[fl] == '\0') {
            if (*i + 1 >= argc) {
                snprintf(err, errlen, "--%s needs a value", settings[k].flag);
                return -1;
            }
            v = argv[++*i];
        } else {
            continue;
        }
        if (set_value(c, &settings[k], v, err, errlen) != 0)
            return -1;
        ++*i;
        return 1;
    }
    return 0;
}

void config_print_help(void)
{
    printf("%-20s %-28s %-12s %s\n", "flag", "environment", "default", "meaning");
    for (size_t i = 0; i < LS_ARRAY_LEN(settings); i++)
        printf("--%-18s %-28s %-12s %s\n", settings[i].flag, settings[i].env,
               *settings[i].def ? settings[i].def : "-", settings[i].help);
}

void config_run_dir(const ls_config *c, char *run, size_t len)
{
    if (*c->run_dir) {
        snprintf(run, len, "%s", c->run_dir);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        snprintf(run, len, ".run");
        return;
    }
    exe[n] = '\0';
    /* <repo>/build/lomsong or <repo>/build/<variant>/lomsong */
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    while ((slash = strrchr(exe, '/')) && strcmp(slash, "/build") != 0)
        *slash = '\0';
    if (slash)
        *slash = '\0';
    if (!slash || snprintf(run, len, "%s/.run", exe) >= (int)len)
        snprintf(run, len, ".run");
}

/* The local cluster's socket directory: <run_dir>/dev/sock, resolved so that
 * a symlinked cluster (see tools/db.sh) gives a short socket path. */
static void local_socket_dir(const ls_config *c, char *out, size_t len)
{
    char run[PATH_MAX];
    config_run_dir(c, run, sizeof(run));
    char sock[PATH_MAX + 16];
    snprintf(sock, sizeof(sock), "%s/dev/sock", run);
    char real[PATH_MAX];
    const char *use = realpath(sock, real) ? real : sock;
    if (strlen(use) < len)
        memcpy(out, use, strlen(use) + 1);
    else if (len)
        *out = '\0';
}

void config_app_conninfo(const ls_config *c, char *out, size_t len)
{
    if (*c->db) {
        snprintf(out, len, "%s", c->db);
        return;
    }
    char sock[PATH_MAX];
    local_socket_dir(c, sock, sizeof(sock));
    snprintf(out, len, "host=%s dbname=lomsong user=lomsong_app application_name=lomsong", sock);
}

void config_admin_conninfo(const ls_config *c, char *out, size_t len)
{
    if (*c->admin_db) {
        snprintf(out, len, "%s", c->admin_db);
        return;
    }
    if (*c->db) {
        snprintf(out, len, "%s", c->db);
        return;
    }
    char sock[PATH_MAX];
    local_socket_dir(c, sock, sizeof(sock));
    snprintf(out, len, "host=%s dbname=lomsong user=lomsong_owner application_name=lomsong-admin",
             sock);
}

void config_mask_conninfo(const char *conninfo, char *out, size_t len)
{
    /* Handles both key=value strings and postgresql:// URIs. */
    snprintf(out, len, "%s", conninfo);
    char *p = strstr(out, "password=");
    if (p) {
        char *v = p + 9;
        char *e = v;
        if (*e == '\'') {
            for (e++; *e && *e != '\''; e++)
                if (*e == '\\' && e[1])
                    e++;
            if (*e)
                e++;
        } else {
            while (*e && *e != ' ')
                e++;
        }
        size_t rest = strlen(e);
        if ((size_t)(v - out) + 4 + rest < len) {
            memmove(v + 4, e, rest + 1);
            memcpy(v, "****", 4);
        }
        return;
    }
    char *scheme = strstr(out, "://");
    if (scheme) {
        char *at = strchr(scheme + 3, '@');
        char *colon = strchr(scheme + 3, ':');
        if (at && colon && colon < at) {
            size_t rest = strlen(at);
            if ((size_t)(colon + 1 - out) + 4 + rest < len) {
                memmove(colon + 5, at, rest + 1);
                memcpy(colon + 1, "****", 4);
            }
        }
    }
}
