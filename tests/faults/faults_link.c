/* When the links stall, are reset and black-hole traffic while reports flow,
 * is every report at the county exactly once after they heal?
 *
 * Scenario 4 of the fault suite (issue 6; docs/PROTOCOL.md "Testing the
 * contract"): link faults without root. Two stations reach their hub through one relay (S), the hub
 * reaches the county through another (C); both are tests/faults/relay.c,
 * whose modes are pass, stall, reset (RST both ends) and blackhole (read and
 * drop; a black-holed connection stays dead, half-open, for good: only the
 * tiers' own timeouts get them off it). Stations deliver with `run`; reports
 * stream in throughout. The modes are cycled; the run ends in pass, drains
 * and f_check_all runs.
 *
 *   short form (ctest): a fixed cycle: each relay stalled 3 s, reset, black-
 *                       holed 2 s, with 1.5 s of pass between; 6,000 reports
 *   SANJI_FAULTS_LONG=1 (by hand): random faults (relay, mode, 1-30 s) for
 *                       10 minutes with 2-10 s of pass between; 40,000
 *                       reports; SANJI_FAULTS_SEED=N replays the choices
 *
 *   SANJI_FAULTS_LONG=1 build/tests/faults/faults_link */
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

#define LOOP_MS     20
#define LONG_RUN_MS 600000
#define CHUNK       100

typedef struct {
    int relay; /* 0: S (stations -> hub), 1: C (hub -> county), 2: both */
    const char *mode;
    int hold_ms;
} s_step_t;

static const s_step_t s_short[] = {
    {0, "stall", 3000},     {0, "pass", 1500}, {1, "stall", 3000},     {1, "pass", 1500},
    {0, "reset", 500},      {0, "pass", 1500}, {1, "reset", 500},      {1, "pass", 1500},
    {0, "blackhole", 2000}, {0, "pass", 1500}, {1, "blackhole", 2000}, {1, "pass", 1500},
};

static int
s_setup(void **state)
{
    *state = h_env_new("faults-link");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

/* Steps the stream and the deliveries for ms milliseconds. */
static void
s_run_for(f_producer_t *p, int64_t ms)
{
    int64_t end = h_now_ms() + ms;
    while (h_now_ms() < end) {
        f_producer_step(p);
        f_deliver_step(p->t);
        h_sleep_ms(LOOP_MS);
    }
}

static void
s_apply(f_relay_t *r, const s_step_t *s)
{
    if (s->relay == 0 || s->relay == 2) {
        f_relay_mode(&r[0], s->mode);
    }
    if (s->relay == 1 || s->relay == 2) {
        f_relay_mode(&r[1], s->mode);
    }
}

static void
test_faults_link(void **state)
{
    /* Is every report at the county once after its links stalled, reset and black-holed? */
    int longer = f_long();
    uint64_t rng = f_seed("faults_link");
    const long long total = longer ? 40000 : 6000;
    int64_t span_ms = 0;
    for (size_t k = 0; k < sizeof s_short / sizeof s_short[0]; k++) {
        span_ms += s_short[k].hold_ms;
    }
    span_ms = longer ? LONG_RUN_MS : span_ms;

    f_tree_t t;
    f_tree_declare(*state, &t, 1, 2);
    f_relay_t r[2];
    f_relay_start(t.env, &r[0], "relay-S", t.hub[0]->port);
    f_relay_start(t.env, &r[1], "relay-C", t.county->port);
    f_route_via(&t, t.hub[0], r[1].endpoint);
    for (size_t i = 0; i < t.n_st; i++) {
        f_route_via(&t, t.st[i], r[0].endpoint);
    }
    f_tree_start(&t);
    f_stations_import(&t, CHUNK, 1);
    for (size_t i = 0; i < t.n_st; i++) {
        f_deliver_start(&t, i);
    }
    f_producer_t p;
    f_producer_init(&p, &t, total - f_made(&t), CHUNK, span_ms);
    int64_t t0 = h_now_ms();
    int steps = 0;
    for (size_t k = 0;
         longer ? h_now_ms() - t0 < LONG_RUN_MS : k < sizeof s_short / sizeof s_short[0]; k++) {
        s_step_t s;
        if (longer) {
            static const char *const faults[] = {"stall", "reset", "blackhole"};
            s = (s_step_t){f_rand_range(&rng, 0, 2), faults[f_rand_range(&rng, 0, 2)],
                           f_rand_range(&rng, 1000, 30000)};
            if (k % 2 == 1) {
                s = (s_step_t){2, "pass", f_rand_range(&rng, 2000, 10000)};
            }
        } else {
            s = s_short[k];
        }
        s_apply(r, &s);
        fprintf(stderr,
                "# %.1f s: %s %s for %d ms (%lld made, %lld at the hub, %lld at the"
                " county)\n",
                (double) (h_now_ms() - t0) / 1000.0,
                s.relay == 0   ? "S"
                : s.relay == 1 ? "C"
                               : "S+C",
                s.mode, s.hold_ms, f_made(&t), h_db_scalar(t.hub[0], "SELECT count(*) FROM events"),
                h_db_scalar(t.county, "SELECT count(*) FROM events"));
        s_run_for(&p, s.hold_ms);
        steps++;
    }
    s_apply(r, &(s_step_t){2, "pass", 0});
    int64_t healed = h_now_ms();
    f_producer_finish(&p, h_ms(120000));
    assert_int_equal(f_wait_county(&t, h_ms(180000)), f_made(&t));
    fprintf(stderr,
            "# %d fault steps in %.1f s; everything at the county %.1f s after the links"
            " healed\n",
            steps, (double) (healed - t0) / 1000.0, (double) (h_now_ms() - healed) / 1000.0);
    f_check_all(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_faults_link, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
