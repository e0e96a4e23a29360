/* sj_clock_db: the table side of the clock (docs/CLOCK.md) that the
 * county's and the hub's stores share: the extensions table, and a case's
 * clock read from a store (its applied status changes and its extensions)
 * into sj_clock_compute. */
#ifndef SJ_CLOCK_DB_H
#define SJ_CLOCK_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "sj_clock.h"
#include "sj_err.h"
#include "sj_wire.h"

/* The extensions table (a migration of each store that keeps them): one
 * row per Extension event, row = the store's own row number of the event
 * (county events.eid, hub hub_seq). */
#define SJ_CLOCK_EXT_SCHEMA                                                        \
    "CREATE TABLE extensions(row INTEGER PRIMARY KEY, case_id BLOB NOT NULL,"      \
    " stage INTEGER NOT NULL, days INTEGER NOT NULL, created_ms INTEGER NOT NULL," \
    " origin TEXT NOT NULL, reason TEXT NOT NULL, approved_by TEXT NOT NULL,"      \
    " officer TEXT NOT NULL);"                                                     \
    "CREATE INDEX extensions_case ON extensions(case_id);"

/* Stores an extension event's row (inside the caller's transaction). */
SJ_NODISCARD int sj_clock_db_insert(sqlite3 *db, int64_t row, const sj_event_t *ev);

/* A reader of cases' clocks with prepared statements. changes_sql selects
 * (created_ms, outcome) of the case ?1's status changes in force, in order
 * (e.g. "SELECT created_ms, outcome FROM status_changes WHERE case_id = ?1
 * AND applied > 0 ORDER BY eid"). */
typedef struct sj_clock_db sj_clock_db_t;
SJ_NODISCARD int sj_clock_db_open(sqlite3 *db, const char *changes_sql, sj_clock_db_t **out);
void sj_clock_db_close(sj_clock_db_t **self_p);

/* The clock of case id on today: received (the report's date), the
 * report's outcome and source as the store holds them. */
SJ_NODISCARD int sj_clock_db_case(sj_clock_db_t *self,
                                  const uint8_t id[SJ_ID_BYTES],
                                  const char *received,
                                  int report_outcome,
                                  int report_source,
                                  const sj_periods_t *p,
                                  const char *today,
                                  sj_clock_t *out);

/* The events of case id as the clock reads them (the changes in force and
 * the extensions, merged by day): *ev is borrowed until the next call. */
SJ_NODISCARD int sj_clock_db_events(sj_clock_db_t *self,
                                    const uint8_t id[SJ_ID_BYTES],
                                    const sj_clock_ev_t **ev,
                                    size_t *n);

/* Fills the clock's facts of a snapshot going down (issue 16): the events,
 * the report's outcome and source. A case with more than
 * SJ_SNAP_CLOCK_MAX events goes without (has_clock 0). */
SJ_NODISCARD int sj_clock_db_snapshot(sj_clock_db_t *self,
                                      const uint8_t id[SJ_ID_BYTES],
                                      int report_outcome,
                                      int report_source,
                                      sj_snapshot_t *snap);

/* The clock of a case a child knows from its snapshot, on today, with the
 * periods the child holds. SJ_ENOTFOUND when the snapshot has no clock
 * (from an older sender). */
SJ_NODISCARD int sj_clock_of_snapshot(const sj_snapshot_t *snap,
                                      const sj_periods_t *p,
                                      const char *today,
                                      sj_clock_t *out);

#endif
