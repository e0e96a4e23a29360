/* Accounts, roles, login and the audit trail of the county dashboard and the
 * township page (issue 17 items 1 and 4), over HTTP against the real
 * binaries: passwords only as hashes, the session cookie, failed logins
 * slowed after ten, CSRF on every POST, the bearer token only for the API,
 * the audit trail append-only with logins, failures and CLI changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <sqlite3.h>

#include "county_testdb.h"
#include "web_harness.h"

#define S_CASE  "01900000-0000-7000-8000-000000000001"
#define S_CASE2 "01900000-0000-7000-8000-000000000002"

typedef struct {
    county_testdb_t *db;
    web_server_t srv;
} s_fx_t;

/* Runs a shell command line; returns its exit status. */
static int
s_sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The session cookie a response set ("sj_sid=..."), or leaves out unchanged. */
static void
s_cookie(const web_resp_t *r, char *out, size_t size)
{
    char set[256];
    if (web_header(r, "Set-Cookie", set, sizeof set)) {
        char *semi = strchr(set, ';');
        if (semi) {
            *semi = '\0';
        }
        snprintf(out, size, "%.120s", set);
    }
}

/* The value of the hidden field csrf in an HTML body. */
static void
s_csrf(const char *body, char *out, size_t size)
{
    const char *p = strstr(body, "name=\"csrf\" value=\"");
    assert_non_null(p);
    p += strlen("name=\"csrf\" value=\"");
    const char *q = strchr(p, '"');
    assert_non_null(q);
    snprintf(out, size, "%.*s", (int) (q - p), p);
}

/* GET /login then POST /login: the status of the POST; cookie holds the
 * session after it. */
static int
s_login(uint16_t port, const char *name, const char *pw, char *cookie, size_t cookie_size)
{
    web_resp_t r;
    assert_int_equal(web_request(port, "GET", "/login", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    cookie[0] = '\0';
    s_cookie(&r, cookie, cookie_size);
    char csrf[128], hdr[512], body[512];
    s_csrf(r.body, csrf, sizeof csrf);
    web_resp_free(&r);
    snprintf(hdr, sizeof hdr,
             "Cookie: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
             "Origin: http://127.0.0.1:%u\r\n",
             cookie, (unsigned) port);
    snprintf(body, sizeof body, "csrf=%s&name=%s&password=%s", csrf, name, pw);
    assert_int_equal(web_request_body(port, "POST", "/login", hdr, body, &r), 0);
    int status = r.status;
    s_cookie(&r, cookie, cookie_size);
    web_resp_free(&r);
    return status;
}

static int
s_setup(void **state)
{
    s_fx_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->db = county_testdb_new();
    county_testdb_report(fx->db, S_CASE, "230523100201", "2026-11-03");
    county_testdb_report(fx->db, S_CASE2, "230523100202", "2026-11-04");
    county_store_close(&fx->db->store);
    /* The township the cases are assigned to is in the place list: an
     * assignment goes only to a code the county has heard of (issue 15). */
    assert_int_equal(s_sh("printf '230523100,宝清镇\\n' > '%s/places.csv' && '%s' --data '%s'"
                          " places import '%s/places.csv' >/dev/null 2>&1",
                          fx->db->dir, COUNTY_BIN, fx->db->dir, fx->db->dir),
                     0);
    web_user_add(COUNTY_BIN, fx->db->dir, "sam", "staff", "sam-password-1");
    web_user_add(COUNTY_BIN, fx->db->dir, "alice", "staff", "alice-password-1");
    web_user_add(COUNTY_BIN, fx->db->dir, "vera", "viewer", "vera-password-1");
    web_user_add(COUNTY_BIN, fx->db->dir, "root1", "admin", "root-password-1");
    char *argv[] = {COUNTY_BIN, "serve", "--data", fx->db->dir, "--http", "127.0.0.1:0", NULL};
    web_server_start(&fx->srv, argv);
    *state = fx;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fx_t *fx = *state;
    web_server_stop(&fx->srv);
    county_testdb_destroy(&fx->db);
    free(fx);
    return 0;
}

/* Runs a CLI command (argv[3] and [4] name it in a failure); its stdout. */
static char *
s_cli(char *const *argv, int want)
{
    int status = -1;
    char *out = web_run(argv, &status);
    if (status != want) {
        fail_msg("%s %s: exit %d, want %d", argv[3], argv[4], status, want);
    }
    return out;
}

/* Passwords are stored as argon2id hashes, never in the clear; bad input is
 * refused with exit 2 and a reason. */
static void
test_accounts_cli(void **state)
{
    s_fx_t *fx = *state;
    char path[256];
    snprintf(path, sizeof path, "%s/county-server.db", fx->db->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT pwhash FROM users", -1, &st, NULL), SQLITE_OK);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *h = (const char *) sqlite3_column_text(st, 0);
        assert_true(strncmp(h, "$argon2id$", 10) == 0);
        n++;
    }
    sqlite3_finalize(st);
    assert_int_equal(n, 4);
    sqlite3_close(db);
    /* the audit trail is append-only */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE audit SET who='x'", NULL, NULL, NULL),
                     SQLITE_CONSTRAINT);
    assert_int_equal(sqlite3_exec(db, "DELETE FROM audit", NULL, NULL, NULL), SQLITE_CONSTRAINT);
    sqlite3_close(db);
    /* no file of the store holds a password in the clear */
    assert_int_equal(s_sh("grep -rqa 'alice-password-1' '%s'", fx->db->dir), 1);
    assert_int_equal(s_sh("printf 'short\\n' | '%s' --data '%s' user add bob --role staff"
                          " 2>/dev/null",
                          COUNTY_BIN, fx->db->dir),
                     2);
    assert_int_equal(s_sh("printf 'long-enough-1\\n' | '%s' --data '%s' user add bob --role"
                          " boss 2>/dev/null",
                          COUNTY_BIN, fx->db->dir),
                     2);
    assert_int_equal(s_sh("printf 'long-enough-1\\n' | '%s' --data '%s' user add 'b b' --role"
                          " staff 2>/dev/null",
                          COUNTY_BIN, fx->db->dir),
                     2);
    assert_int_equal(s_sh("printf 'long-enough-1\\n' | '%s' --data '%s' user add alice --role"
                          " staff 2>/dev/null",
                          COUNTY_BIN, fx->db->dir),
                     2);
    /* --password-file must be private */
    char pwf[256];
    snprintf(pwf, sizeof pwf, "%s/pw.txt", fx->db->dir);
    FILE *f = fopen(pwf, "w");
    assert_non_null(f);
    fputs("from-a-file-1\n", f);
    fclose(f);
    chmod(pwf, 0644);
    assert_int_equal(s_sh("'%s' --data '%s' user add carol --role leader --password-file '%s'"
                          " 2>/dev/null",
                          COUNTY_BIN, fx->db->dir, pwf),
                     2);
    chmod(pwf, 0600);
    assert_int_equal(s_sh("'%s' --data '%s' user add carol --role leader --password-file '%s'"
                          " 2>/dev/null",
                          COUNTY_BIN, fx->db->dir, pwf),
                     0);
    char *argv[] = {COUNTY_BIN, "--data", fx->db->dir, "user", "list", "--format", "json", NULL};
    char *out = s_cli(argv, 0);
    assert_non_null(strstr(out, "\"name\":\"carol\""));
    assert_non_null(strstr(out, "\"role\":\"leader\""));
    free(out);
    char *argv2[] = {COUNTY_BIN, "--data", fx->db->dir, "audit", "--format", "csv", NULL};
    out = s_cli(argv2, 0);
    assert_non_null(strstr(out, ",cli,"));
    assert_non_null(strstr(out, "user-add,carol role=leader,ok"));
    assert_non_null(strstr(out, "user-add,alice role=staff,refused")); /* it exists */
    free(out);
    char *argv3[] = {COUNTY_BIN, "--data", fx->db->dir, "audit", "--from", "2026-13-01", NULL};
    out = s_cli(argv3, 2);
    free(out);
}

/* The session cookie, the pages behind the login, /api/me, the audit page
 * for admin only, logout. */
static void
test_accounts_login(void **state)
{
    s_fx_t *fx = *state;
    uint16_t port = fx->srv.port;
    web_resp_t r;
    char h[256], cookie[160], hdr[512];
    assert_int_equal(web_request(port, "GET", "/", NULL, &r), 0);
    assert_int_equal(r.status, 303);
    assert_true(web_header(&r, "Location", h, sizeof h));
    assert_string_equal(h, "/login");
    web_resp_free(&r);
    assert_int_equal(web_request(port, "GET", "/api/stats", NULL, &r), 0);
    assert_int_equal(r.status, 401);
    web_resp_free(&r);
    assert_int_equal(web_request(port, "GET", "/login?lang=en", NULL, &r), 0);
    assert_non_null(strstr(r.body, "Log in"));
    assert_true(web_header(&r, "Set-Cookie", h, sizeof h));
    assert_non_null(strstr(h, "HttpOnly"));
    assert_non_null(strstr(h, "SameSite=Strict"));
    assert_non_null(strstr(h, "Max-Age="));
    web_resp_free(&r);

    assert_int_equal(s_login(port, "alice", "alice-password-1", cookie, sizeof cookie), 303);
    snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", cookie);
    assert_int_equal(web_request(port, "GET", "/api/me", hdr, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"user\":\"alice\""));
    assert_non_null(strstr(r.body, "\"role\":\"staff\""));
    web_resp_free(&r);
    assert_int_equal(web_request(port, "GET", "/", hdr, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "logout-form"));
    web_resp_free(&r);
    assert_int_equal(web_request(port, "GET", "/api/stats?by=level", hdr, &r), 0);
    assert_int_equal(r.status, 200);
    web_resp_free(&r);
    assert_int_equal(web_request(port, "GET", "/audit", hdr, &r), 0);
    assert_int_equal(r.status, 403); /* staff is not admin */
    web_resp_free(&r);
    /* a POST without the CSRF token: 403 */
    snprintf(hdr, sizeof hdr, "Cookie: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n",
             cookie);
    assert_int_equal(web_request_body(port, "POST", "/logout", hdr, "x=1", &r), 0);
    assert_int_equal(r.status, 403);
    web_resp_free(&r);

    assert_int_equal(s_login(port, "root1", "root-password-1", cookie, sizeof cookie), 303);
    snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", cookie);
    assert_int_equal(web_request(port, "GET", "/audit?lang=en&user=alice", hdr, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "Audit trail"));
    assert_non_null(strstr(r.body, "<td>login</td>"));
    assert_non_null(strstr(r.body, "<td>127.0.0.1</td>"));
    web_resp_free(&r);
    /* logout (with the CSRF token /api/me gives the page) ends the session */
    assert_int_equal(web_request(port, "GET", "/api/me", hdr, &r), 0);
    const char *c = strstr(r.body, "\"csrf\":\"");
    assert_non_null(c);
    char body[200];
    snprintf(body, sizeof body, "csrf=%.43s", c + 8);
    web_resp_free(&r);
    snprintf(hdr, sizeof hdr, "Cookie: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n",
             cookie);
    assert_int_equal(web_request_body(port, "POST", "/logout", hdr, body, &r), 0);
    assert_int_equal(r.status, 303);
    web_resp_free(&r);
    snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", cookie);
    assert_int_equal(web_request(port, "GET", "/api/me", hdr, &r), 0);
    assert_int_equal(r.status, 401);
    web_resp_free(&r);
    /* a disabled account's session ends at its next request */
    assert_int_equal(s_login(port, "alice", "alice-password-1", cookie, sizeof cookie), 303);
    assert_int_equal(
        s_sh("'%s' --data '%s' user disable carol 2>/dev/null", COUNTY_BIN, fx->db->dir), 0);
    assert_int_equal(
        s_sh("'%s' --data '%s' user disable alice 2>/dev/null", COUNTY_BIN, fx->db->dir), 0);
    snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", cookie);
    assert_int_equal(web_request(port, "GET", "/api/me", hdr, &r), 0);
    assert_int_equal(r.status, 401);
    web_resp_free(&r);
    assert_int_equal(s_login(port, "alice", "alice-password-1", cookie, sizeof cookie), 403);
}

/* The /api/me CSRF token of a session. */
static void
s_me_csrf(uint16_t port, const char *cookie, char *out, size_t size)
{
    web_resp_t r;
    char hdr[256];
    snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", cookie);
    assert_int_equal(web_request(port, "GET", "/api/me", hdr, &r), 0);
    assert_int_equal(r.status, 200);
    const char *c = strstr(r.body, "\"csrf\":\"");
    assert_non_null(c);
    snprintf(out, size, "%.43s", c + 8);
    web_resp_free(&r);
}

/* POSTs body (with csrf=... in it when given) to path in cookie's session. */
static int
s_post(uint16_t port, const char *cookie, const char *path, const char *body)
{
    web_resp_t r;
    char hdr[512];
    snprintf(hdr, sizeof hdr,
             "Cookie: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
             "Origin: http://127.0.0.1:%u\r\n",
             cookie, (unsigned) port);
    assert_int_equal(web_request_body(port, "POST", path, hdr, body, &r), 0);
    int status = r.status;
    if (status >= 400) {
        fprintf(stderr, "POST %s: %d %s", path, status, r.body);
    }
    web_resp_free(&r);
    return status;
}

/* A staff account assigns a case from the page (the same code as `assign`):
 * the event carries the account, the audit trail names it; a viewer gets no
 * action and its POST is 403; no POST works without the CSRF token. */
static void
test_accounts_assign(void **state)
{
    s_fx_t *fx = *state;
    uint16_t port = fx->srv.port;
    char cookie[160], csrf[64], body[512], due[16];
    time_t t = time(NULL) + 7 * 86400;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(due, sizeof due, "%Y-%m-%d", &tm);

    assert_int_equal(s_login(port, "vera", "vera-password-1", cookie, sizeof cookie), 303);
    s_me_csrf(port, cookie, csrf, sizeof csrf);
    snprintf(body, sizeof body, "csrf=%s&key=k1&case=%s&to=230523100&due=%s", csrf, S_CASE, due);
    assert_int_equal(s_post(port, cookie, "/act/assign", body), 403);

    assert_int_equal(s_login(port, "sam", "sam-password-1", cookie, sizeof cookie), 303);
    snprintf(body, sizeof body, "key=k2&case=%s&to=230523100&due=%s", S_CASE, due);
    assert_int_equal(s_post(port, cookie, "/act/assign", body), 403); /* no CSRF token */
    s_me_csrf(port, cookie, csrf, sizeof csrf);
    snprintf(body, sizeof body, "csrf=%s&key=k3&case=%s&to=230523100&due=2000-01-01", csrf, S_CASE);
    assert_int_equal(s_post(port, cookie, "/act/assign", body), 400); /* in the past */
    snprintf(body, sizeof body, "csrf=%s&key=k3b&case=%s&to=230523199&due=%s", csrf, S_CASE, due);
    assert_int_equal(s_post(port, cookie, "/act/assign", body), 400); /* never heard of */
    snprintf(body, sizeof body,
             "csrf=%s&key=k4&case=%s&to=230523100&due=%s&note=%%E8%%AF%%B7%%E6%%A0%%B8%%E5%%AE%%9E",
             csrf, S_CASE, due);
    assert_int_equal(s_post(port, cookie, "/act/assign", body), 303);
    assert_int_equal(s_post(port, cookie, "/act/assign", body), 303); /* the same key: once */

    char *argv[] = {COUNTY_BIN, "--data", fx->db->dir, "show", S_CASE, "--format", "json", NULL};
    char *out = s_cli(argv, 0);
    assert_non_null(strstr(out, "请核实"));
    free(out);
    char *argv2[] = {COUNTY_BIN, "--data",   fx->db->dir, "audit", "--user",
                     "sam",      "--format", "csv",       NULL};
    out = s_cli(argv2, 0);
    assert_non_null(strstr(out, ",sam,web,127.0.0.1,assign,case " S_CASE " to 230523100"));
    assert_non_null(strstr(out, "assign,case " S_CASE " to 230523100: --due 2000-01-01"));
    free(out);
    char *argv3[] = {COUNTY_BIN, "--data",   fx->db->dir, "audit", "--user",
                     "vera",     "--format", "csv",       NULL};
    out = s_cli(argv3, 0);
    assert_non_null(strstr(out, ",vera,web,127.0.0.1,assign,refused: the role may not,refused"));
    free(out);
    /* the event itself names the account (Event.account) */
    char path[256];
    snprintf(path, sizeof path, "%s/county-server.db", fx->db->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM events WHERE type=3"
                                        " AND instr(raw, X'3A0373616D') > 0",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* A county department (县直部门): named, a case assigned to it, its account
 * sees only that case (/dept), not the other case nor the dashboard's API,
 * and concludes it; the county's cases and figures count it. */
static void
test_accounts_department(void **state)
{
    s_fx_t *fx = *state;
    uint16_t port = fx->srv.port;
    char cookie[160], csrf[64], body[512], due[16], hdr[256];
    time_t t = time(NULL) + 7 * 86400;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(due, sizeof due, "%Y-%m-%d", &tm);
    assert_int_equal(s_sh("'%s' --data '%s' dept add 230523901 县自然资源局 2>/dev/null",
                          COUNTY_BIN, fx->db->dir),
                     0);
    assert_int_equal(
        s_sh("'%s' --data '%s' dept add 230523101 乡 2>/dev/null", COUNTY_BIN, fx->db->dir),
        2); /* not a department's code */
    assert_int_equal(s_sh("'%s' --data '%s' assign %s --to 230523901 --due %s >/dev/null"
                          " 2>&1",
                          COUNTY_BIN, fx->db->dir, S_CASE2, due),
                     0);
    assert_int_equal(s_sh("printf 'wang-password-1\\n' | '%s' --data '%s' user add wang --role"
                          " department --unit 230523901 2>/dev/null",
                          COUNTY_BIN, fx->db->dir),
                     0);
    assert_int_equal(s_login(port, "wang", "wang-password-1", cookie, sizeof cookie), 303);
    web_resp_t r;
    snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", cookie);
    assert_int_equal(web_request(port, "GET", "/", hdr, &r), 0);
    assert_int_equal(r.status, 303);
    web_resp_free(&r);
    assert_int_equal(web_request(port, "GET", "/api/cases", hdr, &r), 0);
    assert_int_equal(r.status, 403);
    web_resp_free(&r);
    assert_int_equal(web_request(port, "GET", "/dept", hdr, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "县自然资源局"));
    assert_non_null(strstr(r.body, S_CASE2));
    assert_null(strstr(r.body, S_CASE "\""));
    web_resp_free(&r);
    s_me_csrf(port, cookie, csrf, sizeof csrf);
    snprintf(body, sizeof body, "csrf=%s&key=d1&case=%s&outcome=closed", csrf, S_CASE);
    assert_int_equal(s_post(port, cookie, "/act/update", body), 400); /* not its case */
    snprintf(body, sizeof body, "csrf=%s&key=d2&case=%s&outcome=closed&note=done&back=/dept", csrf,
             S_CASE2);
    assert_int_equal(s_post(port, cookie, "/act/update", body), 303);

    char *argv[] = {COUNTY_BIN, "--data", fx->db->dir, "cases", "--format", "json", NULL};
    char *out = s_cli(argv, 0);
    const char *row = strstr(out, S_CASE2);
    assert_non_null(row);
    assert_non_null(strstr(row, "\"outcome\":\"closed\""));
    free(out);
    char *argv2[] = {COUNTY_BIN, "--data",   fx->db->dir, "stats",
                     "--cases",  "--format", "json",      NULL};
    out = s_cli(argv2, 0);
    assert_non_null(strstr(out, "\"concluded\":1"));
    free(out);
    char *argv3[] = {COUNTY_BIN, "--data",   fx->db->dir, "audit", "--user",
                     "wang",     "--format", "csv",       NULL};
    out = s_cli(argv3, 0);
    assert_non_null(strstr(out, ",wang,web,127.0.0.1,update,case " S_CASE2 " outcome closed,ok"));
    free(out);
}

/* The township page: an office account logs in and reads the audit trail,
 * a viewer may not; the API needs a login; nothing in the clear. */
static void
test_accounts_township(void **state)
{
    (void) state;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/sanji-accounts-hub-XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_int_equal(s_sh("printf 'li-password-1\\n' | '%s' --data '%s' user add li --role office"
                          " --code 230523100 2>/dev/null",
                          HUB_BIN, dir),
                     0);
    assert_int_equal(s_sh("printf 'zhao-password-1\\n' | '%s' --data '%s' user add zhao --role"
                          " viewer 2>/dev/null",
                          HUB_BIN, dir),
                     0);
    assert_int_equal(s_sh("printf 'x-password-1\\n' | '%s' --data '%s' user add x --role staff"
                          " 2>/dev/null",
                          HUB_BIN, dir),
                     2); /* not a township role */
    assert_int_equal(s_sh("grep -rqa 'li-password-1' '%s'", dir), 1);
    web_server_t hub;
    memset(&hub, 0, sizeof hub);
    char *argv[] = {HUB_BIN, "serve", "--data", dir, "--http", "127.0.0.1:0", NULL};
    web_server_start(&hub, argv);
    web_resp_t r;
    char cookie[160], hdr[256];
    assert_int_equal(web_request(hub.port, "GET", "/api/status", NULL, &r), 0);
    assert_int_equal(r.status, 401);
    web_resp_free(&r);
    assert_int_equal(s_login(hub.port, "zhao", "zhao-password-1", cookie, sizeof cookie), 303);
    snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", cookie);
    assert_int_equal(web_request(hub.port, "GET", "/api/status", hdr, &r), 0);
    assert_int_equal(r.status, 200);
    web_resp_free(&r);
    assert_int_equal(web_request(hub.port, "GET", "/audit", hdr, &r), 0);
    assert_int_equal(r.status, 403);
    web_resp_free(&r);
    assert_int_equal(s_login(hub.port, "li", "li-password-1", cookie, sizeof cookie), 303);
    snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", cookie);
    assert_int_equal(web_request(hub.port, "GET", "/api/me", hdr, &r), 0);
    assert_non_null(strstr(r.body, "\"role_zh\":\"乡镇办公室\""));
    web_resp_free(&r);
    assert_int_equal(web_request(hub.port, "GET", "/audit?lang=en", hdr, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "<td>zhao</td>"));
    assert_non_null(strstr(r.body, "<td>user-add</td>"));
    web_resp_free(&r);
    web_server_stop(&hub);
    char *argv2[] = {HUB_BIN, "--data", dir, "audit", "--user", "li", "--format", "csv", NULL};
    char *out = s_cli(argv2, 0);
    assert_non_null(strstr(out, ",li,web,127.0.0.1,login,office,ok"));
    free(out);
    assert_int_equal(s_sh("rm -rf '%s'", dir), 0);
}

/* Ten failed logins slow the next tries: the eleventh is 429 even with the
 * right password; every failure is in the audit trail. */
static void
test_accounts_slowed(void **state)
{
    s_fx_t *fx = *state;
    uint16_t port = fx->srv.port;
    char cookie[160];
    /* a success resets the count of failures in a row */
    assert_int_equal(s_login(port, "root1", "root-password-1", cookie, sizeof cookie), 303);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(s_login(port, "vera", "wrong-password", cookie, sizeof cookie), 403);
    }
    assert_int_equal(s_login(port, "vera", "vera-password-1", cookie, sizeof cookie), 429);
    char *argv[] = {COUNTY_BIN, "--data",   fx->db->dir, "audit", "--user",
                    "vera",     "--format", "csv",       NULL};
    int status = -1;
    char *out = web_run(argv, &status);
    assert_int_equal(status, 0);
    int fails = 0;
    for (const char *p = out; (p = strstr(p, "login-failed")) != NULL; p++) {
        fails++;
    }
    assert_int_equal(fails, 10);
    assert_non_null(strstr(out, "login-slowed"));
    free(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accounts_cli),        cmocka_unit_test(test_accounts_assign),
        cmocka_unit_test(test_accounts_department), cmocka_unit_test(test_accounts_township),
        cmocka_unit_test(test_accounts_login),      cmocka_unit_test(test_accounts_slowed),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
