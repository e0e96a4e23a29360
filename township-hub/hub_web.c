/* hub_web: see hub_web.h. */
#include "hub_web.h"

#include <stdio.h>
#include <string.h>

#include "hub_acts.h"
#include "hub_store_view.h"
#include "sj_form.h"
#include "sj_users.h"

typedef int(s_action_fn)(hub_store_t *wst,
                         const sj_form_t *form,
                         const sj_who_t *who,
                         char *done,
                         size_t done_size,
                         char *err,
                         size_t err_size);

typedef struct {
    const char *path;         /* the form's action, "/act/update" */
    const char *name;         /* its name in the audit trail and /api/me */
    const char *const *roles; /* the roles that may post it, NULL-terminated */
    s_action_fn *run;
} s_action_t;

/* A form's value, "" as not given (NULL). */
static const char *
s_given(const sj_form_t *form, const char *name)
{
    const char *v = sj_form_val(form, name);
    return v && v[0] ? v : NULL;
}

/* A refusal is the page's 400 with the reason. */
static int
s_page_rc(int rc)
{
    return rc == SJ_EFORBIDDEN ? SJ_EINVAL : rc;
}

/* update: case, outcome, note, satisfaction (with a conclusion); the
 * officer is the account. `township-hub update` (hub_update_do). */
static int
s_update(hub_store_t *wst,
         const sj_form_t *form,
         const sj_who_t *who,
         char *done,
         size_t done_size,
         char *err,
         size_t err_size)
{
    const char *id = sj_form_val(form, "case"), *outcome = sj_form_val(form, "outcome");
    sj_update_result_t res;
    int value = 0;
    int rc = hub_update_do(wst, id, outcome, sj_form_val(form, "note"), who->name,
                           s_given(form, "satisfaction"), who->name, &value, &res, err, err_size);
    if (rc == SJ_OK) {
        snprintf(done, done_size, "case %s outcome %s", id, outcome);
    }
    return s_page_rc(rc);
}

/* assign (交办): case, to (a station), due, note. `township-hub assign`
 * (hub_assign_do). */
static int
s_assign(hub_store_t *wst,
         const sj_form_t *form,
         const sj_who_t *who,
         char *done,
         size_t done_size,
         char *err,
         size_t err_size)
{
    const char *id = sj_form_val(form, "case"), *to = sj_form_val(form, "to");
    const char *due = sj_form_val(form, "due");
    char ev[SJ_UUID_TEXT];
    int rc = hub_assign_do(wst, id, to, due, sj_form_val(form, "note"), who->name, who->name, ev,
                           err, err_size);
    if (rc == SJ_OK) {
        snprintf(done, done_size, "case %s to %s due %s: event %s", id, to, due, ev);
    }
    return s_page_rc(rc);
}

/* extend (延期): case, days, reason, approved_by, stage. `township-hub
 * extend` (hub_extend_do). */
static int
s_extend(hub_store_t *wst,
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
    int rc = hub_extend_do(wst, id, days, sj_form_val(form, "reason"),
                           sj_form_val(form, "approved_by"), s_given(form, "stage"), who->name,
                           who->name, NULL, &after, ev, err, err_size);
    if (rc == SJ_OK) {
        snprintf(done, done_size, "case %s +%s days: event %s", id, days, ev);
    }
    return s_page_rc(rc);
}

/* correct, void: as county_web.c's (hub_fix_do). */
static int
s_fix(hub_store_t *wst,
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
    int rc = hub_fix_do(wst, is_void, id, vals, sj_form_val(form, "reason"), who->name, who->name,
                        ev, err, err_size);
    if (rc == SJ_OK) {
        snprintf(done, done_size, "case %s %s: event %s", id, is_void ? "voided" : "corrected", ev);
    }
    return s_page_rc(rc);
}

static int
s_correct(hub_store_t *wst,
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
s_void(hub_store_t *wst,
       const sj_form_t *form,
       const sj_who_t *who,
       char *done,
       size_t done_size,
       char *err,
       size_t err_size)
{
    return s_fix(wst, 1, form, who, done, done_size, err, err_size);
}

/* approve (审核) a month by the account. `township-hub approve`
 * (hub_approve_do). */
static int
s_approve(hub_store_t *wst,
          const sj_form_t *form,
          const sj_who_t *who,
          char *done,
          size_t done_size,
          char *err,
          size_t err_size)
{
    const char *month = sj_form_val(form, "month");
    int rc = hub_approve_do(wst, month, who->name, who->name, err, err_size);
    if (rc == SJ_OK) {
        snprintf(done, done_size, "%s approved", month);
    }
    return s_page_rc(rc);
}

static const char *const s_office[] = {"office", NULL};

/* The table of the township page's actions. */
static const s_action_t s_actions[] = {
    {"/act/update", "update", s_office, s_update},
    {"/act/assign", "assign", s_office, s_assign},
    {"/act/extend", "extend", s_office, s_extend},
    {"/act/correct", "correct", s_office, s_correct},
    {"/act/void", "void", s_office, s_void},
    {"/act/approve", "approve", s_office, s_approve},
    {NULL, NULL, NULL, NULL},
};

typedef struct {
    hub_store_t *wst;
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
hub_web_post(hub_store_t *wst, sj_http_req_t *req, const sj_who_t *who)
{
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
    sj_act_post(hub_store_db(wst), req, who, a->name, sj_act_may(a->roles, who), s_run, &r, "/",
                "/?lang=en");
}

void
hub_web_me(sj_http_req_t *req, const sj_who_t *who)
{
    const char *may[sizeof s_actions / sizeof s_actions[0]];
    size_t n = 0;
    for (const s_action_t *a = s_actions; a->path; a++) {
        if (sj_act_may(a->roles, who)) {
            may[n++] = a->name;
        }
    }
    may[n] = NULL;
    sj_login_me(req, who, sj_roles_township, may);
}
