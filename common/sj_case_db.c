/* sj_case_db: the table side of the case model (see sj_case_db.h). */
#include "sj_case_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sj_db.h"
#include "sj_i18n.h"
#include "sj_idbits.h"
#include "sj_ids.h"
#include "sj_log.h"

#define S_SQL_MAX 512

struct sj_case_db {
    sqlite3 *db;
    char county[SJ_CODE_MAX + 1];
    char account[SJ_MAX_ACCOUNT_BYTES + 1]; /* Event.account of the next own change */
    char pending_sql[S_SQL_MAX];            /* the cases whose changes wait for a parent */
    sqlite3_stmt *st_report;
    sqlite3_stmt *st_assignees;
    sqlite3_stmt *st_changes;
    sqlite3_stmt *st_clear;
    sqlite3_stmt *st_conflict;
    sqlite3_stmt *st_applied;
    sqlite3_stmt *st_parent;
    sqlite3_stmt *st_report_event;
    sqlite3_stmt *st_insert;
    sqlite3_stmt *st_outcome;
    sqlite3_stmt *st_waits;
    sj_idbits_t *orphans; /* cases with changes and no report here */
};

sj_case_db_t *
sj_case_db_new(sqlite3 *db, const sj_case_tables_t *t)
{
    sj_case_db_t *self = calloc(1, sizeof *self);
    if (!self) {
        sj_error("case tables: out of memory");
        return NULL;
    }
    self->db = db;
    snprintf(self->county, sizeof self->county, "%s", t->county);
    char changes[S_SQL_MAX], conflict[S_SQL_MAX], applied[S_SQL_MAX], parent[S_SQL_MAX];
    char insert[S_SQL_MAX], waits[S_SQL_MAX];
    int n[7] = {
        snprintf(self->pending_sql, sizeof self->pending_sql,
                 "SELECT DISTINCT case_id FROM %s WHERE parent IS NULL", t->changes),
        snprintf(changes, sizeof changes,
                 "SELECT %s, id, parent, origin, new_outcome, prev_outcome, created_ms, applied"
                 " FROM %s WHERE case_id=?1 ORDER BY %s",
                 t->arrival, t->changes, t->arrival),
        snprintf(conflict, sizeof conflict,
                 "INSERT INTO conflicts(case_id, %s, reason) VALUES(?1, ?2, ?3)"
                 " ON CONFLICT DO NOTHING",
                 t->conflict_key),
        snprintf(applied, sizeof applied, "UPDATE %s SET applied=?1 WHERE %s=?2", t->changes,
                 t->arrival),
        snprintf(parent, sizeof parent, "UPDATE %s SET parent=?1 WHERE %s=?2", t->changes,
                 t->arrival),
        snprintf(insert, sizeof insert,
                 "INSERT INTO %s(%s, case_id, origin, id, created_ms, prev_outcome, new_outcome,"
                 " parent, note, officer) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                 " ON CONFLICT DO NOTHING",
                 t->changes, t->arrival),
        snprintf(waits, sizeof waits, "SELECT 1 FROM %s WHERE case_id=?1 LIMIT 1", t->changes),
    };
    for (int i = 0; i < 7; i++) {
        if (n[i] < 0 || n[i] >= S_SQL_MAX) {
            sj_error("case tables: a statement is too long");
            sj_case_db_destroy(&self);
            return NULL;
        }
    }
    if (sj_db_prepare(db, t->report_sql, &self->st_report) != SJ_OK
        || sj_db_prepare(db, "SELECT DISTINCT assignee FROM assignments WHERE case_id=?1",
                         &self->st_assignees)
               != SJ_OK
        || sj_db_prepare(db, changes, &self->st_changes) != SJ_OK
        || sj_db_prepare(db, "DELETE FROM conflicts WHERE case_id=?1", &self->st_clear) != SJ_OK
        || sj_db_prepare(db, conflict, &self->st_conflict) != SJ_OK
        || sj_db_prepare(db, applied, &self->st_applied) != SJ_OK
        || sj_db_prepare(db, parent, &self->st_parent) != SJ_OK
        || sj_db_prepare(db, "SELECT raw FROM events WHERE id=?1", &self->st_report_event) != SJ_OK
        || sj_db_prepare(db, insert, &self->st_insert) != SJ_OK
        || sj_db_prepare(db, t->outcome_sql, &self->st_outcome) != SJ_OK
        || sj_db_prepare(db, waits, &self->st_waits) != SJ_OK
        || !(self->orphans = sj_idbits_new(db, t->orphans_sql))) {
        sj_case_db_destroy(&self);
    }
    return self;
}

void
sj_case_db_destroy(sj_case_db_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    sj_case_db_t *self = *self_p;
    sqlite3_finalize(self->st_report);
    sqlite3_finalize(self->st_assignees);
    sqlite3_finalize(self->st_changes);
    sqlite3_finalize(self->st_clear);
    sqlite3_finalize(self->st_conflict);
    sqlite3_finalize(self->st_applied);
    sqlite3_finalize(self->st_parent);
    sqlite3_finalize(self->st_report_event);
    sqlite3_finalize(self->st_insert);
    sqlite3_finalize(self->st_outcome);
    sqlite3_finalize(self->st_waits);
    sj_idbits_destroy(&self->orphans);
    free(self);
    *self_p = NULL;
}

void
sj_case_rows_free(sj_case_rows_t *rows)
{
    free(rows->ch);
    free(rows->applied);
    free(rows->prev_outcome);
    free(rows->created_ms);
    free(rows->parent_null);
    free(rows->assignee_buf);
    memset(rows, 0, sizeof *rows);
}

/* sqlite3_bind_* results, checked. */
static int
s_bound(sj_case_db_t *self, int rc)
{
    return rc == SQLITE_OK ? SJ_OK : sj_db_err(self->db, rc, "case statement bind");
}

static int
s_bind_id(sj_case_db_t *self, sqlite3_stmt *st, int i, const uint8_t id[SJ_ID_BYTES])
{
    return s_bound(self, sqlite3_bind_blob(st, i, id, SJ_ID_BYTES, SQLITE_STATIC));
}

/* Ends a read: the step's failure (not DONE) as an SJ_* code; resets. */
static int
s_done(sj_case_db_t *self, sqlite3_stmt *st, int step, const char *what)
{
    int rc = step == SQLITE_DONE ? SJ_OK : sj_db_err(self->db, step, what);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* A parent column: NULL (not recorded), empty (the report) or an id. */
static void
s_parent_col(sqlite3_stmt *st, int col, uint8_t out[SJ_ID_BYTES], int *has, int *is_null)
{
    memset(out, 0, SJ_ID_BYTES);
    *is_null = sqlite3_column_type(st, col) == SQLITE_NULL;
    int len = sqlite3_column_bytes(st, col);
    *has = len > 0;
    if (len == SJ_ID_BYTES) {
        memcpy(out, sqlite3_column_blob(st, col), SJ_ID_BYTES);
    }
}

int
sj_case_db_facts(sj_case_db_t *self, const uint8_t id[SJ_ID_BYTES], sj_case_rows_t *rows)
{
    rows->found = 0;
    rows->n = 0;
    memset(&rows->facts, 0, sizeof rows->facts);
    memset(&rows->start, 0, sizeof rows->start);
    snprintf(rows->facts.county, sizeof rows->facts.county, "%s", self->county);
    sqlite3_stmt *st = self->st_report;
    int rc = s_bind_id(self, st, 1, id);
    int step = rc == SJ_OK ? sqlite3_step(st) : SQLITE_DONE;
    if (rc == SJ_OK && step == SQLITE_ROW) {
        const char *origin = (const char *) sqlite3_column_text(st, 0);
        rows->found = 1;
        snprintf(rows->facts.station, sizeof rows->facts.station, "%s", origin ? origin : "");
        rows->start.root_outcome = sqlite3_column_int(st, 1);
        int is_null = 0;
        s_parent_col(st, 2, rows->start.word_head, &rows->start.has_word, &is_null);
        rows->start.word_outcome = sqlite3_column_int(st, 3);
        rows->start.has_word = rows->start.has_word && rows->start.word_outcome;
        step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            step = SQLITE_DONE; /* one row is the case */
        }
    }
    if (rc == SJ_OK) {
        rc = s_done(self, st, step, "case report");
    } else {
        sqlite3_reset(st);
    }
    st = self->st_assignees;
    if (rc == SJ_OK && rows->found) {
        rc = s_bind_id(self, st, 1, id);
        size_t n = 0;
        while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
            if (n == rows->cap_assignees) {
                size_t cap = n ? 2 * n : 4;
                void *p = realloc(rows->assignee_buf, cap * sizeof *rows->assignee_buf);
                if (!p) {
                    rc = SJ_ENOMEM;
                    break;
                }
                rows->assignee_buf = p;
                rows->cap_assignees = cap;
            }
            const char *a = (const char *) sqlite3_column_text(st, 0);
            snprintf(rows->assignee_buf[n++], SJ_CODE_MAX + 1, "%s", a ? a : "");
        }
        if (rc == SJ_OK) {
            rc = s_done(self, st, step, "case assignees");
        } else {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
        }
        rows->facts.assignees = (const char(*)[SJ_CODE_MAX + 1]) rows->assignee_buf;
        rows->facts.n_assignees = n;
    }
    return rc;
}

/* Makes room for one more change. */
static int
s_grow(sj_case_rows_t *r)
{
    if (r->n < r->cap_ch) {
        return SJ_OK;
    }
    size_t cap = r->cap_ch ? 2 * r->cap_ch : 8;
    sj_case_change_t *ch = realloc(r->ch, cap * sizeof *ch);
    if (ch) {
        r->ch = ch;
    }
    int *a = realloc(r->applied, cap * sizeof *a);
    if (a) {
        r->applied = a;
    }
    int *p = realloc(r->prev_outcome, cap * sizeof *p);
    if (p) {
        r->prev_outcome = p;
    }
    int64_t *c = realloc(r->created_ms, cap * sizeof *c);
    if (c) {
        r->created_ms = c;
    }
    int *z = realloc(r->parent_null, cap * sizeof *z);
    if (z) {
        r->parent_null = z;
    }
    if (!ch || !a || !p || !c || !z) {
        return SJ_ENOMEM;
    }
    r->cap_ch = cap;
    return SJ_OK;
}

int
sj_case_db_load(sj_case_db_t *self, const uint8_t id[SJ_ID_BYTES], sj_case_rows_t *rows)
{
    int rc = sj_case_db_facts(self, id, rows);
    sqlite3_stmt *st = self->st_changes;
    if (rc == SJ_OK) {
        rc = s_bind_id(self, st, 1, id);
    }
    int step = SQLITE_DONE;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        rc = s_grow(rows);
        if (rc != SJ_OK) {
            break;
        }
        size_t i = rows->n++;
        sj_case_change_t *c = &rows->ch[i];
        memset(c, 0, sizeof *c);
        c->arrival = sqlite3_column_int64(st, 0);
        if (sqlite3_column_bytes(st, 1) == SJ_ID_BYTES) {
            memcpy(c->id, sqlite3_column_blob(st, 1), SJ_ID_BYTES);
        }
        s_parent_col(st, 2, c->parent, &c->has_parent, &rows->parent_null[i]);
        const char *origin = (const char *) sqlite3_column_text(st, 3);
        snprintf(c->origin, sizeof c->origin, "%s", origin ? origin : "");
        c->outcome = sqlite3_column_int(st, 4);
        rows->prev_outcome[i] = sqlite3_column_int(st, 5);
        rows->created_ms[i] = sqlite3_column_int64(st, 6);
        rows->applied[i] = sqlite3_column_int(st, 7);
    }
    if (rc == SJ_OK) {
        rc = s_done(self, st, step, "case changes");
    } else {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    return rc;
}

/* Writes the walk's verdicts of a loaded case. */
static int
s_write(sj_case_db_t *self, const uint8_t id[SJ_ID_BYTES], const sj_case_rows_t *rows)
{
    int rc = s_bind_id(self, self->st_clear, 1, id);
    if (rc == SJ_OK) {
        rc = sj_db_step_done(self->db, self->st_clear, "conflicts reset");
    }
    char why[512];
    for (size_t i = 0; rc == SJ_OK && i < rows->n; i++) {
        const sj_case_change_t *c = &rows->ch[i];
        int applied = c->verdict != SJ_CASE_APPLIED ? 0 : c->head ? 2 : 1;
        if (applied != rows->applied[i]) {
            rc = s_bound(self, sqlite3_bind_int(self->st_applied, 1, applied));
            if (rc == SJ_OK) {
                rc = s_bound(self, sqlite3_bind_int64(self->st_applied, 2, c->arrival));
            }
            if (rc == SJ_OK) {
                rc = sj_db_step_done(self->db, self->st_applied, "change applied");
            }
        }
        if (rc != SJ_OK || !sj_case_listed(c)) {
            continue;
        }
        sj_case_verdict_text(c, &rows->facts, why, sizeof why);
        rc = s_bind_id(self, self->st_conflict, 1, id);
        if (rc == SJ_OK) {
            rc = s_bound(self, sqlite3_bind_int64(self->st_conflict, 2, c->arrival));
        }
        if (rc == SJ_OK) {
            rc = s_bound(self, sqlite3_bind_text(self->st_conflict, 3, why, -1, SQLITE_STATIC));
        }
        if (rc == SJ_OK) {
            rc = sj_db_step_done(self->db, self->st_conflict, "conflict insert");
        }
    }
    if (rc != SJ_OK) {
        sqlite3_reset(self->st_applied);
        sqlite3_clear_bindings(self->st_applied);
        sqlite3_reset(self->st_conflict);
        sqlite3_clear_bindings(self->st_conflict);
    }
    return rc;
}

/* Loads and walks case id (rows->found 0: not here, nothing walked). */
static int
s_walk(sj_case_db_t *self,
       const uint8_t id[SJ_ID_BYTES],
       sj_case_rows_t *rows,
       sj_case_state_t *state)
{
    memset(rows, 0, sizeof *rows);
    int rc = sj_case_db_load(self, id, rows);
    if (rc == SJ_OK && rows->found) {
        rc = sj_case_replay(&rows->facts, &rows->start, rows->ch, rows->n, state);
    }
    return rc;
}

/* Writes the outcome in force of a case that is here; *changed: it moved. */
static int
s_write_outcome(sj_case_db_t *self, const uint8_t id[SJ_ID_BYTES], int outcome, int *changed)
{
    sqlite3_stmt *st = self->st_outcome;
    int rc = s_bound(self, sqlite3_bind_int(st, 1, outcome));
    if (rc == SJ_OK) {
        rc = s_bind_id(self, st, 2, id);
    }
    if (rc == SJ_OK && sqlite3_bind_parameter_count(st) >= 3) {
        rc = s_bound(self, sqlite3_bind_int64(st, 3, sj_now_ms()));
    }
    if (rc == SJ_OK) {
        rc = sj_db_step_done(self->db, st, "case outcome");
    } else {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    *changed = rc == SJ_OK && sqlite3_changes(self->db) > 0;
    return rc;
}

int
sj_case_db_replay(sj_case_db_t *self,
                  const uint8_t id[SJ_ID_BYTES],
                  unsigned flags,
                  sj_case_state_t *state,
                  int *found,
                  int *changed)
{
    sj_case_rows_t rows;
    int moved = 0;
    int rc = s_walk(self, id, &rows, state);
    *found = rows.found;
    if (rc == SJ_OK && !rows.found) {
        sj_idbits_mark(self->orphans, id); /* changes, and no report yet */
    }
    if (rc == SJ_OK && rows.found) {
        rc = s_write(self, id, &rows);
    }
    if (rc == SJ_OK && rows.found && !(flags & SJ_CASE_DB_KEEP_OUTCOME)) {
        rc = s_write_outcome(self, id, state->outcome, &moved);
    }
    if (changed) {
        *changed = moved;
    }
    sj_case_rows_free(&rows);
    return rc;
}

int
sj_case_db_orphan_maybe(sj_case_db_t *self, const uint8_t id[SJ_ID_BYTES])
{
    return sj_idbits_maybe(self->orphans, id);
}

int
sj_case_db_waits(sj_case_db_t *self, const uint8_t id[SJ_ID_BYTES], int *waits)
{
    int rc = s_bind_id(self, self->st_waits, 1, id);
    int step = rc == SJ_OK ? sqlite3_step(self->st_waits) : SQLITE_DONE;
    *waits = step == SQLITE_ROW;
    int done = s_done(self, self->st_waits, step == SQLITE_ROW ? SQLITE_DONE : step,
                      "case changes lookup");
    return rc == SJ_OK ? done : rc;
}

int
sj_case_db_insert(sj_case_db_t *self, const sj_event_t *ev, int64_t arrival)
{
    uint8_t parent[SJ_ID_BYTES];
    int has_parent = 0;
    int rc = sj_case_db_parent(self, ev, parent, &has_parent);
    if (rc != SJ_OK) {
        return rc;
    }
    static const uint8_t none[1] = {0}; /* the report: an empty blob, not NULL */
    sqlite3_stmt *st = self->st_insert;
    rc = sj_db_bind_check(self->db,
                          sqlite3_bind_int64(st, 1, arrival)
                              | sqlite3_bind_blob(st, 2, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC)
                              | sqlite3_bind_text(st, 3, ev->origin, -1, SQLITE_STATIC)
                              | sqlite3_bind_blob(st, 4, ev->id, SJ_ID_BYTES, SQLITE_STATIC)
                              | sqlite3_bind_int64(st, 5, ev->created_ms)
                              | sqlite3_bind_int(st, 6, ev->prev_outcome)
                              | sqlite3_bind_int(st, 7, ev->new_outcome)
                              | sqlite3_bind_blob(st, 8, has_parent ? parent : none,
                                                  has_parent ? SJ_ID_BYTES : 0, SQLITE_STATIC)
                              | sqlite3_bind_text(st, 9, ev->note, -1, SQLITE_STATIC)
                              | sqlite3_bind_text(st, 10, ev->officer, -1, SQLITE_STATIC),
                          "status change insert");
    if (rc == SJ_OK) {
        return sj_db_step_done(self->db, st, "status change insert");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int
sj_case_db_check(
    sj_case_db_t *self, const sj_event_t *ev, const char *holder, char *reason, size_t rs)
{
    if (ev->type != SJ_EVENT_STATUS && ev->type != SJ_EVENT_ASSIGNMENT
        && ev->type != SJ_EVENT_CORRECTION && ev->type != SJ_EVENT_VOID
        && ev->type != SJ_EVENT_EXTENSION && ev->type != SJ_EVENT_EVALUATION
        && ev->type != SJ_EVENT_OWNERSHIP) {
        return SJ_OK; /* a report, a quarantine notice: no case to change */
    }
    sj_case_rows_t rows;
    memset(&rows, 0, sizeof rows);
    char why[256] = "", idtext[SJ_UUID_TEXT];
    sj_uuid_format(ev->case_id, idtext);
    /* a correction, a void, an extension: the authority of a status change */
    int status = ev->type != SJ_EVENT_ASSIGNMENT;
    int rc = sj_case_db_facts(self, ev->case_id, &rows);
    if (rc == SJ_OK && !rows.found && (!status || holder)) {
        snprintf(why, sizeof why, "%s %s may not %s case %s: %s holds no such case",
                 sj_case_actor(ev->origin), ev->origin, status ? "change" : "assign", idtext,
                 holder ? holder : "the county");
        rc = SJ_EPROTO;
    } else if (rc == SJ_OK && ev->type == SJ_EVENT_EXTENSION && sj_case_rank(ev->origin) < 2) {
        /* the head approves an extension: the township or the county records it */
        snprintf(why, sizeof why,
                 "%s %s may not extend case %s: the township or the county records an extension",
                 sj_case_actor(ev->origin), ev->origin, idtext);
        rc = SJ_EPROTO;
    } else if (rc == SJ_OK && ev->type == SJ_EVENT_OWNERSHIP && sj_case_rank(ev->origin) < 2) {
        /* a leader's ownership (领导包案): the township or the county records it */
        snprintf(why, sizeof why,
                 "%s %s may not record who owns case %s: the township or the county does",
                 sj_case_actor(ev->origin), ev->origin, idtext);
        rc = SJ_EPROTO;
    } else if (rc == SJ_OK && rows.found && status
               && sj_case_may_change(&rows.facts, ev->origin, why, sizeof why) != SJ_OK) {
        rc = SJ_EPROTO;
    } else if (rc == SJ_OK && rows.found && !status
               && sj_case_may_assign(&rows.facts, 0, ev->origin, ev->assignee, why, sizeof why)
                      != SJ_OK) {
        rc = SJ_EPROTO;
    }
    if (rc == SJ_EPROTO) {
        snprintf(reason, rs, "%s", why);
    }
    sj_case_rows_free(&rows);
    return rc;
}

int
sj_case_db_state(sj_case_db_t *self,
                 const uint8_t id[SJ_ID_BYTES],
                 sj_case_state_t *state,
                 int *found)
{
    sj_case_rows_t rows;
    int rc = s_walk(self, id, &rows, state);
    *found = rows.found;
    sj_case_rows_free(&rows);
    return rc;
}

int
sj_case_db_snapshot(sj_case_db_t *self, const uint8_t id[SJ_ID_BYTES], sj_snapshot_t *snap)
{
    sj_event_t *ev = malloc(sizeof *ev);
    if (!ev) {
        return SJ_ENOMEM;
    }
    sqlite3_stmt *st = self->st_report_event;
    int rc = s_bind_id(self, st, 1, id);
    int step = rc == SJ_OK ? sqlite3_step(st) : SQLITE_DONE;
    char why[256] = "not a report";
    if (rc == SJ_OK && step == SQLITE_ROW) {
        if (sj_event_decode(sqlite3_column_blob(st, 0), (size_t) sqlite3_column_bytes(st, 0), ev,
                            why, sizeof why)
                != SJ_OK
            || ev->type != SJ_EVENT_REPORT) {
            /* it was validated when it came: a damaged store */
            sj_error("the stored report of a case does not decode: %s", why);
            rc = SJ_EDB;
        } else {
            sj_case_snapshot_report(snap, ev);
        }
        step = SQLITE_DONE;
    } else if (rc == SJ_OK && step == SQLITE_DONE) {
        rc = SJ_ENOTFOUND;
    }
    int rc2 = s_done(self, st, step, "case report event");
    rc = rc == SJ_OK ? rc2 : rc;
    free(ev);
    sj_case_state_t state;
    int found = 0;
    if (rc == SJ_OK) {
        rc = sj_case_db_state(self, id, &state, &found);
    }
    if (rc == SJ_OK && !found) {
        rc = SJ_ENOTFOUND;
    }
    if (rc == SJ_OK) {
        sj_case_snapshot_state(snap, &state, state.n_listed > 0, sj_now_ms());
    }
    return rc;
}

static int
s_own_change(sj_case_db_t *self,
             const char *origin,
             sj_event_t *ev,
             sj_update_result_t *res,
             char *reason,
             size_t rs)
{
    sj_case_rows_t rows;
    sj_case_state_t state;
    int rc = s_walk(self, ev->case_id, &rows, &state);
    if (rc == SJ_OK && !rows.found) {
        rc = SJ_ENOTFOUND;
    }
    if (rc == SJ_OK) {
        rc = sj_case_may_change(&rows.facts, origin, reason, rs);
    }
    if (rc == SJ_OK && !sj_outcome_transition_ok(state.outcome, ev->new_outcome)) {
        sj_outcome_transition_text(state.outcome, ev->new_outcome, reason, rs);
        rc = SJ_EINVAL;
    }
    if (rc == SJ_OK) {
        ev->type = SJ_EVENT_STATUS;
        ev->prev_outcome = res->prev = state.outcome;
        ev->has_prev_change = state.has_head;
        memcpy(ev->prev_change, state.head, SJ_ID_BYTES);
    }
    sj_case_rows_free(&rows);
    return rc;
}

static int
s_own_result(sj_case_db_t *self, const sj_event_t *ev, sj_update_result_t *res)
{
    sj_case_state_t state;
    int found = 0;
    int rc = sj_case_db_state(self, ev->case_id, &state, &found);
    if (rc == SJ_OK) {
        res->now = found ? state.outcome : 0;
        res->took_effect = found && state.has_head && memcmp(state.head, ev->id, SJ_ID_BYTES) == 0;
    }
    return rc;
}

typedef struct {
    sj_case_db_t *self;
    const char *origin, *where;
    int (*append)(void *ctx, sj_event_t *ev, char *reason, size_t reason_size);
    void *ctx;
} s_update_t;

static int
s_update_tx(void *ctx, sj_event_t *ev, sj_update_result_t *res, char *reason, size_t rs)
{
    s_update_t *u = ctx;
    snprintf(ev->account, sizeof ev->account, "%s", u->self->account);
    int rc = s_own_change(u->self, u->origin, ev, res, reason, rs);
    if (rc == SJ_ENOTFOUND) {
        char idtext[SJ_UUID_TEXT];
        sj_uuid_format(ev->case_id, idtext);
        snprintf(reason, rs, _("no case %s %s"), idtext, u->where);
    }
    if (rc == SJ_OK) {
        rc = u->append(u->ctx, ev, reason, rs);
    }
    return rc == SJ_OK ? s_own_result(u->self, ev, res) : rc;
}

int
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
                  size_t reason_size)
{
    return sj_case_db_update_ex(self, origin, where, append, ctx, case_id, outcome, 0, note,
                                officer, res, reason, reason_size);
}

int
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
                     size_t reason_size)
{
    s_update_t u = {.self = self, .origin = origin, .where = where, .append = append, .ctx = ctx};
    return sj_update_run_ex(self->db, s_update_tx, &u, case_id, outcome, satisfaction, note,
                            officer, res, reason, reason_size);
}

void
sj_case_db_set_account(sj_case_db_t *self, const char *account)
{
    snprintf(self->account, sizeof self->account, "%s", account ? account : "");
}

int
sj_case_db_may_assign(sj_case_db_t *self,
                      const uint8_t id[SJ_ID_BYTES],
                      const char *assigner,
                      const char *assignee,
                      char *reason,
                      size_t rs)
{
    sj_case_rows_t rows;
    sj_case_state_t state;
    int rc = s_walk(self, id, &rows, &state);
    if (rc == SJ_OK && !rows.found) {
        rc = SJ_ENOTFOUND;
    }
    if (rc == SJ_OK) {
        rc = sj_case_may_assign(&rows.facts, state.outcome, assigner, assignee, reason, rs);
    }
    sj_case_rows_free(&rows);
    return rc;
}

/* The parent of a change that names none, given the case's first n changes
 * (in rows) as held before it. */
static int
s_legacy_parent(const sj_case_rows_t *rows,
                sj_case_change_t *held,
                size_t n,
                int prev_outcome,
                uint8_t parent[SJ_ID_BYTES],
                int *has_parent)
{
    *has_parent = 0;
    memset(parent, 0, SJ_ID_BYTES);
    if (!rows->found) {
        /* No report here, so no walk: the latest change that set what its
         * author saw, else the report. */
        for (size_t i = n; i-- > 0;) {
            if (prev_outcome && held[i].outcome == prev_outcome) {
                *has_parent = 1;
                memcpy(parent, held[i].id, SJ_ID_BYTES);
                break;
            }
        }
        return SJ_OK;
    }
    sj_case_state_t st;
    int rc = sj_case_replay(&rows->facts, &rows->start, held, n, &st);
    if (rc == SJ_OK) {
        sj_case_legacy_parent(held, n, &rows->start, &st, prev_outcome, parent, has_parent);
    }
    return rc;
}

int
sj_case_db_parent(sj_case_db_t *self,
                  const sj_event_t *ev,
                  uint8_t parent[SJ_ID_BYTES],
                  int *has_parent)
{
    if (ev->has_prev_change) {
        *has_parent = 1;
        memcpy(parent, ev->prev_change, SJ_ID_BYTES);
        return SJ_OK;
    }
    sj_case_rows_t rows;
    memset(&rows, 0, sizeof rows);
    int rc = sj_case_db_load(self, ev->case_id, &rows);
    if (rc == SJ_OK) {
        rc = s_legacy_parent(&rows, rows.ch, rows.n, ev->prev_outcome, parent, has_parent);
    }
    sj_case_rows_free(&rows);
    return rc;
}

/* ---- the upgrade: parents for rows of an older schema ---- */

static const sj_case_rows_t *s_order_rows; /* s_by_old_rule's data (one thread) */

/* The old replay order: created_ms, origin, event id. */
static int
s_by_old_rule(const void *a, const void *b)
{
    size_t x = *(const size_t *) a, y = *(const size_t *) b;
    const sj_case_rows_t *r = s_order_rows;
    if (r->created_ms[x] != r->created_ms[y]) {
        return r->created_ms[x] < r->created_ms[y] ? -1 : 1;
    }
    int c = strcmp(r->ch[x].origin, r->ch[y].origin);
    return c ? c : memcmp(r->ch[x].id, r->ch[y].id, SJ_ID_BYTES);
}

/* Records a parent for every change of case id that has none, taking its
 * changes in the old rule's order as if they had arrived so. */
static int
s_upgrade_case(sj_case_db_t *self, const uint8_t id[SJ_ID_BYTES])
{
    sj_case_rows_t rows;
    memset(&rows, 0, sizeof rows);
    int rc = sj_case_db_load(self, id, &rows);
    size_t *order = NULL;
    sj_case_change_t *held = NULL;
    if (rc == SJ_OK && rows.n) {
        order = malloc(rows.n * sizeof *order);
        held = malloc(rows.n * sizeof *held);
        rc = order && held ? SJ_OK : SJ_ENOMEM;
    }
    if (rc == SJ_OK && rows.n) {
        for (size_t i = 0; i < rows.n; i++) {
            order[i] = i;
        }
        s_order_rows = &rows;
        qsort(order, rows.n, sizeof *order, s_by_old_rule);
        s_order_rows = NULL;
    }
    for (size_t k = 0; rc == SJ_OK && k < rows.n; k++) {
        size_t i = order[k];
        sj_case_change_t *c = &rows.ch[i];
        if (rows.parent_null[i]) {
            rc = s_legacy_parent(&rows, held, k, rows.prev_outcome[i], c->parent, &c->has_parent);
            sqlite3_stmt *st = self->st_parent;
            if (rc == SJ_OK) {
                /* an empty blob (not NULL) for the report */
                static const uint8_t none[1] = {0};
                rc = s_bound(self,
                             sqlite3_bind_blob(st, 1, c->has_parent ? c->parent : none,
                                               c->has_parent ? SJ_ID_BYTES : 0, SQLITE_STATIC));
            }
            if (rc == SJ_OK) {
                rc = s_bound(self, sqlite3_bind_int64(st, 2, c->arrival));
            }
            if (rc == SJ_OK) {
                rc = sj_db_step_done(self->db, st, "change parent");
            } else {
                sqlite3_reset(st);
                sqlite3_clear_bindings(st);
            }
        }
        held[k] = *c;
    }
    free(order);
    free(held);
    sj_case_rows_free(&rows);
    return rc;
}

int
sj_case_db_upgrade(sj_case_db_t *self,
                   int (*replay)(void *ctx, const uint8_t id[SJ_ID_BYTES]),
                   void *ctx,
                   size_t *n_cases)
{
    if (n_cases) {
        *n_cases = 0;
    }
    int64_t flag = 0;
    int rc = sj_db_meta_get_int(self->db, "case_parents", &flag);
    if (rc == SJ_ENOTFOUND || (rc == SJ_OK && flag == 0)) {
        return SJ_OK;
    }
    if (rc != SJ_OK) {
        return rc;
    }
    rc = sj_db_begin(self->db);
    if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_stmt *st = NULL;
    uint8_t(*ids)[SJ_ID_BYTES] = NULL;
    size_t n = 0, cap = 0;
    rc = sj_db_prepare(self->db, self->pending_sql, &st);
    int step = SQLITE_DONE;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != SJ_ID_BYTES) {
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            void *p = realloc(ids, cap * sizeof *ids);
            if (!p) {
                rc = SJ_ENOMEM;
                break;
            }
            ids = p;
        }
        memcpy(ids[n++], sqlite3_column_blob(st, 0), SJ_ID_BYTES);
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        rc = sj_db_err(self->db, step, "cases to upgrade");
    }
    sqlite3_finalize(st);
    if (rc == SJ_OK && n) {
        sj_notice("recording the parent of the status changes of %zu case(s) made before this"
                  " schema, by the old order (creation time), then replaying them by the causal"
                  " rule (docs/CASES.md)",
                  n);
    }
    for (size_t i = 0; rc == SJ_OK && i < n; i++) {
        rc = s_upgrade_case(self, ids[i]);
        if (rc == SJ_OK) {
            rc = replay(ctx, ids[i]);
        }
    }
    free(ids);
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_int(self->db, "case_parents", 0);
    }
    if (rc == SJ_OK) {
        rc = sj_db_commit(self->db);
    }
    if (rc != SJ_OK) {
        sj_db_rollback(self->db);
        sj_error("the status changes of an older schema could not be given their parents: %s"
                 " (tried again at the next start)",
                 sj_strerror(rc));
        return rc;
    }
    if (n_cases) {
        *n_cases = n;
    }
    if (n) {
        sj_notice("the status changes of %zu case(s) have their parents", n);
    }
    return SJ_OK;
}
