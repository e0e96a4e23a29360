/* Does the station's outbox number and chain its reports, record how far it
 * offered its stream, and, when the hub holds more than it ever offered
 * (restored from a backup), move exactly the unconfirmed reports to a new
 * epoch with a valid chain and the same ids, listing every row? Does prune
 * delete only what the county has confirmed, and keep the numbering, the
 * chain, the cases and the duplicate check whole? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "agent_store.h"
#include "county_store.h"
#include "county_verify.h"
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
s_check_chain(agent_store_t *st,
              const uint8_t epoch[SJ_EPOCH_BYTES],
              uint8_t ids[][SJ_ID_BYTES],
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
    assert_int_equal(
        sj_db_exec(agent_store_db(f->st), "UPDATE outbox SET raw = x'0f0f0f' WHERE num = 2"),
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

/* ---- prune ---- */

#define S_FAR_FUTURE_MS (sj_now_ms() + 86400LL * 1000) /* "older than 0 days": everything */

/* Delivers the station's events from seq `from` of its current epoch into a
 * county store, as the county's downlink would. */
static void
s_to_county(agent_store_t *st, county_store_t *county, uint64_t from)
{
    sqlite3 *db = agent_store_db(st);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT raw FROM outbox WHERE epoch=? AND seq>=?"
                                        " ORDER BY seq",
                                        -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(s, 1, agent_store_epoch(st), SJ_EPOCH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (sqlite3_int64) from);
    sj_event_t *ev = malloc(sizeof *ev);
    assert_non_null(ev);
    sqlite3 *cdb = county_store_db(county);
    assert_int_equal(sj_db_begin(cdb), SJ_OK);
    while (sqlite3_step(s) == SQLITE_ROW) {
        const uint8_t *raw = sqlite3_column_blob(s, 0);
        size_t len = (size_t) sqlite3_column_bytes(s, 0);
        char why[256];
        assert_int_equal(sj_event_decode(raw, len, ev, why, sizeof why), SJ_OK);
        sj_stored_t res = SJ_STORED_DUPLICATE;
        assert_int_equal(county_store_downlink_ops.store_event(county, STATION, ev, raw, len, &res),
                         SJ_OK);
        assert_int_equal(res, SJ_STORED_NEW);
    }
    assert_int_equal(sj_db_commit(cdb), SJ_OK);
    sqlite3_finalize(s);
    free(ev);
}

static long
s_county_problems(county_store_t *county)
{
    long problems = -1;
    char err[256] = "";
    FILE *out = fopen("/dev/null", "w");
    assert_non_null(out);
    assert_int_equal(
        county_verify(county_store_db(county), SJ_FMT_JSON, out, &problems, err, sizeof err),
        SJ_OK);
    fclose(out);
    return problems;
}

static void
test_agent_store_prune_only_after_receipt(void **state)
{
    s_fix_t *f = *state;
    uint8_t ids[5][SJ_ID_BYTES];
    for (int i = 0; i < 5; i++) {
        s_add(f->st, "x", ids[i]);
    }
    /* Nothing at the hub yet: all queued, nothing pruned. */
    agent_prune_t p;
    assert_int_equal(agent_store_prune(f->st, S_FAR_FUTURE_MS, 0, &p), SJ_OK);
    assert_int_equal(p.pruned, 0);
    assert_int_equal(p.kept_queued, 5);
    /* All at the hub, no receipt: still nothing. */
    s_got_t g;
    s_fetch_all(f->st, &g);
    assert_int_equal(agent_store_uplink_ops.acked(f->st, 5, NULL, 0), SJ_OK);
    assert_int_equal(agent_store_prune(f->st, S_FAR_FUTURE_MS, 0, &p), SJ_OK);
    assert_int_equal(p.pruned, 0);
    assert_int_equal(p.kept_at_hub, 5);
    /* The county's receipt covers 1..3: those go, except when too recent. */
    assert_int_equal(agent_store_uplink_ops.receipt(f->st, 3), SJ_OK);
    assert_int_equal(agent_store_prune(f->st, 0, 0, &p), SJ_OK); /* nothing is older than 1970 */
    assert_int_equal(p.pruned, 0);
    assert_int_equal(p.kept_recent, 3);
    assert_int_equal(p.kept_at_hub, 2);
    /* A dry run changes nothing. */
    assert_int_equal(agent_store_prune(f->st, S_FAR_FUTURE_MS, 1, &p), SJ_OK);
    assert_int_equal(p.pruned, 3);
    assert_int_equal(s_scalar(f->st, "SELECT count(*) FROM outbox"), 5);
    assert_int_equal(agent_store_prune(f->st, S_FAR_FUTURE_MS, 0, &p), SJ_OK);
    assert_int_equal(p.pruned, 3);
    assert_int_equal(p.kept_at_hub, 2);
    assert_int_equal(p.pruned_before, 0);
    assert_int_equal(s_scalar(f->st, "SELECT count(*) FROM outbox"), 2);
    assert_int_equal(s_scalar(f->st, "SELECT min(seq) FROM outbox"), 4);
    assert_int_equal(s_scalar(f->st, "SELECT value FROM meta WHERE key='pruned_through'"), 3);
    agent_counts_t n;
    assert_int_equal(agent_store_counts(f->st, &n), SJ_OK);
    assert_int_equal(n.total, 2);
    assert_int_equal(n.at_hub, 2);
    assert_int_equal(n.pruned, 3);
    /* Once the receipt covers all five, the newest stays: it is the head. */
    assert_int_equal(agent_store_uplink_ops.receipt(f->st, 5), SJ_OK);
    assert_int_equal(agent_store_prune(f->st, S_FAR_FUTURE_MS, 0, &p), SJ_OK);
    assert_int_equal(p.pruned, 1);
    assert_int_equal(p.kept_last, 1);
    assert_int_equal(p.pruned_before, 3);
    assert_int_equal(s_scalar(f->st, "SELECT count(*) FROM outbox"), 1);
    uint64_t head = 0;
    assert_int_equal(agent_store_uplink_ops.head(f->st, &head), SJ_OK);
    assert_int_equal(head, 5);
    /* The pruned ids are still known: adding one again is a duplicate. */
    sj_event_t *ev = calloc(1, sizeof *ev);
    assert_non_null(ev);
    ev->type = SJ_EVENT_REPORT;
    memcpy(ev->id, ids[0], SJ_ID_BYTES);
    int dup = 0;
    assert_int_equal(agent_store_begin(f->st), SJ_OK);
    assert_int_equal(agent_store_add(f->st, ev, &dup, NULL), SJ_OK);
    assert_int_equal(agent_store_commit(f->st), SJ_OK);
    assert_int_equal(dup, 1);
    free(ev);
}

static void
test_agent_store_prune_keeps_rejected(void **state)
{
    s_fix_t *f = *state;
    for (int i = 0; i < 4; i++) {
        s_add(f->st, "x", NULL);
    }
    s_got_t g;
    s_fetch_all(f->st, &g);
    Sanji__Rejection rej = SANJI__REJECTION__INIT, *rejp = &rej;
    rej.seq = 2;
    rej.code = 7;
    rej.reason.data = (uint8_t *) "bad field";
    rej.reason.len = strlen("bad field");
    assert_int_equal(agent_store_uplink_ops.acked(f->st, 4, &rejp, 1), SJ_OK);
    assert_int_equal(agent_store_uplink_ops.receipt(f->st, 4), SJ_OK);
    agent_prune_t p;
    assert_int_equal(agent_store_prune(f->st, S_FAR_FUTURE_MS, 0, &p), SJ_OK);
    assert_int_equal(p.pruned, 2);
    assert_int_equal(p.kept_rejected, 1);
    assert_int_equal(p.kept_last, 1);
    s_list_t l = {0};
    assert_int_equal(agent_store_outbox(f->st, s_list_row, &l), SJ_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.seq[0], 2);
    assert_int_equal(l.state[0], AGENT_REJECTED);
    assert_int_equal(l.seq[1], 4);
    assert_int_equal(l.state[1], AGENT_AT_COUNTY);
}

static void
test_agent_store_prune_numbering_and_chain_continue(void **state)
{
    s_fix_t *f = *state;
    char cdir[96], err[256] = "";
    snprintf(cdir, sizeof cdir, "%s/county", f->dir);
    county_store_t *county = county_store_open(cdir, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!county) {
        fail_msg("county store: %s", err);
    }
    uint8_t ids[6][SJ_ID_BYTES];
    for (int i = 0; i < 6; i++) {
        s_add(f->st, "x", ids[i]);
    }
    s_got_t g;
    s_fetch_all(f->st, &g);
    s_to_county(f->st, county, 1);
    assert_int_equal(agent_store_uplink_ops.acked(f->st, 6, NULL, 0), SJ_OK);
    assert_int_equal(agent_store_uplink_ops.receipt(f->st, 6), SJ_OK);
    /* A status change of report 1, then everything but the newest pruned. */
    sj_event_t *ev = calloc(1, sizeof *ev);
    assert_non_null(ev);
    memcpy(ev->case_id, ids[0], SJ_ID_BYTES);
    ev->new_outcome = sj_enum_value(SJ_FIELD_OUTCOME, "accepted");
    char why[300] = "";
    uint64_t num = 0;
    sj_update_result_t res;
    assert_int_equal(agent_store_begin(f->st), SJ_OK);
    assert_int_equal(agent_store_update(f->st, ev, &num, &res, why, sizeof why), SJ_OK);
    assert_int_equal(agent_store_commit(f->st), SJ_OK);
    assert_int_equal(num, 7);
    assert_true(res.took_effect);
    assert_false(ev->has_prev_change); /* made from the report */
    uint8_t accepted[SJ_ID_BYTES];
    memcpy(accepted, ev->id, SJ_ID_BYTES);
    s_fetch_all(f->st, &g);
    s_to_county(f->st, county, 7);
    assert_int_equal(agent_store_uplink_ops.acked(f->st, 7, NULL, 0), SJ_OK);
    assert_int_equal(agent_store_uplink_ops.receipt(f->st, 7), SJ_OK);
    uint8_t last_hash[SJ_HASH_BYTES];
    assert_int_equal(
        sj_db_meta_get_blob(agent_store_db(f->st), "last_hash", last_hash, SJ_HASH_BYTES), SJ_OK);
    agent_prune_t p;
    assert_int_equal(agent_store_prune(f->st, S_FAR_FUTURE_MS, 0, &p), SJ_OK);
    assert_int_equal(p.pruned, 6);
    assert_int_equal(s_scalar(f->st, "SELECT count(*) FROM outbox"), 1);
    /* The next report: number 8, seq 8, chained to the pruned stream's
     * last event, and the county proves the whole stream. */
    assert_int_equal(s_add(f->st, "after the prune", NULL), 8);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(agent_store_db(f->st),
                                        "SELECT seq, raw FROM outbox WHERE num = 8", -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(s, 0), 8);
    assert_int_equal(sj_event_decode(sqlite3_column_blob(s, 1), (size_t) sqlite3_column_bytes(s, 1),
                                     ev, why, sizeof why),
                     SJ_OK);
    sqlite3_finalize(s);
    assert_memory_equal(ev->prev_hash, last_hash, SJ_HASH_BYTES);
    memset(&g, 0, sizeof g);
    assert_int_equal(agent_store_uplink_ops.fetch(f->st, 8, 64, 1 << 20, s_collect, &g), SJ_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.seqs[0], 8);
    s_to_county(f->st, county, 8);
    assert_int_equal(s_county_problems(county), 0);
    assert_int_equal(s_scalar(f->st, "SELECT count(*) FROM meta WHERE key='offered_through'"
                                     " AND value = 8"),
                     1);
    /* The pruned case is still a case here: its outcome came from the
     * pruned change (accepted), so closing it is allowed, reopening from
     * pending is not. */
    int outcome = 0;
    assert_int_equal(agent_store_case_outcome(f->st, ids[0], &outcome), SJ_OK);
    assert_int_equal(outcome, sj_enum_value(SJ_FIELD_OUTCOME, "accepted"));
    assert_int_equal(agent_store_case_outcome(f->st, ids[3], &outcome), SJ_OK);
    assert_int_equal(outcome, sj_enum_value(SJ_FIELD_OUTCOME, "pending"));
    memset(ev, 0, sizeof *ev);
    memcpy(ev->case_id, ids[0], SJ_ID_BYTES);
    ev->new_outcome = sj_enum_value(SJ_FIELD_OUTCOME, "closed");
    assert_int_equal(agent_store_begin(f->st), SJ_OK);
    assert_int_equal(agent_store_update(f->st, ev, &num, &res, why, sizeof why), SJ_OK);
    assert_int_equal(agent_store_commit(f->st), SJ_OK);
    assert_int_equal(num, 9);
    /* it names the pruned change as the one it was made from */
    assert_true(ev->has_prev_change);
    assert_memory_equal(ev->prev_change, accepted, SJ_ID_BYTES);
    assert_int_equal(res.prev, sj_enum_value(SJ_FIELD_OUTCOME, "accepted"));
    assert_int_equal(res.now, sj_enum_value(SJ_FIELD_OUTCOME, "closed"));
    assert_int_equal(agent_store_case_outcome(f->st, ids[0], &outcome), SJ_OK);
    assert_int_equal(outcome, sj_enum_value(SJ_FIELD_OUTCOME, "closed"));
    s_to_county(f->st, county, 9);
    assert_int_equal(s_county_problems(county), 0);
    free(ev);
    county_store_close(&county);
}

static void
test_agent_store_prune_then_hub_restored(void **state)
{
    s_fix_t *f = *state;
    for (int i = 0; i < 6; i++) {
        s_add(f->st, "x", NULL);
    }
    s_got_t g;
    s_fetch_all(f->st, &g);
    assert_int_equal(agent_store_uplink_ops.acked(f->st, 6, NULL, 0), SJ_OK);
    assert_int_equal(agent_store_uplink_ops.receipt(f->st, 4), SJ_OK);
    agent_prune_t p;
    assert_int_equal(agent_store_prune(f->st, S_FAR_FUTURE_MS, 0, &p), SJ_OK);
    assert_int_equal(p.pruned, 4);
    /* A hub that still holds everything from 5 on is served as before. */
    uint8_t old[SJ_EPOCH_BYTES], epoch[SJ_EPOCH_BYTES];
    memcpy(old, agent_store_epoch(f->st), SJ_EPOCH_BYTES);
    int moved = 1;
    assert_int_equal(agent_store_diverged(f->st, 4, &moved, epoch), SJ_OK);
    assert_int_equal(moved, 0);
    assert_int_equal(agent_store_diverged(f->st, 6, &moved, epoch), SJ_OK);
    assert_int_equal(moved, 0);
    /* A hub restored from a backup holding only 2: seqs 3 and 4 are gone
     * here (the county has them), so 5 and 6 move to a new epoch. */
    assert_int_equal(agent_store_diverged(f->st, 2, &moved, epoch), SJ_OK);
    assert_int_equal(moved, 1);
    assert_memory_not_equal(epoch, old, SJ_EPOCH_BYTES);
    uint8_t got[4][SJ_ID_BYTES];
    assert_int_equal(s_check_chain(f->st, epoch, got, 4), 2);
    assert_int_equal(s_scalar(f->st, "SELECT value FROM meta WHERE key='pruned_through'"), 0);
    s_fetch_all(f->st, &g);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.seqs[0], 1);
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
        cmocka_unit_test_setup_teardown(test_agent_store_prune_only_after_receipt, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_agent_store_prune_keeps_rejected, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_agent_store_prune_numbering_and_chain_continue,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_agent_store_prune_then_hub_restored, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
