/* Does hostile or broken input (garbage frames, oversized frames, unknown
 * enums, a foreign protocol version, a bad import file) get a clear error,
 * change nothing stored, and leave the daemon serving the other stations; and
 * is a poison event quarantined without blocking its stream? */
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
#include <zmq.h>

#include "harness.h"
#include "sj_ids.h"
#include "sj_wire.h"

#define T100     "230523100"
#define GOOD     T100 "201" /* a well-behaved station */
#define RAW      T100 "209" /* the code the raw client claims */
#define REPLY_MS 5000

typedef struct {
    h_env_t *env;
    h_node_t *county;
    h_node_t *hub;
    h_node_t *good;
    int good_sent; /* reports the good station has delivered so far */
    void *zctx;
    void *raw; /* DEALER to the hub */
} s_fix_t;

static int
s_setup(void **state)
{
    s_fix_t *f = calloc(1, sizeof *f);
    if (!f) {
        return -1;
    }
    f->env = h_env_new("badinput");
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
    if (f->zctx) {
        zmq_ctx_term(f->zctx);
    }
    int rc = h_env_destroy(&f->env);
    free(f);
    return rc;
}

/* The good station imports n reports and syncs; the county must then hold
 * all it ever sent, exactly once, in one complete stream. */
static void
s_good_delivers(s_fix_t *f, int n)
{
    assert_int_equal(h_import(f->good, (size_t) n, 7000u + (uint32_t) f->good_sent), 0);
    f->good_sent += n;
    h_result_t r;
    int code = h_sync(f->good, 30, &r);
    if (code != 0) {
        fail_msg("good station's sync exited %d: %s", code, r.err);
    }
    h_result_free(&r);
    const char *sql = "SELECT count(*) FROM events WHERE origin = '" GOOD "'";
    assert_int_equal(h_wait_db(f->county, sql, f->good_sent, f->good_sent, h_ms(30000)),
                     f->good_sent);
    h_stream_t s[16];
    int ns = h_streams(f->county, s, 16), found = 0;
    for (int i = 0; i < ns; i++) {
        if (strcmp(s[i].origin, GOOD) == 0) {
            found++;
            assert_int_equal(s[i].min_seq, 1);
            assert_int_equal(s[i].max_seq, f->good_sent);
            assert_int_equal(s[i].distinct_seq, f->good_sent);
        }
    }
    assert_int_equal(found, 1);
    assert_int_equal(h_db_scalar(f->county, "SELECT count(DISTINCT id) FROM events"),
                     h_db_scalar(f->county, "SELECT count(*) FROM events"));
}

/* County, hub 230523100, a good station that has delivered 5 reports, and a
 * raw DEALER connected to the hub. */
static void
s_fixture(s_fix_t *f)
{
    f->county = h_county(f->env);
    f->hub = h_hub(f->env, T100, f->county);
    f->good = h_station(f->env, GOOD, f->hub);
    assert_int_equal(h_start_county(f->county), 0);
    assert_int_equal(h_start_hub(f->hub), 0);
    s_good_delivers(f, 5);
    f->raw = h_raw_dealer(f->zctx, h_station(f->env, RAW, f->hub));
    assert_non_null(f->raw);
}

/* The stations' events at the hub (not its own: a refused event adds a
 * quarantine notice to the hub's own stream, for the county). */
static long long
s_hub_events(s_fix_t *f)
{
    return h_db_scalar(f->hub, "SELECT count(*) FROM events WHERE origin != '" T100 "'");
}

/* The hub's quarantine notices (events of its own stream). */
static long long
s_hub_notices(s_fix_t *f)
{
    return h_db_scalar(f->hub, "SELECT count(*) FROM events WHERE origin = '" T100 "'");
}

/* Expects an Error envelope with code and a reason containing `about`. */
static void
s_expect_error(s_fix_t *f, int code, const char *about)
{
    Sanji__Envelope *env = h_raw_recv_env(f->raw, h_ms(REPLY_MS));
    if (!env) {
        fail_msg("no reply from the hub within %d ms", h_ms(REPLY_MS));
        return;
    }
    if (env->body_case != SANJI__ENVELOPE__BODY_ERROR) {
        int got = env->body_case;
        sanji__envelope__free_unpacked(env, NULL);
        fail_msg("expected an Error reply, got body %d", got);
    }
    char reason[300];
    snprintf(reason, sizeof reason, "%.*s", (int) env->error->reason.len,
             (const char *) env->error->reason.data);
    int got = env->error->code;
    sanji__envelope__free_unpacked(env, NULL);
    fprintf(stderr, "# hub replied error %d: %s\n", got, reason);
    assert_int_equal(got, code);
    if (!strstr(reason, about)) {
        fail_msg("reason '%s' does not mention '%s'", reason, about);
    }
}

static void
s_send_hello(s_fix_t *f, uint32_t version, const uint8_t epoch[16], uint64_t last_seq)
{
    Sanji__Hello h = SANJI__HELLO__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    h.epoch.data = (uint8_t *) epoch;
    h.epoch.len = 16;
    h.code.data = (uint8_t *) RAW;
    h.code.len = strlen(RAW);
    h.last_seq = last_seq;
    h.sw_version.data = (uint8_t *) "raw-test";
    h.sw_version.len = strlen("raw-test");
    env.version = version;
    env.body_case = SANJI__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    assert_int_equal(h_raw_send_env(f->raw, &env), 0);
}

/* Hello as RAW with a new epoch; expects a Welcome that holds nothing yet. */
static void
s_hello_welcome(s_fix_t *f, uint8_t epoch[16], uint64_t last_seq)
{
    sj_random16(epoch);
    s_send_hello(f, SJ_PROTO_VERSION, epoch, last_seq);
    Sanji__Envelope *env = h_raw_recv_env(f->raw, h_ms(REPLY_MS));
    assert_non_null(env);
    assert_int_equal(env->body_case, SANJI__ENVELOPE__BODY_WELCOME);
    assert_int_equal(env->welcome->acked_through, 0);
    sanji__envelope__free_unpacked(env, NULL);
}

/* Sends a Batch of n packed events with seqs 1..n. */
static void
s_send_batch(s_fix_t *f, const uint8_t epoch[16], ProtobufCBinaryData *events, size_t n)
{
    Sanji__Batch b = SANJI__BATCH__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    b.epoch.data = (uint8_t *) epoch;
    b.epoch.len = 16;
    b.first_seq = 1;
    b.n_events = n;
    b.events = events;
    env.version = SJ_PROTO_VERSION;
    env.body_case = SANJI__ENVELOPE__BODY_BATCH;
    env.batch = &b;
    assert_int_equal(h_raw_send_env(f->raw, &env), 0);
}

/* Events 1..n of RAW's stream (chained) where event `bad` (1-based, 0:
 * none) has channel 9. Caller frees each ev[i].data. */
static void
s_poison_events(const uint8_t epoch[16], size_t n, size_t bad, ProtobufCBinaryData *ev)
{
    uint8_t chain[32] = {0}; /* the poison event is a link of the chain like any other */
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        int channel = i + 1 == bad ? 9 : SANJI__CHANNEL__CHANNEL_VISIT;
        assert_int_equal(h_event_pack(RAW, epoch, i + 1, channel, chain, &ev[i].data, &ev[i].len),
                         0);
    }
}

/* Sends events 1..n and returns the Ack (caller frees). */
static Sanji__Envelope *
s_batch_acked(s_fix_t *f, const uint8_t epoch[16], ProtobufCBinaryData *ev, size_t n)
{
    s_send_batch(f, epoch, ev, n);
    Sanji__Envelope *env = h_raw_recv_env(f->raw, h_ms(REPLY_MS));
    assert_non_null(env);
    assert_int_equal(env->body_case, SANJI__ENVELOPE__BODY_ACK);
    return env;
}

/* Batch of events 1..n from RAW where event `bad` (1-based, 0: none) has
 * channel 9; returns the Ack (caller frees). */
static Sanji__Envelope *
s_batch_with_poison(s_fix_t *f, const uint8_t epoch[16], size_t n, size_t bad)
{
    ProtobufCBinaryData ev[8];
    s_poison_events(epoch, n, bad, ev);
    Sanji__Envelope *env = s_batch_acked(f, epoch, ev, n);
    for (size_t i = 0; i < n; i++) {
        free(ev[i].data);
    }
    return env;
}

static void
test_badinput_malformed_frame(void **state)
{
    /* Does a frame of random bytes get an ERROR_MALFORMED reply and change nothing? */
    s_fix_t *f = *state;
    s_fixture(f);
    long long before = s_hub_events(f);
    uint8_t junk[200];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (uint8_t) (x >> 16);
    }
    junk[0] = 0x0f; /* field 1, wire type 7: no protobuf parser accepts it */
    assert_int_equal(h_raw_send(f->raw, junk, sizeof junk), 0);
    s_expect_error(f, SANJI__ERROR_CODE__ERROR_MALFORMED, "not a valid protobuf");
    /* A batch without a hello on this connection is refused too. */
    uint8_t epoch[16];
    sj_random16(epoch);
    ProtobufCBinaryData ev;
    assert_int_equal(
        h_event_pack(RAW, epoch, 1, SANJI__CHANNEL__CHANNEL_VISIT, NULL, &ev.data, &ev.len), 0);
    s_send_batch(f, epoch, &ev, 1);
    free(ev.data);
    s_expect_error(f, SANJI__ERROR_CODE__ERROR_NO_HELLO, "before hello");
    assert_int_equal(s_hub_events(f), before);
    assert_int_equal(h_db_scalar(f->hub, "SELECT count(*) FROM quarantine"), 0);
    s_good_delivers(f, 5);
}

/* Waits for a DISCONNECTED event on the monitor socket mon. */
static int
s_wait_disconnected(void *mon, int timeout_ms)
{
    int64_t deadline = h_now_ms() + timeout_ms;
    while (h_now_ms() < deadline) {
        zmq_pollitem_t item = {.socket = mon, .events = ZMQ_POLLIN};
        if (zmq_poll(&item, 1, 50) <= 0) {
            continue;
        }
        zmq_msg_t m;
        zmq_msg_init(&m);
        uint16_t event = 0;
        if (zmq_msg_recv(&m, mon, 0) >= 6) {
            memcpy(&event, zmq_msg_data(&m), sizeof event);
        }
        zmq_msg_close(&m);
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, mon, 0) < 0) { /* the endpoint frame */
            zmq_msg_close(&m);
            continue;
        }
        zmq_msg_close(&m);
        if (event == ZMQ_EVENT_DISCONNECTED) {
            return 0;
        }
    }
    return -1;
}

static void
test_badinput_oversized_frame(void **state)
{
    /* Is an oversized frame refused (error, or connection dropped) with nothing stored? */
    s_fix_t *f = *state;
    s_fixture(f);
    long long before = s_hub_events(f);
    /* Just over SJ_WIRE_MAX_FRAME but under the socket's cap: the decoder says why. */
    size_t len = SJ_WIRE_MAX_FRAME + 100;
    uint8_t *big = calloc(1, SJ_WIRE_MAX_FRAME + 64 * 1024);
    assert_non_null(big);
    assert_int_equal(h_raw_send(f->raw, big, len), 0);
    s_expect_error(f, SANJI__ERROR_CODE__ERROR_TOO_LARGE, "larger than 1 MiB");
    /* Over ZMQ_MAXMSGSIZE (1 MiB + 33 + 1024): libzmq drops the connection. */
    assert_int_equal(zmq_socket_monitor(f->raw, "inproc://raw-monitor", ZMQ_EVENT_DISCONNECTED), 0);
    void *mon = zmq_socket(f->zctx, ZMQ_PAIR);
    assert_non_null(mon);
    assert_int_equal(zmq_connect(mon, "inproc://raw-monitor"), 0);
    int rc = h_raw_send(f->raw, big, SJ_WIRE_MAX_FRAME + 64 * 1024);
    free(big);
    assert_int_equal(rc, 0);
    rc = s_wait_disconnected(mon, h_ms(REPLY_MS));
    zmq_socket_monitor(f->raw, NULL, 0);
    zmq_close(mon);
    if (rc != 0) {
        fail_msg("the hub did not drop the connection of an oversized frame");
    }
    assert_null(h_raw_recv_env(f->raw, 200)); /* no reply: the frame never arrived */
    assert_int_equal(s_hub_events(f), before);
    assert_true(h_proc_running(f->hub->proc));
    s_good_delivers(f, 5);
}

static void
test_badinput_unknown_enum(void **state)
{
    /* Is an event with channel 9 (unknown enum) rejected with a reason, nothing stored? */
    s_fix_t *f = *state;
    s_fixture(f);
    long long before = s_hub_events(f);
    uint8_t epoch[16];
    s_hello_welcome(f, epoch, 1);
    Sanji__Envelope *ack = s_batch_with_poison(f, epoch, 1, 1);
    assert_int_equal(ack->ack->acked_through, 1);
    assert_int_equal(ack->ack->n_rejected, 1);
    assert_int_equal(ack->ack->rejected[0]->seq, 1);
    assert_int_equal(ack->ack->rejected[0]->code, SANJI__ERROR_CODE__ERROR_INVALID_EVENT);
    char reason[300];
    snprintf(reason, sizeof reason, "%.*s", (int) ack->ack->rejected[0]->reason.len,
             (const char *) ack->ack->rejected[0]->reason.data);
    sanji__envelope__free_unpacked(ack, NULL);
    fprintf(stderr, "# rejected: %s\n", reason);
    if (!strstr(reason, "channel")) {
        fail_msg("rejection reason '%s' does not name the field", reason);
    }
    assert_int_equal(s_hub_events(f), before);
    assert_int_equal(h_db_scalar(f->hub, "SELECT count(*) FROM quarantine"), 1);
    assert_int_equal(s_hub_notices(f), 1); /* the county hears of it */
    s_good_delivers(f, 5);
    assert_int_equal(h_db_scalar(f->county, "SELECT count(*) FROM events WHERE origin = '" RAW "'"),
                     0);
}

static void
test_badinput_wrong_version(void **state)
{
    /* Does an envelope of protocol version 99 get ERROR_BAD_VERSION and change nothing? */
    s_fix_t *f = *state;
    s_fixture(f);
    long long before = s_hub_events(f);
    long long links = h_db_scalar(f->hub, "SELECT count(*) FROM links");
    uint8_t epoch[16];
    sj_random16(epoch);
    s_send_hello(f, 99, epoch, 0);
    s_expect_error(f, SANJI__ERROR_CODE__ERROR_BAD_VERSION, "version 99");
    assert_int_equal(s_hub_events(f), before);
    assert_int_equal(h_db_scalar(f->hub, "SELECT count(*) FROM links"), links);
    s_good_delivers(f, 5);
}

static void
test_badinput_import_bad_line(void **state)
{
    /* Does a bad import file exit 1, name each bad line, and leave the outbox as it was? */
    s_fix_t *f = *state;
    s_fixture(f);
    char path[H_PATH + 32];
    snprintf(path, sizeof path, "%s/bad.jsonl", h_env_dir(f->env));
    assert_int_equal(h_write_jsonl(path, 10, 99, "bad"), 0);
    /* Replace line 3 with a bad enum and line 7 with broken JSON. */
    char *text = h_read_file(path);
    assert_non_null(text);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    int line = 1;
    for (char *s = text, *nl; *s; s = nl + 1, line++) {
        nl = strchr(s, '\n');
        assert_non_null(nl);
        if (line == 3) {
            fputs("{\"channel\":\"telegram\",\"level\":\"county\",\"summary\":\"x\"}\n", out);
        } else if (line == 7) {
            fputs("{\"channel\":\"visit\",\"level\":\"county\",\"summary\":\n", out);
        } else {
            fwrite(s, 1, (size_t) (nl - s + 1), out);
        }
    }
    fclose(out);
    free(text);
    long long outbox = h_db_scalar(f->good, "SELECT count(*) FROM outbox");
    long long last = h_db_scalar(f->good, "SELECT value FROM meta WHERE key = 'last_seq'");
    assert_int_equal(outbox, f->good_sent);
    h_result_t r;
    const char *args[] = {"import", "--wait", "0", path, NULL};
    assert_int_equal(h_agent(f->good, args, &r, h_ms(30000)), 1);
    fprintf(stderr, "# import said: %s", r.err);
    if (!strstr(r.err, "bad.jsonl:3:") || !strstr(r.err, "bad.jsonl:7:")
        || !strstr(r.err, "telegram") || !strstr(r.err, "nothing was imported")) {
        fail_msg("import stderr does not name lines 3 and 7: %s", r.err);
    }
    assert_string_equal(r.out, "");
    h_result_free(&r);
    assert_int_equal(h_db_scalar(f->good, "SELECT count(*) FROM outbox"), outbox);
    assert_int_equal(h_db_scalar(f->good, "SELECT value FROM meta WHERE key = 'last_seq'"), last);
    s_good_delivers(f, 5);
}

static void
test_badinput_quarantine(void **state)
{
    /* Is a poison event quarantined and acked as rejected while its neighbours go on? */
    s_fix_t *f = *state;
    s_fixture(f);
    long long before = s_hub_events(f);
    uint8_t epoch[16];
    s_hello_welcome(f, epoch, 3);
    ProtobufCBinaryData ev[3];
    s_poison_events(epoch, 3, 2, ev);
    Sanji__Envelope *ack = s_batch_acked(f, epoch, ev, 3);
    assert_int_equal(ack->ack->acked_through, 3);
    assert_int_equal(ack->ack->n_rejected, 1);
    assert_int_equal(ack->ack->rejected[0]->seq, 2);
    assert_int_equal(ack->ack->rejected[0]->code, SANJI__ERROR_CODE__ERROR_INVALID_EVENT);
    assert_true(ack->ack->rejected[0]->reason.len > 0);
    assert_memory_equal(ack->ack->epoch.data, epoch, 16);
    sanji__envelope__free_unpacked(ack, NULL);
    assert_int_equal(h_db_scalar(f->hub, "SELECT count(*) FROM quarantine WHERE code = '" RAW
                                         "' AND link_seq = 2 AND err_code = 6"),
                     1);
    assert_int_equal(s_hub_events(f), before + 2);
    assert_int_equal(s_hub_notices(f), 1);
    /* The same batch again (a lost ack): a duplicate, acked again with the same rejection. */
    ack = s_batch_acked(f, epoch, ev, 3);
    for (size_t i = 0; i < 3; i++) {
        free(ev[i].data);
    }
    assert_int_equal(ack->ack->acked_through, 3);
    assert_int_equal(ack->ack->n_rejected, 1);
    assert_int_equal(ack->ack->rejected[0]->seq, 2);
    sanji__envelope__free_unpacked(ack, NULL);
    assert_int_equal(s_hub_events(f), before + 2);
    assert_int_equal(h_db_scalar(f->hub, "SELECT count(*) FROM quarantine"), 1);
    /* The two good neighbours reach the county. */
    const char *sql = "SELECT count(*) FROM events WHERE origin = '" RAW "'";
    assert_int_equal(h_wait_db(f->county, sql, 2, 2, h_ms(30000)), 2);
    assert_int_equal(h_db_scalar(f->county, "SELECT min(origin_seq) * 10 + max(origin_seq) FROM"
                                            " events WHERE origin = '" RAW "'"),
                     13);
    assert_int_equal(
        h_db_scalar(f->county, "SELECT count(*) FROM matters WHERE origin = '" RAW "'"), 2);
    s_good_delivers(f, 5);
}

static void
test_badinput_foreign_origin(void **state)
{
    /* Is a batch with another station's event refused whole, and does the hub go on? */
    s_fix_t *f = *state;
    s_fixture(f);
    long long before = s_hub_events(f);
    uint8_t epoch[16];
    s_hello_welcome(f, epoch, 2);
    /* Event 1 is RAW's own and valid; event 2 claims to come from GOOD. */
    ProtobufCBinaryData ev[2];
    uint8_t chain[32] = {0};
    assert_int_equal(
        h_event_pack(RAW, epoch, 1, SANJI__CHANNEL__CHANNEL_VISIT, chain, &ev[0].data, &ev[0].len),
        0);
    assert_int_equal(
        h_event_pack(GOOD, epoch, 2, SANJI__CHANNEL__CHANNEL_VISIT, chain, &ev[1].data, &ev[1].len),
        0);
    s_send_batch(f, epoch, ev, 2);
    free(ev[0].data);
    free(ev[1].data);
    s_expect_error(f, SANJI__ERROR_CODE__ERROR_FORBIDDEN, "of origin " GOOD);
    assert_int_equal(s_hub_events(f), before);
    assert_int_equal(h_db_scalar(f->hub, "SELECT count(*) FROM quarantine"), 0);
    assert_int_equal(h_db_scalar(f->hub, "SELECT acked_through FROM links WHERE code = '" RAW "'"),
                     0);
    /* The hub still accepts and forwards the good station's reports. */
    s_good_delivers(f, 5);
}

/* Rewrites outbox row `seq` of a station: the event gets origin_seq `claim`,
 * and channel `channel` unless that is 0. */
static void
s_tamper(const h_node_t *station, int seq, uint64_t claim, int channel)
{
    char path[H_PATH + 32];
    h_db_path(station, path, sizeof path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT raw FROM outbox WHERE seq = ?", -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int(st, 1, seq);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    Sanji__Event *ev = sanji__event__unpack(NULL, (size_t) sqlite3_column_bytes(st, 0),
                                            sqlite3_column_blob(st, 0));
    sqlite3_finalize(st);
    assert_non_null(ev);
    ev->origin_seq = claim;
    if (channel) {
        ev->report->channel = (Sanji__Channel) channel;
    }
    size_t len = sanji__event__get_packed_size(ev);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    sanji__event__pack(ev, buf);
    sanji__event__free_unpacked(ev, NULL);
    assert_int_equal(
        sqlite3_prepare_v2(db, "UPDATE outbox SET raw = ? WHERE seq = ?", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_blob(st, 1, buf, (int) len, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, seq);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    free(buf);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void
test_badinput_agent_shows_rejected(void **state)
{
    /* Does a station show a report its hub quarantined as "rejected" with the hub's reason? */
    s_fix_t *f = *state;
    s_fixture(f);
    /* The agent validates everything it records, so an event the hub refuses
     * is made here by editing a queued row: report 3 claims origin_seq 99,
     * which the hub's check (origin_seq = link seq) refuses. (The last one:
     * an edited row 2 would break the hash chain at 3 too.) */
    h_node_t *st = h_station(f->env, T100 "202", f->hub);
    assert_int_equal(h_import(st, 3, 8000), 0);
    s_tamper(st, 3, 99, 0);
    h_result_t r;
    assert_int_equal(h_sync(st, 30, &r), 0);
    if (!strstr(r.err, "1 rejected")) {
        fail_msg("sync does not mention the rejection: %s", r.err);
    }
    h_result_free(&r);
    const char *outbox[] = {"outbox", "--format", "json", NULL};
    assert_int_equal(h_agent(st, outbox, &r, h_ms(30000)), 0);
    fprintf(stderr, "# outbox: %s", r.out);
    if (!strstr(r.out, "\"seq\":3,") || !strstr(r.out, "\"state\":\"rejected\"")
        || !strstr(r.out, "does not match link seq 3")) {
        fail_msg("outbox does not show report 3 as rejected with the reason: %s", r.out);
    }
    h_result_free(&r);
    assert_int_equal(h_db_scalar(f->hub, "SELECT count(*) FROM quarantine WHERE code = '" T100
                                         "202' AND link_seq = 3"),
                     1);
    assert_int_equal(h_wait_db(f->county,
                               "SELECT count(*) FROM events WHERE origin = '" T100 "202'", 2, 2,
                               h_ms(30000)),
                     2);
    s_good_delivers(f, 5);
}

static void
test_badinput_agent_shows_unreadable_rejected(void **state)
{
    /* Does the outbox list a rejected report that the station itself cannot decode? */
    s_fix_t *f = *state;
    s_fixture(f);
    /* Report 3 gets channel 9: the hub quarantines it, and the station's own
     * decoder refuses it too (a damaged outbox row, or a version skew). */
    h_node_t *st = h_station(f->env, T100 "202", f->hub);
    assert_int_equal(h_import(st, 3, 8000), 0);
    s_tamper(st, 3, 3, 9);
    h_result_t r;
    assert_int_equal(h_sync(st, 30, &r), 0);
    assert_non_null(strstr(r.err, "1 rejected"));
    h_result_free(&r);
    const char *outbox[] = {"outbox", "--format", "json", NULL};
    assert_int_equal(h_agent(st, outbox, &r, h_ms(30000)), 0);
    fprintf(stderr, "# outbox: %s", r.out);
    if (!strstr(r.out, "\"seq\":3,") || !strstr(r.out, "\"state\":\"rejected\"")
        || !strstr(r.out, "\"summary\":\"(unreadable: ") || !strstr(r.out, "channel")) {
        fail_msg("outbox does not list report 3 as rejected and unreadable: %s", r.out);
    }
    h_result_free(&r);
    /* The table lists all three and counts them without wrapping around. */
    const char *table[] = {"outbox", NULL};
    assert_int_equal(h_agent(st, table, &r, h_ms(30000)), 0);
    unsigned long long t = 0, c = 0, h = 0, q = 0, x = 0;
    const char *line = strstr(r.err, "station ");
    int got = line ? sscanf(line,
                            "station %*s %llu reports, %llu at the county, %llu at the hub,"
                            " %llu queued, %llu rejected",
                            &t, &c, &h, &q, &x)
                   : 0;
    h_result_free(&r);
    if (got != 5 || t != 3 || c + h != 2 || q != 0 || x != 1) {
        fail_msg("outbox summary is wrong: %llu reports, %llu+%llu accepted, %llu queued,"
                 " %llu rejected",
                 t, c, h, q, x);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_badinput_malformed_frame, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_badinput_oversized_frame, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_badinput_unknown_enum, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_badinput_wrong_version, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_badinput_import_bad_line, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_badinput_foreign_origin, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_badinput_quarantine, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_badinput_agent_shows_rejected, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_badinput_agent_shows_unreadable_rejected, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
