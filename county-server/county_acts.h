/* county_acts: the county's actions that both the command line and the
 * dashboard do (issue 17 item 2), one function each, so that the page and
 * the CLI cannot differ: extend (延期), correct (更正), void (作废),
 * evaluate (满意度) and lock (锁定). assign and update have theirs in
 * county_assign.h and county_cases.h.
 *
 * Each takes what a person typed (text, NULL = not given), checks it like
 * the CLI does, stores the event with account (Event.account: the page's
 * account; NULL from the CLI) and returns SJ_OK with the event's id; SJ_EINVAL
 * a bad value (the CLI's exit 2); SJ_EFORBIDDEN refused by the store, nothing
 * stored (exit 1); else a storage error; the reason in err. */
#ifndef COUNTY_ACTS_H
#define COUNTY_ACTS_H

#include <stddef.h>

#include "county_store.h"
#include "sj_clock.h"
#include "sj_ids.h"
#include "sj_update.h"

/* extend CASE --days N --reason T --approved-by NAME [--stage S] under the
 * periods p (NULL: the ones the county holds, sj_periods_db.h) on today's
 * date; *ev_out (may be NULL) gets a copy of the
 * stored event (its stage, days), *after the case's clock with it. */
SJ_NODISCARD int county_extend_do(county_store_t *st,
                                  const char *id_text,
                                  const char *days,
                                  const char *reason,
                                  const char *approved_by,
                                  const char *stage,
                                  const char *officer,
                                  const char *account,
                                  const sj_periods_t *p,
                                  sj_event_t *ev_out,
                                  sj_clock_t *after,
                                  char ev_text[SJ_UUID_TEXT],
                                  char *err,
                                  size_t err_size);

/* correct (is_void 0: vals in SJ_FIX_* order, at least one) or void
 * (is_void 1) CASE --reason T. */
SJ_NODISCARD int county_fix_do(county_store_t *st,
                               int is_void,
                               const char *id_text,
                               const char *const vals[SJ_FIX_COUNT],
                               const char *reason,
                               const char *officer,
                               const char *account,
                               char ev_text[SJ_UUID_TEXT],
                               char *err,
                               size_t err_size);

/* evaluate CASE --satisfaction S [--note T]; *value gets the satisfaction
 * (1..4). */
SJ_NODISCARD int county_evaluate_do(county_store_t *st,
                                    const char *id_text,
                                    const char *satisfaction,
                                    const char *note,
                                    const char *officer,
                                    const char *account,
                                    int *value,
                                    char ev_text[SJ_UUID_TEXT],
                                    char *err,
                                    size_t err_size);

/* lock --month YYYY-MM | --year YYYY (one of them) by who (an account, or
 * the CLI's --officer or OS user, at most SJ_MAX_OFFICER_BYTES). */
SJ_NODISCARD int county_lock_do(county_store_t *st,
                                const char *month,
                                const char *year,
                                const char *who,
                                char *err,
                                size_t err_size);

#endif
