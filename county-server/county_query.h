/* county_query: the county staff's reading commands (stats, list, show,
 * show --with-personal) as the CLI runs them over the master database (a
 * read-only connection; works while `run` is writing): each one computes
 * with the view module that answers it and writes with county_out. One
 * call per command, so the CLI layer stays one line.
 *
 * The work is done in the modules below (docs/COUNTY-QUERIES.md):
 *   county_filter    the filter, --by dimensions, the WHERE builder
 *   county_tally     the tallies: schema, key, store accumulator, planner
 *   county_stats     stats as rows and a total
 *   county_figs      the case figures (definitions in county_figs.h)
 *   county_list      the list cursor and show's record
 *   county_personal  the only module that opens sealed personal data
 *   county_out       writes all of them as table, JSON or CSV
 *   county_sql       the SQLite helpers they share
 * This header includes them, and county_store_view.h for the connection. */
#ifndef COUNTY_QUERY_H
#define COUNTY_QUERY_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "county_figs.h"
#include "county_filter.h"
#include "county_list.h"
#include "county_stats.h"
#include "county_store_view.h"
#include "sj_auth.h"
#include "sj_err.h"
#include "sj_table.h"

/* The case figures under the name the CLI layer and the tests use. */
typedef county_figs_t county_case_figs_t;

/* The case figures of the matters that pass f (county_figs_total). */
SJ_NODISCARD int county_query_case_figs(
    sqlite3 *db, const county_filter_t *f, county_case_figs_t *out, char *err, size_t err_size);

/* stats: county_stats_run then county_out_stats (formats: county_out.h).
 * SJ_EINVAL (bad filter or --by, the reason lists the valid dims),
 * SJ_EDB, SJ_EAGAIN, SJ_ENOMEM, SJ_EIO; err says why. */
SJ_NODISCARD int county_query_stats(sqlite3 *db,
                                    const char *by,
                                    const county_filter_t *f,
                                    sj_format_t fmt,
                                    FILE *out,
                                    char *err,
                                    size_t err_size);
/* The same with flags (COUNTY_STATS_SCAN, COUNTY_STATS_CASES: county_stats.h). */
SJ_NODISCARD int county_query_stats_ex(sqlite3 *db,
                                       const char *by,
                                       const county_filter_t *f,
                                       sj_format_t fmt,
                                       unsigned flags,
                                       FILE *out,
                                       char *err,
                                       size_t err_size);
/* The table stats would read (county_stats_source). */
const char *county_query_stats_source(const char *by, const county_filter_t *f);

/* list: one row per matter (id, occurred_on, station, township, channel,
 * kind, persons, level, category, outcome, source, summary, and with
 * f->personal the petitioner fields), ordered by occurred_on then id; csv
 * and json streamed (county_list, county_out_rows). */
SJ_NODISCARD int county_query_list(
    sqlite3 *db, const county_filter_t *f, sj_format_t fmt, FILE *out, char *err, size_t err_size);

/* show: every field of one matter by id (UUID text) plus its event keys
 * (origin, origin_seq, received time); says whether sealed personal data
 * exists but never prints it (county_list_show, county_out_show).
 * SJ_ENOTFOUND when no such matter, SJ_EINVAL when id_text is no UUID. */
SJ_NODISCARD int county_query_show(
    sqlite3 *db, const char *id_text, sj_format_t fmt, FILE *out, char *err, size_t err_size);
/* show's history (issue 15): the case's report, status changes (with note,
 * officer, conflict, applied) and assignments in time order, as
 * sj_history.h reads them. Table: after the fields; JSON: "history": [...]
 * in the one object; CSV: the fields only. */
extern const char county_query_history_sql[];

/* search TEXT (issue 15): the matters whose summary, or a status change's or
 * assignment's note, contains text, newest first (created), that pass f
 * (limit: f->limit, else 100). Three characters or more: the trigram index
 * (table search); fewer: a LIKE scan of the rows (*scanned = 1; the trigram
 * index cannot answer it); NULL: every matter that passes f (the
 * dashboard's list). SJ_EINVAL for empty or too long a text. */
SJ_NODISCARD int county_query_search_table(sqlite3 *db,
                                           const char *text,
                                           const county_filter_t *f,
                                           sj_table_t **out,
                                           int *scanned,
                                           char *err,
                                           size_t err_size);
SJ_NODISCARD int county_query_search(sqlite3 *db,
                                     const char *text,
                                     const county_filter_t *f,
                                     sj_format_t fmt,
                                     FILE *out,
                                     char *err,
                                     size_t err_size);

/* show --with-personal: opens the matter's sealed petitioner fields with the
 * county key pair and prints them (county_personal_read,
 * county_out_personal); the opened text is wiped after. */
SJ_NODISCARD int county_query_personal(sqlite3 *db,
                                       const char *id_text,
                                       const sj_keypair_t *kp,
                                       sj_format_t fmt,
                                       FILE *out,
                                       char *err,
                                       size_t err_size);

#endif
