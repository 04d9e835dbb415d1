/*
 * test_api_verify.c — a fix counts only when measurements prove it.  Over
 * real HTTP: a point is reported, assigned and marked fixed; a batch of
 * passing tests nearby verifies it (system event with the evidence); a batch
 * of failing tests reopens it; passing tests near a newly reported point mark
 * it disputed.  Also what does NOT verify: too few tests, tests too far, tests
 * of another technology, failing tests, tests from before the fix.  The server runs with
 * --verify-min-days 1 so that tests taken within the hour count (times in the future are refused).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "t.h"

static char *loc, *min, *vt;

static long post_json(const char *path, const char *tok, const char *body, cJSON **out)
{
    t_resp r;
    *out = NULL;
    if (t_http("POST", path, tok, body, strlen(body), "Content-Type: application/json", &r) != 0)
        return -1;
    long st = r.status;
    *out = cJSON_Parse(r.body);
    t_resp_free(&r);
    return st;
}

/* A point reported at (lat, lon), assigned to viettel and marked fixed. */
static long fixed_point(double lat, double lon)
{
    char body[256], path[64];
    cJSON *j = NULL;
    snprintf(body, sizeof(body),
             "{\"lat\": %.5f, \"lon\": %.5f, \"technology\": \"4G\", \"symptom\": \"no_signal\"}",
             lat, lon);
    CHECK_INT(post_json("/v1/reports", loc, body, &j), 201);
    long id =
        (long)cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "point"), "id"));
    cJSON_Delete(j);
    snprintf(path, sizeof(path), "/v1/points/%ld/transitions", id);
    CHECK_INT(post_json(path, min, "{\"to\": \"triaged\"}", &j), 200);
    cJSON_Delete(j);
    CHECK_INT(
        post_json(path, min,
                  "{\"to\": \"assigned\", \"carriers\": [\"viettel\"], \"due\": \"2099-12-31\"}",
                  &j),
        200);
    cJSON_Delete(j);
    CHECK_INT(post_json(path, vt, "{\"to\": \"fixed\"}", &j), 200);
    cJSON_Delete(j);
    return id;
}

/* Uploads n tests at (lat, lon) taken `offset` seconds from now (+i s). */
static void upload(double lat, double lon, int n, double mbps, const char *tech, int offset)
{
    char csv[4096];
    size_t len =
        (size_t)snprintf(csv, sizeof(csv), "lat,lon,time,download_mbps,operator,network_type\n");
    time_t now = time(NULL);
    for (int i = 0; i < n; i++) {
        time_t t = now + offset + i;
        struct tm tm;
        gmtime_r(&t, &tm);
        char ts[32];
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        len += (size_t)snprintf(csv + len, sizeof(csv) - len, "%.6f,%.6f,%s,%.1f,Viettel,%s\n",
                                lat + i * 1e-5, lon, ts, mbps, tech);
    }
    t_resp r;
    CHECK_INT(t_http("POST", "/v1/measurements?format=csv", vt, csv, len, NULL, &r), 0);
    CHECK_INT(r.status, 201);
    t_resp_free(&r);
}

static cJSON *point(long id)
{
    char path[64];
    snprintf(path, sizeof(path), "/v1/points/%ld", id);
    t_resp r;
    if (t_http("GET", path, min, NULL, 0, NULL, &r) != 0)
        return NULL;
    cJSON *j = r.status == 200 ? cJSON_Parse(r.body) : NULL;
    t_resp_free(&r);
    return j;
}

static const char *status_of(cJSON *p)
{
    return cJSON_GetStringValue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(p, "properties"), "status"));
}

TEST(api_verify, server_starts)
{
    loc = t_token("locality", "15", NULL);
    min = t_token("ministry", NULL, NULL);
    vt = t_token("carrier", NULL, "viettel");
    CHECK(t_server_start("--verify-min-days 1") != NULL);
}

TEST(api_verify, passing_tests_verify_then_failing_ones_reopen)
{
    long id = fixed_point(22.1000, 104.3000);
    upload(22.1001, 104.3001, 4, 60, "4G", 60); /* 4 < 5 tests: not yet */
    cJSON *p = point(id);
    CHECK_STR(status_of(p), "fixed");
    cJSON_Delete(p);
    upload(22.1002, 104.3002, 3, 70, "4G", 120); /* now 7 passing tests */
    p = point(id);
    CHECK_STR(status_of(p), "verified");
    cJSON *props = cJSON_GetObjectItem(p, "properties");
    CHECK(cJSON_IsString(cJSON_GetObjectItem(props, "verified_at")));
    cJSON *a0 = cJSON_GetArrayItem(cJSON_GetObjectItem(props, "assignments"), 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(a0, "status")), "verified");
    cJSON *evs = cJSON_GetObjectItem(props, "events");
    cJSON *last = cJSON_GetArrayItem(evs, cJSON_GetArraySize(evs) - 1);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(last, "actor_role")), "system");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(last, "to_status")), "verified");
    cJSON *data = cJSON_GetObjectItem(last, "data");
    CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(data, "tests")), 7);
    CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(data, "meeting_min")), 7);
    cJSON_Delete(p);

    upload(22.1003, 104.3003, 6, 5, "4G", 180); /* failing, after the verification */
    p = point(id);
    CHECK_STR(status_of(p), "reopened");
    cJSON_Delete(p);
}

TEST(api_verify, what_does_not_verify)
{
    long id = fixed_point(22.1500, 104.3500);
    upload(22.1500, 104.3600, 8, 80, "4G", 60);   /* ~1 km east: too far */
    upload(22.1501, 104.3501, 8, 80, "3G", 120);  /* another technology */
    upload(22.1502, 104.3502, 8, 10, "4G", 180);  /* near, 4G, but failing */
    upload(22.1503, 104.3503, 8, 80, "4G", -600); /* near and passing, but before the fix */
    cJSON *p = point(id);
    CHECK_STR(status_of(p), "fixed");
    cJSON_Delete(p);
}

TEST(api_verify, passing_tests_dispute_a_new_report)
{
    cJSON *j = NULL;
    CHECK_INT(post_json("/v1/reports", loc,
                        "{\"lat\": 22.0500, \"lon\": 104.4000, \"technology\": \"4G\","
                        " \"symptom\": \"slow_data\"}",
                        &j),
              201);
    long id =
        (long)cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "point"), "id"));
    cJSON_Delete(j);
    upload(22.0501, 104.4001, 6, 90, "4G", -50);
    cJSON *p = point(id);
    cJSON *props = cJSON_GetObjectItem(p, "properties");
    CHECK_STR(status_of(p), "reported");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(props, "disputed")));
    cJSON *evs = cJSON_GetObjectItem(props, "events");
    cJSON *last = cJSON_GetArrayItem(evs, cJSON_GetArraySize(evs) - 1);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(last, "kind")), "dispute");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(last, "actor_role")), "system");
    cJSON_Delete(p);
}

TEST(api_verify, zz_stop)
{
    CHECK_INT(t_server_stop(), 0);
    free(loc);
    free(min);
    free(vt);
}
