/*
 * embed.h — files compiled into the binary by tools/embed.c.
 */
#ifndef LS_EMBED_H
#define LS_EMBED_H

#include <stddef.h>

typedef struct {
    const char *name; /* base name of the file; NULL ends an array */
    const char *data; /* NUL-terminated */
    size_t len;
} ls_embedded;

/* The SQL migrations of geo/sql, in file-name order (build/gen/migrations.c). */
extern const ls_embedded embedded_migrations[];

/* Files served by the HTTP server (build/gen/assets.c). */
extern const ls_embedded embedded_assets[];

/* The web page (maps/web and MapLibre GL JS from npm), each file followed
 * later in the array by its gzip'd copy named FILE.gz (build/gen/web.c);
 * served by api/h_web.c. */
extern const ls_embedded embedded_web[];

#endif
