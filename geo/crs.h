/*
 * crs.h — coordinate reference systems: every coordinate that enters
 * lomsong goes through PROJ to WGS 84 longitude/latitude here.  VN-2000 is
 * taken from PROJ's EPSG database (never from hand-written +towgs84
 * strings, many of which carry flipped rotation signs, ~0.8 m off).
 *
 * PROJ objects are not thread-safe: a geo_crs (and the PJ_CONTEXT inside
 * it) belongs to the thread that opened it.
 */
#ifndef LS_GEO_CRS_H
#define LS_GEO_CRS_H

#include <stddef.h>

#include "../api/ls.h"

typedef struct geo_crs geo_crs;

/* Turns what a user typed into a definition PROJ accepts, written to `out`:
 *   "EPSG:3405", "epsg:3405", "3405"                 -> "EPSG:3405"
 *   "WGS84", "WGS 84", "4326"                        -> "EPSG:4326"
 *   "VN2000" (geographic)                            -> "EPSG:4756"
 *   "VN2000-UTM48", "VN2000-UTM49"                   -> "EPSG:3405", "EPSG:3406"
 *   "VN2000-TM3-<meridian>" with the central meridian written 105-45, 105.75,
 *   10545 or 105°45' (any of the 18 provincial zones, 102°..108°30')
 *                                                    -> the EPSG code of that zone
 *   anything else PROJ understands (WKT, PROJJSON, "+proj=..." strings, "ESRI:n")
 *                                                    -> unchanged, if PROJ can build it
 * Case, spaces, '_' and '-' in the friendly names do not matter.  LS_EINVAL
 * with a message listing the accepted names otherwise. */
ls_status geo_crs_resolve(const char *text, char *out, size_t outlen, char *err, size_t errlen);

/* A transformation from `def` (as geo_crs_resolve gives, or WKT from a file)
 * to WGS 84, longitude first.  Caller frees with geo_crs_free(). */
ls_status geo_crs_open(const char *def, geo_crs **out, char *err, size_t errlen);
void geo_crs_free(geo_crs *c);

/* 1 when the source CRS is geographic (degrees), 0 when projected. */
int geo_crs_is_geographic(const geo_crs *c);

/* The source CRS's name ("VN-2000 / UTM zone 48N") for messages; borrowed. */
const char *geo_crs_name(const geo_crs *c);

/* Transforms n points in place: (x[i], y[i]) as the file gives them (easting,
 * northing, or lon, lat for geographic CRSs — traditional GIS order whatever
 * the CRS's official axis order) -> (lon, lat) in WGS 84.  A point that cannot
 * be transformed becomes NAN, NAN.  Returns LS_OK unless PROJ fails as a whole. */
ls_status geo_crs_to_wgs84(geo_crs *c, double *x, double *y, size_t n);

/* Looks at a sample of coordinates and says whether X and Y are swapped:
 * Vietnamese survey files often label the northing X and the easting Y (the
 * geodetic convention), and lat/lon columns get mixed up too.  Returns 1 when
 * the points land in Vietnam (lon 102..118, lat 6..24) only with x and y
 * exchanged, 0 otherwise (including when neither way lands there). */
int geo_crs_detect_swap(geo_crs *c, const double *x, const double *y, size_t n);

/* 1 when the values can only be projected coordinates (any |x| > 180 or
 * |y| > 90), so reading them as degrees would be wrong. */
int geo_crs_looks_projected(const double *x, const double *y, size_t n);

#endif
