/* Issue 16 item 6 in headless Chromium at 1024x768: the office's day list
 * of appointments (/appointments). A staff account makes an appointment
 * from the page's form (/act/appoint), sees it in the day list and marks it
 * kept with the row's button (/act/appointment); the county's
 * `appointments` and `audit` agree; a viewer gets no buttons. Today is
 * SANJI_TODAY (never the wall clock). Screenshots in zh and en
 * (appointments-*.png). Skipped (77) without chromedriver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "county_testdb.h"
#include "web_harness.h"
#include "webdriver.h"

#define S_SKIP  77
#define S_WAIT  15000
#define S_CASE  "01900000-0000-7000-8000-000000000001"
#define S_TODAY "2026-12-07"

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
    snprintf(dir, sizeof dir, "%s/driver-appointments", fx->shots);
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
    /* the server and every command take this day as today */
    assert_int_equal(setenv("SANJI_TODAY", S_TODAY, 1), 0);
    fx->db = county_testdb_new();
    county_testdb_report(fx->db, S_CASE, "230523100201", "2026-11-30");
    county_store_close(&fx->db->store);
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
    unsetenv("SANJI_TODAY");
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
    snprintf(path, sizeof path, "%s/appointments-%s.png", fx->shots, name);
    WD_OK(wd_screenshot(fx->wd, path));
}

static void
s_login(s_fx_t *fx, const char *name, const char *pw)
{
    WD_OK(wd_login(fx->wd, name, pw,
                   "return document.querySelector('[data-state=ready]') !== null;", S_WAIT));
}

static void
s_type(s_fx_t *fx, const char *css, const char *text)
{
    char el[WD_ID];
    WD_OK(wd_find(fx->wd, css, el));
    WD_OK(wd_clear(fx->wd, el));
    WD_OK(wd_type(fx->wd, el, text));
}

static char *
s_county(s_fx_t *fx, char *const args[])
{
    char *argv[16] = {COUNTY_BIN, "--data", fx->db->dir};
    int n = 3;
    for (int i = 0; args[i] && n < 15; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    int status = -1;
    char *out = web_run(argv, &status);
    assert_int_equal(status, 0);
    return out;
}

static void
test_appointments_browser_day_list(void **state)
{
    s_fx_t *fx = *state;
    char url[400], text[4096];
    WD_OK(wd_get(fx->wd, fx->srv.url));
    s_login(fx, "sam", "sam-password-1");

    /* The dashboard links to the day list of today: empty; the staff's
     * form makes one. */
    WD_OK(wd_wait_js(fx->wd, "return !document.getElementById('me').hidden;", S_WAIT));
    WD_OK(wd_click_css(fx->wd, "#me-appointments"));
    WD_OK(wd_wait_css(fx->wd, "#appoint-form", S_WAIT, NULL));
    WD_OK(wd_text_css(fx->wd, "#appt-title", text, sizeof text));
    assert_non_null(strstr(text, "约访日程 " S_TODAY));
    WD_OK(wd_text_css(fx->wd, "#appt-count", text, sizeof text));
    assert_non_null(strstr(text, "约访数： 0"));
    s_type(fx, "#appoint-case", S_CASE);
    s_type(fx, "#appoint-at", "09:30");
    s_type(fx, "#appoint-office", "县信访局");
    s_shot(fx, "form-zh");
    WD_OK(wd_click_css(fx->wd, "#appoint-save"));
    WD_OK(wd_wait_js(fx->wd,
                     "const t = document.querySelector('#appointments tbody');"
                     " return t && t.textContent.includes('县信访局')"
                     " && t.textContent.includes('待赴约');",
                     S_WAIT));
    WD_OK(wd_text_css(fx->wd, "#appointments", text, sizeof text));
    assert_non_null(strstr(text, "09:30"));
    assert_non_null(strstr(text, S_CASE));
    s_shot(fx, "pending-zh");

    /* The kept button marks it: the state reads 已赴约. */
    WD_OK(wd_click_css(fx->wd, "button[id^=kept-]"));
    WD_OK(wd_wait_js(fx->wd,
                     "const s = document.querySelector('#appointments td.state');"
                     " return s && s.textContent === '已赴约';",
                     S_WAIT));
    s_shot(fx, "kept-zh");

    /* English */
    snprintf(url, sizeof url, "%sappointments?on=%s&lang=en", fx->srv.url, S_TODAY);
    WD_OK(wd_get(fx->wd, url));
    WD_OK(wd_wait_css(fx->wd, "#appointments", S_WAIT, NULL));
    WD_OK(wd_text_css(fx->wd, "#appt-title", text, sizeof text));
    assert_non_null(strstr(text, "Appointments of " S_TODAY));
    WD_OK(wd_text_css(fx->wd, "#appointments td.state", text, sizeof text));
    assert_string_equal(text, "kept");
    WD_OK(wd_text_css(fx->wd, "#appoint-form", text, sizeof text));
    assert_non_null(strstr(text, "Office"));
    s_shot(fx, "kept-en");

    /* The CLI's day list and the audit trail agree. */
    char *list[] = {"appointments", "--on", S_TODAY, "--format", "json", NULL};
    char *out = s_county(fx, list);
    assert_non_null(
        strstr(out, "\"office\":\"县信访局\",\"state\":\"kept\",\"case_id\":\"" S_CASE));
    free(out);
    char *audit[] = {"audit", "--user", "sam", "--format", "csv", NULL};
    out = s_county(fx, audit);
    assert_non_null(strstr(out, ",sam,web,127.0.0.1,appoint,case " S_CASE " appointment on "));
    assert_non_null(strstr(out, ",sam,web,127.0.0.1,appointment,case " S_CASE " appointment "));
    free(out);
    char *report[] = {"report", "--year", "2026", NULL};
    out = s_county(fx, report);
    assert_non_null(strstr(out, "| 次 | 1 | 1 | 0 |"));
    free(out);

    /* A viewer sees the list without buttons or the form. */
    WD_OK(wd_get(fx->wd, fx->srv.url));
    WD_OK(wd_wait_js(fx->wd, "return document.querySelector('[data-state=ready]') !== null;",
                     S_WAIT));
    WD_OK(wd_click_css(fx->wd, "#logout"));
    s_login(fx, "vera", "vera-password-1");
    WD_OK(wd_get(fx->wd, url));
    WD_OK(wd_wait_css(fx->wd, "#appointments", S_WAIT, NULL));
    int n = -1;
    WD_OK(wd_count(fx->wd, "#appointments button, #appoint-form", &n));
    assert_int_equal(n, 0);
    WD_OK(wd_text_css(fx->wd, "#appointments td.state", text, sizeof text));
    assert_string_equal(text, "kept");
    s_shot(fx, "viewer-en");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appointments_browser_day_list),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
