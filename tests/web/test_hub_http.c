/* Does the township status page answer what `township-hub status --format json` prints, silent
 * stations first, and refuse what it should? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "hub_store.h"
#include "hub_store_view.h"
#include "sj_ids.h"
#include "web_harness.h"

typedef struct {
    char dir[64];
    hub_store_t *store;
    web_server_t srv;
} s_fx_t;

static void
s_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg ? msg : "?");
    }
}

/* Township 230523100: station 201 heard 5 s ago (3 reports), 202 two hours
 * ago (2 reports, 4 waiting at the station), 203 a day ago (1 report); the
 * county has acknowledged 4 of the 6 events, 2 wait to be forwarded. */
static void
s_fill(sqlite3 *db)
{
    long long now = (long long) sj_now_ms();
    char sql[2048];
    snprintf(sql, sizeof sql,
             "INSERT INTO links(code, epoch, first_seen_ms, last_contact_ms, queue_depth)"
             " VALUES('230523100201', randomblob(16), %lld, %lld, 0),"
             " ('230523100202', randomblob(16), %lld, %lld, 4),"
             " ('230523100203', randomblob(16), %lld, %lld, 0);"
             "INSERT INTO events(id, origin, epoch, origin_seq, via, received_ms, raw) VALUES"
             " (randomblob(16), '230523100201', x'01', 1, '230523100201', %lld, x'00'),"
             " (randomblob(16), '230523100201', x'01', 2, '230523100201', %lld, x'00'),"
             " (randomblob(16), '230523100202', x'02', 1, '230523100202', %lld, x'00'),"
             " (randomblob(16), '230523100203', x'03', 1, '230523100203', %lld, x'00'),"
             " (randomblob(16), '230523100202', x'02', 2, '230523100202', %lld, x'00'),"
             " (randomblob(16), '230523100201', x'01', 3, '230523100201', %lld, x'00');",
             now - 86400000, now - 5000, now - 86400000, now - 7200000, now - 86400000,
             now - 86400000, now - 90000000, now - 80000000, now - 70000000, now - 60000000,
             now - 600000, now - 5000);
    s_exec(db, sql);
    /* Cases: one assigned and overdue, one assigned and due in the future,
     * one assigned but closed (past due: not overdue, not open), one not
     * assigned. */
    s_exec(db,
           "INSERT INTO cases(id, origin, reported_outcome, outcome, updated_ms) VALUES"
           " (x'0000000000000000000000000000000a', '230523100201', 1, 1, 0),"
           " (x'0000000000000000000000000000000b', '230523100202', 1, 3, 0),"
           " (x'0000000000000000000000000000000c', '230523100202', 1, 4, 0),"
           " (x'0000000000000000000000000000000d', '230523100203', 1, 1, 0);"
           "INSERT INTO assignments(id, case_id, assignee, due_on, origin, created_ms, note,"
           " officer, summary, item, received_ms) VALUES"
           " (randomblob(16), x'0000000000000000000000000000000a', '230523100201', '2001-01-01',"
           "  '230523', 1, '', '', 's', x'00', 1),"
           " (randomblob(16), x'0000000000000000000000000000000b', '230523100202', '2999-01-01',"
           "  '230523', 1, '', '', 's', x'00', 1),"
           " (randomblob(16), x'0000000000000000000000000000000c', '230523100202', '2001-01-01',"
           "  '230523100', 1, '', '', 's', x'00', 1);");
    assert_int_equal(sj_db_meta_set_int(db, "up_acked", 4), SJ_OK);
    assert_int_equal(sj_db_meta_set_int(db, "county_contact_ms", now - 30000), SJ_OK);
}

static int
s_setup(void **state)
{
    assert_int_equal(sj_ids_init(), SJ_OK);
    s_fx_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/sanji-hubweb-XXXXXX");
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
    free(fx);
    return 0;
}

/* Every field but the ages, which tick between the two reads. */
static void
s_drop_ages(cJSON *root)
{
    cJSON_DeleteItemFromObject(root, "oldest_unforwarded_s");
    cJSON_DeleteItemFromObject(root, "county_contact_age_s");
    cJSON *st;
    cJSON_ArrayForEach(st, cJSON_GetObjectItem(root, "stations"))
    {
        cJSON_DeleteItemFromObject(st, "silent_s");
    }
}

static void
test_hub_http_status_equals_cli(void **state)
{
    s_fx_t *fx = *state;
    char *argv[] = {HUB_BIN, "status",         "--data", fx->dir, "--format",
                    "json",  "--silent-after", "3600",   NULL};
    int status = -1;
    char *cli = web_run(argv, &status);
    assert_int_equal(status, 0);
    web_resp_t r;
    assert_int_equal(web_request(fx->srv.port, "GET", "/api/status?silent_after=3600", NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    char type[64];
    assert_true(web_header(&r, "Content-Type", type, sizeof type));
    assert_string_equal(type, "application/json");
    cJSON *a = cJSON_Parse(cli), *b = cJSON_Parse(r.body);
    assert_non_null(b);
    /* the figures the page shows */
    assert_string_equal(cJSON_GetObjectItem(b, "township")->valuestring, "230523100");
    assert_int_equal(cJSON_GetObjectItem(b, "queue_depth")->valueint, 2);
    assert_int_equal(cJSON_GetObjectItem(b, "events")->valueint, 6);
    assert_int_equal(cJSON_GetObjectItem(b, "forwarded")->valueint, 4);
    assert_true(cJSON_GetObjectItem(b, "oldest_unforwarded_s")->valueint >= 599);
    assert_true(cJSON_GetObjectItem(b, "county_contact_age_s")->valueint >= 29);
    cJSON *stations = cJSON_GetObjectItem(b, "stations");
    assert_int_equal(cJSON_GetArraySize(stations), 3);
    /* silent first: 203 (a day), 202 (two hours); 201 is fine */
    const char *order[] = {"230523100203", "230523100202", "230523100201"};
    const char *marks[] = {"SILENT", "SILENT", "ok"};
    for (int i = 0; i < 3; i++) {
        cJSON *st = cJSON_GetArrayItem(stations, i);
        assert_string_equal(cJSON_GetObjectItem(st, "station")->valuestring, order[i]);
        assert_string_equal(cJSON_GetObjectItem(st, "status")->valuestring, marks[i]);
    }
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(stations, 1), "backlog")->valueint, 4);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(stations, 2), "reports")->valueint, 3);
    s_drop_ages(a);
    s_drop_ages(b);
    assert_true(cJSON_Compare(a, b, 1));
    cJSON_Delete(a);
    cJSON_Delete(b);
    free(cli);
    web_resp_free(&r);
    /* a longer silent_after: nobody is silent but the day-old one */
    assert_int_equal(web_request(fx->srv.port, "GET", "/api/status?silent_after=10000", NULL, &r),
                     0);
    b = cJSON_Parse(r.body);
    stations = cJSON_GetObjectItem(b, "stations");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(stations, 1), "status")->valuestring,
                        "ok");
    cJSON_Delete(b);
    web_resp_free(&r);
}

/* /api/cases: the open cases; overdue=1 is exactly `cases --overdue --format json`. */
static void
test_hub_http_cases(void **state)
{
    s_fx_t *fx = *state;
    web_resp_t r;
    assert_int_equal(web_request(fx->srv.port, "GET", "/api/cases?overdue=1", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    char *argv[] = {HUB_BIN, "cases", "--overdue", "--data", fx->dir, "--format", "json", NULL};
    int status = -1;
    char *cli = web_run(argv, &status);
    assert_int_equal(status, 0);
    assert_non_null(cli);
    cJSON *a = cJSON_Parse(r.body), *b = cJSON_Parse(cli);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(cJSON_Compare(a, b, 1));
    assert_int_equal(cJSON_GetArraySize(a), 1);
    cJSON *c = cJSON_GetArrayItem(a, 0);
    assert_string_equal(cJSON_GetObjectItem(c, "case_id")->valuestring,
                        "00000000-0000-0000-0000-00000000000a");
    assert_string_equal(cJSON_GetObjectItem(c, "overdue")->valuestring, "yes");
    assert_true(cJSON_GetObjectItem(c, "days_left")->valuedouble < 0);
    cJSON_Delete(a);
    cJSON_Delete(b);
    free(cli);
    web_resp_free(&r);
    /* Without the filter: every open case, assigned or not; the closed one
     * is left out although it is past its due date. */
    assert_int_equal(web_request(fx->srv.port, "GET", "/api/cases", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    a = cJSON_Parse(r.body);
    assert_non_null(a);
    assert_int_equal(cJSON_GetArraySize(a), 3);
    assert_null(strstr(r.body, "00000000-0000-0000-0000-00000000000c"));
    assert_non_null(strstr(r.body, "\"due_on\":\"2999-01-01\",\"days_left\":"));
    cJSON_Delete(a);
    web_resp_free(&r);
    assert_int_equal(web_request(fx->srv.port, "GET", "/api/cases?overdue=maybe", NULL, &r), 0);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "overdue 'maybe'"));
    web_resp_free(&r);
}

static void
test_hub_http_errors(void **state)
{
    s_fx_t *fx = *state;
    struct {
        const char *method, *target;
        int status;
        const char *says;
    } cases[] = {
        {"GET", "/api/status?silent_after=never", 400, "silent_after 'never'"},
        {"GET", "/api/status?silent_after=0", 400, "silent_after '0'"},
        {"GET", "/api/status?township=230523101", 400, "unknown parameter 'township'"},
        {"GET", "/api/stats", 404, "no such page"},
        {"GET", "/api/status/1", 404, "no such page"},
        {"POST", "/api/status", 415, "form"}, /* issue 17: forms only, with CSRF */
        {"DELETE", "/", 405, "POST"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        web_resp_t r;
        assert_int_equal(web_request(fx->srv.port, cases[i].method, cases[i].target,
                                     "Content-Length: 0\r\n", &r),
                         0);
        if (r.status != cases[i].status || !strstr(r.body, cases[i].says)) {
            fail_msg("%s %s: %d %s", cases[i].method, cases[i].target, r.status, r.body);
        }
        web_resp_free(&r);
    }
}

static void
test_hub_http_page(void **state)
{
    s_fx_t *fx = *state;
    web_resp_t r;
    assert_int_equal(web_request(fx->srv.port, "GET", "/", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "id=\"queue-depth\""));
    assert_non_null(strstr(r.body, "id=\"cases-body\""));
    assert_non_null(strstr(r.body, "id=\"overdue-count\""));
    assert_non_null(strstr(r.body, "<script src=\"/app.js\" defer>"));
    web_resp_free(&r);
    assert_int_equal(web_request(fx->srv.port, "GET", "/app.js", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "/api/status"));
    assert_non_null(strstr(r.body, "/api/cases"));
    web_resp_free(&r);
    assert_int_equal(web_request(fx->srv.port, "HEAD", "/style.css", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    web_resp_free(&r);
    /* dates as YYYY-MM-DD: the page's script, and the server's check */
    assert_int_equal(web_request(fx->srv.port, "GET", "/date.js", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "年-月-日"));
    web_resp_free(&r);
    assert_int_equal(web_request(fx->srv.port, "GET", "/api/matters?from=12/06/2026", NULL, &r), 0);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "is not a date (YYYY-MM-DD)"));
    web_resp_free(&r);
}

static void
test_hub_http_refuses_bad_setups(void **state)
{
    s_fx_t *fx = *state;
    struct {
        char *argv[10];
        int status;
    } cases[] = {
        {{HUB_BIN, "serve", "--data", fx->dir, "--http", "0.0.0.0:0", NULL}, 2},
        {{HUB_BIN, "serve", "--data", fx->dir, "--http", "127.0.0.1", NULL}, 2},
        {{HUB_BIN, "serve", "--data", fx->dir, "--format", "json", NULL}, 2},
        {{HUB_BIN, "serve", "--data", fx->dir, "--silent-after", "x", NULL}, 2},
        {{HUB_BIN, "serve", "--data", fx->dir, "--undelivered-after", "0", NULL}, 2},
        {{HUB_BIN, "serve", "--data", fx->dir, "--undelivered-after", "8761", NULL}, 2},
        {{HUB_BIN, "serve", "--data", fx->dir, "--undelivered-after", "24h", NULL}, 2},
        {{HUB_BIN, "serve", "--data", "/nonexistent/sanji", "--http", "127.0.0.1:0", NULL}, 1},
        {{HUB_BIN, "serve", "--help", NULL}, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int status = -1;
        free(web_run(cases[i].argv, &status));
        if (status != cases[i].status) {
            fail_msg("case %zu: exit %d, want %d", i, status, cases[i].status);
        }
    }
}

/* Issue 15 item 5: serve --undelivered-after HOURS is the time the page's
 * undelivered list uses (/api/status), 24 h without it. */
static void
test_hub_http_undelivered_after(void **state)
{
    s_fx_t *fx = *state;
    web_resp_t r;
    assert_int_equal(web_request(fx->srv.port, "GET", "/api/status", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"undelivered_after_s\":86400"));
    web_resp_free(&r);
    web_server_stop(&fx->srv);
    char *argv[] = {
        HUB_BIN, "serve", "--data", fx->dir, "--http", "127.0.0.1:0", "--undelivered-after",
        "72",    NULL};
    web_server_start(&fx->srv, argv);
    assert_int_equal(web_request(fx->srv.port, "GET", "/api/status", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"undelivered_after_s\":259200"));
    web_resp_free(&r);
    /* back to the fixture's server for the tests after this one */
    web_server_stop(&fx->srv);
    char *plain[] = {HUB_BIN, "serve", "--data", fx->dir, "--http", "127.0.0.1:0", NULL};
    web_server_start(&fx->srv, plain);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hub_http_status_equals_cli),
        cmocka_unit_test(test_hub_http_cases),
        cmocka_unit_test(test_hub_http_errors),
        cmocka_unit_test(test_hub_http_page),
        cmocka_unit_test(test_hub_http_refuses_bad_setups),
        cmocka_unit_test(test_hub_http_undelivered_after),
    };
    return cmocka_run_group_tests_name("hub_http", tests, s_setup, s_teardown);
}
