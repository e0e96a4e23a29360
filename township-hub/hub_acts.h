/* hub_acts: the township's actions that both `township-hub` commands and
 * the township page do (issue 17 item 2), one function each, so that the
 * page and the CLI cannot differ: assign (交办 to a station), update (a
 * status change with a note and the evaluation), extend (延期), correct
 * (更正), void (作废) and approve (审核 a month).
 *
 * Each takes what a person typed (text, NULL = not given), checks it like
 * the CLI does, stores the event with account (Event.account: the page's
 * account; NULL from the CLI) and returns SJ_OK; SJ_EINVAL a bad value (the
 * CLI's exit 2); SJ_EFORBIDDEN refused, nothing stored (exit 1); else a
 * storage error; the reason in err. */
#ifndef HUB_ACTS_H
#define HUB_ACTS_H

#include <stddef.h>

#include "hub_store.h"
#include "sj_clock.h"
#include "sj_ids.h"
#include "sj_update.h"

/* assign's and update's values checked before anything is opened (the
 * first part of hub_assign_do, hub_update_do): SJ_OK or SJ_EINVAL. */
SJ_NODISCARD int hub_assign_check(const char *id_text,
                                  const char *to,
                                  const char *due,
                                  const char *note,
                                  const char *officer,
                                  char *err,
                                  size_t err_size);
SJ_NODISCARD int hub_update_check(const char *id_text,
                                  const char *outcome,
                                  const char *note,
                                  const char *officer,
                                  const char *satisfaction,
                                  int *outcome_value,
                                  int *satisfaction_value,
                                  char *err,
                                  size_t err_size);

/* assign CASE --to STATION --due YYYY-MM-DD [--note T]: a station of this
 * township that the hub has heard of, a due date not in the past. */
SJ_NODISCARD int hub_assign_do(hub_store_t *st,
                               const char *id_text,
                               const char *to,
                               const char *due,
                               const char *note,
                               const char *officer,
                               const char *account,
                               char ev_text[SJ_UUID_TEXT],
                               char *err,
                               size_t err_size);

/* update CASE --outcome O [--note T] [--satisfaction S] (S only with a
 * conclusion); *outcome_value and *res as sj_update_report takes them. */
SJ_NODISCARD int hub_update_do(hub_store_t *st,
                               const char *id_text,
                               const char *outcome,
                               const char *note,
                               const char *officer,
                               const char *satisfaction,
                               const char *account,
                               int *outcome_value,
                               sj_update_result_t *res,
                               char *err,
                               size_t err_size);

/* extend CASE --days N --reason T --approved-by NAME [--stage S], on the
 * periods the hub holds (the county's, sent down; else the defaults); *ev_out (may be NULL) a copy
 * of the stored event, *after the clock with it. */
SJ_NODISCARD int hub_extend_do(hub_store_t *st,
                               const char *id_text,
                               const char *days,
                               const char *reason,
                               const char *approved_by,
                               const char *stage,
                               const char *officer,
                               const char *account,
                               sj_event_t *ev_out,
                               sj_clock_t *after,
                               char ev_text[SJ_UUID_TEXT],
                               char *err,
                               size_t err_size);

/* correct (is_void 0, vals in SJ_FIX_* order) or void CASE --reason T. */
SJ_NODISCARD int hub_fix_do(hub_store_t *st,
                            int is_void,
                            const char *id_text,
                            const char *const vals[SJ_FIX_COUNT],
                            const char *reason,
                            const char *officer,
                            const char *account,
                            char ev_text[SJ_UUID_TEXT],
                            char *err,
                            size_t err_size);

/* approve --month YYYY-MM by officer (an account, or the CLI's --officer
 * or OS user). */
SJ_NODISCARD int hub_approve_do(hub_store_t *st,
                                const char *month,
                                const char *officer,
                                const char *account,
                                char *err,
                                size_t err_size);

#endif
