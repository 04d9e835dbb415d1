/*
 * buf.c — capped growable buffer; see buf.h.
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf *b, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->cap = cap;
}

void buf_free(buf *b)
{
    free(b->data);
    size_t cap = b->cap;
    buf_init(b, cap);
}

static ls_status buf_reserve(buf *b, size_t extra)
{
    if (extra > (size_t)-1 - b->len - 1)
        return LS_ETOOBIG;
    size_t need = b->len + extra + 1;
    if (b->cap && need - 1 > b->cap)
        return LS_ETOOBIG;
    if (need <= b->alloc)
        return LS_OK;
    size_t n = b->alloc ? b->alloc : 256;
    while (n < need)
        n = n > ((size_t)-1) / 2 ? need : n * 2;
    if (b->cap && n > b->cap + 1)
        n = b->cap + 1;
    char *d = realloc(b->data, n);
    if (!d)
        return LS_ENOMEM;
    b->data = d;
    b->alloc = n;
    return LS_OK;
}

ls_status buf_append(buf *b, const void *data, size_t len)
{
    ls_status st = buf_reserve(b, len);
    if (st != LS_OK)
        return st;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return LS_OK;
}

ls_status buf_puts(buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

ls_status buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    ls_status st = LS_EINTERNAL;
    if (n >= 0 && (st = buf_reserve(b, (size_t)n)) == LS_OK) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        b->len += (size_t)n;
    }
    va_end(ap);
    return st;
}

ls_status buf_json_str(buf *b, const char *s)
{
    ls_status st = buf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; st == LS_OK && *p; p++) {
        switch (*p) {
        case '"':
            st = buf_append(b, "\\\"", 2);
            break;
        case '\\':
            st = buf_append(b, "\\\\", 2);
            break;
        case '\n':
            st = buf_append(b, "\\n", 2);
            break;
        case '\r':
            st = buf_append(b, "\\r", 2);
            break;
        case '\t':
            st = buf_append(b, "\\t", 2);
            break;
        default:
            if (*p < 0x20)
                st = buf_printf(b, "\\u%04x", *p);
            else
                st = buf_append(b, p, 1);
        }
    }
    return st == LS_OK ? buf_append(b, "\"", 1) : st;
}

char *buf_detach(buf *b, size_t *len)
{
    if (!b->data && buf_reserve(b, 0) != LS_OK)
        return NULL;
    char *d = b->data;
    if (len)
        *len = b->len;
    size_t cap = b->cap;
    buf_init(b, cap);
    return d;
}
