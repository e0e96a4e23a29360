#include "sj_clock_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sj_db.h"
#include "sj_model.h"

struct sj_clock_db {
    sqlite3 *db;
    sqlite3_stmt *changes;
    sqlite3_stmt *ext;
    sj_clock_ev_t *ev;
    size_t cap;
};

int
sj_clock_db_insert(sqlite3 *db, int64_t row, const sj_event_t *ev)
{
    sqlite3_stmt *st = NULL;
    int rc =
        sj_db_prepare(db,
                      "INSERT INTO extensions(row, case_id, stage, days, created_ms, origin,"
                      " reason, approved_by, officer) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                      &st);
    if (rc != SJ_OK) {
        return rc;
    }
    rc = sj_db_bind_check(db,
                          sqlite3_bind_int64(st, 1, row)
                              | sqlite3_bind_blob(st, 2, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC)
                              | sqlite3_bind_int(st, 3, ev->ext_stage)
                              | sqlite3_bind_int(st, 4, ev->ext_days)
                              | sqlite3_bind_int64(st, 5, ev->created_ms)
                              | sqlite3_bind_text(st, 6, ev->origin, -1, SQLITE_STATIC)
                              | sqlite3_bind_text(st, 7, ev->note, -1, SQLITE_STATIC)
                              | sqlite3_bind_text(st, 8, ev->approved_by, -1, SQLITE_STATIC)
                              | sqlite3_bind_text(st, 9, ev->officer, -1, SQLITE_STATIC),
                          "extension insert");
    if (rc == SJ_OK) {
        rc = sj_db_step_done(db, st, "extension insert");
    }
    sqlite3_finalize(st);
    return rc;
}

int
sj_clock_db_open(sqlite3 *db, const char *changes_sql, sj_clock_db_t **out)
{
    *out = NULL;
    sj_clock_db_t *self = calloc(1, sizeof *self);
    if (!self) {
        return SJ_ENOMEM;
    }
    self->db = db;
    int rc = sj_db_prepare(db, changes_sql, &self->changes);
    if (rc == SJ_OK) {
        rc = sj_db_prepare(db,
                           "SELECT created_ms, stage, days FROM extensions WHERE case_id = ?1"
                           " ORDER BY row",
                           &self->ext);
    }
    if (rc != SJ_OK) {
        sj_clock_db_close(&self);
        return rc;
    }
    *out = self;
    return SJ_OK;
}

void
sj_clock_db_close(sj_clock_db_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    sj_clock_db_t *self = *self_p;
    sqlite3_finalize(self->changes);
    sqlite3_finalize(self->ext);
    free(self->ev);
    free(self);
    *self_p = NULL;
}

static int
s_push(sj_clock_db_t *self, size_t n)
{
    if (n < self->cap) {
        return SJ_OK;
    }
    size_t cap = self->cap ? self->cap * 2 : 16;
    sj_clock_ev_t *ev = realloc(self->ev, cap * sizeof *ev);
    if (!ev) {
        return SJ_ENOMEM;
    }
    self->ev = ev;
    self->cap = cap;
    return SJ_OK;
}

/* Reads the (created_ms, outcome) or (created_ms, stage, days) rows of st
 * into the events from *n on. */
static int
s_read(sj_clock_db_t *self, sqlite3_stmt *st, int ext, size_t *n)
{
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (s_push(self, *n) != SJ_OK) {
            sqlite3_reset(st);
            return SJ_ENOMEM;
        }
        sj_clock_ev_t *e = &self->ev[*n];
        memset(e, 0, sizeof *e);
        int64_t when = sqlite3_column_int64(st, 0);
        sj_date_of_ms(when, e->day);
        if (ext) {
            e->kind = SJ_CLOCK_EXTENSION;
            e->stage = sqlite3_column_int(st, 1);
            e->days = sqlite3_column_int(st, 2);
        } else {
            e->kind = SJ_CLOCK_CHANGE;
            e->outcome = sqlite3_column_int(st, 1);
        }
        (*n)++;
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? SJ_OK : sj_db_err(self->db, step, "clock read");
}

/* Merges the extensions (from k on) into the changes by their day; a
 * change and an extension of the same day: the change first (the stage
 * starts, then it is extended). Stable insertion (few rows per case). */
static void
s_merge(sj_clock_ev_t *ev, size_t k, size_t n)
{
    for (size_t i = k; i < n; i++) {
        sj_clock_ev_t x = ev[i];
        size_t j = i;
        while (j > 0 && strcmp(ev[j - 1].day, x.day) > 0) {
            ev[j] = ev[j - 1];
            j--;
        }
        ev[j] = x;
    }
}

int
sj_clock_db_events(sj_clock_db_t *self,
                   const uint8_t id[SJ_ID_BYTES],
                   const sj_clock_ev_t **ev,
                   size_t *n_out)
{
    size_t n = 0;
    int rc = sj_db_bind_check(self->db,
                              sqlite3_bind_blob(self->changes, 1, id, SJ_ID_BYTES, SQLITE_STATIC)
                                  | sqlite3_bind_blob(self->ext, 1, id, SJ_ID_BYTES, SQLITE_STATIC),
                              "clock bind");
    if (rc == SJ_OK) {
        rc = s_read(self, self->changes, 0, &n);
    }
    size_t k = n;
    if (rc == SJ_OK) {
        rc = s_read(self, self->ext, 1, &n);
    }
    sqlite3_clear_bindings(self->changes);
    sqlite3_clear_bindings(self->ext);
    if (rc != SJ_OK) {
        return rc;
    }
    s_merge(self->ev, k, n);
    *ev = self->ev;
    *n_out = n;
    return SJ_OK;
}

int
sj_clock_db_case(sj_clock_db_t *self,
                 const uint8_t id[SJ_ID_BYTES],
                 const char *received,
                 int report_outcome,
                 int report_source,
                 const sj_periods_t *p,
                 const char *today,
                 sj_clock_t *out)
{
    sj_clock_case_t c = {.report_outcome = report_outcome, .report_source = report_source};
    int rc = sj_clock_db_events(self, id, &c.ev, &c.n);
    if (rc != SJ_OK) {
        return rc;
    }
    snprintf(c.received, sizeof c.received, "%s", received ? received : "");
    return sj_clock_compute(&c, p, today, out);
}

int
sj_clock_db_snapshot(sj_clock_db_t *self,
                     const uint8_t id[SJ_ID_BYTES],
                     int report_outcome,
                     int report_source,
                     sj_snapshot_t *snap)
{
    const sj_clock_ev_t *ev = NULL;
    size_t n = 0;
    snap->has_clock = 0;
    snap->n_clock = 0;
    int rc = sj_clock_db_events(self, id, &ev, &n);
    if (rc != SJ_OK || n > SJ_SNAP_CLOCK_MAX) {
        return rc; /* too long a story: the child shows no clock (docs/CLOCK.md) */
    }
    if (n > 0) { /* ev is NULL without events: memcpy's argument must not be */
        memcpy(snap->clock, ev, n * sizeof *ev);
    }
    snap->n_clock = n;
    snap->reported_outcome = report_outcome;
    snap->source = report_source;
    snap->has_clock = 1;
    return SJ_OK;
}

/* The clock of a snapshot (a child's view of a case) on today. */
int
sj_clock_of_snapshot(const sj_snapshot_t *snap,
                     const sj_periods_t *p,
                     const char *today,
                     sj_clock_t *out)
{
    memset(out, 0, sizeof *out);
    if (!snap->has_clock) {
        return SJ_ENOTFOUND;
    }
    sj_clock_case_t c = {.report_outcome = snap->reported_outcome,
                         .report_source = snap->source,
                         .ev = snap->clock,
                         .n = snap->n_clock};
    snprintf(c.received, sizeof c.received, "%s", snap->occurred_on);
    return sj_clock_compute(&c, p, today, out);
}
