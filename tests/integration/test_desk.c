/* The officer's desk and the tree (issue 14): an assignment made at the
 * county reaches the station and appears on `village-agent serve`'s inbox
 * marked new (and counted in the title) until opened; accepting it there
 * (a form with its CSRF token) travels up, and the county's case shows it
 * accepted; the page's "deliver now" sends it. With Chromium installed,
 * the inbox holding the new assignment is photographed in Chinese and in
 * English (desk-inbox-zh.png, desk-inbox-en.png, 1024x768). With `run`
 * alongside, the outbox page and `status` say the hub link is up. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/stat.h>

#include "harness.h"
#include "web_harness.h"
#include "webdriver.h"

#define T100 "230523100"
#define S1   "230523100201"
#define DUE  "2099-12-31"

static int
s_setup(void **state)
{
    *state = h_env_new("desk");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

static void
s_sync(h_node_t *st)
{
    const char *args[] = {"sync", "--timeout", h_valgrind() ? "300" : "30", "--until-county", NULL};
    h_result_t r;
    int code = h_agent(st, args, &r, h_ms(60000));
    if (code != 0) {
        fprintf(stderr, "# sync: %s%s\n", r.out, r.err);
    }
    assert_int_equal(code, 0);
    h_result_free(&r);
}

static void
s_between(const char *body, const char *pat, char *out, size_t size)
{
    const char *at = strstr(body, pat);
    assert_non_null(at);
    at += strlen(pat);
    const char *end = strchr(at, '"');
    assert_non_null(end);
    assert_true((size_t) (end - at) < size);
    memcpy(out, at, (size_t) (end - at));
    out[end - at] = '\0';
}

/* The inbox with the new assignment in headless Chromium, zh then en,
 * photographed; nothing when Chromium is not installed (the HTTP checks
 * stand alone). Only GETs of /inbox: the assignment stays new. */
static void
s_inbox_shots(h_env_t *env, int port)
{
    if (!wd_available()) {
        print_message("no chromedriver/chromium: the inbox screenshots are not taken\n");
        return;
    }
    mkdir(SHOTS_DIR, 0755);
    char dir[700], url[128], path[700];
    snprintf(dir, sizeof dir, "%s/driver", h_env_dir(env));
    wd_t *wd = wd_start(dir, "zh-CN");
    assert_non_null(wd);
    static const char *const langs[] = {"zh", "en"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(url, sizeof url, "http://127.0.0.1:%d/inbox?lang=%s", port, langs[i]);
        int ok = wd_get(wd, url) == 0 && wd_wait_css(wd, "#inbox tr.new", 20000, NULL) == 0;
        if (!ok) {
            fprintf(stderr, "# %s: %s\n", url, wd_error(wd));
        }
        assert_true(ok);
        snprintf(path, sizeof path, "%s/desk-inbox-%s.png", SHOTS_DIR, langs[i]);
        assert_int_equal(wd_screenshot(wd, path), 0);
    }
    wd_stop(&wd);
}

static void
test_desk_assignment_new_and_accepted(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S1, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    h_result_t r;
    const char *sub[] = {"submit",    "--channel",      "来访",   "--level", "到乡镇",
                         "--summary", "宅基地边界纠纷", "--wait", "0",       NULL};
    assert_int_equal(h_agent(st, sub, &r, h_ms(30000)), 0);
    char id[40];
    snprintf(id, sizeof id, "%.36s", r.out);
    h_result_free(&r);
    s_sync(st);
    const char *asg[] = {id, "--to", S1, "--due", DUE, "--note", "限期解决", NULL};
    assert_int_equal(h_tool(county, "assign", asg, &r), 0);
    h_result_free(&r);
    s_sync(st);
    assert_int_equal(h_db_scalar(st, "SELECT count(*) FROM inbox"), 1);

    /* the desk, alongside */
    int port = h_free_port();
    assert_true(port > 0);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    const char *srv[] = {"serve", "--http", addr, NULL};
    h_proc_t *desk = h_agent_spawn(st, srv);
    assert_non_null(desk);
    assert_int_equal(h_wait_ready(desk, h_ms(60000)), 0);

    web_resp_t w;
    assert_int_equal(web_request((uint16_t) port, "GET", "/inbox", NULL, &w), 0);
    assert_int_equal(w.status, 200);
    assert_non_null(strstr(w.body, "<title>(1) 交办"));
    char row[128];
    snprintf(row, sizeof row, "id=\"case-%s\" class=\" new\"", id);
    assert_non_null(strstr(w.body, row));
    assert_non_null(strstr(w.body, "限期解决"));
    assert_non_null(strstr(w.body, "宅基地边界纠纷"));
    char set[256], cookie[300], csrf[64];
    assert_true(web_header(&w, "Set-Cookie", set, sizeof set));
    *strchr(set, ';') = '\0';
    snprintf(cookie, sizeof cookie, "Cookie: %s\r\n", set);
    s_between(w.body, "name=\"csrf\" value=\"", csrf, sizeof csrf);
    web_resp_free(&w);
    s_inbox_shots(env, port);

    /* run alongside: the outbox page and status say the hub link is up */
    const char *run[] = {"run", NULL};
    h_proc_t *runner = h_agent_spawn(st, run);
    assert_non_null(runner);
    int up = 0;
    for (int64_t end = h_now_ms() + h_ms(30000); !up && h_now_ms() < end; h_sleep_ms(100)) {
        assert_int_equal(web_request((uint16_t) port, "GET", "/outbox", NULL, &w), 0);
        up = strstr(w.body, "data-state=\"running\"") && strstr(w.body, "已连接乡镇");
        if (up) {
            assert_null(strstr(w.body, "最后联系： 从未"));
        }
        web_resp_free(&w);
    }
    assert_true(up);
    const char *status[] = {"status", NULL};
    assert_int_equal(h_agent(st, status, &r, h_ms(30000)), 0);
    assert_non_null(strstr(r.out, "hub link: connected to the township hub since"));
    h_result_free(&r);
    assert_int_equal(h_proc_kill(runner, SIGTERM), 0);

    /* opened: no longer new */
    char target[128];
    snprintf(target, sizeof target, "/case?id=%s", id);
    assert_int_equal(web_request((uint16_t) port, "GET", target, cookie, &w), 0);
    assert_int_equal(w.status, 200);
    web_resp_free(&w);
    assert_int_equal(web_request((uint16_t) port, "GET", "/inbox", cookie, &w), 0);
    assert_null(strstr(w.body, "<title>(1)"));
    assert_null(strstr(w.body, row));
    web_resp_free(&w);

    /* accepted on the page, with a note */
    char body[512], headers[512];
    snprintf(body, sizeof body,
             "csrf=%s&key=0190bbbb-0000-7000-8000-000000000001&id=%s&outcome=accepted"
             "&note=%%E5%%B7%%B2%%E5%%8F%%97%%E7%%90%%86",
             csrf, id);
    snprintf(headers, sizeof headers,
             "%sContent-Type: application/x-www-form-urlencoded\r\nOrigin: http://%s\r\n", cookie,
             addr);
    assert_int_equal(web_request_body((uint16_t) port, "POST", "/update", headers, body, &w), 0);
    assert_int_equal(w.status, 303);
    web_resp_free(&w);
    /* delivered now from the page (the hub link of the station's options) */
    snprintf(body, sizeof body, "csrf=%s", csrf);
    assert_int_equal(web_request_body((uint16_t) port, "POST", "/deliver", headers, body, &w), 0);
    assert_int_equal(w.status, 303);
    web_resp_free(&w);
    assert_int_equal(web_request((uint16_t) port, "GET", "/outbox", cookie, &w), 0);
    assert_non_null(strstr(w.body, "已送达"));
    web_resp_free(&w);
    assert_int_equal(h_proc_kill(desk, SIGTERM), 0);

    /* it travels up: the county's case is accepted (3) */
    char hex[33], sql[200];
    int k = 0;
    for (const char *q = id; *q && k < 32; q++) {
        if (*q != '-') {
            hex[k++] = (char) (*q >= 'a' && *q <= 'f' ? *q - 32 : *q);
        }
    }
    hex[k] = '\0';
    snprintf(sql, sizeof sql, "SELECT outcome FROM matters WHERE hex(id)='%s'", hex);
    assert_int_equal(h_wait_db(county, sql, 3, 3, h_ms(20000)), 3);
    const char *show[] = {id, NULL};
    assert_int_equal(h_tool(county, "show", show, &r), 0);
    assert_non_null(strstr(r.out, "accepted"));
    h_result_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_desk_assignment_new_and_accepted),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
