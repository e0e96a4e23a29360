#include "sj_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sj_case.h"
#include "sj_model.h"

#define SJ_SOURCE_REVIEW 4 /* Source.SOURCE_REVIEW: a request for review (复查) */

void
sj_periods_default(sj_periods_t *p)
{
    p->accept_days = SJ_PERIOD_ACCEPT_DAYS;
    p->conclude_days = SJ_PERIOD_CONCLUDE_DAYS;
    p->review_days = SJ_PERIOD_REVIEW_DAYS;
    p->extend_max = SJ_PERIOD_EXTEND_MAX;
    p->extend_count = SJ_PERIOD_EXTEND_COUNT;
}

int
sj_periods_check(const sj_periods_t *p, char *err, size_t err_size)
{
    const struct {
        const char *name;
        int v, lo, hi;
    } f[] = {
        {"accept-days", p->accept_days, 1, SJ_PERIOD_MAX_DAYS},
        {"conclude-days", p->conclude_days, 1, SJ_PERIOD_MAX_DAYS},
        {"review-days", p->review_days, 1, SJ_PERIOD_MAX_DAYS},
        {"extend-max-days", p->extend_max, 1, SJ_PERIOD_MAX_DAYS},
        {"extend-count", p->extend_count, 0, SJ_PERIOD_MAX_EXT},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (f[i].v < f[i].lo || f[i].v > f[i].hi) {
            snprintf(err, err_size, "%s %d is out of range (%d..%d)", f[i].name, f[i].v, f[i].lo,
                     f[i].hi);
            return SJ_EINVAL;
        }
    }
    return SJ_OK;
}

int
sj_periods_set(sj_periods_t *p, const char *key, const char *text, char *err, size_t err_size)
{
    int *slot = !strcmp(key, "accept-days")       ? &p->accept_days
                : !strcmp(key, "conclude-days")   ? &p->conclude_days
                : !strcmp(key, "review-days")     ? &p->review_days
                : !strcmp(key, "extend-max-days") ? &p->extend_max
                : !strcmp(key, "extend-count")    ? &p->extend_count
                                                  : NULL;
    if (!slot) {
        snprintf(err, err_size, "unknown period --%s", key);
        return SJ_EINVAL;
    }
    int lo = slot == &p->extend_count ? 0 : 1;
    int hi = slot == &p->extend_count ? SJ_PERIOD_MAX_EXT : SJ_PERIOD_MAX_DAYS;
    char *end = NULL;
    long v = text && *text ? strtol(text, &end, 10) : -1;
    if (!text || !*text || *end || v < lo || v > hi) {
        snprintf(err, err_size, "--%s %s: give a whole number %d..%d", key, text ? text : "", lo,
                 hi);
        return SJ_EINVAL;
    }
    *slot = (int) v;
    return SJ_OK;
}

const char *
sj_stage_name(int stage)
{
    switch (stage) {
    case SJ_STAGE_ACCEPT:
        return "acceptance";
    case SJ_STAGE_CONCLUDE:
        return "conclusion";
    case SJ_STAGE_REVIEW:
        return "review";
    default:
        return NULL;
    }
}

const char *
sj_stage_label_zh(int stage)
{
    switch (stage) {
    case SJ_STAGE_ACCEPT:
        return "受理告知";
    case SJ_STAGE_CONCLUDE:
        return "办结";
    case SJ_STAGE_REVIEW:
        return "复查";
    default:
        return NULL;
    }
}

int
sj_stage_parse(const char *text)
{
    if (!text) {
        return SJ_STAGE_NONE;
    }
    if (!strcmp(text, "acceptance") || !strcmp(text, "accept") || !strcmp(text, "受理告知")) {
        return SJ_STAGE_ACCEPT;
    }
    if (!strcmp(text, "conclusion") || !strcmp(text, "conclude") || !strcmp(text, "办结")) {
        return SJ_STAGE_CONCLUDE;
    }
    if (!strcmp(text, "review") || !strcmp(text, "复查")) {
        return SJ_STAGE_REVIEW;
    }
    return SJ_STAGE_NONE;
}

static void
s_start(sj_stage_clock_t *s, const char *day)
{
    memset(s, 0, sizeof *s);
    s->active = 1;
    snprintf(s->start, sizeof s->start, "%s", day);
}

static void
s_done(sj_stage_clock_t *s, const char *day)
{
    if (s->active && !s->done) {
        s->done = 1;
        snprintf(s->done_on, sizeof s->done_on, "%s", day);
    }
}

/* A day the clock can use: the event's, or received when it is not a date
 * (a change whose time could not be read). */
static const char *
s_day(const char *day, const char *received)
{
    return sj_date_valid(day) ? day : received;
}

int
sj_clock_compute(const sj_clock_case_t *c,
                 const sj_periods_t *p,
                 const char *today,
                 sj_clock_t *out)
{
    memset(out, 0, sizeof *out);
    int64_t dummy = 0;
    if (sj_date_days(c->received, &dummy) != SJ_OK || sj_date_days(today, &dummy) != SJ_OK) {
        return SJ_EINVAL;
    }
    sj_stage_clock_t *acc = &out->st[SJ_STAGE_ACCEPT];
    sj_stage_clock_t *con = &out->st[SJ_STAGE_CONCLUDE];
    sj_stage_clock_t *rev = &out->st[SJ_STAGE_REVIEW];
    int cur = c->report_outcome ? c->report_outcome : SJ_OUTCOME_PENDING;
    if (c->report_source == SJ_SOURCE_REVIEW) {
        s_start(rev, c->received); /* a request for review: the review's clock only */
        if (sj_outcome_is_concluded(cur) || cur == SJ_OUTCOME_WITHDRAWN) {
            s_done(rev, c->received);
        }
    } else {
        s_start(acc, c->received);
        if (cur != SJ_OUTCOME_PENDING) {
            s_done(acc, c->received);
        }
        if (cur == SJ_OUTCOME_ACCEPTED) {
            s_start(con, c->received);
        }
    }
    for (size_t i = 0; i < c->n; i++) {
        const sj_clock_ev_t *e = &c->ev[i];
        const char *day = s_day(e->day, c->received);
        if (e->kind == SJ_CLOCK_EXTENSION) {
            if (e->stage < SJ_STAGE_ACCEPT || e->stage > SJ_STAGE_REVIEW) {
                continue;
            }
            sj_stage_clock_t *s = &out->st[e->stage];
            if (s->active && !s->done && s->extensions < p->extend_count && e->days >= 1
                && e->days <= p->extend_max) {
                s->extensions++;
                s->extended += e->days;
            }
            continue;
        }
        if (e->kind != SJ_CLOCK_CHANGE || e->outcome == cur) {
            continue;
        }
        if (cur == SJ_OUTCOME_PENDING) {
            s_done(acc, day);
        }
        if (e->outcome == SJ_OUTCOME_ACCEPTED) {
            if (sj_outcome_is_concluded(cur)) {
                s_start(rev, day); /* a review reopens the case */
            } else if (cur == SJ_OUTCOME_PENDING && !rev->active) {
                s_start(con, day);
            }
        } else if (sj_outcome_is_concluded(e->outcome) || e->outcome == SJ_OUTCOME_WITHDRAWN) {
            if (rev->active && !rev->done) {
                s_done(rev, day);
            } else {
                s_done(con, day);
            }
        }
        cur = e->outcome;
    }
    const int period[SJ_STAGE_N] = {0, p->accept_days, p->conclude_days, p->review_days};
    for (int k = SJ_STAGE_ACCEPT; k <= SJ_STAGE_REVIEW; k++) {
        sj_stage_clock_t *s = &out->st[k];
        if (!s->active) {
            continue;
        }
        if (sj_date_add(s->start, period[k] + s->extended, s->due) != SJ_OK) {
            memcpy(s->due, s->start, sizeof s->due);
        }
        if (s->done) {
            s->late = strcmp(s->done_on, s->due) > 0;
            continue;
        }
        if (sj_date_diff(s->due, today, &s->left) != SJ_OK) {
            s->left = 0;
        }
        s->overdue = s->left < 0;
        out->overdue |= s->overdue;
        out->running = k;
    }
    return SJ_OK;
}

int
sj_clock_extend_check(const sj_clock_t *clk,
                      const sj_periods_t *p,
                      int *stage,
                      int days,
                      char *reason,
                      size_t reason_size)
{
    int k = *stage == SJ_STAGE_NONE ? clk->running : *stage;
    if (k == SJ_STAGE_NONE) {
        snprintf(reason, reason_size,
                 "no stage of this case is running (every decision is made): nothing to extend");
        return SJ_EINVAL;
    }
    if (k < SJ_STAGE_ACCEPT || k > SJ_STAGE_REVIEW) {
        snprintf(reason, reason_size, "unknown stage %d", k);
        return SJ_EINVAL;
    }
    const sj_stage_clock_t *s = &clk->st[k];
    if (!s->active || s->done) {
        snprintf(reason, reason_size, "the %s stage of this case is %s: nothing to extend",
                 sj_stage_name(k), s->done ? "done" : "not started");
        return SJ_EINVAL;
    }
    if (days < 1 || days > p->extend_max) {
        snprintf(reason, reason_size,
                 "--days %d is out of range: an extension is 1..%d days (the county's "
                 "extend-max-days)",
                 days, p->extend_max);
        return SJ_EINVAL;
    }
    if (s->extensions >= p->extend_count) {
        if (p->extend_count == 0) {
            snprintf(reason, reason_size, "the county allows no extension (extend-count 0)");
        } else {
            snprintf(reason, reason_size,
                     "the %s stage was already extended %d time%s (%d days, due %s); the county "
                     "allows %d extension%s per stage (extend-count)",
                     sj_stage_name(k), s->extensions, s->extensions == 1 ? "" : "s", s->extended,
                     s->due, p->extend_count, p->extend_count == 1 ? "" : "s");
        }
        return SJ_EINVAL;
    }
    *stage = k;
    return SJ_OK;
}

void
sj_clock_overdue_what(const sj_clock_t *clk, int assign_overdue, char *out, size_t size)
{
    size_t l = 0;
    out[0] = '\0';
    for (int k = SJ_STAGE_ACCEPT; k <= SJ_STAGE_REVIEW && l < size; k++) {
        if (clk->st[k].overdue) {
            snprintf(out + l, size - l, "%s%s", l ? "," : "", sj_stage_name(k));
            l = strlen(out);
        }
    }
    if (assign_overdue && l < size) {
        snprintf(out + l, size - l, "%sassignment", l ? "," : "");
    }
}

static int
s_ev_same(const sj_clock_ev_t *x, const sj_clock_ev_t *y)
{
    return x->kind == y->kind && strcmp(x->day, y->day) == 0 && x->outcome == y->outcome
           && x->stage == y->stage && x->days == y->days;
}

size_t
sj_clock_ev_union(
    const sj_clock_ev_t *a, size_t na, const sj_clock_ev_t *b, size_t nb, sj_clock_ev_t *out)
{
    size_t n = 0, i = 0, j = 0;
    while (i < na || j < nb) {
        const sj_clock_ev_t *next;
        if (j >= nb || (i < na && strcmp(a[i].day, b[j].day) <= 0)) {
            next = &a[i++];
        } else {
            next = &b[j++];
        }
        int seen = 0;
        for (size_t k = n; k-- > 0 && strcmp(out[k].day, next->day) == 0;) {
            seen |= s_ev_same(&out[k], next);
        }
        if (!seen) {
            out[n++] = *next;
        }
    }
    return n;
}
