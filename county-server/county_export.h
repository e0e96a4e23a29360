/* county_export: every matter that passes a filter, written row by row as
 * CSV or JSON Lines for spreadsheets and other programs.
 *
 * The rows come from the list cursor (county_list.h): one
 * SQLite statement read in index order, each row formatted and written
 * before the next is read, so memory stays the same for ten matters or ten
 * million. The columns are those of `list`, plus the petitioner fields when
 * the filter carries the county key pair (--with-personal).
 *
 *   csv    RFC 4180, a header line of the column names, LF line ends,
 *          UTF-8 without a byte-order mark (as `list --format csv`; the
 *          CLI's --bom writes SJ_TABLE_BOM first). A cell that a
 *          spreadsheet would evaluate as a formula (starts with = + - @,
 *          TAB or CR and is not a plain number) gets a leading ' (CSV
 *          injection; sj_csv_field): always on, jsonl is never altered.
 *   jsonl  one JSON object per line, keys in column order, persons a
 *          number, every other value a string.
 *   xlsx   an Excel workbook (libxlsxwriter, constant-memory mode, built in
 *          a temporary file under $TMPDIR and then copied to out): a bold
 *          header row, persons a number, occurred_on a date (yyyy-mm-dd),
 *          every other cell text, so ids, 18-digit ID numbers, codes and
 *          phone numbers keep every digit. Past Excel's 1,048,576 rows a
 *          sheet the rows go on in the next sheet.
 * csv and xlsx write the header and the enum values under the process's
 * CSV options (sj_table_csv_opts: --bom, --labels zh|en). jsonl keeps the
 * names.
 *
 * The export is one read transaction: a consistent snapshot, even while
 * `run` keeps writing. */
#ifndef COUNTY_EXPORT_H
#define COUNTY_EXPORT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "county_query.h"
#include "sj_err.h"
#include "sj_table.h"

#define COUNTY_EXPORT_PROGRESS_ROWS 100000 /* progress callback every this many rows */

typedef enum {
    COUNTY_EXPORT_CSV = 0,
    COUNTY_EXPORT_JSONL,
    COUNTY_EXPORT_XLSX
} county_export_format_t;

/* Called after every COUNTY_EXPORT_PROGRESS_ROWS rows with the count so far. */
typedef void(county_export_progress_fn)(void *ctx, int64_t rows);

/* Parses "csv", "jsonl" or "xlsx". Returns SJ_OK or SJ_EINVAL. */
SJ_NODISCARD int county_export_format_parse(const char *name, county_export_format_t *out);

/* Writes the matters that pass f (NULL = all; f->limit caps the rows) to
 * out. db, f and out are borrowed; progress may be NULL. *rows (may be NULL)
 * gets the number of matters written, also on failure.
 * Returns: SJ_OK; SJ_EINVAL bad filter; SJ_EIO the output failed (disk
 * full, closed pipe); SJ_EDB, SJ_EAGAIN, SJ_ENOMEM. err says why. */
SJ_NODISCARD int county_export_write(sqlite3 *db,
                                     const county_filter_t *f,
                                     county_export_format_t fmt,
                                     FILE *out,
                                     county_export_progress_fn *progress,
                                     void *progress_ctx,
                                     int64_t *rows,
                                     char *err,
                                     size_t err_size);

/* Writes table t as an xlsx workbook (one sheet named sheet; the header is
 * each column's name, under the csv labels when they are set) to out: the
 * same writer as the export (report --assessment). SJ_OK, SJ_EIO, SJ_ENOMEM;
 * err says why. */
SJ_NODISCARD int county_export_xlsx_table(
    const sj_table_t *t, const char *sheet, FILE *out, char *err, size_t err_size);

#endif
