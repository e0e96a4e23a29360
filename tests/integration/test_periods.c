/* The clock's periods down the tree and the station's clock (issue 16,
 * docs/CLOCK.md "The periods down the tree"): the county's periods (its
 * config, here `run` options) reach the hub and the station as DownItem
 * kind 3; the hub's extend and cases use them; an assigned case's clock
 * travels in its snapshot, so the station's inbox shows the same due date
 * as the county, moved by the county's extension; a county started with
 * other periods sends them again. On a clock the test controls
 * (SANJI_TODAY). */
#include <setjmp.h>
#include <signal.h>
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

#define DAY0 "2026-01-01"

static int
s_setup(void **state)
{
    *state = h_env_new("periods");
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

static void
s_sync(h_node_t *st)
{
    h_result_t r;
    const char *sync[] = {"sync", "--timeout", "60", NULL};
    int code = h_agent(st, sync, &r, h_ms(90000));
    if (code != 0) {
        fprintf(stderr, "# sync: %s\n", r.err);
    }
    assert_int_equal(code, 0);
    h_result_free(&r);
}

/* The station's inbox as JSON on day (caller frees). */
static char *
s_inbox(h_node_t *st, const char *day, int overdue)
{
    s_today(day);
    const char *args[] = {"inbox", "--format", "json", overdue ? "--overdue" : NULL, NULL};
    h_result_t r;
    assert_int_equal(h_agent(st, args, &r, h_ms(30000)), 0);
    char *out = strdup(r.out);
    h_result_free(&r);
    return out;
}

static void
s_has(const char *text, const char *what)
{
    if (!text || !strstr(text, what)) {
        fprintf(stderr, "# got: %s\n# wanted: %s\n", text ? text : "(none)", what);
    }
    assert_non_null(text);
    assert_non_null(strstr(text, what));
}

static void
test_periods_down(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    static const char *const first[] = {"--conclude-days", "20", "--extend-max-days", "10", NULL};
    county->run_extra = first;
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, ST_A, hub);
    s_today(DAY0);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);

    /* The hub holds the county's periods once it said Hello. */
    assert_int_equal(h_wait_db(hub,
                               "SELECT value = '15 20 30 10 1' FROM meta WHERE key = 'periods'", 1,
                               1, h_ms(60000)),
                     1);

    /* A report of day 0, accepted and assigned to its station by the county. */
    const char *sub[] = {"submit",     "--channel", "visit",     "--level", "county",
                         "--category", "land",      "--persons", "2",       "--summary",
                         "承包地纠纷", "--wait",    "0",         NULL};
    h_result_t r;
    assert_int_equal(h_agent(st, sub, &r, h_ms(30000)), 0);
    char id[64];
    snprintf(id, sizeof id, "%.*s", (int) strcspn(r.out, "\n"), r.out);
    h_result_free(&r);
    const char *until[] = {"sync", "--timeout", "60", "--until-county", NULL};
    assert_int_equal(h_agent(st, until, &r, h_ms(90000)), 0);
    h_result_free(&r);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM matters", 1, 1, h_ms(30000)), 1);
    const char *acc[] = {id, "--outcome", "accepted", NULL};
    assert_int_equal(h_tool(county, "update", acc, &r), 0);
    h_result_free(&r);
    const char *asg[] = {id, "--to", ST_A, "--due", "2026-03-01", "--note", "限期办结", NULL};
    assert_int_equal(h_tool(county, "assign", asg, &r), 0);
    h_result_free(&r);

    /* The station gets the periods and the case with its clock: conclusion
     * due day 0 + 20 (the county's conclude-days), as the county says. */
    s_sync(st);
    assert_int_equal(h_wait_db(st, "SELECT count(*) FROM inbox", 1, 1, h_ms(30000)), 1);
    assert_int_equal(
        h_db_scalar(st, "SELECT value = '15 20 30 10 1' FROM meta WHERE key = 'periods'"), 1);
    char *in = s_inbox(st, "2026-01-11", 0);
    s_has(in, "\"stage\":\"conclusion\",\"stage_due\":\"2026-01-21\",\"stage_left\":10");
    free(in);
    const char *cases[] = {"--format", "json", NULL};
    s_today("2026-01-11");
    assert_int_equal(h_tool(county, "cases", cases, &r), 0);
    s_has(r.out, "\"conclude_due\":\"2026-01-21\"");
    h_result_free(&r);
    assert_int_equal(h_tool(hub, "cases", cases, &r), 0);
    s_has(r.out, "\"conclude_due\":\"2026-01-21\"");
    h_result_free(&r);

    /* The hub's extend is held to the county's extend-max-days (10). */
    const char *ext11[] = {id,         "--days",        "11",     "--reason",
                           "补充调查", "--approved-by", "王乡长", NULL};
    assert_int_equal(h_tool(hub, "extend", ext11, &r), 1);
    s_has(r.err, "1..10 days");
    h_result_free(&r);

    /* Day 22, before any extension: overdue at the station (conclusion). */
    in = s_inbox(st, "2026-01-22", 1);
    s_has(in, id);
    s_has(in, "\"overdue\":\"yes\"");
    s_has(in, "\"overdue_what\":\"conclusion\"");
    free(in);

    /* The county extends by 10 (day 15): the station's clock moves with
     * the refreshed item. */
    s_today("2026-01-16");
    const char *ext[] = {id,         "--days",        "10",     "--reason",
                         "补充调查", "--approved-by", "张县长", NULL};
    assert_int_equal(h_tool(county, "extend", ext, &r), 0);
    h_result_free(&r);
    s_sync(st);
    in = s_inbox(st, "2026-01-22", 0);
    s_has(in, "\"stage_due\":\"2026-01-31\",\"stage_left\":9");
    s_has(in, "\"overdue\":\"\"");
    free(in);
    in = s_inbox(st, "2026-01-22", 1);
    assert_null(strstr(in, id));
    free(in);

    /* The station concludes it with the petitioner's evaluation (a bad
     * one, or one on a change that does not conclude, is bad usage): no
     * stage runs there any more, and the county gets the evaluation. */
    s_today("2026-01-23");
    const char *bad_sat[] = {"update", id, "--outcome", "closed", "--satisfaction", "很好", NULL};
    assert_int_equal(h_agent(st, bad_sat, &r, h_ms(30000)), 2);
    s_has(r.err, "--satisfaction '很好'");
    h_result_free(&r);
    const char *open_sat[] = {"update",         id,     "--outcome", "withdrawn",
                              "--satisfaction", "满意", NULL};
    assert_int_equal(h_agent(st, open_sat, &r, h_ms(30000)), 2);
    s_has(r.err, "goes with a conclusion");
    h_result_free(&r);
    const char *clo[] = {"update",   id,       "--outcome", "closed", "--satisfaction",
                         "基本满意", "--wait", "0",         NULL};
    assert_int_equal(h_agent(st, clo, &r, h_ms(30000)), 0);
    h_result_free(&r);
    assert_int_equal(h_agent(st, until, &r, h_ms(90000)), 0);
    h_result_free(&r);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM status_changes WHERE satisfaction = 2",
                               1, 1, h_ms(30000)),
                     1);
    in = s_inbox(st, "2026-02-10", 1);
    assert_null(strstr(in, id));
    free(in);

    /* The county starts again with other periods: they reach the hub and
     * the station. */
    assert_int_equal(h_stop(county, SIGTERM), 0);
    static const char *const second[] = {"--conclude-days", "25", "--extend-max-days", "10", NULL};
    county->run_extra = second;
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_wait_db(hub,
                               "SELECT value = '15 25 30 10 1' FROM meta WHERE key = 'periods'", 1,
                               1, h_ms(60000)),
                     1);
    s_sync(st);
    assert_int_equal(h_wait_db(st, "SELECT value = '15 25 30 10 1' FROM meta WHERE key = 'periods'",
                               1, 1, h_ms(30000)),
                     1);
    /* A case the township assigns: its own acceptance and extension reach
     * the station with a fresh item (on the periods it now holds). */
    s_today(DAY0);
    assert_int_equal(h_agent(st, sub, &r, h_ms(30000)), 0);
    char id2[64];
    snprintf(id2, sizeof id2, "%.*s", (int) strcspn(r.out, "\n"), r.out);
    h_result_free(&r);
    s_sync(st);
    assert_int_equal(h_wait_db(hub, "SELECT count(*) FROM reports", 2, 2, h_ms(30000)), 2);
    const char *asg2[] = {id2, "--to", ST_A, "--due", "2026-03-01", NULL};
    assert_int_equal(h_tool(hub, "assign", asg2, &r), 0);
    h_result_free(&r);
    const char *acc2[] = {id2, "--outcome", "accepted", NULL};
    assert_int_equal(h_tool(hub, "update", acc2, &r), 0);
    h_result_free(&r);
    s_sync(st);
    in = s_inbox(st, "2026-01-11", 0);
    char *row = strstr(in, id2);
    assert_non_null(row);
    *strchr(row, '}') = '\0';
    s_has(row, "\"outcome\":\"accepted\"");
    s_has(row, "\"stage\":\"conclusion\",\"stage_due\":\"2026-01-26\"");
    free(in);
    const char *ext2[] = {id2,        "--days",        "5",      "--reason",
                          "补充调查", "--approved-by", "王乡长", NULL};
    assert_int_equal(h_tool(hub, "extend", ext2, &r), 0);
    h_result_free(&r);
    s_sync(st);
    in = s_inbox(st, "2026-01-11", 0);
    row = strstr(in, id2);
    assert_non_null(row);
    *strchr(row, '}') = '\0';
    s_has(row, "\"stage_due\":\"2026-01-31\"");
    free(in);

    /* a bad period in the county's config stops it before it runs (exit 2) */
    const char *bad[] = {"--bind", "tcp://127.0.0.1:1", "--conclude-days", "0", NULL};
    assert_int_equal(h_tool(county, "run", bad, &r), 2);
    s_has(r.err, "--conclude-days 0");
    h_result_free(&r);
    unsetenv("SANJI_TODAY");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_periods_down, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("periods", tests, NULL, NULL);
}
