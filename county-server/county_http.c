/* county_http: the dashboard's routes, see county_http.h.
 *
 * The API answers are made by the same functions as the CLI's JSON
 * (county_query_stats, county_status_write, county_cases_query) writing into an
 * open_memstream, or for /api/townships from the same stats result
 * (county_out_stats_json), so the page and `stats --cases --format json`
 * cannot disagree.
 * Parameters are checked by name first (unknown or repeated: 400), then by
 * the query functions (bad dates, codes, enum names, dims: 400 with their
 * reason, minus the CLI's "--"). */
#include "county_http.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "county_appoint_web.h"
#include "county_assess.h"
#include "county_cases.h"
#include "county_dept.h"
#include "county_figs.h"
#include "county_lock.h"
#include "county_out.h"
#include "county_own.h"
#include "county_query.h"
#include "county_status.h"
#include "county_store.h"
#include "county_store_view.h"
#include "county_web.h"
#include "sj_http.h"
#include "sj_ids.h"
#include "sj_log.h"
#include "sj_login.h"
#include "sj_users.h"

#define S_HTTP_OK          200
#define S_HTTP_BAD_REQUEST 400
#define S_HTTP_NOT_FOUND   404
#define S_HTTP_ERROR       500
#define S_SILENT_MAX_S     (10LL * 365 * 24 * 3600) /* silent_after upper bound */

extern const sj_http_asset_t county_web_assets[]; /* generated, see CMakeLists.txt */

struct county_http {
    sj_http_t *http;     /* the server */
    sqlite3 *db;         /* borrowed, read-only, used on the server's thread */
    county_store_t *wst; /* borrowed, writes: the actions */
    sqlite3 *wdb;        /* its connection: accounts, audit */
    int64_t silent_s;    /* default silent_after */
    int open_ok;         /* loopback without a token: open while there is no account */
    sj_login_t *login;   /* the sessions */
};

/* The filter parameters, in county_filter_t order after by. */
static const char *const s_stats_args[] = {"by",       "from",    "to",     "township",
                                           "station",  "channel", "kind",   "level",
                                           "category", "outcome", "source", NULL};
static const char *const s_townships_args[] = {"from",    "to",     "township",     "station",
                                               "channel", "kind",   "level",        "category",
                                               "outcome", "source", "silent_after", NULL};
static const char *const s_links_args[] = {"silent_after", NULL};
static const char *const s_assess_args[] = {"from", "to", "month", "year", NULL};
static const char *const s_cases_args[] = {"overdue", "open", "conflicts", "township",
                                           "source",  "from", "to",        NULL};

/* The clock's periods (county_http_periods; set before the server thread
 * starts, read only after). */
static sj_periods_t s_periods;
static int s_periods_set;

void
county_http_periods(const sj_periods_t *p)
{
    s_periods = *p;
    s_periods_set = 1;
}

static const sj_periods_t *
s_periods_of(void)
{
    return s_periods_set ? &s_periods : NULL;
}

/* values[first..] of the filter names above into a filter. */
static void
s_filter(const char **v, county_filter_t *f)
{
    memset(f, 0, sizeof *f);
    f->periods = s_periods_of();
    f->from = v[0];
    f->to = v[1];
    f->township = v[2];
    f->station = v[3];
    f->channel = v[4];
    f->kind = v[5];
    f->level = v[6];
    f->category = v[7];
    f->outcome = v[8];
    f->source = v[9];
}

/* The query functions' reasons name CLI options ("--from ..."); the API's
 * parameters have the same names without the dashes. */
static void
s_bad_request(sj_http_req_t *req, const char *reason)
{
    sj_http_reply_error(req, S_HTTP_BAD_REQUEST,
                        strncmp(reason, "--", 2) == 0 ? reason + 2 : reason);
}

static int
s_silent_arg(const char *text, int64_t dflt, int64_t *out, char *err, size_t err_size)
{
    if (!text) {
        *out = dflt;
        return SJ_OK;
    }
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (!end || *end || v < 1 || v > S_SILENT_MAX_S) {
        snprintf(err, err_size, "silent_after '%.32s' is not a number of seconds", text);
        return SJ_EINVAL;
    }
    *out = v;
    return SJ_OK;
}

/* Runs a writer into memory and answers its text as JSON. */
typedef struct {
    char *text;
    size_t len;
    FILE *f;
} s_mem_t;

static int
s_mem_open(s_mem_t *m)
{
    memset(m, 0, sizeof *m);
    m->f = open_memstream(&m->text, &m->len);
    return m->f ? SJ_OK : SJ_ENOMEM;
}

static int
s_mem_close(s_mem_t *m)
{
    int rc = fclose(m->f) == 0 ? SJ_OK : SJ_EIO;
    m->f = NULL;
    return rc;
}

static void
s_api_stats(county_http_t *self, sj_http_req_t *req)
{
    const char *v[12];
    char err[512] = "";
    if (sj_http_req_args(req, s_stats_args, v, err, sizeof err) != SJ_OK) {
        s_bad_request(req, err);
        return;
    }
    county_filter_t f;
    s_filter(v + 1, &f);
    s_mem_t m;
    if (s_mem_open(&m) != SJ_OK) {
        sj_http_reply_error(req, S_HTTP_ERROR, "out of memory");
        return;
    }
    int rc = county_query_stats_ex(self->db, v[0], &f, SJ_FMT_JSON, COUNTY_STATS_CASES, m.f, err,
                                   sizeof err);
    if (s_mem_close(&m) != SJ_OK && rc == SJ_OK) {
        rc = SJ_ENOMEM;
        snprintf(err, sizeof err, "out of memory");
    }
    if (rc == SJ_EINVAL) {
        s_bad_request(req, err);
    } else if (rc != SJ_OK) {
        sj_warn("http: /api/stats: %s", err);
        sj_http_reply_error(req, S_HTTP_ERROR, err[0] ? err : sj_strerror(rc));
    } else {
        sj_http_reply(req, S_HTTP_OK, "application/json", m.text, m.len);
    }
    free(m.text);
}

static void
s_iso_utc(int64_t ms, char out[32])
{
    time_t secs = (time_t) (ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static cJSON *
s_find_township(cJSON *rows, const char *code)
{
    cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(row, "township");
        if (cJSON_IsString(t) && strcmp(t->valuestring, code) == 0) {
            return row;
        }
    }
    return NULL;
}

static int
s_by_township(const void *a, const void *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(*(const cJSON *const *) a, "township");
    const cJSON *y = cJSON_GetObjectItemCaseSensitive(*(const cJSON *const *) b, "township");
    return strcmp(x->valuestring, y->valuestring);
}

/* Adds each hub's last contact (links of 9-digit codes) to the rows of
 * stats by township, adding zero rows for hubs with no matching matters
 * (within the township filter), and sorts the rows by code. */
static int
s_townships_links(county_http_t *self,
                  cJSON *rows,
                  const char *only,
                  int64_t silent_s,
                  char *err,
                  size_t err_size)
{
    static const char sql[] = "SELECT code, max(last_contact_ms) FROM links"
                              " WHERE length(code) = 9 GROUP BY code";
    sqlite3_stmt *st = NULL;
    int64_t now = sj_now_ms();
    int src = sqlite3_prepare_v2(self->db, sql, -1, &st, NULL);
    while (src == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *code = (const char *) sqlite3_column_text(st, 0);
        int64_t lc = sqlite3_column_int64(st, 1);
        if (!code || (only && strcmp(only, code) != 0)) {
            continue;
        }
        cJSON *row = s_find_township(rows, code);
        if (!row) {
            row = cJSON_CreateObject();
            /* the figures of stats for no matters: counts 0, rates and
             * the median null */
            int ok = row && cJSON_AddStringToObject(row, "township", code);
            for (size_t i = 0; ok && i < COUNTY_FIGS_NCOLS; i++) {
                ok =
                    (county_figs_decimal[i] ? cJSON_AddNullToObject(row, county_figs_names[i])
                                            : cJSON_AddNumberToObject(row, county_figs_names[i], 0))
                    != NULL;
            }
            if (!ok || !cJSON_AddItemToArray(rows, row)) {
                cJSON_Delete(row);
                sqlite3_finalize(st);
                snprintf(err, err_size, "out of memory");
                return SJ_ENOMEM;
            }
        }
        char when[32];
        s_iso_utc(lc, when);
        int64_t silent = (now - lc) / 1000;
        cJSON_AddStringToObject(row, "last_contact", when);
        cJSON_AddNumberToObject(row, "silent_s", (double) silent);
        cJSON_AddBoolToObject(row, "silent", silent >= silent_s);
    }
    sqlite3_finalize(st);
    if (src != SQLITE_OK) {
        snprintf(err, err_size, "cannot read the links: %s", sqlite3_errmsg(self->db));
        return SJ_EDB;
    }
    /* townships never heard from: null contact */
    int n = cJSON_GetArraySize(rows);
    cJSON **sorted = calloc((size_t) n + 1, sizeof(cJSON *));
    if (!sorted) {
        snprintf(err, err_size, "out of memory");
        return SJ_ENOMEM;
    }
    for (int i = n - 1; i >= 0; i--) {
        cJSON *row = cJSON_DetachItemFromArray(rows, i);
        if (!cJSON_GetObjectItemCaseSensitive(row, "last_contact")) {
            cJSON_AddNullToObject(row, "last_contact");
            cJSON_AddNullToObject(row, "silent_s");
            cJSON_AddNullToObject(row, "silent");
        }
        sorted[i] = row;
    }
    qsort(sorted, (size_t) n, sizeof(cJSON *), s_by_township);
    for (int i = 0; i < n; i++) {
        cJSON_AddItemToArray(rows, sorted[i]);
    }
    free(sorted);
    return SJ_OK;
}

static void
s_api_townships(county_http_t *self, sj_http_req_t *req)
{
    const char *v[12];
    char err[512] = "";
    int64_t silent_s = 0;
    if (sj_http_req_args(req, s_townships_args, v, err, sizeof err) != SJ_OK
        || s_silent_arg(v[10], self->silent_s, &silent_s, err, sizeof err) != SJ_OK) {
        s_bad_request(req, err);
        return;
    }
    county_filter_t f;
    s_filter(v, &f);
    county_stats_t *stats = NULL;
    int rc =
        county_stats_run(self->db, "township", &f, COUNTY_STATS_CASES, &stats, err, sizeof err);
    cJSON *root = NULL;
    char *text = NULL;
    if (rc == SJ_OK) {
        root = county_out_stats_json(stats);
        cJSON *rows = cJSON_GetObjectItemCaseSensitive(root, "rows");
        if (!cJSON_IsArray(rows)) {
            rc = SJ_ENOMEM;
            snprintf(err, sizeof err, "out of memory");
        } else {
            rc = s_townships_links(self, rows, f.township, silent_s, err, sizeof err);
        }
    }
    if (rc == SJ_OK) {
        cJSON_AddNumberToObject(root, "silent_after_s", (double) silent_s);
        text = cJSON_PrintUnformatted(root);
        if (!text) {
            rc = SJ_ENOMEM;
            snprintf(err, sizeof err, "out of memory");
        }
    }
    if (rc == SJ_EINVAL) {
        s_bad_request(req, err);
    } else if (rc != SJ_OK) {
        sj_warn("http: /api/townships: %s", err);
        sj_http_reply_error(req, S_HTTP_ERROR, err);
    } else {
        size_t n = strlen(text);
        text[n] = '\n'; /* the body is length-counted */
        sj_http_reply(req, S_HTTP_OK, "application/json", text, n + 1);
    }
    cJSON_free(text);
    cJSON_Delete(root);
    county_stats_destroy(&stats);
}

static void
s_api_links(county_http_t *self, sj_http_req_t *req)
{
    const char *v[2];
    char err[512] = "";
    int64_t silent_s = 0;
    if (sj_http_req_args(req, s_links_args, v, err, sizeof err) != SJ_OK
        || s_silent_arg(v[0], self->silent_s, &silent_s, err, sizeof err) != SJ_OK) {
        s_bad_request(req, err);
        return;
    }
    s_mem_t m;
    if (s_mem_open(&m) != SJ_OK) {
        sj_http_reply_error(req, S_HTTP_ERROR, "out of memory");
        return;
    }
    int rc = county_status_write(self->db, silent_s, NULL, SJ_FMT_JSON, m.f);
    if (s_mem_close(&m) != SJ_OK && rc == SJ_OK) {
        rc = SJ_ENOMEM;
    }
    if (rc != SJ_OK) {
        sj_warn("http: /api/links: %s", sj_strerror(rc));
        sj_http_reply_error(req, S_HTTP_ERROR, sj_strerror(rc));
    } else {
        sj_http_reply(req, S_HTTP_OK, "application/json", m.text, m.len);
    }
    free(m.text);
}

/* /api/assessment?from=&to=|month=|year= (issue 16 item 3): the assessment
 * table, `county-server report --assessment` as JSON: {"from", "to",
 * "today", "rows": [...]}, the total the last row (unit "total"). */
static void
s_api_assessment(county_http_t *self, sj_http_req_t *req)
{
    const char *v[4];
    char err[512] = "", today[11], from[11], to[11];
    sj_date_today(today);
    if (sj_http_req_args(req, s_assess_args, v, err, sizeof err) != SJ_OK
        || county_assess_period(v[0], v[1], v[2], v[3], today, from, to, err, sizeof err)
               != SJ_OK) {
        s_bad_request(req, err);
        return;
    }
    sj_table_t *t = NULL;
    cJSON *root = NULL;
    char *text = NULL;
    int rc = county_assess_table(self->db, from, to, today, s_periods_of(), &t, err, sizeof err);
    if (rc == SJ_OK) {
        root = cJSON_CreateObject();
        cJSON *rows = sj_table_to_json(t);
        int ok = root && rows && cJSON_AddStringToObject(root, "from", from)
                 && cJSON_AddStringToObject(root, "to", to)
                 && cJSON_AddStringToObject(root, "today", today);
        if (ok && cJSON_AddItemToObject(root, "rows", rows)) {
            rows = NULL; /* owned by root */
            text = cJSON_PrintUnformatted(root);
        }
        cJSON_Delete(rows);
        if (!text) {
            rc = SJ_ENOMEM;
            snprintf(err, sizeof err, "out of memory");
        }
    }
    if (rc != SJ_OK) {
        sj_warn("http: /api/assessment: %s", err);
        sj_http_reply_error(req, S_HTTP_ERROR, err);
    } else {
        size_t n = strlen(text);
        text[n] = '\n'; /* the body is length-counted */
        sj_http_reply(req, S_HTTP_OK, "application/json", text, n + 1);
    }
    cJSON_free(text);
    cJSON_Delete(root);
    sj_table_destroy(&t);
}

/* /api/signoff (issue 17 item 5): each township-month's state, for the
 * dashboard's small table (county_lock_signoff_write). */
static void
s_api_signoff(county_http_t *self, sj_http_req_t *req)
{
    s_mem_t m;
    if (s_mem_open(&m) != SJ_OK) {
        sj_http_reply_error(req, S_HTTP_ERROR, "out of memory");
        return;
    }
    int rc = county_lock_signoff_write(self->db, m.f);
    if (s_mem_close(&m) != SJ_OK && rc == SJ_OK) {
        rc = SJ_ENOMEM;
    }
    if (rc != SJ_OK) {
        sj_warn("http: /api/signoff: %s", sj_strerror(rc));
        sj_http_reply_error(req, S_HTTP_ERROR, sj_strerror(rc));
    } else {
        sj_http_reply(req, S_HTTP_OK, "application/json", m.text, m.len);
    }
    free(m.text);
}

/* A yes/no parameter: absent, "0" or "false" is 0; "1" or "true" is 1. */
static int
s_flag_arg(const char *name, const char *text, int *out, char *err, size_t err_size)
{
    *out = 0;
    if (!text || strcmp(text, "0") == 0 || strcmp(text, "false") == 0) {
        return SJ_OK;
    }
    if (strcmp(text, "1") == 0 || strcmp(text, "true") == 0) {
        *out = 1;
        return SJ_OK;
    }
    snprintf(err, err_size, "%s '%.32s' is not 1 or 0", name, text);
    return SJ_EINVAL;
}

/* /api/cases: exactly `county-server cases --format json` with the same
 * selection (county_cases_query). */
static void
s_api_cases(county_http_t *self, sj_http_req_t *req)
{
    const char *v[8];
    char err[512] = "";
    county_cases_filter_t f;
    memset(&f, 0, sizeof f);
    if (sj_http_req_args(req, s_cases_args, v, err, sizeof err) != SJ_OK
        || s_flag_arg("overdue", v[0], &f.overdue_only, err, sizeof err) != SJ_OK
        || s_flag_arg("open", v[1], &f.open_only, err, sizeof err) != SJ_OK
        || s_flag_arg("conflicts", v[2], &f.conflicts_only, err, sizeof err) != SJ_OK) {
        s_bad_request(req, err);
        return;
    }
    f.township = v[3];
    f.source = v[4];
    f.from = v[5];
    f.to = v[6];
    f.periods = s_periods_of();
    if (county_cases_check(&f, err, sizeof err) != SJ_OK) {
        s_bad_request(req, err);
        return;
    }
    s_mem_t m;
    if (s_mem_open(&m) != SJ_OK) {
        sj_http_reply_error(req, S_HTTP_ERROR, "out of memory");
        return;
    }
    int rc = county_cases_query(self->db, &f, SJ_FMT_JSON, m.f, err, sizeof err);
    if (s_mem_close(&m) != SJ_OK && rc == SJ_OK) {
        rc = SJ_ENOMEM;
        snprintf(err, sizeof err, "out of memory");
    }
    if (rc == SJ_EINVAL) {
        s_bad_request(req, err);
    } else if (rc != SJ_OK) {
        sj_warn("http: /api/cases: %s", err);
        sj_http_reply_error(req, S_HTTP_ERROR, err[0] ? err : sj_strerror(rc));
    } else {
        sj_http_reply(req, S_HTTP_OK, "application/json", m.text, m.len);
    }
    free(m.text);
}

/* /api/matters (issue 15): the matters that pass the filters (the stats
 * parameters), newest first; with q, those whose summary or notes contain
 * it (`county-server search`); limit (default 100). JSON rows as `search
 * --format json`. */
static const char *const s_matters_args[] = {"q",       "from",  "to",    "township", "station",
                                             "channel", "kind",  "level", "category", "outcome",
                                             "source",  "limit", NULL};

static void
s_api_matters(county_http_t *self, sj_http_req_t *req)
{
    const char *v[12];
    char err[512] = "";
    if (sj_http_req_args(req, s_matters_args, v, err, sizeof err) != SJ_OK) {
        s_bad_request(req, err);
        return;
    }
    county_filter_t f;
    s_filter(v + 1, &f);
    if (v[11]) {
        char *end = NULL;
        long n = strtol(v[11], &end, 10);
        if (!end || *end || n < 1 || n > 1000) {
            snprintf(err, sizeof err, "limit '%.32s' is not a number from 1 to 1000", v[11]);
            s_bad_request(req, err);
            return;
        }
        f.limit = n;
    }
    if (county_filter_check(&f, err, sizeof err) != SJ_OK) {
        s_bad_request(req, err);
        return;
    }
    const char *q = v[0] && v[0][0] ? v[0] : NULL; /* none: every matter that passes */
    sj_table_t *t = NULL;
    int scanned = 0;
    int rc = county_query_search_table(self->db, q, &f, &t, &scanned, err, sizeof err);
    s_mem_t m;
    if (rc == SJ_OK && s_mem_open(&m) != SJ_OK) {
        rc = SJ_ENOMEM;
    }
    if (rc == SJ_OK) {
        if (sj_table_write(t, SJ_FMT_JSON, m.f) != SJ_OK) {
            rc = SJ_ENOMEM;
        }
        if (s_mem_close(&m) != SJ_OK) {
            rc = SJ_ENOMEM;
        }
        if (rc != SJ_OK) {
            free(m.text);
        }
    }
    sj_table_destroy(&t);
    if (rc == SJ_EINVAL) {
        s_bad_request(req, err);
    } else if (rc != SJ_OK) {
        sj_warn("http: /api/matters: %s", err[0] ? err : sj_strerror(rc));
        sj_http_reply_error(req, S_HTTP_ERROR, err[0] ? err : sj_strerror(rc));
    } else {
        sj_http_reply(req, S_HTTP_OK, "application/json", m.text, m.len);
        free(m.text);
    }
}

/* /api/case?id=ID (issue 15): `county-server show ID --format json`, the
 * matter and its history; never the sealed personal fields. */
static void
s_api_case(county_http_t *self, sj_http_req_t *req)
{
    static const char *const allowed[] = {"id", NULL};
    const char *v[1];
    char err[512] = "";
    if (sj_http_req_args(req, allowed, v, err, sizeof err) != SJ_OK) {
        s_bad_request(req, err);
        return;
    }
    s_mem_t m;
    if (s_mem_open(&m) != SJ_OK) {
        sj_http_reply_error(req, S_HTTP_ERROR, "out of memory");
        return;
    }
    int rc = county_query_show(self->db, v[0] ? v[0] : "", SJ_FMT_JSON, m.f, err, sizeof err);
    if (s_mem_close(&m) != SJ_OK && rc == SJ_OK) {
        rc = SJ_ENOMEM;
        snprintf(err, sizeof err, "out of memory");
    }
    if (rc == SJ_EINVAL) {
        s_bad_request(req, err);
    } else if (rc == SJ_ENOTFOUND) {
        sj_http_reply_error(req, S_HTTP_NOT_FOUND, err);
    } else if (rc != SJ_OK) {
        sj_warn("http: /api/case: %s", err);
        sj_http_reply_error(req, S_HTTP_ERROR, err[0] ? err : sj_strerror(rc));
    } else {
        sj_http_reply(req, S_HTTP_OK, "application/json", m.text, m.len);
    }
    free(m.text);
}

static void
s_route(void *ctx, sj_http_req_t *req)
{
    county_http_t *self = ctx;
    const char *path = sj_http_req_path(req);
    sj_lang_t lang = sj_login_lang(req);
    sj_who_t who;
    int in = 0;
    if (sj_login_gate(self->login, self->wdb, req, lang, self->open_ok, &who, &in)) {
        return;
    }
    int post = sj_http_req_is_post(req);
    /* A department's account sees its own page and its cases only. */
    if (in && strcmp(who.role, "department") == 0 && !post) {
        if (strcmp(path, "/dept") == 0) {
            county_dept_page(self->wdb, req, &who, lang);
            return;
        }
        if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
            sj_http_reply_redirect(req, lang == SJ_LANG_EN ? "/dept?lang=en" : "/dept");
            return;
        }
        if (strcmp(path, "/api/me") != 0) {
            sj_http_reply_error(req, 403, "a department's account sees its cases on /dept");
            return;
        }
    }
    /* A leader's account sees its own cases and the agenda, read only
     * (issue 17; docs/MEETING.md). */
    if (in && strcmp(who.role, "leader") == 0 && !post) {
        if (strcmp(path, "/leader") == 0) {
            county_own_leader_page(self->db, req, &who, lang);
            return;
        }
        if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
            sj_http_reply_redirect(req, lang == SJ_LANG_EN ? "/leader?lang=en" : "/leader");
            return;
        }
        if (strcmp(path, "/api/me") != 0 && strcmp(path, "/agenda") != 0) {
            sj_http_reply_error(req, 403, "a leader's account sees its cases on /leader");
            return;
        }
    }
    if (post) {
        county_web_post(self->wst, req, in ? &who : NULL, lang);
        return;
    }
    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
        if (!sj_http_reply_asset(req, "/index.html")) {
            sj_http_reply_error(req, S_HTTP_NOT_FOUND, "no such page");
        }
    } else if (strcmp(path, "/api/me") == 0) {
        county_web_me(self->wdb, req, in ? &who : NULL);
    } else if (strcmp(path, "/audit") == 0) {
        county_web_audit(self->wdb, req, in ? &who : NULL, lang);
    } else if (strcmp(path, "/appointments") == 0) {
        county_appoint_page(self->db, req, in ? &who : NULL, lang);
    } else if (strcmp(path, "/api/stats") == 0) {
        s_api_stats(self, req);
    } else if (strcmp(path, "/api/townships") == 0) {
        s_api_townships(self, req);
    } else if (strcmp(path, "/api/links") == 0) {
        s_api_links(self, req);
    } else if (strcmp(path, "/api/assessment") == 0) {
        s_api_assessment(self, req);
    } else if (strcmp(path, "/api/signoff") == 0) {
        s_api_signoff(self, req);
    } else if (strcmp(path, "/api/cases") == 0) {
        s_api_cases(self, req);
    } else if (strcmp(path, "/api/matters") == 0) {
        s_api_matters(self, req);
    } else if (strcmp(path, "/api/case") == 0) {
        s_api_case(self, req);
    } else if (strcmp(path, "/agenda") == 0) {
        county_own_agenda_page(self->db, county_store_origin(self->wst), req);
    } else {
        sj_http_reply_error(req, S_HTTP_NOT_FOUND, "no such page");
    }
}

county_http_t *
county_http_new(sqlite3 *db,
                county_store_t *wst,
                const char *addr,
                const char *token,
                int64_t silent_s,
                char *err,
                size_t err_size)
{
    assert(db);
    assert(wst);
    county_http_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    self->db = db;
    self->wst = wst;
    self->wdb = county_store_db(wst);
    self->silent_s = silent_s > 0 ? silent_s : COUNTY_HTTP_SILENT_S;
    self->login = sj_login_new("县调访中心", "County petition office", "/style.css");
    if (!self->login) {
        free(self);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    self->http = sj_http_new_accounts(addr ? addr : COUNTY_HTTP_DEFAULT_ADDR, token,
                                      county_web_assets, s_route, self, err, err_size);
    if (!self->http) {
        sj_login_destroy(&self->login);
        free(self);
        return NULL;
    }
    self->open_ok = !token && sj_http_is_loopback(self->http);
    return self;
}

void
county_http_destroy(county_http_t **self_p)
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
county_http_port(const county_http_t *self)
{
    return sj_http_port(self->http);
}
