/* Does county_out write the county views' results exactly as the CLI prints them, and pass a
 * view's failure on instead of a half-written answer? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "county_out.h"

/* Output captured in memory. */
typedef struct {
    char *text;
    size_t len;
    FILE *f;
} s_mem_t;

static void
s_open(s_mem_t *m)
{
    memset(m, 0, sizeof *m);
    m->f = open_memstream(&m->text, &m->len);
    assert_non_null(m->f);
}

static void
s_close(s_mem_t *m)
{
    assert_int_equal(fclose(m->f), 0);
    m->f = NULL;
}

static void
test_county_out_put_safe(void **state)
{
    (void) state;
    s_mem_t m;
    s_open(&m);
    /* C0 (ESC), DEL and C1 (U+0085) become spaces; Chinese stays */
    assert_int_equal(county_out_put_safe(m.f, "土地\x1b[31m\x7f\xc2\x85ok"), SJ_OK);
    s_close(&m);
    assert_string_equal(m.text, "土地 [31m  ok");
    free(m.text);
    s_open(&m);
    assert_int_equal(county_out_put_safe(m.f, "caf\xe9"), SJ_OK); /* not UTF-8 */
    s_close(&m);
    assert_string_equal(m.text, "caf?");
    free(m.text);
}

/* A cursor of two rows that then fails, or ends. */
typedef struct {
    int n;
    int fail;
} s_cursor_t;

static int
s_next(void *cursor, const char *const **cells, char *err, size_t err_size)
{
    static const char *const rows[2][2] = {{"230523100201", "3"}, {"230523100202", "4"}};
    s_cursor_t *c = cursor;
    if (c->n == 2) {
        if (c->fail) {
            snprintf(err, err_size, "cannot read the matters: disk I/O error");
            return SJ_EDB;
        }
        return SJ_ENOTFOUND;
    }
    *cells = rows[c->n++];
    return SJ_OK;
}

static void
test_county_out_rows(void **state)
{
    (void) state;
    static const char *const names[] = {"station", "items"};
    static const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_INT};
    char err[256] = "";
    s_mem_t m;
    s_cursor_t c = {0, 0};
    s_open(&m);
    assert_int_equal(county_out_rows(2, names, types, s_next, &c, SJ_FMT_CSV, m.f, err, sizeof err),
                     SJ_OK);
    s_close(&m);
    assert_string_equal(m.text, "station,items\n230523100201,3\n230523100202,4\n");
    free(m.text);

    c = (s_cursor_t){0, 0};
    s_open(&m);
    assert_int_equal(
        county_out_rows(2, names, types, s_next, &c, SJ_FMT_JSON, m.f, err, sizeof err), SJ_OK);
    s_close(&m);
    assert_string_equal(m.text, "[{\"station\":\"230523100201\",\"items\":3},"
                                "{\"station\":\"230523100202\",\"items\":4}]\n");
    free(m.text);

    /* the cursor's failure is the answer, with its reason */
    c = (s_cursor_t){0, 1};
    s_open(&m);
    assert_int_equal(
        county_out_rows(2, names, types, s_next, &c, SJ_FMT_TABLE, m.f, err, sizeof err), SJ_EDB);
    s_close(&m);
    assert_string_equal(err, "cannot read the matters: disk I/O error");
    assert_int_equal(m.len, 0); /* the table format writes nothing before the last row */
    free(m.text);
}

/* The problem lines of verify, in table format only, on their own stream. */
static void
test_county_out_verify(void **state)
{
    (void) state;
    static const char *const snames[] = {"station",          "epoch", "events",
                                         "complete_through", "gaps",  "quarantined",
                                         "chain_breaks",     "status"};
    static const sj_col_type_t stypes[] = {SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_INT, SJ_COL_INT,
                                           SJ_COL_INT,  SJ_COL_INT,  SJ_COL_INT, SJ_COL_TEXT};
    static const char *const pnames[] = {"station",   "epoch",    "problem",
                                         "first_seq", "last_seq", "reason"};
    static const sj_col_type_t ptypes[] = {SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
                                           SJ_COL_INT,  SJ_COL_INT,  SJ_COL_TEXT};
    const char *epoch = "0123456789abcdef0123456789abcdef";
    county_verify_t v = {sj_table_new(8, snames, stypes), sj_table_new(6, pnames, ptypes), 4};
    assert_non_null(v.streams);
    assert_non_null(v.problems);
    const char *row[] = {"230523100201", epoch, "9", "3", "3", "1", "2", "PROBLEM"};
    const char *gap[] = {"230523100201", epoch, "gap", "4", "6", ""};
    const char *quar[] = {"230523100201", epoch, "quarantined", "7", "7", "a reason"};
    const char *brk[] = {"230523100201", epoch, "break", "8", "8", ""};
    const char *fork[] = {"230523100201", epoch, "fork", "9", "9", ""};
    assert_int_equal(sj_table_add_row(v.streams, row), SJ_OK);
    assert_int_equal(sj_table_add_row(v.problems, gap), SJ_OK);
    assert_int_equal(sj_table_add_row(v.problems, quar), SJ_OK);
    assert_int_equal(sj_table_add_row(v.problems, brk), SJ_OK);
    assert_int_equal(sj_table_add_row(v.problems, fork), SJ_OK);
    s_mem_t out, lines;
    s_open(&out);
    s_open(&lines);
    assert_int_equal(county_out_verify(&v, SJ_FMT_TABLE, out.f, lines.f), SJ_OK);
    s_close(&out);
    s_close(&lines);
    assert_string_equal(lines.text, "gap: 230523100201 epoch 01234567…: seq 4..6 missing\n"
                                    "quarantined: 230523100201 epoch 01234567…: seq 7: a reason\n"
                                    "chain break: 230523100201 epoch 01234567…: seq 8\n"
                                    "chain break: 230523100201 epoch 01234567…: seq 9 held by"
                                    " two events\n");
    assert_non_null(strstr(out.text, "PROBLEM"));
    free(out.text);
    free(lines.text);
    /* csv: the streams only */
    s_open(&out);
    s_open(&lines);
    assert_int_equal(county_out_verify(&v, SJ_FMT_CSV, out.f, lines.f), SJ_OK);
    s_close(&out);
    s_close(&lines);
    assert_int_equal(lines.len, 0);
    assert_string_equal(out.text,
                        "station,epoch,events,complete_through,gaps,quarantined,chain_breaks,"
                        "status\n"
                        "230523100201,0123456789abcdef0123456789abcdef,9,3,3,1,2,PROBLEM\n");
    free(out.text);
    free(lines.text);
    county_verify_free(&v);
    county_verify_free(&v); /* safe twice */
}

static void
test_county_out_status(void **state)
{
    (void) state;
    static const char *const names[] = {"child",  "kind",  "status",  "last_contact", "silent_s",
                                        "events", "forks", "backlog", "undelivered"};
    static const sj_col_type_t types[] = {SJ_COL_TEXT, SJ_COL_TEXT, SJ_COL_TEXT,
                                          SJ_COL_TEXT, SJ_COL_INT,  SJ_COL_INT,
                                          SJ_COL_INT,  SJ_COL_INT,  SJ_COL_INT};
    county_status_t s = {"", 12, 10, 1, sj_table_new(9, names, types), "", NULL};
    assert_non_null(s.children);
    const char *row[] = {"230523100", "township", "ok", "2024-03-01T08:00:00Z", "5", "12",
                         "0",         "0",        "0"};
    assert_int_equal(sj_table_add_row(s.children, row), SJ_OK);
    s_mem_t m;
    s_open(&m);
    assert_int_equal(county_out_status(&s, SJ_FMT_JSON, m.f), SJ_OK);
    s_close(&m);
    assert_string_equal(m.text, "{\"county\":null,\"events\":12,\"matters\":10,\"quarantined\":1,"
                                "\"children\":[{\"child\":\"230523100\",\"kind\":\"township\","
                                "\"status\":\"ok\",\"last_contact\":\"2024-03-01T08:00:00Z\","
                                "\"silent_s\":5,\"events\":12,\"forks\":0,\"backlog\":0,"
                                "\"undelivered\":0}]}\n");
    free(m.text);
    snprintf(s.county, sizeof s.county, "230523");
    s_open(&m);
    assert_int_equal(county_out_status(&s, SJ_FMT_TABLE, m.f), SJ_OK);
    s_close(&m);
    assert_non_null(strstr(m.text, "county 230523: 12 events (10 matters) from 1 children,"
                                   " 1 quarantined\n\nchild"));
    free(m.text);
    snprintf(s.key_fp, sizeof s.key_fp, "1A2B-3C4D-5E6F-7A8B");
    s_open(&m);
    assert_int_equal(county_out_status(&s, SJ_FMT_JSON, m.f), SJ_OK);
    s_close(&m);
    assert_non_null(strstr(m.text, "\"key_fingerprint\":\"1A2B-3C4D-5E6F-7A8B\""));
    free(m.text);
    county_status_free(&s);
    county_status_free(&s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_county_out_put_safe),
        cmocka_unit_test(test_county_out_rows),
        cmocka_unit_test(test_county_out_verify),
        cmocka_unit_test(test_county_out_status),
    };
    return cmocka_run_group_tests_name("county_out", tests, NULL, NULL);
}
