/* A fixture for test_msgs_unmarked: scripts/check-msgs.py must refuse this
 * tree (a message a person sees, not wrapped in _()). Not compiled. */
#include <stdio.h>

void
sj_unmarked(const char *tool, const char *path)
{
    fprintf(stderr, "%s: cannot open %s\n", tool, path);
}
