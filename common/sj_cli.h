/* sj_cli: the command line of the three tools, declared once per tool as
 * a table (sj_cli_tool_t) and parsed here, so that every tool answers every
 * mistake the same way:
 *
 *   TOOL --help                 the tool's help (its commands), exit 0
 *   TOOL                        the same on stderr, exit 2
 *   TOOL COMMAND --help         the command's own help: its usage and only
 *                               its options, exit 0
 *   TOOL nosuch                 "unknown command 'nosuch'" and the list, exit 2
 *   TOOL COMMAND --other        "COMMAND does not take --other", exit 2
 *   TOOL COMMAND --opt          "--opt needs a value", exit 2
 *   TOOL COMMAND extra args     what it takes, exit 2
 *   a bad value (enum, code, date, key, endpoint, number)   a message naming
 *                               the option and what it must be, exit 2
 *
 * Each command takes the tool's global options (tool->global: --data,
 * --config, --log-level, and for the station its identity) and the options
 * it lists (cmd->opts); each has its own getopt_long table, built here, and
 * the same table gives its [COMMAND] section of the config file (sj_cfg),
 * so a key of another command's section is refused before anything runs.
 * A command whose module parses its own arguments (cmd->own_main, e.g.
 * `serve`) gets argv as main() had it after sj_cfg_apply.
 *
 * Messages go to stderr as "TOOL: ..." naming the option as "--name", so
 * that sj_cfg adds the config file's line when the value came from there.
 *
 * Process-wide state (the tables built for one tool); not thread-safe: call
 * sj_cli_main once, from main. */
#ifndef SJ_CLI_H
#define SJ_CLI_H

#include <getopt.h>
#include <stdint.h>

#include "sj_model.h"
#include "sj_table.h"
#include "sj_wire.h"

#define SJ_CLI_MAX_OPTS 128 /* options of one tool (s_build stops a tool with more) */
#define SJ_CLI_MAX_CMDS 64  /* commands of one tool (s_build stops a tool with more) */

typedef struct sj_cli_tool sj_cli_tool_t;
typedef struct sj_cli_cmd sj_cli_cmd_t;

/* What a command was given. */
typedef struct {
    const sj_cli_tool_t *tool;
    const sj_cli_cmd_t *cmd;
    const char *val[SJ_CLI_MAX_OPTS]; /* by the option's index in tool->opts:
                                       * its value, "" for a flag, NULL: not given */
    char **pos;                       /* the command's arguments (after its name) */
    int npos;
    const char *data; /* --data, or tool->data_default */
} sj_cli_args_t;

struct sj_cli_cmd {
    const char *name;    /* the command word; NULL ends the table */
    const char *args;    /* its arguments as the help names them ("CODE KEY"), or NULL */
    int min_args;        /* how many arguments it needs ... */
    int max_args;        /* ... and takes */
    const int *opts;     /* the ids of its options (besides the global ones), 0-terminated */
    const char *summary; /* its line(s) in the tool's help */
    const char *help;    /* its --help: a usage line naming it, what it does, its options */
    int (*run)(const sj_cli_args_t *a); /* the command: returns the exit status */
    /* Optional: the exit status of bad usage found by sj_cli (default 2),
     * e.g. `status --check` answers in the monitoring convention; run
     * answers the bad values it finds itself. */
    int (*bad_usage)(const sj_cli_args_t *a);
    /* A command parsed by its own module instead (run and opts unused):
     * its getopt_long table (its config section's keys) and its main. */
    const struct option *own_opts;
    int (*own_main)(int argc, char **argv);
};

struct sj_cli_tool {
    const char *tool;           /* "township-hub" */
    const char *about;          /* the start of the tool's help: usage line, what it is */
    const char *footer;         /* the end of the tool's help: global options, exit status */
    const char *global_help;    /* one line for every command's help: the global options */
    const char *data_default;   /* --data when not given */
    const struct option *opts;  /* every option of the tool (val: its id >= 256); not help */
    const int *global;          /* ids every command takes, 0-terminated */
    int data_id, log_level_id;  /* the ids of --data and --log-level */
    int bom_id, labels_id;      /* the ids of --bom and --labels (0: the tool has none) */
    const char *const *general; /* the config file's general keys (sj_cfg_spec_t.general) */
    const sj_cli_cmd_t *cmds;   /* ended by {NULL} */
    /* The commands that run the node engine (sj_node_run), space-separated
     * ("sync run"); "run" is the daemon (SIGHUP reloads). Their stop
     * handlers go in before anything else (sj_node_signals_early); the
     * others keep the signals' default actions. */
    const char *engine_cmds;
};

/* Reads the config file (sj_cfg_apply), finds the command, parses its
 * options and arguments as described above, applies --log-level, readies
 * the id generator, names the log lines after the tool, and runs it.
 * Returns the process exit status. */
int sj_cli_main(const sj_cli_tool_t *tool, int argc, char **argv);

/* An option's value ("" for a flag given), or NULL when not given. */
const char *sj_cli_val(const sj_cli_args_t *a, int id);
/* 1 when the option was given. */
int sj_cli_has(const sj_cli_args_t *a, int id);

/* Checks of one option's value. Each returns 0 when the value is good (or
 * the option not given, unless said otherwise), else 2 after saying on
 * stderr "TOOL: --name 'value' ..." what it must be. */

/* Required: "TOOL: COMMAND needs --name" (with what, e.g. "STATION"). */
int sj_cli_need(const sj_cli_args_t *a, int id, const char *what);
/* A name of field's enum (or its Chinese label) into *out. */
int sj_cli_enum(const sj_cli_args_t *a, int id, sj_field_t field, int *out);
/* An integer from min to max into *out. */
int sj_cli_int(const sj_cli_args_t *a, int id, long long min, long long max, long long *out);
/* An administrative code of level digits (6, 9 or 12); what names it
 * ("township", "village"). */
int sj_cli_code(const sj_cli_args_t *a, int id, int level, const char *what);
/* A date YYYY-MM-DD. */
int sj_cli_date(const sj_cli_args_t *a, int id);
/* table, json or csv into *out (left alone when not given). When the
 * command was given --bom or --labels zh|en (tool->bom_id, labels_id), they
 * need --format csv and set the process's CSV options (sj_table_csv_opts_set). */
int sj_cli_format(const sj_cli_args_t *a, int id, sj_format_t *out);
/* --bom and --labels (see sj_cli_format) for a command whose output is csv
 * when csv is true (export also takes them for xlsx). */
int sj_cli_csv_opts(const sj_cli_args_t *a, int csv);
/* A 40-character Z85 public key. */
int sj_cli_key(const sj_cli_args_t *a, int id);
/* A zmq endpoint: tcp://HOST:PORT (to bind, the host may be '*'), ipc://PATH
 * or inproc://NAME. A scheme-less or host-less one gets a hint: "--bind
 * '0.0.0.0:7600' is not an endpoint; did you mean tcp://0.0.0.0:7600?". */
int sj_cli_endpoint(const sj_cli_args_t *a, int id, int bind);

/* Checks an endpoint as sj_cli_endpoint does; SJ_OK, or SJ_EINVAL with
 * what is wrong (and the hint) in err. */
SJ_NODISCARD int sj_cli_endpoint_check(const char *text, int bind, char *err, size_t err_size);

/* Finds the command word in argv the way getopt_long (which permutes) will
 * see it: the first argument that is not an option or an option's value.
 * An option "--name" takes the next argument as its value unless it is
 * written "--name=value" or its name is in flags (NULL-terminated names of
 * the options that take no value, without dashes); "-h" takes none; "--"
 * ends the options. Returns the index of the command in argv, or 0 when
 * there is none. argv is borrowed and not changed. */
int sj_cli_command(int argc, char *const *argv, const char *const *flags);

/* What a one-shot command does before its work: applies --log-level
 * (log_level may be NULL; a bad name is reported on stderr, naming tool),
 * readies the id generator, and names the log lines after tool. 0 when
 * ready, 2 for a bad level (bad usage), 1 when ids cannot be had. */
int sj_cli_start(const char *tool, const char *log_level);

/* correct and void (issue 15): the command's field options (ids, by
 * SJ_FIX_*: the tool's option id of each field, 0 for none), --reason and
 * --officer made into a new correction or void event of case a->pos[0]
 * (sj_fix_fill; free() it). NULL after saying why on stderr, with *code the
 * exit status: 2 bad usage, 1 out of memory. */
sj_event_t *
sj_cli_fix_event(const sj_cli_args_t *a, const int ids[], int reason_id, int officer_id, int *code);

#endif
