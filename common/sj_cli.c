/* sj_cli: see sj_cli.h. */
#include "sj_cli.h"

#include <string.h>

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
