/* sj_down (issue 19) on an in-memory store: a batch with a refused item and
 * an item of an unknown kind between two valid ones applies both valid ones
 * and moves the cursor past all four; a refusal is recorded once and one of
 * another subtree is refused; prune keeps the numbering (the floor); a
 * rebase numbers the items made since a restore after the child's cursor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sj_db.h"
#include "sj_down.h"
#include "sj_ids.h"

#define S1 "230523100201"
#define S2 "230523100202"

static sqlite3 *
s_db(void)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE meta(key TEXT PRIMARY KEY, value);" SJ_DOWN_SCHEMA
                                      SJ_DOWN_SCHEMA_19 SJ_DOWN_CHILD_SCHEMA_19,
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    return db;
}

static long long
s_scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* A valid assignment item to `to` (fill makes its ids). */
static void
s_item(const char *to, uint8_t fill, ProtobufCBinaryData *out)
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
    snprintf(ev->origin, sizeof ev->origin, "230523100");
    memset(ev->epoch, 0x33, SJ_EPOCH_BYTES);
    ev->origin_seq = fill;
    ev->created_ms = 1700000000000;
    snprintf(ev->assignee, sizeof ev->assignee, "%s", to);
    snprintf(ev->due_on, sizeof ev->due_on, "2099-12-31");
    snprintf(snap->occurred_on, sizeof snap->occurred_on, "2024-05-01");
    snap->channel = snap->category = snap->kind = snap->persons = 1;
    snap->outcome = 1;
    snprintf(snap->summary, sizeof snap->summary, "边界纠纷");
    snprintf(snap->origin, sizeof snap->origin, "%s", S1);
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    assert_int_equal(sj_event_encode(ev, &raw, &raw_len), SJ_OK);
    assert_int_equal(sj_down_item_encode(raw, raw_len, snap, &out->data, &out->len), SJ_OK);
    free(raw);
    free(ev);
    free(snap);
}

typedef struct {
    int applied, unknown;
} s_count_t;

/* The station's fn: refuses an item for another station. */
static int
s_apply(void *ctx,
        uint64_t seq,
        const sj_down_item_t *it,
        const uint8_t *item,
        size_t len,
        char *reason,
        size_t rs)
{
    (void) item;
    (void) len;
    s_count_t *c = ctx;
    if (!it) {
        c->unknown++;
        return SJ_OK;
    }
    if (strcmp(it->ev.assignee, S1) != 0) {
        snprintf(reason, rs, "item %llu is for %s", (unsigned long long) seq, it->ev.assignee);
        return SJ_EPROTO;
    }
    c->applied++;
    return SJ_OK;
}

static void
test_down_apply_refuses_and_keeps(void **state)
{
    (void) state;
    sqlite3 *db = s_db();
    ProtobufCBinaryData items[4];
    s_item(S1, 0x11, &items[0]);
    s_item(S2, 0x21, &items[1]); /* another station's: refused */
    uint8_t unknown[] = {0x18, 0x07, 0x22, 0x0c, '2', '3', '0', '5',
                         '2',  '3',  '1',  '0',  '0', '2', '0', '1'}; /* kind 7, to S1 */
    items[2].data = unknown;
    items[2].len = sizeof unknown;
    s_item(S1, 0x31, &items[3]);
    s_count_t c = {0};
    uint64_t cursor = 0;
    char reason[300] = "";
    assert_int_equal(sj_down_apply(db, 1, items, 4, s_apply, &c, &cursor, reason, sizeof reason),
                     SJ_OK);
    assert_int_equal(cursor, 4);
    assert_int_equal(c.applied, 2);
    assert_int_equal(c.unknown, 1);
    assert_int_equal(s_scalar(db, "SELECT count(*) FROM down_refused WHERE seq=2 AND reason LIKE"
                                  " '%for " S2 "%'"),
                     1);
    assert_int_equal(s_scalar(db, "SELECT count(*) FROM down_kept WHERE seq=3 AND kind=7"), 1);
    /* The same batch again: nothing applied twice. */
    assert_int_equal(sj_down_apply(db, 1, items, 4, s_apply, &c, &cursor, reason, sizeof reason),
                     SJ_OK);
    assert_int_equal(c.applied, 2);
    /* A gap still refuses the batch. */
    assert_int_equal(sj_down_apply(db, 6, items, 1, s_apply, &c, &cursor, reason, sizeof reason),
                     SJ_EPROTO);
    assert_non_null(strstr(reason, "a gap"));
    /* What goes up: the refusal, newest first. */
    sj_down_refusal_t r[SJ_DOWN_REFUSALS_SENT];
    size_t n = 0;
    assert_int_equal(sj_down_refusals_latest(db, r, SJ_DOWN_REFUSALS_SENT, &n), SJ_OK);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].seq, 2);
    assert_string_equal(r[0].child, "");
    /* A kept item of a kind this build knows is applied on open. */
    assert_int_equal(sqlite3_exec(db, "UPDATE down_kept SET kind=1", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "UPDATE down_kept SET item=?", -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(st, 1, items[0].data, (int) items[0].len, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    int applied = 0;
    assert_int_equal(sj_down_apply_kept(db, s_apply, &c, &applied), SJ_OK);
    assert_int_equal(applied, 1);
    assert_int_equal(c.applied, 3);
    assert_int_equal(s_scalar(db, "SELECT count(*) FROM down_kept"), 0);
    free(items[0].data);
    free(items[1].data);
    free(items[3].data);
    sqlite3_close(db);
}

static void
test_down_parent_side(void **state)
{
    (void) state;
    sqlite3 *db = s_db();
    sj_down_t *down = sj_down_new(db);
    assert_non_null(down);
    uint8_t id[SJ_ID_BYTES] = {0};
    uint8_t it[] = {1, 2, 3};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sj_down_enqueue(down, S1, id, it, sizeof it, NULL), SJ_OK);
    }
    /* Refusals: recorded once; one outside the hub's subtree is refused. */
    sj_down_refusal_t r = {.seq = 2, .child = "", .reason = "bad"};
    assert_int_equal(sj_down_refusal_record(down, S1, &r), SJ_OK);
    assert_int_equal(sj_down_refusal_record(down, S1, &r), SJ_OK);
    sj_down_refusal_t far = {.seq = 1, .child = "230524100201", .reason = "x"};
    assert_int_equal(sj_down_refusal_record(down, "230523100", &far), SJ_EINVAL);
    assert_int_equal(s_scalar(db, "SELECT count(*) FROM down_refusals"), 1);
    /* Prune what the child acked (2 of 3): numbering goes on above. */
    assert_int_equal(sj_down_acked(down, S1, 2, 1), SJ_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE down SET created_ms = 0", NULL, NULL, NULL),
                     SQLITE_OK);
    int64_t pruned = 0;
    assert_int_equal(sj_down_prune(db, 1000, &pruned), SJ_OK);
    assert_int_equal(pruned, 2);
    uint64_t head = 0, floor = 0;
    assert_int_equal(sj_down_floor(down, S1, &floor), SJ_OK);
    assert_int_equal(floor, 2);
    int lacks = 0;
    assert_int_equal(sj_down_lacks(down, S1, 0, floor, &lacks), SJ_OK);
    assert_int_equal(lacks, 1);
    assert_int_equal(sj_down_lacks(down, S1, 2, floor, &lacks), SJ_OK);
    assert_int_equal(lacks, 0);
    /* Rebase: the child holds through 7 of an earlier epoch; the items made
     * since (created_ms >= 1000: seq 3 and a new 4) go to 8 and 9. */
    assert_int_equal(sqlite3_exec(db, "UPDATE down SET created_ms = 5000", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sj_down_enqueue(down, S1, id, it, sizeof it, NULL), SJ_OK);
    int64_t moved = 0;
    assert_int_equal(sj_down_rebase(down, S1, 7, 1000, &moved), SJ_OK);
    assert_int_equal(moved, 2);
    assert_int_equal(s_scalar(db, "SELECT min(seq) FROM down"), 8);
    assert_int_equal(s_scalar(db, "SELECT max(seq) FROM down"), 9);
    /* Again (the same Hello): nothing moves. */
    assert_int_equal(sj_down_rebase(down, S1, 7, 1000, &moved), SJ_OK);
    assert_int_equal(moved, 0);
    assert_int_equal(sj_down_head(down, S1, &head), SJ_OK);
    assert_int_equal(head, 9);
    sj_down_destroy(&down);
    sqlite3_close(db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_down_apply_refuses_and_keeps),
        cmocka_unit_test(test_down_parent_side),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
