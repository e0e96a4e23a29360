/* Does the link protocol (sj_uplink, sj_downlink) deliver every event exactly once through a
 * reconnect, a lost ack, a duplicate batch, a gap, a store restored from an older copy and a
 * refusal, and do its readers return what went wrong? One process, inproc://, in-memory stores
 * (link_fakes.h); the test drives both sides' loops itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zmq.h>

#include "link_fakes.h"
#include "sj_ids.h"
#include "sj_link.h"
#include "sj_log.h"
#include "sj_wire.h"

#define S_CODE     "230523100201"
#define S_DEADLINE 20000 /* ms; every wait ends on a state, this only bounds a failure */

/* A parent (downlink on `endpoint`) and a child (uplink), optionally with a
 * relay between them that can lose the parent's acks. */
typedef struct {
    void *zctx;
    char endpoint[64]; /* where the downlink binds */
    char front[80];    /* the relay's front, where the uplink connects ("" without a relay) */
    lf_parent_t parent;
    lf_child_t child;
    sj_downlink_t *down;
    sj_uplink_t *up;
    void *relay_front, *relay_back; /* ROUTER for the child, DEALER to the parent */
    uint8_t relay_rid[256];
    size_t relay_rid_len;
    int drop_acks;      /* the relay loses this many Acks on their way down */
    int dropped;        /* Acks lost */
    int batches_up;     /* Batches that passed the relay */
    int hellos_up;      /* Hellos that passed the relay */
    int up_rc, down_rc; /* the first failure the readers returned */
} s_fix_t;

static int
s_setup(void **state)
{
    s_fix_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->zctx = lf_begin("test-link", f->endpoint, sizeof f->endpoint);
    assert_non_null(f->zctx);
    assert_int_equal(lf_parent_init(&f->parent), 0);
    lf_child_init(&f->child, S_CODE);
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fix_t *f = *state;
    sj_uplink_destroy(&f->up);
    sj_downlink_destroy(&f->down);
    if (f->relay_front) {
        zmq_close(f->relay_front);
    }
    if (f->relay_back) {
        zmq_close(f->relay_back);
    }
    zmq_ctx_term(f->zctx);
    lf_parent_fini(&f->parent);
    lf_child_fini(&f->child);
    free(f);
    return 0;
}

static void
s_parent_start(s_fix_t *f)
{
    f->down =
        sj_downlink_new(f->zctx, f->endpoint, f->parent.db, &lf_parent_ops, &f->parent, NULL, NULL);
    assert_non_null(f->down);
    uint8_t epoch[SJ_EPOCH_BYTES] = {1};
    sj_downlink_set_epoch(f->down, epoch);
}

/* The child's uplink with short timers, so a lost ack or a parent gone is
 * found in a few hundred ms. */
static void
s_child_start(s_fix_t *f, lf_child_t *store)
{
    sj_uplink_cfg_t cfg = {.endpoint = f->front[0] ? f->front : f->endpoint,
                           .code = store->code,
                           .epoch = store->epoch,
                           .window = 2,
                           .batch_events = 5,
                           .ack_timeout_ms = 150,
                           .heartbeat_ms = 50};
    f->up = sj_uplink_new(f->zctx, &cfg, &lf_child_ops, store);
    assert_non_null(f->up);
}

/* A relay that loses acks: the uplink connects to its ROUTER, it forwards
 * each frame to the downlink on a DEALER, and the answers back. */
static void
s_relay_start(s_fix_t *f)
{
    snprintf(f->front, sizeof f->front, "%s-relay", f->endpoint);
    f->relay_front = zmq_socket(f->zctx, ZMQ_ROUTER);
    f->relay_back = zmq_socket(f->zctx, ZMQ_DEALER);
    assert_non_null(f->relay_front);
    assert_non_null(f->relay_back);
    int zero = 0;
    assert_int_equal(zmq_setsockopt(f->relay_front, ZMQ_LINGER, &zero, sizeof zero), 0);
    assert_int_equal(zmq_setsockopt(f->relay_back, ZMQ_LINGER, &zero, sizeof zero), 0);
    assert_int_equal(zmq_bind(f->relay_front, f->front), 0);
    assert_int_equal(zmq_connect(f->relay_back, f->endpoint), 0);
}

/* The body case of a frame, or 0 when it is not a valid envelope. */
static int
s_body(const void *data, size_t len)
{
    Sanji__Envelope *env = NULL;
    int ec = 0;
    char reason[200];
    if (sj_wire_decode(data, len, &env, &ec, reason, sizeof reason) != SJ_OK) {
        return 0;
    }
    int body = env->body_case;
    sj_wire_free(env);
    return body;
}

static void
s_relay_pump(s_fix_t *f)
{
    zmq_msg_t m;
    for (;;) { /* child -> parent: [rid][frame] -> [frame] */
        int n = zmq_recv(f->relay_front, f->relay_rid, sizeof f->relay_rid, ZMQ_DONTWAIT);
        if (n < 0) {
            break;
        }
        f->relay_rid_len = (size_t) n;
        zmq_msg_init(&m);
        assert_true(zmq_msg_recv(&m, f->relay_front, 0) >= 0);
        int body = s_body(zmq_msg_data(&m), zmq_msg_size(&m));
        f->batches_up += body == SANJI__ENVELOPE__BODY_BATCH;
        f->hellos_up += body == SANJI__ENVELOPE__BODY_HELLO;
        assert_true(zmq_msg_send(&m, f->relay_back, 0) >= 0);
    }
    for (;;) { /* parent -> child, losing acks as asked */
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, f->relay_back, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        if (f->drop_acks > 0
            && s_body(zmq_msg_data(&m), zmq_msg_size(&m)) == SANJI__ENVELOPE__BODY_ACK) {
            f->drop_acks--;
            f->dropped++;
            zmq_msg_close(&m);
            continue;
        }
        assert_true(zmq_send(f->relay_front, f->relay_rid, f->relay_rid_len, ZMQ_SNDMORE) >= 0);
        assert_true(zmq_msg_send(&m, f->relay_front, 0) >= 0);
    }
}

static void
s_note(int *first, int rc)
{
    if (rc != SJ_OK && *first == SJ_OK) {
        *first = rc;
    }
}

/* One turn of both loops: what is readable is handled, then both tick. */
static void
s_turn(s_fix_t *f)
{
    zmq_pollitem_t items[4];
    int n = 0;
    if (f->down) {
        items[n++] = (zmq_pollitem_t){.socket = sj_downlink_socket(f->down), .events = ZMQ_POLLIN};
    }
    if (f->up) {
        items[n++] = (zmq_pollitem_t){.socket = sj_uplink_socket(f->up), .events = ZMQ_POLLIN};
    }
    if (f->relay_front) {
        items[n++] = (zmq_pollitem_t){.socket = f->relay_front, .events = ZMQ_POLLIN};
        items[n++] = (zmq_pollitem_t){.socket = f->relay_back, .events = ZMQ_POLLIN};
    }
    (void) zmq_poll(items, n, 10);
    if (f->relay_front) {
        s_relay_pump(f);
    }
    if (f->down) {
        s_note(&f->down_rc, sj_downlink_on_readable(f->down));
        sj_downlink_tick(f->down);
    }
    if (f->up) {
        s_note(&f->up_rc, sj_uplink_on_readable(f->up));
        assert_int_equal(sj_uplink_tick(f->up), SJ_OK);
    }
}

/* Turns until the uplink has everything acked (or the deadline). */
static int
s_until_acked(s_fix_t *f)
{
    int64_t deadline = sj_mono_ms() + S_DEADLINE;
    while (sj_mono_ms() < deadline) {
        s_turn(f);
        if (sj_uplink_state(f->up) == SJ_UP_READY && sj_uplink_head(f->up) > 0
            && sj_uplink_acked(f->up) == sj_uplink_head(f->up)) {
            return 1;
        }
    }
    return 0;
}

/* Every event of the child's store is at the parent, each exactly once. */
static void
s_assert_all_at_parent(const s_fix_t *f, const lf_child_t *c, size_t total)
{
    assert_int_equal(f->parent.n, total);
    for (size_t i = 0; i < c->n; i++) {
        assert_true(lf_parent_has(&f->parent, c->ev[i].id));
    }
}

static void
test_link_delivers_in_order(void **state)
{
    s_fix_t *f = *state;
    assert_int_equal(lf_child_add(&f->child, 23), 0);
    s_parent_start(f);
    s_child_start(f, &f->child);
    assert_true(s_until_acked(f));
    assert_int_equal(sj_uplink_acked(f->up), 23);
    assert_int_equal(f->child.acked, 23);
    s_assert_all_at_parent(f, &f->child, 23);
    assert_int_equal(f->parent.store_calls, 23); /* nothing offered twice */
    assert_int_equal(f->up_rc, SJ_OK);
    assert_int_equal(f->down_rc, SJ_OK);
}

static void
test_link_reconnect(void **state)
{
    /* The parent goes away (its downlink destroyed) and comes back on the same endpoint and
     * tables: the uplink finds it silent, makes a new socket, and delivers the rest once. */
    s_fix_t *f = *state;
    assert_int_equal(lf_child_add(&f->child, 10), 0);
    s_parent_start(f);
    s_child_start(f, &f->child);
    assert_true(s_until_acked(f));
    sj_downlink_destroy(&f->down);
    assert_int_equal(lf_child_add(&f->child, 10), 0);
    for (int i = 0; i < 20; i++) {
        s_turn(f); /* the uplink sends into the void */
    }
    s_parent_start(f);
    assert_true(s_until_acked(f));
    assert_int_equal(sj_uplink_acked(f->up), 20);
    s_assert_all_at_parent(f, &f->child, 20);
    assert_int_equal(f->parent.store_calls, 20);
}

static void
test_link_lost_ack_resent(void **state)
{
    /* The parent commits a batch and its ack is lost: the uplink times out, goes back N and
     * sends the batch again; the parent stores nothing twice and acks again. */
    s_fix_t *f = *state;
    assert_int_equal(lf_child_add(&f->child, 5), 0); /* one batch */
    s_parent_start(f);
    s_relay_start(f);
    f->drop_acks = 1;
    s_child_start(f, &f->child);
    assert_true(s_until_acked(f));
    assert_int_equal(f->dropped, 1);
    assert_true(f->batches_up >= 2);   /* the batch went twice */
    assert_int_equal(f->hellos_up, 1); /* on the same connection: re-acked, no new Welcome */
    assert_int_equal(f->child.acked, 5);
    s_assert_all_at_parent(f, &f->child, 5);
    assert_int_equal(f->parent.store_calls, 5); /* the resend was re-acked, not stored */
}

/* ---- a raw child: exact frames, exact answers ---- */

static void *
s_raw(s_fix_t *f)
{
    void *sock = zmq_socket(f->zctx, ZMQ_DEALER);
    assert_non_null(sock);
    int zero = 0;
    assert_int_equal(zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero), 0);
    assert_int_equal(zmq_connect(sock, f->endpoint), 0);
    return sock;
}

/* Sends env and returns the parent's answer (caller frees), driving the
 * downlink until it comes. */
static Sanji__Envelope *
s_ask(s_fix_t *f, void *sock, Sanji__Envelope *env)
{
    assert_int_equal(sj_wire_send(sock, NULL, 0, env), SJ_OK);
    int64_t deadline = sj_mono_ms() + S_DEADLINE;
    while (sj_mono_ms() < deadline) {
        s_turn(f);
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) >= 0) {
            Sanji__Envelope *got = NULL;
            int ec = 0;
            char reason[200];
            int rc = sj_wire_decode(zmq_msg_data(&m), zmq_msg_size(&m), &got, &ec, reason,
                                    sizeof reason);
            zmq_msg_close(&m);
            assert_int_equal(rc, SJ_OK);
            return got;
        }
        zmq_msg_close(&m);
    }
    fail_msg("no answer from the downlink");
    return NULL;
}

static Sanji__Envelope *
s_hello(s_fix_t *f, void *sock)
{
    Sanji__Hello h = SANJI__HELLO__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    h.epoch.data = f->child.epoch;
    h.epoch.len = SJ_EPOCH_BYTES;
    h.code = sj_wire_bytes(f->child.code);
    h.last_seq = f->child.n;
    h.sw_version = sj_wire_bytes("test_link");
    env.body_case = SANJI__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    return s_ask(f, sock, &env);
}

/* Sends the child's events first..last as one Batch; returns the answer. */
static Sanji__Envelope *
s_batch(s_fix_t *f, void *sock, uint64_t first, uint64_t last)
{
    ProtobufCBinaryData events[LF_MAX];
    for (uint64_t s = first; s <= last; s++) {
        events[s - first].data = f->child.ev[s - 1].raw;
        events[s - first].len = f->child.ev[s - 1].len;
    }
    Sanji__Batch b = SANJI__BATCH__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    b.epoch.data = f->child.epoch;
    b.epoch.len = SJ_EPOCH_BYTES;
    b.first_seq = first;
    b.n_events = (size_t) (last - first + 1);
    b.events = events;
    env.body_case = SANJI__ENVELOPE__BODY_BATCH;
    env.batch = &b;
    return s_ask(f, sock, &env);
}

static void
test_link_duplicate_batch_reacked(void **state)
{
    s_fix_t *f = *state;
    assert_int_equal(lf_child_add(&f->child, 3), 0);
    s_parent_start(f);
    void *sock = s_raw(f);
    Sanji__Envelope *a = s_hello(f, sock);
    assert_int_equal(a->body_case, SANJI__ENVELOPE__BODY_WELCOME);
    assert_int_equal(a->welcome->acked_through, 0);
    sj_wire_free(a);
    a = s_batch(f, sock, 1, 3);
    assert_int_equal(a->body_case, SANJI__ENVELOPE__BODY_ACK);
    assert_int_equal(a->ack->acked_through, 3);
    sj_wire_free(a);
    /* the same batch again: acked again, nothing stored */
    a = s_batch(f, sock, 1, 3);
    assert_int_equal(a->body_case, SANJI__ENVELOPE__BODY_ACK);
    assert_int_equal(a->ack->acked_through, 3);
    sj_wire_free(a);
    assert_int_equal(f->parent.n, 3);
    assert_int_equal(f->parent.store_calls, 3);
    /* and a batch that overlaps the mark stores only what is new */
    assert_int_equal(lf_child_add(&f->child, 2), 0);
    a = s_batch(f, sock, 2, 5);
    assert_int_equal(a->body_case, SANJI__ENVELOPE__BODY_ACK);
    assert_int_equal(a->ack->acked_through, 5);
    sj_wire_free(a);
    assert_int_equal(f->parent.n, 5);
    assert_int_equal(f->parent.store_calls, 5);
    zmq_close(sock);
}

static void
test_link_gap_answered_with_resend(void **state)
{
    s_fix_t *f = *state;
    assert_int_equal(lf_child_add(&f->child, 6), 0);
    s_parent_start(f);
    void *sock = s_raw(f);
    sj_wire_free(s_hello(f, sock));
    Sanji__Envelope *a = s_batch(f, sock, 1, 2);
    assert_int_equal(a->body_case, SANJI__ENVELOPE__BODY_ACK);
    assert_int_equal(a->ack->acked_through, 2);
    sj_wire_free(a);
    a = s_batch(f, sock, 5, 6); /* 3 and 4 never came */
    assert_int_equal(a->body_case, SANJI__ENVELOPE__BODY_RESEND);
    assert_int_equal(a->resend->from_seq, 3);
    sj_wire_free(a);
    assert_int_equal(f->parent.n, 2); /* nothing of the batch after the gap */
    a = s_batch(f, sock, 3, 6);
    assert_int_equal(a->body_case, SANJI__ENVELOPE__BODY_ACK);
    assert_int_equal(a->ack->acked_through, 6);
    sj_wire_free(a);
    s_assert_all_at_parent(f, &f->child, 6);
    zmq_close(sock);
}

static void
test_link_diverged_store_moves_on(void **state)
{
    /* The station's store is restored from a copy older than what the parent holds, then
     * records new events under the seqs the parent already has: its Welcome shows the fork,
     * the store moves its unconfirmed events to a new epoch, and they all arrive. */
    s_fix_t *f = *state;
    assert_int_equal(lf_child_add(&f->child, 5), 0);
    s_parent_start(f);
    s_child_start(f, &f->child);
    assert_true(s_until_acked(f));
    sj_uplink_destroy(&f->up);

    lf_child_t restored;
    assert_int_equal(lf_child_restore(&restored, &f->child, 3), 0);
    assert_int_equal(lf_child_add(&restored, 3), 0); /* new events with seqs 4, 5, 6 */
    uint8_t old_epoch[SJ_EPOCH_BYTES];
    memcpy(old_epoch, restored.epoch, sizeof old_epoch);
    s_child_start(f, &restored);
    assert_true(s_until_acked(f));
    assert_int_equal(restored.moved, 1);
    assert_memory_not_equal(sj_uplink_epoch(f->up), old_epoch, SJ_EPOCH_BYTES);
    assert_int_equal(sj_uplink_acked(f->up), 3); /* seqs 1..3 of the new epoch */
    s_assert_all_at_parent(f, &restored, 8);     /* 5 before, 3 new */
    s_assert_all_at_parent(f, &f->child, 8);
    sj_uplink_destroy(&f->up); /* before its store goes */
    lf_child_fini(&restored);
}

static void
test_link_refused(void **state)
{
    s_fix_t *f = *state;
    f->parent.refuse = 1;
    assert_int_equal(lf_child_add(&f->child, 2), 0);
    s_parent_start(f);
    s_child_start(f, &f->child);
    int64_t deadline = sj_mono_ms() + S_DEADLINE;
    while (sj_uplink_state(f->up) != SJ_UP_REFUSED && sj_mono_ms() < deadline) {
        s_turn(f);
    }
    assert_int_equal(sj_uplink_state(f->up), SJ_UP_REFUSED);
    assert_non_null(strstr(sj_uplink_last_error(f->up), "is not enrolled here (test)"));
    assert_int_equal(f->parent.n, 0);
    assert_int_equal(f->parent.store_calls, 0);
    assert_int_equal(f->child.acked, 0);
}

static void
test_link_readers_return_failures(void **state)
{
    /* The parent cannot store: sj_downlink_on_readable says so (the child gets an Error and
     * tries again). The child cannot record an ack: sj_uplink_on_readable says so (the
     * batch is sent again and re-acked). Both recover and deliver everything once. */
    s_fix_t *f = *state;
    assert_int_equal(lf_child_add(&f->child, 5), 0);
    f->parent.fail_store = 1;
    f->child.fail_acked = 1;
    s_parent_start(f);
    s_child_start(f, &f->child);
    assert_true(s_until_acked(f));
    assert_int_equal(f->down_rc, SJ_EDB);
    assert_int_equal(f->up_rc, SJ_EDB);
    assert_int_equal(f->parent.fail_store, 0);
    assert_int_equal(f->child.fail_acked, 0);
    s_assert_all_at_parent(f, &f->child, 5);
    assert_int_equal(f->child.acked, 5);
}

static void
test_link_sockopts(void **state)
{
    s_fix_t *f = *state;
    void *router = zmq_socket(f->zctx, ZMQ_ROUTER);
    void *dealer = zmq_socket(f->zctx, ZMQ_DEALER);
    assert_int_equal(sj_link_sockopts(router, 1), SJ_OK);
    assert_int_equal(sj_link_sockopts(dealer, 0), SJ_OK);
    int linger = -1;
    size_t len = sizeof linger;
    assert_int_equal(zmq_getsockopt(dealer, ZMQ_LINGER, &linger, &len), 0);
    assert_int_equal(linger, 0);
    /* an option libzmq refuses (ROUTER_MANDATORY on a DEALER): the failure is returned */
    assert_int_equal(sj_link_sockopts(dealer, 1), SJ_EIO);
    zmq_close(router);
    zmq_close(dealer);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_link_delivers_in_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_link_reconnect, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_link_lost_ack_resent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_link_duplicate_batch_reacked, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_link_gap_answered_with_resend, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_link_diverged_store_moves_on, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_link_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_link_readers_return_failures, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_link_sockopts, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("link", tests, NULL, NULL);
}
