/* Does the hub keep its cases right when a report gets no cases row until
 * something touches its case (schema 4): listed as reported, changed from
 * the reported outcome, replayed when changes came first, and still deduped
 * by (origin, epoch, origin_seq) and by id? Events go in through the
 * downlink's store_event, as the daemon stores them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hub_out.h"
#include "hub_store.h"
#include "hub_store_view.h"
#include "sj_ids.h"
#include "sj_link.h"
#include "sj_wire.h"

#define TOWNSHIP "230523100"
#define STATION  "230523100201"

typedef struct {
    char *dir;
    hub_store_t *st;
    uint8_t epoch[SJ_EPOCH_BYTES]; /* the station's */
    uint64_t seq;                  /* the station's last origin_seq */
    sj_event_t *ev;                /* scratch */
    sj_event_t *decoded;           /* scratch */
} s_fx_t;

static int
s_setup(void **state)
{
    s_fx_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->dir = strdup("/tmp/sanji-hubstore-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    char err[512] = "";
    fx->st = hub_store_open(fx->dir, TOWNSHIP, SJ_DB_WRITE, err, sizeof err);
    if (!fx->st) {
        fail_msg("hub store does not open: %s", err);
    }
    sj_random16(fx->epoch);
    fx->ev = calloc(1, sizeof *fx->ev);
    fx->decoded = calloc(1, sizeof *fx->decoded);
    assert_non_null(fx->ev);
    assert_non_null(fx->decoded);
    *state = fx;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fx_t *fx = *state;
    hub_store_close(&fx->st);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(fx->dir);
    free(fx->ev);
    free(fx->decoded);
    free(fx);
    return 0;
}

/* The next event of the station's stream, with the body left to the caller. */
static sj_event_t *
s_next(s_fx_t *fx, sj_event_type_t type)
{
    sj_event_t *ev = fx->ev;
    memset(ev, 0, sizeof *ev);
    sj_uuid7_new(ev->id);
    snprintf(ev->origin, sizeof ev->origin, "%s", STATION);
    memcpy(ev->epoch, fx->epoch, SJ_EPOCH_BYTES);
    ev->origin_seq = ++fx->seq;
    ev->created_ms = sj_now_ms();
    ev->type = type;
    if (type == SJ_EVENT_REPORT) {
        snprintf(ev->report.occurred_on, sizeof ev->report.occurred_on, "2024-03-05");
        ev->report.channel = 1;
        ev->report.kind = 1;
        ev->report.persons = 1;
        ev->report.level = 1;
        ev->report.category = 1;
        ev->report.outcome = 1; /* pending */
        ev->report.source = 1;
        snprintf(ev->summary, sizeof ev->summary, "土地承包纠纷");
        snprintf(ev->officer, sizeof ev->officer, "信息员-001");
        ev->report.summary = ev->summary;
        ev->report.officer = ev->officer;
    }
    return ev;
}

/* Packs ev, decodes it back and stores it in one transaction, as the
 * downlink does; returns what store_event said. */
static sj_stored_t
s_store(s_fx_t *fx, const sj_event_t *ev)
{
    uint8_t *raw = NULL;
    size_t len = 0;
    char why[256] = "";
    assert_int_equal(sj_event_encode(ev, &raw, &len), SJ_OK);
    if (sj_event_decode(raw, len, fx->decoded, why, sizeof why) != SJ_OK) {
        fail_msg("test event does not decode: %s", why);
    }
    sqlite3 *db = hub_store_db(fx->st);
    sj_stored_t res = SJ_STORED_NEW;
    assert_int_equal(sj_db_begin(db), SJ_OK);
    assert_int_equal(
        hub_store_downlink_ops.store_event(fx->st, STATION, fx->decoded, raw, len, &res), SJ_OK);
    assert_int_equal(sj_db_commit(db), SJ_OK);
    free(raw);
    return res;
}

static long long
s_scalar(s_fx_t *fx, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(hub_store_db(fx->st), sql, -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

/* `township-hub cases --format csv` (filter: HUB_CASES_*) into a buffer
 * (caller frees). */
static char *
s_cases(s_fx_t *fx, unsigned filter)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    assert_non_null(f);
    sj_table_t *t = NULL;
    assert_int_equal(hub_store_cases(fx->st, filter, &t), SJ_OK);
    assert_int_equal(hub_out_cases(t, SJ_FMT_CSV, f), SJ_OK);
    sj_table_destroy(&t);
    fclose(f);
    return buf;
}

/* The csv line of case id (a copy without its newline, in line), or 0 when
 * it is not listed; fails when it is listed twice. */
static int
s_case_line(const char *csv, const uint8_t id[SJ_ID_BYTES], char *line, size_t size)
{
    char text[SJ_UUID_TEXT];
    sj_uuid_format(id, text);
    const char *at = strstr(csv, text);
    if (!at) {
        return 0;
    }
    if (strstr(at + 1, text)) {
        fail_msg("case %s listed twice:\n%s", text, csv);
    }
    size_t n = strcspn(at, "\n");
    snprintf(line, size, "%.*s", (int) n, at);
    return 1;
}

static void
test_hub_store_report_listed_without_case_row(void **state)
{
    s_fx_t *fx = *state;
    uint8_t a[SJ_ID_BYTES];
    sj_event_t *ev = s_next(fx, SJ_EVENT_REPORT);
    memcpy(a, ev->id, SJ_ID_BYTES);
    assert_int_equal(s_store(fx, ev), SJ_STORED_NEW);
    /* the report is its own case: no cases row was written for it */
    assert_int_equal(s_scalar(fx, "SELECT count(*) FROM cases"), 0);
    assert_int_equal(s_scalar(fx, "SELECT outcome FROM events"), 1);
    char *csv = s_cases(fx, 0), line[512];
    assert_true(s_case_line(csv, a, line, sizeof line));
    assert_non_null(strstr(line, STATION ",pending,"));
    free(csv);
    csv = s_cases(fx, HUB_CASES_OPEN);
    assert_true(s_case_line(csv, a, line, sizeof line));
    free(csv);
    csv = s_cases(fx, HUB_CASES_CONFLICTS);
    assert_false(s_case_line(csv, a, line, sizeof line));
    free(csv);

    /* the same event again: a duplicate; its id under another seq: a conflict */
    fx->seq--;
    ev = s_next(fx, SJ_EVENT_REPORT);
    memcpy(ev->id, a, SJ_ID_BYTES);
    assert_int_equal(s_store(fx, ev), SJ_STORED_DUPLICATE);
    ev = s_next(fx, SJ_EVENT_REPORT);
    memcpy(ev->id, a, SJ_ID_BYTES);
    assert_int_equal(s_store(fx, ev), SJ_STORED_ID_CONFLICT);
    ev = s_next(fx, SJ_EVENT_STATUS);
    memcpy(ev->id, a, SJ_ID_BYTES); /* a status change may not reuse a report's id */
    memcpy(ev->case_id, a, SJ_ID_BYTES);
    ev->new_outcome = 3;
    assert_int_equal(s_store(fx, ev), SJ_STORED_ID_CONFLICT);
    assert_int_equal(s_scalar(fx, "SELECT count(*) FROM events"), 1);
    assert_int_equal(s_scalar(fx, "SELECT count(*) FROM cases"), 0);
}

static void
test_hub_store_update_from_reported_outcome(void **state)
{
    s_fx_t *fx = *state;
    uint8_t a[SJ_ID_BYTES];
    sj_update_result_t res;
    sj_event_t *ev = s_next(fx, SJ_EVENT_REPORT);
    ev->report.outcome = 3; /* accepted */
    memcpy(a, ev->id, SJ_ID_BYTES);
    assert_int_equal(s_store(fx, ev), SJ_STORED_NEW);
    char reason[300] = "";
    /* the transition is checked from the reported outcome */
    assert_int_equal(hub_store_update(fx->st, a, 3, "", "", &res, reason, sizeof reason),
                     SJ_EINVAL);
    assert_int_equal(s_scalar(fx, "SELECT count(*) FROM case_changes"), 0);
    assert_int_equal(
        hub_store_update(fx->st, a, 4, "结案", "乡镇调访办", &res, reason, sizeof reason), SJ_OK);
    assert_int_equal(res.prev, 3);
    assert_int_equal(res.now, 4);
    assert_true(res.took_effect);
    assert_int_equal(s_scalar(fx, "SELECT reported_outcome FROM cases"), 3);
    assert_int_equal(s_scalar(fx, "SELECT outcome FROM cases"), 4);
    char *csv = s_cases(fx, 0), line[512];
    assert_true(s_case_line(csv, a, line, sizeof line)); /* once: the cases row, not the report */
    assert_non_null(strstr(line, ",closed,"));
    assert_non_null(strstr(line, ",1,")); /* one change */
    free(csv);
    csv = s_cases(fx, HUB_CASES_OPEN);
    assert_false(s_case_line(csv, a, line, sizeof line));
    free(csv);
    /* a case the hub does not hold */
    uint8_t none[SJ_ID_BYTES];
    sj_uuid7_new(none);
    assert_int_equal(hub_store_update(fx->st, none, 3, "", "", &res, reason, sizeof reason),
                     SJ_ENOTFOUND);
}

/* Closes the store and opens it again, as a restarted daemon would. */
static void
s_reopen(s_fx_t *fx)
{
    hub_store_close(&fx->st);
    char err[512] = "";
    fx->st = hub_store_open(fx->dir, TOWNSHIP, SJ_DB_WRITE, err, sizeof err);
    if (!fx->st) {
        fail_msg("hub store does not open again: %s", err);
    }
}

static void
test_hub_store_change_before_report(void **state)
{
    s_fx_t *fx = *state;
    /* The station's changes of cases b and c are stored before their
     * reports (a report resent after a restore, say); c's report comes
     * after a restart of the hub. Each report then gets its changes. */
    uint8_t ids[2][SJ_ID_BYTES];
    for (int k = 0; k < 2; k++) {
        sj_uuid7_new(ids[k]);
        sj_event_t *ev = s_next(fx, SJ_EVENT_STATUS);
        memcpy(ev->case_id, ids[k], SJ_ID_BYTES);
        ev->prev_outcome = 1;
        ev->new_outcome = 3;
        assert_int_equal(s_store(fx, ev), SJ_STORED_NEW);
    }
    assert_int_equal(s_scalar(fx, "SELECT count(*) FROM cases"), 0);
    char *csv = s_cases(fx, 0), line[512];
    assert_false(s_case_line(csv, ids[0], line, sizeof line));
    free(csv);
    for (int k = 0; k < 2; k++) {
        if (k == 1) {
            s_reopen(fx);
        }
        sj_event_t *ev = s_next(fx, SJ_EVENT_REPORT);
        memcpy(ev->id, ids[k], SJ_ID_BYTES);
        assert_int_equal(s_store(fx, ev), SJ_STORED_NEW);
        csv = s_cases(fx, 0);
        assert_true(s_case_line(csv, ids[k], line, sizeof line));
        assert_non_null(strstr(line, ",accepted,"));
        free(csv);
    }
    assert_int_equal(s_scalar(fx, "SELECT count(*) FROM cases WHERE outcome = 3"), 2);
    assert_int_equal(s_scalar(fx, "SELECT count(*) FROM cases WHERE reported_outcome = 1"), 2);
    /* reports of other cases, after: no row (no change came for them) */
    for (int k = 0; k < 50; k++) {
        assert_int_equal(s_store(fx, s_next(fx, SJ_EVENT_REPORT)), SJ_STORED_NEW);
    }
    assert_int_equal(s_scalar(fx, "SELECT count(*) FROM cases"), 2);
}

/* The receipt of a stream by definition: the highest origin_seq of
 * (STATION, epoch) whose hub_seq the county's mark covers. */
static uint64_t
s_e2e_by_definition(s_fx_t *fx, const uint8_t epoch[SJ_EPOCH_BYTES], int64_t up)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(hub_store_db(fx->st),
                                        "SELECT coalesce(max(origin_seq), 0) FROM events"
                                        " WHERE origin=? AND epoch=? AND hub_seq<=?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, STATION, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, up);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    uint64_t v = (uint64_t) sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The end-to-end receipt a station gets, as the county's mark moves up (by
 * one, by many, not at all), back (a hub diverged), with two streams of the
 * station (a new epoch) interleaved in hub_seq. */
static void
test_hub_store_e2e_receipt(void **state)
{
    s_fx_t *fx = *state;
    uint8_t epochs[2][SJ_EPOCH_BYTES];
    memcpy(epochs[0], fx->epoch, SJ_EPOCH_BYTES);
    sj_random16(epochs[1]);
    uint64_t seqs[2] = {0, 0};
    for (int i = 0; i < 60; i++) {
        int e = (i % 7 == 3 || i > 40) ? 1 : 0;
        memcpy(fx->epoch, epochs[e], SJ_EPOCH_BYTES);
        fx->seq = seqs[e];
        assert_int_equal(s_store(fx, s_next(fx, SJ_EVENT_REPORT)), SJ_STORED_NEW);
        seqs[e] = fx->seq;
    }
    static const int64_t marks[] = {0, 1, 2, 2, 3, 10, 11, 30, 30, 29, 5, 41, 42, 60, 60, 7, 60};
    for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
        assert_int_equal(hub_store_uplink_ops.acked(fx->st, (uint64_t) marks[m], NULL, 0), SJ_OK);
        for (int e = 0; e < 2; e++) {
            uint64_t got = 99999;
            assert_int_equal(hub_store_downlink_ops.e2e(fx->st, STATION, epochs[e], 0, &got),
                             SJ_OK);
            uint64_t want = s_e2e_by_definition(fx, epochs[e], marks[m]);
            if (got != want) {
                fail_msg("mark %lld, epoch %d: receipt %llu, by definition %llu",
                         (long long) marks[m], e, (unsigned long long) got,
                         (unsigned long long) want);
            }
        }
    }
    /* another station's stream: nothing */
    uint64_t got = 99999;
    assert_int_equal(hub_store_downlink_ops.e2e(fx->st, "230523100202", epochs[0], 0, &got), SJ_OK);
    assert_int_equal(got, 0);
}

typedef struct {
    s_fx_t *fx;
    uint64_t next; /* the seq add expects */
    size_t n;
} s_fetched_t;

/* Every event handed out for forwarding is within the offered mark as it
 * is stored at that moment (what s_diverged compares the county's with). */
static int
s_fetch_add(void *ctx, uint64_t seq, const void *raw, size_t len)
{
    s_fetched_t *f = ctx;
    assert_non_null(raw);
    assert_true(len > 0);
    assert_int_equal(seq, f->next);
    long long offered = s_scalar(f->fx, "SELECT value FROM meta WHERE key = 'up_offered'");
    if ((long long) seq > offered) {
        fail_msg("hub_seq %llu handed out beyond the offered mark %lld", (unsigned long long) seq,
                 offered);
    }
    f->next++;
    f->n++;
    return SJ_OK;
}

static size_t
s_fetch(s_fx_t *fx, uint64_t from, size_t max)
{
    s_fetched_t f = {.fx = fx, .next = from};
    assert_int_equal(hub_store_uplink_ops.fetch(fx->st, from, max, 1 << 20, s_fetch_add, &f),
                     SJ_OK);
    return f.n;
}

/* The offered mark is recorded (as the head) before a fetch hands out
 * anything beyond it, and not rewritten for fetches within it. */
static void
test_hub_store_offered_mark(void **state)
{
    s_fx_t *fx = *state;
    const char *sql = "SELECT value FROM meta WHERE key = 'up_offered'";
    for (int i = 0; i < 10; i++) {
        assert_int_equal(s_store(fx, s_next(fx, SJ_EVENT_REPORT)), SJ_STORED_NEW);
    }
    assert_int_equal(s_scalar(fx, sql), 0);
    assert_int_equal(s_fetch(fx, 1, 3), 3);
    assert_int_equal(s_scalar(fx, sql), 10);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(s_store(fx, s_next(fx, SJ_EVENT_REPORT)), SJ_STORED_NEW);
    }
    assert_int_equal(s_fetch(fx, 4, 3), 3);
    assert_int_equal(s_scalar(fx, sql), 10); /* 4..6: within the mark */
    assert_int_equal(s_fetch(fx, 7, 4), 4);
    assert_int_equal(s_scalar(fx, sql), 10); /* 7..10: within it still */
    assert_int_equal(s_fetch(fx, 9, 3), 3);
    assert_int_equal(s_scalar(fx, sql), 15); /* 9..11: past it, the head */
    assert_int_equal(s_fetch(fx, 12, 100), 4);
    assert_int_equal(s_scalar(fx, sql), 15);
    /* a restart reads the mark back */
    s_reopen(fx);
    assert_int_equal(s_fetch(fx, 14, 2), 2);
    assert_int_equal(s_scalar(fx, sql), 15);
}

int
main(void)
{
    if (sj_ids_init() != SJ_OK) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hub_store_report_listed_without_case_row, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_hub_store_update_from_reported_outcome, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_hub_store_change_before_report, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_hub_store_e2e_receipt, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_hub_store_offered_mark, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("hub_store", tests, NULL, NULL);
}
