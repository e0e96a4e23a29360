/* The four rates and the assessment table (issue 16 item 3, issue 17 item
 * 3) over a generated year, on a clock the test controls (SANJI_TODAY):
 * two townships and a county department, cases accepted in time and late,
 * concluded on time and late, extended, evaluated and evaluated again,
 * withdrawn, left open. The county's `stats --cases --by township`, `report
 * --assessment` and `cases --overdue` must equal a recount done here, by
 * this file's own code, from the raw tables (status_changes, extensions,
 * evaluations, assignments) with its own day arithmetic: it calls neither
 * sj_clock nor sj_rates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "harness.h"

#define T100  "230523100"
#define T200  "230523200"
#define DEPT  "230523901"
#define ST_A  T100 "201"
#define ST_B  T200 "201"
#define TODAY "2026-06-30" /* the day the figures are read */
#define NCASE 24           /* per station */
#define MAXC  (2 * NCASE)

static int
s_setup(void **state)
{
    *state = h_env_new("rates");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    unsetenv("SANJI_TODAY");
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

/* ---- the test's own calendar (days from 1970-01-01, Howard Hinnant's
 * days_from_civil), not sj_model's ---- */

static long
s_days(const char *d)
{
    int y = atoi(d), m = atoi(d + 5), dd = atoi(d + 8);
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + dd - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void
s_date(long z, char out[11])
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = yoe + era * 400;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    long d = doy - (153 * mp + 2) / 5 + 1;
    long m = mp + (mp < 10 ? 3 : -9);
    char buf[64];
    snprintf(buf, sizeof buf, "%04ld-%02ld-%02ld", (y + (m <= 2)) % 10000, m % 100, d % 100);
    snprintf(out, 11, "%.10s", buf);
}

/* the local day of an event's created_ms */
static long
s_ms_day(long long ms)
{
    time_t t = (time_t) (ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    char d[16];
    strftime(d, sizeof d, "%Y-%m-%d", &tm);
    return s_days(d);
}

static uint32_t
s_rand(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static void
s_today(const char *day)
{
    assert_int_equal(setenv("SANJI_TODAY", day, 1), 0);
}

static void
s_today_n(long day)
{
    char d[11];
    s_date(day, d);
    s_today(d);
}

/* Runs a county tool that must succeed. */
static void
s_ok(h_node_t *county, const char *cmd, const char *const args[])
{
    h_result_t r;
    int code = h_tool(county, cmd, args, &r);
    if (code != 0) {
        fprintf(stderr, "# %s %s: exit %d: %s\n", cmd, args[0], code, r.err);
    }
    h_result_free(&r);
    assert_int_equal(code, 0);
}

static const char *const s_sat[] = {"", "满意", "基本满意", "不满意", "未评价"};

/* ---- the recount ---- */

typedef struct {
    char unit[16];
    long acc_timely, acc_decided, con_on_time, con_done, satisfied, evaluated, concluded;
    long overdue, items;
    long took[128]; /* days to conclude of the concluded cases */
    int ntook;
} s_count_t;

static s_count_t *
s_unit(s_count_t *u, int *n, const char *code)
{
    for (int i = 0; i < *n; i++) {
        if (!strcmp(u[i].unit, code)) {
            return &u[i];
        }
    }
    memset(&u[*n], 0, sizeof u[*n]);
    snprintf(u[*n].unit, sizeof u[*n].unit, "%s", code);
    return &u[(*n)++];
}

static long long
s_int(sqlite3 *db, const char *sql, const void *id, long long dflt)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
    long long v = dflt;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

/* Recounts from the county's tables: by reported township (stats) and by
 * unit (the assessment: the department of the current assignment, else
 * the township); [n] the total. */
static void
s_recount(h_node_t *county,
          long today,
          s_count_t *by_town,
          int *ntown,
          s_count_t *by_unit,
          int *nunit,
          s_count_t *by_month,
          int *nmonth,
          s_count_t *total)
{
    char path[4096];
    h_db_path(county, path, sizeof path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *m = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT id, township, occurred_on, outcome FROM matters"
                                        " WHERE occurred_on BETWEEN '2025-01-01' AND '2025-12-31'",
                                        -1, &m, NULL),
                     SQLITE_OK);
    memset(total, 0, sizeof *total);
    snprintf(total->unit, sizeof total->unit, "total");
    while (sqlite3_step(m) == SQLITE_ROW) {
        const void *id = sqlite3_column_blob(m, 0);
        char town[16], occ[11];
        snprintf(town, sizeof town, "%s", (const char *) sqlite3_column_text(m, 1));
        snprintf(occ, sizeof occ, "%s", (const char *) sqlite3_column_text(m, 2));
        int outcome = sqlite3_column_int(m, 3);
        long received = s_days(occ);
        /* the changes in force, in order */
        sqlite3_stmt *c = NULL;
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT created_ms, new_outcome FROM status_changes"
                                            " WHERE case_id = ?1 AND applied > 0"
                                            " ORDER BY created_ms, eid",
                                            -1, &c, NULL),
                         SQLITE_OK);
        sqlite3_bind_blob(c, 1, id, 16, SQLITE_STATIC);
        long acc_day = -1, con_start = -1, con_end = -1;
        int first = 0;
        while (sqlite3_step(c) == SQLITE_ROW) {
            long day = s_ms_day(sqlite3_column_int64(c, 0));
            int to = sqlite3_column_int(c, 1);
            if (acc_day < 0) {
                acc_day = day;
                first = to;
                if (to == 3) {
                    con_start = day;
                }
            } else if (con_start >= 0 && con_end < 0 && (to == 2 || to == 4 || to == 5)) {
                con_end = day;
            }
        }
        sqlite3_finalize(c);
        (void) first;
        /* the extensions of the conclusion: at most one counts, <= 30 days,
         * made while the stage ran */
        long ext = 0;
        sqlite3_stmt *e = NULL;
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT created_ms, stage, days FROM extensions"
                                            " WHERE case_id = ?1 ORDER BY row",
                                            -1, &e, NULL),
                         SQLITE_OK);
        sqlite3_bind_blob(e, 1, id, 16, SQLITE_STATIC);
        int counted = 0;
        while (sqlite3_step(e) == SQLITE_ROW) {
            long day = s_ms_day(sqlite3_column_int64(e, 0));
            int days = sqlite3_column_int(e, 2);
            if (sqlite3_column_int(e, 1) == 2 && !counted && con_start >= 0 && day >= con_start
                && (con_end < 0 || day <= con_end) && days >= 1 && days <= 30) {
                ext = days;
                counted = 1;
            }
        }
        sqlite3_finalize(e);
        long long sat = s_int(db,
                              "SELECT satisfaction FROM evaluations WHERE case_id = ?1"
                              " ORDER BY row DESC LIMIT 1",
                              id, 0);
        if (sat == 0) {
            sat = s_int(db,
                        "SELECT satisfaction FROM status_changes WHERE case_id = ?1"
                        " AND applied = 2",
                        id, 0);
        }
        sqlite3_stmt *a = NULL;
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT assignee, due_on FROM assignments"
                                            " WHERE case_id = ?1"
                                            " ORDER BY created_ms DESC, eid DESC LIMIT 1",
                                            -1, &a, NULL),
                         SQLITE_OK);
        sqlite3_bind_blob(a, 1, id, 16, SQLITE_STATIC);
        char unit[16], due[11] = "";
        snprintf(unit, sizeof unit, "%s", town);
        if (sqlite3_step(a) == SQLITE_ROW) {
            const char *to = (const char *) sqlite3_column_text(a, 0);
            if (strlen(to) == 9 && to[6] == '9') {
                snprintf(unit, sizeof unit, "%s", to);
            }
            snprintf(due, sizeof due, "%s", (const char *) sqlite3_column_text(a, 1));
        }
        sqlite3_finalize(a);

        s_count_t one;
        memset(&one, 0, sizeof one);
        one.items = 1;
        if (acc_day >= 0) {
            one.acc_decided = 1;
            one.acc_timely = acc_day <= received + 15;
        }
        if (con_start >= 0 && con_end >= 0) {
            one.con_done = 1;
            one.con_on_time = con_end <= con_start + 60 + ext;
        }
        if (outcome == 2 || outcome == 4) {
            one.concluded = 1;
            one.evaluated = sat >= 1 && sat <= 3;
            one.satisfied = sat >= 1 && sat <= 2;
        }
        if (outcome == 2 || outcome == 4) {
            long long last = s_int(db,
                                   "SELECT created_ms FROM status_changes WHERE case_id = ?1"
                                   " AND applied = 2",
                                   id, -1);
            total->took[total->ntook++] = last < 0 ? 0 : s_ms_day(last) - received;
        }
        int open = outcome == 1 || outcome == 3;
        if (open) {
            int late = 0;
            if (outcome == 1) {
                late = today > received + 15;
            } else if (con_start >= 0) {
                late = today > con_start + 60 + ext;
            }
            if (due[0] && s_days(due) < today) {
                late = 1;
            }
            one.overdue = late;
        }
        char month[8];
        snprintf(month, sizeof month, "%.7s", occ);
        s_count_t *targets[] = {s_unit(by_town, ntown, town), s_unit(by_unit, nunit, unit),
                                s_unit(by_month, nmonth, month), total};
        for (int i = 0; i < 4; i++) {
            s_count_t *t = targets[i];
            t->items += one.items;
            t->acc_timely += one.acc_timely;
            t->acc_decided += one.acc_decided;
            t->con_on_time += one.con_on_time;
            t->con_done += one.con_done;
            t->satisfied += one.satisfied;
            t->evaluated += one.evaluated;
            t->concluded += one.concluded;
            t->overdue += one.overdue;
        }
    }
    sqlite3_finalize(m);
    sqlite3_close(db);
}

/* The JSON object of stats' row whose first key is key (or the total). */
static char *
s_json_obj(const char *json, const char *key)
{
    const char *at = strstr(json, key);
    if (!at) {
        fprintf(stderr, "# no %s in %s\n", key, json);
        return NULL;
    }
    const char *end = strchr(at, '}');
    return end ? strndup(at, (size_t) (end - at)) : NULL;
}

static void
s_has_num(const char *obj, const char *name, long v)
{
    char want[96];
    snprintf(want, sizeof want, "\"%s\":%ld", name, v);
    const char *at = obj ? strstr(obj, want) : NULL;
    /* the number must end there */
    if (!at || (at[strlen(want)] != ',' && at[strlen(want)] != '\0')) {
        fprintf(stderr, "# wanted %s in %s\n", want, obj ? obj : "(none)");
        fail();
    }
}

static void
s_check_stats(const char *obj, const s_count_t *c)
{
    s_has_num(obj, "items", c->items);
    s_has_num(obj, "accepted_timely", c->acc_timely);
    s_has_num(obj, "acceptance_decided", c->acc_decided);
    s_has_num(obj, "concluded_on_time", c->con_on_time);
    s_has_num(obj, "conclusion_done", c->con_done);
    s_has_num(obj, "satisfied", c->satisfied);
    s_has_num(obj, "evaluated", c->evaluated);
    s_has_num(obj, "concluded", c->concluded);
    s_has_num(obj, "overdue", c->overdue);
}

/* "a/b 80.0%" or "a/b —", computed here */
static void
s_rate(long num, long den, char *buf, size_t size)
{
    if (den == 0) {
        snprintf(buf, size, "%ld/%ld —", num, den);
        return;
    }
    long pm = (num * 2000 + den) / (2 * den);
    snprintf(buf, size, "%ld/%ld %ld.%ld%%", num, den, pm / 10, pm % 10);
}

/* The Markdown line of the assessment whose first cell is first must hold
 * the recounted cells. */
static void
s_check_line(const char *md, const char *first, const s_count_t *c)
{
    char head[64];
    snprintf(head, sizeof head, "\n| %s |", first);
    const char *at = strstr(md, head);
    if (!at) {
        fprintf(stderr, "# no line %s in:\n%s\n", first, md);
        fail();
    }
    const char *end = strchr(at + 1, '\n');
    char *line = strndup(at + 1, end ? (size_t) (end - at - 1) : strlen(at + 1));
    char r1[64], r2[64], r3[64], r4[64], want[400];
    s_rate(c->acc_timely, c->acc_decided, r1, sizeof r1);
    s_rate(c->con_on_time, c->con_done, r2, sizeof r2);
    s_rate(c->satisfied, c->evaluated, r3, sizeof r3);
    s_rate(c->evaluated, c->concluded, r4, sizeof r4);
    snprintf(want, sizeof want, " | %ld | %s | %s | %s | %s | %ld |", c->items, r1, r2, r3, r4,
             c->overdue);
    char *cut = strstr(line, want);
    /* items is preceded by the kind, persons follows it: check items apart */
    char items[32];
    snprintf(items, sizeof items, " | %ld | ", c->items);
    snprintf(want, sizeof want, " | %s | %s | %s | %s | %ld |", r1, r2, r3, r4, c->overdue);
    cut = strstr(line, want);
    if (!cut || !strstr(line, items)) {
        fprintf(stderr, "# line: %s\n# wanted: %s (items %ld)\n", line, want, c->items);
    }
    assert_non_null(cut);
    assert_non_null(strstr(line, items));
    free(line);
}

static void
test_rates_year(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub1 = h_hub(env, T100, county);
    h_node_t *hub2 = h_hub(env, T200, county);
    h_node_t *sa = h_station(env, ST_A, hub1);
    h_node_t *sb = h_station(env, ST_B, hub2);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub1), 0);
    assert_int_equal(h_start_hub(hub2), 0);

    /* A year of reports (pending), dates from the seed. */
    uint32_t seed = 20260101u;
    h_node_t *stations[] = {sa, sb};
    for (int s = 0; s < 2; s++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/rates-%d.jsonl", h_env_dir(env), s);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        for (int i = 0; i < NCASE; i++) {
            char d[11];
            s_date(s_days("2025-01-01") + (long) (s_rand(&seed) % 360), d);
            fprintf(f,
                    "{\"occurred_on\":\"%s\",\"channel\":\"visit\",\"kind\":\"individual\","
                    "\"persons\":%u,\"level\":\"county\",\"category\":\"land\","
                    "\"outcome\":\"pending\",\"source\":\"direct\",\"summary\":\"事项 %d-%d\"}\n",
                    d, 1 + s_rand(&seed) % 4, s, i);
        }
        assert_int_equal(fclose(f), 0);
        unsetenv("SANJI_TODAY"); /* the nodes run on the wall clock */
        const char *imp[] = {"import", "--wait", "0", path, NULL};
        h_result_t r;
        assert_int_equal(h_agent(stations[s], imp, &r, h_ms(60000)), 0);
        h_result_free(&r);
        const char *sync[] = {"sync", "--timeout", "60", "--until-county", NULL};
        assert_int_equal(h_agent(stations[s], sync, &r, h_ms(90000)), 0);
        h_result_free(&r);
    }
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM matters", MAXC, MAXC, h_ms(60000)),
                     MAXC);
    const char *dept[] = {"add", DEPT, "县住建局", NULL};
    s_ok(county, "dept", dept);

    /* The cases' lives, at the county, each event on its own day. */
    char path[4096];
    h_db_path(county, path, sizeof path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT lower(hex(id)), occurred_on FROM matters"
                                        " ORDER BY occurred_on, id",
                                        -1, &q, NULL),
                     SQLITE_OK);
    char ids[MAXC][40], occ[MAXC][11];
    int n = 0;
    while (sqlite3_step(q) == SQLITE_ROW && n < MAXC) {
        const char *h = (const char *) sqlite3_column_text(q, 0);
        snprintf(ids[n], sizeof ids[n], "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16,
                 h + 20);
        snprintf(occ[n], sizeof occ[n], "%s", (const char *) sqlite3_column_text(q, 1));
        n++;
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    assert_int_equal(n, MAXC);
    int n_ext = 0, n_eval = 0, n_dept = 0, n_late_acc = 0;
    for (int i = 0; i < n; i++) {
        const char *id = ids[i];
        long rec = s_days(occ[i]);
        uint32_t kind = s_rand(&seed) % 10;
        if (kind == 0) {
            continue; /* left pending */
        }
        long acc = rec + (long) (s_rand(&seed) % 22); /* 16..21: late */
        n_late_acc += acc > rec + 15;
        s_today_n(acc);
        if (kind == 1) {
            const char *wd[] = {id, "--outcome", "withdrawn", NULL};
            s_ok(county, "update", wd);
            continue;
        }
        const char *ac[] = {id, "--outcome", "accepted", "--note", "受理", NULL};
        s_ok(county, "update", ac);
        int concludes = s_rand(&seed) % 6 != 0;
        long con = acc + 10 + (long) (s_rand(&seed) % 90); /* some past 60 */
        if (s_rand(&seed) % 4 == 0) {
            char due[11];
            s_date(acc + 30, due);
            const char *as[] = {id, "--to", DEPT, "--due", due, NULL};
            s_ok(county, "assign", as);
            n_dept++;
        }
        if (s_rand(&seed) % 3 == 0) {
            long ed = acc + (long) (s_rand(&seed) % 50);
            if (concludes && ed >= con) {
                ed = con - 1;
            }
            char days[8];
            snprintf(days, sizeof days, "%u", 1 + s_rand(&seed) % 30);
            s_today_n(ed);
            const char *ex[] = {id,           "--days",        days,     "--reason",
                                "需补充调查", "--approved-by", "张县长", NULL};
            s_ok(county, "extend", ex);
            n_ext++;
        }
        if (!concludes) {
            continue;
        }
        s_today_n(con);
        uint32_t sat = s_rand(&seed) % 5;
        const char *cl[] = {id,         "--outcome", "closed", sat ? "--satisfaction" : NULL,
                            s_sat[sat], NULL};
        s_ok(county, "update", cl);
        if (s_rand(&seed) % 4 == 0) {
            s_today_n(con + 5);
            const char *ev[] = {id,       "--satisfaction", s_sat[1 + s_rand(&seed) % 4],
                                "--note", "回访",           NULL};
            s_ok(county, "evaluate", ev);
            n_eval++;
        }
    }
    fprintf(stderr,
            "# %d cases: %d late acceptances, %d extensions, %d to the department, %d"
            " later evaluations\n",
            n, n_late_acc, n_ext, n_dept, n_eval);
    assert_true(n_ext > 0 && n_eval > 0 && n_dept > 0 && n_late_acc > 0);

    /* The recount. */
    s_count_t town[8], unit[8], month[16], total;
    int ntown = 0, nunit = 0, nmonth = 0;
    s_recount(county, s_days(TODAY), town, &ntown, unit, &nunit, month, &nmonth, &total);
    assert_true(total.con_done > total.con_on_time && total.con_on_time > 0);
    assert_true(total.acc_decided > total.acc_timely);

    /* stats --cases --by township, and the total */
    s_today(TODAY);
    h_result_t r;
    const char *st[] = {"--cases", "--by",       "township", "--from", "2025-01-01",
                        "--to",    "2025-12-31", "--format", "json",   NULL};
    assert_int_equal(h_tool(county, "stats", st, &r), 0);
    for (int i = 0; i < ntown; i++) {
        char key[64];
        snprintf(key, sizeof key, "\"township\":\"%.15s\"", town[i].unit);
        char *obj = s_json_obj(r.out, key);
        s_check_stats(obj, &town[i]);
        free(obj);
    }
    char *tobj = s_json_obj(r.out, "\"total\":{");
    s_check_stats(tobj, &total);
    free(tobj);
    h_result_free(&r);
    /* and by month (any --by) */
    const char *sm[] = {"--cases", "--by",       "month",    "--from", "2025-01-01",
                        "--to",    "2025-12-31", "--format", "json",   NULL};
    assert_int_equal(h_tool(county, "stats", sm, &r), 0);
    assert_true(nmonth >= 10);
    for (int i = 0; i < nmonth; i++) {
        char key[64];
        snprintf(key, sizeof key, "\"month\":\"%.7s\"", month[i].unit);
        char *obj = s_json_obj(r.out, key);
        s_check_stats(obj, &month[i]);
        free(obj);
    }
    h_result_free(&r);

    /* cases --overdue lists exactly the overdue the figures count */
    const char *od[] = {"--overdue",  "--from",   "2025-01-01", "--to",
                        "2025-12-31", "--format", "csv",        NULL};
    assert_int_equal(h_tool(county, "cases", od, &r), 0);
    long lines = 0;
    for (const char *p = r.out; *p; p++) {
        lines += *p == '\n';
    }
    assert_int_equal(lines - 1, total.overdue);
    assert_true(total.overdue > 0);
    h_result_free(&r);

    /* report --assessment: per township and department, and the total */
    const char *as[] = {"--assessment", "--year", "2025", "--lang", "en", NULL};
    assert_int_equal(h_tool(county, "report", as, &r), 0);
    fprintf(stderr, "# the assessment:\n%s", r.out);
    for (int i = 0; i < nunit; i++) {
        s_check_line(r.out, unit[i].unit, &unit[i]);
    }
    s_check_line(r.out, "Total", &total);
    /* the median days to conclude of the total, sorted here */
    for (int i = 1; i < total.ntook; i++) {
        for (int j = i; j > 0 && total.took[j - 1] > total.took[j]; j--) {
            long x = total.took[j];
            total.took[j] = total.took[j - 1];
            total.took[j - 1] = x;
        }
    }
    assert_true(total.ntook > 0);
    double med = total.ntook % 2
                     ? (double) total.took[total.ntook / 2]
                     : (total.took[total.ntook / 2 - 1] + total.took[total.ntook / 2]) / 2.0;
    char medt[64];
    snprintf(medt, sizeof medt, "| %.1f |\n", med);
    const char *tl = strstr(r.out, "\n| Total |");
    assert_non_null(tl);
    const char *te = strchr(tl + 1, '\n');
    assert_non_null(te);
    char *tline = strndup(tl + 1, (size_t) (te - tl));
    if (!strstr(tline, medt)) {
        fprintf(stderr, "# median: wanted %s in %s\n", medt, tline);
    }
    assert_non_null(strstr(tline, medt));
    free(tline);
    /* code order, the department after the townships */
    const char *a = strstr(r.out, "| " T100 " |"), *b = strstr(r.out, "| " T200 " |"),
               *c = strstr(r.out, "| " DEPT " |");
    assert_true(a && b && c && a < b && b < c);
    h_result_free(&r);
    const char *html[] = {"--assessment", "--month", "2025-06", "--format", "html", NULL};
    assert_int_equal(h_tool(county, "report", html, &r), 0);
    assert_non_null(strstr(r.out, "<table id=\"assessment\">"));
    assert_non_null(strstr(r.out, "及时受理率"));
    assert_non_null(strstr(r.out, "size:A4"));
    h_result_free(&r);
    const char *xl[] = {"--assessment", "--year", "2025", "--format", "xlsx", NULL};
    assert_int_equal(h_tool(county, "report", xl, &r), 0);
    assert_true(r.out[0] == 'P' && r.out[1] == 'K'); /* a zip: the workbook */
    h_result_free(&r);
    const char *bad[] = {"--assessment", "--month", "2026-13", NULL};
    assert_int_equal(h_tool(county, "report", bad, &r), 2);
    assert_non_null(strstr(r.err, "--month '2026-13'"));
    h_result_free(&r);
    const char *two[] = {"--assessment", "--month", "2025-06", "--year", "2025", NULL};
    assert_int_equal(h_tool(county, "report", two, &r), 2);
    h_result_free(&r);
    unsetenv("SANJI_TODAY");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rates_year, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("rates", tests, NULL, NULL);
}
