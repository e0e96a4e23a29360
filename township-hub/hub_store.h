/* hub_store: the township hub's relay queue and local view.
 * events(hub_seq) is both what the hub holds for its township and the queue
 * it forwards to the county (hub_seq is the link seq upward; rows are never
 * deleted, so hub_seq = max(hub_seq) + 1 is gapless). Every event is stored
 * with the exact bytes its origin hashed. */
#ifndef HUB_STORE_H
#define HUB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sj_clock.h"
#include "sj_db.h"
#include "sj_health.h"
#include "sj_link.h"
#include "sj_model.h"
#include "sj_table.h"
#include "sj_update.h"

#define HUB_STORE_FILE "township-hub.db" /* in the data directory */

typedef struct hub_store hub_store_t;

/* Opens dir/township-hub.db. A new store needs code (9 digits) and makes a
 * random epoch; an existing one must match the code given. */
hub_store_t *
hub_store_open(const char *dir, const char *code, sj_db_mode_t mode, char *err, size_t err_size);
void hub_store_close(hub_store_t **self_p);

/* One bounded step of the search index (sj_history_index): at most
 * max_rows events rows or about max_ms, in its own transaction. *more: 1
 * when rows above the mark are left; *done (may be NULL): the summaries
 * indexed. The daemon runs it in its idle time. */
SJ_NODISCARD int
hub_store_index(hub_store_t *self, int max_rows, int max_ms, int *more, int64_t *done);
/* The daemon's idle step of it (sj_history_index_idle): 1 when more is
 * waiting. */
int hub_store_idle(hub_store_t *self);
/* The store's migrations (for restore's schema check); *n gets their number. */
const sj_migration_t *hub_store_migrations(size_t *n);
const char *hub_store_code(const hub_store_t *self);
/* The store's epoch: the hub's own stations see it in Welcome. */
const uint8_t *hub_store_epoch(const hub_store_t *self);
/* The epoch of the hub's stream to the county (borrowed). Equal to the store
 * epoch until the county turns out to hold more of that stream than this
 * store ever offered (restored from a backup); then hub_store_uplink_ops'
 * diverged moves the link alone to a new epoch and everything is sent again
 * from hub_seq 1 (the county dedupes). Give it to sj_uplink_cfg_t.epoch. */
const uint8_t *hub_store_link_epoch(const hub_store_t *self);

extern const sj_downlink_ops_t hub_store_downlink_ops;

/* township-hub update (issue 4): a status change made by the township office.
 * An event of the hub's own stream: origin the hub's 9-digit code, the store
 * epoch, origin_seq and hash chain in meta (own_seq, own_hash), stored in
 * events in one transaction, so it is forwarded like any other event. The
 * case must be known here (a report held, or a cases row), the township
 * must be allowed to change it (sj_case_may_change) and the change an
 * allowed transition from the outcome in force, which becomes prev_outcome;
 * the change in force becomes prev_change (docs/CASES.md). res says the
 * outcome before, the one in force after, and whether this change took
 * effect (sj_update_report prints it).
 * SJ_ENOTFOUND / SJ_EINVAL with reason, nothing stored. */
/* A correction or void made by the township office (ev: type, case_id,
 * note = the reason, officer, new values; sj_fix_fill): checked against the
 * case's authority (sj_case_may_change), then the next event of the hub's
 * own stream, forwarded to the county like any. ev->id is set. Refused,
 * nothing stored: SJ_ENOTFOUND (no such case here), SJ_EINVAL (may not
 * change it), with reason. */
/* The account (a page's, issue 17) that the hub's next own events carry as
 * Event.account until set again (NULL or "": none, the CLI's). */
void hub_store_set_account(hub_store_t *self, const char *account);
/* The township approves month ("YYYY-MM", checked by the caller) of its
 * stations' matters: an Approval event on its own stream (issue 17 item 5). */
SJ_NODISCARD int hub_store_approve(
    hub_store_t *self, const char *month, const char *officer, char *reason, size_t reason_size);
SJ_NODISCARD int hub_store_fix(hub_store_t *self, sj_event_t *ev, char *reason, size_t reason_size);
/* An extension made at the township (docs/CLOCK.md; ev as for
 * county_store_extend): the township must hold the case and may change it
 * (sj_case_may_change), and the clock (the default periods: the county's
 * are not delivered down yet) must allow it. The next event of the hub's
 * own stream, forwarded to the county. *after is the clock with it.
 * Refused, nothing stored: SJ_ENOTFOUND or SJ_EINVAL with the reason. */
SJ_NODISCARD int hub_store_extend(hub_store_t *self,
                                  sj_event_t *ev,
                                  const sj_periods_t *p,
                                  const char *today,
                                  sj_clock_t *after,
                                  char *reason,
                                  size_t reason_size);

/* The clock's read of a case's changes in force at the hub (sj_clock_db). */
#define HUB_CLOCK_CHANGES_SQL                          \
    "SELECT created_ms, new_outcome FROM case_changes" \
    " WHERE case_id = ?1 AND applied > 0 ORDER BY created_ms, hub_seq"

/* A leader's ownership of a case made at the township (docs/MEETING.md;
 * ev: type SJ_EVENT_OWNERSHIP, case_id, leader, portfolio, officer): the
 * next event of the hub's own stream, forwarded to the county. The hub must
 * hold the case and may change it. ev->id is set. Refused, nothing stored:
 * SJ_ENOTFOUND, SJ_EINVAL with the reason. */
SJ_NODISCARD int hub_store_own(hub_store_t *self, sj_event_t *ev, char *reason, size_t reason_size);

/* hub_store_update with the petitioner's evaluation on a conclusion
 * (StatusChange.satisfaction 1..4; 0 none). */
SJ_NODISCARD int hub_store_update_ex(hub_store_t *self,
                                     const uint8_t case_id[SJ_ID_BYTES],
                                     int outcome,
                                     int satisfaction,
                                     const char *note,
                                     const char *officer,
                                     sj_update_result_t *res,
                                     char *reason,
                                     size_t reason_size);

SJ_NODISCARD int hub_store_update(hub_store_t *self,
                                  const uint8_t case_id[SJ_ID_BYTES],
                                  int outcome,
                                  const char *note,
                                  const char *officer,
                                  sj_update_result_t *res,
                                  char *reason,
                                  size_t reason_size);

/* The township's cases (table cases, kept at store_event time and from the
 * county's assignments): case_id, station (origin), outcome, last_change,
 * changes, conflict ("yes" when the hub lists a change of the case as not in
 * force or in force over a concurrent one, or the county lists a conflict;
 * docs/CASES.md), and for an assigned case
 * its latest assignment: assignee, due_on, days_left (from today's date, no
 * link needed; negative: past due), overdue ("yes": open and past due),
 * then accept_due, accept_left, conclude_due, conclude_left, review_due,
 * review_left, overdue_what and clock_overdue ("yes": a running stage of
 * the statutory clock past its due date; docs/CLOCK.md, default periods),
 * owner and portfolio (the leader's ownership in force, docs/MEETING.md).
 * filter: HUB_CASES_* bits (0: every case). */
#define HUB_CASES_CONFLICTS 1u /* only cases with a conflict */
#define HUB_CASES_OVERDUE   2u /* only overdue cases */
#define HUB_CASES_OPEN      4u /* only open cases (pending, accepted) */
SJ_NODISCARD int hub_store_cases(hub_store_t *self, unsigned filter, sj_table_t **out);
/* hub_store_cases of the cases leader owns now (NULL: any; docs/MEETING.md). */
SJ_NODISCARD int
hub_store_cases_by(hub_store_t *self, unsigned filter, const char *leader, sj_table_t **out);
/* The four rates (common/sj_rates.h) of the township's cases on today (the
 * county's periods, as delivered down): one row per station, then "total"; columns station,
 * cases, concluded and sj_rates_names. The satisfaction is the one the conclusion in
 * force carried (the county's later evaluations are at the county). */
SJ_NODISCARD int hub_store_rates(hub_store_t *self, sj_table_t **out);
extern const sj_uplink_ops_t hub_store_uplink_ops;

/* township-hub assign (issue 4, 交办): assigns a case the hub knows to one of
 * its stations (12 digits, under the township), due on due_on (the caller
 * checks it is a date not in the past). One transaction: an assignment event
 * of the hub's own stream (forwarded to the county, which records it), the
 * hub's assignments row, and a down item (the event's bytes and a snapshot
 * of the case) in the station's downward stream. Refused, nothing stored:
 * SJ_ENOTFOUND (unknown case), SJ_EINVAL (not a station of this township,
 * a case the township does not hold, case closed or withdrawn:
 * sj_case_may_assign) with reason. */
SJ_NODISCARD int hub_store_assign(hub_store_t *self,
                                  const uint8_t case_id[SJ_ID_BYTES],
                                  const char *station,
                                  const char *due_on,
                                  const char *note,
                                  const char *officer,
                                  uint8_t ev_id[SJ_ID_BYTES],
                                  char *reason,
                                  size_t reason_size);

/* The status view: queue depth, oldest unforwarded age, each station's last
 * contact and counts (silent stations first), with its undelivered downward
 * items (its stream's head minus the cursor it last said it applied). silent_s: a station not heard
 * from for this long is marked silent. */
typedef struct {
    char township[16];
    int64_t events, forwarded, queue_depth, oldest_unforwarded_s, quarantined, forks;
    int64_t county_contact_age_s; /* -1: no county contact yet */
    sj_table_t *stations;         /* owned: one row per station */
    cJSON *down;                  /* owned: the downward streams' JSON members */
    char *down_text;              /* owned: their lines in the table format */
} hub_status_t;
/* Reads the view into *out (free with hub_status_free; hub_out_status
 * writes it). SJ_OK, SJ_EDB or SJ_ENOMEM. */
SJ_NODISCARD int hub_store_status(hub_store_t *self, int64_t silent_s, hub_status_t *out);
/* Frees what hub_store_status made; safe on a zeroed or freed view. */
void hub_status_free(hub_status_t *s);

/* The monitoring check (sj_health.h): silent stations, age of the oldest
 * unforwarded event against the backlog thresholds, and the county's silence
 * while events wait for it. Adds its problems and OK text to h. SJ_EDB when the
 * store cannot be read (the caller reports UNKNOWN). */
SJ_NODISCARD int hub_store_check(hub_store_t *self, const sj_health_opts_t *o, sj_health_t *h);

#endif
