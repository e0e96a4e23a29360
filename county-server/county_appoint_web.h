/* county_appoint_web: the appointments' page and page actions (issue 16
 * item 6, docs/RECEPTION.md): GET /appointments?on=DATE&office=NAME, the
 * office's day list (kept/missed buttons and the appoint form for role
 * staff), and the actions /act/appoint and /act/appointment of county_web.c's
 * table, through the same code as the CLI (county_appoint.h). */
#ifndef COUNTY_APPOINT_WEB_H
#define COUNTY_APPOINT_WEB_H

#include <sqlite3.h>

#include "county_store.h"
#include "sj_form.h"
#include "sj_http.h"
#include "sj_login.h"
#include "sj_model.h"

/* /act/appoint: case, on, at, office, note; the officer is the account. */
int county_appoint_web_make(county_store_t *wst,
                            const sj_form_t *form,
                            const sj_who_t *who,
                            char *done,
                            size_t done_size,
                            char *err,
                            size_t err_size);
/* /act/appointment: case, appointment (its id; "" the latest), kept 1|0, note. */
int county_appoint_web_mark(county_store_t *wst,
                            const sj_form_t *form,
                            const sj_who_t *who,
                            char *done,
                            size_t done_size,
                            char *err,
                            size_t err_size);
/* GET /appointments: the day list (who NULL: nobody logged in; no buttons). */
void county_appoint_page(sqlite3 *db, sj_http_req_t *req, const sj_who_t *who, sj_lang_t lang);

#endif
