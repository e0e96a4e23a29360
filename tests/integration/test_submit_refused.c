/* When the hub refuses a station (its key revoked or not enrolled), does
 * `submit` still store the report and exit 0 (running it again would record
 * the report twice), say the refusal so that it cannot be missed, with the
 * command that enrols the key, and is the report delivered exactly once after
 * the key is enrolled again? */
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
#define S201 T100 "201"

static int
s_setup(void **state)
{
    *state = h_env_new("refused");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

static void
s_hub_tool(h_node_t *hub, const char *cmd, const char *code, const char *key)
{
    h_result_t r;
    char *argv[] = {(char *) HUB_BIN, (char *) cmd, "--data", hub->data, "--",
                    (char *) code,    (char *) key, NULL};
    int rc = h_run(hub->env, cmd, argv, &r, h_ms(30000));
    if (rc != 0) {
        fail_msg("township-hub %s: exit %d: %s", cmd, rc, r.err);
    }
    h_result_free(&r);
    assert_int_equal(h_reload(hub), 0);
}

static void
test_submit_refused_exit0_loud(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, S201, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    assert_int_equal(h_import(st, 2, 1), 0);
    h_result_t r;
    assert_int_equal(h_sync(st, 30, &r), 0);
    h_result_free(&r);

    /* The township office revokes the station's key. */
    s_hub_tool(hub, "revoke", S201, NULL);
    const char *submit[] = {"submit",    "--channel", "visit",  "--level", "county",
                            "--summary", "refused",   "--wait", "10",      NULL};
    int64_t t0 = h_now_ms();
    int code = h_agent(st, submit, &r, h_ms(60000));
    int64_t took = h_now_ms() - t0;
    fprintf(stderr, "# refused submit: exit %d after %lld ms:\n%s", code, (long long) took, r.err);
    assert_int_equal(code, 0);
    assert_int_equal(strlen(r.out), 37); /* the id and a newline */
    assert_non_null(strstr(r.err, "the hub refused this station"));
    assert_non_null(strstr(r.err, "NOT DELIVERED"));
    assert_non_null(strstr(r.err, "report 3 IS stored"));
    assert_non_null(strstr(r.err, "do NOT record it again"));
    char enrol[128];
    snprintf(enrol, sizeof enrol, "township-hub allow -- %s '%s'", S201, st->pk);
    assert_non_null(strstr(r.err, enrol));
    h_result_free(&r);
    /* It stopped at the refusal instead of waiting out --wait. */
    assert_true(took < h_ms(9000));
    assert_int_equal(h_db_scalar(st, "SELECT count(*) FROM outbox"), 3);
    assert_int_equal(h_db_scalar(hub, "SELECT count(*) FROM events"), 2);

    /* Enrolled again, the stored report goes up once. */
    s_hub_tool(hub, "allow", S201, st->pk);
    const char *sync[] = {"sync", "--timeout", "60", "--until-county", NULL};
    assert_int_equal(h_agent(st, sync, &r, h_ms(90000)), 0);
    h_result_free(&r);
    const h_expect_t exp[] = {{S201, 3, 1}};
    char why[300] = "";
    if (h_check_exactly_once(county, exp, 1, why, sizeof why) != 0) {
        fail_msg("not exactly once: %s", why);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_submit_refused_exit0_loud, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("submit_refused", tests, NULL, NULL);
}
