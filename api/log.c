/*
 * log.c — JSON-lines logger; see log.h.  A line is assembled in a local
 * buffer and written with one fputs under the stdio lock, so lines from
 * different threads never interleave.
 */
#include "log.h"
#include "buf.h"
#include "ls.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static log_level min_level = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

void log_set_level(log_level lv)
{
    min_level = lv;
}

int log_parse_level(const char *s, log_level *out)
{
    for (size_t i = 0; i < LS_ARRAY_LEN(level_names); i++)
        if (strcmp(s, level_names[i]) == 0) {
            *out = (log_level)i;
            return 0;
        }
    return -1;
}

static void log_line(log_level lv, const char *fields, const char *msg)
{
    struct timeval tv;
    struct tm tm;
    char ts[40];
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof(ts) - n, ".%03dZ", (int)(tv.tv_usec / 1000));

    buf b;
    buf_init(&b, 64 * 1024);
    buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\"", ts, level_names[lv]);
    if (msg) {
        buf_puts(&b, ",\"msg\":");
        buf_json_str(&b, msg);
    }
    if (fields && *fields) {
        buf_puts(&b, ",");
        buf_puts(&b, fields);
    }
    buf_puts(&b, "}\n");
    if (b.data) {
        flockfile(stderr);
        fputs(b.data, stderr);
        fflush(stderr);
        funlockfile(stderr);
    }
    buf_free(&b);
}

void log_msg(log_level lv, const char *fmt, ...)
{
    if (lv < min_level || lv >= LOG_OFF)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Trailing newlines from libpq / GDAL messages make ugly JSON. */
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_line(lv, NULL, msg);
}

void log_fields(log_level lv, const char *fields)
{
    if (lv < min_level || lv >= LOG_OFF)
        return;
    log_line(lv, fields, NULL);
}
