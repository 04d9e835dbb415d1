/*
 * auth.h — accounts, bearer tokens and the per-request security context.
 *
 * A token is "ls_" followed by 32 base64url characters (192 random bits from
 * getrandom()).  Only its SHA-256 is stored; the token itself is shown once,
 * when it is created.  The application role never reads the credential
 * tables: it calls the SECURITY DEFINER function auth_token(hash), which in
 * the same statement sets the request's row-level-security context with
 * set_config(..., true) — the SET LOCAL of the request's transaction.
 */
#ifndef LS_AUTH_H
#define LS_AUTH_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "ls.h"

#define AUTH_TOKEN_LEN 35 /* "ls_" + 32 */

typedef enum {
    ROLE_NONE = 0,
    ROLE_MINISTRY = 1 << 0,
    ROLE_LOCALITY = 1 << 1,
    ROLE_CARRIER = 1 << 2,
    ROLE_UTILITY = 1 << 3,
    ROLE_PUBLIC = 1 << 4
} auth_role;

#define ROLE_ANY (ROLE_MINISTRY | ROLE_LOCALITY | ROLE_CARRIER | ROLE_UTILITY | ROLE_PUBLIC)

typedef struct {
    long long account_id;
    long long token_id;
    auth_role role;
    char role_name[16];
    char name[128];
    char unit_level[16]; /* "" when not bound to a unit */
    char unit_code[16];
    char province_code[16];
    char carrier_code[40]; /* "" when not a carrier */
    char expires_at[40];   /* "" when it does not expire */
} auth_identity;

/* Role from its name; ROLE_NONE for an unknown name. */
auth_role auth_role_parse(const char *name);
const char *auth_role_name(auth_role r);

/* A new random token (NUL-terminated, AUTH_TOKEN_LEN chars) and its hash. */
ls_status auth_token_generate(char token[AUTH_TOKEN_LEN + 1], unsigned char hash[32]);

/* SHA-256 of a token as "\x<64 hex>" (bytea text input), NUL-terminated. */
void auth_hash_hex(const char *token, char out[67]);

/* Looks the token up and, inside the caller's open transaction, sets the
 * row-level-security context for it.  LS_EUNAUTH for a malformed, unknown,
 * revoked or expired token; LS_EUNAVAIL / LS_EDB when the database fails. */
ls_status auth_login(PGconn *c, const char *token, auth_identity *who);

/* Sets the context for an anonymous caller (public data only). */
ls_status auth_anonymous(PGconn *c);

/* For `make run`: one fresh token per role for the demo accounts (a
 * ministry, a locality bound to Lào Cai (15), Viettel, a power utility and
 * a public account), printed to `out`.  The demo accounts' earlier tokens
 * are revoked, so only the printed ones work.  Uses the admin connection. */
ls_status auth_demo_tokens(const ls_config *cfg, FILE *out);

/* `lomsong token create|list|revoke`; returns the exit code. */
int auth_token_cli(const ls_config *cfg, int argc, char **argv);

#endif
