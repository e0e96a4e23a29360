/* township-hub: accepts its stations' reports, commits them, acks, and
 * forwards them to the county in batches on its own link sequence. Keeps
 * accepting while the county is away (the backlog waits on disk). The
 * commands, their options and help are hub_cli.c's table; sj_cli parses
 * the command line (and the config file) and runs one. */
#include "hub_cli.h"
#include "sj_i18n.h"

int
main(int argc, char **argv)
{
    sj_i18n_init("township-hub"); /* messages, --help and table headers follow the locale */
    return sj_cli_main(&hub_cli_tool, argc, argv);
}
