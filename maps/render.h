/*
 * render.h — printable maps of one province through GDAL: a paletted PNG,
 * or a georeferenced GeoTIFF, in Web Mercator (EPSG:3857, so the coverage
 * cells, which are Mercator tiles, are exact rectangles).
 *
 * The image is rasterised in memory (a MEM dataset) with
 * GDALRasterizeGeometries: the coverage cells coloured by the 40 Mbps test
 * (clipped to the province), the dead-zone points as small squares by
 * status, the province boundary on top; then CreateCopy to PNG or GTiff in
 * /vsimem/.  Palette indexes (RGB), the legend of every map:
 *    0 outside the province      (224,224,224)
 *    1 inside, no measurements   (255,255,255)
 *    2 coverage meets the minimum (26,150,65)    -- 80 % of the cell's tests >= 40 Mbps
 *    3 coverage below it         (253,174,97)
 *    4 no service                (215,25,28)     -- no test got any download
 *    5 province boundary         (51,51,51)
 *    6.. dead-zone points by status: reported (123,50,148), triaged (194,165,207),
 *        assigned (33,102,172), in_progress (67,147,195), blocked (0,0,0),
 *        fixed (0,170,170), verified (0,104,55), rejected (150,150,150),
 *        reopened (202,0,32)
 * A cell with several carriers / technologies shows the best of them
 * (meets > below > no service), unless ?carrier= / ?tech= narrow it.
 */
#ifndef LS_MAPS_RENDER_H
#define LS_MAPS_RENDER_H

#include <libpq-fe.h>
#include <stddef.h>

#include "../api/ls.h"
#include "export.h"

#define MAPS_LAYER_COVERAGE 1u
#define MAPS_LAYER_POINTS 2u

#define MAPS_WIDTH_MIN 256
#define MAPS_WIDTH_MAX 4096 /* also the largest height */
#define MAPS_WIDTH_DEFAULT 1024

typedef struct {
    char code[8];                   /* province code */
    int width;                      /* pixels */
    unsigned layers;                /* MAPS_LAYER_* bits */
    const char *carrier, *tech;     /* coverage filters, or NULL (borrowed from the caller) */
    int tiff;                       /* 1: GeoTIFF, 0: PNG */
    const char *ext, *content_type; /* static */
} maps_render_req;

/* Reads `name` ("15.png", "15.tif") and the arguments width, layer
 * (coverage | points | coverage,points), carrier and tech.  LS_ENOTFOUND
 * for a name that is no map, LS_EINVAL for a bad argument, with a
 * client-facing message in err. */
ls_status maps_render_parse(const char *name, maps_arg_fn arg, void *ctx, maps_render_req *q,
                            char *err, size_t errlen);

/* Renders the map from connection `c` (inside a transaction with the
 * security context set: the points shown are those the account may see).
 * On success *out holds the encoded image (caller frees with VSIFree()),
 * *len its size.  LS_ENOTFOUND for a province not in force today. */
ls_status maps_render(PGconn *c, const maps_render_req *q, unsigned char **out, size_t *len,
                      char *err, size_t errlen);

#endif
