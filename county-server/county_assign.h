/* county_assign: `county-server assign` (issue 4, 交办), a command of
 * county_cli.c's table that parses its own arguments: sj_cli runs
 * county_assign_main. Exit 0 ok, 1 refused or failed (nothing stored),
 * 2 bad usage. */
#ifndef COUNTY_ASSIGN_H
#define COUNTY_ASSIGN_H

#include <getopt.h>
#include <stddef.h>

#include "county_store.h"
#include "sj_ids.h"
#include "sj_model.h"

/* assign's option table (also the keys of [assign] in the config file). */
extern const struct option county_assign_options[];
/* The checks of assign's values before anything is opened: a case id, a
 * 9-digit township (or department) or 12-digit station code, a date, note
 * and officer within their sizes. SJ_OK, or SJ_EINVAL with the reason. */
SJ_NODISCARD int county_assign_check(const char *id_text,
                                     const char *to,
                                     const char *due,
                                     const char *note,
                                     const char *officer,
                                     char *err,
                                     size_t err_size);
/* What assign does, the command's and the dashboard's (issue 17) one way:
 * the checks above, a due date not in the past, then county_store_assign
 * with account (the page's account on the event, Event.account; NULL for
 * the CLI). SJ_OK with the event's id and the child it is queued for;
 * SJ_EINVAL a bad value; SJ_EFORBIDDEN refused (due date in the past, no
 * such matter, a code not under the county, a closed case); else a
 * storage error; the reason in err. */
SJ_NODISCARD int county_assign_do(county_store_t *st,
                                  const char *id_text,
                                  const char *to,
                                  const char *due,
                                  const char *note,
                                  const char *officer,
                                  const char *account,
                                  char ev_text[SJ_UUID_TEXT],
                                  char via[SJ_CODE_MAX + 1],
                                  char *err,
                                  size_t err_size);
/* Runs the command; returns the process exit status. */
int county_assign_main(int argc, char **argv);

#endif
