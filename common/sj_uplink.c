/* sj_uplink: the child side of the link protocol (state diagram in
 * sj_link.h). Go-back-N over the store: what is "sent" is only what the
 * parent acknowledged after its COMMIT; everything else is read again from
 * the database when needed. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "sj_crash.h"
#include "sj_ids.h"
#include "sj_link.h"
#include "sj_log.h"

#define HELLO_RETRY_MS   2000
#define BACKOFF_MAX_MS   30000
#define REFUSED_RETRY_MS 2000  /* the first pause after a refusal, doubling to BACKOFF_MAX_MS */
#define SAY_AGAIN_MS     60000 /* a condition that lasts is logged again this often */
#define UNREACHED_MS     5000  /* no secure handshake this long: say why */

struct sj_uplink {
    void *zctx;
    void *sock;
    void *mon;        /* PAIR reading the socket monitor (handshake failures) */
    unsigned mon_gen; /* sockets made so far (names their monitors) */
    int secure;
    sj_keypair_t kp;
    uint8_t server_pk[SJ_KEY_BYTES];
    sj_uplink_cfg_t cfg;
    char endpoint[512];
    char code[SJ_CODE_MAX + 1];
    uint8_t epoch[SJ_EPOCH_BYTES];
    sj_uplink_ops_t ops;
    void *ops_ctx;
    sj_up_state_t state;
    uint64_t acked;        /* parent's committed mark */
    uint64_t e2e;          /* county's committed mark (receipt) last recorded */
    uint64_t next;         /* next seq to send */
    uint64_t head;         /* highest produced */
    int in_flight;         /* batches sent since the last ack progress */
    int64_t hello_mono;    /* when HELLO was sent (0: not yet) */
    int64_t progress_mono; /* last ack progress or send start */
    int64_t rx_mono;       /* last frame from the parent */
    int64_t tx_mono;       /* last frame to the parent */
    int64_t retry_mono;    /* not before this, after an error */
    int timeouts;
    int backoff_ms;
    int refused_ms;         /* the next pause after a refusal */
    char parent_name[16];   /* "hub", "county", "parent": in messages */
    int64_t sock_mono;      /* when the socket was made */
    int ever_tcp;           /* this socket had a TCP connection */
    int hs_ok;              /* ... and completed a secure handshake */
    int hs_failed;          /* ... or failed one (not a refusal of the key) */
    char said[1024];        /* the lasting condition last logged (s_say) */
    int64_t said_mono;      /* ... and when */
    uint64_t gap_logged;    /* seq of the last gap in the store logged (0: none) */
    uint64_t down_cursor;   /* downward stream applied through (the store's cursor) */
    uint64_t down_head;     /* the parent's downward head for this node, as last heard */
    char down_refused[300]; /* the last refusal of a downward batch logged */
    char last_error[256];
    int rx_rc; /* the first local failure of this sj_uplink_on_readable */
};

static void s_read_down_cursor(sj_uplink_t *self);

/* Keeps the first local failure (storage, memory) of the frames being
 * handled, for sj_uplink_on_readable to return. */
static void
s_failed(sj_uplink_t *self, int rc)
{
    if (self->rx_rc == SJ_OK) {
        self->rx_rc = rc;
    }
}
static void s_send_heartbeat(sj_uplink_t *self);

/* Logs a lasting condition (a refusal, a parent out of reach) when it
 * starts and again every SAY_AGAIN_MS while it lasts, not on every retry. */
static void
s_say(sj_uplink_t *self, sj_log_level_t level, const char *text)
{
    int64_t now = sj_mono_ms();
    if (strcmp(self->said, text) != 0 || now - self->said_mono >= SAY_AGAIN_MS) {
        sj_log_write(level, "%s", text);
        snprintf(self->said, sizeof self->said, "%s", text);
        self->said_mono = now;
    }
}

/* The condition is over: the next one is logged at once. */
static void
s_said_over(sj_uplink_t *self)
{
    if (self->said[0]) {
        sj_notice("link to %s: the %s answers again", self->endpoint, self->parent_name);
        self->said[0] = '\0';
    }
}

/* The pause after a refusal: REFUSED_RETRY_MS, doubling to BACKOFF_MAX_MS. */
static void
s_refused(sj_uplink_t *self)
{
    self->state = SJ_UP_REFUSED;
    self->retry_mono = sj_mono_ms() + self->refused_ms;
    self->refused_ms =
        self->refused_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : self->refused_ms * 2;
}

/* A batch being filled by the store's fetch callback. */
typedef struct {
    ProtobufCBinaryData *events;
    size_t n;
    size_t cap;
    size_t bytes;
    uint64_t first;
    int full;         /* the store offered more than cap events */
    uint64_t missing; /* the seq the store skipped (0: contiguous so far) */
} s_fill_t;

/* Takes one event from the store. A full batch or a gap stops the store's
 * fetch (non-SJ_OK); s_send_batch tells the two apart by full/missing. */
static int
s_fill_add(void *ctx, uint64_t seq, const void *raw, size_t len)
{
    s_fill_t *f = ctx;
    if (f->missing) {
        return SJ_EINVAL;
    }
    if (seq != f->first + f->n) {
        f->missing = f->first + f->n;
        return SJ_EINVAL;
    }
    if (f->n == f->cap) {
        f->full = 1;
        return SJ_EINVAL;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) {
        return SJ_ENOMEM;
    }
    memcpy(copy, raw, len);
    f->events[f->n].data = copy;
    f->events[f->n].len = len;
    f->n++;
    f->bytes += len;
    return SJ_OK;
}

static void
s_fill_clear(s_fill_t *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->events[i].data);
    }
    free(f->events);
}

/* Watches the handshake so that a refused key or a wrong server key is
 * reported in words instead of a silent stall (docs/PROTOCOL.md, pitfall P7). */
static void
s_up_monitor(sj_uplink_t *self)
{
    /* A new name for each socket: the last one's monitor may still hold its
     * name (zmq_close is asynchronous), and a monitor that cannot bind is
     * silently missing. */
    char addr[80];
    snprintf(addr, sizeof addr, "inproc://sj-uplink-mon-%p-%u", (void *) self, ++self->mon_gen);
    if (zmq_socket_monitor(self->sock, addr,
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                               | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                               | ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_CONNECTED)
        != 0) {
        sj_warn("link to %s: cannot watch the connection (%s): refusals and failures will not"
                " be explained",
                self->endpoint, zmq_strerror(zmq_errno()));
        return;
    }
    self->mon = zmq_socket(self->zctx, ZMQ_PAIR);
    int zero = 0;
    if (self->mon) {
        /* Without the monitor, handshake failures are only not named. */
        if (zmq_setsockopt(self->mon, ZMQ_LINGER, &zero, sizeof zero) != 0
            || zmq_connect(self->mon, addr) != 0) {
            sj_warn("uplink: no handshake monitor: %s", zmq_strerror(zmq_errno()));
            zmq_close(self->mon);
            self->mon = NULL;
        }
    }
}

static void
s_up_read_monitor(sj_uplink_t *self)
{
    while (self->mon) {
        zmq_msg_t ev, ep;
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, self->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            return;
        }
        uint16_t event = 0;
        uint32_t value = 0; /* for a protocol failure: ZMQ_PROTOCOL_ERROR_* */
        if (zmq_msg_size(&ev) >= 2) {
            memcpy(&event, zmq_msg_data(&ev), 2);
        }
        if (zmq_msg_size(&ev) >= 6) {
            memcpy(&value, (const char *) zmq_msg_data(&ev) + 2, 4);
        }
        zmq_msg_close(&ev);
        zmq_msg_init(&ep);
        if (zmq_msg_recv(&ep, self->mon, 0) >= 0) {
            zmq_msg_close(&ep);
        }
        if (event == ZMQ_EVENT_CONNECTED) {
            self->ever_tcp = 1;
            continue;
        }
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            /* A (re)connection is up: say HELLO now rather than after the
             * backoff. The parent knows the new connection only after a
             * Hello, and a parent that was away for long is otherwise found
             * up to one backoff period late. */
            self->hs_ok = 1;
            if (self->state != SJ_UP_REFUSED) {
                self->state = SJ_UP_CONNECTING;
                self->retry_mono = 0;
                self->in_flight = 0;
            }
            continue;
        }
        char text[1024];
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            /* The parent's ZAP handler said no: as good as an Error
             * FORBIDDEN. libzmq 4.3.4 never tries this endpoint again on
             * this socket: the pause ends with a fresh one (tick). */
            snprintf(self->last_error, sizeof self->last_error,
                     "the %s refused this node's key (not enrolled, or revoked)",
                     self->parent_name);
            snprintf(text, sizeof text,
                     "link to %s: %s; asking again every %d s or less while it lasts",
                     self->endpoint, self->last_error, BACKOFF_MAX_MS / 1000);
            s_say(self, SJ_LOG_WARN, text);
            s_refused(self);
            continue;
        }
        self->hs_failed = 1;
        snprintf(self->last_error, sizeof self->last_error,
                 "secure handshake with the %s failed (wrong %s key, or it is not using CURVE)",
                 self->parent_name, self->parent_name);
        snprintf(text, sizeof text,
                 "link to %s: %s: is this the %s's port? Another node (with another key) may be"
                 " listening there (libzmq handshake event 0x%x, error 0x%x)",
                 self->endpoint, self->last_error, self->parent_name, (unsigned) event,
                 (unsigned) value);
        s_say(self, SJ_LOG_WARN, text);
    }
}

/* No secure handshake for UNREACHED_MS on this socket (and no refusal):
 * says why as far as the socket tells, once a minute while it lasts. */
static void
s_up_watch(sj_uplink_t *self, int64_t now)
{
    if (!self->mon || self->hs_ok || self->hs_failed || self->state == SJ_UP_REFUSED
        || now - self->sock_mono < UNREACHED_MS) {
        return;
    }
    if (!self->ever_tcp) {
        snprintf(self->last_error, sizeof self->last_error,
                 "cannot reach the %s: nothing accepts connections there (is the %s running, and"
                 " is this its address and port?)",
                 self->parent_name, self->parent_name);
    } else {
        snprintf(self->last_error, sizeof self->last_error,
                 "something accepts connections there but no secure handshake completes: is"
                 " this the %s's port?",
                 self->parent_name);
    }
    char text[1024];
    snprintf(text, sizeof text, "link to %s: %s; still trying", self->endpoint, self->last_error);
    s_say(self, SJ_LOG_WARN, text);
}

static void
s_up_close(sj_uplink_t *self)
{
    if (self->sock) {
        zmq_socket_monitor(self->sock, NULL, 0);
        zmq_close(self->sock);
        self->sock = NULL;
    }
    if (self->mon) {
        zmq_close(self->mon);
        self->mon = NULL;
    }
}

static int
s_up_socket(sj_uplink_t *self)
{
    s_up_close(self);
    self->sock = zmq_socket(self->zctx, ZMQ_DEALER);
    if (!self->sock) {
        sj_error("uplink: cannot create socket: %s", zmq_strerror(zmq_errno()));
        return SJ_EIO;
    }
    if (sj_link_sockopts(self->sock, 0) != SJ_OK) {
        return SJ_EIO;
    }
    if (self->secure && sj_auth_client_socket(self->sock, &self->kp, self->server_pk) != SJ_OK) {
        return SJ_EINVAL;
    }
    s_up_monitor(self);
    if (zmq_connect(self->sock, self->endpoint) != 0) {
        sj_error("uplink: cannot connect to %s: %s", self->endpoint, zmq_strerror(zmq_errno()));
        return SJ_EINVAL;
    }
    self->state = SJ_UP_CONNECTING;
    self->hello_mono = 0;
    self->in_flight = 0;
    self->sock_mono = sj_mono_ms();
    self->ever_tcp = self->hs_ok = self->hs_failed = 0;
    return SJ_OK;
}

sj_uplink_t *
sj_uplink_new(void *zctx, const sj_uplink_cfg_t *cfg, const sj_uplink_ops_t *ops, void *ops_ctx)
{
    sj_uplink_t *self = calloc(1, sizeof *self);
    if (!self) {
        return NULL;
    }
    self->zctx = zctx;
    self->cfg = *cfg;
    snprintf(self->endpoint, sizeof self->endpoint, "%s", cfg->endpoint);
    snprintf(self->code, sizeof self->code, "%s", cfg->code);
    memcpy(self->epoch, cfg->epoch, SJ_EPOCH_BYTES);
    self->cfg.endpoint = self->endpoint;
    self->cfg.code = self->code;
    self->cfg.epoch = self->epoch;
    if (self->cfg.window <= 0) {
        self->cfg.window = 8;
    }
    if (self->cfg.batch_events <= 0 || self->cfg.batch_events > SJ_WIRE_MAX_BATCH) {
        self->cfg.batch_events = 500;
    }
    if (self->cfg.ack_timeout_ms <= 0) {
        self->cfg.ack_timeout_ms = 10000;
    }
    if (self->cfg.heartbeat_ms <= 0) {
        self->cfg.heartbeat_ms = 5000;
    }
    self->ops = *ops;
    self->ops_ctx = ops_ctx;
    self->backoff_ms = HELLO_RETRY_MS;
    self->refused_ms = REFUSED_RETRY_MS;
    snprintf(self->parent_name, sizeof self->parent_name, "%s",
             cfg->parent_name ? cfg->parent_name : "parent");
    self->cfg.parent_name = self->parent_name;
    s_read_down_cursor(self);
    if (cfg->kp && cfg->server_pk) {
        self->secure = 1;
        self->kp = *cfg->kp;
        memcpy(self->server_pk, cfg->server_pk, SJ_KEY_BYTES);
    } else {
        sj_warn("INSECURE: the link to %s is neither authenticated nor encrypted", cfg->endpoint);
    }
    self->cfg.kp = NULL;
    self->cfg.server_pk = NULL;
    if (s_up_socket(self) != SJ_OK) {
        sj_uplink_destroy(&self);
        return NULL;
    }
    return self;
}

void
sj_uplink_destroy(sj_uplink_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    s_up_close(*self_p);
    sodium_memzero(&(*self_p)->kp, sizeof(*self_p)->kp);
    free(*self_p);
    *self_p = NULL;
}

void *
sj_uplink_socket(sj_uplink_t *self)
{
    return self->sock;
}

sj_up_state_t
sj_uplink_state(const sj_uplink_t *self)
{
    return self->state;
}

const uint8_t *
sj_uplink_epoch(const sj_uplink_t *self)
{
    return self->epoch;
}

uint64_t
sj_uplink_acked(const sj_uplink_t *self)
{
    return self->acked;
}

uint64_t
sj_uplink_e2e(const sj_uplink_t *self)
{
    return self->e2e;
}

uint64_t
sj_uplink_head(const sj_uplink_t *self)
{
    return self->head;
}

uint64_t
sj_uplink_down_cursor(const sj_uplink_t *self)
{
    return self->down_cursor;
}

uint64_t
sj_uplink_down_head(const sj_uplink_t *self)
{
    return self->down_head;
}

/* Reads the store's cursor (another process may have applied items). */
static void
s_read_down_cursor(sj_uplink_t *self)
{
    uint64_t c = 0;
    if (self->ops.down_cursor && self->ops.down_cursor(self->ops_ctx, &c) == SJ_OK) {
        self->down_cursor = c;
    }
}

const char *
sj_uplink_last_error(const sj_uplink_t *self)
{
    return self->last_error;
}

/* Reconnects with a fresh socket after a capped, jittered backoff. */
static void
s_up_reset(sj_uplink_t *self, const char *why)
{
    int64_t now = sj_mono_ms();
    int jitter = self->backoff_ms / 5;
    int delay = self->backoff_ms
                + (jitter ? (int) (randombytes_uniform((uint32_t) (jitter * 2))) - jitter : 0);
    char text[1024];
    snprintf(text, sizeof text, "link to %s: %s; reconnecting (every %d s or less)", self->endpoint,
             why, BACKOFF_MAX_MS / 1000);
    s_say(self, SJ_LOG_NOTICE, text);
    sj_debug("link to %s: reconnecting in %d ms", self->endpoint, delay);
    self->retry_mono = now + delay;
    self->backoff_ms =
        self->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : self->backoff_ms * 2;
    self->timeouts = 0;
    if (s_up_socket(self) != SJ_OK) {
        self->state = SJ_UP_CONNECTING;
    }
}

static int
s_send(sj_uplink_t *self, Sanji__Envelope *env)
{
    int rc = sj_wire_send(self->sock, NULL, 0, env);
    if (rc == SJ_OK) {
        self->tx_mono = sj_mono_ms();
    }
    return rc;
}

static void
s_send_hello(sj_uplink_t *self)
{
    Sanji__Hello h = SANJI__HELLO__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    h.epoch.data = self->epoch;
    h.epoch.len = SJ_EPOCH_BYTES;
    h.code = sj_wire_bytes(self->code);
    h.last_seq = self->head;
    s_read_down_cursor(self);
    h.down_cursor = self->down_cursor;
    h.sw_version = sj_wire_bytes("sanji 0.1.0");
    h.down_keeps = self->ops.down_apply != NULL;
    uint8_t counted[SJ_EPOCH_BYTES];
    if (self->ops.down_counted && self->ops.down_counted(self->ops_ctx, counted) == SJ_OK) {
        h.down_parent.data = counted;
        h.down_parent.len = SJ_EPOCH_BYTES;
    }
    env.body_case = SANJI__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    if (s_send(self, &env) == SJ_OK) {
        self->state = SJ_UP_WAITING;
        self->hello_mono = sj_mono_ms();
    }
}

/* Passes a rising end-to-end receipt to the store (clamped to what the
 * parent acknowledged: nothing is at the county that is not at the hub). */
static void
s_receipt(sj_uplink_t *self, uint64_t e2e)
{
    if (e2e > self->acked) {
        e2e = self->acked;
    }
    if (!self->ops.receipt || e2e <= self->e2e) {
        return;
    }
    int rc = self->ops.receipt(self->ops_ctx, e2e);
    if (rc == SJ_OK) {
        self->e2e = e2e;
    } else {
        sj_error("cannot record the county's receipt through %llu", (unsigned long long) e2e);
        s_failed(self, rc);
    }
}

static int
s_record_ack(sj_uplink_t *self, uint64_t acked, Sanji__Rejection **rej, size_t n_rej)
{
    int rc = self->ops.acked(self->ops_ctx, acked, rej, n_rej);
    if (rc != SJ_OK) {
        sj_error("cannot record the parent's ack: %s", sj_strerror(rc));
        s_failed(self, rc);
    }
    return rc;
}

/* The store diverged from the parent (ops.diverged moved its unconfirmed
 * events to new_epoch): speak for the new epoch from a fresh socket, so that
 * no reply meant for the old one (a second Welcome) can reach the new
 * stream, and say HELLO again at once. */
static void
s_switch_epoch(sj_uplink_t *self, const uint8_t new_epoch[SJ_EPOCH_BYTES])
{
    char hex[2 * SJ_EPOCH_BYTES + 1];
    memcpy(self->epoch, new_epoch, SJ_EPOCH_BYTES);
    for (size_t i = 0; i < SJ_EPOCH_BYTES; i++) {
        snprintf(hex + 2 * i, 3, "%02x", self->epoch[i]);
    }
    sj_info("link to %s: starting over under epoch %s", self->endpoint, hex);
    self->acked = 0;
    self->e2e = 0;
    self->next = 1;
    self->timeouts = 0;
    self->retry_mono = 0;
    self->gap_logged = 0;
    if (s_up_socket(self) != SJ_OK) {
        s_up_reset(self, "cannot reopen the link after the epoch change");
    }
}

static void
s_on_welcome(sj_uplink_t *self, const Sanji__Welcome *w)
{
    /* On every Welcome, also one below the mark known here: a store that
     * pruned what the parent has lost (a parent restored from a backup)
     * must move on too (sj_link.h). The check is one meta read. */
    if (self->ops.diverged) {
        int moved = 0;
        uint8_t epoch[SJ_EPOCH_BYTES];
        int rc = self->ops.diverged(self->ops_ctx, w->acked_through, &moved, epoch);
        if (rc != SJ_OK) {
            /* Nothing recorded: the Welcome times out and HELLO is said again. */
            sj_error("cannot check this store against the parent's mark %llu: %s",
                     (unsigned long long) w->acked_through, sj_strerror(rc));
            s_failed(self, rc);
            return;
        }
        if (moved) {
            s_switch_epoch(self, epoch);
            return;
        }
    }
    if (w->acked_through < self->acked) {
        sj_warn("parent %s has committed only through %llu of %llu it acked before"
                " (restored from a backup?); resending from there",
                self->endpoint, (unsigned long long) w->acked_through,
                (unsigned long long) self->acked);
    }
    if (w->acked_through > self->head) {
        /* Without ops.diverged this store cannot move to a new epoch. */
        sj_warn("parent %s says it holds %llu events of this stream, more than this store made"
                " (%llu)",
                self->endpoint, (unsigned long long) w->acked_through,
                (unsigned long long) self->head);
    }
    self->acked = w->acked_through;
    if (s_record_ack(self, self->acked, NULL, 0) != SJ_OK) {
        return;
    }
    self->next = self->acked + 1;
    self->state = SJ_UP_READY;
    self->in_flight = 0;
    self->timeouts = 0;
    self->backoff_ms = HELLO_RETRY_MS;
    self->refused_ms = REFUSED_RETRY_MS;
    self->progress_mono = sj_mono_ms();
    self->last_error[0] = '\0';
    s_said_over(self);
    sj_info("link to %s ready; parent holds through seq %llu", self->endpoint,
            (unsigned long long) self->acked);
    self->down_head = w->down_head;
    s_receipt(self, w->e2e_through);
    int reset = 0;
    if (self->ops.down_parent && w->store_epoch.len == SJ_EPOCH_BYTES) {
        int rc = self->ops.down_parent(self->ops_ctx, w->store_epoch.data, w->down_keep, &reset);
        if (rc != SJ_OK) {
            sj_error("cannot record the parent's store epoch: %s", sj_strerror(rc));
            s_failed(self, rc);
            reset = 0;
        }
    }
    if (reset) {
        /* The Hello carried a cursor into the old store's stream: ask for
         * the new store's stream from its start. */
        sj_notice("parent %s has a new store; receiving its downward stream from the start"
                  " (cursor was %llu)",
                  self->endpoint, (unsigned long long) self->down_cursor);
        self->down_cursor = 0;
        s_send_heartbeat(self);
    }
}

/* Acks read in one go are recorded once (the store's record is a
 * synchronous transaction: eight acks of a window, eight fsyncs, while the
 * parent waits for the next batches). An ack with rejections is recorded on
 * its own, after what is pending. */
typedef struct {
    int n;          /* acks gathered */
    int progressed; /* of them, how many raised the mark (batches done) */
    uint64_t mark, e2e;
} s_ack_pend_t;

/* Checks an ack against the stream; 1 with *mark (the new acked mark) when it
 * counts, 0 when it is ignored. known: the mark so far, pending included. */
static int
s_ack_check(sj_uplink_t *self, const Sanji__Ack *a, uint64_t known, uint64_t *mark)
{
    if (memcmp(a->epoch.data, self->epoch, SJ_EPOCH_BYTES) != 0) {
        return 0; /* stale: another epoch */
    }
    if (a->acked_through > self->head) {
        sj_warn("ignoring ack beyond what was produced (%llu > %llu)",
                (unsigned long long) a->acked_through, (unsigned long long) self->head);
        return 0;
    }
    if (a->acked_through < known && a->n_rejected == 0) {
        return 0; /* stale */
    }
    *mark = a->acked_through > known ? a->acked_through : known;
    return 1;
}

static void
s_ack_apply(sj_uplink_t *self,
            uint64_t mark,
            Sanji__Rejection **rej,
            size_t n_rej,
            int progressed,
            uint64_t e2e)
{
    if (s_record_ack(self, mark, rej, n_rej) != SJ_OK) {
        return;
    }
    if (mark > self->acked) {
        self->acked = mark;
        self->progress_mono = sj_mono_ms();
        self->timeouts = 0;
        self->in_flight = self->in_flight > progressed ? self->in_flight - progressed : 0;
    }
    if (self->next <= self->acked) {
        self->next = self->acked + 1;
    }
    if (self->next == self->acked + 1) {
        self->in_flight = 0;
    }
    s_receipt(self, e2e);
}

static void
s_ack_flush(sj_uplink_t *self, s_ack_pend_t *p)
{
    if (p->n) {
        s_ack_apply(self, p->mark, NULL, 0, p->progressed, p->e2e);
    }
    memset(p, 0, sizeof *p);
}

static void
s_on_ack(sj_uplink_t *self, const Sanji__Ack *a, s_ack_pend_t *p)
{
    uint64_t known = p->n && p->mark > self->acked ? p->mark : self->acked, mark = 0;
    if (!s_ack_check(self, a, known, &mark)) {
        return;
    }
    /* once per ack, gathered or not: it is here and not yet recorded */
    sj_crash_point("after-ack-before-record");
    if (a->n_rejected) {
        s_ack_flush(self, p);
        s_ack_apply(self, mark, a->rejected, a->n_rejected, mark > self->acked, a->e2e_through);
        return;
    }
    p->progressed += mark > known;
    p->mark = mark;
    p->e2e = a->e2e_through > p->e2e ? a->e2e_through : p->e2e;
    p->n++;
}

/* The latest refused downward items, for a DownAck or a Heartbeat. */
typedef struct {
    sj_down_refusal_t r[SJ_DOWN_REFUSALS_SENT];
    Sanji__DownRefusal pb[SJ_DOWN_REFUSALS_SENT];
    Sanji__DownRefusal *ptr[SJ_DOWN_REFUSALS_SENT];
    size_t n;
} s_refusals_t;

static void
s_refusals_fill(sj_uplink_t *self, s_refusals_t *f)
{
    f->n = 0;
    if (!self->ops.down_refusals
        || self->ops.down_refusals(self->ops_ctx, f->r, SJ_DOWN_REFUSALS_SENT, &f->n) != SJ_OK) {
        f->n = 0;
        return;
    }
    for (size_t i = 0; i < f->n; i++) {
        Sanji__DownRefusal init = SANJI__DOWN_REFUSAL__INIT;
        f->pb[i] = init;
        f->pb[i].seq = f->r[i].seq;
        f->pb[i].reason = sj_wire_bytes(f->r[i].reason);
        f->pb[i].child = sj_wire_bytes(f->r[i].child);
        if (f->r[i].has_id) {
            f->pb[i].event_id.data = f->r[i].event_id;
            f->pb[i].event_id.len = SJ_ID_BYTES;
        }
        f->ptr[i] = &f->pb[i];
    }
}

/* A downward batch: applied with the cursor in one transaction by the
 * store, then acknowledged. Refused batches change nothing and are logged
 * once; the parent sends them again on the next cursor it hears. */
static void
s_on_down(sj_uplink_t *self, const Sanji__DownBatch *b)
{
    if (!self->ops.down_apply) {
        return;
    }
    uint64_t last = b->first_seq + b->n_items - 1;
    if (last > self->down_head) {
        self->down_head = last;
    }
    if (last <= self->down_cursor) {
        return; /* already applied (a resend) */
    }
    if (b->first_seq > self->down_cursor + 1 && b->gone_before && self->ops.down_skip) {
        /* The parent holds nothing between the cursor and first_seq (pruned;
         * it sent the current state of this node's cases after them). */
        int rc = self->ops.down_skip(self->ops_ctx, self->down_cursor, b->first_seq - 1);
        if (rc != SJ_OK) {
            s_failed(self, rc);
            return;
        }
        sj_notice("downward items %llu..%llu are gone at the parent (pruned): going on from %llu",
                  (unsigned long long) (self->down_cursor + 1),
                  (unsigned long long) (b->first_seq - 1), (unsigned long long) b->first_seq);
        self->down_cursor = b->first_seq - 1;
    }
    if (b->first_seq > self->down_cursor + 1) {
        /* An answer to an older cursor (e.g. just before a reset): the next
         * cursor this node sends asks for what it lacks. */
        sj_debug("downward items %llu..%llu skipped: the cursor is %llu",
                 (unsigned long long) b->first_seq, (unsigned long long) last,
                 (unsigned long long) self->down_cursor);
        return;
    }
    uint64_t cursor = 0;
    char reason[300] = "";
    int rc = self->ops.down_apply(self->ops_ctx, b->first_seq, b->items, b->n_items, &cursor,
                                  reason, sizeof reason);
    if (rc != SJ_OK) {
        if (!reason[0]) {
            snprintf(reason, sizeof reason, "%s", sj_strerror(rc));
        }
        if (strcmp(self->down_refused, reason) != 0) { /* once per reason, not per resend */
            sj_error("refused downward items %llu..%llu from %s: %s (nothing applied)",
                     (unsigned long long) b->first_seq, (unsigned long long) last, self->endpoint,
                     reason);
            snprintf(self->down_refused, sizeof self->down_refused, "%s", reason);
        }
        if (rc != SJ_EPROTO) {
            s_failed(self, rc); /* the store's failure, not the parent's items */
        }
        return;
    }
    self->down_cursor = cursor;
    sj_crash_point("after-down-apply-before-ack");
    Sanji__DownAck a = SANJI__DOWN_ACK__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    a.applied_through = cursor;
    s_refusals_t *f = malloc(sizeof *f);
    if (f) {
        s_refusals_fill(self, f);
        a.n_refused = f->n;
        a.refused = f->ptr;
    }
    env.body_case = SANJI__ENVELOPE__BODY_DOWN_ACK;
    env.down_ack = &a;
    if (s_send(self, &env) != SJ_OK) {
        sj_debug("down ack not sent; the next heartbeat carries the cursor");
    }
    free(f);
}

int
sj_uplink_on_readable(sj_uplink_t *self)
{
    s_ack_pend_t pend = {0};
    self->rx_rc = SJ_OK;
    for (int i = 0; i < 256; i++) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, self->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            break;
        }
        Sanji__Envelope *env = NULL;
        int ec = 0;
        char reason[200];
        int rc = sj_wire_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &env, &ec, reason,
                                sizeof reason);
        zmq_msg_close(&msg);
        if (rc != SJ_OK) {
            sj_warn("bad frame from parent %s: %s", self->endpoint, reason);
            continue;
        }
        self->rx_mono = sj_mono_ms();
        if (env->body_case != SANJI__ENVELOPE__BODY_ACK) {
            s_ack_flush(self, &pend); /* in order with whatever else came */
        }
        switch (env->body_case) {
        case SANJI__ENVELOPE__BODY_WELCOME:
            s_on_welcome(self, env->welcome);
            break;
        case SANJI__ENVELOPE__BODY_ACK:
            if (self->state == SJ_UP_READY) {
                s_on_ack(self, env->ack, &pend);
            }
            break;
        case SANJI__ENVELOPE__BODY_RESEND:
            if (self->state == SJ_UP_READY
                && memcmp(env->resend->epoch.data, self->epoch, SJ_EPOCH_BYTES) == 0) {
                sj_info("parent asks to resend from %llu",
                        (unsigned long long) env->resend->from_seq);
                if (env->resend->from_seq <= self->acked) {
                    self->acked = env->resend->from_seq - 1;
                }
                self->next = env->resend->from_seq;
                self->in_flight = 0;
            }
            break;
        case SANJI__ENVELOPE__BODY_ERROR: {
            char text[256];
            if (sj_wire_text(env->error->reason, text, sizeof text) != SJ_OK) {
                text[0] = '\0';
            }
            int code = env->error->code;
            int refusal = code == SANJI__ERROR_CODE__ERROR_FORBIDDEN
                          || code == SANJI__ERROR_CODE__ERROR_BAD_VERSION;
            /* A refused window brings the same error once per batch in
             * flight: say it once per pause, the rest at debug level; a
             * refusal that lasts, once a minute. */
            int repeat = strcmp(self->last_error, text) == 0 && sj_mono_ms() < self->retry_mono;
            snprintf(self->last_error, sizeof self->last_error, "%s", text);
            char said[1024];
            snprintf(said, sizeof said, "parent %s: error %d: %s", self->endpoint, code, text);
            if (refusal) {
                s_say(self, SJ_LOG_WARN, said);
            } else if (repeat) {
                sj_debug("parent %s: error %d again: %s", self->endpoint, code, text);
            } else {
                sj_warn("%s", said);
            }
            if (refusal) {
                /* One pause per refusal (the window's other batches bring
                 * the same error); it ends with a fresh socket (tick). */
                if (self->state != SJ_UP_REFUSED) {
                    s_refused(self);
                }
            } else if (code == SANJI__ERROR_CODE__ERROR_UNKNOWN_MESSAGE) {
                /* this node sent what the parent does not know: said above */
            } else if (code == SANJI__ERROR_CODE__ERROR_NO_HELLO) {
                self->state = SJ_UP_CONNECTING;
            } else {
                /* storage trouble or a frame problem at the parent: go back N later */
                self->next = self->acked + 1;
                self->in_flight = 0;
                /* One pause per refused window: the window's other batches get
                 * the same error and must not double the delay again. */
                if (sj_mono_ms() >= self->retry_mono) {
                    self->retry_mono = sj_mono_ms() + self->backoff_ms;
                    self->backoff_ms = self->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                                             : self->backoff_ms * 2;
                }
            }
            break;
        }
        case SANJI__ENVELOPE__BODY_HEARTBEAT:
            /* Liveness, and the receipt of an idle link (the hub forwards
             * after the station's batches were acked). A fresh socket per
             * epoch keeps an old epoch's reply away from this one. */
            if (self->state == SJ_UP_READY) {
                s_receipt(self, env->heartbeat->e2e_through);
                self->down_head = env->heartbeat->down_head;
            }
            break;
        case SANJI__ENVELOPE__BODY_DOWN_BATCH:
            s_on_down(self, env->down_batch);
            break;
        default:
            break;
        }
        sj_wire_free(env);
    }
    s_ack_flush(self, &pend);
    return self->rx_rc;
}

static void
s_send_heartbeat(sj_uplink_t *self)
{
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    hb.now_ms = sj_now_ms();
    hb.queue_depth = self->head > self->acked ? self->head - self->acked : 0;
    hb.down_cursor = self->down_cursor;
    s_refusals_t *f = malloc(sizeof *f);
    if (f) {
        s_refusals_fill(self, f);
        hb.n_down_refused = f->n;
        hb.down_refused = f->ptr;
    }
    env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    if (s_send(self, &env) != SJ_OK) {
        sj_debug("heartbeat not sent");
    }
    free(f);
}

/* The store has no event `seq` although its head is past it: nothing after
 * it can be sent (the parent would ask for it forever). Logged once per seq;
 * the uplink keeps trying, in case it was a torn read. */
static void
s_store_gap(sj_uplink_t *self, uint64_t seq)
{
    if (self->gap_logged != seq) {
        sj_error("the store has no event with seq %llu (head %llu): a gap in its stream;"
                 " nothing from there on can be sent to %s",
                 (unsigned long long) seq, (unsigned long long) self->head, self->endpoint);
        self->gap_logged = seq;
    }
}

static int
s_send_batch(sj_uplink_t *self)
{
    s_fill_t f = {0};
    size_t want = (size_t) self->cfg.batch_events;
    if (self->head - self->next + 1 < want) {
        want = (size_t) (self->head - self->next + 1);
    }
    f.events = calloc(want, sizeof *f.events);
    if (!f.events) {
        return SJ_ENOMEM;
    }
    f.cap = want;
    f.first = self->next;
    int rc = self->ops.fetch(self->ops_ctx, self->next, want, SJ_WIRE_BATCH_BYTES, s_fill_add, &f);
    if (f.missing) {
        /* Send what comes before the gap; the next fetch stops at it. */
        s_store_gap(self, f.missing);
        rc = f.n ? SJ_OK : SJ_EDB;
    } else if (rc == SJ_OK || f.full) {
        /* A store that offers more than asked merely ends the batch early. */
        rc = SJ_OK;
        if (f.n == 0) {
            s_store_gap(self, self->next);
            rc = SJ_EDB;
        }
    }
    if (rc == SJ_OK) {
        Sanji__Batch b = SANJI__BATCH__INIT;
        Sanji__Envelope env = SANJI__ENVELOPE__INIT;
        b.epoch.data = self->epoch;
        b.epoch.len = SJ_EPOCH_BYTES;
        b.first_seq = f.first;
        b.n_events = f.n;
        b.events = f.events;
        env.body_case = SANJI__ENVELOPE__BODY_BATCH;
        env.batch = &b;
        rc = s_send(self, &env);
        if (rc == SJ_OK) {
            if (self->in_flight == 0) {
                self->progress_mono = sj_mono_ms();
            }
            self->next += f.n;
            self->in_flight++;
            sj_crash_point("after-forward-before-ack");
        }
    }
    s_fill_clear(&f);
    return rc;
}

int
sj_uplink_tick(sj_uplink_t *self)
{
    int64_t now = sj_mono_ms();
    uint64_t head = 0;
    int rc = self->ops.head(self->ops_ctx, &head);
    if (rc != SJ_OK) {
        return rc;
    }
    self->head = head;
    s_up_read_monitor(self);
    s_up_watch(self, now);
    if (now < self->retry_mono) {
        return SJ_OK;
    }
    if (self->state == SJ_UP_REFUSED && s_up_socket(self) != SJ_OK) {
        /* A fresh socket: libzmq 4.3.4 never tries an endpoint again after
         * its ZAP refusal, and a key enrolled meanwhile must get through. */
        self->state = SJ_UP_REFUSED;
        self->retry_mono = now + BACKOFF_MAX_MS;
        return SJ_OK;
    }
    if (self->state == SJ_UP_CONNECTING) {
        s_send_hello(self); /* EAGAIN until the connection is up (IMMEDIATE=1) */
        return SJ_OK;
    }
    if (self->state == SJ_UP_WAITING) {
        if (now - self->hello_mono > self->backoff_ms) {
            s_up_reset(self, "no welcome from the parent");
        }
        return SJ_OK;
    }
    /* READY */
    while (self->in_flight < self->cfg.window && self->next <= self->head) {
        if (s_send_batch(self) != SJ_OK) {
            break;
        }
    }
    if (self->next > self->acked + 1 && now - self->progress_mono > self->cfg.ack_timeout_ms) {
        self->timeouts++;
        sj_notice("no ack from %s for %d ms (timeout %d); going back to seq %llu", self->endpoint,
                  self->cfg.ack_timeout_ms, self->timeouts, (unsigned long long) self->acked + 1);
        if (self->timeouts >= 3) {
            s_up_reset(self, "parent not acknowledging");
            return SJ_OK;
        }
        self->next = self->acked + 1;
        self->in_flight = 0;
        self->progress_mono = now;
    }
    if (now - self->tx_mono > self->cfg.heartbeat_ms) {
        s_send_heartbeat(self);
    }
    /* Silence is counted from the end of our own pause, not during it. */
    int64_t heard = self->rx_mono > self->retry_mono ? self->rx_mono : self->retry_mono;
    if (self->rx_mono && now - heard > 3 * self->cfg.heartbeat_ms + self->cfg.ack_timeout_ms) {
        self->rx_mono = now;
        s_up_reset(self, "parent silent");
    }
    return SJ_OK;
}
