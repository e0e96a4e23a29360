/* county_list: the matters themselves, as `list`, `export` and `show` read
 * them.
 *
 * The list cursor gives the rows of `list` one at a time, from one SQLite
 * statement, so a caller can stream millions of them (export) in constant
 * memory. Columns: id, occurred_on, station, township, channel, kind,
 * persons, level, category, outcome, source, summary, and with the
 * filter's key pair (f->personal) petitioner_name, petitioner_id,
 * petitioner_phone, petitioner_address, opened by county_personal
 * ("(sealed to another key)" in the first when the blob does not open).
 * Ordered by occurred_on then id. The statement is one read transaction:
 * the rows are one snapshot even while `run` is writing. Not thread-safe;
 * use on the db's thread.
 *
 * Nothing here ever gives matters.sealed or, in a listing, matters.officer:
 * list shows no personal field unless the key pair is given, and show only
 * says whether sealed data exists. */
#ifndef COUNTY_LIST_H
#define COUNTY_LIST_H

#include <sqlite3.h>
#include <stddef.h>

#include "county_filter.h"
#include "sj_err.h"
#include "sj_table.h"

typedef struct county_list county_list_t;

/* Checks the filter and prepares the statement. db and f (with its
 * strings and key pair) are borrowed and must outlive the cursor.
 * Returns: SJ_OK with *out (caller owns, close with county_list_close),
 * SJ_EINVAL (bad filter), SJ_EDB, SJ_EAGAIN, SJ_ENOMEM; err says why. */
SJ_NODISCARD int county_list_open(
    sqlite3 *db, const county_filter_t *f, county_list_t **out, char *err, size_t err_size);
/* Number of columns, their names and types (borrowed, valid while the
 * cursor is open); station_name and township_name (issue 15) come last. */
size_t county_list_ncols(const county_list_t *self);
const char *const *county_list_names(const county_list_t *self);
const sj_col_type_t *county_list_types(const county_list_t *self);
/* Steps to the next row. Returns: SJ_OK with *cells (ncols cells, borrowed,
 * valid until the next call or close), SJ_ENOTFOUND after the last row,
 * SJ_EDB (also a damaged row), SJ_EAGAIN, SJ_ENOMEM; err says why. */
SJ_NODISCARD int
county_list_next(county_list_t *self, const char *const **cells, char *err, size_t err_size);
/* NULL-safe; wipes opened personal fields; sets *self_p = NULL. */
void county_list_close(county_list_t **self_p);

/* show: every field of one matter by id (UUID text, any case) plus its
 * event keys, as a one-row table (*out, caller owns, sj_table_destroy) of
 * the columns id (canonical, lower case), occurred_on, station, township,
 * channel, kind, persons, level, category, outcome, source, summary,
 * officer, origin_seq (NULL: no event row), created, received (ISO 8601
 * UTC), personal ("sealed" or "none": whether sealed personal data exists;
 * the sealed bytes are never read).
 * Returns: SJ_OK; SJ_EINVAL (not a UUID); SJ_ENOTFOUND (no such matter);
 * SJ_EDB, SJ_EAGAIN, SJ_ENOMEM; err says why. */
SJ_NODISCARD int
county_list_show(sqlite3 *db, const char *id_text, sj_table_t **out, char *err, size_t err_size);

#endif
