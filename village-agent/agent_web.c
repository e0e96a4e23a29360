/* agent_web: see agent_web.h.
 *
 * Pages (GET, ?lang=en for English):
 *   /  /record          the record form (记录)
 *   /outbox?page=N      the entries, newest first, 50 a page (AGENT_WEB_PAGE_ROWS),
 *                       with their state (发送情况), and the hub link as `run`
 *                       last recorded it (agent_link: connected or not, since
 *                       when, last contact, why not; "not running" without run)
 *   /inbox              assigned cases by due date (交办), accept/conclude/withdraw;
 *                       an assignment not yet opened is marked new (and counted
 *                       in the title)
 *   /case?id=UUID       one assigned case; opening it marks it no longer new
 *   /matter?id=UUID     one matter, everything recorded; prints as an A4 登记表
 * Writes (POST, CSRF-checked by sj_http before they get here):
 *   /record   the form; refused fields are shown next to the field (400),
 *             stored: 303 to /matter. The form's hidden "key" is the new
 *             entry's id (a UUIDv7 made when the form was shown), so a
 *             double click or a reload of the POST finds it already stored.
 *   /update   a status change; its "key" is remembered in the store
 *             (desk_forms), so a reload acts once, also after a restart.
 * The key of the CSRF tokens and the logins are kept in the store too
 * (migration 8, renewed after 12 hours): a form served before a restart of
 * serve is taken after it.
 *   /deliver  delivers now (as `sync`, at most 10 s) when --hub is given; the
 *             outbox shows the hub and the result of the last attempt.
 * The store is opened per request (WAL: `run` may work alongside). */
#include "agent_web.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "agent_link.h"
#include "sj_case.h"
#include "sj_form.h"
#include "sj_http.h"
#include "sj_ids.h"
#include "sj_log.h"
#include "sj_model.h"
#include "sj_places.h"

extern const sj_http_asset_t agent_web_assets[];

#define S_SESSIONS        32                 /* logged-in sessions kept (the oldest goes) */
#define S_SESSION_IDLE_MS (30 * 60000)       /* a login ends after 30 minutes unused */
#define S_SESSION_MAX_MS  (12 * 3600000LL)   /* and after 12 hours in any case */
#define S_SLOW_MAX_MS     60000              /* the longest wait after failed logins */
#define S_SEEN_KEEP_MS    60000              /* a session's last use is written this often */
#define S_FORM_KEEP_MS    (S_SESSION_MAX_MS) /* form keys acted on are kept this long */

typedef struct {
    const agent_opts_t *o;
    char pwhash[crypto_pwhash_STRBYTES]; /* "" without --password-file */
    struct {
        uint8_t sid_hash[32]; /* BLAKE2b of the session id */
        int64_t since_ms, seen_ms;
        int64_t kept_ms; /* seen_ms as written in the store */
    } sessions[S_SESSIONS];
    int64_t tried_ms;    /* the page's last delivery attempt (0: none) */
    int tried_rc;        /* its result (AGENT_DELIVER_*) */
    int fails;           /* failed logins in a row */
    int64_t next_try_ms; /* no login is tried before this */
} s_ctx_t;

/* One request's page: language and text. */
typedef struct {
    sj_lang_t lang;
    const char *lq; /* "" or "lang=en" for links */
    sj_buf_t b;
} s_page_t;

#define T(p, zh, en) ((p)->lang == SJ_LANG_EN ? (en) : (zh))

/* The form's fields: name, labels, AF_* index. */
static const struct {
    const char *name;
    const char *zh;
    const char *en;
} s_fields[AF_COUNT] = {
    [AF_CHANNEL] = {"channel", "渠道", "Channel"},
    [AF_KIND] = {"kind", "类别", "Kind"},
    [AF_PERSONS] = {"persons", "人数", "Persons"},
    [AF_LEVEL] = {"level", "层级", "Level"},
    [AF_CATEGORY] = {"category", "问题类型", "Category"},
    [AF_OUTCOME] = {"outcome", "登记时结果", "Outcome at entry"},
    [AF_SOURCE] = {"source", "来源", "Source"},
    [AF_OCCURRED] = {"occurred", "日期", "Date"},
    [AF_OFFICER] = {"officer", "信息员", "Officer"},
    [AF_SUMMARY] = {"summary", "事由摘要", "Summary"},
    [AF_ID] = {"key", "编号", "Id"},
    [AF_PET_NAME] = {"pet_name", "来访人姓名", "Petitioner's name"},
    [AF_PET_ID] = {"pet_id", "身份证号", "ID number"},
    [AF_PET_PHONE] = {"pet_phone", "电话", "Phone"},
    [AF_PET_ADDRESS] = {"pet_address", "住址", "Address"},
};

/* What a refusal of a field says in Chinese (the English reason beside). */
static const char *
s_field_zh(int af)
{
    switch (af) {
    case AF_PERSONS:
        return "人数不符：信、电话、信箱每件一人；个体访1至4人，集体访5人以上";
    case AF_OCCURRED:
        return "日期有误：须为真实日期，且不能晚于今天";
    case AF_SUMMARY:
        return "请填写事由摘要（不超过4000字节）";
    case AF_OFFICER:
        return "信息员姓名太长";
    case AF_CHANNEL:
        return "请选择渠道";
    case AF_LEVEL:
        return "请选择层级";
    case AF_PET_NAME:
        return "个人信息须用县里的公钥加密后才能保存（--county-key）";
    default:
        return "此项有误";
    }
}

static const char *
s_state_zh(agent_state_t st, sj_lang_t lang)
{
    static const char *const zh[] = {"待发送", "已到乡镇", "被退回", "县已收到"};
    static const char *const en[] = {"queued", "at the township", "rejected", "at the county"};
    return (unsigned) st < 4 ? (lang == SJ_LANG_EN ? en[st] : zh[st]) : "?";
}

static void
s_head(s_page_t *p, const char *title_zh, const char *title_en, int badge)
{
    sj_buf_t *b = &p->b;
    sj_buf_addf(b, "<!DOCTYPE html><html lang=\"%s\"><head><meta charset=\"utf-8\"><title>",
                p->lang == SJ_LANG_EN ? "en" : "zh-CN");
    if (badge > 0) {
        sj_buf_addf(b, "(%d) ", badge);
    }
    sj_buf_esc(b, T(p, title_zh, title_en));
    sj_buf_add(b, T(p, " · 村信息站", " · village station"));
    sj_buf_add(b, "</title><link rel=\"stylesheet\" href=\"/desk.css\"></head><body><nav>");
    const char *q = p->lang == SJ_LANG_EN ? "?lang=en" : "";
    sj_buf_addf(b, "<a href=\"/record%s\">%s</a>", q, T(p, "记录", "Record"));
    sj_buf_addf(b, "<a href=\"/outbox%s\">%s</a>", q, T(p, "发送情况", "Outbox"));
    sj_buf_addf(b, "<a href=\"/inbox%s\">%s</a>", q, T(p, "交办", "Assigned"));
    sj_buf_addf(b, "<a class=\"lang\" href=\"?%s\">%s</a>", p->lang == SJ_LANG_EN ? "" : "lang=en",
                p->lang == SJ_LANG_EN ? "中文" : "English");
    sj_buf_add(b, "</nav><main>");
}

static void
s_send(sj_http_req_t *req, s_page_t *p, unsigned int status)
{
    sj_buf_add(&p->b, "</main><script src=\"/date.js\"></script><script src=\"/desk.js\"></script>"
                      "</body></html>\n");
    if (p->b.oom) {
        sj_http_reply_error(req, 500, "out of memory");
    } else {
        sj_http_reply(req, status, "text/html; charset=utf-8", p->b.p, p->b.len);
    }
    sj_buf_free(&p->b);
}

static void
s_hidden(s_page_t *p, sj_http_req_t *req)
{
    sj_buf_add(&p->b, "<input type=\"hidden\" name=\"csrf\" value=\"");
    sj_buf_esc(&p->b, sj_http_req_csrf(req));
    sj_buf_add(&p->b, "\">");
    if (p->lang == SJ_LANG_EN) {
        sj_buf_add(&p->b, "<input type=\"hidden\" name=\"lang\" value=\"en\">");
    }
}

static agent_store_t *
s_store(const s_ctx_t *c, sj_db_mode_t mode, char *err, size_t err_size)
{
    return agent_store_open(c->o->data, c->o->station, mode, err, err_size);
}

static void
s_store_error(sj_http_req_t *req, s_page_t *p, const char *err)
{
    s_head(p, "出错", "Error", 0);
    sj_buf_add(&p->b, "<p class=\"err\">无法打开本站数据 / cannot open the station's store: ");
    sj_buf_esc(&p->b, err);
    sj_buf_add(&p->b, "</p>");
    s_send(req, p, 500);
}

/* ---- 记录 ---- */

static void
s_select(s_page_t *p, int af, sj_field_t f, const char *cur, int blank)
{
    sj_buf_addf(&p->b, "<select id=\"%s\" name=\"%s\">", s_fields[af].name, s_fields[af].name);
    if (blank) {
        sj_buf_addf(&p->b, "<option value=\"\">%s</option>", T(p, "— 请选择 —", "— choose —"));
    }
    int curv = cur ? sj_enum_value(f, cur) : 0;
    for (int v = 1; v <= sj_enum_count(f); v++) {
        sj_buf_addf(&p->b, "<option value=\"%s\"%s>", sj_enum_name(f, v),
                    v == curv ? " selected" : "");
        sj_buf_esc(&p->b, sj_enum_label(f, v, p->lang));
        sj_buf_add(&p->b, "</option>");
    }
    sj_buf_add(&p->b, "</select>");
}

static void
s_label(s_page_t *p, int af, int bad, const char *why, const char *wide)
{
    sj_buf_addf(&p->b, "<div class=\"%s%s\"><label for=\"%s\">%s</label>", wide ? wide : "",
                bad ? " bad" : "", s_fields[af].name, T(p, s_fields[af].zh, s_fields[af].en));
    if (bad) {
        sj_buf_addf(&p->b, "<span class=\"err\" id=\"err-%s\" role=\"alert\">", s_fields[af].name);
        sj_buf_esc(&p->b, s_field_zh(af));
        sj_buf_add(&p->b, " / ");
        sj_buf_esc(&p->b, why);
        sj_buf_add(&p->b, "</span>");
    }
}

static void
s_text_input(s_page_t *p, int af, const char *type, const char *val, const char *extra)
{
    sj_buf_addf(&p->b, "<input type=\"%s\" id=\"%s\" name=\"%s\" value=\"", type, s_fields[af].name,
                s_fields[af].name);
    sj_buf_esc(&p->b, val);
    sj_buf_addf(&p->b, "\"%s></div>", extra ? extra : "");
}

/* The form; f holds the values to show again (after a refusal), bad the
 * field refused (-1: none) and why its reason. */
static void
s_record_form(sj_http_req_t *req, s_page_t *p, const char *const *f, int bad, const char *why)
{
    char today[11], key[SJ_UUID_TEXT];
    sj_date_today(today);
    if (f[AF_ID]) {
        snprintf(key, sizeof key, "%s", f[AF_ID]);
    } else {
        uint8_t id[SJ_ID_BYTES];
        sj_uuid7_new(id);
        sj_uuid_format(id, key);
    }
    s_head(p, "记录", "Record", 0);
    sj_buf_addf(&p->b, "<h1>%s</h1>", T(p, "登记一件信访事项", "Record one matter"));
    if (bad >= 0) {
        sj_buf_addf(&p->b, "<p class=\"err\">%s</p>",
                    "未保存：请改正标红的项目。/ Not stored: correct the field marked in red.");
    }
    sj_buf_add(&p->b, "<form class=\"record\" method=\"post\" action=\"/record\">");
    s_hidden(p, req);
    sj_buf_add(&p->b, "<input type=\"hidden\" name=\"key\" value=\"");
    sj_buf_esc(&p->b, key);
    sj_buf_add(&p->b, "\">");
    s_label(p, AF_OCCURRED, bad == AF_OCCURRED, why, NULL);
    /* YYYY-MM-DD in every language (common/web/date.js: placeholder, a real
     * day, not after data-max); the server checks again */
    char max[300];
    snprintf(max, sizeof max,
             " data-date data-max=\"%s\" inputmode=\"numeric\""
             " pattern=\"[0-9]{4}-[0-9]{2}-[0-9]{2}\" maxlength=\"10\" autocomplete=\"off\""
             " placeholder=\"%s\" required",
             today, T(p, "年-月-日", "YYYY-MM-DD"));
    s_text_input(p, AF_OCCURRED, "text", f[AF_OCCURRED] ? f[AF_OCCURRED] : today, max);
    s_label(p, AF_CHANNEL, bad == AF_CHANNEL, why, NULL);
    s_select(p, AF_CHANNEL, SJ_FIELD_CHANNEL, f[AF_CHANNEL], 1);
    sj_buf_add(&p->b, "</div>");
    s_label(p, AF_PERSONS, bad == AF_PERSONS || bad == AF_KIND, why, NULL);
    s_text_input(p, AF_PERSONS, "number", f[AF_PERSONS] ? f[AF_PERSONS] : "1",
                 " min=\"1\" max=\"100000\" required");
    sj_buf_addf(&p->b,
                "<div><label>%s</label><span id=\"kind-shown\" data-individual=\"%s\""
                " data-collective=\"%s\">%s</span> <span class=\"hint\">%s</span></div>",
                T(p, "类别（按人数自动）", "Kind (from persons)"),
                sj_enum_label(SJ_FIELD_KIND, 1, p->lang), sj_enum_label(SJ_FIELD_KIND, 2, p->lang),
                sj_enum_label(SJ_FIELD_KIND, 1, p->lang),
                T(p, "个体访1至4人，集体访5人以上", "individual 1-4, collective 5 or more"));
    s_label(p, AF_LEVEL, bad == AF_LEVEL, why, NULL);
    s_select(p, AF_LEVEL, SJ_FIELD_LEVEL, f[AF_LEVEL], 1);
    sj_buf_add(&p->b, "</div>");
    s_label(p, AF_CATEGORY, bad == AF_CATEGORY, why, NULL);
    s_select(p, AF_CATEGORY, SJ_FIELD_CATEGORY, f[AF_CATEGORY] ? f[AF_CATEGORY] : "other", 0);
    sj_buf_add(&p->b, "</div>");
    s_label(p, AF_SOURCE, bad == AF_SOURCE, why, NULL);
    s_select(p, AF_SOURCE, SJ_FIELD_SOURCE, f[AF_SOURCE], 0);
    sj_buf_add(&p->b, "</div>");
    s_label(p, AF_OUTCOME, bad == AF_OUTCOME, why, NULL);
    s_select(p, AF_OUTCOME, SJ_FIELD_OUTCOME, f[AF_OUTCOME], 0);
    sj_buf_add(&p->b, "</div>");
    s_label(p, AF_SUMMARY, bad == AF_SUMMARY, why, " wide");
    sj_buf_addf(&p->b, "<textarea id=\"summary\" name=\"summary\" required data-max=\"%d\">",
                SJ_MAX_SUMMARY_BYTES / 3);
    sj_buf_esc(&p->b, f[AF_SUMMARY]);
    sj_buf_addf(&p->b, "</textarea><span id=\"summary-count\" class=\"hint\"></span></div>");
    s_label(p, AF_OFFICER, bad == AF_OFFICER, why, NULL);
    s_text_input(p, AF_OFFICER, "text", f[AF_OFFICER], " maxlength=\"40\"");
    sj_buf_addf(
        &p->b, "<div><p class=\"hint\">%s</p></div>",
        T(p, "以下个人信息加密后只有县里能看", "Personal data below is sealed to the county"));
    for (int af = AF_PET_NAME; af <= AF_PET_ADDRESS; af++) {
        s_label(p, af, bad == af, why, NULL);
        s_text_input(p, af, "text", f[af], NULL);
    }
    sj_buf_addf(&p->b, "<div class=\"wide\"><button type=\"submit\" id=\"save\">%s</button></div>",
                T(p, "保存", "Save"));
    sj_buf_add(&p->b, "</form>");
    s_send(req, p, bad >= 0 ? 400 : 200);
}

static void
s_record_post(s_ctx_t *c, sj_http_req_t *req, s_page_t *p)
{
    const sj_form_t *form = sj_http_req_form(req);
    const char *f[AF_COUNT];
    for (int i = 0; i < AF_COUNT; i++) {
        f[i] = sj_form_val(form, s_fields[i].name);
    }
    f[AF_KIND] = NULL; /* derived from persons, never typed */
    char why[400] = "", err[300] = "";
    int field = -1;
    sj_event_t *ev = calloc(1, sizeof *ev);
    if (!ev) {
        sj_http_reply_error(req, 500, "out of memory");
        return;
    }
    if (!f[AF_ID]) {
        field = AF_ID;
        snprintf(why, sizeof why, "the form has no key; open the page again");
    } else if (agent_report_prepare(c->o, f, ev, &field, why, sizeof why) == SJ_OK) {
        agent_store_t *st = s_store(c, SJ_DB_WRITE, err, sizeof err);
        if (!st) {
            free(ev);
            s_store_error(req, p, err);
            return;
        }
        int dup = 0;
        uint64_t num = 0;
        int rc = agent_report_store(st, ev, &dup, &num);
        agent_store_close(&st);
        free(ev);
        if (rc != SJ_OK) {
            s_store_error(req, p, sj_strerror(rc));
            return;
        }
        if (!dup) {
            sj_notice("page: stored report %" PRIu64 " (%s)", num, f[AF_ID]);
        }
        char loc[160];
        snprintf(loc, sizeof loc, "/matter?id=%s&saved=1%s", f[AF_ID],
                 p->lang == SJ_LANG_EN ? "&lang=en" : "");
        sj_http_reply_redirect(req, loc);
        return;
    }
    free(ev);
    s_record_form(req, p, f, field, why);
}

/* ---- 发送情况 ---- */

typedef struct {
    s_page_t *p;
    char **rows; /* each row's HTML, in report-number order */
    size_t n, cap;
    const uint8_t *want; /* /matter: only this id */
    int found;
    sj_event_t *rep;         /* /matter: a copy of the report itself (caller's) */
    int have_rep;            /* rep was found */
    agent_state_t rep_state; /* its state */
} s_list_t;

static int
s_outbox_row(void *ctx, const agent_outbox_row_t *row)
{
    s_list_t *l = ctx;
    s_page_t *p = l->p;
    if (l->want && memcmp(l->want, row->id, SJ_ID_BYTES) != 0) {
        if (!(row->ev && row->ev->type == SJ_EVENT_STATUS
              && memcmp(row->ev->case_id, l->want, SJ_ID_BYTES) == 0)) {
            return 0;
        }
    }
    if (l->rep && row->ev && row->ev->type == SJ_EVENT_REPORT) {
        *l->rep = *row->ev;
        l->rep->report.summary = l->rep->summary;
        l->rep->report.officer = l->rep->officer;
        l->have_rep = 1;
        l->rep_state = row->state;
    }
    sj_buf_t b = {0};
    char id[SJ_UUID_TEXT];
    sj_uuid_format(row->id, id);
    sj_buf_addf(&b, "<tr class=\"state-%s\"><td>%" PRIu64 "</td><td><a href=\"/matter?id=%s%s\">",
                agent_state_name(row->state), row->seq, id,
                p->lang == SJ_LANG_EN ? "&lang=en" : "");
    sj_buf_addf(&b, "%s</a></td><td class=\"state\">%s", id + 28, s_state_zh(row->state, p->lang));
    if (row->reason && row->reason[0]) {
        sj_buf_add(&b, "：");
        sj_buf_esc(&b, row->reason);
    }
    sj_buf_add(&b, "</td>");
    if (!row->ev) {
        sj_buf_add(&b, "<td></td><td></td><td></td><td>");
        sj_buf_esc(&b, row->unreadable);
    } else if (row->ev->type == SJ_EVENT_STATUS) {
        char cid[SJ_UUID_TEXT];
        sj_uuid_format(row->ev->case_id, cid);
        sj_buf_add(&b, "<td></td><td></td><td></td><td>");
        sj_buf_addf(&b, "%s %s → ", T(p, "状态变更", "status change"), cid + 28);
        sj_buf_esc(&b, sj_enum_label(SJ_FIELD_OUTCOME, row->ev->new_outcome, p->lang));
        if (row->ev->note[0]) {
            sj_buf_add(&b, "：");
            sj_buf_esc(&b, row->ev->note);
        }
    } else {
        const sj_report_t *r = &row->ev->report;
        sj_buf_addf(&b, "<td>%s</td><td>", r->occurred_on);
        sj_buf_esc(&b, sj_enum_label(SJ_FIELD_CHANNEL, r->channel, p->lang));
        sj_buf_addf(&b, " %u%s</td><td>", r->persons, T(p, "人", ""));
        sj_buf_esc(&b, sj_enum_label(SJ_FIELD_LEVEL, r->level, p->lang));
        sj_buf_add(&b, "</td><td class=\"summary\">");
        if (row->voided || row->corrected) { /* issue 15 */
            sj_buf_addf(&b, "<span class=\"badge\">%s</span> ",
                        row->voided ? T(p, "作废", "voided") : T(p, "已更正", "corrected"));
        }
        sj_buf_esc(&b, r->summary);
    }
    sj_buf_add(&b, "</td></tr>");
    if (b.oom
        || (l->n == l->cap
            && !(l->rows = realloc(l->rows, (l->cap = l->cap * 2 + 16) * sizeof *l->rows)))) {
        sj_buf_free(&b);
        return SJ_ENOMEM;
    }
    l->rows[l->n++] = b.p;
    l->found = 1;
    return 0;
}

static void
s_rows_free(s_list_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->rows[i]);
    }
    free(l->rows);
}

/* A wall-clock time in ms as local "YYYY-MM-DD HH:MM:SS" ("" for 0). */
static void
s_when(int64_t ms, char *out, size_t size)
{
    time_t t = (time_t) (ms / 1000);
    struct tm tm;
    out[0] = '\0';
    if (ms > 0 && localtime_r(&t, &tm)) {
        strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm);
    }
}

/* The hub link as `run` last recorded it (agent_link), and whether it runs. */
static void
s_link_state(s_ctx_t *c, s_page_t *p)
{
    agent_link_t l;
    agent_link_read(c->o->data, &l);
    char since[32], contact[32];
    s_when(l.since_ms, since, sizeof since);
    s_when(l.contact_ms, contact, sizeof contact);
    int zh = p->lang != SJ_LANG_EN;
    const char *cls = l.running && l.state == AGENT_LINK_CONNECTED ? "ok" : "err";
    sj_buf_addf(&p->b, "<p id=\"link-state\" class=\"%s\" data-state=\"%s\">", cls,
                l.running ? "running" : "not-running");
    if (!l.running) {
        sj_buf_addf(
            &p->b, "%s",
            T(p, "后台发送服务未运行（village-agent run）", "not running (village-agent run)"));
        if (l.state != AGENT_LINK_NONE) {
            sj_buf_addf(&p->b, " · %s %s %s", T(p, "最后状态：", "last state:"),
                        agent_link_words(l.state, zh), since);
        }
    } else if (l.state == AGENT_LINK_NONE) {
        sj_buf_addf(&p->b, "%s", T(p, "后台发送服务正在启动", "the service is starting"));
    } else {
        sj_buf_addf(&p->b, "%s %s %s", agent_link_words(l.state, zh), T(p, "自", "since"), since);
    }
    sj_buf_add(&p->b, "</p><p id=\"link-detail\">");
    sj_buf_addf(&p->b, "%s %s", T(p, "最后联系：", "last contact:"),
                contact[0] ? contact : T(p, "从未", "never"));
    if (l.error[0] && l.state != AGENT_LINK_CONNECTED) {
        sj_buf_addf(&p->b, " · %s <span id=\"link-why\">", T(p, "原因：", "why:"));
        sj_buf_esc(&p->b, l.error);
        sj_buf_add(&p->b, "</span>");
    }
    sj_buf_add(&p->b, "</p>");
}

/* Links to the outbox's pages: newer, the page numbers (at most 9 around
 * this one, and the first and last), older. Plain links: Tab and Enter. */
static void
s_pager(s_page_t *p, int64_t page, int64_t pages)
{
    if (pages <= 1) {
        return;
    }
    const char *amp = p->lang == SJ_LANG_EN ? "&amp;lang=en" : "";
    sj_buf_addf(&p->b, "<nav class=\"pages\" aria-label=\"%s\">", T(p, "分页", "pages"));
    if (page > 1) {
        sj_buf_addf(&p->b, "<a id=\"newer\" rel=\"prev\" href=\"/outbox?page=%lld%s\">%s</a> ",
                    (long long) (page - 1), amp, T(p, "« 较新", "« newer"));
    }
    for (int64_t i = 1; i <= pages; i++) {
        if (i != 1 && i != pages && (i < page - 4 || i > page + 4)) {
            if (i == page - 5 || i == page + 5) {
                sj_buf_add(&p->b, "… ");
            }
            continue;
        }
        if (i == page) {
            sj_buf_addf(&p->b, "<strong aria-current=\"page\">%lld</strong> ", (long long) i);
        } else {
            sj_buf_addf(&p->b, "<a href=\"/outbox?page=%lld%s\">%lld</a> ", (long long) i, amp,
                        (long long) i);
        }
    }
    if (page < pages) {
        sj_buf_addf(&p->b, "<a id=\"older\" rel=\"next\" href=\"/outbox?page=%lld%s\">%s</a>",
                    (long long) (page + 1), amp, T(p, "较早 »", "older »"));
    }
    sj_buf_add(&p->b, "</nav>");
}

static void
s_outbox(s_ctx_t *c, sj_http_req_t *req, s_page_t *p, const char *page_arg)
{
    char err[300] = "";
    agent_store_t *st = s_store(c, SJ_DB_READ, err, sizeof err);
    if (!st) {
        s_store_error(req, p, err);
        return;
    }
    s_list_t l = {.p = p};
    agent_counts_t n = {0};
    int rc = agent_store_counts(st, &n);
    int64_t pages =
        n.total ? (int64_t) ((n.total + AGENT_WEB_PAGE_ROWS - 1) / AGENT_WEB_PAGE_ROWS) : 1;
    char *end = NULL;
    long long page = page_arg ? strtoll(page_arg, &end, 10) : 1;
    if (page_arg && (end == page_arg || *end || page < 1)) {
        page = 1;
    }
    page = page > pages ? pages : page;
    if (rc == SJ_OK) {
        rc = agent_store_outbox_newest(st, (page - 1) * AGENT_WEB_PAGE_ROWS, AGENT_WEB_PAGE_ROWS,
                                       s_outbox_row, &l);
    }
    agent_store_close(&st);
    s_head(p, "发送情况", "Outbox", 0);
    sj_buf_addf(&p->b, "<h1>%s</h1>", T(p, "发送情况", "Outbox"));
    sj_buf_addf(&p->b,
                "<p id=\"counts\">%s %" PRIu64 " · %s %" PRIu64 " · %s %" PRIu64 " · %s %" PRIu64
                " · %s %" PRIu64 "</p>",
                T(p, "共", "total"), n.total, T(p, "待发送", "queued"), n.queued,
                T(p, "已到乡镇", "at the township"), n.at_hub, T(p, "县已收到", "at the county"),
                n.at_county, T(p, "被退回", "rejected"), n.rejected);
    s_link_state(c, p);
    if (!c->o->hub) {
        sj_buf_addf(&p->b, "<p class=\"hint\" id=\"link\">%s</p>",
                    T(p, "本页不连接乡镇；由后台服务（village-agent run）发送。",
                      "This page does not connect to the township; the running service"
                      " (village-agent run) delivers."));
    } else {
        sj_buf_addf(&p->b, "<p id=\"link\">%s ", T(p, "乡镇：", "Township hub:"));
        sj_buf_esc(&p->b, c->o->hub);
        if (c->tried_ms) {
            static const char *const zh[] = {"已送达", "未连上乡镇", "乡镇拒绝了本站", ""};
            static const char *const en[] = {"delivered", "the hub was not reached",
                                             "the hub refused this station", ""};
            char when[32];
            s_when(c->tried_ms, when, sizeof when);
            sj_buf_addf(&p->b, " · %s %s: <span class=\"%s\">%s</span>",
                        T(p, "上次发送", "last attempt"), when,
                        c->tried_rc == AGENT_DELIVER_DONE ? "ok" : "err",
                        p->lang == SJ_LANG_EN ? en[c->tried_rc & 3] : zh[c->tried_rc & 3]);
        }
        sj_buf_add(&p->b, "</p><form method=\"post\" action=\"/deliver\">");
        s_hidden(p, req);
        sj_buf_addf(&p->b, "<button type=\"submit\" id=\"deliver\">%s</button></form>",
                    T(p, "立即发送", "Deliver now"));
    }
    sj_buf_addf(&p->b,
                "<table id=\"outbox\" data-page=\"%lld\" data-pages=\"%lld\"><thead><tr>"
                "<th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
                "<th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
                page, (long long) pages, T(p, "序号", "No."), T(p, "编号", "Id"),
                T(p, "状态", "State"), T(p, "日期", "Date"), T(p, "渠道", "Channel"),
                T(p, "层级", "Level"), T(p, "摘要", "Summary"));
    for (size_t i = 0; i < l.n; i++) {
        sj_buf_add(&p->b, l.rows[i]);
    }
    sj_buf_add(&p->b, "</tbody></table>");
    s_pager(p, page, pages);
    if (rc != SJ_OK) {
        sj_buf_addf(&p->b, "<p class=\"err\">%s</p>", "读取出错 / cannot read the outbox");
    }
    s_rows_free(&l);
    free(l.rep);
    s_send(req, p, 200);
}

static void
s_deliver_post(s_ctx_t *c, sj_http_req_t *req, s_page_t *p)
{
    char err[300] = "";
    agent_store_t *st = s_store(c, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        s_store_error(req, p, err);
        return;
    }
    c->tried_rc = agent_deliver_now(st, c->o, 10);
    c->tried_ms = sj_now_ms();
    agent_store_close(&st);
    sj_http_reply_redirect(req, p->lang == SJ_LANG_EN ? "/outbox?lang=en" : "/outbox");
}

/* ---- 交办 ---- */

typedef struct {
    s_page_t *p;
    sj_http_req_t *req;
    size_t n, open, unread;
    const uint8_t *want;          /* /case: only this case */
    const sj_places_map_t *names; /* place names (issue 15) */
} s_inbox_t;

static void
s_change_form(s_inbox_t *x, const char *cid, int to, const char *zh, const char *en)
{
    s_page_t *p = x->p;
    uint8_t k[16];
    char key[SJ_UUID_TEXT];
    sj_uuid7_new(k);
    sj_uuid_format(k, key);
    sj_buf_add(&p->b, "<form method=\"post\" action=\"/update\">");
    s_hidden(p, x->req);
    sj_buf_addf(&p->b,
                "<input type=\"hidden\" name=\"key\" value=\"%s\"><input type=\"hidden\""
                " name=\"id\" value=\"%s\"><input type=\"hidden\" name=\"outcome\" value=\"%s\">"
                "<input type=\"text\" name=\"note\" placeholder=\"%s\" aria-label=\"%s\">",
                key, cid, sj_enum_name(SJ_FIELD_OUTCOME, to), T(p, "说明", "note"),
                T(p, "说明", "note"));
    if (to == 4 || to == 2) { /* a conclusion: the petitioner's evaluation (issue 16) */
        sj_buf_addf(
            &p->b, "<select name=\"satisfaction\" aria-label=\"%s\"><option value=\"\">%s</option>",
            T(p, "满意度", "satisfaction"), T(p, "满意度…", "satisfaction…"));
        for (int v = 1; v <= SJ_SATISFACTION_COUNT; v++) {
            sj_buf_addf(&p->b, "<option value=\"%s\">%s</option>", sj_satisfaction_name(v),
                        sj_satisfaction_label(v, p->lang));
        }
        sj_buf_add(&p->b, "</select>");
    }
    sj_buf_addf(&p->b, "<button type=\"submit\" class=\"to-%s\">%s</button></form>",
                sj_enum_name(SJ_FIELD_OUTCOME, to), T(p, zh, en));
}

/* Issue 16: the statutory stage running under the 交办 due date: "办结期限
 * 2027-01-30 · 剩12天" (docs/CLOCK.md). */
static void
s_clock_line(s_page_t *p, const agent_inbox_row_t *r)
{
    int k = r->has_clock ? r->clock.running : SJ_STAGE_NONE;
    if (k == SJ_STAGE_NONE) {
        return;
    }
    const sj_stage_clock_t *sc = &r->clock.st[k];
    static const char *const zh[] = {"", "受理告知期限", "办结期限", "复查期限"};
    static const char *const en[] = {"", "acceptance due", "conclusion due", "review due"};
    sj_buf_addf(&p->b, "<br><span class=\"clock%s\" data-stage=\"%s\">%s %s · ",
                sc->overdue ? " late" : "", sj_stage_name(k), T(p, zh[k], en[k]), sc->due);
    if (sc->left < 0) {
        sj_buf_addf(&p->b, T(p, "已超期%lld天", "%lld days overdue"), (long long) -sc->left);
    } else {
        sj_buf_addf(&p->b, T(p, "剩%lld天", "%lld days left"), (long long) sc->left);
    }
    sj_buf_add(&p->b, "</span>");
}

static int
s_inbox_row(void *ctx, const agent_inbox_row_t *r)
{
    s_inbox_t *x = ctx;
    s_page_t *p = x->p;
    if (x->want && memcmp(x->want, r->case_id, SJ_ID_BYTES) != 0) {
        return 0;
    }
    char cid[SJ_UUID_TEXT];
    sj_uuid_format(r->case_id, cid);
    int open = sj_outcome_is_open(r->outcome);
    x->n++;
    x->open += open ? 1 : 0;
    x->unread += r->unread ? 1 : 0;
    sj_buf_addf(&p->b, "<tr id=\"case-%s\" class=\"%s%s\"><td class=\"due\">", cid,
                r->overdue ? "overdue" : "", r->unread ? " new" : "");
    if (r->unread) {
        sj_buf_addf(&p->b, "<span class=\"badge\">%s</span> ", T(p, "新", "new"));
    }
    sj_buf_addf(&p->b, "%s<br>", r->due_on);
    if (open && r->days_left < 0) {
        sj_buf_addf(&p->b, T(p, "已超期%" PRId64 "天", "%" PRId64 " days overdue"), -r->days_left);
    } else if (open) {
        sj_buf_addf(&p->b, T(p, "剩%" PRId64 "天", "%" PRId64 " days left"), r->days_left);
    }
    s_clock_line(p, r);
    sj_buf_add(&p->b, "</td><td class=\"outcome\">");
    sj_buf_esc(&p->b, sj_enum_label(SJ_FIELD_OUTCOME, r->outcome, p->lang));
    sj_buf_add(&p->b, "</td><td>");
    char by[SJ_CODE_MAX + SJ_PLACE_NAME_MAX + 2];
    sj_buf_esc(&p->b, sj_places_label(x->names, r->assigned_by, by, sizeof by));
    sj_buf_add(&p->b, "</td><td>");
    sj_buf_esc(&p->b, r->note);
    sj_buf_add(&p->b, "</td><td class=\"summary\">");
    if (r->voided || r->corrected) { /* issue 15: this station's own fixes */
        sj_buf_addf(&p->b, "<span class=\"badge\">%s</span> ",
                    r->voided ? T(p, "作废", "voided") : T(p, "已更正", "corrected"));
    }
    sj_buf_esc(&p->b, r->summary);
    sj_buf_addf(&p->b, " <a class=\"open\" href=\"/case?id=%s%s\">%s</a>", cid,
                p->lang == SJ_LANG_EN ? "&lang=en" : "", T(p, "查看", "open"));
    sj_buf_add(&p->b, "</td><td>");
    if (r->outcome == 1) {
        s_change_form(x, cid, 3, "受理", "accept");
    }
    if (r->outcome == 3) {
        s_change_form(x, cid, 4, "办结", "conclude");
    }
    if (open) {
        s_change_form(x, cid, 5, "撤回", "withdraw");
    }
    sj_buf_add(&p->b, "</td></tr>");
    return 0;
}

/* The inbox; with want (/case) only that case, marked opened first. */
static void
s_inbox(s_ctx_t *c, sj_http_req_t *req, s_page_t *p, const char *msg, const uint8_t *want)
{
    char err[300] = "";
    agent_store_t *st = s_store(c, want ? SJ_DB_WRITE : SJ_DB_READ, err, sizeof err);
    if (!st) {
        s_store_error(req, p, err);
        return;
    }
    int rc = want ? agent_store_inbox_seen(st, want, sj_now_ms()) : SJ_OK;
    s_page_t body = {.lang = p->lang, .lq = p->lq};
    sj_places_map_t *names = sj_places_map_load(agent_store_db(st));
    s_inbox_t x = {.p = &body, .req = req, .want = want, .names = names};
    if (rc == SJ_OK) {
        rc = agent_store_inbox(st, 0, s_inbox_row, &x);
    }
    sj_places_map_free(&names);
    agent_store_close(&st);
    s_head(p, "交办", "Assigned", (int) x.unread);
    sj_buf_addf(&p->b, "<h1>%s</h1>", T(p, "交办事项", "Assigned cases"));
    if (msg) {
        sj_buf_add(&p->b, "<p class=\"err\" role=\"alert\">");
        sj_buf_esc(&p->b, msg);
        sj_buf_add(&p->b, "</p>");
    }
    char today[11];
    sj_date_today(today);
    sj_buf_addf(&p->b, "<p id=\"inbox-counts\">%s %s · %s %zu · %s %zu · %s %zu</p>",
                T(p, "今天", "today"), today, T(p, "共", "total"), x.n, T(p, "未办结", "open"),
                x.open, T(p, "新", "new"), x.unread);
    sj_buf_addf(&p->b,
                "<table id=\"inbox\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
                "<th>%s</th><th>%s</th></tr></thead><tbody>",
                T(p, "期限", "Due"), T(p, "状态", "State"), T(p, "交办单位", "Assigned by"),
                T(p, "要求", "Asked"), T(p, "事由", "Summary"), T(p, "办理", "Action"));
    sj_buf_add(&p->b, body.b.p ? body.b.p : "");
    sj_buf_add(&p->b, "</tbody></table>");
    if (rc != SJ_OK || body.b.oom) {
        sj_buf_addf(&p->b, "<p class=\"err\">%s</p>", "读取出错 / cannot read the inbox");
    }
    sj_buf_free(&body.b);
    s_send(req, p, msg ? 400 : 200);
}

static void
s_update_post(s_ctx_t *c, sj_http_req_t *req, s_page_t *p)
{
    const sj_form_t *form = sj_http_req_form(req);
    const char *key = sj_form_val(form, "key");
    char loc[SJ_HTTP_ONCE_LEN];
    snprintf(loc, sizeof loc, "/inbox%s", p->lang == SJ_LANG_EN ? "?lang=en" : "");
    char err[300] = "", why[400] = "";
    agent_store_t *st = s_store(c, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        s_store_error(req, p, err);
        return;
    }
    /* a form key acted on (kept in the store: also before a restart) */
    if (key && agent_store_desk_form_get(st, key, loc, sizeof loc) == SJ_OK) {
        agent_store_close(&st);
        sj_http_reply_redirect(req, loc); /* done already: nothing more */
        return;
    }
    sj_event_t *ev = calloc(1, sizeof *ev);
    uint64_t num = 0;
    sj_update_result_t res;
    int rc = ev ? agent_change_store(st, sj_form_val(form, "id"), sj_form_val(form, "outcome"),
                                     sj_form_val(form, "satisfaction"), sj_form_val(form, "note"),
                                     sj_form_val(form, "officer"), ev, &num, &res, why, sizeof why)
                : SJ_ENOMEM;
    if (rc == SJ_OK && key
        && agent_store_desk_form_put(st, key, loc, sj_now_ms(), S_FORM_KEEP_MS) != SJ_OK) {
        sj_warn("page: the form key of change %" PRIu64 " was not kept", num);
    }
    agent_store_close(&st);
    free(ev);
    if (rc != SJ_OK) {
        char msg[600];
        snprintf(msg, sizeof msg, "未保存：此变更不被允许。/ Not stored: %s", why);
        s_inbox(c, req, p, msg, NULL);
        return;
    }
    sj_notice("page: stored change %" PRIu64, num);
    sj_http_reply_redirect(req, loc);
}

/* ---- one matter ---- */

static void
s_sheet_row(s_page_t *p, const char *zh, const char *en, const char *value)
{
    sj_buf_addf(&p->b, "<tr><th>%s</th><td>", T(p, zh, en));
    sj_buf_esc(&p->b, value);
    sj_buf_add(&p->b, "</td></tr>");
}

/* Everything the report recorded, as the 登记表 prints it. */
static void
s_sheet(s_page_t *p, const sj_event_t *ev, agent_state_t state)
{
    const sj_report_t *r = &ev->report;
    char persons[16];
    snprintf(persons, sizeof persons, "%u", r->persons);
    sj_buf_add(&p->b, "<table class=\"sheet\" id=\"sheet\"><tbody>");
    s_sheet_row(p, "日期", "Date", r->occurred_on);
    s_sheet_row(p, "渠道", "Channel", sj_enum_label(SJ_FIELD_CHANNEL, r->channel, p->lang));
    s_sheet_row(p, "类别", "Kind", sj_enum_label(SJ_FIELD_KIND, r->kind, p->lang));
    s_sheet_row(p, "人数", "Persons", persons);
    s_sheet_row(p, "层级", "Level", sj_enum_label(SJ_FIELD_LEVEL, r->level, p->lang));
    s_sheet_row(p, "问题类型", "Category", sj_enum_label(SJ_FIELD_CATEGORY, r->category, p->lang));
    s_sheet_row(p, "来源", "Source", sj_enum_label(SJ_FIELD_SOURCE, r->source, p->lang));
    s_sheet_row(p, "登记时结果", "Outcome at entry",
                sj_enum_label(SJ_FIELD_OUTCOME, r->outcome, p->lang));
    s_sheet_row(p, "事由摘要", "Summary", ev->summary);
    s_sheet_row(p, "信息员", "Officer", ev->officer);
    s_sheet_row(p, "个人信息", "Personal data",
                ev->sealed_len ? T(p, "已加密，只有县里能看", "sealed to the county")
                               : T(p, "无", "none"));
    s_sheet_row(p, "发送状态", "Delivery", s_state_zh(state, p->lang));
    sj_buf_add(&p->b, "</tbody></table>");
}

static void
s_matter(s_ctx_t *c, sj_http_req_t *req, s_page_t *p, const char *id_text, int saved)
{
    uint8_t id[SJ_ID_BYTES];
    if (!id_text || sj_uuid_parse(id_text, id) != SJ_OK) {
        s_head(p, "出错", "Error", 0);
        sj_buf_add(&p->b, "<p class=\"err\">编号有误 / not a matter's id</p>");
        s_send(req, p, 404);
        return;
    }
    char err[300] = "";
    agent_store_t *st = s_store(c, SJ_DB_READ, err, sizeof err);
    if (!st) {
        s_store_error(req, p, err);
        return;
    }
    /* The report itself, then every change of it the station made. */
    s_list_t l = {.p = p, .want = id, .rep = calloc(1, sizeof(sj_event_t))};
    int rc = l.rep ? agent_store_outbox(st, s_outbox_row, &l) : SJ_ENOMEM;
    agent_store_close(&st);
    s_head(p, "登记表", "Matter", 0);
    if (saved) {
        sj_buf_addf(&p->b, "<p class=\"ok\" id=\"saved\">%s</p>",
                    "已保存，等待发送。/ Stored; it will be delivered.");
    }
    sj_buf_addf(&p->b, "<h1>%s</h1>", T(p, "信访事项登记表", "Matter record"));
    if (!l.found || rc != SJ_OK) {
        sj_buf_add(&p->b, "<p class=\"err\">本站没有这件事项 / no such matter at this station</p>");
        s_rows_free(&l);
        free(l.rep);
        s_send(req, p, 404);
        return;
    }
    sj_buf_addf(&p->b, "<p>%s <code>", T(p, "编号", "Id"));
    sj_buf_esc(&p->b, id_text);
    sj_buf_addf(&p->b,
                "</code> <button id=\"print\" class=\"noprint\" type=\"button\">%s</button></p>",
                T(p, "打印", "Print"));
    if (l.have_rep) {
        s_sheet(p, l.rep, l.rep_state);
    }
    sj_buf_addf(&p->b, "<h2>%s</h2>", T(p, "发送与变更记录", "Delivery and changes"));
    sj_buf_addf(&p->b,
                "<table class=\"sheet\" id=\"matter\"><thead><tr><th>%s</th><th>%s</th>"
                "<th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
                T(p, "序号", "No."), T(p, "编号", "Id"), T(p, "状态", "State"),
                T(p, "日期", "Date"), T(p, "渠道", "Channel"), T(p, "层级", "Level"),
                T(p, "摘要 / 变更", "Summary / change"));
    for (size_t i = 0; i < l.n; i++) {
        sj_buf_add(&p->b, l.rows[i]);
    }
    sj_buf_add(&p->b, "</tbody></table>");
    sj_buf_addf(&p->b, "<p class=\"hint\">%s</p>",
                T(p, "信息员签字：____________　　日期：____________",
                  "Officer's signature: ____________   Date: ____________"));
    s_rows_free(&l);
    free(l.rep);
    s_send(req, p, 200);
}

/* ---- login (only with --password-file) ---- */

static void
s_sid_hash(sj_http_req_t *req, uint8_t out[32])
{
    const char *sid = sj_http_req_session(req);
    crypto_generichash(out, 32, (const unsigned char *) sid, strlen(sid), NULL, 0);
}

/* 1 when the request's session has logged in and not expired. */
/* Writes a session (since 0: drops it) in the store, so that it outlives
 * a restart of serve. A failure is logged: the session still works until
 * then. */
static void
s_session_keep(s_ctx_t *c, const uint8_t sid_hash[32], int64_t since_ms, int64_t seen_ms)
{
    char err[300] = "";
    agent_store_t *st = s_store(c, SJ_DB_WRITE, err, sizeof err);
    int rc = !st             ? SJ_EIO
             : since_ms == 0 ? agent_store_desk_session_drop(st, sid_hash)
                             : agent_store_desk_session_put(st, sid_hash, since_ms, seen_ms);
    agent_store_close(&st);
    if (rc != SJ_OK) {
        sj_warn("page: the login was not kept in the store (%s)", err[0] ? err : sj_strerror(rc));
    }
}

static int
s_logged_in(s_ctx_t *c, sj_http_req_t *req)
{
    uint8_t h[32];
    s_sid_hash(req, h);
    int64_t now = sj_now_ms();
    for (int i = 0; i < S_SESSIONS; i++) {
        if (c->sessions[i].since_ms && sodium_memcmp(c->sessions[i].sid_hash, h, 32) == 0) {
            if (now - c->sessions[i].seen_ms > S_SESSION_IDLE_MS
                || now - c->sessions[i].since_ms > S_SESSION_MAX_MS) {
                memset(&c->sessions[i], 0, sizeof c->sessions[i]);
                s_session_keep(c, h, 0, 0);
                return 0;
            }
            c->sessions[i].seen_ms = now;
            if (now - c->sessions[i].kept_ms >= S_SEEN_KEEP_MS) {
                c->sessions[i].kept_ms = now;
                s_session_keep(c, h, c->sessions[i].since_ms, now);
            }
            return 1;
        }
    }
    return 0;
}

/* serve's start: the logged-in sessions kept in the store, newest first. */
static int
s_session_load(void *ctx, const uint8_t sid_hash[32], int64_t since_ms, int64_t seen_ms)
{
    s_ctx_t *c = ctx;
    for (int i = 0; i < S_SESSIONS; i++) {
        if (!c->sessions[i].since_ms) {
            memcpy(c->sessions[i].sid_hash, sid_hash, 32);
            c->sessions[i].since_ms = since_ms;
            c->sessions[i].seen_ms = c->sessions[i].kept_ms = seen_ms;
            return 0;
        }
    }
    return 0;
}

static void
s_login_form(sj_http_req_t *req, s_page_t *p, const char *msg, unsigned int status)
{
    sj_buf_t *b = &p->b;
    sj_buf_addf(b,
                "<!DOCTYPE html><html lang=\"%s\"><head><meta charset=\"utf-8\"><title>%s</title>"
                "<link rel=\"stylesheet\" href=\"/desk.css\"></head><body><main>",
                p->lang == SJ_LANG_EN ? "en" : "zh-CN", T(p, "登录 · 村信息站", "Log in"));
    sj_buf_addf(b, "<h1>%s</h1>", T(p, "村信息站 登录", "Village station: log in"));
    if (msg) {
        sj_buf_add(b, "<p class=\"err\" id=\"login-err\" role=\"alert\">");
        sj_buf_esc(b, msg);
        sj_buf_add(b, "</p>");
    }
    sj_buf_add(b, "<form method=\"post\" action=\"/login\">");
    s_hidden(p, req);
    sj_buf_addf(b,
                "<label for=\"password\">%s</label><input type=\"password\" id=\"password\""
                " name=\"password\" autofocus required autocomplete=\"current-password\">"
                "<button type=\"submit\" id=\"login\">%s</button></form>",
                T(p, "密码", "Password"), T(p, "登录", "Log in"));
    s_send(req, p, status);
}

static void
s_login_post(s_ctx_t *c, sj_http_req_t *req, s_page_t *p)
{
    int64_t now = sj_now_ms();
    if (now < c->next_try_ms) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "登录失败次数过多，请%" PRId64 "秒后再试。/ Too many failed"
                 " logins: try again in %" PRId64 " s.",
                 (c->next_try_ms - now + 999) / 1000, (c->next_try_ms - now + 999) / 1000);
        s_login_form(req, p, msg, 429);
        return;
    }
    const char *pw = sj_form_get(sj_http_req_form(req), "password");
    if (!pw || crypto_pwhash_str_verify(c->pwhash, pw, strlen(pw)) != 0) {
        c->fails++;
        int64_t wait = 2000LL << (c->fails < 6 ? c->fails - 1 : 5);
        /* from the end of this try (the hash takes its time) */
        c->next_try_ms = sj_now_ms() + (wait < S_SLOW_MAX_MS ? wait : S_SLOW_MAX_MS);
        sj_warn("page: a failed login (%d in a row)", c->fails);
        s_login_form(req, p, "密码不对。/ Wrong password.", 403);
        return;
    }
    c->fails = 0;
    c->next_try_ms = 0;
    sj_http_req_new_session(req); /* the id known before the login is worth nothing */
    int slot = 0;
    for (int i = 1; i < S_SESSIONS; i++) {
        if (c->sessions[i].seen_ms < c->sessions[slot].seen_ms) {
            slot = i;
        }
    }
    if (c->sessions[slot].since_ms) {
        s_session_keep(c, c->sessions[slot].sid_hash, 0, 0); /* the oldest goes */
    }
    s_sid_hash(req, c->sessions[slot].sid_hash);
    c->sessions[slot].since_ms = c->sessions[slot].seen_ms = c->sessions[slot].kept_ms = now;
    s_session_keep(c, c->sessions[slot].sid_hash, now, now);
    sj_notice("page: logged in");
    sj_http_reply_redirect(req, p->lang == SJ_LANG_EN ? "/record?lang=en" : "/record");
}

/* ---- routes ---- */

static void
s_route(void *ctx, sj_http_req_t *req)
{
    s_ctx_t *c = ctx;
    const char *path = sj_http_req_path(req);
    s_page_t p = {.lang = SJ_LANG_ZH, .lq = ""};
    static const char *const allowed[] = {"lang", "id", "saved", "page", NULL};
    const char *vals[5];
    char err[200];
    if (sj_http_req_args(req, allowed, vals, err, sizeof err) != SJ_OK) {
        sj_http_reply_error(req, 400, err);
        return;
    }
    const sj_form_t *form = sj_http_req_form(req);
    const char *lang = form ? sj_form_val(form, "lang") : vals[0];
    if (lang && strcmp(lang, "en") == 0) {
        p.lang = SJ_LANG_EN;
        p.lq = "lang=en";
    }
    if (c->pwhash[0]) {
        if (strcmp(path, "/login") == 0) {
            if (sj_http_req_is_post(req)) {
                s_login_post(c, req, &p);
            } else {
                s_login_form(req, &p, NULL, 200);
            }
            return;
        }
        if (!s_logged_in(c, req)) {
            if (sj_http_req_is_post(req)) {
                s_login_form(req, &p, "登录已过期，请重新登录。/ Log in again (the session ended).",
                             401);
            } else {
                sj_http_reply_redirect(req, p.lang == SJ_LANG_EN ? "/login?lang=en" : "/login");
            }
            return;
        }
    }
    if (sj_http_req_is_post(req)) {
        if (strcmp(path, "/record") == 0) {
            s_record_post(c, req, &p);
        } else if (strcmp(path, "/update") == 0) {
            s_update_post(c, req, &p);
        } else if (strcmp(path, "/deliver") == 0) {
            s_deliver_post(c, req, &p);
        } else {
            sj_http_reply_error(req, 404, "no such form");
        }
        return;
    }
    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0
        || strcmp(path, "/record") == 0) {
        const char *f[AF_COUNT] = {0};
        s_record_form(req, &p, f, -1, "");
    } else if (strcmp(path, "/outbox") == 0) {
        s_outbox(c, req, &p, vals[3]);
    } else if (strcmp(path, "/inbox") == 0) {
        s_inbox(c, req, &p, NULL, NULL);
    } else if (strcmp(path, "/case") == 0) {
        uint8_t id[SJ_ID_BYTES];
        if (!vals[1] || sj_uuid_parse(vals[1], id) != SJ_OK) {
            sj_http_reply_error(req, 404, "not a case id");
        } else {
            s_inbox(c, req, &p, NULL, id);
        }
    } else if (strcmp(path, "/matter") == 0) {
        s_matter(c, req, &p, vals[1], vals[2] != NULL);
    } else {
        sj_http_reply_error(req, 404, "no such page");
    }
}

/* Reads the hash a `passwd` wrote (0600, one line "$argon2id$..."). */
static int
s_password_load(const char *path, char *out, size_t size, char *err, size_t err_size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_size, "cannot read the password file %s: %s", path, strerror(errno));
        return SJ_EINVAL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || (st.st_mode & 077) != 0) {
        fclose(f);
        snprintf(err, err_size, "the password file %s is readable by others (chmod 600 it)", path);
        return SJ_EINVAL;
    }
    int got = fgets(out, (int) size, f) != NULL;
    fclose(f);
    size_t n = got ? strlen(out) : 0;
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r')) {
        out[--n] = '\0';
    }
    if (n == 0 || strncmp(out, "$argon2", 7) != 0) {
        snprintf(err, err_size,
                 "the password file %s holds no password hash (make it with 'village-agent"
                 " passwd --password-file %s')",
                 path, path);
        return SJ_EINVAL;
    }
    return SJ_OK;
}

int
agent_cmd_passwd(const char *path)
{
    if (!path) {
        fprintf(stderr, "village-agent: passwd needs --password-file FILE\n");
        return 2;
    }
    char pw[256] = "";
    int tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty && tcgetattr(STDIN_FILENO, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= (tcflag_t) ~ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
        fprintf(stderr, "新密码 / new password: ");
    }
    int got = fgets(pw, sizeof pw, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        fprintf(stderr, "\n");
    }
    size_t n = got ? strlen(pw) : 0;
    while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r')) {
        pw[--n] = '\0';
    }
    if (n < 8) {
        sodium_memzero(pw, sizeof pw);
        fprintf(stderr, "village-agent: 密码至少8个字符 / the password needs at least 8"
                        " characters (read from standard input)\n");
        return 2;
    }
    char hash[crypto_pwhash_STRBYTES];
    int rc = crypto_pwhash_str(hash, pw, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE);
    sodium_memzero(pw, sizeof pw);
    if (rc != 0) {
        fprintf(stderr, "village-agent: out of memory hashing the password\n");
        return 1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f || fchmod(fd, 0600) != 0 || fprintf(f, "%s\n", hash) < 0 || fflush(f) != 0
        || fsync(fd) != 0) {
        fprintf(stderr, "village-agent: cannot write %s: %s\n", path, strerror(errno));
        if (f) {
            fclose(f);
        } else if (fd >= 0) {
            close(fd);
        }
        return 1;
    }
    fclose(f);
    fprintf(stderr, "密码已设置 / password set: %s (only its hash is stored)\n", path);
    return 0;
}

int
agent_cmd_serve(const agent_opts_t *o, const char *addr, const char *password_file)
{
    char err[300] = "";
    addr = addr ? addr : AGENT_WEB_DEFAULT_ADDR;
    s_ctx_t *c = calloc(1, sizeof *c);
    if (!c) {
        return 1;
    }
    c->o = o;
    if (password_file
        && s_password_load(password_file, c->pwhash, sizeof c->pwhash, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "village-agent: %s\n", err);
        free(c);
        return 2;
    }
    if (sj_http_addr_check(addr, 1, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "village-agent: %s\n", err);
        free(c);
        return 2;
    }
    if (!password_file && sj_http_addr_check(addr, 0, err, sizeof err) != SJ_OK) {
        fprintf(stderr,
                "village-agent: --http %s is not a loopback address: the desk serves another"
                " address only with --password-file (see 'village-agent passwd')\n",
                addr);
        free(c);
        return 2;
    }
    /* The store must open before anyone is told the page is ready. */
    agent_store_t *st = agent_store_open(o->data, o->station, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "village-agent: %s\n", err);
        free(c);
        return 1;
    }
    /* What outlives a restart (the store): the key of the CSRF tokens
     * (renewed after S_SESSION_MAX_MS: the forms and logins of the old one
     * go with it) and the logins still in time. */
    uint8_t secret[SJ_HTTP_SECRET_BYTES];
    int64_t now = sj_now_ms();
    int rc = agent_store_desk_secret(st, now, S_SESSION_MAX_MS, secret);
    if (rc == SJ_OK) {
        rc = agent_store_desk_sessions(st, now, S_SESSION_IDLE_MS, S_SESSION_MAX_MS, s_session_load,
                                       c);
    }
    agent_store_close(&st);
    if (rc != SJ_OK) {
        fprintf(stderr, "village-agent: cannot read the desk's state in the store: %s\n",
                sj_strerror(rc));
        sodium_memzero(secret, sizeof secret);
        sodium_memzero(c, sizeof *c);
        free(c);
        return 1;
    }
    sj_http_signals_block();
    sj_http_t *http = sj_http_new_writes_keyed(addr, NULL, password_file != NULL, secret,
                                               agent_web_assets, s_route, c, err, sizeof err);
    sodium_memzero(secret, sizeof secret);
    if (!http) {
        fprintf(stderr, "village-agent: %s\n", err);
        free(c);
        return 1;
    }
    char url[300];
    sj_http_url(addr, sj_http_port(http), url, sizeof url);
    sj_notice("the officer's desk on %s (%s)", url,
              password_file ? "password required" : "loopback, no password");
    printf("ready %s\n", url);
    fflush(stdout);
    int sig = sj_http_signals_wait();
    sj_notice("stopping (signal %d)", sig);
    sj_http_destroy(&http);
    sodium_memzero(c, sizeof *c);
    free(c);
    return 0;
}
