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
#ifndef LS_GEO_AREA_H
#define LS_GEO_AREA_H

#include <libpq-fe.h>
#include <stddef.h>

#include "../api/ls.h"

typedef struct geo_area geo_area;

/* The shared grid for the provinces in force, taken on first use (from
 * area_grids, or built) and again only when they change, in two halves so
 * that the caller can go on while it is built: begin reads the provinces on
 * the connection (the connection is the caller's again when it returns) and
 * builds the grid on a thread of its own unless the process or area_grids
 * has it; end waits for it and gives
 * the grid (or the error: LS_EINVAL when no provinces are loaded) and frees
 * the job.  Every begun job must be ended; give the grid back with
 * geo_area_release(). */
typedef struct geo_area_job geo_area_job;
ls_status geo_area_begin(PGconn *c, geo_area_job **job, char *err, size_t errlen);
ls_status geo_area_end(geo_area_job *job, geo_area **out, char *err, size_t errlen);
void geo_area_release(geo_area *a);

/* Stores the grid this process built (the last one geo_area_end() gave)
 * in area_grids, for the processes after it, unless it is stored already or
 * its provinces changed since.  Outside a transaction, or in one about to
 * commit; a failure is logged and changes nothing else. */
ls_status geo_area_save(PGconn *c);

/* The grid for the provinces in force made ready ahead of use: taken into
 * the process (from area_grids, or built) and stored if it was built.
 * LS_EINVAL when no province is in force. */
ls_status geo_area_prepare(PGconn *c);

/* The province code for (lon, lat): a code (borrowed) when the point is in
 * Vietnam's area, NULL when it is outside. */
const char *geo_area_province(const geo_area *a, double lon, double lat);

#endif
