/* sj_cli: see sj_cli.h. */
#include "sj_cli.h"

#include <stdio.h>
#include <string.h>

#include "sj_ids.h"
#include "sj_log.h"

static int
s_is_flag(const char *name, const char *const *flags)
{
    for (size_t i = 0; flags && flags[i]; i++) {
        if (strcmp(name, flags[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

int
sj_cli_command(int argc, char *const *argv, const char *const *flags)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            return i + 1 < argc ? i + 1 : 0;
        }
        if (a[0] != '-' || a[1] == '\0') {
            return i;
        }
        if (a[1] != '-') {
            continue; /* short options: only -h, which takes no value */
        }
        if (!strchr(a, '=') && !s_is_flag(a + 2, flags)) {
            i++; /* skip the value */
        }
    }
    return 0;
}

int
sj_cli_start(const char *tool, const char *log_level)
{
    if (log_level) {
        int lvl = sj_log_level_parse(log_level);
        if (lvl < 0) {
            fprintf(stderr, "%s: --log-level '%s' is not one of error, warn, notice, info, debug\n",
                    tool, log_level);
            return 2;
        }
        sj_log_set_level((sj_log_level_t) lvl);
    }
    if (sj_ids_init() != SJ_OK) {
        return 1;
    }
    sj_log_set_ident(tool, "");
    return 0;
}
