/* Does the station's outbox number and chain its reports, record how far it
 * offered its stream, and, when the hub holds more than it ever offered
 * (restored from a backup), move exactly the unconfirmed reports to a new
 * epoch with a valid chain and the same ids, listing every row? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "agent_store.h"
#include "sj_db.h"
#include "sj_ids.h"

#define STATION "230523100201"

typedef struct {
    char dir[64];
    agent_store_t *st;
} s_fix_t;

static int
s_setup(void **state)
{
    s_fix_t *f = calloc(1, sizeof *f);
    if (!f) {
        return -1;
    }
    snprintf(f->dir, sizeof f->dir, "/tmp/sanji-agent-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    char err[256] = "";
    f->st = agent_store_open(f->dir, STATION, SJ_DB_WRITE, err, sizeof err);
    if (!f->st) {
        fprintf(stderr, "open: %s\n", err);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fix_t *f = *state;
    agent_store_close(&f->st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* Adds one valid report (id returned in id); returns its report number. */
static uint64_t
s_add(agent_store_t *st, const char *summary, uint8_t id[SJ_ID_BYTES])
{
    sj_event_t *ev = calloc(1, sizeof *ev);
    assert_non_null(ev);
    ev->type = SJ_EVENT_REPORT;
    snprintf(ev->report.occurred_on, sizeof ev->report.occurred_on, "2026-03-01");
    ev->report.channel = 1;
    ev->report.kind = 1;
    ev->report.persons = 2;
    ev->report.level = 2;
    ev->report.category = 5;
    ev->report.outcome = 1;
    ev->report.source = 1;
    snprintf(ev->summary, sizeof ev->summary, "%s", summary);
    ev->report.summary = ev->summary;
    ev->report.officer = ev->officer;
    sj_uuid7_new(ev->id);
    if (id) {
        memcpy(id, ev->id, SJ_ID_BYTES);
    }
    int dup = 1;
    uint64_t num = 0;
    assert_int_equal(agent_store_begin(st), SJ_OK);
    assert_int_equal(agent_store_add(st, ev, &dup, &num), SJ_OK);
    assert_int_equal(agent_store_commit(st), SJ_OK);
    assert_int_equal(dup, 0);
    free(ev);
    return num;
}

static long long
s_scalar(agent_store_t *st, const char *sql)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(agent_store_db(st), sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    long long v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* The uplink's fetch, collecting seqs. */
typedef struct {
    uint64_t seqs[64];
    size_t n;
} s_got_t;

static int
s_collect(void *ctx, uint64_t seq, const void *raw, size_t len)
{
    s_got_t *g = ctx;
    (void) raw;
    (void) len;
    if (g->n == 64) {
        return SJ_EINVAL;
    }
    g->seqs[g->n++] = seq;
    return SJ_OK;
}

static void
s_fetch_all(agent_store_t *st, s_got_t *g)
{
    memset(g, 0, sizeof *g);
    assert_int_equal(agent_store_uplink_ops.fetch(st, 1, 64, 1 << 20, s_collect, g), SJ_OK);
}

/* Walks one epoch's rows in seq order: seqs 1..n, each event decodes with
 * that epoch and origin_seq, its prev_hash is the hash of the previous
 * event's bytes (zeros first) and the hash column is the hash of its bytes.
 * ids (n of them) are filled in order. Returns n. */
static size_t
s_check_chain(agent_store_t *st, const uint8_t epoch[SJ_EPOCH_BYTES], uint8_t ids[][SJ_ID_BYTES],
              size_t max)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(agent_store_db(st),
                                        "SELECT seq, id, raw, hash FROM outbox WHERE epoch=?"
                                        " ORDER BY seq",
                                        -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(s, 1, epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    uint8_t prev[SJ_HASH_BYTES] = {0};
    sj_event_t *ev = malloc(sizeof *ev);
    assert_non_null(ev);
    size_t n = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        assert_true(n < max);
        assert_int_equal(sqlite3_column_int64(s, 0), (long long) n + 1);
        const uint8_t *raw = sqlite3_column_blob(s, 2);
        size_t len = (size_t) sqlite3_column_bytes(s, 2);
        char why[256];
        assert_int_equal(sj_event_decode(raw, len, ev, why, sizeof why), SJ_OK);
        assert_memory_equal(ev->epoch, epoch, SJ_EPOCH_BYTES);
        assert_int_equal(ev->origin_seq, n + 1);
        assert_string_equal(ev->origin, STATION);
        assert_memory_equal(ev->prev_hash, prev, SJ_HASH_BYTES);
        assert_memory_equal(ev->id, sqlite3_column_blob(s, 1), SJ_ID_BYTES);
        sj_event_hash(raw, len, prev);
        assert_memory_equal(sqlite3_column_blob(s, 3), prev, SJ_HASH_BYTES);
        memcpy(ids[n], ev->id, SJ_ID_BYTES);
        n++;
    }
    sqlite3_finalize(s);
    free(ev);
    return n;
}

static void
test_agent_store_add_numbers_and_chains(void **state)
{
    s_fix_t *f = *state;
    uint8_t ids[3][SJ_ID_BYTES], got[4][SJ_ID_BYTES];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(s_add(f->st, "x", ids[i]), (uint64_t) i + 1);
    }
    assert_int_equal(s_check_chain(f->st, agent_store_epoch(f->st), got, 4), 3);
    assert_memory_equal(got, ids, sizeof ids);
    /* The same id again stores nothing. */
    sj_event_t *ev = calloc(1, sizeof *ev);
    assert_non_null(ev);
    ev->type = SJ_EVENT_REPORT;
    memcpy(ev->id, ids[1], SJ_ID_BYTES);
    int dup = 0;
    assert_int_equal(agent_store_begin(f->st), SJ_OK);
    assert_int_equal(agent_store_add(f->st, ev, &dup, NULL), SJ_OK);
    assert_int_equal(agent_store_commit(f->st), SJ_OK);
    free(ev);
    assert_int_equal(dup, 1);
    assert_int_equal(s_scalar(f->st, "SELECT count(*) FROM outbox"), 3);
}

static void
test_agent_store_fetch_records_offered(void **state)
{
    s_fix_t *f = *state;
    for (int i = 0; i < 4; i++) {
        s_add(f->st, "x", NULL);
    }
    assert_int_equal(s_scalar(f->st, "SELECT value FROM meta WHERE key='offered_through'"), 0);
    s_got_t g;
    s_fetch_all(f->st, &g);
    assert_int_equal(g.n, 4);
    for (size_t i = 0; i < g.n; i++) {
        assert_int_equal(g.seqs[i], i + 1);
    }
    /* Recorded before anything was handed out; never lowered. */
    assert_int_equal(s_scalar(f->st, "SELECT value FROM meta WHERE key='offered_through'"), 4);
    uint64_t head = 0;
    assert_int_equal(agent_store_uplink_ops.head(f->st, &head), SJ_OK);
    assert_int_equal(head, 4);
}

static void
test_agent_store_lost_ack_is_not_divergence(void **state)
{
    s_fix_t *f = *state;
    for (int i = 0; i < 5; i++) {
        s_add(f->st, "x", NULL);
    }
    s_got_t g;
    s_fetch_all(f->st, &g);
    uint8_t before[SJ_EPOCH_BYTES], epoch[SJ_EPOCH_BYTES];
    memcpy(before, agent_store_epoch(f->st), SJ_EPOCH_BYTES);
    /* The hub committed all 5 but the ack was lost: nothing moves. */
    int moved = 1;
    assert_int_equal(agent_store_diverged(f->st, 5, &moved, epoch), SJ_OK);
    assert_int_equal(moved, 0);
    assert_memory_equal(agent_store_epoch(f->st), before, SJ_EPOCH_BYTES);
    assert_int_equal(agent_store_uplink_ops.acked(f->st, 5, NULL, 0), SJ_OK);
    agent_counts_t n;
    assert_int_equal(agent_store_counts(f->st, &n), SJ_OK);
    assert_int_equal(n.total, 5);
    assert_int_equal(n.at_hub, 5);
    assert_int_equal(n.queued, 0);
}

typedef struct {
    uint64_t seq[32];
    agent_state_t state[32];
    int readable[32];
    char unreadable[32][64];
    size_t n;
} s_list_t;

static int
s_list_row(void *ctx, const agent_outbox_row_t *row)
{
    s_list_t *l = ctx;
    assert_true(l->n < 32);
    l->seq[l->n] = row->seq;
    l->state[l->n] = row->state;
    l->readable[l->n] = row->ev != NULL;
    snprintf(l->unreadable[l->n], sizeof l->unreadable[l->n], "%s", row->unreadable);
    l->n++;
    return SJ_OK;
}

static void
test_agent_store_diverged_moves_unconfirmed(void **state)
{
    s_fix_t *f = *state;
    /* 5 delivered (offered and acked), then 3 made after the backup copy
     * point that the hub never got from this copy: it holds 10 of the epoch. */
    uint8_t ids[8][SJ_ID_BYTES];
    for (int i = 0; i < 5; i++) {
        s_add(f->st, "old", ids[i]);
    }
    s_got_t g;
    s_fetch_all(f->st, &g);
    assert_int_equal(agent_store_uplink_ops.acked(f->st, 5, NULL, 0), SJ_OK);
    for (int i = 5; i < 8; i++) {
        s_add(f->st, "new", ids[i]);
    }
    uint8_t old[SJ_EPOCH_BYTES], epoch[SJ_EPOCH_BYTES];
    memcpy(old, agent_store_epoch(f->st), SJ_EPOCH_BYTES);
    int moved = 0;
    assert_int_equal(agent_store_uplink_ops.diverged(f->st, 10, &moved, epoch), SJ_OK);
    assert_int_equal(moved, 1);
    assert_memory_not_equal(epoch, old, SJ_EPOCH_BYTES);
    assert_memory_equal(agent_store_epoch(f->st), epoch, SJ_EPOCH_BYTES);
    /* The old epoch keeps the 5 it had, unchanged; the 3 are 1..3 of the new
     * one, chained from zeros, with the same ids in the same order. */
    uint8_t got[8][SJ_ID_BYTES];
    assert_int_equal(s_check_chain(f->st, old, got, 8), 5);
    assert_memory_equal(got, ids, sizeof ids[0] * 5);
    assert_int_equal(s_check_chain(f->st, epoch, got, 8), 3);
    assert_memory_equal(got, ids[5], sizeof ids[0] * 3);
    assert_int_equal(s_scalar(f->st, "SELECT value FROM meta WHERE key='last_seq'"), 3);
    assert_int_equal(s_scalar(f->st, "SELECT value FROM meta WHERE key='acked_through'"), 0);
    assert_int_equal(s_scalar(f->st, "SELECT value FROM meta WHERE key='offered_through'"), 0);
    assert_int_equal(s_scalar(f->st, "SELECT count(*) FROM meta WHERE key='last_hash' AND"
                                     " value = (SELECT hash FROM outbox ORDER BY num DESC"
                                     " LIMIT 1)"),
                     1);
    uint64_t head = 0;
    assert_int_equal(agent_store_uplink_ops.head(f->st, &head), SJ_OK);
    assert_int_equal(head, 3);
    /* A report made now continues the new chain; numbers go on. */
    assert_int_equal(s_add(f->st, "later", NULL), 9);
    assert_int_equal(s_check_chain(f->st, epoch, got, 8), 4);
    /* Every row listed: the old epoch's as at-hub, the rest queued. */
    agent_counts_t n;
    assert_int_equal(agent_store_counts(f->st, &n), SJ_OK);
    assert_int_equal(n.total, 9);
    assert_int_equal(n.at_hub, 5);
    assert_int_equal(n.queued, 4);
    assert_int_equal(n.rejected, 0);
    s_list_t l = {0};
    assert_int_equal(agent_store_outbox(f->st, s_list_row, &l), SJ_OK);
    assert_int_equal(l.n, 9);
    for (size_t i = 0; i < l.n; i++) {
        assert_int_equal(l.seq[i], i + 1);
        assert_int_equal(l.state[i], i < 5 ? AGENT_AT_HUB : AGENT_QUEUED);
    }
    /* The hub confirms the new epoch; the hub's rejection of its seq 2 (the
     * 7th report) is kept by id. */
    s_fetch_all(f->st, &g);
    assert_int_equal(g.n, 4);
    Sanji__Rejection rej = SANJI__REJECTION__INIT, *rejp = &rej;
    rej.seq = 2;
    rej.code = 7;
    rej.reason.data = (uint8_t *) "duplicate id";
    rej.reason.len = strlen("duplicate id");
    assert_int_equal(agent_store_uplink_ops.acked(f->st, 4, &rejp, 1), SJ_OK);
    assert_int_equal(agent_store_counts(f->st, &n), SJ_OK);
    assert_int_equal(n.at_hub, 8);
    assert_int_equal(n.queued, 0);
    assert_int_equal(n.rejected, 1);
    memset(&l, 0, sizeof l);
    assert_int_equal(agent_store_outbox(f->st, s_list_row, &l), SJ_OK);
    assert_int_equal(l.state[6], AGENT_REJECTED);
}

static void
test_agent_store_diverged_keeps_unreadable_listed(void **state)
{
    s_fix_t *f = *state;
    for (int i = 0; i < 3; i++) {
        s_add(f->st, "x", NULL);
    }
    /* Report 2's bytes are damaged; none was ever offered. */
    assert_int_equal(sj_db_exec(agent_store_db(f->st),
                                "UPDATE outbox SET raw = x'0f0f0f' WHERE num = 2"),
                     SJ_OK);
    uint8_t epoch[SJ_EPOCH_BYTES];
    int moved = 0;
    assert_int_equal(agent_store_diverged(f->st, 7, &moved, epoch), SJ_OK);
    assert_int_equal(moved, 1);
    /* The two readable ones form the new epoch's chain... */
    uint8_t got[4][SJ_ID_BYTES];
    assert_int_equal(s_check_chain(f->st, epoch, got, 4), 2);
    /* ...the damaged one stays where it was, listed as rejected with why. */
    s_list_t l = {0};
    assert_int_equal(agent_store_outbox(f->st, s_list_row, &l), SJ_OK);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.readable[1], 0);
    assert_int_equal(l.state[1], AGENT_REJECTED);
    assert_true(strlen(l.unreadable[1]) > 0);
    assert_int_equal(l.state[0], AGENT_QUEUED);
    assert_int_equal(l.state[2], AGENT_QUEUED);
    agent_counts_t n;
    assert_int_equal(agent_store_counts(f->st, &n), SJ_OK);
    assert_int_equal(n.total, 3);
    assert_int_equal(n.rejected, 1);
    assert_int_equal(n.queued, 2);
    assert_int_equal(n.at_hub, 0);
}

static void
test_agent_store_second_handle_follows_the_move(void **state)
{
    s_fix_t *f = *state;
    s_add(f->st, "x", NULL);
    char err[256];
    agent_store_t *other = agent_store_open(f->dir, NULL, SJ_DB_WRITE, err, sizeof err);
    assert_non_null(other);
    uint8_t epoch[SJ_EPOCH_BYTES], seen[SJ_EPOCH_BYTES];
    int moved = 0;
    assert_int_equal(agent_store_diverged(f->st, 3, &moved, epoch), SJ_OK);
    assert_int_equal(moved, 1);
    /* The other handle (another process's uplink) adopts the new epoch on its
     * next Welcome instead of moving the store again... */
    moved = 0;
    assert_int_equal(agent_store_diverged(other, 3, &moved, seen), SJ_OK);
    assert_int_equal(moved, 1);
    assert_memory_equal(seen, epoch, SJ_EPOCH_BYTES);
    /* ...and a report it adds joins the new chain. */
    s_add(other, "y", NULL);
    uint8_t got[4][SJ_ID_BYTES];
    assert_int_equal(s_check_chain(f->st, epoch, got, 4), 2);
    agent_store_close(&other);
    assert_null(other);
}

static void
test_agent_store_counts_never_wrap(void **state)
{
    s_fix_t *f = *state;
    s_add(f->st, "x", NULL);
    /* A mark above the head (as an older build could record) is not "-1 queued". */
    assert_int_equal(agent_store_uplink_ops.acked(f->st, 9, NULL, 0), SJ_OK);
    agent_counts_t n;
    assert_int_equal(agent_store_counts(f->st, &n), SJ_OK);
    assert_int_equal(n.total, 1);
    assert_int_equal(n.queued, 0);
    assert_int_equal(n.at_hub, 1);
}

static void
test_agent_store_open_errors(void **state)
{
    s_fix_t *f = *state;
    char err[256] = "";
    agent_store_t *st = agent_store_open(f->dir, "230523100202", SJ_DB_WRITE, err, sizeof err);
    assert_null(st);
    assert_non_null(strstr(err, "belongs to station " STATION));
    char dir[96];
    snprintf(dir, sizeof dir, "%s/new", f->dir);
    st = agent_store_open(dir, "2305", SJ_DB_WRITE, err, sizeof err);
    assert_null(st);
    assert_non_null(strstr(err, "12-digit"));
}

static void
test_agent_store_concurrent_first_open(void **state)
{
    /* Two tools opening a new store at once (run and submit) share one epoch. */
    (void) state;
    for (int round = 0; round < 10; round++) {
        char dir[64];
        snprintf(dir, sizeof dir, "/tmp/sanji-agent-race-XXXXXX");
        assert_non_null(mkdtemp(dir));
        char sub[96];
        snprintf(sub, sizeof sub, "%s/new", dir);
        int pipes[3][2];
        pid_t kids[3];
        for (int k = 0; k < 3; k++) {
            assert_int_equal(pipe(pipes[k]), 0);
            kids[k] = fork();
            if (kids[k] == 0) {
                char err[256] = "";
                agent_store_t *st = agent_store_open(sub, STATION, SJ_DB_WRITE, err, sizeof err);
                if (!st) {
                    _exit(1);
                }
                ssize_t w = write(pipes[k][1], agent_store_epoch(st), SJ_EPOCH_BYTES);
                agent_store_close(&st);
                _exit(w == SJ_EPOCH_BYTES ? 0 : 1);
            }
            close(pipes[k][1]);
        }
        uint8_t epochs[3][SJ_EPOCH_BYTES];
        for (int k = 0; k < 3; k++) {
            assert_int_equal(read(pipes[k][0], epochs[k], SJ_EPOCH_BYTES), SJ_EPOCH_BYTES);
            close(pipes[k][0]);
            int status = 0;
            assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
            assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        assert_memory_equal(epochs[0], epochs[1], SJ_EPOCH_BYTES);
        assert_memory_equal(epochs[0], epochs[2], SJ_EPOCH_BYTES);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_agent_store_add_numbers_and_chains, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_agent_store_fetch_records_offered, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_agent_store_lost_ack_is_not_divergence, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_agent_store_diverged_moves_unconfirmed, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_agent_store_diverged_keeps_unreadable_listed, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_agent_store_second_handle_follows_the_move, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_agent_store_counts_never_wrap, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_agent_store_open_errors, s_setup, s_teardown),
        cmocka_unit_test(test_agent_store_concurrent_first_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
