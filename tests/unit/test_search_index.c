/* The search index off the ingest path (sj_history.h), at the county and
 * at the hub: reports stored through the ingest path are not in the FTS
 * table until the idle indexer runs, yet `search` finds them (a LIKE scan
 * of the rows above the mark); after each step of the indexer, and once it
 * is done, the results are the same; the mark ends at the top of the events
 * table; each summary is in the table once (a correction of a matter not
 * indexed yet included). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "county_query.h"
#include "county_store.h"
#include "county_store_view.h"
#include "hub_read.h"
#include "hub_store.h"
#include "hub_store_view.h"
#include "sj_db.h"
#include "sj_history.h"
#include "sj_ids.h"
#include "sj_link.h"
#include "sj_table.h"
#include "sj_wire.h"

#define TOWNSHIP "230523100"
#define STATION  "230523100201"
#define N        60

/* The texts looked for: phrases of 3+ characters (the index and the scan
 * of the rows above the mark), an ASCII word in another case, a short text
 * (a scan of everything), one found nowhere. */
static const char *const s_queries[] = {"土地承包", "第7号",  "第1",      "工资",     "ROAD",
                                        "road 1",   "宅基地", "调解协议", "拖欠工资", "更正后"};
#define NQ (sizeof s_queries / sizeof s_queries[0])

static void
s_summary(int i, char *out, size_t size)
{
    static const char *const kinds[] = {"土地承包纠纷", "企业拖欠工资", "Road repair"};
    snprintf(out, size, "%s第%d号", kinds[i % 3], i);
}

static sj_event_t *
s_report(sj_event_t *ev, const uint8_t epoch[SJ_EPOCH_BYTES], uint64_t seq, int i)
{
    memset(ev, 0, sizeof *ev);
    sj_uuid7_new(ev->id);
    snprintf(ev->origin, sizeof ev->origin, "%s", STATION);
    memcpy(ev->epoch, epoch, SJ_EPOCH_BYTES);
    ev->origin_seq = seq;
    ev->created_ms = sj_now_ms() + i;
    ev->type = SJ_EVENT_REPORT;
    snprintf(ev->report.occurred_on, sizeof ev->report.occurred_on, "2026-03-05");
    ev->report.channel = 1;
    ev->report.kind = 1;
    ev->report.persons = 1;
    ev->report.level = 1;
    ev->report.category = 1;
    ev->report.outcome = 1;
    ev->report.source = 1;
    s_summary(i, ev->summary, sizeof ev->summary);
    snprintf(ev->officer, sizeof ev->officer, "信息员-001");
    ev->report.summary = ev->summary;
    ev->report.officer = ev->officer;
    return ev;
}

static sj_event_t *
s_status(sj_event_t *ev,
         const uint8_t epoch[SJ_EPOCH_BYTES],
         uint64_t seq,
         const uint8_t case_id[SJ_ID_BYTES],
         const char *note)
{
    memset(ev, 0, sizeof *ev);
    sj_uuid7_new(ev->id);
    snprintf(ev->origin, sizeof ev->origin, "%s", STATION);
    memcpy(ev->epoch, epoch, SJ_EPOCH_BYTES);
    ev->origin_seq = seq;
    ev->created_ms = sj_now_ms();
    ev->type = SJ_EVENT_STATUS;
    memcpy(ev->case_id, case_id, SJ_ID_BYTES);
    ev->prev_outcome = 1;
    ev->new_outcome = 3;
    snprintf(ev->note, sizeof ev->note, "%s", note);
    snprintf(ev->officer, sizeof ev->officer, "张丽");
    return ev;
}

static long long
s_scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

/* The results of every query, as CSV, one string (caller frees). */
typedef int (*s_search_fn)(sqlite3 *db, const char *text, sj_table_t **t);

static int
s_county_search(sqlite3 *db, const char *text, sj_table_t **t)
{
    char err[256] = "";
    int scanned = 0;
    county_filter_t f;
    memset(&f, 0, sizeof f);
    f.limit = 1000;
    int rc = county_query_search_table(db, text, &f, t, &scanned, err, sizeof err);
    if (rc != SJ_OK) {
        fail_msg("county search '%s': %s", text, err);
    }
    return rc;
}

static int
s_hub_search(sqlite3 *db, const char *text, sj_table_t **t)
{
    char err[256] = "";
    int scanned = 0;
    hub_read_filter_t f = {.text = text, .limit = 1000};
    int rc = hub_read_list(db, &f, t, &scanned, err, sizeof err);
    if (rc != SJ_OK) {
        fail_msg("hub search '%s': %s", text, err);
    }
    return rc;
}

static char *
s_results(sqlite3 *db, s_search_fn fn, long long counts[NQ])
{
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&buf, &size);
    assert_non_null(out);
    for (size_t q = 0; q < NQ; q++) {
        sj_table_t *t = NULL;
        assert_int_equal(fn(db, s_queries[q], &t), SJ_OK);
        fprintf(out, "== %s\n", s_queries[q]);
        assert_int_equal(sj_table_write(t, SJ_FMT_CSV, out), SJ_OK);
        if (counts) {
            counts[q] = (long long) sj_table_rows(t);
        }
        sj_table_destroy(&t);
    }
    fclose(out);
    return buf;
}

/* ---- the county ---- */

typedef struct {
    char dir[64];
    county_store_t *store;
    sqlite3 *db;
    uint8_t epoch[SJ_EPOCH_BYTES];
    uint64_t seq;
    uint8_t ids[N][SJ_ID_BYTES];
} s_county_t;

static void
s_county_store(s_county_t *fx, sj_event_t *ev)
{
    uint8_t *raw = NULL;
    size_t len = 0;
    assert_int_equal(sj_event_encode(ev, &raw, &len), SJ_OK);
    sj_stored_t res = SJ_STORED_DUPLICATE;
    assert_int_equal(county_store_downlink_ops.store_event(fx->store, TOWNSHIP, ev, raw, len, &res),
                     SJ_OK);
    assert_int_equal(res, SJ_STORED_NEW);
    free(raw);
}

static void
s_county_fill(s_county_t *fx, int from, int to)
{
    sj_event_t *ev = calloc(1, sizeof *ev);
    assert_non_null(ev);
    assert_int_equal(sj_db_begin(fx->db), SJ_OK);
    for (int i = from; i < to; i++) {
        s_county_store(fx, s_report(ev, fx->epoch, ++fx->seq, i));
        memcpy(fx->ids[i], ev->id, SJ_ID_BYTES);
        if (i % 10 == 3) {
            s_county_store(fx, s_status(ev, fx->epoch, ++fx->seq, fx->ids[i], "双方签订调解协议"));
        }
    }
    assert_int_equal(county_store_downlink_ops.batch_end(fx->store, 1), SJ_OK);
    assert_int_equal(sj_db_commit(fx->db), SJ_OK);
    free(ev);
}

static long long
s_county_mark(s_county_t *fx)
{
    return s_scalar(fx->db, "SELECT value FROM meta WHERE key = 'search_through'");
}

static void
test_county_search_index(void **state)
{
    (void) state;
    s_county_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/sanji-searchidx-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    char err[512] = "";
    fx->store = county_store_open(fx->dir, "230523", SJ_DB_WRITE, err, sizeof err);
    if (!fx->store) {
        fail_msg("county store: %s", err);
    }
    fx->db = county_store_db(fx->store);
    sj_random16(fx->epoch);
    assert_int_equal(s_county_mark(fx), 0);

    /* 1. stored through the ingest path: no summary in the index yet */
    s_county_fill(fx, 0, N);
    assert_int_equal(s_scalar(fx->db, "SELECT count(*) FROM search WHERE kind = 'summary'"), 0);
    assert_int_equal(s_scalar(fx->db, "SELECT count(*) FROM search WHERE kind = 'note'"), 6);
    long long counts[NQ];
    char *before = s_results(fx->db, s_county_search, counts);
    assert_int_equal(counts[0], N / 3);  /* 土地承包 */
    assert_int_equal(counts[1], 1);      /* 第7号 */
    assert_int_equal(counts[4], N / 3);  /* ROAD (ASCII, any case) */
    assert_int_equal(counts[6], 0);      /* 宅基地 */
    assert_int_equal(counts[7], N / 10); /* 调解协议: the notes */

    /* 2. a correction of a matter not indexed yet: its old text and its
     * new one both find it, now and once indexed */
    sj_event_t *ev = calloc(1, sizeof *ev);
    assert_non_null(ev);
    memset(ev, 0, sizeof *ev);
    sj_uuid7_new(ev->id);
    snprintf(ev->origin, sizeof ev->origin, "%s", STATION);
    memcpy(ev->epoch, fx->epoch, SJ_EPOCH_BYTES);
    ev->origin_seq = ++fx->seq;
    ev->created_ms = sj_now_ms();
    ev->type = SJ_EVENT_CORRECTION;
    memcpy(ev->case_id, fx->ids[7], SJ_ID_BYTES);
    snprintf(ev->note, sizeof ev->note, "录入错误");
    snprintf(ev->officer, sizeof ev->officer, "张丽");
    snprintf(ev->summary, sizeof ev->summary, "更正后的摘要");
    ev->report.summary = ev->summary;
    ev->report.officer = ev->officer;
    assert_int_equal(sj_db_begin(fx->db), SJ_OK);
    s_county_store(fx, ev);
    assert_int_equal(county_store_downlink_ops.batch_end(fx->store, 1), SJ_OK);
    assert_int_equal(sj_db_commit(fx->db), SJ_OK);
    free(ev);
    free(before);
    before = s_results(fx->db, s_county_search, counts);
    assert_int_equal(counts[1], 1); /* 第7号: the old text */
    assert_int_equal(counts[9], 1); /* 更正后: the new one */
    assert_int_equal(s_scalar(fx->db, "SELECT count(*) FROM search WHERE kind = 'summary'"), 1);

    /* 3. the indexer in steps of 25 events rows: the same results after each */
    long long top = s_scalar(fx->db, "SELECT max(eid) FROM events");
    int more = 1, steps = 0;
    int64_t done = 0, total = 0;
    while (more) {
        assert_int_equal(county_store_index(fx->store, 25, 1000, &more, &done), SJ_OK);
        total += done;
        steps++;
        assert_true(s_county_mark(fx) <= top);
        char *now = s_results(fx->db, s_county_search, NULL);
        assert_string_equal(now, before);
        free(now);
    }
    assert_true(steps >= 3);
    assert_int_equal(total, N);
    assert_int_equal(s_county_mark(fx), top);
    /* each summary once, and the corrected one's old text */
    assert_int_equal(s_scalar(fx->db, "SELECT count(*) FROM search WHERE kind = 'summary'"),
                     s_scalar(fx->db, "SELECT count(*) FROM matters") + 1);
    assert_int_equal(county_store_index(fx->store, 25, 1000, &more, &done), SJ_OK);
    assert_int_equal(done, 0);
    assert_int_equal(more, 0);

    /* 4. more reports: above the mark again, found, then indexed */
    s_county_fill(fx, 0, 3); /* new ids, the same texts */
    char *more_rows = s_results(fx->db, s_county_search, counts);
    assert_int_equal(counts[0], N / 3 + 1);
    assert_int_equal(county_store_index(fx->store, 1000, 1000, &more, &done), SJ_OK);
    assert_int_equal(done, 3);
    char *after = s_results(fx->db, s_county_search, NULL);
    assert_string_equal(after, more_rows);
    assert_int_equal(s_scalar(fx->db, "SELECT count(*) FROM search WHERE kind = 'summary'"),
                     s_scalar(fx->db, "SELECT count(*) FROM matters") + 1);
    free(more_rows);
    free(after);
    free(before);

    county_store_close(&fx->store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(fx);
}

/* ---- the hub ---- */

static void
s_hub_store(hub_store_t *st, sj_event_t *ev, sj_event_t *decoded)
{
    uint8_t *raw = NULL;
    size_t len = 0;
    char why[256] = "";
    assert_int_equal(sj_event_encode(ev, &raw, &len), SJ_OK);
    if (sj_event_decode(raw, len, decoded, why, sizeof why) != SJ_OK) {
        fail_msg("test event does not decode: %s", why);
    }
    sj_stored_t res = SJ_STORED_DUPLICATE;
    assert_int_equal(hub_store_downlink_ops.store_event(st, STATION, decoded, raw, len, &res),
                     SJ_OK);
    assert_int_equal(res, SJ_STORED_NEW);
    free(raw);
}

static void
test_hub_search_index(void **state)
{
    (void) state;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/sanji-searchidx-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char err[512] = "";
    hub_store_t *st = hub_store_open(dir, TOWNSHIP, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fail_msg("hub store: %s", err);
    }
    sqlite3 *db = hub_store_db(st);
    uint8_t epoch[SJ_EPOCH_BYTES];
    sj_random16(epoch);
    sj_event_t *ev = calloc(1, sizeof *ev), *decoded = calloc(1, sizeof *decoded);
    assert_non_null(ev);
    assert_non_null(decoded);
    uint64_t seq = 0;
    uint8_t id[SJ_ID_BYTES];
    assert_int_equal(sj_db_begin(db), SJ_OK);
    for (int i = 0; i < N; i++) {
        s_hub_store(st, s_report(ev, epoch, ++seq, i), decoded);
        memcpy(id, ev->id, SJ_ID_BYTES);
        if (i % 10 == 3) {
            s_hub_store(st, s_status(ev, epoch, ++seq, id, "双方签订调解协议"), decoded);
        }
    }
    assert_int_equal(sj_db_commit(db), SJ_OK);
    free(ev);
    free(decoded);

    assert_int_equal(s_scalar(db, "SELECT value FROM meta WHERE key = 'search_through'"), 0);
    assert_int_equal(s_scalar(db, "SELECT count(*) FROM search WHERE kind = 'summary'"), 0);
    long long counts[NQ];
    char *before = s_results(db, s_hub_search, counts);
    assert_int_equal(counts[0], N / 3);
    assert_int_equal(counts[1], 1);
    assert_int_equal(counts[4], N / 3);
    assert_int_equal(counts[6], 0);
    assert_int_equal(counts[7], N / 10);

    long long top = s_scalar(db, "SELECT max(hub_seq) FROM events");
    int more = 1, steps = 0;
    int64_t done = 0, total = 0;
    while (more) {
        assert_int_equal(hub_store_index(st, 20, 1000, &more, &done), SJ_OK);
        total += done;
        steps++;
        char *now = s_results(db, s_hub_search, NULL);
        assert_string_equal(now, before);
        free(now);
    }
    assert_true(steps >= 3);
    assert_int_equal(total, N);
    assert_int_equal(s_scalar(db, "SELECT value FROM meta WHERE key = 'search_through'"), top);
    assert_int_equal(s_scalar(db, "SELECT count(*) FROM search WHERE kind = 'summary'"),
                     s_scalar(db, "SELECT count(*) FROM reports"));
    assert_int_equal(hub_store_index(st, 20, 1000, &more, &done), SJ_OK);
    assert_int_equal(done, 0);
    free(before);

    hub_store_close(&st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int
main(void)
{
    assert_int_equal(sj_ids_init(), SJ_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_county_search_index),
        cmocka_unit_test(test_hub_search_index),
    };
    return cmocka_run_group_tests_name("search_index", tests, NULL, NULL);
}
