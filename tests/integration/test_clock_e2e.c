/* The statutory clock of a case (issue 16, docs/CLOCK.md), end to end
 * station -> hub -> county on a clock the test controls (SANJI_TODAY,
 * never the wall clock): a case accepted on day 0 is due on day 60 and
 * overdue on day 61; an extension of 30 days approved on day 50 moves it to
 * day 90; a second extension beyond the limit is refused with the reason;
 * the extension is in the case's history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define T100 "230523100"
#define ST_A T100 "201"

#define DAY0  "2026-01-01"
#define DAY50 "2026-02-20"
#define DAY60 "2026-03-02"
#define DAY61 "2026-03-03"
#define DAY90 "2026-04-01"
#define DAY91 "2026-04-02"

static int
s_setup(void **state)
{
    *state = h_env_new("clock");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    unsetenv("SANJI_TODAY");
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

static void
s_today(const char *day)
{
    assert_int_equal(setenv("SANJI_TODAY", day, 1), 0);
}

/* cases --format json of the county on day: the row of case id (copied). */
static char *
s_case_row(h_node_t *county, const char *day, const char *id, const char *const extra[])
{
    s_today(day);
    const char *args[8] = {"--format", "json"};
    int n = 2;
    for (int i = 0; extra && extra[i] && n < 7; i++) {
        args[n++] = extra[i];
    }
    args[n] = NULL;
    h_result_t r;
    assert_int_equal(h_tool(county, "cases", args, &r), 0);
    const char *at = strstr(r.out, id);
    char *row = NULL;
    if (at) {
        const char *end = strchr(at, '}');
        assert_non_null(end);
        row = strndup(at, (size_t) (end - at));
    }
    h_result_free(&r);
    return row;
}

static void
s_has(const char *row, const char *what)
{
    if (!row || !strstr(row, what)) {
        fprintf(stderr, "# row: %s\n# wanted: %s\n", row ? row : "(none)", what);
    }
    assert_non_null(row);
    assert_non_null(strstr(row, what));
}

static void
test_clock_extension(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, ST_A, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);

    /* Day 0: reported (received) and accepted at the county. */
    s_today(DAY0);
    const char *sub[] = {"submit",         "--channel", "visit",     "--level", "county",
                         "--category",     "land",      "--persons", "2",       "--summary",
                         "承包地边界纠纷", "--wait",    "0",         NULL};
    h_result_t r;
    assert_int_equal(h_agent(st, sub, &r, h_ms(30000)), 0);
    char id[64];
    snprintf(id, sizeof id, "%.*s", (int) strcspn(r.out, "\n"), r.out);
    h_result_free(&r);
    const char *sync[] = {"sync", "--timeout", "60", "--until-county", NULL};
    assert_int_equal(h_agent(st, sync, &r, h_ms(90000)), 0);
    h_result_free(&r);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM matters", 1, 1, h_ms(30000)), 1);

    char *row = s_case_row(county, DAY0, id, NULL);
    s_has(row, "\"occurred_on\":\"" DAY0 "\"");
    s_has(row, "\"accept_due\":\"2026-01-16\",\"accept_left\":15");
    s_has(row, "\"conclude_due\":null");
    free(row);
    /* not decided on day 16: the acceptance stage is overdue */
    row = s_case_row(county, "2026-01-17", id, NULL);
    s_has(row, "\"clock_overdue\":\"yes\"");
    s_has(row, "\"overdue_what\":\"acceptance\"");
    free(row);

    s_today(DAY0);
    const char *acc[] = {id, "--outcome", "accepted", "--note", "受理", NULL};
    assert_int_equal(h_tool(county, "update", acc, &r), 0);
    h_result_free(&r);

    /* Day 60: due today, not overdue; day 61: overdue. */
    row = s_case_row(county, DAY60, id, NULL);
    s_has(row, "\"accept_due\":\"2026-01-16\",\"accept_left\":null");
    s_has(row, "\"conclude_due\":\"" DAY60 "\",\"conclude_left\":0");
    s_has(row, "\"clock_overdue\":\"\"");
    free(row);
    row = s_case_row(county, DAY61, id, NULL);
    s_has(row, "\"conclude_left\":-1");
    s_has(row, "\"clock_overdue\":\"yes\"");
    s_has(row, "\"overdue_what\":\"conclusion\"");
    free(row);
    /* overdue at any stage (statutory or 交办): --overdue lists it */
    const char *overdue[] = {"--overdue", NULL};
    row = s_case_row(county, DAY61, id, overdue);
    s_has(row, "\"overdue\":\"yes\"");
    free(row);
    row = s_case_row(county, DAY60, id, overdue);
    assert_null(row);

    /* Bad usage: exit 2, nothing stored. */
    s_today(DAY50);
    const char *no_head[] = {id, "--days", "30", "--reason", "需补充调查", NULL};
    assert_int_equal(h_tool(county, "extend", no_head, &r), 2);
    assert_non_null(strstr(r.err, "needs --approved-by"));
    h_result_free(&r);
    const char *too_long[] = {id,           "--days",        "31",     "--reason",
                              "需补充调查", "--approved-by", "张县长", NULL};
    assert_int_equal(h_tool(county, "extend", too_long, &r), 1);
    assert_non_null(strstr(r.err, "1..30 days"));
    h_result_free(&r);

    /* Day 50: 30 days approved -> due day 90. */
    const char *ext[] = {id,       "--days",    "30",   "--reason", "需补充调查", "--approved-by",
                         "张县长", "--officer", "李四", NULL};
    assert_int_equal(h_tool(county, "extend", ext, &r), 0);
    assert_non_null(strstr(r.err, "conclusion stage extended by 30 days"));
    assert_non_null(strstr(r.err, "due " DAY90));
    h_result_free(&r);
    row = s_case_row(county, DAY61, id, NULL);
    s_has(row, "\"conclude_due\":\"" DAY90 "\",\"conclude_left\":29");
    s_has(row, "\"clock_overdue\":\"\"");
    free(row);
    row = s_case_row(county, DAY91, id, NULL);
    s_has(row, "\"clock_overdue\":\"yes\"");
    free(row);

    /* A second extension: refused with the reason (once per stage). */
    s_today(DAY60);
    const char *again[] = {id, "--days", "10", "--reason", "再延", "--approved-by", "张县长", NULL};
    assert_int_equal(h_tool(county, "extend", again, &r), 1);
    assert_non_null(strstr(r.err, "already extended 1 time (30 days, due " DAY90 ")"));
    assert_non_null(strstr(r.err, "allows 1 extension per stage"));
    h_result_free(&r);
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM extensions"), 1);

    /* The history shows it. */
    const char *show[] = {id, "--format", "json", NULL};
    assert_int_equal(h_tool(county, "show", show, &r), 0);
    assert_non_null(strstr(r.out, "\"type\":\"extension\""));
    assert_non_null(
        strstr(r.out, "\"stage\":\"conclusion\",\"days\":30,\"approved_by\":\"张县长\""));
    h_result_free(&r);
    const char *show_t[] = {id, NULL};
    assert_int_equal(h_tool(county, "show", show_t, &r), 0);
    assert_non_null(strstr(r.out, "延期 extension"));
    assert_non_null(strstr(r.out, "需补充调查"));
    h_result_free(&r);

    /* Closed on day 95: done late, not overdue; nothing left to extend. */
    s_today("2026-04-06");
    const char *sat_open[] = {id, "--outcome", "withdrawn", "--satisfaction", "满意", NULL};
    assert_int_equal(h_tool(county, "update", sat_open, &r), 2);
    assert_non_null(strstr(r.err, "--satisfaction goes with a conclusion"));
    h_result_free(&r);
    const char *eval_open[] = {id, "--satisfaction", "满意", NULL};
    assert_int_equal(h_tool(county, "evaluate", eval_open, &r), 1);
    assert_non_null(strstr(r.err, "is accepted: the petitioner evaluates a concluded case"));
    h_result_free(&r);
    const char *close[] = {id, "--outcome", "closed", "--satisfaction", "满意", NULL};
    assert_int_equal(h_tool(county, "update", close, &r), 0);
    h_result_free(&r);
    row = s_case_row(county, "2026-05-01", id, NULL);
    s_has(row, "\"conclude_due\":\"" DAY90 "\",\"conclude_left\":null");
    s_has(row, "\"clock_overdue\":\"\"");
    s_has(row, "\"satisfaction\":\"satisfied\"");
    free(row);

    /* Satisfaction (issue 16 item 2): a later evaluation replaces it. */
    const char *bad_sat[] = {id, "--satisfaction", "很好", NULL};
    assert_int_equal(h_tool(county, "evaluate", bad_sat, &r), 2);
    assert_non_null(strstr(r.err, "--satisfaction '很好'"));
    h_result_free(&r);
    const char *eval[] = {id, "--satisfaction", "不满意", "--note", "回访：对结果不满意", NULL};
    assert_int_equal(h_tool(county, "evaluate", eval, &r), 0);
    h_result_free(&r);
    row = s_case_row(county, "2026-05-01", id, NULL);
    s_has(row, "\"satisfaction\":\"dissatisfied\"");
    free(row);
    assert_int_equal(h_tool(county, "show", show, &r), 0);
    assert_non_null(strstr(r.out, "\"type\":\"evaluation\""));
    assert_non_null(strstr(r.out, "\"satisfaction\":\"dissatisfied\""));
    h_result_free(&r);

    /* The township: its own extension of another case of its station, seen
     * in the hub's cases and forwarded to the county. */
    s_today(DAY0);
    assert_int_equal(h_agent(st, sub, &r, h_ms(30000)), 0);
    char id2[64];
    snprintf(id2, sizeof id2, "%.*s", (int) strcspn(r.out, "\n"), r.out);
    h_result_free(&r);
    assert_int_equal(h_agent(st, sync, &r, h_ms(90000)), 0);
    h_result_free(&r);
    assert_int_equal(h_wait_db(hub, "SELECT count(*) FROM reports", 2, 2, h_ms(30000)), 2);
    const char *acc2[] = {id2, "--outcome", "accepted", NULL};
    assert_int_equal(h_tool(hub, "update", acc2, &r), 0);
    h_result_free(&r);
    s_today(DAY50);
    const char *ext2[] = {id2,        "--days",        "20",     "--reason",
                          "乡镇延期", "--approved-by", "王乡长", NULL};
    assert_int_equal(h_tool(hub, "extend", ext2, &r), 0);
    assert_non_null(strstr(r.err, "due 2026-03-22"));
    h_result_free(&r);
    assert_int_equal(h_tool(hub, "extend", ext2, &r), 1);
    assert_non_null(strstr(r.err, "already extended 1 time"));
    h_result_free(&r);
    s_today(DAY61);
    const char *hub_cases[] = {"--format", "json", NULL};
    assert_int_equal(h_tool(hub, "cases", hub_cases, &r), 0);
    row = strstr(r.out, id2);
    s_has(row, "\"conclude_due\":\"2026-03-22\",\"conclude_left\":19");
    h_result_free(&r);
    s_today("2026-03-23");
    assert_int_equal(h_tool(hub, "cases", hub_cases, &r), 0);
    row = strstr(r.out, id2);
    s_has(row, "\"overdue_what\":\"conclusion\",\"clock_overdue\":\"yes\"");
    h_result_free(&r);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM extensions", 2, 2, h_ms(30000)), 2);
    row = s_case_row(county, DAY61, id2, NULL);
    s_has(row, "\"conclude_due\":\"2026-03-22\"");
    free(row);

    /* The township concludes it with the petitioner's evaluation; the
     * county shows it once the change arrives. */
    s_today("2026-03-10");
    const char *close2[] = {id2, "--outcome", "closed", "--satisfaction", "基本满意", NULL};
    assert_int_equal(h_tool(hub, "update", close2, &r), 0);
    h_result_free(&r);
    const char *close2_bad[] = {id2, "--outcome", "accepted", "--satisfaction", "满意", NULL};
    assert_int_equal(h_tool(hub, "update", close2_bad, &r), 2);
    h_result_free(&r);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM status_changes WHERE satisfaction = 2",
                               1, 1, h_ms(30000)),
                     1);
    row = s_case_row(county, "2026-03-10", id2, NULL);
    s_has(row, "\"outcome\":\"closed\"");
    s_has(row, "\"satisfaction\":\"basically\"");
    s_has(row, "\"conclude_due\":\"2026-03-22\",\"conclude_left\":null");
    free(row);

    /* The county's own periods (config keys): conclusion in 20 days (+ the
     * 30 of the extension). */
    const char *periods[] = {"--conclude-days", "20", NULL};
    row = s_case_row(county, DAY60, id, periods);
    s_has(row, "\"conclude_due\":\"2026-02-20\"");
    free(row);
    s_today(DAY0);
    const char *bad[] = {"--conclude-days", "0", NULL};
    assert_int_equal(h_tool(county, "cases", bad, &r), 2);
    assert_non_null(strstr(r.err, "--conclude-days 0: give a whole number 1..365"));
    h_result_free(&r);
    s_today("2026-02-30");
    assert_int_equal(h_tool(county, "cases", NULL, &r), 2);
    assert_non_null(strstr(r.err, "SANJI_TODAY=2026-02-30 is not a date"));
    h_result_free(&r);
    unsetenv("SANJI_TODAY");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clock_extension, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
