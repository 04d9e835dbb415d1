/*
 * measure.h — loading speed measurements: any file GDAL reads, columns
 * mapped by ingest/mapping, coordinates through PROJ, every row validated
 * (rejects go to a CSV with the reason and the original values), the rest
 * streamed with COPY into a staging table and merged into `measurements`
 * (duplicates skipped), the 40 Mbps test applied and the coverage cells
 * updated — all in one transaction, so a batch is there whole or not at
 * all.  The command line and POST /v1/measurements both come here.
 */
#ifndef LS_INGEST_MEASURE_H
#define LS_INGEST_MEASURE_H

#include <libpq-fe.h>
#include <stddef.h>

#include "../api/config.h"
#include "../api/ls.h"

typedef struct {
    const char *path;        /* the file to read */
    const char *source_name; /* the name the user knows it by (for the batch) */
    const char *crs;         /* --crs, or NULL: the file's own, else WGS 84 */
    const char *carrier;     /* default carrier code for rows without one, or NULL */
    const char *tech;        /* default technology for rows without one, or NULL */
    const char *const *maps; /* --map FIELD=COLUMN */
    int nmaps;
    const char *reject_path; /* where rejected rows go; written only when there are some */
    double min_download;     /* Mbps; the national minimum, 40 */
    double min_upload;       /* Mbps; 0 = not tested */
    double max_latency;      /* ms; 0 = not tested */
    int progress;            /* draw a progress line on stderr (when it is a terminal) */
    const ls_config *verify; /* the verification rule's settings; NULL: do not verify */
    /* who is loading: the caller has set the row-level-security context */
    long long account_id;      /* 0 for the command line */
    const char *only_carrier;  /* a carrier account may load only its own rows */
    const char *only_province; /* a locality account only rows inside its province */
} ingest_opts;

typedef struct {
    long long batch;
    long long rows, accepted, rejected, duplicates, meeting_min, below_min;
    int swapped_xy;                   /* X/Y (or lat/lon) columns were exchanged */
    char crs[128];                    /* the CRS the coordinates were read in */
    char reject_file[1024];           /* "" when nothing was rejected */
    char notes[1024];                 /* what was guessed, for the user */
    int verified, reopened, disputed; /* points the batch's tests moved */
} ingest_summary;

/* Loads one file as one transaction: its own when the connection is idle;
 * inside the caller's when one is open (the caller then commits, or rolls
 * back on error).  LS_EINVAL / LS_EUNSUPPORTED with err for a
 * file that cannot be used at all (unreadable, no rows, required columns
 * missing, projected coordinates without a CRS) — then nothing is written.
 * Rows that fail validation are not an error: they are counted and go to
 * the reject file. */
ls_status ingest_measurements(PGconn *c, const ingest_opts *o, ingest_summary *s, char *err,
                              size_t errlen);

/* The summary as the JSON object the CLI (--json) and the API return;
 * malloc'd, caller frees. */
char *ingest_summary_json(const ingest_summary *s, const char *reject_url);

/* `lomsong ingest measurements FILE... [--crs CRS] [--carrier CODE]
 * [--tech 3G|4G|5G] [--map FIELD=COLUMN]... [--rejects PATH] [--json]`;
 * returns the exit code. */
int ingest_cli(const ls_config *cfg, int argc, char **argv);

#endif
