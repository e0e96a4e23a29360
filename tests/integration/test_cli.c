/* Is every mistake on the command line of the three tools answered: does every command's
 * --help name it (exit 0), an unknown command exit 2 saying so, and each bad usage (a bad
 * enum, a missing option or argument, a bad key, code, date or endpoint, an option of another
 * command) exit 2 with a message naming what was wrong, before anything is stored? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "harness.h"

#define T100  "230523100"
#define S201  T100 "201"
#define CASE  "0190d3a0-0000-7000-8000-000000000001"
#define S_MAX 16 /* arguments of one case */

static const char *const s_hub_cmds[] = {"run",     "status", "cases", "assign", "update", "backup",
                                         "restore", "keygen", "allow", "revoke", "serve",  NULL};
static const char *const s_county_cmds[] = {
    "run",  "keygen", "allow",  "revoke", "status", "backup", "restore", "stats", "list",
    "show", "cases",  "update", "assign", "verify", "export", "report",  "serve", NULL};
static const char *const s_agent_cmds[] = {"submit", "import", "outbox", "update", "inbox",
                                           "sync",   "run",    "prune",  "keygen", NULL};

static int
s_setup(void **state)
{
    *state = h_env_new("cli");
    return *state ? 0 : -1;
}

static int
s_teardown(void **state)
{
    h_env_t *env = *state;
    return h_env_destroy(&env);
}

static const char *
s_name(const char *bin)
{
    const char *slash = strrchr(bin, '/');
    return slash ? slash + 1 : bin;
}

/* Runs bin with args (NULL-terminated); returns the exit code. */
static int
s_run(h_env_t *env, const char *bin, const char *const *args, h_result_t *r)
{
    char *argv[S_MAX + 2] = {(char *) bin};
    int n = 1;
    for (int i = 0; args[i] && n <= S_MAX; i++) {
        argv[n++] = (char *) args[i];
    }
    argv[n] = NULL;
    return h_run(env, s_name(bin), argv, r, h_ms(30000));
}

static void
s_helps(h_env_t *env, const char *bin, const char *const *cmds)
{
    const char *tool = s_name(bin);
    h_result_t r;
    /* the tool's help lists every command */
    const char *help[] = {"--help", NULL};
    assert_int_equal(s_run(env, bin, help, &r), 0);
    for (int i = 0; cmds[i]; i++) {
        char line[64];
        snprintf(line, sizeof line, "\n  %s", cmds[i]);
        if (!strstr(r.out, line)) {
            fail_msg("%s --help does not list %s:\n%s", tool, cmds[i], r.out);
        }
    }
    h_result_free(&r);
    /* each command's own help names it */
    for (int i = 0; cmds[i]; i++) {
        char want[64];
        snprintf(want, sizeof want, "usage: %s %s", tool, cmds[i]);
        const char *args[] = {cmds[i], "--help", NULL};
        int code = s_run(env, bin, args, &r);
        if (code != 0 || !strstr(r.out, want)) {
            fail_msg("%s %s --help: exit %d, no '%s' in:\n%s%s", tool, cmds[i], code, want, r.out,
                     r.err);
        }
        /* only its own help: the tool's list of commands is not in it */
        if (strstr(r.out, "\ncommands:\n")) {
            fail_msg("%s %s --help prints the tool's help", tool, cmds[i]);
        }
        h_result_free(&r);
    }
    /* an unknown command, and none */
    const char *unknown[] = {"frobnicate", NULL};
    assert_int_equal(s_run(env, bin, unknown, &r), 2);
    assert_non_null(strstr(r.err, "unknown command 'frobnicate'"));
    assert_string_equal(r.out, "");
    h_result_free(&r);
    const char *unknown_help[] = {"frobnicate", "--help", NULL};
    assert_int_equal(s_run(env, bin, unknown_help, &r), 2);
    assert_non_null(strstr(r.err, "unknown command 'frobnicate'"));
    h_result_free(&r);
    const char *none[] = {NULL};
    assert_int_equal(s_run(env, bin, none, &r), 2);
    assert_non_null(strstr(r.err, "\ncommands:\n"));
    h_result_free(&r);
}

static void
test_cli_every_command_has_help(void **state)
{
    h_env_t *env = *state;
    s_helps(env, HUB_BIN, s_hub_cmds);
    s_helps(env, COUNTY_BIN, s_county_cmds);
    s_helps(env, AGENT_BIN, s_agent_cmds);
}

/* One bad usage: the tool, its arguments ("@D": a data directory of its own that must not
 * be made; "@K": a valid public key), and what the message must say. */
typedef struct {
    const char *bin;
    const char *args[S_MAX];
    const char *says;
} s_case_t;

static const s_case_t s_cases[] = {
    /* township-hub */
    {HUB_BIN, {"update", CASE, "--outcome", "bogus", "--data", "@D"}, "--outcome"},
    {HUB_BIN, {"update", CASE, "--data", "@D"}, "--outcome is required"},
    {HUB_BIN, {"update", "--data", "@D"}, "update needs CASE-ID"},
    {HUB_BIN, {"update", "not-a-case", "--outcome", "closed", "--data", "@D"}, "'not-a-case'"},
    {HUB_BIN, {"assign", CASE, "--due", "2099-01-01", "--data", "@D"}, "--to"},
    {HUB_BIN, {"assign", CASE, "--to", S201, "--due", "2024-02-30", "--data", "@D"}, "--due"},
    {HUB_BIN, {"assign", CASE, "--to", T100, "--due", "2099-01-01", "--data", "@D"}, "--to"},
    {HUB_BIN,
     {"run", "--bind", "0.0.0.0:7600", "--parent", "tcp://127.0.0.1:1", "--data", "@D"},
     "--bind '0.0.0.0:7600' is not an endpoint; did you mean tcp://0.0.0.0:7600?"},
    {HUB_BIN,
     {"run", "--bind", ":7600", "--parent", "tcp://127.0.0.1:1", "--data", "@D"},
     "did you mean tcp://0.0.0.0:7600?"},
    {HUB_BIN,
     {"run", "--bind", "tcp://127.0.0.1:7600", "--parent", "county:7600", "--data", "@D"},
     "--parent 'county:7600' is not an endpoint; did you mean tcp://county:7600?"},
    {HUB_BIN, {"run", "--parent", "tcp://127.0.0.1:1", "--data", "@D"}, "run needs --bind"},
    {HUB_BIN,
     {"run", "--bind", "tcp://127.0.0.1:7600", "--parent", "tcp://127.0.0.1:1", "--parent-key",
      "not-a-key", "--data", "@D"},
     "--parent-key 'not-a-key'"},
    {HUB_BIN,
     {"run", "--bind", "tcp://127.0.0.1:7600", "--parent", "tcp://127.0.0.1:1", "--code", "2305",
      "--data", "@D"},
     "--code '2305'"},
    {HUB_BIN, {"status", "--format", "yaml", "--data", "@D"}, "--format 'yaml'"},
    {HUB_BIN, {"status", "--silent-after", "soon", "--data", "@D"}, "--silent-after"},
    {HUB_BIN, {"status", "--data", "@D", "--format"}, "--format needs a value"},
    {HUB_BIN,
     {"status", "--bind", "tcp://127.0.0.1:1", "--data", "@D"},
     "status does not take --bind"},
    {HUB_BIN, {"status", "--log-level", "loud", "--data", "@D"}, "--log-level 'loud'"},
    {HUB_BIN, {"cases", "all", "--data", "@D"}, "cases takes no argument"},
    {HUB_BIN, {"allow", "12345", "@K", "--code", T100, "--data", "@D"}, "CODE '12345'"},
    {HUB_BIN,
     {"allow", "--code", T100, "--data", "@D", "--", S201, "not-a-key"},
     "KEY 'not-a-key'"},
    {HUB_BIN,
     {"allow", "230523200201", "@K", "--code", T100, "--data", "@D"},
     "230523200201 is not under " T100},
    {HUB_BIN, {"allow", "230524100201", "@K", "--data", "@D"}, "pass --code"},
    {HUB_BIN, {"allow", S201, "--data", "@D"}, "allow needs CODE KEY"},
    {HUB_BIN, {"serve", "--format", "json", "--data", "@D"}, "--format"},
    /* county-server */
    {COUNTY_BIN, {"stats", "--channel", "bogus", "--data", "@D"}, "--channel 'bogus'"},
    {COUNTY_BIN, {"list", "--from", "2024-02-30", "--data", "@D"}, "--from"},
    {COUNTY_BIN, {"list", "--limit", "0", "--data", "@D"}, "--limit '0'"},
    {COUNTY_BIN,
     {"stats", "--with-personal", "--data", "@D"},
     "stats does not take --with-personal"},
    {COUNTY_BIN,
     {"run", "--bind", "0.0.0.0:7600", "--data", "@D"},
     "did you mean tcp://0.0.0.0:7600?"},
    {COUNTY_BIN, {"run", "--bind", "7600", "--data", "@D"}, "--bind '7600' is not an endpoint"},
    {COUNTY_BIN, {"run", "--data", "@D"}, "run needs --bind"},
    {COUNTY_BIN, {"allow", "230523", "@K", "--data", "@D"}, "CODE '230523'"},
    {COUNTY_BIN, {"allow", T100, "not-a-key", "--data", "@D"}, "KEY 'not-a-key'"},
    {COUNTY_BIN,
     {"allow", "230524100", "@K", "--code", "230523", "--data", "@D"},
     "230524100 is not under 230523"},
    {COUNTY_BIN, {"cases", "--source", "bogus", "--data", "@D"}, "--source 'bogus'"},
    {COUNTY_BIN, {"update", CASE, "--outcome", "bogus", "--data", "@D"}, "--outcome"},
    {COUNTY_BIN,
     {"assign", CASE, "--to", "23", "--due", "2099-01-01", "--data", "@D"},
     "--to '23'"},
    {COUNTY_BIN, {"assign", CASE, "--to", T100, "--due", "2099-02-30", "--data", "@D"}, "--due"},
    {COUNTY_BIN, {"export", "--format", "yaml", "--data", "@D"}, "--format 'yaml'"},
    {COUNTY_BIN, {"report", "--data", "@D"}, "--year"},
    {COUNTY_BIN, {"report", "--year", "twenty", "--data", "@D"}, "--year 'twenty'"},
    {COUNTY_BIN, {"verify", "--format", "yaml", "--data", "@D"}, "--format 'yaml'"},
    {COUNTY_BIN, {"show", "--data", "@D"}, "show needs ID"},
    {COUNTY_BIN, {"backup", "--data", "@D"}, "backup needs DEST"},
    /* village-agent */
    {AGENT_BIN,
     {"submit", "--station", S201, "--channel", "bogus", "--level", "county", "--summary", "x",
      "--data", "@D"},
     "--channel 'bogus'"},
    {AGENT_BIN,
     {"submit", "--station", S201, "--channel", "visit", "--level", "county", "--data", "@D"},
     "--summary is required"},
    {AGENT_BIN,
     {"submit", "--station", S201, "--channel", "visit", "--level", "county", "--summary", "x",
      "--occurred", "2024-13-01", "--data", "@D"},
     "--occurred '2024-13-01'"},
    {AGENT_BIN,
     {"submit", "--station", S201, "--channel", "visit", "--level", "county", "--summary", "x",
      "--persons", "many", "--data", "@D"},
     "--persons 'many'"},
    {AGENT_BIN,
     {"submit", "--station", S201, "--channel", "visit", "--level", "county", "--summary", "x",
      "--hub-key", "not-a-key", "--data", "@D"},
     "--hub-key 'not-a-key'"},
    {AGENT_BIN, {"update", CASE, "--outcome", "bogus", "--data", "@D"}, "--outcome 'bogus'"},
    {AGENT_BIN, {"update", CASE, "--data", "@D"}, "--outcome is required"},
    {AGENT_BIN, {"update", "x", "--outcome", "closed", "--data", "@D"}, "'x' is not a case id"},
    {AGENT_BIN, {"sync", "--timeout", "0", "--data", "@D"}, "--timeout '0'"},
    {AGENT_BIN, {"sync", "--data", "@D"}, "--hub"},
    {AGENT_BIN,
     {"sync", "--hub", "127.0.0.1:7601", "--data", "@D"},
     "did you mean tcp://127.0.0.1:7601?"},
    {AGENT_BIN, {"outbox", "--station", "2305", "--data", "@D"}, "--station '2305'"},
    {AGENT_BIN, {"outbox", "--channel", "visit", "--data", "@D"}, "outbox does not take --channel"},
    {AGENT_BIN, {"import", "--data", "@D"}, "import needs FILE.jsonl"},
    {AGENT_BIN, {"prune", "--older-than", "-1", "--data", "@D"}, "--older-than '-1'"},
    {AGENT_BIN, {"run", "--log-level", "loud", "--data", "@D"}, "--log-level 'loud'"},
};

static void
test_cli_bad_usage_exits_2(void **state)
{
    h_env_t *env = *state;
    h_result_t r;
    /* a real public key, for the cases where only the code is wrong */
    char keydir[H_PATH + 16], key[48];
    snprintf(keydir, sizeof keydir, "%s/keys", h_env_dir(env));
    const char *kg[] = {"keygen", "--data", keydir, NULL};
    assert_int_equal(s_run(env, COUNTY_BIN, kg, &r), 0);
    snprintf(key, sizeof key, "%.40s", r.out);
    h_result_free(&r);
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        const s_case_t *c = &s_cases[i];
        char dir[H_PATH + 32];
        snprintf(dir, sizeof dir, "%s/case-%zu", h_env_dir(env), i);
        const char *args[S_MAX + 1] = {NULL};
        char shown[1024] = "";
        for (int k = 0; k < S_MAX && c->args[k]; k++) {
            args[k] = strcmp(c->args[k], "@D") == 0   ? dir
                      : strcmp(c->args[k], "@K") == 0 ? key
                                                      : c->args[k];
            size_t at = strlen(shown);
            snprintf(shown + at, sizeof shown - at, " %s", c->args[k]);
        }
        int code = s_run(env, c->bin, args, &r);
        if (code != 2 || !strstr(r.err, c->says)) {
            fail_msg("%s%s: exit %d (want 2), stderr does not say '%s':\n%s", s_name(c->bin), shown,
                     code, c->says, r.err);
        }
        /* one line naming what was wrong, not the whole help */
        if (strstr(r.err, "\ncommands:\n") || strstr(r.out, "\ncommands:\n")) {
            fail_msg("%s%s: printed the tool's help", s_name(c->bin), shown);
        }
        h_result_free(&r);
        struct stat sb;
        if (stat(dir, &sb) == 0) {
            fail_msg("%s%s: bad usage made the data directory %s", s_name(c->bin), shown, dir);
        }
    }
    fprintf(stderr, "# %zu bad usages, each exit 2 naming what was wrong\n",
            sizeof s_cases / sizeof s_cases[0]);
}

static void
test_cli_status_check_bad_usage_unknown(void **state)
{
    /* status --check answers bad usage in the monitoring convention: UNKNOWN, exit 3 */
    h_env_t *env = *state;
    h_result_t r;
    const char *hub[] = {"status", "--check", "--backlog-warn", "soon", NULL};
    assert_int_equal(s_run(env, HUB_BIN, hub, &r), 3);
    assert_int_equal(strncmp(r.out, "UNKNOWN - ", 10), 0);
    assert_non_null(strstr(r.err, "--backlog-warn"));
    h_result_free(&r);
    const char *county[] = {"status", "--check", "--bogus", NULL};
    assert_int_equal(s_run(env, COUNTY_BIN, county, &r), 3);
    assert_int_equal(strncmp(r.out, "UNKNOWN - ", 10), 0);
    assert_non_null(strstr(r.err, "'--bogus'"));
    h_result_free(&r);
}

static void
test_cli_allow_before_first_run(void **state)
{
    /* A hub that never ran: allow with its township from --code or its config file enrols a
     * station of that township only. */
    h_env_t *env = *state;
    h_node_t *hub = h_hub(env, T100, NULL); /* its keys; it never runs */
    char key_dir[H_PATH + 16], conf[H_PATH + 16], allowlist[H_PATH + 16], key[48];
    snprintf(key_dir, sizeof key_dir, "%s/station-key", h_env_dir(env));
    h_result_t r;
    const char *kg[] = {"--data", key_dir, "keygen", NULL};
    assert_int_equal(s_run(env, AGENT_BIN, kg, &r), 0);
    snprintf(key, sizeof key, "%.40s", r.out);
    h_result_free(&r);
    snprintf(allowlist, sizeof allowlist, "%s/allowlist", hub->data);
    struct stat sb;

    /* neither a store nor --code: refused, nothing written */
    const char *bare[] = {"allow", "--data", hub->data, "--", S201, key, NULL};
    assert_int_equal(s_run(env, HUB_BIN, bare, &r), 2);
    assert_non_null(strstr(r.err, "pass --code"));
    h_result_free(&r);
    assert_int_not_equal(stat(allowlist, &sb), 0);

    /* the township from the config file: another county's station is refused */
    snprintf(conf, sizeof conf, "%s/hub.conf", h_env_dir(env));
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f, "[township-hub]\ndata = %s\ncode = %s\n", hub->data, T100);
    assert_int_equal(fclose(f), 0);
    const char *other[] = {"allow", "--config", conf, "--", "230624100201", key, NULL};
    assert_int_equal(s_run(env, HUB_BIN, other, &r), 2);
    assert_non_null(strstr(r.err, "230624100201 is not under " T100));
    h_result_free(&r);
    assert_int_not_equal(stat(allowlist, &sb), 0);

    /* and its own station is enrolled */
    const char *own[] = {"allow", "--config", conf, "--", S201, key, NULL};
    assert_int_equal(s_run(env, HUB_BIN, own, &r), 0);
    h_result_free(&r);
    char *text = h_read_file(allowlist);
    assert_non_null(text);
    assert_non_null(strstr(text, S201));
    free(text);
}

static void
test_cli_allowlist_mode_refused(void **state)
{
    /* A 0666 allowlist (anyone could enrol a key) is refused with the reason by allow, revoke
     * and run; chmod 640 makes it good again. */
    h_env_t *env = *state;
    h_node_t *county = h_county(env); /* its keys */
    char allowlist[H_PATH + 16], key[48];
    h_result_t r;
    char key_dir[H_PATH + 16];
    snprintf(key_dir, sizeof key_dir, "%s/hub-key", h_env_dir(env));
    const char *hkg[] = {"keygen", "--data", key_dir, NULL};
    assert_int_equal(s_run(env, HUB_BIN, hkg, &r), 0);
    snprintf(key, sizeof key, "%.40s", r.out);
    h_result_free(&r);
    snprintf(allowlist, sizeof allowlist, "%s/allowlist", county->data);
    const char *allow[] = {"allow", "--data", county->data, "--", T100, key, NULL};
    assert_int_equal(s_run(env, COUNTY_BIN, allow, &r), 0);
    h_result_free(&r);
    struct stat sb;
    assert_int_equal(stat(allowlist, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0640);

    assert_int_equal(chmod(allowlist, 0666), 0);
    char *before = h_read_file(allowlist);
    assert_non_null(before);
    const char *revoke[] = {"revoke", "--data", county->data, T100, NULL};
    char bind[64];
    snprintf(bind, sizeof bind, "tcp://127.0.0.1:%d", h_free_port());
    const char *run[] = {"run", "--data", county->data, "--bind", bind, NULL};
    const char *const *cmds[] = {allow, revoke, run};
    for (size_t i = 0; i < 3; i++) {
        int code = s_run(env, COUNTY_BIN, cmds[i], &r);
        if (code == 0 || !strstr(r.err, "allowlist is writable by others (mode 666)")
            || !strstr(r.err, "chmod 640")) {
            fail_msg("%s with a 0666 allowlist: exit %d, '%s'", cmds[i][0], code, r.err);
        }
        h_result_free(&r);
    }
    char *after = h_read_file(allowlist);
    assert_string_equal(before, after); /* nothing written */
    free(before);
    free(after);
    assert_int_equal(chmod(allowlist, 0620), 0);
    assert_int_not_equal(s_run(env, COUNTY_BIN, allow, &r), 0);
    assert_non_null(strstr(r.err, "writable by its group (mode 620)"));
    h_result_free(&r);
    assert_int_equal(chmod(allowlist, 0640), 0);
    assert_int_equal(s_run(env, COUNTY_BIN, revoke, &r), 0);
    h_result_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cli_every_command_has_help, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cli_bad_usage_exits_2, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cli_status_check_bad_usage_unknown, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_cli_allow_before_first_run, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cli_allowlist_mode_refused, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
