/* sj_agenda: what the weekly meeting (定期例会, issue 16 item 5,
 * docs/MEETING.md) must see, for an ISO week, the same at the county and the
 * township: a list of sections, one function each, over the cases the tier
 * gives (with their clock) and its store's shared tables (extensions,
 * ownerships) and history.
 *
 * The week: YYYY-Www (ISO 8601); the default is the coming one: the week of
 * the next Monday on or after today (a Monday's meeting sees its own week).
 * "Since the last meeting" is from the start (Monday) of the previous ISO
 * week; "the previous week" is that Monday to its Sunday.
 *
 * Another section is one more line in sj_agenda_sections (sj_agenda.c)
 * and a function of the sj_agenda_rows_fn shape. */
#ifndef SJ_AGENDA_H
#define SJ_AGENDA_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sj_clock.h"
#include "sj_err.h"
#include "sj_ids.h"
#include "sj_table.h"
#include "sj_wire.h"

/* One case as the tier holds it. */
typedef struct {
    uint8_t id[SJ_ID_BYTES];
    char id_text[SJ_UUID_TEXT];
    char station[SJ_CODE_MAX + 1];
    char occurred_on[11];
    int kind, category, outcome;
    unsigned persons;
    char assign_due[11]; /* the current 交办 due date; "" none */
    char owner[SJ_MAX_LEADER_BYTES + 1];
    char portfolio[SJ_MAX_OFFICER_BYTES + 1];
    sj_clock_t clk; /* on today */
} sj_agenda_case_t;

typedef struct {
    char week[9];      /* YYYY-Www */
    char mon[11];      /* the meeting's week: Monday .. */
    char sun[11];      /* .. Sunday */
    char since[11];    /* the last meeting: Monday of the previous week */
    char prev_sun[11]; /* Sunday of the previous week */
    char today[11];
    const char *tier_zh, *tier_en; /* "县" "county", or the township's */
    const char *where;             /* the node's code */
    sqlite3 *db;                   /* the store (extensions, ownerships) */
    const char *history_sql;       /* the tier's history (sj_history.h layout) */
    sj_agenda_case_t *cases;
    size_t ncases;
} sj_agenda_t;

/* The mark in force of appointment a (county store, issue 16 item 6): its
 * latest row, 'kept' or 'missed', else 'pending'. */
#define SJ_APPOINT_STATE_SQL                                                                     \
    "coalesce((SELECT CASE k.kept WHEN 1 THEN 'kept' ELSE 'missed' END FROM appointment_marks k" \
    " WHERE k.appointment = a.id ORDER BY k.row DESC LIMIT 1), 'pending')"

/* One section's rows. */
typedef sj_table_t *(sj_agenda_rows_fn) (const sj_agenda_t *a);
typedef struct {
    const char *key;               /* "owned" */
    const char *zh, *en;           /* its title */
    const char *rule_zh, *rule_en; /* what it lists */
    sj_agenda_rows_fn *rows;
} sj_agenda_section_t;
/* The sections, ended by {NULL}. */
extern const sj_agenda_section_t sj_agenda_sections[];

/* The week of text (YYYY-Www), or the coming week on today when text is
 * NULL: fills week, mon, sun, since, prev_sun and today. SJ_EINVAL with the
 * reason ("--week 2026-W54 is not an ISO week (YYYY-Www, 01..52 or 53)"). */
SJ_NODISCARD int
sj_agenda_week(const char *text, const char *today, sj_agenda_t *a, char *err, size_t err_size);

/* Reads the tier's cases into a->cases (a->db, a->today set): cases_sql
 * gives one row per case: id, station, occurred_on, kind, category,
 * outcome, persons, reported outcome, source, the current 交办 due date,
 * owner, portfolio; changes_sql as sj_clock_db_open takes it. The clock of
 * each on today with the periods p; a concluded case has no stage running.
 * SJ_OK, SJ_EDB, SJ_ENOMEM. Free with sj_agenda_free. */
SJ_NODISCARD int sj_agenda_load(sj_agenda_t *a,
                                const char *cases_sql,
                                const char *changes_sql,
                                const sj_periods_t *p);
void sj_agenda_free(sj_agenda_t *a);

/* The per-leader table of `leaders` (sj_own_tally_table) from the loaded
 * cases: overdue = open past the 交办 due date, or a stage overdue. NULL
 * on OOM. */
sj_table_t *sj_agenda_leaders(const sj_agenda_t *a);

/* Writes the agenda: fmt "md" or "html" (html: a whole A4 printable page). */
SJ_NODISCARD int sj_agenda_write(const sj_agenda_t *a, const char *fmt, FILE *out);

#endif
