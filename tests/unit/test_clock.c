/* The statutory clock of a case (docs/CLOCK.md): due dates per stage,
 * extensions within the county's periods, overdue on a given today. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sj_case.h"
#include "sj_clock.h"
#include "sj_model.h"

static sj_clock_ev_t
s_change(const char *day, int outcome)
{
    sj_clock_ev_t e = {.kind = SJ_CLOCK_CHANGE, .outcome = outcome};
    snprintf(e.day, sizeof e.day, "%s", day);
    return e;
}

static sj_clock_ev_t
s_ext(const char *day, int stage, int days)
{
    sj_clock_ev_t e = {.kind = SJ_CLOCK_EXTENSION, .stage = stage, .days = days};
    snprintf(e.day, sizeof e.day, "%s", day);
    return e;
}

static void
s_on(const sj_clock_case_t *c, const sj_periods_t *p, const char *today, sj_clock_t *k)
{
    assert_int_equal(sj_clock_compute(c, p, today, k), SJ_OK);
}

/* The scenario: accepted on day 0 (2026-01-01) -> due day 60,
 * overdue day 61; an extension of 30 approved on day 50 -> day 90; a second
 * extension beyond the limit is refused with the reason. */
static void
test_clock_conclusion(void **state)
{
    (void) state;
    sj_periods_t p;
    sj_periods_default(&p);
    sj_clock_ev_t ev[4];
    ev[0] = s_change("2026-01-01", SJ_OUTCOME_ACCEPTED);
    sj_clock_case_t c = {.received = "2025-12-28",
                         .report_outcome = SJ_OUTCOME_PENDING,
                         .report_source = 1,
                         .ev = ev,
                         .n = 1};
    sj_clock_t k;
    s_on(&c, &p, "2026-01-01", &k);
    assert_true(k.st[SJ_STAGE_ACCEPT].done);
    assert_string_equal(k.st[SJ_STAGE_ACCEPT].due, "2026-01-12");
    assert_false(k.st[SJ_STAGE_ACCEPT].late);
    assert_int_equal(k.running, SJ_STAGE_CONCLUDE);
    assert_string_equal(k.st[SJ_STAGE_CONCLUDE].due, "2026-03-02"); /* day 60 */
    assert_int_equal(k.st[SJ_STAGE_CONCLUDE].left, 60);
    s_on(&c, &p, "2026-03-02", &k); /* day 60: due today, not overdue */
    assert_int_equal(k.st[SJ_STAGE_CONCLUDE].left, 0);
    assert_false(k.overdue);
    s_on(&c, &p, "2026-03-03", &k); /* day 61 */
    assert_int_equal(k.st[SJ_STAGE_CONCLUDE].left, -1);
    assert_true(k.st[SJ_STAGE_CONCLUDE].overdue);
    assert_true(k.overdue);

    /* day 50: an extension of 30 days is allowed and moves the due date */
    s_on(&c, &p, "2026-02-20", &k);
    int stage = SJ_STAGE_NONE;
    char why[256];
    assert_int_equal(sj_clock_extend_check(&k, &p, &stage, 30, why, sizeof why), SJ_OK);
    assert_int_equal(stage, SJ_STAGE_CONCLUDE);
    ev[1] = s_ext("2026-02-20", SJ_STAGE_CONCLUDE, 30);
    c.n = 2;
    s_on(&c, &p, "2026-03-03", &k);
    assert_string_equal(k.st[SJ_STAGE_CONCLUDE].due, "2026-04-01"); /* day 90 */
    assert_false(k.overdue);
    assert_int_equal(k.st[SJ_STAGE_CONCLUDE].left, 29);
    s_on(&c, &p, "2026-04-02", &k);
    assert_true(k.overdue);

    /* a second extension: once per stage by default */
    stage = SJ_STAGE_NONE;
    assert_int_equal(sj_clock_extend_check(&k, &p, &stage, 10, why, sizeof why), SJ_EINVAL);
    assert_non_null(strstr(why, "already extended 1 time (30 days, due 2026-04-01)"));
    assert_non_null(strstr(why, "allows 1 extension per stage"));
    /* more days than the maximum */
    p.extend_count = 2;
    stage = SJ_STAGE_NONE;
    assert_int_equal(sj_clock_extend_check(&k, &p, &stage, 31, why, sizeof why), SJ_EINVAL);
    assert_non_null(strstr(why, "1..30 days"));
    assert_int_equal(sj_clock_extend_check(&k, &p, &stage, 5, why, sizeof why), SJ_OK);
    /* an extension beyond the limit that arrives anyway (another node)
     * does not count */
    p.extend_count = 1;
    ev[2] = s_ext("2026-03-01", SJ_STAGE_CONCLUDE, 10);
    c.n = 3;
    s_on(&c, &p, "2026-03-03", &k);
    assert_string_equal(k.st[SJ_STAGE_CONCLUDE].due, "2026-04-01");
    assert_int_equal(k.st[SJ_STAGE_CONCLUDE].extensions, 1);

    /* closed on day 95: done, late */
    ev[3] = s_change("2026-04-06", SJ_OUTCOME_CLOSED);
    c.n = 4;
    s_on(&c, &p, "2026-05-01", &k);
    assert_true(k.st[SJ_STAGE_CONCLUDE].done);
    assert_true(k.st[SJ_STAGE_CONCLUDE].late);
    assert_false(k.overdue);
    assert_int_equal(k.running, SJ_STAGE_NONE);
    stage = SJ_STAGE_NONE;
    assert_int_equal(sj_clock_extend_check(&k, &p, &stage, 5, why, sizeof why), SJ_EINVAL);
    assert_non_null(strstr(why, "no stage of this case is running"));
}

/* Acceptance: received + 15; a pending case is overdue on day 16. A review
 * (a report of source review, or a reopening) runs 30 days. */
static void
test_clock_accept_review(void **state)
{
    (void) state;
    sj_periods_t p;
    sj_periods_default(&p);
    sj_clock_case_t c = {.received = "2026-01-01", .report_outcome = SJ_OUTCOME_PENDING};
    sj_clock_t k;
    s_on(&c, &p, "2026-01-16", &k);
    assert_int_equal(k.running, SJ_STAGE_ACCEPT);
    assert_string_equal(k.st[SJ_STAGE_ACCEPT].due, "2026-01-16");
    assert_false(k.overdue);
    s_on(&c, &p, "2026-01-17", &k);
    assert_true(k.st[SJ_STAGE_ACCEPT].overdue);
    assert_false(k.st[SJ_STAGE_CONCLUDE].active);

    /* resolved on the spot when reported: nothing runs */
    c.report_outcome = SJ_OUTCOME_RESOLVED_ON_SPOT;
    s_on(&c, &p, "2026-06-01", &k);
    assert_int_equal(k.running, SJ_STAGE_NONE);
    assert_false(k.overdue);
    /* ... and reopened (复查) on 2026-02-01: the review is due 30 days on */
    sj_clock_ev_t ev[2] = {s_change("2026-02-01", SJ_OUTCOME_ACCEPTED),
                           s_change("2026-03-01", SJ_OUTCOME_CLOSED)};
    c.ev = ev;
    c.n = 1;
    s_on(&c, &p, "2026-03-04", &k);
    assert_int_equal(k.running, SJ_STAGE_REVIEW);
    assert_string_equal(k.st[SJ_STAGE_REVIEW].due, "2026-03-03");
    assert_true(k.overdue);
    assert_false(k.st[SJ_STAGE_CONCLUDE].active);
    c.n = 2;
    s_on(&c, &p, "2026-03-04", &k);
    assert_true(k.st[SJ_STAGE_REVIEW].done);
    assert_false(k.st[SJ_STAGE_REVIEW].late);
    assert_false(k.overdue);

    /* a report of source review */
    sj_clock_case_t r = {
        .received = "2026-01-01", .report_outcome = SJ_OUTCOME_PENDING, .report_source = 4};
    s_on(&r, &p, "2026-02-01", &k);
    assert_int_equal(k.running, SJ_STAGE_REVIEW);
    assert_int_equal(k.st[SJ_STAGE_REVIEW].left, -1);
    assert_false(k.st[SJ_STAGE_ACCEPT].active);

    /* the county's own periods */
    p.accept_days = 7;
    c.report_outcome = SJ_OUTCOME_PENDING;
    c.n = 0;
    s_on(&c, &p, "2026-01-01", &k);
    assert_string_equal(k.st[SJ_STAGE_ACCEPT].due, "2026-01-08");
    char err[128];
    p.accept_days = 0;
    assert_int_equal(sj_periods_check(&p, err, sizeof err), SJ_EINVAL);
    assert_string_equal(err, "accept-days 0 is out of range (1..365)");
    assert_int_equal(sj_clock_compute(&c, &p, "2026-02-30", &k), SJ_EINVAL);
    assert_int_equal(sj_stage_parse("conclusion"), SJ_STAGE_CONCLUDE);
    assert_int_equal(sj_stage_parse("复查"), SJ_STAGE_REVIEW);
    assert_int_equal(sj_stage_parse("x"), SJ_STAGE_NONE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_conclusion),
        cmocka_unit_test(test_clock_accept_review),
    };
    return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
