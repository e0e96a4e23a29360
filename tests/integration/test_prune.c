/* Does `village-agent prune` delete only what the county has confirmed, keep
 * the station's numbering and hash chain going (the county still verifies
 * every stream), survive a hub restored from a backup older than what was
 * pruned, and does `run --prune-after-days` prune by itself? */
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

#include "harness.h"

#define T100 "230523100"
#define S201 T100 "201"

static int
s_setup(void **state)
{
    *state = h_env_new("prune");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

/* Runs the station tool with args, expecting exit code want. */
static void
s_agent_expect(h_node_t *st, const char *const args[], int want, h_result_t *r)
{
    int code = h_agent(st, args, r, h_ms(60000));
    if (code != want) {
        fail_msg("village-agent %s: exit %d, expected %d\nstdout: %s\nstderr: %s", args[0], code,
                 want, r->out, r->err);
    }
}

/* `sync --until-county`: every entry committed at the county. */
static void
s_sync_county(h_node_t *st)
{
    h_result_t r;
    const char *args[] = {"sync", "--timeout", "60", "--until-county", NULL};
    s_agent_expect(st, args, 0, &r);
    h_result_free(&r);
}

/* `prune args...`: returns the number pruned (stdout); stderr in why. */
static long
s_prune(h_node_t *st, const char *const args[], char *why, size_t why_size)
{
    const char *argv[8] = {"prune"};
    int n = 1;
    for (int i = 0; args && args[i] && n < 7; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    h_result_t r;
    s_agent_expect(st, argv, 0, &r);
    char *end = NULL;
    long v = strtol(r.out, &end, 10);
    if (end == r.out || *end != '\n') {
        fail_msg("prune printed '%s', not a number", r.out);
    }
    snprintf(why, why_size, "%s", r.err);
    h_result_free(&r);
    return v;
}

static void
s_county_verify_ok(h_node_t *county)
{
    h_result_t r;
    char *argv[] = {COUNTY_BIN, "verify", "--data", county->data, NULL};
    int code = h_run(county->env, "verify", argv, &r, h_ms(60000));
    if (code != 0) {
        fail_msg("county-server verify: exit %d\n%s\n%s", code, r.out, r.err);
    }
    h_result_free(&r);
}

static void
s_exactly_once(const h_node_t *county, long long total, int epochs)
{
    const h_expect_t exp[] = {{S201, total, epochs}};
    char why[300] = "";
    if (h_check_exactly_once(county, exp, 1, why, sizeof why) != 0) {
        fail_msg("not exactly once: %s", why);
    }
}

static void
test_prune_after_receipt(void **state)
{
    /* Nothing before the county's receipt; after it, everything but the
     * newest entry; numbers and chain go on; the county verifies. */
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S201, hub);
    assert_int_equal(h_start_hub(hub), 0); /* the county is not up yet */
    assert_int_equal(h_import(st, 5, 1), 0);
    char why[1024];
    const char *any_age[] = {"--older-than", "0", NULL};
    assert_int_equal(s_prune(st, any_age, why, sizeof why), 0);
    assert_non_null(strstr(why, "5 queued"));
    h_result_t r;
    int code = h_sync(st, 30, &r);
    h_result_free(&r);
    assert_int_equal(code, 0); /* at the hub, not at the county */
    assert_int_equal(s_prune(st, any_age, why, sizeof why), 0);
    assert_non_null(strstr(why, "5 at the hub only"));
    assert_int_equal(h_db_scalar(st, "SELECT count(*) FROM outbox"), 5);

    assert_int_equal(h_start_county(county), 0);
    s_sync_county(st);
    /* The default age limit (30 days) keeps today's reports. */
    assert_int_equal(s_prune(st, NULL, why, sizeof why), 0);
    assert_non_null(strstr(why, "5 too recent"));
    const char *dry[] = {"--older-than", "0", "--dry-run", NULL};
    assert_int_equal(s_prune(st, dry, why, sizeof why), 4);
    assert_non_null(strstr(why, "would prune 4"));
    assert_int_equal(h_db_scalar(st, "SELECT count(*) FROM outbox"), 5);
    assert_int_equal(s_prune(st, any_age, why, sizeof why), 4);
    assert_non_null(strstr(why, "1 newest of the stream"));
    assert_int_equal(h_db_scalar(st, "SELECT count(*) FROM outbox"), 1);
    assert_int_equal(s_prune(st, any_age, why, sizeof why), 0);

    /* outbox lists what is left and says how many were pruned. */
    const char *outbox[] = {"outbox", NULL};
    s_agent_expect(st, outbox, 0, &r);
    assert_non_null(strstr(r.out, "at-county"));
    assert_non_null(strstr(r.err, "4 older entries pruned"));
    h_result_free(&r);

    /* Wrong use is refused, changing nothing. */
    const char *bad_days[] = {"prune", "--older-than", "-1", NULL};
    s_agent_expect(st, bad_days, 2, &r);
    assert_non_null(strstr(r.err, "--older-than"));
    h_result_free(&r);
    const char *misplaced[] = {"outbox", "--dry-run", NULL};
    s_agent_expect(st, misplaced, 2, &r);
    h_result_free(&r);

    /* Numbering goes on: report 6, seq 6, chained to the pruned 5th. */
    assert_int_equal(h_import(st, 2, 2), 0);
    assert_int_equal(h_db_scalar(st, "SELECT min(num) FROM outbox WHERE num > 5"), 6);
    s_sync_county(st);
    s_county_verify_ok(county);
    s_exactly_once(county, 7, 1);
    /* Importing a pruned report again adds nothing. */
    char path[H_PATH];
    snprintf(path, sizeof path, "%s/again.jsonl", h_env_dir(env));
    sqlite3 *db = NULL;
    char cpath[H_PATH];
    h_db_path(county, cpath, sizeof cpath);
    assert_int_equal(sqlite3_open_v2(cpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT lower(substr(hex(id),1,8)||'-'||substr(hex(id),9,4)"
                                        "||'-'||substr(hex(id),13,4)||'-'||substr(hex(id),17,4)"
                                        "||'-'||substr(hex(id),21)) FROM events"
                                        " ORDER BY origin_seq LIMIT 1",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "{\"id\": \"%s\", \"channel\": \"visit\", \"level\": \"county\", \"summary\": "
            "\"again\"}\n",
            (const char *) sqlite3_column_text(q, 0));
    fclose(f);
    sqlite3_finalize(q);
    sqlite3_close(db);
    const char *again[] = {"import", "--wait", "0", path, NULL};
    s_agent_expect(st, again, 0, &r);
    assert_string_equal(r.out, "0\n");
    h_result_free(&r);
}

static void
test_prune_then_hub_restored(void **state)
{
    /* The hub comes back from a backup older than what the station pruned:
     * does the station go on under a new epoch instead of stalling on the
     * events it no longer has, with every report at the county once? */
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S201, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    char old[H_PATH];
    snprintf(old, sizeof old, "%s/hub-old.db", h_env_dir(env));
    h_result_t r;
    char *backup[] = {HUB_BIN, "backup", "--data", hub->data, old, NULL};
    assert_int_equal(h_run(env, "backup", backup, &r, h_ms(60000)), 0);
    h_result_free(&r);

    assert_int_equal(h_import(st, 6, 3), 0);
    s_sync_county(st);
    char why[1024];
    const char *any_age[] = {"--older-than", "0", NULL};
    assert_int_equal(s_prune(st, any_age, why, sizeof why), 5);

    assert_int_equal(h_stop(hub, SIGTERM), 0);
    char *restore[] = {HUB_BIN, "restore", "--data", hub->data, old, NULL};
    assert_int_equal(h_run(env, "restore", restore, &r, h_ms(60000)), 0);
    h_result_free(&r);
    assert_int_equal(h_start_hub(hub), 0);

    assert_int_equal(h_import(st, 3, 4), 0);
    s_sync_county(st);
    s_county_verify_ok(county);
    /* 6 under the first epoch, the 3 new ones under the second. */
    s_exactly_once(county, 9, 2);
}

static void
test_prune_run_automatic(void **state)
{
    /* Does `run --prune-after-days 30` prune the entries the county has
     * confirmed once they are old enough, and nothing else? */
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S201, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    assert_int_equal(h_import(st, 4, 5), 0);
    s_sync_county(st);
    assert_int_equal(h_import(st, 2, 6), 0); /* queued: never pruned */
    /* The first three were recorded 40 days ago (as if). */
    char path[H_PATH];
    h_db_path(st, path, sizeof path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE outbox SET created_ms = created_ms - 40 * 86400000"
                                  " WHERE num <= 3",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    const char *run[] = {"run", "--prune-after-days", "30", NULL};
    h_proc_t *p = h_agent_spawn(st, run);
    assert_non_null(p);
    long long left = h_wait_db(st, "SELECT count(*) FROM outbox", 3, 3, h_ms(30000));
    assert_int_equal(left, 3);
    assert_int_equal(h_db_scalar(st, "SELECT min(num) FROM outbox"), 4);
    /* run delivers the two queued ones as well. */
    assert_int_equal(h_wait_db(county, "SELECT count(*) FROM events", 6, 6, h_ms(30000)), 6);
    assert_int_equal(h_proc_kill(p, SIGTERM), 0);
    s_county_verify_ok(county);
    s_exactly_once(county, 6, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_prune_after_receipt, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_prune_then_hub_restored, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_prune_run_automatic, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("prune", tests, NULL, NULL);
}
