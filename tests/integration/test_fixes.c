/* Corrections and voids (issue 15, docs/CASES.md "Corrections and voids"),
 * end to end station -> hub -> county: does a voided matter leave every
 * figure (stats from the tallies and from a scan, list, export), does a
 * corrected category move the matter between rows, do the tallies the
 * triggers kept equal a recount from scratch (county_store_tally_rebuild),
 * does `verify` still pass, and does the report event keep the original
 * values? Bad usage is refused with the reason, nothing stored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <signal.h>
#include <sqlite3.h>

#include "county_store.h"
#include "harness.h"

#define T100 "230523100"
#define ST_A T100 "201"

static int
s_setup(void **state)
{
    *state = h_env_new("fixes");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

/* Submits one matter; its id into id. */
static void
s_submit(h_node_t *st, const char *category, const char *persons, const char *summary, char *id)
{
    const char *args[] = {"submit",     "--channel", "visit",     "--level", "county",
                          "--category", category,    "--persons", persons,   "--summary",
                          summary,      "--wait",    "0",         NULL};
    h_result_t r;
    assert_int_equal(h_agent(st, args, &r, h_ms(30000)), 0);
    snprintf(id, 64, "%.*s", (int) strcspn(r.out, "\n"), r.out);
    h_result_free(&r);
}

static void
s_sync(h_node_t *st)
{
    const char *sync[] = {"sync", "--timeout", "60", "--until-county", NULL};
    h_result_t r;
    int code = h_agent(st, sync, &r, h_ms(90000));
    if (code != 0) {
        fprintf(stderr, "# sync: %s\n", r.err);
    }
    h_result_free(&r);
    assert_int_equal(code, 0);
}

/* Every row of a tally table (explicit columns), as text. */
static char *
s_dump(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    size_t cap = 4096, len = 0;
    char *out = calloc(1, cap);
    assert_non_null(out);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const char *v = (const char *) sqlite3_column_text(st, i);
            size_t need = strlen(v ? v : "") + 2;
            if (len + need + 1 > cap) {
                cap = (cap + need) * 2;
                out = realloc(out, cap);
                assert_non_null(out);
            }
            len += (size_t) snprintf(out + len, cap - len, "%s%c", v ? v : "",
                                     i + 1 < sqlite3_column_count(st) ? ',' : '\n');
        }
    }
    sqlite3_finalize(st);
    return out;
}

static const char *const s_tallies[] = {
    "SELECT day, origin, township, items, persons FROM tally_place ORDER BY 1, 2, 3",
    "SELECT month, channel, kind, level, category, outcome, source, items, persons"
    " FROM tally_kind ORDER BY 1, 2, 3, 4, 5, 6, 7",
    "SELECT month, township, field, value, items, persons FROM tally_field ORDER BY 1, 2, 3, 4"};

/* The tallies as kept equal the tallies recounted from the matters. */
static void
s_assert_tallies_recount(const h_node_t *county)
{
    char path[H_PATH + 64];
    h_db_path(county, path, sizeof path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *kept[3], *recount[3];
    for (int i = 0; i < 3; i++) {
        kept[i] = s_dump(db, s_tallies[i]);
    }
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(county_store_tally_rebuild(db), SJ_OK);
    for (int i = 0; i < 3; i++) {
        recount[i] = s_dump(db, s_tallies[i]);
    }
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    for (int i = 0; i < 3; i++) {
        fprintf(stderr, "# tally %d kept:\n%s", i, kept[i]);
        assert_string_equal(kept[i], recount[i]);
        free(kept[i]);
        free(recount[i]);
    }
}

static void
test_fixes_void_and_correct(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, ST_A, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    char a[64], b[64], c[64];
    s_submit(st, "land", "3", "土地承包纠纷（类别录错）", a);
    s_submit(st, "other", "2", "重复录入的事项", b);
    s_submit(st, "land", "1", "宅基地边界", c);
    s_sync(st);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM matters", 3, 3, h_ms(30000)), 3);
    h_result_t r;
    const char *by_cat[] = {"--by", "category", "--format", "csv", NULL};
    assert_int_equal(h_tool(county, "stats", by_cat, &r), 0);
    assert_string_equal(r.out, "category,items,persons\nland,2,4\nother,1,2\n");
    h_result_free(&r);

    /* Bad usage: refused, nothing stored. */
    const char *no_reason[] = {"void", b, "--wait", "0", NULL};
    assert_int_equal(h_agent(st, no_reason, &r, h_ms(30000)), 2);
    assert_non_null(strstr(r.err, "needs --reason"));
    h_result_free(&r);
    const char *nothing[] = {"correct", a, "--reason", "x", "--wait", "0", NULL};
    assert_int_equal(h_agent(st, nothing, &r, h_ms(30000)), 2);
    assert_non_null(strstr(r.err, "at least one field"));
    h_result_free(&r);
    const char *unknown[] = {
        "void", "01a2499c-0000-7000-8000-000000000000", "--reason", "x", "--wait", "0", NULL};
    assert_int_equal(h_agent(st, unknown, &r, h_ms(30000)), 1);
    assert_non_null(strstr(r.err, "no report"));
    h_result_free(&r);

    /* The station corrects a's category and persons, and voids b. */
    const char *fix[] = {"correct",   a,   "--category", "housing_demolition",
                         "--persons", "5", "--reason",   "类别录错，实为房屋拆迁",
                         "--wait",    "0", NULL};
    assert_int_equal(h_agent(st, fix, &r, h_ms(30000)), 0);
    h_result_free(&r);
    const char *voids[] = {"void", b, "--reason", "重复录入", "--wait", "0", NULL};
    assert_int_equal(h_agent(st, voids, &r, h_ms(30000)), 0);
    h_result_free(&r);
    s_sync(st);
    assert_int_equal(
        h_wait_db(county, "SELECT count(*) FROM fixes WHERE applied = 1", 2, 2, h_ms(30000)), 2);

    /* Every figure: the voided matter is gone, the corrected one moved. */
    assert_int_equal(h_tool(county, "stats", by_cat, &r), 0);
    assert_string_equal(r.out, "category,items,persons\nland,1,1\nhousing_demolition,1,5\n");
    h_result_free(&r);
    const char *scan[] = {"--by", "category", "--cases", "--format", "json", NULL};
    assert_int_equal(h_tool(county, "stats", scan, &r), 0);
    assert_null(strstr(r.out, "\"other\""));
    assert_non_null(strstr(r.out, "\"category\":\"housing_demolition\",\"items\":1,\"persons\":5"));
    h_result_free(&r);
    const char *by_town[] = {"--by", "township", "--format", "csv", NULL};
    assert_int_equal(h_tool(county, "stats", by_town, &r), 0);
    assert_string_equal(r.out, "township,items,persons\n" T100 ",2,6\n");
    h_result_free(&r);
    const char *list[] = {"--format", "csv", NULL};
    assert_int_equal(h_tool(county, "list", list, &r), 0);
    assert_null(strstr(r.out, b));
    assert_non_null(strstr(r.out, a));
    h_result_free(&r);
    assert_int_equal(h_tool(county, "export", NULL, &r), 0);
    assert_null(strstr(r.out, b));
    h_result_free(&r);
    s_assert_tallies_recount(county);

    /* The township office corrects c (its station's case), the county a's
     * summary; the county refuses a matter it does not hold. */
    const char *hub_fix[] = {c, "--category", "employment", "--reason", "乡镇核实：劳动就业", NULL};
    assert_int_equal(h_tool(hub, "correct", hub_fix, &r), 0);
    h_result_free(&r);
    const char *county_fix[] = {a, "--summary", "房屋拆迁补偿纠纷", "--reason", "概要补全", NULL};
    assert_int_equal(h_tool(county, "correct", county_fix, &r), 0);
    h_result_free(&r);
    const char *county_unknown[] = {"01a2499c-0000-7000-8000-000000000000", "--reason", "x", NULL};
    assert_int_equal(h_tool(county, "void", county_unknown, &r), 1);
    assert_non_null(strstr(r.err, "no matter"));
    h_result_free(&r);
    const char *county_bad[] = {a, "--category", "nosuch", "--reason", "x", NULL};
    assert_int_equal(h_tool(county, "correct", county_bad, &r), 2);
    assert_non_null(strstr(r.err, "--category 'nosuch' is not one of"));
    h_result_free(&r);
    s_sync(st); /* the hub forwards its own stream with the station's */
    assert_int_equal(
        h_wait_db(county, "SELECT count(*) FROM fixes WHERE applied = 1", 4, 4, h_ms(60000)), 4);
    assert_int_equal(h_tool(county, "stats", by_cat, &r), 0);
    assert_string_equal(r.out, "category,items,persons\nemployment,1,1\nhousing_demolition,1,5\n");
    h_result_free(&r);
    assert_int_equal(h_tool(county, "list", list, &r), 0);
    assert_non_null(strstr(r.out, "房屋拆迁补偿纠纷"));
    h_result_free(&r);
    s_assert_tallies_recount(county);

    /* The record is whole: every event kept, the report with its original
     * values, and the chain verifies. */
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM events WHERE type IN (5, 6)"), 4);
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM matters_voided"), 1);
    assert_int_equal(h_tool(county, "verify", NULL, &r), 0);
    h_result_free(&r);
    /* show still finds the voided matter, with its reported values. */
    const char *show_b[] = {b, "--format", "json", NULL};
    assert_int_equal(h_tool(county, "show", show_b, &r), 0);
    assert_non_null(strstr(r.out, "重复录入的事项"));
    h_result_free(&r);
    /* A correction of the voided matter is kept and not applied. */
    const char *late[] = {"correct", b, "--persons", "9", "--reason", "late", "--wait", "0", NULL};
    assert_int_equal(h_agent(st, late, &r, h_ms(30000)), 0);
    h_result_free(&r);
    s_sync(st);
    assert_int_equal(
        h_wait_db(county, "SELECT count(*) FROM fixes WHERE applied = 2", 1, 1, h_ms(30000)), 1);
    assert_int_equal(h_tool(county, "stats", by_town, &r), 0);
    assert_string_equal(r.out, "township,items,persons\n" T100 ",2,6\n");
    h_result_free(&r);
    assert_int_equal(h_stop(county, SIGTERM), 0);
    s_assert_tallies_recount(county);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fixes_void_and_correct, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("fixes", tests, NULL, NULL);
}
