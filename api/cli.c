/*
 * cli.c — see cli.h.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int cli_parse(int argc, char **argv, int start, const char *const *flags, const char **values,
              const char **pos, int maxpos, char *err, size_t errlen)
{
    int npos = 0;
    for (int k = 0; flags[k]; k++)
        values[k] = NULL;
    for (int i = start; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (npos >= maxpos) {
                snprintf(err, errlen, "unexpected argument '%s'", a);
                return -1;
            }
            pos[npos++] = a;
            continue;
        }
        a += 2;
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        int found = -1;
        for (int k = 0; flags[k] && found < 0; k++) {
            size_t fl = strlen(flags[k]);
            int sw = fl && flags[k][fl - 1] == '?';
            if (sw)
                fl--;
            if (fl == nl && strncmp(flags[k], a, nl) == 0) {
                found = k;
                if (sw) {
                    if (eq) {
                        snprintf(err, errlen, "--%.*s takes no value", (int)nl, a);
                        return -1;
                    }
                    values[k] = "1";
                } else if (eq) {
                    values[k] = eq + 1;
                } else if (i + 1 < argc) {
                    values[k] = argv[++i];
                } else {
                    snprintf(err, errlen, "--%.*s needs a value", (int)nl, a);
                    return -1;
                }
            }
        }
        if (found < 0) {
            snprintf(err, errlen, "unknown option --%.*s", (int)nl, a);
            return -1;
        }
    }
    return npos;
}

int cli_check_date(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%Y-%m-%d", &tm);
    if (!end || *end || strlen(s) != 10)
        return -1;
    /* Reject 2025-02-30 and the like: normalising must not move the day. */
    struct tm cp = tm;
    cp.tm_isdst = -1;
    if (timegm(&cp) == (time_t)-1 || cp.tm_mday != tm.tm_mday || cp.tm_mon != tm.tm_mon)
        return -1;
    return 0;
}
