#include "sj_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int sj_log_level_current = SJ_LOG_NOTICE;
static char s_tier[32] = "sanji";
static char s_node[32] = "";

static const char *const s_names[] = {"ERROR", "WARN", "NOTICE", "INFO", "DEBUG"};
/* syslog priorities (sd-daemon(3)): err, warning, notice, info, debug. */
static const int s_prio[] = {3, 4, 5, 6, 7};
/* -1: not decided yet; 0: a terminal or file; 1: the journal. */
static int s_journal = -1;

int
sj_log_journal_detect(void)
{
    /* systemd sets JOURNAL_STREAM=DEV:INODE of the stream it connected to
     * stderr; a child whose stderr was redirected inherits the variable, so
     * it counts only when stderr is still that stream (systemd.exec(5)). */
    const char *env = getenv("JOURNAL_STREAM");
    struct stat st;
    unsigned long long dev = 0, ino = 0;
    char tail = 0;
    if (!env || sscanf(env, "%llu:%llu%c", &dev, &ino, &tail) != 2
        || fstat(STDERR_FILENO, &st) != 0) {
        s_journal = 0;
    } else {
        s_journal = ((unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino)
                        ? 1
                        : 0;
    }
    return s_journal;
}

void
sj_log_set_ident(const char *tier, const char *node)
{
    snprintf(s_tier, sizeof s_tier, "%s", tier ? tier : "sanji");
    snprintf(s_node, sizeof s_node, "%s", node ? node : "");
}

void
sj_log_set_level(sj_log_level_t level)
{
    sj_log_level_current = (int) level;
}

int
sj_log_level_parse(const char *name)
{
    static const char *const lower[] = {"error", "warn", "notice", "info", "debug"};
    for (int i = 0; i < 5; i++) {
        if (name && strcmp(name, lower[i]) == 0) {
            return i;
        }
    }
    return -1;
}

void
sj_log_write(sj_log_level_t level, const char *fmt, ...)
{
    char line[1024];
    int n;
    if (s_journal < 0) {
        sj_log_journal_detect();
    }
    if (s_journal) {
        /* The journal stamps the time itself and reads the priority. */
        n = snprintf(line, sizeof line, "<%d>%-6s %s%s%s ", s_prio[level], s_names[level], s_tier,
                     s_node[0] ? "/" : "", s_node);
    } else {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-6s %s%s%s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000L, s_names[level], s_tier, s_node[0] ? "/" : "", s_node);
    }
    if (n < 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    if ((size_t) n < sizeof line) {
        vsnprintf(line + n, sizeof line - (size_t) n, fmt, ap);
    }
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}
