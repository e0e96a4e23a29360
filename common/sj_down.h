/* sj_down: a parent's downward streams (issue 4, assignments 交办), the same
 * for the county and a township hub. Each child code has its own gapless seq
 * 1, 2, 3, ... of items (packed DownItems: an assignment event's exact bytes
 * and a snapshot of its case); rows are never deleted, so a re-created child
 * store (cursor 0) receives its stream again and applies it idempotently
 * (the zguide Clone pattern). down_acks keeps each child's applied cursor as
 * it last said it, for status (undelivered = head - cursor).
 *
 * The functions here have the shapes of sj_downlink_ops_t's down_* members:
 * a parent store holds one sj_down_t on its writer connection and forwards
 * its ops to it. */
#ifndef SJ_DOWN_H
#define SJ_DOWN_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

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
/* Items of child after seq `after`, in order (see sj_downlink_ops_t). */
SJ_NODISCARD int
sj_down_fetch(sj_down_t *self,
              const char *child,
              uint64_t after,
              size_t max_items,
              size_t max_bytes,
              int (*add)(void *add_ctx, uint64_t seq, const void *item, size_t len),
              void *add_ctx);
/* Records child's cursor (inside the caller's transaction). */
SJ_NODISCARD int sj_down_acked(sj_down_t *self, const char *child, uint64_t cursor);

/* ---- the child side: applying a received batch ---- */

/* The child's cursor, meta key down_cursor (0 when never set). */
SJ_NODISCARD int sj_down_cursor(sqlite3 *db, uint64_t *cursor);

/* The uplink's ops.down_parent over db (meta down_parent): records the
 * parent's store epoch; when another one was recorded, also sets the cursor
 * to 0 (*reset = 1), in one transaction. */
SJ_NODISCARD int sj_down_parent(sqlite3 *db, const uint8_t epoch[SJ_EPOCH_BYTES], int *reset);

/* Applies one valid item (inside the transaction): seq, the decoded item and
 * its exact bytes. SJ_EPROTO with reason refuses the whole batch (an item
 * that is not for this node). */
typedef int (*sj_down_apply_fn)(void *ctx,
                                uint64_t seq,
                                const sj_down_item_t *it,
                                const uint8_t *item,
                                size_t len,
                                char *reason,
                                size_t rs);

/* The uplink's ops.down_apply over db: in one BEGIN IMMEDIATE .. COMMIT,
 * skips items at or below the cursor, decodes and validates the others
 * (sj_down_item_decode), calls fn for each, and stores the new cursor. A
 * gap, an invalid item or fn's refusal rolls everything back: SJ_EPROTO
 * with reason naming the item. *cursor gets the new cursor on success. */
SJ_NODISCARD int sj_down_apply(sqlite3 *db,
                               uint64_t first_seq,
                               const ProtobufCBinaryData *items,
                               size_t n,
                               sj_down_apply_fn fn,
                               void *ctx,
                               uint64_t *cursor,
                               char *reason,
                               size_t reason_size);

#endif
