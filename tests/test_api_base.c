/*
 * test_api_base.c — the runtime pieces every module leans on: arena, buf,
 * router, config, cli.  Pure C, no database.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "../api/arena.h"
#include "../api/buf.h"
#include "../api/cli.h"
#include "../api/config.h"
#include "../api/router.h"

TEST(base, arena_aligns_zeroes_and_caps)
{
    arena *a = arena_new(64 * 1024);
    CHECK(a != NULL);
    char *s = arena_alloc(a, 3);
    double *d = arena_alloc(a, sizeof(double) * 4);
    CHECK(s && d);
    CHECK(((uintptr_t)d % 16) == 0);
    CHECK(s[0] == 0 && s[2] == 0);
    /* a request larger than a block gets its own block */
    char *big = arena_alloc(a, 40000);
    CHECK(big != NULL);
    CHECK(arena_alloc(a, 40000) == NULL); /* over the 64 KiB cap */
    CHECK_STR(arena_printf(a, "%s-%d", "x", 42), "x-42");
    CHECK(arena_strdup(a, NULL) == NULL);
    arena_free(a);
    arena_free(NULL);
}

TEST(base, buf_caps_and_escapes)
{
    buf b;
    buf_init(&b, 10);
    CHECK_INT(buf_puts(&b, "0123456789"), LS_OK);
    CHECK_INT(buf_puts(&b, "x"), LS_ETOOBIG);
    CHECK_INT(b.len, 10);
    CHECK_STR(b.data, "0123456789");
    buf_free(&b);

    buf_init(&b, 0);
    buf_json_str(&b, "a\"b\\c\n\x01ở");
    CHECK_STR(b.data, "\"a\\\"b\\\\c\\n\\u0001ở\"");
    size_t n = 0;
    char *s = buf_detach(&b, &n);
    CHECK(s && n == strlen(s));
    free(s);
    CHECK(b.data == NULL);
}

TEST(base, router_matches_params_and_methods)
{
    arena *a = arena_new(0);
    const api_route *r = NULL;
    const char *params[API_MAX_PARAMS] = {0};
    char allow[64];
    CHECK_INT(api_route_match(a, "GET", "/v1/units/01", &r, params, allow, sizeof(allow)), LS_OK);
    CHECK(r && strcmp(r->pattern, "/v1/units/{code}") == 0);
    CHECK_STR(params[0], "01");
    /* a literal segment wins over a parameter written after it */
    CHECK_INT(api_route_match(a, "GET", "/v1/units/locate", &r, params, allow, sizeof(allow)),
              LS_OK);
    CHECK_STR(r->pattern, "/v1/units/locate");
    CHECK_INT(api_route_match(a, "HEAD", "/healthz", &r, params, allow, sizeof(allow)), LS_OK);
    CHECK_INT(api_route_match(a, "DELETE", "/v1/carriers", &r, params, allow, sizeof(allow)),
              LS_EMETHOD);
    CHECK_STR(allow, "GET, HEAD");
    CHECK_INT(api_route_match(a, "PUT", "/v1/units/locate", &r, params, allow, sizeof(allow)),
              LS_EMETHOD);
    CHECK_CONTAINS(allow, "POST");
    CHECK_INT(api_route_match(a, "GET", "/v1/units/01/extra", &r, params, allow, sizeof(allow)),
              LS_ENOTFOUND);
    CHECK_INT(api_route_match(a, "GET", "/v1/units/", &r, params, allow, sizeof(allow)),
              LS_ENOTFOUND);
    CHECK_INT(api_route_match(a, "GET", "", &r, params, allow, sizeof(allow)), LS_ENOTFOUND);
    arena_free(a);
}

TEST(base, router_param_with_literal_suffix)
{
    arena *a = arena_new(0);
    const api_route *r = NULL;
    const char *params[API_MAX_PARAMS] = {0};
    char allow[64];
    CHECK_INT(
        api_route_match(a, "GET", "/tiles/coverage/5/25/14.mvt", &r, params, allow, sizeof(allow)),
        LS_OK);
    CHECK(r && strcmp(r->pattern, "/tiles/{layer}/{z}/{x}/{y}.mvt") == 0);
    CHECK_STR(params[0], "coverage");
    CHECK_STR(params[1], "5");
    CHECK_STR(params[2], "25");
    CHECK_STR(params[3], "14");
    CHECK_INT(api_route_match(a, "GET", "/tiles/units.json", &r, params, allow, sizeof(allow)),
              LS_OK);
    CHECK(r && strcmp(r->pattern, "/tiles/{layer}.json") == 0);
    CHECK_STR(params[0], "units");
    /* the parameter before the suffix may hold dots; the suffix must end the segment */
    CHECK_INT(api_route_match(a, "GET", "/tiles/a.b.json", &r, params, allow, sizeof(allow)),
              LS_OK);
    CHECK_STR(params[0], "a.b");
    static const char *const none[] = {
        "/tiles/coverage/5/25/14.pbf",
        "/tiles/coverage/5/25/.mvt",
        "/tiles/coverage/5/25/14.mvtx",
        "/tiles/coverage/5/25/14",
        "/tiles/.json",
        "/tiles/coverage.json/x",
        "/tiles/coverage/5/25.mvt",
        "/tiles/units.jso",
    };
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        if (api_route_match(a, "GET", none[i], &r, params, allow, sizeof(allow)) != LS_ENOTFOUND)
            t_fail(__FILE__, __LINE__, "%s matched %s", none[i], r ? r->pattern : "?");
    CHECK_INT(
        api_route_match(a, "PUT", "/tiles/points/1/0/0.mvt", &r, params, allow, sizeof(allow)),
        LS_EMETHOD);
    CHECK_STR(allow, "GET, HEAD");
    arena_free(a);
}

TEST(base, config_env_flags_and_masking)
{
    ls_config c;
    char err[256];
    setenv("LOMSONG_POOL_SIZE", "7", 1);
    CHECK_INT(config_load(&c, err, sizeof(err)), LS_OK);
    CHECK_INT(c.pool_size, 7);
    CHECK(c.min_download_mbps == 40.0);
    setenv("LOMSONG_POOL_SIZE", "seven", 1);
    CHECK_INT(config_load(&c, err, sizeof(err)), LS_EINVAL);
    CHECK_CONTAINS(err, "LOMSONG_POOL_SIZE");
    unsetenv("LOMSONG_POOL_SIZE");
    CHECK_INT(config_load(&c, err, sizeof(err)), LS_OK);

    char *argv[] = {"x", "--listen", "127.0.0.1:9", "--threads=3", "--nope", "--threads", "0"};
    int i = 1;
    CHECK_INT(config_flag(&c, 7, argv, &i, err, sizeof(err)), 1);
    CHECK_STR(c.listen, "127.0.0.1:9");
    CHECK_INT(config_flag(&c, 7, argv, &i, err, sizeof(err)), 1);
    CHECK_INT(c.threads, 3);
    CHECK_INT(config_flag(&c, 7, argv, &i, err, sizeof(err)), 0); /* not a setting */
    i++;
    CHECK_INT(config_flag(&c, 7, argv, &i, err, sizeof(err)), -1); /* 0 threads */

    char out[256];
    config_mask_conninfo("host=db user=x password=s3cret dbname=y", out, sizeof(out));
    CHECK_STR(out, "host=db user=x password=**** dbname=y");
    config_mask_conninfo("postgresql://x:s3cret@db/y", out, sizeof(out));
    CHECK_STR(out, "postgresql://x:****@db/y");
    config_mask_conninfo("host=/run/sock user=x", out, sizeof(out));
    CHECK_STR(out, "host=/run/sock user=x");
}

TEST(base, cli_parse_and_dates)
{
    static const char *const flags[] = {"role", "quiet?", NULL};
    const char *v[3], *pos[2];
    char err[128];
    char *argv[] = {"token", "create", "--role", "ministry", "--quiet", "extra"};
    CHECK_INT(cli_parse(6, argv, 2, flags, v, pos, 2, err, sizeof(err)), 1);
    CHECK_STR(v[0], "ministry");
    CHECK_STR(v[1], "1");
    CHECK_STR(pos[0], "extra");
    char *bad[] = {"token", "create", "--rol", "x"};
    CHECK_INT(cli_parse(4, bad, 2, flags, v, pos, 2, err, sizeof(err)), -1);
    CHECK_CONTAINS(err, "unknown option --rol");
    char *missing[] = {"token", "create", "--role"};
    CHECK_INT(cli_parse(3, missing, 2, flags, v, pos, 2, err, sizeof(err)), -1);
    CHECK_CONTAINS(err, "needs a value");

    CHECK_INT(cli_check_date("2025-07-01"), 0);
    CHECK_INT(cli_check_date("2024-02-29"), 0);
    CHECK(cli_check_date("2025-02-29") != 0);
    CHECK(cli_check_date("2025-13-01") != 0);
    CHECK(cli_check_date("2025-7-1") != 0);
    CHECK(cli_check_date("yesterday") != 0);
}
