/*
 * test_zz_restart.c — the database goes away under a running server and
 * comes back: /healthz says 503 (with Retry-After) while it is down, the
 * server does not crash, and it recovers by itself.  Runs last (suite zz).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t.h"

static int db_sh(const char *what)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "%s/tools/db.sh %s %s >/dev/null 2>&1",
             getenv("LOMSONG_TEST_ROOT") ? getenv("LOMSONG_TEST_ROOT") : ".", what, t_cluster());
    return system(cmd);
}

TEST(zz_restart, healthz_503_while_db_down_then_recovers)
{
    char *tok = t_token("ministry", NULL, NULL);
    CHECK(t_server_start(NULL) != NULL);
    t_resp r;
    CHECK_INT(t_http("GET", "/v1/me", tok, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200); /* the pool now holds a live connection */
    t_resp_free(&r);

    CHECK_INT(db_sh("stop"), 0);
    CHECK_INT(t_http("GET", "/healthz", NULL, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 503);
    CHECK_STR(r.content_type, "application/problem+json");
    CHECK(t_header(&r, "Retry-After") != NULL);
    t_resp_free(&r);
    CHECK_INT(t_http("GET", "/v1/me", tok, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 503);
    t_resp_free(&r);
    CHECK_INT(t_http("GET", "/v1/units/locate?lat=21&lon=105.8", NULL, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 503);
    t_resp_free(&r);

    CHECK_INT(db_sh("start"), 0);
    long status = 0;
    for (int i = 0; i < 100 && status != 200; i++) {
        if (t_http("GET", "/healthz", NULL, NULL, 0, NULL, &r) == 0)
            status = r.status;
        t_resp_free(&r);
        if (status != 200)
            usleep(100 * 1000);
    }
    CHECK_INT(status, 200);
    CHECK_INT(t_http("GET", "/v1/me", tok, NULL, 0, NULL, &r), 0);
    CHECK_INT(r.status, 200);
    t_resp_free(&r);
    CHECK_INT(t_server_stop(), 0);
    free(tok);
}
