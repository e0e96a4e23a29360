#include "sj_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int sj_log_level_current = SJ_LOG_NOTICE;
static char s_tier[32] = "sanji";
static char s_node[32] = "";

static const char *const s_names[] = {"ERROR", "WARN", "NOTICE", "INFO", "DEBUG"};

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
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-6s %s%s%s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000L, s_names[level], s_tier, s_node[0] ? "/" : "", s_node);
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
