/*
 * gdal.h — the one initialisation of GDAL/OGR for the process: drivers
 * registered once, and GDAL's (and PROJ's, routed through CPLError)
 * messages sent to our JSON log instead of stderr.  Every module that
 * opens a file with GDAL calls geo_gdal_init() first; it is cheap after
 * the first call and safe from any thread.
 */
#ifndef LS_GEO_GDAL_H
#define LS_GEO_GDAL_H

void geo_gdal_init(void);

#endif
