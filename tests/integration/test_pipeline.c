/* Do reports travel village -> township -> county exactly once when every tier
 * works, when a tier is away for a while, when a station is reinstalled, and
 * is a station outside its hub's township refused? */
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
#define T101 "230523101"

static int
s_setup(void **state)
{
    *state = h_env_new("pipeline");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

static void
s_assert_exactly_once(const h_node_t *county, const h_expect_t *exp, size_t n)
{
    char why[300] = "";
    if (h_check_exactly_once(county, exp, n, why, sizeof why) != 0) {
        fail_msg("not exactly once: %s", why);
    }
    /* The county's own proof agrees: no gaps, no hash-chain breaks. */
    char *argv[] = {(char *) COUNTY_BIN, "verify", "--data", (char *) county->data, NULL};
    h_result_t r;
    int code = h_run(county->env, "verify", argv, &r, h_ms(60000));
    if (code != 0) {
        fail_msg("county-server verify exit %d: %s%s", code, r.out, r.err);
    }
    h_result_free(&r);
}

/* Runs `sync --timeout timeout_s` on every station at once; all must exit 0. */
static void
s_sync_parallel(h_node_t **st, int n, int timeout_s)
{
    h_proc_t *p[8];
    for (int i = 0; i < n; i++) {
        p[i] = h_sync_spawn(st[i], timeout_s);
        assert_non_null(p[i]);
    }
    for (int i = 0; i < n; i++) {
        int code = h_proc_wait(p[i], h_ms(timeout_s * 1000 + 10000));
        if (code != 0) {
            fprintf(stderr, "# sync of %s exited %d; stderr:\n", st[i]->code, code);
            h_print_tail(p[i]->err_path, 20);
        }
        assert_int_equal(code, 0);
    }
}

/* Count of a substring in text. */
static int
s_count(const char *text, const char *what)
{
    int n = 0;
    for (const char *s = text; (s = strstr(s, what)) != NULL; s += strlen(what)) {
        n++;
    }
    return n;
}

static void
test_pipeline_exactly_once_10000(void **state)
{
    /* Are 10,000 reports of 4 stations via 2 hubs each at the county once, streams 1..n? */
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub[2] = {h_hub(env, T100, county), h_hub(env, T101, county)};
    h_node_t *st[4] = {h_station(env, T100 "201", hub[0]), h_station(env, T100 "202", hub[0]),
                       h_station(env, T101 "201", hub[1]), h_station(env, T101 "202", hub[1])};
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub[0]), 0);
    assert_int_equal(h_start_hub(hub[1]), 0);
    int64_t t0 = h_now_ms();
    for (int i = 0; i < 4; i++) {
        assert_int_equal(h_import(st[i], 2500, 1000u + (uint32_t) i), 0);
    }
    int64_t t1 = h_now_ms();
    s_sync_parallel(st, 4, 120);
    int64_t t2 = h_now_ms();
    long long got = h_wait_db(county, "SELECT count(*) FROM events", 10000, 10000, h_ms(60000));
    int64_t t3 = h_now_ms();
    fprintf(stderr,
            "# 10000 reports: import %lld ms, sync to hubs %lld ms, county complete %lld ms"
            " later (total %lld ms)\n",
            (long long) (t1 - t0), (long long) (t2 - t1), (long long) (t3 - t2),
            (long long) (t3 - t0));
    assert_int_equal(got, 10000);
    const h_expect_t exp[] = {
        {T100 "201", 2500, 1}, {T100 "202", 2500, 1}, {T101 "201", 2500, 1}, {T101 "202", 2500, 1}};
    s_assert_exactly_once(county, exp, 4);
    /* The generated fields arrived as written: every value used, kinds consistent. */
    assert_int_equal(h_db_scalar(county, "SELECT count(DISTINCT channel) FROM matters"), 4);
    assert_int_equal(h_db_scalar(county, "SELECT count(DISTINCT level) FROM matters"), 6);
    assert_int_equal(h_db_scalar(county, "SELECT count(DISTINCT category) FROM matters"), 5);
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM matters WHERE (kind = 2)"
                                         " != (persons >= 5) OR (channel != 1 AND persons != 1)"),
                     0);
    assert_true(h_db_scalar(county, "SELECT count(*) FROM matters WHERE kind = 2") > 100);
    assert_true(h_db_scalar(county, "SELECT count(*) FROM matters WHERE summary LIKE"
                                    " '%\"讨薪\"%'")
                > 0);
    /* Each hub holds exactly its own stations' events. */
    assert_int_equal(
        h_db_scalar(hub[0], "SELECT count(*) FROM events WHERE origin LIKE '" T100 "%'"), 5000);
    assert_int_equal(h_db_scalar(hub[0], "SELECT count(*) FROM events"), 5000);
    assert_int_equal(h_db_scalar(hub[1], "SELECT count(*) FROM events"), 5000);
}

static void
test_pipeline_county_down(void **state)
{
    /* Does a hub keep accepting while the county is down, and drain its backlog by itself later? */
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st[2] = {h_station(env, T100 "201", hub), h_station(env, T100 "202", hub)};
    assert_int_equal(h_start_hub(hub), 0); /* its parent is not there */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(h_import(st[i], 500, 2000u + (uint32_t) i), 0);
    }
    s_sync_parallel(st, 2, 30);
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM events"), 1000);
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM events"), -1); /* no county DB */
    int64_t t0 = h_now_ms();
    assert_int_equal(h_start_county(county), 0);
    long long got = h_wait_db(county, "SELECT count(*) FROM events", 1000, 1000, h_ms(60000));
    fprintf(stderr, "# backlog of 1000 drained %lld ms after the county started\n",
            (long long) (h_now_ms() - t0));
    assert_int_equal(got, 1000);
    const h_expect_t exp[] = {{T100 "201", 500, 1}, {T100 "202", 500, 1}};
    s_assert_exactly_once(county, exp, 2);
    /* The county's receipt travels back down: every report shows at-county. */
    h_result_t r;
    const char *sync_county[] = {"sync", "--timeout", "30", "--until-county", NULL};
    assert_int_equal(h_agent(st[0], sync_county, &r, h_ms(60000)), 0);
    h_result_free(&r);
    const char *outbox[] = {"outbox", "--format", "csv", NULL};
    assert_int_equal(h_agent(st[0], outbox, &r, h_ms(30000)), 0);
    int at_county = 0;
    for (const char *q = r.out; (q = strstr(q, ",at-county,")) != NULL; q++) {
        at_county++;
    }
    h_result_free(&r);
    assert_int_equal(at_county, 500);
}

static void
test_pipeline_receipt_waits_for_county(void **state)
{
    /* Does 'sync --until-county' wait for the county's receipt, not just the hub's ack? */
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, T100 "201", hub);
    assert_int_equal(h_start_hub(hub), 0); /* the county is away */
    assert_int_equal(h_import(st, 20, 2100u), 0);
    h_result_t r;
    const char *sync_county[] = {"sync", "--timeout", "2", "--until-county", NULL};
    assert_int_equal(h_agent(st, sync_county, &r, h_ms(30000)), 1);
    h_result_free(&r);
    const char *outbox[] = {"outbox", "--format", "csv", NULL};
    assert_int_equal(h_agent(st, outbox, &r, h_ms(30000)), 0);
    assert_null(strstr(r.out, "at-county"));
    assert_non_null(strstr(r.out, ",at-hub,"));
    h_result_free(&r);
    assert_int_equal(h_start_county(county), 0);
    const char *sync_long[] = {"sync", "--timeout", "60", "--until-county", NULL};
    assert_int_equal(h_agent(st, sync_long, &r, h_ms(90000)), 0);
    assert_non_null(strstr(r.err, "at the county"));
    h_result_free(&r);
    assert_int_equal(h_agent(st, outbox, &r, h_ms(30000)), 0);
    assert_null(strstr(r.out, ",at-hub,"));
    h_result_free(&r);
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM events"), 20);
}

static void
test_pipeline_hub_down(void **state)
{
    /* Does a station keep recording while its hub is down, say so on sync, and deliver later? */
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, T100 "201", hub);
    assert_int_equal(h_start_county(county), 0);
    h_result_t r;
    const char *submit1[] = {"submit",  "--channel", "visit",
                             "--level", "county",    "--persons",
                             "7",       "--summary", "集体上访 while the hub is down",
                             "--wait",  "1",         NULL};
    assert_int_equal(h_agent(st, submit1, &r, h_ms(30000)), 0);
    assert_int_equal(strlen(r.out), 37); /* a UUID and a newline */
    assert_non_null(strstr(r.err, "queued"));
    h_result_free(&r);
    const char *submit2[] = {"submit",    "--channel", "letter", "--level", "township",
                             "--summary", "来信",      "--wait", "0",       NULL};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(h_agent(st, submit2, &r, h_ms(30000)), 0);
        assert_int_equal(strlen(r.out), 37);
        h_result_free(&r);
    }
    const char *outbox[] = {"outbox", "--format", "json", NULL};
    assert_int_equal(h_agent(st, outbox, &r, h_ms(30000)), 0);
    assert_int_equal(s_count(r.out, "\"state\":\"queued\""), 3);
    h_result_free(&r);
    int64_t t0 = h_now_ms();
    assert_int_equal(h_sync(st, 2, &r), 1);
    int64_t took = h_now_ms() - t0;
    if (!strstr(r.err, "3 of 3 reports not yet acknowledged")) {
        fail_msg("sync stderr does not say how many remain: %s", r.err);
    }
    h_result_free(&r);
    assert_true(took < h_ms(10000));
    assert_int_equal(h_start_hub(hub), 0);
    assert_int_equal(h_sync(st, 30, &r), 0);
    h_result_free(&r);
    assert_int_equal(h_agent(st, outbox, &r, h_ms(30000)), 0);
    assert_int_equal(s_count(r.out, "\"state\":\"at-hub\""), 3);
    h_result_free(&r);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM events", 3, 3, h_ms(30000)), 3);
    const h_expect_t exp[] = {{T100 "201", 3, 1}};
    s_assert_exactly_once(county, exp, 1);
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM matters WHERE kind = 2"
                                         " AND persons = 7"),
                     1);
}

static void
test_pipeline_station_new_epoch(void **state)
{
    /* Is a reinstalled station (same code, new store) counted as new reports, not duplicates? */
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, T100 "201", hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    h_result_t r;
    assert_int_equal(h_import(st, 50, 3000), 0);
    assert_int_equal(h_sync(st, 30, &r), 0);
    h_result_free(&r);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM events", 50, 50, h_ms(30000)), 50);
    assert_int_equal(h_rmrf(st->data), 0);
    assert_int_equal(h_import(st, 30, 3001), 0);
    assert_int_equal(h_sync(st, 30, &r), 0);
    h_result_free(&r);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM events", 80, 80, h_ms(30000)), 80);
    const h_expect_t exp[] = {{T100 "201", 80, 2}};
    s_assert_exactly_once(county, exp, 1);
    h_stream_t s[4];
    assert_int_equal(h_streams(county, s, 4), 2);
    assert_true((s[0].count == 50 && s[1].count == 30) || (s[0].count == 30 && s[1].count == 50));
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM links WHERE code = '" T100 "201'"), 2);
}

static void
test_pipeline_station_outside_township(void **state)
{
    /* Is a station whose code is not under the hub's township refused, with nothing stored? */
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *stranger = h_station(env, "230523199201", hub);
    h_node_t *good = h_station(env, T100 "201", hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    assert_int_equal(h_import(stranger, 5, 4000), 0);
    h_result_t r;
    /* A refusal ends sync at once (exit 1, the hub's reason): waiting out
     * --timeout would not change the hub's mind. */
    int64_t t0 = h_now_ms();
    assert_int_equal(h_sync(stranger, 60, &r), 1);
    int64_t took = h_now_ms() - t0;
    fprintf(stderr, "# refused sync returned after %lld ms: %s", (long long) took, r.err);
    /* Refused either at enrolment ('allow' refuses a code outside the
     * township once the hub knows its code) or when it says Hello. */
    if (!strstr(r.err, "refused this node's key")
        && !strstr(r.err, "not a village of township " T100)) {
        fail_msg("sync stderr does not mention the refusal: %s", r.err);
    }
    if (!strstr(r.err, "the hub refused this station")) {
        fail_msg("sync stderr does not say the hub refused the station: %s", r.err);
    }
    if (took > h_ms(15000)) {
        fail_msg("a refused sync took %lld ms; it should stop at the refusal", (long long) took);
    }
    h_result_free(&r);
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM events"), 0);
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM links WHERE code = '230523199201'"), 0);
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM quarantine"), 0);
    /* The hub still serves its own stations. */
    assert_int_equal(h_import(good, 5, 4001), 0);
    assert_int_equal(h_sync(good, 30, &r), 0);
    h_result_free(&r);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM events", 5, 5, h_ms(30000)), 5);
    const h_expect_t exp[] = {{T100 "201", 5, 1}};
    s_assert_exactly_once(county, exp, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pipeline_exactly_once_10000, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_county_down, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_hub_down, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_receipt_waits_for_county, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_station_new_epoch, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_station_outside_township, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
