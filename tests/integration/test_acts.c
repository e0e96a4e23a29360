/* Actions from the pages (issue 17 item 2) against a real county, hub and
 * station, in headless Chromium at 1024x768, zh and en (screenshots
 * acts-*.png): on the county dashboard a staff account extends a case and
 * voids another, and the case's history and `audit` name the account; an
 * admin locks 2026-11 from the sign-off table. On the township page an
 * office account records a status change and approves 2026-11; both travel
 * up and reach the county with the account. A viewer sees no action form
 * and its POST is refused (403); no POST works without the CSRF token.
 * Skipped (77) without chromedriver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"
#include "web_harness.h"
#include "webdriver.h"

#define S_SKIP 77
#define S_WAIT 20000
#define T100   "230523100"
#define ST_A   T100 "201"

typedef struct {
    h_env_t *env;
    wd_t *wd;
    web_server_t csrv, hsrv; /* the two pages (stopped at teardown) */
} s_fx_t;

static int
s_setup(void **state)
{
    if (!wd_available()) {
        print_message("SKIP: no chromedriver/chromium (apt install chromium chromium-driver)\n");
        exit(S_SKIP);
    }
    s_fx_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->env = h_env_new("acts");
    assert_non_null(fx->env);
    mkdir(SHOTS_DIR, 0755);
    char dir[700];
    snprintf(dir, sizeof dir, "%s/driver", h_env_dir(fx->env));
    fx->wd = wd_start(dir, "zh-CN");
    if (!fx->wd) {
        print_message("chromedriver/chromium are installed but do not start (see %s)\n", dir);
        return -1;
    }
    *state = fx;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fx_t *fx = *state;
    if (!fx) {
        return 0;
    }
    wd_stop(&fx->wd);
    if (fx->hsrv.pid > 0) {
        web_server_stop(&fx->hsrv);
    }
    if (fx->csrv.pid > 0) {
        web_server_stop(&fx->csrv);
    }
    int rc = h_env_destroy(&fx->env);
    free(fx);
    return rc;
}

#define WD_OK(call)                                      \
    do {                                                 \
        if ((call) != 0) {                               \
            fail_msg("%s: %s", #call, wd_error(fx->wd)); \
        }                                                \
    } while (0)

static void
s_shot(s_fx_t *fx, const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/acts-%s.png", SHOTS_DIR, name);
    WD_OK(wd_screenshot(fx->wd, path));
}

/* Submits one matter of 2026-11-10; its id into id. */
static void
s_submit(h_node_t *st, const char *summary, char *id)
{
    const char *args[] = {"submit",     "--channel", "visit",     "--level", "county",
                          "--persons",  "2",         "--summary", summary,   "--occurred",
                          "2026-11-10", "--wait",    "0",         NULL};
    h_result_t r;
    int code = h_agent(st, args, &r, h_ms(30000));
    if (code != 0) {
        fprintf(stderr, "# submit: %s\n", r.err);
    }
    assert_int_equal(code, 0);
    snprintf(id, 64, "%.*s", (int) strcspn(r.out, "\n"), r.out);
    h_result_free(&r);
}

static void
s_sync(h_node_t *st)
{
    const char *sync[] = {"sync", "--timeout", "60", "--until-county", NULL};
    h_result_t r;
    int code = h_agent(st, sync, &r, h_ms(90000));
    if (code != 0) {
        fprintf(stderr, "# sync: %s\n", r.err);
    }
    h_result_free(&r);
    assert_int_equal(code, 0);
}

/* Logs in on the login page (the browser is there) as name. */
static void
s_login(s_fx_t *fx, const char *name, const char *pw)
{
    WD_OK(wd_login(fx->wd, name, pw, "return !document.getElementById('me').hidden;", S_WAIT));
}

static void
s_type(s_fx_t *fx, const char *css, const char *text)
{
    char el[WD_ID];
    WD_OK(wd_find(fx->wd, css, el));
    WD_OK(wd_type(fx->wd, el, text));
}

/* The session cookie ("sj_sid=...") and the CSRF token of a login over
 * HTTP. */
static void
s_http_login(uint16_t port, const char *name, const char *pw, char *cookie, char *csrf)
{
    web_resp_t r;
    assert_int_equal(web_request(port, "GET", "/login", NULL, &r), 0);
    char set[256] = "";
    assert_true(web_header(&r, "Set-Cookie", set, sizeof set));
    *strchr(set, ';') = '\0';
    const char *p = strstr(r.body, "name=\"csrf\" value=\"");
    assert_non_null(p);
    p += strlen("name=\"csrf\" value=\"");
    snprintf(csrf, 128, "%.*s", (int) strcspn(p, "\""), p);
    web_resp_free(&r);
    char hdr[512], body[512];
    snprintf(hdr, sizeof hdr,
             "Cookie: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
             "Origin: http://127.0.0.1:%u\r\n",
             set, (unsigned) port);
    snprintf(body, sizeof body, "csrf=%s&name=%s&password=%s", csrf, name, pw);
    assert_int_equal(web_request_body(port, "POST", "/login", hdr, body, &r), 0);
    assert_int_equal(r.status, 303);
    assert_true(web_header(&r, "Set-Cookie", set, sizeof set));
    *strchr(set, ';') = '\0';
    snprintf(cookie, 256, "%s", set);
    web_resp_free(&r);
    /* the new session's token */
    snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", cookie);
    assert_int_equal(web_request(port, "GET", "/api/me", hdr, &r), 0);
    p = strstr(r.body, "\"csrf\":\"");
    assert_non_null(p);
    p += strlen("\"csrf\":\"");
    snprintf(csrf, 128, "%.*s", (int) strcspn(p, "\""), p);
    web_resp_free(&r);
}

/* POSTs body to path with the session; the status. */
static int
s_post(uint16_t port, const char *cookie, const char *path, const char *body)
{
    char hdr[512];
    snprintf(hdr, sizeof hdr,
             "Cookie: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
             "Origin: http://127.0.0.1:%u\r\n",
             cookie, (unsigned) port);
    web_resp_t r;
    assert_int_equal(web_request_body(port, "POST", path, hdr, body, &r), 0);
    int status = r.status;
    if (status >= 400) {
        fprintf(stderr, "# POST %s: %d %s\n", path, status, r.body ? r.body : "");
    }
    web_resp_free(&r);
    return status;
}

static void
s_no_forms(s_fx_t *fx, const char *forms_js)
{
    char text[64];
    WD_OK(wd_js(fx->wd, forms_js, NULL, text, sizeof text));
    assert_non_null(strstr(text, "true"));
}

static void
test_acts_county_and_township_pages(void **state)
{
    s_fx_t *fx = *state;
    h_env_t *env = fx->env;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, ST_A, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    char a[64], b[64], c[64];
    s_submit(st, "土地承包纠纷", a);
    s_submit(st, "宅基地边界（重复录入）", b);
    s_submit(st, "拖欠工资", c);
    s_sync(st);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM matters", 3, 3, h_ms(30000)), 3);

    web_user_add(COUNTY_BIN, county->data, "sam", "staff", "sam-password-1");
    web_user_add(COUNTY_BIN, county->data, "ada", "admin", "ada-password-1");
    web_user_add(COUNTY_BIN, county->data, "vera", "viewer", "vera-password-1");
    web_user_add(HUB_BIN, hub->data, "zhao", "office", "zhao-password-1");
    web_user_add(HUB_BIN, hub->data, "li", "viewer", "li-password-1");
    web_server_t *csrv = &fx->csrv, *hsrv = &fx->hsrv;
    char *cargv[] = {COUNTY_BIN, "serve", "--data", county->data, "--http", "127.0.0.1:0", NULL};
    web_server_start(csrv, cargv);
    char *hargv[] = {HUB_BIN, "serve", "--data", hub->data, "--http", "127.0.0.1:0", NULL};
    web_server_start(hsrv, hargv);
    char url[300], text[4096];
    h_result_t r;

    /* ---- the county: staff extends case a and voids case b ---- */
    WD_OK(wd_get(fx->wd, csrv->url));
    s_login(fx, "sam", "sam-password-1");
    snprintf(url, sizeof url, "%s?case=%s&lang=zh", csrv->url, a);
    WD_OK(wd_get(fx->wd, url));
    WD_OK(wd_wait_js(fx->wd, "return !document.getElementById('extend-form').hidden;", S_WAIT));
    /* a refusal is shown next to the form, with the reason */
    s_type(fx, "#act-days", "999");
    s_type(fx, "#act-extend-reason", "需补充调查");
    s_type(fx, "#act-approved-by", "王主任");
    WD_OK(wd_click_css(fx->wd, "#act-extend"));
    WD_OK(wd_wait_js(fx->wd,
                     "const p = document.querySelector('#extend-form .refusal');"
                     " return !p.hidden && p.textContent.includes('--days');",
                     S_WAIT));
    s_shot(fx, "extend-refused-zh");
    char el[WD_ID];
    WD_OK(wd_find(fx->wd, "#act-days", el));
    WD_OK(wd_clear(fx->wd, el));
    WD_OK(wd_type(fx->wd, el, "10"));
    WD_OK(wd_click_css(fx->wd, "#act-extend"));
    WD_OK(
        wd_wait_js(fx->wd,
                   "const r = document.querySelector('#case-history-body tr[data-type=extension]');"
                   " return r !== null && r.textContent.includes('sam')"
                   " && r.textContent.includes('王主任');",
                   S_WAIT));
    s_shot(fx, "extended-zh");
    WD_OK(wd_click_css(fx->wd, "#lang-en"));
    WD_OK(wd_wait_js(fx->wd, "return document.documentElement.lang === 'en';", S_WAIT));
    WD_OK(wd_text_css(fx->wd, "#void-form", text, sizeof text));
    assert_non_null(strstr(text, "Void"));
    WD_OK(wd_text_css(fx->wd, "#case-history-body", text, sizeof text));
    assert_non_null(strstr(text, "extension"));
    s_shot(fx, "extended-en");

    snprintf(url, sizeof url, "%s?case=%s&lang=zh", csrv->url, b);
    WD_OK(wd_get(fx->wd, url));
    WD_OK(wd_wait_js(fx->wd, "return !document.getElementById('void-form').hidden;", S_WAIT));
    s_type(fx, "#act-void-reason", "重复录入");
    s_shot(fx, "void-zh");
    WD_OK(wd_click_css(fx->wd, "#act-void"));
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM fixes", 1, 1, h_ms(20000)), 1);
    const char *show_b[] = {b, NULL};
    assert_int_equal(h_tool(county, "show", show_b, &r), 0);
    fprintf(stderr, "# show b:\n%s", r.out);
    assert_non_null(strstr(r.out, "sam"));
    assert_non_null(strstr(r.out, "重复录入"));
    h_result_free(&r);
    const char *show_a[] = {a, NULL};
    assert_int_equal(h_tool(county, "show", show_a, &r), 0);
    assert_non_null(strstr(r.out, "sam"));
    h_result_free(&r);
    const char *audit_sam[] = {"--user", "sam", "--format", "csv", NULL};
    assert_int_equal(h_tool(county, "audit", audit_sam, &r), 0);
    fprintf(stderr, "# audit:\n%s", r.out);
    char want[200];
    snprintf(want, sizeof want, ",sam,web,127.0.0.1,extend,case %s +10 days: event ", a);
    assert_non_null(strstr(r.out, want));
    snprintf(want, sizeof want, ",sam,web,127.0.0.1,void,case %s voided: event ", b);
    assert_non_null(strstr(r.out, want));
    assert_non_null(strstr(r.out, ",sam,web,127.0.0.1,extend,'--days '999'"));
    h_result_free(&r);

    /* staff may not lock: no form */
    WD_OK(wd_get(fx->wd, csrv->url));
    WD_OK(wd_wait_js(fx->wd, "return document.querySelector('[data-state=ready]') !== null;",
                     S_WAIT));
    s_no_forms(fx, "return String(document.getElementById('lock-form').hidden);");
    WD_OK(wd_click_css(fx->wd, "#logout"));

    /* ---- the county: admin locks 2026-11 from the sign-off table ---- */
    s_login(fx, "ada", "ada-password-1");
    WD_OK(wd_wait_js(fx->wd, "return !document.getElementById('lock-form').hidden;", S_WAIT));
    s_type(fx, "#act-lock-month", "2026-11");
    s_shot(fx, "lock-zh");
    WD_OK(wd_click_css(fx->wd, "#act-lock"));
    assert_int_equal(
        h_wait_db(county, "SELECT count(*) FROM locks WHERE period = '2026-11'", 1, 1, h_ms(20000)),
        1);
    WD_OK(wd_wait_js(fx->wd,
                     "return document.querySelector('#signoff-body tr[data-state=locked]') !== null"
                     " && document.getElementById('signoff-body').textContent.includes('ada');",
                     S_WAIT));
    s_shot(fx, "locked-zh");
    /* locked once: the second try is refused next to the form */
    s_type(fx, "#act-lock-month", "2026-11");
    WD_OK(wd_click_css(fx->wd, "#act-lock"));
    WD_OK(wd_wait_js(fx->wd,
                     "const p = document.querySelector('#lock-form .refusal');"
                     " return !p.hidden && p.textContent.includes('already locked');",
                     S_WAIT));
    WD_OK(wd_click_css(fx->wd, "#lang-en"));
    WD_OK(wd_wait_js(fx->wd, "return document.documentElement.lang === 'en';", S_WAIT));
    s_shot(fx, "lock-refused-en");
    WD_OK(wd_click_css(fx->wd, "#logout"));

    /* ---- the county: a viewer sees no forms; its POST is 403 ---- */
    s_login(fx, "vera", "vera-password-1");
    snprintf(url, sizeof url, "%s?case=%s&lang=en", csrv->url, c);
    WD_OK(wd_get(fx->wd, url));
    WD_OK(wd_wait_js(fx->wd,
                     "return !document.getElementById('case-view').hidden"
                     " && document.getElementById('case-history-body').children.length > 0;",
                     S_WAIT));
    s_no_forms(fx, "return String(['assign', 'update', 'extend', 'evaluate', 'correct', 'void',"
                   " 'lock'].every((n) => document.getElementById(n + '-form').hidden));");
    s_shot(fx, "viewer-en");
    WD_OK(wd_click_css(fx->wd, "#logout"));
    char cookie[256], csrf[128], body[512];
    s_http_login(csrv->port, "vera", "vera-password-1", cookie, csrf);
    snprintf(body, sizeof body, "csrf=%s&key=k1&case=%s&reason=x", csrf, c);
    assert_int_equal(s_post(csrv->port, cookie, "/act/void", body), 403);
    snprintf(body, sizeof body, "csrf=%s&key=k2&month=2026-12", csrf);
    assert_int_equal(s_post(csrv->port, cookie, "/act/lock", body), 403);
    /* no CSRF token: refused, nothing done */
    s_http_login(csrv->port, "sam", "sam-password-1", cookie, csrf);
    snprintf(body, sizeof body, "key=k3&case=%s&reason=x", c);
    assert_int_equal(s_post(csrv->port, cookie, "/act/void", body), 403);
    snprintf(body, sizeof body, "csrf=wrong&key=k4&case=%s&days=5&reason=x&approved_by=y", c);
    assert_int_equal(s_post(csrv->port, cookie, "/act/extend", body), 403);
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM fixes"), 1);
    /* staff may not lock (403) */
    snprintf(body, sizeof body, "csrf=%s&key=k5&month=2026-12", csrf);
    assert_int_equal(s_post(csrv->port, cookie, "/act/lock", body), 403);
    /* with the token: evaluate refused (the case is open), correct done */
    snprintf(body, sizeof body, "csrf=%s&key=k6&case=%s&satisfaction=satisfied", csrf, c);
    assert_int_equal(s_post(csrv->port, cookie, "/act/evaluate", body), 400);
    snprintf(body, sizeof body, "csrf=%s&key=k7&case=%s&persons=4&reason=recount", csrf, c);
    assert_int_equal(s_post(csrv->port, cookie, "/act/correct", body), 303);
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM fixes"), 2);

    /* ---- the township page: office records a status change, approves ---- */
    WD_OK(wd_get(fx->wd, hsrv->url));
    s_login(fx, "zhao", "zhao-password-1");
    snprintf(url, sizeof url, "%s?case=%s&lang=zh", hsrv->url, a);
    WD_OK(wd_get(fx->wd, url));
    WD_OK(wd_wait_js(fx->wd, "return !document.getElementById('update-form').hidden;", S_WAIT));
    WD_OK(wd_select(fx->wd, "#act-outcome", "accepted"));
    s_type(fx, "#act-update-note", "乡镇已受理，正在调查");
    s_shot(fx, "hub-update-zh");
    WD_OK(wd_click_css(fx->wd, "#act-update"));
    WD_OK(wd_wait_js(fx->wd,
                     "const b = document.getElementById('case-history-body');"
                     " return b !== null && b.textContent.includes('乡镇已受理，正在调查')"
                     " && b.textContent.includes('zhao');",
                     S_WAIT));
    s_shot(fx, "hub-updated-zh");
    snprintf(url, sizeof url, "%s?lang=en", hsrv->url);
    WD_OK(wd_get(fx->wd, url));
    WD_OK(wd_wait_js(fx->wd, "return !document.getElementById('approve-section').hidden;", S_WAIT));
    s_type(fx, "#act-approve-month", "2026-11");
    s_shot(fx, "hub-approve-en");
    WD_OK(wd_click_css(fx->wd, "#act-approve"));
    const char *audit_zhao[] = {"--user", "zhao", "--format", "csv", NULL};
    int approved = 0;
    for (int64_t end = h_now_ms() + h_ms(20000); !approved && h_now_ms() < end; h_sleep_ms(200)) {
        assert_int_equal(h_tool(hub, "audit", audit_zhao, &r), 0);
        approved = strstr(r.out, ",zhao,web,127.0.0.1,approve,2026-11 approved") != NULL;
        if (approved) {
            assert_non_null(strstr(r.out, ",zhao,web,127.0.0.1,update,case "));
        }
        h_result_free(&r);
    }
    assert_true(approved);
    WD_OK(wd_wait_js(fx->wd, "return document.querySelector('[data-state=ready]') !== null;",
                     S_WAIT));
    s_shot(fx, "hub-approved-en");
    WD_OK(wd_click_css(fx->wd, "#logout"));
    s_login(fx, "li", "li-password-1");
    snprintf(url, sizeof url, "%s?case=%s&lang=en", hsrv->url, a);
    WD_OK(wd_get(fx->wd, url));
    WD_OK(wd_wait_js(fx->wd,
                     "return document.getElementById('case-history-body') !== null"
                     " && document.getElementById('case-history-body').children.length > 0;",
                     S_WAIT));
    s_no_forms(fx, "return String(['update', 'assign', 'extend', 'correct', 'void', 'approve']"
                   ".every((n) => document.getElementById(n + '-form').hidden)"
                   " && document.getElementById('approve-section').hidden);");
    s_shot(fx, "hub-viewer-en");
    s_http_login(hsrv->port, "li", "li-password-1", cookie, csrf);
    snprintf(body, sizeof body, "csrf=%s&key=h1&month=2026-12", csrf);
    assert_int_equal(s_post(hsrv->port, cookie, "/act/approve", body), 403);
    s_http_login(hsrv->port, "zhao", "zhao-password-1", cookie, csrf);
    snprintf(body, sizeof body, "key=h2&month=2026-12");
    assert_int_equal(s_post(hsrv->port, cookie, "/act/approve", body), 403);
    snprintf(body, sizeof body, "csrf=%s&key=h3&case=%s&outcome=closed&satisfaction=nope", csrf, a);
    assert_int_equal(s_post(hsrv->port, cookie, "/act/update", body), 400);
    /* the office's other actions, over HTTP: assign, extend, correct */
    snprintf(body, sizeof body, "csrf=%s&key=h4&case=%s&to=%s&due=2099-12-31&note=x", csrf, c,
             ST_A);
    assert_int_equal(s_post(hsrv->port, cookie, "/act/assign", body), 303);
    snprintf(body, sizeof body, "csrf=%s&key=h5&case=%s&to=230523100999&due=2099-12-31", csrf, c);
    assert_int_equal(s_post(hsrv->port, cookie, "/act/assign", body), 400);
    snprintf(body, sizeof body,
             "csrf=%s&key=h6&case=%s&days=5&reason=wait&approved_by=head&stage=", csrf, c);
    assert_int_equal(s_post(hsrv->port, cookie, "/act/extend", body), 303);
    snprintf(body, sizeof body, "csrf=%s&key=h7&case=%s&persons=5&reason=recount", csrf, c);
    assert_int_equal(s_post(hsrv->port, cookie, "/act/correct", body), 303);
    /* the same key again: done once (the first answer again) */
    assert_int_equal(s_post(hsrv->port, cookie, "/act/correct", body), 303);

    /* ---- both travel up: the county has them with the account ---- */
    s_sync(st);
    assert_int_equal(h_wait_db(county,
                               "SELECT count(*) FROM approvals WHERE month = '2026-11'"
                               " AND account = 'zhao'",
                               1, 1, h_ms(60000)),
                     1);
    assert_int_equal(h_tool(county, "show", show_a, &r), 0);
    fprintf(stderr, "# show a:\n%s", r.out);
    assert_non_null(strstr(r.out, "乡镇已受理，正在调查"));
    assert_non_null(strstr(r.out, "zhao"));
    h_result_free(&r);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM fixes", 3, 3, h_ms(60000)), 3);
    const char *show_c[] = {c, NULL};
    assert_int_equal(h_tool(county, "show", show_c, &r), 0);
    fprintf(stderr, "# show c:\n%s", r.out);
    assert_non_null(strstr(r.out, "head"));    /* the extension's approver */
    assert_non_null(strstr(r.out, "recount")); /* the corrections' reason */
    assert_non_null(strstr(r.out, ST_A));      /* the assignment */
    h_result_free(&r);
    const char *year[] = {"--year", "2026", NULL};
    assert_int_equal(h_tool(county, "approvals", year, &r), 0);
    assert_non_null(strstr(r.out, "zhao"));
    h_result_free(&r);

    assert_int_equal(h_stop(county, SIGTERM), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_acts_county_and_township_pages, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("acts", tests, NULL, NULL);
}
