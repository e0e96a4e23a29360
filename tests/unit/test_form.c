/* Does a page that writes read its forms as a browser sends them, refuse
 * what is not a form, and escape every piece of text it shows? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sj_form.h"

static int
s_parse(sj_form_t *f, const char *body, char *err, size_t size)
{
    return sj_form_parse(f, body, strlen(body), err, size);
}

static void
test_form_parse_decodes(void **state)
{
    (void) state;
    sj_form_t f;
    char err[200] = "";
    /* 土地 as a browser encodes it, '+' a space, an empty value, a bare name */
    assert_int_equal(
        s_parse(&f, "summary=%E5%9C%9F%E5%9C%B0+a%2Bb&officer=&flag&csrf=x%3Dy", err, sizeof err),
        SJ_OK);
    assert_int_equal(f.n, 4);
    assert_string_equal(sj_form_get(&f, "summary"), "土地 a+b");
    assert_string_equal(sj_form_get(&f, "officer"), "");
    assert_null(sj_form_val(&f, "officer"));
    assert_string_equal(sj_form_get(&f, "flag"), "");
    assert_string_equal(sj_form_get(&f, "csrf"), "x=y");
    assert_null(sj_form_get(&f, "missing"));
    sj_form_free(&f);
    assert_int_equal(s_parse(&f, "", err, sizeof err), SJ_OK);
    assert_int_equal(f.n, 0);
    assert_int_equal(s_parse(&f, "&&a=1&", err, sizeof err), SJ_OK);
    assert_int_equal(f.n, 1);
    sj_form_free(&f);
}

static void
test_form_parse_refuses(void **state)
{
    (void) state;
    sj_form_t f;
    char err[200] = "";
    assert_int_equal(s_parse(&f, "a=1&a=2", err, sizeof err), SJ_EINVAL);
    assert_non_null(strstr(err, "twice"));
    assert_int_equal(f.n, 0);
    assert_int_equal(s_parse(&f, "a=%E5%9C", err, sizeof err), SJ_EINVAL); /* cut UTF-8 */
    assert_non_null(strstr(err, "UTF-8"));
    assert_int_equal(s_parse(&f, "a=%00", err, sizeof err), SJ_EINVAL); /* NUL */
    assert_int_equal(s_parse(&f, "a=%zz", err, sizeof err), SJ_EINVAL);
    assert_non_null(strstr(err, "escape"));
    assert_int_equal(s_parse(&f, "a=%4", err, sizeof err), SJ_EINVAL);
    assert_int_equal(s_parse(&f, "a=%", err, sizeof err), SJ_EINVAL);
    /* too many fields, too many bytes */
    char many[SJ_FORM_MAX_FIELDS * 8 + 64] = "";
    for (int i = 0; i <= SJ_FORM_MAX_FIELDS; i++) {
        char one[16];
        snprintf(one, sizeof one, "f%d=1&", i);
        strcat(many, one);
    }
    assert_int_equal(s_parse(&f, many, err, sizeof err), SJ_EINVAL);
    assert_non_null(strstr(err, "more than"));
    char *big = malloc(SJ_FORM_MAX_BYTES + 2);
    assert_non_null(big);
    memset(big, 'a', SJ_FORM_MAX_BYTES + 1);
    big[SJ_FORM_MAX_BYTES + 1] = '\0';
    assert_int_equal(s_parse(&f, big, err, sizeof err), SJ_EINVAL);
    free(big);
}

static void
test_buf_escapes(void **state)
{
    (void) state;
    sj_buf_t b = {0};
    sj_buf_add(&b, "<p title=\"");
    sj_buf_esc(&b, "a\"b' <script>alert(1)</script> & 土地");
    sj_buf_add(&b, "\">");
    sj_buf_addf(&b, "%d", 42);
    sj_buf_esc(&b, NULL);
    assert_false(b.oom);
    assert_string_equal(b.p, "<p title=\"a&quot;b&#39; &lt;script&gt;alert(1)&lt;/script&gt;"
                             " &amp; 土地\">42");
    assert_int_equal(b.len, strlen(b.p));
    /* long text grows the buffer */
    char line[1000];
    memset(line, 'x', sizeof line - 1);
    line[sizeof line - 1] = '\0';
    for (int i = 0; i < 20; i++) {
        sj_buf_addf(&b, "%s", line);
    }
    assert_int_equal(b.len, strlen(b.p));
    sj_buf_free(&b);
    assert_null(b.p);
    assert_int_equal(sj_utf8_chars("土地ab"), 4);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_parse_decodes),
        cmocka_unit_test(test_form_parse_refuses),
        cmocka_unit_test(test_buf_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
