/* county_http: the county dashboard, served by `county-server serve` (a
 * process of its own with a read-only connection, next to `run`).
 *
 * Page: "/" (county-server/web/index.html, app.js, style.css and Chart.js
 * from Debian's libjs-chart.js, all compiled into the binary).
 * JSON API, GET or HEAD only, bad parameters 400 {"error": "..."}:
 *   /api/stats?by=&from=&to=&township=&station=&channel=&kind=&level=
 *              &category=&outcome=&source=
 *       exactly what `county-server stats --cases --format json` prints for the
 *       same options (county_query_stats).
 *   /api/townships?<the same filters but by>&silent_after=S
 *       {"rows":[{"township","items","persons","last_contact","silent_s",
 *       "silent"}],"total":{...},"silent_after_s":S}: matters and persons
 *       per township (stats by township), and the last contact of the
 *       township's hub from the links table (null when it never connected);
 *       townships with a hub but no matching matters have 0.
 *       Every row also has the case figures of stats (open, overdue, ...).
 *   /api/cases?overdue=1|0&open=1|0&conflicts=1|0&township=&source=&from=&to=
 *       exactly what `county-server cases --format json` prints for the same
 *       options (county_cases_query); flags take 1/0 or true/false.
 *   /api/links?silent_after=S
 *       exactly what `county-server status --format json --silent-after S`
 *       prints (county_status_write): every child link, silent first.
 *   /api/me
 *       {"user","role","unit","csrf","actions":[...]}: who is logged in, the
 *       CSRF token for the page's forms, what the role may do (issue 17).
 * Pages with accounts (issue 17): /login, /logout (sj_login), /audit (the
 * audit trail, role admin), POSTs of the actions (county_web.c). Who may see
 * what: a logged-in account; or, on a loopback address without a token
 * while the county has no account, anyone (read only, as before accounts);
 * or a read-only API client with "Authorization: Bearer TOKEN" (GET /api/
 * only). Otherwise an API path answers 401 and a page 303 to /login.
 * Anything else is 404. */
#ifndef COUNTY_HTTP_H
#define COUNTY_HTTP_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "county_store.h"
#include "sj_clock.h"
#include "sj_err.h"

#define COUNTY_HTTP_DEFAULT_ADDR "127.0.0.1:8080"
#define COUNTY_HTTP_SILENT_S     3600 /* default: a link unheard this long is silent */

typedef struct county_http county_http_t;

/* Serves the dashboard on addr (a page with accounts, sj_http_new_accounts:
 * the caller checks that an address off loopback has a token or accounts)
 * from db (borrowed, read-only) and wst (borrowed, open for writing: the
 * accounts, the audit trail and the actions of the page; both used only on the
 * server's thread from now on, until county_http_destroy). silent_s is the default silent_after.
 * Returns the server (caller owns) or NULL with err. */
county_http_t *county_http_new(sqlite3 *db,
                               county_store_t *wst,
                               const char *addr,
                               const char *token,
                               int64_t silent_s,
                               char *err,
                               size_t err_size);
/* The clock's periods of every figure the server gives (overdue, the
 * rates; docs/CLOCK.md): copied; call before county_http_new. Not called:
 * the defaults. */
void county_http_periods(const sj_periods_t *p);
/* Stops serving; NULL-safe, sets *self_p = NULL. */
void county_http_destroy(county_http_t **self_p);
/* The port bound. */
uint16_t county_http_port(const county_http_t *self);

#endif
