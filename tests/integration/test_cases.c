/* Matters as living cases (issue 4): do status changes travel up the same
 * stream as reports, is a change the state machine forbids refused where it
 * is entered, and do concurrent changes of one case end in the documented
 * state with the conflict listed? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "harness.h"

#define T100 "230523100"
#define S1   "230523100201"

static int
s_setup(void **state)
{
    *state = h_env_new("cases");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

/* Runs `TOOL CMD --data DIR args...` of a hub or the county. */
static int
s_tool(h_node_t *node, const char *cmd, const char *const args[], h_result_t *res)
{
    char *argv[32];
    int n = 0;
    argv[n++] = (char *) (node->role == H_COUNTY ? COUNTY_BIN : HUB_BIN);
    argv[n++] = (char *) cmd;
    argv[n++] = "--data";
    argv[n++] = node->data;
    for (int i = 0; args && args[i] && n < 31; i++) {
        argv[n++] = (char *) args[i];
    }
    argv[n] = NULL;
    return h_run(node->env, cmd, argv, res, h_ms(60000));
}

/* submit one report; its id (36 chars) into id. */
static void
s_submit(h_node_t *st, char id[40])
{
    const char *args[] = {"submit",    "--channel",      "visit",  "--level", "township",
                          "--summary", "宅基地边界纠纷", "--wait", "0",       NULL};
    h_result_t r;
    assert_int_equal(h_agent(st, args, &r, h_ms(30000)), 0);
    assert_true(strlen(r.out) >= 36);
    snprintf(id, 40, "%.36s", r.out);
    h_result_free(&r);
}

static int
s_update(h_node_t *st, const char *id, const char *outcome, h_result_t *r)
{
    const char *args[] = {"update", id,       "--outcome", outcome, "--note",
                          "办理中", "--wait", "0",         NULL};
    return h_agent(st, args, r, h_ms(30000));
}

static void
s_sync(h_node_t *st)
{
    h_result_t r;
    int code = h_sync(st, 30, &r);
    if (code != 0) {
        fprintf(stderr, "# sync: %s%s\n", r.out, r.err);
    }
    assert_int_equal(code, 0);
    h_result_free(&r);
}

static long long
s_outcome(const h_node_t *county, const char *id, int want)
{
    char sql[200];
    /* the id as the hex of its 16 bytes */
    char hex[33];
    int k = 0;
    for (const char *p = id; *p && k < 32; p++) {
        if (*p != '-') {
            hex[k++] = (char) (*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
        }
    }
    hex[k] = '\0';
    snprintf(sql, sizeof sql, "SELECT outcome FROM matters WHERE hex(id)='%s'", hex);
    return h_wait_db(county, sql, want, want, h_ms(30000));
}

static void
test_cases_lifecycle_and_conflict(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S1, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);

    /* A case's life: pending -> accepted -> closed, from the station. */
    char id1[40];
    s_submit(st, id1);
    h_result_t r;
    assert_int_equal(s_update(st, id1, "accepted", &r), 0);
    h_result_free(&r);
    assert_int_equal(s_update(st, id1, "closed", &r), 0);
    h_result_free(&r);

    /* Refused at entry with the reason; nothing stored. */
    assert_int_equal(s_update(st, id1, "withdrawn", &r), 1);
    assert_non_null(strstr(r.err, "a case that is closed cannot become withdrawn"));
    h_result_free(&r);
    assert_int_equal(s_update(st, "01890000-0000-7000-8000-000000000000", "accepted", &r), 1);
    assert_non_null(strstr(r.err, "no report"));
    h_result_free(&r);
    assert_int_equal(h_db_scalar(st, "SELECT count(*) FROM outbox"), 3);

    {
        const char *args[] = {"outbox", "--wide", NULL};
        assert_int_equal(h_agent(st, args, &r, h_ms(30000)), 0);
        char want[120];
        snprintf(want, sizeof want, "update %s: accepted \xe2\x86\x92 closed", id1);
        assert_non_null(strstr(r.out, want));
        h_result_free(&r);
    }

    s_sync(st);
    assert_int_equal(s_outcome(county, id1, 4), 4); /* closed */
    {
        const char *args[] = {"--by", "outcome", "--format", "csv", NULL};
        assert_int_equal(s_tool(county, "stats", args, &r), 0);
        assert_non_null(strstr(r.out, "closed,1,1"));
        assert_null(strstr(r.out, "pending"));
        h_result_free(&r);
    }

    /* Concurrent changes: station and hub both start from accepted. */
    char id2[40];
    s_submit(st, id2);
    assert_int_equal(s_update(st, id2, "accepted", &r), 0);
    h_result_free(&r);
    s_sync(st);
    assert_int_equal(
        h_wait_db(hub, "SELECT count(*) FROM cases WHERE outcome=3", 1, 1, h_ms(30000)), 1);
    assert_int_equal(s_update(st, id2, "closed", &r), 0); /* queued at the station */
    h_result_free(&r);
    h_sleep_ms(20); /* the hub's change is the later one */
    {
        const char *args[] = {id2, "--outcome", "withdrawn", "--note", "当事人撤回", NULL};
        int code = s_tool(hub, "update", args, &r);
        if (code != 0) {
            fprintf(stderr, "# township-hub update: %s\n", r.err);
        }
        assert_int_equal(code, 0);
        h_result_free(&r);
        /* The hub refuses a change its own view forbids. */
        const char *bad[] = {id2, "--outcome", "closed", NULL};
        assert_int_equal(s_tool(hub, "update", bad, &r), 1);
        assert_non_null(strstr(r.err, "cannot become closed"));
        h_result_free(&r);
    }
    s_sync(st);

    /* Both changes reach the county; the later valid one (the hub's) wins. */
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM status_changes", 5, 5, h_ms(30000)),
                     5);
    assert_int_equal(s_outcome(county, id2, 5), 5); /* withdrawn */
    assert_int_equal(s_outcome(county, id1, 4), 4);
    {
        const char *args[] = {"--conflicts", "--format", "csv", NULL};
        assert_int_equal(s_tool(county, "cases", args, &r), 0);
        assert_non_null(strstr(r.out, id2));
        assert_null(strstr(r.out, id1));
        assert_non_null(strstr(r.out, "withdrawn"));
        h_result_free(&r);
        const char *all[] = {"--township", T100, "--format", "csv", NULL};
        assert_int_equal(s_tool(county, "cases", all, &r), 0);
        assert_non_null(strstr(r.out, id1));
        assert_non_null(strstr(r.out, id2));
        h_result_free(&r);
    }
    {
        const char *args[] = {"--conflicts", "--format", "csv", NULL};
        assert_int_equal(s_tool(hub, "cases", args, &r), 0);
        assert_non_null(strstr(r.out, id2));
        assert_null(strstr(r.out, id1));
        h_result_free(&r);
    }
    /* The county's own change: reopen the closed case (review). */
    {
        const char *args[] = {id1, "--outcome", "accepted", "--note", "复查", NULL};
        assert_int_equal(s_tool(county, "update", args, &r), 0);
        h_result_free(&r);
        assert_int_equal(s_outcome(county, id1, 3), 3);
        const char *bad[] = {id2, "--outcome", "accepted", NULL};
        assert_int_equal(s_tool(county, "update", bad, &r), 1);
        assert_non_null(strstr(r.err, "withdrawn is final"));
        h_result_free(&r);
    }
    /* Every stream (station, hub, county) is complete and chained. */
    {
        assert_int_equal(s_tool(county, "verify", NULL, &r), 0);
        h_result_free(&r);
    }
}

/* The case id as the upper-case hex of its 16 bytes (for SQL). */
static void
s_hex(const char *id, char hex[33])
{
    int k = 0;
    for (const char *p = id; *p && k < 32; p++) {
        if (*p != '-') {
            hex[k++] = (char) (*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
        }
    }
    hex[k] = '\0';
}

/* An assignment of case id, by plain SQL into the county's v3 table (the
 * way `county-server assign` will store it), while the county runs. */
static void
s_assign(const h_node_t *county, const char *id, const char *assignee, const char *due)
{
    char path[512], hex[33], sql[512];
    h_db_path(county, path, sizeof path);
    s_hex(id, hex);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    snprintf(sql, sizeof sql,
             "INSERT INTO assignments(id, case_id, assignee, due_on, origin, created_ms, note)"
             " VALUES(randomblob(16), x'%s', '%s', '%s', '230523', %lld, '')",
             hex, assignee, due, (long long) h_now_ms());
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg ? msg : "?");
    }
    sqlite3_close(db);
}

/* `county-server CMD --data DIR args`; exit status, stdout parsed as JSON
 * into *json when asked (exit 0 only). */
static int
s_json(h_node_t *county, const char *cmd, const char *const args[], cJSON **json, h_result_t *r)
{
    int code = s_tool(county, cmd, args, r);
    if (json) {
        *json = code == 0 ? cJSON_Parse(r->out) : NULL;
        assert_non_null(*json);
    }
    return code;
}

static int
s_has_case(const cJSON *rows, const char *id)
{
    const cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        if (strcmp(cJSON_GetObjectItem(row, "case_id")->valuestring, id) == 0) {
            return 1;
        }
    }
    return 0;
}

static double
s_num(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(obj, key);
    if (!cJSON_IsNumber(v)) {
        fail_msg("%s is not a number", key);
    }
    return v->valuedouble;
}

/* The case views of the CLI over the real pipeline: four cases (closed,
 * accepted, withdrawn, pending) from a station, three assigned at the
 * county; cases' filters, stats' case figures and the outcome history,
 * report's assigned cases, and bad values refused with exit 2. */
static void
test_cases_views_cli(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S1, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    char id[4][40];
    h_result_t r;
    for (int i = 0; i < 4; i++) {
        s_submit(st, id[i]);
    }
    const char *steps[][2] = {
        {id[0], "accepted"}, {id[0], "closed"}, {id[1], "accepted"}, {id[2], "withdrawn"}};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(s_update(st, steps[i][0], steps[i][1], &r), 0);
        h_result_free(&r);
    }
    s_sync(st);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM status_changes", 4, 4, h_ms(30000)),
                     4);
    assert_int_equal(s_outcome(county, id[0], 4), 4);
    assert_int_equal(s_outcome(county, id[2], 5), 5);
    /* closed, accepted (overdue), pending (due far ahead) are assigned */
    s_assign(county, id[0], T100, "2000-01-01");
    s_assign(county, id[1], S1, "2000-01-01");
    s_assign(county, id[3], T100, "2999-12-31");

    cJSON *j = NULL;
    const char *overdue[] = {"--overdue", "--format", "json", NULL};
    assert_int_equal(s_json(county, "cases", overdue, &j, &r), 0);
    assert_int_equal(cJSON_GetArraySize(j), 1);
    assert_true(s_has_case(j, id[1]));
    cJSON *row = cJSON_GetArrayItem(j, 0);
    assert_string_equal(cJSON_GetObjectItem(row, "assignee")->valuestring, S1);
    assert_string_equal(cJSON_GetObjectItem(row, "due_on")->valuestring, "2000-01-01");
    assert_true(s_num(row, "days_left") < 0);
    cJSON_Delete(j);
    h_result_free(&r);

    const char *open[] = {"--open", "--township", T100, "--format", "json", NULL};
    assert_int_equal(s_json(county, "cases", open, &j, &r), 0);
    assert_int_equal(cJSON_GetArraySize(j), 2);
    assert_true(s_has_case(j, id[1]) && s_has_case(j, id[3]));
    cJSON_Delete(j);
    h_result_free(&r);

    const char *assigned[] = {"--source", "assigned", "--format", "json", NULL};
    assert_int_equal(s_json(county, "cases", assigned, &j, &r), 0);
    assert_int_equal(cJSON_GetArraySize(j), 3);
    assert_true(s_has_case(j, id[0]) && s_has_case(j, id[1]) && s_has_case(j, id[3]));
    cJSON_Delete(j);
    h_result_free(&r);

    const char *other[] = {"--overdue", "--township", "230523101", "--format", "json", NULL};
    assert_int_equal(s_json(county, "cases", other, &j, &r), 0);
    assert_int_equal(cJSON_GetArraySize(j), 0);
    cJSON_Delete(j);
    h_result_free(&r);

    /* stats: 4 cases, 2 open (1 overdue), 1 concluded, 1 withdrawn: 1/3;
     * assigned 3, 1 concluded, none withdrawn: 1/3; the one close took the
     * time between its report and its closing change, as the events say. */
    const char *stats[] = {"--format", "json", "--cases", NULL};
    assert_int_equal(s_json(county, "stats", stats, &j, &r), 0);
    cJSON *t = cJSON_GetObjectItem(j, "total");
    assert_int_equal((int) s_num(t, "items"), 4);
    assert_int_equal((int) s_num(t, "open"), 2);
    assert_int_equal((int) s_num(t, "overdue"), 1);
    assert_int_equal((int) s_num(t, "concluded"), 1);
    assert_int_equal((int) s_num(t, "withdrawn"), 1);
    assert_int_equal((int) s_num(t, "assigned"), 3);
    assert_int_equal((int) s_num(t, "assigned_concluded"), 1);
    assert_true(s_num(t, "closure_rate") > 33.29 && s_num(t, "closure_rate") < 33.31);
    assert_true(s_num(t, "assigned_closure_rate") > 33.29
                && s_num(t, "assigned_closure_rate") < 33.31);
    char hex[33], sql[512];
    s_hex(id[0], hex);
    snprintf(sql, sizeof sql,
             "SELECT (SELECT max(created_ms) FROM status_changes WHERE hex(case_id)='%s')"
             " - (SELECT created_ms FROM events WHERE hex(id)='%s')",
             hex, hex);
    long long took = h_db_scalar(county, sql);
    assert_true(took >= 0);
    char want[32], got[32];
    snprintf(want, sizeof want, "%.1f", (double) took / 86400000.0);
    snprintf(got, sizeof got, "%.1f", s_num(t, "median_days_to_close"));
    assert_string_equal(got, want);
    cJSON_Delete(j);
    h_result_free(&r);

    /* the outcome history: all 4 reported pending; 2 ever accepted, 1
     * closed, 1 withdrawn; the total still counts each case once */
    const char *ever[] = {"--by", "ever_outcome", "--format", "json", NULL};
    assert_int_equal(s_json(county, "stats", ever, &j, &r), 0);
    const char *names[] = {"pending", "accepted", "closed", "withdrawn"};
    const int counts[] = {4, 2, 1, 1};
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "rows")), 4);
    for (int i = 0; i < 4; i++) {
        cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rows"), i);
        assert_string_equal(cJSON_GetObjectItem(e, "ever_outcome")->valuestring, names[i]);
        assert_int_equal((int) s_num(e, "items"), counts[i]);
    }
    assert_int_equal((int) s_num(cJSON_GetObjectItem(j, "total"), "items"), 4);
    cJSON_Delete(j);
    h_result_free(&r);

    /* the report of the year the matters occurred in */
    s_hex(id[0], hex);
    snprintf(sql, sizeof sql, "SELECT substr(occurred_on, 1, 4) FROM matters WHERE hex(id)='%s'",
             hex);
    char year[8];
    snprintf(year, sizeof year, "%lld", h_db_scalar(county, sql));
    const char *report[] = {"--year", year, NULL};
    assert_int_equal(s_tool(county, "report", report, &r), 0);
    assert_non_null(strstr(r.out, "受理上级交办案件3件，办结1件，撤回0件，办结率33.3%。"));
    h_result_free(&r);

    /* bad values: exit 2, the reason on stderr, nothing on stdout */
    const struct {
        const char *cmd;
        const char *args[5];
        const char *reason;
    } bad[] = {
        {"cases", {"--source", "fax", NULL}, "--source 'fax' is not one of"},
        {"cases", {"--from", "2024-13-01", NULL}, "--from '2024-13-01' is not a date"},
        {"cases", {"--from", "2024-05-01", "--to", "2024-04-01"}, "is after --to"},
        {"cases", {"--township", "2305231", NULL}, "not a 9-digit township code"},
        {"cases", {"--overdue", "--outcome", "closed", NULL}, "does not take --outcome"},
        {"stats", {"--by", "ever", NULL}, "unknown dimension 'ever'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(s_tool(county, bad[i].cmd, bad[i].args, &r), 2);
        if (!strstr(r.err, bad[i].reason)) {
            fail_msg("%s: stderr '%s' does not say '%s'", bad[i].cmd, r.err, bad[i].reason);
        }
        assert_string_equal(r.out, "");
        h_result_free(&r);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cases_lifecycle_and_conflict, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cases_views_cli, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("cases", tests, NULL, NULL);
}
