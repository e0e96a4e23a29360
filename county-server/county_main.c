/* county-server: the root of the tree and the master database; its reading
 * commands are what county staff use. The commands, their options and help
 * are county_cli.c's table; sj_cli parses the command line (and the config
 * file) and runs one. */
#include "county_cli.h"
#include "sj_i18n.h"

int
main(int argc, char **argv)
{
    sj_i18n_init("county-server"); /* messages, --help and table headers follow the locale */
    return sj_cli_main(&county_cli_tool, argc, argv);
}
