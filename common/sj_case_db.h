/* sj_case_db: the table side of the case model (sj_case.h) for a parent
 * store, the county's and the hub's alike: reads a case's facts and status
 * changes into sj_case structs, runs the walk, and writes its verdicts back
 * (which change is applied or in force, the conflict list). The store
 * names its tables; what a case's outcome column is and how it is updated
 * stays with the store (its table adapter).
 *
 * The tables it works on:
 *   <changes>(<arrival> INTEGER, case_id BLOB, id BLOB, parent BLOB, origin TEXT,
 *             new_outcome INTEGER, prev_outcome INTEGER, created_ms INTEGER,
 *             applied INTEGER)   parent: NULL = not recorded yet (a row made
 *             before the parent existed), empty = the report, else a change id;
 *             applied: 0 not applied, 1 on the path in force, 2 in force (the head)
 *   assignments(case_id, assignee)   every assignment of a case
 *   conflicts(case_id, <conflict key> INTEGER, reason TEXT)  the listed changes
 *   meta(key, value)                  "case_parents" = 1 while the rows of an
 *             older schema wait for their parents (sj_case_db_upgrade)
 *
 *   events(id, raw)                   the report event of a case (snapshots)
 *
 * One connection, one thread (the store's). Every function runs inside the
 * caller's write transaction unless it says otherwise. */
#ifndef SJ_CASE_DB_H
#define SJ_CASE_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "sj_case.h"
#include "sj_err.h"
#include "sj_update.h"

typedef struct {
    /* ?1 case id -> one row (none: the case is not here): the reporting
     * station, the outcome the case started with here, and the parent's
     * word (head BLOB: NULL when none heard, empty or an id; its outcome). */
    const char *report_sql;
    const char *changes;      /* the status changes table */
    const char *arrival;      /* its arrival column (the store's row order) */
    const char *conflict_key; /* the arrival column's name in conflicts */
    /* ?1 outcome, ?2 case id (and ?3 now, ms, if it has three parameters):
     * writes the case's outcome in force to the store's own table. */
    const char *outcome_sql;
    /* The cases with status changes and no report here (one blob column):
     * the orphans, read at the first sj_case_db_orphan_maybe (sj_idbits). */
    const char *orphans_sql;
    const char *county; /* the county's code, "000000" when none (facts.county) */
} sj_case_tables_t;

typedef struct sj_case_db sj_case_db_t;

/* Prepares the statements on db (borrowed; tables as above must exist).
 * NULL after logging. */
sj_case_db_t *sj_case_db_new(sqlite3 *db, const sj_case_tables_t *tables);
void sj_case_db_destroy(sj_case_db_t **self_p);

/* A case as the store holds it. Owned by the caller: sj_case_rows_free. */
typedef struct {
    int found;             /* its report (or the case) is here */
    sj_case_facts_t facts; /* assignees point into the storage below */
    sj_case_start_t start; /* root outcome, the parent's word */
    sj_case_change_t *ch;  /* its status changes (sj_case_db_load) */
    size_t n;
    int *applied;        /* the stored applied value of each change */
    int *prev_outcome;   /* each change's prev_outcome (0: not given) */
    int64_t *created_ms; /* each change's created_ms (display; the upgrade's old order) */
    int *parent_null;    /* 1: its parent is not recorded yet */
    char (*assignee_buf)[SJ_CODE_MAX + 1];
    size_t cap_ch, cap_assignees;
} sj_case_rows_t;

void sj_case_rows_free(sj_case_rows_t *rows);

/* The facts and start of case id (no changes). rows->found = 0 when the
 * case is not here. SJ_OK or a storage error. */
SJ_NODISCARD int
sj_case_db_facts(sj_case_db_t *self, const uint8_t id[SJ_ID_BYTES], sj_case_rows_t *rows);
/* The facts, start and every status change of case id. */
SJ_NODISCARD int
sj_case_db_load(sj_case_db_t *self, const uint8_t id[SJ_ID_BYTES], sj_case_rows_t *rows);

/* Loads case id, walks it and writes the verdicts: each change's applied
 * value, the case's conflict rows (deleted and listed anew), and the
 * outcome in force (tables.outcome_sql; not with SJ_CASE_DB_KEEP_OUTCOME).
 * *state gets what is in force, *changed (may be NULL) whether the outcome
 * was written anew. A case that is not here (an orphan) is left alone:
 * *found = 0, and it is marked (sj_case_db_orphan_maybe). */
#define SJ_CASE_DB_KEEP_OUTCOME 1u
SJ_NODISCARD int sj_case_db_replay(sj_case_db_t *self,
                                   const uint8_t id[SJ_ID_BYTES],
                                   unsigned flags,
                                   sj_case_state_t *state,
                                   int *found,
                                   int *changed);

/* Changes that arrive before their report (another path) are kept and
 * replayed when it comes. So that a report does not ask the database each
 * time: 0 when case id certainly has no such changes (sj_idbits: every
 * orphan is marked, at the first question from orphans_sql and then by
 * sj_case_db_replay); 1 when it may. A store whose report row would show
 * in orphans_sql asks before inserting it. */
int sj_case_db_orphan_maybe(sj_case_db_t *self, const uint8_t id[SJ_ID_BYTES]);
/* Does case id have status changes here? (*waits 1: replay it.) */
SJ_NODISCARD int sj_case_db_waits(sj_case_db_t *self, const uint8_t id[SJ_ID_BYTES], int *waits);

/* Stores status change ev as a row of the changes table (arrival: its row
 * order here), with its parent (sj_case_db_parent). The caller replays. */
SJ_NODISCARD int sj_case_db_insert(sj_case_db_t *self, const sj_event_t *ev, int64_t arrival);

/* Authority where an event first enters (a store's check_event, docs/
 * CASES.md): a status change must come from one who may change the case, an
 * assignment from one who may assign it to its assignee (finality is not
 * judged: the assigner saw its own state). A case not here: an assignment
 * is refused; a status change is refused with holder (e.g. "township
 * 230523100": a hub holds its township's cases), and let through without
 * (the county: kept and judged when the report comes, the walk lists it
 * unauthorized). Reports and every other type (a quarantine notice)
 * pass. SJ_OK, SJ_EPROTO (quarantine) with the reason, or a storage
 * error. */
SJ_NODISCARD int sj_case_db_check(
    sj_case_db_t *self, const sj_event_t *ev, const char *holder, char *reason, size_t reason_size);

/* The parent to record for a new status change ev of this store: the
 * change it names (prev_change), or for an event that names none
 * sj_case_legacy_parent over the case as held before ev (a case whose report
 * is not here: the latest change held that set ev's prev_outcome, else the
 * report). */
SJ_NODISCARD int sj_case_db_parent(sj_case_db_t *self,
                                   const sj_event_t *ev,
                                   uint8_t parent[SJ_ID_BYTES],
                                   int *has_parent);

/* What this store holds in force for case id (without writing): *found 0
 * when the case is not here. For a tool's own change (update). */
SJ_NODISCARD int sj_case_db_state(sj_case_db_t *self,
                                  const uint8_t id[SJ_ID_BYTES],
                                  sj_case_state_t *state,
                                  int *found);

/* The account (Event.account, issue 17) the node's own changes made from
 * now on carry; NULL or "": none (a command). */
void sj_case_db_set_account(sj_case_db_t *self, const char *account);

/* A node's own status change (`update`) in one transaction
 * (sj_update_run): the case must be here (SJ_ENOTFOUND: "no case ID
 * <where>"), `origin` (the node's code) may change it and the new outcome
 * must be reachable from the one in force (SJ_EINVAL with the reason).
 * The change names the change in force as prev_change and its outcome as
 * prev_outcome; append(ctx, ev, reason, size) stores it as the next event
 * of the node's own stream (which replays the case); res then says what
 * is in force and whether this change took effect. Not within a
 * transaction of the caller. */
SJ_NODISCARD int
sj_case_db_update(sj_case_db_t *self,
                  const char *origin,
                  const char *where,
                  int (*append)(void *ctx, sj_event_t *ev, char *reason, size_t reason_size),
                  void *ctx,
                  const uint8_t case_id[SJ_ID_BYTES],
                  int outcome,
                  const char *note,
                  const char *officer,
                  sj_update_result_t *res,
                  char *reason,
                  size_t reason_size);
/* sj_case_db_update with the petitioner's evaluation on a conclusion
 * (1..4; 0 none). */
SJ_NODISCARD int
sj_case_db_update_ex(sj_case_db_t *self,
                     const char *origin,
                     const char *where,
                     int (*append)(void *ctx, sj_event_t *ev, char *reason, size_t reason_size),
                     void *ctx,
                     const uint8_t case_id[SJ_ID_BYTES],
                     int outcome,
                     int satisfaction,
                     const char *note,
                     const char *officer,
                     sj_update_result_t *res,
                     char *reason,
                     size_t reason_size);
/* May `assigner` (this node) assign case id to assignee now
 * (sj_case_may_assign with the outcome in force)? SJ_ENOTFOUND (no reason)
 * when the case is not here; SJ_EINVAL with the reason. */
SJ_NODISCARD int sj_case_db_may_assign(sj_case_db_t *self,
                                       const uint8_t id[SJ_ID_BYTES],
                                       const char *assigner,
                                       const char *assignee,
                                       char *reason,
                                       size_t reason_size);

/* The snapshot of case id for a down item (sj_case_snapshot_*): the
 * report's fields from its report event, the state in force (a walk, not
 * written), the conflict flag (anything listed), taken now. SJ_ENOTFOUND
 * when the report event is not here. */
SJ_NODISCARD int
sj_case_db_snapshot(sj_case_db_t *self, const uint8_t id[SJ_ID_BYTES], sj_snapshot_t *snap);

/* Once after a migration to the schema that records parents (meta
 * case_parents = 1): runs its own transaction, in which every status change
 * without a parent gets one by the old rule (the changes of each case taken
 * in (created_ms, origin, id) order, as if they had arrived so, each with
 * sj_case_legacy_parent), then replay(ctx, case id) is called for each such
 * case (the store's own replay, which writes its outcome), and the flag is
 * cleared. Logs what it does. *n_cases (may be NULL) gets the cases
 * redone. SJ_OK when there was nothing to do. */
SJ_NODISCARD int sj_case_db_upgrade(sj_case_db_t *self,
                                    int (*replay)(void *ctx, const uint8_t id[SJ_ID_BYTES]),
                                    void *ctx,
                                    size_t *n_cases);

#endif
