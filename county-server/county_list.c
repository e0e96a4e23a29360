/* county_list: the list cursor and show, see county_list.h. */
#include "county_list.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "county_appoint.h"
#include "county_personal.h"
#include "county_sql.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_model.h"
#include "sj_places.h"

#define S_LIST_NCOLS   12
#define S_LIST_NNAMES  2 /* station_name, township_name: after every other column */
#define S_LIST_MAXCOLS (S_LIST_NCOLS + COUNTY_PERSONAL_NCOLS + S_LIST_NNAMES)
#define S_SHOW_NCOLS   21

static const char s_list_sql[] =
    "SELECT id, occurred_on, origin, township, channel, kind, persons, level, category, outcome,"
    " source, summary, sealed FROM matters";

/* Stored columns 4, 5 and 7..10 of both queries are the enums, in
 * sj_field_t order. */
static const int s_enum_cols[SJ_FIELD_COUNT] = {4, 5, 7, 8, 9, 10};

/* The list cursor: one prepared SELECT over matters, stepped row by row.
 * Cells point into the statement or into the buffers here, valid until the
 * next county_list_next. */
struct county_list {
    sqlite3 *db;                         /* borrowed */
    sqlite3_stmt *st;                    /* the one statement */
    const sj_keypair_t *kp;              /* borrowed; NULL = no personal cells */
    size_t ncols;                        /* S_LIST_NCOLS (+ 4 with kp) + S_LIST_NNAMES */
    char sql[COUNTY_SQL_MAX];            /* for error logs */
    char id[SJ_UUID_TEXT];               /* the row's id as text */
    county_personal_t personal;          /* opened petitioner fields */
    sj_places_map_t *places;             /* the names beside the codes (issue 15) */
    const char *names[S_LIST_MAXCOLS];   /* the header */
    sj_col_type_t types[S_LIST_MAXCOLS]; /* and its types */
    const char *cells[S_LIST_MAXCOLS];   /* the row */
};

static const char *const s_list_names[S_LIST_NCOLS + COUNTY_PERSONAL_NCOLS] = {
    "id",
    "occurred_on",
    "station",
    "township",
    "channel",
    "kind",
    "persons",
    "level",
    "category",
    "outcome",
    "source",
    "summary",
    "petitioner_name",
    "petitioner_id",
    "petitioner_phone",
    "petitioner_address"};
static const sj_col_type_t s_list_types[S_LIST_NCOLS + COUNTY_PERSONAL_NCOLS] = {
    SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
    SJ_COL_INT,  SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
    SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT};

/* The enum cells of the current row (columns s_enum_cols) by name. */
static int
s_enum_cells(sqlite3_stmt *st, const char **cells, char *err, size_t err_size)
{
    for (int i = 0; i < SJ_FIELD_COUNT; i++) {
        int rc = county_sql_enum_cell((sj_field_t) i, sqlite3_column_int(st, s_enum_cols[i]),
                                      &cells[s_enum_cols[i]], err, err_size);
        if (rc != SJ_OK) {
            return rc;
        }
    }
    return SJ_OK;
}

int
county_list_open(
    sqlite3 *db, const county_filter_t *f, county_list_t **out, char *err, size_t err_size)
{
    assert(db);
    assert(out);
    *out = NULL;
    int rc = county_filter_check(f, err, err_size);
    if (rc != SJ_OK) {
        return rc;
    }
    county_list_t *self = calloc(1, sizeof *self);
    if (!self) {
        return county_sql_nomem(err, err_size);
    }
    self->db = db;
    self->kp = f ? f->personal : NULL;
    size_t base = S_LIST_NCOLS + (self->kp ? COUNTY_PERSONAL_NCOLS : 0);
    self->ncols = base + S_LIST_NNAMES;
    /* Issue 15: the names come after every other column, so that the
     * columns before them keep their places. */
    memcpy(self->names, s_list_names, base * sizeof self->names[0]);
    memcpy(self->types, s_list_types, base * sizeof self->types[0]);
    self->names[base] = "station_name";
    self->names[base + 1] = "township_name";
    self->types[base] = SJ_COL_TEXT;
    self->types[base + 1] = SJ_COL_TEXT;
    self->places = sj_places_map_load(db);
    county_filter_where_t where;
    county_filter_where(f, &where);
    size_t len = 0;
    county_sql_add(self->sql, sizeof self->sql, &len, s_list_sql);
    county_sql_add(self->sql, sizeof self->sql, &len, where.sql);
    /* matters is WITHOUT ROWID, so matters_occurred holds (occurred_on, id):
     * this order is read straight from the index, with no sort in memory or
     * in temp files, which is what lets export stream millions of rows. */
    county_sql_add(self->sql, sizeof self->sql, &len, " ORDER BY occurred_on, id");
    if (f && f->limit > 0) {
        county_sql_add(self->sql, sizeof self->sql, &len, " LIMIT ?");
    }
    int src = sqlite3_prepare_v2(db, self->sql, -1, &self->st, NULL);
    if (src != SQLITE_OK) {
        rc = county_sql_fail(db, src, "cannot query the matters", self->sql, err, err_size);
        goto fail;
    }
    rc = county_filter_bind(db, self->st, &where, self->sql, err, err_size);
    if (rc != SJ_OK) {
        goto fail;
    }
    if (f && f->limit > 0) {
        src = sqlite3_bind_int64(self->st, where.n + 1, f->limit);
        if (src != SQLITE_OK) {
            rc = county_sql_fail(db, src, "cannot bind the limit", self->sql, err, err_size);
            goto fail;
        }
    }
    *out = self;
    return SJ_OK;
fail:
    county_list_close(&self);
    return rc;
}

size_t
county_list_ncols(const county_list_t *self)
{
    return self->ncols;
}

const char *const *
county_list_names(const county_list_t *self)
{
    return self->names;
}

const sj_col_type_t *
county_list_types(const county_list_t *self)
{
    return self->types;
}

int
county_list_next(county_list_t *self, const char *const **cells, char *err, size_t err_size)
{
    assert(self);
    assert(cells);
    sqlite3_stmt *st = self->st;
    *cells = NULL;
    if (self->kp) {
        county_personal_wipe(&self->personal); /* the previous row's */
    }
    int src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        return SJ_ENOTFOUND;
    }
    if (src != SQLITE_ROW) {
        return county_sql_fail(self->db, src, "cannot read the matters", self->sql, err, err_size);
    }
    if (sqlite3_column_bytes(st, 0) != SJ_ID_BYTES) {
        snprintf(err, err_size,
                 _("the database holds a matter id that is not 16 bytes (damaged?)"));
        return SJ_EDB;
    }
    sj_uuid_format(sqlite3_column_blob(st, 0), self->id);
    self->cells[0] = self->id;
    for (int i = 1; i < S_LIST_NCOLS; i++) {
        self->cells[i] = county_sql_text(st, i); /* enum cells are overwritten below */
        if (!self->cells[i]) {
            return county_sql_nomem(err, err_size);
        }
    }
    int rc = s_enum_cells(st, self->cells, err, err_size);
    if (rc != SJ_OK) {
        return rc;
    }
    if (self->kp) {
        if (county_personal_open(sqlite3_column_blob(st, 12), (size_t) sqlite3_column_bytes(st, 12),
                                 self->kp, &self->personal)
            != SJ_OK) {
            snprintf(self->personal.text[0], sizeof self->personal.text[0],
                     "(sealed to another key)");
        }
        memcpy(&self->cells[S_LIST_NCOLS], self->personal.cells, sizeof self->personal.cells);
    }
    /* issue 15: the names beside the codes (the code when it has none) */
    size_t base = self->ncols - S_LIST_NNAMES;
    const char *station = sj_places_map_get(self->places, self->cells[2]);
    const char *township = sj_places_map_get(self->places, self->cells[3]);
    self->cells[base] = station ? station : self->cells[2];
    self->cells[base + 1] = township ? township : self->cells[3];
    *cells = self->cells;
    return SJ_OK;
}

void
county_list_close(county_list_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    county_list_t *self = *self_p;
    sqlite3_finalize(self->st);
    county_personal_wipe(&self->personal);
    sj_places_map_free(&self->places);
    free(self);
    *self_p = NULL;
}

/* A voided matter (issue 15) is still shown: its row moved to
 * matters_voided (COUNTY_SQL_MATTER_COLS of both). */
static const char s_show_sql[] =
    "SELECT m.id, m.occurred_on, m.origin, m.township, m.channel, m.kind, m.persons, m.level,"
    " m.category, m.outcome, m.source, m.summary, m.officer, e.origin_seq, m.created_ms,"
    " m.received_ms, m.sealed IS NOT NULL"
    " FROM (SELECT " COUNTY_SQL_MATTER_COLS " FROM matters UNION ALL SELECT " COUNTY_SQL_MATTER_COLS
    " FROM matters_voided) AS m LEFT JOIN events AS e ON e.id = m.id WHERE m.id = ?";

int
county_list_show(sqlite3 *db, const char *id_text, sj_table_t **out, char *err, size_t err_size)
{
    assert(db);
    assert(out);
    static const char *const names[S_SHOW_NCOLS] = {
        "id",       "occurred_on", "station",      "township",      "channel",
        "kind",     "persons",     "level",        "category",      "outcome",
        "source",   "summary",     "officer",      "origin_seq",    "created",
        "received", "personal",    "station_name", "township_name", "receiving_leader",
        "portfolio"};
    static const sj_col_type_t types[S_SHOW_NCOLS] = {
        SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT,
        SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT,
        SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT};
    *out = NULL;
    uint8_t id[SJ_ID_BYTES];
    char id_canon[SJ_UUID_TEXT];
    if (!id_text || sj_uuid_parse(id_text, id) != SJ_OK) {
        snprintf(err, err_size, _("'%s' is not a UUID"), id_text ? id_text : "");
        return SJ_EINVAL;
    }
    sj_uuid_format(id, id_canon);

    sqlite3_stmt *st = NULL;
    sj_table_t *t = NULL;
    sj_places_map_t *places = NULL;
    int rc = county_sql_matter_row(db, s_show_sql, id, id_canon, &st, err, err_size);
    if (rc != SJ_OK) {
        goto out;
    }

    const char *cells[S_SHOW_NCOLS];
    char created[COUNTY_SQL_TIME], received[COUNTY_SQL_TIME];
    cells[0] = id_canon;
    for (int i = 1; i <= 13; i++) {
        if (!(cells[i] = county_sql_text(st, i))) {
            rc = county_sql_nomem(err, err_size);
            goto out;
        }
    }
    rc = s_enum_cells(st, cells, err, err_size);
    if (rc != SJ_OK) {
        goto out;
    }
    if (sqlite3_column_type(st, 13) == SQLITE_NULL) {
        cells[13] = NULL; /* no event row: JSON null, blank elsewhere */
    }
    county_sql_iso_utc(sqlite3_column_int64(st, 14), created);
    county_sql_iso_utc(sqlite3_column_int64(st, 15), received);
    cells[14] = created;
    cells[15] = received;
    cells[16] = sqlite3_column_int(st, 16) ? "sealed" : "none";
    /* issue 15: the names beside the codes (the code when it has none) */
    places = sj_places_map_load(db);
    cells[17] = sj_places_map_get(places, cells[2]);
    cells[18] = sj_places_map_get(places, cells[3]);
    cells[17] = cells[17] ? cells[17] : cells[2];
    cells[18] = cells[18] ? cells[18] : cells[3];
    /* issue 16 item 6: the reception register's leader and portfolio */
    char leader[SJ_MAX_LEADER_BYTES + 1], portfolio[SJ_MAX_LEADER_BYTES + 1];
    county_appoint_reception(db, id, leader, portfolio);
    cells[19] = leader[0] ? leader : NULL; /* none: JSON null, blank elsewhere */
    cells[20] = portfolio[0] ? portfolio : NULL;
    t = sj_table_new(S_SHOW_NCOLS, names, types);
    if (!t || sj_table_add_row(t, cells) != SJ_OK) {
        rc = county_sql_nomem(err, err_size);
        goto out;
    }
    *out = t;
    t = NULL;
out:
    sj_places_map_free(&places);
    sj_table_destroy(&t);
    sqlite3_finalize(st);
    return rc;
}
