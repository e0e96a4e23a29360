/* sj_cli: see sj_cli.h.
 *
 * Flow of sj_cli_main: s_build (each command's getopt_long table, the
 * sj_cfg spec) -> sj_cfg_apply (the config file's keys become options) ->
 * the command word (sj_cli_command) -> help, or s_parse (options and
 * arguments of the command) -> sj_cli_start -> cmd->run. */
#include "sj_cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sj_cfg.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_keys.h"
#include "sj_log.h"
#include "sj_model.h"
#include "sj_node.h"
#include "sj_update.h"

#define S_HELP_ID  'h'
#define S_NAME_COL 20 /* where a command's summary starts in the tool's help */

/* The tables built for the one tool of this process. */
static struct {
    struct option tables[SJ_CLI_MAX_CMDS][SJ_CLI_MAX_OPTS + 2]; /* + help, end */
    sj_cfg_cmd_t cfg_cmds[SJ_CLI_MAX_CMDS + 1];
    const struct option *table_of[SJ_CLI_MAX_CMDS]; /* by command; shared when equal */
    const char *flags[SJ_CLI_MAX_OPTS + 2];         /* options without a value */
    sj_cfg_spec_t spec;
} s_st;

/* ---- the tables ---- */

static int
s_index(const sj_cli_tool_t *tool, int id)
{
    for (int i = 0; tool->opts[i].name; i++) {
        if (tool->opts[i].val == id) {
            return i;
        }
    }
    return -1;
}

static const char *
s_name(const sj_cli_tool_t *tool, int id)
{
    int i = s_index(tool, id);
    return i >= 0 ? tool->opts[i].name : "?";
}

/* Appends the options of ids (0-terminated) to t, skipping those already
 * there. */
static void
s_add(const sj_cli_tool_t *tool, struct option *t, size_t *n, const int *ids)
{
    for (size_t k = 0; ids && ids[k]; k++) {
        int i = s_index(tool, ids[k]);
        int dup = 0;
        for (size_t j = 0; j < *n; j++) {
            dup = dup || t[j].val == ids[k];
        }
        if (i >= 0 && !dup && *n < SJ_CLI_MAX_OPTS) {
            t[(*n)++] = tool->opts[i];
        }
    }
}

static int
s_same_table(const struct option *a, const struct option *b)
{
    for (; a->name && b->name; a++, b++) {
        if (a->val != b->val) {
            return 0;
        }
    }
    return !a->name && !b->name;
}

/* Each command's table: the global options, its own, help. Commands with
 * the same options share one table, so that the config key table has one
 * row for them (sj_cfg_write_keys groups by table). */
static void
s_build(const sj_cli_tool_t *tool)
{
    memset(&s_st, 0, sizeof s_st);
    /* The tables are sized for SJ_CLI_MAX_CMDS commands and SJ_CLI_MAX_OPTS
     * options: a tool with more is a build mistake, stopped here before a
     * command could read a table that was never built. */
    size_t ncmds = 0, nopts = 0;
    while (tool->cmds[ncmds].name) {
        ncmds++;
    }
    while (tool->opts[nopts].name) {
        nopts++;
    }
    if (ncmds > SJ_CLI_MAX_CMDS || nopts > SJ_CLI_MAX_OPTS) {
        fprintf(stderr, "%s: internal error: %zu commands and %zu options, at most %d and %d\n",
                tool->tool, ncmds, nopts, SJ_CLI_MAX_CMDS, SJ_CLI_MAX_OPTS);
        abort();
    }
    size_t nc = 0;
    for (const sj_cli_cmd_t *c = tool->cmds; c->name && nc < SJ_CLI_MAX_CMDS; c++, nc++) {
        const struct option *table = c->own_opts;
        if (!table) {
            struct option *t = s_st.tables[nc];
            size_t n = 0;
            s_add(tool, t, &n, tool->global);
            s_add(tool, t, &n, c->opts);
            t[n++] = (struct option){"help", no_argument, NULL, S_HELP_ID};
            table = t;
            for (size_t k = 0; k < nc; k++) {
                if (!tool->cmds[k].own_opts && s_same_table(s_st.table_of[k], t)) {
                    table = s_st.table_of[k];
                    break;
                }
            }
        }
        s_st.table_of[nc] = table;
        s_st.cfg_cmds[nc] = (sj_cfg_cmd_t){c->name, table};
    }
    size_t nf = 0;
    for (int i = 0; tool->opts[i].name && nf < SJ_CLI_MAX_OPTS; i++) {
        if (tool->opts[i].has_arg == no_argument) {
            s_st.flags[nf++] = tool->opts[i].name;
        }
    }
    s_st.flags[nf] = "help";
    s_st.spec = (sj_cfg_spec_t){.tool = tool->tool,
                                .usage = NULL,
                                .general = tool->general,
                                .opts = tool->opts,
                                .cmds = s_st.cfg_cmds};
}

static const sj_cli_cmd_t *
s_cmd_find(const sj_cli_tool_t *tool, const char *name, size_t *index)
{
    size_t i = 0;
    for (const sj_cli_cmd_t *c = tool->cmds; c->name; c++, i++) {
        if (strcmp(c->name, name) == 0) {
            *index = i;
            return c;
        }
    }
    return NULL;
}

/* ---- help ---- */

/* Writes text with every line after the first indented to col. */
static void
s_indented(const char *text, int col, FILE *out)
{
    for (const char *p = text; *p; p++) {
        fputc(*p, out);
        if (*p == '\n' && p[1]) {
            fprintf(out, "%*s", col, "");
        }
    }
}

static void
s_tool_help(const sj_cli_tool_t *tool, FILE *out)
{
    fputs(_(tool->about), out);
    fputs(_("\ncommands:\n"), out);
    for (const sj_cli_cmd_t *c = tool->cmds; c->name; c++) {
        char head[64];
        snprintf(head, sizeof head, "  %s%s%s", c->name, c->args ? " " : "",
                 c->args ? c->args : "");
        if ((int) strlen(head) >= S_NAME_COL) {
            fprintf(out, "%s\n%*s", head, S_NAME_COL, "");
        } else {
            fprintf(out, "%-*s", S_NAME_COL, head);
        }
        s_indented(_(c->summary), S_NAME_COL, out);
        fputc('\n', out);
    }
    fprintf(out, _("\nEvery command has its own help: %s COMMAND --help.\n"), tool->tool);
    fputs(_(tool->footer), out);
}

static void
s_cmd_help(const sj_cli_tool_t *tool, const sj_cli_cmd_t *c, FILE *out)
{
    fputs(_(c->help), out);
    fprintf(out, "\n%s", _(tool->global_help));
    fprintf(out, _("In the --config file these options are keys of [%s] (flags win).\n"), c->name);
}

/* ---- parsing ---- */

/* The exit status of bad usage of c (after the message was written). */
static int
s_bad(const sj_cli_args_t *a)
{
    return a->cmd && a->cmd->bad_usage ? a->cmd->bad_usage(a) : 2;
}

/* What getopt_long refused: an option of another command, an unknown or
 * ambiguous one, or one without its value. */
static int
s_refused(const sj_cli_args_t *a, int c, const char *arg)
{
    const char *tool = a->tool->tool, *cmd = a->cmd->name;
    char name[64];
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t) (eq - arg) : strlen(arg);
    snprintf(name, sizeof name, "%.*s", (int) (len < sizeof name ? len : sizeof name - 1), arg);
    if (c == ':') {
        fprintf(stderr, _("%s: %s needs a value (see %s %s --help)\n"), tool, name, tool, cmd);
        return s_bad(a);
    }
    int known = 0;
    if (strncmp(name, "--", 2) == 0) {
        for (int i = 0; a->tool->opts[i].name; i++) {
            known = known || strcmp(a->tool->opts[i].name, name + 2) == 0;
        }
    }
    if (known) {
        fprintf(stderr, _("%s: %s does not take %s (see %s %s --help)\n"), tool, cmd, name, tool,
                cmd);
    } else {
        fprintf(stderr, _("%s: unknown or ambiguous option '%s' for %s (see %s %s --help)\n"), tool,
                name, cmd, tool, cmd);
    }
    return s_bad(a);
}

/* 1 when argv asks for help (-h or --help) before any "--". */
static int
s_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            return 1;
        }
    }
    return 0;
}

static int
s_parse(sj_cli_args_t *a, const struct option *table, int argc, char **argv)
{
    const sj_cli_tool_t *tool = a->tool;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", table, NULL)) != -1) {
        if (c == '?' || c == ':') {
            return s_refused(a, c, argv[optind - 1]);
        }
        int i = s_index(tool, c);
        if (i >= 0) {
            a->val[i] = optarg ? optarg : "";
        }
    }
    /* the command word, then its arguments (getopt_long moved the options
     * before them) */
    a->pos = argv + optind + 1;
    a->npos = argc - optind - 1;
    const sj_cli_cmd_t *cmd = a->cmd;
    if (a->npos < cmd->min_args || a->npos > cmd->max_args) {
        if (a->npos > cmd->max_args && cmd->max_args == 0) {
            fprintf(stderr,
                    _("%s: %s takes no argument; '%s' is one too many (see %s %s --help)\n"),
                    tool->tool, cmd->name, a->pos[0], tool->tool, cmd->name);
        } else if (a->npos > cmd->max_args) {
            fprintf(stderr, _("%s: %s takes %s; '%s' is one too many (see %s %s --help)\n"),
                    tool->tool, cmd->name, cmd->args, a->pos[cmd->max_args], tool->tool, cmd->name);
        } else {
            fprintf(stderr, _("%s: %s needs %s (usage: %s %s %s)\n"), tool->tool, cmd->name,
                    cmd->args, tool->tool, cmd->name, cmd->args);
        }
        return s_bad(a);
    }
    a->data = sj_cli_val(a, tool->data_id);
    if (!a->data) {
        a->data = tool->data_default;
    }
    return 0;
}

/* Is word one of the space-separated words of list (NULL: none)? */
static int
s_word_in(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, " ");
        if (len == n && strncmp(p, word, n) == 0) {
            return 1;
        }
        p += len + (p[len] == ' ');
    }
    return 0;
}

int
sj_cli_main(const sj_cli_tool_t *tool, int argc, char **argv)
{
    s_build(tool);
    int applied = sj_cfg_apply(&s_st.spec, &argc, &argv); /* the file's keys become options */
    if (applied != SJ_CFG_CONTINUE) {
        return applied;
    }
    int ci = sj_cli_command(argc, argv, s_st.flags);
    if (ci == 0) {
        int help = s_wants_help(argc, argv);
        s_tool_help(tool, help ? stdout : stderr);
        return help ? 0 : 2;
    }
    size_t index = 0;
    const sj_cli_cmd_t *cmd = s_cmd_find(tool, argv[ci], &index);
    if (!cmd) {
        fprintf(stderr, _("%s: unknown command '%s'; the commands are:"), tool->tool, argv[ci]);
        for (const sj_cli_cmd_t *c = tool->cmds; c->name; c++) {
            fprintf(stderr, "%s %s", c == tool->cmds ? "" : ",", c->name);
        }
        fprintf(stderr, _(" (see %s --help)\n"), tool->tool);
        return 2;
    }
    char today_err[160];
    if (sj_today_check(today_err, sizeof today_err) != SJ_OK) {
        fprintf(stderr, "%s: %s\n", tool->tool, today_err);
        return 2;
    }
    if (s_word_in(tool->engine_cmds, cmd->name)) {
        sj_node_signals_early(strcmp(cmd->name, "run") == 0);
    } else {
        sigset_t set; /* a starter may have blocked them (sj_node.h) */
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGHUP);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
    }
    if (cmd->own_main) {
        return cmd->own_main(argc, argv);
    }
    if (s_wants_help(argc, argv)) {
        s_cmd_help(tool, cmd, stdout);
        return 0;
    }
    sj_cli_args_t *a = calloc(1, sizeof *a);
    if (!a) {
        fprintf(stderr, _("%s: out of memory\n"), tool->tool);
        return 1;
    }
    a->tool = tool;
    a->cmd = cmd;
    int rc = s_parse(a, s_st.table_of[index], argc, argv);
    if (rc == 0) {
        rc = sj_cli_start(tool->tool, sj_cli_val(a, tool->log_level_id));
        rc = rc == 2 ? s_bad(a) : rc;
    }
    if (rc == 0) {
        rc = cmd->run(a); /* its own bad usage answered by itself (status --check: 2 is CRITICAL) */
    }
    free(a);
    return rc;
}

/* ---- values ---- */

const char *
sj_cli_val(const sj_cli_args_t *a, int id)
{
    int i = s_index(a->tool, id);
    return i >= 0 ? a->val[i] : NULL;
}

int
sj_cli_has(const sj_cli_args_t *a, int id)
{
    return sj_cli_val(a, id) != NULL;
}

int
sj_cli_need(const sj_cli_args_t *a, int id, const char *what)
{
    if (sj_cli_has(a, id)) {
        return 0;
    }
    fprintf(stderr, _("%s: %s needs --%s %s (see %s %s --help)\n"), a->tool->tool, a->cmd->name,
            s_name(a->tool, id), what, a->tool->tool, a->cmd->name);
    return 2;
}

int
sj_cli_enum(const sj_cli_args_t *a, int id, sj_field_t field, int *out)
{
    const char *v = sj_cli_val(a, id);
    if (!v) {
        return 0;
    }
    *out = sj_enum_value(field, v);
    if (*out) {
        return 0;
    }
    char list[300];
    sj_enum_list_lang(field, sj_i18n_lang(), list, sizeof list);
    fprintf(stderr, _("%s: --%s '%s' is not one of: %s\n"), a->tool->tool, s_name(a->tool, id), v,
            list);
    return 2;
}

int
sj_cli_int(const sj_cli_args_t *a, int id, long long min, long long max, long long *out)
{
    const char *v = sj_cli_val(a, id);
    if (!v) {
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max) {
        fprintf(stderr, _("%s: --%s '%s' must be a number from %lld to %lld\n"), a->tool->tool,
                s_name(a->tool, id), v, min, max);
        return 2;
    }
    *out = n;
    return 0;
}

int
sj_cli_code(const sj_cli_args_t *a, int id, int level, const char *what)
{
    const char *v = sj_cli_val(a, id);
    if (!v || sj_code_level(v) == level) {
        return 0;
    }
    fprintf(stderr, _("%s: --%s '%s' is not a %d-digit %s code\n"), a->tool->tool,
            s_name(a->tool, id), v, level, _(what));
    return 2;
}

int
sj_cli_date(const sj_cli_args_t *a, int id)
{
    const char *v = sj_cli_val(a, id);
    if (!v || sj_date_valid(v)) {
        return 0;
    }
    fprintf(stderr, _("%s: --%s '%s' is not a date YYYY-MM-DD\n"), a->tool->tool,
            s_name(a->tool, id), v);
    return 2;
}

int
sj_cli_format(const sj_cli_args_t *a, int id, sj_format_t *out)
{
    const char *v = sj_cli_val(a, id);
    if (v && sj_format_parse(v, out) != SJ_OK) {
        fprintf(stderr, _("%s: --%s '%s' is not one of table, json, csv\n"), a->tool->tool,
                s_name(a->tool, id), v);
        return 2;
    }
    return sj_cli_csv_opts(a, *out == SJ_FMT_CSV);
}

int
sj_cli_csv_opts(const sj_cli_args_t *a, int csv)
{
    const sj_cli_tool_t *t = a->tool;
    int bom = t->bom_id && sj_cli_has(a, t->bom_id);
    const char *labels = t->labels_id ? sj_cli_val(a, t->labels_id) : NULL;
    sj_csv_opts_t o = {.bom = bom, .labels = labels != NULL, .lang = SJ_LANG_ZH};
    if (labels && sj_lang_parse(labels, &o.lang) != SJ_OK) {
        fprintf(stderr, _("%s: --%s '%s' is not one of zh, en\n"), t->tool, s_name(t, t->labels_id),
                labels);
        return 2;
    }
    if ((bom || labels) && !csv) {
        fprintf(stderr, _("%s: --%s is for --format csv only\n"), t->tool,
                s_name(t, bom ? t->bom_id : t->labels_id));
        return 2;
    }
    sj_table_csv_opts_set(&o);
    return 0;
}

int
sj_cli_key(const sj_cli_args_t *a, int id)
{
    const char *v = sj_cli_val(a, id);
    uint8_t key[SJ_KEY_BYTES];
    if (!v || sj_key_decode(v, key) == SJ_OK) {
        return 0;
    }
    fprintf(stderr,
            _("%s: --%s '%s' is not a 40-character Z85 public key (the one 'keygen' printed;"
              " in single quotes: a Z85 key holds characters the shell changes)\n"),
            a->tool->tool, s_name(a->tool, id), v);
    return 2;
}

/* A port: 1-5 digits up to 65535 (or "*" for a bind: any free port). */
static int
s_port_ok(const char *p, int bind)
{
    if (bind && strcmp(p, "*") == 0) {
        return 1;
    }
    size_t n = strspn(p, "0123456789");
    return n > 0 && n <= 5 && p[n] == '\0' && strtol(p, NULL, 10) <= 65535;
}

int
sj_cli_endpoint_check(const char *text, int bind, char *err, size_t err_size)
{
    const char *any = bind ? "0.0.0.0" : "127.0.0.1";
    if (strncmp(text, "ipc://", 6) == 0 || strncmp(text, "inproc://", 9) == 0) {
        if (text[text[0] == 'i' && text[1] == 'p' ? 6 : 9] == '\0') {
            snprintf(err, err_size, _("'%s' names no path"), text);
            return SJ_EINVAL;
        }
        return SJ_OK;
    }
    const char *hostport = strncmp(text, "tcp://", 6) == 0 ? text + 6 : NULL;
    if (!hostport && strstr(text, "://")) {
        snprintf(err, err_size,
                 _("'%s' is not an endpoint sanji speaks (tcp://HOST:PORT, ipc://PATH)"), text);
        return SJ_EINVAL;
    }
    const char *hp = hostport ? hostport : text;
    const char *colon = strrchr(hp, ':');
    int port_ok = colon && s_port_ok(colon + 1, bind);
    int host_ok = colon && colon > hp;
    if (hostport && port_ok && host_ok) {
        return SJ_OK;
    }
    if (port_ok) { /* scheme-less, or no host: the hint */
        snprintf(err, err_size, _("'%s' is not an endpoint; did you mean tcp://%.*s:%s?"), text,
                 host_ok ? (int) (colon - hp) : (int) strlen(any), host_ok ? hp : any, colon + 1);
        return SJ_EINVAL;
    }
    snprintf(err, err_size, _("'%s' is not an endpoint like tcp://%s:7600"), text, any);
    return SJ_EINVAL;
}

int
sj_cli_endpoint(const sj_cli_args_t *a, int id, int bind)
{
    const char *v = sj_cli_val(a, id);
    char err[600];
    if (!v || sj_cli_endpoint_check(v, bind, err, sizeof err) == SJ_OK) {
        return 0;
    }
    fprintf(stderr, "%s: --%s %s\n", a->tool->tool, s_name(a->tool, id), err);
    return 2;
}

/* ---- the helpers of modules that parse their own arguments ---- */

static int
s_is_flag(const char *name, const char *const *flags)
{
    for (size_t i = 0; flags && flags[i]; i++) {
        if (strcmp(name, flags[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

int
sj_cli_command(int argc, char *const *argv, const char *const *flags)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            return i + 1 < argc ? i + 1 : 0;
        }
        if (a[0] != '-' || a[1] == '\0') {
            return i;
        }
        if (a[1] != '-') {
            continue; /* short options: only -h, which takes no value */
        }
        if (!strchr(a, '=') && !s_is_flag(a + 2, flags)) {
            i++; /* skip the value */
        }
    }
    return 0;
}

int
sj_cli_start(const char *tool, const char *log_level)
{
    if (log_level) {
        int lvl = sj_log_level_parse(log_level);
        if (lvl < 0) {
            fprintf(stderr,
                    _("%s: --log-level '%s' is not one of error, warn, notice, info, debug\n"),
                    tool, log_level);
            return 2;
        }
        sj_log_set_level((sj_log_level_t) lvl);
    }
    if (sj_ids_init() != SJ_OK) {
        return 1;
    }
    sj_log_set_ident(tool, "");
    return 0;
}

sj_event_t *
sj_cli_fix_event(const sj_cli_args_t *a, const int ids[], int reason_id, int officer_id, int *code)
{
    const char *vals[SJ_FIX_COUNT];
    for (int i = 0; i < SJ_FIX_COUNT; i++) {
        vals[i] = ids[i] ? sj_cli_val(a, ids[i]) : NULL;
    }
    char err[512] = "";
    sj_event_t *ev = malloc(sizeof *ev);
    if (!ev) {
        fprintf(stderr, _("%s: out of memory\n"), a->tool->tool);
        *code = 1;
        return NULL;
    }
    if (sj_fix_fill(ev, strcmp(a->cmd->name, "void") == 0, a->pos[0], vals,
                    sj_cli_val(a, reason_id), sj_cli_val(a, officer_id), err, sizeof err)
        != SJ_OK) {
        fprintf(stderr, "%s: %s\n", a->tool->tool, err);
        free(ev);
        *code = 2;
        return NULL;
    }
    return ev;
}
