/*
 * cli.h — option parsing shared by the subcommands.
 */
#ifndef LS_CLI_H
#define LS_CLI_H

#include <stddef.h>

/* Parses argv[start..argc) against `flags`, a NULL-ended list of names
 * without dashes; a name ending in '?' is a switch that takes no value.
 * values[k] receives the value of flags[k] (or "1" for a switch, NULL when
 * absent).  Other words go to pos[] (at most maxpos).  Returns the number
 * of positional words, or -1 with a message in err for an unknown flag, a
 * missing value or too many words.  Values are borrowed from argv. */
int cli_parse(int argc, char **argv, int start, const char *const *flags, const char **values,
              const char **pos, int maxpos, char *err, size_t errlen);

/* A date given on the command line: YYYY-MM-DD.  0 when it parses. */
int cli_check_date(const char *s);

#endif
