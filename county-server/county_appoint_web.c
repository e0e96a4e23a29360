/* county_appoint_web: the office's day list of appointments (/appointments)
 * and the page actions /act/appoint and /act/appointment (county_web.c's
 * table), through the same code as the CLI (county_appoint.h). */
#include "county_appoint_web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "county_appoint.h"
#include "county_store_view.h"
#include "sj_form.h"
#include "sj_ids.h"
#include "sj_model.h"

#define T(lang, zh, en) ((lang) == SJ_LANG_EN ? (en) : (zh))

int
county_appoint_web_make(county_store_t *wst,
                        const sj_form_t *form,
                        const sj_who_t *who,
                        char *done,
                        size_t done_size,
                        char *err,
                        size_t err_size)
{
    county_appoint_req_t rq = {.case_id = sj_form_val(form, "case"),
                               .on = sj_form_val(form, "on"),
                               .at = sj_form_val(form, "at"),
                               .office = sj_form_val(form, "office"),
                               .note = sj_form_val(form, "note"),
                               .officer = who->name,
                               .account = who->name};
    char today[11], id[SJ_UUID_TEXT];
    sj_date_today(today);
    int rc = county_appoint_make(wst, &rq, today, id, err, err_size);
    if (rc == SJ_OK) {
        snprintf(done, done_size, "case %s appointment on %s %s office %.64s: event %s", rq.case_id,
                 rq.on, rq.at, rq.office, id);
    } else if (rc == SJ_EFORBIDDEN) {
        rc = SJ_EINVAL; /* refused: the page says why (400) */
    }
    return rc;
}

int
county_appoint_web_mark(county_store_t *wst,
                        const sj_form_t *form,
                        const sj_who_t *who,
                        char *done,
                        size_t done_size,
                        char *err,
                        size_t err_size)
{
    const char *id = sj_form_val(form, "case"), *kept = sj_form_val(form, "kept");
    if (!kept || (strcmp(kept, "1") != 0 && strcmp(kept, "0") != 0)) {
        snprintf(err, err_size, "kept must be 1 (kept) or 0 (missed)");
        return SJ_EINVAL;
    }
    char today[11], ev[SJ_UUID_TEXT], appt[SJ_UUID_TEXT];
    sj_date_today(today);
    int rc = county_appoint_mark(wst, id, sj_form_val(form, "appointment"), kept[0] == '1',
                                 sj_form_val(form, "note"), who->name, who->name, today, ev, appt,
                                 err, err_size);
    if (rc == SJ_OK) {
        snprintf(done, done_size, "case %s appointment %s %s: event %s", id, appt,
                 kept[0] == '1' ? "kept" : "missed", ev);
    } else if (rc == SJ_EFORBIDDEN) {
        rc = SJ_EINVAL;
    }
    return rc;
}

/* A kept or missed button for one appointment. */
static void
s_mark_button(sj_buf_t *b,
              sj_http_req_t *req,
              sj_lang_t lang,
              const char *case_id,
              const char *appt,
              const char *back,
              int kept)
{
    uint8_t key[SJ_ID_BYTES];
    char keytext[SJ_UUID_TEXT];
    sj_uuid7_new(key);
    sj_uuid_format(key, keytext);
    sj_buf_add(b, "<form method=\"post\" action=\"/act/appointment\" class=\"inline\">"
                  "<input type=\"hidden\" name=\"csrf\" value=\"");
    sj_buf_esc(b, sj_http_req_csrf(req));
    sj_buf_addf(b,
                "\"><input type=\"hidden\" name=\"key\" value=\"%s\">"
                "<input type=\"hidden\" name=\"case\" value=\"%s\">"
                "<input type=\"hidden\" name=\"appointment\" value=\"%s\">"
                "<input type=\"hidden\" name=\"kept\" value=\"%d\">"
                "<input type=\"hidden\" name=\"back\" value=\"",
                keytext, case_id, appt, kept);
    sj_buf_esc(b, back);
    sj_buf_addf(b, "\"><button type=\"submit\" id=\"%s-%s\">%s</button></form>",
                kept ? "kept" : "missed", appt,
                kept ? T(lang, "已赴约", "Kept") : T(lang, "未赴约", "Missed"));
}

/* The form that makes an appointment (role staff). */
static void
s_make_form(sj_buf_t *b, sj_http_req_t *req, sj_lang_t lang, const char *on, const char *back)
{
    uint8_t key[SJ_ID_BYTES];
    char keytext[SJ_UUID_TEXT];
    sj_uuid7_new(key);
    sj_uuid_format(key, keytext);
    sj_buf_addf(b,
                "<h2>%s</h2><form id=\"appoint-form\" method=\"post\" action=\"/act/appoint\">"
                "<input type=\"hidden\" name=\"csrf\" value=\"",
                T(lang, "约访登记", "Make an appointment"));
    sj_buf_esc(b, sj_http_req_csrf(req));
    sj_buf_addf(b, "\"><input type=\"hidden\" name=\"key\" value=\"%s\">", keytext);
    sj_buf_add(b, "<input type=\"hidden\" name=\"back\" value=\"");
    sj_buf_esc(b, back);
    sj_buf_addf(
        b,
        "\"><label>%s <input name=\"case\" id=\"appoint-case\" size=\"36\" required></label>"
        " <label>%s <input name=\"on\" id=\"appoint-on\" data-date maxlength=\"10\""
        " pattern=\"[0-9]{4}-[0-9]{2}-[0-9]{2}\" placeholder=\"%s\" required value=\"",
        T(lang, "案件编号", "Case id"), T(lang, "日期", "Day"), T(lang, "年-月-日", "YYYY-MM-DD"));
    sj_buf_esc(b, on);
    sj_buf_addf(b,
                "\"></label> <label>%s <input name=\"at\" id=\"appoint-at\" maxlength=\"5\""
                " pattern=\"[0-9]{2}:[0-9]{2}\" placeholder=\"09:00\" required></label>"
                " <label>%s <input name=\"office\" id=\"appoint-office\" maxlength=\"64\""
                " required></label> <label>%s <input name=\"note\" maxlength=\"2000\"></label>"
                " <button type=\"submit\" id=\"appoint-save\">%s</button></form>",
                T(lang, "时间", "Time"), T(lang, "接待科室", "Office"), T(lang, "备注", "Note"),
                T(lang, "保存", "Save"));
}

void
county_appoint_page(sqlite3 *db, sj_http_req_t *req, const sj_who_t *who, sj_lang_t lang)
{
    static const char *const allowed[] = {"on", "office", "lang", NULL};
    const char *v[3] = {NULL, NULL, NULL};
    char err[400] = "", today[11];
    sj_date_today(today);
    if (sj_http_req_args(req, allowed, v, err, sizeof err) != SJ_OK) {
        sj_http_reply_error(req, 400, err);
        return;
    }
    const char *on = v[0] ? v[0] : today, *office = v[1];
    if (!sj_date_valid(on)) {
        sj_http_reply_error(req, 400, "on: not a date YYYY-MM-DD");
        return;
    }
    int staff = who && strcmp(who->role, "staff") == 0;
    sj_table_t *t = NULL;
    if (county_appoint_table(db, on, on, office, &t, err, sizeof err) != SJ_OK) {
        sj_http_reply_error(req, 500, err);
        return;
    }
    char back[200];
    snprintf(back, sizeof back, "/appointments?on=%s%s", on, lang == SJ_LANG_EN ? "&lang=en" : "");
    sj_buf_t b = {0};
    sj_buf_addf(&b,
                "<!DOCTYPE html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
                "<title>%s</title><link rel=\"stylesheet\" href=\"/style.css\"></head><body>"
                "<header><h1 id=\"appt-title\">%s %s</h1><nav class=\"me\">"
                "<a href=\"/%s\">%s</a> <a href=\"/appointments?on=%s\">中文</a>"
                " <a href=\"/appointments?on=%s&amp;lang=en\">English</a></nav></header>",
                lang == SJ_LANG_EN ? "en" : "zh-CN", T(lang, "约访日程", "Appointments"),
                T(lang, "约访日程", "Appointments of"), on, lang == SJ_LANG_EN ? "?lang=en" : "",
                T(lang, "返回总览", "Dashboard"), on, on);
    sj_buf_addf(&b,
                "<form method=\"get\" action=\"/appointments\" id=\"appt-day\"><label>%s"
                " <input name=\"on\" data-date maxlength=\"10\" value=\"%s\"></label>",
                T(lang, "日期", "Day"), on);
    if (lang == SJ_LANG_EN) {
        sj_buf_add(&b, "<input type=\"hidden\" name=\"lang\" value=\"en\">");
    }
    sj_buf_addf(&b,
                " <button type=\"submit\">%s</button></form>"
                "<table id=\"appointments\"><thead><tr><th>%s</th><th>%s</th><th>%s</th>"
                "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
                T(lang, "查看", "Show"), T(lang, "时间", "Time"), T(lang, "接待科室", "Office"),
                T(lang, "案件", "Case"), T(lang, "乡镇", "Township"), T(lang, "事由", "Summary"),
                T(lang, "状态", "State"), T(lang, "办理", "Act"));
    size_t n = sj_table_rows(t);
    for (size_t i = 0; i < n; i++) {
        /* on 0, at 1, office 2, state 3, case_id 4, appointment_id 5,
         * township 6, station 7, summary 8 */
        const char *state = sj_table_cell(t, i, 3), *appt = sj_table_cell(t, i, 5);
        sj_buf_add(&b, "<tr data-appointment=\"");
        sj_buf_esc(&b, appt);
        sj_buf_add(&b, "\"><td>");
        sj_buf_esc(&b, sj_table_cell(t, i, 1));
        sj_buf_add(&b, "</td><td>");
        sj_buf_esc(&b, sj_table_cell(t, i, 2));
        sj_buf_add(&b, "</td><td class=\"case\">");
        sj_buf_esc(&b, sj_table_cell(t, i, 4));
        sj_buf_add(&b, "</td><td>");
        sj_buf_esc(&b, sj_table_cell(t, i, 6));
        sj_buf_add(&b, "</td><td>");
        sj_buf_esc(&b, sj_table_cell(t, i, 8));
        sj_buf_add(&b, "</td><td class=\"state\">");
        sj_buf_esc(&b, county_appoint_state_label(state, lang));
        sj_buf_add(&b, "</td><td>");
        if (staff && strcmp(on, today) <= 0) {
            s_mark_button(&b, req, lang, sj_table_cell(t, i, 4), appt, back, 1);
            s_mark_button(&b, req, lang, sj_table_cell(t, i, 4), appt, back, 0);
        }
        sj_buf_add(&b, "</td></tr>");
    }
    sj_buf_addf(&b, "</tbody></table><p id=\"appt-count\">%s %zu</p>",
                T(lang, "约访数：", "Appointments:"), n);
    if (staff) {
        s_make_form(&b, req, lang, on, back);
    }
    sj_buf_add(&b, "</body></html>");
    sj_table_destroy(&t);
    if (b.oom) {
        sj_http_reply_error(req, 500, "out of memory");
    } else {
        sj_http_reply(req, 200, "text/html; charset=utf-8", b.p, b.len);
    }
    sj_buf_free(&b);
}
