/* county_web: see county_web.h. */
#include "county_web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "county_acts.h"
#include "county_appoint_web.h"
#include "county_assign.h"
#include "county_cases.h"
#include "county_dept.h"
#include "county_own.h"
#include "county_store_view.h"
#include "sj_clock.h"
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

/* A form's value, "" as not given (NULL). */
static const char *
s_given(const sj_form_t *form, const char *name)
{
    const char *v = sj_form_val(form, name);
    return v && v[0] ? v : NULL;
}

/* extend (延期): case, days, reason, approved_by, stage (empty: the one
 * running); the officer is the account. The same code as `county-server
 * extend` (county_extend_do), on the periods the county holds (docs/CLOCK.md). */
static int
s_extend(county_store_t *wst,
         const sj_form_t *form,
         const sj_who_t *who,
         char *done,
         size_t done_size,
         char *err,
         size_t err_size)
{
    const char *id = sj_form_val(form, "case"), *days = sj_form_val(form, "days");
    sj_clock_t after;
    char ev[SJ_UUID_TEXT];
    int rc = county_extend_do(wst, id, days, sj_form_val(form, "reason"),
                              sj_form_val(form, "approved_by"), s_given(form, "stage"), who->name,
                              who->name, NULL, NULL, &after, ev, err, err_size);
    if (rc == SJ_EFORBIDDEN) {
        rc = SJ_EINVAL; /* refused: the page says why (400) */
    }
    if (rc == SJ_OK) {
        snprintf(done, done_size, "case %s +%s days: event %s", id, days, ev);
    }
    return rc;
}

/* correct (更正) or void (作废): case, reason and a correction's fields by
 * the CLI's option names (occurred, channel, kind, persons, level,
 * category, source, summary; empty: unchanged). The same code as
 * `county-server correct` and `void` (county_fix_do). */
static int
s_fix(county_store_t *wst,
      int is_void,
      const sj_form_t *form,
      const sj_who_t *who,
      char *done,
      size_t done_size,
      char *err,
      size_t err_size)
{
    static const char *const names[SJ_FIX_COUNT] = {
        [SJ_FIX_OCCURRED] = "occurred", [SJ_FIX_CHANNEL] = "channel",
        [SJ_FIX_KIND] = "kind",         [SJ_FIX_PERSONS] = "persons",
        [SJ_FIX_LEVEL] = "level",       [SJ_FIX_CATEGORY] = "category",
        [SJ_FIX_SOURCE] = "source",     [SJ_FIX_SUMMARY] = "summary"};
    const char *vals[SJ_FIX_COUNT];
    for (int i = 0; i < SJ_FIX_COUNT; i++) {
        vals[i] = is_void ? NULL : s_given(form, names[i]);
    }
    const char *id = sj_form_val(form, "case");
    char ev[SJ_UUID_TEXT];
    int rc = county_fix_do(wst, is_void, id, vals, sj_form_val(form, "reason"), who->name,
                           who->name, ev, err, err_size);
    if (rc == SJ_EFORBIDDEN) {
        rc = SJ_EINVAL;
    }
    if (rc == SJ_OK) {
        snprintf(done, done_size, "case %s %s: event %s", id, is_void ? "voided" : "corrected", ev);
    }
    return rc;
}

static int
s_correct(county_store_t *wst,
          const sj_form_t *form,
          const sj_who_t *who,
          char *done,
          size_t done_size,
          char *err,
          size_t err_size)
{
    return s_fix(wst, 0, form, who, done, done_size, err, err_size);
}

static int
s_void(county_store_t *wst,
       const sj_form_t *form,
       const sj_who_t *who,
       char *done,
       size_t done_size,
       char *err,
       size_t err_size)
{
    return s_fix(wst, 1, form, who, done, done_size, err, err_size);
}

/* evaluate (满意度): case, satisfaction, note. The same code as
 * `county-server evaluate` (county_evaluate_do). */
static int
s_evaluate(county_store_t *wst,
           const sj_form_t *form,
           const sj_who_t *who,
           char *done,
           size_t done_size,
           char *err,
           size_t err_size)
{
    const char *id = sj_form_val(form, "case");
    char ev[SJ_UUID_TEXT];
    int value = 0;
    int rc =
        county_evaluate_do(wst, id, sj_form_val(form, "satisfaction"), sj_form_val(form, "note"),
                           who->name, who->name, &value, ev, err, err_size);
    if (rc == SJ_EFORBIDDEN) {
        rc = SJ_EINVAL;
    }
    if (rc == SJ_OK) {
        snprintf(done, done_size, "case %s evaluated %s: event %s", id, sj_satisfaction_name(value),
                 ev);
    }
    return rc;
}

/* lock (锁定): month or year, by the account. The same code as
 * `county-server lock` (county_lock_do). */
static int
s_lock(county_store_t *wst,
       const sj_form_t *form,
       const sj_who_t *who,
       char *done,
       size_t done_size,
       char *err,
       size_t err_size)
{
    const char *month = s_given(form, "month"), *year = s_given(form, "year");
    int rc = county_lock_do(wst, month, year, who->name, err, err_size);
    if (rc == SJ_EFORBIDDEN) {
        rc = SJ_EINVAL;
    }
    if (rc == SJ_OK) {
        snprintf(done, done_size, "%s locked", month ? month : year);
    }
    return rc;
}

static const char *const s_staff[] = {"staff", NULL};
static const char *const s_staff_dept[] = {"staff", "department", NULL};
static const char *const s_admin[] = {"admin", NULL};

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

/* The table of the page's actions (see county_web.h). Another action is one
 * line here and a function of the s_action_fn shape (extend, own, appoint,
 * a status change, correct, void: their CLI's work made a function both
 * call, as county_assign_do). */
static const s_action_t s_actions[] = {
    {"/act/assign", "assign", s_staff, s_assign},
    {"/act/update", "update", s_staff_dept, s_update},
    {"/act/extend", "extend", s_staff, s_extend},
    {"/act/correct", "correct", s_staff, s_correct},
    {"/act/void", "void", s_staff, s_void},
    {"/act/evaluate", "evaluate", s_staff, s_evaluate},
    {"/act/lock", "lock", s_admin, s_lock},
    {"/act/appoint", "appoint", s_staff, county_appoint_web_make},
    {"/act/appointment", "appointment", s_staff, county_appoint_web_mark},
    {"/act/own", "own", s_staff, s_own},
    {NULL, NULL, NULL, NULL},
};

static int
s_may(const s_action_t *a, const sj_who_t *who)
{
    return sj_act_may(a->roles, who);
}

/* The common frame (sj_act_post) runs an action of this table. */
typedef struct {
    county_store_t *wst;
    const s_action_t *a;
} s_run_t;

static int
s_run(void *ctx,
      const sj_form_t *form,
      const sj_who_t *who,
      char *done,
      size_t done_size,
      char *err,
      size_t err_size)
{
    s_run_t *r = ctx;
    return r->a->run(r->wst, form, who, done, done_size, err, err_size);
}

void
county_web_post(county_store_t *wst, sj_http_req_t *req, const sj_who_t *who, sj_lang_t lang)
{
    (void) lang; /* sj_act_post reads it from the request */
    const char *path = sj_http_req_path(req);
    const s_action_t *a = s_actions;
    while (a->path && strcmp(a->path, path) != 0) {
        a++;
    }
    if (!a->path) {
        sj_http_reply_error(req, 404, "no such form");
        return;
    }
    s_run_t r = {wst, a};
    sj_act_post(county_store_db(wst), req, who, a->name, s_may(a, who), s_run, &r, "/",
                "/?lang=en");
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
