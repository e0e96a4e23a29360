/* hub_cli: see hub_cli.h. Every command gets its options from sj_cli
 * (checked there: which options it takes, how many arguments) and checks
 * their values itself; the bodies open the hub store as they need it. */
#include "hub_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_acts.h"
#include "hub_http.h"
#include "hub_out.h"
#include "hub_own.h"
#include "hub_read.h"
#include "hub_store.h"
#include "hub_store_view.h"
#include "sj_backup.h"
#include "sj_clock_cli.h"
#include "sj_down.h"
#include "sj_enrol.h"
#include "sj_health.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_log.h"
#include "sj_model.h"
#include "sj_node.h"
#include "sj_periods_db.h"
#include "sj_places.h"
#include "sj_users.h"

enum {
    O_DATA = 1000,
    O_CONFIG,
    O_LOG,
    O_CODE,
    O_BIND,
    O_PARENT,
    O_PKEY,
    O_INSECURE,
    O_FORMAT,
    O_SILENT,
    O_CHECK,
    O_BWARN,
    O_BCRIT,
    O_DWARN,
    O_DCRIT,
    O_DOWN_KEEP,
    O_CONFLICTS,
    O_OVERDUE,
    O_OUTCOME,
    O_NOTE,
    O_OFFICER,
    O_TO,
    O_DUE,
    O_BOM,
    O_LABELS,
    O_OCCURRED,
    O_CHANNEL,
    O_KIND,
    O_PERSONS,
    O_LEVEL,
    O_CATEGORY,
    O_SOURCE,
    O_SUMMARY,
    O_REASON,
    O_STATION,
    O_FROM,
    O_UNTIL,
    O_LIMIT,
    O_OFFSET,
    O_UNDELIVERED,
    O_ROLE,
    O_PASSWORD_FILE,
    O_USER,
    O_DAYS,
    O_APPROVED_BY,
    O_STAGE,
    O_SATISFACTION,
    O_MONTH,
    O_LEADER,
    O_PORTFOLIO,
    O_WEEK,
};

static const struct option s_options[] = {
    {"data", required_argument, NULL, O_DATA},
    {"config", required_argument, NULL, O_CONFIG},
    {"log-level", required_argument, NULL, O_LOG},
    {"code", required_argument, NULL, O_CODE},
    {"bind", required_argument, NULL, O_BIND},
    {"parent", required_argument, NULL, O_PARENT},
    {"parent-key", required_argument, NULL, O_PKEY},
    {"insecure", no_argument, NULL, O_INSECURE},
    {"format", required_argument, NULL, O_FORMAT},
    {"silent-after", required_argument, NULL, O_SILENT},
    {"undelivered-after", required_argument, NULL, O_UNDELIVERED},
    {"check", no_argument, NULL, O_CHECK},
    {"backlog-warn", required_argument, NULL, O_BWARN},
    {"backlog-crit", required_argument, NULL, O_BCRIT},
    {"disk-warn", required_argument, NULL, O_DWARN},
    {"disk-crit", required_argument, NULL, O_DCRIT},
    {"down-retention-days", required_argument, NULL, O_DOWN_KEEP},
    {"conflicts", no_argument, NULL, O_CONFLICTS},
    {"overdue", no_argument, NULL, O_OVERDUE},
    {"outcome", required_argument, NULL, O_OUTCOME},
    {"note", required_argument, NULL, O_NOTE},
    {"officer", required_argument, NULL, O_OFFICER},
    {"to", required_argument, NULL, O_TO},
    {"due", required_argument, NULL, O_DUE},
    {"bom", no_argument, NULL, O_BOM},
    {"labels", required_argument, NULL, O_LABELS},
    {"occurred", required_argument, NULL, O_OCCURRED},
    {"channel", required_argument, NULL, O_CHANNEL},
    {"kind", required_argument, NULL, O_KIND},
    {"persons", required_argument, NULL, O_PERSONS},
    {"level", required_argument, NULL, O_LEVEL},
    {"category", required_argument, NULL, O_CATEGORY},
    {"source", required_argument, NULL, O_SOURCE},
    {"summary", required_argument, NULL, O_SUMMARY},
    {"reason", required_argument, NULL, O_REASON},
    {"station", required_argument, NULL, O_STATION},
    {"role", required_argument, NULL, O_ROLE},
    {"month", required_argument, NULL, O_MONTH},
    {"leader", required_argument, NULL, O_LEADER},
    {"portfolio", required_argument, NULL, O_PORTFOLIO},
    {"week", required_argument, NULL, O_WEEK},
    {"password-file", required_argument, NULL, O_PASSWORD_FILE},
    {"user", required_argument, NULL, O_USER},
    {"from", required_argument, NULL, O_FROM},
    {"until", required_argument, NULL, O_UNTIL},
    {"limit", required_argument, NULL, O_LIMIT},
    {"offset", required_argument, NULL, O_OFFSET},
    {"days", required_argument, NULL, O_DAYS},
    {"approved-by", required_argument, NULL, O_APPROVED_BY},
    {"stage", required_argument, NULL, O_STAGE},
    {"satisfaction", required_argument, NULL, O_SATISFACTION},
    {NULL, 0, NULL, 0},
};

/* The general keys of the config file ([township-hub], sj_cfg.h); every
 * other option is a key of its command's section. */
static const char *const s_cfg_general[] = {
    "data",       "code",     "bind", "parent",     "log-level", "silent-after",
    "parent-key", "insecure", "http", "token-file", NULL}; /* http, token-file: serve (hub_http.c)
                                                            */

typedef struct {
    const char *data, *code, *bind, *parent, *parent_key;
    int insecure;
    int check;
    int64_t down_keep_ms;    /* run --down-retention-days */
    sj_health_opts_t health; /* status --check thresholds; health.silent_s also for status */
    sj_format_t format;
} s_opts_t;

static int s_down_retention(const sj_cli_args_t *a, int64_t *ms);

/* The options every command shares, checked. 0, or 2 after saying why. */
static int
s_opts(const sj_cli_args_t *a, s_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->data = a->data;
    o->code = sj_cli_val(a, O_CODE);
    o->bind = sj_cli_val(a, O_BIND);
    o->parent = sj_cli_val(a, O_PARENT);
    o->parent_key = sj_cli_val(a, O_PKEY);
    o->insecure = sj_cli_has(a, O_INSECURE);
    o->check = sj_cli_has(a, O_CHECK);
    if (s_down_retention(a, &o->down_keep_ms)) {
        return 2;
    }
    o->format = SJ_FMT_TABLE;
    sj_health_opts_default(&o->health);
    char err[256];
    if (sj_health_opts_parse(&o->health, sj_cli_val(a, O_SILENT), sj_cli_val(a, O_BWARN),
                             sj_cli_val(a, O_BCRIT), sj_cli_val(a, O_DWARN), sj_cli_val(a, O_DCRIT),
                             err, sizeof err)
        != SJ_OK) {
        fprintf(stderr, "township-hub: %s\n", err);
        return 2;
    }
    long long hours = SJ_DOWN_UNDELIVERED_S / 3600;
    if (sj_cli_int(a, O_UNDELIVERED, 1, 8760, &hours)) {
        return 2;
    }
    sj_down_undelivered_after_set((int64_t) hours * 3600);
    if (sj_cli_code(a, O_CODE, 9, "township") || sj_cli_format(a, O_FORMAT, &o->format)
        || sj_cli_endpoint(a, O_BIND, 1) || sj_cli_endpoint(a, O_PARENT, 0)
        || sj_cli_key(a, O_PKEY)) {
        return 2;
    }
    if (o->code) {
        sj_log_set_ident("township-hub", o->code);
    }
    return 0;
}

/* run --down-retention-days DAYS (0..3650, default 30; 0: as soon as acked)
 * into the engine's retention. 0, or 2 after saying why. */
static int
s_down_retention(const sj_cli_args_t *a, int64_t *ms)
{
    long long days = SJ_DOWN_RETENTION_DAYS;
    if (sj_cli_val(a, O_DOWN_KEEP) && sj_cli_int(a, O_DOWN_KEEP, 0, 3650, &days)) {
        return 2;
    }
    *ms = days > 0 ? days * 86400000LL : 1;
    return 0;
}

/* run: the hub's store for the node engine. */
static int
s_node_open(void *ctx, sj_node_store_t *out, char *err, size_t err_size)
{
    const s_opts_t *o = ctx;
    hub_store_t *st = hub_store_open(o->data, o->code, SJ_DB_WRITE, err, err_size);
    if (!st) {
        return SJ_EIO;
    }
    out->store = st;
    out->db = hub_store_db(st);
    out->code = hub_store_code(st);
    out->store_epoch = hub_store_epoch(st);
    out->link_epoch = hub_store_link_epoch(st);
    return SJ_OK;
}

/* The engine's idle hook: a step of the search index (sj_history.h). */
static int
s_node_idle(void *ctx, void *store)
{
    (void) ctx;
    return hub_store_idle(store);
}

static void
s_node_close(void *ctx, void *store)
{
    (void) ctx;
    hub_store_t *st = store;
    hub_store_close(&st);
}

static int
s_run(const s_opts_t *o)
{
    static const sj_node_role_t role = {.open = s_node_open,
                                        .close = s_node_close,
                                        .down_ops = &hub_store_downlink_ops,
                                        .up_ops = &hub_store_uplink_ops,
                                        .idle = s_node_idle};
    /* group_events: at most ~8 station batches per transaction: 10 stations
     * pushing a window of 8 each were decoded 64 frames at a time (the hub's
     * peak RSS, 36 MiB), and forwarding waited for the whole group.
     * up_window: 16 batches to the county (stations use 8): the county
     * commits what it has in one transaction, so with 8 a forwarding hub's
     * next batches only left after the county's acks came back and it sat
     * idle in between (a backlog drains at the county's pace only when the
     * next window is already queued there). */
    const sj_node_cfg_t cfg = {.tool = "township-hub",
                               .data = o->data,
                               .store_file = HUB_STORE_FILE,
                               .damaged_hint = "restore a backup with 'township-hub restore'",
                               .daemon = 1,
                               .insecure = o->insecure,
                               .bind = o->bind,
                               .parent = o->parent,
                               .parent_key = o->parent_key,
                               .parent_key_option = "parent-key",
                               .parent_name = "county",
                               .group_events = 4096,
                               .up_window = 16,
                               .down_retention_ms = o->down_keep_ms};
    int rc = sj_node_run(&cfg, &role, (void *) o);
    return rc == SJ_OK ? 0 : rc == SJ_EINVAL ? 2 : 1;
}

/* status --check: one line, exit 0..3 (sj_health.h). */
static int
s_check(const s_opts_t *o)
{
    char err[512] = "";
    hub_store_t *st = hub_store_open(o->data, NULL, SJ_DB_READ, err, sizeof err);
    if (!st) {
        return sj_health_unknown(stdout, "cannot read the hub store: %s", err);
    }
    sj_health_t *h = sj_health_new();
    int rc = h ? hub_store_check(st, &o->health, h) : SJ_ENOMEM;
    hub_store_close(&st);
    if (rc == SJ_OK
        && sj_health_disk(h, o->data, o->health.disk_warn_pct, o->health.disk_crit_pct) != SJ_OK) {
        sj_health_add(h, SJ_HEALTH_UNKNOWN, "cannot read the free space of %s", o->data);
    }
    int code = rc == SJ_OK ? sj_health_print(h, stdout)
                           : sj_health_unknown(stdout, "cannot read the hub store in %s: %s",
                                               o->data, sj_strerror(rc));
    sj_health_destroy(&h);
    return code;
}

/* restore: the staged copy is opened as `run` opens it, for this township. */
static int
s_verify(void *ctx, const char *dir, char *err, size_t err_size)
{
    const s_opts_t *o = ctx;
    char code[SJ_CODE_MAX + 1] = "";
    if (o->code) {
        snprintf(code, sizeof code, "%s", o->code);
    } else {
        /* Without --code, the backup must be of the township this directory serves. */
        char ignored[512];
        hub_store_t *live = hub_store_open(o->data, NULL, SJ_DB_READ, ignored, sizeof ignored);
        if (live) {
            snprintf(code, sizeof code, "%s", hub_store_code(live));
            hub_store_close(&live);
        }
    }
    hub_store_t *st = hub_store_open(dir, code[0] ? code : NULL, SJ_DB_WRITE, err, err_size);
    if (!st) {
        return SJ_EINVAL;
    }
    hub_store_close(&st);
    return SJ_OK;
}

static int
s_assign(const s_opts_t *o,
         const char *id_text,
         const char *to,
         const char *due,
         const char *note,
         const char *officer)
{
    char err[512] = "";
    if (hub_assign_check(id_text, to, due, note, officer, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "township-hub: %s\n", err);
        return 2;
    }
    hub_store_t *st = hub_store_open(o->data, o->code, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "township-hub: %s\n", err);
        return 1;
    }
    char text[SJ_UUID_TEXT];
    int rc = hub_assign_do(st, id_text, to, due, note, officer, NULL, text, err, sizeof err);
    if (rc != SJ_OK) {
        fprintf(stderr, "township-hub: %s\n", err);
    } else {
        printf("%s\n", text);
        fprintf(stderr,
                _("case %s assigned to %s, due %s (queued for the station and the"
                  " county)\n"),
                id_text, to, due);
    }
    char detail[800];
    snprintf(detail, sizeof detail, "case %.40s to %.16s due %.16s%s%.600s", id_text, to, due,
             rc == SJ_OK ? "" : ": ", rc == SJ_OK ? "" : err);
    sj_audit_cli(hub_store_db(st), "assign", detail, rc == SJ_OK);
    hub_store_close(&st);
    return rc == SJ_OK ? 0 : rc == SJ_EINVAL ? 2 : 1;
}

static int
s_cases(const s_opts_t *o, int conflicts, int overdue, const char *leader)
{
    char err[512] = "";
    hub_store_t *st = hub_store_open(o->data, NULL, SJ_DB_READ, err, sizeof err);
    if (!st) {
        fprintf(stderr, "township-hub: %s\n", err);
        return 1;
    }
    sj_table_t *t = NULL;
    int rc = hub_store_cases_by(
        st, (conflicts ? HUB_CASES_CONFLICTS : 0u) | (overdue ? HUB_CASES_OVERDUE : 0u), leader,
        &t);
    hub_store_close(&st);
    if (rc == SJ_OK) {
        rc = hub_out_cases(t, o->format, stdout);
    }
    sj_table_destroy(&t);
    if (rc != SJ_OK) {
        fprintf(stderr, _("township-hub: cannot read the cases: %s\n"), _(sj_strerror(rc)));
        return 1;
    }
    return 0;
}

/* list, search, show (issue 15, hub_read.h). */
static int
s_cmd_read(const sj_cli_args_t *a)
{
    s_opts_t o;
    int rc = s_opts(a, &o);
    if (rc) {
        return rc;
    }
    const char *cmd = a->cmd->name;
    hub_read_filter_t f = {.station = sj_cli_val(a, O_STATION),
                           .category = sj_cli_val(a, O_CATEGORY),
                           .outcome = sj_cli_val(a, O_OUTCOME),
                           .from = sj_cli_val(a, O_FROM),
                           .to = sj_cli_val(a, O_UNTIL),
                           .text = strcmp(cmd, "search") == 0 ? a->pos[0] : NULL};
    long long limit = 0, offset = 0;
    if (sj_cli_int(a, O_LIMIT, 1, 1000000, &limit)
        || sj_cli_int(a, O_OFFSET, 0, 1000000000, &offset)) {
        return 2;
    }
    f.limit = (long) limit;
    f.offset = (long) offset;
    char err[512] = "";
    hub_store_t *st = hub_store_open(o.data, NULL, SJ_DB_READ, err, sizeof err);
    if (!st) {
        fprintf(stderr, "township-hub: %s\n", err);
        return 1;
    }
    if (strcmp(cmd, "show") == 0) {
        rc = hub_read_show(hub_store_db(st), a->pos[0], o.format, stdout, err, sizeof err);
    } else {
        sj_table_t *t = NULL;
        int scanned = 0;
        rc = hub_read_list(hub_store_db(st), &f, &t, &scanned, err, sizeof err);
        if (rc == SJ_OK && scanned) {
            fprintf(stderr, "township-hub: 少于3个字，逐条查找（不用索引，较慢） fewer than 3 "
                            "characters: every summary and note was scanned (the index needs 3)\n");
        }
        if (rc == SJ_OK && sj_table_write(t, o.format, stdout) != SJ_OK) {
            snprintf(err, sizeof err, _("cannot write the output"));
            rc = SJ_EIO;
        }
        sj_table_destroy(&t);
    }
    hub_store_close(&st);
    if (rc != SJ_OK) {
        fprintf(stderr, "township-hub: %s\n", err[0] ? err : _(sj_strerror(rc)));
        return rc == SJ_EINVAL ? 2 : 1;
    }
    return 0;
}

static int
s_update(const s_opts_t *o,
         const char *id_text,
         const char *outcome_name,
         const char *note,
         const char *officer,
         const char *satisfaction_name)
{
    char err[512] = "";
    int outcome = 0, satisfaction = 0;
    if (hub_update_check(id_text, outcome_name, note, officer, satisfaction_name, &outcome,
                         &satisfaction, err, sizeof err)
        != SJ_OK) {
        fprintf(stderr, "township-hub: %s\n", err);
        return 2;
    }
    hub_store_t *st = hub_store_open(o->data, o->code, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "township-hub: %s\n", err);
        return 1;
    }
    sj_update_result_t res;
    int rc = hub_update_do(st, id_text, outcome_name, note, officer, satisfaction_name, NULL,
                           &outcome, &res, err, sizeof err);
    int code = 1;
    if (rc != SJ_OK) {
        fprintf(stderr, "township-hub: %s\n", err);
        code = rc == SJ_EINVAL ? 2 : 1;
    } else {
        code = sj_update_report("township-hub", id_text, outcome, &res, "queued for the county");
    }
    char detail[800];
    snprintf(detail, sizeof detail, "case %.40s outcome %d%s%.600s", id_text, outcome,
             rc == SJ_OK ? "" : ": ", rc == SJ_OK ? "" : err);
    sj_audit_cli(hub_store_db(st), "update", detail, rc == SJ_OK);
    hub_store_close(&st);
    return code;
}

static int
s_status(const s_opts_t *o)
{
    if (o->check) {
        return s_check(o);
    }
    char err[512] = "";
    hub_store_t *st = hub_store_open(o->data, NULL, SJ_DB_READ, err, sizeof err);
    if (!st) {
        fprintf(stderr, "township-hub: %s\n", err);
        return 1;
    }
    hub_status_t view;
    int rc = hub_store_status(st, o->health.silent_s, &view);
    hub_store_close(&st);
    if (rc == SJ_OK) {
        rc = hub_out_status(&view, o->format, stdout);
    }
    hub_status_free(&view);
    if (rc != SJ_OK) {
        fprintf(stderr, _("township-hub: cannot read status: %s\n"), _(sj_strerror(rc)));
        return 1;
    }
    return 0;
}

/* ---- the commands as sj_cli calls them ---- */

static int
s_cmd_run(const sj_cli_args_t *a)
{
    s_opts_t o;
    int rc = s_opts(a, &o);
    if (rc == 0 && (sj_cli_need(a, O_BIND, "ENDPOINT") || sj_cli_need(a, O_PARENT, "ENDPOINT"))) {
        rc = 2;
    }
    return rc ? rc : s_run(&o);
}

/* status --check: bad usage is UNKNOWN (exit 3) in the monitoring convention. */
static int
s_status_bad_usage(const sj_cli_args_t *a)
{
    if (sj_cli_has(a, O_CHECK)) {
        return sj_health_unknown(stdout, "bad usage (see stderr)");
    }
    return 2;
}

static int
s_cmd_status(const sj_cli_args_t *a)
{
    s_opts_t o;
    return s_opts(a, &o) ? s_status_bad_usage(a) : s_status(&o);
}

static int
s_cmd_cases(const sj_cli_args_t *a)
{
    s_opts_t o;
    int rc = s_opts(a, &o);
    return rc ? rc
              : s_cases(&o, sj_cli_has(a, O_CONFLICTS), sj_cli_has(a, O_OVERDUE),
                        sj_cli_val(a, O_LEADER));
}

/* user, audit (issue 17): on the hub's store, open for writing. */
static int
s_cmd_accounts(const sj_cli_args_t *a)
{
    sj_format_t fmt = SJ_FMT_TABLE;
    if (sj_cli_format(a, O_FORMAT, &fmt) != 0) {
        return 2;
    }
    char err[512] = "";
    if (sj_cli_code(a, O_CODE, 9, "township")) {
        return 2;
    }
    hub_store_t *st = hub_store_open(a->data, sj_cli_val(a, O_CODE), SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "township-hub: %s\n", err);
        return 1;
    }
    int rc;
    if (strcmp(a->cmd->name, "user") == 0) {
        rc = sj_users_cli("township-hub", hub_store_db(st), sj_roles_township, a->pos, a->npos,
                          sj_cli_val(a, O_ROLE), NULL, sj_cli_val(a, O_PASSWORD_FILE), fmt);
    } else {
        rc = sj_audit_cli_list("township-hub", hub_store_db(st), sj_cli_val(a, O_USER),
                               sj_cli_val(a, O_FROM), sj_cli_val(a, O_TO), fmt);
    }
    hub_store_close(&st);
    return rc;
}

static int
s_cmd_assign(const sj_cli_args_t *a)
{
    s_opts_t o;
    int rc = s_opts(a, &o);
    return rc ? rc
              : s_assign(&o, a->pos[0], sj_cli_val(a, O_TO), sj_cli_val(a, O_DUE),
                         sj_cli_val(a, O_NOTE), sj_cli_val(a, O_OFFICER));
}

static int
s_cmd_update(const sj_cli_args_t *a)
{
    s_opts_t o;
    int rc = s_opts(a, &o);
    return rc ? rc
              : s_update(&o, a->pos[0], sj_cli_val(a, O_OUTCOME), sj_cli_val(a, O_NOTE),
                         sj_cli_val(a, O_OFFICER), sj_cli_val(a, O_SATISFACTION));
}

static int
s_cmd_fix(const sj_cli_args_t *a)
{
    s_opts_t o;
    int rc = s_opts(a, &o);
    if (rc) {
        return rc;
    }
    int is_void = strcmp(a->cmd->name, "void") == 0;
    static const int ids[SJ_FIX_COUNT] = {
        [SJ_FIX_OCCURRED] = O_OCCURRED, [SJ_FIX_CHANNEL] = O_CHANNEL,
        [SJ_FIX_KIND] = O_KIND,         [SJ_FIX_PERSONS] = O_PERSONS,
        [SJ_FIX_LEVEL] = O_LEVEL,       [SJ_FIX_CATEGORY] = O_CATEGORY,
        [SJ_FIX_SOURCE] = O_SOURCE,     [SJ_FIX_SUMMARY] = O_SUMMARY};
    int code = 1;
    /* The values first (exit 2 before anything is opened). */
    sj_event_t *ev = sj_cli_fix_event(a, ids, O_REASON, O_OFFICER, &code);
    if (!ev) {
        return code;
    }
    free(ev);
    const char *vals[SJ_FIX_COUNT];
    for (int i = 0; i < SJ_FIX_COUNT; i++) {
        vals[i] = sj_cli_val(a, ids[i]);
    }
    char err[512] = "", id[SJ_UUID_TEXT];
    hub_store_t *st = hub_store_open(o.data, o.code, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "township-hub: %s\n", err);
        return 1;
    }
    rc = hub_fix_do(st, is_void, a->pos[0], vals, sj_cli_val(a, O_REASON), sj_cli_val(a, O_OFFICER),
                    NULL, id, err, sizeof err);
    sj_audit_cli(hub_store_db(st), is_void ? "void" : "correct", a->pos[0], rc == SJ_OK);
    if (rc != SJ_OK) {
        fprintf(stderr, "township-hub: %s\n", err);
    } else {
        printf("%s\n", id);
        fprintf(stderr, _("township-hub: %s of %s queued for the county\n"),
                is_void ? "void (作废)" : "correction (更正)", a->pos[0]);
    }
    hub_store_close(&st);
    return rc == SJ_OK ? 0 : rc == SJ_EINVAL ? 2 : 1;
}

/* extend (issue 16, docs/CLOCK.md): on the county's periods as delivered
 * down (the defaults until they arrive). */
static int
s_cmd_extend(const sj_cli_args_t *a)
{
    s_opts_t o;
    int rc = s_opts(a, &o);
    if (rc) {
        return rc;
    }
    int code = 1;
    /* The values first (exit 2 before anything is opened). */
    sj_event_t *ev =
        sj_clock_cli_extension(a, O_DAYS, O_REASON, O_APPROVED_BY, O_STAGE, O_OFFICER, &code);
    if (!ev) {
        return code;
    }
    char err[512] = "", id[SJ_UUID_TEXT];
    code = 1;
    sj_clock_t after;
    hub_store_t *st = hub_store_open(o.data, o.code, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "township-hub: %s\n", err);
        free(ev);
        return 1;
    }
    rc = hub_extend_do(st, a->pos[0], sj_cli_val(a, O_DAYS), sj_cli_val(a, O_REASON),
                       sj_cli_val(a, O_APPROVED_BY), sj_cli_val(a, O_STAGE),
                       sj_cli_val(a, O_OFFICER), NULL, ev, &after, id, err, sizeof err);
    char detail[700];
    snprintf(detail, sizeof detail, "case %.40s +%.8s days%s%.600s", a->pos[0],
             sj_cli_val(a, O_DAYS), rc == SJ_OK ? "" : ": ", rc == SJ_OK ? "" : err);
    sj_audit_cli(hub_store_db(st), "extend", detail, rc == SJ_OK);
    if (rc != SJ_OK) {
        fprintf(stderr, _("township-hub: extension refused, nothing stored: %s\n"), err);
        code = rc == SJ_EINVAL ? 2 : 1;
    } else {
        sj_clock_cli_report("township-hub", a->pos[0], ev, &after, "queued for the county");
        code = 0;
    }
    hub_store_close(&st);
    free(ev);
    return code;
}

/* own (issue 16 item 4, docs/MEETING.md) */
static int
s_cmd_own(const sj_cli_args_t *a)
{
    s_opts_t o;
    int rc = s_opts(a, &o);
    return rc ? rc : hub_own_cmd(a, o.data, o.code, O_LEADER, O_PORTFOLIO, O_OFFICER);
}

static int
s_cmd_leaders(const sj_cli_args_t *a)
{
    s_opts_t o;
    int rc = s_opts(a, &o);
    return rc ? rc : hub_leaders_cmd(a, o.data, o.code, o.format);
}

/* agenda: --format md|html (not the table formats s_opts checks) */
static int
s_cmd_agenda(const sj_cli_args_t *a)
{
    if (sj_cli_code(a, O_CODE, 9, "township")) {
        return 2;
    }
    return hub_agenda_cmd(a, a->data, sj_cli_val(a, O_CODE), O_WEEK, O_FORMAT);
}

/* Issue 17 item 5: the township signs off a month. */
static int
s_cmd_approve(const sj_cli_args_t *a)
{
    s_opts_t o;
    int rc = s_opts(a, &o);
    if (rc) {
        return rc;
    }
    const char *month = sj_cli_val(a, O_MONTH);
    if (!month) {
        fprintf(stderr, _("township-hub: approve needs --month YYYY-MM\n"));
        return 2;
    }
    if (!sj_month_valid(month)) {
        fprintf(stderr, _("township-hub: --month '%s' is not a month YYYY-MM\n"), month);
        return 2;
    }
    char officer[SJ_MAX_OFFICER_BYTES + 1] = "", from[128];
    const char *given = sj_cli_val(a, O_OFFICER);
    if (given && strlen(given) > SJ_MAX_OFFICER_BYTES) {
        fprintf(stderr, _("township-hub: --officer is over %d bytes\n"), SJ_MAX_OFFICER_BYTES);
        return 2;
    }
    if (given && given[0]) {
        snprintf(officer, sizeof officer, "%s", given);
    } else {
        sj_audit_os_user(officer, sizeof officer, from, sizeof from);
    }
    char err[512] = "";
    int code = 1;
    hub_store_t *st = hub_store_open(o.data, o.code, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "township-hub: %s\n", err);
    } else if (hub_approve_do(st, month, officer, NULL, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "township-hub: %s\n", err);
        sj_audit_cli(hub_store_db(st), "approve", month, 0);
    } else {
        sj_audit_cli(hub_store_db(st), "approve", month, 1);
        fprintf(stderr, _("township-hub: %s approved (已审核) by %s; queued for the county\n"),
                month, officer);
        code = 0;
    }
    hub_store_close(&st);
    return code;
}

static int
s_cmd_backup(const sj_cli_args_t *a)
{
    s_opts_t o;
    int rc = s_opts(a, &o);
    if (rc) {
        return rc;
    }
    sj_backup_role_t role = {
        .tool = "township-hub", .file = HUB_STORE_FILE, .verify = s_verify, .ctx = &o};
    role.migrations = hub_store_migrations(&role.n_migrations);
    return strcmp(a->cmd->name, "backup") == 0 ? sj_backup_cmd_backup(&role, o.data, a->pos[0])
                                               : sj_backup_cmd_restore(&role, o.data, a->pos[0]);
}

static int
s_cmd_keygen(const sj_cli_args_t *a)
{
    return sj_enrol_keygen("township-hub", a->data);
}

/* allow: the station must be a village of this hub's township, which is
 * known from the store (after the first run) or --code; without either the
 * code cannot be checked and nothing is enrolled. */
static int
s_cmd_allow(const sj_cli_args_t *a)
{
    s_opts_t o;
    int rc = s_opts(a, &o);
    if (rc) {
        return rc;
    }
    const char *code = a->pos[0];
    if (sj_code_level(code) != 12) {
        fprintf(stderr, _("township-hub: CODE '%s' is not a 12-digit village code\n"), code);
        return 2;
    }
    char stored[SJ_CODE_MAX + 1] = "", err[512];
    hub_store_t *st = hub_store_open(o.data, NULL, SJ_DB_READ, err, sizeof err);
    if (st) {
        snprintf(stored, sizeof stored, "%s", hub_store_code(st));
        hub_store_close(&st);
    }
    if (stored[0] && o.code && strcmp(stored, o.code) != 0) {
        fprintf(stderr, _("township-hub: --code %s is not this hub's township (%s, in %s)\n"),
                o.code, stored, o.data);
        return 2;
    }
    const char *under = stored[0] ? stored : o.code;
    if (!under) {
        fprintf(stderr,
                _("township-hub: cannot check that %s is a village of this hub's township: the hub"
                  " has no store yet in %s; pass --code CODE9 (or set code in the config file)\n"),
                code, o.data);
        return 2;
    }
    return sj_enrol_allow("township-hub", o.data, code, a->pos[1], under);
}

static int
s_cmd_revoke(const sj_cli_args_t *a)
{
    return sj_enrol_revoke("township-hub", a->data, a->pos[0]);
}

/* ---- the table ---- */

#define S_OPTS(...) ((const int[]){__VA_ARGS__, 0})

static const sj_cli_cmd_t s_cmds[] = {
    {"run", NULL, 0, 0, S_OPTS(O_CODE, O_BIND, O_PARENT, O_PKEY, O_INSECURE, O_DOWN_KEEP),
     N_("run the hub daemon"),
     N_("usage: township-hub run --bind ENDPOINT --parent ENDPOINT [--parent-key Z85]\n"
        "                        [--code CODE9] [--insecure] [--down-retention-days DAYS]\n"
        "\n"
        "Runs the hub: receives its stations' reports, commits them, acknowledges\n"
        "them and forwards them to the county server; keeps accepting while the\n"
        "county is away (the backlog waits on disk). Prints 'ready' when it\n"
        "listens; stops on SIGINT or SIGTERM; SIGHUP reads the allowlist and the\n"
        "log level again.\n"
        "\n"
        "  --bind ENDPOINT     where stations connect, e.g. tcp://0.0.0.0:7601\n"
        "  --parent ENDPOINT   the county server, e.g. tcp://county.example:7600\n"
        "  --parent-key Z85    the county server's public key (required unless --insecure)\n"
        "  --code CODE9        9-digit township code (required the first time: it is\n"
        "                      fixed when the store is made)\n"
        "  --down-retention-days DAYS\n"
        "                      prune downward items a station acked more than DAYS\n"
        "                      days ago (0..3650, default 30; 0: once acked)\n"
        "  --insecure          run without CURVE keys (test networks only; logged loudly)\n"),
     s_cmd_run, NULL, NULL, NULL},
    {"status", NULL, 0, 0,
     S_OPTS(O_FORMAT,
            O_SILENT,
            O_CHECK,
            O_BWARN,
            O_BCRIT,
            O_DWARN,
            O_DCRIT,
            O_BOM,
            O_LABELS,
            O_UNDELIVERED),
     N_("queue depth, forwarding lag, each station's last contact\n"
        "(--check: one line for monitoring, Nagios plugin convention)"),
     /* xgettext:no-c-format */
     N_("usage: township-hub status [--format table|json|csv] [--silent-after S]\n"
        "       township-hub status --check [--backlog-warn S] [--backlog-crit S]\n"
        "                           [--disk-warn PCT] [--disk-crit PCT] [--silent-after S]\n"
        "\n"
        "Shows the hub's queue depth, its forwarding lag to the county, and each\n"
        "station's last contact and backlog, silent stations first. Works while\n"
        "'run' is running.\n"
        "\n"
        "  --format F          table (default), json, csv\n"
        "  --bom               csv: start with a UTF-8 byte-order mark (for Excel, WPS)\n"
        "  --labels zh|en      csv: the header and the values as a person reads them\n"
        "  --silent-after S    a station unheard for S seconds is SILENT (default 3600)\n"
        "  --undelivered-after HOURS\n"
        "                      a down item a station has not taken HOURS after it was\n"
        "                      made is UNDELIVERED (未送达; 1..8760, default 24); --check\n"
        "                      warns\n"
        "  --check             one line for monitoring (Nagios plugin convention), exit\n"
        "                      0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also bad usage):\n"
        "                      silent stations, oldest unforwarded report, county\n"
        "                      contact, free disk\n"
        "  --backlog-warn S    --check: WARNING when the oldest unforwarded report (or,\n"
        "                      while reports wait, the county's silence) is S seconds\n"
        "                      old (default 3600)\n"
        "  --backlog-crit S    ... CRITICAL (default 10800)\n"
        "  --disk-warn PCT     --check: WARNING below PCT% free disk (default 10)\n"
        "  --disk-crit PCT     --check: CRITICAL below PCT% free disk (default 5)\n"),
     s_cmd_status, s_status_bad_usage, NULL, NULL},
    {"cases", NULL, 0, 0, S_OPTS(O_CONFLICTS, O_OVERDUE, O_LEADER, O_FORMAT, O_BOM, O_LABELS),
     N_("the township's cases: outcome, last change, changes, conflict,\n"
        "assignee, due date, days left"),
     N_("usage: township-hub cases [--conflicts] [--overdue] [--leader NAME]\n"
        "                          [--format table|json|csv]\n"
        "\n"
        "Lists the township's cases: outcome, last change, number of changes,\n"
        "conflict (two changes made from the same state, or listed by the county),\n"
        "and for assigned cases the assignee, due date and days left (negative:\n"
        "overdue). The statutory clock (docs/CLOCK.md): accept_due, conclude_due,\n"
        "review_due and, while the stage runs, days left (accept_left ...);\n"
        "clock_overdue = a running stage past its due date; overdue = an open case\n"
        "past a due date at any stage, statutory or 交办 (overdue_what names which).\n"
        "Today: the local date, or SANJI_TODAY. owner and portfolio: the leader who\n"
        "owns the case (own).\n"
        "\n"
        "  --conflicts         only cases with a conflict\n"
        "  --leader NAME       only the cases NAME owns (the latest ownership)\n"
        "  --overdue           only overdue cases (any stage, statutory or 交办)\n"
        "  --format F          table (default), json, csv\n"
        "  --bom               csv: start with a UTF-8 byte-order mark (for Excel, WPS)\n"
        "  --labels zh|en      csv: the header and the values as a person reads them\n"),
     s_cmd_cases, NULL, NULL, NULL},
    {"list", NULL, 0, 0,
     S_OPTS(O_STATION, O_CATEGORY, O_OUTCOME, O_FROM, O_UNTIL, O_LIMIT, O_OFFSET, O_FORMAT),
     N_("the township's matters: summary, date, category, channel, persons, station"),
     N_("usage: township-hub list [--station CODE] [--category C] [--outcome O]\n"
        "                         [--from YYYY-MM-DD] [--until YYYY-MM-DD]\n"
        "                         [--limit N] [--offset N] [--format table|json|csv]\n"
        "\n"
        "Lists the matters the hub holds (its stations' reports and the cases\n"
        "assigned to it), newest first: the whole id, date, station, category,\n"
        "channel, kind, persons, outcome in force here, assignee, due date and\n"
        "summary. Never personal data: it is sealed to the county.\n"
        "\n"
        "  --station CODE      one station's matters\n"
        "  --category C        one category (name or Chinese label)\n"
        "  --outcome O         the outcome in force here\n"
        "  --from, --until D   the date it happened, inclusive\n"
        "  --limit N           at most N rows (default 100); --offset N skips N\n"
        "  --format F          table (default), json, csv\n"),
     s_cmd_read, NULL, NULL, NULL},
    {"search", "TEXT", 1, 1,
     S_OPTS(O_STATION, O_CATEGORY, O_OUTCOME, O_FROM, O_UNTIL, O_LIMIT, O_OFFSET, O_FORMAT),
     N_("matters whose summary or notes contain TEXT"),
     N_("usage: township-hub search TEXT [--station CODE] [--category C] [--outcome O]\n"
        "                         [--from YYYY-MM-DD] [--until YYYY-MM-DD]\n"
        "                         [--limit N] [--offset N] [--format table|json|csv]\n"
        "\n"
        "Finds the matters whose summary, or a note of a status change or an\n"
        "assignment, contains TEXT (any substring, Chinese included), newest first,\n"
        "with list's columns. Three characters or more use the index; one or two\n"
        "are looked for in every row (slower; said on stderr).\n"
        "\n"
        "  --station CODE      one station's matters\n"
        "  --category C        one category (name or Chinese label)\n"
        "  --outcome O         the outcome in force here\n"
        "  --from, --until D   the date it happened, inclusive\n"
        "  --limit N           at most N rows (default 100); --offset N skips N\n"
        "  --format F          table (default), json, csv\n"),
     s_cmd_read, NULL, NULL, NULL},
    {"show", "ID", 1, 1, S_OPTS(O_FORMAT), N_("one matter and its history"),
     N_("usage: township-hub show ID [--format table|json|csv]\n"
        "\n"
        "Shows one matter (no personal data: sealed to the county) and its history:\n"
        "the report, every status change (from, to, note, officer, origin, time, in\n"
        "force or not, conflict) and every assignment (by, to, due, note) in time\n"
        "order (json: \"history\": [...]).\n"),
     s_cmd_read, NULL, NULL, NULL},
    {"assign", "CASE-ID", 1, 1, S_OPTS(O_TO, O_DUE, O_NOTE, O_OFFICER, O_CODE),
     N_("assign a case to one of the hub's stations (交办)"),
     N_("usage: township-hub assign CASE-ID --to STATION --due YYYY-MM-DD [--note TEXT]\n"
        "                           [--officer X]\n"
        "\n"
        "Assigns a case the hub knows to one of its stations (交办). The assignment\n"
        "is delivered when the station connects and forwarded to the county; its\n"
        "id is printed on stdout.\n"
        "\n"
        "  --to STATION        the 12-digit code of a station of this township\n"
        "  --due YYYY-MM-DD    the deadline (today or later, local date)\n"
        "  --note TEXT         what is asked of the station\n"
        "  --officer X         who assigns it\n"
        "  --code CODE9        the township (only before the hub's first run)\n"),
     s_cmd_assign, NULL, NULL, NULL},
    {"correct", "CASE-ID", 1, 1,
     S_OPTS(O_OCCURRED,
            O_CHANNEL,
            O_KIND,
            O_PERSONS,
            O_LEVEL,
            O_CATEGORY,
            O_SOURCE,
            O_SUMMARY,
            O_REASON,
            O_OFFICER,
            O_CODE),
     N_("correct fields of a matter (更正), with the reason"),
     N_("usage: township-hub correct CASE-ID [--occurred D] [--channel C] [--kind K]\n"
        "           [--persons N] [--level L] [--category G] [--source S] [--summary T]\n"
        "           --reason TEXT [--officer X]\n"
        "\n"
        "Records a correction made by the township office of a case it may change\n"
        "(its stations' cases, or one assigned into the township): the new values of\n"
        "the fields given, and why. Forwarded to the county like any event, which\n"
        "counts the corrected values (docs/CASES.md); its id is printed on stdout.\n"
        "\n"
        "  --reason TEXT       why (required)\n"
        "  --code CODE9        the township (only before the hub's first run)\n"),
     s_cmd_fix, NULL, NULL, NULL},
    {"approve", NULL, 0, 0, S_OPTS(O_MONTH, O_OFFICER, O_CODE),
     N_("approve (sign off) a month of the township's matters (已审核)"),
     N_("usage: township-hub approve --month YYYY-MM [--officer NAME]\n"
        "\n"
        "The township office signs off a month of its stations' matters (by\n"
        "occurred date): an event on the hub's own stream, forwarded to the\n"
        "county, which lists the township-month as approved (已审核), with who and\n"
        "when ('county-server approvals'). The county may then lock the month.\n"
        "\n"
        "  --month YYYY-MM     the month\n"
        "  --officer NAME      who approves (default: the OS user)\n"
        "  --code CODE9        the township (only before the hub's first run)\n"),
     s_cmd_approve, NULL, NULL, NULL},
    {"void", "CASE-ID", 1, 1, S_OPTS(O_REASON, O_OFFICER, O_CODE),
     N_("mark a matter as entered in error (作废)"),
     N_("usage: township-hub void CASE-ID --reason TEXT [--officer X]\n"
        "\n"
        "Records that a matter was entered in error (作废); the county leaves it out\n"
        "of every figure. Its report and history are kept. Final.\n"
        "\n"
        "  --reason TEXT       why (required)\n"
        "  --code CODE9        the township (only before the hub's first run)\n"),
     s_cmd_fix, NULL, NULL, NULL},
    {"extend", "CASE-ID", 1, 1, S_OPTS(O_DAYS, O_REASON, O_APPROVED_BY, O_STAGE, O_OFFICER, O_CODE),
     N_("extend a stage's statutory period (延期), approved by the head"),
     N_("usage: township-hub extend CASE-ID --days N --reason TEXT --approved-by NAME\n"
        "           [--stage acceptance|conclusion|review] [--officer X]\n"
        "\n"
        "Records an extension (延期) of the running stage of a case the township may\n"
        "change: its due date moves by N days; the event goes to the county. At\n"
        "most extend-max-days, extend-count times per stage: the county's periods,\n"
        "as it sent them down (until they arrive the defaults: 30 days, once);\n"
        "otherwise refused with the reason (exit 1, nothing stored). Today is the\n"
        "local date, or SANJI_TODAY (docs/CLOCK.md).\n"
        "\n"
        "  --days N            days to add (1..extend-max-days)\n"
        "  --reason TEXT       the reason told (required)\n"
        "  --approved-by NAME  the head who approved it (required)\n"
        "  --stage S           acceptance, conclusion or review (default: the\n"
        "                      stage running)\n"
        "  --code CODE9        the township (only before the hub's first run)\n"),
     s_cmd_extend, NULL, NULL, NULL},
    {"own", "CASE-ID", 1, 1, S_OPTS(O_LEADER, O_PORTFOLIO, O_OFFICER, O_CODE),
     N_("record that a leader owns a case (领导包案)"),
     N_("usage: township-hub own CASE-ID --leader NAME [--portfolio P] [--officer X]\n"
        "\n"
        "Records that a named leader owns a case the township may change (领导包案),\n"
        "as an event of the hub's own stream; it goes to the county. A later\n"
        "ownership replaces the earlier one (the latest made holds); show lists\n"
        "every one. Refused with the reason (exit 1, nothing stored) when the\n"
        "township does not hold the case or may not change it. Prints the event's\n"
        "id.\n"
        "\n"
        "  --leader NAME       the leader (1..64 bytes of UTF-8 text; required)\n"
        "  --portfolio P       the leader's portfolio (分管战线), at most 128 bytes\n"
        "  --code CODE9        the township (only before the hub's first run)\n"),
     s_cmd_own, NULL, NULL, NULL},
    {"leaders", NULL, 0, 0, S_OPTS(O_FORMAT, O_CODE),
     N_("each leader's cases and their progress (领导包案)"),
     N_("usage: township-hub leaders [--format table|json|csv]\n"
        "\n"
        "One row per leader who owns a case of the township (the ownership in\n"
        "force): leader, owned, open (pending or accepted), concluded (closed or\n"
        "resolved on the spot) and overdue (open past the 交办 due date, or a stage\n"
        "of the statutory clock past its due date, on the default periods).\n"
        "\n"
        "  --format F          table (default), json, csv\n"
        "  --code CODE9        the township (only before the hub's first run)\n"),
     s_cmd_leaders, NULL, NULL, NULL},
    {"agenda", NULL, 0, 0, S_OPTS(O_WEEK, O_FORMAT, O_CODE),
     N_("the weekly meeting's agenda (定期例会), md or printable html"),
     N_("usage: township-hub agenda [--week YYYY-Www] [--format md|html]\n"
        "\n"
        "The township's weekly meeting agenda, as county-server agenda gives the\n"
        "county's (docs/MEETING.md): for an ISO week (default: the coming one),\n"
        "the cases owned by leaders that are open or changed since the last\n"
        "meeting, the cases due or overdue by the week's Sunday at any stage, new\n"
        "collective matters of the previous week, reviews requested and extensions\n"
        "made since the last meeting.\n"
        "\n"
        "  --week YYYY-Www     the ISO week, e.g. 2026-W50\n"
        "  --format F          md (default) or html (a whole page, printable on A4)\n"
        "  --code CODE9        the township (only before the hub's first run)\n"),
     s_cmd_agenda, NULL, NULL, NULL},
    {"update", "CASE-ID", 1, 1, S_OPTS(O_OUTCOME, O_NOTE, O_OFFICER, O_SATISFACTION, O_CODE),
     N_("a status change made by the township office"),
     N_("usage: township-hub update CASE-ID --outcome O [--note TEXT] [--officer X]\n"
        "\n"
        "Records a status change made by the township office; allowed:\n"
        "pending -> resolved_on_spot|accepted|withdrawn, accepted -> closed|withdrawn,\n"
        "closed -> accepted, resolved_on_spot -> accepted; refused otherwise (exit 1).\n"
        "Forwarded to the county like any event; its id is printed on stdout.\n"
        "\n"
        "  --outcome O         pending, resolved_on_spot, accepted, closed, withdrawn\n"
        "                      (or 待处理, 当场解决, 受理, 办结, 撤回)\n"
        "  --note TEXT         why, or what was done\n"
        "  --officer X         who made the change\n"
        "  --satisfaction S    with a conclusion: the petitioner's evaluation, 满意\n"
        "                      satisfied, 基本满意 basically, 不满意 dissatisfied,\n"
        "                      未评价 not_evaluated\n"
        "  --code CODE9        the township (only before the hub's first run)\n"),
     s_cmd_update, NULL, NULL, NULL},
    {"backup", "DEST", 1, 1, NULL, N_("consistent copy of the store while the hub runs"),
     N_("usage: township-hub backup DEST\n"
        "\n"
        "Makes a consistent copy of the store while the hub runs, written\n"
        "atomically to DEST (or DEST/township-hub-TIME.db if DEST is a directory)\n"
        "and integrity-checked; prints its path.\n"),
     s_cmd_backup, NULL, NULL, NULL},
    {"restore", "SRC", 1, 1, S_OPTS(O_CODE),
     N_("replace the store with a backup (the hub stopped)"),
     N_("usage: township-hub restore SRC [--code CODE9]\n"
        "\n"
        "Replaces the store with the backup SRC; the hub must be stopped. SRC is\n"
        "checked first (it must be a hub store of this township: the one in the\n"
        "data directory, or --code); the old store is kept as\n"
        "township-hub.db.before-restore-TIME. Stations resend what the backup lacks\n"
        "on their next sync.\n"
        "\n"
        "  --code CODE9        the township the backup must be of\n"),
     s_cmd_backup, NULL, NULL, NULL},
    {"keygen", NULL, 0, 0, NULL, N_("make this hub's key pair; prints the public key"),
     N_("usage: township-hub keygen\n"
        "\n"
        "Makes this hub's CURVE key pair (DIR/curve.key, mode 0600) and prints the\n"
        "public key, for the county to enrol ('county-server allow CODE9 'KEY'').\n"),
     s_cmd_keygen, NULL, NULL, NULL},
    {"allow", "CODE KEY", 2, 2, S_OPTS(O_CODE),
     N_("enrol a station of this township (12-digit code)"),
     N_("usage: township-hub allow [--code CODE9] -- CODE 'KEY'\n"
        "\n"
        "Enrols a station: its 12-digit village code, which must be a village of\n"
        "this hub's township, and the public key its 'village-agent keygen'\n"
        "printed (quote it: a Z85 key holds characters the shell changes; '--'\n"
        "keeps a key that starts with '-' from being read as an option). A running\n"
        "hub picks it up on SIGHUP (systemctl reload).\n"
        "\n"
        "  --code CODE9        this hub's township; needed before the hub's first\n"
        "                      run (afterwards the store knows it)\n"),
     s_cmd_allow, NULL, NULL, NULL},
    {"revoke", "CODE|KEY", 1, 1, NULL, N_("remove a station's keys, or one key"),
     N_("usage: township-hub revoke CODE|KEY\n"
        "\n"
        "Removes every key of a station code, or one key, from the allowlist. A\n"
        "running hub applies it on SIGHUP (systemctl reload).\n"),
     s_cmd_revoke, NULL, NULL, NULL},
    {"user", "add|passwd|disable|list [NAME]", 1, 2,
     S_OPTS(O_ROLE, O_PASSWORD_FILE, O_FORMAT, O_CODE),
     N_("accounts of the township page: add, passwd, disable, list"),
     N_("usage: township-hub user add NAME --role R [--password-file F]\n"
        "       township-hub user passwd NAME [--password-file F]\n"
        "       township-hub user disable NAME\n"
        "       township-hub user list [--format table|json|csv]\n"
        "\n"
        "The people who log in to the township page ('serve'), each with a role:\n"
        "  office       the township office: acts, approves, reads the audit trail\n"
        "  viewer       reads only\n"
        "The password is read from standard input (no echo on a terminal) or the\n"
        "first line of --password-file F (mode 0600), never from the command line;\n"
        "at least 8 characters. Only its hash (argon2id) is stored. An account is\n"
        "never deleted: disable ends it. Each change is a row of the audit trail.\n"
        "  --code CODE9        the township (only before 'run' has made the store)\n"),
     s_cmd_accounts, NULL, NULL, NULL},
    {"audit", NULL, 0, 0, S_OPTS(O_USER, O_FROM, O_TO, O_FORMAT),
     N_("the audit trail: every action, web or CLI, by whom, when,\n"
        "from where"),
     N_("usage: township-hub audit [--user U] [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
        "                          [--format table|json|csv]\n"
        "\n"
        "Lists the audit trail, oldest first: when (UTC), who (the account, or the\n"
        "OS user for a command), via (web or cli), from where, the action, its\n"
        "detail and whether it was done. Logins and failed logins are in it.\n"
        "Append-only.\n"
        "\n"
        "  --user U            one account's (or OS user's) rows\n"
        "  --from, --to        dates (UTC), inclusive\n"
        "  --format F          table (default), json, csv\n"),
     s_cmd_accounts, NULL, NULL, NULL},
    {"serve", NULL, 0, 0, NULL, N_("the township page over HTTP (accounts log in)"), NULL, NULL,
     NULL, hub_http_options, hub_http_main},

    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

const sj_cli_tool_t hub_cli_tool = {
    .tool = "township-hub",
    .about = N_("usage: township-hub COMMAND [options]\n"
                "\n"
                "The township mediation office's hub: receives reports from its village\n"
                "stations, stores them, and forwards them to the county server.\n"),
    .footer = N_("\n"
                 "global options (every command):\n"
                 "  --data DIR          data directory (default ./var/township-hub)\n"
                 "  --config FILE       INI file: the general keys (data, code, bind, parent,\n"
                 "                      parent-key, log-level, silent-after, insecure, http,\n"
                 "                      token-file) in [township-hub]; every option of COMMAND\n"
                 "                      as a key of [COMMAND], e.g. [status] silent-after = 600.\n"
                 "                      Flags win over [COMMAND], which wins over [township-hub]\n"
                 "  --log-level LEVEL   error, warn, notice (default), info, debug\n"
                 "  -h, --help          this help; after a command, that command's help\n"
                 "\n"
                 "Exit status: 0 ok, 1 failure, 2 bad usage (status --check: 0-3, see\n"
                 "township-hub status --help).\n"),
    .global_help = N_("global options: --data DIR (default ./var/township-hub), --config FILE,\n"
                      "--log-level LEVEL (see township-hub --help).\n"),
    .data_default = "./var/township-hub",
    .opts = s_options,
    .global = S_OPTS(O_DATA, O_CONFIG, O_LOG),
    .data_id = O_DATA,
    .log_level_id = O_LOG,
    .bom_id = O_BOM,
    .labels_id = O_LABELS,
    .general = s_cfg_general,
    .cmds = s_cmds,
    .engine_cmds = "run",
};
