/* county_cli: export, report and serve, see county_cli.h.
 *
 * One option table for the three commands; each command lists the options
 * it takes (s_cmds[].opts) and any other option given is bad usage, so a
 * --year on export is an error rather than silently ignored. */
#include "county_cli.h"

#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "county_export.h"
#include "county_http.h"
#include "county_query.h"
#include "county_report.h"
#include "county_store.h"
#include "sj_cfg.h"
#include "sj_cli.h"
#include "sj_http.h"
#include "sj_ids.h"
#include "sj_keys.h"
#include "sj_log.h"

enum {
    O_DATA = 1000,
    O_CONFIG,
    O_LOG,
    O_FORMAT,
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
    O_YEAR,
    O_LANG,
    O_HTTP,
    O_TOKEN_FILE,
    O_SILENT,
    O_BOM,
    O_HELP,
    O_COUNT
};

const struct option county_cli_options[] = {
    {"data", required_argument, NULL, O_DATA},
    {"config", required_argument, NULL, O_CONFIG},
    {"log-level", required_argument, NULL, O_LOG},
    {"format", required_argument, NULL, O_FORMAT},
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
    {"year", required_argument, NULL, O_YEAR},
    {"lang", required_argument, NULL, O_LANG},
    {"http", required_argument, NULL, O_HTTP},
    {"token-file", required_argument, NULL, O_TOKEN_FILE},
    {"silent-after", required_argument, NULL, O_SILENT},
    {"bom", no_argument, NULL, O_BOM},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

/* Options without a value, for sj_cli_command: these and county_main's. */
static const char *const s_flags[] = {"with-personal", "help", "insecure", "check", "conflicts",
                                      "bom", "cases", NULL};

typedef struct {
    const char *data, *log_level, *format, *limit, *year, *lang, *http, *token_file,
        *silent;
    int with_personal;
    int bom; /* export --bom */
    county_filter_t f;
    unsigned char given[O_COUNT - O_DATA]; /* which options were on the command line */
} s_args_t;

typedef struct {
    const char *name;
    int (*run)(s_args_t *a);
    const int *opts; /* options it takes besides data, config, log-level, help; 0-terminated */
    const char *usage;
} s_cmd_t;

static int s_export(s_args_t *a);
static int s_report(s_args_t *a);
static int s_serve(s_args_t *a);

static const int s_export_opts[] = {O_FORMAT,  O_FROM,  O_TO,       O_TOWNSHIP, O_STATION,
                                    O_CHANNEL, O_KIND,  O_LEVEL,    O_CATEGORY, O_OUTCOME,
                                    O_SOURCE,  O_LIMIT, O_PERSONAL, O_BOM,      0};

static const int s_report_opts[] = {O_YEAR, O_LANG, O_FORMAT, 0};
static const int s_serve_opts[] = {O_HTTP, O_TOKEN_FILE, O_SILENT, 0};

static const s_cmd_t s_cmds[] = {
    {"export", s_export, s_export_opts,
     "usage: county-server export [--format csv|jsonl] [filters] [--limit N] [--with-personal]\n"
     "                            [--bom]\n"
     "\n"
     "Writes every matter that passes the filters to stdout, one row at a time\n"
     "(constant memory however many there are), ordered by occurred date and id.\n"
     "Columns as 'list'; --with-personal adds petitioner_name, petitioner_id,\n"
     "petitioner_phone, petitioner_address, opened with this server's key.\n"
     "When stderr is a terminal, progress is shown every 100,000 rows.\n"
     "\n"
     "  --format F          csv (default; RFC 4180, header line) or jsonl (one\n"
     "                      JSON object per line)\n"
     "  --bom               csv: start with a UTF-8 byte-order mark, so that Excel\n"
     "                      reads the Chinese text as UTF-8\n"
     "In csv, a cell that starts with = + - @, a tab or a CR (and is not a plain\n"
     "number) gets a leading ' so that Excel, WPS and LibreOffice show it as text\n"
     "instead of running it as a formula (always on; jsonl is never altered).\n"
     "  --from YYYY-MM-DD, --to YYYY-MM-DD     occurred date, inclusive\n"
     "  --township CODE9, --station CODE12, --channel C, --kind K, --level L,\n"
     "  --category G, --outcome O, --source S  filters, as for list\n"
     "  --limit N           at most N rows\n"
     "  --data DIR, --config FILE, --log-level LEVEL   as for every command\n"
     "In the --config file these options are keys of [export] (flags win).\n"},
    {"report", s_report, s_report_opts,
     "usage: county-server report --year YYYY [--lang zh|en] [--format md|html]\n"
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
     "  --data DIR, --config FILE, --log-level LEVEL   as for every command\n"
     "In the --config file these options are keys of [report] (flags win).\n"},
    {"serve", s_serve, s_serve_opts,
     "usage: county-server serve [--http HOST:PORT] [--token-file FILE] [--silent-after S]\n"
     "\n"
     "Serves the county dashboard: totals, charts by month, channel, level,\n"
     "category, outcome and source, the townships (matters, persons, last\n"
     "contact of their hub), silent hubs and stations; filters by date range and\n"
     "township; Chinese and English. Everything the page needs is inside this\n"
     "binary. A separate process that only reads the database: run it next to\n"
     "'run'. JSON API: /api/stats (as 'stats --format json'), /api/townships,\n"
     "/api/links (as 'status --format json'). Prints 'ready URL' when serving;\n"
     "stops on SIGINT or SIGTERM.\n"
     "\n"
     "  --http HOST:PORT    where to listen (default 127.0.0.1:8080; [::1]:8080 for\n"
     "                      IPv6; port 0 = any free port)\n"
     "  --token-file FILE   required for any address that is not loopback: every\n"
     "                      request must then carry the token in the file, as\n"
     "                      'Authorization: Bearer TOKEN' or '?token=TOKEN'\n"
     "                      (16-256 characters A-Z a-z 0-9 . _ ~ -; file mode 0600)\n"
     "  --silent-after S    a hub or station unheard for S seconds is silent\n"
     "                      (default 3600)\n"
     "  --data DIR, --config FILE, --log-level LEVEL   as for every command\n"
     "In the --config file these options are keys of [serve] (flags win).\n"},
};
#define S_NCMDS (sizeof s_cmds / sizeof s_cmds[0])

static const s_cmd_t *
s_cmd_find(const char *name)
{
    for (size_t i = 0; i < S_NCMDS; i++) {
        if (strcmp(s_cmds[i].name, name) == 0) {
            return &s_cmds[i];
        }
    }
    return NULL;
}

int
county_cli_handles(int argc, char *const *argv)
{
    int i = sj_cli_command(argc, argv, s_flags);
    return i > 0 && s_cmd_find(argv[i]) != NULL;
}

static const char *
s_opt_name(int code)
{
    for (const struct option *o = county_cli_options; o->name; o++) {
        if (o->val == code) {
            return o->name;
        }
    }
    return "?";
}

/* Any option given that the command does not take is bad usage. */
static int
s_check_given(const s_cmd_t *cmd, const s_args_t *a)
{
    for (int code = O_DATA; code < O_COUNT; code++) {
        if (!a->given[code - O_DATA] || code == O_DATA || code == O_CONFIG || code == O_LOG
            || code == O_HELP || sj_cfg_source(s_opt_name(code), NULL) == SJ_CFG_GENERAL) {
            continue; /* a general key of the config file is for the commands that use it */
        }
        int ok = 0;
        for (const int *p = cmd->opts; *p; p++) {
            ok = ok || *p == code;
        }
        if (!ok) {
            fprintf(stderr, "county-server: %s does not take --%s (see %s --help)\n", cmd->name,
                    s_opt_name(code), cmd->name);
            return 2;
        }
    }
    return 0;
}

/* ---- export ---- */

/* Progress on a terminal: one line rewritten in place. */
static void
s_export_progress(void *ctx, int64_t rows)
{
    (void) ctx;
    fprintf(stderr, "\rcounty-server: exported %lld matters", (long long) rows);
    fflush(stderr);
}

static int
s_export(s_args_t *a)
{
    county_export_format_t fmt = COUNTY_EXPORT_CSV;
    if (a->format && county_export_format_parse(a->format, &fmt) != SJ_OK) {
        fprintf(stderr, "county-server: --format '%s' is not one of csv, jsonl\n", a->format);
        return 2;
    }
    if (a->limit) {
        char *end = NULL;
        a->f.limit = strtol(a->limit, &end, 10);
        if (!end || *end || a->f.limit < 1) {
            fprintf(stderr, "county-server: --limit '%s' is not a positive number\n", a->limit);
            return 2;
        }
    }
    if (a->bom && fmt != COUNTY_EXPORT_CSV) {
        fprintf(stderr, "county-server: --bom is for --format csv only\n");
        return 2;
    }
    char err[512] = "";
    if (county_filter_check(&a->f, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        return 2;
    }
    sj_keypair_t kp;
    if (a->with_personal) {
        if (sj_keypair_load(a->data, &kp, err, sizeof err) != SJ_OK) {
            fprintf(stderr, "county-server: --with-personal needs this server's key: %s\n", err);
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
    if (a->bom) {
        fputs(COUNTY_EXPORT_BOM, stdout);
    }
    int tty = isatty(STDERR_FILENO);
    int64_t rows = 0;
    int64_t t0 = sj_mono_ms();
    int q = county_export_write(county_store_db(st), &a->f, fmt, stdout,
                                tty ? s_export_progress : NULL, NULL, &rows, err, sizeof err);
    if (tty) {
        fprintf(stderr, "\rcounty-server: exported %lld matters in %.1f s\n", (long long) rows,
                (double) (sj_mono_ms() - t0) / 1000.0);
    }
    if (q != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err[0] ? err : sj_strerror(q));
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

/* ---- report ---- */

static int
s_report(s_args_t *a)
{
    int year = 0;
    county_report_lang_t lang = COUNTY_REPORT_ZH;
    county_report_fmt_t fmt = COUNTY_REPORT_MD;
    if (!a->year) {
        fprintf(stderr, "county-server: report needs --year YYYY\n");
        return 2;
    }
    if (county_report_year_parse(a->year, &year) != SJ_OK) {
        fprintf(stderr, "county-server: --year '%s' is not a year (%d..%d)\n", a->year,
                COUNTY_REPORT_YEAR_MIN, COUNTY_REPORT_YEAR_MAX);
        return 2;
    }
    if (a->lang && county_report_lang_parse(a->lang, &lang) != SJ_OK) {
        fprintf(stderr, "county-server: --lang '%s' is not one of zh, en\n", a->lang);
        return 2;
    }
    if (a->format && county_report_fmt_parse(a->format, &fmt) != SJ_OK) {
        fprintf(stderr, "county-server: --format '%s' is not one of md, html\n", a->format);
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
        fprintf(stderr, "county-server: out of memory\n");
        goto out;
    }
    if (county_report_compute(county_store_db(st), year, r, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        goto out;
    }
    if (county_report_write(r, lang, fmt, stdout) != SJ_OK) {
        fprintf(stderr, "county-server: cannot write the report\n");
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
            fprintf(stderr, "county-server: --silent-after '%s' is not a number of seconds\n",
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
    if (sj_http_addr_check(addr, a->token_file != NULL, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "county-server: %s\n", err);
        sodium_memzero(token, sizeof token);
        return 2;
    }
    county_store_t *st = county_store_open(a->data, NULL, SJ_DB_READ, err, sizeof err);
    if (!st) {
        fprintf(stderr, "county-server: %s\n", err);
        sodium_memzero(token, sizeof token);
        return 1;
    }
    sj_http_signals_block();
    county_http_t *http = county_http_new(county_store_db(st), addr, a->token_file ? token : NULL,
                                          silent_s, err, sizeof err);
    sodium_memzero(token, sizeof token);
    if (!http) {
        fprintf(stderr, "county-server: %s\n", err);
        county_store_close(&st);
        return 1;
    }
    char url[300];
    sj_http_url(addr, county_http_port(http), url, sizeof url);
    sj_notice("dashboard on %s (read-only%s)", url, a->token_file ? ", token required" : "");
    printf("ready %s\n", url);
    fflush(stdout);
    int sig = sj_http_signals_wait();
    sj_notice("stopping (signal %d)", sig);
    county_http_destroy(&http);
    county_store_close(&st);
    return 0;
}

/* ---- main ---- */

int
county_cli_main(int argc, char **argv)
{
    s_args_t a;
    memset(&a, 0, sizeof a);
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", county_cli_options, NULL)) != -1) {
        if (c == 'h') {
            c = O_HELP;
        }
        if (c < O_DATA || c >= O_COUNT) {
            fprintf(stderr, "county-server: unknown or incomplete option '%s' (see --help)\n",
                    argv[optind - 1]);
            return 2;
        }
        a.given[c - O_DATA] = 1;
        switch (c) {
        case O_DATA:
            a.data = optarg;
            break;
        case O_CONFIG:
            break; /* read by sj_cfg_apply in main() */
        case O_LOG:
            a.log_level = optarg;
            break;
        case O_FORMAT:
            a.format = optarg;
            break;
        case O_FROM:
            a.f.from = optarg;
            break;
        case O_TO:
            a.f.to = optarg;
            break;
        case O_TOWNSHIP:
            a.f.township = optarg;
            break;
        case O_STATION:
            a.f.station = optarg;
            break;
        case O_CHANNEL:
            a.f.channel = optarg;
            break;
        case O_KIND:
            a.f.kind = optarg;
            break;
        case O_LEVEL:
            a.f.level = optarg;
            break;
        case O_CATEGORY:
            a.f.category = optarg;
            break;
        case O_OUTCOME:
            a.f.outcome = optarg;
            break;
        case O_SOURCE:
            a.f.source = optarg;
            break;
        case O_LIMIT:
            a.limit = optarg;
            break;
        case O_BOM:
            a.bom = 1;
            break;
        case O_PERSONAL:
            a.with_personal = 1;
            break;
        case O_YEAR:
            a.year = optarg;
            break;
        case O_LANG:
            a.lang = optarg;
            break;
        case O_HTTP:
            a.http = optarg;
            break;
        case O_TOKEN_FILE:
            a.token_file = optarg;
            break;
        case O_SILENT:
            a.silent = optarg;
            break;
        default:
            break;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "county-server: no command (see --help)\n");
        return 2;
    }
    const s_cmd_t *cmd = s_cmd_find(argv[optind]);
    if (!cmd) {
        fprintf(stderr, "county-server: unknown command '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (a.given[O_HELP - O_DATA]) {
        fputs(cmd->usage, stdout);
        return 0;
    }
    if (optind + 1 < argc) {
        fprintf(stderr, "county-server: %s takes no argument '%s' (see %s --help)\n", cmd->name,
                argv[optind + 1], cmd->name);
        return 2;
    }
    int rc = s_check_given(cmd, &a);
    if (rc != 0) {
        return rc;
    }
    rc = 2;
    if (!a.data) {
        a.data = "./var/county-server";
    }
    if ((rc = sj_cli_start("county-server", a.log_level)) != 0) {
        goto out;
    }
    rc = cmd->run(&a);
out:
    return rc;
}
