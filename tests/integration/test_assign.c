/* Assignments and the downward stream (issue 4, 交办): does an assignment
 * made while its station is offline reach it when it returns, exactly once,
 * whatever is killed on the way (-9 of the hub before delivery, a crash
 * point after the hub applied a batch and before it acked), also to a
 * re-created station store; is bad input refused with nothing stored; does
 * a station refuse a malformed, oversized or foreign down frame? */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <zmq.h>

#include "harness.h"
#include "sj_auth.h"
#include "sj_keys.h"
#include "sj_wire.h"

#define COUNTY "230523"
#define T100   "230523100"
#define S1     "230523100201"
#define S2     "230523100202"
#define DUE    "2099-12-31"

static int
s_setup(void **state)
{
    *state = h_env_new("assign");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

/* Runs `TOOL CMD --data DIR args...` of a hub or the county. */
static int
s_tool(h_node_t *node, const char *cmd, const char *const args[], h_result_t *res)
{
    char *argv[32];
    int n = 0;
    argv[n++] = (char *) (node->role == H_COUNTY ? COUNTY_BIN : HUB_BIN);
    argv[n++] = (char *) cmd;
    argv[n++] = "--data";
    argv[n++] = node->data;
    for (int i = 0; args && args[i] && n < 31; i++) {
        argv[n++] = (char *) args[i];
    }
    argv[n] = NULL;
    return h_run(node->env, cmd, argv, res, h_ms(60000));
}

/* submit one report; its id (36 chars) into id. */
static void
s_submit(h_node_t *st, char id[40])
{
    const char *args[] = {"submit",    "--channel",      "visit",  "--level", "township",
                          "--summary", "宅基地边界纠纷", "--wait", "0",       NULL};
    h_result_t r;
    assert_int_equal(h_agent(st, args, &r, h_ms(30000)), 0);
    assert_true(strlen(r.out) >= 36);
    snprintf(id, 40, "%.36s", r.out);
    h_result_free(&r);
}

static void
s_sync(h_node_t *st, int until_county)
{
    /* daemons under valgrind (SANJI_VALGRIND) are ten times slower */
    const char *args[] = {"sync", "--timeout", h_valgrind() ? "300" : "30",
                          until_county ? "--until-county" : NULL, NULL};
    h_result_t r;
    int code = h_agent(st, args, &r, h_ms(60000));
    if (code != 0) {
        fprintf(stderr, "# sync: %s%s\n", r.out, r.err);
    }
    assert_int_equal(code, 0);
    h_result_free(&r);
}

/* county-server assign (or township-hub assign): 0 with the event id in
 * ev_id (may be NULL), else the exit code with stderr in err. */
static int
s_assign(
    h_node_t *node, const char *id, const char *to, const char *due, char *err, size_t err_size)
{
    const char *args[] = {id,       "--to",     to,          "--due",  due,
                          "--note", "限期解决", "--officer", "王科长", NULL};
    h_result_t r;
    int code = s_tool(node, "assign", args, &r);
    if (err) {
        snprintf(err, err_size, "%s", r.err);
    }
    if (code == 0) {
        assert_true(strlen(r.out) >= 36);
    } else if (!err) {
        fprintf(stderr, "# assign: %s\n", r.err);
    }
    h_result_free(&r);
    return code;
}

/* The hex form of a UUID's 16 bytes, for SQL. */
static void
s_hex(const char *id, char hex[33])
{
    int k = 0;
    for (const char *p = id; *p && k < 32; p++) {
        if (*p != '-') {
            hex[k++] = (char) (*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
        }
    }
    hex[k] = '\0';
}

/* The current outcome of a matter at the county. */
static long long
s_outcome(const h_node_t *county, const char *hex)
{
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT outcome FROM matters WHERE hex(id)='%s'", hex);
    return h_db_scalar(county, sql);
}

static long long
s_inbox(const h_node_t *st)
{
    return h_db_scalar(st, "SELECT count(*) FROM inbox");
}

/* (a) offline station: it gets the assignment when it returns, closes the
 * case, and the county sees it closed with the receipt back at the station;
 * an assignment made while the station is connected (run) is pushed. */
static void
test_assign_offline_station_closes(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S1, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    char id[40], hex[33];
    s_submit(st, id);
    s_hex(id, hex);
    s_sync(st, 1);

    /* The station is offline (no process): the county assigns. */
    assert_int_equal(s_assign(county, id, S1, DUE, NULL, 0), 0);
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM assignments"), 1);
    /* It waits at the hub, for the station. */
    assert_int_equal(
        h_wait_db(hub, "SELECT count(*) FROM down WHERE child='" S1 "'", 1, 1, h_ms(10000)), 1);
    {
        const char *args[] = {"--format", "csv", NULL};
        h_result_t r;
        assert_int_equal(s_tool(hub, "status", args, &r), 0);
        assert_non_null(strstr(r.out, S1));
        assert_non_null(strstr(r.out, ",1\n")); /* one undelivered item */
        h_result_free(&r);
        assert_int_equal(s_tool(hub, "cases", args, &r), 0);
        assert_non_null(strstr(r.out, id));
        assert_non_null(strstr(r.out, S1 "," DUE));
        h_result_free(&r);
    }
    assert_int_equal(s_inbox(st), 0);

    /* It returns: the assignment arrives, once. */
    s_sync(st, 0);
    assert_int_equal(s_inbox(st), 1);
    {
        const char *args[] = {"inbox", "--format", "csv", NULL};
        h_result_t r;
        assert_int_equal(h_agent(st, args, &r, h_ms(30000)), 0);
        assert_non_null(strstr(r.out, id));
        assert_non_null(strstr(r.out, DUE));
        assert_non_null(strstr(r.out, "pending"));
        assert_non_null(strstr(r.out, "限期解决"));
        assert_non_null(strstr(r.out, "宅基地边界纠纷"));
        h_result_free(&r);
        const char *od[] = {"inbox", "--overdue", "--format", "csv", NULL};
        assert_int_equal(h_agent(st, od, &r, h_ms(30000)), 0);
        assert_null(strstr(r.out, id)); /* due in 2099 */
        h_result_free(&r);
    }
    assert_int_equal(
        h_wait_db(hub, "SELECT cursor FROM down_acks WHERE child='" S1 "'", 1, 1, h_ms(10000)), 1);

    /* The station works the case to closed; the county sees it. */
    const char *acc[] = {"update", id, "--outcome", "accepted", "--wait", "0", NULL};
    const char *clo[] = {"update", id, "--outcome", "closed", "--wait", "0", NULL};
    h_result_t r;
    assert_int_equal(h_agent(st, acc, &r, h_ms(30000)), 0);
    h_result_free(&r);
    assert_int_equal(h_agent(st, clo, &r, h_ms(30000)), 0);
    h_result_free(&r);
    s_sync(st, 1);
    assert_int_equal(s_outcome(county, hex), 4);
    {
        const char *args[] = {"--format", "csv", NULL};
        assert_int_equal(s_tool(county, "cases", args, &r), 0);
        assert_non_null(strstr(r.out, id));
        assert_non_null(strstr(r.out, "closed"));
        h_result_free(&r);
        const char *show[] = {id, NULL};
        assert_int_equal(s_tool(county, "show", show, &r), 0);
        assert_non_null(strstr(r.out, "closed"));
        h_result_free(&r);
    }
    /* The receipt: the station's outbox says both changes are at the county. */
    {
        const char *args[] = {"outbox", "--format", "csv", NULL};
        assert_int_equal(h_agent(st, args, &r, h_ms(30000)), 0);
        char want[120];
        snprintf(want, sizeof want, "at-county,,,,,,,closed,update %s: accepted", id);
        assert_non_null(strstr(r.out, want));
        assert_null(strstr(r.out, "queued"));
        assert_null(strstr(r.out, "at-hub"));
        h_result_free(&r);
    }

    /* Pushed while connected: a second case reaches a running station
     * within seconds, without waiting for its next heartbeat. */
    char id2[40];
    s_submit(st, id2);
    s_sync(st, 1);
    const char *run[] = {"run", NULL};
    int before = h_log_count(hub->proc, "child " S1 " connected");
    h_proc_t *p = h_agent_spawn(st, run);
    assert_non_null(p);
    int64_t deadline = h_now_ms() + h_ms(10000);
    while (h_log_count(hub->proc, "child " S1 " connected") <= before) {
        assert_true(h_now_ms() < deadline);
        h_sleep_ms(20);
    }
    h_sleep_ms(200); /* the Welcome is on its way */
    int64_t t0 = h_now_ms();
    assert_int_equal(s_assign(county, id2, S1, DUE, NULL, 0), 0);
    /* Heartbeats come every 5 s: 2.5 s is only met by the push. */
    assert_int_equal(h_wait_db(st, "SELECT count(*) FROM inbox", 2, 2, h_ms(2500)), 2);
    fprintf(stderr, "# pushed county -> hub -> running station in %lld ms\n",
            (long long) (h_now_ms() - t0));
    assert_int_equal(h_proc_kill(p, SIGTERM), 0);
}

/* (b) kill -9 of the hub between the assignment and its delivery, and a
 * crash after the hub committed a down batch before acking it: each
 * assignment is delivered exactly once. */
static void
test_assign_hub_killed(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S1, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    char id1[40], id2[40], id3[40];
    s_submit(st, id1);
    s_submit(st, id2);
    s_submit(st, id3);
    s_sync(st, 1);

    /* 1: queued at the hub for the offline station, then kill -9. */
    assert_int_equal(s_assign(county, id1, S1, DUE, NULL, 0), 0);
    assert_int_equal(
        h_wait_db(hub, "SELECT count(*) FROM down WHERE child='" S1 "'", 1, 1, h_ms(10000)), 1);
    assert_int_equal(
        h_wait_db(county, "SELECT cursor FROM down_acks WHERE child='" T100 "'", 1, 1, h_ms(10000)),
        1);
    assert_int_equal(h_stop(hub, SIGKILL), 128 + SIGKILL);
    /* 2: made while the hub is down: waits at the county, which says so. */
    assert_int_equal(s_assign(county, id2, S1, DUE, NULL, 0), 0);
    {
        const char *args[] = {"--format", "csv", NULL};
        h_result_t r;
        assert_int_equal(s_tool(county, "status", args, &r), 0);
        assert_non_null(strstr(r.out,
                               "child,kind,status,last_contact,silent_s,events,forks,backlog,"
                               "undelivered\n"));
        const char *row = strstr(r.out, T100 ",township,");
        assert_non_null(row);
        const char *eol = strchr(row, '\n');
        assert_non_null(eol);
        assert_true(eol - row > 2 && strncmp(eol - 2, ",1", 2) == 0);
        h_result_free(&r);
    }

    /* 3: the hub restarts and dies right after it applied the county's
     * batch and committed its cursor, before acking it. */
    setenv("SANJI_CRASH_AT", "after-down-apply-before-ack:1", 1);
    int started = h_start_hub(hub);
    unsetenv("SANJI_CRASH_AT");
    if (started == 0) {
        assert_int_equal(h_proc_wait(hub->proc, h_ms(20000)), 137);
    } else {
        /* It may die before printing "ready" was read: still the crash. */
        assert_int_equal(h_proc_wait(hub->proc, h_ms(20000)), 137);
    }
    hub->proc = NULL;
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM down WHERE child='" S1 "'"), 2);
    assert_int_equal(s_assign(county, id3, S1, DUE, NULL, 0), 0);
    assert_int_equal(h_start_hub(hub), 0);
    assert_int_equal(
        h_wait_db(hub, "SELECT count(*) FROM down WHERE child='" S1 "'", 3, 3, h_ms(10000)), 3);
    s_sync(st, 0);
    assert_int_equal(s_inbox(st), 3);
    /* Exactly once everywhere: the county's stream to the hub, the hub's
     * assignments and its stream to the station, the station's cursor. */
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM down"), 3);
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM assignments"), 3);
    assert_int_equal(h_db_scalar(hub, "SELECT count(DISTINCT event_id) FROM down"), 3);
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM down"), 3);
    assert_int_equal(h_db_scalar(hub, "SELECT value FROM meta WHERE key='down_cursor'"), 3);
    assert_int_equal(h_db_scalar(st, "SELECT value FROM meta WHERE key='down_cursor'"), 3);
    assert_int_equal(
        h_wait_db(county, "SELECT cursor FROM down_acks WHERE child='" T100 "'", 3, 3, h_ms(10000)),
        3);
    /* A second sync changes nothing. */
    s_sync(st, 0);
    assert_int_equal(s_inbox(st), 3);
    assert_int_equal(h_db_scalar(st, "SELECT value FROM meta WHERE key='down_cursor'"), 3);
}

/* (c) a station store made anew receives its assignments again, once; and a
 * township's own assignment reaches its station and the county. */
static void
test_assign_recreated_station(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S1, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    char id1[40], id2[40];
    s_submit(st, id1);
    s_submit(st, id2);
    s_sync(st, 1);
    assert_int_equal(s_assign(county, id1, S1, DUE, NULL, 0), 0);
    /* The township office assigns the other case itself. */
    assert_int_equal(s_assign(hub, id2, S1, "2098-01-01", NULL, 0), 0);
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM assignments WHERE origin='" T100 "'",
                               1, 1, h_ms(10000)),
                     1);
    assert_int_equal(
        h_wait_db(hub, "SELECT count(*) FROM down WHERE child='" S1 "'", 2, 2, h_ms(10000)), 2);
    s_sync(st, 0);
    assert_int_equal(s_inbox(st), 2);
    assert_int_equal(h_db_scalar(st, "SELECT count(*) FROM inbox WHERE assigned_by='" T100
                                     "' AND due_on='2098-01-01'"),
                     1);

    /* The station's disk is replaced: a new store, cursor 0. */
    assert_int_equal(h_rmrf(st->data), 0);
    s_sync(st, 0);
    assert_int_equal(s_inbox(st), 2);
    assert_int_equal(h_db_scalar(st, "SELECT value FROM meta WHERE key='down_cursor'"), 2);
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM down"), 2);
    s_sync(st, 0);
    assert_int_equal(s_inbox(st), 2);
    /* An assigned case it did not report: the new store can work on it. */
    const char *acc[] = {"update", id1, "--outcome", "accepted", "--wait", "0", NULL};
    h_result_t r;
    assert_int_equal(h_agent(st, acc, &r, h_ms(30000)), 0);
    h_result_free(&r);
    const char *bad[] = {"update", id1, "--outcome", "resolved_on_spot", "--wait", "0", NULL};
    assert_int_equal(h_agent(st, bad, &r, h_ms(30000)), 1);
    assert_non_null(strstr(r.err, "accepted cannot become resolved_on_spot"));
    h_result_free(&r);
}

/* (d) invalid input to assign is refused with a clear message and stores
 * nothing, at the county and at the hub. */
static void
test_assign_refused(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S1, hub);
    assert_int_equal(h_start_county(county), 0);
    /* This county is 230523: set its code, as `run --code` would have. */
    assert_int_equal(h_stop(county, SIGTERM), 0);
    {
        char path[H_PATH];
        h_db_path(county, path, sizeof path);
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db,
                                      "INSERT INTO meta(key, value) VALUES('code', '" COUNTY "')",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(db);
    }
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    char id[40], id2[40];
    s_submit(st, id);
    s_submit(st, id2);
    s_sync(st, 1);
    const char *w[] = {"update", id2, "--outcome", "withdrawn", "--wait", "0", NULL};
    h_result_t r;
    assert_int_equal(h_agent(st, w, &r, h_ms(30000)), 0);
    h_result_free(&r);
    s_sync(st, 1);
    long long events = h_db_scalar(county, "SELECT count(*) FROM events");
    long long hub_events = h_db_scalar(hub, "SELECT count(*) FROM events");
    char err[600];
    struct {
        h_node_t *node;
        const char *id, *to, *due;
        int code;
        const char *says;
    } cases[] = {
        {county, "not-a-uuid", S1, DUE, 2, "is not a case id"},
        {county, "01890000-0000-7000-8000-000000000000", S1, DUE, 1, "no matter"},
        {county, id, "230524100201", DUE, 1, "is not a township or station of county 230523"},
        {county, id, "23052310020", DUE, 2, "is not a 9-digit township or 12-digit station"},
        {county, id, S1, "2030-02-30", 2, "is not a date YYYY-MM-DD"},
        {county, id, S1, "2001-01-01", 1, "is in the past"},
        {county, id2, S1, DUE, 1, "is already withdrawn"},
        {hub, id, "230523101201", DUE, 1, "is not a station of township 230523100"},
        {hub, id, T100, DUE, 2, "is not a 12-digit station code"},
        {hub, "01890000-0000-7000-8000-000000000000", S1, DUE, 1, "no case"},
        {hub, id2, S1, DUE, 1, "is already withdrawn"},
        {hub, id, S1, "yesterday", 2, "is not a date"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int code = s_assign(cases[i].node, cases[i].id, cases[i].to, cases[i].due, err, sizeof err);
        if (code != cases[i].code || !strstr(err, cases[i].says)) {
            fprintf(stderr, "# case %zu: exit %d, wanted %d with '%s': %s\n", i, code,
                    cases[i].code, cases[i].says, err);
        }
        assert_int_equal(code, cases[i].code);
        assert_non_null(strstr(err, cases[i].says));
    }
    /* Nothing stored anywhere. */
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM assignments"), 0);
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM down"), 0);
    assert_int_equal(h_db_scalar(county, "SELECT count(*) FROM events"), events);
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM assignments"), 0);
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM down"), 0);
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM events"), hub_events);
    /* Usage help exists and exits 0. */
    const char *help[] = {"--help", NULL};
    assert_int_equal(s_tool(county, "assign", help, &r), 0);
    assert_non_null(strstr(r.out, "--due"));
    h_result_free(&r);
}

/* (f) the county's later state of an assigned case comes down: a change
 * made at the county (not relayed by the hub), and the conflict it makes
 * with the station's concurrent change, reach the township's cases and the
 * station's inbox. */
static void
test_assign_refresh_and_conflict(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S1, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    char id[40], hex[33], sql[300];
    s_submit(st, id);
    s_hex(id, hex);
    s_sync(st, 1);
    assert_int_equal(s_assign(county, id, S1, DUE, NULL, 0), 0);
    /* sync pulls what the hub holds: wait until the county's push is there */
    assert_int_equal(
        h_wait_db(hub, "SELECT count(*) FROM down WHERE child='" S1 "'", 1, 1, h_ms(10000)), 1);
    s_sync(st, 0);
    assert_int_equal(h_db_scalar(st, "SELECT outcome FROM inbox"), 1);

    /* The county accepts the case itself: the hub and the station learn it. */
    h_result_t r;
    const char *acc[] = {id, "--outcome", "accepted", NULL};
    assert_int_equal(s_tool(county, "update", acc, &r), 0);
    h_result_free(&r);
    snprintf(sql, sizeof sql, "SELECT outcome FROM cases WHERE hex(id)='%s'", hex);
    assert_int_equal(h_wait_db(hub, sql, 3, 3, h_ms(10000)), 3);
    s_sync(st, 0);
    assert_int_equal(h_db_scalar(st, "SELECT outcome FROM inbox"), 3);

    /* Concurrently: the station closes it (queued, offline), then the
     * county withdraws it from the same state. */
    const char *clo[] = {"update", id, "--outcome", "closed", "--wait", "0", NULL};
    assert_int_equal(h_agent(st, clo, &r, h_ms(30000)), 0);
    h_result_free(&r);
    h_sleep_ms(20); /* the county's change is the later one */
    const char *wd[] = {id, "--outcome", "withdrawn", NULL};
    assert_int_equal(s_tool(county, "update", wd, &r), 0);
    h_result_free(&r);
    s_sync(st, 1);
    /* At the county: both kept, the later one wins, a conflict listed. */
    assert_int_equal(s_outcome(county, hex), 5);
    assert_int_equal(h_db_scalar(county, "SELECT count(DISTINCT eid) FROM conflicts"), 2);
    /* The township never relayed the county's change, yet lists the conflict. */
    snprintf(sql, sizeof sql, "SELECT county_conflict FROM cases WHERE hex(id)='%s'", hex);
    assert_int_equal(h_wait_db(hub, sql, 1, 1, h_ms(10000)), 1);
    {
        const char *args[] = {"--conflicts", "--format", "csv", NULL};
        assert_int_equal(s_tool(hub, "cases", args, &r), 0);
        assert_non_null(strstr(r.out, id));
        assert_non_null(strstr(r.out, "withdrawn"));
        h_result_free(&r);
    }
    /* And the station's inbox shows the county's state: withdrawn, conflict. */
    s_sync(st, 0);
    {
        const char *args[] = {"inbox", "--format", "csv", NULL};
        assert_int_equal(h_agent(st, args, &r, h_ms(30000)), 0);
        char want[120];
        snprintf(want, sizeof want, "%s," DUE ",", id);
        assert_non_null(strstr(r.out, want));
        assert_non_null(strstr(r.out, ",withdrawn,yes,"));
        h_result_free(&r);
    }
    /* The station now knows the case is withdrawn (final): a change is refused. */
    const char *again[] = {"update", id, "--outcome", "accepted", "--wait", "0", NULL};
    assert_int_equal(h_agent(st, again, &r, h_ms(30000)), 1);
    assert_non_null(strstr(r.err, "withdrawn"));
    h_result_free(&r);
    assert_int_equal(h_db_scalar(st, "SELECT count(*) FROM inbox"), 1);
}

/* (g) the hub's disk is lost: a new hub store numbers its streams anew; the
 * station notices (another store epoch in the Welcome), receives the new
 * stream from the start and misses nothing. */
static void
test_assign_hub_store_lost(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S1, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    char id1[40], id2[40];
    s_submit(st, id1);
    s_submit(st, id2);
    s_sync(st, 1);
    assert_int_equal(s_assign(county, id1, S1, DUE, NULL, 0), 0);
    assert_int_equal(s_assign(hub, id2, S1, "2098-01-01", NULL, 0), 0);
    assert_int_equal(
        h_wait_db(hub, "SELECT count(*) FROM down WHERE child='" S1 "'", 2, 2, h_ms(10000)), 2);
    s_sync(st, 0);
    assert_int_equal(s_inbox(st), 2);
    assert_int_equal(h_db_scalar(st, "SELECT value FROM meta WHERE key='down_cursor'"), 2);

    /* The hub's disk is replaced: new store, new keys, the station enrolled
     * again by hand. */
    assert_int_equal(h_stop(hub, SIGKILL), 128 + SIGKILL);
    assert_int_equal(h_rmrf(hub->data), 0);
    assert_int_equal(h_start_hub(hub), 0);
    h_result_t r;
    const char *allow[] = {"--", S1, st->pk, NULL};
    assert_int_equal(s_tool(hub, "allow", allow, &r), 0);
    h_result_free(&r);
    assert_int_equal(h_reload(hub), 0);
    /* The county's stream to the hub comes again (its cursor is 0); then
     * the county assigns the second case too: the new hub's seq 2. */
    assert_int_equal(
        h_wait_db(hub, "SELECT count(*) FROM down WHERE child='" S1 "'", 1, 1, h_ms(10000)), 1);
    assert_int_equal(s_assign(county, id2, S1, DUE, NULL, 0), 0);
    assert_int_equal(
        h_wait_db(hub, "SELECT count(*) FROM down WHERE child='" S1 "'", 2, 2, h_ms(10000)), 2);
    /* The station's cursor (2) counts the old store's items: the new hub
     * numbers its items after it (issue 19) rather than the station starting
     * over. */
    const char *args[] = {"sync", "--timeout", h_valgrind() ? "300" : "30", NULL};
    assert_int_equal(h_agent(st, args, &r, h_ms(60000)), 0);
    assert_null(strstr(r.err, "has a new store"));
    h_result_free(&r);
    assert_int_equal(s_inbox(st), 2);
    assert_int_equal(h_db_scalar(st, "SELECT value FROM meta WHERE key='down_cursor'"), 4);
    assert_int_equal(h_db_scalar(hub, "SELECT min(seq) FROM down WHERE child='" S1 "'"), 3);
    char hex[33], sql[200];
    s_hex(id2, hex);
    /* the county's assignment (origin 000000: this county store has no
     * code), newer than the township's, is there */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM inbox WHERE hex(case_id)='%s' AND assigned_by='000000'"
             " AND due_on='" DUE "'",
             hex);
    assert_int_equal(h_db_scalar(st, sql), 1);
}

/* ---- (e) a fake hub that sends bad down frames ---- */

typedef struct {
    void *zctx;
    void *sock;
    uint8_t rid[256];
    size_t rid_len;
} s_fake_t;

/* A ROUTER speaking as the hub (its CURVE key pair, no ZAP handler: any
 * client key is let in) on the hub's endpoint. */
static void
s_fake_hub(s_fake_t *f, h_node_t *hub)
{
    sj_keypair_t kp;
    char err[512];
    assert_int_equal(sj_keypair_load(hub->data, &kp, err, sizeof err), SJ_OK);
    f->zctx = zmq_ctx_new();
    f->sock = zmq_socket(f->zctx, ZMQ_ROUTER);
    int one = 1, zero = 0;
    zmq_setsockopt(f->sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(f->sock, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(f->sock, ZMQ_CURVE_SECRETKEY, kp.sk, SJ_KEY_BYTES);
    memset(&kp, 0, sizeof kp);
    assert_int_equal(zmq_bind(f->sock, hub->endpoint), 0);
}

/* Waits for the station's Hello; 0 or -1. */
static int
s_fake_hello(s_fake_t *f)
{
    int64_t deadline = h_now_ms() + h_ms(20000);
    while (h_now_ms() < deadline) {
        zmq_pollitem_t it = {.socket = f->sock, .events = ZMQ_POLLIN};
        if (zmq_poll(&it, 1, 100) <= 0) {
            continue;
        }
        int n = zmq_recv(f->sock, f->rid, sizeof f->rid, 0);
        zmq_msg_t m;
        zmq_msg_init(&m);
        zmq_msg_recv(&m, f->sock, 0);
        Sanji__Envelope *env = sanji__envelope__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
        zmq_msg_close(&m);
        int hello = env && env->body_case == SANJI__ENVELOPE__BODY_HELLO;
        if (env) {
            sanji__envelope__free_unpacked(env, NULL);
        }
        if (hello && n > 0) {
            f->rid_len = (size_t) n;
            return 0;
        }
    }
    return -1;
}

static void
s_fake_send(s_fake_t *f, const void *data, size_t len)
{
    assert_int_equal(zmq_send(f->sock, f->rid, f->rid_len, ZMQ_SNDMORE), (int) f->rid_len);
    assert_int_equal(zmq_send(f->sock, data, len, 0), (int) len);
}

static void
s_fake_send_env(s_fake_t *f, Sanji__Envelope *env)
{
    env->version = SJ_PROTO_VERSION;
    size_t n = sanji__envelope__get_packed_size(env);
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    sanji__envelope__pack(env, buf);
    s_fake_send(f, buf, n);
    free(buf);
}

/* A valid down item: an assignment from the township to `to`. */
static void
s_item(const char *to, uint8_t **item, size_t *len)
{
    sj_event_t *ev = calloc(1, sizeof *ev);
    sj_snapshot_t *snap = calloc(1, sizeof *snap);
    assert_non_null(ev);
    assert_non_null(snap);
    ev->type = SJ_EVENT_ASSIGNMENT;
    memset(ev->id, 0x11, SJ_ID_BYTES);
    ev->id[6] = 0x70;
    memset(ev->case_id, 0x22, SJ_ID_BYTES);
    snprintf(ev->origin, sizeof ev->origin, "%s", T100);
    memset(ev->epoch, 0x33, SJ_EPOCH_BYTES);
    ev->origin_seq = 1;
    ev->created_ms = 1700000000000;
    snprintf(ev->assignee, sizeof ev->assignee, "%s", to);
    snprintf(ev->due_on, sizeof ev->due_on, DUE);
    snprintf(snap->occurred_on, sizeof snap->occurred_on, "2024-05-01");
    snap->channel = snap->category = snap->kind = snap->persons = 1;
    snap->outcome = 1;
    snprintf(snap->summary, sizeof snap->summary, "边界纠纷");
    snprintf(snap->origin, sizeof snap->origin, "%s", S2);
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    assert_int_equal(sj_event_encode(ev, &raw, &raw_len), SJ_OK);
    assert_int_equal(sj_down_item_encode(raw, raw_len, snap, item, len), SJ_OK);
    free(raw);
    free(ev);
    free(snap);
}

static void
test_assign_bad_down_frames(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S1, hub);
    s_fake_t f = {0};
    s_fake_hub(&f, hub);
    /* The station tries to sync with "its hub" for a few seconds. */
    const char *args[] = {"sync", "--timeout", "6", NULL};
    h_proc_t *p = h_agent_spawn(st, args);
    assert_non_null(p);
    assert_int_equal(s_fake_hello(&f), 0);
    uint8_t epoch[16] = {1};
    Sanji__Welcome wel = SANJI__WELCOME__INIT;
    wel.store_epoch.data = epoch;
    wel.store_epoch.len = 16;
    wel.down_head = 3;
    Sanji__Envelope e = SANJI__ENVELOPE__INIT;
    e.body_case = SANJI__ENVELOPE__BODY_WELCOME;
    e.welcome = &wel;
    s_fake_send_env(&f, &e);

    /* 1: an item for another station. */
    uint8_t *item = NULL;
    size_t len = 0;
    s_item(S2, &item, &len);
    ProtobufCBinaryData one = {.len = len, .data = item};
    Sanji__DownBatch b = SANJI__DOWN_BATCH__INIT;
    b.first_seq = 1;
    b.n_items = 1;
    b.items = &one;
    e.body_case = SANJI__ENVELOPE__BODY_DOWN_BATCH;
    e.down_batch = &b;
    s_fake_send_env(&f, &e);
    /* 2: oversized: more items than a batch may hold. */
    ProtobufCBinaryData many[SJ_WIRE_MAX_DOWN + 1];
    for (size_t i = 0; i < SJ_WIRE_MAX_DOWN + 1; i++) {
        many[i] = one;
    }
    b.first_seq = 2;
    b.n_items = SJ_WIRE_MAX_DOWN + 1;
    b.items = many;
    s_fake_send_env(&f, &e);
    /* 3: an item that is not a DownItem at all. */
    uint8_t junk[] = {0xff, 0xff, 0xff, 0x07};
    ProtobufCBinaryData bad = {.len = sizeof junk, .data = junk};
    b.first_seq = 2;
    b.n_items = 1;
    b.items = &bad;
    s_fake_send_env(&f, &e);
    /* 4: a frame that is no Envelope. */
    s_fake_send(&f, junk, sizeof junk);
    free(item);
    /* 5: a valid item for this station after the two it refused (issue 19:
     * a refused item is kept and acked past, it does not stop the stream). */
    s_item(S1, &item, &len);
    one.data = item;
    one.len = len;
    b.first_seq = 3;
    b.items = &one;
    s_fake_send_env(&f, &e);
    free(item);

    /* The station applies item 3 and has its head: sync ends (exit 0). */
    assert_int_equal(h_proc_wait(p, h_ms(30000)), 0);
    zmq_close(f.sock);
    zmq_ctx_term(f.zctx);
    char *log = h_read_file(p->err_path);
    assert_non_null(log);
    assert_non_null(strstr(log, "refused down item 1"));
    assert_non_null(strstr(log, "not to this station " S1));
    assert_non_null(strstr(log, "down batch: more than 100 items"));
    assert_non_null(strstr(log, "not a valid protobuf DownItem"));
    assert_non_null(strstr(log, "frame is not a valid protobuf Envelope"));
    free(log);
    assert_int_equal(s_inbox(st), 1);
    assert_int_equal(h_db_scalar(st, "SELECT value FROM meta WHERE key='down_cursor'"), 3);
    /* The two refused items are kept with their reasons and bytes. */
    assert_int_equal(h_db_scalar(st, "SELECT count(*) FROM down_refused WHERE seq=1 AND reason"
                                     " LIKE '%not to this station%' AND length(item) > 0"),
                     1);
    assert_int_equal(h_db_scalar(st, "SELECT count(*) FROM down_refused WHERE seq=2 AND reason"
                                     " LIKE '%not a valid protobuf DownItem%'"),
                     1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_assign_offline_station_closes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_assign_hub_killed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_assign_recreated_station, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_assign_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_assign_bad_down_frames, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_assign_refresh_and_conflict, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_assign_hub_store_lost, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
