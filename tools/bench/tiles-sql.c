/*
 * tiles-sql.c — prints the statement the server runs for a vector tile
 * (maps_tile_sql), so tools/bench/tiles.sh can time the very same SQL in
 * psql.  Built by that script from the sources:
 *
 *   tiles-sql coverage|points|units Z
 */
#include <stdio.h>
#include <stdlib.h>

#include "maps/tiles.h"

int main(int argc, char **argv)
{
    maps_tile_layer l;
    if (argc != 3 || maps_tile_layer_parse(argv[1], &l) != 0) {
        fprintf(stderr, "usage: tiles-sql coverage|points|units Z\n");
        return 2;
    }
    puts(maps_tile_sql(l, atoi(argv[2])));
    return 0;
}
