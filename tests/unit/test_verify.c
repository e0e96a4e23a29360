/* Does `county-server verify` find exactly the gaps and chain breaks there are? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "county_store.h"
#include "county_verify.h"
#include "sj_ids.h"

/* Stores n chained reports of one station through the real ingest callback. */
static void
s_fill(county_store_t *cs, const char *origin, int n)
{
    sj_event_t *ev = calloc(1, sizeof *ev);
    uint8_t epoch[16];
    sj_random16(epoch);
    assert_int_equal(sj_db_begin(county_store_db(cs)), SJ_OK);
    for (int i = 1; i <= n; i++) {
        uint8_t prev[SJ_HASH_BYTES];
        memcpy(prev, ev->prev_hash, sizeof prev);
        memset(ev, 0, sizeof *ev);
        memcpy(ev->prev_hash, prev, sizeof prev);
        sj_uuid7_new(ev->id);
        snprintf(ev->origin, sizeof ev->origin, "%s", origin);
        memcpy(ev->epoch, epoch, 16);
        ev->origin_seq = (uint64_t) i;
        ev->type = SJ_EVENT_REPORT;
        snprintf(ev->report.occurred_on, sizeof ev->report.occurred_on, "2024-01-%02d", i % 28 + 1);
        ev->report.channel = 1;
        ev->report.kind = 1;
        ev->report.persons = 2;
        ev->report.level = 2;
        ev->report.category = 1;
        ev->report.outcome = 1;
        ev->report.source = 1;
        snprintf(ev->summary, sizeof ev->summary, "report %d", i);
        ev->report.summary = ev->summary;
        ev->report.officer = ev->officer;
        uint8_t *raw = NULL;
        size_t len = 0;
        assert_int_equal(sj_event_encode(ev, &raw, &len), SJ_OK);
        sj_stored_t res;
        assert_int_equal(county_store_downlink_ops.store_event(cs, "230523100", ev, raw, len, &res),
                         SJ_OK);
        assert_int_equal(res, SJ_STORED_NEW);
        sj_event_hash(raw, len, ev->prev_hash);
        free(raw);
    }
    assert_int_equal(sj_db_commit(county_store_db(cs)), SJ_OK);
    free(ev);
}

/* A new county store in a new temporary directory (dir: a mkdtemp template). */
static county_store_t *
s_store_new(char *dir)
{
    assert_non_null(mkdtemp(dir));
    char err[512];
    county_store_t *cs = county_store_open(dir, NULL, SJ_DB_WRITE, err, sizeof err);
    assert_non_null(cs);
    return cs;
}

static void
s_store_destroy(county_store_t **cs, const char *dir)
{
    county_store_close(cs);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static long
s_verify(county_store_t *cs)
{
    long problems = -1;
    char err[256];
    FILE *out = fopen("/dev/null", "w");
    assert_int_equal(
        county_verify(county_store_db(cs), SJ_FMT_CSV, out, &problems, err, sizeof err), SJ_OK);
    fclose(out);
    return problems;
}

static void
test_verify_finds_gaps_and_breaks(void **state)
{
    (void) state;
    char dir[] = "/tmp/sanji-verify-XXXXXX";
    county_store_t *cs = s_store_new(dir);
    s_fill(cs, "230523100201", 20);
    s_fill(cs, "230523100202", 5);
    assert_int_equal(s_verify(cs), 0);
    sqlite3 *db = county_store_db(cs);
    /* one event lost: one gap */
    assert_int_equal(sj_db_exec(db, "DELETE FROM events WHERE origin='230523100201'"
                                    " AND origin_seq IN (7, 8)"),
                     SJ_OK);
    assert_int_equal(s_verify(cs), 2);
    /* one event's bytes altered: one chain break */
    assert_int_equal(sj_db_exec(db, "UPDATE events SET raw = raw || x'00'"
                                    " WHERE origin='230523100202' AND origin_seq = 3"),
                     SJ_OK);
    assert_int_equal(s_verify(cs), 3);
    /* altered together with its stored hash: the next event's prev_hash breaks */
    assert_int_equal(sj_db_exec(db, "UPDATE events SET raw = raw || x'01', hash = zeroblob(32)"
                                    " WHERE origin='230523100201' AND origin_seq = 12"),
                     SJ_OK);
    assert_int_equal(s_verify(cs), 5);
    s_store_destroy(&cs, dir);
}

/* Stores one report at (origin, epoch, seq) with the given id; returns how
 * the store classified it. */
static sj_stored_t
s_put(county_store_t *cs, const char *origin, const uint8_t *epoch, uint64_t seq, const uint8_t *id)
{
    sj_event_t *ev = calloc(1, sizeof *ev);
    memcpy(ev->id, id, SJ_ID_BYTES);
    snprintf(ev->origin, sizeof ev->origin, "%s", origin);
    memcpy(ev->epoch, epoch, 16);
    ev->origin_seq = seq;
    ev->type = SJ_EVENT_REPORT;
    snprintf(ev->report.occurred_on, sizeof ev->report.occurred_on, "2024-02-01");
    ev->report.channel = ev->report.kind = ev->report.level = 1;
    ev->report.category = ev->report.outcome = ev->report.source = 1;
    ev->report.persons = 1;
    ev->report.summary = ev->summary;
    ev->report.officer = ev->officer;
    uint8_t *raw = NULL;
    size_t len = 0;
    assert_int_equal(sj_event_encode(ev, &raw, &len), SJ_OK);
    sj_stored_t res = SJ_STORED_NEW;
    assert_int_equal(sj_db_begin(county_store_db(cs)), SJ_OK);
    assert_int_equal(county_store_downlink_ops.store_event(cs, "230523100", ev, raw, len, &res),
                     SJ_OK);
    assert_int_equal(sj_db_commit(county_store_db(cs)), SJ_OK);
    free(raw);
    free(ev);
    return res;
}

/* The county dedupes by id (schema 6 dropped the unique position index):
 * the same event again is a duplicate, its id at another position an id
 * conflict, and another event at a position already held is kept, not
 * dropped, and shown by verify as a break of that stream. */
static void
test_verify_position_held_twice(void **state)
{
    (void) state;
    char dir[] = "/tmp/sanji-verify-XXXXXX";
    county_store_t *cs = s_store_new(dir);
    uint8_t epoch[16], a[SJ_ID_BYTES], b[SJ_ID_BYTES];
    sj_random16(epoch);
    sj_uuid7_new(a);
    sj_uuid7_new(b);
    const char *st = "230523100203";
    assert_int_equal(s_put(cs, st, epoch, 1, a), SJ_STORED_NEW);
    assert_int_equal(s_verify(cs), 0);
    assert_int_equal(s_put(cs, st, epoch, 1, a), SJ_STORED_DUPLICATE);
    assert_int_equal(s_put(cs, st, epoch, 2, a), SJ_STORED_ID_CONFLICT);
    assert_int_equal(s_verify(cs), 0);
    assert_int_equal(s_put(cs, st, epoch, 1, b), SJ_STORED_NEW);
    sqlite3 *db = county_store_db(cs);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM matters", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 2); /* both reports kept */
    sqlite3_finalize(q);
    assert_int_equal(s_verify(cs), 1);
    s_store_destroy(&cs, dir);
}

/* Packs event seq of a chained report stream (prev: in/out, the chain). */
static void
s_pack(const char *origin,
       const uint8_t *epoch,
       uint64_t seq,
       uint8_t prev[SJ_HASH_BYTES],
       sj_event_t *ev,
       uint8_t **raw,
       size_t *len)
{
    memset(ev, 0, sizeof *ev);
    memcpy(ev->prev_hash, prev, SJ_HASH_BYTES);
    sj_uuid7_new(ev->id);
    snprintf(ev->origin, sizeof ev->origin, "%s", origin);
    memcpy(ev->epoch, epoch, 16);
    ev->origin_seq = seq;
    ev->type = SJ_EVENT_REPORT;
    snprintf(ev->report.occurred_on, sizeof ev->report.occurred_on, "2024-03-01");
    ev->report.channel = ev->report.kind = ev->report.level = 1;
    ev->report.category = ev->report.outcome = ev->report.source = 1;
    ev->report.persons = 1;
    ev->report.summary = ev->summary;
    ev->report.officer = ev->officer;
    assert_int_equal(sj_event_encode(ev, raw, len), SJ_OK);
    sj_event_hash(*raw, *len, prev);
}

static void
s_store(county_store_t *cs, const char *via, const sj_event_t *ev, const uint8_t *raw, size_t len)
{
    sj_stored_t res;
    assert_int_equal(sj_db_begin(county_store_db(cs)), SJ_OK);
    assert_int_equal(county_store_downlink_ops.store_event(cs, via, ev, raw, len, &res), SJ_OK);
    assert_int_equal(sj_db_commit(county_store_db(cs)), SJ_OK);
    assert_int_equal(res, SJ_STORED_NEW);
}

/* A station stream 1..5 whose event 3 was refused where it entered: by the
 * hub (stored here: 1, 2, 4, 5 and the hub's notice about 3), or by the
 * county itself (its quarantine table). */
static void
s_stream_with_refused(county_store_t *cs, const char *station, int by_hub)
{
    sj_event_t *ev = calloc(1, sizeof *ev), *n = calloc(1, sizeof *n);
    uint8_t epoch[16], prev[SJ_HASH_BYTES] = {0};
    sj_random16(epoch);
    for (uint64_t seq = 1; seq <= 5; seq++) {
        uint8_t *raw = NULL;
        size_t len = 0;
        s_pack(station, epoch, seq, prev, ev, &raw, &len);
        if (seq != 3) {
            s_store(cs, by_hub ? "230523100" : station, ev, raw, len);
        } else if (by_hub) {
            /* the hub's notice, an event of its own stream */
            static uint64_t own = 0;
            static uint8_t hub_epoch[16], hub_prev[SJ_HASH_BYTES];
            if (!own) {
                sj_random16(hub_epoch);
            }
            memset(n, 0, sizeof *n);
            memcpy(n->prev_hash, hub_prev, SJ_HASH_BYTES);
            sj_uuid7_new(n->id);
            snprintf(n->origin, sizeof n->origin, "230523100");
            memcpy(n->epoch, hub_epoch, 16);
            n->origin_seq = ++own;
            n->type = SJ_EVENT_QUARANTINED;
            snprintf(n->quarantined.origin, sizeof n->quarantined.origin, "%s", station);
            memcpy(n->quarantined.epoch, epoch, 16);
            n->quarantined.origin_seq = 3;
            n->quarantined.code = 6;
            sj_event_hash(raw, len, n->quarantined.hash);
            snprintf(n->note, sizeof n->note, "occurred_on 2999-12-31 is in the future");
            uint8_t *nraw = NULL;
            size_t nlen = 0;
            assert_int_equal(sj_event_encode(n, &nraw, &nlen), SJ_OK);
            s_store(cs, "230523100", n, nraw, nlen);
            sj_event_hash(nraw, nlen, hub_prev);
            free(nraw);
        } else {
            sqlite3_stmt *q = NULL;
            assert_int_equal(sqlite3_prepare_v2(county_store_db(cs),
                                                "INSERT INTO quarantine(code, epoch, link_seq,"
                                                " err_code, reason, raw, at_ms)"
                                                " VALUES(?, ?, 3, 6, 'bad', ?, 0)",
                                                -1, &q, NULL),
                             SQLITE_OK);
            sqlite3_bind_text(q, 1, station, -1, SQLITE_STATIC);
            sqlite3_bind_blob(q, 2, epoch, 16, SQLITE_STATIC);
            sqlite3_bind_blob(q, 3, raw, (int) len, SQLITE_STATIC);
            assert_int_equal(sqlite3_step(q), SQLITE_DONE);
            sqlite3_finalize(q);
        }
        free(raw);
    }
    free(ev);
    free(n);
}

static void
test_verify_quarantined_is_not_a_gap(void **state)
{
    /* Is a position refused where it entered (reported by the hub, or in the
     * county's own quarantine) shown as quarantined, not as a gap, with the
     * chain checked across it; and is a lost event still a gap? */
    (void) state;
    char dir[] = "/tmp/sanji-verify-XXXXXX";
    county_store_t *cs = s_store_new(dir);
    s_stream_with_refused(cs, "230523100201", 1);
    s_stream_with_refused(cs, "230523100202", 0);
    assert_int_equal(s_verify(cs), 0);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    long problems = -1;
    char err[256];
    assert_int_equal(
        county_verify(county_store_db(cs), SJ_FMT_CSV, out, &problems, err, sizeof err), SJ_OK);
    fclose(out);
    /* station,epoch,events,complete_through,gaps,quarantined,chain_breaks,status */
    assert_non_null(strstr(text, "230523100201,"));
    assert_non_null(strstr(text, ",4,5,0,1,0,ok\n"));
    free(text);
    /* Event 4's prev_hash is checked against the refused 3's hash. */
    sqlite3 *db = county_store_db(cs);
    assert_int_equal(sj_db_exec(db, "UPDATE events SET prev_hash = zeroblob(32)"
                                    " WHERE origin='230523100201' AND origin_seq = 4"),
                     SJ_OK);
    assert_int_equal(s_verify(cs), 1);
    /* A lost event is a gap, refused neighbours or not. */
    assert_int_equal(sj_db_exec(db, "DELETE FROM events WHERE origin='230523100202'"
                                    " AND origin_seq = 2"),
                     SJ_OK);
    assert_int_equal(s_verify(cs), 2);
    s_store_destroy(&cs, dir);
}

int
main(void)
{
    if (sj_ids_init() != SJ_OK) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_finds_gaps_and_breaks),
        cmocka_unit_test(test_verify_position_held_twice),
        cmocka_unit_test(test_verify_quarantined_is_not_a_gap),
    };
    return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}
