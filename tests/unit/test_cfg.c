/* Does every option become a config key of its command's section, with the
 * command line over [COMMAND] over the general section, and does every bad
 * file stop the tool with "FILE:LINE: reason"? */
#include <fcntl.h>
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sj_cfg.h"

/* A small tool shaped like the real ones: main's table for most commands,
 * its own table for serve. */
static const char s_usage[] = "usage: demo COMMAND [options]\n"
                              "\n"
                              "commands:\n"
                              "  stats          counts\n"
                              "  status --check one line\n"
                              "                 (a continuation line)\n"
                              "  serve          the web page\n"
                              "\n"
                              "options:\n"
                              "  --data DIR\n";

enum { O_DATA = 1000, O_FORMAT, O_BY, O_CHECK, O_SILENT, O_CONFIG, O_LOG, O_HTTP };

static const struct option s_main_opts[] = {
    {"data", required_argument, NULL, O_DATA},
    {"format", required_argument, NULL, O_FORMAT},
    {"by", required_argument, NULL, O_BY},
    {"check", no_argument, NULL, O_CHECK},
    {"silent-after", required_argument, NULL, O_SILENT},
    {"config", required_argument, NULL, O_CONFIG},
    {"log-level", required_argument, NULL, O_LOG},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const struct option s_serve_opts[] = {
    {"data", required_argument, NULL, O_DATA},
    {"http", required_argument, NULL, O_HTTP},
    {"config", required_argument, NULL, O_CONFIG},
    {"log-level", required_argument, NULL, O_LOG},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const char *const s_general[] = {"data", "log-level", "silent-after", "http", NULL};
static const sj_cfg_cmd_t s_cmds[] = {{"serve", s_serve_opts}, {NULL, NULL}};
static const sj_cfg_spec_t s_spec = {
    .tool = "demo", .usage = s_usage, .general = s_general, .opts = s_main_opts, .cmds = s_cmds};

static char s_dir[256];
static char s_path[320];

static int
s_setup(void **state)
{
    (void) state;
    snprintf(s_dir, sizeof s_dir, "/tmp/sanji-test-cfg-XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    snprintf(s_path, sizeof s_path, "%s/demo.conf", s_dir);
    return 0;
}

static int
s_teardown(void **state)
{
    (void) state;
    unlink(s_path);
    char out[400];
    for (int fd = 1; fd <= 2; fd++) {
        snprintf(out, sizeof out, "%s/out%d", s_dir, fd);
        unlink(out);
    }
    rmdir(s_dir);
    return 0;
}

static void
s_write(const char *text)
{
    FILE *f = fopen(s_path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* Redirects file descriptor fd (1 or 2) to a file until s_capture_end. */
static int
s_capture_begin(int fd)
{
    fflush(stdout);
    fflush(stderr);
    char out[400];
    snprintf(out, sizeof out, "%s/out%d", s_dir, fd);
    int saved = dup(fd);
    int f = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && f >= 0);
    dup2(f, fd);
    close(f);
    return saved;
}

/* Restores fd and returns what was written to it (caller frees). */
static char *
s_capture_end(int fd, int saved)
{
    fflush(stdout);
    fflush(stderr);
    dup2(saved, fd);
    close(saved);
    char out[400];
    snprintf(out, sizeof out, "%s/out%d", s_dir, fd);
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    char *text = calloc(1, 8192);
    assert_non_null(text);
    size_t n = fread(text, 1, 8191, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* Runs sj_cfg_apply on the NULL-terminated args; returns its answer, the new
 * argv joined by spaces in joined, and stderr in *err (caller frees). */
static int
s_apply(const char **args, char *joined, size_t size, char **err)
{
    static char *argv_store[32];
    int argc = 0;
    for (; args[argc]; argc++) {
        argv_store[argc] = (char *) args[argc];
    }
    argv_store[argc] = NULL;
    char **argv = argv_store;
    int saved = s_capture_begin(2);
    int rc = sj_cfg_apply(&s_spec, &argc, &argv);
    *err = s_capture_end(2, saved);
    joined[0] = '\0';
    for (int i = 0; i < argc; i++) {
        size_t len = strlen(joined);
        snprintf(joined + len, size - len, "%s%s", i ? " " : "", argv[i]);
    }
    assert_null(argv[argc]);
    return rc;
}

/* The last value getopt_long gives option `val` in the (new) argv. */
static const char *
s_getopt_last(char **argv, int argc, const struct option *opts, int val)
{
    const char *last = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == val) {
            last = optarg ? optarg : "(flag)";
        }
    }
    return last;
}

static const char s_file[] = "# the daemon's file\n"   /* 1 */
                             "data = /var/lib/demo\n"  /* 2 */
                             "[demo]\n"                /* 3 */
                             "log-level = info\n"      /* 4 */
                             "[stats]\n"               /* 5 */
                             "format = json\n"         /* 6 */
                             "by = \"channel;kind\"\n" /* 7 */
                             "log-level = debug\n"     /* 8 */
                             "[status]\n"              /* 9 */
                             "check = true\n"          /* 10 */
                             "silent-after = 600\n"    /* 11 */
                             "[serve]\n"               /* 12 */
                             "http = 127.0.0.1:9\n";   /* 13 */

static void
test_cfg_apply_sections(void **state)
{
    (void) state;
    s_write(s_file);
    char joined[1024], *err;
    const char *stats[] = {"demo", "--config", s_path, "stats", NULL};
    assert_int_equal(s_apply(stats, joined, sizeof joined, &err), SJ_CFG_CONTINUE);
    char want[1024];
    /* general first, then [stats]; nothing of [status] or [serve] */
    snprintf(want, sizeof want,
             "demo --data=/var/lib/demo --log-level=info --format=json --by=channel;kind"
             " --log-level=debug --config %s stats",
             s_path);
    assert_string_equal(joined, want);
    assert_string_equal(err, "");
    free(err);
    const char *where = NULL;
    assert_int_equal(sj_cfg_source("format", &where), SJ_CFG_SECTION);
    snprintf(want, sizeof want, "%s:6", s_path);
    assert_string_equal(where, want);
    assert_int_equal(sj_cfg_source("data", &where), SJ_CFG_GENERAL);
    snprintf(want, sizeof want, "%s:2", s_path);
    assert_string_equal(where, want);
    assert_int_equal(sj_cfg_source("log-level", &where), SJ_CFG_SECTION); /* [stats] won */
    snprintf(want, sizeof want, "%s:8", s_path);
    assert_string_equal(where, want);
    assert_int_equal(sj_cfg_source("check", &where), SJ_CFG_UNSET);
    assert_string_equal(where, "");
    assert_string_equal(sj_cfg_path(), s_path);

    const char *status[] = {"demo", "status", "--config", s_path, NULL};
    assert_int_equal(s_apply(status, joined, sizeof joined, &err), SJ_CFG_CONTINUE);
    snprintf(want, sizeof want,
             "demo --data=/var/lib/demo --log-level=info --check --silent-after=600 status"
             " --config %s",
             s_path);
    assert_string_equal(joined, want);
    free(err);

    /* serve has its own table: the general http is its option, [serve]'s
     * http is later and wins; silent-after is general but not serve's. */
    const char *serve[] = {"demo", "serve", "--config", s_path, NULL};
    assert_int_equal(s_apply(serve, joined, sizeof joined, &err), SJ_CFG_CONTINUE);
    snprintf(want, sizeof want,
             "demo --data=/var/lib/demo --log-level=info --http=127.0.0.1:9 serve --config %s",
             s_path);
    assert_string_equal(joined, want);
    free(err);

    /* no --config: argv is left as it is */
    const char *none[] = {"demo", "stats", "--format", "csv", NULL};
    assert_int_equal(s_apply(none, joined, sizeof joined, &err), SJ_CFG_CONTINUE);
    assert_string_equal(joined, "demo stats --format csv");
    assert_null(sj_cfg_path());
    assert_int_equal(sj_cfg_source("format", NULL), SJ_CFG_ARGV);
    free(err);
}

static void
test_cfg_apply_precedence(void **state)
{
    (void) state;
    s_write(s_file);
    static char *argv_store[32];
    /* command line (abbreviated, as getopt_long allows) > [stats] > general */
    const char *args[] = {"demo", "--form", "table", "stats", "--config", s_path, NULL};
    int argc = 0;
    for (; args[argc]; argc++) {
        argv_store[argc] = (char *) args[argc];
    }
    char **argv = argv_store;
    assert_int_equal(sj_cfg_apply(&s_spec, &argc, &argv), SJ_CFG_CONTINUE);
    assert_string_equal(s_getopt_last(argv, argc, s_main_opts, O_FORMAT), "table");
    assert_string_equal(s_getopt_last(argv, argc, s_main_opts, O_LOG), "debug");
    assert_string_equal(s_getopt_last(argv, argc, s_main_opts, O_DATA), "/var/lib/demo");
    assert_int_equal(sj_cfg_source("format", NULL), SJ_CFG_ARGV);
    assert_int_equal(sj_cfg_source("by", NULL), SJ_CFG_SECTION);

    const char *args2[] = {"demo", "stats", "--config", s_path, "--log-level=warn", NULL};
    argc = 0;
    for (; args2[argc]; argc++) {
        argv_store[argc] = (char *) args2[argc];
    }
    argv = argv_store;
    assert_int_equal(sj_cfg_apply(&s_spec, &argc, &argv), SJ_CFG_CONTINUE);
    assert_string_equal(s_getopt_last(argv, argc, s_main_opts, O_LOG), "warn");
    assert_string_equal(s_getopt_last(argv, argc, s_main_opts, O_FORMAT), "json");
    assert_int_equal(sj_cfg_source("log-level", NULL), SJ_CFG_ARGV);

    /* false is "not given" */
    s_write("[status]\ncheck = false\n");
    const char *args3[] = {"demo", "status", "--config", s_path, NULL};
    argc = 0;
    for (; args3[argc]; argc++) {
        argv_store[argc] = (char *) args3[argc];
    }
    argv = argv_store;
    assert_int_equal(sj_cfg_apply(&s_spec, &argc, &argv), SJ_CFG_CONTINUE);
    assert_int_equal(argc, 4);
    assert_null(s_getopt_last(argv, argc, s_main_opts, O_CHECK));
}

static void
s_assert_refused(const char *text, int line, const char *reason)
{
    s_write(text);
    char joined[1024], *err, want[1024];
    const char *args[] = {"demo", "stats", "--config", s_path, NULL};
    assert_int_equal(s_apply(args, joined, sizeof joined, &err), 2);
    snprintf(want, sizeof want, "demo: %s:%d: %s\n", s_path, line, reason);
    assert_string_equal(err, want);
    free(err);
}

static void
test_cfg_apply_errors(void **state)
{
    (void) state;
    s_assert_refused("[stats]\nformat = json\n\n[stast]\nformat = json\n", 4,
                     "unknown section [stast] (use [demo] or [sanji] for general keys, or a"
                     " command's name, e.g. [status])");
    s_assert_refused("[stats]\ncolour = blue\n", 2,
                     "unknown key 'colour' in [stats] (the keys of [stats] are the long options"
                     " of 'demo stats --help')");
    /* a command's option is not a general key, and vice versa per table */
    s_assert_refused("format = json\n", 1,
                     "unknown key 'format' in [demo] (a command's options go in [COMMAND])");
    s_assert_refused("[sanji]\nby = kind\n", 2,
                     "unknown key 'by' in [sanji] (a command's options go in [COMMAND])");
    s_assert_refused("[serve]\nformat = json\n", 2,
                     "unknown key 'format' in [serve] (the keys of [serve] are the long options"
                     " of 'demo serve --help')");
    /* the exceptions: not keys anywhere */
    s_assert_refused("[stats]\nhelp = true\n", 2,
                     "unknown key 'help' in [stats] (the keys of [stats] are the long options"
                     " of 'demo stats --help')");
    s_assert_refused("[stats]\nconfig = /etc/x\n", 2,
                     "unknown key 'config' in [stats] (the keys of [stats] are the long options"
                     " of 'demo stats --help')");
    s_assert_refused("[status]\ncheck = yes\n", 2,
                     "check must be true or false (it is the flag --check)");
    s_assert_refused("data = /a\n[demo]\ndata = /b\n", 3,
                     "key 'data' given twice (first on line 1)");
    s_assert_refused("[stats]\nformat json\n", 2, "expected 'key = value' or [section]");
    /* the same key in the general section and a command's is no repeat */
    s_write("log-level = info\n[stats]\nlog-level = debug\n");
    char joined[1024], *err;
    const char *args[] = {"demo", "stats", "--config", s_path, NULL};
    assert_int_equal(s_apply(args, joined, sizeof joined, &err), SJ_CFG_CONTINUE);
    free(err);
    /* a missing file */
    const char *missing[] = {"demo", "stats", "--config", "/nonexistent/demo.conf", NULL};
    assert_int_equal(s_apply(missing, joined, sizeof joined, &err), 2);
    assert_string_equal(err, "demo: /nonexistent/demo.conf: cannot open config file: No such file"
                             " or directory\n");
    free(err);
}

static void
test_cfg_messages_name_the_line(void **state)
{
    (void) state;
    s_write("[stats]\nformat = jsn\nby = kind\n");
    char joined[1024], *err;
    const char *args[] = {"demo", "stats", "--by", "channel", "--config", s_path, NULL};
    assert_int_equal(s_apply(args, joined, sizeof joined, &err), SJ_CFG_CONTINUE);
    free(err);
    int saved = s_capture_begin(2);
    fprintf(stderr, "demo: --format 'jsn' is not one of table, json, csv\n");
    fprintf(stderr, "demo: --by 'channel' is not a dimension\n"); /* given on the command line */
    fprintf(stderr, "demo: --formats is another option\n");
    fprintf(stderr, "12:00 NOTICE demo --format from a log line\n");
    fprintf(stderr, "demo: no option named\n");
    fprintf(stderr, "demo: a line in two writes, ");
    fprintf(stderr, "--format\n");
    err = s_capture_end(2, saved);
    char want[2048];
    snprintf(want, sizeof want,
             "demo: %s:2: --format 'jsn' is not one of table, json, csv\n"
             "demo: --by 'channel' is not a dimension\n"
             "demo: --formats is another option\n"
             "12:00 NOTICE demo --format from a log line\n"
             "demo: no option named\n"
             "demo: %s:2: a line in two writes, --format\n",
             s_path, s_path);
    assert_string_equal(err, want);
    free(err);
}

static void
test_cfg_help_and_key_table(void **state)
{
    (void) state;
    s_write("[stast]\n x = 1\n");
    char joined[1024], *err;
    /* --help prints the help whatever the file says */
    const char *help[] = {"demo", "stats", "--help", "--config", s_path, NULL};
    assert_int_equal(s_apply(help, joined, sizeof joined, &err), SJ_CFG_CONTINUE);
    free(err);
    char want[1024];
    snprintf(want, sizeof want, "demo stats --help --config %s", s_path);
    assert_string_equal(joined, want);

    const char *keys[] = {"demo", SJ_CFG_PRINT_KEYS, NULL};
    int saved = s_capture_begin(1);
    assert_int_equal(s_apply(keys, joined, sizeof joined, &err), 0);
    char *out = s_capture_end(1, saved);
    free(err);
    assert_string_equal(out,
                        "| section | keys |\n"
                        "| --- | --- |\n"
                        "| `[demo]` or `[sanji]` (general: every command that has the option) |"
                        " `data`, `log-level`, `silent-after`, `http` |\n"
                        "| `[stats]`, `[status]` | `data`, `format`, `by`, `check` (true/false),"
                        " `silent-after`, `log-level` |\n"
                        "| `[serve]` | `data`, `http`, `log-level` |\n");
    free(out);
}

static void
test_cfg_reread(void **state)
{
    (void) state;
    char value[64], err[1400];
    int line = 0;
    s_write("log-level = info\n[stats]\nformat = json\n");
    char joined[1024], *cerr;
    const char *args[] = {"demo", "stats", "--config", s_path, NULL};
    assert_int_equal(s_apply(args, joined, sizeof joined, &cerr), SJ_CFG_CONTINUE);
    free(cerr);
    assert_int_equal(sj_cfg_reread("log-level", value, sizeof value, &line, err, sizeof err),
                     SJ_OK);
    assert_string_equal(value, "info");
    assert_int_equal(line, 1);
    /* the file changed: the command's section wins over the general one */
    s_write("log-level = info\n[stats]\n\nlog-level = debug\n");
    assert_int_equal(sj_cfg_reread("log-level", value, sizeof value, &line, err, sizeof err),
                     SJ_OK);
    assert_string_equal(value, "debug");
    assert_int_equal(line, 4);
    s_write("[stats]\n");
    assert_int_equal(sj_cfg_reread("log-level", value, sizeof value, &line, err, sizeof err),
                     SJ_OK);
    assert_string_equal(value, "");
    assert_int_equal(line, 0);
    s_write("[stats]\nlevel-of-logging = debug\n");
    assert_int_equal(sj_cfg_reread("log-level", value, sizeof value, &line, err, sizeof err),
                     SJ_EINVAL);
    char want[1400];
    snprintf(want, sizeof want, "%s:2: unknown key 'level-of-logging' in [stats]", s_path);
    assert_non_null(strstr(err, want));
    const char *noconf[] = {"demo", "stats", NULL};
    assert_int_equal(s_apply(noconf, joined, sizeof joined, &cerr), SJ_CFG_CONTINUE);
    free(cerr);
    assert_int_equal(sj_cfg_reread("log-level", value, sizeof value, &line, err, sizeof err),
                     SJ_ENOTFOUND);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cfg_apply_sections, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cfg_apply_precedence, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cfg_apply_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cfg_messages_name_the_line, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cfg_help_and_key_table, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cfg_reread, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
