/* Place names (issue 15 item 4) and assignments only to someone who exists
 * (item 5): a list imported at the county reaches the hub and the station
 * without restarting anything, each keeping only the names it needs; the
 * names are shown beside the codes; a bad file is refused by line with
 * nothing stored; an assignment to a code nobody has heard of is refused at
 * the county and at the township. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "harness.h"
#include "web_harness.h"

#define T100    "230523100"
#define S1      "230523100201"
#define S2      "230523100202"
#define UNKNOWN "230523100299"
#define DUE     "2099-12-31"

static int
s_setup(void **state)
{
    *state = h_env_new("places");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

static void
s_submit(h_node_t *st, char id[40])
{
    const char *args[] = {"submit",    "--channel",        "visit",  "--level", "township",
                          "--summary", "土地承包合同纠纷", "--wait", "0",       NULL};
    h_result_t r;
    assert_int_equal(h_agent(st, args, &r, h_ms(30000)), 0);
    assert_true(strlen(r.out) >= 36);
    snprintf(id, 40, "%.36s", r.out);
    h_result_free(&r);
}

static void
s_sync(h_node_t *st, int until_county)
{
    const char *args[] = {"sync", "--timeout", h_valgrind() ? "300" : "30",
                          until_county ? "--until-county" : NULL, NULL};
    h_result_t r;
    int code = h_agent(st, args, &r, h_ms(60000));
    if (code != 0) {
        fprintf(stderr, "# sync: %s%s\n", r.out, r.err);
    }
    assert_int_equal(code, 0);
    h_result_free(&r);
}

/* Writes text to DIR/name; its path into path. */
static void
s_file(h_env_t *env, const char *name, const char *text, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", h_env_dir(env), name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* Runs a tool command; asserts its exit code; gives its stdout (free). */
static char *
s_out(h_node_t *node, const char *cmd, const char *const args[], int want, char **err)
{
    h_result_t r;
    int code = h_tool(node, cmd, args, &r);
    if (code != want) {
        fprintf(stderr, "# %s: exit %d: %s%s\n", cmd, code, r.out, r.err);
    }
    assert_int_equal(code, want);
    char *out = strdup(r.out);
    if (err) {
        *err = strdup(r.err);
    }
    h_result_free(&r);
    return out;
}

static char *
s_agent_out(h_node_t *st, const char *const args[])
{
    h_result_t r;
    int code = h_agent(st, args, &r, h_ms(30000));
    if (code != 0) {
        fprintf(stderr, "# agent %s: exit %d: %s%s\n", args[0], code, r.out, r.err);
    }
    assert_int_equal(code, 0);
    char *out = strdup(r.out);
    h_result_free(&r);
    return out;
}

static void
test_places_down_the_tree(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S1, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    char id[40];
    s_submit(st, id);
    s_sync(st, 1);

    /* A bad file: every bad line named, nothing stored, exit 2. */
    char path[600];
    s_file(env, "bad.csv", "code,name\n" T100 ",宝清镇\n23052310,短码\n" S1 ",\n" S2 ",西村,多余\n",
           path, sizeof path);
    {
        const char *args[] = {"import", path, NULL};
        char *err = NULL;
        free(s_out(county, "places", args, 2, &err));
        assert_non_null(strstr(err, "line 3"));
        assert_non_null(strstr(err, "line 4"));
        assert_non_null(strstr(err, "line 5"));
        assert_null(strstr(err, "line 2"));
        assert_non_null(strstr(err, "nothing was stored"));
        free(err);
        assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM places"), 0);
    }

    /* The list, with a BOM and a header, imported while everything runs. */
    s_file(env, "places.csv",
           "\xEF\xBB\xBF"
           "代码,名称\r\n230523,宝清县\r\n" T100 ",宝清镇\r\n" S1 ",东村\r\n" S2
           ",\"西村\"\r\n230523101,七星泡镇\r\n",
           path, sizeof path);
    {
        const char *args[] = {"import", path, NULL};
        char *out = s_out(county, "places", args, 0, NULL);
        assert_non_null(strstr(out, "5 place name(s) read, 5 new or renamed"));
        free(out);
        const char *list[] = {"list", "--format", "csv", NULL};
        out = s_out(county, "places", list, 0, NULL);
        assert_non_null(strstr(out, T100 ",宝清镇,township"));
        assert_non_null(strstr(out, S1 ",东村,village"));
        free(out);
    }
    /* The hub has its township's names within seconds, no restart; not
     * another township's. */
    assert_int_equal(
        h_wait_db(hub, "SELECT count(*) FROM places WHERE code='" T100 "' AND name='宝清镇'", 1, 1,
                  h_ms(10000)),
        1);
    assert_int_equal(h_wait_db(hub, "SELECT count(*) FROM places", 4, 4, h_ms(10000)), 4);
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM places WHERE code='230523101'"), 0);
    /* The station, at its next sync: its own, its township's and county's. */
    assert_int_equal(
        h_wait_db(hub, "SELECT count(*) FROM down WHERE child='" S1 "'", 1, 1, h_ms(10000)), 1);
    s_sync(st, 0);
    assert_int_equal(h_db_scalar(st, "SELECT count(*) FROM places"), 3);
    assert_int_equal(
        h_db_scalar(st, "SELECT count(*) FROM places WHERE code='" S1 "' AND name='东村'"), 1);
    assert_int_equal(h_db_scalar(st, "SELECT count(*) FROM places WHERE code='" S2 "'"), 0);

    /* stats rows carry the name. */
    {
        const char *args[] = {"--by", "township", "--format", "json", NULL};
        char *out = s_out(county, "stats", args, 0, NULL);
        assert_non_null(strstr(out, "\"name\":\"宝清镇\""));
        free(out);
        const char *by_st[] = {"--by", "station", "--format", "json", NULL};
        out = s_out(county, "stats", by_st, 0, NULL);
        assert_non_null(strstr(out, "\"name\":\"东村\""));
        free(out);
        /* and the county's show and cases */
        const char *show[] = {id, "--format", "json", NULL};
        out = s_out(county, "show", show, 0, NULL);
        assert_non_null(strstr(out, "\"station_name\":\"东村\",\"township_name\":\"宝清镇\""));
        free(out);
        const char *cases[] = {"--format", "csv", NULL};
        out = s_out(county, "cases", cases, 0, NULL);
        assert_non_null(strstr(out, "station_name,township_name,assignee_name"));
        assert_non_null(strstr(out, ",东村,宝清镇,"));
        free(out);
        /* list and export: the names last, nothing before them moved */
        const char *list[] = {"--format", "csv", NULL};
        out = s_out(county, "list", list, 0, NULL);
        assert_non_null(strstr(out, ",source,summary,station_name,township_name"));
        assert_non_null(strstr(out, ",东村,宝清镇"));
        free(out);
        out = s_out(county, "export", list, 0, NULL);
        assert_non_null(strstr(out, ",source,summary,station_name,township_name"));
        assert_non_null(strstr(out, ",东村,宝清镇"));
        free(out);
        const char *jsonl[] = {"--format", "jsonl", NULL};
        out = s_out(county, "export", jsonl, 0, NULL);
        assert_non_null(strstr(out, "\"station_name\":\"东村\",\"township_name\":\"宝清镇\"}"));
        free(out);
    }

    /* Imported again: a new name goes down; the same file again sends
     * nothing. */
    s_file(env, "again.csv", T100 ",宝清镇人民政府\n", path, sizeof path);
    {
        const char *args[] = {"import", path, NULL};
        free(s_out(county, "places", args, 0, NULL));
        char *out = s_out(county, "places", args, 0, NULL);
        assert_non_null(strstr(out, "1 place name(s) read, 0 new or renamed"));
        free(out);
    }
    assert_int_equal(h_wait_db(hub, "SELECT count(*) FROM places WHERE name='宝清镇人民政府'", 1, 1,
                               h_ms(10000)),
                     1);
    s_sync(st, 0);
    assert_int_equal(h_db_scalar(st, "SELECT count(*) FROM places WHERE name='宝清镇人民政府'"), 1);

    /* Names beside codes: the hub's list and show, the station's inbox. */
    {
        const char *args[] = {"--format", "csv", NULL};
        char *out = s_out(hub, "list", args, 0, NULL);
        assert_non_null(strstr(out, "station_name"));
        assert_non_null(strstr(out, ",东村"));
        free(out);
        const char *show[] = {id, "--format", "json", NULL};
        out = s_out(hub, "show", show, 0, NULL);
        assert_non_null(strstr(out, "\"station_name\":\"东村\""));
        assert_non_null(strstr(out, "\"township_name\":\"宝清镇人民政府\""));
        free(out);
    }

    /* Item 5: an assignment to a code nobody has heard of is refused, at
     * the county and at the township, with the reason; nothing stored. */
    {
        const char *args[] = {id, "--to", UNKNOWN, "--due", DUE, NULL};
        char *err = NULL;
        free(s_out(county, "assign", args, 1, &err));
        assert_non_null(strstr(err, UNKNOWN " is not known here"));
        free(err);
        free(s_out(hub, "assign", args, 1, &err));
        assert_non_null(strstr(err, UNKNOWN " is not known here"));
        free(err);
        assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM assignments"), 0);
        assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM assignments"), 0);
        /* S2 never reported, but it is in the place list: known. */
        const char *s2[] = {id, "--to", S2, "--due", DUE, NULL};
        free(s_out(county, "assign", s2, 0, NULL));
        /* S1 reported: known; assigned by the township, it lands in the
         * inbox with the names. */
        const char *s1[] = {id, "--to", S1, "--due", DUE, "--note", "请尽快调处", NULL};
        free(s_out(hub, "assign", s1, 0, NULL));
    }
    s_sync(st, 0);
    {
        const char *args[] = {"inbox", "--format", "csv", NULL};
        char *out = s_agent_out(st, args);
        assert_non_null(strstr(out, "assigned_by_name,reported_by_name"));
        assert_non_null(strstr(out, "宝清镇人民政府,东村"));
        free(out);
        const char *table[] = {"inbox", NULL};
        out = s_agent_out(st, table);
        assert_non_null(strstr(out, T100 " 宝清镇人民政府"));
        free(out);
    }
    /* and on the officer's desk page */
    {
        int port = h_free_port();
        assert_true(port > 0);
        char addr[64];
        snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
        const char *srv[] = {"serve", "--http", addr, NULL};
        h_proc_t *desk = h_agent_spawn(st, srv);
        assert_non_null(desk);
        assert_int_equal(h_wait_ready(desk, h_ms(10000)), 0);
        web_resp_t w;
        assert_int_equal(web_request((uint16_t) port, "GET", "/inbox", NULL, &w), 0);
        assert_int_equal(w.status, 200);
        assert_non_null(strstr(w.body, "<td>" T100 " 宝清镇人民政府</td>"));
        web_resp_free(&w);
        assert_int_equal(h_proc_kill(desk, SIGTERM), 0);
    }
}

/* Runs sql on a node's database (the daemon may be running: WAL). */
static void
s_exec(const h_node_t *node, const char *sql)
{
    char path[600];
    h_db_path(node, path, sizeof path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "# %s: %s\n", sql, msg ? msg : "?");
    }
    sqlite3_free(msg);
    sqlite3_close(db);
    assert_int_equal(rc, SQLITE_OK);
}

/* Item 5: a down item not taken within the set time is listed as
 * undelivered in status and warned about by status --check, at the hub and
 * at the county. */
static void
test_places_undelivered(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S1, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    char id[40], path[600];
    s_submit(st, id);
    s_sync(st, 1);
    s_file(env, "places.csv", T100 ",宝清镇\n" S2 ",西村\n", path, sizeof path);
    const char *imp[] = {"import", path, NULL};
    free(s_out(county, "places", imp, 0, NULL));
    /* S2 has no station running: its assignment waits at the hub. */
    const char *to_s2[] = {id, "--to", S2, "--due", DUE, NULL};
    free(s_out(county, "assign", to_s2, 0, NULL));
    assert_int_equal(
        h_wait_db(hub, "SELECT count(*) FROM down WHERE child='" S2 "'", 1, 1, h_ms(10000)), 1);
    const char *check[] = {"--check", NULL};
    char *out = s_out(hub, "status", check, 0, NULL);
    assert_null(strstr(out, "undelivered"));
    free(out);
    /* Two days later (its clock moved back) it is undelivered. */
    s_exec(hub, "UPDATE down SET created_ms = created_ms - 2 * 86400000 WHERE child='" S2 "'");
    out = s_out(hub, "status", check, 1, NULL);
    assert_non_null(strstr(out, "undelivered"));
    assert_non_null(strstr(out, "station " S2 " (1, oldest 48 h)"));
    free(out);
    out = s_out(hub, "status", NULL, 0, NULL);
    assert_non_null(strstr(out, "UNDELIVERED"));
    free(out);
    const char *later[] = {"--check", "--undelivered-after", "72", NULL};
    out = s_out(hub, "status", later, 0, NULL);
    assert_null(strstr(out, "undelivered"));
    free(out);
    const char *bad[] = {"--undelivered-after", "0", NULL};
    free(s_out(hub, "status", bad, 2, NULL));

    /* At the county: the hub is away when a name changes. */
    assert_int_equal(h_stop(hub, SIGTERM), 0);
    s_file(env, "again.csv", T100 ",宝清镇政府\n", path, sizeof path);
    free(s_out(county, "places", imp, 0, NULL));
    s_exec(county,
           "UPDATE down SET created_ms = created_ms - 3 * 86400000 WHERE child='" T100
           "' AND seq > coalesce((SELECT cursor FROM down_acks WHERE child='" T100 "'), 0)");
    out = s_out(county, "status", check, 1, NULL);
    assert_non_null(strstr(out, "township " T100 " (1, oldest 72 h)"));
    free(out);
    const char *json[] = {"--format", "json", NULL};
    out = s_out(county, "status", json, 0, NULL);
    assert_non_null(strstr(out, "\"undelivered\":true"));
    assert_non_null(strstr(out, "\"undelivered_after_s\":86400"));
    free(out);
}

/* Leftovers of issue 15: a station's correction and void are in the
 * county's and the township's history (with the reason, the officer and
 * the new values), and the hub's list and show give the corrected values
 * and mark the voided matter. */
static void
test_places_corrections_in_history(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S1, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    char a[40], b[40];
    s_submit(st, a);
    s_submit(st, b);
    s_sync(st, 1);
    /* Both assigned back to the station by the township: in its inbox. */
    for (int k = 0; k < 2; k++) {
        const char *to[] = {k ? b : a, "--to", S1, "--due", DUE, NULL};
        free(s_out(hub, "assign", to, 0, NULL));
    }
    s_sync(st, 0);
    assert_int_equal(h_db_scalar(st, "SELECT count(*) FROM inbox"), 2);
    const char *fix[] = {"correct",   a,        "--category", "housing_demolition",
                         "--persons", "5",      "--reason",   "类别录错，实为房屋拆迁",
                         "--officer", "李文书", "--wait",     "0",
                         NULL};
    char *out = s_agent_out(st, fix);
    free(out);
    const char *voids[] = {"void", b, "--reason", "重复录入", "--wait", "0", NULL};
    out = s_agent_out(st, voids);
    free(out);
    s_sync(st, 1);
    const char *show[] = {a, "--format", "json", NULL};
    for (int tier = 0; tier < 2; tier++) {
        out = s_out(tier ? hub : county, "show", show, 0, NULL);
        assert_non_null(strstr(out, "\"type\":\"correction\""));
        assert_non_null(strstr(out, "\"officer\":\"李文书\""));
        assert_non_null(strstr(out, "\"reason\":\"类别录错，实为房屋拆迁\""));
        assert_non_null(
            strstr(out, "\"fields\":{\"persons\":\"5\",\"category\":\"housing_demolition\"}"));
        assert_non_null(strstr(out, "\"applied\":\"applied\""));
        free(out);
    }
    /* receipts: the hub knows when it got each event and that the county
     * has it; the county when it got it */
    out = s_out(hub, "show", show, 0, NULL);
    assert_non_null(strstr(out, "\"at_county\":true"));
    assert_null(strstr(out, "\"at_county\":false"));
    assert_non_null(strstr(out, "\"received\":\""));
    free(out);
    const char *table[] = {a, NULL};
    out = s_out(county, "show", table, 0, NULL);
    assert_non_null(strstr(out, "收到 received "));
    assert_non_null(strstr(out, "更正 correction"));
    assert_non_null(strstr(out, "理由 reason: 类别录错，实为房屋拆迁"));
    free(out);
    /* the hub gives the corrected values and marks the void */
    out = s_out(hub, "show", table, 0, NULL);
    assert_non_null(strstr(out, "category: housing_demolition"));
    assert_non_null(strstr(out, "persons: 5"));
    free(out);
    const char *showb[] = {b, "--format", "json", NULL};
    out = s_out(hub, "show", showb, 0, NULL);
    assert_non_null(strstr(out, "\"outcome\":\"voided\""));
    assert_non_null(strstr(out, "\"type\":\"void\""));
    assert_non_null(strstr(out, "\"reason\":\"重复录入\""));
    free(out);
    const char *list[] = {"--format", "csv", NULL};
    out = s_out(hub, "list", list, 0, NULL);
    assert_non_null(strstr(out, ",voided,"));
    assert_non_null(strstr(out, ",housing_demolition,"));
    free(out);
    /* the station's outbox shows its report corrected, the other voided */
    const char *outbox[] = {"outbox", "--format", "csv", NULL};
    out = s_agent_out(st, outbox);
    assert_non_null(strstr(out, ",5,township,housing_demolition,pending,更正 corrected: "));
    assert_non_null(strstr(out, ",作废 voided: 土地承包合同纠纷,"));
    free(out);
    /* and so does its inbox (issue 15 leftovers: the station's own fixes) */
    const char *inbox[] = {"inbox", "--format", "csv", NULL};
    out = s_agent_out(st, inbox);
    assert_non_null(strstr(out, ",housing_demolition,5,更正 corrected: 土地承包合同纠纷,"));
    assert_non_null(strstr(out, ",作废 voided: 土地承包合同纠纷,"));
    free(out);
    /* and on the desk page */
    int port = h_free_port();
    assert_true(port > 0);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    const char *srv[] = {"serve", "--http", addr, NULL};
    h_proc_t *desk = h_agent_spawn(st, srv);
    assert_non_null(desk);
    assert_int_equal(h_wait_ready(desk, h_ms(10000)), 0);
    web_resp_t w;
    assert_int_equal(web_request((uint16_t) port, "GET", "/outbox", NULL, &w), 0);
    assert_int_equal(w.status, 200);
    assert_non_null(strstr(w.body, "<span class=\"badge\">作废</span> 土地承包合同纠纷"));
    assert_non_null(strstr(w.body, "<span class=\"badge\">已更正</span> 土地承包合同纠纷"));
    web_resp_free(&w);
    assert_int_equal(web_request((uint16_t) port, "GET", "/inbox", NULL, &w), 0);
    assert_int_equal(w.status, 200);
    assert_non_null(strstr(w.body, "<span class=\"badge\">作废</span> 土地承包合同纠纷"));
    assert_non_null(strstr(w.body, "<span class=\"badge\">已更正</span> 土地承包合同纠纷"));
    web_resp_free(&w);
    assert_int_equal(h_proc_kill(desk, SIGTERM), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_places_down_the_tree, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_places_undelivered, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_places_corrections_in_history, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
