/* hub_read: the township reads and finds its matters, see hub_read.h. */
#include "hub_read.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sj_history.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_model.h"
#include "sj_places.h"

#define S_LIST_NCOLS 13
#define S_MAX_BINDS  12

/* Columns 14 and 15 (receipts, issue 15): when the hub received the event,
 * and whether the county has it (its hub_seq at or below the county's ack,
 * meta up_acked); NULL for what the hub did not receive as an event. */
#define S_RECEIPT(seq)                                                              \
    " (SELECT received_ms FROM events AS x WHERE x.hub_seq = " seq "),"             \
    " (SELECT " seq " <= coalesce((SELECT value FROM meta WHERE key = 'up_acked')," \
    " 0) WHERE " seq " IS NOT NULL)"

/* clang-format off */
const char hub_read_history_sql[] =
    "SELECT 'report', r.created_ms, r.origin, r.officer, NULL, NULL,"
    " coalesce(c.reported_outcome, e.outcome), NULL, NULL, NULL, NULL, r.id, 0,"
    S_RECEIPT("e.hub_seq")
    " FROM reports AS r LEFT JOIN cases AS c ON c.id = r.id"
    " LEFT JOIN events AS e ON e.id = r.id WHERE r.id=?1"
    " UNION ALL SELECT 'status', s.created_ms, s.origin, s.officer, s.note,"
    " nullif(s.prev_outcome, 0), s.new_outcome, NULL, NULL,"
    " (SELECT reason FROM conflicts AS x WHERE x.case_id=s.case_id AND x.seq=s.hub_seq),"
    " s.applied, s.id, s.hub_seq,"
    S_RECEIPT("s.hub_seq")
    " FROM case_changes AS s WHERE s.case_id=?1"
    " UNION ALL SELECT 'assignment', a.created_ms, a.origin, a.officer, a.note, NULL, NULL,"
    " a.assignee, a.due_on, NULL, NULL, a.id, 0, a.received_ms, NULL"
    " FROM assignments AS a WHERE a.case_id=?1"
    /* corrections and voids (issue 15): the event's bytes in the 8th column */
    " UNION ALL SELECT CASE f.type WHEN 6 THEN 'void' ELSE 'correction' END, e.received_ms,"
    " e.origin, NULL, NULL, NULL, NULL, e.raw, NULL, NULL, f.applied, e.id, f.hub_seq,"
    S_RECEIPT("f.hub_seq")
    " FROM fixes AS f JOIN events AS e ON e.hub_seq = f.hub_seq WHERE f.case_id=?1"
    " UNION ALL SELECT 'ownership', o.created_ms, o.origin, o.officer, NULL, NULL, NULL,"
    " o.leader, o.portfolio, NULL, NULL, (SELECT e.id FROM events AS e WHERE e.hub_seq = o.row),"
    " o.row,"
    S_RECEIPT("o.row")
    " FROM ownerships AS o WHERE o.case_id=?1"
    " ORDER BY 2, 13";
/* clang-format on */

/* The outcome in force here: the cases row once something touched the
 * case, else the report as it arrived (hub_store.c, schema 4). */
#define S_OUTCOME "CASE WHEN r.voided THEN -1 ELSE coalesce(c.outcome, e.outcome) END"
/* -1: voided (作废, issue 15) */
#define S_FROM                                                                                    \
    " FROM reports AS r LEFT JOIN cases AS c ON c.id = r.id LEFT JOIN events AS e ON e.id = r.id" \
    " LEFT JOIN assignments AS a ON a.id = (SELECT id FROM assignments AS b"                      \
    " WHERE b.case_id = r.id ORDER BY b.created_ms DESC, b.id DESC LIMIT 1)"

static const char *
s_name(sj_field_t field, int v)
{
    if (field == SJ_FIELD_OUTCOME && v == -1) {
        return "voided";
    }
    const char *n = sj_enum_name(field, v);
    return n ? n : "";
}

typedef struct {
    const char *text[S_MAX_BINDS];
    long long value[S_MAX_BINDS];
    int n;
} s_binds_t;

static void
s_bind_add(s_binds_t *b, const char *text, long long value)
{
    b->text[b->n] = text;
    b->value[b->n] = value;
    b->n++;
}

/* A place's name (issue 15), or its code when it has none. */
static const char *
s_place(const sj_places_map_t *places, const unsigned char *code)
{
    const char *c = (const char *) code;
    const char *n = c ? sj_places_map_get(places, c) : NULL;
    return n ? n : c;
}

int
hub_read_list(sqlite3 *db,
              const hub_read_filter_t *f,
              sj_table_t **out,
              int *scanned,
              char *err,
              size_t err_size)
{
    static const char *const names[S_LIST_NCOLS] = {
        "id",      "occurred_on", "station", "category", "channel",      "kind",         "persons",
        "outcome", "assignee",    "due_on",  "summary",  "station_name", "assignee_name"};
    static const sj_col_type_t types[S_LIST_NCOLS] = {
        SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT,
        SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT};
    *out = NULL;
    *scanned = 0;
    char where[2048] = "";
    size_t wl = 0;
    s_binds_t b = {.n = 0};
#define S_AND(clause) \
    wl += (size_t) snprintf(where + wl, sizeof where - wl, "%s%s", wl ? " AND " : " WHERE ", clause)
    if (f->station) {
        if (sj_code_level(f->station) != 12) {
            snprintf(err, err_size, _("--station: '%s' is not a 12-digit station code"),
                     f->station);
            return SJ_EINVAL;
        }
        S_AND("r.origin = ?");
        s_bind_add(&b, f->station, 0);
    }
    if (f->category) {
        int v = sj_enum_value(SJ_FIELD_CATEGORY, f->category);
        if (!v) {
            char list[320];
            sj_enum_list_lang(SJ_FIELD_CATEGORY, sj_i18n_lang(), list, sizeof list);
            snprintf(err, err_size, _("--category: unknown '%s' (use %s)"), f->category, list);
            return SJ_EINVAL;
        }
        S_AND("r.category = ?");
        s_bind_add(&b, NULL, v);
    }
    if (f->outcome) {
        int v = sj_enum_value(SJ_FIELD_OUTCOME, f->outcome);
        if (!v) {
            char list[320];
            sj_enum_list_lang(SJ_FIELD_OUTCOME, sj_i18n_lang(), list, sizeof list);
            snprintf(err, err_size, _("--outcome: unknown '%s' (use %s)"), f->outcome, list);
            return SJ_EINVAL;
        }
        S_AND(S_OUTCOME " = ?");
        s_bind_add(&b, NULL, v);
    }
    const char *dates[2] = {f->from, f->to};
    for (int i = 0; i < 2; i++) {
        if (dates[i] && !sj_date_valid(dates[i])) {
            snprintf(err, err_size, _("--%s: '%s' is not a date (YYYY-MM-DD)"), i ? "to" : "from",
                     dates[i]);
            return SJ_EINVAL;
        }
        if (dates[i]) {
            S_AND(i ? "r.occurred_on <= ?" : "r.occurred_on >= ?");
            s_bind_add(&b, dates[i], 0);
        }
    }
    char pattern[1024], like[1024];
    if (f->text) {
        if (!f->text[0] || !sj_utf8_valid(f->text, strlen(f->text))) {
            snprintf(err, err_size, _("search: give the text to find (UTF-8, not empty)"));
            return SJ_EINVAL;
        }
        int ph = sj_history_phrase(f->text, pattern, sizeof pattern);
        if (ph == 0) {
            ph = sj_history_like(f->text, pattern, sizeof pattern);
            *scanned = 1;
        }
        if (ph < 0) {
            snprintf(err, err_size, _("search: the text is too long"));
            return SJ_EINVAL;
        }
        if (*scanned) {
            S_AND("(r.summary LIKE ? ESCAPE '\\'"
                  " OR r.id IN (SELECT case_id FROM case_changes WHERE note LIKE ? ESCAPE '\\')"
                  " OR r.id IN (SELECT case_id FROM assignments WHERE note LIKE ? ESCAPE '\\'))");
            for (int i = 0; i < 3; i++) {
                s_bind_add(&b, pattern, 0);
            }
        } else {
            /* the index, and the summaries not in it yet (sj_history.h) */
            S_AND("r.id IN (SELECT case_id FROM search WHERE search MATCH ?"
                  " UNION ALL SELECT t.id FROM events AS e JOIN reports AS t ON t.id = e.id"
                  " WHERE e.hub_seq > " SJ_SEARCH_MARK " AND t.search_later = 1"
                  " AND t.summary LIKE ? ESCAPE '\\')");
            s_bind_add(&b, pattern, 0);
            if (sj_history_like(f->text, like, sizeof like) < 0) {
                snprintf(err, err_size, _("search: the text is too long"));
                return SJ_EINVAL;
            }
            s_bind_add(&b, like, 0);
        }
    }
#undef S_AND
    char sql[4096];
    snprintf(
        sql, sizeof sql,
        "SELECT r.id, r.occurred_on, r.origin, r.category, r.channel, r.kind, r.persons, " S_OUTCOME
        ", a.assignee, a.due_on, r.summary" S_FROM
        "%s ORDER BY r.created_ms DESC, r.id DESC LIMIT ? OFFSET ?",
        where);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, err_size, _("cannot read the matters: %s"), sqlite3_errmsg(db));
        return SJ_EDB;
    }
    for (int i = 0; i < b.n; i++) {
        if (b.text[i]) {
            sqlite3_bind_text(st, i + 1, b.text[i], -1, SQLITE_STATIC);
        } else {
            sqlite3_bind_int64(st, i + 1, b.value[i]);
        }
    }
    sqlite3_bind_int64(st, b.n + 1, f->limit > 0 ? f->limit : 100);
    sqlite3_bind_int64(st, b.n + 2, f->offset > 0 ? f->offset : 0);
    sj_table_t *t = sj_table_new(S_LIST_NCOLS, names, types);
    sj_places_map_t *places = sj_places_map_load(db);
    int rc = t ? SJ_OK : SJ_ENOMEM;
    int step = SQLITE_DONE;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        char id[SJ_UUID_TEXT] = "";
        if (sqlite3_column_bytes(st, 0) == SJ_ID_BYTES) {
            sj_uuid_format(sqlite3_column_blob(st, 0), id);
        }
        const char *cells[S_LIST_NCOLS] = {id,
                                           (const char *) sqlite3_column_text(st, 1),
                                           (const char *) sqlite3_column_text(st, 2),
                                           s_name(SJ_FIELD_CATEGORY, sqlite3_column_int(st, 3)),
                                           s_name(SJ_FIELD_CHANNEL, sqlite3_column_int(st, 4)),
                                           s_name(SJ_FIELD_KIND, sqlite3_column_int(st, 5)),
                                           (const char *) sqlite3_column_text(st, 6),
                                           s_name(SJ_FIELD_OUTCOME, sqlite3_column_int(st, 7)),
                                           (const char *) sqlite3_column_text(st, 8),
                                           (const char *) sqlite3_column_text(st, 9),
                                           (const char *) sqlite3_column_text(st, 10),
                                           s_place(places, sqlite3_column_text(st, 2)),
                                           s_place(places, sqlite3_column_text(st, 8))};
        if (sj_table_add_row(t, cells) != SJ_OK) {
            rc = SJ_ENOMEM;
        }
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        snprintf(err, err_size, _("cannot read the matters: %s"), sqlite3_errmsg(db));
        rc = SJ_EDB;
    } else if (rc == SJ_ENOMEM) {
        snprintf(err, err_size, _("out of memory"));
    }
    sqlite3_finalize(st);
    sj_places_map_free(&places);
    if (rc != SJ_OK) {
        sj_table_destroy(&t);
        return rc;
    }
    *out = t;
    return SJ_OK;
}

#define S_SHOW_NCOLS 15

int
hub_read_show(
    sqlite3 *db, const char *id_text, sj_format_t fmt, FILE *out, char *err, size_t err_size)
{
    static const char *const names[S_SHOW_NCOLS] = {
        "id",      "occurred_on", "station",  "township",     "channel",
        "kind",    "persons",     "level",    "category",     "outcome",
        "summary", "officer",     "personal", "station_name", "township_name"};
    static const sj_col_type_t types[S_SHOW_NCOLS] = {
        SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
        SJ_COL_TEXT, SJ_COL_INT,  SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
        SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT};
    uint8_t id[SJ_ID_BYTES];
    char id_canon[SJ_UUID_TEXT];
    if (!id_text || sj_uuid_parse(id_text, id) != SJ_OK) {
        snprintf(err, err_size, _("'%s' is not a UUID"), id_text ? id_text : "");
        return SJ_EINVAL;
    }
    sj_uuid_format(id, id_canon);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT r.occurred_on, r.origin, r.channel, r.kind, r.persons, r.level,"
                           " r.category, " S_OUTCOME ", r.summary, r.officer"
                           " FROM reports AS r LEFT JOIN cases AS c ON c.id = r.id"
                           " LEFT JOIN events AS e ON e.id = r.id WHERE r.id = ?",
                           -1, &st, NULL)
        != SQLITE_OK) {
        snprintf(err, err_size, _("cannot read the matter: %s"), sqlite3_errmsg(db));
        return SJ_EDB;
    }
    sqlite3_bind_blob(st, 1, id, SJ_ID_BYTES, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        if (step == SQLITE_DONE) {
            snprintf(err, err_size, _("no matter with id %s here"), id_canon);
        } else {
            snprintf(err, err_size, _("cannot read the matter: %s"), sqlite3_errmsg(db));
        }
        sqlite3_finalize(st);
        return step == SQLITE_DONE ? SJ_ENOTFOUND : SJ_EDB;
    }
    const char *station = (const char *) sqlite3_column_text(st, 1);
    sj_places_map_t *places = sj_places_map_load(db);
    char township[10] = "";
    snprintf(township, sizeof township, "%.9s", station ? station : "");
    const char *cells[S_SHOW_NCOLS] = {
        id_canon,
        (const char *) sqlite3_column_text(st, 0),
        station,
        township,
        s_name(SJ_FIELD_CHANNEL, sqlite3_column_int(st, 2)),
        s_name(SJ_FIELD_KIND, sqlite3_column_int(st, 3)),
        (const char *) sqlite3_column_text(st, 4),
        s_name(SJ_FIELD_LEVEL, sqlite3_column_int(st, 5)),
        s_name(SJ_FIELD_CATEGORY, sqlite3_column_int(st, 6)),
        s_name(SJ_FIELD_OUTCOME, sqlite3_column_int(st, 7)),
        (const char *) sqlite3_column_text(st, 8),
        (const char *) sqlite3_column_text(st, 9),
        "无（个人信息只封存在县里） none here (sealed to the county)",
        s_place(places, (const unsigned char *) station),
        s_place(places, (const unsigned char *) township)};
    sj_table_t *t = sj_table_new(S_SHOW_NCOLS, names, types);
    int rc = t && sj_table_add_row(t, cells) == SJ_OK ? SJ_OK : SJ_ENOMEM;
    sj_places_map_free(&places);
    sqlite3_finalize(st);
    if (rc == SJ_OK && fmt == SJ_FMT_JSON) {
        cJSON *rows = sj_table_to_json(t);
        cJSON *obj = rows ? cJSON_GetArrayItem(rows, 0) : NULL;
        rc = obj ? sj_history_write(db, hub_read_history_sql, id, fmt, out, obj, err, err_size)
                 : SJ_ENOMEM;
        char *text = rc == SJ_OK ? cJSON_PrintUnformatted(obj) : NULL;
        if (rc == SJ_OK && (!text || fputs(text, out) == EOF || fputc('\n', out) == EOF)) {
            rc = SJ_EIO;
        }
        free(text);
        cJSON_Delete(rows);
    } else if (rc == SJ_OK && fmt == SJ_FMT_TABLE) {
        for (size_t i = 0; i < S_SHOW_NCOLS && rc == SJ_OK; i++) {
            const char *v = sj_table_cell(t, 0, i);
            if (fprintf(out, "%s: ", names[i]) < 0) {
                rc = SJ_EIO;
            }
            for (const unsigned char *p = (const unsigned char *) (v ? v : ""); *p && rc == SJ_OK;
                 p++) {
                rc = fputc(*p < 0x20 || *p == 0x7F ? ' ' : *p, out) == EOF ? SJ_EIO : SJ_OK;
            }
            if (rc == SJ_OK && fputc('\n', out) == EOF) {
                rc = SJ_EIO;
            }
        }
        if (rc == SJ_OK) {
            rc = sj_history_write(db, hub_read_history_sql, id, fmt, out, NULL, err, err_size);
        }
    } else if (rc == SJ_OK) {
        rc = sj_table_write(t, fmt, out);
    }
    if (rc == SJ_ENOMEM && !err[0]) {
        snprintf(err, err_size, _("out of memory"));
    } else if (rc == SJ_EIO && !err[0]) {
        snprintf(err, err_size, _("cannot write the output"));
    }
    sj_table_destroy(&t);
    return rc;
}
