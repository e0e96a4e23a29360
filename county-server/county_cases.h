/* county_cases: `county-server cases` and `county-server update` (issue 4,
 * matters as living cases), a small hook in county_main like county_cli:
 * main asks county_cases_handles() and, when it says yes, returns
 * county_cases_main(). Exit 0 ok, 1 failure (refused change), 2 bad usage. */
#ifndef COUNTY_CASES_H
#define COUNTY_CASES_H

#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>

#include "sj_err.h"
#include "sj_table.h"

/* True when argv's command word is cases or update. */
int county_cases_handles(int argc, char *const *argv);

/* The option table of cases and update (and so the keys of their config
 * sections, sj_cfg.h). main() has put the --config file's keys into argv. */
extern const struct option county_cases_options[];
/* Runs the command; returns the process exit status. */
int county_cases_main(int argc, char **argv);

/* The cases view: one row per matter (case_id, station, township, outcome,
 * last_change (UTC, "" when never changed), changes, conflict "yes"/""),
 * plus one row per orphan case (status changes whose report is not here:
 * outcome "orphan"). township: 9-digit filter or NULL; conflicts_only: only
 * cases listed in conflicts. Ordered by township, station, case id. */
SJ_NODISCARD int county_cases_write(sqlite3 *db, const char *township, int conflicts_only,
                                    sj_format_t fmt, FILE *out);

#endif
