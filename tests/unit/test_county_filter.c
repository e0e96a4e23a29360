/* Does county_filter accept exactly the filters and --by lists the CLI and the dashboard promise,
 * refuse the rest with a reason naming the option, and bind every value instead of writing it
 * into SQL? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "county_filter.h"
#include "sj_model.h"

static void
s_refused(const county_filter_t *f, const char *reason)
{
    char err[256] = "";
    assert_int_equal(county_filter_check(f, err, sizeof err), SJ_EINVAL);
    assert_string_equal(err, reason);
}

static void
test_county_filter_check(void **state)
{
    (void) state;
    char err[256] = "";
    assert_int_equal(county_filter_check(NULL, err, sizeof err), SJ_OK);
    county_filter_t ok = {.from = "2024-01-01",
                          .to = "2024-12-31",
                          .township = "230523100",
                          .station = "230523100201",
                          .level = "county",
                          .source = "review",
                          .limit = 10};
    assert_int_equal(county_filter_check(&ok, err, sizeof err), SJ_OK);

    county_filter_t f = {.from = "2024-02-30"};
    s_refused(&f, "--from '2024-02-30' is not a date (YYYY-MM-DD)");
    f = (county_filter_t){.from = "2024-03-02", .to = "2024-03-01"};
    s_refused(&f, "--from 2024-03-02 is after --to 2024-03-01");
    f = (county_filter_t){.township = "2305231"};
    s_refused(&f, "--township '2305231' is not a 9-digit township code");
    f = (county_filter_t){.station = "230523100"};
    s_refused(&f, "--station '230523100' is not a 12-digit village code");
    f = (county_filter_t){.category = "weather"};
    s_refused(&f, "--category 'weather' is not one of land, enterprise_restructuring, employment,"
                  " housing_demolition, other");
    f = (county_filter_t){.limit = -1};
    s_refused(&f, "--limit -1 is negative");
}

static void
test_county_filter_enums_and_today(void **state)
{
    (void) state;
    const char *names[SJ_FIELD_COUNT];
    county_filter_enums(NULL, names);
    for (int i = 0; i < SJ_FIELD_COUNT; i++) {
        assert_null(names[i]);
    }
    county_filter_t f = {.channel = "visit", .outcome = "closed"};
    county_filter_enums(&f, names);
    assert_string_equal(names[SJ_FIELD_CHANNEL], "visit");
    assert_string_equal(names[SJ_FIELD_OUTCOME], "closed");
    assert_null(names[SJ_FIELD_KIND]);
    char today[11];
    f.today = "2024-06-30";
    county_filter_today(&f, today);
    assert_string_equal(today, "2024-06-30");
    county_filter_today(NULL, today);
    assert_true(sj_date_valid(today));
}

static void
test_county_filter_dims_parse(void **state)
{
    (void) state;
    county_filter_dims_t dims;
    char err[512] = "";
    assert_int_equal(county_filter_dims_parse(NULL, &dims, err, sizeof err), SJ_OK);
    assert_int_equal(dims.n, 0);
    assert_int_equal(county_filter_dims_parse("", &dims, err, sizeof err), SJ_OK);
    assert_int_equal(dims.n, 0);
    assert_int_equal(county_filter_dims_parse(" level ,kind,  month", &dims, err, sizeof err),
                     SJ_OK);
    assert_int_equal(dims.n, 3);
    assert_int_equal(dims.d[0], COUNTY_FILTER_DIM_LEVEL);
    assert_int_equal(dims.d[1], COUNTY_FILTER_DIM_KIND);
    assert_int_equal(dims.d[2], COUNTY_FILTER_DIM_MONTH);
    assert_true(county_filter_dims_has(&dims, COUNTY_FILTER_DIM_KIND));
    assert_false(county_filter_dims_has(&dims, COUNTY_FILTER_DIM_STATION));
    assert_string_equal(county_filter_dim_name(COUNTY_FILTER_DIM_STATION), "station");
    assert_string_equal(county_filter_dim_expr(COUNTY_FILTER_DIM_STATION), "origin");
    assert_string_equal(county_filter_dim_expr(COUNTY_FILTER_DIM_MONTH),
                        "substr(occurred_on, 1, 7)");
    assert_int_equal(county_filter_dim_field(COUNTY_FILTER_DIM_EVER_OUTCOME), SJ_FIELD_OUTCOME);
    assert_int_equal(county_filter_dim_field(COUNTY_FILTER_DIM_TOWNSHIP), -1);

    assert_int_equal(county_filter_dims_parse("level,colour", &dims, err, sizeof err), SJ_EINVAL);
    assert_string_equal(err, "--by: unknown dimension 'colour' (use channel, kind, level,"
                             " category, outcome, source, station, township, month,"
                             " ever_outcome)");
    assert_int_equal(county_filter_dims_parse("kind,level,kind", &dims, err, sizeof err),
                     SJ_EINVAL);
    assert_string_equal(err, "--by: dimension 'kind' is given twice");
    assert_int_equal(county_filter_dims_parse("level,", &dims, err, sizeof err), SJ_EINVAL);
    assert_non_null(strstr(err, "unknown dimension ''"));
}

/* Every value is a '?' with its bind, in order; enum names become their
 * stored numbers. */
static void
test_county_filter_where(void **state)
{
    (void) state;
    county_filter_where_t w;
    county_filter_where(NULL, &w);
    assert_string_equal(w.sql, "");
    assert_int_equal(w.n, 0);
    county_filter_t f = {
        .from = "2024-01-01", .station = "230523100201", .kind = "collective", .source = "review"};
    county_filter_where(&f, &w);
    assert_string_equal(w.sql, " WHERE occurred_on >= ? AND origin = ? AND kind = ?"
                               " AND source = ?");
    assert_int_equal(w.n, 4);
    assert_string_equal(w.binds[0].text, "2024-01-01");
    assert_string_equal(w.binds[1].text, "230523100201");
    assert_null(w.binds[2].text);
    assert_int_equal(w.binds[2].value, sj_enum_value(SJ_FIELD_KIND, "collective"));
    assert_int_equal(w.binds[3].value, sj_enum_value(SJ_FIELD_SOURCE, "review"));

    /* bound, never part of the SQL: a quote in a value stays a value */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE matters(occurred_on, origin, kind, source)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO matters VALUES('2024-02-01', '230523100201',"
                                  " 2, 4), ('2024-02-01', 'x'' OR 1=1 --', 2, 4)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    char sql[600];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM matters%s", w.sql);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    char err[256] = "";
    assert_int_equal(county_filter_bind(db, st, &w, sql, err, sizeof err), SJ_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    f.station = "x' OR 1=1 --";
    county_filter_where(&f, &w);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(county_filter_bind(db, st, &w, sql, err, sizeof err), SJ_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1); /* that one row, not every row */
    sqlite3_finalize(st);

    /* a value past the statement's parameters is a reported bind error */
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT count(*) FROM matters WHERE kind = ?", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(county_filter_bind(db, st, &w, "SELECT", err, sizeof err), SJ_EDB);
    assert_non_null(strstr(err, "cannot bind a filter"));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_county_filter_check),
        cmocka_unit_test(test_county_filter_enums_and_today),
        cmocka_unit_test(test_county_filter_dims_parse),
        cmocka_unit_test(test_county_filter_where),
    };
    return cmocka_run_group_tests_name("county_filter", tests, NULL, NULL);
}
