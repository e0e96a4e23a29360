/* Does report count every yearbook figure exactly as the matters of that year add up, in both
 * languages and formats? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "county_report.h"
#include "county_testdb.h"
#include "sj_ids.h"

/* Stored enum numbers (sj_model.h), named here so the data reads. */
enum { VISIT = 1, LETTER, PHONE, MAILBOX };
enum { INDIV = 1, COLL };
enum { VILLAGE = 1, TOWNSHIP, COUNTY, CITY, PROVINCE, CAPITAL };
enum { LAND = 1, ENTERPRISE, EMPLOYMENT, HOUSING, OTHER };
enum { PENDING = 1, ON_SPOT, ACCEPTED, CLOSED, WITHDRAWN };
enum { DIRECT = 1, LEADER, ASSIGNED, REVIEW };

#define ID(n) "01900000-0000-7000-8000-0000000000" #n

/* 2024 has 18 matters; the two at the edges of the year are in, the ones
 * on 2023-12-31 and 2025-01-01 are out. */
static const county_testdb_matter_t s_data[] = {
    {ID(01), "2024-01-01", "230523100201", VISIT, COLL, 12, COUNTY, LAND, ON_SPOT, DIRECT, "s",
     NULL, 0},
    {ID(02), "2024-01-20", "230523100201", VISIT, INDIV, 3, COUNTY, LAND, ACCEPTED, LEADER, "s",
     NULL, 0},
    {ID(03), "2024-02-03", "230523100202", LETTER, INDIV, 1, COUNTY, EMPLOYMENT, CLOSED, ASSIGNED,
     "s", NULL, 0},
    {ID(04), "2024-02-14", "230523101201", PHONE, INDIV, 1, TOWNSHIP, OTHER, ON_SPOT, DIRECT, "s",
     NULL, 0},
    {ID(05), "2024-03-08", "230523101201", VISIT, COLL, 30, CITY, HOUSING, ACCEPTED, LEADER, "s",
     NULL, 0},
    {ID(06), "2024-03-09", "230523101202", VISIT, INDIV, 2, CITY, LAND, CLOSED, ASSIGNED, "s", NULL,
     0},
    {ID(07), "2024-04-01", "230523102201", MAILBOX, INDIV, 1, COUNTY, ENTERPRISE, PENDING, REVIEW,
     "s", NULL, 0},
    {ID(08), "2024-05-05", "230523102201", VISIT, COLL, 8, PROVINCE, ENTERPRISE, ACCEPTED, REVIEW,
     "s", NULL, 0},
    {ID(09), "2024-05-06", "230523102202", VISIT, INDIV, 4, PROVINCE, LAND, CLOSED, REVIEW, "s",
     NULL, 0},
    {ID(10), "2024-06-30", "230523100203", VISIT, COLL, 6, CAPITAL, HOUSING, ACCEPTED, ASSIGNED,
     "s", NULL, 0},
    {ID(11), "2024-07-01", "230523100203", VISIT, INDIV, 1, CAPITAL, LAND, WITHDRAWN, DIRECT, "s",
     NULL, 0},
    {ID(12), "2024-08-15", "230523101203", LETTER, INDIV, 1, VILLAGE, OTHER, CLOSED, REVIEW, "s",
     NULL, 0},
    {ID(13), "2024-09-09", "230523100201", PHONE, INDIV, 1, COUNTY, EMPLOYMENT, ACCEPTED, ASSIGNED,
     "s", NULL, 0},
    {ID(14), "2024-10-10", "230523100201", MAILBOX, INDIV, 1, CITY, OTHER, ON_SPOT, LEADER, "s",
     NULL, 0},
    {ID(15), "2024-11-11", "230523101201", VISIT, COLL, 15, COUNTY, LAND, CLOSED, ASSIGNED, "s",
     NULL, 0},
    {ID(16), "2024-12-01", "230523101201", LETTER, INDIV, 1, COUNTY, HOUSING, CLOSED, REVIEW, "s",
     NULL, 0},
    {ID(17), "2024-12-24", "230523102202", VISIT, INDIV, 2, VILLAGE, LAND, ON_SPOT, DIRECT, "s",
     NULL, 0},
    {ID(18), "2024-12-31", "230523102202", PHONE, INDIV, 1, TOWNSHIP, EMPLOYMENT, CLOSED, ASSIGNED,
     "s", NULL, 0},
    {ID(19), "2023-12-31", "230523100201", VISIT, COLL, 50, CAPITAL, LAND, CLOSED, ASSIGNED, "s",
     NULL, 0},
    {ID(20), "2025-01-01", "230523100201", VISIT, COLL, 70, CAPITAL, LAND, CLOSED, REVIEW, "s",
     NULL, 0},
};
#define S_NDATA (sizeof s_data / sizeof s_data[0])

/* Assignments (交办) made after the report, by plain SQL into the v3 table:
 * 02 (leader reception, accepted), 11 (withdrawn), 14 (resolved on the
 * spot), 10 twice (reported as assigned too: one case), 20 (2025). */
static const char *const s_assigned_ids[] = {ID(02), ID(11), ID(14), ID(10), ID(10), ID(20)};
#define S_NASSIGNED (sizeof s_assigned_ids / sizeof s_assigned_ids[0])

static int
s_has_assignment(const char *id)
{
    for (size_t i = 0; i < S_NASSIGNED; i++) {
        if (strcmp(s_assigned_ids[i], id) == 0) {
            return 1;
        }
    }
    return 0;
}

static void
s_insert_assignments(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO assignments(id, case_id, assignee, due_on,"
                                        " origin, created_ms, note) VALUES(randomblob(16), ?,"
                                        " '230523100', '2024-12-31', '230523', ?, '')",
                                        -1, &st, NULL),
                     SQLITE_OK);
    for (size_t i = 0; i < S_NASSIGNED; i++) {
        uint8_t id[16];
        assert_int_equal(sj_uuid_parse(s_assigned_ids[i], id), SJ_OK);
        sqlite3_bind_blob(st, 1, id, 16, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, 1709280000000LL + (sqlite3_int64) i);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
}

static void
s_add(county_count_t *c, const county_testdb_matter_t *m)
{
    c->items++;
    c->persons += m->persons;
}

/* The figures, counted here row by row with no SQL. */
static void
s_expected(int year, county_report_t *e)
{
    memset(e, 0, sizeof *e);
    e->year = year;
    char prefix[8];
    snprintf(prefix, sizeof prefix, "%04d-", year);
    for (size_t i = 0; i < S_NDATA; i++) {
        const county_testdb_matter_t *m = &s_data[i];
        if (strncmp(m->occurred_on, prefix, 5) != 0) {
            continue;
        }
        s_add(&e->total, m);
        s_add(m->kind == COLL ? &e->collective : &e->individual, m);
        s_add(&e->level[m->level - 1][0], m);
        s_add(&e->level[m->level - 1][m->kind == COLL ? 1 : 2], m);
        s_add(&e->channel[m->channel - 1], m);
        s_add(&e->outcome[m->outcome - 1], m);
        s_add(&e->source[m->source - 1], m);
        if (m->source == ASSIGNED || s_has_assignment(m->id)) {
            e->assigned++;
            e->assigned_concluded += m->outcome == CLOSED || m->outcome == ON_SPOT;
            e->assigned_withdrawn += m->outcome == WITHDRAWN;
        }
        if (m->source == REVIEW) {
            s_add(&e->review[m->category - 1], m);
        }
    }
}

static int
s_setup(void **state)
{
    county_testdb_t *db = county_testdb_new();
    county_testdb_insert(db, s_data, S_NDATA);
    s_insert_assignments(db->db);
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

static char *
s_render(const county_report_t *r, county_report_lang_t lang, county_report_fmt_t fmt)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    assert_int_equal(county_report_write(r, lang, fmt, out), SJ_OK);
    assert_int_equal(fclose(out), 0);
    return text;
}

static void
test_county_report_compute_matches_rows(void **state)
{
    county_testdb_t *db = *state;
    county_report_t got, want;
    char err[256] = "";
    int rc = county_report_compute(db->db, 2024, &got, err, sizeof err);
    if (rc != SJ_OK) {
        fail_msg("county_report_compute: %s", err);
    }
    s_expected(2024, &want);
    want.db = got.db;                       /* where the figures came from: the locks' section */
    assert_int_equal(want.total.items, 18); /* the data set is what the comment says */
    assert_int_equal(want.total.persons, 91);
    assert_int_equal(got.total.items, want.total.items);
    assert_int_equal(got.total.persons, want.total.persons);
    assert_int_equal(got.collective.items, want.collective.items);
    assert_int_equal(got.level[CAPITAL - 1][1].persons, 6);
    /* the rates and overdue come from the clock (test_rates recounts
     * them): participation's base is the concluded matters */
    assert_int_equal(got.rates.concluded, want.outcome[1].items + want.outcome[3].items);
    want.rates = got.rates;
    want.overdue = got.overdue;
    /* every figure, field by field */
    assert_memory_equal(&got, &want, sizeof got);
}

static void
test_county_report_other_years(void **state)
{
    county_testdb_t *db = *state;
    county_report_t got, want;
    char err[256] = "";
    assert_int_equal(county_report_compute(db->db, 2023, &got, err, sizeof err), SJ_OK);
    s_expected(2023, &want);
    want.db = got.db;
    want.rates = got.rates;
    want.overdue = got.overdue;
    assert_int_equal(got.total.items, 1);
    assert_memory_equal(&got, &want, sizeof got);
    assert_int_equal(county_report_compute(db->db, 2030, &got, err, sizeof err), SJ_OK);
    assert_int_equal(got.total.items, 0);
    assert_int_equal(county_report_closure_permille(&got), -1);
}

/* 2024: 6 reported as assigned (4 closed) and 3 more assigned later (02
 * accepted, 11 withdrawn, 14 resolved on the spot): 5 concluded of 9 - 1
 * withdrawn = 62.5%. */
static void
test_county_report_closure_rate(void **state)
{
    county_testdb_t *db = *state;
    county_report_t r, want;
    char err[256] = "";
    assert_int_equal(county_report_compute(db->db, 2024, &r, err, sizeof err), SJ_OK);
    s_expected(2024, &want);
    assert_int_equal(r.source[ASSIGNED - 1].items, 6);
    assert_int_equal(r.assigned, want.assigned);
    assert_int_equal(r.assigned_concluded, want.assigned_concluded);
    assert_int_equal(r.assigned_withdrawn, want.assigned_withdrawn);
    assert_int_equal(want.assigned, 9); /* the data set is what the comment says */
    int64_t den = want.assigned - want.assigned_withdrawn;
    assert_int_equal(county_report_closure_permille(&r),
                     (int) ((want.assigned_concluded * 2000 + den) / (2 * den)));
    assert_int_equal(county_report_closure_permille(&r), 625);
}

/* The sentence on assigned cases, from the independently counted figures. */
static void
s_assigned_sentence(county_report_lang_t lang, char *buf, size_t size)
{
    county_report_t e;
    s_expected(2024, &e);
    int64_t den = e.assigned - e.assigned_withdrawn;
    int pm = (int) ((e.assigned_concluded * 2000 + den) / (2 * den));
    if (lang == COUNTY_REPORT_ZH) {
        snprintf(buf, size, "受理上级交办案件%lld件，办结%lld件，撤回%lld件，办结率%d.%d%%。",
                 (long long) e.assigned, (long long) e.assigned_concluded,
                 (long long) e.assigned_withdrawn, pm / 10, pm % 10);
    } else {
        snprintf(buf, size,
                 "Cases assigned by higher authorities: %lld, of which %lld concluded and %lld"
                 " withdrawn (closure rate %d.%d%%).",
                 (long long) e.assigned, (long long) e.assigned_concluded,
                 (long long) e.assigned_withdrawn, pm / 10, pm % 10);
    }
}

static void
test_county_report_zh_md(void **state)
{
    county_testdb_t *db = *state;
    county_report_t r;
    char err[256] = "";
    assert_int_equal(county_report_compute(db->db, 2024, &r, err, sizeof err), SJ_OK);
    char *md = s_render(&r, COUNTY_REPORT_ZH, COUNTY_REPORT_MD);
    assert_non_null(strstr(md, "## 信访（2024年）\n"));
    assert_non_null(strstr(md, "2024年，全县共受理群众信访18件（批）次、91人次，"
                               "其中个体访13件次20人次，集体访5批次71人次。"));
    /* county: 01 (12, coll), 02 (3), 03 (1), 07 (1), 13 (1), 15 (15, coll), 16 (1) */
    assert_non_null(
        strstr(md, "到县上访7件（批）次34人次（集体访2批次27人次，个体访5件次7人次）；"));
    assert_non_null(strstr(md, "进京上访2件（批）次7人次（集体访1批次6人次，个体访1件次1人次）。"));
    assert_non_null(strstr(md, "受理群众来信3件，来电3件，信箱2件。"));
    assert_non_null(strstr(md, "当场解决4件（批）次，受理5件（批）次，办结7件（批）次。"));
    char sentence[256];
    s_assigned_sentence(COUNTY_REPORT_ZH, sentence, sizeof sentence);
    assert_non_null(strstr(md, sentence));
    assert_non_null(strstr(md, "领导接访3批（件）次34人次。"));
    assert_non_null(strstr(md, "受理复查复核案件5件，其中土地1件、企业改制2件、劳动就业0件、"
                               "房屋拆迁1件、其他1件。"));
    assert_non_null(strstr(md, "| 赴市上访 | 3 | 33 | 1 | 30 | 2 | 3 |\n"));
    assert_non_null(strstr(md, "| --- | ---: | ---: |\n"));
    free(md);
}

static void
test_county_report_en_html(void **state)
{
    county_testdb_t *db = *state;
    county_report_t r;
    char err[256] = "";
    county_testdb_fill(db->db, 2000, 2022); /* thousands separators */
    assert_int_equal(county_report_compute(db->db, 2022, &r, err, sizeof err), SJ_OK);
    assert_int_equal(r.total.items, 2000);
    char *html = s_render(&r, COUNTY_REPORT_EN, COUNTY_REPORT_HTML);
    assert_non_null(strstr(html, "<!DOCTYPE html>\n<html lang=\"en\">"));
    assert_non_null(strstr(html, "<h2>Petitions, 2022</h2>"));
    assert_non_null(strstr(html, "<p>In 2022 the county received 2,000 petition matters"));
    assert_non_null(strstr(html, "<caption>By level</caption>"));
    assert_non_null(strstr(html, "</table>\n</body>\n</html>\n"));
    assert_null(strstr(html, "&amp;amp;"));
    free(html);
    assert_int_equal(county_report_compute(db->db, 2024, &r, err, sizeof err), SJ_OK);
    html = s_render(&r, COUNTY_REPORT_EN, COUNTY_REPORT_MD);
    char sentence[256];
    s_assigned_sentence(COUNTY_REPORT_EN, sentence, sizeof sentence);
    assert_non_null(strstr(html, sentence));
    free(html);
}

static void
test_county_report_parse_errors(void **state)
{
    county_testdb_t *db = *state;
    int year = 0;
    county_report_lang_t lang;
    county_report_fmt_t fmt;
    assert_int_equal(county_report_year_parse("2024", &year), SJ_OK);
    assert_int_equal(year, 2024);
    assert_int_equal(county_report_year_parse("24", &year), SJ_EINVAL);
    assert_int_equal(county_report_year_parse("2024x", &year), SJ_EINVAL);
    assert_int_equal(county_report_year_parse("1899", &year), SJ_EINVAL);
    assert_int_equal(county_report_year_parse(NULL, &year), SJ_EINVAL);
    assert_int_equal(county_report_lang_parse("en", &lang), SJ_OK);
    assert_int_equal(lang, COUNTY_REPORT_EN);
    assert_int_equal(county_report_lang_parse("fr", &lang), SJ_EINVAL);
    assert_int_equal(county_report_fmt_parse("html", &fmt), SJ_OK);
    assert_int_equal(fmt, COUNTY_REPORT_HTML);
    assert_int_equal(county_report_fmt_parse("pdf", &fmt), SJ_EINVAL);
    county_report_t r;
    char err[256] = "";
    assert_int_equal(county_report_compute(db->db, 3000, &r, err, sizeof err), SJ_EINVAL);
    assert_non_null(strstr(err, "3000"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_county_report_compute_matches_rows),
        cmocka_unit_test(test_county_report_other_years),
        cmocka_unit_test(test_county_report_closure_rate),
        cmocka_unit_test(test_county_report_zh_md),
        cmocka_unit_test(test_county_report_en_html),
        cmocka_unit_test(test_county_report_parse_errors),
    };
    return cmocka_run_group_tests_name("county_report", tests, s_setup, s_teardown);
}
