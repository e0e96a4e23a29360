/* When a tier dies at each named crash point of the link protocol and is
 * started again, is every report still at the county exactly once?
 *
 * Scenario 2 of the fault suite (issue 6, docs/PROTOCOL.md "Testing the contract"). The binary
 * under test runs with SANJI_CRASH_AT=<point>:<N> (common/sj_crash.h) and
 * must exit 137 at that point; it is then started again without it. Points
 * and where they are hit here:
 *
 *   after-commit-before-ack   the hub (a station's batch committed, ack not
 *                             sent), the county (a hub's forward committed)
 *   after-ack-before-record   a station's sync (the hub's ack arrived, not
 *                             recorded), the hub (the county's ack of a
 *                             forward arrived, not recorded)
 *   after-forward-before-ack  the hub (a forward batch handed to libzmq, the
 *                             county's ack not in), a station's sync (same
 *                             for its batch to the hub)
 *   mid-purge                 skipped: nothing purges yet (no station or hub
 *                             forgets delivered reports); add the point with
 *                             the purge
 *
 * N is 2: past the Hello, so the crash falls inside the stream; only one
 * station delivers until the crash, so the N-th pass is the same in every
 * run, and for the commit and ack points the test checks that the receiver
 * holds more than the sender recorded (the window was hit). No long form:
 * every case is deterministic. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "faults.h"
#include "sj_crash.h"

#define PER_STATION 3000 /* six batches each: the crash lands mid-stream */
#define CRASH_PASS  "2"

typedef enum { AT_COUNTY = 0, AT_HUB, AT_STATION } s_where_t;

static int
s_setup(void **state)
{
    *state = h_env_new("faults-crash");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

static void
s_arm(const char *point)
{
    char v[96];
    snprintf(v, sizeof v, "%s:%s", point, CRASH_PASS);
    assert_int_equal(setenv(SJ_CRASH_ENV, v, 1), 0);
}

static void
s_disarm(void)
{
    assert_int_equal(unsetenv(SJ_CRASH_ENV), 0);
}

/* Waits for p to exit at the crash point: exit 137 and its line in the log. */
static void
s_expect_crash(h_proc_t *p, const char *point)
{
    int code = h_proc_wait(p, h_ms(60000));
    char line[128];
    snprintf(line, sizeof line, "crash point '%s' reached", point);
    if (code != SJ_CRASH_EXIT_CODE || h_log_count(p, line) != 1) {
        h_print_tail(p->err_path[0] ? p->err_path : p->out_path, 20);
        fail_msg("%s did not stop at %s (exit %d)", p->name, point, code);
    }
    fprintf(stderr, "# %s stopped at %s\n", p->name, point);
}

/* What the crash must have left behind to prove that it fell in its window:
 * the receiver committed more than the sender recorded as acknowledged. */
typedef enum {
    W_NONE = 0,    /* a send: whether it got through is not known */
    W_STATION_HUB, /* the hub holds more of station 0 than station 0 has recorded */
    W_HUB_COUNTY,  /* the county holds more than the hub has recorded */
} s_window_t;

static void
s_check_window(const f_tree_t *t, s_window_t w)
{
    long long held = -1, recorded = -1;
    char sql[160];
    if (w == W_STATION_HUB) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE origin = '%s'",
                 t->st[0]->code);
        held = h_db_scalar(t->hub[0], sql);
        recorded = h_db_scalar(t->st[0], "SELECT value FROM meta WHERE key = 'acked_through'");
    } else if (w == W_HUB_COUNTY) {
        held = h_db_scalar(t->county, "SELECT count(*) FROM events");
        recorded = h_db_scalar(t->hub[0], "SELECT value FROM meta WHERE key = 'up_acked'");
    } else {
        return;
    }
    fprintf(stderr, "# at the crash: %lld committed by the receiver, %lld recorded as acked\n",
            held, recorded);
    if (held <= recorded || recorded < 0) {
        fail_msg("the crash missed its window: the receiver holds %lld, the sender recorded %lld",
                 held, recorded);
    }
}

/* The whole case: tier `where` runs with the crash point armed and dies
 * there, with only station 0 delivering (so that the N-th pass is the same
 * event in every run); it comes back without the point, station 1 starts
 * too, and everything must be at the county once. */
static void
s_crash_case(h_env_t *env, s_where_t where, const char *point, s_window_t window)
{
    f_tree_t t;
    f_tree_declare(env, &t, 1, 2);
    for (size_t i = 0; i < t.n_st; i++) {
        assert_int_equal(h_import(t.st[i], PER_STATION, 100u + (uint32_t) i), 0);
        t.made[i] = PER_STATION;
        t.use_sync[i] = 1;
    }
    if (where == AT_COUNTY) {
        s_arm(point);
    }
    assert_int_equal(h_start_county(t.county), 0);
    s_disarm();
    if (where == AT_HUB) {
        s_arm(point);
    }
    assert_int_equal(h_start_hub(t.hub[0]), 0);
    s_disarm();
    if (where == AT_STATION) {
        s_arm(point);
    }
    f_deliver_start(&t, 0);
    s_disarm();
    h_proc_t *victim = where == AT_COUNTY ? t.county->proc
                       : where == AT_HUB  ? t.hub[0]->proc
                                          : t.del[0];
    s_expect_crash(victim, point);
    s_check_window(&t, window);
    if (where == AT_STATION) {
        f_deliver_start(&t, 0);
    } else {
        h_node_t *node = where == AT_COUNTY ? t.county : t.hub[0];
        node->proc = NULL;
        f_restart(node);
    }
    f_deliver_start(&t, 1);
    assert_int_equal(f_wait_county(&t, h_ms(90000)), f_made(&t));
    f_check_all(&t);
}

static void
test_faults_crash_hub_after_commit(void **state)
{
    /* Hub dies after committing a station's batch, before acking it: resent, stored once? */
    s_crash_case(*state, AT_HUB, "after-commit-before-ack", W_STATION_HUB);
}

static void
test_faults_crash_county_after_commit(void **state)
{
    /* County dies after committing a forward, before acking it: resent, stored once? */
    s_crash_case(*state, AT_COUNTY, "after-commit-before-ack", W_HUB_COUNTY);
}

static void
test_faults_crash_station_after_ack(void **state)
{
    /* Station's sync dies with the hub's ack unrecorded: resent, stored once? */
    s_crash_case(*state, AT_STATION, "after-ack-before-record", W_STATION_HUB);
}

static void
test_faults_crash_hub_after_ack(void **state)
{
    /* Hub dies with the county's ack of a forward unrecorded: resent, stored once? */
    s_crash_case(*state, AT_HUB, "after-ack-before-record", W_HUB_COUNTY);
}

static void
test_faults_crash_hub_after_forward(void **state)
{
    /* Hub dies right after sending a forward batch, before the county's ack? */
    s_crash_case(*state, AT_HUB, "after-forward-before-ack", W_NONE);
}

static void
test_faults_crash_station_after_send(void **state)
{
    /* Station's sync dies right after sending a batch, before the hub's ack? */
    s_crash_case(*state, AT_STATION, "after-forward-before-ack", W_NONE);
}

static void
test_faults_crash_mid_purge(void **state)
{
    /* Mid-purge: nothing purges yet, so there is no such point to crash at. */
    (void) state;
    fprintf(stderr, "# skipped: no tier purges delivered reports yet; add the crash point"
                    " 'mid-purge' together with the purge\n");
    skip();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_faults_crash_hub_after_commit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_faults_crash_county_after_commit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_faults_crash_station_after_ack, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_faults_crash_hub_after_ack, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_faults_crash_hub_after_forward, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_faults_crash_station_after_send, s_setup, s_teardown),
        cmocka_unit_test(test_faults_crash_mid_purge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
