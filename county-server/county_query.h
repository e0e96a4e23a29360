/* county_query: the county staff's reading commands over the master
 * database (a read-only connection; works while `run` is writing).
 *
 * Dimensions (--by): channel, kind, level, category, outcome, source
 * (printed by name, e.g. "county"), station (matters.origin, 12 digits),
 * township (matters.township, 9 digits), month ("YYYY-MM" of occurred_on),
 * ever_outcome (the outcome history: a matter is in the row of the outcome
 * it was reported with and of every outcome an applied status change gave
 * it, changes listed in conflicts left out; so the rows add up to more
 * than the total, which counts each matter once).
 * Dates are inclusive and filter on occurred_on.
 *
 * Cases (issue 4), the definitions used by stats, cases, report and the
 * dashboard alike:
 *   current assignment: the case's assignments row with the greatest
 *     (created_ms, eid);
 *   assigned case: a matter with at least one assignments row, or reported
 *     with source assigned (it may then have no due date);
 *   open: current outcome pending or accepted; overdue: open and the
 *     current assignment's due_on is before today (sj_date_today);
 *   concluded: current outcome resolved_on_spot or closed;
 *   closure rate: concluded / (all - withdrawn), a percentage with one
 *     decimal; assigned closure rate the same over the assigned cases;
 *   median days to close: the median, over the concluded cases, of the
 *     created_ms of the change that concluded it (the case's last applied
 *     status change; the report's own created_ms when it arrived concluded
 *     and no change applied since) minus the report's created_ms, in days. */
#ifndef COUNTY_QUERY_H
#define COUNTY_QUERY_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sj_auth.h"
#include "sj_err.h"
#include "sj_table.h"

typedef struct {
    const char *from;     /* YYYY-MM-DD or NULL */
    const char *to;       /* YYYY-MM-DD or NULL */
    const char *township; /* 9-digit code or NULL */
    const char *station;  /* 12-digit code or NULL */
    /* enum filters by name, NULL = any */
    const char *channel, *kind, *level, *category, *outcome, *source;
    long limit;           /* list: max rows, 0 = all */
    /* list --with-personal: the county key pair that opens sealed petitioner
     * fields (borrowed); NULL = personal fields are left out */
    const sj_keypair_t *personal;
    /* "today" for overdue (YYYY-MM-DD, not checked); NULL = sj_date_today() */
    const char *today;
} county_filter_t;

/* The case figures of a set of matters (see the definitions above). */
typedef struct {
    int64_t items, persons;
    int64_t open, overdue, concluded, withdrawn;
    int64_t assigned, assigned_concluded, assigned_withdrawn;
    int closure_permille;          /* concluded*1000/(items-withdrawn), -1: none */
    int assigned_closure_permille; /* the same over the assigned cases */
    int has_median;                /* 0: no concluded case */
    double median_days;            /* median days to close */
} county_case_figs_t;

/* num * 1000 / den rounded half up, or -1 when den <= 0. */
int county_permille(int64_t num, int64_t den);

/* The case figures of the matters that pass f (NULL = all), counted in one
 * read snapshot. SJ_EINVAL (bad filter), SJ_EDB, SJ_EAGAIN, SJ_ENOMEM. */
SJ_NODISCARD int county_query_case_figs(
    sqlite3 *db, const county_filter_t *f, county_case_figs_t *out, char *err, size_t err_size);

/* Checks a filter: dates valid and from <= to, codes well-formed, enum names
 * known. SJ_EINVAL with a reason naming the option otherwise. */
SJ_NODISCARD int county_filter_check(const county_filter_t *f, char *err, size_t err_size);

/* stats: items (count of matters) and persons (sum) grouped by the
 * comma-separated dims in `by` (NULL or "" = no grouping), rows ordered by
 * the dims. Formats:
 *   json  {"rows":[{"level":"county","kind":"collective","items":217,"persons":5639},...],
 *          "total":{"items":1873,"persons":9920}}   (rows empty without --by)
 *   csv   header of the dims + items,persons; one line per row (no total)
 *   table aligned, with a total line.
 * It counts from a tally (county_store.h) when one holds every --by
 * dimension and filter: tally_place (month, township, station; --from, --to,
 * --township, --station) or tally_kind (month and the enum fields; their
 * filters, and --from/--to only on whole months); else it scans matters.
 * Unknown or repeated dim: SJ_EINVAL with a reason listing the valid dims. */
SJ_NODISCARD int county_query_stats(sqlite3 *db, const char *by, const county_filter_t *f,
                                    sj_format_t fmt, FILE *out, char *err, size_t err_size);
/* The same with flags:
 * COUNTY_STATS_SCAN   counts by scanning matters, never a tally (tests prove
 *                     both give the same answer);
 * COUNTY_STATS_CASES  each row and the total also get the case figures:
 *                     open, overdue, concluded, withdrawn, closure_rate
 *                     (percent, one decimal), median_days_to_close (one
 *                     decimal), assigned, assigned_concluded,
 *                     assigned_withdrawn, assigned_closure_rate (undefined
 *                     rates and medians: JSON null, blank); always a scan of
 *                     matters with their changes and assignments (about
 *                     0.7 s per million matters). --by ever_outcome implies
 *                     it. */
#define COUNTY_STATS_SCAN  1u
#define COUNTY_STATS_CASES 2u
SJ_NODISCARD int county_query_stats_ex(sqlite3 *db, const char *by, const county_filter_t *f,
                                       sj_format_t fmt, unsigned flags, FILE *out, char *err,
                                       size_t err_size);
/* The table stats would read for this query without COUNTY_STATS_CASES
 * ("tally_place", "tally_kind" or "matters"); NULL when by or the filter is
 * invalid. */
const char *county_query_stats_source(const char *by, const county_filter_t *f);

/* list: one row per matter (id, occurred_on, station, township, channel,
 * kind, persons, level, category, outcome, source, summary), ordered by
 * occurred_on then id; never any personal field. */
SJ_NODISCARD int county_query_list(sqlite3 *db, const county_filter_t *f, sj_format_t fmt,
                                   FILE *out, char *err, size_t err_size);

/* The list cursor: the rows of `list` one at a time, from one SQLite
 * statement, so a caller can stream millions of them (export) in constant
 * memory. Columns: id, occurred_on, station, township, channel, kind,
 * persons, level, category, outcome, source, summary, and with f->personal
 * petitioner_name, petitioner_id, petitioner_phone, petitioner_address
 * ("(sealed to another key)" in the first when the blob does not open).
 * The statement is one read transaction: the rows are one snapshot even
 * while `run` is writing. Not thread-safe; use on the db's thread. */
typedef struct county_rows county_rows_t;

/* Checks the filter and prepares the statement. db and f (with its
 * strings and key pair) are borrowed and must outlive the cursor.
 * Returns: SJ_OK with *out (caller owns, close with county_rows_close),
 * SJ_EINVAL (bad filter), SJ_EDB, SJ_EAGAIN, SJ_ENOMEM; err says why. */
SJ_NODISCARD int county_rows_open(
    sqlite3 *db, const county_filter_t *f, county_rows_t **out, char *err, size_t err_size);
/* Number of columns, their names and types (borrowed, static). */
size_t county_rows_ncols(const county_rows_t *self);
const char *const *county_rows_names(const county_rows_t *self);
const sj_col_type_t *county_rows_types(const county_rows_t *self);
/* Steps to the next row. Returns: SJ_OK with *cells (ncols cells, borrowed,
 * valid until the next call or close), SJ_ENOTFOUND after the last row,
 * SJ_EDB (also a damaged row), SJ_EAGAIN, SJ_ENOMEM; err says why. */
SJ_NODISCARD int
county_rows_next(county_rows_t *self, const char *const **cells, char *err, size_t err_size);
/* NULL-safe; wipes opened personal fields; sets *self_p = NULL. */
void county_rows_close(county_rows_t **self_p);

/* show: every field of one matter by id (UUID text) plus its event keys
 * (origin, origin_seq, received time); says whether sealed personal data
 * exists but never prints it. SJ_ENOTFOUND when no such matter. */
SJ_NODISCARD int county_query_show(sqlite3 *db, const char *id_text, sj_format_t fmt, FILE *out,
                                   char *err, size_t err_size);

/* show --with-personal: opens the matter's sealed petitioner fields with the
 * county key pair and prints them (table: "petitioner_name: ..." lines; json:
 * one object; csv: header + row). Prints "personal: none" when there are none. */
SJ_NODISCARD int county_query_personal(sqlite3 *db, const char *id_text, const sj_keypair_t *kp,
                                       sj_format_t fmt, FILE *out, char *err, size_t err_size);

#endif
