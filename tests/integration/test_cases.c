/* Matters as living cases (issue 4): do status changes travel up the same
 * stream as reports, is a change the state machine forbids refused where it
 * is entered, and do concurrent changes of one case end in the documented
 * state with the conflict listed? */
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
#define S1   "230523100201"

static int
s_setup(void **state)
{
    *state = h_env_new("cases");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

/* Runs `TOOL CMD --data DIR args...` of a hub or the county. */
static int
s_tool(h_node_t *node, const char *cmd, const char *const args[], h_result_t *res)
{
    char *argv[32];
    int n = 0;
    argv[n++] = (char *) (node->role == H_COUNTY ? COUNTY_BIN : HUB_BIN);
    argv[n++] = (char *) cmd;
    argv[n++] = "--data";
    argv[n++] = node->data;
    for (int i = 0; args && args[i] && n < 31; i++) {
        argv[n++] = (char *) args[i];
    }
    argv[n] = NULL;
    return h_run(node->env, cmd, argv, res, h_ms(60000));
}

/* submit one report; its id (36 chars) into id. */
static void
s_submit(h_node_t *st, char id[40])
{
    const char *args[] = {"submit", "--channel", "visit", "--level", "township", "--summary",
                          "宅基地边界纠纷", "--wait", "0", NULL};
    h_result_t r;
    assert_int_equal(h_agent(st, args, &r, h_ms(30000)), 0);
    assert_true(strlen(r.out) >= 36);
    snprintf(id, 40, "%.36s", r.out);
    h_result_free(&r);
}

static int
s_update(h_node_t *st, const char *id, const char *outcome, h_result_t *r)
{
    const char *args[] = {"update", id, "--outcome", outcome, "--note", "办理中", "--wait", "0",
                          NULL};
    return h_agent(st, args, r, h_ms(30000));
}

static void
s_sync(h_node_t *st)
{
    h_result_t r;
    int code = h_sync(st, 30, &r);
    if (code != 0) {
        fprintf(stderr, "# sync: %s%s\n", r.out, r.err);
    }
    assert_int_equal(code, 0);
    h_result_free(&r);
}

static long long
s_outcome(const h_node_t *county, const char *id, int want)
{
    char sql[200];
    /* the id as the hex of its 16 bytes */
    char hex[33];
    int k = 0;
    for (const char *p = id; *p && k < 32; p++) {
        if (*p != '-') {
            hex[k++] = (char) (*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
        }
    }
    hex[k] = '\0';
    snprintf(sql, sizeof sql, "SELECT outcome FROM matters WHERE hex(id)='%s'", hex);
    return h_wait_db(county, sql, want, want, h_ms(30000));
}

static void
test_cases_lifecycle_and_conflict(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S1, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);

    /* A case's life: pending -> accepted -> closed, from the station. */
    char id1[40];
    s_submit(st, id1);
    h_result_t r;
    assert_int_equal(s_update(st, id1, "accepted", &r), 0);
    h_result_free(&r);
    assert_int_equal(s_update(st, id1, "closed", &r), 0);
    h_result_free(&r);

    /* Refused at entry with the reason; nothing stored. */
    assert_int_equal(s_update(st, id1, "withdrawn", &r), 1);
    assert_non_null(strstr(r.err, "a case that is closed cannot become withdrawn"));
    h_result_free(&r);
    assert_int_equal(s_update(st, "01890000-0000-7000-8000-000000000000", "accepted", &r), 1);
    assert_non_null(strstr(r.err, "no report"));
    h_result_free(&r);
    assert_int_equal(h_db_scalar(st, "SELECT count(*) FROM outbox"), 3);

    {
        const char *args[] = {"outbox", NULL};
        assert_int_equal(h_agent(st, args, &r, h_ms(30000)), 0);
        char want[120];
        snprintf(want, sizeof want, "update %s: accepted \xe2\x86\x92 closed", id1);
        assert_non_null(strstr(r.out, want));
        h_result_free(&r);
    }

    s_sync(st);
    assert_int_equal(s_outcome(county, id1, 4), 4); /* closed */
    {
        const char *args[] = {"--by", "outcome", "--format", "csv", NULL};
        assert_int_equal(s_tool(county, "stats", args, &r), 0);
        assert_non_null(strstr(r.out, "closed,1,1"));
        assert_null(strstr(r.out, "pending"));
        h_result_free(&r);
    }

    /* Concurrent changes: station and hub both start from accepted. */
    char id2[40];
    s_submit(st, id2);
    assert_int_equal(s_update(st, id2, "accepted", &r), 0);
    h_result_free(&r);
    s_sync(st);
    assert_int_equal(h_wait_db(hub, "SELECT count(*) FROM cases WHERE outcome=3", 1, 1,
                               h_ms(30000)),
                     1);
    assert_int_equal(s_update(st, id2, "closed", &r), 0); /* queued at the station */
    h_result_free(&r);
    h_sleep_ms(20); /* the hub's change is the later one */
    {
        const char *args[] = {id2, "--outcome", "withdrawn", "--note", "当事人撤回", NULL};
        int code = s_tool(hub, "update", args, &r);
        if (code != 0) {
            fprintf(stderr, "# township-hub update: %s\n", r.err);
        }
        assert_int_equal(code, 0);
        h_result_free(&r);
        /* The hub refuses a change its own view forbids. */
        const char *bad[] = {id2, "--outcome", "closed", NULL};
        assert_int_equal(s_tool(hub, "update", bad, &r), 1);
        assert_non_null(strstr(r.err, "cannot become closed"));
        h_result_free(&r);
    }
    s_sync(st);

    /* Both changes reach the county; the later valid one (the hub's) wins. */
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM status_changes", 5, 5, h_ms(30000)),
                     5);
    assert_int_equal(s_outcome(county, id2, 5), 5); /* withdrawn */
    assert_int_equal(s_outcome(county, id1, 4), 4);
    {
        const char *args[] = {"--conflicts", "--format", "csv", NULL};
        assert_int_equal(s_tool(county, "cases", args, &r), 0);
        assert_non_null(strstr(r.out, id2));
        assert_null(strstr(r.out, id1));
        assert_non_null(strstr(r.out, "withdrawn"));
        h_result_free(&r);
        const char *all[] = {"--township", T100, "--format", "csv", NULL};
        assert_int_equal(s_tool(county, "cases", all, &r), 0);
        assert_non_null(strstr(r.out, id1));
        assert_non_null(strstr(r.out, id2));
        h_result_free(&r);
    }
    {
        const char *args[] = {"--conflicts", "--format", "csv", NULL};
        assert_int_equal(s_tool(hub, "cases", args, &r), 0);
        assert_non_null(strstr(r.out, id2));
        assert_null(strstr(r.out, id1));
        h_result_free(&r);
    }
    /* The county's own change: reopen the closed case (review). */
    {
        const char *args[] = {id1, "--outcome", "accepted", "--note", "复查", NULL};
        assert_int_equal(s_tool(county, "update", args, &r), 0);
        h_result_free(&r);
        assert_int_equal(s_outcome(county, id1, 3), 3);
        const char *bad[] = {id2, "--outcome", "accepted", NULL};
        assert_int_equal(s_tool(county, "update", bad, &r), 1);
        assert_non_null(strstr(r.err, "withdrawn is final"));
        h_result_free(&r);
    }
    /* Every stream (station, hub, county) is complete and chained. */
    {
        assert_int_equal(s_tool(county, "verify", NULL, &r), 0);
        h_result_free(&r);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cases_lifecycle_and_conflict, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("cases", tests, NULL, NULL);
}
