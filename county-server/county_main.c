/* county-server: the root of the tree and the master database; its reading
 * commands are what county staff use. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <zmq.h>

#include "county_assign.h"
#include "county_cases.h"
#include "county_cli.h"
#include "county_query.h"
#include "county_status.h"
#include "county_store.h"
#include "county_verify.h"
#include "sj_backup.h"
#include "sj_cfg.h"
#include "sj_enrol.h"
#include "sj_health.h"
#include "sj_ids.h"
#include "sj_log.h"
#include "sj_model.h"
#include "sj_node.h"

static const char s_usage[] =
    "usage: county-server COMMAND [options]\n"
    "\n"
    "The county server: receives reports from township hubs (and stations\n"
    "attached directly), keeps the master database, and answers county staff.\n"
    "\n"
    "commands:\n"
    "  run                 run the daemon (--bind)\n"
    "  keygen              make this server's key pair; prints the public key\n"
    "                      (hubs use it as --parent-key, stations as --county-key)\n"
    "  allow CODE KEY      enrol a hub (9 digits) or a directly attached station (12)\n"
    "  revoke CODE|KEY     remove a code's keys, or one key\n"
    "  status              each child link (hub or station): last contact, events\n"
    "                      received, backlog it reports; silent ones first\n"
    "  status --check      one line for monitoring (Nagios plugin convention), exit\n"
    "                      0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN: silent children,\n"
    "                      free disk\n"
    "  backup DEST         consistent copy of the master database while the server\n"
    "                      runs, written atomically to DEST (or DEST/county-server-\n"
    "                      TIME.db if DEST is a directory), integrity-checked\n"
    "  restore SRC         replace the database with the backup SRC (the server must\n"
    "                      be stopped); SRC is checked first, the old database is kept\n"
    "                      as county-server.db.before-restore-TIME\n"
    "  stats               items and persons (with --cases: case figures),\n"
    "                      grouped with --by\n"
    "  list                matters, filtered\n"
    "  show ID             one matter\n"
    "  cases               every matter as a case: outcome, last change, conflicts,\n"
    "                      assignment, due date, days left, overdue; filters for\n"
    "                      overdue, open, assigned (county-server cases --help)\n"
    "  update ID --outcome O [--note T]   a status change made at the county\n"
    "  assign ID --to CODE --due YYYY-MM-DD [--note T]   assign a case to a\n"
    "                      township or station (county-server assign --help)\n"
    "  verify              per station: highest complete sequence, gaps, hash-chain\n"
    "                      breaks; exit 1 on any\n"
    "  export              all matters that pass the filters as csv or jsonl, streamed\n"
    "  report --year YYYY  the year's petition section for the county yearbook\n"
    "  serve               the county dashboard over HTTP (read-only)\n"
    "                      (export, report and serve: see COMMAND --help)\n";

/* The options part of the help (split: C99 guarantees string literals of
 * 4095 bytes only). */
static const char s_usage_opts[] =
    "\n"
    "options:\n"
    "  --data DIR          data directory (default ./var/county-server)\n"
    "  --bind ENDPOINT     where hubs connect, e.g. tcp://127.0.0.1:7600 (run)\n"
    "  --code CODE6        county code; children outside it are refused (run, optional)\n"
    "  --insecure          run without CURVE keys (test networks only; logged loudly)\n"
    "  --by DIM[,DIM...]   stats: channel, kind, level, category, outcome, source,\n"
    "                      station, township, month, ever_outcome (every outcome\n"
    "                      a case ever had: how many were ever accepted, closed,\n"
    "                      withdrawn; implies --cases)\n"
    "  --cases             stats: every row also gets the case figures: open,\n"
    "                      overdue, concluded, withdrawn, closure_rate (%), median\n"
    "                      days to close, assigned cases and their closure rate\n"
    "                      (a scan of every matter; without it stats counts from\n"
    "                      the tallies kept ahead when they hold the query)\n"
    "  --from YYYY-MM-DD   only matters that occurred on or after (inclusive)\n"
    "  --to YYYY-MM-DD     only matters that occurred on or before (inclusive)\n"
    "  --township CODE9, --station CODE12, --channel C, --kind K, --level L,\n"
    "  --category G, --outcome O, --source S    filters (stats, list)\n"
    "  --limit N           list: at most N rows\n"
    "  --with-personal     list, show: open the sealed petitioner fields with this\n"
    "                      server's key (left out otherwise)\n"
    "  --format F          table (default), json, csv\n"
    "  --silent-after S    status: a child unheard for S seconds is SILENT (default 3600)\n"
    "  --check             status: the monitoring line and exit code (see above)\n"
    "  --disk-warn PCT     status --check: WARNING below PCT% free disk (default 10)\n"
    "  --disk-crit PCT     status --check: CRITICAL below PCT% free disk (default 5)\n"
    "  --config FILE       INI file: the general keys (data, bind, code, log-level,\n"
    "                      insecure, http, token-file, silent-after) in\n"
    "                      [county-server]; every option of COMMAND as a key of\n"
    "                      [COMMAND], e.g. [stats] format = json. Flags win over\n"
    "                      [COMMAND], which wins over [county-server]\n"
    "  --log-level LEVEL   error, warn, notice (default), info, debug\n"
    "  -h, --help          this help\n"
    "\n"
    "Reading commands work while 'run' is running. Exit status: 0 ok, 1 failure,\n"
    "2 bad usage (status --check: see above).\n";

/* The general keys of the config file ([county-server], sj_cfg.h); every
 * other option is a key of its command's section. */
static const char *const s_cfg_general[] = {"data",     "bind", "code",       "log-level",
                                            "insecure", "http", "token-file", "silent-after",
                                            NULL}; /* http...: serve, see county_cli.c */

/* Commands parsed with their own option table (the others use main's). */
static const sj_cfg_cmd_t s_cfg_cmds[] = {
    {"export", county_cli_options}, {"report", county_cli_options},
    {"serve", county_cli_options},  {"cases", county_cases_options},
    {"update", county_cases_options}, {"assign", county_assign_options},
    {NULL, NULL},
};

typedef struct {
    const char *data, *code;
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

static int
s_run(const char *data, const char *bind, const char *code, int insecure)
{
    if (!bind) {
        fprintf(stderr, "county-server: run needs --bind\n");
        return 2;
    }
    static const sj_node_role_t role = {
        .open = s_node_open, .close = s_node_close, .down_ops = &county_store_downlink_ops};
    const sj_node_cfg_t cfg = {.tool = "county-server",
                               .data = data,
                               .store_file = COUNTY_STORE_FILE,
                               .damaged_hint = "restore a backup with 'county-server restore'",
                               .daemon = 1,
                               .insecure = insecure,
                               .bind = bind};
    s_run_t r = {.data = data, .code = code};
    int rc = sj_node_run(&cfg, &role, &r);
    return rc == SJ_OK ? 0 : rc == SJ_EINVAL ? 2 : 1;
}

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
        county_store_t *live = county_store_open(r->data, NULL, SJ_DB_READ, ignored, sizeof ignored);
        if (live && sj_db_meta_get_text(county_store_db(live), "code", code, sizeof code) != SJ_OK) {
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
        rc = county_status_write(county_store_db(st), ho->silent_s, fmt, stdout);
        county_store_close(&st);
        if (rc != SJ_OK) {
            fprintf(stderr, "county-server: cannot read status: %s\n", sj_strerror(rc));
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

int
main(int argc, char **argv)
{
    enum {
        O_DATA = 1000, O_BIND, O_CODE, O_BY, O_FROM, O_TO, O_TOWNSHIP, O_STATION, O_CHANNEL,
        O_KIND, O_LEVEL, O_CATEGORY, O_OUTCOME, O_SOURCE, O_LIMIT, O_FORMAT, O_CONFIG, O_LOG,
        O_INSECURE, O_PERSONAL, O_SILENT, O_CHECK, O_DWARN, O_DCRIT, O_CASES
    };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"bind", required_argument, NULL, O_BIND},
        {"code", required_argument, NULL, O_CODE},
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
        {"format", required_argument, NULL, O_FORMAT},
        {"config", required_argument, NULL, O_CONFIG},
        {"log-level", required_argument, NULL, O_LOG},
        {"insecure", no_argument, NULL, O_INSECURE},
        {"with-personal", no_argument, NULL, O_PERSONAL},
        {"silent-after", required_argument, NULL, O_SILENT},
        {"check", no_argument, NULL, O_CHECK},
        {"disk-warn", required_argument, NULL, O_DWARN},
        {"disk-crit", required_argument, NULL, O_DCRIT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const sj_cfg_spec_t spec = {.tool = "county-server", .usage = s_usage,
                                       .general = s_cfg_general, .opts = opts,
                                       .cmds = s_cfg_cmds};
    int applied = sj_cfg_apply(&spec, &argc, &argv); /* the file's keys become options */
    if (applied != SJ_CFG_CONTINUE) {
        return applied;
    }
    if (county_assign_handles(argc, argv)) {
        return county_assign_main(argc, argv); /* assign (issue 4) */
    }
    if (county_cases_handles(argc, argv)) {
        return county_cases_main(argc, argv); /* cases, update (issue 4) */
    }
    if (county_cli_handles(argc, argv)) {
        return county_cli_main(argc, argv); /* export, report, serve */
    }
    const char *data = NULL, *bind = NULL, *code = NULL, *by = NULL, *format = NULL;
    const char *log_level = NULL, *limit = NULL;
    const char *silent = NULL, *dwarn = NULL, *dcrit = NULL;
    county_filter_t f = {0};
    int c, help = 0, insecure = 0, with_personal = 0, cases = 0, check = 0, checked = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA: data = optarg; break;
        case O_BIND: bind = optarg; break;
        case O_CODE: code = optarg; break;
        case O_BY: by = optarg; break;
        case O_FROM: f.from = optarg; break;
        case O_TO: f.to = optarg; break;
        case O_TOWNSHIP: f.township = optarg; break;
        case O_STATION: f.station = optarg; break;
        case O_CHANNEL: f.channel = optarg; break;
        case O_KIND: f.kind = optarg; break;
        case O_LEVEL: f.level = optarg; break;
        case O_CATEGORY: f.category = optarg; break;
        case O_OUTCOME: f.outcome = optarg; break;
        case O_SOURCE: f.source = optarg; break;
        case O_LIMIT: limit = optarg; break;
        case O_FORMAT: format = optarg; break;
        case O_CONFIG: break; /* read by sj_cfg_apply */
        case O_LOG: log_level = optarg; break;
        case O_INSECURE: insecure = 1; break;
        case O_PERSONAL: with_personal = 1; break;
        case O_CASES: cases = 1; break;
        case O_SILENT: silent = optarg; break;
        case O_CHECK: check = 1; break;
        case O_DWARN: dwarn = optarg; break;
        case O_DCRIT: dcrit = optarg; break;
        case 'h': help = 1; break;
        default:
            fprintf(stderr, "county-server: unknown or incomplete option '%s' (see --help)\n",
                    argv[optind - 1]);
            if (check) {
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
    if (!cmd) {
        fputs(s_usage, stderr);
        fputs(s_usage_opts, stderr);
        return 2;
    }
    int npos = argc - optind - 1;
    int rc = 2;
    char err[512] = "";
    if (!data) {
        data = "./var/county-server";
    }
    sj_format_t fmt = SJ_FMT_TABLE;
    if (format && sj_format_parse(format, &fmt) != SJ_OK) {
        fprintf(stderr, "county-server: --format '%s' is not one of table, json, csv\n", format);
        goto out;
    }
    if (code && sj_code_level(code) != 6) {
        fprintf(stderr, "county-server: --code '%s' is not a 6-digit county code\n", code);
        goto out;
    }
    sj_health_opts_t ho;
    sj_health_opts_default(&ho);
    if (sj_health_opts_parse(&ho, silent, NULL, NULL, dwarn, dcrit, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        goto out;
    }
    if (limit) {
        char *end = NULL;
        f.limit = strtol(limit, &end, 10);
        if (!end || *end || f.limit < 1) {
            fprintf(stderr, "county-server: --limit '%s' is not a positive number\n", limit);
            goto out;
        }
    }
    if (log_level) {
        int lvl = sj_log_level_parse(log_level);
        if (lvl < 0) {
            fprintf(stderr, "county-server: --log-level '%s' is not one of error, warn, notice,"
                            " info, debug\n", log_level);
            goto out;
        }
        sj_log_set_level((sj_log_level_t) lvl);
    }
    if (sj_ids_init() != SJ_OK) {
        rc = 1;
        goto out;
    }
    sj_log_set_ident("county-server", code ? code : "");
    if (strcmp(cmd, "run") == 0 && npos == 0) {
        rc = s_run(data, bind, code, insecure);
        goto out;
    }
    if (strcmp(cmd, "keygen") == 0 && npos == 0) {
        rc = sj_enrol_keygen("county-server", data);
        goto out;
    }
    if (strcmp(cmd, "status") == 0 && npos == 0) {
        rc = s_status(data, &ho, check, fmt);
        checked = check;
        goto out;
    }
    if ((strcmp(cmd, "backup") == 0 || strcmp(cmd, "restore") == 0) && npos == 1) {
        s_restore_t r = {.data = data, .code = code};
        const sj_backup_role_t role = {.tool = "county-server", .file = COUNTY_STORE_FILE,
                                       .verify = s_verify, .ctx = &r};
        rc = cmd[0] == 'b' ? sj_backup_cmd_backup(&role, data, argv[optind + 1])
                           : sj_backup_cmd_restore(&role, data, argv[optind + 1]);
        goto out;
    }
    if (strcmp(cmd, "allow") == 0 && npos == 2) {
        const char *c2 = argv[optind + 1];
        if (sj_code_level(c2) != 9 && sj_code_level(c2) != 12) {
            fprintf(stderr, "county-server: '%s' is neither a 9-digit township nor a 12-digit"
                            " village code\n", c2);
            goto out;
        }
        rc = sj_enrol_allow("county-server", data, c2, argv[optind + 2], code);
        goto out;
    }
    if (strcmp(cmd, "verify") == 0 && npos == 0) {
        county_store_t *vs = county_store_open(data, NULL, SJ_DB_READ, err, sizeof err);
        if (!vs) {
            fprintf(stderr, "county-server: %s\n", err);
            rc = 1;
            goto out;
        }
        long problems = 0;
        int v = county_verify(county_store_db(vs), fmt, stdout, &problems, err, sizeof err);
        county_store_close(&vs);
        if (v != SJ_OK) {
            fprintf(stderr, "county-server: %s\n", err);
            rc = 1;
        } else {
            fprintf(stderr, "%s: %ld problem%s\n", problems ? "NOT VERIFIED" : "verified",
                    problems, problems == 1 ? "" : "s");
            rc = problems ? 1 : 0;
        }
        goto out;
    }
    if (strcmp(cmd, "revoke") == 0 && npos == 1) {
        rc = sj_enrol_revoke("county-server", data, argv[optind + 1]);
        goto out;
    }
    int is_query = (strcmp(cmd, "stats") == 0 && npos == 0) || (strcmp(cmd, "list") == 0 && npos == 0)
                   || (strcmp(cmd, "show") == 0 && npos == 1);
    if (!is_query) {
        fprintf(stderr, "county-server: unknown command or wrong arguments: '%s' (see --help)\n",
                cmd);
        goto out;
    }
    if (county_filter_check(&f, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        goto out;
    }
    sj_keypair_t kp;
    if (with_personal) {
        if (strcmp(cmd, "stats") == 0) {
            fprintf(stderr, "county-server: stats has no personal fields; --with-personal is for"
                            " list and show\n");
            goto out;
        }
        if (sj_keypair_load(data, &kp, err, sizeof err) != SJ_OK) {
            fprintf(stderr, "county-server: --with-personal needs this server's key: %s\n", err);
            rc = 1;
            goto out;
        }
        f.personal = &kp;
    }
    county_store_t *st = county_store_open(data, NULL, SJ_DB_READ, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        rc = 1;
        goto out;
    }
    int q;
    err[0] = '\0';
    if (strcmp(cmd, "stats") == 0) {
        q = county_query_stats_ex(county_store_db(st), by, &f, fmt,
                                  cases ? COUNTY_STATS_CASES : 0, stdout, err, sizeof err);
    } else if (strcmp(cmd, "list") == 0) {
        q = county_query_list(county_store_db(st), &f, fmt, stdout, err, sizeof err);
    } else {
        q = county_query_show(county_store_db(st), argv[optind + 1], fmt, stdout, err, sizeof err);
        if (q == SJ_OK && with_personal) {
            q = county_query_personal(county_store_db(st), argv[optind + 1], &kp, fmt, stdout, err,
                                      sizeof err);
        }
    }
    if (with_personal) {
        sodium_memzero(&kp, sizeof kp);
    }
    county_store_close(&st);
    if (q != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err[0] ? err : sj_strerror(q));
        rc = q == SJ_EINVAL ? 2 : 1;
        goto out;
    }
    rc = 0;
out:
    if (check && rc == 2 && !checked) {
        rc = sj_health_unknown(stdout, "bad usage (see stderr)");
    }
    return rc;
}
