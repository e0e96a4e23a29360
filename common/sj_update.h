/* sj_update: recording a status change that a parent tier (hub, county)
 * originates on its own stream. The tier supplies the part inside the write
 * transaction (check the transition, number and chain the event, store it);
 * this module builds the event, runs that in one transaction and reports. */
#ifndef SJ_UPDATE_H
#define SJ_UPDATE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "sj_wire.h"

/* Inside the open transaction: checks and stores ev; *prev is the outcome
 * the case had; reason is filled on a refusal. */
typedef int (*sj_update_tx_fn)(void *ctx, sj_event_t *ev, int *prev, char *reason,
                               size_t reason_size);

/* Builds the status-change event for case_id, runs tx in BEGIN IMMEDIATE ..
 * COMMIT (ROLLBACK on any failure: nothing stored), and copies the new
 * event's id into ev_id. reason always says why on failure. */
SJ_NODISCARD int sj_update_run(sqlite3 *db, sj_update_tx_fn tx, void *ctx,
                               const uint8_t case_id[SJ_ID_BYTES], int outcome, const char *note,
                               const char *officer, int *prev, uint8_t ev_id[SJ_ID_BYTES],
                               char *reason, size_t reason_size);

#endif
