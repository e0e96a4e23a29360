#include "sj_update.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sj_db.h"

int
sj_update_run(sqlite3 *db, sj_update_tx_fn tx, void *ctx, const uint8_t case_id[SJ_ID_BYTES],
              int outcome, const char *note, const char *officer, int *prev,
              uint8_t ev_id[SJ_ID_BYTES], char *reason, size_t reason_size)
{
    sj_event_t *ev = calloc(1, sizeof *ev);
    if (!ev) {
        snprintf(reason, reason_size, "the change was NOT stored: %s", sj_strerror(SJ_ENOMEM));
        return SJ_ENOMEM;
    }
    reason[0] = '\0';
    memcpy(ev->case_id, case_id, SJ_ID_BYTES);
    ev->new_outcome = outcome;
    snprintf(ev->note, sizeof ev->note, "%s", note ? note : "");
    snprintf(ev->officer, sizeof ev->officer, "%s", officer ? officer : "");
    int rc = sj_db_begin(db);
    if (rc == SJ_OK) {
        rc = tx(ctx, ev, prev, reason, reason_size);
        if (rc == SJ_OK) {
            rc = sj_db_commit(db);
        }
        if (rc != SJ_OK) {
            sj_db_rollback(db);
        }
    }
    if (rc == SJ_OK) {
        memcpy(ev_id, ev->id, SJ_ID_BYTES);
    } else if (!reason[0]) {
        snprintf(reason, reason_size, "the change was NOT stored: %s", sj_strerror(rc));
    }
    free(ev);
    return rc;
}
