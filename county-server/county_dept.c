/* county_dept: see county_dept.h. */
#include "county_dept.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "county_cases.h"
#include "county_figs.h"
#include "county_store_view.h"
#include "sj_form.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_model.h"
#include "sj_users.h"

#define T(lang, zh, en) ((lang) == SJ_LANG_EN ? (en) : (zh))

int
county_dept_add(
    sqlite3 *db, const char *county, const char *code, const char *name, char *err, size_t err_size)
{
    if (!sj_dept_code(code)) {
        snprintf(err, err_size,
                 _("department code '%.16s' must be 9 digits: the county's 6, then 9 and two"
                   " digits (e.g. 230523901)"),
                 code ? code : "");
        return SJ_EINVAL;
    }
    if (county && strcmp(county, "000000") != 0 && strncmp(code, county, 6) != 0) {
        snprintf(err, err_size, _("department code %s is not under county %s"), code, county);
        return SJ_EINVAL;
    }
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 200 || !sj_utf8_valid(name, n)) {
        snprintf(err, err_size, _("the department's name must be UTF-8 text of 1 to 200 bytes"));
        return SJ_EINVAL;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO departments(code, name, created_ms) VALUES(?,?,?)"
                           " ON CONFLICT(code) DO UPDATE SET name = excluded.name",
                           -1, &st, NULL)
        != SQLITE_OK) {
        snprintf(err, err_size, _("cannot store the department: %s"), sqlite3_errmsg(db));
        return SJ_EDB;
    }
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, sj_now_ms());
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        snprintf(err, err_size, _("cannot store the department: %s"), sqlite3_errmsg(db));
        return SJ_EDB;
    }
    return SJ_OK;
}

int
county_dept_table(sqlite3 *db, sj_table_t **out, char *err, size_t err_size)
{
    static const char *const names[] = {"code", "name"};
    static const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_TEXT};
    *out = sj_table_new(2, names, types);
    sqlite3_stmt *st = NULL;
    if (!*out
        || sqlite3_prepare_v2(db, "SELECT code, name FROM departments ORDER BY code", -1, &st, NULL)
               != SQLITE_OK) {
        sj_table_destroy(out);
        snprintf(err, err_size, _("cannot read the departments: %s"), sqlite3_errmsg(db));
        return SJ_EDB;
    }
    int rc = SJ_OK;
    while (rc == SJ_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *cells[2] = {(const char *) sqlite3_column_text(st, 0),
                                (const char *) sqlite3_column_text(st, 1)};
        rc = sj_table_add_row(*out, cells);
    }
    sqlite3_finalize(st);
    if (rc != SJ_OK) {
        sj_table_destroy(out);
        snprintf(err, err_size, _("out of memory"));
    }
    return rc;
}

int
county_dept_has_case(sqlite3 *db, const char *unit, const char *id_text)
{
    uint8_t id[SJ_ID_BYTES];
    if (!unit || !unit[0] || !id_text || sj_uuid_parse(id_text, id) != SJ_OK) {
        return 0;
    }
    sqlite3_stmt *st = NULL;
    int yes = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT 1 FROM " COUNTY_FIGS_CURRENT_ASSIGNMENT_SQL
                           " WHERE a_case = ?1 AND a_to = ?2",
                           -1, &st, NULL)
        == SQLITE_OK) {
        sqlite3_bind_blob(st, 1, id, SJ_ID_BYTES, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, unit, -1, SQLITE_STATIC);
        yes = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return yes;
}

/* A button form posting a status change of case id to outcome. */
static void
s_button(sj_buf_t *b,
         sj_http_req_t *req,
         sj_lang_t lang,
         const char *id,
         const char *outcome,
         const char *label)
{
    uint8_t key[16];
    char keytext[SJ_UUID_TEXT];
    sj_uuid7_new(key);
    sj_uuid_format(key, keytext);
    sj_buf_add(b, "<form method=\"post\" action=\"/act/update\" class=\"inline\">"
                  "<input type=\"hidden\" name=\"csrf\" value=\"");
    sj_buf_esc(b, sj_http_req_csrf(req));
    sj_buf_addf(b,
                "\"><input type=\"hidden\" name=\"key\" value=\"%s\">"
                "<input type=\"hidden\" name=\"case\" value=\"%s\">"
                "<input type=\"hidden\" name=\"outcome\" value=\"%s\">"
                "<input type=\"hidden\" name=\"lang\" value=\"%s\">"
                "<input type=\"hidden\" name=\"back\" value=\"/dept%s\">"
                "<input name=\"note\" size=\"14\" maxlength=\"2000\" placeholder=\"%s\">"
                "<button type=\"submit\" id=\"%s-%s\">%s</button></form>",
                keytext, id, outcome, lang == SJ_LANG_EN ? "en" : "zh",
                lang == SJ_LANG_EN ? "?lang=en" : "", T(lang, "备注", "note"), outcome, id, label);
}

void
county_dept_page(sqlite3 *db, sj_http_req_t *req, const sj_who_t *who, sj_lang_t lang)
{
    if (!who || strcmp(who->role, "department") != 0) {
        sj_http_reply_error(req, 403, "the department page is for role department");
        return;
    }
    char name[256] = "", err[300] = "";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT name FROM departments WHERE code=?", -1, &st, NULL)
        == SQLITE_OK) {
        sqlite3_bind_text(st, 1, who->unit, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            snprintf(name, sizeof name, "%s", (const char *) sqlite3_column_text(st, 0));
        }
    }
    sqlite3_finalize(st);
    county_cases_filter_t f;
    memset(&f, 0, sizeof f);
    f.assignee = who->unit;
    county_cases_t *cur = NULL;
    if (county_cases_open(db, &f, &cur, err, sizeof err) != SJ_OK) {
        sj_http_reply_error(req, 500, err);
        return;
    }
    sj_buf_t b = {0};
    sj_buf_addf(&b,
                "<!DOCTYPE html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
                "<title>%s</title><link rel=\"stylesheet\" href=\"/style.css\"></head><body>"
                "<header><h1 id=\"dept-title\">",
                lang == SJ_LANG_EN ? "en" : "zh-CN", T(lang, "部门案件", "Department cases"));
    sj_buf_esc(&b, name[0] ? name : who->unit);
    sj_buf_addf(&b, " · %s</h1><nav class=\"me\"><span id=\"me-name\">",
                T(lang, "交办案件", "Assigned cases"));
    sj_buf_esc(&b, who->name);
    sj_buf_addf(&b,
                "</span> <span class=\"chip\">%s</span> <a href=\"/dept\">中文</a>"
                " <a href=\"/dept?lang=en\">English</a><form method=\"post\" action=\"/logout\">"
                "<input type=\"hidden\" name=\"csrf\" value=\"",
                T(lang, "县直部门", "county department"));
    sj_buf_esc(&b, sj_http_req_csrf(req));
    sj_buf_addf(&b,
                "\"><button type=\"submit\" id=\"logout\">%s</button></form></nav></header>"
                "<table id=\"dept-cases\"><thead><tr><th>%s</th><th>%s</th><th>%s</th>"
                "<th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
                T(lang, "退出登录", "Log out"), T(lang, "案件", "Case"), T(lang, "日期", "Date"),
                T(lang, "类别", "Category"), T(lang, "处理结果", "Outcome"), T(lang, "期限", "Due"),
                T(lang, "办理", "Act"));
    const char *const *cells = NULL;
    int rc;
    int rows = 0;
    while ((rc = county_cases_next(cur, &cells, err, sizeof err)) == SJ_OK) {
        /* case_id 0, occurred_on 7, category 8, outcome 3, due_on 12 */
        rows++;
        sj_buf_add(&b, "<tr data-case=\"");
        sj_buf_esc(&b, cells[0]);
        sj_buf_add(&b, "\"><td class=\"case\">");
        sj_buf_esc(&b, cells[0]);
        sj_buf_add(&b, "</td><td>");
        sj_buf_esc(&b, cells[7]);
        sj_buf_add(&b, "</td><td>");
        int cat = cells[8] ? sj_enum_value(SJ_FIELD_CATEGORY, cells[8]) : 0;
        sj_buf_esc(&b, cat ? sj_enum_label(SJ_FIELD_CATEGORY, cat, lang) : cells[8]);
        sj_buf_add(&b, "</td><td class=\"outcome\">");
        int out = cells[3] ? sj_enum_value(SJ_FIELD_OUTCOME, cells[3]) : 0;
        sj_buf_esc(&b, out ? sj_enum_label(SJ_FIELD_OUTCOME, out, lang) : cells[3]);
        sj_buf_add(&b, "</td><td>");
        sj_buf_esc(&b, cells[12]);
        sj_buf_add(&b, "</td><td>");
        if (cells[3] && strcmp(cells[3], "pending") == 0) {
            s_button(&b, req, lang, cells[0], "accepted", T(lang, "受理", "Accept"));
        }
        if (cells[3] && (strcmp(cells[3], "pending") == 0 || strcmp(cells[3], "accepted") == 0)) {
            s_button(&b, req, lang, cells[0], "closed", T(lang, "办结", "Conclude"));
        }
        sj_buf_add(&b, "</td></tr>");
    }
    county_cases_close(&cur);
    sj_buf_addf(&b, "</tbody></table><footer>%s %d</footer></body></html>",
                T(lang, "件数：", "Cases:"), rows);
    if (rc != SJ_ENOTFOUND || b.oom) {
        sj_http_reply_error(req, 500, b.oom ? "out of memory" : err);
    } else {
        sj_http_reply(req, 200, "text/html; charset=utf-8", b.p, b.len);
    }
    sj_buf_free(&b);
}

int
county_dept_cli(county_store_t *st, char *const *pos, int npos, sj_format_t fmt)
{
    char err[400] = "";
    sqlite3 *db = county_store_db(st);
    const char *sub = npos > 0 ? pos[0] : "";
    if (strcmp(sub, "list") == 0 && npos == 1) {
        sj_table_t *t = NULL;
        if (county_dept_table(db, &t, err, sizeof err) != SJ_OK) {
            fprintf(stderr, "county-server: %s\n", err);
            return 1;
        }
        int rc = sj_table_write(t, fmt, stdout);
        sj_table_destroy(&t);
        return rc == SJ_OK ? 0 : 1;
    }
    if (strcmp(sub, "add") != 0 || npos != 3) {
        fprintf(stderr, _("county-server: usage: dept add CODE NAME | dept list\n"));
        return 2;
    }
    int rc = county_dept_add(db, county_store_origin(st), pos[1], pos[2], err, sizeof err);
    char detail[300];
    snprintf(detail, sizeof detail, "%.16s %.200s", pos[1], pos[2]);
    sj_audit_cli(db, "dept-add", detail, rc == SJ_OK);
    if (rc != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        return rc == SJ_EINVAL ? 2 : 1;
    }
    fprintf(stderr, "county-server: 部门已登记 / department named: %s %s\n", pos[1], pos[2]);
    return 0;
}
