/* county_search: `county-server search TEXT` and the dashboard's search
 * box, see county_query.h (county_query_search). */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "county_query.h"
#include "county_sql.h"
#include "sj_history.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_model.h"

#define S_NCOLS 8

int
county_query_search_table(sqlite3 *db,
                          const char *text,
                          const county_filter_t *f,
                          sj_table_t **out,
                          int *scanned,
                          char *err,
                          size_t err_size)
{
    static const char *const names[S_NCOLS] = {"id",      "occurred_on", "station", "category",
                                               "channel", "persons",     "outcome", "summary"};
    static const sj_col_type_t types[S_NCOLS] = {SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
                                                 SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT,
                                                 SJ_COL_TEXT, SJ_COL_TEXT};
    assert(out);
    *out = NULL;
    *scanned = 0;
    if (text && (!text[0] || !sj_utf8_valid(text, strlen(text)))) {
        snprintf(err, err_size, _("search: give the text to find (UTF-8, not empty)"));
        return SJ_EINVAL;
    }
    char pattern[1024] = "", like[1024] = "";
    int ph = text ? sj_history_phrase(text, pattern, sizeof pattern) : 1;
    if (ph == 0) {
        ph = sj_history_like(text, pattern, sizeof pattern);
        *scanned = 1;
    } else if (ph > 0 && text) {
        ph = sj_history_like(text, like, sizeof like);
    }
    if (ph < 0) {
        snprintf(err, err_size, _("search: the text is too long (at most %zu bytes)"),
                 sizeof pattern / 2 - 4);
        return SJ_EINVAL;
    }
    county_filter_where_t w;
    county_filter_where(f, &w);
    char sql[COUNTY_SQL_MAX];
    const char *cond =
        !text      ? ""
        : *scanned ? "(summary LIKE ? ESCAPE '\\'"
                     " OR id IN (SELECT case_id FROM status_changes WHERE note LIKE ? ESCAPE '\\')"
                     " OR id IN (SELECT case_id FROM assignments WHERE note LIKE ? ESCAPE '\\'))"
                   /* the index, and the summaries not in it yet (sj_history.h) */
                   : "id IN (SELECT case_id FROM search WHERE search MATCH ?"
                     " UNION ALL SELECT t.id FROM events AS e JOIN matters AS t ON t.id = e.id"
                     " WHERE e.eid > " SJ_SEARCH_MARK " AND t.summary LIKE ? ESCAPE '\\')";
    int n = snprintf(sql, sizeof sql,
                     "SELECT id, occurred_on, origin, category, channel, persons, outcome, summary"
                     " FROM matters%s%s%s ORDER BY created_ms DESC, id DESC LIMIT ?",
                     w.sql,
                     !text   ? ""
                     : w.len ? " AND "
                             : " WHERE ",
                     cond);
    if (n < 0 || (size_t) n >= sizeof sql) {
        snprintf(err, err_size, _("search: the query is too long"));
        return SJ_EINVAL;
    }
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (src != SQLITE_OK) {
        return county_sql_fail(db, src, "cannot search", sql, err, err_size);
    }
    int rc = county_filter_bind(db, st, &w, sql, err, err_size);
    int p = w.n + 1;
    for (int i = 0; rc == SJ_OK && text && i < (*scanned ? 3 : 1); i++) {
        sqlite3_bind_text(st, p++, pattern, -1, SQLITE_STATIC);
    }
    if (rc == SJ_OK && text && !*scanned) {
        sqlite3_bind_text(st, p++, like, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, p, f && f->limit > 0 ? f->limit : 100);
    sj_table_t *t = rc == SJ_OK ? sj_table_new(S_NCOLS, names, types) : NULL;
    if (rc == SJ_OK && !t) {
        rc = county_sql_nomem(err, err_size);
    }
    while (rc == SJ_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        char id[SJ_UUID_TEXT] = "";
        if (sqlite3_column_bytes(st, 0) == SJ_ID_BYTES) {
            sj_uuid_format(sqlite3_column_blob(st, 0), id);
        }
        const char *cells[S_NCOLS] = {id,
                                      (const char *) sqlite3_column_text(st, 1),
                                      (const char *) sqlite3_column_text(st, 2),
                                      sj_enum_name(SJ_FIELD_CATEGORY, sqlite3_column_int(st, 3)),
                                      sj_enum_name(SJ_FIELD_CHANNEL, sqlite3_column_int(st, 4)),
                                      (const char *) sqlite3_column_text(st, 5),
                                      sj_enum_name(SJ_FIELD_OUTCOME, sqlite3_column_int(st, 6)),
                                      (const char *) sqlite3_column_text(st, 7)};
        if (sj_table_add_row(t, cells) != SJ_OK) {
            rc = county_sql_nomem(err, err_size);
        }
    }
    if (rc == SJ_OK && src != SQLITE_DONE) {
        rc = county_sql_fail(db, src, "cannot search", sql, err, err_size);
    }
    sqlite3_finalize(st);
    if (rc != SJ_OK) {
        sj_table_destroy(&t);
        return rc;
    }
    *out = t;
    return SJ_OK;
}

int
county_query_search(sqlite3 *db,
                    const char *text,
                    const county_filter_t *f,
                    sj_format_t fmt,
                    FILE *out,
                    char *err,
                    size_t err_size)
{
    sj_table_t *t = NULL;
    int scanned = 0;
    int rc = county_query_search_table(db, text, f, &t, &scanned, err, err_size);
    if (rc == SJ_OK && scanned) {
        fprintf(stderr, "county-server: 少于3个字，逐条查找（不用索引，较慢） fewer than 3 "
                        "characters: every summary and note was scanned (the index needs 3)\n");
    }
    if (rc == SJ_OK && sj_table_write(t, fmt, out) != SJ_OK) {
        snprintf(err, err_size, _("cannot write the output"));
        rc = SJ_EIO;
    }
    sj_table_destroy(&t);
    return rc;
}
