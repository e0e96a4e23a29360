/* hub_own: see hub_own.h. */
#include "hub_own.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_read.h"
#include "hub_store.h"
#include "hub_store_view.h"
#include "sj_agenda.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_model.h"
#include "sj_own.h"
#include "sj_users.h"

int
hub_own_cmd(const sj_cli_args_t *a,
            const char *data,
            const char *code,
            int leader_id,
            int portfolio_id,
            int officer_id)
{
    int exit_code = 2;
    sj_event_t *ev = sj_own_cli_event(a, leader_id, portfolio_id, officer_id, &exit_code);
    if (!ev) {
        return exit_code;
    }
    char err[512] = "";
    hub_store_t *st = hub_store_open(data, code, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "township-hub: %s\n", err);
        free(ev);
        return 1;
    }
    int rc = hub_store_own(st, ev, err, sizeof err);
    char detail[800];
    snprintf(detail, sizeof detail, "case %.40s leader %.64s%s%.600s", a->pos[0], ev->leader,
             rc == SJ_OK ? "" : ": ", rc == SJ_OK ? "" : err);
    sj_audit_cli(hub_store_db(st), "own", detail, rc == SJ_OK);
    if (rc == SJ_OK) {
        char id[SJ_UUID_TEXT];
        sj_uuid_format(ev->id, id);
        printf("%s\n", id);
        fprintf(stderr, _("township-hub: case %s: owned by %s, queued for the county\n"), a->pos[0],
                ev->leader);
    } else {
        fprintf(stderr, _("township-hub: ownership refused, nothing stored: %s\n"), err);
    }
    hub_store_close(&st);
    free(ev);
    return rc == SJ_OK ? 0 : 1;
}

/* ---- leaders, agenda (docs/MEETING.md) ---- */

/* The township's cases (not voided) in the columns of sj_agenda_load. */
/* clang-format off */
static const char s_cases_sql[] =
    "SELECT r.id, r.origin, r.occurred_on, r.kind, r.category, coalesce(c.outcome, e.outcome, 1),"
    " r.persons, coalesce(c.reported_outcome, e.outcome, 1), 0, a.due_on,"
    " " SJ_OWN_CURRENT_SQL("leader", "r.id") ","
    " " SJ_OWN_CURRENT_SQL("portfolio", "r.id")
    " FROM reports r LEFT JOIN cases c ON c.id = r.id LEFT JOIN events e ON e.id = r.id"
    " LEFT JOIN assignments a ON a.id = (SELECT b.id FROM assignments b WHERE b.case_id = r.id"
    " ORDER BY b.created_ms DESC, b.id DESC LIMIT 1)"
    " WHERE r.voided = 0 ORDER BY r.origin, r.id";
/* clang-format on */

/* Opens the store and loads the agenda's cases for week (NULL: the coming
 * one). 0, or the exit status after saying why. */
static int
s_load(const char *data, const char *code, const char *week, hub_store_t **st, sj_agenda_t *a)
{
    char err[512] = "", today[11];
    memset(a, 0, sizeof *a);
    sj_date_today(today);
    if (sj_agenda_week(week, today, a, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "township-hub: %s\n", err);
        return 2;
    }
    *st = hub_store_open(data, code, SJ_DB_READ, err, sizeof err);
    if (!*st) {
        fprintf(stderr, "township-hub: %s\n", err);
        return 1;
    }
    sj_periods_t p;
    sj_periods_default(&p); /* not delivered down yet (docs/CLOCK.md) */
    a->tier_zh = "乡镇";
    a->tier_en = "township";
    a->where = hub_store_code(*st);
    a->db = hub_store_db(*st);
    a->history_sql = hub_read_history_sql;
    int rc = sj_agenda_load(a, s_cases_sql, HUB_CLOCK_CHANGES_SQL, &p);
    if (rc != SJ_OK) {
        fprintf(stderr, _("township-hub: cannot read the cases: %s\n"), sj_strerror(rc));
        sj_agenda_free(a);
        hub_store_close(st);
        return 1;
    }
    return 0;
}

int
hub_leaders_cmd(const sj_cli_args_t *a, const char *data, const char *code, sj_format_t fmt)
{
    (void) a;
    hub_store_t *st = NULL;
    sj_agenda_t ag;
    int exit_code = s_load(data, code, NULL, &st, &ag);
    if (exit_code) {
        return exit_code;
    }
    sj_table_t *t = sj_agenda_leaders(&ag);
    int rc = t ? sj_table_write(t, fmt, stdout) : SJ_ENOMEM;
    sj_table_destroy(&t);
    sj_agenda_free(&ag);
    hub_store_close(&st);
    if (rc != SJ_OK) {
        fprintf(stderr, "township-hub: %s\n", sj_strerror(rc));
        return 1;
    }
    return 0;
}

int
hub_agenda_cmd(
    const sj_cli_args_t *a, const char *data, const char *code, int week_id, int format_id)
{
    const char *fmt = sj_cli_val(a, format_id);
    fmt = fmt ? fmt : "md";
    if (strcmp(fmt, "md") != 0 && strcmp(fmt, "html") != 0) {
        fprintf(stderr, _("township-hub: --format '%s': give md or html\n"), fmt);
        return 2;
    }
    hub_store_t *st = NULL;
    sj_agenda_t ag;
    int exit_code = s_load(data, code, sj_cli_val(a, week_id), &st, &ag);
    if (exit_code) {
        return exit_code;
    }
    int rc = sj_agenda_write(&ag, fmt, stdout);
    sj_agenda_free(&ag);
    hub_store_close(&st);
    if (rc != SJ_OK) {
        fprintf(stderr, _("township-hub: cannot write the agenda: %s\n"), sj_strerror(rc));
        return 1;
    }
    return 0;
}
