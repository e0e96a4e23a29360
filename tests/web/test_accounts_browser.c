/* Issue 17 in headless Chromium at 1024x768: a staff account logs in and
 * assigns a case from the county dashboard, and the county's `audit` names
 * the account; a viewer gets no action form. Screenshots in zh and en
 * (accounts-*.png). Skipped (77) without chromedriver. */
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
    snprintf(dir, sizeof dir, "%s/driver-accounts", fx->shots);
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
    web_user_add(COUNTY_BIN, fx->db->dir, "vera", "viewer", "vera-password-1");
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
    snprintf(path, sizeof path, "%s/accounts-%s.png", fx->shots, name);
    WD_OK(wd_screenshot(fx->wd, path));
}

/* Logs in on the login page (the browser is there) as name. */
static void
s_login(s_fx_t *fx, const char *name, const char *pw)
{
    WD_OK(wd_login(fx->wd, name, pw,
                   "return document.querySelector('[data-state=ready]') !== null;", S_WAIT));
}

static void
test_accounts_browser_staff_assigns(void **state)
{
    s_fx_t *fx = *state;
    char url[300], text[2048], el[WD_ID];
    WD_OK(wd_get(fx->wd, fx->srv.url));
    WD_OK(wd_wait_css(fx->wd, "#login-form", S_WAIT, NULL));
    WD_OK(wd_url(fx->wd, text, sizeof text));
    assert_non_null(strstr(text, "/login"));
    s_shot(fx, "login-zh");
    s_login(fx, "sam", "sam-password-1");
    WD_OK(wd_wait_js(fx->wd, "return !document.getElementById('me').hidden;", S_WAIT));
    WD_OK(wd_text_css(fx->wd, "#me", text, sizeof text));
    assert_non_null(strstr(text, "sam"));
    assert_non_null(strstr(text, "工作人员"));

    snprintf(url, sizeof url, "%s?case=%s&lang=zh", fx->srv.url, S_CASE);
    WD_OK(wd_get(fx->wd, url));
    WD_OK(wd_wait_js(fx->wd, "return !document.getElementById('assign-form').hidden;", S_WAIT));
    char due[16];
    time_t t = time(NULL) + 10 * 86400;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(due, sizeof due, "%Y-%m-%d", &tm);
    WD_OK(wd_find(fx->wd, "#act-to", el));
    WD_OK(wd_type(fx->wd, el, "230523100"));
    char args[64];
    snprintf(args, sizeof args, "[\"%s\"]", due);
    WD_OK(wd_js(fx->wd, "document.getElementById('act-due').value = arguments[0]; return 1;", args,
                text, sizeof text));
    WD_OK(wd_find(fx->wd, "#act-note", el));
    WD_OK(wd_type(fx->wd, el, "请核实并回复"));
    s_shot(fx, "assign-zh");
    WD_OK(wd_click_css(fx->wd, "#act-assign"));
    /* back on the case, its history now has the assignment */
    WD_OK(wd_wait_js(fx->wd,
                     "const b = document.getElementById('case-history-body');"
                     " return b && b.textContent.includes('请核实并回复');",
                     S_WAIT));
    s_shot(fx, "assigned-zh");
    WD_OK(wd_click_css(fx->wd, "#lang-en"));
    WD_OK(wd_wait_js(fx->wd, "return document.documentElement.lang === 'en';", S_WAIT));
    WD_OK(wd_text_css(fx->wd, "#assign-form", text, sizeof text));
    assert_non_null(strstr(text, "Assign"));
    WD_OK(wd_text_css(fx->wd, "#update-form", text, sizeof text));
    assert_non_null(strstr(text, "Record a status change"));
    WD_OK(wd_text_css(fx->wd, "#me", text, sizeof text));
    assert_non_null(strstr(text, "staff"));
    s_shot(fx, "assigned-en");

    char *argv[] = {COUNTY_BIN, "--data",   fx->db->dir, "audit", "--user",
                    "sam",      "--format", "csv",       NULL};
    int status = -1;
    char *out = web_run(argv, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, ",sam,web,127.0.0.1,login,"));
    assert_non_null(strstr(out, ",sam,web,127.0.0.1,assign,case " S_CASE " to 230523100 due "));
    free(out);

    /* log out; a viewer sees the case without the form */
    WD_OK(wd_click_css(fx->wd, "#logout"));
    s_login(fx, "vera", "vera-password-1");
    snprintf(url, sizeof url, "%s?case=%s&lang=en", fx->srv.url, S_CASE);
    WD_OK(wd_get(fx->wd, url));
    WD_OK(wd_wait_js(fx->wd,
                     "return document.getElementById('me-role').textContent === 'viewer'"
                     " && !document.getElementById('case-view').hidden;",
                     S_WAIT));
    WD_OK(wd_js(fx->wd,
                "return String(document.getElementById('assign-form').hidden"
                " && document.getElementById('update-form').hidden);",
                NULL, text, sizeof text));
    assert_non_null(strstr(text, "true"));
    s_shot(fx, "viewer-en");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accounts_browser_staff_assigns),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
