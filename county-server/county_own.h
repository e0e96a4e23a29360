/* county_own: leader ownership (领导包案) and the weekly meeting's agenda
 * (定期例会) at the county (issue 16 items 4 and 5, docs/MEETING.md):
 * `own`, `leaders`, `agenda`, and the same work for the page (/act/own,
 * /agenda, the leader's view). */
#ifndef COUNTY_OWN_H
#define COUNTY_OWN_H

#include <stddef.h>
#include <stdio.h>

#include "county_store_view.h"
#include "sj_cli.h"
#include "sj_clock.h"
#include "sj_err.h"
#include "sj_http.h"
#include "sj_ids.h"
#include "sj_login.h"
#include "sj_model.h"

/* own CASE-ID --leader NAME [--portfolio P] [--officer X]: the checks, then
 * the event of the county's own stream with account (NULL: a command).
 * SJ_OK with the event's id in ev_id; SJ_EINVAL (bad input), SJ_ENOTFOUND
 * (no such case) with the reason in err. The CLI and the page call it. */
SJ_NODISCARD int county_own_do(county_store_t *st,
                               const char *id_text,
                               const char *leader,
                               const char *portfolio,
                               const char *officer,
                               const char *account,
                               char ev_id[SJ_UUID_TEXT],
                               char *err,
                               size_t err_size);

/* The commands (ids: the tool's option ids). */
int county_own_cmd(const sj_cli_args_t *a, int leader_id, int portfolio_id, int officer_id);
int county_leaders_cmd(const sj_cli_args_t *a, int format_id, const sj_periods_t *p);
int county_agenda_cmd(const sj_cli_args_t *a, int week_id, int format_id, const sj_periods_t *p);

/* The agenda of week (NULL: the coming one) as fmt ("md", "html") on the
 * periods p (NULL: the defaults). SJ_EINVAL (bad week) with the reason. */
SJ_NODISCARD int county_agenda_write(sqlite3 *db,
                                     const char *code,
                                     const char *week,
                                     const char *fmt,
                                     const sj_periods_t *p,
                                     FILE *out,
                                     char *err,
                                     size_t err_size);

/* The page's views (county_http.c routes them): /leader, a leader's account's
 * own cases (role leader: the cases owned under its account name, read
 * only) with the agenda's link; /agenda?week=YYYY-Www, the agenda as a
 * printable page. */
void county_own_leader_page(sqlite3 *db, sj_http_req_t *req, const sj_who_t *who, sj_lang_t lang);
void county_own_agenda_page(sqlite3 *db, const char *code, sj_http_req_t *req);

#endif
