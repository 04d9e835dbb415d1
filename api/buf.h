/*
 * buf.h — a growable byte buffer with a hard cap (curl's dynbuf idea).
 * Used for request bodies, response text and SQL-free string building.
 * The contents are always NUL-terminated so they can be used as C strings.
 */
#ifndef LS_BUF_H
#define LS_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "ls.h"

typedef struct {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t alloc;
    size_t cap; /* most bytes it may ever hold (0: no cap) */
} buf;

/* Initialises an empty buffer that will refuse to grow past `cap` bytes. */
void buf_init(buf *b, size_t cap);

/* Frees the contents; the buffer is empty and reusable afterwards. */
void buf_free(buf *b);

/* Appends; LS_ETOOBIG past the cap, LS_ENOMEM when malloc fails.  On error
 * the buffer keeps what it had. */
ls_status buf_append(buf *b, const void *data, size_t len);
ls_status buf_puts(buf *b, const char *s);
ls_status buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends `s` as a JSON string literal, quotes included. */
ls_status buf_json_str(buf *b, const char *s);

/* Gives the contents to the caller (free() them) and empties the buffer. */
char *buf_detach(buf *b, size_t *len);

#endif
