/* county_cli: the county-server commands of issue 5 (export, report, serve),
 * parsed here rather than in county_main.c so they stay one small hook in
 * main (which others extend at the same time): main asks
 * county_cli_handles() and, when it says yes, returns county_cli_main().
 * Same conventions as main: options anywhere, exit 0 ok, 1 failure, 2 bad
 * usage; main() has already put the --config file's keys into argv
 * (sj_cfg_apply). */
#ifndef COUNTY_CLI_H
#define COUNTY_CLI_H

#include <getopt.h>

/* The option table of export, report and serve (and so the keys of their
 * config sections, sj_cfg.h). */
extern const struct option county_cli_options[];

/* True when argv's command word is one of this module's commands. */
int county_cli_handles(int argc, char *const *argv);

/* Runs the command; returns the process exit status. */
int county_cli_main(int argc, char **argv);

#endif
