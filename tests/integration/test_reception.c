/* The Monday reception (周一大接访) and appointments (约访), issue 16 item 6
 * (docs/RECEPTION.md), end to end on a clock the test controls
 * (SANJI_TODAY): a visit recorded at the county's reception desk (a station
 * linked straight to the county) carries the receiving leader and the
 * portfolio to the county; an appointment made at the county is in the
 * office's day list; marking it kept changes the report's counts (made 1,
 * kept 1); bad values and refusals are named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define DESK "230523100299" /* the reception desk's station code */

#define MONDAY   "2026-03-02"
#define NEXT_MON "2026-03-09"

static int
s_setup(void **state)
{
    *state = h_env_new("reception");
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

static void
s_has(const char *text, const char *what)
{
    if (!text || !strstr(text, what)) {
        fprintf(stderr, "# text: %s\n# wanted: %s\n", text ? text : "(none)", what);
    }
    assert_non_null(text);
    assert_non_null(strstr(text, what));
}

/* Runs a county command; asserts its exit status and, when given, that its
 * stdout or stderr has want. */
static void
s_county(h_node_t *county, const char *cmd, const char *const args[], int code, const char *want)
{
    h_result_t r;
    int got = h_tool(county, cmd, args, &r);
    if (got != code) {
        fprintf(stderr, "# county-server %s: exit %d (wanted %d)\n# out: %s\n# err: %s\n", cmd, got,
                code, r.out, r.err);
    }
    assert_int_equal(got, code);
    if (want) {
        if (!strstr(r.out, want) && !strstr(r.err, want)) {
            fprintf(stderr, "# out: %s\n# err: %s\n# wanted: %s\n", r.out, r.err, want);
        }
        assert_true(strstr(r.out, want) || strstr(r.err, want));
    }
    h_result_free(&r);
}

static void
test_reception_and_appointment(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *desk = h_station(env, DESK, county); /* linked straight to the county */
    assert_int_equal(h_start_county(county), 0);

    /* Monday: a visitor received by a county leader at the reception desk. */
    s_today(MONDAY);
    const char *sub[] = {"submit",
                         "--channel",
                         "visit",
                         "--level",
                         "county",
                         "--source",
                         "leader_reception",
                         "--receiving-leader",
                         "王副县长",
                         "--portfolio",
                         "农业农村",
                         "--summary",
                         "土地流转款未兑现",
                         "--petitioner-phone",
                         "13900000000",
                         "--wait",
                         "0",
                         NULL};
    h_result_t r;
    assert_int_equal(h_agent(desk, sub, &r, h_ms(30000)), 0);
    char id[64];
    snprintf(id, sizeof id, "%.*s", (int) strcspn(r.out, "\n"), r.out);
    h_result_free(&r);

    /* The fields go with a leader's reception only: refused, exit 2. */
    const char *wrong[] = {"submit",   "--channel", "visit",    "--level",
                           "county",   "--source",  "direct",   "--receiving-leader",
                           "王副县长", "--summary", "另一件事", "--wait",
                           "0",        NULL};
    assert_int_equal(h_agent(desk, wrong, &r, h_ms(30000)), 2);
    s_has(r.err, "only a leader's reception");
    h_result_free(&r);
    char longname[80];
    memset(longname, 'x', 65);
    longname[65] = '\0';
    const char *toolong[] = {"submit",   "--channel",        "visit",       "--level", "county",
                             "--source", "leader_reception", "--portfolio", longname,  "--summary",
                             "太长",     "--wait",           "0",           NULL};
    assert_int_equal(h_agent(desk, toolong, &r, h_ms(30000)), 2);
    s_has(r.err, "portfolio: too long");
    h_result_free(&r);

    /* import takes the keys receiving_leader and portfolio, all or nothing */
    char good[600], bad[600];
    snprintf(good, sizeof good, "%s/reception.jsonl", h_env_dir(env));
    snprintf(bad, sizeof bad, "%s/reception-bad.jsonl", h_env_dir(env));
    FILE *f = fopen(good, "w");
    assert_non_null(f);
    fputs("{\"occurred_on\":\"" MONDAY "\",\"channel\":\"visit\",\"level\":\"county\","
          "\"source\":\"leader_reception\",\"summary\":\"拆迁补偿\","
          "\"receiving_leader\":\"李副县长\",\"portfolio\":\"城乡建设\"}\n",
          f);
    assert_int_equal(fclose(f), 0);
    f = fopen(bad, "w");
    assert_non_null(f);
    fputs("{\"occurred_on\":\"" MONDAY "\",\"channel\":\"visit\",\"level\":\"county\","
          "\"source\":\"direct\",\"summary\":\"拆迁补偿\",\"portfolio\":\"城乡建设\"}\n",
          f);
    assert_int_equal(fclose(f), 0);
    const char *imp_bad[] = {"import", bad, "--wait", "0", NULL};
    assert_int_equal(h_agent(desk, imp_bad, &r, h_ms(30000)), 1);
    s_has(r.err, "reception-bad.jsonl:1: portfolio: only a leader's reception");
    h_result_free(&r);
    const char *imp[] = {"import", good, "--wait", "0", NULL};
    assert_int_equal(h_agent(desk, imp, &r, h_ms(30000)), 0);
    h_result_free(&r);

    const char *sync[] = {"sync", "--timeout", "60", "--until-county", NULL};
    assert_int_equal(h_agent(desk, sync, &r, h_ms(90000)), 0);
    h_result_free(&r);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM matters", 2, 2, h_ms(30000)), 2);
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM receptions"), 2);
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM receptions WHERE leader = '李副县长'"
                                         " AND portfolio = '城乡建设'"),
                     1);

    /* show and cases: the leader and portfolio; the phone stays sealed. */
    const char *show[] = {id, "--format", "json", NULL};
    assert_int_equal(h_tool(county, "show", show, &r), 0);
    s_has(r.out, "\"receiving_leader\":\"王副县长\",\"portfolio\":\"农业农村\"");
    assert_null(strstr(r.out, "13900000000"));
    h_result_free(&r);
    const char *cases[] = {"--format", "json", NULL};
    assert_int_equal(h_tool(county, "cases", cases, &r), 0);
    s_has(r.out, "\"receiving_leader\":\"王副县长\",\"reception_portfolio\":\"农业农村\"");
    h_result_free(&r);

    /* Appointments: bad values (exit 2) and refusals (exit 1). */
    const char *past[] = {id, "--on", "2026-03-01", "--at", "09:30", "--office", "县信访局", NULL};
    s_county(county, "appoint", past, 1, "--on 2026-03-01 is in the past (today is " MONDAY ")");
    const char *badtime[] = {id, "--on", NEXT_MON, "--at", "25:00", "--office", "县信访局", NULL};
    s_county(county, "appoint", badtime, 2, "--at '25:00' is not a time HH:MM");
    const char *baddate[] = {id,      "--on",     "2026-02-30", "--at",
                             "09:30", "--office", "县信访局",   NULL};
    s_county(county, "appoint", baddate, 2, "not a date");
    const char *nooffice[] = {id, "--on", NEXT_MON, "--at", "09:30", NULL};
    s_county(county, "appoint", nooffice, 2, "--office");
    const char *nocase[] = {"0190c3a0-0000-7000-8000-000000000001",
                            "--on",
                            NEXT_MON,
                            "--at",
                            "09:30",
                            "--office",
                            "县信访局",
                            NULL};
    s_county(county, "appoint", nocase, 1, "no matter 0190c3a0-0000-7000-8000-000000000001");
    const char *early_mark[] = {id, "--kept", NULL};
    s_county(county, "appointment", early_mark, 1, "has no appointment to mark");
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM appointments"), 0);

    /* Not received on Monday: an appointment for the next Monday. */
    const char *appoint[] = {id,         "--on",     NEXT_MON, "--at",         "09:30",
                             "--office", "县信访局", "--note", "王副县长约谈", NULL};
    s_county(county, "appoint", appoint, 0, "appointment on " NEXT_MON " at 09:30");
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM appointments"), 1);

    /* The office's day list. */
    const char *day[] = {"--on", NEXT_MON, "--office", "县信访局", "--format", "json", NULL};
    assert_int_equal(h_tool(county, "appointments", day, &r), 0);
    s_has(r.out, "\"on\":\"" NEXT_MON "\",\"at\":\"09:30\",\"office\":\"县信访局\","
                 "\"state\":\"pending\"");
    s_has(r.out, id);
    h_result_free(&r);
    const char *other[] = {"--on", NEXT_MON, "--office", "县民政局", "--format", "json", NULL};
    assert_int_equal(h_tool(county, "appointments", other, &r), 0);
    assert_null(strstr(r.out, id));
    h_result_free(&r);
    const char *csv[] = {"--on", NEXT_MON, "--format", "csv", NULL};
    assert_int_equal(h_tool(county, "appointments", csv, &r), 0);
    s_has(r.out, "on,at,office,state,case_id,appointment_id");
    h_result_free(&r);

    /* The weekly meeting's agenda of that week lists it (and the next
     * week's does not). */
    const char *agenda[] = {"--week", "2026-W11", "--format", "md", NULL};
    assert_int_equal(h_tool(county, "agenda", agenda, &r), 0);
    s_has(r.out, "本周约访");
    s_has(r.out, "| " NEXT_MON " | 09:30 | 县信访局 | pending | ");
    s_has(r.out, id);
    h_result_free(&r);
    const char *agenda12[] = {"--week", "2026-W12", "--format", "md", NULL};
    assert_int_equal(h_tool(county, "agenda", agenda12, &r), 0);
    assert_null(strstr(r.out, "县信访局"));
    h_result_free(&r);

    /* Before its day it cannot be marked. */
    s_county(county, "appointment", early_mark, 1, "after today (" MONDAY ")");
    const char *both[] = {id, "--kept", "--missed", NULL};
    s_county(county, "appointment", both, 2, "--kept or --missed");

    /* The report before and after the mark. */
    s_today(NEXT_MON);
    const char *report[] = {"--year", "2026", NULL};
    s_county(county, "report", report, 0, "| 次 | 1 | 0 | 0 |");
    const char *report_en[] = {"--year", "2026", "--lang", "en", NULL};
    s_county(county, "report", report_en, 0, "Appointments (by their day)");
    s_county(county, "appointment", early_mark, 0, "marked kept");
    s_county(county, "report", report, 0, "| 次 | 1 | 1 | 0 |");
    const char *html[] = {"--year", "2026", "--format", "html", NULL};
    s_county(county, "report", html, 0, "约访");
    assert_int_equal(h_tool(county, "appointments", day, &r), 0);
    s_has(r.out, "\"state\":\"kept\"");
    h_result_free(&r);
    assert_int_equal(h_tool(county, "agenda", agenda, &r), 0);
    s_has(r.out, "| " NEXT_MON " | 09:30 | 县信访局 | kept | ");
    h_result_free(&r);
    /* the case's history lists both events */
    assert_int_equal(h_tool(county, "show", show, &r), 0);
    s_has(r.out, "\"type\":\"appointment\"");
    s_has(r.out, "\"on\":\"" NEXT_MON "\",\"at_time\":\"09:30\",\"office\":\"县信访局\"");
    s_has(r.out, "\"type\":\"appointment_mark\"");
    s_has(r.out, "\"state\":\"kept\"");
    h_result_free(&r);
    const char *show_t[] = {id, NULL};
    assert_int_equal(h_tool(county, "show", show_t, &r), 0);
    s_has(r.out, "约访 appointment");
    s_has(r.out, "约定 on " NEXT_MON " 09:30  科室 office 县信访局");
    s_has(r.out, "赴约 appointment_mark");
    s_has(r.out, "已赴约 kept");
    h_result_free(&r);
    /* the history keeps both events; the audit trail names the commands */
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM events WHERE type IN (11, 12)"), 2);
    const char *audit[] = {"--format", "json", NULL};
    assert_int_equal(h_tool(county, "audit", audit, &r), 0);
    s_has(r.out, "\"appoint\"");
    s_has(r.out, "\"appointment\"");
    h_result_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reception_and_appointment, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
