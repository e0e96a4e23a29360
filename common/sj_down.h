/* sj_down: a parent's downward streams (issue 4, assignments 交办), the same
 * for the county and a township hub. Each child code has its own gapless seq
 * 1, 2, 3, ... of items (packed DownItems of a kind: an assignment event's
 * exact bytes and a snapshot of its case); a re-created child store (cursor
 * 0) receives its stream again and applies it idempotently (the zguide
 * Clone pattern). down_acks keeps each child's applied cursor as it last
 * said it, for status (undelivered = head - cursor), and its stream's floor.
 * Issue 19 (docs/PROTOCOL.md section 10): acked items are pruned after a
 * retention (the floor keeps the numbering; a child below it gets its open
 * cases as fresh items), a child's cursor from another epoch of this store
 * rebases its stream, and the child side keeps refused items and items of
 * kinds it does not know instead of stopping.
 *
 * The functions here have the shapes of sj_downlink_ops_t's down_* members:
 * a parent store holds one sj_down_t on its writer connection and forwards
 * its ops to it. */
#ifndef SJ_DOWN_H
#define SJ_DOWN_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sj_health.h"

#include "sj_err.h"
#include "sj_model.h"
#include "sj_wire.h"

/* Tables of a parent store; include in one of its migrations. */
#define SJ_DOWN_SCHEMA                                                                      \
    "CREATE TABLE down(did INTEGER PRIMARY KEY, child TEXT NOT NULL, seq INTEGER NOT NULL," \
    " event_id BLOB NOT NULL, item BLOB NOT NULL, created_ms INTEGER NOT NULL,"             \
    " UNIQUE(child, seq));"                                                                 \
    "CREATE TABLE down_acks(child TEXT PRIMARY KEY, cursor INTEGER NOT NULL,"               \
    " at_ms INTEGER NOT NULL) WITHOUT ROWID;"

/* Issue 19, appended as a later migration of a parent store: refusals its
 * children reported (child: the station or township that refused; via: the
 * hub that relayed it, '' when the child said it itself), and each stream's
 * floor (its numbering goes on above it: items pruned, or a child's cursor
 * learnt from its Hello after a restore). */
#define SJ_DOWN_SCHEMA_19                                                                      \
    "CREATE TABLE down_refusals(child TEXT NOT NULL, seq INTEGER NOT NULL, via TEXT NOT NULL," \
    " reason TEXT NOT NULL, event_id BLOB, at_ms INTEGER NOT NULL,"                            \
    " PRIMARY KEY(child, seq, via)) WITHOUT ROWID;"                                            \
    "ALTER TABLE down_acks ADD COLUMN floor INTEGER NOT NULL DEFAULT 0;"

/* Issue 19, appended as a later migration of a child store (a station, a
 * hub): the items it refused (kept, acked past) and those of a kind it does
 * not know yet (kept, acked past, applied when an upgrade teaches it the
 * kind). */
#define SJ_DOWN_CHILD_SCHEMA_19                                                              \
    "CREATE TABLE down_refused(seq INTEGER PRIMARY KEY, reason TEXT NOT NULL, item BLOB NOT" \
    " NULL, at_ms INTEGER NOT NULL);"                                                        \
    "CREATE TABLE down_kept(seq INTEGER PRIMARY KEY, kind INTEGER NOT NULL, item BLOB NOT"   \
    " NULL, at_ms INTEGER NOT NULL);"

/* One refusal as it travels up (DownRefusal). */
typedef struct {
    uint64_t seq;
    char child[SJ_CODE_MAX + 1]; /* '' : the sender itself */
    char reason[256];
    uint8_t event_id[SJ_ID_BYTES];
    int has_id;
} sj_down_refusal_t;

/* At most this many refusals ride on one DownAck or Heartbeat (the latest). */
#define SJ_DOWN_REFUSALS_SENT 8

typedef struct sj_down sj_down_t;

/* Prepares the statements on db (borrowed, must outlive the object). NULL
 * after logging. */
sj_down_t *sj_down_new(sqlite3 *db);
void sj_down_destroy(sj_down_t **self_p);

/* Inside the caller's write transaction: appends item (len bytes, copied) to
 * child's stream as seq = its head + 1 (*seq, may be NULL). */
SJ_NODISCARD int sj_down_enqueue(sj_down_t *self,
                                 const char *child,
                                 const uint8_t event_id[SJ_ID_BYTES],
                                 const uint8_t *item,
                                 size_t len,
                                 uint64_t *seq);
/* The highest did: rises whenever any stream grows. */
SJ_NODISCARD int sj_down_mark(sj_down_t *self, int64_t *mark);
/* Highest seq of child's stream (0: none). */
SJ_NODISCARD int sj_down_head(sj_down_t *self, const char *child, uint64_t *head);
/* child's floor (0: none): items at or below it may be gone. */
SJ_NODISCARD int sj_down_floor(sj_down_t *self, const char *child, uint64_t *floor);
/* *lacks = 1 when some item of child's stream in (cursor, floor] is gone
 * (pruned, or never held here): a child at that cursor needs a refill. */
SJ_NODISCARD int
sj_down_lacks(sj_down_t *self, const char *child, uint64_t cursor, uint64_t floor, int *lacks);
/* Items of child after seq `after`, in order (see sj_downlink_ops_t). */
SJ_NODISCARD int
sj_down_fetch(sj_down_t *self,
              const char *child,
              uint64_t after,
              size_t max_items,
              size_t max_bytes,
              int (*add)(void *add_ctx, uint64_t seq, const void *item, size_t len),
              void *add_ctx);
/* Records child's cursor (inside the caller's transaction). keeps: the
 * child said in its Hello that it keeps its cursor across this store's
 * epochs, so the stream's numbering goes on above it (the floor rises). */
SJ_NODISCARD int sj_down_acked(sj_down_t *self, const char *child, uint64_t cursor, int keeps);
/* At a Hello whose cursor counts items of another store epoch of this
 * parent (made anew, or this store restored from a backup; issue 19): the
 * child holds items through cursor. The items made since this store's
 * epoch began (since_ms: meta restored_ms, 0 for a store made anew) are
 * numbered again after max(cursor, the highest older item), in their order,
 * and the floor rises to that, so nothing the child holds is sent again and
 * nothing new hides below its cursor. *moved gets how many were renumbered.
 * Inside the caller's transaction. */
SJ_NODISCARD int sj_down_rebase(
    sj_down_t *self, const char *child, uint64_t cursor, int64_t since_ms, int64_t *moved);
/* Records a refusal child (or, via a hub `from`, one of its stations)
 * reported (inside the caller's transaction; the same one again changes
 * nothing). SJ_EINVAL when r->child is not under from. */
SJ_NODISCARD int
sj_down_refusal_record(sj_down_t *self, const char *from, const sj_down_refusal_t *r);
/* Deletes items their child acked that are older than retention_ms (issue
 * 19); the stream's numbering goes on (its floor keeps the highest pruned
 * seq). *pruned (may be NULL) gets how many. Runs its own transaction. */
SJ_NODISCARD int sj_down_prune(sqlite3 *db, int64_t retention_ms, int64_t *pruned);

/* ---- the child side: applying a received batch ---- */

/* The child's cursor, meta key down_cursor (0 when never set). */
SJ_NODISCARD int sj_down_cursor(sqlite3 *db, uint64_t *cursor);

/* The uplink's ops.down_skip over db: the cursor from `from` to `to` in one
 * transaction, when it is still `from`. */
SJ_NODISCARD int sj_down_skip(sqlite3 *db, uint64_t from, uint64_t to);

/* The parent store epoch the cursor counts (meta down_parent): the
 * uplink's ops.down_counted. SJ_ENOTFOUND when none. */
SJ_NODISCARD int sj_down_counted(sqlite3 *db, uint8_t epoch[SJ_EPOCH_BYTES]);

/* The uplink's ops.down_parent over db (meta down_parent): records the
 * parent's store epoch; when another one was recorded and the parent does
 * not keep children's cursors (keep 0: Welcome.down_keep unset, an older
 * parent), also sets the cursor to 0 (*reset = 1), in one transaction. */
SJ_NODISCARD int
sj_down_parent(sqlite3 *db, const uint8_t epoch[SJ_EPOCH_BYTES], int keep, int *reset);

/* Applies one valid item (inside the transaction): seq, the decoded item and
 * its exact bytes. it is NULL for an item of a kind this build does not
 * know (it is kept whatever fn does; a hub passes it on to the station its
 * `to` names; SJ_OK, else a storage error). SJ_EPROTO with reason refuses that item (one that is
 * not for this node): what it did is rolled back to before it, the item is kept in down_refused and
 * the batch goes on. */
typedef int (*sj_down_apply_fn)(void *ctx,
                                uint64_t seq,
                                const sj_down_item_t *it,
                                const uint8_t *item,
                                size_t len,
                                char *reason,
                                size_t rs);

/* The uplink's ops.down_apply over db: in one BEGIN IMMEDIATE .. COMMIT,
 * skips items at or below the cursor, keeps items of a kind this build does
 * not know in down_kept (logged once per kind), decodes and validates the
 * others (sj_down_item_decode) and calls fn for each; an item that does not
 * decode or that fn refuses goes to down_refused (logged); then stores the
 * new cursor. Only a gap (or a storage error) rolls everything back:
 * SJ_EPROTO with reason. *cursor gets the new cursor on success. */
SJ_NODISCARD int sj_down_apply(sqlite3 *db,
                               uint64_t first_seq,
                               const ProtobufCBinaryData *items,
                               size_t n,
                               sj_down_apply_fn fn,
                               void *ctx,
                               uint64_t *cursor,
                               char *reason,
                               size_t reason_size);

/* On open of a child store (write mode): applies the kept items whose kind
 * this build knows (an upgrade taught it), in seq order, through fn, each
 * then leaving down_kept (one that fn refuses moves to down_refused).
 * *applied (may be NULL) gets how many. Runs its own transaction. */
SJ_NODISCARD int sj_down_apply_kept(sqlite3 *db, sj_down_apply_fn fn, void *ctx, int *applied);

/* The latest refusals to report up (at most max, newest first): this
 * store's own (down_refused, child '') and, in a hub, those its stations
 * reported (down_refusals). *n gets how many. */
SJ_NODISCARD int
sj_down_refusals_latest(sqlite3 *db, sj_down_refusal_t *out, size_t max, size_t *n);

/* ---- status (issue 19) ---- */

/* For `status` (table format): each downward stream (its items kept, the
 * child's cursor, the oldest item not acked and its age) and every refusal
 * reported ("station X refused down item N: reason"), and, in a child
 * store, the items it refused itself. Nothing when there is nothing. */
SJ_NODISCARD int sj_down_status_text(sqlite3 *db, FILE *out);
/* The same for --format json: adds "down_streams" and "down_refusals" to
 * root. */
SJ_NODISCARD int sj_down_status_json(sqlite3 *db, cJSON *root);
/* Issue 15 item 5: an item its child has not acked this long after it was
 * made is undelivered (未送达): marked in status (table: "UNDELIVERED",
 * json: "undelivered": true per stream and "undelivered_after_s"), a
 * WARNING in status --check. The process's setting (the CLI's
 * --undelivered-after HOURS, config key [status] / [serve]
 * undelivered-after); 0 or less: the default, 24 h. */
#define SJ_DOWN_UNDELIVERED_S (24 * 3600)
void sj_down_undelivered_after_set(int64_t seconds);
int64_t sj_down_undelivered_after(void);

/* For `status --check`: a WARNING naming the refusals reported, and one
 * naming the streams with undelivered items. */
SJ_NODISCARD int sj_down_check(sqlite3 *db, sj_health_t *h);

#endif
