/*
 * ls.c — status names and the single status → HTTP mapping.
 */
#include "ls.h"

const char *ls_status_str(ls_status st)
{
    switch (st) {
    case LS_OK:
        return "ok";
    case LS_EINVAL:
        return "invalid input";
    case LS_ENOMEM:
        return "out of memory";
    case LS_EDB:
        return "database error";
    case LS_EUNAVAIL:
        return "service unavailable";
    case LS_ENOTFOUND:
        return "not found";
    case LS_EUNAUTH:
        return "unauthorized";
    case LS_EFORBIDDEN:
        return "forbidden";
    case LS_ECONFLICT:
        return "conflict";
    case LS_ETOOBIG:
        return "too large";
    case LS_EUNSUPPORTED:
        return "unsupported media type";
    case LS_EMETHOD:
        return "method not allowed";
    case LS_EIO:
        return "input/output error";
    case LS_EINTERNAL:
        return "internal error";
    }
    return "unknown status";
}

int ls_status_http(ls_status st)
{
    switch (st) {
    case LS_OK:
        return 200;
    case LS_EINVAL:
        return 400;
    case LS_EUNAUTH:
        return 401;
    case LS_EFORBIDDEN:
        return 403;
    case LS_ENOTFOUND:
        return 404;
    case LS_ECONFLICT:
        return 409;
    case LS_ETOOBIG:
        return 413;
    case LS_EUNSUPPORTED:
        return 415;
    case LS_EMETHOD:
        return 405;
    case LS_EUNAVAIL:
        return 503;
    case LS_ENOMEM:
    case LS_EDB:
    case LS_EIO:
    case LS_EINTERNAL:
        return 500;
    }
    return 500;
}
