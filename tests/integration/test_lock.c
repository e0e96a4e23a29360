/* Signed-off figures (issue 17 item 5, docs/LOCKS.md), end to end station
 * -> hub -> county: a township approves 2026-11 (an Approval event up its
 * hub's stream), the county lists it and locks the month (twice refused),
 * a later void of a 2026-11 matter is still applied but listed as an
 * amendment, and `report --year` states the lock and shows the locked
 * figure beside the amended one; the report's own figures are the locked
 * ones. `verify` still passes with the new event type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <signal.h>

#include "harness.h"

#define T100 "230523100"
#define ST_A T100 "201"

static int
s_setup(void **state)
{
    *state = h_env_new("lock");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

/* Submits one matter of 2026-11-10; its id into id. */
static void
s_submit(h_node_t *st, const char *persons, const char *summary, char *id)
{
    const char *args[] = {"submit",     "--channel", "visit", "--level",   "county", "--category",
                          "land",       "--persons", persons, "--summary", summary,  "--occurred",
                          "2026-11-10", "--wait",    "0",     NULL};
    h_result_t r;
    int code = h_agent(st, args, &r, h_ms(30000));
    if (code != 0) {
        fprintf(stderr, "# submit: %s\n", r.err);
    }
    assert_int_equal(code, 0);
    snprintf(id, 64, "%.*s", (int) strcspn(r.out, "\n"), r.out);
    h_result_free(&r);
}

static void
s_sync(h_node_t *st)
{
    const char *sync[] = {"sync", "--timeout", "60", "--until-county", NULL};
    h_result_t r;
    int code = h_agent(st, sync, &r, h_ms(90000));
    if (code != 0) {
        fprintf(stderr, "# sync: %s\n", r.err);
    }
    h_result_free(&r);
    assert_int_equal(code, 0);
}

static void
test_lock_approve_lock_amend(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, ST_A, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    char a[64], b[64];
    s_submit(st, "3", "土地承包纠纷", a);
    s_submit(st, "2", "宅基地边界（重复录入）", b);
    s_sync(st);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM matters", 2, 2, h_ms(30000)), 2);

    /* Bad usage: refused with the reason. */
    h_result_t r;
    const char *bad_month[] = {"--month", "2026-13", NULL};
    assert_int_equal(h_tool(hub, "approve", bad_month, &r), 2);
    assert_non_null(strstr(r.err, "--month '2026-13' is not a month"));
    h_result_free(&r);
    assert_int_equal(h_tool(hub, "approve", NULL, &r), 2);
    assert_non_null(strstr(r.err, "needs --month"));
    h_result_free(&r);
    const char *both[] = {"--month", "2026-11", "--year", "2026", NULL};
    assert_int_equal(h_tool(county, "lock", both, &r), 2);
    assert_non_null(strstr(r.err, "one"));
    h_result_free(&r);

    /* The township approves 2026-11; it travels up its hub's stream. */
    const char *approve[] = {"--month", "2026-11", "--officer", "王主任", NULL};
    assert_int_equal(h_tool(hub, "approve", approve, &r), 0);
    assert_non_null(strstr(r.err, "2026-11 approved"));
    h_result_free(&r);
    s_sync(st); /* the hub forwards its own stream with the station's */
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM approvals", 1, 1, h_ms(60000)), 1);
    const char *year[] = {"--year", "2026", NULL};
    assert_int_equal(h_tool(county, "approvals", year, &r), 0);
    fprintf(stderr, "# approvals:\n%s", r.out);
    assert_non_null(strstr(r.out, "2026-11"));
    assert_non_null(strstr(r.out, T100));
    assert_non_null(strstr(r.out, "王主任"));
    h_result_free(&r);
    const char *json[] = {"--format", "json", NULL};
    assert_int_equal(h_tool(county, "approvals", json, &r), 0);
    assert_non_null(strstr(r.out, "\"month\":\"2026-11\",\"township\":\"" T100 "\""));
    h_result_free(&r);
    /* the hub's audit trail has the command */
    assert_int_equal(h_tool(hub, "audit", NULL, &r), 0);
    assert_non_null(strstr(r.out, "approve"));
    h_result_free(&r);

    /* The county locks the month; once. */
    const char *lock[] = {"--month", "2026-11", "--officer", "李科长", NULL};
    assert_int_equal(h_tool(county, "lock", lock, &r), 0);
    h_result_free(&r);
    assert_int_equal(h_tool(county, "lock", lock, &r), 2);
    assert_non_null(strstr(r.err, "2026-11 is already locked"));
    h_result_free(&r);
    const char *lock_year[] = {"--year", "2026", NULL};
    assert_int_equal(h_tool(county, "lock", lock_year, &r), 2);
    assert_non_null(strstr(r.err, "already locked"));
    h_result_free(&r);
    assert_int_equal(h_tool(county, "amendments", year, &r), 0);
    assert_non_null(strstr(r.out, "no amendments"));
    h_result_free(&r);

    /* A later void of a 2026-11 matter: applied, and an amendment. */
    const char *voids[] = {"void", b, "--reason", "重复录入", "--wait", "0", NULL};
    assert_int_equal(h_agent(st, voids, &r, h_ms(30000)), 0);
    h_result_free(&r);
    s_sync(st);
    assert_int_equal(
        h_wait_db(county, "SELECT count(*) FROM fixes WHERE applied = 1", 1, 1, h_ms(30000)), 1);
    assert_int_equal(h_tool(county, "amendments", year, &r), 0);
    fprintf(stderr, "# amendments:\n%s", r.out);
    assert_non_null(strstr(r.out, b));
    assert_non_null(strstr(r.out, "void"));
    assert_non_null(strstr(r.out, "重复录入"));
    assert_null(strstr(r.out, a));
    h_result_free(&r);

    /* The report: the lock, the locked figure beside the amended one; its
     * own totals are the locked ones (2 matters, 5 person-times). */
    const char *report_en[] = {"--year", "2026", "--lang", "en", NULL};
    assert_int_equal(h_tool(county, "report", report_en, &r), 0);
    fprintf(stderr, "# report:\n%s", r.out);
    assert_non_null(strstr(r.out, "2026-11 locked by 李科长"));
    assert_non_null(strstr(r.out, "Locked figure: 2 matters, 5 person-times; amended: 1 matters,"
                                  " 3 person-times"));
    assert_non_null(strstr(r.out, b));
    h_result_free(&r);
    const char *report_zh[] = {"--year", "2026", NULL};
    assert_int_equal(h_tool(county, "report", report_zh, &r), 0);
    assert_non_null(strstr(r.out, "锁定数字：2 件（批）次、5 人次；修正后：1 件（批）次、3 人次"));
    h_result_free(&r);
    const char *report_html[] = {"--year", "2026", "--format", "html", NULL};
    assert_int_equal(h_tool(county, "report", report_html, &r), 0);
    assert_non_null(strstr(r.out, "<li>2026-11 已于"));
    h_result_free(&r);
    assert_int_equal(h_tool(county, "verify", NULL, &r), 0);
    h_result_free(&r);
    assert_int_equal(h_stop(county, SIGTERM), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lock_approve_lock_amend, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("lock", tests, NULL, NULL);
}
