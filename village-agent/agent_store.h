/* agent_store: the station's outbox. Every report is written here durably
 * (synchronous=FULL) before anything is sent; the outbox is the uplink's
 * queue. Each event gets origin_seq = last + 1 (never reused, kept in meta)
 * and prev_hash = the hash of the previous event (the chain the county checks). */
#ifndef AGENT_STORE_H
#define AGENT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "sj_db.h"
#include "sj_link.h"
#include "sj_wire.h"

typedef struct agent_store agent_store_t;

/* Opens dir/village-agent.db. With SJ_DB_WRITE and a new store, station must
 * be given and a random epoch is made; with an existing store a given station
 * must match the stored one. NULL with err filled on failure. */
agent_store_t *agent_store_open(const char *dir, const char *station, sj_db_mode_t mode, char *err,
                                size_t err_size);
void agent_store_close(agent_store_t **self_p);
const char *agent_store_station(const agent_store_t *self);
const uint8_t *agent_store_epoch(const agent_store_t *self);
sqlite3 *agent_store_db(agent_store_t *self);

/* Transactions around agent_store_add for batch imports. */
SJ_NODISCARD int agent_store_begin(agent_store_t *self);
SJ_NODISCARD int agent_store_commit(agent_store_t *self);
void agent_store_rollback(agent_store_t *self);

/* Adds a report event: ev->id, ev->report (and sealed) are the caller's;
 * origin, epoch, seq, prev_hash, created_ms are filled here. *dup is set when
 * an event with that id is already in the outbox (nothing stored). Must run
 * inside agent_store_begin/commit. */
SJ_NODISCARD int agent_store_add(agent_store_t *self, sj_event_t *ev, int *dup);

/* Uplink callbacks over this store (ctx = the store). */
extern const sj_uplink_ops_t agent_store_uplink_ops;

typedef enum { AGENT_QUEUED = 0, AGENT_AT_HUB, AGENT_REJECTED } agent_state_t;
const char *agent_state_name(agent_state_t s);

typedef struct {
    uint64_t seq;
    agent_state_t state;
    const char *reason; /* rejection reason or "" */
    const sj_event_t *ev;
} agent_outbox_row_t;

/* Calls fn for every outbox entry in seq order. */
SJ_NODISCARD int agent_store_outbox(agent_store_t *self,
                                    int (*fn)(void *ctx, const agent_outbox_row_t *row), void *ctx);
/* Counts: total events, acked by the hub, rejected. */
SJ_NODISCARD int agent_store_counts(agent_store_t *self, uint64_t *total, uint64_t *acked,
                                    uint64_t *rejected);

#endif
