/*
 * tile.c — see tile.h.
 */
#include "tile.h"

#include <math.h>

void geo_tile_xy(int z, double lon, double lat, int *x, int *y)
{
    double n = ldexp(1.0, z);
    if (lat > 85.05112878)
        lat = 85.05112878;
    if (lat < -85.05112878)
        lat = -85.05112878;
    double lr = lat * M_PI / 180.0;
    double fx = floor((lon + 180.0) / 360.0 * n);
    double fy = floor((1.0 - log(tan(lr) + 1.0 / cos(lr)) / M_PI) / 2.0 * n);
    double max = n - 1;
    *x = (int)(fx < 0 ? 0 : fx > max ? max : fx);
    *y = (int)(fy < 0 ? 0 : fy > max ? max : fy);
}
