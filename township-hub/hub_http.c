/* hub_http: the township status page and `township-hub serve`, see
 * hub_http.h. The one API answer is hub_store_status writing JSON into an
 * open_memstream, so the page and `status --format json` cannot disagree. */
#include "hub_http.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hub_out.h"
#include "hub_read.h"
#include "hub_store_view.h"
#include "hub_web.h"
#include "sj_cli.h"
#include "sj_down.h"
#include "sj_http.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_log.h"
#include "sj_login.h"
#include "sj_users.h"

#define S_HTTP_OK          200
#define S_HTTP_BAD_REQUEST 400
#define S_HTTP_NOT_FOUND   404
#define S_HTTP_ERROR       500
#define S_SILENT_MAX_S     (10LL * 365 * 24 * 3600) /* silent_after upper bound */

extern const sj_http_asset_t hub_web_assets[]; /* generated, see CMakeLists.txt */

struct hub_http {
    sj_http_t *http;    /* the server */
    hub_store_t *store; /* borrowed, read-only, used on the server's thread */
    hub_store_t *wst;   /* borrowed, writes: accounts, audit, actions */
    int64_t silent_s;   /* default silent_after */
    int open_ok;        /* loopback without a token: open while there is no account */
    sj_login_t *login;  /* the sessions */
};

static int
s_silent_parse(const char *text, int64_t *out)
{
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (!end || *end || v < 1 || v > S_SILENT_MAX_S) {
        return SJ_EINVAL;
    }
    *out = v;
    return SJ_OK;
}

static void
s_api_status(hub_http_t *self, sj_http_req_t *req)
{
    static const char *const allowed[] = {"silent_after", NULL};
    const char *v[1];
    char err[256] = "";
    int64_t silent_s = self->silent_s;
    if (sj_http_req_args(req, allowed, v, err, sizeof err) != SJ_OK) {
        sj_http_reply_error(req, S_HTTP_BAD_REQUEST, err);
        return;
    }
    if (v[0] && s_silent_parse(v[0], &silent_s) != SJ_OK) {
        snprintf(err, sizeof err, "silent_after '%.32s' is not a number of seconds", v[0]);
        sj_http_reply_error(req, S_HTTP_BAD_REQUEST, err);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        sj_http_reply_error(req, S_HTTP_ERROR, "out of memory");
        return;
    }
    hub_status_t view;
    int rc = hub_store_status(self->store, silent_s, &view);
    if (rc == SJ_OK) {
        rc = hub_out_status(&view, SJ_FMT_JSON, f);
    }
    hub_status_free(&view);
    if (fclose(f) != 0 && rc == SJ_OK) {
        rc = SJ_ENOMEM;
    }
    if (rc != SJ_OK) {
        sj_warn("http: /api/status: %s", sj_strerror(rc));
        sj_http_reply_error(req, S_HTTP_ERROR, sj_strerror(rc));
    } else {
        sj_http_reply(req, S_HTTP_OK, "application/json", text, len);
    }
    free(text);
}

/* The township's open cases (pending, accepted) as `township-hub cases
 * --format json` lists them; overdue=1: only the overdue ones (what
 * `cases --overdue --format json` prints). */
static void
s_api_cases(hub_http_t *self, sj_http_req_t *req)
{
    static const char *const allowed[] = {"overdue", NULL};
    const char *v[1];
    char err[256] = "";
    if (sj_http_req_args(req, allowed, v, err, sizeof err) != SJ_OK) {
        sj_http_reply_error(req, S_HTTP_BAD_REQUEST, err);
        return;
    }
    unsigned filter = HUB_CASES_OPEN;
    if (v[0] && strcmp(v[0], "1") == 0) {
        filter |= HUB_CASES_OVERDUE;
    } else if (v[0] && strcmp(v[0], "0") != 0) {
        snprintf(err, sizeof err, "overdue '%.32s' is not 0 or 1", v[0]);
        sj_http_reply_error(req, S_HTTP_BAD_REQUEST, err);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        sj_http_reply_error(req, S_HTTP_ERROR, "out of memory");
        return;
    }
    sj_table_t *t = NULL;
    int rc = hub_store_cases(self->store, filter, &t);
    if (rc == SJ_OK) {
        rc = hub_out_cases(t, SJ_FMT_JSON, f);
    }
    sj_table_destroy(&t);
    if (fclose(f) != 0 && rc == SJ_OK) {
        rc = SJ_ENOMEM;
    }
    if (rc != SJ_OK) {
        sj_warn("http: /api/cases: %s", sj_strerror(rc));
        sj_http_reply_error(req, S_HTTP_ERROR, sj_strerror(rc));
    } else {
        sj_http_reply(req, S_HTTP_OK, "application/json", text, len);
    }
    free(text);
}

/* Replies with what was written into the memory stream f (JSON; closed
 * here, so text and len are read through their pointers after), or the
 * error. */
static void
s_reply_stream(sj_http_req_t *req,
               const char *what,
               int rc,
               FILE *f,
               char **text_p,
               size_t *len_p,
               const char *err)
{
    if (fclose(f) != 0 && rc == SJ_OK) {
        rc = SJ_ENOMEM;
    }
    char *text = *text_p;
    size_t len = *len_p;
    if (rc != SJ_OK) {
        int status = rc == SJ_EINVAL      ? S_HTTP_BAD_REQUEST
                     : rc == SJ_ENOTFOUND ? S_HTTP_NOT_FOUND
                                          : S_HTTP_ERROR;
        if (status == S_HTTP_ERROR) {
            sj_warn("http: %s: %s", what, err && err[0] ? err : sj_strerror(rc));
        }
        sj_http_reply_error(req, status, err && err[0] ? err : sj_strerror(rc));
    } else {
        sj_http_reply(req, S_HTTP_OK, "application/json", text, len);
    }
    free(text);
}

static int
s_long_arg(const char *name, const char *v, long max, long *out, char *err, size_t err_size)
{
    char *end = NULL;
    long long n = v ? strtoll(v, &end, 10) : 0;
    if (v && (!end || *end || n < 0 || n > max)) {
        snprintf(err, err_size, "%s '%.32s' is not a number from 0 to %ld", name, v, max);
        return SJ_EINVAL;
    }
    *out = (long) n;
    return SJ_OK;
}

/* The township's matters (issue 15), as `township-hub list` or, with q,
 * `search` print them (JSON): station, category, outcome, from, until,
 * limit, offset. */
static void
s_api_matters(hub_http_t *self, sj_http_req_t *req)
{
    static const char *const allowed[] = {"station", "category", "outcome", "from", "until",
                                          "q",       "limit",    "offset",  NULL};
    const char *v[8];
    char err[512] = "";
    if (sj_http_req_args(req, allowed, v, err, sizeof err) != SJ_OK) {
        sj_http_reply_error(req, S_HTTP_BAD_REQUEST, err);
        return;
    }
    hub_read_filter_t fl = {.station = v[0] && v[0][0] ? v[0] : NULL,
                            .category = v[1] && v[1][0] ? v[1] : NULL,
                            .outcome = v[2] && v[2][0] ? v[2] : NULL,
                            .from = v[3] && v[3][0] ? v[3] : NULL,
                            .to = v[4] && v[4][0] ? v[4] : NULL,
                            .text = v[5] && v[5][0] ? v[5] : NULL};
    if (s_long_arg("limit", v[6], 1000, &fl.limit, err, sizeof err) != SJ_OK
        || s_long_arg("offset", v[7], 1000000000L, &fl.offset, err, sizeof err) != SJ_OK) {
        sj_http_reply_error(req, S_HTTP_BAD_REQUEST, err);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        sj_http_reply_error(req, S_HTTP_ERROR, "out of memory");
        return;
    }
    sj_table_t *t = NULL;
    int scanned = 0;
    int rc = hub_read_list(hub_store_db(self->store), &fl, &t, &scanned, err, sizeof err);
    if (rc == SJ_OK && sj_table_write(t, SJ_FMT_JSON, f) != SJ_OK) {
        rc = SJ_ENOMEM;
    }
    sj_table_destroy(&t);
    s_reply_stream(req, "/api/matters", rc, f, &text, &len, err);
}

/* One matter and its history (issue 15), as `township-hub show ID
 * --format json` prints it: id. */
static void
s_api_case(hub_http_t *self, sj_http_req_t *req)
{
    static const char *const allowed[] = {"id", NULL};
    const char *v[1];
    char err[512] = "";
    if (sj_http_req_args(req, allowed, v, err, sizeof err) != SJ_OK) {
        sj_http_reply_error(req, S_HTTP_BAD_REQUEST, err);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        sj_http_reply_error(req, S_HTTP_ERROR, "out of memory");
        return;
    }
    int rc =
        hub_read_show(hub_store_db(self->store), v[0] ? v[0] : "", SJ_FMT_JSON, f, err, sizeof err);
    s_reply_stream(req, "/api/case", rc, f, &text, &len, err);
}

/* /api/rates (issue 16 item 3): the four rates of the township's cases,
 * per station and in total (hub_store_rates), as JSON rows. */
static void
s_api_rates(hub_http_t *self, sj_http_req_t *req)
{
    static const char *const allowed[] = {NULL};
    const char *v[1];
    char err[256] = "";
    if (sj_http_req_args(req, allowed, v, err, sizeof err) != SJ_OK) {
        sj_http_reply_error(req, S_HTTP_BAD_REQUEST, err);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        sj_http_reply_error(req, S_HTTP_ERROR, "out of memory");
        return;
    }
    sj_table_t *t = NULL;
    int rc = hub_store_rates(self->store, &t);
    if (rc == SJ_OK) {
        rc = sj_table_write(t, SJ_FMT_JSON, f);
    }
    sj_table_destroy(&t);
    if (fclose(f) != 0 && rc == SJ_OK) {
        rc = SJ_ENOMEM;
    }
    if (rc != SJ_OK) {
        sj_warn("http: /api/rates: %s", sj_strerror(rc));
        sj_http_reply_error(req, S_HTTP_ERROR, sj_strerror(rc));
    } else {
        sj_http_reply(req, S_HTTP_OK, "application/json", text, len);
    }
    free(text);
}

static void
s_route(void *ctx, sj_http_req_t *req)
{
    hub_http_t *self = ctx;
    sqlite3 *wdb = hub_store_db(self->wst);
    sj_lang_t lang = sj_login_lang(req);
    sj_who_t who;
    int in = 0;
    if (sj_login_gate(self->login, wdb, req, lang, self->open_ok, &who, &in)) {
        return;
    }
    const char *path = sj_http_req_path(req);
    if (sj_http_req_is_post(req)) {
        hub_web_post(self->wst, req, in ? &who : NULL);
    } else if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
        if (!sj_http_reply_asset(req, "/index.html")) {
            sj_http_reply_error(req, S_HTTP_NOT_FOUND, "no such page");
        }
    } else if (strcmp(path, "/api/me") == 0) {
        hub_web_me(req, in ? &who : NULL);
    } else if (strcmp(path, "/audit") == 0) {
        sj_login_audit_page(wdb, req, in ? &who : NULL, "office", lang);
    } else if (strcmp(sj_http_req_path(req), "/api/status") == 0) {
        s_api_status(self, req);
    } else if (strcmp(sj_http_req_path(req), "/api/cases") == 0) {
        s_api_cases(self, req);
    } else if (strcmp(sj_http_req_path(req), "/api/rates") == 0) {
        s_api_rates(self, req);
    } else if (strcmp(sj_http_req_path(req), "/api/matters") == 0) {
        s_api_matters(self, req);
    } else if (strcmp(sj_http_req_path(req), "/api/case") == 0) {
        s_api_case(self, req);
    } else {
        sj_http_reply_error(req, S_HTTP_NOT_FOUND, "no such page");
    }
}

hub_http_t *
hub_http_new(hub_store_t *store,
             hub_store_t *wst,
             const char *addr,
             const char *token,
             int64_t silent_s,
             char *err,
             size_t err_size)
{
    hub_http_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    self->store = store;
    self->wst = wst;
    self->silent_s = silent_s > 0 ? silent_s : HUB_HTTP_SILENT_S;
    self->login = sj_login_new("乡镇调解办", "Township office", "/style.css");
    if (!self->login) {
        free(self);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    self->http = sj_http_new_accounts(addr ? addr : HUB_HTTP_DEFAULT_ADDR, token, hub_web_assets,
                                      s_route, self, err, err_size);
    if (!self->http) {
        sj_login_destroy(&self->login);
        free(self);
        return NULL;
    }
    self->open_ok = !token && sj_http_is_loopback(self->http);
    return self;
}

void
hub_http_destroy(hub_http_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    sj_http_destroy(&(*self_p)->http);
    sj_login_destroy(&(*self_p)->login);
    free(*self_p);
    *self_p = NULL;
}

uint16_t
hub_http_port(const hub_http_t *self)
{
    return sj_http_port(self->http);
}

/* ---- the serve command ---- */

static const char *const s_usage =
    N_("usage: township-hub serve [--http HOST:PORT] [--token-file FILE] [--silent-after S]\n"
       "                          [--undelivered-after HOURS]\n"
       "\n"
       "Serves the township office's status page: queue depth, forwarding lag to\n"
       "the county, the last county contact, and each station's last contact,\n"
       "reports, quarantined reports and backlog, silent stations first; Chinese\n"
       "and English. Everything the page needs is inside this binary. A separate\n"
       "process next to 'run'. People log in (/login) with their accounts ('user\n"
       "add'); role office also reads the audit trail (/audit). On a loopback\n"
       "address without --token-file and while the hub has no account, the page\n"
       "is open to read. JSON API:\n"
       "/api/status (as 'status --format json'), /api/cases (as 'cases'),\n"
       "/api/matters (as 'list', with q= as 'search') and /api/case?id=ID (as\n"
       "'show'). The page lists, filters, searches and pages the matters; a case\n"
       "opens with its history and prints on one A4 page. Prints 'ready URL' when serving;\n"
       "stops on SIGINT or SIGTERM.\n"
       "\n"
       "  --http HOST:PORT    where to listen (default 127.0.0.1:8081; port 0 = any);\n"
       "                      an address that is not loopback needs an account or\n"
       "                      --token-file\n"
       "  --token-file FILE   a token for read-only API clients: GET /api/... with the\n"
       "                      header 'Authorization: Bearer TOKEN' (never in a URL;\n"
       "                      16-256 characters A-Z a-z 0-9 . _ ~ -; file mode 0600)\n"
       "  --silent-after S    a station unheard for S seconds is SILENT (default 3600)\n"
       "  --undelivered-after HOURS\n"
       "                      a down item a station has not taken HOURS after it was\n"
       "                      made is listed as undelivered (未送达; 1..8760, default 24)\n"
       "  --data DIR          data directory (default ./var/township-hub)\n"
       "  --config FILE       INI file: these options as keys of [serve] (or the general\n"
       "                      ones in [township-hub]); flags win\n"
       "  --log-level LEVEL   error, warn, notice (default), info, debug\n");

enum { S_O_DATA = 1000, S_O_CONFIG, S_O_LOG, S_O_HTTP, S_O_TOKEN_FILE, S_O_SILENT, S_O_LATE };

/* serve's options (the keys of [serve], sj_cfg.h). */
const struct option hub_http_options[] = {
    {"data", required_argument, NULL, S_O_DATA},
    {"config", required_argument, NULL, S_O_CONFIG},
    {"log-level", required_argument, NULL, S_O_LOG},
    {"http", required_argument, NULL, S_O_HTTP},
    {"token-file", required_argument, NULL, S_O_TOKEN_FILE},
    {"silent-after", required_argument, NULL, S_O_SILENT},
    {"undelivered-after", required_argument, NULL, S_O_LATE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct {
    const char *data, *log_level, *http, *token_file, *silent, *late;
    int help;
} s_args_t;

static int
s_serve(const s_args_t *a)
{
    const char *addr = a->http ? a->http : HUB_HTTP_DEFAULT_ADDR;
    int64_t silent_s = HUB_HTTP_SILENT_S;
    if (a->silent && s_silent_parse(a->silent, &silent_s) != SJ_OK) {
        fprintf(stderr, _("township-hub: --silent-after '%s' is not a number of seconds\n"),
                a->silent);
        return 2;
    }
    /* issue 15 item 5: the page's undelivered list (/api/status) */
    if (a->late) {
        char *end = NULL;
        long long hours = strtoll(a->late, &end, 10);
        if (!end || end == a->late || *end || hours < 1 || hours > 8760) {
            fprintf(stderr,
                    _("township-hub: --undelivered-after '%s' is not a number of hours from 1 to"
                      " 8760\n"),
                    a->late);
            return 2;
        }
        sj_down_undelivered_after_set((int64_t) hours * 3600);
    }
    char err[512] = "";
    char token[SJ_HTTP_TOKEN_MAX + 1] = "";
    if (a->token_file
        && sj_http_token_load(a->token_file, token, sizeof token, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "township-hub: %s\n", err);
        return 2;
    }
    if (sj_http_addr_check(addr, 1, err, sizeof err) != SJ_OK) {
        fprintf(stderr, "township-hub: %s\n", err);
        sodium_memzero(token, sizeof token);
        return 2;
    }
    /* The store must exist (a read-only open says so); then one connection
     * serves (a second one would drop this process's POSIX locks on the
     * file when closed: see county_cli.c s_serve). */
    hub_store_t *st = hub_store_open(a->data, NULL, SJ_DB_READ, err, sizeof err);
    hub_store_close(&st);
    hub_store_t *wst = err[0] ? NULL : hub_store_open(a->data, NULL, SJ_DB_WRITE, err, sizeof err);
    if (!wst) {
        fprintf(stderr, "township-hub: %s\n", err);
        sodium_memzero(token, sizeof token);
        return 1;
    }
    st = wst;
    int accounts = sj_users_count(hub_store_db(wst));
    if (!a->token_file && !accounts && sj_http_addr_check(addr, 0, err, sizeof err) != SJ_OK) {
        fprintf(stderr,
                _("township-hub: --http %s is not a loopback address: serving it needs an account"
                  " ('township-hub user add NAME --role office') or --token-file FILE\n"),
                addr);
        hub_store_close(&wst);
        return 2;
    }
    sj_log_set_ident("township-hub", hub_store_code(st));
    sj_http_signals_block();
    hub_http_t *http =
        hub_http_new(st, wst, addr, a->token_file ? token : NULL, silent_s, err, sizeof err);
    sodium_memzero(token, sizeof token);
    if (!http) {
        fprintf(stderr, "township-hub: %s\n", err);
        hub_store_close(&wst);
        return 1;
    }
    char url[300];
    sj_http_url(addr, hub_http_port(http), url, sizeof url);
    sj_notice("township page on %s (%d accounts%s)", url, accounts,
              a->token_file ? ", token for read-only API clients" : "");
    printf("ready %s\n", url);
    fflush(stdout);
    int sig = sj_http_signals_wait();
    sj_notice("stopping (signal %d)", sig);
    hub_http_destroy(&http);
    hub_store_close(&wst);
    return 0;
}

int
hub_http_main(int argc, char **argv)
{
    s_args_t a;
    memset(&a, 0, sizeof a);
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", hub_http_options, NULL)) != -1) {
        switch (c) {
        case S_O_DATA:
            a.data = optarg;
            break;
        case S_O_CONFIG:
            break; /* read by sj_cfg_apply in main() */
        case S_O_LOG:
            a.log_level = optarg;
            break;
        case S_O_HTTP:
            a.http = optarg;
            break;
        case S_O_TOKEN_FILE:
            a.token_file = optarg;
            break;
        case S_O_SILENT:
            a.silent = optarg;
            break;
        case S_O_LATE:
            a.late = optarg;
            break;
        case 'h':
            a.help = 1;
            break;
        default:
            fprintf(stderr,
                    _("township-hub: serve does not take '%s' (see township-hub serve --help)\n"),
                    argv[optind - 1]);
            return 2;
        }
    }
    if (a.help) {
        fputs(_(s_usage), stdout);
        return 0;
    }
    if (optind + 1 < argc) {
        fprintf(stderr, _("township-hub: serve takes no argument '%s'\n"), argv[optind + 1]);
        return 2;
    }
    int rc = 2;
    if (!a.data) {
        a.data = "./var/township-hub";
    }
    if ((rc = sj_cli_start("township-hub", a.log_level)) != 0) {
        goto out;
    }
    rc = s_serve(&a);
out:
    return rc;
}
