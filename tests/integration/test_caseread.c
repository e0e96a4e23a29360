/* A case you can read and find (issue 15 items 1-3): a note written at a
 * station on closing is in the county's and the township's history; the
 * township lists and shows its station's matter with summary and category
 * and no sealed field; search finds Chinese substrings at both tiers, by the
 * index (3 characters or more) and by a scan (fewer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "harness.h"

#define T100 "230523100"
#define S1   "230523100201"
#define NOTE "经现场丈量，双方签订调解协议"

static int
s_setup(void **state)
{
    *state = h_env_new("caseread");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

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

static cJSON *
s_json(h_node_t *node, const char *cmd, const char *const args[])
{
    h_result_t r;
    int code = s_tool(node, cmd, args, &r);
    if (code != 0) {
        fail_msg("%s exited %d: %s", cmd, code, r.err);
    }
    cJSON *j = cJSON_Parse(r.out);
    if (!j) {
        fail_msg("%s: not JSON: %s", cmd, r.out);
    }
    h_result_free(&r);
    return j;
}

static void
s_submit(h_node_t *st, const char *summary, const char *category, char id[40])
{
    const char *args[] = {"submit", "--channel",  "visit",  "--level", "township", "--summary",
                          summary,  "--category", category, "--wait",  "0",        NULL};
    h_result_t r;
    assert_int_equal(h_agent(st, args, &r, h_ms(30000)), 0);
    assert_true(strlen(r.out) >= 36);
    snprintf(id, 40, "%.36s", r.out);
    h_result_free(&r);
}

static void
s_update(h_node_t *st, const char *id, const char *outcome, const char *note)
{
    const char *args[] = {"update",    id,     "--outcome", outcome, "--note", note,
                          "--officer", "张丽", "--wait",    "0",     NULL};
    h_result_t r;
    assert_int_equal(h_agent(st, args, &r, h_ms(30000)), 0);
    h_result_free(&r);
}

static const char *
s_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* The closing change of show's history: to closed, with the note. */
static void
s_check_history(const cJSON *show)
{
    const cJSON *h = cJSON_GetObjectItem(show, "history");
    assert_true(cJSON_IsArray(h));
    assert_int_equal(cJSON_GetArraySize(h), 3); /* report, accepted, closed */
    assert_string_equal(s_str(cJSON_GetArrayItem(h, 0), "type"), "report");
    const cJSON *closed = cJSON_GetArrayItem(h, 2);
    assert_string_equal(s_str(closed, "type"), "status");
    assert_string_equal(s_str(closed, "from"), "accepted");
    assert_string_equal(s_str(closed, "to"), "closed");
    assert_string_equal(s_str(closed, "note"), NOTE);
    assert_string_equal(s_str(closed, "officer"), "张丽");
    assert_string_equal(s_str(closed, "origin"), S1);
    assert_string_equal(s_str(closed, "applied"), "in force");
}

static int
s_has(const cJSON *rows, const char *id)
{
    const cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        if (strcmp(s_str(row, "id"), id) == 0) {
            return 1;
        }
    }
    return 0;
}

static void
test_caseread_history_list_search(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S1, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);

    char land[40], other[40];
    s_submit(st, "村民反映土地承包合同到期后被收回", "land", land);
    s_submit(st, "企业拖欠工资三个月", "employment", other);
    s_update(st, land, "accepted", "已受理");
    s_update(st, land, "closed", NOTE);
    h_result_t r;
    assert_int_equal(h_sync(st, 30, &r), 0);
    h_result_free(&r);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM status_changes", 2, 2, h_ms(30000)),
                     2);
    assert_int_equal(h_wait_db(hub, "SELECT count(*) FROM case_changes", 2, 2, h_ms(30000)), 2);

    /* 1. the note in both histories */
    const char *show[] = {land, "--format", "json", NULL};
    cJSON *j = s_json(county, "show", show);
    s_check_history(j);
    cJSON_Delete(j);
    j = s_json(hub, "show", show);
    s_check_history(j);
    assert_string_equal(s_str(j, "summary"), "村民反映土地承包合同到期后被收回");
    assert_string_equal(s_str(j, "category"), "land");
    assert_string_equal(s_str(j, "station"), S1);
    assert_null(cJSON_GetObjectItem(j, "sealed"));
    assert_null(cJSON_GetObjectItem(j, "name"));
    assert_null(cJSON_GetObjectItem(j, "id_number"));
    cJSON_Delete(j);
    const char *show_table[] = {land, NULL};
    assert_int_equal(s_tool(hub, "show", show_table, &r), 0);
    assert_non_null(strstr(r.out, "备注 note: " NOTE));
    h_result_free(&r);

    /* 2. the township's list: summary, category, whole ids, newest first */
    const char *list[] = {"--format", "json", NULL};
    j = s_json(hub, "list", list);
    assert_int_equal(cJSON_GetArraySize(j), 2);
    assert_string_equal(s_str(cJSON_GetArrayItem(j, 0), "id"), other);
    const cJSON *row = cJSON_GetArrayItem(j, 1);
    assert_string_equal(s_str(row, "id"), land);
    assert_string_equal(s_str(row, "summary"), "村民反映土地承包合同到期后被收回");
    assert_string_equal(s_str(row, "category"), "land");
    assert_string_equal(s_str(row, "channel"), "visit");
    assert_string_equal(s_str(row, "outcome"), "closed");
    assert_null(cJSON_GetObjectItem(row, "sealed"));
    cJSON_Delete(j);
    const char *filtered[] = {"--category", "employment", "--format", "json", NULL};
    j = s_json(hub, "list", filtered);
    assert_int_equal(cJSON_GetArraySize(j), 1);
    assert_true(s_has(j, other));
    cJSON_Delete(j);
    const char *page[] = {"--limit", "1", "--offset", "1", "--format", "json", NULL};
    j = s_json(hub, "list", page);
    assert_int_equal(cJSON_GetArraySize(j), 1);
    assert_true(s_has(j, land));
    cJSON_Delete(j);

    /* 3. search at both tiers: a summary, a note; short text by a scan */
    h_node_t *tiers[2] = {county, hub};
    for (int i = 0; i < 2; i++) {
        const char *by_summary[] = {"土地承包", "--format", "json", NULL};
        j = s_json(tiers[i], "search", by_summary);
        assert_int_equal(cJSON_GetArraySize(j), 1);
        assert_true(s_has(j, land));
        cJSON_Delete(j);
        const char *by_note[] = {"调解协议", "--format", "json", NULL};
        j = s_json(tiers[i], "search", by_note);
        assert_int_equal(cJSON_GetArraySize(j), 1);
        assert_true(s_has(j, land));
        cJSON_Delete(j);
        const char *none[] = {"宅基地", "--format", "json", NULL};
        j = s_json(tiers[i], "search", none);
        assert_int_equal(cJSON_GetArraySize(j), 0);
        cJSON_Delete(j);
        const char *shortq[] = {"工资", "--format", "json", NULL};
        assert_int_equal(s_tool(tiers[i], "search", shortq, &r), 0);
        assert_non_null(strstr(r.err, "fewer than 3 characters"));
        j = cJSON_Parse(r.out);
        assert_non_null(j);
        assert_int_equal(cJSON_GetArraySize(j), 1);
        assert_true(s_has(j, other));
        cJSON_Delete(j);
        h_result_free(&r);
    }
    /* a bad filter is named */
    const char *bad[] = {"土地承包", "--category", "fax", NULL};
    assert_int_equal(s_tool(hub, "search", bad, &r), 2);
    assert_non_null(strstr(r.err, "--category"));
    h_result_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_caseread_history_list_search, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("caseread", tests, NULL, NULL);
}
