/* The township page's matters and case view (issue 15), by real clicks in
 * headless Chromium (1024x768): a search typed into the box finds a matter
 * by a Chinese substring of its summary; its id shows by its random tail;
 * a click opens the case with the note written at the station on closing;
 * the assignment sheet (交办单) and the case sheet fit one A4 page; both
 * languages. Screenshots into the build tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hub_store.h"
#include "hub_store_view.h"
#include "sj_db.h"
#include "sj_ids.h"
#include "web_harness.h"
#include "webdriver.h"

#define S_SKIP 77
#define S_WAIT 20000
#define LAND   "01930000-0000-7000-8000-00000000a11d"
#define NOTE   "经现场丈量，双方签订调解协议"

typedef struct {
    char dir[64];
    hub_store_t *store;
    web_server_t srv;
    wd_t *wd;
    char shots[512];
} s_fx_t;

static void
s_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg ? msg : "?");
    }
}

/* Two matters of station 201 as the hub keeps them: the land one accepted
 * and closed with a note, assigned by the county; another pending. */
static void
s_fill(sqlite3 *db)
{
    s_exec(db,
           "INSERT INTO reports(id, origin, occurred_on, channel, kind, persons, level, category,"
           " summary, officer, created_ms) VALUES"
           " (x'0193000000007000800000000000a11d', '230523100201', '2026-11-02', 1, 1, 3, 2, 1,"
           "  '村民反映土地承包合同到期后被收回', '李明', 1761000000000),"
           " (x'01930000000070008000000000000b0b', '230523100201', '2026-11-03', 2, 1, 1, 1, 3,"
           "  '企业拖欠工资三个月', '李明', 1761000100000);"
           "INSERT INTO cases(id, origin, reported_outcome, outcome, updated_ms) VALUES"
           " (x'0193000000007000800000000000a11d', '230523100201', 1, 4, 0);"
           "INSERT INTO case_changes(hub_seq, case_id, origin, id, created_ms, prev_outcome,"
           " new_outcome, parent, applied, note, officer) VALUES"
           " (3, x'0193000000007000800000000000a11d', '230523100201', randomblob(16),"
           "  1761000200000, 1, 3, x'', 1, '已受理', '张丽'),"
           " (4, x'0193000000007000800000000000a11d', '230523100201', randomblob(16),"
           "  1761000300000, 3, 4, NULL, 2, '" NOTE "', '张丽');"
           "INSERT INTO assignments(id, case_id, assignee, due_on, origin, created_ms, note,"
           " officer, summary, item, received_ms) VALUES"
           " (randomblob(16), x'0193000000007000800000000000a11d', '230523100', '2026-12-01',"
           "  '230523', 1761000250000, '请乡镇核实承包合同', '县信访局王', 's', x'00', 1);");
}

static int
s_setup(void **state)
{
    assert_int_equal(sj_ids_init(), SJ_OK);
    s_fx_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->shots, sizeof fx->shots, "%s", SHOTS_DIR);
    mkdir(fx->shots, 0755);
    if (!wd_available()) {
        print_message("SKIP: no chromedriver/chromium (apt install chromium chromium-driver)\n");
        free(fx);
        exit(S_SKIP);
    }
    char dir[600];
    snprintf(dir, sizeof dir, "%s/driver-case-page", fx->shots);
    fx->wd = wd_start(dir, "zh-CN");
    if (!fx->wd) {
        print_message("chromedriver/chromium are installed but do not start (see %s)\n", dir);
        free(fx);
        return -1;
    }
    snprintf(fx->dir, sizeof fx->dir, "/tmp/sanji-casepage-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    char err[256] = "";
    fx->store = hub_store_open(fx->dir, "230523100", SJ_DB_WRITE, err, sizeof err);
    if (!fx->store) {
        fail_msg("hub_store_open: %s", err);
    }
    s_fill(hub_store_db(fx->store));
    char *argv[] = {HUB_BIN, "serve", "--data", fx->dir, "--http", "127.0.0.1:0", NULL};
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
    hub_store_close(&fx->store);
    DIR *d = opendir(fx->dir);
    struct dirent *ent;
    while (d && (ent = readdir(d)) != NULL) {
        if (ent->d_name[0] != '.') {
            char path[512];
            snprintf(path, sizeof path, "%s/%s", fx->dir, ent->d_name);
            unlink(path);
        }
    }
    if (d) {
        closedir(d);
    }
    rmdir(fx->dir);
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
s_ready(s_fx_t *fx)
{
    WD_OK(wd_wait_js(fx->wd, "return document.documentElement.dataset.state === 'ready';", S_WAIT));
}

static void
s_shot(s_fx_t *fx, const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", fx->shots, name);
    WD_OK(wd_screenshot(fx->wd, path));
}

static void
test_case_page_search_open_print(void **state)
{
    s_fx_t *fx = *state;
    char text[4096], el[WD_ID];
    WD_OK(wd_get(fx->wd, fx->srv.url));
    s_ready(fx);
    /* both matters, newest first, each id by its random tail, whole in the title */
    WD_OK(wd_wait_js(fx->wd, "return document.querySelectorAll('#matters-body tr').length === 2;",
                     S_WAIT));
    WD_OK(wd_text_css(fx->wd, "#matters-body tr:nth-child(2) td:first-child", text, sizeof text));
    assert_string_equal(text, "00000000a11d");
    WD_OK(wd_text_css(fx->wd, "#matters-body tr:nth-child(2)", text, sizeof text));
    assert_non_null(strstr(text, "土地"));
    assert_non_null(strstr(text, "村民反映土地承包合同到期后被收回"));
    assert_non_null(strstr(text, "办结"));
    s_shot(fx, "township-matters-zh.png");
    /* the date inputs: YYYY-MM-DD text fields, the placeholder in Chinese;
     * the browser's 12/06/2026 does not pass the page */
    WD_OK(wd_js(fx->wd,
                "var d = document.getElementById('m-from'); return d.type + ' ' + d.placeholder;",
                NULL, text, sizeof text));
    assert_string_equal(text, "text 年-月-日");
    WD_OK(wd_find(fx->wd, "#m-from", el));
    WD_OK(wd_type(fx->wd, el, "12/06/2026"));
    WD_OK(wd_js(fx->wd, "return String(document.getElementById('m-from').checkValidity());", NULL,
                text, sizeof text));
    assert_string_equal(text, "false");
    WD_OK(wd_clear(fx->wd, el));

    /* a search typed into the box and applied with a click */
    WD_OK(wd_find(fx->wd, "#m-q", el));
    WD_OK(wd_type(fx->wd, el, "土地承包"));
    WD_OK(wd_click_css(fx->wd, "#m-apply"));
    WD_OK(wd_wait_js(fx->wd,
                     "return location.search.indexOf('q=') >= 0"
                     " && document.querySelectorAll('#matters-body tr').length === 1"
                     " && document.querySelector('#matters-body tr').dataset.case"
                     " === '" LAND "';",
                     S_WAIT));
    s_shot(fx, "township-search-zh.png");

    /* a click opens the case: the station's closing note, who, from -> to */
    WD_OK(wd_click_css(fx->wd, "#matters-body a.case"));
    if (wd_wait_js(fx->wd, "return !document.getElementById('case-view').hidden;", S_WAIT) != 0) {
        s_shot(fx, "township-case-failed.png");
        WD_OK(wd_text_css(fx->wd, "#status", text, sizeof text));
        fail_msg("no case view: %s", text);
    }
    WD_OK(wd_wait_js(fx->wd,
                     "return document.documentElement.dataset.state === 'ready'"
                     " && !document.getElementById('case-view').hidden"
                     " && document.querySelectorAll('#case-history-body tr').length === 4;",
                     S_WAIT));
    WD_OK(wd_text_css(fx->wd, "#case-history-body", text, sizeof text));
    assert_non_null(strstr(text, NOTE));
    assert_non_null(strstr(text, "张丽"));
    assert_non_null(strstr(text, "受理 → 办结"));
    assert_non_null(strstr(text, "请乡镇核实承包合同"));
    WD_OK(wd_text_css(fx->wd, "#case-fields-body", text, sizeof text));
    assert_non_null(strstr(text, LAND));
    assert_non_null(strstr(text, "不在乡镇"));
    s_shot(fx, "township-case-zh.png");

    /* the assignment sheet, then the case sheet: each within one A4 page
     * (794 x 1123 CSS pixels at 96 dpi) */
    WD_OK(wd_click_css(fx->wd, "#case-print-assign"));
    WD_OK(wd_wait_js(fx->wd, "return document.body.dataset.print === 'assign';", S_WAIT));
    WD_OK(wd_text_css(fx->wd, "#sheet-title", text, sizeof text));
    assert_non_null(strstr(text, "交办单"));
    WD_OK(wd_js(fx->wd,
                "var r = document.getElementById('sheet').getBoundingClientRect();"
                " return String(r.width <= 794 && r.height <= 1123);",
                NULL, text, sizeof text));
    assert_string_equal(text, "true");
    s_shot(fx, "township-assign-sheet-zh.png");
    WD_OK(wd_click_css(fx->wd, "#case-print-sheet"));
    WD_OK(wd_wait_js(fx->wd, "return document.body.dataset.print === 'sheet';", S_WAIT));
    WD_OK(wd_js(fx->wd,
                "var r = document.getElementById('sheet').getBoundingClientRect();"
                " return String(r.width <= 794 && r.height <= 1123);",
                NULL, text, sizeof text));
    assert_string_equal(text, "true");

    /* English: the same case, English words */
    WD_OK(wd_click_css(fx->wd, "#lang-en"));
    WD_OK(wd_wait_js(fx->wd, "return document.documentElement.lang === 'en';", S_WAIT));
    WD_OK(wd_text_css(fx->wd, "#case-history-body", text, sizeof text));
    assert_non_null(strstr(text, "accepted → concluded"));
    assert_non_null(strstr(text, NOTE));
    s_shot(fx, "township-case-en.png");

    /* back to the list */
    WD_OK(wd_click_css(fx->wd, "#case-back"));
    WD_OK(wd_wait_js(fx->wd,
                     "return document.getElementById('case-view').hidden"
                     " && !document.getElementById('matters-section').hidden;",
                     S_WAIT));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case_page_search_open_print),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
