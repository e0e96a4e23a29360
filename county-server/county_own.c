/* county_own: see county_own.h. */
#include "county_own.h"

#include <stdlib.h>
#include <string.h>

#include "county_cases.h"
#include "county_figs.h"
#include "county_query.h"
#include "county_store.h"
#include "sj_agenda.h"
#include "sj_case.h"
#include "sj_clock_db.h"
#include "sj_form.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_model.h"
#include "sj_own.h"
#include "sj_users.h"

int
county_own_do(county_store_t *st,
              const char *id_text,
              const char *leader,
              const char *portfolio,
              const char *officer,
              const char *account,
              char ev_id[SJ_UUID_TEXT],
              char *err,
              size_t err_size)
{
    ev_id[0] = '\0';
    sj_event_t *ev = sj_own_event_new(id_text, leader, portfolio, officer, err, err_size);
    if (!ev) {
        return strcmp(err, "out of memory") == 0 ? SJ_ENOMEM : SJ_EINVAL;
    }
    snprintf(ev->account, sizeof ev->account, "%s", account ? account : "");
    err[0] = '\0';
    int rc = county_store_own(st, ev, err, err_size);
    if (rc == SJ_OK) {
        sj_uuid_format(ev->id, ev_id);
    }
    free(ev);
    return rc;
}

int
county_own_cmd(const sj_cli_args_t *a, int leader_id, int portfolio_id, int officer_id)
{
    if (sj_cli_need(a, leader_id, "NAME")) {
        return 2;
    }
    const char *leader = sj_cli_val(a, leader_id);
    char err[512] = "", id[SJ_UUID_TEXT];
    county_store_t *st = county_store_open(a->data, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    int rc = county_own_do(st, a->pos[0], leader, sj_cli_val(a, portfolio_id),
                           sj_cli_val(a, officer_id), NULL, id, err, sizeof err);
    char detail[800];
    snprintf(detail, sizeof detail, "case %.40s leader %.64s%s%.600s", a->pos[0], leader,
             rc == SJ_OK ? "" : ": ", rc == SJ_OK ? "" : err);
    if (rc != SJ_EINVAL) {
        sj_audit_cli(county_store_db(st), "own", detail, rc == SJ_OK);
    }
    if (rc == SJ_OK) {
        printf("%s\n", id);
        fprintf(stderr, _("county-server: case %s: owned by %s (event of origin %s)\n"), a->pos[0],
                leader, county_store_origin(st));
    } else if (rc == SJ_EINVAL) {
        fprintf(stderr, "county-server: %s\n", err);
    } else {
        fprintf(stderr, _("county-server: ownership refused, nothing stored: %s\n"), err);
    }
    county_store_close(&st);
    return rc == SJ_OK ? 0 : rc == SJ_EINVAL ? 2 : 1;
}

/* ---- leaders ---- */

int
county_leaders_cmd(const sj_cli_args_t *a, int format_id, const sj_periods_t *p)
{
    sj_format_t fmt = SJ_FMT_TABLE;
    if (sj_cli_format(a, format_id, &fmt)) {
        return 2;
    }
    char err[512] = "";
    county_store_t *st = county_store_open(a->data, NULL, SJ_DB_READ, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    county_cases_filter_t f;
    memset(&f, 0, sizeof f);
    f.periods = p;
    county_cases_t *cur = NULL;
    sj_own_tally_t *tally = sj_own_tally_new();
    int rc = tally ? county_cases_open(county_store_db(st), &f, &cur, err, sizeof err) : SJ_ENOMEM;
    const char *const *cells = NULL;
    while (rc == SJ_OK && (rc = county_cases_next(cur, &cells, err, sizeof err)) == SJ_OK) {
        const char *owner = cells[27], *outcome = cells[3];
        int v = outcome ? sj_enum_value(SJ_FIELD_OUTCOME, outcome) : 0;
        rc = sj_own_tally_add(tally, owner, v && sj_outcome_is_open(v),
                              v && sj_outcome_is_concluded(v),
                              (cells[14] && cells[14][0]) || (cells[26] && cells[26][0]));
    }
    county_cases_close(&cur);
    county_store_close(&st);
    if (rc == SJ_ENOTFOUND) {
        rc = SJ_OK;
    }
    sj_table_t *t = rc == SJ_OK ? sj_own_tally_table(tally) : NULL;
    sj_own_tally_free(&tally);
    if (rc == SJ_OK && !t) {
        rc = SJ_ENOMEM;
    }
    if (rc == SJ_OK) {
        rc = sj_table_write(t, fmt, stdout);
    }
    sj_table_destroy(&t);
    if (rc != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err[0] ? err : sj_strerror(rc));
        return 1;
    }
    return 0;
}

/* ---- agenda ---- */

/* Every matter (not voided) with its owner, in the columns of
 * sj_agenda_load. */
/* clang-format off */
static const char s_agenda_cases_sql[] =
    "SELECT m.id, m.origin, m.occurred_on, m.kind, m.category, m.outcome, m.persons,"
    " coalesce(m.reported_outcome, m.outcome), m.source, a.a_due,"
    " " SJ_OWN_CURRENT_SQL("leader", "m.id") ","
    " " SJ_OWN_CURRENT_SQL("portfolio", "m.id")
    " FROM matters m LEFT JOIN " COUNTY_FIGS_CURRENT_ASSIGNMENT_SQL " a ON a.a_case = m.id"
    " ORDER BY m.township, m.origin, m.id";
/* clang-format on */

int
county_agenda_write(sqlite3 *db,
                    const char *code,
                    const char *week,
                    const char *fmt,
                    const sj_periods_t *p,
                    FILE *out,
                    char *err,
                    size_t err_size)
{
    sj_periods_t def;
    if (!p) {
        sj_periods_default(&def);
        p = &def;
    }
    sj_agenda_t a;
    memset(&a, 0, sizeof a);
    char today[11];
    sj_date_today(today);
    int rc = sj_agenda_week(week, today, &a, err, err_size);
    if (rc != SJ_OK) {
        return rc;
    }
    a.tier_zh = "县";
    a.tier_en = "county";
    a.where = code;
    a.db = db;
    a.history_sql = county_query_history_sql;
    rc = sj_agenda_load(&a, s_agenda_cases_sql, COUNTY_CLOCK_CHANGES_SQL, p);
    if (rc == SJ_OK) {
        rc = sj_agenda_write(&a, fmt, out);
    }
    if (rc != SJ_OK && !err[0]) {
        snprintf(err, err_size, "cannot write the agenda: %s", sj_strerror(rc));
    }
    sj_agenda_free(&a);
    return rc;
}

int
county_agenda_cmd(const sj_cli_args_t *a, int week_id, int format_id, const sj_periods_t *p)
{
    const char *fmt = sj_cli_val(a, format_id);
    fmt = fmt ? fmt : "md";
    if (strcmp(fmt, "md") != 0 && strcmp(fmt, "html") != 0) {
        fprintf(stderr, _("county-server: --format '%s': give md or html\n"), fmt);
        return 2;
    }
    char err[512] = "";
    county_store_t *st = county_store_open(a->data, NULL, SJ_DB_READ, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    int rc = county_agenda_write(county_store_db(st), county_store_origin(st),
                                 sj_cli_val(a, week_id), fmt, p, stdout, err, sizeof err);
    county_store_close(&st);
    if (rc != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        return rc == SJ_EINVAL ? 2 : 1;
    }
    return 0;
}

/* ---- the page: /leader and /agenda ---- */

#define T(lang, zh, en) ((lang) == SJ_LANG_EN ? (en) : (zh))

void
county_own_leader_page(sqlite3 *db, sj_http_req_t *req, const sj_who_t *who, sj_lang_t lang)
{
    if (!who || strcmp(who->role, "leader") != 0) {
        sj_http_reply_error(req, 403, "the leader's page is for role leader");
        return;
    }
    char err[300] = "";
    county_cases_filter_t f;
    memset(&f, 0, sizeof f);
    f.leader = who->name; /* the mapping: the account's name is the leader's NAME */
    county_cases_t *cur = NULL;
    if (county_cases_open(db, &f, &cur, err, sizeof err) != SJ_OK) {
        sj_http_reply_error(req, 500, err);
        return;
    }
    const char *en = lang == SJ_LANG_EN ? "?lang=en" : "";
    sj_buf_t b = {0};
    sj_buf_addf(&b,
                "<!DOCTYPE html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
                "<title>%s</title><link rel=\"stylesheet\" href=\"/style.css\"></head><body>"
                "<header><h1 id=\"leader-title\">%s</h1><nav class=\"me\"><span id=\"me-name\">",
                lang == SJ_LANG_EN ? "en" : "zh-CN", T(lang, "我包案的案件", "My cases"),
                T(lang, "我包案的案件 · 领导包案", "My cases · leader ownership"));
    sj_buf_esc(&b, who->name);
    sj_buf_addf(&b,
                "</span> <span class=\"chip\">%s</span> <a id=\"leader-agenda\" "
                "href=\"/agenda%s\">%s</a> <a href=\"/leader\">中文</a>"
                " <a href=\"/leader?lang=en\">English</a><form method=\"post\" action=\"/logout\">"
                "<input type=\"hidden\" name=\"csrf\" value=\"",
                T(lang, "领导", "leader"), en, T(lang, "例会议程", "Meeting agenda"));
    sj_buf_esc(&b, sj_http_req_csrf(req));
    sj_buf_addf(&b,
                "\"><button type=\"submit\" id=\"logout\">%s</button></form></nav></header>"
                "<p>%s</p><table id=\"leader-cases\"><thead><tr><th>%s</th><th>%s</th>"
                "<th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
                T(lang, "退出登录", "Log out"),
                T(lang, "只读：以本账户名包案的案件（own --leader 账户名）。",
                  "Read only: the cases owned under this account's name (own --leader NAME)."),
                T(lang, "案件", "Case"), T(lang, "日期", "Date"), T(lang, "村站", "Station"),
                T(lang, "处理结果", "Outcome"), T(lang, "分管", "Portfolio"),
                T(lang, "办结期限", "Conclusion due"), T(lang, "超期", "Overdue"));
    const char *const *cells = NULL;
    int rc, rows = 0;
    while ((rc = county_cases_next(cur, &cells, err, sizeof err)) == SJ_OK) {
        /* case_id 0, station_name 15, outcome 3, occurred_on 7, conclude_due
         * 20, overdue_what 24, portfolio 28 */
        rows++;
        sj_buf_add(&b, "<tr data-case=\"");
        sj_buf_esc(&b, cells[0]);
        sj_buf_add(&b, "\"><td class=\"case\">");
        sj_buf_esc(&b, cells[0]);
        sj_buf_add(&b, "</td><td>");
        sj_buf_esc(&b, cells[7]);
        sj_buf_add(&b, "</td><td>");
        sj_buf_esc(&b, cells[15]);
        sj_buf_add(&b, "</td><td class=\"outcome\">");
        int out = cells[3] ? sj_enum_value(SJ_FIELD_OUTCOME, cells[3]) : 0;
        sj_buf_esc(&b, out ? sj_enum_label(SJ_FIELD_OUTCOME, out, lang) : cells[3]);
        sj_buf_add(&b, "</td><td>");
        sj_buf_esc(&b, cells[28]);
        sj_buf_add(&b, "</td><td>");
        sj_buf_esc(&b, cells[20]);
        sj_buf_add(&b, "</td><td class=\"overdue\">");
        sj_buf_esc(&b, cells[24]);
        sj_buf_add(&b, "</td></tr>");
    }
    county_cases_close(&cur);
    sj_buf_addf(&b, "</tbody></table><footer id=\"leader-count\">%s %d</footer></body></html>",
                T(lang, "件数：", "Cases:"), rows);
    if (rc != SJ_ENOTFOUND || b.oom) {
        sj_http_reply_error(req, 500, b.oom ? "out of memory" : err);
    } else {
        sj_http_reply(req, 200, "text/html; charset=utf-8", b.p, b.len);
    }
    sj_buf_free(&b);
}

void
county_own_agenda_page(sqlite3 *db, const char *code, sj_http_req_t *req)
{
    static const char *const allowed[] = {"week", "lang", NULL};
    const char *v[2];
    char err[400] = "";
    if (sj_http_req_args(req, allowed, v, err, sizeof err) != SJ_OK) {
        sj_http_reply_error(req, 400, err);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        sj_http_reply_error(req, 500, "out of memory");
        return;
    }
    int rc = county_agenda_write(db, code, v[0] && v[0][0] ? v[0] : NULL, "html", NULL, f, err,
                                 sizeof err);
    if (fclose(f) != 0 && rc == SJ_OK) {
        rc = SJ_ENOMEM;
        snprintf(err, sizeof err, "out of memory");
    }
    if (rc == SJ_EINVAL) {
        sj_http_reply_error(req, 400, err);
    } else if (rc != SJ_OK) {
        sj_http_reply_error(req, 500, err);
    } else {
        sj_http_reply(req, 200, "text/html; charset=utf-8", text, len);
    }
    free(text);
}
