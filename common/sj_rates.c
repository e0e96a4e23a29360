#include "sj_rates.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sj_case.h"
#include "sj_model.h"

const char *const sj_rates_names[SJ_RATES_NCOLS] = {
    "accepted_timely",   "acceptance_decided", "timely_acceptance_rate",
    "concluded_on_time", "conclusion_done",    "on_time_conclusion_rate",
    "satisfied",         "evaluated",          "satisfaction_rate",
    "participation_rate"};
const int sj_rates_decimal[SJ_RATES_NCOLS] = {0, 0, 1, 0, 0, 1, 0, 0, 1, 1};

void
sj_rates_add(sj_rates_t *r, const sj_clock_t *clk, int outcome, int satisfaction)
{
    const sj_stage_clock_t *acc = &clk->st[SJ_STAGE_ACCEPT];
    const sj_stage_clock_t *con = &clk->st[SJ_STAGE_CONCLUDE];
    if (acc->active && acc->done) {
        r->accept_decided++;
        r->accept_timely += !acc->late;
    }
    if (con->active && con->done) {
        r->conclude_done++;
        r->conclude_on_time += !con->late;
    }
    if (sj_outcome_is_concluded(outcome)) {
        r->concluded++;
        if (satisfaction >= 1 && satisfaction <= 3) {
            r->evaluated++;
            r->satisfied += satisfaction <= 2;
        }
    }
}

void
sj_rates_sum(sj_rates_t *into, const sj_rates_t *r)
{
    into->accept_timely += r->accept_timely;
    into->accept_decided += r->accept_decided;
    into->conclude_on_time += r->conclude_on_time;
    into->conclude_done += r->conclude_done;
    into->satisfied += r->satisfied;
    into->evaluated += r->evaluated;
    into->concluded += r->concluded;
}

int
sj_rate_permille(int64_t num, int64_t den)
{
    if (den <= 0 || num < 0) {
        return -1;
    }
    return (int) ((num * 2000 + den) / (2 * den));
}

void
sj_rate_text(int64_t num, int64_t den, char *buf, size_t size)
{
    int pm = sj_rate_permille(num, den);
    if (pm < 0) {
        snprintf(buf, size, "%" PRId64 "/%" PRId64 " —", num, den);
    } else {
        snprintf(buf, size, "%" PRId64 "/%" PRId64 " %d.%d%%", num, den, pm / 10, pm % 10);
    }
}

static const char *
s_rate_cell(int64_t num, int64_t den, char *buf)
{
    int pm = sj_rate_permille(num, den);
    if (pm < 0) {
        return NULL;
    }
    snprintf(buf, 32, "%d.%d", pm / 10, pm % 10);
    return buf;
}

void
sj_rates_cells(const sj_rates_t *r, char bufs[SJ_RATES_NCOLS][32], const char **cells)
{
    const int64_t n[SJ_RATES_NCOLS] = {r->accept_timely,
                                       r->accept_decided,
                                       0,
                                       r->conclude_on_time,
                                       r->conclude_done,
                                       0,
                                       r->satisfied,
                                       r->evaluated,
                                       0,
                                       0};
    for (int i = 0; i < SJ_RATES_NCOLS; i++) {
        snprintf(bufs[i], 32, "%" PRId64, n[i]);
        cells[i] = bufs[i];
    }
    cells[2] = s_rate_cell(r->accept_timely, r->accept_decided, bufs[2]);
    cells[5] = s_rate_cell(r->conclude_on_time, r->conclude_done, bufs[5]);
    cells[8] = s_rate_cell(r->satisfied, r->evaluated, bufs[8]);
    cells[9] = s_rate_cell(r->evaluated, r->concluded, bufs[9]);
}

int
sj_case_overdue(const sj_clock_t *clk, int outcome, const char *assign_due, const char *today)
{
    if (!sj_outcome_is_open(outcome)) {
        return 0;
    }
    if (clk && clk->overdue) {
        return 1;
    }
    return assign_due && today && strcmp(assign_due, today) < 0;
}
