/*
 * auth.c — tokens and the request security context; see auth.h.
 */
#include "auth.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cli.h"
#include "log.h"
#include "../geo/db.h"

static const struct {
    auth_role role;
    const char *name;
} roles[] = {
    {ROLE_MINISTRY, "ministry"}, {ROLE_LOCALITY, "locality"}, {ROLE_CARRIER, "carrier"},
    {ROLE_UTILITY, "utility"},   {ROLE_PUBLIC, "public"},
};

auth_role auth_role_parse(const char *name)
{
    for (size_t i = 0; name && i < LS_ARRAY_LEN(roles); i++)
        if (strcmp(name, roles[i].name) == 0)
            return roles[i].role;
    return ROLE_NONE;
}

const char *auth_role_name(auth_role r)
{
    for (size_t i = 0; i < LS_ARRAY_LEN(roles); i++)
        if (roles[i].role == r)
            return roles[i].name;
    return "none";
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void sha256(const char *s, unsigned char out[32])
{
    unsigned int n = 32;
    if (EVP_Digest(s, strlen(s), out, &n, EVP_sha256(), NULL) != 1)
        memset(out, 0, 32); /* cannot happen with the default provider */
}

static void hex_bytea(const unsigned char h[32], char out[67])
{
    static const char hex[] = "0123456789abcdef";
    out[0] = '\\';
    out[1] = 'x';
    for (int i = 0; i < 32; i++) {
        out[2 + 2 * i] = hex[h[i] >> 4];
        out[3 + 2 * i] = hex[h[i] & 15];
    }
    out[66] = '\0';
}

ls_status auth_token_generate(char token[AUTH_TOKEN_LEN + 1], unsigned char hash[32])
{
    unsigned char rnd[24];
    size_t got = 0;
    while (got < sizeof(rnd)) {
        ssize_t n = getrandom(rnd + got, sizeof(rnd) - got, 0);
        if (n < 0)
            return LS_EIO;
        got += (size_t)n;
    }
    memcpy(token, "ls_", 3);
    /* 24 bytes -> 32 base64url characters, no padding. */
    for (int i = 0, o = 3; i < 24; i += 3) {
        unsigned v = (unsigned)rnd[i] << 16 | (unsigned)rnd[i + 1] << 8 | rnd[i + 2];
        token[o++] = b64url[(v >> 18) & 63];
        token[o++] = b64url[(v >> 12) & 63];
        token[o++] = b64url[(v >> 6) & 63];
        token[o++] = b64url[v & 63];
    }
    token[AUTH_TOKEN_LEN] = '\0';
    sha256(token, hash);
    return LS_OK;
}

void auth_hash_hex(const char *token, char out[67])
{
    unsigned char h[32];
    sha256(token, h);
    hex_bytea(h, out);
}

static int token_well_formed(const char *t)
{
    if (!t || strlen(t) != AUTH_TOKEN_LEN || strncmp(t, "ls_", 3) != 0)
        return 0;
    for (const char *p = t + 3; *p; p++)
        if (!strchr(b64url, *p))
            return 0;
    return 1;
}

static void copy_field(char *dst, size_t len, const PGresult *r, int col)
{
    snprintf(dst, len, "%s", PQgetvalue(r, 0, col));
}

ls_status auth_login(PGconn *c, const char *token, auth_identity *who)
{
    memset(who, 0, sizeof(*who));
    if (!token_well_formed(token))
        return LS_EUNAUTH;
    char hash[67];
    auth_hash_hex(token, hash);
    const char *params[] = {hash};
    PGresult *r = NULL;
    ls_status st = db_query(
        c, "auth: token",
        "SELECT a.account_id, a.role, a.name, coalesce(a.unit_level, ''),"
        " coalesce(a.unit_code, ''), coalesce(a.province_code, ''), coalesce(a.carrier_code, ''),"
        " a.token_id, coalesce(to_char(a.expires_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''),"
        " set_config('lomsong.role', a.role, true),"
        " set_config('lomsong.account', a.account_id::text, true),"
        " set_config('lomsong.province', coalesce(a.province_code, ''), true),"
        " set_config('lomsong.commune', CASE WHEN a.unit_level = 'commune' THEN a.unit_code"
        " ELSE '' END, true),"
        " set_config('lomsong.carrier', coalesce(a.carrier_code, ''), true)"
        " FROM auth_token($1::bytea) a",
        1, params, &r, NULL, 0);
    if (st != LS_OK)
        return st;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return LS_EUNAUTH;
    }
    who->account_id = atoll(PQgetvalue(r, 0, 0));
    copy_field(who->role_name, sizeof(who->role_name), r, 1);
    who->role = auth_role_parse(who->role_name);
    copy_field(who->name, sizeof(who->name), r, 2);
    copy_field(who->unit_level, sizeof(who->unit_level), r, 3);
    copy_field(who->unit_code, sizeof(who->unit_code), r, 4);
    copy_field(who->province_code, sizeof(who->province_code), r, 5);
    copy_field(who->carrier_code, sizeof(who->carrier_code), r, 6);
    who->token_id = atoll(PQgetvalue(r, 0, 7));
    copy_field(who->expires_at, sizeof(who->expires_at), r, 8);
    PQclear(r);
    return who->role == ROLE_NONE ? LS_EUNAUTH : LS_OK;
}

ls_status auth_anonymous(PGconn *c)
{
    return db_exec(c, "SELECT set_config('lomsong.role', 'anonymous', true)");
}

/* ------------------------------------------------------------------ CLI */

static int token_create(PGconn *c, int argc, char **argv)
{
    static const char *const flags[] = {"role", "unit", "carrier", "name", "expires", NULL};
    const char *v[6], *pos[1];
    char err[256], msg[256];
    if (cli_parse(argc, argv, 2, flags, v, pos, 0, err, sizeof(err)) < 0) {
        fprintf(stderr, "lomsong token create: %s\n", err);
        return 2;
    }
    const char *role = v[0], *unit = v[1], *carrier = v[2], *name = v[3], *expires = v[4];
    auth_role r = auth_role_parse(role);
    if (r == ROLE_NONE) {
        fprintf(stderr, "lomsong token create: --role must be ministry, locality, carrier, "
                        "utility or public\n");
        return 2;
    }
    if (r == ROLE_LOCALITY && !unit) {
        fprintf(stderr, "lomsong token create: a locality account needs --unit CODE (a province "
                        "code such as 01, or a commune code such as 00004)\n");
        return 2;
    }
    if (unit && r != ROLE_LOCALITY && r != ROLE_UTILITY) {
        fprintf(stderr, "lomsong token create: --unit is for locality and utility accounts\n");
        return 2;
    }
    if ((r == ROLE_CARRIER) != (carrier != NULL)) {
        fprintf(stderr, "lomsong token create: %s\n",
                r == ROLE_CARRIER ? "a carrier account needs --carrier CODE (see lomsong carriers)"
                                  : "--carrier is only for carrier accounts");
        return 2;
    }
    if (expires && cli_check_date(expires) != 0) {
        fprintf(stderr, "lomsong token create: --expires must be a date YYYY-MM-DD\n");
        return 2;
    }

    int rc = 1;
    PGresult *res = NULL;
    char level[16] = "";
    if (db_exec(c, "BEGIN") != LS_OK)
        goto out;
    if (unit) {
        const char *p[] = {unit};
        if (db_query(c, "token: unit",
                     "SELECT level FROM admin_units WHERE code = $1 AND valid_to IS NULL", 1, p,
                     &res, NULL, 0) != LS_OK)
            goto out;
        if (PQntuples(res) != 1) {
            fprintf(stderr, "lomsong token create: no province or commune in force has code '%s'\n",
                    unit);
            goto out;
        }
        snprintf(level, sizeof(level), "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
        res = NULL;
    }
    if (carrier) {
        const char *p[] = {carrier};
        if (db_query(c, "token: carrier", "SELECT 1 FROM carriers WHERE code = $1", 1, p, &res,
                     NULL, 0) != LS_OK)
            goto out;
        if (PQntuples(res) != 1) {
            fprintf(stderr, "lomsong token create: unknown carrier '%s'\n", carrier);
            goto out;
        }
        PQclear(res);
        res = NULL;
    }
    if (expires) {
        const char *p[] = {expires};
        if (db_query(c, "token: expiry", "SELECT $1::date > current_date", 1, p, &res, NULL, 0) !=
            LS_OK)
            goto out;
        int future = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
        res = NULL;
        if (!future) {
            fprintf(stderr, "lomsong token create: --expires %s is not in the future\n", expires);
            goto out;
        }
    }
    char defname[64];
    if (!name) {
        snprintf(defname, sizeof(defname), "%s%s%s", role, unit || carrier ? " " : "",
                 unit      ? unit
                 : carrier ? carrier
                           : "");
        name = defname;
    }
    const char *pa[] = {name, role, *level ? level : NULL, unit, carrier};
    if (db_query(c, "token: account",
                 "INSERT INTO accounts (name, role, unit_level, unit_code, carrier_code)"
                 " VALUES ($1, $2, $3, $4, $5) RETURNING id",
                 5, pa, &res, msg, sizeof(msg)) != LS_OK) {
        fprintf(stderr, "lomsong token create: %s\n", *msg ? msg : "could not create the account");
        goto out;
    }
    char account[32];
    snprintf(account, sizeof(account), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    res = NULL;

    char token[AUTH_TOKEN_LEN + 1], hash[67], prefix[16];
    unsigned char h[32];
    if (auth_token_generate(token, h) != LS_OK) {
        fprintf(stderr, "lomsong token create: no random numbers from the system\n");
        goto out;
    }
    hex_bytea(h, hash);
    snprintf(prefix, sizeof(prefix), "%.10s", token);
    /* The expiry date is a whole day: the token works until the end of it, Vietnam time. */
    const char *pt[] = {account, hash, prefix, expires};
    if (db_query(c, "token: insert",
                 "INSERT INTO api_tokens (account_id, token_hash, prefix, expires_at)"
                 " VALUES ($1, $2::bytea, $3,"
                 " ($4::date + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') RETURNING id",
                 4, pt, &res, NULL, 0) != LS_OK)
        goto out;
    if (db_exec(c, "COMMIT") != LS_OK)
        goto out;
    printf("%s\n", token);
    fprintf(stderr, "token %s for account %s (%s%s%s) created; it is shown only now\n",
            PQgetvalue(res, 0, 0), account, role,
            unit      ? " "
            : carrier ? " "
                      : "",
            unit      ? unit
            : carrier ? carrier
                      : "");
    rc = 0;
out:
    PQclear(res);
    if (rc != 0)
        db_exec(c, "ROLLBACK");
    return rc;
}

static int token_list(PGconn *c)
{
    PGresult *r = NULL;
    if (db_query(c, "token: list",
                 "SELECT t.id, t.prefix || '…', a.role, coalesce(a.unit_code, a.carrier_code, '-'),"
                 " a.name, to_char(t.created_at, 'YYYY-MM-DD'),"
                 " coalesce(to_char(t.expires_at, 'YYYY-MM-DD HH24:MI'), '-'),"
                 " CASE WHEN t.revoked_at IS NOT NULL THEN 'revoked'"
                 "      WHEN t.expires_at <= now() THEN 'expired' ELSE 'active' END,"
                 " coalesce(to_char(t.last_used_at, 'YYYY-MM-DD HH24:MI'), '-')"
                 " FROM api_tokens t JOIN accounts a ON a.id = t.account_id ORDER BY t.id",
                 0, NULL, &r, NULL, 0) != LS_OK)
        return 1;
    printf("%-6s %-14s %-9s %-12s %-24s %-10s %-16s %-8s %s\n", "id", "token", "role", "scope",
           "name", "created", "expires (UTC)", "state", "last used (UTC)");
    for (int i = 0; i < PQntuples(r); i++)
        printf("%-6s %-14s %-9s %-12s %-24.24s %-10s %-16s %-8s %s\n", PQgetvalue(r, i, 0),
               PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4),
               PQgetvalue(r, i, 5), PQgetvalue(r, i, 6), PQgetvalue(r, i, 7), PQgetvalue(r, i, 8));
    PQclear(r);
    return 0;
}

static int token_revoke(PGconn *c, int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: lomsong token revoke ID|TOKEN\n");
        return 2;
    }
    const char *what = argv[2];
    char hash[67];
    const char *p[1];
    const char *where;
    if (token_well_formed(what)) {
        auth_hash_hex(what, hash);
        p[0] = hash;
        where = "token_hash = $1::bytea";
    } else {
        for (const char *q = what; *q; q++)
            if (!isdigit((unsigned char)*q) || q - what > 18) {
                fprintf(stderr, "lomsong token revoke: give a token id (see token list) or the "
                                "token itself\n");
                return 2;
            }
        p[0] = what;
        where = "id = $1::bigint";
    }
    char sql[320];
    PGresult *r = NULL;
    snprintf(sql, sizeof(sql),
             "WITH t AS (SELECT id, revoked_at FROM api_tokens WHERE %s),"
             " u AS (UPDATE api_tokens SET revoked_at = now() WHERE id IN"
             " (SELECT id FROM t WHERE revoked_at IS NULL) RETURNING id)"
             " SELECT (SELECT id FROM t), (SELECT count(*) FROM u)",
             where);
    if (db_query(c, "token: revoke", sql, 1, p, &r, NULL, 0) != LS_OK)
        return 1;
    int rc = 0;
    if (PQgetisnull(r, 0, 0)) {
        fprintf(stderr, "lomsong token revoke: no such token\n");
        rc = 1;
    } else if (strcmp(PQgetvalue(r, 0, 1), "0") == 0) {
        fprintf(stderr, "lomsong token revoke: token %s was already revoked\n",
                PQgetvalue(r, 0, 0));
    } else {
        printf("revoked token %s\n", PQgetvalue(r, 0, 0));
    }
    PQclear(r);
    return rc;
}

int auth_token_cli(const ls_config *cfg, int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: lomsong token create|list|revoke ...\n");
        return 2;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "create") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "revoke") != 0) {
        fprintf(stderr, "lomsong token: unknown subcommand '%s' (create, list, revoke)\n", sub);
        return 2;
    }
    char ci[2048];
    config_admin_conninfo(cfg, ci, sizeof(ci));
    PGconn *c = NULL;
    if (db_connect(ci, &c) != LS_OK) {
        fprintf(stderr, "lomsong token: cannot connect to the database\n");
        return 1;
    }
    int rc;
    if (strcmp(sub, "create") == 0)
        rc = token_create(c, argc, argv);
    else if (strcmp(sub, "list") == 0)
        rc = token_list(c);
    else
        rc = token_revoke(c, argc, argv);
    PQfinish(c);
    return rc;
}

ls_status auth_demo_tokens(const ls_config *cfg, FILE *out)
{
    static const struct {
        const char *role, *level, *unit, *carrier, *name;
    } demo[] = {
        {"ministry", NULL, NULL, NULL, "Bộ TT&TT — Cục Viễn thông (demo)"},
        {"locality", "province", "15", NULL, "UBND tỉnh Lào Cai (demo)"},
        {"carrier", NULL, NULL, "viettel", "Viettel (demo)"},
        {"utility", NULL, NULL, NULL, "EVN — điện lực (demo)"},
        {"public", NULL, NULL, NULL, "Public (demo)"},
    };
    char ci[2048];
    config_admin_conninfo(cfg, ci, sizeof(ci));
    PGconn *c = NULL;
    ls_status st = db_connect(ci, &c);
    if (st != LS_OK)
        return st;
    char tokens[LS_ARRAY_LEN(demo)][AUTH_TOKEN_LEN + 1];
    if ((st = db_exec(c, "BEGIN")) != LS_OK)
        goto out;
    for (size_t i = 0; i < LS_ARRAY_LEN(demo); i++) {
        const char *p[] = {demo[i].name, demo[i].role, demo[i].level, demo[i].unit,
                           demo[i].carrier};
        PGresult *r = NULL;
        st = db_query(c, "demo: account",
                      "WITH old AS (SELECT id FROM accounts WHERE name = $1 AND role = $2),"
                      " made AS (INSERT INTO accounts (name, role, unit_level, unit_code,"
                      "  carrier_code) SELECT $1, $2, $3, $4, $5"
                      "  WHERE NOT EXISTS (SELECT 1 FROM old) RETURNING id)"
                      " SELECT id FROM old UNION ALL SELECT id FROM made",
                      5, p, &r, NULL, 0);
        if (st != LS_OK)
            goto out;
        char account[32];
        snprintf(account, sizeof(account), "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        const char *pa[] = {account};
        st = db_query(c, "demo: revoke",
                      "UPDATE api_tokens SET revoked_at = now() WHERE account_id = $1"
                      " AND revoked_at IS NULL",
                      1, pa, NULL, NULL, 0);
        unsigned char h[32];
        char hash[67], prefix[16];
        if (st != LS_OK || (st = auth_token_generate(tokens[i], h)) != LS_OK)
            goto out;
        hex_bytea(h, hash);
        snprintf(prefix, sizeof(prefix), "%.10s", tokens[i]);
        const char *pt[] = {account, hash, prefix};
        st = db_query(c, "demo: token",
                      "INSERT INTO api_tokens (account_id, token_hash, prefix)"
                      " VALUES ($1, $2::bytea, $3)",
                      3, pt, NULL, NULL, 0);
        if (st != LS_OK)
            goto out;
    }
    if ((st = db_exec(c, "COMMIT")) != LS_OK)
        goto out;
    fprintf(out, "demo tokens (new at every start; use as  Authorization: Bearer <token>):\n");
    for (size_t i = 0; i < LS_ARRAY_LEN(demo); i++)
        fprintf(out, "  %-9s %s  %s\n", demo[i].role, tokens[i], demo[i].name);
out:
    if (st != LS_OK) {
        db_exec(c, "ROLLBACK");
        fprintf(stderr, "lomsong serve: could not create the demo tokens (see the log)\n");
    }
    PQfinish(c);
    return st;
}
