/* Does the wire layer accept exactly the frames and events the protocol allows? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sj_clock_db.h"
#include "sj_ids.h"
#include "sj_wire.h"

static void
s_sample_event(sj_event_t *ev)
{
    memset(ev, 0, sizeof *ev);
    sj_uuid7_new(ev->id);
    snprintf(ev->origin, sizeof ev->origin, "230523100201");
    sj_random16(ev->epoch);
    ev->origin_seq = 7;
    ev->created_ms = 1700000000000;
    ev->type = SJ_EVENT_REPORT;
    snprintf(ev->report.occurred_on, sizeof ev->report.occurred_on, "2007-03-05");
    ev->report.channel = 1;
    ev->report.kind = 2;
    ev->report.persons = 12;
    ev->report.level = 3;
    ev->report.category = 1;
    ev->report.outcome = 2;
    ev->report.source = 2;
    snprintf(ev->summary, sizeof ev->summary, "土地承包纠纷");
    snprintf(ev->officer, sizeof ev->officer, "信息员-017");
    ev->report.summary = ev->summary;
    ev->report.officer = ev->officer;
}

/* Correction and Void (issue 15): round trip, unset fields stay unset,
 * and what is refused: no reason, no field, a bad value. */
/* Issue 17 item 5: an Approval (Event field 28) round-trips; a month that
 * is not YYYY-MM is refused with the reason. */
static void
test_wire_approval(void **state)
{
    (void) state;
    sj_event_t *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    uint8_t *raw = NULL;
    size_t len = 0;
    char why[256];
    s_sample_event(a);
    a->type = SJ_EVENT_APPROVAL;
    snprintf(a->origin, sizeof a->origin, "230523100");
    snprintf(a->month, sizeof a->month, "2026-11");
    snprintf(a->officer, sizeof a->officer, "王主任");
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    assert_int_equal(sj_event_decode(raw, len, b, why, sizeof why), SJ_OK);
    free(raw);
    assert_int_equal(b->type, SJ_EVENT_APPROVAL);
    assert_string_equal(b->month, "2026-11");
    assert_string_equal(b->officer, "王主任");
    const char *bad[] = {"2026-13", "2026-00", "2026-1", "", "2026/11"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(a->month, sizeof a->month, "%s", bad[i]);
        assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
        assert_int_equal(sj_event_decode(raw, len, b, why, sizeof why), SJ_EPROTO);
        assert_non_null(strstr(why, "approval: month"));
        free(raw);
    }
    free(a);
    free(b);
}

static void
test_wire_correction_and_void(void **state)
{
    (void) state;
    sj_event_t *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    uint8_t *raw = NULL;
    size_t len = 0;
    char why[256];
    s_sample_event(a);
    memset(&a->report, 0, sizeof a->report);
    a->summary[0] = '\0';
    a->report.summary = a->summary;
    a->type = SJ_EVENT_CORRECTION;
    sj_uuid7_new(a->case_id);
    a->report.category = 4;
    a->report.persons = 5;
    snprintf(a->note, sizeof a->note, "类别录错");
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    assert_int_equal(sj_event_decode(raw, len, b, why, sizeof why), SJ_OK);
    free(raw);
    assert_int_equal(b->type, SJ_EVENT_CORRECTION);
    assert_memory_equal(a->case_id, b->case_id, 16);
    assert_int_equal(b->report.category, 4);
    assert_int_equal(b->report.persons, 5);
    assert_int_equal(b->report.channel, 0); /* unchanged */
    assert_string_equal(b->report.occurred_on, "");
    assert_string_equal(b->summary, "");
    assert_string_equal(b->note, "类别录错");
    assert_string_equal(b->officer, "信息员-017");
    /* refused: a bad value, no field, no reason */
    a->report.level = 9;
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    assert_int_equal(sj_event_decode(raw, len, b, why, sizeof why), SJ_EPROTO);
    assert_non_null(strstr(why, "out of range"));
    free(raw);
    a->report.level = 0;
    snprintf(a->report.occurred_on, sizeof a->report.occurred_on, "2026-02-30");
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    assert_int_equal(sj_event_decode(raw, len, b, why, sizeof why), SJ_EPROTO);
    assert_non_null(strstr(why, "occurred_on"));
    free(raw);
    memset(&a->report, 0, sizeof a->report);
    a->report.summary = a->summary;
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    assert_int_equal(sj_event_decode(raw, len, b, why, sizeof why), SJ_EPROTO);
    assert_non_null(strstr(why, "changes no field"));
    free(raw);
    a->report.kind = 1;
    a->note[0] = '\0';
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    assert_int_equal(sj_event_decode(raw, len, b, why, sizeof why), SJ_EPROTO);
    assert_non_null(strstr(why, "reason"));
    free(raw);
    /* Void */
    a->type = SJ_EVENT_VOID;
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    assert_int_equal(sj_event_decode(raw, len, b, why, sizeof why), SJ_EPROTO);
    assert_non_null(strstr(why, "void: reason"));
    free(raw);
    snprintf(a->note, sizeof a->note, "重复录入");
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    assert_int_equal(sj_event_decode(raw, len, b, why, sizeof why), SJ_OK);
    free(raw);
    assert_int_equal(b->type, SJ_EVENT_VOID);
    assert_memory_equal(a->case_id, b->case_id, 16);
    assert_string_equal(b->note, "重复录入");
    free(a);
    free(b);
}

static void
test_wire_event_roundtrip(void **state)
{
    (void) state;
    sj_event_t *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    s_sample_event(a);
    uint8_t *raw = NULL;
    size_t len = 0;
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    char why[256];
    assert_int_equal(sj_event_decode(raw, len, b, why, sizeof why), SJ_OK);
    assert_memory_equal(a->id, b->id, 16);
    assert_string_equal(b->origin, "230523100201");
    assert_int_equal(b->origin_seq, 7);
    assert_int_equal(b->report.persons, 12);
    assert_string_equal(b->report.summary, "土地承包纠纷");
    assert_string_equal(b->report.occurred_on, "2007-03-05");
    uint8_t h1[32], h2[32];
    sj_event_hash(raw, len, h1);
    raw[len - 1] ^= 1;
    sj_event_hash(raw, len, h2);
    assert_memory_not_equal(h1, h2, 32);
    free(raw);
    free(a);
    free(b);
}

static void
test_wire_event_rejects_bad_enum(void **state)
{
    (void) state;
    sj_event_t *a = malloc(sizeof *a);
    s_sample_event(a);
    a->report.channel = 9;
    uint8_t *raw = NULL;
    size_t len = 0;
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    char why[256];
    assert_int_equal(sj_event_decode(raw, len, a, why, sizeof why), SJ_EPROTO);
    assert_non_null(strstr(why, "channel"));
    free(raw);
    free(a);
}

/* A status change (issue 4) round-trips with prev_outcome; an out-of-range
 * prev_outcome is refused, a missing one (0) is kept as unknown. */
static void
test_wire_status_event(void **state)
{
    (void) state;
    sj_event_t *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    s_sample_event(a);
    a->type = SJ_EVENT_STATUS;
    sj_uuid7_new(a->case_id);
    a->new_outcome = 4;
    a->prev_outcome = 3;
    snprintf(a->note, sizeof a->note, "已办结");
    uint8_t *raw = NULL;
    size_t len = 0;
    char why[256];
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    assert_int_equal(sj_event_decode(raw, len, b, why, sizeof why), SJ_OK);
    assert_int_equal(b->type, SJ_EVENT_STATUS);
    assert_memory_equal(a->case_id, b->case_id, 16);
    assert_int_equal(b->new_outcome, 4);
    assert_int_equal(b->prev_outcome, 3);
    assert_string_equal(b->note, "已办结");
    free(raw);
    a->prev_outcome = 6;
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    assert_int_equal(sj_event_decode(raw, len, b, why, sizeof why), SJ_EPROTO);
    assert_non_null(strstr(why, "prev_outcome"));
    free(raw);
    /* 0: not given (packed before the field existed): accepted as unknown. */
    a->prev_outcome = 0;
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    assert_int_equal(sj_event_decode(raw, len, b, why, sizeof why), SJ_OK);
    assert_int_equal(b->prev_outcome, 0);
    free(raw);
    free(a);
    free(b);
}

static void
test_wire_event_rejects_nul_in_text(void **state)
{
    (void) state;
    Sanji__Event pb = SANJI__EVENT__INIT;
    Sanji__Report rep = SANJI__REPORT__INIT;
    uint8_t id[16] = {1}, epoch[16] = {2}, prev[32] = {0};
    pb.id.data = id;
    pb.id.len = 16;
    pb.epoch.data = epoch;
    pb.epoch.len = 16;
    pb.prev_hash.data = prev;
    pb.prev_hash.len = 32;
    pb.origin = sj_wire_bytes("230523100201");
    pb.origin_seq = 1;
    rep.occurred_on = sj_wire_bytes("2007-03-05");
    rep.channel = 1;
    rep.kind = 1;
    rep.persons = 1;
    rep.level = 1;
    rep.category = 1;
    rep.outcome = 1;
    rep.source = 1;
    static const char evil[] = "ok\0hidden";
    rep.summary.data = (uint8_t *) evil;
    rep.summary.len = sizeof evil - 1;
    pb.body_case = SANJI__EVENT__BODY_REPORT;
    pb.report = &rep;
    uint8_t buf[512];
    size_t len = sanji__event__pack(&pb, buf);
    sj_event_t *ev = malloc(sizeof *ev);
    char why[256];
    assert_int_equal(sj_event_decode(buf, len, ev, why, sizeof why), SJ_EPROTO);
    assert_non_null(strstr(why, "summary"));
    free(ev);
}

/* A report's texts are refused when they are not UTF-8 (overlong, a
 * surrogate, above U+10FFFF, cut short) or hide a NUL, with the field named. */
static void
test_wire_event_rejects_bad_text(void **state)
{
    (void) state;
    static const struct {
        const char *summary, *officer;
        size_t summary_len, officer_len;
        const char *field;
    } cases[] = {
        {"\xc0\xaf", "x", 2, 1, "summary"},
        {"ok \xed\xa0\x80", "x", 6, 1, "summary"},
        {"ok \xf4\x90\x80\x80", "x", 7, 1, "summary"},
        {"\xe5\x9c", "x", 2, 1, "summary"},
        {"ok", "\xc1\xbf", 2, 2, "officer"},
        {"ok", "a\0b", 2, 3, "officer"},
        {"ok", "\xf0\x90\x80", 2, 3, "officer"},
    };
    sj_event_t *ev = malloc(sizeof *ev);
    assert_non_null(ev);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Sanji__Event pb = SANJI__EVENT__INIT;
        Sanji__Report rep = SANJI__REPORT__INIT;
        uint8_t id[16] = {1}, epoch[16] = {2}, prev[32] = {0};
        pb.id.data = id;
        pb.id.len = 16;
        pb.epoch.data = epoch;
        pb.epoch.len = 16;
        pb.prev_hash.data = prev;
        pb.prev_hash.len = 32;
        pb.origin = sj_wire_bytes("230523100201");
        pb.origin_seq = 1;
        rep.occurred_on = sj_wire_bytes("2007-03-05");
        rep.channel = 1;
        rep.kind = 1;
        rep.persons = 1;
        rep.level = 1;
        rep.category = 1;
        rep.outcome = 1;
        rep.source = 1;
        rep.summary.data = (uint8_t *) cases[i].summary;
        rep.summary.len = cases[i].summary_len;
        rep.officer.data = (uint8_t *) cases[i].officer;
        rep.officer.len = cases[i].officer_len;
        pb.body_case = SANJI__EVENT__BODY_REPORT;
        pb.report = &rep;
        uint8_t buf[512];
        size_t len = sanji__event__pack(&pb, buf);
        char why[256] = "";
        assert_int_equal(sj_event_decode(buf, len, ev, why, sizeof why), SJ_EPROTO);
        if (!strstr(why, cases[i].field)) {
            fail_msg("case %zu: the reason does not name %s: %s", i, cases[i].field, why);
        }
        /* the same report with good texts decodes */
        rep.summary = sj_wire_bytes("好");
        rep.officer = sj_wire_bytes("信息员");
        len = sanji__event__pack(&pb, buf);
        assert_int_equal(sj_event_decode(buf, len, ev, why, sizeof why), SJ_OK);
    }
    free(ev);
}

static void
test_wire_decode_garbage(void **state)
{
    (void) state;
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof junk; i++) {
        junk[i] = (uint8_t) (i * 37 + 11);
    }
    Sanji__Envelope *env = NULL;
    int code = 0;
    char why[256];
    assert_int_equal(sj_wire_decode(junk, sizeof junk, &env, &code, why, sizeof why), SJ_EPROTO);
    assert_null(env);
    assert_int_equal(code, SANJI__ERROR_CODE__ERROR_MALFORMED);
}

static void
test_wire_decode_version(void **state)
{
    (void) state;
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    Sanji__Envelope e = SANJI__ENVELOPE__INIT;
    e.version = 99;
    e.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    e.heartbeat = &hb;
    uint8_t buf[64];
    size_t len = sanji__envelope__pack(&e, buf);
    Sanji__Envelope *env = NULL;
    int code = 0;
    char why[256];
    assert_int_equal(sj_wire_decode(buf, len, &env, &code, why, sizeof why), SJ_EPROTO);
    assert_int_equal(code, SANJI__ERROR_CODE__ERROR_BAD_VERSION);
    assert_non_null(strstr(why, "99"));
    e.version = SJ_PROTO_VERSION;
    len = sanji__envelope__pack(&e, buf);
    assert_int_equal(sj_wire_decode(buf, len, &env, &code, why, sizeof why), SJ_OK);
    assert_int_equal(env->body_case, SANJI__ENVELOPE__BODY_HEARTBEAT);
    sj_wire_free(env);
}

/* An assignment event and the down item that carries it: round trip, and
 * each field's check. */
static void
s_sample_assignment(sj_event_t *ev)
{
    s_sample_event(ev);
    ev->type = SJ_EVENT_ASSIGNMENT;
    snprintf(ev->origin, sizeof ev->origin, "230523");
    sj_uuid7_new(ev->case_id);
    snprintf(ev->assignee, sizeof ev->assignee, "230523100201");
    snprintf(ev->due_on, sizeof ev->due_on, "2027-06-30");
    snprintf(ev->note, sizeof ev->note, "限期解决");
    snprintf(ev->officer, sizeof ev->officer, "王科长");
}

static void
s_sample_snapshot(sj_snapshot_t *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->occurred_on, sizeof s->occurred_on, "2027-01-02");
    s->channel = 2;
    s->category = 4;
    s->kind = 1;
    s->persons = 3;
    snprintf(s->summary, sizeof s->summary, "拆迁补偿");
    snprintf(s->origin, sizeof s->origin, "230523100201");
    s->outcome = 3;
    s->conflict = 1;
}

/* Encodes a, expects decode to fail naming `what` (or succeed when NULL). */
static void
s_assignment_check(const sj_event_t *a, const char *what)
{
    sj_event_t *b = malloc(sizeof *b);
    uint8_t *raw = NULL;
    size_t len = 0;
    char why[256] = "";
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    int rc = sj_event_decode(raw, len, b, why, sizeof why);
    if (what) {
        assert_int_equal(rc, SJ_EPROTO);
        assert_non_null(strstr(why, what));
    } else {
        assert_int_equal(rc, SJ_OK);
        assert_int_equal(b->type, SJ_EVENT_ASSIGNMENT);
        assert_memory_equal(a->case_id, b->case_id, 16);
        assert_string_equal(b->assignee, a->assignee);
        assert_string_equal(b->due_on, a->due_on);
        assert_string_equal(b->note, a->note);
        assert_string_equal(b->officer, a->officer);
    }
    free(raw);
    free(b);
}

static void
test_wire_assignment_event(void **state)
{
    (void) state;
    sj_event_t *a = malloc(sizeof *a);
    s_sample_assignment(a);
    s_assignment_check(a, NULL);
    snprintf(a->assignee, sizeof a->assignee, "230523100");
    s_assignment_check(a, NULL); /* a township */
    snprintf(a->assignee, sizeof a->assignee, "230523");
    s_assignment_check(a, "assignee");
    snprintf(a->assignee, sizeof a->assignee, "23052310020x");
    s_assignment_check(a, "assignee");
    snprintf(a->assignee, sizeof a->assignee, "230523100201");
    snprintf(a->due_on, sizeof a->due_on, "2027-02-29");
    s_assignment_check(a, "due_on");
    snprintf(a->due_on, sizeof a->due_on, "27-6-30");
    s_assignment_check(a, "due_on");
    snprintf(a->due_on, sizeof a->due_on, "2027-06-30");
    memcpy(a->note, "\xff\xfe", 3);
    s_assignment_check(a, "note");
    memset(a->note, 'x', SJ_MAX_NOTE_BYTES);
    a->note[SJ_MAX_NOTE_BYTES] = '\0';
    s_assignment_check(a, NULL); /* exactly at the limit */
    a->note[0] = '\0';
    memcpy(a->officer, "a\xc0", 3);
    s_assignment_check(a, "officer");
    free(a);
}

static void
test_wire_down_item(void **state)
{
    (void) state;
    sj_event_t *a = malloc(sizeof *a);
    sj_snapshot_t *snap = malloc(sizeof *snap);
    sj_down_item_t *it = malloc(sizeof *it);
    s_sample_assignment(a);
    s_sample_snapshot(snap);
    uint8_t *raw = NULL, *item = NULL;
    size_t len = 0, item_len = 0;
    char why[256] = "";
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    assert_int_equal(sj_down_item_encode(raw, len, snap, &item, &item_len), SJ_OK);
    assert_int_equal(sj_down_item_decode(item, item_len, it, why, sizeof why), SJ_OK);
    assert_string_equal(it->ev.assignee, "230523100201");
    assert_string_equal(it->snap.summary, "拆迁补偿");
    assert_string_equal(it->snap.origin, "230523100201");
    assert_int_equal(it->snap.outcome, 3);
    assert_int_equal(it->snap.persons, 3);
    assert_int_equal(it->snap.conflict, 1);
    free(item);

    /* Each snapshot field is checked. */
    sj_snapshot_t s2 = *snap;
    s2.channel = 9;
    assert_int_equal(sj_down_item_encode(raw, len, &s2, &item, &item_len), SJ_OK);
    assert_int_equal(sj_down_item_decode(item, item_len, it, why, sizeof why), SJ_EPROTO);
    assert_non_null(strstr(why, "out of range"));
    free(item);
    s2 = *snap;
    s2.persons = 0;
    assert_int_equal(sj_down_item_encode(raw, len, &s2, &item, &item_len), SJ_OK);
    assert_int_equal(sj_down_item_decode(item, item_len, it, why, sizeof why), SJ_EPROTO);
    assert_non_null(strstr(why, "persons"));
    free(item);
    s2 = *snap;
    snprintf(s2.origin, sizeof s2.origin, "230523100");
    assert_int_equal(sj_down_item_encode(raw, len, &s2, &item, &item_len), SJ_OK);
    assert_int_equal(sj_down_item_decode(item, item_len, it, why, sizeof why), SJ_EPROTO);
    assert_non_null(strstr(why, "origin"));
    free(item);
    s2 = *snap;
    snprintf(s2.occurred_on, sizeof s2.occurred_on, "2027-13-01");
    assert_int_equal(sj_down_item_encode(raw, len, &s2, &item, &item_len), SJ_OK);
    assert_int_equal(sj_down_item_decode(item, item_len, it, why, sizeof why), SJ_EPROTO);
    assert_non_null(strstr(why, "occurred_on"));
    free(item);
    free(raw);

    /* The event must be an assignment, made by a county or a township. */
    s_sample_event(a); /* a report */
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    assert_int_equal(sj_down_item_encode(raw, len, snap, &item, &item_len), SJ_OK);
    assert_int_equal(sj_down_item_decode(item, item_len, it, why, sizeof why), SJ_EPROTO);
    assert_non_null(strstr(why, "not an assignment"));
    free(item);
    free(raw);
    s_sample_assignment(a);
    snprintf(a->origin, sizeof a->origin, "230523100202");
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    assert_int_equal(sj_down_item_encode(raw, len, snap, &item, &item_len), SJ_OK);
    assert_int_equal(sj_down_item_decode(item, item_len, it, why, sizeof why), SJ_EPROTO);
    assert_non_null(strstr(why, "county or a township"));
    free(item);
    /* A broken event inside: named. */
    raw[0] ^= 0xff;
    assert_int_equal(sj_down_item_encode(raw, len, snap, &item, &item_len), SJ_OK);
    assert_int_equal(sj_down_item_decode(item, item_len, it, why, sizeof why), SJ_EPROTO);
    assert_non_null(strstr(why, "down item: event"));
    free(item);
    free(raw);
    /* Garbage, empty, oversized. */
    uint8_t junk[] = {0xff, 0xff, 0xff, 0x07};
    assert_int_equal(sj_down_item_decode(junk, sizeof junk, it, why, sizeof why), SJ_EPROTO);
    assert_int_equal(sj_down_item_decode(junk, 0, it, why, sizeof why), SJ_EPROTO);
    assert_int_equal(sj_down_item_decode(junk, SJ_WIRE_MAX_ITEM + 1, it, why, sizeof why),
                     SJ_EPROTO);
    assert_non_null(strstr(why, "over 24 KiB"));
    free(a);
    free(snap);
    free(it);
}

/* Issue 16: the periods item (kind 3) and the clock in a snapshot. */
static void
test_wire_periods_and_clock(void **state)
{
    (void) state;
    sj_down_item_t *it = malloc(sizeof *it);
    uint8_t *item = NULL;
    size_t item_len = 0;
    char why[256] = "";
    sj_periods_t p = {.accept_days = 15,
                      .conclude_days = 20,
                      .review_days = 30,
                      .extend_max = 10,
                      .extend_count = 2};
    assert_true(sj_down_kind_known(SJ_DOWN_KIND_PERIODS));
    assert_int_equal(sj_down_periods_encode("230523100", &p, &item, &item_len), SJ_OK);
    assert_int_equal(sj_down_item_decode(item, item_len, it, why, sizeof why), SJ_OK);
    assert_int_equal(it->kind, SJ_DOWN_KIND_PERIODS);
    assert_string_equal(it->to, "230523100");
    assert_int_equal(it->periods.conclude_days, 20);
    assert_int_equal(it->periods.extend_max, 10);
    assert_int_equal(it->periods.extend_count, 2);
    free(item);
    p.conclude_days = 0; /* out of range: refused, named */
    assert_int_equal(sj_down_periods_encode("230523100", &p, &item, &item_len), SJ_OK);
    assert_int_equal(sj_down_item_decode(item, item_len, it, why, sizeof why), SJ_EPROTO);
    assert_non_null(strstr(why, "periods"));
    free(item);

    /* The clock's facts travel in the snapshot, and the child computes
     * the same due dates. */
    sj_event_t *a = malloc(sizeof *a);
    sj_snapshot_t *snap = malloc(sizeof *snap);
    s_sample_assignment(a);
    s_sample_snapshot(snap);
    snap->has_clock = 1;
    snap->reported_outcome = 1;
    snap->source = 1;
    snap->n_clock = 2;
    snap->clock[0] = (sj_clock_ev_t){.kind = SJ_CLOCK_CHANGE, .day = "2027-01-05", .outcome = 3};
    snap->clock[1] =
        (sj_clock_ev_t){.kind = SJ_CLOCK_EXTENSION, .day = "2027-02-01", .stage = 2, .days = 30};
    uint8_t *raw = NULL;
    size_t len = 0;
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    assert_int_equal(sj_down_item_encode(raw, len, snap, &item, &item_len), SJ_OK);
    assert_int_equal(sj_down_item_decode(item, item_len, it, why, sizeof why), SJ_OK);
    assert_int_equal(it->snap.has_clock, 1);
    assert_int_equal(it->snap.n_clock, 2);
    assert_string_equal(it->snap.clock[1].day, "2027-02-01");
    sj_periods_default(&p);
    sj_clock_t clk;
    assert_int_equal(sj_clock_of_snapshot(&it->snap, &p, "2027-02-10", &clk), SJ_OK);
    assert_int_equal(clk.running, SJ_STAGE_CONCLUDE);
    assert_string_equal(clk.st[SJ_STAGE_CONCLUDE].due, "2027-04-05"); /* 01-05 + 60 + 30 */
    free(item);
    /* a bad entry refuses the item, named */
    snap->clock[1].days = 0;
    assert_int_equal(sj_down_item_encode(raw, len, snap, &item, &item_len), SJ_OK);
    assert_int_equal(sj_down_item_decode(item, item_len, it, why, sizeof why), SJ_EPROTO);
    assert_non_null(strstr(why, "clock entry"));
    free(item);
    /* an older sender: no clock, none computed */
    snap->has_clock = 0;
    assert_int_equal(sj_down_item_encode(raw, len, snap, &item, &item_len), SJ_OK);
    assert_int_equal(sj_down_item_decode(item, item_len, it, why, sizeof why), SJ_OK);
    assert_int_equal(sj_clock_of_snapshot(&it->snap, &p, "2027-02-10", &clk), SJ_ENOTFOUND);
    free(item);
    free(raw);

    /* Two views of a case joined: an event in both counts once. */
    const sj_clock_ev_t x[] = {{.kind = SJ_CLOCK_CHANGE, .day = "2027-01-05", .outcome = 3}};
    const sj_clock_ev_t y[] = {
        {.kind = SJ_CLOCK_CHANGE, .day = "2027-01-05", .outcome = 3},
        {.kind = SJ_CLOCK_EXTENSION, .day = "2027-01-09", .stage = 2, .days = 5}};
    sj_clock_ev_t u[3];
    assert_int_equal(sj_clock_ev_union(x, 1, y, 2, u), 2);
    assert_int_equal(u[1].kind, SJ_CLOCK_EXTENSION);
    free(a);
    free(snap);
    free(it);
}

/* DownBatch and DownAck frames: limits and required fields. */
static void
test_wire_decode_down_frames(void **state)
{
    (void) state;
    Sanji__DownBatch b = SANJI__DOWN_BATCH__INIT;
    Sanji__Envelope e = SANJI__ENVELOPE__INIT;
    uint8_t byte[1] = {7};
    ProtobufCBinaryData items[SJ_WIRE_MAX_DOWN + 1];
    for (size_t i = 0; i < SJ_WIRE_MAX_DOWN + 1; i++) {
        items[i].data = byte;
        items[i].len = 1;
    }
    b.first_seq = 1;
    b.items = items;
    b.n_items = SJ_WIRE_MAX_DOWN;
    e.version = SJ_PROTO_VERSION;
    e.body_case = SANJI__ENVELOPE__BODY_DOWN_BATCH;
    e.down_batch = &b;
    uint8_t buf[4096];
    Sanji__Envelope *env = NULL;
    int code = 0;
    char why[256];
    size_t len = sanji__envelope__pack(&e, buf);
    assert_int_equal(sj_wire_decode(buf, len, &env, &code, why, sizeof why), SJ_OK);
    assert_int_equal(env->down_batch->n_items, SJ_WIRE_MAX_DOWN);
    sj_wire_free(env);
    b.n_items = SJ_WIRE_MAX_DOWN + 1;
    len = sanji__envelope__pack(&e, buf);
    assert_int_equal(sj_wire_decode(buf, len, &env, &code, why, sizeof why), SJ_EPROTO);
    assert_int_equal(code, SANJI__ERROR_CODE__ERROR_TOO_LARGE);
    b.n_items = 0;
    len = sanji__envelope__pack(&e, buf);
    assert_int_equal(sj_wire_decode(buf, len, &env, &code, why, sizeof why), SJ_EPROTO);
    assert_int_equal(code, SANJI__ERROR_CODE__ERROR_MALFORMED);
    b.n_items = 1;
    b.first_seq = 0;
    len = sanji__envelope__pack(&e, buf);
    assert_int_equal(sj_wire_decode(buf, len, &env, &code, why, sizeof why), SJ_EPROTO);
    b.first_seq = 1;
    items[0].len = 0;
    len = sanji__envelope__pack(&e, buf);
    assert_int_equal(sj_wire_decode(buf, len, &env, &code, why, sizeof why), SJ_EPROTO);
    assert_non_null(strstr(why, "empty"));

    Sanji__DownAck a = SANJI__DOWN_ACK__INIT;
    a.applied_through = 42;
    e.body_case = SANJI__ENVELOPE__BODY_DOWN_ACK;
    e.down_ack = &a;
    len = sanji__envelope__pack(&e, buf);
    assert_int_equal(sj_wire_decode(buf, len, &env, &code, why, sizeof why), SJ_OK);
    assert_int_equal(env->down_ack->applied_through, 42);
    sj_wire_free(env);
}

static void
test_wire_decode_batch_limits(void **state)
{
    (void) state;
    Sanji__Batch b = SANJI__BATCH__INIT;
    Sanji__Envelope e = SANJI__ENVELOPE__INIT;
    uint8_t epoch[16] = {3};
    b.epoch.data = epoch;
    b.epoch.len = 16;
    b.first_seq = 1;
    ProtobufCBinaryData ev = {.len = 1, .data = epoch};
    size_t n = SJ_WIRE_MAX_BATCH + 1;
    ProtobufCBinaryData *evs = calloc(n, sizeof *evs);
    for (size_t i = 0; i < n; i++) {
        evs[i] = ev;
    }
    b.events = evs;
    b.n_events = n;
    e.version = SJ_PROTO_VERSION;
    e.body_case = SANJI__ENVELOPE__BODY_BATCH;
    e.batch = &b;
    size_t cap = sanji__envelope__get_packed_size(&e);
    uint8_t *buf = malloc(cap);
    size_t len = sanji__envelope__pack(&e, buf);
    Sanji__Envelope *env = NULL;
    int code = 0;
    char why[256];
    assert_int_equal(sj_wire_decode(buf, len, &env, &code, why, sizeof why), SJ_EPROTO);
    assert_int_equal(code, SANJI__ERROR_CODE__ERROR_TOO_LARGE);
    b.n_events = 0;
    len = sanji__envelope__pack(&e, buf);
    assert_int_equal(sj_wire_decode(buf, len, &env, &code, why, sizeof why), SJ_EPROTO);
    assert_int_equal(code, SANJI__ERROR_CODE__ERROR_MALFORMED);
    free(buf);
    free(evs);
}

static void
test_wire_decode_unknown_field(void **state)
{
    (void) state;
    /* field 30 (unknown), varint 1, after version 1, and no known body: a
     * message type of a newer node, refused naming both versions. */
    const uint8_t frame[] = {0x08, 0x01, 0xF0, 0x01, 0x01};
    Sanji__Envelope *env = NULL;
    int code = 0;
    char why[256];
    assert_int_equal(sj_wire_decode(frame, sizeof frame, &env, &code, why, sizeof why), SJ_EPROTO);
    assert_int_equal(code, SANJI__ERROR_CODE__ERROR_UNKNOWN_MESSAGE);
    assert_non_null(strstr(why, "Envelope field 30"));
    assert_non_null(strstr(why, "speaks protocol version 1; the sender speaks version 1"));
    /* A version this node does not know names both. */
    const uint8_t v7[] = {0x08, 0x07};
    assert_int_equal(sj_wire_decode(v7, sizeof v7, &env, &code, why, sizeof why), SJ_EPROTO);
    assert_int_equal(code, SANJI__ERROR_CODE__ERROR_BAD_VERSION);
    assert_non_null(strstr(why, "version 7"));
    assert_non_null(strstr(why, "speaks protocol version 1"));
}

/* One unknown varint field (tag, value 1) for a message's base. */
static ProtobufCMessageUnknownField
s_unknown_varint(uint32_t tag, uint8_t *byte)
{
    ProtobufCMessageUnknownField u;
    memset(&u, 0, sizeof u);
    *byte = 1;
    u.tag = tag;
    u.wire_type = PROTOBUF_C_WIRE_TYPE_VARINT;
    u.len = 1;
    u.data = byte;
    return u;
}

static void
test_wire_unknown_fields_ignored(void **state)
{
    /* Does a field of a newer proto, in a link message or inside an event,
     * pass (ignored) while the event's bytes stay exactly as sent? */
    (void) state;
    uint8_t one, two, three, epoch[16];
    sj_random16(epoch);
    Sanji__Hello h = SANJI__HELLO__INIT;
    Sanji__Envelope e = SANJI__ENVELOPE__INIT;
    ProtobufCMessageUnknownField uh = s_unknown_varint(40, &one);
    h.base.n_unknown_fields = 1;
    h.base.unknown_fields = &uh;
    h.epoch.data = epoch;
    h.epoch.len = 16;
    h.code = sj_wire_bytes("230523100201");
    e.version = SJ_PROTO_VERSION;
    e.body_case = SANJI__ENVELOPE__BODY_HELLO;
    e.hello = &h;
    uint8_t buf[512];
    size_t len = sanji__envelope__pack(&e, buf);
    Sanji__Envelope *env = NULL;
    int code = 0;
    char why[256];
    assert_int_equal(sj_wire_decode(buf, len, &env, &code, why, sizeof why), SJ_OK);
    assert_memory_equal(env->hello->epoch.data, epoch, 16);
    sj_wire_free(env);

    /* An event with an unknown field of its own and one in its report. */
    sj_event_t *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    s_sample_event(a);
    uint8_t *raw = NULL;
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    Sanji__Event *pb = sanji__event__unpack(NULL, len, raw);
    assert_non_null(pb);
    free(raw);
    ProtobufCMessageUnknownField ue = s_unknown_varint(29, &two);
    ProtobufCMessageUnknownField ur = s_unknown_varint(13, &three);
    ProtobufCMessageUnknownField *keep_e = pb->base.unknown_fields;
    ProtobufCMessageUnknownField *keep_r = pb->report->base.unknown_fields;
    pb->base.n_unknown_fields = 1;
    pb->base.unknown_fields = &ue;
    pb->report->base.n_unknown_fields = 1;
    pb->report->base.unknown_fields = &ur;
    len = sanji__event__pack(pb, buf);
    pb->base.n_unknown_fields = 0;
    pb->base.unknown_fields = keep_e;
    pb->report->base.n_unknown_fields = 0;
    pb->report->base.unknown_fields = keep_r;
    sanji__event__free_unpacked(pb, NULL);
    assert_int_equal(sj_event_decode(buf, len, b, why, sizeof why), SJ_OK);
    assert_string_equal(b->report.summary, a->report.summary);
    assert_int_equal(b->report.persons, a->report.persons);
    free(a);
    free(b);
}

static void
test_wire_unknown_event_body(void **state)
{
    /* Is an event whose body is a type this node does not know refused,
     * naming the field? */
    (void) state;
    Sanji__Event pb = SANJI__EVENT__INIT;
    uint8_t id[16] = {1}, epoch[16] = {2}, prev[32] = {0};
    uint8_t body[3] = {0x02, 0x08, 0x01}; /* length 2, then field 1 = 1 */
    pb.id.data = id;
    pb.id.len = 16;
    pb.epoch.data = epoch;
    pb.epoch.len = 16;
    pb.prev_hash.data = prev;
    pb.prev_hash.len = 32;
    pb.origin = sj_wire_bytes("230523100201");
    pb.origin_seq = 1;
    ProtobufCMessageUnknownField u;
    memset(&u, 0, sizeof u);
    u.tag = 25;
    u.wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
    u.len = sizeof body;
    u.data = body;
    pb.base.n_unknown_fields = 1;
    pb.base.unknown_fields = &u;
    uint8_t buf[256];
    size_t len = sanji__event__pack(&pb, buf);
    sj_event_t *ev = malloc(sizeof *ev);
    char why[256];
    assert_int_equal(sj_event_decode(buf, len, ev, why, sizeof why), SJ_EPROTO);
    if (!strstr(why, "Event field 25")) {
        fail_msg("reason: %s", why);
    }
    /* ... but its position can still be read (verify, quarantine). */
    char origin[SJ_CODE_MAX + 1];
    uint8_t ep[16];
    uint64_t seq = 0;
    assert_int_equal(sj_event_peek(buf, len, origin, ep, &seq), SJ_OK);
    assert_string_equal(origin, "230523100201");
    assert_memory_equal(ep, epoch, 16);
    assert_int_equal(seq, 1);
    assert_int_equal(sj_event_peek(buf, 3, origin, ep, &seq), SJ_EPROTO);
    free(ev);
}

static void
test_wire_quarantined_and_sealed_to(void **state)
{
    /* Do a quarantine notice and a report's sealed_to round-trip, and is a
     * fingerprint of the wrong length refused? */
    (void) state;
    sj_event_t *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    s_sample_event(a);
    a->type = SJ_EVENT_QUARANTINED;
    snprintf(a->quarantined.origin, sizeof a->quarantined.origin, "230523100209");
    sj_random16(a->quarantined.epoch);
    a->quarantined.origin_seq = 3;
    a->quarantined.code = SANJI__ERROR_CODE__ERROR_INVALID_EVENT;
    memset(a->quarantined.hash, 0xab, SJ_HASH_BYTES);
    snprintf(a->note, sizeof a->note, "prev_hash is not the BLAKE2b-256 ...");
    uint8_t *raw = NULL;
    size_t len = 0;
    char why[256];
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    assert_int_equal(sj_event_decode(raw, len, b, why, sizeof why), SJ_OK);
    assert_int_equal(b->type, SJ_EVENT_QUARANTINED);
    assert_string_equal(b->quarantined.origin, "230523100209");
    assert_memory_equal(b->quarantined.epoch, a->quarantined.epoch, 16);
    assert_int_equal(b->quarantined.origin_seq, 3);
    assert_int_equal(b->quarantined.code, SANJI__ERROR_CODE__ERROR_INVALID_EVENT);
    assert_memory_equal(b->quarantined.hash, a->quarantined.hash, SJ_HASH_BYTES);
    assert_string_equal(b->note, a->note);
    free(raw);
    a->quarantined.origin_seq = 0;
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    assert_int_equal(sj_event_decode(raw, len, b, why, sizeof why), SJ_EPROTO);
    assert_non_null(strstr(why, "quarantined"));
    free(raw);

    s_sample_event(a);
    uint8_t pk[SJ_KEY_BYTES];
    memset(pk, 7, sizeof pk);
    sj_key_fingerprint(pk, a->sealed_to);
    a->has_sealed_to = 1;
    a->sealed_len = 60;
    memset(a->sealed, 1, a->sealed_len);
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    assert_int_equal(sj_event_decode(raw, len, b, why, sizeof why), SJ_OK);
    assert_int_equal(b->has_sealed_to, 1);
    assert_memory_equal(b->sealed_to, a->sealed_to, SJ_KEY_FP_BYTES);
    free(raw);
    a->has_sealed_to = 0;
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    assert_int_equal(sj_event_decode(raw, len, b, why, sizeof why), SJ_OK);
    assert_int_equal(b->has_sealed_to, 0);
    free(raw);
    /* 7 bytes is no fingerprint */
    Sanji__Event *pb = NULL;
    s_sample_event(a);
    assert_int_equal(sj_event_encode(a, &raw, &len), SJ_OK);
    pb = sanji__event__unpack(NULL, len, raw);
    free(raw);
    assert_non_null(pb);
    uint8_t seven[7] = {0};
    pb->report->sealed_to.data = seven;
    pb->report->sealed_to.len = 7;
    uint8_t buf[1024];
    len = sanji__event__pack(pb, buf);
    pb->report->sealed_to.data = NULL;
    pb->report->sealed_to.len = 0;
    sanji__event__free_unpacked(pb, NULL);
    assert_int_equal(sj_event_decode(buf, len, b, why, sizeof why), SJ_EPROTO);
    assert_non_null(strstr(why, "sealed_to"));
    free(a);
    free(b);
}

static void
test_wire_key_fingerprint(void **state)
{
    /* Is a key's fingerprint the first 8 bytes of BLAKE2b-256 of the key,
     * shown as four groups of hex digits? (docs/PROTOCOL.md) */
    (void) state;
    uint8_t pk[SJ_KEY_BYTES], fp[SJ_KEY_FP_BYTES], h[32];
    for (int i = 0; i < SJ_KEY_BYTES; i++) {
        pk[i] = (uint8_t) i;
    }
    sj_key_fingerprint(pk, fp);
    sj_event_hash(pk, sizeof pk, h); /* the same BLAKE2b-256 */
    assert_memory_equal(fp, h, SJ_KEY_FP_BYTES);
    char text[SJ_KEY_FP_TEXT];
    sj_key_fingerprint_text(pk, text);
    assert_int_equal(strlen(text), 19);
    assert_true(text[4] == '-' && text[9] == '-' && text[14] == '-');
    char expect[SJ_KEY_FP_TEXT];
    snprintf(expect, sizeof expect, "%02X%02X-%02X%02X-%02X%02X-%02X%02X", fp[0], fp[1], fp[2],
             fp[3], fp[4], fp[5], fp[6], fp[7]);
    assert_string_equal(text, expect);
}

int
main(void)
{
    if (sj_ids_init() != SJ_OK) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_event_roundtrip),
        cmocka_unit_test(test_wire_event_rejects_bad_enum),
        cmocka_unit_test(test_wire_event_rejects_nul_in_text),
        cmocka_unit_test(test_wire_event_rejects_bad_text),
        cmocka_unit_test(test_wire_status_event),
        cmocka_unit_test(test_wire_correction_and_void),
        cmocka_unit_test(test_wire_approval),
        cmocka_unit_test(test_wire_assignment_event),
        cmocka_unit_test(test_wire_down_item),
        cmocka_unit_test(test_wire_periods_and_clock),
        cmocka_unit_test(test_wire_decode_down_frames),
        cmocka_unit_test(test_wire_decode_garbage),
        cmocka_unit_test(test_wire_decode_version),
        cmocka_unit_test(test_wire_decode_batch_limits),
        cmocka_unit_test(test_wire_decode_unknown_field),
        cmocka_unit_test(test_wire_unknown_fields_ignored),
        cmocka_unit_test(test_wire_unknown_event_body),
        cmocka_unit_test(test_wire_quarantined_and_sealed_to),
        cmocka_unit_test(test_wire_key_fingerprint),
    };
    return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
