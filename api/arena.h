/*
 * arena.h — a memory arena for one unit of work (an HTTP request, a CLI
 * command).  Everything allocated from it is released at once by
 * arena_free(); nothing is freed one by one.  A cap bounds the arena so a
 * hostile request cannot grow it without limit.
 */
#ifndef LS_ARENA_H
#define LS_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct arena arena;

/* A new arena that will hand out at most `cap` bytes in all (0: no cap).
 * Returns NULL when out of memory.  Caller frees with arena_free(). */
arena *arena_new(size_t cap);

/* Frees the arena and everything allocated from it; accepts NULL. */
void arena_free(arena *a);

/* `n` bytes aligned for any type, zeroed; NULL when the cap is reached or
 * memory runs out.  Owned by the arena. */
void *arena_alloc(arena *a, size_t n);

/* Copies; NULL in gives NULL out.  Owned by the arena. */
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);

/* printf into the arena; NULL on failure.  Owned by the arena. */
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(arena *a, const char *fmt, va_list ap);

/* Bytes handed out so far (for tests and metrics). */
size_t arena_used(const arena *a);

#endif
