/* sj_login: the login of a page with accounts (issue 17), one for the
 * county dashboard and the township page.
 *
 *   GET  /login         the form (name, password; ?lang=en for English)
 *   POST /login         checks the account (sj_users_verify); on success a
 *                       new session (the id known before is worth nothing),
 *                       303 to the page's home; on failure 403 with the form
 *   POST /logout        ends the session, 303 to /login
 *
 * Sessions live in the serving process: the BLAKE2b of the session id ->
 * the account; a login ends after 30 minutes unused and after 12 hours in
 * any case, and at once when the account is disabled (each request reads
 * the account's role again, so a changed role applies at once).
 *
 * Failed logins are slowed: after SJ_LOGIN_FREE_FAILS failures in a row
 * (any account, any client) each next try waits 1 s, then 2, 4, ... up to
 * 60 s from the last failure (429 with the wait named, the password not
 * even checked); a success resets the count. Every login, failed login,
 * refused try and logout is a row of the audit trail (sj_users.h). */
#ifndef SJ_LOGIN_H
#define SJ_LOGIN_H

#include <sqlite3.h>

#include "sj_http.h"
#include "sj_model.h"
#include "sj_users.h"

#define SJ_LOGIN_FREE_FAILS 10 /* failed logins in a row before the next tries wait */

/* The account of a request. */
typedef struct {
    char name[SJ_USER_NAME_MAX + 1];
    char role[SJ_ROLE_MAX];
    char unit[SJ_UNIT_MAX]; /* a department user's department ("" otherwise) */
} sj_who_t;

typedef struct sj_login sj_login_t;

/* title_zh/en: the page's name on the form ("县调访中心"); css: the page's
 * stylesheet path ("/style.css"). Borrowed, static. NULL on OOM. */
sj_login_t *sj_login_new(const char *title_zh, const char *title_en, const char *css);
void sj_login_destroy(sj_login_t **self_p);

/* 1 when req's session has logged in (and the account is still enabled),
 * with who filled; 0 otherwise. */
int sj_login_who(sj_login_t *self, sqlite3 *db, sj_http_req_t *req, sj_who_t *who);
/* Answers /login (GET: the form, with msg when not NULL; POST: the try)
 * and POST /logout. 1 when path was one of them (answered), else 0. */
int sj_login_route(sj_login_t *self, sqlite3 *db, sj_http_req_t *req, sj_lang_t lang);

/* The gate of every request of a page with accounts: answers /login and
 * /logout (1); fills who and *in for a logged-in session (0); lets through
 * (0, *in = 0) a request of a page that is open (open_ok: loopback without
 * a token, and the node has no enabled account) and a GET /api/ with the
 * bearer token; answers everything else (1): an API path 401 JSON, a POST
 * 401, a page 303 to /login. */
int sj_login_gate(sj_login_t *self,
                  sqlite3 *db,
                  sj_http_req_t *req,
                  sj_lang_t lang,
                  int open_ok,
                  sj_who_t *who,
                  int *in);
/* The request's language: the form's or the query's lang=en, else zh. */
sj_lang_t sj_login_lang(sj_http_req_t *req);
/* GET /api/me: {"user","role","role_zh","role_en","unit","csrf","actions"}
 * (user and role null when nobody is logged in); actions: the names of the
 * actions who's role may post (NULL-terminated). */
void sj_login_me(sj_http_req_t *req,
                 const sj_who_t *who,
                 const sj_role_t *roles,
                 const char *const *actions);
/* GET /audit?user=&from=&to=&lang=: the audit trail's newest 500 rows as a
 * page, for role only (else 403). */
void sj_login_audit_page(
    sqlite3 *db, sj_http_req_t *req, const sj_who_t *who, const char *role, sj_lang_t lang);

/* An audit row of a web action by who (NULL: "-") from req's client. */
void sj_login_audit(sqlite3 *db,
                    sj_http_req_t *req,
                    const sj_who_t *who,
                    const char *action,
                    const char *detail,
                    int ok);

/* ---- a page's actions (issue 17 item 2) ----
 * The frame of a POST of an action form, the same at the county and the
 * township: run does the action's work on ctx (the node's write store) and
 * says what it did in done (SJ_OK) or why not in err (SJ_EINVAL,
 * SJ_ENOTFOUND: refused, 400; other codes 500). */
typedef int(sj_act_run_fn)(void *ctx,
                           const sj_form_t *form,
                           const sj_who_t *who,
                           char *done,
                           size_t done_size,
                           char *err,
                           size_t err_size);

/* 1 when who's role is one of roles (NULL-terminated). */
int sj_act_may(const char *const *roles, const sj_who_t *who);

/* Answers the POST of action name (its CSRF token already checked): 401
 * without a login, 403 when !may (an audit row), the form key's earlier
 * answer when it was posted before (sj_http_once_*), else runs it: an
 * audit row of what was done or refused; a refusal is answered with the
 * reason (text, zh and en), a success 303 to the form's "back" (a path of
 * this page), else to home (home_en for English). */
void sj_act_post(sqlite3 *wdb,
                 sj_http_req_t *req,
                 const sj_who_t *who,
                 const char *name,
                 int may,
                 sj_act_run_fn *run,
                 void *ctx,
                 const char *home,
                 const char *home_en);

#endif
