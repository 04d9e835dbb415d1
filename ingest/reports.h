/*
 * reports.h — dead-zone reports from a locality's file (CSV, XLSX, ODS,
 * KML/KMZ, GeoJSON, zipped Shapefile, GeoPackage...): the same reader,
 * CRS handling, column guess and reject file as measurements, then every
 * row validated (a place inside the account's area, one technology, known
 * carriers, a symptom it can read) before anything is written, and the
 * accepted rows filed one by one exactly as POST /v1/reports files a report
 * (report_file() in 006_reports.sql: the same 300 m / same-technology join,
 * the same events), all in one transaction.  `lomsong ingest reports` and
 * POST /v1/reports/import both come here.
 *
 * Decisions a file forces:
 *   - no symptom column, or a blank cell: no_signal (a locality reports a
 *     dead zone: "mất sóng" is what a report means unless it says more);
 *     a value it cannot read rejects the row;
 *   - households ("Số hộ") are kept as given (reports.households) and, when
 *     the row gives no people count, people_affected = households x 3.5
 *     (GSO, 2019 census: 3.5 persons per household), rounded;
 *   - the same row (same place, technology, carriers, symptom, text and
 *     counts) is one report: it is filed once, with its content hash as the
 *     report's client_ref, so loading a file twice adds nothing (counted as
 *     duplicates), and so does a row repeated within the file.
 */
#ifndef LS_INGEST_REPORTS_H
#define LS_INGEST_REPORTS_H

#include <libpq-fe.h>
#include <stddef.h>

#include "../api/ls.h"

#define INGEST_REPORTS_MAX_ROWS 100000
#define INGEST_PERSONS_PER_HOUSEHOLD 3.5

typedef struct {
    const char *path;        /* the file to read */
    const char *source_name; /* the name the user knows it by (for the batch) */
    const char *crs;         /* --crs, or NULL: the file's own, else WGS 84 */
    const char *const *maps; /* --map FIELD=COLUMN (or COLUMN=FIELD) */
    int nmaps;
    const char *reject_path; /* where rejected rows go; written only when there are some */
    /* the locality filing them; the caller has set its row-level-security
     * context in the open transaction */
    long long account_id;
    const char *province; /* its province: a row elsewhere is rejected */
    const char *commune;  /* a commune-bound account's commune, else NULL */
} ingest_report_opts;

typedef struct {
    long long batch;
    long long rows, accepted, rejected, duplicates;
    long long reports;                   /* filed now: accepted - duplicates */
    long long points_new, points_joined; /* what the filed reports did */
    int swapped_xy;
    char crs[128];
    char reject_file[1024]; /* "" when nothing was rejected */
    char notes[1024];
} ingest_report_summary;

/* Loads one file inside the caller's open transaction (the caller commits,
 * or rolls back on error); the statements run under the caller's security
 * context.  LS_EINVAL / LS_EUNSUPPORTED with err for a file that cannot be
 * used at all (unreadable, no rows, too many rows, no position or
 * technology column, projected coordinates without a CRS); rows that fail
 * validation are not an error: they are counted and go to the reject file. */
ls_status ingest_reports(PGconn *c, const ingest_report_opts *o, ingest_report_summary *s,
                         char *err, size_t errlen);

/* The summary as the JSON object the CLI (--json) and the API return;
 * malloc'd, caller frees. */
char *ingest_report_summary_json(const ingest_report_summary *s, const char *reject_url);

#endif
