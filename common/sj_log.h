/* sj_log: one stderr line per event: UTC ms time, level, tier/node, message.
 * When stderr is the systemd journal (JOURNAL_STREAM names stderr's
 * device:inode), a line starts with its syslog priority "<3>".."<7>" instead
 * of the time, so journalctl -p filters it.
 * The macros check the level before evaluating their arguments. */
#ifndef SJ_LOG_H
#define SJ_LOG_H

typedef enum {
    SJ_LOG_ERROR = 0,
    SJ_LOG_WARN,
    SJ_LOG_NOTICE,
    SJ_LOG_INFO,
    SJ_LOG_DEBUG
} sj_log_level_t;

extern int sj_log_level_current;

/* Sets the tier name and node id printed on every line (copied). */
void sj_log_set_ident(const char *tier, const char *node);
void sj_log_set_level(sj_log_level_t level);
/* Parses "error|warn|notice|info|debug"; returns -1 when unknown. */
int sj_log_level_parse(const char *name);
/* Decides again whether stderr is the journal (done before the first line;
 * call it after redirecting stderr). Returns 1 for the journal. */
int sj_log_journal_detect(void);
void sj_log_write(sj_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define SJ_LOG(lvl, ...)                           \
    do {                                           \
        if ((int) (lvl) <= sj_log_level_current) { \
            sj_log_write((lvl), __VA_ARGS__);      \
        }                                          \
    } while (0)
#define sj_error(...)  SJ_LOG(SJ_LOG_ERROR, __VA_ARGS__)
#define sj_warn(...)   SJ_LOG(SJ_LOG_WARN, __VA_ARGS__)
#define sj_notice(...) SJ_LOG(SJ_LOG_NOTICE, __VA_ARGS__)
#define sj_info(...)   SJ_LOG(SJ_LOG_INFO, __VA_ARGS__)
#define sj_debug(...)  SJ_LOG(SJ_LOG_DEBUG, __VA_ARGS__)

#endif
