/*
 * mapping.h — which column of a user's file holds what, and reading the
 * values in those columns: the part of ingest that knows how real files
 * look (generic names, drive-test and crowdsourcing app exports, Vietnamese
 * headers with or without diacritics, units written in the header).
 */
#ifndef LS_INGEST_MAPPING_H
#define LS_INGEST_MAPPING_H

#include <stddef.h>

#include "../api/ls.h"

typedef enum {
    IF_LAT = 0,  /* latitude, degrees */
    IF_LON,      /* longitude, degrees */
    IF_X,        /* projected easting (or whatever the file calls X) */
    IF_Y,        /* projected northing */
    IF_TIME,     /* when the test ran */
    IF_DOWNLOAD, /* download speed -> Mbps */
    IF_UPLOAD,   /* upload speed -> Mbps */
    IF_LATENCY,  /* latency / ping -> ms */
    IF_OPERATOR, /* carrier name, code or MCC-MNC text */
    IF_MCC,
    IF_MNC,
    IF_MCCMNC, /* "452-04", "45204" */
    IF_TECH,   /* network type: LTE, 4G, NR, HSPA+, ... */
    IF_RSRP,
    IF_RSRQ,
    IF_SINR,
    IF_DEVICE,  /* device / user id (hashed before it is stored) */
    IF_TEST_ID, /* the test's own id (dedupe key when present) */
    /* dead-zone reports (locality files); carriers are IF_OPERATOR, the
     * technology IF_TECH */
    IF_PLACE,      /* village / hamlet: "Thôn/Bản" */
    IF_COMMUNE,    /* commune or ward, by name or code: "Xã" */
    IF_SYMPTOM,    /* "Hiện tượng": mất sóng, sóng yếu, chậm */
    IF_PEOPLE,     /* people affected */
    IF_HOUSEHOLDS, /* households affected: "Số hộ" */
    IF_NOTE,       /* "Ghi chú" */
    IF_COUNT
} ingest_field;

/* What a file holds: the guess only considers the fields of its kind
 * (an override may name any field). */
typedef enum { INGEST_MEASUREMENTS = 0, INGEST_REPORTS } ingest_kind;

/* The field's canonical name ("download", "lat", ...) as used by --map. */
const char *ingest_field_name(ingest_field f);

typedef struct {
    int col[IF_COUNT];           /* column index in the file, -1 when absent */
    double scale[IF_COUNT];      /* multiply the value by this to get Mbps (speeds), ms
                                  * (latency), 1 for everything else */
    int from_override[IF_COUNT]; /* 1 when --map chose it */
    int time_offset_s;           /* zone of times written without one: UTC+7 (25200), or 0 when
                                  * the column's name says UTC ("time_utc") */
} ingest_mapping;

/* Guesses the mapping from the file's column names.  `overrides` are
 * --map arguments "FIELD=COLUMN" (FIELD a canonical name, COLUMN the file's
 * header as written, matched case- and diacritic-insensitively); they win
 * over any guess.  Units come from the header ("DL_bitrate" and "(kbps)" ->
 * kbps, "download_kbit" -> kbit/s, "Tốc độ tải xuống (Mbps)" -> Mbps, "bps"
 * ...); a speed with no unit is taken as Mbps and latency as ms.
 * LS_EINVAL with err naming the problem for an override that names an
 * unknown field or a column that does not exist.  Missing required columns
 * are NOT an error here: see ingest_mapping_check(). */
ls_status ingest_mapping_guess(const char *const *columns, int ncols, const char *const *overrides,
                               int noverrides, ingest_mapping *m, char *err, size_t errlen);

/* The same for a kind of file: INGEST_MEASUREMENTS is ingest_mapping_guess();
 * INGEST_REPORTS guesses only position, technology, carriers (operator),
 * place, commune, symptom, people, households and note.  An override
 * "FIELD=COLUMN" may also be written "COLUMN=FIELD" for reports, and
 * "carriers" / "technology" name the operator / tech fields. */
ls_status ingest_mapping_guess_kind(ingest_kind kind, const char *const *columns, int ncols,
                                    const char *const *overrides, int noverrides, ingest_mapping *m,
                                    char *err, size_t errlen);

/* Checks that the mapping has what a measurement needs: a position (lat+lon,
 * or x+y, unless `has_geometry`), a time and a download speed.  LS_EINVAL
 * with err listing what is missing AND the columns found in the file. */
ls_status ingest_mapping_check(const ingest_mapping *m, int has_geometry,
                               const char *const *columns, int ncols, char *err, size_t errlen);

/* Header text folded for matching: lowercase ASCII, Vietnamese diacritics
 * removed (đ -> d), units in brackets kept, runs of space/_/-/. -> one '_'.
 * "Tốc độ tải xuống (Mbps)" -> "toc_do_tai_xuong_(mbps)". */
void ingest_fold(const char *in, char *out, size_t outlen);

/* ----------------------------------------------------------------- values */

/* A number: "12.5", "12,5" (decimal comma), " 12 ", "1e3".  LS_EINVAL for
 * empty or non-numeric text. */
ls_status ingest_parse_number(const char *s, double *out);

/* A timestamp -> seconds since 1970-01-01 UTC.  Accepts ISO 8601 with or
 * without zone ("2025-03-01T08:30:00Z", "2025-03-01 08:30:00+07:00",
 * "2025-03-01T08:30"), epoch seconds or milliseconds (by magnitude), and
 * "dd/mm/yyyy hh:mm[:ss]" / "dd-mm-yyyy ..." (Vietnamese day-first dates).
 * Text without a zone is Vietnam time (UTC+7).  LS_EINVAL otherwise. */
ls_status ingest_parse_time(const char *s, double *epoch);

/* The same with another zone for text without one (seconds east of UTC). */
ls_status ingest_parse_time_tz(const char *s, int default_offset_s, double *epoch);

/* Radio technology -> "2G", "3G", "4G" or "5G" (GSM/EDGE/GPRS -> 2G;
 * UMTS/WCDMA/HSPA/HSPA+/HSDPA/3G -> 3G; LTE/LTE-A/4G/4G+ -> 4G; NR/NR-NSA/
 * 5G/5G NSA -> 5G).  LS_EINVAL for anything else (including "WIFI"). */
ls_status ingest_parse_tech(const char *s, char out[3]);

typedef struct {
    char code[33];      /* "viettel" */
    int num;            /* carriers.num: how measurements store it */
    char name[64];      /* "Viettel" */
    char mcc_mnc[8][8]; /* "452-04" */
    int n_mcc_mnc;
} ingest_carrier;

/* Finds the carrier a text names: its code or name (case/diacritic/space
 * insensitive: "VIETTEL", "Vina phone", "VinaPhone (VNPT)", "VNPT"), or an
 * MCC-MNC written "452-04", "452 04", "45204", "452/04", "452-4".  Returns
 * the index in `list`, or -1. */
int ingest_carrier_find(const ingest_carrier *list, int n, const char *text);

/* A report's symptom -> "no_signal", "weak_signal" or "slow_data", from
 * the codes or Vietnamese words with or without diacritics, any case:
 * "mất sóng", "không có sóng", "mất tín hiệu", "lõm sóng" -> no_signal;
 * "sóng yếu", "chập chờn" -> weak_signal; "chậm", "tốc độ chậm", "mạng chậm"
 * -> slow_data.  LS_EINVAL for anything else, or text naming two of them. */
ls_status ingest_parse_symptom(const char *s, const char **out);

/* The same from separate MCC and MNC values ("452", "4" or "04"). */
int ingest_carrier_find_mcc_mnc(const ingest_carrier *list, int n, const char *mcc,
                                const char *mnc);

#endif
