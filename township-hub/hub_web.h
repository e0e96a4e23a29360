/* hub_web: what the township page's people do by account (issue 17 item
 * 2): the actions posted from the page, a table as county_web.c's (the
 * form's path, the roles that may post it, the function that does it
 * through the same code as the `township-hub` command, hub_acts.h). Role
 * office posts them all; a viewer gets 403 (and an audit row) and sees no
 * buttons (/api/me "actions"). */
#ifndef HUB_WEB_H
#define HUB_WEB_H

#include "hub_store.h"
#include "sj_http.h"
#include "sj_login.h"

/* GET /api/me. who NULL: nobody logged in. */
void hub_web_me(sj_http_req_t *req, const sj_who_t *who);
/* Any POST but /login and /logout (its CSRF token already checked). */
void hub_web_post(hub_store_t *wst, sj_http_req_t *req, const sj_who_t *who);

#endif
