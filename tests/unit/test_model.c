/* Do the enum tables, codes, dates and UTF-8 checks accept exactly what the design allows? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
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

/* The Chinese labels are the words of the project's glossary, each names one value, and every
 * tool's parser takes them as it takes the English names. */
static void
test_model_enum_labels(void **state)
{
    (void) state;
    static const struct {
        sj_field_t f;
        const char *zh;
        const char *name;
    } words[] = {
        {SJ_FIELD_CHANNEL, "来访", "visit"},
        {SJ_FIELD_CHANNEL, "信箱", "mailbox"},
        {SJ_FIELD_KIND, "集体访", "collective"},
        {SJ_FIELD_LEVEL, "到县", "county"},
        {SJ_FIELD_LEVEL, "进京", "capital"},
        {SJ_FIELD_CATEGORY, "土地", "land"},
        {SJ_FIELD_CATEGORY, "企业改制", "enterprise_restructuring"},
        {SJ_FIELD_OUTCOME, "办结", "closed"},
        {SJ_FIELD_OUTCOME, "当场解决", "resolved_on_spot"},
        {SJ_FIELD_SOURCE, "复查复核", "review"},
        {SJ_FIELD_SOURCE, "上级交办", "assigned"},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        int v = sj_enum_value(words[i].f, words[i].zh);
        assert_int_not_equal(v, 0);
        assert_string_equal(sj_enum_name(words[i].f, v), words[i].name);
        assert_string_equal(sj_enum_label(words[i].f, v, SJ_LANG_ZH), words[i].zh);
    }
    for (int f = 0; f < SJ_FIELD_COUNT; f++) {
        for (int v = 1; v <= sj_enum_count((sj_field_t) f); v++) {
            const char *zh = sj_enum_label((sj_field_t) f, v, SJ_LANG_ZH);
            assert_non_null(zh);
            assert_non_null(sj_enum_label((sj_field_t) f, v, SJ_LANG_EN));
            assert_int_equal(sj_enum_value((sj_field_t) f, zh), v);
            /* a label names one value of its field only */
            for (int w = 1; w <= sj_enum_count((sj_field_t) f); w++) {
                if (w != v) {
                    assert_string_not_equal(zh, sj_enum_label((sj_field_t) f, w, SJ_LANG_ZH));
                }
            }
        }
        assert_null(sj_enum_label((sj_field_t) f, 0, SJ_LANG_ZH));
        sj_field_t back;
        assert_int_equal(sj_field_parse(sj_field_label((sj_field_t) f, SJ_LANG_ZH), &back), SJ_OK);
        assert_int_equal(back, f);
        assert_int_equal(sj_field_parse(sj_field_name((sj_field_t) f), &back), SJ_OK);
        assert_int_equal(back, f);
    }
    sj_field_t back;
    assert_int_equal(sj_field_parse("colour", &back), SJ_EINVAL);
    assert_int_equal(sj_enum_value(SJ_FIELD_CHANNEL, "到县"), 0); /* another field's word */
    char list[256];
    sj_enum_list_lang(SJ_FIELD_CHANNEL, SJ_LANG_ZH, list, sizeof list);
    assert_string_equal(list, "来访 (visit), 来信 (letter), 来电 (phone), 信箱 (mailbox)");
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

/* Day arithmetic and the SANJI_TODAY hook: every "today" of the tools
 * comes from sj_date_local_offset, so the hook moves all of them. */
static void
test_model_today(void **state)
{
    (void) state;
    int64_t n = 0;
    char d[11];
    assert_int_equal(sj_date_days("1970-01-01", &n), SJ_OK);
    assert_int_equal(n, 0);
    assert_int_equal(sj_date_add("2024-02-28", 1, d), SJ_OK);
    assert_string_equal(d, "2024-02-29");
    assert_int_equal(sj_date_add("2023-02-28", 1, d), SJ_OK);
    assert_string_equal(d, "2023-03-01");
    assert_int_equal(sj_date_add("2026-01-01", 60, d), SJ_OK);
    assert_string_equal(d, "2026-03-02");
    assert_int_equal(sj_date_add("2026-01-01", -1, d), SJ_OK);
    assert_string_equal(d, "2025-12-31");
    assert_int_equal(sj_date_add("2026-02-30", 1, d), SJ_EINVAL);
    assert_int_equal(sj_date_diff("2026-03-02", "2026-01-01", &n), SJ_OK);
    assert_int_equal(n, 60);
    assert_int_equal(sj_date_diff("2000-03-01", "1900-03-01", &n), SJ_OK);
    assert_int_equal(n, 36525); /* 1904 .. 2000: 25 leap days */
    /* every seventh day of two centuries goes out and back */
    for (int i = -36000; i < 36000; i += 7) {
        assert_int_equal(sj_date_add("2000-01-01", i, d), SJ_OK);
        assert_true(sj_date_valid(d));
        assert_int_equal(sj_date_diff(d, "2000-01-01", &n), SJ_OK);
        assert_int_equal(n, i);
    }

    char err[160];
    assert_int_equal(setenv(SJ_TODAY_ENV, "2026-01-01", 1), 0);
    assert_int_equal(sj_today_check(err, sizeof err), SJ_OK);
    sj_date_today(d);
    assert_string_equal(d, "2026-01-01");
    sj_date_local_offset(61, d);
    assert_string_equal(d, "2026-03-03");
    /* events made under the hook are dated on its day (ms of that day) */
    int64_t ms = sj_event_now_ms();
    int64_t wall = sj_now_ms();
    int64_t jan1 = 0;
    assert_int_equal(sj_date_days("2026-01-01", &jan1), SJ_OK);
    assert_true(ms > (jan1 - 2) * 86400000LL && ms < (jan1 + 2) * 86400000LL);
    (void) wall;
    assert_int_equal(setenv(SJ_TODAY_ENV, "2026-13-01", 1), 0);
    assert_int_equal(sj_today_check(err, sizeof err), SJ_EINVAL);
    assert_non_null(strstr(err, "SANJI_TODAY=2026-13-01 is not a date"));
    assert_null(sj_today_override());
    assert_int_equal(unsetenv(SJ_TODAY_ENV), 0);
    assert_int_equal(sj_today_check(err, sizeof err), SJ_OK);
    sj_date_today(d);
    assert_true(sj_date_valid(d));
    assert_true(sj_event_now_ms() - sj_now_ms() < 1000);
}

static void
test_model_utf8(void **state)
{
    (void) state;
    const char *zh = "土地承包纠纷";
    assert_true(sj_utf8_valid(zh, strlen(zh)));
    assert_true(sj_utf8_valid("", 0));
    assert_true(sj_utf8_valid(NULL, 0)); /* an empty protobuf field */
    assert_false(sj_utf8_valid("\xff\xfe", 2));
    assert_false(sj_utf8_valid("a\0b", 3));
    assert_false(sj_utf8_valid("\xe5\x9c", 2));     /* truncated */
    assert_false(sj_utf8_valid("\xc0\xaf", 2));     /* overlong */
    assert_false(sj_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    /* the edges of each rule */
    assert_true(sj_utf8_valid("\x7f", 1));
    assert_true(sj_utf8_valid("\xc2\x80", 2));          /* U+0080 */
    assert_false(sj_utf8_valid("\xc1\xbf", 2));         /* overlong U+007F */
    assert_true(sj_utf8_valid("\xe0\xa0\x80", 3));      /* U+0800 */
    assert_false(sj_utf8_valid("\xe0\x9f\xbf", 3));     /* overlong U+07FF */
    assert_true(sj_utf8_valid("\xed\x9f\xbf", 3));      /* U+D7FF */
    assert_false(sj_utf8_valid("\xed\xbf\xbf", 3));     /* surrogate U+DFFF */
    assert_true(sj_utf8_valid("\xee\x80\x80", 3));      /* U+E000 */
    assert_true(sj_utf8_valid("\xf0\x90\x80\x80", 4));  /* U+10000 */
    assert_false(sj_utf8_valid("\xf0\x8f\xbf\xbf", 4)); /* overlong U+FFFF */
    assert_true(sj_utf8_valid("\xf4\x8f\xbf\xbf", 4));  /* U+10FFFF */
    assert_false(sj_utf8_valid("\xf4\x90\x80\x80", 4)); /* U+110000 */
    assert_false(sj_utf8_valid("\xf5\x80\x80\x80", 4));
    assert_false(sj_utf8_valid("\xf0\x90\x80", 3));     /* truncated 4-byte */
    assert_false(sj_utf8_valid("\xf0\x90\x80\x41", 4)); /* missing continuation */
    assert_false(sj_utf8_valid("\x80", 1));             /* stray continuation */
    assert_false(sj_utf8_valid("\xe5\x9c\x9f\x9f", 4)); /* one continuation too many */
    /* the length is the caller's: a valid string cut inside a character */
    assert_false(sj_utf8_valid(zh, strlen(zh) - 1));
    assert_true(sj_utf8_valid(zh, 3));
}

/* The rule as first written (decode the code point, then check its range):
 * the reference the fast validator must agree with on every input below. */
static int
s_utf8_reference(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i], min;
        size_t len;
        if (c == 0) {
            return 0;
        } else if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, min = 0x10000, c &= 0x07;
        } else {
            return 0;
        }
        if (i + len > n) {
            return 0;
        }
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80) {
                return 0;
            }
            c = (c << 6) | (p[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
            return 0;
        }
        i += len;
    }
    return 1;
}

/* Every 1-, 2- and 3-byte input, every 4-byte input whose last two bytes
 * are at the edges of the byte classes, each of those behind ASCII runs of
 * 0..9 bytes (so that the 8-byte ASCII path ends at every offset), and a bad
 * byte at every position of a long ASCII string. */
static void
test_model_utf8_exhaustive(void **state)
{
    (void) state;
    unsigned char buf[32];
    for (size_t pad = 0; pad < 10; pad++) {
        memset(buf, 'a', pad);
        for (unsigned x = 0; x < (1u << 24); x += pad ? 7 : 1) {
            unsigned char *q = buf + pad;
            q[0] = (unsigned char) (x >> 16), q[1] = (unsigned char) (x >> 8);
            q[2] = (unsigned char) x;
            for (size_t len = 1; len <= 3; len++) {
                if (len < 3 && (x & ((1u << (8 * (3 - len))) - 1)) != 0) {
                    continue;
                }
                size_t n = pad + len;
                if (sj_utf8_valid((const char *) buf, n) != s_utf8_reference(buf, n)) {
                    fail_msg("pad %zu len %zu bytes %06x", pad, len, x);
                }
            }
        }
    }
    static const unsigned char edges[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f,
                                          0xa0, 0xbf, 0xc0, 0xc2, 0xe0, 0xf0, 0xff};
    for (size_t pad = 0; pad < 10; pad++) {
        memset(buf, 'a', pad);
        for (unsigned ab = 0; ab < 0x10000; ab++) {
            for (size_t c = 0; c < sizeof edges; c++) {
                for (size_t d = 0; d < sizeof edges; d++) {
                    unsigned char *q = buf + pad;
                    q[0] = (unsigned char) (ab >> 8), q[1] = (unsigned char) ab;
                    q[2] = edges[c], q[3] = edges[d];
                    memcpy(q + 4, "tail", 4);
                    for (size_t n = pad + 4; n <= pad + 8; n += 4) {
                        if (sj_utf8_valid((const char *) buf, n) != s_utf8_reference(buf, n)) {
                            fail_msg("pad %zu bytes %04x %02x %02x n %zu", pad, ab, edges[c],
                                     edges[d], n);
                        }
                    }
                }
            }
            if (pad) {
                ab += 3; /* every lead byte still, a quarter of the second bytes */
            }
        }
    }
    for (size_t at = 0; at < sizeof buf; at++) {
        static const unsigned char bad[] = {0x00, 0x80, 0xc0, 0xe5, 0xff};
        for (size_t b = 0; b < sizeof bad; b++) {
            memset(buf, 'z', sizeof buf);
            buf[at] = bad[b];
            assert_int_equal(sj_utf8_valid((const char *) buf, sizeof buf), 0);
            assert_int_equal(s_utf8_reference(buf, sizeof buf), 0);
        }
        memset(buf, 'z', sizeof buf);
        assert_int_equal(sj_utf8_valid((const char *) buf, at), 1);
    }
}

static void
test_model_report_validate(void **state)
{
    (void) state;
    sj_report_t r = {.occurred_on = "2007-03-05",
                     .channel = 1,
                     .kind = 2,
                     .persons = 12,
                     .level = 3,
                     .category = 1,
                     .outcome = 2,
                     .source = 2,
                     .summary = "土地承包纠纷",
                     .officer = "信息员-017"};
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_enum_roundtrip),
        cmocka_unit_test(test_model_enum_labels),
        cmocka_unit_test(test_model_codes),
        cmocka_unit_test(test_model_dates),
        cmocka_unit_test(test_model_today),
        cmocka_unit_test(test_model_utf8),
        cmocka_unit_test(test_model_utf8_exhaustive),
        cmocka_unit_test(test_model_report_validate),
        cmocka_unit_test(test_model_uuid),
    };
    return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
