/* Do the table, csv and json outputs print exactly what the CLI tools promise? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sj_table.h"

/* Writes t in fmt to memory; the caller frees the returned text. */
static char *
s_render(const sj_table_t *t, sj_format_t fmt, int *rc)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    *rc = sj_table_write(t, fmt, f);
    assert_int_equal(fclose(f), 0);
    assert_non_null(text);
    return text;
}

static void
s_assert_output(const sj_table_t *t, sj_format_t fmt, const char *expected)
{
    int rc;
    char *text = s_render(t, fmt, &rc);
    assert_int_equal(rc, SJ_OK);
    assert_string_equal(text, expected);
    free(text);
}

static void
test_table_format_parse(void **state)
{
    (void) state;
    sj_format_t fmt = SJ_FMT_CSV;
    assert_int_equal(sj_format_parse("table", &fmt), SJ_OK);
    assert_int_equal(fmt, SJ_FMT_TABLE);
    assert_int_equal(sj_format_parse("json", &fmt), SJ_OK);
    assert_int_equal(fmt, SJ_FMT_JSON);
    assert_int_equal(sj_format_parse("csv", &fmt), SJ_OK);
    assert_int_equal(fmt, SJ_FMT_CSV);
    assert_int_equal(sj_format_parse("TABLE", &fmt), SJ_EINVAL);
    assert_int_equal(sj_format_parse("tables", &fmt), SJ_EINVAL);
    assert_int_equal(sj_format_parse("xml", &fmt), SJ_EINVAL);
    assert_int_equal(sj_format_parse("", &fmt), SJ_EINVAL);
    assert_int_equal(sj_format_parse(NULL, &fmt), SJ_EINVAL);
    assert_int_equal(fmt, SJ_FMT_CSV); /* untouched on error */
}

static void
test_table_text_width(void **state)
{
    (void) state;
    assert_int_equal(sj_text_width(""), 0);
    assert_int_equal(sj_text_width(NULL), 0);
    assert_int_equal(sj_text_width("abc"), 3);
    assert_int_equal(sj_text_width("土地"), 4);
    assert_int_equal(sj_text_width("a土b"), 4);
    assert_int_equal(sj_text_width("信息员-017"), 10);
    assert_int_equal(sj_text_width("\xef\xbc\xa1"), 2);     /* U+FF21 fullwidth A */
    assert_int_equal(sj_text_width("\xef\xbd\xb1"), 1);     /* U+FF71 halfwidth katakana */
    assert_int_equal(sj_text_width("\xed\x95\x9c"), 2);     /* U+D55C hangul */
    assert_int_equal(sj_text_width("\xe1\x84\x80"), 2);     /* U+1100 jamo */
    assert_int_equal(sj_text_width("\xf0\xa0\x80\x80"), 2); /* U+20000 */
    assert_int_equal(sj_text_width("\xc3\xa9"), 1);         /* U+00E9 */
    assert_int_equal(sj_text_width("\xff"), 1);             /* not UTF-8 */
    assert_int_equal(sj_text_width("\xe5\x9c"), 2);         /* truncated: two bytes */
    assert_int_equal(sj_text_width("\xc0\xaf"), 2);         /* overlong: two bytes */
}

static void
test_table_new_destroy(void **state)
{
    (void) state;
    const char *names[] = {"village", "reports"};
    const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_INT};
    sj_table_t *t = sj_table_new(2, names, types);
    assert_non_null(t);
    assert_int_equal(sj_table_rows(t), 0);
    sj_table_destroy(&t);
    assert_null(t);
    sj_table_destroy(&t);
    sj_table_destroy(NULL);
}

static void
test_table_write_table_aligned(void **state)
{
    (void) state;
    const char *names[] = {"name", "reports", "note"};
    const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_INT, SJ_COL_TEXT};
    const char *r1[] = {"土地", "217", "boundary"};
    const char *r2[] = {"water", "5", NULL};
    const char *r3[] = {"宅基地纠纷", "12", "x"};
    sj_table_t *t = sj_table_new(3, names, types);
    assert_non_null(t);
    assert_int_equal(sj_table_add_row(t, r1), SJ_OK);
    assert_int_equal(sj_table_add_row(t, r2), SJ_OK);
    assert_int_equal(sj_table_add_row(t, r3), SJ_OK);
    /* Widths 10, 7, 8; INT right-aligned; no trailing blanks. */
    s_assert_output(t, SJ_FMT_TABLE,
                    "name        reports  note\n"
                    "----------  -------  --------\n"
                    "土地            217  boundary\n"
                    "water             5\n"
                    "宅基地纠纷       12  x\n");
    sj_table_destroy(&t);
}

static void
test_table_write_table_total(void **state)
{
    (void) state;
    const char *names[] = {"village", "reports"};
    const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_INT};
    const char *r1[] = {"土地", "217"};
    const char *r2[] = {"Hexi", "5"};
    const char *total[] = {"total", "1222"};
    sj_table_t *t = sj_table_new(2, names, types);
    assert_non_null(t);
    assert_int_equal(sj_table_add_row(t, r1), SJ_OK);
    assert_int_equal(sj_table_add_row(t, r2), SJ_OK);
    assert_int_equal(sj_table_set_total(t, total), SJ_OK);
    s_assert_output(t, SJ_FMT_TABLE,
                    "village  reports\n"
                    "-------  -------\n"
                    "土地         217\n"
                    "Hexi           5\n"
                    "-------  -------\n"
                    "total       1222\n");
    /* The total line counts for the widths; a NULL cell is blank. */
    const char *wide[] = {NULL, "123456789"};
    assert_int_equal(sj_table_set_total(t, wide), SJ_OK);
    s_assert_output(t, SJ_FMT_TABLE,
                    "village    reports\n"
                    "-------  ---------\n"
                    "土地           217\n"
                    "Hexi             5\n"
                    "-------  ---------\n"
                    "         123456789\n");
    /* NULL clears it again. */
    assert_int_equal(sj_table_set_total(t, NULL), SJ_OK);
    s_assert_output(t, SJ_FMT_TABLE,
                    "village  reports\n"
                    "-------  -------\n"
                    "土地         217\n"
                    "Hexi           5\n");
    sj_table_destroy(&t);
}

static void
test_table_write_table_sanitizes(void **state)
{
    (void) state;
    const char *names[] = {"s"};
    const sj_col_type_t types[] = {SJ_COL_TEXT};
    const char *r1[] = {"a\x1b[2J\tb"};
    const char *r2[] = {"\xff土"};
    sj_table_t *t = sj_table_new(1, names, types);
    assert_non_null(t);
    assert_int_equal(sj_table_add_row(t, r1), SJ_OK);
    assert_int_equal(sj_table_add_row(t, r2), SJ_OK);
    /* Escape and tab print as blanks, a stray byte as '?'; csv keeps bytes. */
    s_assert_output(t, SJ_FMT_TABLE, "s\n-------\na [2J b\n?土\n");
    s_assert_output(t, SJ_FMT_CSV, "s\na\x1b[2J\tb\n\xff土\n");
    sj_table_destroy(&t);
}

static void
test_table_write_empty(void **state)
{
    (void) state;
    const char *names[] = {"village", "reports"};
    const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_INT};
    sj_table_t *t = sj_table_new(2, names, types);
    assert_non_null(t);
    s_assert_output(t, SJ_FMT_TABLE, "village  reports\n-------  -------\n(no rows)\n");
    s_assert_output(t, SJ_FMT_CSV, "village,reports\n");
    s_assert_output(t, SJ_FMT_JSON, "[]\n");
    const char *total[] = {"total", "0"};
    assert_int_equal(sj_table_set_total(t, total), SJ_OK);
    s_assert_output(t, SJ_FMT_TABLE,
                    "village  reports\n"
                    "-------  -------\n"
                    "(no rows)\n"
                    "-------  -------\n"
                    "total          0\n");
    sj_table_destroy(&t);
}

static void
test_table_write_csv(void **state)
{
    (void) state;
    const char *names[] = {"name", "n", "a,b"};
    const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_INT, SJ_COL_TEXT};
    const char *r1[] = {"土地", "217", "a,b"};
    const char *r2[] = {"say \"hi\"", "5", "two\nlines"};
    const char *r3[] = {"cr\r", NULL, "plain"};
    const char *total[] = {"total", "222", NULL};
    sj_table_t *t = sj_table_new(3, names, types);
    assert_non_null(t);
    assert_int_equal(sj_table_add_row(t, r1), SJ_OK);
    assert_int_equal(sj_table_add_row(t, r2), SJ_OK);
    assert_int_equal(sj_table_add_row(t, r3), SJ_OK);
    assert_int_equal(sj_table_set_total(t, total), SJ_OK);
    /* No total line in csv. */
    s_assert_output(t, SJ_FMT_CSV,
                    "name,n,\"a,b\"\n"
                    "土地,217,\"a,b\"\n"
                    "\"say \"\"hi\"\"\",5,\"two\nlines\"\n"
                    "\"cr\r\",,plain\n");
    sj_table_destroy(&t);
}

static void
test_table_csv_field(void **state)
{
    (void) state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    sj_csv_field(f, "plain");
    assert_int_equal(fputc('|', f), '|');
    sj_csv_field(f, NULL);
    assert_int_equal(fputc('|', f), '|');
    sj_csv_field(f, "");
    assert_int_equal(fputc('|', f), '|');
    sj_csv_field(f, "\"");
    assert_int_equal(fputc('|', f), '|');
    sj_csv_field(f, " spaced ");
    assert_int_equal(fputc('|', f), '|');
    sj_csv_field(f, "1,2");
    assert_int_equal(fclose(f), 0);
    assert_string_equal(text, "plain|||\"\"\"\"| spaced |\"1,2\"");
    free(text);
}

/* CSV injection: a cell Excel/WPS/LibreOffice would evaluate gets a leading
 * '; plain numbers, and the same characters later in a cell, do not. */
static void
test_table_csv_guards_formulas(void **state)
{
    (void) state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
        {"=1+1", "'=1+1"},
        {"+86 138", "'+86 138"},
        {"-2+3", "'-2+3"},
        {"@SUM(A1)", "'@SUM(A1)"},
        {"\tx", "'\tx"},
        {"\rx", "\"'\rx\""},
        {"-", "'-"},
        {"+", "'+"},
        {"-1.", "'-1."},
        {"-12", "-12"},
        {"+7", "+7"},
        {"-3.25", "-3.25"},
        {"2024-03-05", "2024-03-05"},
        {"a=b", "a=b"},
        {"土地=1", "土地=1"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        assert_non_null(f);
        sj_csv_field(f, cases[i].in);
        assert_int_equal(fclose(f), 0);
        if (strcmp(text, cases[i].out) != 0) {
            fail_msg("csv of '%s' is '%s', expected '%s'", cases[i].in, text, cases[i].out);
        }
        free(text);
    }
}

static sj_table_t *
s_json_table(void)
{
    const char *names[] = {"name", "n", "code"};
    const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_INT, SJ_COL_TEXT};
    const char *rows[][3] = {
        {"土地", "217", "007"},
        {"x", "-3", NULL},
        {"y", "12abc", "z"},
        {"w", "", "z"},
        {"v", "99999999999999999999", "z"},
        {"u", "1000000000000000", "z"},
        {"t", "-999999999999999", "z"},
        {"s", NULL, " 7"},
        {"r", " 7", "\"q\""},
    };
    const char *total[] = {"total", "1", NULL};
    sj_table_t *t = sj_table_new(3, names, types);
    assert_non_null(t);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_int_equal(sj_table_add_row(t, rows[i]), SJ_OK);
    }
    assert_int_equal(sj_table_set_total(t, total), SJ_OK);
    return t;
}

static void
test_table_write_json(void **state)
{
    (void) state;
    sj_table_t *t = s_json_table();
    /* INT cells become numbers when they are whole decimal numbers that cJSON
     * prints exactly (< 10^15); anything else stays a string; NULL is null;
     * no total. */
    s_assert_output(t, SJ_FMT_JSON,
                    "[{\"name\":\"土地\",\"n\":217,\"code\":\"007\"},"
                    "{\"name\":\"x\",\"n\":-3,\"code\":null},"
                    "{\"name\":\"y\",\"n\":\"12abc\",\"code\":\"z\"},"
                    "{\"name\":\"w\",\"n\":\"\",\"code\":\"z\"},"
                    "{\"name\":\"v\",\"n\":\"99999999999999999999\",\"code\":\"z\"},"
                    "{\"name\":\"u\",\"n\":\"1000000000000000\",\"code\":\"z\"},"
                    "{\"name\":\"t\",\"n\":-999999999999999,\"code\":\"z\"},"
                    "{\"name\":\"s\",\"n\":null,\"code\":\" 7\"},"
                    "{\"name\":\"r\",\"n\":\" 7\",\"code\":\"\\\"q\\\"\"}]\n");
    sj_table_destroy(&t);
}

static void
test_table_to_json(void **state)
{
    (void) state;
    sj_table_t *t = s_json_table();
    cJSON *array = sj_table_to_json(t);
    assert_non_null(array);
    assert_true(cJSON_IsArray(array));
    assert_int_equal(cJSON_GetArraySize(array), 9);
    cJSON *first = cJSON_GetArrayItem(array, 0);
    assert_true(cJSON_IsObject(first));
    const cJSON *key = first->child;
    assert_string_equal(key->string, "name");
    assert_string_equal(key->next->string, "n");
    assert_string_equal(key->next->next->string, "code");
    assert_null(key->next->next->next);
    assert_string_equal(cJSON_GetStringValue(key), "土地");
    assert_true(cJSON_IsNumber(key->next));
    assert_int_equal(key->next->valueint, 217);
    const cJSON *second = cJSON_GetArrayItem(array, 1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(second, "n")->valueint, -3);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(second, "code")));
    assert_true(
        cJSON_IsString(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(array, 2), "n")));
    cJSON_Delete(array);
    sj_table_destroy(&t);
}

static void
test_table_rows_grow(void **state)
{
    (void) state;
    const char *names[] = {"i"};
    const sj_col_type_t types[] = {SJ_COL_INT};
    sj_table_t *t = sj_table_new(1, names, types);
    assert_non_null(t);
    char expected[400] = "i\n";
    size_t used = strlen(expected);
    for (int i = 0; i < 40; i++) {
        char cell[16];
        assert_true(snprintf(cell, sizeof cell, "%d", i) > 0);
        const char *row[] = {cell};
        assert_int_equal(sj_table_add_row(t, row), SJ_OK);
        used += (size_t) snprintf(expected + used, sizeof expected - used, "%d\n", i);
        assert_int_equal(sj_table_rows(t), (size_t) i + 1);
    }
    s_assert_output(t, SJ_FMT_CSV, expected);
    sj_table_destroy(&t);
}

static void
test_table_copies_cells(void **state)
{
    (void) state;
    char name[] = "village";
    char cell[] = "Hexi";
    const char *names[] = {name};
    const sj_col_type_t types[] = {SJ_COL_TEXT};
    const char *row[] = {cell};
    sj_table_t *t = sj_table_new(1, names, types);
    assert_non_null(t);
    assert_int_equal(sj_table_add_row(t, row), SJ_OK);
    assert_int_equal(sj_table_set_total(t, row), SJ_OK);
    memset(name, 'x', sizeof name - 1);
    memset(cell, 'y', sizeof cell - 1);
    s_assert_output(t, SJ_FMT_CSV, "village\nHexi\n");
    s_assert_output(t, SJ_FMT_TABLE, "village\n-------\nHexi\n-------\nHexi\n");
    sj_table_destroy(&t);
}

/* The getters give the columns and the buffered cells; a NULL cell and one
 * outside the rows read as NULL. */
static void
test_table_cell_getters(void **state)
{
    (void) state;
    const char *names[] = {"station", "items"};
    const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_INT};
    const char *row0[] = {"230523100201", "7"};
    const char *row1[] = {NULL, "2"};
    sj_table_t *t = sj_table_new(2, names, types);
    assert_non_null(t);
    assert_int_equal(sj_table_ncols(t), 2);
    assert_string_equal(sj_table_name(t, 0), "station");
    assert_string_equal(sj_table_name(t, 1), "items");
    assert_null(sj_table_cell(t, 0, 0)); /* no rows yet */
    assert_int_equal(sj_table_add_row(t, row0), SJ_OK);
    assert_int_equal(sj_table_add_row(t, row1), SJ_OK);
    assert_string_equal(sj_table_cell(t, 0, 0), "230523100201");
    assert_string_equal(sj_table_cell(t, 0, 1), "7");
    assert_null(sj_table_cell(t, 1, 0));
    assert_string_equal(sj_table_cell(t, 1, 1), "2");
    assert_null(sj_table_cell(t, 2, 0));
    assert_null(sj_table_cell(t, 0, 2));
    sj_table_destroy(&t);
}

/* A streamed table prints byte for byte what the buffered one prints (csv,
 * json, also with no rows); table format stays buffered; the row count
 * covers streamed rows; a full disk is reported by the row that hit it or
 * by the final write. */
static void
test_table_stream_same_output(void **state)
{
    (void) state;
    const char *names[] = {"name", "n", "code"};
    const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_INT, SJ_COL_TEXT};
    const char *rows[][3] = {{"土地", "217", "007"}, {"x", "-3", NULL}, {"=1+2", "", "a,b"}};
    const sj_format_t fmts[] = {SJ_FMT_CSV, SJ_FMT_JSON, SJ_FMT_TABLE};
    for (size_t nrows = 0; nrows <= 3; nrows += 3) {
        for (size_t i = 0; i < 3; i++) {
            sj_table_t *buffered = sj_table_new(3, names, types);
            sj_table_t *streamed = sj_table_new(3, names, types);
            assert_non_null(buffered);
            assert_non_null(streamed);
            char *text = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&text, &len);
            assert_non_null(f);
            assert_int_equal(sj_table_stream(streamed, fmts[i], f), SJ_OK);
            for (size_t r = 0; r < nrows; r++) {
                assert_int_equal(sj_table_add_row(buffered, rows[r]), SJ_OK);
                assert_int_equal(sj_table_add_row(streamed, rows[r]), SJ_OK);
            }
            assert_int_equal(sj_table_rows(streamed), nrows);
            assert_int_equal(sj_table_write(streamed, fmts[i], f), SJ_OK);
            assert_int_equal(fclose(f), 0);
            int rc;
            char *want = s_render(buffered, fmts[i], &rc);
            assert_int_equal(rc, SJ_OK);
            assert_string_equal(text, want);
            free(want);
            free(text);
            sj_table_destroy(&buffered);
            sj_table_destroy(&streamed);
        }
    }
    /* /dev/full: stdio buffers, so the error shows at the latest at the end */
    sj_table_t *t = sj_table_new(3, names, types);
    FILE *full = fopen("/dev/full", "w");
    assert_non_null(full);
    int rc = sj_table_stream(t, SJ_FMT_JSON, full);
    for (size_t r = 0; rc == SJ_OK && r < 3; r++) {
        rc = sj_table_add_row(t, rows[r]);
    }
    if (rc == SJ_OK) {
        rc = sj_table_write(t, SJ_FMT_JSON, full);
    }
    assert_int_equal(rc, SJ_EIO);
    (void) fclose(full);
    sj_table_destroy(&t);
}

static void
test_table_write_errors(void **state)
{
    (void) state;
    sj_table_t *t = s_json_table();
    int rc;
    char *text = s_render(t, (sj_format_t) 42, &rc);
    assert_int_equal(rc, SJ_EINVAL);
    assert_string_equal(text, "");
    free(text);
    /* A full disk is reported by sj_table_write itself, not at fclose. */
    const sj_format_t fmts[] = {SJ_FMT_TABLE, SJ_FMT_CSV, SJ_FMT_JSON};
    for (size_t i = 0; i < 3; i++) {
        FILE *full = fopen("/dev/full", "w");
        assert_non_null(full);
        assert_int_equal(sj_table_write(t, fmts[i], full), SJ_EIO);
        (void) fclose(full);
    }
    sj_table_destroy(&t);
}

/* cJSON allocator that fails the s_fail_at-th call and counts live blocks. */
static int s_fail_at;
static int s_calls;
static int s_live;

static void *
s_hook_malloc(size_t size)
{
    if (s_calls++ == s_fail_at) {
        return NULL;
    }
    void *p = malloc(size);
    if (p) {
        s_live++;
    }
    return p;
}

static void
s_hook_free(void *p)
{
    if (p) {
        s_live--;
    }
    free(p);
}

static void
test_table_json_oom(void **state)
{
    (void) state;
    sj_table_t *t = s_json_table();
    cJSON_Hooks hooks = {.malloc_fn = s_hook_malloc, .free_fn = s_hook_free};
    cJSON_InitHooks(&hooks);
    int failures = 0;
    for (s_fail_at = 0;; s_fail_at++) {
        s_calls = 0;
        s_live = 0;
        cJSON *array = sj_table_to_json(t);
        if (array) {
            cJSON_Delete(array);
            assert_int_equal(s_live, 0);
            break;
        }
        assert_int_equal(s_live, 0);
        failures++;
    }
    assert_true(failures > 9); /* at least one allocation per row */
    for (s_fail_at = 0;; s_fail_at++) {
        s_calls = 0;
        s_live = 0;
        int rc;
        char *text = s_render(t, SJ_FMT_JSON, &rc);
        assert_int_equal(s_live, 0);
        if (rc == SJ_OK) {
            assert_int_equal(text[0], '[');
            free(text);
            break;
        }
        assert_int_equal(rc, SJ_ENOMEM);
        assert_string_equal(text, "");
        free(text);
    }
    cJSON_InitHooks(NULL);
    sj_table_destroy(&t);
}

/* --bom and --labels: the mark once per process, the header's labels and
 * the enum values' labels, the same buffered and streamed; json untouched. */
static void
test_table_csv_bom_labels(void **state)
{
    (void) state;
    static const char *const names[] = {"category", "persons", "summary"};
    static const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_INT, SJ_COL_TEXT};
    sj_table_t *t = sj_table_new(3, names, types);
    assert_non_null(t);
    const char *row[] = {"land", "3", "other"};
    assert_int_equal(sj_table_add_row(t, row), SJ_OK);
    /* off: names, no mark */
    s_assert_output(t, SJ_FMT_CSV, "category,persons,summary\nland,3,other\n");
    sj_csv_opts_t o = {.bom = 1, .labels = 1, .lang = SJ_LANG_ZH};
    sj_table_csv_opts_set(&o);
    s_assert_output(t, SJ_FMT_CSV, "\xEF\xBB\xBF类别,人数,概要\n土地,3,other\n");
    /* the mark was written: not again in the same process */
    s_assert_output(t, SJ_FMT_CSV, "类别,人数,概要\n土地,3,other\n");
    s_assert_output(t, SJ_FMT_JSON,
                    "[{\"category\":\"land\",\"persons\":3,\"summary\":\"other\"}]\n");
    o.lang = SJ_LANG_EN;
    sj_table_csv_opts_set(&o);
    s_assert_output(t, SJ_FMT_CSV, "category,persons,summary\nland,3,other\n");
    assert_string_equal(sj_table_csv_cell("channel", "phone"), "phone call");
    assert_string_equal(sj_table_csv_cell("channel", "nosuch"), "nosuch");
    assert_null(sj_table_csv_cell("channel", NULL));
    assert_string_equal(sj_column_label("petitioner_id", SJ_LANG_ZH), "身份证号");
    assert_string_equal(sj_column_label("level", SJ_LANG_EN), "level lodged");
    assert_string_equal(sj_column_label("unknown_col", SJ_LANG_ZH), "unknown_col");
    /* streamed: the same bytes */
    o.lang = SJ_LANG_ZH;
    sj_table_csv_opts_set(&o);
    sj_table_t *st = sj_table_new(3, names, types);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(sj_table_stream(st, SJ_FMT_CSV, f), SJ_OK);
    assert_int_equal(sj_table_add_row(st, row), SJ_OK);
    assert_int_equal(sj_table_write(st, SJ_FMT_CSV, f), SJ_OK);
    assert_int_equal(fclose(f), 0);
    assert_string_equal(text, "类别,人数,概要\n土地,3,other\n");
    free(text);
    sj_lang_t lang;
    assert_int_equal(sj_lang_parse("en", &lang), SJ_OK);
    assert_int_equal(lang, SJ_LANG_EN);
    assert_int_equal(sj_lang_parse("EN", &lang), SJ_EINVAL);
    sj_csv_opts_t off = {0};
    sj_table_csv_opts_set(&off);
    sj_table_destroy(&st);
    sj_table_destroy(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_format_parse),
        cmocka_unit_test(test_table_text_width),
        cmocka_unit_test(test_table_new_destroy),
        cmocka_unit_test(test_table_write_table_aligned),
        cmocka_unit_test(test_table_write_table_total),
        cmocka_unit_test(test_table_write_table_sanitizes),
        cmocka_unit_test(test_table_write_empty),
        cmocka_unit_test(test_table_write_csv),
        cmocka_unit_test(test_table_csv_field),
        cmocka_unit_test(test_table_csv_guards_formulas),
        cmocka_unit_test(test_table_write_json),
        cmocka_unit_test(test_table_stream_same_output),
        cmocka_unit_test(test_table_to_json),
        cmocka_unit_test(test_table_rows_grow),
        cmocka_unit_test(test_table_copies_cells),
        cmocka_unit_test(test_table_cell_getters),
        cmocka_unit_test(test_table_write_errors),
        cmocka_unit_test(test_table_json_oom),
        cmocka_unit_test(test_table_csv_bom_labels),
    };
    return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
