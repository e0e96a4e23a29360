/* Is nothing unchecked let in (issue 13)? Every event that breaks the
 * protocol's rules where it first enters — a broken hash chain, an epoch
 * other than the link's, another event at a position already held, a date
 * in the future, an impossible clock, data sealed to another key — is
 * refused with its reason while a real station on the same hub delivers
 * once; the county's verify stays clean; unknown fields pass; links recover
 * after a refusal without a restart; a revoked station gets nothing more. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>
#include <zmq.h>

#include "harness.h"
#include "sanji_next.pb-c.h"
#include "sj_ids.h"
#include "sj_keys.h"
#include "sj_wire.h"

#define T100         "230523100"
#define GOOD         T100 "201" /* a real station */
#define RAW          T100 "209" /* the hand-made station */
#define GOOD_N       200
#define REPLY_MS     5000
#define FAKETIME_LIB "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

typedef struct {
    h_env_t *env;
    void *zctx;
    void *raw;
} s_fix_t;

static int
s_setup(void **state)
{
    s_fix_t *f = calloc(1, sizeof *f);
    if (!f) {
        return -1;
    }
    f->env = h_env_new("protocol");
    f->zctx = zmq_ctx_new();
    if (!f->env || !f->zctx) {
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

/* A county and its hub 230523100 (started unless start_hub is 0), and a
 * station of the hub with code st (not started: a station is a command). */
static void
s_tree(
    s_fix_t *f, h_node_t **county, h_node_t **hub, h_node_t **st, const char *code, int start_hub)
{
    *county = h_county(f->env);
    *hub = h_hub(f->env, T100, *county);
    *st = h_station(f->env, code, *hub);
    assert_int_equal(h_start_county(*county), 0);
    if (start_hub) {
        assert_int_equal(h_start_hub(*hub), 0);
    }
}

/* `county-server verify` exits 0; its output is printed. */
static void
s_verify_clean(h_node_t *county, const char *expect)
{
    h_result_t r;
    int code = h_tool(county, "verify", NULL, &r);
    fprintf(stderr, "# verify:\n%s%s", r.out, r.err);
    assert_int_equal(code, 0);
    if (expect && !strstr(r.out, expect) && !strstr(r.err, expect)) {
        fail_msg("verify does not show '%s'", expect);
    }
    h_result_free(&r);
}

/* ---- the hand-made station ---- */

/* What one hand-made event looks like; zero values mean "right". */
typedef struct {
    const uint8_t *epoch; /* its epoch (the link's unless a test says otherwise) */
    uint64_t seq;         /* origin_seq */
    uint8_t *chain;       /* in: prev_hash; out: this event's hash */
    const uint8_t *prev;  /* when set: this prev_hash instead of the chain's */
    int64_t created_ms;   /* 0: now */
    const char *occurred; /* NULL: 2024-05-01 */
    int unknown;          /* add fields of a newer proto to the event and its report */
} s_ev_t;

static ProtobufCBinaryData
s_event(const s_ev_t *e)
{
    uint8_t id[16], zero[32] = {0};
    static uint8_t one = 1, two[3] = {0x02, 0xE6, 0x9D}; /* varint 1; 2 bytes of text */
    sj_uuid7_new(id);
    Sanji__Event ev = SANJI__EVENT__INIT;
    Sanji__Report rep = SANJI__REPORT__INIT;
    ev.id.data = id;
    ev.id.len = 16;
    ev.origin = sj_wire_bytes(RAW);
    ev.epoch.data = (uint8_t *) e->epoch;
    ev.epoch.len = 16;
    ev.origin_seq = e->seq;
    ev.prev_hash.data = (uint8_t *) (e->prev ? e->prev : e->chain ? e->chain : zero);
    ev.prev_hash.len = 32;
    ev.created_ms = e->created_ms ? e->created_ms : (int64_t) time(NULL) * 1000;
    rep.occurred_on = sj_wire_bytes(e->occurred ? e->occurred : "2024-05-01");
    rep.channel = SANJI__CHANNEL__CHANNEL_VISIT;
    rep.kind = SANJI__KIND__KIND_INDIVIDUAL;
    rep.persons = 1;
    rep.level = SANJI__LEVEL__LEVEL_COUNTY;
    rep.category = SANJI__CATEGORY__CATEGORY_LAND;
    rep.outcome = SANJI__OUTCOME__OUTCOME_PENDING;
    rep.source = SANJI__SOURCE__SOURCE_DIRECT;
    rep.summary = sj_wire_bytes("手工站点的报告 hand-made");
    ev.body_case = SANJI__EVENT__BODY_REPORT;
    ev.report = &rep;
    ProtobufCMessageUnknownField ue, ur;
    if (e->unknown) {
        memset(&ue, 0, sizeof ue);
        memset(&ur, 0, sizeof ur);
        ue.tag = 29; /* a newer event field: varint */
        ue.wire_type = PROTOBUF_C_WIRE_TYPE_VARINT;
        ue.len = 1;
        ue.data = &one;
        ur.tag = 31; /* a newer report field: text */
        ur.wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
        ur.len = sizeof two;
        ur.data = two;
        ev.base.n_unknown_fields = 1;
        ev.base.unknown_fields = &ue;
        rep.base.n_unknown_fields = 1;
        rep.base.unknown_fields = &ur;
    }
    ProtobufCBinaryData b;
    b.len = sanji__event__get_packed_size(&ev);
    b.data = malloc(b.len);
    assert_non_null(b.data);
    sanji__event__pack(&ev, b.data);
    if (e->chain) {
        sj_event_hash(b.data, b.len, e->chain);
    }
    return b;
}

static void
s_hello(void *sock, const uint8_t epoch[16])
{
    Sanji__Hello h = SANJI__HELLO__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    h.epoch.data = (uint8_t *) epoch;
    h.epoch.len = 16;
    h.code = sj_wire_bytes(RAW);
    h.sw_version = sj_wire_bytes("hand-made");
    env.version = SJ_PROTO_VERSION;
    env.body_case = SANJI__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    assert_int_equal(h_raw_send_env(sock, &env), 0);
    Sanji__Envelope *w = h_raw_recv_env(sock, h_ms(REPLY_MS));
    assert_non_null(w);
    assert_int_equal(w->body_case, SANJI__ENVELOPE__BODY_WELCOME);
    sanji__envelope__free_unpacked(w, NULL);
}

/* Sends one batch (link epoch, first seq, the events; frees them) and
 * returns the Ack (caller frees). */
static Sanji__Envelope *
s_batch(void *sock, const uint8_t epoch[16], uint64_t first, ProtobufCBinaryData *ev, size_t n)
{
    Sanji__Batch b = SANJI__BATCH__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    b.epoch.data = (uint8_t *) epoch;
    b.epoch.len = 16;
    b.first_seq = first;
    b.n_events = n;
    b.events = ev;
    env.version = SJ_PROTO_VERSION;
    env.body_case = SANJI__ENVELOPE__BODY_BATCH;
    env.batch = &b;
    assert_int_equal(h_raw_send_env(sock, &env), 0);
    for (size_t i = 0; i < n; i++) {
        free(ev[i].data);
    }
    Sanji__Envelope *a = h_raw_recv_env(sock, h_ms(REPLY_MS));
    assert_non_null(a);
    if (a->body_case != SANJI__ENVELOPE__BODY_ACK) {
        fail_msg("expected an Ack, got body %d", a->body_case);
    }
    return a;
}

/* The ack rejects seq with code and a reason containing `about`. */
static void
s_rejected(const Sanji__Envelope *a, uint64_t seq, uint32_t code, const char *about)
{
    for (size_t i = 0; i < a->ack->n_rejected; i++) {
        const Sanji__Rejection *r = a->ack->rejected[i];
        if (r->seq == seq) {
            char why[300];
            snprintf(why, sizeof why, "%.*s", (int) r->reason.len, (const char *) r->reason.data);
            fprintf(stderr, "# seq %llu rejected (%u): %s\n", (unsigned long long) seq, r->code,
                    why);
            assert_int_equal(r->code, code);
            if (!strstr(why, about)) {
                fail_msg("the reason for seq %llu does not say '%s': %s", (unsigned long long) seq,
                         about, why);
            }
            return;
        }
    }
    fail_msg("seq %llu was not rejected", (unsigned long long) seq);
}

static void
s_one(void *sock, const uint8_t epoch[16], s_ev_t e, uint32_t code, const char *about)
{
    ProtobufCBinaryData ev = s_event(&e);
    Sanji__Envelope *a = s_batch(sock, epoch, e.seq, &ev, 1);
    assert_int_equal(a->ack->acked_through, e.seq);
    if (about) {
        s_rejected(a, e.seq, code, about);
    } else {
        assert_int_equal(a->ack->n_rejected, 0);
    }
    sanji__envelope__free_unpacked(a, NULL);
}

static long long
s_count(const h_node_t *n, const char *sql)
{
    return h_db_scalar(n, sql);
}

/* Waits (with a deadline) until the process's log says text. */
static void
s_wait_log(const h_proc_t *p, const char *text, int ms)
{
    int64_t deadline = h_now_ms() + h_ms(ms);
    while (h_log_count(p, text) == 0 && h_now_ms() < deadline) {
        h_sleep_ms(20);
    }
    if (h_log_count(p, text) == 0) {
        fail_msg("the log never said '%s'", text);
    }
}

static void
test_protocol_violations(void **state)
{
    /* Is each violation refused with its reason where it enters, while a
     * real station on the same hub delivers 200 reports once, and does
     * verify at the county stay clean? */
    s_fix_t *f = *state;
    h_node_t *county, *hub, *good;
    s_tree(f, &county, &hub, &good, GOOD, 1);
    assert_int_equal(h_import(good, GOOD_N, 4242), 0);
    h_proc_t *sync = h_sync_spawn(good, 120);
    assert_non_null(sync);
    f->raw = h_raw_dealer(f->zctx, h_station(f->env, RAW, hub));
    assert_non_null(f->raw);

    uint8_t e1[16], e2[16], other[16], chain[32] = {0}, junk[32];
    sj_random16(e1);
    sj_random16(e2);
    sj_random16(other);
    randombytes_buf(junk, sizeof junk);
    s_hello(f->raw, e1);
    const uint32_t INVALID = SANJI__ERROR_CODE__ERROR_INVALID_EVENT;
    /* 1, 2 right */
    ProtobufCBinaryData two[2];
    s_ev_t one = {.epoch = e1, .seq = 1, .chain = chain};
    two[0] = s_event(&one);
    uint8_t after1[32];
    memcpy(after1, chain, 32);
    s_ev_t second = {.epoch = e1, .seq = 2, .chain = chain};
    two[1] = s_event(&second);
    Sanji__Envelope *a = s_batch(f->raw, e1, 1, two, 2);
    assert_int_equal(a->ack->acked_through, 2);
    assert_int_equal(a->ack->n_rejected, 0);
    sanji__envelope__free_unpacked(a, NULL);
    /* 3: a broken chain (random prev_hash); 4 chains to 3's bytes: in */
    s_one(f->raw, e1, (s_ev_t){.epoch = e1, .seq = 3, .chain = chain, .prev = junk}, INVALID,
          "hash chain is broken");
    s_one(f->raw, e1, (s_ev_t){.epoch = e1, .seq = 4, .chain = chain}, 0, NULL);
    /* a different event at seq 2, already held: a fork, never acked as committed */
    uint8_t fork_chain[32];
    memcpy(fork_chain, after1, 32);
    ProtobufCBinaryData fork = s_event(&(s_ev_t){.epoch = e1, .seq = 2, .chain = fork_chain});
    a = s_batch(f->raw, e1, 2, &fork, 1);
    assert_int_equal(a->ack->acked_through, 4);
    s_rejected(a, 2, SANJI__ERROR_CODE__ERROR_FORK, "fork");
    sanji__envelope__free_unpacked(a, NULL);
    /* dates in the future, impossible clocks */
    char later[11];
    time_t t400 = time(NULL) + 400 * 86400;
    strftime(later, sizeof later, "%Y-%m-%d", localtime(&t400));
    s_one(f->raw, e1, (s_ev_t){.epoch = e1, .seq = 5, .chain = chain, .occurred = "2999-12-31"},
          INVALID, "in the future");
    s_one(f->raw, e1, (s_ev_t){.epoch = e1, .seq = 6, .chain = chain, .occurred = later}, INVALID,
          "in the future");
    s_one(f->raw, e1, (s_ev_t){.epoch = e1, .seq = 7, .chain = chain, .created_ms = -1}, INVALID,
          "before 2000-01-01");
    s_one(f->raw, e1,
          (s_ev_t){.epoch = e1, .seq = 8, .chain = chain, .created_ms = 253402300799000LL}, INVALID,
          "clock");
    /* fields of a newer proto: kept, not refused */
    ProtobufCBinaryData newer =
        s_event(&(s_ev_t){.epoch = e1, .seq = 9, .chain = chain, .unknown = 1});
    uint8_t newer_hash[32];
    sj_event_hash(newer.data, newer.len, newer_hash);
    a = s_batch(f->raw, e1, 9, &newer, 1);
    assert_int_equal(a->ack->n_rejected, 0);
    sanji__envelope__free_unpacked(a, NULL);
    /* an epoch other than the link's */
    s_one(f->raw, e1, (s_ev_t){.epoch = other, .seq = 10, .chain = chain}, INVALID,
          "differs from the epoch");
    /* a new epoch whose first event's prev_hash is not zero */
    s_hello(f->raw, e2);
    s_one(f->raw, e2, (s_ev_t){.epoch = e2, .seq = 1, .prev = junk}, INVALID, "32 zero bytes");

    /* The hub: 4 of RAW's events kept, 7 refused (quarantined, each reported
     * to the county), the fork counted in status. */
    assert_int_equal(s_count(hub, "SELECT count(*) FROM events WHERE origin = '" RAW "'"), 4);
    assert_int_equal(s_count(hub, "SELECT count(*) FROM quarantine WHERE code = '" RAW "'"), 7);
    assert_int_equal(s_count(hub, "SELECT count(*) FROM link_forks WHERE code = '" RAW "'"), 1);
    h_result_t r;
    const char *json[] = {"--format", "json", NULL};
    assert_int_equal(h_tool(hub, "status", json, &r), 0);
    assert_non_null(strstr(r.out, "\"forks\":1"));
    h_result_free(&r);

    /* The real station: all 200, once. */
    int code = h_proc_wait(sync, h_ms(130000));
    if (code != 0) {
        h_print_tail(sync->err_path, 20);
    }
    assert_int_equal(code, 0);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM events WHERE origin = '" GOOD "'",
                               GOOD_N, GOOD_N, h_ms(30000)),
                     GOOD_N);
    assert_int_equal(s_count(county, "SELECT count(DISTINCT origin_seq) FROM events"
                                     " WHERE origin = '" GOOD "'"),
                     GOOD_N);
    assert_int_equal(s_count(county, "SELECT count(*) FROM matters WHERE origin = '" GOOD "'"),
                     GOOD_N);
    /* RAW's 4 at the county, the newer one with its exact bytes; the hub's 7
     * notices too. */
    assert_int_equal(
        h_wait_db(county, "SELECT count(*) FROM events WHERE type = 4", 7, 7, h_ms(30000)), 7);
    assert_int_equal(s_count(county, "SELECT count(*) FROM events WHERE origin = '" RAW "'"), 4);
    sqlite3 *db = NULL;
    char path[H_PATH + 32];
    h_db_path(county, path, sizeof path);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(
                         db, "SELECT hash FROM events WHERE origin = '" RAW "' AND origin_seq = 9",
                         -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_memory_equal(sqlite3_column_blob(st, 0), newer_hash, 32);
    sqlite3_finalize(st);
    sqlite3_close(db);
    /* verify: clean, RAW's refused positions shown as quarantined */
    s_verify_clean(county, "quarantined: " RAW);
}

static void
test_protocol_skewed_clock(void **state)
{
    /* Does a station whose clock is 2 days ahead see its reports rejected
     * with a clock message, and, its clock set right, re-enter them so that
     * they count once? */
    s_fix_t *f = *state;
    if (access(FAKETIME_LIB, R_OK) != 0) {
        fail_msg("%s is missing (Debian package libfaketime, scripts/deps.sh)", FAKETIME_LIB);
    }
    h_node_t *county, *hub, *st;
    s_tree(f, &county, &hub, &st, GOOD, 1);
    const char *submit[] = {"submit",    "--channel", "visit",  "--level", "township",
                            "--summary", "钟快两天",  "--wait", "0",       NULL};
    h_result_t r;
    assert_int_equal(h_keys(st), 0); /* keygen before the clock is skewed */
    /* The station's clock, two days ahead: libfaketime (an ASan build of
     * the agent must accept a preloaded library before its runtime). */
    const char *asan = getenv("ASAN_OPTIONS");
    char asan_saved[512], asan_skew[600];
    snprintf(asan_saved, sizeof asan_saved, "%s", asan ? asan : "");
    snprintf(asan_skew, sizeof asan_skew, "%s%sverify_asan_link_order=0", asan_saved,
             asan_saved[0] ? ":" : "");
    setenv("ASAN_OPTIONS", asan_skew, 1);
    setenv("LD_PRELOAD", FAKETIME_LIB, 1);
    setenv("FAKETIME", "+2d", 1);
    setenv("DONT_FAKE_MONOTONIC", "1", 1);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(h_agent(st, submit, &r, h_ms(30000)), 0);
        h_result_free(&r);
    }
    int code = h_sync(st, 30, &r);
    unsetenv("LD_PRELOAD");
    unsetenv("FAKETIME");
    unsetenv("DONT_FAKE_MONOTONIC");
    if (asan) {
        setenv("ASAN_OPTIONS", asan_saved, 1);
    } else {
        unsetenv("ASAN_OPTIONS");
    }
    fprintf(stderr, "# sync with the clock 2 days ahead: %s", r.err);
    assert_int_equal(code, 0);
    assert_non_null(strstr(r.err, "2 rejected"));
    h_result_free(&r);
    const char *outbox[] = {"outbox", "--format", "json", NULL};
    assert_int_equal(h_agent(st, outbox, &r, h_ms(30000)), 0);
    fprintf(stderr, "# outbox: %s", r.out);
    assert_non_null(strstr(r.out, "\"state\":\"rejected\""));
    assert_non_null(strstr(r.out, "clock"));
    h_result_free(&r);
    /* The clock set right: entered again, delivered, counted once. */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(h_agent(st, submit, &r, h_ms(30000)), 0);
        h_result_free(&r);
    }
    const char *sync[] = {"sync", "--timeout", "30", "--until-county", NULL};
    assert_int_equal(h_agent(st, sync, &r, h_ms(60000)), 0);
    h_result_free(&r);
    assert_int_equal(s_count(county, "SELECT count(*) FROM matters WHERE origin = '" GOOD "'"), 2);
    assert_int_equal(
        h_wait_db(county, "SELECT count(*) FROM events WHERE type = 4", 2, 2, h_ms(30000)), 2);
    s_verify_clean(county, "quarantined: " GOOD);
}

static void
test_protocol_wrong_county_key(void **state)
{
    /* Is a report sealed to another key than the county's refused ("sealed
     * to another key", shown in the station's outbox) with nothing stored at
     * the county; and is one without a fingerprint (an older station) that
     * does not open refused at the county? */
    s_fix_t *f = *state;
    h_node_t *county, *hub, *st;
    s_tree(f, &county, &hub, &st, GOOD, 1);
    char wrong[SJ_KEY_Z85], secret[SJ_KEY_Z85];
    assert_int_equal(zmq_curve_keypair(wrong, secret), 0);
    const char *submit[] = {"submit", "--channel", "visit",    "--level",
                            "county", "--summary", "征地补偿", "--petitioner-name",
                            "张三",   "--wait",    "0",        "--county-key",
                            wrong,    NULL};
    h_result_t r;
    assert_int_equal(h_agent(st, submit, &r, h_ms(30000)), 0);
    h_result_free(&r);
    assert_int_equal(h_sync(st, 30, &r), 0);
    assert_non_null(strstr(r.err, "1 rejected"));
    h_result_free(&r);
    const char *outbox[] = {"outbox", "--format", "json", NULL};
    assert_int_equal(h_agent(st, outbox, &r, h_ms(30000)), 0);
    fprintf(stderr, "# outbox: %s", r.out);
    assert_non_null(strstr(r.out, "\"state\":\"rejected\""));
    assert_non_null(strstr(r.out, "sealed to another key"));
    h_result_free(&r);
    const char *plain[] = {"outbox", NULL};
    assert_int_equal(h_agent(st, plain, &r, h_ms(30000)), 0);
    assert_non_null(strstr(r.err, "county key fingerprint"));
    h_result_free(&r);
    /* The county's keygen fingerprint, shown by status, is another one. */
    const char *none[] = {NULL};
    assert_int_equal(h_tool(county, "status", none, &r), 0);
    assert_non_null(strstr(r.out, "county key fingerprint"));
    h_result_free(&r);
    /* nothing of it at the county but the hub's notice */
    assert_int_equal(
        h_wait_db(county, "SELECT count(*) FROM events WHERE type = 4", 1, 1, h_ms(30000)), 1);
    assert_int_equal(s_count(county, "SELECT count(*) FROM events WHERE origin = '" GOOD "'"), 0);
    assert_int_equal(s_count(county, "SELECT count(*) FROM matters"), 0);

    /* A station linked to the county directly, of an older kind: personal
     * data without a fingerprint, sealed to another key. */
    h_node_t *desk = h_station(f->env, T100 "210", county);
    f->raw = h_raw_dealer(f->zctx, desk);
    assert_non_null(f->raw);
    uint8_t epoch[16], pk[32], sealed[200];
    sj_random16(epoch);
    assert_int_equal(sj_key_decode(wrong, pk), SJ_OK);
    sj_personal_t p = {.name = "李四"};
    size_t sealed_len = 0;
    assert_int_equal(sj_personal_seal(&p, pk, sealed, sizeof sealed, &sealed_len), SJ_OK);
    sj_event_t *ev = calloc(1, sizeof *ev);
    sj_uuid7_new(ev->id);
    snprintf(ev->origin, sizeof ev->origin, T100 "210");
    memcpy(ev->epoch, epoch, 16);
    ev->origin_seq = 1;
    ev->created_ms = (int64_t) time(NULL) * 1000;
    ev->type = SJ_EVENT_REPORT;
    snprintf(ev->report.occurred_on, sizeof ev->report.occurred_on, "2024-05-02");
    ev->report.channel = ev->report.kind = ev->report.level = 1;
    ev->report.category = ev->report.outcome = ev->report.source = 1;
    ev->report.persons = 1;
    snprintf(ev->summary, sizeof ev->summary, "县接待台 county desk");
    ev->report.summary = ev->summary;
    ev->report.officer = ev->officer;
    memcpy(ev->sealed, sealed, sealed_len);
    ev->sealed_len = sealed_len;
    ProtobufCBinaryData raw;
    assert_int_equal(sj_event_encode(ev, &raw.data, &raw.len), SJ_OK);
    free(ev);
    Sanji__Hello h = SANJI__HELLO__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    h.epoch.data = epoch;
    h.epoch.len = 16;
    h.code = sj_wire_bytes(T100 "210");
    env.version = SJ_PROTO_VERSION;
    env.body_case = SANJI__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    assert_int_equal(h_raw_send_env(f->raw, &env), 0);
    Sanji__Envelope *w = h_raw_recv_env(f->raw, h_ms(REPLY_MS));
    assert_non_null(w);
    assert_int_equal(w->body_case, SANJI__ENVELOPE__BODY_WELCOME);
    sanji__envelope__free_unpacked(w, NULL);
    Sanji__Envelope *a = s_batch(f->raw, epoch, 1, &raw, 1);
    s_rejected(a, 1, SANJI__ERROR_CODE__ERROR_INVALID_EVENT, "does not open with the county's key");
    sanji__envelope__free_unpacked(a, NULL);
    assert_int_equal(s_count(county, "SELECT count(*) FROM matters"), 0);
    s_verify_clean(county, NULL);
}

static void
test_protocol_hub_before_enrolment(void **state)
{
    /* Does a hub started before the county enrolled its key deliver within
     * a minute of `allow` + SIGHUP, without a restart? */
    s_fix_t *f = *state;
    h_node_t *county, *hub, *st;
    s_tree(f, &county, &hub, &st, GOOD, 0);
    assert_int_equal(h_keys(hub), 0);
    /* Not enrolled (yet): the county's allowlist loses the hub's key. */
    const char *revoke[] = {T100, NULL};
    h_result_t r;
    assert_int_equal(h_tool(county, "revoke", revoke, &r), 0);
    h_result_free(&r);
    assert_int_equal(h_reload(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    s_wait_log(hub->proc, "refused this node's key", 20000);
    assert_int_equal(h_import(st, 20, 77), 0);
    assert_int_equal(h_sync(st, 30, &r), 0);
    h_result_free(&r);
    assert_int_equal(s_count(county, "SELECT count(*) FROM events"), 0);
    /* The office enrols it and reloads: within a minute, no restart. */
    const char *allow[] = {"--", T100, hub->pk, NULL};
    assert_int_equal(h_tool(county, "allow", allow, &r), 0);
    h_result_free(&r);
    int64_t t0 = h_now_ms();
    assert_int_equal(h_reload(county), 0);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM events", 20, 20, h_ms(60000)), 20);
    fprintf(stderr, "# delivered %lld ms after allow + SIGHUP\n", (long long) (h_now_ms() - t0));
    assert_int_equal(hub->launches, 1);
    assert_true(h_proc_running(hub->proc));
    s_wait_log(hub->proc, "answers again", 5000);
}

static void
test_protocol_revoked_gets_nothing(void **state)
{
    /* Does a revoked station's open connection receive no assignment made
     * after the revoke (while a station still enrolled gets its own)? */
    s_fix_t *f = *state;
    h_node_t *county = h_county(f->env);
    h_node_t *hub = h_hub(f->env, T100, county);
    h_node_t *gone = h_station(f->env, T100 "201", hub);
    h_node_t *kept = h_station(f->env, T100 "202", hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    char ids[2][40];
    h_node_t *sts[2] = {gone, kept};
    const char *run[] = {"run", NULL};
    h_proc_t *runs[2];
    for (int i = 0; i < 2; i++) {
        const char *submit[] = {"submit",    "--channel", "visit",  "--level", "township",
                                "--summary", "宅基地",    "--wait", "0",       NULL};
        h_result_t r;
        assert_int_equal(h_agent(sts[i], submit, &r, h_ms(30000)), 0);
        snprintf(ids[i], sizeof ids[i], "%.36s", r.out);
        h_result_free(&r);
        runs[i] = h_agent_spawn(sts[i], run);
        assert_non_null(runs[i]);
    }
    assert_int_equal(h_wait_db(hub, "SELECT count(*) FROM events", 2, 2, h_ms(30000)), 2);
    /* both connected (a link row each) */
    assert_int_equal(h_wait_db(hub, "SELECT count(DISTINCT code) FROM links", 2, 2, h_ms(30000)),
                     2);
    const char *revoke[] = {gone->code, NULL};
    h_result_t r;
    assert_int_equal(h_tool(hub, "revoke", revoke, &r), 0);
    h_result_free(&r);
    assert_int_equal(h_reload(hub), 0);
    s_wait_log(hub->proc, "gets nothing more", 5000);
    for (int i = 0; i < 2; i++) {
        const char *assign[] = {ids[i], "--to", sts[i]->code, "--due", "2099-06-30", NULL};
        assert_int_equal(h_tool(hub, "assign", assign, &r), 0);
        h_result_free(&r);
    }
    /* The enrolled one gets its assignment pushed; by then the revoked one's
     * would have come too. */
    assert_int_equal(h_wait_db(kept, "SELECT count(*) FROM inbox", 1, 1, h_ms(30000)), 1);
    h_sleep_ms(500);
    assert_int_equal(h_db_scalar(gone, "SELECT count(*) FROM inbox"), 0);
    assert_int_equal(h_proc_kill(runs[0], SIGTERM), 0);
    assert_int_equal(h_proc_kill(runs[1], SIGTERM), 0);
    assert_int_equal(h_db_scalar(gone, "SELECT count(*) FROM inbox"), 0);
}

/* Packs a newer envelope (caller frees) and sends it. */
static void
s_send_next(void *sock, SanjiNext__Envelope *env)
{
    size_t len = sanji_next__envelope__get_packed_size(env);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    sanji_next__envelope__pack(env, buf);
    int rc = h_raw_send(sock, buf, len);
    free(buf);
    assert_int_equal(rc, 0);
}

static ProtobufCBinaryData
s_next_bytes(const char *s)
{
    ProtobufCBinaryData b = {.len = strlen(s), .data = (uint8_t *) s};
    return b;
}

static void
test_protocol_newer_proto(void **state)
{
    /* Does a station built from a newer proto (fields and a message type
     * today's nodes do not know) deliver through today's hub to today's
     * county, its events' bytes kept exactly, and is its new message type
     * refused naming both versions without ending the link? */
    s_fix_t *f = *state;
    h_node_t *county = h_county(f->env);
    h_node_t *hub = h_hub(f->env, T100, county);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    f->raw = h_raw_dealer(f->zctx, h_station(f->env, RAW, hub));
    assert_non_null(f->raw);
    uint8_t epoch[16];
    sj_random16(epoch);

    SanjiNext__Envelope env = SANJI_NEXT__ENVELOPE__INIT;
    SanjiNext__Hello h = SANJI_NEXT__HELLO__INIT;
    h.epoch.data = epoch;
    h.epoch.len = 16;
    h.code = s_next_bytes(RAW);
    h.sw_version = s_next_bytes("sanji 9.0");
    h.locale = s_next_bytes("zh_CN");
    env.version = SJ_PROTO_VERSION;
    env.trace_id = 77;
    env.body_case = SANJI_NEXT__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    s_send_next(f->raw, &env);
    Sanji__Envelope *r = h_raw_recv_env(f->raw, h_ms(REPLY_MS));
    assert_non_null(r);
    assert_int_equal(r->body_case, SANJI__ENVELOPE__BODY_WELCOME);
    sanji__envelope__free_unpacked(r, NULL);

    /* its new message type: refused, naming both versions */
    SanjiNext__Ping ping = SANJI_NEXT__PING__INIT;
    ping.at_ms = 1;
    env.body_case = SANJI_NEXT__ENVELOPE__BODY_PING;
    env.ping = &ping;
    s_send_next(f->raw, &env);
    r = h_raw_recv_env(f->raw, h_ms(REPLY_MS));
    assert_non_null(r);
    assert_int_equal(r->body_case, SANJI__ENVELOPE__BODY_ERROR);
    assert_int_equal(r->error->code, SANJI__ERROR_CODE__ERROR_UNKNOWN_MESSAGE);
    char why[300];
    snprintf(why, sizeof why, "%.*s", (int) r->error->reason.len,
             (const char *) r->error->reason.data);
    fprintf(stderr, "# a newer message type: %s\n", why);
    assert_non_null(strstr(why, "field 101"));
    assert_non_null(strstr(why, "speaks protocol version 1; the sender speaks version 1"));
    sanji__envelope__free_unpacked(r, NULL);

    /* three reports with newer fields, chained */
    uint8_t chain[32] = {0}, hashes[3][32];
    ProtobufCBinaryData evs[3];
    for (int i = 0; i < 3; i++) {
        SanjiNext__Event ev = SANJI_NEXT__EVENT__INIT;
        SanjiNext__Report rep = SANJI_NEXT__REPORT__INIT;
        uint8_t id[16];
        sj_uuid7_new(id);
        ev.id.data = id;
        ev.id.len = 16;
        ev.origin = s_next_bytes(RAW);
        ev.epoch.data = epoch;
        ev.epoch.len = 16;
        ev.origin_seq = (uint64_t) i + 1;
        ev.prev_hash.data = chain;
        ev.prev_hash.len = 32;
        ev.created_ms = (int64_t) time(NULL) * 1000;
        ev.attachment_hash = s_next_bytes("0123456789abcdef");
        rep.occurred_on = s_next_bytes("2024-06-01");
        rep.channel = 1;
        rep.kind = 1;
        rep.persons = 1;
        rep.level = 2;
        rep.category = 1;
        rep.outcome = 1;
        rep.source = 1;
        rep.summary = s_next_bytes("新版站点的报告 from a newer station");
        rep.village_group = s_next_bytes("第三村民小组");
        ev.body_case = SANJI_NEXT__EVENT__BODY_REPORT;
        ev.report = &rep;
        evs[i].len = sanji_next__event__get_packed_size(&ev);
        evs[i].data = malloc(evs[i].len);
        assert_non_null(evs[i].data);
        sanji_next__event__pack(&ev, evs[i].data);
        sj_event_hash(evs[i].data, evs[i].len, chain);
        memcpy(hashes[i], chain, 32);
    }
    SanjiNext__Batch b = SANJI_NEXT__BATCH__INIT;
    b.epoch.data = epoch;
    b.epoch.len = 16;
    b.first_seq = 1;
    b.n_events = 3;
    b.events = evs;
    b.compression = 0;
    env.body_case = SANJI_NEXT__ENVELOPE__BODY_BATCH;
    env.batch = &b;
    s_send_next(f->raw, &env);
    for (int i = 0; i < 3; i++) {
        free(evs[i].data);
    }
    r = h_raw_recv_env(f->raw, h_ms(REPLY_MS));
    assert_non_null(r);
    assert_int_equal(r->body_case, SANJI__ENVELOPE__BODY_ACK);
    assert_int_equal(r->ack->acked_through, 3);
    assert_int_equal(r->ack->n_rejected, 0);
    sanji__envelope__free_unpacked(r, NULL);

    /* at the county: the same bytes, counted as reports */
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM events WHERE origin = '" RAW "'", 3, 3,
                               h_ms(30000)),
                     3);
    assert_int_equal(s_count(county, "SELECT count(*) FROM matters WHERE origin = '" RAW "'"), 3);
    sqlite3 *db = NULL;
    char path[H_PATH + 32];
    h_db_path(county, path, sizeof path);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(
                         db, "SELECT hash FROM events WHERE origin = '" RAW "' ORDER BY origin_seq",
                         -1, &st, NULL),
                     SQLITE_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_memory_equal(sqlite3_column_blob(st, 0), hashes[i], 32);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    s_verify_clean(county, NULL);
}

int
main(void)
{
    if (sj_ids_init() != SJ_OK) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_protocol_violations, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_protocol_skewed_clock, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_protocol_wrong_county_key, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_protocol_hub_before_enrolment, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_protocol_revoked_gets_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_protocol_newer_proto, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
