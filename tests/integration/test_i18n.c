/* The three tools speak Chinese (issue 14 item 3): under LANG=zh_CN.UTF-8
 * township-hub and county-server (and village-agent) give their --help, the
 * help of each command, the refusal of a bad enum and the table headers in
 * Chinese; under LANG=C in English. Machine output (--format csv|json)
 * keeps the English names unless --labels zh is asked for. The messages
 * from common/ and the tools follow too: a store that cannot be opened, a
 * bad config key, verify's summary, a backup, an import, an unknown id
 * (test_messages). The catalogue
 * is the build tree's (SANJI_LOCALEDIR), one .mo per tool. */
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

typedef struct {
    h_env_t *env;
    h_node_t *county, *hub, *st;
} s_fx_t;

static int
s_setup(void **state)
{
    s_fx_t *fx = calloc(1, sizeof *fx);
    if (!fx || !(fx->env = h_env_new("i18n"))) {
        free(fx);
        return -1;
    }
    setenv("SANJI_LOCALEDIR", LOCALE_DIR, 1);
    unsetenv("LC_ALL");
    unsetenv("LC_MESSAGES");
    unsetenv("LANGUAGE");
    *state = fx;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fx_t *fx = *state;
    setenv("LANG", "C", 1);
    int rc = h_env_destroy(&fx->env);
    free(fx);
    return rc;
}

/* Runs a hub or county command (args NULL-terminated) under lang; its
 * stdout and stderr in one string (caller frees); the exit code in *code. */
static char *
s_tool(h_node_t *node, const char *lang, const char *cmd, const char *const args[], int *code)
{
    setenv("LANG", lang, 1);
    h_result_t r;
    *code = h_tool(node, cmd, args, &r);
    setenv("LANG", "C", 1);
    size_t n = strlen(r.out) + strlen(r.err) + 2;
    char *all = malloc(n);
    assert_non_null(all);
    snprintf(all, n, "%s\n%s", r.out, r.err);
    h_result_free(&r);
    return all;
}

static char *
s_agent(h_node_t *st, const char *lang, const char *const args[], int *code)
{
    setenv("LANG", lang, 1);
    h_result_t r;
    *code = h_agent(st, args, &r, h_ms(60000));
    setenv("LANG", "C", 1);
    size_t n = strlen(r.out) + strlen(r.err) + 2;
    char *all = malloc(n);
    assert_non_null(all);
    snprintf(all, n, "%s\n%s", r.out, r.err);
    h_result_free(&r);
    return all;
}

#define S_HAS(text, needle)                                               \
    do {                                                                  \
        if (!strstr((text), (needle))) {                                  \
            fprintf(stderr, "# wanted '%s' in:\n%s\n", (needle), (text)); \
        }                                                                 \
        assert_non_null(strstr((text), (needle)));                        \
    } while (0)

/* --help of the tool and of a command, in Chinese and in English. */
static void
test_help(void **state)
{
    s_fx_t *fx = *state;
    h_env_t *env = fx->env;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    int code;
    char *out = s_tool(hub, "zh_CN.UTF-8", "--help", NULL, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "用法：township-hub 命令");
    S_HAS(out, "命令：");
    S_HAS(out, "运行乡镇服务");
    S_HAS(out, "全局选项（每个命令都可用）");
    free(out);
    out = s_tool(hub, "C", "--help", NULL, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "commands:");
    S_HAS(out, "run the hub daemon");
    free(out);
    const char *help[] = {"--help", NULL};
    out = s_tool(hub, "zh_CN.UTF-8", "assign", help, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "用法：township-hub assign");
    S_HAS(out, "全局选项：");
    free(out);
    out = s_tool(county, "zh_CN.UTF-8", "cases", help, &code); /* its own parser */
    assert_int_equal(code, 0);
    S_HAS(out, "用法：county-server cases");
    S_HAS(out, "只看超期的");
    free(out);
    out = s_tool(county, "C", "cases", help, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "usage: county-server cases");
    assert_null(strstr(out, "用法"));
    free(out);
    out = s_tool(county, "zh_CN.UTF-8", "stats", help, &code); /* with the pasted filters */
    assert_int_equal(code, 0);
    S_HAS(out, "统计事项件数");
    S_HAS(out, "发生日期不早于");
    free(out);
    out = s_tool(county, "zh_CN.UTF-8", "--help", NULL, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "县服务器");
    free(out);
    /* the station: every command's help, not only submit's */
    h_node_t *st = h_station(env, ST_A, hub);
    const char *agent_help[] = {"inbox", "--help", NULL};
    out = s_agent(st, "zh_CN.UTF-8", agent_help, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "用法：village-agent inbox");
    free(out);
    /* a usage mistake, in Chinese */
    out = s_tool(county, "zh_CN.UTF-8", "nosuch", NULL, &code);
    assert_int_equal(code, 2);
    S_HAS(out, "没有命令 'nosuch'");
    free(out);
}

/* A matter through the tree; bad enums and table headers at each tool. */
static void
test_enums_and_tables(void **state)
{
    s_fx_t *fx = *state;
    h_env_t *env = fx->env;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, ST_A, hub);
    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);
    int code;
    const char *submit[] = {"submit",  "--channel",  "来访", "--level", "到县", "--summary",
                            "i18n-zh", "--category", "土地", "--wait",  "0",    NULL};
    char *out = s_agent(st, "zh_CN.UTF-8", submit, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "已保存为本站");
    free(out);
    const char *sync[] = {"sync", "--timeout", "60", "--until-county", NULL};
    out = s_agent(st, "C", sync, &code);
    assert_int_equal(code, 0);
    free(out);

    /* a bad enum: Chinese with the Chinese labels; English under C */
    const char *bad_hub[] = {"--category", "走访", NULL};
    out = s_tool(hub, "zh_CN.UTF-8", "list", bad_hub, &code);
    assert_int_equal(code, 2);
    S_HAS(out, "没有 '走访'");
    S_HAS(out, "土地 (land)");
    free(out);
    out = s_tool(hub, "C", "list", bad_hub, &code);
    assert_int_equal(code, 2);
    S_HAS(out, "unknown '走访' (use land,");
    free(out);
    const char *bad_county[] = {"--channel", "走访", NULL};
    out = s_tool(county, "zh_CN.UTF-8", "list", bad_county, &code);
    assert_int_equal(code, 2);
    S_HAS(out, "不是以下之一");
    S_HAS(out, "来访 (visit)");
    free(out);
    out = s_tool(county, "C", "list", bad_county, &code);
    assert_int_equal(code, 2);
    S_HAS(out, "is not one of visit, letter");
    free(out);
    const char *bad_update[] = {"00000000-0000-7000-8000-000000000000", "--outcome", "结了", NULL};
    out = s_tool(hub, "zh_CN.UTF-8", "update", bad_update, &code);
    assert_int_equal(code, 2);
    S_HAS(out, "缺少 --outcome");
    S_HAS(out, "办结 (closed)");
    free(out);
    const char *bad_agent[] = {"submit",    "--channel", "走访",   "--level", "到县",
                               "--summary", "x",         "--wait", "0",       NULL};
    out = s_agent(st, "zh_CN.UTF-8", bad_agent, &code);
    assert_int_equal(code, 2);
    S_HAS(out, "不是以下之一");
    free(out);
    /* the report's own checks (the ones a hub also sends back as reasons,
     * in English there) speak the person's language at the tool */
    const char *letter3[] = {"submit", "--channel", "来信", "--level", "到县", "--persons",
                             "3",      "--summary", "x",    "--wait",  "0",    NULL};
    out = s_agent(st, "zh_CN.UTF-8", letter3, &code);
    assert_int_equal(code, 2);
    S_HAS(out, "persons（人数）：letter 是一件、一人，不是 3");
    free(out);
    out = s_agent(st, "C", letter3, &code);
    assert_int_equal(code, 2);
    S_HAS(out, "persons: a letter is one item and one person, not 3");
    free(out);
    /* the Chinese labels are taken as the names */
    const char *by_label[] = {"--channel", "来访", "--level", "到县", NULL};
    out = s_tool(county, "C", "list", by_label, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "i18n-zh");
    free(out);

    /* table headers */
    const char *by[] = {"--by", "channel", NULL};
    out = s_tool(county, "zh_CN.UTF-8", "stats", by, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "渠道");
    S_HAS(out, "件数");
    S_HAS(out, "来访"); /* an enum cell, as its label */
    free(out);
    out = s_tool(county, "C", "stats", by, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "channel");
    S_HAS(out, "items");
    S_HAS(out, "visit");
    assert_null(strstr(out, "件数"));
    free(out);
    out = s_tool(hub, "zh_CN.UTF-8", "cases", NULL, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "案件编号");
    S_HAS(out, "最后变更");
    free(out);
    out = s_tool(hub, "zh_CN.UTF-8", "status", NULL, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "最后联系");
    free(out);
    out = s_tool(county, "zh_CN.UTF-8", "status", NULL, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "最后联系");
    free(out);
    /* machine output keeps the names, unless --labels zh */
    const char *csv[] = {"--by", "channel", "--format", "csv", NULL};
    out = s_tool(county, "zh_CN.UTF-8", "stats", csv, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "channel,items,persons");
    S_HAS(out, "visit,1,1");
    free(out);
    const char *csv_zh[] = {"--by", "channel", "--format", "csv", "--labels", "zh", NULL};
    out = s_tool(county, "C", "stats", csv_zh, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "渠道,件数");
    S_HAS(out, "来访,1,1");
    free(out);
    const char *json[] = {"--format", "json", NULL};
    out = s_tool(hub, "zh_CN.UTF-8", "cases", json, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "\"case_id\"");
    assert_null(strstr(out, "案件编号"));
    free(out);
}

/* The messages that come up from common/ and the tools, not only help and
 * headers (issue 14 item 3): a store that cannot be opened, a bad config
 * key, verify's summary, a backup's result, an import's count, an unknown
 * report or matter id (station, hub, county); Chinese under zh_CN.UTF-8, English under C. */
static void
test_messages(void **state)
{
    s_fx_t *fx = *state;
    h_env_t *env = fx->env;
    h_node_t *county = h_county(env);
    h_node_t *hub = h_hub(env, T100, county);
    h_node_t *st = h_station(env, ST_A, hub);
    int code;

    /* a store that cannot be opened: the hub has never run */
    char *out = s_tool(hub, "zh_CN.UTF-8", "cases", NULL, &code);
    assert_int_equal(code, 1);
    S_HAS(out, "没有数据库（--data 写错了，或从未启动过？）");
    free(out);
    out = s_tool(hub, "C", "cases", NULL, &code);
    assert_int_equal(code, 1);
    S_HAS(out, "no database at");
    S_HAS(out, "(wrong --data, or never started?)");
    free(out);

    /* a bad config key */
    char conf[1024];
    snprintf(conf, sizeof conf, "%s/bad.conf", h_env_dir(env));
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fputs("[list]\nnosuch = 1\n", f);
    assert_int_equal(fclose(f), 0);
    const char *bad_conf[] = {"--config", conf, NULL};
    out = s_tool(county, "zh_CN.UTF-8", "list", bad_conf, &code);
    assert_int_equal(code, 2);
    S_HAS(out, "bad.conf:2: [list] 中没有配置项 'nosuch'");
    free(out);
    out = s_tool(county, "C", "list", bad_conf, &code);
    assert_int_equal(code, 2);
    S_HAS(out, "bad.conf:2: unknown key 'nosuch' in [list]");
    free(out);

    assert_int_equal(h_start_county(county), 0);
    assert_int_equal(h_start_hub(hub), 0);

    /* verify's summary */
    out = s_tool(county, "zh_CN.UTF-8", "verify", NULL, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "核验通过：0 个问题");
    free(out);
    out = s_tool(county, "C", "verify", NULL, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "verified: 0 problems");
    free(out);

    /* a backup's result */
    char dest[1024];
    snprintf(dest, sizeof dest, "%s/county-zh.db", h_env_dir(env));
    const char *backup[] = {dest, NULL};
    out = s_tool(county, "zh_CN.UTF-8", "backup", backup, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "备份到");
    S_HAS(out, "完整性检查通过");
    free(out);
    snprintf(dest, sizeof dest, "%s/county-en.db", h_env_dir(env));
    out = s_tool(county, "C", "backup", backup, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "integrity check ok");
    free(out);

    /* an import's count, in each language */
    char jsonl[1024];
    snprintf(jsonl, sizeof jsonl, "%s/one.jsonl", h_env_dir(env));
    assert_int_equal(h_write_jsonl(jsonl, 1, 7, "i18n-msg"), 0);
    const char *import[] = {"import", jsonl, "--wait", "0", NULL};
    out = s_agent(st, "zh_CN.UTF-8", import, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "已导入 1 条记录");
    S_HAS(out, "已存入待发送队列；稍后用 'village-agent sync' 发送");
    free(out);
    out = s_agent(st, "C", import, &code);
    assert_int_equal(code, 0);
    S_HAS(out, "imported 1 report");
    assert_null(strstr(out, "已导入"));
    free(out);

    /* a bad line of an import: the reason and the summary */
    snprintf(jsonl, sizeof jsonl, "%s/bad.jsonl", h_env_dir(env));
    f = fopen(jsonl, "w");
    assert_non_null(f);
    fputs("{\"channel\": \"visit\"\n", f);
    assert_int_equal(fclose(f), 0);
    out = s_agent(st, "zh_CN.UTF-8", import, &code);
    assert_int_not_equal(code, 0);
    S_HAS(out, "bad.jsonl:1: 无效的 JSON");
    S_HAS(out, "什么也没有导入");
    free(out);
    out = s_agent(st, "C", import, &code);
    assert_int_not_equal(code, 0);
    S_HAS(out, "bad.jsonl:1: invalid JSON");
    S_HAS(out, "nothing was imported");
    free(out);

    /* an unknown id at the station and at the hub */
    const char *nosuch = "00000000-0000-7000-8000-000000000000";
    const char *correct[] = {"correct", nosuch,   "--summary", "x", "--reason",
                             "typo",    "--wait", "0",         NULL};
    out = s_agent(st, "zh_CN.UTF-8", correct, &code);
    assert_int_not_equal(code, 0);
    S_HAS(out, "本站的发送队列和交办列表里都没有记录");
    free(out);
    out = s_agent(st, "C", correct, &code);
    assert_int_not_equal(code, 0);
    S_HAS(out, "in this station's outbox or inbox");
    free(out);
    const char *show[] = {nosuch, NULL};
    out = s_tool(hub, "zh_CN.UTF-8", "show", show, &code);
    assert_int_not_equal(code, 0);
    S_HAS(out, "这里没有编号为");
    free(out);
    out = s_tool(hub, "C", "show", show, &code);
    assert_int_not_equal(code, 0);
    S_HAS(out, "no matter with id");
    free(out);
    out = s_tool(county, "zh_CN.UTF-8", "show", show, &code);
    assert_int_not_equal(code, 0);
    S_HAS(out, "没有编号为 00000000-0000-7000-8000-000000000000 的事项");
    free(out);
    out = s_tool(county, "C", "show", show, &code);
    assert_int_not_equal(code, 0);
    S_HAS(out, "no matter with id 00000000-0000-7000-8000-000000000000");
    free(out);
    const char *update[] = {nosuch, "--outcome", "closed", NULL};
    out = s_tool(county, "zh_CN.UTF-8", "update", update, &code);
    assert_int_not_equal(code, 0);
    S_HAS(out, "没有案件 00000000-0000-7000-8000-000000000000（在县里）");
    free(out);
    out = s_tool(county, "C", "update", update, &code);
    assert_int_not_equal(code, 0);
    S_HAS(out, "no case 00000000-0000-7000-8000-000000000000 at the county");
    free(out);
    out = s_tool(hub, "zh_CN.UTF-8", "update", update, &code);
    assert_int_not_equal(code, 0);
    S_HAS(out, "（在乡镇 " T100 "）");
    free(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_help, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_enums_and_tables, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_messages, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
