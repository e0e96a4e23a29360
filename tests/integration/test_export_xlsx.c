/* Spreadsheet-ready exports (README "Exports"): does `county-server export
 * --format xlsx` write an 18-digit ID number and a phone with a leading 0 as
 * text cells, exactly, and the date as a date, read back by a real reader
 * (Python's openpyxl, else zipfile and the sheet's XML)? Does --labels zh
 * give the Chinese header and values in xlsx and in every csv, and --bom a
 * byte-order mark on the csv of stats, list and cases, and are both refused
 * outside csv? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define T100   "230523100"
#define ID18   "23052319800101123X"
#define ID18N  "230523198001011234"
#define PHONE0 "04532345678"

/* Debian's python3-openpyxl (scripts/deps.sh) is for /usr/bin/python3.
 * Reads the workbook given as argv[1] and prints one line per check:
 * the reader used, then for each data cell of the first sheet "header=value|type". */
static const char s_reader[] =
    "import sys\n"
    "try:\n"
    "    import openpyxl\n"
    "    wb = openpyxl.load_workbook(sys.argv[1])\n"
    "    ws = wb.worksheets[0]\n"
    "    print('reader=openpyxl sheet=' + ws.title)\n"
    "    rows = list(ws.iter_rows())\n"
    "    head = [c.value for c in rows[0]]\n"
    "    for row in rows[1:]:\n"
    "        for h, c in zip(head, row):\n"
    "            if c.value is not None:\n"
    "                v = c.value.strftime('%Y-%m-%d') if c.is_date else c.value\n"
    "                print('%s=%s|%s' % (h, v, 'date' if c.is_date else c.data_type))\n"
    "except ImportError:\n"
    "    import zipfile\n"
    "    z = zipfile.ZipFile(sys.argv[1])\n"
    "    x = z.read('xl/worksheets/sheet1.xml').decode('utf-8')\n"
    "    print('reader=zipfile')\n"
    "    print(x)\n";

static int
s_setup(void **state)
{
    *state = h_env_new("xlsx");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

/* county, hub, station; two matters (one with sealed petitioner fields)
 * delivered to the county. */
static h_node_t *
s_tree(h_env_t *env)
{
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, T100 "201", hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    const char *one[] = {"submit",
                         "--channel",
                         "visit",
                         "--level",
                         "county",
                         "--category",
                         "land",
                         "--occurred",
                         "2026-03-05",
                         "--summary",
                         "土地承包纠纷",
                         "--petitioner-name",
                         "张三",
                         "--petitioner-id",
                         ID18,
                         "--petitioner-phone",
                         PHONE0,
                         "--wait",
                         "0",
                         NULL};
    const char *two[] = {"submit",     "--channel", "letter",    "--level",  "township",
                         "--category", "other",     "--summary", "其他事项", "--petitioner-id",
                         ID18N,        "--wait",    "0",         NULL};
    h_result_t r;
    assert_int_equal(h_agent(st, one, &r, h_ms(30000)), 0);
    h_result_free(&r);
    assert_int_equal(h_agent(st, two, &r, h_ms(30000)), 0);
    h_result_free(&r);
    const char *sync[] = {"sync", "--timeout", "60", "--until-county", NULL};
    assert_int_equal(h_agent(st, sync, &r, h_ms(90000)), 0);
    h_result_free(&r);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM matters", 2, 2, h_ms(30000)), 2);
    return county;
}

/* Runs `county-server export --data D args > file` and the reader on file. */
static void
s_xlsx(h_env_t *env, h_node_t *county, const char *args, h_result_t *read)
{
    char file[H_PATH + 32], cmd[4 * H_PATH];
    snprintf(file, sizeof file, "%s/export.xlsx", h_env_dir(env));
    snprintf(cmd, sizeof cmd, "'%s' export --data '%s' --format xlsx %s > '%s'", COUNTY_BIN,
             county->data, args, file);
    char *sh[] = {"/bin/sh", "-c", cmd, NULL};
    h_result_t r;
    assert_int_equal(h_run(env, "export-xlsx", sh, &r, h_ms(60000)), 0);
    h_result_free(&r);
    char *py[] = {"/usr/bin/python3", "-c", (char *) s_reader, file, NULL};
    int code = h_run(env, "read-xlsx", py, read, h_ms(60000));
    if (code != 0) {
        fail_msg("the reader failed (%d): %s", code, read->err);
    }
    fprintf(stderr, "# %s", read->out);
}

static void
test_xlsx_id_numbers_are_text(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = s_tree(env);
    h_result_t r;
    s_xlsx(env, county, "--with-personal", &r);
    if (strstr(r.out, "reader=openpyxl")) {
        assert_non_null(strstr(r.out, "sheet=matters\n"));
        /* Text cells ('s'), every digit and the X kept; a leading 0 kept. */
        assert_non_null(strstr(r.out, "petitioner_id=" ID18 "|s\n"));
        assert_non_null(strstr(r.out, "petitioner_id=" ID18N "|s\n"));
        assert_non_null(strstr(r.out, "petitioner_phone=" PHONE0 "|s\n"));
        assert_non_null(strstr(r.out, "station=" T100 "201|s\n"));
        assert_non_null(strstr(r.out, "township=" T100 "|s\n"));
        assert_non_null(strstr(r.out, "occurred_on=2026-03-05|date\n"));
        assert_non_null(strstr(r.out, "persons=1|n\n"));
        assert_non_null(strstr(r.out, "category=land|s\n"));
        assert_non_null(strstr(r.out, "summary=土地承包纠纷|s\n"));
    } else {
        /* zipfile: the ID number is an inline string, never a number. */
        assert_non_null(strstr(r.out, "<t>" ID18N "</t>"));
        assert_non_null(strstr(r.out, "<t>" ID18 "</t>"));
        assert_non_null(strstr(r.out, "<t>" PHONE0 "</t>"));
        assert_null(strstr(r.out, "<v>" ID18N "</v>"));
    }
    h_result_free(&r);

    /* --labels zh: the header and the values in Chinese. */
    s_xlsx(env, county, "--with-personal --labels zh", &r);
    if (strstr(r.out, "reader=openpyxl")) {
        assert_non_null(strstr(r.out, "sheet=信访事项\n"));
        assert_non_null(strstr(r.out, "身份证号=" ID18N "|s\n"));
        assert_non_null(strstr(r.out, "类别=土地|s\n"));
        assert_non_null(strstr(r.out, "渠道=来信|s\n"));
        assert_non_null(strstr(r.out, "发生日期=2026-03-05|date\n"));
    }
    h_result_free(&r);

    /* A binary file is not written to a terminal; jsonl takes no labels. */
    const char *jl[] = {"--format", "jsonl", "--labels", "zh", NULL};
    assert_int_equal(h_tool(county, "export", jl, &r), 2);
    assert_non_null(strstr(r.err, "--labels is for --format csv or xlsx only"));
    h_result_free(&r);
    const char *bad[] = {"--format", "xlsx", "--labels", "fr", NULL};
    assert_int_equal(h_tool(county, "export", bad, &r), 2);
    assert_non_null(strstr(r.err, "--labels 'fr' is not one of zh, en"));
    h_result_free(&r);
}

static void
test_csv_bom_and_labels_everywhere(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = s_tree(env);
    h_result_t r;
    /* stats: a mark, the Chinese header and the category's label. */
    const char *stats[] = {"--by", "category", "--format", "csv", "--bom", "--labels", "zh", NULL};
    assert_int_equal(h_tool(county, "stats", stats, &r), 0);
    assert_memory_equal(r.out, "\xEF\xBB\xBF类别,件数,人数\n",
                        strlen("\xEF\xBB\xBF类别,件数,人数\n"));
    assert_non_null(strstr(r.out, "\n土地,1,1\n"));
    assert_non_null(strstr(r.out, "\n其他,1,1\n"));
    h_result_free(&r);
    /* list: the mark once, English labels. */
    const char *list[] = {"--format", "csv", "--bom", "--labels", "en", NULL};
    assert_int_equal(h_tool(county, "list", list, &r), 0);
    assert_memory_equal(r.out, "\xEF\xBB\xBFID,date occurred,", 3 + 17);
    assert_null(strstr(r.out + 3, "\xEF\xBB\xBF"));
    assert_non_null(strstr(r.out, ",letter,"));
    assert_non_null(strstr(r.out, ",to the township,"));
    h_result_free(&r);
    /* cases parses its own options: the same. */
    const char *cases[] = {"--format", "csv", "--bom", "--labels", "zh", NULL};
    assert_int_equal(h_tool(county, "cases", cases, &r), 0);
    assert_memory_equal(r.out, "\xEF\xBB\xBF", 3);
    assert_non_null(strstr(r.out, "待处理"));
    h_result_free(&r);
    /* status */
    const char *status[] = {"--format", "csv", "--bom", NULL};
    assert_int_equal(h_tool(county, "status", status, &r), 0);
    assert_memory_equal(r.out, "\xEF\xBB\xBF", 3);
    h_result_free(&r);
    /* Without them: the names, no mark (programs read these). */
    const char *plain[] = {"--by", "category", "--format", "csv", NULL};
    assert_int_equal(h_tool(county, "stats", plain, &r), 0);
    assert_memory_equal(r.out, "category,items,persons\n", 23);
    h_result_free(&r);
    /* Outside csv: refused, saying why. */
    const char *json[] = {"--format", "json", "--bom", NULL};
    assert_int_equal(h_tool(county, "list", json, &r), 2);
    assert_non_null(strstr(r.err, "--bom is for --format csv only"));
    h_result_free(&r);
    const char *table[] = {"--labels", "zh", NULL};
    assert_int_equal(h_tool(county, "stats", table, &r), 2);
    assert_non_null(strstr(r.err, "--labels is for --format csv only"));
    h_result_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_xlsx_id_numbers_are_text, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_csv_bom_and_labels_everywhere, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("export_xlsx", tests, NULL, NULL);
}
