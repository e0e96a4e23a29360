/* sj_update: recording a status change that a parent tier (hub, county)
 * originates on its own stream. The tier supplies the part inside the write
 * transaction (check the transition, number and chain the event, store it);
 * this module builds the event, runs that in one transaction and reports. */
#ifndef SJ_UPDATE_H
#define SJ_UPDATE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "sj_link.h"
#include "sj_wire.h"

/* What a tool's own status change did. */
typedef struct {
    uint8_t ev_id[SJ_ID_BYTES]; /* the new event's id */
    int prev;                   /* the outcome in force before (the change's prev_outcome) */
    int now;                    /* the outcome in force after it was stored and replayed */
    int took_effect;            /* 1: the new change is the one in force */
} sj_update_result_t;

/* Inside the open transaction: checks and stores ev (its case_id,
 * new_outcome, note and officer are set), filling res->prev, res->now and
 * res->took_effect; reason is filled on a refusal. */
typedef int (*sj_update_tx_fn)(
    void *ctx, sj_event_t *ev, sj_update_result_t *res, char *reason, size_t reason_size);

/* Builds the status-change event for case_id, runs tx in BEGIN IMMEDIATE ..
 * COMMIT (ROLLBACK on any failure: nothing stored), and copies the new
 * event's id into res->ev_id. reason always says why on failure. SJ_OK
 * means stored: whether it is in force is res->took_effect. */
SJ_NODISCARD int sj_update_run(sqlite3 *db,
                               sj_update_tx_fn tx,
                               void *ctx,
                               const uint8_t case_id[SJ_ID_BYTES],
                               int outcome,
                               const char *note,
                               const char *officer,
                               sj_update_result_t *res,
                               char *reason,
                               size_t reason_size);

/* sj_update_run with the petitioner's evaluation on a conclusion
 * (StatusChange.satisfaction, 1..4; 0 none). */
SJ_NODISCARD int sj_update_run_ex(sqlite3 *db,
                                  sj_update_tx_fn tx,
                                  void *ctx,
                                  const uint8_t case_id[SJ_ID_BYTES],
                                  int outcome,
                                  int satisfaction,
                                  const char *note,
                                  const char *officer,
                                  sj_update_result_t *res,
                                  char *reason,
                                  size_t reason_size);

/* Runs tx(ctx, reason, size) in BEGIN IMMEDIATE .. COMMIT (ROLLBACK on any
 * failure: nothing stored). reason always says why on failure ("the <what>
 * was NOT stored: ..." when tx said nothing). */
SJ_NODISCARD int sj_update_in_tx(sqlite3 *db,
                                 int (*tx)(void *ctx, char *reason, size_t reason_size),
                                 void *ctx,
                                 const char *what,
                                 char *reason,
                                 size_t reason_size);

/* An assignment event's body (type, case, assignee, due date, note,
 * officer; NULL texts are empty): what `assign` makes at county and hub. */
void sj_update_assignment(sj_event_t *ev,
                          const uint8_t case_id[SJ_ID_BYTES],
                          const char *assignee,
                          const char *due_on,
                          const char *note,
                          const char *officer);

/* What `update` tells the person, the same for the three tools: the new
 * event's id on stdout; on stderr the outcome before and the one in force
 * now ("case ID: accepted -> closed, in force (where)"), or that the change
 * was stored but did not take effect and what is in force instead. Returns
 * the exit status: 0 when it took effect, 1 when not. tool and where name
 * the program and the node ("event of origin 230523"). */
int sj_update_report(const char *tool,
                     const char *id_text,
                     int outcome,
                     const sj_update_result_t *res,
                     const char *where);

/* Inside the open write transaction: numbers and chains ev (type and body
 * are the caller's) as the next event of a node's own stream — origin,
 * epoch, origin_seq = meta own_seq + 1 (seq 1 and a zero prev_hash when
 * own_seq is unset), a new id, created now — stores it with store(ctx, …)
 * as events from below are stored, and records own_seq and own_hash. With
 * raw_p the caller gets the packed bytes (free()). who names the node in
 * the reason when its stream is out of step with its events. */
SJ_NODISCARD int sj_own_append(sqlite3 *db,
                               const char *origin,
                               const uint8_t epoch[SJ_EPOCH_BYTES],
                               int (*store)(void *ctx,
                                            const char *code,
                                            const sj_event_t *ev,
                                            const uint8_t *raw,
                                            size_t len,
                                            sj_stored_t *result),
                               void *ctx,
                               const char *who,
                               sj_event_t *ev,
                               uint8_t **raw_p,
                               size_t *len_p,
                               char *reason,
                               size_t reason_size);

/* The fields of a correction, as a command line gives them (NULL: not
 * given): SJ_FIX_OCCURRED .. SJ_FIX_SUMMARY. */
enum {
    SJ_FIX_OCCURRED = 0,
    SJ_FIX_CHANNEL,
    SJ_FIX_KIND,
    SJ_FIX_PERSONS,
    SJ_FIX_LEVEL,
    SJ_FIX_CATEGORY,
    SJ_FIX_SOURCE,
    SJ_FIX_SUMMARY,
    SJ_FIX_COUNT
};
/* Fills a correction (is_void 0) or void event's body from what a person
 * typed: the case id (a UUID), the new values (a correction needs at least
 * one; enums by name or Chinese label), the reason (required) and the
 * officer (may be NULL). SJ_OK, or SJ_EINVAL with err naming what was wrong
 * (the option as --name). */
SJ_NODISCARD int sj_fix_fill(sj_event_t *ev,
                             int is_void,
                             const char *case_id,
                             const char *const vals[SJ_FIX_COUNT],
                             const char *reason,
                             const char *officer,
                             char *err,
                             size_t err_size);

/* Fills an evaluation event (the petitioner's satisfaction with a concluded
 * case: by name or Chinese label) from what a person typed; note and
 * officer may be NULL. SJ_OK, or SJ_EINVAL with err naming what was wrong. */
SJ_NODISCARD int sj_evaluation_fill(sj_event_t *ev,
                                    const char *case_id,
                                    const char *satisfaction,
                                    const char *note,
                                    const char *officer,
                                    char *err,
                                    size_t err_size);

#endif
