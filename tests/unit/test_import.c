/* Does the JSONL import accept every well-formed report, fill in the documented
 * defaults, and refuse each bad line with its line number and a reason naming
 * the field, without leaking on any path (including out of memory)? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent_import.h"
#include "sj_model.h"

/* Fault injection: linked with -Wl,--wrap=malloc,--wrap=realloc, so the calls
 * made by agent_import.c (and this file) come here. When s_fail_at is n > 0,
 * the n-th call from then on fails. cJSON and libc (getline) allocate on
 * their own and are not affected. */
/* NOLINTBEGIN(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp): names fixed by ld --wrap
 */
void *__real_malloc(size_t size);
void *__real_realloc(void *ptr, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_realloc(void *ptr, size_t size);
/* NOLINTEND(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */

static size_t s_fail_at;
static size_t s_calls;

static int
s_should_fail(void)
{
    return s_fail_at && ++s_calls == s_fail_at;
}

void *
__wrap_malloc(size_t size)
{
    return s_should_fail() ? NULL : __real_malloc(size);
}

void *
__wrap_realloc(void *ptr, size_t size)
{
    return s_should_fail() ? NULL : __real_realloc(ptr, size);
}

static void
s_arm(size_t n)
{
    s_fail_at = n;
    s_calls = 0;
}

#define S_MIN "\"channel\":\"visit\",\"level\":\"county\",\"summary\":\"x\""

static const char s_full[] =
    "{\"id\":\"0190F5A8-1C2B-7D3E-8F40-123456789ABC\",\"occurred_on\":\"2007-03-05\","
    "\"channel\":\"visit\",\"kind\":\"collective\",\"persons\":12,\"level\":\"county\","
    "\"category\":\"land\",\"outcome\":\"resolved_on_spot\",\"source\":\"leader_reception\","
    "\"summary\":\"土地承包纠纷\",\"officer\":\"信息员-017\",\"petitioner_name\":\"张三\","
    "\"petitioner_id\":\"230523197001010011\",\"petitioner_phone\":\"13800000000\","
    "\"petitioner_address\":\"某村三组\"}";

static int
s_parse_one(const char *line, size_t lineno, agent_import_item_t *item, agent_import_error_t *err)
{
    return agent_import_parse_line(line, strlen(line), lineno, item, err);
}

/* Parses text (n bytes, may hold NULs) as a file. */
static int
s_parse_text(const char *text, size_t n, agent_import_result_t *res)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    rewind(f);
    int rc = agent_import_parse(f, res);
    (void) fclose(f);
    return rc;
}

/* "{S_MIN, "<field>": "<n times c>"}" in a malloc'ed string. */
static char *
s_line_with_text(const char *field, size_t n, char c)
{
    size_t size = strlen(field) + n + 64 + sizeof S_MIN;
    char *line = malloc(size);
    assert_non_null(line);
    int head = snprintf(line, size, "{" S_MIN ",\"%s\":\"", field);
    assert_true(head > 0);
    memset(line + head, c, n);
    memcpy(line + (size_t) head + n, "\"}", 3);
    return line;
}

static void
test_import_line_all_fields(void **state)
{
    (void) state;
    agent_import_item_t item;
    agent_import_error_t err;
    static const uint8_t id[16] = {0x01, 0x90, 0xf5, 0xa8, 0x1c, 0x2b, 0x7d, 0x3e,
                                   0x8f, 0x40, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc};

    assert_int_equal(s_parse_one(s_full, 7, &item, &err), SJ_OK);
    assert_int_equal(item.line, 7);
    assert_true(item.has_id);
    assert_memory_equal(item.id, id, 16);
    assert_string_equal(item.report.occurred_on, "2007-03-05");
    assert_int_equal(item.report.channel, sj_enum_value(SJ_FIELD_CHANNEL, "visit"));
    assert_int_equal(item.report.kind, sj_enum_value(SJ_FIELD_KIND, "collective"));
    assert_int_equal(item.report.persons, 12);
    assert_int_equal(item.report.level, sj_enum_value(SJ_FIELD_LEVEL, "county"));
    assert_int_equal(item.report.category, sj_enum_value(SJ_FIELD_CATEGORY, "land"));
    assert_int_equal(item.report.outcome, sj_enum_value(SJ_FIELD_OUTCOME, "resolved_on_spot"));
    assert_int_equal(item.report.source, sj_enum_value(SJ_FIELD_SOURCE, "leader_reception"));
    assert_string_equal(item.summary, "土地承包纠纷");
    assert_string_equal(item.officer, "信息员-017");
    assert_ptr_equal(item.report.summary, item.summary);
    assert_ptr_equal(item.report.officer, item.officer);
    assert_string_equal(item.petitioner_name, "张三");
    assert_string_equal(item.petitioner_id, "230523197001010011");
    assert_string_equal(item.petitioner_phone, "13800000000");
    assert_string_equal(item.petitioner_address, "某村三组");
    agent_import_item_free(&item);
    assert_null(item.summary);
    agent_import_item_free(&item); /* idempotent */
}

static void
test_import_line_defaults(void **state)
{
    (void) state;
    agent_import_item_t item;
    agent_import_error_t err;
    char today[11];

    sj_date_today(today);
    assert_int_equal(s_parse_one("{" S_MIN ",\"petitioner_name\":\"\"}", 1, &item, &err), SJ_OK);
    assert_false(item.has_id);
    assert_string_equal(item.report.occurred_on, today);
    assert_int_equal(item.report.persons, 1);
    assert_int_equal(item.report.kind, sj_enum_value(SJ_FIELD_KIND, "individual"));
    assert_int_equal(item.report.category, sj_enum_value(SJ_FIELD_CATEGORY, "other"));
    assert_int_equal(item.report.outcome, sj_enum_value(SJ_FIELD_OUTCOME, "pending"));
    assert_int_equal(item.report.source, sj_enum_value(SJ_FIELD_SOURCE, "direct"));
    assert_string_equal(item.officer, "");
    assert_ptr_equal(item.report.officer, item.officer);
    assert_null(item.petitioner_name); /* "" is absent */
    assert_null(item.petitioner_id);
    assert_null(item.petitioner_phone);
    assert_null(item.petitioner_address);
    agent_import_item_free(&item);

    /* kind follows persons when absent: 5 or more is a collective matter. */
    assert_int_equal(s_parse_one("{" S_MIN ",\"persons\":5}", 2, &item, &err), SJ_OK);
    assert_int_equal(item.report.kind, sj_enum_value(SJ_FIELD_KIND, "collective"));
    agent_import_item_free(&item);
    assert_int_equal(s_parse_one("{" S_MIN ",\"persons\":4.0}", 3, &item, &err), SJ_OK);
    assert_int_equal(item.report.kind, sj_enum_value(SJ_FIELD_KIND, "individual"));
    agent_import_item_free(&item);
}

static void
test_import_line_errors(void **state)
{
    (void) state;
    static const struct {
        const char *line;
        const char *reason;
    } cases[] = {
        {"{\"channel\":\"telegram\",\"level\":\"county\",\"summary\":\"x\"}",
         "channel: 'telegram' is not one of: visit, letter, phone, mailbox"},
        {"{" S_MIN ",\"colour\":\"red\"}", "unknown field 'colour'"},
        {"{" S_MIN ",\"Channel\":\"visit\"}", "unknown field 'Channel'"},
        {"{" S_MIN ",\"occurred_on\":\"2007-02-30\"}",
         "occurred_on: '2007-02-30' is not a date YYYY-MM-DD"},
        {"{" S_MIN ",\"occurred_on\":20070305}", "occurred_on: must be a string, not a number"},
        {"{" S_MIN ",\"persons\":2.5}", "persons: must be a whole number, not 2.5"},
        {"{" S_MIN ",\"persons\":\"3\"}", "persons: must be a whole number, not a string"},
        {"{" S_MIN ",\"persons\":0}", "persons: 0 is out of range (1..100000)"},
        {"{" S_MIN ",\"persons\":100001}", "persons: 100001 is out of range (1..100000)"},
        {"{" S_MIN ",\"persons\":-3}", "persons: -3 is out of range (1..100000)"},
        {"{" S_MIN ",\"persons\":1e999}", "persons: inf is out of range (1..100000)"},
        {"{" S_MIN ",\"kind\":\"individual\",\"persons\":12}",
         "persons: an individual matter has 1-4 persons, not 12"},
        {"{" S_MIN ",\"kind\":\"collective\"}",
         "persons: a collective matter has 5 or more persons, not 1"},
        {"{\"channel\":\"letter\",\"persons\":3,\"level\":\"county\",\"summary\":\"x\"}",
         "persons: a letter is one item and one person, not 3"},
        {"{\"channel\":", "invalid JSON (column 11)"},
        {"{" S_MIN "} trailing", "invalid JSON (column 52)"},
        {"{" S_MIN "}{}", "invalid JSON (column 51)"},
        {"{" S_MIN "} \t ", NULL},
        {"", "invalid JSON (column 1)"},
        {"{" S_MIN ",\"id\":\"xyz\"}", "id: 'xyz' is not a UUID"},
        {"{" S_MIN ",\"id\":\"00000000-0000-0000-0000-000000000000\"}",
         "id: '00000000-0000-0000-0000-000000000000' is the nil UUID"},
        {"[1,2]", "line is not a JSON object"},
        {"\"summary\"", "line is not a JSON object"},
        {"{" S_MIN ",\"channel\":\"phone\"}", "duplicate field 'channel'"},
        {"{\"level\":\"county\",\"summary\":\"x\"}", "channel: missing (required)"},
        {"{\"channel\":\"visit\",\"summary\":\"x\"}", "level: missing (required)"},
        {"{\"channel\":\"visit\",\"level\":\"county\"}", "summary: missing (required)"},
        {"{\"channel\":\"visit\",\"level\":\"county\",\"summary\":\"\"}",
         "summary: must not be empty"},
        {"{\"channel\":\"visit\",\"level\":3,\"summary\":\"x\"}",
         "level: must be a string, not a number"},
        {"{" S_MIN ",\"officer\":null}", "officer: must be a string, not null"},
        {"{" S_MIN ",\"petitioner_id\":[\"1\"]}", "petitioner_id: must be a string, not an array"},
        {"{" S_MIN ",\"source\":{}}", "source: must be a string, not an object"},
        {"{" S_MIN ",\"outcome\":true}", "outcome: must be a string, not a boolean"},
        {"{" S_MIN ",\"officer\":\"a\\u0000b\"}", "\\u0000 (NUL) is not allowed in text"},
        {"{" S_MIN ",\"summary\\u0000x\":\"y\"}", "\\u0000 (NUL) is not allowed in text"},
        {"{" S_MIN ",\"officer\":\"a\\\\u0000\"}", NULL}, /* an escaped backslash */
        {"{\"channel\":\"visit\",\"level\":\"county\",\"summary\":\"bad \xff byte\"}",
         "invalid UTF-8"},
        {"{\"channel\":\"visit\",\"level\":\"county\",\"summary\":\"\xe5\x9c\"}", "invalid UTF-8"},
        {"{\"channel\":\"visit\",\"level\":\"county\",\"summary\":\"\\ud800\"}",
         "invalid JSON (column 48)"},
        {"{" S_MIN ",\"category\":\"ab\\ncd\"}",
         "category: 'ab?cd' is not one of: land, enterprise_restructuring, employment, "
         "housing_demolition, other"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        agent_import_item_t item;
        agent_import_error_t err;
        int rc = s_parse_one(cases[i].line, i + 1, &item, &err);
        if (!cases[i].reason) { /* a good line between the bad ones */
            assert_int_equal(rc, SJ_OK);
            agent_import_item_free(&item);
            continue;
        }
        if (rc != SJ_EINVAL || strcmp(err.reason, cases[i].reason) != 0) {
            print_error("case %zu: %s\n  got %d '%s'\n", i, cases[i].line, rc, err.reason);
        }
        assert_int_equal(rc, SJ_EINVAL);
        assert_string_equal(err.reason, cases[i].reason);
        assert_int_equal(err.line, i + 1);
        assert_null(item.summary);
        assert_null(item.officer);
    }
}

static void
test_import_line_limits(void **state)
{
    (void) state;
    agent_import_item_t item;
    agent_import_error_t err;
    char *line;

    line = s_line_with_text("petitioner_name", 300, 'n');
    assert_int_equal(s_parse_one(line, 1, &item, &err), SJ_EINVAL);
    assert_string_equal(err.reason, "petitioner_name: too long (300 bytes, at most 256)");
    free(line);

    line = s_line_with_text("petitioner_address", AGENT_IMPORT_MAX_PERSONAL, 'a');
    assert_int_equal(s_parse_one(line, 1, &item, &err), SJ_OK);
    assert_int_equal(strlen(item.petitioner_address), AGENT_IMPORT_MAX_PERSONAL);
    agent_import_item_free(&item);
    free(line);

    line = s_line_with_text("officer", 200, 'o');
    assert_int_equal(s_parse_one(line, 1, &item, &err), SJ_EINVAL);
    assert_string_equal(err.reason, "officer: too long (200 bytes, at most 128)");
    free(line);

    /* summary appears twice here: the duplicate is found before the length. */
    line = s_line_with_text("summary", 5000, 's');
    assert_int_equal(s_parse_one(line, 1, &item, &err), SJ_EINVAL);
    assert_string_equal(err.reason, "duplicate field 'summary'");
    free(line);

    char *big = malloc(5100);
    assert_non_null(big);
    int head = snprintf(big, 5100, "{\"channel\":\"visit\",\"level\":\"county\",\"summary\":\"");
    memset(big + head, 's', 5000);
    memcpy(big + head + 5000, "\"}", 3);
    assert_int_equal(s_parse_one(big, 9, &item, &err), SJ_EINVAL);
    assert_string_equal(err.reason, "summary: too long (5000 bytes, at most 4000)");
    assert_int_equal(err.line, 9);
    free(big);

    /* A long bad value is cut in the reason on a character boundary. */
    char value[100];
    for (int i = 0; i < 30; i++) {
        memcpy(value + (size_t) 3 * (size_t) i, "访", 3); /* 3 bytes each: 90 bytes */
    }
    value[90] = '\0';
    char text[400];
    (void) snprintf(text, sizeof text, "{" S_MIN ",\"source\":\"%s\"}", value);
    assert_int_equal(s_parse_one(text, 1, &item, &err), SJ_EINVAL);
    assert_non_null(
        strstr(err.reason, "source: '访访访访访访访访访访访访访访访访访访访访...' is not one of"));
    assert_true(sj_utf8_valid(err.reason, strlen(err.reason)));
}

static void
test_import_line_nul_byte(void **state)
{
    (void) state;
    static const char line[] = "{\"channel\":\"visit\",\"level\":\"county\",\"summary\":\"a\0b\"}";
    agent_import_item_t item;
    agent_import_error_t err;
    assert_int_equal(agent_import_parse_line(line, sizeof line - 1, 4, &item, &err), SJ_EINVAL);
    assert_string_equal(err.reason, "NUL byte at column 49");
    assert_int_equal(err.line, 4);
}

static void
test_import_file_mixed(void **state)
{
    (void) state;
    /* 40 good lines with bad ones at 3, 10, 17, ... so both arrays grow. */
    char *text = NULL;
    size_t size = 0;
    FILE *w = open_memstream(&text, &size);
    assert_non_null(w);
    size_t bad[12];
    size_t n_bad = 0;
    size_t lineno = 0;
    for (int i = 0; i < 40; i++) {
        if (i % 4 == 2 && n_bad < 12) {
            (void) fprintf(w, "{" S_MIN ",\"colour\":%d}\n", i);
            bad[n_bad++] = ++lineno;
        }
        (void) fprintf(w, "{" S_MIN ",\"persons\":%d}\n", i % 4 + 1);
        lineno++;
    }
    (void) fputs("not json\n", w);
    bad[n_bad++] = ++lineno;
    (void) fputs("{" S_MIN "}", w); /* last line without newline */
    lineno++;
    assert_int_equal(fclose(w), 0);

    agent_import_result_t res;
    assert_int_equal(s_parse_text(text, size, &res), SJ_OK);
    assert_int_equal(res.n_items, 41);
    assert_int_equal(res.n_errors, n_bad);
    for (size_t i = 0; i < n_bad; i++) {
        assert_int_equal(res.errors[i].line, bad[i]);
    }
    assert_string_equal(res.errors[0].reason, "unknown field 'colour'");
    assert_string_equal(res.errors[n_bad - 1].reason, "invalid JSON (column 1)");
    assert_int_equal(res.items[0].line, 1);
    assert_int_equal(res.items[0].report.persons, 1);
    assert_int_equal(res.items[40].line, lineno);
    for (size_t i = 0; i < res.n_items; i++) {
        assert_ptr_equal(res.items[i].report.summary, res.items[i].summary);
        assert_string_equal(res.items[i].summary, "x");
    }
    agent_import_result_free(&res);
    assert_null(res.items);
    assert_int_equal(res.n_items, 0);
    agent_import_result_free(&res);
    free(text);
}

static void
test_import_bom(void **state)
{
    (void) state;
    /* A BOM starts line 1; cJSON also skips one at the start of a later line
     * (as in concatenated files), but not inside the object. */
    static const char text[] = "\xEF\xBB\xBF{" S_MIN "}\n\xEF\xBB\xBF{" S_MIN "}\n"
                               "{\xEF\xBB\xBF" S_MIN "}\n\xEF\xBB\xBF\n";
    agent_import_result_t res;
    assert_int_equal(s_parse_text(text, sizeof text - 1, &res), SJ_OK);
    assert_int_equal(res.n_items, 2);
    assert_int_equal(res.items[0].line, 1);
    assert_int_equal(res.items[1].line, 2);
    assert_int_equal(res.n_errors, 2);
    assert_int_equal(res.errors[0].line, 3);
    assert_memory_equal(res.errors[0].reason, "invalid JSON", 12);
    assert_int_equal(res.errors[1].line, 4);
    agent_import_result_free(&res);

    /* A file holding only a BOM is empty. */
    assert_int_equal(s_parse_text("\xEF\xBB\xBF\n", 4, &res), SJ_OK);
    assert_int_equal(res.n_items, 0);
    assert_int_equal(res.n_errors, 0);
    agent_import_result_free(&res);
}

static void
test_import_crlf(void **state)
{
    (void) state;
    static const char text[] = "{" S_MIN "}\r\n{" S_MIN ",\"officer\":\"o\"}\r\n\r\n{bad\r\n";
    agent_import_result_t res;
    assert_int_equal(s_parse_text(text, sizeof text - 1, &res), SJ_OK);
    assert_int_equal(res.n_items, 2);
    assert_string_equal(res.items[1].officer, "o");
    assert_int_equal(res.n_errors, 1);
    assert_int_equal(res.errors[0].line, 4);
    agent_import_result_free(&res);
}

static void
test_import_blank_lines(void **state)
{
    (void) state;
    static const char text[] = "\n   \n\t\r\n{" S_MIN "}\n\n \f\v\n{oops}\n";
    agent_import_result_t res;
    assert_int_equal(s_parse_text(text, sizeof text - 1, &res), SJ_OK);
    assert_int_equal(res.n_items, 1);
    assert_int_equal(res.items[0].line, 4);
    assert_int_equal(res.n_errors, 1);
    assert_int_equal(res.errors[0].line, 7);
    agent_import_result_free(&res);

    assert_int_equal(s_parse_text("", 0, &res), SJ_OK);
    assert_int_equal(res.n_items, 0);
    assert_int_equal(res.n_errors, 0);
    assert_null(res.items);
    assert_null(res.errors);
    agent_import_result_free(&res);
}

static void
test_import_long_line(void **state)
{
    (void) state;
    /* Line 1: exactly AGENT_IMPORT_MAX_LINE bytes (padded with spaces), valid.
     * Line 2: 70,000 bytes, refused. Line 3: good again. */
    const size_t max = AGENT_IMPORT_MAX_LINE;
    const size_t size = max + 1 + 70000 + 1 + 64;
    char *text = malloc(size);
    assert_non_null(text);
    static const char obj[] = "{" S_MIN "}";
    size_t pos = 0;
    memcpy(text, obj, sizeof obj - 1);
    memset(text + sizeof obj - 1, ' ', max - (sizeof obj - 1));
    pos = max;
    text[pos++] = '\n';
    memcpy(text + pos, obj, sizeof obj - 1);
    memset(text + pos + sizeof obj - 1, ' ', 70000 - (sizeof obj - 1));
    pos += 70000;
    text[pos++] = '\n';
    memcpy(text + pos, obj, sizeof obj - 1);
    pos += sizeof obj - 1;

    agent_import_result_t res;
    assert_int_equal(s_parse_text(text, pos, &res), SJ_OK);
    assert_int_equal(res.n_items, 2);
    assert_int_equal(res.items[0].line, 1);
    assert_int_equal(res.items[1].line, 3);
    assert_int_equal(res.n_errors, 1);
    assert_int_equal(res.errors[0].line, 2);
    assert_string_equal(res.errors[0].reason, "line too long (70000 bytes, at most 65536)");
    agent_import_result_free(&res);
    free(text);
}

static void
test_import_read_error(void **state)
{
    (void) state;
    FILE *f = fopen("/dev/null", "w"); /* reading a write-only stream fails */
    assert_non_null(f);
    agent_import_result_t res;
    assert_int_equal(agent_import_parse(f, &res), SJ_EIO);
    assert_int_equal(res.n_items, 0);
    assert_int_equal(res.n_errors, 0);
    agent_import_result_free(&res);
    (void) fclose(f);
}

static void
test_import_out_of_memory(void **state)
{
    (void) state;
    /* Fail each allocation in turn: the parse reports SJ_ENOMEM, keeps what it
     * had, and leaks nothing (valgrind checks the last part). */
    char *text = NULL;
    size_t size = 0;
    FILE *w = open_memstream(&text, &size);
    assert_non_null(w);
    for (int i = 0; i < 20; i++) {
        (void) fprintf(w, "%s\n{\"colour\":1}\n", s_full);
    }
    assert_int_equal(fclose(w), 0);

    size_t n;
    for (n = 1;; n++) {
        agent_import_result_t res;
        FILE *f = fmemopen(text, size, "r");
        assert_non_null(f);
        s_arm(n);
        int rc = agent_import_parse(f, &res);
        s_arm(0);
        (void) fclose(f);
        if (rc == SJ_OK) {
            assert_int_equal(res.n_items, 20);
            assert_int_equal(res.n_errors, 20);
            agent_import_result_free(&res);
            break;
        }
        assert_int_equal(rc, SJ_ENOMEM);
        assert_true(res.n_items <= 20);
        agent_import_result_free(&res);
    }
    /* Each good line copies 6 strings, plus the array growth. */
    assert_true(n > (size_t) 20 * 6);

    agent_import_item_t item;
    agent_import_error_t err;
    for (n = 1; n <= 6; n++) {
        s_arm(n);
        int rc = s_parse_one(s_full, 1, &item, &err);
        s_arm(0);
        assert_int_equal(rc, SJ_ENOMEM);
        assert_string_equal(err.reason, "out of memory");
        assert_null(item.summary);
    }
    free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_line_all_fields),
        cmocka_unit_test(test_import_line_defaults),
        cmocka_unit_test(test_import_line_errors),
        cmocka_unit_test(test_import_line_limits),
        cmocka_unit_test(test_import_line_nul_byte),
        cmocka_unit_test(test_import_file_mixed),
        cmocka_unit_test(test_import_bom),
        cmocka_unit_test(test_import_crlf),
        cmocka_unit_test(test_import_blank_lines),
        cmocka_unit_test(test_import_long_line),
        cmocka_unit_test(test_import_read_error),
        cmocka_unit_test(test_import_out_of_memory),
    };
    return cmocka_run_group_tests_name("import", tests, NULL, NULL);
}
