/* The downward stream as robust as the upward one (issue 19): a refused
 * item does not stop a station's stream and its refusal reaches the
 * county's status; an item of a kind today's hub and station do not know
 * passes them; acked items are pruned after the retention and a station
 * made anew still gets its open assigned cases; a county restored from a
 * backup sends its hub nothing it holds, and what it assigns after the
 * restore arrives once. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "harness.h"
#include "sj_wire.h"

#define T100 "230523100"
#define S1   "230523100201"
#define S2   "230523100202"
#define DUE  "2099-12-31"

static int
s_setup(void **state)
{
    *state = h_env_new("down");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

static void
s_submit(h_node_t *st, char id[40])
{
    const char *args[] = {"submit",    "--channel",      "visit",  "--level", "township",
                          "--summary", "宅基地边界纠纷", "--wait", "0",       NULL};
    h_result_t r;
    assert_int_equal(h_agent(st, args, &r, h_ms(30000)), 0);
    assert_true(strlen(r.out) >= 36);
    snprintf(id, 40, "%.36s", r.out);
    h_result_free(&r);
}

static void
s_sync(h_node_t *st, int until_county)
{
    const char *args[] = {"sync", "--timeout", h_valgrind() ? "300" : "30",
                          until_county ? "--until-county" : NULL, NULL};
    h_result_t r;
    int code = h_agent(st, args, &r, h_ms(60000));
    if (code != 0) {
        fprintf(stderr, "# sync: %s%s\n", r.out, r.err);
    }
    assert_int_equal(code, 0);
    h_result_free(&r);
}

static void
s_assign(h_node_t *node, const char *id, const char *to)
{
    const char *args[] = {id, "--to", to, "--due", DUE, "--note", "限期解决", NULL};
    h_result_t r;
    int code = h_tool(node, "assign", args, &r);
    if (code != 0) {
        fprintf(stderr, "# assign: %s\n", r.err);
    }
    assert_int_equal(code, 0);
    h_result_free(&r);
}

static long long
s_inbox(const h_node_t *st)
{
    return h_db_scalar(st, "SELECT count(*) FROM inbox");
}

/* Runs sql on node's store (the daemon may be running: WAL, busy wait). */
static void
s_exec(const h_node_t *node, const char *sql, const uint8_t *blob, size_t len)
{
    char path[H_PATH];
    h_db_path(node, path, sizeof path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (blob) {
        sqlite3_bind_blob(st, 1, blob, (int) len, SQLITE_TRANSIENT);
    }
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "# %s: %s\n", sql, sqlite3_errmsg(db));
    }
    assert_int_equal(rc, SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* A valid packed DownItem: an assignment of a made-up case to `to`. */
static void
s_item(const char *to, uint8_t fill, uint8_t **item, size_t *len)
{
    sj_event_t *ev = calloc(1, sizeof *ev);
    sj_snapshot_t *snap = calloc(1, sizeof *snap);
    assert_non_null(ev);
    assert_non_null(snap);
    ev->type = SJ_EVENT_ASSIGNMENT;
    memset(ev->id, fill, SJ_ID_BYTES);
    ev->id[6] = 0x70;
    memset(ev->case_id, (uint8_t) (fill + 1), SJ_ID_BYTES);
    ev->case_id[6] = 0x70;
    snprintf(ev->origin, sizeof ev->origin, "%s", T100);
    memset(ev->epoch, 0x33, SJ_EPOCH_BYTES);
    ev->origin_seq = fill;
    ev->created_ms = 1700000000000;
    snprintf(ev->assignee, sizeof ev->assignee, "%s", to);
    snprintf(ev->due_on, sizeof ev->due_on, DUE);
    snprintf(snap->occurred_on, sizeof snap->occurred_on, "2024-05-01");
    snap->channel = snap->category = snap->kind = snap->persons = 1;
    snap->outcome = 1;
    snprintf(snap->summary, sizeof snap->summary, "边界纠纷");
    snprintf(snap->origin, sizeof snap->origin, "%s", S1);
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    assert_int_equal(sj_event_encode(ev, &raw, &raw_len), SJ_OK);
    assert_int_equal(sj_down_item_encode(raw, raw_len, snap, item, len), SJ_OK);
    free(raw);
    free(ev);
    free(snap);
}

/* Starts county and hub, submits n reports at S1 and syncs them up. */
static void
s_tree(h_node_t *county, h_node_t *hub, h_node_t *st, char ids[][40], int n)
{
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    for (int i = 0; i < n; i++) {
        s_submit(st, ids[i]);
    }
    s_sync(st, 1);
}

/* (1) a bad item between two valid assignments in the station's stream:
 * the station applies both valid ones, keeps the bad one with its reason,
 * and the county's status names it; status --check warns. */
static void
test_down_refused_item(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S1, hub);
    char ids[2][40];
    s_tree(county, hub, st, ids, 2);
    s_assign(county, ids[0], S1);
    assert_int_equal(
        h_wait_db(hub, "SELECT count(*) FROM down WHERE child='" S1 "'", 1, 1, h_ms(10000)), 1);
    /* seq 2 of the station's stream, by hand: an assignment to another
     * station (the station must refuse it). */
    uint8_t *item = NULL;
    size_t len = 0;
    s_item(S2, 0x41, &item, &len);
    s_exec(hub,
           "INSERT INTO down(child, seq, event_id, item, created_ms)"
           " VALUES('" S1 "', 2, zeroblob(16), ?1, 0)",
           item, len);
    free(item);
    s_assign(county, ids[1], S1);
    assert_int_equal(
        h_wait_db(hub, "SELECT count(*) FROM down WHERE child='" S1 "'", 3, 3, h_ms(10000)), 3);
    s_sync(st, 0);
    assert_int_equal(s_inbox(st), 2);
    assert_int_equal(h_db_scalar(st, "SELECT value FROM meta WHERE key='down_cursor'"), 3);
    assert_int_equal(h_db_scalar(st, "SELECT count(*) FROM down_refused WHERE seq=2"), 1);
    /* The refusal travels up: the hub, then the county (hub heartbeats). */
    assert_int_equal(h_wait_db(hub,
                               "SELECT count(*) FROM down_refusals WHERE child='" S1
                               "' AND seq=2 AND via=''",
                               1, 1, h_ms(20000)),
                     1);
    assert_int_equal(h_wait_db(county,
                               "SELECT count(*) FROM down_refusals WHERE child='" S1
                               "' AND seq=2 AND via='" T100 "'",
                               1, 1, h_ms(30000)),
                     1);
    h_result_t r;
    const char *none[] = {NULL};
    assert_int_equal(h_tool(county, "status", none, &r), 0);
    assert_non_null(strstr(r.out, "station " S1 " refused down item 2: item 2 is an assignment to"
                                  " " S2));
    h_result_free(&r);
    assert_int_equal(h_tool(hub, "status", none, &r), 0);
    assert_non_null(strstr(r.out, "station " S1 " refused down item 2:"));
    h_result_free(&r);
    const char *check[] = {"--check", NULL};
    assert_int_equal(h_tool(county, "status", check, &r), 1);
    assert_non_null(strstr(r.out, "refused down item 2"));
    h_result_free(&r);
}

/* (2) a county sends a kind today's hub and station do not know, between
 * two assignments: both keep it (and ack it), and get both assignments; a
 * kept item of a kind the build knows is applied when the store opens. */
static void
test_down_unknown_kind(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S1, hub);
    char ids[2][40];
    s_tree(county, hub, st, ids, 2);
    s_assign(county, ids[0], S1);
    assert_int_equal(
        h_wait_db(county, "SELECT count(*) FROM down WHERE child='" T100 "'", 1, 1, h_ms(10000)),
        1);
    /* A newer county's item: kind 7 (say, a place name) for the station. */
    Sanji__DownItem it = SANJI__DOWN_ITEM__INIT;
    uint8_t body[] = {0x0a, 0x03, 'x', 'y', 'z'};
    it.event.data = body;
    it.event.len = sizeof body;
    it.kind = 7;
    it.to.data = (uint8_t *) S1;
    it.to.len = strlen(S1);
    size_t len = sanji__down_item__get_packed_size(&it);
    uint8_t *item = malloc(len);
    assert_non_null(item);
    sanji__down_item__pack(&it, item);
    s_exec(county,
           "INSERT INTO down(child, seq, event_id, item, created_ms)"
           " VALUES('" T100 "', 2, zeroblob(16), ?1, 0)",
           item, len);
    free(item);
    s_assign(county, ids[1], S1);
    assert_int_equal(
        h_wait_db(hub, "SELECT value FROM meta WHERE key='down_cursor'", 3, 3, h_ms(20000)), 3);
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM down_kept WHERE seq=2 AND kind=7"), 1);
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM down_refused"), 0);
    /* The hub passed it on to the station it names, between the two. */
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM down WHERE child='" S1 "'"), 3);
    s_sync(st, 0);
    assert_int_equal(s_inbox(st), 2);
    assert_int_equal(h_db_scalar(st, "SELECT value FROM meta WHERE key='down_cursor'"), 3);
    assert_int_equal(h_db_scalar(st, "SELECT count(*) FROM down_kept WHERE kind=7"), 1);
    assert_int_equal(h_db_scalar(st, "SELECT count(*) FROM down_refused"), 0);

    /* After an upgrade: a kept item of a kind this build knows (here an
     * assignment kept as if by an older build) is applied on open. */
    uint8_t *a = NULL;
    size_t alen = 0;
    s_item(S1, 0x51, &a, &alen);
    s_exec(st, "DELETE FROM down_kept WHERE kind=7", NULL, 0);
    s_exec(st, "INSERT INTO down_kept(seq, kind, item, at_ms) VALUES(2, 1, ?1, 0)", a, alen);
    free(a);
    s_sync(st, 0);
    assert_int_equal(s_inbox(st), 3);
    assert_int_equal(h_db_scalar(st, "SELECT count(*) FROM down_kept"), 0);
}

/* (3) retention: acked items are pruned, numbering goes on, and a station
 * made anew still lists its open assigned cases. */
static void
test_down_retention(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S1, hub);
    char ids[3][40];
    s_tree(county, hub, st, ids, 3);
    s_assign(county, ids[0], S1);
    s_assign(county, ids[1], S1);
    assert_int_equal(
        h_wait_db(hub, "SELECT count(*) FROM down WHERE child='" S1 "'", 2, 2, h_ms(10000)), 2);
    s_sync(st, 0);
    assert_int_equal(
        h_wait_db(hub, "SELECT cursor FROM down_acks WHERE child='" S1 "'", 2, 2, h_ms(10000)), 2);
    /* Status shows the stream: its length and that all is acked. */
    h_result_t r;
    const char *none[] = {NULL};
    assert_int_equal(h_tool(hub, "status", none, &r), 0);
    assert_non_null(strstr(r.out, S1 ": length 2 item(s) kept (seq 1..2)"));
    assert_non_null(strstr(r.out, "all acked"));
    h_result_free(&r);
    /* The hub again, with a retention of 0 days: it prunes at start. */
    assert_int_equal(h_stop(hub, SIGTERM), 0);
    static const char *const keep0[] = {"--down-retention-days", "0", NULL};
    hub->run_extra = keep0;
    h_sleep_ms(5); /* the items are older than the retention (1 ms) */
    assert_int_equal(h_start_hub(hub), 0);
    assert_int_equal(
        h_wait_db(hub, "SELECT count(*) FROM down WHERE child='" S1 "'", 0, 0, h_ms(10000)), 0);
    assert_int_equal(h_db_scalar(hub, "SELECT floor FROM down_acks WHERE child='" S1 "'"), 2);
    /* The station's disk is replaced: cursor 0, below the floor. */
    assert_int_equal(h_rmrf(st->data), 0);
    s_sync(st, 0);
    assert_int_equal(s_inbox(st), 2);
    /* Numbering went on: the fresh items are 3 and 4; a new assignment 5. */
    assert_int_equal(h_db_scalar(hub, "SELECT min(seq) FROM down WHERE child='" S1 "'"), 3);
    s_assign(county, ids[2], S1);
    assert_int_equal(
        h_wait_db(hub, "SELECT max(seq) FROM down WHERE child='" S1 "'", 5, 5, h_ms(10000)), 5);
    s_sync(st, 0);
    assert_int_equal(s_inbox(st), 3);
    assert_int_equal(h_db_scalar(st, "SELECT value FROM meta WHERE key='down_cursor'"), 5);
}

/* (4) the county restored from a backup: the hub's cursor, in its Hello,
 * stops any re-send of what it holds (counted in the county's log), and an
 * assignment made after the restore (while the hub was away) arrives
 * once, numbered after what the hub holds. */
static void
test_down_restore(void **state)
{
    h_env_t *env = *state;
    setenv("SANJI_LOG_LEVEL", "debug", 1);
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S1, hub);
    char ids[3][40];
    s_tree(county, hub, st, ids, 3);
    s_assign(county, ids[0], S1);
    assert_int_equal(
        h_wait_db(county, "SELECT cursor FROM down_acks WHERE child='" T100 "'", 1, 1, h_ms(10000)),
        1);
    char bak[H_PATH];
    snprintf(bak, sizeof bak, "%s/county-backup.db", h_env_dir(env));
    h_result_t r;
    const char *b[] = {bak, NULL};
    assert_int_equal(h_tool(county, "backup", b, &r), 0);
    h_result_free(&r);
    s_assign(county, ids[1], S1);
    assert_int_equal(
        h_wait_db(hub, "SELECT value FROM meta WHERE key='down_cursor'", 2, 2, h_ms(10000)), 2);
    /* The county's disk fails; the hub is away while it is restored. */
    assert_int_equal(h_stop(hub, SIGTERM), 0);
    assert_int_equal(h_stop(county, SIGTERM), 0);
    assert_int_equal(h_tool(county, "restore", b, &r), 0);
    h_result_free(&r);
    assert_int_equal(h_db_scalar(county, "SELECT max(seq) FROM down WHERE child='" T100 "'"), 1);
    assert_int_equal(h_start_county(county), 0);
    /* Assigned after the restore, before the hub is back: the copy's seq 2
     * (which the hub holds for another item). */
    s_assign(county, ids[2], S1);
    assert_int_equal(h_db_scalar(county, "SELECT max(seq) FROM down WHERE child='" T100 "'"), 2);
    assert_int_equal(h_start_hub(hub), 0);
    assert_int_equal(
        h_wait_db(hub, "SELECT value FROM meta WHERE key='down_cursor'", 3, 3, h_ms(20000)), 3);
    /* Renumbered after the hub's cursor, sent once; nothing it held. */
    assert_int_equal(h_db_scalar(county, "SELECT max(seq) FROM down WHERE child='" T100 "'"), 3);
    assert_int_equal(h_log_count(county->proc, "sent downward items 3..3 to " T100), 1);
    assert_int_equal(h_log_count(county->proc, "sent downward items 1.."), 0);
    assert_int_equal(h_log_count(county->proc, "sent downward items 2.."), 0);
    assert_int_equal(h_log_count(county->proc, "sent downward items"), 1);
    assert_int_equal(h_log_count(county->proc, "holds downward items through 2"), 1);
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM assignments"), 3);
    s_sync(st, 0);
    assert_int_equal(s_inbox(st), 3);
    unsetenv("SANJI_LOG_LEVEL");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_down_refused_item, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_down_unknown_kind, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_down_retention, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_down_restore, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
