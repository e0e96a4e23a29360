/* sj_history: a case's story and its text search (see sj_history.h). */
#include "sj_history.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sj_clock.h"
#include "sj_db.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_log.h"
#include "sj_model.h"
#include "sj_wire.h"

int
sj_history_backfill(sqlite3 *db, const char *changes, const char *arrival)
{
    int64_t flag = 0;
    int rc = sj_db_meta_get_int(db, "case_notes", &flag);
    if (rc == SJ_ENOTFOUND || (rc == SJ_OK && flag == 0)) {
        return SJ_OK;
    }
    if (rc != SJ_OK) {
        return rc;
    }
    char sel[256], upd[256];
    snprintf(sel, sizeof sel,
             "SELECT c.%s, e.raw FROM %s AS c JOIN events AS e ON e.%s = c.%s WHERE c.note IS NULL",
             arrival, changes, arrival, arrival);
    snprintf(upd, sizeof upd, "UPDATE %s SET note=?1, officer=?2 WHERE %s=?3", changes, arrival);
    sqlite3_stmt *s = NULL, *u = NULL;
    sj_event_t *ev = malloc(sizeof *ev);
    if (!ev) {
        return SJ_ENOMEM;
    }
    rc = sj_db_begin(db);
    if (rc != SJ_OK) {
        free(ev);
        return rc;
    }
    size_t n = 0;
    rc = sj_db_prepare(db, sel, &s);
    if (rc == SJ_OK) {
        rc = sj_db_prepare(db, upd, &u);
    }
    int step = SQLITE_DONE;
    while (rc == SJ_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
        char reason[128];
        const uint8_t *raw = sqlite3_column_blob(s, 1);
        size_t len = (size_t) sqlite3_column_bytes(s, 1);
        if (!raw || sj_event_decode(raw, len, ev, reason, sizeof reason) != SJ_OK) {
            ev->note[0] = ev->officer[0] = '\0'; /* kept as found: an empty note */
        }
        rc = sj_db_bind_check(db,
                              sqlite3_bind_text(u, 1, ev->note, -1, SQLITE_STATIC)
                                  | sqlite3_bind_text(u, 2, ev->officer, -1, SQLITE_STATIC)
                                  | sqlite3_bind_int64(u, 3, sqlite3_column_int64(s, 0)),
                              "note backfill");
        if (rc == SJ_OK) {
            rc = sj_db_step_done(db, u, "note backfill");
        }
        n++;
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        rc = sj_db_err(db, step, "note backfill");
    }
    sqlite3_finalize(s);
    sqlite3_finalize(u);
    free(ev);
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_int(db, "case_notes", 0);
    }
    if (rc == SJ_OK) {
        rc = sj_db_commit(db);
    }
    if (rc != SJ_OK) {
        sj_db_rollback(db);
        return rc;
    }
    if (n) {
        sj_info("notes and officers of %zu status changes read from their events", n);
    }
    return SJ_OK;
}

static void
s_iso(int64_t ms, char out[24])
{
    time_t secs = (time_t) (ms / 1000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm) || strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(out, 24, "?");
    }
}

/* Text for a terminal: control characters become spaces. */
static int
s_put(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        int c = *p < 0x20 || *p == 0x7F ? ' ' : *p;
        if (fputc(c, out) == EOF) {
            return SJ_EIO;
        }
    }
    return SJ_OK;
}

static const char *
s_col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *) t : NULL;
}

static const char *
s_applied_name(int applied)
{
    return applied == 2 ? "in force" : applied == 1 ? "applied" : "not in force";
}

static const char *
s_applied_label(int applied)
{
    return applied == 2 ? "已生效" : applied == 1 ? "已执行" : "未生效";
}

/* Receipts (issue 15), where the tier knows them: column 13 when this tier
 * received the entry's event (NULL: not known, e.g. made here), column 14
 * whether it is at the county (1/0; NULL: the county itself). */
static int
s_receipt_line(sqlite3_stmt *st, FILE *out)
{
    int n = sqlite3_column_count(st);
    if (n > 13 && sqlite3_column_type(st, 13) != SQLITE_NULL) {
        char at[24];
        s_iso(sqlite3_column_int64(st, 13), at);
        if (fprintf(out, "  收到 received %s", at) < 0) {
            return SJ_EIO;
        }
    }
    if (n > 14 && sqlite3_column_type(st, 14) != SQLITE_NULL
        && fputs(sqlite3_column_int(st, 14) ? "  县已收 at the county"
                                            : "  县未收 not yet at the county",
                 out)
               == EOF) {
        return SJ_EIO;
    }
    return SJ_OK;
}

static int
s_receipt_json(sqlite3_stmt *st, cJSON *o)
{
    int n = sqlite3_column_count(st);
    if (n > 13 && sqlite3_column_type(st, 13) != SQLITE_NULL) {
        char at[24];
        s_iso(sqlite3_column_int64(st, 13), at);
        if (!cJSON_AddStringToObject(o, "received", at)) {
            return SJ_ENOMEM;
        }
    }
    if (n > 14 && sqlite3_column_type(st, 14) != SQLITE_NULL
        && !cJSON_AddBoolToObject(o, "at_county", sqlite3_column_int(st, 14))) {
        return SJ_ENOMEM;
    }
    return SJ_OK;
}

/* ---- corrections and voids (issue 15): column 7 holds the event's bytes,
 * column 10 its fixes.applied (0 waiting for its report, 1 applied, 2 not
 * applied) ---- */

static int
s_is_fix(const char *type)
{
    return type && (strcmp(type, "correction") == 0 || strcmp(type, "void") == 0);
}

static const char *
s_fix_applied(int applied)
{
    return applied == 1 ? "applied" : applied == 2 ? "not applied" : "waiting";
}

static const char *
s_fix_applied_zh(int applied)
{
    return applied == 1 ? "已执行" : applied == 2 ? "未执行" : "待执行";
}

/* The event of a fix row, decoded (caller frees); NULL when it does not
 * decode (it was validated when it came: a damaged store). */
static sj_event_t *
s_fix_event(sqlite3_stmt *st)
{
    sj_event_t *ev = malloc(sizeof *ev);
    char why[200];
    if (ev
        && sj_event_decode(sqlite3_column_blob(st, 7), (size_t) sqlite3_column_bytes(st, 7), ev,
                           why, sizeof why)
               != SJ_OK) {
        sj_error("a stored correction does not decode: %s", why);
        free(ev);
        ev = NULL;
    }
    return ev;
}

/* The corrected fields as "name=value" pairs (JSON: an object). */
static void
s_fix_fields(const sj_event_t *ev, char *out, size_t size, cJSON *obj)
{
    static const struct {
        const char *name;
        sj_field_t field;
    } enums[] = {{"channel", SJ_FIELD_CHANNEL},
                 {"kind", SJ_FIELD_KIND},
                 {"level", SJ_FIELD_LEVEL},
                 {"category", SJ_FIELD_CATEGORY},
                 {"source", SJ_FIELD_SOURCE}};
    const sj_report_t *r = &ev->report;
    const int v[] = {r->channel, r->kind, r->level, r->category, r->source};
    size_t used = 0;
    if (out && size) {
        out[0] = '\0';
    }
#define S_ADD(name, value)                                                                        \
    do {                                                                                          \
        if (obj) {                                                                                \
            cJSON_AddStringToObject(obj, name, value);                                            \
        } else if (used < size) {                                                                 \
            used += (size_t) snprintf(out + used, size - used, "%s%s=%s", used ? ", " : "", name, \
                                      value);                                                     \
        }                                                                                         \
    } while (0)
    if (r->occurred_on[0]) {
        S_ADD("occurred_on", r->occurred_on);
    }
    if (r->persons) {
        char n[16];
        snprintf(n, sizeof n, "%u", (unsigned) r->persons);
        S_ADD("persons", n);
    }
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        const char *name = v[i] ? sj_enum_name(enums[i].field, v[i]) : NULL;
        if (name) {
            S_ADD(enums[i].name, name);
        }
    }
    if (ev->summary[0]) {
        S_ADD("summary", ev->summary);
    }
#undef S_ADD
}

static int
s_fix_line(sqlite3_stmt *st, FILE *out, const char *type, const char *at, const char *origin)
{
    sj_event_t *ev = s_fix_event(st);
    int applied = sqlite3_column_int(st, 10);
    int is_void = strcmp(type, "void") == 0;
    int rc =
        fprintf(out, "  %s  %s %s  %s", at, is_void ? "作废" : "更正", type, origin ? origin : "")
                < 0
            ? SJ_EIO
            : SJ_OK;
    if (rc == SJ_OK && ev && ev->officer[0]
        && (fputs("  ", out) == EOF || s_put(out, ev->officer) != SJ_OK)) {
        rc = SJ_EIO;
    }
    if (rc == SJ_OK && ev && !is_void) {
        char fields[SJ_MAX_SUMMARY_BYTES + 256];
        s_fix_fields(ev, fields, sizeof fields, NULL);
        if (fputs("  新值 new: ", out) == EOF || s_put(out, fields) != SJ_OK) {
            rc = SJ_EIO;
        }
    }
    if (rc == SJ_OK
        && fprintf(out, "  %s %s", s_fix_applied_zh(applied), s_fix_applied(applied)) < 0) {
        rc = SJ_EIO;
    }
    if (rc == SJ_OK && ev && ev->note[0]
        && (fputs("  理由 reason: ", out) == EOF || s_put(out, ev->note) != SJ_OK)) {
        rc = SJ_EIO;
    }
    if (rc == SJ_OK) {
        rc = s_receipt_line(st, out);
    }
    if (rc == SJ_OK && fputc('\n', out) == EOF) {
        rc = SJ_EIO;
    }
    free(ev);
    return rc;
}

static int
s_line(sqlite3_stmt *st, FILE *out)
{
    const char *type = s_col(st, 0);
    const char *origin = s_col(st, 2), *officer = s_col(st, 3), *note = s_col(st, 4);
    int from = sqlite3_column_int(st, 5), to = sqlite3_column_int(st, 6);
    const char *assignee = s_col(st, 7), *due = s_col(st, 8), *flag = s_col(st, 9);
    char at[24];
    s_iso(sqlite3_column_int64(st, 1), at);
    type = type ? type : "";
    if (s_is_fix(type)) {
        return s_fix_line(st, out, type, at, origin);
    }
    const char *zh = strcmp(type, "report") == 0             ? "上报"
                     : strcmp(type, "status") == 0           ? "状态变更"
                     : strcmp(type, "extension") == 0        ? "延期"
                     : strcmp(type, "evaluation") == 0       ? "评价"
                     : strcmp(type, "appointment") == 0      ? "约访"
                     : strcmp(type, "appointment_mark") == 0 ? "赴约"
                     : strcmp(type, "ownership") == 0        ? "包案"
                                                             : "交办";
    if (fprintf(out, "  %s  %s %s  %s", at, zh, type, origin ? origin : "") < 0) {
        return SJ_EIO;
    }
    if (officer && officer[0] && (fputs("  ", out) == EOF || s_put(out, officer) != SJ_OK)) {
        return SJ_EIO;
    }
    int rc = SJ_OK;
    if (strcmp(type, "report") == 0) {
        rc = fprintf(out, "  %s %s",
                     sj_enum_name(SJ_FIELD_OUTCOME, to) ? sj_enum_name(SJ_FIELD_OUTCOME, to) : "?",
                     sj_enum_label(SJ_FIELD_OUTCOME, to, SJ_LANG_ZH))
                     < 0
                 ? SJ_EIO
                 : SJ_OK;
    } else if (strcmp(type, "status") == 0) {
        int applied = sqlite3_column_int(st, 10);
        rc = fprintf(out, "  %s -> %s (%s → %s)  %s %s",
                     from ? sj_enum_name(SJ_FIELD_OUTCOME, from) : "?",
                     sj_enum_name(SJ_FIELD_OUTCOME, to) ? sj_enum_name(SJ_FIELD_OUTCOME, to) : "?",
                     from ? sj_enum_label(SJ_FIELD_OUTCOME, from, SJ_LANG_ZH) : "?",
                     sj_enum_label(SJ_FIELD_OUTCOME, to, SJ_LANG_ZH), s_applied_label(applied),
                     s_applied_name(applied))
                     < 0
                 ? SJ_EIO
                 : SJ_OK;
        if (rc == SJ_OK && flag
            && (fputs("  冲突 conflict: ", out) == EOF || s_put(out, flag) != SJ_OK)) {
            rc = SJ_EIO;
        }
    } else if (strcmp(type, "evaluation") == 0) {
        rc = fprintf(out, "  %s %s",
                     sj_satisfaction_label(to, SJ_LANG_ZH) ? sj_satisfaction_label(to, SJ_LANG_ZH)
                                                           : "?",
                     sj_satisfaction_name(to) ? sj_satisfaction_name(to) : "?")
                     < 0
                 ? SJ_EIO
                 : SJ_OK;
    } else if (strcmp(type, "appointment") == 0) {
        rc = fprintf(out, "  约定 on %s %s  科室 office ", due ? due : "", flag ? flag : "") < 0
                 ? SJ_EIO
                 : s_put(out, assignee ? assignee : "");
    } else if (strcmp(type, "appointment_mark") == 0) {
        rc = fprintf(out, "  %s", to ? "已赴约 kept" : "未赴约 missed") < 0 ? SJ_EIO : SJ_OK;
    } else if (strcmp(type, "ownership") == 0) {
        rc = fputs("  领导 leader ", out) == EOF ? SJ_EIO : s_put(out, assignee ? assignee : "");
        if (rc == SJ_OK && due && due[0]
            && (fputs("  分管 portfolio ", out) == EOF || s_put(out, due) != SJ_OK)) {
            rc = SJ_EIO;
        }
    } else if (strcmp(type, "extension") == 0) {
        int stage = sqlite3_column_int(st, 7);
        rc = fprintf(out, "  %s %s +%d 天 days  批准 approved by ",
                     sj_stage_label_zh(stage) ? sj_stage_label_zh(stage) : "?",
                     sj_stage_name(stage) ? sj_stage_name(stage) : "?", sqlite3_column_int(st, 8))
                     < 0
                 ? SJ_EIO
                 : s_put(out, flag ? flag : "");
    } else {
        rc = fprintf(out, "  交办给 to %s  期限 due %s", assignee ? assignee : "", due ? due : "")
                     < 0
                 ? SJ_EIO
                 : SJ_OK;
    }
    if (rc == SJ_OK && note && note[0]
        && (fputs("  备注 note: ", out) == EOF || s_put(out, note) != SJ_OK)) {
        rc = SJ_EIO;
    }
    if (rc == SJ_OK) {
        rc = s_receipt_line(st, out);
    }
    if (rc == SJ_OK && fputc('\n', out) == EOF) {
        rc = SJ_EIO;
    }
    return rc;
}

static cJSON *
s_item(sqlite3_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        return NULL;
    }
    const char *type = s_col(st, 0);
    type = type ? type : "";
    char at[24], id[SJ_UUID_TEXT] = "";
    s_iso(sqlite3_column_int64(st, 1), at);
    if (sqlite3_column_bytes(st, 11) == SJ_ID_BYTES) {
        sj_uuid_format(sqlite3_column_blob(st, 11), id);
    }
    int ok = cJSON_AddStringToObject(o, "type", type) && cJSON_AddStringToObject(o, "at", at)
             && cJSON_AddStringToObject(o, "id", id)
             && cJSON_AddStringToObject(o, "origin", s_col(st, 2) ? s_col(st, 2) : "")
             && cJSON_AddStringToObject(o, "officer", s_col(st, 3) ? s_col(st, 3) : "")
             && cJSON_AddStringToObject(o, "note", s_col(st, 4) ? s_col(st, 4) : "");
    if (ok && s_is_fix(type)) {
        /* issue 15: officer and note (the reason) from the event itself */
        sj_event_t *ev = s_fix_event(st);
        if (ev) {
            cJSON_ReplaceItemInObject(o, "officer", cJSON_CreateString(ev->officer));
            cJSON_ReplaceItemInObject(o, "note", cJSON_CreateString(ev->note));
            ok = cJSON_AddStringToObject(o, "reason", ev->note) != NULL;
            cJSON *fields =
                ok && strcmp(type, "correction") == 0 ? cJSON_AddObjectToObject(o, "fields") : NULL;
            if (fields) {
                s_fix_fields(ev, NULL, 0, fields);
            }
            free(ev);
        }
        ok = ok && cJSON_AddStringToObject(o, "applied", s_fix_applied(sqlite3_column_int(st, 10)));
    } else if (ok && strcmp(type, "report") == 0) {
        ok = cJSON_AddStringToObject(o, "outcome",
                                     sj_enum_name(SJ_FIELD_OUTCOME, sqlite3_column_int(st, 6)))
             != NULL;
    } else if (ok && strcmp(type, "status") == 0) {
        int from = sqlite3_column_int(st, 5), applied = sqlite3_column_int(st, 10);
        ok = (from ? cJSON_AddStringToObject(o, "from", sj_enum_name(SJ_FIELD_OUTCOME, from))
                   : cJSON_AddNullToObject(o, "from"))
             && cJSON_AddStringToObject(o, "to",
                                        sj_enum_name(SJ_FIELD_OUTCOME, sqlite3_column_int(st, 6)))
             && cJSON_AddStringToObject(o, "applied", s_applied_name(applied))
             && (s_col(st, 9) ? cJSON_AddStringToObject(o, "conflict", s_col(st, 9))
                              : cJSON_AddNullToObject(o, "conflict"));
    } else if (ok && strcmp(type, "evaluation") == 0) {
        const char *sat = sj_satisfaction_name(sqlite3_column_int(st, 6));
        ok = cJSON_AddStringToObject(o, "satisfaction", sat ? sat : "") != NULL;
    } else if (ok && strcmp(type, "appointment") == 0) {
        ok = cJSON_AddStringToObject(o, "on", s_col(st, 8) ? s_col(st, 8) : "")
             && cJSON_AddStringToObject(o, "at_time", s_col(st, 9) ? s_col(st, 9) : "")
             && cJSON_AddStringToObject(o, "office", s_col(st, 7) ? s_col(st, 7) : "");
    } else if (ok && strcmp(type, "appointment_mark") == 0) {
        ok = cJSON_AddStringToObject(o, "state", sqlite3_column_int(st, 6) ? "kept" : "missed")
             != NULL;
    } else if (ok && strcmp(type, "ownership") == 0) {
        ok = cJSON_AddStringToObject(o, "leader", s_col(st, 7) ? s_col(st, 7) : "")
             && cJSON_AddStringToObject(o, "portfolio", s_col(st, 8) ? s_col(st, 8) : "");
    } else if (ok && strcmp(type, "extension") == 0) {
        const char *stage = sj_stage_name(sqlite3_column_int(st, 7));
        ok = cJSON_AddStringToObject(o, "stage", stage ? stage : "")
             && cJSON_AddNumberToObject(o, "days", sqlite3_column_int(st, 8))
             && cJSON_AddStringToObject(o, "approved_by", s_col(st, 9) ? s_col(st, 9) : "");
    } else if (ok) {
        ok = cJSON_AddStringToObject(o, "to", s_col(st, 7) ? s_col(st, 7) : "")
             && cJSON_AddStringToObject(o, "due_on", s_col(st, 8) ? s_col(st, 8) : "");
    }
    if (!ok || s_receipt_json(st, o) != SJ_OK) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

int
sj_history_write(sqlite3 *db,
                 const char *sql,
                 const uint8_t id[SJ_ID_BYTES],
                 sj_format_t fmt,
                 FILE *out,
                 cJSON *obj,
                 char *err,
                 size_t err_size)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, err_size, _("cannot read the case's history: %s"), sqlite3_errmsg(db));
        return SJ_EDB;
    }
    sqlite3_bind_blob(st, 1, id, SJ_ID_BYTES, SQLITE_STATIC);
    cJSON *arr = NULL;
    int rc = SJ_OK;
    if (fmt == SJ_FMT_JSON) {
        arr = cJSON_AddArrayToObject(obj, "history");
        rc = arr ? SJ_OK : SJ_ENOMEM;
    } else if (fputs("history 经过:\n", out) == EOF) {
        rc = SJ_EIO;
    }
    int step = SQLITE_DONE;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (fmt == SJ_FMT_JSON) {
            cJSON *item = s_item(st);
            if (!item || !cJSON_AddItemToArray(arr, item)) {
                cJSON_Delete(item);
                rc = SJ_ENOMEM;
            }
        } else {
            rc = s_line(st, out);
        }
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        snprintf(err, err_size, _("cannot read the case's history: %s"), sqlite3_errmsg(db));
        rc = SJ_EDB;
    } else if (rc == SJ_ENOMEM) {
        snprintf(err, err_size, _("out of memory"));
    } else if (rc == SJ_EIO) {
        snprintf(err, err_size, _("cannot write the output"));
    }
    sqlite3_finalize(st);
    return rc;
}

size_t
sj_history_chars(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        n += (*p & 0xC0) != 0x80;
    }
    return n;
}

int
sj_history_phrase(const char *text, char *out, size_t size)
{
    if (sj_history_chars(text) < 3) {
        return 0;
    }
    size_t o = 0;
    if (size < 3) {
        return -1;
    }
    out[o++] = '"';
    for (const char *p = text; *p; p++) {
        if (o + 3 >= size) {
            return -1;
        }
        if (*p == '"') {
            out[o++] = '"';
        }
        out[o++] = *p;
    }
    out[o++] = '"';
    out[o] = '\0';
    return 1;
}

int
sj_history_like(const char *text, char *out, size_t size)
{
    size_t o = 0;
    if (size < 3) {
        return -1;
    }
    out[o++] = '%';
    for (const char *p = text; *p; p++) {
        if (o + 4 >= size) {
            return -1;
        }
        if (*p == '%' || *p == '_' || *p == '\\') {
            out[o++] = '\\';
        }
        out[o++] = *p;
    }
    out[o++] = '%';
    out[o] = '\0';
    return 1;
}

int
sj_history_index(
    sqlite3 *db, const sj_search_src_t *src, int max_rows, int max_ms, int *more, int64_t *done)
{
    if (more) {
        *more = 0;
    }
    if (done) {
        *done = 0;
    }
    int64_t mark = 0, top = 0;
    int rc = sj_db_meta_get_int(db, "search_through", &mark);
    if (rc == SJ_ENOTFOUND) {
        mark = 0;
    } else if (rc != SJ_OK) {
        return rc;
    }
    sqlite3_stmt *st = NULL;
    rc = sj_db_prepare(db, src->top_sql, &st);
    if (rc != SJ_OK) {
        return rc;
    }
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        top = sqlite3_column_int64(st, 0);
    } else {
        rc = sj_db_err(db, step, "search index");
    }
    sqlite3_finalize(st);
    if (rc != SJ_OK || top <= mark) {
        return rc;
    }
    /* The writer may be another process's (an `assign` beside the daemon):
     * then this turn does nothing. */
    rc = sj_db_begin(db);
    if (rc != SJ_OK) {
        return rc;
    }
    /* read again inside the transaction: the mark is what this one moves */
    rc = sj_db_meta_get_int(db, "search_through", &mark);
    if (rc == SJ_ENOTFOUND) {
        mark = 0;
        rc = SJ_OK;
    }
    sqlite3_stmt *ins = NULL;
    if (rc == SJ_OK) {
        rc = sj_db_prepare(db, src->rows_sql, &st);
    }
    if (rc == SJ_OK) {
        rc = sj_db_prepare(db, "INSERT INTO search(text, case_id, kind) VALUES(?1, ?2, 'summary')",
                           &ins);
    }
    int64_t start = sj_mono_ms(), last = mark, n = 0, indexed = 0;
    step = SQLITE_DONE;
    if (rc == SJ_OK) {
        sqlite3_bind_int64(st, 1, mark);
        sqlite3_bind_int64(st, 2, max_rows > 0 ? max_rows : 1);
    }
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        last = sqlite3_column_int64(st, 0);
        n++;
        if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
            rc = sj_db_bind_check(
                db,
                sqlite3_bind_text(ins, 1, (const char *) sqlite3_column_text(st, 1), -1,
                                  SQLITE_TRANSIENT)
                    | sqlite3_bind_blob(ins, 2, sqlite3_column_blob(st, 2),
                                        sqlite3_column_bytes(st, 2), SQLITE_TRANSIENT),
                "search index");
            if (rc == SJ_OK) {
                rc = sj_db_step_done(db, ins, "search index");
                indexed++;
            }
        }
        if ((n & 63) == 0 && sj_mono_ms() - start >= max_ms) {
            step = SQLITE_DONE; /* the rest at the next idle turn */
            break;
        }
    }
    if (rc == SJ_OK && step != SQLITE_DONE) {
        rc = sj_db_err(db, step, "search index");
    }
    sqlite3_finalize(st);
    sqlite3_finalize(ins);
    if (rc == SJ_OK && last > mark) {
        rc = sj_db_meta_set_int(db, "search_through", last);
    }
    if (rc == SJ_OK) {
        rc = sj_db_commit(db);
    }
    if (rc != SJ_OK) {
        sj_db_rollback(db);
        return rc;
    }
    if (more) {
        *more = last < top;
    }
    if (done) {
        *done = indexed;
    }
    return SJ_OK;
}

int
sj_history_index_idle(sqlite3 *db, const sj_search_src_t *src, sj_search_idle_t *state)
{
    if (state->settled) {
        return 0;
    }
    int more = 0;
    int64_t done = 0;
    int rc = sj_history_index(db, src, SJ_SEARCH_STEP_ROWS, SJ_SEARCH_STEP_MS, &more, &done);
    if (rc != SJ_OK && rc != state->last_rc) {
        sj_warn("search index: cannot index the new reports now (%s); trying again when idle",
                sj_strerror(rc));
    }
    state->last_rc = rc;
    if (rc != SJ_OK) {
        return 0;
    }
    state->caught += done;
    if (!more) {
        state->settled = 1;
        if (state->caught >= SJ_SEARCH_LOG_ROWS) {
            sj_info("search index: caught up, %lld reports indexed", (long long) state->caught);
        }
        state->caught = 0;
    }
    return more;
}
