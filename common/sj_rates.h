/* sj_rates: the four rates of service (issue 16 item 3, docs/CLOCK.md §9),
 * counted once for every tier from a case's clock (sj_clock), its current
 * outcome and its satisfaction. The county (stats --cases, the dashboard,
 * report, report --assessment) and the township hub (its page) add each of
 * their cases with sj_rates_add and print with sj_rate_text.
 *
 * Over a set of cases (the matters a query selects: for a period, those
 * received in it):
 *   timely acceptance   accept_timely / accept_decided: the cases whose
 *                       acceptance decision is made (the acceptance stage
 *                       is done), and of them those decided on or before
 *                       the acceptance due date;
 *   on-time conclusion  conclude_on_time / conclude_done: the cases whose
 *                       conclusion stage is done (accepted, then closed,
 *                       resolved or withdrawn), and of them those done on or
 *                       before the conclusion due date (extensions in);
 *   satisfaction        satisfied / evaluated: the concluded cases (outcome
 *                       now closed or resolved_on_spot) with an evaluation
 *                       满意, 基本满意 or 不满意 (未评价 and none are not
 *                       evaluated), and of them 满意 + 基本满意;
 *   participation       evaluated / concluded.
 * A rate is shown with its numerator and denominator; over 0 it is "—".
 *
 * Thread-safety: every function is reentrant. */
#ifndef SJ_RATES_H
#define SJ_RATES_H

#include <stddef.h>
#include <stdint.h>

#include "sj_clock.h"

typedef struct {
    int64_t accept_timely, accept_decided;
    int64_t conclude_on_time, conclude_done;
    int64_t satisfied, evaluated, concluded;
} sj_rates_t;

/* The rates as columns (after a table's other columns, which hold the
 * concluded count), in this order: each rate follows its counts. */
#define SJ_RATES_NCOLS 10
extern const char *const sj_rates_names[SJ_RATES_NCOLS];
/* 1 for the four rate columns (percent, one decimal; NULL over 0). */
extern const int sj_rates_decimal[SJ_RATES_NCOLS];

/* Adds one case: its clock on today, its current outcome and its
 * satisfaction (0..4, sj_model.h). */
void sj_rates_add(sj_rates_t *r, const sj_clock_t *clk, int outcome, int satisfaction);
/* into += r */
void sj_rates_sum(sj_rates_t *into, const sj_rates_t *r);

/* num * 1000 / den rounded half up, or -1 when den <= 0. */
int sj_rate_permille(int64_t num, int64_t den);
/* "12/15 80.0%", or "0/0 —" when den is 0. */
void sj_rate_text(int64_t num, int64_t den, char *buf, size_t size);
/* The cells of r in sj_rates_names' order, written into bufs (a rate over
 * 0 is a NULL cell). */
void sj_rates_cells(const sj_rates_t *r, char bufs[SJ_RATES_NCOLS][32], const char **cells);

/* Overdue at any stage (docs/CLOCK.md §5): an open case (outcome pending or
 * accepted) whose clock has a running stage past its due date, or whose 交办
 * due date (assign_due, NULL: none) is before today. */
int sj_case_overdue(const sj_clock_t *clk, int outcome, const char *assign_due, const char *today);

#endif
