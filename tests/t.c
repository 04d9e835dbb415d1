/*
 * t.c — the test harness behind t.h: the TEST() registry and main(), the
 * failure reporting, and the fixtures that drive the real things (the test
 * cluster through libpq, the lomsong binary through fork/exec, a lomsong
 * server through libcurl over loopback).
 *
 * Tests run in this process, one after another, so that ASan/LSan watch the
 * test code too.  A test passes when no t_fail() happened while it ran.
 * Output, one line per test plus the lines of each failure:
 *
 *   ok   suite.name (12 ms)
 *   FAIL suite.name
 *       tests/test_x.c:42: a == b: got 1, want 2
 *   ...
 *   N passed, N failed
 *
 * The "FAIL" line is printed at the first failure of a test, so the failure
 * lines always follow it.  Harness diagnostics that are not failures by
 * themselves (why a request got no response) are kept as notes and shown
 * only if the test fails.
 */
#include <cjson/cJSON.h>

#include "t.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define T_MAX_TESTS 2000
#define T_RUN_TIMEOUT_MS (300 * 1000)  /* one `lomsong ...` command */
#define T_START_TIMEOUT_MS (15 * 1000) /* server answering /healthz */
#define T_STOP_TIMEOUT_MS (20 * 1000)  /* server exiting after SIGTERM */
#define T_HTTP_TIMEOUT_S 30L           /* one request */
#define T_LOG_TAIL_LINES 40
#define T_LOG_TAIL_BYTES 8000

/* Failures inside the harness point at the harness line; the message names
 * the fixture so it is clear which call of the test went wrong. */
#define FAIL(...) t_fail(__FILE__, __LINE__, __VA_ARGS__)

/* ------------------------------------------------------ growable string */

/* A NUL-terminated growable string; `oom` sticks once an append failed. */
typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} gstr;

static int gstr_add(gstr *s, const void *data, size_t n)
{
    if (s->oom)
        return -1;
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->len + n + 1) {
            if (cap > SIZE_MAX / 2) {
                s->oom = 1;
                return -1;
            }
            cap *= 2;
        }
        char *p = realloc(s->p, cap);
        if (!p) {
            s->oom = 1;
            return -1;
        }
        s->p = p;
        s->cap = cap;
    }
    if (n)
        memcpy(s->p + s->len, data, n);
    s->len += n;
    s->p[s->len] = '\0';
    return 0;
}

static int gstr_puts(gstr *s, const char *str)
{
    return gstr_add(s, str, strlen(str));
}

/* Appends `str` as one single-quoted shell word. */
static int gstr_shell_word(gstr *s, const char *str)
{
    int rc = gstr_add(s, "'", 1);
    for (const char *c = str; *c && rc == 0; c++)
        rc = *c == '\'' ? gstr_puts(s, "'\\''") : gstr_add(s, c, 1);
    return rc ? rc : gstr_add(s, "'", 1);
}

/* Gives the contents away (never NULL unless out of memory). */
static char *gstr_take(gstr *s)
{
    if (!s->oom && !s->p)
        gstr_add(s, "", 0);
    char *p = s->oom ? NULL : s->p;
    if (s->oom)
        free(s->p);
    memset(s, 0, sizeof *s);
    return p;
}

static void gstr_free(gstr *s)
{
    free(s->p);
    memset(s, 0, sizeof *s);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------- registry */

struct t_case {
    const char *suite, *name;
    int line;
    t_fn fn;
};

static struct t_case cases[T_MAX_TESTS];
static int ncases, dropped;

void t_register(const char *suite, const char *name, int line, t_fn fn)
{
    if (ncases >= T_MAX_TESTS) {
        dropped++; /* reported by main(): constructors cannot fail loudly */
        return;
    }
    cases[ncases++] = (struct t_case){suite, name, line, fn};
}

static int case_cmp(const void *a, const void *b)
{
    const struct t_case *x = a, *y = b;
    int c = strcmp(x->suite, y->suite);
    if (c == 0)
        c = (x->line > y->line) - (x->line < y->line);
    return c ? c : strcmp(x->name, y->name);
}

/* ------------------------------------------------------------- failures */

static const struct t_case *current; /* NULL outside a test */
static int cur_failed;               /* the FAIL line has been printed */
static gstr notes;                   /* notes of the current test, not shown yet */

/* Prints the FAIL line (and the notes kept so far) at the first failure. */
static void begin_failure(void)
{
    if (cur_failed)
        return;
    cur_failed = 1;
    if (current)
        printf("FAIL %s.%s\n", current->suite, current->name);
    else
        printf("FAIL (harness)\n");
    if (notes.len)
        fputs(notes.p, stdout);
    gstr_free(&notes);
    fflush(stdout);
}

/* Prints "    <prefix><msg>", continuation lines indented under it. */
static void print_indented(const char *prefix, const char *msg)
{
    printf("    %s", prefix);
    for (const char *c = msg; *c; c++) {
        if (*c == '\n' && c[1] == '\0')
            break;
        if (*c == '\n')
            fputs("\n      ", stdout);
        else
            putchar(*c);
    }
    putchar('\n');
    fflush(stdout);
}

/* Formats into a malloc'd string, NULL when out of memory (vasprintf
 * would leave the pointer undefined). */
static char *vformat(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

void t_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = vformat(fmt, ap);
    va_end(ap);
    begin_failure();
    char where[PATH_MAX + 32];
    snprintf(where, sizeof where, "%s:%d: ", file, line);
    print_indented(where, msg ? msg : "(out of memory formatting the failure message)");
    free(msg);
}

/* A harness diagnostic: printed now if the test already failed, otherwise
 * kept and printed under the FAIL line should the test fail later. */
static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = vformat(fmt, ap);
    va_end(ap);
    if (!msg)
        return;
    if (cur_failed) {
        print_indented("note: ", msg);
    } else {
        gstr_puts(&notes, "    note: ");
        gstr_puts(&notes, msg);
        gstr_puts(&notes, "\n");
    }
    free(msg);
}

/* Drops the trailing newlines libpq and curl put on messages, in place. */
static const char *chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* ------------------------------------------------------------- database */

static char *app_db_derived; /* set by main() when LOMSONG_DB is unset */

const char *t_admin_db(void)
{
    const char *s = getenv("LOMSONG_ADMIN_DB");
    return s ? s : "";
}

const char *t_app_db(void)
{
    const char *s = getenv("LOMSONG_DB");
    if (s && *s)
        return s;
    return app_db_derived ? app_db_derived : t_admin_db();
}

/* The owner conninfo with user=lomsong_app, in keyword form whatever form
 * (keywords or URI) the owner conninfo has; malloc'd or NULL. */
static char *derive_app_db(const char *admin)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(admin, &err);
    if (!opts) {
        fprintf(stderr, "lomsong-tests: LOMSONG_ADMIN_DB does not parse: %s",
                err ? err : "out of memory\n");
        PQfreemem(err);
        return NULL;
    }
    gstr s = {0};
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || strcmp(o->keyword, "user") == 0)
            continue;
        gstr_puts(&s, o->keyword);
        gstr_puts(&s, "=");
        gstr_add(&s, "'", 1);
        for (const char *c = o->val; *c; c++) {
            if (*c == '\'' || *c == '\\')
                gstr_add(&s, "\\", 1);
            gstr_add(&s, c, 1);
        }
        gstr_puts(&s, "' ");
    }
    gstr_puts(&s, "user=lomsong_app");
    PQconninfoFree(opts);
    return gstr_take(&s);
}

PGconn *t_connect(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo ? conninfo : "");
    if (!c) {
        FAIL("t_connect: out of memory");
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        char *msg = strdup(PQerrorMessage(c));
        FAIL("t_connect: %s", msg ? chomp(msg) : "cannot connect");
        free(msg);
        PQfinish(c);
        return NULL;
    }
    return c;
}

char *t_sql(PGconn *c, const char *sql)
{
    if (!c) {
        FAIL("t_sql: no connection for: %.300s", sql);
        return NULL;
    }
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    char *v = NULL;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        char *msg = strdup(r ? PQresultErrorMessage(r) : PQerrorMessage(c));
        FAIL("t_sql: %s\n  in: %.300s", msg ? chomp(msg) : "query failed", sql);
        free(msg);
    } else if (PQntuples(r) > 0 && PQnfields(r) > 0) {
        /* An SQL NULL reads as "" (libpq's convention); test "x IS NULL". */
        v = strdup(PQgetvalue(r, 0, 0));
        if (!v)
            FAIL("t_sql: out of memory");
    }
    PQclear(r);
    return v;
}

/* ----------------------------------------------------------- the binary */

const char *t_bin(void)
{
    static char path[PATH_MAX + 16];
    if (!path[0]) {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        char *slash = NULL;
        if (n > 0) {
            exe[n] = '\0';
            slash = strrchr(exe, '/');
        }
        if (slash) {
            *slash = '\0';
            snprintf(path, sizeof path, "%s/lomsong", exe);
        } else {
            snprintf(path, sizeof path, "./lomsong");
        }
    }
    return path;
}

/* Reads what is there from *fd into `into`; closes it (fd = -1) at EOF. */
static void drain(int *fd, gstr *into)
{
    char chunk[65536];
    ssize_t n = read(*fd, chunk, sizeof chunk);
    if (n > 0) {
        gstr_add(into, chunk, (size_t)n);
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(*fd);
        *fd = -1;
    }
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static int exit_code(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

int t_run(const char *args, const char *input, char **out, char **err)
{
    int in[2] = {-1, -1}, o[2] = {-1, -1}, e[2] = {-1, -1};
    gstr cmd = {0}, obuf = {0}, ebuf = {0};
    const char *a = args ? args : "";
    int code = -1;
    if (out)
        *out = NULL;
    if (err)
        *err = NULL;

    gstr_shell_word(&cmd, t_bin());
    gstr_puts(&cmd, " ");
    gstr_puts(&cmd, a);
    if (cmd.oom) {
        FAIL("t_run: out of memory");
        goto out;
    }
    if (pipe2(in, O_CLOEXEC) || pipe2(o, O_CLOEXEC) || pipe2(e, O_CLOEXEC)) {
        FAIL("t_run: pipe: %s", strerror(errno));
        goto out;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        FAIL("t_run: fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) {
        /* Only async-signal-safe calls until exec.  SIGPIPE goes back to
         * the default the harness turned off, as a shell would have it. */
        dup2(in[0], 0);
        dup2(o[1], 1);
        dup2(e[1], 2);
        signal(SIGPIPE, SIG_DFL);
        execl("/bin/sh", "sh", "-c", cmd.p, (char *)NULL);
        _exit(127);
    }
    close_fd(&in[0]);
    close_fd(&o[1]);
    close_fd(&e[1]);

    /* Feed stdin and read both outputs together: a child blocked writing
     * a full stdout pipe while we block writing its stdin would hang. */
    size_t in_len = input ? strlen(input) : 0, in_off = 0;
    if (in_len == 0)
        close_fd(&in[1]);
    else
        fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
    long long deadline = now_ms() + T_RUN_TIMEOUT_MS;
    int timed_out = 0;
    while (o[0] >= 0 || e[0] >= 0) {
        struct pollfd p[3] = {{in[1], POLLOUT, 0}, {o[0], POLLIN, 0}, {e[0], POLLIN, 0}};
        long long left = deadline - now_ms();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        int n = poll(p, 3, (int)(left > 1000 ? 1000 : left));
        if (n < 0 && errno != EINTR) {
            FAIL("t_run: poll: %s", strerror(errno));
            timed_out = 1; /* stop the child the same way */
            break;
        }
        if (n <= 0)
            continue;
        if (in[1] >= 0 && p[0].revents) {
            ssize_t w = write(in[1], input + in_off, in_len - in_off);
            if (w > 0)
                in_off += (size_t)w;
            /* EPIPE: the command stopped reading; that is its business. */
            if (in_off == in_len || (w < 0 && errno != EAGAIN && errno != EINTR))
                close_fd(&in[1]);
        }
        if (o[0] >= 0 && p[1].revents)
            drain(&o[0], &obuf);
        if (e[0] >= 0 && p[2].revents)
            drain(&e[0], &ebuf);
    }
    /* The outputs are closed; the command may still be reading stdin or
     * finishing up.  EOF on stdin, then wait for it within the same time. */
    close_fd(&in[1]);
    int status = 0;
    while (!timed_out) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            break;
        if (now_ms() >= deadline)
            timed_out = 1;
        else
            sleep_ms(5);
    }
    if (timed_out) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        FAIL("t_run: `lomsong %.200s` did not finish within %d s; killed", a,
             T_RUN_TIMEOUT_MS / 1000);
    }
    code = exit_code(status);
    if (obuf.oom || ebuf.oom)
        FAIL("t_run: out of memory collecting the output of `lomsong %.200s`", a);
    if (out)
        *out = gstr_take(&obuf);
    if (err)
        *err = gstr_take(&ebuf);
out:
    close_fd(&in[0]);
    close_fd(&in[1]);
    close_fd(&o[0]);
    close_fd(&o[1]);
    close_fd(&e[0]);
    close_fd(&e[1]);
    gstr_free(&cmd);
    gstr_free(&obuf);
    gstr_free(&ebuf);
    return code;
}

/* Trims white space at both ends, in place. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

char *t_token(const char *role, const char *unit, const char *carrier)
{
    gstr args = {0};
    char *out = NULL, *err = NULL, *tok = NULL;
    gstr_puts(&args, "token create --role ");
    gstr_shell_word(&args, role ? role : "");
    if (unit) {
        gstr_puts(&args, " --unit ");
        gstr_shell_word(&args, unit);
    }
    if (carrier) {
        gstr_puts(&args, " --carrier ");
        gstr_shell_word(&args, carrier);
    }
    gstr_puts(&args, " --name ");
    gstr_puts(&args, "test-");
    gstr_shell_word(&args, role ? role : "");
    if (args.oom) {
        FAIL("t_token: out of memory");
        goto out;
    }
    int code = t_run(args.p, NULL, &out, &err);
    if (code != 0) {
        FAIL("t_token: `lomsong %s` exited with %d: %s", args.p, code,
             err ? chomp(err) : "(no stderr)");
        goto out;
    }
    const char *t = out ? trim(out) : "";
    if (!*t || strpbrk(t, " \t\r\n")) {
        FAIL("t_token: `lomsong %s` printed \"%.300s\", not one token", args.p, t);
        goto out;
    }
    tok = strdup(t);
    if (!tok)
        FAIL("t_token: out of memory");
out:
    free(out);
    free(err);
    gstr_free(&args);
    return tok;
}

const char *t_shared(const char *name)
{
    static char path[PATH_MAX];
    const char *dir = getenv("LOMSONG_TEST_SHARED");
    if (!dir || !*dir)
        dir = "../shared/data";
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static char tmpdir[64];

const char *t_cluster(void)
{
    const char *c = getenv("LOMSONG_TEST_CLUSTER");
    return c && *c ? c : "test";
}

const char *t_tmpdir(void)
{
    if (!tmpdir[0]) {
        char tmpl[] = "/tmp/lomsong-tests-XXXXXX";
        if (!mkdtemp(tmpl)) {
            /* Nothing that needs files can work; say so and stop. */
            fprintf(stdout, "lomsong-tests: mkdtemp %s: %s\n", tmpl, strerror(errno));
            fflush(stdout);
            exit(2);
        }
        snprintf(tmpdir, sizeof tmpdir, "%s", tmpl);
    }
    return tmpdir;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

/* --------------------------------------------------------------- server */

static pid_t srv_pid;    /* 0: no server running */
static char srv_url[64]; /* "" when no server is running */

const char *t_server_url(void)
{
    return srv_url[0] ? srv_url : NULL;
}

int t_server_signal(int sig)
{
    return srv_pid > 0 ? kill(srv_pid, sig) : -1;
}
static char srv_log[PATH_MAX]; /* stderr file of the current / last server */
static int srv_count;          /* servers started, names the log files */
static int curl_ready;

static int ensure_curl(void)
{
    if (!curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
        curl_ready = 1;
    return curl_ready ? 0 : -1;
}

static char *read_file(const char *path)
{
    gstr s = {0};
    FILE *f = fopen(path, "rb");
    if (f) {
        char chunk[65536];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
            gstr_add(&s, chunk, n);
        fclose(f);
    }
    return gstr_take(&s);
}

/* The last lines of the server's stderr, malloc'd (or NULL). */
static char *log_tail(void)
{
    char *all = read_file(srv_log);
    if (!all)
        return NULL;
    size_t n = strlen(all);
    while (n && all[n - 1] == '\n')
        all[--n] = '\0';
    if (!n) {
        free(all);
        return strdup("(the server wrote nothing to stderr)");
    }
    size_t start = n, lines = 0;
    while (start > 0 && n - start < T_LOG_TAIL_BYTES) {
        if (all[start - 1] == '\n' && ++lines == T_LOG_TAIL_LINES)
            break;
        start--;
    }
    memmove(all, all + start, n - start + 1);
    return all;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* HTTP status of GET url, 0 when nothing answered. */
static long probe(const char *url)
{
    long status = 0;
    CURL *h = curl_easy_init();
    if (!h)
        return 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    return status;
}

/* A TCP port free on 127.0.0.1 right now (the kernel's pick), or 0. */
static int free_port(void)
{
    struct sockaddr_in a = {0};
    socklen_t alen = sizeof a;
    int port = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

const char *t_server_start(const char *extra_args)
{
    char *words = NULL, *tail = NULL;
    char **argv = NULL;
    int ofd = -1, efd = -1, nfd = -1;
    const char *url = NULL;

    if (srv_pid > 0) {
        FAIL("t_server_start: a server is already running at %s", srv_url);
        return NULL;
    }
    if (ensure_curl()) {
        FAIL("t_server_start: curl_global_init failed");
        return NULL;
    }
    int port = free_port();
    if (!port) {
        FAIL("t_server_start: no free loopback port: %s", strerror(errno));
        return NULL;
    }
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);

    /* argv: lomsong serve --listen ADDR WORDS... NULL */
    words = strdup(extra_args ? extra_args : "");
    argv = calloc(strlen(extra_args ? extra_args : "") / 2 + 6, sizeof *argv);
    if (!words || !argv) {
        FAIL("t_server_start: out of memory");
        goto out;
    }
    size_t argc = 0;
    argv[argc++] = (char *)t_bin();
    argv[argc++] = "serve";
    argv[argc++] = "--listen";
    argv[argc++] = listen;
    char *save = NULL;
    for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    argv[argc] = NULL;

    srv_count++;
    char out_path[PATH_MAX];
    snprintf(srv_log, sizeof srv_log, "%s/server-%d.stderr", t_tmpdir(), srv_count);
    snprintf(out_path, sizeof out_path, "%s/server-%d.stdout", t_tmpdir(), srv_count);
    efd = open(srv_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ofd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    nfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (efd < 0 || ofd < 0 || nfd < 0) {
        FAIL("t_server_start: cannot open the server's log files in %s: %s", t_tmpdir(),
             strerror(errno));
        goto out;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        FAIL("t_server_start: fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) {
        dup2(nfd, 0);
        dup2(ofd, 1);
        dup2(efd, 2);
        signal(SIGPIPE, SIG_DFL);
        execv(argv[0], argv);
        static const char msg[] = "t_server_start: exec failed\n";
        ssize_t ignored = write(2, msg, sizeof msg - 1);
        (void)ignored;
        _exit(127);
    }
    srv_pid = pid;
    snprintf(srv_url, sizeof srv_url, "http://%s", listen);

    char health[96];
    snprintf(health, sizeof health, "%s/healthz", srv_url);
    long long deadline = now_ms() + T_START_TIMEOUT_MS;
    for (;;) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            srv_pid = 0;
            srv_url[0] = '\0';
            tail = log_tail();
            FAIL("t_server_start: `lomsong serve --listen %s %.200s` exited with %d before "
                 "answering; its stderr ends with:\n%s",
                 listen, extra_args ? extra_args : "", exit_code(status),
                 tail ? tail : "(unreadable)");
            goto out;
        }
        if (probe(health) > 0) {
            url = srv_url;
            goto out;
        }
        if (now_ms() >= deadline)
            break;
        sleep_ms(50);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    srv_pid = 0;
    srv_url[0] = '\0';
    tail = log_tail();
    FAIL("t_server_start: no answer on %s within %d s; killed; its stderr ends with:\n%s", health,
         T_START_TIMEOUT_MS / 1000, tail ? tail : "(unreadable)");
out:
    if (efd >= 0)
        close(efd);
    if (ofd >= 0)
        close(ofd);
    if (nfd >= 0)
        close(nfd);
    free(tail);
    free(argv);
    free(words);
    return url;
}

int t_server_stop(void)
{
    if (srv_pid <= 0)
        return 0;
    pid_t pid = srv_pid;
    int status = 0, done = 0;
    kill(pid, SIGTERM);
    long long deadline = now_ms() + T_STOP_TIMEOUT_MS;
    while (!done && now_ms() < deadline) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            done = 1;
        else
            sleep_ms(10);
    }
    if (!done) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    srv_pid = 0;
    srv_url[0] = '\0';
    int code = exit_code(status);
    if (!done || code != 0) {
        char *tail = log_tail();
        if (!done)
            FAIL("t_server_stop: the server did not exit within %d s of SIGTERM; killed; its "
                 "stderr ends with:\n%s",
                 T_STOP_TIMEOUT_MS / 1000, tail ? tail : "(unreadable)");
        else
            FAIL("t_server_stop: the server exited with %d; its stderr ends with:\n%s", code,
                 tail ? tail : "(unreadable)");
        free(tail);
    }
    return code;
}

char *t_server_log(void)
{
    return srv_log[0] ? read_file(srv_log) : strdup("");
}

/* ----------------------------------------------------------------- HTTP */

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    return gstr_add(ud, p, size * n) == 0 ? size * n : 0;
}

int t_http(const char *method, const char *path, const char *token, const char *body,
           size_t body_len, const char *extra_headers, t_resp *r)
{
    CURL *h = NULL;
    struct curl_slist *hdrs = NULL;
    gstr url = {0}, b = {0}, hb = {0}, line = {0};
    char errbuf[CURL_ERROR_SIZE] = "";
    int rc = -1;

    memset(r, 0, sizeof *r);
    if (!srv_url[0]) {
        FAIL("t_http: %s %s: no server is running", method, path);
        return -1;
    }
    if (ensure_curl() || !(h = curl_easy_init())) {
        FAIL("t_http: cannot set up libcurl");
        return -1;
    }
    gstr_puts(&url, srv_url);
    gstr_puts(&url, path);

    /* Header lines; curl_slist_append copies and returns NULL on failure.
     * An empty "Expect:" stops curl's 100-continue dance on large bodies. */
    gstr auth = {0};
    gstr_puts(&auth, "Authorization: Bearer ");
    gstr_puts(&auth, token ? token : "");
    int oom = url.oom || auth.oom;
    struct curl_slist *l = oom ? NULL : curl_slist_append(hdrs, "Expect:");
    oom = !l;
    hdrs = l;
    if (token && !oom) {
        l = curl_slist_append(hdrs, auth.p);
        oom = !l;
        hdrs = l ? l : hdrs;
    }
    for (const char *p = extra_headers; p && *p && !oom;) {
        size_t n = strcspn(p, "\n");
        line.len = 0;
        gstr_add(&line, p, n);
        p += n + (p[n] == '\n');
        if (line.oom) {
            oom = 1;
            break;
        }
        chomp(line.p);
        if (!line.p[0])
            continue;
        l = curl_slist_append(hdrs, line.p);
        oom = !l;
        hdrs = l ? l : hdrs;
    }
    gstr_free(&auth);
    if (oom) {
        FAIL("t_http: out of memory");
        goto out;
    }

    curl_easy_setopt(h, CURLOPT_URL, url.p);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, T_HTTP_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &hb);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    }
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    else
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);

    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        note("t_http %s %s: no response: %s", method, path,
             errbuf[0] ? chomp(errbuf) : curl_easy_strerror(cc));
        goto out;
    }
    char *ct = NULL;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
    r->len = b.len;
    r->body = gstr_take(&b);
    r->headers = gstr_take(&hb);
    r->content_type = ct ? strdup(ct) : NULL;
    if (!r->body || !r->headers || (ct && !r->content_type)) {
        FAIL("t_http: out of memory");
        t_resp_free(r);
        goto out;
    }
    rc = 0;
out:
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    gstr_free(&url);
    gstr_free(&b);
    gstr_free(&hb);
    gstr_free(&line);
    return rc;
}

void t_resp_free(t_resp *r)
{
    if (!r)
        return;
    free(r->body);
    free(r->content_type);
    free(r->headers);
    memset(r, 0, sizeof *r);
}

const char *t_header(const t_resp *r, const char *name)
{
    static char value[16384];
    size_t nlen = strlen(name);
    for (const char *p = r && r->headers ? r->headers : ""; *p;) {
        size_t n = strcspn(p, "\r\n");
        if (n > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1, *end = p + n;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
            size_t vlen = (size_t)(end - v);
            if (vlen >= sizeof value)
                vlen = sizeof value - 1;
            memcpy(value, v, vlen);
            value[vlen] = '\0';
            return value;
        }
        p += n;
        p += strspn(p, "\r\n");
    }
    return NULL;
}

/* ----------------------------------------------------------------- main */

static int selected(const struct t_case *c, int argc, char **argv, char *matched)
{
    if (argc < 2)
        return 1;
    char full[512];
    snprintf(full, sizeof full, "%s.%s", c->suite, c->name);
    int any = 0;
    for (int i = 1; i < argc; i++)
        if (strncmp(full, argv[i], strlen(argv[i])) == 0)
            any = matched[i] = 1;
    return any;
}

int main(int argc, char **argv)
{
    const char *admin = getenv("LOMSONG_ADMIN_DB");
    if (!admin || !*admin) {
        fprintf(stderr, "lomsong-tests: LOMSONG_ADMIN_DB is not set.  The tests need the "
                        "throwaway cluster that `make test` starts: run them with `make test` "
                        "(one suite: `make test T=suite.`).\n");
        return 2;
    }
    if (dropped) {
        fprintf(stderr, "lomsong-tests: more than %d tests; raise T_MAX_TESTS in tests/t.c\n",
                T_MAX_TESTS);
        return 2;
    }
    /* The lomsong children read LOMSONG_DB; without it they would go to
     * the development cluster. */
    const char *app = getenv("LOMSONG_DB");
    if (!app || !*app) {
        app_db_derived = derive_app_db(admin);
        if (!app_db_derived || setenv("LOMSONG_DB", app_db_derived, 1) != 0) {
            fprintf(stderr, "lomsong-tests: cannot derive LOMSONG_DB from LOMSONG_ADMIN_DB\n");
            free(app_db_derived);
            return 2;
        }
    }
    /* A child that stops reading its stdin must not kill the harness. */
    signal(SIGPIPE, SIG_IGN);

    qsort(cases, (size_t)ncases, sizeof cases[0], case_cmp);
    char *matched = calloc((size_t)argc, 1);
    if (!matched) {
        fprintf(stderr, "lomsong-tests: out of memory\n");
        free(app_db_derived);
        return 2;
    }

    int passed = 0, failed = 0;
    for (int i = 0; i < ncases; i++) {
        if (!selected(&cases[i], argc, argv, matched))
            continue;
        current = &cases[i];
        cur_failed = 0;
        long long t0 = now_ms();
        current->fn();
        /* A server lives for its suite: the tests of one suite share it, and
         * it is stopped (its exit checked) before another suite runs. */
        int next = i + 1;
        while (next < ncases && !selected(&cases[next], argc, argv, matched))
            next++;
        if (srv_pid > 0 && (next >= ncases || strcmp(cases[next].suite, current->suite) != 0))
            t_server_stop();
        if (cur_failed) {
            failed++;
        } else {
            passed++;
            printf("ok   %s.%s (%lld ms)\n", current->suite, current->name, now_ms() - t0);
        }
        fflush(stdout);
        gstr_free(&notes);
    }
    current = NULL;
    cur_failed = 0;
    for (int i = 1; i < argc; i++)
        if (!matched[i]) {
            printf("FAIL no test matches \"%s\"\n", argv[i]);
            failed++;
        }
    free(matched);

    if (srv_pid > 0)
        t_server_stop();
    failed += cur_failed;
    gstr_free(&notes);
    if (curl_ready)
        curl_global_cleanup();
    if (tmpdir[0]) {
        if (getenv("LOMSONG_KEEP_TMP"))
            printf("kept %s\n", tmpdir);
        else
            nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    free(app_db_derived);
    printf("%d passed, %d failed\n", passed, failed);
    fflush(stdout);
    return failed ? 1 : 0;
}

/* ------------------------------------------------------ shared helpers */

PGconn *t_sysdb(void)
{
    PGconn *c = t_connect(t_admin_db());
    if (c)
        free(t_sql(c, "SELECT set_config('lomsong.role', 'system', false)"));
    return c;
}

char *t_sqlf(PGconn *c, const char *fmt, ...)
{
    char q[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    return c ? t_sql(c, q) : NULL;
}

static char *sys_value(const char *fmt, va_list ap)
{
    char q[8192];
    vsnprintf(q, sizeof q, fmt, ap);
    PGconn *c = t_sysdb();
    char *s = c ? t_sql(c, q) : NULL;
    PQfinish(c);
    return s;
}

long long t_sys_ll(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = sys_value(fmt, ap);
    va_end(ap);
    long long v = s && *s ? strtoll(s, NULL, 10) : LLONG_MIN;
    free(s);
    return v;
}

char *t_sys_str(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = sys_value(fmt, ap);
    va_end(ap);
    return s;
}

const char *t_tmp(const char *fmt, ...)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    int n = snprintf(b, sizeof bufs[0], "%s/", t_tmpdir());
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b + n, sizeof bufs[0] - (size_t)n, fmt, ap);
    va_end(ap);
    return b;
}

int t_read_summary(const char *json, const char *const *keys, long long *const *dst, int n,
                   char *reject_file, size_t rflen)
{
    *reject_file = '\0';
    cJSON *j = json ? cJSON_Parse(json) : NULL;
    int good = cJSON_IsObject(j) && cJSON_GetArraySize(j) == n + 1;
    for (int i = 0; good && i < n; i++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
        if (!cJSON_IsNumber(v))
            good = 0;
        else
            *dst[i] = (long long)v->valuedouble;
    }
    cJSON *rf = cJSON_GetObjectItemCaseSensitive(j, "reject_file");
    if (cJSON_IsString(rf))
        snprintf(reject_file, rflen, "%s", rf->valuestring);
    else if (!cJSON_IsNull(rf))
        good = 0;
    cJSON_Delete(j);
    return good;
}

int t_is_problem(const t_resp *r, long status)
{
    if (r->status != status || !r->content_type ||
        strcmp(r->content_type, "application/problem+json") != 0)
        return 0;
    cJSON *j = cJSON_Parse(r->body);
    int ok = j && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "status")) &&
             (long)cJSON_GetObjectItemCaseSensitive(j, "status")->valuedouble == status &&
             cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "detail")) &&
             cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "title"));
    cJSON_Delete(j);
    return ok;
}
