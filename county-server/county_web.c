/* county_web: see county_web.h. */
#include "county_web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "county_appoint_web.h"
#include "county_assign.h"
#include "county_cases.h"
#include "county_dept.h"
#include "county_own.h"
#include "county_store_view.h"
#include "sj_form.h"
#include "sj_log.h"
#include "sj_users.h"

#define T(lang, zh, en) ((lang) == SJ_LANG_EN ? (en) : (zh))

/* ---- the actions ---- */

/* An action's work: SJ_OK with what it did in done (for the audit trail and
 * the redirect's message), or a code with the reason in err. */
typedef int(s_action_fn)(county_store_t *wst,
                         const sj_form_t *form,
                         const sj_who_t *who,
                         char *done,
                         size_t done_size,
                         char *err,
                         size_t err_size);

typedef struct {
    const char *path;         /* the form's action, "/act/assign" */
    const char *name;         /* its name in the audit trail and /api/me */
    const char *const *roles; /* the roles that may post it, NULL-terminated */
    s_action_fn *run;
} s_action_t;

/* assign (交办): case, to, due, note; the officer is the account. The same
 * code as `county-server assign` (county_assign_do). */
static int
s_assign(county_store_t *wst,
         const sj_form_t *form,
         const sj_who_t *who,
         char *done,
         size_t done_size,
         char *err,
         size_t err_size)
{
    const char *id = sj_form_val(form, "case"), *to = sj_form_val(form, "to");
    const char *due = sj_form_val(form, "due"), *note = sj_form_val(form, "note");
    char ev[SJ_UUID_TEXT], via[SJ_CODE_MAX + 1];
    int rc = county_assign_do(wst, id, to, due, note, who->name, who->name, ev, via, err, err_size);
    if (rc == SJ_EFORBIDDEN) {
        rc = SJ_EINVAL; /* refused: the page says why (400) */
    }
    if (rc == SJ_OK) {
        snprintf(done, done_size, "case %s to %s due %s: event %s", id, to, due, ev);
    } else {
        char why[300];
        snprintf(why, sizeof why, "case %.40s to %.16s: %s", id ? id : "", to ? to : "", err);
        snprintf(err, err_size, "%s", why);
    }
    return rc;
}

/* update: a status change with a note (case, outcome, note). The same code
 * as `county-server update` (county_update_do). A department's account may
 * change only the cases whose current assignment is to its department, and
 * only to accepted or closed (受理, 办结). */
static int
s_update(county_store_t *wst,
         const sj_form_t *form,
         const sj_who_t *who,
         char *done,
         size_t done_size,
         char *err,
         size_t err_size)
{
    const char *id = sj_form_val(form, "case"), *outcome = sj_form_val(form, "outcome");
    const char *note = sj_form_val(form, "note");
    if (strcmp(who->role, "department") == 0) {
        if (!county_dept_has_case(county_store_db(wst), who->unit, id)) {
            snprintf(err, err_size, "case %.40s is not assigned to department %s", id ? id : "",
                     who->unit);
            return SJ_EINVAL;
        }
        if (!outcome || (strcmp(outcome, "accepted") != 0 && strcmp(outcome, "closed") != 0)) {
            snprintf(err, err_size, "a department accepts or concludes (accepted, closed)");
            return SJ_EINVAL;
        }
    }
    sj_update_result_t res;
    int value = 0;
    int rc = county_update_do(wst, id, outcome, sj_form_val(form, "satisfaction"), note, who->name,
                              who->name, &res, &value, err, err_size);
    if (rc == SJ_EFORBIDDEN) {
        rc = SJ_EINVAL;
    }
    if (rc == SJ_OK) {
        snprintf(done, done_size, "case %s outcome %s", id, outcome);
    }
    return rc;
}

/* own: a leader owns the case (领导包案; case, leader, portfolio); the
 * officer is the account. The same code as `county-server own`
 * (county_own_do, docs/MEETING.md). */
static int
s_own(county_store_t *wst,
      const sj_form_t *form,
      const sj_who_t *who,
      char *done,
      size_t done_size,
      char *err,
      size_t err_size)
{
    const char *id = sj_form_val(form, "case"), *leader = sj_form_val(form, "leader");
    char ev[SJ_UUID_TEXT];
    int rc = county_own_do(wst, id, leader, sj_form_val(form, "portfolio"), who->name, who->name,
                           ev, err, err_size);
    if (rc == SJ_OK) {
        snprintf(done, done_size, "case %s leader %.64s: event %s", id, leader, ev);
    }
    return rc;
}

static const char *const s_staff[] = {"staff", NULL};
static const char *const s_staff_dept[] = {"staff", "department", NULL};

/* The table of the page's actions (see county_web.h). Another action is one
 * line here and a function of the s_action_fn shape (extend, own, appoint,
 * a status change, correct, void: their CLI's work made a function both
 * call, as county_assign_do). */
static const s_action_t s_actions[] = {
    {"/act/assign", "assign", s_staff, s_assign},
    {"/act/update", "update", s_staff_dept, s_update},
    {"/act/appoint", "appoint", s_staff, county_appoint_web_make},
    {"/act/appointment", "appointment", s_staff, county_appoint_web_mark},
    {"/act/own", "own", s_staff, s_own},
    {NULL, NULL, NULL, NULL},
};

static int
s_may(const s_action_t *a, const sj_who_t *who)
{
    for (const char *const *r = a->roles; who && r && *r; r++) {
        if (strcmp(*r, who->role) == 0) {
            return 1;
        }
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

void
county_web_post(county_store_t *wst, sj_http_req_t *req, const sj_who_t *who, sj_lang_t lang)
{
    sqlite3 *wdb = county_store_db(wst);
    const char *path = sj_http_req_path(req);
    const s_action_t *a = s_actions;
    while (a->path && strcmp(a->path, path) != 0) {
        a++;
    }
    if (!a->path) {
        sj_http_reply_error(req, 404, "no such form");
        return;
    }
    if (!who) {
        s_text(req, 401, "请先登录。", "log in first");
        return;
    }
    if (!s_may(a, who)) {
        sj_login_audit(wdb, req, who, a->name, "refused: the role may not", 0);
        char en[200];
        snprintf(en, sizeof en, "refused: role %s may not %s", who->role, a->name);
        s_text(req, 403, "拒绝：此账户的角色无权执行此操作。", en);
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
    int rc = a->run(wst, form, who, done, sizeof done, err, sizeof err);
    sj_login_audit(wdb, req, who, a->name, rc == SJ_OK ? done : err, rc == SJ_OK);
    if (rc != SJ_OK) {
        char en[500];
        snprintf(en, sizeof en, "refused: %s", err);
        s_text(req, rc == SJ_EINVAL || rc == SJ_ENOTFOUND ? 400 : 500, "未执行：请看下面的原因。",
               en);
        return;
    }
    const char *back = sj_form_get(form, "back");
    snprintf(location, sizeof location, "%s",
             back && back[0] == '/' && back[1] != '/' ? back
                                                      : (lang == SJ_LANG_EN ? "/?lang=en" : "/"));
    sj_http_once_put(req, key, location);
    sj_http_reply_redirect(req, location);
}

/* ---- /api/me, /audit ---- */

void
county_web_me(sqlite3 *wdb, sj_http_req_t *req, const sj_who_t *who)
{
    (void) wdb;
    const char *may[sizeof s_actions / sizeof s_actions[0]];
    size_t n = 0;
    for (const s_action_t *a = s_actions; a->path; a++) {
        if (s_may(a, who)) {
            may[n++] = a->name;
        }
    }
    may[n] = NULL;
    sj_login_me(req, who, sj_roles_county, may);
}

void
county_web_audit(sqlite3 *wdb, sj_http_req_t *req, const sj_who_t *who, sj_lang_t lang)
{
    sj_login_audit_page(wdb, req, who, "admin", lang);
}
