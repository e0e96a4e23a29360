/* hub_cli: the commands of township-hub (run, status, cases, assign,
 * update, backup, restore, keygen, allow, revoke; serve is hub_http's) as
 * one sj_cli table, which hub_main.c hands to sj_cli_main. */
#ifndef HUB_CLI_H
#define HUB_CLI_H

#include "sj_cli.h"

/* The tool: its options, commands and help (static, read-only). */
extern const sj_cli_tool_t hub_cli_tool;

#endif
