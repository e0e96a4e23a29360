/* sj_cfg: INI configuration files (inih), one key for every flag.
 *
 * The keys of a file are derived from the option tables getopt_long parses
 * the command line with, so a new option gets its key without any edit here
 * and no option can lack one:
 *
 *   [TOOL] or [sanji] or before any section: the general keys (spec->general,
 *       e.g. data, log-level), applied to every command whose option table
 *       has them;
 *   [COMMAND] (e.g. [stats], [status], [sync]): every long option of the
 *       table that command is parsed with, except SJ_CFG_NOT_KEYS (help,
 *       version, config: they make no sense in a file); applied to that
 *       command only, so a daemon's file never changes another command.
 *
 * A key is the long option's name without the dashes. An option that takes a
 * value is given as `key = value` (quotes around the value are removed: Z85
 * keys may contain '#' and ';'); a flag without a value as `key = true` or
 * `key = false` (false: not given).
 *
 * sj_cfg_apply runs first in a tool's main(): it finds --config FILE and the
 * command word in argv, reads and checks the whole file, and replaces argv by
 * one that carries the file's settings as options *before* the real
 * arguments:
 *
 *     argv[0] --general-key=v ... --command-key=v ... argv[1] ... argv[argc-1]
 *
 * so getopt_long and the tool's own checks see them exactly as flags (the
 * same code validates a value from the file and from the command line), and
 * because the last occurrence of an option wins, the precedence is
 *
 *     command line  >  [COMMAND]  >  [TOOL]/[sanji]  >  built-in default.
 *
 * Errors: an unknown section or key, a key given twice in one section, a flag
 * key that is not true/false, or a line that is not `key = value` stops the
 * tool before anything runs with "TOOL: FILE:LINE: reason" (exit 2). A bad
 * value is refused by the tool's own check of the flag; while the file's
 * settings are in effect, every message of the form "TOOL: ... --KEY ..."
 * written to stderr for a KEY whose value came from the file gets that
 * key's "FILE:LINE: " after "TOOL: " (see sj_cfg_apply), so that refusal
 * names the line too.
 *
 * The commands of a tool (and so the valid [COMMAND] sections) are the words
 * of the "commands:" block of its --help text (spec->usage), the list
 * tests/packages/test_packages.sh checks against the manual page: a new
 * command gets its section by being documented. A command parsed with a
 * different option table than the tool's main one is listed in spec->cmds.
 *
 * Process-wide state: one configuration per process, set by sj_cfg_apply,
 * read by sj_cfg_source and sj_cfg_reread; not thread-safe (call from main
 * before threads start; sj_cfg_reread from the thread that handles SIGHUP). */
#ifndef SJ_CFG_H
#define SJ_CFG_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include "sj_err.h"

/* Long options that are never keys, in this one place: they make no sense
 * in a file (help and version print and exit; config names the file). */
#define SJ_CFG_NOT_KEYS                   \
    {                                     \
        "help", "version", "config", NULL \
    }

/* The hidden option that prints the key table (Markdown) and exits 0; the
 * README and packaging/CONFIG.md carry its output (scripts/config-keys.sh). */
#define SJ_CFG_PRINT_KEYS "--print-config-keys"

/* sj_cfg_apply's answer when the tool should carry on. */
#define SJ_CFG_CONTINUE (-1)

/* A command parsed with its own option table. */
typedef struct {
    const char *name;          /* the command word, e.g. "export"; NULL ends a list */
    const struct option *opts; /* the table getopt_long parses it with (borrowed) */
} sj_cfg_cmd_t;

/* What a tool accepts. Everything is borrowed and must outlive the process
 * (static tables). */
typedef struct {
    const char *tool;           /* e.g. "county-server": the general section's name */
    const char *usage;          /* the tool's --help text: its "commands:" block */
    const char *const *general; /* general keys, NULL-terminated; each must be an option */
    const struct option *opts;  /* the table of every command not in cmds */
    const sj_cfg_cmd_t *cmds;   /* commands with their own table, ended by {NULL}; or NULL */
} sj_cfg_spec_t;

/* Where an option's value came from (sj_cfg_source). */
typedef enum {
    SJ_CFG_UNSET = 0, /* neither the command line nor the file */
    SJ_CFG_GENERAL,   /* the file's general section (not overridden) */
    SJ_CFG_SECTION,   /* the file's [COMMAND] section (not overridden) */
    SJ_CFG_ARGV,      /* the command line */
} sj_cfg_source_t;

/* Reads --config FILE (if given) and rewrites *argc and *argv as described
 * above; --print-config-keys prints the key table to stdout instead.
 * Returns SJ_CFG_CONTINUE to carry on with the (possibly new) *argv, or the
 * exit status: 0 after --print-config-keys, 2 after a bad file (message on
 * stderr), 1 when out of memory. The new argv and its strings are owned by
 * sj_cfg and live until the next sj_cfg_apply (in a tool: until exit). While values from the file
 * are in effect, stderr is replaced by a line-buffered stream that adds "FILE:LINE: " to the tool's
 * messages about them (writes go straight on to file descriptor 2). */
int sj_cfg_apply(const sj_cfg_spec_t *spec, int *argc, char ***argv);

/* Where the value of option `name` (long name) came from; *where, if given,
 * is set to "FILE:LINE" for a value from the file (borrowed, valid until the
 * next sj_cfg_apply) and to "" otherwise. A command that refuses options it
 * does not take should let SJ_CFG_GENERAL pass: a general key is meant for
 * the commands that use it. */
sj_cfg_source_t sj_cfg_source(const char *name, const char **where);

/* The path given with --config, or NULL (borrowed). */
const char *sj_cfg_path(void);

/* Reads the file again (for SIGHUP) with the spec and command of the last
 * sj_cfg_apply and checks all of it as sj_cfg_apply does. *value receives
 * the value `name` has for that command ([COMMAND] before the general
 * section), or "" when the file does not set it; *line its line (0 when
 * unset). Returns: SJ_OK; SJ_ENOTFOUND when no --config was given; SJ_EINVAL
 * or SJ_EIO with "FILE:LINE: reason" in err. */
SJ_NODISCARD int sj_cfg_reread(
    const char *name, char *value, size_t value_size, int *line, char *err, size_t err_size);

/* Writes the key table of spec as Markdown (what --print-config-keys
 * prints): one row for the general section, one per group of commands that
 * share an option table. Returns SJ_OK or SJ_EIO. */
SJ_NODISCARD int sj_cfg_write_keys(const sj_cfg_spec_t *spec, FILE *out);

#endif
