/* agent_store: the station's outbox. Every report is written here durably
 * (synchronous=FULL) before anything is sent; the outbox is the uplink's
 * queue.
 *
 * Each row has the station's report number `num` (1, 2, 3, ... over the
 * store's life, never reused: what the officer sees as "seq") and the link
 * key (epoch, seq): the stream the hub receives. Each event gets
 * origin_seq = seq = last + 1 in the current epoch (kept in meta) and
 * prev_hash = the hash of the previous event of that epoch (the chain the
 * county checks). Until the store diverges from the hub, num = seq.
 *
 * Divergence (see sj_link.h): a store restored from an older copy would reuse
 * seqs the hub already holds. Before any batch leaves, the store records how
 * far its stream may be at the hub (meta offered_through). When the hub's
 * mark is above it, the events the hub has not confirmed are moved, in one
 * transaction, to a new random epoch: same ids and contents, seq 1, 2, ...,
 * a fresh chain. Rows of older epochs were confirmed before the move. */
#ifndef AGENT_STORE_H
#define AGENT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "sj_db.h"
#include "sj_link.h"
#include "sj_update.h"
#include "sj_wire.h"

#define AGENT_STORE_FILE "village-agent.db" /* in the data directory */

typedef struct agent_store agent_store_t;

/* Opens dir/village-agent.db. With SJ_DB_WRITE and a new store, station must
 * be given and a random epoch is made; with an existing store a given station
 * must match the stored one. NULL with err filled on failure. */
agent_store_t *agent_store_open(
    const char *dir, const char *station, sj_db_mode_t mode, char *err, size_t err_size);
void agent_store_close(agent_store_t **self_p);
const char *agent_store_station(const agent_store_t *self);
/* The epoch this handle works on (borrowed; changes when the store diverged). */
const uint8_t *agent_store_epoch(const agent_store_t *self);
sqlite3 *agent_store_db(agent_store_t *self);

/* Transactions around agent_store_add for batch imports. */
SJ_NODISCARD int agent_store_begin(agent_store_t *self);
SJ_NODISCARD int agent_store_commit(agent_store_t *self);
void agent_store_rollback(agent_store_t *self);

/* Adds a report event: ev->id, ev->report (and sealed) are the caller's;
 * origin, epoch, seq, prev_hash, created_ms are filled here. *dup is set when
 * an event with that id is already in the outbox, or was pruned from it
 * (nothing stored). *num (if not NULL) gets the report number of a new row.
 * Must run inside agent_store_begin/commit. */
SJ_NODISCARD int agent_store_add(agent_store_t *self, sj_event_t *ev, int *dup, uint64_t *num);

/* The current outcome of a case this station reported or was assigned, as
 * the station knows it, and the change in force it knows (the head its next
 * change names as prev_change, docs/CASES.md): the station's own last
 * change of the case (its new outcome and id), unless the inbox holds a
 * snapshot of the case received after that change (then the snapshot's
 * outcome and head); with no change, the inbox's, else its report's
 * (no head). SJ_ENOTFOUND when neither the outbox nor the inbox knows the
 * case. Call inside agent_store_begin/commit when a change follows. */
SJ_NODISCARD int agent_store_case_state(agent_store_t *self,
                                        const uint8_t id[SJ_ID_BYTES],
                                        int *outcome,
                                        uint8_t head[SJ_ID_BYTES],
                                        int *has_head);
/* agent_store_case_state's outcome alone. */
SJ_NODISCARD int
agent_store_case_outcome(agent_store_t *self, const uint8_t id[SJ_ID_BYTES], int *outcome);

/* Adds a status change (issue 4): ev->case_id, new_outcome, note, officer
 * are the caller's; the case must be one of the station's reports or
 * assigned cases, and the change an edge of the outcome state machine
 * (sj_outcome_transition_ok) from its current outcome, which becomes
 * ev->prev_outcome; the change in force it knows becomes ev->prev_change
 * (agent_store_case_state). A new id is made here. res: the outcome before,
 * the one in force here after, whether this change is it. SJ_ENOTFOUND
 * (unknown case) or SJ_EINVAL (not allowed) with reason, nothing stored.
 * Must run inside agent_store_begin/commit. */
SJ_NODISCARD int agent_store_update(agent_store_t *self,
                                    sj_event_t *ev,
                                    uint64_t *num,
                                    sj_update_result_t *res,
                                    char *reason,
                                    size_t reason_size);

/* Moves the events the hub has not confirmed to a new epoch if parent_mark
 * (the hub's mark for the current epoch) is above the offered mark: the
 * uplink's ops.diverged (see sj_link.h for the contract). Also when
 * parent_mark is below an entry pruned here (a hub restored from an old
 * backup): then the entries after the county's receipt move, those the
 * county has stay. Public for tests. */
SJ_NODISCARD int agent_store_diverged(agent_store_t *self,
                                      uint64_t parent_mark,
                                      int *moved,
                                      uint8_t new_epoch[SJ_EPOCH_BYTES]);

/* Uplink callbacks over this store (ctx = the store). */
extern const sj_uplink_ops_t agent_store_uplink_ops;

/* queued: not yet confirmed by the hub; at-hub: committed at the hub;
 * at-county: the county's receipt came back; rejected: quarantined. */
typedef enum { AGENT_QUEUED = 0, AGENT_AT_HUB, AGENT_REJECTED, AGENT_AT_COUNTY } agent_state_t;
const char *agent_state_name(agent_state_t s);

typedef struct {
    uint64_t seq;            /* the report number (num) */
    uint8_t id[SJ_ID_BYTES]; /* from the outbox row, also when ev is NULL */
    agent_state_t state;
    const char *reason;     /* rejection reason or "" */
    const sj_event_t *ev;   /* NULL when the stored bytes cannot be decoded */
    const char *unreadable; /* why ev is NULL, else "" */
    /* A report's row (issue 15): ev carries the values this station's own
     * later corrections set (in outbox order; corrected 1), voided 1 when
     * this station voided it; the stored bytes are unchanged. */
    int corrected;
    int voided;
} agent_outbox_row_t;

/* Calls fn for every outbox entry in report-number order, also for entries
 * whose bytes cannot be decoded (ev NULL): no row is ever left out. */
SJ_NODISCARD int agent_store_outbox(agent_store_t *self,
                                    int (*fn)(void *ctx, const agent_outbox_row_t *row),
                                    void *ctx);
/* The same, newest first: at most limit entries (-1: all) after the newest
 * offset (a page of the desk's outbox). */
SJ_NODISCARD int agent_store_outbox_newest(agent_store_t *self,
                                           int64_t offset,
                                           int64_t limit,
                                           int (*fn)(void *ctx, const agent_outbox_row_t *row),
                                           void *ctx);

typedef struct {
    uint64_t total;     /* rows in the outbox */
    uint64_t at_hub;    /* confirmed by the hub and accepted, no receipt yet */
    uint64_t at_county; /* the county's receipt came back */
    uint64_t queued;    /* not yet confirmed */
    uint64_t rejected;  /* confirmed but quarantined there (or unreadable here) */
    uint64_t pruned;    /* removed by agent_store_prune over the store's life (not in total) */
} agent_counts_t;

/* One case of the inbox (issue 4), strings borrowed for the callback. */
typedef struct {
    uint8_t case_id[SJ_ID_BYTES];
    const char *assigned_by; /* origin of the assignment: county or township code */
    const char *due_on;      /* YYYY-MM-DD */
    int64_t days_left;       /* due_on - today (this machine's date, UTC); < 0: past due */
    int outcome;             /* current: the station's own later change, else as assigned */
    int conflict;            /* the county listed a conflict (as the item said) */
    const char *occurred_on;
    int category;
    uint32_t persons;
    const char *summary;
    const char *note;   /* what was asked */
    const char *origin; /* the station that reported it */
    int unread;         /* its assignment was never opened on the desk (new) */
    int corrected;      /* issue 15: this station corrected it (the values above are the new) */
    int voided;         /* issue 15: this station voided it (作废) */
    /* Issue 16: the statutory clock (docs/CLOCK.md), from the facts the
     * latest item brought and the periods the parent sent; has_clock 0
     * when the item came from an older sender. A case the station itself
     * concluded has no running stage. */
    int has_clock;
    sj_clock_t clock;
    int overdue; /* open and past the 交办 due date or a running stage's */
} agent_inbox_row_t;

/* Calls fn for every assigned case, by due date; with overdue_only only the
 * open ones (pending, accepted) past their due date or a running statutory
 * stage's (agent_inbox_row_t.overdue). */
SJ_NODISCARD int agent_store_inbox(agent_store_t *self,
                                   int overdue_only,
                                   int (*fn)(void *ctx, const agent_inbox_row_t *row),
                                   void *ctx);

/* Marks the current assignment of case_id as opened on the desk (no
 * longer new; agent_inbox_row_t.unread). Nothing for a case not in the
 * inbox. SJ_OK or a storage error. */
SJ_NODISCARD int
agent_store_inbox_seen(agent_store_t *self, const uint8_t case_id[SJ_ID_BYTES], int64_t now_ms);

/* The officer's desk across restarts of `serve` (agent store migration 8).
 * The key of its CSRF tokens: the one kept while younger than max_age_ms,
 * else a new random one (kept; the sessions and form keys of the old one
 * are deleted with it). */
SJ_NODISCARD int
agent_store_desk_secret(agent_store_t *self, int64_t now_ms, int64_t max_age_ms, uint8_t out[32]);
/* Logged-in sessions, by the BLAKE2b of the session id: kept, dropped, and
 * read back (only those not idle longer than idle_ms nor older than max_ms,
 * the most recently seen first). */
SJ_NODISCARD int agent_store_desk_session_put(agent_store_t *self,
                                              const uint8_t sid_hash[32],
                                              int64_t since_ms,
                                              int64_t seen_ms);
SJ_NODISCARD int agent_store_desk_session_drop(agent_store_t *self, const uint8_t sid_hash[32]);
SJ_NODISCARD int agent_store_desk_sessions(
    agent_store_t *self,
    int64_t now_ms,
    int64_t idle_ms,
    int64_t max_ms,
    int (*fn)(void *ctx, const uint8_t sid_hash[32], int64_t since_ms, int64_t seen_ms),
    void *ctx);
/* A form key acted on: the redirect it answered (SJ_OK), or SJ_ENOTFOUND;
 * put keeps one (and forgets those older than keep_ms). */
SJ_NODISCARD int
agent_store_desk_form_get(agent_store_t *self, const char *key, char *location, size_t size);
SJ_NODISCARD int agent_store_desk_form_put(
    agent_store_t *self, const char *key, const char *location, int64_t now_ms, int64_t keep_ms);

/* Counts by state; at_hub + at_county + queued + rejected = total. */
SJ_NODISCARD int agent_store_counts(agent_store_t *self, agent_counts_t *out);

/* What agent_store_prune did (or, dry run, would do) with every entry. */
typedef struct {
    uint64_t pruned;        /* deleted: committed at the county, older than the cut-off */
    uint64_t kept_queued;   /* not yet confirmed by the hub */
    uint64_t kept_at_hub;   /* at the hub; the county's receipt has not come back */
    uint64_t kept_recent;   /* at the county, but not older than the cut-off */
    uint64_t kept_rejected; /* rejected by the hub, or unreadable: the officer must see it */
    uint64_t kept_last;     /* the newest entry of the current epoch (the stream's head) */
    uint64_t pruned_before; /* pruned by earlier runs */
} agent_prune_t;

/* Deletes, in one transaction, the outbox entries the county has committed
 * (seq <= the county's receipt of their epoch) that were created before
 * before_ms; with dry_run nothing changes and *out says what would go.
 * Never deleted: an entry not at the county, a rejected or unreadable one
 * (the officer has to see it; it stays until a later version offers to
 * dismiss it), and the newest entry of the current epoch (the uplink's
 * head). Numbering is unaffected: report numbers are AUTOINCREMENT, the
 * next seq and prev_hash come from meta (last_seq, last_hash), so the next
 * event still chains to the last one made. Each pruned case keeps its id and
 * current outcome (pruned_cases): `update` still works on it and importing
 * it again is a duplicate. The highest pruned seq of the current epoch is
 * recorded (meta pruned_through): a hub restored from a backup below it is
 * handled by agent_store_diverged. Returns SJ_OK or a storage error (nothing
 * deleted). */
SJ_NODISCARD int
agent_store_prune(agent_store_t *self, int64_t before_ms, int dry_run, agent_prune_t *out);

#endif
