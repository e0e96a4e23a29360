/* hub_acts: see hub_acts.h. */
#include "hub_acts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "hub_store_view.h"
#include "sj_clock_cli.h"
#include "sj_i18n.h"
#include "sj_model.h"
#include "sj_periods_db.h"
#include "sj_places.h"

/* The store's refusal is not bad usage: SJ_EFORBIDDEN (exit 1). */
static int
s_refused(int rc)
{
    return rc == SJ_EINVAL || rc == SJ_ENOTFOUND ? SJ_EFORBIDDEN : rc;
}

static int
s_text_ok(const char *v, size_t max)
{
    return !v || (strlen(v) <= max && sj_utf8_valid(v, strlen(v)));
}

/* The store's directory (its allowlist names the stations enrolled). */
static void
s_dir(hub_store_t *st, char *dir, size_t size)
{
    const char *file = sqlite3_db_filename(hub_store_db(st), "main");
    snprintf(dir, size, "%s", file ? file : "");
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
    } else {
        snprintf(dir, size, ".");
    }
}

int
hub_assign_check(const char *id_text,
                 const char *to,
                 const char *due,
                 const char *note,
                 const char *officer,
                 char *err,
                 size_t err_size)
{
    uint8_t id[SJ_ID_BYTES];
    if (!id_text || sj_uuid_parse(id_text, id) != SJ_OK) {
        snprintf(err, err_size, _("'%.64s' is not a case id (a UUID)"), id_text ? id_text : "");
        return SJ_EINVAL;
    }
    if (!to || !to[0] || !due || !due[0]) {
        snprintf(err, err_size, "%s", _("assign needs --to STATION and --due YYYY-MM-DD"));
        return SJ_EINVAL;
    }
    if (sj_code_level(to) != 12) {
        snprintf(err, err_size, _("--to '%.32s' is not a 12-digit station code"), to);
        return SJ_EINVAL;
    }
    if (!sj_date_valid(due)) {
        snprintf(err, err_size, _("--due '%.32s' is not a date YYYY-MM-DD"), due);
        return SJ_EINVAL;
    }
    if (!s_text_ok(note, SJ_MAX_NOTE_BYTES) || !s_text_ok(officer, SJ_MAX_OFFICER_BYTES)) {
        snprintf(err, err_size,
                 _("--note (at most %d bytes) and --officer (at most %d) must be UTF-8 text"),
                 SJ_MAX_NOTE_BYTES, SJ_MAX_OFFICER_BYTES);
        return SJ_EINVAL;
    }
    return SJ_OK;
}

int
hub_assign_do(hub_store_t *st,
              const char *id_text,
              const char *to,
              const char *due,
              const char *note,
              const char *officer,
              const char *account,
              char ev_text[SJ_UUID_TEXT],
              char *err,
              size_t err_size)
{
    int rc = hub_assign_check(id_text, to, due, note, officer, err, err_size);
    if (rc != SJ_OK) {
        return rc;
    }
    uint8_t id[SJ_ID_BYTES];
    if (sj_uuid_parse(id_text, id) != SJ_OK) { /* checked above */
        return SJ_EINVAL;
    }
    char today[11];
    sj_date_today(today);
    if (strcmp(due, today) < 0) {
        snprintf(err, err_size, _("--due %s is in the past (today is %s); nothing stored"), due,
                 today);
        return SJ_EFORBIDDEN;
    }
    /* Issue 15 item 5: only to a station this hub has heard of. */
    static const char *const heard[] = {"SELECT 1 FROM reports WHERE origin = ?1 LIMIT 1",
                                        "SELECT 1 FROM events WHERE origin = ?1 LIMIT 1", NULL};
    int known = 1; /* a code outside the township: hub_store_assign says so */
    if (sj_code_under(to, hub_store_code(st))) {
        char dir[4096];
        s_dir(st, dir, sizeof dir);
        rc = sj_places_known(hub_store_db(st), dir, to, heard, &known, err, err_size);
    }
    if (rc != SJ_OK) {
        snprintf(err, err_size, "cannot read the hub store");
        return rc;
    }
    if (!known) {
        return SJ_EFORBIDDEN;
    }
    uint8_t ev_id[SJ_ID_BYTES];
    hub_store_set_account(st, account);
    rc = hub_store_assign(st, id, to, due, note ? note : "", officer ? officer : "", ev_id, err,
                          err_size);
    hub_store_set_account(st, NULL);
    if (rc == SJ_OK) {
        sj_uuid_format(ev_id, ev_text);
    }
    return s_refused(rc);
}

int
hub_update_check(const char *id_text,
                 const char *outcome_name,
                 const char *note,
                 const char *officer,
                 const char *satisfaction_name,
                 int *outcome_value,
                 int *satisfaction_value,
                 char *err,
                 size_t err_size)
{
    uint8_t id[SJ_ID_BYTES];
    if (!id_text || sj_uuid_parse(id_text, id) != SJ_OK) {
        snprintf(err, err_size, _("'%.64s' is not a case id (a UUID)"), id_text ? id_text : "");
        return SJ_EINVAL;
    }
    int outcome =
        outcome_name && outcome_name[0] ? sj_enum_value(SJ_FIELD_OUTCOME, outcome_name) : 0;
    if (!outcome) {
        char list[320];
        sj_enum_list_lang(SJ_FIELD_OUTCOME, sj_i18n_lang(), list, sizeof list);
        snprintf(err, err_size, _("--outcome is required, one of: %s"), list);
        return SJ_EINVAL;
    }
    int satisfaction = 0;
    if (satisfaction_name && satisfaction_name[0]) {
        satisfaction = sj_satisfaction_value(satisfaction_name);
        if (!satisfaction) {
            snprintf(err, err_size,
                     "--satisfaction '%.32s': give 满意 (satisfied), 基本满意 (basically), 不满意"
                     " (dissatisfied) or 未评价 (not_evaluated)",
                     satisfaction_name);
            return SJ_EINVAL;
        }
        if (outcome != 2 && outcome != 4) { /* resolved_on_spot, closed */
            snprintf(err, err_size,
                     "--satisfaction goes with a conclusion (--outcome closed or"
                     " resolved_on_spot)");
            return SJ_EINVAL;
        }
    }
    if (!s_text_ok(note, SJ_MAX_NOTE_BYTES) || !s_text_ok(officer, SJ_MAX_OFFICER_BYTES)) {
        snprintf(err, err_size,
                 _("--note (at most %d bytes) and --officer (at most %d) must be UTF-8 text"),
                 SJ_MAX_NOTE_BYTES, SJ_MAX_OFFICER_BYTES);
        return SJ_EINVAL;
    }
    *outcome_value = outcome;
    *satisfaction_value = satisfaction;
    return SJ_OK;
}

int
hub_update_do(hub_store_t *st,
              const char *id_text,
              const char *outcome_name,
              const char *note,
              const char *officer,
              const char *satisfaction_name,
              const char *account,
              int *outcome_value,
              sj_update_result_t *res,
              char *err,
              size_t err_size)
{
    int satisfaction = 0;
    int rc = hub_update_check(id_text, outcome_name, note, officer, satisfaction_name,
                              outcome_value, &satisfaction, err, err_size);
    if (rc != SJ_OK) {
        return rc;
    }
    uint8_t id[SJ_ID_BYTES];
    if (sj_uuid_parse(id_text, id) != SJ_OK) { /* checked above */
        return SJ_EINVAL;
    }
    int outcome = *outcome_value;
    hub_store_set_account(st, account);
    rc = hub_store_update_ex(st, id, outcome, satisfaction, note ? note : "",
                             officer ? officer : "", res, err, err_size);
    hub_store_set_account(st, NULL);
    return s_refused(rc);
}

int
hub_extend_do(hub_store_t *st,
              const char *id_text,
              const char *days,
              const char *reason,
              const char *approved_by,
              const char *stage,
              const char *officer,
              const char *account,
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
        snprintf(ev->account, sizeof ev->account, "%s", account ? account : "");
        sj_periods_t p; /* the county's, sent down (or the defaults) */
        char today[11];
        sj_date_today(today);
        rc = sj_periods_db_get(hub_store_db(st), &p, NULL);
        if (rc == SJ_OK) {
            rc = s_refused(hub_store_extend(st, ev, &p, today, after, err, err_size));
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
hub_fix_do(hub_store_t *st,
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
        snprintf(ev->account, sizeof ev->account, "%s", account ? account : "");
        rc = s_refused(hub_store_fix(st, ev, err, err_size));
    }
    if (rc == SJ_OK) {
        sj_uuid_format(ev->id, ev_text);
    }
    free(ev);
    return rc;
}

int
hub_approve_do(hub_store_t *st,
               const char *month,
               const char *officer,
               const char *account,
               char *err,
               size_t err_size)
{
    if (!month || !month[0]) {
        snprintf(err, err_size, "%s", _("approve needs --month YYYY-MM"));
        return SJ_EINVAL;
    }
    if (!sj_month_valid(month)) {
        snprintf(err, err_size, _("--month '%.32s' is not a month YYYY-MM"), month);
        return SJ_EINVAL;
    }
    if (!officer || strlen(officer) > SJ_MAX_OFFICER_BYTES) {
        snprintf(err, err_size, _("--officer is over %d bytes"), SJ_MAX_OFFICER_BYTES);
        return SJ_EINVAL;
    }
    hub_store_set_account(st, account);
    int rc = hub_store_approve(st, month, officer, err, err_size);
    hub_store_set_account(st, NULL);
    return s_refused(rc);
}
