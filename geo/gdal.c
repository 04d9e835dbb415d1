/*
 * gdal.c — see gdal.h.
 */
#include "gdal.h"

#include <cpl_error.h>
#include <gdal.h>
#include <pthread.h>

#include "../api/log.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Warnings are mostly noise about the file (an unknown GeoJSON member, a
 * field width) and the callers report what matters themselves in words the
 * user understands, so they go to debug. */
static void gdal_log(CPLErr cls, CPLErrorNum no, const char *msg)
{
    log_level lv = (cls == CE_Failure || cls == CE_Fatal) ? LOG_ERROR : LOG_DEBUG;
    log_msg(lv, "gdal: %s (CPLE %d)", msg ? msg : "", (int)no);
}

static void init(void)
{
    CPLSetErrorHandler(gdal_log);
    GDALAllRegister();
}

void geo_gdal_init(void)
{
    pthread_once(&once, init);
}
