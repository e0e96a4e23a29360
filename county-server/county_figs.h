/* county_figs: the figures of matters as cases (issue 4), the definitions
 * used by stats, cases, report and the dashboard alike:
 *   current assignment: the case's assignments row with the greatest
 *     (created_ms, eid);
 *   assigned case: a matter with at least one assignments row, or reported
 *     with source assigned (it may then have no due date);
 *   open: current outcome pending or accepted; overdue: open and past a
 *     due date at any stage (sj_case_overdue: a running stage of the
 *     statutory clock, or the current assignment's 交办 due_on, before
 *     today; docs/CLOCK.md §5);
 *   the four rates: sj_rates.h, from each case's clock on today under
 *     the filter's periods (the defaults when it has none);
 *   concluded: current outcome resolved_on_spot or closed;
 *   closure rate: concluded / (all - withdrawn), a percentage with one
 *     decimal; assigned closure rate the same over the assigned cases;
 *   median days to close: the median, over the concluded cases, of the
 *     created_ms of the change that concluded it (the case's last applied
 *     status change; the report's own created_ms when it arrived concluded
 *     and no change applied since) minus the report's created_ms, in days.
 *
 * Always counted from matters with their status changes and assignments
 * (no tally holds them): about 0.7 s per million matters. Every group is
 * read in one snapshot; see county_figs.c for the three queries. */
#ifndef COUNTY_FIGS_H
#define COUNTY_FIGS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "county_filter.h"
#include "county_sql.h"
#include "sj_err.h"
#include "sj_rates.h"
#include "sj_table.h"

/* The current assignment of every assigned case, as a subquery: its row
 * with the greatest (created_ms, eid); columns a_case (the case id), a_due
 * (due_on) and a_to (the assignee), prefixed so that they never clash with
 * the matters columns the filters and dims name unqualified. */
#define COUNTY_FIGS_CURRENT_ASSIGNMENT_SQL                                                  \
    "(SELECT case_id AS a_case, due_on AS a_due, assignee AS a_to FROM"                     \
    " (SELECT case_id, due_on, assignee, row_number() OVER"                                 \
    "  (PARTITION BY case_id ORDER BY created_ms DESC, eid DESC) AS a_rn FROM assignments)" \
    " WHERE a_rn = 1)"

/* The case figures of a set of matters (see the definitions above). */
typedef struct {
    int64_t items, persons;
    int64_t open, overdue, concluded, withdrawn;
    int64_t assigned, assigned_concluded, assigned_withdrawn;
    int closure_permille;          /* concluded*1000/(items-withdrawn), -1: none */
    int assigned_closure_permille; /* the same over the assigned cases */
    int has_median;                /* 0: no concluded case */
    double median_days;            /* median days to close */
    sj_rates_t rates;              /* the four rates (sj_rates.h, docs/CLOCK.md) */
} county_figs_t;

/* num * 1000 / den rounded half up, or -1 when den <= 0 or num < 0. */
int county_figs_permille(int64_t num, int64_t den);

/* The case figures of the matters that pass f (NULL = all), counted in one
 * read snapshot. SJ_EINVAL (bad filter), SJ_EDB, SJ_EAGAIN, SJ_ENOMEM; err
 * says why. */
SJ_NODISCARD int county_figs_total(
    sqlite3 *db, const county_filter_t *f, county_figs_t *out, char *err, size_t err_size);

/* The figure columns, in order, after the dims of a grouped table:
 * items, persons, open, overdue, concluded, withdrawn, closure_rate
 * (percent, one decimal), median_days_to_close (one decimal), assigned,
 * assigned_concluded, assigned_withdrawn, assigned_closure_rate. */
#define COUNTY_FIGS_NCOLS 22
/* then the rates, sj_rates_names (SJ_RATES_NCOLS), from this column on */
#define COUNTY_FIGS_RATES_AT 12
extern const char *const county_figs_names[COUNTY_FIGS_NCOLS];
/* 1 for the columns that are decimals (the rates and the median; JSON
 * numbers, null when undefined), 0 for counts. */
extern const int county_figs_decimal[COUNTY_FIGS_NCOLS];
/* The cells of figures f (written into bufs; a NULL cell is undefined: a
 * rate or median over no case). */
void county_figs_cells(const county_figs_t *f,
                       char bufs[COUNTY_FIGS_NCOLS][COUNTY_SQL_NUM],
                       const char **cells);

/* The case figures of the matters that pass f, grouped by dims (checked;
 * ever_outcome allowed): *rows (caller owns, sj_table_destroy) gets one row
 * per group, the dims' cells (names, as --by prints them) then the
 * COUNTY_FIGS_NCOLS figures, ordered by the dims, with a total line when
 * there are dims; *total the figures of every matter that passes f (the
 * sum of the groups, or with ever_outcome, where a matter is in several
 * rows, each matter once). SJ_EDB, SJ_EAGAIN, SJ_ENOMEM; err says why. */
SJ_NODISCARD int county_figs_table(sqlite3 *db,
                                   const county_filter_dims_t *dims,
                                   const county_filter_t *f,
                                   sj_table_t **rows,
                                   county_figs_t *total,
                                   char *err,
                                   size_t err_size);

#endif
