/* county_appoint: the Monday reception (周一大接访) and appointments (约访)
 * at the county (issue 16 item 6, docs/RECEPTION.md).
 *
 * A report recorded at the county's reception desk (a station linked to
 * the county) may carry the receiving leader and the portfolio
 * (Report.receiving_leader, .portfolio; only with source leader_reception):
 * the county keeps them in receptions. A visitor not received is given an
 * appointment (Event.appointment, internal type 11): a day, a time and an
 * office, an event of the county's own stream; it is marked kept or missed
 * later (Event.appointment_mark, type 12; the latest mark holds). The
 * office's day list, the agenda's section and report's counts read them. */
#ifndef COUNTY_APPOINT_H
#define COUNTY_APPOINT_H

#include <sqlite3.h>
#include <stdio.h>

#include "county_store.h"
#include "sj_ids.h"
#include "sj_table.h"
#include "sj_wire.h"

/* County schema version 20 (the migration at the end of the list). */
#define COUNTY_APPOINT_SCHEMA                                                                   \
    "CREATE TABLE receptions(case_id BLOB PRIMARY KEY, leader TEXT NOT NULL,"                   \
    " portfolio TEXT NOT NULL) WITHOUT ROWID;"                                                  \
    "CREATE TABLE appointments(row INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE,"               \
    " case_id BLOB NOT NULL, on_date TEXT NOT NULL CHECK(length(on_date) = 10),"                \
    " at_time TEXT NOT NULL, office TEXT NOT NULL, note TEXT NOT NULL, officer TEXT NOT NULL,"  \
    " account TEXT NOT NULL, created_ms INTEGER NOT NULL);"                                     \
    "CREATE INDEX appointments_on ON appointments(on_date, at_time);"                           \
    "CREATE INDEX appointments_case ON appointments(case_id);"                                  \
    "CREATE TABLE appointment_marks(row INTEGER PRIMARY KEY, appointment BLOB NOT NULL,"        \
    " case_id BLOB NOT NULL, kept INTEGER NOT NULL, note TEXT NOT NULL, officer TEXT NOT NULL," \
    " account TEXT NOT NULL, created_ms INTEGER NOT NULL);"                                     \
    "CREATE INDEX appointment_marks_appt ON appointment_marks(appointment);"

/* The store's side (inside its transaction): an appointment or a mark
 * event just stored as events row eid; a report's reception fields. */
SJ_NODISCARD int county_appoint_store(sqlite3 *db, int64_t eid, const sj_event_t *ev);
SJ_NODISCARD int county_appoint_reception_store(sqlite3 *db, const sj_event_t *ev);

/* What an appointment is made of (strings borrowed; NULL: not given). */
typedef struct {
    const char *case_id; /* the matter's UUID */
    const char *on;      /* YYYY-MM-DD, today or later */
    const char *at;      /* HH:MM */
    const char *office;  /* 1..64 bytes */
    const char *note;
    const char *officer;
    const char *account; /* the page's account; NULL: a command */
} county_appoint_req_t;

/* Makes an appointment (the CLI's appoint and the page's /act/appoint):
 * SJ_OK with its event id in id_out; SJ_EINVAL for a bad value (bad usage:
 * exit 2); SJ_EFORBIDDEN for a day before today, SJ_ENOTFOUND for no such
 * matter (refused: exit 1); err says why, in English. today: YYYY-MM-DD. */
SJ_NODISCARD int county_appoint_make(county_store_t *st,
                                     const county_appoint_req_t *rq,
                                     const char *today,
                                     char id_out[SJ_UUID_TEXT],
                                     char *err,
                                     size_t err_size);

/* Marks an appointment of case_id kept (kept 1) or missed (0). appt_id:
 * the appointment's event id, or NULL/"" for the case's latest. Refused
 * (SJ_ENOTFOUND) when the case has no such appointment, (SJ_EFORBIDDEN)
 * before the appointment's day; SJ_EINVAL for a bad value. id_out: the
 * mark's event id; appt_out (may be NULL): the appointment's. */
SJ_NODISCARD int county_appoint_mark(county_store_t *st,
                                     const char *case_id,
                                     const char *appt_id,
                                     int kept,
                                     const char *note,
                                     const char *officer,
                                     const char *account,
                                     const char *today,
                                     char id_out[SJ_UUID_TEXT],
                                     char appt_out[SJ_UUID_TEXT],
                                     char *err,
                                     size_t err_size);

/* The appointments whose day is from..to (inclusive; NULL: open), of one
 * office (NULL: every office), by day and time: the office's day list and
 * the agenda's section. Columns: on, at, office, state (pending, kept,
 * missed), case_id, appointment_id, township, station, summary, note,
 * officer. Matters voided are left out. */
SJ_NODISCARD int county_appoint_table(sqlite3 *db,
                                      const char *from,
                                      const char *to,
                                      const char *office,
                                      sj_table_t **out,
                                      char *err,
                                      size_t err_size);

/* The counts of report: appointments whose day is in from..to (inclusive),
 * and of those the kept and the missed (by the mark in force). */
typedef struct {
    long long made, kept, missed;
} county_appoint_counts_t;
SJ_NODISCARD int
county_appoint_count(sqlite3 *db, const char *from, const char *to, county_appoint_counts_t *out);

/* The state's label: 待赴约 / 已赴约 / 未赴约 (zh) or pending / kept / missed. */
const char *county_appoint_state_label(const char *state, sj_lang_t lang);

/* The reception fields of a matter ("" when none); buffers of
 * SJ_MAX_LEADER_BYTES + 1. */
void county_appoint_reception(sqlite3 *db,
                              const uint8_t id[SJ_ID_BYTES],
                              char leader[SJ_MAX_LEADER_BYTES + 1],
                              char portfolio[SJ_MAX_LEADER_BYTES + 1]);

#endif
