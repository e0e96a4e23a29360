/* county_appoint: see county_appoint.h and docs/RECEPTION.md. */
#include "county_appoint.h"

#include <stdlib.h>
#include <string.h>

#include "county_store_view.h"
#include "sj_agenda.h"
#include "sj_db.h"
#include "sj_model.h"

int
county_appoint_store(sqlite3 *db, int64_t eid, const sj_event_t *ev)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (ev->type == SJ_EVENT_APPOINTMENT) {
        rc = sj_db_prepare(db,
                           "INSERT INTO appointments(row, id, case_id, on_date, at_time, office,"
                           " note, officer, account, created_ms)"
                           " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                           &st);
        if (rc == SJ_OK) {
            rc = sj_db_bind_check(
                db,
                sqlite3_bind_int64(st, 1, eid)
                    | sqlite3_bind_blob(st, 2, ev->id, SJ_ID_BYTES, SQLITE_STATIC)
                    | sqlite3_bind_blob(st, 3, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC)
                    | sqlite3_bind_text(st, 4, ev->due_on, -1, SQLITE_STATIC)
                    | sqlite3_bind_text(st, 5, ev->appt_at, -1, SQLITE_STATIC)
                    | sqlite3_bind_text(st, 6, ev->appt_office, -1, SQLITE_STATIC)
                    | sqlite3_bind_text(st, 7, ev->note, -1, SQLITE_STATIC)
                    | sqlite3_bind_text(st, 8, ev->officer, -1, SQLITE_STATIC)
                    | sqlite3_bind_text(st, 9, ev->account, -1, SQLITE_STATIC)
                    | sqlite3_bind_int64(st, 10, ev->created_ms),
                "appointment insert");
        }
    } else {
        rc = sj_db_prepare(db,
                           "INSERT INTO appointment_marks(row, appointment, case_id, kept, note,"
                           " officer, account, created_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                           &st);
        if (rc == SJ_OK) {
            rc = sj_db_bind_check(
                db,
                sqlite3_bind_int64(st, 1, eid)
                    | sqlite3_bind_blob(st, 2, ev->appt_id, SJ_ID_BYTES, SQLITE_STATIC)
                    | sqlite3_bind_blob(st, 3, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC)
                    | sqlite3_bind_int(st, 4, ev->appt_kept ? 1 : 0)
                    | sqlite3_bind_text(st, 5, ev->note, -1, SQLITE_STATIC)
                    | sqlite3_bind_text(st, 6, ev->officer, -1, SQLITE_STATIC)
                    | sqlite3_bind_text(st, 7, ev->account, -1, SQLITE_STATIC)
                    | sqlite3_bind_int64(st, 8, ev->created_ms),
                "appointment mark insert");
        }
    }
    if (rc == SJ_OK) {
        rc = sj_db_step_done(db, st, "appointment insert");
    }
    sqlite3_finalize(st);
    return rc;
}

int
county_appoint_reception_store(sqlite3 *db, const sj_event_t *ev)
{
    const sj_report_t *r = &ev->report;
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(db,
                           "INSERT OR REPLACE INTO receptions(case_id, leader, portfolio)"
                           " VALUES(?1, ?2, ?3)",
                           &st);
    if (rc == SJ_OK) {
        rc = sj_db_bind_check(
            db,
            sqlite3_bind_blob(st, 1, ev->id, SJ_ID_BYTES, SQLITE_STATIC)
                | sqlite3_bind_text(st, 2, r->receiving_leader ? r->receiving_leader : "", -1,
                                    SQLITE_STATIC)
                | sqlite3_bind_text(st, 3, r->portfolio ? r->portfolio : "", -1, SQLITE_STATIC),
            "reception insert");
    }
    if (rc == SJ_OK) {
        rc = sj_db_step_done(db, st, "reception insert");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Text of at most max bytes of UTF-8 (NULL: fine). */
static int
s_text(const char *v, size_t max)
{
    return !v || (strlen(v) <= max && sj_utf8_valid(v, strlen(v)));
}

/* Inside the store's transaction: the matter is here (not voided). */
static int
s_check_make(sqlite3 *db, sj_event_t *ev, void *ctx, char *err, size_t err_size)
{
    (void) ctx;
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(db, "SELECT 1 FROM matters WHERE id = ?1", &st);
    int here = 0;
    if (rc == SJ_OK) {
        sqlite3_bind_blob(st, 1, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC);
        here = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    if (rc == SJ_OK && !here) {
        char idtext[SJ_UUID_TEXT];
        sj_uuid_format(ev->case_id, idtext);
        snprintf(err, err_size, "no matter %s here (or it was voided); nothing stored", idtext);
        rc = SJ_ENOTFOUND;
    }
    return rc;
}

int
county_appoint_make(county_store_t *store,
                    const county_appoint_req_t *rq,
                    const char *today,
                    char id_out[SJ_UUID_TEXT],
                    char *err,
                    size_t err_size)
{
    err[0] = '\0';
    sj_event_t *ev = calloc(1, sizeof *ev);
    if (!ev) {
        snprintf(err, err_size, "out of memory");
        return SJ_ENOMEM;
    }
    int rc = SJ_EINVAL;
    ev->type = SJ_EVENT_APPOINTMENT;
    if (!rq->case_id || sj_uuid_parse(rq->case_id, ev->case_id) != SJ_OK) {
        snprintf(err, err_size, "'%.64s' is not a case id (a UUID)",
                 rq->case_id ? rq->case_id : "");
    } else if (!rq->on || !sj_date_valid(rq->on)) {
        snprintf(err, err_size, "--on '%.32s' is not a date YYYY-MM-DD", rq->on ? rq->on : "");
    } else if (!rq->at || !sj_time_valid(rq->at)) {
        snprintf(err, err_size, "--at '%.32s' is not a time HH:MM (00:00 to 23:59)",
                 rq->at ? rq->at : "");
    } else if (!rq->office || !sj_office_valid(rq->office)) {
        snprintf(err, err_size,
                 "--office must name the receiving office: 1 to %d bytes of UTF-8 text",
                 SJ_MAX_LEADER_BYTES);
    } else if (!s_text(rq->note, SJ_MAX_NOTE_BYTES) || !s_text(rq->officer, SJ_MAX_OFFICER_BYTES)
               || !s_text(rq->account, SJ_MAX_ACCOUNT_BYTES)) {
        snprintf(err, err_size,
                 "--note (at most %d bytes) and --officer (at most %d) must be UTF-8 text",
                 SJ_MAX_NOTE_BYTES, SJ_MAX_OFFICER_BYTES);
    } else if (strcmp(rq->on, today) < 0) {
        snprintf(err, err_size, "--on %s is in the past (today is %s); nothing stored", rq->on,
                 today);
        rc = SJ_EFORBIDDEN;
    } else {
        snprintf(ev->due_on, sizeof ev->due_on, "%s", rq->on);
        snprintf(ev->appt_at, sizeof ev->appt_at, "%s", rq->at);
        snprintf(ev->appt_office, sizeof ev->appt_office, "%s", rq->office);
        snprintf(ev->note, sizeof ev->note, "%s", rq->note ? rq->note : "");
        snprintf(ev->officer, sizeof ev->officer, "%s", rq->officer ? rq->officer : "");
        snprintf(ev->account, sizeof ev->account, "%s", rq->account ? rq->account : "");
        rc = county_store_own_event(store, ev, s_check_make, NULL, err, err_size);
        if (rc == SJ_OK) {
            sj_uuid_format(ev->id, id_out);
        }
    }
    free(ev);
    return rc;
}

/* What a mark checks: the appointment (given, or the case's latest). */
typedef struct {
    int given;
    const char *today;
} s_mark_ctx_t;

static int
s_check_mark(sqlite3 *db, sj_event_t *ev, void *ctx, char *err, size_t err_size)
{
    s_mark_ctx_t *m = ctx;
    char idtext[SJ_UUID_TEXT];
    sj_uuid_format(ev->case_id, idtext);
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(db,
                           m->given ? "SELECT a.id, a.on_date FROM appointments a"
                                      " JOIN matters x ON x.id = a.case_id"
                                      " WHERE a.case_id = ?1 AND a.id = ?2"
                                    : "SELECT a.id, a.on_date FROM appointments a"
                                      " JOIN matters x ON x.id = a.case_id"
                                      " WHERE a.case_id = ?1 ORDER BY a.row DESC LIMIT 1",
                           &st);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC);
    if (m->given) {
        sqlite3_bind_blob(st, 2, ev->appt_id, SJ_ID_BYTES, SQLITE_STATIC);
    }
    if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_bytes(st, 0) != SJ_ID_BYTES) {
        if (m->given) {
            char at[SJ_UUID_TEXT];
            sj_uuid_format(ev->appt_id, at);
            snprintf(err, err_size,
                     "case %s has no appointment %s (or the matter was voided); nothing stored",
                     idtext, at);
        } else {
            snprintf(err, err_size,
                     "case %s has no appointment to mark (or the matter was voided); make one"
                     " with appoint; nothing stored",
                     idtext);
        }
        rc = SJ_ENOTFOUND;
    } else {
        const char *on = (const char *) sqlite3_column_text(st, 1);
        /* the appointment marked: its id goes into the mark */
        memcpy(ev->appt_id, sqlite3_column_blob(st, 0), SJ_ID_BYTES);
        if (on && strcmp(on, m->today) > 0) {
            snprintf(err, err_size,
                     "the appointment of case %s is on %s, after today (%s): mark it kept or"
                     " missed on or after its day; nothing stored",
                     idtext, on, m->today);
            rc = SJ_EFORBIDDEN;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int
county_appoint_mark(county_store_t *store,
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
                    size_t err_size)
{
    err[0] = '\0';
    sj_event_t *ev = calloc(1, sizeof *ev);
    if (!ev) {
        snprintf(err, err_size, "out of memory");
        return SJ_ENOMEM;
    }
    int rc = SJ_EINVAL;
    s_mark_ctx_t m = {.given = appt_id && appt_id[0], .today = today};
    ev->type = SJ_EVENT_APPOINTMENT_MARK;
    if (!case_id || sj_uuid_parse(case_id, ev->case_id) != SJ_OK) {
        snprintf(err, err_size, "'%.64s' is not a case id (a UUID)", case_id ? case_id : "");
    } else if (m.given && sj_uuid_parse(appt_id, ev->appt_id) != SJ_OK) {
        snprintf(err, err_size, "--appointment '%.64s' is not an appointment's id (a UUID)",
                 appt_id);
    } else if (!s_text(note, SJ_MAX_NOTE_BYTES) || !s_text(officer, SJ_MAX_OFFICER_BYTES)
               || !s_text(account, SJ_MAX_ACCOUNT_BYTES)) {
        snprintf(err, err_size,
                 "--note (at most %d bytes) and --officer (at most %d) must be UTF-8 text",
                 SJ_MAX_NOTE_BYTES, SJ_MAX_OFFICER_BYTES);
    } else {
        ev->appt_kept = kept ? 1 : 0;
        snprintf(ev->note, sizeof ev->note, "%s", note ? note : "");
        snprintf(ev->officer, sizeof ev->officer, "%s", officer ? officer : "");
        snprintf(ev->account, sizeof ev->account, "%s", account ? account : "");
        rc = county_store_own_event(store, ev, s_check_mark, &m, err, err_size);
        if (rc == SJ_OK) {
            sj_uuid_format(ev->id, id_out);
            if (appt_out) {
                sj_uuid_format(ev->appt_id, appt_out);
            }
        }
    }
    free(ev);
    return rc;
}

/* The mark in force of appointment a (its latest row): 'kept', 'missed' or
 * 'pending' (sj_agenda.h: the agenda lists them too). */
#define S_STATE_SQL SJ_APPOINT_STATE_SQL

int
county_appoint_table(sqlite3 *db,
                     const char *from,
                     const char *to,
                     const char *office,
                     sj_table_t **out,
                     char *err,
                     size_t err_size)
{
    static const char *const names[] = {
        "on",       "at",      "office",  "state", "case_id", "appointment_id",
        "township", "station", "summary", "note",  "officer"};
    enum { NCOLS = sizeof names / sizeof names[0] };
    static const sj_col_type_t types[NCOLS] = {SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
                                               SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
                                               SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT};
    *out = sj_table_new(NCOLS, names, types);
    sqlite3_stmt *st = NULL;
    if (!*out
        || sqlite3_prepare_v2(db,
                              "SELECT a.on_date, a.at_time, a.office, " S_STATE_SQL ", a.case_id,"
                              " a.id, m.township, m.origin, m.summary, a.note, a.officer"
                              " FROM appointments a JOIN matters m ON m.id = a.case_id"
                              " WHERE (?1 IS NULL OR a.on_date >= ?1)"
                              " AND (?2 IS NULL OR a.on_date <= ?2)"
                              " AND (?3 IS NULL OR a.office = ?3)"
                              " ORDER BY a.on_date, a.at_time, a.office, a.row",
                              -1, &st, NULL)
               != SQLITE_OK) {
        snprintf(err, err_size, "cannot read the appointments: %s", sqlite3_errmsg(db));
        sj_table_destroy(out);
        return SJ_EDB;
    }
    sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, office, -1, SQLITE_STATIC);
    int rc = SJ_OK, step;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        char cid[SJ_UUID_TEXT] = "", aid[SJ_UUID_TEXT] = "";
        if (sqlite3_column_bytes(st, 4) == SJ_ID_BYTES) {
            sj_uuid_format(sqlite3_column_blob(st, 4), cid);
        }
        if (sqlite3_column_bytes(st, 5) == SJ_ID_BYTES) {
            sj_uuid_format(sqlite3_column_blob(st, 5), aid);
        }
        const char *cells[NCOLS];
        for (int i = 0; i < NCOLS; i++) {
            const char *t = (const char *) sqlite3_column_text(st, i);
            cells[i] = t ? t : "";
        }
        cells[4] = cid;
        cells[5] = aid;
        rc = sj_table_add_row(*out, cells);
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        snprintf(err, err_size, "cannot read the appointments: %s", sqlite3_errmsg(db));
        rc = SJ_EDB;
    } else if (rc != SJ_OK) {
        snprintf(err, err_size, "out of memory");
    }
    sqlite3_finalize(st);
    if (rc != SJ_OK) {
        sj_table_destroy(out);
    }
    return rc;
}

int
county_appoint_count(sqlite3 *db, const char *from, const char *to, county_appoint_counts_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*), coalesce(sum(s = 'kept'), 0),"
                           " coalesce(sum(s = 'missed'), 0) FROM (SELECT " S_STATE_SQL " AS s"
                           " FROM appointments a JOIN matters m ON m.id = a.case_id"
                           " WHERE a.on_date >= ?1 AND a.on_date <= ?2)",
                           -1, &st, NULL)
        != SQLITE_OK) {
        sqlite3_finalize(st);
        return SJ_EDB;
    }
    sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
    int rc = SJ_EDB;
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->made = sqlite3_column_int64(st, 0);
        out->kept = sqlite3_column_int64(st, 1);
        out->missed = sqlite3_column_int64(st, 2);
        rc = SJ_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

const char *
county_appoint_state_label(const char *state, sj_lang_t lang)
{
    int en = lang == SJ_LANG_EN;
    if (state && strcmp(state, "kept") == 0) {
        return en ? "kept" : "已赴约";
    }
    if (state && strcmp(state, "missed") == 0) {
        return en ? "missed" : "未赴约";
    }
    return en ? "pending" : "待赴约";
}

void
county_appoint_reception(sqlite3 *db,
                         const uint8_t id[SJ_ID_BYTES],
                         char leader[SJ_MAX_LEADER_BYTES + 1],
                         char portfolio[SJ_MAX_LEADER_BYTES + 1])
{
    leader[0] = portfolio[0] = '\0';
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT leader, portfolio FROM receptions WHERE case_id = ?1", -1,
                           &st, NULL)
        == SQLITE_OK) {
        sqlite3_bind_blob(st, 1, id, SJ_ID_BYTES, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *l = (const char *) sqlite3_column_text(st, 0);
            const char *p = (const char *) sqlite3_column_text(st, 1);
            snprintf(leader, SJ_MAX_LEADER_BYTES + 1, "%s", l ? l : "");
            snprintf(portfolio, SJ_MAX_LEADER_BYTES + 1, "%s", p ? p : "");
        }
    }
    sqlite3_finalize(st);
}
