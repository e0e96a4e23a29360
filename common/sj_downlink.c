/* sj_downlink: the parent side of the link protocol (see sj_link.h for the
 * state rules, docs/PROTOCOL.md for the contract). One ROUTER, one borrowed
 * writer connection, one thread.
 *
 * Where an event first enters (a child's own events: a station's, a hub's
 * own status changes and notices) it is checked here, not by the store:
 * its epoch is the link's (a station), its prev_hash is the hash of the
 * bytes that came at the position before in its (origin, epoch) stream
 * (link_heads, one row per stream, read and written once per batch), its
 * clock is plausible, and a position already held is not taken by other
 * bytes (fork). A refused event is quarantined and acked as rejected;
 * the stream behind it goes on. */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "sj_crash.h"
#include "sj_db.h"
#include "sj_ids.h"
#include "sj_link.h"
#include "sj_log.h"

#define MAX_PEERS    4096
#define GROUP_FRAMES 64 /* frames handled per transaction */
#define RID_MAX      256
#define BAD_FRAME_LIMIT                                                          \
    100                    /* then the connection is ignored (no stable per-peer \
                            * disconnect in libzmq 4.3.4, docs/PROTOCOL.md) */
#define UID_MAX         64 /* a ZAP User-Id, "CODE/KEY" */
#define HEADS_PER_BATCH 4  /* streams whose heads one batch keeps in memory */

typedef struct {
    uint8_t rid[RID_MAX]; /* ROUTER routing id of the connection */
    size_t rid_len;
    char code[SJ_CODE_MAX + 1];
    uint8_t epoch[SJ_EPOCH_BYTES];
    int hello_ok;
    int64_t last_mono;
    uint32_t bad_frames; /* malformed frames from this connection */
    uint64_t down_sent;  /* highest downward seq handed to libzmq on this connection */
    int down_keeps;      /* its Hello said it keeps its cursor across our store epochs */
    char uid[UID_MAX];   /* the key's User-Id of its last message ("" insecure) */
} s_peer_t;

/* A rejection decided outside the quarantine table: an event resent at a
 * position held with other bytes (a fork). */
typedef struct {
    uint64_t seq;
    char reason[256];
} s_fork_t;

/* One stream's head while a batch is handled (link_heads). */
typedef struct {
    char origin[SJ_CODE_MAX + 1];
    uint8_t epoch[SJ_EPOCH_BYTES];
    uint64_t seq; /* last position that entered here; 0: none */
    uint8_t hash[SJ_HASH_BYTES];
    int dirty;
} s_head_t;

typedef struct {
    s_head_t h[HEADS_PER_BATCH];
    size_t n;
} s_heads_t;

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
    s_fork_t *forks;      /* resent events refused as forks (added to the ack), owned */
    size_t n_forks;
} s_work_t;

struct sj_downlink {
    void *sock;
    sqlite3 *db;
    sj_downlink_ops_t ops;
    void *ops_ctx;
    uint8_t epoch[SJ_EPOCH_BYTES];
    sj_auth_t *auth;     /* NULL: insecure */
    size_t group_events; /* 0: no limit but GROUP_FRAMES */
    s_peer_t *peers;
    size_t n_peers;
    sqlite3_stmt *st_link_get;
    sqlite3_stmt *st_link_new;
    sqlite3_stmt *st_link_mark;
    sqlite3_stmt *st_link_hb;
    sqlite3_stmt *st_quar;
    sqlite3_stmt *st_rej;
    sqlite3_stmt *st_quar_raw; /* a quarantined event's bytes */
    sqlite3_stmt *st_head_get;
    sqlite3_stmt *st_head_put;
    sqlite3_stmt *st_fork;
    int64_t down_mark;  /* sj_down_mark as last seen by sj_downlink_tick */
    sj_event_t *notice; /* scratch for ops.quarantined */
    int seal_set;       /* sealed data is checked against seal_fp */
    int seal_open;      /* ... and opened with seal_pk/seal_sk when it names no key */
    uint8_t seal_pk[SJ_KEY_BYTES], seal_sk[SJ_KEY_BYTES];
    uint8_t seal_fp[SJ_KEY_FP_BYTES];
    int64_t now_ms;      /* the clock of the group being handled */
    char today[11];      /* ... its local date */
    char latest_day[11]; /* ... and the latest occurred date accepted */
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
    " VALUES(?, ?, 0, ?, ?) ON CONFLICT(code, epoch) DO UPDATE SET "
    "last_contact_ms=excluded.last_contact_ms";
static const char s_link_mark[] =
    "UPDATE links SET acked_through=?, last_contact_ms=? WHERE code=? AND epoch=?";
static const char s_link_hb[] = "UPDATE links SET last_contact_ms=?, queue_depth=?,"
                                " oldest_pending_s=? WHERE code=? AND epoch=?";
static const char s_quar[] =
    "INSERT INTO quarantine(code, epoch, link_seq, err_code, reason, raw, at_ms)"
    " VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(code, epoch, link_seq) DO NOTHING";
static const char s_rej[] =
    "SELECT link_seq, err_code, reason FROM quarantine"
    " WHERE code=? AND epoch=? AND link_seq BETWEEN ? AND ? ORDER BY link_seq";
static const char s_quar_raw[] =
    "SELECT raw FROM quarantine WHERE code=? AND epoch=? AND link_seq=?";
static const char s_head_get[] = "SELECT seq, hash FROM link_heads WHERE origin=? AND epoch=?";
static const char s_head_put[] =
    "INSERT INTO link_heads(origin, epoch, seq, hash) VALUES(?, ?, ?, ?)"
    " ON CONFLICT(origin, epoch) DO UPDATE SET seq=excluded.seq, hash=excluded.hash";
static const char s_fork_ins[] =
    "INSERT INTO link_forks(code, epoch, link_seq, hash, reason, raw, at_ms)"
    " VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";

sj_downlink_t *
sj_downlink_new(void *zctx,
                const char *endpoint,
                sqlite3 *db,
                const sj_downlink_ops_t *ops,
                void *ops_ctx,
                sj_auth_t *auth,
                const sj_keypair_t *kp)
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
        || sj_db_prepare(db, s_rej, &self->st_rej) != SJ_OK
        || sj_db_prepare(db, s_quar_raw, &self->st_quar_raw) != SJ_OK
        || sj_db_prepare(db, s_head_get, &self->st_head_get) != SJ_OK
        || sj_db_prepare(db, s_head_put, &self->st_head_put) != SJ_OK
        || sj_db_prepare(db, s_fork_ins, &self->st_fork) != SJ_OK) {
        goto fail;
    }
    self->notice = calloc(1, sizeof *self->notice);
    if (!self->notice) {
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
                " speak for any station",
                endpoint);
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
    sqlite3_finalize(self->st_quar_raw);
    sqlite3_finalize(self->st_head_get);
    sqlite3_finalize(self->st_head_put);
    sqlite3_finalize(self->st_fork);
    free(self->notice);
    sodium_memzero(self->seal_sk, sizeof self->seal_sk);
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

void
sj_downlink_set_seal_key(sj_downlink_t *self, const uint8_t pk[SJ_KEY_BYTES], const uint8_t *sk)
{
    memcpy(self->seal_pk, pk, SJ_KEY_BYTES);
    sj_key_fingerprint(pk, self->seal_fp);
    self->seal_set = 1;
    self->seal_open = sk != NULL;
    if (sk) {
        memcpy(self->seal_sk, sk, SJ_KEY_BYTES);
    }
}

void
sj_downlink_reloaded(sj_downlink_t *self)
{
    if (!self->auth) {
        return;
    }
    for (size_t i = 0; i < self->n_peers; i++) {
        s_peer_t *p = &self->peers[i];
        char code[SJ_CODE_MAX + 1];
        if (p->hello_ok && !sj_auth_allowed(self->auth, p->uid, code, sizeof code)) {
            /* No stable call drops one ROUTER peer in libzmq 4.3.4: the
             * connection stays open, but nothing goes to it any more and
             * its next message is refused (on_readable checks every one). */
            p->hello_ok = 0;
            sj_notice("the key of %s is no longer enrolled: its open connection gets nothing"
                      " more",
                      p->code);
        }
    }
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
 * (Hello 2, Heartbeat 1; at a Hello, a cursor below the floor also gets the
 * refill); otherwise only what was not sent yet (DownAck). */
static int
s_down_cursor(sj_downlink_t *self, s_work_t *w, uint64_t cursor, int resend)
{
    sj_down_t *down = s_down(self);
    if (!down) {
        return SJ_OK;
    }
    uint64_t floor = 0;
    int rc = sj_down_floor(down, w->peer->code, &floor);
    int lacks = 0;
    if (rc == SJ_OK && resend == 2 && cursor < floor) {
        rc = sj_down_lacks(down, w->peer->code, cursor, floor, &lacks);
    }
    if (rc == SJ_OK && lacks && self->ops.down_refill) {
        /* The child lacks items that are gone here (pruned, or its store
         * was made anew after a restore raised the floor): the current
         * state of its open assigned cases comes as fresh items. */
        sj_notice("child %s's downward cursor %llu is below its stream's floor %llu: sending"
                  " the current state of its open assigned cases",
                  w->peer->code, (unsigned long long) cursor, (unsigned long long) floor);
        rc = self->ops.down_refill(self->ops_ctx, w->peer->code);
    }
    if (rc == SJ_OK && resend == 2 && self->ops.down_hello) {
        rc = self->ops.down_hello(self->ops_ctx, w->peer->code);
    }
    if (rc == SJ_OK) {
        rc = sj_down_acked(down, w->peer->code, cursor, w->peer->down_keeps);
    }
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
    int gone; /* the first item found is above after + 1: those between are gone */
} s_down_fill_t;

static int
s_down_add(void *ctx, uint64_t seq, const void *item, size_t len)
{
    s_down_fill_t *f = ctx;
    if (f->n == SJ_WIRE_MAX_DOWN) {
        return SJ_EINVAL;
    }
    if (f->n == 0 && seq > f->first) {
        f->first = seq; /* pruned, or numbered above a floor (sj_down.h) */
        f->gone = 1;
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
                 " sent",
                 p->code, (unsigned long long) (f->first + f->n));
    }
    if (f->n > 0 && (rc == SJ_OK || f->n == SJ_WIRE_MAX_DOWN || f->gap)) {
        Sanji__DownBatch b = SANJI__DOWN_BATCH__INIT;
        Sanji__Envelope env = SANJI__ENVELOPE__INIT;
        b.first_seq = f->first;
        b.gone_before = f->gone;
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
    p->down_keeps = h->down_keeps ? 1 : 0;
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
    if (p->down_keeps && s_down(self) && h->down_parent.len == SJ_EPOCH_BYTES
        && memcmp(h->down_parent.data, self->epoch, SJ_EPOCH_BYTES) != 0) {
        /* Its cursor counts items of another epoch of this store (made
         * anew, or restored from a backup): what it holds is not sent
         * again, and what was made since comes above its cursor. */
        int64_t since = 0, moved = 0;
        if (sj_db_meta_get_int(self->db, "restored_ms", &since) != SJ_OK) {
            since = 0;
        }
        rc = sj_down_rebase(s_down(self), p->code, h->down_cursor, since, &moved);
        if (rc != SJ_OK) {
            return rc;
        }
        sj_notice("child %s holds downward items through %llu of an earlier store of this"
                  " node: not sent again; %lld item(s) made since numbered after them",
                  p->code, (unsigned long long) h->down_cursor, (long long) moved);
    }
    return s_down_cursor(self, w, h->down_cursor, 2);
}

static int
s_quarantine(sj_downlink_t *self,
             const s_peer_t *p,
             uint64_t seq,
             int code,
             const char *reason,
             const uint8_t *raw,
             size_t len)
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

/* ---- the checks where an event enters ---- */

/* Is a station (a 12-digit code) on the other end? Its link stream is its
 * own stream: link epoch = event epoch, link seq = origin_seq. */
static int
s_is_station(const s_peer_t *p)
{
    return sj_code_level(p->code) == 12;
}

/* Is something quarantined at link position seq of p's stream (*found),
 * and is it these bytes (*same)? hash, when not NULL, gets its hash. */
static int
s_quar_match(sj_downlink_t *self,
             const s_peer_t *p,
             uint64_t seq,
             const uint8_t *raw,
             size_t len,
             int *found,
             int *same,
             uint8_t hash[SJ_HASH_BYTES])
{
    sqlite3_stmt *st = self->st_quar_raw;
    sqlite3_bind_text(st, 1, p->code, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, p->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64) seq);
    int step = sqlite3_step(st);
    int rc = SJ_OK;
    *found = *same = 0;
    if (step == SQLITE_ROW) {
        const void *held = sqlite3_column_blob(st, 0);
        size_t n = (size_t) sqlite3_column_bytes(st, 0);
        *found = 1;
        *same = raw && n == len && (n == 0 || memcmp(held, raw, n) == 0);
        if (hash) {
            sj_event_hash(held, n, hash);
        }
    } else if (step != SQLITE_DONE) {
        rc = sj_db_err(self->db, step, "quarantine lookup");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* Records a fork (an event at a position held with other bytes): counted in
 * link_forks (once per distinct event), logged when new. */
static int
s_fork_record(sj_downlink_t *self,
              const s_peer_t *p,
              uint64_t seq,
              const uint8_t *raw,
              size_t len,
              const char *reason)
{
    uint8_t hash[SJ_HASH_BYTES];
    sj_event_hash(raw, len, hash);
    sqlite3_stmt *st = self->st_fork;
    sqlite3_bind_text(st, 1, p->code, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, p->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64) seq);
    sqlite3_bind_blob(st, 4, hash, SJ_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 6, raw, (int) len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, self->now_ms);
    int rc = sj_db_step_done(self->db, st, "fork insert");
    if (rc == SJ_OK && sqlite3_changes(self->db) == 1) {
        sj_warn("fork from %s: link seq %" PRIu64 ": %s", p->code, seq, reason);
    }
    return rc;
}

/* An event resent at link seq <= the mark: the same bytes as what entered
 * there (a lost ack), or a fork, which is recorded and rejected in the
 * re-ack (never acked as committed). ev is scratch. */
static int
s_resent(
    sj_downlink_t *self, s_work_t *w, uint64_t seq, const ProtobufCBinaryData *raw, sj_event_t *ev)
{
    s_peer_t *p = w->peer;
    int found = 0, same = 0;
    char why[256];
    int rc = s_quar_match(self, p, seq, raw->data, raw->len, &found, &same, NULL);
    if (rc != SJ_OK) {
        return rc;
    }
    if (!found) {
        if (!self->ops.held) {
            return SJ_OK;
        }
        if (sj_event_decode(raw->data, raw->len, ev, why, sizeof why) == SJ_OK) {
            rc = self->ops.held(self->ops_ctx, ev, raw->data, raw->len, &same);
            if (rc == SJ_ENOTFOUND) {
                same = 0;
                rc = SJ_OK;
            }
            if (rc != SJ_OK) {
                return rc;
            }
        }
    }
    if (same) {
        return SJ_OK;
    }
    snprintf(why, sizeof why,
             "fork: seq %" PRIu64 " of this stream is already held here with other bytes"
             " (another event at a position already used); not stored",
             seq);
    if (w->n_forks % 16 == 0) {
        s_fork_t *f = realloc(w->forks, (w->n_forks + 16) * sizeof *f);
        if (!f) {
            return SJ_ENOMEM;
        }
        w->forks = f;
    }
    w->forks[w->n_forks].seq = seq;
    snprintf(w->forks[w->n_forks].reason, sizeof w->forks[w->n_forks].reason, "%s", why);
    w->n_forks++;
    return s_fork_record(self, p, seq, raw->data, raw->len, why);
}

/* The head of stream (origin, epoch) for this batch, read from link_heads
 * the first time. NULL on a storage error (*rc). */
static s_head_t *
s_head_of(sj_downlink_t *self, s_heads_t *heads, const char *origin, const uint8_t *epoch, int *rc);

static int
s_heads_flush(sj_downlink_t *self, s_heads_t *heads)
{
    for (size_t i = 0; i < heads->n; i++) {
        s_head_t *h = &heads->h[i];
        if (!h->dirty) {
            continue;
        }
        sqlite3_stmt *st = self->st_head_put;
        sqlite3_bind_text(st, 1, h->origin, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, h->epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64) h->seq);
        sqlite3_bind_blob(st, 4, h->hash, SJ_HASH_BYTES, SQLITE_STATIC);
        int rc = sj_db_step_done(self->db, st, "link head");
        if (rc != SJ_OK) {
            return rc;
        }
        h->dirty = 0;
    }
    return SJ_OK;
}

static s_head_t *
s_head_of(sj_downlink_t *self, s_heads_t *heads, const char *origin, const uint8_t *epoch, int *rc)
{
    for (size_t i = 0; i < heads->n; i++) {
        if (strcmp(heads->h[i].origin, origin) == 0
            && memcmp(heads->h[i].epoch, epoch, SJ_EPOCH_BYTES) == 0) {
            return &heads->h[i];
        }
    }
    if (heads->n == HEADS_PER_BATCH) {
        if ((*rc = s_heads_flush(self, heads)) != SJ_OK) {
            return NULL;
        }
        heads->n = 0;
    }
    s_head_t *h = &heads->h[heads->n];
    memset(h, 0, sizeof *h);
    snprintf(h->origin, sizeof h->origin, "%s", origin);
    memcpy(h->epoch, epoch, SJ_EPOCH_BYTES);
    sqlite3_stmt *st = self->st_head_get;
    sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, epoch, SJ_EPOCH_BYTES, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_bytes(st, 1) == SJ_HASH_BYTES) {
        h->seq = (uint64_t) sqlite3_column_int64(st, 0);
        memcpy(h->hash, sqlite3_column_blob(st, 1), SJ_HASH_BYTES);
    } else if (step != SQLITE_ROW && step != SQLITE_DONE) {
        *rc = sj_db_err(self->db, step, "link head");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (*rc != SJ_OK) {
        return NULL;
    }
    heads->n++;
    return h;
}

/* The hash of event seq of a stream that entered before link_heads knew
 * it: the store's, else (a station's stream) what was quarantined there. */
static int
s_prev_hash(sj_downlink_t *self,
            const s_peer_t *p,
            const s_head_t *h,
            uint64_t seq,
            uint8_t out[SJ_HASH_BYTES])
{
    int rc = SJ_ENOTFOUND;
    if (self->ops.event_hash) {
        rc = self->ops.event_hash(self->ops_ctx, h->origin, h->epoch, seq, out);
    }
    if (rc == SJ_ENOTFOUND && s_is_station(p)) {
        int found = 0, same = 0;
        rc = s_quar_match(self, p, seq, NULL, 0, &found, &same, out);
        rc = rc == SJ_OK && !found ? SJ_ENOTFOUND : rc;
    }
    return rc;
}

/* A UTC time for messages. */
static void
s_time_text(int64_t ms, char out[32])
{
    time_t secs = (time_t) (ms / 1000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
        snprintf(out, 32, "%lld ms", (long long) ms);
    }
}

/* The checks of a child's own event at position pos of its stream (head):
 * SJ_OK, SJ_EPROTO with *code and reason (quarantine it), or a storage
 * error. Order: epoch, position held, chain, clock. */
static int
s_first_hop(sj_downlink_t *self,
            const s_peer_t *p,
            const sj_event_t *ev,
            const uint8_t *raw,
            size_t len,
            const s_head_t *h,
            uint64_t pos,
            int *code,
            char *reason,
            size_t rs)
{
    static const uint8_t zero[SJ_HASH_BYTES] = {0};
    char a[2 * SJ_EPOCH_BYTES + 1], b[2 * SJ_EPOCH_BYTES + 1];
    *code = SANJI__ERROR_CODE__ERROR_INVALID_EVENT;
    if (s_is_station(p) && memcmp(ev->epoch, p->epoch, SJ_EPOCH_BYTES) != 0) {
        sj_hex_format(ev->epoch, SJ_EPOCH_BYTES, a);
        sj_hex_format(p->epoch, SJ_EPOCH_BYTES, b);
        snprintf(reason, rs,
                 "epoch %.8s... differs from the epoch %.8s... of the link it came on (a station's"
                 " events carry its link epoch)",
                 a, b);
        return SJ_EPROTO;
    }
    if (h->seq >= pos) {
        /* Entered before (a hub's own events sent again under a new link
         * epoch): the same bytes, or a fork. */
        int same = 0,
            rc = self->ops.held ? self->ops.held(self->ops_ctx, ev, raw, len, &same) : SJ_ENOTFOUND;
        if (rc != SJ_OK && rc != SJ_ENOTFOUND) {
            return rc;
        }
        if (rc == SJ_OK && same) {
            return SJ_OK; /* the store sees a duplicate */
        }
        *code = SANJI__ERROR_CODE__ERROR_FORK;
        snprintf(reason, rs,
                 "fork: seq %" PRIu64 " of stream %s is already held here with other bytes, or"
                 " was refused before; not stored",
                 pos, h->origin);
        return SJ_EPROTO;
    }
    uint8_t prev[SJ_HASH_BYTES];
    if (pos == 1) {
        memcpy(prev, zero, SJ_HASH_BYTES);
    } else if (h->seq == pos - 1) {
        memcpy(prev, h->hash, SJ_HASH_BYTES);
    } else {
        int rc = s_prev_hash(self, p, h, pos - 1, prev);
        if (rc == SJ_ENOTFOUND) {
            snprintf(reason, rs,
                     "event %" PRIu64 " of this stream never came here, so this one's prev_hash"
                     " cannot be checked (events enter in order)",
                     pos - 1);
            return SJ_EPROTO;
        }
        if (rc != SJ_OK) {
            return rc;
        }
    }
    if (memcmp(ev->prev_hash, prev, SJ_HASH_BYTES) != 0) {
        if (pos == 1) {
            snprintf(reason, rs,
                     "prev_hash of seq 1 must be 32 zero bytes (the start of a hash"
                     " chain)");
        } else {
            snprintf(reason, rs,
                     "prev_hash is not the BLAKE2b-256 of the bytes of event %" PRIu64
                     " of this stream: the hash chain is broken",
                     pos - 1);
        }
        return SJ_EPROTO;
    }
    char at[32], now[32];
    if (ev->created_ms < SJ_LINK_MIN_CREATED_MS) {
        snprintf(reason, rs,
                 "clock: created_ms %" PRId64 " is before 2000-01-01: the sender's clock is wrong;"
                 " set it right and enter it again",
                 ev->created_ms);
        return SJ_EPROTO;
    }
    if (ev->created_ms > self->now_ms + SJ_LINK_AHEAD_MS) {
        s_time_text(ev->created_ms, at);
        s_time_text(self->now_ms, now);
        long long min = (long long) ((ev->created_ms - self->now_ms) / 60000);
        char ahead[48];
        if (min >= 48 * 60) {
            snprintf(ahead, sizeof ahead, "%lld days", min / (24 * 60));
        } else {
            snprintf(ahead, sizeof ahead, "%lld h %lld min", min / 60, min % 60);
        }
        snprintf(reason, rs,
                 "clock: made at %s, %s ahead of the receiver's clock (%s; %d min allowed):"
                 " the sender's clock is wrong; set it right and enter it again",
                 at, ahead, now, SJ_LINK_AHEAD_MS / 60000);
        return SJ_EPROTO;
    }
    if (ev->type == SJ_EVENT_REPORT && strcmp(ev->report.occurred_on, self->latest_day) > 0) {
        snprintf(reason, rs,
                 "occurred_on %s is in the future: the receiver's date is %s (%d day allowed for"
                 " time zones); check the date, or the clock of the machine that made it",
                 ev->report.occurred_on, self->today, SJ_LINK_AHEAD_DAYS);
        return SJ_EPROTO;
    }
    return SJ_OK;
}

/* Sealed personal data must be sealed to the county's key (seal_fp). */
static int
s_check_sealed(sj_downlink_t *self, const sj_event_t *ev, char *reason, size_t rs)
{
    char mine[SJ_KEY_FP_TEXT], theirs[SJ_KEY_FP_TEXT];
    sj_key_fp_format(self->seal_fp, mine);
    if (ev->has_sealed_to) {
        if (sodium_memcmp(ev->sealed_to, self->seal_fp, SJ_KEY_FP_BYTES) == 0) {
            return SJ_OK;
        }
        sj_key_fp_format(ev->sealed_to, theirs);
        snprintf(reason, rs,
                 "sealed to another key: the personal data is sealed to key %s, not to the"
                 " county's key %s; set the station's county key right and record the report"
                 " again",
                 theirs, mine);
        return SJ_EPROTO;
    }
    if (!self->seal_open || ev->sealed_len < crypto_box_SEALBYTES) {
        if (self->seal_open) {
            snprintf(reason, rs,
                     "sealed to another key: the personal data is too short to be"
                     " a sealed box");
            return SJ_EPROTO;
        }
        return SJ_OK; /* a hub cannot tell without the fingerprint */
    }
    /* An older station names no key: open it (the slow way, only for those). */
    uint8_t *plain = malloc(ev->sealed_len - crypto_box_SEALBYTES + 1);
    if (!plain) {
        return SJ_ENOMEM;
    }
    int bad =
        crypto_box_seal_open(plain, ev->sealed, ev->sealed_len, self->seal_pk, self->seal_sk) != 0;
    sodium_memzero(plain, ev->sealed_len - crypto_box_SEALBYTES);
    free(plain);
    if (bad) {
        snprintf(reason, rs,
                 "sealed to another key: the personal data does not open with the county's key"
                 " %s; set the station's county key right and record the report again",
                 mine);
        return SJ_EPROTO;
    }
    return SJ_OK;
}

/* Tells the store (for the parent above) that the event at pos of stream
 * h was quarantined here. */
static int
s_notice(sj_downlink_t *self,
         const s_head_t *h,
         uint64_t pos,
         int code,
         const char *reason,
         const uint8_t hash[SJ_HASH_BYTES])
{
    if (!self->ops.quarantined || code == SANJI__ERROR_CODE__ERROR_FORK) {
        return SJ_OK; /* a fork's position is held: nothing is missing */
    }
    sj_event_t *n = self->notice;
    memset(n, 0, sizeof *n);
    n->type = SJ_EVENT_QUARANTINED;
    snprintf(n->quarantined.origin, sizeof n->quarantined.origin, "%s", h->origin);
    memcpy(n->quarantined.epoch, h->epoch, SJ_EPOCH_BYTES);
    n->quarantined.origin_seq = pos;
    n->quarantined.code = (uint32_t) code;
    memcpy(n->quarantined.hash, hash, SJ_HASH_BYTES);
    snprintf(n->note, sizeof n->note, "%s", reason);
    return self->ops.quarantined(self->ops_ctx, n);
}

/* One new event of a batch at link seq seq: checked, then stored or
 * quarantined. *stored counts new events. SJ_EFORBIDDEN refuses the batch
 * (w's reply says why). */
static int
s_batch_event(sj_downlink_t *self,
              s_work_t *w,
              uint64_t seq,
              const ProtobufCBinaryData *raw,
              sj_event_t *ev,
              s_heads_t *heads,
              size_t *stored)
{
    s_peer_t *p = w->peer;
    char reason[256] = "";
    int code = SANJI__ERROR_CODE__ERROR_INVALID_EVENT;
    int vc = sj_event_decode(raw->data, raw->len, ev, reason, sizeof reason);
    int decoded = vc == SJ_OK;
    if (vc == SJ_OK) {
        vc = self->ops.check_event(self->ops_ctx, p->code, seq, ev, reason, sizeof reason);
    }
    if (vc == SJ_EFORBIDDEN) {
        sj_warn("refusing batch from %s: event %" PRIu64 ": %s", p->code, seq, reason);
        w->reply = SANJI__ENVELOPE__BODY_ERROR;
        w->err_code = SANJI__ERROR_CODE__ERROR_FORBIDDEN;
        snprintf(w->err_reason, sizeof w->err_reason, "event %" PRIu64 " refused: %s", seq, reason);
        return SJ_EFORBIDDEN;
    }
    /* A child's own event enters here: its stream's position is the link
     * seq for a station (whatever the event claims), else its own. */
    int rc = SJ_OK;
    s_head_t *h = NULL;
    uint64_t pos = 0;
    uint8_t hash[SJ_HASH_BYTES] = {0};
    if (s_is_station(p)) {
        h = s_head_of(self, heads, p->code, p->epoch, &rc);
        pos = seq;
    } else if (decoded && strcmp(ev->origin, p->code) == 0) {
        h = s_head_of(self, heads, ev->origin, ev->epoch, &rc);
        pos = ev->origin_seq;
    }
    if (rc != SJ_OK) {
        return rc;
    }
    if (h) {
        sj_event_hash(raw->data, raw->len, hash);
    }
    if (vc == SJ_OK && h) {
        vc = s_first_hop(self, p, ev, raw->data, raw->len, h, pos, &code, reason, sizeof reason);
    }
    if (vc == SJ_OK && self->seal_set && ev->type == SJ_EVENT_REPORT && ev->sealed_len) {
        vc = s_check_sealed(self, ev, reason, sizeof reason);
    }
    if (vc != SJ_OK && vc != SJ_EPROTO && vc != SJ_EINVAL) {
        return vc; /* storage trouble: nothing of the group is acked */
    }
    sj_stored_t res = SJ_STORED_NEW;
    if (vc == SJ_OK) {
        rc = self->ops.store_event(self->ops_ctx, p->code, ev, raw->data, raw->len, &res);
        if (rc == SJ_OK && res == SJ_STORED_DUPLICATE && self->ops.held) {
            int same = 0;
            rc = self->ops.held(self->ops_ctx, ev, raw->data, raw->len, &same);
            if (rc == SJ_OK && !same) {
                code = SANJI__ERROR_CODE__ERROR_FORK;
                snprintf(reason, sizeof reason,
                         "fork: event %s/%" PRIu64 " is already held here with other bytes;"
                         " not stored",
                         ev->origin, ev->origin_seq);
                rc = s_fork_record(self, p, seq, raw->data, raw->len, reason);
                vc = SJ_EPROTO;
            }
            rc = rc == SJ_ENOTFOUND ? SJ_OK : rc;
        } else if (rc == SJ_OK && res == SJ_STORED_ID_CONFLICT) {
            code = SANJI__ERROR_CODE__ERROR_DUPLICATE_ID;
            snprintf(reason, sizeof reason,
                     "event id already stored under another origin or sequence");
            vc = SJ_EPROTO;
        } else if (rc == SJ_OK && res == SJ_STORED_NEW) {
            (*stored)++;
        }
    } else {
        if (code == SANJI__ERROR_CODE__ERROR_FORK) {
            rc = s_fork_record(self, p, seq, raw->data, raw->len, reason);
        }
    }
    if (rc == SJ_OK && vc != SJ_OK) {
        rc = s_quarantine(self, p, seq, code, reason, raw->data, raw->len);
        if (rc == SJ_OK && h) {
            rc = s_notice(self, h, pos, code, reason, hash);
        }
    }
    /* The head moves with every event that enters at a new position,
     * stored or refused: the next one chains to these bytes. */
    if (rc == SJ_OK && h && pos > h->seq) {
        h->seq = pos;
        memcpy(h->hash, hash, SJ_HASH_BYTES);
        h->dirty = 1;
    }
    return rc;
}

/* Handles one batch inside the group transaction, under its own savepoint so
 * that a refused batch leaves nothing behind. Events at or below the mark
 * (a resend after a lost ack) are compared with what entered there. */
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
    if (a > next) {
        w->reply = SANJI__ENVELOPE__BODY_RESEND;
        w->resend_from = next;
        return SJ_OK;
    }
    sj_event_t *ev = malloc(sizeof *ev);
    if (!ev) {
        return SJ_ENOMEM;
    }
    for (uint64_t seq = a; seq <= last && seq < next && rc == SJ_OK; seq++) {
        rc = s_resent(self, w, seq, &b->events[seq - a], ev);
    }
    if (rc != SJ_OK || last < next) {
        free(ev);
        w->reply = SANJI__ENVELOPE__BODY_ACK;
        w->acked = acked;
        return rc;
    }
    rc = sj_db_exec(self->db, "SAVEPOINT batch");
    if (rc != SJ_OK) {
        free(ev);
        return rc;
    }
    s_heads_t heads;
    heads.n = 0;
    size_t stored = 0;
    for (uint64_t seq = next; seq <= last && rc == SJ_OK; seq++) {
        rc = s_batch_event(self, w, seq, &b->events[seq - a], ev, &heads, &stored);
    }
    free(ev);
    if (rc == SJ_OK) {
        rc = s_heads_flush(self, &heads);
    }
    if (self->ops.batch_end) {
        int bc = self->ops.batch_end(self->ops_ctx, rc == SJ_OK);
        rc = rc == SJ_OK ? bc : rc;
    }
    if (rc == SJ_OK) {
        sqlite3_stmt *st = self->st_link_mark;
        if (sqlite3_bind_int64(st, 1, (sqlite3_int64) last) != SQLITE_OK
            || sqlite3_bind_int64(st, 2, self->now_ms) != SQLITE_OK
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

/* Inside the transaction: the refused downward items a child reports (its
 * own, or, from a hub, its stations'). */
static int
s_down_refusals(sj_downlink_t *self, s_work_t *w, Sanji__DownRefusal *const *rs, size_t n)
{
    sj_down_t *down = s_down(self);
    if (!down) {
        return SJ_OK;
    }
    for (size_t i = 0; i < n && i < SJ_DOWN_REFUSALS_SENT; i++) {
        sj_down_refusal_t r;
        memset(&r, 0, sizeof r);
        r.seq = rs[i]->seq;
        if (sj_wire_text(rs[i]->child, r.child, sizeof r.child) != SJ_OK
            || sj_wire_text(rs[i]->reason, r.reason, sizeof r.reason) != SJ_OK) {
            continue; /* not text: nothing to show */
        }
        if (rs[i]->event_id.len == SJ_ID_BYTES) {
            memcpy(r.event_id, rs[i]->event_id.data, SJ_ID_BYTES);
            r.has_id = 1;
        }
        int rc = sj_down_refusal_record(down, w->peer->code, &r);
        if (rc == SJ_EINVAL) {
            sj_warn("child %s reported a down refusal of %s, not in its subtree: ignored",
                    w->peer->code, r.child);
            continue;
        }
        if (rc != SJ_OK) {
            return rc;
        }
    }
    return SJ_OK;
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
    if (rc == SJ_OK) {
        rc = s_down_refusals(self, w, h->down_refused, h->n_down_refused);
    }
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
    const Sanji__DownAck *a = w->env->down_ack;
    int rc = s_down_refusals(self, w, a->refused, a->n_refused);
    return rc == SJ_OK ? s_down_cursor(self, w, a->applied_through, 0) : rc;
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

/* Appends one rejection (reason copied into texts, 256 bytes each). */
static int
s_rej_add(Sanji__Rejection **rej,
          char **texts,
          size_t *n,
          size_t *cap,
          uint64_t seq,
          uint32_t code,
          const char *reason)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        Sanji__Rejection *r2 = realloc(*rej, c * sizeof **rej);
        if (!r2) {
            return SJ_ENOMEM;
        }
        *rej = r2;
        char *t2 = realloc(*texts, c * 256);
        if (!t2) {
            return SJ_ENOMEM;
        }
        *texts = t2;
        *cap = c;
    }
    sanji__rejection__init(&(*rej)[*n]);
    (*rej)[*n].seq = seq;
    (*rej)[*n].code = code;
    snprintf(*texts + *n * 256, 256, "%s", reason ? reason : "");
    (*n)++;
    return SJ_OK;
}

/* Builds the rejection list of [first..last] from the quarantine table, so a
 * re-ack after a lost ack carries the same rejections, and adds the forks
 * of this resend. An ack that cannot carry all of them is not sent (the
 * child times out and sends the batch again, which is re-acked as a
 * duplicate): SJ_EDB or SJ_ENOMEM, logged. */
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
            rc = s_rej_add(&rej, &texts, &n, &cap, (uint64_t) sqlite3_column_int64(st, 0),
                           (uint32_t) sqlite3_column_int(st, 1),
                           (const char *) sqlite3_column_text(st, 2));
            if (rc != SJ_OK) {
                sj_error("out of memory for the rejections of an ack to %s", w->peer->code);
                break;
            }
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
    /* forks of this resend: rejected, never acked as committed */
    for (size_t f = 0; f < w->n_forks; f++) {
        rc = s_rej_add(&rej, &texts, &n, &cap, w->forks[f].seq, SANJI__ERROR_CODE__ERROR_FORK,
                       w->forks[f].reason);
        if (rc != SJ_OK) {
            sj_error("out of memory for the rejections of an ack to %s", w->peer->code);
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
        wel.down_keep = w->peer->down_keeps && s_down(self) != NULL;
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
    self->now_ms = sj_now_ms();
    sj_date_today(self->today);
    sj_date_local_offset(SJ_LINK_AHEAD_DAYS, self->latest_day);
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
        const char *uid = NULL;
        if (self->auth) {
            /* Identity comes only from the key (ZAP User-Id), checked on every
             * message so that a revoked key stops at once: ZAP runs only at
             * the handshake (docs/PROTOCOL.md "Identity"). */
            uid = zmq_msg_gets(&data, "User-Id");
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
        snprintf(p->uid, sizeof p->uid, "%s", uid ? uid : "");
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
                sj_warn("bad frame from child %s: %s", p->code[0] ? p->code : "(no hello)", reason);
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
        if (n_new) {
            sj_crash_point("after-store-before-ack");
        }
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
        free(work[i].forks);
    }
    if (committed && self->ops.committed) {
        self->ops.committed(self->ops_ctx, n_new);
    }
    return rc;
}
