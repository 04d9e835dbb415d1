/*
 * tile.h — Web Mercator tile arithmetic (the XYZ scheme of web maps).
 * Coverage cells are tiles: a cell of level z is tile (z, x, y), so ingest,
 * the coverage API and vector tiles agree on cells by construction.
 */
#ifndef LS_GEO_TILE_H
#define LS_GEO_TILE_H

/* The tile of zoom z (0..30) containing (lon, lat), clamped to the grid
 * (latitudes beyond ±85.0511° fall in the edge rows). */
void geo_tile_xy(int z, double lon, double lat, int *x, int *y);

#endif
