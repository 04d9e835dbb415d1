/*
 * test_web.c — the web page.
 *
 * Over real loopback HTTP: what api/h_web.c serves from the binary (GET /,
 * /web/{file}, /sw.js): types, ETag and 304, gzip'd copies, the
 * Content-Security-Policy, the service worker's version and shell, and
 * nothing else (no package.json, no dot file, no way out of the table).
 *
 * Then the page itself in Debian's chromium, driven by playwright-core
 * (tests/browser/run.mjs, run once with node): this suite prepares points
 * in Lào Cai (province 15, around 21.89-21.96 N, 104.37-104.45 E, where no
 * other suite reports or measures) with reports, assignments to
 * two carriers, a blocked one and speed tests through the ingest, passes
 * the URL, tokens and places in the environment, and turns each case's
 * JSON line into a test of its own: (a) no console error and no request
 * leaving 127.0.0.1, (b) the map draws tiles, (c) a locality files a report
 * by clicking the map, (d) a report made offline is sent exactly once when
 * the browser is back online, (e) a carrier sees only its own assignments,
 * (f) the ministry's dashboard equals /v1/stats/summary.  The reports of
 * (c) and (d) are then counted in the database.  With no chromium the cases
 * fail: `make test` installs it (tools/web.sh deps).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "t.h"

#define CHROMIUM "/usr/bin/chromium"
#define BROWSER_TIMEOUT_S 900
#define MAX_CASES 16

static char *tok_loc, *tok_min, *tok_vt;
static long p_start, p_blocked, p_other; /* the prepared points */
static char place_c[96], place_d[96];

static const double C_LAT = 21.920, C_LON = 104.420; /* case (c) clicks here */
static const double D_LAT = 21.910, D_LON = 104.440; /* case (d) clicks here */

/* ------------------------------------------------------------- helpers */

static long get(const char *path, const char *tok, const char *headers, t_resp *r)
{
    if (t_http("GET", path, tok, NULL, 0, headers, r) != 0) {
        t_fail(__FILE__, __LINE__, "GET %s: no response", path);
        return -1;
    }
    return r->status;
}

static long post_json(const char *path, const char *tok, const char *body, cJSON **out)
{
    t_resp r;
    if (out)
        *out = NULL;
    if (t_http("POST", path, tok, body, strlen(body), "Content-Type: application/json", &r) != 0)
        return -1;
    long st = r.status;
    if (st >= 300)
        t_fail(__FILE__, __LINE__, "POST %s %s: %ld %s", path, body, st, r.body);
    if (out)
        *out = cJSON_Parse(r.body);
    t_resp_free(&r);
    return st;
}

/* Files a 4G report at (lat, lon); the id of its point, or -1. */
static long report(double lat, double lon, const char *place)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"lat\": %.4f, \"lon\": %.4f, \"technology\": \"4G\", \"symptom\": \"no_signal\","
             " \"place\": \"%s\", \"carriers\": [\"viettel\", \"mobifone\"]}",
             lat, lon, place);
    cJSON *j = NULL;
    CHECK_INT(post_json("/v1/reports", tok_loc, body, &j), 201);
    const cJSON *id = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "point"), "id");
    long v = cJSON_IsNumber(id) ? (long)id->valuedouble : -1;
    /* a point of its own: no earlier report is this close */
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "point"), "joined")));
    cJSON_Delete(j);
    return v;
}

static void move(long point, const char *tok, const char *body)
{
    char path[64];
    snprintf(path, sizeof(path), "/v1/points/%ld/transitions", point);
    CHECK_INT(post_json(path, tok, body, NULL), 200);
}

/* Speed tests through the ingest (POST /v1/measurements): n tests near
 * (lat, lon) in the last hours, at `mbps`. */
static void speed_tests(double lat, double lon, int n, double mbps)
{
    char csv[4096];
    size_t len =
        (size_t)snprintf(csv, sizeof(csv), "lat,lon,time,download_mbps,operator,network_type\n");
    time_t now = time(NULL);
    for (int i = 0; i < n; i++) {
        time_t t = now - 3600 * (i + 1);
        struct tm tm;
        gmtime_r(&t, &tm);
        char ts[32];
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        len += (size_t)snprintf(csv + len, sizeof(csv) - len, "%.6f,%.6f,%s,%.1f,Viettel,4G\n",
                                lat + i * 2e-4, lon + 0.002, ts, mbps);
    }
    t_resp r;
    CHECK_INT(t_http("POST", "/v1/measurements?format=csv", tok_vt, csv, len, NULL, &r), 0);
    CHECK_INT(r.status, 201);
    t_resp_free(&r);
}

static long long sql_count(const char *fmt, const char *arg)
{
    PGconn *c = t_sysdb();
    char *s = t_sqlf(c, fmt, arg);
    long long v = s ? strtoll(s, NULL, 10) : -1;
    free(s);
    PQfinish(c);
    return v;
}

/* ------------------------------------------------ files from the binary */

TEST(web, server_starts)
{
    tok_loc = t_token("locality", "15", NULL);
    tok_min = t_token("ministry", NULL, NULL);
    tok_vt = t_token("carrier", NULL, "viettel");
    CHECK(t_server_start(NULL) != NULL);
}

TEST(web, index_page_with_csp)
{
    t_resp r;
    CHECK_INT(get("/", NULL, NULL, &r), 200);
    CHECK_STR(r.content_type, "text/html; charset=utf-8");
    CHECK_CONTAINS(r.body, "<script type=\"module\" src=\"/web/app.js\"></script>");
    CHECK_CONTAINS(r.body, "href=\"/web/maplibre-gl.css\"");
    /* nothing from elsewhere: no CDN, no external font */
    CHECK(strstr(r.body, "http://") == NULL && strstr(r.body, "https://") == NULL);
    const char *csp = t_header(&r, "Content-Security-Policy");
    CHECK_CONTAINS(csp, "default-src 'self'");
    CHECK_CONTAINS(csp, "script-src 'self';");
    CHECK_CONTAINS(csp, "worker-src 'self' blob:");
    CHECK_CONTAINS(csp, "img-src 'self' data: blob:");
    CHECK_CONTAINS(csp, "connect-src 'self';");
    CHECK(csp && !strstr(csp, "unsafe") && !strstr(csp, "*"));
    CHECK_STR(t_header(&r, "X-Content-Type-Options"), "nosniff");
    CHECK_STR(t_header(&r, "Cache-Control"), "no-cache");
    t_resp_free(&r);

    CHECK_INT(t_http("HEAD", "/", NULL, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_INT(r.len, 0);
    t_resp_free(&r);
    CHECK_INT(t_http("POST", "/", NULL, "x", 1, NULL, &r), 0);
    CHECK(t_is_problem(&r, 405));
    CHECK_STR(t_header(&r, "Allow"), "GET, HEAD");
    t_resp_free(&r);
}

TEST(web, etag_and_not_modified)
{
    t_resp r;
    CHECK_INT(get("/web/app.js", NULL, NULL, &r), 200);
    char etag[64];
    snprintf(etag, sizeof(etag), "%s", t_header(&r, "ETag") ? t_header(&r, "ETag") : "");
    CHECK(strlen(etag) == 18 && etag[0] == '"' && etag[17] == '"');
    size_t full = r.len;
    CHECK(full > 1000);
    t_resp_free(&r);

    char h[128];
    snprintf(h, sizeof(h), "If-None-Match: %s", etag);
    CHECK_INT(get("/web/app.js", NULL, h, &r), 304);
    CHECK_INT(r.len, 0);
    CHECK_STR(t_header(&r, "ETag"), etag);
    t_resp_free(&r);
    snprintf(h, sizeof(h), "If-None-Match: \"0000000000000000\", W/%s", etag);
    CHECK_INT(get("/web/app.js", NULL, h, &r), 304);
    t_resp_free(&r);
    CHECK_INT(get("/web/app.js", NULL, "If-None-Match: \"0000000000000000\"", &r), 200);
    CHECK_INT(r.len, full);
    t_resp_free(&r);
    /* another file has another tag */
    CHECK_INT(get("/web/map.js", NULL, NULL, &r), 200);
    CHECK(t_header(&r, "ETag") && strcmp(t_header(&r, "ETag"), etag) != 0);
    t_resp_free(&r);
}

TEST(web, gzip_when_asked)
{
    t_resp raw, gz;
    CHECK_INT(get("/web/maplibre-gl.mjs", NULL, NULL, &raw), 200);
    CHECK_STR(raw.content_type, "text/javascript; charset=utf-8");
    CHECK_CONTAINS(raw.body, "MapLibre GL JS");
    CHECK(t_header(&raw, "Content-Encoding") == NULL);
    CHECK_STR(t_header(&raw, "Vary"), "Accept-Encoding");
    char raw_tag[64];
    snprintf(raw_tag, sizeof(raw_tag), "%s", t_header(&raw, "ETag") ? t_header(&raw, "ETag") : "");

    CHECK_INT(get("/web/maplibre-gl.mjs", NULL, "Accept-Encoding: br, gzip;q=0.8", &gz), 200);
    CHECK_STR(t_header(&gz, "Content-Encoding"), "gzip");
    CHECK(gz.len > 2 && (unsigned char)gz.body[0] == 0x1f && (unsigned char)gz.body[1] == 0x8b);
    CHECK(gz.len < raw.len / 2);
    CHECK(t_header(&gz, "ETag") && strcmp(t_header(&gz, "ETag"), raw_tag) != 0);
    t_resp_free(&gz);

    /* q=0 refuses it */
    CHECK_INT(get("/web/maplibre-gl.mjs", NULL, "Accept-Encoding: gzip;q=0, identity", &gz), 200);
    CHECK(t_header(&gz, "Content-Encoding") == NULL);
    CHECK_INT(gz.len, raw.len);
    t_resp_free(&gz);
    t_resp_free(&raw);
}

TEST(web, content_types)
{
    static const struct {
        const char *path, *type;
    } files[] = {
        {"/web/app.js", "text/javascript; charset=utf-8"},
        {"/web/i18n.js", "text/javascript; charset=utf-8"},
        {"/web/style.css", "text/css; charset=utf-8"},
        {"/web/maplibre-gl.css", "text/css; charset=utf-8"},
        {"/web/maplibre-gl-worker.mjs", "text/javascript; charset=utf-8"},
        {"/web/icon.svg", "image/svg+xml"},
        {"/web/manifest.webmanifest", "application/manifest+json"},
        {"/web/index.html", "text/html; charset=utf-8"},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        t_resp r;
        if (get(files[i].path, NULL, NULL, &r) != 200)
            t_fail(__FILE__, __LINE__, "GET %s: %ld", files[i].path, r.status);
        else if (!r.content_type || strcmp(r.content_type, files[i].type) != 0)
            t_fail(__FILE__, __LINE__, "GET %s: Content-Type %s, want %s", files[i].path,
                   r.content_type ? r.content_type : "(none)", files[i].type);
        CHECK(t_header(&r, "Content-Security-Policy") != NULL);
        t_resp_free(&r);
    }
}

TEST(web, only_the_page_files_are_served)
{
    static const char *const paths[] = {
        "/web/sw.js",        /* only at the root, where its scope is the site */
        "/web/package.json", /* not embedded */
        "/web/openapi.json", /* embedded, but not a file of the page */
        "/web/001_core.sql", /* a migration */
        "/web/.hidden",
        "/web/nothing.js",
        "/web/app.js.gz",
        "/web/..%2Fopenapi.json",
        "/web/%2E%2E%2Fapi%2Fserver.c",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        t_resp r;
        get(paths[i], NULL, NULL, &r);
        if (!t_is_problem(&r, 404))
            t_fail(__FILE__, __LINE__, "GET %s: %ld %.80s, want a 404 problem", paths[i], r.status,
                   r.body ? r.body : "");
        t_resp_free(&r);
    }
}

TEST(web, service_worker_at_the_root)
{
    t_resp r;
    CHECK_INT(get("/sw.js", NULL, NULL, &r), 200);
    CHECK_STR(r.content_type, "text/javascript; charset=utf-8");
    CHECK(t_header(&r, "ETag") != NULL);
    CHECK_CONTAINS(t_header(&r, "Content-Security-Policy"), "default-src 'self'");
    /* the version is written in: a 16-digit hash, no mark left */
    CHECK(strstr(r.body, "__LOMSONG_WEB_VERSION__") == NULL);
    const char *v = strstr(r.body, "const VERSION = '");
    CHECK(v != NULL);
    if (v) {
        v += strlen("const VERSION = '");
        CHECK(strspn(v, "0123456789abcdef") == 16 && v[16] == '\'');
    }
    /* every file of the shell it caches at install is there */
    const char *s = strstr(r.body, "const SHELL = [");
    const char *end = s ? strstr(s, "];") : NULL;
    CHECK(s && end);
    int n = 0;
    for (const char *q = s ? strchr(s, '\'') : NULL; q && q < end; q = strchr(q, '\'')) {
        const char *e = strchr(q + 1, '\'');
        if (!e || e > end)
            break;
        char path[128];
        snprintf(path, sizeof(path), "%.*s", (int)(e - q - 1), q + 1);
        t_resp f;
        if (get(path, NULL, NULL, &f) != 200)
            t_fail(__FILE__, __LINE__, "the service worker caches %s, which answers %ld", path,
                   f.status);
        t_resp_free(&f);
        n++;
        q = e + 1;
    }
    CHECK(n >= 10);
    t_resp_free(&r);
}

/* ------------------------------------------------------- in the browser */

struct bcase {
    char name[64];
    int ok;
    char *detail;
};

static struct bcase results[MAX_CASES];
static int nresults, browser_ran;
static char *browser_stderr;

/* The last lines of the browser run's stderr (static buffer). */
static const char *stderr_tail(void)
{
    static char tail[3000];
    const char *s = browser_stderr ? browser_stderr : "";
    size_t n = strlen(s);
    snprintf(tail, sizeof(tail), "%s", n > sizeof(tail) - 1 ? s + n - (sizeof(tail) - 1) : s);
    return tail;
}

TEST(web, browser_data)
{
    /* three points, 1.1 km apart: start (viettel, assigned), blocked
     * (viettel, no power), other (mobifone only) */
    p_start = report(21.930, 104.380, "Thôn Web 1");
    p_blocked = report(21.940, 104.380, "Thôn Web 2");
    p_other = report(21.950, 104.380, "Thôn Web 3");
    CHECK(p_start > 0 && p_blocked > 0 && p_other > 0);
    move(p_start, tok_min, "{\"to\": \"triaged\"}");
    move(p_blocked, tok_min, "{\"to\": \"triaged\"}");
    move(p_other, tok_min, "{\"to\": \"triaged\"}");
    move(p_start, tok_min,
         "{\"to\": \"assigned\", \"carriers\": [\"viettel\"], \"due\": \"2099-03-10\"}");
    move(p_blocked, tok_min,
         "{\"to\": \"assigned\", \"carriers\": [\"viettel\"], \"due\": \"2099-03-05\"}");
    move(p_other, tok_min,
         "{\"to\": \"assigned\", \"carriers\": [\"mobifone\"], \"due\": \"2099-03-07\"}");
    move(p_blocked, tok_vt, "{\"to\": \"blocked\", \"reason\": \"no_power\"}");
    /* speed tests: passing near the first point, failing near the third */
    speed_tests(21.930, 104.380, 6, 65.0);
    speed_tests(21.950, 104.380, 6, 3.5);
    snprintf(place_c, sizeof(place_c), "Thôn Web C %d", (int)getpid());
    snprintf(place_d, sizeof(place_d), "Bản Web D %d", (int)getpid());
}

/* Runs `node tests/browser/run.mjs` and collects its JSON lines. */
TEST(web, browser_run)
{
    if (access(CHROMIUM, X_OK) != 0)
        t_fail(__FILE__, __LINE__,
               "%s is not installed: `make test` installs it (tools/web.sh deps), else "
               "apt-get install chromium",
               CHROMIUM);
    const char *root = getenv("LOMSONG_TEST_ROOT");
    if (!root || !*root)
        root = ".";
    char buf[PATH_MAX + 64], num[32];
    setenv("LOMSONG_URL", t_server_url() ? t_server_url() : "", 1);
    setenv("LOMSONG_TOKEN_LOCALITY", tok_loc ? tok_loc : "", 1);
    setenv("LOMSONG_TOKEN_CARRIER", tok_vt ? tok_vt : "", 1);
    setenv("LOMSONG_TOKEN_MINISTRY", tok_min ? tok_min : "", 1);
    snprintf(buf, sizeof(buf), "%.4f,%.4f,%s", C_LAT, C_LON, place_c);
    setenv("LOMSONG_WEB_C", buf, 1);
    snprintf(buf, sizeof(buf), "%.4f,%.4f,%s", D_LAT, D_LON, place_d);
    setenv("LOMSONG_WEB_D", buf, 1);
    setenv("LOMSONG_WEB_VIEW", "21.9350,104.3800", 1);
    snprintf(num, sizeof(num), "%ld", p_start);
    setenv("LOMSONG_WEB_START_POINT", num, 1);
    snprintf(num, sizeof(num), "%ld", p_other);
    setenv("LOMSONG_WEB_OTHER_POINT", num, 1);
    setenv("LOMSONG_WEB_OTHER_AT", "21.9500,104.3800", 1);
    setenv("LOMSONG_CHROMIUM", CHROMIUM, 1);
    snprintf(buf, sizeof(buf), "%s/tests/artifacts", root);
    setenv("LOMSONG_ARTIFACTS", buf, 1);

    char errpath[PATH_MAX];
    snprintf(errpath, sizeof(errpath), "%s/browser.stderr", t_tmpdir());
    int out[2];
    if (pipe(out) != 0) {
        t_fail(__FILE__, __LINE__, "pipe: %s", strerror(errno));
        return;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        t_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
        close(out[0]);
        close(out[1]);
        return;
    }
    if (pid == 0) {
        int efd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int nfd = open("/dev/null", O_RDONLY);
        if (chdir(root) != 0 || efd < 0 || nfd < 0)
            _exit(126);
        dup2(nfd, 0);
        dup2(out[1], 1);
        dup2(efd, 2);
        close(out[0]);
        signal(SIGPIPE, SIG_DFL);
        /* the sanitizers of the test binary are not node's business */
        unsetenv("LD_PRELOAD");
        execlp("node", "node", "tests/browser/run.mjs", (char *)NULL);
        _exit(127);
    }
    close(out[1]);

    /* Read the JSON lines until the run ends or runs out of time. */
    char *acc = NULL;
    size_t len = 0;
    time_t deadline = time(NULL) + BROWSER_TIMEOUT_S;
    int timed_out = 0;
    for (;;) {
        struct pollfd p = {out[0], POLLIN, 0};
        int left = (int)(deadline - time(NULL));
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        int n = poll(&p, 1, 1000);
        if (n < 0 && errno != EINTR)
            break;
        if (n <= 0)
            continue;
        char chunk[4096];
        ssize_t got = read(out[0], chunk, sizeof(chunk));
        if (got <= 0)
            break;
        char *grown = realloc(acc, len + (size_t)got + 1);
        if (!grown)
            break;
        acc = grown;
        memcpy(acc + len, chunk, (size_t)got);
        len += (size_t)got;
        acc[len] = '\0';
    }
    close(out[0]);
    int status = 0;
    if (timed_out)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    browser_ran = 1;
    FILE *ef = fopen(errpath, "r");
    if (ef) {
        size_t cap = 1 << 20;
        browser_stderr = calloc(1, cap);
        if (browser_stderr)
            browser_stderr[fread(browser_stderr, 1, cap - 1, ef)] = '\0';
        fclose(ef);
    }

    for (char *line = acc; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        cJSON *j = line[0] == '{' ? cJSON_Parse(line) : NULL;
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(j, "case"));
        if (name && nresults < MAX_CASES) {
            struct bcase *b = &results[nresults++];
            snprintf(b->name, sizeof(b->name), "%s", name);
            b->ok = cJSON_IsTrue(cJSON_GetObjectItem(j, "ok"));
            const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(j, "detail"));
            b->detail = strdup(d ? d : "");
        }
        cJSON_Delete(j);
        line = nl ? nl + 1 : NULL;
    }
    free(acc);
    if (timed_out)
        t_fail(__FILE__, __LINE__, "the browser run took more than %d s; killed; stderr ends:\n%s",
               BROWSER_TIMEOUT_S, stderr_tail());
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        t_fail(__FILE__, __LINE__, "node could not be run (make test installs it)");
    else if (nresults == 0)
        t_fail(__FILE__, __LINE__, "the browser run reported no case (exit %d); stderr ends:\n%s",
               WIFEXITED(status) ? WEXITSTATUS(status) : -1, stderr_tail());
}

/* Pass or fail as the browser case `name` did. */
static void browser_case(const char *name, int line)
{
    for (int i = 0; i < nresults; i++)
        if (strcmp(results[i].name, name) == 0) {
            if (!results[i].ok)
                t_fail(__FILE__, line, "%s", results[i].detail);
            return;
        }
    t_fail(__FILE__, line, "the browser run %s case %s; its stderr ends:\n%s",
           browser_ran ? "did not report" : "did not happen, so no", name, stderr_tail());
}

TEST(web, a_no_console_error_and_no_request_off_127_0_0_1)
{
    browser_case("a_no_errors_no_outside_requests", __LINE__);
}

TEST(web, b_map_draws_tiles)
{
    browser_case("b_map_draws_tiles", __LINE__);
}

TEST(web, c_locality_files_a_report_by_clicking_the_map)
{
    browser_case("c_locality_reports_by_click", __LINE__);
    CHECK_INT(sql_count("SELECT count(*) FROM reports WHERE place = '%s' AND source = 'map'"
                        " AND province_code = '15' AND technology = '3G'"
                        " AND people_affected = 42 AND carriers = '{viettel}'",
                        place_c),
              1);
}

TEST(web, d_offline_report_is_sent_exactly_once)
{
    browser_case("d_offline_report_sent_once", __LINE__);
    CHECK_INT(sql_count("SELECT count(*) FROM reports WHERE place = '%s'", place_d), 1);
    /* sent with the Idempotency-Key it got on the device */
    CHECK_INT(sql_count("SELECT count(*) FROM reports WHERE place = '%s'"
                        " AND client_ref ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}"
                        "-[0-9a-f]{12}$'",
                        place_d),
              1);
}

TEST(web, e_carrier_sees_only_its_own_assignments)
{
    browser_case("e_carrier_sees_own_assignments", __LINE__);
}

TEST(web, f_ministry_dashboard_equals_the_summary)
{
    browser_case("f_dashboard_matches_summary", __LINE__);
}

TEST(web, browser_cases_are_all_known)
{
    static const char *const known[] = {
        "a_no_errors_no_outside_requests", "b_map_draws_tiles",
        "c_locality_reports_by_click",     "d_offline_report_sent_once",
        "e_carrier_sees_own_assignments",  "f_dashboard_matches_summary"};
    for (int i = 0; i < nresults; i++) {
        int found = 0;
        for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
            found |= strcmp(results[i].name, known[k]) == 0;
        if (!found)
            t_fail(__FILE__, __LINE__, "browser case %s: %s", results[i].name,
                   results[i].detail ? results[i].detail : "");
        free(results[i].detail);
        results[i].detail = NULL;
    }
    free(browser_stderr);
    browser_stderr = NULL;
    free(tok_loc);
    free(tok_min);
    free(tok_vt);
    tok_loc = tok_min = tok_vt = NULL;
}
