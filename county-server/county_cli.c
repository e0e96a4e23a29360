/* county_cli: the commands of county-server as one sj_cli table (see
 * county_cli.h): run, keygen, allow, revoke, status, backup, restore,
 * stats, list, show, verify, export, report and serve here; cases and
 * update (county_cases.c) and assign (county_assign.c) parse their own
 * arguments. sj_cli checks which options a command takes and how many
 * arguments; each command checks its values. */
#include "county_cli.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "county_acts.h"
#include "county_appoint.h"
#include "county_assess.h"
#include "county_assign.h"
#include "county_cases.h"
#include "county_dept.h"
#include "county_export.h"
#include "county_http.h"
#include "county_lock.h"
#include "county_own.h"
#include "county_query.h"
#include "county_report.h"
#include "county_status.h"
#include "county_store.h"
#include "county_verify.h"
#include "sj_backup.h"
#include "sj_clock_cli.h"
#include "sj_down.h"
#include "sj_enrol.h"
#include "sj_health.h"
#include "sj_http.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_keys.h"
#include "sj_log.h"
#include "sj_node.h"
#include "sj_periods_db.h"
#include "sj_places.h"
#include "sj_users.h"

enum {
    O_DATA = 1000,
    O_CONFIG,
    O_LOG,
    O_BIND,
    O_CODE,
    O_INSECURE,
    O_BY,
    O_CASES,
    O_FROM,
    O_TO,
    O_TOWNSHIP,
    O_STATION,
    O_CHANNEL,
    O_KIND,
    O_LEVEL,
    O_CATEGORY,
    O_OUTCOME,
    O_SOURCE,
    O_LIMIT,
    O_PERSONAL,
    O_FORMAT,
    O_SILENT,
    O_CHECK,
    O_DWARN,
    O_DCRIT,
    O_DOWN_KEEP,
    O_YEAR,
    O_LANG,
    O_HTTP,
    O_TOKEN_FILE,
    O_BOM,
    O_LABELS,
    O_OCCURRED,
    O_PERSONS,
    O_SUMMARY,
    O_REASON,
    O_OFFICER,
    O_UNDELIVERED,
    O_ROLE,
    O_UNIT,
    O_PASSWORD_FILE,
    O_USER,
    O_DAYS,
    O_APPROVED_BY,
    O_STAGE,
    O_P_ACCEPT,
    O_P_CONCLUDE,
    O_P_REVIEW,
    O_P_EXTEND_MAX,
    O_P_EXTEND_COUNT,
    O_SATISFACTION,
    O_NOTE,
    O_MONTH,
    O_ON,
    O_AT,
    O_OFFICE,
    O_KEPT,
    O_MISSED,
    O_APPOINTMENT,
    O_LEADER,
    O_PORTFOLIO,
    O_WEEK,
    O_ASSESSMENT,
};

static const struct option s_options[] = {
    {"data", required_argument, NULL, O_DATA},
    {"config", required_argument, NULL, O_CONFIG},
    {"log-level", required_argument, NULL, O_LOG},
    {"bind", required_argument, NULL, O_BIND},
    {"code", required_argument, NULL, O_CODE},
    {"insecure", no_argument, NULL, O_INSECURE},
    {"by", required_argument, NULL, O_BY},
    {"cases", no_argument, NULL, O_CASES},
    {"from", required_argument, NULL, O_FROM},
    {"to", required_argument, NULL, O_TO},
    {"township", required_argument, NULL, O_TOWNSHIP},
    {"station", required_argument, NULL, O_STATION},
    {"channel", required_argument, NULL, O_CHANNEL},
    {"kind", required_argument, NULL, O_KIND},
    {"level", required_argument, NULL, O_LEVEL},
    {"category", required_argument, NULL, O_CATEGORY},
    {"outcome", required_argument, NULL, O_OUTCOME},
    {"source", required_argument, NULL, O_SOURCE},
    {"limit", required_argument, NULL, O_LIMIT},
    {"with-personal", no_argument, NULL, O_PERSONAL},
    {"format", required_argument, NULL, O_FORMAT},
    {"silent-after", required_argument, NULL, O_SILENT},
    {"check", no_argument, NULL, O_CHECK},
    {"disk-warn", required_argument, NULL, O_DWARN},
    {"disk-crit", required_argument, NULL, O_DCRIT},
    {"down-retention-days", required_argument, NULL, O_DOWN_KEEP},
    {"year", required_argument, NULL, O_YEAR},
    {"lang", required_argument, NULL, O_LANG},
    {"http", required_argument, NULL, O_HTTP},
    {"token-file", required_argument, NULL, O_TOKEN_FILE},
    {"bom", no_argument, NULL, O_BOM},
    {"labels", required_argument, NULL, O_LABELS},
    {"occurred", required_argument, NULL, O_OCCURRED},
    {"persons", required_argument, NULL, O_PERSONS},
    {"summary", required_argument, NULL, O_SUMMARY},
    {"reason", required_argument, NULL, O_REASON},
    {"officer", required_argument, NULL, O_OFFICER},
    {"undelivered-after", required_argument, NULL, O_UNDELIVERED},
    {"role", required_argument, NULL, O_ROLE},
    {"unit", required_argument, NULL, O_UNIT},
    {"password-file", required_argument, NULL, O_PASSWORD_FILE},
    {"user", required_argument, NULL, O_USER},
    {"days", required_argument, NULL, O_DAYS},
    {"approved-by", required_argument, NULL, O_APPROVED_BY},
    {"stage", required_argument, NULL, O_STAGE},
    {"accept-days", required_argument, NULL, O_P_ACCEPT},
    {"conclude-days", required_argument, NULL, O_P_CONCLUDE},
    {"review-days", required_argument, NULL, O_P_REVIEW},
    {"extend-max-days", required_argument, NULL, O_P_EXTEND_MAX},
    {"extend-count", required_argument, NULL, O_P_EXTEND_COUNT},
    {"satisfaction", required_argument, NULL, O_SATISFACTION},
    {"note", required_argument, NULL, O_NOTE},
    {"month", required_argument, NULL, O_MONTH},
    {"on", required_argument, NULL, O_ON},
    {"at", required_argument, NULL, O_AT},
    {"office", required_argument, NULL, O_OFFICE},
    {"kept", no_argument, NULL, O_KEPT},
    {"missed", no_argument, NULL, O_MISSED},
    {"appointment", required_argument, NULL, O_APPOINTMENT},
    {"leader", required_argument, NULL, O_LEADER},
    {"portfolio", required_argument, NULL, O_PORTFOLIO},
    {"week", required_argument, NULL, O_WEEK},
    {"assessment", no_argument, NULL, O_ASSESSMENT},
    {NULL, 0, NULL, 0},
};

/* The general keys of the config file ([county-server], sj_cfg.h); every
 * other option is a key of its command's section. */
static const char *const s_cfg_general[] = {
    "data", "bind",       "code",         "log-level",         "insecure",
    "http", "token-file", "silent-after", "undelivered-after", SJ_PERIOD_KEYS,
    NULL};

/* The periods of the clock (docs/CLOCK.md): general keys, so that one line
 * of [county-server] sets them for every command that computes a clock. */
static const sj_clock_cli_ids_t s_period_ids = {
    {O_P_ACCEPT, O_P_CONCLUDE, O_P_REVIEW, O_P_EXTEND_MAX, O_P_EXTEND_COUNT}};

/* The clock's periods of a command that computes clocks (stats, report,
 * serve, leaders, agenda): those `run` holds in the store and sends down
 * the tree (sj_periods_db.h; the defaults before the first run), each
 * option given over them. 0, or 2 after saying why. */
static int
s_periods(const sj_cli_args_t *ca, sj_periods_t *p)
{
    sj_periods_t held;
    sj_periods_default(&held);
    char err[512];
    county_store_t *st =
        ca->data ? county_store_open(ca->data, NULL, SJ_DB_READ, err, sizeof err) : NULL;
    if (st) {
        if (sj_periods_db_get(county_store_db(st), &held, NULL) != SJ_OK) {
            sj_periods_default(&held);
        }
        county_store_close(&st);
    }
    return sj_clock_cli_periods_on(ca, &s_period_ids, &held, p);
}

/* What the commands of this file read (sj_cli gives the values). */
typedef struct {
    const char *data, *code, *format, *limit, *year, *lang, *http, *token_file, *silent;
    const char *labels; /* export --labels */
    int with_personal;
    int bom; /* export --bom */
    county_filter_t f;
} s_args_t;

static void
s_args(const sj_cli_args_t *ca, s_args_t *a)
{
    memset(a, 0, sizeof *a);
    a->data = ca->data;
    a->code = sj_cli_val(ca, O_CODE);
    a->format = sj_cli_val(ca, O_FORMAT);
    a->limit = sj_cli_val(ca, O_LIMIT);
    a->year = sj_cli_val(ca, O_YEAR);
    a->lang = sj_cli_val(ca, O_LANG);
    a->http = sj_cli_val(ca, O_HTTP);
    a->token_file = sj_cli_val(ca, O_TOKEN_FILE);
    a->silent = sj_cli_val(ca, O_SILENT);
    a->with_personal = sj_cli_has(ca, O_PERSONAL);
    a->bom = sj_cli_has(ca, O_BOM);
    a->labels = sj_cli_val(ca, O_LABELS);
    a->f.from = sj_cli_val(ca, O_FROM);
    a->f.to = sj_cli_val(ca, O_TO);
    a->f.township = sj_cli_val(ca, O_TOWNSHIP);
    a->f.station = sj_cli_val(ca, O_STATION);
    a->f.channel = sj_cli_val(ca, O_CHANNEL);
    a->f.kind = sj_cli_val(ca, O_KIND);
    a->f.level = sj_cli_val(ca, O_LEVEL);
    a->f.category = sj_cli_val(ca, O_CATEGORY);
    a->f.outcome = sj_cli_val(ca, O_OUTCOME);
    a->f.source = sj_cli_val(ca, O_SOURCE);
}

/* ---- run ---- */

typedef struct {
    const char *data, *code;
    sj_periods_t periods; /* from the config: held and sent down (issue 16) */
} s_run_t;

/* run: the county's store for the node engine. */
static int
s_node_open(void *ctx, sj_node_store_t *out, char *err, size_t err_size)
{
    const s_run_t *r = ctx;
    county_store_t *st = county_store_open(r->data, r->code, SJ_DB_WRITE, err, err_size);
    if (!st) {
        return SJ_EIO;
    }
    int changed = 0;
    int rc = county_store_set_periods(st, &r->periods, &changed);
    if (rc != SJ_OK) {
        snprintf(err, err_size, "cannot hold the clock's periods: %s", sj_strerror(rc));
        county_store_close(&st);
        return rc;
    }
    if (changed) {
        char text[160];
        sj_periods_text(&r->periods, text, sizeof text);
        sj_notice("the clock's periods are now: %s (sent down to every child)", text);
    }
    out->store = st;
    out->db = county_store_db(st);
    out->code = r->code;
    out->store_epoch = county_store_epoch(st);
    return SJ_OK;
}

static void
s_node_close(void *ctx, void *store)
{
    (void) ctx;
    county_store_t *st = store;
    county_store_close(&st);
}

/* The engine's idle hook: a step of the search index (sj_history.h). */
static int
s_node_idle(void *ctx, void *store)
{
    (void) ctx;
    return county_store_idle(store);
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

static int
s_run(const sj_cli_args_t *ca)
{
    if (sj_cli_need(ca, O_BIND, "ENDPOINT") || sj_cli_endpoint(ca, O_BIND, 1)
        || sj_cli_code(ca, O_CODE, 6, "county")) {
        return 2;
    }
    int64_t keep_ms = 0;
    if (s_down_retention(ca, &keep_ms)) {
        return 2;
    }
    static const sj_node_role_t role = {.open = s_node_open,
                                        .close = s_node_close,
                                        .down_ops = &county_store_downlink_ops,
                                        .idle = s_node_idle};
    const sj_node_cfg_t cfg = {.tool = "county-server",
                               .data = ca->data,
                               .store_file = COUNTY_STORE_FILE,
                               .damaged_hint = "restore a backup with 'county-server restore'",
                               .daemon = 1,
                               .insecure = sj_cli_has(ca, O_INSECURE),
                               .bind = sj_cli_val(ca, O_BIND),
                               .down_retention_ms = keep_ms};
    s_run_t r = {.data = ca->data, .code = sj_cli_val(ca, O_CODE)};
    if (sj_clock_cli_periods(ca, &s_period_ids, &r.periods)) {
        return 2;
    }
    if (r.code) {
        sj_log_set_ident("county-server", r.code);
    }
    int rc = sj_node_run(&cfg, &role, &r);
    return rc == SJ_OK ? 0 : rc == SJ_EINVAL ? 2 : 1;
}

/* ---- keys ---- */

static int
s_keygen(const sj_cli_args_t *ca)
{
    return sj_enrol_keygen("county-server", ca->data);
}

static int
s_allow(const sj_cli_args_t *ca)
{
    const char *code = ca->pos[0];
    if (sj_cli_code(ca, O_CODE, 6, "county")) {
        return 2;
    }
    if (sj_code_level(code) != 9 && sj_code_level(code) != 12) {
        fprintf(stderr,
                _("county-server: CODE '%s' is neither a 9-digit township nor a 12-digit"
                  " village code\n"),
                code);
        return 2;
    }
    return sj_enrol_allow("county-server", ca->data, code, ca->pos[1], sj_cli_val(ca, O_CODE));
}

static int
s_revoke(const sj_cli_args_t *ca)
{
    return sj_enrol_revoke("county-server", ca->data, ca->pos[0]);
}

/* ---- status, backup, restore, verify ---- */

typedef struct {
    const char *data, *code;
} s_restore_t;

/* restore: the staged copy is opened as `run` opens it, for --code or else
 * the county this directory serves (when it names one). */
static int
s_verify(void *ctx, const char *dir, char *err, size_t err_size)
{
    const s_restore_t *r = ctx;
    char code[SJ_CODE_MAX + 1] = "";
    if (r->code) {
        snprintf(code, sizeof code, "%s", r->code);
    } else {
        char ignored[512];
        county_store_t *live =
            county_store_open(r->data, NULL, SJ_DB_READ, ignored, sizeof ignored);
        if (live
            && sj_db_meta_get_text(county_store_db(live), "code", code, sizeof code) != SJ_OK) {
            code[0] = '\0';
        }
        county_store_close(&live);
    }
    county_store_t *st = county_store_open(dir, code[0] ? code : NULL, SJ_DB_WRITE, err, err_size);
    if (!st) {
        return SJ_EINVAL;
    }
    county_store_close(&st);
    return SJ_OK;
}

/* status and status --check (exit 0..3, sj_health.h). */
static int
s_status(const char *data, const sj_health_opts_t *ho, int check, sj_format_t fmt)
{
    char err[512] = "";
    county_store_t *st = county_store_open(data, NULL, SJ_DB_READ, err, sizeof err);
    if (!st) {
        if (check) {
            return sj_health_unknown(stdout, "cannot read the county store: %s", err);
        }
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    int rc;
    if (!check) {
        char fp[SJ_KEY_FP_TEXT];
        int have_fp = sj_enrol_key_fingerprint(data, fp) == SJ_OK;
        rc = county_status_write(county_store_db(st), ho->silent_s, have_fp ? fp : NULL, fmt,
                                 stdout);
        county_store_close(&st);
        if (rc != SJ_OK) {
            fprintf(stderr, _("county-server: cannot read status: %s\n"), _(sj_strerror(rc)));
        }
        return rc == SJ_OK ? 0 : 1;
    }
    sj_health_t *h = sj_health_new();
    rc = h ? county_status_check(county_store_db(st), ho, h) : SJ_ENOMEM;
    county_store_close(&st);
    if (rc == SJ_OK && sj_health_disk(h, data, ho->disk_warn_pct, ho->disk_crit_pct) != SJ_OK) {
        sj_health_add(h, SJ_HEALTH_UNKNOWN, "cannot read the free space of %s", data);
    }
    int code = rc == SJ_OK ? sj_health_print(h, stdout)
                           : sj_health_unknown(stdout, "cannot read the county store in %s: %s",
                                               data, sj_strerror(rc));
    sj_health_destroy(&h);
    return code;
}

/* status --check: bad usage is UNKNOWN (exit 3) in the monitoring convention. */
static int
s_status_bad_usage(const sj_cli_args_t *ca)
{
    if (sj_cli_has(ca, O_CHECK)) {
        return sj_health_unknown(stdout, "bad usage (see stderr)");
    }
    return 2;
}

/* --undelivered-after HOURS (issue 15): when a down item not acked is
 * undelivered, for status and the dashboard. */
static int
s_undelivered(const sj_cli_args_t *ca)
{
    long long hours = SJ_DOWN_UNDELIVERED_S / 3600;
    if (sj_cli_int(ca, O_UNDELIVERED, 1, 8760, &hours)) {
        return 2;
    }
    sj_down_undelivered_after_set((int64_t) hours * 3600);
    return 0;
}

static int
s_status_cmd(const sj_cli_args_t *ca)
{
    sj_health_opts_t ho;
    sj_health_opts_default(&ho);
    sj_format_t fmt = SJ_FMT_TABLE;
    char err[512];
    if (sj_cli_format(ca, O_FORMAT, &fmt) || s_undelivered(ca)) {
        return s_status_bad_usage(ca);
    }
    if (sj_health_opts_parse(&ho, sj_cli_val(ca, O_SILENT), NULL, NULL, sj_cli_val(ca, O_DWARN),
                             sj_cli_val(ca, O_DCRIT), err, sizeof err)
        != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        return s_status_bad_usage(ca);
    }
    return s_status(ca->data, &ho, sj_cli_has(ca, O_CHECK), fmt);
}

static int
s_backup(const sj_cli_args_t *ca)
{
    if (sj_cli_code(ca, O_CODE, 6, "county")) {
        return 2;
    }
    s_restore_t r = {.data = ca->data, .code = sj_cli_val(ca, O_CODE)};
    sj_backup_role_t role = {
        .tool = "county-server", .file = COUNTY_STORE_FILE, .verify = s_verify, .ctx = &r};
    role.migrations = county_store_migrations(&role.n_migrations);
    return strcmp(ca->cmd->name, "backup") == 0
               ? sj_backup_cmd_backup(&role, ca->data, ca->pos[0])
               : sj_backup_cmd_restore(&role, ca->data, ca->pos[0]);
}

static int
s_verify_cmd(const sj_cli_args_t *ca)
{
    sj_format_t fmt = SJ_FMT_TABLE;
    char err[512] = "";
    if (sj_cli_format(ca, O_FORMAT, &fmt)) {
        return 2;
    }
    county_store_t *vs = county_store_open(ca->data, NULL, SJ_DB_READ, err, sizeof err);
    if (!vs) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    long problems = 0;
    int v = county_verify(county_store_db(vs), fmt, stdout, &problems, err, sizeof err);
    county_store_close(&vs);
    if (v != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    fprintf(stderr, _("%s: %ld problem%s\n"), problems ? _("NOT VERIFIED") : _("verified"),
            problems, problems == 1 ? "" : "s");
    return problems ? 1 : 0;
}

/* ---- stats, list, show ---- */

static int
s_query(const sj_cli_args_t *ca)
{
    const char *cmd = ca->cmd->name;
    s_args_t a;
    s_args(ca, &a);
    county_filter_t f = a.f;
    sj_format_t fmt = SJ_FMT_TABLE;
    char err[512] = "";
    long long limit = 0;
    if (sj_cli_format(ca, O_FORMAT, &fmt) || sj_cli_int(ca, O_LIMIT, 1, 1000000000, &limit)) {
        return 2;
    }
    sj_periods_t periods; /* the clock of stats --cases: overdue, the rates */
    if (s_periods(ca, &periods)) {
        return 2;
    }
    f.periods = &periods;
    f.limit = (long) limit;
    if (county_filter_check(&f, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        return 2;
    }
    sj_keypair_t kp;
    int with_personal = a.with_personal;
    if (with_personal) {
        if (sj_keypair_load(ca->data, &kp, err, sizeof err) != SJ_OK) {
            fprintf(stderr, _("county-server: --with-personal needs this server's key: %s\n"), err);
            return 1;
        }
        f.personal = &kp;
    }
    county_store_t *st = county_store_open(ca->data, NULL, SJ_DB_READ, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        if (with_personal) {
            sodium_memzero(&kp, sizeof kp);
        }
        return 1;
    }
    int q;
    err[0] = '\0';
    if (strcmp(cmd, "stats") == 0) {
        q = county_query_stats_ex(county_store_db(st), sj_cli_val(ca, O_BY), &f, fmt,
                                  sj_cli_has(ca, O_CASES) ? COUNTY_STATS_CASES : 0, stdout, err,
                                  sizeof err);
    } else if (strcmp(cmd, "list") == 0) {
        q = county_query_list(county_store_db(st), &f, fmt, stdout, err, sizeof err);
    } else if (strcmp(cmd, "search") == 0) {
        q = county_query_search(county_store_db(st), ca->pos[0], &f, fmt, stdout, err, sizeof err);
    } else {
        q = county_query_show(county_store_db(st), ca->pos[0], fmt, stdout, err, sizeof err);
        if (q == SJ_OK && with_personal) {
            q = county_query_personal(county_store_db(st), ca->pos[0], &kp, fmt, stdout, err,
                                      sizeof err);
        }
    }
    if (with_personal) {
        sodium_memzero(&kp, sizeof kp);
    }
    county_store_close(&st);
    if (q != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err[0] ? err : _(sj_strerror(q)));
        return q == SJ_EINVAL ? 2 : 1;
    }
    return 0;
}

/* ---- export ---- */

/* Progress on a terminal: one line rewritten in place. */
static void
s_export_progress(void *ctx, int64_t rows)
{
    (void) ctx;
    fputc('\r', stderr);
    fprintf(stderr, _("county-server: exported %lld matters"), (long long) rows);
    fflush(stderr);
}

static int
s_export(s_args_t *a)
{
    county_export_format_t fmt = COUNTY_EXPORT_CSV;
    if (a->format && county_export_format_parse(a->format, &fmt) != SJ_OK) {
        fprintf(stderr, _("county-server: --format '%s' is not one of csv, jsonl, xlsx\n"),
                a->format);
        return 2;
    }
    if (a->limit) {
        char *end = NULL;
        a->f.limit = strtol(a->limit, &end, 10);
        if (!end || *end || a->f.limit < 1) {
            fprintf(stderr, _("county-server: --limit '%s' is not a positive number\n"), a->limit);
            return 2;
        }
    }
    if (a->bom && fmt != COUNTY_EXPORT_CSV) {
        fprintf(stderr, _("county-server: --bom is for --format csv only\n"));
        return 2;
    }
    sj_csv_opts_t csv = {.bom = a->bom, .labels = a->labels != NULL, .lang = SJ_LANG_ZH};
    if (a->labels && sj_lang_parse(a->labels, &csv.lang) != SJ_OK) {
        fprintf(stderr, _("county-server: --labels '%s' is not one of zh, en\n"), a->labels);
        return 2;
    }
    if (a->labels && fmt == COUNTY_EXPORT_JSONL) {
        fprintf(stderr, _("county-server: --labels is for --format csv or xlsx only\n"));
        return 2;
    }
    if (fmt == COUNTY_EXPORT_XLSX && isatty(STDOUT_FILENO)) {
        fprintf(stderr, _("county-server: --format xlsx writes a binary file: redirect stdout,"
                          " e.g. > matters.xlsx\n"));
        return 2;
    }
    sj_table_csv_opts_set(&csv);
    char err[512] = "";
    if (county_filter_check(&a->f, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        return 2;
    }
    sj_keypair_t kp;
    if (a->with_personal) {
        if (sj_keypair_load(a->data, &kp, err, sizeof err) != SJ_OK) {
            fprintf(stderr, _("county-server: --with-personal needs this server's key: %s\n"), err);
            return 1;
        }
        a->f.personal = &kp;
    }
    int rc = 1;
    county_store_t *st = county_store_open(a->data, NULL, SJ_DB_READ, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        goto out;
    }
    int tty = isatty(STDERR_FILENO);
    int64_t rows = 0;
    int64_t t0 = sj_mono_ms();
    int q = county_export_write(county_store_db(st), &a->f, fmt, stdout,
                                tty ? s_export_progress : NULL, NULL, &rows, err, sizeof err);
    if (tty) {
        fputc('\r', stderr);
        fprintf(stderr, _("county-server: exported %lld matters in %.1f s\n"), (long long) rows,
                (double) (sj_mono_ms() - t0) / 1000.0);
    }
    if (q != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err[0] ? err : _(sj_strerror(q)));
        rc = q == SJ_EINVAL ? 2 : 1;
        goto out;
    }
    rc = 0;
out:
    county_store_close(&st);
    if (a->with_personal) {
        sodium_memzero(&kp, sizeof kp);
    }
    return rc;
}

/* ---- correct, void (issue 15) ---- */

static int
s_fix_cmd(const sj_cli_args_t *ca)
{
    int is_void = strcmp(ca->cmd->name, "void") == 0;
    static const int ids[SJ_FIX_COUNT] = {
        [SJ_FIX_OCCURRED] = O_OCCURRED, [SJ_FIX_CHANNEL] = O_CHANNEL,
        [SJ_FIX_KIND] = O_KIND,         [SJ_FIX_PERSONS] = O_PERSONS,
        [SJ_FIX_LEVEL] = O_LEVEL,       [SJ_FIX_CATEGORY] = O_CATEGORY,
        [SJ_FIX_SOURCE] = O_SOURCE,     [SJ_FIX_SUMMARY] = O_SUMMARY};
    const char *vals[SJ_FIX_COUNT];
    for (int i = 0; i < SJ_FIX_COUNT; i++) {
        vals[i] = sj_cli_val(ca, ids[i]);
    }
    char err[512] = "", id[SJ_UUID_TEXT];
    /* The values first (exit 2 before anything is opened). */
    sj_event_t *ev = sj_cli_fix_event(ca, ids, O_REASON, O_OFFICER, &(int){1});
    if (!ev) {
        return 2;
    }
    free(ev);
    county_store_t *st = county_store_open(ca->data, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    int rc = county_fix_do(st, is_void, ca->pos[0], vals, sj_cli_val(ca, O_REASON),
                           sj_cli_val(ca, O_OFFICER), NULL, id, err, sizeof err);
    sj_audit_cli(county_store_db(st), is_void ? "void" : "correct", ca->pos[0], rc == SJ_OK);
    if (rc != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
    } else {
        printf("%s\n", id);
        fprintf(stderr, _("county-server: %s of %s stored (event of origin %s)\n"),
                is_void ? "void (作废)" : "correction (更正)", ca->pos[0], county_store_origin(st));
    }
    county_store_close(&st);
    return rc == SJ_OK ? 0 : rc == SJ_EINVAL ? 2 : 1;
}

/* ---- places (issue 15 item 4) ---- */

static int
s_places_list(county_store_t *st, sj_format_t fmt)
{
    sj_place_t *v = NULL;
    size_t n = 0;
    int rc = sj_places_all(county_store_db(st), &v, &n);
    if (rc != SJ_OK) {
        fprintf(stderr, _("county-server: cannot read the place names: %s\n"), _(sj_strerror(rc)));
        return 1;
    }
    static const char *const names[] = {"code", "name", "level"};
    static const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT};
    sj_table_t *t = sj_table_new(3, names, types);
    rc = t ? SJ_OK : SJ_ENOMEM;
    for (size_t i = 0; rc == SJ_OK && i < n; i++) {
        int level = sj_code_level(v[i].code);
        const char *cells[] = {v[i].code, v[i].name,
                               level == 6   ? "county"
                               : level == 9 ? "township"
                                            : "village"};
        rc = sj_table_add_row(t, cells);
    }
    if (rc == SJ_OK) {
        rc = sj_table_write(t, fmt, stdout);
    }
    sj_table_destroy(&t);
    free(v);
    if (rc != SJ_OK) {
        fprintf(stderr, _("county-server: cannot list the place names: %s\n"), _(sj_strerror(rc)));
        return 1;
    }
    if (fmt == SJ_FMT_TABLE && n == 0) {
        fprintf(stderr,
                _("county-server: no place names yet (county-server places import FILE)\n"));
    }
    return 0;
}

static int
s_places_cmd(const sj_cli_args_t *ca)
{
    const char *sub = ca->pos[0];
    int import = strcmp(sub, "import") == 0;
    if (!import && strcmp(sub, "list") != 0) {
        fprintf(stderr,
                _("county-server: places: '%s' is not import or list (see county-server"
                  " places --help)\n"),
                sub);
        return 2;
    }
    if (import != (ca->npos == 2)) {
        fprintf(stderr, "county-server: %s\n",
                import ? "places import needs the FILE (code,name lines)"
                       : "places list takes no FILE");
        return 2;
    }
    sj_format_t fmt = SJ_FMT_TABLE;
    if (sj_cli_format(ca, O_FORMAT, &fmt)) {
        return 2;
    }
    if (import && sj_cli_has(ca, O_FORMAT)) {
        fprintf(stderr, _("county-server: places import takes no --format\n"));
        return 2;
    }
    char err[1024] = "";
    county_store_t *st =
        county_store_open(ca->data, NULL, import ? SJ_DB_WRITE : SJ_DB_READ, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    if (!import) {
        int code = s_places_list(st, fmt);
        county_store_close(&st);
        return code;
    }
    const char *county = county_store_origin(st);
    sj_place_t *v = NULL;
    size_t n = 0, changed = 0, children = 0;
    int rc = sj_places_read_csv(ca->pos[1], strcmp(county, "000000") ? county : NULL, &v, &n, err,
                                sizeof err);
    if (rc != SJ_OK) {
        fprintf(stderr, _("county-server: %s: %s; nothing was stored\n"), ca->pos[1], err);
        county_store_close(&st);
        return rc == SJ_EINVAL ? 2 : 1;
    }
    rc = county_store_places_import(st, v, n, &changed, &children, err, sizeof err);
    free(v);
    county_store_close(&st);
    if (rc != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    printf(_("%zu place name(s) read, %zu new or renamed; sent to %zu connected child(ren)"
             " (others get them when they connect)\n"),
           n, changed, children);
    return 0;
}

/* ---- extend (issue 16, docs/CLOCK.md) ---- */

static int
s_extend_cmd(const sj_cli_args_t *ca)
{
    sj_periods_t p, held;
    int code = sj_clock_cli_periods(ca, &s_period_ids, &p);
    if (code) {
        return code;
    }
    /* The values first (exit 2 before anything is opened). */
    sj_event_t *ev =
        sj_clock_cli_extension(ca, O_DAYS, O_REASON, O_APPROVED_BY, O_STAGE, O_OFFICER, &code);
    if (!ev) {
        return code;
    }
    char err[512] = "", id[SJ_UUID_TEXT];
    county_store_t *st = county_store_open(ca->data, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        free(ev);
        return 1;
    }
    sj_clock_t after;
    /* the periods the county holds (run's, sent down), the options over them */
    if (sj_periods_db_get(county_store_db(st), &held, NULL) == SJ_OK) {
        (void) sj_clock_cli_periods_on(ca, &s_period_ids, &held, &p);
    }
    int rc = county_extend_do(st, ca->pos[0], sj_cli_val(ca, O_DAYS), sj_cli_val(ca, O_REASON),
                              sj_cli_val(ca, O_APPROVED_BY), sj_cli_val(ca, O_STAGE),
                              sj_cli_val(ca, O_OFFICER), NULL, &p, ev, &after, id, err, sizeof err);
    char detail[700];
    snprintf(detail, sizeof detail, "case %.40s +%.8s days%s%.600s", ca->pos[0],
             sj_cli_val(ca, O_DAYS), rc == SJ_OK ? "" : ": ", rc == SJ_OK ? "" : err);
    sj_audit_cli(county_store_db(st), "extend", detail, rc == SJ_OK);
    if (rc != SJ_OK) {
        fprintf(stderr, _("county-server: extension refused, nothing stored: %s\n"), err);
    } else {
        char where[64];
        snprintf(where, sizeof where, "event of origin %s", county_store_origin(st));
        sj_clock_cli_report("county-server", ca->pos[0], ev, &after, where);
    }
    county_store_close(&st);
    free(ev);
    return rc == SJ_OK ? 0 : rc == SJ_EINVAL ? 2 : 1;
}

/* ---- evaluate (issue 16) ---- */

static int
s_evaluate_cmd(const sj_cli_args_t *ca)
{
    if (sj_cli_need(ca, O_SATISFACTION, "S")) {
        return 2;
    }
    char err[512] = "", id[SJ_UUID_TEXT];
    sj_event_t ev;
    /* The values first (exit 2 before anything is opened). */
    if (sj_evaluation_fill(&ev, ca->pos[0], sj_cli_val(ca, O_SATISFACTION), sj_cli_val(ca, O_NOTE),
                           sj_cli_val(ca, O_OFFICER), err, sizeof err)
        != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        return 2;
    }
    county_store_t *st = county_store_open(ca->data, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    int value = 0;
    int rc =
        county_evaluate_do(st, ca->pos[0], sj_cli_val(ca, O_SATISFACTION), sj_cli_val(ca, O_NOTE),
                           sj_cli_val(ca, O_OFFICER), NULL, &value, id, err, sizeof err);
    char detail[700];
    snprintf(detail, sizeof detail, "case %.40s %s%s%.600s", ca->pos[0],
             value ? sj_satisfaction_name(value) : "-", rc == SJ_OK ? "" : ": ",
             rc == SJ_OK ? "" : err);
    sj_audit_cli(county_store_db(st), "evaluate", detail, rc == SJ_OK);
    if (rc != SJ_OK) {
        fprintf(stderr, _("county-server: evaluation refused, nothing stored: %s\n"), err);
    } else {
        printf("%s\n", id);
        fprintf(stderr,
                _("county-server: case %s: evaluation %s (%s) stored (event of origin %s)\n"),
                ca->pos[0], sj_satisfaction_label(value, SJ_LANG_ZH), sj_satisfaction_name(value),
                county_store_origin(st));
    }
    county_store_close(&st);
    return rc == SJ_OK ? 0 : rc == SJ_EINVAL ? 2 : 1;
}

/* ---- appointments (约访, issue 16 item 6, county_appoint.h) ---- */

/* The exit status of a county_appoint_* result: 2 bad usage, 1 refused. */
static int
s_appoint_exit(int rc)
{
    return rc == SJ_EINVAL ? 2 : 1;
}

static int
s_appoint_cmd(const sj_cli_args_t *ca)
{
    if (sj_cli_need(ca, O_ON, "YYYY-MM-DD") || sj_cli_need(ca, O_AT, "HH:MM")
        || sj_cli_need(ca, O_OFFICE, "NAME")) {
        return 2;
    }
    county_appoint_req_t rq = {.case_id = ca->pos[0],
                               .on = sj_cli_val(ca, O_ON),
                               .at = sj_cli_val(ca, O_AT),
                               .office = sj_cli_val(ca, O_OFFICE),
                               .note = sj_cli_val(ca, O_NOTE),
                               .officer = sj_cli_val(ca, O_OFFICER)};
    char err[512] = "", today[11], id[SJ_UUID_TEXT];
    sj_date_today(today);
    county_store_t *st = county_store_open(ca->data, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    int rc = county_appoint_make(st, &rq, today, id, err, sizeof err);
    char detail[256];
    snprintf(detail, sizeof detail, "%.40s %.10s %.5s %.64s", ca->pos[0], rq.on, rq.at, rq.office);
    sj_audit_cli(county_store_db(st), "appoint", detail, rc == SJ_OK);
    int code = 0;
    if (rc != SJ_OK) {
        fprintf(stderr, _("county-server: appointment refused: %s\n"), err);
        code = s_appoint_exit(rc);
    } else {
        printf("%s\n", id);
        fprintf(stderr,
                "county-server: case %s: appointment on %s at %s, %s (约访; event of origin %s)\n",
                ca->pos[0], rq.on, rq.at, rq.office, county_store_origin(st));
    }
    county_store_close(&st);
    return code;
}

static int
s_appointment_cmd(const sj_cli_args_t *ca)
{
    int kept = sj_cli_has(ca, O_KEPT), missed = sj_cli_has(ca, O_MISSED);
    if (kept == missed) {
        fprintf(stderr, _("county-server: appointment needs --kept or --missed (one)\n"));
        return 2;
    }
    char err[512] = "", today[11], id[SJ_UUID_TEXT], appt[SJ_UUID_TEXT];
    sj_date_today(today);
    county_store_t *st = county_store_open(ca->data, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    int rc = county_appoint_mark(st, ca->pos[0], sj_cli_val(ca, O_APPOINTMENT), kept,
                                 sj_cli_val(ca, O_NOTE), sj_cli_val(ca, O_OFFICER), NULL, today, id,
                                 appt, err, sizeof err);
    char detail[160];
    snprintf(detail, sizeof detail, "%.40s %s", ca->pos[0], kept ? "kept" : "missed");
    sj_audit_cli(county_store_db(st), "appointment", detail, rc == SJ_OK);
    int code = 0;
    if (rc != SJ_OK) {
        fprintf(stderr, _("county-server: mark refused: %s\n"), err);
        code = s_appoint_exit(rc);
    } else {
        printf("%s\n", id);
        fprintf(stderr, _("county-server: case %s: appointment %s marked %s (%s)\n"), ca->pos[0],
                appt, kept ? "kept" : "missed",
                county_appoint_state_label(kept ? "kept" : "missed", SJ_LANG_ZH));
    }
    county_store_close(&st);
    return code;
}

static int
s_appointments_cmd(const sj_cli_args_t *ca)
{
    sj_format_t fmt = SJ_FMT_TABLE;
    if (sj_cli_format(ca, O_FORMAT, &fmt) != 0 || sj_cli_date(ca, O_ON) || sj_cli_date(ca, O_FROM)
        || sj_cli_date(ca, O_TO)) {
        return 2;
    }
    const char *on = sj_cli_val(ca, O_ON), *from = sj_cli_val(ca, O_FROM),
               *to = sj_cli_val(ca, O_TO), *office = sj_cli_val(ca, O_OFFICE);
    char today[11];
    if (on && (from || to)) {
        fprintf(stderr,
                _("county-server: appointments takes --on DATE or --from/--to, not both\n"));
        return 2;
    }
    if (!on && !from && !to) {
        sj_date_today(today);
        on = today;
    }
    if (on) {
        from = to = on;
    }
    char err[512] = "";
    county_store_t *st = county_store_open(ca->data, NULL, SJ_DB_READ, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    sj_table_t *t = NULL;
    int rc = county_appoint_table(county_store_db(st), from, to, office, &t, err, sizeof err);
    if (rc == SJ_OK) {
        rc = sj_table_write(t, fmt, stdout);
        if (rc != SJ_OK) {
            snprintf(err, sizeof err, "cannot write the output");
        }
    }
    sj_table_destroy(&t);
    county_store_close(&st);
    if (rc != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    return 0;
}

/* ---- own, leaders, agenda (issue 16 items 4 and 5, docs/MEETING.md) ---- */

static int
s_own_cmd(const sj_cli_args_t *ca)
{
    return county_own_cmd(ca, O_LEADER, O_PORTFOLIO, O_OFFICER);
}

static int
s_leaders_cmd(const sj_cli_args_t *ca)
{
    sj_periods_t p;
    int code = s_periods(ca, &p);
    return code ? code : county_leaders_cmd(ca, O_FORMAT, &p);
}

static int
s_agenda_cmd(const sj_cli_args_t *ca)
{
    sj_periods_t p;
    int code = s_periods(ca, &p);
    return code ? code : county_agenda_cmd(ca, O_WEEK, O_FORMAT, &p);
}

/* ---- report ---- */

static int
s_report(s_args_t *a, const sj_periods_t *periods)
{
    int year = 0;
    county_report_lang_t lang = COUNTY_REPORT_ZH;
    county_report_fmt_t fmt = COUNTY_REPORT_MD;
    if (!a->year) {
        fprintf(stderr, _("county-server: report needs --year YYYY\n"));
        return 2;
    }
    if (county_report_year_parse(a->year, &year) != SJ_OK) {
        fprintf(stderr, _("county-server: --year '%s' is not a year (%d..%d)\n"), a->year,
                COUNTY_REPORT_YEAR_MIN, COUNTY_REPORT_YEAR_MAX);
        return 2;
    }
    if (a->lang && county_report_lang_parse(a->lang, &lang) != SJ_OK) {
        fprintf(stderr, _("county-server: --lang '%s' is not one of zh, en\n"), a->lang);
        return 2;
    }
    if (a->format && county_report_fmt_parse(a->format, &fmt) != SJ_OK) {
        fprintf(stderr, _("county-server: --format '%s' is not one of md, html\n"), a->format);
        return 2;
    }
    char err[512] = "";
    county_store_t *st = county_store_open(a->data, NULL, SJ_DB_READ, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    county_report_t *r = calloc(1, sizeof *r);
    int rc = 1;
    if (!r) {
        fprintf(stderr, _("county-server: out of memory\n"));
        goto out;
    }
    if (county_report_compute_p(county_store_db(st), year, periods, r, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        goto out;
    }
    if (county_report_write(r, lang, fmt, stdout) != SJ_OK) {
        fprintf(stderr, _("county-server: cannot write the report\n"));
        goto out;
    }
    rc = 0;
out:
    free(r);
    county_store_close(&st);
    return rc;
}

/* ---- serve ---- */

/* SIGINT and SIGTERM are blocked before the server thread starts (it
 * inherits the mask) and taken with sigwait, so no handler runs on a
 * libmicrohttpd thread (sj_http_signals_*). */
static int
s_serve(s_args_t *a)
{
    const char *addr = a->http ? a->http : COUNTY_HTTP_DEFAULT_ADDR;
    int64_t silent_s = COUNTY_HTTP_SILENT_S;
    if (a->silent) {
        char *end = NULL;
        long long v = strtoll(a->silent, &end, 10);
        if (!end || *end || v < 1) {
            fprintf(stderr, _("county-server: --silent-after '%s' is not a number of seconds\n"),
                    a->silent);
            return 2;
        }
        silent_s = v;
    }
    char err[512] = "";
    char token[SJ_HTTP_TOKEN_MAX + 1] = "";
    if (a->token_file
        && sj_http_token_load(a->token_file, token, sizeof token, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        return 2;
    }
    if (sj_http_addr_check(addr, 1, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        sodium_memzero(token, sizeof token);
        return 2;
    }
    /* The store must exist (a read-only open says so), and then one
     * connection serves: a second connection of this process would open the
     * file again, and closing that descriptor drops the process's POSIX
     * locks on it, so a `user add` next to it would think itself the last
     * one and remove the WAL under it. */
    county_store_t *st = county_store_open(a->data, NULL, SJ_DB_READ, err, sizeof err);
    county_store_close(&st);
    county_store_t *wst =
        err[0] ? NULL : county_store_open(a->data, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!wst) {
        fprintf(stderr, "county-server: %s\n", err);
        sodium_memzero(token, sizeof token);
        return 1;
    }
    int accounts = sj_users_count(county_store_db(wst));
    if (!a->token_file && !accounts && sj_http_addr_check(addr, 0, err, sizeof err) != SJ_OK) {
        fprintf(stderr,
                _("county-server: --http %s is not a loopback address: serving it needs an account"
                  " ('county-server user add NAME --role admin') or --token-file FILE\n"),
                addr);
        county_store_close(&wst);
        return 2;
    }
    sj_http_signals_block();
    county_http_t *http = county_http_new(county_store_db(wst), wst, addr,
                                          a->token_file ? token : NULL, silent_s, err, sizeof err);
    sodium_memzero(token, sizeof token);
    if (!http) {
        fprintf(stderr, "county-server: %s\n", err);
        county_store_close(&wst);
        return 1;
    }
    char url[300];
    sj_http_url(addr, county_http_port(http), url, sizeof url);
    sj_notice("dashboard on %s (%d accounts%s)", url, accounts,
              a->token_file ? ", token for read-only API clients" : "");
    printf("ready %s\n", url);
    fflush(stdout);
    int sig = sj_http_signals_wait();
    sj_notice("stopping (signal %d)", sig);
    county_http_destroy(&http);
    county_store_close(&wst);
    return 0;
}

/* ---- user, audit (issue 17) ---- */

static int
s_users_cmd(const sj_cli_args_t *ca)
{
    sj_format_t fmt = SJ_FMT_TABLE;
    if (sj_cli_format(ca, O_FORMAT, &fmt) != 0) {
        return 2;
    }
    char err[512] = "";
    county_store_t *st = county_store_open(ca->data, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    int rc = sj_users_cli("county-server", county_store_db(st), sj_roles_county, ca->pos, ca->npos,
                          sj_cli_val(ca, O_ROLE), sj_cli_val(ca, O_UNIT),
                          sj_cli_val(ca, O_PASSWORD_FILE), fmt);
    county_store_close(&st);
    return rc;
}

static int
s_audit_cmd(const sj_cli_args_t *ca)
{
    sj_format_t fmt = SJ_FMT_TABLE;
    if (sj_cli_format(ca, O_FORMAT, &fmt) != 0) {
        return 2;
    }
    char err[512] = "";
    county_store_t *st = county_store_open(ca->data, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    int rc = sj_audit_cli_list("county-server", county_store_db(st), sj_cli_val(ca, O_USER),
                               sj_cli_val(ca, O_FROM), sj_cli_val(ca, O_TO), fmt);
    county_store_close(&st);
    return rc;
}

static int
s_dept_cmd(const sj_cli_args_t *ca)
{
    sj_format_t fmt = SJ_FMT_TABLE;
    if (sj_cli_format(ca, O_FORMAT, &fmt) != 0) {
        return 2;
    }
    char err[512] = "";
    county_store_t *st = county_store_open(ca->data, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    int rc = county_dept_cli(st, ca->pos, ca->npos, fmt);
    county_store_close(&st);
    return rc;
}

/* ---- signed-off figures: lock, approvals, amendments (issue 17 item 5) ---- */

/* --year Y given: checked (exit 2 when not a year). */
static int
s_lock_year(const sj_cli_args_t *ca, const char **year)
{
    *year = sj_cli_val(ca, O_YEAR);
    int y = 0;
    if (*year && county_report_year_parse(*year, &y) != SJ_OK) {
        fprintf(stderr, _("county-server: --year '%s' is not a year (%d..%d)\n"), *year,
                COUNTY_REPORT_YEAR_MIN, COUNTY_REPORT_YEAR_MAX);
        return 2;
    }
    return 0;
}

static int
s_lock_cmd(const sj_cli_args_t *ca)
{
    const char *month = sj_cli_val(ca, O_MONTH), *year = sj_cli_val(ca, O_YEAR);
    if (!month == !year) {
        fprintf(stderr, _("county-server: lock needs --month YYYY-MM or --year YYYY (one)\n"));
        return 2;
    }
    if (month && !county_lock_month_ok(month)) {
        fprintf(stderr, _("county-server: --month '%s' is not a month YYYY-MM\n"), month);
        return 2;
    }
    const char *y = NULL;
    if (s_lock_year(ca, &y) != 0) {
        return 2;
    }
    char who[SJ_MAX_OFFICER_BYTES + 64] = "", from[128];
    const char *officer = sj_cli_val(ca, O_OFFICER);
    if (officer && strlen(officer) > SJ_MAX_OFFICER_BYTES) {
        fprintf(stderr, _("county-server: --officer is over %d bytes\n"), SJ_MAX_OFFICER_BYTES);
        return 2;
    }
    if (officer && officer[0]) {
        snprintf(who, sizeof who, "%s", officer);
    } else {
        sj_audit_os_user(who, sizeof who, from, sizeof from);
    }
    char err[512] = "";
    county_store_t *st = county_store_open(ca->data, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    const char *period = month ? month : year;
    int rc = county_lock_do(st, month, year, who, err, sizeof err);
    sj_audit_cli(county_store_db(st), "lock", period, rc == SJ_OK);
    county_store_close(&st);
    if (rc != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        return rc == SJ_EINVAL ? 2 : 1;
    }
    fprintf(stderr,
            _("county-server: %s locked (已锁定) by %s; its figures are kept as they are\n"),
            period, who);
    return 0;
}

static int
s_lock_list_cmd(const sj_cli_args_t *ca)
{
    const char *year = NULL;
    if (s_lock_year(ca, &year) != 0) {
        return 2;
    }
    int json = 0;
    if (ca->cmd->name[1] == 'p') { /* approvals */
        sj_format_t fmt = SJ_FMT_TABLE;
        if (sj_cli_format(ca, O_FORMAT, &fmt) != 0) {
            return 2;
        }
        if (fmt == SJ_FMT_CSV) {
            fprintf(stderr, _("county-server: approvals --format is table or json\n"));
            return 2;
        }
        json = fmt == SJ_FMT_JSON;
    }
    char err[512] = "";
    county_store_t *st = county_store_open(ca->data, NULL, SJ_DB_READ, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    int rc;
    if (ca->cmd->name[1] == 'p') {
        rc = county_lock_approvals_write(county_store_db(st), year, json, stdout);
        if (rc == SJ_OK && !json) {
            rc = county_lock_locks_write(county_store_db(st), year, 0, stdout);
        }
    } else {
        rc = county_lock_amendments_write(county_store_db(st), year, 0, stdout);
    }
    county_store_close(&st);
    if (rc != SJ_OK) {
        fprintf(stderr, _("county-server: cannot read the database: %s\n"), _(sj_strerror(rc)));
        return 1;
    }
    return 0;
}

/* ---- export, report, serve ---- */

static int
s_export_cmd(const sj_cli_args_t *ca)
{
    s_args_t a;
    s_args(ca, &a);
    return s_export(&a);
}

/* report --assessment (issue 16 item 3): the assessment table. */
static int
s_assessment(const sj_cli_args_t *ca, s_args_t *a)
{
    const char *month = sj_cli_val(ca, O_MONTH);
    county_assess_fmt_t fmt = COUNTY_ASSESS_MD;
    sj_lang_t lang = SJ_LANG_ZH;
    if (a->format) {
        if (!strcmp(a->format, "md")) {
            fmt = COUNTY_ASSESS_MD;
        } else if (!strcmp(a->format, "html")) {
            fmt = COUNTY_ASSESS_HTML;
        } else if (!strcmp(a->format, "xlsx")) {
            fmt = COUNTY_ASSESS_XLSX;
        } else {
            fprintf(stderr, _("county-server: --format '%s' is not one of md, html, xlsx\n"),
                    a->format);
            return 2;
        }
    }
    if (a->lang && strcmp(a->lang, "zh") && strcmp(a->lang, "en")) {
        fprintf(stderr, _("county-server: --lang '%s' is not one of zh, en\n"), a->lang);
        return 2;
    }
    if (a->lang && !strcmp(a->lang, "en")) {
        lang = SJ_LANG_EN;
    }
    sj_periods_t periods;
    if (s_periods(ca, &periods)) {
        return 2;
    }
    char today[11], from[11], to[11], err[512] = "";
    sj_date_today(today);
    if (county_assess_period(a->f.from, a->f.to, month, a->year, today, from, to, err, sizeof err)
        != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        return 2;
    }
    if (fmt == COUNTY_ASSESS_XLSX && isatty(fileno(stdout))) {
        fprintf(stderr, _("county-server: --format xlsx writes a workbook: redirect stdout to a "
                          "file (> assessment.xlsx)\n"));
        return 2;
    }
    county_store_t *st = county_store_open(a->data, NULL, SJ_DB_READ, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        return 1;
    }
    sj_table_t *t = NULL;
    int rc =
        county_assess_table(county_store_db(st), from, to, today, &periods, &t, err, sizeof err);
    if (rc == SJ_OK) {
        rc = county_assess_write(t, from, to, today, lang, fmt, stdout, err, sizeof err);
    }
    if (rc != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
    }
    sj_table_destroy(&t);
    county_store_close(&st);
    return rc == SJ_OK ? 0 : 1;
}

static int
s_report_cmd(const sj_cli_args_t *ca)
{
    s_args_t a;
    s_args(ca, &a);
    if (sj_cli_has(ca, O_ASSESSMENT)) {
        return s_assessment(ca, &a);
    }
    if (sj_cli_val(ca, O_MONTH) || a.f.from || a.f.to) {
        fprintf(stderr, _("county-server: --month, --from and --to go with --assessment\n"));
        return 2;
    }
    sj_periods_t periods;
    if (s_periods(ca, &periods)) {
        return 2;
    }
    return s_report(&a, &periods);
}

static int
s_serve_cmd(const sj_cli_args_t *ca)
{
    if (s_undelivered(ca)) {
        return 2;
    }
    /* the clock's periods of the page's figures (general keys, as for
     * stats and cases) */
    static sj_periods_t periods;
    if (s_periods(ca, &periods)) {
        return 2;
    }
    county_http_periods(&periods);
    s_args_t a;
    s_args(ca, &a);
    return s_serve(&a);
}

/* ---- the table ---- */

#define S_OPTS(...) ((const int[]){__VA_ARGS__, 0})
#define S_FILTERS \
    O_FROM, O_TO, O_TOWNSHIP, O_STATION, O_CHANNEL, O_KIND, O_LEVEL, O_CATEGORY, O_OUTCOME, O_SOURCE

/* The filters' help, as stats, list and export take them. */
#define S_FILTERS_HELP                                                            \
    "  --from YYYY-MM-DD   only matters that occurred on or after (inclusive)\n"  \
    "  --to YYYY-MM-DD     only matters that occurred on or before (inclusive)\n" \
    "  --township CODE9, --station CODE12, --channel C, --kind K, --level L,\n"   \
    "  --category G, --outcome O, --source S    filters (enum names as in the\n"  \
    "                      README, or their Chinese labels)\n"

static const sj_cli_cmd_t s_cmds[] = {
    {"run", NULL, 0, 0,
     S_OPTS(O_BIND,
            O_CODE,
            O_INSECURE,
            O_DOWN_KEEP,
            O_P_ACCEPT,
            O_P_CONCLUDE,
            O_P_REVIEW,
            O_P_EXTEND_MAX,
            O_P_EXTEND_COUNT),
     N_("run the daemon (--bind)"),
     N_("usage: county-server run --bind ENDPOINT [--code CODE6] [--insecure]\n"
        "                         [--down-retention-days DAYS]\n"
        "\n"
        "Runs the county server: receives the reports of the township hubs (and of\n"
        "stations attached directly) into the master database, and sends\n"
        "assignments down. Prints 'ready' when it listens; stops on SIGINT or\n"
        "SIGTERM; SIGHUP reads the allowlist and the log level again.\n"
        "\n"
        "  --bind ENDPOINT     where hubs connect, e.g. tcp://0.0.0.0:7600\n"
        "  --code CODE6        county code; children outside it are refused (optional)\n"
        "  --insecure          run without CURVE keys (test networks only; logged loudly)\n"
        "  --down-retention-days DAYS\n"
        "                      prune downward items a child acked more than DAYS days\n"
        "                      ago (0..3650, default 30; 0: once acked)\n"
        "  --accept-days N, --conclude-days N, --review-days N, --extend-max-days N,\n"
        "  --extend-count N    the clock's periods (general keys of [county-server]),\n"
        "                      sent down to every hub and station (docs/CLOCK.md)\n"),
     s_run, NULL, NULL, NULL},
    {"keygen", NULL, 0, 0, NULL,
     N_("make this server's key pair; prints the public key\n"
        "(hubs use it as --parent-key, stations as --county-key)"),
     N_("usage: county-server keygen\n"
        "\n"
        "Makes this server's CURVE key pair (DIR/curve.key, mode 0600) and prints\n"
        "the public key: hubs use it as --parent-key, stations as --county-key\n"
        "(petitioner fields are sealed to it).\n"),
     s_keygen, NULL, NULL, NULL},
    {"allow", "CODE KEY", 2, 2, S_OPTS(O_CODE),
     N_("enrol a hub (9 digits) or a directly attached station (12)"),
     N_("usage: county-server allow [--code CODE6] -- CODE 'KEY'\n"
        "\n"
        "Enrols a hub (9-digit township code) or a station attached directly\n"
        "(12-digit village code) with the public key its keygen printed (quote\n"
        "it: a Z85 key holds characters the shell changes; '--' keeps a key that\n"
        "starts with '-' from being read as an option). A running server picks it\n"
        "up on SIGHUP (systemctl reload).\n"
        "\n"
        "  --code CODE6        this county: CODE must lie under it\n"),
     s_allow, NULL, NULL, NULL},
    {"revoke", "CODE|KEY", 1, 1, NULL, N_("remove a code's keys, or one key"),
     N_("usage: county-server revoke CODE|KEY\n"
        "\n"
        "Removes every key of a code, or one key, from the allowlist. A running\n"
        "server applies it on SIGHUP (systemctl reload).\n"),
     s_revoke, NULL, NULL, NULL},
    {"status", NULL, 0, 0,
     S_OPTS(O_FORMAT, O_SILENT, O_CHECK, O_DWARN, O_DCRIT, O_BOM, O_LABELS, O_UNDELIVERED),
     N_("each child link (hub or station): last contact, events\n"
        "received, backlog it reports; silent ones first\n"
        "(--check: one line for monitoring, Nagios plugin convention)"),
     /* xgettext:no-c-format */
     N_("usage: county-server status [--format table|json|csv] [--silent-after S]\n"
        "       county-server status --check [--disk-warn PCT] [--disk-crit PCT]\n"
        "                            [--silent-after S]\n"
        "\n"
        "Shows each child link (hub or station): last contact, events received,\n"
        "the backlog it reports; silent ones first.\n"
        "\n"
        "  --format F          table (default), json, csv\n"
        "  --bom               csv: start with a UTF-8 byte-order mark (for Excel, WPS)\n"
        "  --labels zh|en      csv: the header and the values as a person reads them\n"
        "  --silent-after S    a child unheard for S seconds is SILENT (default 3600)\n"
        "  --undelivered-after HOURS\n"
        "                      a down item (assignment, place names) its child has not\n"
        "                      taken HOURS after it was made is UNDELIVERED (未送达;\n"
        "                      1..8760, default 24)\n"
        "  --check             one line for monitoring (Nagios plugin convention), exit\n"
        "                      0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also bad usage):\n"
        "                      silent children, undelivered down items, free disk\n"
        "  --disk-warn PCT     --check: WARNING below PCT% free disk (default 10)\n"
        "  --disk-crit PCT     --check: CRITICAL below PCT% free disk (default 5)\n"),
     s_status_cmd, s_status_bad_usage, NULL, NULL},
    {"backup", "DEST", 1, 1, NULL,
     N_("consistent copy of the master database while the server\n"
        "runs"),
     N_("usage: county-server backup DEST\n"
        "\n"
        "Makes a consistent copy of the master database while the server runs,\n"
        "written atomically to DEST (or DEST/county-server-TIME.db if DEST is a\n"
        "directory) and integrity-checked; prints its path.\n"),
     s_backup, NULL, NULL, NULL},
    {"restore", "SRC", 1, 1, S_OPTS(O_CODE),
     N_("replace the database with a backup (the server stopped)"),
     N_("usage: county-server restore SRC [--code CODE6]\n"
        "\n"
        "Replaces the database with the backup SRC; the server must be stopped.\n"
        "SRC is checked first; the old database is kept as\n"
        "county-server.db.before-restore-TIME.\n"
        "\n"
        "  --code CODE6        the county the backup must be of\n"),
     s_backup, NULL, NULL, NULL},
    {"stats", NULL, 0, 0,
     S_OPTS(O_BY,
            O_CASES,
            S_FILTERS,
            O_FORMAT,
            O_BOM,
            O_LABELS,
            O_P_ACCEPT,
            O_P_CONCLUDE,
            O_P_REVIEW,
            O_P_EXTEND_MAX,
            O_P_EXTEND_COUNT),
     N_("items and persons (with --cases: case figures),\n"
        "grouped with --by"),
     N_("usage: county-server stats [--by DIM[,DIM...]] [--cases] [filters]\n"
        "                           [--format table|json|csv]\n"
        "\n"
        "Counts matters (items) and person-times (persons), grouped.\n"
        "\n"
        "  --by DIM[,DIM...]   channel, kind, level, category, outcome, source,\n"
        "                      station, township, month, ever_outcome (every outcome\n"
        "                      a case ever had: how many were ever accepted, closed,\n"
        "                      withdrawn; implies --cases)\n"
        "  --cases             every row also gets the case figures: open, overdue\n"
        "                      (any stage), concluded, withdrawn, closure_rate (%),\n"
        "                      median days to close, assigned cases and their closure\n"
        "                      rate, and the four rates with their counts (timely\n"
        "                      acceptance, on-time conclusion, satisfaction,\n"
        "                      participation; docs/CLOCK.md) (a scan of every matter;\n"
        "                      without it stats counts from the tallies kept ahead\n"
        "                      when they hold the query)\n"
        "  --accept-days N, --conclude-days N, --review-days N, --extend-max-days N,\n"
        "  --extend-count N    the statutory periods of the clock (general keys;\n"
        "                      docs/CLOCK.md)\n" S_FILTERS_HELP
        "  --format F          table (default), json, csv\n"
        "  --bom               csv: start with a UTF-8 byte-order mark (for Excel, WPS)\n"
        "  --labels zh|en      csv: the header and the values as a person reads them\n"),
     s_query, NULL, NULL, NULL},
    {"list", NULL, 0, 0, S_OPTS(S_FILTERS, O_LIMIT, O_PERSONAL, O_FORMAT, O_BOM, O_LABELS),
     N_("matters, filtered"),
     N_("usage: county-server list [filters] [--limit N] [--with-personal]\n"
        "                          [--format table|json|csv]\n"
        "\n"
        "Lists the matters that pass the filters.\n"
        "\n" S_FILTERS_HELP "  --limit N           at most N rows\n"
        "  --with-personal     open the sealed petitioner fields with this server's\n"
        "                      key (left out otherwise)\n"
        "  --format F          table (default), json, csv\n"
        "  --bom               csv: start with a UTF-8 byte-order mark (for Excel, WPS)\n"
        "  --labels zh|en      csv: the header and the values as a person reads them\n"),
     s_query, NULL, NULL, NULL},
    {"show", "ID", 1, 1, S_OPTS(O_PERSONAL, O_FORMAT, O_BOM, O_LABELS), N_("one matter"),
     N_("usage: county-server show ID [--with-personal] [--format table|json|csv]\n"
        "\n"
        "Shows one matter and its history: the report, every status change (from,\n"
        "to, note, officer, origin, time, in force or not, conflict) and every\n"
        "assignment (by, to, due, note) in time order (json: \"history\": [...]).\n"
        "\n"
        "  --with-personal     open the sealed petitioner fields with this server's\n"
        "                      key (left out otherwise)\n"
        "  --format F          table (default), json, csv\n"
        "  --bom               csv: start with a UTF-8 byte-order mark (for Excel, WPS)\n"
        "  --labels zh|en      csv: the header and the values as a person reads them\n"),
     s_query, NULL, NULL, NULL},
    {"search", "TEXT", 1, 1, S_OPTS(S_FILTERS, O_LIMIT, O_FORMAT),
     N_("matters whose summary or notes contain TEXT"),
     N_("usage: county-server search TEXT [filters] [--limit N] [--format table|json|csv]\n"
        "\n"
        "Finds the matters whose summary, or a note of a status change or an\n"
        "assignment, contains TEXT (any substring, Chinese included), newest first.\n"
        "Three characters or more use the index; one or two are looked for in every\n"
        "row (slower; said on stderr).\n"
        "\n" S_FILTERS_HELP "  --limit N           at most N rows (default 100)\n"
        "  --format F          table (default), json, csv\n"),
     s_query, NULL, NULL, NULL},
    {"cases", NULL, 0, 0, NULL,
     N_("every matter as a case: outcome, last change, conflicts,\n"
        "assignment, due date, days left, overdue; filters for\n"
        "overdue, open, assigned"),
     NULL, NULL, NULL, county_cases_options, county_cases_main},
    {"update", "CASE-ID", 1, 1, NULL, N_("a status change made at the county (--outcome O)"), NULL,
     NULL, NULL, county_cases_options, county_cases_main},
    {"assign", "CASE-ID", 1, 1, NULL,
     N_("assign a case to a township or station (--to CODE --due DATE)"), NULL, NULL, NULL,
     county_assign_options, county_assign_main},
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
            O_OFFICER),
     N_("correct fields of a matter (更正), with the reason"),
     N_("usage: county-server correct CASE-ID [--occurred D] [--channel C] [--kind K]\n"
        "           [--persons N] [--level L] [--category G] [--source S] [--summary T]\n"
        "           --reason TEXT [--officer X]\n"
        "\n"
        "Records a correction made at the county (an event of the county's own\n"
        "stream): the new values of the fields given, and why. The report keeps its\n"
        "original values; every figure counts the corrected ones (docs/CASES.md).\n"
        "An unknown or voided matter is refused (exit 1, nothing stored). Prints the\n"
        "correction's id.\n"
        "\n"
        "  --reason TEXT       why (required)\n"),
     s_fix_cmd, NULL, NULL, NULL},
    {"void", "CASE-ID", 1, 1, S_OPTS(O_REASON, O_OFFICER),
     N_("mark a matter as entered in error (作废)"),
     N_("usage: county-server void CASE-ID --reason TEXT [--officer X]\n"
        "\n"
        "Records that a matter was entered in error (作废): from then on it is left\n"
        "out of every figure, listing and export; its report and history are kept\n"
        "(verify still passes). Final. Prints the void's id.\n"
        "\n"
        "  --reason TEXT       why (required)\n"),
     s_fix_cmd, NULL, NULL, NULL},
    {"places", "import FILE | list", 1, 2, S_OPTS(O_FORMAT, O_BOM),
     N_("place names (code -> name): import a list, list them"),
     N_("usage: county-server places import FILE.csv\n"
        "       county-server places list [--format table|json|csv]\n"
        "\n"
        "Keeps the county's place names (e.g. 230523100 宝清镇) and sends them down:\n"
        "each township hub gets its own, its county's and its stations' names, each\n"
        "station its own, its township's and its county's, without a restart. Every\n"
        "listing, page, report and export then shows the name beside the code; a\n"
        "code without a name shows as the code.\n"
        "\n"
        "import: FILE is CSV, UTF-8 (a BOM is fine), one code,name per line (code: 6,\n"
        "9 or 12 digits, within this county; name: 1..64 bytes, may be quoted). A\n"
        "first line that is not a code is a header. Every bad line is named by its\n"
        "number and nothing is stored (exit 2). Importing again renames the codes\n"
        "held and adds new ones; a code not in the file keeps its name.\n"
        "\n"
        "  --format F          list: table (default), json, csv\n"
        "  --bom               csv: start with a UTF-8 byte-order mark (for Excel, WPS)\n"),
     s_places_cmd, NULL, NULL, NULL},

    {"extend", "CASE-ID", 1, 1,
     S_OPTS(O_DAYS,
            O_REASON,
            O_APPROVED_BY,
            O_STAGE,
            O_OFFICER,
            O_P_ACCEPT,
            O_P_CONCLUDE,
            O_P_REVIEW,
            O_P_EXTEND_MAX,
            O_P_EXTEND_COUNT),
     N_("extend a stage's statutory period (延期), approved by the head"),
     N_("usage: county-server extend CASE-ID --days N --reason TEXT --approved-by NAME\n"
        "           [--stage acceptance|conclusion|review] [--officer X]\n"
        "\n"
        "Records an extension (延期) of the stage of a case that is running (or\n"
        "--stage): its due date moves by N days. The regulations allow it only\n"
        "with the head's approval and the reason told the petitioner. N may not\n"
        "exceed extend-max-days (default 30), and a stage is extended at most\n"
        "extend-count times (default 1); otherwise it is refused with the reason\n"
        "(exit 1, nothing stored). Prints the extension's id; the case's history\n"
        "(show) lists it. Today is the local date, or SANJI_TODAY (docs/CLOCK.md).\n"
        "\n"
        "  --days N            days to add (1..extend-max-days)\n"
        "  --reason TEXT       the reason told (required)\n"
        "  --approved-by NAME  the head who approved it (required)\n"
        "  --stage S           acceptance, conclusion or review (default: the\n"
        "                      stage running)\n"
        "  --accept-days N, --conclude-days N, --review-days N, --extend-max-days N,\n"
        "  --extend-count N    the periods (general keys of [county-server]:\n"
        "                      defaults 15, 60, 30, 30, 1)\n"),
     s_extend_cmd, NULL, NULL, NULL},
    {"evaluate", "CASE-ID", 1, 1, S_OPTS(O_SATISFACTION, O_NOTE, O_OFFICER),
     N_("record the petitioner's evaluation of a concluded case (满意度)"),
     N_("usage: county-server evaluate CASE-ID --satisfaction S [--note TEXT] [--officer X]\n"
        "\n"
        "Records the petitioner's evaluation of a concluded case (closed or resolved\n"
        "on the spot) as an event of the county's own stream. It replaces the one\n"
        "the conclusion carried (update --satisfaction) or an earlier evaluation;\n"
        "nothing is edited. cases shows the evaluation in force (satisfaction).\n"
        "\n"
        "  --satisfaction S    满意 satisfied, 基本满意 basically, 不满意 dissatisfied,\n"
        "                      未评价 not_evaluated\n"),
     s_evaluate_cmd, NULL, NULL, NULL},
    {"appoint", "CASE-ID", 1, 1, S_OPTS(O_ON, O_AT, O_OFFICE, O_NOTE, O_OFFICER),
     N_("give a visitor an appointment (约访): a day, a time, an office"),
     N_("usage: county-server appoint CASE-ID --on YYYY-MM-DD --at HH:MM --office NAME\n"
        "           [--note TEXT] [--officer X]\n"
        "\n"
        "Records an appointment (约访) for the visitor of a case whom the leaders\n"
        "could not receive at the Monday reception (周一大接访): an event of the\n"
        "county's own stream. It is in the office's day list ('appointments', the\n"
        "dashboard's /appointments page) and the weekly agenda; 'appointment' marks\n"
        "it kept or missed; 'report' counts them. Refused (exit 1, nothing stored):\n"
        "a day before today (the local date, or SANJI_TODAY), a matter not here.\n"
        "Prints the appointment's id.\n"
        "\n"
        "  --on YYYY-MM-DD     the day (today or later)\n"
        "  --at HH:MM          the time, 00:00 to 23:59\n"
        "  --office NAME       the receiving office (1 to 64 bytes)\n"
        "  --note TEXT         a note (at most 2000 bytes)\n"
        "  --officer X         who made it\n"),
     s_appoint_cmd, NULL, NULL, NULL},
    {"appointment", "CASE-ID", 1, 1, S_OPTS(O_KEPT, O_MISSED, O_APPOINTMENT, O_NOTE, O_OFFICER),
     N_("mark an appointment kept or missed (已赴约 / 未赴约)"),
     N_("usage: county-server appointment CASE-ID --kept|--missed [--appointment ID]\n"
        "           [--note TEXT] [--officer X]\n"
        "\n"
        "Marks the case's appointment kept (the visitor came) or missed, as an event\n"
        "of the county's own stream; a later mark replaces an earlier one. Refused\n"
        "(exit 1, nothing stored) when the case has no such appointment, or before\n"
        "the appointment's day. Prints the mark's id.\n"
        "\n"
        "  --kept, --missed    the visitor came, or did not (one of them)\n"
        "  --appointment ID    which appointment (default: the case's latest)\n"
        "  --note TEXT         a note (at most 2000 bytes)\n"
        "  --officer X         who marked it\n"),
     s_appointment_cmd, NULL, NULL, NULL},
    {"appointments", NULL, 0, 0, S_OPTS(O_ON, O_FROM, O_TO, O_OFFICE, O_FORMAT, O_BOM, O_LABELS),
     N_("the offices' day list of appointments (约访)"),
     N_("usage: county-server appointments [--on DATE | --from DATE --to DATE]\n"
        "           [--office NAME] [--format table|json|csv]\n"
        "\n"
        "Lists the appointments of a day (default: today) or of a range of days, by\n"
        "day and time: on, at, office, state (pending, kept, missed), case_id,\n"
        "appointment_id, township, station, summary, note, officer. Appointments of\n"
        "a voided matter are left out. No personal data: the visitor's contact\n"
        "details stay sealed ('show --with-personal').\n"
        "\n"
        "  --on YYYY-MM-DD     one day (default: today)\n"
        "  --from, --to        a range of days, inclusive\n"
        "  --office NAME       one office's appointments\n"
        "  --format F          table (default), json, csv\n"
        "  --bom               csv: start with a UTF-8 byte-order mark (for Excel, WPS)\n"
        "  --labels zh|en      csv: the header as a person reads it\n"),
     s_appointments_cmd, NULL, NULL, NULL},
    {"own", "CASE-ID", 1, 1, S_OPTS(O_LEADER, O_PORTFOLIO, O_OFFICER),
     N_("record that a leader owns a case (领导包案)"),
     N_("usage: county-server own CASE-ID --leader NAME [--portfolio P] [--officer X]\n"
        "\n"
        "Records that a named leader owns the case (领导包案), as an event of the\n"
        "county's own stream. A later ownership replaces the earlier one (the latest\n"
        "made holds); show lists every one in the case's history. cases shows the\n"
        "owner and portfolio, cases --leader NAME lists a leader's cases, leaders\n"
        "counts them, agenda puts them before the weekly meeting. A leader's account\n"
        "on the page (role leader) sees the cases owned under its account name, so\n"
        "give the account name as NAME for a leader who logs in. An unknown or\n"
        "voided case is refused (exit 1, nothing stored). Prints the event's id.\n"
        "\n"
        "  --leader NAME       the leader (1..64 bytes of UTF-8 text; required)\n"
        "  --portfolio P       the leader's portfolio (分管战线), at most 128 bytes\n"),
     s_own_cmd, NULL, NULL, NULL},
    {"leaders", NULL, 0, 0,
     S_OPTS(O_FORMAT, O_P_ACCEPT, O_P_CONCLUDE, O_P_REVIEW, O_P_EXTEND_MAX, O_P_EXTEND_COUNT),
     N_("each leader's cases and their progress (领导包案)"),
     N_("usage: county-server leaders [--format table|json|csv]\n"
        "\n"
        "One row per leader who owns a case (the ownership in force): leader, owned\n"
        "(cases), open (pending or accepted), concluded (closed or resolved on the\n"
        "spot) and overdue (open past the 交办 due date, or a stage of the statutory\n"
        "clock past its due date; today: the local date, or SANJI_TODAY).\n"
        "\n"
        "  --format F          table (default), json, csv\n"
        "  --accept-days N, --conclude-days N, --review-days N, --extend-max-days N,\n"
        "  --extend-count N    the statutory periods (docs/CLOCK.md)\n"),
     s_leaders_cmd, NULL, NULL, NULL},
    {"agenda", NULL, 0, 0,
     S_OPTS(
         O_WEEK, O_FORMAT, O_P_ACCEPT, O_P_CONCLUDE, O_P_REVIEW, O_P_EXTEND_MAX, O_P_EXTEND_COUNT),
     N_("the weekly meeting's agenda (定期例会), md or printable html"),
     N_("usage: county-server agenda [--week YYYY-Www] [--format md|html]\n"
        "\n"
        "What the weekly meeting (定期例会) must see for an ISO week (default: the\n"
        "coming one, the week of the next Monday on or after today; today is the\n"
        "local date, or SANJI_TODAY). Its sections: cases owned by leaders that are\n"
        "open or changed since the last meeting (since the Monday of the previous\n"
        "ISO week), with what changed; cases due or overdue by the week's Sunday at\n"
        "any stage (statutory clock or the 交办 due date); new collective matters\n"
        "(received in the previous week); reviews requested and extensions made\n"
        "since the last meeting. docs/MEETING.md defines each. The page /agenda\n"
        "shows the same.\n"
        "\n"
        "  --week YYYY-Www     the ISO week, e.g. 2026-W50\n"
        "  --format F          md (default) or html (a whole page, printable on A4)\n"
        "  --accept-days N, --conclude-days N, --review-days N, --extend-max-days N,\n"
        "  --extend-count N    the statutory periods (docs/CLOCK.md)\n"),
     s_agenda_cmd, NULL, NULL, NULL},
    {"verify", NULL, 0, 0, S_OPTS(O_FORMAT, O_BOM, O_LABELS),
     N_("per station: highest complete sequence, gaps, hash-chain\n"
        "breaks; exit 1 on any"),
     N_("usage: county-server verify [--format table|json|csv]\n"
        "\n"
        "Checks, per station stream, that every sequence number is there and that\n"
        "the hash chain is unbroken: highest complete sequence, gaps, breaks.\n"
        "Exit 1 on any problem.\n"
        "\n"
        "  --format F          table (default), json, csv\n"
        "  --bom               csv: start with a UTF-8 byte-order mark (for Excel, WPS)\n"
        "  --labels zh|en      csv: the header and the values as a person reads them\n"),
     s_verify_cmd, NULL, NULL, NULL},
    {"export", NULL, 0, 0, S_OPTS(O_FORMAT, S_FILTERS, O_LIMIT, O_PERSONAL, O_BOM, O_LABELS),
     N_("all matters that pass the filters as csv, jsonl or xlsx,\n"
        "streamed"),
     N_("usage: county-server export [--format csv|jsonl|xlsx] [filters] [--limit N]\n"
        "                            [--with-personal] [--bom] [--labels zh|en]\n"
        "\n"
        "Writes every matter that passes the filters to stdout, one row at a time\n"
        "(constant memory however many there are), ordered by occurred date and id.\n"
        "Columns as 'list'; --with-personal adds petitioner_name, petitioner_id,\n"
        "petitioner_phone, petitioner_address, opened with this server's key.\n"
        "When stderr is a terminal, progress is shown every 100,000 rows.\n"
        "\n"
        "  --format F          csv (default; RFC 4180, header line), jsonl (one\n"
        "                      JSON object per line) or xlsx (an Excel workbook: ids,\n"
        "                      ID numbers, codes and phones as text, dates as dates;\n"
        "                      redirect stdout to a file)\n"
        "  --bom               csv: start with a UTF-8 byte-order mark, so that Excel\n"
        "                      reads the Chinese text as UTF-8\n"
        "  --labels zh|en      csv, xlsx: the header and the values (channel, kind,\n"
        "                      level, category, outcome, source) as a person reads\n"
        "                      them, in Chinese or English (default: the names)\n"
        "In csv, a cell that starts with = + - @, a tab or a CR (and is not a plain\n"
        "number) gets a leading ' so that Excel, WPS and LibreOffice show it as text\n"
        "instead of running it as a formula (always on; jsonl is never altered).\n"
        "  --from YYYY-MM-DD, --to YYYY-MM-DD     occurred date, inclusive\n"
        "  --township CODE9, --station CODE12, --channel C, --kind K, --level L,\n"
        "  --category G, --outcome O, --source S  filters, as for list\n"
        "  --limit N           at most N rows\n"),
     s_export_cmd, NULL, NULL, NULL},
    {"report", NULL, 0, 0,
     S_OPTS(O_YEAR,
            O_LANG,
            O_FORMAT,
            O_ASSESSMENT,
            O_MONTH,
            O_FROM,
            O_TO,
            O_P_ACCEPT,
            O_P_CONCLUDE,
            O_P_REVIEW,
            O_P_EXTEND_MAX,
            O_P_EXTEND_COUNT),
     N_("the year's petition section for the county yearbook (--year)"),
     N_("usage: county-server report --year YYYY [--lang zh|en] [--format md|html]\n"
        "\n"
        "Prints the year's petition section (信访) in the shape a county yearbook\n"
        "uses: matters (件（批）次) and person-times (人次); lodged at the county,\n"
        "city, province and capital, collective and individual; letters, phone\n"
        "and mailbox; resolved on the spot, accepted, closed; cases assigned from\n"
        "above and their closure rate; leader reception; review cases by category.\n"
        "Every figure is counted from the master database.\n"
        "\n"
        "  --year YYYY         the year (by occurred date), required\n"
        "  --lang L            zh (default) or en\n"
        "  --format F          md (default; Markdown) or html (a complete page)\n"
        "\n"
        "       county-server report --assessment [--from D --to D | --month YYYY-MM |\n"
        "                            --year YYYY] [--format md|html|xlsx] [--lang zh|en]\n"
        "\n"
        "The assessment table (目标考核) of the matters received in the period (none\n"
        "given: this year): per township and per county department (a case counts\n"
        "for the department it is assigned to, else its township), in code order:\n"
        "matters, persons, the four rates with their counts (timely acceptance,\n"
        "on-time conclusion, satisfaction, participation; docs/CLOCK.md), the cases\n"
        "overdue now at any stage, and the median days to conclude. html is a page\n"
        "printable on A4; xlsx a workbook (redirect stdout to a file).\n"
        "  --assessment        the assessment table instead of the year's section\n"
        "  --from D, --to D    the period by received date, inclusive (YYYY-MM-DD)\n"
        "  --month YYYY-MM     one month\n"
        "  --accept-days N, --conclude-days N, --review-days N, --extend-max-days N,\n"
        "  --extend-count N    the statutory periods (general keys; docs/CLOCK.md)\n"),
     s_report_cmd, NULL, NULL, NULL},
    {"lock", NULL, 0, 0, S_OPTS(O_MONTH, O_YEAR, O_OFFICER),
     N_("lock a month's or a year's figures (signed off, 已锁定)"),
     N_("usage: county-server lock --month YYYY-MM | --year YYYY [--officer NAME]\n"
        "\n"
        "Locks the figures of a month or a year (by occurred date): who and when,\n"
        "and a copy of that period's tallies, which 'report --year' uses from then\n"
        "on. A period is locked once: a month already locked (alone or in its\n"
        "year) is refused. A later correction or void of a matter of a locked month\n"
        "is still applied, and listed as an amendment ('amendments').\n"
        "\n"
        "  --month YYYY-MM     the month to lock\n"
        "  --year YYYY         the twelve months of the year\n"
        "  --officer NAME      who locks (default: the OS user)\n"),
     s_lock_cmd, NULL, NULL, NULL},
    {"approvals", NULL, 0, 0, S_OPTS(O_YEAR, O_FORMAT),
     N_("the township-months approved (已审核) and the locks"),
     N_("usage: county-server approvals [--year YYYY] [--format table|json]\n"
        "\n"
        "Lists the township-months that a township approved ('township-hub approve\n"
        "--month'): month, township, when (UTC), by whom; then the locks of the\n"
        "county ('lock'), each with who and when.\n"
        "\n"
        "  --year YYYY         one year's months\n"
        "  --format F          table (default) or json (the approvals only)\n"),
     s_lock_list_cmd, NULL, NULL, NULL},
    {"amendments", NULL, 0, 0, S_OPTS(O_YEAR),
     N_("corrections and voids of locked months, made after the lock"),
     N_("usage: county-server amendments [--year YYYY]\n"
        "\n"
        "Lists each correction or void (更正, 作废) of a matter of a locked month that\n"
        "arrived after the lock: when (UTC), the month, the township, the matter,\n"
        "the event, what changed and the reason. Nothing is refused for being late:\n"
        "these are applied, and 'report --year' shows the locked figure beside the\n"
        "amended one.\n"
        "\n"
        "  --year YYYY         one year's locked months\n"),
     s_lock_list_cmd, NULL, NULL, NULL},
    {"user", "add|passwd|disable|list [NAME]", 1, 2,
     S_OPTS(O_ROLE, O_UNIT, O_PASSWORD_FILE, O_FORMAT),
     N_("accounts of the dashboard: add, passwd, disable, list"),
     N_("usage: county-server user add NAME --role R [--unit CODE] [--password-file F]\n"
        "       county-server user passwd NAME [--password-file F]\n"
        "       county-server user disable NAME\n"
        "       county-server user list [--format table|json|csv]\n"
        "\n"
        "The people who log in to the dashboard ('serve'), each with a role:\n"
        "  admin        accounts, places, config; reads the audit trail (/audit)\n"
        "  staff        assign, record a status change, correct, void\n"
        "  leader       their owned cases, the agenda\n"
        "  department   a county department (县直部门): the cases assigned to it\n"
        "               (--unit: its 9-digit code, the county's 6 digits then 9xx)\n"
        "  viewer       reads only\n"
        "The password is read from standard input (no echo on a terminal) or the\n"
        "first line of --password-file F (mode 0600), never from the command line;\n"
        "at least 8 characters. Only its hash (argon2id) is stored. An account is\n"
        "never deleted: disable ends it (its sessions end at once). Each change is\n"
        "a row of the audit trail, with the OS user who ran the command.\n"),
     s_users_cmd, NULL, NULL, NULL},
    {"dept", "add CODE NAME | list", 1, 3, S_OPTS(O_FORMAT),
     N_("the county's departments (县直部门): add, list"),
     N_("usage: county-server dept add CODE NAME\n"
        "       county-server dept list [--format table|json|csv]\n"
        "\n"
        "Names a county department (县直部门), or renames one. CODE is 9 digits: the\n"
        "county's 6, then 9 and two digits (230523901 ... 230523999), a place no\n"
        "township uses. Cases are assigned to it as to a township ('assign --to\n"
        "230523901'); its people (user add NAME --role department --unit CODE) see\n"
        "those cases on the dashboard (/dept) and accept or conclude them there.\n"),
     s_dept_cmd, NULL, NULL, NULL},
    {"audit", NULL, 0, 0, S_OPTS(O_USER, O_FROM, O_TO, O_FORMAT),
     N_("the audit trail: every action, web or CLI, by whom, when,\n"
        "from where"),
     N_("usage: county-server audit [--user U] [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
        "                           [--format table|json|csv]\n"
        "\n"
        "Lists the audit trail, oldest first: when (UTC), who (the account, or the\n"
        "OS user for a command), via (web or cli), from where (the client's address\n"
        "or the terminal), the action, its detail and whether it was done. Logins\n"
        "and failed logins are in it. Append-only: nothing changes or removes a row.\n"
        "\n"
        "  --user U            one account's (or OS user's) rows\n"
        "  --from, --to        dates (UTC), inclusive\n"
        "  --format F          table (default), json, csv\n"),
     s_audit_cmd, NULL, NULL, NULL},
    {"serve", NULL, 0, 0,
     S_OPTS(O_HTTP,
            O_TOKEN_FILE,
            O_SILENT,
            O_UNDELIVERED,
            O_P_ACCEPT,
            O_P_CONCLUDE,
            O_P_REVIEW,
            O_P_EXTEND_MAX,
            O_P_EXTEND_COUNT),
     N_("the county dashboard over HTTP (accounts log in)"),
     N_("usage: county-server serve [--http HOST:PORT] [--token-file FILE] [--silent-after S]\n"
        "\n"
        "Serves the county dashboard: totals, charts by month, channel, level,\n"
        "category, outcome and source, the townships (matters, persons, last\n"
        "contact of their hub), silent hubs and stations; filters by date range and\n"
        "township; Chinese and English. Everything the page needs is inside this\n"
        "binary. A separate process next to 'run'. People log in (/login) with\n"
        "their accounts ('user add') and do what their role allows; every action\n"
        "and login is in the audit trail ('audit', and /audit for role admin). On\n"
        "a loopback address without --token-file and while the county has no\n"
        "account, the page is open to read. JSON API: /api/stats (as 'stats\n"
        "--format json'), /api/townships, /api/links (as 'status --format json').\n"
        "Prints 'ready URL' when serving; stops on SIGINT or SIGTERM.\n"
        "\n"
        "  --http HOST:PORT    where to listen (default 127.0.0.1:8080; [::1]:8080 for\n"
        "                      IPv6; port 0 = any free port); an address that is not\n"
        "                      loopback needs an account or --token-file\n"
        "  --token-file FILE   a token for read-only API clients: GET /api/... with the\n"
        "                      header 'Authorization: Bearer TOKEN' (never in a URL;\n"
        "                      16-256 characters A-Z a-z 0-9 . _ ~ -; file mode 0600)\n"
        "  --silent-after S    a hub or station unheard for S seconds is silent\n"
        "                      (default 3600)\n"
        "  --undelivered-after HOURS\n"
        "                      a down item not taken HOURS after it was made is listed\n"
        "                      as undelivered (1..8760, default 24)\n"
        "  --accept-days N, --conclude-days N, --review-days N, --extend-max-days N,\n"
        "  --extend-count N    the statutory periods of the page's overdue and rates\n"
        "                      (general keys; docs/CLOCK.md)\n"),

     s_serve_cmd, NULL, NULL, NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

const sj_cli_tool_t county_cli_tool = {
    .tool = "county-server",
    .about = N_("usage: county-server COMMAND [options]\n"
                "\n"
                "The county server: receives reports from township hubs (and stations\n"
                "attached directly), keeps the master database, and answers county staff.\n"),
    .footer = N_("\n"
                 "global options (every command):\n"
                 "  --data DIR          data directory (default ./var/county-server)\n"
                 "  --config FILE       INI file: the general keys (data, bind, code, log-level,\n"
                 "                      insecure, http, token-file, silent-after) in\n"
                 "                      [county-server]; every option of COMMAND as a key of\n"
                 "                      [COMMAND], e.g. [stats] format = json. Flags win over\n"
                 "                      [COMMAND], which wins over [county-server]\n"
                 "  --log-level LEVEL   error, warn, notice (default), info, debug\n"
                 "  -h, --help          this help; after a command, that command's help\n"
                 "\n"
                 "Reading commands work while 'run' is running. Exit status: 0 ok, 1 failure,\n"
                 "2 bad usage (status --check: 0-3, see county-server status --help).\n"),
    .global_help = N_("global options: --data DIR (default ./var/county-server), --config FILE,\n"
                      "--log-level LEVEL (see county-server --help).\n"),
    .data_default = "./var/county-server",
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
