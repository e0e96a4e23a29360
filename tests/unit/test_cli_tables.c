/* Does sj_cli answer every mistake as it promises (unknown command, an option of another
 * command, a missing value, extra arguments: 2; --help: 0 without running), are its value
 * checks right (endpoints with their hint, keys, codes, dates, numbers), and do the three
 * tools' tables agree with their help: does every command's --help name it and list exactly
 * the options it takes? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent_cli.h"
#include "county_cli.h"
#include "hub_cli.h"
#include "sj_cli.h"
#include "sj_log.h"

/* ---- a small tool to drive sj_cli_main ---- */

enum { T_DATA = 300, T_CONFIG, T_LOG, T_NAME, T_LOUD, T_DATE, T_COUNT };

static const struct option s_t_opts[] = {
    {"data", required_argument, NULL, T_DATA},     {"config", required_argument, NULL, T_CONFIG},
    {"log-level", required_argument, NULL, T_LOG}, {"name", required_argument, NULL, T_NAME},
    {"loud", no_argument, NULL, T_LOUD},           {"date", required_argument, NULL, T_DATE},
    {"count", required_argument, NULL, T_COUNT},   {NULL, 0, NULL, 0},
};

static struct {
    int runs;
    const char *name, *pos0, *data;
    int loud, npos;
} s_got;

static int
s_t_run(const sj_cli_args_t *a)
{
    s_got.runs++;
    s_got.name = sj_cli_val(a, T_NAME);
    s_got.loud = sj_cli_has(a, T_LOUD);
    s_got.npos = a->npos;
    s_got.pos0 = a->npos > 0 ? a->pos[0] : NULL;
    s_got.data = a->data;
    long long n = 0;
    if (sj_cli_date(a, T_DATE) || sj_cli_int(a, T_COUNT, 1, 9, &n)) {
        return 2;
    }
    return 0;
}

static const sj_cli_cmd_t s_t_cmds[] = {
    {"greet", "WHO", 1, 1, (const int[]){T_NAME, T_LOUD, T_DATE, T_COUNT, 0}, "greet WHO",
     "usage: tool greet WHO [--name N] [--loud]\n", s_t_run, NULL, NULL, NULL},
    {"quiet", NULL, 0, 0, NULL, "say nothing", "usage: tool quiet\n", s_t_run, NULL, NULL, NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static const char *const s_t_general[] = {"data", NULL};

static const sj_cli_tool_t s_t_tool = {
    .tool = "tool",
    .about = "usage: tool COMMAND\n",
    .footer = "",
    .global_help = "global options: --data DIR\n",
    .data_default = "./var/tool",
    .opts = s_t_opts,
    .global = (const int[]){T_DATA, T_CONFIG, T_LOG, 0},
    .data_id = T_DATA,
    .log_level_id = T_LOG,
    .general = s_t_general,
    .cmds = s_t_cmds,
};

/* Runs the tool with the words of line (space-separated). */
static int
s_main(const char *line)
{
    static char buf[512];
    char *argv[32] = {"tool"};
    int argc = 1;
    snprintf(buf, sizeof buf, "%s", line);
    for (char *save = NULL, *w = strtok_r(buf, " ", &save); w && argc < 31;
         w = strtok_r(NULL, " ", &save)) {
        argv[argc++] = w;
    }
    argv[argc] = NULL;
    memset(&s_got, 0, sizeof s_got);
    return sj_cli_main(&s_t_tool, argc, argv);
}

static void
test_cli_tables_parse(void **state)
{
    (void) state;
    sj_log_set_level(SJ_LOG_ERROR);
    /* good: options anywhere, the argument, the data default */
    assert_int_equal(s_main("--loud greet --name ann bob"), 0);
    assert_int_equal(s_got.runs, 1);
    assert_string_equal(s_got.name, "ann");
    assert_string_equal(s_got.pos0, "bob");
    assert_true(s_got.loud);
    assert_string_equal(s_got.data, "./var/tool");
    assert_int_equal(s_main("greet --data=/x -- --bob"), 0);
    assert_string_equal(s_got.pos0, "--bob");
    assert_string_equal(s_got.data, "/x");
    /* help: 0, nothing runs */
    assert_int_equal(s_main("greet --help"), 0);
    assert_int_equal(s_main("--help"), 0);
    assert_int_equal(s_got.runs, 0);
    /* every mistake: 2, nothing runs */
    assert_int_equal(s_main(""), 2);
    assert_int_equal(s_main("shout bob"), 2);
    assert_int_equal(s_main("shout --help"), 2);
    assert_int_equal(s_main("quiet --name ann"), 2); /* another command's option */
    assert_int_equal(s_main("greet bob --nosuch"), 2);
    assert_int_equal(s_main("greet bob --name"), 2); /* no value */
    assert_int_equal(s_main("greet"), 2);            /* no argument */
    assert_int_equal(s_main("greet bob eve"), 2);    /* one too many */
    assert_int_equal(s_main("quiet now"), 2);
    assert_int_equal(s_main("quiet --log-level loud"), 2);
    assert_int_equal(s_got.runs, 0);
    /* a bad value found by the command itself */
    assert_int_equal(s_main("greet bob --date 2024-02-30"), 2);
    assert_int_equal(s_main("greet bob --count 10"), 2);
    assert_int_equal(s_main("greet bob --count 9 --date 2024-02-29"), 0);
}

static void
test_cli_tables_endpoints(void **state)
{
    (void) state;
    char err[600];
    static const char *const good_bind[] = {"tcp://0.0.0.0:7600",
                                            "tcp://*:7600",
                                            "tcp://127.0.0.1:*",
                                            "tcp://[::1]:7600",
                                            "ipc:///run/sanji/hub",
                                            "inproc://x",
                                            NULL};
    for (int i = 0; good_bind[i]; i++) {
        assert_int_equal(sj_cli_endpoint_check(good_bind[i], 1, err, sizeof err), SJ_OK);
    }
    assert_int_equal(sj_cli_endpoint_check("tcp://county.example:7600", 0, err, sizeof err), SJ_OK);
    static const struct {
        const char *text;
        int bind;
        const char *says;
    } bad[] = {
        {"0.0.0.0:7600", 1, "did you mean tcp://0.0.0.0:7600?"},
        {":7600", 1, "did you mean tcp://0.0.0.0:7600?"},
        {"tcp://:7600", 1, "did you mean tcp://0.0.0.0:7600?"},
        {":7600", 0, "did you mean tcp://127.0.0.1:7600?"},
        {"hub.example:7601", 0, "did you mean tcp://hub.example:7601?"},
        {"tcp://127.0.0.1:*", 0, "is not an endpoint like"}, /* no wildcard port to connect */
        {"7600", 1, "is not an endpoint like tcp://0.0.0.0:7600"},
        {"tcp://127.0.0.1", 1, "is not an endpoint like"},
        {"tcp://127.0.0.1:99999", 1, "is not an endpoint like"},
        {"http://127.0.0.1:7600", 1, "is not an endpoint sanji speaks"},
        {"ipc://", 1, "names no path"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(sj_cli_endpoint_check(bad[i].text, bad[i].bind, err, sizeof err),
                         SJ_EINVAL);
        if (!strstr(err, bad[i].says)) {
            fail_msg("'%s': '%s' does not say '%s'", bad[i].text, err, bad[i].says);
        }
    }
}

/* ---- the three tools' tables ---- */

/* 1 when the command's table (global or own options) has the option named. */
static int
s_takes(const sj_cli_tool_t *tool, const sj_cli_cmd_t *c, const char *name)
{
    if (strcmp(name, "help") == 0) {
        return 1;
    }
    for (int k = 0; k < 2; k++) {
        const int *ids = k == 0 ? tool->global : c->opts;
        for (size_t i = 0; ids && ids[i]; i++) {
            for (const struct option *o = tool->opts; o->name; o++) {
                if (o->val == ids[i] && strcmp(o->name, name) == 0) {
                    return 1;
                }
            }
        }
    }
    return 0;
}

static void
s_check_tool(const sj_cli_tool_t *tool)
{
    size_t n = 0;
    for (const sj_cli_cmd_t *c = tool->cmds; c->name; c++, n++) {
        assert_true(n < SJ_CLI_MAX_CMDS);
        assert_non_null(c->summary);
        for (const sj_cli_cmd_t *d = c + 1; d->name; d++) {
            assert_string_not_equal(c->name, d->name);
        }
        if (c->own_main) {
            assert_non_null(c->own_opts);
            continue;
        }
        assert_non_null(c->run);
        assert_true(c->min_args <= c->max_args);
        assert_true(c->max_args == 0 || c->args);
        /* its help names it */
        char usage[64];
        snprintf(usage, sizeof usage, "usage: %s %s", tool->tool, c->name);
        if (strncmp(c->help, usage, strlen(usage)) != 0) {
            fail_msg("%s %s --help does not start with '%s'", tool->tool, c->name, usage);
        }
        /* every option it takes is in its help (the global ones in the global line) */
        for (size_t i = 0; c->opts && c->opts[i]; i++) {
            const struct option *o = tool->opts;
            while (o->name && o->val != c->opts[i]) {
                o++;
            }
            if (!o->name) {
                fail_msg("%s %s takes option id %d, which the tool does not have", tool->tool,
                         c->name, c->opts[i]);
            }
            char flag[64];
            snprintf(flag, sizeof flag, "--%s", o->name);
            if (!strstr(c->help, flag)) {
                fail_msg("%s %s --help does not mention %s", tool->tool, c->name, flag);
            }
        }
        /* and the lines that describe options describe only options it takes */
        for (const char *line = c->help; line && *line;) {
            const char *eol = strchr(line, '\n');
            size_t len = eol ? (size_t) (eol - line) : strlen(line);
            size_t lead = strspn(line, " ");
            if (lead > 0 && lead < len && line[lead] == '-' && line[lead + 1] == '-') {
                for (const char *p = line; (p = strstr(p, "--")) && p < line + len; p += 2) {
                    char name[48];
                    size_t k = 0;
                    while (k + 1 < sizeof name
                           && ((p[2 + k] >= 'a' && p[2 + k] <= 'z') || p[2 + k] == '-')) {
                        name[k] = p[2 + k];
                        k++;
                    }
                    name[k] = '\0';
                    if (k && !s_takes(tool, c, name)) {
                        fail_msg("%s %s --help describes --%s, which it does not take", tool->tool,
                                 c->name, name);
                    }
                }
            }
            line = eol ? eol + 1 : NULL;
        }
    }
    /* every global option is in the line every command's help ends with */
    for (size_t i = 0; tool->global[i]; i++) {
        for (const struct option *o = tool->opts; o->name; o++) {
            char flag[64];
            snprintf(flag, sizeof flag, "--%s", o->name);
            if (o->val == tool->global[i] && !strstr(tool->global_help, flag)) {
                fail_msg("%s: the global line lacks %s", tool->tool, flag);
            }
        }
    }
}

static void
test_cli_tables_agree_with_help(void **state)
{
    (void) state;
    s_check_tool(&hub_cli_tool);
    s_check_tool(&county_cli_tool);
    s_check_tool(&agent_cli_tool);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_tables_parse),
        cmocka_unit_test(test_cli_tables_endpoints),
        cmocka_unit_test(test_cli_tables_agree_with_help),
    };
    return cmocka_run_group_tests_name("cli_tables", tests, NULL, NULL);
}
