/* county_web: what the county dashboard's people do and see by account
 * (issue 17): who is logged in (/api/me), the audit trail's page (/audit,
 * role admin) and the actions posted from the page.
 *
 * Actions are a table (county_web.c s_actions): the form's path, the roles
 * that may post it, and the function that does it through the same code as
 * the CLI command. A role not listed gets 403 (and an audit row); the page
 * shows an action's buttons only to the roles listed (/api/me "actions"). */
#ifndef COUNTY_WEB_H
#define COUNTY_WEB_H

#include <sqlite3.h>

#include "county_store.h"
#include "sj_http.h"
#include "sj_login.h"
#include "sj_model.h"

/* GET /api/me. who NULL: nobody logged in (an open page or an API client). */
void county_web_me(sqlite3 *wdb, sj_http_req_t *req, const sj_who_t *who);
/* GET /audit?user=&from=&to= (role admin; else 403). */
void county_web_audit(sqlite3 *wdb, sj_http_req_t *req, const sj_who_t *who, sj_lang_t lang);
/* Any POST but /login and /logout (its CSRF token already checked). */
void county_web_post(county_store_t *wst, sj_http_req_t *req, const sj_who_t *who, sj_lang_t lang);

#endif
