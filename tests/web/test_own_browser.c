/* Leader ownership and the agenda on the county page (issue 16 items 4 and
 * 5, issue 17's leader role) in headless Chromium at 1024x768: a staff
 * account owns a case from the case view (the form carries the CSRF token; a
 * POST without it is refused), the case view shows the owner and the audit
 * trail names the account; the leader's account logs in and sees its cases
 * and the agenda, read only, in zh and en. Screenshots own-*.png. Skipped
 * (77) without chromedriver. */
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

#include "county_testdb.h"
#include "web_harness.h"
#include "webdriver.h"

#define S_SKIP 77
#define S_WAIT 15000
#define S_CASE "01900000-0000-7000-8000-000000000001"

typedef struct {
    county_testdb_t *db;
    web_server_t srv;
    wd_t *wd;
    char shots[512];
} s_fx_t;

static int
s_setup(void **state)
{
    s_fx_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->shots, sizeof fx->shots, "%s", SHOTS_DIR);
    mkdir(fx->shots, 0755);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/driver-own", fx->shots);
    if (!wd_available()) {
        print_message("SKIP: no chromedriver/chromium (apt install chromium chromium-driver)\n");
        free(fx);
        exit(S_SKIP);
    }
    fx->wd = wd_start(dir, "zh-CN");
    if (!fx->wd) {
        print_message("chromedriver/chromium are installed but do not start (see %s)\n", dir);
        free(fx);
        return -1;
    }
    fx->db = county_testdb_new();
    county_testdb_report(fx->db, S_CASE, "230523100201", "2026-11-03");
    county_store_close(&fx->db->store);
    {
        /* The township assigned to is one the county has heard of: in the
         * place list (an assignment to an unknown code is refused). */
        char cmd[2048];
        snprintf(cmd, sizeof cmd,
                 "printf '230523100,宝清镇\\n' > '%s/places.csv' && '%s' --data '%s' places import"
                 " '%s/places.csv' >/dev/null 2>&1",
                 fx->db->dir, COUNTY_BIN, fx->db->dir, fx->db->dir);
        int st = system(cmd);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    web_user_add(COUNTY_BIN, fx->db->dir, "sam", "staff", "sam-password-1");
    web_user_add(COUNTY_BIN, fx->db->dir, "lily", "leader", "lily-password-1");
    char *argv[] = {COUNTY_BIN, "serve", "--data", fx->db->dir, "--http", "127.0.0.1:0", NULL};
    web_server_start(&fx->srv, argv);
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
    web_server_stop(&fx->srv);
    county_testdb_destroy(&fx->db);
    print_message("screenshots: %s\n", fx->shots);
    free(fx);
    return 0;
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
    snprintf(path, sizeof path, "%s/own-%s.png", fx->shots, name);
    WD_OK(wd_screenshot(fx->wd, path));
}

/* Logs in on the login page (the browser is there) as name. */
static void
s_login(s_fx_t *fx, const char *name, const char *pw)
{
    WD_OK(wd_login(fx->wd, name, pw,
                   "return document.querySelector('[data-state=ready]') !== null;", S_WAIT));
}

/* "" when url ends with '/', else "/". */
static const char *
s_slash(const char *url)
{
    size_t n = strlen(url);
    return n && url[n - 1] == '/' ? "" : "/";
}

static void
s_wait_text(s_fx_t *fx, const char *css, const char *what)
{
    char js[600];
    snprintf(js, sizeof js,
             "const e = document.querySelector('%s'); return e !== null &&"
             " e.textContent.includes('%s');",
             css, what);
    WD_OK(wd_wait_js(fx->wd, js, S_WAIT));
}

static void
test_own_browser(void **state)
{
    s_fx_t *fx = *state;
    char url[300], text[4096], el[WD_ID];
    WD_OK(wd_get(fx->wd, fx->srv.url));
    s_login(fx, "sam", "sam-password-1");
    snprintf(url, sizeof url, "%s?case=%s&lang=zh", fx->srv.url, S_CASE);
    WD_OK(wd_get(fx->wd, url));
    WD_OK(wd_wait_js(fx->wd, "return !document.getElementById('own-form').hidden;", S_WAIT));
    WD_OK(wd_js(fx->wd, "return String(document.getElementById('case-owner').hidden);", NULL, text,
                sizeof text));
    assert_non_null(strstr(text, "true"));
    /* without the CSRF token the form's POST is refused */
    WD_OK(wd_js(fx->wd,
                "const x = new XMLHttpRequest(); x.open('POST', '/act/own', false);"
                " x.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded');"
                " x.send('case=" S_CASE "&leader=lily&key=0123456789abcdef0123456789abcdef');"
                " return String(x.status);",
                NULL, text, sizeof text));
    assert_non_null(strstr(text, "403"));
    WD_OK(wd_find(fx->wd, "#act-leader", el));
    WD_OK(wd_type(fx->wd, el, "lily"));
    WD_OK(wd_find(fx->wd, "#act-portfolio", el));
    WD_OK(wd_type(fx->wd, el, "信访"));
    s_shot(fx, "form-zh");
    WD_OK(wd_click_css(fx->wd, "#act-own"));
    s_wait_text(fx, "#case-owner-name", "lily");
    s_wait_text(fx, "#case-history-body", "包案");
    WD_OK(wd_text_css(fx->wd, "#case-owner", text, sizeof text));
    assert_non_null(strstr(text, "包案领导"));
    assert_non_null(strstr(text, "信访"));
    s_shot(fx, "owned-zh");
    WD_OK(wd_click_css(fx->wd, "#lang-en"));
    s_wait_text(fx, "#case-owner", "Owned by");
    WD_OK(wd_text_css(fx->wd, "#own-form", text, sizeof text));
    assert_non_null(strstr(text, "Leader ownership"));
    s_shot(fx, "owned-en");

    char *argv[] = {COUNTY_BIN, "--data",   fx->db->dir, "audit", "--user",
                    "sam",      "--format", "csv",       NULL};
    int status = -1;
    char *out = web_run(argv, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, ",sam,web,127.0.0.1,own,case " S_CASE " leader lily: event "));
    free(out);
    char *show[] = {COUNTY_BIN, "--data",   fx->db->dir, "cases", "--leader",
                    "lily",     "--format", "csv",       NULL};
    out = web_run(show, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, S_CASE));
    assert_non_null(strstr(out, "lily,信访"));
    free(out);

    /* The leader logs in: its cases, read only, and the agenda. */
    WD_OK(wd_click_css(fx->wd, "#logout"));
    WD_OK(wd_wait_css(fx->wd, "#login-form", S_WAIT, el));
    WD_OK(wd_find(fx->wd, "#name", el));
    WD_OK(wd_type(fx->wd, el, "lily"));
    WD_OK(wd_find(fx->wd, "#password", el));
    WD_OK(wd_type(fx->wd, el, "lily-password-1"));
    WD_OK(wd_click_css(fx->wd, "#login"));
    WD_OK(wd_wait_css(fx->wd, "#leader-title", S_WAIT, NULL));
    snprintf(url, sizeof url, "%s%sleader", fx->srv.url, s_slash(fx->srv.url));
    WD_OK(wd_get(fx->wd, url));
    s_wait_text(fx, "#leader-cases", S_CASE);
    WD_OK(wd_text_css(fx->wd, "#leader-title", text, sizeof text));
    assert_non_null(strstr(text, "我包案的案件"));
    WD_OK(wd_text_css(fx->wd, "#leader-cases", text, sizeof text));
    assert_non_null(strstr(text, "信访"));
    WD_OK(wd_js(fx->wd,
                "return String(document.querySelectorAll('form[action^=\\'/act\\']').length);",
                NULL, text, sizeof text));
    assert_non_null(strstr(text, "0")); /* read only */
    s_shot(fx, "leader-zh");
    WD_OK(wd_click_css(fx->wd, "#leader-agenda"));
    WD_OK(wd_wait_css(fx->wd, "#agenda-title", S_WAIT, NULL));
    WD_OK(wd_text_css(fx->wd, "#agenda-owned", text, sizeof text));
    assert_non_null(strstr(text, "领导包案 Cases owned by leaders (1)"));
    assert_non_null(strstr(text, S_CASE));
    assert_non_null(strstr(text, "lily"));
    s_shot(fx, "agenda");
    snprintf(url, sizeof url, "%s%sleader?lang=en", fx->srv.url, s_slash(fx->srv.url));
    WD_OK(wd_get(fx->wd, url));
    s_wait_text(fx, "#leader-title", "My cases");
    s_wait_text(fx, "#leader-agenda", "Meeting agenda");
    s_shot(fx, "leader-en");
    /* the dashboard and its API are not the leader's */
    WD_OK(wd_js(fx->wd,
                "const x = new XMLHttpRequest(); x.open('GET', '/api/stats', false); x.send();"
                " return String(x.status);",
                NULL, text, sizeof text));
    assert_non_null(strstr(text, "403"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_browser),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
