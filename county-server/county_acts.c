/* county_acts: see county_acts.h. */
#include "county_acts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "county_lock.h"
#include "county_report.h"
#include "sj_clock_cli.h"
#include "sj_i18n.h"
#include "sj_model.h"
#include "sj_periods_db.h"

/* The store's refusal is not bad usage: SJ_EFORBIDDEN (exit 1). */
static int
s_refused(int rc)
{
    return rc == SJ_EINVAL || rc == SJ_ENOTFOUND ? SJ_EFORBIDDEN : rc;
}

static void
s_account(sj_event_t *ev, const char *account)
{
    snprintf(ev->account, sizeof ev->account, "%s", account ? account : "");
}

int
county_extend_do(county_store_t *st,
                 const char *id_text,
                 const char *days,
                 const char *reason,
                 const char *approved_by,
                 const char *stage,
                 const char *officer,
                 const char *account,
                 const sj_periods_t *p,
                 sj_event_t *ev_out,
                 sj_clock_t *after,
                 char ev_text[SJ_UUID_TEXT],
                 char *err,
                 size_t err_size)
{
    sj_event_t *ev = malloc(sizeof *ev);
    if (!ev) {
        snprintf(err, err_size, "out of memory");
        return SJ_ENOMEM;
    }
    int rc = sj_clock_extension_fill(ev, id_text, days, reason, approved_by, stage, officer, err,
                                     err_size);
    if (rc == SJ_OK) {
        s_account(ev, account);
        char today[11];
        sj_date_today(today);
        sj_periods_t held;
        if (!p) { /* the periods the county holds (run's, sent down), or the defaults */
            rc = sj_periods_db_get(county_store_db(st), &held, NULL);
            p = &held;
        }
        if (rc == SJ_OK) {
            rc = s_refused(county_store_extend(st, ev, p, today, after, err, err_size));
        } else {
            snprintf(err, err_size, "cannot read the periods: %s", sj_strerror(rc));
        }
    }
    if (rc == SJ_OK) {
        sj_uuid_format(ev->id, ev_text);
        if (ev_out) {
            *ev_out = *ev;
        }
    }
    free(ev);
    return rc;
}

int
county_fix_do(county_store_t *st,
              int is_void,
              const char *id_text,
              const char *const vals[SJ_FIX_COUNT],
              const char *reason,
              const char *officer,
              const char *account,
              char ev_text[SJ_UUID_TEXT],
              char *err,
              size_t err_size)
{
    sj_event_t *ev = malloc(sizeof *ev);
    if (!ev) {
        snprintf(err, err_size, "out of memory");
        return SJ_ENOMEM;
    }
    static const char *const none[SJ_FIX_COUNT] = {NULL};
    int rc = sj_fix_fill(ev, is_void, id_text ? id_text : "", vals ? vals : none, reason, officer,
                         err, err_size);
    if (rc == SJ_OK) {
        s_account(ev, account);
        rc = s_refused(county_store_fix(st, ev, err, err_size));
    }
    if (rc == SJ_OK) {
        sj_uuid_format(ev->id, ev_text);
    }
    free(ev);
    return rc;
}

int
county_evaluate_do(county_store_t *st,
                   const char *id_text,
                   const char *satisfaction,
                   const char *note,
                   const char *officer,
                   const char *account,
                   int *value,
                   char ev_text[SJ_UUID_TEXT],
                   char *err,
                   size_t err_size)
{
    sj_event_t *ev = malloc(sizeof *ev);
    if (!ev) {
        snprintf(err, err_size, "out of memory");
        return SJ_ENOMEM;
    }
    int rc = sj_evaluation_fill(ev, id_text, satisfaction, note, officer, err, err_size);
    if (rc == SJ_OK) {
        s_account(ev, account);
        *value = ev->satisfaction;
        rc = s_refused(county_store_evaluate(st, ev, err, err_size));
    }
    if (rc == SJ_OK) {
        sj_uuid_format(ev->id, ev_text);
    }
    free(ev);
    return rc;
}

int
county_lock_do(county_store_t *st,
               const char *month,
               const char *year,
               const char *who,
               char *err,
               size_t err_size)
{
    if (month && !month[0]) {
        month = NULL;
    }
    if (year && !year[0]) {
        year = NULL;
    }
    if (!month == !year) {
        snprintf(err, err_size, "%s", _("lock needs --month YYYY-MM or --year YYYY (one)"));
        return SJ_EINVAL;
    }
    if (month && !county_lock_month_ok(month)) {
        snprintf(err, err_size, _("--month '%.32s' is not a month YYYY-MM"), month);
        return SJ_EINVAL;
    }
    int y = 0;
    if (year && county_report_year_parse(year, &y) != SJ_OK) {
        snprintf(err, err_size, _("--year '%.32s' is not a year (%d..%d)"), year,
                 COUNTY_REPORT_YEAR_MIN, COUNTY_REPORT_YEAR_MAX);
        return SJ_EINVAL;
    }
    if (!who || !who[0] || strlen(who) > SJ_MAX_OFFICER_BYTES) {
        snprintf(err, err_size, _("--officer is over %d bytes"), SJ_MAX_OFFICER_BYTES);
        return SJ_EINVAL;
    }
    /* A period locked already: SJ_EINVAL, as the CLI always said (exit 2). */
    return county_lock_period(county_store_db(st), month ? month : year, who, err, err_size);
}
