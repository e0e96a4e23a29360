#include "sj_clock_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_model.h"

static const char *const s_keys[5] = {SJ_PERIOD_KEYS};

int
sj_clock_cli_periods_vals(const char *tool, const char *const vals[5], sj_periods_t *p)
{
    sj_periods_t d;
    sj_periods_default(&d);
    return sj_clock_cli_periods_over(tool, vals, &d, p);
}

int
sj_clock_cli_periods_over(const char *tool,
                          const char *const vals[5],
                          const sj_periods_t *base,
                          sj_periods_t *p)
{
    *p = *base;
    char err[256];
    for (int i = 0; i < 5; i++) {
        if (vals[i] && sj_periods_set(p, s_keys[i], vals[i], err, sizeof err) != SJ_OK) {
            fprintf(stderr, "%s: %s\n", tool, err);
            return 2;
        }
    }
    return 0;
}

int
sj_clock_cli_periods(const sj_cli_args_t *a, const sj_clock_cli_ids_t *ids, sj_periods_t *p)
{
    sj_periods_t d;
    sj_periods_default(&d);
    return sj_clock_cli_periods_on(a, ids, &d, p);
}

int
sj_clock_cli_periods_on(const sj_cli_args_t *a,
                        const sj_clock_cli_ids_t *ids,
                        const sj_periods_t *base,
                        sj_periods_t *p)
{
    const char *vals[5];
    for (int i = 0; i < 5; i++) {
        vals[i] = ids->ids[i] ? sj_cli_val(a, ids->ids[i]) : NULL;
    }
    return sj_clock_cli_periods_over(a->tool->tool, vals, base, p);
}

int
sj_clock_extension_fill(sj_event_t *ev,
                        const char *case_id,
                        const char *days_text,
                        const char *reason,
                        const char *approved,
                        const char *stage_text,
                        const char *officer,
                        char *err,
                        size_t err_size)
{
    memset(ev, 0, sizeof *ev);
    char *end = NULL;
    long long days = days_text && days_text[0] ? strtoll(days_text, &end, 10) : 0;
    if (!days_text || !end || *end || days < 1 || days > SJ_PERIOD_MAX_DAYS) {
        snprintf(err, err_size, "--days '%.32s': give a whole number 1..%d",
                 days_text ? days_text : "", SJ_PERIOD_MAX_DAYS);
        return SJ_EINVAL;
    }
    int stage = SJ_STAGE_NONE;
    if (stage_text && stage_text[0] && (stage = sj_stage_parse(stage_text)) == SJ_STAGE_NONE) {
        snprintf(err, err_size, "--stage '%.32s': give acceptance, conclusion or review",
                 stage_text);
        return SJ_EINVAL;
    }
    if (!reason || !reason[0] || strlen(reason) > SJ_MAX_NOTE_BYTES
        || !sj_utf8_valid(reason, strlen(reason))) {
        snprintf(err, err_size, "--reason: give the reason told (1..%d bytes of UTF-8)",
                 SJ_MAX_NOTE_BYTES);
        return SJ_EINVAL;
    }
    if (!approved || !approved[0] || strlen(approved) > SJ_MAX_OFFICER_BYTES
        || !sj_utf8_valid(approved, strlen(approved))) {
        snprintf(err, err_size, "--approved-by: give the approving head's name (1..%d bytes)",
                 SJ_MAX_OFFICER_BYTES);
        return SJ_EINVAL;
    }
    if (officer
        && (strlen(officer) > SJ_MAX_OFFICER_BYTES || !sj_utf8_valid(officer, strlen(officer)))) {
        snprintf(err, err_size, "--officer: at most %d bytes of UTF-8", SJ_MAX_OFFICER_BYTES);
        return SJ_EINVAL;
    }
    if (!case_id || sj_uuid_parse(case_id, ev->case_id) != SJ_OK) {
        snprintf(err, err_size, "'%.64s' is not a case id (a UUID)", case_id ? case_id : "");
        return SJ_EINVAL;
    }
    ev->type = SJ_EVENT_EXTENSION;
    ev->ext_stage = stage;
    ev->ext_days = (int) days;
    snprintf(ev->note, sizeof ev->note, "%s", reason);
    snprintf(ev->approved_by, sizeof ev->approved_by, "%s", approved);
    snprintf(ev->officer, sizeof ev->officer, "%s", officer ? officer : "");
    return SJ_OK;
}

sj_event_t *
sj_clock_cli_extension(const sj_cli_args_t *a,
                       int days_id,
                       int reason_id,
                       int approved_id,
                       int stage_id,
                       int officer_id,
                       int *code)
{
    const char *tool = a->tool->tool;
    *code = 2;
    if (sj_cli_need(a, days_id, "N") || sj_cli_need(a, reason_id, "TEXT")
        || sj_cli_need(a, approved_id, "NAME")) {
        return NULL;
    }
    sj_event_t *ev = malloc(sizeof *ev);
    if (!ev) {
        fprintf(stderr, _("%s: out of memory\n"), tool);
        *code = 1;
        return NULL;
    }
    char err[512];
    if (sj_clock_extension_fill(ev, a->pos[0], sj_cli_val(a, days_id), sj_cli_val(a, reason_id),
                                sj_cli_val(a, approved_id),
                                stage_id ? sj_cli_val(a, stage_id) : NULL,
                                officer_id ? sj_cli_val(a, officer_id) : NULL, err, sizeof err)
        != SJ_OK) {
        fprintf(stderr, "%s: %s\n", tool, err);
        free(ev);
        return NULL;
    }
    *code = 0;
    return ev;
}

void
sj_clock_cli_report(const char *tool,
                    const char *id_text,
                    const sj_event_t *ev,
                    const sj_clock_t *after,
                    const char *where)
{
    char id[SJ_UUID_TEXT];
    sj_uuid_format(ev->id, id);
    printf("%s\n", id);
    const sj_stage_clock_t *s = &after->st[ev->ext_stage];
    fprintf(stderr,
            "%s: case %s: %s stage extended by %d days (%s 延期 %d 天), due %s; approved by %s"
            " (%s)\n",
            tool, id_text, sj_stage_name(ev->ext_stage), ev->ext_days,
            sj_stage_label_zh(ev->ext_stage), ev->ext_days, s->due, ev->approved_by, where);
}
