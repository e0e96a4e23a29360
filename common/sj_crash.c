/* sj_crash: SANJI_CRASH_AT crash points (see sj_crash.h). */
#include "sj_crash.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NAME_MAX_LEN 64

typedef enum { S_UNREAD = 0, S_OFF, S_ARMED } s_state_t;

static s_state_t s_state = S_UNREAD;
static char s_name[NAME_MAX_LEN]; /* the armed point */
static long s_left;               /* calls to go before the crash, this one included */

/* Parses "<name>[:N]" once. */
static void
s_read_env(void)
{
    s_state = S_OFF;
    const char *v = getenv(SJ_CRASH_ENV);
    if (!v || !*v) {
        return;
    }
    const char *colon = strchr(v, ':');
    size_t len = colon ? (size_t) (colon - v) : strlen(v);
    long n = 1;
    if (colon) {
        char *end = NULL;
        errno = 0;
        n = strtol(colon + 1, &end, 10);
        if (errno || !end || end == colon + 1 || *end || n < 1) {
            n = 0;
        }
    }
    if (len == 0 || len >= sizeof s_name || n < 1) {
        dprintf(STDERR_FILENO, "%s='%s' is not <point>[:N] with N >= 1; no crash point armed\n",
                SJ_CRASH_ENV, v);
        return;
    }
    memcpy(s_name, v, len);
    s_name[len] = '\0';
    s_left = n;
    s_state = S_ARMED;
    dprintf(STDERR_FILENO, "%s: armed; exit %d on pass %ld through '%s'\n", SJ_CRASH_ENV,
            SJ_CRASH_EXIT_CODE, n, s_name);
}

void
sj_crash_point(const char *name)
{
    if (s_state == S_UNREAD) {
        s_read_env();
    }
    if (s_state != S_ARMED || !name || strcmp(name, s_name) != 0) {
        return;
    }
    if (--s_left > 0) {
        return;
    }
    dprintf(STDERR_FILENO, "%s: crash point '%s' reached; exiting with %d\n", SJ_CRASH_ENV, name,
            SJ_CRASH_EXIT_CODE);
    _exit(SJ_CRASH_EXIT_CODE);
}
