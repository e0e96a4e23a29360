/* township-hub: accepts its stations' reports, commits them, acks, and
 * forwards them to the county in batches on its own link sequence. Keeps
 * accepting while the county is away (the backlog waits on disk). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <zmq.h>

#include "hub_http.h"
#include "hub_store.h"
#include "sj_backup.h"
#include "sj_cfg.h"
#include "sj_enrol.h"
#include "sj_ids.h"
#include "sj_log.h"
#include "sj_model.h"
#include "sj_node.h"

static const char s_usage[] =
    "usage: township-hub COMMAND [options]\n"
    "\n"
    "The township mediation office's hub: receives reports from its village\n"
    "stations, stores them, and forwards them to the county server.\n"
    "\n"
    "commands:\n"
    "  run              run the hub daemon\n"
    "  status           queue depth, forwarding lag, each station's last contact\n"
    "  status --check   one line for monitoring (Nagios plugin convention), exit\n"
    "                   0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN: silent stations,\n"
    "                   oldest unforwarded report, county contact, free disk\n"
    "  cases [--conflicts] [--overdue]  the township's cases: outcome, last change,\n"
    "                   number of changes, conflict (two changes made from the same\n"
    "                   state, or listed by the county), and for assigned cases the\n"
    "                   assignee, due date, days left (negative: overdue)\n"
    "  assign ID --to STATION --due YYYY-MM-DD [--note T] [--officer X]\n"
    "                   assign a case the hub knows to one of its stations (交办);\n"
    "                   delivered when the station connects, forwarded to the county\n"
    "  update ID --outcome O [--note T] [--officer X]\n"
    "                   a status change made by the township office; allowed:\n"
    "                   pending -> resolved_on_spot|accepted|withdrawn,\n"
    "                   accepted -> closed|withdrawn, closed -> accepted,\n"
    "                   resolved_on_spot -> accepted; refused otherwise (exit 1);\n"
    "                   forwarded to the county like any event\n"
    "  backup DEST      consistent copy of the store while the hub runs, written\n"
    "                   atomically to DEST (or DEST/township-hub-TIME.db if DEST is a\n"
    "                   directory) and integrity-checked; prints the path\n"
    "  restore SRC      replace the store with the backup SRC (the hub must be\n"
    "                   stopped); SRC is checked first, the old store is kept as\n"
    "                   township-hub.db.before-restore-TIME; stations resend what\n"
    "                   the backup lacks on their next sync\n"
    "  keygen           make this hub's key pair; prints the public key to enrol\n"
    "                   at the county ('county-server allow CODE9 KEY')\n"
    "  allow CODE KEY   enrol a station of this township (12-digit code)\n"
    "  revoke CODE|KEY  remove a station's keys, or one key\n"
    "  serve            the township status page over HTTP (read-only; see\n"
    "                   township-hub serve --help)\n";

/* The options part of the help (split: C99 guarantees string literals of
 * 4095 bytes only). */
static const char s_usage_opts[] =
    "\n"
    "options:\n"
    "  --data DIR          data directory (default ./var/township-hub)\n"
    "  --code CODE9        9-digit township code (run; fixed when the store is made)\n"
    "  --bind ENDPOINT     where stations connect, e.g. tcp://127.0.0.1:7601 (run)\n"
    "  --parent ENDPOINT   the county server, e.g. tcp://127.0.0.1:7600 (run)\n"
    "  --parent-key Z85    the county server's public key (run)\n"
    "  --insecure          run without CURVE keys (test networks only; logged loudly)\n"
    "  --format F          status, cases: table (default), json, csv\n"
    "  --overdue           cases: only assigned open cases past their due date\n"
    "  --to STATION        assign: the 12-digit station code\n"
    "  --due YYYY-MM-DD    assign: the deadline (today or later, local date)\n"
    "  --silent-after S    status: a station unheard for S seconds is SILENT (default 3600)\n"
    "  --check             status: the monitoring line and exit code (see above)\n"
    "  --backlog-warn S    status --check: WARNING when the oldest unforwarded report\n"
    "                      (or, while reports wait, the county's silence) is S seconds\n"
    "                      old (default 3600)\n"
    "  --backlog-crit S    ... CRITICAL (default 10800)\n"
    "  --disk-warn PCT     status --check: WARNING below PCT% free disk (default 10)\n"
    "  --disk-crit PCT     status --check: CRITICAL below PCT% free disk (default 5)\n"
    "  --config FILE       INI file: the general keys (data, code, bind, parent,\n"
    "                      parent-key, log-level, silent-after, insecure, http,\n"
    "                      token-file) in [township-hub]; every option of COMMAND\n"
    "                      as a key of [COMMAND], e.g. [status] silent-after = 600.\n"
    "                      Flags win over [COMMAND], which wins over [township-hub]\n"
    "  --log-level LEVEL   error, warn, notice (default), info, debug\n"
    "  -h, --help          this help\n"
    "\n"
    "Exit status: 0 ok, 1 failure, 2 bad usage (status --check: see above).\n";

/* The general keys of the config file ([township-hub], sj_cfg.h); every
 * other option is a key of its command's section. */
static const char *const s_cfg_general[] = {"data",         "code",       "bind",     "parent",
                                            "log-level",    "silent-after", "parent-key",
                                            "insecure",     "http",       "token-file",
                                            NULL}; /* http, token-file: serve (hub_http.c) */

/* Commands parsed with their own option table (the others use main's). */
static const sj_cfg_cmd_t s_cfg_cmds[] = {{"serve", hub_http_options}, {NULL, NULL}};

typedef struct {
    const char *data, *code, *bind, *parent, *parent_key;
    int insecure;
    int check;
    sj_health_opts_t health; /* status --check thresholds; health.silent_s also for status */
    sj_format_t format;
} s_opts_t;

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
    if (!o->bind || !o->parent) {
        fprintf(stderr, "township-hub: run needs --bind and --parent\n");
        return 2;
    }
    static const sj_node_role_t role = {.open = s_node_open,
                                        .close = s_node_close,
                                        .down_ops = &hub_store_downlink_ops,
                                        .up_ops = &hub_store_uplink_ops};
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
                               .group_events = 4096,
                               .up_window = 16};
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
    if (rc == SJ_OK && sj_health_disk(h, o->data, o->health.disk_warn_pct,
                                      o->health.disk_crit_pct) != SJ_OK) {
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
s_assign(const s_opts_t *o, const char *id_text, const char *to, const char *due,
         const char *note, const char *officer)
{
    uint8_t id[SJ_ID_BYTES];
    if (sj_uuid_parse(id_text, id) != SJ_OK) {
        fprintf(stderr, "township-hub: '%s' is not a case id (a UUID)\n", id_text);
        return 2;
    }
    if (!to || !due) {
        fprintf(stderr, "township-hub: assign needs --to STATION and --due YYYY-MM-DD\n");
        return 2;
    }
    if (sj_code_level(to) != 12) {
        fprintf(stderr, "township-hub: --to '%s' is not a 12-digit station code\n", to);
        return 2;
    }
    if (!sj_date_valid(due)) {
        fprintf(stderr, "township-hub: --due '%s' is not a date YYYY-MM-DD\n", due);
        return 2;
    }
    char today[11];
    sj_date_today(today);
    if (strcmp(due, today) < 0) {
        fprintf(stderr, "township-hub: --due %s is in the past (today is %s); nothing stored\n",
                due, today);
        return 1;
    }
    note = note ? note : "";
    officer = officer ? officer : "";
    if (strlen(note) > SJ_MAX_NOTE_BYTES || !sj_utf8_valid(note, strlen(note))
        || strlen(officer) > SJ_MAX_OFFICER_BYTES || !sj_utf8_valid(officer, strlen(officer))) {
        fprintf(stderr, "township-hub: --note (at most %d bytes) and --officer (at most %d)"
                        " must be UTF-8 text\n", SJ_MAX_NOTE_BYTES, SJ_MAX_OFFICER_BYTES);
        return 2;
    }
    char err[512] = "";
    hub_store_t *st = hub_store_open(o->data, o->code, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "township-hub: %s\n", err);
        return 1;
    }
    uint8_t ev_id[SJ_ID_BYTES];
    int rc = hub_store_assign(st, id, to, due, note, officer, ev_id, err, sizeof err);
    if (rc != SJ_OK) {
        fprintf(stderr, "township-hub: %s\n", err);
    } else {
        char text[SJ_UUID_TEXT];
        sj_uuid_format(ev_id, text);
        printf("%s\n", text);
        fprintf(stderr, "case %s assigned to %s, due %s (queued for the station and the"
                        " county)\n", id_text, to, due);
    }
    hub_store_close(&st);
    return rc == SJ_OK ? 0 : 1;
}

static int
s_cases(const s_opts_t *o, int conflicts, int overdue)
{
    char err[512] = "";
    hub_store_t *st = hub_store_open(o->data, NULL, SJ_DB_READ, err, sizeof err);
    if (!st) {
        fprintf(stderr, "township-hub: %s\n", err);
        return 1;
    }
    int rc = hub_store_cases(st, (conflicts ? HUB_CASES_CONFLICTS : 0u)
                                     | (overdue ? HUB_CASES_OVERDUE : 0u),
                             o->format, stdout);
    hub_store_close(&st);
    if (rc != SJ_OK) {
        fprintf(stderr, "township-hub: cannot read the cases: %s\n", sj_strerror(rc));
        return 1;
    }
    return 0;
}

static int
s_update(const s_opts_t *o, const char *id_text, const char *outcome_name, const char *note,
         const char *officer)
{
    uint8_t id[SJ_ID_BYTES];
    if (sj_uuid_parse(id_text, id) != SJ_OK) {
        fprintf(stderr, "township-hub: '%s' is not a case id (a UUID)\n", id_text);
        return 2;
    }
    int outcome = outcome_name ? sj_enum_value(SJ_FIELD_OUTCOME, outcome_name) : 0;
    if (!outcome) {
        char list[160];
        sj_enum_list(SJ_FIELD_OUTCOME, list, sizeof list);
        fprintf(stderr, "township-hub: --outcome is required, one of: %s\n", list);
        return 2;
    }
    note = note ? note : "";
    officer = officer ? officer : "";
    if (strlen(note) > SJ_MAX_NOTE_BYTES || !sj_utf8_valid(note, strlen(note))
        || strlen(officer) > SJ_MAX_OFFICER_BYTES || !sj_utf8_valid(officer, strlen(officer))) {
        fprintf(stderr, "township-hub: --note (at most %d bytes) and --officer (at most %d)"
                        " must be UTF-8 text\n", SJ_MAX_NOTE_BYTES, SJ_MAX_OFFICER_BYTES);
        return 2;
    }
    char err[512] = "";
    hub_store_t *st = hub_store_open(o->data, o->code, SJ_DB_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "township-hub: %s\n", err);
        return 1;
    }
    int prev = 0;
    uint8_t ev_id[SJ_ID_BYTES];
    int rc = hub_store_update(st, id, outcome, note, officer, &prev, ev_id, err, sizeof err);
    if (rc != SJ_OK) {
        fprintf(stderr, "township-hub: %s\n", err);
    } else {
        char text[SJ_UUID_TEXT];
        sj_uuid_format(ev_id, text);
        printf("%s\n", text);
        fprintf(stderr, "case %s: %s -> %s (queued for the county)\n", id_text,
                sj_enum_name(SJ_FIELD_OUTCOME, prev), sj_enum_name(SJ_FIELD_OUTCOME, outcome));
    }
    hub_store_close(&st);
    return rc == SJ_OK ? 0 : 1;
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
    int rc = hub_store_status(st, o->health.silent_s, o->format, stdout);
    hub_store_close(&st);
    if (rc != SJ_OK) {
        fprintf(stderr, "township-hub: cannot read status: %s\n", sj_strerror(rc));
        return 1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    enum {
        O_DATA = 1000, O_CODE, O_BIND, O_PARENT, O_FORMAT, O_SILENT, O_CONFIG, O_LOG, O_PKEY,
        O_INSECURE, O_CHECK, O_BWARN, O_BCRIT, O_DWARN, O_DCRIT, O_CONFLICTS, O_OUTCOME,
        O_NOTE, O_OFFICER, O_TO, O_DUE, O_OVERDUE
    };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},     {"code", required_argument, NULL, O_CODE},
        {"bind", required_argument, NULL, O_BIND},     {"parent", required_argument, NULL, O_PARENT},
        {"format", required_argument, NULL, O_FORMAT}, {"silent-after", required_argument, NULL, O_SILENT},
        {"config", required_argument, NULL, O_CONFIG}, {"log-level", required_argument, NULL, O_LOG},
        {"parent-key", required_argument, NULL, O_PKEY},
        {"insecure", no_argument, NULL, O_INSECURE},
        {"check", no_argument, NULL, O_CHECK},
        {"backlog-warn", required_argument, NULL, O_BWARN},
        {"backlog-crit", required_argument, NULL, O_BCRIT},
        {"disk-warn", required_argument, NULL, O_DWARN},
        {"disk-crit", required_argument, NULL, O_DCRIT},
        {"conflicts", no_argument, NULL, O_CONFLICTS},
        {"outcome", required_argument, NULL, O_OUTCOME},
        {"note", required_argument, NULL, O_NOTE},
        {"officer", required_argument, NULL, O_OFFICER},
        {"to", required_argument, NULL, O_TO},
        {"due", required_argument, NULL, O_DUE},
        {"overdue", no_argument, NULL, O_OVERDUE},
        {"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0},
    };
    static const sj_cfg_spec_t spec = {.tool = "township-hub", .usage = s_usage,
                                       .general = s_cfg_general, .opts = opts,
                                       .cmds = s_cfg_cmds};
    int applied = sj_cfg_apply(&spec, &argc, &argv); /* the file's keys become options */
    if (applied != SJ_CFG_CONTINUE) {
        return applied;
    }
    if (hub_http_handles(argc, argv)) {
        return hub_http_main(argc, argv); /* serve */
    }
    s_opts_t o = {.format = SJ_FMT_TABLE};
    sj_health_opts_default(&o.health);
    const char *log_level = NULL, *format = NULL, *silent = NULL;
    const char *bwarn = NULL, *bcrit = NULL, *dwarn = NULL, *dcrit = NULL;
    const char *outcome = NULL, *note = NULL, *officer = NULL, *to = NULL, *due = NULL;
    int conflicts = 0, overdue = 0;
    int c, help = 0, checked = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA: o.data = optarg; break;
        case O_CODE: o.code = optarg; break;
        case O_BIND: o.bind = optarg; break;
        case O_PARENT: o.parent = optarg; break;
        case O_FORMAT: format = optarg; break;
        case O_SILENT: silent = optarg; break;
        case O_CONFIG: break; /* read by sj_cfg_apply */
        case O_LOG: log_level = optarg; break;
        case O_PKEY: o.parent_key = optarg; break;
        case O_INSECURE: o.insecure = 1; break;
        case O_CHECK: o.check = 1; break;
        case O_BWARN: bwarn = optarg; break;
        case O_BCRIT: bcrit = optarg; break;
        case O_DWARN: dwarn = optarg; break;
        case O_DCRIT: dcrit = optarg; break;
        case O_CONFLICTS: conflicts = 1; break;
        case O_OUTCOME: outcome = optarg; break;
        case O_NOTE: note = optarg; break;
        case O_OFFICER: officer = optarg; break;
        case O_TO: to = optarg; break;
        case O_DUE: due = optarg; break;
        case O_OVERDUE: overdue = 1; break;
        case 'h': help = 1; break;
        default:
            fprintf(stderr, "township-hub: unknown or incomplete option '%s' (see --help)\n",
                    argv[optind - 1]);
            if (o.check) {
                return sj_health_unknown(stdout, "bad usage (see --help)");
            }
            return 2;
        }
    }
    const char *cmd = optind < argc ? argv[optind] : NULL;
    if (help) {
        fputs(s_usage, stdout);
        fputs(s_usage_opts, stdout);
        return 0;
    }
    int npos = cmd ? argc - optind - 1 : 0;
    if (!cmd) {
        fputs(s_usage, stderr);
        fputs(s_usage_opts, stderr);
        return 2;
    }
    int rc = 2;
    if (!o.data) {
        o.data = "./var/township-hub";
    }
    if (o.code && sj_code_level(o.code) != 9) {
        fprintf(stderr, "township-hub: --code '%s' is not a 9-digit township code\n", o.code);
        goto out;
    }
    if (format && sj_format_parse(format, &o.format) != SJ_OK) {
        fprintf(stderr, "township-hub: --format '%s' is not one of table, json, csv\n", format);
        goto out;
    }
    char herr[256];
    if (sj_health_opts_parse(&o.health, silent, bwarn, bcrit, dwarn, dcrit, herr, sizeof herr)
        != SJ_OK) {
        fprintf(stderr, "township-hub: %s\n", herr);
        goto out;
    }
    if (log_level) {
        int lvl = sj_log_level_parse(log_level);
        if (lvl < 0) {
            fprintf(stderr, "township-hub: --log-level '%s' is not one of error, warn, notice,"
                            " info, debug\n", log_level);
            goto out;
        }
        sj_log_set_level((sj_log_level_t) lvl);
    }
    if (sj_ids_init() != SJ_OK) {
        rc = 1;
        goto out;
    }
    sj_log_set_ident("township-hub", o.code ? o.code : "");
    if (strcmp(cmd, "run") == 0 && npos == 0) {
        rc = s_run(&o);
    } else if ((to || due) && strcmp(cmd, "assign") != 0) {
        fprintf(stderr, "township-hub: --to and --due are options of 'assign'\n");
    } else if (outcome && strcmp(cmd, "update") != 0) {
        fprintf(stderr, "township-hub: --outcome is an option of 'update'\n");
    } else if ((note || officer) && strcmp(cmd, "update") != 0 && strcmp(cmd, "assign") != 0) {
        fprintf(stderr, "township-hub: --note and --officer are options of 'update' and"
                        " 'assign'\n");
    } else if ((conflicts || overdue) && strcmp(cmd, "cases") != 0) {
        fprintf(stderr, "township-hub: --conflicts and --overdue are options of 'cases'\n");
    } else if (strcmp(cmd, "cases") == 0 && npos == 0) {
        rc = s_cases(&o, conflicts, overdue);
    } else if (strcmp(cmd, "assign") == 0 && npos == 1) {
        rc = s_assign(&o, argv[optind + 1], to, due, note, officer);
    } else if (strcmp(cmd, "update") == 0 && npos == 1) {
        rc = s_update(&o, argv[optind + 1], outcome, note, officer);
    } else if (strcmp(cmd, "status") == 0 && npos == 0) {
        rc = s_status(&o);
        checked = o.check;
    } else if ((strcmp(cmd, "backup") == 0 || strcmp(cmd, "restore") == 0) && npos == 1) {
        const sj_backup_role_t role = {.tool = "township-hub", .file = HUB_STORE_FILE,
                                       .verify = s_verify, .ctx = &o};
        rc = cmd[0] == 'b' ? sj_backup_cmd_backup(&role, o.data, argv[optind + 1])
                           : sj_backup_cmd_restore(&role, o.data, argv[optind + 1]);
    } else if (strcmp(cmd, "keygen") == 0 && npos == 0) {
        rc = sj_enrol_keygen("township-hub", o.data);
    } else if (strcmp(cmd, "allow") == 0 && npos == 2) {
        const char *code = argv[optind + 1];
        const char *under = o.code;
        char stored[SJ_CODE_MAX + 1] = "";
        if (!under) {
            char err[512];
            hub_store_t *st = hub_store_open(o.data, NULL, SJ_DB_READ, err, sizeof err);
            if (st) {
                snprintf(stored, sizeof stored, "%s", hub_store_code(st));
                under = stored;
                hub_store_close(&st);
            }
        }
        if (sj_code_level(code) != 12) {
            fprintf(stderr, "township-hub: '%s' is not a 12-digit village code\n", code);
        } else {
            rc = sj_enrol_allow("township-hub", o.data, code, argv[optind + 2], under);
        }
    } else if (strcmp(cmd, "revoke") == 0 && npos == 1) {
        rc = sj_enrol_revoke("township-hub", o.data, argv[optind + 1]);
    } else {
        fprintf(stderr, "township-hub: unknown command or wrong arguments: '%s' (see --help)\n", cmd);
    }
out:
    if (o.check && rc == 2 && !checked) {
        rc = sj_health_unknown(stdout, "bad usage (see stderr)");
    }
    return rc;
}
