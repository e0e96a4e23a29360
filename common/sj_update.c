#include "sj_update.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <inttypes.h>

#include "sj_db.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_model.h"

int
sj_update_in_tx(sqlite3 *db,
                int (*tx)(void *ctx, char *reason, size_t reason_size),
                void *ctx,
                const char *what,
                char *reason,
                size_t reason_size)
{
    reason[0] = '\0';
    int rc = sj_db_begin(db);
    if (rc == SJ_OK) {
        rc = tx(ctx, reason, reason_size);
        if (rc == SJ_OK) {
            rc = sj_db_commit(db);
        }
        if (rc != SJ_OK) {
            sj_db_rollback(db);
        }
    }
    if (rc != SJ_OK && !reason[0]) {
        snprintf(reason, reason_size, "the %s was NOT stored: %s", what, sj_strerror(rc));
    }
    return rc;
}

void
sj_update_assignment(sj_event_t *ev,
                     const uint8_t case_id[SJ_ID_BYTES],
                     const char *assignee,
                     const char *due_on,
                     const char *note,
                     const char *officer)
{
    ev->type = SJ_EVENT_ASSIGNMENT;
    memcpy(ev->case_id, case_id, SJ_ID_BYTES);
    snprintf(ev->assignee, sizeof ev->assignee, "%s", assignee ? assignee : "");
    snprintf(ev->due_on, sizeof ev->due_on, "%s", due_on ? due_on : "");
    snprintf(ev->note, sizeof ev->note, "%s", note ? note : "");
    snprintf(ev->officer, sizeof ev->officer, "%s", officer ? officer : "");
}

typedef struct {
    sj_update_tx_fn tx;
    void *ctx;
    sj_event_t *ev;
    sj_update_result_t *res;
} s_run_t;

static int
s_run_tx(void *ctx, char *reason, size_t reason_size)
{
    s_run_t *r = ctx;
    return r->tx(r->ctx, r->ev, r->res, reason, reason_size);
}

int
sj_update_run(sqlite3 *db,
              sj_update_tx_fn tx,
              void *ctx,
              const uint8_t case_id[SJ_ID_BYTES],
              int outcome,
              const char *note,
              const char *officer,
              sj_update_result_t *res,
              char *reason,
              size_t reason_size)
{
    return sj_update_run_ex(db, tx, ctx, case_id, outcome, 0, note, officer, res, reason,
                            reason_size);
}

int
sj_update_run_ex(sqlite3 *db,
                 sj_update_tx_fn tx,
                 void *ctx,
                 const uint8_t case_id[SJ_ID_BYTES],
                 int outcome,
                 int satisfaction,
                 const char *note,
                 const char *officer,
                 sj_update_result_t *res,
                 char *reason,
                 size_t reason_size)
{
    memset(res, 0, sizeof *res);
    sj_event_t *ev = calloc(1, sizeof *ev);
    if (!ev) {
        snprintf(reason, reason_size, "the change was NOT stored: %s", sj_strerror(SJ_ENOMEM));
        return SJ_ENOMEM;
    }
    memcpy(ev->case_id, case_id, SJ_ID_BYTES);
    ev->new_outcome = outcome;
    ev->satisfaction = satisfaction;
    snprintf(ev->note, sizeof ev->note, "%s", note ? note : "");
    snprintf(ev->officer, sizeof ev->officer, "%s", officer ? officer : "");
    s_run_t r = {.tx = tx, .ctx = ctx, .ev = ev, .res = res};
    int rc = sj_update_in_tx(db, s_run_tx, &r, "change", reason, reason_size);
    if (rc == SJ_OK) {
        memcpy(res->ev_id, ev->id, SJ_ID_BYTES);
    }
    free(ev);
    return rc;
}

int
sj_update_report(const char *tool,
                 const char *id_text,
                 int outcome,
                 const sj_update_result_t *res,
                 const char *where)
{
    char text[SJ_UUID_TEXT];
    sj_uuid_format(res->ev_id, text);
    printf("%s\n", text);
    fflush(stdout);
    const char *prev = sj_enum_name(SJ_FIELD_OUTCOME, res->prev);
    const char *now = sj_enum_name(SJ_FIELD_OUTCOME, res->now);
    const char *want = sj_enum_name(SJ_FIELD_OUTCOME, outcome);
    const char *prev_zh = sj_enum_label(SJ_FIELD_OUTCOME, res->prev, SJ_LANG_ZH);
    const char *now_zh = sj_enum_label(SJ_FIELD_OUTCOME, res->now, SJ_LANG_ZH);
    if (res->took_effect) {
        fprintf(stderr, "case %s: %s -> %s, in force 已生效 (%s → %s; %s)\n", id_text,
                prev ? prev : "?", now ? now : "?", prev_zh ? prev_zh : "?", now_zh ? now_zh : "?",
                where);
        return 0;
    }
    fprintf(stderr,
            "%s: case %s: the change to %s was stored (event %s, %s) but did NOT take effect"
            " 未生效: %s (%s) is in force (the conflict is listed by 'cases --conflicts')\n",
            tool, id_text, want ? want : "?", text, where, now ? now : "?", now_zh ? now_zh : "?");
    return 1;
}

int
sj_own_append(sqlite3 *db,
              const char *origin,
              const uint8_t epoch[SJ_EPOCH_BYTES],
              int (*store)(void *ctx,
                           const char *code,
                           const sj_event_t *ev,
                           const uint8_t *raw,
                           size_t len,
                           sj_stored_t *result),
              void *ctx,
              const char *who,
              sj_event_t *ev,
              uint8_t **raw_p,
              size_t *len_p,
              char *reason,
              size_t reason_size)
{
    int64_t seq = 0;
    int rc = sj_db_meta_get_int(db, "own_seq", &seq);
    if (rc == SJ_ENOTFOUND) {
        memset(ev->prev_hash, 0, SJ_HASH_BYTES);
        seq = 0;
        rc = SJ_OK;
    } else if (rc == SJ_OK) {
        rc = sj_db_meta_get_blob(db, "own_hash", ev->prev_hash, SJ_HASH_BYTES);
    }
    if (rc != SJ_OK) {
        return rc;
    }
    sj_uuid7_new(ev->id);
    snprintf(ev->origin, sizeof ev->origin, "%s", origin);
    memcpy(ev->epoch, epoch, SJ_EPOCH_BYTES);
    ev->origin_seq = (uint64_t) seq + 1;
    ev->created_ms = sj_event_now_ms();
    uint8_t *raw = NULL;
    size_t len = 0;
    rc = sj_event_encode(ev, &raw, &len);
    if (rc != SJ_OK) {
        return rc;
    }
    uint8_t hash[SJ_HASH_BYTES];
    sj_event_hash(raw, len, hash);
    sj_stored_t res = SJ_STORED_NEW;
    rc = store(ctx, origin, ev, raw, len, &res);
    if (rc == SJ_OK && res != SJ_STORED_NEW) {
        snprintf(reason, reason_size,
                 "the %s's own stream is out of step with its events (seq %" PRIu64
                 " already stored)",
                 who, ev->origin_seq);
        rc = SJ_EDB;
    }
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_int(db, "own_seq", (int64_t) ev->origin_seq);
    }
    if (rc == SJ_OK) {
        rc = sj_db_meta_set_blob(db, "own_hash", hash, SJ_HASH_BYTES);
    }
    if (rc == SJ_OK && raw_p) {
        *raw_p = raw;
        *len_p = len;
        raw = NULL;
    }
    free(raw);
    return rc;
}

static int
s_text_ok(const char *v, size_t max)
{
    return !v || (strlen(v) <= max && sj_utf8_valid(v, strlen(v)));
}

int
sj_fix_fill(sj_event_t *ev,
            int is_void,
            const char *case_id,
            const char *const vals[SJ_FIX_COUNT],
            const char *reason,
            const char *officer,
            char *err,
            size_t err_size)
{
    memset(ev, 0, sizeof *ev);
    ev->type = is_void ? SJ_EVENT_VOID : SJ_EVENT_CORRECTION;
    ev->report.summary = ev->summary;
    ev->report.officer = ev->officer;
    if (sj_uuid_parse(case_id, ev->case_id) != SJ_OK) {
        snprintf(err, err_size, _("'%s' is not a case id (a UUID)"), case_id);
        return SJ_EINVAL;
    }
    if (!reason || !reason[0] || !s_text_ok(reason, SJ_MAX_NOTE_BYTES)) {
        snprintf(err, err_size, _("%s needs --reason TEXT (UTF-8, at most %d bytes): why"),
                 is_void ? "void" : "correct", SJ_MAX_NOTE_BYTES);
        return SJ_EINVAL;
    }
    if (!s_text_ok(officer, SJ_MAX_OFFICER_BYTES)) {
        snprintf(err, err_size, _("--officer must be UTF-8 text of at most %d bytes"),
                 SJ_MAX_OFFICER_BYTES);
        return SJ_EINVAL;
    }
    snprintf(ev->note, sizeof ev->note, "%s", reason);
    snprintf(ev->officer, sizeof ev->officer, "%s", officer ? officer : "");
    if (is_void) {
        return SJ_OK;
    }
    static const struct {
        int at;
        sj_field_t field;
    } enums[] = {{SJ_FIX_CHANNEL, SJ_FIELD_CHANNEL},
                 {SJ_FIX_KIND, SJ_FIELD_KIND},
                 {SJ_FIX_LEVEL, SJ_FIELD_LEVEL},
                 {SJ_FIX_CATEGORY, SJ_FIELD_CATEGORY},
                 {SJ_FIX_SOURCE, SJ_FIELD_SOURCE}};
    int *dst[] = {&ev->report.channel, &ev->report.kind, &ev->report.level, &ev->report.category,
                  &ev->report.source};
    int any = 0;
    for (size_t i = 0; i < sizeof enums / sizeof enums[0]; i++) {
        const char *v = vals[enums[i].at];
        if (!v) {
            continue;
        }
        any = 1;
        *dst[i] = sj_enum_value(enums[i].field, v);
        if (!*dst[i]) {
            char list[320];
            sj_enum_list_lang(enums[i].field, sj_i18n_lang(), list, sizeof list);
            snprintf(err, err_size, _("--%s '%s' is not one of: %s"), sj_field_name(enums[i].field),
                     v, list);
            return SJ_EINVAL;
        }
    }
    if (vals[SJ_FIX_PERSONS]) {
        char *end = NULL;
        long n = strtol(vals[SJ_FIX_PERSONS], &end, 10);
        if (!end || *end || end == vals[SJ_FIX_PERSONS] || n < 1 || n > SJ_MAX_PERSONS) {
            snprintf(err, err_size, _("--persons '%s' must be a number from 1 to %d"),
                     vals[SJ_FIX_PERSONS], SJ_MAX_PERSONS);
            return SJ_EINVAL;
        }
        ev->report.persons = (uint32_t) n;
        any = 1;
    }
    if (vals[SJ_FIX_OCCURRED]) {
        if (!sj_date_valid(vals[SJ_FIX_OCCURRED])) {
            snprintf(err, err_size, _("--occurred '%s' is not a date YYYY-MM-DD"),
                     vals[SJ_FIX_OCCURRED]);
            return SJ_EINVAL;
        }
        snprintf(ev->report.occurred_on, sizeof ev->report.occurred_on, "%s",
                 vals[SJ_FIX_OCCURRED]);
        any = 1;
    }
    if (vals[SJ_FIX_SUMMARY]) {
        if (!vals[SJ_FIX_SUMMARY][0] || !s_text_ok(vals[SJ_FIX_SUMMARY], SJ_MAX_SUMMARY_BYTES)) {
            snprintf(err, err_size, _("--summary must be UTF-8 text of 1 to %d bytes"),
                     SJ_MAX_SUMMARY_BYTES);
            return SJ_EINVAL;
        }
        snprintf(ev->summary, sizeof ev->summary, "%s", vals[SJ_FIX_SUMMARY]);
        any = 1;
    }
    if (!any) {
        snprintf(err, err_size,
                 _("correct needs at least one field to change: --occurred,"
                   " --channel, --kind, --persons, --level, --category, --source"
                   " or --summary"));
        return SJ_EINVAL;
    }
    return SJ_OK;
}

int
sj_evaluation_fill(sj_event_t *ev,
                   const char *case_id,
                   const char *satisfaction,
                   const char *note,
                   const char *officer,
                   char *err,
                   size_t err_size)
{
    memset(ev, 0, sizeof *ev);
    int value = satisfaction && satisfaction[0] ? sj_satisfaction_value(satisfaction) : 0;
    if (!value) {
        snprintf(err, err_size,
                 "--satisfaction '%.32s': give 满意 (satisfied), 基本满意 (basically), 不满意"
                 " (dissatisfied) or 未评价 (not_evaluated)",
                 satisfaction ? satisfaction : "");
        return SJ_EINVAL;
    }
    if (!s_text_ok(note, SJ_MAX_NOTE_BYTES) || !s_text_ok(officer, SJ_MAX_OFFICER_BYTES)) {
        snprintf(err, err_size,
                 "--note (at most %d bytes) and --officer (at most %d) must be UTF-8 text",
                 SJ_MAX_NOTE_BYTES, SJ_MAX_OFFICER_BYTES);
        return SJ_EINVAL;
    }
    if (!case_id || sj_uuid_parse(case_id, ev->case_id) != SJ_OK) {
        snprintf(err, err_size, "'%.64s' is not a case id (a UUID)", case_id ? case_id : "");
        return SJ_EINVAL;
    }
    ev->type = SJ_EVENT_EVALUATION;
    ev->satisfaction = value;
    snprintf(ev->note, sizeof ev->note, "%s", note ? note : "");
    snprintf(ev->officer, sizeof ev->officer, "%s", officer ? officer : "");
    return SJ_OK;
}
