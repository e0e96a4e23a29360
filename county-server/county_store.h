/* county_store: the master database. Every event is kept with the exact
 * bytes its origin hashed (events), deduplicated forever by
 * (origin, epoch, origin_seq) and by event id; each report is also a row of
 * matters, the table every figure is counted from.
 *
 * Schema (version 1):
 *   events(eid, id UNIQUE, origin, epoch, origin_seq, via, type, created_ms,
 *          received_ms, prev_hash, hash, raw, UNIQUE(origin, epoch, origin_seq))
 *   matters(id PRIMARY KEY, origin, township, occurred_on 'YYYY-MM-DD',
 *           channel, kind, persons, level, category, outcome, source
 *           (enum values 1..n as in sj_model.h), summary, officer,
 *           sealed (ciphertext or NULL), created_ms, received_ms)
 *   links, quarantine (sj_link.h).
 * Version 2 (cases, issue 4): matters.reported_outcome (the outcome the
 * report arrived with; matters.outcome is the current one),
 *   status_changes(eid = events.eid, case_id, origin, id, created_ms,
 *          prev_outcome, new_outcome), conflicts(case_id, eid, reason);
 *          see county_store.c for the conflict rule.
 * Version 8 (issue 12): status_changes.parent (the change in force its
 *   author saw; empty = the report) and applied (0, 1 on the path in force,
 *   2 in force); conflicts.reason says why a change is listed
 *   (docs/CASES.md). */
#ifndef COUNTY_STORE_H
#define COUNTY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "sj_clock.h"
#include "sj_db.h"
#include "sj_link.h"
#include "sj_model.h"
#include "sj_update.h"
#include "sj_wire.h"

#define COUNTY_STORE_FILE "county-server.db" /* in the data directory */

typedef struct county_store county_store_t;

/* Opens dir/county-server.db. code (6 digits) is optional: when set (now or
 * when the store was made) children must lie under it. */
county_store_t *
county_store_open(const char *dir, const char *code, sj_db_mode_t mode, char *err, size_t err_size);
void county_store_close(county_store_t **self_p);
/* The store's migrations (for restore's schema check); *n gets their number. */
const sj_migration_t *county_store_migrations(size_t *n);
const uint8_t *county_store_epoch(const county_store_t *self);

extern const sj_downlink_ops_t county_store_downlink_ops;

/* The tallies (county_tally.h: tally_place per day x station, tally_kind
 * per month x enum fields, tally_field per month x township x one field;
 * `stats` reads them) are kept by the store for every matter it stores, and
 * by triggers when a matter changes or goes. A tool that INSERTs matters
 * with plain SQL (a bulk loader, a test fixture) must count them again with
 * this, inside or outside its transaction. db: the store's connection
 * (county_store_view.h) or any other connection to its file. */
SJ_NODISCARD int county_store_tally_rebuild(sqlite3 *db);

/* One bounded step of the search index (sj_history_index): at most
 * max_rows reports' events rows or about max_ms, in its own transaction.
 * *more: 1 when rows above the mark are left; *done (may be NULL): the
 * summaries indexed. The daemon runs it in its idle time. */
SJ_NODISCARD int
county_store_index(county_store_t *self, int max_rows, int max_ms, int *more, int64_t *done);
/* The daemon's idle step of it (sj_history_index_idle): 1 when more is
 * waiting. */
int county_store_idle(county_store_t *self);

/* The origin code of the county's own events (county-server update): the
 * store's county code, or "000000" when the store has none. */
const char *county_store_origin(const county_store_t *self);
/* The data directory the store was opened in. */
const char *county_store_dir(const county_store_t *self);

/* county-server update (issue 4): a status change made at the county.
 * The county is an origin like any station: its own stream (meta own_epoch,
 * made on first use, own_seq, own_hash: a gapless hash chain that `verify`
 * checks), origin county_store_origin(). The change must be an allowed
 * transition from the outcome in force, which becomes prev_outcome, and it
 * names the change in force as prev_change (docs/CASES.md). Stored and
 * replayed (as events from below are) in one transaction. On success res
 * says the outcome before, the one in force after, and whether this change
 * took effect (sj_update_report prints it).
 * SJ_ENOTFOUND (no such matter) or SJ_EINVAL (not allowed) with reason. */
/* A correction or void made at the county (ev: type SJ_EVENT_CORRECTION or
 * SJ_EVENT_VOID, case_id, note = the reason, officer, and a correction's
 * new values as sj_wire.h says): the next event of the county's own stream,
 * applied at once (docs/CASES.md). ev->id is set. Refused, nothing stored:
 * SJ_ENOTFOUND (no such matter, or voided) with reason; SJ_EDB... */
SJ_NODISCARD int
county_store_fix(county_store_t *self, sj_event_t *ev, char *reason, size_t reason_size);

/* county_store_update_ex made on the dashboard by account (Event.account;
 * NULL: none, the CLI). */
SJ_NODISCARD int county_store_update_by(county_store_t *self,
                                        const uint8_t case_id[SJ_ID_BYTES],
                                        int outcome,
                                        int satisfaction,
                                        const char *note,
                                        const char *officer,
                                        const char *account,
                                        sj_update_result_t *res,
                                        char *reason,
                                        size_t reason_size);
/* The petitioner's evaluation recorded later (issue 16; ev: type
 * SJ_EVENT_EVALUATION, case_id, satisfaction 1..4, note, officer): the next
 * event of the county's own stream; it replaces the evaluation the case
 * had. The case must be concluded. ev->id is set. Refused, nothing stored:
 * SJ_ENOTFOUND, SJ_EINVAL with the reason. */
SJ_NODISCARD int
county_store_evaluate(county_store_t *self, sj_event_t *ev, char *reason, size_t reason_size);

/* The clock's read of a case's changes in force at the county (sj_clock_db). */
#define COUNTY_CLOCK_CHANGES_SQL                         \
    "SELECT created_ms, new_outcome FROM status_changes" \
    " WHERE case_id = ?1 AND applied > 0 ORDER BY created_ms, eid"

/* An extension made at the county (docs/CLOCK.md; ev: case_id, ext_stage
 * (0: the stage running), ext_days, note = the reason, approved_by,
 * officer): checked against the case's clock on today under the periods p
 * (sj_clock_extend_check), then the next event of the county's own stream.
 * ev->id and ev->ext_stage are set, *after is the clock with it. Refused,
 * nothing stored: SJ_ENOTFOUND (no such matter) or SJ_EINVAL (the reason:
 * e.g. already extended). */
SJ_NODISCARD int county_store_extend(county_store_t *self,
                                     sj_event_t *ev,
                                     const sj_periods_t *p,
                                     const char *today,
                                     sj_clock_t *after,
                                     char *reason,
                                     size_t reason_size);

/* county_store_update with the petitioner's evaluation on a conclusion
 * (1..4; 0 none; StatusChange.satisfaction). */
SJ_NODISCARD int county_store_update_ex(county_store_t *self,
                                        const uint8_t case_id[SJ_ID_BYTES],
                                        int outcome,
                                        int satisfaction,
                                        const char *note,
                                        const char *officer,
                                        sj_update_result_t *res,
                                        char *reason,
                                        size_t reason_size);

SJ_NODISCARD int county_store_update(county_store_t *self,
                                     const uint8_t case_id[SJ_ID_BYTES],
                                     int outcome,
                                     const char *note,
                                     const char *officer,
                                     sj_update_result_t *res,
                                     char *reason,
                                     size_t reason_size);

/* county-server assign (issue 4, 交办): assigns a case to a township (9
 * digits) or a station (12) of this county, due on due_on (YYYY-MM-DD, the
 * caller checks it is a date not in the past). One transaction: an
 * assignment event of the county's own stream (as county_store_update), its
 * assignments row, and a down item (the event's bytes and a snapshot of the
 * case) in the downward stream of `via`: the township's hub, or the station
 * itself when it links straight to the county. Refused, nothing stored:
 * SJ_ENOTFOUND (no such matter), SJ_EINVAL (assignee not under this county,
 * case closed or withdrawn: sj_case_may_assign) with reason. ev_id gets the
 * event id. */
SJ_NODISCARD int county_store_assign(county_store_t *self,
                                     const uint8_t case_id[SJ_ID_BYTES],
                                     const char *assignee,
                                     const char *due_on,
                                     const char *note,
                                     const char *officer,
                                     const char *account,
                                     uint8_t ev_id[SJ_ID_BYTES],
                                     char via[SJ_CODE_MAX + 1],
                                     char *reason,
                                     size_t reason_size);

/* county-server places import (issue 15 item 4): stores the names (a code
 * held gets its new name) and, when any changed, sends every child that has
 * connected its part of the list down its stream (sj_places_changed), in
 * one transaction; nothing stored on error (reason). *changed: rows added
 * or renamed; *children: children sent names now. */
SJ_NODISCARD int county_store_places_import(county_store_t *self,
                                            const sj_place_t *p,
                                            size_t n,
                                            size_t *changed,
                                            size_t *children,
                                            char *reason,
                                            size_t reason_size);

/* Issue 16: holds the clock's periods (from the config, at `run`) and,
 * when they changed (*changed 1), offers them to every connected child;
 * the others get them at their Hello (sj_periods_db.h). */
SJ_NODISCARD int
county_store_set_periods(county_store_t *self, const sj_periods_t *p, int *changed);

#endif
