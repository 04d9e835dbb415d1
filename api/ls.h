/*
 * ls.h — the one status type every lomsong module returns, and the few
 * macros shared by all of them.
 *
 * Zero is success.  Foreign conventions (MHD_YES, libpq result codes, GDAL's
 * OGRERR_NONE, PROJ's NULL-on-error) are converted at the wrapper that calls
 * them, so that callers only ever test `if (st != LS_OK)`.  The mapping from
 * status to HTTP code lives in exactly one function: ls_status_http().
 */
#ifndef LS_H
#define LS_H

#include <stddef.h>

typedef enum {
    LS_OK = 0,
    LS_EINVAL,       /* bad input from the caller: 400 */
    LS_ENOMEM,       /* allocation failed or a cap was reached: 500 */
    LS_EDB,          /* database error we did not expect: 500 */
    LS_EUNAVAIL,     /* database down or pool exhausted: 503 */
    LS_ENOTFOUND,    /* 404 */
    LS_EUNAUTH,      /* no or bad credentials: 401 */
    LS_EFORBIDDEN,   /* authenticated but not allowed: 403 */
    LS_ECONFLICT,    /* state does not allow it: 409 */
    LS_ETOOBIG,      /* over a size limit: 413 */
    LS_EUNSUPPORTED, /* media type or format we do not read: 415 */
    LS_EMETHOD,      /* the path exists, the method does not: 405 */
    LS_EIO,          /* file system or library I/O: 500 */
    LS_EINTERNAL     /* a bug: 500 */
} ls_status;

/* A short English name of the status ("invalid input"); never NULL. */
const char *ls_status_str(ls_status st);

/* The HTTP status code for a status; the only place this mapping exists. */
int ls_status_http(ls_status st);

#define LS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define LS_UNUSED(x) ((void)(x))

#endif
