/*
 * test_harness.c — self-tests of the harness (t.c): if these fail, the
 * failures of every other suite say little.  They need the test cluster and
 * the lomsong binary beside the test binary, as every suite does.
 */
#include "t.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

TEST(harness, checks_pass_on_true_conditions)
{
    CHECK(1 + 1 == 2);
    CHECK_INT(2 + 2, 4);
    CHECK_INT(-1LL, -1);
    CHECK_STR("lomsong", "lomsong");
    CHECK_CONTAINS("hello world", "lo w");
    CHECK_CONTAINS("anything", "");
}

TEST(harness, sql_on_admin_db)
{
    PGconn *c = t_connect(t_admin_db());
    if (!c)
        return;
    char *v = t_sql(c, "SELECT 1 + 1");
    CHECK_STR(v, "2");
    free(v);
    v = t_sql(c, "SELECT 1 WHERE false");
    CHECK(v == NULL);
    v = t_sql(c, "SELECT postgis_lib_version() IS NOT NULL");
    CHECK_STR(v, "t");
    free(v);
    PQfinish(c);
}

TEST(harness, app_db_is_the_app_role)
{
    PGconn *c = t_connect(t_app_db());
    if (!c)
        return;
    char *v = t_sql(c, "SELECT current_user");
    CHECK_STR(v, "lomsong_app");
    free(v);
    PQfinish(c);
}

TEST(harness, run_version)
{
    char *out = NULL, *err = NULL;
    CHECK_INT(t_run("version", NULL, &out, &err), 0);
    CHECK_CONTAINS(out, "lomsong ");
    CHECK(err != NULL);
    free(out);
    free(err);
}

/* `args` is a shell word list, so shell syntax after the lomsong command
 * lets these check the plumbing itself: exit codes, stderr, and a stdin and
 * stdout far larger than a pipe buffer at the same time (no deadlock). */
TEST(harness, run_plumbing)
{
    char *out = NULL, *err = NULL;
    CHECK_INT(t_run("version >/dev/null; echo oops >&2; exit 3", NULL, &out, &err), 3);
    CHECK_STR(out, "");
    CHECK_STR(err, "oops\n");
    free(out);
    free(err);

    size_t n = 1 << 20;
    char *big = malloc(n + 1);
    if (!big) {
        CHECK(!"out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    big[n] = '\0';
    out = NULL;
    CHECK_INT(t_run("version >/dev/null; cat", big, &out, NULL), 0);
    CHECK(out && strlen(out) == n && memcmp(out, big, n) == 0);
    free(out);

    /* A command that never reads its stdin must not upset the harness. */
    out = NULL;
    CHECK_INT(t_run("version", big, &out, NULL), 0);
    CHECK_CONTAINS(out, "lomsong ");
    free(out);
    free(big);
}

TEST(harness, shared_and_tmpdir)
{
    CHECK_CONTAINS(t_shared("vn_carriers.csv"), "/vn_carriers.csv");
    CHECK(access(t_shared("vn_carriers.csv"), R_OK) == 0);
    const char *dir = t_tmpdir();
    struct stat st;
    CHECK(dir && stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_STR(t_tmpdir(), dir);
}

TEST(harness, header_lookup)
{
    t_resp r = {0};
    r.headers = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Request-Id:  abc 1 \r\n"
                "X-Empty:\r\n\r\n";
    CHECK_STR(t_header(&r, "content-type"), "text/plain");
    CHECK_STR(t_header(&r, "X-REQUEST-ID"), "abc 1");
    CHECK_STR(t_header(&r, "x-empty"), "");
    CHECK(t_header(&r, "X-Request") == NULL);
    CHECK(t_header(&r, "Location") == NULL);
}
