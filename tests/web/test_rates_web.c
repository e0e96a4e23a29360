/* The four rates and the assessment table on the county dashboard (issue
 * 16 item 3), in headless Chromium at 1024x768, zh and en, screenshots into
 * the build tree: the figures are those `stats --cases` and `report
 * --assessment` give for the same store, on a day the test sets
 * (SANJI_TODAY, inherited by the server). */
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
#include "hub_store_view.h"
#include "sj_ids.h"
#include "web_harness.h"
#include "webdriver.h"

#define S_SKIP 77 /* CTest SKIP_RETURN_CODE */
#define S_WAIT 20000

#define ID(n) "01900000-0000-7000-8000-0000000000" #n

/* 01 resolved on the spot, 02 accepted on receipt (its conclusion overdue
 * on 2024-06-30), 03 pending (its acceptance overdue), 04 closed and
 * evaluated 满意; 05 accepted, assigned to the department. */
static const county_testdb_matter_t s_data[] = {
    {ID(01), "2024-01-01", "230523100201", 1, 1, 2, 3, 1, 2, 1, "a", NULL, 0},
    {ID(02), "2024-01-20", "230523100201", 1, 1, 3, 3, 1, 3, 1, "b", NULL, 0},
    {ID(03), "2024-02-03", "230523101202", 2, 1, 1, 3, 3, 1, 1, "c", NULL, 0},
    {ID(04), "2024-02-14", "230523101201", 3, 1, 1, 2, 5, 4, 1, "d", NULL, 0},
    {ID(05), "2024-06-20", "230523101201", 1, 1, 4, 3, 1, 3, 1, "e", NULL, 0},
};

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
    snprintf(dir, sizeof dir, "%s/driver-rates", fx->shots);
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
    county_testdb_assign(fx->db->db, ID(05), "230523901", "2024-07-20", 1718900000000LL);
    char *msg = NULL;
    if (sqlite3_exec(fx->db->db,
                     "INSERT INTO departments(code, name, created_ms) VALUES('230523901',"
                     " '县住建局', 0);"
                     "INSERT INTO evaluations(case_id, satisfaction, created_ms, origin, note,"
                     " officer) VALUES(x'01900000000070008000000000000004', 1, 1708000000000,"
                     " '230523', '回访', '李四')",
                     NULL, NULL, &msg)
        != SQLITE_OK) {
        fail_msg("setup: %s", msg ? msg : "?");
    }
    setenv("SANJI_TODAY", "2024-06-30", 1); /* the server's today */
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

/* The text of the cells of the row css, joined by '|'. */
static void
s_row(s_fx_t *fx, const char *css, char *out, size_t size)
{
    char js[512];
    snprintf(js, sizeof js,
             "var r = document.querySelector(\"%s\"); return r ? Array.from(r.cells)"
             ".map(function (c) { return c.textContent; }).join('|') : 'none';",
             css);
    WD_OK(wd_js(fx->wd, js, NULL, out, size));
}

static void
s_expect(s_fx_t *fx, const char *css, const char *want)
{
    char got[1024];
    s_row(fx, css, got, sizeof got);
    if (strcmp(got, want) != 0) {
        fail_msg("%s: got '%s', want '%s'", css, got, want);
    }
}

static void
test_rates_web(void **state)
{
    s_fx_t *fx = *state;
    char text[512], path[700];
    WD_OK(wd_get(fx->wd, fx->srv.url));
    WD_OK(wd_wait_js(fx->wd, "return document.querySelector('[data-state=ready]') !== null;",
                     S_WAIT));
    WD_OK(wd_js(fx->wd, "return window.innerWidth + 'x' + window.innerHeight;", NULL, text,
                sizeof text));
    assert_string_equal(text, "1024x768");
    /* the rates of every matter: acceptance decided 4 (all but 03), in
     * time; no conclusion stage done; 04 evaluated 满意; 01, 04 concluded */
    s_expect(fx, "#rates-body tr[data-rate=accept]", "及时受理率|4|4|4/4 100.0%");
    s_expect(fx, "#rates-body tr[data-rate=conclude]", "按期办结率|0|0|0/0 —");
    s_expect(fx, "#rates-body tr[data-rate=satisfaction]", "满意率|1|1|1/1 100.0%");
    s_expect(fx, "#rates-body tr[data-rate=participation]", "参评率|1|2|1/2 50.0%");
    /* overdue at any stage: 02 (conclusion), 03 (acceptance) */
    WD_OK(wd_wait_js(
        fx->wd, "return document.getElementById('total-overdue').dataset.value === '2';", S_WAIT));
    /* the overdue list shows the due date that passed: 03's acceptance */
    s_expect(fx, "#overdue-body tr[data-case='" ID(03) "']",
             ID(03) "|230523101|劳动就业|2024-02-18|133|");
    /* the assessment of 2024: two townships and the department, in code
     * order, the total last */
    WD_OK(wd_js(fx->wd,
                "return Array.from(document.querySelectorAll('#assessment-body tr'))"
                ".map(function (r) { return r.dataset.unit; }).join(',');",
                NULL, text, sizeof text));
    assert_string_equal(text, "230523100,230523101,230523901,total");
    s_expect(fx, "#assessment-body tr[data-unit='230523100']",
             "230523100|乡镇|2|5|2/2 100.0%|0/0 —|0/0 —|0/1 0.0%|1|0.0");
    s_expect(fx, "#assessment-body tr[data-unit='230523901']",
             "县住建局 230523901|县直部门|1|4|1/1 100.0%|0/0 —|0/0 —|0/0 —|0|—");
    s_expect(fx, "#assessment-body tr[data-unit='total']",
             "合计||5|11|4/4 100.0%|0/0 —|1/1 100.0%|1/2 50.0%|2|0.0");
    WD_OK(wd_text_css(fx->wd, "#assessment-period", text, sizeof text));
    assert_string_equal(text, "2024-01-01 — 2024-12-31");
    WD_OK(wd_js(fx->wd, "document.getElementById('assessment').scrollIntoView(); return 'ok';",
                NULL, text, sizeof text));
    snprintf(path, sizeof path, "%s/rates-zh.png", fx->shots);
    WD_OK(wd_screenshot(fx->wd, path));

    /* English */
    WD_OK(wd_click_css(fx->wd, "#lang-en"));
    WD_OK(wd_wait_js(fx->wd, "return document.documentElement.lang === 'en';", S_WAIT));
    s_expect(fx, "#rates-body tr[data-rate=accept]", "Timely acceptance|4|4|4/4 100.0%");
    s_expect(fx, "#assessment-body tr[data-unit='230523901']",
             "县住建局 230523901|county department|1|4|1/1 100.0%|0/0 —|0/0 —|0/0 —|0|—");
    s_expect(fx, "#assessment-body tr[data-unit='total']",
             "Total||5|11|4/4 100.0%|0/0 —|1/1 100.0%|1/2 50.0%|2|0.0");
    WD_OK(wd_text_css(fx->wd, "#assessment thead", text, sizeof text));
    assert_non_null(strstr(text, "On-time conclusion"));
    WD_OK(wd_js(fx->wd, "document.getElementById('assessment').scrollIntoView(); return 'ok';",
                NULL, text, sizeof text));
    snprintf(path, sizeof path, "%s/rates-en.png", fx->shots);
    WD_OK(wd_screenshot(fx->wd, path));
}

/* The township page: the rates per station and in total over the hub's
 * own cases (its clock, on the same SANJI_TODAY). 0A: received
 * 2024-01-01, accepted 2024-01-05 (in time), open, its conclusion due
 * 2024-03-05 (overdue); 0B: received 2024-02-01, accepted 2024-02-20
 * (late: due 2024-02-16), closed 2024-03-01 (in time), not evaluated. */
static void
test_rates_web_township(void **state)
{
    s_fx_t *fx = *state;
    char dir[64] = "/tmp/sanji-hubrates-XXXXXX", err[256] = "", text[512], path[700];
    assert_non_null(mkdtemp(dir));
    hub_store_t *hub = hub_store_open(dir, "230523100", SJ_DB_WRITE, err, sizeof err);
    if (!hub) {
        fail_msg("hub_store_open: %s", err);
    }
    char *msg = NULL;
    if (sqlite3_exec(
            hub_store_db(hub),
            "INSERT INTO reports(id, origin, occurred_on, channel, kind, persons, level,"
            " category, summary, officer, created_ms) VALUES"
            " (x'0000000000000000000000000000000a', '230523100201', '2024-01-01', 1, 1, 1, 3,"
            "  1, 'a', NULL, 1704100000000),"
            " (x'0000000000000000000000000000000b', '230523100202', '2024-02-01', 1, 1, 2, 3,"
            "  1, 'b', NULL, 1706780000000);"
            "INSERT INTO cases(id, origin, reported_outcome, outcome, updated_ms) VALUES"
            " (x'0000000000000000000000000000000a', '230523100201', 1, 3, 0),"
            " (x'0000000000000000000000000000000b', '230523100202', 1, 4, 0);"
            "INSERT INTO case_changes(case_id, origin, id, created_ms, prev_outcome,"
            " new_outcome, applied) VALUES"
            " (x'0000000000000000000000000000000a', '230523100201', randomblob(16),"
            "  1704456000000, 1, 3, 2),"
            " (x'0000000000000000000000000000000b', '230523100202', randomblob(16),"
            "  1708430400000, 1, 3, 1),"
            " (x'0000000000000000000000000000000b', '230523100202', randomblob(16),"
            "  1709294400000, 3, 4, 2);",
            NULL, NULL, &msg)
        != SQLITE_OK) {
        fail_msg("hub data: %s", msg ? msg : "?");
    }
    web_server_t srv;
    memset(&srv, 0, sizeof srv);
    char *argv[] = {HUB_BIN, "serve", "--data", dir, "--http", "127.0.0.1:0", NULL};
    web_server_start(&srv, argv);
    WD_OK(wd_get(fx->wd, srv.url));
    WD_OK(wd_wait_js(fx->wd,
                     "return document.querySelector('[data-state=ready]') !== null"
                     " && document.querySelectorAll('#rates-body tr').length === 3;",
                     S_WAIT));
    s_expect(fx, "#rates-body tr[data-station='230523100201']",
             "230523100201|1|1/1 100.0%|0/0 —|0/0 —|0/0 —");
    s_expect(fx, "#rates-body tr[data-station='230523100202']",
             "230523100202|1|0/1 0.0%|1/1 100.0%|0/0 —|0/1 0.0%");
    s_expect(fx, "#rates-body tr[data-station='total']",
             "合计|2|1/2 50.0%|1/1 100.0%|0/0 —|0/1 0.0%");
    /* 0A is overdue at its conclusion (any stage counts) */
    WD_OK(wd_text_css(fx->wd, "#overdue-count", text, sizeof text));
    assert_string_equal(text, "1");
    WD_OK(wd_js(fx->wd, "document.getElementById('rates').scrollIntoView(); return 'ok';", NULL,
                text, sizeof text));
    snprintf(path, sizeof path, "%s/rates-township-zh.png", fx->shots);
    WD_OK(wd_screenshot(fx->wd, path));
    char url[256];
    snprintf(url, sizeof url, "%s?lang=en", srv.url);
    WD_OK(wd_get(fx->wd, url));
    WD_OK(wd_wait_js(fx->wd,
                     "return document.documentElement.lang === 'en'"
                     " && document.querySelectorAll('#rates-body tr').length === 3;",
                     S_WAIT));
    s_expect(fx, "#rates-body tr[data-station='total']",
             "Total|2|1/2 50.0%|1/1 100.0%|0/0 —|0/1 0.0%");
    WD_OK(wd_text_css(fx->wd, "#rates thead", text, sizeof text));
    assert_non_null(strstr(text, "Timely acceptance"));
    WD_OK(wd_js(fx->wd, "document.getElementById('rates').scrollIntoView(); return 'ok';", NULL,
                text, sizeof text));
    snprintf(path, sizeof path, "%s/rates-township-en.png", fx->shots);
    WD_OK(wd_screenshot(fx->wd, path));
    web_server_stop(&srv);
    hub_store_close(&hub);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rates_web),
        cmocka_unit_test(test_rates_web_township),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
