/* county_sql: what the county's view modules (county_filter, county_tally,
 * county_stats, county_figs, county_list, county_personal, county_cases)
 * share when they read the master database: SQL text assembled from fixed
 * pieces, a failed SQLite call turned into an SJ_E* code and a reason,
 * several statements read in one snapshot, and the cells of a row.
 *
 * Every function here is for one connection on its own thread; none keeps
 * state. See docs/COUNTY-QUERIES.md for the modules that use them. */
#ifndef COUNTY_SQL_H
#define COUNTY_SQL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "sj_err.h"
#include "sj_model.h"

#define COUNTY_SQL_MAX  2048 /* longest SQL the fixed pieces make */
#define COUNTY_SQL_NUM  24   /* a decimal int64 with its sign and NUL */
#define COUNTY_SQL_TIME 32   /* "YYYY-MM-DDTHH:MM:SSZ" and room */

/* Appends fixed SQL text to buf (len is strlen(buf), updated). The pieces
 * are bounded by the caller's buffer, so an overflow is a bug (assert). */
void county_sql_add(char *buf, size_t size, size_t *len, const char *text);

/* Fills err with "what: <sqlite3_errmsg>" after a failed SQLite call, logs
 * the SQL at DEBUG, and maps rc (STYLE 7): SJ_EAGAIN for BUSY and LOCKED
 * (worth a retry), SJ_ENOMEM for NOMEM, SJ_EDB for the rest. */
int
county_sql_fail(sqlite3 *db, int rc, const char *what, const char *sql, char *err, size_t err_size);

/* Fills err with "out of memory"; returns SJ_ENOMEM. */
int county_sql_nomem(char *err, size_t err_size);

/* The name of an enum value read from the database (*name, static). A value
 * outside 1..n means the file was altered behind SQLite's CHECK
 * constraints: SJ_EDB with a reason. */
SJ_NODISCARD int
county_sql_enum_cell(sj_field_t field, int value, const char **name, char *err, size_t err_size);

/* The text of a column (a NULL value reads as ""); NULL only on OOM. Valid
 * until the statement steps again. */
const char *county_sql_text(sqlite3_stmt *st, int col);

/* Starts a read transaction unless db already is in one, so that several
 * statements see one snapshot while `run` writes; *began says whether
 * county_sql_snapshot_end must end it. SJ_OK or county_sql_fail's codes. */
SJ_NODISCARD int county_sql_snapshot_begin(sqlite3 *db, int *began, char *err, size_t err_size);
/* Ends what county_sql_snapshot_begin started (nothing when began is 0). */
void county_sql_snapshot_end(sqlite3 *db, int began);

/* Prepares sql (a SELECT whose one parameter is a matter id), binds id
 * and steps to its row. Returns SJ_OK with *st on the row (the caller
 * finalizes it); SJ_ENOTFOUND with "no matter with id <shown>"; or
 * county_sql_fail's codes. *st is NULL unless SJ_OK. */
SJ_NODISCARD int county_sql_matter_row(sqlite3 *db,
                                       const char *sql,
                                       const uint8_t id[SJ_ID_BYTES],
                                       const char *shown,
                                       sqlite3_stmt **st,
                                       char *err,
                                       size_t err_size);

/* ms since the epoch as ISO 8601 UTC, "2024-03-01T08:00:00Z" ("<n> ms" for
 * a time gmtime cannot show). */
void county_sql_iso_utc(int64_t ms, char out[COUNTY_SQL_TIME]);

/* The columns of matters a voided matter keeps in matters_voided (issue 15,
 * county_store.c schema 10), in the order of matters. */
#define COUNTY_SQL_MATTER_COLS                                                    \
    "id, origin, township, occurred_on, channel, kind, persons, level, category," \
    " outcome, source, summary, officer, sealed, created_ms, received_ms, reported_outcome"

#endif
