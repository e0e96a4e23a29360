/* sj_cli: small helpers for the tools' command lines. */
#ifndef SJ_CLI_H
#define SJ_CLI_H

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

#endif
