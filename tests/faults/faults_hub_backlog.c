/* When the township hub is killed with SIGKILL while it holds a backlog for
 * an absent county, and started again, does the backlog still reach the
 * county, exactly once?
 *
 * The middle-tier crash of the fault suite (issue 6), the scenario in which
 * the Mosquitto bridge chain loses what its middle broker held
 * (tests/faults/mqtt_faults backlog-kill, scripts/faults-compare.sh). A
 * county, one hub, two stations delivering with `run`. The county is stopped
 * (SIGTERM); the stations import their reports and deliver them to the hub;
 * once the hub holds them all it is killed with SIGKILL at once and started
 * again, then the county is started again; nothing else is touched.
 *
 *   short form (ctest):              5,000 reports
 *   SANJI_FAULTS_LONG=1 (by hand): 100,000 reports
 *   SANJI_FAULTS_N                   another size (scripts/faults-compare.sh)
 *
 *   SANJI_FAULTS_LONG=1 build/tests/faults/faults_hub_backlog */
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

static int
s_setup(void **state)
{
    *state = h_env_new("faults-hub-backlog");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

static void
test_faults_hub_backlog(void **state)
{
    /* Does a backlog held by a hub that is killed -9 still reach the county exactly once? */
    (void) f_seed("faults_hub_backlog");
    const long long total = f_env_size("SANJI_FAULTS_N", f_long() ? 100000 : 5000);
    f_tree_t t;
    f_tree_declare(*state, &t, 1, 2);
    f_tree_start(&t);
    int64_t t0 = h_now_ms();
    assert_int_equal(h_stop(t.county, SIGTERM), 0);
    f_stations_import(&t, (size_t) (total / 2), 1);
    if (total % 2) {
        assert_int_equal(h_import(t.st[0], 1, 99), 0);
        t.made[0]++;
    }
    assert_int_equal(f_made(&t), total);
    for (size_t i = 0; i < t.n_st; i++) {
        f_deliver_start(&t, i);
    }
    long long held = h_wait_db(t.hub[0], "SELECT count(*) FROM events", total, total, h_ms(300000));
    if (held != total) {
        fail_msg("the hub holds %lld of %lld reports after 300 s", held, total);
    }
    f_deliver_step(&t);
    fprintf(stderr, "# the hub holds the backlog of %lld reports (%.1f s); killing it\n", held,
            (double) (h_now_ms() - t0) / 1000.0);
    assert_int_equal(h_stop(t.hub[0], SIGKILL), 128 + SIGKILL);
    f_restart(t.hub[0]);
    f_restart(t.county);
    int64_t back = h_now_ms();
    long long at_county = f_wait_county(&t, h_ms(300000));
    f_tally_t c;
    f_tally(&t, &c);
    char extra[128];
    snprintf(extra, sizeof extra, "\"kills\": 1, \"drained_s\": %.1f, \"seconds\": %.1f",
             (double) (h_now_ms() - back) / 1000.0, (double) (h_now_ms() - t0) / 1000.0);
    f_report("backlog-kill", &c, extra);
    assert_int_equal(at_county, total);
    f_check_all(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_faults_hub_backlog, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
