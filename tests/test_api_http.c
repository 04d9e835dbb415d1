/*
 * test_api_http.c — the HTTP server over real loopback HTTP against the
 * test cluster: routing, problem+json errors, authentication and roles,
 * limits, the access log, metrics and the OpenAPI document.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "t.h"
#include "../api/router.h"

static char *ministry;

TEST(http, server_starts)
{
    ministry = t_token("ministry", NULL, NULL);
    CHECK(t_server_start("--max-body 4096 --idle-timeout 2") != NULL);
}

TEST(http, healthz_and_head)
{
    t_resp r;
    CHECK_INT(t_http("GET", "/healthz", NULL, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "\"status\":\"ok\"");
    CHECK_CONTAINS(r.body, "\"schema_version\":");
    CHECK(t_header(&r, "X-Request-Id") != NULL);
    t_resp_free(&r);
    CHECK_INT(t_http("HEAD", "/healthz", NULL, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_INT(r.len, 0);
    t_resp_free(&r);
}

TEST(http, unknown_route_is_404_problem)
{
    t_resp r;
    CHECK_INT(t_http("GET", "/v1/nothing-here", NULL, NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 404));
    CHECK_CONTAINS(r.body, "/v1/nothing-here");
    t_resp_free(&r);
}

TEST(http, wrong_method_is_405_with_allow)
{
    t_resp r;
    CHECK_INT(t_http("DELETE", "/v1/carriers", NULL, NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 405));
    CHECK_STR(t_header(&r, "Allow"), "GET, HEAD");
    t_resp_free(&r);
}

TEST(http, missing_and_bad_tokens_are_401)
{
    t_resp r;
    CHECK_INT(t_http("GET", "/v1/me", NULL, NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 401));
    CHECK_CONTAINS(t_header(&r, "WWW-Authenticate"), "Bearer");
    t_resp_free(&r);

    CHECK_INT(t_http("GET", "/v1/me", "ls_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 401));
    CHECK_CONTAINS(t_header(&r, "WWW-Authenticate"), "invalid_token");
    t_resp_free(&r);

    CHECK_INT(
        t_http("GET", "/v1/me", "not-even-a-token'; DROP TABLE accounts; --", NULL, 0, NULL, &r),
        0);
    CHECK(t_is_problem(&r, 401));
    t_resp_free(&r);

    CHECK_INT(t_http("GET", "/v1/me", NULL, NULL, 0, "Authorization: Basic dXNlcjpwYXNz", &r), 0);
    CHECK(t_is_problem(&r, 401));
    t_resp_free(&r);
}

TEST(http, me_describes_the_account)
{
    char *loc = t_token("locality", "15", NULL);
    char *car = t_token("carrier", NULL, "viettel");
    t_resp r;
    CHECK_INT(t_http("GET", "/v1/me", loc, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    CHECK(j != NULL);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "role")), "locality");
    cJSON *unit = cJSON_GetObjectItem(j, "unit");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(unit, "code")), "15");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(unit, "name")), "Tỉnh Lào Cai");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "carrier")));
    CHECK_STR(t_header(&r, "Cache-Control"), "private, no-store");
    cJSON_Delete(j);
    t_resp_free(&r);

    CHECK_INT(t_http("GET", "/v1/me", car, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "\"carrier\" : {\"code\" : \"viettel\"");
    CHECK_CONTAINS(r.body, "452-04");
    t_resp_free(&r);
    free(loc);
    free(car);
}

TEST(http, role_without_the_right_is_403)
{
    char *loc = t_token("locality", "01", NULL);
    char *pub = t_token("public", NULL, NULL);
    t_resp r;
    CHECK_INT(t_http("GET", "/metrics", loc, NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 403));
    CHECK_CONTAINS(r.body, "locality");
    t_resp_free(&r);
    CHECK_INT(t_http("GET", "/metrics", pub, NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 403));
    t_resp_free(&r);
    CHECK_INT(t_http("GET", "/metrics", NULL, NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 401));
    t_resp_free(&r);
    free(loc);
    free(pub);
}

TEST(http, revoked_and_expired_tokens_stop_working)
{
    char *tok = t_token("carrier", NULL, "mobifone");
    t_resp r;
    CHECK_INT(t_http("GET", "/v1/me", tok, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    t_resp_free(&r);
    char args[128], *out = NULL, *err = NULL;
    snprintf(args, sizeof(args), "token revoke %s", tok);
    CHECK_INT(t_run(args, NULL, &out, &err), 0);
    CHECK_CONTAINS(out, "revoked token");
    free(out);
    free(err);
    CHECK_INT(t_http("GET", "/v1/me", tok, NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 401));
    t_resp_free(&r);
    /* revoking twice says so, and still succeeds */
    CHECK_INT(t_run(args, NULL, &out, &err), 0);
    CHECK_CONTAINS(err, "already revoked");
    free(out);
    free(err);
    free(tok);

    tok = t_token("ministry", NULL, NULL);
    PGconn *c = t_connect(t_admin_db());
    char sql[256];
    snprintf(sql, sizeof(sql),
             "UPDATE api_tokens SET expires_at = now() - interval '1 second'"
             " WHERE prefix = '%.10s' RETURNING id",
             tok);
    char *id = t_sql(c, sql);
    CHECK(id != NULL);
    free(id);
    PQfinish(c);
    CHECK_INT(t_http("GET", "/v1/me", tok, NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 401));
    t_resp_free(&r);
    free(tok);
}

TEST(http, body_over_the_limit_is_413)
{
    size_t n = 8192; /* the server runs with --max-body 4096 */
    char *big = malloc(n + 1);
    CHECK(big != NULL);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';
    t_resp r;
    CHECK_INT(
        t_http("POST", "/v1/units/locate", NULL, big, n, "Content-Type: application/json", &r), 0);
    CHECK(t_is_problem(&r, 413));
    CHECK_CONTAINS(r.body, "4096");
    t_resp_free(&r);
    /* chunked: no Content-Length, so the cap is found while reading */
    CHECK_INT(t_http("POST", "/v1/units/locate", NULL, big, n,
                     "Content-Type: application/json\nTransfer-Encoding: chunked", &r),
              0);
    CHECK(t_is_problem(&r, 413));
    t_resp_free(&r);
    free(big);
    /* the server is still fine */
    CHECK_INT(t_http("GET", "/healthz", NULL, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    t_resp_free(&r);
}

TEST(http, malformed_json_names_the_offset)
{
    t_resp r;
    const char *body = "{\"points\": [{\"lat\": 21.0, \"lon\": }]}";
    CHECK_INT(t_http("POST", "/v1/units/locate", NULL, body, strlen(body), NULL, &r), 0);
    CHECK(t_is_problem(&r, 400));
    CHECK_CONTAINS(r.body, "malformed JSON at byte 33");
    t_resp_free(&r);
    CHECK_INT(t_http("POST", "/v1/units/locate", NULL, "", 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 400));
    t_resp_free(&r);
    const char *wrong = "{\"points\": [{\"lat\": \"north\", \"lon\": 105}]}";
    CHECK_INT(t_http("POST", "/v1/units/locate", NULL, wrong, strlen(wrong), NULL, &r), 0);
    CHECK(t_is_problem(&r, 400));
    CHECK_CONTAINS(r.body, "points[0]");
    t_resp_free(&r);
}

TEST(http, units_and_carriers)
{
    t_resp r;
    CHECK_INT(t_http("GET", "/v1/units?level=province", NULL, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.content_type, "application/geo+json");
    cJSON *j = cJSON_Parse(r.body);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "type")), "FeatureCollection");
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "features")), 34);
    cJSON_Delete(j);
    t_resp_free(&r);

    CHECK_INT(t_http("GET", "/v1/units?level=province&at=2024-06-01&geometry=none", NULL, NULL, 0,
                     NULL, &r),
              0);
    j = cJSON_Parse(r.body);
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "features")), 63);
    cJSON_Delete(j);
    t_resp_free(&r);

    CHECK_INT(t_http("GET", "/v1/units?level=commune&province=01", NULL, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    j = cJSON_Parse(r.body);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "features")) > 100);
    cJSON_Delete(j);
    t_resp_free(&r);

    CHECK_INT(t_http("GET", "/v1/units/01", NULL, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "\"MultiPolygon\"");
    CHECK_CONTAINS(r.body, "Thành phố Hà Nội");
    t_resp_free(&r);

    /* an old code answers with what it was and what it became */
    CHECK_INT(t_http("GET", "/v1/units/02?geometry=none", NULL, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "Tỉnh Hà Giang");
    CHECK_CONTAINS(r.body, "\"current_code\" : \"08\"");
    t_resp_free(&r);
    CHECK_INT(t_http("GET", "/v1/units/08?geometry=none", NULL, NULL, 0, NULL, &r), 0);
    CHECK_CONTAINS(r.body, "\"predecessors\" : [{\"code\" : \"02\"");
    t_resp_free(&r);

    CHECK_INT(t_http("GET", "/v1/units/99", NULL, NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 404));
    t_resp_free(&r);
    CHECK_INT(t_http("GET", "/v1/units?level=district", NULL, NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 400));
    t_resp_free(&r);
    CHECK_INT(t_http("GET", "/v1/units?at=2025-02-30", NULL, NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 400));
    t_resp_free(&r);

    CHECK_INT(t_http("GET", "/v1/carriers", NULL, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "viettel");
    CHECK_CONTAINS(r.body, "452-04");
    t_resp_free(&r);
}

TEST(http, locate_points)
{
    t_resp r;
    CHECK_INT(t_http("GET", "/v1/units/locate?lat=21.0285&lon=105.8542", NULL, NULL, 0, NULL, &r),
              0);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "\"code\" : \"01\"");
    t_resp_free(&r);
    /* Hà Giang town was province 02 until the merger, 08 since */
    CHECK_INT(t_http("GET", "/v1/units/locate?lat=22.8233&lon=104.9836&at=2024-01-01", NULL, NULL,
                     0, NULL, &r),
              0);
    CHECK_CONTAINS(r.body, "\"code\" : \"02\"");
    t_resp_free(&r);
    CHECK_INT(t_http("GET", "/v1/units/locate?lat=22.8233&lon=104.9836", NULL, NULL, 0, NULL, &r),
              0);
    CHECK_CONTAINS(r.body, "\"code\" : \"08\"");
    t_resp_free(&r);
    CHECK_INT(t_http("GET", "/v1/units/locate?lat=10&lon=120", NULL, NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 404));
    t_resp_free(&r);
    CHECK_INT(t_http("GET", "/v1/units/locate?lat=abc&lon=105", NULL, NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 400));
    t_resp_free(&r);
    CHECK_INT(t_http("GET", "/v1/units/locate?lat=91&lon=105", NULL, NULL, 0, NULL, &r), 0);
    CHECK(t_is_problem(&r, 400));
    t_resp_free(&r);

    const char *body = "{\"points\": [{\"lat\": 21.0285, \"lon\": 105.8542},"
                       " {\"lat\": 10.7769, \"lon\": 106.7009}, {\"lat\": 0, \"lon\": 0}]}";
    CHECK_INT(t_http("POST", "/v1/units/locate", NULL, body, strlen(body), NULL, &r), 0);
    CHECK_INT(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    cJSON *res = cJSON_GetObjectItem(j, "results");
    CHECK_INT(cJSON_GetArraySize(res), 3);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(
                  cJSON_GetObjectItem(cJSON_GetArrayItem(res, 0), "province"), "code")),
              "01");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(
                  cJSON_GetObjectItem(cJSON_GetArrayItem(res, 1), "province"), "code")),
              "79");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(res, 2), "province")));
    cJSON_Delete(j);
    t_resp_free(&r);
}

TEST(http, openapi_documents_every_route)
{
    t_resp r;
    CHECK_INT(t_http("GET", "/openapi.json", NULL, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    CHECK(j != NULL);
    cJSON *paths = cJSON_GetObjectItem(j, "paths");
    for (int i = 0; i < api_nroutes; i++) {
        char method[16];
        size_t k = 0;
        for (; api_routes[i].method[k] && k < sizeof(method) - 1; k++)
            method[k] = (char)(api_routes[i].method[k] | 0x20);
        method[k] = '\0';
        cJSON *p = cJSON_GetObjectItem(paths, api_routes[i].pattern);
        if (!p || !cJSON_GetObjectItem(p, method))
            t_fail(__FILE__, __LINE__, "openapi.json lacks %s %s", api_routes[i].method,
                   api_routes[i].pattern);
    }
    /* and documents nothing that does not exist */
    cJSON *p;
    cJSON_ArrayForEach(p, paths)
    {
        int found = 0;
        for (int i = 0; i < api_nroutes; i++)
            found |= strcmp(api_routes[i].pattern, p->string) == 0;
        if (!found)
            t_fail(__FILE__, __LINE__, "openapi.json documents %s, which has no route", p->string);
    }
    cJSON_Delete(j);
    t_resp_free(&r);
}

TEST(http, metrics_count_requests)
{
    t_resp r;
    CHECK_INT(t_http("GET", "/healthz", NULL, NULL, 0, NULL, &r), 0);
    t_resp_free(&r);
    CHECK_INT(t_http("GET", "/metrics", ministry, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.content_type, "text/plain");
    CHECK_CONTAINS(r.body, "lomsong_http_requests_total{route=\"GET /healthz\",status=\"200\"}");
    CHECK_CONTAINS(r.body, "lomsong_http_requests_total{route=\"unmatched\",status=\"404\"}");
    CHECK_CONTAINS(
        r.body, "lomsong_http_request_duration_seconds_bucket{route=\"GET /healthz\",le=\"+Inf\"}");
    CHECK_CONTAINS(r.body, "lomsong_db_pool_size ");
    t_resp_free(&r);
}

TEST(http, one_json_log_line_per_request)
{
    t_resp r;
    CHECK_INT(t_http("GET", "/v1/units/locate?lat=21.0285&lon=105.8542&probe=log", NULL, NULL, 0,
                     NULL, &r),
              0);
    char want[64];
    snprintf(want, sizeof(want), "\"req\":\"%s\"", t_header(&r, "X-Request-Id"));
    t_resp_free(&r);
    usleep(100 * 1000);
    char *log = t_server_log();
    CHECK_CONTAINS(log, want);
    const char *line = log ? strstr(log, want) : NULL;
    if (line) {
        const char *start = line;
        while (start > log && start[-1] != '\n')
            start--;
        const char *end = strchr(line, '\n');
        char *one = strndup(start, end ? (size_t)(end - start) : strlen(start));
        cJSON *j = cJSON_Parse(one);
        CHECK(j != NULL);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "method")), "GET");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "path")), "/v1/units/locate");
        CHECK_INT(cJSON_GetObjectItem(j, "status") ? cJSON_GetObjectItem(j, "status")->valueint : 0,
                  200);
        CHECK(cJSON_IsNumber(cJSON_GetObjectItem(j, "ms")));
        CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "account")));
        cJSON_Delete(j);
        free(one);
    }
    free(log);
}

/* An idle client, and one that sends half a request and stalls, are both cut
 * off after the idle timeout (the server runs with --idle-timeout 2). */
TEST(http, idle_and_slow_clients_are_cut_off)
{
    /* The port is in the base URL the harness returned. */
    const char *url = t_server_url();
    CHECK(url != NULL);
    if (!url)
        return;
    int port = atoi(strrchr(url, ':') + 1);
    for (int round = 0; round < 2; round++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        CHECK_INT(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        if (round == 1) {
            const char *half = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
            CHECK(write(fd, half, strlen(half)) > 0);
        }
        struct pollfd p = {fd, POLLIN, 0};
        int ready = poll(&p, 1, 6000);
        char c;
        CHECK_INT(ready, 1);
        CHECK(ready == 1 && read(fd, &c, 1) <= 0); /* closed by the server, nothing sent */
        close(fd);
    }
}

static int connect_server(void)
{
    const char *url = t_server_url();
    if (!url)
        return -1;
    int port = atoi(strrchr(url, ':') + 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads what the server sends until it closes or 5 s pass; malloc'd. */
static char *read_all(int fd)
{
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    struct pollfd p = {fd, POLLIN, 0};
    while (b && n < cap && poll(&p, 1, 5000) == 1) {
        ssize_t k = read(fd, b + n, cap - n);
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    if (b)
        b[n] = '\0';
    return b;
}

TEST(http, oversized_headers_are_431)
{
    int fd = connect_server();
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    size_t n = 100000;
    char *req = malloc(n + 128);
    int k = snprintf(req, 128, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(req + k, 'a', n);
    memcpy(req + k + n, "\r\n\r\n", 5);
    CHECK(write(fd, req, (size_t)k + n + 4) > 0);
    char *resp = read_all(fd);
    CHECK_CONTAINS(resp, "HTTP/1.1 431");
    free(resp);
    free(req);
    close(fd);
    t_resp r;
    CHECK_INT(t_http("GET", "/healthz", NULL, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    t_resp_free(&r);
}

/* SIGTERM while a request is half uploaded: the server stops taking new
 * connections but answers the request in flight, then exits cleanly. */
TEST(http, zz_shutdown_finishes_requests_in_flight)
{
    int fd = connect_server();
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    const char *body = "{\"points\": [{\"lat\": 21.0285, \"lon\": 105.8542}]}";
    char head[256];
    snprintf(head, sizeof(head),
             "POST /v1/units/locate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n",
             strlen(body));
    CHECK(write(fd, head, strlen(head)) > 0);
    CHECK(write(fd, body, 10) == 10);
    usleep(200 * 1000);
    CHECK_INT(t_server_signal(SIGTERM), 0);
    usleep(300 * 1000);
    /* new connections are refused now */
    CHECK(connect_server() < 0);
    CHECK(write(fd, body + 10, strlen(body) - 10) > 0);
    char *resp = read_all(fd);
    CHECK_CONTAINS(resp, "HTTP/1.1 200");
    CHECK_CONTAINS(resp, "\"code\" : \"01\"");
    free(resp);
    close(fd);
    CHECK_INT(t_server_stop(), 0);
    char *log = t_server_log();
    CHECK_CONTAINS(log, "finishing requests in flight");
    free(log);
}

TEST(http, zz_server_stops_cleanly)
{
    CHECK(t_server_url() == NULL); /* stopped by the test before */
    free(ministry);
    ministry = NULL;
}
