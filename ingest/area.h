/*
 * area.h — Vietnam's land and sea area and its provinces as a lookup grid,
 * so that validating a row ("is it in Vietnam?") and tagging it with its
 * province costs one array read, not a point-in-polygon query per row.
 *
 * The current provinces' generalised boundaries are rasterised with GDAL at
 * 0.005° (~550 m); the area is the provinces grown by 0.25° (~27 km: the
 * 12-nautical-mile territorial sea with margin, islands included), and a
 * cell of that margin takes the nearest province, found with a two-pass
 * chamfer distance transform on a 0.02° grid (the margin needs no finer).  Known limit: along land
 * borders the margin reaches into the neighbouring countries too.
 */
#ifndef LS_INGEST_AREA_H
#define LS_INGEST_AREA_H

#include <libpq-fe.h>
#include <stddef.h>

#include "../api/ls.h"

typedef struct ingest_area ingest_area;

/* The shared grid for the provinces in force, built on first use and
 * again only when they change, in two halves so that the caller can go on
 * while it is built: begin reads the provinces on the connection (the
 * connection is the caller's again when it returns) and builds the grid on
 * a thread of its own unless the cache has it; end waits for it and gives
 * the grid (or the error: LS_EINVAL when no provinces are loaded) and frees
 * the job.  Every begun job must be ended; give the grid back with
 * ingest_area_release(). */
typedef struct ingest_area_job ingest_area_job;
ls_status ingest_area_begin(PGconn *c, ingest_area_job **job, char *err, size_t errlen);
ls_status ingest_area_end(ingest_area_job *job, ingest_area **out, char *err, size_t errlen);
void ingest_area_release(ingest_area *a);

/* The province code for (lon, lat): a code (borrowed) when the point is in
 * Vietnam's area, NULL when it is outside. */
const char *ingest_area_province(const ingest_area *a, double lon, double lat);

#endif
