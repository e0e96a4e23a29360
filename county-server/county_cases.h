/* county_cases: `county-server cases` and `county-server update` (issue 4,
 * matters as living cases), commands of county_cli.c's table that parse
 * their own arguments: sj_cli runs county_cases_main for either word.
 * Exit 0 ok, 1 failure (refused change), 2 bad usage. */
#ifndef COUNTY_CASES_H
#define COUNTY_CASES_H

#include <getopt.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>

#include "county_store_view.h"
#include "sj_clock.h"
#include "sj_err.h"
#include "sj_table.h"

/* The option table of cases and update (and so the keys of their config
 * sections, sj_cfg.h). main() has put the --config file's keys into argv. */
extern const struct option county_cases_options[];
/* Runs the command; returns the process exit status. */
int county_cases_main(int argc, char **argv);

/* A selection of cases; every field optional (NULL / 0). Filters combine. */
typedef struct {
    const char *township;        /* 9-digit code */
    const char *source;          /* reported source by name; "assigned" = every
                                  * assigned case (an assignments row, or reported
                                  * with source assigned) */
    const char *from, *to;       /* occurred_on, inclusive, YYYY-MM-DD */
    int conflicts_only;          /* only cases listed in conflicts */
    int open_only;               /* only open cases (pending, accepted) */
    int overdue_only;            /* only open cases past their current due date */
    const char *today;           /* YYYY-MM-DD for overdue; NULL = sj_date_today() */
    const sj_periods_t *periods; /* the statutory periods; NULL = the defaults */
    const char *assignee;        /* only cases whose current assignment is to this
                                  * code (a department's page, issue 17) */
    const char *leader;          /* only cases this leader owns (docs/MEETING.md) */
} county_cases_filter_t;

/* Checks a selection: township a 9-digit code, source a known name, dates
 * valid and from <= to. SJ_EINVAL with the reason naming the option. */
SJ_NODISCARD int county_cases_check(const county_cases_filter_t *f, char *err, size_t err_size);

/* The cases cursor: the rows of the cases view (below) one at a time, from
 * one statement, so that csv and json stream in constant memory. */
#define COUNTY_CASES_NCOLS 31
typedef struct county_cases county_cases_t;
/* The column names and types of the view (static). */
const char *const *county_cases_names(void);
const sj_col_type_t *county_cases_types(void);
/* Checks the selection and prepares the statement; db and f (its strings)
 * are borrowed and must outlive the cursor. SJ_OK with *out (caller owns,
 * county_cases_close), SJ_EINVAL (bad selection), SJ_EDB, SJ_EAGAIN,
 * SJ_ENOMEM; err says why. */
SJ_NODISCARD int county_cases_open(
    sqlite3 *db, const county_cases_filter_t *f, county_cases_t **out, char *err, size_t err_size);
/* The next row: SJ_OK with *cells (COUNTY_CASES_NCOLS, borrowed, valid
 * until the next call), SJ_ENOTFOUND after the last, SJ_EDB, SJ_EAGAIN. */
SJ_NODISCARD int
county_cases_next(county_cases_t *self, const char *const **cells, char *err, size_t err_size);
/* NULL-safe; sets *self_p = NULL. */
void county_cases_close(county_cases_t **self_p);

/* The cases view: one row per matter (case_id, station, township, outcome,
 * last_change (UTC, "" when never changed), changes, conflict "yes"/"",
 * occurred_on, category, source (reported), assigned "yes"/"", assignee
 * and due_on of the current assignment (null when none), days_left (due_on
 * minus today in days, for open cases with a due date, else null), overdue
 * "yes"/"", then (issue 15) station_name, township_name and assignee_name:
 * the place names, or the code when it has none),
 * then accept_due, accept_left, conclude_due,
 * conclude_left, review_due, review_left (each stage's due date when it
 * applies; days left while it runs; docs/CLOCK.md) and overdue_what
 * ("acceptance,conclusion,review,assignment": which), satisfaction (a
 * concluded case's evaluation: the latest evaluation event, else the one
 * its conclusion in force carried; null when none), clock_overdue ("yes":
 * a running stage of the statutory clock is past its due date; not yet in
 * `overdue`, the figures or --overdue, which count the 交办 side), owner
 * and portfolio (the leader's ownership in force, docs/MEETING.md; null
 * when none), plus
 * one row per orphan case (status changes
 * whose report is not here: outcome "orphan"; only without a matter filter). Ordered by township,
 * station, case id. Definitions: county_figs.h. Written by county_out_rows from the cases cursor.
 * SJ_EINVAL (bad selection), SJ_EDB, SJ_ENOMEM, SJ_EIO; err says why. */
SJ_NODISCARD int county_cases_query(sqlite3 *db,
                                    const county_cases_filter_t *f,
                                    sj_format_t fmt,
                                    FILE *out,
                                    char *err,
                                    size_t err_size);

/* county_cases_query with only township and conflicts_only; prints the
 * reason of a failure to stderr. */
SJ_NODISCARD int county_cases_write(
    sqlite3 *db, const char *township, int conflicts_only, sj_format_t fmt, FILE *out);

/* update's checks (issue 17: the dashboard's too): a case id, an outcome
 * name (or label) into *outcome, the petitioner's evaluation (issue 16: a
 * name or label, or NULL) into *satisfaction (0 none) and only with a
 * conclusion, note and officer within their sizes. SJ_OK, or SJ_EINVAL
 * with the reason. */
SJ_NODISCARD int county_update_check(const char *id_text,
                                     const char *outcome_name,
                                     const char *satisfaction_name,
                                     int *satisfaction,
                                     const char *note,
                                     const char *officer,
                                     uint8_t id[SJ_ID_BYTES],
                                     int *outcome,
                                     char *err,
                                     size_t err_size);
/* What `update` does, the command's and the dashboard's one way: the checks,
 * then the status change (county_store_update_by, account on the event;
 * NULL for the CLI). SJ_EINVAL a bad value, SJ_EFORBIDDEN refused (no such
 * case, an outcome it may not go to), else a storage error. */
SJ_NODISCARD int county_update_do(county_store_t *st,
                                  const char *id_text,
                                  const char *outcome_name,
                                  const char *satisfaction_name,
                                  const char *note,
                                  const char *officer,
                                  const char *account,
                                  sj_update_result_t *res,
                                  int *outcome,
                                  char *err,
                                  size_t err_size);

#endif
