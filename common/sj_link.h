/* sj_link: the link protocol of docs/PROTOCOL.md, written once for every
 * parent-child link (village -> township, township -> county, station ->
 * county).
 *
 * Child side (sj_uplink, a DEALER that connects):
 *
 *   CONNECTING --hello sent--> WAITING --welcome--> READY
 *      ^   ^                      |   |               | ack: acked = max(acked, n); persist
 *      |   +---- ack timeout x3, -+---|---------------+ resend(n): next = n
 *      |         parent silent        |               | tick: send batches while window open
 *      |                              | welcome, store diverged (s_on_welcome -> ops.diverged):
 *      +------------------------------+ new epoch, new socket, HELLO again
 *
 *   REFUSED: the parent said FORBIDDEN or BAD_VERSION, or refused this
 *   node's key in the handshake; the uplink waits (2 s, doubling to 30 s),
 *   then goes back to CONNECTING from a fresh socket (s_up_socket: libzmq
 *   4.3.4 never retries an endpoint after a ZAP refusal), so a key enrolled
 *   or re-enrolled meanwhile gets through without a restart. The refusal is
 *   logged when it starts and once a minute while it lasts. A one-shot
 *   caller (sync) stops at REFUSED.
 *
 *   Unreachable: while no secure handshake completes (nothing listening,
 *   another service or another node's key on that port), the uplink says
 *   why, with a hint, once a minute (s_up_watch).
 *
 *   s_up_reset() recreates the socket (LINGER=0: whatever libzmq still held
 *   is thrown away; the database is the queue) and says HELLO again.
 *
 *   Divergence. A store restored from an older copy numbers its new events
 *   with seqs the parent already holds, for other events, under the same
 *   (code, epoch); the parent would ack them as duplicates and they would be
 *   lost. A store that implements ops.diverged records, before any batch
 *   leaves, how far its stream may be at the parent (its "offered" mark, see
 *   fetch). A Welcome whose mark is above the offered mark proves that the
 *   parent holds events this copy never sent: the store then moves what the
 *   parent has not confirmed to a new epoch (one transaction) and the uplink
 *   starts over under it. A Welcome above the store's ack but not above the
 *   offered mark is only a lost ack.
 *
 * Parent side (sj_downlink, a ROUTER that binds): sj_downlink_on_readable()
 * drains up to a group of frames, handles every Hello, Heartbeat and Batch in
 * ONE transaction together with each child's new high-water mark, COMMITs, and
 * only then sends the Welcomes and Acks (group commit: one fsync for many
 * batches). For a batch [a..b] from (code, epoch) with mark n-1:
 *   b < n      a resend: each event is compared with what entered at its
 *              seq (s_resent); other bytes are a fork, rejected in the
 *              re-ack (ERROR_FORK) and counted; re-ack n-1, store nothing;
 *   a > n      gap: Resend{n}, store nothing;
 *   otherwise  store [n..b] (bad events go to quarantine and are acked as
 *              rejected), set mark = b, ack b after COMMIT.
 * A child's own events are checked where they enter (s_first_hop: epoch,
 * hash chain against link_heads, clock, forks); sealed data against the
 * county key's fingerprint. An event that breaks identity rules (another
 * origin, another subtree) is refused with an Error and nothing of its
 * batch is stored. docs/PROTOCOL.md sections 5-9 are this, for people. */
#ifndef SJ_LINK_H
#define SJ_LINK_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "sj_auth.h"
#include "sj_down.h"
#include "sj_err.h"
#include "sj_wire.h"

/* Tables every parent store needs; include in its first migration. */
#define SJ_DOWNLINK_SCHEMA                                                               \
    "CREATE TABLE links(code TEXT NOT NULL, epoch BLOB NOT NULL,"                        \
    " acked_through INTEGER NOT NULL DEFAULT 0, first_seen_ms INTEGER NOT NULL,"         \
    " last_contact_ms INTEGER NOT NULL, queue_depth INTEGER NOT NULL DEFAULT 0,"         \
    " oldest_pending_s INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(code, epoch));"           \
    "CREATE TABLE quarantine(qid INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL," \
    " epoch BLOB NOT NULL, link_seq INTEGER NOT NULL, err_code INTEGER NOT NULL,"        \
    " reason TEXT NOT NULL, raw BLOB NOT NULL, at_ms INTEGER NOT NULL,"                  \
    " UNIQUE(code, epoch, link_seq));"

/* Tables of the checks where an event first enters (added to stores that
 * existed before them: include in a later migration). link_heads: per
 * stream of a child's own events (origin, epoch), the last position that
 * entered here and the BLAKE2b-256 of its bytes, stored or refused: the
 * next event's prev_hash must equal it. link_forks: each event that came at
 * a position already held here with other bytes (counted in `status`). */
#define SJ_DOWNLINK_SCHEMA_2                                                                      \
    "CREATE TABLE link_heads(origin TEXT NOT NULL, epoch BLOB NOT NULL, seq INTEGER NOT NULL,"    \
    " hash BLOB NOT NULL, PRIMARY KEY(origin, epoch)) WITHOUT ROWID;"                             \
    "CREATE TABLE link_forks(code TEXT NOT NULL, epoch BLOB NOT NULL, link_seq INTEGER NOT NULL," \
    " hash BLOB NOT NULL, reason TEXT NOT NULL, raw BLOB NOT NULL, at_ms INTEGER NOT NULL,"       \
    " PRIMARY KEY(code, epoch, link_seq, hash)) WITHOUT ROWID;"

/* The clock checks where an event first enters (docs/PROTOCOL.md): its
 * created_ms may be ahead of the receiver's clock by at most
 * SJ_LINK_AHEAD_MS and may not be before 2000-01-01 (a station offline for
 * weeks delivers old events: only the future is bounded); a report's
 * occurred_on may be at most SJ_LINK_AHEAD_DAYS after the receiver's local
 * date (time zones). */
#define SJ_LINK_AHEAD_MS       (60 * 60 * 1000)
#define SJ_LINK_MIN_CREATED_MS 946684800000LL /* 2000-01-01T00:00:00Z */
#define SJ_LINK_AHEAD_DAYS     1

/* Result of storing one event. */
typedef enum { SJ_STORED_NEW = 0, SJ_STORED_DUPLICATE, SJ_STORED_ID_CONFLICT } sj_stored_t;

typedef struct {
    /* May a child with this code connect here? SJ_OK or SJ_EFORBIDDEN + reason. */
    int (*admit)(void *ctx, const char *code, char *reason, size_t reason_size);
    /* Identity and authority check of one event from child `code`, link
     * seq (inside the group transaction, after the batch's earlier events
     * were stored): SJ_OK, SJ_EFORBIDDEN (refuse the batch) or SJ_EPROTO
     * (quarantine), + reason; any other code is a storage failure (nothing
     * of the batch is stored, the child sends it again). The downlink
     * itself checks a child's own events (origin = code) where they enter:
     * epoch, hash chain, clock, a position held twice (fork). */
    int (*check_event)(void *ctx,
                       const char *code,
                       uint64_t link_seq,
                       const sj_event_t *ev,
                       char *reason,
                       size_t reason_size);
    /* Stores one valid event inside the open transaction. */
    int (*store_event)(void *ctx,
                       const char *code,
                       const sj_event_t *ev,
                       const uint8_t *raw,
                       size_t len,
                       sj_stored_t *result);
    /* Called after a COMMIT that stored n_new events (may be 0). */
    void (*committed)(void *ctx, size_t n_new);
    /* Optional: the end of one batch's store_event calls, before its
     * savepoint is released (ok: SJ_OK from the store, which may write what
     * it gathered over the batch) or rolled back (!ok: forget it). */
    int (*batch_end)(void *ctx, int ok);
    /* End-to-end receipt: the highest seq of (code, epoch)'s stream that is
     * committed at the county, given that the parent holds it through acked.
     * NULL means this parent is the county (receipt = acked). */
    int (*e2e)(void *ctx, const char *code, const uint8_t *epoch, uint64_t acked, uint64_t *e2e);

    /* ---- the downward stream (NULL, or returning NULL: this parent sends
     * nothing down) ----
     * The store's downward streams (sj_down.h): per child code a gapless seq
     * 1, 2, ... of items (not per epoch: a re-created child store says
     * cursor 0 and gets everything again). The child's cursor arrives in
     * Hello, Heartbeat and DownAck (recorded with sj_down_acked inside the
     * group transaction); the parent answers with the items above it on the
     * same connection, and sj_downlink_tick pushes new items when
     * sj_down_mark moves. */
    sj_down_t *(*down)(void *ctx);
    /* Optional (issue 19): inside the transaction, appends to child's
     * stream a fresh item for each of its open assigned cases (its latest
     * assignment there with the current snapshot): called when a child's
     * cursor is below its stream's floor (a store made anew after items
     * were pruned). */
    int (*down_refill)(void *ctx, const char *child);
    /* Optional (issue 15): inside the transaction of a child's Hello, before
     * its stream's head is read: the store may append items the child
     * should have (its place names, when they changed since it was last
     * sent them, or it never was). */
    int (*down_hello)(void *ctx, const char *child);

    /* ---- the checks where an event enters (optional: NULL skips) ---- */
    /* Is the event at ev's position (origin, epoch, origin_seq) held here,
     * and with exactly these bytes? SJ_OK with *same 1 (held, the same) or
     * 0 (another event, or these bytes differ: a fork); SJ_ENOTFOUND when
     * this store cannot tell (the downlink then looks in its quarantine).
     * Asked of events at or below a link's mark (a resend) and of those the
     * store called duplicates, inside the transaction. */
    int (*held)(void *ctx, const sj_event_t *ev, const uint8_t *raw, size_t len, int *same);
    /* The hash of event seq of stream (origin, epoch) held here: a fallback
     * for streams that entered before link_heads existed. SJ_ENOTFOUND
     * when it is not held (or cannot be found without a scan). */
    int (*event_hash)(void *ctx,
                      const char *origin,
                      const uint8_t *epoch,
                      uint64_t seq,
                      uint8_t hash[SJ_HASH_BYTES]);
    /* An event that entered here was quarantined: notice (type
     * SJ_EVENT_QUARANTINED, its position, code, reason in note, hash) is for
     * the parent above, so that the county's `verify` shows it as refused,
     * not lost. Inside the transaction; a hub appends it to its own stream. */
    int (*quarantined)(void *ctx, sj_event_t *notice);
} sj_downlink_ops_t;

typedef struct sj_downlink sj_downlink_t;

/* Binds a ROUTER on endpoint in zmq context zctx; db is borrowed (the tier's
 * writer connection, used only on the caller's thread). With auth and kp
 * (both borrowed) the socket is a CURVE server and every message's identity
 * is the enrolled code of its key; with both NULL (--insecure) the code a
 * child claims in its Hello is believed, with a warning on every connection.
 * NULL after logging. */
sj_downlink_t *sj_downlink_new(void *zctx,
                               const char *endpoint,
                               sqlite3 *db,
                               const sj_downlink_ops_t *ops,
                               void *ops_ctx,
                               sj_auth_t *auth,
                               const sj_keypair_t *kp);
void sj_downlink_destroy(sj_downlink_t **self_p);
/* The socket, for zmq_poll (borrowed). */
void *sj_downlink_socket(sj_downlink_t *self);
/* The parent's own store epoch, sent in Welcome. */
void sj_downlink_set_epoch(sj_downlink_t *self, const uint8_t epoch[SJ_EPOCH_BYTES]);
/* Ends a group transaction once its batches hold this many events (0, the
 * default: only the frame limit). A hub sets it so that it decodes fewer
 * frames at once and forwards between groups. */
void sj_downlink_set_group_events(sj_downlink_t *self, size_t events);
/* Handles what is readable. Storage failures are answered to the children
 * with an Error and logged, never acked; a child's bad frames are answered,
 * counted and logged. Returns SJ_OK, or this node's first failure while
 * handling the group (SJ_EDB, SJ_EFULL, SJ_EAGAIN: the group was not
 * committed; SJ_ENOMEM, SJ_EINVAL: a reply could not be made), for the
 * caller to note. */
SJ_NODISCARD int sj_downlink_on_readable(sj_downlink_t *self);
/* The key personal data must be sealed to (the county's public key): every
 * report whose sealed data names another key's fingerprint is quarantined
 * ("sealed to another key"). With sk (the county), a report without a
 * fingerprint (an older station) is opened to check it; without (a hub),
 * it passes. Both are copied. Not set: nothing is checked. */
void
sj_downlink_set_seal_key(sj_downlink_t *self, const uint8_t pk[SJ_KEY_BYTES], const uint8_t *sk);
/* Call after the allowlist was reloaded (SIGHUP): a connection whose key
 * is no longer enrolled gets nothing more (no replies, no downward items);
 * its next message is refused. */
void sj_downlink_reloaded(sj_downlink_t *self);
/* Pushes new downward items to connected children when sj_down_mark moved
 * (items made by another process, e.g. an `assign` command, or by this
 * one). Call every tick (<= 200 ms). */
void sj_downlink_tick(sj_downlink_t *self);

/* ---- child side ---- */

typedef struct sj_uplink sj_uplink_t;

typedef struct {
    /* Calls add(add_ctx, seq, raw, len) for link seqs from, from+1, ... up to
     * max_events or about max_bytes; stops early at the end of the stream,
     * and stops (returning add's code) when add does not return SJ_OK. A
     * store with diverged must first record durably that its stream may be at
     * the parent through its head (its offered mark, never lowered) whenever
     * the events it gives may pass the mark it recorded last, and give
     * nothing if it cannot: whatever add was given may be sent. */
    int (*fetch)(void *ctx,
                 uint64_t from,
                 size_t max_events,
                 size_t max_bytes,
                 int (*add)(void *add_ctx, uint64_t seq, const void *raw, size_t len),
                 void *add_ctx);
    /* Highest link seq produced so far in the current epoch. */
    int (*head)(void *ctx, uint64_t *last_seq);
    /* Persists the parent's word: events through acked_through are committed
     * there; rejected lists those it quarantined (may be empty). */
    int (*acked)(void *ctx, uint64_t acked_through, Sanji__Rejection **rejected, size_t n_rejected);
    /* Optional (NULL: such a stream only gets a warning when the parent holds
     * more than head). Called on every Welcome, before its mark is recorded.
     * If parent_mark is above the store's offered mark, the store diverged
     * from the parent (restored from an older copy): in one transaction it
     * moves every event the parent has not confirmed to a new random epoch
     * (seqs 1, 2, ..., chain from zeros, same event ids), sets *moved = 1 and
     * fills new_epoch; its other callbacks then work on the new epoch. A
     * store that forgets events after the county's receipt (the station's
     * prune) moves the same way when parent_mark is below an event it
     * forgot (the parent was restored from an older copy and would ask for
     * it forever). Otherwise (a lost ack, a parent that lost only what the
     * store still holds) *moved = 0 and nothing changes. Returns SJ_OK or a
     * storage error (then nothing changed either). */
    int (*diverged)(void *ctx, uint64_t parent_mark, int *moved, uint8_t new_epoch[SJ_EPOCH_BYTES]);
    /* Optional: the end-to-end receipt. Events of the current epoch through
     * e2e_through are committed at the county (never above acked_through);
     * called when the mark rises. Only then may a store forget them. */
    int (*receipt)(void *ctx, uint64_t e2e_through);
    /* Optional: the downward stream. The highest seq applied (the cursor,
     * kept in the store; 0 for a new store). */
    int (*down_cursor)(void *ctx, uint64_t *cursor);
    /* Applies items first_seq, first_seq+1, ... (those at or below the
     * cursor are skipped: idempotent) and stores the new cursor in ONE
     * transaction; *cursor gets it. An item that is invalid or not for this
     * node, or a gap: nothing is applied, SJ_EPROTO with reason. */
    int (*down_apply)(void *ctx,
                      uint64_t first_seq,
                      const ProtobufCBinaryData *items,
                      size_t n,
                      uint64_t *cursor,
                      char *reason,
                      size_t reason_size);
    /* Optional: the parent's store epoch, from every Welcome. A cursor
     * counts items of one parent store's streams: when the parent's store
     * was made anew (another epoch than the one recorded with the cursor)
     * and keep is 0 (an older parent: Welcome.down_keep unset; a newer one
     * numbers new items above the cursor in the Hello, issue 19),
     * the store records the new epoch and sets its cursor to 0 in one
     * transaction (*reset = 1), and the uplink asks for everything again
     * (applying is idempotent). */
    int (*down_parent)(void *ctx, const uint8_t epoch[SJ_EPOCH_BYTES], int keep, int *reset);
    /* Optional: the latest refused downward items to report up in DownAck
     * and Heartbeat (sj_down_refusals_latest; at most max, *n of them). */
    int (*down_refusals)(void *ctx, sj_down_refusal_t *out, size_t max, size_t *n);
    /* Optional: moves the cursor from `from` to `to` (the parent holds no
     * items between: DownBatch.gone_before), unless it moved meanwhile. */
    int (*down_skip)(void *ctx, uint64_t from, uint64_t to);
    /* Optional: the parent store epoch the cursor counts items of (meta
     * down_parent), for Hello.down_parent. SJ_ENOTFOUND: none yet. */
    int (*down_counted)(void *ctx, uint8_t epoch[SJ_EPOCH_BYTES]);
} sj_uplink_ops_t;

typedef struct {
    const char *endpoint;     /* e.g. tcp://127.0.0.1:7601 */
    const char *code;         /* this node's code */
    const uint8_t *epoch;     /* this node's link epoch (16 bytes, copied) */
    int window;               /* batches in flight (default 8) */
    int batch_events;         /* events per batch (default 500) */
    int ack_timeout_ms;       /* go back N after this (default 10000) */
    int heartbeat_ms;         /* idle heartbeat (default 5000) */
    const sj_keypair_t *kp;   /* this node's CURVE keys; NULL = insecure (copied) */
    const uint8_t *server_pk; /* the parent's pinned public key (copied) */
    const char *parent_name;  /* "hub", "county": names it in messages (default "parent") */
} sj_uplink_cfg_t;

typedef enum { SJ_UP_CONNECTING = 0, SJ_UP_WAITING, SJ_UP_READY, SJ_UP_REFUSED } sj_up_state_t;

sj_uplink_t *
sj_uplink_new(void *zctx, const sj_uplink_cfg_t *cfg, const sj_uplink_ops_t *ops, void *ops_ctx);
void sj_uplink_destroy(sj_uplink_t **self_p);
void *sj_uplink_socket(sj_uplink_t *self);
/* Reads and handles what is readable. A bad frame from the parent is
 * logged and dropped. Returns SJ_OK, or the first local failure while
 * handling the frames (the store could not record an ack, a receipt, the
 * divergence check or downward items: SJ_EDB, SJ_EFULL, SJ_ENOMEM...);
 * nothing was recorded for that frame and the parent sends it again. */
SJ_NODISCARD int sj_uplink_on_readable(sj_uplink_t *self);
/* Sends what the window allows, heartbeats, and handles timeouts. Call at
 * least every 100 ms and after new events were stored. */
SJ_NODISCARD int sj_uplink_tick(sj_uplink_t *self);
/* SJ_UP_REFUSED while the parent refuses this node (sj_uplink_last_error
 * says why); it is tried again after a long pause. */
sj_up_state_t sj_uplink_state(const sj_uplink_t *self);
/* The epoch the link currently speaks for (16 bytes; changes when the store
 * diverged, see ops.diverged). Borrowed, valid until the next call. */
const uint8_t *sj_uplink_epoch(const sj_uplink_t *self);
/* Highest seq the parent acknowledged, and highest produced (at last tick). */
uint64_t sj_uplink_acked(const sj_uplink_t *self);
/* Highest seq of the current epoch the county has committed (receipt). */
uint64_t sj_uplink_e2e(const sj_uplink_t *self);
uint64_t sj_uplink_head(const sj_uplink_t *self);
/* The downward stream: the cursor applied here, and the parent's head for
 * this node as last heard (Welcome, Heartbeat, or a batch). */
uint64_t sj_uplink_down_cursor(const sj_uplink_t *self);
uint64_t sj_uplink_down_head(const sj_uplink_t *self);
/* Last error text the parent sent (empty if none). */
const char *sj_uplink_last_error(const sj_uplink_t *self);

/* Socket options shared by both sides (docs/PROTOCOL.md "Sockets": LINGER 0,
 * MAXMSGSIZE, HWMs, heartbeats, keepalive; a ROUTER's MANDATORY, a DEALER's
 * IMMEDIATE and reconnect interval). Returns SJ_OK, or SJ_EIO after logging
 * the option libzmq refused. */
SJ_NODISCARD int sj_link_sockopts(void *sock, int is_router);

#endif
