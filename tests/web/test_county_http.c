/* Does the dashboard's JSON API answer exactly what the CLI prints, refuse bad requests with a
 * reason, and hold to read-only and the token? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "county_testdb.h"
#include "sj_ids.h"
#include "web_harness.h"

#define ID(n) "01900000-0000-7000-8000-0000000000" #n

static const county_testdb_matter_t s_data[] = {
    {ID(01), "2024-01-01", "230523100201", 1, 2, 12, 3, 1, 2, 1, "a", NULL, 0},
    {ID(02), "2024-01-20", "230523100201", 1, 1, 3, 3, 1, 3, 2, "b", NULL, 0},
    {ID(03), "2024-02-03", "230523100202", 2, 1, 1, 3, 3, 4, 3, "c", NULL, 0},
    {ID(04), "2024-02-14", "230523101201", 3, 1, 1, 2, 5, 2, 1, "d", NULL, 0},
    {ID(05), "2024-03-08", "230523101201", 1, 2, 30, 4, 4, 3, 2, "e", NULL, 0},
    {ID(06), "2024-03-09", "230523101202", 1, 1, 2, 4, 1, 4, 3, "f", NULL, 0},
    {ID(07), "2024-04-01", "230523102201", 4, 1, 1, 3, 2, 1, 4, "g", NULL, 0},
    {ID(08), "2024-05-05", "230523102201", 1, 2, 8, 5, 2, 3, 4, "h", NULL, 0},
    {ID(09), "2024-06-30", "230523100203", 1, 2, 6, 6, 4, 3, 3, "i", NULL, 0},
    {ID(10), "2024-12-31", "230523102202", 3, 1, 1, 2, 3, 4, 3, "j", NULL, 0},
};
#define S_NDATA (sizeof s_data / sizeof s_data[0])

/* Assignments (plain SQL into the v3 table): 02 (accepted) and 07
 * (pending) past due; 05 (accepted) due far ahead; 03 (closed) past due,
 * but concluded; 08 (accepted) first past due, then assigned again with a
 * far due date, which is its current assignment. */
static const struct {
    const char *id, *assignee, *due;
    long long created_ms;
} s_assign[] = {
    {ID(02), "230523100201", "2020-01-01", 1000}, {ID(07), "230523102", "2020-06-01", 1000},
    {ID(05), "230523101", "2999-12-31", 1000},    {ID(03), "230523100", "2020-01-01", 1000},
    {ID(08), "230523102201", "2020-01-01", 1000}, {ID(08), "230523102", "2999-01-01", 2000},
};
#define S_NASSIGN (sizeof s_assign / sizeof s_assign[0])

/* Today (UTC), as the server computes overdue. */
static void
s_today(char out[11])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* The current assignment's due date of case id (latest created), or NULL. */
static const char *
s_due(const char *id)
{
    const char *due = NULL;
    long long at = -1;
    for (size_t i = 0; i < S_NASSIGN; i++) {
        if (strcmp(s_assign[i].id, id) == 0 && s_assign[i].created_ms > at) {
            due = s_assign[i].due;
            at = s_assign[i].created_ms;
        }
    }
    return due;
}

/* Open and overdue cases of a township (NULL: all), counted from s_data.
 * Overdue is at any stage (docs/CLOCK.md §5): every open case here was
 * received in 2024 with no change since, so its acceptance (pending: +15
 * days) or its conclusion (accepted on receipt: +60) is past due today,
 * whatever its 交办 due date. */
static void
s_expect_cases(const char *township, long *open, long *overdue)
{
    char today[11];
    s_today(today);
    *open = *overdue = 0;
    for (size_t i = 0; i < S_NDATA; i++) {
        if (township && strncmp(s_data[i].origin, township, 9) != 0) {
            continue;
        }
        int is_open = s_data[i].outcome == 1 || s_data[i].outcome == 3;
        const char *due = s_due(s_data[i].id);
        *open += is_open;
        *overdue += is_open;
        (void) due;
    }
}

typedef struct {
    county_testdb_t *db;
    web_server_t srv;   /* serve on 127.0.0.1, no token */
    web_server_t other; /* started by a test; stopped in teardown */
} s_fx_t;

static void
s_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg ? msg : "?");
    }
}

/* Links as the county would have recorded them: hub 100 heard 10 s ago,
 * hub 102 two hours ago, hub 105 (no matters) a minute ago, station
 * 230523101201 (attached directly) three hours ago; township 101 has no hub. */
static void
s_links(sqlite3 *db)
{
    char sql[1024];
    int64_t now = sj_now_ms();
    snprintf(sql, sizeof sql,
             "INSERT INTO links(code, epoch, first_seen_ms, last_contact_ms, queue_depth)"
             " VALUES('230523100', randomblob(16), %lld, %lld, 0),"
             " ('230523102', randomblob(16), %lld, %lld, 3),"
             " ('230523105', randomblob(16), %lld, %lld, 0),"
             " ('230523101201', randomblob(16), %lld, %lld, 1)",
             (long long) now - 86400000, (long long) now - 10000, (long long) now - 86400000,
             (long long) now - 7200000, (long long) now - 86400000, (long long) now - 60000,
             (long long) now - 86400000, (long long) now - 10800000);
    s_exec(db, sql);
}

static int
s_setup(void **state)
{
    s_fx_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->db = county_testdb_new();
    county_testdb_insert(fx->db, s_data, S_NDATA);
    for (size_t i = 0; i < S_NASSIGN; i++) {
        county_testdb_assign(fx->db->db, s_assign[i].id, s_assign[i].assignee, s_assign[i].due,
                             s_assign[i].created_ms);
    }
    s_links(fx->db->db);
    char *argv[] = {COUNTY_BIN, "serve", "--data", fx->db->dir, "--http", "127.0.0.1:0", NULL};
    web_server_start(&fx->srv, argv);
    *state = fx;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fx_t *fx = *state;
    web_server_stop(&fx->srv);
    county_testdb_destroy(&fx->db);
    free(fx);
    return 0;
}

static int
s_test_teardown(void **state)
{
    s_fx_t *fx = *state;
    web_server_stop(&fx->other);
    return 0;
}

static void
s_get(s_fx_t *fx, const char *target, web_resp_t *r)
{
    assert_int_equal(web_request(fx->srv.port, "GET", target, NULL, r), 0);
}

/* The API's body and `county-server stats --cases --format json` with the
 * flags (/api/stats carries the case figures). */
static void
s_same_as_cli(s_fx_t *fx, const char *target, char *const *flags)
{
    char *argv[24] = {COUNTY_BIN, "stats", "--data", fx->db->dir, "--format", "json", "--cases"};
    size_t n = 7;
    for (size_t i = 0; flags[i]; i++) {
        argv[n++] = flags[i];
    }
    argv[n] = NULL;
    int status = -1;
    char *cli = web_run(argv, &status);
    assert_int_equal(status, 0);
    web_resp_t r;
    s_get(fx, target, &r);
    assert_int_equal(r.status, 200);
    char type[128];
    assert_true(web_header(&r, "Content-Type", type, sizeof type));
    assert_string_equal(type, "application/json");
    assert_string_equal(r.body, cli);
    web_resp_free(&r);
    free(cli);
}

static void
test_county_http_stats_equals_cli(void **state)
{
    s_fx_t *fx = *state;
    s_same_as_cli(fx, "/api/stats", (char *[]){NULL});
    s_same_as_cli(fx, "/api/stats?by=level,kind", (char *[]){"--by", "level,kind", NULL});
    s_same_as_cli(fx, "/api/stats?by=month&from=2024-02-01&to=2024-06-30",
                  (char *[]){"--by", "month", "--from", "2024-02-01", "--to", "2024-06-30", NULL});
    s_same_as_cli(fx, "/api/stats?township=230523101&by=channel",
                  (char *[]){"--by", "channel", "--township", "230523101", NULL});
    s_same_as_cli(fx, "/api/stats?by=source&level=county&kind=collective&station=230523100201",
                  (char *[]){"--by", "source", "--level", "county", "--kind", "collective",
                             "--station", "230523100201", NULL});
    s_same_as_cli(fx,
                  "/api/stats?by=township%2Cmonth&category=land&outcome=accepted&source=direct"
                  "&channel=visit",
                  (char *[]){"--by", "township,month", "--category", "land", "--outcome",
                             "accepted", "--source", "direct", "--channel", "visit", NULL});
    /* an empty value is no filter, as in an HTML form */
    s_same_as_cli(fx, "/api/stats?by=level&from=&township=", (char *[]){"--by", "level", NULL});
}

/* The API's body and `county-server cases --format json` with the flags. */
static char *
s_cases_same_as_cli(s_fx_t *fx, const char *target, char *const *flags)
{
    char *argv[24] = {COUNTY_BIN, "cases", "--data", fx->db->dir, "--format", "json"};
    size_t n = 6;
    for (size_t i = 0; flags[i]; i++) {
        argv[n++] = flags[i];
    }
    argv[n] = NULL;
    int status = -1;
    char *cli = web_run(argv, &status);
    assert_int_equal(status, 0);
    web_resp_t r;
    s_get(fx, target, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, cli);
    web_resp_free(&r);
    return cli;
}

static void
test_county_http_cases_equals_cli(void **state)
{
    s_fx_t *fx = *state;
    char today[11];
    s_today(today);
    long open = 0, overdue = 0;
    s_expect_cases(NULL, &open, &overdue);
    assert_int_equal(overdue, 5); /* every open case: 02, 05, 07, 08, 09 */
    char *text = s_cases_same_as_cli(fx, "/api/cases?overdue=1", (char *[]){"--overdue", NULL});
    cJSON *rows = cJSON_Parse(text);
    assert_int_equal(cJSON_GetArraySize(rows), overdue);
    cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        const char *id = cJSON_GetObjectItem(row, "case_id")->valuestring;
        const char *due = s_due(id);
        if (due) { /* the 交办 due date, past or not */
            assert_string_equal(cJSON_GetObjectItem(row, "due_on")->valuestring, due);
            assert_true((strcmp(due, today) < 0)
                        == (cJSON_GetObjectItem(row, "days_left")->valuedouble < 0));
        }
        assert_string_equal(cJSON_GetObjectItem(row, "overdue")->valuestring, "yes");
        assert_true(cJSON_GetObjectItem(row, "overdue_what")->valuestring[0] != '\0');
        const char *outcome = cJSON_GetObjectItem(row, "outcome")->valuestring;
        assert_true(strcmp(outcome, "pending") == 0 || strcmp(outcome, "accepted") == 0);
    }
    cJSON_Delete(rows);
    free(text);
    text = s_cases_same_as_cli(fx, "/api/cases?open=true", (char *[]){"--open", NULL});
    rows = cJSON_Parse(text);
    assert_int_equal(cJSON_GetArraySize(rows), open);
    cJSON_Delete(rows);
    free(text);
    long t_open = 0, t_overdue = 0;
    s_expect_cases("230523102", &t_open, &t_overdue);
    text = s_cases_same_as_cli(fx, "/api/cases?overdue=1&township=230523102",
                               (char *[]){"--overdue", "--township", "230523102", NULL});
    rows = cJSON_Parse(text);
    assert_int_equal(cJSON_GetArraySize(rows), t_overdue);
    cJSON_Delete(rows);
    free(text);
    free(s_cases_same_as_cli(
        fx, "/api/cases?source=assigned&from=2024-02-01&to=2024-06-30",
        (char *[]){"--source", "assigned", "--from", "2024-02-01", "--to", "2024-06-30", NULL}));
    free(s_cases_same_as_cli(fx, "/api/cases", (char *[]){NULL}));
}

/* 400 with {"error": reason}, the reason containing want. */
static void
s_bad(s_fx_t *fx, const char *target, const char *want)
{
    web_resp_t r;
    s_get(fx, target, &r);
    if (r.status != 400) {
        fail_msg("%s: status %d, body %s", target, r.status, r.body);
    }
    cJSON *obj = cJSON_Parse(r.body);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(obj, "error");
    assert_true(cJSON_IsString(e));
    if (!strstr(e->valuestring, want)) {
        fail_msg("%s: error '%s' does not say '%s'", target, e->valuestring, want);
    }
    cJSON_Delete(obj);
    web_resp_free(&r);
}

static void
test_county_http_bad_parameters_400(void **state)
{
    s_fx_t *fx = *state;
    s_bad(fx, "/api/stats?by=moon", "by: unknown dimension 'moon'");
    s_bad(fx, "/api/stats?by=level,level", "given twice");
    s_bad(fx, "/api/stats?from=2024-13-01", "from '2024-13-01' is not a date");
    s_bad(fx, "/api/stats?from=2024-05-01&to=2024-04-01", "is after");
    s_bad(fx, "/api/stats?township=12345", "not a 9-digit township code");
    s_bad(fx, "/api/stats?station=230523100", "not a 12-digit village code");
    s_bad(fx, "/api/stats?channel=fax", "channel 'fax' is not one of");
    s_bad(fx, "/api/stats?colour=red", "unknown parameter 'colour'");
    s_bad(fx, "/api/stats?by=level&by=kind", "parameter 'by' is given twice");
    s_bad(fx,
          "/api/stats?a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11&l=12&m=13&n=14&o=15&p=16"
          "&q=17&r=18&s=19&t=20&u=21&v=22&w=23&x=24&y=25&z=26&aa=1&bb=2&cc=3&dd=4&ee=5&ff=6"
          "&gg=7",
          "too many query parameters");
    s_bad(fx, "/api/townships?by=level", "unknown parameter 'by'");
    s_bad(fx, "/api/townships?silent_after=soon", "silent_after 'soon'");
    s_bad(fx, "/api/townships?to=yesterday", "to 'yesterday' is not a date");
    s_bad(fx, "/api/links?silent_after=-5", "silent_after '-5'");
    s_bad(fx, "/api/links?from=2024-01-01", "unknown parameter 'from'");
    s_bad(fx, "/api/cases?overdue=maybe", "overdue 'maybe' is not 1 or 0");
    s_bad(fx, "/api/cases?open=2", "open '2' is not 1 or 0");
    s_bad(fx, "/api/cases?township=2305231", "not a 9-digit township code");
    s_bad(fx, "/api/cases?source=fax", "source 'fax' is not one of");
    s_bad(fx, "/api/cases?from=2024-05-01&to=2024-04-01", "is after");
    s_bad(fx, "/api/cases?by=level", "unknown parameter 'by'");
}

static cJSON *
s_township(cJSON *rows, const char *code)
{
    cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        if (strcmp(cJSON_GetObjectItem(row, "township")->valuestring, code) == 0) {
            return row;
        }
    }
    fail_msg("no row for township %s", code);
    return NULL;
}

static void
test_county_http_townships(void **state)
{
    s_fx_t *fx = *state;
    web_resp_t r;
    s_get(fx, "/api/townships?silent_after=3600", &r);
    assert_int_equal(r.status, 200);
    cJSON *root = cJSON_Parse(r.body);
    cJSON *rows = cJSON_GetObjectItem(root, "rows");
    assert_int_equal(cJSON_GetArraySize(rows), 4); /* 100, 101, 102 with matters; 105 hub only */
    const char *order[] = {"230523100", "230523101", "230523102", "230523105"};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(
            cJSON_GetObjectItem(cJSON_GetArrayItem(rows, i), "township")->valuestring, order[i]);
    }
    cJSON *t100 = s_township(rows, "230523100");
    assert_int_equal(cJSON_GetObjectItem(t100, "items")->valueint, 4);
    assert_int_equal(cJSON_GetObjectItem(t100, "persons")->valueint, 22);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(t100, "last_contact")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(t100, "silent")));
    cJSON *t101 = s_township(rows, "230523101");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(t101, "last_contact")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(t101, "silent")));
    cJSON *t102 = s_township(rows, "230523102");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(t102, "silent")));
    assert_true(cJSON_GetObjectItem(t102, "silent_s")->valuedouble >= 7200);
    cJSON *t105 = s_township(rows, "230523105");
    assert_int_equal(cJSON_GetObjectItem(t105, "items")->valueint, 0);
    assert_int_equal(cJSON_GetObjectItem(t105, "open")->valueint, 0);
    assert_int_equal(cJSON_GetObjectItem(t105, "overdue")->valueint, 0);
    /* open and overdue cases per township, as counted from the data */
    const char *codes[] = {"230523100", "230523101", "230523102"};
    for (int i = 0; i < 3; i++) {
        long open = 0, overdue = 0;
        s_expect_cases(codes[i], &open, &overdue);
        cJSON *t = s_township(rows, codes[i]);
        assert_int_equal(cJSON_GetObjectItem(t, "open")->valueint, open);
        assert_int_equal(cJSON_GetObjectItem(t, "overdue")->valueint, overdue);
    }
    cJSON *total = cJSON_GetObjectItem(root, "total");
    assert_int_equal(cJSON_GetObjectItem(total, "items")->valueint, 10);
    assert_int_equal(cJSON_GetObjectItem(total, "persons")->valueint, 65);
    assert_int_equal(cJSON_GetObjectItem(root, "silent_after_s")->valueint, 3600);
    cJSON_Delete(root);
    web_resp_free(&r);

    /* filtered: only the township asked for, its figures in the range */
    s_get(fx, "/api/townships?township=230523100&from=2024-01-15", &r);
    assert_int_equal(r.status, 200);
    root = cJSON_Parse(r.body);
    rows = cJSON_GetObjectItem(root, "rows");
    assert_int_equal(cJSON_GetArraySize(rows), 1);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "items")->valueint, 3);
    cJSON_Delete(root);
    web_resp_free(&r);
}

/* /api/links is `status --format json` (compared without the seconds
 * counters, which tick between the two reads). */
static void
test_county_http_links_equals_status(void **state)
{
    s_fx_t *fx = *state;
    char *argv[] = {COUNTY_BIN, "status",         "--data", fx->db->dir, "--format",
                    "json",     "--silent-after", "3600",   NULL};
    int status = -1;
    char *cli = web_run(argv, &status);
    assert_int_equal(status, 0);
    web_resp_t r;
    s_get(fx, "/api/links?silent_after=3600", &r);
    assert_int_equal(r.status, 200);
    cJSON *a = cJSON_Parse(cli), *b = cJSON_Parse(r.body);
    assert_non_null(a);
    assert_non_null(b);
    cJSON *ca = cJSON_GetObjectItem(a, "children"), *cb = cJSON_GetObjectItem(b, "children");
    assert_int_equal(cJSON_GetArraySize(ca), 4);
    assert_int_equal(cJSON_GetArraySize(cb), 4);
    for (int i = 0; i < 4; i++) {
        cJSON *x = cJSON_GetArrayItem(ca, i), *y = cJSON_GetArrayItem(cb, i);
        cJSON_DeleteItemFromObject(x, "silent_s");
        cJSON_DeleteItemFromObject(y, "silent_s");
        assert_true(cJSON_Compare(x, y, 1));
    }
    /* silent first: the station (3 h), then hub 102 (2 h) */
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cb, 0), "child")->valuestring,
                        "230523101201");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cb, 0), "status")->valuestring,
                        "SILENT");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cb, 3), "status")->valuestring,
                        "ok");
    cJSON_Delete(a);
    cJSON_Delete(b);
    free(cli);
    web_resp_free(&r);
}

/* /api/matters and /api/case (issue 15): the bodies `search` and `show`
 * print. */
static void
test_county_http_matters_and_case_equal_cli(void **state)
{
    s_fx_t *fx = *state;
    struct {
        const char *target;
        char *argv[12];
    } same[] = {
        {"/api/matters?q=e",
         {COUNTY_BIN, "search", "e", "--data", fx->db->dir, "--format", "json", NULL}},
        {"/api/matters?q=e&township=230523100",
         {COUNTY_BIN, "search", "e", "--township", "230523100", "--data", fx->db->dir, "--format",
          "json", NULL}},
        {"/api/case?id=" ID(03),
         {COUNTY_BIN, "show", ID(03), "--data", fx->db->dir, "--format", "json", NULL}},
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        int status = -1;
        char *cli = web_run(same[i].argv, &status);
        assert_int_equal(status, 0);
        web_resp_t r;
        s_get(fx, same[i].target, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, cli);
        web_resp_free(&r);
        free(cli);
    }
    /* no text: every matter that passes the filters, newest first */
    web_resp_t r;
    s_get(fx, "/api/matters?township=230523101", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, ID(04)));
    assert_null(strstr(r.body, ID(01)));
    web_resp_free(&r);
    s_get(fx, "/api/case?id=01900000-0000-7000-8000-0000000000ff", &r);
    assert_int_equal(r.status, 404);
    web_resp_free(&r);
    s_bad(fx, "/api/case?id=nope", "'nope' is not a UUID");
    s_bad(fx, "/api/matters?limit=0", "limit '0' is not a number");
}

static void
test_county_http_not_found_and_read_only(void **state)
{
    s_fx_t *fx = *state;
    web_resp_t r;
    const char *missing[] = {"/nope",        "/api",       "/api/",
                             "/api/nothing", "/index.htm", "/../etc/passwd"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        s_get(fx, missing[i], &r);
        assert_int_equal(r.status, 404);
        assert_non_null(strstr(r.body, "\"error\""));
        web_resp_free(&r);
    }
    /* issue 17: the page takes forms, but no POST without the CSRF token */
    const char *methods[] = {"PUT", "DELETE", "PATCH", "OPTIONS"};
    char allow[64];
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        assert_int_equal(
            web_request(fx->srv.port, methods[i], "/api/stats", "Content-Length: 0\r\n", &r), 0);
        assert_int_equal(r.status, 405);
        assert_true(web_header(&r, "Allow", allow, sizeof allow));
        assert_string_equal(allow, "GET, HEAD, POST");
        web_resp_free(&r);
    }
    assert_int_equal(web_request(fx->srv.port, "POST", "/api/stats",
                                 "Content-Type: application/x-www-form-urlencoded\r\n"
                                 "Content-Length: 0\r\n",
                                 &r),
                     0);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "CSRF"));
    web_resp_free(&r);
    assert_int_equal(web_request(fx->srv.port, "HEAD", "/api/stats?by=level", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    web_resp_free(&r);
}

static void
test_county_http_assets_from_the_binary(void **state)
{
    s_fx_t *fx = *state;
    web_resp_t r;
    char h[512];
    s_get(fx, "/", &r);
    assert_int_equal(r.status, 200);
    assert_true(web_header(&r, "Content-Type", h, sizeof h));
    assert_string_equal(h, "text/html; charset=utf-8");
    assert_non_null(strstr(r.body, "<script src=\"/chart.min.js\" defer></script>"));
    assert_non_null(strstr(r.body, "id=\"total-items\""));
    assert_null(strstr(r.body, "__SJ_TOKEN_QS__"));
    assert_null(strstr(r.body, "http://")); /* nothing from elsewhere */
    assert_null(strstr(r.body, "https://"));
    assert_true(web_header(&r, "Content-Security-Policy", h, sizeof h));
    assert_non_null(strstr(h, "script-src 'self'"));
    assert_true(web_header(&r, "X-Content-Type-Options", h, sizeof h));
    web_resp_free(&r);
    s_get(fx, "/chart.min.js", &r);
    assert_int_equal(r.status, 200);
    assert_true(r.body_len > 100000);
    assert_non_null(strstr(r.body, " * Chart.js v"));
    assert_true(web_header(&r, "Content-Type", h, sizeof h));
    assert_string_equal(h, "text/javascript; charset=utf-8");
    web_resp_free(&r);
    s_get(fx, "/app.js", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "/api/stats"));
    web_resp_free(&r);
    s_get(fx, "/style.css", &r);
    assert_true(web_header(&r, "Content-Type", h, sizeof h));
    assert_string_equal(h, "text/css; charset=utf-8");
    web_resp_free(&r);
}

static void
s_token_file(const char *path, const char *token, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", token);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

/* Off loopback without accounts: the token is a read-only API client's, in
 * the header only (issue 17); a page asks for a login and never holds it. */
static void
test_county_http_token(void **state)
{
    s_fx_t *fx = *state;
    char path[128];
    snprintf(path, sizeof path, "%s/http.token", fx->db->dir);
    const char *token = "s3cret-TOKEN_for.tests~0123456789";
    s_token_file(path, token, 0600);
    char *argv[] = {COUNTY_BIN,  "serve",        "--data", fx->db->dir, "--http",
                    "0.0.0.0:0", "--token-file", path,     NULL};
    web_server_start(&fx->other, argv);
    uint16_t port = fx->other.port;
    web_resp_t r;
    char h[256], target[256], auth[256];
    const char *paths[] = {"/api/stats", "/api/case", "/api/nope"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(web_request(port, "GET", paths[i], NULL, &r), 0);
        assert_int_equal(r.status, 401);
        assert_true(web_header(&r, "WWW-Authenticate", h, sizeof h));
        web_resp_free(&r);
    }
    const char *pages[] = {"/", "/nope", "/audit"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(web_request(port, "GET", pages[i], NULL, &r), 0);
        assert_int_equal(r.status, 303);
        assert_true(web_header(&r, "Location", h, sizeof h));
        assert_string_equal(h, "/login");
        web_resp_free(&r);
    }
    assert_int_equal(web_request(port, "GET", "/app.js", NULL, &r), 0);
    assert_int_equal(r.status, 200); /* scripts and styles are no secret */
    web_resp_free(&r);
    assert_int_equal(web_request(port, "GET", "/api/stats",
                                 "Authorization: Bearer wrong-token-0123456789\r\n", &r),
                     0);
    assert_int_equal(r.status, 401);
    web_resp_free(&r);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", token);
    assert_int_equal(web_request(port, "GET", "/api/stats?by=level", auth, &r), 0);
    assert_int_equal(r.status, 200);
    web_resp_free(&r);
    /* never from the URL */
    snprintf(target, sizeof target, "/api/stats?by=level&token=%s", token);
    assert_int_equal(web_request(port, "GET", target, NULL, &r), 0);
    assert_int_equal(r.status, 401);
    web_resp_free(&r);
    /* the bearer token does not open the pages, nor a POST */
    assert_int_equal(web_request(port, "GET", "/", auth, &r), 0);
    assert_int_equal(r.status, 303);
    web_resp_free(&r);
    snprintf(target, sizeof target, "/login?token=%s", token);
    assert_int_equal(web_request(port, "GET", target, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, token));
    web_resp_free(&r);
    web_server_stop(&fx->other);
}

static void
test_county_http_refuses_bad_setups(void **state)
{
    s_fx_t *fx = *state;
    char path[128];
    snprintf(path, sizeof path, "%s/open.token", fx->db->dir);
    s_token_file(path, "0123456789abcdef0123", 0644);
    char short_path[128];
    snprintf(short_path, sizeof short_path, "%s/short.token", fx->db->dir);
    s_token_file(short_path, "short", 0600);
    struct {
        char *argv[10];
        int status;
    } cases[] = {
        {{COUNTY_BIN, "serve", "--data", fx->db->dir, "--http", "0.0.0.0:0", NULL}, 2},
        {{COUNTY_BIN, "serve", "--data", fx->db->dir, "--http", "127.0.0.1:0", "--token-file", path,
          NULL},
         2},
        {{COUNTY_BIN, "serve", "--data", fx->db->dir, "--http", "127.0.0.1:0", "--token-file",
          short_path, NULL},
         2},
        {{COUNTY_BIN, "serve", "--data", fx->db->dir, "--http", "nonsense", NULL}, 2},
        {{COUNTY_BIN, "serve", "--data", fx->db->dir, "--http", "127.0.0.1:99999", NULL}, 2},
        {{COUNTY_BIN, "serve", "--data", fx->db->dir, "--year", "2024", NULL}, 2},
        {{COUNTY_BIN, "serve", "--data", "/nonexistent/sanji", "--http", "127.0.0.1:0", NULL}, 1},
        /* the port is taken by the fixture's server */
        {{COUNTY_BIN, "serve", "--data", fx->db->dir, "--http", NULL, NULL}, 1},
    };
    char taken[64];
    snprintf(taken, sizeof taken, "127.0.0.1:%u", fx->srv.port);
    cases[7].argv[5] = taken;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int status = -1;
        free(web_run(cases[i].argv, &status));
        if (status != cases[i].status) {
            fail_msg("case %zu: exit %d, want %d", i, status, cases[i].status);
        }
    }
}

/* ---- Host, slow clients, a busy port (issue 18.4) ---- */

/* A socket from loopback address 127.0.0.from to port, with receive and send
 * timeouts of timeout_ms; -1 when connect fails. */
static int
s_connect_from(int from, uint16_t port, int timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), 0);
    struct sockaddr_in me = {.sin_family = AF_INET};
    me.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t) from);
    assert_int_equal(bind(fd, (struct sockaddr *) &me, sizeof me), 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends req (complete) from 127.0.0.1 and returns the status of the answer
 * (0: none within timeout_ms or the connection was refused or closed). */
static int
s_raw_status(uint16_t port, const char *req, int timeout_ms)
{
    int fd = s_connect_from(1, port, timeout_ms);
    if (fd < 0) {
        return 0;
    }
    int status = 0;
    char buf[256];
    size_t len = strlen(req);
    if (write(fd, req, len) == (ssize_t) len) {
        ssize_t got = read(fd, buf, sizeof buf - 1);
        if (got > 12 && strncmp(buf, "HTTP/1.", 7) == 0) {
            buf[got] = '\0';
            status = atoi(buf + 9);
        }
    }
    close(fd);
    return status;
}

/* Without a token, only a loopback Host with the bound port is served: a page
 * of attacker.example that a DNS rebinding points at 127.0.0.1 gets 421. */
static void
test_county_http_host_checked(void **state)
{
    s_fx_t *fx = *state;
    unsigned p = fx->srv.port;
    struct {
        const char *host;
        long port; /* -1: none; 0: the bound port */
        int status;
    } cases[] = {
        {"attacker.example", -1, 421},
        {"attacker.example", 0, 421},
        {"127.0.0.1", 0, 200},
        {"localhost", 0, 200},
        {"LocalHost", 0, 200},
        {"127.0.0.2", 0, 200},
        {"[::1]", 0, 200},
        {"127.0.0.1", -1, 421},
        {"127.0.0.1", 1, 421},
        {"127.0.0.1.evil.com", 0, 421},
        {"10.0.0.1", 0, 421},
        {"", -1, 421},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char host[96], req[256];
        if (cases[i].port < 0) {
            snprintf(host, sizeof host, "%s", cases[i].host);
        } else {
            snprintf(host, sizeof host, "%s:%ld", cases[i].host,
                     cases[i].port ? cases[i].port : (long) p);
        }
        snprintf(req, sizeof req,
                 "GET /api/stats HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host);
        int status = s_raw_status(fx->srv.port, req, 5000);
        if (status != cases[i].status) {
            fail_msg("Host '%s': %d, want %d", host, status, cases[i].status);
        }
    }
    /* HTTP/1.0 without a Host: refused too */
    assert_int_equal(s_raw_status(fx->srv.port, "GET /api/stats HTTP/1.0\r\n\r\n", 5000), 421);
}

#define S_SLOW_ADDRS   5  /* 127.0.0.2 .. 127.0.0.6 */
#define S_SLOW_PER     20 /* connections each tries to hold */
#define S_SLOW_SECONDS 14 /* how long the slow clients keep at it */
#define S_SLOW_EVERY   2  /* seconds between their header lines */

/* A slowloris from five loopback addresses (each trying 20 connections, one
 * header line every 2 s) does not keep GET /api/stats from 127.0.0.1 out: it
 * answers promptly all along; each address holds at most
 * SJ_HTTP_CONN_PER_IP connections, and a silent connection is closed after
 * the idle timeout. */
static void
test_county_http_slowloris(void **state)
{
    s_fx_t *fx = *state;
    int fds[S_SLOW_ADDRS][S_SLOW_PER];
    for (int a = 0; a < S_SLOW_ADDRS; a++) {
        for (int i = 0; i < S_SLOW_PER; i++) {
            fds[a][i] = s_connect_from(2 + a, fx->srv.port, 1000);
            if (fds[a][i] >= 0 && write(fds[a][i], "GET /api/stats HTTP/1.1\r\n", 25) != 25) {
                close(fds[a][i]);
                fds[a][i] = -1;
            }
        }
    }
    int silent = s_connect_from(7, fx->srv.port, 1000); /* connects, sends nothing */
    assert_true(silent >= 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long worst_ms = 0, asked = 0;
    int silent_closed_s = -1;
    /* One turn a second by the monotonic clock (the sleep restarts when a
     * signal cuts it short), so the slow clients and the silent connection
     * get their whole S_SLOW_SECONDS however the machine is loaded. */
    for (int sec = 0; sec < S_SLOW_SECONDS; sec++) {
        struct timespec turn = {t0.tv_sec + sec, t0.tv_nsec};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &turn, NULL) == EINTR) {
        }
        if (sec % S_SLOW_EVERY == 0) {
            for (int a = 0; a < S_SLOW_ADDRS; a++) {
                for (int i = 0; i < S_SLOW_PER; i++) {
                    if (fds[a][i] >= 0
                        && send(fds[a][i], "X-Slow: 1\r\n", 11, MSG_NOSIGNAL) != 11) {
                        close(fds[a][i]);
                        fds[a][i] = -1;
                    }
                }
            }
        }
        /* a request from 127.0.0.1 in the middle of it, timed */
        struct timespec q0, q1;
        char req[128];
        snprintf(req, sizeof req, "GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n",
                 fx->srv.port);
        clock_gettime(CLOCK_MONOTONIC, &q0);
        int status = s_raw_status(fx->srv.port, req, 5000);
        clock_gettime(CLOCK_MONOTONIC, &q1);
        long ms = (q1.tv_sec - q0.tv_sec) * 1000 + (q1.tv_nsec - q0.tv_nsec) / 1000000;
        if (status != 200) {
            fail_msg("second %d of the slowloris: GET /api/stats got %d after %ld ms", sec, status,
                     ms);
        }
        worst_ms = ms > worst_ms ? ms : worst_ms;
        asked++;
        if (silent_closed_s < 0) {
            char c;
            ssize_t got = recv(silent, &c, 1, MSG_DONTWAIT);
            if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
                clock_gettime(CLOCK_MONOTONIC, &t1);
                silent_closed_s = (int) (t1.tv_sec - t0.tv_sec);
            }
        }
    }
    /* how many each address still holds (the others were closed at once) */
    int held_max = 0, held_total = 0;
    for (int a = 0; a < S_SLOW_ADDRS; a++) {
        int held = 0;
        for (int i = 0; i < S_SLOW_PER; i++) {
            if (fds[a][i] < 0) {
                continue;
            }
            char c;
            ssize_t got = recv(fds[a][i], &c, 1, MSG_DONTWAIT);
            held += got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
            close(fds[a][i]);
        }
        held_max = held > held_max ? held : held_max;
        held_total += held;
    }
    close(silent);
    fprintf(stderr,
            "# slowloris %d addresses x %d connections, a header line every %d s for %d s:"
            " %ld requests from 127.0.0.1 all 200, slowest %ld ms; slow connections held %d"
            " (at most %d per address); a silent connection closed after ~%d s\n",
            S_SLOW_ADDRS, S_SLOW_PER, S_SLOW_EVERY, S_SLOW_SECONDS, asked, worst_ms, held_total,
            held_max, silent_closed_s);
    assert_true(worst_ms < 1000);
    assert_true(held_max >= 1 && held_max <= 8);                /* SJ_HTTP_CONN_PER_IP */
    assert_true(silent_closed_s >= 8 && silent_closed_s <= 13); /* SJ_HTTP_TIMEOUT_S */
}

/* A port in use is named (libmicrohttpd alone says "Failed to bind to port 0"). */
static void
test_county_http_busy_port_named(void **state)
{
    s_fx_t *fx = *state;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' serve --data '%s' --http 127.0.0.1:%u 2>&1", COUNTY_BIN,
             fx->db->dir, fx->srv.port);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[2048];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    char want[64];
    snprintf(want, sizeof want, "port %u is in use", fx->srv.port);
    if (!strstr(out, want) || strstr(out, "port 0")) {
        fail_msg("serve on a busy port said: %s", out);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_county_http_stats_equals_cli),
        cmocka_unit_test(test_county_http_bad_parameters_400),
        cmocka_unit_test(test_county_http_cases_equals_cli),
        cmocka_unit_test(test_county_http_townships),
        cmocka_unit_test(test_county_http_links_equals_status),
        cmocka_unit_test(test_county_http_matters_and_case_equal_cli),
        cmocka_unit_test(test_county_http_not_found_and_read_only),
        cmocka_unit_test(test_county_http_assets_from_the_binary),
        cmocka_unit_test_teardown(test_county_http_token, s_test_teardown),
        cmocka_unit_test(test_county_http_refuses_bad_setups),
        cmocka_unit_test(test_county_http_host_checked),
        cmocka_unit_test(test_county_http_busy_port_named),
        cmocka_unit_test(test_county_http_slowloris),
    };
    return cmocka_run_group_tests_name("county_http", tests, s_setup, s_teardown);
}
