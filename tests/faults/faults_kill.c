/* When any tier is killed with SIGKILL every 0.5-3 s while reports stream in,
 * and started again each time, is every report at the county exactly once?
 *
 * Scenario 1 of the fault suite (issue 6; docs/PROTOCOL.md "Testing the
 * contract"): a random SIGKILL soak. A county, two hubs, two stations under each; three stations
 * deliver with `run`, the fourth with one `sync` after another. A stream of
 * reports is imported at the stations, round robin, spread over the whole
 * run. Every 0.5-3 s (a seeded PRNG; the seed is printed) one of the seven
 * deliverers/daemons is chosen, killed with SIGKILL and started again at
 * once. Then the stream ends, everything drains and f_check_all runs.
 *
 *   short form (ctest):            20,000 reports,    15 kills (~30 s)
 *   SANJI_FAULTS_LONG=1 (by hand): 100,000 reports, 1,000 kills (~30 min)
 *   SANJI_FAULTS_SEED=N            replays a run's choices and intervals
 *                                  (the timing of the tiers is not replayed)
 *   SANJI_FAULTS_N, SANJI_FAULTS_KILLS  other sizes (scripts/faults-compare.sh)
 *
 *   SANJI_FAULTS_LONG=1 build/tests/faults/faults_kill */
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

#define GAP_MIN_MS 500
#define GAP_MAX_MS 3000
#define LOOP_MS    10

enum { V_COUNTY = 0, V_HUB0, V_HUB1, V_ST0, V_COUNT = V_ST0 + 4 };

static int
s_setup(void **state)
{
    *state = h_env_new("faults-kill");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

/* A daemon that died by itself is a bug: say which, with its log. */
static void
s_check_alive(const f_tree_t *t)
{
    const h_node_t *d[] = {t->county, t->hub[0], t->hub[1]};
    for (size_t k = 0; k < 3; k++) {
        if (!h_proc_running(d[k]->proc)) {
            h_print_tail(d[k]->proc->out_path, 40);
            fail_msg("%s died by itself (exit %d)", d[k]->proc->name, h_proc_wait(d[k]->proc, 0));
        }
    }
}

static void
s_kill_daemon(h_node_t *node)
{
    int code = h_stop(node, SIGKILL);
    if (code != 128 + SIGKILL) {
        fail_msg("%s was not running when killed (exit %d)", node->data, code);
    }
    f_restart(node);
}

static void
test_faults_kill_random(void **state)
{
    /* Is every report at the county once after random kill -9 of every tier, mid-stream? */
    int longer = f_long();
    uint64_t rng = f_seed("faults_kill");
    const long long total = f_env_size("SANJI_FAULTS_N", longer ? 100000 : 20000);
    const int kills_want = (int) f_env_size("SANJI_FAULTS_KILLS", longer ? 1000 : 15);
    const int64_t span_ms = (int64_t) kills_want * (GAP_MIN_MS + GAP_MAX_MS) / 2;
    size_t chunk = (size_t) (total * 250 / span_ms); /* about one import every 250 ms */
    chunk = chunk < 10 ? 10 : chunk;

    f_tree_t t;
    f_tree_declare(*state, &t, 2, 2);
    t.use_sync[3] = 1;
    f_tree_start(&t);
    f_stations_import(&t, chunk, 1);
    for (size_t i = 0; i < t.n_st; i++) {
        f_deliver_start(&t, i);
    }
    f_producer_t p;
    f_producer_init(&p, &t, total - (long long) (t.n_st * chunk), chunk, span_ms);
    int kills = 0, by_victim[V_COUNT] = {0};
    int64_t t0 = h_now_ms();
    int64_t next = t0 + f_rand_range(&rng, GAP_MIN_MS, GAP_MAX_MS);
    while (kills < kills_want || !f_producer_done(&p)) {
        f_producer_step(&p);
        f_deliver_step(&t);
        s_check_alive(&t);
        if (kills < kills_want && h_now_ms() >= next) {
            int v = f_rand_range(&rng, 0, V_COUNT - 1);
            const char *what = "";
            if (v == V_COUNTY) {
                s_kill_daemon(t.county);
                what = "county";
            } else if (v == V_HUB0 || v == V_HUB1) {
                s_kill_daemon(t.hub[v - V_HUB0]);
                what = t.hub[v - V_HUB0]->code;
            } else if (f_deliver_kill(&t, (size_t) (v - V_ST0))) {
                what = t.st[v - V_ST0]->code;
            } else {
                continue; /* that station's sync had just ended: choose again */
            }
            kills++;
            by_victim[v]++;
            if (!longer || kills % 50 == 0) {
                fprintf(stderr,
                        "# kill %d/%d at %.1f s: %s %s (%lld reports made, %lld at the"
                        " county)\n",
                        kills, kills_want, (double) (h_now_ms() - t0) / 1000.0, what,
                        v >= V_ST0 ? (t.use_sync[v - V_ST0] ? "sync" : "run") : "daemon",
                        f_made(&t), h_db_scalar(t.county, "SELECT count(*) FROM events"));
            }
            next = h_now_ms() + f_rand_range(&rng, GAP_MIN_MS, GAP_MAX_MS);
        }
        h_sleep_ms(LOOP_MS);
    }
    fprintf(stderr,
            "# %d kills in %.1f s (county %d, hubs %d+%d, stations %d+%d+%d+%d);"
            " %lld reports made\n",
            kills, (double) (h_now_ms() - t0) / 1000.0, by_victim[V_COUNTY], by_victim[V_HUB0],
            by_victim[V_HUB1], by_victim[V_ST0], by_victim[V_ST0 + 1], by_victim[V_ST0 + 2],
            by_victim[V_ST0 + 3], f_made(&t));
    long long at_county = f_wait_county(&t, h_ms(180000));
    f_tally_t c;
    f_tally(&t, &c);
    char extra[256];
    snprintf(extra, sizeof extra,
             "\"kills\": %d, \"kills_county\": %d, \"kills_hubs\": %d, \"kills_stations\": %d,"
             " \"seconds\": %.1f",
             kills, by_victim[V_COUNTY], by_victim[V_HUB0] + by_victim[V_HUB1],
             kills - by_victim[V_COUNTY] - by_victim[V_HUB0] - by_victim[V_HUB1],
             (double) (h_now_ms() - t0) / 1000.0);
    f_report("random-kill", &c, extra);
    assert_int_equal(at_county, f_made(&t));
    f_check_all(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_faults_kill_random, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
