/* Do the enum tables, codes, dates and UTF-8 checks accept exactly what the design allows? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sj_ids.h"
#include "sj_model.h"

static void
test_model_enum_roundtrip(void **state)
{
    (void) state;
    for (int f = 0; f < SJ_FIELD_COUNT; f++) {
        for (int v = 1; v <= sj_enum_count((sj_field_t) f); v++) {
            const char *name = sj_enum_name((sj_field_t) f, v);
            assert_non_null(name);
            assert_int_equal(sj_enum_value((sj_field_t) f, name), v);
        }
        assert_null(sj_enum_name((sj_field_t) f, 0));
        assert_null(sj_enum_name((sj_field_t) f, sj_enum_count((sj_field_t) f) + 1));
    }
    assert_int_equal(sj_enum_value(SJ_FIELD_CHANNEL, "telegram"), 0);
    assert_int_equal(sj_enum_value(SJ_FIELD_LEVEL, "capital"), 6);
}

static void
test_model_codes(void **state)
{
    (void) state;
    assert_int_equal(sj_code_level("230523"), 6);
    assert_int_equal(sj_code_level("230523100"), 9);
    assert_int_equal(sj_code_level("230523100201"), 12);
    assert_int_equal(sj_code_level("23052310020"), 0);
    assert_int_equal(sj_code_level("23052310020x"), 0);
    assert_true(sj_code_under("230523100201", "230523100"));
    assert_false(sj_code_under("230523101201", "230523100"));
    assert_false(sj_code_under("230523", "230523100"));
}

static void
test_model_dates(void **state)
{
    (void) state;
    assert_true(sj_date_valid("2007-03-05"));
    assert_true(sj_date_valid("2024-02-29"));
    assert_false(sj_date_valid("2023-02-29"));
    assert_false(sj_date_valid("2023-13-01"));
    assert_false(sj_date_valid("2023-1-01"));
    assert_false(sj_date_valid(""));
    char today[11];
    sj_date_today(today);
    assert_true(sj_date_valid(today));
}

static void
test_model_utf8(void **state)
{
    (void) state;
    const char *zh = "土地承包纠纷";
    assert_true(sj_utf8_valid(zh, strlen(zh)));
    assert_false(sj_utf8_valid("\xff\xfe", 2));
    assert_false(sj_utf8_valid("a\0b", 3));
    assert_false(sj_utf8_valid("\xe5\x9c", 2));      /* truncated */
    assert_false(sj_utf8_valid("\xc0\xaf", 2));      /* overlong */
    assert_false(sj_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
}

static void
test_model_report_validate(void **state)
{
    (void) state;
    sj_report_t r = {.occurred_on = "2007-03-05", .channel = 1, .kind = 2, .persons = 12,
                     .level = 3, .category = 1, .outcome = 2, .source = 2,
                     .summary = "土地承包纠纷", .officer = "信息员-017"};
    char err[200];
    assert_int_equal(sj_report_validate(&r, err, sizeof err), SJ_OK);
    r.persons = 3;
    assert_int_equal(sj_report_validate(&r, err, sizeof err), SJ_EINVAL);
    assert_non_null(strstr(err, "collective"));
    r.persons = 12;
    r.level = 9;
    assert_int_equal(sj_report_validate(&r, err, sizeof err), SJ_EINVAL);
    assert_non_null(strstr(err, "level"));
    r.level = 3;
    r.summary = "";
    assert_int_equal(sj_report_validate(&r, err, sizeof err), SJ_EINVAL);
    assert_non_null(strstr(err, "summary"));
}

static void
test_model_uuid(void **state)
{
    (void) state;
    assert_int_equal(sj_ids_init(), SJ_OK);
    uint8_t a[16], b[16], c[16];
    sj_uuid7_new(a);
    sj_uuid7_new(b);
    assert_memory_not_equal(a, b, 16);
    assert_int_equal(a[6] >> 4, 7);
    assert_int_equal(a[8] >> 6, 2);
    char text[SJ_UUID_TEXT];
    sj_uuid_format(a, text);
    assert_int_equal(sj_uuid_parse(text, c), SJ_OK);
    assert_memory_equal(a, c, 16);
    assert_int_equal(sj_uuid_parse("not-a-uuid", c), SJ_EINVAL);
    assert_int_equal(sj_uuid_parse("0123456789abcdef0123456789abcdef0123", c), SJ_EINVAL);
}

/* The outcome state machine (sj_model.h): every pair checked against the
 * documented table. */
static void
test_model_outcome_transitions(void **state)
{
    (void) state;
    enum { P = 1, R, A, C, W };
    static const int ok[6][6] = {
        [P] = {[R] = 1, [A] = 1, [W] = 1},
        [R] = {[A] = 1},
        [A] = {[C] = 1, [W] = 1},
        [C] = {[A] = 1},
        [W] = {0},
    };
    for (int from = 0; from <= 6; from++) {
        for (int to = 0; to <= 6; to++) {
            int expect = from >= 1 && from <= 5 && to >= 1 && to <= 5 ? ok[from][to] : 0;
            assert_int_equal(sj_outcome_transition_ok(from, to), expect);
        }
    }
    assert_int_equal(sj_outcome_transition_ok(-1, A), 0);
    char buf[200];
    sj_outcome_next_list(P, buf, sizeof buf);
    assert_string_equal(buf, "resolved_on_spot, accepted, withdrawn");
    sj_outcome_next_list(W, buf, sizeof buf);
    assert_string_equal(buf, "none (withdrawn is final)");
    sj_outcome_transition_text(C, W, buf, sizeof buf);
    assert_string_equal(buf, "a case that is closed cannot become withdrawn (from closed: accepted)");
    sj_outcome_transition_text(A, A, buf, sizeof buf);
    assert_string_equal(buf, "the case is already accepted");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_enum_roundtrip), cmocka_unit_test(test_model_codes),
        cmocka_unit_test(test_model_dates),          cmocka_unit_test(test_model_utf8),
        cmocka_unit_test(test_model_report_validate), cmocka_unit_test(test_model_uuid),
        cmocka_unit_test(test_model_outcome_transitions),
    };
    return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
