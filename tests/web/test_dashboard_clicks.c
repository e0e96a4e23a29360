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

#define ID(n)  "01900000-0000-7000-8000-0000000000" #n
#define S_NOTE "经现场丈量，双方签订调解协议"

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
    /* 02 (accepted) assigned to township 100, overdue; its change to
     * accepted carries the station's note */
    county_testdb_assign(fx->db->db, ID(02), "230523100", "2000-01-01", 1706000000000LL);
    char *msg = NULL;
    if (sqlite3_exec(fx->db->db,
                     "INSERT INTO status_changes(eid, case_id, origin, id, created_ms,"
                     " prev_outcome, new_outcome, parent, applied, note, officer) VALUES(100,"
                     " x'01900000000070008000000000000002', '230523100201', randomblob(16),"
                     " 1706000500000, 1, 3, x'', 2, '" S_NOTE "', '张丽')",
                     NULL, NULL, &msg)
        != SQLITE_OK) {
        fail_msg("status change: %s", msg ? msg : "?");
    }
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

    /* dates are typed as YYYY-MM-DD: the browser's 12/06/2026 is refused by
     * the page (the form is not sent); a real date is applied */
    char el[WD_ID];
    WD_OK(wd_find(fx->wd, "#f-from", el));
    WD_OK(wd_clear(fx->wd, el));
    WD_OK(wd_type(fx->wd, el, "12/06/2026"));
    WD_OK(wd_click_css(fx->wd, "#f-apply"));
    WD_OK(wd_js(fx->wd,
                "return String(document.getElementById('f-from').validity.patternMismatch)"
                " + ' ' + String(location.search.indexOf('from=') < 0);",
                NULL, text, sizeof text));
    assert_string_equal(text, "true true");
    WD_OK(wd_clear(fx->wd, el));
    WD_OK(wd_type(fx->wd, el, "2000-01-01"));
    WD_OK(wd_click_css(fx->wd, "#f-apply"));
    WD_OK(wd_wait_js(fx->wd,
                     "return location.search.indexOf('from=2000-01-01') >= 0"
                     " && document.querySelector('[data-state=ready]') !== null"
                     " && document.getElementById('total-items').dataset.value === '2';",
                     S_WAIT));
    snprintf(path, sizeof path, "%s/dashboard-en-dates.png", fx->shots);
    WD_OK(wd_screenshot(fx->wd, path));

    /* keyboard: Tab reaches a control (the page works without a mouse) */
    WD_OK(wd_keys(fx->wd, "\xee\x80\x84")); /* U+E004 Tab */
    WD_OK(wd_js(fx->wd, "return document.activeElement && document.activeElement.tagName;", NULL,
                text, sizeof text));
    assert_string_not_equal(text, "BODY");
}

/* Issue 15 item 8: a click on a township, a chart bar or an overdue row
 * opens the matching matters or the case; matters and persons have their
 * own axes; the date inputs speak the page's language. */
static void
test_dashboard_clicks_open_matters_and_case(void **state)
{
    s_fx_t *fx = *state;
    char text[4096], path[700];
    WD_OK(wd_get(fx->wd, fx->srv.url));
    s_wait_ready(fx);
    /* the date inputs: YYYY-MM-DD text fields, the placeholder in Chinese */
    WD_OK(wd_js(fx->wd,
                "var d = document.getElementById('f-from'); return d.type + ' ' + d.placeholder;",
                NULL, text, sizeof text));
    assert_string_equal(text, "text 年-月-日");
    /* every matter is listed, newest first */
    WD_OK(wd_wait_js(fx->wd, "return document.querySelectorAll('#matters-body tr').length === 4;",
                     S_WAIT));

    /* a township row */
    WD_OK(wd_click_css(fx->wd, "#townships-body tr[data-township='230523101']"));
    WD_OK(wd_wait_js(fx->wd,
                     "var r = document.querySelectorAll('#matters-body tr');"
                     " return r.length === 2 && r[0].dataset.matter === '" ID(
                         04) "'"
                             " && r[1].dataset.matter === '" ID(
                                 03) "'"
                                     " && !document.getElementById('m-filter').hidden;",
                     S_WAIT));
    snprintf(path, sizeof path, "%s/dashboard-township-click-zh.png", fx->shots);
    WD_OK(wd_screenshot(fx->wd, path));

    /* a chart bar (Chart.js takes the click at the bar's point): the
     * category of the first bar, as many rows as its matters */
    WD_OK(wd_click_css(fx->wd, "#m-clear"));
    WD_OK(wd_wait_js(fx->wd, "return document.getElementById('m-filter').hidden;", S_WAIT));
    WD_OK(wd_js(fx->wd,
                "var c = Chart.getChart(document.getElementById('chart-category'));"
                " return String(c.data.datasets[0].yAxisID === 'y'"
                " && c.data.datasets[1].yAxisID === 'y1'"
                " && c.options.scales.y1.position === 'right');",
                NULL, text, sizeof text));
    assert_string_equal(text, "true");
    WD_OK(wd_js(fx->wd,
                "var cv = document.getElementById('chart-category');"
                " var c = Chart.getChart(cv); var p = c.getDatasetMeta(0).data[0];"
                " var r = cv.getBoundingClientRect();"
                " window.sjWant = c.data.datasets[0].data[0];"
                " cv.dispatchEvent(new MouseEvent('click', {clientX: r.left + p.x,"
                " clientY: r.top + (p.y + p.base) / 2, bubbles: true}));"
                " return String(window.sjWant);",
                NULL, text, sizeof text));
    WD_OK(wd_wait_js(fx->wd,
                     "return location.search.indexOf('category') >= 0"
                     " && document.querySelectorAll('#matters-body tr').length === window.sjWant;",
                     S_WAIT));

    /* an overdue row: the case, with the station's note in its history */
    WD_OK(wd_click_css(fx->wd, "#overdue-body tr[data-case='" ID(02) "']"));
    WD_OK(wd_wait_js(fx->wd,
                     "return !document.getElementById('case-view').hidden"
                     " && document.querySelectorAll('#case-history-body tr').length === 3;",
                     S_WAIT));
    WD_OK(wd_text_css(fx->wd, "#case-history-body", text, sizeof text));
    assert_non_null(strstr(text, S_NOTE));
    assert_non_null(strstr(text, "张丽"));
    assert_non_null(strstr(text, "待处理 → 受理"));
    snprintf(path, sizeof path, "%s/dashboard-case-zh.png", fx->shots);
    WD_OK(wd_screenshot(fx->wd, path));
    WD_OK(wd_click_css(fx->wd, "#case-print-assign"));
    WD_OK(wd_wait_js(fx->wd, "return document.body.dataset.print === 'assign';", S_WAIT));
    WD_OK(
        wd_js(fx->wd,
              "var r = document.getElementById('sheet').getBoundingClientRect();"
              " return String(r.width <= 794 && r.height <= 1123"
              " && document.getElementById('assign-body').textContent.indexOf('2000-01-01') >= 0);",
              NULL, text, sizeof text));
    assert_string_equal(text, "true");
    snprintf(path, sizeof path, "%s/dashboard-assign-sheet-zh.png", fx->shots);
    WD_OK(wd_screenshot(fx->wd, path));

    /* English: the words and the date inputs (the case sheet shows the
     * history; the assignment sheet does not) */
    WD_OK(wd_click_css(fx->wd, "#case-print-sheet"));
    WD_OK(wd_click_css(fx->wd, "#lang-en"));
    WD_OK(wd_wait_js(fx->wd, "return document.documentElement.lang === 'en';", S_WAIT));
    WD_OK(wd_text_css(fx->wd, "#case-history-body", text, sizeof text));
    if (!strstr(text, "pending → accepted")) {
        fail_msg("history in English: %s", text);
    }
    snprintf(path, sizeof path, "%s/dashboard-case-en.png", fx->shots);
    WD_OK(wd_screenshot(fx->wd, path));
    WD_OK(wd_click_css(fx->wd, "#case-back"));
    s_wait_ready(fx);
    WD_OK(wd_js(fx->wd, "return document.getElementById('f-from').placeholder;", NULL, text,
                sizeof text));
    assert_string_equal(text, "YYYY-MM-DD");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dashboard_clicks_language_and_filter),
        cmocka_unit_test(test_dashboard_clicks_open_matters_and_case),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
