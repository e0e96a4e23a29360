/* The officer's desk (village-agent serve, issue 14) over plain HTTP on a real
 * binary: a form posted twice records once; a bad persons/channel pair and a
 * future date are refused next to the field, in Chinese, storing nothing; a
 * POST without the CSRF token, without the session, or from another Origin
 * is refused and stores nothing; a summary "<script>" stays text; a status
 * change posted twice (same form key) records once. The outbox page goes
 * by pages of 50, newest first, and shows the hub link as `run` recorded it
 * (not running; unreachable with the reason; stopped). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sj_table.h"
#include "web_harness.h"

#define S_STATION "110101001001"

typedef struct {
    char dir[64];
    web_server_t srv;
    web_server_t gate; /* the password test's server (stopped by the teardown too) */
    char cookie[300];  /* "Cookie: sj_sid=...\r\n" */
    char csrf[64];
    char key[40];
} s_fx_t;

static int
s_setup(void **state)
{
    s_fx_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/sj-desk-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    char *argv[] = {AGENT_BIN, "--data", fx->dir,       "--station", S_STATION,
                    "serve",   "--http", "127.0.0.1:0", NULL};
    web_server_start(&fx->srv, argv);
    *state = fx;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fx_t *fx = *state;
    web_server_stop(&fx->gate);
    web_server_stop(&fx->srv);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(fx);
    return 0;
}

/* value="..." after name="NAME" in body, copied into out. */
static void
s_field(const char *body, const char *name, char *out, size_t size)
{
    char pat[64];
    snprintf(pat, sizeof pat, "name=\"%s\" value=\"", name);
    const char *at = strstr(body, pat);
    assert_non_null(at);
    at += strlen(pat);
    const char *end = strchr(at, '"');
    assert_non_null(end);
    assert_true((size_t) (end - at) < size);
    memcpy(out, at, (size_t) (end - at));
    out[end - at] = '\0';
}

/* Opens the record form as a browser would: a session cookie, its CSRF
 * token and a fresh form key. */
static void
s_open_form(s_fx_t *fx)
{
    web_resp_t r;
    assert_int_equal(web_request(fx->srv.port, "GET", "/record", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    char set[256];
    assert_true(web_header(&r, "Set-Cookie", set, sizeof set));
    assert_non_null(strstr(set, "HttpOnly"));
    assert_non_null(strstr(set, "SameSite=Strict"));
    char *semi = strchr(set, ';');
    assert_non_null(semi);
    *semi = '\0';
    snprintf(fx->cookie, sizeof fx->cookie, "Cookie: %s\r\n", set);
    s_field(r.body, "csrf", fx->csrf, sizeof fx->csrf);
    s_field(r.body, "key", fx->key, sizeof fx->key);
    web_resp_free(&r);
}

static int
s_post(s_fx_t *fx, const char *path, const char *extra_headers, const char *body, web_resp_t *r)
{
    char headers[512];
    snprintf(
        headers, sizeof headers,
        "%sContent-Type: application/x-www-form-urlencoded\r\nOrigin: http://127.0.0.1:%u\r\n%s",
        fx->cookie, fx->srv.port, extra_headers ? extra_headers : "");
    assert_int_equal(web_request_body(fx->srv.port, "POST", path, headers, body, r), 0);
    return r->status;
}

/* Rows of `outbox --format csv` (without the header). */
static int
s_outbox_rows(s_fx_t *fx, const char *must_contain)
{
    char *argv[] = {AGENT_BIN, "--data",   fx->dir, "--station", S_STATION,
                    "outbox",  "--format", "csv",   NULL};
    int status = -1;
    char *text = web_run(argv, &status);
    assert_int_equal(status, 0);
    int lines = 0;
    for (const char *s = text; *s; s++) {
        lines += *s == '\n';
    }
    if (must_contain) {
        assert_non_null(strstr(text, must_contain));
    }
    free(text);
    return lines - 1;
}

/* 土地纠纷 "<b>" — the summary, URL-encoded as a browser sends it. */
#define S_SUMMARY_ENC "%E5%9C%9F%E5%9C%B0%E7%BA%A0%E7%BA%B7+%3Cscript%3Ex%3C%2Fscript%3E"
#define S_SUMMARY     "土地纠纷 <script>x</script>"

static void
test_record_posted_twice_records_once(void **state)
{
    s_fx_t *fx = *state;
    s_open_form(fx);
    char body[1024];
    snprintf(body, sizeof body,
             "csrf=%s&key=%s&occurred=&channel=visit&persons=6&level=county&category=land"
             "&source=direct&outcome=pending&summary=%s&officer=%%E7%%8E%%8B",
             fx->csrf, fx->key, S_SUMMARY_ENC);
    web_resp_t r;
    assert_int_equal(s_post(fx, "/record", NULL, body, &r), 303);
    char loc[256];
    assert_true(web_header(&r, "Location", loc, sizeof loc));
    char want[128];
    snprintf(want, sizeof want, "/matter?id=%s", fx->key);
    assert_non_null(strstr(loc, want));
    web_resp_free(&r);
    /* the same POST again (a reload, a double click): the same answer, nothing more */
    assert_int_equal(s_post(fx, "/record", NULL, body, &r), 303);
    web_resp_free(&r);
    assert_int_equal(s_outbox_rows(fx, S_SUMMARY), 1);
    assert_int_equal(s_outbox_rows(fx, "collective"), 1); /* kind derived from 6 persons */

    /* the matter's page: everything in words, the summary as text */
    assert_int_equal(web_request(fx->srv.port, "GET", loc, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "土地纠纷 &lt;script&gt;x&lt;/script&gt;"));
    assert_null(strstr(r.body, "<script>x"));
    assert_non_null(strstr(r.body, "待发送"));
    assert_non_null(strstr(r.body, "到县"));
    web_resp_free(&r);
    /* the outbox page, and its English twin */
    assert_int_equal(web_request(fx->srv.port, "GET", "/outbox", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "待发送"));
    assert_null(strstr(r.body, "<script>x"));
    web_resp_free(&r);
    assert_int_equal(web_request(fx->srv.port, "GET", "/outbox?lang=en", NULL, &r), 0);
    assert_non_null(strstr(r.body, "queued"));
    web_resp_free(&r);
    /* the strict CSP is kept on the pages that write */
    assert_int_equal(web_request(fx->srv.port, "GET", "/record", NULL, &r), 0);
    char csp[512];
    assert_true(web_header(&r, "Content-Security-Policy", csp, sizeof csp));
    assert_non_null(strstr(csp, "script-src 'self'"));
    web_resp_free(&r);
}

static void
test_bad_fields_refused_next_to_the_field(void **state)
{
    s_fx_t *fx = *state;
    int before = s_outbox_rows(fx, NULL);
    s_open_form(fx);
    char body[1024];
    web_resp_t r;
    /* a letter is one item from one person */
    snprintf(body, sizeof body, "csrf=%s&key=%s&channel=letter&persons=3&level=village&summary=x",
             fx->csrf, fx->key);
    assert_int_equal(s_post(fx, "/record", NULL, body, &r), 400);
    assert_non_null(strstr(r.body, "id=\"err-persons\""));
    assert_non_null(strstr(r.body, "人数不符"));
    assert_non_null(strstr(r.body, "value=\"3\"")); /* what was typed is kept */
    web_resp_free(&r);
    /* a date after today */
    snprintf(body, sizeof body,
             "csrf=%s&key=%s&occurred=2999-01-01&channel=visit&persons=1&level=village&summary=x",
             fx->csrf, fx->key);
    assert_int_equal(s_post(fx, "/record", NULL, body, &r), 400);
    assert_non_null(strstr(r.body, "id=\"err-occurred\""));
    assert_non_null(strstr(r.body, "日期有误"));
    web_resp_free(&r);
    /* no summary */
    snprintf(body, sizeof body,
             "csrf=%s&key=%s&channel=visit&persons=1&level=village&summary=", fx->csrf, fx->key);
    assert_int_equal(s_post(fx, "/record", NULL, body, &r), 400);
    assert_non_null(strstr(r.body, "id=\"err-summary\""));
    web_resp_free(&r);
    /* a receiving leader without source leader_reception (issue 16 item 6) */
    snprintf(body, sizeof body,
             "csrf=%s&key=%s&channel=visit&persons=1&level=county&source=direct&summary=x"
             "&receiving_leader=%%E7%%8E%%8B&portfolio=",
             fx->csrf, fx->key);
    assert_int_equal(s_post(fx, "/record", NULL, body, &r), 400);
    assert_non_null(strstr(r.body, "id=\"err-receiving_leader\""));
    assert_non_null(strstr(r.body, "接访领导和分管战线只用于来源为领导接访的事项"));
    assert_non_null(strstr(r.body, "only a leader&#39;s reception"));
    web_resp_free(&r);
    assert_int_equal(s_outbox_rows(fx, NULL), before);
    /* with it, the register's fields are stored with the report */
    s_open_form(fx);
    snprintf(body, sizeof body,
             "csrf=%s&key=%s&channel=visit&persons=1&level=county&source=leader_reception"
             "&summary=x&receiving_leader=%%E7%%8E%%8B%%E5%%8E%%BF%%E9%%95%%BF"
             "&portfolio=%%E5%%86%%9C%%E4%%B8%%9A",
             fx->csrf, fx->key);
    assert_int_equal(s_post(fx, "/record", NULL, body, &r), 303);
    web_resp_free(&r);
    assert_int_equal(s_outbox_rows(fx, NULL), before + 1);
}

static void
test_csrf_origin_and_session_refused(void **state)
{
    s_fx_t *fx = *state;
    int before = s_outbox_rows(fx, NULL);
    s_open_form(fx);
    char body[1024];
    web_resp_t r;
    /* no token */
    snprintf(body, sizeof body, "key=%s&channel=visit&persons=1&level=village&summary=x", fx->key);
    assert_int_equal(s_post(fx, "/record", NULL, body, &r), 403);
    assert_non_null(strstr(r.body, "CSRF"));
    web_resp_free(&r);
    /* a wrong token */
    snprintf(body, sizeof body,
             "csrf=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&key=%s&channel=visit&persons=1"
             "&level=village&summary=x",
             fx->key);
    assert_int_equal(s_post(fx, "/record", NULL, body, &r), 403);
    web_resp_free(&r);
    /* the right token from another site */
    snprintf(body, sizeof body, "csrf=%s&key=%s&channel=visit&persons=1&level=village&summary=x",
             fx->csrf, fx->key);
    char headers[512];
    snprintf(headers, sizeof headers,
             "%sContent-Type: application/x-www-form-urlencoded\r\nOrigin: http://evil.example\r\n",
             fx->cookie);
    assert_int_equal(web_request_body(fx->srv.port, "POST", "/record", headers, body, &r), 0);
    assert_int_equal(r.status, 403);
    web_resp_free(&r);
    /* the right token without the session's cookie */
    assert_int_equal(web_request_body(fx->srv.port, "POST", "/record",
                                      "Content-Type: application/x-www-form-urlencoded\r\n", body,
                                      &r),
                     0);
    assert_int_equal(r.status, 403);
    web_resp_free(&r);
    /* another session's token */
    char other[64];
    snprintf(other, sizeof other, "%s", fx->csrf);
    s_open_form(fx);
    assert_string_not_equal(other, fx->csrf);
    snprintf(body, sizeof body, "csrf=%s&key=%s&channel=visit&persons=1&level=village&summary=x",
             other, fx->key);
    assert_int_equal(s_post(fx, "/record", NULL, body, &r), 403);
    web_resp_free(&r);
    assert_int_equal(s_outbox_rows(fx, NULL), before);
    /* and the same form with its own token is taken */
    snprintf(body, sizeof body, "csrf=%s&key=%s&channel=visit&persons=1&level=village&summary=x",
             fx->csrf, fx->key);
    assert_int_equal(s_post(fx, "/record", NULL, body, &r), 303);
    web_resp_free(&r);
    assert_int_equal(s_outbox_rows(fx, NULL), before + 1);
}

static void
test_change_posted_twice_records_once(void **state)
{
    s_fx_t *fx = *state;
    s_open_form(fx);
    char body[1024], id[40];
    web_resp_t r;
    snprintf(body, sizeof body,
             "csrf=%s&key=%s&channel=phone&persons=1&level=township&summary=water", fx->csrf,
             fx->key);
    assert_int_equal(s_post(fx, "/record", NULL, body, &r), 303);
    web_resp_free(&r);
    snprintf(id, sizeof id, "%s", fx->key);
    int before = s_outbox_rows(fx, NULL);
    /* accepted, with a note; the form key makes a second click do nothing */
    snprintf(body, sizeof body,
             "csrf=%s&key=0190aaaa-0000-7000-8000-000000000001&id=%s&outcome=accepted"
             "&note=%%E5%%B7%%B2%%E5%%8F%%97%%E7%%90%%86",
             fx->csrf, id);
    assert_int_equal(s_post(fx, "/update", NULL, body, &r), 303);
    web_resp_free(&r);
    assert_int_equal(s_post(fx, "/update", NULL, body, &r), 303);
    web_resp_free(&r);
    assert_int_equal(s_outbox_rows(fx, "pending \xe2\x86\x92 accepted"), before + 1);
    /* a change the state machine refuses: said, nothing stored */
    snprintf(body, sizeof body,
             "csrf=%s&key=0190aaaa-0000-7000-8000-000000000002&id=%s&outcome=pending", fx->csrf,
             id);
    assert_int_equal(s_post(fx, "/update", NULL, body, &r), 400);
    assert_non_null(strstr(r.body, "未保存"));
    web_resp_free(&r);
    assert_int_equal(s_outbox_rows(fx, NULL), before + 1);
}

/* With --password-file: no page before the login; a wrong password is
 * refused and makes the next try wait; the right one opens the pages. */
static void
test_password_gate(void **state)
{
    s_fx_t *fx = *state;
    char pwfile[1024], cmd[4096];
    snprintf(pwfile, sizeof pwfile, "%s/desk.pw", fx->dir);
    snprintf(cmd, sizeof cmd, "echo 'correct horse 1' | %s passwd --password-file %s", AGENT_BIN,
             pwfile);
    assert_int_equal(system(cmd), 0);
    char *hash = NULL;
    {
        FILE *f = fopen(pwfile, "r");
        assert_non_null(f);
        char line[256] = "";
        assert_non_null(fgets(line, sizeof line, f));
        fclose(f);
        assert_null(strstr(line, "correct horse")); /* never in the clear */
        assert_non_null(strstr(line, "$argon2id$"));
        hash = strdup(line);
    }
    free(hash);
    /* too short: refused, exit 2 */
    snprintf(cmd, sizeof cmd, "echo 'short' | %s passwd --password-file %s.2 2>/dev/null",
             AGENT_BIN, pwfile);
    assert_int_equal(WEXITSTATUS(system(cmd)), 2);
    /* not loopback without a password: refused */
    {
        char *argv[] = {AGENT_BIN, "--data", fx->dir,     "--station", S_STATION,
                        "serve",   "--http", "0.0.0.0:0", NULL};
        int status = -1;
        char *out = web_run(argv, &status);
        free(out);
        assert_int_equal(status, 2);
    }

    web_server_t *gatep = &fx->gate;
#define gate (*gatep)
    char *argv[] = {AGENT_BIN, "--data",      fx->dir,           "--station", S_STATION, "serve",
                    "--http",  "127.0.0.1:0", "--password-file", pwfile,      NULL};
    web_server_start(&gate, argv);
    web_resp_t r;
    static const char *const pages[] = {"/", "/record", "/outbox", "/inbox", "/matter?id=x"};
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        assert_int_equal(web_request(gate.port, "GET", pages[i], NULL, &r), 0);
        assert_int_equal(r.status, 303);
        char loc[128];
        assert_true(web_header(&r, "Location", loc, sizeof loc));
        assert_string_equal(loc, "/login");
        assert_null(strstr(r.body, "csrf"));
        web_resp_free(&r);
    }
    /* the login form, with its session and token */
    assert_int_equal(web_request(gate.port, "GET", "/login", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    char set[256], cookie[300], csrf[64], body[512], headers[512];
    assert_true(web_header(&r, "Set-Cookie", set, sizeof set));
    *strchr(set, ';') = '\0';
    snprintf(cookie, sizeof cookie, "Cookie: %s\r\n", set);
    s_field(r.body, "csrf", csrf, sizeof csrf);
    web_resp_free(&r);
    snprintf(headers, sizeof headers,
             "%sContent-Type: application/x-www-form-urlencoded\r\nOrigin: http://127.0.0.1:%u\r\n",
             cookie, gate.port);
    /* a POST to a page before the login stores nothing */
    snprintf(body, sizeof body,
             "csrf=%s&key=0190cccc-0000-7000-8000-000000000001&channel=visit&persons=1"
             "&level=village&summary=x",
             csrf);
    int before = s_outbox_rows(fx, NULL);
    assert_int_equal(web_request_body(gate.port, "POST", "/record", headers, body, &r), 0);
    assert_int_equal(r.status, 401);
    web_resp_free(&r);
    assert_int_equal(s_outbox_rows(fx, NULL), before);
    /* a wrong password, then at once the right one: slowed down */
    snprintf(body, sizeof body, "csrf=%s&password=wrong+password", csrf);
    assert_int_equal(web_request_body(gate.port, "POST", "/login", headers, body, &r), 0);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "密码不对"));
    web_resp_free(&r);
    snprintf(body, sizeof body, "csrf=%s&password=correct+horse+1", csrf);
    assert_int_equal(web_request_body(gate.port, "POST", "/login", headers, body, &r), 0);
    assert_int_equal(r.status, 429);
    assert_non_null(strstr(r.body, "再试"));
    web_resp_free(&r);
    /* after the wait (2 s for one failure), the right password opens the desk */
    int status = 429;
    for (int tries = 0; tries < 100 && status == 429; tries++) {
        struct timespec pause = {0, 100 * 1000 * 1000};
        nanosleep(&pause, NULL);
        assert_int_equal(web_request_body(gate.port, "POST", "/login", headers, body, &r), 0);
        status = r.status;
        if (status == 303) {
            break;
        }
        web_resp_free(&r);
    }
    assert_int_equal(status, 303);
    /* a new session after the login: the old cookie is worth nothing */
    assert_true(web_header(&r, "Set-Cookie", set, sizeof set));
    web_resp_free(&r);
    *strchr(set, ';') = '\0';
    char cookie2[300];
    snprintf(cookie2, sizeof cookie2, "Cookie: %s\r\n", set);
    assert_string_not_equal(cookie, cookie2);
    assert_int_equal(web_request(gate.port, "GET", "/record", cookie, &r), 0);
    assert_int_equal(r.status, 303);
    web_resp_free(&r);
    assert_int_equal(web_request(gate.port, "GET", "/record", cookie2, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "登记一件信访事项"));
    web_resp_free(&r);
    web_server_stop(&gate);
#undef gate
}

/* outbox and inbox fit 100 columns by default (short id, summary cut with
 * …); --wide gives the full id and text. */
static void
test_narrow_tables(void **state)
{
    s_fx_t *fx = *state;
    static const char summary[] =
        "村民反映土地承包合同到期后村委会未按约定重新发包，要求查明情况并依法处理，"
        "并且涉及多户人家 with some English words too";
    char *sub[] = {AGENT_BIN,   "--data",         fx->dir,   "--station", S_STATION,   "submit",
                   "--channel", "来访",           "--level", "到县",      "--persons", "12",
                   "--summary", (char *) summary, "--wait",  "0",         NULL};
    int status = -1;
    char *id = web_run(sub, &status);
    assert_int_equal(status, 0);
    id[36] = '\0';
    char *narrow[] = {AGENT_BIN, "--data", fx->dir, "--station", S_STATION, "outbox", NULL};
    char *text = web_run(narrow, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(text, id + 28)); /* the id's last 8 characters */
    assert_null(strstr(text, id));
    assert_null(strstr(text, summary));
    assert_non_null(strstr(text, "村民反映土地承包合同"));
    assert_non_null(strstr(text, "\xe2\x80\xa6"));
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        assert_in_range(sj_text_width(line), 1, 100);
    }
    free(text);
    char *wide[] = {AGENT_BIN, "--data", fx->dir, "--station", S_STATION, "outbox", "--wide", NULL};
    text = web_run(wide, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(text, id));
    assert_non_null(strstr(text, summary));
    free(text);
    char *inbox[] = {AGENT_BIN, "--data", fx->dir, "--station", S_STATION, "inbox", NULL};
    text = web_run(inbox, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(text, "asked | summary"));
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        assert_in_range(sj_text_width(line), 1, 100);
    }
    free(text);
    free(id);
}

/* Runs a shell command line; its stdout and stderr into *out (caller
 * frees); returns the exit status. */
static int
s_sh(const char *line, char **out)
{
    char path[] = "/tmp/sj-desk-out-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s >%s 2>&1", line, path);
    int st = system(cmd);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *text = calloc(1, 65536);
    assert_non_null(text);
    size_t n = fread(text, 1, 65535, f);
    text[n] = '\0';
    fclose(f);
    unlink(path);
    *out = text;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* LANG=zh_CN.UTF-8: the Chinese labels store the same report as the English
 * names; a bad enum, --help and the table headers are in Chinese; machine
 * output keeps the English names. */
static void
test_chinese_cli(void **state)
{
    s_fx_t *fx = *state;
    char zh[1024], en[1024], line[4096];
    snprintf(zh, sizeof zh,
             "env -u LC_ALL -u LC_MESSAGES -u LANGUAGE LANG=zh_CN.UTF-8 SANJI_LOCALEDIR=%s %s"
             " --data %s --station " S_STATION,
             LOCALE_DIR, AGENT_BIN, fx->dir);
    snprintf(en, sizeof en,
             "env -u LC_ALL -u LC_MESSAGES -u LANGUAGE LANG=C SANJI_LOCALEDIR=%s %s --data %s"
             " --station " S_STATION,
             LOCALE_DIR, AGENT_BIN, fx->dir);
    char *out = NULL;
    snprintf(
        line, sizeof line,
        "%s submit --channel 来访 --level 到县 --category 土地 --outcome 受理 --source 上级交办"
        " --summary zh-labels --id 0190dddd-0000-7000-8000-000000000001 --wait 0",
        zh);
    assert_int_equal(s_sh(line, &out), 0);
    assert_non_null(strstr(out, "已保存为本站")); /* the message, in Chinese */
    free(out);
    snprintf(line, sizeof line,
             "%s submit --channel visit --level county --category land --outcome accepted"
             " --source assigned --summary zh-labels --id 0190dddd-0000-7000-8000-000000000002"
             " --wait 0",
             en);
    assert_int_equal(s_sh(line, &out), 0);
    assert_non_null(strstr(out, "stored as report"));
    free(out);
    /* the same report either way (machine output: English names) */
    snprintf(line, sizeof line, "%s outbox --format csv | grep zh-labels | cut -d, -f4-", zh);
    assert_int_equal(s_sh(line, &out), 0);
    char *second = strchr(out, '\n');
    assert_non_null(second);
    *second++ = '\0';
    assert_string_equal(out, strtok(second, "\n"));
    assert_non_null(strstr(out, "visit,individual,1,county,land,accepted,zh-labels"));
    free(out);
    /* a bad enum: the error in Chinese, with the Chinese labels; nothing stored */
    snprintf(line, sizeof line, "%s submit --channel 走访 --level 到县 --summary x --wait 0", zh);
    assert_int_equal(s_sh(line, &out), 2);
    assert_non_null(strstr(out, "不是以下之一"));
    assert_non_null(strstr(out, "来访"));
    free(out);
    snprintf(line, sizeof line, "%s submit --channel walk --level county --summary x --wait 0", en);
    assert_int_equal(s_sh(line, &out), 2);
    assert_non_null(strstr(out, "is not one of: visit"));
    free(out);
    /* --help and table headers */
    snprintf(line, sizeof line, "%s --help", zh);
    assert_int_equal(s_sh(line, &out), 0);
    assert_non_null(strstr(out, "命令："));
    assert_non_null(strstr(out, "登记一件事项"));
    free(out);
    snprintf(line, sizeof line, "%s --help", en);
    assert_int_equal(s_sh(line, &out), 0);
    assert_non_null(strstr(out, "commands:"));
    free(out);
    snprintf(line, sizeof line, "%s outbox", zh);
    assert_int_equal(s_sh(line, &out), 0);
    assert_non_null(strstr(out, "事由摘要"));
    assert_non_null(strstr(out, "待发送 "));
    free(out);
}

/* serve restarted between the GET of a form and its POST: the form's CSRF
 * token still holds (its key is in the store), a form key acted on before
 * the restart acts no more after it, and a login outlives it. */
static void
test_restart_keeps_forms_and_logins(void **state)
{
    s_fx_t *fx = *state;
    char *argv[] = {AGENT_BIN, "--data", fx->dir,       "--station", S_STATION,
                    "serve",   "--http", "127.0.0.1:0", NULL};
    s_open_form(fx);
    web_server_stop(&fx->srv);
    web_server_start(&fx->srv, argv);
    int before = s_outbox_rows(fx, NULL);
    char body[1024], id[40];
    web_resp_t r;
    snprintf(body, sizeof body,
             "csrf=%s&key=%s&channel=visit&persons=1&level=village&summary=after-restart", fx->csrf,
             fx->key);
    assert_int_equal(s_post(fx, "/record", NULL, body, &r), 303);
    web_resp_free(&r);
    assert_int_equal(s_outbox_rows(fx, "after-restart"), before + 1);
    snprintf(id, sizeof id, "%s", fx->key);
    /* a change, then a restart, then the same form again: once */
    snprintf(body, sizeof body,
             "csrf=%s&key=0190aaaa-0000-7000-8000-0000000000a1&id=%s&outcome=accepted", fx->csrf,
             id);
    assert_int_equal(s_post(fx, "/update", NULL, body, &r), 303);
    web_resp_free(&r);
    assert_int_equal(s_outbox_rows(fx, NULL), before + 2);
    web_server_stop(&fx->srv);
    web_server_start(&fx->srv, argv);
    assert_int_equal(s_post(fx, "/update", NULL, body, &r), 303);
    web_resp_free(&r);
    assert_int_equal(s_outbox_rows(fx, NULL), before + 2);

    /* a login outlives a restart */
    char pwfile[1024], cmd[4096];
    snprintf(pwfile, sizeof pwfile, "%s/restart.pw", fx->dir);
    snprintf(cmd, sizeof cmd, "echo 'restart horse 2' | %s passwd --password-file %s >/dev/null",
             AGENT_BIN, pwfile);
    assert_int_equal(system(cmd), 0);
    char *pargv[] = {AGENT_BIN, "--data",      fx->dir,           "--station", S_STATION, "serve",
                     "--http",  "127.0.0.1:0", "--password-file", pwfile,      NULL};
    web_server_start(&fx->gate, pargv);
    assert_int_equal(web_request(fx->gate.port, "GET", "/login", NULL, &r), 0);
    char set[256], cookie[300], csrf[64], headers[512];
    assert_true(web_header(&r, "Set-Cookie", set, sizeof set));
    *strchr(set, ';') = '\0';
    snprintf(cookie, sizeof cookie, "Cookie: %s\r\n", set);
    s_field(r.body, "csrf", csrf, sizeof csrf);
    web_resp_free(&r);
    snprintf(headers, sizeof headers,
             "%sContent-Type: application/x-www-form-urlencoded\r\nOrigin: http://127.0.0.1:%u\r\n",
             cookie, fx->gate.port);
    snprintf(body, sizeof body, "csrf=%s&password=restart+horse+2", csrf);
    assert_int_equal(web_request_body(fx->gate.port, "POST", "/login", headers, body, &r), 0);
    assert_int_equal(r.status, 303);
    assert_true(web_header(&r, "Set-Cookie", set, sizeof set));
    web_resp_free(&r);
    *strchr(set, ';') = '\0';
    snprintf(cookie, sizeof cookie, "Cookie: %s\r\n", set);
    web_server_stop(&fx->gate);
    web_server_start(&fx->gate, pargv);
    assert_int_equal(web_request(fx->gate.port, "GET", "/record", cookie, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "登记一件信访事项"));
    web_resp_free(&r);
    assert_int_equal(web_request(fx->gate.port, "GET", "/record", NULL, &r), 0);
    assert_int_equal(r.status, 303); /* still nothing without the login */
    web_resp_free(&r);
    web_server_stop(&fx->gate);
}

/* How many entry rows a page of the outbox shows, and the number of the
 * first (newest) one. */
static int
s_page_rows(const char *body, long *first_seq)
{
    int n = 0;
    *first_seq = -1;
    for (const char *p = strstr(body, "<tr class=\"state-"); p;
         p = strstr(p + 1, "<tr class=\"state-")) {
        if (n++ == 0) {
            const char *td = strstr(p, "<td>");
            assert_non_null(td);
            *first_seq = strtol(td + 4, NULL, 10);
        }
    }
    return n;
}

static void
test_outbox_pages(void **state)
{
    s_fx_t *fx = *state;
    int before = s_outbox_rows(fx, NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/pages.jsonl", fx->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 1; i <= 120; i++) {
        fprintf(f,
                "{\"channel\":\"letter\",\"level\":\"village\",\"occurred_on\":\"2026-01-02\","
                "\"summary\":\"page-test %d\"}\n",
                i);
    }
    fclose(f);
    char *imp[] = {AGENT_BIN, "--data", fx->dir, "--station", S_STATION,
                   "import",  "--wait", "0",     path,        NULL};
    int status = -1;
    free(web_run(imp, &status));
    assert_int_equal(status, 0);
    int total = before + 120;
    assert_int_equal(s_outbox_rows(fx, NULL), total);
    int pages = (total + 49) / 50;

    web_resp_t r;
    long first = 0;
    assert_int_equal(web_request(fx->srv.port, "GET", "/outbox", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(s_page_rows(r.body, &first), 50);
    assert_int_equal(first, total); /* newest first */
    assert_non_null(strstr(r.body, "page-test 120"));
    assert_null(strstr(r.body, "page-test 1<")); /* the oldest is on a later page */
    char want[128];
    snprintf(want, sizeof want, "data-pages=\"%d\"", pages);
    assert_non_null(strstr(r.body, want));
    assert_non_null(strstr(r.body, "<a id=\"older\" rel=\"next\" href=\"/outbox?page=2\">"));
    assert_null(strstr(r.body, "id=\"newer\""));
    assert_non_null(strstr(r.body, "<strong aria-current=\"page\">1</strong>"));
    web_resp_free(&r);

    char target[64];
    snprintf(target, sizeof target, "/outbox?page=%d&lang=en", pages);
    assert_int_equal(web_request(fx->srv.port, "GET", target, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    int last_rows = total - (pages - 1) * 50;
    assert_int_equal(s_page_rows(r.body, &first), last_rows);
    assert_int_equal(first, last_rows);
    assert_non_null(strstr(r.body, "id=\"newer\""));
    assert_non_null(strstr(r.body, "&amp;lang=en\">« newer</a>"));
    assert_null(strstr(r.body, "id=\"older\""));
    web_resp_free(&r);

    /* past the end: the last page; not a number: the first */
    assert_int_equal(web_request(fx->srv.port, "GET", "/outbox?page=9999", NULL, &r), 0);
    assert_int_equal(s_page_rows(r.body, &first), last_rows);
    web_resp_free(&r);
    assert_int_equal(web_request(fx->srv.port, "GET", "/outbox?page=x", NULL, &r), 0);
    assert_int_equal(s_page_rows(r.body, &first), 50);
    assert_int_equal(first, total);
    web_resp_free(&r);
}

/* A loopback port nothing listens on (bound to 0, read, closed). */
static int
s_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *) &a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *) &a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* Polls the outbox page until it contains text (20 s). */
static void
s_wait_page(s_fx_t *fx, const char *text)
{
    for (int i = 0; i < 400; i++) {
        web_resp_t r;
        assert_int_equal(web_request(fx->srv.port, "GET", "/outbox", NULL, &r), 0);
        int found = strstr(r.body, text) != NULL;
        web_resp_free(&r);
        if (found) {
            return;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fail_msg("the outbox page never said '%s'", text);
}

static void
test_outbox_link_state(void **state)
{
    s_fx_t *fx = *state;
    web_resp_t r;
    /* no run: said, and where it would deliver */
    assert_int_equal(web_request(fx->srv.port, "GET", "/outbox", NULL, &r), 0);
    assert_non_null(strstr(r.body, "data-state=\"not-running\""));
    assert_non_null(strstr(r.body, "后台发送服务未运行"));
    assert_non_null(strstr(r.body, "最后联系： 从未"));
    web_resp_free(&r);
    assert_int_equal(web_request(fx->srv.port, "GET", "/outbox?lang=en", NULL, &r), 0);
    assert_non_null(strstr(r.body, "not running (village-agent run)"));
    web_resp_free(&r);

    /* run, with a hub address where nothing listens: unreachable, and why */
    char hub[64];
    snprintf(hub, sizeof hub, "tcp://127.0.0.1:%d", s_free_port());
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test takes it along */
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execl(AGENT_BIN, AGENT_BIN, "--data", fx->dir, "--station", S_STATION, "--hub", hub,
              "--insecure", "run", (char *) NULL);
        _exit(127);
    }
    s_wait_page(fx, "data-state=\"running\"");
    s_wait_page(fx, "连不上乡镇");
    assert_int_equal(web_request(fx->srv.port, "GET", "/outbox", NULL, &r), 0);
    assert_non_null(strstr(r.body, "<span id=\"link-why\">cannot reach the hub"));
    web_resp_free(&r);
    char *argv[] = {AGENT_BIN, "--data", fx->dir, "--station", S_STATION, "status", NULL};
    int status = -1;
    char *text = web_run(argv, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(text, "run: running"));
    assert_non_null(strstr(text, "the township hub cannot be reached since"));
    assert_non_null(strstr(text, "last contact with the hub: never"));
    free(text);

    /* stopped: not running, the last state said */
    kill(pid, SIGTERM);
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    s_wait_page(fx, "data-state=\"not-running\"");
    assert_int_equal(web_request(fx->srv.port, "GET", "/outbox", NULL, &r), 0);
    assert_non_null(strstr(r.body, "最后状态： 已停止"));
    web_resp_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_posted_twice_records_once),
        cmocka_unit_test(test_bad_fields_refused_next_to_the_field),
        cmocka_unit_test(test_csrf_origin_and_session_refused),
        cmocka_unit_test(test_change_posted_twice_records_once),
        cmocka_unit_test(test_password_gate),
        cmocka_unit_test(test_narrow_tables),
        cmocka_unit_test(test_chinese_cli),
        cmocka_unit_test(test_outbox_pages),
        cmocka_unit_test(test_outbox_link_state),
        cmocka_unit_test(test_restart_keeps_forms_and_logins),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
