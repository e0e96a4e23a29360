/* county_out: writes what the county's views computed, in the formats of
 * the CLI (sj_table: table, json, csv) and for the dashboard (cJSON). The
 * views return tables, rows and records; only this module (and sj_table
 * under it) turns them into text, so a new format or labels are added in
 * one place.
 *
 *   stats   json  {"rows":[{"level":"county","kind":"collective","items":217,
 *                  "persons":5639},...],"total":{"items":1873,"persons":9920}}
 *                 (rows empty without --by; with the case figures every row
 *                 and the total carry them, decimals as numbers or null)
 *           csv   header of the dims + figures; one line per row (no total)
 *           table aligned, with a total line when grouped
 *   rows    any cursor (list, cases): csv and json streamed in constant
 *           memory, table aligned after the last row
 *   show    table: "field: value" lines; json: one object; csv: header and
 *           one row
 *   personal  table: "petitioner_name: ..." lines ("personal: none" when
 *           there are none); json: a one-object array; csv: header + row
 *   status  json  {"county":"230523"|null,"events":N,"matters":N,
 *                  "quarantined":N,"children":[{...},...]}
 *           table a summary line, a blank line, the children
 *           csv   the children
 *   verify  the streams in fmt; in table format also one line per problem
 *           ("gap: STATION epoch 0123abcd…: seq 4..6 missing", "chain break:
 *           ...: seq 7", "...: seq 7 held by two events") on a second stream
 *
 * Text that came from stations goes through sj_table or
 * county_out_put_safe, which keep control characters away from the
 * operator's terminal. */
#ifndef COUNTY_OUT_H
#define COUNTY_OUT_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "county_personal.h"
#include "county_stats.h"
#include "county_status.h"
#include "county_verify.h"
#include "sj_err.h"
#include "sj_table.h"

/* Fills err for a failed write: "out of memory" for SJ_ENOMEM, else
 * "cannot write the output". Returns rc. */
int county_out_fail(int rc, char *err, size_t err_size);

/* Writes station-supplied text for a terminal: C0 controls, DEL and C1
 * controls print as a space; when the text is not UTF-8 at all, every
 * non-ASCII byte prints as '?'. SJ_OK or SJ_EIO. */
SJ_NODISCARD int county_out_put_safe(FILE *out, const char *s);

/* stats as the JSON object above (caller owns, cJSON_Delete); NULL on OOM. */
cJSON *county_out_stats_json(const county_stats_t *s);
/* Writes stats in fmt (json: one line). SJ_OK, SJ_EIO, SJ_ENOMEM; err. */
SJ_NODISCARD int
county_out_stats(const county_stats_t *s, sj_format_t fmt, FILE *out, char *err, size_t err_size);

/* A cursor's next row: SJ_OK with *cells, SJ_ENOTFOUND after the last,
 * another code (with err) on failure. */
typedef int(county_out_next_fn)(void *cursor,
                                const char *const **cells,
                                char *err,
                                size_t err_size);
/* Writes every row of a cursor of ncols columns (names and types borrowed)
 * in fmt. Returns SJ_OK; the cursor's code; SJ_EIO, SJ_ENOMEM; err says
 * why. */
SJ_NODISCARD int county_out_rows(size_t ncols,
                                 const char *const *names,
                                 const sj_col_type_t *types,
                                 county_out_next_fn *next,
                                 void *cursor,
                                 sj_format_t fmt,
                                 FILE *out,
                                 char *err,
                                 size_t err_size);

/* Writes show's one-row table (county_list_show). In the table format a
 * "personal: sealed" line says how to open it. SJ_OK, SJ_EIO, SJ_ENOMEM. */
SJ_NODISCARD int
county_out_show(const sj_table_t *t, sj_format_t fmt, FILE *out, char *err, size_t err_size);

/* Writes opened personal fields (none: the matter has none). SJ_OK,
 * SJ_EIO, SJ_ENOMEM; err. */
SJ_NODISCARD int county_out_personal(
    const county_personal_t *p, int none, sj_format_t fmt, FILE *out, char *err, size_t err_size);

/* Writes the county's links view (county_status_read). SJ_OK, SJ_EIO,
 * SJ_ENOMEM. */
SJ_NODISCARD int county_out_status(const county_status_t *s, sj_format_t fmt, FILE *out);

/* Writes verify's streams on out in fmt and, in table format, its problems
 * as lines on lines (stderr for the CLI). SJ_OK, SJ_EIO, SJ_ENOMEM. */
SJ_NODISCARD int
county_out_verify(const county_verify_t *v, sj_format_t fmt, FILE *out, FILE *lines);

#endif
