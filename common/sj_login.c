/* sj_login: see sj_login.h. */
#include "sj_login.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <cjson/cJSON.h>

#include "sj_form.h"
#include "sj_ids.h"
#include "sj_log.h"

#define S_SESSIONS        128              /* logged-in sessions kept (the oldest goes) */
#define S_SESSION_IDLE_MS (30 * 60000)     /* a login ends after 30 minutes unused */
#define S_SESSION_MAX_MS  (12 * 3600000LL) /* and after 12 hours in any case */
#define S_SLOW_MAX_MS     60000            /* the longest wait after failed logins */

struct sj_login {
    const char *title_zh, *title_en, *css;
    struct {
        uint8_t sid_hash[32]; /* BLAKE2b of the session id */
        char name[SJ_USER_NAME_MAX + 1];
        int64_t since_ms, seen_ms;
    } sessions[S_SESSIONS];
    int fails;           /* failed logins in a row */
    int64_t next_try_ms; /* no login is tried before this */
};

sj_login_t *
sj_login_new(const char *title_zh, const char *title_en, const char *css)
{
    sj_login_t *self = calloc(1, sizeof *self);
    if (self) {
        self->title_zh = title_zh;
        self->title_en = title_en;
        self->css = css;
    }
    return self;
}

void
sj_login_destroy(sj_login_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    sodium_memzero(*self_p, sizeof **self_p);
    free(*self_p);
    *self_p = NULL;
}

static void
s_sid_hash(sj_http_req_t *req, uint8_t out[32])
{
    const char *sid = sj_http_req_session(req);
    crypto_generichash(out, 32, (const unsigned char *) sid, strlen(sid), NULL, 0);
}

/* The slot of req's session, or -1 (an expired one is cleared). */
static int
s_slot(sj_login_t *self, sj_http_req_t *req)
{
    uint8_t h[32];
    s_sid_hash(req, h);
    int64_t now = sj_now_ms();
    for (int i = 0; i < S_SESSIONS; i++) {
        if (self->sessions[i].since_ms && sodium_memcmp(self->sessions[i].sid_hash, h, 32) == 0) {
            if (now - self->sessions[i].seen_ms > S_SESSION_IDLE_MS
                || now - self->sessions[i].since_ms > S_SESSION_MAX_MS) {
                memset(&self->sessions[i], 0, sizeof self->sessions[i]);
                return -1;
            }
            return i;
        }
    }
    return -1;
}

int
sj_login_who(sj_login_t *self, sqlite3 *db, sj_http_req_t *req, sj_who_t *who)
{
    memset(who, 0, sizeof *who);
    int i = s_slot(self, req);
    if (i < 0) {
        return 0;
    }
    if (sj_users_get(db, self->sessions[i].name, who->role, who->unit) != SJ_OK) {
        memset(&self->sessions[i], 0, sizeof self->sessions[i]); /* disabled meanwhile */
        memset(who, 0, sizeof *who);
        return 0;
    }
    self->sessions[i].seen_ms = sj_now_ms();
    snprintf(who->name, sizeof who->name, "%s", self->sessions[i].name);
    return 1;
}

void
sj_login_audit(sqlite3 *db,
               sj_http_req_t *req,
               const sj_who_t *who,
               const char *action,
               const char *detail,
               int ok)
{
    char from[64];
    sj_http_req_client(req, from, sizeof from);
    if (sj_audit_add(db, who && who->name[0] ? who->name : "-", "web", from, action, detail, ok)
        != SJ_OK) {
        sj_warn("cannot write the audit trail: %s", sqlite3_errmsg(db));
    }
}

#define T(lang, zh, en) ((lang) == SJ_LANG_EN ? (en) : (zh))

static void
s_form(sj_login_t *self,
       sj_http_req_t *req,
       sj_lang_t lang,
       const char *name,
       const char *msg,
       unsigned int status)
{
    sj_buf_t b = {0};
    sj_buf_addf(&b,
                "<!DOCTYPE html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                "<title>%s · %s</title><link rel=\"stylesheet\" href=\"%s\"></head>"
                "<body class=\"login\"><main>",
                lang == SJ_LANG_EN ? "en" : "zh-CN", T(lang, "登录", "Log in"),
                T(lang, self->title_zh, self->title_en), self->css);
    sj_buf_addf(&b, "<h1>%s · %s</h1>", T(lang, self->title_zh, self->title_en),
                T(lang, "登录", "Log in"));
    sj_buf_addf(&b, "<p class=\"lang\"><a href=\"/login\" id=\"lang-zh\">中文</a>"
                    " <a href=\"/login?lang=en\" id=\"lang-en\">English</a></p>");
    if (msg) {
        sj_buf_add(&b, "<p class=\"err\" id=\"login-err\" role=\"alert\">");
        sj_buf_esc(&b, msg);
        sj_buf_add(&b, "</p>");
    }
    sj_buf_add(&b, "<form method=\"post\" action=\"/login\" id=\"login-form\">"
                   "<input type=\"hidden\" name=\"csrf\" value=\"");
    sj_buf_esc(&b, sj_http_req_csrf(req));
    sj_buf_addf(&b, "\"><input type=\"hidden\" name=\"lang\" value=\"%s\">",
                lang == SJ_LANG_EN ? "en" : "zh");
    sj_buf_addf(&b,
                "<p><label for=\"name\">%s</label> <input id=\"name\" name=\"name\" required"
                " autocomplete=\"username\" autofocus maxlength=\"%d\" value=\"",
                T(lang, "账户", "Account"), SJ_USER_NAME_MAX);
    sj_buf_esc(&b, name ? name : "");
    sj_buf_addf(&b,
                "\"></p><p><label for=\"password\">%s</label> <input type=\"password\""
                " id=\"password\" name=\"password\" required autocomplete=\"current-password\">"
                "</p><p><button type=\"submit\" id=\"login\">%s</button></p></form></main>"
                "</body></html>",
                T(lang, "密码", "Password"), T(lang, "登录", "Log in"));
    if (b.oom) {
        sj_http_reply_error(req, 500, "out of memory");
    } else {
        sj_http_reply(req, status, "text/html; charset=utf-8", b.p, b.len);
    }
    sj_buf_free(&b);
}

static void
s_try(sj_login_t *self, sqlite3 *db, sj_http_req_t *req, sj_lang_t lang)
{
    const sj_form_t *form = sj_http_req_form(req);
    const char *name = sj_form_get(form, "name");
    const char *pw = sj_form_get(form, "password");
    char shown[SJ_USER_NAME_MAX + 1];
    snprintf(shown, sizeof shown, "%.*s", SJ_USER_NAME_MAX, name ? name : "");
    sj_who_t tried;
    memset(&tried, 0, sizeof tried);
    snprintf(tried.name, sizeof tried.name, "%s", shown[0] ? shown : "-");
    int64_t now = sj_now_ms();
    if (now < self->next_try_ms) {
        int64_t s = (self->next_try_ms - now + 999) / 1000;
        char msg[200];
        snprintf(msg, sizeof msg,
                 "登录失败次数过多，请%" PRId64 "秒后再试。/ Too many failed logins: try again in"
                 " %" PRId64 " s.",
                 s, s);
        sj_login_audit(db, req, &tried, "login-slowed", "too many failed logins", 0);
        s_form(self, req, lang, shown, msg, 429);
        return;
    }
    char role[SJ_ROLE_MAX] = "", unit[SJ_UNIT_MAX] = "";
    if (sj_user_name_check(shown, NULL, 0) != SJ_OK
        || sj_users_verify(db, shown, pw, role, unit) != SJ_OK) {
        self->fails++;
        if (self->fails >= SJ_LOGIN_FREE_FAILS) {
            int k = self->fails - SJ_LOGIN_FREE_FAILS;
            int64_t wait = 1000LL << (k < 6 ? k : 6);
            /* from the end of this try (the hash takes its time) */
            self->next_try_ms = sj_now_ms() + (wait < S_SLOW_MAX_MS ? wait : S_SLOW_MAX_MS);
        }
        sj_warn("web: a failed login as '%s' (%d in a row)", tried.name, self->fails);
        sj_login_audit(db, req, &tried, "login-failed", NULL, 0);
        s_form(self, req, lang, shown, "账户或密码不对。/ Wrong account or password.", 403);
        return;
    }
    self->fails = 0;
    self->next_try_ms = 0;
    sj_http_req_new_session(req); /* the id known before the login is worth nothing */
    int slot = 0;
    for (int i = 1; i < S_SESSIONS; i++) {
        if (self->sessions[i].seen_ms < self->sessions[slot].seen_ms) {
            slot = i;
        }
    }
    s_sid_hash(req, self->sessions[slot].sid_hash);
    snprintf(self->sessions[slot].name, sizeof self->sessions[slot].name, "%s", shown);
    self->sessions[slot].since_ms = self->sessions[slot].seen_ms = now;
    sj_notice("web: %s logged in", shown);
    sj_login_audit(db, req, &tried, "login", role, 1);
    sj_http_reply_redirect(req, lang == SJ_LANG_EN ? "/?lang=en" : "/");
}

int
sj_login_route(sj_login_t *self, sqlite3 *db, sj_http_req_t *req, sj_lang_t lang)
{
    const char *path = sj_http_req_path(req);
    if (strcmp(path, "/login") == 0) {
        if (sj_http_req_is_post(req)) {
            s_try(self, db, req, lang);
        } else {
            s_form(self, req, lang, NULL, NULL, 200);
        }
        return 1;
    }
    if (strcmp(path, "/logout") == 0 && sj_http_req_is_post(req)) {
        int i = s_slot(self, req);
        if (i >= 0) {
            sj_who_t who;
            memset(&who, 0, sizeof who);
            snprintf(who.name, sizeof who.name, "%s", self->sessions[i].name);
            memset(&self->sessions[i], 0, sizeof self->sessions[i]);
            sj_login_audit(db, req, &who, "logout", NULL, 1);
        }
        sj_http_req_new_session(req);
        sj_http_reply_redirect(req, lang == SJ_LANG_EN ? "/login?lang=en" : "/login");
        return 1;
    }
    return 0;
}

static void
s_text(sj_http_req_t *req, unsigned int status, const char *zh, const char *en)
{
    char text[600];
    int n = snprintf(text, sizeof text, "%s\n%s\n", zh, en);
    sj_http_reply(req, status, "text/plain; charset=utf-8", text,
                  n > 0 && (size_t) n < sizeof text ? (size_t) n : strlen(text));
}

int
sj_login_gate(sj_login_t *self,
              sqlite3 *db,
              sj_http_req_t *req,
              sj_lang_t lang,
              int open_ok,
              sj_who_t *who,
              int *in)
{
    const char *path = sj_http_req_path(req);
    if (sj_login_route(self, db, req, lang)) {
        return 1;
    }
    *in = sj_login_who(self, db, req, who);
    if (*in) {
        return 0;
    }
    int api = strncmp(path, "/api/", 5) == 0;
    int post = sj_http_req_is_post(req);
    if (open_ok && sj_users_count(db) == 0) {
        return 0; /* a loopback page of a node without accounts: read-only */
    }
    if (api && !post && sj_http_req_bearer(req)) {
        return 0; /* a read-only API client */
    }
    if (api) {
        sj_http_reply_error(req, 401,
                            "log in first (/login), or send Authorization: Bearer TOKEN"
                            " (read-only API)");
    } else if (post) {
        s_text(req, 401, "请先登录。", "log in first");
    } else {
        sj_http_reply_redirect(req, lang == SJ_LANG_EN ? "/login?lang=en" : "/login");
    }
    return 1;
}

sj_lang_t
sj_login_lang(sj_http_req_t *req)
{
    const sj_form_t *form = sj_http_req_form(req);
    if (form) {
        const char *l = sj_form_get(form, "lang");
        return l && strcmp(l, "en") == 0 ? SJ_LANG_EN : SJ_LANG_ZH;
    }
    for (size_t i = 0; i < sj_http_req_nargs(req); i++) {
        const char *name, *value;
        sj_http_req_arg(req, i, &name, &value);
        if (strcmp(name, "lang") == 0) {
            return strcmp(value, "en") == 0 ? SJ_LANG_EN : SJ_LANG_ZH;
        }
    }
    return SJ_LANG_ZH;
}

/* ---- /api/me ---- */

void
sj_login_me(sj_http_req_t *req,
            const sj_who_t *who,
            const sj_role_t *roles,
            const char *const *actions)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *acts = cJSON_CreateArray();
    int ok = root && acts;
    if (ok && who) {
        const sj_role_t *r = sj_role_find(roles, who->role);
        ok = cJSON_AddStringToObject(root, "user", who->name)
             && cJSON_AddStringToObject(root, "role", who->role)
             && cJSON_AddStringToObject(root, "role_zh", r ? r->zh : who->role)
             && cJSON_AddStringToObject(root, "role_en", r ? r->en : who->role)
             && (who->unit[0] ? cJSON_AddStringToObject(root, "unit", who->unit)
                              : cJSON_AddNullToObject(root, "unit"));
        for (const char *const *a = actions; ok && a && *a; a++) {
            ok = cJSON_AddItemToArray(acts, cJSON_CreateString(*a));
        }
    } else if (ok) {
        ok = cJSON_AddNullToObject(root, "user") && cJSON_AddNullToObject(root, "role");
    }
    ok = ok && cJSON_AddStringToObject(root, "csrf", sj_http_req_csrf(req))
         && cJSON_AddItemToObject(root, "actions", acts);
    if (!ok) {
        cJSON_Delete(acts);
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text) {
        sj_http_reply_error(req, 500, "out of memory");
        return;
    }
    sj_http_reply(req, 200, "application/json", text, strlen(text));
    cJSON_free(text);
}

/* ---- /audit ---- */

void
sj_login_audit_page(
    sqlite3 *wdb, sj_http_req_t *req, const sj_who_t *who, const char *role, sj_lang_t lang)
{
    if (!who || strcmp(who->role, role) != 0) {
        char en[120];
        snprintf(en, sizeof en, "refused: the audit trail is for role %s", role);
        s_text(req, 403, "拒绝：此账户的角色无权查看审计记录。", en);
        return;
    }
    static const char *const allowed[] = {"user", "from", "to", "lang", NULL};
    const char *v[4];
    char err[300] = "";
    sj_table_t *t = NULL;
    if (sj_http_req_args(req, allowed, v, err, sizeof err) != SJ_OK
        || sj_audit_table(wdb, v[0], v[1], v[2], 500, &t, err, sizeof err) != SJ_OK) {
        sj_http_reply_error(req, 400, strncmp(err, "--", 2) == 0 ? err + 2 : err);
        return;
    }
    sj_buf_t b = {0};
    sj_buf_addf(&b,
                "<!DOCTYPE html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
                "<title>%s</title><link rel=\"stylesheet\" href=\"/style.css\"></head><body>"
                "<header><h1>%s</h1><nav class=\"lang\"><a href=\"/audit\">中文</a> "
                "<a href=\"/audit?lang=en\">English</a> · <a href=\"/%s\">%s</a></nav></header>",
                lang == SJ_LANG_EN ? "en" : "zh-CN", T(lang, "审计记录", "Audit trail"),
                T(lang, "审计记录", "Audit trail"), lang == SJ_LANG_EN ? "?lang=en" : "",
                T(lang, "返回", "Back"));
    sj_buf_add(&b, "<form method=\"get\" action=\"/audit\" id=\"filters\">");
    const char *names[3] = {"user", "from", "to"};
    const char *labels[3] = {T(lang, "账户", "Account"), T(lang, "从", "From"),
                             T(lang, "到", "To")};
    for (int i = 0; i < 3; i++) {
        sj_buf_addf(&b, "<label>%s <input name=\"%s\" id=\"a-%s\"%s value=\"", labels[i], names[i],
                    names[i], i ? " type=\"date\"" : "");
        sj_buf_esc(&b, v[i] ? v[i] : "");
        sj_buf_add(&b, "\"></label> ");
    }
    sj_buf_addf(&b,
                "<input type=\"hidden\" name=\"lang\" value=\"%s\"><button type=\"submit\">%s"
                "</button></form>",
                lang == SJ_LANG_EN ? "en" : "zh", T(lang, "查询", "Apply"));
    static const char *const heads_zh[] = {"序号", "时间（UTC）", "谁",   "途径",
                                           "来自", "操作",        "内容", "结果"};
    static const char *const heads_en[] = {"No.",  "When (UTC)", "Who",    "Via",
                                           "From", "Action",     "Detail", "Result"};
    sj_buf_add(&b, "<table id=\"audit\"><thead><tr>");
    for (int i = 0; i < 8; i++) {
        sj_buf_addf(&b, "<th scope=\"col\">%s</th>", T(lang, heads_zh[i], heads_en[i]));
    }
    sj_buf_add(&b, "</tr></thead><tbody>");
    for (size_t r = 0; r < sj_table_rows(t); r++) {
        sj_buf_add(&b, "<tr>");
        for (size_t c = 0; c < 8; c++) {
            const char *cell = sj_table_cell(t, r, c);
            sj_buf_add(&b, "<td>");
            if (c == 7) {
                int ok = cell && strcmp(cell, "ok") == 0;
                sj_buf_add(&b, ok ? T(lang, "完成", "done") : T(lang, "拒绝", "refused"));
            } else {
                sj_buf_esc(&b, cell);
            }
            sj_buf_add(&b, "</td>");
        }
        sj_buf_add(&b, "</tr>");
    }
    sj_buf_addf(&b, "</tbody></table><footer>%s</footer></body></html>",
                T(lang, "只追加，不可修改；最多显示最近500条。",
                  "Append-only; the latest 500 rows at most are shown."));
    sj_table_destroy(&t);
    if (b.oom) {
        sj_http_reply_error(req, 500, "out of memory");
    } else {
        sj_http_reply(req, 200, "text/html; charset=utf-8", b.p, b.len);
    }
    sj_buf_free(&b);
}

/* ---- a page's actions ---- */

int
sj_act_may(const char *const *roles, const sj_who_t *who)
{
    for (const char *const *r = roles; who && r && *r; r++) {
        if (strcmp(*r, who->role) == 0) {
            return 1;
        }
    }
    return 0;
}

static void
s_act_text(sj_http_req_t *req, unsigned int status, const char *zh, const char *en)
{
    char text[600];
    int n = snprintf(text, sizeof text, "%s\n%s\n", zh, en);
    sj_http_reply(req, status, "text/plain; charset=utf-8", text,
                  n > 0 && (size_t) n < sizeof text ? (size_t) n : strlen(text));
}

void
sj_act_post(sqlite3 *wdb,
            sj_http_req_t *req,
            const sj_who_t *who,
            const char *name,
            int may,
            sj_act_run_fn *run,
            void *ctx,
            const char *home,
            const char *home_en)
{
    if (!who) {
        s_act_text(req, 401, "请先登录。", "log in first");
        return;
    }
    if (!may) {
        sj_login_audit(wdb, req, who, name, "refused: the role may not", 0);
        char en[200];
        snprintf(en, sizeof en, "refused: role %s may not %s", who->role, name);
        s_act_text(req, 403, "拒绝：此账户的角色无权执行此操作。", en);
        return;
    }
    const sj_form_t *form = sj_http_req_form(req);
    const char *key = sj_form_get(form, "key");
    char location[SJ_HTTP_ONCE_LEN];
    if (sj_http_once_get(req, key, location, sizeof location)) {
        sj_http_reply_redirect(req, location);
        return;
    }
    char done[400] = "", err[400] = "";
    int rc = run(ctx, form, who, done, sizeof done, err, sizeof err);
    sj_login_audit(wdb, req, who, name, rc == SJ_OK ? done : err, rc == SJ_OK);
    if (rc != SJ_OK) {
        char en[500];
        snprintf(en, sizeof en, "refused: %s", err);
        s_act_text(req, rc == SJ_EINVAL || rc == SJ_ENOTFOUND ? 400 : 500,
                   "未执行：请看下面的原因。", en);
        return;
    }
    const char *back = sj_form_get(form, "back");
    snprintf(location, sizeof location, "%s",
             back && back[0] == '/' && back[1] != '/'
                 ? back
                 : (sj_login_lang(req) == SJ_LANG_EN ? home_en : home));
    sj_http_once_put(req, key, location);
    sj_http_reply_redirect(req, location);
}
