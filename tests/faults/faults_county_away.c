/* When the county is away for minutes while the stations keep submitting,
 * do the hubs keep accepting, and does the backlog drain by itself, exactly
 * once, when the county is back?
 *
 * Scenario 3 of the fault suite (issue 6). A county, two hubs, two stations
 * under each, every station delivering with `run`. Reports stream in at a
 * steady pace before, during and after the absence. The county is stopped
 * (SIGTERM), stays away, and is started again; nothing else is touched (no
 * sync, no restart of a hub or station).
 *
 *   short form (ctest):            20 s away,  8,000 reports
 *   SANJI_FAULTS_LONG=1 (by hand):  3 min away, 40,000 reports
 *   SANJI_FAULTS_N, SANJI_FAULTS_AWAY_S  other sizes (scripts/faults-compare.sh)
 *
 *   SANJI_FAULTS_LONG=1 build/tests/faults/faults_county_away */
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

#define BEFORE_MS 3000
#define AFTER_MS  3000
#define CHUNK     100
#define LOOP_MS   20

static int
s_setup(void **state)
{
    *state = h_env_new("faults-county-away");
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

/* Reports made at the stations of hub h. */
static long long
s_made_under(const f_tree_t *t, size_t h)
{
    long long n = 0;
    for (size_t i = 0; i < t->n_st; i++) {
        n += strncmp(t->st[i]->code, t->hub[h]->code, 9) == 0 ? t->made[i] : 0;
    }
    return n;
}

static void
test_faults_county_away(void **state)
{
    /* Do hubs keep accepting while the county is away, and does the backlog drain by itself? */
    int longer = f_long();
    (void) f_seed("faults_county_away");
    const int64_t away_ms = f_env_size("SANJI_FAULTS_AWAY_S", longer ? 180 : 20) * 1000;
    const long long total = f_env_size("SANJI_FAULTS_N", longer ? 40000 : 8000);
    f_tree_t t;
    f_tree_declare(*state, &t, 2, 2);
    f_tree_start(&t);
    f_stations_import(&t, CHUNK, 1);
    for (size_t i = 0; i < t.n_st; i++) {
        f_deliver_start(&t, i);
    }
    f_producer_t p;
    f_producer_init(&p, &t, total - f_made(&t), CHUNK, BEFORE_MS + away_ms + AFTER_MS);
    /* The county goes away once it holds some of the stream: after
     * BEFORE_MS, and not before its first report (a busy machine may take
     * longer to deliver it than BEFORE_MS). */
    s_run_for(&p, BEFORE_MS);
    int64_t first_by = h_now_ms() + h_ms(60000);
    long long before = 0;
    while ((before = h_db_scalar(t.county, "SELECT count(*) FROM events")) <= 0
           && h_now_ms() < first_by) {
        s_run_for(&p, LOOP_MS * 5);
    }
    assert_true(before > 0);

    assert_int_equal(h_stop(t.county, SIGTERM), 0);
    /* What it holds now that it stopped (it committed what was in flight
     * after the count above: a busy machine made that a race). */
    before = h_db_scalar(t.county, "SELECT count(*) FROM events");
    int64_t gone = h_now_ms();
    fprintf(stderr, "# county stopped with %lld reports; away for %lld s\n", before,
            (long long) away_ms / 1000);
    s_run_for(&p, away_ms);
    /* The hubs took everything their stations made while the county was away. */
    p.paused = 1;
    while (p.proc) {
        f_producer_step(&p);
        h_sleep_ms(LOOP_MS);
    }
    for (size_t h = 0; h < t.n_hubs; h++) {
        long long want = s_made_under(&t, h);
        long long got = h_wait_db(t.hub[h], "SELECT count(*) FROM events", want, want, h_ms(30000));
        if (got != want) {
            fail_msg("hub %s holds %lld of the %lld reports its stations made while the county"
                     " was away",
                     t.hub[h]->code, got, want);
        }
        char *argv[] = {(char *) HUB_BIN, "status", "--data", t.hub[h]->data,
                        "--format",       "json",   NULL};
        h_result_t r;
        assert_int_equal(h_run(t.env, "hub-status", argv, &r, h_ms(30000)), 0);
        fprintf(stderr, "# hub %s while the county is away: %s", t.hub[h]->code, r.out);
        assert_non_null(strstr(r.out, "\"queue_depth\""));
        assert_null(strstr(r.out, "\"queue_depth\":0,"));
        h_result_free(&r);
    }
    long long at_county = h_db_scalar(t.county, "SELECT count(*) FROM events");
    assert_int_equal(at_county, before);

    f_restart(t.county);
    int64_t back = h_now_ms();
    fprintf(stderr, "# county back after %.1f s; backlog %lld reports\n",
            (double) (back - gone) / 1000.0, f_made(&t) - at_county);
    p.paused = 0;
    /* The backlog (what was made until now) drains while the stream goes on. */
    long long backlog_end = f_made(&t);
    int64_t drained = 0, deadline = back + h_ms(120000);
    while (!drained || h_now_ms() - back < AFTER_MS) {
        if (h_now_ms() > deadline) {
            fail_msg("the backlog did not drain: %lld of %lld at the county after %lld s",
                     h_db_scalar(t.county, "SELECT count(*) FROM events"), backlog_end,
                     (long long) (h_now_ms() - back) / 1000);
        }
        if (!drained && h_db_scalar(t.county, "SELECT count(*) FROM events") >= backlog_end) {
            drained = h_now_ms();
            fprintf(stderr, "# backlog drained %.1f s after the county came back\n",
                    (double) (drained - back) / 1000.0);
        }
        f_producer_step(&p);
        f_deliver_step(&t);
        h_sleep_ms(LOOP_MS * 5);
    }
    f_producer_finish(&p, h_ms(60000));
    long long final = f_wait_county(&t, h_ms(120000));
    f_tally_t c;
    f_tally(&t, &c);
    char extra[128];
    snprintf(extra, sizeof extra, "\"away_s\": %lld, \"drained_s\": %.1f",
             (long long) away_ms / 1000, (double) (drained - back) / 1000.0);
    f_report("county-away", &c, extra);
    assert_int_equal(final, f_made(&t));
    f_check_all(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_faults_county_away, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
