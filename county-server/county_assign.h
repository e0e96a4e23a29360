/* county_assign: `county-server assign` (issue 4, 交办), a command of
 * county_cli.c's table that parses its own arguments: sj_cli runs
 * county_assign_main. Exit 0 ok, 1 refused or failed (nothing stored),
 * 2 bad usage. */
#ifndef COUNTY_ASSIGN_H
#define COUNTY_ASSIGN_H

#include <getopt.h>

/* assign's option table (also the keys of [assign] in the config file). */
extern const struct option county_assign_options[];
/* Runs the command; returns the process exit status. */
int county_assign_main(int argc, char **argv);

#endif
