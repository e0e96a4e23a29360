/* Does every report still reach the county exactly once when a hub, the
 * county or a station's sync is killed with SIGKILL in mid-stream and started
 * again on the same data, or when a station or a hub is restored from an
 * older copy of its data directory? */
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

#define T100        "230523100"
#define T101        "230523101"
#define PER_STATION 5000 /* more than the senders' windows hold (s_start_armed) */

typedef struct {
    h_env_t *env;
    h_node_t *county;
    h_node_t *hub[2];
    h_node_t *st[4];
} s_tree_t;

static int
s_setup(void **state)
{
    *state = h_env_new("faults");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

/* County, two hubs, two stations each, all started, PER_STATION imported at
 * each. armed: 1 the county, 0 the first hub dies at its first stored
 * commit (s_start_armed); -1 none. */
static void s_start_armed(h_node_t *node);

static void
s_tree(h_env_t *env, s_tree_t *t, int armed)
{
    t->env = env;
    t->county = h_county(env);
    t->hub[0] = h_hub(env, T100, t->county);
    t->hub[1] = h_hub(env, T101, t->county);
    t->st[0] = h_station(env, T100 "201", t->hub[0]);
    t->st[1] = h_station(env, T100 "202", t->hub[0]);
    t->st[2] = h_station(env, T101 "201", t->hub[1]);
    t->st[3] = h_station(env, T101 "202", t->hub[1]);
    if (armed == 1) {
        s_start_armed(t->county);
    } else {
        assert_int_equal(h_start_county(t->county), 0);
    }
    if (armed == 0) {
        s_start_armed(t->hub[0]);
    } else {
        assert_int_equal(h_start_hub(t->hub[0]), 0);
    }
    assert_int_equal(h_start_hub(t->hub[1]), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(h_import(t->st[i], PER_STATION, 5000u + (uint32_t) i), 0);
    }
}

static void
s_spawn_syncs(s_tree_t *t, h_proc_t *p[4])
{
    for (int i = 0; i < 4; i++) {
        p[i] = h_sync_spawn(t->st[i], 120);
        assert_non_null(p[i]);
    }
}

static void
s_wait_syncs(s_tree_t *t, h_proc_t *p[4])
{
    for (int i = 0; i < 4; i++) {
        int code = h_proc_wait(p[i], h_ms(130000));
        if (code != 0) {
            fprintf(stderr, "# sync of %s exited %d; stderr:\n", t->st[i]->code, code);
            h_print_tail(p[i]->err_path, 20);
        }
        assert_int_equal(code, 0);
    }
}

/* Starts node (the county or a hub) armed to die at its first commit that
 * stores new events, before it acks them (SANJI_CRASH_AT, as abrupt as kill
 * -9): the crash falls mid-stream however fast or busy the machine is,
 * because no sender has more than its window in flight before that first
 * ack (hub: 2 stations x 8 batches x 500 < 10,000 each; county: 2 hubs x 16
 * x 500 < 20,000). Polling for "some but not all" raced the senders, which
 * could deliver everything between two polls. */
static void
s_start_armed(h_node_t *node)
{
    setenv("SANJI_CRASH_AT", "after-store-before-ack:1", 1);
    int rc = node->role == H_COUNTY ? h_start_county(node) : h_start_hub(node);
    unsetenv("SANJI_CRASH_AT");
    assert_int_equal(rc, 0);
}

/* Waits for node's armed crash; returns how many events it held then,
 * which must be some but not all of `total`. */
static long long
s_crashed_mid_stream(h_node_t *node, long long total)
{
    int code = h_proc_wait(node->proc, h_ms(60000));
    if (code != 137) {
        fail_msg("%s did not die at its crash point (exit %d)", node->data, code);
    }
    node->proc = NULL;
    long long at = h_db_scalar(node, "SELECT count(*) FROM events");
    if (at < 1 || at >= total) {
        fail_msg("the crash was not mid-stream: %lld of %lld", at, total);
    }
    return at;
}

static void
s_assert_all_at_county(s_tree_t *t)
{
    const long long total = 4LL * PER_STATION;
    int64_t t0 = h_now_ms();
    long long got = h_wait_db(t->county, "SELECT count(*) FROM events", total, total, h_ms(90000));
    fprintf(stderr, "# county complete %lld ms after the last sync returned\n",
            (long long) (h_now_ms() - t0));
    assert_int_equal(got, total);
    const h_expect_t exp[] = {{T100 "201", PER_STATION, 1},
                              {T100 "202", PER_STATION, 1},
                              {T101 "201", PER_STATION, 1},
                              {T101 "202", PER_STATION, 1}};
    char why[300] = "";
    if (h_check_exactly_once(t->county, exp, 4, why, sizeof why) != 0) {
        fail_msg("not exactly once: %s", why);
    }
    for (int i = 0; i < 2; i++) {
        const h_node_t *hub = t->hub[i];
        assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM events"), 2LL * PER_STATION);
        assert_int_equal(h_db_scalar(hub, "SELECT count(DISTINCT origin || hex(epoch) ||"
                                          " origin_seq) FROM events"),
                         2LL * PER_STATION);
        assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM quarantine"), 0);
    }
    assert_int_equal(h_db_scalar(t->county, "SELECT count(*) FROM quarantine"), 0);
}

static void
test_faults_hub_kill9(void **state)
{
    /* Is every report at the county once after a hub is killed -9 mid-stream and restarted? */
    s_tree_t t;
    s_tree(*state, &t, 0);
    h_proc_t *p[4];
    s_spawn_syncs(&t, p);
    long long at = s_crashed_mid_stream(t.hub[0], 2LL * PER_STATION);
    fprintf(stderr, "# hub %s died with %lld of %d events stored\n", T100, at, 2 * PER_STATION);
    assert_int_equal(h_start_hub(t.hub[0]), 0);
    int64_t t0 = h_now_ms();
    s_wait_syncs(&t, p);
    fprintf(stderr, "# syncs done %lld ms after the restart\n", (long long) (h_now_ms() - t0));
    s_assert_all_at_county(&t);
}

static void
test_faults_county_kill9(void **state)
{
    /* Is every report at the county once after it is killed -9 mid-stream and restarted? */
    s_tree_t t;
    s_tree(*state, &t, 1);
    h_proc_t *p[4];
    s_spawn_syncs(&t, p);
    long long at = s_crashed_mid_stream(t.county, 4LL * PER_STATION);
    fprintf(stderr, "# county died with %lld of %d events stored\n", at, 4 * PER_STATION);
    assert_int_equal(h_start_county(t.county), 0);
    s_wait_syncs(&t, p);
    s_assert_all_at_county(&t);
}

static void
test_faults_station_sync_kill9(void **state)
{
    /* Is every report at the county once after a station's sync is killed -9 and rerun? */
    s_tree_t t;
    s_tree(*state, &t, -1);
    h_proc_t *p[4];
    /* The hub commits many batches per fsync, so its count can jump from 0
     * to all at once: polling for "mid-stream" is a race. Instead the sync
     * dies at a named point (SANJI_CRASH_AT, common/sj_crash.c): _exit right
     * after its first ack arrived and before it recorded it — the worst
     * moment, and as abrupt as kill -9 (no cleanup, nothing flushed). The
     * window is 8 batches of 500, so at most 4000 of 5000 are at the hub. */
    setenv("SANJI_CRASH_AT", "after-ack-before-record:1", 1);
    p[0] = h_sync_spawn(t.st[0], 120);
    unsetenv("SANJI_CRASH_AT");
    assert_non_null(p[0]);
    for (int i = 1; i < 4; i++) {
        p[i] = h_sync_spawn(t.st[i], 120);
        assert_non_null(p[i]);
    }
    assert_int_equal(h_proc_wait(p[0], h_ms(60000)), 137);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE origin = '%s'", t.st[0]->code);
    long long at = h_db_scalar(t.hub[0], sql);
    fprintf(stderr, "# sync of %s died with %lld of %d at the hub\n", t.st[0]->code, at,
            PER_STATION);
    assert_true(at > 0 && at < PER_STATION);
    p[0] = h_sync_spawn(t.st[0], 120);
    assert_non_null(p[0]);
    s_wait_syncs(&t, p);
    s_assert_all_at_county(&t);
}

static int
s_submit(h_node_t *st, const char *summary)
{
    h_result_t r;
    const char *args[] = {"submit",    "--channel", "visit",  "--level", "county",
                          "--summary", summary,     "--wait", "0",       NULL};
    int code = h_agent(st, args, &r, h_ms(30000));
    h_result_free(&r);
    return code;
}

static void
s_sync_ok(h_node_t *st)
{
    h_result_t r;
    int code = h_sync(st, 30, &r);
    if (code != 0) {
        fail_msg("sync of %s exited %d: %s", st->code, code, r.err);
    }
    h_result_free(&r);
}

/* cp -a from to. */
static void
s_copy_dir(h_env_t *env, const char *from, const char *to)
{
    h_result_t r;
    char *cp[] = {"cp", "-a", (char *) from, (char *) to, NULL};
    assert_int_equal(h_run(env, "cp", cp, &r, h_ms(30000)), 0);
    h_result_free(&r);
}

/* The disk fails: dir is replaced by the copy at backup (which goes away). */
static void
s_restore_dir(h_env_t *env, const char *dir, const char *backup)
{
    h_result_t r;
    assert_int_equal(h_rmrf(dir), 0);
    char *mv[] = {"mv", (char *) backup, (char *) dir, NULL};
    assert_int_equal(h_run(env, "mv", mv, &r, h_ms(30000)), 0);
    h_result_free(&r);
}

/* Runs `outbox` and checks its summary line: total reports, how many are
 * accepted (at the hub, or already at the county: receipts may come back
 * at any time), queued and rejected. */
static void
s_expect_outbox(h_node_t *st,
                unsigned long long total,
                unsigned long long accepted,
                unsigned long long queued,
                unsigned long long rejected)
{
    h_result_t r;
    const char *args[] = {"outbox", NULL};
    assert_int_equal(h_agent(st, args, &r, h_ms(30000)), 0);
    fprintf(stderr, "# outbox: %s", r.err);
    const char *line = strstr(r.err, "station ");
    unsigned long long t = 0, c = 0, h = 0, q = 0, x = 0;
    int got = line ? sscanf(line,
                            "station %*s %llu reports, %llu at the county, %llu at the hub,"
                            " %llu queued, %llu rejected",
                            &t, &c, &h, &q, &x)
                   : 0;
    h_result_free(&r);
    if (got != 5 || t != total || c + h != accepted || q != queued || x != rejected) {
        fail_msg("outbox summary: want %llu reports, %llu accepted, %llu queued, %llu rejected;"
                 " got %llu, %llu+%llu, %llu, %llu",
                 total, accepted, queued, rejected, t, c, h, q, x);
    }
}

static void
test_faults_station_restored_from_backup(void **state)
{
    /* Does a station whose store is restored from an older backup still deliver its new reports? */
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, T100 "201", hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    h_result_t r;
    assert_int_equal(h_import(st, 5, 9000), 0);
    s_sync_ok(st);
    char backup[H_PATH + 16];
    snprintf(backup, sizeof backup, "%s.bak", st->data);
    s_copy_dir(env, st->data, backup);
    assert_int_equal(h_import(st, 5, 9001), 0);
    s_sync_ok(st);
    /* The disk fails; the officer restores last week's backup and goes on. */
    s_restore_dir(env, st->data, backup);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(s_submit(st, "after the restore"), 0);
    }
    int code = h_sync(st, 30, &r);
    fprintf(stderr, "# sync after restore: exit %d: %s", code, r.err);
    if (code != 0
        || !strstr(r.err, "store diverged from the hub (restored from a backup?): 3"
                          " unconfirmed reports moved to a new epoch")) {
        fail_msg("sync after the restore did not move the 3 new reports: %s", r.err);
    }
    h_result_free(&r);
    const char *sql = "SELECT count(*) FROM matters WHERE summary = 'after the restore'";
    long long got = h_wait_db(county, sql, 3, 3, h_ms(10000));
    if (got != 3) {
        fail_msg("%lld of 3 reports made after the restore reached the county", got);
    }
    /* Nothing counted twice: the old stream whole, the new one with the 3. */
    const h_expect_t exp[] = {{T100 "201", 13, 2}};
    char why[300] = "";
    if (h_check_exactly_once(county, exp, 1, why, sizeof why) != 0) {
        fail_msg("not exactly once: %s", why);
    }
    /* The 5 of the backup and the 3 new ones, all at the hub; no wrap-around. */
    s_expect_outbox(st, 8, 8, 0, 0);
}

static void
test_faults_station_restored_busy(void **state)
{
    /* Are reports kept when a restored station makes more new ones than it lost before syncing,
     * and is one that was queued in the backup but delivered before the disk died counted once? */
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, T100 "201", hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    assert_int_equal(h_import(st, 5, 9100), 0);
    s_sync_ok(st);
    /* The backup holds 2 reports not yet sent... */
    assert_int_equal(h_import(st, 2, 9101), 0);
    char backup[H_PATH + 16];
    snprintf(backup, sizeof backup, "%s.bak", st->data);
    s_copy_dir(env, st->data, backup);
    /* ...which reach the hub afterwards, with 3 more: the hub holds seq 1..10. */
    s_sync_ok(st);
    assert_int_equal(h_import(st, 3, 9102), 0);
    s_sync_ok(st);
    s_restore_dir(env, st->data, backup);
    /* 8 new reports: the restored head (15) passes the hub's mark (10). */
    assert_int_equal(h_import(st, 8, 9103), 0);
    h_result_t r;
    int code = h_sync(st, 30, &r);
    fprintf(stderr, "# sync after restore: exit %d: %s", code, r.err);
    if (code != 0 || !strstr(r.err, "10 unconfirmed reports moved to a new epoch")) {
        fail_msg("sync after the restore did not move the 2 + 8 unconfirmed reports: %s", r.err);
    }
    h_result_free(&r);
    /* The 10 delivered before the disk died and the 8 new ones, once each.
     * The 2 moved reports the hub already had are quarantined there as
     * duplicate ids (acked as rejected), never stored twice; the hub tells
     * the county (2 quarantine notices of its own stream). */
    const char *matters = "SELECT count(*) FROM matters WHERE origin = '" T100 "201'";
    assert_int_equal(h_wait_db(county, matters, 18, 18, h_ms(10000)), 18);
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM events WHERE type = 1"), 18);
    assert_int_equal(
        h_wait_db(county, "SELECT count(*) FROM events WHERE type = 4", 2, 2, h_ms(10000)), 2);
    assert_int_equal(h_db_scalar(county, "SELECT count(DISTINCT id) FROM events"), 20);
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM quarantine"), 0);
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM quarantine WHERE err_code = 7"), 2);
    assert_int_equal(
        h_db_scalar(hub, "SELECT count(DISTINCT id) FROM events WHERE origin != '" T100 "'"), 18);
    s_expect_outbox(st, 15, 13, 0, 2);
}

static void
test_faults_hub_restored_from_backup(void **state)
{
    /* Do new reports still reach the county exactly once after a hub is restored from an older
     * copy of its data directory (and collects more than it lost before the county answers)? */
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *a = h_station(env, T100 "201", hub);
    h_node_t *b = h_station(env, T100 "202", hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    const char *at_county = "SELECT count(*) FROM events";
    assert_int_equal(h_import(a, 5, 9200), 0);
    s_sync_ok(a);
    assert_int_equal(h_wait_db(county, at_county, 5, 5, h_ms(30000)), 5);
    /* Last week's copy of the hub (taken while it was stopped). */
    assert_int_equal(h_stop(hub, SIGTERM), 0);
    char backup[H_PATH + 16];
    snprintf(backup, sizeof backup, "%s.bak", hub->data);
    s_copy_dir(env, hub->data, backup);
    assert_int_equal(h_start_hub(hub), 0);
    assert_int_equal(h_import(a, 5, 9201), 0);
    s_sync_ok(a);
    assert_int_equal(h_wait_db(county, at_county, 10, 10, h_ms(30000)), 10);
    /* The hub's disk dies; it comes back from the copy while the county is
     * down, and collects 8 events (3 new of B, 5 that A resends) before the
     * county answers: its head (13) passes the county's mark (10). */
    assert_int_equal(h_stop(hub, SIGKILL), 128 + SIGKILL);
    assert_int_equal(h_stop(county, SIGTERM), 0);
    s_restore_dir(env, hub->data, backup);
    assert_int_equal(h_start_hub(hub), 0);
    assert_int_equal(h_import(b, 3, 9202), 0);
    s_sync_ok(b);
    s_sync_ok(a);
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM events"), 13);
    assert_int_equal(h_start_county(county), 0);
    long long got = h_wait_db(county, at_county, 13, 13, h_ms(30000));
    if (got != 13) {
        fail_msg("%lld of 13 events at the county after the hub's restore", got);
    }
    const h_expect_t exp[] = {{T100 "201", 10, 1}, {T100 "202", 3, 1}};
    char why[300] = "";
    if (h_check_exactly_once(county, exp, 2, why, sizeof why) != 0) {
        fail_msg("not exactly once: %s", why);
    }
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM quarantine"), 0);
    /* The hub moved its link to the county alone: the county heard it under
     * two epochs, its stations still see the store epoch. */
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM links WHERE code = '" T100 "'"), 2);
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM meta m, meta n WHERE m.key = 'epoch'"
                                      " AND n.key = 'link_epoch' AND m.value <> n.value"),
                     1);
    /* And it goes on forwarding. */
    assert_int_equal(h_import(b, 2, 9203), 0);
    s_sync_ok(b);
    assert_int_equal(h_wait_db(county, at_county, 15, 15, h_ms(30000)), 15);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_faults_hub_kill9, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_faults_county_kill9, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_faults_station_sync_kill9, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_faults_station_restored_from_backup, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_faults_station_restored_busy, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_faults_hub_restored_from_backup, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
