/*
 * out_table.c — see out_table.h.
 */
#include "out_table.h"

#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../api/log.h"
#include "../geo/gdal.h"

ls_status maps_table_write(const PGresult *r, const char *const *cols, int ncols,
                           const char *driver, char *tmpl, const char *ext, char *out,
                           size_t outlen)
{
    geo_gdal_init();
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return LS_EIO;
    close(fd);
    unlink(tmpl);
    snprintf(out, outlen, "%s.%s", tmpl, ext);
    GDALDriverH drv = GDALGetDriverByName(driver);
    if (!drv)
        return LS_EUNSUPPORTED;
    ls_status st = LS_OK;
    CPLErrorReset();
    GDALDatasetH ds = GDALCreate(drv, out, 0, 0, 0, GDT_Unknown, NULL);
    if (!ds) {
        log_error("table: cannot create %s: %s", out, CPLGetLastErrorMsg());
        return LS_EIO;
    }
    OGRLayerH layer = GDALDatasetCreateLayer(ds, "progress", NULL, wkbNone, NULL);
    for (int i = 0; layer && i < ncols; i++) {
        OGRFieldDefnH f = OGR_Fld_Create(cols[i], i < 2 ? OFTString : OFTReal);
        if (OGR_L_CreateField(layer, f, TRUE) != OGRERR_NONE)
            st = LS_EIO;
        OGR_Fld_Destroy(f);
    }
    if (!layer)
        st = LS_EIO;
    for (int row = 0; st == LS_OK && row < PQntuples(r); row++) {
        OGRFeatureH feat = OGR_F_Create(OGR_L_GetLayerDefn(layer));
        for (int i = 0; i < ncols && i < PQnfields(r); i++)
            if (!PQgetisnull(r, row, i))
                OGR_F_SetFieldString(feat, i, PQgetvalue(r, row, i));
        if (OGR_L_CreateFeature(layer, feat) != OGRERR_NONE)
            st = LS_EIO;
        OGR_F_Destroy(feat);
    }
    /* GDAL 3.6's GDALClose reports nothing: a failed flush shows as an error. */
    CPLErrorReset();
    GDALClose(ds);
    if (CPLGetLastErrorType() == CE_Failure)
        st = LS_EIO;
    if (st != LS_OK) {
        log_error("table: writing %s failed: %s", out, CPLGetLastErrorMsg());
        unlink(out);
    }
    return st;
}
