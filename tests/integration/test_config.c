/* Does a command's section of the config file change that command, and only
 * that command, with the command line winning, and does a bad file stop a
 * tool before it does anything, naming the file's line? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cJSON.h>
#include <cmocka.h>

#include "harness.h"

#define T100     "230523100"
#define NREPORTS 40

static int
s_setup(void **state)
{
    *state = h_env_new("config");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

static void
s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* Runs bin with args (NULL-terminated) to completion. */
static int
s_run(h_env_t *env, const char *bin, const char *const args[], h_result_t *r)
{
    char *argv[32];
    int n = 0;
    argv[n++] = (char *) bin;
    for (int i = 0; args[i] && n < 31; i++) {
        argv[n++] = (char *) args[i];
    }
    argv[n] = NULL;
    return h_run(env, "tool", argv, r, h_ms(60000));
}

/* stats --format json output: checks its shape, returns the rows' key
 * (the one dimension) and the total of items. */
static long long
s_json_stats(const char *text, const char *dim)
{
    cJSON *doc = cJSON_Parse(text);
    if (!doc) {
        fail_msg("not JSON: %s", text);
    }
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(doc, "rows");
    const cJSON *total = cJSON_GetObjectItemCaseSensitive(doc, "total");
    assert_true(cJSON_IsArray(rows));
    assert_true(cJSON_GetArraySize(rows) > 1);
    long long sum = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(row, dim)));
        sum += (long long) cJSON_GetObjectItemCaseSensitive(row, "items")->valuedouble;
    }
    long long items = (long long) cJSON_GetObjectItemCaseSensitive(total, "items")->valuedouble;
    assert_int_equal(sum, items);
    cJSON_Delete(doc);
    return items;
}

static void
test_config_stats_section(void **state)
{
    h_env_t *env = *state;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, T100 "201", hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    assert_int_equal(h_import(st, NREPORTS, 42u), 0);
    h_result_t r;
    assert_int_equal(h_sync(st, 60, &r), 0);
    h_result_free(&r);
    assert_int_equal(
        h_wait_db(county, "SELECT count(*) FROM matters", NREPORTS, NREPORTS, h_ms(60000)),
        NREPORTS);

    /* The daemon's file: general keys for run, and stats' own section. */
    char conf[600], text[2048];
    snprintf(conf, sizeof conf, "%s/county.conf", h_env_dir(env));
    snprintf(text, sizeof text,
             "[county-server]\n"
             "data = %s\n"
             "bind = %s\n"
             "insecure = true\n"
             "\n"
             "[stats]\n"
             "format = json\n"
             "by = channel\n",
             county->data, county->endpoint);
    s_write(conf, text);

    /* stats takes [stats] */
    const char *stats[] = {"stats", "--config", conf, NULL};
    assert_int_equal(s_run(env, COUNTY_BIN, stats, &r), 0);
    assert_int_equal(s_json_stats(r.out, "channel"), NREPORTS);
    h_result_free(&r);

    /* the command line wins: --format table, --by kind */
    const char *table[] = {"stats", "--config", conf, "--format", "table", NULL};
    assert_int_equal(s_run(env, COUNTY_BIN, table, &r), 0);
    assert_int_equal(strncmp(r.out, "channel  ", 9), 0);
    assert_null(strchr(r.out, '{'));
    assert_non_null(strstr(r.out, "\ntotal "));
    h_result_free(&r);
    const char *by[] = {"--by", "kind", "stats", "--config", conf, NULL};
    assert_int_equal(s_run(env, COUNTY_BIN, by, &r), 0);
    assert_int_equal(s_json_stats(r.out, "kind"), NREPORTS);
    assert_null(strstr(r.out, "\"channel\""));
    h_result_free(&r);

    /* another command does not take [stats]: list and status stay tables */
    const char *list[] = {"list", "--config", conf, NULL};
    assert_int_equal(s_run(env, COUNTY_BIN, list, &r), 0);
    assert_int_equal(strncmp(r.out, "id  ", 4), 0);
    h_result_free(&r);
    const char *status[] = {"status", "--config", conf, NULL};
    assert_int_equal(s_run(env, COUNTY_BIN, status, &r), 0);
    assert_null(strchr(r.out, '{'));
    h_result_free(&r);

    /* a bad value in [stats]: refused by the --format check, naming the line */
    s_write(conf, "[county-server]\ninsecure = true\n[stats]\nby = channel\nformat = yaml\n");
    const char *bad[] = {"stats", "--config", conf, "--data", county->data, NULL};
    assert_int_equal(s_run(env, COUNTY_BIN, bad, &r), 2);
    char want[1400];
    snprintf(want, sizeof want,
             "county-server: %s:5: --format 'yaml' is not one of table, json, csv\n", conf);
    assert_string_equal(r.err, want);
    assert_string_equal(r.out, "");
    h_result_free(&r);
    /* and the command line's value is taken over the bad one */
    const char *over[] = {"stats", "--config", conf, "--data", county->data, "--format=csv", NULL};
    assert_int_equal(s_run(env, COUNTY_BIN, over, &r), 0);
    assert_int_equal(strncmp(r.out, "channel,items,persons\n", 22), 0);
    h_result_free(&r);
}

static void
test_config_refused_before_anything_runs(void **state)
{
    h_env_t *env = *state;
    char conf[600], data[600], text[2048], want[1400];
    snprintf(conf, sizeof conf, "%s/bad.conf", h_env_dir(env));
    snprintf(data, sizeof data, "%s/never-made", h_env_dir(env));
    struct stat sb;
    h_result_t r;

    /* an unknown section stops the daemon: no store, no key made */
    snprintf(text, sizeof text,
             "[township-hub]\ndata = %s\ncode = " T100 "\nbind = tcp://127.0.0.1:%d\n"
             "parent = tcp://127.0.0.1:1\ninsecure = true\n\n[stauts]\nsilent-after = 600\n",
             data, h_free_port());
    s_write(conf, text);
    const char *run[] = {"run", "--config", conf, NULL};
    assert_int_equal(s_run(env, HUB_BIN, run, &r), 2);
    snprintf(want, sizeof want,
             "township-hub: %s:8: unknown section [stauts] (use [township-hub] or [sanji] for"
             " general keys, or a command's name, e.g. [status])\n",
             conf);
    assert_string_equal(r.err, want);
    h_result_free(&r);
    assert_int_not_equal(stat(data, &sb), 0);

    /* an unknown key of a command's section, the same */
    snprintf(text, sizeof text,
             "[township-hub]\ndata = %s\ninsecure = true\n[status]\nsilent = 600\n", data);
    s_write(conf, text);
    assert_int_equal(s_run(env, HUB_BIN, run, &r), 2);
    snprintf(want, sizeof want,
             "township-hub: %s:5: unknown key 'silent' in [status] (the keys of [status] are the"
             " long options of 'township-hub status --help')\n",
             conf);
    assert_string_equal(r.err, want);
    h_result_free(&r);
    assert_int_not_equal(stat(data, &sb), 0);

    /* a bad value of the station's [sync]: the --timeout check names the line */
    snprintf(text, sizeof text, "[village-agent]\ndata = %s\n\n[sync]\ntimeout = 0\n", data);
    s_write(conf, text);
    const char *sync[] = {"sync", "--config", conf, NULL};
    assert_int_equal(s_run(env, AGENT_BIN, sync, &r), 2);
    snprintf(want, sizeof want,
             "village-agent: %s:5: --timeout '0' must be a number from 1 to 86400\n", conf);
    assert_string_equal(r.err, want);
    h_result_free(&r);
    assert_int_not_equal(stat(data, &sb), 0);

    /* a flag's key takes true or false only */
    snprintf(text, sizeof text, "[sync]\nuntil-county = yes\n");
    s_write(conf, text);
    assert_int_equal(s_run(env, AGENT_BIN, sync, &r), 2);
    snprintf(want, sizeof want,
             "village-agent: %s:2: until-county must be true or false (it is the flag"
             " --until-county)\n",
             conf);
    assert_string_equal(r.err, want);
    h_result_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_stats_section, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_config_refused_before_anything_runs, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
