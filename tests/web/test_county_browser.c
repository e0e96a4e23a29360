/* Does the dashboard, loaded by a real browser from the real server, show the figures of `stats
 * --format json` and switch language? */
#define _XOPEN_SOURCE 700 /* nftw */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "county_testdb.h"
#include "hub_store.h"
#include "hub_store_view.h"
#include "sj_ids.h"
#include "web_harness.h"

#define S_SKIP            77      /* CTest SKIP_RETURN_CODE */
#define S_BROWSER_TIMEOUT 90      /* seconds for one chromium run */
#define S_BUDGET_MS       "20000" /* virtual time for the page's fetches */

#define ID(n) "01900000-0000-7000-8000-0000000000" #n

static const county_testdb_matter_t s_data[] = {
    {ID(01), "2024-01-01", "230523100201", 1, 2, 12, 3, 1, 2, 1, "a", NULL, 0},
    {ID(02), "2024-01-20", "230523100201", 1, 1, 3, 3, 1, 3, 2, "b", NULL, 0},
    {ID(03), "2024-02-03", "230523100202", 2, 1, 1, 3, 3, 4, 3, "c", NULL, 0},
    {ID(04), "2024-02-14", "230523101201", 3, 1, 1, 2, 5, 2, 1, "d", NULL, 0},
    {ID(05), "2024-03-08", "230523101201", 1, 2, 30, 4, 4, 3, 2, "e", NULL, 0},
    {ID(06), "2024-03-09", "230523101202", 1, 1, 2, 4, 1, 4, 3, "f", NULL, 0},
    {ID(07), "2024-04-01", "230523102201", 4, 1, 1, 3, 2, 1, 4, "g", NULL, 0},
    {ID(08), "2024-05-05", "230523102201", 1, 2, 8, 5, 2, 3, 4, "h", NULL, 0},
    {ID(09), "2024-06-30", "230523100203", 1, 2, 6, 6, 4, 3, 3, "i", NULL, 0},
    {ID(10), "2024-12-31", "230523102202", 3, 1, 1, 2, 3, 4, 3, "j", NULL, 0},
};
#define S_NDATA (sizeof s_data / sizeof s_data[0])

/* Assignments (plain SQL into the v3 table): 02 (accepted) and 07
 * (pending) past due, 05 (accepted) due far ahead, 03 (closed) past due but
 * concluded, 08 (accepted) re-assigned with a far due date. */
static const struct {
    const char *id, *assignee, *due;
    long long created_ms;
} s_assign[] = {
    {ID(02), "230523100201", "2020-01-01", 1000}, {ID(07), "230523102", "2020-06-01", 1000},
    {ID(05), "230523101", "2999-12-31", 1000},    {ID(03), "230523100", "2020-01-01", 1000},
    {ID(08), "230523102201", "2020-01-01", 1000}, {ID(08), "230523102", "2999-01-01", 2000},
};
#define S_NASSIGN (sizeof s_assign / sizeof s_assign[0])

static char s_chromium[256]; /* the browser found on PATH */

typedef struct {
    county_testdb_t *db;
    web_server_t srv;
    char dir[64];     /* screenshots and browser profiles; kept */
    char hub_dir[96]; /* the township hub's store, in dir */
    hub_store_t *hub; /* kept open for writing, as `run` would */
    web_server_t hub_srv;
} s_fx_t;

static int
s_find_browser(void)
{
    const char *env = getenv("SANJI_CHROMIUM");
    const char *names[] = {"chromium", "chromium-browser", "google-chrome"};
    if (env && *env) {
        snprintf(s_chromium, sizeof s_chromium, "%s", env);
        return access(s_chromium, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path ? path : "/usr/bin:/bin");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char copy[1024];
        snprintf(copy, sizeof copy, "%s", buf);
        for (char *save = NULL, *d = strtok_r(copy, ":", &save); d;
             d = strtok_r(NULL, ":", &save)) {
            snprintf(s_chromium, sizeof s_chromium, "%s/%s", d, names[i]);
            if (access(s_chromium, X_OK) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

static int
s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

/* Runs chromium headless on url with extra (e.g. "--dump-dom"); returns
 * its stdout (caller frees), or NULL when the browser itself failed. */
static char *
s_browser(s_fx_t *fx, const char *url, const char *extra, const char *extra2)
{
    char profile[128];
    snprintf(profile, sizeof profile, "%s/profile-XXXXXX", fx->dir);
    assert_non_null(mkdtemp(profile));
    char user_data[160], log[128];
    snprintf(user_data, sizeof user_data, "--user-data-dir=%s", profile);
    snprintf(log, sizeof log, "%s/chromium.log", fx->dir);
    char *argv[] = {s_chromium,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--hide-scrollbars",
                    user_data,
                    "--virtual-time-budget=" S_BUDGET_MS,
                    (char *) extra,
                    (char *) extra2,
                    (char *) url,
                    NULL};
    if (!extra2) { /* keep url last */
        argv[12] = (char *) url;
        argv[13] = NULL;
    }
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
        }
        close(fds[0]);
        close(fds[1]);
        alarm(S_BROWSER_TIMEOUT);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    ssize_t got;
    while ((got = read(fds[0], out + len, cap - len - 1)) > 0) {
        len += (size_t) got;
        if (len + 4096 > cap) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
    }
    close(fds[0]);
    out[len] = '\0';
    int status = 0;
    waitpid(pid, &status, 0);
    nftw(profile, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* The text of attribute attr of the element with id (in a dumped DOM). */
static int
s_attr(const char *dom, const char *id, const char *attr, char *out, size_t size)
{
    char key[96];
    snprintf(key, sizeof key, "id=\"%s\"", id);
    const char *el = strstr(dom, key);
    if (!el) {
        return 0;
    }
    const char *start = el;
    while (start > dom && *start != '<') {
        start--;
    }
    const char *end = strchr(el, '>');
    char want[64];
    snprintf(want, sizeof want, " %s=\"", attr);
    const char *a = strstr(start, want);
    if (!a || !end || a > end) {
        return 0;
    }
    a += strlen(want);
    const char *q = strchr(a, '"');
    snprintf(out, size, "%.*s", (int) (q - a), a);
    return 1;
}

/* The text content of the element with id (no nested tags). */
static int
s_text(const char *dom, const char *id, char *out, size_t size)
{
    char key[96];
    snprintf(key, sizeof key, "id=\"%s\"", id);
    const char *el = strstr(dom, key);
    const char *gt = el ? strchr(el, '>') : NULL;
    const char *lt = gt ? strchr(gt, '<') : NULL;
    if (!lt) {
        return 0;
    }
    snprintf(out, size, "%.*s", (int) (lt - gt - 1), gt + 1);
    return 1;
}

/* Hub 100 heard 10 s ago, hub 102 two hours ago, station 230523101201
 * (attached directly) three hours ago: two silent links. */
static void
s_links(sqlite3 *db)
{
    char sql[1024];
    long long now = (long long) time(NULL) * 1000;
    snprintf(sql, sizeof sql,
             "INSERT INTO links(code, epoch, first_seen_ms, last_contact_ms, queue_depth)"
             " VALUES('230523100', randomblob(16), %lld, %lld, 0),"
             " ('230523102', randomblob(16), %lld, %lld, 3),"
             " ('230523101201', randomblob(16), %lld, %lld, 1)",
             now - 86400000, now - 10000, now - 86400000, now - 7200000, now - 86400000,
             now - 10800000);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg ? msg : "?");
    }
    /* Issue 15: place names, and a down item hub 102 has not taken for two
     * days (undelivered). */
    snprintf(sql, sizeof sql,
             "INSERT INTO places(code, name, at_ms) VALUES('230523100', '宝清镇', 0),"
             " ('230523102', '七星泡镇', 0);"
             "INSERT INTO down(child, seq, event_id, item, created_ms)"
             " VALUES('230523102', 1, randomblob(16), x'00', %lld)",
             now - 2 * 86400000LL);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg ? msg : "?");
    }
}

/* Township 230523100 as its hub sees it: station 201 heard 5 s ago, 202
 * two hours ago (4 reports waiting at the station), 203 a day ago; 6
 * events, 4 acknowledged by the county. */
static void
s_hub_fill(sqlite3 *db)
{
    long long now = (long long) sj_now_ms();
    char sql[2048];
    snprintf(sql, sizeof sql,
             "INSERT INTO links(code, epoch, first_seen_ms, last_contact_ms, queue_depth)"
             " VALUES('230523100201', randomblob(16), %lld, %lld, 0),"
             " ('230523100202', randomblob(16), %lld, %lld, 4),"
             " ('230523100203', randomblob(16), %lld, %lld, 0);"
             "INSERT INTO events(id, origin, epoch, origin_seq, via, received_ms, raw) VALUES"
             " (randomblob(16), '230523100201', x'01', 1, '230523100201', %lld, x'00'),"
             " (randomblob(16), '230523100201', x'01', 2, '230523100201', %lld, x'00'),"
             " (randomblob(16), '230523100202', x'02', 1, '230523100202', %lld, x'00'),"
             " (randomblob(16), '230523100203', x'03', 1, '230523100203', %lld, x'00'),"
             " (randomblob(16), '230523100202', x'02', 2, '230523100202', %lld, x'00'),"
             " (randomblob(16), '230523100201', x'01', 3, '230523100201', %lld, x'00');",
             now - 86400000, now - 5000, now - 86400000, now - 7200000, now - 86400000,
             now - 86400000, now - 90000000, now - 80000000, now - 70000000, now - 60000000,
             now - 600000, now - 5000);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg ? msg : "?");
    }
    /* Two open cases: one assigned and due far ahead, one overdue. */
    static const char cases[] =
        "INSERT INTO cases(id, origin, reported_outcome, outcome, updated_ms) VALUES"
        " (x'0000000000000000000000000000000a', '230523100201', 1, 3, 0),"
        " (x'0000000000000000000000000000000b', '230523100202', 1, 1, 0);"
        "INSERT INTO assignments(id, case_id, assignee, due_on, origin, created_ms, note,"
        " officer, summary, item, received_ms) VALUES"
        " (randomblob(16), x'0000000000000000000000000000000a', '230523100201', '2999-01-01',"
        "  '230523', 1, '', '', 's', x'00', 1),"
        " (randomblob(16), x'0000000000000000000000000000000b', '230523100202', '2001-01-01',"
        "  '230523', 1, '', '', 's', x'00', 1);";
    if (sqlite3_exec(db, cases, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", cases, msg ? msg : "?");
    }
    /* Issue 15: the names the county sent, and a down item station 202 has
     * not taken for two days. */
    char more[512];
    snprintf(more, sizeof more,
             "INSERT INTO places(code, name, at_ms) VALUES('230523100', '宝清镇', 0),"
             " ('230523100201', '东村', 0);"
             "INSERT INTO down(child, seq, event_id, item, created_ms)"
             " VALUES('230523100202', 1, randomblob(16), x'00', %lld)",
             now - 2 * 86400000LL);
    if (sqlite3_exec(db, more, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", more, msg ? msg : "?");
    }
    assert_int_equal(sj_db_meta_set_int(db, "up_acked", 4), SJ_OK);
    assert_int_equal(sj_db_meta_set_int(db, "county_contact_ms", now - 30000), SJ_OK);
}

static int
s_setup(void **state)
{
    if (!s_find_browser()) {
        print_message("SKIP: no chromium on PATH (apt install chromium, or set SANJI_CHROMIUM)\n");
        exit(S_SKIP);
    }
    s_fx_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/sanji-browser-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    fx->db = county_testdb_new();
    county_testdb_insert(fx->db, s_data, S_NDATA);
    for (size_t i = 0; i < S_NASSIGN; i++) {
        county_testdb_assign(fx->db->db, s_assign[i].id, s_assign[i].assignee, s_assign[i].due,
                             s_assign[i].created_ms);
    }
    s_links(fx->db->db);
    char *argv[] = {COUNTY_BIN, "serve", "--data", fx->db->dir, "--http", "127.0.0.1:0", NULL};
    web_server_start(&fx->srv, argv);
    snprintf(fx->hub_dir, sizeof fx->hub_dir, "%s/hub", fx->dir);
    char err[256] = "";
    fx->hub = hub_store_open(fx->hub_dir, "230523100", SJ_DB_WRITE, err, sizeof err);
    if (!fx->hub) {
        fail_msg("hub_store_open: %s", err);
    }
    s_hub_fill(hub_store_db(fx->hub));
    char *hub_argv[] = {HUB_BIN, "serve", "--data", fx->hub_dir, "--http", "127.0.0.1:0", NULL};
    web_server_start(&fx->hub_srv, hub_argv);
    /* Can this browser run here at all? Otherwise skip, saying why. */
    char *probe = s_browser(fx, "about:blank", "--dump-dom", NULL);
    if (!probe) {
        print_message("SKIP: %s does not run here (see %s/chromium.log)\n", s_chromium, fx->dir);
        web_server_stop(&fx->srv);
        web_server_stop(&fx->hub_srv);
        hub_store_close(&fx->hub);
        county_testdb_destroy(&fx->db);
        exit(S_SKIP);
    }
    free(probe);
    *state = fx;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fx_t *fx = *state;
    web_server_stop(&fx->srv);
    web_server_stop(&fx->hub_srv);
    hub_store_close(&fx->hub);
    nftw(fx->hub_dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    county_testdb_destroy(&fx->db);
    print_message("browser test files (screenshots, chromium.log): %s\n", fx->dir);
    free(fx);
    return 0;
}

/* total.items and total.persons of `stats --format json` with flags. */
static void
s_cli_totals(s_fx_t *fx, char *const *flags, long *items, long *persons)
{
    char *argv[16] = {COUNTY_BIN, "stats", "--data", fx->db->dir, "--format", "json", "--cases"};
    size_t n = 7;
    for (size_t i = 0; flags && flags[i]; i++) {
        argv[n++] = flags[i];
    }
    argv[n] = NULL;
    int status = -1;
    char *text = web_run(argv, &status);
    assert_int_equal(status, 0);
    cJSON *root = cJSON_Parse(text);
    cJSON *total = cJSON_GetObjectItem(root, "total");
    *items = (long) cJSON_GetObjectItem(total, "items")->valuedouble;
    *persons = (long) cJSON_GetObjectItem(total, "persons")->valuedouble;
    cJSON_Delete(root);
    free(text);
}

static char *
s_dump_at(s_fx_t *fx, const web_server_t *srv, const char *query)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", srv->url, query);
    char *dom = s_browser(fx, url, "--dump-dom", NULL);
    if (!dom) {
        fail_msg("chromium failed on %s (see %s/chromium.log)", url, fx->dir);
    }
    char v[64];
    if (!s_attr(dom, "status", "role", v, sizeof v) || !strstr(dom, "data-state=\"ready\"")) {
        fail_msg("the page did not get ready: %.2000s", dom);
    }
    return dom;
}

static char *
s_dump(s_fx_t *fx, const char *query)
{
    return s_dump_at(fx, &fx->srv, query);
}

static void
s_check_totals(const char *dom, long items, long persons)
{
    char v[64];
    assert_true(s_attr(dom, "total-items", "data-value", v, sizeof v));
    assert_int_equal(strtol(v, NULL, 10), items);
    assert_true(s_attr(dom, "total-persons", "data-value", v, sizeof v));
    assert_int_equal(strtol(v, NULL, 10), persons);
    /* the shown text is the same number, with separators */
    char text[64], digits[64];
    assert_true(s_text(dom, "total-items", text, sizeof text));
    size_t n = 0;
    for (const char *p = text; *p && n < sizeof digits - 1; p++) {
        if (*p >= '0' && *p <= '9') {
            digits[n++] = *p;
        }
    }
    digits[n] = '\0';
    assert_int_equal(strtol(digits, NULL, 10), items);
}

static void
test_county_browser_totals_equal_stats(void **state)
{
    s_fx_t *fx = *state;
    long items = 0, persons = 0;
    s_cli_totals(fx, NULL, &items, &persons);
    assert_int_equal(items, 10);
    char *dom = s_dump(fx, "?lang=zh");
    s_check_totals(dom, items, persons);
    /* one township row per township with matters */
    size_t rows = 0;
    for (const char *p = dom; (p = strstr(p, "<tr data-township=")) != NULL; p++) {
        rows++;
    }
    assert_int_equal(rows, 3);
    /* silent hubs and stations: the station and hub 102 */
    char v[64];
    assert_true(s_attr(dom, "total-silent", "data-value", v, sizeof v));
    assert_string_equal(v, "2");
    assert_non_null(strstr(dom, "<td>230523101201</td>"));
    /* Issue 15: names beside codes; the undelivered list */
    assert_non_null(strstr(dom, "<td>230523100 宝清镇</td>"));
    assert_non_null(strstr(dom, ">230523102 七星泡镇</option>"));
    const char *late = strstr(dom, "<tr data-child=\"230523102\">");
    assert_non_null(late);
    assert_non_null(strstr(late, "<td>230523102 七星泡镇</td>"));
    free(dom);
}

/* Runs `county-server CMD --data DIR --format json FLAGS...`; parsed. */
static cJSON *
s_cli_json(s_fx_t *fx, const char *cmd, char *const *flags)
{
    char *argv[16] = {COUNTY_BIN, (char *) cmd, "--data", fx->db->dir, "--format", "json"};
    size_t n = 6;
    for (size_t i = 0; flags && flags[i]; i++) {
        argv[n++] = flags[i];
    }
    argv[n] = NULL;
    int status = -1;
    char *text = web_run(argv, &status);
    assert_int_equal(status, 0);
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    free(text);
    return root;
}

/* The number in the cell data-col=col of the township's row. */
static long
s_township_cell(const char *dom, const char *code, const char *col)
{
    char key[96], want[64];
    snprintf(key, sizeof key, "<tr data-township=\"%s\">", code);
    snprintf(want, sizeof want, "data-col=\"%s\">", col);
    const char *row = strstr(dom, key);
    assert_non_null(row);
    const char *end = strstr(row, "</tr>");
    const char *c = strstr(row, want);
    assert_non_null(c);
    assert_true(c < end);
    return strtol(c + strlen(want), NULL, 10);
}

/* Open and overdue figures and the overdue list, as rendered, equal
 * `stats --format json` and `cases --overdue --format json`. */
static void
test_county_browser_open_and_overdue(void **state)
{
    s_fx_t *fx = *state;
    cJSON *stats = s_cli_json(fx, "stats", (char *[]){"--cases", NULL});
    cJSON *total = cJSON_GetObjectItem(stats, "total");
    long open = (long) cJSON_GetObjectItem(total, "open")->valuedouble;
    long overdue = (long) cJSON_GetObjectItem(total, "overdue")->valuedouble;
    cJSON *cases = s_cli_json(fx, "cases", (char *[]){"--overdue", NULL});
    assert_int_equal(cJSON_GetArraySize(cases), overdue);
    /* the data: 5 open (07 pending; 02, 05, 08, 09 accepted), all 5
     * overdue at some stage (received in 2024, no change since: the
     * acceptance or the conclusion is past due; docs/CLOCK.md §5) */
    long want_open = 0;
    for (size_t i = 0; i < S_NDATA; i++) {
        want_open += s_data[i].outcome == 1 || s_data[i].outcome == 3;
    }
    assert_int_equal(open, want_open);
    assert_int_equal(overdue, 5);

    char *dom = s_dump(fx, "?lang=en");
    char v[64];
    assert_true(s_attr(dom, "total-open", "data-value", v, sizeof v));
    assert_int_equal(strtol(v, NULL, 10), open);
    assert_true(s_attr(dom, "total-overdue", "data-value", v, sizeof v));
    assert_int_equal(strtol(v, NULL, 10), overdue);
    assert_true(s_attr(dom, "total-closure-rate", "data-value", v, sizeof v));
    assert_true(fabs(strtod(v, NULL) - cJSON_GetObjectItem(total, "closure_rate")->valuedouble)
                < 1e-9);
    /* one overdue row per overdue case, each with the due date that passed
     * first (the 交办 one or a stage's) */
    cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        char key[96];
        snprintf(key, sizeof key, "<tr data-case=\"%s\">",
                 cJSON_GetObjectItem(c, "case_id")->valuestring);
        const char *row = strstr(dom, key);
        assert_non_null(row);
        static const char *const pairs[][2] = {{"due_on", "days_left"},
                                               {"accept_due", "accept_left"},
                                               {"conclude_due", "conclude_left"},
                                               {"review_due", "review_left"}};
        const char *first = NULL;
        double least = 0;
        for (size_t k = 0; k < 4; k++) {
            const cJSON *l = cJSON_GetObjectItem(c, pairs[k][1]);
            if (cJSON_IsNumber(l) && l->valuedouble < 0 && (!first || l->valuedouble < least)) {
                first = cJSON_GetObjectItem(c, pairs[k][0])->valuestring;
                least = l->valuedouble;
            }
        }
        assert_non_null(first);
        char due[48];
        snprintf(due, sizeof due, "<td>%s</td>", first);
        const char *d = strstr(row, due);
        assert_non_null(d);
        assert_true(d < strstr(row, "</tr>"));
    }
    size_t rows = 0;
    for (const char *p = dom; (p = strstr(p, "<tr data-case=")) != NULL; p++) {
        rows++;
    }
    assert_int_equal(rows, (size_t) overdue);
    /* the township table's open and overdue columns: stats --by township */
    cJSON *by = s_cli_json(fx, "stats", (char *[]){"--by", "township", "--cases", NULL});
    cJSON *row;
    cJSON_ArrayForEach(row, cJSON_GetObjectItem(by, "rows"))
    {
        const char *code = cJSON_GetObjectItem(row, "township")->valuestring;
        assert_int_equal(s_township_cell(dom, code, "open"),
                         (long) cJSON_GetObjectItem(row, "open")->valuedouble);
        assert_int_equal(s_township_cell(dom, code, "overdue"),
                         (long) cJSON_GetObjectItem(row, "overdue")->valuedouble);
    }
    free(dom);
    cJSON_Delete(by);
    cJSON_Delete(cases);
    cJSON_Delete(stats);
}

static void
test_county_browser_filters_from_the_url(void **state)
{
    s_fx_t *fx = *state;
    long items = 0, persons = 0;
    s_cli_totals(
        fx,
        (char *[]){"--from", "2024-02-01", "--to", "2024-06-30", "--township", "230523101", NULL},
        &items, &persons);
    assert_int_equal(items, 3);
    char *dom = s_dump(fx, "?from=2024-02-01&to=2024-06-30&township=230523101&lang=en");
    s_check_totals(dom, items, persons);
    assert_non_null(strstr(dom, "<option value=\"230523101\" selected"));
    free(dom);
}

static void
test_county_browser_language_switch(void **state)
{
    s_fx_t *fx = *state;
    char zh[128], en[128];
    char *dom = s_dump(fx, "?lang=zh");
    assert_true(s_text(dom, "title", zh, sizeof zh));
    assert_non_null(strstr(dom, "<html lang=\"zh-CN\""));
    free(dom);
    dom = s_dump(fx, "?lang=en");
    assert_true(s_text(dom, "title", en, sizeof en));
    assert_non_null(strstr(dom, "<html lang=\"en\""));
    free(dom);
    assert_string_equal(zh, "县调访中心 — 信访数据");
    assert_string_equal(en, "County mediation centre — petitions");
}

/* The township page: the figures of `township-hub status`, silent stations
 * first and marked, the open cases with the overdue one first and marked,
 * in both languages. */
static void
test_hub_browser_status_page(void **state)
{
    s_fx_t *fx = *state;
    char v[128];
    char *dom = s_dump_at(fx, &fx->hub_srv, "?lang=en");
    assert_true(s_attr(dom, "queue-depth", "data-value", v, sizeof v));
    assert_string_equal(v, "2");
    assert_true(s_attr(dom, "events", "data-value", v, sizeof v));
    assert_string_equal(v, "6");
    assert_true(s_attr(dom, "forwarded", "data-value", v, sizeof v));
    assert_string_equal(v, "4");
    assert_true(s_text(dom, "township", v, sizeof v));
    assert_string_equal(v, "230523100 宝清镇"); /* issue 15: its name */
    assert_non_null(strstr(dom, "<td>230523100201 东村</td>"));
    assert_non_null(strstr(dom, "<tr data-child=\"230523100202\">"));
    const char *a = strstr(dom, "<tr data-station=\"230523100203\" class=\"silent\">");
    const char *b = strstr(dom, "<tr data-station=\"230523100202\" class=\"silent\">");
    const char *c = strstr(dom, "<tr data-station=\"230523100201\" class=\"\">");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_true(a < b && b < c); /* silent first */
    assert_true(s_attr(dom, "open-count", "data-value", v, sizeof v));
    assert_string_equal(v, "2");
    assert_true(s_attr(dom, "overdue-count", "data-value", v, sizeof v));
    assert_string_equal(v, "1");
    const char *late = strstr(dom, "<tr data-case=\"00000000-0000-0000-0000-00000000000b\""
                                   " class=\"late\">");
    const char *ontime = strstr(dom, "<tr data-case=\"00000000-0000-0000-0000-00000000000a\""
                                     " class=\"\">");
    assert_non_null(late);
    assert_non_null(ontime);
    assert_true(late < ontime); /* overdue first */
    assert_non_null(strstr(dom, "<td>accepted</td>"));
    free(dom);
    dom = s_dump_at(fx, &fx->hub_srv, "?lang=zh");
    assert_non_null(strstr(dom, "<td>已受理</td>"));
    assert_non_null(strstr(dom, ">超期<"));
    assert_non_null(strstr(dom, "<td class=\"silent\">失联</td>"));
    free(dom);
}

static int
s_is_png(const char *path)
{
    unsigned char head[8] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) {
        return 0;
    }
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return n == 8 && memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0;
}

/* Issue 17 item 5: the sign-off table. Townships approve 2024-01 (100),
 * 2024-03 (101) and 2024-04 (102); the county locks 2024-03 and 2024-04
 * (the real command); a void of matter 07 (102, 2024-04) after the lock
 * makes 102's 2024-04 amended. Each row's state, zh and en. */
static void
test_county_browser_signoff(void **state)
{
    s_fx_t *fx = *state;
    char *msg = NULL;
    const char *sql =
        "INSERT INTO approvals(eid, township, month, officer, account, created_ms) VALUES"
        " (900001, '230523100', '2024-01', '王主任', '', 1709280000000),"
        " (900002, '230523101', '2024-03', '赵主任', '', 1709280000000),"
        " (900003, '230523102', '2024-04', '钱主任', '', 1709280000000)";
    if (sqlite3_exec(fx->db->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg ? msg : "?");
    }
    const char *months[] = {"2024-03", "2024-04"};
    for (size_t i = 0; i < 2; i++) {
        char *argv[] = {COUNTY_BIN,         "lock",      "--data", fx->db->dir, "--month",
                        (char *) months[i], "--officer", "李科长", NULL};
        int status = -1;
        free(web_run(argv, &status));
        assert_int_equal(status, 0);
    }
    /* a void of 07 stored after the locks (the fixes row is what counts) */
    sql = "INSERT INTO fixes(eid, case_id, type, applied) SELECT coalesce(max(eid), 0) + 1000,"
          " x'01900000000070008000000000000007', 6, 1 FROM events";
    if (sqlite3_exec(fx->db->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg ? msg : "?");
    }
    static const struct {
        const char *township, *month, *state, *zh, *en;
    } want[] = {
        {"230523102", "2024-04", "amended", "已修正", "amended"},
        {"230523101", "2024-03", "locked", "已锁定", "locked"},
        {"230523100", "2024-01", "approved", "已审核", "approved"},
    };
    const char *langs[] = {"zh", "en"};
    for (size_t l = 0; l < 2; l++) {
        char query[32];
        snprintf(query, sizeof query, "?lang=%s", langs[l]);
        char *dom = s_dump(fx, query);
        assert_non_null(strstr(dom, l == 0 ? "审核与锁定" : "Sign-off (approval and lock)"));
        const char *prev = dom;
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            char key[160], cellv[96];
            snprintf(key, sizeof key,
                     "<tr data-township=\"%s\" data-month=\"%s\" data-state=\"%s\">",
                     want[i].township, want[i].month, want[i].state);
            const char *row = strstr(dom, key);
            if (!row) {
                fail_msg("no row %s in the sign-off table (%s)", key, langs[l]);
            }
            assert_true(row > prev); /* newest month first */
            prev = row;
            snprintf(cellv, sizeof cellv, "<td class=\"signoff-%s\">%s</td>", want[i].state,
                     l == 0 ? want[i].zh : want[i].en);
            const char *c = strstr(row, cellv);
            assert_non_null(c);
            assert_true(c < strstr(row, "</tr>"));
        }
        assert_non_null(strstr(dom, "李科长"));
        assert_non_null(strstr(dom, "钱主任"));
        free(dom);
    }
}

static void
test_county_browser_screenshots(void **state)
{
    s_fx_t *fx = *state;
    const char *langs[] = {"zh", "en"};
    for (size_t i = 0; i < 2; i++) {
        char path[160], shot[200], url[256];
        snprintf(path, sizeof path, "%s/dashboard-%s.png", fx->dir, langs[i]);
        snprintf(shot, sizeof shot, "--screenshot=%s", path);
        snprintf(url, sizeof url, "%s?lang=%s", fx->srv.url, langs[i]);
        char *out = s_browser(fx, url, shot, "--window-size=1280,1600");
        assert_non_null(out);
        free(out);
        assert_true(s_is_png(path));
        print_message("screenshot: %s\n", path);
    }
    for (size_t i = 0; i < 2; i++) {
        char path[160], shot[200], url[256];
        snprintf(path, sizeof path, "%s/township-%s.png", fx->dir, langs[i]);
        snprintf(shot, sizeof shot, "--screenshot=%s", path);
        snprintf(url, sizeof url, "%s?lang=%s", fx->hub_srv.url, langs[i]);
        char *out = s_browser(fx, url, shot, "--window-size=1280,900");
        assert_non_null(out);
        free(out);
        assert_true(s_is_png(path));
        print_message("screenshot: %s\n", path);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_county_browser_totals_equal_stats),
        cmocka_unit_test(test_county_browser_open_and_overdue),
        cmocka_unit_test(test_county_browser_filters_from_the_url),
        cmocka_unit_test(test_county_browser_language_switch),
        cmocka_unit_test(test_hub_browser_status_page),
        cmocka_unit_test(test_county_browser_signoff),
        cmocka_unit_test(test_county_browser_screenshots),
    };
    return cmocka_run_group_tests_name("county_browser", tests, s_setup, s_teardown);
}
