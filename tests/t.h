/*
 * t.h — the test harness: a registry of TEST()s, non-fatal CHECKs, and
 * fixtures that talk to the real things: the throwaway PostGIS cluster
 * started by `make test`, the lomsong binary, and a lomsong server over
 * loopback HTTP.  Every test binary run ends with "N passed, N failed".
 *
 * Environment (set by `make test`): LOMSONG_ADMIN_DB (owner conninfo),
 * LOMSONG_DB (application role conninfo), LOMSONG_TEST_SHARED (../shared/data).
 */
#ifndef LS_T_H
#define LS_T_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef void (*t_fn)(void);
void t_register(const char *suite, const char *name, int line, t_fn fn);

/* Suites run in alphabetical order, tests in a suite in the order written. */
#define TEST(suite, name)                                                                          \
    static void test_##suite##_##name(void);                                                       \
    __attribute__((constructor)) static void t_reg_##suite##_##name(void)                          \
    {                                                                                              \
        t_register(#suite, #name, __LINE__, test_##suite##_##name);                                \
    }                                                                                              \
    static void test_##suite##_##name(void)

void t_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            t_fail(__FILE__, __LINE__, "%s", #cond);                                               \
    } while (0)
#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);                                    \
        if (t_a_ != t_b_)                                                                          \
            t_fail(__FILE__, __LINE__, "%s == %s: got %lld, want %lld", #a, #b, t_a_, t_b_);       \
    } while (0)
#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *t_a_ = (a), *t_b_ = (b);                                                       \
        if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_) != 0)                                             \
            t_fail(__FILE__, __LINE__, "%s == %s: got \"%s\", want \"%s\"", #a, #b,                \
                   t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");                                \
    } while (0)
#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        const char *t_h_ = (hay), *t_n_ = (needle);                                                \
        if (!t_h_ || !strstr(t_h_, t_n_))                                                          \
            t_fail(__FILE__, __LINE__, "%s contains \"%s\": got \"%.400s\"", #hay, t_n_,           \
                   t_h_ ? t_h_ : "(null)");                                                        \
    } while (0)

/* ------------------------------------------------------------- fixtures */

/* Conninfo strings of the test cluster (never NULL inside `make test`). */
const char *t_admin_db(void);
const char *t_app_db(void);

/* A new connection (owner or application role); the test PQfinish()es it.
 * NULL (and a failed check) when it cannot connect. */
PGconn *t_connect(const char *conninfo);

/* Runs one SQL statement and returns the first column of the first row as
 * a malloc'd string (caller frees), or NULL when the query fails or returns
 * no row. */
char *t_sql(PGconn *c, const char *sql);

/* An owner connection in the 'system' security context (it sees every
 * row through row-level security); NULL (and a failed check) on error. */
PGconn *t_sysdb(void);

/* t_sql with a printf-formatted statement (at most 8 KiB); NULL for c NULL. */
char *t_sqlf(PGconn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One value from a printf-formatted statement run as 'system' on a
 * connection of its own: a number (LLONG_MIN when no row or NULL), or a
 * malloc'd string (NULL when none). */
long long t_sys_ll(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *t_sys_str(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define CHECK_SYS_STR(want, ...)                                                                   \
    do {                                                                                           \
        char *got_ = t_sys_str(__VA_ARGS__);                                                       \
        CHECK_STR(got_, want);                                                                     \
        free(got_);                                                                                \
    } while (0)

/* Reads a batch summary (ingest's --json, the 201 of an upload): 1 when
 * json is an object with exactly the n number keys, stored through dst, and
 * "reject_file", a string (copied to reject_file) or null (""). */
int t_read_summary(const char *json, const char *const *keys, long long *const *dst, int n,
                   char *reject_file, size_t rflen);

/* Path of the lomsong binary under test (beside the test binary). */
const char *t_bin(void);

/* Runs `lomsong ARGS` (a shell word list) with the test environment, feeding
 * `input` (may be NULL) on stdin.  Returns the exit code; *out and *err (may
 * be NULL) get malloc'd stdout / stderr. */
int t_run(const char *args, const char *input, char **out, char **err);

/* A fresh token for a role ("locality", "carrier", ...) with optional unit /
 * carrier; malloc'd, caller frees.  NULL (and a failed check) on error. */
char *t_token(const char *role, const char *unit, const char *carrier);

/* Shared reference data file path (../shared/data/NAME), in a static buffer. */
const char *t_shared(const char *name);

/* A scratch directory for this run's files (created on first use). */
const char *t_tmpdir(void);

/* A path in t_tmpdir(), printf-formatted, in one of 8 rotating static
 * buffers (so a call's result lives for the next 7 calls). */
const char *t_tmp(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The name of the cluster make test runs on (tools/db.sh NAME): "test", or
 * the TEST_CLUSTER given to make. */
const char *t_cluster(void);

/* --------------------------------------------------------------- server */

/* Starts `lomsong serve` on a free loopback port with extra arguments and
 * waits until it answers; returns its base URL ("http://127.0.0.1:PORT")
 * or NULL.  One server at a time. */
const char *t_server_start(const char *extra_args);

/* Base URL of the running server, or NULL when none runs. */
const char *t_server_url(void);

/* Sends a signal to the running server without waiting (0 when sent). */
int t_server_signal(int sig);

/* SIGTERM, wait; returns the server's exit code (0 = clean, including no
 * leak reported by the sanitizers). */
int t_server_stop(void);

/* The server's stderr so far (its JSON log), malloc'd. */
char *t_server_log(void);

typedef struct {
    long status;
    char *body; /* NUL-terminated */
    size_t len;
    char *content_type; /* may be NULL */
    char *headers;      /* all response headers as received */
} t_resp;

/* One HTTP request to the running server.  `token` (may be NULL) becomes a
 * Bearer header; `extra_headers` (may be NULL) is a "\n"-separated list of
 * "Name: value" lines.  Returns 0 when a response arrived. */
int t_http(const char *method, const char *path, const char *token, const char *body,
           size_t body_len, const char *extra_headers, t_resp *r);
void t_resp_free(t_resp *r);

/* 1 when the response is application/problem+json with this status, and
 * its body says the same status and has a title and a detail. */
int t_is_problem(const t_resp *r, long status);

/* Value of a response header (case-insensitive), in a static buffer or NULL. */
const char *t_header(const t_resp *r, const char *name);

#endif
