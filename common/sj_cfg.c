/* sj_cfg: see sj_cfg.h.
 *
 * Flow of sj_cfg_apply: s_scan (argv: --config, the command word, the
 * options given) -> s_load (the file, every section and key checked against
 * the spec) -> s_inject (the new argv) -> s_filter_install (stderr names the
 * file's line in messages about its values). */
#define _GNU_SOURCE /* fopencookie: the stderr filter */
#include "sj_cfg.h"
#include "sj_i18n.h"

#include <assert.h>
#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define S_MAX_ENTRIES  256 /* key lines in one file */
#define S_MAX_COMMANDS 64  /* commands of one tool */
#define S_NAME_MAX     48  /* a section or key name */
#define S_WHERE_MAX    1100

typedef struct {
    char section[S_NAME_MAX]; /* "" for the general section ([TOOL], [sanji], none) */
    char key[S_NAME_MAX];
    char *value; /* owned, quotes removed */
    int line;
} s_entry_t;

typedef struct {
    s_entry_t entries[S_MAX_ENTRIES];
    size_t n;
} s_file_t;

/* What sj_cfg_apply found; read by sj_cfg_source and sj_cfg_reread. */
typedef struct {
    const char *name;        /* the option's name in its table */
    char where[S_WHERE_MAX]; /* "FILE:LINE" */
    int overridden;          /* the command line gives it too */
    int general;             /* from the general section, not [COMMAND] */
} s_origin_t;

static struct {
    const sj_cfg_spec_t *spec;
    char path[1024];        /* --config, "" when none */
    char cmd[S_NAME_MAX];   /* the command word, "" when none or unknown */
    const char *given[256]; /* options on the command line (names in the table) */
    size_t ngiven;
    s_origin_t origins[S_MAX_ENTRIES];
    size_t norigins;
    int filter_at_line_start; /* the stderr filter's position */
} s_st;

/* The argv sj_cfg_apply made: [1, 1 + s_ninjected) are its own strings, the
 * rest borrowed from the caller's argv. Kept here so that it stays
 * reachable (no leak report at exit) and is freed by the next apply. */
static char **s_argv;
static int s_ninjected;

static void
s_argv_free(void)
{
    for (int i = 1; s_argv && i <= s_ninjected; i++) {
        free(s_argv[i]);
    }
    free(s_argv);
    s_argv = NULL;
    s_ninjected = 0;
}

static const char *const s_not_keys[] = SJ_CFG_NOT_KEYS;

/* ---- the spec ---- */

static int
s_not_key(const char *name)
{
    for (size_t i = 0; s_not_keys[i]; i++) {
        if (strcmp(s_not_keys[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The commands of the tool: the words of the usage's "commands:" block (a
 * line "  word ..." with the word at column 2, until an empty line), then
 * any of spec->cmds not named there. Returns how many were written. */
static size_t
s_commands(const sj_cfg_spec_t *spec, char names[][S_NAME_MAX], size_t max)
{
    size_t n = 0;
    const char *p = spec->usage ? strstr(spec->usage, "\ncommands:\n") : NULL;
    if (p) {
        p += strlen("\ncommands:\n");
    }
    while (p && *p && *p != '\n') {
        const char *eol = strchr(p, '\n');
        if (!eol) {
            eol = p + strlen(p);
        }
        if (p[0] == ' ' && p[1] == ' ' && p[2] >= 'a' && p[2] <= 'z') {
            size_t len = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");
            int dup = 0;
            for (size_t i = 0; i < n; i++) {
                dup = dup || (strlen(names[i]) == len && strncmp(names[i], p + 2, len) == 0);
            }
            if (!dup && n < max && len < S_NAME_MAX) {
                memcpy(names[n], p + 2, len);
                names[n++][len] = '\0';
            }
        }
        p = *eol ? eol + 1 : eol;
    }
    for (const sj_cfg_cmd_t *c = spec->cmds; c && c->name; c++) {
        int dup = 0;
        for (size_t i = 0; i < n; i++) {
            dup = dup || strcmp(names[i], c->name) == 0;
        }
        if (!dup && n < max) {
            snprintf(names[n++], S_NAME_MAX, "%s", c->name);
        }
    }
    return n;
}

static int
s_is_command(const sj_cfg_spec_t *spec, const char *word)
{
    char names[S_MAX_COMMANDS][S_NAME_MAX];
    size_t n = s_commands(spec, names, S_MAX_COMMANDS);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], word) == 0) {
            return 1;
        }
    }
    return 0;
}

static const struct option *
s_table(const sj_cfg_spec_t *spec, const char *cmd)
{
    for (const sj_cfg_cmd_t *c = spec->cmds; cmd && c && c->name; c++) {
        if (strcmp(c->name, cmd) == 0) {
            return c->opts;
        }
    }
    return spec->opts;
}

/* The option called exactly `name` in opts, or NULL. */
static const struct option *
s_option(const struct option *opts, const char *name)
{
    for (const struct option *o = opts; o && o->name; o++) {
        if (strcmp(o->name, name) == 0) {
            return o;
        }
    }
    return NULL;
}

/* As getopt_long resolves "--name": the exact name, else the one option
 * the name abbreviates (NULL when none or ambiguous). */
static const struct option *
s_resolve(const struct option *opts, const char *name, size_t len)
{
    const struct option *found = NULL;
    int n = 0;
    for (const struct option *o = opts; o && o->name; o++) {
        if (strncmp(o->name, name, len) == 0) {
            if (strlen(o->name) == len) {
                return o;
            }
            found = o;
            n++;
        }
    }
    return n == 1 ? found : NULL;
}

/* The option in any of the spec's tables (for reading argv before the
 * command is known: whether "--name" takes the next argument). */
static const struct option *
s_resolve_any(const sj_cfg_spec_t *spec, const char *name, size_t len)
{
    const struct option *o = s_resolve(spec->opts, name, len);
    for (const sj_cfg_cmd_t *c = spec->cmds; !o && c && c->name; c++) {
        o = s_resolve(c->opts, name, len);
    }
    return o;
}

/* The option a general key stands for: the first table that has it. */
static const struct option *
s_general_option(const sj_cfg_spec_t *spec, const char *key)
{
    const struct option *o = s_option(spec->opts, key);
    for (const sj_cfg_cmd_t *c = spec->cmds; !o && c && c->name; c++) {
        o = s_option(c->opts, key);
    }
    return o;
}

static int
s_is_general(const sj_cfg_spec_t *spec, const char *key)
{
    for (size_t i = 0; spec->general && spec->general[i]; i++) {
        if (strcmp(spec->general[i], key) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ---- reading the file ---- */

typedef struct {
    const sj_cfg_spec_t *spec;
    s_file_t *file;
    FILE *in;
    int lineno;       /* line being parsed: inih calls the reader once per line */
    int section_line; /* line of the last [section] header */
    int why_line;     /* line the error is about, when not lineno (0) */
    char why[512];
} s_load_t;

static char *
s_reader(char *str, int num, void *stream)
{
    s_load_t *ld = stream;
    char *got = fgets(str, num, ld->in);
    if (got) {
        ld->lineno++;
        if (got[strspn(got, " \t")] == '[') {
            ld->section_line = ld->lineno;
        }
    }
    return got;
}

static int
s_handler(void *user, const char *section, const char *name, const char *value)
{
    s_load_t *ld = user;
    const sj_cfg_spec_t *spec = ld->spec;
    int general = !section[0] || strcmp(section, "sanji") == 0 || strcmp(section, spec->tool) == 0;
    const struct option *opt = NULL;
    if (general) {
        if (!s_is_general(spec, name)) {
            snprintf(ld->why, sizeof ld->why,
                     _("unknown key '%s' in [%s] (a command's options go in [COMMAND])"), name,
                     section[0] ? section : spec->tool);
            return 0;
        }
        opt = s_general_option(spec, name);
    } else if (s_is_command(spec, section)) {
        opt = s_not_key(name) ? NULL : s_option(s_table(spec, section), name);
        if (!opt) {
            snprintf(ld->why, sizeof ld->why,
                     _("unknown key '%s' in [%s] (the keys of [%s] are the long options of"
                       " '%s %s --help')"),
                     name, section, section, spec->tool, section);
            return 0;
        }
    } else {
        ld->why_line = ld->section_line; /* the header, not its first key */
        snprintf(ld->why, sizeof ld->why,
                 _("unknown section [%s] (use [%s] or [sanji] for general keys, or a command's"
                   " name, e.g. [status])"),
                 section, spec->tool);
        return 0;
    }
    s_file_t *f = ld->file;
    const char *sect = general ? "" : section;
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->entries[i].section, sect) == 0 && strcmp(f->entries[i].key, name) == 0) {
            snprintf(ld->why, sizeof ld->why, _("key '%s' given twice (first on line %d)"), name,
                     f->entries[i].line);
            return 0;
        }
    }
    if (f->n == S_MAX_ENTRIES || strlen(name) >= S_NAME_MAX || strlen(sect) >= S_NAME_MAX) {
        snprintf(ld->why, sizeof ld->why, _("too many keys"));
        return 0;
    }
    size_t len = strlen(value);
    if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
        value++;
        len -= 2;
    }
    if (opt && opt->has_arg == no_argument
        && !((len == 4 && strncmp(value, "true", 4) == 0)
             || (len == 5 && strncmp(value, "false", 5) == 0))) {
        snprintf(ld->why, sizeof ld->why, _("%s must be true or false (it is the flag --%s)"), name,
                 name);
        return 0;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        snprintf(ld->why, sizeof ld->why, _("out of memory"));
        return 0;
    }
    memcpy(copy, value, len);
    copy[len] = '\0';
    s_entry_t *e = &f->entries[f->n++];
    snprintf(e->section, sizeof e->section, "%s", sect);
    snprintf(e->key, sizeof e->key, "%s", name);
    e->value = copy;
    e->line = ld->lineno;
    return 1;
}

static void
s_file_free(s_file_t *f)
{
    for (size_t i = 0; f && i < f->n; i++) {
        free(f->entries[i].value);
    }
    if (f) {
        f->n = 0;
    }
}

static int
s_load(const sj_cfg_spec_t *spec, const char *path, s_file_t *file, char *err, size_t err_size)
{
    memset(file, 0, sizeof *file);
    FILE *in = fopen(path, "r");
    if (!in) {
        snprintf(err, err_size, _("%s: cannot open config file: %s"), path, strerror(errno));
        return SJ_EIO;
    }
    s_load_t ld = {.spec = spec, .file = file, .in = in, .why = ""};
    int bad = ini_parse_stream(s_reader, &ld, s_handler, &ld);
    fclose(in);
    if (bad == 0) {
        return SJ_OK;
    }
    if (bad > 0 && !ld.why[0]) {
        snprintf(ld.why, sizeof ld.why, "expected 'key = value' or [section]");
    }
    if (bad > 0 && ld.why_line > 0) {
        bad = ld.why_line;
    }
    snprintf(err, err_size, "%s:%d: %s", path, bad > 0 ? bad : 0,
             ld.why[0] ? ld.why : _("cannot read the file"));
    s_file_free(file);
    return SJ_EINVAL;
}

/* The entry for key in section ("" general), or NULL. */
static const s_entry_t *
s_entry(const s_file_t *f, const char *section, const char *key)
{
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->entries[i].section, section) == 0 && strcmp(f->entries[i].key, key) == 0) {
            return &f->entries[i];
        }
    }
    return NULL;
}

/* ---- argv ---- */

typedef struct {
    int help;               /* -h or --help: print the help, leave the file alone */
    int print_keys;         /* --print-config-keys */
    const char *config;     /* --config's value */
    int cmd_index;          /* argv index of the command word, 0 when none */
    const char *names[256]; /* "--name" tokens as given (abbreviations possible) */
    size_t lens[256];
    size_t n;
} s_scan_t;

static void
s_scan(const sj_cfg_spec_t *spec, int argc, char **argv, s_scan_t *sc)
{
    memset(sc, 0, sizeof *sc);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            if (!sc->cmd_index && i + 1 < argc) {
                sc->cmd_index = i + 1;
            }
            break;
        }
        if (a[0] != '-' || a[1] == '\0') {
            if (!sc->cmd_index) {
                sc->cmd_index = i;
            }
            continue;
        }
        if (a[1] != '-') {
            sc->help = sc->help || strcmp(a, "-h") == 0;
            continue; /* short options: only -h, which takes no value */
        }
        if (strcmp(a, SJ_CFG_PRINT_KEYS) == 0) {
            sc->print_keys = 1;
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t) (eq - name) : strlen(name);
        const struct option *o = s_resolve_any(spec, name, len);
        const char *value = eq ? eq + 1 : NULL;
        if (!eq && o && o->has_arg == required_argument && i + 1 < argc) {
            value = argv[++i];
        }
        if (o && strcmp(o->name, "help") == 0) {
            sc->help = 1;
        }
        if (o && strcmp(o->name, "config") == 0) {
            sc->config = value;
        }
        if (sc->n < sizeof sc->names / sizeof sc->names[0]) {
            sc->names[sc->n] = name;
            sc->lens[sc->n++] = len;
        }
    }
}

/* ---- the stderr filter ---- */

static int
s_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* The origin whose "--name" appears first in line[0..n), or NULL. */
static const s_origin_t *
s_named_in(const char *line, size_t n)
{
    const s_origin_t *best = NULL;
    size_t best_at = n;
    for (size_t k = 0; k < s_st.norigins; k++) {
        const s_origin_t *o = &s_st.origins[k];
        size_t len = strlen(o->name);
        for (size_t i = 0; !o->overridden && i + 2 + len <= n && i < best_at; i++) {
            if (line[i] == '-' && line[i + 1] == '-' && memcmp(line + i + 2, o->name, len) == 0
                && (i == 0 || !s_key_char(line[i - 1]))
                && (i + 2 + len == n || !s_key_char(line[i + 2 + len]))) {
                best = o;
                best_at = i;
            }
        }
    }
    return best;
}

static void
s_write_all(const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, buf, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return; /* nowhere to report it */
        }
        buf += w;
        n -= (size_t) w;
    }
}

/* The stream is line-buffered, so buf normally holds whole lines; a line
 * longer than the buffer is only looked at in its first part. */
static ssize_t
s_filter_write(void *cookie, const char *buf, size_t n)
{
    (void) cookie;
    const char *tool = s_st.spec->tool;
    size_t tlen = strlen(tool);
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(buf + i, '\n', n - i);
        size_t end = nl ? (size_t) (nl - buf) + 1 : n;
        const char *seg = buf + i;
        size_t len = end - i;
        const s_origin_t *o = NULL;
        if (s_st.filter_at_line_start && len > tlen + 2 && memcmp(seg, tool, tlen) == 0
            && seg[tlen] == ':' && seg[tlen + 1] == ' ') {
            o = s_named_in(seg, len);
        }
        if (o) {
            s_write_all(seg, tlen + 2);
            s_write_all(o->where, strlen(o->where));
            s_write_all(": ", 2);
            s_write_all(seg + tlen + 2, len - tlen - 2);
        } else {
            s_write_all(seg, len);
        }
        s_st.filter_at_line_start = seg[len - 1] == '\n';
        i = end;
    }
    return (ssize_t) n;
}

static void
s_filter_install(void)
{
    cookie_io_functions_t io = {.write = s_filter_write};
    FILE *f = fopencookie(NULL, "w", io);
    if (!f) {
        return; /* messages then lack the line, nothing else changes */
    }
    if (setvbuf(f, NULL, _IOLBF, BUFSIZ) != 0) {
        fclose(f);
        return;
    }
    fflush(stderr);
    s_st.filter_at_line_start = 1;
    stderr = f;
}

/* ---- the new argv ---- */

static int
s_was_given(const struct option *opts, const s_scan_t *sc, const char *name)
{
    for (size_t i = 0; i < sc->n; i++) {
        const struct option *o = s_resolve(opts, sc->names[i], sc->lens[i]);
        if (o && strcmp(o->name, name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Adds "--key=value" (or "--key" for a flag set to true) to out. */
static int
s_push(char **out,
       int *n,
       const struct option *o,
       const s_entry_t *e,
       const char *path,
       const s_scan_t *sc,
       const struct option *opts)
{
    if (o->has_arg == no_argument && strcmp(e->value, "true") != 0) {
        return SJ_OK; /* false: as if not given */
    }
    size_t size = strlen(o->name) + strlen(e->value) + 4;
    char *arg = malloc(size);
    if (!arg) {
        return SJ_ENOMEM;
    }
    if (o->has_arg == no_argument) {
        snprintf(arg, size, "--%s", o->name);
    } else {
        snprintf(arg, size, "--%s=%s", o->name, e->value);
    }
    out[(*n)++] = arg;
    /* A later origin of the same option (the command's section after the
     * general one) replaces the earlier. */
    s_origin_t *slot = NULL;
    for (size_t i = 0; i < s_st.norigins; i++) {
        if (strcmp(s_st.origins[i].name, o->name) == 0) {
            slot = &s_st.origins[i];
        }
    }
    if (!slot) {
        slot = &s_st.origins[s_st.norigins++];
    }
    slot->name = o->name;
    snprintf(slot->where, sizeof slot->where, "%s:%d", path, e->line);
    slot->overridden = s_was_given(opts, sc, o->name);
    slot->general = e->section[0] == '\0';
    return SJ_OK;
}

int
sj_cfg_apply(const sj_cfg_spec_t *spec, int *argc, char ***argv)
{
    for (size_t i = 0; spec->general && spec->general[i]; i++) {
        assert(s_general_option(spec, spec->general[i]) != NULL); /* a key for no option */
    }
    s_argv_free();
    memset(&s_st, 0, sizeof s_st);
    s_st.spec = spec;
    s_scan_t sc;
    s_scan(spec, *argc, *argv, &sc);
    if (sc.print_keys) {
        return sj_cfg_write_keys(spec, stdout) == SJ_OK && fflush(stdout) == 0 ? 0 : 1;
    }
    const char *cmd = sc.cmd_index ? (*argv)[sc.cmd_index] : NULL;
    if (cmd && s_is_command(spec, cmd)) {
        snprintf(s_st.cmd, sizeof s_st.cmd, "%s", cmd);
    }
    const struct option *opts = s_table(spec, s_st.cmd[0] ? s_st.cmd : NULL);
    for (size_t i = 0; i < sc.n; i++) {
        const struct option *o = s_resolve(opts, sc.names[i], sc.lens[i]);
        if (o && s_st.ngiven < sizeof s_st.given / sizeof s_st.given[0]) {
            s_st.given[s_st.ngiven++] = o->name;
        }
    }
    if (!sc.config || sc.help) {
        return SJ_CFG_CONTINUE; /* --help prints the help whatever the file says */
    }
    snprintf(s_st.path, sizeof s_st.path, "%s", sc.config);
    static s_file_t file; /* static: too big for the stack of a thread */
    char err[1400];
    int rc = s_load(spec, s_st.path, &file, err, sizeof err);
    if (rc != SJ_OK) {
        fprintf(stderr, "%s: %s\n", spec->tool, err);
        return 2;
    }
    char **out = calloc((size_t) *argc + 2 * file.n + 1, sizeof *out);
    if (!out) {
        s_file_free(&file);
        fprintf(stderr, _("%s: out of memory\n"), spec->tool);
        return 1;
    }
    s_argv = out;
    int n = 0;
    out[n++] = (*argv)[0];
    /* General keys first, then the command's section: the later wins. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < file.n; i++) {
            const s_entry_t *e = &file.entries[i];
            int is_general = e->section[0] == '\0';
            if (pass == 0 ? !is_general : (is_general || strcmp(e->section, s_st.cmd) != 0)) {
                continue;
            }
            const struct option *o = s_option(opts, e->key);
            if (!o) {
                continue; /* a general key this command has no option for */
            }
            int pushed = s_push(out, &n, o, e, s_st.path, &sc, opts);
            s_ninjected = n - 1;
            if (pushed != SJ_OK) {
                s_file_free(&file);
                fprintf(stderr, _("%s: out of memory\n"), spec->tool);
                return 1;
            }
        }
    }
    s_file_free(&file);
    for (int i = 1; i < *argc; i++) {
        out[n++] = (*argv)[i];
    }
    out[n] = NULL;
    int from_file = 0;
    for (size_t i = 0; i < s_st.norigins; i++) {
        from_file = from_file || !s_st.origins[i].overridden;
    }
    if (from_file) {
        s_filter_install();
    }
    *argc = n;
    *argv = out;
    return SJ_CFG_CONTINUE;
}

sj_cfg_source_t
sj_cfg_source(const char *name, const char **where)
{
    if (where) {
        *where = "";
    }
    for (size_t i = 0; i < s_st.ngiven; i++) {
        if (strcmp(s_st.given[i], name) == 0) {
            return SJ_CFG_ARGV;
        }
    }
    for (size_t i = 0; i < s_st.norigins; i++) {
        if (strcmp(s_st.origins[i].name, name) == 0) {
            if (where) {
                *where = s_st.origins[i].where;
            }
            return s_st.origins[i].general ? SJ_CFG_GENERAL : SJ_CFG_SECTION;
        }
    }
    return SJ_CFG_UNSET;
}

const char *
sj_cfg_path(void)
{
    return s_st.path[0] ? s_st.path : NULL;
}

int
sj_cfg_reread(
    const char *name, char *value, size_t value_size, int *line, char *err, size_t err_size)
{
    value[0] = '\0';
    *line = 0;
    if (!s_st.spec || !s_st.path[0]) {
        snprintf(err, err_size, _("no config file"));
        return SJ_ENOTFOUND;
    }
    s_file_t *file = malloc(sizeof *file);
    if (!file) {
        snprintf(err, err_size, _("out of memory"));
        return SJ_ENOMEM;
    }
    int rc = s_load(s_st.spec, s_st.path, file, err, err_size);
    if (rc == SJ_OK) {
        const s_entry_t *e = s_st.cmd[0] ? s_entry(file, s_st.cmd, name) : NULL;
        if (!e) {
            e = s_entry(file, "", name);
        }
        if (e) {
            snprintf(value, value_size, "%s", e->value);
            *line = e->line;
        }
        s_file_free(file);
    }
    free(file);
    return rc;
}

/* Writes the keys of opts (without SJ_CFG_NOT_KEYS) as "`a`, `b`, ...". */
static void
s_write_key_list(const struct option *opts, FILE *out)
{
    int first = 1;
    for (const struct option *o = opts; o && o->name; o++) {
        if (s_not_key(o->name)) {
            continue;
        }
        fprintf(out, "%s`%s`%s", first ? "" : ", ", o->name,
                o->has_arg == no_argument ? " (true/false)" : "");
        first = 0;
    }
}

int
sj_cfg_write_keys(const sj_cfg_spec_t *spec, FILE *out)
{
    fprintf(out, "| section | keys |\n| --- | --- |\n");
    fprintf(out, "| `[%s]` or `[sanji]` (general: every command that has the option) | ",
            spec->tool);
    /* In the order of the general list, each from the table that has it. */
    int first = 1;
    for (size_t i = 0; spec->general && spec->general[i]; i++) {
        const struct option *o = s_general_option(spec, spec->general[i]);
        fprintf(out, "%s`%s`%s", first ? "" : ", ", spec->general[i],
                o && o->has_arg == no_argument ? " (true/false)" : "");
        first = 0;
    }
    fprintf(out, " |\n");
    char names[S_MAX_COMMANDS][S_NAME_MAX];
    size_t n = s_commands(spec, names, S_MAX_COMMANDS);
    int done[S_MAX_COMMANDS] = {0};
    for (size_t i = 0; i < n; i++) {
        if (done[i]) {
            continue;
        }
        const struct option *opts = s_table(spec, names[i]);
        fprintf(out, "| ");
        for (size_t j = i; j < n; j++) {
            if (!done[j] && s_table(spec, names[j]) == opts) {
                fprintf(out, "%s`[%s]`", j == i ? "" : ", ", names[j]);
                done[j] = 1;
            }
        }
        fprintf(out, " | ");
        s_write_key_list(opts, out);
        fprintf(out, " |\n");
    }
    return ferror(out) ? SJ_EIO : SJ_OK;
}
