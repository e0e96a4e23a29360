/* The search index off the ingest path, with the real daemons: a hub takes
 * a backlog (its county down), and once the daemon is idle its index mark
 * reaches its last event and every summary is in the index once; then the
 * county takes the backlog from the hub, and the same holds there. Search
 * (the CLI) finds at both tiers exactly the reports whose summary holds the
 * text, as a LIKE over the tables says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "harness.h"

#define T100 "230523100"
#define S1   "230523100201"
#define N    2000

static int
s_setup(void **state)
{
    *state = h_env_new("searchidle");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

/* `search TEXT --limit 100000 --format json` at node: the number of rows. */
static int
s_search(h_node_t *node, const char *text)
{
    const char *args[] = {text, "--limit", "100000", "--format", "json", NULL};
    h_result_t r;
    int code = h_tool(node, "search", args, &r);
    if (code != 0) {
        fail_msg("search exited %d: %s", code, r.err);
    }
    cJSON *j = cJSON_Parse(r.out);
    if (!j) {
        fail_msg("search: not JSON: %s", r.out);
    }
    int n = cJSON_GetArraySize(j);
    cJSON_Delete(j);
    h_result_free(&r);
    return n;
}

/* The mark reaches the top of the events table once the daemon is idle,
 * and each summary of table is in the index once. */
static void
s_check_indexed(h_node_t *node, const char *seq, const char *table)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT value FROM meta WHERE key = 'search_through')"
             " = (SELECT max(%s) FROM events)",
             seq);
    assert_int_equal(h_wait_db(node, sql, 1, 1, h_ms(60000)), 1);
    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM search WHERE kind = 'summary')"
             " = (SELECT count(*) FROM %s)",
             table);
    assert_int_equal(h_db_scalar(node, sql), 1);
}

static void
s_check_search(h_node_t *node, const char *table)
{
    static const char *const texts[] = {"土地承包", "#17 ", "讨薪", "宅基地"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE instr(summary, '%s') > 0", table,
                 texts[i]);
        long long want = h_db_scalar(node, sql);
        assert_true(want >= 0);
        assert_int_equal(s_search(node, texts[i]), want);
        if (i < 3) {
            assert_true(want > 0);
        }
    }
}

static void
test_searchidle_backlog_then_idle(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S1, hub);
    assert_int_equal(h_keys(hub), 0); /* enrolled before the county starts */
    assert_int_equal(h_start_hub(hub), 0);

    /* 1. the hub takes the backlog; its county is down */
    assert_int_equal(h_import(st, N, 15), 0);
    h_result_t r;
    assert_int_equal(h_sync(st, 60, &r), 0);
    h_result_free(&r);
    assert_int_equal(h_wait_db(hub, "SELECT count(*) FROM reports", N, N, h_ms(60000)), N);
    s_check_indexed(hub, "hub_seq", "reports");
    s_check_search(hub, "reports");

    /* 2. the county takes it from the hub */
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM matters", N, N, h_ms(120000)), N);
    s_check_indexed(county, "eid", "matters");
    s_check_search(county, "matters");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_searchidle_backlog_then_idle, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("searchidle", tests, NULL, NULL);
}
