/* Leader ownership (领导包案) and the weekly meeting's agenda (定期例会),
 * issue 16 items 4 and 5 (docs/MEETING.md), end to end station -> hub ->
 * county on a clock the test controls (SANJI_TODAY): an ownership made at
 * the township travels to the county and a later one at the county replaces
 * it; cases --leader and leaders; the agenda of a week lists exactly the
 * owned, due and new collective cases made for it, and none of the cases
 * made to fall just outside each rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define T100 "230523100"
#define ST_A T100 "201"

/* Today: Friday 2026-03-06. The coming week is 2026-W11 (03-09 .. 03-15);
 * the last meeting: Monday 2026-03-02; the previous week 03-02 .. 03-08. */
#define TODAY "2026-03-06"
#define WEEK  "2026-W11"

static int
s_setup(void **state)
{
    *state = h_env_new("own");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    unsetenv("SANJI_TODAY");
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

static void
s_today(const char *day)
{
    assert_int_equal(setenv("SANJI_TODAY", day, 1), 0);
}

/* A report made at the station on day (received that day), with outcome
 * and kind; its id into id. */
static void
s_submit_src(
    h_node_t *st, const char *day, const char *outcome, int persons, const char *src, char id[64])
{
    s_today(day);
    char p[8];
    snprintf(p, sizeof p, "%d", persons);
    const char *sub[] = {"submit",     "--channel",  "visit",     "--level",   "county",
                         "--category", "land",       "--persons", p,           "--outcome",
                         outcome,      "--occurred", day,         "--summary", "事项",
                         "--wait",     "0",          "--source",  src,         NULL};
    h_result_t r;
    assert_int_equal(h_agent(st, sub, &r, h_ms(30000)), 0);
    snprintf(id, 64, "%.*s", (int) strcspn(r.out, "\n"), r.out);
    h_result_free(&r);
}

static void
s_submit(h_node_t *st, const char *day, const char *outcome, int persons, char id[64])
{
    s_submit_src(st, day, outcome, persons, "direct", id);
}

static void
s_tool_ok(h_node_t *node, const char *day, const char *cmd, const char *const args[])
{
    s_today(day);
    h_result_t r;
    int code = h_tool(node, cmd, args, &r);
    if (code != 0) {
        fprintf(stderr, "# %s: exit %d\n# out: %s\n# err: %s\n", cmd, code, r.out, r.err);
    }
    h_result_free(&r);
    assert_int_equal(code, 0);
}

/* The county tool's stdout on TODAY (caller frees). */
static char *
s_out(h_node_t *county, const char *cmd, const char *const args[], int want)
{
    s_today(TODAY);
    h_result_t r;
    int code = h_tool(county, cmd, args, &r);
    if (code != want) {
        fprintf(stderr, "# %s: exit %d\n# out: %s\n# err: %s\n", cmd, code, r.out, r.err);
    }
    assert_int_equal(code, want);
    char *out = strdup(want == 0 ? r.out : r.err);
    h_result_free(&r);
    return out;
}

static void
s_in(const char *text, const char *what, int yes)
{
    if (!!strstr(text, what) != yes) {
        fprintf(stderr, "# %s '%s' in:\n%s\n", yes ? "wanted" : "did not want", what, text);
    }
    assert_int_equal(!!strstr(text, what), yes);
}

static void
test_own_agenda(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, ST_A, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);

    char own[64], own_out[64], due[64], due_out[64], coll[64], coll_out[64], ind[64];
    /* owned and open: in the agenda's first section */
    s_submit(st, "2026-02-01", "accepted", 1, own);
    /* owned, concluded before the last meeting, no change since: not */
    s_submit(st, "2026-01-20", "closed", 1, own_out);
    /* accepted 2026-01-08: conclusion due 03-09 (in the week); 01-15: due
     * 03-16, the Monday after the week */
    s_submit(st, "2026-01-08", "accepted", 1, due);
    s_submit(st, "2026-01-15", "accepted", 1, due_out);
    /* collective, received on the previous week's Monday: new; the Sunday
     * before it: not; an individual matter of the previous week: not */
    s_submit(st, "2026-03-02", "accepted", 6, coll);
    s_submit(st, "2026-03-01", "accepted", 7, coll_out);
    s_submit(st, "2026-03-03", "accepted", 1, ind);
    /* a review requested on 03-03 (since the last meeting); one of 03-01 */
    char rev[64], rev_out[64];
    s_submit_src(st, "2026-03-03", "pending", 1, "review", rev);
    s_submit_src(st, "2026-03-01", "pending", 1, "review", rev_out);
    s_today(TODAY);
    const char *sync[] = {"sync", "--timeout", "60", "--until-county", NULL};
    h_result_t r;
    assert_int_equal(h_agent(st, sync, &r, h_ms(90000)), 0);
    h_result_free(&r);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM matters", 9, 9, h_ms(30000)), 9);

    /* The township's ownership (2026-02-20) travels to the county. */
    const char *hown[] = {own, "--leader", "王镇长", "--portfolio", "信访", NULL};
    s_tool_ok(hub, "2026-02-20", "own", hown);
    assert_int_equal(h_wait_db(county,
                               "SELECT count(*) FROM ownerships WHERE leader = '王镇长'"
                               " AND origin = '" T100 "'",
                               1, 1, h_ms(60000)),
                     1);
    /* the township's own view: cases, leaders and the same agenda rules */
    const char *csv[] = {"--format", "csv", NULL};
    char *out = s_out(hub, "cases", csv, 0);
    s_in(out, "王镇长,信访", 1);
    free(out);
    const char *hshow[] = {own, NULL};
    out = s_out(hub, "show", hshow, 0);
    s_in(out, "包案 ownership", 1);
    s_in(out, "王镇长", 1);
    free(out);
    const char *hby[] = {"--leader", "王镇长", "--format", "csv", NULL};
    out = s_out(hub, "cases", hby, 0);
    s_in(out, own, 1);
    s_in(out, due, 0);
    free(out);
    out = s_out(hub, "leaders", csv, 0);
    s_in(out, "王镇长,1,1,0,0", 1);
    free(out);
    const char *hwk[] = {"--week", WEEK, NULL};
    out = s_out(hub, "agenda", hwk, 0);
    s_in(out, "乡镇 township " T100, 1);
    s_in(out, "## 1. 领导包案 Cases owned by leaders (1)", 1);
    s_in(out, "## 2. 本周到期或已超期 Due or overdue this week (1)", 1);
    s_in(out, "## 3. 新的集体事项 New collective matters (1)", 1);
    s_in(out, own, 1);
    s_in(out, due, 1);
    s_in(out, coll, 1);
    s_in(out, due_out, 0);
    s_in(out, coll_out, 0);
    s_in(out, ind, 0);
    free(out);

    /* bad input: exit 2, naming what was wrong; an unknown case: exit 1 */
    const char *noleader[] = {own, NULL};
    char *err = s_out(county, "own", noleader, 2);
    s_in(err, "--leader", 1);
    free(err);
    const char *unknown[] = {"01890000-0000-7000-8000-000000000000", "--leader", "x", NULL};
    err = s_out(county, "own", unknown, 1);
    s_in(err, "no matter", 1);
    free(err);
    /* A later ownership at the county replaces it; the history keeps both. */
    const char *cown[] = {own,    "--leader",  "李书记", "--portfolio",
                          "政法", "--officer", "办公室", NULL};
    s_tool_ok(county, TODAY, "own", cown);
    const char *zown[] = {own_out, "--leader", "赵局长", NULL};
    s_tool_ok(county, "2026-02-10", "own", zown);

    /* extensions: one made since the last meeting, one on 03-01 */
    const char *ext[] = {coll,           "--days",        "10",   "--reason",
                         "需要现场核查", "--approved-by", "县长", NULL};
    s_tool_ok(county, "2026-03-04", "extend", ext);
    const char *ext_out[] = {coll_out,   "--days",        "10",   "--reason",
                             "需要调查", "--approved-by", "县长", NULL};
    s_tool_ok(county, "2026-03-01", "extend", ext_out);

    const char *show[] = {own, NULL};
    out = s_out(county, "show", show, 0);
    s_in(out, "包案 ownership", 1);
    s_in(out, "王镇长", 1);
    s_in(out, "李书记", 1);
    free(out);

    /* cases --leader: exactly the leader's cases; owner and portfolio */
    const char *by_li[] = {"--leader", "李书记", "--format", "csv", NULL};
    out = s_out(county, "cases", by_li, 0);
    s_in(out, own, 1);
    s_in(out, "李书记,政法", 1);
    s_in(out, own_out, 0);
    s_in(out, due, 0);
    free(out);
    const char *by_wang[] = {"--leader", "王镇长", "--format", "json", NULL};
    out = s_out(county, "cases", by_wang, 0);
    assert_string_equal(out, "[]\n");
    free(out);

    /* leaders: owned, open, concluded, overdue */
    const char *lj[] = {"--format", "csv", NULL};
    out = s_out(county, "leaders", lj, 0);
    s_in(out, "leader,owned,open,concluded,overdue", 1);
    s_in(out, "李书记,1,1,0,0", 1);
    s_in(out, "赵局长,1,0,1,0", 1);
    s_in(out, "王镇长", 0);
    free(out);

    /* The agenda of the coming week (the default on TODAY) and of --week. */
    const char *def[] = {NULL};
    char *md = s_out(county, "agenda", def, 0);
    const char *wk[] = {"--week", WEEK, NULL};
    char *md2 = s_out(county, "agenda", wk, 0);
    assert_string_equal(md, md2);
    free(md2);
    s_in(md, "# 定期例会议程 Weekly meeting agenda " WEEK " (2026-03-09 – 2026-03-15)", 1);
    s_in(md, "## 1. 领导包案 Cases owned by leaders (1)", 1);
    s_in(md, "## 2. 本周到期或已超期 Due or overdue this week (1)", 1);
    s_in(md, "## 3. 新的集体事项 New collective matters (1)", 1);
    s_in(md, "## 4. 复查申请 Reviews requested (1)", 1);
    s_in(md, "## 5. 延期申请 Extensions asked (1)", 1);
    s_in(md, rev, 1);
    s_in(md, "| 2026-03-03 | 2026-04-02 |", 1); /* requested, due (+30) */
    s_in(md, rev_out, 0);
    s_in(md, "| 2026-03-04 | conclusion | 10 | 县长 | 需要现场核查 |", 1);
    s_in(md, "需要调查", 0);
    s_in(md, own, 1);
    s_in(md, "03-06 包案 李书记", 1); /* what changed since the last meeting */
    s_in(md, due, 1);
    s_in(md, "| conclusion | 2026-03-09 | 3 |", 1);
    s_in(md, coll, 1);
    s_in(md, own_out, 0);
    s_in(md, due_out, 0);
    s_in(md, coll_out, 0);
    s_in(md, ind, 0);
    free(md);

    /* the week after: the due case is overdue then; html is a whole page */
    const char *w12[] = {"--week", "2026-W12", "--format", "html", NULL};
    char *html = s_out(county, "agenda", w12, 0);
    s_in(html, "<!doctype html>", 1);
    s_in(html, "@media print{@page{size:A4", 1);
    s_in(html, due_out, 1);
    s_in(html, "</html>", 1);
    free(html);

    /* bad weeks: exit 2 naming the option */
    const char *bad[] = {"--week", "2026-W54", NULL};
    err = s_out(county, "agenda", bad, 2);
    s_in(err, "--week", 1);
    free(err);
    const char *bad53[] = {"--week", "2027-W53", NULL};
    err = s_out(county, "agenda", bad53, 2);
    s_in(err, "no week 53", 1);
    free(err);
    const char *badfmt[] = {"--format", "pdf", NULL};
    err = s_out(county, "agenda", badfmt, 2);
    s_in(err, "--format", 1);
    free(err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_own_agenda, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
