/* The officer's desk in a real browser (headless Chromium through WebDriver,
 * 1024x768): a matter typed with a Chinese summary and saved with a click is
 * stored once (a reload and the outbox say so); a letter from 3 persons and
 * a date after today are refused next to the field in Chinese; the pages in
 * Chinese and in English, screenshots into the build tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <cmocka.h>

#include "web_harness.h"
#include "webdriver.h"

#define S_SKIP    77 /* CTest SKIP_RETURN_CODE */
#define S_WAIT    20000
#define S_STATION "110101001001"

typedef struct {
    char dir[64];
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
    snprintf(dir, sizeof dir, "%s/driver-desk", fx->shots);
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
    if (!fx) {
        return 0;
    }
    wd_stop(&fx->wd);
    web_server_stop(&fx->srv);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", fx->dir);
    assert_int_equal(system(cmd), 0);
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
    snprintf(path, sizeof path, "%s/desk-%s.png", fx->shots, name);
    WD_OK(wd_screenshot(fx->wd, path));
}

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

static void
s_type(s_fx_t *fx, const char *css, const char *text)
{
    char el[WD_ID];
    WD_OK(wd_find(fx->wd, css, el));
    WD_OK(wd_clear(fx->wd, el));
    WD_OK(wd_type(fx->wd, el, text));
}

static void
test_desk_record_in_chinese(void **state)
{
    s_fx_t *fx = *state;
    char text[2048];
    WD_OK(wd_get(fx->wd, fx->srv.url));
    WD_OK(wd_js(fx->wd, "return window.innerWidth + 'x' + window.innerHeight;", NULL, text,
                sizeof text));
    assert_string_equal(text, "1024x768");
    WD_OK(wd_title(fx->wd, text, sizeof text));
    assert_non_null(strstr(text, "记录"));
    s_shot(fx, "record-zh");

    /* a letter from 3 persons: refused next to the persons field */
    WD_OK(wd_select(fx->wd, "#channel", "letter"));
    s_type(fx, "#persons", "3");
    WD_OK(wd_select(fx->wd, "#level", "village"));
    s_type(fx, "#summary", "来信反映土地承包纠纷");
    WD_OK(wd_click_css(fx->wd, "#save"));
    WD_OK(wd_wait_css(fx->wd, "#err-persons", S_WAIT, NULL));
    WD_OK(wd_text_css(fx->wd, "#err-persons", text, sizeof text));
    assert_non_null(strstr(text, "人数不符"));
    s_shot(fx, "record-refused-zh");
    assert_int_equal(s_outbox_rows(fx, NULL), 0);

    /* the date reads and is typed as YYYY-MM-DD (not the browser's
     * 12/06/2026): today in that form, the placeholder in Chinese */
    WD_OK(wd_js(fx->wd,
                "var d = document.getElementById('occurred');"
                " return d.type + ' ' + d.placeholder + ' '"
                " + String(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(d.value));",
                NULL, text, sizeof text));
    assert_string_equal(text, "text 年-月-日 true");
    s_type(fx, "#occurred", "12/06/2026"); /* the browser's way: refused by the page */
    WD_OK(wd_js(fx->wd,
                "return String(document.getElementById('occurred').validity.patternMismatch);",
                NULL, text, sizeof text));
    assert_string_equal(text, "true");
    s_type(fx, "#occurred", "2026-02-30"); /* no such day */
    WD_OK(wd_js(fx->wd, "return document.getElementById('occurred').validationMessage;", NULL, text,
                sizeof text));
    assert_non_null(strstr(text, "年-月-日"));
    /* a date after today: the page refuses it (data-max), and so does the server */
    s_type(fx, "#occurred", "2999-01-01");
    WD_OK(wd_js(fx->wd, "return document.getElementById('occurred').validationMessage;", NULL, text,
                sizeof text));
    assert_non_null(strstr(text, "日期不能晚于"));
    WD_OK(wd_js(fx->wd,
                "var d = document.getElementById('occurred'); d.removeAttribute('data-date');"
                " d.removeAttribute('data-max'); d.setCustomValidity(''); return '';",
                NULL, text, sizeof text));
    WD_OK(wd_select(fx->wd, "#channel", "visit"));
    WD_OK(wd_click_css(fx->wd, "#save"));
    WD_OK(wd_wait_css(fx->wd, "#err-occurred", S_WAIT, NULL));
    WD_OK(wd_text_css(fx->wd, "#err-occurred", text, sizeof text));
    assert_non_null(strstr(text, "日期有误"));
    assert_int_equal(s_outbox_rows(fx, NULL), 0);

    /* corrected: today, a visit of 3 persons, a Chinese summary with markup in it */
    WD_OK(wd_get(fx->wd, fx->srv.url));
    WD_OK(wd_select(fx->wd, "#channel", "visit"));
    s_type(fx, "#persons", "3");
    WD_OK(wd_select(fx->wd, "#level", "county"));
    WD_OK(wd_select(fx->wd, "#category", "land"));
    s_type(fx, "#summary", "三户村民反映土地承包纠纷 <b>急</b>");
    WD_OK(wd_text_css(fx->wd, "#summary-count", text, sizeof text));
    assert_non_null(strstr(text, "21 / ")); /* the counter counts characters */
    s_type(fx, "#officer", "王芳");
    WD_OK(wd_click_css(fx->wd, "#save"));
    WD_OK(wd_wait_css(fx->wd, "#saved", S_WAIT, NULL));
    WD_OK(wd_text_css(fx->wd, "#matter", text, sizeof text));
    assert_non_null(strstr(text, "三户村民反映土地承包纠纷 <b>急</b>")); /* text, not markup */
    assert_non_null(strstr(text, "待发送"));
    s_shot(fx, "matter-zh");
    /* a reload after the save records nothing more */
    WD_OK(wd_refresh(fx->wd));
    WD_OK(wd_wait_css(fx->wd, "#matter", S_WAIT, NULL));
    assert_int_equal(s_outbox_rows(fx, "三户村民反映土地承包纠纷"), 1);

    /* the outbox, in Chinese then in English */
    WD_OK(wd_click_css(fx->wd, "nav a[href^='/outbox']"));
    WD_OK(wd_wait_css(fx->wd, "#outbox", S_WAIT, NULL));
    WD_OK(wd_text_css(fx->wd, "#outbox", text, sizeof text));
    assert_non_null(strstr(text, "待发送"));
    s_shot(fx, "outbox-zh");
    WD_OK(wd_click_css(fx->wd, "nav a.lang"));
    WD_OK(wd_wait_js(fx->wd, "return document.documentElement.lang === 'en';", S_WAIT));
    WD_OK(wd_text_css(fx->wd, "#outbox", text, sizeof text));
    assert_non_null(strstr(text, "queued"));
    s_shot(fx, "outbox-en");
    WD_OK(wd_click_css(fx->wd, "nav a[href^='/record']"));
    WD_OK(wd_wait_css(fx->wd, "#save", S_WAIT, NULL));
    WD_OK(wd_text_css(fx->wd, "#save", text, sizeof text));
    assert_string_equal(text, "Save");
    WD_OK(wd_js(fx->wd, "return document.getElementById('occurred').placeholder;", NULL, text,
                sizeof text));
    assert_string_equal(text, "YYYY-MM-DD");
    s_shot(fx, "record-en");
    WD_OK(wd_click_css(fx->wd, "nav a[href^='/inbox']"));
    WD_OK(wd_wait_css(fx->wd, "#inbox", S_WAIT, NULL));
    s_shot(fx, "inbox-empty-en"); /* test_desk photographs it with an assignment */
    WD_OK(wd_click_css(fx->wd, "nav a.lang"));
    WD_OK(wd_wait_js(fx->wd, "return document.documentElement.lang === 'zh-CN';", S_WAIT));
    s_shot(fx, "inbox-empty-zh");

    /* keyboard: Tab reaches a control */
    WD_OK(wd_keys(fx->wd, "\xee\x80\x84")); /* U+E004 Tab */
    WD_OK(wd_js(fx->wd, "return document.activeElement && document.activeElement.tagName;", NULL,
                text, sizeof text));
    assert_string_not_equal(text, "BODY");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_desk_record_in_chinese),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
