/* Does a person's click on the real county dashboard (headless Chromium driven through WebDriver,
 * 1024x768) switch the language and apply a township filter, with the figures `stats` gives? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <cmocka.h>

#include "county_testdb.h"
#include "web_harness.h"
#include "webdriver.h"

#define S_SKIP 77 /* CTest SKIP_RETURN_CODE */
#define S_WAIT 20000

#define ID(n) "01900000-0000-7000-8000-0000000000" #n

static const county_testdb_matter_t s_data[] = {
    {ID(01), "2024-01-01", "230523100201", 1, 2, 12, 3, 1, 2, 1, "a", NULL, 0},
    {ID(02), "2024-01-20", "230523100201", 1, 1, 3, 3, 1, 3, 2, "b", NULL, 0},
    {ID(03), "2024-02-03", "230523101202", 2, 1, 1, 3, 3, 4, 3, "c", NULL, 0},
    {ID(04), "2024-02-14", "230523101201", 3, 1, 1, 2, 5, 2, 1, "d", NULL, 0},
};

typedef struct {
    county_testdb_t *db;
    web_server_t srv;
    wd_t *wd;
    char shots[512]; /* screenshots, in the build tree */
} s_fx_t;

static int
s_setup(void **state)
{
    s_fx_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->shots, sizeof fx->shots, "%s", SHOTS_DIR);
    mkdir(fx->shots, 0755);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/driver-dashboard", fx->shots);
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
    county_testdb_insert(fx->db, s_data, sizeof s_data / sizeof s_data[0]);
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
s_wait_ready(s_fx_t *fx)
{
    WD_OK(wd_wait_js(fx->wd, "return document.querySelector('[data-state=ready]') !== null;",
                     S_WAIT));
}

static void
test_dashboard_clicks_language_and_filter(void **state)
{
    s_fx_t *fx = *state;
    char text[512], path[700];
    WD_OK(wd_get(fx->wd, fx->srv.url));
    s_wait_ready(fx);
    WD_OK(wd_js(fx->wd, "return window.innerWidth + 'x' + window.innerHeight;", NULL, text,
                sizeof text));
    assert_string_equal(text, "1024x768");
    WD_OK(wd_text_css(fx->wd, "#title", text, sizeof text));
    assert_non_null(strstr(text, "县调访中心"));
    snprintf(path, sizeof path, "%s/dashboard-zh.png", fx->shots);
    WD_OK(wd_screenshot(fx->wd, path));
    /* all four matters */
    WD_OK(wd_wait_js(fx->wd, "return document.getElementById('total-items').dataset.value === '4';",
                     S_WAIT));

    /* a click on English: the page speaks English and the URL keeps the choice */
    WD_OK(wd_click_css(fx->wd, "#lang-en"));
    WD_OK(wd_wait_js(fx->wd, "return document.documentElement.lang === 'en';", S_WAIT));
    WD_OK(wd_text_css(fx->wd, "#title", text, sizeof text));
    assert_null(strstr(text, "县调访中心"));
    WD_OK(wd_url(fx->wd, text, sizeof text));
    assert_non_null(strstr(text, "lang=en"));

    /* the township filter, chosen from the dropdown and applied with a click */
    WD_OK(wd_wait_css(fx->wd, "#f-township option[value='230523101']", S_WAIT, NULL));
    WD_OK(wd_select(fx->wd, "#f-township", "230523101"));
    WD_OK(wd_click_css(fx->wd, "#f-apply"));
    WD_OK(wd_wait_js(fx->wd,
                     "return location.search.indexOf('township=230523101') >= 0"
                     " && document.querySelector('[data-state=ready]') !== null"
                     " && document.getElementById('total-items').dataset.value === '2';",
                     S_WAIT));
    snprintf(path, sizeof path, "%s/dashboard-en-township.png", fx->shots);
    WD_OK(wd_screenshot(fx->wd, path));

    /* keyboard: Tab reaches a control (the page works without a mouse) */
    WD_OK(wd_keys(fx->wd, "\xee\x80\x84")); /* U+E004 Tab */
    WD_OK(wd_js(fx->wd, "return document.activeElement && document.activeElement.tagName;", NULL,
                text, sizeof text));
    assert_string_not_equal(text, "BODY");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dashboard_clicks_language_and_filter),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
