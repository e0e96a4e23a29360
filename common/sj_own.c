/* sj_own: see sj_own.h. */
#include "sj_own.h"

#include <stdlib.h>
#include <string.h>

#include "sj_db.h"
#include "sj_ids.h"
#include "sj_model.h"

int
sj_own_text_valid(const char *text, size_t max, int required)
{
    size_t n = text ? strlen(text) : 0;
    if (n == 0) {
        return !required;
    }
    if (n > max || !sj_utf8_valid(text, n)) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) text[i];
        if (c < 0x20 || c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

int
sj_own_insert(sqlite3 *db, int64_t row, const sj_event_t *ev)
{
    sqlite3_stmt *st = NULL;
    int rc = sj_db_prepare(db,
                           "INSERT INTO ownerships(row, case_id, leader, portfolio, officer,"
                           " account, created_ms, origin) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                           &st);
    if (rc != SJ_OK) {
        return rc;
    }
    rc = sj_db_bind_check(db,
                          sqlite3_bind_int64(st, 1, row)
                              | sqlite3_bind_blob(st, 2, ev->case_id, SJ_ID_BYTES, SQLITE_STATIC)
                              | sqlite3_bind_text(st, 3, ev->leader, -1, SQLITE_STATIC)
                              | sqlite3_bind_text(st, 4, ev->own_portfolio, -1, SQLITE_STATIC)
                              | sqlite3_bind_text(st, 5, ev->officer, -1, SQLITE_STATIC)
                              | sqlite3_bind_text(st, 6, ev->account, -1, SQLITE_STATIC)
                              | sqlite3_bind_int64(st, 7, ev->created_ms)
                              | sqlite3_bind_text(st, 8, ev->origin, -1, SQLITE_STATIC),
                          "ownership insert");
    if (rc == SJ_OK) {
        rc = sj_db_step_done(db, st, "ownership insert");
    }
    sqlite3_finalize(st);
    return rc;
}

sj_event_t *
sj_own_event_new(const char *id_text,
                 const char *leader,
                 const char *portfolio,
                 const char *officer,
                 char *err,
                 size_t err_size)
{
    uint8_t id[SJ_ID_BYTES];
    if (!id_text || sj_uuid_parse(id_text, id) != SJ_OK) {
        snprintf(err, err_size, "'%.40s' is not a case id (a UUID)", id_text ? id_text : "");
        return NULL;
    }
    if (!sj_own_text_valid(leader, SJ_MAX_LEADER_BYTES, 1)) {
        snprintf(err, err_size,
                 "--leader: give the leader's name, 1..%d bytes of UTF-8 text without control"
                 " characters",
                 SJ_MAX_LEADER_BYTES);
        return NULL;
    }
    if (!sj_own_text_valid(portfolio, SJ_MAX_OFFICER_BYTES, 0)) {
        snprintf(err, err_size,
                 "--portfolio: at most %d bytes of UTF-8 text without control characters",
                 SJ_MAX_OFFICER_BYTES);
        return NULL;
    }
    if (!sj_own_text_valid(officer, SJ_MAX_OFFICER_BYTES, 0)) {
        snprintf(err, err_size,
                 "--officer: at most %d bytes of UTF-8 text without control characters",
                 SJ_MAX_OFFICER_BYTES);
        return NULL;
    }
    sj_event_t *ev = calloc(1, sizeof *ev);
    if (!ev) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    ev->type = SJ_EVENT_OWNERSHIP;
    memcpy(ev->case_id, id, SJ_ID_BYTES);
    snprintf(ev->leader, sizeof ev->leader, "%s", leader);
    snprintf(ev->own_portfolio, sizeof ev->own_portfolio, "%s", portfolio ? portfolio : "");
    snprintf(ev->officer, sizeof ev->officer, "%s", officer ? officer : "");
    return ev;
}

sj_event_t *
sj_own_cli_event(const sj_cli_args_t *a, int leader_id, int portfolio_id, int officer_id, int *code)
{
    *code = 2;
    if (sj_cli_need(a, leader_id, "NAME")) {
        return NULL;
    }
    char err[300];
    sj_event_t *ev = sj_own_event_new(
        a->pos[0], sj_cli_val(a, leader_id), portfolio_id ? sj_cli_val(a, portfolio_id) : NULL,
        officer_id ? sj_cli_val(a, officer_id) : NULL, err, sizeof err);
    if (!ev) {
        fprintf(stderr, "%s: %s\n", a->tool->tool, err);
        *code = strcmp(err, "out of memory") == 0 ? 1 : 2;
    }
    return ev;
}

/* ---- the per-leader tally ---- */

typedef struct {
    char leader[SJ_MAX_LEADER_BYTES + 1];
    long owned, open, concluded, overdue;
} s_lead_t;

struct sj_own_tally {
    s_lead_t *v;
    size_t n, cap;
};

sj_own_tally_t *
sj_own_tally_new(void)
{
    return calloc(1, sizeof(sj_own_tally_t));
}

void
sj_own_tally_free(sj_own_tally_t **self_p)
{
    if (self_p && *self_p) {
        free((*self_p)->v);
        free(*self_p);
        *self_p = NULL;
    }
}

int
sj_own_tally_add(sj_own_tally_t *self, const char *leader, int open, int concluded, int overdue)
{
    if (!leader || !leader[0]) {
        return SJ_OK;
    }
    size_t i = 0;
    while (i < self->n && strcmp(self->v[i].leader, leader) != 0) {
        i++;
    }
    if (i == self->n) {
        if (self->n == self->cap) {
            size_t cap = self->cap ? 2 * self->cap : 16;
            s_lead_t *v = realloc(self->v, cap * sizeof *v);
            if (!v) {
                return SJ_ENOMEM;
            }
            self->v = v;
            self->cap = cap;
        }
        memset(&self->v[i], 0, sizeof self->v[i]);
        snprintf(self->v[i].leader, sizeof self->v[i].leader, "%s", leader);
        self->n++;
    }
    self->v[i].owned++;
    self->v[i].open += open ? 1 : 0;
    self->v[i].concluded += concluded ? 1 : 0;
    self->v[i].overdue += overdue ? 1 : 0;
    return SJ_OK;
}

static int
s_lead_cmp(const void *a, const void *b)
{
    return strcmp(((const s_lead_t *) a)->leader, ((const s_lead_t *) b)->leader);
}

sj_table_t *
sj_own_tally_table(const sj_own_tally_t *self)
{
    static const char *const names[] = {"leader", "owned", "open", "concluded", "overdue"};
    static const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_INT, SJ_COL_INT, SJ_COL_INT,
                                          SJ_COL_INT};
    sj_table_t *t = sj_table_new(5, names, types);
    if (!t) {
        return NULL;
    }
    qsort(self->v, self->n, sizeof *self->v, s_lead_cmp);
    for (size_t i = 0; i < self->n; i++) {
        char c[4][24];
        snprintf(c[0], sizeof c[0], "%ld", self->v[i].owned);
        snprintf(c[1], sizeof c[1], "%ld", self->v[i].open);
        snprintf(c[2], sizeof c[2], "%ld", self->v[i].concluded);
        snprintf(c[3], sizeof c[3], "%ld", self->v[i].overdue);
        const char *row[] = {self->v[i].leader, c[0], c[1], c[2], c[3]};
        if (sj_table_add_row(t, row) != SJ_OK) {
            sj_table_destroy(&t);
            return NULL;
        }
    }
    return t;
}
