/* village-agent: the station tool. The commands, their options and help
 * are agent_cli.c's table; sj_cli parses the command line (and the config
 * file) and runs one. */
#include "agent_cli.h"
#include "sj_i18n.h"

int
main(int argc, char **argv)
{
    sj_i18n_init("village-agent"); /* messages, --help and table headers follow the locale */
    return sj_cli_main(&agent_cli_tool, argc, argv);
}
