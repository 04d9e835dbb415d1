/*
 * log.h — one JSON object per line on stderr, so logs can be grepped by
 * people and parsed by machines alike.  Details of failures (libpq, GDAL,
 * PROJ messages) go here, never to HTTP clients.
 */
#ifndef LS_LOG_H
#define LS_LOG_H

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF } log_level;

/* Sets the least level written; "debug", "info", "warn", "error", "off". */
void log_set_level(log_level lv);
int log_parse_level(const char *s, log_level *out);

/* Writes {"ts":..,"level":..,"msg":..} with the message formatted printf-style. */
void log_msg(log_level lv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes {"ts":..,"level":..,<fields>} where `fields` is already JSON
 * members without braces (`"a":1,"b":"x"`). */
void log_fields(log_level lv, const char *fields);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
