/* sj_agenda: see sj_agenda.h. */
#include "sj_agenda.h"

#include <stdlib.h>
#include <string.h>

#include "sj_case.h"
#include "sj_clock_db.h"
#include "sj_db.h"
#include "sj_model.h"
#include "sj_own.h"

/* ---- the week ---- */

/* ISO weekday of a date: 1 Monday .. 7 Sunday (1970-01-01 was a Thursday). */
static int
s_weekday(const char *date)
{
    int64_t d = 0;
    if (sj_date_days(date, &d) != SJ_OK) {
        return 0;
    }
    return (int) (((d + 3) % 7 + 7) % 7) + 1;
}

/* The ISO week label of the week starting on Monday mon. */
static void
s_label(const char *mon, char out[9])
{
    char thu[11], jan1[11];
    int64_t doy = 0;
    if (sj_date_add(mon, 3, thu) != SJ_OK) {
        out[0] = '\0';
        return;
    }
    snprintf(jan1, sizeof jan1, "%.4s-01-01", thu);
    if (sj_date_diff(thu, jan1, &doy) != SJ_OK) {
        out[0] = '\0';
        return;
    }
    snprintf(out, 9, "%.4s-W%02d", thu, (int) (doy / 7 + 1));
}

int
sj_agenda_week(const char *text, const char *today, sj_agenda_t *a, char *err, size_t err_size)
{
    snprintf(a->today, sizeof a->today, "%s", today);
    int wd = s_weekday(today);
    if (!wd) {
        snprintf(err, err_size, "today (%.16s) is not a date", today);
        return SJ_EINVAL;
    }
    if (!text) {
        /* the coming week: the next Monday on or after today */
        if (sj_date_add(today, (8 - wd) % 7, a->mon) != SJ_OK) {
            return SJ_EINVAL;
        }
    } else {
        int y = 0, w = 0;
        char extra = 0;
        char jan4[11], mon1[11];
        if (strlen(text) != 8 || sscanf(text, "%4d-W%2d%c", &y, &w, &extra) != 2 || y < 1901
            || y > 2998 || w < 1 || w > 53 || text[4] != '-' || text[5] != 'W') {
            snprintf(err, err_size,
                     "--week '%.16s' is not an ISO week: give YYYY-Www, e.g. 2026-W50", text);
            return SJ_EINVAL;
        }
        snprintf(jan4, sizeof jan4, "%04d-01-04", y);
        if (sj_date_add(jan4, 1 - s_weekday(jan4), mon1) != SJ_OK
            || sj_date_add(mon1, 7 * (w - 1), a->mon) != SJ_OK) {
            return SJ_EINVAL;
        }
        char check[9];
        s_label(a->mon, check);
        if (strcmp(check, text) != 0) {
            snprintf(err, err_size, "--week '%.16s': year %d has no week %d", text, y, w);
            return SJ_EINVAL;
        }
    }
    s_label(a->mon, a->week);
    if (sj_date_add(a->mon, 6, a->sun) != SJ_OK || sj_date_add(a->mon, -7, a->since) != SJ_OK
        || sj_date_add(a->mon, -1, a->prev_sun) != SJ_OK) {
        return SJ_EINVAL;
    }
    return SJ_OK;
}

/* ---- the cases ---- */

int
sj_agenda_load(sj_agenda_t *a,
               const char *cases_sql,
               const char *changes_sql,
               const sj_periods_t *p)
{
    sqlite3_stmt *st = NULL;
    sj_clock_db_t *cdb = NULL;
    if (sqlite3_prepare_v2(a->db, cases_sql, -1, &st, NULL) != SQLITE_OK
        || sj_clock_db_open(a->db, changes_sql, &cdb) != SJ_OK) {
        sqlite3_finalize(st);
        return SJ_EDB;
    }
    size_t cap = 0;
    int rc = SJ_OK, step;
    while (rc == SJ_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != SJ_ID_BYTES) {
            continue;
        }
        if (a->ncases == cap) {
            size_t ncap = cap ? 2 * cap : 256;
            sj_agenda_case_t *v = realloc(a->cases, ncap * sizeof *v);
            if (!v) {
                rc = SJ_ENOMEM;
                break;
            }
            a->cases = v;
            cap = ncap;
        }
        sj_agenda_case_t *c = &a->cases[a->ncases];
        memset(c, 0, sizeof *c);
        memcpy(c->id, sqlite3_column_blob(st, 0), SJ_ID_BYTES);
        sj_uuid_format(c->id, c->id_text);
#define S_TXT(dst, col)             \
    snprintf(dst, sizeof dst, "%s", \
             sqlite3_column_text(st, col) ? (const char *) sqlite3_column_text(st, col) : "")
        S_TXT(c->station, 1);
        S_TXT(c->occurred_on, 2);
        S_TXT(c->assign_due, 9);
        S_TXT(c->owner, 10);
        S_TXT(c->portfolio, 11);
#undef S_TXT
        c->kind = sqlite3_column_int(st, 3);
        c->category = sqlite3_column_int(st, 4);
        c->outcome = sqlite3_column_int(st, 5);
        c->persons = (unsigned) sqlite3_column_int(st, 6);
        int crc = sj_clock_db_case(cdb, c->id, c->occurred_on, sqlite3_column_int(st, 7),
                                   sqlite3_column_int(st, 8), p, a->today, &c->clk);
        if (crc != SJ_OK && crc != SJ_EINVAL) {
            rc = crc;
        }
        if (!sj_outcome_is_open(c->outcome)) {
            /* concluded (the county's word may have closed it): no stage runs */
            c->clk.overdue = 0;
            for (int k = SJ_STAGE_ACCEPT; k <= SJ_STAGE_REVIEW; k++) {
                c->clk.st[k].overdue = 0;
                c->clk.st[k].done = c->clk.st[k].active;
            }
        }
        a->ncases++;
    }
    sj_clock_db_close(&cdb);
    sqlite3_finalize(st);
    return rc;
}

void
sj_agenda_free(sj_agenda_t *a)
{
    free(a->cases);
    a->cases = NULL;
    a->ncases = 0;
}

sj_table_t *
sj_agenda_leaders(const sj_agenda_t *a)
{
    sj_own_tally_t *t = sj_own_tally_new();
    int rc = t ? SJ_OK : SJ_ENOMEM;
    for (size_t i = 0; rc == SJ_OK && i < a->ncases; i++) {
        const sj_agenda_case_t *c = &a->cases[i];
        int open = sj_outcome_is_open(c->outcome);
        int assign_overdue = open && c->assign_due[0] && strcmp(c->assign_due, a->today) < 0;
        rc = sj_own_tally_add(t, c->owner, open, sj_outcome_is_concluded(c->outcome),
                              assign_overdue || c->clk.overdue);
    }
    sj_table_t *out = rc == SJ_OK ? sj_own_tally_table(t) : NULL;
    sj_own_tally_free(&t);
    return out;
}

/* ---- helpers ---- */

static const sj_agenda_case_t *
s_find(const sj_agenda_t *a, const uint8_t *id)
{
    for (size_t i = 0; i < a->ncases; i++) {
        if (memcmp(a->cases[i].id, id, SJ_ID_BYTES) == 0) {
            return &a->cases[i];
        }
    }
    return NULL;
}

static void
s_outcome(int outcome, char *out, size_t size)
{
    const char *name = sj_enum_name(SJ_FIELD_OUTCOME, outcome);
    const char *zh = sj_enum_label(SJ_FIELD_OUTCOME, outcome, SJ_LANG_ZH);
    snprintf(out, size, "%s %s", zh ? zh : "", name ? name : "?");
}

static sj_table_t *
s_table(size_t n, const char *const *names)
{
    sj_col_type_t types[16];
    for (size_t i = 0; i < n && i < 16; i++) {
        types[i] = SJ_COL_TEXT;
    }
    return sj_table_new(n, names, types);
}

static int
s_open(int outcome)
{
    return sj_outcome_is_open(outcome);
}

/* ---- the sections ---- */

/* What changed in a case since the last meeting: its history's rows (the
 * tier's history SQL) made on or after a->since, one line each. */
static void
s_changes(const sj_agenda_t *a, const sj_agenda_case_t *c, char *out, size_t size)
{
    out[0] = '\0';
    sqlite3_stmt *st = NULL;
    if (!a->history_sql || sqlite3_prepare_v2(a->db, a->history_sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return;
    }
    sqlite3_bind_blob(st, 1, c->id, SJ_ID_BYTES, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *type = (const char *) sqlite3_column_text(st, 0);
        char day[11];
        sj_date_of_ms(sqlite3_column_int64(st, 1), day);
        if (!type || strcmp(type, "report") == 0 || strcmp(day, a->since) < 0) {
            continue;
        }
        char what[200] = "";
        const char *c7 = (const char *) sqlite3_column_text(st, 7);
        const char *c8 = (const char *) sqlite3_column_text(st, 8);
        if (strcmp(type, "status") == 0) {
            s_outcome(sqlite3_column_int(st, 6), what, sizeof what);
        } else if (strcmp(type, "assignment") == 0) {
            snprintf(what, sizeof what, "交办 to %s due %s", c7 ? c7 : "", c8 ? c8 : "");
        } else if (strcmp(type, "extension") == 0) {
            const char *sn = sj_stage_name(sqlite3_column_int(st, 7));
            snprintf(what, sizeof what, "延期 %s +%d", sn ? sn : "?", sqlite3_column_int(st, 8));
        } else if (strcmp(type, "ownership") == 0) {
            snprintf(what, sizeof what, "包案 %s", c7 ? c7 : "");
        } else if (strcmp(type, "evaluation") == 0) {
            const char *sat = sj_satisfaction_name(sqlite3_column_int(st, 6));
            snprintf(what, sizeof what, "评价 %s", sat ? sat : "?");
        } else {
            snprintf(what, sizeof what, "%s", type);
        }
        size_t l = strlen(out);
        snprintf(out + l, size - l, "%s%s %s", l ? "; " : "", day + 5, what);
    }
    sqlite3_finalize(st);
}

static sj_table_t *
s_owned(const sj_agenda_t *a)
{
    static const char *const names[] = {"case_id", "leader",  "portfolio",
                                        "outcome", "station", "changes"};
    sj_table_t *t = s_table(6, names);
    for (size_t i = 0; t && i < a->ncases; i++) {
        const sj_agenda_case_t *c = &a->cases[i];
        if (!c->owner[0]) {
            continue;
        }
        char changes[1200], outcome[64];
        s_changes(a, c, changes, sizeof changes);
        if (!s_open(c->outcome) && !changes[0]) {
            continue;
        }
        s_outcome(c->outcome, outcome, sizeof outcome);
        const char *row[] = {c->id_text, c->owner, c->portfolio, outcome, c->station, changes};
        if (sj_table_add_row(t, row) != SJ_OK) {
            sj_table_destroy(&t);
        }
    }
    return t;
}

static sj_table_t *
s_due(const sj_agenda_t *a)
{
    static const char *const names[] = {"case_id", "stage", "due", "days_left", "overdue", "owner"};
    sj_table_t *t = s_table(6, names);
    for (size_t i = 0; t && i < a->ncases; i++) {
        const sj_agenda_case_t *c = &a->cases[i];
        for (int k = SJ_STAGE_ACCEPT; t && k <= SJ_STAGE_REVIEW + 1; k++) {
            const char *due = NULL, *stage = NULL;
            if (k <= SJ_STAGE_REVIEW) {
                const sj_stage_clock_t *sc = &c->clk.st[k];
                if (sc->active && !sc->done) {
                    due = sc->due;
                    stage = sj_stage_name(k);
                }
            } else if (s_open(c->outcome) && c->assign_due[0]) {
                due = c->assign_due;
                stage = "assignment";
            }
            if (!due || !due[0] || strcmp(due, a->sun) > 0) {
                continue;
            }
            int64_t left = 0;
            char lt[24];
            if (sj_date_diff(due, a->today, &left) != SJ_OK) {
                continue;
            }
            snprintf(lt, sizeof lt, "%lld", (long long) left);
            const char *row[] = {c->id_text, stage, due, lt, left < 0 ? "yes" : "", c->owner};
            if (sj_table_add_row(t, row) != SJ_OK) {
                sj_table_destroy(&t);
            }
        }
    }
    return t;
}

static sj_table_t *
s_collective(const sj_agenda_t *a)
{
    static const char *const names[] = {"case_id",  "occurred_on", "station", "persons",
                                        "category", "outcome",     "owner"};
    sj_table_t *t = s_table(7, names);
    int collective = sj_enum_value(SJ_FIELD_KIND, "collective");
    for (size_t i = 0; t && i < a->ncases; i++) {
        const sj_agenda_case_t *c = &a->cases[i];
        if (c->kind != collective || strcmp(c->occurred_on, a->since) < 0
            || strcmp(c->occurred_on, a->prev_sun) > 0) {
            continue;
        }
        char persons[16], outcome[64];
        snprintf(persons, sizeof persons, "%u", c->persons);
        s_outcome(c->outcome, outcome, sizeof outcome);
        const char *cat = sj_enum_name(SJ_FIELD_CATEGORY, c->category);
        const char *row[] = {c->id_text,     c->occurred_on, c->station, persons,
                             cat ? cat : "", outcome,        c->owner};
        if (sj_table_add_row(t, row) != SJ_OK) {
            sj_table_destroy(&t);
        }
    }
    return t;
}

static sj_table_t *
s_reviews(const sj_agenda_t *a)
{
    static const char *const names[] = {"case_id", "requested", "due", "outcome", "owner"};
    sj_table_t *t = s_table(5, names);
    for (size_t i = 0; t && i < a->ncases; i++) {
        const sj_agenda_case_t *c = &a->cases[i];
        const sj_stage_clock_t *sc = &c->clk.st[SJ_STAGE_REVIEW];
        if (!sc->active || strcmp(sc->start, a->since) < 0) {
            continue;
        }
        char outcome[64];
        s_outcome(c->outcome, outcome, sizeof outcome);
        const char *row[] = {c->id_text, sc->start, sc->due, outcome, c->owner};
        if (sj_table_add_row(t, row) != SJ_OK) {
            sj_table_destroy(&t);
        }
    }
    return t;
}

static sj_table_t *
s_extensions(const sj_agenda_t *a)
{
    static const char *const names[] = {"case_id",     "made_on", "stage", "days",
                                        "approved_by", "reason",  "owner"};
    sj_table_t *t = s_table(7, names);
    sqlite3_stmt *st = NULL;
    if (!t
        || sqlite3_prepare_v2(a->db,
                              "SELECT case_id, created_ms, stage, days, approved_by, reason"
                              " FROM extensions ORDER BY created_ms, row",
                              -1, &st, NULL)
               != SQLITE_OK) {
        sqlite3_finalize(st);
        sj_table_destroy(&t);
        return NULL;
    }
    while (t && sqlite3_step(st) == SQLITE_ROW) {
        char day[11];
        sj_date_of_ms(sqlite3_column_int64(st, 1), day);
        if (strcmp(day, a->since) < 0) {
            continue; /* before the last meeting (most rows): no lookup */
        }
        const sj_agenda_case_t *c = sqlite3_column_bytes(st, 0) == SJ_ID_BYTES
                                        ? s_find(a, sqlite3_column_blob(st, 0))
                                        : NULL;
        if (!c) {
            continue; /* voided, or not here */
        }
        char days[16];
        snprintf(days, sizeof days, "%d", sqlite3_column_int(st, 3));
        const char *sn = sj_stage_name(sqlite3_column_int(st, 2));
        const char *row[] = {c->id_text,
                             day,
                             sn ? sn : "",
                             days,
                             (const char *) sqlite3_column_text(st, 4),
                             (const char *) sqlite3_column_text(st, 5),
                             c->owner};
        if (sj_table_add_row(t, row) != SJ_OK) {
            sj_table_destroy(&t);
        }
    }
    sqlite3_finalize(st);
    return t;
}

/* Appointments (约访, issue 16 item 6) on a day of the meeting's week, with
 * their state. Only the county keeps them: a store without the table (a
 * township) has none. */
static sj_table_t *
s_appointments(const sj_agenda_t *a)
{
    static const char *const names[] = {"on", "at", "office", "state", "case_id", "owner"};
    sj_table_t *t = s_table(6, names);
    sqlite3_stmt *st = NULL;
    if (!t
        || sqlite3_prepare_v2(a->db,
                              "SELECT a.on_date, a.at_time, a.office, " SJ_APPOINT_STATE_SQL
                              ", a.case_id FROM appointments a WHERE a.on_date BETWEEN ?1 AND ?2"
                              " ORDER BY a.on_date, a.at_time, a.row",
                              -1, &st, NULL)
               != SQLITE_OK) {
        sqlite3_finalize(st);
        return t; /* no appointments here */
    }
    sqlite3_bind_text(st, 1, a->mon, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->sun, -1, SQLITE_STATIC);
    while (t && sqlite3_step(st) == SQLITE_ROW) {
        const sj_agenda_case_t *c = sqlite3_column_bytes(st, 4) == SJ_ID_BYTES
                                        ? s_find(a, sqlite3_column_blob(st, 4))
                                        : NULL;
        if (!c) {
            continue; /* voided, or not here */
        }
        const char *row[] = {(const char *) sqlite3_column_text(st, 0),
                             (const char *) sqlite3_column_text(st, 1),
                             (const char *) sqlite3_column_text(st, 2),
                             (const char *) sqlite3_column_text(st, 3),
                             c->id_text,
                             c->owner};
        if (sj_table_add_row(t, row) != SJ_OK) {
            sj_table_destroy(&t);
        }
    }
    sqlite3_finalize(st);
    return t;
}

const sj_agenda_section_t sj_agenda_sections[] = {
    {"owned", "领导包案", "Cases owned by leaders", "包案的案件：未办结的，或上次例会以来有变化的",
     "owned cases that are open, or changed since the last meeting", s_owned},
    {"due", "本周到期或已超期", "Due or overdue this week",
     "任一阶段（法定期限或交办期限）在本周日前到期且未完成",
     "any stage (statutory or the 交办 due date) running and due by the week's Sunday", s_due},
    {"collective", "新的集体事项", "New collective matters", "上周受理的集体访（5人以上）",
     "collective matters (5 or more persons) received last week", s_collective},
    {"reviews", "复查申请", "Reviews requested", "上次例会以来申请的复查",
     "reviews requested since the last meeting", s_reviews},
    {"extensions", "延期申请", "Extensions asked", "上次例会以来的延期",
     "extensions made since the last meeting", s_extensions},
    {"appointments", "本周约访", "Appointments this week", "本周各日的约访及是否赴约",
     "the appointments on a day of the week, kept, missed or pending", s_appointments},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

/* ---- output ---- */

static const struct {
    const char *name, *zh, *en;
} s_cols[] = {
    {"case_id", "案件", "case"},
    {"leader", "领导", "leader"},
    {"portfolio", "分管", "portfolio"},
    {"outcome", "状态", "outcome"},
    {"station", "站点", "station"},
    {"changes", "上次例会以来的变化", "changes since the last meeting"},
    {"stage", "阶段", "stage"},
    {"due", "期限", "due"},
    {"days_left", "剩余天数", "days left"},
    {"overdue", "超期", "overdue"},
    {"owner", "包案领导", "owner"},
    {"occurred_on", "受理日期", "received"},
    {"persons", "人数", "persons"},
    {"category", "类别", "category"},
    {"requested", "申请日期", "requested"},
    {"made_on", "日期", "made on"},
    {"days", "天数", "days"},
    {"approved_by", "批准人", "approved by"},
    {"reason", "理由", "reason"},
    {"on", "约定日期", "day"},
    {"at", "时间", "time"},
    {"office", "接待科室", "office"},
    {"state", "赴约", "kept"},
};

static void
s_col_label(const char *name, const char **zh, const char **en)
{
    *zh = *en = name;
    for (size_t i = 0; i < sizeof s_cols / sizeof s_cols[0]; i++) {
        if (strcmp(s_cols[i].name, name) == 0) {
            *zh = s_cols[i].zh;
            *en = s_cols[i].en;
        }
    }
}

/* Markdown: | and newlines escaped. */
static int
s_md(FILE *out, const char *s)
{
    for (s = s ? s : ""; *s; s++) {
        if ((*s == '|'    ? fputs("\\|", out)
             : *s == '\n' ? fputc(' ', out)
                          : fputc(*s, out))
            == EOF) {
            return SJ_EIO;
        }
    }
    return SJ_OK;
}

static int
s_html(FILE *out, const char *s)
{
    for (s = s ? s : ""; *s; s++) {
        int r = *s == '<'    ? fputs("&lt;", out)
                : *s == '>'  ? fputs("&gt;", out)
                : *s == '&'  ? fputs("&amp;", out)
                : *s == '"'  ? fputs("&quot;", out)
                : *s == '\'' ? fputs("&#39;", out)
                             : fputc(*s, out);
        if (r == EOF) {
            return SJ_EIO;
        }
    }
    return SJ_OK;
}

static const char s_css[] =
    "body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;font-size:11pt;"
    "margin:1.5em;color:#111}h1{font-size:16pt}h2{font-size:13pt;margin-top:1.2em;"
    "border-bottom:1px solid #888}table{border-collapse:collapse;width:100%;margin:.4em 0}"
    "th,td{border:1px solid #999;padding:2px 5px;text-align:left;vertical-align:top;"
    "font-size:9.5pt}th{background:#eee}.rule{color:#444;font-size:9.5pt}.none{color:#666}"
    "td.id{font-family:monospace;font-size:8pt}"
    "@media print{@page{size:A4;margin:15mm}body{margin:0}h2{break-after:avoid}"
    "tr{break-inside:avoid}a{color:inherit;text-decoration:none}}";

int
sj_agenda_write(const sj_agenda_t *a, const char *fmt, FILE *out)
{
    int html = fmt && strcmp(fmt, "html") == 0;
    int rc = SJ_OK;
    if (html) {
        fprintf(out,
                "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                "<title>定期例会议程 Weekly meeting agenda %s</title><style>%s</style></head>"
                "<body>\n<h1 id=\"agenda-title\">定期例会议程 Weekly meeting agenda %s</h1>\n"
                "<p>%s %s ",
                a->week, s_css, a->week, a->tier_zh, a->tier_en);
        s_html(out, a->where);
        fprintf(out,
                " · 本周 week %s – %s · 上次例会以来 since the last meeting %s · 今天 today %s"
                "</p>\n",
                a->mon, a->sun, a->since, a->today);
    } else {
        fprintf(out, "# 定期例会议程 Weekly meeting agenda %s (%s – %s)\n\n", a->week, a->mon,
                a->sun);
        fprintf(out,
                "%s %s %s · 上次例会以来 since the last meeting: %s (上周 last week %s – %s) · "
                "今天 today: %s\n",
                a->tier_zh, a->tier_en, a->where, a->since, a->since, a->prev_sun, a->today);
    }
    int num = 1;
    for (const sj_agenda_section_t *s = sj_agenda_sections; rc == SJ_OK && s->key; s++, num++) {
        sj_table_t *t = s->rows(a);
        if (!t) {
            return SJ_EDB;
        }
        size_t nc = sj_table_ncols(t), nr = sj_table_rows(t);
        if (html) {
            fprintf(out,
                    "<section id=\"agenda-%s\"><h2>%d. %s %s (%zu)</h2>\n<p class=\"rule\">%s — "
                    "%s</p>\n",
                    s->key, num, s->zh, s->en, nr, s->rule_zh, s->rule_en);
            if (!nr) {
                fputs("<p class=\"none\">无 none</p>\n", out);
            } else {
                fputs("<table><thead><tr>", out);
                for (size_t c = 0; c < nc; c++) {
                    const char *zh, *en;
                    s_col_label(sj_table_name(t, c), &zh, &en);
                    fprintf(out, "<th>%s<br>%s</th>", zh, en);
                }
                fputs("</tr></thead><tbody>\n", out);
                for (size_t r = 0; r < nr; r++) {
                    fputs("<tr>", out);
                    for (size_t c = 0; c < nc; c++) {
                        fputs(c == 0 ? "<td class=\"id\">" : "<td>", out);
                        rc = s_html(out, sj_table_cell(t, r, c));
                        fputs("</td>", out);
                    }
                    fputs("</tr>\n", out);
                }
                fputs("</tbody></table>\n", out);
            }
            fputs("</section>\n", out);
        } else {
            fprintf(out, "\n## %d. %s %s (%zu)\n\n%s — %s\n\n", num, s->zh, s->en, nr, s->rule_zh,
                    s->rule_en);
            if (!nr) {
                fputs("无 none\n", out);
            } else {
                for (size_t c = 0; c < nc; c++) {
                    const char *zh, *en;
                    s_col_label(sj_table_name(t, c), &zh, &en);
                    fprintf(out, "| %s %s ", zh, en);
                }
                fputs("|\n", out);
                for (size_t c = 0; c < nc; c++) {
                    fputs("| --- ", out);
                }
                fputs("|\n", out);
                for (size_t r = 0; rc == SJ_OK && r < nr; r++) {
                    for (size_t c = 0; rc == SJ_OK && c < nc; c++) {
                        fputs("| ", out);
                        rc = s_md(out, sj_table_cell(t, r, c));
                        fputc(' ', out);
                    }
                    fputs("|\n", out);
                }
            }
        }
        sj_table_destroy(&t);
    }
    if (html) {
        fputs("</body></html>\n", out);
    }
    return rc == SJ_OK && !ferror(out) ? SJ_OK : SJ_EIO;
}
