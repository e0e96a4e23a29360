/* county_cli: the commands of county-server as one sj_cli table, which
 * county_main.c hands to sj_cli_main. Most commands are here; cases and
 * update (county_cases.c) and assign (county_assign.c) parse their own
 * arguments and are in the table with their option tables. */
#ifndef COUNTY_CLI_H
#define COUNTY_CLI_H

#include "sj_cli.h"

/* The tool: its options, commands and help (static, read-only). */
extern const sj_cli_tool_t county_cli_tool;

#endif
