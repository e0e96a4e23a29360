/* Does `county-server export` keep a report written to run as a spreadsheet
 * formula from running (a leading ' in csv, the text unchanged in jsonl),
 * and does --bom start the csv with a UTF-8 byte-order mark (csv only)? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define T100 "230523100"

static int
s_setup(void **state)
{
    *state = h_env_new("export");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

static int
s_export(h_node_t *county, const char *a1, const char *a2, const char *a3, h_result_t *r)
{
    char *argv[] = {COUNTY_BIN,  "export",    "--data",    county->data,
                    (char *) a1, (char *) a2, (char *) a3, NULL};
    return h_run(county->env, "export", argv, r, h_ms(60000));
}

static void
test_export_csv_formula_and_bom(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, T100 "201", hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    const char *submit[] = {"submit",
                            "--channel",
                            "visit",
                            "--level",
                            "county",
                            "--summary",
                            "=HYPERLINK(\"http://evil.example\",\"详情\")",
                            "--wait",
                            "0",
                            NULL};
    h_result_t r;
    assert_int_equal(h_agent(st, submit, &r, h_ms(30000)), 0);
    h_result_free(&r);
    const char *sync[] = {"sync", "--timeout", "60", "--until-county", NULL};
    assert_int_equal(h_agent(st, sync, &r, h_ms(90000)), 0);
    h_result_free(&r);

    assert_int_equal(s_export(county, "--bom", NULL, NULL, &r), 0);
    assert_memory_equal(r.out, "\xEF\xBB\xBFid,occurred_on,", 16);
    /* the summary, then the place names (issue 15) */
    assert_non_null(strstr(r.out, ",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"详情\"\")\","));
    h_result_free(&r);
    /* Without --bom: no mark, the same guard. */
    assert_int_equal(s_export(county, "--format", "csv", NULL, &r), 0);
    assert_memory_equal(r.out, "id,occurred_on,", 15);
    assert_non_null(strstr(r.out, "\"'=HYPERLINK("));
    h_result_free(&r);
    /* jsonl is for programs: the text exactly as recorded, and no --bom. */
    assert_int_equal(s_export(county, "--format", "jsonl", NULL, &r), 0);
    assert_non_null(strstr(r.out, "\"summary\":\"=HYPERLINK(\\\"http://evil.example\\\""));
    h_result_free(&r);
    assert_int_equal(s_export(county, "--format", "jsonl", "--bom", &r), 2);
    assert_non_null(strstr(r.err, "--bom is for --format csv only"));
    assert_string_equal(r.out, "");
    h_result_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_export_csv_formula_and_bom, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("export_csv", tests, NULL, NULL);
}
