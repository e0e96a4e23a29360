/* sj_downlink: the parent side of the link protocol (see sj_link.h for the
 * state rules). One ROUTER, one borrowed writer connection, one thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "sj_crash.h"
#include "sj_db.h"
#include "sj_ids.h"
#include "sj_link.h"
#include "sj_log.h"

#define MAX_PEERS     4096
#define GROUP_FRAMES  64   /* frames handled per transaction */
#define RID_MAX       256
#define BAD_FRAME_LIMIT 100 /* then the connection is ignored (no stable per-peer
                             * disconnect in libzmq 4.3.4, PROTOCOL-NOTES 2.9) */

typedef struct {
    uint8_t rid[RID_MAX]; /* ROUTER routing id of the connection */
    size_t rid_len;
    char code[SJ_CODE_MAX + 1];
    uint8_t epoch[SJ_EPOCH_BYTES];
    int hello_ok;
    int64_t last_mono;
    uint32_t bad_frames; /* malformed frames from this connection */
    uint64_t down_sent;  /* highest downward seq handed to libzmq on this connection */
} s_peer_t;

typedef struct {
    s_peer_t *peer;
    Sanji__Envelope *env;
    char auth_code[SJ_CODE_MAX + 1]; /* code bound to the key, "" when insecure */
    /* reply, decided inside the transaction and sent after COMMIT */
    int reply; /* 0 none, else body case */
    uint64_t acked;
    uint64_t resend_from;
    int err_code;
    char err_reason[320];
    uint64_t first, last; /* batch range for rejections */
    uint64_t down_head;   /* the child's downward head (Welcome, Heartbeat reply) */
    uint64_t down_from;   /* after the reply, send the downward stream after this */
    int down_send;        /* ... when set */
} s_work_t;

struct sj_downlink {
    void *sock;
    sqlite3 *db;
    sj_downlink_ops_t ops;
    void *ops_ctx;
    uint8_t epoch[SJ_EPOCH_BYTES];
    sj_auth_t *auth; /* NULL: insecure */
    size_t group_events; /* 0: no limit but GROUP_FRAMES */
    s_peer_t *peers;
    size_t n_peers;
    sqlite3_stmt *st_link_get;
    sqlite3_stmt *st_link_new;
    sqlite3_stmt *st_link_mark;
    sqlite3_stmt *st_link_hb;
    sqlite3_stmt *st_quar;
    sqlite3_stmt *st_rej;
    int64_t down_mark;    /* sj_down_mark as last seen by sj_downlink_tick */
};

int
sj_link_sockopts(void *sock, int is_router)
{
    int zero = 0, one = 1;
    int64_t maxmsg = SJ_WIRE_MAX_FRAME + SJ_WIRE_CURVE_OVERHEAD + 1024;
    int hwm = is_router ? 1000 : 64;
    int hs = is_router ? 15000 : 30000;
    int hb_ivl = 20000, hb_to = 90000, ka = 1, ka_idle = 60, ka_intvl = 15, ka_cnt = 4;
    /* A returning parent is found within 0.2 s (it was 5 s: after a long
     * outage libzmq's doubling interval sat at the cap, and a county back
     * with a backlog waiting got its first report ~5 s late; with a 1 s cap
     * 0.9 s, with 0.5 s 0.24-0.52 s). A refused TCP connect five times a
     * second is nothing to either side. */
    int ivl = 100, ivl_max = 200;
    const struct {
        int opt;
        const void *val;
        size_t len;
        const char *name;
    } common[] = {
        {ZMQ_LINGER, &zero, sizeof zero, "LINGER"},
        {ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg, "MAXMSGSIZE"},
        {ZMQ_SNDHWM, &hwm, sizeof hwm, "SNDHWM"},
        {ZMQ_RCVHWM, &hwm, sizeof hwm, "RCVHWM"},
        {ZMQ_HANDSHAKE_IVL, &hs, sizeof hs, "HANDSHAKE_IVL"},
        {ZMQ_HEARTBEAT_IVL, &hb_ivl, sizeof hb_ivl, "HEARTBEAT_IVL"},
        {ZMQ_HEARTBEAT_TIMEOUT, &hb_to, sizeof hb_to, "HEARTBEAT_TIMEOUT"},
        {ZMQ_HEARTBEAT_TTL, &hb_to, sizeof hb_to, "HEARTBEAT_TTL"},
        {ZMQ_TCP_KEEPALIVE, &ka, sizeof ka, "TCP_KEEPALIVE"},
        {ZMQ_TCP_KEEPALIVE_IDLE, &ka_idle, sizeof ka_idle, "TCP_KEEPALIVE_IDLE"},
        {ZMQ_TCP_KEEPALIVE_INTVL, &ka_intvl, sizeof ka_intvl, "TCP_KEEPALIVE_INTVL"},
        {ZMQ_TCP_KEEPALIVE_CNT, &ka_cnt, sizeof ka_cnt, "TCP_KEEPALIVE_CNT"},
        /* the parent: no silent drop of a reply to a peer that is gone */
        {is_router ? ZMQ_ROUTER_MANDATORY : ZMQ_IMMEDIATE, &one, sizeof one,
         is_router ? "ROUTER_MANDATORY" : "IMMEDIATE"},
        /* the child (ignored by a ROUTER, which never connects) */
        {ZMQ_RECONNECT_IVL, &ivl, sizeof ivl, "RECONNECT_IVL"},
        {ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max, "RECONNECT_IVL_MAX"},
    };
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) {
        if (zmq_setsockopt(sock, common[i].opt, common[i].val, common[i].len) != 0) {
            sj_error("link socket: cannot set ZMQ_%s: %s", common[i].name,
                     zmq_strerror(zmq_errno()));
            return SJ_EIO;
        }
    }
    return SJ_OK;
}

static const char s_link_get[] = "SELECT acked_through FROM links WHERE code=? AND epoch=?";
static const char s_link_new[] =
    "INSERT INTO links(code, epoch, acked_through, first_seen_ms, last_contact_ms)"
    " VALUES(?, ?, 0, ?, ?) ON CONFLICT(code, epoch) DO UPDATE SET last_contact_ms=excluded.last_contact_ms";
static const char s_link_mark[] =
    "UPDATE links SET acked_through=?, last_contact_ms=? WHERE code=? AND epoch=?";
static const char s_link_hb[] = "UPDATE links SET last_contact_ms=?, queue_depth=?,"
                                " oldest_pending_s=? WHERE code=? AND epoch=?";
static const char s_quar[] =
    "INSERT INTO quarantine(code, epoch, link_seq, err_code, reason, raw, at_ms)"
    " VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(code, epoch, link_seq) DO NOTHING";
static const char s_rej[] = "SELECT link_seq, err_code, reason FROM quarantine"
                            " WHERE code=? AND epoch=? AND link_seq BETWEEN ? AND ? ORDER BY link_seq";

sj_downlink_t *
sj_downlink_new(void *zctx, const char *endpoint, sqlite3 *db, const sj_downlink_ops_t *ops,
                void *ops_ctx, sj_auth_t *auth, const sj_keypair_t *kp)
{
    sj_downlink_t *self = calloc(1, sizeof *self);
    if (!self) {
        return NULL;
    }
    self->db = db;
    self->ops = *ops;
    self->ops_ctx = ops_ctx;
    self->peers = calloc(MAX_PEERS, sizeof *self->peers);
    if (!self->peers) {
        goto fail;
    }
    if (sj_db_prepare(db, s_link_get, &self->st_link_get) != SJ_OK
        || sj_db_prepare(db, s_link_new, &self->st_link_new) != SJ_OK
        || sj_db_prepare(db, s_link_mark, &self->st_link_mark) != SJ_OK
        || sj_db_prepare(db, s_link_hb, &self->st_link_hb) != SJ_OK
        || sj_db_prepare(db, s_quar, &self->st_quar) != SJ_OK
        || sj_db_prepare(db, s_rej, &self->st_rej) != SJ_OK) {
        goto fail;
    }
    self->sock = zmq_socket(zctx, ZMQ_ROUTER);
    if (!self->sock) {
        sj_error("downlink: cannot create socket: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    if (sj_link_sockopts(self->sock, 1) != SJ_OK) {
        goto fail;
    }
    self->auth = auth;
    if (auth && (!kp || sj_auth_server_socket(self->sock, kp) != SJ_OK)) {
        goto fail;
    }
    if (!auth) {
        sj_warn("INSECURE: %s accepts children without CURVE keys; anyone who can reach it can"
                " speak for any station", endpoint);
    }
    if (zmq_bind(self->sock, endpoint) != 0) {
        sj_error("downlink: cannot bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
        goto fail;
    }
    return self;
fail:
    sj_downlink_destroy(&self);
    return NULL;
}

void
sj_downlink_destroy(sj_downlink_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    sj_downlink_t *self = *self_p;
    if (self->sock) {
        zmq_close(self->sock);
    }
    sqlite3_finalize(self->st_link_get);
    sqlite3_finalize(self->st_link_new);
    sqlite3_finalize(self->st_link_mark);
    sqlite3_finalize(self->st_link_hb);
    sqlite3_finalize(self->st_quar);
    sqlite3_finalize(self->st_rej);
    free(self->peers);
    free(self);
    *self_p = NULL;
}

void *
sj_downlink_socket(sj_downlink_t *self)
{
    return self->sock;
}

void
sj_downlink_set_epoch(sj_downlink_t *self, const uint8_t epoch[SJ_EPOCH_BYTES])
{
    memcpy(self->epoch, epoch, SJ_EPOCH_BYTES);
}

void
sj_downlink_set_group_events(sj_downlink_t *self, size_t events)
{
    self->group_events = events;
}

static s_peer_t *
s_peer_find(sj_downlink_t *self, const uint8_t *rid, size_t rid_len)
{
    for (size_t i = 0; i < self->n_peers; i++) {
        if (self->peers[i].rid_len == rid_len && memcmp(self->peers[i].rid, rid, rid_len) == 0) {
            return &self->peers[i];
        }
    }
    size_t slot = self->n_peers;
    if (slot == MAX_PEERS) {
        /* Full: reuse the least recently active slot; that peer re-HELLOs. */
        slot = 0;
        for (size_t i = 1; i < MAX_PEERS; i++) {
            if (self->peers[i].last_mono < self->peers[slot].last_mono) {
                slot = i;
            }
        }
    } else {
        self->n_peers++;
    }
    s_peer_t *p = &self->peers[slot];
    memset(p, 0, sizeof *p);
    memcpy(p->rid, rid, rid_len);
    p->rid_len = rid_len;
    return p;
}

/* A bind failed (SQLITE_RANGE, SQLITE_TOOBIG, SQLITE_NOMEM): the statement
 * is cleared and the failure logged with the connection's message. */
static int
s_bind_failed(sj_downlink_t *self, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_errcode(self->db);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return sj_db_err(self->db, rc == SQLITE_OK ? SQLITE_ERROR : rc, what);
}

static int
s_link_acked(sj_downlink_t *self, const char *code, const uint8_t *epoch, uint64_t *acked)
{
    sqlite3_stmt *st = self->st_link_get;
    if (sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC) != SQLITE_OK
        || sqlite3_bind_blob(st, 2, epoch, SJ_EPOCH_BYTES, SQLITE_STATIC) != SQLITE_OK) {
        return s_bind_failed(self, st, "links select bind");
    }
    int rc = sqlite3_step(st);
    int out = SJ_OK;
    if (rc == SQLITE_ROW) {
        *acked = (uint64_t) sqlite3_column_int64(st, 0);
    } else if (rc == SQLITE_DONE) {
        out = SJ_ENOTFOUND;
    } else {
        out = sj_db_err(self->db, rc, "links select");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return out;
}

/* ---- the downward stream ---- */

/* The store's downward streams, or NULL when it sends nothing down. */
static sj_down_t *
s_down(const sj_downlink_t *self)
{
    return self->ops.down ? self->ops.down(self->ops_ctx) : NULL;
}

/* Inside the transaction: the child says it applied through cursor; decide
 * what to send after the reply. resend: send everything above the cursor
 * (Hello, Heartbeat); otherwise only what was not sent yet (DownAck). */
static int
s_down_cursor(sj_downlink_t *self, s_work_t *w, uint64_t cursor, int resend)
{
    sj_down_t *down = s_down(self);
    if (!down) {
        return SJ_OK;
    }
    int rc = sj_down_acked(down, w->peer->code, cursor);
    if (rc == SJ_OK) {
        rc = sj_down_head(down, w->peer->code, &w->down_head);
    }
    if (rc != SJ_OK) {
        return rc;
    }
    if (resend || w->peer->down_sent < cursor) {
        w->peer->down_sent = cursor;
    }
    if (w->down_head > w->peer->down_sent) {
        w->down_send = 1;
        w->down_from = w->peer->down_sent;
    }
    return SJ_OK;
}

typedef struct {
    ProtobufCBinaryData items[SJ_WIRE_MAX_DOWN];
    size_t n;
    uint64_t first;
    int gap;
} s_down_fill_t;

static int
s_down_add(void *ctx, uint64_t seq, const void *item, size_t len)
{
    s_down_fill_t *f = ctx;
    if (f->n == SJ_WIRE_MAX_DOWN) {
        return SJ_EINVAL;
    }
    if (seq != f->first + f->n) {
        f->gap = 1;
        return SJ_EINVAL;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) {
        return SJ_ENOMEM;
    }
    memcpy(copy, item, len);
    f->items[f->n].data = copy;
    f->items[f->n].len = len;
    f->n++;
    return SJ_OK;
}

/* Sends one DownBatch of p's stream after seq `after`; on success the peer's
 * down_sent moves to its last seq. A send that fails (peer gone, HWM) is
 * only a missed push: the child's next cursor asks again. */
static void
s_send_down(sj_downlink_t *self, s_peer_t *p, uint64_t after)
{
    s_down_fill_t *f = calloc(1, sizeof *f);
    if (!f) {
        return;
    }
    f->first = after + 1;
    int rc = sj_down_fetch(s_down(self), p->code, after, SJ_WIRE_MAX_DOWN, SJ_WIRE_BATCH_BYTES,
                           s_down_add, f);
    if (f->gap) {
        sj_error("the downward stream of %s has no item %llu: a gap, nothing after it can be"
                 " sent", p->code, (unsigned long long) (f->first + f->n));
    }
    if (f->n > 0 && (rc == SJ_OK || f->n == SJ_WIRE_MAX_DOWN || f->gap)) {
        Sanji__DownBatch b = SANJI__DOWN_BATCH__INIT;
        Sanji__Envelope env = SANJI__ENVELOPE__INIT;
        b.first_seq = f->first;
        b.n_items = f->n;
        b.items = f->items;
        env.body_case = SANJI__ENVELOPE__BODY_DOWN_BATCH;
        env.down_batch = &b;
        if (sj_wire_send(self->sock, p->rid, p->rid_len, &env) == SJ_OK) {
            p->down_sent = f->first + f->n - 1;
            sj_debug("sent downward items %llu..%llu to %s", (unsigned long long) f->first,
                     (unsigned long long) p->down_sent, p->code);
            sj_crash_point("after-down-send");
        } else {
            sj_debug("downward items for %s not sent (peer gone or slow); its cursor asks again",
                     p->code);
        }
    } else if (rc != SJ_OK && !f->gap && f->n < SJ_WIRE_MAX_DOWN) {
        sj_error("cannot read the downward stream of %s: %s", p->code, sj_strerror(rc));
    }
    for (size_t i = 0; i < f->n; i++) {
        free(f->items[i].data);
    }
    free(f);
}

void
sj_downlink_tick(sj_downlink_t *self)
{
    sj_down_t *down = s_down(self);
    if (!down) {
        return;
    }
    int64_t mark = 0;
    if (sj_down_mark(down, &mark) != SJ_OK || mark == self->down_mark) {
        return;
    }
    self->down_mark = mark;
    for (size_t i = 0; i < self->n_peers; i++) {
        s_peer_t *p = &self->peers[i];
        uint64_t head = 0;
        if (!p->hello_ok || p->bad_frames >= BAD_FRAME_LIMIT
            || sj_down_head(down, p->code, &head) != SJ_OK) {
            continue;
        }
        if (head > p->down_sent) {
            s_send_down(self, p, p->down_sent);
        }
    }
}

static int
s_handle_hello(sj_downlink_t *self, s_work_t *w)
{
    const Sanji__Hello *h = w->env->hello;
    s_peer_t *p = w->peer;
    char code[SJ_CODE_MAX + 1];
    char reason[200] = "";
    if (sj_wire_text(h->code, code, sizeof code) != SJ_OK) {
        return SJ_EPROTO; /* validated in sj_wire already */
    }
    if (self->auth && strcmp(code, w->auth_code) != 0) {
        snprintf(reason, sizeof reason, "this key is enrolled for %s, not %s", w->auth_code, code);
    } else if (!self->auth) {
        sj_warn("INSECURE connection: believing that child is %s (no key)", code);
    }
    if (reason[0] || self->ops.admit(self->ops_ctx, code, reason, sizeof reason) != SJ_OK) {
        sj_warn("refusing child %s: %s", code, reason);
        p->hello_ok = 0;
        w->reply = SANJI__ENVELOPE__BODY_ERROR;
        w->err_code = SANJI__ERROR_CODE__ERROR_FORBIDDEN;
        snprintf(w->err_reason, sizeof w->err_reason, "%s", reason);
        return SJ_OK;
    }
    snprintf(p->code, sizeof p->code, "%s", code);
    memcpy(p->epoch, h->epoch.data, SJ_EPOCH_BYTES);
    p->hello_ok = 1;
    int64_t now = sj_now_ms();
    sqlite3_stmt *st = self->st_link_new;
    if (sqlite3_bind_text(st, 1, p->code, -1, SQLITE_STATIC) != SQLITE_OK
        || sqlite3_bind_blob(st, 2, p->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC) != SQLITE_OK
        || sqlite3_bind_int64(st, 3, now) != SQLITE_OK
        || sqlite3_bind_int64(st, 4, now) != SQLITE_OK) {
        return s_bind_failed(self, st, "links upsert bind");
    }
    int rc = sj_db_step_done(self->db, st, "links upsert");
    if (rc != SJ_OK) {
        return rc;
    }
    rc = s_link_acked(self, p->code, p->epoch, &w->acked);
    if (rc != SJ_OK) {
        return rc;
    }
    sj_info("child %s connected (seq %llu produced, %llu committed here)", p->code,
            (unsigned long long) h->last_seq, (unsigned long long) w->acked);
    w->reply = SANJI__ENVELOPE__BODY_WELCOME;
    return s_down_cursor(self, w, h->down_cursor, 1);
}

static int
s_quarantine(sj_downlink_t *self, const s_peer_t *p, uint64_t seq, int code, const char *reason,
             const uint8_t *raw, size_t len)
{
    sqlite3_stmt *st = self->st_quar;
    if (sqlite3_bind_text(st, 1, p->code, -1, SQLITE_STATIC) != SQLITE_OK
        || sqlite3_bind_blob(st, 2, p->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC) != SQLITE_OK
        || sqlite3_bind_int64(st, 3, (sqlite3_int64) seq) != SQLITE_OK
        || sqlite3_bind_int(st, 4, code) != SQLITE_OK
        || sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC) != SQLITE_OK
        || sqlite3_bind_blob(st, 6, raw, (int) len, SQLITE_STATIC) != SQLITE_OK
        || sqlite3_bind_int64(st, 7, sj_now_ms()) != SQLITE_OK) {
        return s_bind_failed(self, st, "quarantine bind");
    }
    sj_warn("quarantined event %llu from %s: %s", (unsigned long long) seq, p->code, reason);
    return sj_db_step_done(self->db, st, "quarantine insert");
}

static void
s_savepoint_undo(sqlite3 *db)
{
    int rc = sqlite3_exec(db, "ROLLBACK TO batch; RELEASE batch", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sj_db_err(db, rc, "rollback to savepoint");
    }
}

/* Handles one batch inside the group transaction, under its own savepoint so
 * that a refused batch leaves nothing behind. */
static int
s_handle_batch(sj_downlink_t *self, s_work_t *w, size_t *n_new)
{
    const Sanji__Batch *b = w->env->batch;
    s_peer_t *p = w->peer;
    if (!p->hello_ok || memcmp(p->epoch, b->epoch.data, SJ_EPOCH_BYTES) != 0) {
        w->reply = SANJI__ENVELOPE__BODY_ERROR;
        w->err_code = SANJI__ERROR_CODE__ERROR_NO_HELLO;
        snprintf(w->err_reason, sizeof w->err_reason, "batch before hello, or for another epoch");
        return SJ_OK;
    }
    uint64_t acked = 0;
    int rc = s_link_acked(self, p->code, p->epoch, &acked);
    if (rc != SJ_OK) {
        return rc == SJ_ENOTFOUND ? SJ_EDB : rc;
    }
    uint64_t a = b->first_seq, last = a + b->n_events - 1, next = acked + 1;
    w->first = a;
    w->last = last;
    if (last < next) {
        w->reply = SANJI__ENVELOPE__BODY_ACK;
        w->acked = acked;
        return SJ_OK;
    }
    if (a > next) {
        w->reply = SANJI__ENVELOPE__BODY_RESEND;
        w->resend_from = next;
        return SJ_OK;
    }
    rc = sj_db_exec(self->db, "SAVEPOINT batch");
    if (rc != SJ_OK) {
        return rc;
    }
    sj_event_t *ev = malloc(sizeof *ev);
    if (!ev) {
        s_savepoint_undo(self->db);
        return SJ_ENOMEM;
    }
    size_t stored = 0;
    for (uint64_t seq = next; seq <= last && rc == SJ_OK; seq++) {
        const ProtobufCBinaryData *raw = &b->events[seq - a];
        char reason[256] = "";
        int vc = sj_event_decode(raw->data, raw->len, ev, reason, sizeof reason);
        if (vc == SJ_OK) {
            vc = self->ops.check_event(self->ops_ctx, p->code, seq, ev, reason, sizeof reason);
        }
        if (vc == SJ_EFORBIDDEN) {
            sj_warn("refusing batch from %s: event %llu: %s", p->code, (unsigned long long) seq,
                    reason);
            w->reply = SANJI__ENVELOPE__BODY_ERROR;
            w->err_code = SANJI__ERROR_CODE__ERROR_FORBIDDEN;
            snprintf(w->err_reason, sizeof w->err_reason, "event %llu refused: %s",
                     (unsigned long long) seq, reason);
            rc = SJ_EFORBIDDEN;
            break;
        }
        if (vc != SJ_OK && vc != SJ_EPROTO) {
            rc = vc; /* the store could not judge it (storage): the batch is retried */
            break;
        }
        if (vc != SJ_OK) {
            rc = s_quarantine(self, p, seq, SANJI__ERROR_CODE__ERROR_INVALID_EVENT, reason,
                              raw->data, raw->len);
            continue;
        }
        sj_stored_t res = SJ_STORED_NEW;
        rc = self->ops.store_event(self->ops_ctx, p->code, ev, raw->data, raw->len, &res);
        if (rc == SJ_OK && res == SJ_STORED_NEW) {
            stored++;
        } else if (rc == SJ_OK && res == SJ_STORED_ID_CONFLICT) {
            rc = s_quarantine(self, p, seq, SANJI__ERROR_CODE__ERROR_DUPLICATE_ID,
                              "event id already stored under another origin or sequence", raw->data,
                              raw->len);
        }
    }
    free(ev);
    if (self->ops.batch_end) {
        int bc = self->ops.batch_end(self->ops_ctx, rc == SJ_OK);
        rc = rc == SJ_OK ? bc : rc;
    }
    if (rc == SJ_OK) {
        sqlite3_stmt *st = self->st_link_mark;
        if (sqlite3_bind_int64(st, 1, (sqlite3_int64) last) != SQLITE_OK
            || sqlite3_bind_int64(st, 2, sj_now_ms()) != SQLITE_OK
            || sqlite3_bind_text(st, 3, p->code, -1, SQLITE_STATIC) != SQLITE_OK
            || sqlite3_bind_blob(st, 4, p->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC) != SQLITE_OK) {
            rc = s_bind_failed(self, st, "links mark bind");
        } else {
            rc = sj_db_step_done(self->db, st, "links mark");
        }
    }
    if (rc == SJ_OK) {
        *n_new += stored;
        w->reply = SANJI__ENVELOPE__BODY_ACK;
        w->acked = last;
        return sj_db_exec(self->db, "RELEASE batch");
    }
    s_savepoint_undo(self->db);
    return rc == SJ_EFORBIDDEN ? SJ_OK : rc;
}

static int
s_handle_heartbeat(sj_downlink_t *self, s_work_t *w)
{
    const Sanji__Heartbeat *h = w->env->heartbeat;
    s_peer_t *p = w->peer;
    w->reply = SANJI__ENVELOPE__BODY_HEARTBEAT;
    if (!p->hello_ok) {
        w->reply = SANJI__ENVELOPE__BODY_ERROR;
        w->err_code = SANJI__ERROR_CODE__ERROR_NO_HELLO;
        snprintf(w->err_reason, sizeof w->err_reason, "heartbeat before hello");
        return SJ_OK;
    }
    int arc = s_link_acked(self, p->code, p->epoch, &w->acked);
    if (arc != SJ_OK && arc != SJ_ENOTFOUND) {
        return arc;
    }
    sqlite3_stmt *st = self->st_link_hb;
    if (sqlite3_bind_int64(st, 1, sj_now_ms()) != SQLITE_OK
        || sqlite3_bind_int64(st, 2, (sqlite3_int64) h->queue_depth) != SQLITE_OK
        || sqlite3_bind_int64(st, 3, (sqlite3_int64) h->oldest_pending_s) != SQLITE_OK
        || sqlite3_bind_text(st, 4, p->code, -1, SQLITE_STATIC) != SQLITE_OK
        || sqlite3_bind_blob(st, 5, p->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC) != SQLITE_OK) {
        return s_bind_failed(self, st, "links heartbeat bind");
    }
    int rc = sj_db_step_done(self->db, st, "links heartbeat");
    return rc == SJ_OK ? s_down_cursor(self, w, h->down_cursor, 1) : rc;
}

static int
s_handle_down_ack(sj_downlink_t *self, s_work_t *w)
{
    if (!w->peer->hello_ok) {
        w->reply = SANJI__ENVELOPE__BODY_ERROR;
        w->err_code = SANJI__ERROR_CODE__ERROR_NO_HELLO;
        snprintf(w->err_reason, sizeof w->err_reason, "down ack before hello");
        return SJ_OK;
    }
    return s_down_cursor(self, w, w->env->down_ack->applied_through, 0);
}

/* The end-to-end receipt for a child's stream (see sj_downlink_ops_t.e2e). */
static uint64_t
s_e2e(sj_downlink_t *self, const s_peer_t *p, uint64_t acked)
{
    uint64_t e2e = acked;
    if (self->ops.e2e && self->ops.e2e(self->ops_ctx, p->code, p->epoch, acked, &e2e) != SJ_OK) {
        e2e = 0; /* unknown now; the next reply carries it */
    }
    return e2e;
}

/* Builds the rejection list of [first..last] from the quarantine table, so a
 * re-ack after a lost ack carries the same rejections. An ack that cannot
 * carry all of them is not sent (the child times out and sends the batch
 * again, which is re-acked as a duplicate): SJ_EDB or SJ_ENOMEM, logged. */
static int
s_send_ack(sj_downlink_t *self, s_work_t *w)
{
    Sanji__Ack ack = SANJI__ACK__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    Sanji__Rejection *rej = NULL, **rejp = NULL;
    char *texts = NULL;
    size_t n = 0, cap = 0;
    int rc = SJ_OK;
    sqlite3_stmt *st = self->st_rej;
    if (w->last >= w->first && w->first > 0) {
        if (sqlite3_bind_text(st, 1, w->peer->code, -1, SQLITE_STATIC) != SQLITE_OK
            || sqlite3_bind_blob(st, 2, w->peer->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC) != SQLITE_OK
            || sqlite3_bind_int64(st, 3, (sqlite3_int64) w->first) != SQLITE_OK
            || sqlite3_bind_int64(st, 4, (sqlite3_int64) w->last) != SQLITE_OK) {
            rc = s_bind_failed(self, st, "rejections bind");
            goto out;
        }
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                Sanji__Rejection *r2 = realloc(rej, cap * sizeof *rej);
                char *t2 = r2 ? realloc(texts, cap * 256) : NULL;
                if (r2) {
                    rej = r2;
                }
                if (!t2) {
                    sj_error("out of memory for the rejections of an ack to %s", w->peer->code);
                    rc = SJ_ENOMEM;
                    break;
                }
                texts = t2;
            }
            sanji__rejection__init(&rej[n]);
            rej[n].seq = (uint64_t) sqlite3_column_int64(st, 0);
            rej[n].code = (uint32_t) sqlite3_column_int(st, 1);
            snprintf(texts + n * 256, 256, "%s", (const char *) sqlite3_column_text(st, 2));
            n++;
        }
        if (rc == SJ_OK && step != SQLITE_DONE) {
            rc = sj_db_err(self->db, step, "rejections select");
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (rc != SJ_OK) {
            goto out;
        }
    }
    if (n) {
        rejp = malloc(n * sizeof *rejp);
        if (!rejp) {
            sj_error("out of memory for the rejections of an ack to %s", w->peer->code);
            rc = SJ_ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            rej[i].reason = sj_wire_bytes(texts + i * 256);
            rejp[i] = &rej[i];
        }
    }
    ack.epoch.data = w->peer->epoch;
    ack.epoch.len = SJ_EPOCH_BYTES;
    ack.acked_through = w->acked;
    ack.e2e_through = s_e2e(self, w->peer, w->acked);
    ack.n_rejected = n;
    ack.rejected = rejp;
    env.body_case = SANJI__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    rc = sj_wire_send(self->sock, w->peer->rid, w->peer->rid_len, &env);
out:
    free(rejp);
    free(rej);
    free(texts);
    return rc;
}

/* Sends w's reply. Returns SJ_OK, or a local failure (storage, memory, a
 * frame too large) after logging it; a peer that is gone or slow only
 * misses this reply (it asks again). */
static int
s_send_reply(sj_downlink_t *self, s_work_t *w)
{
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    int rc = SJ_OK;
    switch (w->reply) {
    case SANJI__ENVELOPE__BODY_WELCOME: {
        Sanji__Welcome wel = SANJI__WELCOME__INIT;
        wel.store_epoch.data = self->epoch;
        wel.store_epoch.len = SJ_EPOCH_BYTES;
        wel.acked_through = w->acked;
        wel.e2e_through = s_e2e(self, w->peer, w->acked);
        wel.max_batch = SJ_WIRE_MAX_BATCH;
        wel.max_frame = SJ_WIRE_MAX_FRAME;
        wel.down_head = w->down_head;
        env.body_case = SANJI__ENVELOPE__BODY_WELCOME;
        env.welcome = &wel;
        rc = sj_wire_send(self->sock, w->peer->rid, w->peer->rid_len, &env);
        break;
    }
    case SANJI__ENVELOPE__BODY_ACK:
        rc = s_send_ack(self, w);
        break;
    case SANJI__ENVELOPE__BODY_RESEND: {
        Sanji__Resend rs = SANJI__RESEND__INIT;
        rs.epoch.data = w->peer->epoch;
        rs.epoch.len = SJ_EPOCH_BYTES;
        rs.from_seq = w->resend_from;
        env.body_case = SANJI__ENVELOPE__BODY_RESEND;
        env.resend = &rs;
        rc = sj_wire_send(self->sock, w->peer->rid, w->peer->rid_len, &env);
        break;
    }
    case SANJI__ENVELOPE__BODY_HEARTBEAT: {
        Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
        hb.now_ms = sj_now_ms();
        hb.e2e_through = s_e2e(self, w->peer, w->acked);
        hb.down_head = w->down_head;
        env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
        env.heartbeat = &hb;
        rc = sj_wire_send(self->sock, w->peer->rid, w->peer->rid_len, &env);
        break;
    }
    case SANJI__ENVELOPE__BODY_ERROR:
        rc = sj_wire_send_error(self->sock, w->peer->rid, w->peer->rid_len, w->err_code,
                                w->err_reason);
        break;
    default:
        return SJ_OK;
    }
    if (rc == SJ_EAGAIN) {
        sj_debug("reply to %s not sent (peer gone or slow); it will ask again",
                 w->peer->code[0] ? w->peer->code : "unknown peer");
        return SJ_OK;
    }
    if (rc == SJ_EINVAL) {
        sj_error("reply to %s not sent: too large for one frame",
                 w->peer->code[0] ? w->peer->code : "unknown peer");
    }
    return rc;
}

/* Receives one routed frame; returns 1 with rid/data filled, 0 when nothing
 * is readable, -1 on a malformed multipart (already discarded). */
static int
s_recv(void *sock, uint8_t *rid, size_t *rid_len, zmq_msg_t *data)
{
    int n = zmq_recv(sock, rid, RID_MAX, ZMQ_DONTWAIT);
    if (n < 0) {
        return 0;
    }
    *rid_len = (size_t) (n > RID_MAX ? RID_MAX : n);
    int more = 0;
    size_t ms = sizeof more;
    zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &ms);
    if (!more) {
        return -1;
    }
    zmq_msg_init(data);
    if (zmq_msg_recv(data, sock, 0) < 0) {
        zmq_msg_close(data);
        return -1;
    }
    zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &ms);
    if (more) {
        /* Multi-frame message: not our protocol. Drain and refuse. */
        while (more) {
            zmq_msg_t junk;
            zmq_msg_init(&junk);
            zmq_msg_recv(&junk, sock, 0);
            zmq_msg_close(&junk);
            zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &ms);
        }
        zmq_msg_close(data);
        sj_wire_send_error(sock, rid, *rid_len, SANJI__ERROR_CODE__ERROR_MALFORMED,
                           "multi-frame message; the protocol is one frame per message");
        return -1;
    }
    return 1;
}

int
sj_downlink_on_readable(sj_downlink_t *self)
{
    s_work_t work[GROUP_FRAMES];
    size_t n_work = 0;
    uint8_t rid[RID_MAX];
    size_t rid_len = 0;
    int64_t now = sj_mono_ms();
    size_t n_events = 0;
    while (n_work < GROUP_FRAMES && (!self->group_events || n_events < self->group_events)) {
        zmq_msg_t data;
        int got = s_recv(self->sock, rid, &rid_len, &data);
        if (got == 0) {
            break;
        }
        if (got < 0) {
            continue;
        }
        char auth_code[SJ_CODE_MAX + 1] = "";
        if (self->auth) {
            /* Identity comes only from the key (ZAP User-Id), checked on every
             * message so that a revoked key stops at once (P5, P6). */
            const char *uid = zmq_msg_gets(&data, "User-Id");
            if (!sj_auth_allowed(self->auth, uid, auth_code, sizeof auth_code)) {
                zmq_msg_close(&data);
                sj_warn("message from a key that is not (or no longer) enrolled: %s",
                        uid ? uid : "(none)");
                sj_wire_send_error(self->sock, rid, rid_len, SANJI__ERROR_CODE__ERROR_FORBIDDEN,
                                   "this key is not enrolled here (revoked?)");
                continue;
            }
        }
        s_peer_t *p = s_peer_find(self, rid, rid_len);
        if (p->bad_frames >= BAD_FRAME_LIMIT) {
            zmq_msg_close(&data);
            continue;
        }
        Sanji__Envelope *env = NULL;
        int ec = 0;
        char reason[200];
        int rc = sj_wire_decode(zmq_msg_data(&data), zmq_msg_size(&data), &env, &ec, reason,
                                sizeof reason);
        zmq_msg_close(&data);
        if (rc != SJ_OK) {
            p->bad_frames++;
            if (p->bad_frames == BAD_FRAME_LIMIT) {
                sj_warn("child %s sent %d bad frames; ignoring that connection from now on",
                        p->code[0] ? p->code : "(no hello)", BAD_FRAME_LIMIT);
                p->hello_ok = 0;
            } else if (p->bad_frames <= 3) {
                sj_warn("bad frame from child %s: %s", p->code[0] ? p->code : "(no hello)",
                        reason);
            }
            if (sj_wire_send_error(self->sock, rid, rid_len, ec, reason) != SJ_OK) {
                sj_debug("error reply not sent");
            }
            continue;
        }
        p->last_mono = now;
        memset(&work[n_work], 0, sizeof work[n_work]);
        work[n_work].peer = p;
        work[n_work].env = env;
        snprintf(work[n_work].auth_code, sizeof work[n_work].auth_code, "%s", auth_code);
        if (self->auth && p->hello_ok && strcmp(p->code, auth_code) != 0) {
            p->hello_ok = 0; /* a routing id now speaking with another key: start over */
        }
        if (env->body_case == SANJI__ENVELOPE__BODY_BATCH) {
            n_events += env->batch->n_events;
        }
        n_work++;
    }
    if (n_work == 0) {
        return SJ_OK;
    }
    size_t n_new = 0;
    int rc = sj_db_begin(self->db);
    for (size_t i = 0; i < n_work && rc == SJ_OK; i++) {
        s_work_t *w = &work[i];
        switch (w->env->body_case) {
        case SANJI__ENVELOPE__BODY_HELLO:
            rc = s_handle_hello(self, w);
            break;
        case SANJI__ENVELOPE__BODY_BATCH:
            rc = s_handle_batch(self, w, &n_new);
            break;
        case SANJI__ENVELOPE__BODY_HEARTBEAT:
            rc = s_handle_heartbeat(self, w);
            break;
        case SANJI__ENVELOPE__BODY_DOWN_ACK:
            rc = s_handle_down_ack(self, w);
            break;
        default:
            w->reply = SANJI__ENVELOPE__BODY_ERROR;
            w->err_code = SANJI__ERROR_CODE__ERROR_MALFORMED;
            snprintf(w->err_reason, sizeof w->err_reason, "unexpected message type upward");
            break;
        }
    }
    if (rc == SJ_OK) {
        rc = sj_db_commit(self->db);
    }
    if (rc == SJ_OK) {
        sj_crash_point("after-commit-before-ack");
    }
    if (rc != SJ_OK) {
        /* Nothing of this group is acked; children retry after their timeout. */
        sj_db_rollback(self->db);
        int code = rc == SJ_EFULL ? SANJI__ERROR_CODE__ERROR_STORAGE_FULL
                                  : SANJI__ERROR_CODE__ERROR_INTERNAL;
        const char *why = rc == SJ_EFULL ? "parent's disk is full; nothing stored, retry later"
                                         : "parent could not store; nothing stored, retry later";
        sj_error("group of %zu frames not committed: %s", n_work, sj_strerror(rc));
        for (size_t i = 0; i < n_work; i++) {
            work[i].reply = SANJI__ENVELOPE__BODY_ERROR;
            work[i].err_code = code;
            snprintf(work[i].err_reason, sizeof work[i].err_reason, "%s", why);
            work[i].down_send = 0;
        }
        n_new = 0;
    }
    int committed = rc == SJ_OK;
    for (size_t i = 0; i < n_work; i++) {
        int sc = s_send_reply(self, &work[i]);
        rc = rc == SJ_OK ? sc : rc;
        if (work[i].down_send && work[i].peer->hello_ok) {
            s_send_down(self, work[i].peer, work[i].down_from);
        }
        sj_wire_free(work[i].env);
    }
    if (committed && self->ops.committed) {
        self->ops.committed(self->ops_ctx, n_new);
    }
    return rc;
}
