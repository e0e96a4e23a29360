/* Can a station or a hub change or assign a case that is not theirs, or pin
 * one with its clock (issue 12)? Three attacks against the real daemons,
 * each made by a hand-made station or hub speaking the protocol with the
 * project's own libraries (sj_wire events, hash-chained as a store chains
 * them): a station withdraws another station's case; a station's clock runs
 * far ahead; a hub assigns another township's case to its own station. Each
 * must be quarantined with its reason at the first tier that sees it (or,
 * for the clock, simply not decide anything), the case keep its outcome, no
 * foreign summary go down, and honest events of the same batch and the
 * honest station of the same hub go on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zmq.h>

#include "harness.h"
#include "sj_ids.h"
#include "sj_wire.h"

#define T100      "230523100"
#define T101      "230523101"
#define S1        T100 "201" /* the honest station (village-agent) */
#define S2        T100 "202" /* a hand-made station of the same township */
#define S3        T100 "203" /* a hand-made station whose clock runs ahead */
#define R1        T101 "201" /* a station of the rogue township */
#define REPLY_MS  5000
#define SILENT_MS 1500
#define T2100     4102444800000LL /* 2100-01-01 */

typedef struct {
    h_env_t *env;
    void *zctx;
    void *raw; /* the hand-made node's DEALER */
    h_node_t *county, *hub, *s1;
    int s1_sent; /* reports the honest station delivered */
} s_fix_t;

static int
s_setup(void **state)
{
    s_fix_t *f = calloc(1, sizeof *f);
    if (!f) {
        return -1;
    }
    f->env = h_env_new("authority");
    f->zctx = zmq_ctx_new();
    if (!f->env || !f->zctx || sj_ids_init() != SJ_OK) {
        (void) h_env_destroy(&f->env);
        if (f->zctx) {
            zmq_ctx_term(f->zctx);
        }
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
    if (f->raw) {
        zmq_close(f->raw);
    }
    zmq_ctx_term(f->zctx);
    int rc = h_env_destroy(&f->env);
    free(f);
    return rc;
}

/* County, hub 230523100 and its honest station, which reports one matter;
 * its id into case_id. */
static void
s_fixture(s_fix_t *f, char case_id[40])
{
    f->county = h_county(f->env);
    f->hub = h_hub(f->env, T100, f->county);
    f->s1 = h_station(f->env, S1, f->hub);
    assert_int_equal(h_start_county(f->county), 0);
    assert_int_equal(h_start_hub(f->hub), 0);
    const char *args[] = {"submit",    "--channel",  "visit",  "--level", "township",
                          "--summary", "宅基地纠纷", "--wait", "0",       NULL};
    h_result_t r;
    assert_int_equal(h_agent(f->s1, args, &r, h_ms(30000)), 0);
    assert_true(strlen(r.out) >= 36);
    snprintf(case_id, 40, "%.36s", r.out);
    h_result_free(&r);
    f->s1_sent = 1;
    assert_int_equal(h_sync(f->s1, 30, &r), 0);
    h_result_free(&r);
    assert_int_equal(h_wait_db(f->county, "SELECT count(*) FROM matters", 1, 1, h_ms(30000)), 1);
}

/* The honest station reports n more and delivers all it ever made. */
static void
s_honest_delivers(s_fix_t *f, int n)
{
    assert_int_equal(h_import(f->s1, (size_t) n, 4242u + (uint32_t) f->s1_sent), 0);
    f->s1_sent += n;
    h_result_t r;
    int code = h_sync(f->s1, 30, &r);
    if (code != 0) {
        fail_msg("the honest station's sync exited %d: %s", code, r.err);
    }
    h_result_free(&r);
    assert_int_equal(h_wait_db(f->county, "SELECT count(*) FROM events WHERE origin = '" S1 "'",
                               f->s1_sent, f->s1_sent, h_ms(30000)),
                     f->s1_sent);
    assert_int_equal(h_db_scalar(f->county, "SELECT count(*) FROM matters WHERE origin = '" S1 "'"),
                     f->s1_sent);
    assert_int_equal(h_db_scalar(f->s1, "SELECT count(*) FROM rejected"), 0);
}

/* `TOOL CMD --data DIR args...` of the county or a hub. */
static int
s_tool(h_node_t *node, const char *cmd, const char *const args[], h_result_t *res)
{
    char *argv[32];
    int n = 0;
    argv[n++] = (char *) (node->role == H_COUNTY ? COUNTY_BIN : HUB_BIN);
    argv[n++] = (char *) cmd;
    argv[n++] = "--data";
    argv[n++] = node->data;
    for (int i = 0; args && args[i] && n < 31; i++) {
        argv[n++] = (char *) args[i];
    }
    argv[n] = NULL;
    return h_run(node->env, cmd, argv, res, h_ms(60000));
}

/* The case id as the upper-case hex of its 16 bytes (for SQL). */
static void
s_hex(const char *id, char hex[33])
{
    int k = 0;
    for (const char *p = id; *p && k < 32; p++) {
        if (*p != '-') {
            hex[k++] = (char) (*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
        }
    }
    hex[k] = '\0';
}

static long long
s_outcome(const h_node_t *county, const char *id)
{
    char hex[33], sql[160];
    s_hex(id, hex);
    snprintf(sql, sizeof sql, "SELECT outcome FROM matters WHERE hex(id) = '%s'", hex);
    return h_db_scalar(county, sql);
}

/* ---- a hand-made node's streams ---- */

/* One origin's stream, numbered and hash-chained as a store does it. */
typedef struct {
    char origin[SJ_CODE_MAX + 1];
    uint8_t epoch[16];
    uint64_t seq;
    uint8_t prev[SJ_HASH_BYTES];
} s_chain_t;

static void
s_chain_init(s_chain_t *c, const char *origin)
{
    memset(c, 0, sizeof *c);
    snprintf(c->origin, sizeof c->origin, "%s", origin);
    sj_random16(c->epoch);
}

/* The next event of the chain (type and body in ev are the caller's; id,
 * created_ms 0 = now), packed into out. */
static void
s_next(s_chain_t *c, sj_event_t *ev, ProtobufCBinaryData *out)
{
    sj_uuid7_new(ev->id);
    snprintf(ev->origin, sizeof ev->origin, "%s", c->origin);
    memcpy(ev->epoch, c->epoch, 16);
    ev->origin_seq = ++c->seq;
    memcpy(ev->prev_hash, c->prev, SJ_HASH_BYTES);
    if (!ev->created_ms) {
        ev->created_ms = sj_now_ms();
    }
    assert_int_equal(sj_event_encode(ev, &out->data, &out->len), SJ_OK);
    sj_event_hash(out->data, out->len, c->prev);
}

static sj_event_t *
s_report(void)
{
    sj_event_t *ev = calloc(1, sizeof *ev);
    assert_non_null(ev);
    ev->type = SJ_EVENT_REPORT;
    snprintf(ev->report.occurred_on, sizeof ev->report.occurred_on, "2024-05-01");
    ev->report.channel = ev->report.kind = ev->report.category = 1;
    ev->report.level = 3;
    ev->report.persons = 1;
    ev->report.outcome = 1; /* pending */
    ev->report.source = 1;
    ev->report.summary = "hand-made report";
    ev->report.officer = "";
    return ev;
}

static sj_event_t *
s_change(
    const uint8_t case_id[16], int outcome, int prev, const uint8_t *parent, int64_t created_ms)
{
    sj_event_t *ev = calloc(1, sizeof *ev);
    assert_non_null(ev);
    ev->type = SJ_EVENT_STATUS;
    memcpy(ev->case_id, case_id, 16);
    ev->new_outcome = outcome;
    ev->prev_outcome = prev;
    if (parent) {
        ev->has_prev_change = 1;
        memcpy(ev->prev_change, parent, 16);
    }
    ev->created_ms = created_ms;
    return ev;
}

/* Hello with code and epoch; returns the Welcome's down_head. */
static uint64_t
s_hello(s_fix_t *f, const char *code, const uint8_t epoch[16])
{
    Sanji__Hello h = SANJI__HELLO__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    h.epoch.data = (uint8_t *) epoch;
    h.epoch.len = 16;
    h.code.data = (uint8_t *) code;
    h.code.len = strlen(code);
    h.sw_version.data = (uint8_t *) "authority-test";
    h.sw_version.len = strlen("authority-test");
    env.version = SJ_PROTO_VERSION;
    env.body_case = SANJI__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    assert_int_equal(h_raw_send_env(f->raw, &env), 0);
    Sanji__Envelope *w = h_raw_recv_env(f->raw, h_ms(REPLY_MS));
    assert_non_null(w);
    assert_int_equal(w->body_case, SANJI__ENVELOPE__BODY_WELCOME);
    uint64_t head = w->welcome->down_head;
    sanji__envelope__free_unpacked(w, NULL);
    return head;
}

/* Sends events (freed here) as link seqs first.., returns the Ack. */
static Sanji__Envelope *
s_batch(s_fix_t *f, const uint8_t epoch[16], uint64_t first, ProtobufCBinaryData *events, size_t n)
{
    Sanji__Batch b = SANJI__BATCH__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    b.epoch.data = (uint8_t *) epoch;
    b.epoch.len = 16;
    b.first_seq = first;
    b.n_events = n;
    b.events = events;
    env.version = SJ_PROTO_VERSION;
    env.body_case = SANJI__ENVELOPE__BODY_BATCH;
    env.batch = &b;
    assert_int_equal(h_raw_send_env(f->raw, &env), 0);
    for (size_t i = 0; i < n; i++) {
        free(events[i].data);
    }
    Sanji__Envelope *ack = h_raw_recv_env(f->raw, h_ms(REPLY_MS));
    assert_non_null(ack);
    if (ack->body_case != SANJI__ENVELOPE__BODY_ACK) {
        int got = ack->body_case;
        sanji__envelope__free_unpacked(ack, NULL);
        fail_msg("expected an Ack, got body %d", got);
    }
    assert_int_equal(ack->ack->acked_through, first + n - 1);
    return ack;
}

/* The rejection of link seq in ack must exist and say `about`; or, with
 * about NULL, there must be none. */
static void
s_rejected(const Sanji__Envelope *ack, uint64_t seq, const char *about)
{
    for (size_t i = 0; i < ack->ack->n_rejected; i++) {
        const Sanji__Rejection *r = ack->ack->rejected[i];
        if (r->seq != seq) {
            continue;
        }
        char reason[300];
        snprintf(reason, sizeof reason, "%.*s", (int) r->reason.len, (const char *) r->reason.data);
        fprintf(stderr, "# event %llu rejected: %s\n", (unsigned long long) seq, reason);
        if (!about) {
            fail_msg("event %llu was rejected: %s", (unsigned long long) seq, reason);
        }
        assert_int_equal(r->code, SANJI__ERROR_CODE__ERROR_INVALID_EVENT);
        if (!strstr(reason, about)) {
            fail_msg("reason '%s' does not say '%s'", reason, about);
        }
        return;
    }
    if (about) {
        fail_msg("event %llu was not rejected (expected: %s)", (unsigned long long) seq, about);
    }
}

/* ---- the attacks ---- */

/* (1) A station of the same township withdraws the honest station's case
 * (withdrawn is final: the county could never undo it). */
static void
test_authority_station_withdraws_foreign_case(void **state)
{
    s_fix_t *f = *state;
    char id[40];
    s_fixture(f, id);
    uint8_t case_id[16], unknown[16];
    assert_int_equal(sj_uuid_parse(id, case_id), SJ_OK);
    sj_uuid7_new(unknown);
    f->raw = h_raw_dealer(f->zctx, h_station(f->env, S2, f->hub));
    assert_non_null(f->raw);
    s_chain_t c;
    s_chain_init(&c, S2);
    (void) s_hello(f, S2, c.epoch);
    /* its own report, the foreign case withdrawn, a case no one holds
     * accepted, its own report again */
    ProtobufCBinaryData ev[4];
    sj_event_t *e[4] = {s_report(), s_change(case_id, 5, 1, NULL, 0),
                        s_change(unknown, 3, 1, NULL, 0), s_report()};
    for (int i = 0; i < 4; i++) {
        s_next(&c, e[i], &ev[i]);
        free(e[i]);
    }
    Sanji__Envelope *ack = s_batch(f, c.epoch, 1, ev, 4);
    s_rejected(ack, 1, NULL);
    s_rejected(ack, 2, "station " S2 " may not change a case of station " S1);
    s_rejected(ack, 3, "township " T100 " holds no such case");
    s_rejected(ack, 4, NULL);
    sanji__envelope__free_unpacked(ack, NULL);
    /* quarantined at the hub, never applied, never forwarded */
    assert_int_equal(h_db_scalar(f->hub, "SELECT count(*) FROM quarantine WHERE code = '" S2 "'"
                                         " AND reason LIKE '%may not change a case of station%'"),
                     1);
    assert_int_equal(h_db_scalar(f->hub, "SELECT count(*) FROM quarantine"), 2);
    assert_int_equal(h_db_scalar(f->hub, "SELECT count(*) FROM case_changes"), 0);
    assert_int_equal(h_wait_db(f->county, "SELECT count(*) FROM events WHERE origin = '" S2 "'", 2,
                               2, h_ms(30000)),
                     2);
    assert_int_equal(h_db_scalar(f->county, "SELECT count(*) FROM status_changes"), 0);
    assert_int_equal(s_outcome(f->county, id), 1); /* still pending */
    /* the honest station goes on, and can still work its case */
    s_honest_delivers(f, 5);
    const char *acc[] = {"update", id, "--outcome", "accepted", "--wait", "0", NULL};
    h_result_t r;
    assert_int_equal(h_agent(f->s1, acc, &r, h_ms(30000)), 0);
    assert_non_null(strstr(r.err, "pending -> accepted, in force"));
    h_result_free(&r);
    assert_int_equal(h_sync(f->s1, 30, &r), 0);
    h_result_free(&r);
    assert_int_equal(h_wait_db(f->county, "SELECT count(*) FROM status_changes", 1, 1, h_ms(30000)),
                     1);
    assert_int_equal(s_outcome(f->county, id), 3);
}

/* (2) A station whose clock runs ahead: a change dated a few minutes ahead
 * (what a first hop may let through) and one dated 2100 (beyond: a first
 * hop may refuse it) decide nothing. A later county change takes effect, and
 * `update` says what is in force. */
static void
test_authority_clock_cannot_pin(void **state)
{
    s_fix_t *f = *state;
    char id[40];
    s_fixture(f, id);
    f->raw = h_raw_dealer(f->zctx, h_station(f->env, S3, f->hub));
    assert_non_null(f->raw);
    s_chain_t c;
    s_chain_init(&c, S3);
    (void) s_hello(f, S3, c.epoch);
    /* report A, A accepted (now + 3 min); report B, B accepted (2100) */
    ProtobufCBinaryData ev[4];
    sj_event_t *a = s_report(), *b = s_report();
    s_next(&c, a, &ev[0]);
    sj_event_t *a_acc = s_change(a->id, 3, 1, NULL, sj_now_ms() + 3 * 60000);
    s_next(&c, a_acc, &ev[1]);
    s_next(&c, b, &ev[2]);
    sj_event_t *b_acc = s_change(b->id, 3, 1, NULL, T2100);
    s_next(&c, b_acc, &ev[3]);
    Sanji__Envelope *ack = s_batch(f, c.epoch, 1, ev, 4);
    size_t held = 4 - ack->ack->n_rejected;
    sanji__envelope__free_unpacked(ack, NULL);
    assert_true(held >= 3); /* the report and the change a few minutes ahead at least */
    assert_int_equal(h_wait_db(f->county, "SELECT count(*) FROM events WHERE origin = '" S3 "'",
                               (long long) held, (long long) held, h_ms(30000)),
                     (long long) held);
    const sj_event_t *cases[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        char text[SJ_UUID_TEXT];
        sj_uuid_format(cases[i]->id, text);
        long long now = s_outcome(f->county, text);
        assert_true(now == 1 || now == 3); /* pending if the first hop refused the change */
        /* The county decides now, long before the sender's date: in force. */
        const char *target = now == 3 ? "closed" : "withdrawn";
        const char *args[] = {text, "--outcome", target, "--note", "县里结案", NULL};
        h_result_t r;
        int code = s_tool(f->county, "update", args, &r);
        fprintf(stderr, "# county-server update: %s", r.err);
        assert_int_equal(code, 0);
        char want[120];
        snprintf(want, sizeof want, "%s -> %s, in force", now == 3 ? "accepted" : "pending",
                 target);
        assert_non_null(strstr(r.err, want));
        assert_true(strlen(r.out) >= 36); /* the new event's id */
        h_result_free(&r);
        assert_int_equal(s_outcome(f->county, text), now == 3 ? 4 : 5);
    }
    /* The station goes on from its own accepted A and withdraws it half an
     * hour ahead of the county's clock (within what the first hop lets in,
     * sj_link.h; 2100 is refused there): concurrent with the county's
     * close, which outranks it although it is dated later. */
    sj_event_t *late = s_change(a->id, 5, 3, a_acc->id, sj_now_ms() + 30 * 60000);
    ProtobufCBinaryData one;
    s_next(&c, late, &one);
    ack = s_batch(f, c.epoch, 5, &one, 1);
    assert_int_equal(ack->ack->n_rejected, 0);
    held += 1;
    sanji__envelope__free_unpacked(ack, NULL);
    assert_int_equal(h_wait_db(f->county, "SELECT count(*) FROM events WHERE origin = '" S3 "'",
                               (long long) held, (long long) held, h_ms(30000)),
                     (long long) held);
    char text[SJ_UUID_TEXT];
    sj_uuid_format(a->id, text);
    assert_int_equal(s_outcome(f->county, text), 4);
    const char *conflicts[] = {"--conflicts", "--format", "csv", NULL};
    h_result_t r;
    assert_int_equal(s_tool(f->county, "cases", conflicts, &r), 0);
    assert_non_null(strstr(r.out, text));
    h_result_free(&r);
    /* and the median days to close is a plausible number */
    const char *stats[] = {"--cases", "--format", "json", NULL};
    assert_int_equal(s_tool(f->county, "stats", stats, &r), 0);
    const char *m = strstr(r.out, "\"median_days_to_close\":");
    assert_non_null(m);
    double days = strtod(m + strlen("\"median_days_to_close\":"), NULL);
    assert_true(days >= -1.0 && days < 36500.0);
    h_result_free(&r);
    free(a);
    free(b);
    free(a_acc);
    free(b_acc);
    free(late);
    s_honest_delivers(f, 3);
}

/* (3) A hub assigns another township's case to its own station (and forges
 * that station's change of it): quarantined at the county; no summary of
 * the case, then or after, goes down to that hub. */
static void
test_authority_hub_assigns_foreign_case(void **state)
{
    s_fix_t *f = *state;
    char id[40];
    s_fixture(f, id);
    uint8_t case_id[16];
    assert_int_equal(sj_uuid_parse(id, case_id), SJ_OK);
    h_node_t *rogue = h_hub(f->env, T101, f->county);
    f->raw = h_raw_dealer(f->zctx, rogue);
    assert_non_null(f->raw);
    uint8_t link[16];
    sj_random16(link);
    assert_int_equal(s_hello(f, T101, link), 0);
    s_chain_t own, st;
    s_chain_init(&own, T101);
    s_chain_init(&st, R1);
    ProtobufCBinaryData ev[3];
    sj_event_t *as = calloc(1, sizeof *as);
    assert_non_null(as);
    as->type = SJ_EVENT_ASSIGNMENT;
    memcpy(as->case_id, case_id, 16);
    snprintf(as->assignee, sizeof as->assignee, "%s", R1);
    snprintf(as->due_on, sizeof as->due_on, "2099-12-31");
    s_next(&own, as, &ev[0]);
    sj_event_t *ch = s_change(case_id, 5, 1, NULL, 0), *rep = s_report();
    s_next(&st, ch, &ev[1]);
    s_next(&st, rep, &ev[2]); /* the station's own report: honest */
    free(as);
    free(ch);
    free(rep);
    Sanji__Envelope *ack = s_batch(f, link, 1, ev, 3);
    s_rejected(ack, 1, "township " T101 " may not assign a case of township " T100);
    s_rejected(ack, 2, "station " R1 " may not change a case of station " S1);
    s_rejected(ack, 3, NULL);
    sanji__envelope__free_unpacked(ack, NULL);
    assert_int_equal(
        h_db_scalar(f->county, "SELECT count(*) FROM quarantine WHERE code = '" T101 "'"), 2);
    assert_int_equal(h_db_scalar(f->county, "SELECT count(*) FROM assignments"), 0);
    assert_int_equal(h_db_scalar(f->county, "SELECT count(*) FROM status_changes"), 0);
    assert_int_equal(h_db_scalar(f->county, "SELECT count(*) FROM matters WHERE origin = '" R1 "'"),
                     1);
    assert_int_equal(s_outcome(f->county, id), 1);
    /* The county works the case: still nothing goes down to the rogue hub. */
    const char *acc[] = {id, "--outcome", "accepted", NULL};
    h_result_t r;
    assert_int_equal(s_tool(f->county, "update", acc, &r), 0);
    h_result_free(&r);
    assert_int_equal(h_db_scalar(f->county, "SELECT count(*) FROM down WHERE child = '" T101 "'"),
                     0);
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    hb.now_ms = sj_now_ms();
    env.version = SJ_PROTO_VERSION;
    env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    assert_int_equal(h_raw_send_env(f->raw, &env), 0);
    int64_t until = h_now_ms() + h_ms(SILENT_MS);
    while (h_now_ms() < until) {
        Sanji__Envelope *in = h_raw_recv_env(f->raw, 100);
        if (!in) {
            continue;
        }
        int body = in->body_case;
        uint64_t head = body == SANJI__ENVELOPE__BODY_HEARTBEAT ? in->heartbeat->down_head : 0;
        sanji__envelope__free_unpacked(in, NULL);
        assert_int_not_equal(body, SANJI__ENVELOPE__BODY_DOWN_BATCH);
        assert_int_equal(head, 0);
    }
    /* the honest township and its station go on */
    s_honest_delivers(f, 3);
    assert_int_equal(s_outcome(f->county, id), 3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_authority_station_withdraws_foreign_case, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_authority_clock_cannot_pin, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_authority_hub_assigns_foreign_case, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests_name("authority", tests, NULL, NULL);
}
