/* sj_health: `status --check`, the monitoring check of the daemons, in the
 * Nagios plugin convention that Icinga, Zabbix agents, Sensu and Checkmk
 * also run: ONE line on stdout,
 *
 *   OK - township 230523100: 0 queued, 4 stations, none silent | queued=0;...
 *   WARNING - 1 silent station (230523100202, 2 h) | ...
 *   CRITICAL - oldest unforwarded report 3 h old; no county contact for 3 h | ...
 *
 * and the exit code 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the database
 * cannot be read). A check collects problems, each with its state; the
 * line lists them worst first and the exit code is the worst state. Text after
 * '|' is performance data (label=value;warn;crit) for graphs.
 *
 * The checks every parent shares live here: silent children (links table of
 * SJ_DOWNLINK_SCHEMA) and free disk space of the data directory; a tier adds
 * its own (the hub: backlog age, county contact). */
#ifndef SJ_HEALTH_H
#define SJ_HEALTH_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#include "sj_err.h"

typedef enum {
    SJ_HEALTH_OK = 0,
    SJ_HEALTH_WARNING = 1,
    SJ_HEALTH_CRITICAL = 2,
    SJ_HEALTH_UNKNOWN = 3
} sj_health_state_t;

#define SJ_HEALTH_SILENT_S       3600  /* default --silent-after */
#define SJ_HEALTH_BACKLOG_WARN_S 3600  /* default --backlog-warn */
#define SJ_HEALTH_BACKLOG_CRIT_S 10800 /* default --backlog-crit */
#define SJ_HEALTH_DISK_WARN_PCT  10    /* default --disk-warn: free space below this */
#define SJ_HEALTH_DISK_CRIT_PCT  5     /* default --disk-crit */

/* Thresholds of a check (seconds, percent of the disk free). */
typedef struct {
    int64_t silent_s;
    int64_t backlog_warn_s;
    int64_t backlog_crit_s;
    int disk_warn_pct;
    int disk_crit_pct;
} sj_health_opts_t;

typedef struct sj_health sj_health_t;

/* The defaults above. */
void sj_health_opts_default(sj_health_opts_t *o);
/* Sets o from the option texts of --silent-after, --backlog-warn,
 * --backlog-crit, --disk-warn and --disk-crit (NULL: keep what o holds), then
 * checks ranges and order. SJ_EINVAL with the reason (naming the option) in
 * err. */
SJ_NODISCARD int sj_health_opts_parse(sj_health_opts_t *o,
                                      const char *silent_after,
                                      const char *backlog_warn,
                                      const char *backlog_crit,
                                      const char *disk_warn,
                                      const char *disk_crit,
                                      char *err,
                                      size_t err_size);

/* A new, empty (OK) check. NULL on OOM. Caller owns; sj_health_destroy. */
sj_health_t *sj_health_new(void);
void sj_health_destroy(sj_health_t **self_p);

/* Records a problem (state WARNING or worse) with a short text. */
void sj_health_add(sj_health_t *self, sj_health_state_t state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets the text printed when nothing is wrong ("township 230523100: ..."). */
void sj_health_ok_text(sj_health_t *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends one performance value: label=value[unit][;warn;crit]; warn/crit < 0: left out. */
void sj_health_perf(sj_health_t *self,
                    const char *label,
                    int64_t value,
                    const char *unit,
                    int64_t warn,
                    int64_t crit);
/* The worst state recorded so far. */
sj_health_state_t sj_health_state(const sj_health_t *self);

/* Silent children of a parent: one per code in links (latest contact over
 * its epochs), silent when unheard for silent_s or more; a WARNING naming
 * the longest-silent ones (hubs and stations counted apart). *n_children and
 * *n_silent (may be NULL) get the counts. SJ_EDB when links cannot be read. */
SJ_NODISCARD int sj_health_children(sj_health_t *self,
                                    sqlite3 *db,
                                    int64_t now_ms,
                                    int64_t silent_s,
                                    int *n_children,
                                    int *n_silent);
/* Free space of the filesystem that holds dir: CRITICAL below crit_pct,
 * WARNING below warn_pct. SJ_EIO when statvfs fails. */
SJ_NODISCARD int sj_health_disk(sj_health_t *self, const char *dir, int warn_pct, int crit_pct);

/* Prints the line and returns the exit code (the worst state). */
int sj_health_print(const sj_health_t *self, FILE *out);
/* Prints "UNKNOWN - why" and returns SJ_HEALTH_UNKNOWN (3). */
int sj_health_unknown(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A duration for people: "40 s", "12 min", "3 h", "2 d". */
void sj_health_duration(int64_t seconds, char *out, size_t size);

#endif
