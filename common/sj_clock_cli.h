/* sj_clock_cli: the command-line side of the clock (docs/CLOCK.md) that
 * county-server and township-hub share: the periods from their options
 * (config keys), and an extension event from `extend`'s options. */
#ifndef SJ_CLOCK_CLI_H
#define SJ_CLOCK_CLI_H

#include "sj_cli.h"
#include "sj_clock.h"
#include "sj_wire.h"

/* The option ids of the periods, in the order of SJ_PERIOD_KEYS (0: the
 * tool has no such option). */
typedef struct {
    int ids[5];
} sj_clock_cli_ids_t;

/* The periods: the defaults, then each option given. 0, or 2 after saying
 * "TOOL: --KEY V: give a whole number LO..HI" on stderr. */
int sj_clock_cli_periods(const sj_cli_args_t *a, const sj_clock_cli_ids_t *ids, sj_periods_t *p);

/* The periods from getopt values (a command with its own option table):
 * vals in the order of SJ_PERIOD_KEYS, NULL = not given. 0 or 2 (said). */
int sj_clock_cli_periods_vals(const char *tool, const char *const vals[5], sj_periods_t *p);

/* The same over base (the periods a store holds, sj_periods_db.h)
 * instead of the defaults. */
int sj_clock_cli_periods_on(const sj_cli_args_t *a,
                            const sj_clock_cli_ids_t *ids,
                            const sj_periods_t *base,
                            sj_periods_t *p);
int sj_clock_cli_periods_over(const char *tool,
                              const char *const vals[5],
                              const sj_periods_t *base,
                              sj_periods_t *p);

/* extend CASE-ID --days N --reason T --approved-by NAME [--stage S]
 * [--officer X]: a new extension event (free() it), ext_stage 0 when
 * --stage is not given. NULL after saying why on stderr, with *code the
 * exit status: 2 bad usage, 1 out of memory. */
sj_event_t *sj_clock_cli_extension(const sj_cli_args_t *a,
                                   int days_id,
                                   int reason_id,
                                   int approved_id,
                                   int stage_id,
                                   int officer_id,
                                   int *code);

/* An extension event from what a person typed (the CLI's options or the
 * page's form, the same checks): days 1..SJ_PERIOD_MAX_DAYS, the reason and
 * the approving head (required), the stage (NULL or "": the one running),
 * the officer (may be NULL). SJ_OK, or SJ_EINVAL with err naming what was
 * wrong (the option as --name). */
int sj_clock_extension_fill(sj_event_t *ev,
                            const char *case_id,
                            const char *days_text,
                            const char *reason,
                            const char *approved,
                            const char *stage_text,
                            const char *officer,
                            char *err,
                            size_t err_size);

/* What `extend` prints: the event id on stdout; on stderr the stage, the
 * days and the new due date ("case ID: conclusion extended by 30 days,
 * due 2026-04-01 (延期 ...)"). */
void sj_clock_cli_report(const char *tool,
                         const char *id_text,
                         const sj_event_t *ev,
                         const sj_clock_t *after,
                         const char *where);

#endif
